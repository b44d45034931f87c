//! Reports for CI gates, certification and regression: partitions, merge,
//! baseline and gate, flaky reruns, secrets kept out of every output,
//! Ctrl-C, and golden JSON and Markdown.

mod common;
use common::{golden, quiet, report_fixture_path as fixture, walk};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use conform::model::{Outcome, RunResult};
use conform::report::ReportOptions;
use conform::runner::{Gate, Partition, RunOptions, RunOutput, run};
use conform::server::Fault;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_conform");
const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cases");

fn opts(faults: &[Fault], reports: Option<&Path>) -> RunOptions {
    let mut o = RunOptions {
        reports: reports.map(ReportOptions::in_dir),
        print_summary: false,
        ..RunOptions::new()
    };
    o.inputs.cases = CASES.into();
    o.target.embedded.faults = faults.to_vec();
    // Long enough that the flagship finds its query in progress (P2).
    o.target.embedded.lifecycle = Some(Duration::from_secs(1));
    o
}

/// `o` changed by `f`.
fn with(mut o: RunOptions, f: impl FnOnce(&mut RunOptions)) -> RunOptions {
    f(&mut o);
    o
}

fn go(o: &RunOptions) -> RunOutput {
    run(o, &quiet()).expect("the bundled suite runs")
}

fn ids(r: &RunResult) -> Vec<String> {
    r.scenarios.iter().map(|s| s.id.to_string()).collect()
}

