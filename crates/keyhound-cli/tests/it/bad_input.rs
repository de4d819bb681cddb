//! Bad input never aborts a scan: a 2 GiB sparse file, binary junk, invalid UTF-8, UTF-16
//! text, a FIFO, an unreadable file, a symlink loop and 1,000-deep nesting.

use std::path::Path;

use keyhound_testkit::fake;

use crate::common::{is_root, keyhound, locations, scan_json, write};

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo failed");
}

/// Builds the hostile tree; returns the secrets that must still be found, by file.
fn hostile_tree(root: &Path) -> Vec<(String, String)> {
    let mut must_find = Vec::new();
    // A 2 GiB sparse file: larger than the default --max-file-size.
    let sparse = fs_err::File::create(root.join("huge.img")).expect("create");
    sparse.set_len(2 << 30).expect("sparse");
    // Binary junk with a key in it, and invalid UTF-8 around it.
    let key = fake::jfrog_api_key(11);
    let mut junk: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    junk.extend_from_slice(b"\n\xff\xfe\xc3\x28 key=");
    junk.extend_from_slice(key.as_bytes());
    junk.extend_from_slice(b" \xed\xa0\x80\n");
    fs_err::write(root.join("blob.bin"), junk).expect("write");
    must_find.push(("blob.bin".to_owned(), key));
    // UTF-16LE text with a BOM, and UTF-16BE without one.
    let token = fake::jfrog_reference_token(12, 0);
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            format!("line one\r\nARTIFACTORY_TOKEN={token}\r\n")
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    fs_err::write(root.join("win.ps1"), le).expect("write");
    must_find.push(("win.ps1".to_owned(), token));
    let key2 = fake::jfrog_api_key(13);
    let be: Vec<u8> = format!("REM settings for the build agent\nset ARTIFACTORY_API_KEY={key2}\n")
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    fs_err::write(root.join("agent.cmd"), be).expect("write");
    must_find.push(("agent.cmd".to_owned(), key2));
    // A FIFO: opening it would block forever.
    mkfifo(&root.join("pipe"));
    // An unreadable file.
    write(
        root,
        "secret/locked.txt",
        format!("key={}\n", fake::jfrog_api_key(14)),
    );
    fs_err::set_permissions(
        root.join("secret/locked.txt"),
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .expect("chmod");
    // A symlink loop and a broken symlink.
    std::os::unix::fs::symlink(".", root.join("loop")).expect("symlink");
    std::os::unix::fs::symlink("does-not-exist", root.join("dangling")).expect("symlink");
    // 1,000-deep nesting with a secret at the bottom.
    let deep: String = std::iter::repeat_n("d", 1000).collect::<Vec<_>>().join("/");
    let key3 = fake::jfrog_api_key(15);
    write(
        root,
        &format!("{deep}/.env"),
        format!("ARTIFACTORY_API_KEY={key3}\n"),
    );
    must_find.push((format!("{deep}/.env"), key3));
    // A file name that is not UTF-8.
    let odd = std::ffi::OsStr::from_bytes_compat(b"caf\xe9.env");
    let key4 = fake::jfrog_api_key(16);
    fs_err::write(root.join(odd), format!("ARTIFACTORY_API_KEY={key4}\n")).expect("write");
    must_find.push(("caf\u{fffd}.env".to_owned(), key4));
    must_find
}

trait FromBytesCompat {
    fn from_bytes_compat(b: &[u8]) -> &std::ffi::OsStr;
}
impl FromBytesCompat for std::ffi::OsStr {
    fn from_bytes_compat(b: &[u8]) -> &std::ffi::OsStr {
        std::os::unix::ffi::OsStrExt::from_bytes(b)
    }
}

#[test]
fn hostile_tree_finishes_reports_skips_and_finds_what_it_can() {
    let dir = tempfile::tempdir().expect("tempdir");
    let must_find = hostile_tree(dir.path());
    // Root reads everything, so drop to `nobody` to make the unreadable file unreadable.
    let root = is_root();
    if root {
        let mut p = dir.path().to_path_buf();
        while let Some(parent) = p.parent() {
            let _ = std::process::Command::new("chmod")
                .arg("o+rx")
                .arg(&p)
                .status();
            p = parent.to_path_buf();
        }
        let _ = std::process::Command::new("chmod")
            .args(["-R", "o+rX"])
            .arg(dir.path())
            .status();
        fs_err::set_permissions(
            dir.path().join("secret/locked.txt"),
            std::os::unix::fs::PermissionsExt::from_mode(0o000),
        )
        .expect("chmod");
    }
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let mut cmd = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let out = cmd
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args([
            "scan",
            ".",
            "--format",
            "json",
            "--show-secrets",
            "-v",
            "--no-store",
        ])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let found = locations(&json);
    for (path, secret) in &must_find {
        assert!(
            found.iter().any(|f| &f.1 == path && &f.3 == secret),
            "not found in {path}: {found:#?}"
        );
    }
    let skipped = &json["summary"]["skipped"];
    assert_eq!(skipped["too_large"], 1, "{stderr}");
    assert_eq!(skipped["special_file"], 1, "{stderr}");
    assert_eq!(skipped["unreadable"], 1, "{stderr}");
    assert_eq!(skipped["symlink_not_followed"], 2, "{stderr}");
    assert!(stderr.contains("skipped: 1 unreadable"), "{stderr}");
    assert!(stderr.contains("huge.img (too_large)"), "{stderr}");
    // An unreadable input is an error: exit 2 even with findings.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Following symlinks reports the loop and the broken link instead.
    let scan = scan_json(dir.path(), &["--follow-symlinks", "--exclude", "secret"]);
    let skipped = &scan.json["summary"]["skipped"];
    assert_eq!(skipped["symlink_loop"], 1, "{}", scan.stderr);
    assert_eq!(skipped["broken_symlink"], 1, "{}", scan.stderr);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
}

#[test]
fn utf16_location_points_at_the_right_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = fake::jfrog_reference_token(21, 0);
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            format!("a\r\nb\r\nx = \"{token}\"\r\n")
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    fs_err::write(dir.path().join("w.txt"), le).expect("write");
    let scan = scan_json(dir.path(), &[]);
    let loc = &scan.json["findings"][0]["locations"][0];
    assert_eq!(loc["line"], 3);
    assert_eq!(loc["column"], 6);
    assert_eq!(loc["encoding"], "utf-16le");
}

