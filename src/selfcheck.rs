//! `conform selfcheck`: proof that the suite reaches the right verdict. The
//! suite runs against the embedded reference server once unbroken, and once
//! in every mode (`server::Fault`), all in parallel; each mode states the
//! verdict the suite must reach (`server::Expected`):
//!
//! - a **fault** breaks one documented clause: the run must fail (exit 1)
//!   naming that clause broken;
//! - a **conformant variation** must pass (exit 0) with no deviation and
//!   nothing inconclusive;
//! - a **deviating variation** must pass (exit 0) naming the assumption it
//!   differs from;
//! - an **inconclusive variation** must pass (exit 0) naming the
//!   precondition that was not met, and no deviation.
//!
//! The unbroken server must pass with every clause met. A run that ends
//! with runtime errors (exit 3) proves nothing and counts as wrong. To keep
//! the whole check short, the server's queries take [`LIFECYCLE`] and every
//! poll's deadline is [`POLL_TIMEOUT`] (faults such as `never-completes`
//! are caught at it).
//!
//! The verdicts must not depend on how fast the machine is. With the clock
//! alone deciding a query's phase, a loaded machine (38 runs on two cores)
//! could take longer between the flagship's create and its Get than the
//! whole lifecycle: the Get found the query DONE, P2 was unmet, and D2–D4
//! came out inconclusive instead of broken (`cancel-running-noop` and
//! `cancel-204` missed, deviations gained `inconclusive P2`). No lifecycle
//! is long enough for every load, and a longer one slows every scenario
//! that waits for DONE. So the server's phases are also paced by Gets
//! (`ServerConfig::paced_by_gets`): the first Get of a query finds it
//! PENDING and each later Get moves it on at most one phase. The
//! flagship's Get always finds its query in progress (P2 met), its cancel
//! finds it still running (what `cancel-running-noop` needs to break D3),
//! and the first Get under `queued-status` always sees QUEUED. The
//! scenarios that wait for DONE still reach it, after the lifecycle and
//! three Gets; `instant-done` stays DONE at creation (P2 unmet). The
//! expectations are unchanged: every fault must still be caught on its
//! clause, and each row reaches its verdict even with a lifecycle over
//! before the first request.

use std::path::Path;
use std::time::Duration;

use crate::model::{ClauseVerdict, Level, Outcome, RunResult};
use crate::runner::{
    EmbeddedOptions, InputOptions, RunError, RunOptions, TargetOptions, TransportOptions, run,
};
use crate::server::{Expected, Fault};

/// Time from create to DONE on the server during the check, at the
/// soonest: Gets pace the phases too, so P2 does not hang on it.
pub const LIFECYCLE: Duration = Duration::from_secs(2);
/// Runs of the suite at once.
pub const RUNS_AT_ONCE: usize = 8;
/// Deadline of every poll during the check: past `slow-lifecycle`'s five
/// lifecycles.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(20);

/// What a mode's run showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub exit_code: u8,
    /// Documented clauses broken.
    pub broken: Vec<String>,
    /// Assumptions deviated from.
    pub deviates: Vec<String>,
    /// Preconditions not met.
    pub unmet: Vec<String>,
    /// Clauses not met for want of a precondition.
    pub inconclusive: Vec<String>,
    /// Clauses no scenario that ran exercised.
    pub not_exercised: Vec<String>,
    /// Scenarios that did not pass (failed, deviated, inconclusive, errors).
    pub scenarios: Vec<String>,
}

impl Actual {
    /// What the run showed, from its report.
    pub fn of(r: &RunResult, exit_code: u8) -> Actual {
        let ids = |level: Option<Level>, verdict: ClauseVerdict| -> Vec<String> {
            r.clauses
                .iter()
                .filter(|c| c.verdict == verdict && level.is_none_or(|l| c.level == l))
                .map(|c| c.id.to_string())
                .collect()
        };
        Actual {
            exit_code,
            broken: ids(Some(Level::Documented), ClauseVerdict::Broken),
            deviates: ids(Some(Level::Assumption), ClauseVerdict::Deviates),
            unmet: ids(Some(Level::Precondition), ClauseVerdict::Unmet),
            inconclusive: ids(None, ClauseVerdict::Inconclusive),
            not_exercised: ids(None, ClauseVerdict::NotExercised),
            scenarios: r
                .scenarios
                .iter()
                .filter(|s| !matches!(s.outcome, Outcome::Passed | Outcome::Skipped))
                .map(|s| s.id.to_string())
                .collect(),
        }
    }

    /// The verdict in the words of [`Expected`]'s `Display`: `fails D2`,
    /// `deviates A4, A12`, `inconclusive P2`, `passes`, or the exit code.
    pub fn verdict(&self) -> String {
        match self.exit_code {
            crate::exit_code::FAILED => format!("fails {}", self.broken.join(", ")),
            crate::exit_code::PASSED if !self.deviates.is_empty() => {
                let mut v = format!("deviates {}", self.deviates.join(", "));
                if !self.unmet.is_empty() {
                    v.push_str(&format!("; inconclusive {}", self.unmet.join(", ")));
                }
                v
            }
            crate::exit_code::PASSED if !self.unmet.is_empty() || !self.inconclusive.is_empty() => {
                format!("inconclusive {}", self.unmet.join(", "))
            }
            crate::exit_code::PASSED => "passes".to_owned(),
            crate::exit_code::RUNTIME_ERROR => "runtime errors (exit 3)".to_owned(),
            code => format!("exit {code}"),
        }
    }

