//! `report.html`: one self-contained page for the people who sign off a run.
//!
//! The page is a projection of the result model. Rust builds a view of it
//! (every label, count and cut body already worked out), and minijinja
//! templates registered under `.html` names lay it out, so every value from
//! the result goes through the engine's HTML auto-escaping. The page is
//! streamed in parts: its head, then one scenario at a time, each view built
//! right before it is rendered, so memory does not grow with the run.
//!
//! Every scenario has a row in the overview table (outcome, name and id,
//! the clauses it showed by verdict, failed checks, duration). A scenario
//! that passed at its first attempt (lean: see `model::lean`) is that row
//! alone, the row carrying its anchor: its steps would only say that each
//! passed, and a section per passing scenario was most of a green run's
//! page (5 KB each). Any other scenario also has a section after the table,
//! open when it did not pass, with its steps, failures, exchanges, `curl`
//! lines, poll history and earlier attempts; its row links to it.
//! Nothing is fetched: the CSS and the little script are inline, and a
//! Content-Security-Policy allows exactly those two (by hash) and nothing
//! else, so even a value that slipped past escaping could not run or load.
//! Control characters and bidi overrides a server wrote arrive escaped
//! visibly already (see `crate::printable`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior, context};
use serde::Serialize;

use crate::model::coverage::grouped;
use crate::model::verdict::{RunOutcome, Verdict};
use crate::model::{
    ClauseVerdict, Coverage, Exchange, Failure, FailureKind, OperationCoverage, Outcome,
    Regression, RunResult, ScenarioResult, StepOutcome, StepResult, TraceId,
};

/// Scenarios listed per clause of the matrix (report.json lists them all):
/// the matrix stays small, and the page's head in memory, however large
/// the run.
pub const CLAUSE_SCENARIOS_SHOWN: usize = 20;

/// Bytes of a request or response body shown on the page; the rest is cut
/// with a note. (The runner has already cut what it kept.)
pub const DISPLAY_BODY_BYTES: usize = 16 * 1024;

const CSS: &str = include_str!("templates/report.css");
const JS: &str = include_str!("templates/report.js");

/// The parts of the page, rendered in this order: the head (up to the
/// overview table's rows), one overview row per scenario, the part between
/// the overview table and the sections, one section per scenario, the foot.
/// The `.html` names turn HTML auto-escaping on.
const HEAD: &str = "head.html";
const OVERVIEW_ROW: &str = "overview_row.html";
const BETWEEN: &str = "between.html";
const SCENARIO: &str = "scenario.html";
const FOOT: &str = "foot.html";
const PARTS: [(&str, &str); 5] = [
    (HEAD, include_str!("templates/head.html")),
    (OVERVIEW_ROW, include_str!("templates/overview_row.html")),
    (BETWEEN, include_str!("templates/between.html")),
    (SCENARIO, include_str!("templates/scenario.html")),
    (FOOT, include_str!("templates/foot.html")),
];

/// Writes the page for `result` to `path`, atomically: streamed into a
/// temporary file in the same folder, renamed into place (see
/// [`super::write_atomic_via`] for links, devices and FIFOs). Memory holds
/// the head of the page and one scenario at a time, whatever the run's size.
pub fn write(result: &RunResult, path: &Path) -> io::Result<()> {
    super::write_atomic_via(path, |file| write_file(result, file))
}

fn write_file(result: &RunResult, path: &Path) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let failed = stream(result, &mut out);
    let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    match failed {
        Ok(()) => {}
        Err(Failed::Io(e)) => return Err(e),
        // The templates are constants and the tests render them; should they
        // still fail, the page says so rather than the run losing its report:
        // what was written so far is replaced by the bare page (follows it,
        // in a device or a FIFO, which cannot be rewound).
        Err(Failed::Template(e)) => {
            if file.metadata()?.is_file() {
                file.set_len(0)?;
                io::Seek::rewind(&mut file)?;
            }
            file.write_all(fallback_page(&e.to_string(), result).as_bytes())?;
        }
    }
    Ok(())
}

/// The whole page for `result`, streamed into memory the way [`write`]
/// streams it into the file.
pub fn render(result: &RunResult) -> String {
    let mut page = Vec::new();
    match stream(result, &mut page) {
        Ok(()) => String::from_utf8(page)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(e) => fallback_page(&e.to_string(), result),
    }
}

/// Why the page could not be streamed.
enum Failed {
    /// Writing failed.
    Io(io::Error),
    /// The templates did not compile or render.
    Template(minijinja::Error),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Io(e) => e.fmt(f),
            Failed::Template(e) => e.fmt(f),
        }
    }
}

