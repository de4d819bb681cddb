//! Runs sources through the matcher and turns matches into findings.
//!
//! A [`Finding`] is one distinct secret, keyed by a value-based [`fingerprint`] (a keyed hash
//! of the rule family and the secret, never of path or line), with every [`Location`] where it
//! occurs. Scanning is parallel: each source thread gets its own matcher scratch space and its
//! own partial results, merged once at the end.
//!
//! ```no_run
//! use keyhound_scan::{Progress, Scanner, ScannerOptions};
//! let scanner = Scanner::new(keyhound_rules::builtin()?, ScannerOptions::default())?;
//! let report = scanner.scan_paths(&[".".into()], &Default::default(), &Progress::default())?;
//! println!("{} findings", report.findings.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod collect;
mod fingerprint;
mod git_scan;
pub mod incremental;
pub mod instance_url;
mod path_filter;
mod position;
pub mod suppress;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keyhound_engine::{CompileError, Facts, Matcher, Options, Secret};
use keyhound_rules::{Confidence, Rule, Severity};
use keyhound_sources::fs_walk::{self, WalkOptions};
use keyhound_sources::{Limits, SkipReason, Skipped};
use serde::{Deserialize, Serialize};

pub use fingerprint::{FingerprintKey, fingerprint};
pub use git_scan::{GitSettings, Input};

/// Scanner settings.
#[derive(Debug, Clone, Default)]
pub struct ScannerOptions {
    /// Matcher settings.
    pub matcher: Options,
    /// Key of the fingerprint hash.
    pub fingerprint_key: FingerprintKey,
}

/// One place where a secret occurs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// The file or stream, as shown to the user.
    pub path: String,
    /// 1-based line of the first character of the secret.
    pub line: u64,
    /// 1-based column (in characters) of the first character.
    pub column: u64,
    /// 1-based line of the last character.
    pub end_line: u64,
    /// 1-based column just after the last character (exclusive, as in SARIF).
    pub end_column: u64,
    /// Byte offset of the secret in the input.
    pub offset: u64,
    /// `utf-16le` or `utf-16be` when the input was transcoded before scanning.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_encoding"
    )]
    pub encoding: Option<&'static str>,
    /// For a secret found inside an encoded value (a config token, base64 JSON): the rule id
    /// of the encoded value; the position is the encoded value's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<String>,
    /// Git provenance, for a location in a repository's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitLocation>,
    /// For a member of an archive or an image: each level from the outermost input in, as
    /// `path` shows them between `!/` (`["app.war", "WEB-INF/lib/a.jar", "settings.xml"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_chain: Option<Vec<String>>,
    /// For content of a container image: the image, the layer and the file or config field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageLocation>,
}

/// Reads back an [`Location::encoding`] label; labels this version does not know are dropped.
fn de_encoding<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
    let label: Option<String> = Option::deserialize(d)?;
    Ok(label.and_then(|l| {
        keyhound_sources::Encoding::ALL
            .iter()
            .filter_map(|e| e.label())
            .find(|known| *known == l)
    }))
}

/// Where in a container image a secret is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ImageLocation {
    /// `repository:tag` when known, otherwise a short digest.
    pub name: String,
    /// The full digest of the layer holding the file, or that a history entry created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The file's path in the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The configuration field (`config.Env[2]`, `history[4].created_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The upper layer that deletes or replaces the file: it is not in the image's final
    /// file system, but it ships in the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<String>,
}

impl ImageLocation {
    /// The image part of an origin, if it is in an image.
    pub fn of(origin: &keyhound_sources::Origin) -> Option<ImageLocation> {
        use keyhound_sources::Origin;
        let image = origin.image()?;
        let mut loc = ImageLocation {
            name: image.name.clone(),
            layer: None,
            path: None,
            field: None,
            removed_in: None,
        };
        match origin.image_part()? {
            Origin::ImageFile {
                layer,
                path,
                removed_in,
                ..
            } => {
                loc.layer = Some(layer.to_string());
                loc.path = Some(path.clone());
                loc.removed_in = removed_in.as_ref().map(ToString::to_string);
            }
            Origin::ImageConfig { field, layer, .. } => {
                loc.field = Some(field.clone());
                loc.layer = layer.as_ref().map(ToString::to_string);
            }
            _ => {}
        }
        Some(loc)
    }
}

