//! The three documents schemas are compiled from: requests, responses, and
//! responses in strict mode.
//!
//! Each is a copy of the converted document with edits that depend on the
//! direction: `readOnly` properties are not required in a request and
//! `writeOnly` ones not in a response (they leave `required`, in the schema
//! that lists them and in the inline `allOf` branches beside it); a
//! `discriminator` pins its `oneOf`/`anyOf` branch (`discriminator.rs`);
//! strict mode closes documented objects (`strict.rs`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::walk::{self, Root};
use super::{Dialect, discriminator, refs, strict};

/// Which document a validator is compiled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Variant {
    Request,
    Response,
    Strict,
}

impl Variant {
    pub(crate) const ALL: [Variant; 3] = [Variant::Request, Variant::Response, Variant::Strict];

    pub(crate) fn index(self) -> usize {
        match self {
            Variant::Request => 0,
            Variant::Response => 1,
            Variant::Strict => 2,
        }
    }

    /// How `nullable` beside an `enum` reads: to the letter in strict mode.
    pub(crate) fn nullable_enum(self) -> super::convert::NullableEnum {
        match self {
            Variant::Strict => super::convert::NullableEnum::Letter,
            Variant::Request | Variant::Response => super::convert::NullableEnum::Lenient,
        }
    }

    /// The flag that makes a property optional in this direction.
    fn skipped_flag(self) -> &'static str {
        match self {
            Variant::Request => "readOnly",
            Variant::Response | Variant::Strict => "writeOnly",
        }
    }
}

/// The document for `variant`, derived from the converted document `base`.
pub(crate) fn derive(base: &Value, roots: &[Root], dialect: Dialect, variant: Variant) -> Value {
    let mut doc = base.clone();
    let flag = variant.skipped_flag();
    for root in roots {
        let Some(schema) = doc.pointer_mut(&root.pointer) else {
            continue;
        };
        walk::each_schema_mut(schema, &mut |node| {
            relax_required(node, base, flag);
            if variant == Variant::Strict {
                strict::close_children(node, base);
            }
            discriminator::pin(node, dialect);
        });
        if variant == Variant::Strict && !root.component {
            strict::close(schema, base);
        }
    }
    doc
}

fn relax_required(node: &mut Map<String, Value>, base: &Value, flag: &str) {
    let mut names = HashSet::new();
    let mut seen = HashSet::new();
    flagged_properties(node, base, flag, &mut names, &mut seen);
    if names.is_empty() {
        return;
    }
    drop_required(node, &names);
    if let Some(Value::Array(branches)) = node.get_mut("allOf") {
        for branch in branches {
            if let Value::Object(b) = branch
                && !b.contains_key("$ref")
            {
                drop_required(b, &names);
            }
        }
    }
}

fn drop_required(node: &mut Map<String, Value>, names: &HashSet<String>) {
    if let Some(Value::Array(required)) = node.get_mut("required") {
        required.retain(|r| r.as_str().is_none_or(|r| !names.contains(r)));
    }
}

/// Names of the properties of `node` (and of its `allOf` branches) marked `flag`.
fn flagged_properties<'a>(
    node: &'a Map<String, Value>,
    base: &'a Value,
    flag: &str,
    names: &mut HashSet<String>,
    seen: &mut HashSet<*const Value>,
) {
    if let Some(Value::Object(props)) = node.get("properties") {
        for (name, prop) in props {
            if is_flagged(prop, base, flag, &mut HashSet::new()) {
                names.insert(name.clone());
            }
        }
    }
    for branch in node
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(target) = refs::deref(base, branch) else {
            continue;
        };
        if seen.insert(std::ptr::from_ref(target))
            && let Value::Object(t) = target
        {
            flagged_properties(t, base, flag, names, seen);
        }
    }
}

/// Whether a property schema says `flag: true`, itself or through its
/// `$ref` chain and `allOf` branches.
fn is_flagged(schema: &Value, base: &Value, flag: &str, seen: &mut HashSet<*const Value>) -> bool {
    if !seen.insert(std::ptr::from_ref(schema)) {
        return false;
    }
    if schema.get(flag) == Some(&Value::Bool(true)) {
        return true;
    }
    if schema.get("$ref").is_some()
        && let Some(target) = refs::deref(base, schema)
        && is_flagged(target, base, flag, seen)
    {
        return true;
    }
    // 3.0 nullable conversion wraps a schema in anyOf: [schema, null].
    ["allOf", "anyOf"].iter().any(|k| {
        schema
            .get(*k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|b| is_flagged(b, base, flag, seen))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn derived(doc: &Value, variant: Variant) -> Value {
        let roots = walk::scan(doc).roots;
        derive(doc, &roots, Dialect::OpenApi31, variant)
    }

    #[test]
    fn read_only_leaves_required_in_requests_only() {
        let doc = json!({"components": {"schemas": {
            "Id": {"type": "string", "readOnly": true},
            "Base": {"properties": {"id": {"$ref": "#/components/schemas/Id"},
                                    "secret": {"type": "string", "writeOnly": true}}},
            "Thing": {"allOf": [{"$ref": "#/components/schemas/Base"},
                                {"required": ["id", "secret", "name"]}],
                      "required": ["id"]}
        }}});
        let req = derived(&doc, Variant::Request);
        let thing = &req["components"]["schemas"]["Thing"];
        assert_eq!(thing["required"], json!([]));
        assert_eq!(thing["allOf"][1]["required"], json!(["secret", "name"]));
        let resp = derived(&doc, Variant::Response);
        let thing = &resp["components"]["schemas"]["Thing"];
        assert_eq!(thing["required"], json!(["id"]));
        assert_eq!(thing["allOf"][1]["required"], json!(["id", "name"]));
    }
}
