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
    // The contract, when it sits in the folder, is no scenario: told apart
    // by its real path. A regular file's real path is the folder's own
    // followed by its name, so only links need resolving one by one.
    let spec = spec.and_then(|s| s.canonicalize().ok());
    let real_dir = dir.canonicalize()?;
    let spec_here = spec
        .as_deref()
        .filter(|s| s.parent() == Some(&*real_dir))
        .and_then(Path::file_name);
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        let is_suite = path.file_name().is_some_and(|n| n == SUITE_FILE);
        if !is_yaml || is_suite {
            continue;
        }
        // A regular file is known from the folder's listing, without a
        // `stat` or a `realpath` of its own (for a thousand files those
        // took some 7 ms); a link is followed.
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            if spec_here != Some(&*entry.file_name()) {
                files.push(path);
            }
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
    // By name: they share the folder, and comparing names is cheaper
    // than comparing paths component by component.
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_contract_and_links_to_it_are_no_scenarios_and_files_come_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["b.yaml", "a.yml", "openapi.yaml", SUITE_FILE, "notes.md"] {
            std::fs::write(d.join(f), "x: 1\n").unwrap();
        }
        std::os::unix::fs::symlink("openapi.yaml", d.join("contract.yaml")).unwrap();
        std::os::unix::fs::symlink("b.yaml", d.join("c.yaml")).unwrap();
        let spec = d.join("openapi.yaml");
        let (files, problems) = scenario_files(d, Some(&spec)).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(names(&files), ["a.yml", "b.yaml", "c.yaml"]);
        // Named by another path to it, the contract is still told apart.
        let (files, _) = scenario_files(d, Some(&d.join("contract.yaml"))).unwrap();
        assert_eq!(names(&files), ["a.yml", "b.yaml", "c.yaml"]);
        // The folder reached through a link: the same.
        let link = tempfile::tempdir().unwrap();
        let via = link.path().join("suite");
        std::os::unix::fs::symlink(d, &via).unwrap();
        let (files, _) = scenario_files(&via, Some(&via.join("openapi.yaml"))).unwrap();
        assert_eq!(names(&files), ["a.yml", "b.yaml", "c.yaml"]);
        // A contract elsewhere leaves every YAML file of the folder in.
        let (files, _) = scenario_files(d, None).unwrap();
        assert_eq!(
            names(&files),
            ["a.yml", "b.yaml", "c.yaml", "contract.yaml", "openapi.yaml"]
        );
    }
}
