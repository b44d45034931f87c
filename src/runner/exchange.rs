//! Building requests from a step and recording exchanges for reports:
//! secrets masked, bodies cut (saying so), and a curl line that reproduces
//! the request (sending a cut body from its file beside the reports: see
//! `report::bodies`).

use std::fmt::Write as _;

use crate::case::{BodyPlan, RequestStep};
use crate::contract::Contract;
use crate::expr::template::{RenderError, Vars};
use crate::http::target::{self, TargetError};
use crate::http::trace::TRACEPARENT;
use crate::http::{BaseUrl, HttpResponse, OutgoingRequest};
use crate::model::{Exchange, RecordedRequest, RecordedResponse, ms};
use crate::printable;
use crate::redact::Redactor;

use super::SHOWN_BODY_BYTES;

/// Why a request could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BuildError {
    /// A variable without a value, or a value its parameter's style cannot write.
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{0}")]
    Url(String),
}

impl From<RenderError> for BuildError {
    fn from(e: RenderError) -> Self {
        BuildError::Target(e.into())
    }
}

/// Renders a step's request against the base URL; the path, query and
/// documented headers are written as the contract's parameters ask
/// (`http::target`, which lint uses too).
pub fn build(
    step: &RequestStep,
    base: &BaseUrl,
    contract: Option<&Contract>,
    token: Option<&str>,
    vars: &Vars,
) -> Result<OutgoingRequest, BuildError> {
    let r = &step.request;
    let method = r.method.as_str();
    let named = step.operation.as_ref().map(|(id, _)| id.as_str());
    let path = target::path(&r.path, vars, contract, method, named)?;
    let mut url = base
        .join(&path, r.path.is_literal())
        .map_err(BuildError::Url)?;
    let has = |headers: &[(String, String)], name: &str| {
        headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    // A body without a Content-Type takes the operation's media type.
    let typed_body = !matches!(r.body, BodyPlan::None)
        && !r
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    // A JSON body needs the operation only when the contract has JSON
    // request bodies of another media type.
    let body_needs_op = typed_body
        && (matches!(r.body, BodyPlan::Raw(_))
            || contract.is_some_and(Contract::other_json_requests));
    let op = contract
        .filter(|_| !(r.query.is_empty() && r.headers.is_empty()) || body_needs_op)
        .and_then(|c| target::operation(c, method, &path, named));
    if !r.query.is_empty() {
        let pairs = r.query.iter().map(|q| (q.name.as_str(), &q.value));
        let query = target::query(pairs, vars, op)?;
        if !query.is_empty() {
            let query = match url.query() {
                Some(before) if !before.is_empty() => format!("{before}&{query}"),
                _ => query,
            };
            url.set_query(Some(&query));
        }
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for (k, t) in &r.headers {
        headers.push((k.clone(), target::header(op, k, t, vars)?));
    }
    if typed_body
        && let Some(media) = target::body_media_type(op, matches!(r.body, BodyPlan::Json(_)))
    {
        headers.push(("content-type".into(), media));
    }
    let body = match &r.body {
        BodyPlan::None => None,
        BodyPlan::Json(t) => {
            let mut body = Vec::with_capacity(128);
            t.render_json(vars, &mut body)?;
            Some(body)
        }
        BodyPlan::Raw(t) => Some(t.render_string(vars)?.into_bytes()),
    };
    if let (true, Some(token)) = (step.auth, token)
        && !has(&headers, "authorization")
    {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    Ok(OutgoingRequest {
        method: r.method.as_str(),
        url,
        headers,
        body: body.map(bytes::Bytes::from),
    })
}

/// Text of a body as it may be shown: lossy UTF-8, masked, cut, and
/// printable as a block (see [`crate::printable`]).
pub fn shown_body(raw: &[u8], red: &Redactor) -> (String, bool) {
    let (text, truncated) = body_text(raw, red);
    (printable::block(&text).into_owned(), truncated)
}

/// A body as text: lossy UTF-8, masked, cut (control characters as sent).
fn body_text(raw: &[u8], red: &Redactor) -> (String, bool) {
    let truncated = raw.len() > SHOWN_BODY_BYTES;
    let cut = &raw[..raw.len().min(SHOWN_BODY_BYTES)];
    (
        red.redact(&String::from_utf8_lossy(cut)).into_owned(),
        truncated,
    )
}

/// The request as reports show it; `body_file` is where the whole of a
/// body cut for the record was written (relative to the reports folder).
pub fn record_request(
    req: &OutgoingRequest,
    red: &Redactor,
    body_file: Option<&str>,
) -> RecordedRequest {
    let (body, truncated) = match &req.body {
        Some(b) => {
            let (text, cut) = shown_body(b, red);
            (Some(text), cut)
        }
        None => (None, false),
    };
    RecordedRequest {
        method: req.method.to_owned(),
        url: red.redact(req.url.as_str()).into_owned(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), red.header(k, v)))
            .collect(),
        body,
        body_bytes: req.body.as_ref().map_or(0, bytes::Bytes::len),
        truncated,
        body_file: body_file.filter(|_| truncated).map(str::to_owned),
    }
}

pub fn record_response(resp: &HttpResponse, red: &Redactor) -> RecordedResponse {
    let (body, truncated) = shown_body(&resp.body, red);
    RecordedResponse {
        status: resp.status,
        headers: resp
            .headers
            .iter()
            // A server may echo a secret as a header's name (lower-cased).
            .map(|(k, v)| {
                (
                    printable::line(&red.redact(k)).into_owned(),
                    printable::line(&red.header(k, v)).into_owned(),
                )
            })
            .collect(),
        body,
        body_bytes: resp.body.len(),
        truncated,
        duration_ms: ms(resp.elapsed),
        request_body_sent: resp.request_body_sent,
    }
}

/// Quotes a word for a POSIX shell: single quotes, or ANSI-C quotes
/// (`$'…'`) when it holds a line break or another character a one-line
/// field escapes, so that the command stays on one line and says exactly
/// what was sent.
fn sh(s: &str) -> String {
    if !s.chars().any(printable::escaped_in_line) {
        return format!("'{}'", s.replace('\'', r"'\''"));
    }
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str("$'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            c if printable::escaped_in_line(c) && c.is_ascii() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if printable::escaped_in_line(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A curl command reproducing the request; the suite's token appears as
/// `$VAR`. A body longer than [`SHOWN_BODY_BYTES`] is sent from
/// `body_file` (`--data-binary @bodies/NAME`, a path relative to the
/// reports folder, where the command is to be run), the whole body masked
/// there as everywhere, and without the `Expect: 100-continue` curl adds
/// to a large body (conform sends the body at once); without a file (no
/// reports folder) the line carries the cut body and says so in a shell
/// comment at its end.
pub fn curl(
    req: &OutgoingRequest,
    red: &Redactor,
    token: Option<&str>,
    token_env: &str,
    body_file: Option<&str>,
) -> String {
    let mut parts = vec![
        "curl -sS -i".to_owned(),
        format!("-X {}", req.method),
        sh(&red.redact(req.url.as_str())),
    ];
    for (k, v) in &req.headers {
        let is_suite_token = k.eq_ignore_ascii_case("authorization")
            && token.is_some_and(|t| v == &format!("Bearer {t}"));
        if is_suite_token {
            parts.push(format!("-H \"{k}: Bearer ${token_env}\""));
        } else {
            parts.push(format!("-H {}", sh(&format!("{k}: {}", red.header(k, v)))));
        }
    }
    if let Some(b) = &req.body {
        match body_file {
            Some(file) if b.len() > SHOWN_BODY_BYTES => {
                // curl asks a large body's server to continue first
                // (`Expect: 100-continue`), which conform never does.
                if !req
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("expect"))
                {
                    parts.push("-H 'Expect:'".to_owned());
                }
                parts.push(format!("--data-binary {}", sh_path(&format!("@{file}"))));
            }
            _ => {
                let (text, cut) = body_text(b, red);
                parts.push(format!("--data-raw {}", sh(&text)));
                if cut {
                    parts.push(format!(
                        "# the body is cut at {} of {} bytes: this sends only its beginning",
                        crate::model::coverage::grouped(SHOWN_BODY_BYTES),
                        crate::model::coverage::grouped(b.len())
                    ));
                }
            }
        }
    }
    parts.join(" ")
}

/// A path as a shell word: as it is when it holds only characters a shell
/// leaves alone (body file names do), else quoted.
fn sh_path(p: &str) -> String {
    let plain = p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'@' | b'/' | b'.' | b'_' | b'-'));
    if plain { p.to_owned() } else { sh(p) }
}

