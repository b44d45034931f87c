//! `report.html`: the page carries every failure, escapes everything that
//! came from the server or the case files, and loads nothing.

mod common;
use common::{golden, report_fixture as fixture};

use std::path::PathBuf;

use conform::model::Check;
use conform::model::{
    Coverage, Exchange, Failure, FailureKind, HistoryRun, OperationCoverage, Outcome, PollRecord,
    RecordedRequest, Regression, Rerun, ResponseCoverage, RunResult, SourceLocation, StepOutcome,
    StepResult,
};
use conform::report::html;

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// HTML escaping as minijinja applies it.
fn esc(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            c => out.push(c),
        }
    }
    out
}

/// Every real start tag of the page (text never holds a raw `<`, so a `<`
/// followed by a letter is markup).
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let end = rest.find('>').expect("tags are closed");
            out.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out
}

/// The attributes of a start tag, as (lower-cased name, value).
fn attrs(tag: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut rest = tag.trim_start_matches(|c: char| !c.is_whitespace());
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return out;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        let mut value = "";
        if let Some(after) = rest.strip_prefix('=') {
            match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let end = after[1..].find(q).expect("quoted value closed") + 1;
                    value = &after[1..end];
                    rest = &after[end + 1..];
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    value = &after[..end];
                    rest = &after[end..];
                }
            }
        }
        out.push((name, value));
    }
}

/// Values of the `name` attribute of a start tag.
fn attr_values<'a>(tag: &'a str, name: &str) -> Vec<&'a str> {
    attrs(tag)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect()
}

/// The inline `<style>`/`<script>` text between `open` and `close`.
fn between<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html.find(open).expect("element present") + open.len();
    let end = start + html[start..].find(close).expect("element closed");
    &html[start..end]
}

fn assert_fetches_nothing(page: &str) {
    for tag in tags(page) {
        let name = tag
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        assert!(
            !matches!(
                name.as_str(),
                "img"
                    | "link"
                    | "iframe"
                    | "object"
                    | "embed"
                    | "base"
                    | "audio"
                    | "video"
                    | "source"
                    | "form"
            ),
            "the page has a <{name}> element"
        );
        for attr in [
            "src",
            "srcset",
            "action",
            "data",
            "poster",
            "background",
            "formaction",
        ] {
            assert!(
                attr_values(tag, attr).is_empty(),
                "a tag has a {attr}= attribute: <{tag}>"
            );
        }
        for href in attr_values(tag, "href") {
            assert!(href.starts_with('#'), "a link leaves the page: {href}");
        }
        assert!(
            attrs(tag).iter().all(|(n, _)| !n.starts_with("on")),
            "an event handler attribute: <{tag}>"
        );
    }
    let css = between(page, "<style>", "</style>");
    assert!(!css.contains("url("), "the CSS loads something");
    assert!(!css.contains("@import"), "the CSS imports something");
    assert!(!css.contains("@font-face"), "the CSS loads a font");
    let js = between(page, "<script>", "</script>");
    for api in [
        "fetch(",
        "XMLHttpRequest",
        "WebSocket",
        "EventSource",
        "sendBeacon",
        "import(",
    ] {
        assert!(!js.contains(api), "the script may reach the network: {api}");
    }
    // Only the one inline script, no external one.
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn failing_report_shows_every_failure() {
    let r = fixture("failing.json");
    let page = html::render(&r);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<span class=\"verdict-label\">Not conformant</span>"));
    // The certification statement opens the page, and the clause matrix follows.
    let statement = &r.verdict.as_ref().unwrap().statement;
    assert!(page.contains(&esc(statement)), "{statement}");
    let clauses = between(&page, "<section id=\"clauses\">", "</section>");
    for c in &r.clauses {
        assert!(
            clauses.contains(&format!("<code>{}</code>", c.id)),
            "{}",
            c.id
        );
        assert!(clauses.contains(&esc(&c.statement)), "{}", c.id);
    }
    assert!(clauses.contains("<span class=\"badge b-failed\">broken</span>"));
    let mut failed = 0;
    for s in &r.scenarios {
        assert!(page.contains(&esc(&s.id)), "scenario id {} missing", s.id);
        if s.outcome == Outcome::Failed {
            failed += 1;
            assert!(page.contains(&esc(&s.name)));
            for (_, f) in s.failures() {
                assert!(
                    page.contains(&esc(&f.message)),
                    "failure message missing: {}",
                    f.message
                );
                assert!(page.contains(&esc(f.check.name())));
            }
            for step in s.steps.iter().chain(&s.finally) {
                if let Some(x) = &step.exchange {
                    assert!(page.contains(&esc(&x.curl)), "curl line missing");
                }
            }
        }
    }
    assert!(failed > 0);
    assert!(page.contains("$VEZA_TOKEN"));
    // Failing scenarios are open, the passing one collapsed.
    let open = page.matches("<details class=\"scenario s-failed\"").count();
    let open_attr = page
        .lines()
        .filter(|l| l.contains("<details class=\"scenario s-failed\"") && l.ends_with(" open>"))
        .count();
    assert_eq!(open, failed);
    assert_eq!(open_attr, failed);
    assert!(
        page.lines()
            .filter(|l| l.contains("<details class=\"scenario s-passed\""))
            .all(|l| !l.contains(" open")),
        "a passing scenario is expanded"
    );
    // Provenance and coverage.
    let contract = r.contract.as_ref().unwrap();
    assert!(page.contains(&contract.sha256));
    assert!(page.contains(&esc(&contract.file)));
    assert!(page.contains("embedded reference server"));
    // Every operation was touched: one row each, no folded full table.
    let coverage = between(&page, "<section id=\"coverage\">", "</section>");
    let operations = &r.coverage.as_ref().unwrap().operations;
    assert_eq!(
        coverage.matches("<tr><th scope=\"row\">").count(),
        operations.len()
    );
    for op in operations {
        assert!(coverage.contains(&format!(
            "<tr><th scope=\"row\">{}</th>",
            esc(&op.operation)
        )));
    }
    assert!(coverage.contains("<mark title=\"exercised "));
    assert!(!coverage.contains("<details"));
    // The poll history of a step that failed while polling is shown compacted.
    assert!(page.contains(&format!("report format version {}", r.format_version)));
    assert_fetches_nothing(&page);
}

