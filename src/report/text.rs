//! Text for the terminal and JUnit bodies: the detail of a scenario that did
//! not pass (each step that failed, deviated or found a precondition unmet,
//! the `traceparent` of its last request, its checks with their clause,
//! expected against actual and their YAML location, the poll history, the
//! request, the response and a curl line; every long text cut at the
//! caller's limit, and a body the record cut says so: [`cut_note`]), and
//! the closing block of a
//! run (the certification statement, the clause matrix and the verdict).
//!
//! What a server wrote arrives here printable (see [`crate::printable`]):
//! one-line fields (messages, expected, actual, header values) on one line,
//! and every line of a body indented, so that no line a server wrote starts
//! at column 0, where a CI log parser would read it (`test x ... ok`), and
//! no line issuing a command to GitHub Actions (`::add-mask::`, `##[error]`).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use crate::model::coverage::grouped;
use crate::model::verdict::{RunOutcome, Verdict};
use crate::model::{
    Check, ClauseVerdict, Failure, Outcome, RunResult, SHOWN_BODY_BYTES, ScenarioResult,
    StepOutcome, StepResult,
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
    render(steps, finally, body_chars, None)
}

/// The terminal's detail of a scenario that did not pass: as
/// [`failure_text`] (bodies cut at [`TERMINAL_BODY_CHARS`]), except that a
/// step failing as a step of an earlier scenario did, shown in full there,
/// is one line (see [`Shown`]). Scenarios come in file order, so "above"
/// is where the terminal printed it. The reports keep every detail.
pub fn terminal_text(r: &ScenarioResult, shown: &mut Shown) -> String {
    let text = render(
        &r.steps,
        &r.finally,
        TERMINAL_BODY_CHARS,
        Some((&r.id, &mut *shown)),
    );
    shown.tally(r);
    text
}

/// What the terminal has shown in full of earlier scenarios' failures.
///
/// When a server cannot be reached, or refuses the token, every scenario
/// fails the same way, and its detail (request, response, curl line)
/// would be printed for each: some 14 lines a scenario. A step fails the
/// same way when its failures (check, clause and message) were each shown
/// in full for an earlier scenario and it got no answer (every failure a
/// transport error) or a 401 or 403: it is then one line naming that
/// scenario. A scenario whose every step that did not pass was such a
/// transport error, one and the same, counts towards the line
/// [`Shown::repeated`] gives for the closing block (`19 more scenarios
/// failed the same way as …`).
#[derive(Debug, Default)]
pub struct Shown {
    /// Each failure shown in full, with the scenario that showed it.
    seen: HashMap<FailureKey, Arc<str>>,
    /// Transport errors repeated by whole scenarios: the scenario that
    /// showed it, the message, and how many scenarios repeated it.
    repeats: Vec<(Arc<str>, String, usize)>,
}

impl Shown {
    /// The scenario earlier than `scenario` that showed in full every
    /// failure of `step`, when the step failed the same way (see above).
    fn repeat_of(&self, step: &StepResult, scenario: &str) -> Option<Arc<str>> {
        let transport =
            step.status.is_none() && step.failures.iter().all(|f| f.check == Check::Transport);
        let refused = matches!(step.status, Some(401 | 403));
        if step.failures.is_empty() || !(transport || refused) {
            return None;
        }
        let mut first = None;
        for f in &step.failures {
            let by = self.seen.get(&key(f))?;
            if &**by == scenario {
                return None;
            }
            first.get_or_insert_with(|| by.clone());
        }
        first
    }

    /// Records the failures of `step`, shown in full for `scenario`.
    fn record(&mut self, step: &StepResult, scenario: &Arc<str>) {
        for f in &step.failures {
            self.seen.entry(key(f)).or_insert_with(|| scenario.clone());
        }
    }

    /// Counts `r` as a repeat when every step of it that did not pass
    /// repeated one transport error an earlier scenario showed.
    fn tally(&mut self, r: &ScenarioResult) {
        let mut shown = r
            .steps
            .iter()
            .chain(&r.finally)
            .filter(|s| s.outcome.is_shown());
        let Some(first_step) = shown.next() else {
            return;
        };
        let message = match first_step.failures.as_slice() {
            [f] if f.check == Check::Transport => &f.message,
            _ => return,
        };
        let Some(by) = self.repeat_of(first_step, &r.id) else {
            return;
        };
        let same = |s: &StepResult| matches!(s.failures.as_slice(), [f] if f.check == Check::Transport && &f.message == message);
        if !shown.all(same) {
            return;
        }
        match self
            .repeats
            .iter_mut()
            .find(|(b, m, _)| *b == by && m == message)
        {
            Some((_, _, n)) => *n += 1,
            None => self.repeats.push((by, message.clone(), 1)),
        }
    }

