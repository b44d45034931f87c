//! `{{ name }}` templates: variables, captures and `{{ env.NAME }}`.
//!
//! The syntax is deliberately small: a placeholder holds one variable name or
//! `env.` and an environment variable name, nothing else. That keeps every use
//! checkable before a request is sent (a variable used before any step
//! captures it is a load error), which a general template engine would not.
//! A string that is exactly one placeholder renders to the variable's JSON
//! value with its type; placeholders inside a longer string render as text.

use std::collections::BTreeMap;

use serde_json::Value;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Lit(String),
    Var(String),
    Env(String),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// One piece of a rendered template: literal text, or a substituted value.
#[derive(Debug, Clone, PartialEq)]
pub enum Part<'a> {
    Lit(&'a str),
    Value(Value),
}

/// A problem in a template, at a character offset of the string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateSyntaxError {
    pub offset: usize,
    pub message: String,
}

/// A variable the template needs has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("variable `{0}` has no value (no earlier step captured it)")]
    Unset(String),
    #[error("environment variable `{0}` is not set")]
    EnvUnset(String),
}

/// The values templates render from.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub values: BTreeMap<String, Value>,
    pub env: std::sync::Arc<BTreeMap<String, String>>,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Where `c` first appears twice in a row in `s` (`{{` or `}}`): a byte
/// search, as a template is parsed for every string of every case file.
fn find_pair(s: &str, c: u8) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&x| x == c) {
        let at = from + i;
        if b.get(at + 1) == Some(&c) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

impl Template {
    /// Parses a string; text without `{{` is a single literal.
    pub fn parse(s: &str) -> Result<Template, TemplateSyntaxError> {
        let mut segments = Vec::new();
        let mut rest = s;
        let mut consumed = 0usize;
        while let Some(open) = find_pair(rest, b'{') {
            if open > 0 {
                segments.push(Segment::Lit(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let Some(close) = find_pair(after, b'}') else {
                return Err(TemplateSyntaxError {
                    offset: s[..consumed + open].chars().count(),
                    message: "`{{` is not closed by `}}`".into(),
                });
            };
            let inner = after[..close].trim();
            let seg = if let Some(name) = inner.strip_prefix("env.") {
                if !is_ident(name) {
                    return Err(TemplateSyntaxError {
                        offset: s[..consumed + open].chars().count(),
                        message: format!("`{inner}` is not an environment variable name"),
                    });
                }
                Segment::Env(name.to_owned())
            } else if is_ident(inner) {
                Segment::Var(inner.to_owned())
            } else {
                return Err(TemplateSyntaxError {
                    offset: s[..consumed + open].chars().count(),
                    message: format!(
                        "`{{{{ {inner} }}}}` is not a variable: a placeholder holds one name (letters, digits, `_`, `-`) or `env.NAME`"
                    ),
                });
            };
            segments.push(seg);
            let used = open + 2 + close + 2;
            consumed += used;
            rest = &rest[used..];
        }
        if !rest.is_empty() || segments.is_empty() {
            segments.push(Segment::Lit(rest.to_owned()));
        }
        Ok(Template { segments })
    }

    pub fn is_literal(&self) -> bool {
        self.segments.iter().all(|s| matches!(s, Segment::Lit(_)))
    }

    /// Variable names (not environment variables) the template uses.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// Environment variable names the template uses.
    pub fn env_vars(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Env(v) => Some(v.as_str()),
            _ => None,
        })
    }

    fn lookup(seg: &Segment, vars: &Vars) -> Result<Value, RenderError> {
        match seg {
            Segment::Lit(s) => Ok(Value::String(s.clone())),
            Segment::Var(v) => vars
                .get(v)
                .cloned()
                .ok_or_else(|| RenderError::Unset(v.clone())),
            Segment::Env(e) => vars
                .env
                .get(e)
                .map(|s| Value::String(s.clone()))
                .ok_or_else(|| RenderError::EnvUnset(e.clone())),
        }
    }

    /// Renders to a JSON value: a lone placeholder keeps its value's type.
    pub fn render_value(&self, vars: &Vars) -> Result<Value, RenderError> {
        if let [seg] = self.segments.as_slice() {
            return Self::lookup(seg, vars);
        }
        self.render_string(vars).map(Value::String)
    }

    /// Renders to text: strings as they are, other values as JSON.
    pub fn render_string(&self, vars: &Vars) -> Result<String, RenderError> {
        self.render_encoded(vars, |s| s.to_owned())
    }

    /// The literal pieces and the substituted values, in order (a request
    /// path encodes each value by the parameter it fills).
    pub fn render_parts(&self, vars: &Vars) -> Result<Vec<Part<'_>>, RenderError> {
        self.segments
            .iter()
            .map(|seg| match seg {
                Segment::Lit(s) => Ok(Part::Lit(s)),
                other => Self::lookup(other, vars).map(Part::Value),
            })
            .collect()
    }

    /// Renders to text, passing each substituted value (not the literal
    /// text) through `encode`.
    pub fn render_encoded(
        &self,
        vars: &Vars,
        encode: impl Fn(&str) -> String,
    ) -> Result<String, RenderError> {
        let mut out = String::new();
        for seg in &self.segments {
            if let Segment::Lit(s) = seg {
                out.push_str(s);
                continue;
            }
            match Self::lookup(seg, vars)? {
                Value::String(s) => out.push_str(&encode(&s)),
                other => out.push_str(&encode(&other.to_string())),
            }
        }
        Ok(out)
    }
}

/// A JSON value whose strings may hold templates.
#[derive(Debug, Clone, PartialEq)]
pub enum TValue {
    /// No template anywhere inside.
    Lit(Value),
    Str(Template),
    Array(Vec<TValue>),
    Object(Vec<(String, TValue)>),
}

/// A template problem inside a JSON value, with the JSON pointer where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueTemplateError {
    pub pointer: String,
    pub message: String,
}

