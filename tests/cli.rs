//! The binary end to end: `conform run` against `conform serve` in another
//! process, exit codes, schemas, and the token never shown.

mod common;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_conform");
const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cases");

/// `conform serve` (a 300 ms lifecycle and `extra`); killed on drop.
fn serve(token_file: &Path, extra: &[&str]) -> common::Serve {
    let args: Vec<&str> = ["--lifecycle", "300ms"]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    common::serve(token_file, &args)
}

fn run(args: &[&str], token: Option<&str>, reports: &Path) -> Output {
    run_cases(CASES, args, token, reports)
}

fn run_cases(cases: &str, args: &[&str], token: Option<&str>, reports: &Path) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .args(["--cases", cases, "--reports"])
        .arg(reports)
        .args(args);
    cmd.env_remove("BASE_URL").env_remove("VEZA_TOKEN");
    if let Some(t) = token {
        cmd.env("VEZA_TOKEN", t);
    }
    cmd.output().expect("conform runs")
}

/// The libtest verdict (`ok`, `FAILED`) printed for the test whose name starts with `prefix`.
fn verdict<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("test {prefix}")))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or("not listed")
}

/// A listening socket that must see no connection.
struct Untouched {
    listener: std::net::TcpListener,
    url: String,
}

impl Untouched {
    fn new() -> Untouched {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        Untouched { listener, url }
    }

    /// No connection was made, even one since closed (it would be queued).
    fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("a refused run connected: {other:?}"),
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn run_against_serve_passes_with_the_right_token_and_fails_named_with_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let token = "conform-planted-token-6f1d2b";
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, token).unwrap();
    let srv = serve(&token_file, &[]);

    let ok = run(&["--base-url", &srv.url, "-q"], Some(token), dir.path());
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));

    let wrong = "conform-wrong-token-93ac";
    let bad = run(&["--base-url", &srv.url], Some(wrong), dir.path());
    let out = text(&bad);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert_eq!(
        verdict(&out, "01_cancel_then_poll_unknown::"),
        "FAILED",
        "{out}"
    );
    assert!(out.contains("expected status 200, got 401"), "{out}");
    assert!(
        out.contains("verdict: FAILED (exit 1): Not conformant to the documented contract: D1"),
        "{out}"
    );
    // The 401 scenarios send no token or a fixed wrong one: they still pass.
    assert_eq!(verdict(&out, "14_auth_create_401::"), "ok", "{out}");
    // One line names the cause every request shares.
    assert!(
        out.contains("cause: every response was 401 or 403")
            && out.contains("the server refused the token"),
        "{out}"
    );
    assert!(
        out.contains("$VEZA_TOKEN"),
        "curl lines name the variable: {out}"
    );

    let report = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    for secret in [token, wrong] {
        assert!(
            !out.contains(secret),
            "the token leaked into the terminal output"
        );
        assert!(
            !report.contains(secret),
            "the token leaked into report.json"
        );
    }
}

#[test]
fn a_base_url_with_a_path_prefix_is_kept() {
    // Nothing serves under /prefix on the reference server: every request 404s there.
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "t").unwrap();
    let srv = serve(&token_file, &[]);
    let o = run(
        &[
            "--base-url",
            &format!("{}/prefix", srv.url),
            "01_cancel",
            "-q",
        ],
        Some("t"),
        dir.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("/prefix/api/v1/assessments/query_spec:nodes_async_create"),
        "{out}"
    );
    assert!(out.contains("got 404"), "{out}");
    assert!(
        out.contains("cause: every response was 404 (1 of them): is the base URL's path right?"),
        "{out}"
    );
}

/// The URL of a port just freed on 127.0.0.1: connecting is refused.
fn refused_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_server_nothing_listens_for_is_named_once_as_the_cause() {
    let url = refused_url();
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--base-url", &url, "-q"], Some("t0ken"), dir.path());
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    let causes: Vec<&str> = out.lines().filter(|l| l.starts_with("cause: ")).collect();
    assert_eq!(causes.len(), 1, "{out}");
    assert!(
        causes[0].starts_with(&format!("cause: no request reached {url} (all "))
            && causes[0].ends_with("is the server up, and is the base URL right?"),
        "{}",
        causes[0]
    );
}

#[test]
fn a_real_base_url_without_a_token_is_refused_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--base-url", "http://127.0.0.1:9"], None, dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("set VEZA_TOKEN (`auth.bearer_env` at ")
            && text(&o).contains("or give --token-file FILE"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_plain_http_run_needs_no_ca_certificates_and_an_https_one_is_refused_without() {
    let dir = tempfile::tempdir().unwrap();
    let no_roots = |args: &[&str], token: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["run", "--cases", CASES, "--reports"])
            .arg(dir.path())
            .args(args)
            .env_remove("BASE_URL")
            .env_remove("VEZA_TOKEN")
            // Where rustls-native-certs looks first: nothing there.
            .env("SSL_CERT_FILE", dir.path().join("none.pem"))
            .env("SSL_CERT_DIR", dir.path().join("none"));
        if let Some(t) = token {
            cmd.env("VEZA_TOKEN", t);
        }
        cmd.output().expect("conform runs")
    };
    // The embedded server speaks plain HTTP: the roots are never read.
    let o = no_roots(&["02_create", "-q"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // An https:// base URL reads them before sending, and is refused.
    let untouched = Untouched::new();
    let https = untouched.url.replacen("http://", "https://", 1);
    let o = no_roots(&["--base-url", &https, "02_create", "-q"], Some("t"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("cannot read the system's CA certificates to verify https:// servers"),
        "{}",
        text(&o)
    );
    untouched.assert_untouched();
}

#[test]
fn an_unreachable_server_is_a_runtime_error() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let o = run(
        &["--base-url", "http://127.0.0.1:9", "02_create", "-q"],
        Some("t"),
        dir.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("[transport] could not connect"), "{out}");
}

#[test]
fn the_embedded_default_passes_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["-q"], None, dir.path());
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(
        out.matches("running against the embedded reference server at http://127.0.0.1:")
            .count(),
        1,
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["format_version"], conform::model::FORMAT_VERSION);
    assert_eq!(report["embedded_server"], true);
    // Every scenario passed, so none keeps its steps; the run still says
    // which contract checks judged its responses, and why the others did not.
    let scenarios = report["scenarios"].as_array().unwrap();
    assert!(scenarios.iter().all(|s| s.get("steps").is_none()));
    let judged = report["contract"]["judged"]
        .as_array()
        .expect("contract.judged");
    let names: Vec<&str> = judged
        .iter()
        .map(|t| t["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "undocumented_status",
            "content_type",
            "response_schema",
            "undocumented_property"
        ]
    );
    assert!(judged[0]["ran"].as_u64().unwrap() > 0, "{judged:?}");
    assert_eq!(judged[3]["ran"], 0);
    assert_eq!(judged[3]["skipped"][0]["reason"], "disabled");
    assert_eq!(judged[3]["skipped"][0]["why"], "turned off for the run");
    // Every clause met, and the certification statement says so everywhere.
    let clauses = report["clauses"].as_array().expect("the clause matrix");
    assert_eq!(clauses.len(), 23);
    assert!(clauses.iter().all(|c| c["verdict"] == "met"), "{clauses:?}");
    let statement = "Conformant to the documented contract (D1–D8 met). No deviation from the assumptions (A1–A13 met). Inconclusive: none. (Run against the embedded reference server, not a deployment: a self-test.)";
    assert_eq!(report["verdict"]["statement"], statement);
    // No headline of a self-test reads as a deployment's.
    let self_test = "Run against the embedded reference server, not a deployment";
    assert!(
        report["verdict"]["headline"]
            .as_str()
            .is_some_and(|h| h.contains(self_test)),
        "{}",
        report["verdict"]
    );
    assert_eq!(report["verdict"]["exit_code"], 0);
    assert!(
        out.contains(&format!("certification: {statement}")),
        "{out}"
    );
    for file in ["summary.md", "report.html", "junit.xml"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(
            text.contains("Conformant to the documented contract (D1–D8 met)."),
            "{file}"
        );
        assert!(text.contains(self_test), "{file} names the self-test");
    }
    assert!(
        out.contains("verdict: PASSED (exit 0): ") && out.contains(self_test),
        "{out}"
    );
    let coverage = report["coverage"]["percent"]
        .as_f64()
        .expect("coverage in the report");
    assert!(
        coverage >= 90.0,
        "the bundled suite covers {coverage}% of the contract"
    );
    assert!(out.contains("contract coverage: "), "{out}");
    assert!(
        report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "passed")
    );
}

