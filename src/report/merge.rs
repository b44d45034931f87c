//! `conform merge`: the reports of sharded runs (`--partition K/N`) as one,
//! or, with `retries`, successive attempts of one run as its last word.
//!
//! Scenarios are the union. Shards never share a scenario, so one in two
//! reports is refused (and a report given twice, by the same path or
//! another); with `retries` the reports are attempts in order, the later
//! result of a scenario wins, earlier failed attempts become its `reruns`,
//! and one that failed and then passed is flaky, as under `run --retries`.
//! Coverage hits are summed per operation and response (with `retries`,
//! counted again from the winning results, so a scenario run twice counts
//! once); the contract checks' count (`contract.judged`) is summed, shards
//! and retries alike, since it counts every attempt; provenance and policy
//! come from the first report, the start is the earliest, and the duration
//! the longest (shards run side by side) or, with `retries`, the sum. The clause matrix and the verdict are decided
//! again from the merged scenarios (`verdict::finalize`, which the caller
//! runs). Reports of different contracts (by sha256), suites or clause
//! registries are refused unless told otherwise (contracts only); newer
//! format versions are refused by the reader ([`super::json::read`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::model::{Coverage, Outcome, Rerun, RunResult, ScenarioResult};

/// How reports are merged.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeOptions {
    /// Merge reports checked against different contracts.
    pub allow_different_contracts: bool,
    /// The reports are successive attempts of one run: later ones win per
    /// scenario, and a scenario that failed and then passed is flaky.
    pub retries: bool,
}

/// Why reports could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give at least one report.json")]
    Empty,
    #[error("{first} and {second} are the same file ({canonical}): give each report to merge once")]
    SameFile {
        first: String,
        second: String,
        canonical: String,
    },
    #[error(transparent)]
    Read(#[from] super::json::ReadError),
    #[error("{name} is a run of suite `{found}`, not `{expected}`")]
    OtherSuite {
        name: String,
        found: String,
        expected: String,
    },
    #[error("{name} declares other clauses than {first}: the reports come from different suites")]
    OtherClauses { name: String, first: String },
    #[error(
        "{name} was checked against another contract (sha256 {found} vs {expected}); pass --allow-different-contracts to merge anyway"
    )]
    OtherContract {
        name: String,
        found: String,
        expected: String,
    },
    #[error(
        "scenario `{id}` is in both {first} and {second}{}: shards of one run never share a scenario; if the later reports are retries of the earlier ones, pass --retries (later reports win; a scenario that failed and then passed is flaky)",
        and_more(*.more)
    )]
    Duplicate {
        id: String,
        first: String,
        second: String,
        /// Other scenarios the second report shares with earlier ones.
        more: usize,
    },
    #[error("scenario `{id}` is in {name} twice: a report holds each scenario once")]
    Repeated { id: String, name: String },
}

fn and_more(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " (and 1 more scenario)".into(),
        n => format!(" (and {n} more scenarios)"),
    }
}

/// Reads the report.json files at `paths` and merges them in order. A file
/// given twice (the same file by its canonical path) is refused before
/// anything is read.
pub fn merge_files(paths: &[PathBuf], opts: MergeOptions) -> Result<Merged, MergeError> {
    let mut seen: BTreeMap<PathBuf, &PathBuf> = BTreeMap::new();
    for p in paths {
        // A path that does not resolve is left to the reader to report.
        if let Ok(canonical) = std::fs::canonicalize(p)
            && let Some(first) = seen.insert(canonical.clone(), p)
        {
            return Err(MergeError::SameFile {
                first: first.display().to_string(),
                second: p.display().to_string(),
                canonical: canonical.display().to_string(),
            });
        }
    }
    let mut reports = Vec::with_capacity(paths.len());
    let (mut bodies, mut missing, mut taken) = (Vec::new(), Vec::new(), Default::default());
    for p in paths {
        let mut r = super::json::read(p)?;
        let dir = p.parent().unwrap_or(std::path::Path::new(""));
        let (found, absent) = super::bodies::adopt(&mut r, dir, &mut taken);
        bodies.extend(found);
        missing.extend(absent);
        reports.push((p.display().to_string(), r));
    }
    let mut result = merge(reports, opts)?;
    // Only the bodies of the exchanges the merged result keeps.
    let kept = super::bodies::referenced(&mut result);
    bodies.retain(|b| kept.contains(&b.name));
    Ok(Merged {
        result,
        bodies,
        missing,
    })
}

/// A merge of report files, and the body files its curl lines send.
#[derive(Debug)]
pub struct Merged {
    pub result: RunResult,
    /// The body files of the merged reports, each from beside its report
    /// (see [`super::bodies::adopt`]).
    pub bodies: Vec<super::bodies::BodyFile>,
    /// Body files a report names that are not beside it.
    pub missing: Vec<PathBuf>,
}

