//! Running one step: send (once, polled or paged), check, capture.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::case::model::Conversion;
use crate::case::{
    Action, CapturePlan, CaptureSource, Mode, PaginatePlan, PathCheck, PollPlan, RequestStep,
    SourceLocation, StepPlan,
};
use crate::check::{self, Body, Check};
use crate::expr::jsonpath::Actual;
use crate::expr::matcher::show;
use crate::expr::template::Vars;
use crate::http::{HttpResponse, OutgoingRequest, Transport, TransportError};
use crate::model::verdict::stops;
use crate::model::{
    ContractRecord, Exercised, Failure, PollRecord, SkipReason, StepOutcome, StepResult, ms,
};
use crate::poll::{PollEnd, Verdict, parse_retry_after};
use crate::redact::Redactor;

use super::RunContext;
use super::exchange::{build, exchange};

/// What a step's execution mutates: variables and known secrets.
pub struct StepState<'a> {
    pub vars: &'a mut Vars,
    pub red: &'a mut Redactor,
}

/// Statuses retried during a poll, as transport errors are.
pub fn retryable(status: u16) -> bool {
    matches!(status, 502..=504)
}

pub async fn run_step<T: Transport>(
    ctx: &RunContext<T>,
    step: &StepPlan,
    st: StepState<'_>,
) -> StepResult {
    let start = Instant::now();
    let mut result = StepResult {
        name: step.name.clone(),
        location: step.location.clone(),
        outcome: StepOutcome::Passed,
        skip_reason: None,
        duration_ms: 0.0,
        requests: 0,
        status: None,
        failures: Vec::new(),
        exchange: None,
        poll: None,
        exercised: Vec::new(),
        contract: None,
    };
    match &step.action {
        Action::Check(checks) => {
            result.failures = check::variables::check(checks, st.vars)
                .into_iter()
                .map(|f| f.under(step.clause.as_ref()))
                .collect();
        }
        Action::Request(rs) => run_request_step(ctx, step, rs, st, &mut result).await,
    }
    result.duration_ms = ms(start.elapsed());
    result.outcome = crate::model::verdict::step_outcome(&result.failures);
    // Kept until the reports are written, for every step of the run.
    result.exercised.shrink_to_fit();
    result
}

/// At most this many failures that do not stop a poll or a walk are kept
/// from its earlier attempts or pages.
const KEPT_FROM_ATTEMPTS: usize = 10;

/// Keeps `f`, from an attempt or page that did not end its step, unless an
/// equal failure is kept already.
fn keep(kept: &mut Vec<Failure>, f: Failure) {
    let same = |k: &Failure| k.check == f.check && k.clause == f.clause && k.message == f.message;
    if kept.len() < KEPT_FROM_ATTEMPTS && !kept.iter().any(same) {
        kept.push(f);
    }
}

async fn run_request_step<T: Transport>(
    ctx: &RunContext<T>,
    step: &StepPlan,
    rs: &RequestStep,
    st: StepState<'_>,
    result: &mut StepResult,
) {
    let StepState { vars, red } = st;
    let token = ctx.token.as_deref();
    let (req, resp) = match &rs.mode {
        Mode::Once => {
            let req = match request(ctx, rs, vars, &step.location) {
                Ok(r) => r,
                Err(f) => {
                    result.failures.push(*f);
                    return;
                }
            };
            result.requests = 1;
            match ctx.transport.send(&req).await {
                Ok(resp) => {
                    let mut seen = Seen::of(result);
                    let failures = judge_response(ctx, rs, step, &req, &resp, vars, &mut seen);
                    result.failures = failures;
                    (req, Some(resp))
                }
                Err(e) => {
                    result.failures.push(transport_failure(&e, &step.location));
                    (req, None)
                }
            }
        }
        Mode::Poll(plan) => {
            let Some((req, resp)) = run_poll(ctx, rs, step, plan, vars, result).await else {
                return;
            };
            (req, resp)
        }
        Mode::Paginate(plan) => {
            let Some((req, resp)) = run_paginate(ctx, rs, step, plan, vars, result).await else {
                return;
            };
            (req, resp)
        }
    };
    result.status = resp.as_ref().map(|r| r.status);
    // Values are captured from a response even when the step failed, so that
    // `finally` can clean up what it created; a capture that fails counts
    // only when nothing else stopped the step.
    let stopped = result.failures.iter().any(stops);
    if let Some(resp) = &resp {
        let body = Body::of(resp);
        for c in &rs.captures {
            match capture(c, resp, &body) {
                Ok(v) => {
                    if c.secret {
                        red.add(match &v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        });
                    }
                    vars.set(c.var.clone(), v);
                }
                Err(_) if c.optional || stopped => {}
                Err(msg) => result.failures.push(
                    Failure::assertion(
                        Check::Capture,
                        &c.location,
                        format!("capture `{}`: {msg}", c.var),
                    )
                    .under(rs.clause.as_ref()),
                ),
            }
        }
    }
    if !result.failures.is_empty() {
        result.exchange = Some(Box::new(exchange(
            &req,
            resp.as_ref(),
            red,
            token,
            &ctx.token_env,
        )));
    }
}

