//! The command line: clap types live here and nowhere else; each command is
//! turned into library options and run.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::ContractCheck;
use crate::exit_code;
use crate::runner::{self, RunOptions};
use crate::server::Fault;

const HELP_TEMPLATE: &str =
    "{before-help}{name} {version}\n{about}\n\n{usage-heading} {usage}\n\n{all-args}{after-help}";

/// Contract conformance harness: YAML scenarios against any base URL,
/// checked against an OpenAPI contract.
#[derive(Debug, Parser)]
#[command(name = "conform", version, about, help_template = HELP_TEMPLATE)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the suite (the main job). Without --base-url, against the embedded reference server.
    Run(Box<RunArgs>),
    /// Run the reference server alone.
    Serve(ServeArgs),
    /// Check the case files without sending anything.
    Lint(LintArgs),
    /// Print the JSON Schema of the case format.
    Schema(SchemaArgs),
    /// Compare two runs (report.json files) and write the regression reports.
    Diff(DiffArgs),
    /// Merge the reports of sharded runs into one set of reports.
    Merge(MergeArgs),
    /// Prove the suite can fail: run it against the reference server in every fault mode.
    Selfcheck(SelfcheckArgs),
}

#[derive(Debug, Args)]
pub struct SelfcheckArgs {
    /// The suite folder.
    #[arg(long, value_name = "DIR", default_value = "cases")]
    pub cases: PathBuf,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline run's report.json.
    pub old: PathBuf,
    /// Today's run's report.json.
    pub new: PathBuf,
    /// Where the reports of NEW, with the regression section, are written.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// Add `file` and `line` attributes to JUnit test cases.
    #[arg(long)]
    pub junit_file_line: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The report.json files of the shards (with --retries: of the attempts, oldest first).
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Where the merged reports are written.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Merge reports checked against different contracts.
    #[arg(long)]
    pub allow_different_contracts: bool,
    /// The reports are successive attempts of one run, oldest first: the later
    /// result of a scenario wins, and one that failed and then passed is flaky.
    /// Without it a scenario in two reports is refused.
    #[arg(long)]
    pub retries: bool,
    /// Add the regression section against this earlier report.json.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Add `file` and `line` attributes to JUnit test cases.
    #[arg(long)]
    pub junit_file_line: bool,
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration like 500ms or 10s: {e}"))
}

fn assumptions(s: &str) -> Result<crate::clause::Assumptions, String> {
    s.parse()
}

fn fault(s: &str) -> Result<Fault, String> {
    s.parse::<Fault>().map_err(|e| e.to_string())
}

