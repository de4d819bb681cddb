//! `keyhound inspect TOKEN|-`.

use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;

use anyhow::{Context, Result};
use keyhound_jfrog::blast::blast_radius;
use keyhound_jfrog::inspect::{InspectOptions, Inspection, inspect};
use keyhound_jfrog::validate::{self, Validator, Verdict};
use keyhound_jfrog::{Credential, Resolution};
use keyhound_scan::{FingerprintKey, fingerprint};
use serde_json::{Value, json};

use crate::Hint;
use crate::args::{GlobalArgs, InspectArgs, SimpleFormat};
use crate::settings;

/// The rule family of a kind, so that `inspect` prints the same fingerprint as `scan`.
fn family(kind: &str) -> &'static str {
    match kind {
        "api_key" => "keyhound.jfrog.1",
        "reference_token" => "keyhound.jfrog.2",
        "access_token" | "identity_token" => "keyhound.jfrog.3",
        "jfrog_cli_config_token" => "keyhound.jfrog.14",
        _ => "keyhound.inspect",
    }
}

/// Reads a secret given as an argument or as `-` (stdin).
pub fn read_value(arg: &str, global: &GlobalArgs) -> Result<Vec<u8>> {
    if arg == "-" {
        let mut buf = Vec::new();
        io::stdin()
            .lock()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .context("cannot read the token from stdin")?;
        let trimmed = String::from_utf8_lossy(&buf).trim().as_bytes().to_vec();
        return Ok(trimmed);
    }
    if !global.quiet {
        eprintln!(
            "note: a token given as an argument stays in your shell history; pass - and pipe it next time"
        );
    }
    Ok(arg.trim().as_bytes().to_vec())
}

