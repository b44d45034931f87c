//! Matching concrete request paths to the contract's path templates.
//!
//! A template becomes an anchored regex: `{name}` matches one segment
//! (`[^/]+`), everything else is literal, `:` and `.` included, so
//! `/v1/jobs/{id}:cancel` and `/query_spec:nodes_async_cancel` both work (a
//! web router would read `:cancel` as a parameter). All templates sit in one
//! `RegexSet`; among the matches that have the method, the template with
//! more literal characters wins (concrete before templated, as OpenAPI
//! asks), then the one with fewer parameters, then document order.
//!
//! A path parameter that may hold `/` (`x-multi-segment: true` or
//! `allowReserved: true`) matches across segments (`(.+)`), so
//! `/repos/{owner}/{repo}/git/ref/{ref}` finds `/repos/o/r/git/ref/heads/main`.
//! Such templates sit in a second set, built from the operations'
//! parameters at the first lookup, and compete with the others by the same
//! order.

use std::collections::HashMap;
use std::sync::OnceLock;

use percent_encoding::percent_decode_str;
use regex::RegexSet;

/// The anchored regex of one template, one capture group per parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pub(crate) regex: String,
    /// Characters outside `{...}`.
    pub(crate) literal: usize,
    /// The parameters' names, in the order of their groups.
    pub(crate) names: Vec<String>,
}

/// The regex of one template, where each parameter for which `spans`
/// holds matches across `/` (`(.+)`) and every other one segment
/// (`([^/]+)`), or why the template is malformed.
pub(crate) fn template_captures(
    template: &str,
    spans: impl Fn(&str) -> bool,
) -> Result<Pattern, String> {
    let mut regex = String::from("^");
    let mut literal = 0;
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!(
                "path template `{template}` has a `}}` without `{{`"
            ));
        }
        let text = &rest[..open];
        regex.push_str(&regex::escape(text));
        literal += text.chars().count();
        let after = &rest[open + 1..];
        let close = after
            .find(['{', '}', '/'])
            .filter(|&i| after[i..].starts_with('}'))
            .ok_or_else(|| format!("path template `{template}` has an unclosed `{{`"))?;
        if close == 0 {
            return Err(format!("path template `{template}` has an empty `{{}}`"));
        }
        let name = &after[..close];
        regex.push_str(if spans(name) { "(.+)" } else { "([^/]+)" });
        names.push(name.to_owned());
        rest = &after[close + 1..];
    }
    regex.push_str(&regex::escape(rest));
    literal += rest.chars().count();
    regex.push('$');
    Ok(Pattern {
        regex,
        literal,
        names,
    })
}

/// The regex for one template (every parameter one segment), its count of
/// literal characters and of parameters, or why the template is malformed.
pub(crate) fn template_regex(template: &str) -> Result<(String, usize, usize), String> {
    let p = template_captures(template, |_| false)?;
    Ok((p.regex, p.literal, p.names.len()))
}

/// An operation whose template has a parameter that may span `/`.
#[derive(Debug)]
pub(crate) struct Spanning {
    /// The operation's index.
    pub(crate) index: usize,
    /// Uppercase.
    pub(crate) method: String,
    pub(crate) pattern: Pattern,
}

/// The spanning templates as one `RegexSet`.
#[derive(Debug)]
struct SpanningSet {
    set: RegexSet,
    ops: Vec<Spanning>,
}

/// All templates of a contract, for lookups by method and path.
#[derive(Debug)]
pub(crate) struct PathIndex {
    set: RegexSet,
    /// One per pattern of `set`.
    entries: Vec<Entry>,
    /// The entries of templates without parameters, by their text: a path
    /// equal to one needs no regex (no templated match can beat it, each
    /// parameter taking at least one character from the literal count).
    literal: HashMap<String, usize>,
    /// Templates whose parameters may span `/` (`x-multi-segment`,
    /// `allowReserved`), matched across segments; they are known from the
    /// operations' parameters, so this is built at the first lookup.
    spanning: OnceLock<SpanningSet>,
}

#[derive(Debug)]
struct Entry {
    literal: usize,
    params: usize,
    /// (uppercase method, operation index) under this template.
    ops: Vec<(String, usize)>,
}

