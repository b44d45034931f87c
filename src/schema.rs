//! `conform schema`: the JSON Schema of the case format, derived from the
//! case types (see `case::model`), for editors and for review.

use crate::case::model::{ScenarioFile, SuiteFile};

/// The schema of a scenario file, or of the suite settings file.
pub fn json(suite: bool) -> String {
    let schema = if suite {
        schemars::schema_for!(SuiteFile)
    } else {
        schemars::schema_for!(ScenarioFile)
    };
    serde_json::to_string_pretty(&schema).expect("a schema serialises")
}
