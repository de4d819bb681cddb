//! Recognising and opening repositories.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Error, boxed};

/// An open repository.
pub struct Repo {
    /// How the repository is shown in locations: the path as given, or a remote URL without
    /// credentials.
    pub display: Arc<str>,
    /// Whether `display` is a local path (location paths are then joined to it).
    pub display_is_path: bool,
    /// The `.git` directory (or the repository itself when bare).
    pub git_dir: PathBuf,
    /// The working tree, if any.
    pub workdir: Option<PathBuf>,
    inner: gix::ThreadSafeRepository,
}

impl Repo {
    /// A handle for the current thread, with an object cache for tree and commit lookups.
    pub(crate) fn local(&self) -> gix::Repository {
        let mut repo = self.inner.to_thread_local();
        repo.object_cache_size_if_unset(32 << 20);
        repo
    }

    /// The object directories: the repository's own, then its alternates.
    pub(crate) fn object_dirs(&self) -> Vec<PathBuf> {
        let own = self.inner.objects_dir().to_path_buf();
        let cwd = std::env::current_dir().unwrap_or_default();
        match gix::odb::alternate::resolve(own.clone(), &cwd) {
            Ok(mut alternates) => {
                alternates.insert(0, own);
                alternates.dedup();
                alternates
            }
            Err(_) => vec![own],
        }
    }

    /// The hash kind (SHA-1 today).
    pub(crate) fn object_hash(&self) -> gix::hash::Kind {
        self.inner.to_thread_local().object_hash()
    }

    /// True when the object database holds `id`.
    pub fn has_object(&self, id: &gix::ObjectId) -> bool {
        self.inner.to_thread_local().has_object(id)
    }

    /// The repository's identity for remembering it between scans: its canonical git
    /// directory.
    pub fn key(&self) -> String {
        fs_err::canonicalize(&self.git_dir)
            .unwrap_or_else(|_| self.git_dir.clone())
            .to_string_lossy()
            .into_owned()
    }

    /// A location path for a file inside the repository.
    pub fn join(&self, path: &str) -> String {
        if self.display_is_path && !matches!(&*self.display, "." | "./" | "") {
            format!("{}/{path}", self.display.trim_end_matches('/'))
        } else {
            path.to_owned()
        }
    }
}

/// True when `path` is the root of a repository: it has a `.git` directory or file, or it is a
/// bare repository (`HEAD`, `objects/` and `refs/`). Parents are not searched.
pub fn looks_like_repo(path: &Path) -> bool {
    let dot_git = path.join(".git");
    if dot_git.is_dir() || dot_git.is_file() {
        return true;
    }
    path.join("HEAD").is_file() && path.join("objects").is_dir() && path.join("refs").is_dir()
}

/// Opens the repository at exactly `path` (no search in parent directories), ignoring the
/// user's and system git configuration and environment so that a scan does not depend on them.
pub fn open(path: &Path, display: &str, display_is_path: bool) -> Result<Repo, Error> {
    let options = gix::open::Options::isolated().with(gix::sec::Trust::Full);
    let inner = gix::ThreadSafeRepository::open_opts(path, options).map_err(|e| Error::Open {
        path: path.to_path_buf(),
        source: boxed(e),
    })?;
    let git_dir = inner.git_dir().to_path_buf();
    let workdir = inner.work_dir().map(Path::to_path_buf);
    Ok(Repo {
        display: display.into(),
        display_is_path,
        git_dir,
        workdir,
        inner,
    })
}
