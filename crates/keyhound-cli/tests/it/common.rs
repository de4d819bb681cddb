//! Helpers shared by the CLI tests.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// A data and config directory of this test process's own: the findings database, the
/// secret key and the user's keyhound.toml of every `keyhound` it runs go there, never to
/// the developer's home.
pub fn state_dir() -> &'static Path {
    static DIR: std::sync::LazyLock<tempfile::TempDir> =
        std::sync::LazyLock::new(|| tempfile::tempdir().expect("tempdir"));
    DIR.path()
}

/// The `keyhound` binary, with colour off, logs at their default, and its database and user
/// configuration in [`state_dir`].
pub fn keyhound() -> Command {
    let mut c = Command::cargo_bin("keyhound").expect("binary built");
    c.env_remove("KEYHOUND_LOG")
        .env_remove("KEYHOUND_DB")
        .env_remove("KEYHOUND_CONFIG")
        .env("NO_COLOR", "1")
        .env("XDG_DATA_HOME", state_dir().join("data"))
        .env("XDG_CONFIG_HOME", state_dir().join("config"));
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

/// A sandbox for commands that talk to instances: its own HOME (no user configuration, logs
/// under the temp dir) and the paths of the egress and audit logs.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn egress(&self) -> std::path::PathBuf {
        self.dir.path().join("egress.jsonl")
    }

    pub fn audit(&self) -> std::path::PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    /// `keyhound` with HOME in the sandbox, no inherited keyhound or Vault variables, and the
    /// egress and audit logs in the sandbox.
    pub fn cmd(&self) -> Command {
        let mut c = keyhound();
        c.current_dir(self.path())
            .env("HOME", self.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("KEYHOUND_CONFIG")
            .env_remove("KEYHOUND_JFROG_URL")
            .env_remove("KEYHOUND_JFROG_ADMIN_TOKEN")
            .env_remove("KEYHOUND_AUDIT_LOG")
            .env_remove("VAULT_TOKEN")
            .env_remove("VAULT_ADDR")
            .env("KEYHOUND_EGRESS_LOG", self.egress())
            .env("KEYHOUND_AUDIT_LOG", self.audit());
        c
    }

    /// Writes an admin token file (mode 0600) and returns its path.
    pub fn admin_file(&self, token: &str) -> std::path::PathBuf {
        let path = self.path().join("admin.token");
        fs_err::write(&path, format!("{token}\n")).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        path
    }

    /// The egress log records.
    pub fn egress_records(&self) -> Vec<Value> {
        read_jsonl(&self.egress())
    }

    /// The audit log records.
    pub fn audit_records(&self) -> Vec<Value> {
        read_jsonl(&self.audit())
    }
}

pub fn read_jsonl(path: &Path) -> Vec<Value> {
    match fs_err::read_to_string(path) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Output of a command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "invalid JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// Everything printed.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

pub fn run(mut c: Command) -> Run {
    let out = c.output().expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `keyhound inspect - --format json --validate ARGS` with `token` on stdin.
pub fn inspect_validate(sb: &Sandbox, token: &str, args: &[&str]) -> Run {
    let mut c = sb.cmd();
    c.args(["inspect", "-", "--format", "json", "--validate"])
        .args(args)
        .write_stdin(token.to_owned());
    run(c)
}
