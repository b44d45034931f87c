//! Text for the terminal and JUnit bodies: the detail of a scenario that did
//! not pass (each step that failed, deviated or found a precondition unmet,
//! its checks with their clause, expected against actual and their YAML
//! location, the poll history, the request, the response and a curl line;
//! every long text cut at the caller's limit), and the closing block of a
//! run (the certification statement, the clause matrix and the verdict).
//!
//! What a server wrote arrives here printable (see [`crate::printable`]):
//! one-line fields (messages, expected, actual, header values) on one line,
//! and every line of a body indented, so that no line a server wrote starts
//! at column 0, where a CI log parser would read it (`test x ... ok`), and
//! no line issuing a command to GitHub Actions (`::add-mask::`, `##[error]`).

use std::fmt::Write;

use crate::model::verdict::{RunOutcome, Verdict};
use crate::model::{
    ClauseVerdict, Failure, Outcome, RunResult, ScenarioResult, StepOutcome, StepResult,
};
use crate::printable::indent_lines;

/// Lines of response body shown.
const BODY_LINES: usize = 40;
/// Characters of response body shown in the terminal.
pub const TERMINAL_BODY_CHARS: usize = 2000;

/// Detail of every step that did not pass (failed, could not complete,
/// deviated, found a precondition unmet); empty when the scenario passed.
/// Response bodies are cut at `body_chars` characters.
pub fn failure_text(r: &ScenarioResult, body_chars: usize) -> String {
    steps_text(&r.steps, &r.finally, body_chars)
}

/// The same for any attempt's steps (a rerun's, for instance).
pub fn steps_text(steps: &[StepResult], finally: &[StepResult], body_chars: usize) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().chain(finally).enumerate() {
        if step.outcome.is_shown() {
            let part = if i >= steps.len() {
                "finally step"
            } else {
                "step"
            };
            step_text(&mut out, part, step, body_chars);
        }
    }
    // No line issues a command to a CI log reader (see `printable::inert`).
    if out.contains("::") || out.contains("##[") {
        out = out
            .split_inclusive('\n')
            .map(crate::printable::inert)
            .collect();
    }
    out
}

fn step_text(out: &mut String, part: &str, s: &StepResult, body_chars: usize) {
    let cut = |t: &str| crate::expr::matcher::truncate(t, body_chars);
    let verb = match s.outcome {
        StepOutcome::Error => "could not complete",
        StepOutcome::Deviates => "deviates from an assumption",
        StepOutcome::Inconclusive => "found a precondition unmet",
        _ => "failed",
    };
    let _ = writeln!(out, "{part} `{}` {verb} ({})", s.name, s.location);
    for f in &s.failures {
        let _ = writeln!(out, "  [{}] {}", check_label(f), cut(&f.message));
        if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
            let _ = writeln!(out, "      expected: {}", cut(e));
            let _ = writeln!(out, "      actual:   {}", cut(a));
        }
        if f.location.line > 0 {
            let _ = writeln!(out, "      at {}", f.location);
        }
    }
    if let Some(x) = &s.exchange {
        let _ = writeln!(out, "  request: {} {}", x.request.method, x.request.url);
        if let Some(b) = &x.request.body {
            let _ = writeln!(out, "    {}", indent_lines(&cut(b), "    "));
        }
        match &x.response {
            Some(resp) => {
                let _ = writeln!(
                    out,
                    "  response: {} ({} bytes{}, {:.1} ms)",
                    resp.status,
                    resp.body_bytes,
                    if resp.truncated { ", cut" } else { "" },
                    resp.duration_ms
                );
                for (k, v) in &resp.headers {
                    let _ = writeln!(out, "    {k}: {v}");
                }
                let shown = cut(&resp.body);
                let lines: Vec<&str> = shown.lines().collect();
                for l in lines.iter().take(BODY_LINES) {
                    let _ = writeln!(out, "    {l}");
                }
                if lines.len() > BODY_LINES {
                    let _ = writeln!(out, "    … {} more lines", lines.len() - BODY_LINES);
                }
            }
            None => {
                let _ = writeln!(out, "  response: none");
            }
        }
        let _ = writeln!(out, "  reproduce: {}", cut(&x.curl));
    }
}

