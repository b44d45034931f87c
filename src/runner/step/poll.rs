//! A polled request: attempts until `until` holds or `fail_if` does, the
//! deadline passes or the attempts run out. Each attempt is sent, checked
//! against the contract and judged, and what it saw is recorded; the end
//! of the poll becomes the step's failures.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::case::{PathCheck, PollPlan};
use crate::check::{self, Body, Check};
use crate::expr::jsonpath::Actual;
use crate::expr::matcher::show;
use crate::expr::template::Vars;
use crate::http::{HttpResponse, OutgoingRequest, Transport, TransportError};
use crate::model::verdict::stops;
use crate::model::{ContractRecord, Exercised, Failure, PollRecord, SkipReason, StepResult, ms};
use crate::poll::{PollEnd, PollPolicy, Verdict, parse_retry_after};

use super::{Seen, Sent, StepRun, keep, transport_failure};

/// Statuses retried during a poll, as transport errors are.
pub fn retryable(status: u16) -> bool {
    matches!(status, 502..=504)
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

/// What a lock holds, even after a panic elsewhere.
fn unlock<T>(m: Mutex<T>) -> T {
    m.into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One attempt's outcome, kept until the next.
struct Attempt {
    /// The request of an attempt after the first: the first's with a
    /// fresh span in its `traceparent` (`None`: the first's, as built).
    req: Option<OutgoingRequest>,
    resp: Result<HttpResponse, TransportError>,
    judgement: Judgement,
    /// Contract failures of this response (they end the poll).
    contract: Vec<Failure>,
}

/// What the attempts of a poll record, each attempt being a future of its own.
struct Records {
    /// What each attempt saw.
    history: Mutex<PollRecord>,
    /// The documented responses exercised, and the last response's contract checks.
    seen: Mutex<(Vec<Exercised>, Option<ContractRecord>)>,
    /// Failures of attempts that did not end the poll (deviations).
    kept: Mutex<Vec<Failure>>,
}

pub(super) async fn run_poll<T: Transport>(
    run: &StepRun<'_, T>,
    plan: &PollPlan,
    result: &mut StepResult,
) -> Option<Sent> {
    let req = run.request(&plan.location, result)?;
    let records = Records::new();
    let policy = policy(run, plan);
    let outcome = {
        let (req, records) = (&req, &records);
        policy
            .run(move |n| attempt(run, plan, req, n, records))
            .await
    };
    let (mut record, kept) = records.finish(result);
    record.elapsed_ms = ms(outcome.elapsed);
    result.requests = outcome.attempts;
    let end = Ended {
        plan,
        vars: run.vars,
        record: &record,
        attempts: outcome.attempts,
        elapsed: outcome.elapsed,
    }
    .ending(outcome.end, policy.timeout);
    result.poll = Some(Box::new(record));
    let (last_req, resp) = settle(run, plan, end, result);
    result.failures.extend(kept);
    Some((last_req.unwrap_or(req), resp))
}

/// The plan's policy, its deadline replaced by `--poll-timeout` when given.
fn policy<T: Transport>(run: &StepRun<'_, T>, plan: &PollPlan) -> PollPolicy {
    let mut policy = plan.policy.clone();
    if let Some(t) = run.ctx.poll_timeout {
        policy.timeout = t;
    }
    policy
}

/// Attempt `n`: sends the request (after the first, with a fresh span),
/// checks the response against the contract, judges it and records what
/// it saw.
async fn attempt<T: Transport>(
    run: &StepRun<'_, T>,
    plan: &PollPlan,
    first: &OutgoingRequest,
    n: u32,
    records: &Records,
) -> Verdict<Attempt> {
    let own = if n > 1 { run.respanned(first) } else { None };
    let req = own.as_ref().unwrap_or(first);
    let resp = run.ctx.transport.send(req).await;
    let contract = match &resp {
        Ok(r) => records.contract_check(run, req, r),
        Err(_) => Vec::new(),
    };
    let look = look(run, plan, &resp);
    lock(&records.history).observe(look.observed);
    let again = look.judgement == Judgement::Pending && contract.is_empty();
    let attempt = Attempt {
        req: own,
        resp,
        judgement: look.judgement,
        contract,
    };
    if again {
        Verdict::Again {
            value: attempt,
            retry_after: look.retry_after,
        }
    } else {
        Verdict::Done(attempt)
    }
}

/// What one attempt's response (or transport failure) says.
struct Look {
    /// What it saw, for the history.
    observed: String,
    judgement: Judgement,
    /// The wait the server asked for before the next attempt.
    retry_after: Option<Duration>,
}

/// Judges one attempt: a transport failure or a retried status waits for
/// the next; a status `expect` refuses ends the poll; else `fail_if` and
/// `until` decide.
fn look<T: Transport>(
    run: &StepRun<'_, T>,
    plan: &PollPlan,
    resp: &Result<HttpResponse, TransportError>,
) -> Look {
    let status = |r: &HttpResponse, judgement, retry_after| Look {
        observed: format!("HTTP {}", r.status),
        judgement,
        retry_after,
    };
    match resp {
        Err(e) => Look {
            observed: short_transport(e),
            judgement: Judgement::Pending,
            retry_after: None,
        },
        Ok(r) if retryable(r.status) => status(r, Judgement::Pending, retry_after(r)),
        // The response the step refuses: final, `expect` reports it.
        Ok(r) if run.rs.refuses_status(r.status) => status(r, Judgement::Refused(r.status), None),
        Ok(r) => {
            let body = Body::of(r);
            Look {
                observed: observed(plan, &body),
                judgement: judge(plan, &body, run.vars),
                retry_after: None,
            }
        }
    }
}

/// The wait a retried response asks for (`Retry-After`), when it asks.
fn retry_after(r: &HttpResponse) -> Option<Duration> {
    r.header("retry-after")
        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
}

impl Records {
    fn new() -> Records {
        Records {
            history: Mutex::new(PollRecord {
                attempts: 0,
                elapsed_ms: 0.0,
                history: Vec::new(),
            }),
            seen: Mutex::new((Vec::new(), None)),
            kept: Mutex::new(Vec::new()),
        }
    }

    /// The contract checks of one attempt's response (none of a retried
    /// one): the failures that end the poll. A deviation does not end it
    /// (it keeps waiting, on a status it does not know, say): it is kept.
    fn contract_check<T: Transport>(
        &self,
        run: &StepRun<'_, T>,
        req: &OutgoingRequest,
        resp: &HttpResponse,
    ) -> Vec<Failure> {
        let contract = {
            let mut seen = lock(&self.seen);
            let (exercised, contract) = &mut *seen;
            if retryable(resp.status) {
                *contract = Some(ContractRecord::all(SkipReason::Retried));
                Vec::new()
            } else {
                let body = Body::of(resp);
                run.contract_check(
                    req,
                    resp,
                    &body,
                    &mut Seen {
                        exercised,
                        contract,
                    },
                )
            }
        };
        let (stopping, going_on): (Vec<Failure>, Vec<Failure>) =
            contract.into_iter().partition(stops);
        let mut kept = lock(&self.kept);
        for f in going_on {
            keep(&mut kept, f);
        }
        stopping
    }

    /// Gives the step what the attempts exercised; returns the history and
    /// the kept failures.
    fn finish(self, result: &mut StepResult) -> (PollRecord, Vec<Failure>) {
        (result.exercised, result.contract) = unlock(self.seen);
        (unlock(self.history), unlock(self.kept))
    }
}

/// How a poll ended, in the terms of its step.
struct Ending {
    /// The last completed attempt.
    last: Option<Attempt>,
    /// The poll's own failure: `fail_if` held, the deadline passed or the
    /// attempts ran out.
    failure: Option<Failure>,
    /// The failure of a poll ended by a status `expect` refuses, before
    /// `until` held.
    refused: Option<Failure>,
}

/// A poll that has ended, for the failures that tell how.
struct Ended<'p> {
    plan: &'p PollPlan,
    vars: &'p Vars,
    record: &'p PollRecord,
    attempts: u32,
    elapsed: Duration,
}

impl Ended<'_> {
    /// The last attempt, the poll's own failure and the refusal that ended
    /// it, from the end the policy reached.
    fn ending(&self, end: PollEnd<Attempt>, timeout: Duration) -> Ending {
        let (last, failure, refused) = match end {
            PollEnd::Done(a) => {
                let (failure, refused) = match &a.judgement {
                    Judgement::FailIf { path, value } => (Some(self.fail_if(path, value)), None),
                    Judgement::Refused(status) => (None, Some(self.refused(*status))),
                    _ => (None, None),
                };
                (Some(a), failure, refused)
            }
            PollEnd::TimedOut { last } => {
                let f = self.deadline_passed(timeout, last.as_ref());
                (last, Some(f), None)
            }
            PollEnd::AttemptsExhausted { last } => {
                let why = format!("all {} attempts (max_attempts) were used", self.attempts);
                let when = format!("on the last of {}", self.summary());
                let f = self.timeout_failure(Some(&last), &why, &when);
                (Some(last), Some(f), None)
            }
        };
        Ending {
            last,
            failure,
            refused,
        }
    }

    /// `2.5s`.
    fn elapsed(&self) -> String {
        format!("{:.1}s", self.elapsed.as_secs_f64())
    }

    /// `3 attempts over 2.5s`.
    fn summary(&self) -> String {
        let n = self.attempts;
        format!(
            "{n} attempt{} over {}",
            if n == 1 { "" } else { "s" },
            self.elapsed()
        )
    }

    /// `attempt 3 after 2.5s; history: PENDING ×2 → FAILED`.
    fn at_last_attempt(&self) -> String {
        format!(
            "attempt {} after {}; history: {}",
            self.attempts,
            self.elapsed(),
            self.record.compact()
        )
    }

    /// `fail_if` held: `path` was `value`.
    fn fail_if(&self, path: &str, value: &str) -> Failure {
        let plan = self.plan;
        Failure::assertion(
            Check::PollFailIf,
            &plan.location,
            format!(
                "`{path}` was {value}, which `fail_if` forbids ({})",
                self.at_last_attempt()
            ),
        )
        .expected_actual(until_text(plan, self.vars), value.to_owned())
        .under(plan.clause.as_ref())
    }

    /// The poll ended on a status `expect` refuses, before `until` held.
    fn refused(&self, status: u16) -> Failure {
        let plan = self.plan;
        Failure::assertion(
            Check::PollStatus,
            &plan.location,
            format!(
                "the poll ended on status {status}, which `expect` refuses, before `until` held ({})",
                self.at_last_attempt()
            ),
        )
        .expected_actual(until_text(plan, self.vars), format!("status {status}"))
        .under(plan.clause.as_ref())
    }

    /// The deadline (`timeout`) passed, maybe while an attempt still waited
    /// for its response.
    fn deadline_passed(&self, timeout: Duration, last: Option<&Attempt>) -> Failure {
        let why = format!(
            "the poll deadline of {} passed",
            humantime::format_duration(timeout)
        );
        // Each completed attempt made one observation; an attempt still
        // waiting for its response when the deadline passed made none.
        let (done, n) = (self.record.attempts, self.attempts);
        let when = if done == n {
            format!("on the last of {}", self.summary())
        } else {
            let cut = format!("attempt {n} was cut off by the deadline");
            match done {
                0 => format!("within {}; {cut}", self.elapsed()),
                _ => format!("on attempt {done} of {n} over {}; {cut}", self.elapsed()),
            }
        };
        self.timeout_failure(last, &why, &when)
    }

    /// The poll ran out (`why`) before `until` held: what the last
    /// completed attempt saw, and `when`.
    fn timeout_failure(&self, last: Option<&Attempt>, why: &str, when: &str) -> Failure {
        let plan = self.plan;
        let (last_seen, runtime) = match last.map(|a| &a.resp) {
            Some(Ok(r)) if retryable(r.status) => (format!("HTTP {}", r.status), true),
            Some(Ok(r)) => {
                let path = plan
                    .until
                    .first()
                    .or(plan.fail_if.first())
                    .map(|c| c.path.to_string())
                    .unwrap_or_default();
                let body = Body::of(r);
                (format!("`{path}` was {}", observed(plan, &body)), false)
            }
            Some(Err(e)) => (e.to_string(), true),
            None => ("no attempt completed".into(), true),
        };
        let message = format!(
            "{why}: {last_seen} {when} (history: {})",
            self.record.compact()
        );
        let f = if runtime {
            Failure::runtime(Check::PollTimeout, &plan.location, message)
        } else {
            Failure::assertion(Check::PollTimeout, &plan.location, message)
        };
        f.under(plan.clause.as_ref()).expected_actual(
            format!("{} within the deadline", until_text(plan, self.vars)),
            last_seen,
        )
    }
}

