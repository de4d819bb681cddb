//! The literal prefilter: finds every occurrence of every rule literal in one pass.
//!
//! Literals are indexed by 3-byte grams in a 128 Ki-bit table (16 KiB, resident in L1 cache).
//! The scan looks only at even positions: it hashes the 3-gram there and tests one bit, and
//! only where a bit is set does it compare the literals of that bucket byte by byte.
//!
//! - A literal of 4 or more bytes indexes two consecutive grams (its rarest pair, by a static
//!   estimate of byte frequency), so whatever its position, one of them starts at an even
//!   offset.
//! - A 3-byte literal indexes its one gram, and its first two bytes go into a direct 2-gram
//!   table tested at the odd position after each even one.
//! - Matching is exact for case-sensitive anchors; a case-insensitive keyword indexes every
//!   ASCII case variant of its grams (at most 8 each), so no folding is needed while scanning
//!   and a keyword like `access` cannot make the anchor `ACe` a candidate.
//!
//! Unlike a DFA, the per-byte work has no dependent memory load, so it runs at about a cycle
//! per byte whatever the number of literals, and every occurrence is found, overlapping or
//! not. Why not the `aho-corasick` crate: with ~100 case-insensitive keywords no SIMD
//! prefilter applies, and its DFA is bound by one table lookup per byte (docs/benchmarks.md).

const TABLE_BITS: u32 = 17;
const BITMAP_WORDS: usize = (1 << TABLE_BITS) / 64;
const PAIR_WORDS: usize = (1 << 16) / 64;

#[inline(always)]
fn bucket(gram: u32) -> usize {
    (gram.wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)) as usize
}

#[inline(always)]
fn gram3(b: &[u8]) -> u32 {
    u32::from(b[0]) | (u32::from(b[1]) << 8) | (u32::from(b[2]) << 16)
}

/// How common a byte is in source code and text (higher is more common). A rough static
/// estimate; it only steers which grams of a literal are indexed.
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

/// Every ASCII case variant of `bytes` (one for a case-sensitive literal).
fn variants(bytes: &[u8], any_case: bool) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::with_capacity(bytes.len())];
    for &b in bytes {
        let alt = b.is_ascii_alphabetic() && any_case;
        let mut next = Vec::with_capacity(out.len() * 2);
        for v in &out {
            let mut lower = v.clone();
            lower.push(if any_case { b.to_ascii_lowercase() } else { b });
            next.push(lower);
            if alt {
                let mut upper = v.clone();
                upper.push(b.to_ascii_uppercase());
                next.push(upper);
            }
        }
        out = next;
    }
    out
}

/// One literal to find.
#[derive(Debug, Clone)]
pub(crate) struct Literal {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Matched in any ASCII case (keywords) or exactly (anchors).
    pub any_case: bool,
}

#[derive(Clone, Copy)]
struct Entry {
    literal: u32,
    /// Offset within the literal of the gram that was hit.
    offset: u32,
}

/// A set of buckets with their entries (CSR layout).
struct Index<const WORDS: usize> {
    bits: Box<[u64; WORDS]>,
    starts: Vec<u32>,
    entries: Vec<Entry>,
}

