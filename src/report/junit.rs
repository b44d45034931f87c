//! `junit.xml`: the run as JUnit XML for CI systems (Jenkins, GitLab, GitHub
//! annotations, junitparser), written with quick-junit.
//!
//! By default the file validates against the strict Jenkins JUnit XSD
//! (`tests/fixtures/junit/jenkins-junit-10.xsd`). [`JunitOptions::file_line`]
//! adds `file` and `line` to every `<testcase>` for GitLab and GitHub readers;
//! the strict XSD forbids them, hence the option.
//!
//! # Shape
//!
//! `tests/golden/junit-failing.xml` is a whole file, kept true by its test:
//! `<testsuites>`, then the clauses' `<testsuite>` with the run's provenance
//! in `<properties>`, then one `<testsuite>` per case file, one
//! `<testcase>` per scenario.
//!
//! - `<testsuites>`: `name` is the suite, `time` the run's wall time, and the
//!   totals. quick-junit also writes `skipped` there, which the strict XSD
//!   does not allow on the root, so it is removed (the per-file
//!   `<testsuite>`s keep theirs).
//! - One `<testsuite>` per case file (`ScenarioResult::file`), in order of
//!   first appearance, named by the file path. `timestamp` is the run's
//!   `started_at` (the model has no per-scenario start), `time` the sum of its
//!   scenarios' durations.
//! - The first `<testsuite>` (the clauses', or the first case file's when
//!   the suite declares no clauses) carries the run's provenance as
//!   `<properties>`: `tool`, `run_id`, `suite`, `suite_sha256`, `base_url`,
//!   `embedded_server`, `started_at`, `verdict`, `certification`,
//!   `assumptions`, then when known `contract`, `contract_sha256`,
//!   `contract_dialect`, `contract_checks`, `coverage`, `partition`,
//!   `baseline` and `baseline_started_at`, and `interrupted` when the run
//!   was. Only the first: they are the run's, not a case file's, and a run
//!   of a thousand case files wrote them a thousand times, 1.2 KB each.
//! - One `<testcase>` per scenario. `name` is the scenario id
//!   (`file_stem::name`: stable, and unique across the file because GitLab
//!   keeps only the first of equal names; should two ids still collide, the
//!   later ones get ` (2)`, ` (3)`…). `classname` is `SUITE.FILE_STEM`, `time`
//!   the scenario's duration in seconds. With `file_line`, `file` and `line`
//!   point at the YAML of the scenario's first failure, else at the scenario.
//!
//! # Outcomes
//!
//! | model                              | JUnit                                                         |
//! |------------------------------------|---------------------------------------------------------------|
//! | `passed` at the first attempt      | success: one empty element, no `<system-out>` (see below)     |
//! | `passed` after failing (`flaky`)   | success + one `<flakyFailure>` / `<flakyError>` per earlier attempt |
//! | `failed` (an assertion or contract check) | `<failure type="CHECK" message="ONE LINE">BODY</failure>` |
//! | `error` (transport, timeout: no verdict)  | `<error type="CHECK" message="ONE LINE">BODY</error>`     |
//! | `failed` / `error` after reruns    | the above + one `<rerunFailure>` / `<rerunError>` per earlier attempt |
//! | `skipped`                          | `<skipped message="REASON"/>`                                 |
//! | `interrupted`, some steps recorded | `<error type="interrupted" message="…">BODY</error>`          |
//! | `interrupted`, never started       | `<skipped message="interrupted"/>`                            |
//!
//! - `CHECK` is the stable name of the first failure of the deciding kind
//!   (the first assertion failure for `failed`, the first runtime failure for
//!   `error`), steps before `finally`. The message is
//!   ``step `NAME`: MESSAGE`` (or ``finally step `NAME`: …``), with
//!   `(and N more failures)` when there are others, on one line and cut at
//!   300 characters.
//! - `BODY` is [`failure_text`](super::text::failure_text): every failing
//!   step with the `traceparent` of its last request (what a vendor greps
//!   their logs for), its checks with expected against actual and YAML
//!   location, the poll history, the request, the response and a curl line
//!   with `$VEZA_TOKEN`.
//!   Response bodies are cut at [`JUNIT_BODY_CHARS`]; so are request bodies,
//!   curl lines and each failure's message, expected and actual (the text
//!   view cuts only responses; the whole request stays in `report.json`).
//! - An earlier attempt's element has the same `type` and message, its failure
//!   text in `<stackTrace>` and its step log in `<system-out>`. It has no
//!   `time`: the strict XSD allows only `type` and `message` there.
//! - `<system-out>` of a testcase is a short log for a reviewer: where the
//!   scenario is written and its tags, the trace id of its requests (when
//!   it did not pass), one line per step (outcome, last status, requests,
//!   duration, poll history, failed checks or the skip reason), the earlier
//!   attempts, and how it compares with the baseline. A scenario that
//!   passed at its first attempt (lean: see `model::lean`) has none, its
//!   log saying only that every step passed, unless the baseline says
//!   something of it (fixed, added): then that line alone. Its element is
//!   then one line, `<testcase name classname time/>`, so a green run of a
//!   thousand scenarios stays a few hundred KB.
//!
//! Every string goes through quick-junit's `XmlString`, which drops ANSI
//! escapes and the control characters XML 1.0 forbids, then quick-xml's
//! escaping of `<`, `>`, `&`, `"` and `'`; this module also drops the
//! noncharacters U+FFFE and U+FFFF, which XML 1.0 forbids as well. What a
//! server wrote reaches this module printable already (see
//! `crate::printable`): escaped visibly, not dropped, so the XML shows it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::text::steps_text;
use crate::clause::Assumptions;
use crate::model::{
    ClauseRow, ClauseVerdict, FailureKind, Outcome, RunResult, ScenarioResult, StepOutcome,
    StepResult,
};

