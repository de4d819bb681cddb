//! Which commits and paths introduced a blob.
//!
//! Every commit is visited once (from every ref, then from commits no ref reaches) and its
//! tree is compared with its parents' trees. The comparison descends only into subtrees whose
//! ids differ, so its cost follows the size of each change, not of the tree. A blob is
//! *introduced* by a commit at a path when it appears there and differs from every parent at
//! that path. Commits are compared in parallel.

use std::collections::{HashMap, HashSet};

use gix::ObjectId;
use gix::objs::{Find as _, Kind};
use rayon::prelude::*;

use super::{Error, Repo, boxed};

/// One commit and path where a blob appeared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introduction {
    /// The commit, or `None` for content staged in the index.
    pub commit: Option<ObjectId>,
    /// The file's path in that commit's tree.
    pub path: String,
    /// Author name.
    pub author_name: String,
    /// Author email.
    pub author_email: String,
    /// Author date, seconds since the epoch.
    pub author_time: i64,
    /// The author's UTC offset, in seconds.
    pub author_offset: i32,
    /// False when no ref reaches the commit (a dangling commit, or one only in the reflog).
    pub reachable: bool,
}

/// The result of [`attribute`].
#[derive(Debug, Default)]
pub struct Attribution {
    /// Introductions of each target blob, oldest first.
    pub introductions: HashMap<ObjectId, Vec<Introduction>>,
    /// The target blobs present in HEAD's tree.
    pub head_blobs: HashSet<ObjectId>,
    /// Commits visited.
    pub commits: usize,
    /// Their ids: the commits whose introductions of the targets are now known.
    pub commit_ids: Vec<ObjectId>,
}

/// At most this many introductions are kept per blob (the oldest ones).
pub(crate) const MAX_INTRODUCTIONS: usize = 1000;

enum Targets<'a> {
    All,
    Set(&'a HashSet<ObjectId>),
}

impl Targets<'_> {
    fn wants(&self, id: &ObjectId) -> bool {
        match self {
            Targets::All => true,
            Targets::Set(s) => s.contains(id),
        }
    }
}

struct CommitInfo {
    tree: ObjectId,
    parents: Vec<ObjectId>,
    author_name: String,
    author_email: String,
    author_time: i64,
    author_offset: i32,
}

/// Parses a git signature time, `<seconds> <+hhmm>`.
pub(crate) fn parse_time(raw: &str) -> (i64, i32) {
    let mut parts = raw.split_whitespace();
    let seconds = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let offset = parts
        .next()
        .and_then(|o| {
            let (sign, digits) = o.split_at(1);
            let n: i32 = digits.parse().ok()?;
            let secs = (n / 100) * 3600 + (n % 100) * 60;
            Some(if sign == "-" { -secs } else { secs })
        })
        .unwrap_or(0);
    (seconds, offset)
}

fn commit_info(repo: &gix::Repository, id: &ObjectId, buf: &mut Vec<u8>) -> Option<CommitInfo> {
    let data = repo.objects.try_find(id, buf).ok()??;
    if data.kind != Kind::Commit {
        return None;
    }
    let commit = gix::objs::CommitRef::from_bytes(data.data, repo.object_hash()).ok()?;
    let author = commit.author().ok()?;
    let (author_time, author_offset) = parse_time(author.time);
    Some(CommitInfo {
        tree: commit.tree(),
        parents: commit.parents().collect(),
        author_name: author.name.to_string(),
        author_email: author.email.to_string(),
        author_time,
        author_offset,
    })
}

struct Entry {
    name: Vec<u8>,
    mode: gix::objs::tree::EntryMode,
    id: ObjectId,
}

