//! `summary.md`: a short Markdown summary for CI job pages
//! (`$GITHUB_STEP_SUMMARY`, GitLab job artifacts): the verdict and the
//! certification statement, provenance, counts, the clause matrix, a table
//! of failures (deviations and unmet preconditions included, each with its
//! clause) with their detail folded, the regression lists and the flaky
//! scenarios.
//!
//! Text from the server is never rendered as Markdown or HTML: table cells
//! escape `<`, `>`, `&`, `|` and line breaks, and longer text sits in fenced
//! code blocks whose fence is longer than any run of backticks inside.

use std::fmt::Write;
use std::path::Path;

use crate::model::{ClauseVerdict, Outcome, RunResult};
use crate::verdict::{RunOutcome, Verdict};

/// Characters of failure detail shown per scenario.
pub const DETAIL_CHARS: usize = 4000;
/// Failures listed in the table (the rest are counted).
pub const MAX_FAILURES: usize = 50;

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
pub fn render(r: &RunResult) -> String {
    let mut out = String::new();
    let v = Verdict::of(r);
    let _ = writeln!(
        out,
        "## {} conform: {} — {}\n",
        icon(&v),
        cell(&r.suite),
        cell(&v.headline)
    );
    let _ = writeln!(out, "**Certification:** {}\n", cell(&v.statement));
    let flaky = r.scenarios.iter().filter(|s| s.flaky).count();
    let _ = writeln!(
        out,
        "| passed | failed | deviate | inconclusive | errors | skipped | flaky | interrupted | duration | exit |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {flaky} | {} | {:.1}s | {} |\n",
        r.count(Outcome::Passed),
        r.count(Outcome::Failed),
        r.count(Outcome::Deviates),
        r.count(Outcome::Inconclusive),
        r.count(Outcome::Error),
        r.count(Outcome::Skipped),
        r.count(Outcome::Interrupted),
        r.duration_ms / 1000.0,
        v.exit_code
    );
    let mut prov = vec![format!("base URL {}", cell(&r.base_url))];
    if r.embedded_server {
        prov.push("embedded reference server".into());
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
            c.percent, c.covered, c.total
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
    let _ = writeln!(out, "{}\n", prov.join(" · "));

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
            "| scenario | step | check | clause | message | where |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        let mut rows = 0usize;
        let mut more = 0usize;
        for s in &failing {
            let failures: Vec<_> = s.failures().collect();
            if failures.is_empty() {
                let reason = s.skip_reason.as_deref().unwrap_or("interrupted");
                let _ = writeln!(
                    out,
                    "| `{}` | | {} | | {} | {} |",
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
                let _ = writeln!(
                    out,
                    "| `{}` | {} | `{}` | {} | {} | {} |",
                    cell(&s.id),
                    cell(&step.name),
                    cell(&f.check),
                    cell(&clause),
                    cell(&crate::matcher::truncate(&f.message, 300)),
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
                fenced(&crate::matcher::truncate(&text, DETAIL_CHARS * 2))
            );
        }
    }
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
    out
}

pub fn write(r: &RunResult, path: &Path) -> std::io::Result<()> {
    super::write_atomic(path, render(r).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_fences_cannot_be_broken_out_of() {
        assert_eq!(cell("a|b\n<script>&"), "a\\|b &lt;script&gt;&amp;");
        let f = fenced("x ``` y ```` z");
        assert!(f.starts_with("`````text\n"), "{f}");
        assert!(f.ends_with("\n`````\n"), "{f}");
    }
}