#[test]
fn partitions_cover_every_scenario_exactly_once() {
    let all = ids(&go(&opts(&[], None)).result);
    assert!(all.len() >= 20);
    for n in 1..=5u32 {
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        // The n partitions run at once, as n CI jobs would, each against
        // its own embedded server.
        let outs: Vec<RunOutput> = std::thread::scope(|s| {
            let runs: Vec<_> = (1..=n)
                .map(|k| {
                    s.spawn(move || {
                        go(&with(opts(&[], None), |o| {
                            o.select.partition = Some(Partition { k, n });
                        }))
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        for (k, out) in (1..=n).zip(outs) {
            assert_eq!(
                out.result.partition.as_deref(),
                Some(format!("{k}/{n}").as_str())
            );
            for id in ids(&out.result) {
                *seen.entry(id).or_default() += 1;
            }
        }
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), expected, "N={n}");
        assert!(seen.values().all(|c| *c == 1), "N={n}: {seen:?}");
    }
}

/// What must match between two runs of the same suite, times aside: a
/// run's own result, or one read back from report.json (where a passing
/// scenario keeps its steps' totals only).
fn essence(r: &RunResult) -> Value {
    let scenarios: Vec<Value> = r
        .scenarios
        .iter()
        .map(|s| {
            let steps: Vec<Value> = s
                .steps
                .iter()
                .chain(&s.finally)
                .filter(|_| !s.is_lean())
                .map(|st| {
                    let checks: Vec<&str> = st.failures.iter().map(|f| f.check.name()).collect();
                    serde_json::json!([st.name, st.outcome, st.status, checks, st.exercised])
                })
                .collect();
            // Requests aside: a poll's attempts vary with timing.
            let totals = s.totals();
            let totals = serde_json::json!([totals.statuses, totals.exercised]);
            serde_json::json!([s.id, s.outcome, steps, totals])
        })
        .collect();
    let coverage = r
        .coverage
        .as_ref()
        .map(|c| serde_json::to_value(c).unwrap());
    let contract = r
        .contract
        .as_ref()
        .map(|c| serde_json::json!([c.sha256, c.judged]));
    serde_json::json!({"suite": r.suite, "scenarios": scenarios, "coverage": coverage, "contract": contract})
}

#[test]
fn merging_partitions_equals_the_unpartitioned_run() {
    let dir = tempfile::tempdir().unwrap();
    let faults = [Fault::CancelEmptyObject];
    let whole = go(&opts(&faults, Some(&dir.path().join("whole"))));
    let mut parts = Vec::new();
    for k in 1..=3 {
        let d = dir.path().join(format!("part{k}"));
        go(&with(opts(&faults, Some(&d)), |o| {
            o.select.partition = Some(Partition { k, n: 3 });
        }));
        parts.push(d.join("report.json"));
    }
    let merged_dir = dir.path().join("merged");
    let o = Command::new(BIN)
        .arg("merge")
        .args(&parts)
        .arg("--out")
        .arg(&merged_dir)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "the merged run has failures: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let merged = conform::report::json::read(&merged_dir.join("report.json")).unwrap();
    assert_eq!(essence(&merged), essence(&whole.result));
    // Passing scenarios came back lean (totals, no steps); the whole run's
    // own report reads back to the same.
    assert!(merged.scenarios.iter().any(|s| s.totals.is_some()));
    let read = conform::report::json::read(&dir.path().join("whole/report.json")).unwrap();
    assert_eq!(essence(&read), essence(&whole.result));
    assert!(merged.partition.is_none());
    for f in ["summary.md", "report.json"] {
        assert!(merged_dir.join(f).is_file(), "{f}");
    }
    // The merged HAR holds every shard's kept exchanges, as the whole run's does.
    let har_steps = |dir: &Path| -> Vec<(String, String)> {
        let har: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("failures.har")).unwrap())
                .unwrap();
        let mut steps: Vec<(String, String)> = har["log"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["_scenario"].to_string(), e["_step"].to_string()))
            .collect();
        steps.sort();
        steps
    };
    let merged_har = har_steps(&merged_dir);
    assert!(!merged_har.is_empty());
    assert_eq!(merged_har, har_steps(&dir.path().join("whole")));

    // Reports of another contract are refused unless told.
    let mut other = conform::report::json::read(&parts[0]).unwrap();
    other.contract.as_mut().unwrap().sha256 = "0".repeat(64);
    let other_path = dir.path().join("other.json");
    conform::report::json::write(&other, &other_path).unwrap();
    let o = Command::new(BIN)
        .args(["merge"])
        .arg(&parts[1])
        .arg(&other_path)
        .arg("--out")
        .arg(dir.path().join("m2"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("another contract"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_baseline_yields_regression_lists_and_the_regression_gate() {
    let dir = tempfile::tempdir().unwrap();
    // Baseline: a clean run, edited: one scenario failed then, one did not exist, one is gone now.
    let mut base = go(&opts(&[], None)).result;
    let fixed = "17_get_unknown_id::get of an unknown id answers UNKNOWN".to_owned();
    base.scenarios
        .iter_mut()
        .find(|s| *s.id == *fixed)
        .unwrap()
        .outcome = Outcome::Failed;
    let added = base
        .scenarios
        .remove(
            base.scenarios
                .iter()
                .position(|s| s.id.starts_with("02_"))
                .unwrap(),
        )
        .id
        .to_string();
    let mut gone = base.scenarios[0].clone();
    gone.id = "99_retired::an old scenario".into();
    base.scenarios.push(gone);
    let base_path = dir.path().join("baseline.json");
    conform::report::json::write(&base, &base_path).unwrap();

    // Today cancel answers {}: the flagship and every cancel expectation break.
    let today = with(opts(&[Fault::CancelEmptyObject], None), |o| {
        o.policy.baseline = Some(base_path.clone());
    });
    let out = go(&today);
    let reg = out.result.regression.as_ref().unwrap();
    assert!(
        reg.new_failures
            .iter()
            .any(|i| i.starts_with("01_cancel_then_poll_unknown::")),
        "{reg:#?}"
    );
    assert_eq!(reg.fixed, std::slice::from_ref(&fixed));
    assert_eq!(reg.added, std::slice::from_ref(&added));
    assert_eq!(reg.removed, ["99_retired::an old scenario"]);
    assert!(reg.still_failing.is_empty());
    assert_eq!(out.exit_code, 1);
    let gated = go(&with(today.clone(), |o| o.policy.gate = Gate::Regressions));
    assert_eq!(gated.exit_code, 1, "new failures fail the regression gate");

    // Against a baseline that already failed the same way, only the default gate fails.
    let broken_base = dir.path().join("broken.json");
    conform::report::json::write(&out.result, &broken_base).unwrap();
    let again = with(opts(&[Fault::CancelEmptyObject], None), |o| {
        o.policy.baseline = Some(broken_base.clone());
    });
    let all = go(&again);
    assert_eq!(all.exit_code, 1);
    let reg = all.result.regression.as_ref().unwrap();
    assert!(
        reg.new_failures.is_empty() && !reg.still_failing.is_empty(),
        "{reg:#?}"
    );
    assert_eq!(
        go(&with(again, |o| o.policy.gate = Gate::Regressions)).exit_code,
        0
    );

    // `conform diff` says the same offline.
    let today_path = dir.path().join("today.json");
    conform::report::json::write(&out.result, &today_path).unwrap();
    let o = Command::new(BIN)
        .arg("diff")
        .arg(&base_path)
        .arg(&today_path)
        .arg("--out")
        .arg(dir.path().join("diff"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("fixed (1):\n    {fixed}")), "{text}");
    let md = std::fs::read_to_string(dir.path().join("diff/summary.md")).unwrap();
    assert!(md.contains("### Against the baseline"), "{md}");
}

#[test]
fn a_scenario_that_passes_on_a_rerun_is_flaky() {
    let without = go(&opts(&[Fault::FlakyOnce], None));
    assert_eq!(without.exit_code, 1);
    let dir = tempfile::tempdir().unwrap();
    let o = with(opts(&[Fault::FlakyOnce], Some(dir.path())), |o| {
        o.policy.retries = 2;
    });
    let out = go(&o);
    assert_eq!(out.exit_code, 0, "flaky passes by default");
    let flaky: Vec<_> = out.result.scenarios.iter().filter(|s| s.flaky).collect();
    assert_eq!(flaky.len(), 1, "exactly the scenario that met the failure");
    assert_eq!(flaky[0].outcome, Outcome::Passed);
    assert_eq!(flaky[0].reruns.len(), 1);
    assert!(
        flaky[0].reruns[0]
            .steps
            .iter()
            .any(|s| s.failures.iter().any(|f| f.message.contains("got 500")))
    );
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        md.contains("### Flaky") && md.contains(&*flaky[0].id),
        "{md}"
    );
    assert_eq!(go(&with(o, |o| o.policy.fail_on_flaky = true)).exit_code, 1);
}

/// A server that echoes the Authorization header back in a header and a body.
async fn echo_server() -> (String, tokio::task::JoinHandle<()>) {
    use axum::http::HeaderMap;
    let app = axum::Router::new().fallback(|headers: HeaderMap| async move {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = serde_json::json!({"status": "RUNNING", "query_result_id": auth, "echo": auth})
            .to_string();
        (
            [
                ("content-type", "application/json".to_owned()),
                ("x-echo-authorization", auth.clone()),
                ("x-debug", auth),
            ],
            body,
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[test]
fn a_planted_token_reaches_no_output_even_when_the_server_echoes_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, _task) = rt.block_on(echo_server());
    let dir = tempfile::tempdir().unwrap();
    let token = "planted-token-7c2f9e41d0";
    let out = Command::new(BIN)
        .args([
            "run",
            "--cases",
            CASES,
            "--base-url",
            &url,
            "--request-timeout",
            "2s",
            // The echo never says UNKNOWN: polls give up after a second,
            // not the suite's 30.
            "--poll-timeout",
            "1s",
            "--reports",
        ])
        .arg(dir.path())
        .args(["--junit"])
        .arg(dir.path().join("extra/junit.xml"))
        .arg("create")
        .env("VEZA_TOKEN", token)
        .env_remove("BASE_URL")
        .output()
        .unwrap();
    let terminal = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{terminal}");
    assert!(
        terminal.contains("***"),
        "the echo is shown, masked: {terminal}"
    );
    assert!(!terminal.contains(token), "the token reached the terminal");
    let mut files = 0;
    for path in walk(dir.path()) {
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(token),
            "the token reached {}",
            path.display()
        );
    }
    assert!(files >= 2, "reports were written");
}

/// Requests the scenarios of a result sent, by their own count.
fn requests_sent(r: &RunResult) -> u64 {
    r.scenarios
        .iter()
        .flat_map(|s| s.steps.iter().chain(&s.finally))
        .map(|step| u64::from(step.requests))
        .sum()
}

#[test]
fn only_the_scenarios_libtest_selects_run() {
    // The bundled suite with one scenario ignored.
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(CASES).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let ignored = dir.path().join("02_create_returns_id.yaml");
    let text = std::fs::read_to_string(&ignored).unwrap();
    let text = text.replacen("\ntags:", "\nignore: kept for later\ntags:", 1);
    std::fs::write(&ignored, text).unwrap();
    let o = with(opts(&[], None), |o| o.inputs.cases = dir.path().into());
    let ran = |args: libtest_mimic::Arguments| {
        let out = run(&o, &args).expect("the suite runs");
        let ran: Vec<String> = out
            .result
            .scenarios
            .iter()
            .filter(|s| s.outcome != Outcome::Skipped)
            .map(|s| s.id.split("::").next().unwrap().to_owned())
            .collect();
        // Nothing reached the server beyond what these scenarios sent.
        assert_eq!(out.embedded_requests, requests_sent(&out.result), "{ran:?}");
        (ran, out)
    };

    let (names, out) = ran(libtest_mimic::Arguments {
        filter: Some("create".into()),
        skip: vec!["two_wrappers".into()],
        ..quiet()
    });
    assert_eq!(
        names,
        [
            "05_create_immediate_run",
            "06_create_cached_result_if_available",
            "09_create_without_wrapper_400",
            "14_auth_create_401",
        ]
    );
    assert_eq!(out.exit_code, 0);
    // The ignored one the filter selects is reported skipped; nothing else is.
    let skipped: Vec<&str> = out
        .result
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Skipped)
        .map(|s| &s.id[..2])
        .collect();
    assert_eq!(skipped, ["02"]);

    let (names, out) = ran(quiet());
    assert_eq!(names.len(), 19);
    let skipped = out
        .result
        .scenarios
        .iter()
        .find(|s| s.id.starts_with("02_"))
        .unwrap();
    assert_eq!(skipped.outcome, Outcome::Skipped);
    assert_eq!(skipped.skip_reason.as_deref(), Some("kept for later"));

    let (names, out) = ran(libtest_mimic::Arguments {
        ignored: true,
        ..quiet()
    });
    assert_eq!(names, ["02_create_returns_id"]);
    assert_eq!(out.result.scenarios.len(), 1);
    assert_eq!(out.exit_code, 0);
}

#[test]
fn scenarios_whose_plans_were_not_kept_run_as_the_others() {
    // The bundled suite with every scenario file padded by a long comment,
    // twice the YAML whose plans loading keeps: past it, plans are compiled
    // again when their scenarios run (ahead, on the blocking pool).
    let dir = tempfile::tempdir().unwrap();
    let lines = conform::case::load::kept_source_bytes(20) / 10 / 100;
    let padding = format!("\n{}", format!("# {}\n", "x".repeat(98)).repeat(lines));
    for entry in std::fs::read_dir(CASES).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if name.ends_with(".yaml") && !["conform.yaml", "openapi.yaml"].contains(&name.as_str()) {
            text.push_str(&padding);
        }
        std::fs::write(dir.path().join(&name), text).unwrap();
    }
    let suite = conform::case::load_suite(dir.path()).expect("the padded suite loads");
    let deferred = suite.scenarios.iter().filter(|s| s.deferred).count();
    assert!(
        deferred > 0 && deferred < suite.scenarios.len(),
        "{deferred} deferred"
    );

    // Against a server that ignores auth, the same scenarios fail either way.
    let outcomes = |cases: &Path| {
        let o = with(opts(&[Fault::NoAuth], None), |o| {
            o.inputs.cases = cases.into()
        });
        let out = go(&o);
        let outcomes: Vec<(String, Outcome)> = out
            .result
            .scenarios
            .iter()
            .map(|s| (s.id.to_string(), s.outcome))
            .collect();
        (out.exit_code, outcomes)
    };
    let (code, padded) = outcomes(dir.path());
    assert_eq!((code, padded.clone()), outcomes(Path::new(CASES)));
    assert_eq!(code, 1);
    let failed: Vec<&str> = padded
        .iter()
        .filter(|(_, o)| *o == Outcome::Failed)
        .map(|(id, _)| &id[..2])
        .collect();
    assert_eq!(failed, ["14", "15", "16"]);
}

#[test]
fn ctrl_c_stops_new_scenarios_cleans_up_and_writes_reports() {
    let dir = tempfile::tempdir().unwrap();
    // Queries never complete: the polls would wait for their 30s deadline.
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--cases",
            CASES,
            "--server-fault",
            "never-completes",
            "--test-threads",
            "4",
            "--reports",
        ])
        .arg(dir.path())
        .env_remove("BASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first two scenarios (fast ones) are printed, then
    // interrupt: lines come in file order and the third one polls.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = 0;
    for line in lines.by_ref() {
        if line.unwrap().starts_with("test ") {
            seen += 1;
            if seen == 2 {
                break;
            }
        }
    }
    // SAFETY: kill(2) with a child's pid and a signal number.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "SIGINT sent");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130), "{rest:#?}");
    let report = conform::report::json::read(&dir.path().join("report.json"))
        .expect("reports written on Ctrl-C");
    assert!(report.interrupted);
    let interrupted: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Interrupted)
        .collect();
    assert!(
        !interrupted.is_empty(),
        "{:#?}",
        report
            .scenarios
            .iter()
            .map(|s| (&s.id, s.outcome))
            .collect::<Vec<_>>()
    );
    // A scenario stopped mid-poll still cancelled its query.
    let flagship = report
        .scenarios
        .iter()
        .find(|s| s.id.starts_with("01_"))
        .unwrap();
    if flagship.outcome == Outcome::Interrupted && !flagship.steps.is_empty() {
        assert!(
            flagship
                .finally
                .iter()
                .all(|f| f.outcome == conform::model::StepOutcome::Passed),
            "{flagship:#?}"
        );
    }
    assert!(dir.path().join("summary.md").is_file());
}

// ---- golden files ----

fn mask(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"\b\d{8}T\d{6}Z-\d+-[0-9a-f]{8}\b", "RUN-ID"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"qr-[0-9a-f]{24}", "qr-ID"),
        (r"\b00-[0-9a-f]{32}-[0-9a-f]{16}-01\b", "TRACEPARENT"),
        (r"\b[0-9a-f]{32}\b", "HEX32"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "TIME"),
        (r#""(duration_ms|elapsed_ms)": [0-9.e+-]+"#, "\"$1\": 0"),
        (r"\d+(\.\d+)? ms\b", "N ms"),
        (r"over \d+\.\ds", "over Ns"),
        (r"after \d+\.\ds", "after Ns"),
        (r"\| \d+\.\ds \|", "| Ns |"),
        (
            r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
            "DATE",
        ),
        (r"conform \d+\.\d+\.\d+", "conform VERSION"),
        (r"\b[0-9a-f]{64}\b", "SHA256"),
        (r"sha256 [0-9a-f]{12}", "sha256 SHA256"),
    ];
    common::mask_with(text, rules)
}