/// Characters of a response body (and of a request body, a curl line, a
/// failure's expected or actual) shown in a failure body. 8 KiB keeps a
/// typical JSON error whole while a 5 MiB payload cannot bloat the report.
pub const JUNIT_BODY_CHARS: usize = 8192;

/// Characters of a `message` attribute.
const MESSAGE_CHARS: usize = 300;

/// How the JUnit file is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JunitOptions {
    /// Adds `file` and `line` to every `<testcase>`: the YAML of the first
    /// failure when there is one, else the scenario's own line. GitLab links
    /// and GitHub annotations read them; the strict Jenkins XSD rejects them.
    /// Default: false.
    pub file_line: bool,
}

/// Writes the JUnit XML of a run, atomically, one `<testsuite>` at a time
/// (memory holds one case file's test cases, not the whole report).
pub fn write(result: &RunResult, opts: &JunitOptions, path: &Path) -> std::io::Result<()> {
    super::write_atomic_with(path, |w| write_to(result, opts, w))
}

/// The JUnit XML of a run.
pub fn render(result: &RunResult, opts: &JunitOptions) -> String {
    let mut out = Vec::new();
    write_to(result, opts, &mut out).expect("writing into memory cannot fail");
    String::from_utf8(out).expect("quick-junit writes UTF-8")
}

fn serialise(report: &Report) -> std::io::Result<String> {
    let mut out = Vec::new();
    report.serialize(&mut out).map_err(std::io::Error::other)?;
    String::from_utf8(out).map_err(std::io::Error::other)
}