impl PathIndex {
    /// `operations` as (template, uppercase method) in document order.
    pub(crate) fn new<'a>(
        operations: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, String> {
        let mut templates: Vec<&str> = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        let mut literal_slots = HashMap::new();
        for (index, (template, method)) in operations.into_iter().enumerate() {
            let slot = if let Some(i) = templates.iter().position(|t| *t == template) {
                i
            } else {
                let (pattern, literal, params) = template_regex(template)?;
                if params == 0 {
                    literal_slots.insert(template.to_owned(), entries.len());
                }
                templates.push(template);
                patterns.push(pattern);
                entries.push(Entry {
                    literal,
                    params,
                    ops: Vec::new(),
                });
                entries.len() - 1
            };
            if let Some(entry) = entries.get_mut(slot) {
                entry.ops.push((method.to_owned(), index));
            }
        }
        let set = RegexSet::new(&patterns).map_err(|e| format!("path templates: {e}"))?;
        Ok(Self {
            set,
            entries,
            literal: literal_slots,
            spanning: OnceLock::new(),
        })
    }

    /// The operation index for `method` (any case) and a concrete `path`;
    /// `spanning` lists the operations whose parameters may span `/` (asked
    /// once, at the first lookup).
    pub(crate) fn find(
        &self,
        method: &str,
        path: &str,
        spanning: impl FnOnce() -> Vec<Spanning>,
    ) -> Option<usize> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let spanning = self.spanning.get_or_init(|| {
            let ops = spanning();
            match RegexSet::new(ops.iter().map(|s| &s.pattern.regex)) {
                Ok(set) => SpanningSet { set, ops },
                // Every template compiled once already; this cannot fail.
                Err(_) => SpanningSet {
                    set: RegexSet::empty(),
                    ops: Vec::new(),
                },
            }
        });
        self.find_exact(method, path, spanning).or_else(|| {
            // `/jobs/a%3Acancel` is `/jobs/a:cancel`; `%2F` stays inside its segment.
            path.contains('%')
                .then(|| decode_segments(path))
                .and_then(|decoded| self.find_exact(method, &decoded, spanning))
        })
    }

    fn find_exact(&self, method: &str, path: &str, spanning: &SpanningSet) -> Option<usize> {
        let with_method = |entry: &Entry| {
            entry
                .ops
                .iter()
                .find(|(m, _)| m.eq_ignore_ascii_case(method))
                .map(|&(_, index)| index)
        };
        if let Some(index) = self
            .literal
            .get(path)
            .and_then(|&slot| self.entries.get(slot))
            .and_then(with_method)
        {
            return Some(index);
        }
        // (literal characters, parameters, operation index) of each match.
        let single = self.set.matches(path).into_iter().filter_map(|slot| {
            let entry = self.entries.get(slot)?;
            Some((entry.literal, entry.params, with_method(entry)?))
        });
        let across = spanning.set.matches(path).into_iter().filter_map(|i| {
            let s = spanning.ops.get(i)?;
            s.method.eq_ignore_ascii_case(method).then_some((
                s.pattern.literal,
                s.pattern.names.len(),
                s.index,
            ))
        });
        let mut best: Option<(usize, usize, usize)> = None;
        for (literal, params, index) in single.chain(across) {
            let better = best.is_none_or(|(l, p, i)| {
                (literal, std::cmp::Reverse(params), std::cmp::Reverse(index))
                    > (l, std::cmp::Reverse(p), std::cmp::Reverse(i))
            });
            if better {
                best = Some((literal, params, index));
            }
        }
        best.map(|(_, _, index)| index)
    }
}

