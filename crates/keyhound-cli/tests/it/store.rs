//! The findings database from the command line (issue #5): runs, triage, diff, baselines,
//! inline and configured suppressions, secrets at rest, interrupted and concurrent runs,
//! incremental history scans. The tests that touch the database run on SQLite and on a real
//! PostgreSQL (see keyhound_testkit::postgres).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use keyhound_testkit::fake;
use keyhound_testkit::git_http::{commit_file, git, init};
use keyhound_testkit::postgres::TestDatabase;
use serde_json::Value;

use crate::common::{Run, keyhound, run, write};

/// One database for one test, on either backend.
enum Db {
    Sqlite(
        PathBuf,
        #[allow(dead_code, reason = "kept alive for the directory")] tempfile::TempDir,
    ),
    Postgres(TestDatabase),
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("tempdir");
        Db::Sqlite(dir.path().join("keyhound.db"), dir)
    }

    /// `None` when the PostgreSQL tests are explicitly skipped (`KEYHOUND_TEST_POSTGRES=skip`).
    fn postgres() -> Option<Db> {
        TestDatabase::new().map(Db::Postgres)
    }

    fn spec(&self) -> String {
        match self {
            Db::Sqlite(p, _) => p.display().to_string(),
            Db::Postgres(db) => db.url().to_owned(),
        }
    }

    /// `keyhound` on this database, in `dir`.
    fn cmd(&self, dir: &Path) -> Command {
        let mut c = keyhound();
        c.current_dir(dir).env("KEYHOUND_DB", self.spec());
        c
    }

    fn run(&self, dir: &Path, args: &[&str]) -> Run {
        let mut c = self.cmd(dir);
        c.args(args);
        run(c)
    }

    fn json(&self, dir: &Path, args: &[&str]) -> Value {
        let r = self.run(dir, args);
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.all());
        r.json()
    }
}

/// Defines a test on both backends from one body `fn(Db)`.
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn sqlite() {
                ($body)(Db::sqlite());
            }
            #[test]
            fn postgres() {
                if let Some(db) = Db::postgres() {
                    ($body)(db);
                }
            }
        }
    };
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("findings")
}

fn fingerprints(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = findings(v)
        .iter()
        .map(|f| f["fingerprint"].as_str().expect("fingerprint").to_owned())
        .collect();
    out.sort();
    out
}

/// A project with three distinct fake credentials.
fn project(dir: &Path) {
    write(
        dir,
        ".env",
        format!("ARTIFACTORY_API_KEY={}\n", fake::jfrog_api_key(11)),
    );
    write(
        dir,
        "ci/publish.sh",
        format!("export NPM_TOKEN={}\n", fake::npm_token(12)),
    );
    write(
        dir,
        "app/settings.py",
        format!("GITHUB_TOKEN = \"{}\"\n", fake::github_token("ghp_", 13)),
    );
}