#[test]
fn list_names_every_scenario_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--list"], None, dir.path());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out.contains("01_cancel_then_poll_unknown::cancel makes the result unknown: test"),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": test")).count(),
        20,
        "{out}"
    );
    assert!(!dir.path().join("report.json").exists());
}

#[test]
fn committed_schemas_match_the_case_types() {
    for (kind, file) in [
        ("scenario", "scenario.schema.json"),
        ("suite", "suite.schema.json"),
    ] {
        let o = Command::new(BIN).args(["schema", kind]).output().unwrap();
        assert_eq!(o.status.code(), Some(0));
        let committed = std::fs::read_to_string(Path::new(CASES).join(file)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            committed.trim(),
            "cases/{file} is stale: run `conform schema {kind} > cases/{file}`"
        );
    }
}

#[test]
fn every_case_file_points_editors_at_its_schema() {
    for entry in std::fs::read_dir(CASES).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || name == "openapi.yaml" {
            continue;
        }
        let first = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        let schema = if name == "conform.yaml" {
            "suite.schema.json"
        } else {
            "scenario.schema.json"
        };
        assert_eq!(
            first,
            format!("# yaml-language-server: $schema={schema}"),
            "{name}"
        );
    }
}

#[test]
fn lint_accepts_the_bundled_suite() {
    let o = Command::new(BIN)
        .args(["lint", "--cases", CASES])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("every one of the 23 clauses is named by a scenario"),
        "{}",
        text(&o)
    );
}

#[test]
fn lint_lists_the_clauses_no_scenario_exercises() {
    // The bundled suite without its flagship and its Get-forms scenario.
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(CASES).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("01_") && !name.starts_with("21_") {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    let o = Command::new(BIN)
        .arg("lint")
        .arg("--cases")
        .arg(dir.path())
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let listed: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != "clauses no scenario exercises:")
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(listed, ["D2", "D3", "D4", "D5", "A1", "A5", "P2"], "{out}");
}

#[test]
fn strict_assumptions_and_the_clause_gate_change_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // Deviating from A4 passes by default, fails under --assumptions strict.
    let args = [
        "--server-fault",
        "row-count-number",
        "--server-lifecycle",
        "1s",
        "-q",
    ];
    let o = run(&args, None, dir.path());
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("Deviates from 1 assumption: A4 ("), "{out}");
    let strict = [&args[..], &["--assumptions", "strict"]].concat();
    let o = run(&strict, None, dir.path());
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "verdict: FAILED (exit 1): Failed under --assumptions strict: deviates from A4."
        ),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["policy"]["assumptions"], "strict");
    let o = run(&["--assumptions", "sometimes"], None, dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // The suite can ask for strictness itself; the command line overrides it.
    let strict_suite = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(CASES).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, strict_suite.path().join(path.file_name().unwrap())).unwrap();
    }
    let settings = strict_suite.path().join("conform.yaml");
    let text_of = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(&settings, format!("{text_of}assumptions: strict\n")).unwrap();
    let cases = strict_suite.path().to_str().unwrap();
    let o = run_cases(cases, &args, None, dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = run_cases(
        cases,
        &[&args[..], &["--assumptions", "lenient"]].concat(),
        None,
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A tenant without rows makes the row clauses inconclusive, not failed.
    let o = run(
        &[
            "--server-fault",
            "no-rows",
            "--server-lifecycle",
            "1s",
            "-q",
        ],
        None,
        dir.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("Inconclusive: D7, D8, A13 (P1 not met: The tenant has at least one node of the configured node_type)."),
        "{out}"
    );
    // One scenario meets one documented clause of eight: below the clause gate.
    let o = run(
        &["02_create", "--min-clauses", "50", "-q"],
        None,
        dir.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(
        out.contains("12.5% of the documented clauses are met, below --min-clauses 50"),
        "{out}"
    );
    // A selection that runs nothing checks nothing, and says so.
    let o = run(&["no-such-scenario", "-q"], None, dir.path());
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("Nothing was checked: no scenario was selected"),
        "{out}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = Command::new(BIN)
        .args(["run", "--token", "x"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(BIN)
        .args(["run", "--server-fault", "no-such-fault"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("cancel-empty-object"),
        "lists the valid names: {}",
        text(&o)
    );
}

#[test]
fn version_and_help_work_despite_the_flattened_libtest_flags() {
    let o = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("conform "));
    let o = Command::new(BIN).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("--base-url") && help.contains("--test-threads"),
        "{help}"
    );
    // libtest's own words would say threads; here it is scenarios at once.
    assert!(help.contains("How many scenarios run at once"), "{help}");
}

#[test]
fn min_coverage_is_a_gate_with_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // One scenario exercises a few responses only.
    let o = run(
        &["02_create", "--min-coverage", "90", "-q"],
        None,
        dir.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(out.contains("is below --min-coverage 90"), "{out}");
    let o = run(
        &["02_create", "--min-coverage", "5", "-q"],
        None,
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn unknown_check_names_are_refused_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--skip-check", "respons_schema"], None, dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("did you mean `response_schema`?"),
        "{}",
        text(&o)
    );
}

#[test]
fn output_to_a_pipe_is_plain() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        &["--server-lifecycle", "300ms", "03_done"],
        None,
        dir.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        !out.contains('\r') && !out.contains('\u{1b}'),
        "no progress line or colour in a pipe: {out:?}"
    );
}

#[test]
fn lines_come_in_file_order_whatever_order_scenarios_finish_in() {
    let dir = tempfile::tempdir().unwrap();
    // All at once, with a lifecycle that makes the DONE pollers the slowest.
    let o = run(
        &["--server-lifecycle", "300ms", "--test-threads", "20"],
        None,
        dir.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let printed: Vec<&str> = out
        .lines()
        .filter_map(|l| Some(l.strip_prefix("test ")?.split_once(" ...")?.0))
        .map(str::trim_end)
        .collect();
    let report = conform::report::json::read(&dir.path().join("report.json")).unwrap();
    let in_files: Vec<&str> = report.scenarios.iter().map(|s| &*s.id).collect();
    assert_eq!(printed, in_files);
    // ...while they did not finish in that order.
    let mut by_end: Vec<(f64, &str)> = report
        .scenarios
        .iter()
        .map(|s| (s.duration_ms, &*s.id))
        .collect();
    by_end.sort_by(|a, b| a.0.total_cmp(&b.0));
    let finished: Vec<&str> = by_end.iter().map(|(_, id)| *id).collect();
    assert_ne!(finished, in_files, "the run proves nothing about order");
}

// ---- coverage of a large contract ----

/// Operations of the synthetic contract, and documented responses of each.
const LARGE_OPERATIONS: usize = 1200;
const RESPONSES_PER_OPERATION: usize = 4;
/// The operations the synthetic suite calls, and how often in all.
const TOUCHED: [usize; 7] = [0, 150, 300, 450, 600, 900, 1199];
const SCENARIOS: usize = 10;

fn large_operation_id(i: usize) -> String {
    format!("area-{i:04}/get-item")
}

fn large_path(i: usize) -> String {
    format!("/repos/{{owner}}/{{repo}}/area{i:04}/items/{{item_id}}")
}

/// A contract of [`LARGE_OPERATIONS`] GET operations, each documenting
/// 200, 404, 422 and default (JSON, as `.json` files are read).
fn large_contract() -> String {
    let error = serde_json::json!({
        "description": "error",
        "content": {"application/json": {"schema": {"type": "object"}}}
    });
    let mut paths = serde_json::Map::new();
    for i in 0..LARGE_OPERATIONS {
        let op = serde_json::json!({
            "get": {
                "operationId": large_operation_id(i),
                "parameters": [
                    {"name": "owner", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "repo", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "item_id", "in": "path", "required": true, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "the item",
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "properties": {"id": {"type": "string"}}
                        }}}
                    },
                    "404": error,
                    "422": error,
                    "default": error
                }
            }
        });
        paths.insert(large_path(i), op);
    }
    serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "large", "version": "1"},
        "paths": paths
    })
    .to_string()
}

