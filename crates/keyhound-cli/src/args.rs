//! Command-line arguments, environment variables, and their resolution into settings.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use keyhound_sources::Limits;

/// `KEYHOUND_LOG`: a tracing filter for log output on stderr (for example `debug` or
/// `keyhound_sources=debug`). Overrides `-v`.
pub const ENV_LOG: &str = "KEYHOUND_LOG";
/// `NO_COLOR`: any non-empty value disables colour (<https://no-color.org>).
pub const ENV_NO_COLOR: &str = "NO_COLOR";
/// `KEYHOUND_CONFIG`: the configuration file to use instead of discovering `keyhound.toml`
/// (same as `--config`).
pub const ENV_CONFIG: &str = "KEYHOUND_CONFIG";
/// `KEYHOUND_JFROG_URL`: the JFrog instance for credentials found without a URL beside them
/// (same as `--jfrog-url`).
pub const ENV_JFROG_URL: &str = "KEYHOUND_JFROG_URL";
/// `KEYHOUND_JFROG_ADMIN_TOKEN`: an admin access token for `revoke`, `replace` and
/// permission lookups. Prefer `--admin-token-file`; an environment variable stays out of shell
/// history but is visible to the process's children.
pub const ENV_JFROG_ADMIN_TOKEN: &str = "KEYHOUND_JFROG_ADMIN_TOKEN";
/// `KEYHOUND_EGRESS_LOG`: where validation writes its egress log (same as `--egress-log`).
pub const ENV_EGRESS_LOG: &str = "KEYHOUND_EGRESS_LOG";
/// `KEYHOUND_AUDIT_LOG`: where `revoke` and `replace` write their audit log (same as
/// `--audit-log`).
pub const ENV_AUDIT_LOG: &str = "KEYHOUND_AUDIT_LOG";
/// `VAULT_TOKEN`: the HashiCorp Vault token `replace --vault-addr` writes with (Vault's own
/// variable).
pub const ENV_VAULT_TOKEN: &str = "VAULT_TOKEN";
/// `VAULT_ADDR`: Vault's address, when `--vault-addr` is not given (Vault's own variable).
pub const ENV_VAULT_ADDR: &str = "VAULT_ADDR";
/// `XDG_CACHE_HOME`: where the default clone directory goes (`$XDG_CACHE_HOME/keyhound/clones`,
/// else `~/.cache/keyhound/clones`).
pub const ENV_XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";

/// `KEYHOUND_DB`: the findings database (same as `--db`): a path to an SQLite file, or a
/// `postgres://` URL.
pub const ENV_DB: &str = "KEYHOUND_DB";
/// `KEYHOUND_ACTOR`: who triage decisions are recorded as (default: `$USER@host`).
pub const ENV_ACTOR: &str = "KEYHOUND_ACTOR";
/// `XDG_DATA_HOME`: where the default database and logs go (`$XDG_DATA_HOME/keyhound`, else
/// `~/.local/share/keyhound`).
pub const ENV_XDG_DATA_HOME: &str = "XDG_DATA_HOME";
/// `XDG_CONFIG_HOME`: where the user's keyhound.toml and the secret key go
/// (`$XDG_CONFIG_HOME/keyhound`, else `~/.config/keyhound`).
pub const ENV_XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";

/// The default `--clone-dir`.
pub fn default_clone_dir() -> PathBuf {
    let cache = std::env::var_os(ENV_XDG_CACHE_HOME)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("keyhound").join("clones")
}

/// How much git history to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GitHistory {
    /// Every blob in every repository's object database, attributed to its commits.
    Full,
    /// Working-tree files only.
    None,
}

