//! A request step's target: the path, query and header values as the run
//! sends them. `conform lint` looks the operation up with the same
//! [`path`], so it checks exactly the path a run would send.
//!
//! The path: each substituted value is first percent-encoded whole (`/`
//! included), which keeps the template's segments, and the operation is
//! found from that (or named with `operation:`). Each value that fills a
//! parameter of the operation's template is then written by that
//! parameter's rules (`style::path`): a value that is the whole parameter by
//! its style (`.blue`, `;color=blue`, `blue,black`), one beside literal text
//! as text; a parameter that may span segments (`x-multi-segment`,
//! `allowReserved`) keeps its `/`. Without a contract, without an operation,
//! or for values outside every parameter, the first encoding stays (what
//! conform always sent).
//!
//! The query: each key, in the order written, by the operation's query
//! parameter of that name, else as `form` with explode. Headers: a
//! documented header parameter's value as `simple`; other headers as text.

use serde_json::Value;

use super::style::{self, StyleError};
use crate::contract::{Contract, Operation, ParamIn, Parameter, path_spans};
use crate::expr::template::{Part, RenderError, TValue, Template, Vars};

/// Why a target could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Style(#[from] StyleError),
}

/// The operation a request targets: the one `named` (an operationId), else
/// the one the contract finds for `method` and `path`.
pub fn operation<'c>(
    contract: &'c Contract,
    method: &str,
    path: &str,
    named: Option<&str>,
) -> Option<&'c Operation> {
    match named {
        Some(id) => contract.by_id(id),
        None => contract.find(method, path),
    }
}

/// The path of a request: `template` rendered with `vars`, each value
/// percent-encoded by the rules of the parameter it fills.
pub fn path(
    template: &Template,
    vars: &Vars,
    contract: Option<&Contract>,
    method: &str,
    named: Option<&str>,
) -> Result<String, TargetError> {
    let parts = template.render_parts(vars)?;
    let mut first = String::new();
    let mut values = Vec::new();
    for part in &parts {
        match part {
            Part::Lit(s) => first.push_str(s),
            Part::Value(v) => {
                let start = first.len();
                let text = style::text(v);
                first.extend(percent_encoding::utf8_percent_encode(
                    &text,
                    style::PATH_VALUE,
                ));
                values.push((start..first.len(), v));
            }
        }
    }
    let Some(contract) = contract.filter(|_| !values.is_empty()) else {
        return Ok(first);
    };
    let Some(op) = operation(contract, method, &first, named) else {
        return Ok(first);
    };
    let end = first.find('?').unwrap_or(first.len());
    let Some(spans) = path_spans(op, &first[..end]) else {
        return Ok(first);
    };
    let mut out = String::with_capacity(first.len());
    let mut at = 0;
    for (range, v) in values {
        let Some((name, group)) = spans
            .iter()
            .find(|(_, g)| g.start <= range.start && range.end <= g.end)
        else {
            continue;
        };
        let undocumented;
        let p = match op.parameter(ParamIn::Path, name) {
            Some(p) => p,
            None => {
                undocumented = Parameter::undocumented(name, ParamIn::Path);
                &undocumented
            }
        };
        let text = if *group == range {
            style::path(p, v)?
        } else {
            style::path_piece(p, v)?
        };
        out.push_str(&first[at..range.start]);
        out.push_str(&text);
        at = range.end;
    }
    out.push_str(&first[at..]);
    Ok(out)
}

/// One query parameter of `op` (or an undocumented one) with value `v`.
pub fn query_param(op: Option<&Operation>, name: &str, v: &Value) -> Result<String, StyleError> {
    match op.and_then(|o| o.parameter(ParamIn::Query, name)) {
        Some(p) => style::query(p, v),
        None => style::query(&Parameter::undocumented(name, ParamIn::Query), v),
    }
}

/// The query string of a request (without `?`; empty when nothing is sent),
/// its parameters in the order written.
pub fn query<'p>(
    params: impl IntoIterator<Item = (&'p str, &'p TValue)>,
    vars: &Vars,
    op: Option<&Operation>,
) -> Result<String, TargetError> {
    let mut out = String::new();
    for (name, value) in params {
        let piece = query_param(op, name, &value.render(vars)?)?;
        if piece.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&piece);
    }
    Ok(out)
}

/// A header's value: a documented header parameter's by its style, any
/// other as text.
pub fn header(
    op: Option<&Operation>,
    name: &str,
    template: &Template,
    vars: &Vars,
) -> Result<String, TargetError> {
    let v = template.render_value(vars)?;
    Ok(match op.and_then(|o| o.parameter(ParamIn::Header, name)) {
        Some(p) => style::header(p, &v)?,
        None => style::text(&v),
    })
}

/// The `Content-Type` a request body goes with when the step gives none: a
/// `json` body `application/json`, or the one JSON media type the operation
/// documents instead (`application/merge-patch+json`); a raw `body` the
/// operation's request media type when it documents exactly one (else none).
pub fn body_media_type(op: Option<&Operation>, json: bool) -> Option<String> {
    let documented: &[String] = op
        .and_then(|o| o.request_body.as_ref())
        .map_or(&[], |b| b.media_types.as_slice());
    if json {
        let is_json = |m: &&String| {
            let m = m.to_ascii_lowercase();
            m == "application/json" || m.ends_with("+json")
        };
        let plain = documented.is_empty()
            || documented
                .iter()
                .any(|m| m.eq_ignore_ascii_case("application/json"));
        return Some(match documented.iter().find(is_json) {
            Some(m) if !plain => m.clone(),
            _ => "application/json".to_owned(),
        });
    }
    match documented {
        [one] if !one.contains('*') => Some(one.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_body_without_a_content_type_takes_the_operations_media_type() {
        let c = crate::contract::from_value(
            "c.yaml",
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
                "/patch": {"patch": {"operationId": "P", "requestBody": {"content": {
                    "application/merge-patch+json": {}}}, "responses": {"200": {"description": "ok"}}}},
                "/json": {"post": {"operationId": "J", "requestBody": {"content": {
                    "application/json": {}, "application/vnd.x+json": {}}},
                    "responses": {"200": {"description": "ok"}}}},
                "/raw": {"put": {"operationId": "R", "requestBody": {"content": {
                    "application/octet-stream": {}}}, "responses": {"200": {"description": "ok"}}}},
                "/two": {"put": {"operationId": "T", "requestBody": {"content": {
                    "text/plain": {}, "text/csv": {}}}, "responses": {"200": {"description": "ok"}}}}
            }}),
        )
        .expect("loads");
        assert!(c.other_json_requests());
        let op = |id: &str| c.by_id(id);
        let media = |id: &str, json: bool| body_media_type(op(id), json);
        assert_eq!(
            media("P", true).as_deref(),
            Some("application/merge-patch+json")
        );
        assert_eq!(media("J", true).as_deref(), Some("application/json"));
        assert_eq!(
            body_media_type(None, true).as_deref(),
            Some("application/json")
        );
        assert_eq!(
            media("R", false).as_deref(),
            Some("application/octet-stream")
        );
        assert_eq!(media("T", false), None);
        assert_eq!(body_media_type(None, false), None);
    }
}
