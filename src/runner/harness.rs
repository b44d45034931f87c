//! The run's entry point, [`run`]: a sequence of named stages (those before
//! anything is sent are in `prepare`, the embedded server in `target`),
//! then the libtest-mimic harness: one trial per scenario, one tokio runtime
//! and one pooled HTTP client for all of them, results collected in a sink
//! and turned into the run's result after libtest is done.
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
//! see `signals`), no new scenario starts, running ones stop their current
//! step and run their `finally` steps, reports are written and the exit
//! code is 130; a second signal exits at once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use libtest_mimic::{Arguments, Trial};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::case::{Scenario, Suite};
use crate::clause::Assumptions;
use crate::exit_code;
use crate::http::HttpClient;
use crate::model::{Outcome, Rerun, ScenarioResult};
use crate::report;

use super::RunContext;
use super::finish::{self, Finished};
use super::options::{RunError, RunOptions, RunOutput};
use super::prepare::{self, TokenFile};
use super::progress::Progress;
use super::scenario::{run_scenario, skipped_scenario};
use super::signals;
use super::target::Target;

/// Scenarios run at once when `--test-threads` is not given.
pub const DEFAULT_THREADS: usize = 16;

/// Loads the suite, checks the inputs, and runs it; reports are written
/// before this returns. An error's text has what could be a secret masked
/// ([`prepare::input_secrets`]).
pub fn run(opts: &RunOptions, args: &Arguments) -> Result<RunOutput, RunError> {
    let token_file = TokenFile::read(&opts.target);
    let known = token_file.token().map(str::to_owned);
    run_unmasked(opts, args, token_file)
        .map_err(|e| e.masked(&prepare::input_secrets(&opts.inputs.env, known.as_deref())))
}

/// The stages of a run, in order; the first to fail ends it.
fn run_unmasked(
    opts: &RunOptions,
    args: &Arguments,
    token_file: TokenFile,
) -> Result<RunOutput, RunError> {
    prepare::options(opts, args)?;
    // Joined when the inputs are in (or refused).
    let starting = (!args.list).then(|| prepare::start(opts));
    let inputs = prepare::inputs(opts)?;
    let Some(starting) = starting else {
        return Ok(list(&inputs, args));
    };
    // Held until the reports are written (by `finish`, below).
    let _reports_lock = prepare::report_paths(opts)?;
    let token = prepare::token(token_file, opts, &inputs.suite)?;
    // Made before anything is sent: every request's user agent names it.
    let run_id = crate::model::new_run_id(SystemTime::now());
    let (rt, roots) = starting.finish()?;
    let target = Target::start(&rt, &opts.target, token, opts.print_summary)?;
    let endpoints = prepare::endpoints(&target.url, opts, &inputs.suite)?;
    let client = prepare::client(&rt, opts, &inputs.suite, &endpoints, roots, &run_id)?;
    let interrupt = signals::interrupt(&rt, opts.handle_ctrl_c);
    let ctx = prepare::context(opts, &inputs, client, target.token, endpoints, interrupt);
    let ran = run_scenarios(&rt, Arc::new(ctx), &inputs, opts, args);
    let embedded_requests = target.embedded.stop(&rt);
    let (shown, interrupted, bodies) = close(rt, ran.ctx, &target.url);
    finish::finish(
        opts,
        Finished {
            run_id,
            suite: &inputs.suite,
            contract: inputs.contract.as_deref(),
            checks: inputs.checks,
            baseline: inputs.baseline,
            base_url: shown.base_url,
            servers: shown.servers,
            started: ran.started,
            elapsed: ran.elapsed,
            scenarios: ran.results,
            interrupted,
            bodies,
            repeated: ran.repeated,
            libtest_failed: ran.libtest_failed,
            json_stdout: args.format == Some(libtest_mimic::FormatSetting::Json),
        },
    )
    .map(|(result, exit_code)| RunOutput {
        result,
        exit_code,
        embedded_requests,
    })
}

/// `--list`: libtest lists the selected scenarios; nothing is sent.
fn list(inputs: &prepare::Checked, args: &Arguments) -> RunOutput {
    let trials = inputs
        .scenarios
        .iter()
        .map(|s| Trial::test(s.id.to_string(), || Ok(())))
        .collect();
    let _ = libtest_mimic::run(args, trials);
    RunOutput {
        result: finish::empty_result(&inputs.suite, ""),
        exit_code: exit_code::PASSED,
        embedded_requests: 0,
    }
}

/// What the scenarios gave.
struct Ran {
    /// The context, to be closed ([`close`]).
    ctx: Arc<RunContext<HttpClient>>,
    started: SystemTime,
    /// The scenarios' time: shutting the runtime and the server down is not.
    elapsed: Duration,
    /// Every selected scenario's result, in file order.
    results: Vec<ScenarioResult>,
    /// Trials libtest saw fail.
    libtest_failed: u64,
    /// The closing block's lines for failures the terminal told once
    /// ([`report::text::Shown::repeated`]).
    repeated: Vec<String>,
}

