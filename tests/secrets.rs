//! Secrets reach no output in any form: a server echoes the token and a
//! `secret: true` capture back escaped, encoded, lower-cased and cut short;
//! the base URL carries a password and the token; a case file with a syntax
//! error holds the token literally. Every artifact (terminal, the five
//! reports, the extra JUnit file) is searched for every form conform or a
//! server could write, and for every eight-character piece of each secret.

mod common;
use common::walk;

use std::path::Path;
use std::process::{Command, Output};

use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::routing::{get, post};

const BIN: &str = env!("CARGO_BIN_EXE_conform");
/// The bearer token (27 characters).
const TOKEN: &str = "planted-Token-7c2f9e41d0b86";
/// The value a scenario captures as a secret: a quote, a space, a slash,
/// `<`, `&` and a non-ASCII letter, so every escaping changes it.
const CAPTURED: &str = "adv-SEC\"RET q/<x>&é-91c3e7";
/// A userinfo password that is no other secret.
const PASSWORD: &str = "hunter2-0b7f";

/// The forms a secret may take in an output.
fn forms(secret: &str) -> Vec<String> {
    let percent = |upper: bool| -> String {
        secret
            .bytes()
            .map(|b| match (b.is_ascii_alphanumeric(), upper) {
                (true, _) => (b as char).to_string(),
                (false, true) => format!("%{b:02X}"),
                (false, false) => format!("%{b:02x}"),
            })
            .collect()
    };
    let json = |s: &str| {
        serde_json::to_string(s)
            .unwrap()
            .trim_matches('"')
            .to_owned()
    };
    let html = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let query: String = url_encode(secret);
    vec![
        secret.to_owned(),
        secret.to_lowercase(),
        percent(true),
        percent(false),
        query.clone(),
        json(secret),
        json(&json(secret)),
        html(secret),
        html(&json(secret)),
        html(&query),
        secret
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect(),
    ]
}

/// How the query of a URL writes `s` (the `url` crate's form encoding).
fn url_encode(s: &str) -> String {
    let mut u = reqwest::Url::parse("http://h/").unwrap();
    u.query_pairs_mut().append_pair("q", s);
    u.query().unwrap().trim_start_matches("q=").to_owned()
}

/// Where `text` holds a secret: a form of it, or eight characters of it in
/// a row (what a cut leaves), in any case.
fn leak(text: &str, secret: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for f in forms(secret) {
        if !f.is_empty() && (text.contains(&f) || lower.contains(&f.to_lowercase())) {
            return Some(f);
        }
    }
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(8)
        .map(|w| w.iter().collect::<String>().to_lowercase())
        .find(|piece| lower.contains(piece.as_str()))
}

fn assert_nowhere(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        if let Some(form) = leak(text, s) {
            panic!("{what} holds {form:?} of a secret:\n{text}");
        }
    }
}

