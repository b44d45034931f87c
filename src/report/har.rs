//! `failures.har`: the exchanges the result model keeps, as an HTTP Archive
//! (HAR 1.2, <http://www.softwareishard.com/blog/har-12-spec/>) that browser
//! developer tools, HAR viewers and proxies open.
//!
//! The model keeps the last request and response of every step that did
//! not pass (failed, could not complete, deviated, found a precondition
//! unmet; earlier attempts of `--retries` included) and nothing of a step
//! that passed, so this file holds exactly those: one entry per kept
//! exchange, in the order of the scenarios, each scenario's attempts oldest
//! first, steps before `finally` steps. A run where every step passed
//! writes a log without entries, so the set of files is always the same.
//!
//! - One **page** per attempt of a scenario that has entries (`id` the
//!   scenario id, with ` (attempt N of M)` for a scenario run again, and
//!   `_attempt` on its entries); every entry names its page (`pageref`), so
//!   viewers group a scenario's requests.
//! - Each entry's **comment** names the scenario, the step and the
//!   `traceparent` of its request; the same are in custom fields
//!   (`_scenario`, `_step`, `_outcome`, `_traceparent`), and a request that
//!   got no response has status 0 and the transport's message in `_error`
//!   (as browsers write a failed request). The log names the run
//!   (`_runId`, and in its comment).
//! - **Times**: `startedDateTime` is when the request was sent (a report
//!   written before that was recorded gives the run's start). conform
//!   measures a request from sending to the last byte of the body, so the
//!   whole of it is `timings.wait` (`send` and `receive` 0) and `time`;
//!   the other timings are unknown and left out, as the format allows.
//! - **Texts** are the model's: secrets masked, bodies cut at 64 KiB (the
//!   content's `size` is the whole body's, and its comment says where it
//!   was cut), control characters escaped visibly. Header lists are what
//!   conform set (the client adds `host`, `user-agent`, `accept-encoding`
//!   and `content-length` itself); `httpVersion` is `HTTP/1.1`, the only
//!   version the client speaks; sizes are of bodies as read (decompressed),
//!   and header sizes are unknown (-1). Cookies are not taken apart (`[]`):
//!   they are masked in their headers.
//!
//! Written streamed: the pages first (one small record per failing
//! attempt), then one entry at a time.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::model::{
    Exchange, Failure, FailureKind, RunResult, ScenarioResult, StepResult, TraceId,
};

/// The HAR version written.
pub const HAR_VERSION: &str = "1.2";

/// Writes the archive atomically (see [`super::write_atomic_with`]).
pub fn write(result: &RunResult, path: &Path) -> io::Result<()> {
    super::write_atomic_with(path, |w| write_to(result, w))
}

