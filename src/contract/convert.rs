//! OpenAPI 3.0 and Swagger 2.0 schemas rewritten as JSON Schema 2020-12.
//!
//! Every dialect is validated as 2020-12, so one engine serves all three and
//! strict mode can use `unevaluatedProperties`, which sees through `allOf`
//! (Draft 4 has nothing like it). OpenAPI 3.1 schemas already are 2020-12 and
//! are left alone. For 3.0 and 2.0, each schema object is rewritten in place
//! (children first, so pointers into the document keep working):
//!
//! - beside `$ref` every other keyword is dropped (3.0 and Draft 4 ignore
//!   them); `nullable: true` alone is kept and honoured, as most tools do;
//! - `nullable: true` (2.0: `x-nullable: true`): `type: T` becomes
//!   `[T, "null"]` and `enum` gains `null` (not in strict mode, which reads
//!   OAS 3.0.3 to the letter: an `enum` without `null` refuses it); a schema that composes others
//!   (`$ref`, `allOf`, `anyOf`, `oneOf`, `not`) becomes
//!   `anyOf: [<schema>, {type: "null"}]`;
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric form;
//! - a tuple `items: [..]` becomes `prefixItems` (and `additionalItems`,
//!   `items`); 2.0's `type: file` means any value;
//! - identity keywords (`$id`, `$schema`, `$anchor`...) are dropped: they
//!   mean nothing in 3.0 and would move the base URI in 2020-12.
//!
//! OpenAPI-only keywords (`example`, `xml`, `externalDocs`, `deprecated`,
//! `x-*`, `discriminator` once handled) are unknown to 2020-12 and ignored.
//!
//! In 3.1 only one thing changes: a `$ref: '#name'` to an `$anchor` becomes
//! a pointer, because the registry finds anchors only under schema keywords
//! and `components/schemas` is not one.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::Dialect;
use super::refs::{self, Target};
use super::walk::{self, Root};

const IDENTITY: &[&str] = &[
    "$id",
    "$schema",
    "$anchor",
    "$dynamicAnchor",
    "$dynamicRef",
    "$recursiveAnchor",
    "$recursiveRef",
    "$vocabulary",
];
const COMPOSING: &[&str] = &["$ref", "allOf", "anyOf", "oneOf", "not"];

/// How `nullable: true` beside an `enum` that does not list `null` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NullableEnum {
    /// `null` is accepted: what most tools do and descriptions mean (GitHub's).
    Lenient,
    /// OAS 3.0.3 to the letter: `enum` still restricts, so `null` is refused
    /// unless listed (strict mode; what openapi-core does).
    Letter,
}

/// Rewrites every schema of a 3.0 or 2.0 document as 2020-12 (3.1: no-op).
pub(crate) fn to_2020_12(doc: &mut Value, roots: &[Root], dialect: Dialect, enums: NullableEnum) {
    let nullable = match dialect {
        Dialect::OpenApi31 => return anchors_to_pointers(doc, roots),
        Dialect::OpenApi30 => "nullable",
        Dialect::Swagger2 => "x-nullable",
    };
    for root in roots {
        if let Some(schema) = doc.pointer_mut(&root.pointer) {
            walk::each_schema_mut(schema, &mut |node| convert(node, nullable, enums));
        }
    }
}

fn anchors_to_pointers(doc: &mut Value, roots: &[Root]) {
    let mut anchors: HashMap<String, String> = HashMap::new();
    for root in roots {
        if let Some(schema) = doc.pointer(&root.pointer) {
            walk::each_schema(schema, &root.pointer, &mut |node, pointer| {
                if let Some(anchor) = node.get("$anchor").and_then(Value::as_str) {
                    anchors.insert(anchor.to_owned(), pointer.to_owned());
                }
            });
        }
    }
    if anchors.is_empty() {
        return;
    }
    for root in roots {
        if let Some(schema) = doc.pointer_mut(&root.pointer) {
            walk::each_schema_mut(schema, &mut |node| {
                if let Some(Value::String(reference)) = node.get_mut("$ref")
                    && let Target::Anchor(anchor) = refs::classify(reference)
                    && let Some(pointer) = anchors.get(&anchor)
                {
                    *reference = format!("#{}", refs::to_fragment(pointer));
                }
            });
        }
    }
}

fn convert(node: &mut Map<String, Value>, nullable_key: &str, enums: NullableEnum) {
    let nullable = node.get(nullable_key) == Some(&Value::Bool(true));
    node.remove(nullable_key);
    if node.get("$ref").is_some_and(Value::is_string) {
        node.retain(|k, _| k == "$ref");
    } else {
        exclusive(node, "exclusiveMinimum", "minimum");
        exclusive(node, "exclusiveMaximum", "maximum");
        tuple_items(node);
        for key in IDENTITY {
            node.remove(*key);
        }
        if node.get("type").and_then(Value::as_str) == Some("file") {
            node.remove("type");
        }
    }
    if nullable {
        make_nullable(node, enums);
    }
}