#[test]
fn json_and_markdown_match_their_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    // Instant lifecycle and faults caught before any poll: a deterministic
    // run. Queries are DONE before the flagship cancels them, so its D2
    // failure is inconclusive (P2) while the other scenarios' cleanups
    // break D2, and a request without an id deviates from A9: every
    // verdict but an error in one report.
    let o = with(
        opts(
            &[Fault::CancelEmptyObject, Fault::MissingId404],
            Some(dir.path()),
        ),
        |o| o.target.embedded.lifecycle = Some(Duration::ZERO),
    );
    let out = go(&with(o, |o| o.policy.retries = 0));
    assert_eq!(out.exit_code, 1);
    let json = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    assert_eq!(json.lines().count(), 1, "report.json is compact");
    // Indented for the golden file, in the order written.
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let json = serde_json::to_string_pretty(&json).unwrap() + "\n";
    golden("report-failing.json", &mask(&json.replace(CASES, "cases")));
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    golden("summary-failing.md", &mask(&md.replace(CASES, "cases")));
    for outcome in [Outcome::Failed, Outcome::Deviates, Outcome::Inconclusive] {
        assert!(out.result.count(outcome) > 0, "{outcome:?}");
    }
    let p2 = out.result.clauses.iter().find(|c| &*c.id == "P2").unwrap();
    assert_eq!(p2.verdict, conform::model::ClauseVerdict::Unmet);
    assert!(md.contains("| `P2` | precondition | ❔ unmet |"), "{md}");
    assert!(
        md.contains("**Certification:** Not conformant to the documented contract: D2 ("),
        "{md}"
    );
}

