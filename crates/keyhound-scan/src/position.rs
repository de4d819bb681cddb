//! Line and column of byte offsets, computed only for matches.

/// Walks forward through one chunk, counting lines up to each requested offset. Offsets must
/// be requested in non-decreasing order.
pub(crate) struct LineCursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// Newlines in `data[..pos]`.
    lines: u64,
    /// Index just after the last newline before `pos` (0 if none).
    line_start: usize,
}

impl<'a> LineCursor<'a> {
    pub(crate) fn new(data: &'a [u8]) -> LineCursor<'a> {
        LineCursor {
            data,
            pos: 0,
            lines: 0,
            line_start: 0,
        }
    }

    fn advance(&mut self, to: usize) {
        let to = to.min(self.data.len());
        if to <= self.pos {
            return;
        }
        let span = &self.data[self.pos..to];
        let n = memchr::memchr_iter(b'\n', span).count() as u64;
        if n > 0 {
            let last = memchr::memrchr(b'\n', span).expect("a newline was counted");
            self.line_start = self.pos + last + 1;
        }
        self.lines += n;
        self.pos = to;
    }

    /// (0-based line index within the chunk, 1-based column in characters) of `offset`.
    pub(crate) fn at(&mut self, offset: usize) -> (u64, u64) {
        self.advance(offset);
        let start = self.line_start.min(offset);
        let chars = self.data[start..offset.min(self.data.len())]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        (self.lines, chars as u64 + 1)
    }

    /// Position of an offset that may lie before the cursor (the end of an earlier match):
    /// computed without moving the cursor.
    pub(crate) fn peek(&self, offset: usize) -> (u64, u64) {
        let mut c = LineCursor {
            data: self.data,
            pos: self.pos,
            lines: self.lines,
            line_start: self.line_start,
        };
        if offset < self.pos {
            c = LineCursor::new(self.data);
        }
        c.at(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\ncdé f\n\nxyz".as_bytes();
        let mut c = LineCursor::new(text);
        assert_eq!(c.at(0), (0, 1));
        assert_eq!(c.at(1), (0, 2));
        assert_eq!(c.at(3), (1, 1));
        let f = text.iter().position(|&b| b == b'f').expect("f");
        assert_eq!(c.at(f), (1, 5), "é counts as one column");
        assert_eq!(c.at(text.len() - 3), (3, 1));
        assert_eq!(c.peek(1), (0, 2));
    }
}
