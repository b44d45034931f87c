//! The parameters of an operation: how each value is written into the path,
//! the query or a header.
//!
//! OpenAPI 3.x: the path item's `parameters`, overridden by the operation's
//! of the same `name` and `in`; `$ref`s resolved. `style` defaults to
//! `simple` in the path and headers and `form` in the query and cookies;
//! `explode` defaults to true for `form` only. A style the location does not
//! allow falls back to the default (the document is not refused for it).
//! A parameter described by `content` (a media type) instead of `schema` is
//! sent as text, as conform always sent values: strings as they are, other
//! values as JSON.
//!
//! Swagger 2.0: `collectionFormat` (default `csv`) is mapped to the 3.x
//! style it stands for: `csv` is `form` without explode in the query and
//! `simple` in the path and headers, `ssv` `spaceDelimited`, `tsv`
//! tab-delimited, `pipes` `pipeDelimited`, `multi` `form` with explode.
//!
//! `x-multi-segment: true` (GitHub's extension) or `allowReserved: true` on a
//! path parameter lets its value hold `/`: the path index matches it across
//! segments and its `/` is sent unencoded.

use std::ops::Range;

use serde_json::{Map, Value};

use super::{Dialect, Operation, paths, refs};

/// Where a parameter goes (`in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamIn {
    Path,
    Query,
    Header,
    Cookie,
}

impl ParamIn {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamIn::Path => "path",
            ParamIn::Query => "query",
            ParamIn::Header => "header",
            ParamIn::Cookie => "cookie",
        }
    }

    fn parse(s: &str) -> Option<ParamIn> {
        Some(match s {
            "path" => ParamIn::Path,
            "query" => ParamIn::Query,
            "header" => ParamIn::Header,
            "cookie" => ParamIn::Cookie,
            _ => return None,
        })
    }

    fn default_style(self) -> Style {
        match self {
            ParamIn::Path | ParamIn::Header => Style::Simple,
            ParamIn::Query | ParamIn::Cookie => Style::Form,
        }
    }
}

/// How a value is serialised (OpenAPI `style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// Path and headers: `blue,black`.
    Simple,
    /// Path: `.blue.black`.
    Label,
    /// Path: `;color=blue;color=black`.
    Matrix,
    /// Query: `color=blue&color=black`.
    Form,
    /// Query: `color=blue%20black`.
    SpaceDelimited,
    /// Query: `color=blue%7Cblack`.
    PipeDelimited,
    /// Query, Swagger 2.0 `tsv` only: `color=blue%09black`.
    TabDelimited,
    /// Query: `color%5BR%5D=100`.
    DeepObject,
}

impl Style {
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Simple => "simple",
            Style::Label => "label",
            Style::Matrix => "matrix",
            Style::Form => "form",
            Style::SpaceDelimited => "spaceDelimited",
            Style::PipeDelimited => "pipeDelimited",
            Style::TabDelimited => "tsv",
            Style::DeepObject => "deepObject",
        }
    }

    fn parse(s: &str) -> Option<Style> {
        Some(match s {
            "simple" => Style::Simple,
            "label" => Style::Label,
            "matrix" => Style::Matrix,
            "form" => Style::Form,
            "spaceDelimited" => Style::SpaceDelimited,
            "pipeDelimited" => Style::PipeDelimited,
            "deepObject" => Style::DeepObject,
            _ => return None,
        })
    }

    /// Whether OpenAPI allows the style at `location`.
    fn allowed_in(self, location: ParamIn) -> bool {
        match self {
            Style::Simple => matches!(location, ParamIn::Path | ParamIn::Header),
            Style::Label | Style::Matrix => location == ParamIn::Path,
            Style::Form => matches!(location, ParamIn::Query | ParamIn::Cookie),
            Style::SpaceDelimited
            | Style::PipeDelimited
            | Style::TabDelimited
            | Style::DeepObject => location == ParamIn::Query,
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub location: ParamIn,
    pub style: Style,
    pub explode: bool,
    /// Reserved characters (RFC 3986) are sent unencoded.
    pub allow_reserved: bool,
    /// `x-multi-segment: true`: a path value may span `/`.
    pub multi_segment: bool,
    /// Described by `content` (a media type), not by a style: sent as text.
    pub content: bool,
    /// The schema's `type` when it names one (`string`, `array`...).
    pub schema_type: Option<String>,
    /// JSON pointer of the parameter object (a `$ref` resolved).
    pub pointer: String,
}

impl Parameter {
    /// What a parameter the operation does not document is taken for: the
    /// location's default style, `explode` as it defaults.
    pub fn undocumented(name: &str, location: ParamIn) -> Parameter {
        let style = location.default_style();
        Parameter {
            name: name.to_owned(),
            location,
            style,
            explode: style == Style::Form,
            allow_reserved: false,
            multi_segment: false,
            content: false,
            schema_type: None,
            pointer: String::new(),
        }
    }

    /// A path parameter whose value may hold `/` unencoded.
    pub fn spans_segments(&self) -> bool {
        self.location == ParamIn::Path && (self.multi_segment || self.allow_reserved)
    }
}

impl Operation {
    /// The parameter `name` documented at `location` (header names in any case).
    pub fn parameter(&self, location: ParamIn, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| {
            p.location == location
                && if location == ParamIn::Header {
                    p.name.eq_ignore_ascii_case(name)
                } else {
                    p.name == name
                }
        })
    }

    /// The names of the path parameters that may span `/`.
    fn spanning(&self) -> impl Fn(&str) -> bool + '_ {
        |name| {
            self.parameter(ParamIn::Path, name)
                .is_some_and(Parameter::spans_segments)
        }
    }
}

