//! `conform selfcheck`: every fault is caught and every variation passes;
//! without the flagship scenario the suite misses a fault, and says which.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_conform");
const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cases");

fn selfcheck(cases: &Path) -> (Option<i32>, String) {
    let o = Command::new(BIN)
        .arg("selfcheck")
        .arg("--cases")
        .arg(cases)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn row<'a>(out: &'a str, mode: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(mode))
        .unwrap_or_else(|| panic!("no row {mode}: {out}"))
}

#[test]
fn the_bundled_suite_catches_every_fault_and_tolerates_every_variation() {
    let (code, out) = selfcheck(Path::new(CASES));
    assert_eq!(code, Some(0), "{out}");
    for f in conform::server::Fault::ALL {
        let line = row(&out, f.name());
        // The expected verdict is printed, then the actual one, which must
        // name the same clauses, then ok.
        let expected = f.expected().to_string();
        assert!(line.contains(&expected), "{line}");
        assert!(line.contains(" ok "), "{line}");
        for id in f.expected().clauses() {
            assert!(
                line.matches(id).count() >= 2,
                "{}: {id} is not named by the actual verdict: {line}",
                f.name()
            );
        }
    }
    assert!(
        row(&out, "cancel-running-noop").contains("01_cancel_then_poll_unknown"),
        "{out}"
    );
    assert!(out.contains("unbroken server passed"), "{out}");
}

#[test]
fn without_the_flagship_a_fault_goes_unnoticed() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(CASES).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("01_") {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    let (code, out) = selfcheck(dir.path());
    assert_eq!(code, Some(1), "{out}");
    let line = row(&out, "cancel-running-noop");
    assert!(line.contains("MISSED"), "{out}");
}
