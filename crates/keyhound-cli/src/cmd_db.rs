//! `keyhound db migrate|status`.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;
use keyhound_store::SchemaStatus;
use serde_json::json;

use crate::args::{DbCommand, GlobalArgs, ListFormat};
use crate::cmd_scan::EXIT_CLEAN;
use crate::settings;

/// Runs `keyhound db …`.
pub fn run(global: &GlobalArgs, cmd: &DbCommand) -> Result<ExitCode> {
    let files = settings::discover(global, &[])?;
    let st = settings::store(global, &files)?;
    let (args, migrate) = match cmd {
        DbCommand::Migrate(a) => (a, true),
        DbCommand::Status(a) => (a, false),
    };
    let mut store = st.open_unmigrated()?;
    let status: SchemaStatus = if migrate {
        store.migrate()?
    } else {
        store.schema_status()?
    };
    let location = st.location.redacted();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ListFormat::Json | ListFormat::Jsonl => {
            serde_json::to_writer_pretty(
                &mut out,
                &json!({
                    "database": location,
                    "backend": store.backend(),
                    "schema": status,
                }),
            )?;
            writeln!(out)?;
        }
        _ => {
            writeln!(out, "database  {location}")?;
            writeln!(
                out,
                "schema    version {} of {}",
                status.current, status.latest
            )?;
            for (v, name) in &status.applied {
                writeln!(out, "applied   {v} {name}")?;
            }
            if !migrate && status.current < status.latest {
                writeln!(
                    out,
                    "pending   {} migrations; `keyhound db migrate` applies them",
                    status.latest - status.current
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::from(EXIT_CLEAN))
}
