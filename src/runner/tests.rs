//! Scenario execution against a scripted transport, on tokio's paused clock:
//! the poll policy's timing, `fail_if` before `until`, retries, `finally`,
//! paging and redaction, without sockets or real sleeps.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{RunContext, run_scenario};
use crate::case::load_suite;
use crate::http::{HttpResponse, OutgoingRequest, Transport, TransportError};
use crate::model::{FailureKind, Outcome, ScenarioResult, StepOutcome};

const TOKEN: &str = "tok-planted-secret-4242";

/// One scripted answer.
#[derive(Clone)]
enum Reply {
    Json(u16, Value),
    Raw(u16, Vec<(&'static str, &'static str)>, &'static str),
    Fail(TransportError),
    /// Never answers.
    Hang,
}

/// Answers from a script, recording when each request was sent.
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    /// Answer once the script is used up.
    then: Reply,
    sent: Mutex<Vec<(Duration, OutgoingRequest)>>,
    start: Instant,
}

impl Transport for Script {
    async fn send(&self, req: &OutgoingRequest) -> Result<HttpResponse, TransportError> {
        self.sent
            .lock()
            .unwrap()
            .push((self.start.elapsed(), req.clone()));
        let reply = self
            .replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| self.then.clone());
        let (status, headers, body) = match reply {
            Reply::Json(s, v) => (s, vec![("content-type", "application/json")], v.to_string()),
            Reply::Raw(s, h, b) => (s, h, b.to_owned()),
            Reply::Fail(e) => return Err(e),
            Reply::Hang => std::future::pending().await,
        };
        Ok(HttpResponse {
            status,
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            body: body.into_bytes(),
            elapsed: Duration::from_millis(1),
            request_body_sent: None,
            sent_at: std::time::SystemTime::now(),
            json: Default::default(),
        })
    }
}

struct Run {
    result: ScenarioResult,
    sent: Vec<(Duration, OutgoingRequest)>,
}

/// The minimal suite of [`run`].
const SUITE: &str = "name: t\nauth: { bearer_env: VEZA_TOKEN }\ndefaults:\n  poll: { interval: 200ms, backoff: 1.5, max_interval: 2s, timeout: 30s }\nvars:\n  count: 5\n";

/// Loads `scenario` (with a minimal suite) and runs it against the script.
async fn run(scenario: &str, replies: Vec<Reply>, then: Reply) -> Run {
    run_in(SUITE, scenario, replies, then).await
}

/// Loads `scenario` in a suite of settings `suite` and runs it against the script.
async fn run_in(suite: &str, scenario: &str, replies: Vec<Reply>, then: Reply) -> Run {
    run_checked(suite, scenario, replies, then, None).await
}

/// The same, checking every response against `contract`.
async fn run_checked(
    suite: &str,
    scenario: &str,
    replies: Vec<Reply>,
    then: Reply,
    contract: Option<crate::contract::Contract>,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conform.yaml"), suite).unwrap();
    std::fs::write(dir.path().join("s.yaml"), scenario).unwrap();
    let suite = load_suite(dir.path()).unwrap_or_else(|d| panic!("{d}"));
    let script = Script {
        replies: Mutex::new(replies.into()),
        then,
        sent: Mutex::default(),
        start: Instant::now(),
    };
    let ctx = RunContext {
        transport: script,
        base_url: crate::http::BaseUrl::new(reqwest::Url::parse("http://api.test").unwrap()),
        servers: suite
            .servers
            .iter()
            .map(|s| {
                let url = reqwest::Url::parse(s.url.as_deref().unwrap()).unwrap();
                (s.name.clone(), crate::http::BaseUrl::new(url))
            })
            .collect(),
        token: Some(TOKEN.into()),
        token_env: "VEZA_TOKEN".into(),
        secrets: {
            let mut red = crate::redact::Redactor::new();
            red.add(TOKEN);
            red
        },
        suite_vars: suite.vars.clone(),
        env: Arc::default(),
        contract: contract.map(Arc::new),
        checks: Default::default(),
        registry: suite.registry.clone(),
        interrupt: tokio::sync::watch::channel(false).1,
        poll_timeout: None,
        bodies: None,
    };
    let result = run_scenario(&ctx, &suite.scenarios[0]).await;
    let sent = std::mem::take(&mut *ctx.transport.sent.lock().unwrap());
    Run { result, sent }
}

/// A suite with a documented clause, an assumption and a precondition
/// guarding a second documented clause.
const CLAUSES: &str = r#"name: t
auth: { bearer_env: VEZA_TOKEN }
defaults:
  poll: { interval: 200ms, backoff: 1.5, max_interval: 2s, timeout: 30s }
clauses:
  - { id: D1, level: documented, statement: One. }
  - { id: D2, level: documented, statement: Two. }
  - { id: A1, level: assumption, statement: A guess. }
  - { id: P1, level: precondition, statement: Needed., guards: [D2] }
"#;

