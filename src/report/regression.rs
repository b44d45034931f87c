//! Today's run against a baseline run: new failures, fixed, still failing,
//! added and removed scenarios.
//!
//! A scenario fails when it fails the run under today's policy (failed; a
//! deviation under `--assumptions strict`; flaky with `--fail-on-flaky`)
//! or does not complete (error, interrupted): `verdict::failing`, the same
//! rule for both runs. A scenario added since the baseline that fails is
//! both `added` and a new failure, so `--gate regressions` fails the run
//! for it too.

use std::collections::BTreeMap;

use crate::model::{Outcome, Regression, RunResult};

/// The comparison of `today` with `baseline` (named `baseline_name`).
pub fn compare(baseline: &RunResult, baseline_name: &str, today: &RunResult) -> Regression {
    let policy = &today.policy;
    let failing = |s: &crate::model::ScenarioResult| crate::model::verdict::failing(s, policy);
    let before: BTreeMap<&str, (Outcome, bool)> = baseline
        .scenarios
        .iter()
        .map(|s| (&*s.id, (s.outcome, failing(s))))
        .collect();
    let now: BTreeMap<&str, (Outcome, bool)> = today
        .scenarios
        .iter()
        .map(|s| (&*s.id, (s.outcome, failing(s))))
        .collect();
    let mut r = Regression {
        baseline: baseline_name.to_owned(),
        baseline_started_at: baseline.started_at.clone(),
        ..Regression::default()
    };
    for (id, &(o, fails)) in &now {
        match before.get(id) {
            None => {
                r.added.push((*id).to_owned());
                if fails {
                    r.new_failures.push((*id).to_owned());
                }
            }
            Some(&(_, failed)) => match (failed, fails) {
                (false, true) => r.new_failures.push((*id).to_owned()),
                (true, true) => r.still_failing.push((*id).to_owned()),
                // Skipped today says nothing about a fix.
                (true, false) if o != Outcome::Skipped => r.fixed.push((*id).to_owned()),
                _ => {}
            },
        }
    }
    r.removed = before
        .keys()
        .filter(|id| !now.contains_key(*id))
        .map(|id| (*id).to_owned())
        .collect();
    r
}

/// The comparison for the terminal.
pub fn render(r: &Regression) -> String {
    let mut out = format!(
        "against {} (started {}):\n",
        r.baseline, r.baseline_started_at
    );
    for (label, ids) in [
        ("new failures", &r.new_failures),
        ("fixed", &r.fixed),
        ("still failing", &r.still_failing),
        ("added", &r.added),
        ("removed", &r.removed),
    ] {
        out.push_str(&format!(
            "  {label} ({}){}\n",
            ids.len(),
            if ids.is_empty() { "" } else { ":" }
        ));
        for id in ids {
            out.push_str(&format!("    {id}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ScenarioResult, SourceLocation};

    fn run(outcomes: &[(&str, Outcome)]) -> RunResult {
        let mut r: RunResult = serde_json::from_value(serde_json::json!({
            "format_version": 1, "tool": "conform", "suite": "s", "base_url": "http://x",
            "embedded_server": false, "started_at": "2026-01-01T00:00:00Z", "duration_ms": 1.0,
            "scenarios": []
        }))
        .unwrap();
        r.scenarios = outcomes
            .iter()
            .map(|(id, o)| ScenarioResult {
                id: (*id).into(),
                name: (*id).into(),
                file: "f.yaml".into(),
                location: SourceLocation::new("f.yaml", 1, 1),
                tags: vec![],
                outcome: *o,
                skip_reason: None,
                duration_ms: 0.0,
                trace_id: Default::default(),
                steps: vec![],
                finally: vec![],
                totals: None,
                clauses: vec![],
                flaky: false,
                reruns: vec![],
            })
            .collect();
        r
    }

    #[test]
    fn groups_scenarios_by_change() {
        use Outcome::*;
        let base = run(&[
            ("a", Passed),
            ("b", Failed),
            ("c", Failed),
            ("d", Passed),
            ("gone", Passed),
        ]);
        let today = run(&[
            ("a", Failed),
            ("b", Passed),
            ("c", Error),
            ("d", Passed),
            ("new", Failed),
            ("new2", Passed),
        ]);
        let r = compare(&base, "old.json", &today);
        assert_eq!(r.new_failures, ["a", "new"]);
        assert_eq!(r.fixed, ["b"]);
        assert_eq!(r.still_failing, ["c"]);
        assert_eq!(r.added, ["new", "new2"]);
        assert_eq!(r.removed, ["gone"]);
        assert_eq!(r.baseline, "old.json");
    }
}
