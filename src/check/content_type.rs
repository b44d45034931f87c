//! `content_type`: the response's media type is one the contract documents
//! for that status, and a response documented without content has no body.

use crate::contract::ResponseSpec;
use crate::diag::SourceLocation;
use crate::matcher::truncate;
use crate::model::Failure;

use super::Check;

/// `label` names the operation and status (`GetQuery 200`).
pub fn check(
    label: &str,
    spec: &ResponseSpec,
    content_type: &str,
    raw: &[u8],
    loc: &SourceLocation,
) -> Option<Failure> {
    let blank = raw.iter().all(u8::is_ascii_whitespace);
    if spec.media_types.is_empty() {
        if blank {
            return None;
        }
        let text = truncate(&String::from_utf8_lossy(raw), 100);
        let ct = if content_type.is_empty() {
            "no content type".to_owned()
        } else {
            content_type.to_owned()
        };
        return Some(
            Failure::assertion(
                Check::ContentType,
                loc,
                format!(
                    "{label}: the contract documents no body, got {} bytes ({ct}): {text}",
                    raw.len()
                ),
            )
            .expected_actual("no body", format!("{} bytes: {text}", raw.len())),
        );
    }
    if blank && content_type.is_empty() {
        // An empty body is judged by `response_schema` (or `expect`), not here.
        return None;
    }
    if spec.media_type_for(content_type).is_some() {
        return None;
    }
    let shown = if content_type.is_empty() {
        "no content-type header".to_owned()
    } else {
        format!("`{content_type}`")
    };
    Some(
        Failure::assertion(
            Check::ContentType,
            loc,
            format!(
                "{label}: {shown} is not a documented media type (documented: {})",
                spec.media_types.join(", ")
            ),
        )
        .expected_actual(spec.media_types.join(" or "), content_type.to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(media: &[&str]) -> ResponseSpec {
        let c = crate::contract::from_value(
            "c.yaml",
            serde_json::json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                "paths": {"/x": {"post": {"operationId": "X", "responses": {"200": {
                    "description": "ok",
                    "content": media.iter().map(|m| (m.to_string(), serde_json::json!({"schema": {}}))).collect::<serde_json::Map<_, _>>()
                }}}}}}),
        )
        .unwrap();
        c.by_id("X").unwrap().responses[0].clone()
    }

    #[test]
    fn documented_media_types_pass_with_parameters() {
        let loc = SourceLocation::new("a.yaml", 1, 1);
        let json = spec(&["application/json"]);
        assert!(
            check(
                "X 200",
                &json,
                "application/json; charset=utf-8",
                b"{}",
                &loc
            )
            .is_none()
        );
        let f = check("X 200", &json, "text/html", b"<p>", &loc).unwrap();
        assert!(
            f.message
                .contains("`text/html` is not a documented media type"),
            "{}",
            f.message
        );
        let f = check("X 200", &json, "", b"{}", &loc).unwrap();
        assert!(
            f.message.contains("no content-type header"),
            "{}",
            f.message
        );
    }

    #[test]
    fn a_response_without_content_must_have_no_body() {
        let loc = SourceLocation::new("a.yaml", 1, 1);
        let none = spec(&[]);
        assert!(none.media_types.is_empty());
        assert!(check("X 200", &none, "", b"", &loc).is_none());
        let f = check("X 200", &none, "application/json", b"{}", &loc).unwrap();
        assert_eq!(
            f.message,
            "X 200: the contract documents no body, got 2 bytes (application/json): {}"
        );
    }
}
