//! `conform selfcheck`: proof that the suite can fail. The suite runs against
//! the embedded reference server once unbroken, once in every fault mode
//! (each breaks one clause of the contract) and once in every tolerated
//! variation (each must still pass), all in parallel, and the result is a
//! matrix: mode, verdict, and the scenarios that caught it.
//!
//! A fault counts as caught only when the run fails on an assertion or a
//! contract check (exit 1); a run that ends with runtime errors (exit 3)
//! proves nothing and counts as missed. To keep the whole check short, the
//! server's queries take [`LIFECYCLE`] and every poll's deadline is
//! [`POLL_TIMEOUT`] (faults such as `never-completes` are caught at it).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::Outcome;
use crate::runner::{RunError, RunOptions, run};
use crate::server::Fault;

/// Time from create to DONE on the server during the check.
pub const LIFECYCLE: Duration = Duration::from_millis(300);
/// Deadline of every poll during the check.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// What a mode's run showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The unbroken server or a variation passed, as it must.
    Passed,
    /// A fault was caught by an assertion or a contract check.
    Caught,
    /// A fault went unnoticed, or a variation or the unbroken server failed.
    Wrong,
}

/// One row of the matrix.
#[derive(Debug, Clone)]
pub struct Row {
    /// `None` for the unbroken server.
    pub mode: Option<Fault>,
    pub verdict: Verdict,
    /// Scenarios that failed (for a fault: those that caught it).
    pub failed: Vec<String>,
    pub exit_code: u8,
}

impl Row {
    pub fn ok(&self) -> bool {
        self.verdict != Verdict::Wrong
    }
}

/// Runs the suite in `cases` in every mode; rows in `Fault::ALL` order, the
/// unbroken server first.
pub fn check(cases: &Path) -> Result<Vec<Row>, RunError> {
    // Fail fast on an invalid suite, before starting 26 servers.
    crate::lint::load_all(cases, None, &std::env::vars().collect()).map_err(RunError::Cases)?;
    let modes: Vec<Option<Fault>> = std::iter::once(None)
        .chain(Fault::ALL.iter().copied().map(Some))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = modes
            .iter()
            .map(|mode| {
                let cases: PathBuf = cases.to_path_buf();
                scope.spawn(move || run_mode(&cases, *mode))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(RunError::Harness("a selfcheck run panicked".into())))
            })
            .collect()
    })
}

fn run_mode(cases: &Path, mode: Option<Fault>) -> Result<Row, RunError> {
    let opts = RunOptions {
        cases: cases.to_path_buf(),
        reports: None,
        server_faults: mode.into_iter().collect(),
        server_lifecycle: Some(LIFECYCLE),
        poll_timeout: Some(POLL_TIMEOUT),
        print_summary: false,
        ..RunOptions::new()
    };
    let args = libtest_mimic::Arguments {
        quiet: true,
        logfile: Some(null_device().into()),
        ..Default::default()
    };
    let out = run(&opts, &args)?;
    let failed: Vec<String> = out
        .result
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed && s.outcome != Outcome::Skipped)
        .map(|s| s.id.to_string())
        .collect();
    let must_pass = mode.is_none_or(|f| f.is_variation());
    let verdict = match (must_pass, out.exit_code) {
        (true, crate::exit_code::PASSED) => Verdict::Passed,
        (false, crate::exit_code::FAILED) => Verdict::Caught,
        _ => Verdict::Wrong,
    };
    Ok(Row {
        mode,
        verdict,
        failed,
        exit_code: out.exit_code,
    })
}

fn null_device() -> &'static str {
    if cfg!(windows) { "NUL" } else { "/dev/null" }
}

/// The matrix as text.
pub fn render(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<29} {:<10} {:<8} scenarios that failed\n",
        "mode", "kind", "verdict"
    );
    for r in rows {
        let (name, kind) = match r.mode {
            None => ("(unbroken)", "reference"),
            Some(f) if f.is_variation() => (f.name(), "variation"),
            Some(f) => (f.name(), "fault"),
        };
        let verdict = match (r.verdict, r.mode.is_some_and(|f| !f.is_variation())) {
            (Verdict::Passed, _) => "passed",
            (Verdict::Caught, _) => "caught",
            (Verdict::Wrong, true) => "MISSED",
            (Verdict::Wrong, false) => "FAILED",
        };
        let shown: Vec<&str> = r
            .failed
            .iter()
            .map(|id| id.split("::").next().unwrap_or(id))
            .collect();
        let mut detail = shown.join(", ");
        if r.verdict == Verdict::Wrong && r.exit_code == crate::exit_code::RUNTIME_ERROR {
            detail = format!("runtime errors only (exit 3): {detail}");
        }
        out.push_str(&format!("{name:<29} {kind:<10} {verdict:<8} {detail}\n"));
    }
    let faults = rows
        .iter()
        .filter(|r| r.mode.is_some_and(|f| !f.is_variation()))
        .count();
    let caught = rows.iter().filter(|r| r.verdict == Verdict::Caught).count();
    let tolerated = rows
        .iter()
        .filter(|r| r.mode.is_some_and(Fault::is_variation))
        .count();
    let passed = rows
        .iter()
        .filter(|r| r.mode.is_some_and(Fault::is_variation) && r.verdict == Verdict::Passed)
        .count();
    let base = rows.iter().find(|r| r.mode.is_none()).is_some_and(Row::ok);
    out.push_str(&format!(
        "selfcheck: {caught} of {faults} faults caught, {passed} of {tolerated} variations passed, unbroken server {}\n",
        if base { "passed" } else { "FAILED" }
    ));
    out
}
