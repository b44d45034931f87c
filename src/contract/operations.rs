//! The operations of a document: templates, methods, responses and request
//! bodies, with the JSON pointer of every schema, in document order.
//!
//! OpenAPI 3.x: `responses.<key>.content.<media type>.schema` and
//! `requestBody.content.<media type>.schema`. Swagger 2.0: `basePath` is
//! prepended to every template, a response's `schema` applies to each media
//! type of `produces` (the operation's, else the document's, else
//! `application/json`), and the `in: body` parameter is the request body
//! (media types from `consumes`). Path items, responses, request bodies and
//! parameters may be `$ref`s inside the document. Path, query and header
//! parameters are read by `params`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::Problems;
use super::tree::Node;
use super::{BodySpec, Dialect, Operation, ResponseSpec, params, paths, refs};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const DEFAULT_MEDIA: &str = "application/json";

struct Reader<'a> {
    doc: &'a Value,
    dialect: Dialect,
    tree: Option<&'a Node>,
    problems: &'a mut Problems,
}

pub(crate) fn collect(
    doc: &Value,
    dialect: Dialect,
    tree: Option<&Node>,
    problems: &mut Problems,
) -> Vec<Operation> {
    let mut reader = Reader {
        doc,
        dialect,
        tree,
        problems,
    };
    let operations = reader.operations();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for op in &operations {
        if let Some(first) = seen.insert(&op.id, &op.pointer) {
            reader.problems.push(
                refs::child(&op.pointer, "operationId"),
                format!("operationId `{}` is also used at {first}", op.id),
            );
        }
    }
    operations
}

