//! Git repositories as a source.
//!
//! A full scan reads **every blob in the object database** (every pack, and loose objects),
//! whether a ref reaches it or not: dangling commits, stashes, notes, remote-tracking branches
//! and objects left behind by a rebase are covered because nothing is looked up by ref. Each
//! distinct blob is scanned once.
//!
//! Packs are decoded chain by chain for the kinds needed (`packs.rs`): the scan decodes only
//! blob chains. Where a blob came from (commit, author, path) is worked out *after* matching,
//! and only for the blobs that matched: [`attribute`] decodes tree and commit chains once and
//! climbs from the trees holding a matched blob to the commits (`reverse.rs`). See
//! docs/git.md.
//!
//! Narrower modes enumerate blobs by the same diff walk instead: [`introductions_in_range`]
//! (`--since-commit`, `--branch`) and [`staged_blobs`] (`--staged`).

mod attribute;
mod enumerate;
mod packs;
mod remote;
mod repo;
mod reverse;

use std::path::PathBuf;

pub use attribute::{
    Attribution, Introduction, Since, attribute, head_blobs, introductions_in_range,
    introductions_since, order as order_introductions, resolve_commit, staged_blobs,
};
pub use enumerate::{EnumerateStats, Known, scan_all_blobs, scan_listed_blobs};
pub use gix::ObjectId;
pub use remote::{RemoteOptions, is_remote_url, mirror, redact_url};
pub use repo::{Repo, looks_like_repo, open};

/// A boxed error from gitoxide.
pub type GixError = Box<dyn std::error::Error + Send + Sync>;

/// Errors from git sources. Problems with single objects become [`crate::Skipped`] instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is not a repository, or it cannot be opened.
    #[error("cannot open git repository {path}")]
    Open {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: GixError,
    },
    /// A revision given with `--since-commit` or `--branch` does not resolve to a commit.
    #[error("cannot resolve {rev:?} to a commit in {repo}")]
    Revision {
        /// The repository.
        repo: String,
        /// The revision.
        rev: String,
        /// Why.
        #[source]
        source: GixError,
    },
    /// The index (staging area) cannot be read.
    #[error("cannot read the index of {repo}")]
    Index {
        /// The repository.
        repo: String,
        /// Why.
        #[source]
        source: GixError,
    },
    /// Cloning or fetching a remote failed.
    #[error("cannot clone or fetch {url}")]
    Remote {
        /// The URL, without credentials.
        url: String,
        /// Why.
        #[source]
        source: GixError,
    },
    /// Cloning or fetching a remote did not finish in time.
    #[error("cloning or fetching {url} did not finish within {seconds} s")]
    RemoteTimeout {
        /// The URL, without credentials.
        url: String,
        /// The limit.
        seconds: u64,
    },
    /// The clone cache directory cannot be used.
    #[error("cannot use clone directory {path}")]
    CloneDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Boxes any error for [`Error`].
pub(crate) fn boxed(e: impl std::error::Error + Send + Sync + 'static) -> GixError {
    Box::new(e)
}
