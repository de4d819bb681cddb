//! The filesystem walk: every file under the given paths, in parallel.
//!
//! Unlike ripgrep, nothing is skipped because `.gitignore`, `.ignore` or a dot-name says so:
//! `.env` files are usually git-ignored and are exactly what a secret scan is for. Only the
//! `.git/` directory is skipped (its objects are history, a source of their own), plus what the
//! user excludes with `--exclude` or leaves out with `--include`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{DirEntry, WalkBuilder, WalkState};

use crate::blob::display_path;
use crate::reader::Reader;
use crate::{Limits, Origin, Sink, SkipReason, Skipped, Worker};
use crate::{archive, image};

/// Errors in walk settings (input problems become [`Skipped`] instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An `--include` or `--exclude` glob does not parse.
    #[error("invalid glob {glob:?}")]
    Glob {
        /// The glob.
        glob: String,
        /// The parser's error.
        #[source]
        source: globset::Error,
    },
}

/// What a walk found besides files.
#[derive(Debug, Default)]
pub struct WalkOutcome {
    /// Git repositories met on the way: working trees (the directory holding `.git`) and bare
    /// repositories (directories named `*.git` that are repositories). Their directories were
    /// not walked into: history is a source of its own.
    pub repositories: Vec<PathBuf>,
}

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Walker and scanner threads.
    pub threads: usize,
    /// Follow symbolic links (loops are detected and reported).
    pub follow_symlinks: bool,
    /// Only files matching one of these globs are scanned (all when empty).
    pub include: Vec<String>,
    /// Files and directories matching one of these globs are not scanned.
    pub exclude: Vec<String>,
    /// Skip `.git` directories (and bare repositories named `*.git`), reporting them in
    /// [`WalkOutcome::repositories`].
    pub skip_git_dirs: bool,
    /// Size limits.
    pub limits: Limits,
}

impl Default for WalkOptions {
    fn default() -> WalkOptions {
        WalkOptions {
            threads: std::thread::available_parallelism().map_or(2, usize::from),
            follow_symlinks: false,
            include: Vec::new(),
            exclude: Vec::new(),
            skip_git_dirs: true,
            limits: Limits::default(),
        }
    }
}

/// Compiled `--include` / `--exclude` globs. A glob without `/` matches a file or directory
/// name anywhere (`*.min.js`, `node_modules`); a glob with `/` matches the path.
#[derive(Debug, Clone, Default)]
pub struct PathFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

fn build_set(globs: &[String]) -> Result<Option<GlobSet>, Error> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|source| Error::Glob {
            glob: g.clone(),
            source,
        })?;
        b.add(glob);
    }
    b.build().map(Some).map_err(|source| Error::Glob {
        glob: globs.join(", "),
        source,
    })
}

fn matches(set: &GlobSet, path: &Path) -> bool {
    let shown = display_path(path);
    set.is_match(&shown) || path.file_name().is_some_and(|n| set.is_match(n))
}

impl PathFilter {
    /// Compiles the globs.
    pub fn new(include: &[String], exclude: &[String]) -> Result<PathFilter, Error> {
        Ok(PathFilter {
            include: build_set(include)?,
            exclude: build_set(exclude)?,
        })
    }

    /// True when a directory's subtree is excluded.
    pub fn skip_dir(&self, path: &Path) -> bool {
        self.exclude.as_ref().is_some_and(|s| matches(s, path))
    }

    /// True when a file is to be scanned.
    pub fn scan_file(&self, path: &Path) -> bool {
        if self.exclude.as_ref().is_some_and(|s| matches(s, path)) {
            return false;
        }
        self.include.as_ref().is_none_or(|s| matches(s, path))
    }
}

/// The innermost error of an `ignore` error, with the path it names and whether it is a loop.
fn unwrap_error(err: &ignore::Error) -> (Option<PathBuf>, Option<&io::Error>, bool) {
    match err {
        ignore::Error::WithPath { path, err } => {
            let (_, io, is_loop) = unwrap_error(err);
            (Some(path.clone()), io, is_loop)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            unwrap_error(err)
        }
        ignore::Error::Loop { child, .. } => (Some(child.clone()), None, true),
        ignore::Error::Io(e) => (None, Some(e), false),
        ignore::Error::Partial(errs) => errs.first().map_or((None, None, false), unwrap_error),
        _ => (None, None, false),
    }
}

fn report_walk_error(err: &ignore::Error, worker: &mut dyn Worker) {
    let (path, io, is_loop) = unwrap_error(err);
    let path = path.unwrap_or_default();
    let reason = if is_loop {
        SkipReason::SymlinkLoop
    } else if io.is_some_and(|e| e.kind() == io::ErrorKind::NotFound)
        && fs_err::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink())
    {
        SkipReason::BrokenSymlink
    } else {
        SkipReason::Unreadable
    };
    let detail = io.map_or_else(|| err.to_string(), ToString::to_string);
    worker.skipped(Skipped {
        origin: Origin::File(path),
        reason,
        detail,
    });
}

/// Scans one file as [`walk`] does (archives opened within the limits), on this thread.
pub fn scan_file(path: &Path, limits: &Limits, worker: &mut dyn Worker) {
    let mut reader = Reader::default();
    scan_one_file(
        path,
        Origin::File(path.to_path_buf()),
        limits,
        &mut reader,
        worker,
    );
}

/// Scans one file like [`scan_file`], reporting it as `origin` (for a file shown under another
/// name, such as a repository's `.git/config`).
pub fn scan_one(path: &Path, origin: Origin, limits: &Limits, worker: &mut dyn Worker) {
    scan_one_file(path, origin, limits, &mut Reader::default(), worker);
}

