//! The result model: everything a run found, the one source every report
//! (JSON, JUnit, HTML, Markdown, terminal) is projected from.
//!
//! Memory stays proportional to the number of steps: the request and
//! response of a step are kept only when the step fails.
//!
//! How the model reads and writes as `report.json` is `wire`'s: a
//! passing scenario is written lean (see [`ScenarioResult::is_lean`]), and
//! what a lean record leaves out is derived again when it is read.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub mod coverage;
pub mod verdict;

pub mod check;
pub mod judged;
pub mod lean;
mod wire;

use crate::contract::ContractCheck;
pub use crate::http::trace::TraceId;
pub use check::Check;
pub use judged::{CheckTally, SkippedCount};
pub use lean::{ExercisedCount, StepTotals};

pub use crate::clause::{Assumptions, Level};
pub use crate::diag::SourceLocation;

/// Version of the serialised model (`report.json`). Version 2 added
/// clauses, levels, the policy and the verdict; version 3 writes a passing
/// scenario lean (its steps' totals, not its steps), the clause matrix's
/// `met` rows without their scenarios, locations without the scenario's
/// own file, and the contract checks' account once per run (see
/// `wire`). Versions 1 (as runs without clauses) and 2 still read.
pub const FORMAT_VERSION: u32 = 3;

/// A new run id: the UTC time `at` to the second, the process id and 32
/// random bits, as `20261129T011857Z-4242-1a2b3c4d`. Unique between runs
/// of one machine (and, with the random part, between machines); sorts by
/// time as text.
pub fn new_run_id(at: std::time::SystemTime) -> String {
    let stamp: String = humantime::format_rfc3339_seconds(at)
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    // Should the system give no randomness, time and process id still
    // tell this machine's runs apart.
    let mut random = [0_u8; 4];
    let _ = getrandom::fill(&mut random);
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{stamp}-{}-{hex}", std::process::id())
}

/// A whole run. Read through `wire`, which derives what a `report.json`
/// leaves out; written with `format_version` set to [`FORMAT_VERSION`],
/// whatever version was read: the layout written is always the current one.
/// (`serde(remote = "Self")` makes the derived code the inherent
/// `RunResult::serialize` and `RunResult::deserialize`, which the `Serialize`
/// and `Deserialize` impls in `wire` wrap.)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct RunResult {
    #[serde(serialize_with = "wire::current_version")]
    pub format_version: u32,
    /// `conform <version>`.
    pub tool: String,
    /// Names this run (or this merge) and the set of reports it wrote: every
    /// file of the set carries it (see `report`). Empty in reports written
    /// before it existed. See [`new_run_id`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub run_id: String,
    pub suite: String,
    /// SHA-256 of the suite: `conform.yaml` and every scenario file, by name
    /// and content in file order (hex; empty when unknown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub suite_sha256: String,
    pub base_url: String,
    /// The suite's named servers and the URL each request naming one went
    /// to (userinfo left out).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub servers: std::collections::BTreeMap<String, String>,
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
    /// What makes the run fail besides a broken documented clause.
    #[serde(default)]
    pub policy: Policy,
    /// The clause matrix: one row per clause of the suite's registry, in
    /// the order written (empty when the suite declares no clauses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clauses: Vec<ClauseRow>,
    /// The verdict these results and the policy call for (derived: see
    /// `verdict::Verdict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<crate::model::verdict::Verdict>,
    pub scenarios: Vec<ScenarioResult>,
}

/// Which failures fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Every failing scenario (the default).
    #[default]
    All,
    /// Only scenarios failing now that did not fail in the baseline.
    Regressions,
}

/// What makes a run fail besides a broken documented clause, as asked on
/// the command line and in the suite: kept in the result so that `merge`,
/// `diff` and every report reach the same verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// `strict`: deviations from assumptions fail the run.
    #[serde(default)]
    pub assumptions: Assumptions,
    /// `regressions`: only scenarios failing anew fail the run.
    #[serde(default)]
    pub gate: Gate,
    /// A scenario that passed only on a rerun fails the run.
    #[serde(default)]
    pub fail_on_flaky: bool,
    /// Exit 4 when contract coverage is below this percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_coverage: Option<f64>,
    /// Exit 4 when fewer than this percentage of the documented clauses are met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_clauses: Option<f64>,
}

