//! What a vendor greps their logs for: every request conform sends carries
//! a W3C `traceparent` (one trace per scenario, a span per request) and a
//! user agent naming the run; the traceparent of a failing step's request
//! is in every report; and `failures.har` holds the exchanges the reports
//! keep, as a valid HAR 1.2 log.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_conform");

/// The specification's shape of a version-00 traceparent: trace-id 32
/// lower-case hex digits, parent-id 16, flags 2 (all zeros is refused
/// separately).
const TRACEPARENT: &str = r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$";

/// A traceparent the case sets itself.
const OWN_TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// One request the server saw.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    traceparent: Option<String>,
    user_agent: Option<String>,
}

#[derive(Clone, Default)]
struct Server {
    seen: Arc<Mutex<Vec<Seen>>>,
    polls: Arc<AtomicU32>,
}

/// Records every request and answers by path: scenario `a` creates, polls
/// (RUNNING twice, then DONE), walks two pages, then fails (500) and
/// cleans up; `b` fails once; `c` sends its own traceparent and user agent.
async fn handle(State(s): State<Server>, req: Request) -> (StatusCode, String) {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("(not text)").to_owned())
    };
    s.seen.lock().unwrap().push(Seen {
        path: req.uri().path().to_owned(),
        traceparent: header("traceparent"),
        user_agent: header("user-agent"),
    });
    let query = req.uri().query().unwrap_or_default().to_owned();
    let body = match req.uri().path() {
        "/a/create" => json!({"id": "q1"}),
        "/a/status" => {
            let n = s.polls.fetch_add(1, Ordering::SeqCst);
            json!({"status": if n < 2 { "RUNNING" } else { "DONE" }})
        }
        "/a/page" if query.contains("cursor=p2") => json!({"next": "", "more": false}),
        "/a/page" => json!({"next": "p2", "more": true}),
        "/a/fail" => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":"boom"}"#.into(),
            );
        }
        _ => json!({}),
    };
    (StatusCode::OK, body.to_string())
}

async fn start(server: Server) -> String {
    let app = axum::Router::new().fallback(handle).with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

const A: &str = r#"name: a
steps:
  - name: create
    request: { method: POST, path: /a/create, json: { x: 1 } }
    capture:
      id: $.id
  - name: wait
    request: { method: GET, path: /a/status }
    poll:
      interval: 10ms
      until: { $.status: DONE }
  - name: walk
    request: { method: GET, path: /a/page, query: { cursor: "{{ c }}" } }
    paginate:
      cursor: { c: $.next }
      while: { $.more: true }
  - name: fail
    request: { method: GET, path: /a/fail, query: { why: "a test" } }
    expect: { status: 200 }
finally:
  - name: cleanup
    request: { method: POST, path: /a/cleanup, json: { id: "{{ id }}" } }
"#;

const B: &str = r#"name: b
steps:
  - name: one
    request: { method: GET, path: /b/one }
    expect: { status: 201 }
"#;

fn c() -> String {
    format!(
        r#"name: c
steps:
  - name: own
    request: {{ method: GET, path: /c/own, headers: {{ User-Agent: "mine/1.0", traceparent: "{OWN_TRACEPARENT}" }} }}
"#
    )
}

fn suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("conform.yaml"), "name: traced\n").unwrap();
    std::fs::write(d.join("01_a.yaml"), A).unwrap();
    std::fs::write(d.join("02_b.yaml"), B).unwrap();
    std::fs::write(d.join("03_c.yaml"), c()).unwrap();
    dir
}

