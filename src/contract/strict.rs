//! Strict mode: objects the contract documents are closed to undocumented
//! properties.
//!
//! Closing is `unevaluatedProperties: false`, placed where a schema is used for
//! a value of its own: a response body, a property, an array item, a map
//! value (`additionalProperties`). It is never placed on a named component or
//! an `allOf`/`oneOf` branch, and `unevaluatedProperties` sees every
//! property that any applicable branch, `$ref` target or successful
//! `if`/`then` evaluated, so a property documented in another `allOf` branch
//! is not flagged. A schema is closed only when it documents properties
//! (`properties` or `patternProperties`, itself or through `$ref`/`allOf`/
//! `anyOf`/`oneOf`) and says nothing about additional ones: `{}` and a bare
//! `type: object` stay free-form, and `additionalProperties` anywhere in the
//! schema it applies (true or a schema) evaluates, so allows, the rest.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::refs;

const UNEVALUATED: &str = "unevaluatedProperties";

/// Closes the subschemas `node` applies to a child value.
pub(crate) fn close_children(node: &mut Map<String, Value>, base: &Value) {
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(named)) = node.get_mut(key) {
            for schema in named.values_mut() {
                close(schema, base);
            }
        }
    }
    for key in ["additionalProperties", "items"] {
        if let Some(schema) = node.get_mut(key) {
            close(schema, base);
        }
    }
    if let Some(Value::Array(items)) = node.get_mut("prefixItems") {
        for schema in items {
            close(schema, base);
        }
    }
}

/// Adds `unevaluatedProperties: false` to `schema` when it documents
/// properties and leaves additional ones unsaid.
pub(crate) fn close(schema: &mut Value, base: &Value) {
    let Value::Object(map) = schema else { return };
    if map.contains_key("additionalProperties") || map.contains_key(UNEVALUATED) {
        return;
    }
    if documents_properties(schema, base, &mut HashSet::new())
        && let Value::Object(map) = schema
    {
        map.insert(UNEVALUATED.into(), Value::Bool(false));
    }
}

fn documents_properties(schema: &Value, base: &Value, seen: &mut HashSet<*const Value>) -> bool {
    let Value::Object(map) = schema else {
        return false;
    };
    if !seen.insert(std::ptr::from_ref(schema)) {
        return false;
    }
    if map.contains_key("properties") || map.contains_key("patternProperties") {
        return true;
    }
    if map.contains_key("$ref")
        && let Some(target) = refs::deref(base, schema)
        && documents_properties(target, base, seen)
    {
        return true;
    }
    let branches = ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| map.get(*k).and_then(Value::as_array))
        .flatten();
    let conditional = ["then", "else"].iter().filter_map(|k| map.get(*k));
    branches
        .chain(conditional)
        .any(|b| documents_properties(b, base, seen))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_documented_open_objects_are_closed() {
        let base = json!({"components": {"schemas": {
            "A": {"properties": {"a": {}}},
            "Free": {"type": "object"}
        }}});
        let mut node = json!({
            "properties": {
                "byRef": {"$ref": "#/components/schemas/A"},
                "inline": {"allOf": [{"$ref": "#/components/schemas/A"}, {"type": "object"}]},
                "open": {"properties": {"a": {}}, "additionalProperties": true},
                "free": {"$ref": "#/components/schemas/Free"},
                "any": {}
            },
            "items": {"$ref": "#/components/schemas/A"}
        });
        let Value::Object(map) = &mut node else {
            unreachable!()
        };
        close_children(map, &base);
        let p = &node["properties"];
        assert_eq!(p["byRef"][UNEVALUATED], json!(false));
        assert_eq!(p["inline"][UNEVALUATED], json!(false));
        assert!(p["open"].get(UNEVALUATED).is_none());
        assert!(p["free"].get(UNEVALUATED).is_none());
        assert!(p["any"].get(UNEVALUATED).is_none());
        assert_eq!(node["items"][UNEVALUATED], json!(false));
    }
}
