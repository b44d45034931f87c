//! conform's response verdicts agree with openapi-core's on GitHub's own
//! recorded responses.
//!
//! The cases are every JSON response example of GitHub's REST API description
//! (`target/github-openapi/23.0.2/api.github.com.json`, OpenAPI 3.0.3,
//! installed by `scripts/github-openapi.sh`): per operation, documented
//! status and JSON-like media type, each `example` and each of `examples`
//! (a `$ref` into `components/examples` resolved). Negative cases are made
//! from them mechanically: an object body whose schema (its `$ref`s resolved,
//! at the top level or through `allOf`) requires properties loses the first
//! one it has; an array body whose item schema requires some has its first
//! item lose the first one; and a top-level string property documented
//! `type: string` becomes `{}`.
//!
//! conform judges each body with `Contract::validate_response` (not strict:
//! strict adds undocumented-property failures openapi-core has no notion of);
//! openapi-core (Python, `scripts/agreement.py`, the interpreter named by
//! `CONFORM_PYTHON`) with its response-data validation for the same
//! operation, status and media type. Where they disagree the difference must
//! be one of [`DIFFERENCES`], recognised mechanically, or the test fails and
//! lists it: where conform accepts, the departure alone, applied to
//! openapi-core, must make it accept too (`agreement.py`'s `what_if`); where
//! conform refuses, every one of its violations must be a `format`'s. Each
//! listed difference must still occur (the description is pinned), so none
//! stays listed after it is gone. The summary printed (`--nocapture`) counts
//! the cases, the agreements and each difference, with an example of each.
//!
//! Without the description, the interpreter or openapi-core the test says so
//! and passes, unless `CONFORM_REQUIRE_GITHUB` is set (as `.ci/run` does).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Map, Value, json};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/github-openapi/23.0.2/api.github.com.json"
);
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/agreement.py");
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Who accepts the body where the other refuses it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accepts {
    Conform,
    OpenapiCore,
}

/// A known, deliberate difference between conform and openapi-core.
struct Difference {
    /// Its name; for one where conform accepts, the departure of that name in
    /// `agreement.py`'s `what_if`, which alone must make openapi-core agree.
    name: &'static str,
    accepts: Accepts,
    /// What differs, and why conform does what it does.
    why: &'static str,
}

/// Every difference the test accepts; each one occurs on GitHub's description.
const DIFFERENCES: &[Difference] = &[
    Difference {
        name: "nullable-enum",
        accepts: Accepts::Conform,
        why: "`nullable: true` beside an `enum` without `null`: conform accepts `null` (what \
              the description means, and what GitHub sends); openapi-core keeps to the OAS \
              3.0.3 letter, under which the `enum` still refuses it",
    },
    Difference {
        name: "nullable-composite",
        accepts: Accepts::Conform,
        why: "`nullable: true` beside `oneOf`/`anyOf`/`allOf`/`$ref` and no `type`: conform \
              accepts `null` (`anyOf: [<schema>, {type: null}]`, as most tools do; GitHub sends \
              it); openapi-core keeps to the 3.0.3 letter, where `nullable` means something \
              only beside a `type`, so `null` must pass the composed schemas",
    },
    Difference {
        name: "discriminator-non-object",
        accepts: Accepts::Conform,
        why: "a `discriminator` beside a `oneOf` and a body that is not an object \
              (get-content's directory listing, an array and one of the `oneOf` branches): \
              conform judges it by the `oneOf`; openapi-core refuses anything but an object, \
              which the specification does not say (a discriminator picks among object \
              branches; it does not forbid the others): openapi-core is wrong",
    },
    Difference {
        name: "discriminator-property-absent",
        accepts: Accepts::Conform,
        why: "a `discriminator` beside a `oneOf` and an object without its property \
              (`user_view_type` on get-authenticated, get-by-username, get-by-id): conform \
              judges it by the `oneOf` (a discriminator is a hint to pick a branch); \
              openapi-core keeps to the 3.0.3 letter (the property MUST be present), although \
              neither branch requires it and GitHub's recorded responses lack it",
    },
    Difference {
        name: "format",
        accepts: Accepts::OpenapiCore,
        why: "conform refuses through `format` alone (e.g. a `uri` with no scheme): conform \
              checks the formats its validator knows (JSON Schema's `uri`, `date-time`, \
              `email`...), as JSON Schema lets a validator do; openapi-core's OAS 3.0 format \
              checker knows only OpenAPI's own (`int32`, `int64`, `float`, `double`, `byte`, \
              `binary`, `password`) and `regex`",
    },
];

