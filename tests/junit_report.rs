//! `junit.xml` against its readers: the strict Jenkins XSD (read by
//! `common::xsd`, and by `xmllint` too where it is installed), the
//! `junit-parser` crate (and Python's junitparser too, from the interpreter
//! named by `CONFORM_PYTHON`, default `python3`, where it is installed: the
//! two readers must read the same), and golden files with times, ports and
//! ids masked (`UPDATE_GOLDEN=1 cargo test --test junit_report` rewrites
//! them).
//!
//! The outside tools are extra checks: without them these tests still
//! validate and read every file; with `CONFORM_REQUIRE_TOOLS` set (as
//! `.ci/run` does) a missing one fails them.

mod common;
use common::{
    assert_valid_junit as assert_valid, golden, junit_schema_check, mask_with,
    report_fixture as fixture, tools_required,
};

use std::path::{Path, PathBuf};
use std::process::Command;

use conform::clause::Assumptions;
use conform::model::Check;
use conform::model::{
    ClauseVerdict, Failure, FailureKind, Outcome, Regression, Rerun, RunResult, ScenarioResult,
    StepOutcome, StepResult,
};
use conform::report::junit::{self, JunitOptions};
use regex::Regex;
use serde_json::Value;

/// Renders into a temporary file (kept alive by the returned guard).
fn written(result: &RunResult, opts: &JunitOptions) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("junit.xml");
    junit::write(result, opts, &path).expect("junit.xml is written");
    let xml = std::fs::read_to_string(&path).expect("junit.xml is read back");
    assert_eq!(xml, junit::render(result, opts), "write and render agree");
    (dir, path, xml)
}

const PARSE: &str = r#"
import json, sys
import junitparser
from junitparser import JUnitXml, Failure, Error, Skipped
from junitparser import xunit2

xml = JUnitXml.fromfile(sys.argv[1])
out = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0,
       "attr": {"tests": 0, "failures": 0, "errors": 0, "skipped": 0},
       "cases": []}
for suite in xml:
    for k in out["attr"]:
        out["attr"][k] += getattr(suite, k) or 0
    for case in suite:
        out["tests"] += 1
        results = []
        for r in case.result:
            tag = {Failure: "failure", Error: "error", Skipped: "skipped"}[type(r)]
            out[{"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]] += 1
            results.append({"tag": tag, "type": r.type, "message": r.message, "text": r.text})
        out["cases"].append({"name": case.name, "classname": case.classname,
                             "time": case.time, "results": results,
                             "system_out": case.system_out})
interim = {"flakyFailure": 0, "flakyError": 0, "rerunFailure": 0, "rerunError": 0}
for suite in xunit2.JUnitXml.fromfile(sys.argv[1]):
    for case in suite:
        interim["flakyFailure"] += len(case.flaky_failures())
        interim["flakyError"] += len(case.flaky_errors())
        interim["rerunFailure"] += len(case.rerun_failures())
        interim["rerunError"] += len(case.rerun_errors())
out["interim"] = interim
print(json.dumps(out))
"#;

/// What a reader of JUnit reads from the file: the `junit-parser` crate,
/// in the shape the script [`PARSE`] prints for Python's junitparser,
/// whose reading must be the same where it is installed.
fn junitparser(path: &Path) -> Value {
    let ours = read_junit(path);
    if let Some(mut theirs) = python_junitparser(path) {
        // What the two readers do differently by design: junit-parser
        // trims some texts and reads a missing `time` as 0.
        normalise(&mut theirs);
        let mut ours = ours.clone();
        normalise(&mut ours);
        let differences = differences(&ours, &theirs, "");
        assert!(
            differences.is_empty(),
            "junit-parser and junitparser read {} differently:\n{}",
            path.display(),
            differences.join("\n")
        );
    }
    ours
}

/// A reading with texts trimmed and a missing time as 0, as junit-parser
/// reads some of them.
fn normalise(v: &mut Value) {
    match v {
        Value::String(s) => *s = s.trim().to_owned(),
        Value::Array(a) => a.iter_mut().for_each(normalise),
        Value::Object(o) => {
            if o.get("time") == Some(&Value::Null) {
                o.insert("time".into(), Value::from(0.0));
            }
            o.values_mut().for_each(normalise);
        }
        _ => {}
    }
}

/// Where two readings differ: one line per value, with its path.
fn differences(a: &Value, b: &Value, at: &str) -> Vec<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
            keys.into_iter()
                .flat_map(|k| {
                    let null = Value::Null;
                    differences(
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        &format!("{at}.{k}"),
                    )
                })
                .collect()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .flat_map(|(i, (x, y))| differences(x, y, &format!("{at}[{i}]")))
            .collect(),
        _ if a == b => vec![],
        _ => {
            let cut = |v: &Value| v.to_string().chars().take(300).collect::<String>();
            vec![format!(
                "{at}: junit-parser {}, junitparser {}",
                cut(a),
                cut(b)
            )]
        }
    }
}

