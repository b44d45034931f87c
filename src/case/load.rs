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

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

use serde_json::Value;

use super::diag::{Diagnostic, Diagnostics, SourceLocation, did_you_mean, display_path};
use super::intern::Interner;
use super::model::{
    CaptureFull, CaptureSpec, ClauseSpec, Defaults, Expect, Located, Paginate, PathMatchers, Poll,
    PollSettings, Request, ScenarioFile, ServerSpec, Step, SuiteFile,
};
use super::plan::*;
use super::yaml;
use crate::clause::{Clause, ClauseRef, Level, Registry};
use crate::jsonpath::JPath;
use crate::matcher::Matcher;
use crate::poll::PollPolicy;
use crate::template::{TValue, Template};

/// The suite settings file inside a suite folder.
pub const SUITE_FILE: &str = "conform.yaml";
/// The shortest poll interval: anything shorter floods the server.
pub const MIN_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);
/// The longest poll deadline: a day (a longer one is as good as none).
pub const MAX_POLL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Loads and checks the suite in `dir`.
pub fn load_suite(dir: &Path) -> Result<Suite, Diagnostics> {
    let mut loader = Loader::open(dir);
    loader.load_scenarios(&mut |_| Vec::new());
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

    /// Compiles every scenario file; `check` sees each compiled scenario
    /// (while its plan is in memory) and returns more problems.
    pub fn load_scenarios(&mut self, check: &mut dyn FnMut(&Scenario) -> Vec<Diagnostic>) {
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

/// One file being compiled: its name, text and the problems found so far.
struct FileCtx<'a> {
    file: Arc<str>,
    source: Arc<str>,
    diags: &'a mut Diagnostics,
    intern: &'a Interner,
}

impl FileCtx<'_> {
    fn loc(&self, line: u64, column: u64) -> SourceLocation {
        SourceLocation::new(self.file.clone(), line, column)
    }
    fn at<T>(&self, l: &Located<T>) -> SourceLocation {
        self.loc(l.line, l.column)
    }
    fn error(&mut self, location: SourceLocation, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::new(location, message).with_source(self.source.clone()));
    }
}

/// Scenario files are read and parsed at once, on every core: reading the
/// YAML is most of the time loading takes (some 66 µs for a flagship file)
/// and files are independent. Compiling, and what ties files together
/// (unique names, the contract check, which plans are kept), follows on the
/// calling thread in file order, batch after batch, so that at most this
/// many parsed files wait at a time. Plans are compiled on the thread that
/// keeps them or drops them (the deferred ones), so that what outlives the
/// load was allocated where the run will free it.
const LOAD_BATCH: usize = 128;

/// One scenario file's text and parsed form, or why it has none.
type ParsedFile = Result<(Arc<str>, ScenarioFile), Diagnostic>;

fn parse_file(path: &Path) -> ParsedFile {
    let source = read(path)?;
    let parsed = yaml::parse::<ScenarioFile>(path, &source)?;
    Ok((source, parsed))
}

fn parse_part(part: &[PathBuf]) -> Vec<ParsedFile> {
    part.iter().map(|p| parse_file(p)).collect()
}

/// Threads that read and parse scenario files beside the calling thread,
/// for the whole of a suite's loading (one per further core). A batch is
/// split in shares: the calling thread parses the first, each helper one of
/// the others, and the results come back in file order.
struct Helpers<'env> {
    workers: Vec<Helper<'env>>,
}

/// One helper: where its shares go, and where their parsed files come back.
type Helper<'env> = (Sender<&'env [PathBuf]>, Receiver<Vec<ParsedFile>>);

impl<'env> Helpers<'env> {
    /// Starts the helpers for `files` files: one per further core, no more
    /// than there are further files, and as many as can be started.
    fn start<'scope>(scope: &'scope std::thread::Scope<'scope, 'env>, files: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let workers = (1..cores.min(files))
            .map_while(|_| {
                let (jobs, job_rx) = mpsc::channel::<&'env [PathBuf]>();
                let (done_tx, done) = mpsc::channel();
                std::thread::Builder::new()
                    .name("conform-load".into())
                    .spawn_scoped(scope, move || {
                        for part in job_rx {
                            if done_tx.send(parse_part(part)).is_err() {
                                break;
                            }
                        }
                    })
                    .ok()?;
                Some((jobs, done))
            })
            .collect();
        Helpers { workers }
    }

    /// [`parse_file`] over `batch`, in its order.
    fn parse(&self, batch: &'env [PathBuf]) -> Vec<ParsedFile> {
        let share = batch.len().div_ceil(self.workers.len() + 1).max(1);
        let mut parts = batch.chunks(share);
        let Some(first) = parts.next() else {
            return Vec::new();
        };
        let sent: Vec<_> = parts
            .zip(&self.workers)
            .map(|(part, (jobs, done))| (part, jobs.send(part).ok().map(|()| done)))
            .collect();
        let mut all = parse_part(first);
        for (part, done) in sent {
            // A helper that is gone (it panicked, and the scope will say
            // so) leaves its share to this thread.
            match done.and_then(|d| d.recv().ok()) {
                Some(parsed) => all.extend(parsed),
                None => all.extend(parse_part(part)),
            }
        }
        all
    }
}