impl From<io::Error> for Failed {
    fn from(e: io::Error) -> Self {
        Failed::Io(e)
    }
}

impl From<minijinja::Error> for Failed {
    fn from(e: minijinja::Error) -> Self {
        if e.kind() == minijinja::ErrorKind::WriteFailure
            && let Some(io) =
                std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>())
        {
            return Failed::Io(io::Error::new(io.kind(), io.to_string()));
        }
        Failed::Template(e)
    }
}

/// The templates, compiled once per page.
fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            // A part ends where the next begins: keep its last newline.
            .keep_trailing_newline(true)
            .build()?,
    );
    for (name, source) in PARTS {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Renders the parts of the page into `out` in order, building each
/// scenario's view right before its row or section and dropping it after.
fn stream<W: Write>(r: &RunResult, out: &mut W) -> Result<(), Failed> {
    let env = environment()?;
    let anchors = anchors(&r.scenarios);
    let page = Value::from(Serde(head(r, &anchors)));
    // Our own constants (the policy is built of them and two base64
    // hashes), not values from the result.
    let css = Value::from_safe_string(CSS.to_owned());
    let js = Value::from_safe_string(JS.to_owned());
    let csp = Value::from_safe_string(content_security_policy());

    let mut part = |name: &str, ctx: Value| -> Result<(), Failed> {
        env.get_template(name)?.render_captured_to(ctx, &mut *out)?;
        Ok(())
    };
    part(HEAD, context! { page => page.clone(), css, csp })?;
    for (s, anchor) in r.scenarios.iter().zip(&anchors) {
        part(
            OVERVIEW_ROW,
            context! { s => Serde(&overview_row(s, anchor)) },
        )?;
    }
    part(BETWEEN, context! { page => page.clone() })?;
    // A lean scenario is its overview row alone.
    for (s, anchor) in r.scenarios.iter().zip(&anchors) {
        if !s.is_lean() {
            part(SCENARIO, context! { s => Serde(&scenario(s, anchor)) })?;
        }
    }
    part(FOOT, context! { page, js })?;
    out.flush()?;
    Ok(())
}

/// Allows the inline style and script by their hashes, and nothing else.
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; \
         img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'",
        sha256_base64(CSS),
        sha256_base64(JS)
    )
}

fn sha256_base64(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    base64(digest.as_ref())
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A bare page used only if the template cannot render.
fn fallback_page(error: &str, result: &RunResult) -> String {
    let text: String = result
        .scenarios
        .iter()
        .map(|s| format!("{:?} {}\n", s.outcome, s.id))
        .collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>conform report</title></head>\
         <body><h1>The HTML report could not be rendered</h1><p>{}</p><pre>{}</pre>\
         <p>See report.json for the full result.</p></body></html>",
        escape(error),
        escape(&text)
    )
}

/// HTML escaping as the templates apply it (minijinja's own).
fn escape(s: &str) -> String {
    minijinja::HtmlEscape(s).to_string()
}

// ---------------------------------------------------------------------------
// The view: what the template shows, already worked out.

/// The page's head: everything before the scenarios, and the few values the
/// parts after them show.
#[derive(Serialize)]
struct Head {
    suite: String,
    tool: String,
    /// The run id every report of the set carries (empty in older reports).
    run_id: String,
    format_version: u32,
    verdict: Badge,
    /// What decided the exit code, in one line.
    verdict_detail: String,
    /// The certification statement.
    statement: String,
    exit_code: u8,
    provenance: Vec<Row>,
    /// The clause matrix (empty when the suite declares no clauses).
    clauses: Vec<ClauseView>,
    counts: Vec<CountView>,
    total: usize,
    /// Scenarios with a section of their own (not lean).
    sections: usize,
    coverage: Option<CoverageView>,
    regression: Option<RegressionView>,
}

/// One row of the clause matrix.
#[derive(Serialize)]
struct ClauseView {
    id: String,
    level: &'static str,
    statement: String,
    source: Option<String>,
    badge: Badge,
    because: String,
    /// The first [`CLAUSE_SCENARIOS_SHOWN`] deciding scenarios.
    scenarios: Vec<ScenarioLink>,
    /// How many more decided it.
    more: usize,
}

/// A label and the CSS class that colours it.
#[derive(Serialize, Clone)]
struct Badge {
    label: String,
    class: &'static str,
}

