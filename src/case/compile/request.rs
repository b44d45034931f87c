//! A request step: its request, expectations, captures, named server and
//! contract opt-outs.

use super::super::model::{CaptureFull, CaptureSpec, Expect, Located, Request, Step};
use super::super::plan::{
    BodyPlan, CapturePlan, CaptureSource, ExpectPlan, HeaderCheck, Mode, QueryParam, RequestPlan,
    RequestStep, Suite,
};
use super::modes::{compile_paginate, compile_poll};
use super::{
    FileCtx, StepRefs, check_var_name, compile_matcher, compile_path, compile_path_checks,
    compile_template, compile_value, contract_checks, resolve_clause,
};
use crate::clause::ClauseRef;
use crate::diag::{SourceLocation, did_you_mean_hint};

pub(super) fn compile_request_step(
    ctx: &mut FileCtx<'_>,
    step: &Step,
    req: &Request,
    suite: &Suite,
    clause: Option<&ClauseRef>,
    refs: &mut StepRefs,
) -> Option<RequestStep> {
    let mut request = compile_request(ctx, req, refs);
    let server = resolve_server(ctx, suite, req.server.as_ref());
    if let Some(r) = &mut request {
        r.server = server;
    }
    let expect: Vec<ExpectPlan> = step
        .expect
        .as_ref()
        .map(|e| e.blocks())
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let mut plan = compile_expect(ctx, e, refs);
            plan.soft = e.soft;
            plan.clause = match &e.clause {
                Some(id) => resolve_clause(ctx, &suite.registry, id),
                None => clause.cloned(),
            };
            plan
        })
        .collect();
    let mut captures = Vec::new();
    for (var, spec) in &step.capture {
        let l = ctx.at(spec);
        check_var_name(ctx, var, &l);
        if let Some(c) = compile_capture(ctx, var, &spec.value, l) {
            captures.push(c);
        }
    }
    let mode = match (&step.poll, &step.paginate) {
        (Some(_), Some(p)) => {
            let l = ctx.at(p);
            ctx.error(l, "a step can `poll` or `paginate`, not both");
            Mode::Once
        }
        (Some(p), None) => {
            let mut plan = compile_poll(ctx, p, &suite.settings.poll, refs);
            plan.clause = clause.cloned();
            Mode::Poll(Box::new(plan))
        }
        (None, Some(p)) => match compile_paginate(ctx, p, refs) {
            Some(mut pp) => {
                pp.clause = clause.cloned();
                refs.own.push(pp.cursor_var.clone());
                Mode::Paginate(Box::new(pp))
            }
            None => Mode::Once,
        },
        (None, None) => Mode::Once,
    };
    let operation = step
        .operation
        .as_ref()
        .map(|o| (o.value.clone(), ctx.at(o)));
    let skip_checks = step
        .checks
        .as_ref()
        .map(|c| contract_checks(ctx, &c.skip))
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    Some(RequestStep {
        request: request?,
        operation,
        schema: step.schema.unwrap_or(true),
        skip_checks,
        auth: step.auth.unwrap_or(true),
        expect,
        clause: clause.cloned(),
        captures,
        mode,
    })
}