/// A suite of [`SCENARIOS`] scenarios, each calling every operation of
/// [`TOUCHED`] once: 70 requests on 7 of the contract's operations.
fn write_large_suite(dir: &Path) {
    std::fs::write(dir.join("openapi.json"), large_contract()).unwrap();
    std::fs::write(
        dir.join("conform.yaml"),
        "name: large\nspec: openapi.json\n",
    )
    .unwrap();
    for s in 0..SCENARIOS {
        let mut yaml = format!("name: calls {s}\nsteps:\n");
        for i in TOUCHED {
            yaml.push_str(&format!(
                "  - name: get {i}\n    request:\n      method: GET\n      path: /repos/o/r/area{i:04}/items/{s}\n    expect:\n      status: 200\n"
            ));
        }
        std::fs::write(dir.join(format!("{s:02}_calls.yaml")), yaml).unwrap();
    }
}

/// A server answering every request 200 with a JSON object; stops with
/// the runtime.
fn json_server() -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(|| async { ([("content-type", "application/json")], "{\"id\":\"1\"}") });
    rt.spawn(async move { axum::serve(listener, app).await });
    (rt, url)
}

/// The coverage lines of the terminal output that name an operation.
fn operation_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("  area-") && l.contains(" GET /repos/"))
        .collect()
}

