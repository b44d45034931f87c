//! What `conform run` is asked to do, with documented defaults, and how it
//! can fail to start.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::diag::Diagnostics;
use crate::exit_code;
use crate::model::RunResult;
use crate::server::Fault;

pub use crate::model::Gate;

/// One partition of N (`K/N`, 1 ≤ K ≤ N): each scenario falls in exactly one,
/// chosen by a stable hash of its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub k: u32,
    pub n: u32,
}

impl std::str::FromStr for Partition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a partition: write K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Partition { k, n })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl Partition {
    /// Whether scenario `id` belongs to this partition: FNV-1a 64 of the id,
    /// mixed by MurmurHash3's finaliser (FNV's low bits alone split badly),
    /// mod N. Stable across versions, platforms and runs.
    pub fn contains(&self, id: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        h % u64::from(self.n) == u64::from(self.k - 1)
    }
}

/// Everything `conform run` needs besides libtest's arguments.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The suite folder (default `cases`).
    pub cases: PathBuf,
    /// The server under test; `None` starts the embedded reference server.
    pub base_url: Option<String>,
    /// A file holding the bearer token (instead of the suite's environment
    /// variable), read up to [`crate::input::MAX_TOKEN_FILE_BYTES`].
    pub token_file: Option<PathBuf>,
    /// Overrides the suite's connect timeout.
    pub connect_timeout: Option<Duration>,
    /// Overrides the suite's request timeout.
    pub request_timeout: Option<Duration>,
    /// Overrides the suite's response size cap.
    pub max_response_bytes: Option<u64>,
    /// Overrides every poll's deadline.
    pub poll_timeout: Option<Duration>,
    /// Trust only this CA (PEM).
    pub cacert: Option<PathBuf>,
    /// Skip TLS verification.
    pub insecure: bool,
    /// Where reports are written (default `reports`); `None` writes none.
    pub reports: Option<PathBuf>,
    /// An extra path for the JUnit file (default none).
    pub junit: Option<PathBuf>,
    /// Add `file` and `line` to JUnit test cases (default false: strict Jenkins XSD).
    pub junit_file_line: bool,
    /// Run only scenarios with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Skip scenarios with any of these tags.
    pub skip_tags: Vec<String>,
    /// Run one partition of the scenarios (default all).
    pub partition: Option<Partition>,
    /// Rerun a failed scenario up to this many times (default 0).
    pub retries: u32,
    /// A scenario that passed only on a rerun fails the run (default false).
    pub fail_on_flaky: bool,
    /// An earlier `report.json` to compare with (default none), read by
    /// [`crate::report::json::read`].
    pub baseline: Option<PathBuf>,
    /// Which failures fail the run (default all).
    pub gate: Gate,
    /// The embedded server's lifecycle (its default when `None`).
    pub server_lifecycle: Option<Duration>,
    /// Fault modes of the embedded server.
    pub server_faults: Vec<Fault>,
    /// The environment (`{{ env.NAME }}` and the token variable).
    pub env: BTreeMap<String, String>,
    /// `--server NAME=URL`: the URL of a named server of the suite.
    pub servers: Vec<(String, String)>,
    /// A contract file instead of the suite's `spec`.
    pub spec: Option<PathBuf>,
    /// Run only these contract checks (all by default).
    pub only_checks: Vec<crate::check::ContractCheck>,
    /// Contract checks not to run (besides the suite's `checks.skip`).
    pub skip_checks: Vec<crate::check::ContractCheck>,
    /// Also flag undocumented response properties.
    pub strict: bool,
    /// Exit 4 when contract coverage is below this percentage.
    pub min_coverage: Option<f64>,
    /// Exit 4 when fewer than this percentage of the documented clauses
    /// are met (default none).
    pub min_clauses: Option<f64>,
    /// Whether deviations from assumptions fail the run (default: the
    /// suite's `assumptions:`, else lenient).
    pub assumptions: Option<crate::clause::Assumptions>,
    /// Stop on Ctrl-C: start no new scenario, run cleanups, write reports, exit 130
    /// (default false for library use; the command line turns it on).
    pub handle_ctrl_c: bool,
    /// Print the embedded server's address, the coverage and gate
    /// messages besides libtest's output (default true).
    pub print_summary: bool,
    /// List every operation of the contract in the coverage, on the
    /// terminal and in summary.md, not only those the run touched (default
    /// false).
    pub coverage_table: bool,
}

