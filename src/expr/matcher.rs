//! Matchers: what a JSONPath node, a header or a variable must be.
//!
//! A literal means equality. A mapping is a set of operators that must all
//! hold: `eq`, `ne`, `in`, `not_in`, `matches`, `exists`, `empty`, `type`, `length`,
//! `unique`, `gt`, `gte`, `lt`, `lte`. To compare with an object literal,
//! write `eq: {...}`. Ordering operators also accept integers written as
//! strings (protobuf JSON sends int64 as `"120"`); equality stays strict, so
//! `"120"` is not `120`. `matches` searches (use `^...$` to anchor).

use std::fmt;

use regex::Regex;
use serde_json::Value;

use crate::diag::did_you_mean;
use crate::expr::intern::Interner;
use crate::expr::jsonpath::Actual;
use crate::expr::template::{TValue, Vars};

/// The operator names, for suggestions and the schema.
pub const OPERATORS: &[&str] = &[
    "eq", "ne", "in", "not_in", "matches", "exists", "empty", "type", "length", "unique", "gt",
    "gte", "lt", "lte",
];

/// JSON types `type:` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    const NAMES: &[&str] = &[
        "string", "number", "integer", "boolean", "array", "object", "null",
    ];

    fn parse(s: &str) -> Option<JsonType> {
        Some(match s {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "boolean" => JsonType::Boolean,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            "null" => JsonType::Null,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    fn holds(self, v: &Value) -> bool {
        match self {
            JsonType::String => v.is_string(),
            JsonType::Number => v.is_number(),
            JsonType::Integer => {
                v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            JsonType::Boolean => v.is_boolean(),
            JsonType::Array => v.is_array(),
            JsonType::Object => v.is_object(),
            JsonType::Null => v.is_null(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    fn name(self) -> &'static str {
        match self {
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
        }
    }
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
        }
    }
}

/// One operator.
#[derive(Debug, Clone)]
pub enum Op {
    Eq(TValue),
    Ne(TValue),
    In(Vec<TValue>),
    NotIn(Vec<TValue>),
    Matches(Regex),
    Exists(bool),
    Empty(bool),
    Type(JsonType),
    Length(Box<Matcher>),
    Unique(bool),
    Cmp(CmpOp, TValue),
}

/// A set of operators that must all hold.
#[derive(Debug, Clone)]
pub struct Matcher {
    ops: Vec<Op>,
}

/// Why a matcher did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, got {}", self.expected, self.actual)
    }
}

/// Compact JSON for messages, cut at `max` characters.
pub fn show(v: &Value, max: usize) -> String {
    let s = v.to_string();
    truncate(&s, max)
}

/// Cuts text at `max` characters, saying how much was left out.
pub fn truncate(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}… ({} more characters)", count - max)
}

fn compile_value(v: &Value) -> Result<TValue, String> {
    TValue::compile(v).map_err(|e| {
        if e.pointer.is_empty() {
            e.message
        } else {
            format!("at {}: {}", e.pointer, e.message)
        }
    })
}

fn expect_bool(op: &str, v: &Value) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("`{op}` takes true or false, got {}", show(v, 60)))
}

impl Matcher {
    /// Equality with a literal.
    pub fn eq(v: TValue) -> Matcher {
        Matcher {
            ops: vec![Op::Eq(v)],
        }
    }

    /// Reads a matcher from its YAML value; the error is one line.
    pub fn parse(v: &Value) -> Result<Matcher, String> {
        Matcher::parse_with(v, &Interner::default())
    }

