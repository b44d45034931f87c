//! The case format: what `cases/conform.yaml` and each scenario file hold.
//!
//! These types are the format's reference: serde reads them (unknown keys are
//! refused) and `conform schema` derives the JSON Schema from them. They keep
//! YAML locations ([`Located`]) wherever a later check needs to point at the
//! source. The loader turns them into the runnable plan in `case::plan`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

pub use crate::clause::{Assumptions, Level};

/// A value with the line and column where it appears in its YAML file.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub line: u64,
    pub column: u64,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (value, line, column) = crate::yaml::located(d)?;
        Ok(Located {
            value,
            line,
            column,
        })
    }
}

// Located values compare by value, so a located string can key a map.
impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Located<T> {}
impl<T: PartialOrd> PartialOrd for Located<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}
impl<T: Ord> Ord for Located<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

/// A mapping kept in the order written (the YAML reader refuses duplicate
/// keys), e.g. a request's `query`, whose parameters are sent in that order.
#[derive(Debug, Clone)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<V> Ordered<V> {
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Visit<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for Ordered<V> {
    fn inline_schema() -> bool {
        <BTreeMap<String, V>>::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        <BTreeMap<String, V>>::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        <BTreeMap<String, V>>::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<String, V>>::json_schema(generator)
    }
}

/// JSONPath (located, for errors in the path itself) to matcher.
pub type PathMatchers = BTreeMap<Located<String>, Located<Value>>;

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// `cases/conform.yaml`: the suite's settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "conform suite settings (conform.yaml)")]
pub struct SuiteFile {
    /// The suite's name, shown in reports.
    pub name: String,
    /// What the suite certifies.
    #[serde(default)]
    pub description: Option<String>,
    /// The OpenAPI contract, relative to the suite folder.
    #[serde(default)]
    pub spec: Option<Located<String>>,
    /// Where the bearer token comes from.
    #[serde(default)]
    pub auth: Option<AuthSpec>,
    /// Defaults for every step.
    #[serde(default)]
    pub defaults: Defaults,
    /// Variables every scenario can use as `{{ name }}`; a value may use `{{ env.NAME }}`.
    #[serde(default)]
    pub vars: BTreeMap<String, Located<Value>>,
    /// Which contract checks run.
    #[serde(default)]
    pub checks: Option<ChecksSpec>,
    /// Named servers beside the base URL (an API on several hosts): a
    /// request names one with `server:`.
    #[serde(default)]
    pub servers: BTreeMap<String, Located<ServerSpec>>,
    /// The clauses the suite certifies, each with a stable id that scenarios,
    /// steps, expectations and the contract's `x-clause` name.
    #[serde(default)]
    pub clauses: Vec<Located<ClauseSpec>>,
    /// `strict`: a deviation from an assumption fails the run, as
    /// `--assumptions strict` does (default `lenient`: reported, not failed).
    #[serde(default)]
    pub assumptions: Option<Assumptions>,
}

/// One clause of the suite's registry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClauseSpec {
    /// Stable id, unique in the suite (`D2`, `A4`, `P1`): letters, digits, `_`, `-`, `.`.
    pub id: Located<String>,
    /// `documented` (breaking it fails the run), `assumption` (differing is a
    /// deviation) or `precondition` (unmet, the clauses it guards are inconclusive).
    pub level: Level,
    /// What the clause says, in one line.
    pub statement: String,
    /// Where it comes from (a documentation page, a convention).
    #[serde(default)]
    pub source: Option<String>,
    /// For a precondition: the clauses that are inconclusive in a scenario
    /// where it is not met.
    #[serde(default)]
    pub guards: Vec<Located<String>>,
}

/// Switches for the contract checks (`undocumented_status`, `content_type`,
/// `response_schema`, `undocumented_property`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecksSpec {
    /// Contract checks not to run.
    #[serde(default)]
    pub skip: Vec<Located<String>>,
    /// Also flag response properties the contract does not document
    /// (`undocumented_property`); default false.
    #[serde(default)]
    pub strict: bool,
}

