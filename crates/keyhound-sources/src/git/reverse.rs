//! Full-history attribution without walking commit by commit.
//!
//! Diffing every commit against its parents reads each tree version through random access:
//! on a repository with 50,000 commits that took 27 s (docs/benchmarks.md). Instead, every
//! tree and commit is decoded once, chain by chain (`packs.rs`), and three small tables are
//! kept:
//! - the trees that directly contain a matched blob, with the entry's name;
//! - every tree-to-subtree edge, with the name (to climb from a tree to the root trees above);
//! - every commit's root tree, parents and author.
//!
//! Climbing from each containing tree to every root tree above it gives the set of
//! (root tree, path, blob) that exist. A commit *introduces* a blob at a path when its root
//! tree has it and none of its parents' root trees do: the same definition as a tree diff,
//! evaluated with set lookups.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use gix::ObjectId;
use gix::objs::Kind;

use super::attribute::{Attribution, Introduction, order, parse_time, ref_tips_of};
use super::packs::decode_pack;
use super::repo::Repo;

struct CommitInfo {
    tree: ObjectId,
    parents: Vec<ObjectId>,
    author_name: String,
    author_email: String,
    time: i64,
    offset: i32,
}

/// Tables filled while decoding; one per thread, merged on drop.
#[derive(Default)]
struct Tables {
    /// (tree, name, blob): the tree has a matched blob under that name.
    contains: Vec<(ObjectId, Vec<u8>, ObjectId)>,
    /// child tree → (parent tree, name).
    edges: Vec<(ObjectId, ObjectId, Vec<u8>)>,
    commits: Vec<(ObjectId, CommitInfo)>,
}

struct Local<'a> {
    tables: Tables,
    shared: &'a Mutex<Tables>,
    /// Looked up once per tree entry: gitoxide's set hashes an id by its first bytes.
    targets: &'a gix::hashtable::HashSet<ObjectId>,
    hash: gix::hash::Kind,
}

impl Drop for Local<'_> {
    fn drop(&mut self) {
        let mine = std::mem::take(&mut self.tables);
        let mut all = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        all.contains.extend(mine.contains);
        all.edges.extend(mine.edges);
        all.commits.extend(mine.commits);
    }
}

impl Local<'_> {
    fn visit(&mut self, kind: Kind, id: ObjectId, data: &[u8]) {
        match kind {
            Kind::Tree => {
                for entry in gix::objs::TreeRefIter::from_bytes(data, self.hash).flatten() {
                    if entry.mode.is_tree() {
                        self.tables
                            .edges
                            .push((entry.oid.to_owned(), id, entry.filename.to_vec()));
                    } else if entry.mode.is_blob_or_symlink() && self.targets.contains(entry.oid) {
                        self.tables.contains.push((
                            id,
                            entry.filename.to_vec(),
                            entry.oid.to_owned(),
                        ));
                    }
                }
            }
            Kind::Commit => {
                let Ok(commit) = gix::objs::CommitRef::from_bytes(data, self.hash) else {
                    return;
                };
                let Ok(author) = commit.author() else { return };
                let (time, offset) = parse_time(author.time);
                self.tables.commits.push((
                    id,
                    CommitInfo {
                        tree: commit.tree(),
                        parents: commit.parents().collect(),
                        author_name: author.name.to_string(),
                        author_email: author.email.to_string(),
                        time,
                        offset,
                    },
                ));
            }
            Kind::Blob | Kind::Tag => {}
        }
    }
}

fn join(name: &[u8], rest: &str) -> String {
    let name = String::from_utf8_lossy(name);
    if rest.is_empty() {
        name.into_owned()
    } else {
        format!("{name}/{rest}")
    }
}