/// Acceptance: scan, triage two findings as false-positive, add a secret (and move and
/// reformat a triaged one), scan again: the diff shows exactly one new finding and the
/// triaged ones keep their status.
fn triage_and_diff(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    project(root);
    let first = db.json(root, &["scan", ".", "--format", "json"]);
    assert_eq!(findings(&first).len(), 3);
    let listed = db.json(root, &["findings", "list", "--format", "json"]);
    assert_eq!(fingerprints(&listed), fingerprints(&first));
    for f in findings(&listed) {
        assert_eq!(f["status"], "open");
    }
    let triaged: Vec<String> = fingerprints(&first).into_iter().take(2).collect();
    for fp in &triaged {
        // A unique prefix is enough.
        let r = db.run(
            root,
            &[
                "findings",
                "triage",
                &fp[..10],
                "--status",
                "false-positive",
                "--comment",
                "test fixture",
                "--actor",
                "alice",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(
            r.stdout.contains("open -> false-positive (by alice)"),
            "{}",
            r.stdout
        );
    }

    // Move and reformat every file, and add one more secret.
    let moved = root.join("moved");
    fs_err::create_dir_all(&moved).expect("mkdir");
    for (from, to) in [
        (".env", "moved/prod.env"),
        ("ci/publish.sh", "moved/publish.sh"),
        ("app/settings.py", "moved/settings.py"),
    ] {
        let text = fs_err::read_to_string(root.join(from)).expect("read");
        fs_err::remove_file(root.join(from)).expect("rm");
        write(root, to, format!("\n\n    {}", text.replace('=', " = ")));
    }
    write(
        root,
        "deploy/.npmrc",
        format!("//registry.npmjs.org/:_authToken={}\n", fake::npm_token(14)),
    );
    let second = db.json(root, &["scan", ".", "--format", "json"]);
    assert_eq!(findings(&second).len(), 4);

    let diff = db.run(root, &["diff", "--format", "json"]);
    assert_eq!(diff.code, 1, "new findings exit 1: {}", diff.all());
    let d = diff.json();
    assert_eq!(d["new"].as_array().expect("new").len(), 1, "{d:#}");
    assert_eq!(d["fixed"].as_array().expect("fixed").len(), 0, "{d:#}");
    assert_eq!(
        d["unchanged"].as_array().expect("unchanged").len(),
        3,
        "{d:#}"
    );
    assert_eq!(d["changed"].as_array().expect("changed").len(), 0);
    assert_eq!(d["new"][0]["rule_id"], "keyhound.npm.1");
    assert_eq!(d["from"]["id"], 1);
    assert_eq!(d["to"]["id"], 2);

    let after = db.json(root, &["findings", "list", "--format", "json"]);
    for f in findings(&after) {
        let fp = f["fingerprint"].as_str().expect("fp");
        let want = if triaged.iter().any(|t| t == fp) {
            "false-positive"
        } else {
            "open"
        };
        assert_eq!(f["status"], want, "{f:#}");
    }
    let only_open = db.json(
        root,
        &["findings", "list", "--status", "open", "--format", "json"],
    );
    assert_eq!(findings(&only_open).len(), 2);

    let show = db.run(root, &["findings", "show", &triaged[0]]);
    assert_eq!(show.code, 0, "{}", show.all());
    assert!(show.stdout.contains("false-positive"), "{}", show.stdout);
    assert!(
        show.stdout.contains("by alice: test fixture"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("moved/"),
        "current location: {}",
        show.stdout
    );

    // The text diff names the new finding.
    let text = db.run(root, &["diff"]);
    assert!(text.stdout.contains("new (1)"), "{}", text.stdout);
    assert!(text.stdout.contains("keyhound.npm.1"), "{}", text.stdout);
}
on_both!(
    issue_5_triage_survives_and_diff_shows_one_new,
    triage_and_diff
);

/// Runs, with their status and counts; `runs show` of a run.
fn runs_listing(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path());
    db.json(dir.path(), &["scan", ".", "-q", "--format", "json"]);
    let runs = db.json(dir.path(), &["runs", "list", "--format", "json"]);
    let list = runs["runs"].as_array().expect("runs");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "completed");
    assert_eq!(list[0]["findings"], 3);
    let canonical = fs_err::canonicalize(dir.path()).expect("canonical");
    assert_eq!(list[0]["target"], canonical.display().to_string());
    let show = db.json(dir.path(), &["runs", "show", "1", "--format", "json"]);
    assert_eq!(findings(&show).len(), 3);
    let text = db.run(dir.path(), &["runs", "list"]);
    assert!(text.stdout.contains("completed"), "{}", text.stdout);
    let by_target = db.json(
        dir.path(),
        &["runs", "list", "--target", ".", "--format", "json"],
    );
    assert_eq!(by_target["runs"].as_array().expect("runs").len(), 1);
}
on_both!(issue_5_runs_are_recorded, runs_listing);

/// A scan killed with SIGKILL leaves the database consistent: the next start marks its run
/// interrupted and everything recorded before is there.
fn kill_minus_9(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path());
    db.json(dir.path(), &["scan", ".", "-q", "--format", "json"]);
    // A scan of stdin that never ends: its run is begun, then the process is killed.
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let mut child = std::process::Command::new(bin)
        .current_dir(dir.path())
        .env("KEYHOUND_DB", db.spec())
        .env("XDG_DATA_HOME", crate::common::state_dir().join("data"))
        .env("XDG_CONFIG_HOME", crate::common::state_dir().join("config"))
        .args(["scan", "-", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    use std::io::Write as _;
    writeln!(stdin, "NPM_TOKEN={}", fake::npm_token(21)).expect("write");
    let running = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let r = db.json(
            dir.path(),
            &["runs", "list", "--status", "running", "--format", "json"],
        );
        !r["runs"].as_array().expect("runs").is_empty()
    });
    assert!(running, "the second scan's run was begun");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    drop(stdin);

    let runs = db.json(dir.path(), &["runs", "list", "--format", "json"]);
    let list = runs["runs"].as_array().expect("runs");
    assert_eq!(list.len(), 2, "{runs:#}");
    assert_eq!(list[0]["status"], "interrupted", "{runs:#}");
    assert_eq!(list[1]["status"], "completed");
    let all = db.json(dir.path(), &["findings", "list", "--format", "json"]);
    assert_eq!(findings(&all).len(), 3, "nothing committed before is lost");
    // And the next scan works.
    let again = db.json(dir.path(), &["scan", ".", "-q", "--format", "json"]);
    assert_eq!(findings(&again).len(), 3);
}
on_both!(issue_5_kill_minus_9_marks_the_run_interrupted, kill_minus_9);

