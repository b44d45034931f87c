//! Request body validation: JSON bodies in, typed requests or 400 errors out (A9).

use std::time::Duration;

use serde_json::{Map, Value};

use super::error::{ApiError, Code};
use super::fault::{Fault, FaultSet};
use super::rows::{MAX_PAGE_SIZE, SpecDigest};

/// The create wrappers, in the order `create-accepts-two-wrappers` picks from.
pub(crate) const WRAPPERS: [&str; 3] = [
    "immediate_run",
    "cached_result_if_available",
    "cached_result_context",
];

/// `max_staleness` when `cached_result_if_available` does not set it.
pub(crate) const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(24 * 3600);

/// The largest seconds value of a protobuf Duration.
const MAX_DURATION_SECONDS: u64 = 315_576_000_000;

/// A validated create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CreateRequest {
    ImmediateRun(SpecDigest),
    IfAvailable {
        spec: SpecDigest,
        max_staleness: Duration,
    },
    Context {
        cache_id: String,
    },
}

/// A validated Get request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GetRequest {
    pub(crate) query_result_id: String,
    pub(crate) page_size: u64,
    /// `None` for the first page.
    pub(crate) page_token: Option<String>,
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::invalid(format!(
            "request body must be a JSON object, got {}",
            kind(&other)
        ))),
        Err(err) => Err(ApiError::invalid(format!(
            "request body is not valid JSON: {err}"
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `null` is protobuf JSON for "not set".
fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).filter(|value| !value.is_null())
}

/// The id of a Get or cancel; a missing or empty one is `InvalidArgument`,
/// or `NotFound` under `missing-id-404`.
fn query_result_id(map: &Map<String, Value>, faults: FaultSet) -> Result<String, ApiError> {
    let missing = if faults.has(Fault::MissingId404) {
        Code::NotFound
    } else {
        Code::InvalidArgument
    };
    match field(map, "query_result_id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        Some(Value::String(_)) => Err(ApiError::new(missing, "query_result_id must not be empty")),
        Some(other) => Err(ApiError::invalid(format!(
            "query_result_id must be a string, got {}",
            kind(other)
        ))),
        None => Err(ApiError::new(missing, "query_result_id is required")),
    }
}

/// Cancel: the id to cancel.
pub(crate) fn cancel(body: &[u8], faults: FaultSet) -> Result<String, ApiError> {
    query_result_id(&json_object(body)?, faults)
}

/// Get: id, page size (string or number, clamped to 100) and page token.
pub(crate) fn get(body: &[u8], faults: FaultSet) -> Result<GetRequest, ApiError> {
    let map = json_object(body)?;
    let query_result_id = query_result_id(&map, faults)?;
    let page_size = page_size(field(&map, "page_size"))?;
    let page_token = match field(&map, "page_token") {
        None => None,
        Some(Value::String(token)) if token.is_empty() => None,
        Some(Value::String(token)) => Some(token.clone()),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "page_token must be a string, got {}",
                kind(other)
            )));
        }
    };
    Ok(GetRequest {
        query_result_id,
        page_size,
        page_token,
    })
}

fn page_size(value: Option<&Value>) -> Result<u64, ApiError> {
    let positive = |size: u64| {
        if size == 0 {
            Err(ApiError::invalid("page_size must be positive"))
        } else {
            Ok(size.min(MAX_PAGE_SIZE))
        }
    };
    let not_integer = |shown: &dyn std::fmt::Display| {
        ApiError::invalid(format!("page_size must be a positive integer, got {shown}"))
    };
    match value {
        None => Ok(MAX_PAGE_SIZE),
        Some(Value::String(text)) => {
            let digits = text.strip_prefix('-').unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_integer(&format!("{text:?}")));
            }
            if text.starts_with('-') {
                return Err(not_integer(&format!("{text:?}")));
            }
            // All digits: an overflow is just a very large page size.
            positive(digits.parse::<u64>().unwrap_or(u64::MAX))
        }
        Some(Value::Number(number)) => {
            if let Some(size) = number.as_u64() {
                positive(size)
            } else if let Some(float) = number.as_f64().filter(|f| f.fract() == 0.0 && *f >= 1.0) {
                // Whole and at least 1: the exact value only matters up to the cap.
                positive(if float >= 100.0 {
                    MAX_PAGE_SIZE
                } else {
                    float as u64
                })
            } else {
                Err(not_integer(number))
            }
        }
        Some(other) => Err(not_integer(&kind(other))),
    }
}

