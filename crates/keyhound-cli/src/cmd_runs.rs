//! `keyhound runs list|show`.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use keyhound_store::{FindingFilter, Run, RunFilter, RunStatus};
use serde_json::json;

use crate::args::{GlobalArgs, ListFormat, RunsCommand, RunsListArgs, RunsShowArgs};
use crate::cmd_findings::{when, write_findings};
use crate::cmd_scan::{EXIT_CLEAN, normalize_target};
use crate::settings::{KeyUse, open_store};

/// Runs `keyhound runs …`.
pub fn run(global: &GlobalArgs, cmd: &RunsCommand) -> Result<ExitCode> {
    match cmd {
        RunsCommand::List(args) => list(global, args),
        RunsCommand::Show(args) => show(global, args),
    }
}

fn status(name: &str) -> Result<RunStatus> {
    [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Interrupted,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
    .ok_or_else(|| anyhow!("unknown run status {name:?} (running, completed, failed, interrupted)"))
}

/// How long a run took, or `-`.
fn duration(r: &Run) -> String {
    match r.ended_at {
        Some(end) => {
            let ms = end.as_millisecond() - r.started_at.as_millisecond();
            format!("{:.1} s", ms as f64 / 1000.0)
        }
        None => "-".into(),
    }
}

/// One line of a run in a list.
pub fn line(r: &Run) -> String {
    format!(
        "{:>5}  {:<11}  {}  {:>9}  {:>8}  {}",
        r.id,
        r.status.as_str(),
        when(r.started_at),
        duration(r),
        r.findings,
        r.target
    )
}

fn list(global: &GlobalArgs, args: &RunsListArgs) -> Result<ExitCode> {
    let filter = RunFilter {
        target: args
            .target
            .as_deref()
            .map(|t| normalize_target(&[t.into()], "stdin")),
        statuses: args
            .status
            .iter()
            .map(|s| status(s))
            .collect::<Result<_>>()?,
        limit: Some(args.limit),
    };
    let runs = open_store(global, KeyUse::None)?.runs(&filter)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &json!({ "runs": runs }))?;
            writeln!(out)?;
        }
        ListFormat::Jsonl => {
            for r in &runs {
                serde_json::to_writer(&mut out, r)?;
                writeln!(out)?;
            }
        }
        ListFormat::Text => {
            if runs.is_empty() {
                writeln!(out, "no runs recorded; `keyhound scan` records one")?;
            } else {
                writeln!(
                    out,
                    "{:>5}  {:<11}  {:<20}  {:>9}  {:>8}  TARGET",
                    "RUN", "STATUS", "STARTED", "DURATION", "FINDINGS"
                )?;
                for r in &runs {
                    writeln!(out, "{}", line(r))?;
                }
            }
        }
        ListFormat::Sarif | ListFormat::Csv => {
            anyhow::bail!("runs list prints text, json or jsonl")
        }
    }
    out.flush()?;
    Ok(ExitCode::from(EXIT_CLEAN))
}

fn show(global: &GlobalArgs, args: &RunsShowArgs) -> Result<ExitCode> {
    let mut store = open_store(global, KeyUse::None)?;
    let run = match args.run {
        Some(id) => store.run(id)?,
        None => store
            .latest_run(None)?
            .ok_or_else(|| anyhow!("no completed run recorded yet"))?,
    };
    let findings = store.findings(&FindingFilter {
        run: Some(run.id),
        ..FindingFilter::default()
    })?;
    match args.format {
        ListFormat::Json => {
            let list: Vec<_> = findings
                .iter()
                .map(|f| crate::cmd_findings::finding_value(f, None))
                .collect();
            let mut out = io::BufWriter::new(io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, &json!({ "run": run, "findings": list }))?;
            writeln!(out)?;
            out.flush()?;
        }
        ListFormat::Text => {
            {
                let mut out = io::stdout().lock();
                writeln!(out, "run {} ({})", run.id, run.status.as_str())?;
                writeln!(out, "  target         {}", run.target)?;
                writeln!(out, "  started        {}", when(run.started_at))?;
                if let Some(end) = run.ended_at {
                    writeln!(out, "  ended          {} ({})", when(end), duration(&run))?;
                }
                writeln!(out, "  rules version  {}", run.rules_version)?;
                writeln!(out, "  keyhound       {}", run.keyhound_version)?;
                writeln!(out, "  host           {} (pid {})", run.host, run.pid)?;
                if let Some(e) = &run.error {
                    writeln!(out, "  error          {e}")?;
                }
                for key in ["inputs", "bytes", "matches"] {
                    if let Some(v) = run.stats.get(key) {
                        writeln!(out, "  {key:<14} {v}")?;
                    }
                }
                writeln!(out)?;
            }
            write_findings(global, &mut store, &findings, ListFormat::Text, false)?;
        }
        other => write_findings(global, &mut store, &findings, other, false)?,
    }
    Ok(ExitCode::from(EXIT_CLEAN))
}
