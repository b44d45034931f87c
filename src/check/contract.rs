//! The contract checks as a set: which of them run, and applying them to one
//! response of a known operation.
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

use super::names::*;
use super::{Body, content_type, response_schema, undocumented_status};

/// Which contract checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractChecks {
    pub undocumented_status: bool,
    pub content_type: bool,
    pub response_schema: bool,
    pub undocumented_property: bool,
}

impl Default for ContractChecks {
    /// All but `undocumented_property` (strict mode).
    fn default() -> Self {
        ContractChecks {
            undocumented_status: true,
            content_type: true,
            response_schema: true,
            undocumented_property: false,
        }
    }
}

impl ContractChecks {
    /// `only` (when not empty) names the checks to run; `skip` turns checks
    /// off; `strict` turns `undocumented_property` on (unless skipped).
    /// Names are validated by the caller.
    pub fn resolve(only: &[String], skip: &[String], strict: bool) -> ContractChecks {
        let on = |name: &str, default: bool| {
            let wanted = if only.is_empty() {
                default
            } else {
                only.iter().any(|o| o == name)
            };
            wanted && !skip.iter().any(|s| s == name)
        };
        ContractChecks {
            undocumented_status: on(UNDOCUMENTED_STATUS, true),
            content_type: on(CONTENT_TYPE, true),
            response_schema: on(RESPONSE_SCHEMA, true),
            // `strict` asks for it even next to `--check` names.
            undocumented_property: on(UNDOCUMENTED_PROPERTY, strict)
                || (strict && !skip.iter().any(|s| s == UNDOCUMENTED_PROPERTY)),
        }
    }

    /// These checks, with `skip` turned off.
    pub fn without(mut self, skip: &[&str]) -> ContractChecks {
        for name in skip {
            match *name {
                UNDOCUMENTED_STATUS => self.undocumented_status = false,
                CONTENT_TYPE => self.content_type = false,
                RESPONSE_SCHEMA => self.response_schema = false,
                UNDOCUMENTED_PROPERTY => self.undocumented_property = false,
                _ => {}
            }
        }
        self
    }

    /// Whether the check `name` runs.
    pub fn named(&self, name: &str) -> bool {
        match name {
            UNDOCUMENTED_STATUS => self.undocumented_status,
            CONTENT_TYPE => self.content_type,
            RESPONSE_SCHEMA => self.response_schema,
            UNDOCUMENTED_PROPERTY => self.undocumented_property,
            _ => false,
        }
    }

    pub fn any(&self) -> bool {
        self.undocumented_status
            || self.content_type
            || self.response_schema
            || self.undocumented_property
    }

    /// The names of the checks that run.
    pub fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (on, name) in [
            (self.undocumented_status, UNDOCUMENTED_STATUS),
            (self.content_type, CONTENT_TYPE),
            (self.response_schema, RESPONSE_SCHEMA),
            (self.undocumented_property, UNDOCUMENTED_PROPERTY),
        ] {
            if on {
                out.push(name);
            }
        }
        out
    }
}

/// What the contract checks made of one response.
#[derive(Debug, Clone, Default)]
pub struct Judged {
    pub failures: Vec<Failure>,
    /// The documented response it exercised (`"200"`, `"4XX"`, `"default"`).
    pub response: Option<std::sync::Arc<str>>,
    /// Which checks ran, and why the others did not.
    pub record: ContractRecord,
}

/// The one media type an `Accept` header asks for: its first entry without
/// parameters, when that is not a range (`*/*`, `application/*`).
pub fn asked_media_type(accept: &str) -> Option<&str> {
    let first = accept.split(',').next()?.split(';').next()?.trim();
    (!first.is_empty() && !first.contains('*')).then_some(first)
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
    for name in CONTRACT_CHECKS.iter().filter(|n| !checks.named(n)) {
        record.set(name, Some(SkipReason::Disabled));
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
        for name in [CONTENT_TYPE, RESPONSE_SCHEMA, UNDOCUMENTED_PROPERTY] {
            if checks.named(name) {
                record.set(name, Some(SkipReason::UndocumentedStatus));
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
        for name in [RESPONSE_SCHEMA, UNDOCUMENTED_PROPERTY] {
            if checks.named(name) {
                record.set(name, Some(why));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_combine_as_documented() {
        let d = ContractChecks::resolve(&[], &[], false);
        assert_eq!(d, ContractChecks::default());
        let strict = ContractChecks::resolve(&[], &[], true);
        assert!(strict.undocumented_property && strict.response_schema);
        let skipped = ContractChecks::resolve(&[], &["content_type".into()], false);
        assert!(!skipped.content_type && skipped.response_schema);
        let only = ContractChecks::resolve(&["response_schema".into()], &[], false);
        assert_eq!(only.names(), ["response_schema"]);
        let only_strict = ContractChecks::resolve(&["undocumented_property".into()], &[], false);
        assert_eq!(only_strict.names(), ["undocumented_property"]);
        assert!(
            !ContractChecks::resolve(
                &["response_schema".into()],
                &["response_schema".into()],
                false
            )
            .any()
        );
    }
}