#[derive(Serialize)]
struct Row {
    label: &'static str,
    value: String,
    /// Shown in a monospace font (paths, URLs, hashes).
    mono: bool,
    note: Option<String>,
}

#[derive(Serialize)]
struct CountView {
    label: &'static str,
    value: usize,
    class: &'static str,
}

/// The coverage: its totals, the operations the run touched, and every
/// operation for the folded full table. Counts are grouped (`1,224`).
#[derive(Serialize)]
struct CoverageView {
    percent: String,
    covered: String,
    total: String,
    /// Operations of the contract.
    operations: String,
    /// Operations the run touched.
    touched_count: String,
    /// Operations it did not touch.
    untouched: usize,
    untouched_count: String,
    touched: Vec<CoverageRow>,
    /// Every operation, in the contract's order.
    all: Vec<CoverageRow>,
}

/// One operation: a row of either table. Its documented responses are
/// written as text marks, not a cell per status: those exercised one by one
/// (`200 ✓ 3`), then those not as one `✗ 304 404 422`, so a table of
/// thousands of operations stays small.
#[derive(Serialize)]
struct CoverageRow {
    operation: String,
    method: String,
    path: String,
    /// The documented responses exercised, in the contract's order.
    hit: Vec<CoverageHit>,
    /// Those never exercised: `✗ 304 404 422`, in the contract's order;
    /// empty when every one was.
    missed: String,
}

/// A documented response exercised: `200 ✓ 3` (the key and its mark never
/// wrap apart).
#[derive(Serialize)]
struct CoverageHit {
    label: String,
    hits: u32,
}

#[derive(Serialize)]
struct RegressionView {
    baseline: String,
    baseline_started_at: String,
    groups: Vec<RegressionGroup>,
}

#[derive(Serialize)]
struct RegressionGroup {
    title: &'static str,
    description: &'static str,
    class: &'static str,
    count: usize,
    items: Vec<ScenarioLink>,
}

#[derive(Serialize)]
struct ScenarioLink {
    id: String,
    /// The file stem of the id, for a narrow column.
    short: String,
    /// The anchor of the scenario's section, when the scenario is in this run.
    anchor: Option<String>,
}

/// A scenario's row in the overview table. A lean scenario (passed at its
/// first attempt) is this row alone, its anchor on the row; any other
/// links to its section below.
#[derive(Serialize)]
struct OverviewRow<'a> {
    anchor: &'a str,
    id: &'a str,
    name: &'a str,
    badge: Badge,
    flaky: bool,
    lean: bool,
    /// What the scenario showed of its clauses, a group per verdict.
    clauses: Vec<ClauseGroup>,
    failure_count: usize,
    duration: String,
}

/// The clauses a scenario showed one verdict of: `D1–D5, A2`.
#[derive(Serialize)]
struct ClauseGroup {
    /// The verdict, or empty when every clause was met (shown plain).
    verdict: &'static str,
    class: &'static str,
    ids: String,
}

#[derive(Serialize)]
struct ScenarioView<'a> {
    anchor: &'a str,
    id: &'a str,
    name: &'a str,
    badge: Badge,
    flaky: bool,
    open: bool,
    file_line: String,
    tags: &'a [String],
    duration: String,
    skip_reason: Option<&'a str>,
    failure_count: usize,
    /// The final attempt first, then the earlier failed ones (`--retries`).
    attempts: Vec<AttemptView>,
    /// The terminal's text of the failure, for tickets; empty when it passed.
    text: String,
}

#[derive(Serialize)]
struct AttemptView {
    title: String,
    rerun: bool,
    badge: Badge,
    duration: String,
    /// The trace id every request of the attempt carried, when it did not
    /// pass (and one was recorded).
    trace_id: Option<String>,
    steps: Vec<StepRow>,
    details: Vec<StepDetail>,
    /// Why there are no steps to show, when they were not recorded: the
    /// attempt passed and was read back lean (a merge made it flaky).
    not_recorded: Option<String>,
}

#[derive(Serialize)]
struct StepRow {
    name: String,
    finally: bool,
    badge: Badge,
    status: String,
    requests: u32,
    duration: String,
    location: String,
    skip_reason: Option<String>,
    failures: usize,
}

#[derive(Serialize)]
struct StepDetail {
    name: String,
    finally: bool,
    badge: Badge,
    location: String,
    /// The `traceparent` of the step's last request.
    traceparent: Option<String>,
    failures: Vec<FailureView>,
    poll: Option<PollView>,
    exchange: Option<ExchangeView>,
}