    /// One line per transport error that later scenarios repeated:
    /// `19 more scenarios failed the same way as 01_cancel (shown above): could not connect: …`.
    pub fn repeated(&self) -> Vec<String> {
        self.repeats
            .iter()
            .map(|(by, message, n)| {
                format!(
                    "{n} more scenario{} failed the same way as {} (shown above): {message}",
                    if *n == 1 { "" } else { "s" },
                    stem(by)
                )
            })
            .collect()
    }
}

/// What makes two failures the same for [`Shown`]: check, clause, message.
type FailureKey = (Check, Option<Arc<str>>, String);

fn key(f: &Failure) -> FailureKey {
    (f.check, f.clause.clone(), f.message.clone())
}

/// The detail of every step that did not pass; with `shown`, a step that
/// failed as one of an earlier scenario did is one line (see [`Shown`]).
fn render(
    steps: &[StepResult],
    finally: &[StepResult],
    body_chars: usize,
    mut shown: Option<(&Arc<str>, &mut Shown)>,
) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().chain(finally).enumerate() {
        if step.outcome.is_shown() {
            let part = if i >= steps.len() {
                "finally step"
            } else {
                "step"
            };
            match &mut shown {
                Some((id, shown)) => match shown.repeat_of(step, id) {
                    Some(by) => repeat_line(&mut out, part, step, &by),
                    None => {
                        step_text(&mut out, part, step, body_chars);
                        shown.record(step, id);
                    }
                },
                None => step_text(&mut out, part, step, body_chars),
            }
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

/// How a step that did not pass ended, as a verb.
fn verb(s: &StepResult) -> &'static str {
    match s.outcome {
        StepOutcome::Error => "could not complete",
        StepOutcome::Deviates => "deviates from an assumption",
        StepOutcome::Inconclusive => "found a precondition unmet",
        _ => "failed",
    }
}

/// A step that failed as a step of the scenario `by` did, in one line.
fn repeat_line(out: &mut String, part: &str, s: &StepResult, by: &str) {
    let _ = write!(out, "{part} `{}` {} ({}): ", s.name, verb(s), s.location);
    match s.status {
        Some(status) => {
            let labels: Vec<String> = s
                .failures
                .iter()
                .map(|f| format!("[{}]", check_label(f)))
                .collect();
            let _ = writeln!(
                out,
                "{} on a {status} answer, as for {} above",
                labels.join(", "),
                stem(by)
            );
        }
        None => {
            let _ = writeln!(out, "the same transport error as {} above", stem(by));
        }
    }
}

fn step_text(out: &mut String, part: &str, s: &StepResult, body_chars: usize) {
    let cut = |t: &str| crate::expr::matcher::truncate(t, body_chars);
    let _ = writeln!(out, "{part} `{}` {} ({})", s.name, verb(s), s.location);
    if let Some(t) = s.traceparent() {
        let _ = writeln!(out, "  traceparent: {t}");
    }
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
            if x.request.truncated {
                let note = cut_note(x.request.body_bytes, x.request.body_file.as_deref());
                let _ = writeln!(out, "    … ({note})");
            }
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
                if let Some(early) = x.early_answer() {
                    let _ = writeln!(out, "    ({early})");
                }
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
                if resp.truncated {
                    let _ = writeln!(out, "    … ({})", cut_note(resp.body_bytes, None));
                }
            }
            None => {
                let _ = writeln!(out, "  response: none");
            }
        }
        let _ = writeln!(out, "  reproduce: {}", cut(&x.curl));
    }
}