fn fact_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(fact_text).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// Writes a validation and blast radius as text lines (shared with `revoke`).
pub fn write_checks(
    out: &mut dyn io::Write,
    validation: Option<&Value>,
    radius: Option<&Value>,
) -> io::Result<()> {
    if let Some(v) = validation {
        let status = v["status"].as_str().unwrap_or("unknown");
        let mut line = match (status, v["reason"].as_str()) {
            ("forbidden", _) => "forbidden (live but restricted)".to_owned(),
            ("unknown", Some(r)) => format!("unknown ({r})"),
            (s, _) => s.to_owned(),
        };
        let mut ev = Vec::new();
        if let Some(i) = v["instance"].as_str() {
            ev.push(i.to_owned());
        }
        if let (Some(e), Some(s)) = (v["endpoint"].as_str(), v["http_status"].as_u64()) {
            ev.push(format!("{e} -> {s}"));
        }
        if let Some(t) = v["checked_at"].as_str() {
            ev.push(t.to_owned());
        }
        if !ev.is_empty() {
            line.push_str(&format!(" [{}]", ev.join(", ")));
        }
        writeln!(out, "  {:<14} {line}", "validation")?;
        if let (Some(r), "live" | "invalid" | "revoked") = (v["reason"].as_str(), status) {
            writeln!(out, "  {:<14} {r}", "")?;
        }
    }
    if let Some(r) = radius {
        writeln!(
            out,
            "  {:<14} {} ({})",
            "blast radius",
            r["summary"].as_str().unwrap_or(""),
            r["severity"].as_str().unwrap_or("")
        )?;
        if let Some(u) = r["user"].as_str() {
            let groups: Vec<&str> = r["groups"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            writeln!(
                out,
                "  {:<14} {u}{}{}",
                "acts as",
                if r["admin"] == true { " (admin)" } else { "" },
                if groups.is_empty() {
                    String::new()
                } else {
                    format!(", groups: {}", groups.join(", "))
                }
            )?;
        }
        for repo in r["repositories"].as_array().into_iter().flatten() {
            let flag = |k: &str| match repo[k].as_bool() {
                Some(true) => k.to_owned(),
                Some(false) => String::new(),
                None => format!("{k}?"),
            };
            let rights: Vec<String> = ["read", "deploy", "delete", "manage"]
                .iter()
                .map(|k| flag(k))
                .filter(|s| !s.is_empty())
                .collect();
            writeln!(
                out,
                "  {:<14}   {} ({} {}): {}",
                "",
                repo["key"].as_str().unwrap_or(""),
                repo["type"].as_str().unwrap_or(""),
                repo["package_type"].as_str().unwrap_or(""),
                rights.join(" ")
            )?;
        }
        for n in r["notes"].as_array().into_iter().flatten() {
            writeln!(out, "  {:<14} note: {}", "", n.as_str().unwrap_or(""))?;
        }
    }
    Ok(())
}

fn write_text(
    out: &mut dyn io::Write,
    i: Option<&Inspection>,
    fp: &str,
    validation: Option<&Value>,
    radius: Option<&Value>,
) -> io::Result<()> {
    let label = |s: &str| format!("  {s:<14} ");
    match i {
        Some(i) => {
            writeln!(out, "{}{}", label("kind"), i.kind)?;
            writeln!(out, "{}{fp}", label("fingerprint"))?;
            for (k, v) in &i.facts.fields {
                writeln!(out, "{}{}", label(k), fact_text(v))?;
            }
            if i.risks.is_empty() {
                writeln!(out, "{}none", label("risks"))?;
            }
            for (n, r) in i.risks.iter().enumerate() {
                writeln!(
                    out,
                    "{}{}: {}",
                    label(if n == 0 { "risks" } else { "" }),
                    r.code,
                    r.message
                )?;
            }
        }
        None => {
            writeln!(
                out,
                "{}password (not a recognised token format)",
                label("kind")
            )?;
            writeln!(out, "{}{fp}", label("fingerprint"))?;
        }
    }
    write_checks(out, validation, radius)
}

/// Runs `keyhound inspect`.
pub fn run(global: &GlobalArgs, args: &InspectArgs) -> Result<ExitCode> {
    let value = read_value(&args.token, global)?;
    let now = keyhound_jfrog::now();
    let opts = InspectOptions {
        now,
        max_age_days: Some(args.max_age_days),
    };
    let inspection = inspect(&value, &opts);
    if inspection.is_none() && args.user.is_none() {
        return Err(anyhow::Error::new(Hint(
            "keyhound recognises JFrog API keys (AKCp…), reference tokens (cmVmdGtu…), access \
             tokens (JWTs issued by a JFrog service) and config tokens; for a password, give \
             --user NAME"
                .into(),
        ))
        .context("not a recognised JFrog token"));
    }
    let kind = inspection.as_ref().map_or("password", |i| i.kind.as_str());
    let fp = fingerprint(&FingerprintKey::default(), family(kind), &value);
    let cred = Credential::from_token(&value, fp.clone(), args.user.clone(), now);

    let mut validation = None;
    let mut radius = None;
    if args.validate || args.validate_plan {
        let files = settings::discover(global, &[])?;
        let js = settings::jfrog(&args.jfrog, &files)?;
        let resolution = js.resolver.resolve(None, cred.instance_id());
        if args.validate_plan {
            let plan = validate::plan(&cred, &resolution);
            let mut out = io::stdout().lock();
            if args.format == SimpleFormat::Json {
                serde_json::to_writer_pretty(&mut out, &json!({ "requests": plan }))?;
                writeln!(out)?;
            } else if plan.is_empty() {
                let why = match &resolution {
                    Resolution::None { reason } => reason.clone(),
                    Resolution::Found(_) if cred.expired_offline() => {
                        "expired: decided offline".into()
                    }
                    Resolution::Found(_) => cred
                        .auth_style()
                        .err()
                        .unwrap_or("nothing to check")
                        .to_owned(),
                };
                writeln!(out, "no request would be sent: {why}")?;
            } else {
                for p in &plan {
                    writeln!(
                        out,
                        "{} {}  auth={}  fingerprint={}  when={}",
                        p.method, p.url, p.auth, p.fingerprint, p.when
                    )?;
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        let admin = js.admin()?;
        let client = js.client()?;
        let rt = settings::runtime()?;
        let (v, r) = rt.block_on(async {
            let validator = Validator::new(client.clone());
            let v = validator.validate(&cred, &resolution).await;
            let r = match (&resolution, v.status) {
                (Resolution::Found(i), Verdict::Live | Verdict::Forbidden)
                    if !args.no_blast_radius =>
                {
                    Some(blast_radius(&client, &cred, i, &v, admin.as_ref()).await)
                }
                _ => None,
            };
            (v, r)
        });
        validation = serde_json::to_value(&v).ok();
        radius = r.and_then(|r| serde_json::to_value(r).ok());
        if !global.quiet {
            eprintln!("egress log: {}", js.egress_log.display());
        }
    }

    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        SimpleFormat::Json => {
            let mut doc = match &inspection {
                Some(i) => json!({
                    "kind": i.kind,
                    "fingerprint": fp,
                    "redacted": cred.secret.redacted(),
                    "facts": i.facts,
                    "risks": i.risks,
                }),
                None => {
                    json!({"kind": "password", "fingerprint": fp, "redacted": cred.secret.redacted()})
                }
            };
            if let Some(v) = validation {
                doc["validation"] = v;
            }
            if let Some(r) = radius {
                doc["blast_radius"] = r;
            }
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        SimpleFormat::Text => write_text(
            &mut out,
            inspection.as_ref(),
            &fp,
            validation.as_ref(),
            radius.as_ref(),
        )?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