/// Streams the report: the root element with the totals (a first pass over
/// the test cases counts them), then each case file's `<testsuite>` as
/// quick-junit serialises it, then the root's end.
fn write_to(
    result: &RunResult,
    opts: &JunitOptions,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let properties = properties(result);
    let timestamp = chrono::DateTime::parse_from_rfc3339(&result.started_at).ok();
    let groups = by_file(&result.scenarios);
    // The run's properties go on the first `<testsuite>` only: the same
    // provenance on each of a thousand case files' suites was most of a
    // green run's file.
    let suite_of = |names: &mut Names, file: &str, scenarios: &[&ScenarioResult], first: bool| {
        let mut suite = TestSuite::new(clean(file));
        if let Some(t) = timestamp {
            suite.set_timestamp(t);
        }
        suite.set_time(seconds(scenarios.iter().map(|s| s.duration_ms).sum()));
        if first {
            suite.add_properties(properties.iter().cloned());
        }
        for s in scenarios {
            suite.add_test_case(test_case(result, s, names.unique(&s.id), opts));
        }
        suite
    };
    let clauses = (!result.clauses.is_empty()).then(|| {
        let mut suite = clause_suite(result);
        if let Some(t) = timestamp {
            suite.set_timestamp(t);
        }
        suite.add_properties(properties.iter().cloned());
        suite
    });
    let mut root = Report::new(clean(&result.suite));
    root.set_time(seconds(result.duration_ms));
    let mut names = Names::default();
    let mut count = |suite: &TestSuite| {
        root.tests += suite.tests;
        root.failures += suite.failures;
        root.errors += suite.errors;
        root.skipped += suite.skipped;
    };
    if let Some(c) = &clauses {
        count(c);
    }
    for (file, scenarios) in &groups {
        count(&suite_of(&mut names, file, scenarios, false));
    }
    // An empty report is the declaration, the root's start tag and its end tag.
    let frame = strict_root(serialise(&root)?);
    let end_at = frame.rfind("</testsuites>").unwrap_or(frame.len());
    w.write_all(&frame.as_bytes()[..end_at])?;
    let mut names = Names::default();
    let suites = clauses.into_iter().map(Ok).chain(
        groups
            .iter()
            .map(|(file, scenarios)| Err((file, scenarios))),
    );
    for (i, suite) in suites.enumerate() {
        let suite = match suite {
            Ok(clauses) => clauses,
            Err((file, scenarios)) => suite_of(&mut names, file, scenarios, i == 0),
        };
        let mut one = Report::new(clean(&result.suite));
        one.add_test_suite(suite);
        let xml = serialise(&one)?;
        // Between the root's start line and its end tag, indentation kept.
        let start = xml
            .find("<testsuites")
            .and_then(|i| xml[i..].find('\n').map(|n| i + n + 1));
        let end = xml.rfind("</testsuites>");
        if let (Some(start), Some(end)) = (start, end) {
            w.write_all(&xml.as_bytes()[start..end])?;
        }
    }
    w.write_all(&frame.as_bytes()[end_at..])
}

/// Name of the `<testsuite>` holding the clause matrix.
pub const CLAUSE_SUITE: &str = "clauses";

/// The clause matrix as a `<testsuite name="clauses">`, one `<testcase>`
/// per clause named `ID: STATEMENT`: met is a success; broken a
/// `<failure type="broken">`; a deviation a `<skipped type="deviates">`
/// (a `<failure type="deviates">` under `--assumptions strict`); an unmet
/// precondition, an inconclusive or unexercised clause a `<skipped>` of
/// that type. Each names the scenarios that decided it.
fn clause_suite(r: &RunResult) -> TestSuite {
    let strict = r.policy.assumptions == Assumptions::Strict;
    let mut suite = TestSuite::new(CLAUSE_SUITE);
    for c in &r.clauses {
        // The message stays one short line; the log names more.
        let decided = super::text::deciding(&c.scenarios, CLAUSE_SCENARIOS_IN_MESSAGE, false);
        let status = match c.verdict {
            ClauseVerdict::Met => TestCaseStatus::success(),
            ClauseVerdict::Broken => clause_status(
                Some(NonSuccessKind::Failure),
                "broken",
                format!("{} broken in {decided}", c.id),
                r,
                c,
            ),
            ClauseVerdict::Deviates => clause_status(
                strict.then_some(NonSuccessKind::Failure),
                "deviates",
                format!("{} ({}) deviates in {decided}", c.id, c.level),
                r,
                c,
            ),
            ClauseVerdict::Unmet => clause_status(
                None,
                "unmet",
                format!("precondition {} not met in {decided}", c.id),
                r,
                c,
            ),
            ClauseVerdict::Inconclusive => {
                let because: Vec<&str> = c.because.iter().map(|p| &**p).collect();
                clause_status(
                    None,
                    "inconclusive",
                    format!(
                        "{} inconclusive: {} not met in {decided}",
                        c.id,
                        because.join(", ")
                    ),
                    r,
                    c,
                )
            }
            ClauseVerdict::NotExercised => clause_status(
                None,
                "not_exercised",
                format!("{} was not exercised by any scenario that ran", c.id),
                r,
                c,
            ),
        };
        let mut tc = TestCase::new(clean(&clause_case_name(c)), status);
        tc.set_classname(clean(&format!("{}.{CLAUSE_SUITE}", r.suite)));
        let decided = super::text::deciding(&c.scenarios, CLAUSE_SCENARIOS_SHOWN, false);
        let mut log = format!("{} ({}): {}\n", c.id, c.level, c.statement);
        if let Some(src) = &c.source {
            let _ = writeln!(log, "source: {src}");
        }
        let _ = writeln!(log, "verdict: {}", c.verdict);
        if !decided.is_empty() {
            let _ = writeln!(log, "decided by: {decided}");
        }
        tc.set_system_out(clean(&log));
        suite.add_test_case(tc);
    }
    suite
}