/// One response body to judge.
struct Case {
    operation_id: String,
    method: String,
    path: String,
    status: u16,
    media_type: String,
    /// The example's name, and for a negative case what was done to it.
    label: String,
    /// The kind of negative copy; `None`: the example as recorded.
    negative: Option<&'static str>,
    body: Value,
}

impl Case {
    fn name(&self) -> String {
        format!(
            "{} ({} {}) {} {} [{}]",
            self.operation_id, self.method, self.path, self.status, self.media_type, self.label
        )
    }
}

/// openapi-core's verdict on one case, as `agreement.py` prints it.
#[derive(serde::Deserialize)]
struct Theirs {
    valid: bool,
    message: Option<String>,
    /// For an invalid body: the verdict with each departure applied.
    #[serde(default)]
    what_if: BTreeMap<String, bool>,
}

/// Missing prerequisites: a failure under `CONFORM_REQUIRE_GITHUB`, else a
/// message and a pass.
fn unavailable(hint: &str) {
    assert!(
        std::env::var_os("CONFORM_REQUIRE_GITHUB").is_none(),
        "{hint}"
    );
    common::skipped(hint);
}

/// `value` with its `$ref` chain followed inside `doc`.
fn deref<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..32 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match reference
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
        {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

/// Whether a response's media type holds JSON: `application/json`, a `+json`
/// suffix, or GitHub's `application/vnd.github.*` unless its schema is a
/// string (`.diff`, `.patch`, `.sha`).
fn json_like(doc: &Value, media_type: &str, schema: Option<&Value>) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    if essence == "application/json" || essence.ends_with("+json") {
        return true;
    }
    essence.starts_with("application/vnd.github.")
        && schema.is_some_and(|s| deref(doc, s).get("type") != Some(&json!("string")))
}

/// The schema and its `allOf` branches, each with its `$ref`s followed.
fn parts<'a>(doc: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    let top = deref(doc, schema);
    let mut parts = vec![top];
    if let Some(branches) = top.get("allOf").and_then(Value::as_array) {
        parts.extend(branches.iter().map(|b| deref(doc, b)));
    }
    parts
}

/// The property names `schema` requires, top level first, then `allOf`.
fn required<'a>(doc: &'a Value, schema: &'a Value) -> Vec<&'a str> {
    parts(doc, schema)
        .into_iter()
        .filter_map(|p| p.get("required").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The schema of property `name`, top level first, then `allOf`.
fn property<'a>(doc: &'a Value, schema: &'a Value, name: &str) -> Option<&'a Value> {
    parts(doc, schema)
        .into_iter()
        .find_map(|p| p.get("properties").and_then(|props| props.get(name)))
        .map(|s| deref(doc, s))
}

/// `body` without the first property `schema` requires that it has.
fn without_required(
    doc: &Value,
    schema: &Value,
    body: &Map<String, Value>,
) -> Option<(String, Value)> {
    let name = required(doc, schema)
        .into_iter()
        .find(|n| body.contains_key(*n))?;
    let mut copy = body.clone();
    copy.shift_remove(name);
    Some((name.to_owned(), Value::Object(copy)))
}

/// The cases: every JSON response example, then its negative copies.
fn cases(doc: &Value) -> Vec<Case> {
    let mut cases = Vec::new();
    let paths = doc.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let Some(operation_id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let responses = op.get("responses").and_then(Value::as_object);
            for (status, response) in responses.into_iter().flatten() {
                let Ok(status) = status.parse::<u16>() else {
                    continue;
                };
                let content = deref(doc, response)
                    .get("content")
                    .and_then(Value::as_object);
                for (media_type, media) in content.into_iter().flatten() {
                    let schema = media.get("schema");
                    if !json_like(doc, media_type, schema) {
                        continue;
                    }
                    let mut examples: Vec<(String, &Value)> = Vec::new();
                    if let Some(example) = media.get("example") {
                        examples.push(("example".to_owned(), example));
                    }
                    let named = media.get("examples").and_then(Value::as_object);
                    for (name, example) in named.into_iter().flatten() {
                        if let Some(value) = deref(doc, example).get("value") {
                            examples.push((name.clone(), value));
                        }
                    }
                    for (name, body) in examples {
                        let case = |label: String, negative: Option<&'static str>, body| Case {
                            operation_id: operation_id.to_owned(),
                            method: method.to_uppercase(),
                            path: path.clone(),
                            status,
                            media_type: media_type.clone(),
                            label,
                            negative,
                            body,
                        };
                        cases.push(case(name.clone(), None, body.clone()));
                        let Some(schema) = schema else { continue };
                        for (kind, label, body) in negatives(doc, schema, body) {
                            cases.push(case(format!("{name}, {label}"), Some(kind), body));
                        }
                    }
                }
            }
        }
    }
    cases
}