fn decode_segments(path: &str) -> String {
    path.split('/')
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8_lossy()
                .replace('/', "%2F")
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index whose templates have no parameter that spans `/`.
    struct Plain(PathIndex);

    impl Plain {
        fn find(&self, method: &str, path: &str) -> Option<usize> {
            self.0.find(method, path, Vec::new)
        }
    }

    fn index(ops: &[(&str, &str)]) -> Plain {
        Plain(PathIndex::new(ops.iter().copied()).expect("valid templates"))
    }

    #[test]
    fn colon_custom_methods_match_with_templates() {
        let idx = index(&[
            ("/v1/jobs/{id}:cancel", "POST"),
            ("/api/v1/assessments/query_spec:nodes_async_cancel", "POST"),
            ("/v1/jobs/{id}", "GET"),
        ]);
        assert_eq!(idx.find("post", "/v1/jobs/42:cancel"), Some(0));
        assert_eq!(idx.find("POST", "/v1/jobs/4/2:cancel"), None);
        assert_eq!(idx.find("POST", "/v1/jobs/42:cancelx"), None);
        assert_eq!(
            idx.find("Post", "/api/v1/assessments/query_spec:nodes_async_cancel"),
            Some(1)
        );
        assert_eq!(
            idx.find("POST", "/api/v1/assessments/query_specXnodes_async_cancel"),
            None
        );
        assert_eq!(idx.find("GET", "/v1/jobs/42"), Some(2));
        assert_eq!(idx.find("GET", "/v1/jobs/42?x=1"), Some(2));
        assert_eq!(idx.find("DELETE", "/v1/jobs/42"), None);
        assert_eq!(idx.find("POST", "/v1/jobs/42%3Acancel"), Some(0));
        assert_eq!(idx.find("POST", "/v1/jobs/4%2F2:cancel"), Some(0));
    }

    #[test]
    fn more_literal_characters_win() {
        let idx = index(&[
            ("/users/{id}", "GET"),
            ("/users/me", "GET"),
            ("/{a}/{b}", "GET"),
        ]);
        assert_eq!(idx.find("GET", "/users/me"), Some(1));
        assert_eq!(idx.find("GET", "/users/42"), Some(0));
        assert_eq!(idx.find("GET", "/teams/42"), Some(2));
        // A literal template without the method leaves the path to the
        // templated ones; the same literal path twice keeps document order.
        let idx = index(&[
            ("/users/me", "DELETE"),
            ("/users/{id}", "GET"),
            ("/users/me", "GET"),
            ("/users/me", "get"),
        ]);
        assert_eq!(idx.find("GET", "/users/me"), Some(2));
        assert_eq!(idx.find("PUT", "/users/me"), None);
        let idx = index(&[("/users/me", "DELETE"), ("/users/{id}", "GET")]);
        assert_eq!(idx.find("GET", "/users/me"), Some(1));
        assert_eq!(idx.find("GET", "/users/me/x"), None);
    }

    #[test]
    fn spanning_parameters_match_across_segments() {
        let templates = [
            ("/repos/{owner}/{repo}/git/ref/{ref}", "GET"),
            ("/repos/{owner}/{repo}/git/ref/{ref}/x", "GET"),
            ("/repos/{owner}/{repo}/git/ref/heads/{name}", "GET"),
            ("/files/{path}", "GET"),
        ];
        let idx = PathIndex::new(templates).expect("valid templates");
        let spanning = || {
            [0, 3]
                .into_iter()
                .map(|index| {
                    let (template, method) = templates[index];
                    let pattern = template_captures(template, |n| n == "ref" || n == "path");
                    Spanning {
                        index,
                        method: method.into(),
                        pattern: pattern.expect("valid"),
                    }
                })
                .collect()
        };
        let find = |path: &str| idx.find("GET", path, spanning);
        assert_eq!(find("/repos/o/r/git/ref/v1"), Some(0));
        assert_eq!(find("/repos/o/r/git/ref/tags/v1"), Some(0));
        assert_eq!(find("/repos/o/r/git/ref/tags/v1/x"), Some(0));
        assert_eq!(find("/repos/o/r/git/ref/v1/x"), Some(1));
        // More literal characters still win.
        assert_eq!(find("/repos/o/r/git/ref/heads/main"), Some(2));
        assert_eq!(find("/repos/o/r/git/ref/heads%2Fmain"), Some(0));
        assert_eq!(find("/files/docs/README.md"), Some(3));
        assert_eq!(find("/files/"), None);
        // Without the parameters, `/` ends a parameter's segment.
        let plain = PathIndex::new(templates).expect("valid templates");
        assert_eq!(plain.find("GET", "/files/docs/README.md", Vec::new), None);
        let pattern = template_captures("/a/{x}/{y}.json", |n| n == "y").expect("valid");
        assert_eq!(pattern.regex, r"^/a/([^/]+)/(.+)\.json$");
        assert_eq!(pattern.names, ["x", "y"]);
        assert_eq!(pattern.literal, 9);
    }

    #[test]
    fn malformed_templates_are_refused() {
        for bad in ["/a/{id", "/a/id}", "/a/{}", "/a/{x/y}"] {
            assert!(template_regex(bad).is_err(), "{bad}");
        }
        let (pattern, literal, params) = template_regex("/a.b/{x}.json").expect("valid");
        assert_eq!(pattern, r"^/a\.b/([^/]+)\.json$");
        assert_eq!((literal, params), (10, 1));
    }
}
