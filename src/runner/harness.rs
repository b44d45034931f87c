//! The libtest-mimic harness: one trial per scenario, one tokio runtime and
//! one pooled HTTP client for all of them, results collected in a sink and
//! written as reports after the run.
//!
//! Scenarios are I/O-bound, so unless `--test-threads` says otherwise up to
//! [`DEFAULT_THREADS`] run at once. libtest's own exit code (101) never
//! escapes: the exit code comes from the result model.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use libtest_mimic::{Arguments, Trial};
use tokio::time::Instant;

use crate::case::diag::did_you_mean;
use crate::case::{Diagnostics, Scenario, Suite};
use crate::check::contract::ContractChecks;
use crate::check::names::CONTRACT_CHECKS;
use crate::exit_code;
use crate::http::{ClientOptions, HttpClient};
use crate::model::{ContractInfo, FORMAT_VERSION, Outcome, RunResult, ScenarioResult, ms};
use crate::report;
use crate::server::{self, Fault, ServerConfig};

use super::RunContext;
use super::scenario::{run_scenario, skipped_scenario};

/// Scenarios run at once when `--test-threads` is not given.
pub const DEFAULT_THREADS: usize = 16;

/// Everything `conform run` needs besides libtest's arguments.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The suite folder (default `cases`).
    pub cases: PathBuf,
    /// The server under test; `None` starts the embedded reference server.
    pub base_url: Option<String>,
    /// A file holding the bearer token (instead of the suite's environment variable).
    pub token_file: Option<PathBuf>,
    /// Overrides the suite's connect timeout.
    pub connect_timeout: Option<Duration>,
    /// Overrides the suite's request timeout.
    pub request_timeout: Option<Duration>,
    /// Overrides the suite's response size cap.
    pub max_response_bytes: Option<u64>,
    /// Trust only this CA (PEM).
    pub cacert: Option<PathBuf>,
    /// Skip TLS verification.
    pub insecure: bool,
    /// Where reports are written (default `reports`); `None` writes none.
    pub reports: Option<PathBuf>,
    /// Run only scenarios with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Skip scenarios with any of these tags.
    pub skip_tags: Vec<String>,
    /// The embedded server's lifecycle (its default when `None`).
    pub server_lifecycle: Option<Duration>,
    /// Fault modes of the embedded server.
    pub server_faults: Vec<Fault>,
    /// The environment (`{{ env.NAME }}` and the token variable).
    pub env: BTreeMap<String, String>,
    /// A contract file instead of the suite's `spec`.
    pub spec: Option<PathBuf>,
    /// Run only these contract checks (all by default).
    pub only_checks: Vec<String>,
    /// Contract checks not to run (besides the suite's `checks.skip`).
    pub skip_checks: Vec<String>,
    /// Also flag undocumented response properties.
    pub strict: bool,
    /// Exit 4 when contract coverage is below this percentage.
    pub min_coverage: Option<f64>,
}

