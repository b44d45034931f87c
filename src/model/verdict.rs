//! Verdicts: what a step, a scenario, a clause and a whole run come to.
//!
//! One place decides, for `run`, `merge`, `diff` and every report alike:
//!
//! - a **step** or **scenario** is *failed* when a check of a documented
//!   clause (or of no clause: that counts as documented) failed, *error*
//!   when the harness could not find out (transport, timeout), *deviates*
//!   when only checks of assumptions failed, *inconclusive* when a
//!   precondition was not met and nothing else failed, else *passed*;
//! - a **clause** is *broken* (documented), *deviates* (assumption) or
//!   *unmet* (precondition) when a check of it failed in some scenario
//!   that counts, else *met* when some scenario exercised it, else
//!   *inconclusive* when the scenarios that would have exercised it lacked
//!   a precondition, else *not exercised*;
//! - the **run** ([`Verdict`]): interrupted (130); nothing ran (2: an
//!   empty selection checks nothing, and says so); failed (1) when a
//!   scenario failed (with `--gate regressions`, only new failures count;
//!   under `--assumptions strict` deviations count; with
//!   `--fail-on-flaky`, flaky scenarios count); error (3) when scenarios
//!   could not complete and nothing failed; gate failed (4) when coverage or
//!   the share of documented clauses met is below its minimum; else passed
//!   (0). Deviations and inconclusive clauses never fail a lenient run:
//!   they are reported.
//!
//! The certification statement says the same in words: conformant or not
//! to the documented contract, which assumptions deviate, what was
//! inconclusive and what no scenario exercised.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clause::{Assumptions, Level, Registry, compact_ids};
use crate::exit_code;
use crate::model::{
    ClauseRow, ClauseVerdict, Failure, FailureKind, Gate, Outcome, RunResult, ScenarioClause,
    ScenarioResult, StepOutcome,
};

/// How a step ended, from its failures.
pub fn step_outcome(failures: &[Failure]) -> StepOutcome {
    match worst(failures.iter()) {
        Worst::Documented => StepOutcome::Failed,
        Worst::Runtime => StepOutcome::Error,
        Worst::Assumption => StepOutcome::Deviates,
        Worst::Inconclusive => StepOutcome::Inconclusive,
        Worst::None => StepOutcome::Passed,
    }
}

/// How a scenario ended, from its failures (steps and `finally`).
pub fn scenario_outcome(r: &ScenarioResult) -> Outcome {
    match worst(r.failures().map(|(_, f)| f)) {
        Worst::Documented => Outcome::Failed,
        Worst::Runtime => Outcome::Error,
        Worst::Assumption => Outcome::Deviates,
        Worst::Inconclusive => Outcome::Inconclusive,
        Worst::None => Outcome::Passed,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Worst {
    None,
    Inconclusive,
    Assumption,
    Runtime,
    Documented,
}

fn weight(f: &Failure) -> Worst {
    match (f.kind, f.level, f.counts()) {
        (FailureKind::Runtime, ..) => Worst::Runtime,
        (_, _, false) | (_, Level::Precondition, _) => Worst::Inconclusive,
        (_, Level::Assumption, true) => Worst::Assumption,
        (_, Level::Documented, true) => Worst::Documented,
    }
}

fn worst<'a>(failures: impl Iterator<Item = &'a Failure>) -> Worst {
    failures.map(weight).max().unwrap_or(Worst::None)
}

/// Whether a failure ends what it happens in (a scenario, a poll, a walk
/// over pages): a documented check failed, or the harness could not find
/// out. A deviation from an assumption or an unmet precondition does not:
/// what follows still runs, so one guess does not hide a documented failure.
pub fn stops(f: &Failure) -> bool {
    weight(f) >= Worst::Runtime
}

/// Records what a scenario shows of its clauses, the stronger verdict
/// winning: broken, deviates or unmet over inconclusive, over met.
#[derive(Debug, Default)]
pub struct ClauseTally {
    seen: Vec<ScenarioClause>,
}

fn strength(v: ClauseVerdict) -> u8 {
    match v {
        ClauseVerdict::NotExercised => 0,
        ClauseVerdict::Met => 1,
        ClauseVerdict::Inconclusive => 2,
        ClauseVerdict::Broken | ClauseVerdict::Deviates | ClauseVerdict::Unmet => 3,
    }
}

impl ClauseTally {
    pub fn note(&mut self, id: &Arc<str>, verdict: ClauseVerdict, because: Option<&Arc<str>>) {
        match self.seen.iter_mut().find(|c| c.id == *id) {
            Some(c) if strength(verdict) > strength(c.verdict) => {
                c.verdict = verdict;
                c.because = because.cloned();
            }
            Some(_) => {}
            None => self.seen.push(ScenarioClause {
                id: id.clone(),
                verdict,
                because: because.cloned(),
            }),
        }
    }

    /// Every failed check that names a clause: broken, deviates, unmet, or
    /// inconclusive when an unmet precondition guards it.
    pub fn failures<'a>(&mut self, failures: impl Iterator<Item = &'a Failure>) {
        for f in failures.filter(|f| f.kind == FailureKind::Assertion) {
            let Some(id) = &f.clause else { continue };
            let verdict = match (&f.guarded_by, f.level) {
                (Some(_), _) => ClauseVerdict::Inconclusive,
                (None, Level::Documented) => ClauseVerdict::Broken,
                (None, Level::Assumption) => ClauseVerdict::Deviates,
                (None, Level::Precondition) => ClauseVerdict::Unmet,
            };
            self.note(id, verdict, f.guarded_by.as_ref());
        }
    }

    pub fn finish(self, registry: &Registry) -> Vec<ScenarioClause> {
        let mut seen = self.seen;
        seen.sort_by_key(|c| registry.position(&c.id).unwrap_or(usize::MAX));
        // Kept for every scenario until the reports are written.
        seen.shrink_to_fit();
        seen
    }
}