/// Scenarios named per clause in its log (report.json has them all).
const CLAUSE_SCENARIOS_SHOWN: usize = 20;
/// Scenarios named per clause in its one-line message.
const CLAUSE_SCENARIOS_IN_MESSAGE: usize = 3;
/// Failed checks of a clause shown in its body.
const CLAUSE_FAILURES_SHOWN: usize = 20;

/// Characters of a clause's testcase name.
const CLAUSE_NAME_CHARS: usize = 100;

/// `D2: Cancelling an in-progress query …`: the id, then the statement cut
/// at [`CLAUSE_NAME_CHARS`] (ids are unique, so names are).
fn clause_case_name(c: &ClauseRow) -> String {
    let name = format!("{}: {}", c.id, c.statement);
    if name.chars().count() <= CLAUSE_NAME_CHARS {
        return name;
    }
    let mut cut: String = name.chars().take(CLAUSE_NAME_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// A clause's `<failure>` (when `kind` is given) or `<skipped>`: the
/// message, and as body the failed checks of it in the deciding scenarios.
fn clause_status(
    kind: Option<NonSuccessKind>,
    ty: &str,
    message: String,
    r: &RunResult,
    c: &ClauseRow,
) -> TestCaseStatus {
    let mut st = match kind {
        Some(k) => TestCaseStatus::non_success(k),
        None => TestCaseStatus::skipped(),
    };
    st.set_type(ty).set_message(one_line(&message));
    let deciding: std::collections::HashSet<&str> = c.scenarios.iter().map(|s| &**s).collect();
    let mut body = String::new();
    let mut shown = 0usize;
    let mut more = 0usize;
    for s in r.scenarios.iter().filter(|s| deciding.contains(&*s.id)) {
        for (step, f) in s.failures() {
            if f.clause.as_deref() != Some(&*c.id) {
                continue;
            }
            if shown == CLAUSE_FAILURES_SHOWN {
                more += 1;
                continue;
            }
            shown += 1;
            let _ = writeln!(
                body,
                "{} / step `{}`: [{}] {}",
                s.id,
                step.name,
                super::text::check_label(f),
                crate::expr::matcher::truncate(&f.message, JUNIT_BODY_CHARS)
            );
        }
    }
    if more > 0 {
        let _ = writeln!(body, "… and {more} more (report.json lists them all)");
    }
    if !body.is_empty() {
        st.set_description(clean(&body));
    }
    st
}

/// The case files in order of first appearance, each with its scenarios.
fn by_file(scenarios: &[ScenarioResult]) -> Vec<(&str, Vec<&ScenarioResult>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut files: Vec<(&str, Vec<&ScenarioResult>)> = Vec::new();
    for s in scenarios {
        let i = *index.entry(&*s.file).or_insert_with(|| {
            files.push((&*s.file, Vec::new()));
            files.len() - 1
        });
        files[i].1.push(s);
    }
    files
}

/// Testcase names, unique across the file.
#[derive(Default)]
struct Names {
    seen: HashMap<String, usize>,
}

impl Names {
    fn unique(&mut self, id: &str) -> String {
        let mut name = clean(id);
        let mut n = 1;
        while self.seen.contains_key(&name) {
            n += 1;
            name = format!("{} ({n})", clean(id));
        }
        self.seen.insert(name.clone(), n);
        name
    }
}

/// The run's provenance, repeated on every `<testsuite>`.
fn properties(r: &RunResult) -> Vec<Property> {
    let mut p = vec![("tool", r.tool.clone())];
    if !r.run_id.is_empty() {
        p.push(("run_id", r.run_id.clone()));
    }
    p.push(("suite", r.suite.clone()));
    if !r.suite_sha256.is_empty() {
        p.push(("suite_sha256", r.suite_sha256.clone()));
    }
    p.extend([
        ("base_url", r.base_url.clone()),
        ("embedded_server", r.embedded_server.to_string()),
        ("started_at", r.started_at.clone()),
    ]);
    for url in r.servers.values() {
        p.push(("server", url.clone()));
    }
    let verdict = crate::model::verdict::Verdict::of(r);
    p.push(("verdict", verdict.headline));
    p.push(("certification", verdict.statement));
    p.push((
        "assumptions",
        match r.policy.assumptions {
            Assumptions::Lenient => "lenient".to_owned(),
            Assumptions::Strict => "strict".to_owned(),
        },
    ));
    if let Some(c) = &r.contract {
        p.push(("contract", c.file.clone()));
        p.push(("contract_sha256", c.sha256.clone()));
        p.push(("contract_dialect", c.dialect.clone()));
        p.push(("contract_checks", c.checks_text()));
    }
    if let Some(c) = &r.coverage {
        p.push((
            "coverage",
            format!("{:.1}% ({}/{})", c.percent, c.covered, c.total),
        ));
    }
    if let Some(part) = &r.partition {
        p.push(("partition", part.clone()));
    }
    if let Some(reg) = &r.regression {
        p.push(("baseline", reg.baseline.clone()));
        p.push(("baseline_started_at", reg.baseline_started_at.clone()));
    }
    if r.interrupted {
        p.push(("interrupted", "true".to_owned()));
    }
    p.into_iter()
        .map(|(k, v)| Property::new(k, clean(&v)))
        .collect()
}

fn test_case(run: &RunResult, s: &ScenarioResult, name: String, opts: &JunitOptions) -> TestCase {
    let strict = run.policy.assumptions == Assumptions::Strict;
    let mut status = match s.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed => non_success(NonSuccessKind::Failure, s),
        Outcome::Error => non_success(NonSuccessKind::Error, s),
        Outcome::Deviates if strict => non_success(NonSuccessKind::Failure, s),
        Outcome::Deviates | Outcome::Inconclusive => reported_skip(s),
        Outcome::Skipped => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(one_line(s.skip_reason.as_deref().unwrap_or("skipped")));
            st
        }
        Outcome::Interrupted if s.steps.is_empty() => {
            let mut st = TestCaseStatus::skipped();
            st.set_message("interrupted");
            st
        }
        Outcome::Interrupted => interrupted(s),
    };
    // Earlier attempts: flaky runs under a success, reruns under a non-success
    // (quick-junit drops them under a skip, which has nothing to attach to).
    // (`<rerunFailure>` is quick-junit's default for a non-success).
    status.add_reruns(s.reruns.iter().map(rerun));

    let mut tc = TestCase::new(name, status);
    tc.set_classname(clean(&format!("{}.{}", run.suite, file_stem(&s.file))))
        .set_time(seconds(s.duration_ms));
    // A lean scenario (passed at its first attempt) is one line: its log
    // would only say that every step passed. What the baseline says of it
    // is still told.
    let log = if s.is_lean() {
        regression_log(run, s)
    } else {
        system_out(run, s)
    };
    if !log.is_empty() {
        tc.set_system_out(clean(&log));
    }
    if opts.file_line {
        let at = s
            .failures()
            .map(|(_, f)| &f.location)
            .find(|l| l.line > 0 && !l.file.is_empty())
            .unwrap_or(&s.location);
        let file: &str = if at.file.is_empty() {
            &s.file
        } else {
            &at.file
        };
        tc.extra.insert("file".into(), clean(file).into());
        tc.extra.insert("line".into(), at.line.to_string().into());
    }
    tc
}