const REQUIRED: &str = "a required property removed";
const ITEM_REQUIRED: &str = "a required property removed from the first item";
const STRING: &str = "a string property made {}";

/// The negative copies of `body`: a required property removed (at the top,
/// or from an array's first item), a documented string made `{}`.
fn negatives(doc: &Value, schema: &Value, body: &Value) -> Vec<(&'static str, String, Value)> {
    let mut out = Vec::new();
    match body {
        Value::Object(object) => {
            if let Some((name, copy)) = without_required(doc, schema, object) {
                out.push((REQUIRED, format!("without required {name}"), copy));
            }
            let string = object.iter().find(|(name, value)| {
                value.is_string()
                    && property(doc, schema, name).and_then(|p| p.get("type"))
                        == Some(&json!("string"))
            });
            if let Some((name, _)) = string {
                let mut copy = object.clone();
                copy.insert(name.clone(), json!({}));
                out.push((
                    STRING,
                    format!("{name} made an object"),
                    Value::Object(copy),
                ));
            }
        }
        Value::Array(items) => {
            let item_schema = deref(doc, schema).get("items");
            if let (Some(item_schema), Some(Value::Object(first))) = (item_schema, items.first())
                && let Some((name, copy)) = without_required(doc, item_schema, first)
            {
                let mut items = items.clone();
                items[0] = copy;
                out.push((
                    ITEM_REQUIRED,
                    format!("item 0 without required {name}"),
                    Value::Array(items),
                ));
            }
        }
        _ => {}
    }
    out
}

/// openapi-core's verdicts on `cases`, or `None` (with a message) when the
/// interpreter or openapi-core is missing.
fn openapi_core(cases: &[Case]) -> Option<(String, Vec<Theirs>)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cases.json");
    let list: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({"method": c.method, "path": c.path, "status": c.status,
                   "media_type": c.media_type, "body": c.body})
        })
        .collect();
    std::fs::write(&file, serde_json::to_vec(&list).expect("cases serialise")).expect("writes");
    let python = std::env::var("CONFORM_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = match Command::new(&python)
        .arg(SCRIPT)
        .arg(SPEC)
        .arg(&file)
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            unavailable(&format!(
                "{python} does not run ({e}): set CONFORM_PYTHON to an interpreter with openapi-core (see .ci/run)"
            ));
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        unavailable(&format!("{python}: {}", stderr.trim()));
        return None;
    }
    assert!(out.status.success(), "agreement.py failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).expect("agreement.py prints UTF-8");
    let mut lines = stdout.lines();
    let header: Value = serde_json::from_str(lines.next().expect("a header line")).expect("JSON");
    let version = header["openapi_core"].as_str().unwrap_or("?").to_owned();
    let verdicts: Vec<Theirs> = lines
        .map(|l| serde_json::from_str(l).expect("one JSON verdict per line"))
        .collect();
    assert_eq!(
        verdicts.len(),
        cases.len(),
        "one verdict per case: {stderr}"
    );
    Some((version, verdicts))
}

/// conform's verdict on one case.
struct Ours {
    /// The first violation, one line; `None`: valid.
    first: Option<String>,
    /// Whether every violation is a `format` keyword's.
    only_format: bool,
}

