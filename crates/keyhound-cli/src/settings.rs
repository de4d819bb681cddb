//! Settings resolved once: flags > environment (both through clap) > configuration file >
//! defaults.
//!
//! Configuration files are TOML named `keyhound.toml`. `--config FILE` (or `KEYHOUND_CONFIG`)
//! names the only one used; otherwise the user's file (`$XDG_CONFIG_HOME/keyhound/` or
//! `~/.config/keyhound/`) and the scanned repository's root file are read. A repository is not
//! the user: from its file only `[[jfrog.instances]]` is taken, and those instances are not
//! trusted for private addresses; every other key there is ignored with a warning.
//!
//! Each section is its own struct, so that sections added later (`[allowlist]`, `[store]`)
//! stay independent.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use keyhound_jfrog::http::{ClientOptions, EgressLog, JsonLinesLog};
use keyhound_jfrog::instance::{InstanceSource, parse_instance_url};
use keyhound_jfrog::{Client, Credential, InstanceResolver, TrustedInstance};
use serde::Deserialize;

use crate::Hint;
use crate::args::{ENV_JFROG_ADMIN_TOKEN, GlobalArgs, JfrogArgs};

/// The name of configuration files.
pub const FILE_NAME: &str = "keyhound.toml";

/// A configuration file. Unknown top-level sections are ignored (other versions of keyhound
/// may know them); unknown keys inside a known section are errors.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigFile {
    /// `[jfrog]`.
    #[serde(default)]
    pub jfrog: JfrogSection,
}

/// `[jfrog]`: instances and network settings for validation, revocation and replacement.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JfrogSection {
    /// `[[jfrog.instances]]`.
    #[serde(default)]
    pub instances: Vec<InstanceEntry>,
    /// Allow plain http:// instances.
    pub allow_http: Option<bool>,
    /// Request timeout in seconds.
    pub timeout_seconds: Option<f64>,
    /// Maximum requests per second to one instance.
    pub requests_per_second: Option<f64>,
    /// Extra CA certificates (PEM files).
    #[serde(default)]
    pub ca_certs: Vec<PathBuf>,
    /// Egress log path.
    pub egress_log: Option<PathBuf>,
    /// Audit log path.
    pub audit_log: Option<PathBuf>,
    /// A file holding an admin access token.
    pub admin_token_file: Option<PathBuf>,
}

/// One `[[jfrog.instances]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceEntry {
    /// Base URL (`https://acme.jfrog.io`) or any URL on the instance.
    pub url: String,
    /// A name for messages.
    pub name: Option<String>,
    /// The instance id in its tokens (`jfac@<id>`), to match tokens to instances.
    pub instance_id: Option<String>,
    /// Use for tokens that nothing else places.
    #[serde(default)]
    pub default: bool,
}

/// A configuration file that was read.
#[derive(Debug)]
pub struct Loaded {
    /// Where.
    pub path: PathBuf,
    /// The user's own (`Config`) or a scanned repository's (`RepoConfig`).
    pub source: InstanceSource,
    /// Content.
    pub file: ConfigFile,
}

fn read(path: &Path, source: InstanceSource) -> Result<Loaded> {
    let text = fs_err::read_to_string(path).context("cannot read the configuration file")?;
    let file: ConfigFile = toml::from_str(&text)
        .with_context(|| format!("invalid configuration file {}", path.display()))?;
    if source == InstanceSource::RepoConfig {
        let j = &file.jfrog;
        if j.allow_http.is_some()
            || j.timeout_seconds.is_some()
            || j.requests_per_second.is_some()
            || !j.ca_certs.is_empty()
            || j.egress_log.is_some()
            || j.audit_log.is_some()
            || j.admin_token_file.is_some()
        {
            tracing::warn!(
                path = %path.display(),
                "a scanned repository's keyhound.toml may only list [[jfrog.instances]]; its other [jfrog] keys are ignored"
            );
        }
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        source,
        file,
    })
}

/// `$XDG_CONFIG_HOME/keyhound/keyhound.toml` or `~/.config/keyhound/keyhound.toml`.
pub fn user_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("keyhound").join(FILE_NAME))
}

/// `$XDG_DATA_HOME/keyhound` or `~/.local/share/keyhound` (egress and audit logs).
pub fn data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("keyhound")
}

