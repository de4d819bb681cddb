//! Archives and compressed streams: zip and its relatives (jar, war, ear, aar, whl, nupkg,
//! apk), tar, gzip, bzip2, xz and zstd, nested to [`Limits::archive_depth`].
//!
//! Formats are recognised by their magic bytes, never by the file name. Everything streams:
//! nothing is written to disk, and no member name is ever used as a path. A zip needs random
//! access to its central directory: a zip file on disk is read in place, a nested zip up to
//! [`Limits::max_in_memory_archive`] is read into memory, and a larger one (or one on stdin) is
//! read member by member from its local headers.
//!
//! Compressed streams are transparent: `logs.tgz!/app.log` and `app.log.gz` name the
//! decompressed content's lines. What is read is bounded by [`Limits`]; a limit that is hit, a
//! corrupt stream or an unsupported member becomes a [`Skipped`] with its reason, and whatever
//! was read before it has been scanned.

mod compressed;
mod detect;
mod tar;
mod zip;

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

pub(crate) use compressed::decompress;
pub use detect::{Compression, Kind, detect};
pub(crate) use tar::{entry_name, has_content, tar_error};

use crate::reader::Reader;
use crate::{Limits, Origin, SkipReason, Skipped, Worker};

/// How many leading bytes [`detect`] looks at (a tar header is 512 bytes).
pub const HEAD_LEN: usize = 512;

/// Why an archive or stream could not be read completely. These travel inside
/// [`io::Error`]s through decoders and archive readers, and become a [`Skipped`] with the
/// matching [`SkipReason`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `--max-archive-bytes` was reached.
    #[error("more than {limit} bytes extracted from one archive (--max-archive-bytes)")]
    TooManyBytes {
        /// The limit.
        limit: u64,
    },
    /// `--max-archive-ratio` was exceeded.
    #[error(
        "{produced} bytes decompressed from {consumed} (ratio above {limit}, --max-archive-ratio): possible zip bomb"
    )]
    Ratio {
        /// Bytes produced.
        produced: u64,
        /// Compressed bytes consumed.
        consumed: u64,
        /// The limit.
        limit: u64,
        /// Which decoder, so that one bomb is reported once.
        stream: u64,
    },
    /// `--max-archive-entries` was reached.
    #[error("more than {limit} members in one archive (--max-archive-entries)")]
    TooManyEntries {
        /// The limit.
        limit: u64,
    },
    /// A compressed stream is corrupt or truncated.
    #[error("corrupt {format} stream")]
    Decode {
        /// `gzip`, `bzip2`, `xz`, `zstd`, `deflate`.
        format: &'static str,
        /// Which decoder, so that one broken stream is reported once.
        stream: u64,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// A zip archive is malformed.
    #[error("corrupt zip archive")]
    Zip(#[source] ::zip::result::ZipError),
    /// A tar archive is malformed.
    #[error("corrupt tar archive")]
    Tar(#[source] io::Error),
}

impl Error {
    fn reason(&self) -> SkipReason {
        match self {
            Error::TooManyBytes { .. } => SkipReason::ArchiveTooLarge,
            Error::Ratio { .. } => SkipReason::CompressionRatio,
            Error::TooManyEntries { .. } => SkipReason::TooManyEntries,
            Error::Decode { .. } | Error::Zip(_) | Error::Tar(_) => SkipReason::Corrupt,
        }
    }

    fn into_io(self) -> io::Error {
        io::Error::other(self)
    }
}

/// Our [`Error`] inside an I/O error, if there is one (at any depth of its sources).
pub(crate) fn find_error(e: &io::Error) -> Option<&Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|r| r as _);
    while let Some(err) = cur {
        if let Some(found) = err.downcast_ref::<Error>() {
            return Some(found);
        }
        cur = match err.downcast_ref::<io::Error>() {
            Some(io) => io.get_ref().map(|r| r as _),
            None => err.source(),
        };
    }
    None
}

/// The error and its causes on one line, for a skip's detail.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}

/// Where an input sits: how deep in archives, and how many compressed streams directly wrap
/// it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Level {
    /// Archive levels above this input (0 for a file on disk or stdin).
    pub depth: usize,
    /// Compressed streams directly around this input, since the last archive.
    pub stacked: usize,
    /// True inside an archive or compressed stream: the archive budget applies.
    pub contained: bool,
}

impl Level {
    /// A file in a container image's layer: the image counts as one archive level.
    pub(crate) fn image_layer() -> Level {
        Level {
            depth: 1,
            stacked: 0,
            contained: true,
        }
    }

    fn member(self) -> Level {
        Level {
            depth: self.depth + 1,
            stacked: 0,
            contained: true,
        }
    }
}

