//! Archive reading: members, limits, and no-panic properties over hostile bytes.

use std::sync::Arc;

use keyhound_testkit::archive as ka;
use proptest::prelude::*;

use crate::reader::Reader;
use crate::{Blob, Limits, Origin, SkipReason, Skipped, Worker};

#[derive(Default)]
struct Collect {
    blobs: Vec<(String, Vec<u8>)>,
    skipped: Vec<Skipped>,
    done: u64,
}

impl Worker for Collect {
    fn blob(&mut self, blob: Blob<'_>) {
        assert!(blob.chunk.report_until <= blob.data.len());
        self.blobs
            .push((blob.origin.display_path(), blob.data.to_vec()));
    }
    fn skipped(&mut self, skipped: Skipped) {
        self.skipped.push(skipped);
    }
    fn input_done(&mut self, _: &Origin, _: u64) {
        self.done += 1;
    }
}

fn read_stream(bytes: &[u8], limits: &Limits) -> Collect {
    let mut out = Collect::default();
    crate::stream::read(&mut &bytes[..], "in", limits, &mut out);
    out
}

fn read_file(bytes: &[u8], name: &str, limits: &Limits) -> Collect {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    fs_err::write(&path, bytes).expect("write");
    let mut out = Collect::default();
    crate::fs_walk::scan_one_file(
        &path,
        crate::Origin::File(path.clone()),
        limits,
        &mut Reader::default(),
        &mut out,
    );
    out
}

fn small_limits() -> Limits {
    Limits {
        buffer_size: 4096,
        chunk_overlap: 256,
        max_in_memory_archive: 64 << 10,
        ..Limits::default()
    }
}

#[test]
fn members_are_named_by_their_chain() {
    let jar = ka::zip(&[("conf/a.txt", b"hello jar")]);
    let tgz = ka::gzip(&ka::tar(&[("lib/a.jar", &jar), ("b.txt", b"hello tar")]));
    let out = read_stream(&tgz, &Limits::default());
    let names: Vec<&str> = out.blobs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["in!/lib/a.jar!/conf/a.txt", "in!/lib/a.jar", "in!/b.txt"]
    );
    assert_eq!(out.blobs[0].1, b"hello jar");
    // The raw pass over the nested jar has its member's data blanked.
    assert!(!out.blobs[1].1.windows(9).any(|w| w == b"hello jar"));
    assert!(out.skipped.is_empty());
}

#[test]
fn a_large_nested_zip_is_read_from_its_local_headers() {
    let filler: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let inner = ka::zip_stored(&[("big.bin", &filler), ("z.txt", b"found me")]);
    let outer = ka::tar(&[("inner.zip", &inner)]);
    let out = read_stream(&outer, &small_limits());
    assert!(
        out.blobs
            .iter()
            .any(|(n, d)| n == "in!/inner.zip!/z.txt" && d == b"found me"),
        "{:?}",
        out.blobs.iter().map(|b| &b.0).collect::<Vec<_>>()
    );
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
}

#[test]
fn stacked_compression_is_bounded() {
    let mut data = b"innermost".to_vec();
    for _ in 0..5 {
        data = ka::gzip(&data);
    }
    let out = read_stream(&data, &Limits::default());
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].reason, SkipReason::ArchiveDepth);
    assert!(!out.blobs.iter().any(|(_, d)| d == b"innermost"));
}

#[test]
fn archives_off_means_raw_bytes() {
    let zip = ka::zip_stored(&[("a.txt", b"visible")]);
    let limits = Limits {
        archive_depth: 0,
        ..Limits::default()
    };
    let out = read_stream(&zip, &limits);
    assert_eq!(out.blobs.len(), 1);
    assert_eq!(out.blobs[0].0, "in");
    assert!(out.skipped.is_empty());
}

#[test]
fn display_names_are_safe() {
    let parent = Arc::new(Origin::Stream("x.tar".into()));
    let m = Origin::Member {
        parent,
        path: crate::display_member_name("/etc/\x1b[31mred\n"),
    };
    assert_eq!(m.display_path(), "x.tar!/etc/\\u{1b}[31mred\\n");
    assert_eq!(
        m.archive_chain(),
        Some(vec!["x.tar".into(), "etc/\\u{1b}[31mred\\n".into()])
    );
}

/// Valid archives of every kind, to be damaged.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let text = b"ARTIFACTORY_API_KEY=AKCp-not-a-real-key\n".repeat(40);
    let tar = ka::tar(&[("a/b.txt", &text), ("c.txt", b"short")]);
    let zip = ka::zip(&[("x/y.txt", &text), ("inner.jar", &ka::zip(&[("z", &text)]))]);
    let spec = ka::ImageSpec {
        repo_tag: "a/b:1".into(),
        env: vec!["K=v".into()],
        layers: vec![vec![("etc/x".into(), text.clone())]],
        history: vec![("RUN x".into(), false)],
        ..ka::ImageSpec::default()
    };
    vec![
        ("x.zip", zip.clone()),
        ("x.tar", tar.clone()),
        ("x.tgz", ka::gzip(&tar)),
        ("x.tbz", ka::bzip2(&tar)),
        ("x.txz", ka::xz(&tar)),
        ("x.tzst", ka::zstd(&tar)),
        ("img.tar", ka::docker_save(&spec, ka::DockerLayout::Legacy)),
        ("oci.tar", ka::docker_save(&spec, ka::DockerLayout::Oci)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes behind any magic number: the scan ends, without a panic.
    #[test]
    fn arbitrary_bytes_never_panic(
        magic in prop::sample::select(vec![
            &b""[..], b"PK\x03\x04", b"PK\x05\x06", &[0x1f, 0x8b, 8], &[0xFD, b'7', b'z', b'X', b'Z', 0],
            &[0x28, 0xB5, 0x2F, 0xFD], b"BZh91AY&SY",
        ]),
        body in prop::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend(body);
        read_stream(&bytes, &small_limits());
        read_file(&bytes, "x.jar", &small_limits());
    }

    /// Valid archives, damaged (bytes overwritten, then possibly truncated): the scan ends
    /// without a panic, from a stream and from a file.
    #[test]
    fn damaged_archives_never_panic(
        which in 0usize..8,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (name, mut bytes) = samples().swap_remove(which);
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        read_stream(&bytes, &small_limits());
        read_file(&bytes, name, &small_limits());
    }
}

/// Every input that once broke a fuzz target (`tests/fixtures/fuzzed/`) now scans, from a
/// stream and from a file, without a panic and in bounded time.
#[test]
fn fuzzed_inputs_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzzed");
    let mut n = 0;
    for entry in fs_err::read_dir(&dir).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = fs_err::read(&path).expect("read");
        let started = std::time::Instant::now();
        read_stream(&bytes, &small_limits());
        read_file(&bytes, "x.jar", &small_limits());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{} took {:?}",
            path.display(),
            started.elapsed()
        );
        n += 1;
    }
    eprintln!("replayed {n} fuzzed inputs");
}

#[test]
fn undamaged_samples_scan_cleanly() {
    for (name, bytes) in samples() {
        let from_file = read_file(&bytes, name, &Limits::default());
        assert!(
            from_file.skipped.is_empty(),
            "{name}: {:?}",
            from_file.skipped
        );
        assert!(from_file.done > 0, "{name}");
        let from_stream = read_stream(&bytes, &Limits::default());
        assert!(
            from_stream.skipped.is_empty(),
            "{name}: {:?}",
            from_stream.skipped
        );
    }
}