    /// The same, compiling each regex once per `interner`.
    pub fn parse_with(v: &Value, interner: &Interner) -> Result<Matcher, String> {
        let Value::Object(map) = v else {
            return Ok(Matcher::eq(compile_value(v)?));
        };
        if map.is_empty() {
            return Err(
                "an empty mapping is not a matcher: use `eq: {}` to compare with an empty object"
                    .into(),
            );
        }
        let mut ops = Vec::with_capacity(map.len());
        for (key, arg) in map {
            let op = match key.as_str() {
                "eq" => Op::Eq(compile_value(arg)?),
                "ne" => Op::Ne(compile_value(arg)?),
                "in" | "not_in" => match arg {
                    Value::Array(items) => {
                        let list = items.iter().map(compile_value).collect::<Result<_, _>>()?;
                        if key == "in" {
                            Op::In(list)
                        } else {
                            Op::NotIn(list)
                        }
                    }
                    other => return Err(format!("`{key}` takes a list, got {}", show(other, 60))),
                },
                "matches" => match arg {
                    Value::String(re) => {
                        Op::Matches(interner.regex(re).map_err(|e| regex_error(re, &e))?)
                    }
                    other => {
                        return Err(format!(
                            "`matches` takes a regular expression string, got {}",
                            show(other, 60)
                        ));
                    }
                },
                "exists" => Op::Exists(expect_bool("exists", arg)?),
                "empty" => Op::Empty(expect_bool("empty", arg)?),
                "unique" => Op::Unique(expect_bool("unique", arg)?),
                "type" => {
                    let name = arg.as_str().unwrap_or_default();
                    Op::Type(JsonType::parse(name).ok_or_else(|| {
                        format!(
                            "`type` must be one of {}, got {}",
                            JsonType::NAMES.join(", "),
                            show(arg, 60)
                        )
                    })?)
                }
                "length" => Op::Length(Box::new(Matcher::parse_with(arg, interner)?)),
                "gt" | "gte" | "lt" | "lte" => {
                    let op = match key.as_str() {
                        "gt" => CmpOp::Gt,
                        "gte" => CmpOp::Gte,
                        "lt" => CmpOp::Lt,
                        _ => CmpOp::Lte,
                    };
                    let t = compile_value(arg)?;
                    if let TValue::Lit(lit) = &t
                        && as_number(lit).is_none()
                    {
                        return Err(format!("`{key}` takes a number, got {}", show(lit, 60)));
                    }
                    Op::Cmp(op, t)
                }
                other => {
                    let hint = did_you_mean(other, OPERATORS.iter().copied())
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                    return Err(format!(
                        "unknown matcher `{other}`: {hint}expected one of {} (to compare with an object, write `eq: {{...}}`)",
                        OPERATORS.join(", ")
                    ));
                }
            };
            ops.push(op);
        }
        Ok(Matcher { ops })
    }

    /// Every template the matcher uses, for static checks.
    pub fn templates(&self) -> Vec<&crate::expr::template::Template> {
        let mut out = Vec::new();
        for op in &self.ops {
            match op {
                Op::Eq(t) | Op::Ne(t) | Op::Cmp(_, t) => out.extend(t.templates()),
                Op::In(list) | Op::NotIn(list) => {
                    list.iter().for_each(|t| out.extend(t.templates()))
                }
                Op::Length(m) => out.extend(m.templates()),
                _ => {}
            }
        }
        out
    }

    /// Checks the selected value; `Err` says what was expected and what was there.
    /// Every operator is checked, so one failure shows all that do not hold.
    pub fn check(&self, actual: &Actual<'_>, vars: &Vars) -> Result<(), Mismatch> {
        let mut expected: Vec<String> = Vec::new();
        let mut got: Vec<String> = Vec::new();
        for op in &self.ops {
            if let Err(m) = check_op(op, actual, vars) {
                expected.push(m.expected);
                if !got.contains(&m.actual) {
                    got.push(m.actual);
                }
            }
        }
        if expected.is_empty() {
            Ok(())
        } else {
            Err(Mismatch {
                expected: expected.join(" and "),
                actual: got.join("; "),
            })
        }
    }

    /// What the matcher accepts, in words (`"UNKNOWN"`, `none of ["DONE"]`).
    pub fn describe(&self, vars: &Vars) -> String {
        let parts: Vec<String> = self.ops.iter().map(|op| describe(op, vars)).collect();
        parts.join(" and ")
    }

    /// Shorthand for checking a plain value.
    pub fn check_value(&self, v: &Value, vars: &Vars) -> Result<(), Mismatch> {
        self.check(&Actual::of(Some(v)), vars)
    }
}

/// The reason of a regex error, without the multi-line caret drawing.
fn regex_error(re: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let reason = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("error:"))
        .unwrap_or(text.as_str())
        .trim();
    format!("invalid regular expression `{re}` in `matches`: {reason}")
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<i64>().ok().map(|i| i as f64),
        _ => None,
    }
}

/// JSON equality where `1` equals `1.0`.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x == y
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                x == y
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

const SHOW: usize = 200;

fn render(t: &TValue, vars: &Vars) -> Result<Value, Mismatch> {
    t.render(vars).map_err(|e| Mismatch {
        expected: format!("a value for the matcher ({e})"),
        actual: "nothing to compare".into(),
    })
}

