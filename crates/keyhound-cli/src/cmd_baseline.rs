//! `keyhound baseline create`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use keyhound_scan::suppress::Baseline;
use keyhound_store::FindingFilter;

use crate::args::{BaselineCommand, BaselineCreateArgs, GlobalArgs};
use crate::cmd_scan::{EXIT_CLEAN, EXIT_ERROR, Scanned, conclude, scan};
use crate::settings::{KeyUse, open_store};

/// The default baseline file.
pub const DEFAULT_FILE: &str = ".keyhound-baseline.json";

/// Runs `keyhound baseline …`.
pub fn run(global: &GlobalArgs, cmd: &BaselineCommand) -> Result<ExitCode> {
    match cmd {
        BaselineCommand::Create(args) => create(global, args),
    }
}

fn create(global: &GlobalArgs, args: &BaselineCreateArgs) -> Result<ExitCode> {
    let path = args
        .scan
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
    let (baseline, code) = match args.from_run {
        Some(run) => {
            let mut store = open_store(global, KeyUse::None)?;
            store.run(run)?;
            let findings: Vec<_> = store
                .findings(&FindingFilter {
                    run: Some(run),
                    ..FindingFilter::default()
                })?
                .iter()
                .map(|f| f.to_finding(None))
                .collect();
            (Baseline::create(&findings), EXIT_CLEAN)
        }
        None => {
            let Scanned {
                report, recording, ..
            } = match scan(global, &args.scan)? {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            let baseline = Baseline::create(&report.findings);
            (baseline, conclude(global, &report, recording))
        }
    };
    baseline
        .write(&path)
        .with_context(|| "cannot write the baseline")?;
    if !global.quiet {
        eprintln!(
            "baseline: {} finding{} written to {}; `keyhound scan --baseline {}` reports only the others",
            baseline.entries().len(),
            if baseline.entries().len() == 1 {
                ""
            } else {
                "s"
            },
            path.display(),
            path.display()
        );
    }
    Ok(ExitCode::from(if code == EXIT_ERROR {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    }))
}
