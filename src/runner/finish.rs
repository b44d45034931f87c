//! After the scenarios: the run's result (provenance, policy, coverage,
//! regression, clause matrix, verdict), its exit code, the terminal summary
//! and the reports. The exit code is the verdict's (`verdict::Verdict`).

use std::time::{Duration, SystemTime};

use crate::case::Suite;
use crate::check::ContractChecks;
use crate::clause::Assumptions;
use crate::contract::Contract;
use crate::exit_code;
use crate::model::verdict::Verdict;
use crate::model::{ContractInfo, FORMAT_VERSION, Outcome, Policy, RunResult, ScenarioResult, ms};
use crate::report;

use super::error::RunError;
use super::options::RunOptions;

/// What the run produced, for [`finish`].
pub struct Finished<'a> {
    /// The run's id ([`crate::model::new_run_id`]), made before the first
    /// request (whose user agent names it).
    pub run_id: String,
    pub suite: &'a Suite,
    pub contract: Option<&'a Contract>,
    pub checks: ContractChecks,
    pub baseline: Option<(RunResult, String)>,
    pub base_url: String,
    /// The named servers' URLs.
    pub servers: std::collections::BTreeMap<String, String>,
    pub started: SystemTime,
    pub elapsed: Duration,
    pub scenarios: Vec<ScenarioResult>,
    pub interrupted: bool,
    /// The body files the failing steps wrote (none without a reports folder).
    pub bodies: Bodies,
    /// Lines for the closing block on failures the terminal told once
    /// (`report::text::Shown::repeated`).
    pub repeated: Vec<String>,
    /// Trials libtest saw fail (a panicking trial records no result).
    pub libtest_failed: u64,
    /// Standard output carries JSON events only (`--format json`): the
    /// human summary goes to standard error.
    pub json_stdout: bool,
}

/// The body files of a run ([`report::bodies::Staging::finish`]): `None`
/// without a reports folder.
pub type Bodies = Option<Result<Vec<report::bodies::BodyFile>, String>>;

/// A result with provenance and no scenarios.
pub fn empty_result(suite: &Suite, base_url: &str) -> RunResult {
    RunResult {
        format_version: FORMAT_VERSION,
        tool: concat!("conform ", env!("CARGO_PKG_VERSION")).to_owned(),
        run_id: String::new(),
        suite: suite.name.clone(),
        suite_sha256: suite.sha256.clone(),
        base_url: base_url.to_owned(),
        servers: Default::default(),
        embedded_server: false,
        partition: None,
        interrupted: false,
        started_at: String::new(),
        duration_ms: 0.0,
        contract: None,
        coverage: None,
        regression: None,
        policy: Policy::default(),
        clauses: crate::model::verdict::rows_of(&suite.registry),
        verdict: None,
        scenarios: Vec::new(),
    }
}

/// Whether deviations fail the run: `--assumptions`, else the suite's
/// `assumptions:`, else lenient.
pub fn assumptions(opts: &RunOptions, suite: &Suite) -> Assumptions {
    opts.policy
        .assumptions
        .or(suite.assumptions)
        .unwrap_or_default()
}

/// The policy of a run: what fails it besides a broken documented clause.
pub fn policy(opts: &RunOptions, suite: &Suite) -> Policy {
    Policy {
        assumptions: assumptions(opts, suite),
        gate: opts.policy.gate,
        fail_on_flaky: opts.policy.fail_on_flaky,
        min_coverage: opts.policy.min_coverage,
        min_clauses: opts.policy.min_clauses,
    }
}

/// Assembles the result, prints the summary, writes the reports.
pub fn finish(opts: &RunOptions, f: Finished<'_>) -> Result<(RunResult, u8), RunError> {
    let mut result = empty_result(f.suite, &f.base_url);
    result.run_id = f.run_id;
    result.embedded_server = opts.embedded();
    result.servers = f.servers;
    result.partition = opts.select.partition.map(|p| p.to_string());
    result.interrupted = f.interrupted;
    result.started_at = humantime::format_rfc3339_seconds(f.started).to_string();
    result.duration_ms = ms(f.elapsed);
    result.policy = policy(opts, f.suite);
    result.scenarios = f.scenarios;
    if let Some(c) = f.contract {
        result.contract = Some(ContractInfo {
            file: c.file().to_owned(),
            sha256: c.sha256().to_owned(),
            dialect: match c.dialect() {
                crate::contract::Dialect::Swagger2 => format!("Swagger {}", c.version()),
                _ => format!("OpenAPI {}", c.version()),
            },
            checks: f.checks.running(),
            judged: crate::model::judged::of_scenarios(&result.scenarios),
        });
        result.coverage = Some(crate::model::coverage::compute(c, &result.scenarios));
    }
    if let Some((base, name)) = &f.baseline {
        result.regression = Some(report::regression::compare(base, name, &result));
    }
    crate::model::verdict::finalize(&mut result);
    let code = exit_code_of(&result, f.libtest_failed);
    if opts.print_summary {
        let summary = summary_lines(&result, opts.coverage_table(), &f.repeated);
        // With `--format json` every line on stdout is a JSON event.
        if f.json_stdout {
            eprint!("{summary}");
        } else {
            print!("{summary}");
        }
    }
    if let Some(reports) = &opts.reports {
        let bodies = match f.bodies {
            Some(Ok(files)) => files,
            // The set would name a body file it lacks: no report.json.
            Some(Err(e)) => return Err(RunError::Reports(std::io::Error::other(e))),
            None => Vec::new(),
        };
        let written = report::write_set(&result, reports, &bodies).map_err(RunError::Reports)?;
        if opts.print_summary {
            // The last line says where the reports went.
            let line = written_line(&written);
            if f.json_stdout {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        }
    }
    Ok((result, code))
}

/// `reports written: DIR/junit.xml, DIR/report.html, ...`, in the order
/// written, and how many body files went into `DIR/bodies/`.
fn written_line(written: &report::Written) -> String {
    let files: Vec<String> = written
        .reports
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut line = format!("reports written: {}", files.join(", "));
    if let Some(dir) = written.bodies.first().and_then(|b| b.parent()) {
        let n = written.bodies.len();
        line.push_str(&format!(
            " (and {n} request bod{} in {}/)",
            if n == 1 { "y" } else { "ies" },
            dir.display()
        ));
    }
    line
}

/// The exit code of a finished result: its verdict's, except that a trial
/// libtest saw fail without recording a result (it panicked) is a harness
/// problem when nothing else failed.
pub fn exit_code_of(r: &RunResult, libtest_failed: u64) -> u8 {
    let verdict = r.verdict.clone().unwrap_or_else(|| Verdict::of(r));
    let recorded = r
        .scenarios
        .iter()
        .filter(|s| {
            crate::model::verdict::fails_run(s, &r.policy)
                || matches!(s.outcome, Outcome::Error | Outcome::Interrupted)
        })
        .count() as u64;
    if verdict.exit_code == exit_code::PASSED && libtest_failed > recorded {
        return exit_code::RUNTIME_ERROR;
    }
    verdict.exit_code
}

/// Coverage (the operations touched, or all of them with
/// `coverage_table`), flaky scenarios, the regression and the
/// certification block, after libtest's own summary.
fn summary_lines(r: &RunResult, coverage_table: bool, repeated: &[String]) -> String {
    let mut out = String::new();
    if let (Some(c), Some(info)) = (&r.coverage, &r.contract) {
        out.push_str(&crate::model::coverage::render(
            c,
            &info.file,
            coverage_table,
        ));
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
    out.push_str(&report::text::closing_block(r, repeated));
    out
}
