//! The runnable form of a suite: templates parsed, JSONPaths and regexes
//! compiled, defaults applied, every location kept for failures.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::model::{BodyExpect, Conversion, Method, StatusSpec};
use crate::check::ContractCheck;
use crate::clause::{Assumptions, ClauseRef, Registry};
use crate::diag::SourceLocation;
use crate::jsonpath::JPath;
use crate::matcher::Matcher;
use crate::poll::PollPolicy;
use crate::template::{TValue, Template};

/// A loaded suite, ready to run.
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub description: Option<String>,
    /// The contract file, when the suite names one.
    pub spec: Option<PathBuf>,
    /// The environment variable holding the bearer token.
    pub token_env: Option<String>,
    /// Where `auth.bearer_env` is written.
    pub token_env_location: Option<SourceLocation>,
    pub settings: Settings,
    /// Suite variables (may use `{{ env.NAME }}`).
    pub vars: Vec<(String, TValue)>,
    /// Every `{{ env.NAME }}` the suite uses, with where.
    pub env_uses: Vec<EnvUse>,
    /// Scenarios in file-name order.
    pub scenarios: Vec<Arc<Scenario>>,
    /// Contract checks the suite turns off, with where.
    pub skip_checks: Vec<(ContractCheck, SourceLocation)>,
    /// Named servers, by name.
    pub servers: Vec<ServerPlan>,
    /// The suite asks for strict contract checks.
    pub strict: bool,
    /// The clauses the suite certifies (empty when it declares none).
    pub registry: Arc<Registry>,
    /// Whether deviations from assumptions fail the run (`assumptions:`).
    pub assumptions: Option<Assumptions>,
    /// SHA-256 (hex) of `conform.yaml` and every scenario file, each by its
    /// name and text, in file order: which suite a report comes from.
    pub sha256: String,
    /// Every clause some scenario names (in `clauses:`, on a step or on an
    /// expectation): the others are exercised by no scenario.
    pub named_clauses: std::collections::BTreeSet<Arc<str>>,
    /// Regexes and JSONPaths compiled so far, shared by every scenario
    /// (also those compiled again when they run).
    pub intern: Arc<super::intern::Interner>,
}

/// A named server of the suite (its URL is settled when the run starts).
#[derive(Debug, Clone)]
pub struct ServerPlan {
    pub name: String,
    pub url: Option<String>,
    pub env: Option<String>,
    pub location: SourceLocation,
}

/// A `{{ env.NAME }}` in a file, kept to check the environment before running.
#[derive(Debug, Clone)]
pub struct EnvUse {
    pub name: String,
    pub location: SourceLocation,
    /// The file's text, for the excerpt.
    pub source: Arc<str>,
}

/// Defaults that apply to every step.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Per request, connect to last byte (default 10s).
    pub request_timeout: Duration,
    /// Per connection (default 5s).
    pub connect_timeout: Duration,
    /// Largest body read (default 10 MiB).
    pub max_response_bytes: u64,
    /// Default polling policy.
    pub poll: PollPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 10 * 1024 * 1024,
            poll: PollPolicy::default(),
        }
    }
}

/// One scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `<file stem>::<name>`: the test name, unique in the suite.
    pub id: std::sync::Arc<str>,
    /// The case file, as a path relative to the working directory.
    pub file: std::sync::Arc<str>,
    pub name: std::sync::Arc<str>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The clauses the scenario says it exercises (`clauses:`).
    pub clauses: Vec<ClauseRef>,
    pub ignore: Option<String>,
    pub vars: Vec<(String, TValue)>,
    pub steps: Vec<StepPlan>,
    pub finally: Vec<StepPlan>,
    /// Where the scenario's `name` is.
    pub location: SourceLocation,
    /// The case file.
    pub path: PathBuf,
    /// Only the head is held (id, name, tags...): [`Suite::plan`] compiles
    /// the steps again from `path` when the scenario runs.
    pub deferred: bool,
}

impl Scenario {
    /// The head alone, for a suite too large to hold every plan.
    pub fn deferred(self) -> Scenario {
        Scenario {
            vars: Vec::new(),
            steps: Vec::new(),
            finally: Vec::new(),
            deferred: true,
            ..self
        }
    }
}

/// One step.
#[derive(Debug, Clone)]
pub struct StepPlan {
    pub name: String,
    pub location: SourceLocation,
    pub action: Action,
    /// Variables the step reads (a `finally` step is skipped when one is unset).
    pub uses: Vec<String>,
    /// The step's own clause (`clause:`), the default of its checks.
    pub clause: Option<ClauseRef>,
    /// Every clause the step's checks name: its own, then its expectation
    /// blocks', without repeats.
    pub clauses: Vec<ClauseRef>,
    /// A failure of the step does not stop the scenario (`soft: true`).
    pub soft: bool,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    Request(Box<RequestStep>),
    /// Matchers on variables.
    Check(Vec<VarCheck>),
}