#[derive(Serialize)]
struct FailureView {
    check: &'static str,
    kind: &'static str,
    /// `D2`, `A6 (assumption)`, or empty when the check names no clause.
    clause: String,
    /// `deviation`, `unmet`, `inconclusive` or empty (a counted failure of
    /// a documented clause).
    counts_as: &'static str,
    message: String,
    expected: Option<String>,
    actual: Option<String>,
    location: String,
}

#[derive(Serialize)]
struct PollView {
    history: String,
    attempts: u32,
    elapsed: String,
}

#[derive(Serialize)]
struct ExchangeView {
    method: String,
    url: String,
    request_headers: Vec<(String, String)>,
    request_body: Option<BodyView>,
    response: Option<ResponseView>,
    curl: String,
    /// Too long for a printed page: printed copies show its beginning.
    curl_long: bool,
}

#[derive(Serialize)]
struct ResponseView {
    status: u16,
    duration: String,
    /// The server answered before the request body was sent.
    early: Option<String>,
    headers: Vec<(String, String)>,
    body: BodyView,
}

#[derive(Serialize)]
struct BodyView {
    text: String,
    empty: bool,
    /// Too long for a printed page: printed copies show its beginning.
    long: bool,
    notes: Vec<String>,
}

fn head(r: &RunResult, anchors: &[String]) -> Head {
    let v = Verdict::of(r);
    Head {
        suite: r.suite.clone(),
        tool: r.tool.clone(),
        run_id: r.run_id.clone(),
        format_version: r.format_version,
        verdict: verdict_badge(&v),
        verdict_detail: format!("{} {}.", v.headline, crate::report::text::counts(r)),
        statement: v.statement.clone(),
        exit_code: v.exit_code,
        provenance: provenance(r),
        clauses: clauses(r, anchors),
        counts: counts(r),
        total: r.scenarios.len(),
        sections: r.scenarios.iter().filter(|s| !s.is_lean()).count(),
        coverage: r.coverage.as_ref().map(coverage),
        regression: r.regression.as_ref().map(|g| regression(g, r, anchors)),
    }
}

/// The page's badge: what the verdict means for the contract.
fn verdict_badge(v: &Verdict) -> Badge {
    let (label, class) = match v.outcome {
        RunOutcome::Interrupted => ("Interrupted", "interrupted"),
        RunOutcome::Failed if !v.conformant => ("Not conformant", "failed"),
        RunOutcome::Failed => ("Failed", "failed"),
        RunOutcome::Error => ("No verdict", "error"),
        RunOutcome::NothingRan => ("Nothing checked", "error"),
        RunOutcome::GateFailed => ("Gate failed", "error"),
        RunOutcome::Passed if v.conformant => ("Conformant", "passed"),
        RunOutcome::Passed => ("Passed", "passed"),
    };
    Badge {
        label: label.into(),
        class,
    }
}

/// Each scenario's section anchor, by scenario id.
fn anchor_index<'a>(r: &'a RunResult, anchors: &'a [String]) -> HashMap<&'a str, &'a str> {
    r.scenarios
        .iter()
        .zip(anchors)
        .map(|(s, a)| (&*s.id, a.as_str()))
        .collect()
}

/// A link to scenario `id`'s section, when it is in this run.
fn link(id: &str, by_id: &HashMap<&str, &str>) -> ScenarioLink {
    ScenarioLink {
        id: id.to_owned(),
        short: super::text::stem(id).to_owned(),
        anchor: by_id.get(id).map(|a| (*a).to_owned()),
    }
}

fn clauses(r: &RunResult, anchors: &[String]) -> Vec<ClauseView> {
    let by_id = anchor_index(r, anchors);
    r.clauses
        .iter()
        .map(|c| ClauseView {
            id: c.id.to_string(),
            level: c.level.as_str(),
            statement: c.statement.clone(),
            source: c.source.clone(),
            badge: clause_badge(c.verdict),
            because: c
                .because
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            scenarios: c
                .scenarios
                .iter()
                .take(CLAUSE_SCENARIOS_SHOWN)
                .map(|id| link(id, &by_id))
                .collect(),
            more: c.scenarios.len().saturating_sub(CLAUSE_SCENARIOS_SHOWN),
        })
        .collect()
}

fn clause_badge(v: ClauseVerdict) -> Badge {
    let class = match v {
        ClauseVerdict::Met => "passed",
        ClauseVerdict::Broken => "failed",
        ClauseVerdict::Deviates => "deviates",
        ClauseVerdict::Unmet | ClauseVerdict::Inconclusive => "inconclusive",
        ClauseVerdict::NotExercised => "skipped",
    };
    Badge {
        label: v.as_str().into(),
        class,
    }
}

