//! The literal prefilter: finds every occurrence of every rule literal in one pass.
//!
//! Literals are indexed by 3-byte grams in a 256 Ki-bit table (32 KiB, resident in L1 cache).
//! The scan looks only at even positions: it hashes the 3-gram there and tests one bit, and
//! only where a bit is set does it compare the literals of that bucket byte by byte.
//!
//! - A literal of 4 or more bytes indexes two consecutive grams (its rarest pair, by a static
//!   estimate of byte frequency), so whatever its position, one of them starts at an even
//!   offset.
//! - A 3-byte literal indexes its one gram, and its first two bytes go into a direct 2-gram
//!   table tested at the odd position after each even one.
//! - Grams are indexed and looked up case-folded (every byte OR 0x20, which maps `A`-`Z` onto
//!   `a`-`z` and a few punctuation bytes onto others), one lookup per position. Keywords are
//!   thus found in any case; anchors are compared exactly when a bucket is verified. Indexing
//!   every case variant of keyword grams instead (up to 8 per gram) made the table six times
//!   denser with 250+ rules, and a second, exact lookup per position cost more than the extra
//!   candidates it avoided (anchors choose grams whose folded bucket is quiet).
//! - Which grams of a literal are indexed is chosen by the measured load of their bucket in
//!   real code and text (`common_grams.txt`, from `bench/gram-frequency.py`): one gram at an
//!   even offset and one at an odd offset, so whatever the literal's position one of them
//!   starts at an even position.
//!
//! - Only literals that contain no other literal are indexed (`containing`): `client_token`
//!   is found where `token` is, by comparing the bytes around it. With 300 rules two thirds
//!   of the literals contain another one.
//! - Where a gram bit is set, a second bitmap checks that the bytes one past the gram extend
//!   some indexed gram (`Prefilter::extends`) before the bucket's entries are read: most
//!   gram hits in real code are common 3-grams of keywords (`tok`, `pas`), which the 4th byte
//!   tells apart. Entries compare a literal's first 8 bytes with one load (`Head`).
//!
//! Unlike a DFA, the per-byte work has no dependent memory load, so it runs at about a cycle
//! per byte whatever the number of literals, and every occurrence is found, overlapping or
//! not. Why not the `aho-corasick` crate: with ~100 case-insensitive keywords no SIMD
//! prefilter applies, and its DFA is bound by one table lookup per byte (docs/benchmarks.md).

const TABLE_BITS: u32 = 18;
/// OR-ed into every byte of a load to fold ASCII case (see the module docs).
const FOLD: u64 = 0x2020_2020_2020_2020;
const BITMAP_WORDS: usize = (1 << TABLE_BITS) / 64;
const PAIR_WORDS: usize = (1 << 16) / 64;
/// The extension filter (see [`Prefilter::extends`]): 128 Ki-bit, 16 KiB. It is read only
/// where a gram bit is set, so it need not stay in L1 with the gram table.
const EXT_BITS: u32 = 17;
const EXT_WORDS: usize = (1 << EXT_BITS) / 64;

#[inline(always)]
fn bucket(gram: u32) -> usize {
    (gram.wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)) as usize
}

/// The extension filter's three keys: a 4-gram that extends an indexed gram forward or
/// backward by one byte, or a whole 3-byte literal. Distinct multipliers keep them apart.
#[inline(always)]
fn ext_forward(gram4: u32) -> usize {
    (gram4.wrapping_mul(0x85EB_CA77) >> (32 - EXT_BITS)) as usize
}

#[inline(always)]
fn ext_backward(gram4: u32) -> usize {
    (gram4.wrapping_mul(0xC2B2_AE3D) >> (32 - EXT_BITS)) as usize
}

#[inline(always)]
fn ext_whole(gram3: u32) -> usize {
    (gram3.wrapping_mul(0x27D4_EB2F) >> (32 - EXT_BITS)) as usize
}

/// XOR-ed into the extension keys of case-sensitive literals (anchors), which are keyed by
/// their exact bytes: a folded key would let every case variant through (`ace` for the
/// anchor `ACe`, `acc` for `ACc`), and in real text those variants are common words.
const EXACT: u32 = 0x6A09_E667;