/// How requests authenticate.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// The environment variable that holds the bearer token (e.g. `VEZA_TOKEN`).
    pub bearer_env: Located<String>,
}

/// Defaults for every step of every scenario.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Time allowed for one request, from connecting to the last byte (default 10s).
    #[serde(default)]
    pub request_timeout: Option<Dur>,
    /// Time allowed to establish a connection (default 5s).
    #[serde(default)]
    pub connect_timeout: Option<Dur>,
    /// Largest response body read, in bytes (default 10485760, 10 MiB).
    #[serde(default)]
    pub max_response_bytes: Option<u64>,
    /// The polling policy of every `poll` that does not set its own values.
    #[serde(default)]
    #[schemars(with = "Option<PollSettings>")]
    pub poll: Option<Located<PollSettings>>,
}

/// Polling timing; every field is optional and falls back to the suite default.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollSettings {
    /// Wait after the first attempt (default 200ms).
    #[serde(default)]
    pub interval: Option<Dur>,
    /// Factor applied to the wait after each attempt (default 1.5; 1 = constant).
    #[serde(default)]
    pub backoff: Option<f64>,
    /// Upper bound of the wait between attempts (default 2s).
    #[serde(default)]
    pub max_interval: Option<Dur>,
    /// Wall-clock deadline of the whole poll (default 30s).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Optional bound on the number of attempts.
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

/// One scenario file: a named sequence of steps.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "conform scenario")]
pub struct ScenarioFile {
    /// Unique within the suite; the test is named `<file stem>::<name>`.
    pub name: Located<String>,
    /// What the scenario proves.
    #[serde(default)]
    pub description: Option<String>,
    /// Labels for selecting scenarios (`--tag`, `--skip-tag`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The clauses the scenario exercises, besides those its steps and
    /// expectations name (for instance those the contract's `x-clause`
    /// attaches to the responses it checks).
    #[serde(default)]
    pub clauses: Vec<Located<String>>,
    /// A reason to skip the scenario unless `--ignored` or `--include-ignored` is given.
    #[serde(default)]
    pub ignore: Option<String>,
    /// Variables for this scenario's steps (they shadow suite variables).
    #[serde(default)]
    pub vars: BTreeMap<String, Located<Value>>,
    /// Steps run in order; a step that breaks a documented clause (or cannot
    /// run) ends the scenario, one that only deviates from an assumption or
    /// finds a precondition unmet does not.
    pub steps: Vec<Located<Step>>,
    /// Steps that always run afterwards (cleanup); one whose variables were never
    /// captured is skipped.
    #[serde(default)]
    pub finally: Vec<Located<Step>>,
}

/// One step: a request and what its response must satisfy, or a check on variables.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Shown in results and failures.
    pub name: Located<String>,
    /// The clause every check of the step rests on, unless an expectation
    /// names its own (a check naming none counts as documented). A
    /// precondition makes the step a requirement: when it does not hold,
    /// the clauses it guards are inconclusive.
    #[serde(default)]
    pub clause: Option<Located<String>>,
    /// The request to send. A step without one is a `check` step.
    #[serde(default)]
    pub request: Option<Request>,
    /// The contract operation (operationId) the request targets; found from method
    /// and path when absent.
    #[serde(default)]
    pub operation: Option<Located<String>>,
    /// `false` skips contract checks of this step's responses.
    #[serde(default)]
    pub schema: Option<bool>,
    /// Contract checks this step does not run (`skip: [content_type]`);
    /// the others still judge its responses.
    #[serde(default)]
    pub checks: Option<StepChecks>,
    /// `true`: when the step fails, the scenario still fails, but its later
    /// steps run and are judged (a soft step).
    #[serde(default)]
    pub soft: bool,
    /// `false` sends no `Authorization` header (default true).
    #[serde(default)]
    pub auth: Option<bool>,
    /// Values taken from the (final) response for later steps.
    #[serde(default)]
    pub capture: BTreeMap<String, Located<CaptureSpec>>,
    /// What the (final) response must satisfy: one block, or a list of
    /// blocks that each name the clause they check.
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
    /// Repeat the request until a condition holds.
    #[serde(default)]
    pub poll: Option<Located<Poll>>,
    /// Follow a cursor over pages, collecting values.
    #[serde(default)]
    pub paginate: Option<Located<Paginate>>,
    /// Matchers on variables (for a step without a request): variable name to matcher.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, MatcherSpec>")]
    pub check: BTreeMap<String, Located<Value>>,
}