    /// Whether the run reached `expected`: the same kind of verdict, naming
    /// every clause `expected` names.
    pub fn matches(&self, expected: Expected) -> bool {
        let has_all =
            |found: &[String], wanted: &[&str]| wanted.iter().all(|w| found.iter().any(|f| f == w));
        let clean =
            self.deviates.is_empty() && self.unmet.is_empty() && self.inconclusive.is_empty();
        match expected {
            Expected::Fails(ids) => {
                self.exit_code == crate::exit_code::FAILED && has_all(&self.broken, ids)
            }
            Expected::Passes => self.exit_code == crate::exit_code::PASSED && clean,
            Expected::Deviates(ids) => {
                self.exit_code == crate::exit_code::PASSED
                    && has_all(&self.deviates, ids)
                    && self.unmet.is_empty()
            }
            Expected::Inconclusive(ids) => {
                self.exit_code == crate::exit_code::PASSED
                    && has_all(&self.unmet, ids)
                    && self.deviates.is_empty()
            }
        }
    }
}

/// One row of the matrix.
#[derive(Debug, Clone)]
pub struct Row {
    /// `None` for the unbroken server.
    pub mode: Option<Fault>,
    pub expected: Expected,
    pub actual: Actual,
}

impl Row {
    /// The run reached the mode's verdict; the unbroken server's run also
    /// exercised every clause.
    pub fn ok(&self) -> bool {
        self.actual.matches(self.expected)
            && (self.mode.is_some() || self.actual.not_exercised.is_empty())
    }
}

/// Runs the suite in `cases` in every mode; rows in `Fault::ALL` order, the
/// unbroken server first.
pub fn check(cases: &Path) -> Result<Vec<Row>, RunError> {
    // Fail fast on an invalid suite, before starting 26 servers.
    crate::inputs::load(cases, None, &std::env::vars().collect()).map_err(RunError::Cases)?;
    let modes: Vec<Option<Fault>> = std::iter::once(None)
        .chain(Fault::ALL.iter().copied().map(Some))
        .collect();
    // A few runs at a time, each taking the next mode: all 38 at once
    // starved each other (a Get took over two seconds on two cores).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Row, RunError>>>> =
        modes.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..RUNS_AT_ONCE.min(modes.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(mode) = modes.get(i) else { break };
                    let row = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_mode(cases, *mode)
                    }))
                    .unwrap_or(Err(RunError::Selfcheck("a selfcheck run panicked")));
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(row);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or(Err(RunError::Selfcheck("a selfcheck run did not finish")))
        })
        .collect()
}

fn run_mode(cases: &Path, mode: Option<Fault>) -> Result<Row, RunError> {
    let opts = RunOptions {
        inputs: InputOptions {
            cases: cases.to_path_buf(),
            ..InputOptions::new()
        },
        target: TargetOptions {
            embedded: EmbeddedOptions {
                lifecycle: Some(LIFECYCLE),
                paced_by_gets: true,
                faults: mode.into_iter().collect(),
            },
            ..TargetOptions::default()
        },
        transport: TransportOptions {
            poll_timeout: Some(POLL_TIMEOUT),
            ..TransportOptions::default()
        },
        reports: None,
        print_summary: false,
        ..RunOptions::new()
    };
    let args = libtest_mimic::Arguments {
        quiet: true,
        logfile: Some(null_device().into()),
        ..Default::default()
    };
    let out = run(&opts, &args)?;
    Ok(Row {
        mode,
        expected: mode.map_or(Expected::Passes, Fault::expected),
        actual: Actual::of(&out.result, out.exit_code),
    })
}

fn null_device() -> &'static str {
    if cfg!(windows) { "NUL" } else { "/dev/null" }
}

/// The matrix as text: mode, kind, expected and actual verdict, whether
/// they agree, and the scenarios that did not pass.
pub fn render(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<29} {:<10} {:<22} {:<32} {:<6} scenarios that did not pass\n",
        "mode", "kind", "expected", "actual", "ok"
    );
    for r in rows {
        let (name, kind) = match r.mode {
            None => ("(unbroken)", "reference"),
            Some(f) if f.is_variation() => (f.name(), "variation"),
            Some(f) => (f.name(), "fault"),
        };
        let ok = if r.ok() {
            "ok"
        } else if matches!(r.expected, Expected::Fails(_)) {
            "MISSED"
        } else {
            "WRONG"
        };
        let shown: Vec<&str> = r
            .actual
            .scenarios
            .iter()
            .map(|id| id.split("::").next().unwrap_or(id))
            .collect();
        out.push_str(&format!(
            "{name:<29} {kind:<10} {:<22} {:<32} {ok:<6} {}\n",
            r.expected.to_string(),
            r.actual.verdict(),
            shown.join(", ")
        ));
    }
    let faults: Vec<&Row> = rows
        .iter()
        .filter(|r| matches!(r.expected, Expected::Fails(_)) && r.mode.is_some())
        .collect();
    let variations: Vec<&Row> = rows
        .iter()
        .filter(|r| r.mode.is_some_and(Fault::is_variation))
        .collect();
    let base = rows.iter().find(|r| r.mode.is_none()).is_some_and(Row::ok);
    out.push_str(&format!(
        "selfcheck: {} of {} faults caught, {} of {} variations reached their verdict, unbroken server {}\n",
        faults.iter().filter(|r| r.ok()).count(),
        faults.len(),
        variations.iter().filter(|r| r.ok()).count(),
        variations.len(),
        if base { "passed" } else { "FAILED" }
    ));
    out
}
