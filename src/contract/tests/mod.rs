//! Contract-level tests through the public API, with fixtures in `testdata/`.

mod load;
mod validation;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;

const JSON: &str = "application/json";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/contract/testdata")
        .join(name)
}

fn bundled() -> Contract {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/openapi.yaml");
    load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// An OpenAPI 3.0 document exercising every schema conversion.
fn pets() -> Contract {
    load(&fixture("pets.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

fn yaml(text: &str) -> Contract {
    parse(Path::new("inline.yaml"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(text: &str) -> Vec<ContractError> {
    match parse(Path::new("inline.yaml"), text) {
        Ok(_) => panic!("expected the contract to be refused"),
        Err(e) => e.0,
    }
}

fn messages(v: &[SchemaViolation]) -> Vec<String> {
    v.iter()
        .map(|v| format!("{} {}", v.instance_path, v.message))
        .collect()
}

fn pet() -> Value {
    json!({"id": 1, "name": "Rex", "status": "AVAILABLE"})
}
