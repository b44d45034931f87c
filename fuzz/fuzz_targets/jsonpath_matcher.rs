//! A JSONPath, a matcher and a JSON document, evaluated as a scenario's
//! `expect.json` would be: never a panic, whatever the three texts are.
//!
//! Input: the bytes split at the first two NUL bytes into `PATH\0MATCHER\0DOC`
//! (missing parts are empty). MATCHER is read as JSON, else as YAML (the case
//! files' reader options); DOC is read as JSON. The matcher's templates render
//! from a few fixed variables, one of which holds the document.
#![no_main]

use std::sync::Arc;

use conform::expr::jsonpath::{Actual, JPath};
use conform::expr::matcher::Matcher;
use conform::expr::template::{TValue, Template, Vars};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn yaml(text: &str) -> Option<Value> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options(text, options).ok()
}

fn vars(doc: &Value) -> Vars {
    let mut v = Vars::default();
    v.set("id", Value::from("qr-1"));
    v.set("n", Value::from(3));
    v.set("doc", doc.clone());
    v.env = Arc::new([("HOME_X".to_owned(), "/h".to_owned())].into());
    v
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let (Ok(path), Ok(matcher), Ok(doc)) = (
        std::str::from_utf8(parts.next().unwrap_or_default()),
        std::str::from_utf8(parts.next().unwrap_or_default()),
        std::str::from_utf8(parts.next().unwrap_or_default()),
    ) else {
        return;
    };
    let doc: Value = serde_json::from_str(doc).unwrap_or(Value::Null);
    let vars = vars(&doc);

    // The path text is also a template (paths, headers and bodies are).
    if let Ok(t) = Template::parse(path) {
        let _ = t.render_value(&vars);
        let _ = t.render_encoded(&vars, |s| s.replace('/', "%2F"));
    }

    let jpath = JPath::parse(path).ok();
    let actual = match &jpath {
        Some(p) => {
            let a = p.select(&doc);
            // A singular path selects at most one node.
            match p.exactly_one(&doc) {
                Ok(_) => assert!(a.exists),
                Err(n) => assert!(!p.is_singular() || n == 0, "singular `{p}` matched {n}"),
            }
            a
        }
        None => Actual::of(Some(&doc)),
    };

    let matcher_value = serde_json::from_str::<Value>(matcher)
        .ok()
        .or_else(|| yaml(matcher));
    let Some(mv) = matcher_value else {
        return;
    };
    if let Ok(t) = TValue::compile(&mv) {
        let _ = t.render(&vars);
        let _ = t.template_pointers();
    }
    if let Ok(m) = Matcher::parse(&mv) {
        let _ = m.templates();
        let _ = m.describe(&vars);
        let _ = m.check(&actual, &vars);
        let _ = m.check(&Actual::of(None), &vars);
        let _ = m.check_value(&doc, &Vars::default());
    }
});
