//! After the scenarios: the run's result (provenance, coverage, regression),
//! its exit code, the terminal summary and the reports.
//!
//! Exit code, in order: 130 when interrupted; 1 when a scenario failed (with
//! `--gate regressions`, only new failures count; a flaky scenario counts
//! only with `fail_on_flaky`); 3 when only runtime errors happened; 4 when
//! everything passed but coverage is below `--min-coverage`; else 0.

use std::time::{Duration, SystemTime};

use crate::case::Suite;
use crate::check::contract::ContractChecks;
use crate::contract::Contract;
use crate::exit_code;
use crate::model::{ContractInfo, FORMAT_VERSION, Outcome, RunResult, ScenarioResult, ms};
use crate::report::{self, ReportOptions};

use super::options::{Gate, RunError, RunOptions};

/// What the run produced, for [`finish`].
pub struct Finished<'a> {
    pub suite: &'a Suite,
    pub contract: Option<&'a Contract>,
    pub checks: ContractChecks,
    pub baseline: Option<(RunResult, String)>,
    pub base_url: String,
    pub started: SystemTime,
    pub elapsed: Duration,
    pub scenarios: Vec<ScenarioResult>,
    pub interrupted: bool,
    /// Trials libtest saw fail (a panicking trial records no result).
    pub libtest_failed: u64,
}

/// A result with provenance and no scenarios.
pub fn empty_result(suite: &Suite, base_url: &str) -> RunResult {
    RunResult {
        format_version: FORMAT_VERSION,
        tool: concat!("conform ", env!("CARGO_PKG_VERSION")).to_owned(),
        suite: suite.name.clone(),
        base_url: base_url.to_owned(),
        embedded_server: false,
        partition: None,
        interrupted: false,
        started_at: String::new(),
        duration_ms: 0.0,
        contract: None,
        coverage: None,
        regression: None,
        scenarios: Vec::new(),
    }
}

/// Assembles the result, prints the summary, writes the reports.
pub fn finish(opts: &RunOptions, f: Finished<'_>) -> Result<(RunResult, u8), RunError> {
    let mut result = empty_result(f.suite, &f.base_url);
    result.embedded_server = opts.base_url.is_none();
    result.partition = opts.partition.map(|p| p.to_string());
    result.interrupted = f.interrupted;
    result.started_at = humantime::format_rfc3339_seconds(f.started).to_string();
    result.duration_ms = ms(f.elapsed);
    result.scenarios = f.scenarios;
    if let Some(c) = f.contract {
        result.contract = Some(ContractInfo {
            file: c.file().to_owned(),
            sha256: c.sha256().to_owned(),
            dialect: match c.dialect() {
                crate::contract::Dialect::Swagger2 => format!("Swagger {}", c.version()),
                _ => format!("OpenAPI {}", c.version()),
            },
            checks: f.checks.names().into_iter().map(str::to_owned).collect(),
        });
        result.coverage = Some(crate::coverage::compute(c, &result.scenarios));
    }
    if let Some((base, name)) = &f.baseline {
        result.regression = Some(report::regression::compare(base, name, &result));
    }
    let code = exit_code_of(opts, &result, f.libtest_failed);
    if opts.print_summary {
        print!("{}", summary_lines(opts, &result, code));
    }
    if let Some(dir) = &opts.reports {
        let ro = ReportOptions {
            dir: dir.clone(),
            junit: opts.junit.clone(),
            junit_file_line: opts.junit_file_line,
        };
        report::write_all(&result, &ro).map_err(|e| RunError::Harness(e.to_string()))?;
    }
    Ok((result, code))
}

/// The exit code the result calls for under the options.
pub fn exit_code_of(opts: &RunOptions, r: &RunResult, libtest_failed: u64) -> u8 {
    if r.interrupted {
        return exit_code::INTERRUPTED;
    }
    let flaky_fail = opts.fail_on_flaky && r.scenarios.iter().any(|s| s.flaky);
    let failed = match (opts.gate, &r.regression) {
        (Gate::Regressions, Some(reg)) => !reg.new_failures.is_empty(),
        _ => r.count(Outcome::Failed) > 0,
    };
    if failed || flaky_fail {
        return exit_code::FAILED;
    }
    let errors = match (opts.gate, &r.regression) {
        (Gate::Regressions, Some(_)) => false,
        _ => r.count(Outcome::Error) > 0,
    };
    let recorded = (r.count(Outcome::Failed) + r.count(Outcome::Error)) as u64;
    if errors || libtest_failed > recorded {
        // A trial that panicked recorded nothing: a harness problem.
        return exit_code::RUNTIME_ERROR;
    }
    match (opts.min_coverage, &r.coverage) {
        (Some(min), Some(c)) if c.percent + 1e-9 < min => exit_code::GATE_FAILED,
        _ => exit_code::PASSED,
    }
}

/// Coverage, regression and gate lines after libtest's own summary.
fn summary_lines(opts: &RunOptions, r: &RunResult, code: u8) -> String {
    let mut out = String::new();
    if let (Some(c), Some(info)) = (&r.coverage, &r.contract) {
        out.push_str(&crate::coverage::render(c, &info.file));
    }
    let flaky: Vec<&str> = r
        .scenarios
        .iter()
        .filter(|s| s.flaky)
        .map(|s| &*s.id)
        .collect();
    if !flaky.is_empty() {
        out.push_str(&format!(
            "flaky (passed after failing): {}\n",
            flaky.join(", ")
        ));
    }
    if let Some(reg) = &r.regression {
        out.push_str(&format!(
            "against {}: {} new failures, {} fixed, {} still failing, {} added, {} removed\n",
            reg.baseline,
            reg.new_failures.len(),
            reg.fixed.len(),
            reg.still_failing.len(),
            reg.added.len(),
            reg.removed.len()
        ));
        for id in &reg.new_failures {
            out.push_str(&format!("  new failure: {id}\n"));
        }
    }
    if code == exit_code::GATE_FAILED
        && let (Some(min), Some(c)) = (opts.min_coverage, &r.coverage)
    {
        out.push_str(&format!(
            "coverage gate failed: {:.1}% is below --min-coverage {min}\n",
            c.percent
        ));
    }
    out
}