fn read(path: &Path) -> Result<Arc<str>, Diagnostic> {
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
fn hash_file(digest: &mut ring::digest::Context, name: &str, text: &str) {
    digest.update(name.as_bytes());
    digest.update(b"\0");
    digest.update(text.as_bytes());
    digest.update(b"\0");
}

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
    let mut suite = Suite {
        dir: dir.to_path_buf(),
        name: String::new(),
        description: None,
        spec: None,
        token_env: None,
        settings: Settings::default(),
        vars: Vec::new(),
        env_uses: Vec::new(),
        scenarios: Vec::new(),
        skip_checks: Vec::new(),
        token_env_location: None,
        servers: Vec::new(),
        strict: false,
        registry: Arc::default(),
        assumptions: None,
        sha256: String::new(),
        named_clauses: Default::default(),
        intern: Arc::default(),
    };
    let intern = suite.intern.clone();
    let mut ctx = FileCtx {
        file: display_path(&suite_path).into(),
        source: text,
        diags,
        intern: &intern,
    };
    compile_suite(&mut ctx, dir, &file, &mut suite);
    Some(suite)
}

fn load_scenarios(
    dir: &Path,
    suite: &mut Suite,
    diags: &mut Diagnostics,
    digest: &mut ring::digest::Context,
    check: &mut dyn FnMut(&Scenario) -> Vec<Diagnostic>,
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
    std::thread::scope(|scope| {
        let helpers = Helpers::start(scope, files.len());
        for batch in files.chunks(LOAD_BATCH) {
            for (parsed, path) in helpers.parse(batch).into_iter().zip(batch) {
                let (source, parsed) = match parsed {
                    Ok(p) => p,
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                };
                let name = path.file_name().map(|n| n.to_string_lossy());
                hash_file(digest, name.as_deref().unwrap_or_default(), &source);
                let mut ctx = FileCtx {
                    file: display_path(path).into(),
                    source: source.clone(),
                    diags,
                    intern: &suite.intern,
                };
                let Some((sc, env_uses)) = compile_scenario(&mut ctx, path, parsed, suite) else {
                    continue;
                };
                suite
                    .env_uses
                    .extend(env_uses.into_iter().map(|(name, location)| EnvUse {
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
                suite
                    .named_clauses
                    .extend(sc.named_clauses().map(|c| c.id.clone()));
                let problems = check(&sc);
                diags.0.extend(problems);
                kept_bytes += source.len();
                let sc = if kept_bytes > keep { sc.deferred() } else { sc };
                suite.scenarios.push(Arc::new(sc));
            }
        }
    });
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

/// The scenario files of a suite folder, sorted by name, and a problem for
/// each `*.yaml` entry that is no readable file (a folder, a link to nothing
/// or a loop of links), or for a folder with no scenario at all.
fn scenario_files(
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

fn compile_suite(ctx: &mut FileCtx<'_>, dir: &Path, file: &SuiteFile, suite: &mut Suite) {
    suite.name = file.name.clone();
    suite.description = file.description.clone();
    suite.token_env = file.auth.as_ref().map(|a| a.bearer_env.value.clone());
    suite.token_env_location = file.auth.as_ref().map(|a| ctx.at(&a.bearer_env));
    if let Some(spec) = &file.spec {
        let path = dir.join(&spec.value);
        if !path.is_file() {
            let loc = ctx.at(spec);
            ctx.error(
                loc,
                format!("the contract file `{}` does not exist", display_path(&path)),
            );
        }
        suite.spec = Some(path);
    }
    suite.settings = compile_defaults(ctx, &file.defaults);
    suite.registry = Arc::new(compile_clauses(ctx, &file.clauses));
    suite.assumptions = file.assumptions;
    suite.servers = compile_servers(ctx, &file.servers);
    if let Some(checks) = &file.checks {
        suite.strict = checks.strict;
        suite.skip_checks = contract_checks(ctx, &checks.skip)
            .into_iter()
            .map(|(name, loc)| (name.to_owned(), loc))
            .collect();
    }
    for (name, value) in &file.vars {
        let loc = ctx.at(value);
        let Some(t) = compile_value(ctx, &value.value, &loc) else {
            continue;
        };
        for tpl in t.templates() {
            for v in tpl.vars() {
                ctx.error(
                    loc.clone(),
                    format!("suite variable `{name}` uses `{{{{ {v} }}}}`: suite variables may use `{{{{ env.NAME }}}}` only"),
                );
            }
            suite.env_uses.extend(tpl.env_vars().map(|e| EnvUse {
                name: e.to_owned(),
                location: loc.clone(),
                source: ctx.source.clone(),
            }));
        }
        check_var_name(ctx, name, &loc);
        suite.vars.push((name.clone(), t));
    }
}

/// The registry of `clauses:`: ids unique and well-formed, statements
/// given, guards only on preconditions and naming clauses of the registry
/// that are not preconditions.
fn compile_clauses(ctx: &mut FileCtx<'_>, specs: &[Located<ClauseSpec>]) -> Registry {
    let mut clauses: Vec<Clause> = Vec::new();
    // The spec each kept clause comes from.
    let mut kept: Vec<&ClauseSpec> = Vec::new();
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for spec in specs {
        let c = &spec.value;
        let id = c.id.value.trim();
        let loc = ctx.at(&c.id);
        if id.is_empty()
            || !id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
        {
            ctx.error(
                loc,
                format!(
                    "clause id `{id}` must be letters, digits, `_`, `-` or `.` (like `D2` or `A4`)"
                ),
            );
            continue;
        }
        if let Some(line) = seen.get(id) {
            ctx.error(
                loc,
                format!("clause `{id}` is already declared at line {line}; ids must be unique"),
            );
            continue;
        }
        seen.insert(id.to_owned(), loc.line);
        if c.statement.trim().is_empty() {
            let l = ctx.at(spec);
            ctx.error(l, format!("clause `{id}` needs a `statement`"));
        }
        if c.level != Level::Precondition
            && let Some(g) = c.guards.first()
        {
            let l = ctx.at(g);
            ctx.error(
                l,
                format!("only a precondition guards clauses; `{id}` is {}", c.level),
            );
        }
        clauses.push(Clause {
            id: id.into(),
            level: c.level,
            statement: c.statement.split_whitespace().collect::<Vec<_>>().join(" "),
            source: c.source.clone(),
            guards: Vec::new(),
        });
        kept.push(c);
    }
    let levels: BTreeMap<String, Level> = clauses
        .iter()
        .map(|c| (c.id.to_string(), c.level))
        .collect();
    for (spec, clause) in kept.into_iter().zip(clauses.iter_mut()) {
        if clause.level != Level::Precondition {
            continue;
        }
        for g in &spec.guards {
            let loc = ctx.at(g);
            match levels.get(g.value.as_str()) {
                Some(Level::Precondition) => ctx.error(
                    loc,
                    format!("`{}` is a precondition; a precondition guards documented clauses and assumptions", g.value),
                ),
                Some(_) => clause.guards.push(g.value.as_str().into()),
                None => {
                    let hint = did_you_mean(&g.value, levels.keys().map(String::as_str))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    ctx.error(loc, format!("unknown clause `{}`{hint}", g.value));
                }
            }
        }
    }
    Registry::new(clauses)
}

/// The clause `id` names, or a located problem when the registry lacks it.
fn resolve_clause(
    ctx: &mut FileCtx<'_>,
    registry: &Registry,
    id: &Located<String>,
) -> Option<ClauseRef> {
    let name = id.value.trim();
    if let Some(c) = registry.resolve(name) {
        return Some(c);
    }
    let loc = ctx.at(id);
    if registry.is_empty() {
        ctx.error(
            loc,
            format!("unknown clause `{name}`: the suite declares no clauses (`clauses:` in {SUITE_FILE})"),
        );
    } else {
        let hint = did_you_mean(name, registry.clauses().iter().map(|c| &*c.id))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        ctx.error(
            loc,
            format!("unknown clause `{name}`{hint}: the suite's clauses are declared under `clauses:` in {SUITE_FILE}"),
        );
    }
    None
}

fn compile_defaults(ctx: &mut FileCtx<'_>, d: &Defaults) -> Settings {
    let base = Settings::default();
    Settings {
        request_timeout: d.request_timeout.map_or(base.request_timeout, |x| x.0),
        connect_timeout: d.connect_timeout.map_or(base.connect_timeout, |x| x.0),
        max_response_bytes: d.max_response_bytes.unwrap_or(base.max_response_bytes),
        poll: match &d.poll {
            Some(p) => {
                let loc = ctx.at(p);
                compile_poll_settings(ctx, &p.value, &PollPolicy::default(), loc)
            }
            None => PollPolicy::default(),
        },
    }
}

fn compile_poll_settings(
    ctx: &mut FileCtx<'_>,
    s: &PollSettings,
    base: &PollPolicy,
    loc: SourceLocation,
) -> PollPolicy {
    let p = PollPolicy {
        interval: s.interval.map_or(base.interval, |x| x.0),
        backoff: s.backoff.unwrap_or(base.backoff),
        max_interval: s.max_interval.map_or(base.max_interval, |x| x.0),
        timeout: s.timeout.map_or(base.timeout, |x| x.0),
        max_attempts: s.max_attempts.or(base.max_attempts),
    };
    if !p.backoff.is_finite() || p.backoff < 1.0 {
        ctx.error(
            loc.clone(),
            format!("poll `backoff` must be a number >= 1, got {}", p.backoff),
        );
    }
    if p.timeout.is_zero() {
        ctx.error(loc.clone(), "poll `timeout` must be longer than zero");
    }
    if p.timeout > MAX_POLL_TIMEOUT {
        ctx.error(
            loc.clone(),
            format!(
                "poll `timeout` {} is longer than {}: a poll must end",
                humantime::format_duration(p.timeout),
                humantime::format_duration(MAX_POLL_TIMEOUT)
            ),
        );
    }
    if p.interval < MIN_POLL_INTERVAL {
        ctx.error(
            loc.clone(),
            format!(
                "poll `interval` {} is shorter than {}: the server would be flooded",
                humantime::format_duration(p.interval),
                humantime::format_duration(MIN_POLL_INTERVAL)
            ),
        );
    }
    if p.max_attempts == Some(0) {
        ctx.error(loc, "poll `max_attempts` must be at least 1");
    }
    p
}

fn check_var_name(ctx: &mut FileCtx<'_>, name: &str, loc: &SourceLocation) {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok || name == "env" {
        ctx.error(
            loc.clone(),
            format!("`{name}` is not a usable variable name: use letters, digits, `_` and `-`, starting with a letter (and not `env`)"),
        );
    }
}

fn compile_value(ctx: &mut FileCtx<'_>, v: &Value, loc: &SourceLocation) -> Option<TValue> {
    match TValue::compile(v) {
        Ok(t) => Some(t),
        Err(e) => {
            let at = if e.pointer.is_empty() {
                String::new()
            } else {
                format!(" at {}", e.pointer)
            };
            ctx.error(loc.clone(), format!("invalid template{at}: {}", e.message));
            None
        }
    }
}

fn compile_template(ctx: &mut FileCtx<'_>, s: &str, loc: &SourceLocation) -> Option<Template> {
    match Template::parse(s) {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.error(
                loc.clone(),
                format!(
                    "invalid template (at character {}): {}",
                    e.offset + 1,
                    e.message
                ),
            );
            None
        }
    }
}

fn compile_path(ctx: &mut FileCtx<'_>, s: &str, loc: &SourceLocation) -> Option<JPath> {
    match ctx.intern.path(s) {
        Ok(p) => Some(p),
        Err(e) => {
            ctx.error(loc.clone(), e);
            None
        }
    }
}

fn compile_matcher(
    ctx: &mut FileCtx<'_>,
    v: &Value,
    loc: &SourceLocation,
    what: &str,
) -> Option<Matcher> {
    match Matcher::parse_with(v, ctx.intern) {
        Ok(m) => Some(m),
        Err(e) => {
            ctx.error(loc.clone(), format!("invalid matcher for {what}: {e}"));
            None
        }
    }
}

fn compile_path_checks(ctx: &mut FileCtx<'_>, map: &PathMatchers) -> Vec<PathCheck> {
    let mut out = Vec::new();
    for (key, m) in map {
        let path = &key.value;
        let loc = ctx.at(m);
        let key_loc = ctx.at(key);
        let p = compile_path(ctx, path, &key_loc);
        let matcher = compile_matcher(ctx, &m.value, &loc, &format!("`{path}`"));
        if let (Some(path), Some(matcher)) = (p, matcher) {
            out.push(PathCheck {
                path,
                matcher,
                location: loc,
            });
        }
    }
    out
}

/// A variable read by a step, and where.
struct Use {
    var: String,
    location: SourceLocation,
}

fn uses_of<'t>(
    templates: impl IntoIterator<Item = &'t Template>,
    loc: &SourceLocation,
    out: &mut Vec<Use>,
) {
    for t in templates {
        out.extend(t.vars().map(|v| Use {
            var: v.to_owned(),
            location: loc.clone(),
        }));
    }
}

fn env_of<'t>(
    templates: impl IntoIterator<Item = &'t Template>,
    loc: &SourceLocation,
    out: &mut Vec<(String, SourceLocation)>,
) {
    for t in templates {
        out.extend(t.env_vars().map(|v| (v.to_owned(), loc.clone())));
    }
}

/// What the scenario knows while compiling steps in order.
struct Scope<'a> {
    defined: BTreeSet<String>,
    /// Every capture of the scenario and the step that makes it, for messages.
    captured_by: &'a BTreeMap<String, String>,
    env_uses: Vec<(String, SourceLocation)>,
}

