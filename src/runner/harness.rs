//! The libtest-mimic harness: one trial per scenario, one tokio runtime and
//! one pooled HTTP client for all of them, results collected in a sink and
//! turned into the run's result after libtest is done.
//!
//! Scenarios are I/O-bound, so unless `--test-threads` says otherwise up to
//! [`DEFAULT_THREADS`] run at once, on as many tasks of the runtime (see
//! [`dispatch`]) taking the scenarios libtest will run in file order (its
//! own filter and ignore verdicts decide). libtest itself runs on one
//! thread, each trial waiting for its scenario's result, so lines are
//! printed in file order whatever order the scenarios finish in (see the
//! README's Performance for what this bought). libtest's own exit code
//! (101) never escapes: the exit code comes from the result model (see
//! `finish`).
//! With `retries`, a failed scenario runs again from scratch; one that then
//! passes is *flaky*. On Ctrl-C, SIGTERM or SIGHUP (when `handle_ctrl_c`;
//! CI systems send SIGTERM on cancel and timeout), no new scenario starts,
//! running ones stop their current step and run their `finally` steps,
//! reports are written and the exit code is 130; a second signal exits at
//! once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use libtest_mimic::{Arguments, Trial};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::case::{Scenario, Suite};
use crate::check::ContractChecks;
use crate::clause::Assumptions;
use crate::contract::Contract;
use crate::diag::did_you_mean_hint;
use crate::exit_code;
use crate::http::{ClientOptions, HttpClient};
use crate::model::{Outcome, Rerun, RunResult, ScenarioResult};
use crate::redact::Redactor;
use crate::report;
use crate::server::{self, ServerConfig};

use super::RunContext;
use super::finish::{self, Finished};
use super::options::{Gate, RunError, RunOptions, RunOutput};
use super::progress::Progress;
use super::scenario::{run_scenario, skipped_scenario};
use super::select::selected;

/// Scenarios run at once when `--test-threads` is not given.
pub const DEFAULT_THREADS: usize = 16;

fn read_token(opts: &RunOptions, suite: &Suite) -> Result<Option<String>, RunError> {
    if let Some(path) = &opts.token_file {
        return crate::input::read_token_file(path)
            .map(Some)
            .map_err(|e| RunError::Usage(e.to_string()));
    }
    let Some((name, token)) = suite
        .token_env
        .as_ref()
        .and_then(|name| opts.env.get(name).map(|t| (name, t.trim())))
        .filter(|(_, t)| !t.is_empty())
    else {
        return Ok(None);
    };
    if let Some(why) = crate::input::unsendable_token(token) {
        return Err(RunError::Usage(format!(
            "the token in {name} {why}: a bearer token is one line of visible characters"
        )));
    }
    Ok(Some(token.to_owned()))
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
    servers: &BTreeMap<String, crate::http::BaseUrl>,
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

/// The signals that interrupt a run: Ctrl-C (SIGINT), SIGTERM and SIGHUP.
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Listens from now on (inside the runtime); `None` when the system
    /// refuses, in which case only the default handling remains.
    fn new() -> Option<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Signals {
            term: signal(SignalKind::terminate()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
        })
    }

    /// The next signal's name.
    async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.ok().map(|()| "Ctrl-C"),
            r = self.term.recv() => r.map(|()| "SIGTERM"),
            r = self.hup.recv() => r.map(|()| "SIGHUP"),
        }
    }
}

/// Everything checked before anything is sent.
struct Inputs {
    suite: Suite,
    contract: Option<Arc<Contract>>,
    checks: ContractChecks,
    baseline: Option<(RunResult, String)>,
    scenarios: Vec<Arc<Scenario>>,
}

fn inputs(opts: &RunOptions) -> Result<Inputs, RunError> {
    let baseline = match &opts.baseline {
        Some(path) => {
            let b = report::json::read(path).map_err(|e| RunError::Usage(e.to_string()))?;
            Some((b, path.display().to_string()))
        }
        None if opts.gate == Gate::Regressions => {
            return Err(RunError::Usage(
                "`--gate regressions` needs a `--baseline FILE`".into(),
            ));
        }
        None => None,
    };
    let (suite, contract) = crate::lint::load_all(&opts.cases, opts.spec.as_deref(), &opts.env)
        .map_err(RunError::Cases)?;
    let skip: Vec<_> = suite
        .skip_checks
        .iter()
        .map(|(c, _)| *c)
        .chain(opts.skip_checks.iter().copied())
        .collect();
    let checks = ContractChecks::resolve(&opts.only_checks, &skip, opts.strict || suite.strict);
    check_tags(opts, &suite)?;
    let scenarios = suite
        .scenarios
        .iter()
        .filter(|s| selected(opts, s))
        .cloned()
        .collect();
    Ok(Inputs {
        suite,
        contract: contract.map(Arc::new),
        checks,
        baseline,
        scenarios,
    })
}

