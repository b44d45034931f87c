//! `summary.md`: a short Markdown summary for CI job pages
//! (`$GITHUB_STEP_SUMMARY`, GitLab job artifacts): the verdict and the
//! certification statement, provenance, counts, the clause matrix, a table
//! of failures (deviations and unmet preconditions included, each with its
//! clause and the `traceparent` of its step's last request) with their
//! detail folded, the regression lists, the flaky
//! scenarios and the coverage: its totals and the operations the run
//! touched (every operation, folded, with `--coverage-table`).
//!
//! Text from the server is never rendered as Markdown or HTML: table cells
//! escape `<`, `>`, `&`, `|` and line breaks, and longer text sits in fenced
//! code blocks whose fence is longer than any run of backticks inside.
//! Control characters arrive escaped already (see `crate::printable`).

use std::fmt::Write;
use std::path::Path;

use crate::model::coverage::grouped;
use crate::model::verdict::{RunOutcome, Verdict};
use crate::model::{ClauseVerdict, Coverage, OperationCoverage, Outcome, RunResult};

/// Characters of failure detail shown per scenario.
pub const DETAIL_CHARS: usize = 4000;
/// Failures listed in the table (the rest are counted).
pub const MAX_FAILURES: usize = 50;

/// What the summary shows besides what every summary shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownOptions {
    /// Every operation of the contract in the coverage (folded), not only
    /// those the run touched.
    pub coverage_table: bool,
}

/// Escapes text for a Markdown table cell.
pub fn cell(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('`', "'")
}

/// A fenced code block that `text` cannot close early.
pub fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

fn icon(v: &Verdict) -> &'static str {
    match v.outcome {
        RunOutcome::Interrupted => "⏹",
        RunOutcome::Failed => "❌",
        RunOutcome::Error | RunOutcome::GateFailed | RunOutcome::NothingRan => "⚠️",
        RunOutcome::Passed => "✅",
    }
}

fn clause_icon(v: ClauseVerdict) -> &'static str {
    match v {
        ClauseVerdict::Met => "✅",
        ClauseVerdict::Broken => "❌",
        ClauseVerdict::Deviates => "🔶",
        ClauseVerdict::Unmet | ClauseVerdict::Inconclusive => "❔",
        ClauseVerdict::NotExercised => "➖",
    }
}

/// The summary as Markdown.
pub fn render(r: &RunResult, opts: &MarkdownOptions) -> String {
    let mut out = String::new();
    let v = Verdict::of(r);
    heading(&mut out, r, &v);
    provenance(&mut out, r);
    clauses(&mut out, r);
    failures(&mut out, r);
    regression(&mut out, r);
    flaky(&mut out, r);
    if let Some(c) = &r.coverage {
        coverage(&mut out, c, opts.coverage_table);
    }
    out
}

/// The verdict, the certification statement and the counts.
fn heading(out: &mut String, r: &RunResult, v: &Verdict) {
    let _ = writeln!(
        out,
        "## {} conform: {} — {}\n",
        icon(v),
        cell(&r.suite),
        cell(&v.headline)
    );
    let _ = writeln!(out, "**Certification:** {}\n", cell(&v.statement));
    let t = r.tally();
    let _ = writeln!(
        out,
        "| passed | failed | deviate | inconclusive | errors | skipped | flaky | interrupted | duration | exit |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1}s | {} |\n",
        t.passed,
        t.failed,
        t.deviates,
        t.inconclusive,
        t.errors,
        t.skipped,
        t.flaky,
        t.interrupted,
        r.duration_ms / 1000.0,
        v.exit_code
    );
}

/// Where, against what and with what the run ran, on one line.
fn provenance(out: &mut String, r: &RunResult) {
    let mut prov = vec![format!("base URL {}", cell(&r.base_url))];
    if r.embedded_server {
        prov.push("embedded reference server".into());
    }
    for (name, url) in &r.servers {
        prov.push(format!("server {} {}", cell(name), cell(url)));
    }
    if let Some(c) = &r.contract {
        prov.push(format!(
            "contract {} ({}, sha256 {})",
            cell(&c.file),
            cell(&c.dialect),
            &c.sha256.get(..12).unwrap_or("")
        ));
    }
    if let Some(c) = &r.coverage {
        prov.push(format!(
            "coverage {:.1}% ({} of {} documented responses)",
            c.percent,
            grouped(c.covered),
            grouped(c.total)
        ));
    }
    if let Some(p) = &r.partition {
        prov.push(format!("partition {}", cell(p)));
    }
    if !r.suite_sha256.is_empty() {
        prov.push(format!(
            "suite sha256 {}",
            r.suite_sha256.get(..12).unwrap_or("")
        ));
    }
    prov.push(format!(
        "assumptions {}",
        match r.policy.assumptions {
            crate::clause::Assumptions::Lenient => "lenient",
            crate::clause::Assumptions::Strict => "strict",
        }
    ));
    prov.push(format!(
        "{}, started {}",
        cell(&r.tool),
        cell(&r.started_at)
    ));
    if !r.run_id.is_empty() {
        prov.push(format!("run {}", cell(&r.run_id)));
    }
    let _ = writeln!(out, "{}\n", prov.join(" · "));
}

