//! `conform lint`, also run by `conform run` before anything is sent (the
//! input stage, [`crate::inputs`], calls it on each scenario): every
//! request step resolves to an operation of the contract (and to the one its
//! `operation:` names), every `query:` value has a shape its parameter's
//! style can serialise, and every JSON request body conforms to the
//! operation's request schema, or does not when the request says
//! `invalid: true` (a negative test). The path looked up is the one a run
//! sends, built by the same function (`http::target::path`).
//!
//! Templates are filled with what is known before a run: suite and scenario
//! variables keep their values, and captures become a placeholder string. A
//! body violation at a templated value is not reported, since the value is
//! only known at run time.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::case::{Action, BodyPlan, Diagnostic, RequestStep, Scenario, SourceLocation};
use crate::contract::{Contract, Operation, ParamIn};
use crate::diag::did_you_mean_hint;
use crate::expr::template::Vars;
use crate::http::style;
use crate::http::target::{self, TargetError};

/// What a capture stands for while linting.
const PLACEHOLDER: &str = "x";

/// Every `x-clause` of the contract names a clause of the suite's registry.
pub(crate) fn contract_clauses(
    contract: &Contract,
    registry: &crate::clause::Registry,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut source: Option<Option<Arc<str>>> = None;
    for mark in contract.clause_marks() {
        if registry.get(&mark.id).is_some() {
            continue;
        }
        let message = if registry.is_empty() {
            format!(
                "`x-clause: {}` names a clause, but the suite declares none (`clauses:` in conform.yaml)",
                mark.id
            )
        } else {
            let hint = did_you_mean_hint(&mark.id, registry.clauses().iter().map(|c| &*c.id));
            format!(
                "`x-clause: {}` at {} names no clause of the suite{hint}",
                mark.id, mark.pointer
            )
        };
        let location = SourceLocation::new(
            contract.file(),
            u64::from(mark.line),
            u64::from(mark.column),
        );
        let d = Diagnostic::new(location, message);
        let text = source
            .get_or_insert_with(|| std::fs::read_to_string(contract.file()).ok().map(Arc::from));
        out.push(match text {
            Some(t) if mark.line > 0 => d.with_source(t.clone()),
            _ => d,
        });
    }
    out
}

/// Checks one scenario's request steps against `contract`; `source` is
/// the text of its file, for excerpts.
pub(crate) fn lint_scenario(
    suite_vars: &[(String, crate::expr::template::TValue)],
    sc: &Scenario,
    contract: &Contract,
    source: &Arc<str>,
) -> Vec<Diagnostic> {
    let vars = known_vars(suite_vars, sc);
    let mut out = Vec::new();
    for step in sc.steps.iter().chain(&sc.finally) {
        let Action::Request(rs) = &step.action else {
            continue;
        };
        for (location, message) in lint_step(contract, rs, &vars, &step.uses) {
            out.push(Diagnostic::new(location, message).with_source(source.clone()));
        }
    }
    out
}

/// The path a run sends for the step (the same function builds it), which
/// is the one looked up in the contract.
fn request_path(contract: &Contract, rs: &RequestStep, vars: &Vars) -> Result<String, TargetError> {
    let r = &rs.request;
    let named = rs.operation.as_ref().map(|(id, _)| id.as_str());
    target::path(&r.path, vars, Some(contract), r.method.as_str(), named)
}

/// Every `query:` value known before the run (one that uses no capture)
/// that the operation's parameter cannot serialise by its style, or whose
/// shape its schema's type excludes.
fn query_shapes(
    op: Option<&Operation>,
    rs: &RequestStep,
    known: &Vars,
) -> Vec<(SourceLocation, String)> {
    let mut out = Vec::new();
    for q in &rs.request.query {
        let Ok(value) = q.value.render(known) else {
            continue;
        };
        let documented = op.and_then(|o| o.parameter(ParamIn::Query, &q.name));
        let checked = target::query_param(op, &q.name, &value)
            .and_then(|_| documented.map_or(Ok(()), |p| style::schema_type(p, &value)));
        if let Err(e) = checked {
            out.push((q.location.clone(), e.to_string()));
        }
    }
    out
}

