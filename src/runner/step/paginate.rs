//! A paged request: a walk that sends one request per page, the cursor
//! taken from each page into the next, until `while` stops holding.

use serde_json::Value;

use crate::case::PaginatePlan;
use crate::check::{Body, Check};
use crate::expr::matcher::show;
use crate::expr::template::Vars;
use crate::http::Transport;
use crate::model::verdict::stops;
use crate::model::{Failure, StepResult};

use super::{Seen, Sent, StepRun, keep, transport_failure};

/// Walks the pages; the step's failures are those of the page that ended
/// the walk, then those kept from earlier pages. `None` when a page's
/// request could not be built (that failure, then those kept).
pub(super) async fn run_paginate<T: Transport>(
    run: &mut StepRun<'_, T>,
    plan: &PaginatePlan,
    result: &mut StepResult,
) -> Option<Sent> {
    // Failures of pages that did not end the walk (deviations).
    let mut kept: Vec<Failure> = Vec::new();
    let sent = walk(run, plan, result, &mut kept).await;
    result.failures.append(&mut kept);
    sent
}

async fn walk<T: Transport>(
    run: &mut StepRun<'_, T>,
    plan: &PaginatePlan,
    result: &mut StepResult,
    kept: &mut Vec<Failure>,
) -> Option<Sent> {
    let mut collected: Vec<Vec<Value>> = vec![Vec::new(); plan.collect.len()];
    let mut cursor = plan.start.clone();
    let mut seen_cursors = vec![cursor.clone()];
    let mut page = 0u32;
    loop {
        page += 1;
        run.vars.set(plan.cursor_var.clone(), cursor.clone());
        let req = run.request(&plan.location, result)?;
        result.requests = page;
        let resp = match run.ctx.transport.send(&req).await {
            Ok(r) => r,
            Err(e) => {
                result.failures.push(transport_failure(&e, &plan.location));
                return Some((req, None));
            }
        };
        let mut failures = run.judge_response(&req, &resp, &mut Seen::of(result));
        for f in &mut failures {
            f.message = format!("page {page}: {}", f.message);
        }
        if failures.iter().any(stops) {
            result.failures = failures;
            return Some((req, Some(resp)));
        }
        for f in failures {
            keep(kept, f);
        }
        let body = Body::of(&resp);
        let doc = body.json.as_ref().ok();
        if let Some(doc) = doc {
            collect(plan, doc, &mut collected);
        }
        if !more_pages(plan, doc, run.vars) {
            for ((var, _), items) in plan.collect.iter().zip(collected) {
                run.vars.set(var.clone(), Value::Array(items));
            }
            return Some((req, Some(resp)));
        }
        match next_cursor(plan, doc, page, &seen_cursors) {
            Ok(next) => {
                seen_cursors.push(next.clone());
                cursor = next;
            }
            Err(f) => {
                result.failures.push(*f);
                return Some((req, Some(resp)));
            }
        }
    }
}

/// Adds what each of `collect`'s paths selects in a page to its list (the
/// items of an array a path selects, when it may select several).
fn collect(plan: &PaginatePlan, doc: &Value, collected: &mut [Vec<Value>]) {
    for (i, (_, path)) in plan.collect.iter().enumerate() {
        match path.select(doc).value.map(std::borrow::Cow::into_owned) {
            Some(Value::Array(items)) if !path.is_singular() => collected[i].extend(items),
            Some(v) => collected[i].push(v),
            None => {}
        }
    }
}

/// Whether `while` says there are more pages (never after a page with no
/// JSON body).
fn more_pages(plan: &PaginatePlan, doc: Option<&Value>, vars: &Vars) -> bool {
    doc.is_some()
        && plan.while_.iter().all(|c| {
            c.matcher
                .check(&c.path.select(doc.unwrap_or(&Value::Null)), vars)
                .is_ok()
        })
}

/// The cursor of the next page, or the failure that ends the walk: no
/// single cursor value, one seen before, or `max_pages` reached.
fn next_cursor(
    plan: &PaginatePlan,
    doc: Option<&Value>,
    page: u32,
    seen: &[Value],
) -> Result<Value, Box<Failure>> {
    let fail = |m: String| {
        Box::new(Failure::assertion(Check::Paginate, &plan.location, m).under(plan.clause.as_ref()))
    };
    let next = match doc.map(|d| plan.cursor_path.exactly_one(d)) {
        Some(Ok(v)) => v.clone(),
        _ => {
            return Err(fail(format!(
                "page {page}: `while` says there are more pages but `{}` selects no single cursor value",
                plan.cursor_path
            )));
        }
    };
    if seen.contains(&next) {
        return Err(fail(format!(
            "page {page}: the cursor `{}` repeats an earlier value ({}): the walk would never end",
            plan.cursor_path,
            show(&next, 100)
        )));
    }
    if page >= plan.max_pages {
        return Err(fail(format!(
            "more than {} pages (max_pages)",
            plan.max_pages
        )));
    }
    Ok(next)
}
