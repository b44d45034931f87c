//! Performance figures (`cargo bench`): printed, never asserted.
//!
//! Against the reference server on the same machine (queries that never
//! finish for the flagship, so that it always finds its query in progress;
//! instant ones where a scenario waits for `DONE`):
//! - the flagship scenario (create, check it is in progress, cancel, poll
//!   until UNKNOWN, walk the pages, cleanup: six requests) run
//!   many times in parallel: scenarios and requests per second, next to a plain
//!   reqwest loop sending the same requests at the same concurrency (the limit
//!   on this machine), and the ratio of the two;
//! - microseconds to validate one 100-row Get response against the contract;
//! - milliseconds to load and lint 1,000 generated case files;
//! - peak resident memory of `conform run` over 1,000 and 10,000 scenarios,
//!   reports included (GNU time's `%M`);
//! - how long after the server's state changes a poll notices it;
//! - wall time and peak memory of `conform lint` of a small suite against
//!   GitHub's REST API descriptions, 13 MB and 70 MB (installed by
//!   `scripts/github-openapi.sh`; skipped with a message when absent);
//! - end to end (`cargo bench -- end-to-end`): wall time, scenarios/s and
//!   peak memory of the whole `conform run` process over 1, 200 and 1,000
//!   flagships against `conform serve` in another process, at the default
//!   concurrency and one at a time, next to the plain reqwest loop and to
//!   Hurl (when a `hurl` is on PATH); the fixed cost of a run of one
//!   scenario (`conform lint`, reports on disk and in tmpfs) and the size
//!   of the reports of 1,000.

#[path = "../tests/common/mod.rs"]
mod common;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The allocator of the `conform` binary, so both sides of the comparison
/// (and the harness as users run it) allocate the same way.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cases");
const BIN: &str = env!("CARGO_BIN_EXE_conform");
/// Scenarios run at once, by the harness and by the raw loop alike.
const CONCURRENCY: usize = 16;

fn get_response(rows: usize) -> Value {
    const RISK: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
    let values: Vec<Value> = (0..rows)
        .map(|i| {
            json!({
                "id": format!("OktaUser-{i:05}"),
                "type": "OktaUser",
                "properties": {"name": format!("OktaUser {i}"), "index": i},
                "destination_node_count": i % 7,
                "risk_level": RISK[i % 4],
            })
        })
        .collect();
    json!({
        "status": "DONE",
        "progress_status": {"row_count": rows.to_string()},
        "values": values,
        "next_page_token": "",
        "has_more": false,
    })
}

/// Median of `rounds` timings of `iters` calls, in microseconds per call.
fn median_us(rounds: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[rounds / 2]
}

fn validation() {
    let contract = conform::contract::load(&Path::new(CASES).join("openapi.yaml"))
        .expect("the bundled contract");
    let op = contract
        .by_id("GetQuerySpecNodesAsync")
        .expect("the Get operation");
    let body = get_response(100);
    for strict in [false, true] {
        assert!(
            contract
                .validate_response(op, 200, "application/json", &body, strict)
                .is_empty()
        );
        let us = median_us(21, 2000, || {
            black_box(contract.validate_response(
                op,
                200,
                "application/json",
                black_box(&body),
                strict,
            ));
        });
        let mode = if strict { " (strict)" } else { "" };
        println!("validate one 100-row Get response{mode}: {us:.1} µs (budget 50 µs)");
    }
}