#[inline(always)]
fn gram4(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
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

/// Measured frequencies of case-folded 3-grams in real code and text (bench/gram-frequency.py):
/// `count<TAB>gram in hex` lines, most frequent first.
const COMMON_GRAMS: &str = include_str!("common_grams.txt");

/// For each bucket, how many gram lookups of typical text land in it (both the exact and the
/// folded lookup), estimated from [`COMMON_GRAMS`]. A literal gram in a loaded bucket makes
/// the scan verify candidates all the time, whether or not the gram itself is common.
fn bucket_load() -> &'static std::collections::HashMap<usize, u64> {
    static LOAD: std::sync::OnceLock<std::collections::HashMap<usize, u64>> =
        std::sync::OnceLock::new();
    LOAD.get_or_init(|| {
        let mut load = std::collections::HashMap::new();
        for line in COMMON_GRAMS.lines() {
            let Some((count, gram)) = line.split_once('\t') else {
                continue;
            };
            let byte = |i: usize| u8::from_str_radix(gram.get(i..i + 2).unwrap_or(""), 16).ok();
            let (Ok(count), Some(a), Some(b), Some(c)) =
                (count.parse::<u64>(), byte(0), byte(2), byte(4))
            else {
                continue;
            };
            let (a, b, c) = (&a, &b, &c);
            // The table counts lowercased grams; the scan folds with OR 0x20, which agrees for
            // letters and digits and moves a few punctuation bytes: count the folded form.
            let folded = gram3(&[*a, *b, *c]) | (FOLD as u32 & 0x00FF_FFFF);
            *load.entry(bucket(folded)).or_insert(0) += count;
        }
        load
    })
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

impl Literal {
    /// Whether `window` is this literal's bytes from `from` on.
    #[inline]
    fn matches_from(&self, from: usize, window: &[u8]) -> bool {
        let bytes = &self.bytes[from..];
        if self.any_case {
            window.eq_ignore_ascii_case(bytes)
        } else {
            window == bytes
        }
    }
}

/// A literal's first 8 bytes, compared with one load: `(word | fold) & mask == value`. A
/// byte-wise comparison loop mispredicts its exit on almost every candidate, and candidates
/// are most of the prefilter's cost once the table is dense (issue #6).
#[derive(Clone, Copy)]
struct Head {
    value: u64,
    mask: u64,
    /// 0x20 under each letter of an any-case literal: `b | 0x20` is a letter's lower case.
    fold: u64,
}

impl Head {
    fn new(lit: &Literal) -> Head {
        let mut head = Head {
            value: 0,
            mask: 0,
            fold: 0,
        };
        for (i, &b) in lit.bytes.iter().take(8).enumerate() {
            let shift = 8 * i;
            head.mask |= 0xFF << shift;
            if lit.any_case && b.is_ascii_alphabetic() {
                head.value |= u64::from(b.to_ascii_lowercase()) << shift;
                head.fold |= 0x20 << shift;
            } else {
                head.value |= u64::from(b) << shift;
            }
        }
        head
    }
}

/// For each literal that contains another one, a literal it contains that contains no other
/// (a root), and the root's offset within it; `None` for roots.
///
/// Only roots are indexed: a literal is looked for where its root is found, by comparing the
/// bytes around it. Keywords share parts (`token` in `client_token`, `gitlab_token`,
/// `circleci_token`...), and with 300 rules two thirds of all literals contain another; each
/// indexed literal adds two grams that real text hits (`ken`, `_to`), so indexing only roots
/// cuts the gram hits by a third. A literal that matches in any case cannot be found through
/// a case-sensitive root, so that pair does not count as containment.
fn containing(literals: &[Literal]) -> Vec<Option<(usize, u32)>> {
    // Every literal of 3+ bytes by its (lowercased if any-case) bytes.
    let mut by_bytes: std::collections::HashMap<(&[u8], bool), usize> =
        std::collections::HashMap::new();
    for (id, lit) in literals.iter().enumerate() {
        if lit.bytes.len() >= 3 {
            by_bytes.entry((&lit.bytes, lit.any_case)).or_insert(id);
        }
    }
    // The literals each one contains, found through its substrings.
    let contained = |id: usize| -> Vec<(usize, u32)> {
        let lit = &literals[id];
        let lower = lit.bytes.to_ascii_lowercase();
        let n = lit.bytes.len();
        let mut out = Vec::new();
        for len in (3..n).rev() {
            for at in 0..=n - len {
                if let Some(&other) = by_bytes.get(&(&lower[at..at + len], true)) {
                    out.push((other, at as u32));
                }
                if !lit.any_case {
                    if let Some(&other) = by_bytes.get(&(&lit.bytes[at..at + len], false)) {
                        out.push((other, at as u32));
                    }
                }
            }
        }
        out
    };
    let mut parent = vec![None; literals.len()];
    for (id, lit) in literals.iter().enumerate() {
        if lit.bytes.len() < 4 {
            continue;
        }
        // The longest contained root (rarer than a short one), at its first offset: every
        // occurrence of the literal holds one occurrence of the root there.
        parent[id] = contained(id)
            .into_iter()
            .find(|&(other, _)| contained(other).is_empty());
    }
    parent
}

#[derive(Clone, Copy)]
struct Entry {
    literal: u32,
    /// Offset within the literal of the gram that was hit.
    offset: u32,
}

/// A set of buckets with their entries: a bitmap, and for the set buckets only, their entries
/// in bucket order, found by rank (set bits before the bucket). Keeping only the set buckets
/// keeps the lookup tables small enough to stay in cache.
struct Index<const WORDS: usize> {
    bits: Box<[u64; WORDS]>,
    /// Set bits before each word.
    rank: Vec<u32>,
    /// Start of each set bucket's entries, plus the end.
    starts: Vec<u32>,
    entries: Vec<Entry>,
}

impl<const WORDS: usize> Index<WORDS> {
    fn new(mut items: Vec<(usize, Entry)>) -> Index<WORDS> {
        items.sort_by_key(|(b, e)| (*b, e.literal, e.offset));
        items.dedup_by_key(|(b, e)| (*b, e.literal, e.offset));
        let mut bits = Box::new([0u64; WORDS]);
        for (b, _) in &items {
            bits[b / 64] |= 1 << (b % 64);
        }
        let mut rank = Vec::with_capacity(WORDS);
        let mut total = 0u32;
        for word in bits.iter() {
            rank.push(total);
            total += word.count_ones();
        }
        let mut starts = Vec::with_capacity(total as usize + 1);
        let mut last = usize::MAX;
        for (i, (b, _)) in items.iter().enumerate() {
            if *b != last {
                starts.push(i as u32);
                last = *b;
            }
        }
        starts.push(items.len() as u32);
        Index {
            bits,
            rank,
            starts,
            entries: items.into_iter().map(|(_, e)| e).collect(),
        }
    }

    #[inline(always)]
    fn test(&self, b: usize) -> bool {
        (self.bits[(b >> 6) % WORDS] >> (b & 63)) & 1 != 0
    }

    /// The entries of a set bucket.
    #[inline(always)]
    fn entries(&self, b: usize) -> &[Entry] {
        let word = (b >> 6) % WORDS;
        let below = self.bits[word] & ((1u64 << (b & 63)) - 1);
        let r = (self.rank[word] + below.count_ones()) as usize;
        &self.entries[self.starts[r] as usize..self.starts[r + 1] as usize]
    }
}

/// Literals compiled for [`Prefilter::find`].
pub(crate) struct Prefilter {
    grams: Index<BITMAP_WORDS>,
    pairs: Index<PAIR_WORDS>,
    /// For every indexed gram, its literal's bytes one past it (see [`Prefilter::extends`]).
    ext: Box<[u64; EXT_WORDS]>,
    literals: Vec<Literal>,
    /// Literals shorter than 3 bytes (rules validation forbids them; custom rules compiled
    /// without validation still work, slowly).
    short: Vec<u32>,
    /// For each indexed literal, the literals that contain it and are found through it:
    /// `(literal, offset of this literal within it)` (see [`containing`]).
    children: Vec<Vec<(u32, u32)>>,
    heads: Vec<Head>,
}

impl Prefilter {
    /// Indexes `literals`.
    pub(crate) fn new(literals: Vec<Literal>) -> Prefilter {
        let load = bucket_load();
        let mut grams = Vec::new();
        let mut pairs = Vec::new();
        let mut short = Vec::new();
        let mut ext = Box::new([0u64; EXT_WORDS]);
        let parent = containing(&literals);
        let mut children = vec![Vec::new(); literals.len()];
        for (id, lit) in literals.iter().enumerate() {
            if let Some((root, offset)) = parent[id] {
                children[root].push((id as u32, offset));
                continue;
            }
            let bytes = &lit.bytes;
            let literal = id as u32;
            let indexed =
                |k: usize| -> u32 { gram3(&bytes[k..k + 3]) | (FOLD as u32 & 0x00FF_FFFF) };
            // How many lookups of real text land in the gram's bucket (measured gram
            // frequencies, common_grams.txt), then a static estimate to break ties.
            let cost = |k: usize| -> u64 {
                let static_cost: u64 = bytes[k..k + 3]
                    .iter()
                    .map(|&b| u64::from(commonness(b)))
                    .sum();
                load.get(&bucket(indexed(k))).copied().unwrap_or(0) * 64 + static_cost
            };
            let mut index_gram = |k: usize| {
                // The gram's extension: the 4-gram one byte further on in the literal, else
                // one byte back, else (a 3-byte literal) the literal itself.
                // Keywords by their folded bytes, anchors by their exact bytes (`EXACT`).
                let key = match (lit.any_case, k + 4 <= bytes.len(), k >= 1) {
                    (true, true, _) => ext_forward(gram4(&bytes[k..]) | FOLD as u32),
                    (true, false, true) => ext_backward(gram4(&bytes[k - 1..]) | FOLD as u32),
                    (true, false, false) => ext_whole(indexed(k)),
                    (false, true, _) => ext_forward(gram4(&bytes[k..]) ^ EXACT),
                    (false, false, true) => ext_backward(gram4(&bytes[k - 1..]) ^ EXACT),
                    (false, false, false) => ext_whole(gram3(&bytes[k..]) ^ EXACT),
                };
                ext[key / 64] |= 1 << (key % 64);
                grams.push((
                    bucket(indexed(k)),
                    Entry {
                        literal,
                        offset: k as u32,
                    },
                ));
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
                    // The scan tests grams at even positions only. Whatever the literal's
                    // position, a gram at an even offset or one at an odd offset starts at an
                    // even position: index the cheapest of each parity.
                    let even = (0..=n - 3)
                        .step_by(2)
                        .min_by_key(|&k| cost(k))
                        .expect("n >= 4");
                    let odd = (1..=n - 3)
                        .step_by(2)
                        .min_by_key(|&k| cost(k))
                        .expect("n >= 4");
                    index_gram(even);
                    index_gram(odd);
                }
            }
        }
        Prefilter {
            grams: Index::new(grams),
            pairs: Index::new(pairs),
            ext,
            heads: literals.iter().map(Head::new).collect(),
            literals,
            short,
            children,
        }
    }

    /// Where the gram at `at` is set in the table, whether the bytes around it also extend
    /// some indexed gram by one byte (or, for a 3-byte literal, are that literal): a second,
    /// cheaper filter before [`Prefilter::verify`] touches the bucket's entries. Most 3-grams
    /// of literals are common in text ("tok", "sec", "pas"), and in real code nine in ten
    /// bucket hits are such genuine gram matches, which the one-byte extension rejects
    /// (docs/benchmarks.md, issue #6). An extension cut off by the end of the input cannot
    /// belong to a literal that fits, so it only fails.
    #[inline(always)]
    fn extends(&self, hay: &[u8], at: usize) -> bool {
        let fold4 = FOLD as u32;
        hay.get(at..at + 4).is_some_and(|b| {
            let g = gram4(b);
            self.ext_test(ext_forward(g | fold4)) || self.ext_test(ext_forward(g ^ EXACT))
        }) || at
            .checked_sub(1)
            .and_then(|s| hay.get(s..s + 4))
            .is_some_and(|b| {
                let g = gram4(b);
                self.ext_test(ext_backward(g | fold4)) || self.ext_test(ext_backward(g ^ EXACT))
            })
            || self.is_whole(hay, at)
    }

    /// Whether the 3 bytes at `at` may be a whole 3-byte literal.
    #[inline(always)]
    fn is_whole(&self, hay: &[u8], at: usize) -> bool {
        hay.get(at..at + 3).is_some_and(|b| {
            let g = gram3(b);
            self.ext_test(ext_whole(g | (FOLD as u32 & 0x00FF_FFFF)))
                || self.ext_test(ext_whole(g ^ EXACT))
        })
    }

    #[inline(always)]
    fn ext_test(&self, b: usize) -> bool {
        (self.ext[(b >> 6) % EXT_WORDS] >> (b & 63)) & 1 != 0
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
            let Some(end) = self.is_at(e.literal as usize, hay, start) else {
                continue;
            };
            on_hit(e.literal as usize, start, end);
            for &(child, offset) in &self.children[e.literal as usize] {
                if let Some(start) = start.checked_sub(offset as usize)
                    && let Some(end) = self.is_at(child as usize, hay, start)
                {
                    on_hit(child as usize, start, end);
                }
            }
        }
    }

    /// The end of literal `id` if it occurs at `start`.
    #[inline(always)]
    fn is_at(&self, id: usize, hay: &[u8], start: usize) -> Option<usize> {
        let lit = &self.literals[id];
        let end = start + lit.bytes.len();
        let window = hay.get(start..end)?;
        let found = match hay.get(start..start + 8) {
            Some(word) => {
                let head = self.heads[id];
                let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
                (word | head.fold) & head.mask == head.value
                    && (window.len() <= 8 || lit.matches_from(8, &window[8..]))
            }
            None => lit.matches_from(0, window),
        };
        found.then_some(end)
    }

    /// Calls `on_hit(literal, start, end)` for every occurrence of every literal, in roughly
    /// increasing order of position.
    pub(crate) fn find(&self, hay: &[u8], mut on_hit: impl FnMut(usize, usize, usize)) {
        let n = hay.len();
        let mut i = 0;
        // Even positions i, i+2, i+4 of each 8-byte load; pairs at the odd positions.
        while i + 8 <= n {
            let w = u64::from_le_bytes(hay[i..i + 8].try_into().expect("8 bytes"));
            let f = |j: u32| bucket((((w | FOLD) >> (16 * j)) & 0x00FF_FFFF) as u32);
            let p = |j: u32| ((w >> (16 * j + 8)) & 0xFFFF) as usize;
            // Separate, predictable branches: almost always all false.
            if self.grams.test(f(0))
                || self.pairs.test(p(0))
                || self.grams.test(f(1))
                || self.pairs.test(p(1))
                || self.grams.test(f(2))
                || self.pairs.test(p(2))
            {
                self.hits_at(hay, i, w, &mut on_hit);
            }
            i += 6;
        }
        // The tail: the gram at each even position and the pair at the odd one after it.
        while i + 3 <= n {
            let folded = bucket(gram3(&hay[i..]) | (FOLD as u32 & 0x00FF_FFFF));
            if self.grams.test(folded) && self.extends(hay, i) {
                self.verify(hay, i, self.grams.entries(folded), &mut on_hit);
            }
            let p = (usize::from(hay[i + 2]) << 8) | usize::from(hay[i + 1]);
            if self.pairs.test(p) && self.is_whole(hay, i + 1) {
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
    fn hits_at<F: FnMut(usize, usize, usize)>(&self, hay: &[u8], i: usize, w: u64, on_hit: &mut F) {
        let wf = w | FOLD;
        for j in 0..3 {
            let f = bucket(((wf >> (16 * j)) & 0x00FF_FFFF) as u32);
            if self.grams.test(f) && self.extends(hay, i + 2 * j) {
                self.verify(hay, i + 2 * j, self.grams.entries(f), on_hit);
            }
            let p = ((w >> (16 * j + 8)) & 0xFFFF) as usize;
            if self.pairs.test(p) && self.is_whole(hay, i + 2 * j + 1) {
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
    fn literals_are_found_through_the_literals_they_contain() {
        let l = lits(&[
            ("token", true),
            ("client_token", true),
            ("gitlab_token_x", true),
            ("Token", false),
            ("MyToken", false),
            ("mytokens", true),
            ("tokentoken", true),
            ("okenTok", false),
        ]);
        let parent = containing(&l);
        assert_eq!(parent[0], None);
        assert_eq!(parent[1], Some((0, 7)));
        assert_eq!(
            parent[3], None,
            "a case-sensitive literal does not contain itself"
        );
        assert!(parent[4].is_some());
        assert_eq!(parent[6], Some((0, 0)), "the first of two occurrences");
        assert_eq!(parent[7], None);
        let exact_only = containing(&lits(&[("Token", false), ("my_token", true)]));
        assert_eq!(
            exact_only[1], None,
            "an any-case literal cannot be found through a case-sensitive one"
        );
        let p = Prefilter::new(l.clone());
        let hay =
            b"CLIENT_TOKEN=1 client_token gitlab_token_x MyToken mytoKENS tokentokentoken okenTok";
        assert_eq!(hits(&p, hay), naive(&l, hay));
        for pad in 0..12 {
            for lit in &l {
                let mut hay = vec![b'.'; pad];
                hay.extend_from_slice(&lit.bytes);
                assert_eq!(hits(&p, &hay), naive(&l, &hay), "pad {pad}");
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
        // Literals inside literals, in both cases, near and across each other.
        let l = lits(&[
            ("tok", true),
            ("token", true),
            ("_token", true),
            ("api_token", true),
            ("TOKEN", false),
            ("ToKen_", false),
            ("en_a", true),
            ("pi_t", false),
        ]);
        let p = Prefilter::new(l.clone());
        let alphabet = b"tokenTOKEN_api_ \n";
        for len in [3, 4, 5, 8, 9, 17, 64, 65, 4000] {
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
