//! The server under test: the one `--base-url` names, or the embedded
//! reference server, started here with a random token before the scenarios
//! and stopped after them.

use std::time::Duration;

use crate::server::{self, Fault, RunningServer, ServerConfig};

use super::error::RunError;
use super::options::TargetOptions;

/// The embedded reference server's settings.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Its lifecycle (its default when `None`).
    pub lifecycle: Option<Duration>,
    /// Its phases paced by Gets (`ServerConfig::paced_by_gets`): on by
    /// default, so that a run against the embedded server (the demo, the
    /// self-test) reaches the same verdicts however loaded the machine is;
    /// `conform serve` keeps the clock alone, as a real server does.
    pub paced_by_gets: bool,
    /// Its fault modes.
    pub faults: Vec<Fault>,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            lifecycle: None,
            paced_by_gets: true,
            faults: Vec::new(),
        }
    }
}

/// Where the scenarios' requests go.
pub struct Target {
    /// The base URL as given, or the embedded server's.
    pub url: String,
    /// The bearer token: the one given, or the embedded server's.
    pub token: Option<String>,
    /// The embedded server, when it runs.
    pub embedded: Embedded,
}

/// The embedded reference server, when the run started it.
pub struct Embedded(Option<RunningServer>);

impl Target {
    /// The server `opts` names with `token`, or the embedded reference
    /// server started on `rt` with a random token (its address printed
    /// when `print`).
    pub fn start(
        rt: &tokio::runtime::Runtime,
        opts: &TargetOptions,
        token: Option<String>,
        print: bool,
    ) -> Result<Target, RunError> {
        if let Some(url) = &opts.base_url {
            return Ok(Target {
                url: url.clone(),
                token,
                embedded: Embedded(None),
            });
        }
        let embedded = &opts.embedded;
        let token = server::random_token();
        let mut config = ServerConfig {
            token: token.clone(),
            faults: embedded.faults.clone(),
            paced_by_gets: embedded.paced_by_gets,
            ..ServerConfig::default()
        };
        if let Some(l) = embedded.lifecycle {
            config.lifecycle = l;
        }
        let srv = rt
            .block_on(server::spawn(
                "127.0.0.1:0".parse().expect("a valid address"),
                config,
            ))
            .map_err(RunError::EmbeddedServer)?;
        if print {
            let faults = if embedded.faults.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = embedded.faults.iter().map(|f| f.name()).collect();
                format!(" with fault modes {}", names.join(", "))
            };
            eprintln!(
                "conform: no --base-url given: running against the embedded reference server at {} (random token){faults}",
                srv.base_url()
            );
        }
        Ok(Target {
            url: srv.base_url(),
            token: Some(token),
            embedded: Embedded(Some(srv)),
        })
    }
}

impl Embedded {
    /// Stops the embedded server, if it runs; returns the requests it
    /// received (0 against another server).
    pub fn stop(self, rt: &tokio::runtime::Runtime) -> u64 {
        let Some(srv) = self.0 else { return 0 };
        let requests = srv.request_count();
        rt.block_on(srv.shutdown());
        requests
    }
}
