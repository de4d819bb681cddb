//! Reads one input into blobs: whole when it fits the buffer, otherwise in overlapping chunks
//! whose boundaries fall on line starts, so memory stays bounded and no match is cut in two.

use std::io::{self, Read};

use crate::{Blob, Chunk, Limits, Origin, Worker};

/// The text encoding of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8, ASCII, another ASCII-compatible encoding, or binary: scanned as bytes.
    Bytes,
    /// UTF-16 little-endian text, transcoded to UTF-8 before scanning.
    Utf16Le,
    /// UTF-16 big-endian text, transcoded to UTF-8 before scanning.
    Utf16Be,
}

impl Encoding {
    /// Every encoding.
    pub const ALL: [Encoding; 3] = [Encoding::Bytes, Encoding::Utf16Le, Encoding::Utf16Be];

    /// A short name for output (`utf-16le`...), or `None` for plain bytes.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Encoding::Bytes => None,
            Encoding::Utf16Le => Some("utf-16le"),
            Encoding::Utf16Be => Some("utf-16be"),
        }
    }
}

/// Recognises UTF-16 text by its byte-order mark, or without one by its zero bytes: in ASCII
/// text stored as UTF-16 every other byte is zero.
pub fn detect_encoding(head: &[u8]) -> Encoding {
    if head.starts_with(&[0xFF, 0xFE]) && !head.starts_with(&[0xFF, 0xFE, 0, 0]) {
        return Encoding::Utf16Le;
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Encoding::Utf16Be;
    }
    // 1 KiB of UTF-16 is 512 characters: plenty to tell text from binary.
    let sample = &head[..head.len().min(1024) & !1];
    // ASCII stored as UTF-16 has a zero in every other byte; most files have none.
    if sample.len() < 32 || memchr::memchr(0, sample).is_none() {
        return Encoding::Bytes;
    }
    let pairs = sample.len() / 2;
    let text = |b: u8| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b);
    let (mut le, mut be) = (0, 0);
    for p in sample.chunks_exact(2) {
        if p[1] == 0 && text(p[0]) {
            le += 1;
        }
        if p[0] == 0 && text(p[1]) {
            be += 1;
        }
    }
    if le * 10 >= pairs * 9 {
        Encoding::Utf16Le
    } else if be * 10 >= pairs * 9 {
        Encoding::Utf16Be
    } else {
        Encoding::Bytes
    }
}

fn transcode(data: &[u8], encoding: Encoding, out: &mut Vec<u8>) {
    let units = data.chunks_exact(2).map(|p| match encoding {
        Encoding::Utf16Be => u16::from_be_bytes([p[0], p[1]]),
        _ => u16::from_le_bytes([p[0], p[1]]),
    });
    out.clear();
    let mut tmp = [0u8; 4];
    for c in char::decode_utf16(units) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        if c != '\u{feff}' {
            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }
    }
}

/// Per-thread buffers, reused across inputs. `buf` is allocated zeroed once (lazily backed by
/// the OS) and read into directly, so no input pays for initialising its buffer again.
#[derive(Default)]
pub(crate) struct Reader {
    buf: Vec<u8>,
    decoded: Vec<u8>,
}

/// Where the next chunk starts: the first line start in the overlap's first half, else
/// exactly `len - overlap`.
fn next_chunk_start(buf: &[u8], overlap: usize) -> usize {
    let min = buf.len() - overlap;
    match memchr::memchr(b'\n', &buf[min..min + overlap / 2]) {
        Some(i) => min + i + 1,
        None => min,
    }
}

