//! Named checks: each small module judges one aspect of a response and
//! returns located failures, never a bare boolean.
//!
//! The names are stable: they appear in failure output, in JUnit `type=`,
//! and wherever a check is switched on or off.

pub mod body;
pub mod content_type;
pub mod contract;
pub mod duration;
pub mod headers;
pub mod id;
pub mod json_path;
pub mod response_schema;
pub mod status;
pub mod undocumented_status;
pub mod variables;

use serde_json::Value;

use crate::case::{ExpectPlan, RequestStep};
use crate::diag::SourceLocation;
use crate::http::HttpResponse;
use crate::model::{Failure, FailureKind};
use crate::template::Vars;

pub use id::{Check, ContractCheck, ContractChecks};

impl Failure {
    /// An assertion failure (the server broke an expectation).
    pub fn assertion(
        check: Check,
        location: &SourceLocation,
        message: impl Into<String>,
    ) -> Failure {
        Failure {
            check,
            kind: FailureKind::Assertion,
            clause: None,
            level: crate::clause::Level::Documented,
            guarded_by: None,
            message: message.into(),
            expected: None,
            actual: None,
            location: location.clone(),
            soft: false,
        }
    }

    /// A runtime problem (no verdict on the contract).
    pub fn runtime(check: Check, location: &SourceLocation, message: impl Into<String>) -> Failure {
        Failure {
            kind: FailureKind::Runtime,
            ..Failure::assertion(check, location, message)
        }
    }

    /// The failure of a check resting on `clause` (none: documented).
    pub fn under(mut self, clause: Option<&crate::clause::ClauseRef>) -> Failure {
        self.set_clause(clause);
        self
    }

    /// Attributes the failure to `clause` (none: documented).
    pub fn set_clause(&mut self, clause: Option<&crate::clause::ClauseRef>) {
        self.clause = clause.map(|c| c.id.clone());
        self.level = clause.map_or(crate::clause::Level::Documented, |c| c.level);
    }

    pub fn expected_actual(
        mut self,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Failure {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }
}

/// A response body and its reading as JSON (parsed once per response).
#[derive(Debug, Clone, Copy)]
pub struct Body<'a> {
    pub raw: &'a [u8],
    pub json: &'a Result<Value, String>,
}

/// Reads a body as JSON; an empty or non-JSON body is an error saying so.
pub fn parse_json(raw: &[u8]) -> Result<Value, String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        Err("the body is empty".to_owned())
    } else {
        serde_json::from_slice(raw).map_err(|e| format!("the body is not JSON ({e})"))
    }
}

impl<'a> Body<'a> {
    /// The body of a response, parsed the first time it is asked for.
    pub fn of(resp: &'a HttpResponse) -> Body<'a> {
        Body {
            raw: &resp.body,
            json: resp.json.get_or_init(|| parse_json(&resp.body)),
        }
    }
}

/// Every expectation of a step on one response, each block's failures
/// under its clause; when no block states a status, any 2xx is expected
/// under the step's clause.
pub fn check_response(
    step: &RequestStep,
    resp: &HttpResponse,
    body: &Body<'_>,
    vars: &Vars,
) -> Vec<Failure> {
    let mut out = Vec::new();
    if !step.states_status() {
        out.extend(status::check(None, resp.status).map(|f| f.under(step.clause.as_ref())));
    }
    for expect in &step.expect {
        let start = out.len();
        check_block(expect, resp, body, vars, &mut out);
        for f in &mut out[start..] {
            f.set_clause(expect.clause.as_ref());
            f.soft = expect.soft;
        }
    }
    out
}

fn check_block(
    expect: &ExpectPlan,
    resp: &HttpResponse,
    body: &Body<'_>,
    vars: &Vars,
    out: &mut Vec<Failure>,
) {
    if let Some(s) = &expect.status {
        out.extend(status::check(Some(s), resp.status));
    }
    out.extend(headers::check(&expect.headers, resp, vars));
    if let Some((want, loc)) = &expect.body {
        out.extend(body::check(*want, loc, body.raw));
    }
    out.extend(json_path::check(&expect.json, body, vars));
    if let Some((max, loc)) = &expect.max_duration {
        out.extend(duration::check(*max, loc, resp.elapsed));
    }
}