/// A named server: its URL, or the environment variable holding it (which
/// wins when set and not blank); `--server NAME=URL` overrides both.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// The server's base URL (http or https), e.g. `https://uploads.github.com`.
    #[serde(default)]
    pub url: Option<String>,
    /// An environment variable that holds the URL instead.
    #[serde(default)]
    pub env: Option<String>,
}

/// A step's own selection of contract checks.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepChecks {
    /// Contract checks not to run on this step's responses
    /// (`undocumented_status`, `content_type`, `response_schema`,
    /// `undocumented_property`).
    #[serde(default)]
    pub skip: Vec<Located<String>>,
}

/// An HTTP request.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The named server (`servers:` in conform.yaml) the request goes to;
    /// the base URL when absent.
    #[serde(default)]
    pub server: Option<Located<String>>,
    pub method: Method,
    /// Path below the base URL, e.g. `/api/v1/things/{{ id }}`.
    pub path: Located<String>,
    /// Query parameters, sent in the order written. A list or mapping is
    /// written as the contract's parameter says (`style`, `explode`;
    /// default `form` with explode: `labels=bug&labels=ui`).
    #[serde(default)]
    pub query: Ordered<Located<Value>>,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Located<String>>,
    /// A JSON body (sent with `content-type: application/json`).
    #[serde(default)]
    pub json: Option<Located<Value>>,
    /// A raw text body, sent as is (for malformed requests).
    #[serde(default)]
    pub body: Option<Located<String>>,
    /// The request deliberately breaks the contract's request schema (a
    /// negative test): lint checks that it does, instead of that it conforms.
    #[serde(default)]
    pub invalid: bool,
}

/// HTTP methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One expectation block, or several, each with its own clause.
#[derive(Debug, Clone)]
pub enum ExpectSpec {
    One(Box<Expect>),
    Many(Vec<Located<Expect>>),
}