/// A suite folder with `n` scenarios made from the bundled files (the
/// 5 MiB oversized-body case aside), each renamed to be unique.
fn generated_suite(dir: &Path, n: usize, only_flagship: bool) -> PathBuf {
    let out = dir.join(format!("suite-{n}-{only_flagship}"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(
        Path::new(CASES).join("conform.yaml"),
        out.join("conform.yaml"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(CASES).join("openapi.yaml"),
        out.join("openapi.yaml"),
    )
    .unwrap();
    let mut sources: Vec<(String, String)> = std::fs::read_dir(CASES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".yaml")
                && name != "conform.yaml"
                && name != "openapi.yaml"
                && !name.starts_with("20_")
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    sources.sort();
    if only_flagship {
        sources.retain(|(name, _)| name.starts_with("01_"));
    }
    for i in 0..n {
        let (name, text) = &sources[i % sources.len()];
        let renamed = text.replacen("\nname: ", &format!("\nname: copy {i:05} of "), 1);
        std::fs::write(out.join(format!("g{i:05}_{name}")), renamed).unwrap();
    }
    out
}

fn load_and_lint(dir: &Path) {
    let suite = generated_suite(dir, 1000, false);
    let env = BTreeMap::new();
    let mut samples: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            let inputs =
                conform::inputs::load(&suite, None, &env).expect("the generated suite is valid");
            assert_eq!(inputs.suite.scenarios.len(), 1000);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    println!(
        "load and lint 1,000 case files: {:.0} ms (budget 300 ms)",
        samples[3]
    );
}

fn quiet_args() -> libtest_mimic::Arguments {
    libtest_mimic::Arguments {
        quiet: true,
        logfile: Some("/dev/null".into()),
        test_threads: Some(CONCURRENCY),
        ..Default::default()
    }
}

const TOKEN: &str = "bench-token-0123456789";
/// Runs of each throughput measurement; the median is printed.
const ROUNDS: usize = 9;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Requests the flagship sends (and the raw loop with it).
const FLAGSHIP_REQUESTS: usize = 6;

/// The flagship's requests from a plain reqwest loop, `n` times,
/// `concurrency` at once, on a runtime of its own as the harness has: the
/// seconds the requests took (runtime and client set up before).
fn raw_loop(url: &str, n: usize, concurrency: usize) -> f64 {
    conform::http::install_crypto_provider();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    let count = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (client, next, url, count) =
                    (client.clone(), next.clone(), url.to_owned(), count.clone());
                tokio::spawn(async move {
                    let post = |path: &str, body: String| {
                        client
                            .post(format!("{url}/api/v1/assessments/query_spec:{path}"))
                            .header("authorization", format!("Bearer {TOKEN}"))
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                    };
                    let create = r#"{"immediate_run":{"request":{"body":{"query_type":"SOURCE_TO_DESTINATION","source_node_types":{"nodes":[{"node_type":"OktaUser"}]}}}}}"#;
                    while next.fetch_add(1, Ordering::Relaxed) < n as u64 {
                        let created = post("nodes_async_create", create.into()).await.unwrap();
                        let v: Value = serde_json::from_slice(&created.bytes().await.unwrap()).unwrap();
                        let id = json!({"query_result_id": v["query_result_id"]}).to_string();
                        // Still in progress? (the flagship's P2)
                        post("nodes_async_get", id.clone()).await.unwrap().bytes().await.unwrap();
                        let cancel = post("nodes_async_cancel", id.clone()).await.unwrap();
                        cancel.bytes().await.unwrap();
                        let got = post("nodes_async_get", id.clone()).await.unwrap();
                        let got: Value = serde_json::from_slice(&got.bytes().await.unwrap()).unwrap();
                        assert_eq!(got["status"], "UNKNOWN");
                        // The walk over the pages: one, empty.
                        let page = json!({"query_result_id": v["query_result_id"], "page_token": ""});
                        post("nodes_async_get", page.to_string()).await.unwrap().bytes().await.unwrap();
                        post("nodes_async_cancel", id).await.unwrap().bytes().await.unwrap();
                        count.fetch_add(FLAGSHIP_REQUESTS as u64, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(
        count.load(Ordering::Relaxed),
        (n * FLAGSHIP_REQUESTS) as u64
    );
    secs
}

/// The flagship `n` times through the harness: (scenarios/s, requests/s),
/// over the scenarios' own time (loading and linting are measured apart).
fn harness_rate(srv: &conform::server::RunningServer, suite: &Path, n: usize) -> (f64, f64) {
    let opts = conform::runner::RunOptions {
        inputs: conform::runner::InputOptions {
            cases: suite.to_path_buf(),
            spec: None,
            env: [("VEZA_TOKEN".to_owned(), TOKEN.to_owned())].into(),
        },
        target: conform::runner::TargetOptions {
            base_url: Some(srv.base_url()),
            ..Default::default()
        },
        reports: None,
        print_summary: false,
        ..conform::runner::RunOptions::new()
    };
    let before = srv.request_count();
    let out = conform::runner::run(&opts, &quiet_args()).expect("the generated suite runs");
    assert_eq!(out.exit_code, 0);
    assert_eq!(
        out.result.count(conform::model::Outcome::Passed),
        n,
        "every flagship passes, P2 met"
    );
    let secs = out.result.duration_ms / 1000.0;
    let requests = srv.request_count() - before;
    (n as f64 / secs, requests as f64 / secs)
}

fn throughput(dir: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Queries run longer than any round: every flagship finds its query in
    // progress when it cancels it (P2), as on a tenant, and never waits.
    let config = conform::server::ServerConfig {
        token: TOKEN.into(),
        lifecycle: Duration::from_secs(3600),
        ..Default::default()
    };
    let srv = rt
        .block_on(conform::server::spawn(
            "127.0.0.1:0".parse().unwrap(),
            config,
        ))
        .unwrap();
    // 500 and 2,000 flagships are some 0.8 and 3.2 MB of YAML: every plan
    // stays in memory. At 4,000, about half the plans are compiled again as
    // their scenarios start (the price of a flat memory for any suite size;
    // see conform::case::load::kept_source_bytes).
    for n in [500, 2000, 4000] {
        let suite = generated_suite(dir, n, true);
        // Rounds alternate, so that a change in the machine's load weighs on
        // both rates alike.
        let (mut rates, mut raws) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            rates.push(harness_rate(&srv, &suite, n));
            raws.push((n * FLAGSHIP_REQUESTS) as f64 / raw_loop(&srv.base_url(), n, CONCURRENCY));
        }
        let scenarios = median(rates.iter().map(|r| r.0).collect());
        let harness = median(rates.iter().map(|r| r.1).collect());
        let raw = median(raws);
        let loaded = conform::case::load_suite(&suite).expect("the generated suite loads");
        let kept = loaded.scenarios.iter().filter(|s| !s.deferred).count();
        let plans = if kept == n {
            "plans in memory".to_owned()
        } else {
            format!("{kept} plans in memory, the others compiled again as they run")
        };
        println!(
            "flagship x{n}, {CONCURRENCY} at once ({plans}): {scenarios:.0} scenarios/s, {harness:.0} requests/s; plain reqwest loop: {raw:.0} requests/s; ratio {:.0}% (budget >= 60%)",
            100.0 * harness / raw
        );
    }
    rt.block_on(srv.shutdown());
}

/// Peak resident memory of `conform run` over `n` generated scenarios, in MiB.
fn peak_rss(dir: &Path, n: usize) -> Option<f64> {
    let suite = generated_suite(dir, n, false);
    let reports = dir.join(format!("reports-{n}"));
    let (_, mib) = wall_and_peak(
        Command::new(BIN)
            .args([
                "run",
                "-q",
                "--server-lifecycle",
                "0s",
                "--test-threads",
                "16",
                "--cases",
            ])
            .arg(&suite)
            .arg("--reports")
            .arg(&reports)
            .env_remove("BASE_URL"),
    )?;
    assert!(
        reports.join("junit.xml").is_file(),
        "the run wrote its reports"
    );
    Some(mib)
}

fn memory(dir: &Path) {
    for n in [1000, 2000, 5000, 10_000] {
        match peak_rss(dir, n) {
            Some(mib) => println!(
                "peak memory of a run of {n} scenarios, reports included: {mib:.1} MiB (budget 64 MiB at 10,000)"
            ),
            None => {
                println!("peak memory of a run of {n} scenarios: not measured (the run failed)")
            }
        }
    }
}

fn poll_notice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("conform.yaml"),
        "name: notice\nauth: { bearer_env: VEZA_TOKEN }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        r#"name: notice
steps:
  - name: create
    request:
      method: POST
      path: /api/v1/assessments/query_spec:nodes_async_create
      json: { immediate_run: { request: { body: { query_type: SOURCE_TO_DESTINATION } } } }
    capture: { id: $.query_result_id }
  - name: wait
    request: { method: POST, path: /api/v1/assessments/query_spec:nodes_async_get, json: { query_result_id: "{{ id }}", page_size: 1 } }
    poll: { until: { $.status: DONE }, interval: 50ms, backoff: 1, timeout: 10s }
"#,
    )
    .unwrap();
    let lifecycle = Duration::from_millis(500);
    let mut late = Vec::new();
    for _ in 0..10 {
        let mut opts = conform::runner::RunOptions {
            reports: None,
            print_summary: false,
            ..conform::runner::RunOptions::new()
        };
        opts.inputs.cases = dir.path().into();
        opts.target.embedded.lifecycle = Some(lifecycle);
        let out = conform::runner::run(&opts, &quiet_args()).unwrap();
        let s = &out.result.scenarios[0];
        let noticed = s.steps[0].duration_ms + s.steps[1].duration_ms;
        late.push(noticed - lifecycle.as_secs_f64() * 1000.0);
    }
    late.sort_by(f64::total_cmp);
    println!(
        "poll notices a state change after {:.0} ms (median; worst {:.0} ms) with a 50 ms interval (budget: one interval)",
        late[late.len() / 2],
        late[late.len() - 1]
    );
}

/// Where `scripts/github-openapi.sh` installs GitHub's descriptions.
const GITHUB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/github-openapi/23.0.2");

/// Runs `cmd` to its end: wall time in ms and the child's peak resident
/// memory in MiB (from `wait4`, so without GNU time), or `None` if it failed.
/// Linux counts in the child's peak that of this process when it spawned
/// the child (some 10 MiB): a smaller peak does not show.
fn wall_and_peak(cmd: &mut Command) -> Option<(f64, f64)> {
    let t = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let pid = libc::pid_t::try_from(child.id()).ok()?;
    let mut status = 0;
    // SAFETY: `rusage` is plain data, and `wait4` writes it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is a child of this process not yet waited for.
    let waited = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let wall = t.elapsed().as_secs_f64() * 1e3;
    let ok = waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    // Linux reports `ru_maxrss` in KiB.
    ok.then(|| (wall, usage.ru_maxrss as f64 / 1024.0))
}

fn large_contracts() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github");
    for (file, budget) in [
        ("api.github.com.json", "250 ms, 100 MiB"),
        ("api.github.com.deref.json", "1 s, 400 MiB"),
    ] {
        let spec = Path::new(GITHUB).join(file);
        if !spec.is_file() {
            println!(
                "lint against GitHub's {file}: skipped, not installed (run scripts/github-openapi.sh)"
            );
            continue;
        }
        let size = std::fs::metadata(&spec).map_or(0, |m| m.len()) as f64 / 1e6;
        let runs: Vec<(f64, f64)> = (0..5)
            .filter_map(|_| {
                wall_and_peak(
                    Command::new(BIN)
                        .args(["lint", "--cases"])
                        .arg(&suite)
                        .arg("--spec")
                        .arg(&spec),
                )
            })
            .collect();
        if runs.is_empty() {
            println!("lint against GitHub's {file}: failed (run `conform lint` by hand)");
            continue;
        }
        let wall = median(runs.iter().map(|r| r.0).collect());
        let peak = runs.iter().map(|r| r.1).fold(0.0, f64::max);
        println!(
            "lint of examples/github against {file} ({size:.0} MB): {wall:.0} ms median, peak memory {peak:.0} MiB (budget {budget})"
        );
    }
}

/// Queries of the end-to-end server never finish within a run, as in the
/// in-process figure: every flagship finds its query in progress (P2) and
/// meets every clause, and none waits (cancel makes the query UNKNOWN at
/// once). With `--lifecycle 0s` they would be DONE at creation: the same
/// six requests, but P2 unmet and D2–D4 inconclusive.
const E2E_LIFECYCLE: &str = "1h";

/// The flagship as a Hurl file, as close to its requests as Hurl allows:
/// create, the in-progress check, cancel, Get retried until `UNKNOWN`
/// (Hurl cannot fail at once on `DONE`), one page of the walk (Hurl has no
/// loop: the page must be the last) and the cleanup.
const FLAGSHIP_HURL: &str = r#"# The flagship scenario (cases/01_cancel_then_poll_unknown.yaml).
POST {{base_url}}/api/v1/assessments/query_spec:nodes_async_create
Authorization: Bearer {{token}}
{"immediate_run":{"request":{"body":{"query_type":"SOURCE_TO_DESTINATION","source_node_types":{"nodes":[{"node_type":"OktaUser"}]}}}}}
HTTP 200
[Captures]
id: jsonpath "$.query_result_id"
[Asserts]
jsonpath "$.query_result_id" isString
jsonpath "$.query_result_id" not isEmpty

# The query is still in progress (P2).
POST {{base_url}}/api/v1/assessments/query_spec:nodes_async_get
Authorization: Bearer {{token}}
{"query_result_id":"{{id}}","page_size":"1"}
HTTP 200
[Asserts]
jsonpath "$.status" != "DONE"
jsonpath "$.status" != "UNKNOWN"

# Cancel: 200, empty body.
POST {{base_url}}/api/v1/assessments/query_spec:nodes_async_cancel
Authorization: Bearer {{token}}
{"query_result_id":"{{id}}"}
HTTP 200
[Asserts]
body == ""

# Poll until UNKNOWN.
POST {{base_url}}/api/v1/assessments/query_spec:nodes_async_get
Authorization: Bearer {{token}}
[Options]
retry: 150
retry-interval: 200ms
{"query_result_id":"{{id}}"}
HTTP 200
[Asserts]
jsonpath "$.status" == "UNKNOWN"

# Walk the pages: one, without rows.
POST {{base_url}}/api/v1/assessments/query_spec:nodes_async_get
Authorization: Bearer {{token}}
{"query_result_id":"{{id}}","page_token":""}
HTTP 200
[Asserts]
jsonpath "$.status" != "DONE"
jsonpath "$.values" count == 0
jsonpath "$.has_more" == false

# Cleanup.
POST {{base_url}}/api/v1/assessments/query_spec:nodes_async_cancel
Authorization: Bearer {{token}}
{"query_result_id":"{{id}}"}
HTTP 200
"#;

/// `hurl --version`'s first line, when a `hurl` is on PATH.
fn hurl_version() -> Option<String> {
    let out = Command::new("hurl").arg("--version").output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("hurl")
            .to_owned()
    })
}

/// `n` copies of [`FLAGSHIP_HURL`], one file each.
fn hurl_suite(dir: &Path, n: usize) -> Vec<PathBuf> {
    let out = dir.join(format!("hurl-{n}"));
    std::fs::create_dir_all(&out).unwrap();
    (0..n)
        .map(|i| {
            let file = out.join(format!("g{i:05}_flagship.hurl"));
            std::fs::write(&file, FLAGSHIP_HURL).unwrap();
            file
        })
        .collect()
}

/// Median wall time (ms) and largest peak memory (MiB) of the runs that
/// succeeded; `None` if none did.
fn median_wall_and_peak(runs: &[Option<(f64, f64)>]) -> Option<(f64, f64)> {
    let ok: Vec<(f64, f64)> = runs.iter().flatten().copied().collect();
    (!ok.is_empty()).then(|| {
        (
            median(ok.iter().map(|r| r.0).collect()),
            ok.iter().map(|r| r.1).fold(0.0, f64::max),
        )
    })
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "failed".to_owned(), |ms| format!("{ms:.0} ms"))
}