/// The file as the `junit-parser` crate reads it.
fn read_junit(path: &Path) -> Value {
    use junit_parser::{RerunOrFlakyKind, TestStatus};
    let file = std::fs::File::open(path).expect("junit.xml opens");
    let report = junit_parser::from_reader(std::io::BufReader::new(file))
        .unwrap_or_else(|e| panic!("junit-parser cannot read {}: {e}", path.display()));
    let mut counts = [0_u64; 4];
    let mut attr = [0_u64; 4];
    let mut interim = [0_u64; 4];
    let mut cases = Vec::new();
    for suite in &report.suites {
        for (a, v) in
            attr.iter_mut()
                .zip([suite.tests, suite.failures, suite.errors, suite.skipped])
        {
            *a += v;
        }
        for case in &suite.cases {
            counts[0] += 1;
            let result = |tag: &str, ty: &str, message: &str, text: &str| {
                let some = |s: &str| {
                    if s.is_empty() {
                        Value::Null
                    } else {
                        Value::from(s)
                    }
                };
                serde_json::json!({"tag": tag, "type": some(ty), "message": some(message), "text": some(text)})
            };
            let results: Vec<Value> = match &case.status {
                TestStatus::Success => vec![],
                TestStatus::Failure(f) => {
                    counts[1] += 1;
                    vec![result("failure", &f.failure_type, &f.message, &f.text)]
                }
                TestStatus::Error(e) => {
                    counts[2] += 1;
                    vec![result("error", &e.error_type, &e.message, &e.text)]
                }
                TestStatus::Skipped(s) => {
                    counts[3] += 1;
                    vec![result("skipped", &s.skipped_type, &s.message, &s.text)]
                }
            };
            for r in &case.reruns {
                interim[match r.kind {
                    RerunOrFlakyKind::FlakyFailure => 0,
                    RerunOrFlakyKind::FlakyError => 1,
                    RerunOrFlakyKind::RerunFailure => 2,
                    RerunOrFlakyKind::RerunError => 3,
                }] += 1;
            }
            cases.push(serde_json::json!({
                "name": case.original_name,
                "classname": case.classname,
                "time": case.time,
                "results": results,
                "system_out": case.system_out,
            }));
        }
    }
    serde_json::json!({
        "tests": counts[0], "failures": counts[1], "errors": counts[2], "skipped": counts[3],
        "attr": {"tests": attr[0], "failures": attr[1], "errors": attr[2], "skipped": attr[3]},
        "cases": cases,
        "interim": {"flakyFailure": interim[0], "flakyError": interim[1],
                    "rerunFailure": interim[2], "rerunError": interim[3]},
    })
}

/// What Python's junitparser reads from the file, or `None` when the
/// interpreter or junitparser is missing and not required.
fn python_junitparser(path: &Path) -> Option<Value> {
    let python = std::env::var("CONFORM_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = match Command::new(&python)
        .arg("-c")
        .arg(PARSE)
        .arg(path)
        .output()
    {
        Ok(out) => out,
        Err(e) if !tools_required() => {
            common::skipped(&format!("junitparser not run: {python}: {e}"));
            return None;
        }
        Err(e) => panic!("{python} is required (set CONFORM_PYTHON): {e}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success()
        && stderr.contains("No module named 'junitparser'")
        && !tools_required()
    {
        common::skipped(&format!("junitparser not run: {python} has no junitparser"));
        return None;
    }
    assert!(
        out.status.success(),
        "{python} with junitparser failed (set CONFORM_PYTHON to an interpreter with junitparser, e.g. the one .ci/run makes):\n{stderr}"
    );
    Some(serde_json::from_slice(&out.stdout).expect("the script prints JSON"))
}

/// The counts the model calls for: (tests, failures, errors, skipped),
/// scenarios and clauses together. A deviation is a `<skipped>` (a
/// `<failure>` under strict assumptions), an inconclusive scenario a
/// `<skipped>`; a broken clause is a `<failure>`, any other clause that is
/// not met a `<skipped>`.
fn expected_counts(r: &RunResult) -> (usize, usize, usize, usize) {
    let strict = r.policy.assumptions == Assumptions::Strict;
    let started = |s: &&ScenarioResult| s.outcome == Outcome::Interrupted && !s.steps.is_empty();
    let interrupted_started = r.scenarios.iter().filter(started).count();
    let interrupted = r.count(Outcome::Interrupted);
    let deviates = r.count(Outcome::Deviates);
    let clauses = |v: ClauseVerdict| r.clauses.iter().filter(|c| c.verdict == v).count();
    let (dev_failures, dev_skipped) = if strict {
        (deviates + clauses(ClauseVerdict::Deviates), 0)
    } else {
        (0, deviates + clauses(ClauseVerdict::Deviates))
    };
    (
        r.scenarios.len() + r.clauses.len(),
        r.count(Outcome::Failed) + clauses(ClauseVerdict::Broken) + dev_failures,
        r.count(Outcome::Error) + interrupted_started,
        r.count(Outcome::Skipped) + interrupted - interrupted_started
            + r.count(Outcome::Inconclusive)
            + dev_skipped
            + clauses(ClauseVerdict::Unmet)
            + clauses(ClauseVerdict::Inconclusive)
            + clauses(ClauseVerdict::NotExercised),
    )
}

fn assert_counts(r: &RunResult, parsed: &Value) {
    let (tests, failures, errors, skipped) = expected_counts(r);
    let n = |v: &Value| v.as_u64().expect("a count") as usize;
    let got = (
        n(&parsed["tests"]),
        n(&parsed["failures"]),
        n(&parsed["errors"]),
        n(&parsed["skipped"]),
    );
    assert_eq!(got, (tests, failures, errors, skipped), "elements read");
    let a = &parsed["attr"];
    let got = (
        n(&a["tests"]),
        n(&a["failures"]),
        n(&a["errors"]),
        n(&a["skipped"]),
    );
    assert_eq!(got, (tests, failures, errors, skipped), "suite attributes");
}

fn case<'a>(parsed: &'a Value, name: &str) -> &'a Value {
    parsed["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no testcase {name}"))
}

