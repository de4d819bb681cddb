//! Compressed streams: gzip, bzip2, xz and zstd, decoded as they are read. All four decoders
//! are pure Rust: flate2 with miniz_oxide, bzip2 with libbz2-rs-sys, lzma-rust2 and ruzstd.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::{Compression, Counting, Ctx, Guard, Level};
use crate::Origin;

/// Decompresses `input` and scans what it holds, under the same origin. Returns false when
/// the stream broke.
pub(super) fn scan(
    ctx: &mut Ctx<'_>,
    input: &mut dyn Read,
    origin: &Origin,
    level: Level,
    format: Compression,
) -> bool {
    let mut decoded = decompress(ctx, input, format);
    let inner = Level {
        stacked: level.stacked + 1,
        contained: true,
        ..level
    };
    super::scan(ctx, &mut decoded, origin, inner, None)
}

/// A decoder for `format` over `input`, guarded by the ratio limit.
pub(crate) fn decompress<'r>(
    ctx: &mut Ctx<'_>,
    input: &'r mut dyn Read,
    format: Compression,
) -> Guard<Box<dyn Read + 'r>> {
    let consumed = Rc::new(Cell::new(0));
    let counted = Counting {
        inner: input,
        count: consumed.clone(),
    };
    let decoder: Box<dyn Read + 'r> = match format {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(counted)),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new(counted, true)),
        Compression::Zstd => Box::new(Zstd::new(BufReader::new(counted))),
    };
    let mut guarded = Guard::new(decoder, format.name(), ctx);
    guarded.consumed = consumed;
    guarded
}

/// A Zstandard decoder for every frame of a stream (ruzstd's `StreamingDecoder` reads one).
struct Zstd<R> {
    source: R,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> Zstd<R> {
    fn new(source: R) -> Self {
        Zstd {
            source,
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }
}

impl<R: BufRead> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if self.source.fill_buf()?.is_empty() {
                    return Ok(0);
                }
                self.decoder
                    .reset(&mut self.source)
                    .map_err(io::Error::other)?;
                self.in_frame = true;
            }
            while self.decoder.can_collect() < buf.len() && !self.decoder.is_finished() {
                let need = buf.len() - self.decoder.can_collect();
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBytes(need))
                    .map_err(io::Error::other)?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if self.decoder.is_finished() {
                self.in_frame = false;
                continue;
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "zstd frame ends early",
            ));
        }
    }
}