/// Where in a repository's history a location is.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GitLocation {
    /// The repository as given (path, or URL without credentials).
    pub repository: String,
    /// The blob's id.
    pub blob: String,
    /// The commit that introduced the blob at this path (absent for staged content and for a
    /// blob that no commit contains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Author name of the commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Author email of the commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_email: Option<String>,
    /// Author date of the commit, RFC 3339 with the author's offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_date: Option<String>,
    /// The oldest commit known to introduce this blob (at any path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_commit: Option<String>,
    /// True when no ref reaches the commit (a dangling commit or one kept only by the reflog).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dangling: bool,
    /// True for content staged in the index (`--staged`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
}

/// Whether a secret found in a repository is still there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// In HEAD's tree: remove it in a commit, and revoke it.
    Head,
    /// Only in uncommitted working-tree files.
    WorkingTree,
    /// Only in history: revoke it; removing it needs a history rewrite.
    HistoryOnly,
}

impl Presence {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Head => "head",
            Presence::WorkingTree => "working_tree",
            Presence::HistoryOnly => "history_only",
        }
    }
}

/// One distinct secret with all its locations.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Value-based fingerprint, stable across moves, renames and reformatting.
    pub fingerprint: String,
    /// The rule that found it.
    pub rule_id: String,
    /// The rule's name.
    pub rule_name: String,
    /// The rule's category.
    pub category: String,
    /// Severity: the rule's, raised to critical for admin-scoped tokens.
    pub severity: Severity,
    /// The rule's confidence.
    pub confidence: Confidence,
    /// The secret; redacts itself unless exposed.
    pub secret: Secret,
    /// Decoded facts, merged over all locations.
    pub facts: Facts,
    /// Every location, sorted.
    pub locations: Vec<Location>,
    /// For a secret found in a git repository: still at HEAD, or only in history.
    pub presence: Option<Presence>,
    /// Results of online checks (live validation, blast radius), filled in after the scan by
    /// the commands that run them.
    pub checks: Checks,
}

/// What online checks found about a finding. Each part is the JSON form of the checker's
/// result (`keyhound-jfrog` defines the shapes), kept as data so that this crate does not
/// depend on the checkers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Checks {
    /// Live validation: `{status, reason, instance, endpoint, http_status, checked_at, ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<serde_json::Value>,
    /// What a live credential can reach: `{user, admin, groups, repositories, summary, ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blast_radius: Option<serde_json::Value>,
}

impl Finding {
    /// The redacted preview of the secret.
    pub fn redacted(&self) -> String {
        self.secret.redacted()
    }
}

/// Counts of work done.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Inputs read completely.
    pub inputs: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Rule matches before de-duplication into findings.
    pub matches: u64,
    /// Wall time.
    #[serde(serialize_with = "ser_secs")]
    pub duration: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// The result of a scan.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Work done.
    pub stats: Stats,
    /// Inputs that were skipped, sorted by path.
    pub skipped: Vec<Skipped>,
    /// What each full-history scan of a repository learnt, for the next scan to reuse
    /// ([`incremental`]).
    pub repos: Vec<incremental::RepoRecord>,
    /// What suppressions removed ([`suppress`]).
    pub suppressed: suppress::Suppressed,
}

impl ScanReport {
    /// Number of skips for each reason that occurred.
    pub fn skip_counts(&self) -> BTreeMap<SkipReason, u64> {
        let mut counts = BTreeMap::new();
        for s in &self.skipped {
            *counts.entry(s.reason).or_insert(0) += 1;
        }
        counts
    }

    /// True when some input that should have been scanned could not be read.
    pub fn has_errors(&self) -> bool {
        self.skipped.iter().any(|s| s.reason.is_error())
    }

    /// Adds another report's findings, skips and stats (for scans of several inputs).
    pub fn absorb(&mut self, other: ScanReport) {
        let mut all = std::mem::take(&mut self.findings);
        all.extend(other.findings);
        self.findings = collect::merge_findings(all);
        self.skipped.extend(other.skipped);
        sort_skipped(&mut self.skipped);
        self.repos.extend(other.repos);
        let (a, b) = (&mut self.suppressed, other.suppressed);
        a.inline += b.inline;
        a.paths += b.paths;
        a.fingerprints += b.fingerprints;
        a.baseline += b.baseline;
        self.stats.inputs += other.stats.inputs;
        self.stats.bytes += other.stats.bytes;
        self.stats.matches += other.stats.matches;
        self.stats.duration += other.stats.duration;
    }
}

/// Sorts skips by the path shown to the user (an archive's members right after it), then
/// by reason.
fn sort_skipped(skipped: &mut [Skipped]) {
    skipped.sort_by_cached_key(|s| (s.origin.display_path(), s.reason));
}

