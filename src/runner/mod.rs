//! Running a suite: the stages before anything is sent (`prepare`), the
//! server under test (`target`), the context every scenario shares, the
//! scenario and step executors, and the libtest-mimic harness that makes
//! each scenario a test.

pub mod error;
pub mod exchange;
pub mod finish;
pub mod harness;
pub mod options;
pub mod prepare;
pub mod progress;
pub mod scenario;
pub mod select;
pub mod signals;
pub mod step;
pub mod target;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::check::ContractChecks;
use crate::contract::Contract;
use crate::expr::template::TValue;
use crate::http::Transport;

pub use error::RunError;
pub use harness::run;
pub use options::{
    EmbeddedOptions, Gate, InputOptions, Partition, PolicyOptions, RunOptions, RunOutput,
    Selection, TargetOptions, TransportOptions,
};
pub use scenario::run_scenario;

/// Bodies recorded in failures are cut at this many bytes (64 KiB).
pub use crate::model::SHOWN_BODY_BYTES;

/// What every scenario of a run shares.
#[derive(Debug)]
pub struct RunContext<T: Transport> {
    pub transport: T,
    pub base_url: crate::http::BaseUrl,
    /// The suite's named servers, each URL settled (flag, environment, file).
    pub servers: BTreeMap<String, crate::http::BaseUrl>,
    /// The bearer token (never shown; masked in every output).
    pub token: Option<String>,
    /// The variable named in curl lines in place of the token.
    pub token_env: String,
    /// What every scenario masks from the start: the token, the token
    /// variable's value, the base URL's and named servers' userinfo, and
    /// variables named like secrets (see [`crate::redact`]).
    pub secrets: crate::redact::Redactor,
    pub suite_vars: Vec<(String, TValue)>,
    pub env: Arc<BTreeMap<String, String>>,
    /// The contract every response is checked against, when the suite has one.
    pub contract: Option<Arc<Contract>>,
    /// Which contract checks run.
    pub checks: ContractChecks,
    /// The suite's clauses: the level of what the contract's `x-clause`
    /// names, and what an unmet precondition guards.
    pub registry: Arc<crate::clause::Registry>,
    /// Replaces every poll's `timeout` (`--poll-timeout`).
    pub poll_timeout: Option<std::time::Duration>,
    /// Becomes true on Ctrl-C: the current step stops, `finally` still runs.
    pub interrupt: tokio::sync::watch::Receiver<bool>,
    /// Where the whole of a failing step's cut request body is written
    /// (`bodies/` of the reports folder); none without a reports folder.
    pub bodies: Option<Arc<crate::report::bodies::Staging>>,
}

impl<T: Transport> RunContext<T> {
    /// Where a request naming `server` goes: that named server, else the base URL.
    pub fn base(&self, server: Option<&str>) -> &crate::http::BaseUrl {
        server
            .and_then(|s| self.servers.get(s))
            .unwrap_or(&self.base_url)
    }
}

/// Resolves when the run is interrupted (never, once the sender is gone).
pub async fn interrupted(rx: &mut tokio::sync::watch::Receiver<bool>) {
    if rx.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests;