/// A row per clause of `registry`, none exercised yet.
pub fn rows_of(registry: &Registry) -> Vec<ClauseRow> {
    registry
        .clauses()
        .iter()
        .map(|c| ClauseRow {
            id: c.id.clone(),
            level: c.level,
            statement: c.statement.clone(),
            source: c.source.clone(),
            verdict: ClauseVerdict::NotExercised,
            scenarios: Vec::new(),
            because: Vec::new(),
        })
        .collect()
}

/// The clause matrix: each row of `rows` decided from what the scenarios
/// showed. A clause is broken (deviates, unmet) when it was in some
/// scenario, listing those; else met, listing the scenarios that met it;
/// else inconclusive, with the preconditions that were not met.
pub fn decide(rows: &[ClauseRow], scenarios: &[ScenarioResult]) -> Vec<ClauseRow> {
    let mut by_clause: BTreeMap<&str, Vec<(&Arc<str>, &ScenarioClause)>> = BTreeMap::new();
    for s in scenarios {
        for c in &s.clauses {
            by_clause.entry(&c.id).or_default().push((&s.id, c));
        }
    }
    rows.iter()
        .map(|row| {
            let seen = by_clause.get(&*row.id).map(Vec::as_slice).unwrap_or(&[]);
            let verdict = seen
                .iter()
                .map(|(_, c)| c.verdict)
                .max_by_key(|v| strength(*v))
                .unwrap_or(ClauseVerdict::NotExercised);
            // A precondition met in one scenario and not in another is unmet.
            let mut scenarios: Vec<Arc<str>> = seen
                .iter()
                .filter(|(_, c)| c.verdict == verdict)
                .map(|(id, _)| (*id).clone())
                .collect();
            scenarios.dedup();
            let mut because: Vec<Arc<str>> = Vec::new();
            if verdict == ClauseVerdict::Inconclusive {
                for p in seen.iter().filter_map(|(_, c)| c.because.as_ref()) {
                    if !because.contains(p) {
                        because.push(p.clone());
                    }
                }
            }
            ClauseRow {
                verdict,
                scenarios,
                because,
                ..row.clone()
            }
        })
        .collect()
}

/// Whether scenario `s` fails the run under `policy` (before any
/// regression gate): failed, deviating under strict assumptions, or flaky
/// with `fail_on_flaky`.
pub fn fails_run(s: &ScenarioResult, policy: &crate::model::Policy) -> bool {
    match s.outcome {
        Outcome::Failed => true,
        Outcome::Deviates => policy.assumptions == Assumptions::Strict,
        Outcome::Passed => s.flaky && policy.fail_on_flaky,
        _ => false,
    }
}

/// Whether scenario `s` counts as failing when compared with a baseline:
/// failing the run, or not completing (error, interrupted).
pub fn failing(s: &ScenarioResult, policy: &crate::model::Policy) -> bool {
    fails_run(s, policy) || matches!(s.outcome, Outcome::Error | Outcome::Interrupted)
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Passed,
    Failed,
    Error,
    GateFailed,
    Interrupted,
    /// No scenario ran (the selection was empty, or skipped them all):
    /// nothing was checked, which is no pass.
    NothingRan,
}

