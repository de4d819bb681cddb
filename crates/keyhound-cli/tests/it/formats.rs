//! Output formats: fields, redaction, SARIF structure (and validation when the official
//! validator is installed, as in CI).

use keyhound_testkit::fake;

use crate::common::{keyhound, scan_json, write};

fn tree() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = fake::jfrog_api_key(3);
    let token = fake::jfrog_reference_token(4, 0);
    write(
        dir.path(),
        ".env",
        format!("# ci\nARTIFACTORY_API_KEY={key}\n"),
    );
    write(
        dir.path(),
        "deploy/run.sh",
        format!(
            "echo start\ncurl -H \"Authorization: Bearer {token}\" https://a.jfrog.io/x\necho {key}\n"
        ),
    );
    (dir, key, token)
}

#[test]
fn json_has_the_documented_fields() {
    let (dir, key, _) = tree();
    let scan = scan_json(dir.path(), &[]);
    let findings = scan.json["findings"].as_array().expect("array");
    assert_eq!(findings.len(), 2);
    let api = findings
        .iter()
        .find(|f| f["rule_id"] == "keyhound.jfrog.1")
        .expect("api key finding");
    for field in [
        "rule_id",
        "rule_name",
        "severity",
        "confidence",
        "fingerprint",
        "redacted",
        "locations",
        "facts",
    ] {
        assert!(!api[field].is_null(), "missing {field}");
    }
    assert!(
        api.get("secret").is_none(),
        "secret only with --show-secrets"
    );
    assert_eq!(api["redacted"], format!("{}…{}", &key[..6], &key[70..]));
    let locs = api["locations"].as_array().expect("locations");
    assert_eq!(
        locs.len(),
        2,
        "one finding per distinct secret, every location"
    );
    assert_eq!(locs[0]["path"], ".env");
    assert_eq!(locs[0]["line"], 2);
    assert_eq!(locs[0]["column"], 21);
    assert_eq!(locs[0]["end_line"], 2);
    assert_eq!(locs[0]["end_column"], 21 + 73);
    assert_eq!(locs[1]["path"], "deploy/run.sh");
    assert_eq!(locs[1]["line"], 3);
    assert_eq!(api["facts"]["kind"], "api_key");
    assert_eq!(scan.json["summary"]["findings"], 2);
}

#[test]
fn no_format_leaks_a_secret_unless_asked() {
    let (dir, key, token) = tree();
    for format in ["text", "json", "jsonl", "sarif", "csv"] {
        let out = keyhound()
            .current_dir(dir.path())
            .args(["scan", ".", "-v", "--format", format])
            .output()
            .expect("runs");
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        let all = String::from_utf8_lossy(&all);
        assert!(
            !all.contains(&key) && !all.contains(&token),
            "{format} leaks a secret"
        );
        let shown = keyhound()
            .current_dir(dir.path())
            .args(["scan", ".", "--show-secrets", "--format", format])
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&shown.stdout);
        assert!(
            stdout.contains(&key),
            "{format} --show-secrets shows the value"
        );
    }
}

#[test]
fn jsonl_is_one_finding_per_line() {
    let (dir, _, _) = tree();
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "jsonl"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["fingerprint"].is_string()));
}

#[test]
fn csv_has_a_row_per_location() {
    let (dir, _, _) = tree();
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "csv"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.starts_with(
            "fingerprint,rule_id,rule_name,severity,confidence,secret,path,line,column"
        )
    );
    assert_eq!(text.lines().count(), 1 + 3);
}

#[test]
fn output_file_receives_the_report() {
    let (dir, _, _) = tree();
    let out_path = dir.path().join("report.sarif");
    keyhound()
        .current_dir(dir.path())
        .args(["scan", ".env", "deploy", "--format", "sarif", "--output"])
        .arg(&out_path)
        .assert()
        .code(1)
        .stdout("");
    let sarif: serde_json::Value =
        serde_json::from_slice(&fs_err::read(out_path).expect("written")).expect("json");
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn sarif_results_carry_stable_fingerprints() {
    let (dir, _, _) = tree();
    let run = || {
        let out = keyhound()
            .current_dir(dir.path())
            .args(["scan", ".", "--format", "sarif"])
            .output()
            .expect("runs");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("sarif json")
    };
    let a = run();
    let results = a["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    for r in results {
        assert!(r["partialFingerprints"]["keyhound/v1"].is_string());
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
    }
    // Moving the file does not change the fingerprint.
    fs_err::rename(dir.path().join(".env"), dir.path().join("moved.env")).expect("rename");
    let b = run();
    let fps = |v: &serde_json::Value| {
        let mut f: Vec<String> = v["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                r["partialFingerprints"]["keyhound/v1"]
                    .as_str()
                    .expect("fp")
                    .to_owned()
            })
            .collect();
        f.sort();
        f
    };
    assert_eq!(fps(&a), fps(&b));
}

/// Runs Microsoft's validator when `KEYHOUND_SARIF_VALIDATOR` points to `Sarif.Multitool`
/// (CI installs it); otherwise says so and passes.
#[test]
fn sarif_passes_the_official_validator() {
    let Some(validator) = std::env::var_os("KEYHOUND_SARIF_VALIDATOR") else {
        eprintln!(
            "skipped: set KEYHOUND_SARIF_VALIDATOR to the Sarif.Multitool binary to run this check"
        );
        return;
    };
    let (dir, _, _) = tree();
    let path = dir.path().join("out.sarif");
    keyhound()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "sarif", "-o"])
        .arg(&path)
        .assert()
        .code(1);
    let out = std::process::Command::new(validator)
        .arg("validate")
        .arg(&path)
        .output()
        .expect("validator runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.contains(": error ")).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
