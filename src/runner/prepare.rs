//! The stages of a run before anything is sent, each refusing what would
//! fail later: the options, the inputs (suite, contract, baseline,
//! selection), the reports' paths and folder lock, the token, the runtime,
//! the base URL and named servers, the HTTP client, and the context every
//! scenario shares.

use std::collections::BTreeMap;
use std::sync::Arc;

use libtest_mimic::Arguments;

use crate::case::{Scenario, Suite};
use crate::check::ContractChecks;
use crate::contract::Contract;
use crate::diag::did_you_mean_hint;
use crate::http::{BaseUrl, ClientOptions, HttpClient, Roots};
use crate::input::TokenFileError;
use crate::model::RunResult;
use crate::redact::Redactor;
use crate::report;

use super::RunContext;
use super::error::RunError;
use super::options::{Gate, RunOptions, Selection, TargetOptions};
use super::select::selected;

/// The options make sense together, and libtest's `--logfile` can be
/// written (libtest opens it itself, and panics when it cannot).
pub fn options(opts: &RunOptions, args: &Arguments) -> Result<(), RunError> {
    opts.check(args.test_threads)?;
    if let Some(log) = &args.logfile {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| RunError::Logfile {
                path: log.clone(),
                source,
            })?;
    }
    Ok(())
}

/// Everything checked before anything is sent.
pub struct Checked {
    pub suite: Suite,
    pub contract: Option<Arc<Contract>>,
    pub checks: ContractChecks,
    pub baseline: Option<(RunResult, String)>,
    /// The scenarios selected by tag and partition, in file order.
    pub scenarios: Vec<Arc<Scenario>>,
}

/// The baseline, the suite and its contract ([`crate::inputs::load`]), the
/// contract checks, the tags given, and the scenarios selected.
pub fn inputs(opts: &RunOptions) -> Result<Checked, RunError> {
    let baseline = match &opts.policy.baseline {
        Some(path) => {
            let b = report::json::read(path).map_err(RunError::Baseline)?;
            Some((b, path.display().to_string()))
        }
        None if opts.policy.gate == Gate::Regressions => {
            return Err(RunError::GateNeedsBaseline);
        }
        None => None,
    };
    let inputs = &opts.inputs;
    let crate::inputs::Inputs { suite, contract } =
        crate::inputs::load(&inputs.cases, inputs.spec.as_deref(), &inputs.env)
            .map_err(RunError::Cases)?;
    let skip: Vec<_> = suite
        .skip_checks
        .iter()
        .map(|(c, _)| *c)
        .chain(opts.skip_checks.iter().copied())
        .collect();
    let checks = ContractChecks::resolve(&opts.only_checks, &skip, opts.strict || suite.strict);
    check_tags(&opts.select, &suite)?;
    let scenarios = suite
        .scenarios
        .iter()
        .filter(|s| selected(&opts.select, s))
        .cloned()
        .collect();
    Ok(Checked {
        suite,
        contract: contract.map(Arc::new),
        checks,
        baseline,
        scenarios,
    })
}

/// A `--tag` or `--skip-tag` no scenario carries is a typo that would
/// select nothing (or skip nothing): refused, with the tags there are.
fn check_tags(select: &Selection, suite: &Suite) -> Result<(), RunError> {
    let known: std::collections::BTreeSet<&str> = suite
        .scenarios
        .iter()
        .flat_map(|s| s.tags.iter().map(String::as_str))
        .collect();
    let given = select
        .tags
        .iter()
        .map(|t| ("--tag", t))
        .chain(select.skip_tags.iter().map(|t| ("--skip-tag", t)));
    for (flag, tag) in given {
        if known.contains(tag.as_str()) {
            continue;
        }
        let hint = did_you_mean_hint(tag, known.iter().copied());
        let there = if known.is_empty() {
            "no scenario of the suite has a tag".to_owned()
        } else {
            format!(
                "the tags are {}",
                known.iter().copied().collect::<Vec<_>>().join(", ")
            )
        };
        return Err(RunError::Option {
            flag,
            why: format!("{tag}: no scenario has this tag{hint}; {there}"),
        });
    }
    Ok(())
}

