//! Scenarios: the case format, its loader and the runnable plan.

pub mod compile;
pub mod diag;
mod files;
pub mod intern;
pub mod load;
pub mod model;
mod parse;
pub mod plan;
pub(crate) mod yaml;

pub use diag::{Diagnostic, Diagnostics, SourceLocation};
pub use load::{load_suite, missing_env};
pub use plan::*;
