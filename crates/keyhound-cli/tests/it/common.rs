//! Helpers shared by the CLI tests.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// The `keyhound` binary, with colour off and logs at their default.
pub fn keyhound() -> Command {
    let mut c = Command::cargo_bin("keyhound").expect("binary built");
    c.env_remove("KEYHOUND_LOG").env("NO_COLOR", "1");
    c
}

/// Output of a scan with `--format json`.
pub struct JsonScan {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `keyhound scan --format json ARGS` in `dir`.
pub fn scan_json(dir: &Path, args: &[&str]) -> JsonScan {
    let out = keyhound()
        .current_dir(dir)
        .arg("scan")
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("invalid JSON ({e}): {stdout}"));
    JsonScan {
        code: out.status.code().expect("exit code"),
        json,
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// (rule_id, path, line, secret) of every location of every finding; needs `--show-secrets`.
pub fn locations(json: &Value) -> Vec<(String, String, u64, String)> {
    let mut out = Vec::new();
    for f in json["findings"].as_array().expect("findings array") {
        for l in f["locations"].as_array().expect("locations") {
            out.push((
                f["rule_id"].as_str().expect("rule_id").to_owned(),
                l["path"].as_str().expect("path").to_owned(),
                l["line"].as_u64().expect("line"),
                f["secret"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    out.sort();
    out
}

/// Writes `text` to `dir/rel`, creating parents.
pub fn write(dir: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    fs_err::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    fs_err::write(path, text).expect("write");
}

/// True when the tests run as root (permission tests then drop to `nobody`).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}