/// The test case of clause `id` in the `clauses` suite.
fn clause_case<'a>(parsed: &'a Value, id: &str) -> &'a Value {
    parsed["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| {
            c["classname"]
                .as_str()
                .is_some_and(|n| n.ends_with(".clauses"))
                && c["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(&format!("{id}: ")))
        })
        .unwrap_or_else(|| panic!("no testcase for clause {id}"))
}

fn testcase_names(xml: &str) -> Vec<String> {
    Regex::new(r#"<testcase name="([^"]*)""#)
        .expect("regex")
        .captures_iter(xml)
        .map(|c| c[1].to_owned())
        .collect()
}

fn assert_unique_names(xml: &str) {
    let names = testcase_names(xml);
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        names.len(),
        "duplicate testcase names: {names:?}"
    );
}

/// The first `<testsuite>` element of `xml`, whole.
fn first_suite(xml: &str) -> &str {
    let start = xml.find("<testsuite ").expect("a testsuite");
    let end = start + xml[start..].find("</testsuite>").expect("closed");
    &xml[start..end]
}

// --- real reports --------------------------------------------------------

#[test]
fn passing_report_validates_and_parses() {
    let r = fixture("passing.json");
    let (_dir, path, xml) = written(&r, &JunitOptions::default());
    assert_valid(&path);
    let parsed = junitparser(&path);
    assert_counts(&r, &parsed);
    assert_eq!(expected_counts(&r), (20 + 23, 0, 0, 0));
    assert_unique_names(&xml);
    assert_eq!(
        xml.matches("<testsuite ").count(),
        21,
        "the clause matrix, then one testsuite per case file"
    );
    let c = case(
        &parsed,
        "03_done_rows_paged::uncancelled query reaches DONE and pages every row once",
    );
    assert_eq!(
        c["classname"],
        "veza-query-builder-async-nodes.03_done_rows_paged"
    );
    // Passed at its first attempt: one element, no log of its steps.
    assert!(c["system_out"].is_null(), "{c}");
    let line = xml
        .lines()
        .find(|l| l.contains("<testcase name=\"03_done_rows_paged::"))
        .expect("the testcase");
    assert!(line.trim_end().ends_with("\"/>"), "{line}");
    assert!(
        !xml.contains("<system-out>scenario at "),
        "a passing scenario's log"
    );
    // The run's properties once, on the first testsuite (the clauses').
    assert_eq!(xml.matches("<properties>").count(), 1);
    assert!(first_suite(&xml).contains("name=\"clauses\""));
    assert!(first_suite(&xml).contains("<property name=\"run_id\" value=\""));
    // What a baseline says of a passing scenario is still its log.
    let mut compared = r.clone();
    compared.regression = Some(Regression {
        baseline: "old/report.json".into(),
        fixed: vec![r.scenarios[2].id.to_string()],
        ..Regression::default()
    });
    let (_dir, path, _) = written(&compared, &JunitOptions::default());
    assert_valid(&path);
    let fixed = junitparser(&path);
    let log = case(&fixed, &r.scenarios[2].id)["system_out"]
        .as_str()
        .expect("system-out")
        .to_owned();
    assert_eq!(
        log,
        "regression: fixed: it failed in the baseline (old/report.json)\n"
    );
    assert!(case(&fixed, &r.scenarios[3].id)["system_out"].is_null());
    // Each clause is a passing test case of the `clauses` suite, naming the
    // scenarios that met it.
    let c = clause_case(&parsed, "D6");
    assert_eq!(c["classname"], "veza-query-builder-async-nodes.clauses");
    assert!(c["results"].as_array().unwrap().is_empty(), "{c}");
    let log = c["system_out"].as_str().unwrap();
    assert!(log.contains("verdict: met"), "{log}");
    assert!(log.contains("14_auth_create_401::"), "{log}");
    // The fixture ran against the embedded server, and the statement says so.
    assert!(xml.contains(
        "<property name=\"certification\" value=\"Conformant to the documented contract (D1–D8 met). No deviation from the assumptions (A1–A13 met). Inconclusive: none. (Run against the embedded reference server, not a deployment: a self-test.)\"/>"
    ));
}

