//! The text of a failed scenario, as the terminal (and later JUnit) shows it:
//! each failing step, its checks with expected against actual and their YAML
//! location, the poll history, the request, the response and a curl line.

use std::fmt::Write;

use crate::model::{ScenarioResult, StepOutcome, StepResult};

/// Lines of response body shown in the terminal.
const BODY_LINES: usize = 40;
/// Characters of response body shown in the terminal (the JSON report keeps more).
const BODY_CHARS: usize = 2000;

/// Detail of every step that did not pass; empty when the scenario passed.
pub fn failure_text(r: &ScenarioResult) -> String {
    let mut out = String::new();
    for (i, step) in r.steps.iter().chain(&r.finally).enumerate() {
        if matches!(step.outcome, StepOutcome::Failed | StepOutcome::Error) {
            let part = if i >= r.steps.len() {
                "finally step"
            } else {
                "step"
            };
            step_text(&mut out, part, step);
        }
    }
    out
}

fn step_text(out: &mut String, part: &str, s: &StepResult) {
    let verb = if s.outcome == StepOutcome::Error {
        "could not complete"
    } else {
        "failed"
    };
    let _ = writeln!(out, "{part} `{}` {verb} ({})", s.name, s.location);
    for f in &s.failures {
        let _ = writeln!(out, "  [{}] {}", f.check, f.message);
        if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
            let _ = writeln!(out, "      expected: {e}");
            let _ = writeln!(out, "      actual:   {a}");
        }
        if f.location.line > 0 {
            let _ = writeln!(out, "      at {}", f.location);
        }
    }
    if let Some(x) = &s.exchange {
        let _ = writeln!(out, "  request: {} {}", x.request.method, x.request.url);
        if let Some(b) = &x.request.body {
            let _ = writeln!(out, "    {b}");
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
                let shown = crate::matcher::truncate(&resp.body, BODY_CHARS);
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
        let _ = writeln!(out, "  reproduce: {}", x.curl);
    }
}
