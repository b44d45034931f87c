//! Hostile servers: each test starts a small server (raw TCP written by hand,
//! since the point is misbehaviour), runs one scenario of
//! `tests/fixtures/hostile` against it with the binary, and checks that the
//! scenario ends with a failure or error that says what happened, within the
//! suite's timeouts, and that the run still finishes with valid reports and
//! no panic.
//!
//! The suite's defaults (its `conform.yaml`): request timeout 2s, connect
//! timeout 1s, a 64 KiB body cap, a poll every 100ms for at most 3s.
//! junit.xml is checked against the strict XSD by `common::xsd` (and by
//! `xmllint` too where it is installed). Peak memory is the child's own
//! (`wait4`), so no outside tool measures it.

mod common;
use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use conform::model::{FailureKind, Outcome, RunResult, StepOutcome, StepResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

const BIN: &str = env!("CARGO_BIN_EXE_conform");
const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hostile");
const TOKEN: &str = "hostile-token-5b1e8c0a93";
/// The scenario with one GET step (expects 200 and `$.status: DONE`).
const GET: &str = "01_get";
/// The scenario polling until `$.status` is `DONE`.
const POLL: &str = "02_poll";
/// The scenario with one DELETE step (expects 200 and an empty body).
const EMPTY: &str = "03_empty";
/// The suite's `request_timeout` and poll `timeout`, in ms.
const REQUEST_TIMEOUT_MS: f64 = 2000.0;
const POLL_TIMEOUT_MS: f64 = 3000.0;
/// A run still going after this has hung (each should take at most ~3s).
const HANG: Duration = Duration::from_secs(20);
/// Slack for scheduling and process start-up around a timeout.
const SLACK_MS: f64 = 800.0;

// ---- servers ----

/// A raw TCP server: every accepted connection goes to `handle` with its
/// number (0-based); `accepted` counts connections.
struct Server {
    url: String,
    port: u16,
    accepted: Arc<AtomicUsize>,
}

fn serve<F, Fut>(rt: &Runtime, handle: F) -> Server
where
    F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let n = count.fetch_add(1, SeqCst);
            tokio::spawn(handle(stream, n));
        }
    });
    Server {
        url: format!("http://{addr}"),
        port: addr.port(),
        accepted,
    }
}

/// Reads a request head (up to its blank line); `None` if the peer hung up first.
async fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Reads the request, answers `response` (head and body, bytes as given) and closes.
async fn answer(mut s: TcpStream, response: &[u8]) {
    if read_head(&mut s).await.is_some() {
        let _ = s.write_all(response).await;
        let _ = s.shutdown().await;
    }
}

