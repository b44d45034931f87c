//! Loading a suite folder: every problem is found before any request is sent.
//!
//! The loader reads `conform.yaml` and every other `*.yaml`/`*.yml` file of
//! the folder (except the contract), parses each into the case types and
//! compiles it into the runnable plan. It does not stop at the first problem:
//! a file that does not parse contributes its first syntax or type error
//! (the parser cannot go on past it), and every file that parses contributes
//! all of its semantic problems (invalid JSONPath or regex, variables used
//! before any step captures them, duplicate scenario names, ...). The result
//! is the suite or the full list of located problems.

//!
//! Here: the order of loading, the suite's hash and which plans stay in
//! memory. Listing and reading files is `files`, loading them (reading,
//! parsing, compiling, checking) on every core `parse`, and turning a
//! parsed file into its plan `compile`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::compile::{FileCtx, compile_scenario, compile_suite};
use super::files::{hash_file, read, scenario_files};
use super::model::SuiteFile;
use super::parse::{Check, Helpers, Job, LOAD_BATCH, Shared, parse_file};
use super::plan::*;
use crate::diag::{Diagnostic, Diagnostics, SourceLocation, display_path};
use crate::yaml;

/// The suite settings file inside a suite folder.
pub const SUITE_FILE: &str = "conform.yaml";

/// Loads and checks the suite in `dir`.
pub fn load_suite(dir: &Path) -> Result<Suite, Diagnostics> {
    let mut loader = Loader::open(dir);
    loader.load_scenarios(&|_, _| Vec::new());
    loader.finish()
}

/// Compiled plans are kept in memory for the first scenario files, up to
/// [`kept_source_bytes`] of their YAML in all (a plan takes some four times
/// its YAML: 7 KiB for the bundled flagship); the rest are checked at load
/// time and compiled again when they run. Each scenario's result takes
/// memory too, so the allowance shrinks as the suite grows: this much, less
/// [`KEEP_PLANS_LESS_PER_FILE`] per scenario file, and never under
/// [`KEEP_PLANS_MIN_BYTES`]. A suite of any size runs in bounded memory
/// (64 MiB at 10,000 scenarios, reports included), and one of a few
/// thousand flagship-sized scenarios keeps every plan.
pub const KEEP_PLANS_MAX_BYTES: usize = 5 << 20;

/// See [`KEEP_PLANS_MAX_BYTES`].
pub const KEEP_PLANS_LESS_PER_FILE: usize = 500;

/// See [`KEEP_PLANS_MAX_BYTES`].
pub const KEEP_PLANS_MIN_BYTES: usize = 1 << 20;

/// Bytes of scenario YAML whose plans are kept, for a suite of `files`
/// scenario files (see [`KEEP_PLANS_MAX_BYTES`]).
pub fn kept_source_bytes(files: usize) -> usize {
    KEEP_PLANS_MAX_BYTES
        .saturating_sub(files.saturating_mul(KEEP_PLANS_LESS_PER_FILE))
        .max(KEEP_PLANS_MIN_BYTES)
}

/// Loads a suite in two phases, so that a caller can load the contract the
/// settings name before the scenarios are checked against it.
pub struct Loader {
    dir: PathBuf,
    suite: Option<Suite>,
    diags: Diagnostics,
    /// The suite's hash so far: `conform.yaml`, then the scenario files.
    digest: ring::digest::Context,
}

impl Loader {
    /// Reads `conform.yaml`; problems are kept for [`Loader::finish`].
    pub fn open(dir: &Path) -> Loader {
        let mut diags = Diagnostics::default();
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        let suite = open_suite(dir, &mut diags, &mut digest);
        Loader {
            dir: dir.to_path_buf(),
            suite,
            diags,
            digest,
        }
    }

    /// The suite's settings (no scenarios yet), when `conform.yaml` was usable.
    pub fn suite(&self) -> Option<&Suite> {
        self.suite.as_ref()
    }

    /// Adds problems found elsewhere (the contract, for instance).
    pub fn add_problems(&mut self, more: impl IntoIterator<Item = Diagnostic>) {
        self.diags.0.extend(more);
    }

    /// How many problems have been found so far.
    pub fn problem_count(&self) -> usize {
        self.diags.0.len()
    }

    /// Adds problems found elsewhere before the one at `at` (after all of
    /// them when `at` is past the last): where they would have come had
    /// they been found when [`Loader::problem_count`] said `at`.
    pub fn insert_problems(&mut self, at: usize, more: impl IntoIterator<Item = Diagnostic>) {
        let at = at.min(self.diags.0.len());
        self.diags.0.splice(at..at, more);
    }

    /// Compiles every scenario file; `check` sees each compiled scenario
    /// (while its plan is in memory, on any thread) and returns more
    /// problems, which count for the scenarios whose names are unique.
    pub fn load_scenarios(
        &mut self,
        check: &(dyn Fn(&Scenario, &Arc<str>) -> Vec<Diagnostic> + Sync),
    ) {
        let Some(suite) = &mut self.suite else { return };
        load_scenarios(&self.dir, suite, &mut self.diags, &mut self.digest, check);
    }

