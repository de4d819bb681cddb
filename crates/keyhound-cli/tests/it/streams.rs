//! Streams (#3): `keyhound scan -` with `--stdin-name`, larger than the read buffer, and
//! compressed or archived.

use keyhound_testkit::archive as ka;
use keyhound_testkit::fake;
use serde_json::Value;

use crate::common::{keyhound, locations};

fn scan_stdin(input: Vec<u8>, name: &str) -> (i32, Value, String) {
    let out = keyhound()
        .args([
            "scan",
            "-",
            "--stdin-name",
            name,
            "--format",
            "json",
            "--show-secrets",
        ])
        .write_stdin(input)
        .output()
        .expect("runs");
    let json = serde_json::from_slice(&out.stdout).expect("json");
    (
        out.status.code().expect("code"),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A 40 MiB console log (more than two 16 MiB read buffers) with keys near the first chunk
/// boundary, in the middle and on the last line.
fn big_log() -> (Vec<u8>, Vec<(String, u64)>) {
    // Lines vary like a real log's (a repeated line would compress more than
    // --max-archive-ratio allows).
    let mut x = 0x2545_f491_u64;
    let mut line = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        format!(
            "[{:08}] > Task :compile{:x} UP-TO-DATE ({} ms)\n",
            x % 99_999_999,
            x >> 40,
            x % 997
        )
    };
    let target = 40 << 20;
    let mut text = String::with_capacity(target + 4096);
    let mut expect = Vec::new();
    let mut n = 0u64;
    let marks = [(16 << 20) - 30, 25 << 20];
    let mut next_mark = 0;
    while text.len() < target {
        if next_mark < marks.len() && text.len() >= marks[next_mark] {
            let key = fake::jfrog_api_key(700 + next_mark as u64);
            text.push_str(&format!(
                "+ curl -H 'X-JFrog-Art-Api: {key}' https://x.jfrog.io/\n"
            ));
            n += 1;
            expect.push((key, n));
            next_mark += 1;
        }
        text.push_str(&line());
        n += 1;
    }
    let key = fake::jfrog_api_key(709);
    text.push_str(&format!("Finished: SUCCESS token={key}"));
    expect.push((key, n + 1));
    (text.into_bytes(), expect)
}

#[test]
fn stdin_larger_than_the_read_buffer_keeps_lines_and_name() {
    let (input, expect) = big_log();
    let (code, json, stderr) = scan_stdin(input.clone(), "jenkins/job-7/console");
    assert_eq!(code, 1, "{stderr}");
    let found = locations(&json);
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    for (key, line) in &expect {
        assert!(
            found
                .iter()
                .any(|l| &l.3 == key && l.2 == *line && l.1 == "jenkins/job-7/console"),
            "{key} at line {line}: {found:#?}"
        );
    }
    assert_eq!(json["summary"]["bytes"], input.len());
}

#[test]
fn compressed_stdin_is_decompressed() {
    // gzip of the 40 MiB log: lines are those of the decompressed text.
    let (input, expect) = big_log();
    let (code, json, stderr) = scan_stdin(ka::gzip(&input), "build.log");
    assert_eq!(code, 1, "{stderr}");
    let found = locations(&json);
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    for (key, line) in &expect {
        assert!(
            found
                .iter()
                .any(|l| &l.3 == key && l.2 == *line && l.1 == "build.log")
        );
    }
    let key = fake::jfrog_api_key(710);
    let text = format!("step 1\nstep 2\ntoken={key}\n");
    for (format, data) in [
        ("zstd", ka::zstd(text.as_bytes())),
        ("xz", ka::xz(text.as_bytes())),
        ("bzip2", ka::bzip2(text.as_bytes())),
    ] {
        let (code, json, stderr) = scan_stdin(data, "build.log");
        assert_eq!(code, 1, "{format}: {stderr}");
        let found = locations(&json);
        assert_eq!(found.len(), 1, "{format}: {found:#?}");
        assert_eq!(found[0].1, "build.log");
        assert_eq!(found[0].2, 3);
    }
}

#[test]
fn archives_on_stdin_are_opened() {
    let key = fake::jfrog_api_key(720);
    let key2 = fake::jfrog_api_key(721);
    let text = format!("ARTIFACTORY_API_KEY={key}\n");
    let text2 = format!("ARTIFACTORY_API_KEY={key2}\n");
    let tgz = ka::gzip(&ka::tar(&[("ws/.env", text.as_bytes())]));
    let (code, json, _) = scan_stdin(tgz, "workspace.tgz");
    assert_eq!(code, 1);
    assert_eq!(locations(&json)[0].1, "workspace.tgz!/ws/.env");
    let zip = ka::zip(&[("cfg/.env", text2.as_bytes())]);
    let (code, json, _) = scan_stdin(zip, "bundle.zip");
    assert_eq!(code, 1);
    assert_eq!(locations(&json)[0].1, "bundle.zip!/cfg/.env");
}