/// Merges `reports` (name, result) in order.
pub fn merge(
    reports: Vec<(String, RunResult)>,
    opts: MergeOptions,
) -> Result<RunResult, MergeError> {
    let mut iter = reports.into_iter();
    let Some((first_name, mut merged)) = iter.next() else {
        return Err(MergeError::Empty);
    };
    merged.partition = None;
    // A new set, written in this conform's format.
    merged.format_version = crate::model::FORMAT_VERSION;
    let first_scenarios = std::mem::take(&mut merged.scenarios);
    let mut names = vec![first_name];
    let mut by_id = BTreeMap::new();
    add(&mut by_id, &names, first_scenarios, opts.retries)?;
    for (name, r) in iter {
        if r.suite != merged.suite {
            return Err(MergeError::OtherSuite {
                name,
                found: r.suite,
                expected: merged.suite,
            });
        }
        let clauses = |x: &RunResult| {
            x.clauses
                .iter()
                .map(|c| (c.id.clone(), c.level))
                .collect::<Vec<_>>()
        };
        if clauses(&r) != clauses(&merged) {
            return Err(MergeError::OtherClauses {
                name,
                first: names[0].clone(),
            });
        }
        let sha = |x: &RunResult| x.contract.as_ref().map(|c| c.sha256.clone());
        if sha(&r) != sha(&merged) && !opts.allow_different_contracts {
            return Err(MergeError::OtherContract {
                name,
                found: sha(&r).unwrap_or_else(|| "none".into()),
                expected: sha(&merged).unwrap_or_else(|| "none".into()),
            });
        }
        if r.started_at < merged.started_at {
            merged.started_at = r.started_at.clone();
        }
        merged.interrupted |= r.interrupted;
        // Every attempt's contract records count, shards and retries alike.
        if let (Some(m), Some(c)) = (&mut merged.contract, &r.contract) {
            m.judged = crate::model::judged::sum(&m.judged, &c.judged);
        }
        if opts.retries {
            merged.duration_ms += r.duration_ms;
            merged.coverage = merged.coverage.take().or(r.coverage);
        } else {
            merged.duration_ms = merged.duration_ms.max(r.duration_ms);
            merged.coverage = match (merged.coverage.take(), r.coverage) {
                (Some(a), Some(b)) => Some(add_coverage(a, &b)),
                (a, b) => a.or(b),
            };
        }
        names.push(name);
        add(&mut by_id, &names, r.scenarios, opts.retries)?;
    }
    // Ids start with the file stem, so id order is the suite's file order.
    merged.scenarios = by_id.into_values().map(|(_, s)| s).collect();
    if opts.retries {
        // An attempt stopped by Ctrl-C is settled by a later one that ran
        // what it left.
        merged.interrupted = merged
            .scenarios
            .iter()
            .any(|s| s.outcome == Outcome::Interrupted);
        merged.coverage = merged.coverage.map(|c| recount(c, &merged.scenarios));
    }
    merged.regression = None;
    // A new set of reports: its own run id.
    merged.run_id = crate::model::new_run_id(std::time::SystemTime::now());
    Ok(merged)
}

/// Adds the scenarios of the last report of `names` to `by_id` (id → index
/// of the report it came from, result).
fn add(
    by_id: &mut BTreeMap<Arc<str>, (usize, ScenarioResult)>,
    names: &[String],
    scenarios: Vec<ScenarioResult>,
    retries: bool,
) -> Result<(), MergeError> {
    let at = names.len() - 1;
    let mut own = BTreeSet::new();
    let mut shared = Vec::new();
    for s in &scenarios {
        if !own.insert(&s.id) {
            return Err(MergeError::Repeated {
                id: s.id.to_string(),
                name: names[at].clone(),
            });
        }
        if let Some((from, _)) = by_id.get(&s.id) {
            shared.push((&s.id, *from));
        }
    }
    if !retries && let Some((id, from)) = shared.first() {
        return Err(MergeError::Duplicate {
            id: id.to_string(),
            first: names[*from].clone(),
            second: names[at].clone(),
            more: shared.len() - 1,
        });
    }
    for s in scenarios {
        let s = match by_id.remove(&s.id) {
            Some((_, earlier)) => retried(earlier, s),
            None => s,
        };
        by_id.insert(s.id.clone(), (at, s));
    }
    Ok(())
}

