use std::sync::Arc;

use super::*;
use crate::check::Check;
use crate::clause::{Clause, ClauseRef};
use crate::diag::SourceLocation;
use crate::model::{Policy, Regression, StepResult};

fn registry() -> Registry {
    let c = |id: &str, level: Level, guards: &[&str]| Clause {
        id: id.into(),
        level,
        statement: format!("{id} holds."),
        source: None,
        guards: guards.iter().map(|g| Arc::from(*g)).collect(),
    };
    Registry::new(vec![
        c("D1", Level::Documented, &[]),
        c("D2", Level::Documented, &[]),
        c("A1", Level::Assumption, &[]),
        c("A2", Level::Assumption, &[]),
        c("P1", Level::Precondition, &["D2"]),
    ])
}

fn failure(clause: Option<(&str, Level)>, guarded_by: Option<&str>) -> Failure {
    let loc = SourceLocation::new("a.yaml", 1, 1);
    let r = clause.map(|(id, level)| ClauseRef {
        id: id.into(),
        level,
    });
    let mut f = Failure::assertion(Check::JsonPath, &loc, "no").under(r.as_ref());
    f.guarded_by = guarded_by.map(Arc::from);
    f
}

fn runtime() -> Failure {
    Failure::runtime(
        Check::Transport,
        &SourceLocation::new("a.yaml", 1, 1),
        "reset",
    )
}

fn step(failures: Vec<Failure>) -> StepResult {
    StepResult {
        name: "s".into(),
        location: SourceLocation::new("a.yaml", 1, 1),
        outcome: step_outcome(&failures),
        skip_reason: None,
        duration_ms: 0.0,
        requests: 1,
        status: Some(200),
        failures,
        exchange: None,
        poll: None,
        exercised: Vec::new(),
        contract: None,
    }
}

fn scenario(id: &str, failures: Vec<Failure>, clauses: &[(&str, ClauseVerdict)]) -> ScenarioResult {
    let mut s = ScenarioResult {
        id: id.into(),
        name: id.into(),
        file: "a.yaml".into(),
        location: SourceLocation::new("a.yaml", 1, 1),
        tags: Vec::new(),
        outcome: Outcome::Passed,
        skip_reason: None,
        duration_ms: 0.0,
        trace_id: Default::default(),
        steps: vec![step(failures)],
        finally: Vec::new(),
        totals: None,
        clauses: clauses
            .iter()
            .map(|(id, v)| ScenarioClause {
                id: (*id).into(),
                verdict: *v,
                because: (*v == ClauseVerdict::Inconclusive).then(|| Arc::from("P1")),
            })
            .collect(),
        flaky: false,
        reruns: Vec::new(),
    };
    s.outcome = scenario_outcome(&s);
    s
}

fn run(scenarios: Vec<ScenarioResult>, policy: Policy) -> RunResult {
    let mut r: RunResult = serde_json::from_value(serde_json::json!({
        "format_version": 2, "tool": "conform", "suite": "s", "base_url": "http://x",
        "embedded_server": false, "started_at": "2026-01-01T00:00:00Z", "duration_ms": 1.0,
        "scenarios": []
    }))
    .unwrap();
    r.clauses = rows_of(&registry());
    r.scenarios = scenarios;
    r.policy = policy;
    finalize(&mut r);
    r
}

const D: Level = Level::Documented;
const A: Level = Level::Assumption;
const P: Level = Level::Precondition;

#[test]
fn outcomes_rank_documented_then_runtime_then_deviation_then_inconclusive() {
    assert_eq!(step_outcome(&[]), StepOutcome::Passed);
    assert_eq!(step_outcome(&[failure(None, None)]), StepOutcome::Failed);
    assert_eq!(
        step_outcome(&[failure(Some(("A1", A)), None), runtime()]),
        StepOutcome::Error
    );
    assert_eq!(
        step_outcome(&[
            failure(Some(("A1", A)), None),
            failure(Some(("D1", D)), None)
        ]),
        StepOutcome::Failed
    );
    assert_eq!(
        step_outcome(&[
            failure(Some(("P1", P)), None),
            failure(Some(("A1", A)), None)
        ]),
        StepOutcome::Deviates
    );
    assert_eq!(
        step_outcome(&[failure(Some(("P1", P)), None)]),
        StepOutcome::Inconclusive
    );
    // A documented failure an unmet precondition guards does not count.
    assert_eq!(
        step_outcome(&[failure(Some(("D2", D)), Some("P1"))]),
        StepOutcome::Inconclusive
    );
    let s = scenario("x", vec![failure(Some(("A2", A)), None)], &[]);
    assert_eq!(s.outcome, Outcome::Deviates);
}