#[test]
fn passing_report_is_collapsed_and_fetches_nothing() {
    let r = fixture("passing.json");
    let page = html::render(&r);
    assert!(page.contains("<span class=\"verdict-label\">Conformant</span>"));
    assert!(page.contains("Conformant to the documented contract (D1–D8 met)."));
    assert!(
        !page.contains("class=\"detail "),
        "a passing run has no failure detail"
    );
    assert!(!page.contains(" open>"), "a passing scenario is expanded");
    assert!(!page.contains("id=\"regression\""));
    assert_fetches_nothing(&page);
}

#[test]
fn deviations_and_inconclusive_clauses_are_shown_apart_from_failures() {
    let r = fixture("verdicts.json");
    let page = html::render(&r);
    let statement = &r.verdict.as_ref().unwrap().statement;
    assert!(statement.contains("Deviates from"), "{statement}");
    assert!(statement.contains("P1 not met"), "{statement}");
    assert!(page.contains(&esc(statement)));
    let clauses = between(&page, "<section id=\"clauses\">", "</section>");
    for (badge, label) in [
        ("failed", "broken"),
        ("deviates", "deviates"),
        ("inconclusive", "unmet"),
        ("inconclusive", "inconclusive"),
        ("passed", "met"),
        ("skipped", "not exercised"),
    ] {
        assert!(
            clauses.contains(&format!("<span class=\"badge b-{badge}\">{label}</span>")),
            "{label}"
        );
    }
    assert!(clauses.contains("(P1 not met)"));
    // Deviating and inconclusive scenarios are open, with their badge, and
    // each failure names its clause and whether it counts.
    for outcome in [Outcome::Deviates, Outcome::Inconclusive] {
        let n = r.count(outcome);
        let class = format!("<details class=\"scenario s-{}\"", outcome.as_str());
        let open = page
            .lines()
            .filter(|l| l.contains(&class) && l.ends_with(" open>"))
            .count();
        if n > 0 {
            assert_eq!(open, n, "{outcome:?}");
        }
    }
    assert!(page.contains("<span class=\"clause\">clause A4 (assumption)</span>"));
    assert!(page.contains("<span class=\"badge b-deviates\">deviation</span>"));
    let counts = between(&page, "<section id=\"counts\">", "</section>");
    assert!(counts.contains(&format!(
        "<div class=\"count c-deviates\">\n      <span class=\"num\">{}</span>",
        r.count(Outcome::Deviates)
    )));
}

