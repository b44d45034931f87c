//! Reports: projections of the one result model.
//!
//! Each opens with the run's verdict, computed from the model as it is
//! (`verdict::Verdict::of`), so a report of an edited or merged result
//! never shows a stale one; `report.json` also keeps it for its readers.
//!
//! A run writes, into its reports folder: `report.json` (the model itself),
//! `junit.xml`, `report.html` and `summary.md`; each through a temporary
//! file renamed into place, so a reader never sees half a report.
//!
//! What a server wrote arrives in the model printable (`crate::printable`):
//! no report carries a raw control character, escape sequence or bidi
//! override, and one-line fields are one line in every report.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod regression;
pub mod text;

use std::io::Write;
use std::path::Path;

/// Writes a file atomically: a temporary file in the same folder, renamed into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams a file atomically: `fill` writes into a buffered temporary file
/// in the same folder, which is renamed into place when `fill` succeeds.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_atomic_via(path, |tmp| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(tmp)?);
        fill(&mut f)?;
        f.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()
    })
}

/// Writes a file atomically through `write`, which creates and fills the
/// temporary file it is given (in the same folder as `path`); the file is
/// renamed into place when `write` succeeds and removed when it fails.
pub fn write_atomic_via(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    write(&tmp)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// Whether a file can be written in `dir` (created if missing): a probe file
/// is created and removed, so an unusable reports folder (a regular file,
/// read-only, no space) is found before a run sends anything.
pub fn check_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".conform-probe.{}.tmp", std::process::id()));
    std::fs::write(&probe, b"probe")?;
    std::fs::remove_file(&probe)
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

/// Writes every format; returns the files written.
pub fn write_all(
    result: &crate::model::RunResult,
    opts: &ReportOptions,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    let mut put = |name: &str, f: &dyn Fn(&Path) -> std::io::Result<()>| -> std::io::Result<()> {
        let path = opts.dir.join(name);
        f(&path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
        })?;
        written.push(path);
        Ok(())
    };
    let junit_opts = junit::JunitOptions {
        file_line: opts.junit_file_line,
    };
    put("report.json", &|p| json::write(result, p))?;
    put("junit.xml", &|p| junit::write(result, &junit_opts, p))?;
    put("report.html", &|p| html::write(result, p))?;
    let md_opts = markdown::MarkdownOptions {
        coverage_table: opts.coverage_table,
    };
    put("summary.md", &|p| markdown::write(result, &md_opts, p))?;
    if let Some(extra) = &opts.junit {
        junit::write(result, &junit_opts, extra).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot write {}: {e}", extra.display()))
        })?;
        written.push(extra.clone());
    }
    Ok(written)
}