/// Where the contract checks of a step's responses record what they saw:
/// the documented responses exercised, and what the last one's checks were.
struct Seen<'a> {
    exercised: &'a mut Vec<Exercised>,
    contract: &'a mut Option<ContractRecord>,
}

impl<'a> Seen<'a> {
    fn of(result: &'a mut StepResult) -> Seen<'a> {
        Seen {
            exercised: &mut result.exercised,
            contract: &mut result.contract,
        }
    }
}

/// The step's expectations and the contract checks on one final response;
/// records the documented response it exercised.
fn judge_response<T: Transport>(
    ctx: &RunContext<T>,
    rs: &RequestStep,
    step: &StepPlan,
    req: &OutgoingRequest,
    resp: &HttpResponse,
    vars: &Vars,
    seen: &mut Seen<'_>,
) -> Vec<Failure> {
    let body = Body::of(resp);
    let mut failures = check::check_response(rs, resp, &body, vars);
    failures.extend(contract_check(
        ctx,
        rs,
        &step.location,
        req,
        resp,
        &body,
        seen,
    ));
    failures
}

/// The step's request as it goes out (to its server, with the token), or
/// the failure that says why it cannot be built (at `loc`).
fn request<T: Transport>(
    ctx: &RunContext<T>,
    rs: &RequestStep,
    vars: &Vars,
    loc: &SourceLocation,
) -> Result<OutgoingRequest, Box<Failure>> {
    build(
        rs,
        ctx.base(rs.request.server.as_deref()),
        ctx.contract.as_deref(),
        ctx.token.as_deref(),
        vars,
    )
    .map_err(|e| Box::new(Failure::runtime(Check::Template, loc, e.to_string())))
}

/// The path below the base URL (whose own path is a prefix to strip).
fn relative_path<'a>(base: &reqwest::Url, url: &'a reqwest::Url) -> &'a str {
    let prefix = base.path().trim_end_matches('/');
    url.path()
        .strip_prefix(prefix)
        .filter(|p| p.starts_with('/'))
        .unwrap_or(url.path())
}

/// Contract checks of one response; records the documented response it
/// exercised and which checks ran.
fn contract_check<T: Transport>(
    ctx: &RunContext<T>,
    rs: &RequestStep,
    loc: &SourceLocation,
    req: &OutgoingRequest,
    resp: &HttpResponse,
    body: &Body<'_>,
    seen: &mut Seen<'_>,
) -> Vec<Failure> {
    let Some(contract) = ctx.contract.as_deref() else {
        return Vec::new();
    };
    let path = relative_path(ctx.base(rs.request.server.as_deref()).url(), &req.url);
    let named = rs.operation.as_ref().map(|(id, _)| id.as_str());
    let op = crate::http::target::operation(contract, req.method, path, named);
    let Some(op) = op else {
        if !rs.schema {
            *seen.contract = Some(ContractRecord::all(SkipReason::StepOptOut));
            return Vec::new();
        }
        *seen.contract = Some(ContractRecord::all(SkipReason::NoOperation));
        return vec![Failure::runtime(
            Check::Operation,
            loc,
            format!(
                "{} {path} matches no operation of {}, so its response cannot be checked",
                req.method,
                contract.file()
            ),
        )];
    };
    let checks = ctx.checks.without(&rs.skip_checks);
    let mut judged = if rs.schema && checks.any() {
        let accept = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("accept"))
            .map(|(_, v)| v.as_str());
        check::contract::check(contract, &ctx.registry, checks, op, resp, body, accept, loc)
    } else {
        check::contract::Judged {
            failures: Vec::new(),
            response: op.response_for(resp.status).map(|r| r.key.clone()),
            record: ContractRecord::all(if rs.schema {
                SkipReason::Disabled
            } else {
                SkipReason::StepOptOut
            }),
        }
    };
    // What the suite runs and the step turns off is the step's choice.
    for c in rs
        .skip_checks
        .iter()
        .filter(|c| rs.schema && ctx.checks.runs(**c))
    {
        judged.record.set(*c, Some(SkipReason::StepOptOut));
    }
    *seen.contract = Some(judged.record);
    if let Some(key) = judged.response {
        let e = Exercised {
            operation: op.id.clone(),
            response: key,
        };
        if !seen.exercised.contains(&e) {
            seen.exercised.push(e);
        }
    }
    judged.failures
}