/// The reports folder and the `--junit` file can be written: found before
/// the suite runs, not after. The reports folder's lock is taken (another
/// run writing into it refuses this one) and held until the reports are
/// written: the caller keeps what this returns.
pub fn report_paths(opts: &RunOptions) -> Result<Option<report::FolderLock>, RunError> {
    let Some(reports) = &opts.reports else {
        return Ok(None);
    };
    let dir = &reports.dir;
    let unusable = |source| RunError::ReportsFolder {
        dir: dir.clone(),
        source,
    };
    report::check_writable(dir).map_err(unusable)?;
    let lock = report::FolderLock::take(dir).map_err(|e| match e {
        report::LockError::Busy(_) => RunError::ReportsBusy(e),
        report::LockError::Io { source, .. } => unusable(source),
    })?;
    if let Some(junit) = &reports.junit {
        report::check_file_writable(junit).map_err(|source| RunError::JunitFile {
            path: junit.clone(),
            source,
        })?;
    }
    Ok(Some(lock))
}

/// `--token-file`'s token, read once when the run begins: what it holds is
/// masked in every error, and why it holds no token is reported where the
/// token is settled ([`token`]).
pub struct TokenFile(Option<Result<String, TokenFileError>>);

impl TokenFile {
    pub fn read(opts: &TargetOptions) -> TokenFile {
        TokenFile(
            opts.token_file
                .as_deref()
                .map(crate::input::read_token_file),
        )
    }

    /// The token read, if the file gave one.
    pub fn token(&self) -> Option<&str> {
        self.0.as_ref()?.as_ref().ok().map(String::as_str)
    }
}

/// The bearer token: `--token-file`'s, else the one in the variable the
/// suite names (`auth: { bearer_env: NAME }`) when set and not blank. A
/// server under test, a suite that names a variable, and no token are
/// refused.
pub fn token(
    file: TokenFile,
    opts: &RunOptions,
    suite: &Suite,
) -> Result<Option<String>, RunError> {
    if let Some(read) = file.0 {
        return read.map(Some).map_err(RunError::TokenFile);
    }
    let from_env = suite
        .token_env
        .as_ref()
        .and_then(|name| opts.inputs.env.get(name).map(|t| (name, t.trim())))
        .filter(|(_, t)| !t.is_empty());
    if let Some((name, token)) = from_env {
        if let Some(why) = crate::input::unsendable_token(token) {
            return Err(RunError::TokenVariable {
                variable: name.clone(),
                why,
            });
        }
        return Ok(Some(token.to_owned()));
    }
    if let Some(url) = &opts.target.base_url
        && let Some(name) = &suite.token_env
    {
        return Err(RunError::NoToken {
            url: url.clone(),
            variable: name.clone(),
            at: suite.token_env_location.as_ref().map(ToString::to_string),
        });
    }
    Ok(None)
}

/// The runtime every scenario, the embedded server and the signal handler
/// run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, RunError> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("conform-run")
        .enable_all()
        .build()
        .map_err(RunError::Runtime)
}

/// The runtime, and the platform's CA certificates when the base URL is
/// `https://` (see [`client`]), made on a thread of their own while the
/// inputs load ([`start`]); joined when finished or dropped.
pub struct Starting {
    thread: Option<std::thread::JoinHandle<Result<tokio::runtime::Runtime, RunError>>>,
    roots: Roots,
}

/// Starts the runtime, and reads the platform's CA certificates for an
/// `https://` base URL (4 ms on Linux, more than loading a one-scenario
/// suite), while the inputs load: these need neither. Why no certificate
/// could be read is told by [`client`], which asks for them again.
pub fn start(opts: &RunOptions) -> Starting {
    let roots = Roots::new();
    let t = &opts.transport;
    let https = opts.target.base_url.as_deref().is_some_and(|url| {
        url.trim_start()
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https:"))
    });
    let read = (https && t.cacert.is_none() && !t.insecure).then(|| roots.clone());
    let thread = std::thread::Builder::new()
        .name("conform-start".into())
        .spawn(move || {
            let rt = runtime();
            if let Some(roots) = read {
                let _ = roots.load();
            }
            rt
        })
        .ok();
    Starting { thread, roots }
}

