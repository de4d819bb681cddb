//! `keyhound diff [RUN_A] [RUN_B]`.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use keyhound_store::{Diff, DiffEntry};

use crate::Hint;
use crate::args::{DiffArgs, GlobalArgs, ListFormat};
use crate::cmd_findings::{line, when};
use crate::cmd_scan::{EXIT_CLEAN, EXIT_FINDINGS, normalize_target};
use crate::settings::{KeyUse, open_store};

fn need_two() -> anyhow::Error {
    anyhow::Error::new(Hint(
        "scan the same target twice, or name two runs (`keyhound runs list`)".into(),
    ))
    .context("there are not two completed runs of the same target to compare")
}

/// Runs `keyhound diff`. Exits 1 when the later run has new findings, like a scan with
/// findings.
pub fn run(global: &GlobalArgs, args: &DiffArgs) -> Result<ExitCode> {
    let mut store = open_store(global, KeyUse::None)?;
    let (from, to) = match (args.from, args.to) {
        (Some(a), Some(b)) => (a, b),
        // One run: it against the run of its target before it.
        (Some(b), None) => {
            let prev = store.previous_run(b)?.ok_or_else(need_two)?;
            (prev.id, b)
        }
        (None, _) => {
            let target = args
                .target
                .as_deref()
                .map(|t| normalize_target(&[t.into()], "stdin"));
            let latest = store.latest_run(target.as_deref())?.ok_or_else(need_two)?;
            let prev = store.previous_run(latest.id)?.ok_or_else(need_two)?;
            (prev.id, latest.id)
        }
    };
    if from == to {
        return Err(anyhow!("both runs are run {from}"));
    }
    let diff = store.diff(from, to)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ListFormat::Json | ListFormat::Jsonl => {
            serde_json::to_writer_pretty(&mut out, &diff)?;
            writeln!(out)?;
        }
        ListFormat::Text => text(&mut out, &diff, args.all)?,
        ListFormat::Sarif | ListFormat::Csv => anyhow::bail!("diff prints text or json"),
    }
    out.flush()?;
    if !global.quiet {
        eprintln!(
            "diff: {} new, {} fixed, {} changed, {} unchanged",
            diff.new.len(),
            diff.fixed.len(),
            diff.changed.len(),
            diff.unchanged.len()
        );
    }
    Ok(ExitCode::from(if diff.new.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    }))
}

fn section(
    out: &mut dyn Write,
    title: &str,
    entries: &[DiffEntry],
    changed: bool,
) -> io::Result<()> {
    writeln!(out, "{title} ({})", entries.len())?;
    for e in entries {
        if changed {
            writeln!(
                out,
                "  {}  validity {} -> {}",
                line(&e.finding),
                e.validity_before.as_deref().unwrap_or("unchecked"),
                e.validity_after.as_deref().unwrap_or("unchecked")
            )?;
        } else {
            writeln!(out, "  {}", line(&e.finding))?;
        }
    }
    writeln!(out)
}

fn text(out: &mut dyn Write, d: &Diff, all: bool) -> io::Result<()> {
    writeln!(
        out,
        "run {} ({}) -> run {} ({}) of {}\n",
        d.from.id,
        when(d.from.started_at),
        d.to.id,
        when(d.to.started_at),
        d.to.target
    )?;
    section(out, "new", &d.new, false)?;
    section(out, "fixed", &d.fixed, false)?;
    section(out, "changed", &d.changed, true)?;
    if all {
        section(out, "unchanged", &d.unchanged, false)?;
    } else {
        writeln!(out, "unchanged ({}); --all lists them", d.unchanged.len())?;
    }
    Ok(())
}