/// Scans one file: opens archives and compressed files (within the archive limits), and
/// scans anything else as bytes unless it is larger than `max_file_size`.
pub(crate) fn scan_one_file(
    path: &Path,
    origin: Origin,
    limits: &Limits,
    reader: &mut Reader,
    worker: &mut dyn Worker,
) {
    let skip = |worker: &mut dyn Worker, reason, detail: String| {
        worker.skipped(Skipped {
            origin: origin.clone(),
            reason,
            detail,
        });
    };
    let mut file = match fs_err::File::open(path) {
        Ok(f) => f,
        Err(e) => return skip(worker, SkipReason::Unreadable, error_detail(&e)),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return skip(worker, SkipReason::Unreadable, error_detail(&e)),
    };
    if !meta.is_file() {
        return skip(worker, SkipReason::SpecialFile, "not a regular file".into());
    }
    let mut ctx = archive::Ctx::new(limits, reader, worker);
    archive::scan_file(&mut ctx, &mut file, &origin, meta.len());
}

/// The OS error without the path, which the skip record already names.
fn error_detail(e: &io::Error) -> String {
    use std::error::Error as _;
    e.source()
        .map_or_else(|| e.to_string(), ToString::to_string)
}

fn visit(
    entry: DirEntry,
    opts: &WalkOptions,
    filter: &PathFilter,
    reader: &mut Reader,
    worker: &mut dyn Worker,
    repositories: &Mutex<Vec<PathBuf>>,
) -> WalkState {
    let path = entry.path();
    let Some(file_type) = entry.file_type() else {
        return WalkState::Continue;
    };
    let root = entry.depth() == 0;
    if file_type.is_dir() {
        if !root && opts.skip_git_dirs {
            let name = entry.file_name();
            let bare = name != ".git"
                && name.to_string_lossy().ends_with(".git")
                && crate::git::looks_like_repo(path);
            if name == ".git" || bare {
                let repo = if bare {
                    path.to_path_buf()
                } else {
                    path.parent().unwrap_or(path).to_path_buf()
                };
                repositories
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(repo);
                return WalkState::Skip;
            }
        }
        if !root && filter.skip_dir(path) {
            return WalkState::Skip;
        }
        if opts.limits.archive_depth > 0 && image::is_oci_layout(path) {
            image::scan_oci_dir(path, &opts.limits, reader, worker);
            return WalkState::Skip;
        }
        return WalkState::Continue;
    }
    if !root && !filter.scan_file(path) {
        return WalkState::Continue;
    }
    if file_type.is_symlink() {
        worker.skipped(Skipped {
            origin: Origin::File(path.to_path_buf()),
            reason: SkipReason::Symlink,
            detail: fs_err::read_link(path)
                .map_or_else(|e| e.to_string(), |t| format!("-> {}", t.display())),
        });
    } else if file_type.is_file() {
        scan_one_file(
            path,
            Origin::File(path.to_path_buf()),
            &opts.limits,
            reader,
            worker,
        );
    } else {
        worker.skipped(Skipped {
            origin: Origin::File(path.to_path_buf()),
            reason: SkipReason::SpecialFile,
            detail: "FIFO, socket or device".into(),
        });
    }
    WalkState::Continue
}

/// Walks `roots` with `opts.threads` threads and passes every file to `sink`. Roots that do
/// not exist are reported as [`SkipReason::InvalidPath`]. Symbolic links given as roots are
/// followed, like ripgrep does.
pub fn walk<S: Sink>(
    roots: &[PathBuf],
    opts: &WalkOptions,
    sink: &S,
) -> Result<WalkOutcome, Error> {
    let filter = PathFilter::new(&opts.include, &opts.exclude)?;
    let mut valid = Vec::new();
    {
        let mut worker = sink.worker();
        for root in roots {
            match fs_err::metadata(root) {
                Ok(_) => valid.push(root.clone()),
                Err(e) => worker.skipped(Skipped {
                    origin: Origin::File(root.clone()),
                    reason: if fs_err::symlink_metadata(root).is_ok() {
                        SkipReason::BrokenSymlink
                    } else {
                        SkipReason::InvalidPath
                    },
                    detail: error_detail(&e),
                }),
            }
        }
    }
    let Some((first, rest)) = valid.split_first() else {
        return Ok(WalkOutcome::default());
    };
    let repositories = Mutex::new(Vec::new());
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    builder
        .standard_filters(false)
        .hidden(false)
        .parents(false)
        .follow_links(opts.follow_symlinks)
        .threads(opts.threads.max(1));
    builder.build_parallel().run(|| {
        let mut worker = sink.worker();
        let mut reader = Reader::default();
        let (filter, repositories) = (&filter, &repositories);
        Box::new(move |result| match result {
            Ok(entry) => visit(entry, opts, filter, &mut reader, &mut worker, repositories),
            Err(err) => {
                report_walk_error(&err, &mut worker);
                WalkState::Continue
            }
        })
    });
    let mut repositories = repositories
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    repositories.sort();
    repositories.dedup();
    Ok(WalkOutcome { repositories })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_globs() {
        let f = PathFilter::new(
            &["*.env".into(), "config/**".into()],
            &["node_modules".into(), "*.min.js".into()],
        )
        .expect("globs");
        assert!(f.scan_file(Path::new("./app/.env")));
        assert!(f.scan_file(Path::new("config/a/b.yml")));
        assert!(!f.scan_file(Path::new("src/main.rs")));
        assert!(f.skip_dir(Path::new("web/node_modules")));
        assert!(!f.scan_file(Path::new("x.min.js")));
        assert!(PathFilter::new(&["[".into()], &[]).is_err());
    }
}
