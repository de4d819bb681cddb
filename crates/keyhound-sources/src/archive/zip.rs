//! Zip archives and their relatives (jar, war, ear, aar, whl, nupkg, apk).
//!
//! Members are scanned decoded. The archive's own bytes are scanned too, with every member's
//! data masked out: that covers what lies outside the members (a launcher script before the
//! first header, comments, names, data appended after the end) without reporting a stored
//! member twice. Masked bytes become zeros, newlines excepted, so offsets and lines stay
//! exact.

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

use ::zip::CompressionMethod;
use ::zip::ZipArchive;

use super::{Ctx, Error, Guard, Level};
use crate::blob::display_member_name;
use crate::{Origin, SkipReason};

/// Extensions of the zip family: a file named so is searched for a zip behind a prefix.
const ZIP_EXTENSIONS: [&str; 10] = [
    "zip", "jar", "war", "ear", "aar", "whl", "nupkg", "apk", "egg", "sar",
];

/// True when a file's name has a zip-family extension.
pub(super) fn has_zip_extension(origin: &Origin) -> bool {
    let Origin::File(path) = origin else {
        return false;
    };
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ZIP_EXTENSIONS.iter().any(|z| e.eq_ignore_ascii_case(z)))
}

/// True when the end of a file holds a zip end-of-central-directory record.
pub(super) fn has_end_record<R: Read + Seek>(input: &mut R, size: u64) -> io::Result<bool> {
    // The record is 22 bytes plus a comment of up to 65,535 bytes.
    let tail = size.min(22 + 65_535);
    if tail < 22 {
        return Ok(false);
    }
    input.seek(SeekFrom::Start(size - tail))?;
    let mut buf = Vec::with_capacity(usize::try_from(tail).unwrap_or(0));
    input.take(tail).read_to_end(&mut buf)?;
    Ok(memchr::memmem::rfind(&buf, b"PK\x05\x06").is_some())
}

/// True for the methods this build decodes.
fn supported(method: CompressionMethod) -> bool {
    matches!(
        method,
        CompressionMethod::Stored
            | CompressionMethod::Deflated
            | CompressionMethod::Deflate64
            | CompressionMethod::Bzip2
    )
}

/// Scans a zip that can be read from any offset: a file on disk, or a nested zip in memory.
pub(super) fn scan_seekable<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    input: &mut R,
    origin: &Origin,
    level: Level,
) {
    let parent = Arc::new(origin.clone());
    let mut archive = match ZipArchive::new(&mut *input) {
        Ok(a) => a,
        Err(e) => {
            // No central directory (a truncated download, say): recover what the local
            // headers still describe, and scan every raw byte.
            ctx.report(origin, &Error::Zip(e).into_io());
            if input.seek(SeekFrom::Start(0)).is_ok() {
                scan_local_headers(ctx, &mut *input, origin, level, false);
            }
            if input.seek(SeekFrom::Start(0)).is_ok() {
                raw_pass(ctx, input, origin, level, Vec::new());
            }
            return;
        }
    };
    let mut masked = Vec::new();
    for i in 0..archive.len() {
        if ctx.halted {
            break;
        }
        let meta = archive.by_index_raw(i).map(|f| {
            (
                f.name().to_owned(),
                f.is_dir(),
                f.encrypted(),
                f.compression(),
                f.size(),
                f.compressed_size(),
                f.data_start(),
            )
        });
        let (name, is_dir, encrypted, method, size, compressed, data_start) = match meta {
            Ok(m) => m,
            Err(e) => {
                let member = member(&parent, &format!("#{i}"));
                ctx.report(&member, &Error::Zip(e).into_io());
                continue;
            }
        };
        if is_dir {
            continue;
        }
        if !ctx.enter_member(origin) {
            break;
        }
        let member = member(&parent, &name);
        if encrypted {
            ctx.skip(
                &member,
                SkipReason::Encrypted,
                "encrypted zip member; its raw bytes were scanned".into(),
            );
            continue;
        }
        if !supported(method) {
            ctx.skip(
                &member,
                SkipReason::Unsupported,
                format!("zip compression method {method}; its raw bytes were scanned"),
            );
            continue;
        }
        masked.push((data_start, data_start.saturating_add(compressed)));
        let file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                ctx.report(&member, &Error::Zip(e).into_io());
                continue;
            }
        };
        let mut guarded = Guard::new(file, "zip member", ctx);
        guarded.fixed_consumed = Some(compressed);
        super::scan(ctx, &mut guarded, &member, level.member(), Some(size));
    }
    drop(archive);
    if input.seek(SeekFrom::Start(0)).is_ok() {
        raw_pass(ctx, input, origin, level, masked);
    }
}