impl<const WORDS: usize> Index<WORDS> {
    fn new(mut items: Vec<(usize, Entry)>) -> Index<WORDS> {
        items.sort_by_key(|(b, e)| (*b, e.literal, e.offset));
        items.dedup_by_key(|(b, e)| (*b, e.literal, e.offset));
        let mut bits = Box::new([0u64; WORDS]);
        let mut starts = vec![0u32; WORDS * 64 + 1];
        for (b, _) in &items {
            bits[b / 64] |= 1 << (b % 64);
            starts[b + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        Index {
            bits,
            starts,
            entries: items.into_iter().map(|(_, e)| e).collect(),
        }
    }

    #[inline(always)]
    fn test(&self, b: usize) -> bool {
        (self.bits[(b >> 6) % WORDS] >> (b & 63)) & 1 != 0
    }

    #[inline(always)]
    fn entries(&self, b: usize) -> &[Entry] {
        &self.entries[self.starts[b] as usize..self.starts[b + 1] as usize]
    }
}

/// Literals compiled for [`Prefilter::find`].
pub(crate) struct Prefilter {
    grams: Index<BITMAP_WORDS>,
    pairs: Index<PAIR_WORDS>,
    literals: Vec<Literal>,
    /// Literals shorter than 3 bytes (rules validation forbids them; custom rules compiled
    /// without validation still work, slowly).
    short: Vec<u32>,
}

impl Prefilter {
    /// Indexes `literals`.
    pub(crate) fn new(literals: Vec<Literal>) -> Prefilter {
        let mut grams = Vec::new();
        let mut pairs = Vec::new();
        let mut short = Vec::new();
        for (id, lit) in literals.iter().enumerate() {
            let bytes = &lit.bytes;
            let literal = id as u32;
            let score = |k: usize| -> u32 {
                // Rarer bytes and fewer case variants make a better gram.
                bytes[k..k + 3]
                    .iter()
                    .map(|&b| commonness(b) + u32::from(lit.any_case && b.is_ascii_alphabetic()))
                    .sum()
            };
            let mut index_gram = |k: usize| {
                for v in variants(&bytes[k..k + 3], lit.any_case) {
                    grams.push((
                        bucket(gram3(&v)),
                        Entry {
                            literal,
                            offset: k as u32,
                        },
                    ));
                }
            };
            match bytes.len() {
                0..=2 => short.push(literal),
                3 => {
                    index_gram(0);
                    for v in variants(&bytes[..2], lit.any_case) {
                        pairs.push((
                            (usize::from(v[1]) << 8) | usize::from(v[0]),
                            Entry { literal, offset: 0 },
                        ));
                    }
                }
                n => {
                    let k = (0..=n - 4)
                        .min_by_key(|&k| score(k) + score(k + 1))
                        .expect("n >= 4");
                    index_gram(k);
                    index_gram(k + 1);
                }
            }
        }
        Prefilter {
            grams: Index::new(grams),
            pairs: Index::new(pairs),
            literals,
            short,
        }
    }

    #[inline(never)]
    #[cold]
    fn verify<F: FnMut(usize, usize, usize)>(
        &self,
        hay: &[u8],
        at: usize,
        entries: &[Entry],
        on_hit: &mut F,
    ) {
        for e in entries {
            let Some(start) = at.checked_sub(e.offset as usize) else {
                continue;
            };
            let lit = &self.literals[e.literal as usize];
            let end = start + lit.bytes.len();
            if end > hay.len() {
                continue;
            }
            let window = &hay[start..end];
            let equal = if lit.any_case {
                window.eq_ignore_ascii_case(&lit.bytes)
            } else {
                window == lit.bytes
            };
            if equal {
                on_hit(e.literal as usize, start, end);
            }
        }
    }

    /// Calls `on_hit(literal, start, end)` for every occurrence of every literal, in roughly
    /// increasing order of position.
    pub(crate) fn find(&self, hay: &[u8], mut on_hit: impl FnMut(usize, usize, usize)) {
        let n = hay.len();
        let mut i = 0;
        // Even positions i, i+2, i+4 of each 8-byte load; pairs at the odd positions.
        while i + 8 <= n {
            let w = u64::from_le_bytes(hay[i..i + 8].try_into().expect("8 bytes"));
            let g = |j: u32| bucket(((w >> (16 * j)) & 0x00FF_FFFF) as u32);
            let p = |j: u32| ((w >> (16 * j + 8)) & 0xFFFF) as usize;
            // Separate, predictable branches: almost always all false.
            if self.grams.test(g(0))
                || self.pairs.test(p(0))
                || self.grams.test(g(1))
                || self.pairs.test(p(1))
                || self.grams.test(g(2))
                || self.pairs.test(p(2))
            {
                let mut found = 0u32;
                for j in 0..3 {
                    found |= u32::from(self.grams.test(g(j))) << (2 * j);
                    found |= u32::from(self.pairs.test(p(j))) << (2 * j + 1);
                }
                self.hits_at(hay, i, w, found, &mut on_hit);
            }
            i += 6;
        }
        // The tail: the gram at each even position and the pair at the odd one after it.
        while i + 3 <= n {
            let g = bucket(gram3(&hay[i..]));
            if self.grams.test(g) {
                self.verify(hay, i, self.grams.entries(g), &mut on_hit);
            }
            let p = (usize::from(hay[i + 2]) << 8) | usize::from(hay[i + 1]);
            if self.pairs.test(p) {
                self.verify(hay, i + 1, self.pairs.entries(p), &mut on_hit);
            }
            i += 2;
        }
        for &id in &self.short {
            let lit = &self.literals[id as usize];
            let Some(&first) = lit.bytes.first() else {
                continue;
            };
            let (a, b) = if lit.any_case {
                (first.to_ascii_lowercase(), first.to_ascii_uppercase())
            } else {
                (first, first)
            };
            for start in memchr::memchr2_iter(a, b, hay) {
                self.verify(
                    hay,
                    start,
                    &[Entry {
                        literal: id,
                        offset: 0,
                    }],
                    &mut on_hit,
                );
            }
        }
    }

    #[inline(never)]
    fn hits_at<F: FnMut(usize, usize, usize)>(
        &self,
        hay: &[u8],
        i: usize,
        w: u64,
        found: u32,
        on_hit: &mut F,
    ) {
        for j in 0..3 {
            if found & (1 << (2 * j)) != 0 {
                let g = bucket(((w >> (16 * j)) & 0x00FF_FFFF) as u32);
                self.verify(hay, i + 2 * j, self.grams.entries(g), on_hit);
            }
            if found & (1 << (2 * j + 1)) != 0 {
                let p = ((w >> (16 * j + 8)) & 0xFFFF) as usize;
                self.verify(hay, i + 2 * j + 1, self.pairs.entries(p), on_hit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(items: &[(&str, bool)]) -> Vec<Literal> {
        items
            .iter()
            .map(|(s, ci)| Literal {
                bytes: s.as_bytes().to_vec(),
                any_case: *ci,
            })
            .collect()
    }

    fn hits(p: &Prefilter, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        p.find(hay, |l, s, e| v.push((l, s, e)));
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Every occurrence, by brute force.
    fn naive(literals: &[Literal], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        for (id, l) in literals.iter().enumerate() {
            for s in 0..hay.len() {
                let e = s + l.bytes.len();
                if e <= hay.len() {
                    let w = &hay[s..e];
                    if (l.any_case && w.eq_ignore_ascii_case(&l.bytes)) || w == l.bytes {
                        v.push((id, s, e));
                    }
                }
            }
        }
        v.sort_unstable();
        v
    }

    #[test]
    fn finds_every_occurrence() {
        let l = lits(&[
            ("password", true),
            ("_auth", true),
            ("_authToken", true),
            ("AKCp", false),
            ("eyJ", false),
            ("pwd", true),
        ]);
        let p = Prefilter::new(l.clone());
        let hay = b"PASSWORD=x _authToken=y akcp AKCp Password eyJeyj xeyJ PwD pwdpwd";
        assert_eq!(hits(&p, hay), naive(&l, hay));
        // Every alignment of every literal, at every position near the edges.
        for pad in 0..12 {
            for lit in &l {
                let mut hay = vec![b'.'; pad];
                hay.extend_from_slice(&lit.bytes);
                hay.extend(std::iter::repeat_n(b'.', pad % 5));
                assert_eq!(
                    hits(&p, &hay),
                    naive(&l, &hay),
                    "pad {pad} {:?}",
                    String::from_utf8_lossy(&lit.bytes)
                );
            }
        }
    }

    #[test]
    fn case_sensitive_anchors_are_exact() {
        let l = lits(&[("ACe", false), ("AKCp", false)]);
        let p = Prefilter::new(l.clone());
        let hay = b"place access ACe akcp AKCp ace";
        assert_eq!(hits(&p, hay), vec![(0, 13, 16), (1, 22, 26)]);
    }

    #[test]
    fn short_literals() {
        let l = lits(&[("pw", true), ("S", false)]);
        let p = Prefilter::new(l.clone());
        let hay = b"PW pw Sx s";
        assert_eq!(hits(&p, hay), naive(&l, hay));
    }

    #[test]
    fn matches_brute_force_on_generated_text() {
        let l = lits(&[
            ("token", true),
            ("secret", true),
            ("ghp_", false),
            ("xox", true),
            ("AP1", false),
            ("a-b", true),
        ]);
        let p = Prefilter::new(l.clone());
        let mut state = 12345u64;
        let alphabet = b"tokenTOKENsecretSECRETghp_xoxXOXAP1a-bB ";
        for len in [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 1000] {
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            assert_eq!(hits(&p, &hay), naive(&l, &hay), "len {len}");
        }
    }
}