/// A contract check's name, refused with "did you mean" and the list.
fn contract_check(s: &str) -> Result<ContractCheck, String> {
    ContractCheck::from_name(s).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
#[command(help_template = HELP_TEMPLATE, disable_version_flag = true, after_help = "")]
#[command(mut_arg("test_threads", |a| a.help(
    "How many scenarios run at once (default 16); lines are printed in file order either way."
)))]
pub struct RunArgs {
    /// Base URL of the server under test (a path prefix is kept). Default: the embedded reference server.
    #[arg(long, env = "BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// The URL of a named server of the suite (`servers:` in conform.yaml), e.g. `--server uploads=https://uploads.example`; repeatable.
    #[arg(long = "server", value_name = "NAME=URL", value_parser = parse_server)]
    pub servers: Vec<(String, String)>,
    /// Read the bearer token from this file instead of the environment variable the suite names (`auth: { bearer_env: NAME }`).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The suite folder.
    #[arg(long, value_name = "DIR", default_value = "cases")]
    pub cases: PathBuf,
    /// The OpenAPI contract (default: the suite's `spec`).
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Run only this contract check (repeatable): undocumented_status, content_type, response_schema, undocumented_property.
    #[arg(long = "check", value_name = "NAME", value_parser = contract_check)]
    pub checks: Vec<ContractCheck>,
    /// Do not run this contract check (repeatable).
    #[arg(long = "skip-check", value_name = "NAME", value_parser = contract_check)]
    pub skip_checks: Vec<ContractCheck>,
    /// Also flag response properties the contract does not document (undocumented_property).
    #[arg(long)]
    pub strict: bool,
    /// Exit 4 when fewer than PCT percent of the contract's documented responses were exercised.
    #[arg(long, value_name = "PCT")]
    pub min_coverage: Option<f64>,
    /// List every operation of the contract in the coverage (terminal, and folded in summary.md),
    /// not only those the run touched.
    #[arg(long)]
    pub coverage_table: bool,
    /// Exit 4 when fewer than PCT percent of the suite's documented clauses are met.
    #[arg(long, value_name = "PCT")]
    pub min_clauses: Option<f64>,
    /// `strict`: a deviation from an assumption fails the run (for a gate on your own
    /// deployment); `lenient` reports it and passes. Default: the suite's `assumptions:`, else lenient.
    #[arg(long, value_name = "MODE", value_parser = assumptions)]
    pub assumptions: Option<crate::clause::Assumptions>,
    /// Where report.json, junit.xml, report.html and summary.md are written.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,
    /// Also write the JUnit report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Add `file` and `line` attributes to JUnit test cases (GitLab, GitHub); not valid against the strict Jenkins schema.
    #[arg(long)]
    pub junit_file_line: bool,
    /// Run one partition K of N (by a stable hash of the scenario id), e.g. 2/4.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<crate::runner::Partition>,
    /// Rerun a failed scenario up to N times; one that then passes is reported flaky.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// A flaky scenario fails the run.
    #[arg(long)]
    pub fail_on_flaky: bool,
    /// Compare with an earlier report.json: new failures, fixed, still failing, added, removed.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Which failures fail the run: all, or only regressions against --baseline.
    #[arg(long, value_enum, default_value = "all")]
    pub gate: GateArg,
    /// Time allowed to connect (default: the suite's, else 5s).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub connect_timeout: Option<Duration>,
    /// Time allowed for one request, connect to last byte (default: the suite's, else 10s).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub request_timeout: Option<Duration>,
    /// Largest response body read, in bytes (default: the suite's, else 10 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_response_bytes: Option<u64>,
    /// Deadline of every poll, replacing the cases' `timeout` (default: theirs).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub poll_timeout: Option<Duration>,
    /// Trust only the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify TLS certificates.
    #[arg(long)]
    pub insecure: bool,
    /// Run only scenarios with this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Skip scenarios with this tag (repeatable).
    #[arg(long = "skip-tag", value_name = "TAG")]
    pub skip_tags: Vec<String>,
    /// Embedded server only: time from create to DONE (default 1s).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub server_lifecycle: Option<Duration>,
    /// Embedded server only: break one clause of the contract (repeatable; see `conform serve --help`).
    #[arg(long = "server-fault", value_name = "NAME", value_parser = fault)]
    pub server_faults: Vec<Fault>,
    #[command(flatten)]
    pub test: libtest_mimic::Arguments,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// File holding the bearer token clients must send (default: the reference server's
    /// environment variable, `server::TOKEN_ENV`).
    #[arg(long, value_name = "FILE", help = format!(
        "File holding the bearer token clients must send (default: the {} environment variable)",
        crate::server::TOKEN_ENV
    ))]
    pub token_file: Option<PathBuf>,
    /// Time from create to DONE; 0s answers DONE at once.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "1s")]
    pub lifecycle: Duration,
    /// Break one clause of the contract, or vary within it (repeatable): see --list-faults.
    #[arg(long = "fault", value_name = "NAME", value_parser = fault)]
    pub faults: Vec<Fault>,
    /// List the fault modes and exit.
    #[arg(long)]
    pub list_faults: bool,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The suite folder.
    #[arg(long, value_name = "DIR", default_value = "cases")]
    pub cases: PathBuf,
    /// The OpenAPI contract (default: the suite's `spec`).
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GateArg {
    /// Every failing scenario fails the run.
    All,
    /// Only scenarios that fail now and did not in the baseline.
    Regressions,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// A scenario file.
    Scenario,
    /// The suite settings file (conform.yaml).
    Suite,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which file's schema.
    #[arg(value_enum, default_value = "scenario")]
    pub kind: SchemaKind,
}

