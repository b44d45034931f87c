//! JSON pointers and `$ref`s inside one document: escaping, classifying,
//! following. Nothing here ever leaves the document.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use serde_json::Value;

/// How many `$ref` hops a chain may take before it counts as a cycle.
const MAX_HOPS: usize = 64;

/// Characters a URI fragment may not hold as is (RFC 3986), plus `%` itself.
const FRAGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// One pointer token: `~` as `~0`, `/` as `~1`.
pub(crate) fn escape(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// `pointer` extended by one token.
pub(crate) fn child(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape(token))
}

/// The unescaped tokens of `pointer` (`""` has none).
pub(crate) fn segments(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
}

/// A pointer written as a URI fragment (`{`, `}`, spaces... percent-encoded),
/// ready to follow `urn:openapi#`.
pub(crate) fn to_fragment(pointer: &str) -> String {
    utf8_percent_encode(pointer, FRAGMENT).to_string()
}

/// A URI fragment back to the pointer it encodes.
pub(crate) fn from_fragment(fragment: &str) -> String {
    percent_decode_str(fragment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Where a `$ref` string points.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// `#/a/b`: a JSON pointer into this document (decoded; `""` is the root).
    Pointer(String),
    /// `#name`: a JSON Schema plain-name anchor (`$anchor`).
    Anchor(String),
    /// Anything else: another file or a URL.
    External,
}

pub(crate) fn classify(reference: &str) -> Target {
    match reference.strip_prefix('#') {
        Some(fragment) if fragment.is_empty() || fragment.starts_with('/') => {
            Target::Pointer(from_fragment(fragment))
        }
        Some(anchor) => Target::Anchor(from_fragment(anchor)),
        None => Target::External,
    }
}

/// Why a `$ref` chain has no end.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Broken {
    Missing,
    External,
    Cycle,
}

/// The value at `pointer` and, when it is a `{$ref: "#/..."}` object, the end
/// of its chain: the final pointer and value.
pub(crate) fn follow<'a>(doc: &'a Value, pointer: &str) -> Result<(String, &'a Value), Broken> {
    let mut pointer = pointer.to_owned();
    let mut value = doc.pointer(&pointer).ok_or(Broken::Missing)?;
    for _ in 0..MAX_HOPS {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Ok((pointer, value));
        };
        let Target::Pointer(next) = classify(reference) else {
            return Err(Broken::External);
        };
        value = doc.pointer(&next).ok_or(Broken::Missing)?;
        pointer = next;
    }
    Err(Broken::Cycle)
}

/// [`follow`], with a broken chain as `None` (the reference check reports it).
pub(crate) fn resolve<'a>(doc: &'a Value, pointer: &str) -> Option<(String, &'a Value)> {
    follow(doc, pointer).ok()
}

/// Follows a schema's own `$ref` chain (schemas only; `None` as for [`resolve`]).
pub(crate) fn deref<'a>(doc: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        None => Some(schema),
        Some(reference) => match classify(reference) {
            Target::Pointer(p) => resolve(doc, &p).map(|(_, v)| v),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pointers_escape_and_encode() {
        let p = child("/paths", "/v1/jobs/{id}:cancel");
        assert_eq!(p, "/paths/~1v1~1jobs~1{id}:cancel");
        assert_eq!(to_fragment(&p), "/paths/~1v1~1jobs~1%7Bid%7D:cancel");
        assert_eq!(from_fragment(&to_fragment(&p)), p);
        assert_eq!(
            segments("/a~1b/c~0d").collect::<Vec<_>>(),
            vec!["a/b".to_owned(), "c~d".to_owned()]
        );
        assert_eq!(segments("").count(), 0);
    }

    #[test]
    fn references_are_classified() {
        assert_eq!(
            classify("#/components/schemas/A%20B"),
            Target::Pointer("/components/schemas/A B".into())
        );
        assert_eq!(classify("#"), Target::Pointer(String::new()));
        assert_eq!(classify("#node"), Target::Anchor("node".into()));
        assert_eq!(classify("other.yaml#/A"), Target::External);
        assert_eq!(classify("https://x.test/s.json"), Target::External);
    }

    #[test]
    fn chains_are_followed_and_cycles_stop() {
        let doc = json!({"a": {"$ref": "#/b"}, "b": {"$ref": "#/c"}, "c": {"ok": 1},
                         "x": {"$ref": "#/y"}, "y": {"$ref": "#/x"}, "d": {"$ref": "#/nope"}});
        let (p, v) = resolve(&doc, "/a").expect("resolves");
        assert_eq!((p.as_str(), v), ("/c", &json!({"ok": 1})));
        assert_eq!(follow(&doc, "/x").map(|_| ()), Err(Broken::Cycle));
        assert_eq!(follow(&doc, "/d").map(|_| ()), Err(Broken::Missing));
    }
}
