//! The `keyhound` binary: parses arguments, sets up logging, and calls one `cmd_*::run`.

mod args;
mod cmd_baseline;
mod cmd_db;
mod cmd_diff;
mod cmd_findings;
mod cmd_inspect;
mod cmd_replace;
mod cmd_revoke;
mod cmd_rules;
mod cmd_runs;
mod cmd_scan;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command, ENV_LOG, GlobalArgs};

/// A suggestion printed as `hint: …` after the error chain.
#[derive(Debug)]
pub struct Hint(pub String);

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Hint {}

/// The error and its causes on one line, for places that print a problem as data.
pub fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// Prints an error with its causes and hint on stderr.
pub fn print_error(e: &anyhow::Error) {
    let mut causes = e.chain();
    if let Some(top) = causes.next() {
        eprintln!("error: {top}");
    }
    let mut hint = None;
    for cause in causes {
        match cause.downcast_ref::<Hint>() {
            Some(h) => hint = Some(h.0.clone()),
            None => eprintln!("  caused by: {cause}"),
        }
    }
    if let Some(h) = hint {
        eprintln!("hint: {h}");
    }
}

fn init_logging(global: &GlobalArgs) {
    let default = match (global.quiet, global.verbose) {
        (true, _) | (false, 0 | 1) => "error",
        (false, 2) => "warn",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env(ENV_LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    let result = match &cli.command {
        Command::Scan(args) => cmd_scan::run(&cli.global, args),
        Command::Inspect(args) => cmd_inspect::run(&cli.global, args),
        Command::Revoke(args) => cmd_revoke::run(&cli.global, args),
        Command::Replace(args) => cmd_replace::run(&cli.global, args),
        Command::Rules(cmd) => cmd_rules::run(&cli.global, cmd),
        Command::Runs(cmd) => cmd_runs::run(&cli.global, cmd),
        Command::Findings(cmd) => cmd_findings::run(&cli.global, cmd),
        Command::Diff(args) => cmd_diff::run(&cli.global, args),
        Command::Baseline(cmd) => cmd_baseline::run(&cli.global, cmd),
        Command::Db(cmd) => cmd_db::run(&cli.global, cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            ExitCode::from(cmd_scan::EXIT_ERROR)
        }
    }
}
