//! Compiled validators, cached, and their errors as [`SchemaViolation`]s.
//!
//! The contract keeps one document, as read. A validator is compiled on
//! first use, once per (direction, schema pointer), and shared by every
//! thread through `Arc`; a schema that does not compile is remembered as such
//! and reported on every use. Nothing is converted or derived for schemas a
//! run never uses, so a large contract costs its parse and little more.
//!
//! To compile the schema at a pointer, the schema roots it reaches (its own,
//! then every root a `$ref` or `discriminator` mapping leads to, transitively)
//! are copied at their own pointers into a sparse document; that copy is
//! converted to 2020-12 (`convert.rs`), derived for the direction
//! (`direction.rs`) and registered as the one resource `urn:openapi` of a
//! registry of its own. The validator is `{"$ref": "urn:openapi#<pointer>"}`,
//! the pointer percent-encoded (a `{id}` in a path template is not valid in a
//! URI), so the locations in its errors are pointers into the contract.
//!
//! An OpenAPI 3.1 schema may name itself (`$id`) or reach others by anchor or
//! dynamic reference; where the reached roots cannot be told from pointers
//! alone, the whole document is converted, derived and registered instead
//! (once per direction, on first need).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{Map, Value, json};

use super::direction::{self, Variant};
use super::refs::{self, Target};
use super::walk::{self, Root};
use super::{Dialect, SchemaViolation, convert, discriminator};

const BASE: &str = "urn:openapi";
/// Longest `value` in a violation, in characters.
const MAX_VALUE: usize = 200;
/// Longer values are not quoted in the message, only in `value`.
const MAX_QUOTED: usize = 60;
/// 3.1 keywords that move the base URI or resolve at run time: a schema
/// using one is compiled against the whole document.
const SCOPED: &[&str] = &["$id", "$dynamicRef", "$recursiveRef"];

type Compiled = Arc<Result<Validator, String>>;
/// Validators of one [`Variant`] by schema pointer; looked up on every
/// response, so without allocating and with a fast hash.
type Cache = HashMap<Box<str>, Compiled, foldhash::fast::RandomState>;

/// The whole document for one direction, registered (the fallback).
struct Whole {
    registry: Registry<'static>,
    /// `$id` of a named schema (3.1) → its pointer in the document.
    ids: HashMap<String, String>,
}

pub(crate) struct Schemas {
    /// The contract as read (3.0 and 2.0 schemas not yet converted).
    doc: Value,
    dialect: Dialect,
    /// Every schema root by pointer: whether it is a named component.
    roots: HashMap<String, bool>,
    /// In [`Variant::ALL`] order.
    cache: [RwLock<Cache>; Variant::ALL.len()],
    /// In [`Variant::ALL`] order; built only when a schema needs it.
    whole: [OnceLock<Result<Whole, String>>; Variant::ALL.len()],
}

/// Builds, once per process, what compiling the first validator would
/// otherwise build: jsonschema checks every schema it compiles against the
/// JSON Schema 2020-12 meta-schema, whose own validator it compiles on first
/// use and keeps (some 3.8 million instructions, a fifth of loading a
/// one-scenario suite with its contract). `inputs::load` calls this on a
/// thread of its own while the contract is read, so that no validator
/// waits for it; calling it again costs a trivial compile.
pub fn prepare_validation() {
    let _ = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(&json!({"type": "object"}));
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("compiled", &self.compiled())
            .finish_non_exhaustive()
    }
}

impl Schemas {
    /// Keeps the document and its schema roots; compiles nothing yet.
    pub(crate) fn new(doc: Value, roots: Vec<Root>, dialect: Dialect) -> Self {
        Self {
            doc,
            dialect,
            roots: roots
                .into_iter()
                .map(|r| (r.pointer, r.component))
                .collect(),
            cache: Default::default(),
            whole: Default::default(),
        }
    }

    /// How many validators have been compiled so far.
    pub(crate) fn compiled(&self) -> usize {
        self.cache
            .iter()
            .map(|c| c.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// The validator for the schema at `pointer` in `variant`'s direction.
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
        let wrapper = json!({"$ref": format!("{BASE}#{}", refs::to_fragment(pointer))});
        let build = |registry: &Registry<'_>| {
            jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .with_registry(registry)
                .build(&wrapper)
                .map_err(|e| one_line(&e.to_string()))
        };
        match self.reached(pointer) {
            Some(roots) => {
                let mut part = sparse(&self.doc, &roots);
                convert::to_2020_12(&mut part, &roots, self.dialect, variant.nullable_enum());
                let part = direction::derive(&part, &roots, self.dialect, variant);
                let registry = Registry::new()
                    .draft(Draft::Draft202012)
                    .add(BASE, part)
                    .and_then(jsonschema::RegistryBuilder::prepare)
                    .map_err(|e| format!("the contract's schemas cannot be indexed: {e}"))?;
                build(&registry)
            }
            None => match self.whole(variant) {
                Ok(whole) => build(&whole.registry),
                Err(message) => Err(message.clone()),
            },
        }
    }