/// keyhound finds leaked software-supply-chain credentials (JFrog Artifactory tokens first,
/// and every other common secret) in files, directories and streams.
#[derive(Debug, Parser)]
#[command(name = "keyhound", version, about, max_term_width = 100)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More output on stderr: -v lists skipped inputs, -vv adds logs, -vvv debug logs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing on stderr but errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Use this configuration file instead of discovering keyhound.toml in the scanned
    /// repository and ~/.config/keyhound/.
    #[arg(long, global = true, value_name = "FILE", env = ENV_CONFIG)]
    pub config: Option<PathBuf>,
    /// The findings database: an SQLite file or a postgres:// URL [default:
    /// ~/.local/share/keyhound/keyhound.db].
    #[arg(long, global = true, value_name = "PATH|URL", env = ENV_DB, hide_env_values = true)]
    pub db: Option<String>,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os(ENV_NO_COLOR).is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories or stdin for secrets.
    Scan(Box<ScanArgs>),
    /// Decode a JFrog token offline (and check it with --validate).
    Inspect(InspectArgs),
    /// Revoke a JFrog token or API key.
    Revoke(RevokeArgs),
    /// Mint a scoped, expiring successor for a leaked JFrog credential.
    Replace(ReplaceArgs),
    /// List and check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// List and show recorded runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// List, show and triage recorded findings.
    #[command(subcommand)]
    Findings(FindingsCommand),
    /// What changed between two runs: new, fixed, unchanged and changed findings.
    Diff(DiffArgs),
    /// Baseline files: the findings to stop reporting when adopting keyhound in CI.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// The findings database.
    #[command(subcommand)]
    Db(DbCommand),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Human-readable.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per finding per line.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// One CSV row per location.
    Csv,
}

impl From<FormatArg> for keyhound_report::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => keyhound_report::Format::Text,
            FormatArg::Json => keyhound_report::Format::Json,
            FormatArg::Jsonl => keyhound_report::Format::Jsonl,
            FormatArg::Sarif => keyhound_report::Format::Sarif,
            FormatArg::Csv => keyhound_report::Format::Csv,
        }
    }
}

/// Rule selection, shared by `scan` and `rules list`.
#[derive(Debug, Args, Clone, Default)]
pub struct RuleArgs {
    /// Add custom rules from a YAML rule file, a gitleaks configuration (.toml), or a
    /// directory of them (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Use only these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "RULE_ID", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Do not use these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "RULE_ID", value_delimiter = ',')]
    pub disable: Vec<String>,
}

/// `keyhound scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, directories and git repositories to scan; remote repository URLs
    /// (`https://…`, `ssh://…`, `git@host:org/repo`) are mirrored first; `-` reads stdin.
    #[arg(value_name = "PATH|URL", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secret values instead of redacted previews.
    #[arg(long)]
    pub show_secrets: bool,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Scan only files matching this glob (repeatable). A glob without `/` matches file names.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files and directories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip files larger than this (bytes, or with K, M, G suffix; 0 for no limit).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Scanning threads (default: one per CPU).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Name shown in locations for input read from stdin.
    #[arg(long, value_name = "NAME", default_value = "stdin")]
    pub stdin_name: String,
    /// Git history of repositories: `full` scans every blob ever committed (and dangling
    /// objects), `none` only working-tree files.
    #[arg(long, value_enum, default_value_t = GitHistory::Full, help_heading = "Git")]
    pub git_history: GitHistory,
    /// Only blobs introduced by commits after REV (the CI use case); no working tree.
    #[arg(
        long,
        value_name = "REV",
        conflicts_with = "staged",
        help_heading = "Git"
    )]
    pub since_commit: Option<String>,
    /// Only history reachable from REF.
    #[arg(
        long,
        value_name = "REF",
        conflicts_with = "staged",
        help_heading = "Git"
    )]
    pub branch: Option<String>,
    /// Only content staged in the index (the pre-commit use case).
    #[arg(long, help_heading = "Git")]
    pub staged: bool,
    /// Where remote repositories are mirrored [default: ~/.cache/keyhound/clones].
    #[arg(long, value_name = "DIR", help_heading = "Git")]
    pub clone_dir: Option<PathBuf>,
    /// Give up cloning or fetching a remote repository after this many seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 300,
        help_heading = "Git"
    )]
    pub clone_timeout: u64,
    /// Archive levels to open: 1 opens app.war, 2 also the jars in it... (0: same as
    /// --no-archives). A container image counts as one level; .gz, .xz... count as none.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_ARCHIVE_DEPTH, help_heading = "Archives")]
    pub archive_depth: usize,
    /// Do not open archives, compressed files or container images: scan their raw bytes only.
    #[arg(long, help_heading = "Archives")]
    pub no_archives: bool,
    /// Stop reading an archive after extracting this much from it, at every level (K, M, G;
    /// 0 for no limit).
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size, help_heading = "Archives")]
    pub max_archive_bytes: u64,
    /// Stop decompressing a member or stream that grows more than N times its compressed
    /// size (zip bombs); checked after its first MiB (0 for no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_ARCHIVE_RATIO, help_heading = "Archives")]
    pub max_archive_ratio: u64,
    /// Stop reading an archive after this many members, at every level (0 for no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_ARCHIVE_ENTRIES, help_heading = "Archives")]
    pub max_archive_entries: u64,
    /// Check JFrog credentials against their instance (opt-in; read-only calls).
    #[arg(long)]
    pub validate: bool,
    /// Print every request --validate would send, and send nothing.
    #[arg(long, conflicts_with = "validate")]
    pub validate_plan: bool,
    /// With --validate: skip the blast radius of live credentials.
    #[arg(long)]
    pub no_blast_radius: bool,
    /// JFrog network options.
    #[command(flatten)]
    pub jfrog: JfrogArgs,
    /// Findings storage and suppression.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// How `scan` records and suppresses findings.
