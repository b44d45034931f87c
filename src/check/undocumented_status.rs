//! `undocumented_status`: the status is one the operation documents (exactly,
//! by a range such as `4XX`, or through `default`).

use crate::case::SourceLocation;
use crate::contract::Operation;
use crate::model::Failure;

use super::names::UNDOCUMENTED_STATUS;

pub fn check(op: &Operation, status: u16, loc: &SourceLocation) -> Option<Failure> {
    if op.response_for(status).is_some() {
        return None;
    }
    let documented: Vec<&str> = op.responses.iter().map(|r| r.key.as_str()).collect();
    Some(
        Failure::assertion(
            UNDOCUMENTED_STATUS,
            loc,
            format!(
                "{} ({} {}) answered {status}, which the contract does not document (documented: {})",
                op.id,
                op.method,
                op.template,
                documented.join(", ")
            ),
        )
        .expected_actual(format!("one of {}", documented.join(", ")), status.to_string()),
    )
}