fn compile_scenario(
    ctx: &mut FileCtx<'_>,
    path: &Path,
    file: ScenarioFile,
    suite: &Suite,
) -> Option<(Scenario, Vec<(String, SourceLocation)>)> {
    let suite_vars: BTreeSet<String> = suite.vars.iter().map(|(k, _)| k.clone()).collect();
    let suite_vars = &suite_vars;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name_loc = ctx.at(&file.name);
    let name = file.name.value.trim().to_owned();
    if name.is_empty() {
        ctx.error(name_loc.clone(), "the scenario `name` must not be empty");
    }
    if file.steps.is_empty() {
        ctx.error(name_loc.clone(), "a scenario needs at least one step");
    }
    let mut captured_by = BTreeMap::new();
    for step in file.steps.iter().chain(&file.finally) {
        for var in step.value.capture.keys() {
            captured_by
                .entry(var.clone())
                .or_insert_with(|| step.value.name.value.clone());
        }
        if let Some(p) = &step.value.paginate {
            for var in p.value.collect.keys() {
                captured_by
                    .entry(var.clone())
                    .or_insert_with(|| step.value.name.value.clone());
            }
        }
    }
    let mut scope = Scope {
        defined: suite_vars.clone(),
        captured_by: &captured_by,
        env_uses: Vec::new(),
    };
    let mut vars = Vec::new();
    for (var, value) in &file.vars {
        let loc = ctx.at(value);
        check_var_name(ctx, var, &loc);
        let Some(t) = compile_value(ctx, &value.value, &loc) else {
            continue;
        };
        for tpl in t.templates() {
            for v in tpl.vars() {
                if !suite_vars.contains(v) {
                    ctx.error(
                        loc.clone(),
                        format!("scenario variable `{var}` uses `{{{{ {v} }}}}`, which is not a suite variable"),
                    );
                }
            }
        }
        env_of(t.templates(), &loc, &mut scope.env_uses);
        vars.push((var.clone(), t));
    }
    scope.defined.extend(file.vars.keys().cloned());
    let mut clauses: Vec<ClauseRef> = Vec::new();
    for id in &file.clauses {
        let Some(c) = resolve_clause(ctx, &suite.registry, id) else {
            continue;
        };
        if c.level == Level::Precondition {
            let l = ctx.at(id);
            ctx.error(
                l,
                format!("`{}` is a precondition: a step or an expectation that checks it names it with `clause:`, and when it does not hold the clauses it guards are inconclusive", c.id),
            );
        } else if !clauses.contains(&c) {
            clauses.push(c);
        }
    }

    let mut steps = Vec::new();
    for step in &file.steps {
        if let Some(s) = compile_step(ctx, step, &mut scope, suite) {
            steps.push(s);
        }
    }
    let mut finally = Vec::new();
    for step in &file.finally {
        if let Some(s) = compile_step(ctx, step, &mut scope, suite) {
            finally.push(s);
        }
    }
    let env_uses = std::mem::take(&mut scope.env_uses);
    let scenario = Scenario {
        id: format!("{stem}::{name}").into(),
        file: ctx.file.clone(),
        name: name.into(),
        description: file.description,
        tags: file.tags,
        clauses,
        ignore: file.ignore,
        vars,
        steps,
        finally,
        location: name_loc,
        path: path.to_path_buf(),
        deferred: false,
    };
    Some((scenario, env_uses))
}

