//! `conform`: parse the command line, run the command, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = conform::cli::Cli::parse();
    ExitCode::from(conform::cli::dispatch(cli))
}
