//! Scenarios: the case format, its loader and the runnable plan.

pub mod compile;
mod files;
pub mod load;
pub mod model;
mod parse;
pub mod plan;

pub use crate::diag::{Diagnostic, Diagnostics, SourceLocation};
pub use load::{load_suite, missing_env};
pub use plan::*;