/// The reports folder and the `--junit` file can be written: found before
/// the suite runs, not after. The reports folder's lock is taken (another
/// run writing into it refuses this one) and held until the reports are
/// written: the caller keeps what this returns.
fn check_report_paths(opts: &RunOptions) -> Result<Option<report::FolderLock>, RunError> {
    let unusable = |path: &std::path::Path, e: &dyn std::fmt::Display| {
        RunError::Usage(format!(
            "cannot write reports to {}: {e}; give a folder that can be written (--reports DIR)",
            path.display()
        ))
    };
    let lock = match &opts.reports {
        Some(dir) => {
            report::check_writable(dir).map_err(|e| unusable(dir, &e))?;
            Some(report::FolderLock::take(dir).map_err(|e| match e {
                report::LockError::Busy(_) => RunError::Usage(e.to_string()),
                report::LockError::Io { source, .. } => unusable(dir, &source),
            })?)
        }
        None => None,
    };
    if let Some(junit) = &opts.junit {
        report::check_file_writable(junit).map_err(|e| {
            RunError::Usage(format!(
                "cannot write reports to {}: {e}; give a file that can be written (--junit FILE)",
                junit.display()
            ))
        })?;
    }
    Ok(lock)
}

/// A `--tag` or `--skip-tag` no scenario carries is a typo that would
/// select nothing (or skip nothing): refused, with the tags there are.
fn check_tags(opts: &RunOptions, suite: &Suite) -> Result<(), RunError> {
    let known: std::collections::BTreeSet<&str> = suite
        .scenarios
        .iter()
        .flat_map(|s| s.tags.iter().map(String::as_str))
        .collect();
    let given = opts
        .tags
        .iter()
        .map(|t| ("--tag", t))
        .chain(opts.skip_tags.iter().map(|t| ("--skip-tag", t)));
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
        return Err(RunError::Usage(format!(
            "{flag} {tag}: no scenario has this tag{hint}; {there}"
        )));
    }
    Ok(())
}

/// Loads the suite, checks the inputs, and runs it; reports are written
/// before this returns. An error's text has what could be a secret masked
/// ([`input_secrets`]).
pub fn run(opts: &RunOptions, args: &Arguments) -> Result<RunOutput, RunError> {
    run_unmasked(opts, args).map_err(|e| e.masked(&input_secrets(opts)))
}

/// What an error before or outside the scenarios masks: the token file's
/// content and variables named like secrets (the suite's token variable
/// among them in practice), besides every URL's userinfo.
pub fn input_secrets(opts: &RunOptions) -> Redactor {
    let mut red = Redactor::new();
    red.add_secret_env(&opts.env);
    if let Some(t) = opts
        .token_file
        .as_deref()
        .and_then(|p| crate::input::read_token_file(p).ok())
    {
        red.add(t);
    }
    red
}

