//! Why a run could not start (or could not write its reports): one variant
//! per cause, carrying its source, each with its exit code.

use std::io;
use std::path::PathBuf;

use crate::diag::Diagnostics;
use crate::exit_code;
use crate::http::ClientError;
use crate::input::TokenFileError;
use crate::report::LockError;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Case files or the contract are invalid (exit 2).
    #[error("{0}")]
    Cases(Diagnostics),
    /// A refused option (`--min-coverage 150`, `--tag` naming no tag, ...):
    /// the flag, then why (exit 2).
    #[error("{flag} {why}")]
    Option { flag: &'static str, why: String },
    /// The base URL is set but blank: an unset CI variable (exit 2).
    #[error(
        "the base URL is set but blank (BASE_URL or --base-url): give the URL of the server under test, or unset it to run against the embedded reference server"
    )]
    BlankBaseUrl,
    /// The base URL is malformed (exit 2).
    #[error("the base URL: {0}")]
    BaseUrl(String),
    /// `--server NAME=URL` names no server of the suite (exit 2).
    #[error("--server {name}=...: the suite has no server `{name}`{hint}")]
    UnknownServer { name: String, hint: String },
    /// A named server of the suite is given no URL (exit 2).
    #[error("server `{name}` has no URL: set {variable} or give --server {name}=URL")]
    ServerWithoutUrl { name: String, variable: String },
    /// A named server's URL is malformed; `whence` says where it came from (exit 2).
    #[error("server `{name}` ({whence}): {why}")]
    ServerUrl {
        name: String,
        whence: String,
        why: String,
    },
    /// `--token-file` gave no token (exit 2).
    #[error("{0}")]
    TokenFile(#[source] TokenFileError),
    /// The suite's token variable holds a token no header can carry (exit 2).
    #[error("the token in {variable} {why}: a bearer token is one line of visible characters")]
    TokenVariable { variable: String, why: &'static str },
    /// A server under test, a suite that names a token variable, and no
    /// token (exit 2). `at` is where the suite names the variable.
    #[error("no bearer token for {url}: set {variable}{} or give --token-file FILE", at.as_ref().map(|l| format!(" (`auth.bearer_env` at {l})")).unwrap_or_default())]
    NoToken {
        url: String,
        variable: String,
        at: Option<String>,
    },
    /// The HTTP client cannot be built: the CA file (exit 2).
    #[error("{0}")]
    Client(#[source] ClientError),
    /// `--gate regressions` without a baseline (exit 2).
    #[error("`--gate regressions` needs a `--baseline FILE`")]
    GateNeedsBaseline,
    /// The baseline cannot be read (exit 2).
    #[error("{0}")]
    Baseline(#[source] crate::report::json::ReadError),
    /// libtest's `--logfile` cannot be written (exit 2).
    #[error("--logfile {path}: cannot be written: {source}")]
    Logfile {
        path: String,
        #[source]
        source: io::Error,
    },
    /// The reports folder cannot be written (exit 2).
    #[error(
        "cannot write reports to {}: {source}; give a folder that can be written (--reports DIR)",
        dir.display()
    )]
    ReportsFolder {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Another run writes into the reports folder (exit 2).
    #[error("{0}")]
    ReportsBusy(#[source] LockError),
    /// The `--junit` file cannot be written (exit 2).
    #[error(
        "cannot write reports to {}: {source}; give a file that can be written (--junit FILE)",
        path.display()
    )]
    JunitFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The async runtime cannot start (exit 3).
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] io::Error),
    /// The embedded reference server cannot start (exit 3).
    #[error("cannot start the embedded reference server: {0}")]
    EmbeddedServer(#[source] io::Error),
    /// The reports cannot be written after the run (exit 3).
    #[error("{0}")]
    Reports(#[source] io::Error),
    /// A run of `conform selfcheck` panicked or never finished (exit 3).
    #[error("{0}")]
    Selfcheck(&'static str),
    /// An error whose text had a secret masked ([`RunError::masked`]): the
    /// masked text and the error's exit code.
    #[error("{text}")]
    Masked { text: String, exit_code: u8 },
}

impl RunError {
    /// The error with what `red` knows masked in its text: a token written
    /// in a case file shows in the excerpt of a problem there, a URL's
    /// userinfo in a message about it. Exit codes are kept.
    pub fn masked(self, red: &crate::redact::Redactor) -> RunError {
        let text = self.to_string();
        match red.redact(&text) {
            std::borrow::Cow::Borrowed(_) => self,
            std::borrow::Cow::Owned(text) => RunError::Masked {
                text,
                exit_code: self.exit_code(),
            },
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Cases(_)
            | RunError::Option { .. }
            | RunError::BlankBaseUrl
            | RunError::BaseUrl(_)
            | RunError::UnknownServer { .. }
            | RunError::ServerWithoutUrl { .. }
            | RunError::ServerUrl { .. }
            | RunError::TokenFile(_)
            | RunError::TokenVariable { .. }
            | RunError::NoToken { .. }
            | RunError::Client(_)
            | RunError::GateNeedsBaseline
            | RunError::Baseline(_)
            | RunError::Logfile { .. }
            | RunError::ReportsFolder { .. }
            | RunError::ReportsBusy(_)
            | RunError::JunitFile { .. } => exit_code::INVALID_INPUT,
            RunError::Runtime(_)
            | RunError::EmbeddedServer(_)
            | RunError::Reports(_)
            | RunError::Selfcheck(_) => exit_code::RUNTIME_ERROR,
            RunError::Masked { exit_code, .. } => *exit_code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_the_exit_code_and_hides_the_secret() {
        let mut red = crate::redact::Redactor::new();
        red.add("s3cret-value");
        let e = RunError::EmbeddedServer(io::Error::other("s3cret-value")).masked(&red);
        assert_eq!(e.exit_code(), exit_code::RUNTIME_ERROR);
        assert!(!e.to_string().contains("s3cret-value"), "{e}");
        let e = RunError::BaseUrl("no secret here".into()).masked(&red);
        assert!(matches!(e, RunError::BaseUrl(_)), "{e:?}");
    }

    #[test]
    fn a_missing_token_names_where_the_suite_names_its_variable() {
        let e = RunError::NoToken {
            url: "http://api.test".into(),
            variable: "API_TOKEN".into(),
            at: Some("conform.yaml:2:9".into()),
        };
        assert_eq!(
            e.to_string(),
            "no bearer token for http://api.test: set API_TOKEN (`auth.bearer_env` at conform.yaml:2:9) or give --token-file FILE"
        );
        let e = RunError::NoToken {
            url: "http://api.test".into(),
            variable: "API_TOKEN".into(),
            at: None,
        };
        assert_eq!(
            e.to_string(),
            "no bearer token for http://api.test: set API_TOKEN or give --token-file FILE"
        );
    }
}
