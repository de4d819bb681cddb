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
    /// A member of an archive (zip, tar...): shown as `parent!/path`. Compressed streams
    /// (`.gz`, `.xz`...) are transparent and add no member.
    Member {
        /// The archive.
        parent: Arc<Origin>,
        /// The member's name as stored in the archive (never used as a file path).
        path: String,
    },
    /// A file in a layer of a container image: shown as `source!/image!/sha256:0123456789ab!/path`.
    ImageFile {
        /// The image.
        image: Arc<Image>,
        /// The layer's digest (`sha256:…`), or its name in the archive when unknown.
        layer: Arc<str>,
        /// The path in the layer, without a leading `/`.
        path: String,
        /// The upper layer that deletes (whiteout) or replaces this file, so that it is not in
        /// the image's final file system but still ships in this layer.
        removed_in: Option<Arc<str>>,
    },
    /// A field of a container image's configuration (`config.Env[2]`,
    /// `history[4].created_by`): shown as `source!/image!/field`.
    ImageConfig {
        /// The image.
        image: Arc<Image>,
        /// The field, as a JSON path.
        field: String,
        /// For a history entry, the layer it created.
        layer: Option<Arc<str>>,
    },
}

/// A container image within a source (a `docker save` archive or an OCI layout).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Image {
    /// The archive or directory that holds the image.
    pub source: Origin,
    /// `repository:tag` when known, otherwise the short digest of its manifest or config.
    pub name: String,
}

/// The first 12 hex digits of a digest, as `docker` shows them: `sha256:0123456789ab`.
pub fn short_digest(digest: &str) -> &str {
    match digest.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 && hex.is_ascii() => &digest[..alg.len() + 1 + 12],
        _ => digest,
    }
}

