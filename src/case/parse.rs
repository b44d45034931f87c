//! Reading and parsing scenario files on every core.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

use super::files::read;
use super::model::ScenarioFile;
use crate::diag::Diagnostic;
use crate::yaml;

/// Scenario files are read and parsed at once, on every core: reading the
/// YAML is most of the time loading takes (some 66 µs for a flagship file)
/// and files are independent. Compiling, and what ties files together
/// (unique names, the contract check, which plans are kept), follows on the
/// calling thread in file order, batch after batch, so that at most this
/// many parsed files wait at a time. Plans are compiled on the thread that
/// keeps them or drops them (the deferred ones), so that what outlives the
/// load was allocated where the run will free it.
pub(super) const LOAD_BATCH: usize = 128;

/// One scenario file's text and parsed form, or why it has none.
pub(super) type ParsedFile = Result<(Arc<str>, ScenarioFile), Diagnostic>;

pub(super) fn parse_file(path: &Path) -> ParsedFile {
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
pub(super) struct Helpers<'env> {
    workers: Vec<Helper<'env>>,
}

/// One helper: where its shares go, and where their parsed files come back.
type Helper<'env> = (Sender<&'env [PathBuf]>, Receiver<Vec<ParsedFile>>);

impl<'env> Helpers<'env> {
    /// Starts the helpers for `files` files: one per further core, no more
    /// than there are further files, and as many as can be started.
    pub(super) fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        files: usize,
    ) -> Self {
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
    pub(super) fn parse(&self, batch: &'env [PathBuf]) -> Vec<ParsedFile> {
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