/// Said in the headline and the statement of a run against the embedded
/// reference server.
pub const EMBEDDED: &str =
    "(Run against the embedded reference server, not a deployment: a self-test.)";

/// The run's verdict: exit code, one-line headline and the certification
/// statement. Every report opens with it; `run`, `merge` and `diff` exit
/// with its code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: RunOutcome,
    pub exit_code: u8,
    /// No documented clause broken, and no documented check (of no clause)
    /// failed, in the scenarios that ran.
    pub conformant: bool,
    /// One line: what decided the exit code.
    pub headline: String,
    /// The certification statement: the documented contract, the
    /// assumptions, what was inconclusive and what was not exercised.
    pub statement: String,
}

impl Verdict {
    /// The verdict `r` calls for under its own policy.
    pub fn of(r: &RunResult) -> Verdict {
        let policy = &r.policy;
        let rows = &r.clauses;
        let counted_failed = match (policy.gate, &r.regression) {
            (Gate::Regressions, Some(reg)) => !reg.new_failures.is_empty(),
            _ => r.scenarios.iter().any(|s| fails_run(s, policy)),
        };
        let errors = r.count(Outcome::Error);
        let conformant = !r.scenarios.iter().any(|s| s.outcome == Outcome::Failed);
        let statement = statement(r);
        let broken: Vec<&ClauseRow> = rows
            .iter()
            .filter(|c| c.verdict == ClauseVerdict::Broken)
            .collect();
        let deviating: Vec<&ClauseRow> = rows
            .iter()
            .filter(|c| c.verdict == ClauseVerdict::Deviates)
            .collect();
        let (outcome, headline) = if r.interrupted {
            (
                RunOutcome::Interrupted,
                "Interrupted: the run was stopped before it finished; it is no verdict on the contract."
                    .to_owned(),
            )
        } else if r.scenarios.iter().all(|s| s.outcome == Outcome::Skipped) {
            let why = match r.scenarios.len() {
                0 => "no scenario was selected".to_owned(),
                1 => "the one scenario selected was skipped".to_owned(),
                n => format!("the {n} scenarios selected were skipped"),
            };
            (
                RunOutcome::NothingRan,
                format!(
                    "Nothing was checked: {why}; see the name filter, --tag, --skip-tag, --partition and --ignored."
                ),
            )
        } else if counted_failed {
            let why = if !conformant {
                if broken.is_empty() {
                    format!(
                        "Not conformant: {} failed a documented check.",
                        plural(r.count(Outcome::Failed), "scenario")
                    )
                } else {
                    format!(
                        "Not conformant to the documented contract: {} broken.",
                        ids(&broken)
                    )
                }
            } else if policy.assumptions == Assumptions::Strict && !deviating.is_empty() {
                format!(
                    "Failed under --assumptions strict: deviates from {}.",
                    ids(&deviating)
                )
            } else if policy.assumptions == Assumptions::Strict && r.count(Outcome::Deviates) > 0 {
                format!(
                    "Failed under --assumptions strict: {} deviate from an assumption.",
                    plural(r.count(Outcome::Deviates), "scenario")
                )
            } else {
                format!(
                    "Failed: {} passed only on a rerun (--fail-on-flaky).",
                    plural(r.scenarios.iter().filter(|s| s.flaky).count(), "scenario")
                )
            };
            let why = match (policy.gate, &r.regression) {
                (Gate::Regressions, Some(reg)) => format!(
                    "{} new against the baseline (--gate regressions). {why}",
                    plural(reg.new_failures.len(), "failure")
                ),
                _ => why,
            };
            (RunOutcome::Failed, why)
        } else if errors > 0 && !matches!(policy.gate, Gate::Regressions if r.regression.is_some())
        {
            (
                RunOutcome::Error,
                format!(
                    "No verdict: {} could not complete (transport, timeout, TLS).",
                    plural(errors, "scenario")
                ),
            )
        } else if let Some(gate) = gate_failure(r) {
            (RunOutcome::GateFailed, gate)
        } else {
            (RunOutcome::Passed, passed_headline(r, conformant))
        };
        // A self-test must never read as a certificate of a deployment.
        let (headline, statement) = if r.embedded_server {
            (
                format!("{headline} {EMBEDDED}"),
                format!("{statement} {EMBEDDED}"),
            )
        } else {
            (headline, statement)
        };
        let exit_code = match outcome {
            RunOutcome::Passed => exit_code::PASSED,
            RunOutcome::Failed => exit_code::FAILED,
            RunOutcome::Error => exit_code::RUNTIME_ERROR,
            RunOutcome::GateFailed => exit_code::GATE_FAILED,
            RunOutcome::Interrupted => exit_code::INTERRUPTED,
            RunOutcome::NothingRan => exit_code::INVALID_INPUT,
        };
        Verdict {
            outcome,
            exit_code,
            conformant,
            headline,
            statement,
        }
    }
}

