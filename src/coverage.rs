//! Contract coverage: which operations × documented responses the run
//! exercised. A response is covered when some step's response matched it
//! (`default` is covered by any status the operation does not list).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::contract::Contract;
use crate::model::{Coverage, OperationCoverage, ResponseCoverage, ScenarioResult};

/// Coverage of `contract` by the steps of `scenarios`.
pub fn compute(contract: &Contract, scenarios: &[ScenarioResult]) -> Coverage {
    let mut hits: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for step in scenarios
        .iter()
        .flat_map(|s| s.steps.iter().chain(&s.finally))
    {
        for e in &step.exercised {
            *hits.entry((&*e.operation, &*e.response)).or_default() += 1;
        }
    }
    let operations: Vec<OperationCoverage> = contract
        .operations()
        .iter()
        .map(|op| OperationCoverage {
            operation: op.id.to_string(),
            method: op.method.clone(),
            path: op.template.clone(),
            responses: op
                .responses
                .iter()
                .map(|r| ResponseCoverage {
                    key: r.key.to_string(),
                    hits: hits.get(&(&*op.id, &*r.key)).copied().unwrap_or(0),
                })
                .collect(),
        })
        .collect();
    let total: usize = operations.iter().map(|o| o.responses.len()).sum();
    let covered: usize = operations
        .iter()
        .flat_map(|o| &o.responses)
        .filter(|r| r.hits > 0)
        .count();
    let percent = if total == 0 {
        100.0
    } else {
        (covered as f64) * 100.0 / (total as f64)
    };
    Coverage {
        covered,
        total,
        percent,
        operations,
    }
}

/// The coverage table for the terminal.
pub fn render(c: &Coverage, file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "contract coverage: {} of {} documented responses ({:.1}%) of {file}",
        c.covered, c.total, c.percent
    );
    for op in &c.operations {
        let marks: Vec<String> = op
            .responses
            .iter()
            .map(|r| format!("{} {}", r.key, if r.hits > 0 { "✓" } else { "✗" }))
            .collect();
        let _ = writeln!(
            out,
            "  {:<28} {} {}: {}",
            op.operation,
            op.method,
            op.path,
            marks.join("  ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exercised, Outcome, SourceLocation, StepOutcome, StepResult};

    fn step(exercised: Vec<(&str, &str)>) -> StepResult {
        StepResult {
            name: "s".into(),
            location: SourceLocation::new("a.yaml", 1, 1),
            outcome: StepOutcome::Passed,
            skip_reason: None,
            duration_ms: 0.0,
            requests: 1,
            status: None,
            failures: vec![],
            exchange: None,
            poll: None,
            contract: None,
            exercised: exercised
                .into_iter()
                .map(|(o, r)| Exercised {
                    operation: o.into(),
                    response: r.into(),
                })
                .collect(),
        }
    }

    #[test]
    fn counts_documented_responses_hit() {
        let contract = crate::contract::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/cases/openapi.yaml"
        )))
        .unwrap();
        let sc = ScenarioResult {
            id: "a::b".into(),
            name: "b".into(),
            file: "a.yaml".into(),
            location: SourceLocation::new("a.yaml", 1, 1),
            tags: vec![],
            outcome: Outcome::Passed,
            skip_reason: None,
            duration_ms: 0.0,
            steps: vec![
                step(vec![("CreateQuerySpecNodesAsync", "200")]),
                step(vec![("CreateQuerySpecNodesAsync", "200")]),
            ],
            finally: vec![step(vec![("CancelQuerySpecNodesAsync", "200")])],
            clauses: vec![],
            flaky: false,
            reruns: vec![],
        };
        let c = compute(&contract, &[sc]);
        assert_eq!(c.covered, 2);
        assert!(c.total > 2);
        let create = c
            .operations
            .iter()
            .find(|o| o.operation == "CreateQuerySpecNodesAsync")
            .unwrap();
        assert_eq!(
            create
                .responses
                .iter()
                .find(|r| r.key == "200")
                .unwrap()
                .hits,
            2
        );
        let text = render(&c, "openapi.yaml");
        assert!(
            text.contains(&format!("2 of {} documented responses", c.total)),
            "{text}"
        );
    }
}