fn compile_step(
    ctx: &mut FileCtx<'_>,
    located: &Located<Step>,
    scope: &mut Scope<'_>,
    suite: &Suite,
) -> Option<StepPlan> {
    let step = &located.value;
    let loc = ctx.at(located);
    let name = step.name.value.trim().to_owned();
    if name.is_empty() {
        let l = ctx.at(&step.name);
        ctx.error(l, "the step `name` must not be empty");
    }
    let mut uses: Vec<Use> = Vec::new();
    let mut extra_defined: Vec<String> = Vec::new();
    let clause = step
        .clause
        .as_ref()
        .and_then(|c| resolve_clause(ctx, &suite.registry, c));
    let mut clauses: Vec<ClauseRef> = clause.iter().cloned().collect();
    let action = match (&step.request, step.check.is_empty()) {
        (Some(req), true) => {
            let rs = compile_request_step(
                ctx,
                step,
                req,
                suite,
                clause.as_ref(),
                &mut uses,
                &mut extra_defined,
                &mut scope.env_uses,
            );
            if let Some(rs) = &rs {
                for c in rs.expect.iter().filter_map(|e| e.clause.as_ref()) {
                    if !clauses.contains(c) {
                        clauses.push(c.clone());
                    }
                }
            }
            rs.map(|r| Action::Request(Box::new(r)))
        }
        (None, false) => {
            for key in [
                "capture",
                "expect",
                "poll",
                "paginate",
                "operation",
                "checks",
            ] {
                let set = match key {
                    "capture" => !step.capture.is_empty(),
                    "expect" => step.expect.is_some(),
                    "poll" => step.poll.is_some(),
                    "paginate" => step.paginate.is_some(),
                    "checks" => step.checks.is_some(),
                    _ => step.operation.is_some(),
                };
                if set {
                    ctx.error(
                        loc.clone(),
                        format!("`{key}` needs a `request`; a `check` step has no response"),
                    );
                }
            }
            let mut checks = Vec::new();
            for (var, m) in &step.check {
                let l = ctx.at(m);
                uses.push(Use {
                    var: var.clone(),
                    location: l.clone(),
                });
                if let Some(matcher) =
                    compile_matcher(ctx, &m.value, &l, &format!("variable `{var}`"))
                {
                    uses_of(matcher.templates(), &l, &mut uses);
                    checks.push(VarCheck {
                        var: var.clone(),
                        matcher,
                        location: l,
                    });
                }
            }
            Some(Action::Check(checks))
        }
        (Some(_), false) => {
            ctx.error(
                loc.clone(),
                "a step has either a `request` or a `check`, not both",
            );
            None
        }
        (None, true) => {
            ctx.error(
                loc.clone(),
                "a step needs a `request` (or a `check` on variables)",
            );
            None
        }
    };

    // Every variable read must be defined by now.
    let mut reported = BTreeSet::new();
    for u in &uses {
        if scope.defined.contains(&u.var)
            || extra_defined.contains(&u.var)
            || !reported.insert(u.var.clone())
        {
            continue;
        }
        let msg = match scope.captured_by.get(&u.var) {
            Some(by) => format!(
                "variable `{}` is used before any step captures it (step `{by}` captures it later)",
                u.var
            ),
            None => {
                let hint = did_you_mean(&u.var, scope.defined.iter().map(String::as_str))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                format!(
                    "variable `{}` is not defined{hint}: set it in `vars` or capture it in an earlier step",
                    u.var
                )
            }
        };
        ctx.error(u.location.clone(), msg);
    }
    // Every variable the step reads from outside itself (the paging cursor is its own).
    let uses: Vec<String> = uses
        .iter()
        .map(|u| u.var.clone())
        .filter(|v| !extra_defined.contains(v))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // What this step defines for later steps.
    scope.defined.extend(step.capture.keys().cloned());
    if let Some(p) = &step.paginate {
        scope.defined.extend(p.value.collect.keys().cloned());
    }
    Some(StepPlan {
        name,
        location: loc,
        action: action?,
        uses,
        clause,
        clauses,
        soft: step.soft,
    })
}

