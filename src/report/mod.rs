//! Reports: projections of the one result model.
//!
//! Each opens with the run's verdict, computed from the model as it is
//! (`verdict::Verdict::of`), so a report of an edited or merged result
//! never shows a stale one; `report.json` also keeps it for its readers.
//!
//! A run writes, into its reports folder: `junit.xml`, `report.html`,
//! `summary.md`, `failures.har` (the exchanges the model keeps, as an HTTP
//! Archive) and `report.json` (the model itself); each through a
//! temporary file (`.NAME.PID.tmp`) renamed into place, so a reader never
//! sees half a report. The files are written at once, each on a thread of
//! its own ([`write_all`]); `report.json` is renamed into place only once
//! every other file is.
//!
//! Reports are not synced to disk (no `fsync`): the renames order the set
//! for every reader on the machine however the run ends, which is what the
//! protocol below is for; a sync would only carry it across the machine
//! itself going down just after the run, which loses the run anyway (a CI
//! job is run again). It cost a one-scenario run some 2 ms on an idle
//! machine and 20–40 ms on a busy one, more than the rest of the run. Such
//! a crash can leave files empty or cut; a `report.json` so left is refused
//! by every reader, by name.
//!
//! The files of one run are one set, and a reader can tell a complete one:
//!
//! - Every run (and every `merge`) has a run id (`RunResult::run_id`), which
//!   every file of its set carries: report.json's `run_id`, a JUnit
//!   `<property name="run_id">`, the HTML page's `conform-run-id` meta tag
//!   and provenance row, summary.md's provenance line, the HAR log's
//!   `_runId` and comment.
//! - The previous `report.json` is removed first and the new one written
//!   last ([`WRITE_ORDER`]; an extra `--junit` file just before it): a
//!   `report.json` present means the set is complete, and the other files
//!   carry its run id. Files without it, or with another run id, are left
//!   from a run that did not finish.
//! - A run holds the folder's lock ([`FolderLock`], on `.conform.lock`,
//!   which is no report and stays) from before it sends anything until its
//!   reports are written: a second run into the same folder is refused
//!   meanwhile. Holding it, the run removes the temporary files a killed
//!   run left ([`remove_stale_temporaries`]).
//! - The whole request bodies that failing steps' curl lines send are in
//!   `bodies/` ([`bodies`]): written into temporaries as the steps fail,
//!   and put in place when the set is written, after the previous
//!   `report.json` is removed and before the new reports, the previous
//!   set's body files removed.
//!
//! A report path that is a symbolic link is written through: the link stays,
//! its target is replaced (renamed into place where the target is). A
//! character device or a FIFO (`--junit /dev/stdout`, a named pipe) is
//! opened and written directly, never replaced; a folder, a block device or
//! a socket is refused.
//!
//! What a server wrote arrives in the model printable (`crate::printable`):
//! no report carries a raw control character, escape sequence or bidi
//! override, and one-line fields are one line in every report.

pub mod bodies;
pub mod har;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod regression;
pub mod text;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The files of a reports folder, in the order they are written:
/// `report.json` last, so that one present means the set is complete.
pub const WRITE_ORDER: [&str; 5] = [
    "junit.xml",
    "report.html",
    "summary.md",
    "failures.har",
    "report.json",
];

/// The reports folder's lock file: not a report; it stays after the run.
pub const LOCK_FILE: &str = ".conform.lock";

/// The stem of the probe file [`check_writable`] creates and removes.
const PROBE: &str = "conform-probe";

/// Where a write goes, symbolic links followed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A regular file, or no file yet: replaced through a temporary file in
    /// its folder, renamed into place.
    Replace(PathBuf),
    /// A character device or a FIFO: opened and written directly.
    Direct(PathBuf),
}

/// Symbolic links followed at most (the system's own limit).
const MAX_LINKS: usize = 40;

/// Follows `path` through symbolic links to what a write to it replaces or
/// writes into: an existing regular file at the end of its links, where a
/// dangling link points, or the device or FIFO the path opens (links such
/// as `/dev/stdout` included, whose targets under `/proc` are no paths).
fn target(path: &Path) -> io::Result<Target> {
    use std::os::unix::fs::FileTypeExt;
    let kind = match std::fs::metadata(path) {
        Ok(m) => m.file_type(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return dangling(path),
        Err(e) => return Err(e),
    };
    if kind.is_file() {
        let linked = std::fs::symlink_metadata(path)?.file_type().is_symlink();
        Ok(Target::Replace(if linked {
            std::fs::canonicalize(path)?
        } else {
            path.to_path_buf()
        }))
    } else if kind.is_char_device() || kind.is_fifo() {
        Ok(Target::Direct(path.to_path_buf()))
    } else if kind.is_dir() {
        Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a folder; give a file",
        ))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a block device or a socket; give a regular file, a FIFO or a character device",
        ))
    }
}