    /// The whole document for `variant`, registered on first need.
    fn whole(&self, variant: Variant) -> &Result<Whole, String> {
        self.whole[variant.index()].get_or_init(|| {
            let roots: Vec<Root> = self
                .roots
                .iter()
                .map(|(pointer, &component)| Root {
                    pointer: pointer.clone(),
                    component,
                })
                .collect();
            let mut base = self.doc.clone();
            convert::to_2020_12(&mut base, &roots, self.dialect, variant.nullable_enum());
            let doc = direction::derive(&base, &roots, self.dialect, variant);
            drop(base);
            let named = named_schemas(&doc, &roots);
            let ids = named
                .iter()
                .map(|(id, pointer, _)| (id.clone(), pointer.clone()))
                .collect();
            let resources = named.into_iter().map(|(id, _, schema)| (id, schema));
            let registry = Registry::new()
                .draft(Draft::Draft202012)
                .add(BASE, doc)
                .and_then(|r| r.extend(resources))
                .and_then(jsonschema::RegistryBuilder::prepare)
                .map_err(|e| format!("the contract's schemas cannot be indexed: {e}"))?;
            Ok(Whole { registry, ids })
        })
    }

    /// The schema roots the schema at `pointer` reaches, itself first; `None`
    /// when pointers alone cannot tell (see the module docs).
    fn reached(&self, pointer: &str) -> Option<Vec<Root>> {
        let start = self.root_of(pointer)?;
        let mut seen: HashSet<&str> = HashSet::from([start]);
        let mut work = vec![start];
        let mut found = vec![start];
        while let Some(root) = work.pop() {
            let schema = self.doc.pointer(root)?;
            let mut targets: Vec<String> = Vec::new();
            let mut known = true;
            walk::each_schema(schema, root, &mut |node, _| {
                if self.dialect == Dialect::OpenApi31
                    && SCOPED.iter().any(|k| node.contains_key(*k))
                {
                    known = false;
                }
                if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
                    targets.push(reference.to_owned());
                }
                let mapping = node
                    .get("discriminator")
                    .and_then(|d| d.get("mapping"))
                    .and_then(Value::as_object);
                for target in mapping.into_iter().flat_map(Map::values) {
                    let target = target.as_str();
                    match target.and_then(|t| discriminator::mapping_target(t, self.dialect)) {
                        Some(t) => targets.push(t),
                        None => known = false,
                    }
                }
            });
            if !known {
                return None;
            }
            for reference in targets {
                let Target::Pointer(target) = refs::classify(&reference) else {
                    return None;
                };
                let next = self.root_of(&target)?;
                if seen.insert(next) {
                    work.push(next);
                    found.push(next);
                }
            }
        }
        Some(
            found
                .into_iter()
                .map(|p| Root {
                    pointer: p.to_owned(),
                    component: self.roots.get(p).copied().unwrap_or(false),
                })
                .collect(),
        )
    }

    /// The schema root `pointer` is at or under.
    fn root_of(&self, pointer: &str) -> Option<&str> {
        let cuts = pointer
            .match_indices('/')
            .map(|(i, _)| i)
            .skip(1)
            .chain([pointer.len()]);
        for end in cuts {
            if let Some((root, _)) = self.roots.get_key_value(&pointer[..end]) {
                return Some(root);
            }
        }
        None
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
            Ok(validator) => {
                let ids = self.ids(variant);
                let mut kept: Vec<SchemaViolation> = Vec::new();
                let mut omitted = 0usize;
                // Each error is dropped as soon as it is counted.
                for e in validator.iter_errors(instance) {
                    if kept.len() < super::MAX_KEPT_VIOLATIONS {
                        kept.extend(violations(&e, ids));
                    } else {
                        omitted += 1;
                    }
                }
                if let Some(last) = kept.last_mut() {
                    last.omitted = omitted;
                }
                kept
            }
            Err(message) => vec![SchemaViolation {
                instance_path: String::new(),
                schema_path: pointer.to_owned(),
                message: format!("the contract's schema does not compile: {message}"),
                value: String::new(),
                undocumented: false,
                clause: None,
                omitted: 0,
            }],
        }
    }

    /// The named schemas of the whole document, when it was registered.
    fn ids(&self, variant: Variant) -> Option<&HashMap<String, String>> {
        match self.whole[variant.index()].get() {
            Some(Ok(whole)) => Some(&whole.ids),
            _ => None,
        }
    }
}