/// The state of one top-level input's scan: the budget shared by every nesting level.
pub(crate) struct Ctx<'a> {
    pub limits: &'a Limits,
    pub reader: &'a mut Reader,
    pub worker: &'a mut dyn Worker,
    /// Bytes extracted so far.
    bytes: u64,
    /// Members entered so far.
    entries: u64,
    /// A budget is exhausted: every level stops.
    pub halted: bool,
    /// Decoders whose failure has been reported.
    reported_streams: Vec<u64>,
    next_stream: u64,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        limits: &'a Limits,
        reader: &'a mut Reader,
        worker: &'a mut dyn Worker,
    ) -> Self {
        Ctx {
            limits,
            reader,
            worker,
            bytes: 0,
            entries: 0,
            halted: false,
            reported_streams: Vec::new(),
            next_stream: 0,
        }
    }

    /// True when archives are opened at all.
    pub(crate) fn archives_enabled(&self) -> bool {
        self.limits.archive_depth > 0
    }

    pub(crate) fn skip(&mut self, origin: &Origin, reason: SkipReason, detail: String) {
        self.worker.skipped(Skipped {
            origin: origin.clone(),
            reason,
            detail,
        });
    }

    /// Reports an I/O error met while reading `origin`, once per broken stream. Budget errors
    /// halt the whole input.
    pub(crate) fn report(&mut self, origin: &Origin, e: &io::Error) {
        let found = find_error(e);
        if let Some(Error::Decode { stream, .. } | Error::Ratio { stream, .. }) = found {
            if self.reported_streams.contains(stream) {
                return;
            }
            self.reported_streams.push(*stream);
        }
        let reason = match found {
            Some(err) => err.reason(),
            None => match e.kind() {
                io::ErrorKind::InvalidData
                | io::ErrorKind::InvalidInput
                | io::ErrorKind::UnexpectedEof => SkipReason::Corrupt,
                _ => SkipReason::Unreadable,
            },
        };
        if matches!(
            reason,
            SkipReason::ArchiveTooLarge | SkipReason::TooManyEntries
        ) {
            if self.halted {
                return;
            }
            self.halted = true;
        }
        let detail = match found {
            Some(err) => chain(err),
            None => chain(e),
        };
        self.skip(origin, reason, detail);
    }

    /// Counts one member; false (after reporting on `archive`) when there are too many.
    pub(crate) fn enter_member(&mut self, archive: &Origin) -> bool {
        if self.halted {
            return false;
        }
        self.entries += 1;
        if self.entries > self.limits.max_archive_entries {
            let e = Error::TooManyEntries {
                limit: self.limits.max_archive_entries,
            };
            self.report(archive, &e.into_io());
            return false;
        }
        true
    }

    pub(crate) fn stream_id(&mut self) -> u64 {
        self.next_stream += 1;
        self.next_stream
    }
}

/// Reads up to [`HEAD_LEN`] bytes (fewer only at the end of the input).
pub(crate) fn read_head(input: &mut dyn Read, head: &mut [u8; HEAD_LEN]) -> io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        match input.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Scans one input of any kind: an archive is opened (within the limits), a compressed
/// stream decompressed, anything else scanned as bytes. `size` is the input's size when
/// known. Returns false when the input's own stream broke (the caller stops reading the
/// archive that holds it).
pub(crate) fn scan(
    ctx: &mut Ctx<'_>,
    input: &mut dyn Read,
    origin: &Origin,
    level: Level,
    size: Option<u64>,
) -> bool {
    let mut head = [0u8; HEAD_LEN];
    let n = match read_head(input, &mut head) {
        Ok(n) => n,
        Err(e) => {
            ctx.report(origin, &e);
            return false;
        }
    };
    let kind = if ctx.archives_enabled() {
        detect(&head[..n])
    } else {
        Kind::Plain
    };
    let mut input = io::Cursor::new(&head[..n]).chain(input);
    match kind {
        Kind::Plain => leaf(ctx, &mut input, origin, level, size),
        Kind::Compressed(c) => {
            if level.stacked >= Limits::MAX_STACKED_COMPRESSION {
                ctx.skip(
                    origin,
                    SkipReason::ArchiveDepth,
                    format!(
                        "more than {} compressed streams inside each other; the rest was scanned as raw bytes",
                        Limits::MAX_STACKED_COMPRESSION
                    ),
                );
                return leaf(ctx, &mut input, origin, level, size);
            }
            compressed::scan(ctx, &mut input, origin, level, c)
        }
        Kind::Zip | Kind::Tar => {
            if level.depth >= ctx.limits.archive_depth {
                ctx.skip(
                    origin,
                    SkipReason::ArchiveDepth,
                    format!(
                        "{} nested deeper than --archive-depth {}; its raw bytes were scanned",
                        kind.name(),
                        ctx.limits.archive_depth
                    ),
                );
                return leaf(ctx, &mut input, origin, level, size);
            }
            if kind == Kind::Zip {
                zip::scan_stream(ctx, &mut input, origin, level, size)
            } else {
                tar::scan(ctx, &mut input, origin, level);
                true
            }
        }
    }
}