/// The clause matrix, when the suite declares clauses.
fn clauses(out: &mut String, r: &RunResult) {
    if !r.clauses.is_empty() {
        let _ = writeln!(out, "### Clauses\n");
        let _ = writeln!(out, "| clause | level | verdict | statement | decided by |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in &r.clauses {
            let mut verdict = format!("{} {}", clause_icon(c.verdict), c.verdict);
            if !c.because.is_empty() {
                let because: Vec<&str> = c.because.iter().map(|p| &**p).collect();
                let _ = write!(verdict, " ({} not met)", because.join(", "));
            }
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                cell(&c.id),
                c.level,
                cell(&verdict),
                cell(&c.statement),
                cell(&crate::report::text::deciding(&c.scenarios, 3, true))
            );
        }
        let _ = writeln!(out);
    }
}

/// Every failure, deviation and unmet precondition: a table, then each
/// scenario's detail folded.
fn failures(out: &mut String, r: &RunResult) {
    let failing: Vec<_> = r
        .scenarios
        .iter()
        .filter(|s| {
            matches!(
                s.outcome,
                Outcome::Failed
                    | Outcome::Error
                    | Outcome::Interrupted
                    | Outcome::Deviates
                    | Outcome::Inconclusive
            )
        })
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "### Failures, deviations and unmet preconditions\n");
        let _ = writeln!(
            out,
            "| scenario | step | check | clause | message | where | traceparent |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        let mut rows = 0usize;
        let mut more = 0usize;
        for s in &failing {
            let failures: Vec<_> = s.failures().collect();
            if failures.is_empty() {
                let reason = s.skip_reason.as_deref().unwrap_or("interrupted");
                let _ = writeln!(
                    out,
                    "| `{}` | | {} | | {} | {} | |",
                    cell(&s.id),
                    s.outcome.as_str(),
                    cell(reason),
                    cell(&s.location.to_string())
                );
                continue;
            }
            for (step, f) in failures {
                rows += 1;
                if rows > MAX_FAILURES {
                    more += 1;
                    continue;
                }
                let clause = f.clause_label().unwrap_or_default();
                // What a vendor greps their logs for, beside the failure.
                let trace = step
                    .traceparent()
                    .map(|t| format!("`{}`", cell(t)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| `{}` | {} | `{}` | {} | {} | {} | {trace} |",
                    cell(&s.id),
                    cell(&step.name),
                    f.check,
                    cell(&clause),
                    cell(&crate::expr::matcher::truncate(&f.message, 300)),
                    cell(&f.location.to_string())
                );
            }
        }
        if more > 0 {
            let _ = writeln!(
                out,
                "\n…and {more} more failures (see the JUnit or HTML report)."
            );
        }
        let _ = writeln!(out);
        for s in &failing {
            let text = crate::report::text::failure_text(s, DETAIL_CHARS);
            if text.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code></summary>\n",
                cell(&s.id)
            );
            let _ = writeln!(
                out,
                "{}</details>\n",
                fenced(&crate::expr::matcher::truncate(&text, DETAIL_CHARS * 2))
            );
        }
    }
}

