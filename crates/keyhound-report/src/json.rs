//! JSON and JSON-lines output.

use std::io::{self, Write};

use keyhound_scan::{Finding, ScanReport};
use serde_json::{Value, json};

use crate::RenderOptions;

/// One finding as a JSON object. `secret` is present only with `show_secrets`, and only when
/// the value is known (see [`keyhound_engine::Secret::withheld`]).
pub fn finding_json(f: &Finding, show_secrets: bool) -> Value {
    let mut v = json!({
        "fingerprint": f.fingerprint,
        "rule_id": f.rule_id,
        "rule_name": f.rule_name,
        "category": f.category,
        "severity": f.severity.as_str(),
        "confidence": f.confidence.as_str(),
        "redacted": f.redacted(),
        "facts": f.facts,
        "locations": f.locations,
    });
    if let Some(val) = &f.checks.validation {
        v["validation"] = val.clone();
    }
    if let Some(b) = &f.checks.blast_radius {
        v["blast_radius"] = b.clone();
    }
    if show_secrets && !f.secret.is_withheld() {
        v["secret"] = Value::String(f.secret.expose_str().into_owned());
    }
    if let Some(p) = f.presence {
        v["presence"] = Value::String(p.as_str().to_owned());
    }
    v
}

/// The run summary: counts, duration and every skipped input.
pub fn summary_json(report: &ScanReport) -> Value {
    let counts: serde_json::Map<String, Value> = report
        .skip_counts()
        .into_iter()
        .map(|(r, n)| (r.as_str().to_owned(), n.into()))
        .collect();
    let skipped: Vec<Value> = report
        .skipped
        .iter()
        .map(|s| json!({"path": s.origin.display_path(), "reason": s.reason.as_str(), "detail": s.detail}))
        .collect();
    let history: Vec<Value> = report
        .repos
        .iter()
        .map(|r| {
            json!({
                "repository": r.display,
                "incremental": !r.replace,
                "blobs_scanned": r.blobs.len(),
                "known_blobs_skipped": r.known_blobs,
                "known_packs_skipped": r.known_packs,
            })
        })
        .collect();
    json!({
        "inputs": report.stats.inputs,
        "bytes": report.stats.bytes,
        "matches": report.stats.matches,
        "findings": report.findings.len(),
        "duration_seconds": report.stats.duration.as_secs_f64(),
        "skipped": counts,
        "skipped_inputs": skipped,
        "errors": report.has_errors(),
        "suppressed": report.suppressed,
        "history": history,
    })
}

pub(crate) fn render(
    report: &ScanReport,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| finding_json(f, opts.show_secrets))
        .collect();
    let doc = json!({
        "tool": {"name": "keyhound", "version": opts.tool_version},
        "findings": findings,
        "summary": summary_json(report),
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub(crate) fn render_lines(
    report: &ScanReport,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for f in &report.findings {
        serde_json::to_writer(&mut *out, &finding_json(f, opts.show_secrets))?;
        writeln!(out)?;
    }
    Ok(())
}