#[test]
fn a_large_contract_shows_the_operations_touched_and_folds_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    write_large_suite(&cases);
    let (_rt, url) = json_server();
    let cases = cases.to_str().unwrap();

    // By default: the totals, one line per operation touched, and how to see the rest.
    let reports = dir.path().join("reports");
    let o = run_cases(cases, &["--base-url", &url, "-q"], None, &reports);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let untouched = LARGE_OPERATIONS - TOUCHED.len();
    assert!(
        out.contains(&format!(
            "contract coverage: {} of 4,800 documented responses ({:.1}%) in {} of 1,200 operations of ",
            TOUCHED.len(),
            TOUCHED.len() as f64 * 100.0 / 4800.0,
            TOUCHED.len()
        )),
        "{out}"
    );
    let lines = operation_lines(&out);
    assert_eq!(lines.len(), TOUCHED.len(), "{out}");
    for (line, i) in lines.iter().zip(TOUCHED) {
        assert!(
            line.trim_start().starts_with(&large_operation_id(i))
                && line.contains(&format!(" GET {}: ", large_path(i)))
                && line.ends_with("200 ✓  404 ✗  422 ✗  default ✗"),
            "{line}"
        );
    }
    assert!(!out.contains(&large_operation_id(1)), "{out}");
    assert!(
        out.contains(&format!(
            "of 1,200 operations of {cases}/openapi.json\n1,{:03} operations not exercised: --coverage-table lists them\n",
            untouched - 1000
        )),
        "{out}"
    );

    // report.html: small, the touched operations shown, every one in a closed <details>.
    let page = std::fs::read_to_string(reports.join("report.html")).unwrap();
    assert!(page.len() < 500_000, "report.html is {} bytes", page.len());
    let coverage = &page[page.find("<section id=\"coverage\">").unwrap()..];
    let coverage = &coverage[..coverage.find("</section>").unwrap()];
    let fold = coverage
        .find("<details class=\"coverage-all\"")
        .expect("the full table is folded");
    let (shown, folded) = coverage.split_at(fold);
    assert!(
        folded.starts_with("<details class=\"coverage-all\" id=\"coverage-all\">"),
        "the full table is open: {}",
        &folded[..80]
    );
    assert!(folded.contains("</details>"));
    assert_eq!(
        shown.matches("<tr><th scope=\"row\">").count(),
        TOUCHED.len()
    );
    assert!(!shown.contains(&large_operation_id(1)));
    assert_eq!(
        folded.matches("<tr><th scope=\"row\">").count(),
        LARGE_OPERATIONS
    );
    assert!(folded.contains(&format!("1,200, 1,{:03} not exercised", untouched - 1000)));
    // Hit and missed responses differ in text, not in colour alone.
    assert!(shown.contains("<mark title=\"exercised 10 times\">200\u{a0}✓\u{a0}10</mark>"));
    assert!(shown.contains("</mark> ✗\u{a0}404 422 default</td>"));

    // summary.md: the touched operations, no full list; report.json: everything.
    let md = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    assert_eq!(md.matches("| `area-").count(), TOUCHED.len(), "{md}");
    assert!(!md.contains("<details><summary>Every operation"), "{md}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let ops = report["coverage"]["operations"].as_array().unwrap();
    assert_eq!(ops.len(), LARGE_OPERATIONS);
    assert!(
        ops.iter()
            .all(|o| o["responses"].as_array().unwrap().len() == RESPONSES_PER_OPERATION)
    );

    // --coverage-table: every operation, on the terminal and folded in summary.md.
    let reports = dir.path().join("full");
    let o = run_cases(
        cases,
        &["--base-url", &url, "-q", "--coverage-table"],
        None,
        &reports,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(operation_lines(&out).len(), LARGE_OPERATIONS, "{out}");
    assert!(!out.contains("--coverage-table lists"), "{out}");
    let md = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    let fold = md
        .find("<details><summary>Every operation")
        .expect("the full list is folded");
    assert_eq!(md[..fold].matches("| `area-").count(), TOUCHED.len());
    assert_eq!(md[fold..].matches("| `area-").count(), LARGE_OPERATIONS);
    assert!(md[fold..].contains("</details>"));
}

#[test]
fn settings_that_would_check_nothing_or_never_work_are_refused_before_sending() {
    // A server the refused runs must never reach: nothing may connect.
    let untouched = Untouched::new();
    let url = untouched.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let base = ["--base-url", url.as_str()];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--base-url", ""], "the base URL is set but blank"),
        (vec!["--base-url", "  "], "the base URL is set but blank"),
        (
            vec!["--min-coverage", "NaN"],
            "--min-coverage NaN: give a percentage from 0 to 100",
        ),
        (
            vec!["--min-coverage", "150"],
            "--min-coverage 150: give a percentage",
        ),
        (
            vec!["--min-coverage", "inf"],
            "--min-coverage inf: give a percentage",
        ),
        (
            vec!["--min-clauses=-1"],
            "--min-clauses -1: give a percentage",
        ),
        (
            vec!["--test-threads", "0"],
            "--test-threads 0: give at least 1",
        ),
        (
            vec!["--request-timeout", "0s"],
            "--request-timeout 0: give a duration above zero",
        ),
        (
            vec!["--connect-timeout", "0ms"],
            "--connect-timeout 0: give a duration above zero",
        ),
        (
            vec!["--poll-timeout", "0s"],
            "--poll-timeout 0: give a duration above zero",
        ),
        (
            vec!["--max-response-bytes", "0"],
            "--max-response-bytes 0: no response could be read",
        ),
        (
            vec!["--server-fault", "cancel-204"],
            "--server-fault breaks the embedded reference server, but --base-url",
        ),
        (
            vec!["--server-lifecycle", "1s"],
            "--server-lifecycle sets the embedded reference server, but --base-url",
        ),
    ];
    for (args, message) in cases {
        let mut all = args.clone();
        if !all.contains(&"--base-url") {
            all.extend(base);
        }
        let o = run(&all, Some("t0k3n-never-sent"), dir.path());
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}");
        assert!(out.contains(message), "{args:?}: {out}");
        assert!(
            !dir.path().join("report.json").exists(),
            "{args:?} wrote reports"
        );
    }
    // BASE_URL set to nothing (an unset CI variable) is not the embedded default.
    let o = Command::new(BIN)
        .args(["run", "-q", "--reports"])
        .arg(dir.path())
        .env("BASE_URL", "")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the base URL is set but blank"),
        "{}",
        text(&o)
    );
    untouched.assert_untouched();
}

#[test]
fn a_selection_of_nothing_and_unreadable_suite_entries_are_refused_by_name() {
    // A server the refused runs must never reach: nothing may connect.
    let untouched = Untouched::new();
    let url = untouched.url.clone();
    let reports = tempfile::tempdir().unwrap();
    // A tag no scenario has: exit 2, with the one meant.
    let o = run(
        &["--base-url", &url, "--tag", "smokee"],
        Some("t"),
        reports.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--tag smokee: no scenario has this tag (did you mean `smoke`?)"),
        "{}",
        text(&o)
    );
    let o = run(
        &["--base-url", &url, "--skip-tag", "cancle"],
        Some("t"),
        reports.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("(did you mean `cancel`?)"),
        "{}",
        text(&o)
    );
    // Entries named like scenarios that are no readable file, each named.
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path();
    for f in ["conform.yaml", "openapi.yaml", "02_create_returns_id.yaml"] {
        std::fs::copy(Path::new(CASES).join(f), suite.join(f)).unwrap();
    }
    std::fs::create_dir(suite.join("folder.yaml")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x.yaml", suite.join("dangling.yaml")).unwrap();
    std::os::unix::fs::symlink("loop2.yaml", suite.join("loop1.yaml")).unwrap();
    std::os::unix::fs::symlink("loop1.yaml", suite.join("loop2.yaml")).unwrap();
    let o = run_cases(
        suite.to_str().unwrap(),
        &["--base-url", &url],
        Some("t"),
        reports.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    for (file, why) in [
        ("folder.yaml", "a folder named like a scenario file"),
        (
            "dangling.yaml",
            "a link to `/nonexistent/x.yaml`, which does not exist",
        ),
        ("loop1.yaml", "a link that cannot be followed"),
        ("loop2.yaml", "a link that cannot be followed"),
    ] {
        assert!(
            out.lines().any(|l| l.contains(why)) && out.contains(file),
            "{file}: {out}"
        );
    }
    // A suite with no scenario at all.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("conform.yaml"), "name: empty\n").unwrap();
    let o = run_cases(
        empty.path().to_str().unwrap(),
        &["--base-url", &url],
        None,
        reports.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no scenario in the suite folder"),
        "{}",
        text(&o)
    );
    untouched.assert_untouched();
}

#[test]
fn a_token_that_can_never_be_sent_is_refused_before_sending() {
    // A server the refused runs must never reach: nothing may connect.
    let untouched = Untouched::new();
    let url = untouched.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    for (content, why) in [
        ("first-line\nsecond-line\n", "has more than one line"),
        ("tok\u{1}en", "holds a control character"),
        ("tok en", "holds a space"),
    ] {
        std::fs::write(&file, content).unwrap();
        let o = run(
            &["--base-url", &url, "--token-file", file.to_str().unwrap()],
            None,
            dir.path(),
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(why), "{why}: {}", text(&o));
    }
    let o = run(&["--base-url", &url], Some("tok\u{7}en"), dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the token in VEZA_TOKEN holds a control character"),
        "{}",
        text(&o)
    );
    untouched.assert_untouched();
}

#[test]
fn an_unusable_reports_folder_is_found_before_sending() {
    // A server the refused runs must never reach: nothing may connect.
    let untouched = Untouched::new();
    let url = untouched.url.clone();
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the reports folder should be.
    let file = dir.path().join("reports");
    std::fs::write(&file, "not a folder").unwrap();
    let o = run(&["--base-url", &url], Some("t"), &file);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("cannot write reports to"), "{}", text(&o));
    // The same for the folder of --junit.
    let o = run(
        &[
            "--base-url",
            &url,
            "--junit",
            file.join("junit.xml").to_str().unwrap(),
        ],
        Some("t"),
        &dir.path().join("ok"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("cannot write reports to"), "{}", text(&o));
    untouched.assert_untouched();
}

/// Runs the bundled suite against the embedded server (queries that take
/// a minute), sends `signal` once the first scenario has finished, and
/// returns the exit code, the output and report.json.
fn interrupted_by(signal: libc::c_int) -> (Option<i32>, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["run", "--server-lifecycle", "60s", "--reports"])
        .arg(dir.path())
        .env_remove("BASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("conform runs");
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let mut seen = String::new();
    // The first scenario's line: the run is under way, later ones wait on DONE.
    while !seen.lines().any(|l| l.starts_with("test ")) {
        let mut line = String::new();
        if out.read_line(&mut line).expect("reads") == 0 {
            break;
        }
        seen.push_str(&line);
    }
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).expect("reads");
    let status = child.wait().expect("exits");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut err).unwrap();
    let report = std::fs::read_to_string(dir.path().join("report.json"))
        .map(|t| serde_json::from_str(&t).expect("report.json is JSON"))
        .unwrap_or(serde_json::Value::Null);
    (status.code(), format!("{seen}{rest}{err}"), report)
}