/// An archive member's name made safe to show: control characters (which could drive a
/// terminal) are escaped, and one leading `/` or `./` is dropped. `../` is kept as stored:
/// names are shown, never used as paths.
pub fn display_member_name(name: &str) -> String {
    let name = name.strip_prefix("./").unwrap_or(name);
    let name = name.strip_prefix('/').unwrap_or(name);
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl Origin {
    /// The path or name shown to the user.
    pub fn display_path(&self) -> String {
        match self {
            Origin::File(p) => display_path(p),
            Origin::Stream(name) => name.clone(),
            Origin::GitBlob { repo, id } => format!("{repo}@{id}"),
            Origin::Member { parent, path } => format!("{}!/{path}", parent.display_path()),
            Origin::ImageFile {
                image, layer, path, ..
            } => format!(
                "{}!/{}!/{}!/{path}",
                image.source.display_path(),
                image.name,
                short_digest(layer)
            ),
            Origin::ImageConfig { image, field, .. } => {
                format!("{}!/{}!/{field}", image.source.display_path(), image.name)
            }
        }
    }

    /// The archive chain from the outermost input to this member, one element per `!/`
    /// (`["app.war", "WEB-INF/lib/a.jar", "conf/settings.xml"]`); `None` for a plain file or
    /// stream.
    pub fn archive_chain(&self) -> Option<Vec<String>> {
        fn push(o: &Origin, out: &mut Vec<String>) {
            match o {
                Origin::File(_) | Origin::Stream(_) | Origin::GitBlob { .. } => {
                    out.push(o.display_path())
                }
                Origin::Member { parent, path } => {
                    push(parent, out);
                    out.push(path.clone());
                }
                Origin::ImageFile {
                    image, layer, path, ..
                } => {
                    push(&image.source, out);
                    out.push(image.name.clone());
                    out.push(short_digest(layer).to_owned());
                    out.push(path.clone());
                }
                Origin::ImageConfig { image, field, .. } => {
                    push(&image.source, out);
                    out.push(image.name.clone());
                    out.push(field.clone());
                }
            }
        }
        match self {
            Origin::File(_) | Origin::Stream(_) | Origin::GitBlob { .. } => None,
            _ => {
                let mut out = Vec::new();
                push(self, &mut out);
                Some(out)
            }
        }
    }

    /// The git blob this origin is in (itself, or the blob holding an archive it is a member
    /// of), with the repository it belongs to.
    pub fn git_root(&self) -> Option<(&Arc<str>, &gix::ObjectId)> {
        match self {
            Origin::GitBlob { repo, id } => Some((repo, id)),
            Origin::Member { parent, .. } => parent.git_root(),
            _ => None,
        }
    }

    /// The image this origin is in, if any.
    pub fn image(&self) -> Option<&Image> {
        match self {
            Origin::File(_) | Origin::Stream(_) | Origin::GitBlob { .. } => None,
            Origin::Member { parent, .. } => parent.image(),
            Origin::ImageFile { image, .. } | Origin::ImageConfig { image, .. } => Some(image),
        }
    }

    /// The image file or field that this origin is or is inside of, if any.
    pub fn image_part(&self) -> Option<&Origin> {
        match self {
            Origin::Member { parent, .. } => parent.image_part(),
            Origin::ImageFile { .. } | Origin::ImageConfig { .. } => Some(self),
            _ => None,
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
    /// An archive nested deeper than `--archive-depth`: not opened (its raw bytes were
    /// scanned).
    ArchiveDepth,
    /// An archive that decompresses to more than `--max-archive-bytes` in total: the rest of
    /// it was not read.
    ArchiveTooLarge,
    /// A member or stream that decompresses more than `--max-archive-ratio` times its
    /// compressed size (a zip bomb): the rest of it was not read.
    CompressionRatio,
    /// An archive with more than `--max-archive-entries` members: the rest were not read.
    TooManyEntries,
    /// A truncated or malformed archive, compressed stream or image (a missing blob): what
    /// could be read was scanned.
    Corrupt,
    /// An archive member stored with a compression method keyhound cannot decode.
    Unsupported,
    /// An encrypted archive member.
    Encrypted,
}

impl SkipReason {
    /// Every reason, in report order.
    pub const ALL: [SkipReason; 16] = [
        SkipReason::Unreadable,
        SkipReason::TooLarge,
        SkipReason::SpecialFile,
        SkipReason::SymlinkLoop,
        SkipReason::Symlink,
        SkipReason::BrokenSymlink,
        SkipReason::InvalidPath,
        SkipReason::CorruptObject,
        SkipReason::GitError,
        SkipReason::ArchiveDepth,
        SkipReason::ArchiveTooLarge,
        SkipReason::CompressionRatio,
        SkipReason::TooManyEntries,
        SkipReason::Corrupt,
        SkipReason::Unsupported,
        SkipReason::Encrypted,
    ];

    /// True when content that should have been scanned was lost (the exit code reports an
    /// error); false for skips that follow the user's settings. Archive limits count as
    /// errors: content that may hold secrets was not read.
    pub fn is_error(self) -> bool {
        !matches!(
            self,
            SkipReason::TooLarge
                | SkipReason::SpecialFile
                | SkipReason::SymlinkLoop
                | SkipReason::Symlink
                | SkipReason::BrokenSymlink
                | SkipReason::Encrypted
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
            SkipReason::ArchiveDepth => "archive_depth",
            SkipReason::ArchiveTooLarge => "archive_too_large",
            SkipReason::CompressionRatio => "compression_ratio",
            SkipReason::TooManyEntries => "too_many_entries",
            SkipReason::Corrupt => "corrupt",
            SkipReason::Unsupported => "unsupported",
            SkipReason::Encrypted => "encrypted",
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
            SkipReason::ArchiveDepth => "archives nested too deep (--archive-depth)",
            SkipReason::ArchiveTooLarge => "archives too large (--max-archive-bytes)",
            SkipReason::CompressionRatio => {
                "compression ratio too high, possible zip bombs (--max-archive-ratio)"
            }
            SkipReason::TooManyEntries => "archives with too many entries (--max-archive-entries)",
            SkipReason::Corrupt => "corrupt archives, streams or images",
            SkipReason::Unsupported => "unsupported compression methods",
            SkipReason::Encrypted => "encrypted archive members",
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
