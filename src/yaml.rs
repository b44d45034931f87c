//! Reading YAML into the case types with serde-saphyr.
//!
//! serde-saphyr stands in for the archived serde_yaml: it is pure Rust, gives
//! a line and column with every error and refuses duplicate keys (serde_yaml
//! keeps the last of two, which in a test file silently drops an assertion).
//! Options: YAML 1.2 booleans only (`on`/`no` stay strings) and numbers with
//! leading zeros stay strings (`0755`). Everything YAML-specific stays here,
//! so the parser can be swapped.

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{DefaultMessageFormatter, Error, MessageFormatter};

use crate::diag::{Diagnostic, SourceLocation, did_you_mean_hint, display_path};

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
    }
}

/// Parses one YAML document into `T`, or a located diagnostic.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &Arc<str>) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options::<T>(text, options()).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let mut msg = message(&e);
        if let Some((bracket, at)) = unclosed_flow_before(text, line) {
            msg.push_str(&format!(" (the `{bracket}` on line {at} is never closed)"));
        }
        Diagnostic::new(SourceLocation::new(display_path(path), line, column), msg)
            .with_source(text.clone())
    })
}

/// The last `[` or `{` left open on the lines before `line`, if any: the
/// parser reports an unclosed flow collection where it gives up, often a
/// later line, so the hint names the real culprit.
fn unclosed_flow_before(text: &str, line: u64) -> Option<(char, u64)> {
    let mut stack: Vec<(char, u64)> = Vec::new();
    for (i, l) in text
        .lines()
        .enumerate()
        .take(line.saturating_sub(1) as usize)
    {
        let mut quote: Option<char> = None;
        for c in l.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => stack.push((c, i as u64 + 1)),
                (None, ']' | '}') => {
                    stack.pop();
                }
                _ => {}
            }
        }
    }
    stack.pop()
}

fn original(mut err: &Error) -> &Error {
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = err {
        err = error;
    }
    err
}

/// The user-facing text of a parse error, with hints where they help.
fn message(err: &Error) -> String {
    match original(err) {
        Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let hint = did_you_mean_hint(field, expected.iter().copied());
            let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            format!(
                "unknown key `{field}`{hint}; expected one of {}",
                list.join(", ")
            )
        }
        Error::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let hint = did_you_mean_hint(variant, expected.iter().copied());
            let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            format!(
                "unknown value `{variant}`{hint}; expected one of {}",
                list.join(", ")
            )
        }
        Error::SerdeMissingField { field, .. } => format!("missing key `{field}`"),
        Error::DuplicateMappingKey { key: Some(k), .. } => {
            format!("duplicate key `{k}`: each key may appear once in a mapping")
        }
        Error::DuplicateMappingKey { key: None, .. } => {
            "duplicate key: each key may appear once in a mapping".into()
        }
        Error::Budget { breach, .. } => match breach_message(breach) {
            Some(m) => m,
            None => DefaultMessageFormatter.format_message(err).into_owned(),
        },
        other => DefaultMessageFormatter.format_message(other).into_owned(),
    }
}

/// What a breached parser limit means for a case file. The limits are
/// serde-saphyr's defaults: they bound the stack, memory and time one file
/// can take, and no case file comes near them.
fn breach_message(breach: &BudgetBreach) -> Option<String> {
    let limits = serde_saphyr::Budget::default();
    Some(match breach {
        BudgetBreach::Depth { .. } => format!(
            "mappings and sequences nest more than {} levels deep here, the most a case file may",
            limits.max_depth
        ),
        BudgetBreach::Nodes { .. } => format!(
            "the file holds more than {} values (mappings, sequences and scalars, each use of an alias counted again), the most a case file may",
            limits.max_nodes
        ),
        BudgetBreach::Events { .. } => format!(
            "the file holds more than {} YAML events, the most a case file may",
            limits.max_events
        ),
        BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => {
            "too many aliases (`*name`) for the anchors (`&name`) defined: the file would expand far beyond its size".into()
        }
        BudgetBreach::ScalarBytes { .. } | BudgetBreach::InputBytes { .. } => {
            "the file's text is larger than a case file may be".into()
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "read by the parser only")]
    struct T {
        status: u16,
        #[serde(default)]
        headers: Option<String>,
    }

    fn err(src: &str) -> Diagnostic {
        parse::<T>(Path::new("x.yaml"), &Arc::from(src)).unwrap_err()
    }

    #[test]
    fn unknown_keys_get_suggestions_and_locations() {
        let d = err("stauts: 200\n");
        assert_eq!((d.location.line, d.location.column), (1, 1));
        assert!(
            d.message
                .contains("unknown key `stauts` (did you mean `status`?)"),
            "{}",
            d.message
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let d = err("status: 200\nstatus: 201\n");
        assert_eq!(d.location.line, 2);
        assert!(
            d.message.contains("duplicate key `status`"),
            "{}",
            d.message
        );
    }

    #[test]
    fn yaml_11_booleans_and_octals_stay_strings() {
        let v: serde_json::Value =
            parse(Path::new("x.yaml"), &Arc::from("a: on\nb: 0755\nc: true\n")).unwrap();
        assert_eq!(v, serde_json::json!({"a": "on", "b": "0755", "c": true}));
    }

    #[test]
    fn an_unclosed_bracket_on_an_earlier_line_is_named() {
        let d =
            parse::<serde_json::Value>(Path::new("x.yaml"), &Arc::from("a: 1\nb: [x, y\nc: 2\n"))
                .unwrap_err();
        assert!(
            d.message.contains("the `[` on line 2 is never closed"),
            "{}",
            d.message
        );
        assert_eq!(unclosed_flow_before("a: '[x'\nb: [1]\nc: 2\n", 3), None);
    }

    #[test]
    fn syntax_errors_are_located() {
        let d = err("status: [200\n");
        assert_eq!(d.location.line, 1);
        assert!(d.render().contains("x.yaml:1:"), "{}", d.render());
    }
}
