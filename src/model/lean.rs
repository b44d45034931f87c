//! Lean scenarios: what `report.json` keeps of a scenario that passed.
//!
//! A passing scenario's steps hold nothing a reader of a failure needs (no
//! failure, no exchange: those are kept only when a step does not pass),
//! yet written out they were most of a green run's reports: seven steps of
//! the flagship took 3.5 KB of compact JSON. So a scenario that passed at
//! its first attempt ([`ScenarioResult::is_lean`]) is written with its
//! steps' totals instead ([`StepTotals`]): the requests they sent, the
//! statuses of their last responses, and the documented responses they
//! matched, counted. That is all that is derived from a passing scenario's
//! steps anywhere: coverage (`coverage::compute`, `merge`'s recount under
//! `--retries`) and the terminal's `cause:` line read the totals, of
//! recorded steps or read back alike, so a report of a run and a report of
//! its `report.json` (`conform diff`, `conform merge`) show the same. The
//! contract checks each step's response went through are counted once for
//! the run ([`super::judged`]).
//!
//! Every other scenario (failed, deviating, inconclusive, error, skipped,
//! interrupted, flaky) keeps its steps whole.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Outcome, ScenarioResult, StepResult};

/// What a scenario's steps (and `finally` steps) sent and matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTotals {
    /// Requests sent (attempts of a poll and pages of a walk included).
    pub requests: u32,
    /// How many steps that sent a request ended on each status (their last
    /// response's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statuses: BTreeMap<u16, u32>,
    /// The documented responses the steps matched, each with how many
    /// times, in the order first matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exercised: Vec<ExercisedCount>,
}

/// A documented response and how many times steps matched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExercisedCount {
    pub operation: Arc<str>,
    pub response: Arc<str>,
    pub hits: u32,
}

impl StepTotals {
    /// The totals of `steps`.
    pub fn of<'a>(steps: impl IntoIterator<Item = &'a StepResult>) -> StepTotals {
        let mut t = StepTotals::default();
        for st in steps {
            t.requests = t.requests.saturating_add(st.requests);
            if st.requests > 0
                && let Some(status) = st.status
            {
                *t.statuses.entry(status).or_default() += 1;
            }
            for e in &st.exercised {
                match t
                    .exercised
                    .iter_mut()
                    .find(|c| c.operation == e.operation && c.response == e.response)
                {
                    Some(c) => c.hits += 1,
                    None => t.exercised.push(ExercisedCount {
                        operation: e.operation.clone(),
                        response: e.response.clone(),
                        hits: 1,
                    }),
                }
            }
        }
        t
    }
}

impl ScenarioResult {
    /// Whether `report.json` keeps this scenario lean: it passed at its
    /// first attempt (no reruns, not flaky). Its steps' totals are written
    /// in place of its steps.
    pub fn is_lean(&self) -> bool {
        self.outcome == Outcome::Passed && !self.flaky && self.reruns.is_empty()
    }

    /// What the scenario's steps sent and matched: the recorded totals of a
    /// scenario read back lean, else counted from its steps.
    pub fn totals(&self) -> std::borrow::Cow<'_, StepTotals> {
        match &self.totals {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => std::borrow::Cow::Owned(StepTotals::of(self.steps.iter().chain(&self.finally))),
        }
    }

    /// The documented responses the scenario's steps matched, each with
    /// how many times (once per step and response for recorded steps).
    pub fn exercised(&self) -> impl Iterator<Item = (&str, &str, u32)> {
        let recorded = self
            .steps
            .iter()
            .chain(&self.finally)
            .flat_map(|st| &st.exercised)
            .map(|e| (&*e.operation, &*e.response, 1));
        let lean = self
            .totals
            .iter()
            .flat_map(|t| &t.exercised)
            .map(|e| (&*e.operation, &*e.response, e.hits));
        recorded.chain(lean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exercised, SourceLocation};

    fn step(requests: u32, status: Option<u16>, exercised: &[(&str, &str)]) -> StepResult {
        StepResult {
            requests,
            status,
            exercised: exercised
                .iter()
                .map(|(o, r)| Exercised {
                    operation: (*o).into(),
                    response: (*r).into(),
                })
                .collect(),
            ..StepResult::new("s", SourceLocation::new("f.yaml", 1, 1))
        }
    }

    #[test]
    fn totals_count_requests_statuses_and_responses_matched() {
        let steps = [
            step(1, Some(200), &[("Create", "200")]),
            step(3, Some(200), &[("Get", "200"), ("Get", "default")]),
            step(0, None, &[]),
            step(1, Some(401), &[("Get", "200")]),
        ];
        let t = StepTotals::of(&steps);
        assert_eq!(t.requests, 5);
        assert_eq!(t.statuses, BTreeMap::from([(200, 2), (401, 1)]));
        let hits: Vec<(&str, &str, u32)> = t
            .exercised
            .iter()
            .map(|e| (&*e.operation, &*e.response, e.hits))
            .collect();
        assert_eq!(
            hits,
            [
                ("Create", "200", 1),
                ("Get", "200", 2),
                ("Get", "default", 1)
            ]
        );
    }
}