/// A request body whose media type (its `Content-Type` header, else the one
/// the run sends: `target::body_media_type`) the operation does not
/// document, unless the request says `invalid: true`.
fn body_media_type(
    op: &Operation,
    rs: &RequestStep,
    vars: &Vars,
) -> Option<(SourceLocation, String)> {
    let r = &rs.request;
    let (Some(spec), Some(loc)) = (op.request_body.as_ref(), r.body_location.clone()) else {
        return None;
    };
    if r.invalid || matches!(r.body, BodyPlan::None) || spec.media_types.is_empty() {
        return None;
    }
    let documented = spec.media_types.join(", ");
    let given = r
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, t)| t.render_string(vars));
    let media = match given {
        Some(Ok(m)) => m,
        // Known only at run time.
        Some(Err(_)) => return None,
        None => match target::body_media_type(Some(op), matches!(r.body, BodyPlan::Json(_))) {
            Some(m) => m,
            None => {
                return Some((
                    loc,
                    format!(
                        "{} takes several request media types ({documented}): say which with a `Content-Type` header",
                        op.id
                    ),
                ));
            }
        },
    };
    spec.media_type_for(&media).is_none().then(|| {
        (
            loc,
            format!(
                "the request body is sent as `{media}`, which {} does not take (it documents {documented}); set a `Content-Type` header it documents, or say `invalid: true`",
                op.id
            ),
        )
    })
}

/// Suite and scenario variables with their values; every other name a step
/// uses is a capture and gets the placeholder.
fn known_vars(suite_vars: &[(String, crate::expr::template::TValue)], sc: &Scenario) -> Vars {
    let mut vars = Vars::default();
    for (name, t) in suite_vars.iter().chain(&sc.vars) {
        let v = t
            .render(&vars)
            .unwrap_or_else(|_| Value::String(PLACEHOLDER.into()));
        vars.set(name.clone(), v);
    }
    vars
}

fn lint_step(
    contract: &Contract,
    rs: &RequestStep,
    known: &Vars,
    uses: &[String],
) -> Vec<(SourceLocation, String)> {
    let mut out = Vec::new();
    let r = &rs.request;
    let vars = step_vars(rs, known, uses);
    let env_free = Vars {
        env: Arc::new(BTreeMap::new()),
        ..vars.clone()
    };
    let path = match request_path(contract, rs, &vars) {
        Err(TargetError::Render(_)) => request_path(contract, rs, &env_free),
        other => other,
    };
    let path = match path {
        Ok(path) => path,
        Err(TargetError::Style(e)) => {
            out.push((r.path_location.clone(), e.to_string()));
            return out;
        }
        Err(TargetError::Render(_)) => return out,
    };
    let op = step_operation(contract, rs, &path, &mut out);
    out.extend(query_shapes(op, rs, known));
    if let Some(problem) = op.and_then(|op| body_media_type(op, rs, &vars)) {
        out.push(problem);
    }
    if let Some(op) = op {
        out.extend(request_body(contract, op, rs, &vars));
    }
    out
}

/// What a step's templates may read while linting: the known variables,
/// a placeholder for each capture it uses, and a paging cursor's start.
fn step_vars(rs: &RequestStep, known: &Vars, uses: &[String]) -> Vars {
    let mut vars = known.clone();
    for u in uses {
        if vars.get(u).is_none() {
            vars.set(u.clone(), Value::String(PLACEHOLDER.into()));
        }
    }
    if let crate::case::Mode::Paginate(p) = &rs.mode {
        vars.set(p.cursor_var.clone(), p.start.clone());
    }
    vars
}