/// Where a missing file, or a chain of links to nothing, is to be created.
fn dangling(path: &Path) -> io::Result<Target> {
    let mut at = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&at)?;
                // A relative link is relative to its own folder.
                at = match at.parent() {
                    Some(dir) => dir.join(to),
                    None => to,
                };
            }
            // Made meanwhile: what it is decides.
            Ok(_) => return target(&at),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Target::Replace(at)),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

/// The folder of `path` (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes a file atomically: a temporary file in the same folder, renamed into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams a file atomically: `fill` writes into a buffered temporary file
/// in the same folder, which is renamed into place when `fill` succeeds.
/// (Through symbolic links, into devices and FIFOs: see [`write_atomic_via`].)
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic_via(path, |file| fill_file(file, fill))
}

/// Creates `file` and fills it through a buffer.
fn fill_file(file: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut f = io::BufWriter::new(File::create(file)?);
    fill(&mut f)?;
    f.flush()
}

/// Writes a file atomically through `write`, which creates (`File::create`)
/// and fills the file it is given: a temporary file in the folder of the
/// file `path` stands for (symbolic links followed), renamed into place
/// when `write` succeeds and removed when it fails. When `path` is (or links
/// to) a character device or a FIFO, `write` is given that file itself,
/// which is written directly: never replaced. A folder, a block device or a
/// socket is refused. Nothing is synced to disk (see the module
/// documentation).
pub fn write_atomic_via(
    path: &Path,
    write: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let at = match target(path)? {
        Target::Direct(device) => return write(&device),
        Target::Replace(at) => at,
    };
    stage(at, write)?.commit()
}

/// A file written into its temporary file, to be renamed into place by
/// [`Staged::commit`]; the temporary file is removed if it never is.
struct Staged {
    tmp: PathBuf,
    at: PathBuf,
    committed: bool,
}

impl Staged {
    /// Renames the file into place.
    fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.tmp, &self.at)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes the temporary file for the regular file `at` (its folder made if
/// missing) through `write`; removed again when `write` fails.
fn stage(at: PathBuf, write: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<Staged> {
    let dir = folder_of(&at);
    std::fs::create_dir_all(dir)?;
    let name = at
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staged = Staged {
        tmp: dir.join(temporary_name(&name)),
        at,
        committed: false,
    };
    write(&staged.tmp)?;
    Ok(staged)
}

/// The temporary file this process writes `name` through: `.NAME.PID.tmp`.
fn temporary_name(name: &str) -> String {
    format!(".{name}.{}.tmp", std::process::id())
}

/// Whether `name` is a temporary file conform itself makes in a reports
/// folder: `.NAME.PID.tmp` for a report of [`WRITE_ORDER`] or the probe.
fn is_own_temporary(name: &str) -> bool {
    let Some((stem, pid)) = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .and_then(|n| n.rsplit_once('.'))
    else {
        return false;
    };
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && (WRITE_ORDER.contains(&stem) || stem == PROBE)
}

/// Removes the temporary files a run killed while writing left in the
/// reports folder `dir`: regular files named as conform names its own
/// (`.report.json.PID.tmp`, `.junit.xml.PID.tmp`, `.report.html.PID.tmp`,
/// `.summary.md.PID.tmp`, `.failures.har.PID.tmp`,
/// `.conform-probe.PID.tmp`, and in `bodies/` `.NAME.PID.tmp` for a body
/// file name), nothing else. Call it holding the folder's lock
/// ([`FolderLock::take`] does), so that no live run owns them. Returns the
/// files removed; what cannot be removed stays.
pub fn remove_stale_temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut removed = bodies::remove_stale_temporaries(dir);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let own = name.to_str().is_some_and(is_own_temporary);
        if own
            && entry.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}

/// Whether a file can be written in `dir` (created if missing): a probe file
/// is created and removed, so an unusable reports folder (a regular file,
/// read-only, no space) is found before a run sends anything.
pub fn check_writable(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(temporary_name(PROBE));
    std::fs::write(&probe, b"probe")?;
    std::fs::remove_file(&probe)
}

/// Whether the report file `path` can be written, before a run sends
/// anything: a character device or a FIFO (symbolic links followed) must be
/// writable; for a regular or missing file its folder is probed
/// ([`check_writable`]); a folder, a block device or a socket is refused.
pub fn check_file_writable(path: &Path) -> io::Result<()> {
    match target(path)? {
        Target::Replace(at) => check_writable(folder_of(&at)),
        Target::Direct(device) => {
            use std::os::unix::ffi::OsStrExt;
            let c = std::ffi::CString::new(device.as_os_str().as_bytes())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            // SAFETY: `c` is a valid NUL-terminated string for the call.
            if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        }
    }
}

/// A reports folder's lock, held while a run writes into it: taken before
/// the run sends anything, released when dropped (and by the system when
/// the process ends, however it ends). An advisory lock (`flock`) on
/// [`LOCK_FILE`] in the folder; the file itself stays.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

/// Why a reports folder's lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error(
        "another conform run is writing reports into {0}: wait for it to end, or write the reports elsewhere"
    )]
    Busy(String),
    /// The folder or its lock file cannot be created or opened.
    #[error("cannot write reports to {dir}: {source}")]
    Io {
        dir: String,
        #[source]
        source: io::Error,
    },
}