/// Recomputes what is derived from the scenarios: the clause matrix and
/// the verdict. `run`, `merge` and `diff` call it before writing reports.
pub fn finalize(r: &mut RunResult) {
    r.clauses = decide(&r.clauses, &r.scenarios);
    r.verdict = Some(Verdict::of(r));
}

/// The share of documented clauses met, in percent (`None` without any).
pub fn documented_met_percent(rows: &[ClauseRow]) -> Option<f64> {
    let documented: Vec<&ClauseRow> = rows
        .iter()
        .filter(|c| c.level == Level::Documented)
        .collect();
    if documented.is_empty() {
        return None;
    }
    let met = documented
        .iter()
        .filter(|c| c.verdict == ClauseVerdict::Met)
        .count();
    Some(met as f64 * 100.0 / documented.len() as f64)
}

fn gate_failure(r: &RunResult) -> Option<String> {
    if let (Some(min), Some(c)) = (r.policy.min_coverage, &r.coverage)
        && c.percent + 1e-9 < min
    {
        return Some(format!(
            "Gate failed: contract coverage {:.1}% is below --min-coverage {min}.",
            c.percent
        ));
    }
    if let Some(min) = r.policy.min_clauses {
        let met = documented_met_percent(&r.clauses).unwrap_or(0.0);
        if met + 1e-9 < min {
            return Some(format!(
                "Gate failed: {met:.1}% of the documented clauses are met, below --min-clauses {min}."
            ));
        }
    }
    None
}

fn passed_headline(r: &RunResult, conformant: bool) -> String {
    let ran = r
        .scenarios
        .iter()
        .filter(|s| !matches!(s.outcome, Outcome::Skipped))
        .count();
    if r.clauses.is_empty() {
        return if conformant {
            format!(
                "Passed: {} of {} passed.",
                ran,
                plural(r.scenarios.len(), "scenario")
            )
        } else {
            "Passed: no new failure against the baseline (--gate regressions).".to_owned()
        };
    }
    if !conformant {
        return "Passed: no new failure against the baseline (--gate regressions), though documented clauses are broken.".to_owned();
    }
    let documented: Vec<&ClauseRow> = r
        .clauses
        .iter()
        .filter(|c| c.level == Level::Documented)
        .collect();
    let all_met =
        !documented.is_empty() && documented.iter().all(|c| c.verdict == ClauseVerdict::Met);
    let deviations = r
        .clauses
        .iter()
        .filter(|c| c.verdict == ClauseVerdict::Deviates)
        .count();
    let inconclusive = r
        .clauses
        .iter()
        .filter(|c| c.verdict == ClauseVerdict::Inconclusive)
        .count();
    let mut s = if all_met {
        "Conformant to the documented contract".to_owned()
    } else {
        "No documented clause broken".to_owned()
    };
    let mut extra = Vec::new();
    if deviations > 0 {
        extra.push(format!(
            "{} from {}",
            if deviations == 1 {
                "a deviation"
            } else {
                "deviations"
            },
            plural(deviations, "assumption")
        ));
    }
    if inconclusive > 0 {
        extra.push(format!("{inconclusive} inconclusive"));
    }
    if !extra.is_empty() {
        s.push_str(&format!(", with {}", extra.join(" and ")));
    }
    s.push('.');
    s
}

fn ids(rows: &[&ClauseRow]) -> String {
    let ids: Vec<&str> = rows.iter().map(|c| &*c.id).collect();
    compact_ids(&ids)
}

