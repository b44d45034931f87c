//! Transport variations on JSON responses: gzip, chunked transfer, charset.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, Code};
use super::fault::{Fault, FaultSet};

/// Chunks a `chunked` JSON body is split into (at most).
const CHUNKS: usize = 4;

/// The faults this middleware implements.
pub(crate) const TRANSPORT_FAULTS: [Fault; 3] = [Fault::Gzip, Fault::Chunked, Fault::Charset];

/// Middleware: re-encodes JSON responses according to the transport faults.
pub(crate) async fn vary_transport(
    State(faults): State<FaultSet>,
    request: Request,
    next: Next,
) -> Response {
    let gzip = faults.has(Fault::Gzip) && accepts_gzip(request.headers());
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    if faults.has(Fault::Charset) {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    if !gzip && !faults.has(Fault::Chunked) {
        return Response::from_parts(parts, body);
    }
    let Ok(mut bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::new(Code::Internal, "could not buffer the response body")
            .render(faults)
            .into_response();
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    if gzip && let Some(compressed) = gzip_bytes(&bytes) {
        bytes = compressed;
        parts
            .headers
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        parts
            .headers
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    let body = if faults.has(Fault::Chunked) {
        Body::new(Chunked::split(bytes, CHUNKS))
    } else {
        Body::from(bytes)
    };
    Response::from_parts(parts, body)
}

/// Whether `accept-encoding` lists gzip with a non-zero quality.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut params = item.split(';').map(str::trim);
            let coding = params.next().unwrap_or_default();
            let refused = params.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn gzip_bytes(bytes: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// A body of several data frames and no known length, so hyper sends it
/// with `transfer-encoding: chunked`, one chunk per frame.
#[derive(Debug)]
pub(crate) struct Chunked {
    chunks: VecDeque<Bytes>,
}

impl Chunked {
    /// Splits `bytes` into at most `pieces` chunks of about equal size.
    pub(crate) fn split(bytes: Bytes, pieces: usize) -> Self {
        let size = bytes.len().div_ceil(pieces.max(1)).max(1);
        let mut chunks = VecDeque::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let take = size.min(rest.len());
            chunks.push_back(rest.split_to(take));
        }
        Chunked { chunks }
    }
}

impl HttpBody for Chunked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        Poll::Ready(
            self.chunks
                .pop_front()
                .map(|chunk| Ok(http_body::Frame::data(chunk))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_parsing() {
        let accepts = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(accepts("gzip"));
        assert!(accepts("br, GZIP;q=0.5"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("deflate, br"));
        assert!(!accepts("x-gzip2"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn chunking_keeps_every_byte() {
        let chunked = Chunked::split(Bytes::from_static(b"0123456789"), 4);
        let sizes: Vec<_> = chunked.chunks.iter().map(Bytes::len).collect();
        assert_eq!(sizes, [3, 3, 3, 1]);
        let joined: Vec<u8> = chunked.chunks.iter().flat_map(|c| c.to_vec()).collect();
        assert_eq!(joined, b"0123456789");
        assert!(Chunked::split(Bytes::new(), 4).is_end_stream());
    }
}