impl ExpectSpec {
    /// The blocks, in the order written.
    pub fn blocks(&self) -> Vec<&Expect> {
        match self {
            ExpectSpec::One(e) => vec![e],
            ExpectSpec::Many(list) => list.iter().map(|e| &e.value).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for ExpectSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExpectSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an expectation block (a mapping) or a list of them")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ExpectSpec, A::Error> {
                Expect::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|e| ExpectSpec::One(Box::new(e)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ExpectSpec, A::Error> {
                let mut list = Vec::new();
                while let Some(e) = seq.next_element::<Located<Expect>>()? {
                    list.push(e);
                }
                if list.is_empty() {
                    return Err(de::Error::custom(
                        "an empty list of expectation blocks expects nothing",
                    ));
                }
                Ok(ExpectSpec::Many(list))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for ExpectSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExpectSpec".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one = generator.subschema_for::<Expect>();
        schemars::json_schema!({
            "description": "One expectation block, or a list of blocks that each name the clause they check.",
            "anyOf": [one, {"type": "array", "items": one, "minItems": 1}]
        })
    }
}

/// What a response must satisfy.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The clause this block checks (default: the step's clause).
    #[serde(default)]
    pub clause: Option<Located<String>>,
    /// `true`: a failure of this block fails the step and the scenario, but
    /// the scenario's later steps still run and are judged.
    #[serde(default)]
    pub soft: bool,
    /// A code (`200`), a list (`[200, 204]`) or a class (`2xx`).
    #[serde(default)]
    pub status: Option<Located<StatusSpec>>,
    /// Header name to matcher (names are case-insensitive).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, MatcherSpec>")]
    pub headers: BTreeMap<String, Located<Value>>,
    /// `empty`: the body has zero bytes.
    #[serde(default)]
    pub body: Option<Located<BodyExpect>>,
    /// RFC 9535 JSONPath to matcher.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, MatcherSpec>")]
    pub json: PathMatchers,
    /// Upper bound on the response time of the (final) request.
    #[serde(default)]
    pub max_duration: Option<Located<Dur>>,
}

/// Expectations on the raw body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyExpect {
    /// Zero bytes (whitespace only is tolerated).
    Empty,
    /// At least one byte that is not whitespace.
    NotEmpty,
}

/// `until` and `fail_if` conditions plus timing.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    /// Success: every JSONPath matcher holds. Checked after `fail_if`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, MatcherSpec>")]
    pub until: PathMatchers,
    /// Terminal failure: any JSONPath matcher holds. Checked first on every attempt.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, MatcherSpec>")]
    pub fail_if: PathMatchers,
    #[serde(default)]
    pub interval: Option<Dur>,
    #[serde(default)]
    pub backoff: Option<f64>,
    #[serde(default)]
    pub max_interval: Option<Dur>,
    #[serde(default)]
    pub timeout: Option<Dur>,
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

/// Walk pages: the request is sent again while `while` holds, with the cursor
/// variable set from each page; `collect` gathers values across pages.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Paginate {
    /// One variable name to the JSONPath of its next value, e.g. `page_token: $.next_page_token`.
    pub cursor: BTreeMap<String, Located<String>>,
    /// The cursor's value for the first page (default "").
    #[serde(default)]
    pub start: Option<Value>,
    /// Fetch another page while every JSONPath matcher holds.
    #[serde(rename = "while")]
    #[schemars(with = "BTreeMap<String, MatcherSpec>")]
    pub while_: PathMatchers,
    /// Variable name to JSONPath: the nodes of every page, concatenated into an array.
    #[serde(default)]
    pub collect: BTreeMap<String, Located<String>>,
    /// Bound on the number of pages (default 1000).
    #[serde(default)]
    pub max_pages: Option<u32>,
}

/// A capture: a JSONPath string, or a mapping with `json` or `header`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum CaptureSpec {
    /// RFC 9535 JSONPath selecting exactly one node.
    Path(String),
    Full(CaptureFull),
}

/// A capture with options.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureFull {
    /// RFC 9535 JSONPath selecting exactly one node.
    #[serde(default)]
    pub json: Option<String>,
    /// A response header.
    #[serde(default)]
    pub header: Option<String>,
    /// Mask the value as `***` in every output.
    #[serde(default)]
    pub secret: bool,
    /// The response may lack the value (a server that differs from an
    /// assumption, say): then the variable stays unset, no check fails, and
    /// steps that use it are skipped in `finally`.
    #[serde(default)]
    pub optional: bool,
    /// Convert the value: `integer` parses an int64 string such as `"120"`.
    #[serde(rename = "as", default)]
    pub convert: Option<Conversion>,
}

/// Conversions a capture can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Conversion {
    Integer,
    Number,
    String,
}

impl<'de> Deserialize<'de> for CaptureSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CaptureSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSONPath string or a mapping with `json` or `header`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CaptureSpec, E> {
                Ok(CaptureSpec::Path(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CaptureSpec, A::Error> {
                CaptureFull::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(CaptureSpec::Full)
            }
        }
        d.deserialize_any(V)
    }
}

/// An expected status: a code, a list of codes, or a class such as `2xx`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSpec {
    Code(u16),
    Class(u8),
    Any(Vec<StatusSpec>),
}

impl StatusSpec {
    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusSpec::Code(c) => *c == status,
            StatusSpec::Class(k) => status / 100 == u16::from(*k),
            StatusSpec::Any(list) => list.iter().any(|s| s.matches(status)),
        }
    }

    fn parse_str(s: &str) -> Option<StatusSpec> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() == 3 && b[1..].eq_ignore_ascii_case(b"xx") && (b'1'..=b'5').contains(&b[0]) {
            return Some(StatusSpec::Class(b[0] - b'0'));
        }
        s.parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(StatusSpec::Code)
    }
}