/// The scenarios' own time in the run whose reports are in `reports`
/// (report.json's `duration_ms`: libtest's run of the scenarios), in ms.
/// Read from the head of the file, where the run's own fields come before
/// the scenarios: parsing the whole report would raise this process's peak
/// memory, which the next child's would inherit (see [`wall_and_peak`]).
fn scenarios_ms(reports: &Path) -> f64 {
    use std::io::Read;
    let mut head = String::new();
    std::fs::File::open(reports.join("report.json"))
        .unwrap()
        .take(64 * 1024)
        .read_to_string(&mut head)
        .unwrap();
    let key = "\"duration_ms\":";
    let at = head.find(key).expect("report.json names its duration") + key.len();
    let value = head[at..].trim_start();
    let end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    value[..end].parse().unwrap()
}

/// The whole `conform run` process as users run it, against `conform serve`
/// in another process, next to a plain reqwest loop (in-process) and Hurl.
fn end_to_end(dir: &Path) {
    let token_file = dir.join("e2e-token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let server = common::serve(&token_file, &["--lifecycle", E2E_LIFECYCLE]);
    let url = server.url.clone();
    let hurl = hurl_version();
    let conform_run = |suite: &Path, reports: &Path, threads: Option<usize>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["run", "--base-url", &url, "--cases"])
            .arg(suite)
            .arg("--reports")
            .arg(reports)
            .arg("--token-file")
            .arg(&token_file)
            .env_remove("BASE_URL");
        if let Some(t) = threads {
            cmd.args(["--test-threads", &t.to_string()]);
        }
        wall_and_peak(&mut cmd)
    };
    println!(
        "end-to-end: conform run against conform serve (another process, queries that never finish), the bundled conform.yaml and contract, N copies of the flagship; medians"
    );
    println!(
        "| N | concurrency | conform wall | scenarios/s | peak RSS | raw loop | Hurl | raw loop / conform | of which scenarios |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut walls: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for n in [1, 200, 1000] {
        let suite = generated_suite(dir, n, true);
        let hurl_files = hurl.as_ref().map(|_| hurl_suite(dir, n));
        let reports = dir.join(format!("e2e-reports-{n}"));
        let rounds = if n >= 1000 { 3 } else { 5 };
        for (threads, concurrency) in [(None, CONCURRENCY), (Some(1), 1)] {
            // Rounds alternate between the three, so that a change in the
            // machine's load weighs on all alike.
            let (mut conform, mut raw, mut hurls, mut own) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rounds {
                let run = conform_run(&suite, &reports, threads);
                if run.is_some() {
                    own.push(scenarios_ms(&reports));
                }
                conform.push(run);
                let t = Instant::now();
                raw_loop(&url, n, concurrency);
                raw.push(t.elapsed().as_secs_f64() * 1e3);
                if let Some(files) = &hurl_files {
                    hurls.push(wall_and_peak(
                        Command::new("hurl")
                            .args(["--test", "--parallel", "--jobs"])
                            .arg(concurrency.to_string())
                            .args(["--variable", &format!("base_url={url}")])
                            .args(["--variable", &format!("token={TOKEN}")])
                            .args(files),
                    ));
                }
            }
            let conform = median_wall_and_peak(&conform);
            let raw = median(raw);
            let hurl_cell = match (&hurl, median_wall_and_peak(&hurls)) {
                (None, _) => "skipped".to_owned(),
                (Some(_), h) => ms(h.map(|h| h.0)),
            };
            if let Some((wall, _)) = conform {
                walls.insert((n, concurrency), wall);
            }
            println!(
                "| {n} | {concurrency} | {} | {} | {} | {raw:.0} ms | {hurl_cell} | {} | {} |",
                ms(conform.map(|c| c.0)),
                conform.map_or("-".into(), |c| format!("{:.0}", n as f64 * 1e3 / c.0)),
                conform.map_or("-".into(), |c| format!("{:.1} MiB", c.1)),
                conform.map_or("-".into(), |c| format!("{:.0}%", 100.0 * raw / c.0)),
                if own.is_empty() {
                    "-".to_owned()
                } else {
                    format!("{:.0} ms", median(own))
                },
            );
        }
        if n == 1000 {
            let sizes: Vec<(String, u64)> = [
                "report.html",
                "report.json",
                "junit.xml",
                "summary.md",
                "failures.har",
            ]
            .iter()
            .map(|f| {
                let len = std::fs::metadata(reports.join(f)).map_or(0, |m| m.len());
                ((*f).to_owned(), len)
            })
            .collect();
            let total: u64 = sizes.iter().map(|s| s.1).sum();
            let each: Vec<String> = sizes
                .iter()
                .map(|(f, len)| format!("{f} {:.0} KiB", *len as f64 / 1024.0))
                .collect();
            println!(
                "end-to-end: the reports of 1,000 flagships: {:.1} MiB ({})",
                total as f64 / 1024.0 / 1024.0,
                each.join(", ")
            );
        }
    }
    match &hurl {
        Some(v) => println!(
            "end-to-end: Hurl is {v}, `hurl --test --parallel --jobs J` over N copies of the flagship as a Hurl file"
        ),
        None => println!(
            "end-to-end: Hurl skipped, no `hurl` on PATH (install it with `cargo install hurl --version 8.0.1 --locked`, which needs libcurl4-openssl-dev and libclang-dev)"
        ),
    }
    for concurrency in [CONCURRENCY, 1] {
        if let (Some(one), Some(many)) = (
            walls.get(&(1, concurrency)),
            walls.get(&(1000, concurrency)),
        ) {
            println!(
                "end-to-end: each scenario past the first costs {:.2} ms of wall time, {concurrency} at once",
                (many - one) / 999.0
            );
        }
    }

    // Where the cost goes: the process alone, loading and linting, the
    // reports on disk (synced) or in memory, at N=1 and N=1,000.
    let tmpfs = Path::new("/dev/shm")
        .is_dir()
        .then(|| tempfile::tempdir_in("/dev/shm").ok())
        .flatten();
    let show = |v: &[Option<(f64, f64)>]| match median_wall_and_peak(v) {
        Some((wall, peak)) => format!("{wall:.1} ms ({peak:.1} MiB)"),
        None => "failed".to_owned(),
    };
    let version: Vec<_> = (0..9)
        .map(|_| wall_and_peak(Command::new(BIN).arg("--version")))
        .collect();
    println!(
        "end-to-end: `conform --version` (process start and exit): {:.1} ms",
        median_wall_and_peak(&version).map_or(f64::NAN, |v| v.0)
    );
    for (n, rounds) in [(1, 9), (1000, 3)] {
        let suite = generated_suite(dir, n, true);
        let on_disk = dir.join(format!("e2e-reports-{n}"));
        let (mut lint, mut disk, mut memory) = (Vec::new(), Vec::new(), Vec::new());
        // Lint is cheap and some 40 ms at N=1,000: a median of 15, so that
        // one slow turn of the machine does not decide it.
        for _ in 0..15 {
            lint.push(wall_and_peak(
                Command::new(BIN).args(["lint", "--cases"]).arg(&suite),
            ));
        }
        let fastest = lint
            .iter()
            .flatten()
            .map(|(wall, _)| *wall)
            .fold(f64::INFINITY, f64::min);
        for _ in 0..rounds {
            disk.push(conform_run(&suite, &on_disk, None));
            if let Some(t) = &tmpfs {
                memory.push(conform_run(&suite, t.path(), None));
            }
        }
        println!(
            "end-to-end, N={n}: `conform lint` {} (median of 15, fastest {fastest:.1} ms); `conform run` {} with reports on disk, {} with reports in tmpfs (medians of {rounds})",
            show(&lint),
            show(&disk),
            if tmpfs.is_some() {
                show(&memory)
            } else {
                "not measured (no /dev/shm)".to_owned()
            },
        );
    }
    drop(server);
}

/// The figures to print: those named on the command line (`cargo bench --
/// large-contracts`), else all.
fn wanted(name: &str) -> bool {
    let names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    names.is_empty() || names.iter().any(|n| n == name)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    if wanted("large-contracts") {
        large_contracts();
    }
    if wanted("validation") {
        validation();
    }
    if wanted("lint") {
        load_and_lint(dir.path());
    }
    if wanted("throughput") {
        throughput(dir.path());
    }
    if wanted("poll") {
        poll_notice();
    }
    if wanted("memory") {
        memory(dir.path());
    }
    if wanted("end-to-end") {
        end_to_end(dir.path());
    }
    println!(
        "machine: {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
}