/// A whole response: `head` (status line and headers, without the final
/// CRLF), then `content-length`, `connection: close` and `body`.
fn response(head: &[u8], body: &[u8]) -> &'static [u8] {
    let mut r = head.to_vec();
    r.extend_from_slice(
        format!(
            "\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    r.extend_from_slice(body);
    r.leak()
}

/// Keeps a connection open, saying nothing more, until the test ends.
async fn hold(s: TcpStream) {
    let _open = s;
    std::future::pending::<()>().await;
}

// ---- running conform ----

/// What one `conform run` produced.
struct Run {
    code: Option<i32>,
    /// stdout and stderr.
    terminal: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    report: RunResult,
    dir: tempfile::TempDir,
    /// Peak RSS of the conform process, when measured.
    max_rss_kb: Option<u64>,
}

impl Run {
    /// The only step of the only scenario.
    fn step(&self) -> &StepResult {
        assert_eq!(self.report.scenarios.len(), 1, "{}", self.terminal);
        let s = &self.report.scenarios[0];
        assert_eq!(s.steps.len(), 1, "{}", self.terminal);
        &s.steps[0]
    }

    /// The step's failure messages, one per line.
    fn message(&self) -> String {
        let st = self.step();
        assert!(!st.failures.is_empty(), "the step has no failure: {st:#?}");
        st.failures
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn file(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// Runs the scenarios matching `filter` against `url` (its peak memory kept
/// when `measure`), then checks what every run must leave behind: no panic,
/// no libtest exit code, four reports that are UTF-8, a report.json that
/// reads back, a junit.xml valid against the strict Jenkins XSD, and the
/// token nowhere.
fn conform(url: &str, filter: &str, measure: bool) -> Run {
    conform_with(url, filter, measure, &[])
}

/// [`conform`] with more arguments for `conform run`.
fn conform_with(url: &str, filter: &str, measure: bool, more: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--cases", CASES, "--base-url", url, "--reports"])
        .arg(dir.path())
        .args(more)
        .arg(filter)
        .env("VEZA_TOKEN", TOKEN)
        .env_remove("BASE_URL");
    for proxy in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(proxy);
    }
    let (out, peak_rss_kb) = finish(&mut cmd);
    let terminal = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code();
    assert!(!terminal.contains("panicked"), "a panic: {terminal}");
    assert!(
        matches!(code, Some(0 | 1 | 3)),
        "exit code {code:?}: {terminal}"
    );
    assert!(!terminal.contains(TOKEN), "the token reached the terminal");
    let max_rss_kb = measure.then_some(peak_rss_kb);

    let report = conform::report::json::read(&dir.path().join("report.json"))
        .unwrap_or_else(|e| panic!("report.json does not read back: {e}\n{terminal}"));
    let names: Vec<PathBuf> = [
        "report.json",
        "junit.xml",
        "report.html",
        "summary.md",
        "failures.har",
    ]
    .iter()
    .map(|f| dir.path().join(f))
    .collect();
    for path in &names {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{} is not UTF-8 text: {e}", path.display()));
        assert!(!text.is_empty(), "{} is empty", path.display());
        assert!(
            !text.contains(TOKEN),
            "the token reached {}",
            path.display()
        );
    }
    common::assert_valid_junit(&names[1]);
    let har = std::fs::read_to_string(&names[4]).unwrap();
    common::assert_valid_har(&serde_json::from_str(&har).expect("failures.har is JSON"));
    Run {
        code,
        terminal,
        stdout: out.stdout,
        stderr: out.stderr,
        report,
        dir,
        max_rss_kb,
    }
}

/// Runs `cmd` to its end, killing it (and failing) if it hangs; returns
/// its output and its peak resident memory in KiB. It runs in its own
/// process group, so a kill reaches everything it started.
fn finish(cmd: &mut Command) -> (Output, u64) {
    let child = cmd
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(common::output_with_peak_rss(child)));
    match rx.recv_timeout(HANG) {
        Ok(out) => out,
        Err(_) => {
            // SAFETY: kill(2) of the child's process group (a negative pid).
            unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
            let (out, _) = rx.recv().unwrap();
            panic!(
                "conform hung: still running after {HANG:?}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A transport problem ended the step: exit 3, one runtime failure whose
/// message contains `says`, within `[min_ms, max_ms]`.
fn assert_transport_error(run: &Run, says: &str, min_ms: f64, max_ms: f64) {
    assert_eq!(run.code, Some(3), "{}", run.terminal);
    let st = run.step();
    assert_eq!(st.outcome, StepOutcome::Error, "{st:#?}");
    assert!(
        st.failures.iter().all(|f| f.kind == FailureKind::Runtime),
        "{st:#?}"
    );
    let msg = run.message();
    assert!(msg.contains(says), "expected {says:?} in: {msg}");
    assert!(
        (min_ms..=max_ms).contains(&st.duration_ms),
        "the step took {}ms, expected {min_ms}..={max_ms}ms: {msg}",
        st.duration_ms
    );
    // The terminal and the JUnit body say it too.
    assert!(run.terminal.contains(says), "{}", run.terminal);
    let junit = run.file("junit.xml");
    assert!(junit.contains("<error"), "{junit}");
}

const TIMEOUT_SAYS: &str = "no complete response within the request timeout of 2s";

// ---- the cases ----

#[test]
fn headers_then_silence_is_a_request_timeout() {
    let rt = Runtime::new().unwrap();
    let srv = serve(&rt, |mut s, _| async move {
        if read_head(&mut s).await.is_some() {
            let head =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n";
            let _ = s.write_all(head).await;
            hold(s).await;
        }
    });
    let run = conform(&srv.url, GET, false);
    assert_transport_error(
        &run,
        TIMEOUT_SAYS,
        REQUEST_TIMEOUT_MS,
        REQUEST_TIMEOUT_MS + SLACK_MS,
    );
}

#[test]
fn a_body_dribbled_a_byte_a_second_is_a_request_timeout() {
    let rt = Runtime::new().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let srv = serve(&rt, move |mut s, _| {
        let sent = counter.clone();
        async move {
            if read_head(&mut s).await.is_none() {
                return;
            }
            let head =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
            if s.write_all(head).await.is_err() {
                return;
            }
            for b in br#"{"status": "DONE", "padding": "...."#.iter().cycle().take(99) {
                if s.write_all(&[*b]).await.is_err() {
                    return;
                }
                sent.fetch_add(1, SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    let run = conform(&srv.url, GET, false);
    assert_transport_error(
        &run,
        TIMEOUT_SAYS,
        REQUEST_TIMEOUT_MS,
        REQUEST_TIMEOUT_MS + SLACK_MS,
    );
    // The body was really arriving when the timeout struck.
    assert!(sent.load(SeqCst) >= 2, "{} bytes sent", sent.load(SeqCst));
}

#[test]
fn a_100_mb_body_is_refused_at_the_cap_in_bounded_memory() {
    const SIZE: usize = 100 * 1024 * 1024;
    let rt = Runtime::new().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let srv = serve(&rt, move |mut s, _| {
        let sent = counter.clone();
        async move {
            if read_head(&mut s).await.is_none() {
                return;
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {SIZE}\r\n\r\n"
            );
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            // Streamed from one 64 KiB buffer: the test never holds 100 MB.
            let chunk = vec![b' '; 64 * 1024];
            while sent.load(SeqCst) < SIZE {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
                sent.fetch_add(chunk.len(), SeqCst);
            }
        }
    });
    let run = conform(&srv.url, GET, true);
    assert_transport_error(
        &run,
        "the response body exceeds the cap of 65536 bytes (raise max_response_bytes",
        0.0,
        REQUEST_TIMEOUT_MS,
    );
    // The harness stopped reading: most of the body was never sent.
    let sent = sent.load(SeqCst);
    assert!(sent < SIZE / 2, "{sent} bytes were sent");
    // Nor was it held: a 100 MB body read in full would show in the peak RSS.
    let rss_mb = run.max_rss_kb.unwrap() / 1024;
    assert!(rss_mb < 64, "conform peaked at {rss_mb} MB");
}

#[test]
fn a_connection_reset_mid_body_says_the_response_broke_off() {
    let rt = Runtime::new().unwrap();
    let srv = serve(&rt, |mut s, _| async move {
        if read_head(&mut s).await.is_none() {
            return;
        }
        let part = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"status\": \"DONE\", \"rows\": [1, 2, 3";
        let _ = s.write_all(part).await;
        let _ = s.flush().await;
        // Let the client read the head and the first bytes, then reset.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = s.set_zero_linger();
        drop(s);
    });
    let run = conform(&srv.url, GET, false);
    assert_transport_error(&run, "the response broke off", 0.0, REQUEST_TIMEOUT_MS);
    let msg = run.message().to_lowercase();
    assert!(
        ["reset", "closed", "end of file", "incomplete"]
            .iter()
            .any(|cause| msg.contains(cause)),
        "the cause is named: {msg}"
    );
}

#[test]
fn invalid_json_under_a_json_content_type_fails_saying_so() {
    let rt = Runtime::new().unwrap();
    let r = response(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json",
        b"{\"status\": \"DONE\",",
    );
    let srv = serve(&rt, move |s, _| answer(s, r));
    let run = conform(&srv.url, GET, false);
    assert_eq!(run.code, Some(1), "{}", run.terminal);
    let st = run.step();
    assert_eq!(st.outcome, StepOutcome::Failed, "{st:#?}");
    assert_eq!(st.status, Some(200));
    let msg = run.message();
    assert!(msg.contains("the body is not JSON"), "{msg}");
    assert!(
        msg.contains("$.status"),
        "the failing expectation is named: {msg}"
    );
    let resp = st.exchange.as_ref().unwrap().response.as_ref().unwrap();
    assert_eq!(resp.body, "{\"status\": \"DONE\",");
}

#[test]
fn invalid_utf8_in_a_body_and_a_header_is_replaced_and_the_reports_stay_valid() {
    let rt = Runtime::new().unwrap();
    // Latin-1 bytes, a lone 0xFF, control characters, an ANSI escape and the
    // noncharacter U+FFFE (valid UTF-8, forbidden in XML).
    let body: &[u8] =
        b"{\"status\": \"caf\xe9 \xff\", \"ctl\": \"\x01\x1b[31mred\x7f\xef\xbf\xbe\"}";
    let r = response(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-note: caf\xe9 \xff",
        body,
    );
    let srv = serve(&rt, move |s, _| answer(s, r));
    let run = conform(&srv.url, GET, false);
    assert_eq!(run.code, Some(1), "{}", run.terminal);
    let msg = run.message();
    assert!(msg.contains("the body is not JSON"), "{msg}");
    let resp = run
        .step()
        .exchange
        .as_ref()
        .unwrap()
        .response
        .as_ref()
        .unwrap();
    let note = resp.headers.iter().find(|(k, _)| k == "x-note");
    assert_eq!(
        note.map(|(_, v)| v.as_str()),
        Some("caf\u{fffd} \u{fffd}"),
        "{resp:#?}"
    );
    assert!(
        resp.body
            .starts_with("{\"status\": \"caf\u{fffd} \u{fffd}\""),
        "{resp:#?}"
    );
    let junit = run.file("junit.xml");
    assert!(junit.contains("caf\u{fffd} \u{fffd}"), "{junit}");
    assert!(!junit.contains('\u{1}') && !junit.contains('\u{fffe}'));
    let html = run.file("report.html");
    assert!(html.contains("caf\u{fffd}"), "the HTML shows the response");
}

#[test]
fn a_redirect_to_another_host_is_not_followed_and_the_token_stays_home() {
    let rt = Runtime::new().unwrap();
    let heads = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = heads.clone();
    let elsewhere = serve(&rt, move |mut s, _| {
        let seen = seen.clone();
        async move {
            if let Some(h) = read_head(&mut s).await {
                seen.lock().unwrap().push(h);
            }
        }
    });
    let location = format!("http://localhost:{}/stolen", elsewhere.port);
    let r = response(
        format!("HTTP/1.1 302 Found\r\nlocation: {location}").as_bytes(),
        b"",
    );
    let srv = serve(&rt, move |s, _| answer(s, r));
    let run = conform(&srv.url, GET, false);
    assert_eq!(run.code, Some(1), "{}", run.terminal);
    let st = run.step();
    assert_eq!(st.status, Some(302));
    assert_eq!(st.requests, 1);
    let msg = run.message();
    assert!(
        msg.contains("expected status 200") && msg.contains("got 302"),
        "{msg}"
    );
    let resp = st.exchange.as_ref().unwrap().response.as_ref().unwrap();
    assert!(
        resp.headers
            .contains(&("location".to_owned(), location.clone())),
        "{resp:#?}"
    );
    assert_eq!(srv.accepted.load(SeqCst), 1);
    // The run is over: had the redirect been followed, it would have arrived.
    assert_eq!(
        elsewhere.accepted.load(SeqCst),
        0,
        "the other host was contacted: {:?}",
        heads.lock().unwrap()
    );
}

/// Answers 503 with `Retry-After: 1` to the first `storm` requests, then DONE.
fn storm_server(rt: &Runtime, storm: usize) -> Server {
    let busy = response(b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1", b"");
    let done = response(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json",
        br#"{"status":"DONE"}"#,
    );
    serve(rt, move |s, n| {
        answer(s, if n < storm { busy } else { done })
    })
}

#[test]
fn a_503_storm_retries_until_the_poll_deadline_then_errors() {
    let rt = Runtime::new().unwrap();
    let srv = storm_server(&rt, usize::MAX);
    let run = conform(&srv.url, POLL, false);
    assert_transport_error(
        &run,
        "the poll deadline of 3s passed: HTTP 503 on ",
        POLL_TIMEOUT_MS,
        POLL_TIMEOUT_MS + SLACK_MS,
    );
    // The last attempt starts at the deadline; it may or may not be answered
    // before the deadline cuts it off, and the message says which.
    let msg = run.message();
    let caps = regex::Regex::new(
        r"HTTP 503 on (?:the last of (\d+) attempts|attempt (\d+) of (\d+)) over 3\.\ds(; attempt (\d+) was cut off by the deadline)? \(history: HTTP 503 ×(\d+)\)$",
    )
    .unwrap()
    .captures(&msg)
    .unwrap_or_else(|| panic!("no attempt count: {msg}"));
    let num = |i: usize| caps.get(i).map(|m| m.as_str().parse::<u32>().unwrap());
    let (answered, attempts) = match (num(1), num(2), num(3), num(5)) {
        // Every attempt was answered.
        (Some(n), None, None, None) => (n, n),
        // The last one was cut off, and is named.
        (None, Some(done), Some(n), Some(cut)) if done + 1 == n && cut == n => (done, n),
        _ => panic!("inconsistent attempt counts: {msg}"),
    };
    assert_eq!(
        num(6),
        Some(answered),
        "the history counts the answers: {msg}"
    );
    // Retry-After: 1 spaces the attempts (without it: one every 100ms).
    assert!((3..=5).contains(&attempts), "{attempts} attempts: {msg}");
    let st = run.step();
    assert_eq!(st.requests, attempts);
    assert_eq!(st.poll.as_ref().unwrap().attempts, answered);
    let accepted = srv.accepted.load(SeqCst) as u32;
    assert!(
        (answered..=attempts).contains(&accepted),
        "{accepted} requests reached the server for {answered} answers of {attempts} attempts"
    );
}

#[test]
fn a_503_storm_that_passes_lets_the_poll_succeed() {
    let rt = Runtime::new().unwrap();
    let srv = storm_server(&rt, 2);
    let run = conform(&srv.url, POLL, false);
    assert_eq!(run.code, Some(0), "{}", run.terminal);
    // Passed: report.json keeps the scenario's totals, not its one step.
    assert_eq!(run.report.scenarios.len(), 1, "{}", run.terminal);
    let s = &run.report.scenarios[0];
    assert_eq!(s.outcome, Outcome::Passed, "{s:#?}");
    assert!(s.is_lean() && s.steps.is_empty(), "{s:#?}");
    assert_eq!(s.totals().requests, 3);
    assert_eq!(srv.accepted.load(SeqCst), 3);
    // Two waits of Retry-After: 1 (the scenario is its one step).
    assert!(
        (2000.0..POLL_TIMEOUT_MS).contains(&s.duration_ms),
        "{}ms",
        s.duration_ms
    );
}

#[test]
fn a_server_that_never_answers_is_a_request_timeout() {
    let rt = Runtime::new().unwrap();
    let srv = serve(&rt, |s, _| hold(s));
    let run = conform(&srv.url, GET, false);
    assert_transport_error(
        &run,
        TIMEOUT_SAYS,
        REQUEST_TIMEOUT_MS,
        REQUEST_TIMEOUT_MS + SLACK_MS,
    );
    assert_eq!(srv.accepted.load(SeqCst), 1);
}

#[test]
fn a_tls_handshake_that_never_completes_is_a_connect_timeout_naming_it() {
    let rt = Runtime::new().unwrap();
    // Accepts the TCP connection, then never answers the ClientHello.
    let srv = serve(&rt, |s, _| hold(s));
    let url = format!("https://127.0.0.1:{}", srv.port);
    let run = conform_with(&url, GET, false, &["--connect-timeout", "200ms"]);
    assert_transport_error(
        &run,
        "the TLS handshake did not complete within the connect timeout of 200ms",
        200.0,
        REQUEST_TIMEOUT_MS,
    );
    assert!(
        !run.message().contains("request timeout"),
        "{}",
        run.message()
    );
    // The connection the handshake hung on (the one that told TCP apart
    // may be accepted after the run).
    assert!(srv.accepted.load(SeqCst) >= 1);
}

#[test]
fn a_plain_http_server_that_never_answers_is_a_request_timeout_not_a_connect_timeout() {
    let rt = Runtime::new().unwrap();
    let srv = serve(&rt, |s, _| hold(s));
    let run = conform_with(&srv.url, GET, false, &["--connect-timeout", "200ms"]);
    assert_transport_error(
        &run,
        TIMEOUT_SAYS,
        REQUEST_TIMEOUT_MS,
        REQUEST_TIMEOUT_MS + SLACK_MS,
    );
    assert!(
        !run.message().contains("connect timeout"),
        "{}",
        run.message()
    );
}

#[test]
fn a_server_that_never_answers_a_poll_is_cut_by_the_poll_deadline() {
    let rt = Runtime::new().unwrap();
    let srv = serve(&rt, |s, _| hold(s));
    let run = conform(&srv.url, POLL, false);
    // Attempt 1 times out at 2s, attempt 2 starts at 2.1s and is cut at 3s
    // (not at its own timeout, 4.1s); the message says which saw what.
    assert_transport_error(
        &run,
        &format!("the poll deadline of 3s passed: {TIMEOUT_SAYS} on attempt 1 of 2 over 3."),
        POLL_TIMEOUT_MS,
        POLL_TIMEOUT_MS + SLACK_MS,
    );
    let msg = run.message();
    assert!(
        msg.ends_with("s; attempt 2 was cut off by the deadline (history: request timeout)"),
        "{msg}"
    );
    assert_eq!(srv.accepted.load(SeqCst), 2);
    assert_eq!(run.step().requests, 2);
}

#[test]
fn a_connection_closed_at_once_is_a_transport_failure_naming_it() {
    let rt = Runtime::new().unwrap();
    let srv = serve(&rt, |s, _| async move { drop(s) });
    let run = conform(&srv.url, GET, false);
    assert_transport_error(&run, "request failed", 0.0, REQUEST_TIMEOUT_MS);
    let msg = run.message().to_lowercase();
    assert!(
        [
            "connection closed before message completed",
            "connection reset",
            "broken pipe",
        ]
        .iter()
        .any(|cause| msg.contains(cause)),
        "the connection problem is named: {msg}"
    );
    assert_eq!(srv.accepted.load(SeqCst), 1);
}

// ---- text a server writes ----

/// What a server can put in a body to forge lines of the terminal (libtest's
/// `test … ok`, a GitHub workflow command), clear the screen, write the
/// clipboard (OSC 52), hide text and reorder it.
const FORGED: &[u8] = b"\r\ntest 99_forged ... ok\r\n::add-mask::x\x0c\x0b ##[error]y \x1b]52;c;aGk=\x07 \x1b[2J nul\x00 del\x7f c1\xc2\x85 bidi\xe2\x80\xae end\r.";

/// A response whose head and body carry [`FORGED`]: the reason phrase and a
/// header what HTTP lets through (C1 and bidi characters), the body all of it.
fn forging_server(rt: &Runtime, content_type: &'static str, body: &'static [u8]) -> Server {
    let mut head = b"HTTP/1.1 200 O\xe2\x80\xaeK\r\ncontent-type: ".to_vec();
    head.extend_from_slice(content_type.as_bytes());
    head.extend_from_slice(b"\r\nx-note: a\xc2\x85b\xe2\x80\xaec\xe2\x81\xa6d");
    let r = response(head.leak(), body);
    serve(rt, move |s, _| answer(s, r))
}

/// Characters a report may not hold as they are: controls other than the
/// line feed and the tab (a carriage return only before a line feed), C1
/// controls, and bidi overrides and isolates.
fn raw_controls(text: &str) -> Vec<char> {
    let mut found = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let bad = match c {
            '\n' | '\t' => false,
            '\r' => chars.peek() != Some(&'\n'),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
            c => c.is_control(),
        };
        if bad {
            found.push(c);
        }
    }
    found
}

/// Every string of a JSON value, decoded.
fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push(k.clone());
            json_strings(v, out);
        }),
        _ => {}
    }
}

/// Nothing the server wrote reaches a sink raw: no control byte (nor a lone
/// CR) in stdout, stderr or any report, none in report.json's decoded
/// strings, and no terminal line that a libtest parser or GitHub Actions
/// would read (`test 99_forged ... ok`, `::add-mask::`, `##[error]`).
fn assert_nothing_raw(run: &Run) {
    for (name, bytes) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let found = raw_controls(&text);
        assert!(found.is_empty(), "{name} holds {found:?}:\n{text}");
        for line in text.lines() {
            assert!(
                !line.starts_with("test 99_forged"),
                "{name} has a forged libtest line: {line:?}"
            );
            assert!(
                !line.trim_start().starts_with("::"),
                "{name} has a workflow command: {line:?}"
            );
            assert!(
                !line.contains("##["),
                "{name} has a legacy workflow command: {line:?}"
            );
        }
    }
    for file in [
        "report.json",
        "junit.xml",
        "report.html",
        "summary.md",
        "failures.har",
    ] {
        let text = run.file(file);
        let found = raw_controls(&text);
        assert!(found.is_empty(), "{file} holds {found:?}:\n{text}");
    }
    let json: serde_json::Value = serde_json::from_str(&run.file("report.json")).unwrap();
    let mut strings = Vec::new();
    json_strings(&json, &mut strings);
    for s in &strings {
        let found = raw_controls(s);
        assert!(found.is_empty(), "report.json holds {found:?} in {s:?}");
    }
}

#[test]
fn text_a_server_writes_is_escaped_in_every_sink() {
    let rt = Runtime::new().unwrap();
    let srv = forging_server(&rt, "text/plain", FORGED);
    let run = conform(&srv.url, EMPTY, false);
    assert_eq!(run.code, Some(1), "{}", run.terminal);
    assert_nothing_raw(&run);
    let st = run.step();
    assert_eq!(st.outcome, StepOutcome::Failed, "{st:#?}");
    let f = &st.failures[0];
    assert_eq!(f.check.name(), "empty_body", "{st:#?}");
    // One-line fields show what they escaped, on one line.
    let actual = f.actual.as_deref().unwrap();
    assert!(
        actual.contains(r"\r\ntest 99_forged ... ok\r\n::add-mask::x\u{c}\u{b}")
            && actual.contains(r"\u{1b}]52;c;aGk=\u{7} \u{1b}[2J nul\u{0} del\u{7f}")
            && actual.contains(r"c1\u{85} bidi\u{202e} end\r."),
        "{actual}"
    );
    assert!(!f.message.contains('\n'), "{f:#?}");
    let terminal = String::from_utf8_lossy(&run.stdout);
    assert!(
        terminal.contains(r"actual:   98 bytes: \r\ntest 99_forged ... ok\r\n"),
        "{terminal}"
    );
    // The body keeps its lines, each indented; the rest is escaped.
    let resp = st.exchange.as_ref().unwrap().response.as_ref().unwrap();
    assert!(
        resp.body
            .starts_with("\r\ntest 99_forged ... ok\r\n::add-mask::x\\u{c}\\u{b}"),
        "{resp:#?}"
    );
    assert!(resp.body.ends_with("bidi\\u{202e} end\\r."), "{resp:#?}");
    assert!(
        terminal.contains("\n    test 99_forged ... ok\n"),
        "{terminal}"
    );
    let note = resp.headers.iter().find(|(k, _)| k == "x-note").unwrap();
    assert_eq!(note.1, r"a\u{85}b\u{202e}c\u{2066}d");
}

#[test]
fn a_json_value_a_poll_observed_is_escaped_in_every_sink() {
    let rt = Runtime::new().unwrap();
    // JSON escapes decode to the same controls a raw body carries.
    let body =
        br#"{"status": "\r\ntest 99_forged ... ok\r\n::add-mask::x\u001b]0;title\u0007\u202e"}"#;
    let srv = forging_server(&rt, "application/json", body);
    let run = conform(&srv.url, POLL, false);
    assert_eq!(run.code, Some(1), "{}", run.terminal);
    assert_nothing_raw(&run);
    let st = run.step();
    let poll = st.poll.as_ref().unwrap();
    assert!(
        poll.history[0]
            .observed
            .starts_with(r"\r\ntest 99_forged ... ok\r\n::add-mask::x\u{1b}]"),
        "{poll:#?}"
    );
    let msg = run.message();
    assert!(msg.contains(r"`$.status` was \r\ntest 99_forged"), "{msg}");
}
