//! keyhound's sources turn scan inputs into [`Blob`]s (bytes plus an [`Origin`]) and hand them
//! to a [`Sink`]: the filesystem walk ([`fs_walk`]), git history ([`git`]), stdin ([`stream`]), and
//! inside them, archives and compressed streams ([`archive`]) and container images (`docker save`
//! archives and OCI layouts).
//!
//! Sources never match anything: the sink owns the matcher. Every input that cannot be read
//! becomes a [`Skipped`] with a reason, so a scan always finishes and reports what it missed.
//! Memory is bounded by [`Limits`]: files larger than `whole_file_max` are read in overlapping
//! chunks, so peak memory does not grow with file size.
//!
//! ```
//! use keyhound_sources::{Blob, Limits, Sink, Skipped, Worker};
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! struct CountBytes(AtomicU64);
//! struct W<'a>(&'a AtomicU64);
//! impl Worker for W<'_> {
//!     fn blob(&mut self, blob: Blob<'_>) { self.0.fetch_add(blob.data.len() as u64, Ordering::Relaxed); }
//!     fn skipped(&mut self, _: Skipped) {}
//! }
//! impl Sink for CountBytes {
//!     type Worker<'a> = W<'a>;
//!     fn worker(&self) -> W<'_> { W(&self.0) }
//! }
//! let sink = CountBytes(AtomicU64::new(0));
//! keyhound_sources::stream::read(&mut &b"hello"[..], "stdin", &Limits::default(), &mut sink.worker());
//! assert_eq!(sink.0.load(Ordering::Relaxed), 5);
//! ```

pub mod archive;
mod blob;
pub mod fs_walk;
pub mod git;
mod image;
mod limits;
mod reader;
pub mod stream;

pub use blob::{
    Blob, Chunk, Image, Origin, Sink, SkipReason, Skipped, Worker, display_member_name,
    short_digest,
};
pub use limits::Limits;
pub use reader::{Encoding, detect_encoding};