impl RunOptions {
    /// Defaults: `cases`, `reports`, the embedded server, the process environment.
    pub fn new() -> RunOptions {
        RunOptions {
            cases: PathBuf::from("cases"),
            base_url: None,
            token_file: None,
            connect_timeout: None,
            request_timeout: None,
            max_response_bytes: None,
            cacert: None,
            insecure: false,
            reports: Some(PathBuf::from("reports")),
            tags: Vec::new(),
            skip_tags: Vec::new(),
            server_lifecycle: None,
            server_faults: Vec::new(),
            env: std::env::vars().collect(),
            spec: None,
            only_checks: Vec::new(),
            skip_checks: Vec::new(),
            strict: false,
            min_coverage: None,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Case files or the contract are invalid (exit 2).
    #[error("{0}")]
    Cases(Diagnostics),
    /// A bad option: URL, token, CA file (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The harness itself failed: runtime, embedded server (exit 3).
    #[error("{0}")]
    Harness(String),
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Cases(_) | RunError::Usage(_) => exit_code::INVALID_INPUT,
            RunError::Harness(_) => exit_code::RUNTIME_ERROR,
        }
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct RunOutput {
    pub result: RunResult,
    pub exit_code: u8,
    /// Requests the embedded server received (0 against another server).
    pub embedded_requests: u64,
}

/// Whether libtest's filters select a test name (as libtest-mimic decides).
fn selected(args: &Arguments, name: &str) -> bool {
    let hit = |pat: &str| {
        if args.exact {
            name == pat
        } else {
            name.contains(pat)
        }
    };
    args.filter.as_deref().is_none_or(hit) && !args.skip.iter().any(|s| hit(s))
}

fn tag_selected(opts: &RunOptions, sc: &Scenario) -> bool {
    (opts.tags.is_empty() || sc.tags.iter().any(|t| opts.tags.contains(t)))
        && !sc.tags.iter().any(|t| opts.skip_tags.contains(t))
}

fn read_token(opts: &RunOptions, suite: &Suite) -> Result<Option<String>, RunError> {
    if let Some(path) = &opts.token_file {
        let t = std::fs::read_to_string(path).map_err(|e| {
            RunError::Usage(format!(
                "cannot read the token file {}: {e}",
                path.display()
            ))
        })?;
        let t = t.trim().to_owned();
        if t.is_empty() {
            return Err(RunError::Usage(format!(
                "the token file {} is empty",
                path.display()
            )));
        }
        return Ok(Some(t));
    }
    Ok(suite
        .token_env
        .as_ref()
        .and_then(|name| opts.env.get(name))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
}

/// Loads the suite, checks the inputs, and runs it; reports are written
/// before this returns.
pub fn run(opts: &RunOptions, args: &Arguments) -> Result<RunOutput, RunError> {
    for name in opts.only_checks.iter().chain(&opts.skip_checks) {
        if !CONTRACT_CHECKS.contains(&name.as_str()) {
            let hint = did_you_mean(name, CONTRACT_CHECKS.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(RunError::Usage(format!(
                "unknown contract check `{name}`{hint}; the checks are {}",
                CONTRACT_CHECKS.join(", ")
            )));
        }
    }
    let (suite, contract) = crate::lint::load_all(&opts.cases, opts.spec.as_deref(), &opts.env)
        .map_err(RunError::Cases)?;
    let skip: Vec<String> = suite
        .skip_checks
        .iter()
        .map(|(n, _)| n.clone())
        .chain(opts.skip_checks.iter().cloned())
        .collect();
    let checks = ContractChecks::resolve(&opts.only_checks, &skip, opts.strict || suite.strict);
    let contract = contract.map(Arc::new);
    let scenarios: Vec<Arc<Scenario>> = suite
        .scenarios
        .iter()
        .filter(|s| tag_selected(opts, s))
        .cloned()
        .collect();

    if args.list {
        let trials = scenarios
            .iter()
            .map(|s| Trial::test(s.id.clone(), || Ok(())))
            .collect();
        let _ = libtest_mimic::run(args, trials);
        return Ok(RunOutput {
            result: empty_result(&suite, ""),
            exit_code: exit_code::PASSED,
            embedded_requests: 0,
        });
    }

    let base_url = opts.base_url.clone();
    let mut token = read_token(opts, &suite)?;
    if let Some(url) = &base_url
        && token.is_none()
        && let Some(name) = &suite.token_env
    {
        return Err(RunError::Usage(format!(
            "no bearer token for {url}: set {name} or give --token-file FILE"
        )));
    }
    let settings = &suite.settings;
    let client_opts = ClientOptions {
        connect_timeout: opts.connect_timeout.unwrap_or(settings.connect_timeout),
        request_timeout: opts.request_timeout.unwrap_or(settings.request_timeout),
        max_response_bytes: opts
            .max_response_bytes
            .unwrap_or(settings.max_response_bytes),
        cacert: opts.cacert.clone(),
        insecure: opts.insecure,
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Harness(format!("cannot start the async runtime: {e}")))?;
    let (url, embedded) = match &base_url {
        Some(u) => (u.clone(), None),
        None => {
            let t = server::random_token();
            token = Some(t.clone());
            let mut config = ServerConfig {
                token: t,
                faults: opts.server_faults.clone(),
                ..ServerConfig::default()
            };
            if let Some(l) = opts.server_lifecycle {
                config.lifecycle = l;
            }
            let srv = rt
                .block_on(server::spawn(
                    "127.0.0.1:0".parse().expect("a valid address"),
                    config,
                ))
                .map_err(|e| {
                    RunError::Harness(format!("cannot start the embedded reference server: {e}"))
                })?;
            let faults = if opts.server_faults.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = opts.server_faults.iter().map(|f| f.name()).collect();
                format!(" with fault modes {}", names.join(", "))
            };
            eprintln!(
                "conform: no --base-url given: running against the embedded reference server at {} (random token){faults}",
                srv.base_url()
            );
            (srv.base_url(), Some(srv))
        }
    };
    let parsed = reqwest::Url::parse(&url)
        .map_err(|e| RunError::Usage(format!("invalid base URL `{url}`: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(RunError::Usage(format!(
            "the base URL `{url}` must start with http:// or https://"
        )));
    }
    let client = {
        let _guard = rt.enter();
        HttpClient::new(&client_opts).map_err(|e| RunError::Usage(e.to_string()))?
    };
    let ctx = Arc::new(RunContext {
        transport: client,
        base_url: parsed,
        token,
        token_env: suite.token_env.clone().unwrap_or_else(|| "TOKEN".into()),
        suite_vars: suite.vars.clone(),
        env: Arc::new(opts.env.clone()),
        contract: contract.clone(),
        checks,
    });

    let started = SystemTime::now();
    let start = Instant::now();
    let sink: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let trials = scenarios
        .iter()
        .map(|sc| {
            let (ctx, sc2, sink, handle) =
                (ctx.clone(), sc.clone(), sink.clone(), rt.handle().clone());
            Trial::test(sc.id.clone(), move || {
                let r = handle.block_on(run_scenario(&ctx, &sc2));
                let text = report::text::failure_text(&r, report::text::TERMINAL_BODY_CHARS);
                let outcome = r.outcome;
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                match outcome {
                    Outcome::Passed | Outcome::Skipped => Ok(()),
                    _ => Err(text.into()),
                }
            })
            .with_ignored_flag(sc.ignore.is_some())
        })
        .collect();
    let mut args = args.clone();
    args.test_threads.get_or_insert(DEFAULT_THREADS);
    let conclusion = libtest_mimic::run(&args, trials);

    let mut results = std::mem::take(&mut *sink.lock().unwrap_or_else(|e| e.into_inner()));
    // Ignored scenarios that the filters selected appear as skipped.
    let run_ids: std::collections::HashSet<String> = results.iter().map(|r| r.id.clone()).collect();
    for sc in &scenarios {
        if let Some(reason) = &sc.ignore {
            let runs_ignored = args.ignored || args.include_ignored;
            if !run_ids.contains(&sc.id) && selected(&args, &sc.id) && !runs_ignored {
                results.push(skipped_scenario(sc, reason.clone()));
            }
        }
    }
    let order: BTreeMap<&str, usize> = scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    results.sort_by_key(|r| order.get(r.id.as_str()).copied().unwrap_or(usize::MAX));

    let embedded_requests = embedded.as_ref().map_or(0, |s| s.request_count());
    if let Some(srv) = embedded {
        rt.block_on(srv.shutdown());
    }
    drop(ctx);
    rt.shutdown_timeout(Duration::from_secs(1));

    let mut result = empty_result(&suite, &url);
    result.embedded_server = base_url.is_none();
    result.started_at = humantime::format_rfc3339_seconds(started).to_string();
    result.duration_ms = ms(start.elapsed());
    result.scenarios = results;
    if let Some(c) = &contract {
        result.contract = Some(ContractInfo {
            file: c.file().to_owned(),
            sha256: c.sha256().to_owned(),
            dialect: format!("{} {}", c.dialect().name(), c.version()),
            checks: checks.names().into_iter().map(str::to_owned).collect(),
        });
        let cov = crate::coverage::compute(c, &result.scenarios);
        print!("{}", crate::coverage::render(&cov, c.file()));
        result.coverage = Some(cov);
    }
    let mut code = result.exit_code();
    let recorded_failures = (result.count(Outcome::Failed) + result.count(Outcome::Error)) as u64;
    if conclusion.num_failed > recorded_failures && code == exit_code::PASSED {
        // A trial panicked before recording its result: a harness problem.
        code = exit_code::RUNTIME_ERROR;
    }
    if let (Some(min), Some(cov), exit_code::PASSED) = (opts.min_coverage, &result.coverage, code)
        && cov.percent + 1e-9 < min
    {
        println!(
            "coverage gate failed: {:.1}% is below --min-coverage {min}",
            cov.percent
        );
        code = exit_code::GATE_FAILED;
    }
    if let Some(dir) = &opts.reports {
        report::json::write(&result, &dir.join("report.json")).map_err(|e| {
            RunError::Harness(format!(
                "cannot write {}: {e}",
                dir.join("report.json").display()
            ))
        })?;
    }
    Ok(RunOutput {
        result,
        exit_code: code,
        embedded_requests,
    })
}

fn empty_result(suite: &Suite, base_url: &str) -> RunResult {
    RunResult {
        format_version: FORMAT_VERSION,
        tool: concat!("conform ", env!("CARGO_PKG_VERSION")).to_owned(),
        suite: suite.name.clone(),
        base_url: base_url.to_owned(),
        embedded_server: false,
        partition: None,
        interrupted: false,
        regression: None,
        started_at: String::new(),
        duration_ms: 0.0,
        contract: None,
        coverage: None,
        scenarios: Vec::new(),
    }
}
