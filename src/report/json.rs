//! `report.json`: the result model itself, versioned by `format_version`.
//!
//! The layout (version 3: passing scenarios lean, what can be derived left
//! out, derived again when read) is the model's own serde, described in
//! `model::wire`; this module writes and reads the file.

use std::path::Path;

use crate::input::{self, Input};
use crate::model::{FORMAT_VERSION, RunResult, ScenarioResult};

/// Writes the model as compact JSON (some 45% smaller than indented, and
/// quicker to write; `jq .` indents it for a reader), streamed: no copy of
/// the whole text in memory.
pub fn write(result: &RunResult, path: &Path) -> std::io::Result<()> {
    super::write_atomic_with(path, |w| write_to(result, w))
}

/// The model as compact JSON, ending with a newline.
pub fn write_to(result: &RunResult, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, result).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

/// Why a `report.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Missing, unreadable, or over [`input::MAX_REPORT_BYTES`].
    #[error(transparent)]
    File(#[from] input::ReadError),
    #[error("{path} is not a conform report: {source}")]
    NotAReport {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path} has format_version {found}, newer than this conform's {FORMAT_VERSION} (conform {}): read it with a conform that knows version {found}",
        env!("CARGO_PKG_VERSION")
    )]
    Newer { path: String, found: u32 },
}

/// Reads a model written by [`write()`]: the one reader of `--baseline`,
/// `conform merge` and `conform diff`. A file over
/// [`input::MAX_REPORT_BYTES`] and a `format_version` newer than
/// [`FORMAT_VERSION`] are refused; older versions read as they are (their
/// `format_version` kept; written again, they are written as this one).
pub fn read(path: &Path) -> Result<RunResult, ReadError> {
    let bytes = input::read(path, Input::Report)?;
    // The version first: a newer model may not parse as this one, and
    // "newer" says more than the field that failed.
    #[derive(serde::Deserialize)]
    struct Version {
        format_version: u32,
    }
    if let Ok(Version { format_version }) = serde_json::from_slice::<Version>(&bytes)
        && format_version > FORMAT_VERSION
    {
        return Err(ReadError::Newer {
            path: path.display().to_string(),
            found: format_version,
        });
    }
    let mut result: RunResult =
        serde_json::from_slice(&bytes).map_err(|source| ReadError::NotAReport {
            path: path.display().to_string(),
            source,
        })?;
    // A report written by hand (or by another tool) is made as printable as
    // one this conform writes, so that what is projected from it is safe.
    result
        .scenarios
        .iter_mut()
        .for_each(ScenarioResult::make_printable);
    Ok(result)
}
