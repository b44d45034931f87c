//! Captures: values taken from a step's final response into its variables.

use serde_json::Value;

use crate::case::model::Conversion;
use crate::case::{CapturePlan, CaptureSource, RequestStep};
use crate::check::{Body, Check};
use crate::expr::matcher::show;
use crate::expr::template::Vars;
use crate::http::HttpResponse;
use crate::model::verdict::stops;
use crate::model::{Failure, StepResult};
use crate::redact::Redactor;

/// Takes the step's captures from its final response into `vars`; a secret
/// one becomes known to `red`.
///
/// Values are captured from a response even when the step failed, so that
/// `finally` can clean up what it created; a capture that fails counts
/// only when nothing else stopped the step.
pub(super) fn take_captures(
    rs: &RequestStep,
    resp: &HttpResponse,
    vars: &mut Vars,
    red: &mut Redactor,
    result: &mut StepResult,
) {
    let stopped = result.failures.iter().any(stops);
    let body = Body::of(resp);
    for c in &rs.captures {
        match capture(c, resp, &body) {
            Ok(v) => {
                if c.secret {
                    red.add(match &v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
                vars.set(c.var.clone(), v);
            }
            Err(_) if c.optional || stopped => {}
            Err(msg) => result.failures.push(
                Failure::assertion(
                    Check::Capture,
                    &c.location,
                    format!("capture `{}`: {msg}", c.var),
                )
                .under(rs.clause.as_ref()),
            ),
        }
    }
}

/// Takes a captured value from the final response.
pub fn capture(c: &CapturePlan, resp: &HttpResponse, body: &Body<'_>) -> Result<Value, String> {
    let v = match &c.source {
        CaptureSource::Json(path) => {
            let doc = body
                .json
                .as_ref()
                .map_err(|e| format!("cannot read `{path}`: {e}"))?;
            match path.exactly_one(doc) {
                Ok(v) => v.clone(),
                Err(0) => {
                    return Err(format!("`{path}` selected nothing in {}", show(doc, 200)));
                }
                Err(n) => {
                    return Err(format!(
                        "`{path}` selected {n} nodes; a capture needs exactly one"
                    ));
                }
            }
        }
        CaptureSource::Header(h) => match resp.header(h) {
            Some(v) => Value::String(v.to_owned()),
            None => return Err(format!("the response has no `{h}` header")),
        },
    };
    match c.convert {
        None => Ok(v),
        Some(Conversion::String) => Ok(Value::String(match v {
            Value::String(s) => s,
            other => other.to_string(),
        })),
        Some(Conversion::Integer) => match &v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("{} is not an integer", show(&v, 100))),
            _ => Err(format!("{} is not an integer", show(&v, 100))),
        },
        Some(Conversion::Number) => match &v {
            Value::Number(_) => Ok(v),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("{} is not a number", show(&v, 100))),
            _ => Err(format!("{} is not a number", show(&v, 100))),
        },
    }
}