fn run(cases: &Path, url: &str, reports: &Path) -> Output {
    Command::new(BIN)
        .args(["run", "--cases"])
        .arg(cases)
        .args(["--base-url", url, "--reports"])
        .arg(reports)
        .env_remove("BASE_URL")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The trace id of a traceparent the specification accepts.
fn trace_of(tp: &str) -> String {
    let re = regex::Regex::new(TRACEPARENT).unwrap();
    let caps = re
        .captures(tp)
        .unwrap_or_else(|| panic!("not a traceparent: {tp}"));
    assert_ne!(&caps[1], "0".repeat(32), "{tp}");
    assert_ne!(&caps[2], "0".repeat(16), "{tp}");
    caps[1].to_owned()
}

#[test]
fn every_request_is_traced_and_a_failures_traceparent_is_in_every_report() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = Server::default();
    let url = rt.block_on(start(server.clone()));
    let cases = suite();
    let reports = tempfile::tempdir().unwrap();
    let o = run(cases.path(), &url, reports.path());
    let term = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{term}");
    let report: Value = serde_json::from_str(&read(&reports.path().join("report.json"))).unwrap();
    let run_id = report["run_id"].as_str().unwrap();
    let seen = server.seen.lock().unwrap().clone();

    // Every request: a valid traceparent, the run in the user agent; the
    // case's own values sent as written.
    let agent = format!("conform/{} (run {run_id})", env!("CARGO_PKG_VERSION"));
    for s in &seen {
        if s.path == "/c/own" {
            assert_eq!(s.traceparent.as_deref(), Some(OWN_TRACEPARENT));
            assert_eq!(s.user_agent.as_deref(), Some("mine/1.0"));
            continue;
        }
        trace_of(s.traceparent.as_deref().expect("a traceparent"));
        assert_eq!(s.user_agent.as_deref(), Some(agent.as_str()), "{s:?}");
    }

    // One trace per scenario, a span per request: create, three polls, two
    // pages, the failure and the cleanup share a's trace.
    let of = |prefix: &str| -> Vec<&Seen> {
        seen.iter().filter(|s| s.path.starts_with(prefix)).collect()
    };
    let a = of("/a/");
    assert_eq!(a.len(), 8, "{a:?}");
    let traces: BTreeSet<String> = a
        .iter()
        .map(|s| trace_of(s.traceparent.as_deref().unwrap()))
        .collect();
    assert_eq!(traces.len(), 1, "{a:?}");
    let spans: BTreeSet<&str> = a
        .iter()
        .map(|s| &s.traceparent.as_deref().unwrap()[36..52])
        .collect();
    assert_eq!(spans.len(), a.len(), "a span per request: {a:?}");
    let a_trace = traces.into_iter().next().unwrap();
    let b = of("/b/");
    let b_trace = trace_of(b[0].traceparent.as_deref().unwrap());
    assert_ne!(a_trace, b_trace);
    let scenarios = report["scenarios"].as_array().unwrap();
    assert_eq!(scenarios[0]["trace_id"], a_trace.as_str());
    assert_eq!(scenarios[1]["trace_id"], b_trace.as_str());

    // The failing step's traceparent, as the server saw it, in every report.
    let failed = of("/a/fail")[0].traceparent.clone().unwrap();
    let steps = scenarios[0]["steps"].as_array().unwrap();
    let fail = steps.iter().find(|s| s["name"] == "fail").unwrap();
    assert_eq!(fail["exchange"]["traceparent"], failed.as_str());
    let headers = &fail["exchange"]["request"]["headers"];
    assert!(
        headers
            .as_array()
            .unwrap()
            .contains(&json!(["traceparent", failed])),
        "{headers}"
    );
    // Passing steps keep none: a passing scenario's entry grows by its
    // trace id only.
    assert!(
        steps
            .iter()
            .filter(|s| s["name"] != "fail")
            .all(|s| s.get("exchange").is_none())
    );
    let passing = scenarios[2].to_string();
    assert_eq!(passing.matches("trace").count(), 1, "{passing}");
    assert!(scenarios[2].get("trace_id").is_some());
    for file in ["junit.xml", "report.html", "summary.md", "failures.har"] {
        let text = read(&reports.path().join(file));
        assert!(text.contains(&failed), "{file} lacks {failed}");
    }
    assert!(term.contains(&format!("traceparent: {failed}")), "{term}");

    // The HAR: valid, and the failing exchanges with what was sent.
    let har: Value = serde_json::from_str(&read(&reports.path().join("failures.har"))).unwrap();
    common::assert_valid_har(&har);
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "conform");
    assert_eq!(log["creator"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(log["_runId"], run_id);
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "a's failing step and b's: {log:#}");
    let e = &entries[0];
    assert_eq!(e["pageref"], scenarios[0]["id"]);
    assert_eq!(e["_scenario"], scenarios[0]["id"]);
    assert_eq!(e["_step"], "fail");
    assert_eq!(e["_traceparent"], failed.as_str());
    assert!(e["comment"].as_str().unwrap().contains(&failed), "{e:#}");
    assert_eq!(e["request"]["method"], "GET");
    assert_eq!(e["request"]["url"], format!("{url}/a/fail?why=a+test"));
    assert_eq!(
        e["request"]["queryString"],
        json!([{"name": "why", "value": "a test"}])
    );
    assert!(
        e["request"]["headers"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "traceparent", "value": failed})),
        "{e:#}"
    );
    assert_eq!(e["response"]["status"], 500);
    assert_eq!(e["response"]["statusText"], "Internal Server Error");
    assert_eq!(e["response"]["content"]["text"], r#"{"error":"boom"}"#);
    assert_eq!(e["response"]["content"]["size"], 16);
    assert_eq!(e["time"], e["timings"]["wait"]);
    // Sent during the run, after it started.
    let time = |v: &Value| humantime::parse_rfc3339(v.as_str().unwrap()).unwrap();
    let (sent, began) = (time(&e["startedDateTime"]), time(&report["started_at"]));
    assert!(sent >= began, "{sent:?} before {began:?}");
    assert!(sent < std::time::SystemTime::now());
    let pages: Vec<&Value> = log["pages"].as_array().unwrap().iter().collect();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0]["id"], scenarios[0]["id"]);
    assert!(pages[0]["comment"].as_str().unwrap().contains(&a_trace));
}

fn entry(v: &mut Value) -> &mut Value {
    &mut v["log"]["entries"][0]
}

#[test]
fn the_har_schema_refuses_what_the_specification_refuses() {
    let ok = json!({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": [{
        "startedDateTime": "2026-11-29T01:18:57.123Z", "time": 1.5,
        "request": {"method": "GET", "url": "http://h/", "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": [], "queryString": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": [], "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
            "headersSize": -1, "bodySize": 0},
        "cache": {}, "timings": {"send": 0, "wait": 1.5, "receive": 0}, "_custom": 1
    }]}});
    common::assert_valid_har(&ok);
    let validator = common::har_validator();
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = ok.clone();
        f(&mut v);
        v
    };
    for (why, bad) in [
        (
            "wait -1",
            broken(&|v| entry(v)["timings"]["wait"] = json!(-1)),
        ),
        (
            "no send",
            broken(&|v| {
                entry(v)["timings"].as_object_mut().unwrap().remove("send");
            }),
        ),
        (
            "redirectUrl misspelt",
            broken(&|v| {
                let r = entry(v)["response"].as_object_mut().unwrap();
                let u = r.remove("redirectURL").unwrap();
                r.insert("redirectUrl".into(), u);
            }),
        ),
        (
            "a custom field without _",
            broken(&|v| entry(v)["custom"] = json!(1)),
        ),
        (
            "a date that is none",
            broken(&|v| entry(v)["startedDateTime"] = json!("yesterday")),
        ),
        (
            "no creator",
            broken(&|v| {
                v["log"].as_object_mut().unwrap().remove("creator");
            }),
        ),
    ] {
        assert!(!validator.is_valid(&bad), "{why} passed");
    }
}