/// `<skipped type="deviates" message="deviates from A6: …">` (or
/// `type="inconclusive"`) with the failure text as its body: shown and
/// counted by every reader, without failing the build.
fn reported_skip(s: &ScenarioResult) -> TestCaseStatus {
    let (ty, what) = match s.outcome {
        Outcome::Deviates => ("deviates", "deviates from an assumption"),
        _ => ("inconclusive", "inconclusive: a precondition was not met"),
    };
    let first = labelled(&s.steps, &s.finally)
        .flat_map(|(part, st)| st.failures.iter().map(move |f| (part, st, f)))
        .find(|(_, _, f)| f.kind == FailureKind::Assertion);
    let message = match first {
        Some((part, st, f)) => format!(
            "{what}: [{}] {part} `{}`: {}",
            super::text::check_label(f),
            st.name,
            f.message
        ),
        None => what.to_owned(),
    };
    let mut st = TestCaseStatus::skipped();
    st.set_type(ty).set_message(one_line(&message));
    let body = body_text(&s.steps, &s.finally);
    if !body.is_empty() {
        st.set_description(clean(&body));
    }
    st
}

/// `<failure>` or `<error>` for a scenario that failed or errored.
fn non_success(kind: NonSuccessKind, s: &ScenarioResult) -> TestCaseStatus {
    let (ty, message) = headline(kind, &s.steps, &s.finally);
    let mut st = TestCaseStatus::non_success(kind);
    st.set_type(ty).set_message(message);
    let body = body_text(&s.steps, &s.finally);
    if !body.is_empty() {
        st.set_description(clean(&body));
    }
    st
}