/// Two scans writing at once both complete, and nothing is lost.
fn concurrent(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (i, d) in [&a, &b].into_iter().enumerate() {
        for j in 0..30 {
            write(
                d,
                &format!("f{j}.env"),
                format!(
                    "NPM_TOKEN={}\nSHARED={}\n",
                    fake::npm_token(100 * (i as u64 + 1) + j),
                    fake::github_token("ghp_", 7)
                ),
            );
        }
    }
    let spawn = |d: &Path| {
        let mut c = db.cmd(dir.path());
        c.args(["scan", "-q", "--format", "json"]).arg(d);
        std::thread::spawn(move || run(c))
    };
    let (ra, rb) = (spawn(&a), spawn(&b));
    let (ra, rb) = (ra.join().expect("a"), rb.join().expect("b"));
    assert_eq!(ra.code, 1, "{}", ra.all());
    assert_eq!(rb.code, 1, "{}", rb.all());
    let runs = db.json(dir.path(), &["runs", "list", "--format", "json"]);
    let list = runs["runs"].as_array().expect("runs");
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|r| r["status"] == "completed"), "{runs:#}");
    let all = db.json(dir.path(), &["findings", "list", "--format", "json"]);
    assert_eq!(
        findings(&all).len(),
        61,
        "30 + 30 tokens and the shared one"
    );
    for run_id in ["1", "2"] {
        let r = db.json(
            dir.path(),
            &["findings", "list", "--run", run_id, "--format", "json"],
        );
        assert_eq!(findings(&r).len(), 31, "run {run_id}");
    }
}
on_both!(issue_5_two_scans_at_once_both_complete, concurrent);

/// Incremental history scans through the CLI: the second scan of a repository scans only the
/// new blobs and reports what a scan from scratch reports.
fn incremental(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = init(&dir.path().join("repo"));
    for i in 0..10 {
        commit_file(&repo, &format!("m{i}.py"), &format!("x = {i}\n"), "code");
    }
    commit_file(
        &repo,
        "old.env",
        &format!("NPM_TOKEN={}\n", fake::npm_token(31)),
        "env",
    );
    git(&repo, &["rm", "-q", "old.env"]);
    git(&repo, &["commit", "-q", "-m", "rm"]);
    git(&repo, &["gc", "-q"]);
    let scan = ["scan", "repo", "--format", "json", "--show-secrets"];
    let first = db.json(dir.path(), &scan);
    assert_eq!(findings(&first).len(), 1);
    commit_file(
        &repo,
        "new.env",
        &format!("GITHUB_TOKEN={}\n", fake::github_token("ghp_", 32)),
        "new",
    );
    let second = db.run(dir.path(), &scan);
    assert_eq!(second.code, 1, "{}", second.all());
    assert!(
        second.stderr.contains("known pack"),
        "the summary says what was skipped: {}",
        second.stderr
    );
    let history = &second.json()["summary"]["history"][0];
    assert_eq!(history["incremental"], true);
    assert_eq!(history["known_packs_skipped"], 1);
    let fresh = db.json(
        dir.path(),
        &[
            "scan",
            "repo",
            "--format",
            "json",
            "--show-secrets",
            "--no-incremental",
        ],
    );
    let strip = |v: &Value| -> Vec<Value> {
        let mut f = findings(v).clone();
        f.sort_by_key(|x| x["fingerprint"].to_string());
        f
    };
    assert_eq!(strip(&second.json()), strip(&fresh));
    assert_eq!(findings(&fresh).len(), 2);
}
on_both!(issue_5_incremental_history_scan, incremental);

