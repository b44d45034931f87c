//! Running one scenario: its steps in order, then its `finally` steps.

use tokio::time::Instant;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::case::{Scenario, StepPlan};
use crate::check::Check;
use crate::clause::{Level, Registry};
use crate::expr::template::Vars;
use crate::http::Transport;
use crate::http::trace::Trace;
use crate::model::verdict::{ClauseTally, stops};
use crate::model::{
    ClauseVerdict, Failure, FailureKind, Outcome, ScenarioClause, ScenarioResult, StepOutcome,
    StepResult, ms,
};
use crate::redact::Redactor;

use super::{RunContext, interrupted};

/// The reason recorded for what Ctrl-C (or SIGTERM, SIGHUP) stopped.
pub const INTERRUPTED: &str = "interrupted (Ctrl-C)";
use super::step::{StepState, run_step};

/// Runs a scenario to the end; never panics on what a server does.
pub async fn run_scenario<T: Transport>(ctx: &RunContext<T>, sc: &Scenario) -> ScenarioResult {
    let start = Instant::now();
    let mut vars = Vars {
        values: Default::default(),
        env: ctx.env.clone(),
    };
    let mut red = ctx.secrets.clone();
    // One trace for every request of this attempt (see `http::trace`).
    let trace = Trace::new();
    let mut setup_failures = Vec::new();
    for (name, t) in ctx.suite_vars.iter().chain(&sc.vars) {
        match t.render(&vars) {
            Ok(v) => vars.set(name.clone(), v),
            Err(e) => setup_failures.push(Failure::runtime(
                Check::Template,
                &sc.location,
                format!("variable `{name}`: {e}"),
            )),
        }
    }

    let mut bodies = Vec::new();
    let mut steps = Vec::with_capacity(sc.steps.len());
    let mut guards = Guards::default();
    let mut stopped = !setup_failures.is_empty();
    let mut was_interrupted = false;
    let mut interrupt = ctx.interrupt.clone();
    for step in &sc.steps {
        if was_interrupted || *interrupt.borrow() {
            was_interrupted = true;
            steps.push(skipped(step, INTERRUPTED.into()));
            continue;
        }
        if stopped {
            steps.push(skipped(step, "an earlier step did not pass".into()));
            continue;
        }
        let state = StepState {
            vars: &mut vars,
            red: &mut red,
            scenario: &sc.id,
            bodies: &mut bodies,
            trace: &trace,
        };
        // Ctrl-C stops the step where it is; the cleanup below still runs.
        let mut r = tokio::select! {
            r = run_step(ctx, step, state) => r,
            () = interrupted(&mut interrupt) => {
                was_interrupted = true;
                skipped(step, INTERRUPTED.into())
            }
        };
        guards.apply(&ctx.registry, &mut r);
        if step.soft {
            for f in &mut r.failures {
                f.soft = true;
            }
        }
        // Deviations, unmet preconditions and soft failures do not end the
        // scenario (the step's outcome still counts).
        stopped = matches!(r.outcome, StepOutcome::Failed | StepOutcome::Error)
            && (r.failures.is_empty() || r.failures.iter().any(|f| !f.soft && stops(f)));
        steps.push(r);
    }
    let mut finally = Vec::with_capacity(sc.finally.len());
    for step in &sc.finally {
        if let Some(missing) = step.uses.iter().find(|v| vars.get(v).is_none()) {
            finally.push(skipped(
                step,
                format!("variable `{missing}` was never captured"),
            ));
            continue;
        }
        let mut r = run_step(
            ctx,
            step,
            StepState {
                vars: &mut vars,
                red: &mut red,
                scenario: &sc.id,
                bodies: &mut bodies,
                trace: &trace,
            },
        )
        .await;
        guards.apply(&ctx.registry, &mut r);
        finally.push(r);
    }

    let mut result = ScenarioResult {
        id: sc.id.clone(),
        name: sc.name.clone(),
        file: sc.file.clone(),
        location: sc.location.clone(),
        tags: sc.tags.clone(),
        outcome: Outcome::Passed,
        skip_reason: None,
        duration_ms: ms(start.elapsed()),
        trace_id: trace.id(),
        steps,
        finally,
        totals: None,
        clauses: Vec::new(),
        flaky: false,
        reruns: Vec::new(),
    };
    if !setup_failures.is_empty()
        && let Some(first) = result.steps.first_mut()
    {
        first.failures = setup_failures;
        first.outcome = StepOutcome::Error;
        first.skip_reason = None;
    }
    result.outcome = crate::model::verdict::scenario_outcome(&result);
    result.clauses = clauses_of(sc, &result, &ctx.registry, &guards);
    if was_interrupted && result.outcome != Outcome::Failed {
        result.outcome = Outcome::Interrupted;
        result.skip_reason = Some(INTERRUPTED.into());
    }
    // Secrets captured late may appear in earlier steps: mask the whole
    // result, and the body files written before they were known.
    redact_result(&mut result, &red);
    remask_bodies(ctx, &bodies, &red).await;
    // What the server wrote enters the model printable (see `printable`).
    result.make_printable();
    result
}

