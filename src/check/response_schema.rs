//! `response_schema` and `undocumented_property`: the body validates against
//! the schema the contract documents for its operation, status and media
//! type; in strict mode, every property the contract does not document is
//! named. Each failure states the operation and status, the instance path,
//! the schema path, the reason and the offending value.

use crate::clause::Registry;
use crate::contract::{Contract, Operation, SchemaViolation};
use crate::diag::SourceLocation;
use crate::model::Failure;

use super::{Body, Check, ContractChecks};

/// At most this many violations are reported per response (and a count of the rest).
pub const MAX_REPORTED: usize = 10;

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// The one media type an `Accept` header asks for: its first entry without
/// parameters, when that is not a range (`*/*`, `application/*`).
pub fn asked_media_type(accept: &str) -> Option<&str> {
    let first = accept.split(',').next()?.split(';').next()?.trim();
    (!first.is_empty() && !first.contains('*')).then_some(first)
}

/// How a response body is judged: by the schema of which documented media
/// type, and whether it is read as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JudgedAs<'a> {
    pub media_type: &'a str,
    pub json: bool,
}

/// The media type whose schema judges a response received as
/// `content_type`: the one the request's `Accept` asked for, when the
/// response documents it with a schema and the body is JSON (received as
/// JSON, or received as that very media type and parsing as JSON); else the
/// one received, read as JSON when its type says so. An API may answer
/// `application/json` and mean the representation asked for (GitHub's
/// `application/vnd.github.object`).
pub fn media_type<'a>(
    spec: &'a crate::contract::ResponseSpec,
    content_type: &'a str,
    accept: Option<&str>,
    body: &Body<'_>,
) -> JudgedAs<'a> {
    let received = JudgedAs {
        media_type: content_type,
        json: is_json(content_type),
    };
    let Some(asked) = accept
        .and_then(asked_media_type)
        .and_then(|a| spec.media_type_for(a))
        .filter(|a| spec.schema_for(a).is_some())
    else {
        return received;
    };
    let received_as_asked = spec.media_type_for(content_type) == Some(asked);
    if received.json || (received_as_asked && body.json.is_ok()) {
        JudgedAs {
            media_type: asked,
            json: true,
        }
    } else {
        received
    }
}

/// Why the schema checks cannot judge a response with this content type
/// and body, if they cannot: a body that is not JSON by its content type
/// (an empty untyped one where JSON is documented is judged: it fails), or
/// a media type documented without a schema.
pub fn skip_reason(
    op: &Operation,
    status: u16,
    judged: JudgedAs<'_>,
    body: &Body<'_>,
) -> Option<crate::model::SkipReason> {
    let content_type = judged.media_type;
    use crate::model::SkipReason;
    let spec = op.response_for(status)?;
    if spec.media_types.is_empty() {
        return Some(SkipReason::NoContent);
    }
    if content_type.trim().is_empty() && body.raw.iter().all(u8::is_ascii_whitespace) {
        let json_documented = spec.media_types.iter().any(|m| is_json(m));
        return (!json_documented).then_some(SkipReason::NotJson);
    }
    if !judged.json {
        return Some(SkipReason::NotJson);
    }
    if spec.media_type_for(content_type).is_some() && spec.schema_for(content_type).is_none() {
        return Some(SkipReason::NoSchema);
    }
    None
}

#[expect(clippy::too_many_arguments, reason = "one response's full context")]
pub fn check(
    contract: &Contract,
    registry: &Registry,
    op: &Operation,
    label: &str,
    status: u16,
    judged: JudgedAs<'_>,
    body: &Body<'_>,
    checks: ContractChecks,
    loc: &SourceLocation,
) -> Vec<Failure> {
    let content_type = judged.media_type;
    if content_type.trim().is_empty() && body.raw.iter().all(u8::is_ascii_whitespace) {
        // Nothing came back, untyped: where the contract documents a JSON
        // body, that is no body it documents (an empty text is no JSON).
        let json: Vec<&str> = op
            .response_for(status)
            .map(|r| {
                r.media_types
                    .iter()
                    .map(String::as_str)
                    .filter(|m| is_json(m))
                    .collect()
            })
            .unwrap_or_default();
        if json.is_empty() || !checks.response_schema {
            return Vec::new();
        }
        return vec![
            Failure::assertion(
                Check::ResponseSchema,
                loc,
                format!(
                    "{label}: the body is empty and untyped, but the contract documents a JSON body ({})",
                    json.join(", ")
                ),
            )
            .expected_actual(format!("a JSON body ({})", json.join(" or ")), "no body"),
        ];
    }
    if !judged.json {
        // Only JSON bodies are validated; `content_type` judges the media type.
        return Vec::new();
    }
    let doc = match body.json {
        Ok(doc) => doc,
        Err(e) if checks.response_schema => {
            return vec![
                Failure::assertion(Check::ResponseSchema, loc, format!("{label}: {e}"))
                    .expected_actual(
                        "a JSON body",
                        crate::expr::matcher::truncate(&String::from_utf8_lossy(body.raw), 200),
                    ),
            ];
        }
        Err(_) => return Vec::new(),
    };
    let mut violations =
        contract.validate_response(op, status, content_type, doc, checks.undocumented_property);
    // Violations of documented clauses first, so the cap never hides one.
    violations.sort_by_key(|v| registry.level(v.clause.as_deref()));
    let (extra, schema): (Vec<SchemaViolation>, Vec<SchemaViolation>) =
        violations.into_iter().partition(|v| v.undocumented);
    let mut out = Vec::new();
    if checks.response_schema {
        out.extend(report(Check::ResponseSchema, label, &schema, loc));
    }
    if checks.undocumented_property {
        out.extend(report(Check::UndocumentedProperty, label, &extra, loc));
    }
    for f in &mut out {
        f.level = registry.level(f.clause.as_deref());
    }
    out
}

