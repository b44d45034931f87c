//! The contract checks applied to one response of a known operation; which
//! of them run is a [`ContractChecks`].
//!
//! By default `undocumented_status`, `content_type` and `response_schema`
//! run; `undocumented_property` runs in strict mode. The suite's
//! `checks: { skip: [...], strict: true }` and the command line's `--check`,
//! `--skip-check` and `--strict` change that.

use crate::clause::Registry;
use crate::contract::{Contract, Operation};
use crate::diag::SourceLocation;
use crate::http::HttpResponse;
use crate::model::{ContractRecord, Failure, SkipReason};

use super::{
    Body, ContractCheck, ContractChecks, content_type, response_schema, undocumented_status,
};

/// What the contract checks made of one response.
#[derive(Debug, Clone, Default)]
pub struct Judged {
    pub failures: Vec<Failure>,
    /// The documented response it exercised (`"200"`, `"4XX"`, `"default"`).
    pub response: Option<std::sync::Arc<str>>,
    /// Which checks ran, and why the others did not.
    pub record: ContractRecord,
}

/// Applies the enabled checks to a response of `op`. Each failure names the
/// clause the contract's `x-clause` attaches to what failed, with its level
/// in `registry` (see `contract::clauses`). `accept` is the `Accept` header
/// the request sent: the body is judged by the schema of the media type it
/// asked for, when the response documents that one (see
/// [`response_schema::media_type`]).
#[expect(clippy::too_many_arguments, reason = "one response's full context")]
pub fn check(
    contract: &Contract,
    registry: &Registry,
    checks: ContractChecks,
    op: &Operation,
    resp: &HttpResponse,
    body: &Body<'_>,
    accept: Option<&str>,
    loc: &SourceLocation,
) -> Judged {
    let mut record = ContractRecord::default();
    for c in ContractCheck::ALL.into_iter().filter(|c| !checks.runs(*c)) {
        record.set(c, Some(SkipReason::Disabled));
    }
    let response = Response { resp, body, accept };
    let (failures, response) = judge(contract, registry, checks, op, &response, loc, &mut record);
    Judged {
        failures,
        response,
        record,
    }
}

/// A response and what the request asked for.
struct Response<'a> {
    resp: &'a HttpResponse,
    body: &'a Body<'a>,
    accept: Option<&'a str>,
}

fn judge(
    contract: &Contract,
    registry: &Registry,
    checks: ContractChecks,
    op: &Operation,
    response: &Response<'_>,
    loc: &SourceLocation,
    record: &mut ContractRecord,
) -> (Vec<Failure>, Option<std::sync::Arc<str>>) {
    let Response { resp, body, accept } = *response;
    let mut label = format!("{} {}", op.id, resp.status);
    let attribute = |mut f: Failure, clause: Option<&std::sync::Arc<str>>| {
        f.clause = clause.cloned();
        f.level = registry.level(f.clause.as_deref());
        f
    };
    let Some(spec) = op.response_for(resp.status) else {
        for c in [
            ContractCheck::ContentType,
            ContractCheck::ResponseSchema,
            ContractCheck::UndocumentedProperty,
        ] {
            if checks.runs(c) {
                record.set(c, Some(SkipReason::UndocumentedStatus));
            }
        }
        let f = if checks.undocumented_status {
            undocumented_status::check(op, resp.status, loc)
        } else {
            None
        };
        return (
            f.into_iter()
                .map(|f| attribute(f, op.clause.as_ref()))
                .collect(),
            None,
        );
    };
    let mut out = Vec::new();
    let content_type = resp.header("content-type").unwrap_or("");
    if checks.content_type {
        out.extend(
            content_type::check(&label, spec, content_type, body.raw, loc)
                .map(|f| attribute(f, spec.clause.as_ref())),
        );
    }
    // The media type whose schema judges the body.
    let judged_as = response_schema::media_type(spec, content_type, accept, body);
    if judged_as.media_type != content_type {
        label = format!("{label} as {} (the step's Accept)", judged_as.media_type);
    }
    if let Some(why) = response_schema::skip_reason(op, resp.status, judged_as, body) {
        for c in [
            ContractCheck::ResponseSchema,
            ContractCheck::UndocumentedProperty,
        ] {
            if checks.runs(c) {
                record.set(c, Some(why));
            }
        }
    }
    if (checks.response_schema || checks.undocumented_property) && !spec.media_types.is_empty() {
        out.extend(response_schema::check(
            contract,
            registry,
            op,
            &label,
            resp.status,
            judged_as,
            body,
            checks,
            loc,
        ));
        // A body that is not JSON breaks what the response rests on.
        for f in out.iter_mut().filter(|f| f.clause.is_none()) {
            f.clause.clone_from(&spec.clause);
            f.level = registry.level(f.clause.as_deref());
        }
    }
    (out, Some(spec.key.clone()))
}