/// What a run (or a scenario) showed of one clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClauseVerdict {
    /// Exercised, and every check of it held.
    Met,
    /// A documented clause a check found broken.
    Broken,
    /// An assumption the server differs from.
    Deviates,
    /// A precondition that did not hold.
    Unmet,
    /// Not exercised for want of a precondition.
    Inconclusive,
    /// No scenario that ran checked it.
    NotExercised,
}

impl ClauseVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ClauseVerdict::Met => "met",
            ClauseVerdict::Broken => "broken",
            ClauseVerdict::Deviates => "deviates",
            ClauseVerdict::Unmet => "unmet",
            ClauseVerdict::Inconclusive => "inconclusive",
            ClauseVerdict::NotExercised => "not exercised",
        }
    }
}

impl std::fmt::Display for ClauseVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the clause matrix. In `report.json` a `met` row names no
/// scenarios: those are the scenarios whose own `clauses` say `met`, and
/// reading fills them in (see `wire`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClauseRow {
    pub id: Arc<str>,
    pub level: Level,
    pub statement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub verdict: ClauseVerdict,
    /// The scenarios that decided the verdict (for `met`, those that met it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<Arc<str>>,
    /// For an inconclusive clause: the preconditions that were not met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub because: Vec<Arc<str>>,
}

/// What one scenario showed of one clause. In `report.json` a met clause
/// is its id alone (`"D1"`), any other an object (see `wire`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioClause {
    pub id: Arc<str>,
    pub verdict: ClauseVerdict,
    /// For an inconclusive clause: the precondition that was not met.
    pub because: Option<Arc<str>>,
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
    pub checks: Vec<ContractCheck>,
    /// Per contract check (in [`ContractCheck::ALL`] order), how many
    /// steps' last responses it judged and why it did not judge the
    /// others, over every attempt of every scenario: the account a run
    /// keeps once, since report.json keeps a step's own record only for a
    /// scenario that did not pass ([`judged`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judged: Vec<CheckTally>,
}

impl ContractInfo {
    /// The contract checks that ran, as a comma-separated list of names.
    pub fn checks_text(&self) -> String {
        let names: Vec<_> = self.checks.iter().map(|c| c.name()).collect();
        names.join(", ")
    }
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

impl Coverage {
    /// The operations the run touched (some documented response of theirs
    /// was exercised), in the contract's order: what the terminal and the
    /// reports list by default.
    pub fn touched(&self) -> impl Iterator<Item = &OperationCoverage> {
        self.operations.iter().filter(|o| o.touched())
    }

    /// How many operations the run touched.
    pub fn touched_count(&self) -> usize {
        self.touched().count()
    }

