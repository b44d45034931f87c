//! The libtest-mimic harness: one trial per scenario, one tokio runtime and
//! one pooled HTTP client for all of them, results collected in a sink and
//! turned into the run's result after libtest is done.
//!
//! Scenarios are I/O-bound, so unless `--test-threads` says otherwise up to
//! [`DEFAULT_THREADS`] run at once. libtest's own exit code (101) never
//! escapes: the exit code comes from the result model (see `finish`).
//! With `retries`, a failed scenario runs again from scratch; one that then
//! passes is *flaky*. On Ctrl-C (when `handle_ctrl_c`), no new scenario
//! starts, running ones stop their current step and run their `finally`
//! steps, reports are written and the exit code is 130; a second Ctrl-C
//! exits at once.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use libtest_mimic::{Arguments, Trial};
use tokio::time::Instant;

use crate::case::diag::did_you_mean;
use crate::case::{Scenario, Suite};
use crate::check::contract::ContractChecks;
use crate::check::names::CONTRACT_CHECKS;
use crate::contract::Contract;
use crate::exit_code;
use crate::http::{ClientOptions, HttpClient};
use crate::model::{Outcome, Rerun, RunResult, ScenarioResult};
use crate::report;
use crate::server::{self, ServerConfig};

use super::RunContext;
use super::finish::{self, Finished};
use super::options::{Gate, RunError, RunOptions, RunOutput};
use super::scenario::{run_scenario, skipped_scenario};
use super::select::{filters_select, selected};

/// Scenarios run at once when `--test-threads` is not given.
pub const DEFAULT_THREADS: usize = 16;

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

/// Checks names given on the command line.
fn check_names(opts: &RunOptions) -> Result<(), RunError> {
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
    Ok(())
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
    check_names(opts)?;
    let baseline = match &opts.baseline {
        Some(path) => {
            let b = report::json::read(path).map_err(RunError::Usage)?;
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
    let skip: Vec<String> = suite
        .skip_checks
        .iter()
        .map(|(n, _)| n.clone())
        .chain(opts.skip_checks.iter().cloned())
        .collect();
    let checks = ContractChecks::resolve(&opts.only_checks, &skip, opts.strict || suite.strict);
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

/// Loads the suite, checks the inputs, and runs it; reports are written
/// before this returns.
pub fn run(opts: &RunOptions, args: &Arguments) -> Result<RunOutput, RunError> {
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

    let mut token = read_token(opts, &suite)?;
    if let Some(url) = &opts.base_url
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
    let (stop, interrupt) = tokio::sync::watch::channel(false);
    if opts.handle_ctrl_c {
        rt.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nconform: interrupted: no new scenario starts; running ones clean up (Ctrl-C again to quit now)");
                let _ = stop.send(true);
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(exit_code::INTERRUPTED));
                }
            }
        });
    } else {
        // Kept alive, never sent: runs in tests and library use are not interruptible.
        std::mem::forget(stop);
    }
    let ctx = Arc::new(RunContext {
        transport: client,
        base_url: parsed,
        token,
        token_env: suite.token_env.clone().unwrap_or_else(|| "TOKEN".into()),
        suite_vars: suite.vars.clone(),
        env: Arc::new(opts.env.clone()),
        contract: contract.clone(),
        checks,
        interrupt: interrupt.clone(),
        poll_timeout: opts.poll_timeout,
    });

    let started = SystemTime::now();
    let start = Instant::now();
    let sink: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let retries = opts.retries;
    let progress = super::progress::Progress::new(args, scenarios.len());
    let shared_suite = Arc::new(suite.clone());
    let trials = scenarios
        .iter()
        .map(|sc| {
            let (ctx, sc2, sink, handle) =
                (ctx.clone(), sc.clone(), sink.clone(), rt.handle().clone());
            let (progress, suite) = (progress.clone(), shared_suite.clone());
            Trial::test(sc.id.to_string(), move || {
                progress.started(&sc2.id);
                // A deferred plan is compiled here, on the trial's thread, so
                // that the runtime's workers keep serving the running
                // scenarios; the scenario runs on them, as a task, and the
                // trial thread only waits for its result.
                let plan = suite.plan(&sc2);
                let task = handle.spawn(async move {
                    match plan {
                        Ok(plan) => run_with_retries(&ctx, &plan, retries).await,
                        Err(d) => harness_failure(&sc2, &d.to_string()),
                    }
                });
                let r = match handle.block_on(task) {
                    Ok(r) => r,
                    Err(e) => return Err(format!("the scenario's task failed: {e}").into()),
                };
                progress.finished(&r.id);
                let text = report::text::failure_text(&r, report::text::TERMINAL_BODY_CHARS);
                let outcome = r.outcome;
                let reason = r.skip_reason.clone();
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                match outcome {
                    Outcome::Passed | Outcome::Skipped => Ok(()),
                    Outcome::Interrupted if text.is_empty() => {
                        Err(reason.unwrap_or_default().into())
                    }
                    _ => Err(text.into()),
                }
            })
            .with_ignored_flag(sc.ignore.is_some())
        })
        .collect();
    let mut args = args.clone();
    args.test_threads.get_or_insert(DEFAULT_THREADS);
    let conclusion = libtest_mimic::run(&args, trials);
    progress.stop();

    let mut results = std::mem::take(&mut *sink.lock().unwrap_or_else(|e| e.into_inner()));
    let run_ids: HashSet<std::sync::Arc<str>> = results.iter().map(|r| r.id.clone()).collect();
    let runs_ignored = args.ignored || args.include_ignored;
    for sc in &scenarios {
        if run_ids.contains(&sc.id) || !filters_select(&args, &sc.id) {
            continue;
        }
        // Selected but not run: ignored, or (with --ignored) not ignored.
        if let (Some(reason), false) = (&sc.ignore, runs_ignored) {
            results.push(skipped_scenario(sc, reason.clone(), Outcome::Skipped));
        }
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
            started,
            elapsed: start.elapsed(),
            scenarios: results,
            interrupted: was_interrupted,
            libtest_failed: conclusion.num_failed,
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
            crate::check::names::LOAD,
            &sc.location,
            why,
        )],
        exchange: None,
        poll: None,
        exercised: Vec::new(),
    });
    r
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