impl FolderLock {
    /// Takes the lock of the reports folder `dir` (created if missing),
    /// without waiting, then removes the temporary files a killed run left
    /// there ([`remove_stale_temporaries`]).
    pub fn take(dir: &Path) -> Result<FolderLock, LockError> {
        let failed = |source| LockError::Io {
            dir: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(failed)?;
        let path = dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            // Another user's lock file: a lock on a read-only handle is as good.
            .or_else(|_| File::open(&path))
            .map_err(failed)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LockError::Busy(dir.display().to_string()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
        }
        remove_stale_temporaries(dir);
        Ok(FolderLock { _file: file })
    }
}

/// Where and how reports are written.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The reports folder.
    pub dir: std::path::PathBuf,
    /// One more path for `junit.xml`, for CI systems that want one.
    pub junit: Option<std::path::PathBuf>,
    /// `file` and `line` attributes on JUnit test cases.
    pub junit_file_line: bool,
    /// summary.md lists every operation of the contract in its coverage
    /// (folded), not only those the run touched.
    pub coverage_table: bool,
}

impl ReportOptions {
    /// The reports in `dir`, with no extra JUnit file and the defaults.
    pub fn in_dir(dir: impl Into<std::path::PathBuf>) -> ReportOptions {
        ReportOptions {
            dir: dir.into(),
            ..ReportOptions::default()
        }
    }
}

/// One file of a set of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Junit,
    Html,
    Markdown,
    Har,
    Json,
}

impl Format {
    fn of(name: &str) -> Format {
        match name {
            "junit.xml" => Format::Junit,
            "report.html" => Format::Html,
            "summary.md" => Format::Markdown,
            "failures.har" => Format::Har,
            _ => Format::Json,
        }
    }
}

/// The files [`write_all`] writes, in order: [`WRITE_ORDER`] in the reports
/// folder, the extra JUnit file just before `report.json`.
fn plan(opts: &ReportOptions) -> Vec<(PathBuf, Format)> {
    let mut files = Vec::new();
    for name in WRITE_ORDER {
        let format = Format::of(name);
        if format == Format::Json
            && let Some(extra) = &opts.junit
        {
            files.push((extra.clone(), Format::Junit));
        }
        files.push((opts.dir.join(name), format));
    }
    files
}

/// `path` in an error about it.
fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
}

/// Writes one file of the set, atomically.
fn write_one(
    result: &crate::model::RunResult,
    opts: &ReportOptions,
    path: &Path,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Junit => junit::write(
            result,
            &junit::JunitOptions {
                file_line: opts.junit_file_line,
            },
            path,
        ),
        Format::Html => html::write(result, path),
        Format::Markdown => markdown::write(
            result,
            &markdown::MarkdownOptions {
                coverage_table: opts.coverage_table,
            },
            path,
        ),
        Format::Har => har::write(result, path),
        Format::Json => json::write(result, path),
    }
    .map_err(|e| named(path, e))
}

/// Writes every format, and no body file (the previous set's are removed):
/// [`write_set`] without bodies.
pub fn write_all(
    result: &crate::model::RunResult,
    opts: &ReportOptions,
) -> io::Result<Vec<PathBuf>> {
    write_set(result, opts, &[]).map(|set| set.reports)
}