fn terminal(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A server that gives a secret to capture, then echoes what it is sent
/// back in every form: JSON-escaped with `\u` escapes, the raw
/// (percent-encoded) query, a header named after the token (lower-cased),
/// and a text body that a 200-character cut splits inside the token.
async fn echo_server() -> String {
    let escaped =
        |s: &str| -> String { s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect() };
    let app = axum::Router::new()
        .route(
            "/secret",
            get(|| async {
                (
                    [("content-type", "application/json")],
                    serde_json::json!({ "value": CAPTURED }).to_string(),
                )
            }),
        )
        .route(
            "/echo",
            post(
                move |RawQuery(query): RawQuery, headers: HeaderMap| async move {
                    let echo = headers
                        .get("x-echo")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let body = format!(
                        "{{\"status\":\"RUNNING\",\"echo\":\"{}\",\"token\":\"{}\",\"query\":{}}}",
                        escaped(&echo),
                        escaped(TOKEN),
                        serde_json::to_string(&query.unwrap_or_default()).unwrap()
                    );
                    (
                        [
                            ("content-type", "application/json".to_owned()),
                            // A header named after the token, and one carrying it encoded.
                            (
                                &*format!("x-{}", TOKEN.to_lowercase()).leak(),
                                "1".to_owned(),
                            ),
                            ("x-encoded", url_encode(TOKEN)),
                        ],
                        body,
                    )
                },
            ),
        )
        .route(
            "/text",
            get(|| async {
                // The token starts at character 174 of the body: a cut at 200
                // keeps 26 of its 27 characters.
                let body = format!("{}{TOKEN} and the rest", "x".repeat(174));
                ([("content-type", "text/plain")], body)
            }),
        )
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "no such thing") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

const SUITE: &str =
    "name: secrets\nauth: { bearer_env: VEZA_TOKEN }\ndefaults: { request_timeout: 2s }\n";

/// Captures a secret, sends it in a query, a header and a body, and fails
/// so that every exchange is recorded; then reads a text body as JSON.
const SCENARIO: &str = r#"name: echo
steps:
  - name: get the secret
    request: { method: GET, path: /secret }
    capture:
      s: { json: $.value, secret: true }
    expect: { status: 200 }
  - name: send it back
    soft: true
    request:
      method: POST
      path: /echo
      query: { q: "{{ s }}", t: "{{ env.VEZA_TOKEN }}" }
      headers: { X-Echo: "{{ s }}" }
      json: { v: "{{ s }}", quoted: "say \"{{ s }}\"" }
    expect:
      status: 201
      json:
        $.echo: "{{ s }}"
  - name: read text as JSON
    request: { method: GET, path: /text }
    expect:
      json:
        $.status: DONE
"#;

fn suite_dir(scenario: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conform.yaml"), SUITE).unwrap();
    std::fs::write(dir.path().join("01_echo.yaml"), scenario).unwrap();
    dir
}

fn run(cases: &Path, base_url: &str, reports: &Path) -> Output {
    Command::new(BIN)
        .args(["run", "--cases"])
        .arg(cases)
        .args(["--base-url", base_url, "--reports"])
        .arg(reports)
        .arg("--junit")
        .arg(reports.join("extra/junit.xml"))
        .env("VEZA_TOKEN", TOKEN)
        .env_remove("BASE_URL")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .unwrap()
}

/// Every report and the terminal are free of `secrets`; returns the terminal.
fn assert_clean(o: &Output, reports: &Path, secrets: &[&str]) -> String {
    let term = terminal(o);
    assert!(!term.contains("panicked"), "{term}");
    assert_nowhere("the terminal", &term, secrets);
    let files = walk(reports);
    for name in [
        "report.json",
        "junit.xml",
        "report.html",
        "summary.md",
        "failures.har",
    ] {
        assert!(
            files.iter().any(|f| f.file_name().unwrap() == name),
            "{name} was not written: {term}"
        );
    }
    assert!(files.iter().any(|f| f.ends_with("extra/junit.xml")));
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        assert_nowhere(&f.display().to_string(), &text, secrets);
    }
    term
}

#[test]
fn a_secret_sent_and_echoed_in_any_encoding_reaches_no_output() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(echo_server());
    let cases = suite_dir(SCENARIO);
    let reports = tempfile::tempdir().unwrap();
    let o = run(cases.path(), &url, reports.path());
    let term = assert_clean(&o, reports.path(), &[TOKEN, CAPTURED]);
    assert_eq!(o.status.code(), Some(1), "{term}");
    // The exchanges were recorded, masked: the checks above had text to search.
    let report = std::fs::read_to_string(reports.path().join("report.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&report).unwrap();
    let steps = &r["scenarios"][0]["steps"];
    let echo = &steps[1]["exchange"];
    assert!(
        echo["request"]["url"].as_str().unwrap().contains("q=***"),
        "{echo:#}"
    );
    assert!(echo["curl"].as_str().unwrap().contains("***"), "{echo:#}");
    let response = echo["response"].to_string();
    assert!(response.contains("***"), "{response}");
    // The text body was cut inside the token: what the cut left is masked.
    let actual = steps[2]["failures"][0]["actual"].as_str().unwrap();
    assert!(actual.starts_with(&"x".repeat(174)), "{actual}");
    assert!(actual.contains("***…"), "{actual}");
    // The HAR holds the same exchanges, masked; its query decoded still is.
    let har: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.path().join("failures.har")).unwrap(),
    )
    .unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    let echo = entries
        .iter()
        .find(|e| e["_step"] == "send it back")
        .unwrap();
    assert_eq!(
        echo["request"]["queryString"],
        serde_json::json!([{"name": "q", "value": "***"}, {"name": "t", "value": "***"}]),
        "{echo:#}"
    );
    assert!(
        echo["response"]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("***")
    );
    assert!(
        echo["request"]["postData"]["text"]
            .as_str()
            .unwrap()
            .contains("***")
    );
}

#[test]
fn userinfo_and_a_token_in_the_base_url_are_masked_in_every_report() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(echo_server());
    // The password, and the token as a path segment of the base URL.
    let base = url.replacen("http://", &format!("http://ci:{PASSWORD}@"), 1) + "/t/" + TOKEN;
    let cases = suite_dir(
        "name: one\nsteps:\n  - name: get\n    request: { method: GET, path: /thing }\n    expect: { status: 200 }\n",
    );
    let reports = tempfile::tempdir().unwrap();
    let o = run(cases.path(), &base, reports.path());
    let term = assert_clean(&o, reports.path(), &[TOKEN, PASSWORD]);
    assert_eq!(o.status.code(), Some(1), "{term}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.path().join("report.json")).unwrap())
            .unwrap();
    // The base URL is still there for a reader, masked.
    let shown = r["base_url"].as_str().unwrap();
    assert!(shown.starts_with("http://***@127.0.0.1:"), "{shown}");
    assert!(shown.ends_with("/t/***"), "{shown}");
    let junit = std::fs::read_to_string(reports.path().join("junit.xml")).unwrap();
    assert!(junit.contains("http://***@127.0.0.1:"), "{junit}");
}