/// The step's failures from how its poll ended: the poll's own failure,
/// else the step's expectations on the last response; the contract
/// failures that ended it; a refusal, unless the poll's clause failed
/// already. Returns the last completed attempt's own request (when it
/// was not the first) and its response.
fn settle<T: Transport>(
    run: &StepRun<'_, T>,
    plan: &PollPlan,
    end: Ending,
    result: &mut StepResult,
) -> (Option<OutgoingRequest>, Option<HttpResponse>) {
    let Ending {
        last,
        failure,
        refused,
    } = end;
    // Only an attempt that ended the poll has contract failures.
    let (req, resp, contract) = match last {
        Some(a) => (a.req, Some(a.resp), a.contract),
        None => (None, None, Vec::new()),
    };
    let resp = match resp {
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
                result.failures = check::check_response(run.rs, r, &body, run.vars);
            }
        }
    }
    // A response that breaks the contract ends the poll; its failures always count.
    result.failures.extend(contract);
    // A poll ended by a status `expect` refuses never saw `until` hold: that
    // fails the poll's own clause too, when the refusal names another one.
    let poll_clause = plan.clause.as_ref().map(|c| &c.id);
    if let Some(f) = refused
        && !result
            .failures
            .iter()
            .any(|f| f.counts() && f.clause.as_ref() == poll_clause)
    {
        result.failures.push(f);
    }
    (req, resp)
}

fn short_transport(e: &TransportError) -> String {
    match e {
        TransportError::Connect(_) => "connection error".into(),
        TransportError::ConnectTimeout { phase, .. } => phase.short().into(),
        TransportError::Timeout(_) => "request timeout".into(),
        TransportError::BodyTooLarge { .. } => "body too large".into(),
        TransportError::Body(_) => "broken response".into(),
        TransportError::BodyNotSent { .. } => "connection broke while sending".into(),
        TransportError::AnsweredEarly { status, .. } => {
            format!("{status} before the body was sent")
        }
        TransportError::Other(_) => "request error".into(),
    }
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
