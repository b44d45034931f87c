//! The files of a suite folder: which are scenarios, their text, and the
//! suite's hash over them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::load::SUITE_FILE;
use crate::diag::{Diagnostic, SourceLocation, display_path};

/// The scenario files of a suite folder, sorted by name, and a problem for
/// each `*.yaml` entry that is no readable file (a folder, a link to nothing
/// or a loop of links), or for a folder with no scenario at all.
pub(super) fn scenario_files(
    dir: &Path,
    spec: Option<&Path>,
) -> std::io::Result<(Vec<PathBuf>, Vec<Diagnostic>)> {
    let spec = spec.and_then(|s| s.canonicalize().ok());
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        let is_suite = path.file_name().is_some_and(|n| n == SUITE_FILE);
        if !is_yaml || is_suite {
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                if spec.is_none() || path.canonicalize().ok() != spec {
                    files.push(path);
                }
            }
            Ok(m) if m.is_dir() => problems.push(Diagnostic::file(
                &path,
                "a folder named like a scenario file: rename it, or move it out of the suite",
            )),
            Ok(_) => problems.push(Diagnostic::file(
                &path,
                "not a regular file: a scenario is a YAML file",
            )),
            Err(e) => {
                let why = match std::fs::read_link(&path) {
                    Ok(target) if e.kind() == std::io::ErrorKind::NotFound => format!(
                        "a link to `{}`, which does not exist",
                        display_path(&target)
                    ),
                    Ok(_) => format!(
                        "a link that cannot be followed ({e}); links that lead back to themselves never end"
                    ),
                    Err(_) => format!("cannot be read: {e}"),
                };
                problems.push(Diagnostic::file(&path, why));
            }
        }
    }
    files.sort();
    problems.sort_by(|a, b| a.location.file.cmp(&b.location.file));
    if files.is_empty() && problems.is_empty() {
        problems.push(Diagnostic::file(
            dir,
            format!(
                "no scenario in the suite folder: a scenario is a `*.yaml` file beside {SUITE_FILE}"
            ),
        ));
    }
    Ok((files, problems))
}

pub(super) fn read(path: &Path) -> Result<Arc<str>, Diagnostic> {
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::file(path, format!("cannot read the file: {e}")))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Arc::from(text)),
        Err(e) => {
            // Where the first byte that is not UTF-8 sits.
            let good = e
                .as_bytes()
                .get(..e.utf8_error().valid_up_to())
                .unwrap_or_default();
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let column = good.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            Err(Diagnostic::new(
                SourceLocation::new(display_path(path), line as u64, column as u64),
                "cannot read the file: not UTF-8 text from here on (save it as UTF-8)",
            ))
        }
    }
}

/// Adds one file to the suite's hash: its name, its text, each ended by a NUL.
pub(super) fn hash_file(digest: &mut ring::digest::Context, name: &str, text: &str) {
    digest.update(name.as_bytes());
    digest.update(b"\0");
    digest.update(text.as_bytes());
    digest.update(b"\0");
}