impl Reader<'_> {
    /// The keys of `map` (found at `pointer`) in document order when known.
    fn keys<'m>(&self, pointer: &str, map: &'m Map<String, Value>) -> Vec<&'m String> {
        let mut ordered: Vec<&'m String> = self
            .tree
            .and_then(|t| t.keys_at(pointer))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|k| map.get_key_value(k).map(|(k, _)| k))
            .collect();
        ordered.dedup();
        if ordered.len() != map.len() {
            ordered = map.keys().collect();
        }
        ordered
    }

    fn operations(&mut self) -> Vec<Operation> {
        let mut out = Vec::new();
        let paths = match self.doc.get("paths") {
            Some(Value::Object(paths)) => paths,
            Some(_) => {
                self.problems.push("/paths", "`paths` must be a mapping");
                return out;
            }
            None => {
                if self.dialect != Dialect::OpenApi31 {
                    self.problems.push("", "the document has no `paths`");
                }
                return out;
            }
        };
        let base = self.base_path();
        for template in self.keys("/paths", paths) {
            if template.starts_with("x-") {
                continue;
            }
            let item_pointer = refs::child("/paths", template);
            if !template.starts_with('/') {
                let message = format!("path `{template}` must start with `/`");
                self.problems.push(item_pointer, message);
                continue;
            }
            let full = format!("{base}{template}");
            if let Err(message) = paths::template_regex(&full) {
                self.problems.push(item_pointer, message);
                continue;
            }
            // A dangling or external `$ref` is reported by the reference check.
            let Some((item_pointer, item)) = refs::resolve(self.doc, &item_pointer) else {
                continue;
            };
            let Value::Object(item) = item else {
                self.problems
                    .push(item_pointer, "a path item must be a mapping");
                continue;
            };
            for method in self.keys(&item_pointer, item) {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let pointer = refs::child(&item_pointer, method);
                match item.get(method) {
                    Some(Value::Object(op)) => {
                        out.push(self.operation(&full, method, &pointer, op, &item_pointer));
                    }
                    _ => self
                        .problems
                        .push(pointer, "an operation must be a mapping"),
                }
            }
        }
        out
    }

    /// Swagger 2.0 `basePath` without its trailing `/`; empty for 3.x.
    fn base_path(&mut self) -> String {
        if self.dialect != Dialect::Swagger2 {
            return String::new();
        }
        match self.doc.get("basePath") {
            None => String::new(),
            Some(Value::String(b)) if b.starts_with('/') => b.trim_end_matches('/').to_owned(),
            Some(_) => {
                self.problems
                    .push("/basePath", "`basePath` must be a string starting with `/`");
                String::new()
            }
        }
    }

    fn operation(
        &mut self,
        template: &str,
        method: &str,
        pointer: &str,
        op: &Map<String, Value>,
        item_pointer: &str,
    ) -> Operation {
        let method = method.to_ascii_uppercase();
        let id = match op.get("operationId") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => format!("{method} {template}"),
        };
        let responses = self.responses(pointer, op);
        let request_body = match self.dialect {
            Dialect::Swagger2 => self.body_parameter(pointer, op, item_pointer),
            Dialect::OpenApi30 | Dialect::OpenApi31 => self.request_body(pointer, op),
        };
        Operation {
            id: id.into(),
            method,
            template: template.to_owned(),
            pointer: pointer.to_owned(),
            responses,
            request_body,
            parameters: params::collect(self.doc, self.dialect, pointer, item_pointer),
            clause: None,
            captures: params::Captures::default(),
        }
    }

    fn responses(&mut self, op_pointer: &str, op: &Map<String, Value>) -> Vec<ResponseSpec> {
        let pointer = refs::child(op_pointer, "responses");
        let responses = match op.get("responses") {
            Some(Value::Object(r)) => r,
            Some(_) => {
                self.problems.push(pointer, "`responses` must be a mapping");
                return Vec::new();
            }
            None => {
                if self.dialect != Dialect::OpenApi31 {
                    self.problems
                        .push(op_pointer, "the operation has no `responses`");
                }
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for key in self.keys(&pointer, responses) {
            if key.starts_with("x-") {
                continue;
            }
            let at = refs::child(&pointer, key);
            if !is_status_key(key) {
                let message = format!(
                    "response key `{key}` is not a status code, a range like `2XX` or `default`"
                );
                self.problems.push(at, message);
                continue;
            }
            let Some((at, response)) = refs::resolve(self.doc, &at) else {
                continue;
            };
            let Value::Object(response) = response else {
                self.problems.push(at, "a response must be a mapping");
                continue;
            };
            let (media_types, schemas) = match self.dialect {
                Dialect::Swagger2 => match response.get("schema") {
                    Some(_) => self.swagger_media("produces", op, &refs::child(&at, "schema")),
                    None => (Vec::new(), Vec::new()),
                },
                Dialect::OpenApi30 | Dialect::OpenApi31 => self.content(&at, response),
            };
            out.push(ResponseSpec {
                key: key.as_str().into(),
                media_types,
                schemas,
                pointer: at,
                clause: None,
            });
        }
        out
    }

    /// Media types of a 3.x `content` map and the pointer of each schema.
    fn content(
        &mut self,
        pointer: &str,
        owner: &Map<String, Value>,
    ) -> (Vec<String>, Vec<Option<String>>) {
        let pointer = refs::child(pointer, "content");
        let content = match owner.get("content") {
            Some(Value::Object(c)) => c,
            Some(_) => {
                self.problems.push(pointer, "`content` must be a mapping");
                return (Vec::new(), Vec::new());
            }
            None => return (Vec::new(), Vec::new()),
        };
        let mut media_types = Vec::new();
        let mut schemas = Vec::new();
        for media in self.keys(&pointer, content) {
            let at = refs::child(&pointer, media);
            let schema = match content.get(media) {
                Some(Value::Object(m)) => m.get("schema").map(|_| refs::child(&at, "schema")),
                _ => {
                    self.problems.push(at, "a media type must be a mapping");
                    continue;
                }
            };
            media_types.push(media.clone());
            schemas.push(schema);
        }
        (media_types, schemas)
    }

    /// Swagger 2.0: `produces`/`consumes` of the operation, else of the
    /// document, else `application/json`, each with the same schema.
    fn swagger_media(
        &self,
        key: &str,
        op: &Map<String, Value>,
        schema: &str,
    ) -> (Vec<String>, Vec<Option<String>>) {
        let list = op
            .get(key)
            .or_else(|| self.doc.get(key))
            .and_then(Value::as_array);
        let mut media: Vec<String> = list
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        if list.is_none() {
            media.push(DEFAULT_MEDIA.to_owned());
        }
        let schemas = vec![Some(schema.to_owned()); media.len()];
        (media, schemas)
    }

    fn request_body(&mut self, op_pointer: &str, op: &Map<String, Value>) -> Option<BodySpec> {
        op.get("requestBody")?;
        let pointer = refs::child(op_pointer, "requestBody");
        let (pointer, body) = refs::resolve(self.doc, &pointer)?;
        let Value::Object(body) = body else {
            self.problems
                .push(pointer, "`requestBody` must be a mapping");
            return None;
        };
        let (media_types, schemas) = self.content(&pointer, body);
        Some(BodySpec {
            required: body.get("required") == Some(&Value::Bool(true)),
            media_types,
            schemas,
        })
    }

    /// Swagger 2.0: the `in: body` parameter, the operation's before the path item's.
    fn body_parameter(
        &self,
        op_pointer: &str,
        op: &Map<String, Value>,
        item_pointer: &str,
    ) -> Option<BodySpec> {
        let found = self
            .body_in(op_pointer)
            .or_else(|| self.body_in(item_pointer))?;
        let (pointer, parameter) = found;
        let required = parameter.get("required") == Some(&Value::Bool(true));
        let (media_types, schemas) =
            self.swagger_media("consumes", op, &refs::child(&pointer, "schema"));
        Some(BodySpec {
            required,
            media_types,
            schemas,
        })
    }

    fn body_in(&self, owner: &str) -> Option<(String, &Map<String, Value>)> {
        let list = refs::child(owner, "parameters");
        let count = self.doc.pointer(&list)?.as_array()?.len();
        (0..count).find_map(|i| {
            let (pointer, parameter) = refs::resolve(self.doc, &format!("{list}/{i}"))?;
            let parameter = parameter.as_object()?;
            (parameter.get("in").and_then(Value::as_str) == Some("body")
                && parameter.contains_key("schema"))
            .then_some((pointer, parameter))
        })
    }
}

/// `200`, `2XX` (any case) or `default`.
fn is_status_key(key: &str) -> bool {
    if key == "default" {
        return true;
    }
    let b = key.as_bytes();
    b.len() == 3
        && (b'1'..=b'5').contains(&b[0])
        && ((b[1].is_ascii_digit() && b[2].is_ascii_digit())
            || (b[1].eq_ignore_ascii_case(&b'X') && b[2].eq_ignore_ascii_case(&b'X')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keys() {
        for ok in ["200", "404", "2XX", "5xx", "default"] {
            assert!(is_status_key(ok), "{ok}");
        }
        for bad in ["20", "600", "2X0", "ok", "Default", "2000"] {
            assert!(!is_status_key(bad), "{bad}");
        }
    }
}
