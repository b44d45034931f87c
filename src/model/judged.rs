//! The run's account of its contract checks: per check, how many steps'
//! last responses it judged, and how many it did not, by reason.
//!
//! Every step records which contract checks judged its last response
//! ([`ContractRecord`]); `report.json` keeps those records only in the
//! scenarios it writes whole (see [`super::lean`]), so the run states the
//! whole count once, in `contract.judged`: a green run still shows which
//! checks ran, which were skipped and why, without a record per step. It
//! counts every attempt (a scenario's `--retries` reruns too), so that
//! `conform merge` sums the reports' counts, shards and retries alike.

use serde::{Deserialize, Serialize};

use super::{ContractRecord, ScenarioResult, SkipReason};
use crate::contract::ContractCheck;

/// One contract check's count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckTally {
    pub check: ContractCheck,
    /// Steps whose last response the check judged.
    pub ran: u64,
    /// Steps whose last response it did not judge, by reason, in
    /// [`SkipReason`] order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedCount>,
}

/// Steps a check did not judge for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SkippedCount {
    pub reason: SkipReason,
    pub steps: u64,
}

/// Written with the reason's text (`why`), once per run: the step records
/// leave it out.
impl Serialize for SkippedCount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out {
            reason: SkipReason,
            why: &'static str,
            steps: u64,
        }
        Out {
            reason: self.reason,
            why: self.reason.text(),
            steps: self.steps,
        }
        .serialize(s)
    }
}

/// The count of `records`: one row per contract check, in
/// [`ContractCheck::ALL`] order.
pub fn tally<'a>(records: impl IntoIterator<Item = &'a ContractRecord>) -> Vec<CheckTally> {
    let mut out = empty();
    for r in records {
        for c in r.ran() {
            out[c.index()].ran += 1;
        }
        for (c, reason) in r.skipped() {
            add_skipped(&mut out[c.index()], reason, 1);
        }
    }
    out
}

/// The count of every step record of `scenarios`, earlier attempts
/// included.
pub fn of_scenarios(scenarios: &[ScenarioResult]) -> Vec<CheckTally> {
    let steps = scenarios.iter().flat_map(|s| {
        let reruns = s
            .reruns
            .iter()
            .flat_map(|r| r.steps.iter().chain(&r.finally));
        s.steps.iter().chain(&s.finally).chain(reruns)
    });
    tally(steps.filter_map(|st| st.contract.as_ref()))
}

/// `a` and `b` summed (either may be empty: a report without a contract).
pub fn sum(a: &[CheckTally], b: &[CheckTally]) -> Vec<CheckTally> {
    let mut out = empty();
    for t in a.iter().chain(b) {
        let row = &mut out[t.check.index()];
        row.ran += t.ran;
        for s in &t.skipped {
            add_skipped(row, s.reason, s.steps);
        }
    }
    out
}

fn empty() -> Vec<CheckTally> {
    ContractCheck::ALL
        .into_iter()
        .map(|check| CheckTally {
            check,
            ran: 0,
            skipped: Vec::new(),
        })
        .collect()
}

fn add_skipped(row: &mut CheckTally, reason: SkipReason, steps: u64) {
    match row.skipped.binary_search_by_key(&reason, |s| s.reason) {
        Ok(i) => row.skipped[i].steps += steps,
        Err(i) => row.skipped.insert(i, SkippedCount { reason, steps }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_counted_per_check_and_reason_and_sum() {
        let mut a = ContractRecord::default();
        a.set(ContractCheck::ResponseSchema, Some(SkipReason::NoContent));
        a.set(
            ContractCheck::UndocumentedProperty,
            Some(SkipReason::Disabled),
        );
        let b = ContractRecord::all(SkipReason::StepOptOut);
        let t = tally([&a, &a, &b]);
        let row = |t: &[CheckTally], c: ContractCheck| t[c.index()].clone();
        assert_eq!(row(&t, ContractCheck::UndocumentedStatus).ran, 2);
        let schema = row(&t, ContractCheck::ResponseSchema);
        assert_eq!(schema.ran, 0);
        assert_eq!(
            schema.skipped,
            [
                SkippedCount {
                    reason: SkipReason::StepOptOut,
                    steps: 1
                },
                SkippedCount {
                    reason: SkipReason::NoContent,
                    steps: 2
                },
            ]
        );
        let twice = sum(&t, &t);
        assert_eq!(row(&twice, ContractCheck::UndocumentedStatus).ran, 4);
        assert_eq!(
            row(&twice, ContractCheck::ResponseSchema).skipped[1].steps,
            4
        );
        assert_eq!(sum(&t, &[]), t);
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(
            json["skipped"][1],
            serde_json::json!({"reason": "no_content",
                "why": "the response is documented without content", "steps": 2})
        );
        let back: CheckTally = serde_json::from_value(json).unwrap();
        assert_eq!(back, schema);
    }
}
