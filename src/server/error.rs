//! The grpc-gateway style JSON error body and its HTTP status mapping.

use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::fault::{Fault, FaultSet};
use super::random_hex;

/// The gRPC codes this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    InvalidArgument,
    Unauthenticated,
    NotFound,
    ResourceExhausted,
    Unimplemented,
    Internal,
}

impl Code {
    /// The gRPC code name, as Go's `codes.Code.String()` writes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Code::InvalidArgument => "InvalidArgument",
            Code::Unauthenticated => "Unauthenticated",
            Code::NotFound => "NotFound",
            Code::ResourceExhausted => "ResourceExhausted",
            Code::Unimplemented => "Unimplemented",
            Code::Internal => "Internal",
        }
    }

    /// grpc-gateway's HTTP status for the code.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Code::InvalidArgument => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answer: a gRPC code plus a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: Code,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(Code::InvalidArgument, message)
    }

    /// The JSON error body (with the error faults applied).
    pub(crate) fn body(&self, faults: FaultSet) -> Value {
        let mut body = json!({
            "code": self.code.name(),
            "message": self.message,
            "request_id": random_hex(16),
            "timestamp": humantime::format_rfc3339_nanos(SystemTime::now()).to_string(),
            "details": [],
        });
        if let Some(object) = body.as_object_mut() {
            if faults.has(Fault::ErrorMissingCode) {
                object.remove("code");
            }
            if faults.has(Fault::ZeroValuesOmitted) {
                // Protobuf JSON without EmitUnpopulated: an empty list is not written.
                object.remove("details");
            }
        }
        add_extra_fields(&mut body, faults);
        body
    }

    /// The full response: status, content type and body.
    pub(crate) fn render(&self, faults: FaultSet) -> Response {
        // Only an oversized body is ResourceExhausted here: under `oversized-413-text`
        // a proxy in front answers it the way HTTP servers usually do.
        if faults.has(Fault::Oversized413Text) && self.code == Code::ResourceExhausted {
            return text_response(StatusCode::PAYLOAD_TOO_LARGE, "payload too large");
        }
        if faults.has(Fault::ErrorNotJson) {
            return text_response(self.code.status(), "bad request");
        }
        json_response(self.code.status(), &self.body(faults))
    }
}

/// A `text/plain` response.
fn text_response(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// A JSON response with `content-type: application/json`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Under `extra-fields`, adds an undocumented field to a JSON object.
pub(crate) fn add_extra_fields(value: &mut Value, faults: FaultSet) {
    if faults.has(Fault::ExtraFields)
        && let Some(object) = value.as_object_mut()
    {
        object.insert(
            "x_debug".to_owned(),
            Value::from("undocumented field from the conform reference server"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_every_field() {
        let body = ApiError::invalid("bad").body(FaultSet::default());
        assert_eq!(body["code"], "InvalidArgument");
        assert_eq!(body["message"], "bad");
        assert_eq!(body["details"], json!([]));
        let request_id = body["request_id"].as_str().unwrap_or_default();
        assert_eq!(request_id.len(), 32);
        assert!(request_id.bytes().all(|b| b.is_ascii_hexdigit()));
        let timestamp = body["timestamp"].as_str().unwrap_or_default();
        assert!(humantime::parse_rfc3339(timestamp).is_ok(), "{timestamp}");
        assert!(timestamp.ends_with('Z'));
        assert!(body.get("x_debug").is_none());
    }

    #[test]
    fn status_mapping() {
        assert_eq!(Code::InvalidArgument.status(), 400);
        assert_eq!(Code::Unauthenticated.status(), 401);
        assert_eq!(Code::NotFound.status(), 404);
        assert_eq!(Code::Unimplemented.status(), 501);
        assert_eq!(Code::Internal.status(), 500);
    }

    #[test]
    fn faults_shape_the_body() {
        let faults = FaultSet::new(&[Fault::ErrorMissingCode, Fault::ExtraFields]);
        let body = ApiError::new(Code::NotFound, "gone").body(faults);
        assert!(body.get("code").is_none());
        assert!(body.get("x_debug").is_some());
        assert_eq!(body["message"], "gone");
        assert_eq!(body["details"], json!([]));
        let body = ApiError::invalid("bad").body(FaultSet::new(&[Fault::ZeroValuesOmitted]));
        assert!(body.get("details").is_none(), "{body}");
        assert_eq!(body["code"], "InvalidArgument");
    }
}