fn transport_failure(e: &TransportError, loc: &SourceLocation) -> Failure {
    Failure::runtime(Check::Transport, loc, e.to_string())
}

/// Takes a captured value from the final response.
pub fn capture(c: &CapturePlan, resp: &HttpResponse, body: &Body<'_>) -> Result<Value, String> {
    let v = match &c.source {
        CaptureSource::Json(path) => {
            let doc = body
                .json
                .as_ref()
                .map_err(|e| format!("cannot read `{path}`: {e}"))?;
            match path.exactly_one(doc) {
                Ok(v) => v.clone(),
                Err(0) => {
                    return Err(format!("`{path}` selected nothing in {}", show(doc, 200)));
                }
                Err(n) => {
                    return Err(format!(
                        "`{path}` selected {n} nodes; a capture needs exactly one"
                    ));
                }
            }
        }
        CaptureSource::Header(h) => match resp.header(h) {
            Some(v) => Value::String(v.to_owned()),
            None => return Err(format!("the response has no `{h}` header")),
        },
    };
    match c.convert {
        None => Ok(v),
        Some(Conversion::String) => Ok(Value::String(match v {
            Value::String(s) => s,
            other => other.to_string(),
        })),
        Some(Conversion::Integer) => match &v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("{} is not an integer", show(&v, 100))),
            _ => Err(format!("{} is not an integer", show(&v, 100))),
        },
        Some(Conversion::Number) => match &v {
            Value::Number(_) => Ok(v),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("{} is not a number", show(&v, 100))),
            _ => Err(format!("{} is not a number", show(&v, 100))),
        },
    }
}

/// How one poll attempt was judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// A `fail_if` condition held: stop with a failure.
    FailIf { path: String, value: String },
    /// Every `until` condition held.
    Until,
    /// The response has a status `expect` refuses: the poll ends on it.
    Refused(u16),
    /// Neither: try again.
    Pending,
}

/// Judges a response: `fail_if` first, then `until`.
pub fn judge(plan: &PollPlan, body: &Body<'_>, vars: &Vars) -> Judgement {
    let doc = body.json.as_ref().ok();
    let select = |c: &PathCheck| doc.map_or(Actual::of(None), |d| c.path.select(d));
    for c in &plan.fail_if {
        let actual = select(c);
        if doc.is_some() && c.matcher.check(&actual, vars).is_ok() {
            let value = actual
                .value
                .as_deref()
                .map_or("nothing".to_owned(), |v| show(v, 100));
            return Judgement::FailIf {
                path: c.path.to_string(),
                value,
            };
        }
    }
    if !plan.until.is_empty()
        && doc.is_some()
        && plan
            .until
            .iter()
            .all(|c| c.matcher.check(&select(c), vars).is_ok())
    {
        return Judgement::Until;
    }
    Judgement::Pending
}

/// A short description of what an attempt saw, for the history.
fn observed(plan: &PollPlan, body: &Body<'_>) -> String {
    let Ok(doc) = body.json else {
        return "no JSON body".into();
    };
    let Some(c) = plan.until.first().or(plan.fail_if.first()) else {
        return "?".into();
    };
    match c.path.select(doc).value.as_deref() {
        Some(Value::String(s)) => crate::expr::matcher::truncate(s, 40),
        Some(v) => show(v, 40),
        None => format!("no {}", c.path),
    }
}

/// A lock that a panic elsewhere cannot poison for good.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One attempt's outcome, kept until the next.
struct Attempt {
    resp: Result<HttpResponse, TransportError>,
    judgement: Judgement,
    /// Contract failures of this response (they end the poll).
    contract: Vec<Failure>,
}

