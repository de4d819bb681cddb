//! Acceptance (#6): a gitleaks configuration with three custom rules is loaded with `--rules`,
//! converted, and its rules fire, with their keywords, secret groups, entropy, allowlists
//! (global and per rule) and path restriction.

use crate::common::{keyhound, locations, scan_json, write};

const GITLEAKS: &str = r#"
title = "acme gitleaks config"

[extend]
useDefault = true

[allowlist]
description = "vendored test data"
paths = ['''(^|/)testdata/''']

[[rules]]
id = "acme-deploy-token"
description = "ACME deploy token"
regex = '''acme_dt_[a-z0-9]{24}'''
keywords = ["acme_dt_"]
tags = ["acme", "deploy"]

[[rules]]
id = "internal-db-password"
description = "Password of the internal database"
regex = '''(?i)internal_db_pass(?:word)?\s*=\s*"([^"]{8,})"'''
secretGroup = 1
entropy = 2.5
keywords = ["internal_db_pass"]
[[rules.allowlists]]
description = "documentation values"
stopwords = ["example"]

[[rules]]
id = "legacy-service-key"
description = "Legacy service key"
regex = '''\b(svc)_([A-F0-9]{32})\b'''
secretGroup = 2
keywords = ["svc_"]
path = '''\.(?:env|cfg)$'''
[[rules.allowlists]]
condition = "AND"
regexTarget = "line"
regexes = ['''#\s*rotated''']
paths = ['''^legacy/''']
"#;

const TOKEN: &str = "acme_dt_k3j4h5g6f7d8s9a0p1o2i3u4";
const DB_PASSWORD: &str = "Zq7!xL2m-K9pW4tR";
const SERVICE_KEY: &str = "0F1E2D3C4B5A69788796A5B4C3D2E1F0";

#[test]
fn issue_6_gitleaks_config_with_three_custom_rules_fires() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "gitleaks.toml", GITLEAKS);
    write(
        dir.path(),
        "src/deploy.sh",
        format!("export ACME_TOKEN={TOKEN}\n"),
    );
    write(
        dir.path(),
        "src/settings.py",
        format!(
            "INTERNAL_DB_PASSWORD = \"{DB_PASSWORD}\"\ninternal_db_pass = \"example-password-1\"\n"
        ),
    );
    write(
        dir.path(),
        "app/service.env",
        format!("KEY=svc_{SERVICE_KEY}\n"),
    );
    // Not reported: the rule's path restriction, the global path allowlist, and the AND
    // allowlist (line regex and path both hold).
    write(
        dir.path(),
        "app/service.py",
        format!("KEY = 'svc_{SERVICE_KEY}'\n"),
    );
    write(
        dir.path(),
        "testdata/fixture.sh",
        "export T=acme_dt_zzzzzzzzzzzzzzzzzzzzzzz1\n",
    );
    write(
        dir.path(),
        "legacy/old.env",
        "KEY=svc_1F1E2D3C4B5A69788796A5B4C3D2E1F0 # rotated\n",
    );
    let scan = scan_json(
        dir.path(),
        &[
            "src",
            "app",
            "testdata",
            "legacy",
            "--rules",
            "gitleaks.toml",
            "--show-secrets",
            "--only",
            "gitleaks.acme-deploy-token,gitleaks.internal-db-password,gitleaks.legacy-service-key",
        ],
    );
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let found = locations(&scan.json);
    let expected = vec![
        (
            "gitleaks.acme-deploy-token".to_owned(),
            "src/deploy.sh".to_owned(),
            1,
            TOKEN.to_owned(),
        ),
        (
            "gitleaks.internal-db-password".to_owned(),
            "src/settings.py".to_owned(),
            1,
            DB_PASSWORD.to_owned(),
        ),
        (
            "gitleaks.legacy-service-key".to_owned(),
            "app/service.env".to_owned(),
            1,
            SERVICE_KEY.to_owned(),
        ),
    ];
    assert_eq!(found, expected, "{}", scan.stdout);
    // The conversion notes are on stderr: gitleaks' default rules are replaced by keyhound's.
    assert!(scan.stderr.contains("useDefault"), "{}", scan.stderr);
}

#[test]
fn gitleaks_rules_are_listed_and_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "gitleaks.toml", GITLEAKS);
    let out = keyhound()
        .current_dir(dir.path())
        .args([
            "rules",
            "list",
            "--format",
            "json",
            "--rules",
            "gitleaks.toml",
            "-q",
        ])
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| r["provider"] == "gitleaks")
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "gitleaks.acme-deploy-token",
            "gitleaks.internal-db-password",
            "gitleaks.legacy-service-key"
        ]
    );
    keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "gitleaks.toml"])
        .assert()
        .code(0);
}

#[test]
fn a_gitleaks_regex_rust_cannot_compile_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "bad.toml",
        "[[rules]]\nid = \"quoted\"\nregex = '''\\Qa.b\\E[0-9]+'''\n\n[[rules]]\nid = \"ok\"\nregex = '''okay_[0-9]{8}'''\n",
    );
    let out = keyhound()
        .current_dir(dir.path())
        .args(["rules", "check", "bad.toml"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("gitleaks rule quoted") && stdout.contains("\\Q"),
        "{stdout}"
    );
    // Scanning still works with the rules that did convert.
    write(dir.path(), "x/a.txt", "okay_12345678\n");
    let scan = scan_json(
        dir.path(),
        &["x", "--rules", "bad.toml", "--only", "gitleaks.ok", "-q"],
    );
    assert_eq!(scan.json["findings"].as_array().map(Vec::len), Some(1));
}