/// Failures of `violations` (at most [`MAX_REPORTED`], then a count of the
/// rest), each naming the clause of its violation (its level is set by
/// the caller).
fn report(
    check: Check,
    label: &str,
    violations: &[SchemaViolation],
    loc: &SourceLocation,
) -> Vec<Failure> {
    let mut out: Vec<Failure> = violations
        .iter()
        .take(MAX_REPORTED)
        .map(|v| {
            let mut f = one(check, label, v, loc);
            f.clause.clone_from(&v.clause);
            f
        })
        .collect();
    let omitted: usize = violations.iter().map(|v| v.omitted).sum();
    if let Some(first) = violations
        .get(MAX_REPORTED)
        .or(violations.last().filter(|_| omitted > 0))
    {
        let more = violations.len().saturating_sub(MAX_REPORTED) + omitted;
        let mut f = Failure::assertion(check, loc, format!("{label}: and {more} more"));
        f.clause.clone_from(&first.clause);
        out.push(f);
    }
    out
}

fn one(check: Check, label: &str, v: &SchemaViolation, loc: &SourceLocation) -> Failure {
    let at = if v.instance_path.is_empty() {
        "(the body)"
    } else {
        v.instance_path.as_str()
    };
    Failure::assertion(
        check,
        loc,
        format!("{label}: {at}: {} (schema: {})", v.message, v.schema_path),
    )
    .expected_actual(
        format!("the schema at {}", v.schema_path),
        format!("{at} = {}", v.value),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        crate::contract::from_value(
            "c.yaml",
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                "paths": {"/x": {"post": {"operationId": "X", "responses": {"200": {
                    "description": "ok",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["status"],
                        "properties": {"status": {"enum": ["DONE"]}, "n": {"type": "string", "nullable": true}}
                    }}}
                }}}}}}),
        )
        .unwrap()
    }

    fn run(body: &[u8], checks: ContractChecks) -> Vec<Failure> {
        let c = contract();
        let op = c.by_id("X").unwrap();
        let loc = SourceLocation::new("a.yaml", 4, 5);
        check(
            &c,
            &Registry::default(),
            op,
            "X 200",
            200,
            JudgedAs {
                media_type: "application/json",
                json: true,
            },
            &Body {
                raw: body,
                json: &crate::check::parse_json(body),
            },
            checks,
            &loc,
        )
    }

    #[test]
    fn violations_name_the_path_the_schema_and_the_value() {
        let f = run(
            br#"{"status": "RUNNING", "n": 5}"#,
            ContractChecks::default(),
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f.iter().all(|f| f.check == Check::ResponseSchema));
        let enum_failure = f.iter().find(|f| f.message.contains("/status")).unwrap();
        assert!(
            enum_failure.message.starts_with("X 200: /status: "),
            "{}",
            enum_failure.message
        );
        assert!(
            enum_failure.message.contains("(schema: /paths/"),
            "{}",
            enum_failure.message
        );
        assert_eq!(
            enum_failure.actual.as_deref(),
            Some("/status = \"RUNNING\"")
        );
        assert!(
            run(
                br#"{"status": "DONE", "n": null}"#,
                ContractChecks::default()
            )
            .is_empty()
        );
        let f = run(br#"{"n": "x"}"#, ContractChecks::default());
        assert!(
            f[0].message.contains("\"status\" is a required property"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn an_empty_untyped_body_where_json_is_documented_fails() {
        let c = contract();
        let op = c.by_id("X").unwrap();
        for raw in [&b""[..], b"  \n"] {
            let resp = crate::http::HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: raw.to_vec(),
                elapsed: std::time::Duration::ZERO,
                request_body_sent: None,
                sent_at: std::time::UNIX_EPOCH,
                json: Default::default(),
            };
            let body = Body::of(&resp);
            let f = check(
                &c,
                &Registry::default(),
                op,
                "X 200",
                200,
                JudgedAs {
                    media_type: "",
                    json: false,
                },
                &body,
                ContractChecks::default(),
                &SourceLocation::new("a.yaml", 1, 1),
            );
            assert_eq!(f.len(), 1, "{f:#?}");
            assert_eq!(f[0].check, Check::ResponseSchema);
            assert_eq!(
                f[0].message,
                "X 200: the body is empty and untyped, but the contract documents a JSON body (application/json)"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_json_fails() {
        let f = run(b"<html>", ContractChecks::default());
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("not JSON"), "{}", f[0].message);
    }

    #[test]
    fn strict_mode_names_undocumented_properties_separately() {
        let body = br#"{"status": "DONE", "x_debug": 1}"#;
        assert!(run(body, ContractChecks::default()).is_empty());
        let strict = ContractChecks::resolve(&[], &[], true);
        let f = run(body, strict);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].check, Check::UndocumentedProperty);
        assert!(
            f[0].message.contains("undocumented property `x_debug`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn many_violations_are_capped() {
        let list: Vec<SchemaViolation> = (0..15)
            .map(|i| SchemaViolation {
                instance_path: format!("/{i}"),
                schema_path: "/s".into(),
                message: "bad".into(),
                value: "1".into(),
                undocumented: false,
                clause: None,
                omitted: if i == 14 { 1000 } else { 0 },
            })
            .collect();
        let f = report(
            Check::ResponseSchema,
            "X 200",
            &list,
            &SourceLocation::new("a.yaml", 1, 1),
        );
        assert_eq!(f.len(), MAX_REPORTED + 1);
        // The 5 kept beyond the cap and the 1,000 only counted.
        assert_eq!(f.last().unwrap().message, "X 200: and 1005 more");
    }
}
