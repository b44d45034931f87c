//! Compiled validators, cached, and their errors as [`SchemaViolation`]s.
//!
//! Each of the three derived documents (`direction.rs`) is one resource,
//! `urn:openapi`, of its own jsonschema registry, prepared once at load. A
//! validator is `{"$ref": "urn:openapi#<pointer>"}`, the pointer
//! percent-encoded (a `{id}` in a path template is not valid in a URI).
//! Validators are compiled on first use, once per (document, schema
//! pointer), and shared by every thread through `Arc`; a schema that does not
//! compile is remembered as such and reported on every use.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{Value, json};

use super::SchemaViolation;
use super::direction::Variant;
use super::refs;
use super::walk::{self, Root};

const BASE: &str = "urn:openapi";
/// Longest `value` in a violation, in characters.
const MAX_VALUE: usize = 200;
/// Longer values are not quoted in the message, only in `value`.
const MAX_QUOTED: usize = 60;

type Compiled = Arc<Result<Validator, String>>;
/// Validators of one [`Variant`] by schema pointer; looked up on every
/// response, so without allocating and with a fast hash.
type Cache = HashMap<Box<str>, Compiled, foldhash::fast::RandomState>;

pub(crate) struct Schemas {
    registries: Vec<Registry<'static>>,
    /// `$id` of a named schema (3.1) → its pointer in the document.
    ids: HashMap<String, String>,
    /// In [`Variant::ALL`] order.
    cache: [RwLock<Cache>; Variant::ALL.len()],
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("compiled", &self.compiled())
            .finish_non_exhaustive()
    }
}