/// `<error type="interrupted">` for a scenario Ctrl-C stopped midway.
fn interrupted(s: &ScenarioResult) -> TestCaseStatus {
    let last = s
        .steps
        .iter()
        .chain(&s.finally)
        .rfind(|st| st.outcome != StepOutcome::Skipped);
    let message = match last {
        Some(st) => format!(
            "the run was interrupted (Ctrl-C) during this scenario, after step `{}`",
            st.name
        ),
        None => "the run was interrupted (Ctrl-C) during this scenario".to_owned(),
    };
    let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
    st.set_type("interrupted").set_message(one_line(&message));
    let body = body_text(&s.steps, &s.finally);
    if !body.is_empty() {
        st.set_description(clean(&body));
    }
    st
}

/// An earlier attempt as `<flakyFailure>`, `<rerunFailure>` (or `…Error`).
fn rerun(r: &crate::model::Rerun) -> TestRerun {
    let kind = match r.outcome {
        Outcome::Error | Outcome::Interrupted => NonSuccessKind::Error,
        _ => NonSuccessKind::Failure,
    };
    let (ty, message) = headline(kind, &r.steps, &r.finally);
    let mut t = TestRerun::new(kind);
    t.set_type(ty).set_message(message);
    let body = body_text(&r.steps, &r.finally);
    if !body.is_empty() {
        t.set_stack_trace(clean(&body));
    }
    let mut log = format!(
        "attempt: {}, {:.1} ms\n",
        outcome_word(r.outcome),
        r.duration_ms
    );
    step_log(&mut log, &r.steps, &r.finally);
    t.set_system_out(clean(&log));
    t
}

/// The `type` and the one-line `message` of an attempt that did not pass.
fn headline(
    kind: NonSuccessKind,
    steps: &[StepResult],
    finally: &[StepResult],
) -> (String, String) {
    let wanted = match kind {
        NonSuccessKind::Failure => FailureKind::Assertion,
        NonSuccessKind::Error => FailureKind::Runtime,
    };
    let all: Vec<_> = labelled(steps, finally)
        .flat_map(|(part, s)| s.failures.iter().map(move |f| (part, s, f)))
        .collect();
    // What decided the kind: a documented check for a failure, before a
    // deviation or an inconclusive one.
    let first = all
        .iter()
        .find(|(_, _, f)| f.kind == wanted && f.counts() && f.level.is_documented())
        .or_else(|| all.iter().find(|(_, _, f)| f.kind == wanted))
        .or_else(|| all.first());
    match first {
        Some((part, s, f)) => {
            let mut m = format!("{part} `{}`: {}", s.name, f.message);
            if all.len() > 1 {
                let more = all.len() - 1;
                let _ = write!(
                    m,
                    " (and {more} more failure{})",
                    if more == 1 { "" } else { "s" }
                );
            }
            let tag = f
                .clause_label()
                .map(|c| format!("[{c}] "))
                .unwrap_or_default();
            (f.check.name().to_owned(), one_line(&format!("{tag}{m}")))
        }
        None => {
            let ty = match kind {
                NonSuccessKind::Failure => "failed",
                NonSuccessKind::Error => "error",
            };
            let m = match labelled(steps, finally)
                .find(|(_, s)| matches!(s.outcome, StepOutcome::Failed | StepOutcome::Error))
            {
                Some((part, s)) => format!("{part} `{}` {}", s.name, step_word(s.outcome)),
                None => format!("the scenario {ty} without a recorded check"),
            };
            (ty.to_owned(), one_line(&m))
        }
    }
}