async fn run_poll<T: Transport>(
    ctx: &RunContext<T>,
    rs: &RequestStep,
    step: &StepPlan,
    plan: &PollPlan,
    vars: &Vars,
    result: &mut StepResult,
) -> Option<(OutgoingRequest, Option<HttpResponse>)> {
    let req = match request(ctx, rs, vars, &plan.location) {
        Ok(r) => r,
        Err(f) => {
            result.failures.push(*f);
            return None;
        }
    };
    let record = Mutex::new(PollRecord {
        attempts: 0,
        elapsed_ms: 0.0,
        history: Vec::new(),
    });
    let exercised = Mutex::new((Vec::new(), None));
    // Failures of attempts that did not end the poll (deviations).
    let kept = Mutex::new(Vec::new());
    let mut policy = plan.policy.clone();
    if let Some(t) = ctx.poll_timeout {
        policy.timeout = t;
    }
    let outcome = policy
        .run(|_n| {
            let (req, record, exercised, kept) = (&req, &record, &exercised, &kept);
            async move {
                let resp = ctx.transport.send(req).await;
                let mut contract = Vec::new();
                if let Ok(r) = &resp {
                    let mut ex = lock(exercised);
                    let (list, record) = &mut *ex;
                    if retryable(r.status) {
                        *record = Some(ContractRecord::all(SkipReason::Retried));
                    } else {
                        let body = Body::of(r);
                        let mut seen = Seen {
                            exercised: list,
                            contract: record,
                        };
                        contract =
                            contract_check(ctx, rs, &step.location, req, r, &body, &mut seen);
                    }
                }
                // A deviation does not end the poll: it keeps waiting (on a
                // status it does not know, say), and the deviation is kept.
                let (stopping, going_on): (Vec<Failure>, Vec<Failure>) =
                    contract.into_iter().partition(stops);
                let contract = stopping;
                {
                    let mut kept = lock(kept);
                    for f in going_on {
                        keep(&mut kept, f);
                    }
                }
                let (seen, verdict_again, retry_after, judgement) = match &resp {
                    Err(e) => (short_transport(e), true, None, Judgement::Pending),
                    Ok(r) if retryable(r.status) => {
                        let ra = r
                            .header("retry-after")
                            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
                        (format!("HTTP {}", r.status), true, ra, Judgement::Pending)
                    }
                    Ok(r) if rs.refuses_status(r.status) => {
                        // The response the step refuses: final, `expect` reports it.
                        (
                            format!("HTTP {}", r.status),
                            false,
                            None,
                            Judgement::Refused(r.status),
                        )
                    }
                    Ok(r) => {
                        let body = Body::of(r);
                        let j = judge(plan, &body, vars);
                        let again = j == Judgement::Pending;
                        (observed(plan, &body), again, None, j)
                    }
                };
                lock(record).observe(seen);
                let verdict_again = verdict_again && contract.is_empty();
                let attempt = Attempt {
                    resp,
                    judgement,
                    contract,
                };
                if verdict_again {
                    Verdict::Again {
                        value: attempt,
                        retry_after,
                    }
                } else {
                    Verdict::Done(attempt)
                }
            }
        })
        .await;
    let mut record = record
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (result.exercised, result.contract) = exercised
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let kept = kept
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    record.elapsed_ms = ms(outcome.elapsed);
    result.requests = outcome.attempts;
    let fmt_elapsed = |d: Duration| format!("{:.1}s", d.as_secs_f64());
    let summary = |attempts: u32, elapsed: Duration| {
        format!(
            "{attempts} attempt{} over {}",
            if attempts == 1 { "" } else { "s" },
            fmt_elapsed(elapsed)
        )
    };
    let first_path = plan
        .until
        .first()
        .or(plan.fail_if.first())
        .map(|c| c.path.to_string())
        .unwrap_or_default();
    let mut contract_failures = Vec::new();
    let mut refused = None;
    let (last, failure) = match outcome.end {
        PollEnd::Done(mut a) => {
            let failure = match &a.judgement {
                Judgement::FailIf { path, value } => Some(
                    Failure::assertion(
                        Check::PollFailIf,
                        &plan.location,
                        format!(
                            "`{path}` was {value}, which `fail_if` forbids (attempt {} after {}; history: {})",
                            outcome.attempts,
                            fmt_elapsed(outcome.elapsed),
                            record.compact()
                        ),
                    )
                    .expected_actual(until_text(plan, vars), value.clone())
                    .under(plan.clause.as_ref()),
                ),
                Judgement::Refused(status) => {
                    refused = Some(*status);
                    None
                }
                _ => None,
            };
            contract_failures = std::mem::take(&mut a.contract);
            (Some(a), failure)
        }
        PollEnd::TimedOut { last } => {
            let why = format!(
                "the poll deadline of {} passed",
                humantime::format_duration(policy.timeout)
            );
            // Each completed attempt made one observation; an attempt still
            // waiting for its response when the deadline passed made none.
            let (done, n) = (record.attempts, outcome.attempts);
            let when = if done == n {
                format!("on the last of {}", summary(n, outcome.elapsed))
            } else {
                let cut = format!("attempt {n} was cut off by the deadline");
                match done {
                    0 => format!("within {}; {cut}", fmt_elapsed(outcome.elapsed)),
                    _ => format!(
                        "on attempt {done} of {n} over {}; {cut}",
                        fmt_elapsed(outcome.elapsed)
                    ),
                }
            };
            let f = timeout_failure(plan, vars, &first_path, last.as_ref(), &why, &when, &record);
            (last, Some(f))
        }
        PollEnd::AttemptsExhausted { last } => {
            let why = format!("all {} attempts (max_attempts) were used", outcome.attempts);
            let f = timeout_failure(
                plan,
                vars,
                &first_path,
                Some(&last),
                &why,
                &format!(
                    "on the last of {}",
                    summary(outcome.attempts, outcome.elapsed)
                ),
                &record,
            );
            (Some(last), Some(f))
        }
    };
    result.poll = Some(Box::new(record));
    let resp = match last.map(|a| a.resp) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            if failure.is_none() {
                result.failures.push(transport_failure(&e, &plan.location));
            }
            None
        }
        None => None,
    };
    match failure {
        Some(f) => result.failures.push(f),
        None => {
            if let Some(r) = &resp {
                let body = Body::of(r);
                result.failures = check::check_response(rs, r, &body, vars);
            }
        }
    }
    // A response that breaks the contract ends the poll; its failures always count.
    result.failures.extend(contract_failures);
    // A poll ended by a status `expect` refuses never saw `until` hold: that
    // fails the poll's own clause too, when the refusal names another one.
    let poll_clause = plan.clause.as_ref().map(|c| &c.id);
    if let Some(status) = refused
        && !result
            .failures
            .iter()
            .any(|f| f.counts() && f.clause.as_ref() == poll_clause)
    {
        result.failures.push(
            Failure::assertion(
                Check::PollStatus,
                &plan.location,
                format!(
                    "the poll ended on status {status}, which `expect` refuses, before `until` held (attempt {} after {}; history: {})",
                    outcome.attempts,
                    fmt_elapsed(outcome.elapsed),
                    result.poll.as_ref().map(|p| p.compact()).unwrap_or_default()
                ),
            )
            .expected_actual(until_text(plan, vars), format!("status {status}"))
            .under(plan.clause.as_ref()),
        );
    }
    result.failures.extend(kept);
    Some((req, resp))
}