/// The exchange of a step that did not pass; `body_file` as in [`curl`].
pub fn exchange(
    req: &OutgoingRequest,
    resp: Option<&HttpResponse>,
    red: &Redactor,
    token: Option<&str>,
    token_env: &str,
    body_file: Option<&str>,
) -> Exchange {
    // Without a response, the transport gave up about now.
    let sent = resp.map_or_else(std::time::SystemTime::now, |r| r.sent_at);
    Exchange {
        traceparent: req.header(TRACEPARENT).map(str::to_owned),
        request: record_request(req, red, body_file),
        response: resp.map(|r| record_response(r, red)),
        curl: curl(req, red, token, token_env, body_file),
        started_at: Some(humantime::format_rfc3339_millis(sent).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> OutgoingRequest {
        OutgoingRequest {
            method: "POST",
            url: reqwest::Url::parse("http://h/a?x=s3cret").unwrap(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("authorization".into(), "Bearer s3cret".into()),
            ],
            body: Some(bytes::Bytes::from_static(br#"{"q": "it's s3cret"}"#)),
        }
    }

    #[test]
    fn curl_uses_the_env_var_and_masks_the_rest() {
        let mut red = Redactor::new();
        red.add("s3cret");
        let c = curl(&req(), &red, Some("s3cret"), "VEZA_TOKEN", None);
        assert!(!c.contains("s3cret"), "{c}");
        assert!(
            c.contains("-H \"authorization: Bearer $VEZA_TOKEN\""),
            "{c}"
        );
        assert!(c.contains(r#"--data-raw '{"q": "it'\''s ***"}'"#), "{c}");
        assert!(c.contains("'http://h/a?x=***'"), "{c}");
    }

    #[test]
    fn another_authorization_header_is_masked_not_replaced() {
        let mut r = req();
        r.headers[1].1 = "Bearer wrong-token".into();
        let c = curl(&r, &Redactor::new(), Some("s3cret"), "VEZA_TOKEN", None);
        assert!(c.contains("'authorization: Bearer ***'"), "{c}");
        assert!(!c.contains("wrong-token"), "{c}");
    }

    #[test]
    fn control_characters_from_a_server_are_made_visible() {
        let (shown, _) = shown_body(b"x\x1b[2J\x00y\r\nz\rw", &Redactor::new());
        assert_eq!(shown, "x\\u{1b}[2J\\u{0}y\r\nz\\rw");
    }

    #[test]
    fn a_body_with_control_characters_stays_on_the_curl_line() {
        let mut r = req();
        r.body = Some(bytes::Bytes::from_static(
            b"{\"a\": \"it's\\n\"}\r\n\x1b]52;c;x\x07 \xe2\x80\xae.",
        ));
        let c = curl(&r, &Redactor::new(), None, "T", None);
        assert!(
            c.ends_with(r#"--data-raw $'{"a": "it\'s\\n"}\r\n\x1b]52;c;x\x07 \u202e.'"#),
            "{c}"
        );
        assert_eq!(crate::printable::line(&c), c);
    }

    #[test]
    fn a_cut_request_body_says_so_and_its_curl_line_sends_the_whole_file() {
        let mut r = req();
        let mut big = br#"{"q": ""#.to_vec();
        big.resize(SHOWN_BODY_BYTES + 100, b'a');
        big.extend_from_slice(br#"s3cret"}"#);
        let whole = big.len();
        r.body = Some(bytes::Bytes::from(big));
        let mut red = Redactor::new();
        red.add("s3cret");
        let file = "bodies/s-step.json";
        let recorded = record_request(&r, &red, Some(file));
        assert!(recorded.truncated);
        assert_eq!(recorded.body_bytes, whole);
        assert_eq!(recorded.body_file.as_deref(), Some(file));
        assert_eq!(recorded.body.unwrap().len(), SHOWN_BODY_BYTES);
        let c = curl(&r, &red, Some("s3cret"), "VEZA_TOKEN", Some(file));
        assert!(
            c.ends_with(" -H 'Expect:' --data-binary @bodies/s-step.json"),
            "{c}"
        );
        // Without a file (no reports folder): the cut body, and a comment
        // saying the line does not send it whole.
        let c = curl(&r, &red, Some("s3cret"), "VEZA_TOKEN", None);
        assert!(c.contains("--data-raw '{\"q\": \"aaa"), "{}", &c[..200]);
        assert!(
            c.ends_with(&format!(
                " # the body is cut at 65,536 of {} bytes: this sends only its beginning",
                crate::model::coverage::grouped(whole)
            )),
            "{}",
            &c[c.len() - 200..]
        );
        // A body under the cut is whole, and names no file.
        let small = record_request(&req(), &red, Some(file));
        assert!(!small.truncated && small.body_file.is_none());
        assert_eq!(small.body_bytes, req().body.unwrap().len());
    }

    #[test]
    fn bodies_are_cut_for_display() {
        let big = vec![b'a'; SHOWN_BODY_BYTES + 10];
        let (s, cut) = shown_body(&big, &Redactor::new());
        assert!(cut);
        assert_eq!(s.len(), SHOWN_BODY_BYTES);
    }
}
