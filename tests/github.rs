//! The GitHub example suite (`examples/github`) run by the binary against
//! GitHub's own description (13 MB, installed by `scripts/github-openapi.sh`)
//! and a local replay of recorded responses (`examples/github/replay.json`,
//! served on 127.0.0.1): the suite passes on the recorded responses, and a
//! broken one fails the check of the clause it breaks.
//!
//! Without the description these tests say so and pass, unless
//! `CONFORM_REQUIRE_GITHUB` is set (as `.ci/run` does): then its absence fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::IntoResponse;
use conform::model::{RunResult, StepOutcome};
use serde_json::Value;
use tokio::runtime::Runtime;

const BIN: &str = env!("CARGO_BIN_EXE_conform");
const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/github");
const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/github-openapi/23.0.2/api.github.com.json"
);
const TOKEN: &str = "ghp_conformPlantedToken4f1d2c9e7a";

/// GitHub's description, or `None` (with a message) when it is not installed.
fn spec() -> Option<&'static Path> {
    let spec = Path::new(SPEC);
    if spec.is_file() {
        return Some(spec);
    }
    let hint = "GitHub's description is not installed: run scripts/github-openapi.sh";
    assert!(
        std::env::var_os("CONFORM_REQUIRE_GITHUB").is_none(),
        "{hint}"
    );
    common::skipped(hint);
    None
}

/// One recorded response, as `replay.json` holds it.
#[derive(Clone, serde::Deserialize)]
struct Recorded {
    method: String,
    path: String,
    status: u16,
    content_type: String,
    body: Value,
}

fn recorded() -> Vec<Recorded> {
    let text = std::fs::read_to_string(Path::new(SUITE).join("replay.json")).expect("replay.json");
    serde_json::from_str(&text).expect("replay.json holds recorded responses")
}

/// What the replay received: method, path and query, and the headers.
type Seen = Arc<Mutex<Vec<(String, HeaderMap)>>>;

