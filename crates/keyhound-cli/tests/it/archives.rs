//! Archives (#3): every format, nesting to --archive-depth and beyond, the raw-bytes pass,
//! and acceptance 2 (a war holding a jar holding a settings.xml).

use keyhound_testkit::archive as ka;
use keyhound_testkit::fake;
use keyhound_testkit::plant::TEMPLATES;

use crate::common::{keyhound, locations, scan_json, write};

/// A `.env` with a key on line 2, padded with repetitive lines so that deflate really
/// compresses it (tiny inputs are stored verbatim, even in "deflated" members).
fn env_line(seed: u64) -> (String, String) {
    let key = fake::jfrog_api_key(seed);
    let pad = "# the deploy job reads this file; keep it out of version control\n".repeat(20);
    (format!("# deploy\nARTIFACTORY_API_KEY={key}\n{pad}"), key)
}

/// Acceptance 2 of issue #3: a war holding a jar holding a `settings.xml` with a fake
/// Artifactory password is found, with the nested path.
#[test]
fn issue_3_war_holding_a_jar_holding_settings_xml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = TEMPLATES
        .iter()
        .find(|t| t.name == "maven-settings")
        .expect("template");
    let snippet = (t.render)(77);
    let jar = ka::zip(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("conf/settings.xml", snippet.text.as_bytes()),
    ]);
    let war = ka::zip(&[
        ("WEB-INF/web.xml", b"<web-app/>\n"),
        ("WEB-INF/lib/a.jar", &jar),
    ]);
    write(dir.path(), "app.war", &war);
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let found = locations(&scan.json);
    let path = "app.war!/WEB-INF/lib/a.jar!/conf/settings.xml";
    for e in &snippet.expected {
        let want = (
            e.rule_id.to_owned(),
            path.to_owned(),
            e.line,
            e.secret.clone(),
        );
        assert!(found.contains(&want), "{want:?} not in {found:#?}");
    }
    let pw = scan.json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule_id"] == "keyhound.jfrog.9")
        .expect("password finding");
    assert_eq!(
        pw["locations"][0]["archive_chain"],
        serde_json::json!(["app.war", "WEB-INF/lib/a.jar", "conf/settings.xml"])
    );
    // The text report prints the same path.
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{path}:")), "{stdout}");
}

#[test]
fn every_archive_format_is_opened_by_its_magic_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut expect = Vec::new();
    let mut seed = 100;
    let mut next = |name: &str| {
        seed += 1;
        let (text, key) = env_line(seed);
        expect.push((name.to_owned(), key));
        text
    };
    // The zip family, including a misleading extension: detection is by content.
    for ext in [
        "zip", "jar", "war", "ear", "aar", "whl", "nupkg", "apk", "bin",
    ] {
        let text = next(&format!("pkg.{ext}!/config/.env"));
        write(
            dir.path(),
            &format!("pkg.{ext}"),
            ka::zip(&[("config/.env", text.as_bytes())]),
        );
    }
    let text = next("plain.tar!/etc/app.env");
    write(
        dir.path(),
        "plain.tar",
        ka::tar(&[("etc/app.env", text.as_bytes())]),
    );
    let text = next("bundle.tgz!/etc/app.env");
    write(
        dir.path(),
        "bundle.tgz",
        ka::gzip(&ka::tar(&[("etc/app.env", text.as_bytes())])),
    );
    let text = next("bundle.tar.gz!/etc/app.env");
    write(
        dir.path(),
        "bundle.tar.gz",
        ka::gzip(&ka::tar(&[("etc/app.env", text.as_bytes())])),
    );
    let text = next("bundle.tar.bz2!/etc/app.env");
    write(
        dir.path(),
        "bundle.tar.bz2",
        ka::bzip2(&ka::tar(&[("etc/app.env", text.as_bytes())])),
    );
    let text = next("bundle.tar.xz!/etc/app.env");
    write(
        dir.path(),
        "bundle.tar.xz",
        ka::xz(&ka::tar(&[("etc/app.env", text.as_bytes())])),
    );
    let text = next("bundle.tar.zst!/etc/app.env");
    write(
        dir.path(),
        "bundle.tar.zst",
        ka::zstd(&ka::tar(&[("etc/app.env", text.as_bytes())])),
    );
    for (ext, f) in [
        ("gz", ka::gzip as fn(&[u8]) -> Vec<u8>),
        ("bz2", ka::bzip2),
        ("xz", ka::xz),
        ("zst", ka::zstd),
    ] {
        let name = format!("app.log.{ext}");
        let text = next(&name);
        write(dir.path(), &name, f(text.as_bytes()));
    }
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let found = locations(&scan.json);
    for (path, key) in &expect {
        let want = ("keyhound.jfrog.1".to_owned(), path.clone(), 2, key.clone());
        assert!(found.contains(&want), "{want:?} not in {found:#?}");
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    assert!(
        scan.json["summary"]["skipped"]
            .as_object()
            .expect("skips")
            .is_empty()
    );
}

/// `name.zip` whose member `next.zip` holds the next level, `levels` deep, with a `.env`
/// at the bottom. Alternates zip and tar.gz to cover both kinds of nesting.
fn nested(levels: usize, text: &[u8]) -> Vec<u8> {
    let mut inner = ka::zip(&[(".env", text)]);
    for i in 1..levels {
        inner = if i % 2 == 1 {
            ka::gzip(&ka::tar(&[("lib/next.tgz.inner", &inner)]))
        } else {
            ka::zip(&[("lib/next.zip.inner", &inner)])
        };
    }
    inner
}

