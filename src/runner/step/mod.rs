//! Running one step: send (once, polled or paged), check, capture.
//!
//! This module holds the flow of a step and the checks of a final response
//! (the step's expectations and the contract); `poll` and `paginate` are the
//! two modes that send more than once, `capture` takes values from the final
//! response.

mod capture;
mod paginate;
mod poll;

use tokio::time::Instant;

use crate::case::{Action, Mode, RequestStep, SourceLocation, StepPlan};
use crate::check::{self, Body, Check};
use crate::expr::template::Vars;
use crate::http::trace::{TRACEPARENT, Trace};
use crate::http::{HttpResponse, OutgoingRequest, Transport, TransportError};
use crate::model::{ContractRecord, Exercised, Failure, SkipReason, StepResult, ms};
use crate::redact::Redactor;
use crate::report::bodies::Staging;

use super::exchange::{build, exchange};
use super::{RunContext, SHOWN_BODY_BYTES};

pub use capture::capture;
pub use poll::{Judgement, judge, retryable};

/// What a step's execution mutates: variables and known secrets; and
/// what it needs of its scenario.
pub struct StepState<'a> {
    pub vars: &'a mut Vars,
    pub red: &'a mut Redactor,
    /// The scenario's id: body files are named after it.
    pub scenario: &'a str,
    /// The body files the scenario's steps wrote, each with how many
    /// secrets were known when it was masked ([`Redactor::len`]).
    pub bodies: &'a mut Vec<(String, usize)>,
    /// The scenario's trace, which gives each request its `traceparent`.
    pub trace: &'a Trace,
}

pub async fn run_step<T: Transport>(
    ctx: &RunContext<T>,
    step: &StepPlan,
    st: StepState<'_>,
) -> StepResult {
    let start = Instant::now();
    let mut result = StepResult::new(step.name.clone(), step.location.clone());
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

/// The last request a step sent, and the response to it unless the
/// transport failed.
type Sent = (OutgoingRequest, Option<HttpResponse>);

/// A request step being run: what its modes (once, polled, paged) share.
struct StepRun<'a, T: Transport> {
    ctx: &'a RunContext<T>,
    step: &'a StepPlan,
    rs: &'a RequestStep,
    /// The scenario's variables: requests are built from them, a walk sets
    /// its cursor and collections in them, captures land in them.
    vars: &'a mut Vars,
    /// The scenario's trace: a fresh span for every request sent.
    trace: &'a Trace,
}

async fn run_request_step<T: Transport>(
    ctx: &RunContext<T>,
    step: &StepPlan,
    rs: &RequestStep,
    st: StepState<'_>,
    result: &mut StepResult,
) {
    let StepState {
        vars,
        red,
        scenario,
        bodies,
        trace,
    } = st;
    let mut run = StepRun {
        ctx,
        step,
        rs,
        vars,
        trace,
    };
    let sent = match &rs.mode {
        Mode::Once => run_once(&run, result).await,
        Mode::Poll(plan) => poll::run_poll(&run, plan, result).await,
        Mode::Paginate(plan) => paginate::run_paginate(&mut run, plan, result).await,
    };
    let Some((req, resp)) = sent else {
        return;
    };
    result.status = resp.as_ref().map(|r| r.status);
    if let Some(resp) = &resp {
        capture::take_captures(rs, resp, run.vars, red, result);
    }
    if !result.failures.is_empty() {
        let body_file = match (&ctx.bodies, &req.body) {
            (Some(store), Some(body)) if body.len() > SHOWN_BODY_BYTES => {
                let name = write_body(store, scenario, &step.name, &req, body, red).await;
                name.map(|name| {
                    let file = format!("{}/{name}", crate::report::bodies::DIR);
                    bodies.push((name, red.len()));
                    file
                })
            }
            _ => None,
        };
        result.exchange = Some(Box::new(exchange(
            &req,
            resp.as_ref(),
            red,
            ctx.token.as_deref(),
            &ctx.token_env,
            body_file.as_deref(),
        )));
    }
}

