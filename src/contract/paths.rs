//! Matching concrete request paths to the contract's path templates.
//!
//! A template becomes an anchored regex: `{name}` matches one segment
//! (`[^/]+`), everything else is literal, `:` and `.` included, so
//! `/v1/jobs/{id}:cancel` and `/query_spec:nodes_async_cancel` both work (a
//! web router would read `:cancel` as a parameter). All templates sit in one
//! `RegexSet`; among the matches that have the method, the template with
//! more literal characters wins (concrete before templated, as OpenAPI
//! asks), then the one with fewer parameters, then document order.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;
use regex::RegexSet;

/// The regex for one template and its count of literal characters, or why
/// the template is malformed.
pub(crate) fn template_regex(template: &str) -> Result<(String, usize, usize), String> {
    let mut pattern = String::from("^");
    let mut literal = 0;
    let mut params = 0;
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!(
                "path template `{template}` has a `}}` without `{{`"
            ));
        }
        let text = &rest[..open];
        pattern.push_str(&regex::escape(text));
        literal += text.chars().count();
        let after = &rest[open + 1..];
        let close = after
            .find(['{', '}', '/'])
            .filter(|&i| after[i..].starts_with('}'))
            .ok_or_else(|| format!("path template `{template}` has an unclosed `{{`"))?;
        if close == 0 {
            return Err(format!("path template `{template}` has an empty `{{}}`"));
        }
        pattern.push_str("[^/]+");
        params += 1;
        rest = &after[close + 1..];
    }
    pattern.push_str(&regex::escape(rest));
    literal += rest.chars().count();
    pattern.push('$');
    Ok((pattern, literal, params))
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
        })
    }

    /// The operation index for `method` (any case) and a concrete `path`.
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<usize> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        self.find_exact(method, path).or_else(|| {
            // `/jobs/a%3Acancel` is `/jobs/a:cancel`; `%2F` stays inside its segment.
            path.contains('%')
                .then(|| decode_segments(path))
                .and_then(|decoded| self.find_exact(method, &decoded))
        })
    }

    fn find_exact(&self, method: &str, path: &str) -> Option<usize> {
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
        let mut best: Option<(usize, usize, usize)> = None;
        for slot in self.set.matches(path).iter() {
            let Some(entry) = self.entries.get(slot) else {
                continue;
            };
            let Some(index) = with_method(entry) else {
                continue;
            };
            let (literal, params) = (&entry.literal, &entry.params);
            let better = best.is_none_or(|(l, p, i)| {
                (
                    *literal,
                    std::cmp::Reverse(*params),
                    std::cmp::Reverse(index),
                ) > (l, std::cmp::Reverse(p), std::cmp::Reverse(i))
            });
            if better {
                best = Some((*literal, *params, index));
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

    fn index(ops: &[(&str, &str)]) -> PathIndex {
        PathIndex::new(ops.iter().copied()).expect("valid templates")
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
    fn malformed_templates_are_refused() {
        for bad in ["/a/{id", "/a/id}", "/a/{}", "/a/{x/y}"] {
            assert!(template_regex(bad).is_err(), "{bad}");
        }
        let (pattern, literal, params) = template_regex("/a.b/{x}.json").expect("valid");
        assert_eq!(pattern, r"^/a\.b/[^/]+\.json$");
        assert_eq!((literal, params), (10, 1));
    }
}