impl Schemas {
    /// One registry per document, in [`Variant::ALL`] order; `roots` are
    /// the schema roots of the documents.
    pub(crate) fn new(docs: [Value; 3], roots: &[Root]) -> Result<Self, String> {
        let mut ids = HashMap::new();
        let registries = docs
            .into_iter()
            .map(|doc| {
                let named = named_schemas(&doc, roots);
                let resources: Vec<(String, Value)> = named
                    .into_iter()
                    .map(|(id, pointer, schema)| {
                        ids.insert(id.clone(), pointer);
                        (id, schema)
                    })
                    .collect();
                Registry::new()
                    .draft(Draft::Draft202012)
                    .add(BASE, doc)
                    .and_then(|r| r.extend(resources))
                    .and_then(jsonschema::RegistryBuilder::prepare)
                    .map_err(|e| format!("the contract's schemas cannot be indexed: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            registries,
            ids,
            cache: Default::default(),
        })
    }

    /// How many validators have been compiled so far.
    pub(crate) fn compiled(&self) -> usize {
        self.cache
            .iter()
            .map(|c| c.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// The validator for the schema at `pointer` in `variant`'s document.
    pub(crate) fn validator(&self, variant: Variant, pointer: &str) -> Compiled {
        // `index` is below `Variant::ALL.len()`, the array's length.
        let cache = &self.cache[variant.index()];
        if let Some(v) = cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(pointer)
        {
            return Arc::clone(v);
        }
        let mut cache = cache.write().unwrap_or_else(PoisonError::into_inner);
        // Compiling under the write lock keeps it to once per key.
        let compiled = cache
            .entry(pointer.into())
            .or_insert_with(|| Arc::new(self.compile(variant, pointer)));
        Arc::clone(compiled)
    }

    fn compile(&self, variant: Variant, pointer: &str) -> Result<Validator, String> {
        let registry = self
            .registries
            .get(variant.index())
            .ok_or_else(|| "no registry".to_owned())?;
        let wrapper = json!({"$ref": format!("{BASE}#{}", refs::to_fragment(pointer))});
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .with_registry(registry)
            .build(&wrapper)
            .map_err(|e| one_line(&e.to_string()))
    }

    /// Every violation of `instance` against the schema at `pointer`.
    pub(crate) fn validate(
        &self,
        variant: Variant,
        pointer: &str,
        instance: &Value,
    ) -> Vec<SchemaViolation> {
        match &*self.validator(variant, pointer) {
            // `is_valid` stops at the first failure and builds no errors.
            Ok(validator) if validator.is_valid(instance) => Vec::new(),
            Ok(validator) => validator
                .iter_errors(instance)
                .flat_map(|e| violations(&e, &self.ids))
                .collect(),
            Err(message) => vec![SchemaViolation {
                instance_path: String::new(),
                schema_path: pointer.to_owned(),
                message: format!("the contract's schema does not compile: {message}"),
                value: String::new(),
                undocumented: false,
                clause: None,
            }],
        }
    }
}

/// Schemas with an absolute `$id` (3.1), outermost only: the registry finds
/// resources under schema keywords only, and `components/schemas` is not one.
fn named_schemas(doc: &Value, roots: &[Root]) -> Vec<(String, String, Value)> {
    let mut named: Vec<(String, String, Value)> = Vec::new();
    let mut under: Vec<String> = Vec::new();
    for root in roots {
        let Some(schema) = doc.pointer(&root.pointer) else {
            continue;
        };
        walk::each_schema(schema, &root.pointer, &mut |node, pointer| {
            let Some(id) = node.get("$id").and_then(Value::as_str) else {
                return;
            };
            if id.contains(':') && !under.iter().any(|u| pointer.starts_with(&format!("{u}/"))) {
                named.push((
                    id.to_owned(),
                    pointer.to_owned(),
                    Value::Object(node.clone()),
                ));
                under.push(pointer.to_owned());
            }
        });
    }
    named
}

/// One violation per error; an `unevaluatedProperties` error (strict mode)
/// becomes one per undocumented property.
fn violations(e: &ValidationError<'_>, ids: &HashMap<String, String>) -> Vec<SchemaViolation> {
    let instance_path = e.instance_path().as_str().to_owned();
    let schema_path = schema_path(e, ids);
    if let ValidationErrorKind::UnevaluatedProperties { unexpected } = e.kind() {
        return unexpected
            .iter()
            .map(|name| SchemaViolation {
                instance_path: instance_path.clone(),
                schema_path: schema_path.clone(),
                message: format!("undocumented property `{name}`"),
                value: e.instance().get(name).map(compact).unwrap_or_default(),
                undocumented: true,
                clause: None,
            })
            .collect();
    }
    let value = compact(e.instance());
    let message = if value.chars().count() <= MAX_QUOTED {
        e.to_string()
    } else {
        let head: String = value.chars().take(MAX_QUOTED - 1).collect();
        e.masked_with(format!("{head}…")).to_string()
    };
    vec![SchemaViolation {
        instance_path,
        schema_path,
        message: one_line(&message),
        value,
        undocumented: false,
        clause: None,
    }]
}

/// Where in the contract the failing keyword is: a pointer into the document
/// when the error carries one, else the path from the validator's root.
fn schema_path(e: &ValidationError<'_>, ids: &HashMap<String, String>) -> String {
    if let Some(uri) = e.absolute_keyword_location() {
        let uri = uri.as_str();
        let (base, fragment) = uri.split_once('#').unwrap_or((uri, ""));
        let fragment = refs::from_fragment(fragment);
        return match ids.get(base) {
            _ if base == BASE => fragment,
            Some(pointer) => format!("{pointer}{fragment}"),
            None => uri.to_owned(),
        };
    }
    let path = e.schema_path().as_str();
    path.strip_prefix("/$ref").unwrap_or(path).to_owned()
}

/// `value` as compact JSON, cut to [`MAX_VALUE`] characters.
fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_VALUE {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_VALUE - 1).collect();
    cut.push('…');
    cut
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas(doc: &Value) -> Schemas {
        Schemas::new([doc.clone(), doc.clone(), doc.clone()], &[]).expect("indexes")
    }

    #[test]
    fn violations_are_located_in_the_document() {
        let doc = json!({"components": {"schemas": {
            "S": {"type": "object", "required": ["state"],
                  "properties": {"state": {"enum": ["UNKNOWN", "DONE"]}, "n": {"type": "integer"}}}
        }}});
        let s = schemas(&doc);
        let v = s.validate(
            Variant::Response,
            "/components/schemas/S",
            &json!({"state": "RUNNING", "n": "x"}),
        );
        assert_eq!(v.len(), 2, "{v:?}");
        let state = v
            .iter()
            .find(|v| v.instance_path == "/state")
            .expect("state");
        assert_eq!(
            state.schema_path,
            "/components/schemas/S/properties/state/enum"
        );
        assert_eq!(
            state.message,
            r#""RUNNING" is not one of "UNKNOWN" or "DONE""#
        );
        assert_eq!(state.value, r#""RUNNING""#);
        let missing = s.validate(Variant::Response, "/components/schemas/S", &json!({}));
        assert_eq!(missing[0].message, r#""state" is a required property"#);
    }

    #[test]
    fn long_values_are_truncated() {
        let doc = json!({"components": {"schemas": {"S": {"type": "string"}}}});
        let big = json!({"rows": vec!["abcdefghij"; 100]});
        let v = schemas(&doc).validate(Variant::Request, "/components/schemas/S", &big);
        assert_eq!(v[0].value.chars().count(), MAX_VALUE);
        assert!(v[0].value.ends_with('…'));
        assert!(
            v[0].message.ends_with(r#"… is not of type "string""#),
            "{}",
            v[0].message
        );
        assert!(v[0].message.len() < 120);
    }

    #[test]
    fn broken_schemas_are_reported_not_panicked_on() {
        let doc = json!({"components": {"schemas": {"S": {"type": "string", "pattern": "("}}}});
        let s = schemas(&doc);
        let v = s.validate(Variant::Response, "/components/schemas/S", &json!("x"));
        assert!(
            v[0].message
                .starts_with("the contract's schema does not compile"),
            "{v:?}"
        );
        s.validate(Variant::Response, "/components/schemas/S", &json!("x"));
        assert_eq!(s.compiled(), 1);
    }
}