#[derive(Debug, Args, Clone, Default)]
pub struct StoreArgs {
    /// Do not record this run in the findings database (pure CI use); an incremental history
    /// scan is then not possible either.
    #[arg(long, help_heading = "Findings database")]
    pub no_store: bool,
    /// Also store secret values, encrypted with the key in ~/.config/keyhound/secret.key
    /// (created on first use, mode 0600); revoking by value needs them.
    #[arg(long, conflicts_with = "no_store", help_heading = "Findings database")]
    pub store_secrets: bool,
    /// Scan every blob of history again, even those an earlier run already scanned.
    #[arg(long, help_heading = "Findings database")]
    pub no_incremental: bool,
    /// Report only findings that are not in this baseline file (`keyhound baseline create`).
    #[arg(long, value_name = "FILE", help_heading = "Findings database")]
    pub baseline: Option<PathBuf>,
}

/// Options of every command that talks to a JFrog instance.
#[derive(Debug, Args, Clone, Default)]
pub struct JfrogArgs {
    /// The JFrog instance of credentials found without a URL beside them (trusted, even on a
    /// private address).
    #[arg(long, value_name = "URL", env = ENV_JFROG_URL)]
    pub jfrog_url: Option<String>,
    /// Allow plain http:// instances (labs and tests).
    #[arg(long)]
    pub allow_http: bool,
    /// Trust this CA certificate (PEM) for HTTPS, in addition to the public roots (repeatable).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// Resolve HOST:PORT to ADDR instead of using DNS (repeatable; as curl --resolve).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Seconds before a request times out.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Maximum requests per second to one instance.
    #[arg(long, value_name = "N")]
    pub rate: Option<f64>,
    /// Write the egress log (JSON lines, no secrets) here instead of the default
    /// (~/.local/share/keyhound/egress.jsonl).
    #[arg(long, value_name = "FILE", env = ENV_EGRESS_LOG)]
    pub egress_log: Option<PathBuf>,
    /// A file holding an admin access token (never give the token itself as an argument).
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
}

/// Formats of `inspect`, `revoke` and `replace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimpleFormat {
    /// Human-readable.
    Text,
    /// JSON.
    Json,
}

/// `keyhound inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The token, or `-` to read it from stdin (safer: it stays out of shell history).
    #[arg(value_name = "TOKEN|-")]
    pub token: String,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = SimpleFormat::Text)]
    pub format: SimpleFormat,
    /// Flag tokens issued more than N days ago.
    #[arg(long, value_name = "N", default_value_t = 90)]
    pub max_age_days: u64,
    /// The user name, when the value is a password (checked as Basic credentials).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Check the token against its instance (--jfrog-url or the configuration).
    #[arg(long)]
    pub validate: bool,
    /// Print the requests --validate would send, and send nothing.
    #[arg(long, conflicts_with = "validate")]
    pub validate_plan: bool,
    /// With --validate: skip the blast radius.
    #[arg(long)]
    pub no_blast_radius: bool,
    /// JFrog network options.
    #[command(flatten)]
    pub jfrog: JfrogArgs,
}

/// What `revoke` and `replace` act on.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// A token value, `-` to read it from stdin, or a finding fingerprint (with --report).
    #[arg(
        value_name = "TOKEN|-|FINGERPRINT",
        required_unless_present = "token_id"
    )]
    pub target: Option<String>,
    /// A scan's JSON report to look the fingerprint up in (run the scan with --show-secrets to
    /// revoke by value; otherwise the token id in the finding's facts is used).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Revoke the access token with this id (jti) instead.
    #[arg(long, value_name = "ID")]
    pub token_id: Option<String>,
    /// The user of an API key or password (an admin then revokes that user's API key).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
}

