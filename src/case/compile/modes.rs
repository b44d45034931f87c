//! How a request step repeats: a poll until a condition, or a walk through
//! pages; and the poll settings of the suite's defaults.

use serde_json::Value;

use super::super::model::{Located, Paginate, Poll, PollSettings};
use super::super::plan::{PaginatePlan, PollPlan};
use super::{FileCtx, StepRefs, check_var_name, compile_path, compile_path_checks};
use crate::diag::SourceLocation;
use crate::poll::PollPolicy;

/// The shortest poll interval: anything shorter floods the server.
pub const MIN_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);
/// The longest poll deadline: a day (a longer one is as good as none).
pub const MAX_POLL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub(super) fn compile_poll_settings(
    ctx: &mut FileCtx<'_>,
    s: &PollSettings,
    base: &PollPolicy,
    loc: SourceLocation,
) -> PollPolicy {
    let p = PollPolicy {
        interval: s.interval.map_or(base.interval, |x| x.0),
        backoff: s.backoff.unwrap_or(base.backoff),
        max_interval: s.max_interval.map_or(base.max_interval, |x| x.0),
        timeout: s.timeout.map_or(base.timeout, |x| x.0),
        max_attempts: s.max_attempts.or(base.max_attempts),
    };
    if !p.backoff.is_finite() || p.backoff < 1.0 {
        ctx.error(
            loc.clone(),
            format!("poll `backoff` must be a number >= 1, got {}", p.backoff),
        );
    }
    if p.timeout.is_zero() {
        ctx.error(loc.clone(), "poll `timeout` must be longer than zero");
    }
    if p.timeout > MAX_POLL_TIMEOUT {
        ctx.error(
            loc.clone(),
            format!(
                "poll `timeout` {} is longer than {}: a poll must end",
                humantime::format_duration(p.timeout),
                humantime::format_duration(MAX_POLL_TIMEOUT)
            ),
        );
    }
    if p.interval < MIN_POLL_INTERVAL {
        ctx.error(
            loc.clone(),
            format!(
                "poll `interval` {} is shorter than {}: the server would be flooded",
                humantime::format_duration(p.interval),
                humantime::format_duration(MIN_POLL_INTERVAL)
            ),
        );
    }
    if p.max_attempts == Some(0) {
        ctx.error(loc, "poll `max_attempts` must be at least 1");
    }
    p
}

pub(super) fn compile_poll(
    ctx: &mut FileCtx<'_>,
    p: &Located<Poll>,
    base: &PollPolicy,
    refs: &mut StepRefs,
) -> PollPlan {
    let loc = ctx.at(p);
    let poll = &p.value;
    if poll.until.is_empty() {
        ctx.error(
            loc.clone(),
            "a `poll` needs an `until` condition (without one it could only end at its deadline)",
        );
    }
    let settings = PollSettings {
        interval: poll.interval,
        backoff: poll.backoff,
        max_interval: poll.max_interval,
        timeout: poll.timeout,
        max_attempts: poll.max_attempts,
    };
    let policy = compile_poll_settings(ctx, &settings, base, loc.clone());
    let until = compile_path_checks(ctx, &poll.until);
    let fail_if = compile_path_checks(ctx, &poll.fail_if);
    for c in until.iter().chain(&fail_if) {
        refs.vars(c.matcher.templates(), &c.location);
    }
    PollPlan {
        clause: None,
        policy,
        until,
        fail_if,
        location: loc,
    }
}

pub(super) fn compile_paginate(
    ctx: &mut FileCtx<'_>,
    p: &Located<Paginate>,
    refs: &mut StepRefs,
) -> Option<PaginatePlan> {
    let loc = ctx.at(p);
    let pg = &p.value;
    let mut cursor = pg.cursor.iter();
    let (Some((var, path)), None) = (cursor.next(), cursor.next()) else {
        ctx.error(
            loc,
            "`paginate.cursor` names exactly one variable and the JSONPath of its next value",
        );
        return None;
    };
    let ploc = ctx.at(path);
    check_var_name(ctx, var, &ploc);
    let cursor_path = compile_path(ctx, &path.value, &ploc);
    if pg.while_.is_empty() {
        ctx.error(loc.clone(), "`paginate.while` needs at least one condition");
    }
    let while_ = compile_path_checks(ctx, &pg.while_);
    for c in &while_ {
        refs.vars(c.matcher.templates(), &c.location);
    }
    let mut collect = Vec::new();
    for (v, path) in &pg.collect {
        let l = ctx.at(path);
        check_var_name(ctx, v, &l);
        if let Some(p) = compile_path(ctx, &path.value, &l) {
            collect.push((v.clone(), p));
        }
    }
    if pg.max_pages == Some(0) {
        ctx.error(loc.clone(), "`paginate.max_pages` must be at least 1");
    }
    Some(PaginatePlan {
        clause: None,
        cursor_var: var.clone(),
        cursor_path: cursor_path?,
        start: pg.start.clone().unwrap_or(Value::String(String::new())),
        while_,
        collect,
        max_pages: pg.max_pages.unwrap_or(1000),
        location: loc,
    })
}
