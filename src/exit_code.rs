//! Exit codes of `conform`: part of its API, documented in the README.

/// Every selected scenario passed (flaky ones included).
pub const PASSED: u8 = 0;
/// At least one scenario failed an assertion or a contract check.
pub const FAILED: u8 = 1;
/// Invalid input (command line, case files, contract): nothing was sent.
pub const INVALID_INPUT: u8 = 2;
/// Runtime errors only (server unreachable, timeouts, TLS): no assertion failed.
pub const RUNTIME_ERROR: u8 = 3;
/// A gate failed (coverage below `--min-coverage`).
pub const GATE_FAILED: u8 = 4;
/// The run was interrupted (Ctrl-C).
pub const INTERRUPTED: u8 = 130;