/// What [`write_set`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// The reports, in the order of [`plan`].
    pub reports: Vec<PathBuf>,
    /// The body files put in `bodies/`.
    pub bodies: Vec<PathBuf>,
}

/// Writes a set: the body files its curl lines send ([`bodies::place`]),
/// then every format. The previous `report.json` goes first and the new one
/// is renamed into place last, once every other file is, so that a
/// `report.json` present means the whole set was written (see the module
/// documentation); a file that fails leaves no `report.json`, and the
/// first such file in the order of [`plan`] is the error.
///
/// The reports are written at once, each on a thread of its own, and
/// `report.json` into its temporary file meanwhile: rendering is most of
/// what writing the set costs, and the formats share nothing but the
/// result they read. Unless two of them are one file (through links, or
/// `--junit` naming a file of the folder) or one is a device or a FIFO:
/// then they are written one after the other, in that order, as a later
/// one replaces an earlier one.
pub fn write_set(
    result: &crate::model::RunResult,
    opts: &ReportOptions,
    body_files: &[bodies::BodyFile],
) -> io::Result<Written> {
    let files = plan(opts);
    let Some(((json, _), others)) = files.split_last() else {
        return Ok(Written::default());
    };
    let json_target = distinct_files(&files).and_then(|mut at| at.pop());
    // Through a link: the file it points to. A device or a FIFO stays.
    let old = match &json_target {
        Some(at) => Some(at.clone()),
        None => match target(json) {
            Ok(Target::Replace(at)) => Some(at),
            _ => None,
        },
    };
    if let Some(old) = old {
        match std::fs::remove_file(old) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(named(json, e)),
            _ => {}
        }
    }
    let placed = bodies::place(&opts.dir, body_files)?;
    let written = |reports| Written {
        reports,
        bodies: placed.clone(),
    };
    let Some(json_at) = json_target else {
        for (path, format) in &files {
            write_one(result, opts, path, *format)?;
        }
        return Ok(written(files.into_iter().map(|(path, _)| path).collect()));
    };
    std::thread::scope(|scope| {
        let writers: Vec<_> = others
            .iter()
            .map(|(path, format)| {
                let thread = std::thread::Builder::new().name("conform-report".into());
                let spawned =
                    thread.spawn_scoped(scope, move || write_one(result, opts, path, *format));
                (path, *format, spawned)
            })
            .collect();
        let staged = stage(json_at, |file| {
            fill_file(file, |w| json::write_to(result, w))
        });
        let mut failed = None;
        for (path, format, spawned) in writers {
            // No thread to spare: the file is written here.
            let done = match spawned {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => write_one(result, opts, path, format),
            };
            if let Err(e) = done {
                failed.get_or_insert(e);
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        staged
            .and_then(Staged::commit)
            .map_err(|e| named(json, e))?;
        Ok(written(
            files.iter().map(|(path, _)| path.clone()).collect(),
        ))
    })
}

/// Where each of `files` is replaced (symbolic links followed), when each
/// is a regular file or none yet, and no two are one file; `None` when two
/// are, or one is a device or a FIFO or cannot be told.
fn distinct_files(files: &[(PathBuf, Format)]) -> Option<Vec<PathBuf>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(files.len());
    for (path, _) in files {
        let Target::Replace(at) = target(path).ok()? else {
            return None;
        };
        let folder = std::fs::canonicalize(folder_of(&at)).ok()?;
        if !seen.insert(folder.join(at.file_name()?)) {
            return None;
        }
        out.push(at);
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fixture(name: &str) -> crate::model::RunResult {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/reports")
            .join(name);
        json::read(&path).expect("the fixture reads")
    }

    /// The names of the entries of `dir`, sorted.
    pub(crate) fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn links_are_followed_to_what_a_write_replaces_or_writes_into() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("file"), "x").unwrap();
        symlink(d.join("file"), d.join("abs")).unwrap();
        symlink("file", d.join("rel")).unwrap();
        symlink("rel", d.join("chain")).unwrap();
        symlink("sub/missing", d.join("dangling")).unwrap();
        symlink("/dev/null", d.join("null")).unwrap();
        symlink("loop", d.join("loop")).unwrap();
        std::fs::create_dir(d.join("folder")).unwrap();
        let file = std::fs::canonicalize(d.join("file")).unwrap();
        for link in ["abs", "rel", "chain"] {
            assert_eq!(
                target(&d.join(link)).unwrap(),
                Target::Replace(file.clone()),
                "{link}"
            );
        }
        assert_eq!(
            target(&d.join("dangling")).unwrap(),
            Target::Replace(d.join("sub/missing"))
        );
        assert_eq!(
            target(&d.join("none")).unwrap(),
            Target::Replace(d.join("none"))
        );
        assert_eq!(
            target(&d.join("null")).unwrap(),
            Target::Direct(d.join("null"))
        );
        assert_eq!(
            target(Path::new("/dev/full")).unwrap(),
            Target::Direct("/dev/full".into())
        );
        let e = target(&d.join("folder")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::IsADirectory, "{e}");
        let e = target(&d.join("loop")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{e}");
    }

    #[test]
    fn a_write_through_a_link_replaces_its_target_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("elsewhere")).unwrap();
        std::fs::write(d.join("elsewhere/real.xml"), "old").unwrap();
        std::os::unix::fs::symlink("elsewhere/real.xml", d.join("link.xml")).unwrap();
        write_atomic(&d.join("link.xml"), b"new").unwrap();
        assert!(d.join("link.xml").symlink_metadata().unwrap().is_symlink());
        assert_eq!(
            std::fs::read_to_string(d.join("elsewhere/real.xml")).unwrap(),
            "new"
        );
        // The temporary file was in the target's folder, and is gone.
        assert_eq!(names(&d.join("elsewhere")), ["real.xml"]);
        assert_eq!(names(d), ["elsewhere", "link.xml"]);
        // A dangling link: its target is created.
        std::os::unix::fs::symlink("later/made.xml", d.join("dangling.xml")).unwrap();
        write_atomic(&d.join("dangling.xml"), b"made").unwrap();
        assert!(
            d.join("dangling.xml")
                .symlink_metadata()
                .unwrap()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(d.join("later/made.xml")).unwrap(),
            "made"
        );
    }

    #[test]
    fn a_character_device_is_written_into_never_replaced() {
        write_atomic(Path::new("/dev/null"), b"gone").unwrap();
        html::write(&fixture("passing.json"), Path::new("/dev/null")).unwrap();
        let e = write_atomic(Path::new("/dev/full"), b"no room").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
        use std::os::unix::fs::FileTypeExt;
        for dev in ["/dev/null", "/dev/full"] {
            let kind = std::fs::symlink_metadata(dev).unwrap().file_type();
            assert!(kind.is_char_device(), "{dev} is still a device");
        }
        check_file_writable(Path::new("/dev/null")).unwrap();
    }

    #[test]
    fn a_descriptor_link_like_dev_stdout_is_written_into() {
        use std::io::Read;
        use std::os::fd::{FromRawFd, OwnedFd};
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors were just opened and are owned here.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let path = PathBuf::from(format!("/proc/self/fd/{}", fds[1]));
        assert_eq!(target(&path).unwrap(), Target::Direct(path.clone()));
        write_atomic(&path, b"through the pipe").unwrap();
        drop(write);
        let mut got = String::new();
        File::from(read).read_to_string(&mut got).unwrap();
        assert_eq!(got, "through the pipe");
    }

    #[test]
    fn only_conforms_own_temporaries_are_stale() {
        for own in [
            ".junit.xml.99999999.tmp",
            ".report.json.1.tmp",
            ".report.html.42.tmp",
            ".summary.md.7.tmp",
            ".failures.har.3.tmp",
            ".conform-probe.12345.tmp",
        ] {
            assert!(is_own_temporary(own), "{own}");
        }
        for other in [
            ".junit.xml.notes",
            ".junit.xml..tmp",
            ".junit.xml.12a.tmp",
            "junit.xml.1.tmp",
            ".other.xml.1.tmp",
            ".junit.xml.1.tmp.bak",
            ".conform.lock",
            ".tmp",
            "",
        ] {
            assert!(!is_own_temporary(other), "{other}");
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            ".junit.xml.99999999.tmp",
            ".report.json.1.tmp",
            ".junit.xml.notes",
            "keep.txt",
        ] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        std::fs::create_dir(d.join(".summary.md.5.tmp")).unwrap();
        let mut removed = remove_stale_temporaries(d);
        removed.sort();
        assert_eq!(
            removed,
            [
                d.join(".junit.xml.99999999.tmp"),
                d.join(".report.json.1.tmp")
            ]
        );
        assert_eq!(
            names(d),
            [".junit.xml.notes", ".summary.md.5.tmp", "keep.txt"]
        );
    }

    #[test]
    fn report_json_is_written_last_and_the_extra_junit_file_just_before() {
        assert_eq!(WRITE_ORDER.last(), Some(&"report.json"));
        let dir = tempfile::tempdir().unwrap();
        let opts = ReportOptions {
            dir: dir.path().join("reports"),
            junit: Some(dir.path().join("extra.xml")),
            ..ReportOptions::default()
        };
        let order: Vec<PathBuf> = plan(&opts).into_iter().map(|(p, _)| p).collect();
        let in_dir = |n: &str| opts.dir.join(n);
        assert_eq!(
            order,
            [
                in_dir("junit.xml"),
                in_dir("report.html"),
                in_dir("summary.md"),
                in_dir("failures.har"),
                dir.path().join("extra.xml"),
                in_dir("report.json"),
            ]
        );
        let mut r = fixture("passing.json");
        r.run_id = crate::model::new_run_id(std::time::SystemTime::now());
        let written = write_all(&r, &opts).unwrap();
        assert_eq!(written, order, "written in the planned order");
        for p in &written {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(
                text.contains(&r.run_id),
                "{} carries the run id",
                p.display()
            );
        }
        assert_eq!(json::read(&in_dir("report.json")).unwrap().run_id, r.run_id);
    }

    #[test]
    fn files_of_the_set_that_are_one_file_are_written_one_after_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let with_junit = |junit: &str| ReportOptions {
            dir: d.to_path_buf(),
            junit: Some(d.join(junit)),
            ..ReportOptions::default()
        };
        assert!(distinct_files(&plan(&with_junit("extra.xml"))).is_some());
        std::os::unix::fs::symlink("report.html", d.join("linked.xml")).unwrap();
        for same in ["junit.xml", "report.json", "linked.xml"] {
            assert!(distinct_files(&plan(&with_junit(same))).is_none(), "{same}");
        }
        let mut none = ReportOptions::in_dir(d);
        none.junit = Some("/dev/null".into());
        assert!(distinct_files(&plan(&none)).is_none(), "a device");
        // Written in order, each replacing the one before: report.json is
        // the model, not the JUnit copy written there first.
        let r = fixture("passing.json");
        for same in ["junit.xml", "report.json"] {
            write_all(&r, &with_junit(same)).unwrap();
            assert_eq!(json::read(&d.join("report.json")).unwrap().run_id, r.run_id);
            let junit = std::fs::read_to_string(d.join("junit.xml")).unwrap();
            assert!(junit.starts_with("<?xml"), "{same}");
            assert_eq!(
                names(d),
                [
                    "failures.har",
                    "junit.xml",
                    "linked.xml",
                    "report.html",
                    "report.json",
                    "summary.md"
                ],
                "{same}: no temporary file is left"
            );
        }
    }

    #[test]
    fn a_set_that_fails_midway_leaves_no_report_json() {
        let dir = tempfile::tempdir().unwrap();
        let opts = ReportOptions {
            dir: dir.path().to_path_buf(),
            ..ReportOptions::default()
        };
        let r = fixture("passing.json");
        write_all(&r, &opts).unwrap();
        assert!(dir.path().join("report.json").is_file());
        // summary.md cannot be written: a folder stands in its place.
        std::fs::remove_file(dir.path().join("summary.md")).unwrap();
        std::fs::create_dir(dir.path().join("summary.md")).unwrap();
        let e = write_all(&r, &opts).unwrap_err();
        assert!(e.to_string().contains("summary.md"), "{e}");
        assert!(
            !dir.path().join("report.json").exists(),
            "the previous report.json went first, the new one never came"
        );
        // Written meanwhile, report.json's temporary file is gone too.
        assert_eq!(
            names(dir.path()),
            ["failures.har", "junit.xml", "report.html", "summary.md"],
            "no temporary file is left"
        );
    }

    #[test]
    fn a_folder_locked_by_one_holder_refuses_another_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("reports");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join(".junit.xml.99999999.tmp"), "left").unwrap();
        let first = FolderLock::take(&d).unwrap();
        assert!(!d.join(".junit.xml.99999999.tmp").exists(), "cleaned");
        let e = FolderLock::take(&d).unwrap_err();
        assert!(matches!(e, LockError::Busy(_)), "{e}");
        assert!(
            e.to_string().contains(&format!(
                "another conform run is writing reports into {}",
                d.display()
            )),
            "{e}"
        );
        drop(first);
        let _again = FolderLock::take(&d).unwrap();
        assert!(d.join(LOCK_FILE).is_file(), "the lock file stays");
    }
}
