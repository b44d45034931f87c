//! `x-clause`: the clause of the suite's registry that a part of the
//! contract rests on.
//!
//! An operation, a response or any schema node may carry `x-clause: ID`. A
//! failed contract check is attributed to the nearest one: for a schema
//! violation, the failing keyword's own node or its nearest ancestor in the
//! document (so a mark on a named schema covers every use of it), else the
//! response's mark, else the operation's; for a media type or an
//! undocumented status, the response's or the operation's. A check with no
//! mark anywhere counts as documented. The ids are checked against the
//! suite's registry by `conform lint`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::error::Problems;
use super::refs;
use super::tree::Node;

/// The extension key.
pub const KEY: &str = "x-clause";

/// Deeper than this the walk stops (parsers already refuse such nesting).
const MAX_DEPTH: usize = 256;

/// Members whose values are data, not contract structure.
const DATA: &[&str] = &["example", "examples", "enum", "const", "default"];
/// Members whose values map names (of properties) to schemas: a member
/// named `x-clause` there is a property, not a mark.
const NAMES: &[&str] = &["properties", "patternProperties"];

/// One `x-clause` of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseMark {
    /// Pointer of the object carrying the mark.
    pub pointer: String,
    pub id: Arc<str>,
    /// Where the mark is written (0 when unknown, as for a JSON document).
    pub line: u32,
    pub column: u32,
}

/// Every mark of a document, and the lookup by pointer.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    pub(crate) marks: Vec<ClauseMark>,
    by_pointer: HashMap<String, Arc<str>>,
}

impl Marks {
    /// Collects the marks of `doc`; a mark that is not a string is a problem.
    pub(crate) fn collect(doc: &Value, tree: Option<&Node>, problems: &mut Problems) -> Marks {
        let mut found = Vec::new();
        walk(doc, &mut String::new(), None, 0, &mut found, problems);
        let marks: Vec<ClauseMark> = found
            .into_iter()
            .map(|(pointer, id)| {
                let (line, column) =
                    tree.map_or((0, 0), |t| t.location(&refs::child(&pointer, KEY)));
                ClauseMark {
                    pointer,
                    id: Arc::from(id),
                    line,
                    column,
                }
            })
            .collect();
        let by_pointer = marks
            .iter()
            .map(|m| (m.pointer.clone(), m.id.clone()))
            .collect();
        Marks { marks, by_pointer }
    }

    /// The mark on `pointer` itself.
    pub(crate) fn at(&self, pointer: &str) -> Option<&Arc<str>> {
        if self.by_pointer.is_empty() {
            return None;
        }
        self.by_pointer.get(pointer)
    }

    /// The mark on `pointer` or on its nearest ancestor.
    pub(crate) fn nearest(&self, pointer: &str) -> Option<&Arc<str>> {
        if self.by_pointer.is_empty() {
            return None;
        }
        let mut p = pointer;
        loop {
            if let Some(id) = self.by_pointer.get(p) {
                return Some(id);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// Walks `value` at `pointer` (a buffer extended and cut back per member,
/// so a large document costs no string per node).
fn walk(
    value: &Value,
    pointer: &mut String,
    parent_key: Option<&str>,
    depth: usize,
    found: &mut Vec<(String, String)>,
    problems: &mut Problems,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let len = pointer.len();
    match value {
        Value::Object(map) => {
            let names = parent_key.is_some_and(|k| NAMES.contains(&k));
            if !names && let Some(mark) = map.get(KEY) {
                match mark.as_str().map(str::trim) {
                    Some(id) if !id.is_empty() => found.push((pointer.clone(), id.to_owned())),
                    _ => problems.push(
                        refs::child(pointer, KEY),
                        "`x-clause` names one clause of the suite's registry: a non-empty string such as `D2`",
                    ),
                }
            }
            for (key, child) in map {
                // Extensions (the mark itself among them) and data are not walked.
                if !names && (key.starts_with("x-") || DATA.contains(&key.as_str())) {
                    continue;
                }
                pointer.push('/');
                pointer.push_str(&refs::escape(key));
                walk(
                    child,
                    pointer,
                    if names { None } else { Some(key) },
                    depth + 1,
                    found,
                    problems,
                );
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                use std::fmt::Write as _;
                let _ = write!(pointer, "/{i}");
                walk(child, pointer, None, depth + 1, found, problems);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn marks_are_found_and_the_nearest_wins() {
        let doc = json!({
            "paths": {"/x": {"post": {"x-clause": "D1", "responses": {
                "200": {"x-clause": "D2", "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "x-clause": {"type": "string"},
                        "n": {"x-clause": "A4", "type": "string"}
                    }
                }}}}
            }}}},
            "components": {"schemas": {"S": {"x-clause": "A13", "example": {"x-clause": 5}}}}
        });
        let mut problems = Problems::default();
        let m = Marks::collect(&doc, None, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let ids: Vec<&str> = m.marks.iter().map(|m| &*m.id).collect();
        assert_eq!(ids.len(), 4, "{ids:?}");
        let schema = "/paths/~1x/post/responses/200/content/application~1json/schema";
        assert_eq!(
            m.nearest(&format!("{schema}/properties/n/pattern"))
                .map(|s| &**s),
            Some("A4")
        );
        assert_eq!(
            m.nearest(&format!("{schema}/required")).map(|s| &**s),
            Some("D2")
        );
        assert_eq!(
            m.nearest("/paths/~1x/post/parameters").map(|s| &**s),
            Some("D1")
        );
        assert_eq!(
            m.nearest("/components/schemas/S/properties/id/type")
                .map(|s| &**s),
            Some("A13")
        );
        assert_eq!(m.nearest("/components/schemas/T"), None);
        assert_eq!(m.at("/paths/~1x/post").map(|s| &**s), Some("D1"));
    }

    #[test]
    fn a_mark_that_is_not_a_string_is_a_problem() {
        let doc = json!({"paths": {"/x": {"get": {"x-clause": ["D1", "D2"]}}}});
        let mut problems = Problems::default();
        let m = Marks::collect(&doc, None, &mut problems);
        assert!(m.marks.is_empty());
        assert!(!problems.is_empty());
    }
}