    /// How many operations the run did not touch.
    pub fn untouched_count(&self) -> usize {
        self.operations.len() - self.touched_count()
    }
}

impl OperationCoverage {
    /// Whether some documented response of the operation was exercised.
    pub fn touched(&self) -> bool {
        self.responses.iter().any(|r| r.hits > 0)
    }
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
    /// A check of a documented clause (or of no clause) failed.
    Failed,
    /// A runtime problem (transport, timeout) and no documented check failed.
    Error,
    Skipped,
    /// Ctrl-C stopped the run before or while the scenario ran.
    Interrupted,
    /// Only checks of assumptions failed.
    Deviates,
    /// A precondition was not met, so the clauses it guards were not
    /// exercised; nothing else failed.
    Inconclusive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
            Outcome::Interrupted => "interrupted",
            Outcome::Deviates => "deviates",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// One scenario's result. A run records every step; `report.json` keeps a
/// passing one lean ([`ScenarioResult::is_lean`]): read back, its `steps`
/// and `finally` are empty and `totals` holds what they sent and matched.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// `<file stem>::<name>`.
    pub id: std::sync::Arc<str>,
    pub name: std::sync::Arc<str>,
    pub file: std::sync::Arc<str>,
    pub location: SourceLocation,
    pub tags: Vec<String>,
    pub outcome: Outcome,
    pub skip_reason: Option<String>,
    pub duration_ms: f64,
    /// The W3C trace id every request of this attempt carried in its
    /// `traceparent` (32 hex digits; see `http::trace`); absent when the
    /// scenario did not run, and in reports written before it existed.
    pub trace_id: TraceId,
    pub steps: Vec<StepResult>,
    pub finally: Vec<StepResult>,
    /// What the steps sent and matched, when the steps themselves are not
    /// recorded (a lean scenario read back from `report.json`); `None`
    /// when `steps` and `finally` are the record. See
    /// [`ScenarioResult::totals`].
    pub totals: Option<Box<StepTotals>>,
    /// What the scenario showed of each clause it exercised.
    pub clauses: Vec<ScenarioClause>,
    /// Passed after failing: earlier attempts are in `reruns`.
    pub flaky: bool,
    /// Earlier attempts of a scenario run again by `--retries`, oldest first.
    pub reruns: Vec<Rerun>,
}

/// An earlier, failed attempt of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rerun {
    pub outcome: Outcome,
    pub duration_ms: f64,
    /// The attempt's own trace id (each attempt is a trace of its own).
    #[serde(default, skip_serializing_if = "TraceId::is_none")]
    pub trace_id: TraceId,
    pub steps: Vec<StepResult>,
    pub finally: Vec<StepResult>,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    /// A check of a documented clause (or of no clause) failed.
    Failed,
    Error,
    Skipped,
    /// Only checks of assumptions failed: the scenario goes on.
    Deviates,
    /// A precondition was not met: the scenario goes on, the clauses it
    /// guards inconclusive.
    Inconclusive,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Passed => "passed",
            StepOutcome::Failed => "failed",
            StepOutcome::Error => "error",
            StepOutcome::Skipped => "skipped",
            StepOutcome::Deviates => "deviates",
            StepOutcome::Inconclusive => "inconclusive",
        }
    }

    /// Whether the step did not pass and its failures are shown.
    pub fn is_shown(self) -> bool {
        !matches!(self, StepOutcome::Passed | StepOutcome::Skipped)
    }
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
    /// The contract checks of the step's last response: which ran, and why
    /// the others did not (absent without a contract, or without a response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractRecord>,
}

/// Why a contract check did not judge a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Turned off for the run (`--skip-check`, `checks.skip`, or
    /// `undocumented_property` without `--strict`).
    Disabled,
    /// The step says `schema: false`.
    StepOptOut,
    /// No operation of the contract matches the request.
    NoOperation,
    /// The status is not documented: there is nothing to check it against.
    UndocumentedStatus,
    /// The response is documented without content.
    NoContent,
    /// The body is not JSON by its content type: only JSON is validated.
    NotJson,
    /// The media type is documented without a schema.
    NoSchema,
    /// A 502, 503 or 504 a poll retried.
    Retried,
}

impl SkipReason {
    pub fn text(self) -> &'static str {
        match self {
            SkipReason::Disabled => "turned off for the run",
            SkipReason::StepOptOut => "the step says `schema: false`",
            SkipReason::NoOperation => "no operation of the contract matches the request",
            SkipReason::UndocumentedStatus => "the status is not documented",
            SkipReason::NoContent => "the response is documented without content",
            SkipReason::NotJson => "the body is not JSON by its content type",
            SkipReason::NoSchema => "the media type is documented without a schema",
            SkipReason::Retried => "a 502, 503 or 504 the poll retried",
        }
    }
}

/// Which contract checks judged a response (in [`ContractCheck::ALL`]
/// order), and why each other one did not. Small enough to keep for every
/// step of a large run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContractRecord {
    /// Per contract check: `None` when it ran, else why it did not.
    skipped: [Option<SkipReason>; 4],
}

