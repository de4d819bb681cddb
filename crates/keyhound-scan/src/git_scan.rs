//! Scanning inputs that may be git repositories: working trees, full history, ranges, the
//! index, and remote repositories (mirrored into a cache directory first).
//!
//! History is scanned blob by blob; after matching, the blobs that matched are attributed to
//! the commits and paths that introduced them (`keyhound_sources::git::attribute`), and each
//! blob-level location becomes one location per introduction.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use keyhound_sources::git::{self, Introduction, ObjectId, RemoteOptions, Repo};
use keyhound_sources::{Origin, Sink as _, SkipReason, Skipped};

use crate::collect::Collector;
use crate::incremental::{History, Profile, RepoMemory, RepoRecord};
use crate::{Finding, GitLocation, Location, Presence, ScanReport};

/// One thing to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or directory; a repository's history is scanned too when it is one.
    Path(PathBuf),
    /// A remote repository URL (`https://`, `ssh://`, `git://`, `user@host:path`).
    Remote(String),
}

impl Input {
    /// A command-line argument: a remote URL, or a path.
    pub fn from_arg(arg: &str) -> Input {
        if git::is_remote_url(arg) {
            Input::Remote(arg.to_owned())
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }
}

/// How git repositories are scanned.
#[derive(Debug, Clone)]
pub struct GitSettings {
    /// Scan history (`--git-history full`); when false, only working-tree files are scanned.
    pub history: bool,
    /// Only blobs introduced by commits after this revision (`--since-commit`).
    pub since_commit: Option<String>,
    /// Only history reachable from this ref (`--branch`).
    pub branch: Option<String>,
    /// Only content staged in the index (`--staged`).
    pub staged: bool,
    /// Where remote repositories are mirrored, and the clone timeout.
    pub remote: RemoteOptions,
}

impl Default for GitSettings {
    fn default() -> GitSettings {
        GitSettings {
            history: true,
            since_commit: None,
            branch: None,
            staged: false,
            remote: RemoteOptions {
                clone_dir: std::env::temp_dir().join("keyhound-clones"),
                timeout: std::time::Duration::from_secs(300),
            },
        }
    }
}

enum Mode {
    /// Every blob in the object database, plus the working tree.
    Full,
    /// Blobs introduced by commits reachable from `tips` (all refs when empty) and not from
    /// `hide`; the working tree too unless `hide` is set.
    Range {
        tips: Vec<String>,
        hide: Option<String>,
    },
    /// The index's changes against HEAD.
    Staged,
}

impl Mode {
    fn from(settings: &GitSettings) -> Mode {
        if settings.staged {
            Mode::Staged
        } else if settings.since_commit.is_some() || settings.branch.is_some() {
            // `--since-commit REV` is REV..HEAD unless a branch is named.
            let tips = match (&settings.branch, &settings.since_commit) {
                (Some(b), _) => vec![b.clone()],
                (None, Some(_)) => vec!["HEAD".to_owned()],
                (None, None) => Vec::new(),
            };
            Mode::Range {
                tips,
                hide: settings.since_commit.clone(),
            }
        } else {
            Mode::Full
        }
    }

    /// The CI and pre-commit modes look at new content only.
    fn scans_worktree(&self) -> bool {
        match self {
            Mode::Full => true,
            Mode::Range { hide, .. } => hide.is_none(),
            Mode::Staged => false,
        }
    }
}

/// A repository after its history was scanned.
pub(crate) struct ScannedRepo {
    repo: Repo,
    /// Introductions known before matching (range and staged modes).
    known: Option<HashMap<ObjectId, Vec<Introduction>>>,
    /// For a full-history scan: the memory it used, if any.
    memory: Option<RepoMemory>,
    /// For a full-history scan: what it learnt (attribution fills in commits and matches).
    record: Option<RepoRecord>,
}

fn git_error(worker: &mut dyn keyhound_sources::Worker, what: String, e: &dyn std::error::Error) {
    let mut detail = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        detail.push_str(": ");
        detail.push_str(&c.to_string());
        cause = c.source();
    }
    worker.skipped(Skipped {
        origin: Origin::Stream(what),
        reason: SkipReason::GitError,
        detail,
    });
}

