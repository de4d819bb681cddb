//! CLI output, snapshot-tested with insta (STYLE 16): exit code, stdout and stderr, with
//! temporary paths and timings filtered. Review changes with `cargo insta review`.

use keyhound_testkit::fake;

use crate::common::{keyhound, write};

/// Runs keyhound in `dir` and renders exit code, stdout and stderr as one snapshot text.
fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let out = keyhound()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    format!(
        "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"in [0-9]+\.[0-9]+ s, [0-9]+\.[0-9]+ MB/s",
            "in [TIME] s, [RATE] MB/s",
        ),
        (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
        (
            r#""duration_seconds": [0-9.e-]+"#,
            r#""duration_seconds": "[DURATION]""#,
        ),
        (
            r#"("name": "keyhound",\s+"version": )"[^"]*""#,
            r#"$1"[VERSION]""#,
        ),
    ]
}

/// A small tree with one API key in two files and a reference token in a third.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let api_key = fake::jfrog_api_key(4242);
    let reference = fake::jfrog_reference_token(4243, 0);
    write(
        dir.path(),
        ".npmrc",
        format!(
            "registry=https://acme.jfrog.io/artifactory/api/npm/npm/\n//acme.jfrog.io/artifactory/api/npm/npm/:_password={api_key}\n"
        ),
    );
    write(
        dir.path(),
        "ci/deploy.sh",
        format!(
            "#!/bin/sh\ncurl -H \"X-JFrog-Art-Api: {api_key}\" -T app.tgz https://acme.jfrog.io/artifactory/libs/\n"
        ),
    );
    write(
        dir.path(),
        "app/settings.py",
        format!("ARTIFACTORY_TOKEN = \"{reference}\"\n"),
    );
    write(dir.path(), "README.md", "nothing to see here\n");
    dir
}

#[test]
fn scan_text_output() {
    let dir = tree();
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run(dir.path(), &["scan", "--git-history", "none", "."]));
    });
}

#[test]
fn scan_json_output() {
    let dir = tree();
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run(
            dir.path(),
            &["scan", "--git-history", "none", "--format", "json", "-q", "."]
        ));
    });
}

#[test]
fn scan_csv_output() {
    let dir = tree();
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run(
            dir.path(),
            &["scan", "--git-history", "none", "--format", "csv", "-q", "."]
        ));
    });
}

#[test]
fn scan_without_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "README.md", "nothing to see here\n");
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run(dir.path(), &["scan", "."]));
    });
}

#[test]
fn unknown_rule_id_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    insta::assert_snapshot!(run(dir.path(), &["scan", "--only", "keyhound.nope.1", "."]), @r"
    exit code: 2
    ----- stdout -----
    ----- stderr -----
    error: unknown rule id: keyhound.nope.1
    hint: `keyhound rules list` shows every rule id
    ");
}

#[test]
fn rules_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    insta::assert_snapshot!(run(dir.path(), &["rules", "list"]));
}