fn short_transport(e: &TransportError) -> String {
    match e {
        TransportError::Connect(_) => "connection error".into(),
        TransportError::ConnectTimeout { phase, .. } => phase.short().into(),
        TransportError::Timeout(_) => "request timeout".into(),
        TransportError::BodyTooLarge { .. } => "body too large".into(),
        TransportError::Body(_) => "broken response".into(),
        TransportError::Other(_) => "request error".into(),
    }
}

fn timeout_failure(
    plan: &PollPlan,
    vars: &Vars,
    path: &str,
    last: Option<&Attempt>,
    why: &str,
    when: &str,
    record: &PollRecord,
) -> Failure {
    let (last_seen, runtime) = match last.map(|a| &a.resp) {
        Some(Ok(r)) if retryable(r.status) => (format!("HTTP {}", r.status), true),
        Some(Ok(r)) => {
            let body = Body::of(r);
            (format!("`{path}` was {}", observed(plan, &body)), false)
        }
        Some(Err(e)) => (e.to_string(), true),
        None => ("no attempt completed".into(), true),
    };
    let message = format!("{why}: {last_seen} {when} (history: {})", record.compact());
    let f = if runtime {
        Failure::runtime(Check::PollTimeout, &plan.location, message)
    } else {
        Failure::assertion(Check::PollTimeout, &plan.location, message)
    };
    f.under(plan.clause.as_ref()).expected_actual(
        format!("{} within the deadline", until_text(plan, vars)),
        last_seen,
    )
}

