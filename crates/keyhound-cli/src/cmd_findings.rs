//! `keyhound findings list|show|triage`, and the output of stored findings that `runs show`
//! and `diff` share.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use keyhound_rules::Severity;
use keyhound_scan::ScanReport;
use keyhound_store::{FindingDetail, FindingFilter, NewTriage, Store, StoredFinding, TriageStatus};
use serde_json::{Value, json};

use crate::Hint;
use crate::args::{
    FindingsCommand, FindingsListArgs, FindingsShowArgs, FormatArg, GlobalArgs, ListFormat,
    TriageArg, TriageArgs,
};
use crate::cmd_scan::{EXIT_CLEAN, render_options, write_report};
use crate::settings::{KeyUse, open_store};

/// Runs `keyhound findings …`.
pub fn run(global: &GlobalArgs, cmd: &FindingsCommand) -> Result<ExitCode> {
    match cmd {
        FindingsCommand::List(args) => list(global, args),
        FindingsCommand::Show(args) => show(global, args),
        FindingsCommand::Triage(args) => triage(global, args),
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// Parses `--since`: a date, an RFC 3339 time, or an age such as `7d`.
pub fn parse_since(s: &str, now: jiff::Timestamp) -> Result<jiff::Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        if let Ok(z) = d.to_zoned(jiff::tz::TimeZone::UTC) {
            return Ok(z.timestamp());
        }
    }
    if let Ok(secs) = crate::args::parse_duration(s) {
        if let Ok(span) = jiff::SignedDuration::try_from(std::time::Duration::from_secs(secs)) {
            if let Ok(t) = now.checked_sub(span) {
                return Ok(t);
            }
        }
    }
    bail!(
        "invalid --since {s:?}: give a date (2026-12-01), a time (2026-12-01T08:00:00Z) or an age (7d, 12h)"
    )
}

fn severities(names: &[String]) -> Result<Vec<Severity>> {
    names
        .iter()
        .map(|n| {
            n.parse::<Severity>()
                .map_err(|e| anyhow::anyhow!("{e} (critical, high, medium, low, info)"))
        })
        .collect()
}

/// Parses triage status names.
pub fn statuses(names: &[String]) -> Result<Vec<TriageStatus>> {
    names
        .iter()
        .map(|n| {
            TriageStatus::parse(n).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown status {n:?} (open, false-positive, accepted-risk, revoked, fixed)"
                )
            })
        })
        .collect()
}

/// The stored values of `findings`, where asked for and available. A value under another
/// key is reported once and left out.
fn secrets(
    store: &mut Store,
    findings: &[StoredFinding],
    show: bool,
) -> Result<Vec<Option<keyhound_engine::Secret>>> {
    let mut warned = false;
    findings
        .iter()
        .map(|f| {
            if !show || !f.secret_stored {
                return Ok(None);
            }
            match store.secret(&f.fingerprint) {
                Ok(s) => Ok(s),
                Err(e @ keyhound_store::Error::Decrypt { .. })
                | Err(e @ keyhound_store::Error::NoKey) => {
                    if !warned {
                        eprintln!("warning: {e}; showing redacted previews");
                        warned = true;
                    }
                    Ok(None)
                }
                Err(e) => Err(e.into()),
            }
        })
        .collect()
}

/// A stored finding as JSON: everything the store knows, plus `secret` when it is shown.
pub fn finding_value(f: &impl serde::Serialize, secret: Option<&keyhound_engine::Secret>) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Some(s) = secret {
        v["secret"] = Value::String(s.expose_str().into_owned());
    }
    v
}