fn read_tree(repo: &gix::Repository, id: &ObjectId, buf: &mut Vec<u8>) -> Vec<Entry> {
    let Ok(Some(data)) = repo.objects.try_find(id, buf) else {
        return Vec::new();
    };
    if data.kind != Kind::Tree {
        return Vec::new();
    }
    match gix::objs::TreeRef::from_bytes(data.data, repo.object_hash()) {
        Ok(tree) => tree
            .entries
            .iter()
            .map(|e| Entry {
                name: e.filename.to_vec(),
                mode: e.mode,
                id: e.oid.to_owned(),
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + name.len() + 1);
    if !prefix.is_empty() {
        p.extend_from_slice(prefix);
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// Blobs (and symlink targets) in `new` that are not in `old` at the same path, among the
/// targets. Descends only into subtrees whose ids differ; submodule entries are skipped.
fn diff_trees(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: ObjectId,
    prefix: &[u8],
    targets: &Targets<'_>,
    out: &mut Vec<(ObjectId, Vec<u8>)>,
    buf: &mut Vec<u8>,
) {
    if old == Some(new) {
        return;
    }
    let new_entries = read_tree(repo, &new, buf);
    let old_entries = old.map(|o| read_tree(repo, &o, buf)).unwrap_or_default();
    let before: HashMap<&[u8], &Entry> =
        old_entries.iter().map(|e| (e.name.as_slice(), e)).collect();
    for e in &new_entries {
        let prev = before.get(e.name.as_slice());
        if e.mode.is_tree() {
            let old_sub = prev.filter(|p| p.mode.is_tree()).map(|p| p.id);
            diff_trees(
                repo,
                old_sub,
                e.id,
                &join(prefix, &e.name),
                targets,
                out,
                buf,
            );
        } else if e.mode.is_blob_or_symlink() {
            let unchanged = prev.is_some_and(|p| p.id == e.id && p.mode.is_blob_or_symlink());
            if !unchanged && targets.wants(&e.id) {
                out.push((e.id, join(prefix, &e.name)));
            }
        }
    }
}

/// Every blob in a tree, among the targets.
fn tree_blobs(
    repo: &gix::Repository,
    tree: ObjectId,
    targets: &Targets<'_>,
    out: &mut HashSet<ObjectId>,
    buf: &mut Vec<u8>,
) {
    let mut found = Vec::new();
    diff_trees(repo, None, tree, b"", targets, &mut found, buf);
    out.extend(found.into_iter().map(|(id, _)| id));
}

/// The blob at `path` in `tree`, if any.
fn blob_at(
    repo: &gix::Repository,
    tree: ObjectId,
    path: &[u8],
    buf: &mut Vec<u8>,
) -> Option<ObjectId> {
    let mut current = tree;
    let mut parts = path.split(|&b| b == b'/').peekable();
    while let Some(part) = parts.next() {
        let entries = read_tree(repo, &current, buf);
        let e = entries.into_iter().find(|e| e.name == part)?;
        if parts.peek().is_none() {
            return e.mode.is_blob_or_symlink().then_some(e.id);
        }
        current = e.id;
    }
    None
}

/// The commits that every ref (and HEAD) points at, through annotated tags.
pub(crate) fn ref_tips_of(repo: &gix::Repository) -> Vec<ObjectId> {
    let mut tips = Vec::new();
    if let Ok(platform) = repo.references() {
        if let Ok(all) = platform.all() {
            for mut r in all.flatten() {
                if let Ok(id) = r.peel_to_id() {
                    tips.push(id.detach());
                }
            }
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    let mut buf = Vec::new();
    tips.retain(
        |id| matches!(repo.objects.try_find(id, &mut buf), Ok(Some(d)) if d.kind == Kind::Commit),
    );
    tips.sort_unstable();
    tips.dedup();
    tips
}

/// Every commit reachable from `tips`, stopping at commits in `stop`. Missing parents (shallow
/// clones, damaged repositories) end their line of history.
fn walk(repo: &gix::Repository, tips: &[ObjectId], stop: &HashSet<ObjectId>) -> Vec<ObjectId> {
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut order = Vec::new();
    let mut stack: Vec<ObjectId> = tips
        .iter()
        .filter(|t| !stop.contains(*t))
        .copied()
        .collect();
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(info) = commit_info(repo, &id, &mut buf) else {
            continue;
        };
        order.push(id);
        stack.extend(
            info.parents
                .into_iter()
                .filter(|p| !stop.contains(p) && !seen.contains(p)),
        );
    }
    order
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .expect("a thread pool of a few threads can be built")
}

/// Introductions made by each commit, compared in parallel.
fn introductions(
    repo: &Repo,
    commits: &[(ObjectId, bool)],
    targets: &Targets<'_>,
    threads: usize,
) -> HashMap<ObjectId, Vec<Introduction>> {
    let per_commit: Vec<Vec<(ObjectId, Introduction)>> = pool(threads).install(|| {
        commits
            .par_iter()
            .map_init(
                || (repo.local(), Vec::new()),
                |(r, buf), (id, reachable)| {
                    let Some(info) = commit_info(r, id, buf) else {
                        return Vec::new();
                    };
                    let parent_trees: Vec<ObjectId> = info
                        .parents
                        .iter()
                        .filter_map(|p| commit_info(r, p, buf).map(|c| c.tree))
                        .collect();
                    let mut found = Vec::new();
                    diff_trees(
                        r,
                        parent_trees.first().copied(),
                        info.tree,
                        b"",
                        targets,
                        &mut found,
                        buf,
                    );
                    // A merge introduces only what differs from every parent.
                    if parent_trees.len() > 1 {
                        found.retain(|(blob, path)| {
                            parent_trees[1..]
                                .iter()
                                .all(|t| blob_at(r, *t, path, buf) != Some(*blob))
                        });
                    }
                    found
                        .into_iter()
                        .map(|(blob, path)| {
                            (
                                blob,
                                Introduction {
                                    commit: Some(*id),
                                    path: String::from_utf8_lossy(&path).into_owned(),
                                    author_name: info.author_name.clone(),
                                    author_email: info.author_email.clone(),
                                    author_time: info.author_time,
                                    author_offset: info.author_offset,
                                    reachable: *reachable,
                                },
                            )
                        })
                        .collect()
                },
            )
            .collect()
    });
    let mut by_blob: HashMap<ObjectId, Vec<Introduction>> = HashMap::new();
    for (blob, intro) in per_commit.into_iter().flatten() {
        by_blob.entry(blob).or_default().push(intro);
    }
    order(&mut by_blob);
    by_blob
}

/// Sorts each blob's introductions oldest first, drops repeats of the same commit and path,
/// and keeps at most `MAX_INTRODUCTIONS` of them (the oldest).
pub fn order(by_blob: &mut HashMap<ObjectId, Vec<Introduction>>) {
    for list in by_blob.values_mut() {
        list.sort_by(|a, b| {
            a.author_time
                .cmp(&b.author_time)
                .then_with(|| a.commit.cmp(&b.commit))
                .then_with(|| a.path.cmp(&b.path))
        });
        list.dedup_by(|a, b| a.commit == b.commit && a.path == b.path);
        list.truncate(MAX_INTRODUCTIONS);
    }
}

/// Attributes `targets` (blobs that matched) to the commits and paths that introduced them,
/// over every commit in the object database (those no ref reaches are marked unreachable),
/// and reports which targets are in HEAD's tree. See `reverse.rs` for the method.
pub fn attribute(repo: &Repo, targets: &HashSet<ObjectId>, threads: usize) -> Attribution {
    super::reverse::attribute(repo, targets, threads)
}

/// The `targets` present in HEAD's tree (empty for an unborn HEAD).
pub fn head_blobs(repo: &Repo, targets: &HashSet<ObjectId>) -> HashSet<ObjectId> {
    let local = repo.local();
    let mut found = HashSet::new();
    let mut buf = Vec::new();
    if let Ok(head) = local.head_id() {
        if let Some(info) = commit_info(&local, &head.detach(), &mut buf) {
            tree_blobs(
                &local,
                info.tree,
                &Targets::Set(targets),
                &mut found,
                &mut buf,
            );
        }
    }
    found
}

/// Resolves a revision (`main`, `v1.2`, `HEAD~3`, a commit id) to a commit.
pub fn resolve_commit(repo: &Repo, rev: &str) -> Result<ObjectId, Error> {
    let local = repo.local();
    let spec = format!("{rev}^{{commit}}");
    local
        .rev_parse_single(spec.as_str())
        .map(gix::Id::detach)
        .map_err(|e| Error::Revision {
            repo: repo.display.to_string(),
            rev: rev.to_owned(),
            source: boxed(e),
        })
}

/// Every blob introduced by the commits reachable from `tips` (all refs when empty) but not
/// from `hide`, with its introductions: the `--since-commit` and `--branch` scans.
pub fn introductions_in_range(
    repo: &Repo,
    tips: &[ObjectId],
    hide: &[ObjectId],
    threads: usize,
) -> HashMap<ObjectId, Vec<Introduction>> {
    let local = repo.local();
    let tips = if tips.is_empty() {
        ref_tips_of(&local)
    } else {
        tips.to_vec()
    };
    let hidden: HashSet<ObjectId> = walk(&local, hide, &HashSet::new()).into_iter().collect();
    let commits: Vec<(ObjectId, bool)> = walk(&local, &tips, &hidden)
        .into_iter()
        .map(|c| (c, true))
        .collect();
    introductions(repo, &commits, &Targets::All, threads)
}

/// What [`introductions_since`] found.
#[derive(Debug, Default)]
pub struct Since {
    /// Introductions of the targets by the new commits, oldest first.
    pub introductions: HashMap<ObjectId, Vec<Introduction>>,
    /// The new commits: reachable from a ref and not in the known set.
    pub commits: Vec<ObjectId>,
}

/// Introductions of `targets` by the commits that refs reach and `known` does not hold: the
/// incremental update of an earlier [`attribute`]. The walk stops at known commits, so its cost
/// follows the number of new commits.
pub fn introductions_since(
    repo: &Repo,
    known: &HashSet<ObjectId>,
    targets: &HashSet<ObjectId>,
    threads: usize,
) -> Since {
    let local = repo.local();
    let commits = walk(&local, &ref_tips_of(&local), known);
    let listed: Vec<(ObjectId, bool)> = commits.iter().map(|c| (*c, true)).collect();
    let introductions = if targets.is_empty() {
        HashMap::new()
    } else {
        introductions(repo, &listed, &Targets::Set(targets), threads)
    };
    Since {
        introductions,
        commits,
    }
}

/// Content staged in the index that differs from HEAD (the pre-commit use case): each blob
/// with its path.
pub fn staged_blobs(repo: &Repo) -> Result<Vec<(ObjectId, String)>, Error> {
    let local = repo.local();
    let index = local.open_index().map_err(|e| Error::Index {
        repo: repo.display.to_string(),
        source: boxed(e),
    })?;
    let mut buf = Vec::new();
    let head_tree = local
        .head_id()
        .ok()
        .and_then(|h| commit_info(&local, &h.detach(), &mut buf))
        .map(|c| c.tree);
    let mut out = Vec::new();
    for entry in index.entries() {
        if !entry.mode.is_submodule() {
            let path = entry.path(&index);
            let at_head = head_tree.and_then(|t| blob_at(&local, t, path, &mut buf));
            if at_head != Some(entry.id) {
                out.push((entry.id, path.to_string()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn signature_times() {
        assert_eq!(parse_time("1767225600 +0100"), (1_767_225_600, 3600));
        assert_eq!(parse_time("1767225600 -0530"), (1_767_225_600, -19800));
        assert_eq!(parse_time("garbage"), (0, 0));
    }
}