/// `until`'s conditions in words, for expected-against-actual.
fn until_text(plan: &PollPlan, vars: &Vars) -> String {
    if plan.until.is_empty() {
        return "no `fail_if` condition to hold".into();
    }
    let parts: Vec<String> = plan
        .until
        .iter()
        .map(|c| format!("{} is {}", c.path, c.matcher.describe(vars)))
        .collect();
    format!("until {}", parts.join(", "))
}

async fn run_paginate<T: Transport>(
    ctx: &RunContext<T>,
    rs: &RequestStep,
    step: &StepPlan,
    plan: &PaginatePlan,
    vars: &mut Vars,
    result: &mut StepResult,
) -> Option<(OutgoingRequest, Option<HttpResponse>)> {
    let fail = |m: String| {
        Failure::assertion(Check::Paginate, &plan.location, m).under(plan.clause.as_ref())
    };
    // Failures of pages that did not end the walk (deviations).
    let mut kept: Vec<Failure> = Vec::new();
    let mut collected: Vec<Vec<Value>> = vec![Vec::new(); plan.collect.len()];
    let mut cursor = plan.start.clone();
    let mut seen_cursors = vec![cursor.clone()];
    let mut page = 0u32;
    loop {
        page += 1;
        vars.set(plan.cursor_var.clone(), cursor.clone());
        let req = match request(ctx, rs, vars, &plan.location) {
            Ok(r) => r,
            Err(f) => {
                result.failures.push(*f);
                return None;
            }
        };
        result.requests = page;
        let resp = match ctx.transport.send(&req).await {
            Ok(r) => r,
            Err(e) => {
                result.failures.push(transport_failure(&e, &plan.location));
                result.failures.append(&mut kept);
                return Some((req, None));
            }
        };
        let mut failures = judge_response(ctx, rs, step, &req, &resp, vars, &mut Seen::of(result));
        for f in &mut failures {
            f.message = format!("page {page}: {}", f.message);
        }
        if failures.iter().any(stops) {
            result.failures = failures;
            result.failures.append(&mut kept);
            return Some((req, Some(resp)));
        }
        for f in failures {
            keep(&mut kept, f);
        }
        let body = Body::of(&resp);
        let doc = body.json.as_ref().ok();
        if let Some(doc) = doc {
            for (i, (_, path)) in plan.collect.iter().enumerate() {
                match path.select(doc).value.map(std::borrow::Cow::into_owned) {
                    Some(Value::Array(items)) if !path.is_singular() => collected[i].extend(items),
                    Some(v) => collected[i].push(v),
                    None => {}
                }
            }
        }
        let more = doc.is_some()
            && plan.while_.iter().all(|c| {
                c.matcher
                    .check(&c.path.select(doc.unwrap_or(&Value::Null)), vars)
                    .is_ok()
            });
        if !more {
            for ((var, _), items) in plan.collect.iter().zip(collected) {
                vars.set(var.clone(), Value::Array(items));
            }
            result.failures.append(&mut kept);
            return Some((req, Some(resp)));
        }
        let next = match doc.map(|d| plan.cursor_path.exactly_one(d)) {
            Some(Ok(v)) => v.clone(),
            _ => {
                result.failures.push(fail(format!(
                    "page {page}: `while` says there are more pages but `{}` selects no single cursor value",
                    plan.cursor_path
                )));
                result.failures.append(&mut kept);
                return Some((req, Some(resp)));
            }
        };
        if seen_cursors.contains(&next) {
            result.failures.push(fail(format!(
                "page {page}: the cursor `{}` repeats an earlier value ({}): the walk would never end",
                plan.cursor_path,
                show(&next, 100)
            )));
            result.failures.append(&mut kept);
            return Some((req, Some(resp)));
        }
        if page >= plan.max_pages {
            result.failures.push(fail(format!(
                "more than {} pages (max_pages)",
                plan.max_pages
            )));
            result.failures.append(&mut kept);
            return Some((req, Some(resp)));
        }
        seen_cursors.push(next.clone());
        cursor = next;
    }
}
