//! Every broken suite under `tests/fixtures/invalid/` is refused by the real
//! binary before any request is sent.
//!
//! Each fixture folder is a complete suite with one kind of defect and an
//! `expect.txt` listing every problem the loader must report, one a line:
//!
//! ```text
//! FILE:LINE: MESSAGE FRAGMENT
//! ```
//!
//! FILE is relative to the fixture folder, LINE is the 1-based line the loader
//! reports (0 for a problem with a whole file, which the loader prints without
//! a line), and the fragment is a substring of the message. Blank lines and
//! lines starting with `#` are comments.
//!
//! For each fixture the test runs `conform run --cases <fixture> --base-url
//! <reference server>` and asserts: exit code 2, each expected location and
//! fragment in the same reported problem, exactly as many problems as
//! expected, no panic, and no request received by the server.

use std::path::{Path, PathBuf};
use std::process::Command;

use conform::server::{RunningServer, ServerConfig, spawn};

/// The fixtures folder, relative to the package root (the child's working directory).
const FIXTURES: &str = "tests/fixtures/invalid";

/// Deleting fixtures must not let the test pass silently.
const MIN_FIXTURES: usize = 20;

/// One line of `expect.txt`.
#[derive(Debug)]
struct Expected {
    file: String,
    line: u32,
    fragment: String,
}

fn package_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture folders, sorted by name, as paths relative to the package root.
fn fixture_dirs() -> Vec<PathBuf> {
    let root = package_root().join(FIXTURES);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| Path::new(FIXTURES).join(p.file_name().expect("a folder name")))
        .collect();
    dirs.sort();
    dirs
}

fn fixture_name(dir: &Path) -> String {
    dir.file_name()
        .expect("a fixture folder name")
        .to_string_lossy()
        .into_owned()
}

fn parse_expect(dir: &Path) -> Result<Vec<Expected>, String> {
    let path = package_root().join(dir).join("expect.txt");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "{}:{}: expected `FILE:LINE: MESSAGE FRAGMENT`, got `{raw}`",
                path.display(),
                i + 1
            )
        };
        let (file, rest) = line.split_once(':').ok_or_else(bad)?;
        let (num, fragment) = rest.split_once(':').ok_or_else(bad)?;
        let fragment = fragment.trim();
        if file.is_empty() || fragment.is_empty() {
            return Err(bad());
        }
        out.push(Expected {
            file: file.to_owned(),
            line: num.trim().parse().map_err(|_| bad())?,
            fragment: fragment.to_owned(),
        });
    }
    if out.is_empty() {
        return Err(format!("{} lists no problem", path.display()));
    }
    Ok(out)
}

/// The reported problems: each starts at a line beginning with `error:` and
/// runs to the next one (title, location and excerpt).
fn problems(stderr: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in stderr.lines() {
        if line.starts_with("error:") {
            out.push(String::new());
        }
        if let Some(current) = out.last_mut() {
            current.push_str(line);
            current.push('\n');
        }
    }
    out
}

/// Whether a reported problem is located at `file` and `line` (0: the whole file).
fn located_at(problem: &str, file: &str, line: u32) -> bool {
    if line == 0 {
        problem.lines().any(|l| l.trim_end().ends_with(file))
    } else {
        problem.contains(&format!("{file}:{line}:"))
    }
}

/// Runs the binary on one fixture; `Err` explains what went wrong.
fn check_fixture(dir: &Path, server: &RunningServer) -> Result<(), String> {
    let name = fixture_name(dir);
    let expected = parse_expect(dir)?;
    let requests_before = server.request_count();
    let reports = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
    let output = Command::new(env!("CARGO_BIN_EXE_conform"))
        .current_dir(package_root())
        .arg("run")
        .arg("--cases")
        .arg(dir)
        .arg("--base-url")
        .arg(server.base_url())
        .arg("--reports")
        .arg(reports.path())
        .env("VEZA_TOKEN", "t")
        .env_remove("BASE_URL")
        .env_remove("CONFORM_TEST_SURELY_UNSET")
        .output()
        .map_err(|e| format!("fixture `{name}`: cannot run conform: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);

    let mut errors = Vec::new();
    if output.status.code() != Some(2) {
        errors.push(format!("exit code {:?} instead of 2", output.status.code()));
    }
    if stderr.contains("panicked") {
        errors.push("the binary panicked".to_owned());
    }
    let reported = problems(&stderr);
    for e in &expected {
        // The loader prints the folder path joined with the file name, with `/` separators.
        let file = format!("{}/{}", dir.to_string_lossy().replace('\\', "/"), e.file);
        let location = if e.line == 0 {
            file.clone()
        } else {
            format!("{file}:{}:", e.line)
        };
        if !stderr.contains(&location) {
            errors.push(format!("no problem reported at `{location}`"));
        }
        if !stderr.contains(&e.fragment) {
            errors.push(format!("no message containing `{}`", e.fragment));
        }
        if !reported
            .iter()
            .any(|p| located_at(p, &file, e.line) && p.contains(&e.fragment))
        {
            errors.push(format!(
                "no single problem both at `{location}` and containing `{}`",
                e.fragment
            ));
        }
    }
    let n = expected.len();
    let summary = format!(
        "{n} problem{} found; nothing was sent",
        if n == 1 { "" } else { "s" }
    );
    if !stderr.contains(&summary) {
        errors.push(format!(
            "expected exactly {n} reported problem(s) (`{summary}`), found {} `error:` blocks",
            reported.len()
        ));
    }
    let requests = server.request_count() - requests_before;
    if requests != 0 {
        errors.push(format!(
            "the reference server received {requests} request(s) during this fixture"
        ));
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "fixture `{name}` ({}):\n  - {}\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}",
        dir.display(),
        errors.join("\n  - ")
    ))
}

#[test]
fn every_invalid_suite_is_refused_before_any_request() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let config = ServerConfig {
        token: "t".into(),
        ..Default::default()
    };
    let server = rt
        .block_on(spawn("127.0.0.1:0".parse().unwrap(), config))
        .expect("the reference server starts");

    let dirs = fixture_dirs();
    assert!(
        dirs.len() >= MIN_FIXTURES,
        "expected at least {MIN_FIXTURES} fixtures under {FIXTURES}, found {}: {dirs:?}",
        dirs.len()
    );
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| check_fixture(dir, &server).err())
        .collect();
    let requests = server.request_count();
    rt.block_on(server.shutdown());

    assert!(
        failures.is_empty(),
        "{} of {} invalid fixtures were not refused as expected:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
    assert_eq!(
        requests, 0,
        "the reference server received requests while every suite was invalid"
    );
}