/// Draft 4's `{minimum: m, exclusiveMinimum: true}` as `{exclusiveMinimum: m}`.
fn exclusive(node: &mut Map<String, Value>, flag: &str, bound: &str) {
    match node.get(flag) {
        Some(Value::Bool(true)) => {
            node.remove(flag);
            if let Some(limit) = node.remove(bound) {
                node.insert(flag.to_owned(), limit);
            }
        }
        Some(Value::Bool(false)) => {
            node.remove(flag);
        }
        _ => {}
    }
}

fn tuple_items(node: &mut Map<String, Value>) {
    if node.get("items").is_some_and(Value::is_array) {
        if let Some(items) = node.remove("items") {
            node.insert("prefixItems".into(), items);
        }
        if let Some(rest) = node.remove("additionalItems") {
            node.insert("items".into(), rest);
        }
    } else {
        node.remove("additionalItems");
    }
}

fn make_nullable(node: &mut Map<String, Value>, enums: NullableEnum) {
    if COMPOSING.iter().any(|k| node.contains_key(*k)) {
        let inner = Value::Object(std::mem::take(node));
        node.insert("anyOf".into(), json!([inner, {"type": "null"}]));
        return;
    }
    match node.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            node.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if !types.contains(&json!("null")) => types.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(options)) = node.get_mut("enum")
        && !options.contains(&Value::Null)
        && enums == NullableEnum::Lenient
    {
        options.push(Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(schema: Value, dialect: Dialect) -> Value {
        let mut doc = json!({"components": {"schemas": {"S": schema}}, "definitions": {}});
        let roots = walk::scan(&doc).roots;
        to_2020_12(&mut doc, &roots, dialect, NullableEnum::Lenient);
        doc["components"]["schemas"]["S"].take()
    }

    #[test]
    fn nullable_becomes_a_null_type_or_an_any_of() {
        let s = one(
            json!({"type": "string", "enum": ["a"], "nullable": true}),
            Dialect::OpenApi30,
        );
        assert_eq!(s, json!({"type": ["string", "null"], "enum": ["a", null]}));
        let s = one(
            json!({"allOf": [{"$ref": "#/x"}], "nullable": true}),
            Dialect::OpenApi30,
        );
        assert_eq!(
            s,
            json!({"anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}]})
        );
        let s = one(
            json!({"type": "integer", "nullable": false}),
            Dialect::OpenApi30,
        );
        assert_eq!(s, json!({"type": "integer"}));
    }

    #[test]
    fn the_letter_keeps_null_out_of_an_enum_that_does_not_list_it() {
        let mut doc = json!({"components": {"schemas": {
            "S": {"type": "string", "enum": ["a"], "nullable": true},
            "N": {"type": "string", "enum": ["a", null], "nullable": true}}}});
        let roots = walk::scan(&doc).roots;
        to_2020_12(&mut doc, &roots, Dialect::OpenApi30, NullableEnum::Letter);
        assert_eq!(
            doc["components"]["schemas"]["S"],
            json!({"type": ["string", "null"], "enum": ["a"]})
        );
        assert_eq!(
            doc["components"]["schemas"]["N"],
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
    }

    #[test]
    fn ref_siblings_are_dropped_but_nullable_is_kept() {
        let s = one(
            json!({"$ref": "#/x", "description": "d", "type": "string"}),
            Dialect::OpenApi30,
        );
        assert_eq!(s, json!({"$ref": "#/x"}));
        let s = one(json!({"$ref": "#/x", "nullable": true}), Dialect::OpenApi30);
        assert_eq!(s, json!({"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}));
    }

    #[test]
    fn boolean_exclusive_bounds_become_numbers() {
        let s = one(
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true,
                   "maximum": 9, "exclusiveMaximum": false}),
            Dialect::OpenApi30,
        );
        assert_eq!(
            s,
            json!({"type": "integer", "exclusiveMinimum": 0, "maximum": 9})
        );
    }

    #[test]
    fn swagger_specifics_and_nested_schemas_are_converted() {
        let s = one(
            json!({"properties": {"f": {"type": "file"},
                                  "n": {"type": "string", "x-nullable": true, "$id": "x"},
                                  "t": {"items": [{"type": "string"}], "additionalItems": false}}}),
            Dialect::Swagger2,
        );
        assert_eq!(
            s,
            json!({"properties": {"f": {}, "n": {"type": ["string", "null"]},
                                  "t": {"prefixItems": [{"type": "string"}], "items": false}}})
        );
    }

    #[test]
    fn openapi_31_is_left_alone() {
        let raw = json!({"type": "string", "nullable": true, "$ref": "#/x"});
        assert_eq!(one(raw.clone(), Dialect::OpenApi31), raw);
    }
}