/// A scenario's `later` attempt, with the failed attempts of `earlier`
/// (its reruns, then itself when it failed) before its own reruns; flaky
/// when it passed after failing, as `run --retries` marks it.
fn retried(earlier: ScenarioResult, mut later: ScenarioResult) -> ScenarioResult {
    let mut reruns = earlier.reruns;
    if matches!(earlier.outcome, Outcome::Failed | Outcome::Error) {
        reruns.push(Rerun {
            outcome: earlier.outcome,
            duration_ms: earlier.duration_ms,
            trace_id: earlier.trace_id,
            steps: earlier.steps,
            finally: earlier.finally,
        });
    }
    reruns.append(&mut later.reruns);
    later.reruns = reruns;
    later.flaky = later.outcome == Outcome::Passed && !later.reruns.is_empty();
    later
}

/// Sums the hits of `b` into `a` (same contract: same operations and keys).
fn add_coverage(mut a: Coverage, b: &Coverage) -> Coverage {
    for op in &mut a.operations {
        if let Some(other) = b.operations.iter().find(|o| o.operation == op.operation) {
            for resp in &mut op.responses {
                if let Some(x) = other.responses.iter().find(|x| x.key == resp.key) {
                    resp.hits += x.hits;
                }
            }
        }
    }
    totals(a)
}

/// The hits of `c`'s operations and responses counted again from the steps
/// (or lean totals) of `scenarios`, as `coverage::compute` counts them.
fn recount(mut c: Coverage, scenarios: &[ScenarioResult]) -> Coverage {
    let hits = crate::model::coverage::hits(scenarios);
    for op in &mut c.operations {
        for resp in &mut op.responses {
            resp.hits = hits
                .get(&(op.operation.as_str(), resp.key.as_str()))
                .copied()
                .unwrap_or(0);
        }
    }
    totals(c)
}

/// `covered` and `percent` from the hits.
fn totals(mut a: Coverage) -> Coverage {
    a.covered = a
        .operations
        .iter()
        .flat_map(|o| &o.responses)
        .filter(|r| r.hits > 0)
        .count();
    a.percent = if a.total == 0 {
        100.0
    } else {
        a.covered as f64 * 100.0 / a.total as f64
    };
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> RunResult {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/reports")
            .join(name);
        crate::report::json::read(&path).expect("the fixture reads")
    }

    const RETRIES: MergeOptions = MergeOptions {
        allow_different_contracts: false,
        retries: true,
    };

    #[test]
    fn a_merge_has_a_run_id_of_its_own() {
        let mut a = fixture("passing.json");
        a.run_id = "20261128T090000Z-1-00000001".into();
        let mut b = fixture("passing.json");
        b.run_id = "20261128T090000Z-2-00000002".into();
        let m = merge(
            vec![("a".into(), a.clone()), ("b".into(), b.clone())],
            RETRIES,
        )
        .unwrap();
        assert!(!m.run_id.is_empty());
        assert_ne!(m.run_id, a.run_id);
        assert_ne!(m.run_id, b.run_id);
    }

    #[test]
    fn a_retry_settles_an_interruption_which_is_no_failure() {
        let mut first = fixture("passing.json");
        first.interrupted = true;
        first.scenarios[0].outcome = Outcome::Interrupted;
        let mut second = fixture("passing.json");
        second.scenarios.truncate(1);
        let alone = merge(vec![("a".into(), first.clone())], RETRIES).unwrap();
        assert!(alone.interrupted);
        let m = merge(vec![("a".into(), first), ("b".into(), second)], RETRIES).unwrap();
        assert!(!m.interrupted);
        assert_eq!(m.scenarios[0].outcome, Outcome::Passed);
        assert!(!m.scenarios[0].flaky && m.scenarios[0].reruns.is_empty());
    }

    #[test]
    fn an_error_then_a_pass_is_flaky_and_the_durations_add_up() {
        let mut first = fixture("passing.json");
        first.scenarios[0].outcome = Outcome::Error;
        let mut second = fixture("passing.json");
        second.scenarios.truncate(1);
        let total = first.duration_ms + second.duration_ms;
        let m = merge(vec![("a".into(), first), ("b".into(), second)], RETRIES).unwrap();
        assert!(m.scenarios[0].flaky);
        assert_eq!(m.scenarios[0].reruns[0].outcome, Outcome::Error);
        assert_eq!(m.duration_ms, total);
    }

    #[test]
    fn a_scenario_twice_in_one_report_is_refused_even_as_retries() {
        let mut r = fixture("passing.json");
        r.scenarios.push(r.scenarios[0].clone());
        let e = merge(vec![("a.json".into(), r)], RETRIES).unwrap_err();
        assert!(matches!(e, MergeError::Repeated { .. }), "{e}");
        assert!(e.to_string().contains("is in a.json twice"), "{e}");
    }
}