#[test]
fn a_token_in_a_case_file_with_a_syntax_error_is_masked_in_the_excerpt() {
    // A broken line holding the token: the excerpt of the problem shows it.
    let cases = suite_dir(&format!(
        "name: broken\nsteps:\n  - name: get\n    request: {{ method: GET, path: /x, headers: {{ Authorization: \"Bearer {TOKEN}\" ] }}\n    expect: {{ status: 200 }}\n"
    ));
    let reports = tempfile::tempdir().unwrap();
    let dirs = [
        cases.path().to_str().unwrap(),
        reports.path().to_str().unwrap(),
    ];
    for args in [
        vec![
            "run",
            "--cases",
            dirs[0],
            "--base-url",
            "http://127.0.0.1:9",
            "--reports",
            dirs[1],
        ],
        vec!["lint", "--cases", dirs[0]],
    ] {
        let o = Command::new(BIN)
            .args(&args)
            .env("VEZA_TOKEN", TOKEN)
            .output()
            .unwrap();
        let term = terminal(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {term}");
        assert!(term.contains("01_echo.yaml"), "{term}");
        assert!(
            term.contains("Bearer ***"),
            "the excerpt is shown, masked: {term}"
        );
        assert_nowhere(&format!("{args:?}"), &term, &[TOKEN]);
    }
    // The token from --token-file, under a variable name that says nothing.
    let token_file = reports.path().join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let o = Command::new(BIN)
        .args([
            "run",
            "--cases",
            dirs[0],
            "--base-url",
            "http://127.0.0.1:9",
        ])
        .arg("--token-file")
        .arg(&token_file)
        .args(["--reports", dirs[1]])
        .env_remove("VEZA_TOKEN")
        .output()
        .unwrap();
    let term = terminal(&o);
    assert_eq!(o.status.code(), Some(2), "{term}");
    assert!(term.contains("Bearer ***"), "{term}");
    assert_nowhere("run --token-file", &term, &[TOKEN]);
}

#[test]
fn a_request_body_written_whole_beside_the_reports_is_masked() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(echo_server());
    // Past the 64 KiB the record keeps: the token and the captured secret,
    // so that only the body file (what the curl line sends) holds them.
    let cases = suite_dir(&format!(
        r#"name: big
steps:
  - name: get the secret
    request: {{ method: GET, path: /secret }}
    capture:
      s: {{ json: $.value, secret: true }}
  - name: send a large body
    request:
      method: POST
      path: /echo
      json: {{ padding: "{}", token: "{{{{ env.VEZA_TOKEN }}}}", s: "{{{{ s }}}}" }}
    expect: {{ status: 201 }}
"#,
        "p".repeat(70_000)
    ));
    let reports = tempfile::tempdir().unwrap();
    let o = run(cases.path(), &url, reports.path());
    let term = assert_clean(&o, reports.path(), &[TOKEN, CAPTURED]);
    assert_eq!(o.status.code(), Some(1), "{term}");
    let files: Vec<_> = walk(&reports.path().join("bodies"));
    assert_eq!(files.len(), 1, "{files:?}");
    let body = std::fs::read_to_string(&files[0]).unwrap();
    assert!(body.starts_with(r#"{"padding":"ppp"#), "{}", &body[..40]);
    assert!(
        body.ends_with(r#"","token":"***","s":"***"}"#),
        "{}",
        &body[body.len() - 60..]
    );
}

#[test]
fn a_body_file_written_before_a_secret_was_captured_is_masked_at_the_end() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(echo_server());
    // The first step sends the value the second captures as a secret.
    let cases = suite_dir(&format!(
        r#"name: late
steps:
  - name: send it before it is known
    soft: true
    request:
      method: POST
      path: /echo
      json: {{ padding: "{}", late: '{CAPTURED}' }}
    expect: {{ status: 201 }}
  - name: get the secret
    request: {{ method: GET, path: /secret }}
    capture:
      s: {{ json: $.value, secret: true }}
"#,
        "p".repeat(70_000)
    ));
    let reports = tempfile::tempdir().unwrap();
    let o = run(cases.path(), &url, reports.path());
    let term = assert_clean(&o, reports.path(), &[TOKEN, CAPTURED]);
    assert_eq!(o.status.code(), Some(1), "{term}");
    let files = walk(&reports.path().join("bodies"));
    assert_eq!(files.len(), 1, "{files:?}");
    let body = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        body.ends_with(r#"","late":"***"}"#),
        "{}",
        &body[body.len() - 40..]
    );
}
