//! Incremental history scans: what a full-history scan of a repository remembers for the
//! next one, and how the next one uses it.
//!
//! A full-history scan reads every blob of a repository. The next full scan of the same
//! repository, with the same rules and limits (the same [`Profile`]), skips the packs and
//! blobs it already scanned and scans only what is new. The blobs that matched before are
//! scanned again (they are few, and rescanning them gives their findings back with their
//! values), and their provenance is brought up to date: the commits added since are diffed
//! against their parents, which finds every new place a known blob was committed, without
//! reading the trees of the whole history again.
//!
//! The memory lives in the caller's store (`keyhound-store`); this crate only defines it and
//! reads it through [`History`].

use std::collections::{HashMap, HashSet};

use keyhound_sources::git::{Introduction, ObjectId};
use sha2::{Digest, Sha256};

/// What earlier full-history scans of one repository, with one [`Profile`], left for the next.
#[derive(Debug, Clone, Default)]
pub struct RepoMemory {
    /// Pack files (`pack-<hash>`, as in `objects/pack/`) whose every blob was scanned.
    pub packs: HashSet<String>,
    /// Blobs scanned.
    pub blobs: HashSet<ObjectId>,
    /// Commits whose introductions of the matched blobs are known. Empty when attribution
    /// never ran (nothing matched yet).
    pub commits: HashSet<ObjectId>,
    /// The blobs that matched, each with every known commit and path that introduced it.
    pub matched: HashMap<ObjectId, Vec<Introduction>>,
}

impl RepoMemory {
    /// Adds what a scan learnt (or starts over, when the record says so).
    pub fn absorb(&mut self, record: &RepoRecord) {
        if record.replace {
            *self = RepoMemory::default();
        }
        self.packs.extend(record.packs.iter().cloned());
        self.blobs.extend(record.blobs.iter().copied());
        self.commits.extend(record.commits.iter().copied());
        self.matched.clone_from(&record.matched);
    }
}

/// What one full-history scan learnt about one repository: the caller adds it to that
/// repository's memory.
#[derive(Debug, Clone, Default)]
pub struct RepoRecord {
    /// The repository's identity: its canonical git directory.
    pub key: String,
    /// How locations show it (a path as given, or a URL without credentials).
    pub display: String,
    /// The profile the scan ran with.
    pub profile: String,
    /// True when the scan used no memory: whatever was remembered for this key and profile
    /// is replaced, not added to.
    pub replace: bool,
    /// Packs whose every blob this scan scanned (or already knew).
    pub packs: Vec<String>,
    /// Blobs this scan scanned that the memory did not hold.
    pub blobs: Vec<ObjectId>,
    /// Commits whose introductions this scan worked out, that the memory did not hold.
    pub commits: Vec<ObjectId>,
    /// Every blob that matched in this scan, with all its introductions: this replaces the
    /// remembered set (a blob that no longer matches, after a rule fix, is dropped).
    pub matched: HashMap<ObjectId, Vec<Introduction>>,
    /// Blobs left out because the memory held them (a figure for the summary).
    pub known_blobs: u64,
    /// Packs left out because the memory held them (a figure for the summary).
    pub known_packs: u64,
}

/// Where a scan finds the memory of a repository.
pub trait History: Send + Sync {
    /// The memory of the repository `key` for `profile`, if any. An error to read it is the
    /// implementation's to report; returning `None` makes the scan a full one.
    fn recall(&self, key: &str, profile: &str) -> Option<RepoMemory>;
}

/// A digest of everything that decides what a blob's scan finds: the rules, the engine's
/// version and the limits. Memory is only reused under the same profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile(pub String);

impl Profile {
    /// The profile of `rules_version` with `limits`.
    pub fn new(rules_version: &str, limits: &keyhound_sources::Limits) -> Profile {
        let mut h = Sha256::new();
        h.update(rules_version.as_bytes());
        h.update(format!("{limits:?}").as_bytes());
        Profile(hex::encode(&h.finalize()[..8]))
    }
}

/// The version of a rule set: a digest of every rule's definition and of the engine's
/// version, so that a new keyhound with different matching never reuses an older memory.
pub fn rules_version(rules: &[keyhound_rules::Rule]) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for rule in rules {
        h.update(serde_json::to_vec(rule).unwrap_or_default());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}