/// Runs the selected scenarios: libtest's trials on this thread, the
/// scenarios on the lanes of `rt` ([`dispatch`]).
fn run_scenarios(
    rt: &tokio::runtime::Runtime,
    ctx: Arc<RunContext<HttpClient>>,
    inputs: &prepare::Checked,
    opts: &RunOptions,
    args: &Arguments,
) -> Ran {
    let (suite, scenarios) = (&inputs.suite, &inputs.scenarios);
    let started = SystemTime::now();
    let start = Instant::now();
    let sink: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let concurrency = args.test_threads.unwrap_or(DEFAULT_THREADS).max(1);
    let mut args = args.clone();
    args.test_threads = Some(1);
    let Trials {
        trials,
        work,
        ignored,
        progress,
        shown,
    } = trials(scenarios, &args, &sink, finish::assumptions(opts, suite));
    dispatch(
        rt,
        &ctx,
        Arc::new(suite.clone()),
        work,
        &Dispatch {
            concurrency,
            retries: opts.policy.retries,
            progress: progress.clone(),
        },
    );
    let conclusion = libtest_mimic::run(&args, trials);
    progress.stop();
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
    let repeated = shown.lock().unwrap_or_else(|e| e.into_inner()).repeated();
    Ran {
        ctx,
        started,
        elapsed,
        results,
        libtest_failed: conclusion.num_failed,
        repeated,
    }
}

/// The URLs as reports show them: userinfo and the token masked.
struct Shown {
    base_url: String,
    servers: BTreeMap<String, String>,
}

/// After the scenarios (the embedded server stopped): the URLs as reports
/// show them, whether the run was interrupted, the body files written (or
/// why one could not be), and the runtime shut down.
fn close(
    rt: tokio::runtime::Runtime,
    ctx: Arc<RunContext<HttpClient>>,
    url: &str,
) -> (Shown, bool, finish::Bodies) {
    let interrupted = *ctx.interrupt.borrow();
    let bodies = ctx.bodies.as_ref().map(|b| b.finish());
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
    let base_url = ctx.secrets.redact(url).into_owned();
    drop(ctx);
    rt.shutdown_timeout(Duration::from_secs(1));
    (Shown { base_url, servers }, interrupted, bodies)
}

/// A scenario the harness could not run (its file changed since it was checked).
fn harness_failure(sc: &Scenario, why: &str) -> ScenarioResult {
    let mut r = skipped_scenario(sc, String::new(), Outcome::Error);
    r.skip_reason = None;
    r.steps.push(crate::model::StepResult {
        outcome: crate::model::StepOutcome::Error,
        failures: vec![crate::model::Failure::runtime(
            crate::check::Check::Load,
            &sc.location,
            why,
        )],
        ..crate::model::StepResult::new("load", sc.location.clone())
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
    /// What the trials' failure texts have shown in full.
    shown: Arc<Mutex<report::text::Shown>>,
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
    let shown: Arc<Mutex<report::text::Shown>> = Arc::default();
    let trials = scenarios
        .iter()
        .zip(results)
        .map(|(sc, rx)| {
            let (sink, progress, id) = (sink.clone(), progress.clone(), sc.id.clone());
            let shown = shown.clone();
            Trial::test(sc.id.to_string(), move || {
                progress.waiting(&id);
                let r = rx.blocking_recv();
                progress.resumed();
                let r = r.map_err(|_| "the scenario's task ended without a result")?;
                let passes = match r.outcome {
                    Outcome::Passed | Outcome::Skipped | Outcome::Inconclusive => true,
                    Outcome::Deviates => assumptions == Assumptions::Lenient,
                    _ => false,
                };
                // Only a failing trial's text is printed. Trials run one
                // after another, in file order: "above" is where libtest
                // prints an earlier trial's text.
                let text = if passes {
                    String::new()
                } else {
                    let mut shown = shown.lock().unwrap_or_else(|e| e.into_inner());
                    report::text::terminal_text(&r, &mut shown)
                };
                let reason = r.skip_reason.clone();
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                match (passes, text.is_empty()) {
                    (true, _) => Ok(()),
                    // Interrupted before any step: why.
                    (false, true) => Err(reason.unwrap_or_default().into()),
                    // libtest ends the text with a line break of its own.
                    (false, false) => Err(text.trim_end_matches('\n').into()),
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
        shown,
    }
}

/// How [`dispatch`] runs the scenarios.
struct Dispatch {
    /// Scenarios running at once (`--test-threads`).
    concurrency: usize,
    retries: u32,
    progress: Progress,
}

/// A scenario to run: as the suite holds it (its head alone when loading
/// deferred its plan), where its result goes, and its full plan (or why
/// there is none).
struct Planned {
    head: Arc<Scenario>,
    result: oneshot::Sender<ScenarioResult>,
    plan: Result<Arc<Scenario>, String>,
}

impl Planned {
    fn of(suite: &Suite, head: Arc<Scenario>, result: oneshot::Sender<ScenarioResult>) -> Planned {
        let plan = suite.plan(&head).map_err(|d| d.to_string());
        Planned { head, result, plan }
    }
}

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
                let (head, result) = items.lock().unwrap_or_else(|e| e.into_inner()).next()?;
                Some(Planned::of(suite, head, result))
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
            for (head, result) in work {
                if planned_tx
                    .blocking_send(Planned::of(&suite, head, result))
                    .is_err()
                {
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
            while let Some(Planned { head, result, plan }) = queue.next(&suite).await {
                progress.started(&head.id);
                let r = match plan {
                    Ok(plan) => run_with_retries(&ctx, &plan, retries).await,
                    Err(why) => harness_failure(&head, &why),
                };
                progress.finished(&head.id);
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
                trace_id: r.trace_id,
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