fn compile_request(
    ctx: &mut FileCtx<'_>,
    req: &Request,
    refs: &mut StepRefs,
) -> Option<RequestPlan> {
    let mut ok = true;
    let ploc = ctx.at(&req.path);
    if !req.path.value.starts_with('/') {
        ctx.error(
            ploc.clone(),
            format!("the path must start with `/`, got `{}`", req.path.value),
        );
        ok = false;
    }
    let path = compile_template(ctx, &req.path.value, &ploc);
    if let Some(t) = &path {
        refs.request([t], &ploc);
    }
    let mut query = Vec::new();
    for (k, v) in req.query.iter() {
        let l = ctx.at(v);
        if let Some(t) = compile_value(ctx, &v.value, &l) {
            refs.request(t.templates(), &l);
            query.push(QueryParam {
                name: k.clone(),
                value: t,
                location: l,
            });
        } else {
            ok = false;
        }
    }
    let mut headers = Vec::new();
    for (k, v) in &req.headers {
        let l = ctx.at(v);
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
            ctx.error(l.clone(), format!("`{k}` is not a valid header name"));
            ok = false;
        }
        if v.value.chars().any(|c| c.is_control() && c != '\t') {
            ctx.error(
                l.clone(),
                format!("the value of header `{k}` holds a line break or another control character: no request could carry it"),
            );
            ok = false;
        }
        if let Some(t) = compile_template(ctx, &v.value, &l) {
            refs.request([&t], &l);
            headers.push((k.clone(), t));
        } else {
            ok = false;
        }
    }
    let body = match (&req.json, &req.body) {
        (Some(_), Some(b)) => {
            let l = ctx.at(b);
            ctx.error(l, "a request has a `json` body or a raw `body`, not both");
            ok = false;
            BodyPlan::None
        }
        (Some(j), None) => {
            let l = ctx.at(j);
            match compile_value(ctx, &j.value, &l) {
                Some(t) => {
                    refs.request(t.templates(), &l);
                    BodyPlan::Json(t)
                }
                None => {
                    ok = false;
                    BodyPlan::None
                }
            }
        }
        (None, Some(b)) => {
            let l = ctx.at(b);
            match compile_template(ctx, &b.value, &l) {
                Some(t) => {
                    refs.request([&t], &l);
                    BodyPlan::Raw(t)
                }
                None => {
                    ok = false;
                    BodyPlan::None
                }
            }
        }
        (None, None) => BodyPlan::None,
    };
    let body_location = req
        .json
        .as_ref()
        .map(|j| ctx.at(j))
        .or_else(|| req.body.as_ref().map(|b| ctx.at(b)));
    Some(RequestPlan {
        server: None,
        method: req.method,
        path: path?,
        path_location: ploc,
        body_location,
        invalid: req.invalid,
        query,
        headers,
        body,
    })
    .filter(|_| ok)
}

fn compile_expect(ctx: &mut FileCtx<'_>, e: &Expect, refs: &mut StepRefs) -> ExpectPlan {
    let mut plan = ExpectPlan {
        status: e.status.as_ref().map(|s| (s.value.clone(), ctx.at(s))),
        body: e.body.as_ref().map(|b| (b.value, ctx.at(b))),
        max_duration: e.max_duration.as_ref().map(|d| (d.value.0, ctx.at(d))),
        ..ExpectPlan::default()
    };
    for (name, m) in &e.headers {
        let l = ctx.at(m);
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            ctx.error(l.clone(), format!("`{name}` is not a valid header name"));
        }
        if let Some(matcher) = compile_matcher(ctx, &m.value, &l, &format!("header `{name}`")) {
            refs.vars(matcher.templates(), &l);
            plan.headers.push(HeaderCheck {
                name: name.to_ascii_lowercase(),
                matcher,
                location: l,
            });
        }
    }
    plan.json = compile_path_checks(ctx, &e.json);
    for c in &plan.json {
        refs.vars(c.matcher.templates(), &c.location);
    }
    plan
}

fn compile_capture(
    ctx: &mut FileCtx<'_>,
    var: &str,
    spec: &CaptureSpec,
    loc: SourceLocation,
) -> Option<CapturePlan> {
    let full = match spec {
        CaptureSpec::Path(p) => CaptureFull {
            json: Some(p.clone()),
            header: None,
            secret: false,
            optional: false,
            convert: None,
        },
        CaptureSpec::Full(f) => f.clone(),
    };
    let source = match (&full.json, &full.header) {
        (Some(p), None) => CaptureSource::Json(compile_path(ctx, p, &loc)?),
        (None, Some(h)) => {
            if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                ctx.error(loc.clone(), format!("`{h}` is not a valid header name"));
                return None;
            }
            CaptureSource::Header(h.to_ascii_lowercase())
        }
        _ => {
            ctx.error(
                loc,
                format!("capture `{var}` needs exactly one of `json` (a JSONPath) or `header`"),
            );
            return None;
        }
    };
    Some(CapturePlan {
        var: var.to_owned(),
        source,
        secret: full.secret,
        optional: full.optional,
        convert: full.convert,
        location: loc,
    })
}

/// The named server a request names, known to the suite.
fn resolve_server(
    ctx: &mut FileCtx<'_>,
    suite: &Suite,
    server: Option<&Located<String>>,
) -> Option<String> {
    let server = server?;
    if suite.servers.iter().any(|s| s.name == server.value) {
        return Some(server.value.clone());
    }
    let loc = ctx.at(server);
    let hint = did_you_mean_hint(&server.value, suite.servers.iter().map(|s| s.name.as_str()));
    let known = if suite.servers.is_empty() {
        "the suite names none (`servers:` in conform.yaml)".to_owned()
    } else {
        let names: Vec<&str> = suite.servers.iter().map(|s| s.name.as_str()).collect();
        format!("the suite's are {}", names.join(", "))
    };
    ctx.error(
        loc,
        format!("unknown server `{}`{hint}; {known}", server.value),
    );
    None
}