// ---- merge inputs, report versions, read caps ----

fn conform<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(BIN)
        .args(args)
        .env_remove("BASE_URL")
        .env_remove("VEZA_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `conform merge INPUTS... --out DIR [extra]`.
fn merge(inputs: &[&Path], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<std::ffi::OsString> = vec!["merge".into()];
    args.extend(inputs.iter().map(|p| p.as_os_str().to_owned()));
    args.extend(["--out".into(), out.as_os_str().to_owned()]);
    args.extend(extra.iter().map(Into::into));
    conform(args)
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

#[test]
fn merge_refuses_a_scenario_in_two_reports_whichever_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let (failing, passing) = (fixture("failing.json"), fixture("passing.json"));
    for (a, b) in [(&failing, &passing), (&passing, &failing)] {
        let out = dir.path().join("merged");
        let o = merge(&[a, b], &out, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "scenario `01_cancel_then_poll_unknown::cancel makes the result unknown` is in both {} and {} (and 19 more scenarios)",
                a.display(),
                b.display()
            )),
            "{err}"
        );
        assert!(err.contains("pass --retries"), "{err}");
        assert!(!out.join("report.json").exists(), "nothing is written");
    }
}

#[test]
fn merge_refuses_the_same_report_twice_by_any_path() {
    let dir = tempfile::tempdir().unwrap();
    let passing = fixture("passing.json");
    let roundabout = fixture("../reports/passing.json");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&passing, &link).unwrap();
    for (second, extra) in [
        (&passing, &[][..]),
        (&roundabout, &[][..]),
        (&link, &[][..]),
        (&passing, &["--retries"][..]),
    ] {
        let o = merge(&[&passing, second], &dir.path().join("m"), extra);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{second:?} {extra:?}: {err}");
        assert!(
            err.contains(&format!(
                "{} and {} are the same file",
                passing.display(),
                second.display()
            )),
            "{err}"
        );
    }
}

