//! conform: a contract conformance harness.
//!
//! Data flows one way: `case` loads YAML scenarios into a plan, `runner`
//! runs them over `http` (polling with `poll`, checking with `check`) and
//! records a `model::RunResult`, which `report` projects into files. `server`
//! is the reference implementation of the bundled contract.

pub mod case;
pub mod check;
pub mod clause;
pub mod cli;
pub mod contract;
pub mod coverage;
pub mod diag;
pub mod exit_code;
pub mod http;
pub mod input;
pub mod inputs;
pub mod jsonpath;
pub mod lint;
pub mod matcher;
pub mod model;
pub mod pipe;
pub mod poll;
pub mod printable;
pub mod redact;
pub mod report;
pub mod runner;
pub mod schema;
pub mod selfcheck;
pub mod server;
pub mod template;
pub mod verdict;
pub(crate) mod yaml;