fn row(label: &'static str, value: impl Into<String>, mono: bool) -> Row {
    Row {
        label,
        value: value.into(),
        mono,
        note: None,
    }
}

fn provenance(r: &RunResult) -> Vec<Row> {
    let mut rows = vec![
        row("Tool", &r.tool, false),
        row("Suite", &r.suite, false),
        row(
            "Suite SHA-256",
            if r.suite_sha256.is_empty() {
                "not recorded"
            } else {
                &r.suite_sha256
            },
            !r.suite_sha256.is_empty(),
        ),
        row(
            "Assumptions",
            match r.policy.assumptions {
                crate::clause::Assumptions::Lenient => {
                    "lenient: a deviation is reported, not failed"
                }
                crate::clause::Assumptions::Strict => "strict: a deviation fails the run",
            },
            false,
        ),
        Row {
            note: r
                .embedded_server
                .then(|| "embedded reference server".to_owned()),
            ..row("Base URL", &r.base_url, true)
        },
        row("Started at", &r.started_at, true),
        row(
            "Run id",
            if r.run_id.is_empty() {
                "not recorded"
            } else {
                &r.run_id
            },
            !r.run_id.is_empty(),
        ),
        row("Duration", duration(r.duration_ms), false),
        row(
            "Partition",
            r.partition
                .clone()
                .unwrap_or_else(|| "none (the whole suite)".into()),
            r.partition.is_some(),
        ),
    ];
    if !r.servers.is_empty() {
        let named: Vec<String> = r
            .servers
            .iter()
            .map(|(name, url)| format!("{name}: {url}"))
            .collect();
        let at = rows
            .iter()
            .position(|w| w.label == "Started at")
            .unwrap_or(rows.len());
        rows.insert(at, row("Servers", named.join(", "), true));
    }
    match &r.contract {
        Some(c) => {
            rows.push(row("Contract", &c.file, true));
            rows.push(row("Contract dialect", &c.dialect, false));
            rows.push(row("Contract SHA-256", &c.sha256, true));
            rows.push(row(
                "Contract checks run",
                if c.checks.is_empty() {
                    "none".to_owned()
                } else {
                    c.checks_text()
                },
                !c.checks.is_empty(),
            ));
            if !c.judged.is_empty() {
                rows.push(row(
                    "Responses judged",
                    super::text::judged(&c.judged),
                    false,
                ));
            }
        }
        None => rows.push(row("Contract", "none: no contract checks ran", false)),
    }
    rows.push(match &r.regression {
        Some(g) => Row {
            note: Some(format!("ran at {}", g.baseline_started_at)),
            ..row("Baseline", &g.baseline, true)
        },
        None => row("Baseline", "none", false),
    });
    rows.push(row(
        "Interrupted",
        if r.interrupted {
            "yes: scenarios not started are recorded as interrupted"
        } else {
            "no"
        },
        false,
    ));
    rows
}

fn counts(r: &RunResult) -> Vec<CountView> {
    let t = r.tally();
    [
        ("Passed", t.passed, "passed"),
        ("Failed", t.failed, "failed"),
        ("Deviate", t.deviates, "deviates"),
        ("Inconclusive", t.inconclusive, "inconclusive"),
        ("Errors", t.errors, "error"),
        ("Skipped", t.skipped, "skipped"),
        ("Flaky", t.flaky, "flaky"),
        ("Interrupted", t.interrupted, "interrupted"),
    ]
    .into_iter()
    .map(|(label, value, class)| CountView {
        label,
        value,
        class,
    })
    .collect()
}

fn coverage(c: &Coverage) -> CoverageView {
    let row = |o: &OperationCoverage| CoverageRow {
        operation: o.operation.clone(),
        method: o.method.clone(),
        path: o.path.clone(),
        hit: o
            .responses
            .iter()
            .filter(|r| r.hits > 0)
            .map(|r| CoverageHit {
                label: format!("{}\u{a0}✓\u{a0}{}", r.key, r.hits),
                hits: r.hits,
            })
            .collect(),
        missed: missed(o),
    };
    let untouched = c.untouched_count();
    CoverageView {
        percent: format!("{:.1}", c.percent),
        covered: grouped(c.covered),
        total: grouped(c.total),
        operations: grouped(c.operations.len()),
        touched_count: grouped(c.touched_count()),
        untouched,
        untouched_count: grouped(untouched),
        touched: c.touched().map(row).collect(),
        all: c.operations.iter().map(row).collect(),
    }
}

