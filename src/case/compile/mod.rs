//! Compiling parsed case files into the runnable plan: every problem
//! located, none stopping the others.
//!
//! `suite` compiles `conform.yaml`; `scenario` a scenario file and its
//! steps; `request` a request step (request, expectations, captures);
//! `modes` a step's poll or paging. What they share sits here: the file
//! being compiled ([`FileCtx`]), what a step reads ([`StepRefs`]), and the
//! compilers of values, templates, paths and matchers.

mod modes;
mod request;
mod scenario;
mod suite;

use std::sync::Arc;

use serde_json::Value;

use super::intern::Interner;
use super::load::SUITE_FILE;
use super::model::{Located, PathMatchers};
use super::plan::PathCheck;
use crate::check::ContractCheck;
use crate::clause::{ClauseRef, Registry};
use crate::diag::{Diagnostic, Diagnostics, SourceLocation, did_you_mean_hint};
use crate::jsonpath::JPath;
use crate::matcher::Matcher;
use crate::template::{TValue, Template};

pub use modes::{MAX_POLL_TIMEOUT, MIN_POLL_INTERVAL};
pub(super) use scenario::compile_scenario;
pub(super) use suite::compile_suite;

/// One file being compiled: its name, text and the problems found so far.
pub(super) struct FileCtx<'a> {
    pub(super) file: Arc<str>,
    pub(super) source: Arc<str>,
    pub(super) diags: &'a mut Diagnostics,
    pub(super) intern: &'a Interner,
}

impl FileCtx<'_> {
    fn loc(&self, line: u64, column: u64) -> SourceLocation {
        SourceLocation::new(self.file.clone(), line, column)
    }
    fn at<T>(&self, l: &Located<T>) -> SourceLocation {
        self.loc(l.line, l.column)
    }
    fn error(&mut self, location: SourceLocation, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::new(location, message).with_source(self.source.clone()));
    }
}

/// A variable read by a step, and where.
struct Use {
    var: String,
    location: SourceLocation,
}

/// What a step reads and defines, gathered while it compiles.
#[derive(Default)]
struct StepRefs {
    /// Variables read, and where.
    uses: Vec<Use>,
    /// Variables the step defines for its own use (the paging cursor).
    own: Vec<String>,
    /// Environment variables the request reads, and where.
    env: Vec<(String, SourceLocation)>,
}

impl StepRefs {
    /// The variables `templates` read at `loc`.
    fn vars<'t>(
        &mut self,
        templates: impl IntoIterator<Item = &'t Template>,
        loc: &SourceLocation,
    ) {
        for t in templates {
            self.uses.extend(t.vars().map(|v| Use {
                var: v.to_owned(),
                location: loc.clone(),
            }));
        }
    }

    /// The variables and the environment variables a request's `templates` read at `loc`.
    fn request<'t>(
        &mut self,
        templates: impl IntoIterator<Item = &'t Template> + Clone,
        loc: &SourceLocation,
    ) {
        self.vars(templates.clone(), loc);
        env_of(templates, loc, &mut self.env);
    }
}

/// The environment variables `templates` read at `loc`.
fn env_of<'t>(
    templates: impl IntoIterator<Item = &'t Template>,
    loc: &SourceLocation,
    out: &mut Vec<(String, SourceLocation)>,
) {
    for t in templates {
        out.extend(t.env_vars().map(|v| (v.to_owned(), loc.clone())));
    }
}

fn check_var_name(ctx: &mut FileCtx<'_>, name: &str, loc: &SourceLocation) {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok || name == "env" {
        ctx.error(
            loc.clone(),
            format!("`{name}` is not a usable variable name: use letters, digits, `_` and `-`, starting with a letter (and not `env`)"),
        );
    }
}

fn compile_value(ctx: &mut FileCtx<'_>, v: &Value, loc: &SourceLocation) -> Option<TValue> {
    match TValue::compile(v) {
        Ok(t) => Some(t),
        Err(e) => {
            let at = if e.pointer.is_empty() {
                String::new()
            } else {
                format!(" at {}", e.pointer)
            };
            ctx.error(loc.clone(), format!("invalid template{at}: {}", e.message));
            None
        }
    }
}

fn compile_template(ctx: &mut FileCtx<'_>, s: &str, loc: &SourceLocation) -> Option<Template> {
    match Template::parse(s) {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.error(
                loc.clone(),
                format!(
                    "invalid template (at character {}): {}",
                    e.offset + 1,
                    e.message
                ),
            );
            None
        }
    }
}

fn compile_path(ctx: &mut FileCtx<'_>, s: &str, loc: &SourceLocation) -> Option<JPath> {
    match ctx.intern.path(s) {
        Ok(p) => Some(p),
        Err(e) => {
            ctx.error(loc.clone(), e);
            None
        }
    }
}

fn compile_matcher(
    ctx: &mut FileCtx<'_>,
    v: &Value,
    loc: &SourceLocation,
    what: &str,
) -> Option<Matcher> {
    match Matcher::parse_with(v, ctx.intern) {
        Ok(m) => Some(m),
        Err(e) => {
            ctx.error(loc.clone(), format!("invalid matcher for {what}: {e}"));
            None
        }
    }
}

fn compile_path_checks(ctx: &mut FileCtx<'_>, map: &PathMatchers) -> Vec<PathCheck> {
    let mut out = Vec::new();
    for (key, m) in map {
        let path = &key.value;
        let loc = ctx.at(m);
        let key_loc = ctx.at(key);
        let p = compile_path(ctx, path, &key_loc);
        let matcher = compile_matcher(ctx, &m.value, &loc, &format!("`{path}`"));
        if let (Some(path), Some(matcher)) = (p, matcher) {
            out.push(PathCheck {
                path,
                matcher,
                location: loc,
            });
        }
    }
    out
}

/// The clause `id` names, or a located problem when the registry lacks it.
fn resolve_clause(
    ctx: &mut FileCtx<'_>,
    registry: &Registry,
    id: &Located<String>,
) -> Option<ClauseRef> {
    let name = id.value.trim();
    if let Some(c) = registry.resolve(name) {
        return Some(c);
    }
    let loc = ctx.at(id);
    if registry.is_empty() {
        ctx.error(
            loc,
            format!("unknown clause `{name}`: the suite declares no clauses (`clauses:` in {SUITE_FILE})"),
        );
    } else {
        let hint = did_you_mean_hint(name, registry.clauses().iter().map(|c| &*c.id));
        ctx.error(
            loc,
            format!("unknown clause `{name}`{hint}: the suite's clauses are declared under `clauses:` in {SUITE_FILE}"),
        );
    }
    None
}

/// Contract check names, each known (an unknown one is a problem at its
/// place, with "did you mean").
fn contract_checks(
    ctx: &mut FileCtx<'_>,
    names: &[Located<String>],
) -> Vec<(ContractCheck, SourceLocation)> {
    let mut out = Vec::new();
    for name in names {
        let loc = ctx.at(name);
        match ContractCheck::from_name(&name.value) {
            Ok(check) => out.push((check, loc)),
            Err(e) => ctx.error(loc, e.to_string()),
        }
    }
    out
}