/// Live counters for a progress display, updated while a scan runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Inputs read completely.
    pub inputs: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Rule matches so far.
    pub matches: AtomicU64,
}

impl Progress {
    fn add(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What to scan and how.
#[derive(Clone, Default)]
pub struct ScanSettings {
    /// The filesystem walk (threads, filters, limits).
    pub walk: WalkOptions,
    /// Git repositories.
    pub git: GitSettings,
    /// Memory of earlier full-history scans; `None` scans every blob.
    pub history: Option<std::sync::Arc<dyn incremental::History>>,
}

impl std::fmt::Debug for ScanSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanSettings")
            .field("walk", &self.walk)
            .field("git", &self.git)
            .field("history", &self.history.is_some())
            .finish()
    }
}

/// Errors that stop a scan before it starts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The walk settings are invalid.
    #[error(transparent)]
    Walk(#[from] fs_walk::Error),
}

/// Rules compiled once, ready to scan any number of inputs.
pub struct Scanner {
    matcher: Matcher,
    key: FingerprintKey,
    rules_version: String,
}

impl Scanner {
    /// Compiles the rules.
    pub fn new(rules: Vec<Rule>, options: ScannerOptions) -> Result<Scanner, CompileError> {
        let rules_version = incremental::rules_version(&rules);
        Ok(Scanner {
            matcher: Matcher::new(rules, options.matcher)?,
            key: options.fingerprint_key,
            rules_version,
        })
    }

    /// The version of the rule set ([`incremental::rules_version`]).
    pub fn rules_version(&self) -> &str {
        &self.rules_version
    }

    /// The fingerprint key.
    pub fn fingerprint_key(&self) -> &FingerprintKey {
        &self.key
    }

    /// The compiled matcher.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Limits adjusted so that chunk overlap covers the longest match.
    fn limits(&self, limits: &Limits) -> Limits {
        Limits {
            chunk_overlap: limits.chunk_overlap.max(self.matcher.max_window()),
            ..*limits
        }
    }

    /// Scans files and directories only (no git history).
    pub fn scan_paths(
        &self,
        roots: &[PathBuf],
        opts: &WalkOptions,
        progress: &Progress,
    ) -> Result<ScanReport, Error> {
        let inputs: Vec<Input> = roots.iter().cloned().map(Input::Path).collect();
        let settings = ScanSettings {
            walk: opts.clone(),
            git: GitSettings {
                history: false,
                ..GitSettings::default()
            },
            history: None,
        };
        self.scan(&inputs, &settings, progress)
    }

    /// Scans files, directories and git repositories (local or remote): working trees, and
    /// history as `settings.git` says. Repositories met while walking directories are scanned
    /// too.
    pub fn scan(
        &self,
        inputs: &[Input],
        settings: &ScanSettings,
        progress: &Progress,
    ) -> Result<ScanReport, Error> {
        let started = Instant::now();
        let walk = WalkOptions {
            limits: self.limits(&settings.walk.limits),
            ..settings.walk.clone()
        };
        let collector = collect::Collector::new(self, progress);
        let (mut repos, roots) = git_scan::classify(inputs, &settings.git, &collector);
        if !roots.is_empty() {
            let outcome = fs_walk::walk(&roots, &walk, &collector)?;
            if settings.git.history {
                git_scan::add_found(&mut repos, outcome.repositories, &collector);
            }
        }
        let profile = incremental::Profile::new(&self.rules_version, &walk.limits);
        let history = settings.history.as_deref();
        let scanned: Vec<_> = repos
            .into_iter()
            .map(|r| git_scan::scan_history(r, &settings.git, &walk, &collector, history, &profile))
            .collect();
        let mut report = collector.finish(started.elapsed());
        report.repos = git_scan::attribute(&mut report, scanned, walk.threads);
        report.stats.duration = started.elapsed();
        Ok(report)
    }

    /// Scans a stream such as stdin, named `name` in locations.
    pub fn scan_stream(
        &self,
        input: &mut dyn Read,
        name: &str,
        limits: &Limits,
        progress: &Progress,
    ) -> ScanReport {
        let started = Instant::now();
        let collector = collect::Collector::new(self, progress);
        {
            use keyhound_sources::Sink as _;
            let mut worker = collector.worker();
            keyhound_sources::stream::read(input, name, &self.limits(limits), &mut worker);
        }
        collector.finish(started.elapsed())
    }
}