#[test]
fn sigterm_and_sighup_stop_the_run_like_ctrl_c_with_cleanup_and_reports() {
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGHUP, "SIGHUP")] {
        let (code, out, report) = interrupted_by(signal);
        assert_eq!(code, Some(130), "{name}: {out}");
        assert!(
            out.contains(&format!("interrupted ({name})")),
            "{name}: {out}"
        );
        assert_eq!(report["interrupted"], true, "{name}: {out}");
        // The scenarios cut short still ran their cleanup.
        let cut: Vec<&serde_json::Value> = report["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .filter(|s| s["outcome"] == "interrupted")
            .collect();
        assert!(!cut.is_empty(), "{name}: {out}");
        let mut cleaned = 0;
        for s in &cut {
            for f in s["finally"].as_array().into_iter().flatten() {
                // A cleanup runs, unless its scenario created nothing to clean.
                let nothing = f["skip_reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("was never captured"));
                assert!(
                    f["outcome"] == "passed" || nothing,
                    "{name}: {} cleanup: {f}",
                    s["id"]
                );
                cleaned += usize::from(f["outcome"] == "passed");
            }
        }
        assert!(cleaned > 0, "{name}: no cleanup ran: {out}");
    }
}

#[test]
fn a_reader_closing_stdout_early_cuts_nothing_short() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let runs: Vec<Vec<String>> = vec![
        vec![
            "run".into(),
            "--reports".into(),
            reports.display().to_string(),
        ],
        vec!["lint".into()],
    ];
    for args in runs {
        let mut child = Command::new(BIN)
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("BASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("conform runs");
        // Read one line, then go away, as `| head -1` does.
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("a first line");
        let status = child.wait().expect("exits");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut err).unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // A --logfile that cannot be written is refused, not a panic.
    let o = run(
        &["--logfile", "/nonexistent/folder/log.txt"],
        None,
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--logfile /nonexistent/folder/log.txt: cannot be written"));
    // The run went on to the end and wrote its reports.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["verdict"]["exit_code"], 0);
    assert!(
        report["scenarios"]
            .as_array()
            .is_some_and(|s| s.len() == 20)
    );
}

#[test]
fn the_token_variable_stays_masked_when_the_token_comes_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("cases");
    std::fs::create_dir(&suite).unwrap();
    std::fs::write(
        suite.join("conform.yaml"),
        "name: env-token\nauth: { bearer_env: VEZA_TOKEN }\n",
    )
    .unwrap();
    // The variable goes out in a header, and the step fails, so the request
    // is recorded in every report.
    std::fs::write(
        suite.join("01_echo.yaml"),
        "name: echo\nsteps:\n  - name: send\n    request:\n      method: GET\n      path: /nowhere\n      headers: { X-Echo: \"{{ env.VEZA_TOKEN }}\" }\n    expect: { status: 200 }\n",
    )
    .unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "file-token-9f3a").unwrap();
    let env_token = "env-token-secret-41c7d2";
    let reports = dir.path().join("reports");
    let o = run_cases(
        suite.to_str().unwrap(),
        &["--token-file", token.to_str().unwrap()],
        Some(env_token),
        &reports,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(!out.contains(env_token), "{out}");
    for f in [
        "report.json",
        "junit.xml",
        "report.html",
        "summary.md",
        "failures.har",
    ] {
        let body = std::fs::read_to_string(reports.join(f)).unwrap();
        assert!(!body.contains(env_token), "{f} holds the token variable");
        assert!(!body.contains("env-token-secret"), "{f} holds part of it");
    }
}

#[test]
fn with_format_json_every_line_on_stdout_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--format", "json"], None, dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 20, "{stdout}");
    for line in &lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
    // The human summary is still there, on stderr.
    assert!(String::from_utf8_lossy(&o.stderr).contains("contract coverage: "));
}

#[test]
fn inputs_refused_for_what_they_hold_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let suite = |name: &str, contract: &[u8], scenario: Option<&[u8]>| {
        let d = dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        for f in ["conform.yaml", "02_create_returns_id.yaml"] {
            std::fs::copy(Path::new(CASES).join(f), d.join(f)).unwrap();
        }
        std::fs::write(d.join("openapi.yaml"), contract).unwrap();
        if let Some(s) = scenario {
            std::fs::write(d.join("03_latin1.yaml"), s).unwrap();
        }
        d
    };
    let bundled = std::fs::read(Path::new(CASES).join("openapi.yaml")).unwrap();
    for (d, at, message) in [
        (
            suite("latin1", &bundled, Some(b"name: caf\xe9\nsteps: []\n")),
            "03_latin1.yaml:1:10",
            "not UTF-8",
        ),
        (
            suite(
                "future",
                b"openapi: 9.9.9\ninfo: {title: t, version: '1'}\npaths: {}\n",
                None,
            ),
            "openapi.yaml:1:1",
            "unsupported OpenAPI version `9.9.9`",
        ),
        (
            suite("empty", b"", None),
            "openapi.yaml",
            "the contract is empty",
        ),
    ] {
        let o = run_cases(d.to_str().unwrap(), &[], None, &reports);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(
            out.contains(message) && out.contains(at),
            "{at}: {message}: {out}"
        );
    }
    // An unset token variable is pointed at in conform.yaml.
    let o = run(&["--base-url", "http://127.0.0.1:9"], None, &reports);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("set VEZA_TOKEN (`auth.bearer_env` at "),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("conform.yaml:7:"), "{}", text(&o));
}