/// One line of a finding in a list.
pub fn line(f: &StoredFinding) -> String {
    let at = f
        .locations
        .first()
        .map(|l| format!("{}:{}", l.path, l.line))
        .unwrap_or_default();
    let more = match f.locations.len() {
        0 | 1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    format!(
        "{:<8}  {:<14}  {}  {:<24}  {:<14}  {}{more}",
        f.severity.as_str().to_uppercase(),
        f.status.as_str(),
        &f.fingerprint[..f.fingerprint.len().min(12)],
        f.rule_id,
        f.redacted,
        at,
    )
}

/// Writes stored findings in `format`: a table, JSON, JSON lines, or SARIF/CSV through the
/// scan report renderers.
pub fn write_findings(
    global: &GlobalArgs,
    store: &mut Store,
    findings: &[StoredFinding],
    format: ListFormat,
    show_secrets: bool,
) -> Result<()> {
    let values = secrets(store, findings, show_secrets)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match format {
        ListFormat::Text => {
            if findings.is_empty() {
                writeln!(out, "no findings")?;
            } else {
                writeln!(
                    out,
                    "{:<8}  {:<14}  {:<12}  {:<24}  {:<14}  LOCATION",
                    "SEVERITY", "STATUS", "FINGERPRINT", "RULE", "SECRET"
                )?;
                for (f, secret) in findings.iter().zip(&values) {
                    match secret {
                        Some(s) => writeln!(out, "{}  {}", line(f), s.expose_str())?,
                        None => writeln!(out, "{}", line(f))?,
                    }
                }
            }
        }
        ListFormat::Json => {
            let list: Vec<Value> = findings
                .iter()
                .zip(&values)
                .map(|(f, s)| finding_value(f, s.as_ref()))
                .collect();
            serde_json::to_writer_pretty(&mut out, &json!({ "findings": list }))?;
            writeln!(out)?;
        }
        ListFormat::Jsonl => {
            for (f, s) in findings.iter().zip(&values) {
                serde_json::to_writer(&mut out, &finding_value(f, s.as_ref()))?;
                writeln!(out)?;
            }
        }
        ListFormat::Sarif | ListFormat::Csv => {
            drop(out);
            let report = ScanReport {
                findings: findings
                    .iter()
                    .zip(values)
                    .map(|(f, s)| f.to_finding(s))
                    .collect(),
                ..ScanReport::default()
            };
            let format = if format == ListFormat::Sarif {
                FormatArg::Sarif
            } else {
                FormatArg::Csv
            };
            let rules = keyhound_rules::builtin().unwrap_or_default();
            let opts = render_options(global, format, false, show_secrets, rules);
            return write_report(&report, format, None, &opts);
        }
    }
    out.flush()?;
    Ok(())
}

fn list(global: &GlobalArgs, args: &FindingsListArgs) -> Result<ExitCode> {
    let filter = FindingFilter {
        rules: args.rule.clone(),
        severities: severities(&args.severity)?,
        statuses: statuses(&args.status)?,
        validity: args.validity.clone(),
        target: args
            .target
            .as_deref()
            .map(|t| crate::cmd_scan::normalize_target(&[t.into()], "stdin")),
        since: args
            .since
            .as_deref()
            .map(|s| parse_since(s, jiff::Timestamp::now()))
            .transpose()?,
        run: args.run,
        limit: args.limit,
    };
    let mut store = open_store(global, key_for(args.show_secrets))?;
    let findings = store.findings(&filter)?;
    write_findings(
        global,
        &mut store,
        &findings,
        args.format,
        args.show_secrets,
    )?;
    Ok(ExitCode::from(EXIT_CLEAN))
}

fn key_for(show_secrets: bool) -> KeyUse {
    if show_secrets {
        KeyUse::Read
    } else {
        KeyUse::None
    }
}

/// One finding by fingerprint (or prefix); a missing one says where the fingerprints are.
fn finding(store: &mut Store, fingerprint: &str) -> Result<FindingDetail> {
    store.finding(fingerprint).map_err(|e| match e {
        keyhound_store::Error::NotFound { .. } => anyhow::Error::new(Hint(
            "`keyhound findings list` shows the fingerprints".into(),
        ))
        .context(e),
        other => other.into(),
    })
}

fn show(global: &GlobalArgs, args: &FindingsShowArgs) -> Result<ExitCode> {
    let mut store = open_store(global, key_for(args.show_secrets))?;
    let detail = finding(&mut store, &args.fingerprint)?;
    let secret = secrets(
        &mut store,
        std::slice::from_ref(&detail.finding),
        args.show_secrets,
    )?
    .pop()
    .flatten();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ListFormat::Json | ListFormat::Jsonl => {
            serde_json::to_writer_pretty(&mut out, &finding_value(&detail, secret.as_ref()))?;
            writeln!(out)?;
        }
        ListFormat::Text => {
            let report = ScanReport {
                findings: vec![detail.finding.to_finding(secret)],
                ..ScanReport::default()
            };
            let opts = render_options(global, FormatArg::Text, false, args.show_secrets, vec![]);
            keyhound_report::render(&report, keyhound_report::Format::Text, &opts, &mut out)?;
            write_detail(&mut out, &detail)?;
        }
        ListFormat::Sarif | ListFormat::Csv => {
            bail!("findings show prints text or json; use findings list for sarif and csv")
        }
    }
    out.flush()?;
    Ok(ExitCode::from(EXIT_CLEAN))
}