fn skipped(step: &crate::case::StepPlan, reason: String) -> StepResult {
    StepResult {
        outcome: StepOutcome::Skipped,
        skip_reason: Some(reason),
        ..StepResult::new(step.name.clone(), step.location.clone())
    }
}

/// The clauses an unmet precondition guards in a scenario: from the step
/// where a precondition is found unmet on, a failed check of a clause it
/// guards is inconclusive, not counted (`Failure::guarded_by`).
#[derive(Debug, Default)]
struct Guards {
    /// Guarded clause → the unmet precondition guarding it.
    guarded: BTreeMap<Arc<str>, Arc<str>>,
}

impl Guards {
    /// Takes in the unmet preconditions of step `r`, then marks its failures
    /// of guarded clauses and recomputes its outcome.
    fn apply(&mut self, registry: &Registry, r: &mut StepResult) {
        for f in &r.failures {
            if f.kind != FailureKind::Assertion || f.level != Level::Precondition {
                continue;
            }
            let Some(p) = f.clause.as_ref().and_then(|id| registry.get(id)) else {
                continue;
            };
            for g in &p.guards {
                self.guarded
                    .entry(g.clone())
                    .or_insert_with(|| p.id.clone());
            }
        }
        if self.guarded.is_empty() {
            return;
        }
        let mut changed = false;
        for f in &mut r.failures {
            if f.kind != FailureKind::Assertion || f.guarded_by.is_some() {
                continue;
            }
            if let Some(p) = f.clause.as_ref().and_then(|c| self.guarded.get(c)) {
                f.guarded_by = Some(p.clone());
                changed = true;
            }
        }
        if changed {
            r.outcome = crate::model::verdict::step_outcome(&r.failures);
        }
    }
}

/// What the scenario showed of each clause: what its failed checks name
/// (broken, deviates, unmet, or inconclusive when guarded), and met for
/// every other clause named by a step that ran to a verdict (or by the
/// scenario, when every step ran) unless an unmet precondition guards it.
fn clauses_of(
    sc: &Scenario,
    r: &ScenarioResult,
    registry: &Registry,
    guards: &Guards,
) -> Vec<ScenarioClause> {
    if registry.is_empty() {
        return Vec::new();
    }
    let mut tally = ClauseTally::default();
    tally.failures(r.failures().map(|(_, f)| f));
    let mut exercised = |plan: &StepPlan, res: &StepResult| {
        if matches!(res.outcome, StepOutcome::Skipped | StepOutcome::Error) {
            return;
        }
        for c in &plan.clauses {
            match guards.guarded.get(&c.id) {
                Some(p) => tally.note(&c.id, ClauseVerdict::Inconclusive, Some(p)),
                None => tally.note(&c.id, ClauseVerdict::Met, None),
            }
        }
    };
    for (plan, res) in sc.steps.iter().zip(&r.steps) {
        exercised(plan, res);
    }
    for (plan, res) in sc.finally.iter().zip(&r.finally) {
        exercised(plan, res);
    }
    let ran_all = r
        .steps
        .iter()
        .all(|s| !matches!(s.outcome, StepOutcome::Skipped | StepOutcome::Error));
    if ran_all {
        for c in &sc.clauses {
            match guards.guarded.get(&c.id) {
                Some(p) => tally.note(&c.id, ClauseVerdict::Inconclusive, Some(p)),
                None => tally.note(&c.id, ClauseVerdict::Met, None),
            }
        }
    }
    tally.finish(registry)
}

/// A scenario that was selected but not run (ignored, or interrupted first).
pub fn skipped_scenario(sc: &Scenario, reason: String, outcome: Outcome) -> ScenarioResult {
    ScenarioResult {
        id: sc.id.clone(),
        name: sc.name.clone(),
        file: sc.file.clone(),
        location: sc.location.clone(),
        tags: sc.tags.clone(),
        outcome,
        skip_reason: Some(reason),
        duration_ms: 0.0,
        trace_id: Default::default(),
        steps: Vec::new(),
        finally: Vec::new(),
        totals: None,
        clauses: Vec::new(),
        flaky: false,
        reruns: Vec::new(),
    }
}

/// Masks again, with what `red` knows now, the body files written while
/// it knew fewer secrets.
async fn remask_bodies<T: Transport>(
    ctx: &RunContext<T>,
    bodies: &[(String, usize)],
    red: &Redactor,
) {
    let Some(store) = &ctx.bodies else {
        return;
    };
    let stale: Vec<String> = bodies
        .iter()
        .filter(|(_, known)| *known < red.len())
        .map(|(name, _)| name.clone())
        .collect();
    if stale.is_empty() {
        return;
    }
    let (store, red) = (store.clone(), red.clone());
    let _ = tokio::task::spawn_blocking(move || {
        for name in stale {
            store.remask(&name, |text| red.redact(text).into_owned());
        }
    })
    .await;
}

fn redact_result(r: &mut ScenarioResult, red: &Redactor) {
    for step in r.steps.iter_mut().chain(r.finally.iter_mut()) {
        step.texts_mut(|s, _| {
            if let std::borrow::Cow::Owned(o) = red.redact(s) {
                *s = o;
            }
        });
    }
}