fn member(parent: &Arc<Origin>, name: &str) -> Origin {
    Origin::Member {
        parent: parent.clone(),
        path: display_member_name(name),
    }
}

/// Scans the archive's bytes with `masked` ranges (members scanned decoded) blanked.
fn raw_pass<R: Read>(
    ctx: &mut Ctx<'_>,
    input: &mut R,
    origin: &Origin,
    level: Level,
    mut masked: Vec<(u64, u64)>,
) {
    masked.sort_unstable();
    let mut reader = Masked {
        inner: input,
        ranges: masked,
        pos: 0,
        next: 0,
    };
    super::leaf(ctx, &mut reader, origin, level, None);
}

/// Blanks byte ranges of a stream (to zeros, keeping newlines so lines stay exact).
struct Masked<R> {
    inner: R,
    /// Sorted by start; may overlap.
    ranges: Vec<(u64, u64)>,
    pos: u64,
    /// First range that may still intersect `pos..`.
    next: usize,
}

impl<R: Read> Read for Masked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let (start, end) = (self.pos, self.pos + n as u64);
        while self.next < self.ranges.len() && self.ranges[self.next].1 <= start {
            self.next += 1;
        }
        for &(a, b) in &self.ranges[self.next..] {
            if a >= end {
                break;
            }
            if b <= start {
                // Ranges overlap in damaged archives: a later one can end before this read.
                continue;
            }
            let from = usize::try_from(a.max(start) - start).unwrap_or(n);
            let to = usize::try_from(b.min(end) - start).unwrap_or(n);
            for byte in &mut buf[from..to] {
                if *byte != b'\n' {
                    *byte = 0;
                }
            }
        }
        self.pos = end;
        Ok(n)
    }
}

/// Scans a zip read as a stream (a nested member, stdin). One that fits in
/// [`crate::Limits::max_in_memory_archive`] is read into memory and scanned with its central
/// directory; a larger one member by member from its local headers. Returns false when the
/// stream around it broke.
pub(super) fn scan_stream(
    ctx: &mut Ctx<'_>,
    input: &mut dyn Read,
    origin: &Origin,
    level: Level,
    size: Option<u64>,
) -> bool {
    let cap = ctx.limits.max_in_memory_archive;
    let hint = size.map_or(1 << 20, |s| usize::try_from(s).unwrap_or(cap).min(cap));
    let mut buf = Vec::with_capacity(hint.min(cap) + 1);
    if let Err(e) = input.take(cap as u64 + 1).read_to_end(&mut buf) {
        ctx.report(origin, &e);
        // Scan what arrived before the error as raw bytes.
        super::leaf(ctx, &mut Cursor::new(buf), origin, level, None);
        return false;
    }
    if buf.len() <= cap {
        scan_seekable(ctx, &mut Cursor::new(buf), origin, level);
        return true;
    }
    let mut chained = Cursor::new(buf).chain(input);
    scan_local_headers(ctx, &mut chained, origin, level, true)
}

/// Scans members from their local headers, in order, until the central directory.
fn scan_local_headers<R: Read>(
    ctx: &mut Ctx<'_>,
    input: &mut R,
    origin: &Origin,
    level: Level,
    report_errors: bool,
) -> bool {
    let parent = Arc::new(origin.clone());
    loop {
        if ctx.halted {
            return true;
        }
        let file = match ::zip::read::read_zipfile_from_stream(&mut *input) {
            Ok(Some(f)) => f,
            Ok(None) => return true,
            Err(e) => {
                if report_errors {
                    ctx.report(origin, &Error::Zip(e).into_io());
                }
                return false;
            }
        };
        if file.is_dir() {
            continue;
        }
        if !ctx.enter_member(origin) {
            return true;
        }
        let member = member(&parent, file.name());
        let size = file.size();
        let compressed = file.compressed_size();
        if file.encrypted() {
            ctx.skip(
                &member,
                SkipReason::Encrypted,
                "encrypted zip member".into(),
            );
            continue;
        }
        let mut guarded = Guard::new(file, "zip member", ctx);
        guarded.fixed_consumed = Some(compressed);
        super::scan(ctx, &mut guarded, &member, level.member(), Some(size));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `damaged_archives_never_panic`: in a damaged zip, member ranges overlap, and
    /// one can end before the current read starts.
    #[test]
    fn masking_tolerates_overlapping_ranges() {
        let data: Vec<u8> = b"0123456789\nabcdefghij\n".to_vec();
        let mut m = Masked {
            inner: &data[..],
            ranges: vec![(0, 15), (2, 4), (12, 14), (20, 100)],
            pos: 0,
            next: 0,
        };
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = m.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, b"\0\0\0\0\0\0\0\0\0\0\n\0\0\0\0efghi\0\n");
    }
}