fn verdicts(r: &Run) -> Vec<(String, crate::model::ClauseVerdict)> {
    r.result
        .clauses
        .iter()
        .map(|c| (c.id.to_string(), c.verdict))
        .collect()
}

fn status(s: &str) -> Reply {
    Reply::Json(200, json!({"status": s, "values": []}))
}

const POLL: &str = r#"
name: poll
steps:
  - name: wait
    request: { method: POST, path: /get, json: { id: x } }
    poll:
      until:   { $.status: UNKNOWN }
      fail_if: { $.status: { in: [DONE, FAILED] } }
    expect:
      status: 200
"#;

fn times(r: &Run) -> Vec<u128> {
    r.sent.iter().map(|(t, _)| t.as_millis()).collect()
}

fn only_failure(r: &Run) -> &crate::model::Failure {
    let f: Vec<_> = r.result.failures().collect();
    assert_eq!(f.len(), 1, "{:#?}", r.result);
    f[0].1
}

#[tokio::test(start_paused = true)]
async fn waits_only_between_attempts_with_backoff_and_not_after_success() {
    let r = run(
        POLL,
        vec![status("PENDING"), status("RUNNING"), status("RUNNING")],
        status("UNKNOWN"),
    )
    .await;
    assert_eq!(r.result.outcome, Outcome::Passed, "{:#?}", r.result);
    // waits 200, 300, 450; the poll ends on the fourth answer without sleeping.
    assert_eq!(times(&r), [0, 200, 500, 950]);
    assert_eq!(r.result.steps[0].duration_ms, 950.0);
    assert_eq!(r.result.steps[0].requests, 4);
}

#[tokio::test(start_paused = true)]
async fn fail_if_is_checked_before_until() {
    let scenario = POLL.replace("in: [DONE, FAILED]", "in: [UNKNOWN]");
    let r = run(&scenario, vec![status("RUNNING")], status("UNKNOWN")).await;
    assert_eq!(r.result.outcome, Outcome::Failed);
    let f = only_failure(&r);
    assert_eq!(f.check.name(), "poll_fail_if");
    assert!(
        f.message
            .contains("`$.status` was \"UNKNOWN\", which `fail_if` forbids"),
        "{}",
        f.message
    );
    assert_eq!(times(&r), [0, 200]);
}