/// Serves `responses` by method and path on 127.0.0.1 (anything else: 404
/// with GitHub's body); returns the base URL and what it received.
fn replay(rt: &Runtime, responses: Vec<Recorded>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, _body: Bytes| {
        let log = Arc::clone(&log);
        let responses = responses.clone();
        async move {
            let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
            log.lock()
                .unwrap()
                .push((format!("{method} {target}"), headers));
            let found = responses
                .iter()
                .find(|r| r.method == method.as_str() && r.path == uri.path());
            let (status, content_type, body) = match found {
                Some(r) => (r.status, r.content_type.clone(), r.body.to_string()),
                None => (
                    404,
                    "application/json; charset=utf-8".to_owned(),
                    r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#.to_owned(),
                ),
            };
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    rt.spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// The recorded uploads (uploads.github.com), and the rest (api.github.com).
fn split(responses: Vec<Recorded>) -> (Vec<Recorded>, Vec<Recorded>) {
    responses
        .into_iter()
        .partition(|r| r.path.ends_with("/assets"))
}

/// The API and uploads replays on 127.0.0.1, with what each received.
struct Replays {
    api: String,
    uploads: String,
    api_seen: Seen,
    uploads_seen: Seen,
}

fn replays(rt: &Runtime, responses: Vec<Recorded>) -> Replays {
    let (uploads, api) = split(responses);
    let (api, api_seen) = replay(rt, api);
    let (uploads, uploads_seen) = replay(rt, uploads);
    Replays {
        api,
        uploads,
        api_seen,
        uploads_seen,
    }
}

/// Runs the example suite against the replays; the reports go to `reports`.
fn run(r: &Replays, reports: &Path) -> Output {
    Command::new(BIN)
        .args([
            "run",
            "--cases",
            SUITE,
            "--spec",
            SPEC,
            "--base-url",
            &r.api,
        ])
        .arg("--server")
        .arg(format!("uploads={}", r.uploads))
        .arg("--reports")
        .arg(reports)
        .env("GITHUB_TOKEN", TOKEN)
        .env_remove("GITHUB_UPLOADS_URL")
        .output()
        .expect("the binary runs")
}

fn report(reports: &Path) -> RunResult {
    conform::report::json::read(&reports.join("report.json")).expect("report.json reads")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir`, with its text.
fn artifacts(dir: &Path) -> Vec<(PathBuf, String)> {
    std::fs::read_dir(dir)
        .expect("reports")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let text = String::from_utf8_lossy(&std::fs::read(&p).expect("reads")).into_owned();
            (p, text)
        })
        .collect()
}

#[test]
fn the_example_suite_passes_on_recorded_responses() {
    let Some(_) = spec() else { return };
    let rt = Runtime::new().expect("runtime");
    let r = replays(&rt, recorded());
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&r, dir.path());
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let result = report(dir.path());
    assert!(!result.scenarios.is_empty());
    // Where the named server's requests went is part of the provenance.
    assert_eq!(
        result.servers.get("uploads").map(String::as_str),
        Some(format!("{}/", r.uploads).as_str())
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("html");
    let port = r.uploads.rsplit(':').next().expect("a port");
    assert!(
        html.contains("Servers")
            && html.contains(&format!("uploads: http:&#x2f;&#x2f;127.0.0.1:{port}")),
        "the HTML provenance names the uploads server"
    );
    for s in &result.scenarios {
        for step in &s.steps {
            assert_eq!(step.outcome, StepOutcome::Passed, "{}: {all}", s.name);
            // Every response was checked against the description, schema included.
            let record = step.contract.as_ref().expect("a contract record");
            let ran: Vec<&str> = record.ran().map(|c| c.name()).collect();
            assert!(ran.contains(&"response_schema"), "{}: {ran:?}", s.name);
        }
    }
    // The upload went to the uploads server, and only it did.
    let uploads = r.uploads_seen.lock().unwrap();
    let sent: Vec<&str> = uploads.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        sent,
        ["POST /repos/octocat/Hello-World/releases/1/assets?name=notes.txt"]
    );
    // With the one media type the operation documents for its body.
    let typed = uploads[0].1.get(header::CONTENT_TYPE);
    assert_eq!(
        typed.map(|v| v.as_bytes()),
        Some(&b"application/octet-stream"[..])
    );
    // Query parameters in the order written; a multi-segment ref with its
    // `/`; the issue created is the one closed.
    let mut seen = r.api_seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(t, _)| !t.contains("/assets")), "{seen:?}");
    seen.extend(uploads.iter().cloned());
    let targets: Vec<&str> = seen.iter().map(|(t, _)| t.as_str()).collect();
    for sent in [
        "GET /repos/octocat/Hello-World/issues?state=open&per_page=2&page=1",
        "GET /repos/octocat/Hello-World/git/ref/heads/featureA",
        "POST /repos/octocat/Hello-World/issues",
        "PATCH /repos/octocat/Hello-World/issues/1347",
    ] {
        assert!(targets.contains(&sent), "{sent} not in {targets:#?}");
    }
    // The token went out, and reached no output.
    assert!(seen.iter().all(|(_, h)| {
        h.get(header::AUTHORIZATION)
            .is_some_and(|v| v.as_bytes() == format!("Bearer {TOKEN}").as_bytes())
    }));
    assert!(!all.contains(TOKEN));
    for (path, body) in artifacts(dir.path()) {
        assert!(!body.contains(TOKEN), "{} holds the token", path.display());
    }
}

#[test]
fn a_broken_recorded_response_fails_its_schema_check() {
    let Some(_) = spec() else { return };
    let mut responses = recorded();
    let repo = responses
        .iter_mut()
        .find(|r| r.method == "GET" && r.path == "/repos/octocat/Hello-World")
        .expect("the repository is recorded");
    // `owner` becomes a string and `full_name` goes: two breaks of
    // `full-repository`, found in a 13 MB description.
    repo.body["owner"] = Value::String("octocat".into());
    repo.body
        .as_object_mut()
        .expect("an object")
        .shift_remove("full_name");
    let rt = Runtime::new().expect("runtime");
    let r = replays(&rt, responses);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&r, dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let result = report(dir.path());
    let s = result
        .scenarios
        .iter()
        .find(|s| &*s.name == "get a repository")
        .expect("the scenario");
    let failures: Vec<_> = s.steps.iter().flat_map(|st| &st.failures).collect();
    let schema: Vec<&str> = failures
        .iter()
        .filter(|f| f.check.name() == "response_schema")
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        schema
            .iter()
            .any(|m| m.contains("\"full_name\" is a required property")),
        "{schema:?}"
    );
    assert!(
        schema
            .iter()
            .any(|m| m.contains("/owner") && m.contains("not of type \"object\"")),
        "{schema:?}"
    );
    // The other scenarios still pass.
    let passed = result
        .scenarios
        .iter()
        .filter(|s| s.steps.iter().all(|st| st.outcome == StepOutcome::Passed))
        .count();
    assert_eq!(passed, result.scenarios.len() - 1);
}
