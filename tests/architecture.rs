//! The layers of `src/`: every top-level module imports only from layers
//! below its own (so no two modules import each other), as the README's
//! "Architecture" section draws them. The check reads the source: every
//! `crate::NAME` path outside comments and `#[cfg(test)] mod tests` counts
//! (test code may reach up, to build what it tests).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;

/// The layers, lowest first; a module may use only modules of lower layers.
const LAYERS: &[&[&str]] = &[
    // Located problems, text made safe to show, exit codes, stdout guarded.
    &["diag", "printable", "exit_code", "pipe"],
    // The YAML reader; bounded reads of inputs; masking secrets.
    &["yaml", "input", "redact"],
    // The value language (templates, JSONPath, matchers), the polling
    // policy, clauses.
    &["expr", "poll", "clause"],
    // The contract, as a narrow facade.
    &["contract"],
    // Requests: targets written from templates and the contract; the client.
    &["http"],
    // The case format and its compiled plan.
    &["case"],
    // The result model, its verdicts and coverage.
    &["model"],
    // Checks of a response; linting a suite against its contract; the
    // reference server (which knows nothing of the rest).
    &["check", "lint", "server"],
    // The inputs of a run: suite, contract, lint, environment.
    &["inputs"],
    // Reports: projections of the model.
    &["report"],
    // The runner.
    &["runner"],
    // Commands besides `run`.
    &["selfcheck", "schema"],
    // The command line.
    &["cli"],
];

/// The top-level module a file of `src/` belongs to (`None` for lib.rs, main.rs).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => None,
        Some(m) => Some(m.to_owned()),
        None => Some(first.to_owned()),
    }
}

/// The `crate::NAME` paths of `source` outside comments and test code.
fn uses(source: &str, rel: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // A file of tests, or the tests at the end of a file, may reach up.
    if rel.components().any(|c| c.as_os_str() == "tests")
        || rel.file_name().is_some_and(|f| f == "tests.rs")
    {
        return out;
    }
    // The tests at the end of a file may reach up; a `#[cfg(test)]`
    // helper elsewhere counts like any code.
    let code = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
            rest = after;
        }
    }
    out
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, names)| names.iter().map(move |n| (*n, i)))
        .collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for path in common::walk(&src) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let Some(module) = module_of(rel) else {
            continue;
        };
        let Some(&own) = layer.get(module.as_str()) else {
            problems.push(format!(
                "{}: module `{module}` is in no layer",
                rel.display()
            ));
            continue;
        };
        seen.insert(module.clone());
        let source = std::fs::read_to_string(&path).unwrap();
        for used in uses(&source, rel) {
            if used == module {
                continue;
            }
            match layer.get(used.as_str()) {
                Some(&l) if l < own => {}
                Some(_) => problems.push(format!(
                    "{}: `{module}` uses `crate::{used}`, which is not below it",
                    rel.display()
                )),
                None => problems.push(format!("{}: `crate::{used}` is in no layer", rel.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let listed: BTreeSet<String> = layer.keys().map(|k| (*k).to_owned()).collect();
    let gone: Vec<&String> = listed.difference(&seen).collect();
    assert!(
        gone.is_empty(),
        "layers name modules that do not exist: {gone:?}"
    );
}
