//! HTTP handlers: auth, the three async query operations, 404/501 and the contract file.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::App;
use super::error::{ApiError, Code, add_extra_fields, json_response};
use super::fault::Fault;
use super::parse::{self, CreateRequest, GetRequest};
use super::rows;
use super::state::Status;

/// The contract this server implements, served at `GET /openapi.yaml`.
pub(crate) const OPENAPI_YAML: &str = include_str!("../../cases/openapi.yaml");

/// Request bodies larger than this are refused as gRPC refuses a message
/// over its default maximum (4 MiB): `ResourceExhausted`, which grpc-gateway
/// answers with 429.
pub(crate) const MAX_BODY_BYTES: usize = 4 << 20;

/// The limit under `unknown-fields-no-limit`: no message limit as such, but a
/// cap all the same, so that no client can make the server hold unbounded memory.
pub(crate) const SAFETY_CAP_BYTES: usize = 64 << 20;

/// The request body limit in force.
fn body_limit(app: &App) -> usize {
    if app.faults.has(Fault::UnknownFieldsNoLimit) {
        SAFETY_CAP_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

type Answer = Result<Response, ApiError>;

fn finish(app: &App, answer: Answer) -> Response {
    answer.unwrap_or_else(|err| err.render(app.faults))
}

/// `POST …:nodes_async_create`
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    finish(&app, create_answer(&app, &headers, body).await)
}

/// `POST …:nodes_async_get`
pub(crate) async fn get(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    finish(&app, get_answer(&app, &headers, body).await)
}

/// `POST …:nodes_async_cancel`
pub(crate) async fn cancel(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    finish(&app, cancel_answer(&app, &headers, body).await)
}

/// Any path without a route: 404 `NotFound`, as grpc-gateway answers.
pub(crate) async fn not_found(State(app): State<Arc<App>>, method: Method, uri: Uri) -> Response {
    ApiError::new(
        Code::NotFound,
        format!("no route for {method} {}", uri.path()),
    )
    .render(app.faults)
}

/// A known path with another method: 501 `Unimplemented`, as grpc-gateway answers.
pub(crate) async fn unimplemented(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
) -> Response {
    ApiError::new(
        Code::Unimplemented,
        format!("method {method} is not implemented for {}", uri.path()),
    )
    .render(app.faults)
}

/// `GET /openapi.yaml`: public, no token needed.
pub(crate) async fn openapi() -> Response {
    let mut response = Response::new(Body::from(OPENAPI_YAML));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml"),
    );
    response
}

/// Checks `Authorization: Bearer <token>` (scheme case-insensitive), before the body is read.
fn authorize(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    if app.faults.has(Fault::NoAuth) {
        return Ok(());
    }
    let unauthenticated = |why: &str| ApiError::new(Code::Unauthenticated, why);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthenticated("missing Authorization: Bearer token"))?;
    let text = value
        .to_str()
        .map_err(|_| unauthenticated("malformed Authorization header"))?;
    let (scheme, token) = text
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| unauthenticated("malformed Authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthenticated("the Authorization scheme must be Bearer"));
    }
    if !constant_time_eq(token.trim().as_bytes(), app.token.as_bytes()) {
        if app.faults.has(Fault::WrongToken400) {
            return Err(ApiError::invalid("Invalid API key"));
        }
        return Err(unauthenticated("invalid bearer token"));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Bytes read and discarded after the limit, so the refusal reaches a client
/// still sending (answering early and closing would reset the connection
/// under the client's feet, losing the answer).
const DRAIN_BYTES: usize = 64 << 20;

/// The whole body, or `ResourceExhausted` when it is over `limit` bytes.
async fn read_body(mut body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    use http_body::Body as _;
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(data) = frame
            .map_err(|_| ApiError::invalid("the request body could not be read"))?
            .into_data()
        else {
            continue;
        };
        total += data.len();
        if total <= limit {
            buf.extend_from_slice(&data);
        } else if total > limit.saturating_add(DRAIN_BYTES) {
            break;
        }
    }
    if total > limit {
        return Err(ApiError::new(
            Code::ResourceExhausted,
            format!("grpc: received message larger than max ({total} vs. {limit} bytes)"),
        ));
    }
    Ok(buf.into())
}

async fn create_answer(app: &App, headers: &HeaderMap, body: Body) -> Answer {
    authorize(app, headers)?;
    let body = read_body(body, body_limit(app)).await?;
    let mut request = parse::create(&body, app.faults)?;
    // The first create that would start a query fails: whichever scenario
    // sends it expects it to succeed.
    if app.faults.has(Fault::FlakyOnce)
        && !matches!(request, CreateRequest::Context { .. })
        && !app
            .flaky_spent
            .swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        return Err(ApiError::new(
            Code::Internal,
            "transient failure (flaky-once)",
        ));
    }
    if app.faults.has(Fault::NoRows)
        && let CreateRequest::ImmediateRun(spec) | CreateRequest::IfAvailable { spec, .. } =
            &mut request
    {
        spec.total = 0;
    }
    let now = Instant::now();
    let id = {
        let mut store = app.store();
        match request {
            CreateRequest::ImmediateRun(spec) => store.run(spec, now),
            CreateRequest::IfAvailable {
                spec,
                max_staleness,
            } => match store.cached(&spec, max_staleness, now) {
                Some(id) => id,
                None => store.run(spec, now),
            },
            CreateRequest::Context { cache_id } => {
                store.attach(&cache_id, now).ok_or_else(|| {
                    ApiError::new(
                        Code::NotFound,
                        format!("cached result {cache_id:?} does not exist or has expired"),
                    )
                })?
            }
        }
    };
    let mut answer = if app.faults.has(Fault::CreateWithoutId) {
        json!({})
    } else {
        json!({ "query_result_id": id })
    };
    add_extra_fields(&mut answer, app.faults);
    Ok(json_response(StatusCode::OK, &answer))
}