/// Whether a string or key anywhere in `v` holds `{{`: a template, or a
/// key that would be refused for holding one.
fn holds_braces(v: &Value) -> bool {
    // memchr's search, compiled in memchr: a debug build of conform scans
    // a 5 MiB body as fast as a release build.
    let braces = |s: &str| memchr::memmem::find(s.as_bytes(), b"{{").is_some();
    match v {
        Value::String(s) => braces(s),
        Value::Array(items) => items.iter().any(holds_braces),
        Value::Object(map) => map.iter().any(|(k, item)| braces(k) || holds_braces(item)),
        _ => false,
    }
}

impl TValue {
    /// Compiles every string of `v`; keys must not hold templates.
    pub fn compile(v: &Value) -> Result<TValue, ValueTemplateError> {
        Self::compile_at(v, &mut String::new())
    }

    fn compile_at(v: &Value, ptr: &mut String) -> Result<TValue, ValueTemplateError> {
        // A part with no `{{` anywhere (the bulk of a large body) is copied
        // once, not rebuilt level by level.
        if !holds_braces(v) {
            return Ok(TValue::Lit(v.clone()));
        }
        Ok(match v {
            // Past the check above, every string here holds `{{`.
            Value::String(s) => {
                let t = Template::parse(s).map_err(|e| ValueTemplateError {
                    pointer: ptr.clone(),
                    message: e.message,
                })?;
                TValue::Str(t)
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = ptr.len();
                    ptr.push_str(&format!("/{i}"));
                    out.push(Self::compile_at(item, ptr)?);
                    ptr.truncate(len);
                }
                TValue::Array(out)
            }
            Value::Object(map) => {
                let mut out = Vec::with_capacity(map.len());
                for (k, item) in map {
                    let len = ptr.len();
                    ptr.push('/');
                    ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    if k.contains("{{") {
                        return Err(ValueTemplateError {
                            pointer: ptr.clone(),
                            message: format!(
                                "key `{k}` holds a template; templates are allowed in values only"
                            ),
                        });
                    }
                    out.push((k.clone(), Self::compile_at(item, ptr)?));
                    ptr.truncate(len);
                }
                TValue::Object(out)
            }
            other => TValue::Lit(other.clone()),
        })
    }

    pub fn render(&self, vars: &Vars) -> Result<Value, RenderError> {
        Ok(match self {
            TValue::Lit(v) => v.clone(),
            TValue::Str(t) => t.render_value(vars)?,
            TValue::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(vars))
                    .collect::<Result<_, _>>()?,
            ),
            TValue::Object(items) => Value::Object(
                items
                    .iter()
                    .map(|(k, i)| Ok((k.clone(), i.render(vars)?)))
                    .collect::<Result<_, RenderError>>()?,
            ),
        })
    }

    /// Renders straight to JSON text: the bytes of
    /// `serde_json::to_vec(&self.render(vars)?)`, without building the value
    /// (objects keep their compiled order, which is the map's).
    pub fn render_json(&self, vars: &Vars, out: &mut Vec<u8>) -> Result<(), RenderError> {
        // Through `Display`, whose serialiser serde_json compiles itself:
        // a debug build of conform then writes a 5 MiB body some ten times
        // faster than through a `to_writer` compiled here.
        let write = |out: &mut Vec<u8>, v: &Value| {
            use std::io::Write;
            write!(out, "{v}").expect("a JSON value serialises");
        };
        match self {
            TValue::Lit(v) => write(out, v),
            TValue::Str(t) => write(out, &t.render_value(vars)?),
            TValue::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.render_json(vars, out)?;
                }
                out.push(b']');
            }
            TValue::Object(items) => {
                out.push(b'{');
                for (i, (k, item)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, k).expect("a string serialises");
                    out.push(b':');
                    item.render_json(vars, out)?;
                }
                out.push(b'}');
            }
        }
        Ok(())
    }

    /// Every template inside, for static checks.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    /// JSON pointers of the values that hold a template.
    pub fn template_pointers(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.pointers_at(&mut String::new(), &mut out);
        out
    }

    fn pointers_at(&self, ptr: &mut String, out: &mut Vec<String>) {
        match self {
            TValue::Lit(_) => {}
            TValue::Str(_) => out.push(ptr.clone()),
            TValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = ptr.len();
                    ptr.push_str(&format!("/{i}"));
                    item.pointers_at(ptr, out);
                    ptr.truncate(len);
                }
            }
            TValue::Object(items) => {
                for (k, item) in items {
                    let len = ptr.len();
                    ptr.push('/');
                    ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    item.pointers_at(ptr, out);
                    ptr.truncate(len);
                }
            }
        }
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            TValue::Lit(_) => {}
            TValue::Str(t) => out.push(t),
            TValue::Array(items) => items.iter().for_each(|i| i.collect(out)),
            TValue::Object(items) => items.iter().for_each(|(_, i)| i.collect(out)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.set("id", json!("qr-1"));
        v.set("n", json!(42));
        v.env = std::sync::Arc::new([("HOME_X".to_owned(), "/h".to_owned())].into());
        v
    }

    #[test]
    fn whole_value_keeps_type_and_text_interpolates() {
        let t = Template::parse("{{ n }}").unwrap();
        assert_eq!(t.render_value(&vars()).unwrap(), json!(42));
        let t = Template::parse("/q/{{id}}/{{ n }}?h={{ env.HOME_X }}").unwrap();
        assert_eq!(t.render_value(&vars()).unwrap(), json!("/q/qr-1/42?h=/h"));
        assert_eq!(t.vars().collect::<Vec<_>>(), ["id", "n"]);
        assert_eq!(t.env_vars().collect::<Vec<_>>(), ["HOME_X"]);
        assert_eq!(
            t.render_parts(&vars()).unwrap(),
            [
                Part::Lit("/q/"),
                Part::Value(json!("qr-1")),
                Part::Lit("/"),
                Part::Value(json!(42)),
                Part::Lit("?h="),
                Part::Value(json!("/h")),
            ]
        );
    }

    #[test]
    fn syntax_errors_have_offsets() {
        let e = Template::parse("ab {{ id").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(e.message.contains("not closed"));
        let e = Template::parse("{{ a.b }}").unwrap_err();
        assert!(e.message.contains("not a variable"), "{}", e.message);
        assert!(Template::parse("{{ env.1x }}").is_err());
    }

    #[test]
    fn unset_variables_are_reported() {
        let t = Template::parse("{{ nope }}").unwrap();
        assert_eq!(
            t.render_value(&vars()),
            Err(RenderError::Unset("nope".into()))
        );
        let t = Template::parse("{{ env.NOPE }}").unwrap();
        assert_eq!(
            t.render_value(&vars()),
            Err(RenderError::EnvUnset("NOPE".into()))
        );
    }

    #[test]
    fn values_render_recursively_and_refuse_templated_keys() {
        let v = json!({"a": ["{{ id }}", 1], "b": {"c": "{{ n }}"}, "d": "plain"});
        let t = TValue::compile(&v).unwrap();
        assert_eq!(
            t.render(&vars()).unwrap(),
            json!({"a": ["qr-1", 1], "b": {"c": 42}, "d": "plain"})
        );
        assert_eq!(t.templates().len(), 2);
        assert_eq!(t.template_pointers(), ["/a/0", "/b/c"]);
        let e = TValue::compile(&json!({"x": {"{{ id }}": 1}})).unwrap_err();
        assert_eq!(e.pointer, "/x/{{ id }}");
        let e = TValue::compile(&json!({"x": ["ok", "{{ bad"]})).unwrap_err();
        assert_eq!(e.pointer, "/x/1");
    }

    #[test]
    fn json_text_is_the_rendered_value_serialised() {
        let cases = [
            json!({"b": {"c": "{{ n }}", "a": "x\"y{{ id }}"}, "a": ["{{ id }}", 1, null], "k\u{1}": {}}),
            json!(["{{ n }}", [], {"z": "{{ id }}", "y": [true, "{{ n }}"]}]),
            json!("{{ id }}"),
            json!({"plain": [1.5, "ü"]}),
        ];
        for v in cases {
            let t = TValue::compile(&v).unwrap();
            let mut text = Vec::new();
            t.render_json(&vars(), &mut text).unwrap();
            let expected = serde_json::to_vec(&t.render(&vars()).unwrap()).unwrap();
            assert_eq!(
                String::from_utf8(text).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
        let t = TValue::compile(&json!({"a": [1, "{{ nope }}"]})).unwrap();
        assert_eq!(
            t.render_json(&vars(), &mut Vec::new()),
            Err(RenderError::Unset("nope".into()))
        );
    }

    #[test]
    fn literal_values_stay_literal() {
        let v = json!({"a": [1, 2], "b": "x"});
        assert_eq!(TValue::compile(&v).unwrap(), TValue::Lit(v));
    }
}
