//! `discriminator` (OpenAPI 3.x): the discriminating property picks the one
//! `oneOf`/`anyOf` branch to validate against.
//!
//! Without it a payload that two branches accept fails `oneOf`. The schema
//!
//! ```yaml
//! oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]
//! discriminator: {propertyName: kind, mapping: {cat: '#/components/schemas/Cat'}}
//! ```
//!
//! becomes an `if`/`then`/`else` chain, one link per known value, that ends
//! in the original `oneOf` when the instance is not an object, or the
//! property is absent or its value unknown:
//!
//! ```yaml
//! allOf:
//!   - if: {type: object, properties: {kind: {const: cat}}, required: [kind]}
//!     then: {$ref: '#/components/schemas/Cat'}
//!     else:
//!       if: {type: object, properties: {kind: {const: Dog}}, required: [kind]}
//!       then: {$ref: '#/components/schemas/Dog'}
//!       else: {oneOf: [...]}
//! ```
//!
//! (`properties` and `required` hold for anything that is not an object,
//! so without `type: object` an array would be judged by the first branch.)
//!
//! Values come from `mapping` (a pointer or a bare component name) and,
//! for each `$ref` branch not named there, the component's own name.
//! Swagger 2.0's string `discriminator` (inheritance through `allOf`) has no
//! branch to pick and is left as an annotation.

use serde_json::{Map, Value, json};

use super::{Dialect, refs};

/// The pointer a mapping value stands for, or `None` for another file.
pub(crate) fn mapping_target(value: &str, dialect: Dialect) -> Option<String> {
    if value.starts_with('#') {
        return Some(value.to_owned());
    }
    if value.contains(['/', '.', ':']) {
        return None;
    }
    let prefix = match dialect {
        Dialect::Swagger2 => "#/definitions/",
        Dialect::OpenApi30 | Dialect::OpenApi31 => "#/components/schemas/",
    };
    Some(format!("{prefix}{}", refs::escape(value)))
}

/// Rewrites `node` when it has an object `discriminator` beside `oneOf`/`anyOf`.
pub(crate) fn pin(node: &mut Map<String, Value>, dialect: Dialect) {
    let Some(Value::Object(disc)) = node.get("discriminator") else {
        return;
    };
    let Some(property) = disc.get("propertyName").and_then(Value::as_str) else {
        return;
    };
    let Some(keyword) = ["oneOf", "anyOf"]
        .into_iter()
        .find(|k| node.get(*k).is_some_and(Value::is_array))
    else {
        return;
    };
    let branches = node
        .get(keyword)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let cases = cases(disc, &branches, dialect);
    if cases.is_empty() {
        return;
    }
    let property = property.to_owned();
    node.remove("discriminator");
    let mut chain = json!({ keyword: node.remove(keyword).unwrap_or(Value::Null) });
    for (value, schema) in cases.into_iter().rev() {
        chain = json!({
            "if": {
                "type": "object",
                "properties": {&property: {"const": value}},
                "required": [&property]
            },
            "then": schema,
            "else": chain,
        });
    }
    match node.get_mut("allOf") {
        Some(Value::Array(all)) => all.push(chain),
        _ => {
            node.insert("allOf".into(), json!([chain]));
        }
    }
}

/// (discriminator value, branch schema) pairs, mapping first.
fn cases(disc: &Map<String, Value>, branches: &[Value], dialect: Dialect) -> Vec<(String, Value)> {
    let branch_ref = |b: &Value| b.get("$ref").and_then(Value::as_str).map(str::to_owned);
    let mut cases: Vec<(String, Value)> = Vec::new();
    let mut mapped: Vec<String> = Vec::new();
    if let Some(Value::Object(mapping)) = disc.get("mapping") {
        for (value, target) in mapping {
            let Some(target) = target.as_str().and_then(|t| mapping_target(t, dialect)) else {
                continue;
            };
            let schema = branches
                .iter()
                .find(|b| branch_ref(b).as_deref() == Some(target.as_str()))
                .cloned()
                .unwrap_or_else(|| json!({"$ref": target}));
            cases.push((value.clone(), schema));
            mapped.push(target);
        }
    }
    for branch in branches {
        let Some(target) = branch_ref(branch) else {
            continue;
        };
        let Some(name) = refs::segments(&refs::from_fragment(&target)).last() else {
            continue;
        };
        if !mapped.contains(&target) && !cases.iter().any(|(v, _)| *v == name) {
            cases.push((name, branch.clone()));
        }
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_and_implicit_names_build_a_chain() {
        let mut node = json!({
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind", "mapping": {"cat": "Cat"}}
        });
        let Value::Object(map) = &mut node else {
            unreachable!()
        };
        pin(map, Dialect::OpenApi30);
        let link = &node["allOf"][0];
        assert_eq!(link["if"]["properties"]["kind"]["const"], json!("cat"));
        assert_eq!(link["then"], json!({"$ref": "#/components/schemas/Cat"}));
        assert_eq!(
            link["else"]["if"]["properties"]["kind"]["const"],
            json!("Dog")
        );
        assert_eq!(
            link["else"]["else"]["oneOf"].as_array().map(Vec::len),
            Some(2)
        );
        assert!(node.get("discriminator").is_none() && node.get("oneOf").is_none());
    }

    #[test]
    fn swagger_string_discriminators_are_left_alone() {
        let mut node = json!({"discriminator": "kind", "oneOf": [{"$ref": "#/definitions/A"}]});
        let before = node.clone();
        let Value::Object(map) = &mut node else {
            unreachable!()
        };
        pin(map, Dialect::Swagger2);
        assert_eq!(node, before);
    }
}