/// `keyhound revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// What to revoke.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Append to this audit log (JSON lines, no secrets) instead of the default
    /// (~/.local/share/keyhound/audit.jsonl).
    #[arg(long, value_name = "FILE", env = ENV_AUDIT_LOG)]
    pub audit_log: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = SimpleFormat::Text)]
    pub format: SimpleFormat,
    /// JFrog network options.
    #[command(flatten)]
    pub jfrog: JfrogArgs,
}

/// `keyhound replace`.
#[derive(Debug, Args)]
pub struct ReplaceArgs {
    /// The credential to replace.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Scope of the successor (default: the narrowest that covers the old credential).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,
    /// Lifetime of the successor: seconds, or with s, m, h, d suffix.
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_duration)]
    pub expires_in: u64,
    /// Incident id or name, written into the successor's description and the audit log.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// Write the new token to this file (created with mode 0600; must not exist).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["stdout", "vault_addr"])]
    pub output_file: Option<PathBuf>,
    /// Print the new token on stdout.
    #[arg(long, conflicts_with = "vault_addr")]
    pub stdout: bool,
    /// Write the new token to HashiCorp Vault KV v2 at this address (token from VAULT_TOKEN).
    #[arg(long, value_name = "URL", requires = "vault_path")]
    pub vault_addr: Option<String>,
    /// KV v2 path: MOUNT/PATH, such as secret/ci/artifactory.
    #[arg(long, value_name = "PATH")]
    pub vault_path: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Append to this audit log instead of the default.
    #[arg(long, value_name = "FILE", env = ENV_AUDIT_LOG)]
    pub audit_log: Option<PathBuf>,
    /// Output format of the summary.
    #[arg(short, long, value_enum, default_value_t = SimpleFormat::Text)]
    pub format: SimpleFormat,
    /// JFrog network options.
    #[command(flatten)]
    pub jfrog: JfrogArgs,
}

/// Parses `30d`, `12h`, `90m`, `45s` or plain seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('h') => (&s[..s.len() - 1], 3600),
        Some('d') => (&s[..s.len() - 1], 86_400),
        _ => (s, 1),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (use 30d, 12h, 90m or seconds)"))?;
    match n.checked_mul(mult) {
        Some(0) => Err("the successor must expire: give a duration above 0".into()),
        Some(v) => Ok(v),
        None => Err(format!("duration {s:?} is too large")),
    }
}

/// Formats of listing commands (`runs`, `findings`, `diff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Human-readable.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// SARIF 2.1.0 (findings only).
    Sarif,
    /// CSV, one row per location (findings only).
    Csv,
}

/// `keyhound runs ...`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List runs, newest first.
    List(RunsListArgs),
    /// Show one run and its findings.
    Show(RunsShowArgs),
}