/// Scans a file on disk, which can be read again from its start: a zip is read in place
/// with its central directory.
pub(crate) fn scan_file(ctx: &mut Ctx<'_>, file: &mut fs_err::File, origin: &Origin, size: u64) {
    use std::io::{Seek, SeekFrom};
    let mut head = [0u8; HEAD_LEN];
    let rewound = read_head(file, &mut head).and_then(|n| {
        file.seek(SeekFrom::Start(0))?;
        Ok(n)
    });
    let n = match rewound {
        Ok(n) => n,
        Err(e) => return ctx.report(origin, &e),
    };
    let mut kind = if ctx.archives_enabled() {
        detect(&head[..n])
    } else {
        Kind::Plain
    };
    if kind == Kind::Plain && ctx.archives_enabled() && zip::has_zip_extension(origin) {
        // A zip behind a prefix (a self-extracting archive, a "fully executable" jar with a
        // launcher script): found by its end record.
        match zip::has_end_record(file, size) {
            Ok(true) => kind = Kind::Zip,
            Ok(false) => {}
            Err(e) => return ctx.report(origin, &e),
        }
        if let Err(e) = file.seek(SeekFrom::Start(0)) {
            return ctx.report(origin, &e);
        }
    }
    if kind == Kind::Plain {
        if let Some(max) = ctx.limits.max_file_size {
            if size > max {
                return ctx.skip(
                    origin,
                    SkipReason::TooLarge,
                    format!("{size} bytes, limit {max}"),
                );
            }
        }
    }
    match kind {
        Kind::Zip => zip::scan_seekable(ctx, file, origin, Level::default()),
        Kind::Tar if crate::image::scan_docker_archive(ctx, file, origin) => {}
        _ => {
            scan(ctx, file, origin, Level::default(), Some(size));
        }
    }
}

/// Scans bytes that are not an archive. Returns false when the stream broke.
pub(crate) fn leaf(
    ctx: &mut Ctx<'_>,
    input: &mut dyn Read,
    origin: &Origin,
    level: Level,
    size: Option<u64>,
) -> bool {
    if level.contained {
        if let (Some(max), Some(size)) = (ctx.limits.max_file_size, size) {
            if size > max {
                ctx.skip(
                    origin,
                    SkipReason::TooLarge,
                    format!("{size} bytes, limit {max}"),
                );
                return true;
            }
        }
    }
    let result = if level.contained {
        let mut metered = Metered {
            inner: input,
            used: &mut ctx.bytes,
            limit: ctx.limits.max_archive_bytes,
        };
        ctx.reader
            .read(&mut metered, size, origin, ctx.limits, &mut *ctx.worker)
    } else {
        ctx.reader
            .read(input, size, origin, ctx.limits, &mut *ctx.worker)
    };
    match result {
        Ok(bytes) => {
            ctx.worker.input_done(origin, bytes);
            true
        }
        Err(e) => {
            ctx.report(origin, &e);
            false
        }
    }
}

/// Counts extracted bytes against `--max-archive-bytes`.
struct Metered<'a, 'b> {
    inner: &'a mut dyn Read,
    used: &'b mut u64,
    limit: u64,
}

impl Read for Metered<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if *self.used >= self.limit {
            // One byte more tells a member that ends exactly at the limit from a larger one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(Error::TooManyBytes { limit: self.limit }.into_io()),
            };
        }
        let room = usize::try_from(self.limit - *self.used).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        *self.used += n as u64;
        Ok(n)
    }
}

/// Counts the compressed bytes a decoder consumes.
pub(crate) struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Wraps a decoder: tags its errors with the format and stream, and stops it when its output
/// grows past `--max-archive-ratio` times its input.
pub(crate) struct Guard<R> {
    inner: R,
    format: &'static str,
    stream: u64,
    consumed: Rc<Cell<u64>>,
    /// For zip members, the compressed size from the header.
    fixed_consumed: Option<u64>,
    produced: u64,
    max_ratio: u64,
    /// Once a decoder fails, it keeps failing with the same stream id, so that the archive
    /// reader above does not report the same break again as its own.
    failed: bool,
}

impl<R: Read> Guard<R> {
    pub(crate) fn new(inner: R, format: &'static str, ctx: &mut Ctx<'_>) -> Self {
        Guard {
            inner,
            format,
            stream: ctx.stream_id(),
            consumed: Rc::new(Cell::new(0)),
            fixed_consumed: None,
            produced: 0,
            max_ratio: ctx.limits.max_archive_ratio,
            failed: false,
        }
    }

    fn check(&self) -> io::Result<()> {
        let consumed = self.fixed_consumed.unwrap_or_else(|| self.consumed.get());
        if self.produced > Limits::RATIO_CHECK_AFTER
            && self.produced / consumed.max(1) > self.max_ratio
        {
            return Err(Error::Ratio {
                produced: self.produced,
                consumed,
                limit: self.max_ratio,
                stream: self.stream,
            }
            .into_io());
        }
        Ok(())
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(Error::Decode {
                format: self.format,
                stream: self.stream,
                source: io::Error::other("the stream failed earlier"),
            }
            .into_io());
        }
        self.check()?;
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if find_error(&e).is_some() => return Err(e),
            Err(source) => {
                self.failed = true;
                return Err(Error::Decode {
                    format: self.format,
                    stream: self.stream,
                    source,
                }
                .into_io());
            }
        };
        self.produced += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