/// `✗ 304 404 422`: the documented responses of `o` never exercised (the
/// mark and the first key never wrap apart); empty when there are none.
fn missed(o: &OperationCoverage) -> String {
    let keys: Vec<&str> = o
        .responses
        .iter()
        .filter(|r| r.hits == 0)
        .map(|r| &*r.key)
        .collect();
    if keys.is_empty() {
        String::new()
    } else {
        format!("✗\u{a0}{}", keys.join(" "))
    }
}

fn regression(g: &Regression, r: &RunResult, anchors: &[String]) -> RegressionView {
    let by_id = anchor_index(r, anchors);
    let links =
        |ids: &[String]| -> Vec<ScenarioLink> { ids.iter().map(|id| link(id, &by_id)).collect() };
    let group = |title, description, class, ids: &[String]| RegressionGroup {
        title,
        description,
        class,
        count: ids.len(),
        items: links(ids),
    };
    RegressionView {
        baseline: g.baseline.clone(),
        baseline_started_at: g.baseline_started_at.clone(),
        groups: vec![
            group(
                "New failures",
                "failing now, passing in the baseline",
                "failed",
                &g.new_failures,
            ),
            group(
                "Fixed",
                "passing now, failing in the baseline",
                "passed",
                &g.fixed,
            ),
            group(
                "Still failing",
                "failing in both runs",
                "error",
                &g.still_failing,
            ),
            group("Added", "not in the baseline", "neutral", &g.added),
            group("Removed", "in the baseline only", "neutral", &g.removed),
        ],
    }
}

/// One anchor per scenario, from its id: ASCII letters and digits kept,
/// everything else folded into `-`; made unique by a counter.
fn anchors(scenarios: &[ScenarioResult]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    scenarios
        .iter()
        .map(|s| {
            let mut slug = String::from("scenario-");
            let mut dash = false;
            for c in s.id.chars() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    slug.push(c.to_ascii_lowercase());
                    dash = false;
                } else if !dash {
                    slug.push('-');
                    dash = true;
                }
            }
            let slug = slug.trim_end_matches('-').to_owned();
            let n = seen.entry(slug.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { slug } else { format!("{slug}-{n}") }
        })
        .collect()
}

fn outcome_badge(o: Outcome) -> Badge {
    let (label, class) = match o {
        Outcome::Passed => ("passed", "passed"),
        Outcome::Failed => ("failed", "failed"),
        Outcome::Error => ("error", "error"),
        Outcome::Skipped => ("skipped", "skipped"),
        Outcome::Interrupted => ("interrupted", "interrupted"),
        Outcome::Deviates => ("deviates", "deviates"),
        Outcome::Inconclusive => ("inconclusive", "inconclusive"),
    };
    Badge {
        label: label.into(),
        class,
    }
}

fn step_badge(o: StepOutcome) -> Badge {
    let (label, class) = match o {
        StepOutcome::Passed => ("passed", "passed"),
        StepOutcome::Failed => ("failed", "failed"),
        StepOutcome::Error => ("error", "error"),
        StepOutcome::Skipped => ("skipped", "skipped"),
        StepOutcome::Deviates => ("deviates", "deviates"),
        StepOutcome::Inconclusive => ("inconclusive", "inconclusive"),
    };
    Badge {
        label: label.into(),
        class,
    }
}

fn overview_row<'a>(s: &'a ScenarioResult, anchor: &'a str) -> OverviewRow<'a> {
    OverviewRow {
        anchor,
        id: &s.id,
        name: &s.name,
        badge: outcome_badge(s.outcome),
        flaky: s.flaky,
        lean: s.is_lean(),
        clauses: clause_groups(s),
        failure_count: s.failures().count(),
        duration: duration(s.duration_ms),
    }
}

/// The scenario's clauses by verdict, the strongest first, met last; `met`
/// is said only beside another verdict.
fn clause_groups(s: &ScenarioResult) -> Vec<ClauseGroup> {
    let order = [
        ClauseVerdict::Broken,
        ClauseVerdict::Deviates,
        ClauseVerdict::Unmet,
        ClauseVerdict::Inconclusive,
        ClauseVerdict::Met,
    ];
    let mut groups: Vec<ClauseGroup> = order
        .into_iter()
        .filter_map(|v| {
            let ids: Vec<&str> = s
                .clauses
                .iter()
                .filter(|c| c.verdict == v)
                .map(|c| &*c.id)
                .collect();
            (!ids.is_empty()).then(|| ClauseGroup {
                verdict: v.as_str(),
                class: clause_badge(v).class,
                ids: crate::clause::compact_ids(&ids),
            })
        })
        .collect();
    if let [only] = &mut groups[..]
        && only.verdict == ClauseVerdict::Met.as_str()
    {
        only.verdict = "";
    }
    groups
}