/// `keyhound runs list`.
#[derive(Debug, Args)]
pub struct RunsListArgs {
    /// Only runs of this target (a path or URL, as scanned).
    #[arg(long, value_name = "PATH|URL")]
    pub target: Option<String>,
    /// Only runs with this status (running, completed, failed, interrupted; repeatable).
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status: Vec<String>,
    /// At most this many.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u64,
    /// Output format (text, json, jsonl).
    #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// `keyhound runs show`.
#[derive(Debug, Args)]
pub struct RunsShowArgs {
    /// The run id (default: the latest completed run).
    #[arg(value_name = "RUN")]
    pub run: Option<i64>,
    /// Output format (text, json, jsonl, sarif, csv).
    #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// `keyhound findings ...`.
#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List recorded findings, most severe first.
    List(FindingsListArgs),
    /// Show one finding: locations, triage and validation history, runs.
    Show(FindingsShowArgs),
    /// Record a triage decision for a finding.
    Triage(TriageArgs),
}

/// Filters of `findings list`.
#[derive(Debug, Args)]
pub struct FindingsListArgs {
    /// Only these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "RULE_ID", value_delimiter = ',')]
    pub rule: Vec<String>,
    /// Only these severities (critical, high, medium, low, info).
    #[arg(long, value_name = "SEVERITY", value_delimiter = ',')]
    pub severity: Vec<String>,
    /// Only these triage statuses (open, false-positive, accepted-risk, revoked, fixed).
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only these latest validation results (live, invalid, expired, revoked, forbidden,
    /// unknown, unchecked).
    #[arg(long, value_name = "VALIDITY", value_delimiter = ',')]
    pub validity: Vec<String>,
    /// Only findings a run of this target recorded (a path or URL, as scanned).
    #[arg(long, value_name = "PATH|URL")]
    pub target: Option<String>,
    /// Only findings first seen since: a date (2026-12-01), a time (RFC 3339), or an age
    /// (7d, 12h).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only findings this run recorded.
    #[arg(long, value_name = "RUN")]
    pub run: Option<i64>,
    /// At most this many.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// Print stored secret values (needs --store-secrets at scan time and the key).
    #[arg(long)]
    pub show_secrets: bool,
}

/// `keyhound findings show`.
#[derive(Debug, Args)]
pub struct FindingsShowArgs {
    /// The fingerprint, or a unique prefix of at least 6 characters.
    #[arg(value_name = "FINGERPRINT")]
    pub fingerprint: String,
    /// Output format (text, json).
    #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// Print the stored secret value (needs --store-secrets at scan time and the key).
    #[arg(long)]
    pub show_secrets: bool,
}

/// Triage statuses on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TriageArg {
    /// To be looked at.
    Open,
    /// Not a secret.
    FalsePositive,
    /// A real secret whose risk is accepted.
    AcceptedRisk,
    /// Revoked at its provider.
    Revoked,
    /// Removed.
    Fixed,
}

/// `keyhound findings triage`.
#[derive(Debug, Args)]
pub struct TriageArgs {
    /// The fingerprint, or a unique prefix of at least 6 characters (repeatable).
    #[arg(value_name = "FINGERPRINT", required = true)]
    pub fingerprints: Vec<String>,
    /// The decision.
    #[arg(long, value_enum)]
    pub status: TriageArg,
    /// Why.
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub comment: Option<String>,
    /// Who decides (default: $KEYHOUND_ACTOR, else $USER@host).
    #[arg(long, value_name = "NAME", env = ENV_ACTOR)]
    pub actor: Option<String>,
    /// Output format (text, json).
    #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// `keyhound diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run (default: the run of the same target before RUN_B).
    #[arg(value_name = "RUN_A")]
    pub from: Option<i64>,
    /// The later run (default: the latest completed run).
    #[arg(value_name = "RUN_B")]
    pub to: Option<i64>,
    /// With no runs given: the latest runs of this target.
    #[arg(long, value_name = "PATH|URL", conflicts_with = "from")]
    pub target: Option<String>,
    /// Text output lists unchanged findings too.
    #[arg(long)]
    pub all: bool,
    /// Output format (text, json).
    #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// `keyhound baseline ...`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan, and write every finding into a baseline file (`scan --baseline FILE` then
    /// reports only the others). Takes the options of `scan`; `--output` names the baseline
    /// file [default: .keyhound-baseline.json].
    Create(Box<BaselineCreateArgs>),
}

/// `keyhound baseline create`.
#[derive(Debug, Args)]
pub struct BaselineCreateArgs {
    /// Make the baseline from this recorded run instead of scanning.
    #[arg(long, value_name = "RUN", conflicts_with = "paths")]
    pub from_run: Option<i64>,
    /// What to scan, and how (the options of `scan`).
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `keyhound db ...`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending schema migrations (keyhound also does this on every start).
    Migrate(DbArgs),
    /// Show the database, its schema version and what is pending.
    Status(DbArgs),
}

/// Options of `db` commands.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// Output format (text, json).
    #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// `keyhound rules ...`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in use.
    List(RulesListArgs),
    /// Validate rule files and run their examples.
    Check(RulesCheckArgs),
}

/// `keyhound rules list`.
#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// Output format (text or json).
    #[arg(short, long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// `keyhound rules check`.
#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    /// Rule files (YAML, or gitleaks .toml) or directories to check; the built-in rules when
    /// none are given.
    #[arg(value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Fail on warnings too (fewer than 3 examples, missing description...).
    #[arg(long)]
    pub warnings_as_errors: bool,
}

/// Parses `256M`, `1G`, `512k`, `1000` (bytes). 0 means no limit.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (s, 1u64),
        Some((i, _)) => {
            let unit = s[i..].trim().to_ascii_lowercase();
            let mult = match unit.trim_end_matches("ib").trim_end_matches('b') {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                "t" => 1 << 40,
                _ => return Err(format!("unknown size unit in {s:?} (use K, M, G)")),
            };
            (&s[..i], mult)
        }
    };
    let n: u64 = digits.parse().map_err(|_| format!("invalid size {s:?}"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// True when stderr is a terminal (progress display).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(30 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("90"), Ok(90));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("x").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
