//! Helpers shared by the test binaries (each includes this module with
//! `mod common;` and uses what it needs).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub mod xsd;

/// Every file under `dir`, in any depth.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The repository's root.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A report fixture's path (`tests/fixtures/reports/NAME`).
pub fn report_fixture_path(name: &str) -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/reports").join(name)
}

/// A report fixture, read as a conform report.
pub fn report_fixture(name: &str) -> conform::model::RunResult {
    let path = report_fixture_path(name);
    conform::report::json::read(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// The first recorded exchange of `r`'s steps that got a response.
pub fn first_answered_exchange(r: &mut conform::model::RunResult) -> &mut conform::model::Exchange {
    r.scenarios
        .iter_mut()
        .flat_map(|s| s.steps.iter_mut())
        .find_map(|st| st.exchange.as_deref_mut().filter(|x| x.response.is_some()))
        .expect("an exchange with a response")
}

/// Compares `actual` with `tests/golden/NAME`, or writes it there when
/// `UPDATE_GOLDEN` is set; a difference names its first line.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(ROOT).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from its golden file at line {} ({} bytes expected, {} written; \
             UPDATE_GOLDEN=1 rewrites it)\n--- expected: {:?}\n--- actual:   {:?}",
            line + 1,
            expected.len(),
            actual.len(),
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// `text` with each `(regex, replacement)` of `rules` applied in turn: what
/// changes between runs (times, ports, ids) made stable for golden files.
pub fn mask_with(text: &str, rules: &[(&str, &str)]) -> String {
    rules.iter().fold(text.to_owned(), |text, (re, to)| {
        regex::Regex::new(re)
            .expect("a mask rule")
            .replace_all(&text, *to)
            .into_owned()
    })
}

/// The strict Jenkins JUnit schema every junit.xml must pass.
pub fn junit_xsd() -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/junit/jenkins-junit-10.xsd")
}

/// Whether the outside tools the tests can also run (`xmllint`, Python's
/// junitparser) must be there: `.ci/run` sets `CONFORM_REQUIRE_TOOLS`, and
/// a missing one then fails the tests. Without it they are extra checks,
/// run when found: the tests' own checks (the XSD read by [`xsd`], the
/// JUnit read by the `junit-parser` crate) need nothing outside the
/// repository.
pub fn tools_required() -> bool {
    std::env::var_os("CONFORM_REQUIRE_TOOLS").is_some()
}

/// Says on the terminal, once per test binary and message, that a check
/// did not run: written to standard error directly, past libtest's capture
/// of a passing test's output, so that `cargo test` shows it.
pub fn skipped(what: &str) {
    use std::io::Write;
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if !said.iter().any(|s| s == what) {
        said.push(what.to_owned());
        let _ = writeln!(std::io::stderr(), "skipped: {what}");
    }
}

/// `xmllint --noout --schema XSD FILE`: its verdict (Err with what it
/// said), or `None` when xmllint is not installed and not required.
pub fn xmllint(path: &Path) -> Option<Result<(), String>> {
    let out = match std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(junit_xsd())
        .arg(path)
        .output()
    {
        Ok(out) => out,
        Err(e) if !tools_required() && e.kind() == std::io::ErrorKind::NotFound => {
            skipped("xmllint is not installed: junit.xml is checked by tests/common/xsd.rs alone");
            return None;
        }
        Err(e) => panic!("xmllint is required (apt-get install libxml2-utils): {e}"),
    };
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

/// `path` against the strict Jenkins JUnit XSD: Err with the violations.
/// Checked by [`xsd`], and by xmllint too where it is installed; the two
/// must agree.
pub fn junit_schema_check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ours = xsd::jenkins().validate(&text);
    if let Some(theirs) = xmllint(path) {
        assert_eq!(
            ours.is_empty(),
            theirs.is_ok(),
            "the XSD check and xmllint disagree on {}:\nours: {ours:?}\nxmllint: {theirs:?}",
            path.display()
        );
    }
    if ours.is_empty() {
        Ok(())
    } else {
        Err(ours.join("\n"))
    }
}

/// The HAR 1.2 schema every failures.har must pass
/// (`tests/fixtures/har/har-1.2.schema.json`), compiled.
pub fn har_validator() -> jsonschema::Validator {
    let path = Path::new(ROOT).join("tests/fixtures/har/har-1.2.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the HAR schema reads"))
            .expect("the HAR schema is JSON");
    jsonschema::validator_for(&schema).expect("the HAR schema compiles")
}

/// Panics unless `har` is valid against the HAR 1.2 schema, naming every
/// problem and where.
pub fn assert_valid_har(har: &serde_json::Value) {
    let validator = har_validator();
    let errors: Vec<String> = validator
        .iter_errors(har)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid HAR 1.2 log:\n{}",
        errors.join("\n")
    );
}

/// Panics unless `path` is valid against the strict Jenkins JUnit XSD.
pub fn assert_valid_junit(path: &Path) {
    if let Err(e) = junit_schema_check(path) {
        panic!(
            "{} is not valid against the Jenkins XSD:\n{e}",
            path.display()
        );
    }
}

/// Waits for `child`, collecting what it writes to its piped stdout and
/// stderr; returns its output and its peak resident memory in KiB, as the
/// system accounts it for that process (`wait4`).
pub fn output_with_peak_rss(mut child: std::process::Child) -> (std::process::Output, u64) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: zeroed is a valid rusage; wait4 fills it and `status`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = loop {
        // SAFETY: `pid` is this process's child, not yet waited for.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r != -1 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break r;
        }
    };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    (output, u64::try_from(usage.ru_maxrss).unwrap_or(0))
}

/// libtest arguments for runs made in a test: quiet, and its log of every
/// scenario's outcome (runs that fail on purpose among them) kept off the
/// terminal.
pub fn quiet() -> libtest_mimic::Arguments {
    libtest_mimic::Arguments {
        quiet: true,
        logfile: Some("/dev/null".into()),
        ..Default::default()
    }
}

/// `conform serve` on a port of the system's choosing, with the token in
/// `token_file` and `args` (`--lifecycle 300ms`, `--fault NAME`); killed
/// when dropped.
pub struct Serve {
    pub child: std::process::Child,
    pub url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts [`Serve`] and waits for the address it prints.
pub fn serve(token_file: &Path, args: &[&str]) -> Serve {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["serve", "--addr", "127.0.0.1:0", "--token-file"])
        .arg(token_file)
        .args(args)
        .env_remove("VEZA_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("conform serve starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("serve prints where it listens");
    // "conform serve: listening on http://127.0.0.1:PORT"
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("conform serve printed no address: {line:?}"))
        .to_owned();
    Serve { child, url }
}
