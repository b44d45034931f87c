//! The model as `report.json` holds it: format version 3
//! ([`FORMAT_VERSION`]), compact, and readable back into the same model;
//! versions 1 and 2 read too.
//!
//! Version 3 leaves out what a reader can derive, and what a passing
//! scenario's steps repeat:
//!
//! - A scenario that passed at its first attempt is lean
//!   ([`ScenarioResult::is_lean`]): no `steps` and `finally`, but its
//!   steps' totals (`requests`, `statuses`, `exercised` with `hits`: see
//!   [`super::lean`]). Read back, its steps are empty and `totals` holds
//!   those. Every other scenario keeps its steps, failures, exchanges and
//!   poll history whole.
//! - A scenario's `location` leaves out `file` when it is the scenario's
//!   own `file`.
//! - A scenario's `clauses` write a met clause as its id alone (`"D1"`),
//!   any other as `{id, verdict, because}`.
//! - `flaky` is written only when true.
//! - A `met` row of the clause matrix names no scenarios (with thousands of
//!   passing scenarios, those lists were a fifth of the file): reading
//!   fills them in from the scenarios whose own `clauses` say `met`, as
//!   `verdict::decide` lists them. Other rows name theirs.
//! - A step's contract record leaves out the checks turned off for the
//!   run and each reason's text (see `RecordJson`); the run's
//!   `contract.judged` counts every step's record once
//!   ([`super::judged`]). Reading a version 1 or 2 report counts it from
//!   the records of its steps.
//! - `format_version` is written as [`FORMAT_VERSION`] whatever version
//!   was read: what is written is always this layout.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{
    ClauseRow, ClauseVerdict, ExercisedCount, FORMAT_VERSION, Level, Outcome, Rerun, RunResult,
    ScenarioClause, ScenarioResult, SourceLocation, StepResult, StepTotals, TraceId,
};

/// Writes `format_version` as this conform's version.
pub(super) fn current_version<S: serde::Serializer>(_: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u32(FORMAT_VERSION)
}

impl Serialize for RunResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RunResult::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for RunResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut r = RunResult::deserialize(d)?;
        fill_met_rows(&mut r);
        if let Some(c) = &mut r.contract
            && c.judged.is_empty()
        {
            c.judged = super::judged::of_scenarios(&r.scenarios);
        }
        Ok(r)
    }
}

/// Names, in each `met` row of the clause matrix that names none, the
/// scenarios that met the clause, in scenario order.
fn fill_met_rows(r: &mut RunResult) {
    let mut met: HashMap<&str, Vec<Arc<str>>> = HashMap::new();
    let wanted = |row: &ClauseRow| row.verdict == ClauseVerdict::Met && row.scenarios.is_empty();
    if !r.clauses.iter().any(wanted) {
        return;
    }
    for s in &r.scenarios {
        for c in s.clauses.iter().filter(|c| c.verdict == ClauseVerdict::Met) {
            met.entry(&c.id).or_default().push(s.id.clone());
        }
    }
    for row in &mut r.clauses {
        if wanted(row)
            && let Some(ids) = met.remove(&*row.id)
        {
            row.scenarios = ids;
        }
    }
}

impl Serialize for ClauseRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            id: &'a str,
            level: Level,
            statement: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            source: Option<&'a str>,
            verdict: ClauseVerdict,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            scenarios: &'a [Arc<str>],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            because: &'a [Arc<str>],
        }
        let scenarios: &[Arc<str>] = if self.verdict == ClauseVerdict::Met {
            &[]
        } else {
            &self.scenarios
        };
        Out {
            id: &self.id,
            level: self.level,
            statement: &self.statement,
            source: self.source.as_deref(),
            verdict: self.verdict,
            scenarios,
            because: &self.because,
        }
        .serialize(s)
    }
}

/// A scenario's clause as written: an id (met), or the whole record.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ClauseJson {
    Met(Arc<str>),
    Other {
        id: Arc<str>,
        verdict: ClauseVerdict,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<Arc<str>>,
    },
}

impl Serialize for ScenarioClause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.verdict, &self.because) {
            (ClauseVerdict::Met, None) => ClauseJson::Met(self.id.clone()),
            _ => ClauseJson::Other {
                id: self.id.clone(),
                verdict: self.verdict,
                because: self.because.clone(),
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ScenarioClause {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match ClauseJson::deserialize(d)? {
            ClauseJson::Met(id) => ScenarioClause {
                id,
                verdict: ClauseVerdict::Met,
                because: None,
            },
            ClauseJson::Other {
                id,
                verdict,
                because,
            } => ScenarioClause {
                id,
                verdict,
                because,
            },
        })
    }
}

