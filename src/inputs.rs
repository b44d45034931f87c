//! The input stage of `conform run` and `conform lint`: the suite, the
//! contract (`spec` overrides the suite's), every request step linted
//! against the contract (see [`crate::lint`]), and the environment the suite
//! needs. Every problem of all of them is gathered into one report.

use std::collections::BTreeMap;
use std::path::Path;

use crate::case::{Diagnostics, Suite};
use crate::contract::Contract;
use crate::lint;

/// What a run reads before anything is sent, checked.
#[derive(Debug)]
pub struct Inputs {
    pub suite: Suite,
    /// The contract, when the suite or `spec` names one.
    pub contract: Option<Contract>,
}

/// Loads and checks the inputs: the suite in `cases`, the contract, every
/// request step against the contract (each scenario while its plan is in
/// memory), and the variables of `env` the suite needs.
pub fn load(
    cases: &Path,
    spec: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Result<Inputs, Diagnostics> {
    let mut loader = crate::case::load::Loader::open(cases);
    // A missing `spec:` file is already reported by the loader.
    let spec = spec.map(Path::to_path_buf).or_else(|| {
        loader
            .suite()
            .and_then(|s| s.spec.clone())
            .filter(|p| p.is_file())
    });
    let contract = match spec.as_deref().map(crate::contract::load) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(errors)) => {
            loader.add_problems(errors.to_diagnostics());
            None
        }
    };
    if let (Some(c), Some(suite)) = (&contract, loader.suite()) {
        let problems = lint::contract_clauses(c, &suite.registry);
        loader.add_problems(problems);
    }
    let suite_vars = loader.suite().map(|s| s.vars.clone()).unwrap_or_default();
    loader.load_scenarios(&|sc, source| match &contract {
        Some(c) => lint::lint_scenario(&suite_vars, sc, c, source),
        None => Vec::new(),
    });
    let suite = loader.finish()?;
    let missing = crate::case::missing_env(&suite, env);
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(Inputs { suite, contract })
}