/// A step that sends a request.
#[derive(Debug, Clone)]
pub struct RequestStep {
    pub request: RequestPlan,
    /// The operationId named by the step.
    pub operation: Option<(String, SourceLocation)>,
    /// Contract checks on (default true).
    pub schema: bool,
    /// Contract checks the step turns off (`checks: { skip: [...] }`).
    pub skip_checks: Vec<ContractCheck>,
    /// Send the suite's bearer token (default true).
    pub auth: bool,
    /// The expectation blocks; when none states a status, any 2xx is expected
    /// (under the step's clause).
    pub expect: Vec<ExpectPlan>,
    /// The step's clause, for what no block names (the default status,
    /// captures).
    pub clause: Option<ClauseRef>,
    pub captures: Vec<CapturePlan>,
    pub mode: Mode,
}

/// Once, polled or paged.
#[derive(Debug, Clone)]
pub enum Mode {
    Once,
    Poll(Box<PollPlan>),
    Paginate(Box<PaginatePlan>),
}

#[derive(Debug, Clone)]
pub struct RequestPlan {
    /// The named server the request goes to (validated); the base URL when `None`.
    pub server: Option<String>,
    pub method: Method,
    pub path: Template,
    pub path_location: SourceLocation,
    /// Where the `json` or `body` is, when there is one.
    pub body_location: Option<SourceLocation>,
    /// A deliberate violation of the contract's request schema.
    pub invalid: bool,
    /// In the order written.
    pub query: Vec<QueryParam>,
    pub headers: Vec<(String, Template)>,
    pub body: BodyPlan,
}

/// One `query:` key and its value.
#[derive(Debug, Clone)]
pub struct QueryParam {
    pub name: String,
    pub value: TValue,
    /// Where the value is.
    pub location: SourceLocation,
}

#[derive(Debug, Clone)]
pub enum BodyPlan {
    None,
    Json(TValue),
    Raw(Template),
}

/// A matcher on what a JSONPath selects.
#[derive(Debug, Clone)]
pub struct PathCheck {
    pub path: JPath,
    pub matcher: Matcher,
    pub location: SourceLocation,
}

/// A matcher on a header (name lowercase).
#[derive(Debug, Clone)]
pub struct HeaderCheck {
    pub name: String,
    pub matcher: Matcher,
    pub location: SourceLocation,
}

/// A matcher on a variable.
#[derive(Debug, Clone)]
pub struct VarCheck {
    pub var: String,
    pub matcher: Matcher,
    pub location: SourceLocation,
}

#[derive(Debug, Clone, Default)]
pub struct ExpectPlan {
    /// The clause the block checks: its own, else the step's.
    pub clause: Option<ClauseRef>,
    /// A failure of the block does not stop the scenario.
    pub soft: bool,
    pub status: Option<(StatusSpec, SourceLocation)>,
    pub headers: Vec<HeaderCheck>,
    pub body: Option<(BodyExpect, SourceLocation)>,
    pub json: Vec<PathCheck>,
    pub max_duration: Option<(Duration, SourceLocation)>,
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    Json(JPath),
    /// Lowercase header name.
    Header(String),
}

#[derive(Debug, Clone)]
pub struct CapturePlan {
    pub var: String,
    pub source: CaptureSource,
    pub secret: bool,
    /// A missing value leaves the variable unset instead of failing.
    pub optional: bool,
    pub convert: Option<Conversion>,
    pub location: SourceLocation,
}

#[derive(Debug, Clone)]
pub struct PollPlan {
    /// The step's clause: `fail_if` and the deadline check it.
    pub clause: Option<ClauseRef>,
    pub policy: PollPolicy,
    pub until: Vec<PathCheck>,
    pub fail_if: Vec<PathCheck>,
    pub location: SourceLocation,
}

#[derive(Debug, Clone)]
pub struct PaginatePlan {
    /// The step's clause: the walk's own checks rest on it.
    pub clause: Option<ClauseRef>,
    pub cursor_var: String,
    pub cursor_path: JPath,
    pub start: Value,
    pub while_: Vec<PathCheck>,
    pub collect: Vec<(String, JPath)>,
    pub max_pages: u32,
    pub location: SourceLocation,
}

impl RequestStep {
    /// Whether a block expects another status than `status` (a poll ends on
    /// such a response at once).
    pub fn refuses_status(&self, status: u16) -> bool {
        self.expect
            .iter()
            .filter_map(|e| e.status.as_ref())
            .any(|(s, _)| !s.matches(status))
    }

    /// Whether some block states the expected status.
    pub fn states_status(&self) -> bool {
        self.expect.iter().any(|e| e.status.is_some())
    }
}

impl Scenario {
    /// Every clause the scenario names: its `clauses:`, then its steps'.
    pub fn named_clauses(&self) -> impl Iterator<Item = &ClauseRef> {
        self.clauses.iter().chain(
            self.steps
                .iter()
                .chain(&self.finally)
                .flat_map(|s| s.clauses.iter()),
        )
    }
}

impl Suite {
    /// The clauses of the registry that no scenario names, in the order written.
    pub fn unexercised_clauses(&self) -> Vec<&crate::clause::Clause> {
        self.registry
            .clauses()
            .iter()
            .filter(|c| !self.named_clauses.contains(&c.id))
            .collect()
    }
}
