//! Human-readable output. Reads correctly without colour; colour only marks severity and
//! dims labels.

use std::io::{self, Write};

use keyhound_rules::Severity;
use keyhound_scan::{Finding, ScanReport};
use serde_json::Value;

use crate::RenderOptions;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn severity(&self, s: Severity) -> String {
        let label = s.as_str().to_uppercase();
        let code = match s {
            Severity::Critical => "1;97;41",
            Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "1;34",
            Severity::Info => "2",
        };
        self.wrap(code, &label)
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
}

fn fact_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(fact_value).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn finding(f: &Finding, opts: &RenderOptions, p: &Paint, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}  {} {}",
        p.severity(f.severity),
        p.bold(&f.rule_name),
        p.dim(&format!("[{}]", f.rule_id))
    )?;
    let secret = opts.shown_secret(f);
    let label = |s: &str| p.dim(&format!("  {s:<14} "));
    writeln!(out, "{}{secret}", label("secret"))?;
    writeln!(out, "{}{}", label("confidence"), f.confidence.as_str())?;
    writeln!(out, "{}{}", label("fingerprint"), f.fingerprint)?;
    if let Some(kind) = &f.facts.kind {
        writeln!(out, "{}{kind}", label("kind"))?;
    }
    if !f.facts.flags.is_empty() {
        let flags: Vec<&str> = f.facts.flags.iter().map(|fl| fl.as_str()).collect();
        writeln!(out, "{}{}", label("flags"), flags.join(", "))?;
    }
    for (k, v) in &f.facts.fields {
        writeln!(out, "{}{}", label(k), fact_value(v))?;
    }
    if let Some(p) = f.presence {
        let what = match p {
            keyhound_scan::Presence::Head => "at HEAD",
            keyhound_scan::Presence::WorkingTree => "in the working tree only (not committed)",
            keyhound_scan::Presence::HistoryOnly => "in history only",
        };
        writeln!(out, "{}{what}", label("presence"))?;
    }
    if let (Some(verdict), Some(v)) = (crate::verdict(f), &f.checks.validation) {
        let mut evidence = Vec::new();
        if let Some(i) = v.get("instance").and_then(Value::as_str) {
            evidence.push(i.to_owned());
        }
        if let (Some(e), Some(s)) = (
            v.get("endpoint").and_then(Value::as_str),
            v.get("http_status").and_then(Value::as_u64),
        ) {
            evidence.push(format!("{e} -> {s}"));
        }
        let evidence = if evidence.is_empty() {
            String::new()
        } else {
            format!(" [{}]", evidence.join(", "))
        };
        writeln!(out, "{}{}{evidence}", label("validation"), p.bold(&verdict))?;
    }
    if let Some(b) = &f.checks.blast_radius {
        if let Some(summary) = b.get("summary").and_then(Value::as_str) {
            writeln!(out, "{}{summary}", label("blast radius"))?;
        }
    }
    for (i, l) in f.locations.iter().enumerate() {
        let mut at = format!("{}:{}:{}", l.path, l.line, l.column);
        if let Some(g) = &l.git {
            match &g.commit {
                Some(c) => {
                    let short = &c[..c.len().min(12)];
                    let who = match (&g.author_name, &g.author_email) {
                        (Some(n), Some(e)) => format!(" by {n} <{e}>"),
                        _ => String::new(),
                    };
                    let when = g
                        .author_date
                        .as_deref()
                        .map(|d| format!(" on {d}"))
                        .unwrap_or_default();
                    at.push_str(&format!(" (commit {short}{who}{when}"));
                    if g.dangling {
                        at.push_str(", dangling");
                    }
                    at.push(')');
                }
                None if g.staged => at.push_str(" (staged)"),
                None => at.push_str(&format!(" (blob {})", &g.blob[..g.blob.len().min(12)])),
            }
        }
        if let Some(rule) = &l.decoded_from {
            at.push_str(&format!(" (decoded from {rule})"));
        }
        if let Some(enc) = l.encoding {
            at.push_str(&format!(" ({enc})"));
        }
        if let Some(removed) = l.image.as_ref().and_then(|i| i.removed_in.as_deref()) {
            at.push_str(&format!(
                " (deleted or replaced in layer {}, still in the image)",
                keyhound_sources::short_digest(removed)
            ));
        }
        writeln!(out, "{}{at}", label(if i == 0 { "location" } else { "" }))?;
    }
    writeln!(out)
}

pub(crate) fn render(
    report: &ScanReport,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let p = Paint { on: opts.color };
    for f in &report.findings {
        finding(f, opts, &p, out)?;
    }
    Ok(())
}