#[test]
fn issue_5_no_store_records_nothing() {
    let db = Db::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path());
    let r = db.run(dir.path(), &["scan", ".", "--no-store", "-q"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let Db::Sqlite(path, _) = &db else {
        unreachable!()
    };
    assert!(!path.exists(), "no database was created");
}

#[test]
fn issue_5_default_database_is_created_under_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path());
    let data = dir.path().join("xdg-data");
    let mut c = keyhound();
    c.current_dir(dir.path())
        .env("XDG_DATA_HOME", &data)
        .args(["scan", ".", "-q"]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(data.join("keyhound/keyhound.db").is_file());
}

/// Secret values are never in the database unless asked for, and then only encrypted.
#[test]
fn issue_5_secrets_at_rest() {
    let db = Db::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path());
    let values = [
        fake::jfrog_api_key(11),
        fake::npm_token(12),
        fake::github_token("ghp_", 13),
    ];
    let Db::Sqlite(path, _) = &db else {
        unreachable!()
    };
    let raw_db = || -> Vec<u8> {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", path.display()));
            all.extend(fs_err::read(&p).unwrap_or_default());
        }
        all
    };
    let contains =
        |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    db.json(dir.path(), &["scan", ".", "-q", "--format", "json"]);
    let bytes = raw_db();
    assert!(!bytes.is_empty());
    for v in &values {
        assert!(!contains(&bytes, v), "a value is in the database");
    }
    // --show-secrets on a listing without stored values shows previews only.
    let listed = db.json(
        dir.path(),
        &["findings", "list", "--format", "json", "--show-secrets"],
    );
    assert!(findings(&listed).iter().all(|f| f.get("secret").is_none()));

    db.json(
        dir.path(),
        &["scan", ".", "-q", "--format", "json", "--store-secrets"],
    );
    let bytes = raw_db();
    for v in &values {
        assert!(!contains(&bytes, v), "a stored value is in plain text");
    }
    let key = crate::common::state_dir().join("config/keyhound/secret.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs_err::metadata(&key)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let shown = db.json(
        dir.path(),
        &["findings", "list", "--format", "json", "--show-secrets"],
    );
    let mut got: Vec<String> = findings(&shown)
        .iter()
        .map(|f| f["secret"].as_str().expect("value").to_owned())
        .collect();
    got.sort();
    let mut want = values.to_vec();
    want.sort();
    assert_eq!(got, want);

    // Losing the key loses the values, not the findings.
    fs_err::remove_file(&key).expect("rm key");
    let r = db.run(
        dir.path(),
        &["findings", "list", "--format", "json", "--show-secrets"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(findings(&r.json()).len(), 3);
    assert!(
        findings(&r.json())
            .iter()
            .all(|f| f.get("secret").is_none())
    );
}

/// A database from a newer keyhound is refused with a clear error, and left as it is.
#[test]
fn issue_5_newer_database_is_refused() {
    let db = Db::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path());
    db.json(dir.path(), &["scan", ".", "-q", "--format", "json"]);
    let Db::Sqlite(path, _) = &db else {
        unreachable!()
    };
    {
        let conn = rusqlite::Connection::open(path).expect("open");
        conn.execute(
            "INSERT INTO keyhound_schema (version, name, applied_at) VALUES (9999, 'from the future', 0)",
            [],
        )
        .expect("insert");
    }
    let before = fs_err::read(path).expect("read");
    let r = db.run(dir.path(), &["scan", ".", "-q"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("schema version 9999") && r.stderr.contains("upgrade keyhound"),
        "{}",
        r.stderr
    );
    assert_eq!(fs_err::read(path).expect("read"), before, "nothing written");
    let r = db.run(dir.path(), &["runs", "list"]);
    assert_eq!(r.code, 2);
}

#[test]
fn issue_5_db_migrate_and_status() {
    let db = Db::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    let r = db.run(dir.path(), &["db", "migrate", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = r.json();
    assert_eq!(v["backend"], "sqlite");
    assert!(
        !v["schema"]["applied"]
            .as_array()
            .expect("applied")
            .is_empty()
    );
    assert_eq!(v["schema"]["current"], v["schema"]["latest"]);
    let again = db
        .run(dir.path(), &["db", "migrate", "--format", "json"])
        .json();
    assert!(
        again["schema"]["applied"]
            .as_array()
            .expect("applied")
            .is_empty()
    );
    let status = db.run(dir.path(), &["db", "status"]);
    assert!(
        status.stdout.contains("schema    version"),
        "{}",
        status.stdout
    );
}

/// `--baseline` reports exactly the findings not in the baseline; the file holds no secret.
#[test]
fn issue_5_baseline_suppresses_exactly_the_old_findings() {
    let db = Db::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path());
    let r = db.run(dir.path(), &["baseline", "create", "."]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("3 findings written"), "{}", r.stderr);
    let file = dir.path().join(".keyhound-baseline.json");
    let text = fs_err::read_to_string(&file).expect("baseline");
    for v in [
        fake::jfrog_api_key(11),
        fake::npm_token(12),
        fake::github_token("ghp_", 13),
    ] {
        assert!(!text.contains(&v), "the baseline holds a secret");
        assert!(!text.contains(&v[..12]), "the baseline holds a preview");
    }
    let base: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(base["keyhound_baseline"], 1);
    assert_eq!(base["key"].as_str().expect("key").len(), 64);

    // The baseline's fingerprints are not the findings' own.
    let scan = db.json(dir.path(), &["scan", ".", "--format", "json"]);
    for f in findings(&scan) {
        assert!(!text.contains(f["fingerprint"].as_str().expect("fp")));
    }

    let clean = db.run(
        dir.path(),
        &["scan", ".", "--baseline", ".keyhound-baseline.json"],
    );
    assert_eq!(clean.code, 0, "{}", clean.all());
    assert!(
        clean.stderr.contains("3 by the baseline"),
        "{}",
        clean.stderr
    );

    // A moved baseline finding stays suppressed; a new one is reported.
    fs_err::rename(dir.path().join(".env"), dir.path().join("prod.env")).expect("mv");
    write(
        dir.path(),
        "new.env",
        format!("GITHUB_TOKEN={}\n", fake::github_token("ghp_", 41)),
    );
    let one = db.json(
        dir.path(),
        &[
            "scan",
            ".",
            "--baseline",
            ".keyhound-baseline.json",
            "--format",
            "json",
            "--show-secrets",
        ],
    );
    assert_eq!(findings(&one).len(), 1, "{one:#}");
    assert_eq!(findings(&one)[0]["secret"], fake::github_token("ghp_", 41));

    // From a recorded run, without scanning.
    let r = db.run(
        dir.path(),
        &[
            "baseline",
            "create",
            "--from-run",
            "1",
            "-o",
            "from-run.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let clean = db.run(
        dir.path(),
        &[
            "scan",
            ".",
            "--baseline",
            "from-run.json",
            "--exclude",
            "new.env",
        ],
    );
    assert_eq!(clean.code, 0, "{}", clean.all());

    let bad = db.run(dir.path(), &["scan", ".", "--baseline", "missing.json"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("missing.json"), "{}", bad.stderr);
}

/// `keyhound:allow` suppresses its line; with a rule id, only that rule; a wrong rule id
/// suppresses nothing.
#[test]
fn issue_5_inline_allow_comments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens: Vec<String> = (51..56).map(fake::npm_token).collect();
    write(
        dir.path(),
        "config.sh",
        format!(
            "A={} # keyhound:allow\n\
             B={} # keyhound:allow=keyhound.npm.1\n\
             C={} # keyhound:allow=keyhound.github.1\n\
             D={} # gitleaks:allow\n\
             E={}\n",
            tokens[0], tokens[1], tokens[2], tokens[3], tokens[4]
        ),
    );
    let mut c = keyhound();
    c.current_dir(dir.path()).args([
        "scan",
        ".",
        "--format",
        "json",
        "--show-secrets",
        "--no-store",
    ]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    let v = r.json();
    let mut secrets: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["secret"].as_str().expect("secret"))
        .collect();
    secrets.sort();
    let mut want = vec![tokens[2].as_str(), tokens[4].as_str()];
    want.sort();
    assert_eq!(
        secrets, want,
        "the wrong rule id (C) and the bare line (E) are reported"
    );
    assert_eq!(v["summary"]["suppressed"]["inline"], 3);
    assert!(
        r.stderr.contains("3 by keyhound:allow comments"),
        "{}",
        r.stderr
    );
}

/// keyhound.toml `[allowlist]` in the scanned repository: paths (working tree and history),
/// regexes, stopwords, disabled rules and fingerprints.
#[test]
fn issue_5_keyhound_toml_allowlist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = init(&dir.path().join("repo"));
    let in_history = fake::npm_token(61);
    commit_file(
        &repo,
        "tests/fixtures/old.env",
        &format!("NPM_TOKEN={in_history}\n"),
        "fixture",
    );
    git(&repo, &["rm", "-q", "tests/fixtures/old.env"]);
    git(&repo, &["commit", "-q", "-m", "rm"]);
    write(
        &repo,
        "tests/fixtures/k.env",
        format!("NPM_TOKEN={}\n", fake::npm_token(62)),
    );
    write(
        &repo,
        "web/app.min.js",
        format!("t='{}'\n", fake::npm_token(63)),
    );
    write(
        &repo,
        "stop.env",
        format!("NPM_TOKEN={}\n", fake::npm_token(64)),
    );
    let stopworded = fake::npm_token(64);
    write(
        &repo,
        // A bare token, outside any assignment: with its rule disabled, nothing else fires.
        "gh.txt",
        format!("{}\n", fake::github_token("ghp_", 65)),
    );
    let kept = fake::npm_token(66);
    write(&repo, "real.env", format!("NPM_TOKEN={kept}\n"));
    write(
        &repo,
        "byfp.env",
        format!("NPM_TOKEN={}\n", fake::npm_token(67)),
    );

    let scan = |extra: &[&str]| {
        let mut c = keyhound();
        c.current_dir(dir.path())
            .args([
                "scan",
                "repo",
                "--format",
                "json",
                "--show-secrets",
                "--no-store",
            ])
            .args(extra);
        run(c)
    };
    let all = scan(&[]).json();
    let fp_of = |token: &str| -> String {
        findings(&all)
            .iter()
            .find(|f| f["secret"] == token)
            .map(|f| f["fingerprint"].as_str().expect("fp").to_owned())
            .expect("found without the allowlist")
    };
    let byfp = fp_of(&fake::npm_token(67));
    write(
        &repo,
        "keyhound.toml",
        format!(
            "[allowlist]\n\
             paths = [\"tests/fixtures/**\", \"*.min.js\"]\n\
             regexes = ['^{}$']\n\
             stopwords = []\n\
             disabled_rules = [\"keyhound.github.1\"]\n\
             fingerprints = [\"{byfp}\"]\n",
            regex_escape(&stopworded)
        ),
    );
    let r = scan(&[]);
    assert_eq!(r.code, 1, "{}", r.all());
    let v = r.json();
    let secrets: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["secret"].as_str().expect("secret"))
        .collect();
    assert_eq!(secrets, vec![kept.as_str()], "{v:#}");
    assert!(v["summary"]["suppressed"]["paths"].as_u64().expect("n") >= 3);
    assert_eq!(v["summary"]["suppressed"]["fingerprints"], 1);
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn issue_5_findings_filters_and_formats() {
    let db = Db::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path());
    db.json(dir.path(), &["scan", ".", "-q", "--format", "json"]);
    let by_rule = db.json(
        dir.path(),
        &[
            "findings",
            "list",
            "--rule",
            "keyhound.npm.1",
            "--format",
            "json",
        ],
    );
    assert_eq!(findings(&by_rule).len(), 1);
    let since_future = db.json(
        dir.path(),
        &[
            "findings",
            "list",
            "--since",
            "2999-01-01",
            "--format",
            "json",
        ],
    );
    assert!(findings(&since_future).is_empty());
    let since_age = db.json(
        dir.path(),
        &["findings", "list", "--since", "1d", "--format", "json"],
    );
    assert_eq!(findings(&since_age).len(), 3);
    let unchecked = db.json(
        dir.path(),
        &[
            "findings",
            "list",
            "--validity",
            "unchecked",
            "--format",
            "json",
        ],
    );
    assert_eq!(findings(&unchecked).len(), 3);
    let sarif = db.run(dir.path(), &["findings", "list", "--format", "sarif"]);
    assert_eq!(sarif.code, 0, "{}", sarif.all());
    let s = sarif.json();
    assert_eq!(
        s["runs"][0]["results"].as_array().expect("results").len(),
        3
    );
    let csv = db.run(dir.path(), &["findings", "list", "--format", "csv"]);
    assert_eq!(csv.stdout.lines().count(), 4, "{}", csv.stdout);
    let jsonl = db.run(dir.path(), &["findings", "list", "--format", "jsonl"]);
    assert_eq!(jsonl.stdout.lines().count(), 3);
    let bad = db.run(dir.path(), &["findings", "list", "--severity", "huge"]);
    assert_eq!(bad.code, 2);
    let missing = db.run(dir.path(), &["findings", "show", "ffffffffffff"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("findings list"),
        "{}",
        missing.stderr
    );
}