#[test]
fn failing_report_validates_and_parses() {
    let r = fixture("failing.json");
    let (_dir, path, xml) = written(&r, &JunitOptions::default());
    assert_valid(&path);
    let parsed = junitparser(&path);
    assert_counts(&r, &parsed);
    assert_unique_names(&xml);

    let c = case(
        &parsed,
        "01_cancel_then_poll_unknown::cancel makes the result unknown",
    );
    let f = &c["results"][0];
    assert_eq!(f["tag"], "failure");
    assert_eq!(f["type"], "empty_body");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with("[D2] step `cancel`: expected an empty body, got 2 bytes: {} (and "),
        "{message}"
    );
    let body = f["text"].as_str().expect("a failure body");
    for needle in [
        "step `cancel` failed (cases/01_cancel_then_poll_unknown.yaml:",
        "[empty_body, D2] expected an empty body",
        "expected: an empty body (0 bytes)",
        "[content_type, D2] CancelQuerySpecNodesAsync 200: the contract documents no body",
        "finally step `cleanup` failed",
        "\"authorization: Bearer $VEZA_TOKEN\"",
    ] {
        assert!(body.contains(needle), "{needle:?} not in\n{body}");
    }
    let log = c["system_out"].as_str().expect("system-out");
    assert!(
        log.contains("step `poll until unknown`: skipped (an earlier step did not pass)"),
        "{log}"
    );

    // Only the `finally` step failed: the message says so.
    let c = case(&parsed, "02_create_returns_id::create answers an id");
    assert_eq!(c["results"][0]["type"], "content_type");
    assert!(
        c["results"][0]["message"]
            .as_str()
            .expect("message")
            .starts_with("[D2] finally step `cleanup`: CancelQuerySpecNodesAsync 200:")
    );

    // The broken clause is a failure of the `clauses` suite, naming where.
    let d2 = clause_case(&parsed, "D2");
    assert_eq!(d2["results"][0]["tag"], "failure");
    assert_eq!(d2["results"][0]["type"], "broken");
    assert!(
        d2["results"][0]["text"]
            .as_str()
            .unwrap()
            .contains("01_cancel_then_poll_unknown::cancel makes the result unknown / step `cancel`: [empty_body, D2]")
    );
    for c in parsed["cases"].as_array().expect("cases") {
        for res in c["results"].as_array().expect("results") {
            let m = res["message"].as_str().expect("every result has a message");
            assert!(!m.contains('\n') && m.chars().count() <= 300, "{m:?}");
        }
    }
}

