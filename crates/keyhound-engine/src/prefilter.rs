//! The literal prefilter: finds every occurrence of every rule literal in one pass.
//!
//! Each literal is indexed by one of its 3-byte grams (the rarest one, by a static estimate of
//! byte frequency in code and text), ASCII-case-folded. The scan hashes every 3-byte window of
//! the input into a 64 Ki-bit table (8 KiB, resident in L1 cache) and only where a bit is set
//! compares the literals of that bucket byte by byte. Unlike a DFA, the per-byte work has no
//! dependent memory load, so it runs at a few cycles per byte whatever the number of literals,
//! and every occurrence is found, overlapping or not.
//!
//! Why not the `aho-corasick` crate: with ~100 case-insensitive keywords no SIMD prefilter
//! applies, and its DFA is bound by one table lookup per byte (measured in
//! docs/benchmarks.md: 3.4× slower on the scan benchmark).

/// ASCII case folding that needs no table: sets bit 5, so `A`→`a`. It also merges a few
/// punctuation pairs (`@`/`` ` ``, `[`/`{`, `_`/DEL...), which only adds candidates that the
/// byte comparison then rejects.
#[inline(always)]
fn fold(b: u8) -> u32 {
    u32::from(b | 0x20)
}

const TABLE_BITS: u32 = 16;

#[inline(always)]
fn bucket(gram: u32) -> usize {
    (gram.wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)) as usize
}

/// How common a byte is in source code and text (higher is more common). A rough static
/// estimate; it only steers which 3-gram of a literal is indexed.
fn commonness(b: u8) -> u32 {
    match b.to_ascii_lowercase() {
        b' ' | b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 10,
        b'h' | b'l' | b'd' | b'c' | b'u' | b'm' | b'\n' | b'p' | b'f' | b'_' | b'.' => 8,
        b'g' | b'b' | b'y' | b'=' | b'(' | b')' | b',' | b'"' | b'/' | b'-' | b':' | b'0'
        | b'1' => 6,
        b'w' | b'v' | b'k' | b'\'' | b';' | b'<' | b'>' | b'{' | b'}' | b'2'..=b'9' | b'\t' => 4,
        b'x' | b'j' | b'q' | b'z' | b'[' | b']' | b'*' | b'#' | b'$' | b'@' | b'!' | b'&' => 2,
        _ => 1,
    }
}

struct Entry {
    literal: u32,
    /// Offset of the indexed gram within the literal.
    offset: u32,
}

/// Literals compiled for [`Prefilter::find`].
pub(crate) struct Prefilter {
    bits: Vec<u64>,
    /// CSR index: entries of bucket `b` are `entries[starts[b]..starts[b + 1]]`.
    starts: Vec<u32>,
    entries: Vec<Entry>,
    /// Literals in lowercase.
    literals: Vec<Vec<u8>>,
    /// Literals shorter than 3 bytes, searched for directly.
    short: Vec<u32>,
}

impl Prefilter {
    /// Indexes `literals` (any case; matching is ASCII-case-insensitive).
    pub(crate) fn new(literals: &[Vec<u8>]) -> Prefilter {
        let lowered: Vec<Vec<u8>> = literals.iter().map(|l| l.to_ascii_lowercase()).collect();
        let mut buckets: Vec<Vec<Entry>> = (0..1usize << TABLE_BITS).map(|_| Vec::new()).collect();
        let mut short = Vec::new();
        for (id, lit) in lowered.iter().enumerate() {
            if lit.len() < 3 {
                short.push(id as u32);
                continue;
            }
            let offset = (0..=lit.len() - 3)
                .min_by_key(|&k| lit[k..k + 3].iter().map(|&b| commonness(b)).sum::<u32>())
                .expect("a literal of 3+ bytes has a 3-gram");
            let gram =
                fold(lit[offset]) | (fold(lit[offset + 1]) << 8) | (fold(lit[offset + 2]) << 16);
            buckets[bucket(gram)].push(Entry {
                literal: id as u32,
                offset: offset as u32,
            });
        }
        let mut bits = vec![0u64; (1usize << TABLE_BITS) / 64];
        let mut starts = Vec::with_capacity(buckets.len() + 1);
        let mut entries = Vec::new();
        for (b, list) in buckets.into_iter().enumerate() {
            starts.push(entries.len() as u32);
            if !list.is_empty() {
                bits[b / 64] |= 1 << (b % 64);
            }
            entries.extend(list);
        }
        starts.push(entries.len() as u32);
        Prefilter {
            bits,
            starts,
            entries,
            literals: lowered,
            short,
        }
    }