#[tokio::test(start_paused = true)]
async fn a_terminal_status_fails_at_once_with_the_history() {
    let r = run(
        POLL,
        vec![status("PENDING"), status("RUNNING")],
        status("DONE"),
    )
    .await;
    let f = only_failure(&r);
    assert_eq!(f.check.name(), "poll_fail_if");
    assert!(
        f.message.contains("history: PENDING → RUNNING → DONE"),
        "{}",
        f.message
    );
    assert_eq!(f.kind, FailureKind::Assertion);
    assert_eq!(r.sent.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_deadline_reports_the_last_value_and_a_compact_history() {
    let r = run(POLL, vec![status("PENDING")], status("RUNNING")).await;
    assert_eq!(r.result.outcome, Outcome::Failed);
    let f = only_failure(&r);
    assert_eq!(f.check.name(), "poll_timeout");
    assert_eq!(f.kind, FailureKind::Assertion);
    let n = r.sent.len();
    assert!(
        f.message.contains(&format!(
            "`$.status` was RUNNING on the last of {n} attempts over 30.0s"
        )),
        "{}",
        f.message
    );
    assert!(
        f.message.contains(&format!("PENDING → RUNNING ×{}", n - 1)),
        "{}",
        f.message
    );
    assert_eq!(
        r.sent.last().unwrap().0,
        Duration::from_secs(30),
        "the last attempt is at the deadline"
    );
    let poll = r.result.steps[0].poll.as_ref().unwrap();
    assert_eq!(poll.attempts as usize, n);
}

#[tokio::test(start_paused = true)]
async fn an_attempt_cut_off_by_the_deadline_is_not_reported_as_answered() {
    let r = run(POLL, vec![status("PENDING")], Reply::Hang).await;
    let f = only_failure(&r);
    assert_eq!(f.check.name(), "poll_timeout");
    assert_eq!(
        f.message,
        "the poll deadline of 30s passed: `$.status` was PENDING on attempt 1 of 2 over 30.0s; \
         attempt 2 was cut off by the deadline (history: PENDING)"
    );
    assert_eq!(r.result.steps[0].requests, 2);
    assert_eq!(r.result.steps[0].poll.as_ref().unwrap().attempts, 1);

    let r = run(POLL, vec![], Reply::Hang).await;
    assert!(
        only_failure(&r).message.starts_with(
            "the poll deadline of 30s passed: no attempt completed within 30.0s; \
             attempt 1 was cut off by the deadline"
        ),
        "{}",
        only_failure(&r).message
    );
}

#[tokio::test(start_paused = true)]
async fn unavailable_answers_are_retried_honouring_retry_after() {
    let busy = Reply::Raw(503, vec![("retry-after", "1")], "busy");
    let r = run(POLL, vec![busy.clone(), busy], status("UNKNOWN")).await;
    assert_eq!(r.result.outcome, Outcome::Passed, "{:#?}", r.result);
    assert_eq!(times(&r), [0, 1000, 2000]);
    assert_eq!(
        r.result.steps[0].poll.as_ref().unwrap().compact(),
        "HTTP 503 ×2 → UNKNOWN"
    );
}

#[tokio::test(start_paused = true)]
async fn connection_errors_until_the_deadline_are_a_runtime_error() {
    let refused = Reply::Fail(TransportError::Connect("connection refused".into()));
    let r = run(POLL, vec![], refused).await;
    assert_eq!(r.result.outcome, Outcome::Error);
    let f = only_failure(&r);
    assert_eq!(
        (f.check.name(), f.kind),
        ("poll_timeout", FailureKind::Runtime)
    );
    assert!(
        f.message
            .contains("could not connect: connection refused on the last of"),
        "{}",
        f.message
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_status_ends_the_poll_at_once() {
    let r = run(
        POLL,
        vec![Reply::Json(401, json!({"code": "Unauthenticated"}))],
        status("UNKNOWN"),
    )
    .await;
    let f = only_failure(&r);
    assert_eq!(f.check.name(), "status_code");
    assert_eq!(f.message, "expected status 200, got 401");
    assert_eq!(times(&r), [0]);
}

#[tokio::test(start_paused = true)]
async fn an_attempt_that_hangs_is_cut_at_the_deadline() {
    // A request that never answers within the poll: the transport's own
    // timeout is longer than the deadline here.
    struct Hang;
    impl Transport for Hang {
        async fn send(&self, _: &OutgoingRequest) -> Result<HttpResponse, TransportError> {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Err(TransportError::Timeout(Duration::from_secs(3600)))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conform.yaml"), "name: t\n").unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        POLL.replace("until:", "timeout: 2s\n      until:"),
    )
    .unwrap();
    let suite = load_suite(dir.path()).unwrap_or_else(|d| panic!("{d}"));
    let ctx = RunContext {
        transport: Hang,
        base_url: crate::http::BaseUrl::new(reqwest::Url::parse("http://api.test").unwrap()),
        servers: Default::default(),
        token: None,
        token_env: "TOKEN".into(),
        secrets: Default::default(),
        suite_vars: vec![],
        env: Arc::default(),
        contract: None,
        checks: Default::default(),
        registry: Default::default(),
        interrupt: tokio::sync::watch::channel(false).1,
        poll_timeout: None,
        bodies: None,
    };
    let start = Instant::now();
    let r = run_scenario(&ctx, &suite.scenarios[0]).await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(r.outcome, Outcome::Error);
    let f: Vec<_> = r.failures().collect();
    assert!(
        f[0].1.message.contains("no attempt completed"),
        "{}",
        f[0].1.message
    );
}

const CREATE_CANCEL: &str = r#"
name: create and cancel
steps:
  - name: create
    request: { method: POST, path: /create, json: { n: "{{ count }}" } }
    expect: { status: 200 }
    capture:
      id: $.id
  - name: cancel
    request: { method: POST, path: "/cancel/{{ id }}" }
    expect: { status: 200, body: empty }
finally:
  - name: cleanup
    request: { method: POST, path: "/cancel/{{ id }}" }
"#;

#[tokio::test(start_paused = true)]
async fn finally_is_skipped_when_its_variable_was_never_captured() {
    let r = run(
        CREATE_CANCEL,
        vec![Reply::Json(500, json!({"code": "Internal"}))],
        status("x"),
    )
    .await;
    assert_eq!(r.result.outcome, Outcome::Failed);
    assert_eq!(r.sent.len(), 1, "neither cancel nor cleanup was sent");
    assert_eq!(r.result.steps[1].outcome, StepOutcome::Skipped);
    let cleanup = &r.result.finally[0];
    assert_eq!(cleanup.outcome, StepOutcome::Skipped);
    assert_eq!(
        cleanup.skip_reason.as_deref(),
        Some("variable `id` was never captured")
    );
}

#[tokio::test(start_paused = true)]
async fn finally_runs_after_a_failure_and_an_empty_object_is_not_an_empty_body() {
    let replies = vec![
        Reply::Json(200, json!({"id": "q/1"})),
        Reply::Json(200, json!({})),
    ];
    let r = run(CREATE_CANCEL, replies, Reply::Raw(200, vec![], "")).await;
    assert_eq!(r.result.outcome, Outcome::Failed);
    let f = only_failure(&r);
    assert_eq!(f.message, "expected an empty body, got 2 bytes: {}");
    assert_eq!(r.result.finally[0].outcome, StepOutcome::Passed);
    assert_eq!(r.sent.len(), 3);
    // A captured value is percent-encoded in a path; a whole-value template keeps its type.
    assert_eq!(r.sent[1].1.url.path(), "/cancel/q%2F1");
    let body: Value = serde_json::from_slice(r.sent[0].1.body.as_ref().unwrap()).unwrap();
    assert_eq!(body, json!({"n": 5}));
    let exchange = r.result.steps[1]
        .exchange
        .as_ref()
        .expect("a failing step keeps its exchange");
    assert!(exchange.curl.contains("$VEZA_TOKEN"), "{}", exchange.curl);
    assert!(
        r.result.steps[0].exchange.is_none(),
        "a passing step keeps no exchange"
    );
}

#[tokio::test(start_paused = true)]
async fn secrets_never_reach_the_result() {
    let scenario = r#"
name: secrets
steps:
  - name: login
    request: { method: POST, path: /login }
    capture:
      session: { json: $.session, secret: true }
  - name: use it
    request: { method: POST, path: /use, headers: { x-session: "{{ session }}" } }
    expect:
      json:
        $.ok: true
"#;
    let echo = format!(r#"{{"ok": false, "echo": "{TOKEN} and sess-planted-9876"}}"#);
    let echo: &'static str = Box::leak(echo.into_boxed_str());
    let replies = vec![
        Reply::Json(200, json!({"session": "sess-planted-9876"})),
        Reply::Raw(
            200,
            vec![
                ("content-type", "application/json"),
                ("x-echo", "sess-planted-9876"),
            ],
            echo,
        ),
    ];
    let r = run(scenario, replies, status("x")).await;
    assert_eq!(r.result.outcome, Outcome::Failed);
    let all = serde_json::to_string(&r.result).unwrap()
        + &crate::report::text::failure_text(&r.result, usize::MAX);
    assert!(!all.contains(TOKEN), "the bearer token leaked: {all}");
    assert!(
        !all.contains("sess-planted-9876"),
        "the secret capture leaked: {all}"
    );
    assert!(all.contains("***"));
}

#[tokio::test(start_paused = true)]
async fn a_status_is_required_to_be_2xx_when_none_is_given() {
    let scenario = "name: s\nsteps:\n  - name: get\n    request: { method: GET, path: /x }\n";
    let r = run(scenario, vec![Reply::Json(500, json!({}))], status("x")).await;
    let f = only_failure(&r);
    assert!(f.message.contains("any 2xx"), "{}", f.message);
}

#[tokio::test(start_paused = true)]
async fn paging_collects_across_pages_and_stops_a_cursor_that_repeats() {
    let scenario = r#"
name: pages
steps:
  - name: walk
    request: { method: POST, path: /get, json: { page_token: "{{ t }}" } }
    paginate:
      cursor: { t: $.next }
      while: { $.more: true }
      collect: { ids: "$.values[*]" }
  - name: all rows
    check:
      ids: { eq: [1, 2, 3, 4] }
"#;
    let pages = vec![
        Reply::Json(200, json!({"values": [1, 2], "next": "a", "more": true})),
        Reply::Json(200, json!({"values": [], "next": "b", "more": true})),
        Reply::Json(200, json!({"values": [3, 4], "next": "", "more": false})),
    ];
    let r = run(scenario, pages, status("x")).await;
    assert_eq!(r.result.outcome, Outcome::Passed, "{:#?}", r.result);
    let tokens: Vec<Value> = r
        .sent
        .iter()
        .map(|(_, q)| {
            serde_json::from_slice::<Value>(q.body.as_ref().unwrap()).unwrap()["page_token"].clone()
        })
        .collect();
    assert_eq!(tokens, [json!(""), json!("a"), json!("b")]);

    let stuck = vec![
        Reply::Json(200, json!({"values": [1], "next": "a", "more": true})),
        Reply::Json(200, json!({"values": [2], "next": "a", "more": true})),
    ];
    let r = run(scenario, stuck, status("x")).await;
    let f = only_failure(&r);
    assert_eq!(f.check.name(), "paginate");
    assert!(
        f.message.contains("repeats an earlier value"),
        "{}",
        f.message
    );
}

#[tokio::test(start_paused = true)]
async fn a_page_that_cannot_be_sent_keeps_what_earlier_pages_showed() {
    // Page 1 deviates from A1 (kept, the walk goes on); its cursor is a
    // value no query can carry, so page 2 is never sent.
    let scenario = r#"
name: s
steps:
  - name: walk
    clause: D1
    request: { method: POST, path: /get, query: { t: "{{ t }}" } }
    expect:
      - clause: A1
        json: { $.ok: true }
    paginate:
      cursor: { t: $.next }
      while: { $.more: true }
"#;
    let r = run_in(
        CLAUSES,
        scenario,
        vec![Reply::Json(
            200,
            json!({"ok": false, "next": {"a": {"b": 1}}, "more": true}),
        )],
        status("x"),
    )
    .await;
    assert_eq!(r.sent.len(), 1, "{:#?}", r.result);
    let checks: Vec<&str> = r.result.steps[0]
        .failures
        .iter()
        .map(|f| f.check.name())
        .collect();
    assert_eq!(checks, ["template", "json_path"], "{:#?}", r.result);
    assert!(
        r.result.steps[0].failures[1]
            .message
            .starts_with("page 1: ")
    );
}

#[tokio::test(start_paused = true)]
async fn a_deviation_does_not_end_the_scenario_and_its_value_is_captured() {
    use crate::model::ClauseVerdict::*;
    let scenario = r#"
name: s
steps:
  - name: create
    clause: D1
    request: { method: POST, path: /create }
    expect:
      - clause: A1
        status: 201
    capture:
      id: $.id
  - name: get
    clause: D1
    request: { method: POST, path: "/get/{{ id }}" }
    expect:
      json: { $.ok: true }
"#;
    let r = run_in(
        CLAUSES,
        scenario,
        vec![Reply::Json(200, json!({"id": "q1"}))],
        Reply::Json(200, json!({"ok": true})),
    )
    .await;
    assert_eq!(r.result.outcome, Outcome::Deviates, "{:#?}", r.result);
    assert_eq!(r.result.steps[0].outcome, StepOutcome::Deviates);
    assert_eq!(r.result.steps[1].outcome, StepOutcome::Passed);
    assert_eq!(r.sent[1].1.url.path(), "/get/q1");
    assert_eq!(verdicts(&r), [("D1".into(), Met), ("A1".into(), Deviates)]);
}

#[tokio::test(start_paused = true)]
async fn an_unmet_precondition_makes_what_it_guards_inconclusive_from_there_on() {
    use crate::model::ClauseVerdict::*;
    let scenario = r#"
name: s
steps:
  - name: documented before
    clause: D2
    request: { method: POST, path: /one }
  - name: requirement
    clause: P1
    request: { method: POST, path: /two }
    expect:
      json: { $.ready: true }
  - name: guarded after
    clause: D2
    request: { method: POST, path: /three }
    expect:
      json: { $.ok: true }
  - name: documented after
    clause: D1
    request: { method: POST, path: /four }
"#;
    let r = run_in(
        CLAUSES,
        scenario,
        vec![
            Reply::Json(200, json!({})),
            Reply::Json(200, json!({"ready": false})),
            Reply::Json(200, json!({"ok": false})),
        ],
        Reply::Json(200, json!({})),
    )
    .await;
    assert_eq!(r.result.outcome, Outcome::Inconclusive, "{:#?}", r.result);
    // Every step ran: an unmet precondition ends nothing.
    assert_eq!(r.sent.len(), 4);
    let guarded = &r.result.steps[2].failures[0];
    assert_eq!(guarded.clause.as_deref(), Some("D2"));
    assert_eq!(guarded.guarded_by.as_deref(), Some("P1"));
    assert_eq!(r.result.steps[2].outcome, StepOutcome::Inconclusive);
    assert_eq!(
        verdicts(&r),
        [
            ("D1".into(), Met),
            ("D2".into(), Inconclusive),
            ("P1".into(), Unmet)
        ]
    );
    assert_eq!(r.result.clauses[1].because.as_deref(), Some("P1"));
}

#[tokio::test(start_paused = true)]
async fn a_poll_ended_by_a_refused_status_fails_its_own_clause() {
    let scenario = r#"
name: s
steps:
  - name: wait
    clause: D1
    request: { method: POST, path: /get }
    poll:
      until: { $.status: DONE }
    expect:
      - clause: A1
        status: 200
"#;
    let r = run_in(
        CLAUSES,
        scenario,
        vec![status("RUNNING")],
        Reply::Json(404, json!({"code": "NotFound"})),
    )
    .await;
    assert_eq!(r.result.outcome, Outcome::Failed, "{:#?}", r.result);
    let f: Vec<_> = r.result.failures().map(|(_, f)| f).collect();
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!(
        (f[0].check.name(), f[0].clause.as_deref()),
        ("status_code", Some("A1"))
    );
    assert_eq!(
        (f[1].check.name(), f[1].clause.as_deref()),
        ("poll_status", Some("D1"))
    );
    assert!(
        f[1].message.starts_with(
            "the poll ended on status 404, which `expect` refuses, before `until` held (attempt 2"
        ),
        "{}",
        f[1].message
    );
    assert_eq!(r.sent.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn each_step_records_which_contract_checks_ran_and_why_not() {
    use crate::model::SkipReason;
    let contract = crate::contract::from_value(
        "c.yaml",
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
            "/json": {"get": {"responses": {"200": {"description": "ok", "content": {
                "application/json": {"schema": {"type": "object", "required": ["id"]}}}}}}},
            "/text": {"get": {"responses": {"200": {"description": "ok", "content": {
                "text/plain": {}}}}}},
            "/none": {"get": {"responses": {"204": {"description": "nothing"}}}}
        }}),
    )
    .unwrap();
    let scenario = r#"
name: s
steps:
  - { name: json, request: { method: GET, path: /json } }
  - { name: text, request: { method: GET, path: /text } }
  - { name: none, request: { method: GET, path: /none }, expect: { status: 204 } }
  - { name: unchecked, schema: false, request: { method: GET, path: /json } }
  - { name: empty, request: { method: GET, path: /json } }
"#;
    let replies = vec![
        Reply::Json(200, json!({"id": 1})),
        Reply::Raw(200, vec![("content-type", "text/plain")], "hello"),
        Reply::Raw(204, vec![], ""),
        Reply::Json(200, json!({})),
        Reply::Raw(200, vec![], ""),
    ];
    let run = run_checked(SUITE, scenario, replies, Reply::Hang, Some(contract)).await;
    let r = &run.result;
    let record = |i: usize| r.steps[i].contract.expect("a record");
    let skipped = |i: usize| {
        record(i)
            .skipped()
            .map(|(c, why)| (c.name(), why))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        skipped(0),
        [("undocumented_property", SkipReason::Disabled)]
    );
    assert_eq!(
        skipped(1),
        [
            ("response_schema", SkipReason::NotJson),
            ("undocumented_property", SkipReason::Disabled)
        ]
    );
    assert_eq!(
        skipped(2),
        [
            ("response_schema", SkipReason::NoContent),
            ("undocumented_property", SkipReason::Disabled)
        ]
    );
    assert_eq!(
        record(3),
        crate::model::ContractRecord::all(SkipReason::StepOptOut)
    );
    // An empty untyped body where JSON is documented is judged, and fails.
    assert_eq!(
        record(4).ran().map(|c| c.name()).collect::<Vec<_>>(),
        ["undocumented_status", "content_type", "response_schema"]
    );
    assert_eq!(r.steps[4].outcome, StepOutcome::Failed);
    assert_eq!(r.steps[4].failures[0].check.name(), "response_schema");
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.steps[..4]
            .iter()
            .all(|s| s.outcome == StepOutcome::Passed),
        "{r:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn query_values_follow_their_style_in_written_order_and_multi_segment_paths_keep_slashes() {
    let contract = crate::contract::from_value(
        "c.yaml",
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "components": {"parameters": {"ref": {
            "name": "ref", "in": "path", "required": true,
            "schema": {"type": "string"}, "x-multi-segment": true}}},
        "paths": {
            "/repos/{owner}/{repo}/git/ref/{ref}": {
                "parameters": [{"$ref": "#/components/parameters/ref"}],
                "get": {"operationId": "git/get-ref", "responses": {"200": {
                    "description": "ok", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["ref"]}}}}}}},
            "/issues": {"get": {"operationId": "issues/list",
                "parameters": [
                    {"name": "labels", "in": "query", "schema": {"type": "array"}},
                    {"name": "ids", "in": "query", "style": "pipeDelimited", "schema": {"type": "array"}},
                    {"name": "filter", "in": "query", "style": "deepObject", "schema": {"type": "object"}},
                    {"name": "sort", "in": "query", "explode": false, "schema": {"type": "array"}}
                ],
                "responses": {"200": {"description": "ok"}}}}
        }}),
    )
    .unwrap();
    let scenario = r#"
name: s
vars:
  branch: heads/main
steps:
  - name: list
    request:
      method: GET
      path: /issues
      query:
        zeta: 1
        labels: [bug, ui]
        ids: [1, 2]
        filter: { state: open }
        sort: [created, desc]
        alpha: [x, "y z"]
  - name: ref
    request: { method: GET, path: "/repos/o/r/git/ref/{{ branch }}" }
    expect: { json: { $.ref: refs/heads/main } }
"#;
    let replies = vec![
        Reply::Raw(200, vec![], ""),
        Reply::Json(200, json!({"ref": "refs/heads/main"})),
    ];
    let run = run_checked(SUITE, scenario, replies, Reply::Hang, Some(contract)).await;
    let urls: Vec<&str> = run.sent.iter().map(|(_, r)| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://api.test/issues?zeta=1&labels=bug&labels=ui&ids=1%7C2&filter%5Bstate%5D=open&sort=created,desc&alpha=x&alpha=y+z",
            "http://api.test/repos/o/r/git/ref/heads/main",
        ]
    );
    let r = &run.result;
    assert_eq!(r.outcome, Outcome::Passed, "{r:#?}");
    // The multi-segment path reached its operation and its response schema.
    let ref_step = &r.steps[1];
    assert_eq!(ref_step.exercised[0].operation.as_ref(), "git/get-ref");
    assert!(
        ref_step
            .contract
            .expect("a record")
            .ran()
            .any(|c| c.name() == "response_schema")
    );
}

