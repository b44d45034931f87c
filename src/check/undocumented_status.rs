//! `undocumented_status`: the status is one the operation documents (exactly,
//! by a range such as `4XX`, or through `default`).

use crate::contract::Operation;
use crate::diag::SourceLocation;
use crate::model::Failure;

use super::Check;

pub fn check(op: &Operation, status: u16, loc: &SourceLocation) -> Option<Failure> {
    if op.response_for(status).is_some() {
        return None;
    }
    let documented: Vec<&str> = op.responses.iter().map(|r| &*r.key).collect();
    Some(
        Failure::assertion(
            Check::UndocumentedStatus,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(responses: serde_json::Value) -> crate::contract::Contract {
        crate::contract::from_value(
            "c.yaml",
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                   "paths": {"/x": {"post": {"operationId": "X", "responses": responses}}}}),
        )
        .unwrap()
    }

    #[test]
    fn exact_range_and_default_document_a_status() {
        let loc = SourceLocation::new("a.yaml", 2, 3);
        let c = op(json!({"200": {"description": "ok"}, "4XX": {"description": "bad"}}));
        let x = c.by_id("X").unwrap();
        assert!(check(x, 200, &loc).is_none());
        assert!(check(x, 404, &loc).is_none());
        let f = check(x, 500, &loc).unwrap();
        assert_eq!(
            f.message,
            "X (POST /x) answered 500, which the contract does not document (documented: 200, 4XX)"
        );
        assert_eq!(f.location.line, 2);
        let c = op(json!({"200": {"description": "ok"}, "default": {"description": "error"}}));
        assert!(check(c.by_id("X").unwrap(), 503, &loc).is_none());
    }
}