/// The operation a step's request reaches at `path`: the one it names with
/// `operation:` (which must be that method and path) or the one its method
/// and path find; a problem in `out` when neither holds.
fn step_operation<'c>(
    contract: &'c Contract,
    rs: &RequestStep,
    path: &str,
    out: &mut Vec<(SourceLocation, String)>,
) -> Option<&'c Operation> {
    let r = &rs.request;
    let method = r.method.as_str();
    let found = contract.find(method, path);
    match &rs.operation {
        Some((id, loc)) => match contract.by_id(id) {
            None => {
                let hint = did_you_mean_hint(id, contract.operations().iter().map(|o| &*o.id));
                out.push((
                    loc.clone(),
                    format!("no operation `{id}` in {}{hint}", contract.file()),
                ));
                None
            }
            Some(named) => {
                let bare = path.split('?').next().unwrap_or(path);
                if let Some(f) = found.filter(|f| f.id != named.id) {
                    out.push((
                        loc.clone(),
                        format!(
                            "`{id}` is {} {}, but {method} {path} is `{}`",
                            named.method, named.template, f.id
                        ),
                    ));
                } else if !named.method.eq_ignore_ascii_case(method) {
                    out.push((
                        loc.clone(),
                        format!(
                            "`{id}` is {} {}, but the step sends {method}",
                            named.method, named.template
                        ),
                    ));
                } else if crate::contract::path_spans(named, bare).is_none() {
                    out.push((
                        loc.clone(),
                        format!(
                            "`{id}` is {} {}, which the step's path {bare} does not match",
                            named.method, named.template
                        ),
                    ));
                }
                Some(named)
            }
        },
        None => {
            if found.is_none() && rs.schema {
                let same_method = contract.operations().iter().filter(|o| o.method == method);
                let hint = did_you_mean_hint(path, same_method.map(|o| o.template.as_str()));
                out.push((
                    r.path_location.clone(),
                    format!(
                        "{method} {path} matches no operation of {}{hint}; name one with `operation:` or turn contract checks off with `schema: false`",
                        contract.file()
                    ),
                ));
            }
            found
        }
    }
}