#[tokio::test(start_paused = true)]
async fn a_soft_step_or_block_fails_the_scenario_and_every_later_step_is_still_judged() {
    let scenario = r#"
name: s
steps:
  - name: soft step
    soft: true
    request: { method: GET, path: /a }
    expect: { status: 200 }
  - name: soft block
    request: { method: GET, path: /b }
    expect:
      - { soft: true, json: { $.state: { eq: open } } }
      - { status: 200 }
  - name: hard
    request: { method: GET, path: /c }
    expect: { status: 200 }
  - name: never sent
    request: { method: GET, path: /d }
"#;
    let replies = vec![
        Reply::Json(500, json!({})),
        Reply::Json(200, json!({"state": "closed"})),
        Reply::Json(404, json!({})),
    ];
    let run = run(scenario, replies, Reply::Json(200, json!({}))).await;
    let r = &run.result;
    let outcomes: Vec<StepOutcome> = r.steps.iter().map(|s| s.outcome).collect();
    assert_eq!(
        outcomes,
        [
            StepOutcome::Failed,
            StepOutcome::Failed,
            StepOutcome::Failed,
            StepOutcome::Skipped
        ]
    );
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(run.sent.len(), 3, "the hard failure stops the scenario");
    assert!(r.steps[0].failures.iter().all(|f| f.soft));
    assert!(r.steps[1].failures.iter().all(|f| f.soft));
    assert!(r.steps[2].failures.iter().all(|f| !f.soft));
}