fn with_statements(rows: &[&ClauseRow]) -> String {
    rows.iter()
        .map(|c| format!("{} ({})", c.id, c.statement.trim_end_matches('.')))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1 scenario`, `2 scenarios`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The certification statement of `r` (see the module docs).
pub fn statement(r: &RunResult) -> String {
    let rows = &r.clauses;
    let failed = r.count(Outcome::Failed);
    let errors = r.count(Outcome::Error);
    if rows.is_empty() {
        let mut s = format!(
            "The suite declares no clauses: {} of {} passed",
            r.count(Outcome::Passed),
            plural(r.scenarios.len(), "scenario")
        );
        for (n, word) in [
            (failed, "failed"),
            (errors, "could not complete"),
            (r.count(Outcome::Skipped), "skipped"),
            (r.count(Outcome::Interrupted), "interrupted"),
        ] {
            if n > 0 {
                s.push_str(&format!(", {n} {word}"));
            }
        }
        s.push('.');
        return s;
    }
    let of = |level: Level, verdict: ClauseVerdict| -> Vec<&ClauseRow> {
        rows.iter()
            .filter(|c| c.level == level && c.verdict == verdict)
            .collect()
    };
    let documented = rows.iter().filter(|c| c.level == Level::Documented).count();
    let assumptions = rows.iter().filter(|c| c.level == Level::Assumption).count();
    let broken = of(Level::Documented, ClauseVerdict::Broken);
    let met = of(Level::Documented, ClauseVerdict::Met);
    // Documented checks that name no clause, in scenarios that failed.
    let unnamed = r
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
        .flat_map(|s| s.failures().map(|(_, f)| f))
        .filter(|f| {
            f.kind == FailureKind::Assertion
                && f.counts()
                && f.level == Level::Documented
                && f.clause.is_none()
        })
        .count();
    let mut out = Vec::new();
    if !broken.is_empty() || unnamed > 0 {
        let mut s = "Not conformant to the documented contract:".to_owned();
        if !broken.is_empty() {
            s.push_str(&format!(" {} broken", with_statements(&broken)));
        }
        if unnamed > 0 {
            s.push_str(&format!(
                "{}{} that {} no clause (documented by default) failed",
                if broken.is_empty() { " " } else { "; " },
                plural(unnamed, "check"),
                if unnamed == 1 { "names" } else { "name" }
            ));
        }
        s.push('.');
        out.push(s);
    } else if documented > 0 && met.len() == documented {
        out.push(format!(
            "Conformant to the documented contract ({} met).",
            ids(&met)
        ));
    } else if documented > 0 {
        out.push(format!(
            "No documented clause broken{}, but not every documented clause was met.",
            if met.is_empty() {
                String::new()
            } else {
                format!(" ({} met)", ids(&met))
            }
        ));
    } else {
        out.push("No documented check failed.".to_owned());
    }
    let deviating = of(Level::Assumption, ClauseVerdict::Deviates);
    if !deviating.is_empty() {
        let strict = if r.policy.assumptions == Assumptions::Strict {
            " (--assumptions strict: they fail the run)"
        } else {
            ""
        };
        out.push(format!(
            "Deviates from {}{strict}: {}.",
            plural(deviating.len(), "assumption"),
            with_statements(&deviating)
        ));
    } else if assumptions > 0 {
        let met = of(Level::Assumption, ClauseVerdict::Met);
        out.push(if met.len() == assumptions {
            format!("No deviation from the assumptions ({} met).", ids(&met))
        } else {
            "No deviation from the assumptions exercised.".to_owned()
        });
    }
    let inconclusive: Vec<&ClauseRow> = rows
        .iter()
        .filter(|c| c.verdict == ClauseVerdict::Inconclusive)
        .collect();
    let unmet = of(Level::Precondition, ClauseVerdict::Unmet);
    if inconclusive.is_empty() && unmet.is_empty() {
        out.push("Inconclusive: none.".to_owned());
    } else {
        let mut parts = Vec::new();
        for p in &unmet {
            let guarded: Vec<&ClauseRow> = inconclusive
                .iter()
                .copied()
                .filter(|c| c.because.contains(&p.id))
                .collect();
            let what = if guarded.is_empty() {
                "nothing else".to_owned()
            } else {
                ids(&guarded)
            };
            parts.push(format!(
                "{what} ({} not met: {})",
                p.id,
                p.statement.trim_end_matches('.')
            ));
        }
        let rest: Vec<&ClauseRow> = inconclusive
            .iter()
            .copied()
            .filter(|c| !unmet.iter().any(|p| c.because.contains(&p.id)))
            .collect();
        if !rest.is_empty() {
            parts.push(ids(&rest));
        }
        out.push(format!("Inconclusive: {}.", parts.join("; ")));
    }
    let not_exercised: Vec<&ClauseRow> = rows
        .iter()
        .filter(|c| c.verdict == ClauseVerdict::NotExercised && c.level != Level::Precondition)
        .collect();
    if !not_exercised.is_empty() {
        out.push(format!("Not exercised: {}.", ids(&not_exercised)));
    }
    if errors > 0 {
        out.push(format!(
            "{} could not complete (transport, timeout, TLS): no verdict on what they check.",
            plural(errors, "scenario")
        ));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests;
