//! Reading YAML into the case types with serde-saphyr.
//!
//! serde-saphyr stands in for the archived serde_yaml: it is pure Rust, gives
//! a line and column with every error and refuses duplicate keys (serde_yaml
//! keeps the last of two, which in a test file silently drops an assertion).
//! Options: YAML 1.2 booleans only (`on`/`no` stay strings) and numbers with
//! leading zeros stay strings (`0755`). Everything YAML-specific stays here,
//! so the parser can be swapped.
//!
//! A file is first read by a reader of the shapes case files are written in
//! (`scan`, then `de`), some ten times faster; whatever it does not know,
//! or any file that is not valid, serde-saphyr reads, and it alone words
//! errors. A value's location ([`located`]) comes from either.

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod agreement;
mod de;
mod scan;

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, SeqAccess, Visitor};
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
    if let Some(value) = fast::<T>(text) {
        return Ok(value);
    }
    slow(path, text)
}

/// `T` from the reader of common shapes, or `None` when serde-saphyr is to
/// read the text.
fn fast<T: DeserializeOwned>(text: &str) -> Option<T> {
    let events = scan::events(text)?;
    let mut de = de::De::new(&events);
    let value = T::deserialize(&mut de).ok()?;
    de.done().then_some(value)
}

/// `T` from serde-saphyr, or its error, located.
fn slow<T: DeserializeOwned>(path: &Path, text: &Arc<str>) -> Result<T, Diagnostic> {
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

/// The name under which a located value asks its deserializer for its
/// place (see [`located`]).
const LOCATED: &str = "__conform_located";

/// A value and the 1-based line and column where it starts in its YAML
/// file, from either reader: serde-saphyr's `Spanned`, or `(line, column,
/// value)` from the reader of common shapes. Other deserializers (JSON,
/// serde's buffers) give the value at line 0.
pub fn located<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<(T, u64, u64), D::Error> {
    struct Located<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Located<T> {
        type Value = (T, u64, u64);
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a located value")
        }
        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
            Ok((s.value, s.referenced.line(), s.referenced.column()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let missing = || serde::de::Error::custom("a located value without its place");
            let line = seq.next_element::<u64>()?.ok_or_else(missing)?;
            let column = seq.next_element::<u64>()?.ok_or_else(missing)?;
            let value = seq.next_element::<T>()?.ok_or_else(missing)?;
            Ok((value, line, column))
        }
    }
    d.deserialize_newtype_struct(LOCATED, Located(PhantomData))
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
    use super::agreement::At;
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
    fn merge_keys_merge_whichever_reader_reads_the_file() {
        let v: serde_json::Value = parse(
            Path::new("x.yaml"),
            &Arc::from("json: {<<: {a: 1}, b: 2}\nlist:\n  <<: [{c: 3}]\n  d: 4\n"),
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"json": {"a": 1, "b": 2}, "list": {"c": 3, "d": 4}})
        );
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

    /// Every YAML file of the repository (the bundled suite, the examples,
    /// the test fixtures), with its path.
    fn corpus() -> Vec<(std::path::PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        let mut dirs = vec![
            root.join("cases"),
            root.join("examples"),
            root.join("tests"),
        ];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                    && let Ok(text) = std::fs::read_to_string(&path)
                {
                    out.push((path, text));
                }
            }
        }
        out.sort();
        out
    }

    /// Scalar spellings, each read alone as a value, in block and in flow.
    const SCALARS: &[&str] = &[
        "1",
        "-2",
        "1.5",
        "-0.25",
        "0",
        "-0",
        "00",
        "0755",
        "1e3",
        "0x1F",
        "0o7",
        "0b1",
        ".inf",
        "-.inf",
        ".nan",
        ".NaN",
        ".Inf",
        ".iNf",
        "-.5",
        ".5e1",
        "./x",
        "../y",
        ".x",
        "-.x",
        "+1",
        "01.5",
        "1.",
        ".5",
        "1_000",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "2024-01-01",
        "12:30",
        "1.2.3",
        "1e",
        "1e5x",
        "1.5e3",
        "1E+5",
        "4xx",
        "2XX",
        "10s",
        "1.5.3",
        "1 2",
        "~",
        "null",
        "Null",
        "NULL",
        "nULL",
        "true",
        "True",
        "TRUE",
        "tRUE",
        "false",
        "yes",
        "on",
        "off",
        "n",
        "inf",
        "-inf",
        "nan",
        "NaN",
        "infinity",
        "-Infinity",
        "-x",
        "-",
        "-$",
        "x-",
        "$.a",
        "/a/{b}",
        "{{ id }}",
        "a:b",
        "http://x/y?z=1#frag",
        "é",
        "a # b",
        "'it''s'",
        "''",
        "\"\"",
        "\"q\\\"x\\\\y\\n\\t\\u00e9\\/\"",
        "\"\\x41\"",
        "\"\\ud800\"",
        "'a' b",
        "\"a\"b",
    ];

    /// Documents that take the less common paths of the reader, or should
    /// leave it.
    const SHAPES: &[&str] = &[
        // Merge keys: serde-saphyr merges the mapping in (a fuzzer's find).
        "<<: /\n",
        "a: {<<: {b: 1}, c: 2}\n",
        "a:\n  <<: {b: 1}\n  c: 2\n",
        "a:\n  <<: [{b: 1}, {d: 3}]\n  c: 2\n",
        "'<<': {b: 1}\n",
        "\"<<\": {b: 1}\n",
        "a: [<<, '<<']\n",
        "é: ü\nkey: é ü  # comment\n\"ö\": 'x'\nx: [é, 'ü', \"ö\"]\n",
        "a: >\n  folded\n  text\n\n  para\nb: |\n  literal\n   more\n\n  end\nc: >-\n  strip\nd: |-\n  s\n",
        "a: |\n\n  leading blank\n",
        "b: >\n\n\n  two\n",
        "c: |+\n  keep\n\n",
        "d: |2\n  indicator\n",
        "a: |\n  x\n\n\n",
        "a: >\n  x\n\n  \n  y\n",
        "a: |\n   \n  x\n",
        "a: |\n  x\n   \n",
        "a: |  # c\n  x\n",
        "a: |# c\n  x\n",
        "list:\n- a\n- b\n-   c\nnested:\n  - - x\n    - y\n  - k: v\n    j: w\n",
        "a: {b: 1, c: [1, 2, {d: e}], 'f': \"g\"}\nb: [ ]\nc: { }\nd: [a, b, ]\n",
        "a: {\n  b: 1,\n  c: 2\n  }\nb: [\n  1, # one\n  2\n  ]\n",
        "a: {b: 1,\n  c: 2}\nd: [x\n  , y]\n",
        "a: {\"b\":1}\n",
        "a: {b:1}\n",
        "a: b: c\n",
        "a:\n  b\n",
        "a: b\n  c\n",
        "a:\nb: 1\n",
        "- a\n-\n- b\n",
        "&x a: 1\nb: *x\n",
        "a: !!str 1\n",
        "? a\n: b\n",
        "--- \na: 1\n",
        "a: 1\n...\n",
        "a: 1\na: 2\n",
        "a: 1\n\"a\": 2\n",
        "a: 1\n1: 2\n",
        "1: a\n'1': b\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: b #c\nd: e#f\n",
        "g: 'h'#i\n",
        "a: [1, 2\n",
        "a: {b: c\n",
        "a: \"unterminated\n",
        "  a: 1\n  b: 2\n",
        "a:\n    - 1\n    - 2\n  b: 3\n",
        "a:\n  - 1\n - 2\n",
        "top\n",
        "- 1\n- [2, 3]\n- {a: b}\n",
        "a: -1\nb: - 1\n",
        "a: {x: 1}: 2\n",
        "a: [b: c]\n",
        "a: {b, c}\n",
        "a: {b: }\n",
        "a: [,]\n",
        "a:b: c\nd: e:f\n",
        "a:\n  # only a comment\n  b: 1\n",
        "a: # c\n  - 1\n",
        "- # c\n  a: 1\n",
        "k:\n- # c\n  a: 1\n",
        "k:\n-\n  a: 1\n",
        "k:\n- - a\n  - b\n",
        "a: >\n  x\n y\n",
        "a: |\n  x\n# comment\nb: 1\n",
        "a: >\n    more\n  less\n",
        "a: \"multi\n  line\"\n",
        "a: plain\n\n\n  continued\n",
        "\u{feff}a: 1\n",
        "a: \u{85}\n",
        "a: {b: 1}\n  c: 2\n",
        "a: [1,\n2]\n",
        "a: [1,\n  2\n]\n",
        "a: 1\n# end",
        "a: 1",
        "a: |\n  x",
        "",
        "# only\n",
        "steps:\n- name: x\n  expect:\n  - status: 200\n  - json: {$.a: 1}\nfinally: []\n",
    ];

    /// A small deterministic random source.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    /// `text` changed in one place: a line dropped, doubled or indented
    /// differently, or a character replaced, dropped or added.
    fn mutate(text: &str, rng: &mut Rng) -> String {
        const BITS: &[&str] = &[
            ":", ": ", "-", "- ", "#", " #", "'", "\"", "[", "]", "{", "}", ",", "|", ">", "~",
            "0", "1", ".", "\n", " ", "  ", "null", "true", "é", "&a", "*a", "!", "?", "\\", "1.5",
            "-1", "0x1",
        ];
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::new();
        match rng.next(6) {
            0..=2 if !lines.is_empty() => {
                let at = rng.next(lines.len());
                let kind = rng.next(4);
                for (i, l) in lines.iter().enumerate() {
                    if i != at {
                        out.push_str(l);
                        continue;
                    }
                    match kind {
                        0 => {}
                        1 => {
                            out.push_str(l);
                            out.push_str(l);
                        }
                        2 => {
                            out.push_str("  ");
                            out.push_str(l);
                        }
                        _ => out.extend(l.chars().skip(1)),
                    }
                }
            }
            3 if !chars.is_empty() => {
                let at = rng.next(chars.len());
                for (i, c) in chars.iter().enumerate() {
                    if i != at {
                        out.push(*c);
                    }
                }
            }
            _ => {
                let at = rng.next(chars.len() + 1);
                let bit = BITS[rng.next(BITS.len())];
                let replace = rng.next(2) == 0;
                for (i, c) in chars.iter().enumerate() {
                    if i == at {
                        out.push_str(bit);
                        if replace {
                            continue;
                        }
                    }
                    out.push(*c);
                }
                if at == chars.len() {
                    out.push_str(bit);
                }
            }
        }
        out
    }

    /// Whenever the fast reader answers, serde-saphyr answers the same.
    fn agree<T: DeserializeOwned + fmt::Debug>(text: &str) -> bool {
        agreement::check::<T>(text).unwrap_or_else(|why| panic!("{why}"))
    }

    /// Every shape and scalar, and which of them the fast reader reads.
    fn shapes() -> Vec<(String, bool)> {
        let mut texts: Vec<String> = SHAPES.iter().map(|s| (*s).to_owned()).collect();
        for s in SCALARS {
            texts.push(format!("v: {s}\n"));
            texts.push(format!("v: [{s}]\n"));
            texts.push(format!("{s}: v\n"));
        }
        texts
            .into_iter()
            .map(|t| {
                let fast = agree::<At>(&t);
                (t, fast)
            })
            .collect()
    }

    #[test]
    fn the_fast_reader_agrees_with_serde_saphyr_on_every_shape() {
        let all = shapes();
        for (text, fast) in &all {
            eprintln!("{fast}: {text:?}");
        }
        let fast = all.iter().filter(|(_, f)| *f).count();
        // Many shapes are the reader's; the rest are serde-saphyr's.
        assert!(fast > all.len() / 3, "{fast} of {}", all.len());
    }

    #[test]
    fn every_yaml_file_of_the_repository_takes_the_fast_path_and_reads_alike() {
        deep_stack(every_file);
    }

    /// Runs `f` with room for serde-saphyr's recursion over the fixture
    /// nested as deep as it allows, in a debug build.
    fn deep_stack(f: fn()) {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    fn every_file() {
        use crate::case::model::{ScenarioFile, SuiteFile};
        let corpus = corpus();
        assert!(corpus.len() > 20, "{}", corpus.len());
        for (path, text) in &corpus {
            let name = path.file_name().unwrap().to_string_lossy();
            let valid = slow::<At>(path, &Arc::from(text.as_str())).is_ok();
            let fast = agree::<At>(text);
            // The bundled suite and the examples are written as users
            // write: the fast reader reads all of them (but for anchors and
            // aliases, `&pad` and `*pad`, which are serde-saphyr's).
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let rel = path.strip_prefix(root).unwrap();
            let shipped = (rel.starts_with("cases") || rel.starts_with("examples"))
                && valid
                && !text.contains(" *");
            let typed = if name == "conform.yaml" {
                agree::<SuiteFile>(text)
            } else if name == "openapi.yaml" {
                fast
            } else {
                agree::<ScenarioFile>(text)
            };
            if shipped {
                assert!(fast && typed, "{} is left to serde-saphyr", rel.display());
            }
        }
    }

    #[test]
    fn the_fast_reader_agrees_with_serde_saphyr_on_mutated_files() {
        deep_stack(mutated_files);
    }

    fn mutated_files() {
        // CONFORM_YAML_MUTANTS=N tries N variants of each file (default 150).
        let per_file: usize = std::env::var("CONFORM_YAML_MUTANTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(150);
        // CONFORM_YAML_SEED=N starts the variants elsewhere.
        let seed = std::env::var("CONFORM_YAML_SEED")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0x9e37_79b9_7f4a_7c15_u64);
        let mut rng = Rng(seed | 1);
        let (mut tried, mut fast) = (0usize, 0usize);
        let mut texts: Vec<String> = corpus().into_iter().map(|(_, t)| t).collect();
        texts.extend(SHAPES.iter().map(|s| (*s).to_owned()));
        for text in &texts {
            for _ in 0..per_file {
                let mut m = mutate(text, &mut rng);
                if rng.next(3) == 0 {
                    m = mutate(&m, &mut rng);
                }
                tried += 1;
                let read =
                    crate::inputs::yaml_readers_agree(&m).unwrap_or_else(|why| panic!("{why}"));
                fast += usize::from(read);
            }
        }
        assert!(
            fast > tried / 4,
            "{fast} of {tried} mutants took the fast path"
        );
    }
}
