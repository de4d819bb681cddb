//! `keyhound replace`: mint a least-privilege, expiring successor and hand it over once.

use std::io::{self, Write as _};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use keyhound_engine::Secret;
use keyhound_jfrog::audit::{AuditLog, AuditRecord};
use keyhound_jfrog::http::{Auth, Call};
use keyhound_jfrog::instance::display_url;
use keyhound_jfrog::mint::{self, MintRequest, successor_scope};
use keyhound_jfrog::revoke::Target;
use keyhound_jfrog::validate::{Validator, Verdict};
use keyhound_jfrog::vault::{self, VaultTarget};
use keyhound_jfrog::{Credential, Resolution};
use serde_json::{Map, Value, json};

use crate::Hint;
use crate::args::{ENV_VAULT_ADDR, ENV_VAULT_TOKEN, GlobalArgs, ReplaceArgs, SimpleFormat};
use crate::cmd_revoke::{audit_target, confirm, resolve_target, trusted_instance};
use crate::settings;

enum Destination {
    File(std::path::PathBuf),
    Stdout,
    Vault(VaultTarget, Secret),
}

impl Destination {
    fn describe(&self) -> String {
        match self {
            Destination::File(p) => format!("file {} (mode 0600)", p.display()),
            Destination::Stdout => "stdout".into(),
            Destination::Vault(t, _) => format!(
                "Vault KV v2 {}/v1/{}/data/{}",
                display_url(&t.addr),
                t.mount,
                t.path
            ),
        }
    }
}

fn destination(args: &ReplaceArgs) -> Result<Destination> {
    if let Some(p) = &args.output_file {
        if p.exists() {
            bail!(
                "{} exists; the new token is written only to a new file",
                p.display()
            );
        }
        return Ok(Destination::File(p.clone()));
    }
    if args.stdout {
        return Ok(Destination::Stdout);
    }
    let addr = args.vault_addr.clone().or_else(|| {
        std::env::var(ENV_VAULT_ADDR)
            .ok()
            .filter(|_| args.vault_path.is_some())
    });
    if let (Some(addr), Some(path)) = (addr, &args.vault_path) {
        let url = url::Url::parse(&addr).context("invalid --vault-addr")?;
        let target = VaultTarget::new(url, path)?;
        let token = std::env::var(ENV_VAULT_TOKEN)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                anyhow::Error::new(Hint(format!("export {ENV_VAULT_TOKEN}=…")))
                    .context("writing to Vault needs a Vault token")
            })?;
        return Ok(Destination::Vault(target, Secret::new(token.trim())));
    }
    Err(anyhow::Error::new(Hint(
        "choose --output-file FILE, --stdout, or --vault-addr URL --vault-path MOUNT/PATH".into(),
    ))
    .context("the new token needs a destination"))
}

fn write_file(path: &std::path::Path, token: &Secret) -> Result<()> {
    let mut opts = fs_err::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(token.expose())?;
    f.write_all(b"\n")?;
    f.flush()?;
    Ok(())
}