impl ContractRecord {
    /// Every check skipped for `reason`.
    pub fn all(reason: SkipReason) -> ContractRecord {
        ContractRecord {
            skipped: [Some(reason); 4],
        }
    }

    /// Marks `check` as skipped for `reason`, or as run with `None`.
    pub fn set(&mut self, check: ContractCheck, reason: Option<SkipReason>) {
        self.skipped[check.index()] = reason;
    }

    /// The checks that ran.
    pub fn ran(&self) -> impl Iterator<Item = ContractCheck> + '_ {
        ContractCheck::ALL
            .into_iter()
            .zip(&self.skipped)
            .filter(|(_, s)| s.is_none())
            .map(|(c, _)| c)
    }

    /// The checks that did not run, and why.
    pub fn skipped(&self) -> impl Iterator<Item = (ContractCheck, SkipReason)> + '_ {
        ContractCheck::ALL
            .into_iter()
            .zip(&self.skipped)
            .filter_map(|(c, s)| s.map(|s| (c, s)))
    }
}

/// How a [`ContractRecord`] reads in report.json: the checks that ran, and
/// those skipped for a reason of the step's own. A check named in neither
/// list was turned off for the run (`disabled`: the run's `contract.checks`
/// lists those that were on), and a reason's text is [`SkipReason::text`]:
/// neither is written on every step. (Versions 1 and 2 wrote both; the
/// `why` they wrote is ignored.)
#[derive(Serialize, Deserialize)]
struct RecordJson {
    ran: Vec<ContractCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<SkippedJson>,
}

#[derive(Serialize, Deserialize)]
struct SkippedJson {
    check: ContractCheck,
    reason: SkipReason,
}

impl Serialize for ContractRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RecordJson {
            ran: self.ran().collect(),
            skipped: self
                .skipped()
                .filter(|(_, reason)| *reason != SkipReason::Disabled)
                .map(|(check, reason)| SkippedJson { check, reason })
                .collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ContractRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = RecordJson::deserialize(d)?;
        let mut r = ContractRecord::all(SkipReason::Disabled);
        for check in json.ran {
            r.set(check, None);
        }
        for s in json.skipped {
            r.set(s.check, Some(s.reason));
        }
        Ok(r)
    }
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
    /// The check (`status_code`, `empty_body`, `json_path`, ...).
    pub check: Check,
    pub kind: FailureKind,
    /// The clause the check rests on, when the case or the contract names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clause: Option<Arc<str>>,
    /// The clause's level; documented when no clause is named.
    #[serde(default, skip_serializing_if = "Level::is_documented")]
    pub level: Level,
    /// Set when an unmet precondition (this one) guards the clause: the
    /// failure is shown, and the clause is inconclusive instead of failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guarded_by: Option<Arc<str>>,
    /// One line.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// Where the failed expectation is written.
    pub location: SourceLocation,
    /// The step or expectation block is soft: the failure counts, but the
    /// scenario went on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub soft: bool,
}

/// Recorded bodies (of requests and responses) are cut at this many bytes
/// (64 KiB); a cut one says so (`truncated`, and the whole size).
pub const SHOWN_BODY_BYTES: usize = 64 * 1024;

/// A request as it may be shown (secrets masked, body cut at
/// [`SHOWN_BODY_BYTES`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Size of the whole body sent (0 without a body; absent in reports
    /// written before it was recorded).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub body_bytes: usize,
    /// The body was cut at [`SHOWN_BODY_BYTES`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Where the whole body of a cut one was written, relative to the
    /// reports folder (`bodies/NAME`; see `report::bodies`): what the curl
    /// line sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_file: Option<String>,
}

/// For `skip_serializing_if`, which passes a reference.
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A response as it may be shown (secrets masked, body truncated).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text, cut at [`SHOWN_BODY_BYTES`].
    pub body: String,
    /// Size of the whole body.
    pub body_bytes: usize,
    pub truncated: bool,
    pub duration_ms: f64,
    /// Set when the server answered before the whole request body was
    /// sent (a refusal, say, that did not wait for it): how many bytes of
    /// it had gone by then, at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body_sent: Option<usize>,
}

