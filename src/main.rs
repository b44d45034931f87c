//! `conform`: parse the command line, run the command, exit with its code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: scenarios run on the runtime's
/// worker threads, and a response read on one worker is often dropped on
/// another. glibc's malloc takes the owning arena's lock for such a free and
/// its callers queue on it; mimalloc frees across threads without a lock.
/// In the benchmark this is a fifth more scenarios per second (README,
/// Performance). Its 2.x series (`v2`) returns freed pages to the system
/// after 10 ms where 3.x waits a second, which kept 2–3 MiB more at the
/// peak of a 10,000-scenario run; transparent huge pages are off (`no_thp`),
/// or that peak grows by a half.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = conform::cli::Cli::parse();
    // A reader that closes standard output early (`| head`) must not cut the
    // run short: see `conform::pipe`.
    let guard = conform::pipe::guard_stdout();
    let code = conform::cli::dispatch(cli);
    drop(guard);
    ExitCode::from(code)
}