/// The JSON body of a step's request against `op`'s request schema (a
/// deliberate negative test, `invalid: true`, must break it).
fn request_body(
    contract: &Contract,
    op: &Operation,
    rs: &RequestStep,
    vars: &Vars,
) -> Vec<(SourceLocation, String)> {
    let mut out = Vec::new();
    let r = &rs.request;
    // Only JSON bodies are linted; a raw `body` is usually a deliberately malformed request.
    let BodyPlan::Json(body) = &r.body else {
        return out;
    };
    let Some(loc) = r.body_location.clone() else {
        return out;
    };
    let Ok(value) = body.render(vars) else {
        return out;
    };
    let templated = body.template_pointers();
    let content_type = r
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, t)| t.render_string(vars).ok())
        .unwrap_or_else(|| "application/json".into());
    let violations: Vec<_> = contract
        .validate_request(op, &content_type, &value)
        .into_iter()
        .filter(|v| {
            !templated
                .iter()
                .any(|t| v.instance_path == *t || v.instance_path.starts_with(&format!("{t}/")))
        })
        .collect();
    if r.invalid {
        if violations.is_empty() && op.request_body.is_some() && templated.is_empty() {
            out.push((
                loc,
                format!(
                    "the request says `invalid: true`, but its body conforms to {}'s request schema: the negative test tests nothing",
                    op.id
                ),
            ));
        }
        return out;
    }
    for v in violations {
        let at = if v.instance_path.is_empty() {
            String::new()
        } else {
            format!(" at {}", v.instance_path)
        };
        out.push((
            loc.clone(),
            format!(
                "the request body breaks {}'s request schema{at}: {} (schema: {}); mark a deliberate negative test with `invalid: true`",
                op.id, v.message, v.schema_path
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Action;
    use crate::http::BaseUrl;
    use crate::runner::exchange;

    const CONTRACT: &str = r#"
openapi: 3.0.3
info: { title: files, version: "1" }
paths:
  /files/{path}:
    get:
      operationId: GetFile
      parameters:
        - { name: path, in: path, required: true, schema: { type: string }, x-multi-segment: true }
      responses: { "200": { description: ok } }
  /tags/{name}:
    get:
      operationId: GetTag
      parameters:
        - { name: name, in: path, required: true, schema: { type: string } }
      responses: { "200": { description: ok } }
  /items/{ids}:
    get:
      operationId: GetItems
      parameters:
        - { name: ids, in: path, required: true, style: label, explode: true, schema: { type: array } }
      responses: { "200": { description: ok } }
"#;

    const SCENARIO: &str = r#"
name: paths
vars:
  file: docs/README.md
  tag: a b/c
  ids: [1, 2]
  name: guide/intro.md
steps:
  - { name: file, request: { method: GET, path: "/files/{{ file }}" } }
  - { name: tag, request: { method: GET, path: "/tags/{{ tag }}" } }
  - { name: items, request: { method: GET, path: "/items/{{ ids }}" } }
  - { name: piece, request: { method: GET, path: "/files/docs/{{ name }}" } }
"#;

    #[test]
    fn lint_looks_up_the_path_the_run_sends() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).expect("a written file");
        };
        write("conform.yaml", "name: t\nspec: openapi.yaml\n");
        write("openapi.yaml", CONTRACT);
        write("s.yaml", SCENARIO);
        // Lint finds every operation (it refuses the suite otherwise).
        let crate::inputs::Inputs { suite, contract } =
            crate::inputs::load(dir.path(), None, &BTreeMap::new())
                .unwrap_or_else(|d| panic!("{}", d.render()));
        let contract = contract.expect("the contract");
        let plan = suite.plan(&suite.scenarios[0]).expect("a plan");
        let vars = known_vars(&suite.vars, &plan);
        let base = BaseUrl::new(reqwest::Url::parse("http://api.test/prefix").expect("a URL"));
        let mut linted = Vec::new();
        for step in &plan.steps {
            let Action::Request(rs) = &step.action else {
                continue;
            };
            let path = request_path(&contract, rs, &vars).expect("a path");
            let sent = exchange::build(rs, &base, Some(&contract), None, &vars).expect("a request");
            assert_eq!(format!("/prefix{path}"), sent.url.path());
            let op = contract.find("GET", &path).map(|o| o.id.to_string());
            linted.push((path, op.unwrap_or_default()));
        }
        let expected = [
            ("/files/docs/README.md", "GetFile"),
            ("/tags/a%20b%2Fc", "GetTag"),
            ("/items/.1.2", "GetItems"),
            ("/files/docs/guide/intro.md", "GetFile"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(p, o)| ((*p).to_owned(), (*o).to_owned()))
            .collect();
        assert_eq!(linted, expected);
    }

    #[test]
    fn query_values_a_style_cannot_write_are_refused_where_written() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).expect("a written file");
        };
        write("conform.yaml", "name: t\nspec: openapi.yaml\n");
        write(
            "openapi.yaml",
            r#"
openapi: 3.0.3
info: { title: issues, version: "1" }
paths:
  /issues:
    get:
      parameters:
        - { name: labels, in: query, style: pipeDelimited, schema: { type: array } }
        - { name: state, in: query, schema: { type: string } }
      responses: { "200": { description: ok } }
"#,
        );
        write(
            "s.yaml",
            r#"name: q
steps:
  - { name: first, request: { method: GET, path: /issues }, capture: { captured: $.x } }
  - name: list
    request:
      method: GET
      path: /issues
      query:
        labels: { a: bug }
        state: [open]
        later: "{{ captured }}"
"#,
        );
        let problems = match crate::inputs::load(dir.path(), None, &BTreeMap::new()) {
            Ok(_) => panic!("the query values were accepted"),
            Err(d) => d.0,
        };
        let found: Vec<(u32, u32, String)> = problems
            .iter()
            .map(|d| (d.location.line, d.location.column, d.message.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    9,
                    17,
                    "query parameter `labels` is an object, which style pipeDelimited cannot serialise: it takes an array of scalars (or a single scalar)".to_owned()
                ),
                (
                    10,
                    16,
                    "query parameter `state` is an array, but the contract's schema for it is of type `string`".to_owned()
                ),
            ]
        );
    }
}
