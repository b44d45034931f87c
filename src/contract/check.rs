//! Every `$ref` must resolve inside the document: conform never fetches, so a
//! reference to another file or a URL is an error, and so is one to a
//! pointer with nothing there. Discriminator mappings are checked the same way.

use std::collections::HashSet;

use serde_json::Value;

use super::error::Problems;
use super::refs::{self, Target};
use super::walk::{self, Scan};
use super::{Dialect, discriminator};

pub(crate) fn references(doc: &Value, dialect: Dialect, scan: &Scan, problems: &mut Problems) {
    // Outside schemas a `$ref` stands for the whole object, so a loop has no end.
    for (pointer, reference) in &scan.refs {
        let owner = pointer.strip_suffix("/$ref").unwrap_or(pointer);
        if refs::follow(doc, owner).map(|_| ()) == Err(refs::Broken::Cycle) {
            problems.push(pointer.clone(), format!("circular $ref `{reference}`"));
        }
    }
    let mut found = scan.refs.clone();
    // `$ref`s inside schemas (pointer of the schema holding one, its value).
    let mut in_schemas: Vec<(String, String)> = Vec::new();
    let mut mappings: Vec<(String, String)> = Vec::new();
    // OpenAPI 3.1 schemas may name themselves (`$id`) and their parts (`$anchor`).
    let mut ids: HashSet<String> = HashSet::new();
    let mut anchors: HashSet<String> = HashSet::new();
    // Pointers of schemas with an `$id`: a `#/...` below one is relative to it.
    let mut scopes: Vec<String> = Vec::new();
    for root in &scan.roots {
        let Some(schema) = doc.pointer(&root.pointer) else {
            continue;
        };
        walk::each_schema(schema, &root.pointer, &mut |node, pointer| {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                found.push((refs::child(pointer, "$ref"), r.to_owned()));
                in_schemas.push((pointer.to_owned(), r.to_owned()));
            }
            if let Some(id) = node.get("$id").and_then(Value::as_str) {
                ids.insert(id.split('#').next().unwrap_or(id).to_owned());
                scopes.push(pointer.to_owned());
            }
            if let Some(anchor) = node.get("$anchor").and_then(Value::as_str) {
                anchors.insert(anchor.to_owned());
            }
            if let Some(Value::Object(mapping)) =
                node.get("discriminator").and_then(|d| d.get("mapping"))
            {
                let at = format!("{pointer}/discriminator/mapping");
                for (value, target) in mapping {
                    if let Some(target) = target.as_str() {
                        mappings.push((refs::child(&at, value), target.to_owned()));
                    }
                }
            }
        });
    }
    // A schema that is only a `$ref` into a chain of references that loops
    // never reaches a schema: validation could never end.
    for (pointer, reference) in &in_schemas {
        if refs::follow(doc, pointer).map(|_| ()) == Err(refs::Broken::Cycle) {
            problems.push(
                refs::child(pointer, "$ref"),
                format!("circular $ref `{reference}`: the chain of references from here loops and never reaches a schema"),
            );
        }
    }
    let v31 = dialect == Dialect::OpenApi31;
    for (pointer, reference) in found {
        let scope = if v31 {
            scopes
                .iter()
                .filter(|s| pointer.starts_with(&format!("{s}/")))
                .max_by_key(|s| s.len())
                .and_then(|s| doc.pointer(s))
                .unwrap_or(doc)
        } else {
            doc
        };
        match refs::classify(&reference) {
            Target::Pointer(p) if scope.pointer(&p).is_none() => problems.push(
                pointer,
                format!("dangling $ref `{reference}`: nothing at `{p}` in this document"),
            ),
            Target::Anchor(a) if !(v31 && anchors.contains(&a)) => problems.push(
                pointer,
                format!("dangling $ref `{reference}`: no `$anchor: {a}` in this document"),
            ),
            Target::External
                if !(v31 && ids.contains(reference.split('#').next().unwrap_or_default())) =>
            {
                problems.push(pointer, external(&reference));
            }
            _ => {}
        }
    }
    for (pointer, value) in mappings {
        match discriminator::mapping_target(&value, dialect).map(|t| refs::classify(&t)) {
            Some(Target::Pointer(p)) if doc.pointer(&p).is_none() => problems.push(
                pointer,
                format!("discriminator mapping `{value}` points at nothing (`{p}`)"),
            ),
            None | Some(Target::External | Target::Anchor(_)) => {
                problems.push(pointer, external(&value));
            }
            Some(Target::Pointer(_)) => {}
        }
    }
}

fn external(reference: &str) -> String {
    format!(
        "external $ref `{reference}`: conform resolves references inside the contract only and never fetches"
    )
}