/// Runs `keyhound replace`.
pub fn run(global: &GlobalArgs, args: &ReplaceArgs) -> Result<ExitCode> {
    let resolved = resolve_target(&args.target, global)?;
    let files = settings::discover(global, &[])?;
    let mut js = settings::jfrog(&args.jfrog, &files)?;
    if let Some(a) = &args.audit_log {
        js.audit_log = a.clone();
    }
    let instance = trusted_instance(&js, &resolved)?;
    let dest = destination(args)?;
    let admin = js.admin()?;
    let Some(admin) = admin else {
        return Err(anyhow::Error::new(Hint(format!(
            "pass --admin-token-file FILE (or set {})",
            crate::args::ENV_JFROG_ADMIN_TOKEN
        )))
        .context("minting a successor needs an admin credential"));
    };
    let client = js.client()?;
    let rt = settings::runtime()?;

    // The old credential's user: its claims or user name, or the token record (by id).
    let old = resolved.credential.clone();
    let mut user = args
        .target
        .user
        .clone()
        .or_else(|| old.as_ref().and_then(|c| c.username.clone()));
    if user.is_none() {
        if let Target::TokenId(id) = &resolved.target {
            let call = Call::get(
                format!("/access/api/v1/tokens/{id}"),
                Auth::Admin(&admin),
                "replace",
            );
            if let Ok(r) = rt.block_on(client.send(&instance, call)) {
                user = r
                    .json()
                    .and_then(|v| v["subject"].as_str().map(str::to_owned))
                    .map(|s| keyhound_engine::user_from_subject(&s).to_owned());
            }
        }
    }
    let Some(user) = user else {
        return Err(anyhow::Error::new(Hint("give --user NAME".into()))
            .context("the old credential's user is unknown"));
    };
    let placeholder = Credential::from_token(b"", resolved.fingerprint.clone(), None, 0);
    let about = old.as_ref().unwrap_or(&placeholder);
    let (scope, why) = successor_scope(about, args.scope.as_deref());
    let incident = args
        .incident
        .clone()
        .unwrap_or_else(|| format!("keyhound-{}", jiff::Timestamp::now().strftime("%Y%m%d")));
    let old_name = about
        .token_id()
        .map(|id| format!("token {id}"))
        .or_else(|| match &resolved.target {
            Target::TokenId(id) => Some(format!("token {id}")),
            _ => None,
        })
        .unwrap_or_else(|| format!("credential {}", resolved.fingerprint));
    let req = MintRequest {
        username: user.clone(),
        scope: scope.clone(),
        expires_in: args.expires_in,
        description: format!(
            "keyhound replace: successor of leaked {old_name} (incident {incident})"
        ),
    };
    let mut err = io::stderr().lock();
    writeln!(
        err,
        "plan: mint a successor on {}",
        display_url(&instance.url)
    )?;
    writeln!(err, "  user         {user}")?;
    writeln!(err, "  scope        {scope} ({why})")?;
    writeln!(
        err,
        "  expires in   {} s ({:.1} days)",
        req.expires_in,
        req.expires_in as f64 / 86_400.0
    )?;
    writeln!(err, "  description  {}", req.description)?;
    writeln!(err, "  written to   {}", dest.describe())?;
    writeln!(
        err,
        "  POST {}  (admin: Authorization: Bearer)",
        instance.endpoint("/access/api/v1/tokens")
    )?;
    drop(err);
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    confirm(
        &format!("Mint on {}?", display_url(&instance.url)),
        args.yes,
    )?;
    let audit = AuditLog::open(&js.audit_log).context("cannot open the audit log")?;

    let result = rt.block_on(async {
        let minted = mint::mint(&client, &instance, &admin, &req, about).await?;
        let cred = minted.credential(format!("new:{}", minted.token_id));
        let v = Validator::new(client.clone())
            .validate(&cred, &Resolution::Found(instance.clone()))
            .await;
        Ok::<_, mint::Error>((minted, cred, v))
    });
    let (minted, cred, check) = match result {
        Ok(x) => x,
        Err(e) => {
            let _ = audit.record(&AuditRecord {
                time: jiff::Timestamp::now().to_string(),
                action: "replace".into(),
                instance: display_url(&instance.url),
                target: audit_target(&resolved),
                outcome: "failed".into(),
                detail: json!({"error": e.to_string(), "incident": incident}),
            });
            return Err(e).context("minting the successor failed");
        }
    };
    if check.status != Verdict::Live {
        bail!(
            "the new token {} does not work: {}",
            minted.token_id,
            check.display()
        );
    }
    let expires_at = cred
        .facts
        .fields
        .get("expires_at_utc")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let stored = match &dest {
        Destination::File(p) => {
            write_file(p, &minted.access_token)
                .with_context(|| format!("cannot write the new token to {}", p.display()))?;
            json!({"file": p.display().to_string()})
        }
        Destination::Stdout => {
            let mut out = io::stdout().lock();
            out.write_all(minted.access_token.expose())?;
            writeln!(out)?;
            json!({"stdout": true})
        }
        Destination::Vault(target, token) => {
            let mut data = Map::new();
            data.insert(
                "token".into(),
                minted.access_token.expose_str().into_owned().into(),
            );
            data.insert("token_id".into(), minted.token_id.clone().into());
            data.insert("user".into(), user.clone().into());
            data.insert("scope".into(), minted.scope.clone().into());
            data.insert("instance".into(), display_url(&instance.url).into());
            if let Some(e) = &expires_at {
                data.insert("expires_at".into(), e.clone().into());
            }
            let version = rt
                .block_on(vault::write(&client, target, token, data))
                .context("cannot write the new token to Vault")?;
            json!({"vault": format!("{}/{}", target.mount, target.path), "version": version})
        }
    };
    let summary = json!({
        "token_id": minted.token_id,
        "user": user,
        "scope": minted.scope,
        "expires_in": minted.expires_in,
        "expires_at": expires_at,
        "description": req.description,
        "incident": incident,
        "stored": stored,
        "verified": check.display(),
    });
    audit
        .record(&AuditRecord {
            time: jiff::Timestamp::now().to_string(),
            action: "replace".into(),
            instance: display_url(&instance.url),
            target: audit_target(&resolved),
            outcome: "minted".into(),
            detail: summary.clone(),
        })
        .context("cannot write the audit log")?;
    // With --stdout, stdout holds only the token; the summary goes to stderr.
    let mut out: Box<dyn io::Write> = if matches!(dest, Destination::Stdout) {
        Box::new(io::stderr().lock())
    } else {
        Box::new(io::stdout().lock())
    };
    if args.format == SimpleFormat::Json {
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "minted {} for {user}: scope {}, expires {}; written to {}",
            minted.token_id,
            minted.scope,
            expires_at.as_deref().unwrap_or("never"),
            dest.describe()
        )?;
        writeln!(
            out,
            "verified: {} on {}",
            check.display(),
            display_url(&instance.url)
        )?;
        writeln!(
            out,
            "next: roll it out, then revoke the old credential with keyhound revoke"
        )?;
        writeln!(out, "audit log: {}", js.audit_log.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