/// Reads the configuration files in effect. `roots` are the scanned paths: the first
/// directory among them is the repository whose `keyhound.toml` is read.
pub fn discover(global: &GlobalArgs, roots: &[PathBuf]) -> Result<Vec<Loaded>> {
    if let Some(path) = &global.config {
        return Ok(vec![read(path, InstanceSource::Config)?]);
    }
    let mut out = Vec::new();
    if let Some(path) = user_config_path().filter(|p| p.is_file()) {
        out.push(read(&path, InstanceSource::Config)?);
    }
    if let Some(root) = roots.iter().find(|r| r.is_dir()) {
        let path = root.join(FILE_NAME);
        if path.is_file() {
            out.push(read(&path, InstanceSource::RepoConfig)?);
        }
    }
    Ok(out)
}

/// Everything the JFrog commands need, resolved.
#[derive(Debug)]
pub struct JfrogSettings {
    /// HTTP client settings.
    pub client: ClientOptions,
    /// Instance resolution.
    pub resolver: InstanceResolver,
    /// Egress log path.
    pub egress_log: PathBuf,
    /// Audit log path.
    pub audit_log: PathBuf,
    /// Admin token file from `--admin-token-file`.
    pub admin_token_flag: Option<PathBuf>,
    /// Admin token file from the configuration (below the environment variable).
    pub admin_token_config: Option<PathBuf>,
}

fn parse_resolve(spec: &str) -> Result<(String, u16, IpAddr)> {
    let bad = || {
        Hint(format!(
            "--resolve {spec:?} must be HOST:PORT:ADDR, such as evil.example:443:127.0.0.1"
        ))
    };
    let (host, rest) = spec.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addr: IpAddr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad().into());
    }
    Ok((host.to_ascii_lowercase(), port, addr))
}

/// Merges flags, environment and files.
pub fn jfrog(args: &JfrogArgs, files: &[Loaded]) -> Result<JfrogSettings> {
    // The user's files, later ones winning; a repository's file contributes instances only.
    let own: Vec<&JfrogSection> = files
        .iter()
        .filter(|f| f.source == InstanceSource::Config)
        .map(|f| &f.file.jfrog)
        .collect();
    let pick = |f: &dyn Fn(&JfrogSection) -> Option<f64>| own.iter().rev().find_map(|s| f(s));
    let mut client = ClientOptions {
        allow_http: args.allow_http || own.iter().any(|s| s.allow_http == Some(true)),
        ..ClientOptions::default()
    };
    if let Some(t) = args.timeout.or_else(|| pick(&|s| s.timeout_seconds)) {
        if !(t > 0.0 && t.is_finite()) {
            bail!("the timeout must be a positive number of seconds");
        }
        client.timeout = Duration::from_secs_f64(t);
        client.connect_timeout = client.connect_timeout.min(client.timeout);
    }
    if let Some(r) = args.rate.or_else(|| pick(&|s| s.requests_per_second)) {
        if !(r > 0.0 && r.is_finite()) {
            bail!("the rate must be a positive number of requests per second");
        }
        client.min_interval = Duration::from_secs_f64(1.0 / r);
    }
    let ca_files: Vec<PathBuf> = args
        .ca_cert
        .iter()
        .cloned()
        .chain(own.iter().flat_map(|s| s.ca_certs.iter().cloned()))
        .collect();
    for path in ca_files {
        let pem = fs_err::read(&path).context("cannot read the CA certificate")?;
        client.extra_roots_pem.push(pem);
    }
    for spec in &args.resolve {
        client.resolve.push(parse_resolve(spec)?);
    }

    let flag = match &args.jfrog_url {
        Some(u) => Some(TrustedInstance {
            url: parse_instance_url(u).context("invalid --jfrog-url")?,
            name: None,
            instance_id: None,
            default: true,
            source: InstanceSource::Flag,
        }),
        None => None,
    };
    let mut configured = Vec::new();
    for f in files {
        for e in &f.file.jfrog.instances {
            configured.push(TrustedInstance {
                url: parse_instance_url(&e.url)
                    .with_context(|| format!("invalid instance url in {}", f.path.display()))?,
                name: e.name.clone(),
                instance_id: e.instance_id.clone(),
                default: e.default,
                source: f.source,
            });
        }
    }
    let dir = data_dir();
    Ok(JfrogSettings {
        client,
        resolver: InstanceResolver { flag, configured },
        egress_log: args
            .egress_log
            .clone()
            .or_else(|| own.iter().rev().find_map(|s| s.egress_log.clone()))
            .unwrap_or_else(|| dir.join("egress.jsonl")),
        audit_log: own
            .iter()
            .rev()
            .find_map(|s| s.audit_log.clone())
            .unwrap_or_else(|| dir.join("audit.jsonl")),
        admin_token_flag: args.admin_token_file.clone(),
        admin_token_config: own.iter().rev().find_map(|s| s.admin_token_file.clone()),
    })
}