fn labelled<'a>(
    steps: &'a [StepResult],
    finally: &'a [StepResult],
) -> impl Iterator<Item = (&'static str, &'a StepResult)> {
    steps
        .iter()
        .map(|s| ("step", s))
        .chain(finally.iter().map(|s| ("finally step", s)))
}

/// The failure text of an attempt, every long text cut at [`JUNIT_BODY_CHARS`].
fn body_text(steps: &[StepResult], finally: &[StepResult]) -> String {
    steps_text(steps, finally, JUNIT_BODY_CHARS)
}

/// The short log of `<system-out>`.
fn system_out(run: &RunResult, s: &ScenarioResult) -> String {
    let mut out = format!("scenario at {}", s.location);
    if !s.tags.is_empty() {
        let _ = write!(out, ", tags: {}", s.tags.join(", "));
    }
    out.push('\n');
    // Where a vendor finds every request of a scenario that did not pass.
    if s.outcome != Outcome::Passed && !s.trace_id.is_none() {
        let _ = writeln!(out, "trace id: {}", s.trace_id);
    }
    if let Some(reason) = &s.skip_reason {
        let _ = writeln!(out, "skipped: {reason}");
    }
    step_log(&mut out, &s.steps, &s.finally);
    if let Some(t) = &s.totals {
        let _ = writeln!(
            out,
            "steps not recorded (report.json keeps a passing attempt's totals): {} request{}",
            t.requests,
            if t.requests == 1 { "" } else { "s" }
        );
    }
    if !s.reruns.is_empty() {
        let earlier: Vec<String> = s
            .reruns
            .iter()
            .map(|r| format!("{} ({:.1} ms)", outcome_word(r.outcome), r.duration_ms))
            .collect();
        let _ = writeln!(
            out,
            "attempt {} of {}; earlier: {}",
            s.reruns.len() + 1,
            s.reruns.len() + 1,
            earlier.join(", ")
        );
    }
    out.push_str(&regression_log(run, s));
    out
}

/// What the baseline says of scenario `s`, one line per group it is in.
fn regression_log(run: &RunResult, s: &ScenarioResult) -> String {
    let mut out = String::new();
    if let Some(reg) = &run.regression {
        let groups = [
            (&reg.new_failures, "new failure: it passed in the baseline"),
            (&reg.fixed, "fixed: it failed in the baseline"),
            (
                &reg.still_failing,
                "still failing: it failed in the baseline too",
            ),
            (&reg.added, "added: not in the baseline"),
        ];
        for (ids, what) in groups {
            if ids.iter().any(|i| **i == *s.id) {
                let _ = writeln!(out, "regression: {what} ({})", reg.baseline);
            }
        }
    }
    out
}

