//! Hostile and broken archives (#3): zip bombs, path traversal, a gzip stream corrupted
//! midway, truncated and garbage archives, and the entry and byte budgets. Each one is
//! reported with a clear reason, the rest of the scan completes, and nothing panics.

use std::time::{Duration, Instant};

use keyhound_testkit::archive as ka;
use keyhound_testkit::fake;

use crate::common::{locations, scan_json, write};

fn env(key: &str) -> String {
    format!("# deploy\nARTIFACTORY_API_KEY={key}\n")
}

/// Pseudo-random bytes that do not compress.
fn noise(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

fn assert_clean_failure(stderr: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("error: "), "{stderr}");
}

#[test]
fn issue_3_zip_bomb_single_high_ratio_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = fake::jfrog_api_key(600);
    // 64 MiB of zeros deflate to about 64 KiB (ratio ~1000).
    let zeros = vec![0u8; 64 << 20];
    write(
        dir.path(),
        "bomb.zip",
        ka::zip(&[("zeros.bin", &zeros), ("after/.env", env(&key).as_bytes())]),
    );
    write(dir.path(), "bomb.gz", ka::gzip(&zeros));
    let started = Instant::now();
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_clean_failure(&scan.stderr);
    assert_eq!(scan.json["summary"]["skipped"]["compression_ratio"], 2);
    let skipped = scan.json["summary"]["skipped_inputs"]
        .as_array()
        .expect("skips");
    let paths: Vec<&str> = skipped
        .iter()
        .map(|s| s["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["bomb.gz", "bomb.zip!/zeros.bin"]);
    assert!(
        skipped[1]["detail"]
            .as_str()
            .expect("detail")
            .contains("possible zip bomb"),
        "{skipped:#?}"
    );
    assert!(
        scan.stderr
            .contains("possible zip bombs (--max-archive-ratio)")
    );
    // The member after the bomb is still scanned.
    let found = locations(&scan.json);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, "bomb.zip!/after/.env");
    // A higher ratio limit lets it through.
    let scan = scan_json(dir.path(), &["--max-archive-ratio", "5000"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
}

/// 42.zip-style: archives of archives of archives, each fanning out, with large zero files
/// at the bottom.
fn bomb_tree(levels: usize, fan_out: usize, leaf: &[u8]) -> Vec<u8> {
    let mut inner = ka::zip(&[("0.dll", leaf)]);
    for _ in 0..levels {
        let names: Vec<String> = (0..fan_out).map(|i| format!("{i:x}.zip")).collect();
        let entries: Vec<(&str, &[u8])> = names
            .iter()
            .map(|n| (n.as_str(), inner.as_slice()))
            .collect();
        inner = ka::zip(&entries);
    }
    inner
}

#[test]
fn issue_3_zip_bomb_42_zip_style_nesting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = fake::jfrog_api_key(610);
    write(dir.path(), "42.zip", bomb_tree(4, 4, &vec![0u8; 8 << 20]));
    write(dir.path(), "ok/.env", env(&key));
    // Default depth 3: the fourth level is not opened, and every such archive is reported.
    let started = Instant::now();
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_clean_failure(&scan.stderr);
    assert_eq!(scan.json["summary"]["skipped"]["archive_depth"], 64);
    assert_eq!(locations(&scan.json).len(), 1);
    // Deeper: every bottom file trips the ratio limit after its first MiB.
    let started = Instant::now();
    let scan = scan_json(dir.path(), &["--archive-depth", "10"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(scan.json["summary"]["skipped"]["compression_ratio"], 256);
    // With no ratio limit, the byte budget stops it.
    let scan = scan_json(
        dir.path(),
        &[
            "--archive-depth",
            "10",
            "--max-archive-ratio",
            "0",
            "--max-archive-bytes",
            "100M",
        ],
    );
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(scan.json["summary"]["skipped"]["archive_too_large"], 1);
    let detail = &scan.json["summary"]["skipped_inputs"][0]["detail"];
    assert_eq!(
        detail,
        "more than 104857600 bytes extracted from one archive (--max-archive-bytes)"
    );
    assert_eq!(
        locations(&scan.json).len(),
        1,
        "the rest of the scan completes"
    );
}

#[test]
fn issue_3_tar_with_absolute_and_parent_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scan_root = dir.path().join("scan");
    let keys: Vec<String> = (0..3).map(|i| fake::jfrog_api_key(620 + i)).collect();
    let a = env(&keys[0]);
    let b = env(&keys[1]);
    let c = env(&keys[2]);
    write(
        &scan_root,
        "evil.tar",
        ka::tar(&[
            ("/etc/cron.d/evil", a.as_bytes()),
            ("../../outside/.env", b.as_bytes()),
            ("ok/\x1b[2Jreset.env", c.as_bytes()),
        ]),
    );
    let scan = scan_json(&scan_root, &["--show-secrets"]);
    // Nothing is extracted, so nothing can escape; the names are shown as stored, with
    // control characters escaped and one leading `/` dropped.
    let paths: Vec<String> = locations(&scan.json).into_iter().map(|l| l.1).collect();
    assert_eq!(
        paths,
        [
            "evil.tar!/../../outside/.env",
            "evil.tar!/etc/cron.d/evil",
            "evil.tar!/ok/\\u{1b}[2Jreset.env",
        ]
    );
    assert!(!scan.stdout.contains('\x1b'));
    assert!(!dir.path().join("outside").exists());
    let mut leftovers: Vec<_> = fs_err::read_dir(&scan_root)
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    leftovers.sort();
    assert_eq!(leftovers, ["evil.tar"]);
    // Nothing was lost, so this is not an error: the findings give exit 1.
    assert_eq!(scan.code, 1, "{}", scan.stderr);
}

#[test]
fn issue_3_gzip_corrupted_midway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = fake::jfrog_api_key(630);
    let after = fake::jfrog_api_key(631);
    let other = fake::jfrog_api_key(632);
    let first = env(&before);
    // Text that deflate codes with Huffman tables, so that damage breaks the decoding.
    let big: Vec<u8> = (0..40_000u64)
        .flat_map(|i| format!("line {i} value {}\n", i * 7919 % 10007).into_bytes())
        .collect();
    let last = env(&after);
    let mut tgz = ka::gzip(&ka::tar(&[
        ("a/.env", first.as_bytes()),
        ("b/blob.bin", &big),
        ("c/.env", last.as_bytes()),
    ]));
    // Overwrite bytes in the middle of the deflate stream (inside the second member).
    let mid = tgz.len() / 2;
    for b in &mut tgz[mid..mid + 256] {
        *b = 0xff;
    }
    write(dir.path(), "logs.tgz", &tgz);
    // A plain .gz log cut off midway: the lines before the cut are scanned.
    let mut log = String::new();
    log.push_str(&env(&other));
    log.push_str(&String::from_utf8_lossy(&noise(300_000, 9)).replace('\n', " "));
    let gz = ka::gzip(log.as_bytes());
    write(dir.path(), "app.log.gz", &gz[..gz.len() * 2 / 3]);
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_clean_failure(&scan.stderr);
    let found = locations(&scan.json);
    assert!(
        found
            .iter()
            .any(|l| l.1 == "logs.tgz!/a/.env" && l.3 == before)
    );
    assert!(found.iter().any(|l| l.1 == "app.log.gz" && l.3 == other));
    assert!(found.iter().all(|l| l.3 != after), "{found:#?}");
    // One report per broken stream. Here the damaged deflate data still decodes (to
    // garbage), and the tar header after it is what breaks.
    let skipped = scan.json["summary"]["skipped_inputs"]
        .as_array()
        .expect("skips");
    assert_eq!(skipped.len(), 2, "{skipped:#?}");
    assert_eq!(skipped[0]["path"], "app.log.gz");
    assert_eq!(skipped[0]["reason"], "corrupt");
    assert!(
        skipped[0]["detail"]
            .as_str()
            .expect("detail")
            .starts_with("corrupt gzip stream"),
        "{skipped:#?}"
    );
    assert_eq!(skipped[1]["path"], "logs.tgz", "{skipped:#?}");
    assert_eq!(skipped[1]["reason"], "corrupt");
    assert!(
        skipped[1]["detail"]
            .as_str()
            .expect("detail")
            .starts_with("corrupt tar archive"),
        "{skipped:#?}"
    );
}

#[test]
fn truncated_and_garbage_archives_are_reported_and_what_can_be_read_is_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k1 = fake::jfrog_api_key(640);
    let k2 = fake::jfrog_api_key(641);
    let good = fake::jfrog_api_key(642);
    let e1 = env(&k1);
    let e2 = env(&k2);
    let filler = noise(100_000, 3);
    // A zip cut before its central directory: the first member is recovered from its
    // local header.
    let zip = ka::zip(&[
        ("a/.env", e1.as_bytes()),
        ("b.bin", &filler),
        ("c/.env", e2.as_bytes()),
    ]);
    write(dir.path(), "cut.zip", &zip[..zip.len() / 2]);
    // A tar cut in the middle of a member.
    let tar = ka::tar(&[("a/.env", e2.as_bytes()), ("b.bin", &filler)]);
    write(dir.path(), "cut.tar", &tar[..tar.len() / 2]);
    // Magic bytes followed by junk.
    let mut junk = b"PK\x03\x04".to_vec();
    junk.extend(noise(2000, 5));
    write(dir.path(), "junk.zip", &junk);
    for (name, magic) in [
        ("junk.xz", &[0xFD, b'7', b'z', b'X', b'Z', 0][..]),
        ("junk.zst", &[0x28, 0xB5, 0x2F, 0xFD][..]),
        ("junk.bz2", b"BZh91AY&SY"),
        ("junk.gz", &[0x1f, 0x8b, 8, 0][..]),
    ] {
        let mut j = magic.to_vec();
        j.extend(noise(2000, 11));
        write(dir.path(), name, &j);
    }
    write(dir.path(), "fine/.env", env(&good));
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_clean_failure(&scan.stderr);
    let found = locations(&scan.json);
    assert!(found.iter().any(|l| l.1 == "fine/.env" && l.3 == good));
    assert!(
        found.iter().any(|l| l.1 == "cut.zip!/a/.env" && l.3 == k1),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|l| l.1 == "cut.tar!/a/.env" && l.3 == k2),
        "{found:#?}"
    );
    let skipped = scan.json["summary"]["skipped_inputs"]
        .as_array()
        .expect("skips");
    let files: std::collections::BTreeSet<&str> = skipped
        .iter()
        .map(|s| {
            assert_eq!(s["reason"], "corrupt", "{s}");
            s["path"]
                .as_str()
                .expect("path")
                .split("!/")
                .next()
                .expect("file")
        })
        .collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        [
            "cut.tar", "cut.zip", "junk.bz2", "junk.gz", "junk.xz", "junk.zip", "junk.zst"
        ],
        "{skipped:#?}"
    );
    for s in skipped {
        let detail = s["detail"].as_str().expect("detail");
        assert!(detail.starts_with("corrupt "), "a clear message: {detail}");
    }
}

#[test]
fn entry_and_byte_budgets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<(String, String)> = (0..10)
        .map(|i| (format!("f{i}.txt"), format!("line {i}\n")))
        .collect();
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_bytes()))
        .collect();
    write(dir.path(), "many.tar", ka::tar(&entries));
    let scan = scan_json(dir.path(), &["--max-archive-entries", "4"]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(scan.json["summary"]["skipped"]["too_many_entries"], 1);
    assert_eq!(scan.json["summary"]["inputs"], 4);
    assert!(
        scan.stderr
            .contains("1 archives with too many entries (--max-archive-entries)"),
        "{}",
        scan.stderr
    );
    let scan = scan_json(dir.path(), &["--max-archive-bytes", "30"]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(scan.json["summary"]["skipped"]["archive_too_large"], 1);
    assert!(scan.json["summary"]["bytes"].as_u64().expect("bytes") <= 30);
}
