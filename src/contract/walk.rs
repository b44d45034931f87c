//! Where a document keeps its schemas, and which keywords hold subschemas.
//!
//! The document outside schemas (paths, responses, parameters...) is walked
//! generically: every `schema` member is a schema root, and so is every entry
//! of `components/schemas` (3.x) or `definitions` (2.0). Inside a schema only
//! keywords that hold subschemas are followed, so property names, `enum`
//! values and examples are never mistaken for keywords.

use serde_json::{Map, Value};

use super::refs;

/// Deeper than this the walkers stop (parsers already refuse such nesting).
const MAX_DEPTH: usize = 256;

/// Keywords whose value is one subschema.
const ONE: &[&str] = &[
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
];
/// Keywords whose value is a list of subschemas.
const LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/// Keywords whose value maps names to subschemas.
const NAMED: &[&str] = &[
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "dependentSchemas",
    "dependencies",
];

/// A schema found outside any schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Root {
    pub pointer: String,
    /// A named component (`components/schemas/X`, `definitions/X`) rather
    /// than a schema where it is used (a media type, a parameter).
    pub component: bool,
}

/// Schema roots and the `$ref`s outside schemas, in one pass over the document.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub roots: Vec<Root>,
    /// (pointer of the `$ref` member, its value)
    pub refs: Vec<(String, String)>,
}

pub(crate) fn scan(doc: &Value) -> Scan {
    let mut out = Scan::default();
    let mut pointer = String::new();
    scan_doc(doc, &mut pointer, &mut out, 0);
    out
}

fn scan_doc(value: &Value, pointer: &mut String, out: &mut Scan, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            let at_components = pointer == "/components";
            let at_top = pointer.is_empty();
            for (key, child) in map {
                // Examples and extensions are data, not document structure.
                if key.starts_with("x-") || key == "example" || key == "examples" {
                    continue;
                }
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&refs::escape(key));
                if key == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.refs.push((pointer.clone(), r.to_owned()));
                    }
                } else if key == "schema" && (child.is_object() || child.is_boolean()) {
                    out.roots.push(Root {
                        pointer: pointer.clone(),
                        component: false,
                    });
                } else if (at_components && key == "schemas") || (at_top && key == "definitions") {
                    if let Value::Object(named) = child {
                        for name in named.keys() {
                            out.roots.push(Root {
                                pointer: refs::child(pointer, name),
                                component: true,
                            });
                        }
                    }
                } else {
                    scan_doc(child, pointer, out, depth + 1);
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                scan_doc(child, pointer, out, depth + 1);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Calls `visit` with every schema object at and below `schema` (parents
/// first) and its pointer, given the pointer of `schema`.
pub(crate) fn each_schema(
    schema: &Value,
    pointer: &str,
    visit: &mut dyn FnMut(&Map<String, Value>, &str),
) {
    let mut pointer = pointer.to_owned();
    each_schema_at(schema, &mut pointer, visit, 0);
}

fn each_schema_at(
    schema: &Value,
    pointer: &mut String,
    visit: &mut dyn FnMut(&Map<String, Value>, &str),
    depth: usize,
) {
    let Value::Object(map) = schema else { return };
    if depth > MAX_DEPTH {
        return;
    }
    visit(map, pointer);
    for (key, child) in map {
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&refs::escape(key));
        for_children(key, child, &mut |token, sub| {
            let inner = pointer.len();
            if let Some(token) = token {
                pointer.push('/');
                pointer.push_str(&refs::escape(token));
            }
            each_schema_at(sub, pointer, visit, depth + 1);
            pointer.truncate(inner);
        });
        pointer.truncate(len);
    }
}

/// Calls `visit` with every schema object at and below `schema`, children
/// first, so a visitor that restructures a node sees converted children.
pub(crate) fn each_schema_mut(schema: &mut Value, visit: &mut dyn FnMut(&mut Map<String, Value>)) {
    each_schema_mut_at(schema, visit, 0);
}

fn each_schema_mut_at(
    schema: &mut Value,
    visit: &mut dyn FnMut(&mut Map<String, Value>),
    depth: usize,
) {
    let Value::Object(map) = schema else { return };
    if depth > MAX_DEPTH {
        return;
    }
    for (key, child) in map.iter_mut() {
        if ONE.contains(&key.as_str()) && child.is_object() {
            each_schema_mut_at(child, visit, depth + 1);
        } else if LIST.contains(&key.as_str()) {
            if let Value::Array(items) = child {
                for item in items {
                    each_schema_mut_at(item, visit, depth + 1);
                }
            }
        } else if NAMED.contains(&key.as_str())
            && let Value::Object(named) = child
        {
            for item in named.values_mut() {
                each_schema_mut_at(item, visit, depth + 1);
            }
        }
    }
    visit(map);
}

/// The subschemas under one keyword: `visit(None, s)` for a keyword holding a
/// schema, `visit(Some(token), s)` for lists and maps.
fn for_children(key: &str, value: &Value, visit: &mut dyn FnMut(Option<&str>, &Value)) {
    if ONE.contains(&key) && value.is_object() {
        visit(None, value);
    } else if LIST.contains(&key) {
        if let Value::Array(items) = value {
            for (i, item) in items.iter().enumerate() {
                visit(Some(&i.to_string()), item);
            }
        }
    } else if NAMED.contains(&key)
        && let Value::Object(named) = value
    {
        for (name, item) in named {
            visit(Some(name), item);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn roots_and_refs_are_found_outside_schemas() {
        let doc = json!({
            "paths": {"/a": {"get": {"responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}},
                "400": {"$ref": "#/components/responses/E"}}}}},
            "components": {"schemas": {"A": {"type": "object"}}, "examples": {"e": {"$ref": "nope"}}},
            "x-ext": {"$ref": "ignored"}
        });
        let s = scan(&doc);
        assert_eq!(
            s.roots,
            vec![
                Root {
                    pointer: "/paths/~1a/get/responses/200/content/application~1json/schema".into(),
                    component: false
                },
                Root {
                    pointer: "/components/schemas/A".into(),
                    component: true
                },
            ]
        );
        assert_eq!(
            s.refs,
            vec![(
                "/paths/~1a/get/responses/400/$ref".to_owned(),
                "#/components/responses/E".to_owned()
            )]
        );
    }

    #[test]
    fn only_schema_keywords_are_followed() {
        let schema = json!({
            "properties": {"enum": {"type": "string"}, "$ref": {"type": "integer"}},
            "enum": [{"type": "not a schema"}],
            "example": {"properties": {}},
            "allOf": [{"items": {"type": "null"}}]
        });
        let mut seen = Vec::new();
        each_schema(&schema, "/s", &mut |_, p| seen.push(p.to_owned()));
        assert_eq!(
            seen,
            vec![
                "/s",
                "/s/properties/enum",
                "/s/properties/$ref",
                "/s/allOf/0",
                "/s/allOf/0/items",
            ]
        );
        let mut count = 0;
        let mut copy = schema.clone();
        each_schema_mut(&mut copy, &mut |_| count += 1);
        assert_eq!(count, seen.len());
    }
}
