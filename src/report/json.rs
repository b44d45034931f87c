//! `report.json`: the result model itself, versioned by `format_version`.

use std::path::Path;

use crate::model::RunResult;

/// Writes the model as pretty JSON, streamed (no copy of the whole text in memory).
pub fn write(result: &RunResult, path: &Path) -> std::io::Result<()> {
    super::write_atomic_with(path, |w| {
        serde_json::to_writer_pretty(&mut *w, result).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
}

/// Reads a model written by [`write`].
pub fn read(path: &Path) -> Result<RunResult, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a conform report: {e}", path.display()))
}