// ---- the reports folder and report paths ----

/// One quick scenario against the embedded server.
const QUICK: &str = "09_create_without_wrapper_400";

fn file_kind(path: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .file_type()
}

/// The run id of the report.json in `reports`.
fn run_id_of(reports: &Path) -> String {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    json["run_id"]
        .as_str()
        .expect("report.json has a run id")
        .to_owned()
}

#[test]
fn junit_through_a_symlink_writes_its_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let target = elsewhere.join("results.xml");
    std::fs::write(&target, "an older file").unwrap();
    let link = dir.path().join("junit-link.xml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let reports = dir.path().join("reports");
    let o = run(&["--junit", link.to_str().unwrap(), QUICK], None, &reports);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(file_kind(&link).is_symlink(), "the link is still a link");
    assert_eq!(std::fs::read_link(&link).unwrap(), target);
    let xml = std::fs::read_to_string(&target).unwrap();
    assert!(
        xml.starts_with("<?xml") && xml.contains("</testsuites>"),
        "{xml}"
    );
    assert!(xml.contains(&run_id_of(&reports)), "{xml}");
    // No temporary file left beside the target.
    let beside: Vec<_> = std::fs::read_dir(&elsewhere).unwrap().collect();
    assert_eq!(beside.len(), 1, "{beside:?}");
}

#[test]
fn junit_into_a_fifo_or_a_device_writes_into_it_never_replacing_it() {
    use std::io::Read;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let fifo = dir.path().join("junit.fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut got = String::new();
            let read = std::fs::File::open(&fifo).and_then(|mut f| f.read_to_string(&mut got));
            let _ = tx.send(read.map(|_| got));
        })
    };
    let o = run(&["--junit", fifo.to_str().unwrap(), QUICK], None, &reports);
    // Should the run never have opened the FIFO, the reader is let go (no
    // writer but this one, closed at once: an empty read).
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo);
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the reader got to the end")
        .unwrap();
    reader.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(file_kind(&fifo).is_fifo(), "the FIFO is still a FIFO");
    assert!(
        got.starts_with("<?xml") && got.trim_end().ends_with("</testsuites>"),
        "{got}"
    );
    assert!(got.contains(&run_id_of(&reports)), "{got}");

    // A character device is written into, and stays.
    let o = run(&["--junit", "/dev/null", QUICK], None, &reports);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(file_kind(Path::new("/dev/null")).is_char_device());
    // One that refuses what is written is a clear error naming it.
    let o = run(&["--junit", "/dev/full", QUICK], None, &reports);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("cannot write /dev/full: "),
        "{}",
        text(&o)
    );
    assert!(file_kind(Path::new("/dev/full")).is_char_device());
    // The set it belonged to is incomplete: no report.json.
    assert!(!reports.join("report.json").exists());
}

#[test]
fn stale_temporaries_of_a_killed_run_are_removed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let stale = [
        ".junit.xml.99999999.tmp",
        ".report.json.99999998.tmp",
        ".report.html.1.tmp",
        ".summary.md.42.tmp",
        ".conform-probe.99999999.tmp",
    ];
    let unrelated = [
        ".junit.xml.notes",
        "notes.tmp",
        ".other.xml.99999999.tmp",
        ".junit.xml.tmp",
    ];
    for f in stale.iter().chain(&unrelated) {
        std::fs::write(reports.join(f), "left over").unwrap();
    }
    let o = run(&[QUICK], None, &reports);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in stale {
        assert!(!reports.join(f).exists(), "{f} was removed");
    }
    for f in unrelated {
        assert_eq!(
            std::fs::read_to_string(reports.join(f)).unwrap(),
            "left over",
            "{f} is untouched"
        );
    }
    // The lock file stays, and is no report.
    assert!(reports.join(".conform.lock").is_file());
}

#[test]
fn every_file_of_a_set_carries_the_run_id_of_its_report_json() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let extra = dir.path().join("extra-junit.xml");
    let shape = regex::Regex::new(r"^\d{8}T\d{6}Z-\d+-[0-9a-f]{8}$").unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let o = run(&["--junit", extra.to_str().unwrap(), QUICK], None, &reports);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let id = run_id_of(&reports);
        assert!(shape.is_match(&id), "{id}");
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        let property = format!(r#"<property name="run_id" value="{id}"/>"#);
        assert!(read(&reports.join("junit.xml")).contains(&property));
        assert!(read(&extra).contains(&property));
        assert!(
            read(&reports.join("report.html"))
                .contains(&format!(r#"<meta name="conform-run-id" content="{id}">"#))
        );
        assert!(read(&reports.join("summary.md")).contains(&format!(" · run {id}\n")));
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1], "each run has its own id");
}

#[test]
fn a_reports_folder_another_run_holds_is_refused_before_sending() {
    let untouched = Untouched::new();
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let lock = std::fs::File::create(reports.join(".conform.lock")).unwrap();
    lock.try_lock().expect("the test takes the lock");
    std::fs::write(reports.join(".junit.xml.99999999.tmp"), "a live run's").unwrap();
    let o = run(&["--base-url", &untouched.url], Some("t"), &reports);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "another conform run is writing reports into {}",
            reports.display()
        )),
        "{}",
        text(&o)
    );
    untouched.assert_untouched();
    assert!(!reports.join("report.json").exists());
    // What the holder is writing is not touched.
    assert!(reports.join(".junit.xml.99999999.tmp").exists());
    // `merge` into the folder is refused the same way.
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reports/passing.json"
    );
    let o = Command::new(BIN)
        .args(["merge", fixture, "--out"])
        .arg(&reports)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("another conform run is writing reports into"),
        "{}",
        text(&o)
    );
    assert!(!reports.join("report.json").exists());
    // Released, the folder takes a run again.
    drop(lock);
    let o = run(&[QUICK], None, &reports);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(reports.join("report.json").is_file());
}

#[test]
fn the_last_line_says_where_the_reports_went() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("out");
    let extra = dir.path().join("ci/junit.xml");
    let o = run(&["--junit", extra.to_str().unwrap()], None, &reports);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        !stdout.contains("cause: "),
        "a passing run names no cause: {stdout}"
    );
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    let listed: Vec<&str> = last
        .strip_prefix("reports written: ")
        .unwrap_or_else(|| panic!("the last line: {last}"))
        .split(", ")
        .collect();
    let expected: Vec<String> = ["junit.xml", "report.html", "summary.md", "failures.har"]
        .iter()
        .map(|f| reports.join(f).display().to_string())
        .chain([
            extra.display().to_string(),
            reports.join("report.json").display().to_string(),
        ])
        .collect();
    assert_eq!(listed, expected);
    for f in &expected {
        assert!(Path::new(f).is_file(), "{f} was not written");
    }
}

