//! `conform`: parse the command line, run the command, exit with its code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: scenarios run on the runtime's
/// worker threads, and a response read on one worker is often dropped on
/// another. glibc's malloc takes the owning arena's lock for such a free and
/// its callers queue on it; mimalloc frees across threads without a lock.
/// In the benchmark this is a fifth more scenarios per second (README,
/// Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = conform::cli::Cli::parse();
    ExitCode::from(conform::cli::dispatch(cli))
}