/// An operation's compiled template regex and parameter names, once known;
/// a cache, so equal whatever it holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Captures(std::sync::OnceLock<Option<(regex::Regex, Vec<String>)>>);

impl PartialEq for Captures {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Captures {}

/// Where each parameter of `op`'s template sits in the concrete `path` (no
/// query string): (name, byte range), in template order; `None` when the
/// template does not match the path as it is written.
pub fn path_spans(op: &Operation, path: &str) -> Option<Vec<(String, Range<usize>)>> {
    let (re, names) = captures(op)?;
    let caps = re.captures(path)?;
    Some(
        names
            .iter()
            .enumerate()
            .filter_map(|(i, name)| caps.get(i + 1).map(|m| (name.clone(), m.range())))
            .collect(),
    )
}

/// The capturing regex of `op`'s template and its parameter names, compiled
/// once per operation (a request with variables in its path asks on every
/// send).
fn captures(op: &Operation) -> Option<&(regex::Regex, Vec<String>)> {
    op.captures
        .0
        .get_or_init(|| {
            let pattern = paths::template_captures(&op.template, op.spanning()).ok()?;
            let re = regex::Regex::new(&pattern.regex).ok()?;
            Some((re, pattern.names))
        })
        .as_ref()
}

/// The operations with a path parameter that may span `/`, as the path
/// index matches them (built at the index's first lookup).
pub(crate) fn spanning(ops: &[Operation]) -> Vec<paths::Spanning> {
    ops.iter()
        .enumerate()
        .filter(|(_, op)| {
            op.parameters
                .iter()
                .any(|p| p.spans_segments() && op.template.contains(&format!("{{{}}}", p.name)))
        })
        .filter_map(|(index, op)| {
            let pattern = paths::template_captures(&op.template, op.spanning()).ok()?;
            Some(paths::Spanning {
                index,
                method: op.method.clone(),
                pattern,
            })
        })
        .collect()
}

/// The parameters of the operation at `op_pointer` and its path item at
/// `item_pointer`: the operation's first, then those of the path item it
/// does not override (same `name` and `in`).
pub(crate) fn collect(
    doc: &Value,
    dialect: Dialect,
    op_pointer: &str,
    item_pointer: &str,
) -> Vec<Parameter> {
    let mut out = list(doc, dialect, op_pointer);
    for p in list(doc, dialect, item_pointer) {
        if !out
            .iter()
            .any(|o| o.name == p.name && o.location == p.location)
        {
            out.push(p);
        }
    }
    out
}

fn list(doc: &Value, dialect: Dialect, owner: &str) -> Vec<Parameter> {
    let at = refs::child(owner, "parameters");
    let count = doc
        .pointer(&at)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    (0..count)
        .filter_map(|i| {
            let (pointer, p) = refs::resolve(doc, &format!("{at}/{i}"))?;
            parameter(doc, dialect, pointer, p.as_object()?)
        })
        .collect()
}

fn parameter(
    doc: &Value,
    dialect: Dialect,
    pointer: String,
    p: &Map<String, Value>,
) -> Option<Parameter> {
    let name = p.get("name")?.as_str()?.to_owned();
    let location = ParamIn::parse(p.get("in")?.as_str()?)?;
    let flag = |key: &str| p.get(key).and_then(Value::as_bool);
    let (style, explode, schema_type) = match dialect {
        Dialect::Swagger2 => {
            let (style, explode) = collection_format(p, location);
            (style, explode, type_of(p))
        }
        Dialect::OpenApi30 | Dialect::OpenApi31 => {
            let style = p
                .get("style")
                .and_then(Value::as_str)
                .and_then(Style::parse)
                .filter(|s| s.allowed_in(location))
                .unwrap_or_else(|| location.default_style());
            let explode = flag("explode").unwrap_or(style == Style::Form);
            let schema = p.get("schema").and_then(|s| refs::deref(doc, s));
            (style, explode, schema.and_then(type_of))
        }
    };
    Some(Parameter {
        name,
        location,
        style,
        explode,
        allow_reserved: flag("allowReserved").unwrap_or(false),
        multi_segment: flag("x-multi-segment").unwrap_or(false),
        content: dialect != Dialect::Swagger2
            && p.contains_key("content")
            && !p.contains_key("schema"),
        schema_type,
        pointer,
    })
}

/// Swagger 2.0 `collectionFormat` as a style and `explode`.
fn collection_format(p: &Map<String, Value>, location: ParamIn) -> (Style, bool) {
    let format = p
        .get("collectionFormat")
        .and_then(Value::as_str)
        .unwrap_or("csv");
    if location != ParamIn::Query {
        return (location.default_style(), false);
    }
    match format {
        "ssv" => (Style::SpaceDelimited, false),
        "tsv" => (Style::TabDelimited, false),
        "pipes" => (Style::PipeDelimited, false),
        "multi" => (Style::Form, true),
        _ => (Style::Form, false),
    }
}

/// A schema's `type`, when it names one (3.1: the one besides `null`).
fn type_of(schema: &impl TypeHolder) -> Option<String> {
    match schema.type_value()? {
        Value::String(t) => Some(t.clone()),
        Value::Array(types) => {
            let mut named = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null");
            let first = named.next()?;
            named.next().is_none().then(|| first.to_owned())
        }
        _ => None,
    }
}

/// Something with a `type` key: a schema, or a Swagger 2.0 parameter.
trait TypeHolder {
    fn type_value(&self) -> Option<&Value>;
}

impl TypeHolder for Value {
    fn type_value(&self) -> Option<&Value> {
        self.get("type")
    }
}

impl TypeHolder for Map<String, Value> {
    fn type_value(&self) -> Option<&Value> {
        self.get("type")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn collected(dialect: Dialect, doc: Value) -> Vec<Parameter> {
        collect(&doc, dialect, "/paths/~1a/get", "/paths/~1a")
    }

    #[test]
    fn operation_parameters_override_the_path_item_and_refs_resolve() {
        let doc = json!({
            "components": {"parameters": {"ref": {
                "name": "ref", "in": "path", "required": true,
                "schema": {"type": "string"}, "x-multi-segment": true}}},
            "paths": {"/a": {
                "parameters": [
                    {"name": "labels", "in": "query", "schema": {"type": "string"}},
                    {"$ref": "#/components/parameters/ref"},
                    {"name": "body", "in": "body"}
                ],
                "get": {"parameters": [
                    {"name": "labels", "in": "query", "style": "pipeDelimited",
                     "schema": {"type": ["array", "null"]}},
                    {"name": "id", "in": "path", "style": "form"},
                    {"name": "x-tags", "in": "header", "explode": true,
                     "content": {"application/json": {}}}
                ]}
            }}
        });
        let ps = collected(Dialect::OpenApi30, doc);
        let by = |name: &str| ps.iter().find(|p| p.name == name).expect(name);
        assert_eq!(ps.len(), 4, "{ps:#?}");
        assert_eq!(by("labels").style, Style::PipeDelimited);
        assert_eq!(by("labels").schema_type.as_deref(), Some("array"));
        assert!(!by("labels").explode);
        // A style the location does not allow falls back to its default.
        assert_eq!(by("id").style, Style::Simple);
        assert!(by("ref").multi_segment && by("ref").spans_segments());
        assert_eq!(by("ref").pointer, "/components/parameters/ref");
        assert!(by("x-tags").content && by("x-tags").explode);
    }

    #[test]
    fn swagger_collection_formats_map_to_styles() {
        let doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "c", "in": "query", "type": "array"},
            {"name": "s", "in": "query", "type": "array", "collectionFormat": "ssv"},
            {"name": "p", "in": "query", "type": "array", "collectionFormat": "pipes"},
            {"name": "m", "in": "query", "type": "array", "collectionFormat": "multi"},
            {"name": "h", "in": "header", "type": "array", "collectionFormat": "csv"}
        ]}}}});
        let ps = collected(Dialect::Swagger2, doc);
        let styles: Vec<_> = ps.iter().map(|p| (p.style, p.explode)).collect();
        assert_eq!(
            styles,
            [
                (Style::Form, false),
                (Style::SpaceDelimited, false),
                (Style::PipeDelimited, false),
                (Style::Form, true),
                (Style::Simple, false),
            ]
        );
        assert_eq!(ps[0].schema_type.as_deref(), Some("array"));
    }
}