#[test]
fn the_terminal_counts_scenarios_as_the_reports_do() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        &[
            "--server-fault",
            "cancel-empty-object",
            "--server-fault",
            "missing-id-404",
        ],
        None,
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let numbers = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    let line = stdout
        .lines()
        .find(|l| l.starts_with("scenarios: "))
        .unwrap_or_else(|| panic!("no counts line: {stdout}"));
    let terminal = numbers(line);
    // summary.md's table: passed, failed, deviate, inconclusive, errors, skipped, ...
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    let row = md
        .lines()
        .skip_while(|l| !l.starts_with("| passed | failed"))
        .nth(2)
        .unwrap();
    assert_eq!(terminal, numbers(row)[..6], "{line}\n{row}");
    let report = conform::report::json::read(&dir.path().join("report.json")).unwrap();
    use conform::model::Outcome::*;
    let counts: Vec<u64> = [Passed, Failed, Deviates, Inconclusive, Error, Skipped]
        .into_iter()
        .map(|o| report.count(o) as u64)
        .collect();
    assert_eq!(terminal, counts, "{line}");
    assert!(
        counts[1] > 0 && counts[2] > 0,
        "failures and deviations: {line}"
    );
}

/// The steps of the first scenario of `reports/report.json` that kept
/// their exchange: (step name, exchange).
fn exchanges(reports: &Path) -> Vec<(String, serde_json::Value)> {
    let text = std::fs::read_to_string(reports.join("report.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    // A scenario that passed is lean: no steps, so no exchange.
    r["scenarios"][0]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s.get("exchange").is_some())
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["exchange"].clone(),
            )
        })
        .collect()
}

#[test]
fn a_cut_request_body_is_marked_everywhere_and_written_whole_for_its_curl_line() {
    let dir = tempfile::tempdir().unwrap();
    let token = "conform-planted-token-4b1e9c";
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, token).unwrap();
    let reports = dir.path().join("reports");
    let bodies = reports.join("bodies");
    // A previous set's body file, a temporary a killed run left, and a file of the user's.
    std::fs::create_dir_all(&bodies).unwrap();
    for f in [
        "20_old-step.json",
        ".20_old-step.json.99999999.tmp",
        "notes.md",
    ] {
        std::fs::write(bodies.join(f), "left over").unwrap();
    }
    // Bodies over 4 MiB are answered 413 in plain text: scenario 20
    // deviates from A12, and its steps keep their exchanges (failing, so
    // that the terminal shows them, under strict assumptions).
    let srv = serve(&token_file, &["--fault", "oversized-413-text"]);
    let o = run(
        &["--base-url", &srv.url, "--assumptions", "strict", "20_"],
        Some(token),
        &reports,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let xs = exchanges(&reports);
    assert_eq!(xs.len(), 3, "{out}");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    for (step, x) in &xs {
        let request = &x["request"];
        let whole = request["body_bytes"].as_u64().unwrap();
        assert!(whole > 65_536, "{request}");
        assert_eq!(request["truncated"], true, "{step}");
        let file = request["body_file"].as_str().unwrap();
        assert!(
            file.starts_with("bodies/20_oversized_body-") && file.ends_with(".json"),
            "{file}"
        );
        // The whole body, as sent (JSON of that size), beside the reports.
        let sent = std::fs::read(reports.join(file)).unwrap();
        assert_eq!(sent.len() as u64, whole, "{file}");
        serde_json::from_slice::<serde_json::Value>(&sent).expect("the body file is the JSON sent");
        // Every report, and the terminal, says where the body was cut.
        let note = format!(
            "cut at 65,536 of {} bytes; the whole body is in {file}",
            conform::model::coverage::grouped(whole as usize)
        );
        assert!(out.contains(&note), "{note}\n{out}");
        // (summary.md cuts a scenario's detail at 8,000 characters: the
        // first step's is there whole.)
        let md = (step == &xs[0].0).then_some("summary.md");
        for report in ["junit.xml", "report.html"].into_iter().chain(md) {
            // (The page escapes `/`.)
            let text = read(&reports.join(report)).replace("&#x2f;", "/");
            assert!(text.contains(&note), "{report}: {note}");
        }
        // The curl line sends the file, and run from the reports folder it
        // sends the whole body: over 4 MiB, it is refused with 413 (the cut
        // one would have been refused as no JSON, with 400).
        let curl = x["curl"].as_str().unwrap();
        assert!(curl.ends_with(&format!(" --data-binary @{file}")), "{curl}");
        let answer = Command::new("sh")
            .args(["-c", curl])
            .current_dir(&reports)
            .env("VEZA_TOKEN", token)
            .output()
            .expect("curl runs");
        let answer = String::from_utf8_lossy(&answer.stdout);
        assert!(answer.starts_with("HTTP/1.1 413"), "{step}: {answer}");
    }
    // The previous set's body file and the temporary are gone; the user's file stays.
    let mut names: Vec<String> = std::fs::read_dir(&bodies)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "20_oversized_body-cancel_with_a_5_MiB_body.json",
            "20_oversized_body-create_with_a_5_MiB_body.json",
            "20_oversized_body-get_with_a_5_MiB_body.json",
            "notes.md"
        ]
    );
    // A run that keeps no exchange leaves no body file of the one before.
    drop(srv);
    let srv = serve(&token_file, &[]);
    let o = run(&["--base-url", &srv.url, "20_"], Some(token), &reports);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(exchanges(&reports).is_empty());
    let left: Vec<_> = std::fs::read_dir(&bodies).unwrap().collect();
    assert_eq!(left.len(), 1, "only notes.md: {left:?}");
}

/// How [`early_server`] ends a connection after its answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AfterAnswer {
    /// Close at once, the request body unread: the system resets the
    /// connection, and a write that meets it fails.
    Close,
    /// Stop writing, and keep the connection open without reading.
    HalfClose,
    /// No answer: close at once after the head, the body unread.
    Silent,
}

/// A server that reads a request's head, answers 401 at once, and reads
/// none of the body; its address. Connections kept open stay until the
/// test's process ends.
fn early_server(after: AfterAnswer) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // A small receive buffer, so that a 5 MiB body cannot all be taken in.
    let size: libc::c_int = 64 * 1024;
    // SAFETY: a valid socket and a c_int of the size given.
    unsafe {
        use std::os::fd::AsRawFd;
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const size).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let body = r#"{"code":"Unauthenticated","message":"invalid bearer token"}"#;
            let answer = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            if after != AfterAnswer::Silent {
                let _ = conn.write_all(answer.as_bytes());
            }
            match after {
                AfterAnswer::Close | AfterAnswer::Silent => drop(conn),
                AfterAnswer::HalfClose => {
                    let _ = conn.shutdown(std::net::Shutdown::Write);
                    kept.push(conn);
                }
            }
        }
    });
    url
}