/// The suite's named servers: a name of letters, digits, `-` and `_`; a
/// `url` (http or https) or an `env` variable, or both.
fn compile_servers(
    ctx: &mut FileCtx<'_>,
    servers: &BTreeMap<String, Located<ServerSpec>>,
) -> Vec<ServerPlan> {
    let mut out = Vec::new();
    for (name, spec) in servers {
        let loc = ctx.at(spec);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            ctx.error(
                loc.clone(),
                format!("server name `{name}`: use letters, digits, `-` and `_`"),
            );
        }
        let ServerSpec { url, env } = &spec.value;
        if url.is_none() && env.is_none() {
            ctx.error(
                loc.clone(),
                format!("server `{name}` needs a `url`, an `env` variable holding one, or both"),
            );
        }
        if let Some(u) = url
            && let Err(why) = crate::http::check_base_url(u)
        {
            ctx.error(loc.clone(), format!("server `{name}`: {why}"));
        }
        out.push(ServerPlan {
            name: name.clone(),
            url: url.clone(),
            env: env.clone(),
            location: loc,
        });
    }
    out
}

/// The named server a request names, known to the suite.
fn resolve_server(
    ctx: &mut FileCtx<'_>,
    suite: &Suite,
    server: Option<&Located<String>>,
) -> Option<String> {
    let server = server?;
    if suite.servers.iter().any(|s| s.name == server.value) {
        return Some(server.value.clone());
    }
    let loc = ctx.at(server);
    let hint = did_you_mean(&server.value, suite.servers.iter().map(|s| s.name.as_str()))
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    let known = if suite.servers.is_empty() {
        "the suite names none (`servers:` in conform.yaml)".to_owned()
    } else {
        let names: Vec<&str> = suite.servers.iter().map(|s| s.name.as_str()).collect();
        format!("the suite's are {}", names.join(", "))
    };
    ctx.error(
        loc,
        format!("unknown server `{}`{hint}; {known}", server.value),
    );
    None
}