fn run_unmasked(opts: &RunOptions, args: &Arguments) -> Result<RunOutput, RunError> {
    opts.check(args.test_threads)?;
    // libtest opens `--logfile` itself, and panics when it cannot.
    if let Some(log) = &args.logfile {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| RunError::Usage(format!("--logfile {log}: cannot be written: {e}")))?;
    }
    let Inputs {
        suite,
        contract,
        checks,
        baseline,
        scenarios,
    } = inputs(opts)?;

    if args.list {
        let trials = scenarios
            .iter()
            .map(|s| Trial::test(s.id.to_string(), || Ok(())))
            .collect();
        let _ = libtest_mimic::run(args, trials);
        let result = finish::empty_result(&suite, "");
        return Ok(RunOutput {
            result,
            exit_code: exit_code::PASSED,
            embedded_requests: 0,
        });
    }

    // Held until the reports are written (by `finish`, below).
    let _reports_lock = check_report_paths(opts)?;
    let mut token = read_token(opts, &suite)?;
    if let Some(url) = &opts.base_url
        && token.is_none()
        && let Some(name) = &suite.token_env
    {
        let at = suite
            .token_env_location
            .as_ref()
            .map(|l| format!(" (`auth.bearer_env` at {l})"))
            .unwrap_or_default();
        return Err(RunError::Usage(format!(
            "no bearer token for {url}: set {name}{at} or give --token-file FILE"
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
        .thread_name("conform-run")
        .enable_all()
        .build()
        .map_err(|e| RunError::Harness(format!("cannot start the async runtime: {e}")))?;
    let (url, embedded) = match &opts.base_url {
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
            if opts.print_summary {
                eprintln!(
                    "conform: no --base-url given: running against the embedded reference server at {} (random token){faults}",
                    srv.base_url()
                );
            }
            (srv.base_url(), Some(srv))
        }
    };
    let parsed = crate::http::check_base_url(&url)
        .map_err(|e| RunError::Usage(format!("the base URL: {e}")))?;
    let servers = named_servers(&suite.servers, &opts.servers, &opts.env)?;
    let client = {
        let _guard = rt.enter();
        HttpClient::new(&client_opts).map_err(|e| RunError::Usage(e.to_string()))?
    };
    let (stop, interrupt) = tokio::sync::watch::channel(false);
    if opts.handle_ctrl_c {
        let signals = {
            let _guard = rt.enter();
            Signals::new()
        };
        rt.spawn(async move {
            let Some(mut signals) = signals else { return };
            if let Some(name) = signals.next().await {
                eprintln!("\nconform: interrupted ({name}): no new scenario starts; running ones clean up (a second signal quits now)");
                let _ = stop.send(true);
                if signals.next().await.is_some() {
                    std::process::exit(i32::from(exit_code::INTERRUPTED));
                }
            }
        });
    } else {
        // Kept alive, never sent: runs in tests and library use are not interruptible.
        std::mem::forget(stop);
    }
    let secrets = run_secrets(
        token.as_deref(),
        &opts.env,
        suite.token_env.as_deref(),
        &parsed,
        &servers,
    );
    let ctx = Arc::new(RunContext {
        transport: client,
        base_url: crate::http::BaseUrl::new(parsed),
        servers,
        token,
        token_env: suite.token_env.clone().unwrap_or_else(|| "TOKEN".into()),
        secrets,
        suite_vars: suite.vars.clone(),
        env: Arc::new(opts.env.clone()),
        contract: contract.clone(),
        checks,
        registry: suite.registry.clone(),
        interrupt: interrupt.clone(),
        poll_timeout: opts.poll_timeout,
    });

    let started = SystemTime::now();
    let start = Instant::now();
    let sink: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let retries = opts.retries;
    let shared_suite = Arc::new(suite.clone());
    let concurrency = args.test_threads.unwrap_or(DEFAULT_THREADS).max(1);
    let mut args = args.clone();
    args.test_threads = Some(1);
    let Trials {
        trials,
        work,
        ignored,
        progress,
    } = trials(&scenarios, &args, &sink, finish::assumptions(opts, &suite));
    dispatch(
        &rt,
        &ctx,
        shared_suite,
        work,
        &Dispatch {
            concurrency,
            retries,
            progress: progress.clone(),
        },
    );
    let conclusion = libtest_mimic::run(&args, trials);
    progress.stop();
    // The scenarios' time: shutting the runtime and the server down is not.
    let elapsed = start.elapsed();

    let mut results = std::mem::take(&mut *sink.lock().unwrap_or_else(|e| e.into_inner()));
    // Selected but ignored: libtest lists them, the reports show them skipped.
    for sc in ignored {
        let reason = sc.ignore.clone().unwrap_or_default();
        results.push(skipped_scenario(&sc, reason, Outcome::Skipped));
    }
    let order: BTreeMap<&str, usize> = scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| (&*s.id, i))
        .collect();
    results.sort_by_key(|r| order.get(&*r.id).copied().unwrap_or(usize::MAX));

    let embedded_requests = embedded.as_ref().map_or(0, |s| s.request_count());
    if let Some(srv) = embedded {
        rt.block_on(srv.shutdown());
    }
    let was_interrupted = *interrupt.borrow();
    let servers = ctx
        .servers
        .iter()
        .map(|(name, base)| {
            let mut url = base.url().clone();
            let _ = url.set_username("");
            let _ = url.set_password(None);
            (name.clone(), ctx.secrets.redact(url.as_str()).into_owned())
        })
        .collect();
    // The base URL as reports show it: userinfo and the token masked.
    let url = ctx.secrets.redact(&url).into_owned();
    drop(ctx);
    rt.shutdown_timeout(Duration::from_secs(1));

    finish::finish(
        opts,
        Finished {
            suite: &suite,
            contract: contract.as_deref(),
            checks,
            baseline,
            base_url: url,
            servers,
            started,
            elapsed,
            scenarios: results,
            interrupted: was_interrupted,
            libtest_failed: conclusion.num_failed,
            json_stdout: args.format == Some(libtest_mimic::FormatSetting::Json),
        },
    )
    .map(|(result, exit_code)| RunOutput {
        result,
        exit_code,
        embedded_requests,
    })
}

/// A scenario the harness could not run (its file changed since it was checked).
fn harness_failure(sc: &Scenario, why: &str) -> ScenarioResult {
    let mut r = skipped_scenario(sc, String::new(), Outcome::Error);
    r.skip_reason = None;
    r.steps.push(crate::model::StepResult {
        name: "load".into(),
        location: sc.location.clone(),
        outcome: crate::model::StepOutcome::Error,
        skip_reason: None,
        duration_ms: 0.0,
        requests: 0,
        status: None,
        failures: vec![crate::model::Failure::runtime(
            crate::check::Check::Load,
            &sc.location,
            why,
        )],
        exchange: None,
        poll: None,
        exercised: Vec::new(),
        contract: None,
    });
    r
}

/// libtest's trials, each waiting for its scenario's result, and the
/// scenarios to dispatch.
struct Trials {
    trials: Vec<Trial>,
    /// What libtest will run (its own filter and ignore verdicts on each
    /// trial decide), with where each result goes.
    work: Vec<(Arc<Scenario>, oneshot::Sender<ScenarioResult>)>,
    /// What libtest selects but ignores (`ignore:` without `--ignored` or
    /// `--include-ignored`).
    ignored: Vec<Arc<Scenario>>,
    progress: Progress,
}

/// One libtest trial per scenario; a scenario that deviates from an
/// assumption passes its trial unless `assumptions` is strict, and an
/// inconclusive one passes (the closing block and the reports show both).
fn trials(
    scenarios: &[Arc<Scenario>],
    args: &Arguments,
    sink: &Arc<Mutex<Vec<ScenarioResult>>>,
    assumptions: Assumptions,
) -> Trials {
    let mut work = Vec::new();
    let mut ignored = Vec::new();
    let mut name_width = 0;
    let mut results = Vec::with_capacity(scenarios.len());
    for sc in scenarios {
        let (tx, rx) = oneshot::channel::<ScenarioResult>();
        results.push(rx);
        let probe =
            Trial::test(sc.id.to_string(), || Ok(())).with_ignored_flag(sc.ignore.is_some());
        if !args.is_filtered_out(&probe) {
            name_width = name_width.max(sc.id.chars().count());
            if args.is_ignored(&probe) {
                ignored.push(sc.clone());
            } else {
                work.push((sc.clone(), tx));
            }
        }
    }
    let progress = Progress::new(args, work.len(), name_width);
    let trials = scenarios
        .iter()
        .zip(results)
        .map(|(sc, rx)| {
            let (sink, progress, id) = (sink.clone(), progress.clone(), sc.id.clone());
            Trial::test(sc.id.to_string(), move || {
                progress.waiting(&id);
                let r = rx.blocking_recv();
                progress.resumed();
                let r = r.map_err(|_| "the scenario's task ended without a result")?;
                let text = report::text::failure_text(&r, report::text::TERMINAL_BODY_CHARS);
                let outcome = r.outcome;
                let reason = r.skip_reason.clone();
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                match outcome {
                    Outcome::Passed | Outcome::Skipped | Outcome::Inconclusive => Ok(()),
                    Outcome::Deviates if assumptions == Assumptions::Lenient => Ok(()),
                    Outcome::Interrupted if text.is_empty() => {
                        Err(reason.unwrap_or_default().into())
                    }
                    _ => Err(text.into()),
                }
            })
            .with_ignored_flag(sc.ignore.is_some())
        })
        .collect();
    Trials {
        trials,
        work,
        ignored,
        progress,
    }
}

/// How [`dispatch`] runs the scenarios.
struct Dispatch {
    /// Scenarios running at once (`--test-threads`).
    concurrency: usize,
    retries: u32,
    progress: Progress,
}

/// A scenario to run, where its result goes, and its plan (or why there is none).
type Planned = (
    Arc<Scenario>,
    oneshot::Sender<ScenarioResult>,
    Result<Arc<Scenario>, String>,
);

/// Where the lanes take their next scenario, in file order.
enum Queue {
    /// Every plan is in memory.
    Ready(Mutex<std::vec::IntoIter<(Arc<Scenario>, oneshot::Sender<ScenarioResult>)>>),
    /// Plans that loading deferred, compiled ahead on the blocking pool.
    Compiled(tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Planned>>),
}

impl Queue {
    async fn next(&self, suite: &Suite) -> Option<Planned> {
        match self {
            Queue::Ready(items) => {
                let (sc, result) = items.lock().unwrap_or_else(|e| e.into_inner()).next()?;
                let plan = suite.plan(&sc).map_err(|d| d.to_string());
                Some((sc, result, plan))
            }
            Queue::Compiled(planned) => planned.lock().await.recv().await,
        }
    }
}

/// Runs the scenarios on `concurrency` lanes: tasks that each take the next
/// scenario, run it, send the result to its trial and take the next, as a
/// plain client loop does. Starting a task per scenario instead cost a
/// tenth of the throughput in wake-ups between the runtime's workers. Plans
/// that loading deferred are compiled ahead on the blocking pool (at most
/// `concurrency` waiting), so that the workers keep serving the scenarios.
fn dispatch(
    rt: &tokio::runtime::Runtime,
    ctx: &Arc<RunContext<HttpClient>>,
    suite: Arc<Suite>,
    work: Vec<(Arc<Scenario>, oneshot::Sender<ScenarioResult>)>,
    how: &Dispatch,
) {
    let lanes = how.concurrency.min(work.len());
    let queue = if work.iter().any(|(sc, _)| sc.deferred) {
        let (planned_tx, planned) = tokio::sync::mpsc::channel(how.concurrency);
        let suite = suite.clone();
        rt.spawn_blocking(move || {
            for (sc, result) in work {
                let plan = suite.plan(&sc).map_err(|d| d.to_string());
                if planned_tx.blocking_send((sc, result, plan)).is_err() {
                    return;
                }
            }
        });
        Queue::Compiled(tokio::sync::Mutex::new(planned))
    } else {
        Queue::Ready(Mutex::new(work.into_iter()))
    };
    let queue = Arc::new(queue);
    for _ in 0..lanes {
        let (queue, ctx, suite) = (queue.clone(), ctx.clone(), suite.clone());
        let (progress, retries) = (how.progress.clone(), how.retries);
        rt.spawn(async move {
            while let Some((sc, result, plan)) = queue.next(&suite).await {
                progress.started(&sc.id);
                let r = match plan {
                    Ok(plan) => run_with_retries(&ctx, &plan, retries).await,
                    Err(why) => harness_failure(&sc, &why),
                };
                progress.finished(&sc.id);
                let _ = result.send(r);
            }
        });
    }
}

/// Runs a scenario, again from scratch while it fails and retries remain.
async fn run_with_retries<T: crate::http::Transport>(
    ctx: &RunContext<T>,
    sc: &Scenario,
    retries: u32,
) -> ScenarioResult {
    if *ctx.interrupt.borrow() {
        return skipped_scenario(
            sc,
            "not started: the run was interrupted".into(),
            Outcome::Interrupted,
        );
    }
    let mut reruns = Vec::new();
    loop {
        let mut r = run_scenario(ctx, sc).await;
        let failed = matches!(r.outcome, Outcome::Failed | Outcome::Error);
        if failed && reruns.len() < retries as usize && !*ctx.interrupt.borrow() {
            reruns.push(Rerun {
                outcome: r.outcome,
                duration_ms: r.duration_ms,
                steps: r.steps,
                finally: r.finally,
            });
            continue;
        }
        r.flaky = r.outcome == Outcome::Passed && !reruns.is_empty();
        r.reruns = reruns;
        return r;
    }
}

/// The URL of each named server of the suite: `--server NAME=URL`, else its
/// `env` variable when set and not blank, else its `url`. A server left
/// without one, a blank or malformed URL, and a `--server` naming no server
/// of the suite are usage errors.
fn named_servers(
    declared: &[crate::case::ServerPlan],
    given: &[(String, String)],
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, crate::http::BaseUrl>, RunError> {
    for (name, _) in given {
        if !declared.iter().any(|s| &s.name == name) {
            let hint = did_you_mean_hint(name, declared.iter().map(|s| s.name.as_str()));
            return Err(RunError::Usage(format!(
                "--server {name}=...: the suite has no server `{name}`{hint}"
            )));
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
                return Err(RunError::Usage(format!(
                    "server `{}` has no URL: set {} or give --server {}=URL",
                    s.name,
                    s.env.as_deref().unwrap_or("its env variable"),
                    s.name
                )));
            }
        };
        let parsed = crate::http::check_base_url(url)
            .map_err(|e| RunError::Usage(format!("server `{}` ({whence}): {e}", s.name)))?;
        out.insert(s.name.clone(), crate::http::BaseUrl::new(parsed));
    }
    Ok(out)
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
