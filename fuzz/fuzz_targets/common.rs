//! A worker that checks what sources hand it, and small limits so that inputs explore
//! chunking and the in-memory zip threshold.

use keyhound_sources::{Blob, Limits, Skipped, Worker};

pub struct Check;

impl Worker for Check {
    fn blob(&mut self, blob: Blob<'_>) {
        assert!(blob.chunk.report_until <= blob.data.len());
        let _ = blob.origin.display_path();
    }
    fn skipped(&mut self, skipped: Skipped) {
        assert!(!skipped.detail.is_empty());
    }
}

pub fn limits() -> Limits {
    Limits {
        buffer_size: 4096,
        chunk_overlap: 256,
        max_in_memory_archive: 32 << 10,
        max_archive_bytes: 8 << 20,
        ..Limits::default()
    }
}
