//! RFC 9535 JSONPath, compiled once at load time (serde_json_path).
//!
//! A *singular* path (only names and indexes, like `$.status`) selects at most
//! one node, and a matcher sees that node. Any other path (wildcards, slices,
//! filters, descendants) selects a node list, and a matcher sees the list as
//! an array, so `$.values[*].id: {unique: true}` means what it says.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;
use serde_json_path::JsonPath;

/// A compiled JSONPath and its source text; clones share the compiled path.
#[derive(Debug, Clone)]
pub struct JPath(std::sync::Arc<Compiled>);

#[derive(Debug)]
struct Compiled {
    src: String,
    path: JsonPath,
    singular: bool,
}

/// What a path selected from a document, ready for a matcher.
#[derive(Debug, Clone)]
pub struct Actual<'a> {
    /// The node (singular path) or the nodes as an array (other paths).
    pub value: Option<Cow<'a, Value>>,
    /// Whether the path selected anything.
    pub exists: bool,
}

impl<'a> Actual<'a> {
    pub fn of(value: Option<&'a Value>) -> Self {
        Actual {
            exists: value.is_some(),
            value: value.map(Cow::Borrowed),
        }
    }
    pub fn owned(value: Option<Value>) -> Actual<'static> {
        Actual {
            exists: value.is_some(),
            value: value.map(Cow::Owned),
        }
    }
}

impl JPath {
    /// Parses a path; the error names the character position.
    pub fn parse(src: &str) -> Result<JPath, String> {
        if let Some(at) = unclosed_string(src) {
            return Err(format!(
                "invalid JSONPath `{src}`: the string literal at position {at} is not closed"
            ));
        }
        let path = JsonPath::parse(src).map_err(|e| {
            let hint = if src.starts_with('$') {
                ""
            } else {
                " (RFC 9535 paths start with `$`, e.g. `$.status`)"
            };
            format!(
                "invalid JSONPath `{src}`: {} at position {}{hint}",
                e.message(),
                e.position()
            )
        })?;
        // RFC 9535 only allows singular queries as comparison operands, so this
        // parses exactly when `src` is singular.
        let singular = JsonPath::parse(&format!("$[?{src} == 0]")).is_ok();
        Ok(JPath(std::sync::Arc::new(Compiled {
            src: src.to_owned(),
            path,
            singular,
        })))
    }

    pub fn as_str(&self) -> &str {
        &self.0.src
    }

    pub fn is_singular(&self) -> bool {
        self.0.singular
    }

    pub fn select<'a>(&self, doc: &'a Value) -> Actual<'a> {
        let nodes = self.0.path.query(doc).all();
        if self.0.singular {
            Actual::of(nodes.first().copied())
        } else {
            Actual {
                exists: !nodes.is_empty(),
                value: Some(Cow::Owned(Value::Array(
                    nodes.into_iter().cloned().collect(),
                ))),
            }
        }
    }

    /// The single node a capture takes; an error says how many matched.
    pub fn exactly_one<'a>(&self, doc: &'a Value) -> Result<&'a Value, usize> {
        let nodes = self.0.path.query(doc).all();
        match nodes.as_slice() {
            [one] => Ok(one),
            other => Err(other.len()),
        }
    }
}

/// The byte offset of a string literal left open at the end of `src`, if
/// any. serde_json_path 0.7 panics (nom's `Incomplete`, "we do not use
/// streaming parsers") on a text that ends inside a `\u` escape, which only
/// an unclosed string can do, so such a text is refused before it is parsed.
fn unclosed_string(src: &str) -> Option<usize> {
    let mut open: Option<(char, usize)> = None;
    let mut chars = src.char_indices();
    while let Some((i, c)) = chars.next() {
        match open {
            None if c == '\'' || c == '"' => open = Some((c, i)),
            None => {}
            Some((quote, _)) if c == quote => open = None,
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(_) => {}
        }
    }
    open.map(|(_, at)| at)
}

impl fmt::Display for JPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn singular_paths_select_a_node_others_an_array() {
        let doc = json!({"status": "DONE", "values": [{"id": "a"}, {"id": "b"}]});
        let p = JPath::parse("$.status").unwrap();
        assert!(p.is_singular());
        assert_eq!(p.select(&doc).value.unwrap().as_ref(), &json!("DONE"));
        let p = JPath::parse("$.values[*].id").unwrap();
        assert!(!p.is_singular());
        assert_eq!(p.select(&doc).value.unwrap().as_ref(), &json!(["a", "b"]));
        let p = JPath::parse("$.missing").unwrap();
        let a = p.select(&doc);
        assert!(!a.exists && a.value.is_none());
        assert!(JPath::parse("$.values[0].id").unwrap().is_singular());
        assert!(!JPath::parse("$..id").unwrap().is_singular());
    }

    #[test]
    fn invalid_paths_explain_themselves() {
        let e = JPath::parse("status").unwrap_err();
        assert!(e.contains("invalid JSONPath `status`"), "{e}");
        assert!(e.contains("position 0"), "{e}");
    }

    #[test]
    fn a_path_ending_inside_an_escape_is_refused_not_a_panic() {
        // Found by fuzzing: serde_json_path panicked on these.
        for src in [
            "$['\\u",
            "$.a['b{{ n }, \\u",
            "$[\"\\uD",
            "$['\\uD800\\u",
            "$['\\uD800\\uD",
            "$[?@.a == '\\u",
        ] {
            let e = JPath::parse(src).unwrap_err();
            assert!(e.contains("is not closed"), "{src}: {e}");
        }
        let e = JPath::parse("$.a['b\\u").unwrap_err();
        assert!(
            e.contains("string literal at position 4 is not closed"),
            "{e}"
        );
        // Closed strings, quotes of the other kind and escaped quotes still parse.
        for src in [
            "$['a\\'b']",
            "$[\"it's\"]",
            "$['\\u00e9']",
            "$[?@.a == \"'\"]",
        ] {
            assert!(JPath::parse(src).is_ok(), "{src}");
        }
        assert!(JPath::parse("$['\\u00e9']").unwrap().is_singular());
    }

    #[test]
    fn exactly_one_counts_matches() {
        let doc = json!({"a": [1, 2]});
        assert_eq!(
            JPath::parse("$.a[0]").unwrap().exactly_one(&doc),
            Ok(&json!(1))
        );
        assert_eq!(JPath::parse("$.a[*]").unwrap().exactly_one(&doc), Err(2));
        assert_eq!(JPath::parse("$.b").unwrap().exactly_one(&doc), Err(0));
    }
}
