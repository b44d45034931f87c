//! The text of a failed scenario, as the terminal and the JUnit failure
//! bodies show it: each failing step, its checks with expected against actual
//! and their YAML location, the poll history, the request, the response and a
//! curl line. Every long text (message, expected, actual, request and
//! response bodies, curl line) is cut at the caller's limit.

use std::fmt::Write;

use crate::model::{ScenarioResult, StepOutcome, StepResult};

/// Lines of response body shown.
const BODY_LINES: usize = 40;
/// Characters of response body shown in the terminal.
pub const TERMINAL_BODY_CHARS: usize = 2000;

/// Detail of every step that did not pass; empty when the scenario passed.
/// Response bodies are cut at `body_chars` characters.
pub fn failure_text(r: &ScenarioResult, body_chars: usize) -> String {
    steps_text(&r.steps, &r.finally, body_chars)
}

/// The same for any attempt's steps (a rerun's, for instance).
pub fn steps_text(steps: &[StepResult], finally: &[StepResult], body_chars: usize) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().chain(finally).enumerate() {
        if matches!(step.outcome, StepOutcome::Failed | StepOutcome::Error) {
            let part = if i >= steps.len() {
                "finally step"
            } else {
                "step"
            };
            step_text(&mut out, part, step, body_chars);
        }
    }
    out
}

fn step_text(out: &mut String, part: &str, s: &StepResult, body_chars: usize) {
    let cut = |t: &str| crate::matcher::truncate(t, body_chars);
    let verb = if s.outcome == StepOutcome::Error {
        "could not complete"
    } else {
        "failed"
    };
    let _ = writeln!(out, "{part} `{}` {verb} ({})", s.name, s.location);
    for f in &s.failures {
        let _ = writeln!(out, "  [{}] {}", f.check, cut(&f.message));
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
            let _ = writeln!(out, "    {}", cut(b));
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
