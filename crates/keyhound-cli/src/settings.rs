//! Settings resolved once: flags > environment (both through clap) > configuration file >
//! defaults.
//!
//! Configuration files are TOML named `keyhound.toml`. `--config FILE` (or `KEYHOUND_CONFIG`)
//! names the only one used; otherwise the user's file (`$XDG_CONFIG_HOME/keyhound/` or
//! `~/.config/keyhound/`) and the scanned repository's root file are read. A repository is not
//! the user: from its file only `[[jfrog.instances]]` (not trusted for private addresses) and
//! `[allowlist]` are taken; every other key there is ignored with a warning.
//!
//! Each section is its own struct, so that sections stay independent.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use keyhound_jfrog::http::{ClientOptions, EgressLog, JsonLinesLog};
use keyhound_jfrog::instance::{InstanceSource, parse_instance_url};
use keyhound_jfrog::{Client, Credential, InstanceResolver, TrustedInstance};
use keyhound_store::{DbLocation, OpenOptions, SecretKey, Store};
use serde::Deserialize;

use crate::Hint;
use crate::args::{
    ENV_JFROG_ADMIN_TOKEN, ENV_XDG_CONFIG_HOME, ENV_XDG_DATA_HOME, GlobalArgs, JfrogArgs,
};

/// The name of configuration files.
pub const FILE_NAME: &str = "keyhound.toml";

/// A configuration file. Unknown top-level sections are ignored (other versions of keyhound
/// may know them); unknown keys inside a known section are errors.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigFile {
    /// `[jfrog]`.
    #[serde(default)]
    pub jfrog: JfrogSection,
    /// `[allowlist]`.
    #[serde(default)]
    pub allowlist: AllowlistSection,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreSection,
}

/// `[allowlist]`: what a scan does not report.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSection {
    /// Globs on paths relative to the scanned root (`vendor/**`, `*.min.js`); a glob without
    /// `/` matches a file or directory name anywhere. History locations count too.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes (Rust syntax) on the secret value: a match is not reported.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Case-insensitive words: a secret containing one is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Rule ids not to run.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    /// Fingerprints of findings not to report.
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

/// `[store]`: the findings database (the user's file only).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// Path of an SQLite file, or a `postgres://` URL (below `--db` and `KEYHOUND_DB`).
    pub db: Option<String>,
    /// Always store secret values, encrypted (as `--store-secrets`).
    pub store_secrets: Option<bool>,
    /// The key file that encrypts stored values.
    pub secret_key_file: Option<PathBuf>,
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
        let st = &file.store;
        if st.db.is_some() || st.store_secrets.is_some() || st.secret_key_file.is_some() {
            tracing::warn!(
                path = %path.display(),
                "a scanned repository's keyhound.toml cannot choose the findings database; its [store] section is ignored"
            );
        }
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        source,
        file,
    })
}

/// `$XDG_CONFIG_HOME/keyhound` or `~/.config/keyhound`.
pub fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os(ENV_XDG_CONFIG_HOME)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("keyhound"))
}

/// `$XDG_CONFIG_HOME/keyhound/keyhound.toml` or `~/.config/keyhound/keyhound.toml`.
pub fn user_config_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join(FILE_NAME))
}

/// `$XDG_DATA_HOME/keyhound` or `~/.local/share/keyhound` (the database, egress and audit
/// logs).
pub fn data_dir() -> PathBuf {
    std::env::var_os(ENV_XDG_DATA_HOME)
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

/// The findings database, resolved: `--db` or `KEYHOUND_DB` > the user's `[store] db` >
/// `$XDG_DATA_HOME/keyhound/keyhound.db`.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// Where.
    pub location: DbLocation,
    /// The key file for stored secret values.
    pub secret_key_file: Option<PathBuf>,
    /// `[store] store_secrets = true`.
    pub store_secrets: bool,
}

/// The name of the default database file.
pub const DB_FILE: &str = "keyhound.db";
/// The name of the default secret key file, in the user's config directory.
pub const SECRET_KEY_FILE: &str = "secret.key";