impl RunOptions {
    /// Refuses settings that would make a green run mean nothing, or that
    /// can never work: a blank base URL (an unset CI variable is an empty
    /// string), gates that are not a percentage, zero timeouts and limits,
    /// and embedded-server settings beside a base URL.
    pub fn check(&self, test_threads: Option<usize>) -> Result<(), RunError> {
        let usage = |m: String| Err(RunError::Usage(m));
        if let Some(url) = &self.base_url
            && url.trim().is_empty()
        {
            return usage("the base URL is set but blank (BASE_URL or --base-url): give the URL of the server under test, or unset it to run against the embedded reference server".into());
        }
        for (flag, pct) in [
            ("--min-coverage", self.min_coverage),
            ("--min-clauses", self.min_clauses),
        ] {
            if let Some(p) = pct
                && !(p.is_finite() && (0.0..=100.0).contains(&p))
            {
                return usage(format!("{flag} {p}: give a percentage from 0 to 100"));
            }
        }
        for (flag, d) in [
            ("--connect-timeout", self.connect_timeout),
            ("--request-timeout", self.request_timeout),
            ("--poll-timeout", self.poll_timeout),
        ] {
            if d.is_some_and(|d| d.is_zero()) {
                return usage(format!("{flag} 0: give a duration above zero, e.g. 10s"));
            }
        }
        if let Some(d) = self.poll_timeout
            && d > crate::case::compile::MAX_POLL_TIMEOUT
        {
            return usage(format!(
                "--poll-timeout {}: a poll must end; give at most {}",
                humantime::format_duration(d),
                humantime::format_duration(crate::case::compile::MAX_POLL_TIMEOUT)
            ));
        }
        if self.max_response_bytes == Some(0) {
            return usage(
                "--max-response-bytes 0: no response could be read; give a size above zero".into(),
            );
        }
        if test_threads == Some(0) {
            return usage("--test-threads 0: give at least 1".into());
        }
        if self.base_url.is_some() {
            if !self.server_faults.is_empty() {
                return usage("--server-fault breaks the embedded reference server, but --base-url (or BASE_URL) runs against another one: drop one of them".into());
            }
            if self.server_lifecycle.is_some() {
                return usage("--server-lifecycle sets the embedded reference server, but --base-url (or BASE_URL) runs against another one: drop one of them".into());
            }
        }
        Ok(())
    }

    /// Defaults: `cases`, `reports`, the embedded server, the process environment.
    pub fn new() -> RunOptions {
        RunOptions {
            cases: PathBuf::from("cases"),
            base_url: None,
            token_file: None,
            connect_timeout: None,
            request_timeout: None,
            max_response_bytes: None,
            poll_timeout: None,
            cacert: None,
            insecure: false,
            reports: Some(PathBuf::from("reports")),
            junit: None,
            junit_file_line: false,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            partition: None,
            retries: 0,
            fail_on_flaky: false,
            baseline: None,
            gate: Gate::All,
            server_lifecycle: None,
            server_faults: Vec::new(),
            env: std::env::vars().collect(),
            servers: Vec::new(),
            spec: None,
            only_checks: Vec::new(),
            skip_checks: Vec::new(),
            strict: false,
            min_coverage: None,
            min_clauses: None,
            assumptions: None,
            handle_ctrl_c: false,
            print_summary: true,
            coverage_table: false,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Case files or the contract are invalid (exit 2).
    #[error("{0}")]
    Cases(Diagnostics),
    /// A bad option: URL, token, CA file, baseline (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The harness itself failed: runtime, embedded server, reports (exit 3).
    #[error("{0}")]
    Harness(String),
}

impl RunError {
    /// The error with what `red` knows masked in its text: a token written
    /// in a case file shows in the excerpt of a problem there, a URL's
    /// userinfo in a message about it. Exit codes are kept.
    pub fn masked(self, red: &crate::redact::Redactor) -> RunError {
        let text = self.to_string();
        let std::borrow::Cow::Owned(masked) = red.redact(&text) else {
            return self;
        };
        match self {
            RunError::Harness(_) => RunError::Harness(masked),
            RunError::Cases(_) | RunError::Usage(_) => RunError::Usage(masked),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Cases(_) | RunError::Usage(_) => exit_code::INVALID_INPUT,
            RunError::Harness(_) => exit_code::RUNTIME_ERROR,
        }
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct RunOutput {
    pub result: RunResult,
    pub exit_code: u8,
    /// Requests the embedded server received (0 against another server).
    pub embedded_requests: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_parse_and_split_every_id_into_exactly_one() {
        assert!("0/3".parse::<Partition>().is_err());
        assert!("4/3".parse::<Partition>().is_err());
        assert!("x".parse::<Partition>().is_err());
        let ids: Vec<String> = (0..200).map(|i| format!("f{i}::scenario {i}")).collect();
        for n in 1..=5u32 {
            let parts: Vec<Partition> = (1..=n).map(|k| Partition { k, n }).collect();
            for id in &ids {
                assert_eq!(
                    parts.iter().filter(|p| p.contains(id)).count(),
                    1,
                    "{id} in {n}"
                );
            }
            // Not all in one partition.
            if n > 1 {
                assert!(parts.iter().all(|p| ids.iter().any(|id| p.contains(id))));
            }
        }
    }
}