/// What every report says of a body the record cut: `cut at 65,536 of
/// 5,242,880 bytes`, and where the whole of it is (`bodies/NAME`, relative
/// to the reports folder) when it was written there.
pub fn cut_note(whole: usize, file: Option<&str>) -> String {
    let mut note = format!(
        "cut at {} of {} bytes",
        grouped(SHOWN_BODY_BYTES.min(whole)),
        grouped(whole)
    );
    if let Some(file) = file {
        let _ = write!(
            note,
            "; the whole body is in {file}, which the curl line sends"
        );
    }
    note
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
            let mut s = format!("{}: {}", t.check.name(), grouped_u64(t.ran));
            let not: Vec<String> = t
                .skipped
                .iter()
                .map(|k| format!("{} ({})", grouped_u64(k.steps), k.reason.text()))
                .collect();
            if !not.is_empty() {
                let _ = write!(s, ", skipped {}", not.join(", skipped "));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn grouped_u64(n: u64) -> String {
    grouped(usize::try_from(n).unwrap_or(usize::MAX))
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
/// the clause matrix (when the suite declares clauses), the lines in
/// `repeated` ([`Shown::repeated`]) and the cause (next to each other, so
/// that the one detail shown and what it means are found together), and
/// the verdict.
pub fn closing_block(r: &RunResult, repeated: &[String]) -> String {
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
    for line in repeated {
        let _ = writeln!(out, "{line}");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceLocation;

    fn failure(check: Check, message: &str) -> Failure {
        Failure::runtime(check, &SourceLocation::new("cases/x.yaml", 3, 5), message)
    }

    fn step(name: &str, status: Option<u16>, failures: Vec<Failure>) -> StepResult {
        let mut s = StepResult::new(name, SourceLocation::new("cases/x.yaml", 3, 5));
        s.outcome = if status.is_some() {
            StepOutcome::Failed
        } else {
            StepOutcome::Error
        };
        s.status = status;
        s.failures = failures;
        s
    }

    fn scenario(id: &str, steps: Vec<StepResult>) -> ScenarioResult {
        ScenarioResult {
            id: format!("{id}::name").into(),
            name: "name".into(),
            file: "cases/x.yaml".into(),
            location: SourceLocation::new("cases/x.yaml", 1, 1),
            tags: Vec::new(),
            outcome: Outcome::Error,
            skip_reason: None,
            duration_ms: 0.0,
            steps,
            finally: Vec::new(),
            clauses: Vec::new(),
            flaky: false,
            reruns: Vec::new(),
            trace_id: Default::default(),
            totals: None,
        }
    }

    fn refused() -> StepResult {
        step(
            "create",
            None,
            vec![failure(Check::Transport, "could not connect: refused")],
        )
    }

    #[test]
    fn a_transport_error_is_told_once_and_the_repeats_counted() {
        let mut shown = Shown::default();
        let first = terminal_text(&scenario("a", vec![refused()]), &mut shown);
        assert!(
            first.contains("[transport] could not connect: refused"),
            "{first}"
        );
        for id in ["b", "c"] {
            let text = terminal_text(&scenario(id, vec![refused()]), &mut shown);
            assert_eq!(
                text,
                "step `create` could not complete (cases/x.yaml:3:5): the same transport error as a above\n"
            );
        }
        // Another error is told in full, and not counted with the first.
        let other = step("get", None, vec![failure(Check::Transport, "timed out")]);
        let text = terminal_text(&scenario("d", vec![other]), &mut shown);
        assert!(text.contains("[transport] timed out"), "{text}");
        assert_eq!(
            shown.repeated(),
            ["2 more scenarios failed the same way as a (shown above): could not connect: refused"]
        );
    }

    #[test]
    fn only_an_earlier_scenarios_failures_on_no_answer_or_a_refusal_are_told_short() {
        let mut shown = Shown::default();
        // Within one scenario, each step is shown in full.
        let text = terminal_text(&scenario("a", vec![refused(), refused()]), &mut shown);
        assert_eq!(
            text.matches("[transport] could not connect").count(),
            2,
            "{text}"
        );
        // The same failure on a 200 is no repeat of a cause every request
        // shares: in full each time; on a 401 it is told short.
        let status = || failure(Check::StatusCode, "expected status 201, got 200");
        for id in ["b1", "b2"] {
            let text = terminal_text(
                &scenario(id, vec![step("s", Some(200), vec![status()])]),
                &mut shown,
            );
            assert!(text.contains("[status_code]"), "{text}");
        }
        let refusal = || failure(Check::StatusCode, "expected status 200, got 401");
        terminal_text(
            &scenario("c", vec![step("s", Some(401), vec![refusal()])]),
            &mut shown,
        );
        let text = terminal_text(
            &scenario("d", vec![step("t", Some(401), vec![refusal()])]),
            &mut shown,
        );
        assert_eq!(
            text,
            "step `t` failed (cases/x.yaml:3:5): [status_code] on a 401 answer, as for c above\n"
        );
        // A failure not seen before: in full.
        let more = failure(Check::EmptyBody, "expected an empty body");
        let text = terminal_text(
            &scenario("e", vec![step("t", Some(401), vec![refusal(), more])]),
            &mut shown,
        );
        assert!(text.contains("[empty_body]"), "{text}");
        // No transport error was repeated by a whole scenario: no count.
        assert!(shown.repeated().is_empty());
    }
}