impl Exchange {
    /// `the server answered 401 before the request body was sent (after at
    /// most 1,310,720 of its 5,242,880 bytes)`, when it did.
    pub fn early_answer(&self) -> Option<String> {
        let resp = self.response.as_ref()?;
        let sent = resp.request_body_sent?;
        Some(format!(
            "the server answered {} before the request body was sent (after at most {} of its {} bytes)",
            resp.status,
            crate::printable::grouped(sent),
            crate::printable::grouped(self.request.body_bytes)
        ))
    }
}

/// The last exchange of a step that did not pass.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    /// The request's `traceparent` (conform's, or the one the case set):
    /// what a vendor searches their logs for. Kept here, with the exchange,
    /// so that a step that passed costs nothing; the scenario's `trace_id`
    /// finds the other requests. Absent in reports written before it
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// A curl command reproducing the request, the token as `$VAR`.
    pub curl: String,
    /// When the request was sent (RFC 3339 UTC, milliseconds): the
    /// response's arrival less its duration, else when the transport gave
    /// up. Absent in reports written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
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

impl Failure {
    /// Whether the failure counts against the server (not inconclusive).
    pub fn counts(&self) -> bool {
        self.guarded_by.is_none()
    }

    /// The clause a failure names, as every report shows it: `D2`,
    /// `A6 (assumption)`, `D3 (inconclusive: P2 not met)`; `None` when it
    /// names none.
    pub fn clause_label(&self) -> Option<String> {
        let c = self.clause.as_ref()?;
        Some(match &self.guarded_by {
            Some(p) => format!("{c} (inconclusive: {p} not met)"),
            None if self.level.is_documented() => c.to_string(),
            None => format!("{c} ({})", self.level),
        })
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

impl StepResult {
    /// A step about to run: passed so far, nothing sent, nothing seen.
    pub fn new(name: impl Into<String>, location: SourceLocation) -> StepResult {
        StepResult {
            name: name.into(),
            location,
            outcome: StepOutcome::Passed,
            skip_reason: None,
            duration_ms: 0.0,
            requests: 0,
            status: None,
            failures: Vec::new(),
            exchange: None,
            poll: None,
            exercised: Vec::new(),
            contract: None,
        }
    }

    /// Every text of the step's record that a server or a secret may be
    /// in (failures, poll history, the exchange), each with its shape:
    /// the one place that lists them, for masking and for making them
    /// printable alike.
    pub fn texts_mut(&mut self, mut f: impl FnMut(&mut String, TextShape)) {
        use TextShape::{Block, Line};
        for failure in &mut self.failures {
            f(&mut failure.message, Line);
            if let Some(s) = &mut failure.expected {
                f(s, Line);
            }
            if let Some(s) = &mut failure.actual {
                f(s, Line);
            }
        }
        if let Some(p) = &mut self.poll {
            for h in &mut p.history {
                f(&mut h.observed, Line);
            }
        }
        if let Some(x) = &mut self.exchange {
            // A case may set its own traceparent, from a template.
            if let Some(t) = &mut x.traceparent {
                f(t, Line);
            }
            f(&mut x.request.url, Line);
            f(&mut x.curl, Line);
            if let Some(body) = &mut x.request.body {
                f(body, Block);
            }
            if let Some(file) = &mut x.request.body_file {
                f(file, Line);
            }
            for (k, v) in &mut x.request.headers {
                f(k, Line);
                f(v, Line);
            }
            if let Some(resp) = &mut x.response {
                f(&mut resp.body, Block);
                for (k, v) in &mut resp.headers {
                    f(k, Line);
                    f(v, Line);
                }
            }
        }
    }

    /// The `traceparent` of the step's last request, kept when the step
    /// did not pass (with its exchange).
    pub fn traceparent(&self) -> Option<&str> {
        self.exchange.as_ref()?.traceparent.as_deref()
    }

    /// Makes the text of the step that a server may have written printable
    /// (see [`crate::printable`]): one-line fields as lines, bodies as blocks.
    pub fn make_printable(&mut self) {
        self.texts_mut(|s, shape| match shape {
            TextShape::Line => crate::printable::fix_line(s),
            TextShape::Block => crate::printable::fix_block(s),
        });
    }
}

/// The shape of a recorded text ([`StepResult::texts_mut`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextShape {
    /// One line: a message, a header, a URL.
    Line,
    /// A body, whose line breaks are its own.
    Block,
}

impl ScenarioResult {
    /// Makes every step's server-written text printable, earlier attempts'
    /// too: what a run records and what a `report.json` read back holds.
    pub fn make_printable(&mut self) {
        let reruns = self
            .reruns
            .iter_mut()
            .flat_map(|r| r.steps.iter_mut().chain(r.finally.iter_mut()));
        for step in self.steps.iter_mut().chain(&mut self.finally).chain(reruns) {
            step.make_printable();
        }
    }
}

impl RunResult {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.scenarios
            .iter()
            .filter(|s| s.outcome == outcome)
            .count()
    }

