//! The result model: everything a run found, the one source every report
//! (JSON, JUnit, HTML, Markdown, terminal) is projected from.
//!
//! Memory stays proportional to the number of steps: the request and
//! response of a step are kept only when the step fails.

use serde::{Deserialize, Serialize};

pub use crate::case::SourceLocation;

/// Version of the serialised model (`report.json`).
pub const FORMAT_VERSION: u32 = 1;

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub format_version: u32,
    /// `conform <version>`.
    pub tool: String,
    pub suite: String,
    pub base_url: String,
    /// Whether the run used the embedded reference server.
    pub embedded_server: bool,
    /// `K/N` when the run was one partition of N (`--partition`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Ctrl-C stopped the run: scenarios not started are recorded as interrupted.
    #[serde(default)]
    pub interrupted: bool,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub duration_ms: f64,
    /// The contract responses were checked against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractInfo>,
    /// Which documented responses the run exercised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// The comparison with a baseline run (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression: Option<Regression>,
    pub scenarios: Vec<ScenarioResult>,
}

/// Today's run against a baseline: scenario ids in each group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Regression {
    /// The baseline report, as given.
    pub baseline: String,
    /// When the baseline ran.
    pub baseline_started_at: String,
    /// Failing now, passing (or flaky) in the baseline.
    pub new_failures: Vec<String>,
    /// Passing now, failing in the baseline.
    pub fixed: Vec<String>,
    /// Failing in both.
    pub still_failing: Vec<String>,
    /// Not in the baseline.
    pub added: Vec<String>,
    /// In the baseline only.
    pub removed: Vec<String>,
}

/// The contract of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractInfo {
    pub file: String,
    /// `OpenAPI 3.0`, `OpenAPI 3.1` or `Swagger 2.0`, and the version given.
    pub dialect: String,
    /// SHA-256 of the contract file, hex.
    pub sha256: String,
    /// The contract checks that ran.
    pub checks: Vec<String>,
}

/// Operations × documented responses, and which the run exercised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coverage {
    pub covered: usize,
    pub total: usize,
    pub percent: f64,
    pub operations: Vec<OperationCoverage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperationCoverage {
    pub operation: String,
    pub method: String,
    pub path: String,
    pub responses: Vec<ResponseCoverage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResponseCoverage {
    /// `200`, `4XX`, `default`.
    pub key: String,
    /// Steps whose responses matched it.
    pub hits: u32,
}

/// A documented response a step's responses matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Exercised {
    /// Shared with the contract: thousands of steps name the same few.
    pub operation: std::sync::Arc<str>,
    pub response: std::sync::Arc<str>,
}

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// An assertion or contract check failed.
    Failed,
    /// A runtime problem (transport, timeout) and no assertion failed.
    Error,
    Skipped,
    /// Ctrl-C stopped the run before or while the scenario ran.
    Interrupted,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// `<file stem>::<name>`.
    pub id: std::sync::Arc<str>,
    pub name: std::sync::Arc<str>,
    pub file: std::sync::Arc<str>,
    pub location: SourceLocation,
    pub tags: Vec<String>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    pub duration_ms: f64,
    pub steps: Vec<StepResult>,
    pub finally: Vec<StepResult>,
    /// Passed after failing: earlier attempts are in `reruns`.
    #[serde(default)]
    pub flaky: bool,
    /// Earlier attempts of a scenario run again by `--retries`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reruns: Vec<Rerun>,
}

/// An earlier, failed attempt of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rerun {
    pub outcome: Outcome,
    pub duration_ms: f64,
    pub steps: Vec<StepResult>,
    pub finally: Vec<StepResult>,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    Failed,
    Error,
    Skipped,
}

/// One step's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResult {
    pub name: String,
    pub location: SourceLocation,
    pub outcome: StepOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    pub duration_ms: f64,
    /// Requests sent by the step (attempts of a poll, pages of a walk).
    pub requests: u32,
    /// Status of the last response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
    /// The last request and response, kept when the step did not pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Box<Exchange>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Box<PollRecord>>,
    /// Documented responses this step's responses matched (for coverage).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exercised: Vec<Exercised>,
}

/// Whether the server broke the contract or the harness could not find out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The response contradicts an expectation or the contract (exit 1).
    Assertion,
    /// Transport, timeout, TLS: no verdict on the contract (exit 3).
    Runtime,
}

/// One failed check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// The check's stable name (`status_code`, `empty_body`, `json_path`, ...).
    pub check: String,
    pub kind: FailureKind,
    /// One line.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// Where the failed expectation is written.
    pub location: SourceLocation,
}

/// A request as it may be shown (secrets masked).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A response as it may be shown (secrets masked, body truncated).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text, cut at [`crate::runner::SHOWN_BODY_BYTES`].
    pub body: String,
    /// Size of the whole body.
    pub body_bytes: usize,
    pub truncated: bool,
    pub duration_ms: f64,
}

/// The last exchange of a step that did not pass.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// A curl command reproducing the request, the token as `$VAR`.
    pub curl: String,
}

/// What a poll saw.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PollRecord {
    pub attempts: u32,
    pub elapsed_ms: f64,
    /// Runs of equal observations: `RUNNING ×34`.
    pub history: Vec<HistoryRun>,
}

/// Consecutive attempts that saw the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRun {
    pub observed: String,
    pub count: u32,
}

impl PollRecord {
    /// `PENDING ×3 → RUNNING ×34`.
    pub fn compact(&self) -> String {
        self.history
            .iter()
            .map(|h| {
                if h.count == 1 {
                    h.observed.clone()
                } else {
                    format!("{} ×{}", h.observed, h.count)
                }
            })
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Records one attempt's observation.
    pub fn observe(&mut self, observed: String) {
        self.attempts += 1;
        match self.history.last_mut() {
            Some(last) if last.observed == observed => last.count += 1,
            _ => self.history.push(HistoryRun { observed, count: 1 }),
        }
    }
}

impl ScenarioResult {
    /// All failures of the scenario, steps then `finally`.
    pub fn failures(&self) -> impl Iterator<Item = (&StepResult, &Failure)> {
        self.steps
            .iter()
            .chain(&self.finally)
            .flat_map(|s| s.failures.iter().map(move |f| (s, f)))
    }
}

impl RunResult {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.scenarios
            .iter()
            .filter(|s| s.outcome == outcome)
            .count()
    }

    /// The exit code this result calls for (see `exit_code`).
    pub fn exit_code(&self) -> u8 {
        use crate::exit_code::*;
        if self.count(Outcome::Failed) > 0 {
            FAILED
        } else if self.count(Outcome::Error) > 0 {
            RUNTIME_ERROR
        } else {
            PASSED
        }
    }
}

/// Milliseconds as a float with microsecond precision.
pub fn ms(d: std::time::Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_compacted_into_runs() {
        let mut p = PollRecord {
            attempts: 0,
            elapsed_ms: 0.0,
            history: vec![],
        };
        for s in [
            "PENDING", "PENDING", "RUNNING", "RUNNING", "RUNNING", "UNKNOWN",
        ] {
            p.observe(s.into());
        }
        assert_eq!(p.attempts, 6);
        assert_eq!(p.compact(), "PENDING ×2 → RUNNING ×3 → UNKNOWN");
    }
}