#[test]
fn content_security_policy_allows_exactly_the_inline_style_and_script() {
    let page = html::render(&fixture("v1-failing.json"));
    let csp = between(
        &page,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"",
        "\"",
    );
    assert!(csp.contains("default-src 'none'"));
    for (open, close, directive) in [
        ("<style>", "</style>", "style-src"),
        ("<script>", "</script>", "script-src"),
    ] {
        let body = between(&page, open, close);
        let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
        let want = format!("{directive} 'sha256-{}'", base64(digest.as_ref()));
        assert!(
            csp.contains(&want),
            "CSP lacks {want}; the inline element would be blocked"
        );
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[test]
fn hostile_content_is_escaped_everywhere() {
    let mut r = fixture("failing.json");
    let both = format!("{SCRIPT}{IMG}");
    let s = r
        .scenarios
        .iter_mut()
        .find(|s| s.failures().next().is_some())
        .expect("a failing scenario");
    s.name = format!("name {both}").into();
    s.id = format!("{}::{both}", s.id).into();
    s.tags.push(both.clone());
    let step = s
        .steps
        .iter_mut()
        .chain(s.finally.iter_mut())
        .find(|st| st.exchange.is_some() && !st.failures.is_empty())
        .expect("a failing step with an exchange");
    step.name = format!("step {both}");
    step.failures[0].message = format!("message {both}");
    step.failures[0].expected = Some(format!("expected {both}"));
    step.failures[0].actual = Some(format!("actual {both}"));
    let x = step.exchange.as_mut().unwrap();
    x.request.url = format!("http://127.0.0.1/x?q={both}");
    x.request.headers.push(("x-req".into(), both.clone()));
    x.curl = format!("curl '{both}'");
    let resp = x.response.as_mut().expect("a response");
    resp.body = format!("{{\"evil\":\"{both}\"}}");
    resp.headers.push(("x-evil".into(), both.clone()));
    resp.headers.push((both.clone(), "header name".into()));
    r.suite = format!("suite {both}");
    r.base_url = format!("http://127.0.0.1/{both}");

    let page = html::render(&r);
    assert!(!page.contains(SCRIPT), "a raw <script> payload");
    assert!(!page.contains(IMG), "a raw <img> payload");
    assert!(!page.contains("alert(1)</script>"));
    assert!(!page.contains("<img"));
    let escaped_script = esc(SCRIPT);
    let escaped_img = esc(IMG);
    assert_eq!(escaped_script, "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;");
    assert_eq!(escaped_img, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    for planted in [
        format!("name {both}"),
        format!("step {both}"),
        format!("message {both}"),
        format!("expected {both}"),
        format!("actual {both}"),
        format!("suite {both}"),
        format!("{{\"evil\":\"{both}\"}}"),
        both.clone(),
    ] {
        assert!(
            page.contains(&esc(&planted)),
            "escaped form of {planted:?} missing"
        );
    }
    // Every planted place shows up: the title, the header tables, the body.
    assert!(page.matches(&escaped_script).count() >= 12);
    // The scenario's anchor is built from letters and digits only.
    for tag in tags(&page) {
        for id in attr_values(tag, "id") {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "unsafe anchor {id:?}"
            );
        }
    }
    assert_fetches_nothing(&page);
}

fn regression(r: &RunResult) -> Regression {
    Regression {
        baseline: "reports/baseline.json".into(),
        baseline_started_at: "2026-11-28T09:00:00Z".into(),
        new_failures: vec![r.scenarios[0].id.to_string()],
        fixed: vec![r.scenarios[16].id.to_string()],
        still_failing: vec![r.scenarios[1].id.to_string(), r.scenarios[2].id.to_string()],
        added: vec![r.scenarios[3].id.to_string()],
        removed: vec!["99_gone::a scenario that was deleted".into()],
    }
}

#[test]
fn regression_section_only_when_compared_with_a_baseline() {
    let mut r = fixture("failing.json");
    let without = html::render(&r);
    assert!(!without.contains("id=\"regression\""));
    assert!(!without.contains("href=\"#regression\""));

    r.regression = Some(regression(&r));
    let page = html::render(&r);
    assert!(page.contains("id=\"regression\""));
    let section = between(&page, "<section id=\"regression\">", "</section>");
    for title in ["New failures", "Fixed", "Still failing", "Added", "Removed"] {
        assert!(section.contains(title), "{title} missing");
    }
    assert!(section.contains("reports&#x2f;baseline.json"));
    // Ids in this run link to their section; a removed one has no section.
    assert!(section.contains(
        "href=\"#scenario-01_cancel_then_poll_unknown-cancel-makes-the-result-unknown\""
    ));
    assert!(
        page.contains(
            "id=\"scenario-01_cancel_then_poll_unknown-cancel-makes-the-result-unknown\""
        )
    );
    let anchors_in_section = tags(section)
        .into_iter()
        .flat_map(|t| attr_values(t, "href"))
        .count();
    assert_eq!(anchors_in_section, 5);
    assert!(section.contains("<span class=\"gone\">99_gone::a scenario that was deleted</span>"));
    for link in tags(section)
        .into_iter()
        .flat_map(|t| attr_values(t, "href"))
    {
        let id = format!("id=\"{}\"", &link[1..]);
        assert!(page.contains(&id), "{link} points nowhere");
    }
    // The baseline is part of the provenance.
    let provenance = between(&page, "<section id=\"provenance\">", "</section>");
    assert!(provenance.contains("reports&#x2f;baseline.json"));
    assert_fetches_nothing(&page);
}

fn failing_step(message: &str) -> StepResult {
    StepResult {
        name: "poll until done".into(),
        location: SourceLocation::new("cases/03_done_rows_paged.yaml", 23, 5),
        outcome: StepOutcome::Failed,
        skip_reason: None,
        duration_ms: 1500.0,
        requests: 4,
        status: Some(200),
        failures: vec![Failure {
            check: Check::PollTimeout,
            kind: FailureKind::Assertion,
            clause: None,
            level: Default::default(),
            guarded_by: None,
            message: message.into(),
            expected: Some("DONE".into()),
            actual: Some("RUNNING".into()),
            location: SourceLocation::new("cases/03_done_rows_paged.yaml", 27, 9),
            soft: false,
        }],
        exchange: None,
        poll: None,
        exercised: vec![],
        contract: None,
    }
}

#[test]
fn flaky_scenario_shows_its_earlier_attempts() {
    let mut r = fixture("passing.json");
    let s = &mut r.scenarios[2];
    s.flaky = true;
    s.reruns = vec![
        Rerun {
            outcome: Outcome::Failed,
            duration_ms: 1600.0,
            trace_id: Default::default(),
            steps: vec![failing_step("first attempt: still RUNNING after 1.5 s")],
            finally: vec![],
        },
        Rerun {
            outcome: Outcome::Error,
            duration_ms: 1700.0,
            trace_id: Default::default(),
            steps: vec![failing_step("second attempt: connection reset")],
            finally: vec![],
        },
    ];
    let anchor =
        "scenario-03_done_rows_paged-uncancelled-query-reaches-done-and-pages-every-row-once";
    let page = html::render(&r);
    let start = page
        .find(&format!("id=\"{anchor}\""))
        .expect("the flaky scenario's section");
    let section = &page[start..start + page[start..].find("</details>\n").unwrap()];
    assert!(page[..start].ends_with("<details class=\"scenario s-passed s-flaky\" "));
    assert!(section.contains(" open>"), "a flaky scenario is shown open");
    assert!(section.contains("flaky"));
    assert!(section.contains("Attempt 3 of 3 (final)"));
    assert!(section.contains("Attempt 1 of 3 (earlier, failed)"));
    assert!(section.contains("Attempt 2 of 3 (earlier, error)"));
    assert!(section.contains("first attempt: still RUNNING after 1.5 s"));
    assert!(section.contains("second attempt: connection reset"));
    assert!(section.contains("poll_timeout"));
    // The counts tell about it too.
    let counts = between(&page, "<section id=\"counts\">", "</section>");
    assert!(counts.contains("<div class=\"count c-flaky\">\n      <span class=\"num\">1</span>"));
    assert_fetches_nothing(&page);
}

#[test]
fn long_bodies_are_cut_for_display_with_a_note() {
    let mut r = fixture("failing.json");
    let step = r
        .scenarios
        .iter_mut()
        .flat_map(|s| s.steps.iter_mut())
        .find(|st| st.exchange.as_ref().is_some_and(|x| x.response.is_some()))
        .unwrap();
    let resp = step.exchange.as_mut().unwrap().response.as_mut().unwrap();
    resp.body = format!("{}TAIL-MARKER", "a".repeat(40 * 1024));
    resp.body_bytes = 5 * 1024 * 1024;
    resp.truncated = true;
    let page = html::render(&r);
    assert!(!page.contains("TAIL-MARKER"));
    assert!(page.contains(&"a".repeat(16 * 1024)));
    assert!(!page.contains(&"a".repeat(16 * 1024 + 1)));
    assert!(page.contains("Shown here: the first 16 KiB"));
    assert!(page.contains("Cut at 65,536 of 5,242,880 bytes."));
    // A request body the runner cut names the file that holds it whole.
    let request = &mut r
        .scenarios
        .iter_mut()
        .flat_map(|s| s.steps.iter_mut())
        .find_map(|st| st.exchange.as_mut())
        .unwrap()
        .request;
    request.body = Some("{\"padding\": \"aaa".into());
    request.body_bytes = 5_000_000;
    request.truncated = true;
    request.body_file = Some("bodies/01_s-create.json".into());
    let page = html::render(&r);
    assert!(page.contains(
        "Cut at 65,536 of 5,000,000 bytes; the whole body is in bodies&#x2f;01_s-create.json, which the curl line sends."
    ));
}

#[test]
fn an_answer_before_the_request_body_was_sent_says_so() {
    let mut r = fixture("failing.json");
    let x = common::first_answered_exchange(&mut r);
    x.request.body_bytes = 5_000_000;
    let resp = x.response.as_mut().unwrap();
    let status = resp.status;
    resp.request_body_sent = Some(131_072);
    let page = html::render(&r);
    assert!(page.contains(&format!(
        "<p class=\"cut\">The server answered {status} before the request body was sent (after at most 131,072 of its 5,000,000 bytes).</p>"
    )));
}

#[test]
fn verdict_follows_the_outcomes() {
    let verdict = |r: &RunResult| {
        let page = html::render(r);
        between(&page, "<span class=\"verdict-label\">", "</span>").to_owned()
    };
    let mut r = fixture("failing.json");
    assert_eq!(verdict(&r), "Not conformant");
    for s in &mut r.scenarios {
        if s.outcome == Outcome::Failed {
            s.outcome = Outcome::Error;
        }
    }
    assert_eq!(verdict(&r), "No verdict");
    r.interrupted = true;
    r.scenarios[0].outcome = Outcome::Interrupted;
    assert_eq!(verdict(&r), "Interrupted");
    let page = html::render(&r);
    let provenance = between(&page, "<section id=\"provenance\">", "</section>");
    assert!(provenance.contains("yes: scenarios not started are recorded as interrupted"));
    let counts = between(&page, "<section id=\"counts\">", "</section>");
    assert!(
        counts.contains("<div class=\"count c-interrupted\">\n      <span class=\"num\">1</span>")
    );
}

#[test]
fn write_puts_the_page_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/report.html");
    let r = fixture("passing.json");
    html::write(&r, &path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), html::render(&r));
}

