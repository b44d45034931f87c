//! What `conform run` is asked to do, grouped by job, with documented
//! defaults.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::model::RunResult;
use crate::report::ReportOptions;

pub use super::error::RunError;
pub use super::target::EmbeddedOptions;
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

/// Everything `conform run` needs besides libtest's arguments, by job.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// What is read: the suite, the contract, the environment.
    pub inputs: InputOptions,
    /// Where requests go, and with which token.
    pub target: TargetOptions,
    /// How requests are sent: timeouts, TLS, size cap.
    pub transport: TransportOptions,
    /// Which scenarios run.
    pub select: Selection,
    /// What fails the run.
    pub policy: PolicyOptions,
    /// Where reports are written (default the `reports` folder); `None`
    /// writes none. Its `coverage_table` also sets the terminal's.
    pub reports: Option<ReportOptions>,
    /// Run only these contract checks (all by default).
    pub only_checks: Vec<crate::check::ContractCheck>,
    /// Contract checks not to run (besides the suite's `checks.skip`).
    pub skip_checks: Vec<crate::check::ContractCheck>,
    /// Also flag undocumented response properties.
    pub strict: bool,
    /// Stop on Ctrl-C: start no new scenario, run cleanups, write reports, exit 130
    /// (default false for library use; the command line turns it on).
    pub handle_ctrl_c: bool,
    /// Print the embedded server's address, the coverage and gate
    /// messages besides libtest's output (default true).
    pub print_summary: bool,
}

/// What a run reads.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// The suite folder (default `cases`).
    pub cases: PathBuf,
    /// A contract file instead of the suite's `spec`.
    pub spec: Option<PathBuf>,
    /// The environment (`{{ env.NAME }}` and the token variable; default
    /// the process's).
    pub env: BTreeMap<String, String>,
}

/// The server under test.
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    /// The server under test; `None` starts the embedded reference server.
    pub base_url: Option<String>,
    /// `--server NAME=URL`: the URL of a named server of the suite.
    pub servers: Vec<(String, String)>,
    /// A file holding the bearer token (instead of the suite's environment
    /// variable), read up to [`crate::input::MAX_TOKEN_FILE_BYTES`].
    pub token_file: Option<PathBuf>,
    /// The embedded reference server's settings (refused beside a base URL).
    pub embedded: EmbeddedOptions,
}

/// How requests are sent.
#[derive(Debug, Clone, Default)]
pub struct TransportOptions {
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
}

/// Which scenarios a run selects (libtest's filters aside).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Run only scenarios with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Skip scenarios with any of these tags.
    pub skip_tags: Vec<String>,
    /// Run one partition of the scenarios (default all).
    pub partition: Option<Partition>,
}

/// What fails a run besides a broken documented clause, and what retries it.
#[derive(Debug, Clone, Default)]
pub struct PolicyOptions {
    /// Which failures fail the run (default all).
    pub gate: Gate,
    /// An earlier `report.json` to compare with (default none), read by
    /// [`crate::report::json::read`].
    pub baseline: Option<PathBuf>,
    /// Exit 4 when contract coverage is below this percentage.
    pub min_coverage: Option<f64>,
    /// Exit 4 when fewer than this percentage of the documented clauses
    /// are met (default none).
    pub min_clauses: Option<f64>,
    /// Whether deviations from assumptions fail the run (default: the
    /// suite's `assumptions:`, else lenient).
    pub assumptions: Option<crate::clause::Assumptions>,
    /// Rerun a failed scenario up to this many times (default 0).
    pub retries: u32,
    /// A scenario that passed only on a rerun fails the run (default false).
    pub fail_on_flaky: bool,
}

impl RunOptions {
    /// Refuses settings that would make a green run mean nothing, or that
    /// can never work: a blank base URL (an unset CI variable is an empty
    /// string), gates that are not a percentage, zero timeouts and limits,
    /// and embedded-server settings beside a base URL.
    pub fn check(&self, test_threads: Option<usize>) -> Result<(), RunError> {
        let refused = |flag, why: String| Err(RunError::Option { flag, why });
        if let Some(url) = &self.target.base_url
            && url.trim().is_empty()
        {
            return Err(RunError::BlankBaseUrl);
        }
        for (flag, pct) in [
            ("--min-coverage", self.policy.min_coverage),
            ("--min-clauses", self.policy.min_clauses),
        ] {
            if let Some(p) = pct
                && !(p.is_finite() && (0.0..=100.0).contains(&p))
            {
                return refused(flag, format!("{p}: give a percentage from 0 to 100"));
            }
        }
        let t = &self.transport;
        for (flag, d) in [
            ("--connect-timeout", t.connect_timeout),
            ("--request-timeout", t.request_timeout),
            ("--poll-timeout", t.poll_timeout),
        ] {
            if d.is_some_and(|d| d.is_zero()) {
                return refused(flag, "0: give a duration above zero, e.g. 10s".into());
            }
        }
        if let Some(d) = t.poll_timeout
            && d > crate::case::compile::MAX_POLL_TIMEOUT
        {
            return refused(
                "--poll-timeout",
                format!(
                    "{}: a poll must end; give at most {}",
                    humantime::format_duration(d),
                    humantime::format_duration(crate::case::compile::MAX_POLL_TIMEOUT)
                ),
            );
        }
        if t.max_response_bytes == Some(0) {
            return refused(
                "--max-response-bytes",
                "0: no response could be read; give a size above zero".into(),
            );
        }
        if test_threads == Some(0) {
            return refused("--test-threads", "0: give at least 1".into());
        }
        if self.target.base_url.is_some() {
            let beside =
                ", but --base-url (or BASE_URL) runs against another one: drop one of them";
            if !self.target.embedded.faults.is_empty() {
                return refused(
                    "--server-fault",
                    format!("breaks the embedded reference server{beside}"),
                );
            }
            if self.target.embedded.lifecycle.is_some() {
                return refused(
                    "--server-lifecycle",
                    format!("sets the embedded reference server{beside}"),
                );
            }
        }
        Ok(())
    }

    /// Defaults: `cases`, `reports`, the embedded server, the process environment.
    pub fn new() -> RunOptions {
        RunOptions {
            inputs: InputOptions::new(),
            target: TargetOptions::default(),
            transport: TransportOptions::default(),
            select: Selection::default(),
            policy: PolicyOptions::default(),
            reports: Some(ReportOptions::in_dir("reports")),
            only_checks: Vec::new(),
            skip_checks: Vec::new(),
            strict: false,
            handle_ctrl_c: false,
            print_summary: true,
        }
    }

    /// Whether the run starts the embedded reference server (no base URL).
    pub fn embedded(&self) -> bool {
        self.target.base_url.is_none()
    }

    /// The coverage lists every operation of the contract, not only those
    /// the run touched (the reports' `coverage_table`).
    pub fn coverage_table(&self) -> bool {
        self.reports.as_ref().is_some_and(|r| r.coverage_table)
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl InputOptions {
    /// Defaults: `cases`, the suite's contract, the process environment.
    pub fn new() -> InputOptions {
        InputOptions {
            cases: PathBuf::from("cases"),
            spec: None,
            env: std::env::vars().collect(),
        }
    }
}

impl Default for InputOptions {
    fn default() -> Self {
        Self::new()
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
