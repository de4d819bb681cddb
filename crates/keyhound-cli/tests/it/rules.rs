//! `keyhound rules list|check`, `--rules`, `--only` and `--disable`.

use crate::common::{keyhound, scan_json, write};

const CUSTOM: &str = r#"
provider: acme
category: internal
rules:
  - id: acme.deploy-token.1
    name: ACME deploy token
    description: Internal deploy tokens.
    severity: high
    confidence: high
    anchors: [acmedt_]
    pattern: '(?:^|[^A-Za-z0-9])(?P<secret>acmedt_[a-z0-9]{24})(?:[^a-z0-9]|$)'
    examples:
      - {text: 'TOKEN=acmedt_0123456789abcdefghijklmn', secret: acmedt_0123456789abcdefghijklmn}
      - {text: '"t": "acmedt_zyxwvutsrqponmlkjihgfedc"', secret: acmedt_zyxwvutsrqponmlkjihgfedc}
      - {text: 'acmedt_aaaabbbbccccddddeeeeffff', secret: acmedt_aaaabbbbccccddddeeeeffff}
    negative_examples:
      - 'TOKEN=acmedt_short'
      - 'xacmedt_0123456789abcdefghijklmn'
      - 'TOKEN=ACMEDT_0123456789ABCDEFGHIJKLMN'
"#;

#[test]
fn rules_list_text_and_json() {
    let out = keyhound().args(["rules", "list"]).output().expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.lines().next().is_some_and(|l| l.starts_with("ID")));
    assert!(text.contains("keyhound.jfrog.1"));
    let out = keyhound()
        .args(["rules", "list", "--format", "json"])
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules = json.as_array().expect("array");
    assert!(rules.len() >= 20);
    assert!(
        rules
            .iter()
            .all(|r| r["category"].is_string() && r["confidence"].is_string())
    );
}

#[test]
fn builtin_rules_pass_check_with_warnings_as_errors() {
    keyhound()
        .args(["rules", "check", "--warnings-as-errors"])
        .assert()
        .code(0);
}

#[test]
fn custom_rules_check_and_fire() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "rules/acme.yml", CUSTOM);
    keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "rules"])
        .assert()
        .code(0);
    write(
        dir.path(),
        "src/app.env",
        "ACME=acmedt_k3j4h5g6f7d8s9a0p1o2i3u4\n",
    );
    let scan = scan_json(dir.path(), &["src", "--rules", "rules/acme.yml"]);
    assert_eq!(
        scan.json["findings"][0]["rule_id"], "acme.deploy-token.1",
        "{}",
        scan.stdout
    );
    // --only narrows to the custom rule, --disable removes it.
    let only = scan_json(
        dir.path(),
        &["src", "--rules", "rules", "--only", "acme.deploy-token.1"],
    );
    assert_eq!(only.json["findings"].as_array().map(Vec::len), Some(1));
    let disabled = scan_json(
        dir.path(),
        &[
            "src",
            "--rules",
            "rules",
            "--disable",
            "acme.deploy-token.1",
        ],
    );
    assert_eq!(disabled.json["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(disabled.code, 0);
}

#[test]
fn a_broken_custom_rule_fails_check_and_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = CUSTOM.replace("(?P<secret>acmedt_", "(?P<token>acmedt_");
    write(dir.path(), "bad.yml", broken);
    let out = keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "bad.yml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no named group `secret`"));
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--rules", "bad.yml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid custom rules"));
    // A negative example that matches fails the check.
    write(
        dir.path(),
        "neg.yml",
        CUSTOM.replace(
            "'xacmedt_0123456789abcdefghijklmn'",
            "'x acmedt_0123456789abcdefghijklmn'",
        ),
    );
    let out = keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "neg.yml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    // YAML that does not parse is reported as a check failure.
    write(dir.path(), "syntax.yml", "rules: [ {");
    keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "syntax.yml"])
        .assert()
        .code(1);
}