/// Attributes `targets` to the commits and paths that introduced them, over every commit in
/// the object database (those no ref reaches are marked unreachable), and reports which
/// targets are in HEAD's tree.
pub(crate) fn attribute(repo: &Repo, targets: &HashSet<ObjectId>, threads: usize) -> Attribution {
    if targets.is_empty() {
        return Attribution::default();
    }
    let hash = repo.object_hash();
    let targets: gix::hashtable::HashSet<ObjectId> = targets.iter().copied().collect();
    let targets = &targets;
    let shared = Mutex::new(Tables::default());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .expect("a thread pool of a few threads can be built");
    let make = || Local {
        tables: Tables::default(),
        shared: &shared,
        targets,
        hash,
    };
    let visit = |l: &mut Local<'_>, kind: Kind, id: ObjectId, data: &[u8]| l.visit(kind, id, data);
    let wanted = |k: Kind| matches!(k, Kind::Tree | Kind::Commit);
    for dir in repo.object_dirs() {
        for idx in super::enumerate::pack_indices(&dir) {
            // A damaged pack still gives what it can; the blob scan already reported it.
            let _ = decode_pack(&idx, hash, &wanted, &pool, &make, &visit);
        }
        let store = gix::odb::loose::Store::at(dir.clone(), hash);
        let mut local = make();
        let mut buf = Vec::new();
        for id in store.iter().flatten() {
            if let Ok(Some(data)) = store.try_find(&id, &mut buf) {
                if wanted(data.kind) {
                    local.visit(data.kind, id, data.data);
                }
            }
        }
    }
    let tables = shared.into_inner().unwrap_or_else(PoisonError::into_inner);

    let commits: HashMap<ObjectId, CommitInfo> = tables.commits.into_iter().collect();
    let mut roots: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for (id, c) in &commits {
        roots.entry(c.tree).or_default().push(*id);
    }
    let mut parents_of: HashMap<ObjectId, Vec<(ObjectId, Vec<u8>)>> = HashMap::new();
    for (child, parent, name) in tables.edges {
        parents_of.entry(child).or_default().push((parent, name));
    }

    // Every (root tree, path, blob) that exists.
    let mut seen: HashSet<(ObjectId, String, ObjectId)> = HashSet::new();
    let mut stack: Vec<(ObjectId, String, ObjectId)> = tables
        .contains
        .into_iter()
        .map(|(tree, name, blob)| (tree, join(&name, ""), blob))
        .collect();
    let mut at_root: HashMap<ObjectId, Vec<(String, ObjectId)>> = HashMap::new();
    while let Some((tree, path, blob)) = stack.pop() {
        if !seen.insert((tree, path.clone(), blob)) {
            continue;
        }
        if roots.contains_key(&tree) {
            at_root.entry(tree).or_default().push((path.clone(), blob));
        }
        if let Some(ps) = parents_of.get(&tree) {
            for (parent, name) in ps {
                stack.push((*parent, join(name, &path), blob));
            }
        }
    }
    let exists = |root: &ObjectId, path: &str, blob: &ObjectId| {
        seen.contains(&(*root, path.to_owned(), *blob))
    };

    // Reachability from refs, over the in-memory parent graph.
    let local = repo.local();
    let mut reachable: HashSet<ObjectId> = HashSet::new();
    let mut walk = ref_tips_of(&local);
    while let Some(c) = walk.pop() {
        if reachable.insert(c) {
            if let Some(info) = commits.get(&c) {
                walk.extend(info.parents.iter().filter(|p| !reachable.contains(*p)));
            }
        }
    }

    let mut introductions: HashMap<ObjectId, Vec<Introduction>> = HashMap::new();
    for (root, entries) in &at_root {
        for commit in &roots[root] {
            let info = &commits[commit];
            for (path, blob) in entries {
                let in_a_parent = info.parents.iter().any(|p| {
                    commits
                        .get(p)
                        .is_some_and(|pc| exists(&pc.tree, path, blob))
                });
                if !in_a_parent {
                    introductions.entry(*blob).or_default().push(Introduction {
                        commit: Some(*commit),
                        path: path.clone(),
                        author_name: info.author_name.clone(),
                        author_email: info.author_email.clone(),
                        author_time: info.time,
                        author_offset: info.offset,
                        reachable: reachable.contains(commit),
                    });
                }
            }
        }
    }
    order(&mut introductions);
    let head_blobs = local
        .head_id()
        .ok()
        .and_then(|h| commits.get(&h.detach()).map(|c| c.tree))
        .and_then(|t| at_root.get(&t))
        .map(|entries| entries.iter().map(|(_, b)| *b).collect())
        .unwrap_or_default();
    Attribution {
        introductions,
        head_blobs,
        commits: commits.len(),
        commit_ids: commits.keys().copied().collect(),
    }
}
