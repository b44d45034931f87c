//! `conform.yaml`: the suite's settings, clauses, servers and variables.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::super::intern::Interner;
use super::super::model::{ClauseSpec, Defaults, Located, ServerSpec, SuiteFile};
use super::super::plan::{EnvUse, ServerPlan, Settings, Suite};
use super::modes::compile_poll_settings;
use super::{FileCtx, check_var_name, compile_value, contract_checks};
use crate::clause::{Clause, Level, Registry};
use crate::diag::did_you_mean_hint;
use crate::diag::display_path;
use crate::poll::PollPolicy;

/// The suite `file` describes, in `dir`; scenarios are added as they load.
pub(in crate::case) fn compile_suite(
    ctx: &mut FileCtx<'_>,
    dir: &Path,
    file: &SuiteFile,
    intern: Arc<Interner>,
) -> Suite {
    let spec = file.spec.as_ref().map(|spec| {
        let path = dir.join(&spec.value);
        if !path.is_file() {
            let loc = ctx.at(spec);
            ctx.error(
                loc,
                format!("the contract file `{}` does not exist", display_path(&path)),
            );
        }
        path
    });
    let (strict, skip_checks) = match &file.checks {
        Some(checks) => (checks.strict, contract_checks(ctx, &checks.skip)),
        None => (false, Vec::new()),
    };
    let mut suite = Suite {
        name: file.name.clone(),
        description: file.description.clone(),
        spec,
        token_env: file.auth.as_ref().map(|a| a.bearer_env.value.clone()),
        token_env_location: file.auth.as_ref().map(|a| ctx.at(&a.bearer_env)),
        settings: compile_defaults(ctx, &file.defaults),
        registry: Arc::new(compile_clauses(ctx, &file.clauses)),
        assumptions: file.assumptions,
        servers: compile_servers(ctx, &file.servers),
        strict,
        skip_checks,
        vars: Vec::new(),
        env_uses: Vec::new(),
        scenarios: Vec::new(),
        sha256: String::new(),
        named_clauses: Default::default(),
        intern,
    };
    for (name, value) in &file.vars {
        let loc = ctx.at(value);
        let Some(t) = compile_value(ctx, &value.value, &loc) else {
            continue;
        };
        for tpl in t.templates() {
            for v in tpl.vars() {
                ctx.error(
                    loc.clone(),
                    format!("suite variable `{name}` uses `{{{{ {v} }}}}`: suite variables may use `{{{{ env.NAME }}}}` only"),
                );
            }
            suite.env_uses.extend(tpl.env_vars().map(|e| EnvUse {
                name: e.to_owned(),
                location: loc.clone(),
                source: ctx.source.clone(),
            }));
        }
        check_var_name(ctx, name, &loc);
        suite.vars.push((name.clone(), t));
    }
    suite
}

/// The registry of `clauses:`: ids unique and well-formed, statements
/// given, guards only on preconditions and naming clauses of the registry
/// that are not preconditions.
fn compile_clauses(ctx: &mut FileCtx<'_>, specs: &[Located<ClauseSpec>]) -> Registry {
    let mut clauses: Vec<Clause> = Vec::new();
    // The spec each kept clause comes from.
    let mut kept: Vec<&ClauseSpec> = Vec::new();
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for spec in specs {
        let c = &spec.value;
        let id = c.id.value.trim();
        let loc = ctx.at(&c.id);
        if id.is_empty()
            || !id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
        {
            ctx.error(
                loc,
                format!(
                    "clause id `{id}` must be letters, digits, `_`, `-` or `.` (like `D2` or `A4`)"
                ),
            );
            continue;
        }
        if let Some(line) = seen.get(id) {
            ctx.error(
                loc,
                format!("clause `{id}` is already declared at line {line}; ids must be unique"),
            );
            continue;
        }
        seen.insert(id.to_owned(), loc.line);
        if c.statement.trim().is_empty() {
            let l = ctx.at(spec);
            ctx.error(l, format!("clause `{id}` needs a `statement`"));
        }
        if c.level != Level::Precondition
            && let Some(g) = c.guards.first()
        {
            let l = ctx.at(g);
            ctx.error(
                l,
                format!("only a precondition guards clauses; `{id}` is {}", c.level),
            );
        }
        clauses.push(Clause {
            id: id.into(),
            level: c.level,
            statement: c.statement.split_whitespace().collect::<Vec<_>>().join(" "),
            source: c.source.clone(),
            guards: Vec::new(),
        });
        kept.push(c);
    }
    let levels: BTreeMap<String, Level> = clauses
        .iter()
        .map(|c| (c.id.to_string(), c.level))
        .collect();
    for (spec, clause) in kept.into_iter().zip(clauses.iter_mut()) {
        if clause.level != Level::Precondition {
            continue;
        }
        for g in &spec.guards {
            let loc = ctx.at(g);
            match levels.get(g.value.as_str()) {
                Some(Level::Precondition) => ctx.error(
                    loc,
                    format!("`{}` is a precondition; a precondition guards documented clauses and assumptions", g.value),
                ),
                Some(_) => clause.guards.push(g.value.as_str().into()),
                None => {
                    let hint = did_you_mean_hint(&g.value, levels.keys().map(String::as_str));
                    ctx.error(loc, format!("unknown clause `{}`{hint}", g.value));
                }
            }
        }
    }
    Registry::new(clauses)
}