fn nested_path(levels: usize) -> String {
    let mut parts = vec!["deep".to_owned()];
    for i in (1..levels).rev() {
        parts.push(if i % 2 == 1 {
            "lib/next.tgz.inner".into()
        } else {
            "lib/next.zip.inner".into()
        });
    }
    parts.push(".env".into());
    parts.join("!/")
}

#[test]
fn nesting_is_followed_to_the_depth_limit_and_reported_beyond_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (text3, key3) = env_line(201);
    let (text4, key4) = env_line(202);
    write(dir.path(), "a/deep", nested(3, text3.as_bytes()));
    write(dir.path(), "b/deep", nested(4, text4.as_bytes()));

    // Depth 3 (the default) reaches the .env three archives down.
    let scan = scan_json(&dir.path().join("a"), &["--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let found = locations(&scan.json);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, nested_path(3));
    assert_eq!(found[0].3, key3);

    // Four levels: the innermost zip is not opened; that is reported and exits 2.
    let scan = scan_json(&dir.path().join("b"), &["--show-secrets"]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(scan.json["summary"]["skipped"]["archive_depth"], 1);
    let skipped = &scan.json["summary"]["skipped_inputs"][0];
    assert_eq!(skipped["reason"], "archive_depth");
    assert!(
        skipped["path"]
            .as_str()
            .expect("path")
            .ends_with("lib/next.tgz.inner!/lib/next.zip.inner!/lib/next.tgz.inner"),
        "{skipped}"
    );
    assert!(
        scan.stderr
            .contains("1 archives nested too deep (--archive-depth)"),
        "{}",
        scan.stderr
    );
    assert!(locations(&scan.json).iter().all(|l| l.3 != key4));

    // Raising the limit finds it.
    let scan = scan_json(
        &dir.path().join("b"),
        &["--show-secrets", "--archive-depth", "4"],
    );
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let found = locations(&scan.json);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, nested_path(4));
}

#[test]
fn no_archives_scans_raw_bytes_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (deflated, _) = env_line(301);
    let (stored, stored_key) = env_line(302);
    write(
        dir.path(),
        "d.zip",
        ka::zip(&[(".env", deflated.as_bytes())]),
    );
    write(
        dir.path(),
        "s.zip",
        ka::zip_stored(&[(".env", stored.as_bytes())]),
    );
    let scan = scan_json(dir.path(), &["--show-secrets", "--no-archives"]);
    let found = locations(&scan.json);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, "s.zip");
    assert_eq!(found[0].3, stored_key);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    // `--archive-depth 0` is the same.
    let again = scan_json(dir.path(), &["--show-secrets", "--archive-depth", "0"]);
    assert_eq!(locations(&again.json), found);
}

#[test]
fn zip_bytes_outside_members_are_scanned_and_stored_members_reported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stored, stored_key) = env_line(401);
    let prefix_key = fake::jfrog_api_key(402);
    let appended_key = fake::jfrog_api_key(403);
    // A launcher script before the archive (a "fully executable" jar) and data after it.
    let mut bytes =
        format!("#!/bin/sh\n# ARTIFACTORY_API_KEY={prefix_key}\nexec java -jar \"$0\"\n")
            .into_bytes();
    let script_len = bytes.len();
    bytes.extend(ka::zip_stored(&[("app/.env", stored.as_bytes())]));
    bytes.extend(format!("\ntrailer {appended_key}\n").as_bytes());
    write(dir.path(), "app.jar", &bytes);
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    let found = locations(&scan.json);
    // The jar is found behind its prefix by its end record (the name says it is a jar).
    let paths: std::collections::BTreeSet<(&str, &str)> =
        found.iter().map(|l| (l.1.as_str(), l.3.as_str())).collect();
    let want: std::collections::BTreeSet<(&str, &str)> = [
        ("app.jar", appended_key.as_str()),
        ("app.jar", prefix_key.as_str()),
        ("app.jar!/app/.env", stored_key.as_str()),
    ]
    .into_iter()
    .collect();
    assert_eq!(paths, want, "{found:#?}");
    let prefix_loc = found.iter().find(|l| l.3 == prefix_key).expect("prefix");
    assert_eq!(prefix_loc.2, 2, "lines of the raw pass are the file's");
    assert!(script_len > 0);

    // A plain zip: the stored member is found decoded, once; the trailer in the raw pass.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = ka::zip_stored(&[("app/.env", stored.as_bytes())]);
    bytes.extend(format!("\ntrailer {appended_key}\n").as_bytes());
    write(dir.path(), "app.zip", &bytes);
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    let found = locations(&scan.json);
    assert_eq!(
        found,
        vec![
            (
                "keyhound.jfrog.1".to_owned(),
                "app.zip".to_owned(),
                found
                    .iter()
                    .find(|l| l.3 == appended_key)
                    .map_or(0, |l| l.2),
                appended_key.clone()
            ),
            (
                "keyhound.jfrog.1".to_owned(),
                "app.zip!/app/.env".to_owned(),
                2,
                stored_key.clone()
            ),
        ],
        "the stored member is not reported again from the raw bytes"
    );
    assert_eq!(scan.code, 1, "{}", scan.stderr);
}