fn scenario<'a>(s: &'a ScenarioResult, anchor: &'a str) -> ScenarioView<'a> {
    let mut attempts = vec![attempt(Attempt {
        title: if s.reruns.is_empty() {
            "Steps".to_owned()
        } else {
            format!(
                "Attempt {} of {} (final)",
                s.reruns.len() + 1,
                s.reruns.len() + 1
            )
        },
        rerun: false,
        outcome: s.outcome,
        duration_ms: s.duration_ms,
        trace_id: s.trace_id,
        steps: &s.steps,
        finally: &s.finally,
    })];
    let total = s.reruns.len() + 1;
    attempts.extend(s.reruns.iter().enumerate().map(|(i, r)| {
        attempt(Attempt {
            title: format!(
                "Attempt {} of {total} (earlier, {})",
                i + 1,
                outcome_badge(r.outcome).label
            ),
            rerun: true,
            outcome: r.outcome,
            duration_ms: r.duration_ms,
            trace_id: r.trace_id,
            steps: &r.steps,
            finally: &r.finally,
        })
    }));
    if let Some(t) = &s.totals {
        attempts[0].not_recorded = Some(format!(
            "Its steps are not recorded: report.json keeps a passing attempt's totals ({} request{}).",
            t.requests,
            if t.requests == 1 { "" } else { "s" }
        ));
    }
    ScenarioView {
        anchor,
        id: &s.id,
        name: &s.name,
        badge: outcome_badge(s.outcome),
        flaky: s.flaky,
        open: matches!(
            s.outcome,
            Outcome::Failed | Outcome::Error | Outcome::Deviates | Outcome::Inconclusive
        ) || s.flaky,
        file_line: if s.location.line > 0 {
            format!("{}:{}", s.location.file, s.location.line)
        } else {
            s.file.to_string()
        },
        tags: &s.tags,
        duration: duration(s.duration_ms),
        skip_reason: s.skip_reason.as_deref(),
        failure_count: s.failures().count(),
        attempts,
        text: super::text::failure_text(s, DISPLAY_BODY_BYTES),
    }
}

/// One attempt of a scenario: its steps, and the detail of those that did
/// not pass.
struct Attempt<'a> {
    title: String,
    rerun: bool,
    outcome: Outcome,
    duration_ms: f64,
    trace_id: TraceId,
    steps: &'a [StepResult],
    finally: &'a [StepResult],
}

fn attempt(a: Attempt<'_>) -> AttemptView {
    let Attempt {
        title,
        rerun,
        outcome,
        duration_ms,
        trace_id,
        steps,
        finally,
    } = a;
    let all = || {
        steps
            .iter()
            .map(|s| (false, s))
            .chain(finally.iter().map(|s| (true, s)))
    };
    AttemptView {
        title,
        rerun,
        badge: outcome_badge(outcome),
        duration: duration(duration_ms),
        trace_id: (outcome != Outcome::Passed && !trace_id.is_none()).then(|| trace_id.to_string()),
        steps: all()
            .map(|(finally, s)| StepRow {
                name: s.name.clone(),
                finally,
                badge: step_badge(s.outcome),
                status: s.status.map(|c| c.to_string()).unwrap_or_default(),
                requests: s.requests,
                duration: duration(s.duration_ms),
                location: s.location.to_string(),
                skip_reason: s.skip_reason.clone(),
                failures: s.failures.len(),
            })
            .collect(),
        details: all()
            .filter(|(_, s)| s.outcome.is_shown() || !s.failures.is_empty())
            .map(|(finally, s)| step_detail(s, finally))
            .collect(),
        not_recorded: None,
    }
}

fn step_detail(s: &StepResult, finally: bool) -> StepDetail {
    StepDetail {
        name: s.name.clone(),
        finally,
        badge: step_badge(s.outcome),
        location: s.location.to_string(),
        traceparent: s.traceparent().map(str::to_owned),
        failures: s.failures.iter().map(failure).collect(),
        poll: s.poll.as_ref().map(|p| PollView {
            history: p.compact(),
            attempts: p.attempts,
            elapsed: duration(p.elapsed_ms),
        }),
        exchange: s.exchange.as_deref().map(exchange),
    }
}