#[tokio::test(start_paused = true)]
async fn a_step_turns_off_only_the_contract_checks_it_names() {
    let contract = crate::contract::from_value(
        "c.yaml",
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
            "/raw": {"get": {"responses": {"200": {"description": "ok", "content": {
                "application/json": {"schema": {"type": "object", "required": ["id"]}}}}}}}
        }}),
    )
    .unwrap();
    let scenario = r#"
name: s
steps:
  - name: all checks
    soft: true
    request: { method: GET, path: /raw }
  - name: no content type
    checks: { skip: [content_type] }
    request: { method: GET, path: /raw }
"#;
    let replies = vec![
        Reply::Raw(200, vec![("content-type", "text/plain")], "{}"),
        Reply::Raw(200, vec![("content-type", "text/plain")], "{}"),
    ];
    let run = run_checked(SUITE, scenario, replies, Reply::Hang, Some(contract)).await;
    let r = &run.result;
    let checks =
        |i: usize| -> Vec<&str> { r.steps[i].failures.iter().map(|f| f.check.name()).collect() };
    assert_eq!(checks(0), ["content_type"]);
    assert_eq!(checks(1), Vec::<&str>::new());
    let record = r.steps[1].contract.expect("a record");
    use crate::model::SkipReason;
    assert_eq!(
        record
            .skipped()
            .map(|(c, why)| (c.name(), why))
            .collect::<Vec<_>>(),
        [
            ("content_type", SkipReason::StepOptOut),
            ("response_schema", SkipReason::NotJson),
            ("undocumented_property", SkipReason::Disabled)
        ],
    );
    assert_eq!(
        record.ran().map(|c| c.name()).collect::<Vec<_>>(),
        ["undocumented_status"]
    );
}

