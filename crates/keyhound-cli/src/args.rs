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
/// `XDG_CACHE_HOME`: where the default clone directory goes (`$XDG_CACHE_HOME/keyhound/clones`,
/// else `~/.cache/keyhound/clones`).
pub const ENV_XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";

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
    /// List and check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
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
    /// Add custom rules from a YAML file or a directory of them (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Use only these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "RULE_ID", value_delimiter = ',', num_args = 1..)]
    pub only: Vec<String>,
    /// Do not use these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "RULE_ID", value_delimiter = ',', num_args = 1..)]
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
    /// Rule files or directories to check; the built-in rules when none are given.
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
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
