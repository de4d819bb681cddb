//! Blobs, origins, skips and the sink interface.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::reader::Encoding;

/// Where a blob came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Origin {
    /// A file on disk, with the path as the user will see it.
    File(PathBuf),
    /// A stream such as stdin, with the name given by `--stdin-name`.
    Stream(String),
    /// A blob in a git repository's object database. Where it appears (commits, paths) is
    /// attributed after matching.
    GitBlob {
        /// The repository as displayed (path or URL).
        repo: Arc<str>,
        /// The blob's id.
        id: gix::ObjectId,
    },
}

impl Origin {
    /// The path or name shown to the user.
    pub fn display_path(&self) -> String {
        match self {
            Origin::File(p) => display_path(p),
            Origin::Stream(name) => name.clone(),
            Origin::GitBlob { repo, id } => format!("{repo}@{id}"),
        }
    }
}

/// A path as shown to the user: lossy UTF-8, without a leading `./`.
pub fn display_path(p: &std::path::Path) -> String {
    let s = p.to_string_lossy();
    s.strip_prefix("./")
        .map(str::to_owned)
        .unwrap_or_else(|| s.into_owned())
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_path())
    }
}

/// Where a chunk sits in its input, for line numbers and de-duplication across chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Byte offset of `data[0]` in the input (in the transcoded text for UTF-16 input).
    pub offset: u64,
    /// Number of newlines before `data[0]`.
    pub line: u64,
    /// Matches starting at or after this index belong to the next chunk, which overlaps this
    /// one; `data.len()` for the last chunk.
    pub report_until: usize,
    /// The encoding the input was read in; UTF-16 input is transcoded to UTF-8 first.
    pub encoding: Encoding,
}

impl Chunk {
    /// A whole input in one piece.
    pub fn whole(len: usize, encoding: Encoding) -> Chunk {
        Chunk {
            offset: 0,
            line: 0,
            report_until: len,
            encoding,
        }
    }
}

/// Bytes to scan and where they came from.
#[derive(Debug, Clone, Copy)]
pub struct Blob<'a> {
    /// Where the bytes came from.
    pub origin: &'a Origin,
    /// The bytes (one chunk of the input).
    pub data: &'a [u8],
    /// Where the chunk sits in its input.
    pub chunk: Chunk,
}

/// Why an input was not scanned (or not completely).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SkipReason {
    /// Permission denied or another I/O error while opening or reading.
    Unreadable,
    /// Larger than `--max-file-size`.
    TooLarge,
    /// A FIFO, socket or device.
    SpecialFile,
    /// A symbolic link that leads back to one of its own ancestors.
    SymlinkLoop,
    /// A symbolic link (not followed without `--follow-symlinks`).
    Symlink,
    /// A symbolic link whose target does not exist.
    BrokenSymlink,
    /// A path given on the command line that does not exist or cannot be walked.
    InvalidPath,
    /// A git object or pack that cannot be decoded (truncated, corrupted).
    CorruptObject,
    /// A git repository, or a revision in it, that cannot be used (not a repository,
    /// unresolvable revision, a remote that refuses or times out).
    GitError,
}

impl SkipReason {
    /// Every reason, in report order.
    pub const ALL: [SkipReason; 9] = [
        SkipReason::Unreadable,
        SkipReason::TooLarge,
        SkipReason::SpecialFile,
        SkipReason::SymlinkLoop,
        SkipReason::Symlink,
        SkipReason::BrokenSymlink,
        SkipReason::InvalidPath,
        SkipReason::CorruptObject,
        SkipReason::GitError,
    ];

    /// True when content that should have been scanned was lost (the exit code reports an
    /// error); false for skips that follow the user's settings.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            SkipReason::Unreadable
                | SkipReason::InvalidPath
                | SkipReason::CorruptObject
                | SkipReason::GitError
        )
    }

    /// A short snake_case name for machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Unreadable => "unreadable",
            SkipReason::TooLarge => "too_large",
            SkipReason::SpecialFile => "special_file",
            SkipReason::SymlinkLoop => "symlink_loop",
            SkipReason::Symlink => "symlink_not_followed",
            SkipReason::BrokenSymlink => "broken_symlink",
            SkipReason::InvalidPath => "invalid_path",
            SkipReason::CorruptObject => "corrupt_git_object",
            SkipReason::GitError => "git_error",
        }
    }

    /// A phrase for the human summary.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Unreadable => "unreadable",
            SkipReason::TooLarge => "too large (--max-file-size)",
            SkipReason::SpecialFile => "special files (FIFO, socket, device)",
            SkipReason::SymlinkLoop => "symlink loops",
            SkipReason::Symlink => "symlinks not followed (--follow-symlinks)",
            SkipReason::BrokenSymlink => "broken symlinks",
            SkipReason::InvalidPath => "invalid paths",
            SkipReason::CorruptObject => "corrupt git objects or packs",
            SkipReason::GitError => "git repositories that could not be scanned",
        }
    }
}

/// One input that was skipped, with the reason and a detail message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The input.
    pub origin: Origin,
    /// Why.
    pub reason: SkipReason,
    /// Details such as the OS error or the size.
    pub detail: String,
}

/// Receives blobs from a source. A source calls [`Sink::worker`] once per thread it runs.
pub trait Sink: Sync {
    /// The per-thread receiver.
    type Worker<'a>: Worker + Send
    where
        Self: 'a;
    /// A receiver for one thread.
    fn worker(&self) -> Self::Worker<'_>;
}

/// Receives the blobs of one thread.
pub trait Worker {
    /// One blob (or one chunk of a large input).
    fn blob(&mut self, blob: Blob<'_>);
    /// An input that was skipped.
    fn skipped(&mut self, skipped: Skipped);
    /// An input was read completely (all its chunks were passed to [`Worker::blob`]).
    fn input_done(&mut self, _origin: &Origin, _bytes: u64) {}
}