#[tokio::test(start_paused = true)]
async fn the_schema_judged_is_the_one_of_the_media_type_the_step_accepts() {
    let contract = crate::contract::from_value(
        "c.yaml",
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
            "/contents": {"get": {"operationId": "get-content", "responses": {"200": {
                "description": "ok", "content": {
                    "application/json": {"schema": {"type": "array"}},
                    "application/vnd.x.object": {"schema": {
                        "type": "object", "required": ["entries"]}}}}}}}
        }}),
    )
    .unwrap();
    let scenario = r#"
name: s
steps:
  - name: asked for the object, answered as JSON
    request: { method: GET, path: /contents, headers: { Accept: "application/vnd.x.object, */*;q=0.1" } }
  - name: asked for the object, answered as the object
    soft: true
    request: { method: GET, path: /contents, headers: { Accept: application/vnd.x.object } }
  - name: asked for nothing
    soft: true
    request: { method: GET, path: /contents }
"#;
    let object = r#"{"entries": []}"#;
    let replies = vec![
        Reply::Raw(200, vec![("content-type", "application/json")], object),
        Reply::Raw(
            200,
            vec![("content-type", "application/vnd.x.object")],
            "{}",
        ),
        Reply::Raw(200, vec![("content-type", "application/json")], object),
    ];
    let run = run_checked(SUITE, scenario, replies, Reply::Hang, Some(contract)).await;
    let r = &run.result;
    let messages = |i: usize| -> Vec<&str> {
        r.steps[i]
            .failures
            .iter()
            .map(|f| f.message.as_str())
            .collect()
    };
    assert_eq!(messages(0), Vec::<&str>::new());
    assert_eq!(r.steps[0].contract.expect("record").ran().count(), 3);
    let m = messages(1);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("\"entries\" is a required property"), "{m:?}");
    let m = messages(2);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].starts_with("get-content 200:"), "{m:?}");
    assert!(m[0].contains("not of type \"array\""), "{m:?}");
}