/// A scenario's location as written: `file` left out when it is the
/// scenario's file.
#[derive(Serialize)]
struct LocationOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    line: u32,
    column: u32,
}

/// A scenario's location as read: without `file`, the scenario's.
#[derive(Deserialize)]
struct LocationIn {
    #[serde(default)]
    file: Option<String>,
    line: u32,
    column: u32,
}

/// A scenario as written.
#[derive(Serialize)]
struct ScenarioOut<'a> {
    id: &'a str,
    name: &'a str,
    file: &'a str,
    location: LocationOut<'a>,
    tags: &'a [String],
    outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    skip_reason: Option<&'a str>,
    duration_ms: f64,
    #[serde(skip_serializing_if = "TraceId::is_none")]
    trace_id: TraceId,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<&'a [StepResult]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finally: Option<&'a [StepResult]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statuses: Option<&'a BTreeMap<u16, u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exercised: Option<&'a [ExercisedCount]>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    clauses: &'a [ScenarioClause],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    flaky: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    reruns: &'a [Rerun],
}

impl Serialize for ScenarioResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let lean = self.is_lean();
        // A lean scenario's totals; a whole one's when it was read lean
        // (its steps are not recorded) and is lean no more (a merge made
        // it flaky).
        let totals: Option<Cow<'_, StepTotals>> = if lean {
            Some(self.totals())
        } else {
            self.totals.as_deref().map(Cow::Borrowed)
        };
        let totals = totals.as_deref();
        let file = (*self.location.file != *self.file).then_some(&*self.location.file);
        ScenarioOut {
            id: &self.id,
            name: &self.name,
            file: &self.file,
            location: LocationOut {
                file,
                line: self.location.line,
                column: self.location.column,
            },
            tags: &self.tags,
            outcome: self.outcome,
            skip_reason: self.skip_reason.as_deref(),
            duration_ms: self.duration_ms,
            trace_id: self.trace_id,
            steps: (!lean).then_some(&self.steps[..]),
            finally: (!lean).then_some(&self.finally[..]),
            requests: totals.map(|t| t.requests),
            statuses: totals.map(|t| &t.statuses),
            exercised: totals.map(|t| &t.exercised[..]),
            clauses: &self.clauses,
            flaky: self.flaky,
            reruns: &self.reruns,
        }
        .serialize(s)
    }
}

/// A scenario as read: any version.
#[derive(Deserialize)]
struct ScenarioIn {
    id: Arc<str>,
    name: Arc<str>,
    file: Arc<str>,
    location: LocationIn,
    tags: Vec<String>,
    outcome: Outcome,
    #[serde(default)]
    skip_reason: Option<String>,
    duration_ms: f64,
    #[serde(default)]
    trace_id: TraceId,
    #[serde(default)]
    steps: Vec<StepResult>,
    #[serde(default)]
    finally: Vec<StepResult>,
    #[serde(default)]
    requests: Option<u32>,
    #[serde(default)]
    statuses: BTreeMap<u16, u32>,
    #[serde(default)]
    exercised: Vec<ExercisedCount>,
    #[serde(default)]
    clauses: Vec<ScenarioClause>,
    #[serde(default)]
    flaky: bool,
    #[serde(default)]
    reruns: Vec<Rerun>,
}

impl<'de> Deserialize<'de> for ScenarioResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = ScenarioIn::deserialize(d)?;
        let location = SourceLocation {
            file: match w.location.file {
                Some(f) if *f != *w.file => Arc::from(f),
                _ => w.file.clone(),
            },
            line: w.location.line,
            column: w.location.column,
        };
        // Totals stand for steps that are not recorded: written lean.
        let totals = w.requests.map(|requests| {
            Box::new(StepTotals {
                requests,
                statuses: w.statuses,
                exercised: w.exercised,
            })
        });
        Ok(ScenarioResult {
            id: w.id,
            name: w.name,
            file: w.file,
            location,
            tags: w.tags,
            outcome: w.outcome,
            skip_reason: w.skip_reason,
            duration_ms: w.duration_ms,
            trace_id: w.trace_id,
            steps: w.steps,
            finally: w.finally,
            totals,
            clauses: w.clauses,
            flaky: w.flaky,
            reruns: w.reruns,
        })
    }
}