/// The known difference a disagreement is, or `None`.
fn explain(ours: &Ours, theirs: &Theirs) -> Option<String> {
    let departures = || {
        DIFFERENCES
            .iter()
            .filter(|d| d.accepts == Accepts::Conform)
            .map(|d| d.name)
    };
    match (ours.first.is_none(), theirs.valid) {
        (true, false) => departures()
            .find(|name| theirs.what_if.get(*name) == Some(&true))
            .map(str::to_owned)
            .or_else(|| {
                (theirs.what_if.get("all") == Some(&true))
                    .then(|| departures().collect::<Vec<_>>().join(" + "))
            }),
        (false, true) => ours.only_format.then(|| "format".to_owned()),
        _ => None,
    }
}

#[test]
fn conform_agrees_with_openapi_core_on_githubs_responses() {
    let started = Instant::now();
    if !Path::new(SPEC).is_file() {
        return unavailable("GitHub's description is not installed: run scripts/github-openapi.sh");
    }
    let text = std::fs::read_to_string(SPEC).expect("reads the description");
    let doc: Value = serde_json::from_str(&text).expect("the description is JSON");
    drop(text);
    let cases = cases(&doc);
    drop(doc);
    let examples = cases.iter().filter(|c| c.negative.is_none()).count();
    assert!(examples > 900, "only {examples} examples found");

    let contract = conform::contract::load(Path::new(SPEC)).expect("the description loads");
    let ours: Vec<Ours> = cases
        .iter()
        .map(|c| {
            let op = contract
                .by_id(&c.operation_id)
                .unwrap_or_else(|| panic!("{} is an operation", c.operation_id));
            assert_eq!(
                (op.method.as_str(), op.template.as_str()),
                (c.method.as_str(), c.path.as_str())
            );
            let violations =
                contract.validate_response(op, c.status, &c.media_type, &c.body, false);
            Ours {
                first: violations
                    .first()
                    .map(|v| format!("at {}: {}", v.instance_path, v.message)),
                only_format: violations
                    .iter()
                    .all(|v| v.schema_path.ends_with("/format")),
            }
        })
        .collect();
    let conform_took = started.elapsed();

    let Some((version, theirs)) = openapi_core(&cases) else {
        return;
    };

    let mut agree_valid = 0;
    let mut agree_invalid = 0;
    let mut explained: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut unexplained = Vec::new();
    for (i, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
        match (ours.first.is_none(), theirs.valid) {
            (true, true) => agree_valid += 1,
            (false, false) => agree_invalid += 1,
            _ => match explain(ours, theirs) {
                Some(name) => explained.entry(name).or_default().push(i),
                None => unexplained.push(i),
            },
        }
    }

    let message = |i: usize| {
        format!(
            "{}\n    conform: {}\n    openapi-core: {}",
            cases[i].name(),
            ours[i].first.as_deref().unwrap_or("valid"),
            theirs[i].message.as_deref().unwrap_or("valid")
        )
    };
    println!(
        "{} cases ({examples} examples, {} negative copies), openapi-core {version}",
        cases.len(),
        cases.len() - examples
    );
    for kind in [REQUIRED, ITEM_REQUIRED, STRING] {
        let n = cases.iter().filter(|c| c.negative == Some(kind)).count();
        println!("  {kind}: {n}");
    }
    println!(
        "agreements: {} ({agree_valid} valid, {agree_invalid} invalid)",
        agree_valid + agree_invalid
    );
    for (name, found) in &explained {
        println!(
            "explained, {name}: {}, e.g. {}",
            found.len(),
            message(found[0])
        );
    }
    println!("unexplained: {}", unexplained.len());
    for d in DIFFERENCES {
        println!("  {}: {}", d.name, d.why);
    }
    println!(
        "conform: {:.2} s (cases and verdicts); with openapi-core: {:.2} s",
        conform_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    let listed: Vec<String> = unexplained.iter().map(|&i| message(i)).collect();
    assert!(
        listed.is_empty(),
        "{} unexplained disagreements:\n{}",
        listed.len(),
        listed.join("\n")
    );
    for d in DIFFERENCES {
        assert!(
            explained
                .keys()
                .any(|k| k.split(" + ").any(|n| n == d.name)),
            "the documented difference {} no longer occurs: drop it",
            d.name
        );
    }
}
