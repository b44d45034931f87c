//! `json_path`: nodes selected by RFC 9535 JSONPath match their matchers.
//! A body that is not JSON (or empty) holds no nodes: checks that hold on
//! nothing (`exists: false`; `empty: true` on a path that selects a list)
//! pass on it, and any other fails once (`json_body`) rather than per path.

use crate::case::PathCheck;
use crate::model::Failure;
use crate::template::Vars;

use super::Body;
use super::Check;

pub fn check(checks: &[PathCheck], body: &Body<'_>, vars: &Vars) -> Vec<Failure> {
    let Some(first) = checks.first() else {
        return Vec::new();
    };
    let doc = match body.json {
        Ok(doc) => doc,
        Err(_) if checks.iter().all(|c| holds_on_nothing(c, vars)) => return Vec::new(),
        Err(e) => {
            return vec![
                Failure::assertion(
                    Check::JsonBody,
                    &first.location,
                    format!("cannot check `{}`: {e}", first.path),
                )
                .expected_actual(
                    "a JSON body",
                    crate::matcher::truncate(&String::from_utf8_lossy(body.raw), 200),
                ),
            ];
        }
    };
    let mut out = Vec::new();
    for c in checks {
        if let Err(m) = c.matcher.check(&c.path.select(doc), vars) {
            out.push(
                Failure::assertion(Check::JsonPath, &c.location, format!("{}: {m}", c.path))
                    .expected_actual(m.expected, m.actual),
            );
        }
    }
    out
}

/// Whether `c` holds on a body without nodes: its path selects nothing (a
/// singular path) or an empty list (any other).
fn holds_on_nothing(c: &PathCheck, vars: &Vars) -> bool {
    let nothing = if c.path.is_singular() {
        crate::jsonpath::Actual::of(None)
    } else {
        crate::jsonpath::Actual {
            exists: false,
            value: Some(std::borrow::Cow::Owned(
                serde_json::Value::Array(Vec::new()),
            )),
        }
    };
    c.matcher.check(&nothing, vars).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceLocation;
    use crate::jsonpath::JPath;
    use crate::matcher::Matcher;
    use serde_json::json;

    fn pc(path: &str, m: serde_json::Value) -> PathCheck {
        PathCheck {
            path: JPath::parse(path).unwrap(),
            matcher: Matcher::parse(&m).unwrap(),
            location: SourceLocation::new("a.yaml", 7, 9),
        }
    }

    #[test]
    fn each_failing_path_is_reported() {
        let raw = br#"{"status": "DONE", "values": [1]}"#;
        let json = crate::check::parse_json(raw);
        let body = Body { raw, json: &json };
        let checks = [
            pc("$.status", json!("UNKNOWN")),
            pc("$.values", json!({"empty": true})),
            pc("$.status", json!({"type": "string"})),
        ];
        let f = check(&checks, &body, &Vars::default());
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].message, "$.status: expected \"UNKNOWN\", got \"DONE\"");
        assert_eq!(f[0].location.line, 7);
    }

    #[test]
    fn a_body_that_is_not_json_fails_once() {
        let json = crate::check::parse_json(b"<html>");
        let body = Body {
            raw: b"<html>",
            json: &json,
        };
        let f = check(
            &[pc("$.a", json!(1)), pc("$.b", json!(2))],
            &body,
            &Vars::default(),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, Check::JsonBody);
        assert!(f[0].message.contains("not JSON"), "{}", f[0].message);
    }

    #[test]
    fn checks_of_absence_hold_on_a_body_without_nodes() {
        for raw in [&b"bad request"[..], b"", b"  \n"] {
            let json = crate::check::parse_json(raw);
            let body = Body { raw, json: &json };
            let absent = [
                pc("$.query_result_id", json!({"exists": false})),
                pc("$.values[*]", json!({"empty": true})),
            ];
            assert!(check(&absent, &body, &Vars::default()).is_empty());
            // Any other check on the same body still fails, once.
            let mixed = [
                pc("$.query_result_id", json!({"exists": false})),
                pc("$.code", json!("Unauthenticated")),
            ];
            let f = check(&mixed, &body, &Vars::default());
            assert_eq!(f.len(), 1);
            assert_eq!(f[0].check, Check::JsonBody);
            // `empty` on a singular path needs a value to be empty.
            let f = check(
                &[pc("$.values", json!({"empty": true}))],
                &body,
                &Vars::default(),
            );
            assert_eq!(f.len(), 1);
        }
    }
}
