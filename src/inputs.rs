//! The input stage of `conform run` and `conform lint`: the suite, the
//! contract (`spec` overrides the suite's), every request step linted
//! against the contract (see [`crate::lint`]), and the environment the suite
//! needs. Every problem of all of them is gathered into one report.
//!
//! The contract is read and checked on a thread of its own while the
//! scenario files are read and parsed, and the validators' shared start
//! ([`crate::contract::prepare_validation`]) is built on another: the
//! first scenario to lint waits for the contract. Its problems are placed
//! where reading it first would have put them, before the scenarios'.

use std::collections::BTreeMap;
use std::path::Path;

use crate::case::{Diagnostics, Suite};
use crate::contract::{Contract, ContractErrors};
use crate::lint;

type Read = Result<Contract, ContractErrors>;

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
    // The contract's problems come before the scenarios' (see the module
    // documentation).
    let at = loader.problem_count();
    let suite_vars = loader.suite().map(|s| s.vars.clone()).unwrap_or_default();
    let read = std::thread::scope(|scope| {
        let reading = std::sync::Mutex::new(spec.as_deref().map(|path| match start(scope, path) {
            Some(thread) => Pending::Reading(thread),
            None => Pending::Read(Box::new(crate::contract::load(path))),
        }));
        // The first scenario to lint (on whichever loading thread) waits
        // for the contract; the others wait for that one.
        let read: std::sync::OnceLock<Option<Read>> = std::sync::OnceLock::new();
        let contract = || read.get_or_init(|| finish(&reading)).as_ref();
        loader.load_scenarios(&|sc, source| match contract() {
            Some(Ok(c)) => lint::lint_scenario(&suite_vars, sc, c, source),
            _ => Vec::new(),
        });
        contract();
        read.into_inner().flatten()
    });
    let contract = match read {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(errors)) => {
            loader.insert_problems(at, errors.to_diagnostics());
            None
        }
    };
    if let (Some(c), Some(suite)) = (&contract, loader.suite()) {
        let problems = lint::contract_clauses(c, &suite.registry);
        loader.insert_problems(at, problems);
    }
    let suite = loader.finish()?;
    let missing = crate::case::missing_env(&suite, env);
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(Inputs { suite, contract })
}

/// The contract at `path`, being read on a thread of its own (`None` when
/// no thread can be started), with the validators' shared start built on
/// another.
fn start<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    path: &'scope Path,
) -> Option<std::thread::ScopedJoinHandle<'scope, Read>> {
    let thread = |name: &str| std::thread::Builder::new().name(name.into());
    let _ = thread("conform-validation").spawn_scoped(scope, crate::contract::prepare_validation);
    thread("conform-contract")
        .spawn_scoped(scope, move || crate::contract::load(path))
        .ok()
}

/// The contract being read on a thread of its own, or read already.
enum Pending<'scope> {
    Reading(std::thread::ScopedJoinHandle<'scope, Read>),
    Read(Box<Read>),
}

/// The contract once read: waits for the thread reading it.
fn finish(pending: &std::sync::Mutex<Option<Pending<'_>>>) -> Option<Read> {
    let taken = pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()?;
    Some(match taken {
        Pending::Reading(thread) => thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Pending::Read(read) => *read,
    })
}

/// Whether the reader of common YAML shapes and serde-saphyr read `text`
/// alike as each type read from YAML: any value, a scenario file,
/// `conform.yaml` and a contract (`Ok(true)` when the fast reader read it
/// as any value, `Ok(false)` when it left it to serde-saphyr, otherwise how
/// the two differ). For the tests and the `yaml_reader` fuzz target.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn yaml_readers_agree(text: &str) -> Result<bool, String> {
    use crate::case::model::{ScenarioFile, SuiteFile};
    use crate::yaml::agreement::{At, check};
    let any = check::<At>(text)?;
    check::<ScenarioFile>(text)?;
    check::<SuiteFile>(text)?;
    check::<crate::contract::tree::Node>(text)?;
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture suite `name` (tests/fixtures/invalid), with a scenario
    /// file before its own that does not parse.
    fn with_a_broken_scenario(name: &str) -> tempfile::TempDir {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/invalid")
            .join(name);
        let dir = tempfile::tempdir().unwrap();
        for f in ["conform.yaml", "openapi.yaml", "01_scenario.yaml"] {
            std::fs::copy(from.join(f), dir.path().join(f)).unwrap();
        }
        std::fs::write(dir.path().join("00_broken.yaml"), "name: [\n").unwrap();
        dir
    }

    #[test]
    fn the_contracts_problems_come_before_the_scenarios_though_read_alongside() {
        // A contract that does not load; one whose marks name no clause.
        for fixture in ["contract_dangling_ref", "clause_unknown_in_contract"] {
            let dir = with_a_broken_scenario(fixture);
            let problems = load(dir.path(), None, &BTreeMap::new()).unwrap_err().0;
            let files: Vec<&str> = problems
                .iter()
                .map(|d| d.location.file.rsplit('/').next().unwrap_or_default())
                .collect();
            assert_eq!(files, ["openapi.yaml", "00_broken.yaml"], "{fixture}");
        }
    }
}
