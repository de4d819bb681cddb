//! Every size limit of a scan, in one place.

/// Limits on what sources read. Defaults are documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files larger than this are skipped (`--max-file-size`); `None` for no limit.
    pub max_file_size: Option<u64>,
    /// Inputs up to this size are scanned whole; larger ones in chunks of this size. Each
    /// scanning thread holds one buffer, so this bounds memory per thread.
    pub buffer_size: usize,
    /// Overlap between consecutive chunks; at least the matcher's longest match.
    pub chunk_overlap: usize,
}

impl Limits {
    /// Default `--max-file-size`: 256 MiB.
    pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 << 20;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_size: Some(Limits::DEFAULT_MAX_FILE_SIZE),
            buffer_size: 16 << 20,
            chunk_overlap: 128 << 10,
        }
    }
}