/// A suite of one scenario: six soft steps, each sending a 5 MiB body and
/// expecting 200.
fn uploads_suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("conform.yaml"),
        "name: uploads\nauth: { bearer_env: VEZA_TOKEN }\n",
    )
    .unwrap();
    let kib = "u".repeat(1024);
    let mut yaml = format!(
        "name: uploads\nsteps:\n  - name: upload 1\n    soft: true\n    request:\n      method: POST\n      path: /upload\n      json:\n        padding: &mib5 [&mib [&kib32 [&kib \"{kib}\"{}], {}], *mib, *mib, *mib, *mib]\n    expect: {{ status: 200 }}\n",
        ", *kib".repeat(31),
        vec!["*kib32"; 31].join(", ")
    );
    for i in 2..=6 {
        yaml.push_str(&format!(
            "  - name: upload {i}\n    soft: true\n    request: {{ method: POST, path: /upload, json: {{ padding: *mib5 }} }}\n    expect: {{ status: 200 }}\n"
        ));
    }
    std::fs::write(dir.path().join("01_uploads.yaml"), yaml).unwrap();
    dir
}

#[test]
fn an_answer_that_comes_before_the_request_body_is_sent_is_the_response() {
    let cases = uploads_suite();
    for after in [
        AfterAnswer::HalfClose,
        AfterAnswer::Close,
        AfterAnswer::Silent,
    ] {
        let url = early_server(after);
        let reports = tempfile::tempdir().unwrap();
        let o = run_cases(
            cases.path().to_str().unwrap(),
            &["--base-url", &url],
            Some("conform-token-0e5d"),
            reports.path(),
        );
        let out = text(&o);
        assert!(!out.contains("panicked"), "{out}");
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(reports.path().join("report.json")).unwrap(),
        )
        .unwrap();
        let steps = report["scenarios"][0]["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 6, "{out}");
        let mut answered = 0;
        for step in steps {
            let failure = &step["failures"][0];
            let x = &step["exchange"];
            let total = x["request"]["body_bytes"].as_u64().unwrap();
            assert!(total > 5_000_000, "{x}");
            match failure["check"].as_str().unwrap() {
                // The answer read: 401, its body, and that it came early.
                "status_code" => {
                    assert_eq!(step["status"], 401, "{step}");
                    let resp = &x["response"];
                    assert!(resp["body"].as_str().unwrap().contains("Unauthenticated"));
                    let sent = resp["request_body_sent"].as_u64().unwrap();
                    assert!(sent < total, "{sent} of {total}");
                    let said = format!(
                        "(the server answered 401 before the request body was sent (after at most {} of its {} bytes))",
                        conform::model::coverage::grouped(sent as usize),
                        conform::model::coverage::grouped(total as usize)
                    );
                    assert!(out.contains(&said), "{said}\n{out}");
                    answered += 1;
                }
                // The connection broke in the middle of a write: what went,
                // and what may have happened, not only the broken pipe.
                "transport" if after != AfterAnswer::HalfClose => {
                    let message = failure["message"].as_str().unwrap();
                    assert!(
                        message.starts_with(
                            "the connection broke while the request body was being sent (after at most "
                        ) && message.contains("may answer before reading the whole body"),
                        "{message}"
                    );
                }
                other => panic!("{after:?}: {other}: {step}"),
            }
        }
        // With the connection left open the answer is always read; with
        // none, none is.
        match after {
            AfterAnswer::HalfClose => assert_eq!(answered, 6, "{out}"),
            AfterAnswer::Silent => assert_eq!(answered, 0, "{out}"),
            AfterAnswer::Close => {}
        }
    }
}

/// The `<failure>` and `<error>` bodies of a junit.xml that hold a curl line.
fn junit_details(reports: &Path) -> usize {
    std::fs::read_to_string(reports.join("junit.xml"))
        .unwrap()
        .matches("reproduce: curl")
        .count()
}

#[test]
fn an_unreachable_server_is_told_in_full_once_then_in_a_line() {
    let url = refused_url();
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--base-url", &url], Some("t0ken-5a1c"), dir.path());
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(3), "{out}");
    let report = conform::report::json::read(&dir.path().join("report.json")).unwrap();
    let n = report.scenarios.len();
    assert!(n > 2);
    let first = report.scenarios[0]
        .id
        .split("::")
        .next()
        .unwrap()
        .to_owned();
    // libtest's own lines stay, one per scenario.
    assert_eq!(out.matches(" ... FAILED\n").count(), n, "{out}");
    // The detail once; a line for each other scenario's step.
    assert_eq!(out.matches("  reproduce: curl").count(), 1, "{out}");
    assert_eq!(out.matches("  response: none").count(), 1, "{out}");
    let again = format!("could not complete ({}", CASES);
    let short = format!(": the same transport error as {first} above\n");
    assert_eq!(out.matches(short.as_str()).count(), n - 1, "{out}");
    assert!(
        out.lines()
            .filter(|l| l.ends_with(short.trim_end()))
            .all(|l| l.contains(&again))
    );
    // And a line that counts them, before the cause.
    let counted = format!(
        "{} more scenarios failed the same way as {first} (shown above): could not connect: ",
        n - 1
    );
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&counted))
        .unwrap_or_else(|| panic!("{counted}\n{out}"));
    assert!(
        lines[at + 1].starts_with("cause: no request reached"),
        "{out}"
    );
    // The old output was some 14 lines a scenario.
    assert!(lines.len() < 8 * n, "{} lines:\n{out}", lines.len());
    // The reports keep every scenario's detail.
    assert_eq!(junit_details(dir.path()), n);
}

#[test]
fn a_refused_token_is_told_in_full_once_per_failure_and_the_cause_stays_in_sight() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "conform-right-token-71d0").unwrap();
    let srv = serve(&token_file, &[]);
    let o = run(
        &["--base-url", &srv.url],
        Some("conform-wrong-token-2b9e"),
        dir.path(),
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    let report = conform::report::json::read(&dir.path().join("report.json")).unwrap();
    let first = report
        .scenarios
        .iter()
        .find(|s| s.outcome == conform::model::Outcome::Failed)
        .unwrap();
    let first = first.id.split("::").next().unwrap();
    // The failures on a 401 that an earlier scenario showed: one line each.
    let short = format!("on a 401 answer, as for {first} above");
    let repeated = out.matches(short.as_str()).count();
    assert!(repeated >= 5, "{out}");
    assert!(
        out.contains("  response: 401 ("),
        "the first is shown in full: {out}"
    );
    // The reports keep every detail: more than the terminal shows.
    let shown = out.matches("  reproduce: curl").count();
    assert!(junit_details(dir.path()) >= shown + repeated, "{out}");
    // The cause, with the verdict at the end.
    let tail: Vec<&str> = out.lines().rev().take(4).collect();
    assert!(
        tail.iter()
            .any(|l| l.starts_with("cause: every response was 401 or 403")),
        "{tail:?}"
    );
}
