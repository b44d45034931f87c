//! The bundled suite as `cargo test` tests: every scenario in `cases/` is a
//! test, run through the same libtest-mimic harness as `conform run`, against
//! the embedded reference server. Filters and flags work as with any test
//! binary (`cargo test --test bundled -- flagship`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let mut opts = conform::runner::RunOptions {
        reports: None,
        ..conform::runner::RunOptions::new()
    };
    opts.inputs.cases = concat!(env!("CARGO_MANIFEST_DIR"), "/cases").into();
    match conform::runner::run(&opts, &args) {
        Ok(out) => ExitCode::from(out.exit_code),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}