/// The values at `roots` of `doc`, each at its own pointer in an otherwise
/// empty document (arrays on the way padded with `null`).
fn sparse(doc: &Value, roots: &[Root]) -> Value {
    let mut out = Value::Object(Map::new());
    for root in roots {
        let mut from = doc;
        let mut to = &mut out;
        let tokens: Vec<String> = refs::segments(&root.pointer).collect();
        for (i, token) in tokens.iter().enumerate() {
            let Some(next) = (match from {
                Value::Object(map) => map.get(token),
                Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            }) else {
                break;
            };
            from = next;
            let fresh = || match next {
                _ if i + 1 == tokens.len() => next.clone(),
                Value::Array(_) => Value::Array(Vec::new()),
                _ => Value::Object(Map::new()),
            };
            to = match to {
                Value::Object(map) => map.entry(token.clone()).or_insert_with(fresh),
                Value::Array(items) => {
                    let Ok(at) = token.parse::<usize>() else {
                        break;
                    };
                    if items.len() <= at {
                        items.resize(at + 1, Value::Null);
                    }
                    let slot = &mut items[at];
                    if slot.is_null() {
                        *slot = fresh();
                    }
                    slot
                }
                _ => break,
            };
        }
    }
    out
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
fn violations(
    e: &ValidationError<'_>,
    ids: Option<&HashMap<String, String>>,
) -> Vec<SchemaViolation> {
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
                omitted: 0,
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
        omitted: 0,
    }]
}

/// Where in the contract the failing keyword is: a pointer into the document
/// when the error carries one, else the path from the validator's root.
fn schema_path(e: &ValidationError<'_>, ids: Option<&HashMap<String, String>>) -> String {
    if let Some(uri) = e.absolute_keyword_location() {
        let uri = uri.as_str();
        let (base, fragment) = uri.split_once('#').unwrap_or((uri, ""));
        let fragment = refs::from_fragment(fragment);
        return match ids.and_then(|ids| ids.get(base)) {
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
        Schemas::new(doc.clone(), walk::scan(doc).roots, Dialect::OpenApi31)
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

    fn pointers(roots: Option<Vec<Root>>) -> Option<Vec<String>> {
        roots.map(|r| r.into_iter().map(|r| r.pointer).collect())
    }

    #[test]
    fn only_the_roots_a_schema_reaches_are_copied() {
        let doc = json!({
            "paths": {"/a": {"get": {"parameters": [{"name": "p"}, {"schema": {"type": "string"}}],
                "responses": {"200": {"content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/A"}}}}}}}},
            "components": {"schemas": {
                "A": {"properties": {"b": {"$ref": "#/components/schemas/B/properties/x"}},
                      "oneOf": [{"$ref": "#/components/schemas/C"}],
                      "discriminator": {"propertyName": "k", "mapping": {"d": "D"}}},
                "B": {"properties": {"x": {"type": "integer"}}},
                "C": {"type": "object"},
                "D": {"type": "object", "nullable": true},
                "Unused": {"type": "string"}
            }}
        });
        let s = Schemas::new(doc.clone(), walk::scan(&doc).roots, Dialect::OpenApi30);
        let response = "/paths/~1a/get/responses/200/content/application~1json/schema";
        let mut reached = pointers(s.reached(response)).expect("pointers suffice");
        reached.sort();
        assert_eq!(
            reached,
            [
                "/components/schemas/A",
                "/components/schemas/B",
                "/components/schemas/C",
                "/components/schemas/D",
                response,
            ]
        );
        // The copy holds those roots at their own pointers and nothing else;
        // an array on the way keeps its indices.
        let param = "/paths/~1a/get/parameters/1/schema";
        let roots = s.reached(param).expect("one root");
        let part = sparse(&doc, &roots);
        assert_eq!(part.pointer(param), doc.pointer(param));
        assert_eq!(
            part.pointer("/paths/~1a/get/parameters/0"),
            Some(&Value::Null)
        );
        assert!(part.pointer("/components").is_none());
        // Compiled from the copy: nullable converted, the mapping followed.
        let v = s.validate(Variant::Response, "/components/schemas/D", &Value::Null);
        assert!(v.is_empty(), "{v:?}");
        let v = s.validate(Variant::Response, response, &json!({"k": "d", "b": "x"}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].schema_path, "/components/schemas/B/properties/x/type");
        assert!(
            s.whole.iter().all(|w| w.get().is_none()),
            "no whole document"
        );
    }

    #[test]
    fn a_31_schema_that_names_itself_is_compiled_against_the_whole_document() {
        let doc = json!({"components": {"schemas": {
            "A": {"$ref": "https://x.test/b"},
            "B": {"$id": "https://x.test/b", "type": "integer", "minimum": 1}
        }}});
        let s = schemas(&doc);
        assert_eq!(pointers(s.reached("/components/schemas/A")), None);
        assert_eq!(pointers(s.reached("/components/schemas/B")), None);
        let v = s.validate(Variant::Response, "/components/schemas/A", &json!(0));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].schema_path, "/components/schemas/B/minimum");
        assert!(s.whole[Variant::Response.index()].get().is_some());
        assert!(s.whole[Variant::Strict.index()].get().is_none());
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
