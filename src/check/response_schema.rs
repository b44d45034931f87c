//! `response_schema` and `undocumented_property`: the body validates against
//! the schema the contract documents for its operation, status and media
//! type; in strict mode, every property the contract does not document is
//! named. Each failure states the operation and status, the instance path,
//! the schema path, the reason and the offending value.

use crate::case::SourceLocation;
use crate::contract::{Contract, Operation, SchemaViolation};
use crate::model::Failure;

use super::Body;
use super::contract::ContractChecks;
use super::names::{RESPONSE_SCHEMA, UNDOCUMENTED_PROPERTY};

/// At most this many violations are reported per response (and a count of the rest).
pub const MAX_REPORTED: usize = 10;

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

#[expect(clippy::too_many_arguments, reason = "one response's full context")]
pub fn check(
    contract: &Contract,
    op: &Operation,
    label: &str,
    status: u16,
    content_type: &str,
    body: &Body<'_>,
    checks: ContractChecks,
    loc: &SourceLocation,
) -> Vec<Failure> {
    if !is_json(content_type) {
        // Only JSON bodies are validated; `content_type` judges the media type.
        return Vec::new();
    }
    let doc = match &body.json {
        Ok(doc) => doc,
        Err(e) if checks.response_schema => {
            return vec![
                Failure::assertion(RESPONSE_SCHEMA, loc, format!("{label}: {e}")).expected_actual(
                    "a JSON body",
                    crate::matcher::truncate(&String::from_utf8_lossy(body.raw), 200),
                ),
            ];
        }
        Err(_) => return Vec::new(),
    };
    let violations =
        contract.validate_response(op, status, content_type, doc, checks.undocumented_property);
    let (extra, schema): (Vec<SchemaViolation>, Vec<SchemaViolation>) =
        violations.into_iter().partition(|v| v.undocumented);
    let mut out = Vec::new();
    if checks.response_schema {
        out.extend(report(RESPONSE_SCHEMA, label, &schema, loc));
    }
    if checks.undocumented_property {
        out.extend(report(UNDOCUMENTED_PROPERTY, label, &extra, loc));
    }
    out
}

fn report(
    check: &str,
    label: &str,
    violations: &[SchemaViolation],
    loc: &SourceLocation,
) -> Vec<Failure> {
    let mut out: Vec<Failure> = violations
        .iter()
        .take(MAX_REPORTED)
        .map(|v| {
            let at = if v.instance_path.is_empty() {
                "(the body)"
            } else {
                v.instance_path.as_str()
            };
            Failure::assertion(
                check,
                loc,
                format!("{label}: {at}: {} (schema: {})", v.message, v.schema_path),
            )
            .expected_actual(
                format!("the schema at {}", v.schema_path),
                format!("{at} = {}", v.value),
            )
        })
        .collect();
    if violations.len() > MAX_REPORTED {
        out.push(Failure::assertion(
            check,
            loc,
            format!("{label}: and {} more", violations.len() - MAX_REPORTED),
        ));
    }
    out
}
