//! Reading, parsing, compiling and checking scenario files on every core.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use super::compile::{FileCtx, compile_scenario};
use super::files::read;
use super::model::ScenarioFile;
use super::plan::{Scenario, Suite};
use crate::diag::{Diagnostic, Diagnostics, SourceLocation, display_path};
use crate::yaml;

/// Scenario files are loaded at once, on every core: read, parsed,
/// compiled and checked (against the contract, by `conform lint` and
/// `conform run`), each file on its own. What ties files together (the
/// suite's hash, unique names, which plans are kept) follows on the calling
/// thread in file order, batch after batch (while the next batch loads),
/// so that at most twice this many loaded files wait at a time.
pub(super) const LOAD_BATCH: usize = 128;

/// A scenario file's text and parsed form, or why it has none.
pub(super) fn parse_file(path: &Path) -> Result<(Arc<str>, ScenarioFile), Diagnostic> {
    let source = read(path)?;
    let parsed = yaml::parse::<ScenarioFile>(path, &source)?;
    Ok((source, parsed))
}

/// What a check of a compiled scenario finds (its text beside it, for
/// excerpts); called on any thread.
pub(super) type Check<'a> = &'a (dyn Fn(&Scenario, &Arc<str>) -> Vec<Diagnostic> + Sync);

/// One scenario file, loaded.
pub(super) struct Loaded {
    pub(super) source: Arc<str>,
    /// The problems compiling it found, in the order found.
    pub(super) problems: Diagnostics,
    /// Its plan and the environment variables it reads, when it compiled.
    pub(super) plan: Option<(Scenario, Vec<(String, SourceLocation)>)>,
    /// What the check found in the plan: they count only for a scenario
    /// whose name no earlier file took, which only file order tells.
    pub(super) checked: Vec<Diagnostic>,
}

/// One scenario file loaded, or why it could not be read or parsed.
pub(super) type LoadedFile = Result<Loaded, Diagnostic>;

/// What loading a file takes: the suite's settings (variables, clauses,
/// the shared regexes and JSONPaths) and the check of each plan.
pub(super) struct Job<'a> {
    pub(super) suite: &'a Suite,
    pub(super) check: Check<'a>,
}

impl Job<'_> {
    fn load(&self, path: &Path) -> LoadedFile {
        let (source, parsed) = parse_file(path)?;
        let mut problems = Diagnostics::default();
        let mut ctx = FileCtx {
            file: display_path(path).into(),
            source: source.clone(),
            diags: &mut problems,
            intern: &self.suite.intern,
        };
        let plan = compile_scenario(&mut ctx, path, parsed, self.suite);
        let checked = match &plan {
            Some((sc, _)) => (self.check)(sc, &source),
            None => Vec::new(),
        };
        Ok(Loaded {
            source,
            problems,
            plan,
            checked,
        })
    }
}

/// Threads that load scenario files beside the calling thread, for the
/// whole of a suite's loading (one per further core). Each batch is shared
/// out file by file: every thread, the calling one too, takes the next file
/// not yet taken until none is left, so that a thread the system runs less
/// (or the calling thread, which also did the suite's setup) loads fewer;
/// the results come back in file order.
pub(super) struct Helpers<'env> {
    job: &'env Job<'env>,
    shared: &'env Shared,
    workers: Vec<Helper<'env>>,
}

/// A batch being loaded: the index of the next file to take, and a slot
/// per file for what loading it gave.
pub(super) struct Shared {
    next: AtomicUsize,
    slots: Vec<Mutex<Option<LoadedFile>>>,
}

impl Shared {
    pub(super) fn new() -> Self {
        Shared {
            next: AtomicUsize::new(0),
            slots: (0..LOAD_BATCH).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Takes and loads the batch's files until none is left.
    fn work(&self, job: &Job<'_>, batch: &[PathBuf]) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let (Some(path), Some(slot)) = (batch.get(i), self.slots.get(i)) else {
                return;
            };
            let loaded = job.load(path);
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(loaded);
        }
    }
}

/// One helper: where batches go, and where it says it is done with one.
type Helper<'env> = (Sender<&'env [PathBuf]>, Receiver<()>);

impl<'env> Helpers<'env> {
    /// Starts the helpers for `files` files: one per further core, no more
    /// than there are further files, and as many as can be started.
    pub(super) fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        files: usize,
        job: &'env Job<'env>,
        shared: &'env Shared,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let workers = (1..cores.min(files))
            .map_while(|_| {
                let (jobs, job_rx) = mpsc::channel::<&'env [PathBuf]>();
                let (done_tx, done) = mpsc::channel();
                std::thread::Builder::new()
                    .name("conform-load".into())
                    .spawn_scoped(scope, move || {
                        for batch in job_rx {
                            shared.work(job, batch);
                            if done_tx.send(()).is_err() {
                                break;
                            }
                        }
                    })
                    .ok()?;
                Some((jobs, done))
            })
            .collect();
        Helpers {
            job,
            shared,
            workers,
        }
    }

    /// Hands out `batch` (at most [`LOAD_BATCH`] files): the helpers start
    /// on it at once. [`Helpers::finish`] joins in and gives the result, so
    /// that the helpers load a batch while this thread does the ordered
    /// work of the one before.
    pub(super) fn hand_out(&self, batch: &'env [PathBuf]) -> Started {
        self.shared.next.store(0, Ordering::Relaxed);
        Started(
            self.workers
                .iter()
                .enumerate()
                .filter_map(|(i, (jobs, _))| jobs.send(batch).ok().map(|()| i))
                .collect(),
        )
    }

    /// Every file of the `batch` just started, loaded, in its order.
    pub(super) fn finish(&self, batch: &'env [PathBuf], started: Started) -> Vec<LoadedFile> {
        self.shared.work(self.job, batch);
        for i in started.0 {
            // A helper that is gone (it panicked, and the scope will say
            // so) may leave a file it took: this thread loads it below.
            let _ = self.workers[i].1.recv();
        }
        batch
            .iter()
            .zip(&self.shared.slots)
            .map(|(path, slot)| {
                let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                taken.unwrap_or_else(|| self.job.load(path))
            })
            .collect()
    }
}

/// The helpers a batch was handed to (see [`Helpers::hand_out`]).
#[must_use]
pub(super) struct Started(Vec<usize>);

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::LOAD_BATCH;
    use crate::case::load_suite;
    use crate::diag::display_path;

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
}
