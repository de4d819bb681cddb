//! `keyhound revoke`.

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use keyhound_engine::{Facts, Flag, Secret};
use keyhound_jfrog::audit::{AuditLog, AuditRecord};
use keyhound_jfrog::instance::{Instance, display_url};
use keyhound_jfrog::revoke::{self, Target};
use keyhound_jfrog::validate::Validator;
use keyhound_jfrog::{Credential, Resolution};
use keyhound_scan::{FingerprintKey, fingerprint};
use serde_json::{Value, json};

use crate::Hint;
use crate::args::{GlobalArgs, RevokeArgs, SimpleFormat, TargetArgs};
use crate::settings::{self, JfrogSettings};

/// What the user pointed at.
pub struct Resolved {
    /// The revoke target.
    pub target: Target,
    /// The credential, when its value is known.
    pub credential: Option<Credential>,
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The instance URL found beside it in the scan (from a report).
    pub beside: Option<String>,
}

fn looks_like_fingerprint(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Resolves `TOKEN|-|FINGERPRINT` (with `--report`) or `--token-id`.
pub fn resolve_target(t: &TargetArgs, global: &GlobalArgs) -> Result<Resolved> {
    let now = keyhound_jfrog::now();
    if let Some(id) = &t.token_id {
        return Ok(Resolved {
            target: Target::TokenId(id.clone()),
            credential: None,
            fingerprint: format!("token-id:{id}"),
            beside: None,
        });
    }
    let arg = t.target.as_deref().unwrap_or("-");
    if let Some(report) = &t.report {
        let text = fs_err::read_to_string(report).context("cannot read the report")?;
        let doc: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a keyhound JSON report", report.display()))?;
        let findings: Vec<Value> = match &doc {
            Value::Object(o) => o
                .get("findings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            Value::Array(a) => a.clone(),
            _ => Vec::new(),
        };
        let f = findings
            .iter()
            .find(|f| f["fingerprint"] == arg)
            .ok_or_else(|| {
                anyhow::anyhow!("no finding with fingerprint {arg} in {}", report.display())
            })?;
        let facts = facts_from_json(&f["facts"]);
        let beside = f["facts"]["instance_url"].as_str().map(str::to_owned);
        let rule = f["rule_id"].as_str().unwrap_or("");
        if let Some(secret) = f["secret"].as_str() {
            let cred = Credential::from_finding(rule, &Secret::new(secret), &facts, arg, now)
                .ok_or_else(|| anyhow::anyhow!("finding {arg} is not a JFrog credential"))?;
            return Ok(Resolved {
                target: Target::Value(cred.clone()),
                credential: Some(cred),
                fingerprint: arg.to_owned(),
                beside,
            });
        }
        if let Some(id) = f["facts"]["token_id"].as_str() {
            return Ok(Resolved {
                target: Target::TokenId(id.to_owned()),
                credential: None,
                fingerprint: arg.to_owned(),
                beside,
            });
        }
        return Err(anyhow::Error::new(Hint(
            "rerun the scan with --show-secrets, or give the token with - on stdin".into(),
        ))
        .context(format!(
            "the report has neither the value nor a token id for finding {arg}"
        )));
    }
    if looks_like_fingerprint(arg) {
        return Err(anyhow::Error::new(Hint(
            "add --report scan.json (from keyhound scan --format json)".into(),
        ))
        .context(format!("{arg} looks like a finding fingerprint")));
    }
    let value = crate::cmd_inspect::read_value(arg, global)?;
    if value.is_empty() {
        bail!("no token given");
    }
    let kind = keyhound_jfrog::inspect::inspect(&value, &Default::default())
        .map(|i| i.kind)
        .unwrap_or_default();
    let family = match kind.as_str() {
        "api_key" => "keyhound.jfrog.1",
        "reference_token" => "keyhound.jfrog.2",
        "access_token" | "identity_token" => "keyhound.jfrog.3",
        _ => "keyhound.inspect",
    };
    let fp = fingerprint(&FingerprintKey::default(), family, &value);
    let cred = Credential::from_token(&value, fp.clone(), None, now);
    Ok(Resolved {
        target: Target::Value(cred.clone()),
        credential: Some(cred),
        fingerprint: fp,
        beside: None,
    })
}

/// A finding's `facts` object from a JSON report back into [`Facts`].
fn facts_from_json(v: &Value) -> Facts {
    let mut facts = Facts::default();
    let Some(obj) = v.as_object() else {
        return facts;
    };
    for (k, val) in obj {
        match k.as_str() {
            "kind" => facts.kind = val.as_str().map(str::to_owned),
            "flags" => {
                for flag in val
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    let f = match flag {
                        "never_expires" => Flag::NeverExpires,
                        "admin_scope" => Flag::AdminScope,
                        "expired" => Flag::Expired,
                        "deprecated" => Flag::Deprecated,
                        _ => continue,
                    };
                    facts.flag(f);
                }
            }
            _ => {
                facts.set(k, val.clone());
            }
        }
    }
    facts
}

/// The instance for revoke and replace: only one the user named. The admin credential is
/// never sent to a URL that merely appeared in scanned files.
pub fn trusted_instance(js: &JfrogSettings, r: &Resolved) -> Result<Instance> {
    let token_instance = r.credential.as_ref().and_then(|c| c.instance_id());
    match js.resolver.resolve(r.beside.as_deref(), token_instance) {
        Resolution::Found(i) if i.trusted => Ok(i),
        Resolution::Found(i) => Err(anyhow::Error::new(Hint(format!(
            "name the instance with --jfrog-url {} (or [[jfrog.instances]]) if it is yours",
            display_url(&i.url)
        )))
        .context(format!(
            "{} was found beside the credential but is not an instance you named; the admin \
             credential goes only to instances you name",
            display_url(&i.url)
        ))),
        Resolution::None { reason } => Err(anyhow::Error::new(Hint(
            "give --jfrog-url URL or configure [[jfrog.instances]] in keyhound.toml".into(),
        ))
        .context(format!("no instance to revoke on ({reason})"))),
    }
}

/// Asks on the terminal; refuses without one.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        return Err(anyhow::Error::new(Hint(
            "run it on a terminal to confirm, or pass --yes".into(),
        ))
        .context("refusing to act without confirmation"));
    }
    eprint!("{question} [y/N] ");
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        bail!("cancelled")
    }
}

