//! Resources stay bounded whatever the server sends or the case files say.

use serde_json::{Value, json};

/// A body whose items each break their schema four times keeps at most
/// `MAX_KEPT_VIOLATIONS` violations and counts the rest, so the memory a
/// response takes is bounded by its size, not by its errors.
#[test]
fn a_body_full_of_violations_keeps_a_bounded_number_of_them() {
    let c = conform::contract::from_value(
        "c.yaml",
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "X", "responses": {"200": {
            "description": "ok", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"values": {"type": "array", "items": {
                    "type": "object", "required": ["id", "type", "properties", "name"]}}}}}}}}}}}}),
    )
    .expect("loads");
    let op = c.by_id("X").expect("op");
    let items = 20_000;
    let body = json!({"values": vec![Value::Object(Default::default()); items]});
    let v = c.validate_response(op, 200, "application/json", &body, false);
    let kept = v.len();
    let omitted: usize = v.iter().map(|v| v.omitted).sum();
    assert!(
        kept <= conform::contract::MAX_KEPT_VIOLATIONS,
        "{kept} violations kept"
    );
    // Every violation is accounted for: kept or counted.
    assert_eq!(kept + omitted, 4 * items, "one error per missing property");
}