/// Contract check names, each known (an unknown one is a problem at its
/// place, with "did you mean").
fn contract_checks(
    ctx: &mut FileCtx<'_>,
    names: &[Located<String>],
) -> Vec<(&'static str, SourceLocation)> {
    let known = crate::check::names::CONTRACT_CHECKS;
    let mut out = Vec::new();
    for name in names {
        let loc = ctx.at(name);
        if let Some(check) = known.iter().find(|c| **c == name.value) {
            out.push((*check, loc));
            continue;
        }
        let hint = did_you_mean(&name.value, known.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        ctx.error(
            loc,
            format!(
                "unknown contract check `{}`{hint}; the checks are {}",
                name.value,
                known.join(", ")
            ),
        );
    }
    out
}

#[expect(clippy::too_many_arguments, reason = "one step's compile state")]
fn compile_request_step(
    ctx: &mut FileCtx<'_>,
    step: &Step,
    req: &Request,
    suite: &Suite,
    clause: Option<&ClauseRef>,
    uses: &mut Vec<Use>,
    extra_defined: &mut Vec<String>,
    env_uses: &mut Vec<(String, SourceLocation)>,
) -> Option<RequestStep> {
    let mut request = compile_request(ctx, req, uses, env_uses);
    let server = resolve_server(ctx, suite, req.server.as_ref());
    if let Some(r) = &mut request {
        r.server = server;
    }
    let expect: Vec<ExpectPlan> = step
        .expect
        .as_ref()
        .map(|e| e.blocks())
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let mut plan = compile_expect(ctx, e, uses);
            plan.soft = e.soft;
            plan.clause = match &e.clause {
                Some(id) => resolve_clause(ctx, &suite.registry, id),
                None => clause.cloned(),
            };
            plan
        })
        .collect();
    let mut captures = Vec::new();
    for (var, spec) in &step.capture {
        let l = ctx.at(spec);
        check_var_name(ctx, var, &l);
        if let Some(c) = compile_capture(ctx, var, &spec.value, l) {
            captures.push(c);
        }
    }
    let mode = match (&step.poll, &step.paginate) {
        (Some(_), Some(p)) => {
            let l = ctx.at(p);
            ctx.error(l, "a step can `poll` or `paginate`, not both");
            Mode::Once
        }
        (Some(p), None) => {
            let mut plan = compile_poll(ctx, p, &suite.settings.poll, uses);
            plan.clause = clause.cloned();
            Mode::Poll(Box::new(plan))
        }
        (None, Some(p)) => match compile_paginate(ctx, p, uses) {
            Some(mut pp) => {
                pp.clause = clause.cloned();
                extra_defined.push(pp.cursor_var.clone());
                Mode::Paginate(Box::new(pp))
            }
            None => Mode::Once,
        },
        (None, None) => Mode::Once,
    };
    let operation = step
        .operation
        .as_ref()
        .map(|o| (o.value.clone(), ctx.at(o)));
    let skip_checks = step
        .checks
        .as_ref()
        .map(|c| contract_checks(ctx, &c.skip))
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    Some(RequestStep {
        request: request?,
        operation,
        schema: step.schema.unwrap_or(true),
        skip_checks,
        auth: step.auth.unwrap_or(true),
        expect,
        clause: clause.cloned(),
        captures,
        mode,
    })
}

fn compile_request(
    ctx: &mut FileCtx<'_>,
    req: &Request,
    uses: &mut Vec<Use>,
    env_uses: &mut Vec<(String, SourceLocation)>,
) -> Option<RequestPlan> {
    let mut ok = true;
    let ploc = ctx.at(&req.path);
    if !req.path.value.starts_with('/') {
        ctx.error(
            ploc.clone(),
            format!("the path must start with `/`, got `{}`", req.path.value),
        );
        ok = false;
    }
    let path = compile_template(ctx, &req.path.value, &ploc);
    if let Some(t) = &path {
        uses_of([t], &ploc, uses);
        env_of([t], &ploc, env_uses);
    }
    let mut query = Vec::new();
    for (k, v) in req.query.iter() {
        let l = ctx.at(v);
        if let Some(t) = compile_value(ctx, &v.value, &l) {
            uses_of(t.templates(), &l, uses);
            env_of(t.templates(), &l, env_uses);
            query.push(QueryParam {
                name: k.clone(),
                value: t,
                location: l,
            });
        } else {
            ok = false;
        }
    }
    let mut headers = Vec::new();
    for (k, v) in &req.headers {
        let l = ctx.at(v);
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
            ctx.error(l.clone(), format!("`{k}` is not a valid header name"));
            ok = false;
        }
        if v.value.chars().any(|c| c.is_control() && c != '\t') {
            ctx.error(
                l.clone(),
                format!("the value of header `{k}` holds a line break or another control character: no request could carry it"),
            );
            ok = false;
        }
        if let Some(t) = compile_template(ctx, &v.value, &l) {
            uses_of([&t], &l, uses);
            env_of([&t], &l, env_uses);
            headers.push((k.clone(), t));
        } else {
            ok = false;
        }
    }
    let body = match (&req.json, &req.body) {
        (Some(_), Some(b)) => {
            let l = ctx.at(b);
            ctx.error(l, "a request has a `json` body or a raw `body`, not both");
            ok = false;
            BodyPlan::None
        }
        (Some(j), None) => {
            let l = ctx.at(j);
            match compile_value(ctx, &j.value, &l) {
                Some(t) => {
                    uses_of(t.templates(), &l, uses);
                    env_of(t.templates(), &l, env_uses);
                    BodyPlan::Json(t)
                }
                None => {
                    ok = false;
                    BodyPlan::None
                }
            }
        }
        (None, Some(b)) => {
            let l = ctx.at(b);
            match compile_template(ctx, &b.value, &l) {
                Some(t) => {
                    uses_of([&t], &l, uses);
                    env_of([&t], &l, env_uses);
                    BodyPlan::Raw(t)
                }
                None => {
                    ok = false;
                    BodyPlan::None
                }
            }
        }
        (None, None) => BodyPlan::None,
    };
    let body_location = req
        .json
        .as_ref()
        .map(|j| ctx.at(j))
        .or_else(|| req.body.as_ref().map(|b| ctx.at(b)));
    Some(RequestPlan {
        server: None,
        method: req.method,
        path: path?,
        path_location: ploc,
        body_location,
        invalid: req.invalid,
        query,
        headers,
        body,
    })
    .filter(|_| ok)
}