    /// The suite, or every problem found.
    pub fn finish(self) -> Result<Suite, Diagnostics> {
        match self.suite {
            Some(mut s) if self.diags.is_empty() => {
                s.sha256 = crate::contract::hex(self.digest.finish().as_ref());
                Ok(s)
            }
            _ => Err(self.diags),
        }
    }
}

/// Reads and compiles `conform.yaml`; `None` (and a problem) when there is
/// no usable one.
fn open_suite(
    dir: &Path,
    diags: &mut Diagnostics,
    digest: &mut ring::digest::Context,
) -> Option<Suite> {
    if !dir.is_dir() {
        diags.push(Diagnostic::file(
            dir,
            "the suite folder does not exist (give one with --cases DIR)",
        ));
        return None;
    }
    let suite_path = dir.join(SUITE_FILE);
    if !suite_path.is_file() {
        diags.push(Diagnostic::file(
            &suite_path,
            format!("every suite folder needs a {SUITE_FILE} with the suite's settings (at least `name:`)"),
        ));
        return None;
    }
    let text = match read(&suite_path) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    hash_file(digest, SUITE_FILE, &text);
    let file = match yaml::parse::<SuiteFile>(&suite_path, &text) {
        Ok(s) => s,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let intern = Arc::default();
    let mut ctx = FileCtx {
        file: display_path(&suite_path).into(),
        source: text,
        diags,
        intern: &intern,
    };
    Some(compile_suite(&mut ctx, dir, &file, intern.clone()))
}

fn load_scenarios(
    dir: &Path,
    suite: &mut Suite,
    diags: &mut Diagnostics,
    digest: &mut ring::digest::Context,
    check: Check<'_>,
) {
    let files = match scenario_files(dir, suite.spec.as_deref()) {
        Ok((files, problems)) => {
            for p in problems {
                diags.push(p);
            }
            files
        }
        Err(e) => {
            diags.push(Diagnostic::file(
                dir,
                format!("cannot list the suite folder: {e}"),
            ));
            return;
        }
    };
    let mut names: BTreeMap<String, SourceLocation> = BTreeMap::new();
    let mut kept_bytes = 0usize;
    let keep = kept_source_bytes(files.len());
    // Gathered here while the loading threads read the suite.
    let mut scenarios = Vec::new();
    let mut env_uses = Vec::new();
    let mut named_clauses = BTreeSet::new();
    let job = Job {
        suite: &*suite,
        check,
    };
    let shared = Shared::new();
    std::thread::scope(|scope| {
        let helpers = Helpers::start(scope, files.len(), &job, &shared);
        let batches: Vec<&[PathBuf]> = files.chunks(LOAD_BATCH).collect();
        let mut started = batches.first().map(|b| helpers.hand_out(b));
        for (n, batch) in batches.iter().enumerate() {
            let Some(this) = started.take() else { break };
            let loaded = helpers.finish(batch, this);
            started = batches.get(n + 1).map(|b| helpers.hand_out(b));
            for (loaded, path) in loaded.into_iter().zip(*batch) {
                let loaded = match loaded {
                    Ok(l) => l,
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                };
                let source = loaded.source;
                let name = path.file_name().map(|n| n.to_string_lossy());
                hash_file(digest, name.as_deref().unwrap_or_default(), &source);
                diags.0.extend(loaded.problems.0);
                let Some((sc, uses)) = loaded.plan else {
                    continue;
                };
                env_uses.extend(uses.into_iter().map(|(name, location)| EnvUse {
                    name,
                    location,
                    source: source.clone(),
                }));
                if let Some(first) = names.get(&*sc.name) {
                    let msg = format!(
                        "scenario name `{}` is already used by {first}; names must be unique in a suite",
                        sc.name
                    );
                    diags.push(Diagnostic::new(sc.location.clone(), msg).with_source(source));
                    continue;
                }
                names.insert(sc.name.to_string(), sc.location.clone());
                named_clauses.extend(sc.named_clauses().map(|c| c.id.clone()));
                diags.0.extend(loaded.checked);
                kept_bytes += source.len();
                let sc = if kept_bytes > keep { sc.deferred() } else { sc };
                scenarios.push(Arc::new(sc));
            }
        }
    });
    suite.scenarios.extend(scenarios);
    suite.env_uses.extend(env_uses);
    suite.named_clauses.extend(named_clauses);
}

impl Suite {
    /// The scenario's full plan: itself, or compiled again from its file when
    /// loading deferred it (see [`KEEP_PLANS_MAX_BYTES`]).
    pub fn plan(&self, sc: &Arc<Scenario>) -> Result<Arc<Scenario>, Diagnostics> {
        if !sc.deferred {
            return Ok(sc.clone());
        }
        let mut diags = Diagnostics::default();
        let (text, parsed) = parse_file(&sc.path).map_err(|d| Diagnostics(vec![d]))?;
        let mut ctx = FileCtx {
            file: sc.file.clone(),
            source: text,
            diags: &mut diags,
            intern: &self.intern,
        };
        let compiled = compile_scenario(&mut ctx, &sc.path, parsed, self);
        match compiled {
            Some((full, _)) if diags.is_empty() && full.id == sc.id => Ok(Arc::new(full)),
            _ => {
                if diags.is_empty() {
                    diags.push(Diagnostic::file(
                        &sc.path,
                        "the file changed while the suite ran",
                    ));
                }
                Err(diags)
            }
        }
    }
}

/// Every environment variable the suite needs that `env` lacks, located.
pub fn missing_env(suite: &Suite, env: &BTreeMap<String, String>) -> Diagnostics {
    let mut d = Diagnostics::default();
    for u in &suite.env_uses {
        if !env.contains_key(&u.name) {
            d.push(
                Diagnostic::new(
                    u.location.clone(),
                    format!("environment variable `{}` is not set", u.name),
                )
                .with_source(u.source.clone()),
            );
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Suite {
        load_suite(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"))).unwrap()
    }

    #[test]
    fn the_plan_allowance_shrinks_as_the_suite_grows() {
        assert_eq!(kept_source_bytes(0), KEEP_PLANS_MAX_BYTES);
        // 2,000 flagship-sized files (some 3.2 MB) keep every plan...
        assert!(kept_source_bytes(2_000) > 2_000 * 1_700);
        assert!(kept_source_bytes(2_000) > kept_source_bytes(5_000));
        // ...10,000 keep the first MiB, and no suite keeps less.
        assert_eq!(kept_source_bytes(10_000), KEEP_PLANS_MIN_BYTES);
        assert_eq!(kept_source_bytes(usize::MAX), KEEP_PLANS_MIN_BYTES);
    }

    #[test]
    fn a_deferred_scenario_compiles_again_to_the_same_plan() {
        let suite = bundled();
        let full = suite.scenarios[0].clone();
        assert!(!full.deferred && !full.steps.is_empty());
        let head = Arc::new((*full).clone().deferred());
        assert!(head.steps.is_empty() && head.deferred);
        let again = suite.plan(&head).unwrap();
        assert_eq!(again.id, full.id);
        assert_eq!(again.steps.len(), full.steps.len());
        assert_eq!(again.finally.len(), full.finally.len());
        assert_eq!(
            format!("{:?}", again.steps[0].action),
            format!("{:?}", full.steps[0].action)
        );
        assert!(
            Arc::ptr_eq(&suite.plan(&full).unwrap(), &full),
            "a kept plan is not compiled again"
        );
    }

    #[test]
    fn an_unreadable_file_is_a_located_problem_at_load_and_at_run() {
        let dir = tempfile::tempdir().unwrap();
        let cases = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
        for f in ["conform.yaml", "openapi.yaml", "02_create_returns_id.yaml"] {
            std::fs::copy(cases.join(f), dir.path().join(f)).unwrap();
        }
        let suite = load_suite(dir.path()).unwrap();
        // Not UTF-8: the file cannot be read as text.
        let broken = dir.path().join("03_latin1.yaml");
        std::fs::write(&broken, b"name: caf\xe9\n").unwrap();
        let problems = load_suite(dir.path()).unwrap_err().0;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(&*problems[0].location.file, display_path(&broken));
        assert!(
            problems[0]
                .message
                .starts_with("cannot read the file: not UTF-8"),
            "{}",
            problems[0].message
        );
        // At the first byte that is not UTF-8.
        assert_eq!(
            (problems[0].location.line, problems[0].location.column),
            (1, 10)
        );
        // A deferred scenario whose file is gone when it runs.
        let head = Arc::new((*suite.scenarios[0]).clone().deferred());
        std::fs::remove_file(dir.path().join("02_create_returns_id.yaml")).unwrap();
        let e = suite.plan(&head).unwrap_err();
        assert!(e.to_string().contains("cannot read the file"), "{e}");
    }

    #[test]
    fn a_file_changed_since_loading_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cases = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
        for f in ["conform.yaml", "openapi.yaml", "02_create_returns_id.yaml"] {
            std::fs::copy(cases.join(f), dir.path().join(f)).unwrap();
        }
        let suite = load_suite(dir.path()).unwrap();
        let head = Arc::new((*suite.scenarios[0]).clone().deferred());
        let file = dir.path().join("02_create_returns_id.yaml");
        let text = std::fs::read_to_string(&file)
            .unwrap()
            .replace("name: create answers an id", "name: renamed");
        std::fs::write(&file, text).unwrap();
        let e = suite.plan(&head).unwrap_err();
        assert!(e.to_string().contains("changed while the suite ran"), "{e}");
    }
}