/// Writes both samples to `target/html-samples/` for a look in a browser
/// (`scripts/html-screenshot.sh`).
#[test]
#[ignore = "writes sample pages for screenshots"]
fn write_samples() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/html-samples");
    let pass = fixture("passing.json");
    let mut fail = fixture("failing.json");
    html::write(&pass, &out.join("pass.html")).unwrap();
    html::write(&fail, &out.join("fail.html")).unwrap();
    fail.regression = Some(regression(&fail));
    let s = &mut fail.scenarios[16];
    s.flaky = true;
    let mut polled = failing_step("still RUNNING after 1.5 s");
    polled.poll = Some(Box::new(PollRecord {
        attempts: 4,
        elapsed_ms: 1500.0,
        history: vec![
            HistoryRun {
                observed: "PENDING".into(),
                count: 1,
            },
            HistoryRun {
                observed: "RUNNING".into(),
                count: 3,
            },
        ],
    }));
    let mut broken = failing_step("connection reset by peer");
    broken.name = "cleanup".into();
    broken.outcome = StepOutcome::Error;
    broken.failures[0].check = Check::Transport;
    broken.failures[0].kind = FailureKind::Runtime;
    broken.failures[0].expected = None;
    broken.failures[0].actual = None;
    broken.exchange = Some(Box::new(Exchange {
        traceparent: None,
        request: RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:40361/api/v1/assessments/query_spec:nodes_async_cancel".into(),
            headers: vec![("authorization".into(), "Bearer ***".into())],
            body: None,
            body_bytes: 0,
            truncated: false,
            body_file: None,
        },
        response: None,
        curl: "curl -sS -i -X POST 'http://127.0.0.1:40361/api/v1/assessments/query_spec:nodes_async_cancel' -H \"authorization: Bearer $VEZA_TOKEN\"".into(),
        started_at: None,
    }));
    s.reruns = vec![Rerun {
        outcome: Outcome::Failed,
        duration_ms: 1600.0,
        trace_id: Default::default(),
        steps: vec![polled],
        finally: vec![broken],
    }];
    html::write(&fail, &out.join("fail-regression.html")).unwrap();
    // The flaky scenario and one failing scenario alone, to look at them.
    fail.scenarios = vec![fail.scenarios[16].clone(), fail.scenarios[19].clone()];
    html::write(&fail, &out.join("flaky.html")).unwrap();
    eprintln!("wrote {}", out.display());
}