/// The audit target: fingerprint, token id, kind, never the value.
pub fn audit_target(r: &Resolved) -> Value {
    let mut t = json!({"fingerprint": r.fingerprint});
    match (&r.target, &r.credential) {
        (Target::TokenId(id), _) => t["token_id"] = id.clone().into(),
        (_, Some(c)) => {
            t["kind"] = c.value_kind().as_str().into();
            t["redacted"] = c.secret.redacted().into();
            if let Some(id) = c.token_id() {
                t["token_id"] = id.into();
            }
        }
        _ => {}
    }
    t
}

/// Runs `keyhound revoke`.
pub fn run(global: &GlobalArgs, args: &RevokeArgs) -> Result<ExitCode> {
    let resolved = resolve_target(&args.target, global)?;
    let files = settings::discover(global, &[])?;
    let mut js = settings::jfrog(&args.jfrog, &files)?;
    if let Some(a) = &args.audit_log {
        js.audit_log = a.clone();
    }
    let instance = trusted_instance(&js, &resolved)?;
    let plan = revoke::plan(&resolved.target, &instance, args.target.user.as_deref())?;
    let mut err = io::stderr().lock();
    writeln!(
        err,
        "plan: {} on {}",
        plan.description,
        display_url(&instance.url)
    )?;
    for s in &plan.steps {
        writeln!(err, "  {} {}  ({}; {})", s.method, s.url, s.auth, s.when)?;
    }
    drop(err);
    if args.dry_run {
        if args.format == SimpleFormat::Json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"dry_run": true, "plan": plan}))?
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let admin = js.admin()?;
    if plan.needs_admin && admin.is_none() {
        return Err(anyhow::Error::new(Hint(format!(
            "put an admin token in a file and pass --admin-token-file FILE (or set {})",
            crate::args::ENV_JFROG_ADMIN_TOKEN
        )))
        .context("revoking needs an admin credential"));
    }
    confirm(
        &format!("Revoke on {}?", display_url(&instance.url)),
        args.yes,
    )?;
    let audit = AuditLog::open(&js.audit_log).context("cannot open the audit log")?;
    let client = js.client()?;
    let rt = settings::runtime()?;
    let result = rt.block_on(async {
        let outcome = revoke::revoke(
            &client,
            &instance,
            &resolved.target,
            admin.as_ref(),
            args.target.user.as_deref(),
        )
        .await?;
        // Verify: the credential must now be dead.
        let verified = match (&resolved.credential, &resolved.target, &admin) {
            (Some(cred), _, _) => {
                let v = Validator::new(client.clone())
                    .validate(cred, &Resolution::Found(instance.clone()))
                    .await;
                (!v.status.is_live(), Some(v))
            }
            (None, Target::TokenId(id), Some(a)) => {
                (revoke::gone_by_id(&client, &instance, id, a).await?, None)
            }
            _ => (false, None),
        };
        Ok::<_, revoke::Error>((outcome, verified))
    });
    let (outcome, (dead, check)) = match result {
        Ok(x) => x,
        Err(e) => {
            let _ = audit.record(&AuditRecord {
                time: jiff::Timestamp::now().to_string(),
                action: "revoke".into(),
                instance: display_url(&instance.url),
                target: audit_target(&resolved),
                outcome: "failed".into(),
                detail: json!({"error": e.to_string()}),
            });
            return Err(e).context("revocation failed");
        }
    };
    let state = if outcome.already {
        "already_revoked"
    } else {
        "revoked"
    };
    audit
        .record(&AuditRecord {
            time: jiff::Timestamp::now().to_string(),
            action: "revoke".into(),
            instance: display_url(&instance.url),
            target: audit_target(&resolved),
            outcome: state.into(),
            detail: json!({
                "endpoint": outcome.endpoint,
                "http_status": outcome.http_status,
                "token_id": outcome.token_id,
                "verified_dead": dead,
            }),
        })
        .context("cannot write the audit log")?;
    let mut out = io::stdout().lock();
    if args.format == SimpleFormat::Json {
        serde_json::to_writer_pretty(
            &mut out,
            &json!({"outcome": state, "revocation": outcome, "verified_dead": dead, "validation": check}),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{state}: {} ({} -> {})",
            plan.description, outcome.endpoint, outcome.http_status
        )?;
        match &check {
            Some(v) => writeln!(out, "verified: {} after revocation", v.display())?,
            None if dead => writeln!(out, "verified: the instance no longer knows the token")?,
            None => {}
        }
        writeln!(out, "audit log: {}", js.audit_log.display())?;
    }
    if !dead {
        bail!("the credential still works after revocation");
    }
    Ok(ExitCode::SUCCESS)
}