impl JfrogSettings {
    /// The HTTP client, writing to the egress log (opened now).
    pub fn client(&self) -> Result<Arc<Client>> {
        let log: Arc<dyn EgressLog> =
            Arc::new(JsonLinesLog::open(&self.egress_log).context("cannot open the egress log")?);
        Ok(Arc::new(Client::new(self.client.clone(), log)))
    }

    /// The admin credential from `--admin-token-file` (or the configuration) or
    /// `KEYHOUND_JFROG_ADMIN_TOKEN`, never from an argument.
    pub fn admin(&self) -> Result<Option<Credential>> {
        let env = std::env::var(ENV_JFROG_ADMIN_TOKEN)
            .ok()
            .filter(|v| !v.trim().is_empty());
        // Flag > environment > file.
        let file = match (&self.admin_token_flag, &env) {
            (Some(p), _) => Some(p),
            (None, Some(_)) => None,
            (None, None) => self.admin_token_config.as_ref(),
        };
        let value = match file {
            Some(path) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt as _;
                    if let Ok(meta) = fs_err::metadata(path) {
                        if meta.permissions().mode() & 0o077 != 0 {
                            tracing::warn!(path = %path.display(), "the admin token file is readable by other users; chmod 600 it");
                        }
                    }
                }
                fs_err::read_to_string(path)
                    .context("cannot read the admin token file")?
                    .trim()
                    .to_owned()
            }
            None => match env {
                Some(v) => v.trim().to_owned(),
                None => return Ok(None),
            },
        };
        if value.is_empty() {
            bail!("the admin token file is empty");
        }
        let cred = Credential::from_token(
            value.as_bytes(),
            "admin".into(),
            None,
            keyhound_jfrog::now(),
        );
        if cred.auth_style().is_err() {
            return Err(anyhow::Error::new(Hint(
                "put an admin access token (a JWT or reference token) in the file".into(),
            ))
            .context("the admin credential is not an access token"));
        }
        Ok(Some(cred))
    }
}

/// A runtime for the network commands.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_sections() {
        let file: ConfigFile = toml::from_str(
            r#"
            [[jfrog.instances]]
            url = "https://acme.jfrog.io"
            name = "acme"
            instance_id = "01c3gffhg2e8w6149e3a2q0w97"
            default = true

            [jfrog]
            timeout_seconds = 3

            [allowlist]
            paths = ["vendor/"]
            "#,
        )
        .expect("parses; unknown sections are left to their own structs");
        assert_eq!(file.jfrog.instances.len(), 1);
        assert!(file.jfrog.instances[0].default);
        assert!(toml::from_str::<ConfigFile>("[jfrog]\nurl = 1\n").is_err());
    }

    #[test]
    fn precedence_flag_over_file() {
        let loaded = Loaded {
            path: "k.toml".into(),
            source: InstanceSource::Config,
            file: toml::from_str("[jfrog]\ntimeout_seconds = 3\nallow_http = true\n")
                .expect("parses"),
        };
        let s = jfrog(&JfrogArgs::default(), std::slice::from_ref(&loaded)).expect("settings");
        assert_eq!(s.client.timeout, Duration::from_secs(3));
        assert!(s.client.allow_http);
        let flags = JfrogArgs {
            timeout: Some(1.5),
            ..JfrogArgs::default()
        };
        let s = jfrog(&flags, &[loaded]).expect("settings");
        assert_eq!(s.client.timeout, Duration::from_millis(1500));
    }

    #[test]
    fn repository_files_only_add_untrusted_instances() {
        let loaded = Loaded {
            path: "repo/keyhound.toml".into(),
            source: InstanceSource::RepoConfig,
            file: toml::from_str(
                "[jfrog]\nallow_http = true\n[[jfrog.instances]]\nurl = \"https://x.example.com\"\n",
            )
            .expect("parses"),
        };
        let s = jfrog(&JfrogArgs::default(), &[loaded]).expect("settings");
        assert!(!s.client.allow_http);
        assert_eq!(s.resolver.configured[0].source, InstanceSource::RepoConfig);
    }

    #[test]
    fn resolve_specs() {
        assert_eq!(
            parse_resolve("Evil.Example:443:127.0.0.1").expect("ok"),
            ("evil.example".into(), 443, "127.0.0.1".parse().expect("ip"))
        );
        assert!(parse_resolve("x:notaport:1.2.3.4").is_err());
        assert!(parse_resolve("x:1:[::1]").is_ok());
    }
}