/// Create: exactly one wrapper (or, under `create-accepts-two-wrappers`, the
/// first present). `cached_result_context` may omit `request`, unless
/// `context-requires-request` is on.
pub(crate) fn create(body: &[u8], faults: FaultSet) -> Result<CreateRequest, ApiError> {
    let accept_several = faults.has(Fault::CreateAcceptsTwoWrappers);
    let map = json_object(body)?;
    let present: Vec<&str> = WRAPPERS
        .into_iter()
        .filter(|name| map.contains_key(*name))
        .collect();
    let name = match present.as_slice() {
        [] => {
            return Err(ApiError::invalid(format!(
                "exactly one of {} must be set, got none",
                WRAPPERS.join(", ")
            )));
        }
        [one] => *one,
        [first, ..] if accept_several => *first,
        several => {
            return Err(ApiError::invalid(format!(
                "exactly one of {} must be set, got {}: {}",
                WRAPPERS.join(", "),
                several.len(),
                several.join(", ")
            )));
        }
    };
    let Some(Value::Object(wrapper)) = map.get(name) else {
        return Err(ApiError::invalid(format!("{name} must be an object")));
    };
    match name {
        "cached_result_context" => {
            if faults.has(Fault::ContextRequiresRequest) {
                required_spec(wrapper, name)?;
            } else {
                optional_spec(wrapper, name)?;
            }
            let cache_id = match field(wrapper, "cache_id") {
                Some(Value::String(id)) if !id.is_empty() => id.clone(),
                _ => {
                    return Err(ApiError::invalid(format!(
                        "{name}.cache_id is required and must be a non-empty string"
                    )));
                }
            };
            Ok(CreateRequest::Context { cache_id })
        }
        "cached_result_if_available" => {
            let spec = required_spec(wrapper, name)?;
            let max_staleness = match field(wrapper, "max_staleness") {
                None => DEFAULT_MAX_STALENESS,
                Some(Value::String(text)) => duration(text).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "{name}.max_staleness must be a non-negative protobuf Duration such as \"3600s\", got {text:?}"
                    ))
                })?,
                Some(other) => {
                    return Err(ApiError::invalid(format!(
                        "{name}.max_staleness must be a Duration string such as \"3600s\", got {}",
                        kind(other)
                    )));
                }
            };
            Ok(CreateRequest::IfAvailable {
                spec,
                max_staleness,
            })
        }
        _ => Ok(CreateRequest::ImmediateRun(required_spec(wrapper, name)?)),
    }
}

fn optional_spec(wrapper: &Map<String, Value>, name: &str) -> Result<Option<SpecDigest>, ApiError> {
    let request = match field(wrapper, "request") {
        None => return Ok(None),
        Some(Value::Object(request)) => request,
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "{name}.request must be an object"
            )));
        }
    };
    match field(request, "body") {
        None => Ok(None),
        Some(spec @ Value::Object(_)) => Ok(Some(SpecDigest::of(spec))),
        Some(_) => Err(ApiError::invalid(format!(
            "{name}.request.body must be an object (the query spec)"
        ))),
    }
}

fn required_spec(wrapper: &Map<String, Value>, name: &str) -> Result<SpecDigest, ApiError> {
    optional_spec(wrapper, name)?.ok_or_else(|| {
        ApiError::invalid(format!(
            "{name}.request.body is required and must be an object (the query spec)"
        ))
    })
}

