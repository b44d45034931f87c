//! Compiled regexes and JSONPaths shared by every place that writes the same
//! text: a suite of thousands of scenarios repeats the same few patterns, and
//! each compiled regex also carries its own search caches.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use regex::Regex;

use crate::expr::jsonpath::JPath;

/// Compiles each distinct pattern once per suite. Shared by the threads that
/// compile plans while the suite runs: each lookup holds a lock only for the
/// lookup itself (two threads may both compile a new pattern; one copy stays).
#[derive(Debug, Default)]
pub struct Interner {
    regexes: Mutex<HashMap<String, Regex>>,
    paths: Mutex<HashMap<String, JPath>>,
}

fn get_or_compile<T: Clone, E>(
    map: &Mutex<HashMap<String, T>>,
    key: &str,
    compile: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, E> {
    let found = map
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .cloned();
    if let Some(v) = found {
        return Ok(v);
    }
    let v = compile(key)?;
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(map.entry(key.to_owned()).or_insert(v).clone())
}

impl Interner {
    /// The compiled regex for `pattern` (clones share one program and cache pool).
    pub fn regex(&self, pattern: &str) -> Result<Regex, regex::Error> {
        get_or_compile(&self.regexes, pattern, Regex::new)
    }

    /// The compiled JSONPath for `src`.
    pub fn path(&self, src: &str) -> Result<JPath, String> {
        get_or_compile(&self.paths, src, JPath::parse)
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        (
            self.regexes.lock().unwrap().len(),
            self.paths.lock().unwrap().len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_compiles_once() {
        let i = Interner::default();
        let a = i.regex("^application/json").unwrap();
        let b = i.regex("^application/json").unwrap();
        assert_eq!(a.as_str(), b.as_str());
        assert_eq!(i.sizes(), (1, 0));
        i.path("$.status").unwrap();
        i.path("$.status").unwrap();
        assert_eq!(i.sizes(), (1, 1));
        assert!(i.regex("(").is_err());
        assert!(i.path("status").is_err());
    }
}