#[tokio::test(start_paused = true)]
async fn a_request_naming_a_server_goes_there_and_is_checked_below_its_base() {
    let contract = crate::contract::from_value(
        "c.yaml",
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
            "/assets": {"post": {"operationId": "upload", "responses": {"201": {
                "description": "ok", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["id"]}}}}}}}
        }}),
    )
    .unwrap();
    let suite = format!("{SUITE}servers:\n  uploads: {{ url: \"http://uploads.test/v2\" }}\n");
    let scenario = r#"
name: s
steps:
  - name: upload
    request: { server: uploads, method: POST, path: /assets, body: data }
    expect: { status: 201 }
  - name: the base URL
    soft: true
    request: { method: POST, path: /assets, body: data }
"#;
    let replies = vec![
        Reply::Json(201, json!({"id": 1})),
        Reply::Json(201, json!({})),
    ];
    let run = run_checked(&suite, scenario, replies, Reply::Hang, Some(contract)).await;
    let urls: Vec<String> = run.sent.iter().map(|(_, r)| r.url.to_string()).collect();
    assert_eq!(
        urls,
        ["http://uploads.test/v2/assets", "http://api.test/assets"]
    );
    let r = &run.result;
    assert_eq!(
        r.steps[0].outcome,
        StepOutcome::Passed,
        "{:?}",
        r.steps[0].failures
    );
    assert!(
        r.steps[0]
            .contract
            .expect("a record")
            .ran()
            .any(|c| c.name() == "response_schema")
    );
    // The same operation below the base URL: its schema still judges.
    assert_eq!(r.steps[1].failures.len(), 1, "{:?}", r.steps[1].failures);
    assert_eq!(r.steps[1].failures[0].check.name(), "response_schema");
}