async fn get_answer(app: &App, headers: &HeaderMap, body: Body) -> Answer {
    authorize(app, headers)?;
    let body = read_body(body, body_limit(app)).await?;
    let GetRequest {
        query_result_id: id,
        page_size,
        page_token,
    } = parse::get(&body, app.faults)?;
    let offset = match page_token {
        None => None,
        Some(token) => Some(app.tokens.redeem(&id, &token).ok_or_else(|| {
            ApiError::invalid("page_token was not issued by this server for this query_result_id")
        })?),
    };
    let snapshot = app
        .store()
        .get(&id, Instant::now(), app.timing, app.cancel.after);
    let (values, next_page_token) = match snapshot.rows {
        // `first-page-empty`: the first page of a finished result holds no
        // rows, only the token of the page that starts at the first row.
        Some((_, total))
            if app.faults.has(Fault::FirstPageEmpty)
                && snapshot.status == Status::Done
                && offset.is_none()
                && total > 0 =>
        {
            (Vec::new(), app.tokens.issue(&id, 0))
        }
        Some((node_type, total)) => page(app, &id, &node_type, total, offset, page_size),
        None => (Vec::new(), String::new()),
    };
    let has_more = !next_page_token.is_empty();
    // `zero-values-omitted`: protobuf JSON without EmitUnpopulated leaves out
    // fields at their zero value.
    let keep = |is_zero: bool| !(is_zero && app.faults.has(Fault::ZeroValuesOmitted));
    let mut progress_status = json!({});
    if keep(snapshot.row_count == 0) {
        progress_status["row_count"] = if app.faults.has(Fault::RowCountNumber) {
            Value::from(snapshot.row_count)
        } else {
            Value::from(snapshot.row_count.to_string())
        };
    }
    add_extra_fields(&mut progress_status, app.faults);
    let mut answer = json!({
        "status": snapshot.status.name(app.faults),
        "progress_status": progress_status,
    });
    if keep(values.is_empty()) {
        answer["values"] = Value::from(values);
    }
    if keep(!has_more) {
        answer["has_more"] = Value::from(has_more);
    }
    if keep(next_page_token.is_empty()) {
        answer["next_page_token"] = Value::from(next_page_token);
    }
    add_extra_fields(&mut answer, app.faults);
    Ok(json_response(StatusCode::OK, &answer))
}

/// One page of rows from `offset` (the paging faults shift it by one) and
/// the token of the next page, empty when no rows remain.
fn page(
    app: &App,
    id: &str,
    node_type: &str,
    total: u64,
    offset: Option<u64>,
    page_size: u64,
) -> (Vec<Value>, String) {
    let start = match offset {
        None => 0,
        Some(offset) if app.faults.has(Fault::PagingSkipsRow) => offset.saturating_add(1),
        Some(offset) if app.faults.has(Fault::PagingRepeatsRow) => offset.saturating_sub(1),
        Some(offset) => offset,
    }
    .min(total);
    let end = start.saturating_add(page_size).min(total);
    let values = (start..end)
        .map(|index| rows::row(node_type, index, app.faults))
        .collect();
    let next = if end < total {
        app.tokens.issue(id, end)
    } else {
        String::new()
    };
    (values, next)
}

async fn cancel_answer(app: &App, headers: &HeaderMap, body: Body) -> Answer {
    authorize(app, headers)?;
    let body = read_body(body, body_limit(app)).await?;
    let id = parse::cancel(&body, app.faults)?;
    let now = Instant::now();
    let mut store = app.store();
    if app.faults.has(Fault::CancelUnknown404) && !store.is_live(&id, now) {
        return Err(ApiError::new(
            Code::NotFound,
            format!("query result {id:?} does not exist, was cancelled or has expired"),
        ));
    }
    let in_flight = app.faults.has(Fault::CancelRunningNoop) && {
        let status = store
            .snapshot(&id, now, app.timing, app.cancel.after)
            .status;
        matches!(status, Status::Pending | Status::Running)
    };
    if !in_flight {
        store.cancel(&id, now, app.cancel.mode);
    }
    drop(store);
    if app.faults.has(Fault::CancelEmptyObject) {
        return Ok(json_response(StatusCode::OK, &json!({})));
    }
    let mut response = Response::new(Body::empty());
    if app.faults.has(Fault::Cancel204) {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::server::ServerConfig;

    fn app(faults: &[Fault]) -> App {
        App::new(ServerConfig {
            faults: faults.to_vec(),
            ..ServerConfig::default()
        })
    }

    #[test]
    fn the_body_limit_follows_the_variation() {
        assert_eq!(body_limit(&app(&[])), MAX_BODY_BYTES);
        assert_eq!(body_limit(&app(&[Fault::Oversized413Text])), MAX_BODY_BYTES);
        assert_eq!(
            body_limit(&app(&[Fault::UnknownFieldsNoLimit])),
            SAFETY_CAP_BYTES
        );
        const { assert!(SAFETY_CAP_BYTES > MAX_BODY_BYTES) };
    }

    #[tokio::test]
    async fn read_body_refuses_past_the_limit() {
        let read = |len: usize, limit: usize| read_body(Body::from(vec![b' '; len]), limit);
        assert_eq!(read(10, 10).await.map(|bytes| bytes.len()), Ok(10));
        assert_eq!(
            read(11, 10).await.map_err(|err| err.code),
            Err(Code::ResourceExhausted)
        );
        let over_cap = read(SAFETY_CAP_BYTES + 1, SAFETY_CAP_BYTES).await;
        assert_eq!(
            over_cap.map_err(|err| err.code),
            Err(Code::ResourceExhausted)
        );
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