#[test]
fn merge_with_retries_lets_later_attempts_win_and_marks_flaky_ones() {
    let dir = tempfile::tempdir().unwrap();
    let failing_path = fixture("failing.json");
    let failing = conform::report::json::read(&failing_path).unwrap();
    let failed: Vec<String> = failing
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
        .map(|s| s.id.to_string())
        .collect();
    assert!(failed.len() >= 5, "{failed:?}");
    // A second attempt that ran only what failed, and passed.
    let mut again: Value =
        serde_json::from_slice(&std::fs::read(fixture("passing.json")).unwrap()).unwrap();
    again["scenarios"]
        .as_array_mut()
        .unwrap()
        .retain(|s| failed.iter().any(|id| s["id"] == id.as_str()));
    let again_path = dir.path().join("attempt2.json");
    write_json(&again_path, &again);
    let failing_copy = dir.path().join("attempt1-again.json");
    std::fs::copy(&failing_path, &failing_copy).unwrap();

    // Failed, failed again, then passed: flaky, both failures kept as reruns.
    let out = dir.path().join("merged");
    let o = merge(
        &[&failing_path, &failing_copy, &again_path],
        &out,
        &["--retries"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged = conform::report::json::read(&out.join("report.json")).unwrap();
    assert_eq!(ids(&merged), ids(&failing), "every scenario, once");
    for s in &merged.scenarios {
        let before = failing.scenarios.iter().find(|b| b.id == s.id).unwrap();
        if failed.contains(&s.id.to_string()) {
            assert_eq!(s.outcome, Outcome::Passed, "{}", s.id);
            assert!(s.flaky, "{}", s.id);
            assert_eq!(s.reruns.len(), 2, "{}", s.id);
            assert!(s.reruns.iter().all(|r| r.outcome == Outcome::Failed));
            assert_eq!(s.reruns[0].steps.len(), before.steps.len());
        } else {
            assert_eq!(s.outcome, before.outcome, "{}", s.id);
            assert!(!s.flaky && s.reruns.is_empty(), "{}", s.id);
        }
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("### Flaky"), "{md}");

    // The other way round the failure is the last word: nothing is flaky.
    let out = dir.path().join("reversed");
    let o = merge(&[&again_path, &failing_path], &out, &["--retries"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let merged = conform::report::json::read(&out.join("report.json")).unwrap();
    for s in &merged.scenarios {
        let before = failing.scenarios.iter().find(|b| b.id == s.id).unwrap();
        assert_eq!(s.outcome, before.outcome, "{}", s.id);
        assert!(!s.flaky && s.reruns.is_empty(), "{}", s.id);
    }

    // The same run twice counts its coverage once.
    let passing_path = fixture("passing.json");
    let passing = conform::report::json::read(&passing_path).unwrap();
    let passing_copy = dir.path().join("passing-again.json");
    std::fs::copy(&passing_path, &passing_copy).unwrap();
    let out = dir.path().join("twice");
    let o = merge(&[&passing_path, &passing_copy], &out, &["--retries"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged = conform::report::json::read(&out.join("report.json")).unwrap();
    assert_eq!(
        serde_json::to_value(&merged.coverage).unwrap(),
        serde_json::to_value(&passing.coverage).unwrap()
    );
    assert!(merged.scenarios.iter().all(|s| !s.flaky));
}

#[test]
fn baseline_merge_and_diff_refuse_a_newer_format_version() {
    use conform::model::FORMAT_VERSION;
    let dir = tempfile::tempdir().unwrap();
    let passing = fixture("passing.json");
    let mut newer: Value = serde_json::from_slice(&std::fs::read(&passing).unwrap()).unwrap();
    newer["format_version"] = (FORMAT_VERSION + 1).into();
    let newer_path = dir.path().join("newer.json");
    write_json(&newer_path, &newer);
    // A newer model need not parse as this one: the version is what is said.
    let reshaped_path = dir.path().join("reshaped.json");
    write_json(
        &reshaped_path,
        &serde_json::json!({"format_version": FORMAT_VERSION + 1, "runs": []}),
    );
    let says = |path: &Path| {
        format!(
            "{} has format_version {}, newer than this conform's {FORMAT_VERSION}",
            path.display(),
            FORMAT_VERSION + 1
        )
    };

    let reports = dir.path().join("run");
    let o = conform([
        "run".as_ref(),
        "--cases".as_ref(),
        CASES.as_ref(),
        "--reports".as_ref(),
        reports.as_os_str(),
        "--baseline".as_ref(),
        newer_path.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&says(&newer_path)), "{}", stderr(&o));
    assert!(!reports.join("report.json").exists(), "nothing ran");

    for input in [&newer_path, &reshaped_path] {
        let o = merge(&[&passing, input], &dir.path().join("m"), &[]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(&says(input)), "{}", stderr(&o));
    }
    let o = merge(
        &[&passing],
        &dir.path().join("m"),
        &["--baseline", newer_path.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&says(&newer_path)), "{}", stderr(&o));
    let o = conform([
        "diff".as_ref(),
        reshaped_path.as_os_str(),
        passing.as_os_str(),
        "--out".as_ref(),
        dir.path().join("d").as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&says(&reshaped_path)), "{}", stderr(&o));

    // Older versions read as before.
    let v1 = conform::report::json::read(&fixture("v1-passing.json")).unwrap();
    assert_eq!(v1.format_version, 1);
}

#[test]
fn endless_and_oversized_inputs_are_refused_at_their_cap() {
    use conform::input::{MAX_REPORT_BYTES, MAX_TOKEN_FILE_BYTES};
    let dir = tempfile::tempdir().unwrap();
    let zero = Path::new("/dev/zero");
    let report_cap = "is larger than 256 MiB, the most conform reads of a report";
    let token_cap = "is larger than 64 KiB, the most conform reads of a token file";
    // Sparse files: as large as they say, without the disk space.
    let sparse = |name: &str, len: u64| {
        let p = dir.path().join(name);
        std::fs::File::create(&p).unwrap().set_len(len).unwrap();
        p
    };
    let big_report = sparse("big.json", MAX_REPORT_BYTES + 1);
    let big_token = sparse("big-token", MAX_TOKEN_FILE_BYTES + 1);
    let reports = dir.path().join("run");
    let run = |extra: &[&std::ffi::OsStr]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "run".as_ref(),
            "--cases".as_ref(),
            CASES.as_ref(),
            "--reports".as_ref(),
            reports.as_os_str(),
        ];
        args.extend(extra);
        conform(args)
    };
    let refused = |o: std::process::Output, path: &Path, cap: &str| {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", path.display());
        assert!(
            err.contains(&format!("{} {cap}", path.display())),
            "{}: {err}",
            path.display()
        );
    };

    for big in [zero, big_report.as_path()] {
        refused(merge(&[big], &dir.path().join("m"), &[]), big, report_cap);
        refused(
            run(&["--baseline".as_ref(), big.as_os_str()]),
            big,
            report_cap,
        );
        refused(
            conform([
                "diff".as_ref(),
                big.as_os_str(),
                fixture("passing.json").as_os_str(),
                "--out".as_ref(),
                dir.path().join("d").as_os_str(),
            ]),
            big,
            report_cap,
        );
    }
    for big in [zero, big_token.as_path()] {
        refused(
            run(&[
                "--base-url".as_ref(),
                "http://127.0.0.1:9".as_ref(),
                "--token-file".as_ref(),
                big.as_os_str(),
            ]),
            big,
            token_cap,
        );
        refused(
            conform([
                "serve".as_ref(),
                "--addr".as_ref(),
                "127.0.0.1:0".as_ref(),
                "--token-file".as_ref(),
                big.as_os_str(),
            ]),
            big,
            token_cap,
        );
    }
    assert!(!reports.join("report.json").exists(), "nothing ran");
}

/// The failing fixture with its first recorded exchange's request body cut
/// (its whole in `bodies/01-create.json`) and its response body cut.
fn cut_bodies() -> RunResult {
    let mut r = conform::report::json::read(&fixture("failing.json")).unwrap();
    let x = common::first_answered_exchange(&mut r);
    x.request.body = Some("{\"padding\": \"aaaa".into());
    x.request.body_bytes = 5_242_880;
    x.request.truncated = true;
    x.request.body_file = Some("bodies/01-create.json".into());
    let resp = x.response.as_mut().unwrap();
    resp.body_bytes = 10_485_760;
    resp.truncated = true;
    r
}

#[test]
fn a_cut_body_says_so_in_the_terminal_junit_and_markdown() {
    let r = cut_bodies();
    let request = "    … (cut at 65,536 of 5,242,880 bytes; the whole body is in bodies/01-create.json, which the curl line sends)\n";
    let response = "    … (cut at 65,536 of 10,485,760 bytes)\n";
    let s = r
        .scenarios
        .iter()
        .find(|s| s.steps.iter().any(|st| st.exchange.is_some()))
        .unwrap();
    let terminal = conform::report::text::failure_text(s, 2000);
    for note in [request, response] {
        assert!(terminal.contains(note), "{note}\n{terminal}");
    }
    let dir = tempfile::tempdir().unwrap();
    conform::report::write_all(&r, &ReportOptions::in_dir(dir.path())).unwrap();
    for file in ["junit.xml", "summary.md"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        for note in [request, response] {
            assert!(text.contains(note.trim()), "{file}: {note}");
        }
    }
    // report.json keeps the cut, the size and the file.
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let recorded = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["steps"].as_array().unwrap())
        .find_map(|st| st.get("exchange"))
        .unwrap();
    assert_eq!(recorded["request"]["body_bytes"], 5_242_880);
    assert_eq!(recorded["request"]["truncated"], true);
    assert_eq!(recorded["request"]["body_file"], "bodies/01-create.json");
}

/// The body files under `dir/bodies/`, by name, with their bytes.
fn body_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir.join("bodies"))
        .map(|entries| {
            entries
                .map(|e| {
                    let e = e.unwrap();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `body_file` and curl line of every exchange of a report.json.
fn sent_from_files(report: &Path) -> Vec<(String, String)> {
    let r: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        // A lean scenario (it passed) has no steps.
        .flat_map(|s| s["steps"].as_array().into_iter().flatten())
        .filter_map(|st| st.get("exchange"))
        .filter_map(|x| {
            let file = x["request"].get("body_file")?.as_str()?.to_owned();
            Some((file, x["curl"].as_str().unwrap().to_owned()))
        })
        .collect()
}

#[test]
fn merge_and_diff_bring_the_body_files_their_curl_lines_send() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    // Shard a: scenario 20 deviates (413 in plain text) and keeps its three
    // 5 MiB bodies; shard b: one other scenario.
    let shard = |reports: &Path, filter: &str| {
        let o = opts(&[Fault::Oversized413Text], Some(reports));
        let args = libtest_mimic::Arguments {
            filter: Some(filter.into()),
            ..quiet()
        };
        run(&o, &args).expect("the shard runs");
    };
    shard(&a, "20_oversized_body");
    shard(&b, "09_create_without_wrapper");
    let bodies = body_files(&a);
    assert_eq!(bodies.len(), 3, "{:?}", bodies.keys());
    assert_eq!(sent_from_files(&a.join("report.json")).len(), 3);

    let out = dir.path().join("merged");
    let o = merge(&[&b.join("report.json"), &a.join("report.json")], &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(body_files(&out), bodies, "the same files, whole");
    for (file, curl) in sent_from_files(&out.join("report.json")) {
        assert!(out.join(&file).is_file(), "{file}");
        assert!(curl.ends_with(&format!("--data-binary @{file}")), "{curl}");
    }

    // Two reports naming one body file: the second is renamed, and its curl
    // line follows. (Attempts merged with --retries keep an earlier failed
    // one as a rerun: here a copy of shard a whose scenario failed.)
    let first = dir.path().join("first");
    std::fs::create_dir_all(first.join("bodies")).unwrap();
    for (name, bytes) in &bodies {
        std::fs::write(first.join("bodies").join(name), bytes).unwrap();
    }
    let mut failed: Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("report.json")).unwrap()).unwrap();
    failed["scenarios"][0]["outcome"] = "failed".into();
    write_json(&first.join("report.json"), &failed);
    let again = dir.path().join("again");
    let o = merge(
        &[&first.join("report.json"), &a.join("report.json")],
        &again,
        &["--retries"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged = body_files(&again);
    assert_eq!(merged.len(), 6, "{:?}", merged.keys());
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(again.join("report.json")).unwrap()).unwrap();
    let rerun = &r["scenarios"][0]["reruns"][0]["steps"][0]["exchange"];
    let last = &r["scenarios"][0]["steps"][0]["exchange"];
    let (f1, f2) = (
        rerun["request"]["body_file"].as_str().unwrap(),
        last["request"]["body_file"].as_str().unwrap(),
    );
    assert_ne!(f1, f2);
    assert!(f2.ends_with("-2.json"), "{f2}");
    assert!(last["curl"].as_str().unwrap().ends_with(&format!("@{f2}")));

    // diff writes the new run's reports with its bodies.
    let diffed = dir.path().join("diffed");
    let o = conform([
        "diff".as_ref(),
        b.join("report.json").as_os_str(),
        a.join("report.json").as_os_str(),
        "--out".as_ref(),
        diffed.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(body_files(&diffed), bodies);
}

// ---- lean reports of passing scenarios ----

/// The passing fixture's flagship `n` times, each a case file of its own
/// (as `cargo bench -- end-to-end` generates them), the verdict decided.
fn flagships(n: usize) -> RunResult {
    let mut r = common::report_fixture("passing.json");
    let one = r
        .scenarios
        .iter()
        .find(|s| s.id.starts_with("01_cancel_then_poll_unknown::"))
        .expect("the flagship")
        .clone();
    assert_eq!(one.outcome, Outcome::Passed);
    assert!(!one.steps.is_empty(), "a run records every step");
    r.scenarios = (0..n)
        .map(|i| {
            let mut s = one.clone();
            let file: std::sync::Arc<str> =
                format!("cases/g{i:05}_01_cancel_then_poll_unknown.yaml").into();
            s.name = format!("copy {i:05} of {}", one.name).into();
            s.id = format!("g{i:05}_01_cancel_then_poll_unknown::{}", s.name).into();
            s.location.file = file.clone();
            for st in s.steps.iter_mut().chain(&mut s.finally) {
                st.location.file = file.clone();
            }
            s.file = file;
            s
        })
        .collect();
    conform::model::verdict::finalize(&mut r);
    r
}

/// The size of each report of `r`, in [`conform::report::WRITE_ORDER`].
fn report_sizes(r: &RunResult) -> [u64; 5] {
    let dir = tempfile::tempdir().unwrap();
    conform::report::write_all(r, &ReportOptions::in_dir(dir.path())).unwrap();
    conform::report::WRITE_ORDER.map(|f| std::fs::metadata(dir.path().join(f)).unwrap().len())
}

#[test]
fn a_passing_scenario_costs_each_report_a_few_hundred_bytes() {
    // Bytes each more passing flagship (7 steps, 6 requests, 10 clauses
    // met) may add to each report: 2 KB in all, where they took 12 KB.
    // failures.har holds no exchange of a passing step.
    const BUDGET: [(&str, u64); 5] = [
        ("junit.xml", 500),
        ("report.html", 700),
        ("summary.md", 10),
        ("failures.har", 0),
        ("report.json", 800),
    ];
    let (few, many) = (100, 500);
    let (a, b) = (
        report_sizes(&flagships(few)),
        report_sizes(&flagships(many)),
    );
    let mut over = Vec::new();
    for (i, (name, budget)) in BUDGET.into_iter().enumerate() {
        assert_eq!(name, conform::report::WRITE_ORDER[i]);
        let each = (b[i] - a[i]) / (many - few) as u64;
        eprintln!("{name}: {each} bytes per passing scenario (budget {budget})");
        if each > budget {
            over.push(format!(
                "{name}: {each} bytes per passing scenario, over {budget}"
            ));
        }
    }
    assert!(over.is_empty(), "{over:#?}");
}

#[test]
fn a_version_3_report_reads_back_to_the_same_reports() {
    use conform::model::FORMAT_VERSION;
    use conform::report::{html, junit, markdown};
    let dir = tempfile::tempdir().unwrap();
    // Every verdict, and a flaky scenario (not lean: its attempts are shown).
    let mut r = common::report_fixture("failing.json");
    let flaky = r
        .scenarios
        .iter()
        .position(|s| s.is_lean())
        .expect("a passing scenario");
    let failed = r
        .scenarios
        .iter()
        .find(|s| s.outcome == Outcome::Failed)
        .unwrap()
        .clone();
    r.scenarios[flaky].flaky = true;
    r.scenarios[flaky].reruns = vec![conform::model::Rerun {
        trace_id: Default::default(),
        outcome: failed.outcome,
        duration_ms: failed.duration_ms,
        steps: failed.steps,
        finally: failed.finally,
    }];
    r.format_version = FORMAT_VERSION;
    conform::model::verdict::finalize(&mut r);
    let path = dir.path().join("report.json");
    conform::report::json::write(&r, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let back = conform::report::json::read(&path).unwrap();

    // What was left out is derived again: every report reads the same.
    let again = dir.path().join("again.json");
    conform::report::json::write(&back, &again).unwrap();
    assert_eq!(std::fs::read_to_string(&again).unwrap(), text);
    assert_eq!(html::render(&back), html::render(&r));
    let jo = junit::JunitOptions::default();
    assert_eq!(junit::render(&back, &jo), junit::render(&r, &jo));
    let mo = markdown::MarkdownOptions::default();
    assert_eq!(markdown::render(&back, &mo), markdown::render(&r, &mo));
    assert_eq!(
        back.clauses, r.clauses,
        "met rows name their scenarios again"
    );
    let judged = |x: &RunResult| x.contract.as_ref().unwrap().judged.clone();
    assert_eq!(judged(&back), judged(&r));
    assert!(!judged(&r).is_empty());
    assert_eq!(
        conform::report::text::systemic_cause(&back),
        conform::report::text::systemic_cause(&r)
    );

    // A lean scenario: its steps' totals, not its steps.
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format_version"], FORMAT_VERSION);
    let lean: Vec<&Value> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "passed" && s.get("flaky").is_none())
        .collect();
    assert!(!lean.is_empty());
    for (s, read) in lean
        .iter()
        .zip(back.scenarios.iter().filter(|s| s.is_lean()))
    {
        assert!(
            s.get("steps").is_none() && s.get("finally").is_none(),
            "{s}"
        );
        assert!(s["location"].get("file").is_none(), "{s}");
        assert!(s["requests"].as_u64().unwrap() > 0, "{s}");
        assert!(
            s["clauses"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
        assert!(read.steps.is_empty() && read.totals.is_some());
        let whole = r.scenarios.iter().find(|x| x.id == read.id).unwrap();
        assert_eq!(*read.totals(), *whole.totals());
        assert_eq!(read.location, whole.location);
    }
    // Every other scenario keeps its steps whole, failures and exchanges too.
    for (read, whole) in back.scenarios.iter().zip(&r.scenarios) {
        if whole.is_lean() {
            continue;
        }
        assert_eq!(
            serde_json::to_value(&read.steps).unwrap(),
            serde_json::to_value(&whole.steps).unwrap(),
            "{}",
            whole.id
        );
        assert_eq!(read.reruns.len(), whole.reruns.len());
    }
    // The met rows name no scenarios; the others name theirs.
    for (row, model) in json["clauses"].as_array().unwrap().iter().zip(&r.clauses) {
        let named = row
            .get("scenarios")
            .map_or(0, |s| s.as_array().unwrap().len());
        if row["verdict"] == "met" {
            assert!(named == 0 && !model.scenarios.is_empty(), "{row}");
        } else {
            assert_eq!(named, model.scenarios.len(), "{row}");
        }
    }
    assert!(
        json["clauses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["verdict"] == "broken")
    );
}

#[test]
fn a_retry_that_passed_lean_is_flaky_and_says_its_steps_are_not_recorded() {
    use conform::report::merge::{MergeOptions, merge};
    let dir = tempfile::tempdir().unwrap();
    // The second attempt's report, as a run writes it: passing scenarios lean.
    let path = dir.path().join("second.json");
    conform::report::json::write(&common::report_fixture("passing.json"), &path).unwrap();
    let second = conform::report::json::read(&path).unwrap();
    let first = common::report_fixture("failing.json");
    let opts = MergeOptions {
        allow_different_contracts: false,
        retries: true,
    };
    let mut m = merge(vec![("a".into(), first), ("b".into(), second)], opts).unwrap();
    conform::model::verdict::finalize(&mut m);
    let s = m
        .scenarios
        .iter()
        .find(|s| s.id.starts_with("01_cancel_then_poll_unknown::"))
        .unwrap();
    assert!(
        s.flaky && !s.is_lean(),
        "shown whole, with its failed attempt"
    );
    assert!(s.steps.is_empty());
    let requests = s
        .totals
        .as_ref()
        .expect("the final attempt's totals")
        .requests;
    assert!(requests > 0);
    let page = conform::report::html::render(&m);
    assert!(page.contains(&format!(
        "Its steps are not recorded: report.json keeps a passing attempt&#x27;s totals ({requests} requests)."
    )));
    let xml = conform::report::junit::render(&m, &Default::default());
    assert!(xml.contains(&format!(
        "steps not recorded (report.json keeps a passing attempt&apos;s totals): {requests} requests"
    )), "{xml}");
    // Written again, the flaky scenario keeps its totals beside its reruns.
    let merged = dir.path().join("merged.json");
    conform::report::json::write(&m, &merged).unwrap();
    let back = conform::report::json::read(&merged).unwrap();
    let b = back.scenarios.iter().find(|x| x.id == s.id).unwrap();
    assert_eq!(b.totals, s.totals);
    assert_eq!(b.reruns.len(), 1);
    assert!(b.flaky);
}