fn compile_defaults(ctx: &mut FileCtx<'_>, d: &Defaults) -> Settings {
    let base = Settings::default();
    Settings {
        request_timeout: d.request_timeout.map_or(base.request_timeout, |x| x.0),
        connect_timeout: d.connect_timeout.map_or(base.connect_timeout, |x| x.0),
        max_response_bytes: d.max_response_bytes.unwrap_or(base.max_response_bytes),
        poll: match &d.poll {
            Some(p) => {
                let loc = ctx.at(p);
                compile_poll_settings(ctx, &p.value, &PollPolicy::default(), loc)
            }
            None => PollPolicy::default(),
        },
    }
}

/// The suite's named servers: a name of letters, digits, `-` and `_`; a
/// `url` (http or https) or an `env` variable, or both.
fn compile_servers(
    ctx: &mut FileCtx<'_>,
    servers: &BTreeMap<String, Located<ServerSpec>>,
) -> Vec<ServerPlan> {
    let mut out = Vec::new();
    for (name, spec) in servers {
        let loc = ctx.at(spec);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            ctx.error(
                loc.clone(),
                format!("server name `{name}`: use letters, digits, `-` and `_`"),
            );
        }
        let ServerSpec { url, env } = &spec.value;
        if url.is_none() && env.is_none() {
            ctx.error(
                loc.clone(),
                format!("server `{name}` needs a `url`, an `env` variable holding one, or both"),
            );
        }
        if let Some(u) = url
            && let Err(why) = crate::http::check_base_url(u)
        {
            ctx.error(loc.clone(), format!("server `{name}`: {why}"));
        }
        out.push(ServerPlan {
            name: name.clone(),
            url: url.clone(),
            env: env.clone(),
            location: loc,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::case::{Action, Mode, Suite, load_suite};
    use crate::clause::Level;

    fn bundled() -> Suite {
        load_suite(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"))).unwrap()
    }

    #[test]
    fn clauses_resolve_with_their_level_and_blocks_keep_their_own() {
        let suite = bundled();
        assert_eq!(suite.registry.clauses().len(), 23);
        let p2 = suite.registry.get("P2").unwrap();
        assert_eq!(p2.level, Level::Precondition);
        let guards: Vec<&str> = p2.guards.iter().map(|g| &**g).collect();
        assert_eq!(guards, ["D2", "D3", "D4"]);
        assert!(suite.unexercised_clauses().is_empty());
        assert_eq!(suite.sha256.len(), 64);
        // Every check of the bundled suite names its clause: each step does.
        for sc in &suite.scenarios {
            for step in sc.steps.iter().chain(&sc.finally) {
                assert!(step.clause.is_some(), "{} / {}", sc.id, step.name);
            }
        }
        let flagship = &suite.scenarios[0];
        let declared: Vec<&str> = flagship.clauses.iter().map(|c| &*c.id).collect();
        assert_eq!(declared, ["D5", "A2", "A3"]);
        // The in-progress check: a precondition step whose first block names D1.
        let step = &flagship.steps[1];
        assert_eq!(
            step.clause.as_ref().map(|c| c.level),
            Some(Level::Precondition)
        );
        let ids: Vec<&str> = step.clauses.iter().map(|c| &*c.id).collect();
        assert_eq!(ids, ["P2", "D1"]);
        let Action::Request(rs) = &step.action else {
            panic!("a request step")
        };
        let blocks: Vec<Option<&str>> = rs
            .expect
            .iter()
            .map(|e| e.clause.as_ref().map(|c| &*c.id))
            .collect();
        assert_eq!(blocks, [Some("D1"), Some("P2")]);
        assert_eq!(rs.expect[0].status.as_ref().unwrap().1.line, 38);
        assert_eq!(rs.expect[1].json[0].location.line, 40);
        // A poll checks its step's clause.
        let Action::Request(poll) = &flagship.steps[3].action else {
            panic!("a request step")
        };
        let Mode::Poll(plan) = &poll.mode else {
            panic!("a poll")
        };
        assert_eq!(plan.clause.as_ref().map(|c| &*c.id), Some("D3"));
    }
}