#[test]
fn large_files_are_scanned_in_chunks_with_correct_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 40 MiB of short lines (more than two read buffers), secrets near a chunk boundary and
    // at the end.
    let line = "the quick brown fox jumps over the lazy dog 0123456789\n";
    let lines_per_mib = (1 << 20) / line.len();
    let mut text = String::with_capacity(41 << 20);
    let keys: Vec<String> = (0..3).map(|i| fake::jfrog_api_key(30 + i)).collect();
    let mut expect = Vec::new();
    let mut n = 0u64;
    for mib in 0..40 {
        for _ in 0..lines_per_mib {
            text.push_str(line);
            n += 1;
        }
        if mib == 15 || mib == 31 {
            let k = &keys[(mib / 16) as usize];
            text.push_str(&format!("token={k}\n"));
            n += 1;
            expect.push((k.clone(), n));
        }
    }
    text.push_str(&format!("last {}", keys[2]));
    expect.push((keys[2].clone(), n + 1));
    fs_err::write(dir.path().join("big.log"), &text).expect("write");
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    let found = locations(&scan.json);
    assert_eq!(found.len(), 3, "{found:#?}");
    for (k, line) in expect {
        assert!(
            found.iter().any(|f| f.3 == k && f.2 == line),
            "{k} at {line}: {found:#?}"
        );
    }
}

#[test]
fn stdin_is_scanned_with_its_name() {
    let key = fake::jfrog_api_key(40);
    let out = keyhound()
        .args([
            "scan",
            "-",
            "--stdin-name",
            "jenkins/job-42/console",
            "--format",
            "json",
        ])
        .write_stdin(format!(
            "[Pipeline] sh\n+ curl -H 'X-JFrog-Art-Api: {key}' https://x.jfrog.io/\n"
        ))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["findings"][0]["locations"][0]["path"],
        "jenkins/job-42/console"
    );
    assert_eq!(json["findings"][0]["locations"][0]["line"], 2);
}