/// The `traceparent` each request of `r` carried.
fn traceparents(r: &Run) -> Vec<String> {
    r.sent
        .iter()
        .map(|(_, q)| q.header("traceparent").expect("a traceparent").to_owned())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn every_request_carries_the_scenarios_trace_and_a_span_of_its_own() {
    let scenario = r#"
name: traced
steps:
  - name: walk
    request: { method: POST, path: /get, json: { page_token: "{{ t }}" } }
    paginate:
      cursor: { t: $.next }
      while: { $.more: true }
  - name: wait
    request: { method: POST, path: /get, json: { id: x } }
    poll:
      until: { $.status: UNKNOWN }
      timeout: 1s
finally:
  - name: cleanup
    request: { method: POST, path: /cancel }
"#;
    let replies = vec![
        Reply::Json(200, json!({"next": "a", "more": true})),
        Reply::Json(200, json!({"next": "", "more": false})),
        status("RUNNING"),
        status("RUNNING"),
    ];
    let r = run(scenario, replies, status("RUNNING")).await;
    assert_eq!(r.result.outcome, Outcome::Failed, "{:#?}", r.result);
    let tps = traceparents(&r);
    assert!(
        tps.len() >= 6,
        "two pages, several attempts, the cleanup: {tps:?}"
    );
    let trace = r.result.trace_id.to_string();
    let mut spans = std::collections::BTreeSet::new();
    for tp in &tps {
        assert!(crate::http::trace::is_valid_traceparent(tp), "{tp}");
        assert_eq!(tp[3..35], trace, "one trace for the scenario");
        assert!(spans.insert(&tp[36..52]), "a span repeats: {tps:?}");
    }
    // The poll that timed out keeps the traceparent of its last attempt
    // with its exchange, as recorded in its request; passing steps keep none.
    let [walk, wait] = &r.result.steps[..] else {
        panic!("two steps")
    };
    let wait_sent: Vec<&String> = tps[2..tps.len() - 1].iter().collect();
    assert_eq!(wait.traceparent(), wait_sent.last().map(|s| s.as_str()));
    let recorded = &wait.exchange.as_ref().unwrap().request.headers;
    assert!(
        recorded.contains(&("traceparent".into(), wait.traceparent().unwrap().into())),
        "{recorded:?}"
    );
    assert!(walk.traceparent().is_none());
    assert!(r.result.finally[0].traceparent().is_none());

    // Another run of it is another trace.
    let again = run(scenario, vec![], status("RUNNING")).await;
    assert_ne!(again.result.trace_id.to_string(), trace);
}

#[tokio::test(start_paused = true)]
async fn a_traceparent_the_case_sets_is_sent_as_written() {
    let mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let scenario = format!(
        r#"
name: own trace
steps:
  - name: wait
    request: {{ method: POST, path: /get, headers: {{ TraceParent: "{mine}" }}, json: {{ id: x }} }}
    poll:
      until: {{ $.status: UNKNOWN }}
      max_attempts: 3
"#
    );
    let r = run(&scenario, vec![], status("RUNNING")).await;
    assert_eq!(r.sent.len(), 3);
    for (_, q) in &r.sent {
        let all: Vec<_> = q
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("traceparent"))
            .collect();
        assert_eq!(all, [&("TraceParent".to_owned(), mine.to_owned())]);
    }
    assert_eq!(r.result.steps[0].traceparent(), Some(mine));
}