/// The archive as text.
pub fn render(result: &RunResult) -> String {
    let mut out = Vec::new();
    write_to(result, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

fn write_to(r: &RunResult, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(br#"{"log":{"version":"#)?;
    json(w, &HAR_VERSION)?;
    w.write_all(br#","creator":"#)?;
    json(
        w,
        &Creator {
            name: "conform",
            version: env!("CARGO_PKG_VERSION"),
        },
    )?;
    w.write_all(br#","comment":"#)?;
    json(
        w,
        &format!(
            "conform run {}: the last request and response of every step that did not pass",
            if r.run_id.is_empty() {
                "(no run id recorded)"
            } else {
                &r.run_id
            }
        ),
    )?;
    w.write_all(br#","_runId":"#)?;
    json(w, &r.run_id)?;
    w.write_all(br#","pages":["#)?;
    let mut first = true;
    for a in attempts(r) {
        if let Some(page) = page(r, &a) {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            w.write_all(b"\n")?;
            json(w, &page)?;
        }
    }
    w.write_all(br#"],"entries":["#)?;
    let mut first = true;
    for a in attempts(r) {
        for (part, step, x) in a.exchanges() {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            w.write_all(b"\n")?;
            json(w, &entry(r, &a, part, step, x))?;
        }
    }
    w.write_all(b"]}}\n")
}

/// `v` as compact JSON.
fn json<T: Serialize + ?Sized>(w: &mut dyn Write, v: &T) -> io::Result<()> {
    serde_json::to_writer(w, v).map_err(io::Error::other)
}

/// One attempt of a scenario (an earlier one of `--retries`, or the last).
struct Attempt<'a> {
    scenario: &'a ScenarioResult,
    /// 1-based; `None` for a scenario run once.
    number: Option<usize>,
    /// The page id: the scenario id, with the attempt for an earlier one.
    page_id: String,
    trace_id: TraceId,
    steps: &'a [StepResult],
    finally: &'a [StepResult],
}

impl<'a> Attempt<'a> {
    /// The kept exchanges, steps before `finally` steps.
    fn exchanges(&self) -> impl Iterator<Item = (&'static str, &'a StepResult, &'a Exchange)> {
        let steps = self.steps.iter().map(|s| ("step", s));
        let finally = self.finally.iter().map(|s| ("finally step", s));
        steps
            .chain(finally)
            .filter_map(|(part, s)| s.exchange.as_deref().map(|x| (part, s, x)))
    }
}

/// Every attempt of every scenario, earlier ones first.
fn attempts(r: &RunResult) -> impl Iterator<Item = Attempt<'_>> {
    r.scenarios.iter().flat_map(|s| {
        let total = s.reruns.len() + 1;
        let earlier = s.reruns.iter().enumerate().map(move |(i, re)| Attempt {
            scenario: s,
            number: Some(i + 1),
            page_id: format!("{} (attempt {} of {total})", s.id, i + 1),
            trace_id: re.trace_id,
            steps: &re.steps,
            finally: &re.finally,
        });
        let last = Attempt {
            scenario: s,
            number: (total > 1).then_some(total),
            page_id: if total > 1 {
                format!("{} (attempt {total} of {total})", s.id)
            } else {
                s.id.to_string()
            },
            trace_id: s.trace_id,
            steps: &s.steps,
            finally: &s.finally,
        };
        earlier.chain(std::iter::once(last))
    })
}

#[derive(Serialize)]
struct Creator {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    started_date_time: String,
    id: &'a str,
    title: String,
    page_timings: PageTimings,
    comment: String,
}

/// Page timings are a browser's; unknown here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageTimings {
    on_content_load: i8,
    on_load: i8,
}

/// The page of an attempt that kept exchanges: started when its first one was.
fn page<'a>(r: &RunResult, a: &'a Attempt<'a>) -> Option<Page<'a>> {
    let (_, _, first) = a.exchanges().next()?;
    let s = a.scenario;
    let mut comment = format!("scenario {} ({})", s.id, s.location);
    if !a.trace_id.is_none() {
        comment.push_str(&format!(", trace id {}", a.trace_id));
    }
    Some(Page {
        started_date_time: started(r, first),
        id: &a.page_id,
        title: format!("{}: {}", s.name, s.outcome.as_str()),
        page_timings: PageTimings {
            on_content_load: -1,
            on_load: -1,
        },
        comment,
    })
}

/// When the request was sent, else the run's start.
fn started(r: &RunResult, x: &Exchange) -> String {
    match (&x.started_at, r.started_at.is_empty()) {
        (Some(t), _) => t.clone(),
        (None, false) => r.started_at.clone(),
        (None, true) => "1970-01-01T00:00:00Z".to_owned(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    pageref: &'a str,
    started_date_time: String,
    time: f64,
    request: Request<'a>,
    response: Response<'a>,
    cache: Cache,
    timings: Timings,
    comment: String,
    #[serde(rename = "_scenario")]
    scenario: &'a str,
    #[serde(rename = "_step")]
    step: &'a str,
    #[serde(rename = "_outcome")]
    outcome: &'static str,
    #[serde(rename = "_attempt", skip_serializing_if = "Option::is_none")]
    attempt: Option<usize>,
    #[serde(rename = "_traceparent", skip_serializing_if = "Option::is_none")]
    traceparent: Option<&'a str>,
    #[serde(rename = "_error", skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
    http_version: &'static str,
    cookies: [(); 0],
    headers: Vec<NameValue<'a>>,
    query_string: Vec<NameValue<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_data: Option<PostData<'a>>,
    headers_size: i8,
    body_size: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostData<'a> {
    mime_type: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    status: u16,
    status_text: &'static str,
    http_version: &'static str,
    cookies: [(); 0],
    headers: Vec<NameValue<'a>>,
    content: Content<'a>,
    #[serde(rename = "redirectURL")]
    redirect_url: &'a str,
    headers_size: i8,
    /// The body as read; -1 when no response came.
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content<'a> {
    size: usize,
    mime_type: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
struct Cache {}

#[derive(Serialize)]
struct Timings {
    send: f64,
    wait: f64,
    receive: f64,
}

/// A header or a query parameter.
#[derive(Serialize)]
struct NameValue<'a> {
    name: std::borrow::Cow<'a, str>,
    value: std::borrow::Cow<'a, str>,
}

fn pairs(headers: &[(String, String)]) -> Vec<NameValue<'_>> {
    headers
        .iter()
        .map(|(k, v)| NameValue {
            name: k.as_str().into(),
            value: v.as_str().into(),
        })
        .collect()
}

/// The query of a (masked) URL, decoded.
fn query_of(url: &str) -> Vec<NameValue<'static>> {
    let Ok(u) = reqwest::Url::parse(url) else {
        return Vec::new();
    };
    u.query_pairs()
        .map(|(k, v)| NameValue {
            name: k.into_owned().into(),
            value: v.into_owned().into(),
        })
        .collect()
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why no response came: the step's first runtime failure.
fn transport_error(step: &StepResult) -> Option<&str> {
    step.failures
        .iter()
        .find(|f: &&Failure| f.kind == FailureKind::Runtime)
        .or(step.failures.first())
        .map(|f| f.message.as_str())
}

fn entry<'a>(
    r: &RunResult,
    a: &'a Attempt<'a>,
    part: &'static str,
    step: &'a StepResult,
    x: &'a Exchange,
) -> Entry<'a> {
    let req = &x.request;
    let request = Request {
        method: &req.method,
        url: &req.url,
        http_version: "HTTP/1.1",
        cookies: [],
        headers: pairs(&req.headers),
        query_string: query_of(&req.url),
        post_data: req.body.as_deref().map(|text| PostData {
            mime_type: header(&req.headers, "content-type").unwrap_or_default(),
            text,
        }),
        headers_size: -1,
        body_size: req.body.as_ref().map_or(0, String::len),
    };
    let (response, time, error) = match &x.response {
        Some(resp) => (
            Response {
                status: resp.status,
                status_text: reqwest::StatusCode::from_u16(resp.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or_default(),
                http_version: "HTTP/1.1",
                cookies: [],
                headers: pairs(&resp.headers),
                content: Content {
                    size: resp.body_bytes,
                    mime_type: header(&resp.headers, "content-type").unwrap_or_default(),
                    text: &resp.body,
                    comment: resp.truncated.then(|| {
                        format!(
                            "cut at {} of {} bytes (the text is masked and made printable)",
                            resp.body.len(),
                            resp.body_bytes
                        )
                    }),
                },
                redirect_url: header(&resp.headers, "location").unwrap_or_default(),
                headers_size: -1,
                body_size: resp.body_bytes as i64,
            },
            resp.duration_ms.max(0.0),
            None,
        ),
        None => (
            Response {
                status: 0,
                status_text: "",
                http_version: "",
                cookies: [],
                headers: Vec::new(),
                content: Content {
                    size: 0,
                    mime_type: "",
                    text: "",
                    comment: None,
                },
                redirect_url: "",
                headers_size: -1,
                body_size: -1,
            },
            0.0,
            transport_error(step),
        ),
    };
    let s = a.scenario;
    let mut comment = format!(
        "scenario {}, {part} {} ({})",
        s.id,
        step.name,
        step.outcome.as_str()
    );
    if let Some(n) = a.number {
        comment.push_str(&format!(", attempt {n}"));
    }
    if let Some(t) = step.traceparent() {
        comment.push_str(&format!(", traceparent {t}"));
    }
    Entry {
        pageref: &a.page_id,
        started_date_time: started(r, x),
        time,
        request,
        response,
        cache: Cache {},
        timings: Timings {
            send: 0.0,
            wait: time,
            receive: 0.0,
        },
        comment,
        scenario: &s.id,
        step: &step.name,
        outcome: step.outcome.as_str(),
        attempt: a.number,
        traceparent: step.traceparent(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> RunResult {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/reports")
            .join(name);
        super::super::json::read(&path).expect("the fixture reads")
    }

    #[test]
    fn a_passing_run_writes_a_log_without_entries() {
        let mut r = fixture("passing.json");
        r.run_id = "20261129T011857Z-4242-1a2b3c4d".into();
        let har: serde_json::Value = serde_json::from_str(&render(&r)).unwrap();
        assert_eq!(har["log"]["version"], "1.2");
        assert_eq!(har["log"]["creator"]["name"], "conform");
        assert_eq!(har["log"]["_runId"], "20261129T011857Z-4242-1a2b3c4d");
        assert_eq!(har["log"]["entries"], serde_json::json!([]));
        assert_eq!(har["log"]["pages"], serde_json::json!([]));
    }

    #[test]
    fn every_kept_exchange_is_an_entry_of_its_scenarios_page() {
        let r = fixture("failing.json");
        let kept: usize = r
            .scenarios
            .iter()
            .flat_map(|s| s.steps.iter().chain(&s.finally))
            .filter(|s| s.exchange.is_some())
            .count();
        assert!(kept > 0);
        let har: serde_json::Value = serde_json::from_str(&render(&r)).unwrap();
        let entries = har["log"]["entries"].as_array().unwrap();
        assert_eq!(entries.len(), kept);
        let pages: Vec<&str> = har["log"]["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        for e in entries {
            assert!(pages.contains(&e["pageref"].as_str().unwrap()), "{e}");
            assert_eq!(e["pageref"], e["_scenario"]);
            assert_eq!(e["timings"]["wait"], e["time"]);
        }
    }

    #[test]
    fn a_request_without_a_response_has_status_zero_and_its_error() {
        let mut r = fixture("failing.json");
        let step = r
            .scenarios
            .iter_mut()
            .flat_map(|s| s.steps.iter_mut())
            .find(|s| s.exchange.is_some())
            .unwrap();
        step.exchange.as_mut().unwrap().response = None;
        step.failures[0].kind = FailureKind::Runtime;
        step.failures[0].message = "could not connect: refused".into();
        let har: serde_json::Value = serde_json::from_str(&render(&r)).unwrap();
        let e = &har["log"]["entries"][0];
        assert_eq!(e["response"]["status"], 0);
        assert_eq!(e["response"]["bodySize"], -1);
        assert_eq!(e["_error"], "could not connect: refused");
        assert_eq!(e["time"], 0.0);
    }
}
