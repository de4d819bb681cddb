//! Decoding packs chain by chain, for only the object kinds asked for.
//!
//! In a pack, a deltified object is stored as instructions against a base, which may itself
//! be a delta; every chain ends in a full object, and git never deltifies across object kinds.
//! So the objects of a pack form trees rooted in full objects, and a whole tree has one kind.
//! Scanning needs only the blob trees and attribution only the tree and commit trees: decoding
//! them separately decodes each object at most once, and a scan with nothing to attribute never
//! inflates a tree. Each tree is decoded depth-first from its root on one thread, keeping only
//! the bases its pending children still need; trees are spread over threads.

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use gix::ObjectId;
use gix::objs::Kind;
use gix::odb::pack::data::entry::Header;
use rayon::prelude::*;

/// What decoding one pack did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PackStats {
    /// Objects decoded and visited.
    pub decoded: u64,
    /// Objects of the wanted kinds (or of unknown kind) that could not be decoded.
    pub failed: u64,
}

/// Applies a git delta (`base` + instructions) and returns the result.
/// Format: two varints (base size, result size), then copy-from-base and insert instructions.
pub(crate) fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    fn varint(d: &[u8], at: &mut usize) -> Option<usize> {
        let mut value = 0usize;
        let mut shift = 0;
        loop {
            let b = *d.get(*at)?;
            *at += 1;
            value |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(value);
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
    }
    let mut at = 0;
    let base_size = varint(delta, &mut at)?;
    let result_size = varint(delta, &mut at)?;
    if base_size != base.len() || result_size > (1 << 34) {
        return None;
    }
    // The declared size is only a claim: reserve what the inputs can plausibly produce, and
    // refuse any instruction that would write past it.
    let mut out = Vec::with_capacity(result_size.min(base.len() + delta.len()));
    while at < delta.len() {
        let cmd = delta[at];
        at += 1;
        if cmd & 0x80 != 0 {
            let mut offset = 0usize;
            let mut size = 0usize;
            for i in 0..4 {
                if cmd & (1 << i) != 0 {
                    offset |= usize::from(*delta.get(at)?) << (8 * i);
                    at += 1;
                }
            }
            for i in 0..3 {
                if cmd & (0x10 << i) != 0 {
                    size |= usize::from(*delta.get(at)?) << (8 * i);
                    at += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            if out.len() + size > result_size {
                return None;
            }
            out.extend_from_slice(base.get(offset..offset.checked_add(size)?)?);
        } else if cmd != 0 {
            let n = usize::from(cmd);
            if out.len() + n > result_size {
                return None;
            }
            out.extend_from_slice(delta.get(at..at + n)?);
            at += n;
        } else {
            return None;
        }
    }
    (out.len() == result_size).then_some(out)
}

struct Node {
    offset: u64,
    id: ObjectId,
    /// The full object's kind, for roots.
    kind: Option<Kind>,
}

/// Called for each decoded object: `(state, kind, id, data)`.
pub(crate) type VisitFn<S> = dyn Fn(&mut S, Kind, ObjectId, &[u8]) + Sync;

/// Decodes every object of the pack at `idx` whose chain starts at a full object of a `wanted`
/// kind, and calls `visit(state, kind, id, data)` for each, on up to `threads` threads with one
/// `state` per thread (made by `make_state`). Returns the counts, or an error when the pack or
/// its index cannot be opened at all.
pub(crate) fn decode_pack<S>(
    idx: &Path,
    hash: gix::hash::Kind,
    wanted: &(dyn Fn(Kind) -> bool + Sync),
    pool: &rayon::ThreadPool,
    make_state: &(dyn Fn() -> S + Sync),
    visit: &VisitFn<S>,
) -> Result<PackStats, String> {
    let index = gix::odb::pack::index::File::at(idx, hash).map_err(|e| e.to_string())?;
    let data = gix::odb::pack::data::File::at(idx.with_extension("pack"), hash)
        .map_err(|e| e.to_string())?;
    let mut nodes: Vec<Node> = index
        .iter()
        .map(|e| Node {
            offset: e.pack_offset,
            id: e.oid,
            kind: None,
        })
        .collect();
    nodes.sort_unstable_by_key(|n| n.offset);
    let by_offset = |off: u64| nodes.binary_search_by_key(&off, |n| n.offset).ok();

    // Link each delta to its base; roots get their kind.
    let mut parent: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut broken = vec![false; nodes.len()];
    let mut kinds: Vec<Option<Kind>> = vec![None; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        let Ok(entry) = data.entry(node.offset) else {
            broken[i] = true;
            continue;
        };
        match entry.header {
            Header::Commit => kinds[i] = Some(Kind::Commit),
            Header::Tree => kinds[i] = Some(Kind::Tree),
            Header::Blob => kinds[i] = Some(Kind::Blob),
            Header::Tag => kinds[i] = Some(Kind::Tag),
            Header::OfsDelta { base_distance } => {
                match entry
                    .checked_base_pack_offset(base_distance)
                    .and_then(by_offset)
                {
                    Some(b) => parent[i] = Some(b),
                    None => broken[i] = true,
                }
            }
            Header::RefDelta { base_id } => {
                match index
                    .lookup(base_id)
                    .map(|x| index.pack_offset_at_index(x))
                    .and_then(by_offset)
                {
                    Some(b) => parent[i] = Some(b),
                    // A base outside this pack (a thin pack): the caller reads it another way.
                    None => broken[i] = true,
                }
            }
        }
    }
    for (i, k) in kinds.iter().enumerate() {
        nodes[i].kind = *k;
    }
    // Children in CSR form.
    let mut starts = vec![0usize; nodes.len() + 1];
    for p in parent.iter().flatten() {
        starts[p + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut fill = starts.clone();
    let mut children = vec![0usize; starts[nodes.len()]];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[fill[*p]] = i;
            fill[*p] += 1;
        }
    }
    let kids = |i: usize| &children[starts[i]..starts[i + 1]];

    let roots: Vec<usize> = (0..nodes.len())
        .filter(|&i| parent[i].is_none() && !broken[i] && nodes[i].kind.is_some_and(wanted))
        .collect();
    let decoded = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    pool.install(|| {
        roots.par_iter().for_each_init(
            || (make_state(), gix::zlib::Inflate::default()),
            |(state, inflate), &root| {
                let kind = nodes[root].kind.expect("roots have a kind");
                let inflate_entry =
                    |i: usize, inflate: &mut gix::zlib::Inflate| -> Option<Vec<u8>> {
                        let entry = data.entry(nodes[i].offset).ok()?;
                        let size = usize::try_from(entry.decompressed_size).ok()?;
                        let mut out = vec![0u8; size];
                        data.decompress_entry(&entry, inflate, &mut out).ok()?;
                        Some(out)
                    };
                // Counts a node and every node below it as failed.
                let fail_subtree = |i: usize| {
                    let mut stack = vec![i];
                    while let Some(n) = stack.pop() {
                        failed.fetch_add(1, Ordering::Relaxed);
                        stack.extend_from_slice(kids(n));
                    }
                };
                let Some(bytes) = inflate_entry(root, inflate) else {
                    fail_subtree(root);
                    return;
                };
                visit(state, kind, nodes[root].id, &bytes);
                decoded.fetch_add(1, Ordering::Relaxed);
                let base = Rc::new(bytes);
                let mut stack: Vec<(usize, Rc<Vec<u8>>)> =
                    kids(root).iter().map(|&c| (c, base.clone())).collect();
                drop(base);
                while let Some((node, base)) = stack.pop() {
                    let object =
                        inflate_entry(node, inflate).and_then(|delta| apply_delta(&base, &delta));
                    drop(base);
                    let Some(object) = object else {
                        fail_subtree(node);
                        continue;
                    };
                    visit(state, kind, nodes[node].id, &object);
                    decoded.fetch_add(1, Ordering::Relaxed);
                    let below = kids(node);
                    if !below.is_empty() {
                        let shared = Rc::new(object);
                        stack.extend(below.iter().map(|&c| (c, shared.clone())));
                    }
                }
            },
        );
    });
    // Broken entries whose kind is unknown may be of a wanted kind: count them as failed.
    let unknown = broken.iter().filter(|b| **b).count() as u64;
    Ok(PackStats {
        decoded: decoded.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed) + unknown,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::apply_delta;

    proptest! {
        /// Hostile deltas (from a damaged or crafted pack) never panic, never allocate what
        /// they merely claim, and never produce more than they declare.
        #[test]
        fn any_delta_is_safe(base in proptest::collection::vec(any::<u8>(), 0..64),
                             delta in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some(out) = apply_delta(&base, &delta) {
                let mut at = 0;
                let mut sizes = [0usize; 2];
                for size in &mut sizes {
                    let mut shift = 0;
                    loop {
                        let b = delta[at];
                        at += 1;
                        *size |= usize::from(b & 0x7f) << shift;
                        shift += 7;
                        if b & 0x80 == 0 {
                            break;
                        }
                    }
                }
                prop_assert_eq!(sizes[0], base.len());
                prop_assert_eq!(out.len(), sizes[1]);
            }
        }

        /// A delta made of insert instructions reproduces the inserted bytes.
        #[test]
        fn inserts_round_trip(base in proptest::collection::vec(any::<u8>(), 0..100),
                              data in proptest::collection::vec(any::<u8>(), 1..127)) {
            let mut delta = vec![base.len() as u8 | 0x80, (base.len() >> 7) as u8];
            delta.push(data.len() as u8);
            delta.push(data.len() as u8);
            delta.extend_from_slice(&data);
            prop_assert_eq!(apply_delta(&base, &delta), Some(data));
        }
    }

    #[test]
    fn a_claimed_huge_result_is_refused_without_allocating_it() {
        // Base size 1, result size 2^33, then copies of the one base byte.
        let mut delta = vec![1u8, 0x80, 0x80, 0x80, 0x80, 0x20];
        delta.extend(std::iter::repeat_n([0x90u8, 1], 1000).flatten());
        assert!(apply_delta(b"x", &delta).is_none());
    }

    #[test]
    fn deltas() {
        let base = b"hello world, hello git";
        // base size 22, result size 17: copy "hello " (0..6), insert "there ", copy "world" (6..11)
        let delta = [
            22u8, 17, 0x90, 6, 6, b't', b'h', b'e', b'r', b'e', b' ', 0x91, 6, 5,
        ];
        assert_eq!(
            apply_delta(base, &delta).as_deref(),
            Some(&b"hello there world"[..])
        );
        assert!(
            apply_delta(base, &[21, 1, 1, b'x']).is_none(),
            "wrong base size"
        );
        assert!(
            apply_delta(base, &[22, 5, 0x90, 100, 5]).is_none(),
            "copy out of range"
        );
        assert!(
            apply_delta(base, &[22, 1, 0]).is_none(),
            "reserved instruction"
        );
        assert!(
            apply_delta(base, &[22, 3, 2, b'a', b'b']).is_none(),
            "size mismatch"
        );
    }
}