fn check_op(op: &Op, actual: &Actual<'_>, vars: &Vars) -> Result<(), Mismatch> {
    let mismatch = |expected: String, got: &Value| {
        Err(Mismatch {
            expected,
            actual: show(got, SHOW),
        })
    };
    match op {
        Op::Exists(want) => {
            return if actual.exists == *want {
                Ok(())
            } else if *want {
                Err(Mismatch {
                    expected: "a value".into(),
                    actual: "nothing".into(),
                })
            } else {
                let got = actual.value.as_deref().cloned().unwrap_or(Value::Null);
                mismatch("no value".into(), &got)
            };
        }
        _ if actual.value.is_none() => {
            return Err(Mismatch {
                expected: describe(op, vars),
                actual: "nothing (the path selected no value)".into(),
            });
        }
        _ => {}
    }
    let v = actual.value.as_deref().expect("checked above");
    match op {
        Op::Exists(_) => Ok(()),
        Op::Eq(t) => {
            let want = render(t, vars)?;
            if json_eq(v, &want) {
                Ok(())
            } else {
                mismatch(show(&want, SHOW), v)
            }
        }
        Op::Ne(t) => {
            let want = render(t, vars)?;
            if json_eq(v, &want) {
                mismatch(format!("anything but {}", show(&want, SHOW)), v)
            } else {
                Ok(())
            }
        }
        Op::In(list) => {
            let wants = list
                .iter()
                .map(|t| render(t, vars))
                .collect::<Result<Vec<_>, _>>()?;
            if wants.iter().any(|w| json_eq(v, w)) {
                Ok(())
            } else {
                mismatch(format!("one of {}", show(&Value::Array(wants), SHOW)), v)
            }
        }
        Op::NotIn(list) => {
            let wants = list
                .iter()
                .map(|t| render(t, vars))
                .collect::<Result<Vec<_>, _>>()?;
            if wants.iter().any(|w| json_eq(v, w)) {
                mismatch(format!("none of {}", show(&Value::Array(wants), SHOW)), v)
            } else {
                Ok(())
            }
        }
        Op::Matches(re) => match v.as_str() {
            Some(s) if re.is_match(s) => Ok(()),
            _ => mismatch(format!("a string matching /{}/", re.as_str()), v),
        },
        Op::Empty(want) => {
            let len = length(v);
            match (len, want) {
                (Some(0), true) | (Some(1..), false) => Ok(()),
                (_, true) => mismatch("an empty string, array or object".into(), v),
                (_, false) => mismatch("a non-empty string, array or object".into(), v),
            }
        }
        Op::Type(t) => {
            if t.holds(v) {
                Ok(())
            } else {
                mismatch(format!("a value of type {}", t.name()), v)
            }
        }
        Op::Length(m) => match length(v) {
            Some(n) => m.check_value(&Value::from(n), vars).map_err(|e| Mismatch {
                expected: format!("length {}", e.expected),
                actual: format!("length {} ({})", e.actual, show(v, SHOW)),
            }),
            None => mismatch(
                "a string, array or object (to measure its length)".into(),
                v,
            ),
        },
        Op::Unique(want) => {
            let Value::Array(items) = v else {
                return mismatch("an array (to check its items are unique)".into(), v);
            };
            let dup = items.iter().enumerate().find_map(|(i, a)| {
                items[..i]
                    .iter()
                    .position(|b| json_eq(a, b))
                    .map(|j| (j, i))
            });
            match (dup, want) {
                (None, true) | (Some(_), false) => Ok(()),
                (Some((j, i)), true) => Err(Mismatch {
                    expected: "an array without repeated items".into(),
                    actual: format!(
                        "{} at index {j} and again at index {i} (of {} items)",
                        show(&items[i], SHOW),
                        items.len()
                    ),
                }),
                (None, false) => mismatch("an array with a repeated item".into(), v),
            }
        }
        Op::Cmp(cmp, t) => {
            let bound = render(t, vars)?;
            let expected = format!("a number {} {}", cmp_symbol(*cmp), show(&bound, SHOW));
            match (as_number(v), as_number(&bound)) {
                (Some(a), Some(b)) if cmp.holds(a, b) => Ok(()),
                _ => mismatch(expected, v),
            }
        }
    }
}

fn cmp_symbol(c: CmpOp) -> &'static str {
    match c {
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
    }
}