    #[inline(never)]
    #[cold]
    fn verify<F: FnMut(usize, usize, usize)>(
        &self,
        hay: &[u8],
        at: usize,
        b: usize,
        on_hit: &mut F,
    ) {
        let (lo, hi) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        for e in &self.entries[lo..hi] {
            let Some(start) = at.checked_sub(e.offset as usize) else {
                continue;
            };
            let lit = &self.literals[e.literal as usize];
            let end = start + lit.len();
            if end <= hay.len() && hay[start..end].eq_ignore_ascii_case(lit) {
                on_hit(e.literal as usize, start, end);
            }
        }
    }

    /// Calls `on_hit(literal, start, end)` for every occurrence of every literal, in order of
    /// the indexed gram's position (roughly increasing `start`).
    pub(crate) fn find(&self, hay: &[u8], mut on_hit: impl FnMut(usize, usize, usize)) {
        const FOLD: u64 = 0x2020_2020_2020_2020;
        let n = hay.len();
        let mut i = 0;
        // Six 3-grams per 8-byte load; one branch per six positions.
        while i + 8 <= n {
            let w = u64::from_le_bytes(hay[i..i + 8].try_into().expect("8 bytes")) | FOLD;
            let mut found = 0u32;
            for j in 0..6 {
                let b = bucket(((w >> (8 * j)) & 0x00FF_FFFF) as u32);
                found |= (((self.bits[b >> 6] >> (b & 63)) & 1) as u32) << j;
            }
            if found != 0 {
                for j in 0..6 {
                    if found & (1 << j) != 0 {
                        let b = bucket(((w >> (8 * j)) & 0x00FF_FFFF) as u32);
                        self.verify(hay, i + j, b, &mut on_hit);
                    }
                }
            }
            i += 6;
        }
        while i + 3 <= n {
            let g = fold(hay[i]) | (fold(hay[i + 1]) << 8) | (fold(hay[i + 2]) << 16);
            let b = bucket(g);
            if (self.bits[b >> 6] >> (b & 63)) & 1 != 0 {
                self.verify(hay, i, b, &mut on_hit);
            }
            i += 1;
        }
        for &id in &self.short {
            let lit = &self.literals[id as usize];
            let (lo, up) = (lit[0], lit[0].to_ascii_uppercase());
            for start in memchr::memchr2_iter(lo, up, hay) {
                let end = start + lit.len();
                if end <= hay.len() && hay[start..end].eq_ignore_ascii_case(lit) {
                    on_hit(id as usize, start, end);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(p: &Prefilter, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        p.find(hay, |l, s, e| v.push((l, s, e)));
        v.sort_unstable();
        v
    }

    #[test]
    fn finds_every_occurrence_case_insensitively() {
        let p = Prefilter::new(&[
            b"password".to_vec(),
            b"_auth".to_vec(),
            b"_authToken".to_vec(),
            b"AKCp".to_vec(),
        ]);
        let hay = b"PASSWORD=x _authToken=y akcp AKCp Password";
        let h = hits(&p, hay);
        assert!(h.contains(&(0, 0, 8)));
        assert!(
            h.contains(&(1, 11, 16)),
            "a literal inside another is found"
        );
        assert!(h.contains(&(2, 11, 21)));
        assert!(h.contains(&(3, 24, 28)) && h.contains(&(3, 29, 33)));
        assert!(h.contains(&(0, 34, 42)));
        assert_eq!(h.len(), 6);
    }

    #[test]
    fn literal_at_the_edges_and_short_literals() {
        let p = Prefilter::new(&[b"abc".to_vec(), b"pw".to_vec()]);
        assert_eq!(hits(&p, b"abc"), vec![(0, 0, 3)]);
        assert_eq!(hits(&p, b"xxABC"), vec![(0, 2, 5)]);
        assert_eq!(hits(&p, b"ab"), vec![]);
        assert_eq!(hits(&p, b"PW pw"), vec![(1, 0, 2), (1, 3, 5)]);
    }
}