/// `json_path`, `json_path, D2`, `json_path, A6 (assumption)`, or
/// `json_path, D3 (inconclusive: P2 not met)`; `, soft` when the scenario
/// went on after it.
pub fn check_label(f: &Failure) -> String {
    let mut label = match f.clause_label() {
        Some(clause) => format!("{}, {clause}", f.check),
        None => f.check.name().to_owned(),
    };
    if f.soft {
        label.push_str(", soft");
    }
    label
}

/// `18 passed, 1 failed, 1 deviates`: the outcomes that occur.
pub fn counts(r: &RunResult) -> String {
    let parts: Vec<String> = [
        Outcome::Passed,
        Outcome::Failed,
        Outcome::Deviates,
        Outcome::Inconclusive,
        Outcome::Error,
        Outcome::Skipped,
        Outcome::Interrupted,
    ]
    .into_iter()
    .map(|o| (o, r.count(o)))
    .filter(|(o, n)| *n > 0 || *o == Outcome::Passed)
    .map(|(o, n)| format!("{n} {}", o.as_str()))
    .collect();
    let flaky = r.scenarios.iter().filter(|s| s.flaky).count();
    let mut text = parts.join(", ");
    if flaky > 0 {
        let _ = write!(text, " ({flaky} flaky)");
    }
    text
}

/// Longest statement shown in a matrix line, in characters.
const STATEMENT_CHARS: usize = 64;
/// Scenarios named per matrix line; more are counted.
const SCENARIOS_SHOWN: usize = 2;

/// The file stem of a scenario id: `01_cancel` of `01_cancel::cancel …`.
pub fn stem(id: &str) -> &str {
    id.split("::").next().unwrap_or(id)
}

/// The first `shown` of `scenarios` (by file stem when `stems`), then how
/// many more: `01_cancel, 04_other and 3 more`.
pub fn deciding(scenarios: &[std::sync::Arc<str>], shown: usize, stems: bool) -> String {
    let mut text = scenarios
        .iter()
        .take(shown)
        .map(|id| if stems { stem(id) } else { id })
        .collect::<Vec<_>>()
        .join(", ");
    if scenarios.len() > shown {
        let _ = write!(text, " and {} more", scenarios.len() - shown);
    }
    text
}