#[test]
fn a_tally_keeps_the_strongest_verdict_per_clause() {
    let mut t = ClauseTally::default();
    let d2: Arc<str> = "D2".into();
    let p1: Arc<str> = "P1".into();
    t.note(&d2, ClauseVerdict::Met, None);
    t.note(&d2, ClauseVerdict::Inconclusive, Some(&p1));
    t.failures(
        [
            failure(Some(("A1", A)), None),
            failure(Some(("P1", P)), None),
        ]
        .iter(),
    );
    t.note(&"A1".into(), ClauseVerdict::Met, None);
    t.note(&"D1".into(), ClauseVerdict::Met, None);
    let seen = t.finish(&registry());
    let got: Vec<(&str, ClauseVerdict)> = seen.iter().map(|c| (&*c.id, c.verdict)).collect();
    // In the registry's order.
    assert_eq!(
        got,
        [
            ("D1", ClauseVerdict::Met),
            ("D2", ClauseVerdict::Inconclusive),
            ("A1", ClauseVerdict::Deviates),
            ("P1", ClauseVerdict::Unmet),
        ]
    );
    assert_eq!(seen[1].because.as_deref(), Some("P1"));
}

#[test]
fn the_matrix_decides_each_clause_from_every_scenario() {
    use ClauseVerdict::*;
    let r = run(
        vec![
            scenario(
                "a::1",
                vec![],
                &[("D1", Met), ("D2", Inconclusive), ("P1", Unmet)],
            ),
            scenario("b::2", vec![], &[("D1", Met), ("P1", Met)]),
            scenario(
                "c::3",
                vec![failure(Some(("A1", A)), None)],
                &[("A1", Deviates), ("D1", Met)],
            ),
        ],
        Policy::default(),
    );
    let row = |id: &str| r.clauses.iter().find(|c| &*c.id == id).unwrap();
    assert_eq!(row("D1").verdict, Met);
    assert_eq!(
        row("D1").scenarios.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["a::1", "b::2", "c::3"]
    );
    assert_eq!(row("D2").verdict, Inconclusive);
    assert_eq!(
        row("D2").because.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["P1"]
    );
    assert_eq!(row("A1").verdict, Deviates);
    assert_eq!(row("A2").verdict, NotExercised);
    // Met in one scenario, unmet in another: unmet, naming where.
    assert_eq!(row("P1").verdict, Unmet);
    assert_eq!(
        row("P1").scenarios.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["a::1"]
    );
    let v = r.verdict.as_ref().unwrap();
    assert_eq!((v.outcome, v.exit_code), (RunOutcome::Passed, 0));
    assert!(v.conformant);
    assert_eq!(
        v.statement,
        "No documented clause broken (D1 met), but not every documented clause was met. \
         Deviates from 1 assumption: A1 (A1 holds). \
         Inconclusive: D2 (P1 not met: P1 holds). Not exercised: A2."
    );
    assert_eq!(
        v.headline,
        "No documented clause broken, with a deviation from 1 assumption and 1 inconclusive."
    );
}

#[test]
fn a_broken_documented_clause_fails_the_run_and_a_deviation_only_when_strict() {
    use ClauseVerdict::*;
    let broken = run(
        vec![scenario(
            "a::1",
            vec![failure(Some(("D1", D)), None)],
            &[("D1", Broken)],
        )],
        Policy::default(),
    );
    let v = broken.verdict.as_ref().unwrap();
    assert_eq!(
        (v.outcome, v.exit_code, v.conformant),
        (RunOutcome::Failed, 1, false)
    );
    assert_eq!(
        v.headline,
        "Not conformant to the documented contract: D1 broken."
    );
    assert!(
        v.statement
            .starts_with("Not conformant to the documented contract: D1 (D1 holds) broken.")
    );

    let deviating = || {
        vec![scenario(
            "a::1",
            vec![failure(Some(("A1", A)), None)],
            &[("A1", Deviates)],
        )]
    };
    let lenient = run(deviating(), Policy::default());
    assert_eq!(lenient.verdict.as_ref().unwrap().exit_code, 0);
    let strict = run(
        deviating(),
        Policy {
            assumptions: Assumptions::Strict,
            ..Policy::default()
        },
    );
    let v = strict.verdict.as_ref().unwrap();
    assert_eq!((v.exit_code, v.conformant), (1, true));
    assert_eq!(
        v.headline,
        "Failed under --assumptions strict: deviates from A1."
    );
    assert!(
        v.statement
            .contains("(--assumptions strict: they fail the run)"),
        "{v:?}"
    );
}