/// The comparison with a baseline run.
fn regression(out: &mut String, r: &RunResult) {
    if let Some(reg) = &r.regression {
        let _ = writeln!(
            out,
            "### Against the baseline `{}` (started {})\n",
            cell(&reg.baseline),
            cell(&reg.baseline_started_at)
        );
        for (label, ids) in [
            ("New failures", &reg.new_failures),
            ("Fixed", &reg.fixed),
            ("Still failing", &reg.still_failing),
            ("Added", &reg.added),
            ("Removed", &reg.removed),
        ] {
            let list = if ids.is_empty() {
                "none".to_owned()
            } else {
                ids.iter()
                    .map(|i| format!("`{}`", cell(i)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(out, "- **{label}** ({}): {list}", ids.len());
        }
        let _ = writeln!(out);
    }
}

/// Scenarios that passed after failing.
fn flaky(out: &mut String, r: &RunResult) {
    let flaky: Vec<_> = r.scenarios.iter().filter(|s| s.flaky).collect();
    if !flaky.is_empty() {
        let _ = writeln!(out, "### Flaky (passed after failing)\n");
        for s in flaky {
            let _ = writeln!(
                out,
                "- `{}`: passed on attempt {}",
                cell(&s.id),
                s.reruns.len() + 1
            );
        }
        let _ = writeln!(out);
    }
}

/// The coverage: its totals, how many operations are left out (and how to
/// list them), a table of the operations the run touched and, with `full`,
/// every operation in a folded table.
fn coverage(out: &mut String, c: &Coverage, full: bool) {
    let touched = c.touched_count();
    let untouched = c.untouched_count();
    let _ = writeln!(out, "### Coverage\n");
    let _ = writeln!(
        out,
        "{} of {} documented responses exercised ({:.1}%) in {} of {} operations.\n",
        grouped(c.covered),
        grouped(c.total),
        c.percent,
        grouped(touched),
        grouped(c.operations.len())
    );
    if !full && untouched > 0 {
        let (plural, them) = if untouched == 1 {
            ("", "it")
        } else {
            ("s", "them")
        };
        let _ = writeln!(
            out,
            "{} operation{plural} not exercised: `conform run --coverage-table` lists {them} here, as report.html and report.json do.\n",
            grouped(untouched)
        );
    }
    if touched > 0 {
        coverage_table(out, c.touched());
    }
    if full && untouched > 0 {
        let _ = writeln!(
            out,
            "<details><summary>Every operation of the contract: {}, {} not exercised</summary>\n",
            grouped(c.operations.len()),
            grouped(untouched)
        );
        coverage_table(out, c.operations.iter());
        let _ = writeln!(out, "</details>\n");
    }
}

/// One row per operation: its id, method and path, and each documented
/// response marked `✓` with its hits or `✗`.
fn coverage_table<'a>(out: &mut String, ops: impl Iterator<Item = &'a OperationCoverage>) {
    let _ = writeln!(out, "| operation | request | documented responses |");
    let _ = writeln!(out, "|---|---|---|");
    for op in ops {
        let marks: Vec<String> = op
            .responses
            .iter()
            .map(|r| {
                if r.hits > 0 {
                    format!("{} ✓ {}", cell(&r.key), r.hits)
                } else {
                    format!("{} ✗", cell(&r.key))
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | `{} {}` | {} |",
            cell(&op.operation),
            cell(&op.method),
            cell(&op.path),
            marks.join(" · ")
        );
    }
    let _ = writeln!(out);
}

pub fn write(r: &RunResult, opts: &MarkdownOptions, path: &Path) -> std::io::Result<()> {
    super::write_atomic(path, render(r, opts).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn large_run(touched: &[usize]) -> RunResult {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/reports/passing.json");
        let mut r = crate::report::json::read(&path).expect("the fixture reads");
        r.coverage = Some(crate::model::coverage::synthetic(1200, touched));
        r
    }

    #[test]
    fn the_summary_lists_the_operations_touched_and_folds_the_rest_on_request() {
        let r = large_run(&[3, 700, 1199]);
        let md = render(&r, &MarkdownOptions::default());
        let section = &md[md.find("### Coverage").expect("a coverage section")..];
        assert!(
            section.contains(
                "3 of 4,800 documented responses exercised (0.1%) in 3 of 1,200 operations."
            ),
            "{section}"
        );
        assert_eq!(section.matches("| `area-").count(), 3, "{section}");
        assert!(section.contains(
            "| `area-0700/get-item` | `GET /repos/{owner}/{repo}/area0700/items/{item_id}` | 200 ✓ 1 · 404 ✗ · 422 ✗ · default ✗ |"
        ));
        assert!(!section.contains("<details>"), "{section}");
        assert!(
            section.contains(
                "1,197 operations not exercised: `conform run --coverage-table` lists them here"
            ),
            "{section}"
        );

        let md = render(
            &r,
            &MarkdownOptions {
                coverage_table: true,
            },
        );
        let section = &md[md.find("### Coverage").expect("a coverage section")..];
        let fold = section
            .find("<details><summary>Every operation of the contract: 1,200, 1,197 not exercised</summary>")
            .expect("the full list is folded");
        assert_eq!(section[..fold].matches("| `area-").count(), 3);
        assert_eq!(section[fold..].matches("| `area-").count(), 1200);
        assert!(section.trim_end().ends_with("</details>"), "{section}");
        assert!(!section.contains("--coverage-table"), "{section}");
    }

    #[test]
    fn cells_and_fences_cannot_be_broken_out_of() {
        assert_eq!(cell("a|b\n<script>&"), "a\\|b &lt;script&gt;&amp;");
        let f = fenced("x ``` y ```` z");
        assert!(f.starts_with("`````text\n"), "{f}");
        assert!(f.ends_with("\n`````\n"), "{f}");
    }
}