/// `text` cut to `max` characters, the last one `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The run's account of its contract checks, in one line:
/// `undocumented_status: 48; response_schema: 35, skipped 13 (the response
/// is documented without content)`, a check that judged nothing and was
/// turned off for the run said so.
pub fn judged(tally: &[crate::model::CheckTally]) -> String {
    tally
        .iter()
        .map(|t| {
            let off = t.ran == 0
                && t.skipped.len() == 1
                && t.skipped[0].reason == crate::model::SkipReason::Disabled;
            if off {
                return format!("{}: turned off for the run", t.check.name());
            }
            let mut s = format!("{}: {}", t.check.name(), grouped(t.ran));
            let not: Vec<String> = t
                .skipped
                .iter()
                .map(|k| format!("{} ({})", grouped(k.steps), k.reason.text()))
                .collect();
            if !not.is_empty() {
                let _ = write!(s, ", skipped {}", not.join(", skipped "));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn grouped(n: u64) -> String {
    crate::model::coverage::grouped(usize::try_from(n).unwrap_or(usize::MAX))
}

/// One line naming a cause every request shares, for a run that did not
/// pass: no request reached the server, every response was 401 or 403 (the
/// token), or every response was 404 (the base URL's path). `None` when the
/// requests tell different stories.
pub fn systemic_cause(r: &RunResult) -> Option<String> {
    let steps: Vec<&StepResult> = r
        .scenarios
        .iter()
        .flat_map(|s| s.steps.iter().chain(&s.finally))
        .filter(|st| st.requests > 0)
        .collect();
    // The statuses of the steps that sent a request: recorded, or counted
    // in a lean scenario's totals (whose steps all had an answer: it passed).
    let mut statuses: Vec<u16> = steps.iter().filter_map(|st| st.status).collect();
    for t in r.scenarios.iter().filter_map(|s| s.totals.as_deref()) {
        for (status, n) in &t.statuses {
            statuses.extend(std::iter::repeat_n(*status, *n as usize));
        }
    }
    if statuses.is_empty() {
        let first = steps
            .iter()
            .flat_map(|st| &st.failures)
            .find(|f| f.check == crate::model::Check::Transport)?;
        return Some(format!(
            "cause: no request reached {} (all {} failed before an answer; the first: {}): is the server up, and is the base URL right?",
            r.base_url,
            steps.len(),
            first.message
        ));
    }
    if statuses.iter().all(|s| matches!(s, 401 | 403)) {
        return Some(format!(
            "cause: every response was 401 or 403 ({} of them): the server refused the token; check the suite's token variable (auth.bearer_env) or --token-file",
            statuses.len()
        ));
    }
    if statuses.iter().all(|s| *s == 404) {
        return Some(format!(
            "cause: every response was 404 ({} of them): is the base URL's path right? ({})",
            statuses.len(),
            r.base_url
        ));
    }
    None
}

/// The scenarios by outcome, counted as every report counts them (libtest's
/// own line above counts an error or a deviation its own way).
pub fn counts_line(r: &RunResult) -> String {
    let t = r.tally();
    let mut line = format!(
        "scenarios: {} passed, {} failed, {} deviate, {} inconclusive, {} errors, {} skipped",
        t.passed, t.failed, t.deviates, t.inconclusive, t.errors, t.skipped,
    );
    if t.flaky > 0 {
        let _ = write!(line, ", {} flaky", t.flaky);
    }
    if t.interrupted > 0 {
        let _ = write!(line, ", {} interrupted", t.interrupted);
    }
    line
}

/// The run's closing block on the terminal: the certification statement,
/// the clause matrix (when the suite declares clauses) and the verdict.
pub fn closing_block(r: &RunResult) -> String {
    let verdict = Verdict::of(r);
    let mut out = String::new();
    let _ = writeln!(out, "\ncertification: {}", verdict.statement);
    if !r.clauses.is_empty() {
        let width = r
            .clauses
            .iter()
            .map(|c| c.id.chars().count())
            .max()
            .unwrap_or(2);
        let _ = writeln!(
            out,
            "{:<width$}  {:<12}  {:<13}  {:<STATEMENT_CHARS$}  decided by",
            "clause",
            "level",
            "verdict",
            "statement",
            width = width.max(6)
        );
        for c in &r.clauses {
            let mut verdict_text = c.verdict.as_str().to_owned();
            if c.verdict == ClauseVerdict::Inconclusive && !c.because.is_empty() {
                let because: Vec<&str> = c.because.iter().map(|p| &**p).collect();
                verdict_text = format!("inconclusive ({} unmet)", because.join(", "));
            }
            let _ = writeln!(
                out,
                "{:<width$}  {:<12}  {:<13}  {:<STATEMENT_CHARS$}  {}",
                c.id,
                c.level.as_str(),
                verdict_text,
                cut(&c.statement, STATEMENT_CHARS),
                deciding(&c.scenarios, SCENARIOS_SHOWN, true),
                width = width.max(6)
            );
        }
    }
    if verdict.outcome != RunOutcome::Passed
        && let Some(cause) = systemic_cause(r)
    {
        let _ = writeln!(out, "{cause}");
    }
    let _ = writeln!(out, "{}", counts_line(r));
    let _ = writeln!(
        out,
        "verdict: {} (exit {}): {}",
        match verdict.outcome {
            RunOutcome::Passed => "PASSED",
            RunOutcome::Failed => "FAILED",
            RunOutcome::Error => "ERROR",
            RunOutcome::GateFailed => "GATE FAILED",
            RunOutcome::Interrupted => "INTERRUPTED",
            RunOutcome::NothingRan => "NOTHING CHECKED",
        },
        verdict.exit_code,
        verdict.headline
    );
    out
}