/// Runs the parsed command; returns the exit code.
pub fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Run(a) => run(*a),
        Command::Serve(a) => serve(a),
        Command::Lint(a) => lint(a),
        Command::Diff(a) => diff(a),
        Command::Merge(a) => merge(a),
        Command::Selfcheck(a) => selfcheck(a),
        Command::Schema(a) => {
            println!(
                "{}",
                crate::schema::json(matches!(a.kind, SchemaKind::Suite))
            );
            exit_code::PASSED
        }
    }
}

/// `NAME=URL` of `--server`.
fn parse_server(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, url)) if !name.trim().is_empty() && !url.trim().is_empty() => {
            Ok((name.trim().to_owned(), url.trim().to_owned()))
        }
        _ => Err(format!(
            "`{s}`: expected NAME=URL, e.g. uploads=https://uploads.example"
        )),
    }
}

fn run(a: RunArgs) -> u8 {
    let opts = RunOptions {
        inputs: runner::InputOptions {
            cases: a.cases,
            spec: a.spec,
            ..runner::InputOptions::new()
        },
        target: runner::TargetOptions {
            // A BASE_URL set to nothing is still set (clap reads it as absent).
            base_url: a
                .base_url
                .or_else(|| std::env::var_os("BASE_URL").map(|v| v.to_string_lossy().into_owned())),
            servers: a.servers,
            token_file: a.token_file,
            embedded: runner::EmbeddedOptions {
                lifecycle: a.server_lifecycle,
                faults: a.server_faults,
                ..runner::EmbeddedOptions::default()
            },
        },
        transport: runner::TransportOptions {
            connect_timeout: a.connect_timeout,
            request_timeout: a.request_timeout,
            max_response_bytes: a.max_response_bytes,
            poll_timeout: a.poll_timeout,
            cacert: a.cacert,
            insecure: a.insecure,
        },
        select: runner::Selection {
            tags: a.tags,
            skip_tags: a.skip_tags,
            partition: a.partition,
        },
        policy: runner::PolicyOptions {
            gate: match a.gate {
                GateArg::All => crate::runner::Gate::All,
                GateArg::Regressions => crate::runner::Gate::Regressions,
            },
            baseline: a.baseline,
            min_coverage: a.min_coverage,
            min_clauses: a.min_clauses,
            assumptions: a.assumptions,
            retries: a.retries,
            fail_on_flaky: a.fail_on_flaky,
        },
        reports: Some(crate::report::ReportOptions {
            dir: a.reports,
            junit: a.junit,
            junit_file_line: a.junit_file_line,
            coverage_table: a.coverage_table,
        }),
        only_checks: a.checks,
        skip_checks: a.skip_checks,
        strict: a.strict,
        handle_ctrl_c: true,
        ..RunOptions::new()
    };
    match runner::run(&opts, &a.test) {
        Ok(out) => out.exit_code,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

fn read_report(path: &std::path::Path) -> Result<crate::model::RunResult, u8> {
    crate::report::json::read(path).map_err(|e| {
        eprintln!("{e}");
        exit_code::INVALID_INPUT
    })
}

/// Says which body files a report names that are not beside it.
fn warn_missing_bodies(missing: &[std::path::PathBuf]) {
    for m in missing {
        eprintln!(
            "conform: {} is not there: the curl line that sends it cannot be run from the new reports",
            m.display()
        );
    }
}

fn write_reports(
    result: &crate::model::RunResult,
    out: &std::path::Path,
    junit_file_line: bool,
    bodies: &[crate::report::bodies::BodyFile],
) -> Result<(), u8> {
    let opts = crate::report::ReportOptions {
        dir: out.to_path_buf(),
        junit: None,
        junit_file_line,
        coverage_table: false,
    };
    // Held until the reports are written, as a run holds it.
    let _lock = crate::report::FolderLock::take(out).map_err(|e| {
        eprintln!("{e}");
        match e {
            crate::report::LockError::Busy(_) => exit_code::INVALID_INPUT,
            crate::report::LockError::Io { .. } => exit_code::RUNTIME_ERROR,
        }
    })?;
    match crate::report::write_set(result, &opts, bodies) {
        Ok(written) => {
            for f in written.bodies.iter().chain(&written.reports) {
                println!("wrote {}", f.display());
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("{e}");
            Err(exit_code::RUNTIME_ERROR)
        }
    }
}

fn diff(a: DiffArgs) -> u8 {
    let (old, mut new) = match (read_report(&a.old), read_report(&a.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    // The new run's body files, from beside its report.
    let dir = a.new.parent().unwrap_or(std::path::Path::new(""));
    let (bodies, missing) = crate::report::bodies::adopt(&mut new, dir, &mut Default::default());
    warn_missing_bodies(&missing);
    // Only new failures fail a comparison: the new run's verdict under
    // `--gate regressions`, without its other gates.
    new.policy.gate = crate::model::Gate::Regressions;
    // The set written is the new run's: its run id (a report from before
    // run ids gets one, so that its files carry one).
    if new.run_id.is_empty() {
        new.run_id = crate::model::new_run_id(std::time::SystemTime::now());
    }
    // A new set, written in this conform's format.
    new.format_version = crate::model::FORMAT_VERSION;
    new.policy.min_coverage = None;
    new.policy.min_clauses = None;
    let reg = crate::report::regression::compare(&old, &a.old.display().to_string(), &new);
    print!("{}", crate::report::regression::render(&reg));
    new.regression = Some(reg);
    crate::model::verdict::finalize(&mut new);
    let code = new
        .verdict
        .as_ref()
        .map_or(exit_code::FAILED, |v| v.exit_code);
    match write_reports(&new, &a.out, a.junit_file_line, &bodies) {
        Ok(()) => code,
        Err(c) => c,
    }
}

fn merge(a: MergeArgs) -> u8 {
    let opts = crate::report::merge::MergeOptions {
        allow_different_contracts: a.allow_different_contracts,
        retries: a.retries,
    };
    let crate::report::merge::Merged {
        result: mut merged,
        bodies,
        missing,
    } = match crate::report::merge::merge_files(&a.reports, opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return exit_code::INVALID_INPUT;
        }
    };
    warn_missing_bodies(&missing);
    if let Some(b) = &a.baseline {
        match read_report(b) {
            Ok(base) => {
                merged.regression = Some(crate::report::regression::compare(
                    &base,
                    &b.display().to_string(),
                    &merged,
                ))
            }
            Err(c) => return c,
        }
    }
    crate::model::verdict::finalize(&mut merged);
    println!(
        "merged {} reports: {} scenarios ({})",
        a.reports.len(),
        merged.scenarios.len(),
        crate::report::text::counts(&merged)
    );
    print!("{}", crate::report::text::closing_block(&merged, &[]));
    let code = merged
        .verdict
        .as_ref()
        .map_or(exit_code::FAILED, |v| v.exit_code);
    match write_reports(&merged, &a.out, a.junit_file_line, &bodies) {
        Ok(()) => code,
        Err(c) => c,
    }
}

fn selfcheck(a: SelfcheckArgs) -> u8 {
    eprintln!(
        "conform selfcheck: {} runs of {} against the reference server, {} at a time",
        crate::server::Fault::ALL.len() + 1,
        a.cases.display(),
        crate::selfcheck::RUNS_AT_ONCE
    );
    match crate::selfcheck::check(&a.cases) {
        Ok(rows) => {
            print!("{}", crate::selfcheck::render(&rows));
            if rows.iter().all(crate::selfcheck::Row::ok) {
                exit_code::PASSED
            } else {
                exit_code::FAILED
            }
        }
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

fn lint(a: LintArgs) -> u8 {
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    match crate::inputs::load(&a.cases, a.spec.as_deref(), &env) {
        Ok(crate::inputs::Inputs { suite, contract }) => {
            let against = contract
                .map(|c| format!(" against {}", c.file()))
                .unwrap_or_default();
            println!(
                "{}: {} scenarios{against}, no problems",
                a.cases.display(),
                suite.scenarios.len()
            );
            let unexercised = suite.unexercised_clauses();
            if !suite.registry.is_empty() {
                if unexercised.is_empty() {
                    println!(
                        "every one of the {} clauses is named by a scenario",
                        suite.registry.clauses().len()
                    );
                } else {
                    println!("clauses no scenario exercises:");
                    for c in unexercised {
                        println!("  {} ({}): {}", c.id, c.level, c.statement);
                    }
                }
            }
            // The process ends here: freeing every plan one by one (some
            // 3 ms for 1,000 scenarios) is work the system does at once.
            std::mem::forget(suite);
            exit_code::PASSED
        }
        Err(d) => {
            // A token written in a case file shows in the excerpts.
            let mut red = crate::redact::Redactor::new();
            red.add_secret_env(&env);
            eprintln!("{}", red.redact(&d.to_string()));
            exit_code::INVALID_INPUT
        }
    }
}

fn serve(a: ServeArgs) -> u8 {
    if a.list_faults {
        for f in Fault::ALL {
            let kind = if f.is_variation() {
                "variation"
            } else {
                "fault"
            };
            println!("{:<28} {kind:<9} {}", f.name(), f.description());
        }
        return exit_code::PASSED;
    }
    let token = match &a.token_file {
        Some(p) => match crate::input::read_token_file(p) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                return exit_code::INVALID_INPUT;
            }
        },
        None => match std::env::var(crate::server::TOKEN_ENV) {
            Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
            _ => {
                eprintln!(
                    "give the token clients must send with --token-file FILE or the {} environment variable",
                    crate::server::TOKEN_ENV
                );
                return exit_code::INVALID_INPUT;
            }
        },
    };
    let config = crate::server::ServerConfig {
        token,
        lifecycle: a.lifecycle,
        faults: a.faults.clone(),
        ..crate::server::ServerConfig::default()
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return exit_code::RUNTIME_ERROR;
        }
    };
    rt.block_on(async {
        let srv = match crate::server::spawn(a.addr, config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot listen on {}: {e}", a.addr);
                return exit_code::RUNTIME_ERROR;
            }
        };
        let faults: Vec<&str> = a.faults.iter().map(|f| f.name()).collect();
        println!(
            "conform serve: listening on {}{}",
            srv.base_url(),
            if faults.is_empty() {
                String::new()
            } else {
                format!(" (fault modes: {})", faults.join(", "))
            }
        );
        let _ = tokio::signal::ctrl_c().await;
        srv.shutdown().await;
        exit_code::PASSED
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn libtest_flags_reach_the_harness() {
        let cli = Cli::try_parse_from([
            "conform",
            "run",
            "flagship",
            "--exact",
            "--test-threads",
            "2",
            "--skip",
            "x",
        ])
        .unwrap();
        let Command::Run(a) = cli.command else {
            panic!()
        };
        assert_eq!(a.test.filter.as_deref(), Some("flagship"));
        assert!(a.test.exact);
        assert_eq!(a.test.test_threads, Some(2));
        assert_eq!(a.test.skip, ["x"]);
    }

    #[test]
    fn no_token_flag_exists() {
        assert!(Cli::try_parse_from(["conform", "run", "--token", "x"]).is_err());
    }
}