fn step_log(out: &mut String, steps: &[StepResult], finally: &[StepResult]) {
    for (part, s) in labelled(steps, finally) {
        let _ = write!(out, "{part} `{}`: {}", s.name, outcome_step(s.outcome));
        if s.outcome == StepOutcome::Skipped {
            match &s.skip_reason {
                Some(reason) => {
                    let _ = writeln!(out, " ({reason})");
                }
                None => out.push('\n'),
            }
            continue;
        }
        if let Some(status) = s.status {
            let _ = write!(out, ", status {status}");
        }
        let _ = write!(
            out,
            ", {} request{}, {:.1} ms",
            s.requests,
            if s.requests == 1 { "" } else { "s" },
            s.duration_ms
        );
        if let Some(p) = &s.poll {
            let _ = write!(out, ", polled {}", p.compact());
        }
        if !s.failures.is_empty() {
            let mut checks: Vec<String> = Vec::new();
            for f in &s.failures {
                let label = match &f.clause {
                    Some(c) => format!("{} ({c})", f.check),
                    None => f.check.name().to_owned(),
                };
                if !checks.contains(&label) {
                    checks.push(label);
                }
            }
            let _ = write!(out, ", checks failed: {}", checks.join(", "));
        }
        out.push('\n');
    }
}

fn outcome_step(o: StepOutcome) -> &'static str {
    o.as_str()
}

fn step_word(o: StepOutcome) -> &'static str {
    if o == StepOutcome::Error {
        "could not complete"
    } else {
        "failed"
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    o.as_str()
}

/// `cases/01_create.yaml` → `01_create`.
fn file_stem(file: &str) -> &str {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    }
}

/// Milliseconds from the model as a duration; negative or NaN is zero.
fn seconds(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

/// One line of at most [`MESSAGE_CHARS`] characters: line breaks and tabs
/// become spaces, runs of spaces one.
fn one_line(s: &str) -> String {
    let flat: String = s
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let flat = clean(&flat);
    if flat.chars().count() <= MESSAGE_CHARS {
        flat
    } else {
        let mut cut: String = flat.chars().take(MESSAGE_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// Drops U+FFFE and U+FFFF, which XML 1.0 forbids and `XmlString` keeps.
fn clean(s: &str) -> String {
    s.replace(['\u{fffe}', '\u{ffff}'], "")
}

/// Removes the `skipped` attribute quick-junit writes on `<testsuites>`,
/// which the strict XSD does not allow there. Only the root's start tag is
/// touched: its attribute values are escaped, so they hold no `"` or `>`.
fn strict_root(xml: String) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml;
    };
    let Some(len) = xml[start..].find('>') else {
        return xml;
    };
    let tag = &xml[start..start + len];
    let Some(at) = tag.find(" skipped=\"") else {
        return xml;
    };
    let value_start = at + " skipped=\"".len();
    let Some(value_len) = tag[value_start..].find('"') else {
        return xml;
    };
    let mut out = xml.clone();
    out.replace_range(start + at..start + value_start + value_len + 1, "");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_loses_only_its_skipped_attribute() {
        let xml = "<?xml version=\"1.0\"?>\n<testsuites name=\"a skipped=&quot;1&quot;\" tests=\"1\" skipped=\"3\" failures=\"0\">\n<testsuite skipped=\"3\"/>";
        assert_eq!(
            strict_root(xml.to_owned()),
            "<?xml version=\"1.0\"?>\n<testsuites name=\"a skipped=&quot;1&quot;\" tests=\"1\" failures=\"0\">\n<testsuite skipped=\"3\"/>"
        );
    }

    #[test]
    fn messages_are_one_short_line() {
        assert_eq!(one_line("a\n  b\tc\r\n"), "a b c");
        let long = "x".repeat(1000);
        let m = one_line(&long);
        assert_eq!(m.chars().count(), MESSAGE_CHARS);
        assert!(m.ends_with('…'));
    }

    #[test]
    fn names_are_made_unique() {
        let mut n = Names::default();
        assert_eq!(n.unique("a::b"), "a::b");
        assert_eq!(n.unique("a::b"), "a::b (2)");
        assert_eq!(n.unique("a::b (2)"), "a::b (2) (2)");
        assert_eq!(n.unique("a::b"), "a::b (3)");
    }

    #[test]
    fn stems_and_seconds() {
        assert_eq!(file_stem("cases/01_x.yaml"), "01_x");
        assert_eq!(file_stem("x"), "x");
        assert_eq!(file_stem("a\\.hidden"), ".hidden");
        assert_eq!(seconds(1500.0), Duration::from_millis(1500));
        assert_eq!(seconds(-1.0), Duration::ZERO);
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
    }
}