fn write_detail(out: &mut dyn Write, d: &FindingDetail) -> io::Result<()> {
    let f = &d.finding;
    let label = |s: &str| format!("  {s:<14} ");
    writeln!(out, "{}{}", label("status"), f.status.as_str())?;
    writeln!(
        out,
        "{}run {} at {}",
        label("first seen"),
        f.first_seen_run,
        when(f.first_seen_at)
    )?;
    writeln!(
        out,
        "{}run {} at {}",
        label("last seen"),
        f.last_seen_run,
        when(f.last_seen_at)
    )?;
    let runs: Vec<String> = d.runs.iter().map(ToString::to_string).collect();
    writeln!(out, "{}{}", label("runs"), runs.join(", "))?;
    writeln!(
        out,
        "{}{}",
        label("value"),
        if f.secret_stored {
            "stored, encrypted"
        } else {
            "not stored"
        }
    )?;
    let stale: Vec<_> = d
        .all_locations
        .iter()
        .filter(|l| l.last_seen_run != f.last_seen_run)
        .collect();
    for (i, l) in stale.iter().enumerate() {
        writeln!(
            out,
            "{}{}:{} (last seen in run {})",
            label(if i == 0 { "earlier at" } else { "" }),
            l.location.path,
            l.location.line,
            l.last_seen_run
        )?;
    }
    if !d.triage.is_empty() {
        writeln!(out, "\n  triage")?;
        for t in &d.triage {
            let comment = t
                .comment
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            writeln!(
                out,
                "    {}  {:<14}  by {}{comment}",
                when(t.at),
                t.status.as_str(),
                t.actor
            )?;
        }
    }
    if !d.validations.is_empty() {
        writeln!(out, "\n  validation")?;
        for v in &d.validations {
            let run = v.run.map(|r| format!(" (run {r})")).unwrap_or_default();
            writeln!(out, "    {}  {}{run}", when(v.checked_at), v.status)?;
        }
    }
    Ok(())
}

fn actor(given: Option<&str>) -> String {
    if let Some(a) = given.filter(|a| !a.trim().is_empty()) {
        return a.trim().to_owned();
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = fs_err::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    if host.is_empty() {
        user
    } else {
        format!("{user}@{host}")
    }
}

fn triage(global: &GlobalArgs, args: &TriageArgs) -> Result<ExitCode> {
    let status = match args.status {
        TriageArg::Open => TriageStatus::Open,
        TriageArg::FalsePositive => TriageStatus::FalsePositive,
        TriageArg::AcceptedRisk => TriageStatus::AcceptedRisk,
        TriageArg::Revoked => TriageStatus::Revoked,
        TriageArg::Fixed => TriageStatus::Fixed,
    };
    let decision = NewTriage {
        status,
        actor: actor(args.actor.as_deref()),
        comment: args.comment.clone(),
    };
    let mut store = open_store(global, KeyUse::None)?;
    let mut events = Vec::new();
    for fp in &args.fingerprints {
        let before = finding(&mut store, fp)?.finding.status;
        let event = store
            .triage(fp, &decision)
            .with_context(|| format!("cannot triage {fp}"))?;
        events.push((before, event));
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ListFormat::Json | ListFormat::Jsonl => {
            let list: Vec<Value> = events
                .iter()
                .map(|(before, e)| {
                    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                    v["previous_status"] = Value::String(before.as_str().to_owned());
                    v
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &json!({ "triage": list }))?;
            writeln!(out)?;
        }
        _ => {
            for (before, e) in &events {
                writeln!(
                    out,
                    "{}: {} -> {} (by {})",
                    e.fingerprint,
                    before.as_str(),
                    e.status.as_str(),
                    e.actor
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::from(EXIT_CLEAN))
}
