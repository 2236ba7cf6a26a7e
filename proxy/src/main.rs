//! The `pathwise` binary: parses the command line and hands each subcommand to its module.

use std::process::ExitCode;

fn main() -> ExitCode {
    pathwise::cli::run(std::env::args_os())
}
