//! Contract coverage: which operations × documented responses the run
//! exercised. A response is covered when some step's response matched it
//! (`default` is covered by any status the operation does not list).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::contract::Contract;
use crate::model::{Coverage, OperationCoverage, ResponseCoverage, ScenarioResult};

/// Coverage of `contract` by the steps of `scenarios`.
pub fn compute(contract: &Contract, scenarios: &[ScenarioResult]) -> Coverage {
    let hits = hits(scenarios);
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

/// How many times the steps of `scenarios` matched each documented
/// response (operation, response key): recorded steps and lean totals
/// alike (see `model::lean`).
pub fn hits(scenarios: &[ScenarioResult]) -> BTreeMap<(&str, &str), u32> {
    let mut hits: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for (operation, response, n) in scenarios.iter().flat_map(ScenarioResult::exercised) {
        *hits.entry((operation, response)).or_default() += n;
    }
    hits
}

/// The coverage for the terminal: the totals; then, when operations are
/// left out, how many and how to list them; then one line per operation
/// the run touched, or with `full` (`--coverage-table`) per operation of
/// the contract.
pub fn render(c: &Coverage, file: &str, full: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "contract coverage: {} of {} documented responses ({:.1}%) in {} of {} operations of {file}",
        grouped(c.covered),
        grouped(c.total),
        c.percent,
        grouped(c.touched_count()),
        grouped(c.operations.len()),
    );
    let untouched = c.untouched_count();
    if !full && untouched > 0 {
        let _ = writeln!(
            out,
            "{} operation{} not exercised: --coverage-table lists {}",
            grouped(untouched),
            if untouched == 1 { "" } else { "s" },
            if untouched == 1 { "it" } else { "them" },
        );
    }
    for op in c.operations.iter().filter(|o| full || o.touched()) {
        let _ = writeln!(out, "{}", line(op));
    }
    out
}

/// One operation's line: its id, method and path, and each documented
/// response marked `✓` (exercised) or `✗` (not).
fn line(op: &OperationCoverage) -> String {
    let marks: Vec<String> = op
        .responses
        .iter()
        .map(|r| format!("{} {}", r.key, if r.hits > 0 { "✓" } else { "✗" }))
        .collect();
    format!(
        "  {:<28} {} {}: {}",
        op.operation,
        op.method,
        op.path,
        marks.join("  ")
    )
}

pub use crate::printable::grouped;

/// A coverage of `operations` GET operations documenting 200, 404, 422
/// and `default`, of which those in `touched` had their 200 exercised.
#[cfg(test)]
pub(crate) fn synthetic(operations: usize, touched: &[usize]) -> Coverage {
    let operations: Vec<OperationCoverage> = (0..operations)
        .map(|i| OperationCoverage {
            operation: format!("area-{i:04}/get-item"),
            method: "GET".into(),
            path: format!("/repos/{{owner}}/{{repo}}/area{i:04}/items/{{item_id}}"),
            responses: ["200", "404", "422", "default"]
                .into_iter()
                .map(|k| ResponseCoverage {
                    key: k.into(),
                    hits: u32::from(k == "200" && touched.contains(&i)),
                })
                .collect(),
        })
        .collect();
    let total = operations.len() * 4;
    Coverage {
        covered: touched.len(),
        total,
        percent: if total == 0 {
            100.0
        } else {
            touched.len() as f64 * 100.0 / total as f64
        },
        operations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exercised, Outcome, SourceLocation, StepOutcome, StepResult};

    /// The lines of `text` that show an operation.
    fn operation_lines(text: &str) -> Vec<&str> {
        text.lines().filter(|l| l.starts_with("  area-")).collect()
    }

    #[test]
    fn by_default_only_the_operations_touched_are_listed() {
        let c = synthetic(1200, &[3, 700, 1199]);
        let text = render(&c, "big.yaml", false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "contract coverage: 3 of 4,800 documented responses (0.1%) in 3 of 1,200 operations of big.yaml"
        );
        let ops = operation_lines(&text);
        assert_eq!(ops.len(), 3, "{text}");
        for (line, i) in ops.iter().zip([3, 700, 1199]) {
            assert!(line.contains(&format!("area-{i:04}/get-item")), "{line}");
            assert!(line.ends_with(": 200 ✓  404 ✗  422 ✗  default ✗"), "{line}");
        }
        assert_eq!(
            lines[1],
            "1,197 operations not exercised: --coverage-table lists them"
        );
        assert_eq!(lines.len(), 5, "{text}");
    }

    #[test]
    fn the_coverage_table_lists_every_operation() {
        let c = synthetic(1200, &[3, 700, 1199]);
        let text = render(&c, "big.yaml", true);
        assert_eq!(operation_lines(&text).len(), 1200);
        assert_eq!(text.lines().count(), 1201);
        assert!(!text.contains("not exercised"), "{text}");
    }

    #[test]
    fn nothing_is_left_out_when_every_operation_was_touched() {
        let text = render(&synthetic(2, &[0, 1]), "small.yaml", false);
        assert_eq!(operation_lines(&text).len(), 2);
        assert!(!text.contains("not exercised"), "{text}");
        let text = render(&synthetic(2, &[1]), "small.yaml", false);
        assert_eq!(
            text.lines().nth(1),
            Some("1 operation not exercised: --coverage-table lists it"),
            "{text}"
        );
        let none = synthetic(0, &[]);
        assert_eq!(
            render(&none, "empty.yaml", false),
            "contract coverage: 0 of 0 documented responses (100.0%) in 0 of 0 operations of empty.yaml\n"
        );
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1224), "1,224");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

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
            trace_id: Default::default(),
            steps: vec![
                step(vec![("CreateQuerySpecNodesAsync", "200")]),
                step(vec![("CreateQuerySpecNodesAsync", "200")]),
            ],
            finally: vec![step(vec![("CancelQuerySpecNodesAsync", "200")])],
            totals: None,
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
        let text = render(&c, "openapi.yaml", false);
        assert!(
            text.contains(&format!("2 of {} documented responses", c.total)),
            "{text}"
        );
    }
}
