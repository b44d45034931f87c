//! `conform merge`: the reports of sharded runs (`--partition K/N`) as one.
//!
//! Scenarios are the union (a scenario in several reports keeps the last
//! one's result); coverage hits are summed per operation and response;
//! provenance and policy come from the first report, the start is the
//! earliest and the duration the longest; the clause matrix and the verdict
//! are decided again from the merged scenarios (`verdict::finalize`, which
//! the caller runs). Reports of different contracts (by sha256), suites,
//! clause registries or newer format versions are refused unless told
//! otherwise (contracts only).

use std::collections::BTreeMap;

use crate::model::{Coverage, FORMAT_VERSION, RunResult};

/// Merges `reports` (name, result) in order.
pub fn merge(
    reports: Vec<(String, RunResult)>,
    allow_different_contracts: bool,
) -> Result<RunResult, String> {
    let mut iter = reports.into_iter();
    let Some((first_name, mut merged)) = iter.next() else {
        return Err("nothing to merge: give at least one report.json".into());
    };
    check_version(&first_name, &merged)?;
    merged.partition = None;
    let mut by_id: BTreeMap<std::sync::Arc<str>, crate::model::ScenarioResult> = merged
        .scenarios
        .drain(..)
        .map(|s| (s.id.clone(), s))
        .collect();
    for (name, r) in iter {
        check_version(&name, &r)?;
        if r.suite != merged.suite {
            return Err(format!(
                "{name} is a run of suite `{}`, not `{}`",
                r.suite, merged.suite
            ));
        }
        let clauses = |x: &RunResult| {
            x.clauses
                .iter()
                .map(|c| (c.id.clone(), c.level))
                .collect::<Vec<_>>()
        };
        if clauses(&r) != clauses(&merged) {
            return Err(format!(
                "{name} declares other clauses than {first_name}: the reports come from different suites"
            ));
        }
        let sha = |x: &RunResult| x.contract.as_ref().map(|c| c.sha256.clone());
        if sha(&r) != sha(&merged) && !allow_different_contracts {
            return Err(format!(
                "{name} was checked against another contract (sha256 {} vs {}); pass --allow-different-contracts to merge anyway",
                sha(&r).unwrap_or_else(|| "none".into()),
                sha(&merged).unwrap_or_else(|| "none".into())
            ));
        }
        if r.started_at < merged.started_at {
            merged.started_at = r.started_at.clone();
        }
        merged.duration_ms = merged.duration_ms.max(r.duration_ms);
        merged.interrupted |= r.interrupted;
        merged.coverage = match (merged.coverage.take(), r.coverage) {
            (Some(a), Some(b)) => Some(add_coverage(a, &b)),
            (a, b) => a.or(b),
        };
        by_id.extend(r.scenarios.into_iter().map(|s| (s.id.clone(), s)));
    }
    // Ids start with the file stem, so id order is the suite's file order.
    merged.scenarios = by_id.into_values().collect();
    merged.regression = None;
    Ok(merged)
}

fn check_version(name: &str, r: &RunResult) -> Result<(), String> {
    if r.format_version > FORMAT_VERSION {
        return Err(format!(
            "{name} has format_version {}, newer than this conform's {FORMAT_VERSION}",
            r.format_version
        ));
    }
    Ok(())
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
