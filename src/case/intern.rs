//! Compiled regexes and JSONPaths shared by every place that writes the same
//! text: a suite of thousands of scenarios repeats the same few patterns, and
//! each compiled regex also carries its own search caches.

use std::collections::HashMap;

use regex::Regex;

use crate::jsonpath::JPath;

/// Compiles each distinct pattern once per suite.
#[derive(Debug, Default)]
pub struct Interner {
    regexes: HashMap<String, Regex>,
    paths: HashMap<String, JPath>,
}

impl Interner {
    /// The compiled regex for `pattern` (clones share one program and cache pool).
    pub fn regex(&mut self, pattern: &str) -> Result<Regex, regex::Error> {
        if let Some(r) = self.regexes.get(pattern) {
            return Ok(r.clone());
        }
        let r = Regex::new(pattern)?;
        self.regexes.insert(pattern.to_owned(), r.clone());
        Ok(r)
    }

    /// The compiled JSONPath for `src`.
    pub fn path(&mut self, src: &str) -> Result<JPath, String> {
        if let Some(p) = self.paths.get(src) {
            return Ok(p.clone());
        }
        let p = JPath::parse(src)?;
        self.paths.insert(src.to_owned(), p.clone());
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_compiles_once() {
        let mut i = Interner::default();
        let a = i.regex("^application/json").unwrap();
        let b = i.regex("^application/json").unwrap();
        assert_eq!(a.as_str(), b.as_str());
        assert_eq!(i.regexes.len(), 1);
        i.path("$.status").unwrap();
        i.path("$.status").unwrap();
        assert_eq!(i.paths.len(), 1);
        assert!(i.regex("(").is_err());
        assert!(i.path("status").is_err());
    }
}