/// A non-negative protobuf JSON Duration: `"3600s"`, `"1.5s"`, `"0.000000001s"`.
pub(crate) fn duration(text: &str) -> Option<Duration> {
    let number = text.strip_suffix('s')?;
    let (seconds, fraction) = match number.split_once('.') {
        Some((seconds, fraction)) => (seconds, Some(fraction)),
        None => (number, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(seconds) {
        return None;
    }
    let seconds: u64 = seconds
        .parse()
        .ok()
        .filter(|s| *s <= MAX_DURATION_SECONDS)?;
    let nanos = match fraction {
        None => 0,
        Some(fraction) if all_digits(fraction) && fraction.len() <= 9 => {
            let padded = format!("{fraction:0<9}");
            padded.parse::<u32>().ok()?
        }
        Some(_) => return None,
    };
    Some(Duration::new(seconds, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug, ApiError>) -> String {
        match result {
            Ok(value) => panic!("expected a 400, got {value:?}"),
            Err(err) => {
                assert_eq!(err.code, Code::InvalidArgument);
                err.message
            }
        }
    }

    #[test]
    fn page_size_forms() {
        let size = |body: &str| get(body.as_bytes(), FaultSet::default()).map(|req| req.page_size);
        assert_eq!(size(r#"{"query_result_id": "a"}"#), Ok(100));
        assert_eq!(
            size(r#"{"query_result_id": "a", "page_size": null}"#),
            Ok(100)
        );
        assert_eq!(size(r#"{"query_result_id": "a", "page_size": "7"}"#), Ok(7));
        assert_eq!(size(r#"{"query_result_id": "a", "page_size": 7}"#), Ok(7));
        assert_eq!(size(r#"{"query_result_id": "a", "page_size": 7.0}"#), Ok(7));
        assert_eq!(
            size(r#"{"query_result_id": "a", "page_size": "1000"}"#),
            Ok(100)
        );
        assert_eq!(
            size(r#"{"query_result_id": "a", "page_size": 1e30}"#),
            Ok(100)
        );
        assert_eq!(
            size(r#"{"query_result_id": "a", "page_size": "99999999999999999999999"}"#),
            Ok(100)
        );
        for bad in [
            r#""0""#, "0", "-1", r#""-5""#, r#""abc""#, "1.5", r#""1.5""#, r#""""#, "true", "[]",
            "0.5",
        ] {
            let body = format!(r#"{{"query_result_id": "a", "page_size": {bad}}}"#);
            assert!(message(size(&body)).contains("page_size"), "{bad}");
        }
    }

    #[test]
    fn page_token_forms() {
        let token =
            |body: &str| get(body.as_bytes(), FaultSet::default()).map(|req| req.page_token);
        assert_eq!(
            token(r#"{"query_result_id": "a", "page_token": ""}"#),
            Ok(None)
        );
        assert_eq!(
            token(r#"{"query_result_id": "a", "page_token": "x"}"#),
            Ok(Some("x".to_owned()))
        );
        assert!(
            message(token(r#"{"query_result_id": "a", "page_token": 5}"#)).contains("page_token")
        );
    }

    #[test]
    fn id_is_required() {
        for body in [
            "",
            "nope",
            "[]",
            "null",
            "{}",
            r#"{"query_result_id": ""}"#,
            r#"{"query_result_id": 5}"#,
        ] {
            message(cancel(body.as_bytes(), FaultSet::default()));
            message(get(body.as_bytes(), FaultSet::default()));
        }
        assert_eq!(
            cancel(
                br#"{"query_result_id": "qr-1", "extra": 1}"#,
                FaultSet::default()
            ),
            Ok("qr-1".to_owned())
        );
    }

    #[test]
    fn create_wrappers() {
        let spec = r#"{"request": {"body": {"query_type": "SOURCE_TO_DESTINATION"}}}"#;
        let digest = SpecDigest::of(&serde_json::json!({"query_type": "SOURCE_TO_DESTINATION"}));
        let body = format!(r#"{{"immediate_run": {spec}}}"#);
        assert_eq!(
            create(body.as_bytes(), FaultSet::default()),
            Ok(CreateRequest::ImmediateRun(digest.clone()))
        );
        let body = format!(r#"{{"cached_result_if_available": {spec}}}"#);
        assert_eq!(
            create(body.as_bytes(), FaultSet::default()),
            Ok(CreateRequest::IfAvailable {
                spec: digest.clone(),
                max_staleness: DEFAULT_MAX_STALENESS
            })
        );
        let body =
            r#"{"cached_result_if_available": {"request": {"body": {}}, "max_staleness": "1.5s"}}"#;
        assert!(matches!(
            create(body.as_bytes(), FaultSet::default()),
            Ok(CreateRequest::IfAvailable { max_staleness, .. }) if max_staleness == Duration::from_millis(1500)
        ));
        let body = r#"{"cached_result_context": {"cache_id": "qr-x"}}"#;
        assert_eq!(
            create(body.as_bytes(), FaultSet::default()),
            Ok(CreateRequest::Context {
                cache_id: "qr-x".to_owned()
            })
        );
    }

    #[test]
    fn create_refusals() {
        let refused = |body: &str| message(create(body.as_bytes(), FaultSet::default()));
        assert!(refused("{}").contains("got none"));
        assert!(refused(r#"{"immediate_run": {}, "cached_result_context": {}}"#).contains("got 2"));
        assert!(refused(r#"{"immediate_run": "x"}"#).contains("must be an object"));
        assert!(refused(r#"{"immediate_run": null}"#).contains("must be an object"));
        assert!(refused(r#"{"immediate_run": {}}"#).contains("request.body"));
        assert!(refused(r#"{"immediate_run": {"request": {}}}"#).contains("request.body"));
        assert!(
            refused(r#"{"immediate_run": {"request": {"body": []}}}"#).contains("request.body")
        );
        assert!(refused(r#"{"immediate_run": {"request": 1}}"#).contains("request must be"));
        assert!(refused(r#"{"cached_result_if_available": {"request": {"body": {}}, "max_staleness": "1h"}}"#).contains("max_staleness"));
        assert!(
            refused(
                r#"{"cached_result_if_available": {"request": {"body": {}}, "max_staleness": 60}}"#
            )
            .contains("max_staleness")
        );
        assert!(refused(r#"{"cached_result_context": {}}"#).contains("cache_id"));
        assert!(refused(r#"{"cached_result_context": {"cache_id": ""}}"#).contains("cache_id"));
        assert!(
            refused(r#"{"cached_result_context": {"cache_id": "x", "request": {"body": 1}}}"#)
                .contains("request.body")
        );
    }

    #[test]
    fn several_wrappers_with_the_fault_use_the_first() {
        let body = r#"{"cached_result_context": {"cache_id": "x"}, "immediate_run": {"request": {"body": {}}}}"#;
        assert!(matches!(
            create(
                body.as_bytes(),
                FaultSet::new(&[Fault::CreateAcceptsTwoWrappers])
            ),
            Ok(CreateRequest::ImmediateRun(_))
        ));
    }

    #[test]
    fn missing_id_404_changes_only_the_missing_or_empty_id() {
        let faults = FaultSet::new(&[Fault::MissingId404]);
        for body in [
            "{}",
            r#"{"query_result_id": ""}"#,
            r#"{"query_result_id": null}"#,
        ] {
            for result in [
                cancel(body.as_bytes(), faults).map(drop),
                get(body.as_bytes(), faults).map(drop),
            ] {
                assert_eq!(
                    result.map_err(|err| err.code),
                    Err(Code::NotFound),
                    "{body}"
                );
            }
        }
        for body in ["nope", "[]", r#"{"query_result_id": 5}"#] {
            message(cancel(body.as_bytes(), faults));
            message(get(body.as_bytes(), faults));
        }
        message(get(br#"{"query_result_id": "a", "page_size": 0}"#, faults));
    }

    #[test]
    fn context_requires_request_with_the_variation() {
        let faults = FaultSet::new(&[Fault::ContextRequiresRequest]);
        for body in [
            r#"{"cached_result_context": {"cache_id": "qr-x"}}"#,
            r#"{"cached_result_context": {"cache_id": "qr-x", "request": {}}}"#,
        ] {
            assert!(
                message(create(body.as_bytes(), faults)).contains("request.body"),
                "{body}"
            );
        }
        let body = r#"{"cached_result_context": {"cache_id": "qr-x", "request": {"body": {}}}}"#;
        assert_eq!(
            create(body.as_bytes(), faults),
            Ok(CreateRequest::Context {
                cache_id: "qr-x".to_owned()
            })
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration("3600s"), Some(Duration::from_secs(3600)));
        assert_eq!(duration("0s"), Some(Duration::ZERO));
        assert_eq!(duration("0.000000001s"), Some(Duration::from_nanos(1)));
        for bad in [
            "",
            "s",
            "3600",
            "-1s",
            "1.s",
            ".5s",
            "1.0000000001s",
            "1e3s",
            "1hs",
            "315576000001s",
        ] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }
}
