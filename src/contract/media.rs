//! Picking the documented response for a status, and the documented media
//! type for a received `Content-Type`.

use super::ResponseSpec;

/// Exact code, then its range (`2XX`, any case), then `default`.
pub(crate) fn response_for(responses: &[ResponseSpec], status: u16) -> Option<&ResponseSpec> {
    let code = status.to_string();
    let range = format!("{}XX", status / 100);
    responses
        .iter()
        .find(|r| *r.key == *code)
        .or_else(|| {
            responses
                .iter()
                .find(|r| r.key.eq_ignore_ascii_case(&range))
        })
        .or_else(|| responses.iter().find(|r| &*r.key == "default"))
}

/// `type/subtype` without parameters (compared ignoring ASCII case).
fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or_default().trim()
}

/// The index of the documented media type `received` falls under: the same
/// type first, then a documented `type/*`, then `*/*`. Parameters are
/// ignored on both sides; `application/problem+json` is not
/// `application/json` unless documented so.
pub(crate) fn match_media(documented: &[String], received: &str) -> Option<usize> {
    let received = essence(received);
    let (kind, _) = received.split_once('/')?;
    if kind.is_empty() {
        return None;
    }
    let position = |hit: &dyn Fn(&str) -> bool| documented.iter().position(|d| hit(essence(d)));
    position(&|d| d.eq_ignore_ascii_case(received))
        .or_else(|| {
            position(&|d| {
                d.split_once('/')
                    .is_some_and(|(k, sub)| sub == "*" && k.eq_ignore_ascii_case(kind))
            })
        })
        .or_else(|| position(&|d| d == "*/*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(key: &str) -> ResponseSpec {
        ResponseSpec {
            key: key.into(),
            media_types: Vec::new(),
            schemas: Vec::new(),
            pointer: String::new(),
            clause: None,
        }
    }

    #[test]
    fn status_lookup_is_exact_then_range_then_default() {
        let rs = vec![spec("200"), spec("2xx"), spec("4XX"), spec("default")];
        let key = |s| response_for(&rs, s).map(|r| &*r.key);
        assert_eq!(key(200), Some("200"));
        assert_eq!(key(204), Some("2xx"));
        assert_eq!(key(404), Some("4XX"));
        assert_eq!(key(503), Some("default"));
        assert_eq!(response_for(&rs[..1], 500).map(|r| &r.key), None);
    }

    #[test]
    fn media_types_match_by_essence_then_ranges() {
        let docs = |d: &[&str]| d.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let json = docs(&["application/json"]);
        assert_eq!(
            match_media(&json, "application/json; charset=utf-8"),
            Some(0)
        );
        assert_eq!(match_media(&json, "Application/JSON"), Some(0));
        assert_eq!(match_media(&json, "application/problem+json"), None);
        assert_eq!(match_media(&json, "text/plain"), None);
        assert_eq!(match_media(&json, ""), None);
        let mixed = docs(&["*/*", "application/*", "application/problem+json"]);
        assert_eq!(match_media(&mixed, "application/problem+json"), Some(2));
        assert_eq!(match_media(&mixed, "application/xml"), Some(1));
        assert_eq!(match_media(&mixed, "text/csv"), Some(0));
    }
}