/// Reads into `buf[*filled..]` until it is full or the input ends; true at the end.
fn fill(input: &mut dyn Read, buf: &mut [u8], filled: &mut usize) -> io::Result<bool> {
    while *filled < buf.len() {
        match input.read(&mut buf[*filled..]) {
            Ok(0) => return Ok(true),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

impl Reader {
    /// Reads `input` to its end and passes it to `worker` as one or more blobs. Returns the
    /// number of bytes read. On an I/O error, what was read before it has been scanned,
    /// including the part of the current chunk that was read.
    pub(crate) fn read(
        &mut self,
        input: &mut dyn Read,
        _size_hint: Option<u64>,
        origin: &Origin,
        limits: &Limits,
        worker: &mut dyn Worker,
    ) -> io::Result<u64> {
        let overlap = limits.chunk_overlap.max(1);
        let cap = limits.buffer_size.max(overlap * 4);
        if self.buf.len() != cap {
            self.buf = vec![0; cap];
        }
        let (mut offset, mut line, mut total, mut filled) = (0u64, 0u64, 0u64, 0usize);
        let mut first = true;
        loop {
            let before = filled;
            let result = fill(input, &mut self.buf, &mut filled);
            total += (filled - before) as u64;
            let eof = match result {
                Ok(eof) => eof,
                Err(e) => {
                    // Scan what was read before the error (a corrupt stream midway, a limit).
                    if filled > 0 {
                        let chunk = Chunk {
                            offset,
                            line,
                            report_until: filled,
                            encoding: Encoding::Bytes,
                        };
                        worker.blob(Blob {
                            origin,
                            data: &self.buf[..filled],
                            chunk,
                        });
                    }
                    return Err(e);
                }
            };
            let data = &self.buf[..filled];
            if first {
                first = false;
                let detected = detect_encoding(data);
                if eof && detected != Encoding::Bytes {
                    // The whole input fits: scan its UTF-8 transcoding.
                    transcode(data, detected, &mut self.decoded);
                    let chunk = Chunk::whole(self.decoded.len(), detected);
                    worker.blob(Blob {
                        origin,
                        data: &self.decoded,
                        chunk,
                    });
                    return Ok(total);
                }
                // Chunked UTF-16 input is scanned as bytes: see docs/architecture.md.
            }
            if eof {
                let chunk = Chunk {
                    offset,
                    line,
                    report_until: filled,
                    encoding: Encoding::Bytes,
                };
                worker.blob(Blob {
                    origin,
                    data,
                    chunk,
                });
                return Ok(total);
            }
            let next = next_chunk_start(data, overlap);
            let chunk = Chunk {
                offset,
                line,
                report_until: next,
                encoding: Encoding::Bytes,
            };
            worker.blob(Blob {
                origin,
                data,
                chunk,
            });
            line += memchr::memchr_iter(b'\n', &data[..next]).count() as u64;
            offset += next as u64;
            self.buf.copy_within(next..filled, 0);
            filled -= next;
        }
    }
}

/// Scans bytes already in memory (a git blob, an archive member): passed on as they are when
/// they fit the buffer and need no transcoding, otherwise through `reader`'s chunking.
pub(crate) fn scan_slice(
    reader: &mut Reader,
    data: &[u8],
    origin: &Origin,
    limits: &Limits,
    worker: &mut dyn Worker,
) {
    if data.len() <= limits.buffer_size && detect_encoding(data) == Encoding::Bytes {
        worker.blob(Blob {
            origin,
            data,
            chunk: Chunk::whole(data.len(), Encoding::Bytes),
        });
    } else {
        // Reading from a slice cannot fail.
        let _ = reader.read(
            &mut &data[..],
            Some(data.len() as u64),
            origin,
            limits,
            worker,
        );
    }
    worker.input_done(origin, data.len() as u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Skipped;

    #[derive(Default)]
    struct Collect {
        chunks: Vec<(Vec<u8>, Chunk)>,
    }
    impl Worker for Collect {
        fn blob(&mut self, blob: Blob<'_>) {
            self.chunks.push((blob.data.to_vec(), blob.chunk));
        }
        fn skipped(&mut self, _: Skipped) {}
    }

    #[test]
    fn utf16_detection() {
        let le: Vec<u8> = "password=hunter2 and more text here to pass the threshold"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(detect_encoding(&le), Encoding::Utf16Le);
        let mut bom = vec![0xFF, 0xFE];
        bom.extend_from_slice(&le[..8]);
        assert_eq!(detect_encoding(&bom), Encoding::Utf16Le);
        assert_eq!(
            detect_encoding(b"plain ascii text, long enough to sample it properly"),
            Encoding::Bytes
        );
        assert_eq!(detect_encoding(&[0u8; 100]), Encoding::Bytes);
    }

    #[test]
    fn chunks_cover_everything_once_and_count_lines() {
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let limits = Limits {
            max_file_size: None,
            buffer_size: 4096,
            chunk_overlap: 512,
            ..Limits::default()
        };
        let mut reader = Reader::default();
        let mut out = Collect::default();
        let origin = Origin::Stream("t".into());
        let n = reader
            .read(&mut &text[..], None, &origin, &limits, &mut out)
            .expect("read");
        assert_eq!(n, text.len() as u64);
        assert!(out.chunks.len() > 5);
        // Reported regions tile the input exactly.
        let mut covered = 0u64;
        for (data, chunk) in &out.chunks {
            assert_eq!(chunk.offset, covered);
            let reported = &data[..chunk.report_until];
            assert_eq!(
                reported,
                &text[covered as usize..covered as usize + reported.len()]
            );
            let lines_before = text[..covered as usize]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            assert_eq!(chunk.line, lines_before);
            covered += chunk.report_until as u64;
            if chunk.report_until < data.len() {
                assert!(data.len() - chunk.report_until >= 256, "overlap kept");
            }
        }
        assert_eq!(covered, text.len() as u64);
    }

    #[test]
    fn whole_utf16_input_is_transcoded() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "key=AKCp8abc\r\nnext line of text here"
                    .encode_utf16()
                    .flat_map(|u| u.to_le_bytes()),
            )
            .collect();
        let mut out = Collect::default();
        Reader::default()
            .read(
                &mut &le[..],
                None,
                &Origin::Stream("t".into()),
                &Limits::default(),
                &mut out,
            )
            .expect("read");
        assert_eq!(out.chunks[0].0, b"key=AKCp8abc\r\nnext line of text here");
        assert_eq!(out.chunks[0].1.encoding, Encoding::Utf16Le);
    }
}
