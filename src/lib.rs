//! conform: a contract conformance harness.
//!
//! Data flows one way: `case` loads YAML scenarios into a plan, `runner`
//! runs them over `http` (polling with `poll`, checking with `check`) and
//! records a `model::RunResult`, which `report` projects into files. `server`
//! is the reference implementation of the bundled contract.

pub mod case;
pub(crate) mod check;
pub mod clause;
pub mod cli;
pub mod contract;
pub(crate) mod diag;
pub(crate) mod exit_code;
pub mod expr;
pub mod http;
pub mod input;
pub mod inputs;
pub(crate) mod lint;
pub mod model;
pub mod pipe;
pub(crate) mod poll;
pub(crate) mod printable;
pub(crate) mod redact;
pub mod report;
pub mod runner;
pub(crate) mod schema;
pub(crate) mod selfcheck;
pub mod server;
pub(crate) mod yaml;