#[test]
fn unnamed_documented_checks_count_and_are_said() {
    let r = run(
        vec![scenario("a::1", vec![failure(None, None)], &[])],
        Policy::default(),
    );
    let v = r.verdict.as_ref().unwrap();
    assert_eq!(v.exit_code, 1);
    assert_eq!(
        v.headline,
        "Not conformant: 1 scenario failed a documented check."
    );
    assert!(
        v.statement
            .starts_with("Not conformant to the documented contract: 1 check that names no clause (documented by default) failed."),
        "{}",
        v.statement
    );
}

#[test]
fn errors_gates_flaky_regressions_and_interruption_decide_in_order() {
    // Runtime errors only: exit 3.
    let r = run(
        vec![scenario("a::1", vec![runtime()], &[])],
        Policy::default(),
    );
    assert_eq!(r.verdict.as_ref().unwrap().exit_code, 3);
    // Every documented clause met, but fewer than asked: the clause gate.
    let r = run(
        vec![scenario("a::1", vec![], &[("D1", ClauseVerdict::Met)])],
        Policy {
            min_clauses: Some(60.0),
            ..Policy::default()
        },
    );
    let v = r.verdict.as_ref().unwrap();
    assert_eq!(v.exit_code, 4);
    assert_eq!(
        v.headline,
        "Gate failed: 50.0% of the documented clauses are met, below --min-clauses 60."
    );
    assert_eq!(documented_met_percent(&r.clauses), Some(50.0));
    // A flaky pass fails only with fail_on_flaky.
    let mut flaky = scenario("a::1", vec![], &[]);
    flaky.flaky = true;
    assert_eq!(
        run(vec![flaky.clone()], Policy::default())
            .verdict
            .unwrap()
            .exit_code,
        0
    );
    let r = run(
        vec![flaky],
        Policy {
            fail_on_flaky: true,
            ..Policy::default()
        },
    );
    assert_eq!(r.verdict.as_ref().unwrap().exit_code, 1);
    // With the regression gate, only new failures count.
    let mut r = run(
        vec![scenario(
            "a::1",
            vec![failure(Some(("D1", D)), None)],
            &[("D1", ClauseVerdict::Broken)],
        )],
        Policy {
            gate: Gate::Regressions,
            ..Policy::default()
        },
    );
    r.regression = Some(Regression {
        still_failing: vec!["a::1".into()],
        ..Regression::default()
    });
    finalize(&mut r);
    let v = r.verdict.as_ref().unwrap();
    assert_eq!((v.exit_code, v.conformant), (0, false));
    r.regression.as_mut().unwrap().new_failures = vec!["a::1".into()];
    finalize(&mut r);
    assert_eq!(r.verdict.as_ref().unwrap().exit_code, 1);
    // Interrupted runs say so, whatever else happened.
    r.interrupted = true;
    finalize(&mut r);
    assert_eq!(r.verdict.as_ref().unwrap().exit_code, 130);
}

#[test]
fn a_run_without_clauses_speaks_of_scenarios() {
    let mut r = run(vec![scenario("a::1", vec![], &[])], Policy::default());
    r.clauses.clear();
    finalize(&mut r);
    let v = r.verdict.as_ref().unwrap();
    assert_eq!(
        v.statement,
        "The suite declares no clauses: 1 of 1 scenario passed."
    );
    assert_eq!(v.headline, "Passed: 1 of 1 scenario passed.");
}

#[test]
fn regression_uses_the_same_failing_rule() {
    let deviating = scenario("a::1", vec![failure(Some(("A1", A)), None)], &[]);
    let lenient = Policy::default();
    let strict = Policy {
        assumptions: Assumptions::Strict,
        ..Policy::default()
    };
    assert!(!failing(&deviating, &lenient));
    assert!(failing(&deviating, &strict));
    let inconclusive = scenario("b::2", vec![failure(Some(("P1", P)), None)], &[]);
    assert_eq!(inconclusive.outcome, Outcome::Inconclusive);
    assert!(!failing(&inconclusive, &strict));
}

#[test]
fn a_run_that_ran_nothing_checked_nothing() {
    let r = run(Vec::new(), Policy::default());
    let v = r.verdict.as_ref().unwrap();
    assert_eq!((v.outcome, v.exit_code), (RunOutcome::NothingRan, 2));
    assert!(
        v.headline
            .starts_with("Nothing was checked: no scenario was selected"),
        "{v:?}"
    );
    let mut skipped = scenario("a::1", vec![], &[]);
    skipped.outcome = Outcome::Skipped;
    let r = run(vec![skipped], Policy::default());
    let v = r.verdict.as_ref().unwrap();
    assert_eq!(v.exit_code, 2);
    assert!(
        v.headline.contains("the one scenario selected was skipped"),
        "{v:?}"
    );
}