impl fmt::Display for StatusSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusSpec::Code(c) => write!(f, "{c}"),
            StatusSpec::Class(k) => write!(f, "{k}xx"),
            StatusSpec::Any(list) => {
                let parts: Vec<String> = list.iter().map(ToString::to_string).collect();
                write!(f, "one of {}", parts.join(", "))
            }
        }
    }
}

const STATUS_EXPECTING: &str =
    "an HTTP status: a code like 200, a class like 2xx, or a list of them";

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(STATUS_EXPECTING)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                u16::try_from(v)
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .map(StatusSpec::Code)
                    .ok_or_else(|| {
                        E::custom(format!("invalid status {v}: expected {STATUS_EXPECTING}"))
                    })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::custom(format!(
                        "invalid status {v}: expected {STATUS_EXPECTING}"
                    ))),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusSpec, E> {
                StatusSpec::parse_str(v).ok_or_else(|| {
                    E::custom(format!("invalid status `{v}`: expected {STATUS_EXPECTING}"))
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSpec, A::Error> {
                let mut list = Vec::new();
                while let Some(s) = seq.next_element::<StatusSpec>()? {
                    list.push(s);
                }
                if list.is_empty() {
                    return Err(de::Error::custom(
                        "an empty list of statuses matches nothing",
                    ));
                }
                Ok(StatusSpec::Any(list))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for StatusSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusSpec".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one = serde_json::json!({"anyOf": [
            {"type": "integer", "minimum": 100, "maximum": 599},
            {"type": "string", "pattern": "^([1-5][xX][xX]|[1-5][0-9][0-9])$"}
        ]});
        schemars::json_schema!({
            "description": "A code (200), a class (2xx) or a list of them.",
            "anyOf": [one, {"type": "array", "items": one, "minItems": 1}]
        })
    }
}

/// A duration such as `200ms`, `10s` or `2m 30s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration with a unit, like 200ms, 10s or 2m 30s")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                humantime::parse_duration(v).map(Dur).map_err(|e| {
                    E::custom(format!(
                        "invalid duration `{v}` ({e}): expected a number with a unit, like 200ms, 10s or 2m 30s"
                    ))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                Err(E::custom(format!(
                    "invalid duration `{v}`: a duration needs a unit, like {v}s or {v}ms"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                self.visit_u64(v.unsigned_abs())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                Err(E::custom(format!(
                    "invalid duration `{v}`: a duration needs a unit, like {v}s"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration with a unit: 200ms, 10s, 2m 30s.",
            "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*[a-zµ]+(\\s*[0-9]+(\\.[0-9]+)?\\s*[a-zµ]+)*\\s*$"
        })
    }
}

/// Stand-in type that documents the matcher syntax in the JSON Schema; matchers
/// are read as plain YAML values and checked by `crate::expr::matcher`.
#[derive(Debug, Clone)]
pub struct MatcherSpec;

impl JsonSchema for MatcherSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Matcher".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A literal (equality) or a mapping of operators that must all hold.",
            "anyOf": [
                {"type": ["string", "number", "integer", "boolean", "null", "array"]},
                {
                    "type": "object",
                    "additionalProperties": false,
                    "minProperties": 1,
                    "properties": {
                        "eq": {"description": "equal to this value (any JSON)"},
                        "ne": {"description": "not equal to this value"},
                        "in": {"type": "array", "description": "equal to one of these"},
                        "not_in": {"type": "array", "description": "equal to none of these"},
                        "matches": {"type": "string", "description": "a string matching this regular expression"},
                        "exists": {"type": "boolean", "description": "the path selects a node (or not)"},
                        "empty": {"type": "boolean", "description": "an empty string, array or object (or not)"},
                        "type": {"enum": ["string", "number", "integer", "boolean", "array", "object", "null"]},
                        "length": {"$ref": "#/$defs/Matcher", "description": "matcher on the length of a string, array or object"},
                        "unique": {"type": "boolean", "description": "an array without repeated items"},
                        "gt": {"type": ["number", "string"]},
                        "gte": {"type": ["number", "string"]},
                        "lt": {"type": ["number", "string"]},
                        "lte": {"type": ["number", "string"]}
                    }
                }
            ]
        })
    }
}
