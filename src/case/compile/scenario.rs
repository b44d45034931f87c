//! A scenario file: its variables, clauses and steps, each step's reads
//! checked against what earlier steps define.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::super::model::{Located, ScenarioFile, Step};
use super::super::plan::{Action, Scenario, StepPlan, Suite, VarCheck};
use super::request::compile_request_step;
use super::{
    FileCtx, StepRefs, Use, check_var_name, compile_matcher, compile_value, env_of, resolve_clause,
};
use crate::clause::{ClauseRef, Level};
use crate::diag::{SourceLocation, did_you_mean_hint};

/// What the scenario knows while compiling steps in order.
struct VarScope<'a> {
    defined: BTreeSet<String>,
    /// Every capture of the scenario and the step that makes it, for messages.
    captured_by: &'a BTreeMap<String, String>,
    env_uses: Vec<(String, SourceLocation)>,
}

pub(in crate::case) fn compile_scenario(
    ctx: &mut FileCtx<'_>,
    path: &Path,
    file: ScenarioFile,
    suite: &Suite,
) -> Option<(Scenario, Vec<(String, SourceLocation)>)> {
    let suite_vars: BTreeSet<String> = suite.vars.iter().map(|(k, _)| k.clone()).collect();
    let suite_vars = &suite_vars;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name_loc = ctx.at(&file.name);
    let name = file.name.value.trim().to_owned();
    if name.is_empty() {
        ctx.error(name_loc.clone(), "the scenario `name` must not be empty");
    }
    if file.steps.is_empty() {
        ctx.error(name_loc.clone(), "a scenario needs at least one step");
    }
    let mut captured_by = BTreeMap::new();
    for step in file.steps.iter().chain(&file.finally) {
        for var in step.value.capture.keys() {
            captured_by
                .entry(var.clone())
                .or_insert_with(|| step.value.name.value.clone());
        }
        if let Some(p) = &step.value.paginate {
            for var in p.value.collect.keys() {
                captured_by
                    .entry(var.clone())
                    .or_insert_with(|| step.value.name.value.clone());
            }
        }
    }
    let mut scope = VarScope {
        defined: suite_vars.clone(),
        captured_by: &captured_by,
        env_uses: Vec::new(),
    };
    let mut vars = Vec::new();
    for (var, value) in &file.vars {
        let loc = ctx.at(value);
        check_var_name(ctx, var, &loc);
        let Some(t) = compile_value(ctx, &value.value, &loc) else {
            continue;
        };
        for tpl in t.templates() {
            for v in tpl.vars() {
                if !suite_vars.contains(v) {
                    ctx.error(
                        loc.clone(),
                        format!("scenario variable `{var}` uses `{{{{ {v} }}}}`, which is not a suite variable"),
                    );
                }
            }
        }
        env_of(t.templates(), &loc, &mut scope.env_uses);
        vars.push((var.clone(), t));
    }
    scope.defined.extend(file.vars.keys().cloned());
    let mut clauses: Vec<ClauseRef> = Vec::new();
    for id in &file.clauses {
        let Some(c) = resolve_clause(ctx, &suite.registry, id) else {
            continue;
        };
        if c.level == Level::Precondition {
            let l = ctx.at(id);
            ctx.error(
                l,
                format!("`{}` is a precondition: a step or an expectation that checks it names it with `clause:`, and when it does not hold the clauses it guards are inconclusive", c.id),
            );
        } else if !clauses.contains(&c) {
            clauses.push(c);
        }
    }

    let mut steps = Vec::new();
    for step in &file.steps {
        if let Some(s) = compile_step(ctx, step, &mut scope, suite) {
            steps.push(s);
        }
    }
    let mut finally = Vec::new();
    for step in &file.finally {
        if let Some(s) = compile_step(ctx, step, &mut scope, suite) {
            finally.push(s);
        }
    }
    let env_uses = std::mem::take(&mut scope.env_uses);
    let scenario = Scenario {
        id: format!("{stem}::{name}").into(),
        file: ctx.file.clone(),
        name: name.into(),
        description: file.description,
        tags: file.tags,
        clauses,
        ignore: file.ignore,
        vars,
        steps,
        finally,
        location: name_loc,
        path: path.to_path_buf(),
        deferred: false,
    };
    Some((scenario, env_uses))
}

