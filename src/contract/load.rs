//! Reading a contract: parse, recognise the dialect, check references,
//! collect operations, convert schemas, prepare the registries.
//!
//! A `.json` file is read with serde_json, anything else with the crate's
//! YAML reader (duplicate keys refused, YAML 1.2 booleans). Every structural
//! problem found is reported, not only the first; a problem is located by its
//! JSON pointer and, in YAML, by the line and column of the nearest key.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::error::Problems;
use super::tree::Node;
use super::validate::Schemas;
use super::{
    Contract, ContractError, ContractErrors, Dialect, check, clauses, operations, paths, walk,
};
use crate::diag::display_path;
use crate::yaml;

/// Reads and checks the contract at `path`.
pub fn load(path: &Path) -> Result<Contract, ContractErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ContractErrors::new(vec![ContractError {
            file: display_path(path),
            pointer: String::new(),
            line: 0,
            column: 0,
            message: format!("cannot read the contract: {e}"),
        }])
    })?;
    read(path, text)
}

/// Checks a contract given as text; `path` names it and picks the parser
/// (`.json`: JSON, else YAML).
pub fn parse(path: &Path, text: &str) -> Result<Contract, ContractErrors> {
    read(path, text.to_owned())
}

/// A JSON document is parsed straight into a `Value` (its keys keep their
/// order; JSON errors carry no line) and its text dropped before the rest of
/// the work; a YAML one goes through the located tree, kept until the
/// document is checked so problems can be placed by line.
fn read(path: &Path, text: String) -> Result<Contract, ContractErrors> {
    let file = display_path(path);
    let sha256 = sha256_hex(text.as_bytes());
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut contract = if is_json {
        let doc: Value = serde_json::from_str(&text).map_err(|e| {
            single(
                &file,
                u32::try_from(e.line()).unwrap_or(u32::MAX),
                u32::try_from(e.column()).unwrap_or(u32::MAX),
                format!("invalid JSON: {e}"),
            )
        })?;
        drop(text);
        build(&file, doc, None)?
    } else {
        let source: Arc<str> = Arc::from(text);
        let tree: Node = yaml::parse(path, &source).map_err(|d| {
            single(&file, d.location.line, d.location.column, d.message).with_source(source.clone())
        })?;
        build(&file, tree.to_value(), Some(&tree)).map_err(|e| e.with_source(source.clone()))?
    };
    contract.sha256 = sha256;
    Ok(contract)
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// Bytes (a digest) as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn single(file: &str, line: u32, column: u32, message: String) -> ContractErrors {
    ContractErrors::new(vec![ContractError {
        file: file.to_owned(),
        pointer: String::new(),
        line,
        column,
        message,
    }])
}

/// Checks a contract already parsed into a `Value` (no line numbers, keys
/// in sorted order); `file` names it in errors.
pub fn from_value(file: &str, doc: Value) -> Result<Contract, ContractErrors> {
    let sha256 = sha256_hex(doc.to_string().as_bytes());
    let mut contract = build(file, doc, None)?;
    contract.sha256 = sha256;
    Ok(contract)
}

fn build(file: &str, doc: Value, tree: Option<&Node>) -> Result<Contract, ContractErrors> {
    let mut problems = Problems::default();
    let (dialect, version) = match dialect(&doc) {
        Ok(found) => found,
        Err(message) => {
            // At the version key when there is one, else at the top.
            let at = ["/openapi", "/swagger"]
                .into_iter()
                .find(|p| doc.pointer(p).is_some())
                .unwrap_or("");
            problems.push(at, message);
            return Err(problems.into_errors(file, tree));
        }
    };
    let scan = walk::scan(&doc);
    check::references(&doc, dialect, &scan, &mut problems);
    let marks = clauses::Marks::collect(&doc, tree, &mut problems);
    let mut operations = operations::collect(&doc, dialect, tree, &mut problems);
    for op in &mut operations {
        let op_mark = marks.at(&op.pointer).cloned();
        op.clause.clone_from(&op_mark);
        for r in &mut op.responses {
            r.clause = marks.at(&r.pointer).cloned().or_else(|| op_mark.clone());
        }
    }
    let index = paths::PathIndex::new(
        operations
            .iter()
            .map(|o| (o.template.as_str(), o.method.as_str())),
    );
    let index = match index {
        Ok(index) => Some(index),
        Err(message) => {
            problems.push("/paths", message);
            None
        }
    };
    let (Some(index), true) = (index, problems.is_empty()) else {
        return Err(problems.into_errors(file, tree));
    };
    // Schemas are converted and derived per use (`validate.rs`), so the
    // document is kept once, as read.
    let schemas = Schemas::new(doc, scan.roots, dialect);
    let by_id: HashMap<String, usize> = operations
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.to_string(), i))
        .collect();
    let other_json_requests = operations.iter().any(|o| {
        o.request_body.as_ref().is_some_and(|b| {
            let has =
                |f: &dyn Fn(&str) -> bool| b.media_types.iter().any(|m| f(&m.to_ascii_lowercase()));
            !has(&|m| m == "application/json") && has(&|m| m.ends_with("+json"))
        })
    });
    Ok(Contract {
        other_json_requests,
        file: file.to_owned(),
        dialect,
        version,
        operations,
        index,
        by_id,
        schemas,
        marks,
        sha256: String::new(),
    })
}

/// The dialect from `openapi` or `swagger`, or why the document is not one.
fn dialect(doc: &Value) -> Result<(Dialect, String), String> {
    if doc.is_null() {
        return Err("the contract is empty: an OpenAPI document starts with `openapi: 3.x` (or `swagger: \"2.0\"`)".into());
    }
    let Value::Object(top) = doc else {
        return Err(format!(
            "a contract is a mapping at its top level, not {}",
            kind(doc)
        ));
    };
    // `openapi: 3.0` unquoted is a number in YAML; read it as written.
    let version = |key: &str| match top.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if let Some(v) = version("openapi") {
        let minor = |m: &str| v == m || v.starts_with(&format!("{m}."));
        return match () {
            () if minor("3.0") => Ok((Dialect::OpenApi30, v)),
            () if minor("3.1") => Ok((Dialect::OpenApi31, v)),
            () => Err(format!(
                "unsupported OpenAPI version `{v}`: conform reads 2.0, 3.0.x and 3.1.x"
            )),
        };
    }
    if let Some(v) = version("swagger") {
        return if v == "2.0" {
            Ok((Dialect::Swagger2, v))
        } else {
            Err(format!(
                "unsupported Swagger version `{v}`: conform reads 2.0, 3.0.x and 3.1.x"
            ))
        };
    }
    Err("neither `openapi` nor `swagger` at the top level: not an OpenAPI document".into())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}