fn same_repo(a: &Path, b: &Path) -> bool {
    match (fs_err::canonicalize(a), fs_err::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Sorts inputs into repositories (opened) and paths to walk.
pub(crate) fn classify(
    inputs: &[Input],
    settings: &GitSettings,
    collector: &Collector<'_>,
) -> (Vec<Repo>, Vec<PathBuf>) {
    let mode = Mode::from(settings);
    let mut worker = collector.worker();
    let mut repos = Vec::new();
    let mut roots = Vec::new();
    for input in inputs {
        match input {
            Input::Remote(url) => {
                let shown = git::redact_url(url);
                match git::mirror(url, &settings.remote)
                    .and_then(|dir| git::open(&dir, &shown, false))
                {
                    Ok(repo) => repos.push(repo),
                    Err(e) => git_error(&mut worker, shown, &e),
                }
            }
            Input::Path(p) if settings.history && git::looks_like_repo(p) => {
                let shown = keyhound_sources::Origin::File(p.clone()).display_path();
                match git::open(p, &shown, true) {
                    Ok(repo) => {
                        if repo.workdir.is_some() && mode.scans_worktree() {
                            roots.push(p.clone());
                        }
                        repos.push(repo);
                    }
                    Err(e) => {
                        git_error(&mut worker, shown, &e);
                        roots.push(p.clone());
                    }
                }
            }
            Input::Path(p) => roots.push(p.clone()),
        }
    }
    (repos, roots)
}

/// Opens repositories the walk met that are not already in `repos`.
pub(crate) fn add_found(repos: &mut Vec<Repo>, found: Vec<PathBuf>, collector: &Collector<'_>) {
    let mut worker = collector.worker();
    for path in found {
        let dot_git = path.join(".git");
        let git_dir = if dot_git.is_dir() {
            dot_git
        } else {
            path.clone()
        };
        if repos.iter().any(|r| same_repo(&r.git_dir, &git_dir)) {
            continue;
        }
        let shown = keyhound_sources::Origin::File(path.clone()).display_path();
        match git::open(&path, &shown, true) {
            Ok(repo) => repos.push(repo),
            Err(e) => git_error(&mut worker, shown, &e),
        }
    }
}

fn resolve_all(
    repo: &Repo,
    revs: &[String],
    worker: &mut dyn keyhound_sources::Worker,
) -> Option<Vec<ObjectId>> {
    let mut out = Vec::new();
    for rev in revs {
        match git::resolve_commit(repo, rev) {
            Ok(id) => out.push(id),
            Err(e) => {
                git_error(worker, repo.display.to_string(), &e);
                return None;
            }
        }
    }
    Some(out)
}

/// Scans one repository's history (per the mode) and its `.git/config`. A full-history scan
/// skips what `history` remembers of the repository under `profile`.
pub(crate) fn scan_history(
    repo: Repo,
    settings: &GitSettings,
    walk: &keyhound_sources::fs_walk::WalkOptions,
    collector: &Collector<'_>,
    history: Option<&dyn History>,
    profile: &Profile,
) -> ScannedRepo {
    let threads = walk.threads;
    let limits = &walk.limits;
    let mut scanned = ScannedRepo {
        repo,
        known: None,
        memory: None,
        record: None,
    };
    let repo = &scanned.repo;
    match Mode::from(settings) {
        Mode::Full => {
            let start = std::time::Instant::now();
            let key = repo.key();
            let memory = history.and_then(|h| h.recall(&key, &profile.0));
            let known = git::Known {
                packs: memory.as_ref().map(|m| &m.packs),
                blobs: memory.as_ref().map(|m| &m.blobs),
            };
            let stats = git::scan_all_blobs(repo, limits, threads, collector, known);
            // The blobs that matched before are scanned again: their findings come back
            // whole, and attribution brings their provenance up to date. A blob that is
            // gone (history rewritten and pruned) is simply no longer there.
            let rescanned = match &memory {
                Some(m) => {
                    let ids: Vec<ObjectId> = m
                        .matched
                        .keys()
                        .filter(|id| repo.has_object(id))
                        .copied()
                        .collect();
                    git::scan_listed_blobs(repo, &ids, limits, threads, collector).blobs
                }
                None => 0,
            };
            tracing::debug!(
                repo = %repo.display,
                blobs = stats.blobs,
                bytes = stats.bytes,
                packs = stats.packs,
                known_packs = stats.known_packs,
                known_blobs = stats.known_blobs,
                rescanned,
                elapsed_ms = start.elapsed().as_millis() as u64,
                "scanned every blob"
            );
            scanned.record = Some(RepoRecord {
                key,
                display: repo.display.to_string(),
                profile: profile.0.clone(),
                replace: memory.is_none(),
                packs: stats.complete_packs,
                blobs: stats.scanned,
                known_blobs: stats.known_blobs,
                known_packs: stats.known_packs as u64,
                ..RepoRecord::default()
            });
            scanned.memory = memory;
        }
        Mode::Range { tips, hide } => {
            let mut worker = collector.worker();
            let tips = resolve_all(repo, &tips, &mut worker);
            let hide = resolve_all(repo, hide.as_slice(), &mut worker);
            drop(worker);
            if let (Some(tips), Some(hide)) = (tips, hide) {
                let known = git::introductions_in_range(repo, &tips, &hide, threads);
                let ids: Vec<ObjectId> = known.keys().copied().collect();
                git::scan_listed_blobs(repo, &ids, limits, threads, collector);
                scanned.known = Some(known);
            }
        }
        Mode::Staged => match git::staged_blobs(repo) {
            Ok(staged) => {
                let mut known: HashMap<ObjectId, Vec<Introduction>> = HashMap::new();
                for (id, path) in staged {
                    known.entry(id).or_default().push(Introduction {
                        commit: None,
                        path,
                        author_name: String::new(),
                        author_email: String::new(),
                        author_time: 0,
                        author_offset: 0,
                        reachable: true,
                    });
                }
                let ids: Vec<ObjectId> = known.keys().copied().collect();
                git::scan_listed_blobs(repo, &ids, limits, threads, collector);
                scanned.known = Some(known);
            }
            Err(e) => git_error(&mut collector.worker(), repo.display.to_string(), &e),
        },
    }
    // Remote URLs often carry credentials into .git/config; a mirror's config holds the URL we
    // were given, so only local repositories' configs are scanned.
    let config = repo.git_dir.join("config");
    if repo.display_is_path && config.is_file() {
        let shown = repo.join(if repo.workdir.is_some() {
            ".git/config"
        } else {
            "config"
        });
        let mut worker = collector.worker();
        keyhound_sources::fs_walk::scan_one(
            &config,
            Origin::File(PathBuf::from(shown)),
            limits,
            &mut worker,
        );
    }
    scanned
}

fn author_date(seconds: i64, offset: i32) -> Option<String> {
    let ts = jiff::Timestamp::from_second(seconds).ok()?;
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(offset).ok()?);
    Some(ts.to_zoned(tz).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

fn expand(loc: &Location, repo: &Repo, intros: Option<&Vec<Introduction>>) -> Vec<Location> {
    let git = loc.git.clone().unwrap_or_default();
    // Until now `loc.path` held only what follows the blob (`!/member` inside a committed
    // archive); the file's path in the commit goes in front.
    let placed = |file: String| {
        let mut l = loc.clone();
        l.path = format!("{file}{}", loc.path);
        if let Some(chain) = l.archive_chain.as_mut().and_then(|c| c.first_mut()) {
            *chain = file;
        }
        l
    };
    let Some(list) = intros.filter(|l| !l.is_empty()) else {
        // A blob no commit contains (added to the index and dropped, or a stray object).
        return vec![placed(
            repo.join(&format!("(unreferenced blob {})", git.blob)),
        )];
    };
    let first = list.iter().find_map(|i| i.commit).map(|c| c.to_string());
    list.iter()
        .map(|i| Location {
            git: Some(GitLocation {
                commit: i.commit.map(|c| c.to_string()),
                author_name: i.commit.map(|_| i.author_name.clone()),
                author_email: i.commit.map(|_| i.author_email.clone()),
                author_date: i
                    .commit
                    .and_then(|_| author_date(i.author_time, i.author_offset)),
                first_commit: first.clone(),
                dangling: !i.reachable,
                staged: i.commit.is_none(),
                ..git.clone()
            }),
            ..placed(repo.join(&i.path))
        })
        .collect()
}

fn blob_id(loc: &Location) -> Option<ObjectId> {
    loc.git
        .as_ref()
        .and_then(|g| ObjectId::from_hex(g.blob.as_bytes()).ok())
}

/// Attribution of a full-history scan's matched blobs: from the memory and the commits added
/// since when it has them, else over the whole history. Fills in the scan's record.
fn attribute_full(
    scanned: &mut ScannedRepo,
    targets: &HashSet<ObjectId>,
    threads: usize,
) -> (HashMap<ObjectId, Vec<Introduction>>, HashSet<ObjectId>) {
    let repo = &scanned.repo;
    let start = std::time::Instant::now();
    let mut intros: HashMap<ObjectId, Vec<Introduction>> = HashMap::new();
    let mut head = HashSet::new();
    let mut new_commits = Vec::new();
    let mut unexplained = targets.clone();
    if let Some(memory) = scanned.memory.as_ref().filter(|m| !m.commits.is_empty()) {
        let since = git::introductions_since(repo, &memory.commits, targets, threads);
        for id in targets {
            let mut list = memory.matched.get(id).cloned().unwrap_or_default();
            list.extend(since.introductions.get(id).into_iter().flatten().cloned());
            if !list.is_empty() {
                unexplained.remove(id);
                intros.insert(*id, list);
            }
        }
        new_commits = since.commits;
        if !targets.is_empty() {
            head = git::head_blobs(repo, targets);
        }
    }
    // A blob no remembered or new commit explains (nothing was remembered, or the blob is
    // new and only an unreachable commit holds it) needs the whole history.
    if !unexplained.is_empty() {
        let a = git::attribute(repo, &unexplained, threads);
        let remembered = scanned.memory.as_ref().map(|m| &m.commits);
        new_commits.extend(
            a.commit_ids
                .into_iter()
                .filter(|c| remembered.is_none_or(|r| !r.contains(c))),
        );
        new_commits.sort_unstable();
        new_commits.dedup();
        head.extend(a.head_blobs);
        intros.extend(a.introductions);
    }
    git::order_introductions(&mut intros);
    tracing::debug!(
        repo = %repo.display,
        targets = targets.len(),
        whole_history = !unexplained.is_empty(),
        new_commits = new_commits.len(),
        elapsed_ms = start.elapsed().as_millis() as u64,
        "attributed matched blobs"
    );
    if let Some(record) = scanned.record.as_mut() {
        record.commits = new_commits;
        record.matched = intros.clone();
    }
    (intros, head)
}

/// Attributes matched blobs, expands their locations, and sets each finding's presence.
/// Returns what full-history scans learnt, for the next scan.
pub(crate) fn attribute(
    report: &mut ScanReport,
    repos: Vec<ScannedRepo>,
    threads: usize,
) -> Vec<RepoRecord> {
    let mut head: HashMap<String, HashSet<ObjectId>> = HashMap::new();
    let mut records = Vec::new();
    let mut worktrees: Vec<(String, bool)> = Vec::new();
    for mut scanned in repos {
        let name = scanned.repo.display.to_string();
        if scanned.repo.workdir.is_some() && scanned.repo.display_is_path {
            worktrees.push((
                scanned.repo.display.trim_end_matches('/').to_owned(),
                matches!(&*scanned.repo.display, "." | "./" | ""),
            ));
        }
        let targets: HashSet<ObjectId> = report
            .findings
            .iter()
            .flat_map(|f| &f.locations)
            .filter(|l| {
                l.git
                    .as_ref()
                    .is_some_and(|g| g.repository == name && g.commit.is_none() && !g.staged)
            })
            .filter_map(blob_id)
            .collect();
        let full = scanned.record.is_some();
        if targets.is_empty() && !full {
            continue;
        }
        let (intros, head_blobs) = match &scanned.known {
            Some(known) => (known.clone(), git::head_blobs(&scanned.repo, &targets)),
            None => attribute_full(&mut scanned, &targets, threads),
        };
        records.extend(scanned.record.take());
        let repo = &scanned.repo;
        for finding in &mut report.findings {
            let mut expanded = Vec::with_capacity(finding.locations.len());
            for loc in finding.locations.drain(..) {
                let ours = loc
                    .git
                    .as_ref()
                    .is_some_and(|g| g.repository == name && g.commit.is_none() && !g.staged);
                match (ours, blob_id(&loc)) {
                    (true, Some(id)) => expanded.extend(expand(&loc, repo, intros.get(&id))),
                    _ => expanded.push(loc),
                }
            }
            expanded.sort();
            expanded.dedup();
            finding.locations = expanded;
        }
        head.insert(name, head_blobs);
    }
    for f in &mut report.findings {
        f.presence = presence(f, &head, &worktrees);
    }
    records
}

fn presence(
    f: &Finding,
    head: &HashMap<String, HashSet<ObjectId>>,
    worktrees: &[(String, bool)],
) -> Option<Presence> {
    let in_worktree = f.locations.iter().any(|l| {
        l.git.is_none()
            && worktrees
                .iter()
                .any(|(root, is_cwd)| *is_cwd || l.path.starts_with(&format!("{root}/")))
    });
    let git: Vec<&Location> = f.locations.iter().filter(|l| l.git.is_some()).collect();
    if git.is_empty() {
        return in_worktree.then_some(Presence::WorkingTree);
    }
    let at_head = git.iter().any(|l| {
        let g = l.git.as_ref().expect("filtered on git");
        blob_id(l).is_some_and(|id| head.get(&g.repository).is_some_and(|h| h.contains(&id)))
    });
    if at_head {
        Some(Presence::Head)
    } else if in_worktree || git.iter().any(|l| l.git.as_ref().is_some_and(|g| g.staged)) {
        Some(Presence::WorkingTree)
    } else {
        Some(Presence::HistoryOnly)
    }
}