impl Starting {
    /// The runtime (started here if no thread could be), and the roots.
    pub fn finish(mut self) -> Result<(tokio::runtime::Runtime, Roots), RunError> {
        let rt = match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => runtime(),
        }?;
        Ok((rt, self.roots.clone()))
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where requests go: the base URL, and each named server of the suite.
pub struct Endpoints {
    pub base_url: reqwest::Url,
    pub servers: BTreeMap<String, BaseUrl>,
}

/// The base URL `url` checked, and the URL of each named server.
pub fn endpoints(url: &str, opts: &RunOptions, suite: &Suite) -> Result<Endpoints, RunError> {
    let base_url = crate::http::check_base_url(url).map_err(RunError::BaseUrl)?;
    let servers = named_servers(&suite.servers, &opts.target.servers, &opts.inputs.env)?;
    Ok(Endpoints { base_url, servers })
}

/// The URL of each named server of the suite: `--server NAME=URL`, else its
/// `env` variable when set and not blank, else its `url`. A server left
/// without one, a blank or malformed URL, and a `--server` naming no server
/// of the suite are usage errors.
pub fn named_servers(
    declared: &[crate::case::ServerPlan],
    given: &[(String, String)],
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, BaseUrl>, RunError> {
    for (name, _) in given {
        if !declared.iter().any(|s| &s.name == name) {
            let hint = did_you_mean_hint(name, declared.iter().map(|s| s.name.as_str()));
            return Err(RunError::UnknownServer {
                name: name.clone(),
                hint,
            });
        }
    }
    let mut out = BTreeMap::new();
    for s in declared {
        let flag = given
            .iter()
            .rev()
            .find(|(n, _)| *n == s.name)
            .map(|(_, u)| u);
        let from_env = s
            .env
            .as_ref()
            .and_then(|e| env.get(e))
            .filter(|u| !u.trim().is_empty());
        let (url, whence) = match (flag, from_env, &s.url) {
            (Some(u), _, _) => (u, format!("--server {}", s.name)),
            (None, Some(u), _) => (u, format!("${}", s.env.as_deref().unwrap_or_default())),
            (None, None, Some(u)) => (u, format!("{}", s.location)),
            (None, None, None) => {
                return Err(RunError::ServerWithoutUrl {
                    name: s.name.clone(),
                    variable: s.env.as_deref().unwrap_or("its env variable").to_owned(),
                });
            }
        };
        let parsed = crate::http::check_base_url(url).map_err(|why| RunError::ServerUrl {
            name: s.name.clone(),
            whence,
            why,
        })?;
        out.insert(s.name.clone(), BaseUrl::new(parsed));
    }
    Ok(out)
}

/// The pooled HTTP client: the suite's timeouts and size cap unless the
/// options override them, the TLS options, and a user agent naming the
/// run. The platform's CA certificates are read now only when the base URL
/// or a named server is `https://` (so that a machine without them is
/// refused before sending); a plain-HTTP run never reads them (see
/// `http::tls`).
pub fn client(
    rt: &tokio::runtime::Runtime,
    opts: &RunOptions,
    suite: &Suite,
    endpoints: &Endpoints,
    roots: Roots,
    run_id: &str,
) -> Result<HttpClient, RunError> {
    let (t, settings) = (&opts.transport, &suite.settings);
    let client_opts = ClientOptions {
        connect_timeout: t.connect_timeout.unwrap_or(settings.connect_timeout),
        request_timeout: t.request_timeout.unwrap_or(settings.request_timeout),
        max_response_bytes: t.max_response_bytes.unwrap_or(settings.max_response_bytes),
        cacert: t.cacert.clone(),
        insecure: t.insecure,
        user_agent: crate::http::trace::user_agent(run_id),
    };
    let _guard = rt.enter();
    let client = HttpClient::with_roots(&client_opts, roots).map_err(RunError::Client)?;
    let tls = std::iter::once(&endpoints.base_url)
        .chain(endpoints.servers.values().map(BaseUrl::url))
        .any(|u| u.scheme() == "https");
    if tls {
        client.load_roots().map_err(RunError::Client)?;
    }
    Ok(client)
}

/// What an error before or outside the scenarios masks: the token file's
/// content and variables named like secrets (the suite's token variable
/// among them in practice), besides every URL's userinfo.
pub fn input_secrets(env: &BTreeMap<String, String>, token_file: Option<&str>) -> Redactor {
    let mut red = Redactor::new();
    red.add_secret_env(env);
    if let Some(t) = token_file {
        red.add(t);
    }
    red
}

/// What every scenario masks from the start: variables named like secrets,
/// the token, the token variable's value (even when the token came from a
/// file or the embedded server, should a case send it with
/// `{{ env.NAME }}`), and the userinfo of the base URL and named servers.
fn run_secrets(
    token: Option<&str>,
    env: &BTreeMap<String, String>,
    token_env: Option<&str>,
    base: &reqwest::Url,
    servers: &BTreeMap<String, BaseUrl>,
) -> Redactor {
    let mut red = Redactor::new();
    red.add_secret_env(env);
    if let Some(t) = token {
        red.add(t);
    }
    if let Some(t) = token_env.and_then(|n| env.get(n)) {
        red.add(t.trim());
    }
    red.add_userinfo(base);
    for s in servers.values() {
        red.add_userinfo(s.url());
    }
    red
}

/// What every scenario shares, with what it masks.
pub fn context(
    opts: &RunOptions,
    inputs: &Checked,
    transport: HttpClient,
    token: Option<String>,
    endpoints: Endpoints,
    interrupt: tokio::sync::watch::Receiver<bool>,
) -> RunContext<HttpClient> {
    let suite = &inputs.suite;
    let env = &opts.inputs.env;
    let Endpoints { base_url, servers } = endpoints;
    let secrets = run_secrets(
        token.as_deref(),
        env,
        suite.token_env.as_deref(),
        &base_url,
        &servers,
    );
    RunContext {
        transport,
        base_url: BaseUrl::new(base_url),
        servers,
        token,
        token_env: suite.token_env.clone().unwrap_or_else(|| "TOKEN".into()),
        secrets,
        suite_vars: suite.vars.clone(),
        env: Arc::new(env.clone()),
        contract: inputs.contract.clone(),
        checks: inputs.checks,
        registry: suite.registry.clone(),
        interrupt,
        poll_timeout: opts.transport.poll_timeout,
        bodies: opts
            .reports
            .as_ref()
            .map(|r| Arc::new(report::bodies::Staging::new(&r.dir))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::ServerPlan;
    use crate::diag::SourceLocation;

    fn server(name: &str, url: Option<&str>, env: Option<&str>) -> ServerPlan {
        ServerPlan {
            name: name.into(),
            url: url.map(Into::into),
            env: env.map(Into::into),
            location: SourceLocation::new("conform.yaml", 3, 3),
        }
    }

    fn urls(
        declared: &[ServerPlan],
        given: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Result<Vec<(String, String)>, String> {
        let given: Vec<(String, String)> = given
            .iter()
            .map(|(n, u)| ((*n).into(), (*u).into()))
            .collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(n, u)| ((*n).into(), (*u).into()))
            .collect();
        match named_servers(declared, &given, &env) {
            Ok(m) => Ok(m
                .into_iter()
                .map(|(n, b)| (n, b.url().to_string()))
                .collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn only_an_https_base_url_has_the_roots_read_while_the_inputs_load() {
        let read = |url: Option<&str>, insecure: bool| {
            let mut opts = RunOptions::new();
            opts.target.base_url = url.map(Into::into);
            opts.transport.insecure = insecure;
            let (_rt, roots) = start(&opts).finish().unwrap();
            roots.loaded()
        };
        assert!(read(Some(" HTTPS://api.example/v1"), false));
        assert!(!read(Some("http://api.example"), false));
        assert!(!read(None, false), "the embedded server speaks plain HTTP");
        assert!(
            !read(Some("https://api.example"), true),
            "--insecure reads none"
        );
    }

    #[test]
    fn a_named_server_takes_the_flag_then_its_variable_then_its_url() {
        let declared = [server("uploads", Some("https://up.test"), Some("UP_URL"))];
        let one = |given, env| urls(&declared, given, env).map(|v| v[0].1.clone());
        assert_eq!(one(&[], &[]), Ok("https://up.test/".into()));
        assert_eq!(
            one(&[], &[("UP_URL", "http://env.test")]),
            Ok("http://env.test/".into())
        );
        // A blank variable is unset, not an empty URL.
        assert_eq!(one(&[], &[("UP_URL", " ")]), Ok("https://up.test/".into()));
        assert_eq!(
            one(
                &[("uploads", "http://flag.test")],
                &[("UP_URL", "http://env.test")]
            ),
            Ok("http://flag.test/".into())
        );
    }

    #[test]
    fn a_server_without_a_url_or_with_a_bad_one_is_refused() {
        let declared = [server("uploads", None, Some("UP_URL"))];
        let e = urls(&declared, &[], &[("UP_URL", "")]).unwrap_err();
        assert!(
            e.contains("server `uploads` has no URL: set UP_URL or give --server uploads=URL"),
            "{e}"
        );
        let e = urls(&declared, &[("uploads", "127.0.0.1:9")], &[]).unwrap_err();
        assert!(e.contains("add the scheme"), "{e}");
        let e = urls(&declared, &[("upload", "http://x.test")], &[]).unwrap_err();
        assert!(
            e.contains("no server `upload` (did you mean `uploads`?)"),
            "{e}"
        );
    }
}