fn compile_expect(ctx: &mut FileCtx<'_>, e: &Expect, uses: &mut Vec<Use>) -> ExpectPlan {
    let mut plan = ExpectPlan {
        status: e.status.as_ref().map(|s| (s.value.clone(), ctx.at(s))),
        body: e.body.as_ref().map(|b| (b.value, ctx.at(b))),
        max_duration: e.max_duration.as_ref().map(|d| (d.value.0, ctx.at(d))),
        ..ExpectPlan::default()
    };
    for (name, m) in &e.headers {
        let l = ctx.at(m);
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            ctx.error(l.clone(), format!("`{name}` is not a valid header name"));
        }
        if let Some(matcher) = compile_matcher(ctx, &m.value, &l, &format!("header `{name}`")) {
            uses_of(matcher.templates(), &l, uses);
            plan.headers.push(HeaderCheck {
                name: name.to_ascii_lowercase(),
                matcher,
                location: l,
            });
        }
    }
    plan.json = compile_path_checks(ctx, &e.json);
    for c in &plan.json {
        uses_of(c.matcher.templates(), &c.location, uses);
    }
    plan
}

fn compile_capture(
    ctx: &mut FileCtx<'_>,
    var: &str,
    spec: &CaptureSpec,
    loc: SourceLocation,
) -> Option<CapturePlan> {
    let full = match spec {
        CaptureSpec::Path(p) => CaptureFull {
            json: Some(p.clone()),
            header: None,
            secret: false,
            optional: false,
            convert: None,
        },
        CaptureSpec::Full(f) => f.clone(),
    };
    let source = match (&full.json, &full.header) {
        (Some(p), None) => CaptureSource::Json(compile_path(ctx, p, &loc)?),
        (None, Some(h)) => {
            if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                ctx.error(loc.clone(), format!("`{h}` is not a valid header name"));
                return None;
            }
            CaptureSource::Header(h.to_ascii_lowercase())
        }
        _ => {
            ctx.error(
                loc,
                format!("capture `{var}` needs exactly one of `json` (a JSONPath) or `header`"),
            );
            return None;
        }
    };
    Some(CapturePlan {
        var: var.to_owned(),
        source,
        secret: full.secret,
        optional: full.optional,
        convert: full.convert,
        location: loc,
    })
}

fn compile_poll(
    ctx: &mut FileCtx<'_>,
    p: &Located<Poll>,
    base: &PollPolicy,
    uses: &mut Vec<Use>,
) -> PollPlan {
    let loc = ctx.at(p);
    let poll = &p.value;
    if poll.until.is_empty() {
        ctx.error(
            loc.clone(),
            "a `poll` needs an `until` condition (without one it could only end at its deadline)",
        );
    }
    let settings = PollSettings {
        interval: poll.interval,
        backoff: poll.backoff,
        max_interval: poll.max_interval,
        timeout: poll.timeout,
        max_attempts: poll.max_attempts,
    };
    let policy = compile_poll_settings(ctx, &settings, base, loc.clone());
    let until = compile_path_checks(ctx, &poll.until);
    let fail_if = compile_path_checks(ctx, &poll.fail_if);
    for c in until.iter().chain(&fail_if) {
        uses_of(c.matcher.templates(), &c.location, uses);
    }
    PollPlan {
        clause: None,
        policy,
        until,
        fail_if,
        location: loc,
    }
}