#[test]
fn pages_match_their_golden_files_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for (fixture_name, golden_name) in [
        ("failing.json", "html-failing.html"),
        ("passing.json", "html-passing.html"),
        ("verdicts.json", "html-verdicts.html"),
    ] {
        let r = fixture(fixture_name);
        let path = dir.path().join(golden_name);
        html::write(&r, &path).unwrap();
        golden(golden_name, &std::fs::read_to_string(&path).unwrap());
        golden(golden_name, &html::render(&r));
    }
}

#[test]
fn a_large_run_is_written_whole() {
    const N: usize = 20_000;
    let mut r = fixture("passing.json");
    let one = r
        .scenarios
        .iter()
        .find(|s| s.outcome == Outcome::Passed)
        .expect("a passing scenario")
        .clone();
    r.scenarios = (0..N)
        .map(|i| {
            let mut s = one.clone();
            s.id = format!("{}-{i}", one.id).into();
            s
        })
        .collect();
    conform::model::verdict::finalize(&mut r);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    html::write(&r, &path).unwrap();
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // The clause matrix names the first scenarios that decided a clause, and
    // counts the rest (report.json lists them all).
    let row = r
        .clauses
        .iter()
        .find(|c| c.scenarios.len() == N)
        .expect("a clause met by all");
    let shown = html::CLAUSE_SCENARIOS_SHOWN;
    assert!(
        page.contains(&format!(
            "<span class=\"note\">and {} more</span>",
            N - shown
        )),
        "{}",
        row.id
    );
    let clauses = between(&page, "<section id=\"clauses\">", "</section>");
    assert!(clauses.len() < 200_000, "{} bytes", clauses.len());
    assert!(page.ends_with("</body>\n</html>"));
    // Passing at their first attempt, the scenarios are lean: a row each,
    // carrying its anchor, and no section.
    assert_eq!(page.matches("<details class=\"scenario").count(), 0);
    let overview = between(&page, "<table class=\"overview\">", "</table>");
    assert_eq!(overview.matches("<tr id=\"scenario-").count(), N);
    assert!(page.contains(&format!("{N} scenarios in this run.")));
    // The last scenario's row is there, in the overview table.
    assert!(overview.contains(&format!(
        "-{}\">\n        <td><span class=\"badge b-passed\">passed</span>",
        N - 1
    )));
    // Nothing but the page is left in the folder.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// A contract's coverage the size of a large real-world description
/// (GitHub's REST API: 1,224 operations, long ids and paths), of which the
/// operations in `touched` had their 200 exercised.
fn large_coverage(touched: &[usize]) -> Coverage {
    const KEYS: [&str; 5] = ["200", "304", "403", "404", "422"];
    let operations: Vec<OperationCoverage> = (0..1224)
        .map(|i| OperationCoverage {
            operation: format!("actions/list-workflow-run-artifacts-{i:04}"),
            method: "GET".into(),
            path: format!("/repos/{{owner}}/{{repo}}/actions/runs/{{run_id}}/area{i:04}/artifacts"),
            responses: KEYS
                .iter()
                .map(|k| ResponseCoverage {
                    key: (*k).into(),
                    hits: if *k == "200" && touched.contains(&i) {
                        3
                    } else {
                        0
                    },
                })
                .collect(),
        })
        .collect();
    let total = operations.len() * KEYS.len();
    Coverage {
        covered: touched.len(),
        total,
        percent: touched.len() as f64 * 100.0 / total as f64,
        operations,
    }
}

#[test]
fn a_large_contract_keeps_the_page_small_and_folds_its_full_coverage_table() {
    // The failing fixture: 20 scenarios, 63 requests, failures with their
    // requests and responses; its contract replaced by a large one.
    let mut r = fixture("failing.json");
    let touched = [0, 7, 99, 500, 501, 1223];
    r.coverage = Some(large_coverage(&touched));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    html::write(&r, &path).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 500_000, "report.html is {size} bytes");
    let page = std::fs::read_to_string(&path).unwrap();

    let coverage = between(&page, "<section id=\"coverage\">", "</section>");
    assert!(
        coverage.contains("exercised: 6 of 6,120, in 6 of 1,224 operations."),
        "{coverage}"
    );
    // The operations touched, shown; every operation, folded (closed).
    let (shown, folded) = coverage
        .split_once("<details class=\"coverage-all\" id=\"coverage-all\">\n")
        .expect("the full table in a closed <details>");
    let row = "<tr><th scope=\"row\">";
    assert_eq!(shown.matches(row).count(), touched.len());
    assert!(
        shown.contains("actions&#x2f;list-workflow-run-artifacts-0501</th>")
            && !shown.contains("actions&#x2f;list-workflow-run-artifacts-0502</th>")
    );
    assert!(folded.contains(
        "<summary>Every operation of the contract: 1,224, 1,218 not exercised</summary>"
    ));
    assert_eq!(folded.matches(row).count(), 1224);
    assert!(folded.trim_end().ends_with("</details>"), "{folded}");
    // One row per operation, its documented responses marked in text, not
    // a cell per status: ✓ and the hits for each exercised, ✗ before those
    // never exercised.
    assert!(shown.contains(
        "<td><mark title=\"exercised 3 times\">200\u{a0}✓\u{a0}3</mark> ✗\u{a0}304 403 404 422</td></tr>"
    ));
    assert!(folded.contains("<td>✗\u{a0}200 304 403 404 422</td></tr>"));
    assert_eq!(coverage.matches("<td").count(), 2 * (1224 + touched.len()));
    assert_fetches_nothing(&page);
}
