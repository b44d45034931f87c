//! `header`: response headers match their matchers (names case-insensitive).

use serde_json::Value;

use crate::case::HeaderCheck;
use crate::expr::jsonpath::Actual;
use crate::expr::template::Vars;
use crate::http::HttpResponse;
use crate::model::Failure;

use super::Check;

pub fn check(checks: &[HeaderCheck], resp: &HttpResponse, vars: &Vars) -> Vec<Failure> {
    let mut out = Vec::new();
    for c in checks {
        let value = resp.header(&c.name).map(|v| Value::String(v.to_owned()));
        if let Err(m) = c.matcher.check(&Actual::owned(value), vars) {
            out.push(
                Failure::assertion(
                    Check::Header,
                    &c.location,
                    format!("header `{}`: {m}", c.name),
                )
                .expected_actual(m.expected, m.actual),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceLocation;
    use crate::expr::matcher::Matcher;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn names_are_case_insensitive_and_missing_headers_fail() {
        let resp = HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: vec![],
            elapsed: Duration::ZERO,
            request_body_sent: None,
            sent_at: std::time::UNIX_EPOCH,
            json: Default::default(),
        };
        let loc = SourceLocation::new("a.yaml", 1, 1);
        let ok = HeaderCheck {
            name: "content-type".into(),
            matcher: Matcher::parse(&json!({"matches": "^application/json"})).unwrap(),
            location: loc.clone(),
        };
        assert!(check(std::slice::from_ref(&ok), &resp, &Vars::default()).is_empty());
        let missing = HeaderCheck {
            name: "x-request-id".into(),
            matcher: Matcher::parse(&json!({"exists": true})).unwrap(),
            location: loc,
        };
        let f = check(&[missing], &resp, &Vars::default());
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.starts_with("header `x-request-id`"),
            "{}",
            f[0].message
        );
    }
}