    /// The scenarios by outcome, and the flaky ones: the counts every
    /// report and the terminal show, so that they agree.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for s in &self.scenarios {
            let n = match s.outcome {
                Outcome::Passed => &mut t.passed,
                Outcome::Failed => &mut t.failed,
                Outcome::Deviates => &mut t.deviates,
                Outcome::Inconclusive => &mut t.inconclusive,
                Outcome::Error => &mut t.errors,
                Outcome::Skipped => &mut t.skipped,
                Outcome::Interrupted => &mut t.interrupted,
            };
            *n += 1;
            t.flaky += usize::from(s.flaky);
        }
        t
    }
}

/// Scenarios by outcome ([`RunResult::tally`]); `flaky` counts passed ones
/// that failed first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub deviates: usize,
    pub inconclusive: usize,
    pub errors: usize,
    pub skipped: usize,
    pub interrupted: usize,
    pub flaky: usize,
}

/// Milliseconds as a float with microsecond precision.
pub fn ms(d: std::time::Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_carry_time_and_process_and_differ() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_915_137);
        let a = new_run_id(at);
        let b = new_run_id(at);
        let shape = regex::Regex::new(r"^\d{8}T\d{6}Z-\d+-[0-9a-f]{8}$").unwrap();
        assert!(shape.is_match(&a), "{a}");
        assert!(a.starts_with("20261129T"), "{a}");
        assert!(a.contains(&format!("-{}-", std::process::id())), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_contract_record_reads_as_it_was_written() {
        let mut r = ContractRecord::default();
        r.set(ContractCheck::ResponseSchema, Some(SkipReason::NotJson));
        r.set(
            ContractCheck::UndocumentedProperty,
            Some(SkipReason::Disabled),
        );
        assert_eq!(
            r.ran().map(ContractCheck::name).collect::<Vec<_>>(),
            ["undocumented_status", "content_type"]
        );
        let json = serde_json::to_value(r).unwrap();
        // Turned off for the run: named in neither list.
        assert_eq!(
            json,
            serde_json::json!({
                "ran": ["undocumented_status", "content_type"],
                "skipped": [{"check": "response_schema", "reason": "not_json"}]
            })
        );
        let back: ContractRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        // As versions 1 and 2 wrote it: every skipped check, with its text.
        let v2 = serde_json::json!({
            "ran": ["undocumented_status", "content_type"],
            "skipped": [
                {"check": "response_schema", "reason": "not_json",
                 "why": "the body is not JSON by its content type"},
                {"check": "undocumented_property", "reason": "disabled",
                 "why": "turned off for the run"}
            ]
        });
        assert_eq!(serde_json::from_value::<ContractRecord>(v2).unwrap(), r);
        let all = ContractRecord::all(SkipReason::StepOptOut);
        assert_eq!(all.ran().count(), 0);
        assert_eq!(all.skipped().count(), 4);
    }

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