/// Resolves the database settings.
pub fn store(global: &GlobalArgs, files: &[Loaded]) -> Result<StoreSettings> {
    let own: Vec<&StoreSection> = files
        .iter()
        .filter(|f| f.source == InstanceSource::Config)
        .map(|f| &f.file.store)
        .collect();
    let spec = global
        .db
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| own.iter().rev().find_map(|s| s.db.clone()));
    let location = match spec {
        Some(spec) => DbLocation::parse(&spec).context("invalid --db")?,
        None => DbLocation::Sqlite(data_dir().join(DB_FILE)),
    };
    Ok(StoreSettings {
        location,
        secret_key_file: own
            .iter()
            .rev()
            .find_map(|s| s.secret_key_file.clone())
            .or_else(|| config_dir().map(|d| d.join(SECRET_KEY_FILE))),
        store_secrets: own.iter().any(|s| s.store_secrets == Some(true)),
    })
}

/// What the secret key is needed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Nothing: values are neither written nor read.
    None,
    /// Reading values back: the key is used if it exists.
    Read,
    /// Writing values: the key is created if it does not exist.
    Write,
}

impl StoreSettings {
    /// Opens the database without applying migrations (`keyhound db`): only a newer schema
    /// is refused.
    pub fn open_unmigrated(&self) -> Result<Store> {
        let options = OpenOptions {
            migrate: false,
            ..OpenOptions::default()
        };
        Store::open_unmigrated(&self.location, &options).map_err(|e| {
            anyhow::Error::new(Hint("choose the database with --db or KEYHOUND_DB".into()))
                .context(e)
        })
    }

    /// Opens the database (creating and migrating it as needed), with the secret key when
    /// `key` asks for it.
    pub fn open(&self, key: KeyUse) -> Result<Store> {
        let secret_key = match (key, &self.secret_key_file) {
            (KeyUse::None, _) => None,
            (KeyUse::Write, Some(path)) => Some(SecretKey::load_or_create(path)?),
            (KeyUse::Read, Some(path)) => SecretKey::load(path)?,
            (KeyUse::Write, None) => {
                return Err(anyhow::Error::new(Hint(
                    "set HOME or XDG_CONFIG_HOME, or [store] secret_key_file in keyhound.toml"
                        .into(),
                ))
                .context("there is no place for the secret key file"));
            }
            (KeyUse::Read, None) => None,
        };
        let options = OpenOptions {
            secret_key,
            ..OpenOptions::default()
        };
        Store::open(&self.location, &options).map_err(|e| {
            let hint = match e {
                keyhound_store::Error::TooNew { .. } => {
                    "a newer keyhound wrote this database; use it, or another --db"
                }
                _ => "choose another database with --db or KEYHOUND_DB (scan --no-store records nothing)",
            };
            anyhow::Error::new(Hint(hint.into())).context(e)
        })
    }
}

/// Opens the database for the commands that read and triage it (`runs`, `findings`,
/// `diff`...): the user's configuration, no repository's; runs whose process died are marked
/// interrupted first.
pub fn open_store(global: &GlobalArgs, key: KeyUse) -> Result<Store> {
    let files = discover(global, &[])?;
    let mut store = self::store(global, &files)?.open(key)?;
    store.recover_interrupted()?;
    Ok(store)
}

/// The `[allowlist]` sections of every configuration file in effect, merged.
#[derive(Debug, Clone, Default)]
pub struct AllowSettings {
    /// Path globs.
    pub paths: Vec<String>,
    /// Regexes on secrets.
    pub regexes: Vec<String>,
    /// Stopwords.
    pub stopwords: Vec<String>,
    /// Rules not to run.
    pub disabled_rules: Vec<String>,
    /// Findings not to report.
    pub fingerprints: Vec<String>,
    /// The files they came from, for messages.
    pub files: Vec<PathBuf>,
}

/// Merges the `[allowlist]` sections.
pub fn allowlist(files: &[Loaded]) -> AllowSettings {
    let mut out = AllowSettings::default();
    for f in files {
        let a = &f.file.allowlist;
        let before = out.paths.len()
            + out.regexes.len()
            + out.stopwords.len()
            + out.disabled_rules.len()
            + out.fingerprints.len();
        out.paths.extend(a.paths.iter().cloned());
        out.regexes.extend(a.regexes.iter().cloned());
        out.stopwords.extend(a.stopwords.iter().cloned());
        out.disabled_rules.extend(a.disabled_rules.iter().cloned());
        out.fingerprints
            .extend(a.fingerprints.iter().map(|s| s.trim().to_ascii_lowercase()));
        let after = out.paths.len()
            + out.regexes.len()
            + out.stopwords.len()
            + out.disabled_rules.len()
            + out.fingerprints.len();
        if after > before {
            out.files.push(f.path.clone());
        }
    }
    out
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
