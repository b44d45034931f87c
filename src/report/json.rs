//! `report.json`: the result model itself, versioned by `format_version`.

use std::path::Path;

use crate::model::RunResult;

/// Writes the model as pretty JSON.
pub fn write(result: &RunResult, path: &Path) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(result).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    super::write_atomic(path, &bytes)
}

/// Reads a model written by [`write`].
pub fn read(path: &Path) -> Result<RunResult, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a conform report: {e}", path.display()))
}