fn compile_paginate(
    ctx: &mut FileCtx<'_>,
    p: &Located<Paginate>,
    uses: &mut Vec<Use>,
) -> Option<PaginatePlan> {
    let loc = ctx.at(p);
    let pg = &p.value;
    let mut cursor = pg.cursor.iter();
    let (Some((var, path)), None) = (cursor.next(), cursor.next()) else {
        ctx.error(
            loc,
            "`paginate.cursor` names exactly one variable and the JSONPath of its next value",
        );
        return None;
    };
    let ploc = ctx.at(path);
    check_var_name(ctx, var, &ploc);
    let cursor_path = compile_path(ctx, &path.value, &ploc);
    if pg.while_.is_empty() {
        ctx.error(loc.clone(), "`paginate.while` needs at least one condition");
    }
    let while_ = compile_path_checks(ctx, &pg.while_);
    for c in &while_ {
        uses_of(c.matcher.templates(), &c.location, uses);
    }
    let mut collect = Vec::new();
    for (v, path) in &pg.collect {
        let l = ctx.at(path);
        check_var_name(ctx, v, &l);
        if let Some(p) = compile_path(ctx, &path.value, &l) {
            collect.push((v.clone(), p));
        }
    }
    if pg.max_pages == Some(0) {
        ctx.error(loc.clone(), "`paginate.max_pages` must be at least 1");
    }
    Some(PaginatePlan {
        clause: None,
        cursor_var: var.clone(),
        cursor_path: cursor_path?,
        start: pg.start.clone().unwrap_or(Value::String(String::new())),
        while_,
        collect,
        max_pages: pg.max_pages.unwrap_or(1000),
        location: loc,
    })
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
    fn clauses_resolve_with_their_level_and_blocks_keep_their_own() {
        let suite = bundled();
        assert_eq!(suite.registry.clauses().len(), 23);
        let p2 = suite.registry.get("P2").unwrap();
        assert_eq!(p2.level, Level::Precondition);
        let guards: Vec<&str> = p2.guards.iter().map(|g| &**g).collect();
        assert_eq!(guards, ["D2", "D3", "D4"]);
        assert!(suite.unexercised_clauses().is_empty());
        assert_eq!(suite.sha256.len(), 64);
        // Every check of the bundled suite names its clause: each step does.
        for sc in &suite.scenarios {
            for step in sc.steps.iter().chain(&sc.finally) {
                assert!(step.clause.is_some(), "{} / {}", sc.id, step.name);
            }
        }
        let flagship = &suite.scenarios[0];
        let declared: Vec<&str> = flagship.clauses.iter().map(|c| &*c.id).collect();
        assert_eq!(declared, ["D5", "A2", "A3"]);
        // The in-progress check: a precondition step whose first block names D1.
        let step = &flagship.steps[1];
        assert_eq!(
            step.clause.as_ref().map(|c| c.level),
            Some(Level::Precondition)
        );
        let ids: Vec<&str> = step.clauses.iter().map(|c| &*c.id).collect();
        assert_eq!(ids, ["P2", "D1"]);
        let Action::Request(rs) = &step.action else {
            panic!("a request step")
        };
        let blocks: Vec<Option<&str>> = rs
            .expect
            .iter()
            .map(|e| e.clause.as_ref().map(|c| &*c.id))
            .collect();
        assert_eq!(blocks, [Some("D1"), Some("P2")]);
        assert_eq!(rs.expect[0].status.as_ref().unwrap().1.line, 38);
        assert_eq!(rs.expect[1].json[0].location.line, 40);
        // A poll checks its step's clause.
        let Action::Request(poll) = &flagship.steps[3].action else {
            panic!("a request step")
        };
        let Mode::Poll(plan) = &poll.mode else {
            panic!("a poll")
        };
        assert_eq!(plan.clause.as_ref().map(|c| &*c.id), Some("D3"));
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
    fn files_parsed_in_parallel_keep_their_order_and_their_problems() {
        // Three batches' worth of files, each batch split between threads:
        // scenarios, problems and the "already used" check all follow file
        // order, whichever thread parsed which file.
        let dir = tempfile::tempdir().unwrap();
        let cases = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
        for f in ["conform.yaml", "openapi.yaml"] {
            std::fs::copy(cases.join(f), dir.path().join(f)).unwrap();
        }
        let flagship =
            std::fs::read_to_string(cases.join("01_cancel_then_poll_unknown.yaml")).unwrap();
        let n = 2 * LOAD_BATCH + 10;
        let (broken, bad_path, twin) = (7, LOAD_BATCH - 2, 2 * LOAD_BATCH + 5);
        for i in 0..n {
            let name = match i {
                _ if i == twin => "copy 00001".to_owned(),
                _ => format!("copy {i:05}"),
            };
            let mut text = flagship.replace(
                "name: cancel makes the result unknown",
                &format!("name: {name}"),
            );
            if i == broken {
                text = text.replace("status: 200", "status: [200");
            }
            if i == bad_path {
                text = text.replace("$.query_result_id:", "$.query_result_id[:");
            }
            std::fs::write(dir.path().join(format!("g{i:05}.yaml")), text).unwrap();
        }
        let problems = load_suite(dir.path()).unwrap_err().0;
        let files: Vec<String> = problems
            .iter()
            .map(|d| d.location.file.to_string())
            .collect();
        let expected: Vec<String> = [broken, bad_path, twin]
            .iter()
            .map(|i| display_path(&dir.path().join(format!("g{i:05}.yaml"))))
            .collect();
        assert_eq!(files, expected, "{problems:#?}");
        assert!(
            problems[2].message.contains("already used by")
                && problems[2].message.contains("g00001.yaml"),
            "{}",
            problems[2].message
        );

        std::fs::write(
            dir.path().join(format!("g{broken:05}.yaml")),
            flagship.replace("name: cancel makes the result unknown", "name: fixed"),
        )
        .unwrap();
        for i in [bad_path, twin] {
            std::fs::remove_file(dir.path().join(format!("g{i:05}.yaml"))).unwrap();
        }
        let suite = load_suite(dir.path()).unwrap();
        let ids: Vec<&str> = suite.scenarios.iter().map(|s| &*s.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids.len(), n - 2);
        assert_eq!(ids, sorted, "scenarios come in file order");
        assert_eq!(ids[broken], format!("g{broken:05}::fixed"));
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