fn compile_step(
    ctx: &mut FileCtx<'_>,
    located: &Located<Step>,
    scope: &mut VarScope<'_>,
    suite: &Suite,
) -> Option<StepPlan> {
    let step = &located.value;
    let loc = ctx.at(located);
    let name = step.name.value.trim().to_owned();
    if name.is_empty() {
        let l = ctx.at(&step.name);
        ctx.error(l, "the step `name` must not be empty");
    }
    let mut refs = StepRefs::default();
    let clause = step
        .clause
        .as_ref()
        .and_then(|c| resolve_clause(ctx, &suite.registry, c));
    let mut clauses: Vec<ClauseRef> = clause.iter().cloned().collect();
    let action = match (&step.request, step.check.is_empty()) {
        (Some(req), true) => {
            let rs = compile_request_step(ctx, step, req, suite, clause.as_ref(), &mut refs);
            if let Some(rs) = &rs {
                for c in rs.expect.iter().filter_map(|e| e.clause.as_ref()) {
                    if !clauses.contains(c) {
                        clauses.push(c.clone());
                    }
                }
            }
            rs.map(|r| Action::Request(Box::new(r)))
        }
        (None, false) => {
            for key in [
                "capture",
                "expect",
                "poll",
                "paginate",
                "operation",
                "checks",
            ] {
                let set = match key {
                    "capture" => !step.capture.is_empty(),
                    "expect" => step.expect.is_some(),
                    "poll" => step.poll.is_some(),
                    "paginate" => step.paginate.is_some(),
                    "checks" => step.checks.is_some(),
                    _ => step.operation.is_some(),
                };
                if set {
                    ctx.error(
                        loc.clone(),
                        format!("`{key}` needs a `request`; a `check` step has no response"),
                    );
                }
            }
            let mut checks = Vec::new();
            for (var, m) in &step.check {
                let l = ctx.at(m);
                refs.uses.push(Use {
                    var: var.clone(),
                    location: l.clone(),
                });
                if let Some(matcher) =
                    compile_matcher(ctx, &m.value, &l, &format!("variable `{var}`"))
                {
                    refs.vars(matcher.templates(), &l);
                    checks.push(VarCheck {
                        var: var.clone(),
                        matcher,
                        location: l,
                    });
                }
            }
            Some(Action::Check(checks))
        }
        (Some(_), false) => {
            ctx.error(
                loc.clone(),
                "a step has either a `request` or a `check`, not both",
            );
            None
        }
        (None, true) => {
            ctx.error(
                loc.clone(),
                "a step needs a `request` (or a `check` on variables)",
            );
            None
        }
    };

    let StepRefs { uses, own, env } = refs;
    scope.env_uses.extend(env);
    // Every variable read must be defined by now.
    let mut reported = BTreeSet::new();
    for u in &uses {
        if scope.defined.contains(&u.var) || own.contains(&u.var) || !reported.insert(u.var.clone())
        {
            continue;
        }
        let msg = match scope.captured_by.get(&u.var) {
            Some(by) => format!(
                "variable `{}` is used before any step captures it (step `{by}` captures it later)",
                u.var
            ),
            None => {
                let hint = did_you_mean_hint(&u.var, scope.defined.iter().map(String::as_str));
                format!(
                    "variable `{}` is not defined{hint}: set it in `vars` or capture it in an earlier step",
                    u.var
                )
            }
        };
        ctx.error(u.location.clone(), msg);
    }
    // Every variable the step reads from outside itself (the paging cursor is its own).
    let uses: Vec<String> = uses
        .iter()
        .map(|u| u.var.clone())
        .filter(|v| !own.contains(v))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // What this step defines for later steps.
    scope.defined.extend(step.capture.keys().cloned());
    if let Some(p) = &step.paginate {
        scope.defined.extend(p.value.collect.keys().cloned());
    }
    Some(StepPlan {
        name,
        location: loc,
        action: action?,
        uses,
        clause,
        clauses,
        soft: step.soft,
    })
}
