//! Exit codes are API: 0 clean, 1 findings, 2 error. One test per code.

use keyhound_testkit::fake;

use crate::common::{keyhound, write};

#[test]
fn exit_0_when_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a.txt", "nothing here\n");
    keyhound()
        .current_dir(dir.path())
        .args(["scan", "."])
        .assert()
        .code(0);
}

#[test]
fn exit_1_when_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".env",
        format!("ARTIFACTORY_API_KEY={}\n", fake::jfrog_api_key(1)),
    );
    keyhound()
        .current_dir(dir.path())
        .args(["scan", "."])
        .assert()
        .code(1);
}

#[test]
fn exit_zero_flag_turns_findings_into_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".env",
        format!("ARTIFACTORY_API_KEY={}\n", fake::jfrog_api_key(1)),
    );
    keyhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--exit-zero"])
        .assert()
        .code(0);
}

#[test]
fn exit_2_on_a_path_that_does_not_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", "nope", "--exit-zero"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 invalid paths"), "{stderr}");
}

#[test]
fn exit_2_on_an_unknown_rule_id_with_a_hint() {
    let out = keyhound()
        .args(["scan", ".", "--only", "keyhound.nope.1"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: unknown rule id: keyhound.nope.1"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: `keyhound rules list`"), "{stderr}");
}

#[test]
fn exit_2_on_bad_usage() {
    keyhound()
        .args(["scan", "--format", "yaml"])
        .assert()
        .code(2);
}