fn failure(f: &Failure) -> FailureView {
    FailureView {
        check: f.check.name(),
        kind: match f.kind {
            FailureKind::Assertion => "assertion",
            FailureKind::Runtime => "runtime",
        },
        clause: f.clause_label().unwrap_or_default(),
        counts_as: match (f.kind, f.counts(), f.level) {
            (FailureKind::Runtime, ..) => "",
            (_, false, _) => "inconclusive",
            (_, true, crate::clause::Level::Assumption) => "deviation",
            (_, true, crate::clause::Level::Precondition) => "unmet",
            (_, true, crate::clause::Level::Documented) => "",
        },
        message: f.message.clone(),
        expected: f.expected.clone(),
        actual: f.actual.clone(),
        location: f.location.to_string(),
    }
}

fn exchange(x: &Exchange) -> ExchangeView {
    ExchangeView {
        method: x.request.method.clone(),
        url: x.request.url.clone(),
        request_headers: x.request.headers.clone(),
        request_body: x.request.body.as_deref().map(|b| {
            let cut = x.request.truncated;
            body(
                b,
                cut.then_some((x.request.body_bytes, x.request.body_file.as_deref())),
            )
        }),
        response: x.response.as_ref().map(|r| ResponseView {
            status: r.status,
            duration: duration(r.duration_ms),
            early: x.early_answer().map(|e| {
                let mut e = e;
                if let Some(first) = e.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                e + "."
            }),
            headers: r.headers.clone(),
            body: body(&r.body, r.truncated.then_some((r.body_bytes, None))),
        }),
        curl: x.curl.clone(),
        curl_long: too_long_to_print(&x.curl),
    }
}

/// Blocks longer than this many bytes or lines are cut on paper (the CSS
/// caps their printed height at about [`PRINTED_LINES`] lines).
const PRINTED_BYTES: usize = 2000;
const PRINTED_LINES: usize = 24;

fn too_long_to_print(text: &str) -> bool {
    text.len() > PRINTED_BYTES || text.lines().count() > PRINTED_LINES
}

/// A body cut for display at [`DISPLAY_BODY_BYTES`]; `cut` is the size of
/// the whole body when the runner already cut it, and where the whole of
/// it was written (see [`super::text::cut_note`]).
fn body(text: &str, cut: Option<(usize, Option<&str>)>) -> BodyView {
    let mut notes = Vec::new();
    if let Some((whole, file)) = cut {
        let mut note = super::text::cut_note(whole, file);
        if let Some(first) = note.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        notes.push(format!("{note}."));
    }
    let shown = if text.len() > DISPLAY_BODY_BYTES {
        let mut end = DISPLAY_BODY_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        notes.push(format!(
            "Shown here: the first {} KiB of the {} bytes recorded; report.json has them all.",
            DISPLAY_BODY_BYTES / 1024,
            text.len()
        ));
        &text[..end]
    } else {
        text
    };
    BodyView {
        text: shown.to_owned(),
        empty: text.is_empty(),
        long: too_long_to_print(shown),
        notes,
    }
}

/// `0.4 ms`, `17.7 ms`, `1.66 s`, `2 min 5.0 s`.
fn duration(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "?".into();
    }
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let s = ms / 1000.0;
        format!("{} min {:.1} s", (s / 60.0).floor(), s % 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_page_escapes_what_it_shows() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/reports/failing.json");
        let mut result = crate::report::json::read(&path).expect("the fixture reads");
        let first = result.scenarios.first_mut().expect("a scenario");
        first.id = "f::<script>alert('id')</script>".into();
        let page = fallback_page("template error near <b>\"x\" & 'y'</b>", &result);
        assert!(
            !page.contains("<script>") && !page.contains("<b>"),
            "{page}"
        );
        assert!(
            page.contains("template error near &lt;b&gt;&quot;x&quot; &amp; &#x27;y&#x27;&lt;"),
            "{page}"
        );
        assert!(page.contains("f::&lt;script&gt;alert("), "{page}");
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn bodies_are_cut_on_a_char_boundary() {
        let text = "é".repeat(DISPLAY_BODY_BYTES);
        let b = body(&text, None);
        assert!(b.text.len() <= DISPLAY_BODY_BYTES);
        assert_eq!(b.notes.len(), 1);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(0.412), "0.4 ms");
        assert_eq!(duration(1656.968), "1.66 s");
        assert_eq!(duration(125_000.0), "2 min 5.0 s");
    }
}