#[test]
fn deviations_and_inconclusive_ones_are_skipped_and_fail_only_when_strict() {
    let mut r = fixture("verdicts.json");
    let (_dir, path, xml) = written(&r, &JunitOptions::default());
    assert_valid(&path);
    let parsed = junitparser(&path);
    assert_counts(&r, &parsed);
    assert_unique_names(&xml);
    assert!(
        r.count(Outcome::Deviates) > 0
            && r.count(Outcome::Inconclusive) + r.count(Outcome::Deviates) > 1
    );
    // A deviating scenario: skipped, typed, its first deviation in the message.
    let c = case(
        &parsed,
        "03_done_rows_paged::uncancelled query reaches DONE and pages every row once",
    );
    let res = &c["results"][0];
    assert_eq!(res["tag"], "skipped");
    assert_eq!(res["type"], "deviates");
    assert!(
        res["message"]
            .as_str()
            .unwrap()
            .starts_with("deviates from an assumption: ["),
        "{res}"
    );
    // A deviating clause and an unmet precondition in the matrix.
    let a4 = case(
        &parsed,
        "A4: int64 fields are JSON strings (\"row_count\": \"23\"), as protobuf JSON writes them.",
    );
    assert_eq!(a4["results"][0]["tag"], "skipped");
    assert_eq!(a4["results"][0]["type"], "deviates");
    let p1 = clause_case(&parsed, "P1");
    assert_eq!(p1["results"][0]["type"], "unmet");
    let d7 = clause_case(&parsed, "D7");
    assert_eq!(d7["results"][0]["type"], "inconclusive");
    assert!(
        d7["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains("P1 not met"),
        "{d7}"
    );

    // Under strict assumptions the same deviations are failures.
    r.policy.assumptions = Assumptions::Strict;
    let (_dir, path, _) = written(&r, &JunitOptions::default());
    assert_valid(&path);
    let parsed = junitparser(&path);
    assert_counts(&r, &parsed);
    let c = case(
        &parsed,
        "03_done_rows_paged::uncancelled query reaches DONE and pages every row once",
    );
    assert_eq!(c["results"][0]["tag"], "failure");
    let a4 = case(
        &parsed,
        "A4: int64 fields are JSON strings (\"row_count\": \"23\"), as protobuf JSON writes them.",
    );
    assert_eq!(a4["results"][0]["tag"], "failure");
}

#[test]
fn a_clause_decided_by_many_scenarios_names_the_first_and_counts_the_rest() {
    let mut r = fixture("failing.json");
    let copies: Vec<ScenarioResult> = (0..10)
        .flat_map(|i| {
            r.scenarios.iter().map(move |s| {
                let mut s = s.clone();
                s.id = format!("{}-{i}", s.id).into();
                s
            })
        })
        .collect();
    r.scenarios = copies;
    conform::model::verdict::finalize(&mut r);
    let broken = r.clauses.iter().find(|c| &*c.id == "D2").unwrap();
    assert!(broken.scenarios.len() > 40, "{}", broken.scenarios.len());
    let (_dir, path, _) = written(&r, &JunitOptions::default());
    assert_valid(&path);
    let parsed = junitparser(&path);
    let d2 = &clause_case(&parsed, "D2")["results"][0];
    let message = d2["message"].as_str().unwrap();
    assert!(
        message.ends_with(&format!(" and {} more", broken.scenarios.len() - 3)),
        "{message}"
    );
    let log = clause_case(&parsed, "D2")["system_out"].as_str().unwrap();
    assert!(
        log.contains(&format!(" and {} more\n", broken.scenarios.len() - 20)),
        "{log}"
    );
    let body = d2["text"].as_str().unwrap();
    assert_eq!(body.lines().count(), 21, "{body}");
    // Readers trim the text's ends (junit-parser does, junitparser not).
    assert!(
        body.trim_end()
            .ends_with("more (report.json lists them all)"),
        "{body}"
    );
}

#[test]
fn a_version_1_report_validates_and_cuts_long_bodies() {
    // Written before clauses existed: no matrix, every failure documented.
    let r = fixture("v1-failing.json");
    assert_eq!(r.format_version, 1);
    assert!(r.clauses.is_empty());
    let (_dir, path, xml) = written(&r, &JunitOptions::default());
    assert_valid(&path);
    let parsed = junitparser(&path);
    assert_counts(&r, &parsed);
    assert_eq!(expected_counts(&r), (20, 19, 0, 0));
    assert!(!xml.contains("<testsuite name=\"clauses\""));
    // A 64 KiB request body is cut in the body, and so is its curl line.
    let c = case(
        &parsed,
        "20_oversized_body_refused::a request body over the message size limit is refused",
    );
    let body = c["results"][0]["text"].as_str().expect("a failure body");
    assert!(
        body.len() < 3 * junit::JUNIT_BODY_CHARS,
        "{} bytes",
        body.len()
    );
    assert!(body.contains("more characters)"), "the cut is marked");
}

// --- built by hand: flaky, reruns, skipped, interrupted, errors ----------

fn scenario(r: &RunResult, i: usize) -> ScenarioResult {
    r.scenarios[i].clone()
}

fn runtime_step() -> StepResult {
    StepResult {
        name: "create".into(),
        location: conform::model::SourceLocation::new("cases/x.yaml", 9, 5),
        outcome: StepOutcome::Error,
        skip_reason: None,
        duration_ms: 10_000.0,
        requests: 1,
        status: None,
        failures: vec![Failure {
            check: Check::Transport,
            kind: FailureKind::Runtime,
            clause: None,
            level: Default::default(),
            guarded_by: None,
            message: "timed out after 10s".into(),
            expected: None,
            actual: None,
            location: conform::model::SourceLocation::new("cases/x.yaml", 9, 5),
            soft: false,
        }],
        exchange: None,
        poll: None,
        exercised: vec![],
        contract: None,
    }
}

/// A run holding every outcome and every kind of earlier attempt.
fn mixed_run() -> RunResult {
    let pass = fixture("v1-passing.json");
    let fail = fixture("v1-failing.json");
    let mut r = pass.clone();
    r.scenarios.clear();
    r.interrupted = true;
    r.partition = Some("1/2".into());
    r.regression = Some(Regression {
        baseline: "reports/baseline.json".into(),
        baseline_started_at: "2026-11-28T01:00:00Z".into(),
        new_failures: vec![fail.scenarios[7].id.to_string()],
        ..Regression::default()
    });

    // Flaky: passed after a failed and an errored attempt.
    let mut flaky = scenario(&pass, 0);
    flaky.flaky = true;
    let failed_attempt = scenario(&fail, 0);
    flaky.reruns = vec![
        Rerun {
            outcome: Outcome::Failed,
            duration_ms: failed_attempt.duration_ms,
            trace_id: Default::default(),
            steps: failed_attempt.steps.clone(),
            finally: failed_attempt.finally.clone(),
        },
        Rerun {
            outcome: Outcome::Error,
            duration_ms: 10_000.0,
            trace_id: Default::default(),
            steps: vec![runtime_step()],
            finally: vec![],
        },
    ];
    r.scenarios.push(flaky);

    // Failed on every attempt.
    let mut again = scenario(&fail, 7);
    let earlier = scenario(&fail, 7);
    again.reruns = vec![Rerun {
        outcome: Outcome::Failed,
        duration_ms: earlier.duration_ms,
        trace_id: Default::default(),
        steps: earlier.steps,
        finally: earlier.finally,
    }];
    r.scenarios.push(again);

    // A runtime problem.
    let mut error = scenario(&pass, 1);
    error.outcome = Outcome::Error;
    error.steps = vec![runtime_step()];
    error.finally = vec![];
    r.scenarios.push(error);

    // Skipped by a tag filter.
    let mut skipped = scenario(&pass, 2);
    skipped.outcome = Outcome::Skipped;
    skipped.skip_reason = Some("tag `paging` excluded by --skip-tag".into());
    skipped.steps = vec![];
    skipped.finally = vec![];
    skipped.duration_ms = 0.0;
    r.scenarios.push(skipped);

    // Interrupted while running: the first step passed, the rest skipped.
    let mut midway = scenario(&pass, 3);
    midway.outcome = Outcome::Interrupted;
    for s in midway.steps.iter_mut().skip(1) {
        s.outcome = StepOutcome::Skipped;
        s.skip_reason = Some("interrupted".into());
    }
    midway.finally = vec![];
    r.scenarios.push(midway);

    // Interrupted before it started.
    let mut never = scenario(&pass, 4);
    never.outcome = Outcome::Interrupted;
    never.steps = vec![];
    never.finally = vec![];
    never.duration_ms = 0.0;
    r.scenarios.push(never);

    r
}

#[test]
fn flaky_reruns_skipped_and_interrupted_validate_and_parse() {
    let r = mixed_run();
    let (_dir, path, xml) = written(&r, &JunitOptions::default());
    assert_valid(&path);
    let parsed = junitparser(&path);
    assert_counts(&r, &parsed);
    assert_eq!(expected_counts(&r), (6, 1, 2, 2));
    assert_unique_names(&xml);
    assert_eq!(
        parsed["interim"],
        serde_json::json!({"flakyFailure": 1, "flakyError": 1, "rerunFailure": 1, "rerunError": 0})
    );

    // The flaky scenario passes, with its attempts attached.
    let flaky = &r.scenarios[0];
    let c = case(&parsed, &flaky.id);
    assert_eq!(
        c["results"],
        serde_json::json!([]),
        "a flaky pass is a pass"
    );
    assert!(
        xml.contains(
            "<flakyFailure message=\"step `cancel`: expected an empty body, got 2 bytes: {} (and 2 more failures)\" type=\"empty_body\">"
        ),
        "{xml}"
    );
    assert!(xml.contains(
        "<flakyError message=\"step `create`: timed out after 10s\" type=\"transport\">"
    ));
    assert!(xml.contains("<stackTrace>step `cancel` failed"));
    let log = c["system_out"].as_str().expect("system-out");
    assert!(log.contains("attempt 3 of 3; earlier: failed"), "{log}");

    // A failure on every attempt: the last as <failure>, the earlier as <rerunFailure>.
    let c = case(&parsed, &r.scenarios[1].id);
    assert_eq!(c["results"][0]["tag"], "failure");
    assert_eq!(c["results"][0]["type"], "json_path");
    assert!(xml.contains("<rerunFailure message=\"step `attach to a result that does not exist`: $.code: expected &quot;NotFound&quot;, got nothing (the path selected no value) (and 1 more failure)\" type=\"json_path\">"), "{xml}");
    let log = c["system_out"].as_str().expect("system-out");
    assert!(
        log.contains("regression: new failure: it passed in the baseline"),
        "{log}"
    );

    let c = case(&parsed, &r.scenarios[2].id);
    assert_eq!(c["results"][0]["tag"], "error");
    assert_eq!(c["results"][0]["type"], "transport");
    assert_eq!(
        c["results"][0]["message"],
        "step `create`: timed out after 10s"
    );

    let c = case(&parsed, &r.scenarios[3].id);
    assert_eq!(c["results"][0]["tag"], "skipped");
    assert_eq!(
        c["results"][0]["message"],
        "tag `paging` excluded by --skip-tag"
    );

    let c = case(&parsed, &r.scenarios[4].id);
    assert_eq!(c["results"][0]["tag"], "error");
    assert_eq!(c["results"][0]["type"], "interrupted");
    assert_eq!(
        c["results"][0]["message"],
        "the run was interrupted (Ctrl-C) during this scenario, after step `create the query to keep`"
    );

    let c = case(&parsed, &r.scenarios[5].id);
    assert_eq!(c["results"][0]["tag"], "skipped");
    assert_eq!(c["results"][0]["message"], "interrupted");

    for (name, value) in [
        ("partition", "1/2"),
        ("baseline", "reports/baseline.json"),
        ("interrupted", "true"),
        ("coverage", "100.0% (13/13)"),
        (
            "contract_sha256",
            "d8147d8dcc484c92c7b942727c83da98f34cbeda8de56032775d7526ff84af26",
        ),
    ] {
        let p = format!("<property name=\"{name}\" value=\"{value}\"/>");
        assert_eq!(xml.matches(&p).count(), 1, "{p} once");
        assert!(first_suite(&xml).contains(&p), "{p} on the first testsuite");
    }
    assert!(xml.matches("<testsuite ").count() > 1);
}

// --- escaping ------------------------------------------------------------

#[test]
fn hostile_text_is_escaped_or_dropped() {
    let hostile = "\x1b[31mred\x1b[0m nul\0 bell\x07 vt\x0b ]]> <tag> a&b \"q\" 'a' \u{ffff}end";
    let mut r = fixture("v1-failing.json");
    r.suite = format!("suite {hostile}");
    r.scenarios.truncate(1);
    let s = &mut r.scenarios[0];
    s.id = format!("01::{hostile}").into();
    s.steps[1].failures[0].message = format!("message {hostile}\nsecond line");
    s.steps[1].failures[0].actual = Some(format!("actual {hostile}"));
    let x = s.steps[1].exchange.as_mut().expect("an exchange");
    x.response.as_mut().expect("a response").body = format!("body {hostile}\n]]>]]>");

    let (_dir, path, xml) = written(&r, &JunitOptions { file_line: true });
    for bad in ['\x1b', '\0', '\x07', '\x0b', '\u{ffff}'] {
        assert!(!xml.contains(bad), "{bad:?} written");
    }
    assert!(!xml.contains("]]>"), "]]> is written as ]]&gt;");
    assert!(!xml.contains("<tag>"));

    // Well-formed (the schema error is only the file/line attributes).
    let err = junit_schema_check(&path).expect_err("file/line are not in the XSD");
    assert!(!err.contains("not well-formed"), "{err}");
    assert!(
        err.lines()
            .all(|l| l.contains("attribute `file`") || l.contains("attribute `line`")),
        "{err}"
    );

    let parsed = junitparser(&path);
    let clean = "red nul bell vt ]]> <tag> a&b \"q\" 'a' end";
    let c = case(&parsed, &format!("01::{clean}"));
    let f = &c["results"][0];
    assert_eq!(
        f["message"],
        format!("step `cancel`: message {clean} second line (and 2 more failures)")
    );
    let body = f["text"].as_str().expect("body");
    assert!(
        body.contains(&format!("actual:   actual {clean}")),
        "{body}"
    );
    assert!(
        body.contains(&format!("    body {clean}\n    ]]>]]>")),
        "{body}"
    );
}

// --- file and line -------------------------------------------------------

#[test]
fn file_line_is_opt_in_and_breaks_only_the_strict_xsd() {
    let r = fixture("v1-failing.json");
    let (_dir, path, xml) = written(&r, &JunitOptions { file_line: true });
    let testcases = xml.matches("<testcase ").count();
    assert_eq!(testcases, r.scenarios.len());
    let with = Regex::new(r#"<testcase [^>]* file="cases/[^"]+\.yaml" line="[1-9][0-9]*""#)
        .expect("regex");
    assert_eq!(
        with.find_iter(&xml).count(),
        testcases,
        "file and line on every testcase"
    );
    // A failed scenario points at its first failure, a passed one at itself.
    assert!(xml.contains(
        "classname=\"veza-query-builder-async-nodes.01_cancel_then_poll_unknown\" time=\"0.018\" file=\"cases/01_cancel_then_poll_unknown.yaml\" line=\"32\""
    ));
    assert!(xml.contains("file=\"cases/17_get_unknown_id.yaml\" line=\"2\""));
    let err = junit_schema_check(&path).expect_err("the strict XSD forbids file and line");
    assert!(err.contains("attribute `file` is not allowed"), "{err}");
    // Readers that know the attributes still parse it.
    assert_counts(&r, &junitparser(&path));

    let (_dir, path, xml) = written(&r, &JunitOptions::default());
    assert!(!xml.contains(" file=\"") && !xml.contains(" line=\""));
    assert_valid(&path);
}

// --- unique names --------------------------------------------------------

#[test]
fn names_stay_unique_when_ids_collide() {
    // The same stem in two folders gives the same ids; so does a merge of
    // overlapping partitions.
    let mut r = fixture("v1-passing.json");
    let mut twin = r.scenarios[0].clone();
    twin.file = format!("other/{}", twin.file).into();
    r.scenarios.push(twin);
    let (_dir, path, xml) = written(&r, &JunitOptions::default());
    assert_unique_names(&xml);
    let names = testcase_names(&xml);
    assert_eq!(names[0], *r.scenarios[0].id);
    assert_eq!(names[20], format!("{} (2)", r.scenarios[0].id));
    assert_valid(&path);
    assert_counts(&r, &junitparser(&path));
}

// --- golden files --------------------------------------------------------

/// Masks what changes from run to run: run ids, times, timestamps, ports,
/// query ids, request ids, dates, durations.
fn mask(xml: &str) -> String {
    let rules = [
        (r"\b\d{8}T\d{6}Z-\d+-[0-9a-f]{8}\b", "RUN-ID"),
        (r#"time="[^"]*""#, r#"time="T""#),
        (r#"timestamp="[^"]*""#, r#"timestamp="TIMESTAMP""#),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"qr-[0-9a-f]+", "qr-ID"),
        (
            r"(request_id\\?&quot;:\\?&quot;)[0-9a-f]+",
            "${1}REQUEST-ID",
        ),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "DATETIME"),
        (
            r"date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT",
            "date: DATE",
        ),
        (r"\d+(\.\d+)? ms\b", "N ms"),
    ];
    mask_with(xml, &rules)
}

#[test]
fn golden_failing() {
    let xml = junit::render(&fixture("failing.json"), &JunitOptions::default());
    golden("junit-failing.xml", &mask(&xml));
}

#[test]
fn golden_verdicts() {
    let xml = junit::render(&fixture("verdicts.json"), &JunitOptions::default());
    golden("junit-verdicts.xml", &mask(&xml));
}

#[test]
fn golden_passing() {
    let xml = junit::render(&fixture("passing.json"), &JunitOptions::default());
    golden("junit-passing.xml", &mask(&xml));
}

#[test]
fn mask_hides_what_changes_between_runs() {
    let xml = r#"<property name="run_id" value="20261129T011857Z-4242-0a1b2c3d"/><testsuite time="0.018" timestamp="2026-11-29T01:18:57.000+00:00">request: POST http://127.0.0.1:40361/x {"query_result_id":"qr-297b19b1e2105fe6f7a2ad2c"} &quot;request_id&quot;:&quot;3e946e6d3cc083d7c7d82fc1be972a84&quot;,&quot;timestamp&quot;:&quot;2026-11-29T01:18:57.124202514Z&quot; date: Sun, 29 Nov 2026 01:18:57 GMT (2 bytes, 9.8 ms)"#;
    assert_eq!(
        mask(xml),
        r#"<property name="run_id" value="RUN-ID"/><testsuite time="T" timestamp="TIMESTAMP">request: POST http://127.0.0.1:PORT/x {"query_result_id":"qr-ID"} &quot;request_id&quot;:&quot;REQUEST-ID&quot;,&quot;timestamp&quot;:&quot;DATETIME&quot; date: DATE (2 bytes, N ms)"#
    );
}

// --- the XSD check itself ------------------------------------------------

/// The tests' XSD check (`common::xsd`) refuses what the strict schema
/// forbids and accepts what it allows; where xmllint is installed,
/// `junit_schema_check` also requires both to agree on each file.
#[test]
fn the_xsd_check_refuses_what_the_schema_forbids() {
    let r = fixture("v1-failing.json");
    let (dir, path, xml) = written(&r, &JunitOptions::default());
    assert_valid(&path);
    let first_case = xml.find("<testcase ").expect("a testcase");
    let mutations: &[(&str, String, &str)] = &[
        (
            "an attribute the schema does not declare",
            xml.replacen("<testcase ", "<testcase file=\"x.yaml\" ", 1),
            "attribute `file` is not allowed",
        ),
        (
            "a required attribute missing",
            format!(
                "{}<testcase {}",
                &xml[..first_case],
                xml[first_case + "<testcase ".len()..].replacen("name=\"", "label=\"", 1)
            ),
            "required attribute `name` is missing",
        ),
        (
            "a time that is not a number",
            xml.replacen(" time=\"", " time=\"soon", 1),
            "does not match the pattern",
        ),
        (
            "an element where the schema allows none",
            xml.replacen("</testcase>", "<properties/></testcase>", 1),
            "do not follow the content model",
        ),
        (
            "text in element-only content",
            xml.replacen("</testsuite>", "stray text</testsuite>", 1),
            "text is not allowed",
        ),
        (
            "an undeclared element",
            xml.replacen("</testsuite>", "<note/></testsuite>", 1),
            "unexpected `note`",
        ),
        (
            "a property without a value",
            Regex::new(r#"(<property name="[^"]*") value="#)
                .expect("regex")
                .replace(&xml, "$1 valeur=")
                .into_owned(),
            "required attribute `value` is missing",
        ),
        (
            "a file that is not well-formed",
            xml.replacen("</testsuite>", "", 1),
            "not well-formed",
        ),
    ];
    for (what, bad, expected) in mutations {
        assert_ne!(bad, &xml, "{what}: the mutation changed nothing");
        let file = dir.path().join("mutated.xml");
        std::fs::write(&file, bad).expect("writes");
        let err = junit_schema_check(&file).expect_err(what);
        assert!(err.contains(expected), "{what}: {err}");
    }
    // A rerun's children come in the schema's order.
    let rerun = "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\">\
        <testcase name=\"c\"><rerunFailure type=\"t\">RERUN</rerunFailure></testcase>\
        </testsuite></testsuites>";
    let file = dir.path().join("rerun.xml");
    let ordered = "<system-out>o</system-out><system-err>e</system-err>";
    std::fs::write(&file, rerun.replace("RERUN", ordered)).expect("writes");
    junit_schema_check(&file).expect("system-out, then system-err");
    let reversed = "<system-err>e</system-err><system-out>o</system-out>";
    std::fs::write(&file, rerun.replace("RERUN", reversed)).expect("writes");
    let err = junit_schema_check(&file).expect_err("system-err before system-out");
    assert!(err.contains("content model"), "{err}");
}
