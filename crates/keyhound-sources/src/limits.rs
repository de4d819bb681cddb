//! Every size limit of a scan, in one place.

/// Limits on what sources read. Defaults are documented in the README; each has a
/// `keyhound scan` flag.
///
/// The archive limits bound the work one input can cause, whatever it holds: a zip bomb, an
/// archive nested 42 levels deep or a tarball of a million empty files. A limit that is hit
/// becomes a [`crate::Skipped`] with its own [`crate::SkipReason`], and what was read before it
/// has been scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files larger than this are skipped (`--max-file-size`); `None` for no limit. Archives and
    /// compressed files are bounded by the archive limits instead, and archive members that
    /// are not archives by this limit (on their decompressed size).
    pub max_file_size: Option<u64>,
    /// Inputs up to this size are scanned whole; larger ones in chunks of this size. Each
    /// scanning thread holds one buffer, so this bounds memory per thread.
    pub buffer_size: usize,
    /// Overlap between consecutive chunks; at least the matcher's longest match.
    pub chunk_overlap: usize,
    /// How many archive levels are opened (`--archive-depth`): 1 opens `app.war`, 2 also the
    /// jars in it, and so on. A compressed stream (`.gz`, `.tgz`...) is not a level of its own,
    /// and a container image counts as one level. 0 turns archive scanning off: archives are
    /// scanned as raw bytes only.
    pub archive_depth: usize,
    /// Total bytes that may be extracted from one archive, at every nesting level
    /// (`--max-archive-bytes`).
    pub max_archive_bytes: u64,
    /// Largest ratio of decompressed to compressed size of one member or stream
    /// (`--max-archive-ratio`), checked once it has produced
    /// [`Limits::RATIO_CHECK_AFTER`] bytes.
    pub max_archive_ratio: u64,
    /// Most members that may be read from one archive, at every nesting level
    /// (`--max-archive-entries`).
    pub max_archive_entries: u64,
    /// A nested zip (a jar in a war) must be read into memory to reach its central directory;
    /// up to this size it is, and a larger one is read member by member from its local
    /// headers instead. Bounds memory per thread per nesting level.
    pub max_in_memory_archive: usize,
}

impl Limits {
    /// Default `--max-file-size`: 256 MiB.
    pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 << 20;
    /// Default `--archive-depth`.
    pub const DEFAULT_ARCHIVE_DEPTH: usize = 3;
    /// Default `--max-archive-bytes`: 4 GiB.
    pub const DEFAULT_MAX_ARCHIVE_BYTES: u64 = 4 << 30;
    /// Default `--max-archive-ratio`. Text and code compress 3 to 20 times; deflate cannot
    /// exceed about 1,032.
    pub const DEFAULT_MAX_ARCHIVE_RATIO: u64 = 100;
    /// Default `--max-archive-entries`.
    pub const DEFAULT_MAX_ARCHIVE_ENTRIES: u64 = 1_000_000;
    /// The ratio is only checked once a member has produced this many bytes, so that small
    /// repetitive files do not count as bombs.
    pub const RATIO_CHECK_AFTER: u64 = 1 << 20;
    /// Compressed streams directly inside each other (`.gz` in `.gz`) are decoded at most this
    /// many times in a row. A gzip quine decompresses to itself forever.
    pub const MAX_STACKED_COMPRESSION: usize = 3;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_size: Some(Limits::DEFAULT_MAX_FILE_SIZE),
            buffer_size: 16 << 20,
            chunk_overlap: 128 << 10,
            archive_depth: Limits::DEFAULT_ARCHIVE_DEPTH,
            max_archive_bytes: Limits::DEFAULT_MAX_ARCHIVE_BYTES,
            max_archive_ratio: Limits::DEFAULT_MAX_ARCHIVE_RATIO,
            max_archive_entries: Limits::DEFAULT_MAX_ARCHIVE_ENTRIES,
            max_in_memory_archive: 64 << 20,
        }
    }
}