fn length(v: &Value) -> Option<usize> {
    match v {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

fn describe(op: &Op, vars: &Vars) -> String {
    let lit = |t: &TValue| {
        t.render(vars)
            .map(|v| show(&v, SHOW))
            .unwrap_or_else(|e| e.to_string())
    };
    match op {
        Op::Eq(t) => lit(t),
        Op::Ne(t) => format!("anything but {}", lit(t)),
        Op::In(list) => format!(
            "one of [{}]",
            list.iter().map(lit).collect::<Vec<_>>().join(", ")
        ),
        Op::NotIn(list) => format!(
            "none of [{}]",
            list.iter().map(lit).collect::<Vec<_>>().join(", ")
        ),
        Op::Matches(re) => format!("a string matching /{}/", re.as_str()),
        Op::Exists(true) => "a value".into(),
        Op::Exists(false) => "no value".into(),
        Op::Empty(true) => "an empty string, array or object".into(),
        Op::Empty(false) => "a non-empty string, array or object".into(),
        Op::Type(t) => format!("a value of type {}", t.name()),
        Op::Length(_) => "a value with a length".into(),
        Op::Unique(_) => "an array".into(),
        Op::Cmp(c, t) => format!("a number {} {} ({})", cmp_symbol(*c), lit(t), c.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Matcher {
        Matcher::parse(&v).unwrap()
    }
    fn ok(m: &Matcher, v: Value) -> bool {
        m.check_value(&v, &Vars::default()).is_ok()
    }

    #[test]
    fn literals_mean_equality_with_numeric_tolerance() {
        assert!(ok(&m(json!("UNKNOWN")), json!("UNKNOWN")));
        assert!(!ok(&m(json!("UNKNOWN")), json!("DONE")));
        assert!(ok(&m(json!(1)), json!(1.0)));
        assert!(!ok(&m(json!("120")), json!(120)));
        assert!(ok(&m(json!({"eq": {"a": [1]}})), json!({"a": [1.0]})));
    }

    #[test]
    fn operators() {
        assert!(ok(&m(json!({"in": ["DONE", "FAILED"]})), json!("DONE")));
        assert!(!ok(&m(json!({"in": ["DONE", "FAILED"]})), json!("RUNNING")));
        assert!(ok(&m(json!({"ne": "DONE"})), json!("RUNNING")));
        assert!(ok(
            &m(json!({"not_in": ["DONE", "FAILED"]})),
            json!("RUNNING")
        ));
        assert!(!ok(
            &m(json!({"not_in": ["DONE", "FAILED"]})),
            json!("DONE")
        ));
        assert!(ok(
            &m(json!({"matches": "^qr-[0-9a-f]+$"})),
            json!("qr-0af")
        ));
        assert!(!ok(&m(json!({"matches": "^qr-"})), json!(5)));
        assert!(ok(&m(json!({"empty": true})), json!([])));
        assert!(!ok(&m(json!({"empty": true})), json!({"a": 1})));
        assert!(!ok(&m(json!({"empty": true})), json!(null)));
        assert!(ok(
            &m(json!({"empty": false, "type": "string"})),
            json!("x")
        ));
        assert!(ok(&m(json!({"type": "integer"})), json!(3)));
        assert!(!ok(&m(json!({"type": "integer"})), json!("3")));
        assert!(ok(&m(json!({"length": 2})), json!([1, 2])));
        assert!(ok(&m(json!({"length": {"gt": 1}})), json!("abc")));
        assert!(ok(&m(json!({"gt": 0, "lte": "120"})), json!("120")));
        assert!(!ok(&m(json!({"gt": 0})), json!("abc")));
        assert!(ok(&m(json!({"unique": true})), json!([1, 2, 3])));
        let e = m(json!({"unique": true}))
            .check_value(&json!(["a", "b", "a"]), &Vars::default())
            .unwrap_err();
        assert!(e.actual.contains("index 0 and again at index 2"), "{e}");
        let e = m(json!({"length": 2, "unique": true}))
            .check_value(&json!(["a", "b", "a"]), &Vars::default())
            .unwrap_err();
        assert_eq!(
            e.expected, "length 2 and an array without repeated items",
            "{e}"
        );
    }

    #[test]
    fn exists_and_missing_values() {
        let none = Actual::of(None);
        let vars = Vars::default();
        assert!(m(json!({"exists": false})).check(&none, &vars).is_ok());
        assert!(m(json!({"exists": true})).check(&none, &vars).is_err());
        let e = m(json!("x")).check(&none, &vars).unwrap_err();
        assert!(e.actual.contains("selected no value"), "{e}");
    }

    #[test]
    fn templated_literals_render_from_vars() {
        let mut vars = Vars::default();
        vars.set("id", json!("qr-1"));
        vars.set("n", json!(3));
        assert!(
            m(json!("{{ id }}"))
                .check_value(&json!("qr-1"), &vars)
                .is_ok()
        );
        assert!(
            m(json!({"length": "{{ n }}"}))
                .check_value(&json!([1, 2, 3]), &vars)
                .is_ok()
        );
        assert_eq!(m(json!({"length": "{{ n }}"})).templates().len(), 1);
    }

    #[test]
    fn bad_matchers_are_refused_with_hints() {
        let e = Matcher::parse(&json!({"eqq": 1})).unwrap_err();
        assert!(e.contains("did you mean `eq`"), "{e}");
        let e = Matcher::parse(&json!({"matches": "^(a"})).unwrap_err();
        assert_eq!(
            e,
            "invalid regular expression `^(a` in `matches`: unclosed group"
        );
        assert!(
            Matcher::parse(&json!({"type": "str"}))
                .unwrap_err()
                .contains("must be one of")
        );
        assert!(
            Matcher::parse(&json!({"gt": "x"}))
                .unwrap_err()
                .contains("takes a number")
        );
        assert!(
            Matcher::parse(&json!({"in": 1}))
                .unwrap_err()
                .contains("takes a list")
        );
        assert!(Matcher::parse(&json!({})).is_err());
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 3), "abc… (3 more characters)");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