/// Writes the whole of a request body the record cuts into the run's body
/// files, masked, off the runtime's workers; returns its name, or `None`
/// when it could not be written (the run then fails to write its reports:
/// see `Staging::finish`).
async fn write_body(
    store: &std::sync::Arc<Staging>,
    scenario: &str,
    step: &str,
    req: &OutgoingRequest,
    body: &bytes::Bytes,
    red: &Redactor,
) -> Option<String> {
    let media = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    let name = store.name(
        &red.redact(scenario),
        &red.redact(step),
        crate::report::bodies::extension(media),
    );
    let (store, body, red) = (store.clone(), body.clone(), red.clone());
    tokio::task::spawn_blocking(move || {
        let masked = red.redact(&String::from_utf8_lossy(&body)).into_owned();
        store.write(&name, masked.as_bytes()).ok().map(|()| name)
    })
    .await
    .ok()
    .flatten()
}

/// A request sent once, its response judged.
async fn run_once<T: Transport>(run: &StepRun<'_, T>, result: &mut StepResult) -> Option<Sent> {
    let req = run.request(&run.step.location, result)?;
    result.requests = 1;
    match run.ctx.transport.send(&req).await {
        Ok(resp) => {
            result.failures = run.judge_response(&req, &resp, &mut Seen::of(result));
            Some((req, Some(resp)))
        }
        Err(e) => {
            result
                .failures
                .push(transport_failure(&e, &run.step.location));
            Some((req, None))
        }
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

impl<T: Transport> StepRun<'_, T> {
    /// The step's request as it goes out (to its server, with the token).
    /// When it cannot be built, the failure that says why (at `loc`) is the
    /// step's, and nothing is sent.
    fn request(&self, loc: &SourceLocation, result: &mut StepResult) -> Option<OutgoingRequest> {
        let built = build(
            self.rs,
            self.ctx.base(self.rs.request.server.as_deref()),
            self.ctx.contract.as_deref(),
            self.ctx.token.as_deref(),
            self.vars,
        );
        match built {
            Ok(mut req) => {
                if self.own_trace() {
                    req.headers
                        .push((TRACEPARENT.into(), self.trace.next_traceparent()));
                }
                Some(req)
            }
            Err(e) => {
                result
                    .failures
                    .push(Failure::runtime(Check::Template, loc, e.to_string()));
                None
            }
        }
    }

    /// Whether the step's requests carry the scenario's trace: unless the
    /// case sets `traceparent` itself, which then wins.
    fn own_trace(&self) -> bool {
        !self
            .rs
            .request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(TRACEPARENT))
    }

    /// `req` again with a fresh span in its `traceparent` (a poll's next
    /// attempt), or `None` when the case set the header.
    fn respanned(&self, req: &OutgoingRequest) -> Option<OutgoingRequest> {
        if !self.own_trace() {
            return None;
        }
        let mut again = req.clone();
        if let Some((_, v)) = again
            .headers
            .iter_mut()
            .find(|(k, _)| k.as_str() == TRACEPARENT)
        {
            *v = self.trace.next_traceparent();
        }
        Some(again)
    }

    /// The step's expectations and the contract checks on one final
    /// response; records the documented response it exercised.
    fn judge_response(
        &self,
        req: &OutgoingRequest,
        resp: &HttpResponse,
        seen: &mut Seen<'_>,
    ) -> Vec<Failure> {
        let body = Body::of(resp);
        let mut failures = check::check_response(self.rs, resp, &body, self.vars);
        failures.extend(self.contract_check(req, resp, &body, seen));
        failures
    }

    /// Contract checks of one response; records the documented response it
    /// exercised and which checks ran.
    fn contract_check(
        &self,
        req: &OutgoingRequest,
        resp: &HttpResponse,
        body: &Body<'_>,
        seen: &mut Seen<'_>,
    ) -> Vec<Failure> {
        let (ctx, rs, loc) = (self.ctx, self.rs, &self.step.location);
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
}

/// The path below the base URL (whose own path is a prefix to strip).
fn relative_path<'a>(base: &reqwest::Url, url: &'a reqwest::Url) -> &'a str {
    let prefix = base.path().trim_end_matches('/');
    url.path()
        .strip_prefix(prefix)
        .filter(|p| p.starts_with('/'))
        .unwrap_or(url.path())
}

fn transport_failure(e: &TransportError, loc: &SourceLocation) -> Failure {
    Failure::runtime(Check::Transport, loc, e.to_string())
}
