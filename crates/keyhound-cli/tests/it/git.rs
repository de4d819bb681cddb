//! Git history as a scan input (issue #3): real repositories made with `git`, and clones over
//! loopback from `git http-backend`.

use std::path::Path;

use keyhound_testkit::fake;
use keyhound_testkit::git_http::{GitHttpServer, SilentServer, commit_file, git, git_env, init};
use serde_json::Value;

use crate::common::{keyhound, scan_json};

fn findings(json: &Value) -> &Vec<Value> {
    json["findings"].as_array().expect("findings")
}

fn finding_with<'a>(json: &'a Value, secret: &str) -> &'a Value {
    findings(json)
        .iter()
        .find(|f| f["secret"] == secret)
        .unwrap_or_else(|| {
            panic!(
                "no finding with that secret in {}",
                serde_json::to_string_pretty(json).unwrap_or_default()
            )
        })
}

/// Acceptance: a reference token committed on a side branch and then deleted, and an access
/// token that exists only in a dangling commit, are both found with commit, author, path and
/// "history only".
#[test]
fn issue_3_deleted_on_a_side_branch_and_dangling_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = init(&dir.path().join("repo"));
    commit_file(&repo, "README.md", "hello\n", "init");
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    let reference = fake::jfrog_reference_token(5, 0);
    fs_err::write(
        repo.join("deploy.env"),
        format!("ARTIFACTORY_TOKEN={reference}\n"),
    )
    .expect("write");
    git(&repo, &["add", "deploy.env"]);
    git_env(
        &repo,
        &["commit", "-q", "-m", "add deploy env"],
        &[("GIT_AUTHOR_DATE", "2024-03-01T10:00:00+01:00")],
    );
    let side = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["rm", "-q", "deploy.env"]);
    git(&repo, &["commit", "-q", "-m", "remove the token"]);
    git(&repo, &["checkout", "-q", "main"]);
    git(
        &repo,
        &["merge", "-q", "--no-ff", "feature", "-m", "merge feature"],
    );
    // A commit that no ref or reflog reaches.
    let access = fake::jfrog_access_token(&fake::AccessTokenSpec::identity(6, "ci"));
    fs_err::write(repo.join("tmp.yml"), format!("token: {access}\n")).expect("write");
    git(&repo, &["add", "tmp.yml"]);
    let tree = git(&repo, &["write-tree"]);
    let dangling = git(&repo, &["commit-tree", &tree, "-p", "HEAD", "-m", "wip"]);
    git(&repo, &["rm", "-q", "--cached", "tmp.yml"]);
    fs_err::remove_file(repo.join("tmp.yml")).expect("rm");
    git(&repo, &["reflog", "expire", "--expire=now", "--all"]);

    let scan = scan_json(dir.path(), &["repo", "--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let r = finding_with(&scan.json, &reference);
    assert_eq!(r["rule_id"], "keyhound.jfrog.2");
    assert_eq!(r["presence"], "history_only");
    let loc = &r["locations"][0];
    assert_eq!(loc["path"], "repo/deploy.env");
    assert_eq!(loc["line"], 1);
    assert_eq!(loc["git"]["commit"], side);
    assert_eq!(loc["git"]["author_name"], "Alice Dev");
    assert_eq!(loc["git"]["author_email"], "alice@example.com");
    assert_eq!(loc["git"]["author_date"], "2024-03-01T10:00:00+01:00");
    assert_eq!(loc["git"]["first_commit"], side);
    assert!(loc["git"].get("dangling").is_none());

    let a = finding_with(&scan.json, &access);
    assert_eq!(a["rule_id"], "keyhound.jfrog.3");
    assert_eq!(a["presence"], "history_only");
    let loc = &a["locations"][0];
    assert_eq!(loc["path"], "repo/tmp.yml");
    assert_eq!(loc["git"]["commit"], dangling);
    assert_eq!(loc["git"]["dangling"], true);
    assert_eq!(loc["git"]["author_name"], "Alice Dev");

    // The text output says it too.
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", "repo"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("in history only"), "{text}");
    assert!(text.contains(&format!("commit {}", &side[..12])), "{text}");
}

/// Each distinct blob is scanned once, however many commits and paths contain it, and every
/// blob git knows is scanned (checked against `git cat-file --batch-all-objects`).
#[test]
fn every_blob_once_compared_with_git() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = init(&dir.path().join("r"));
    let key = fake::jfrog_api_key(70);
    // The same blob at three paths, then in every tree of 30 more commits.
    for i in 0..3 {
        commit_file(
            &repo,
            &format!("copy{i}/creds.env"),
            &format!("KEY={key}\n"),
            &format!("k{i}"),
        );
    }
    for i in 0..30 {
        commit_file(
            &repo,
            &format!("src/file{}.txt", i % 7),
            &format!("line {i}\n"),
            &format!("c{i}"),
        );
    }
    git(&repo, &["gc", "-q"]);
    commit_file(&repo, "loose.txt", "a loose object\n", "loose");
    let blobs = git(
        &repo,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype)",
        ],
    )
    .lines()
    .filter(|l| *l == "blob")
    .count() as u64;
    let scan = scan_json(&repo, &["--git-history", "full", "--show-secrets"]);
    let f = finding_with(&scan.json, &key);
    // One finding, at HEAD, with a location per path that introduced it.
    assert_eq!(findings(&scan.json).len(), 1);
    assert_eq!(f["presence"], "head");
    let git_paths: std::collections::BTreeSet<String> = f["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .filter(|l| l["git"].is_object())
        .map(|l| l["path"].as_str().expect("path").to_owned())
        .collect();
    assert_eq!(
        git_paths.into_iter().collect::<Vec<_>>(),
        ["copy0/creds.env", "copy1/creds.env", "copy2/creds.env"]
    );
    // inputs = blobs scanned once each + working-tree files + .git/config
    let worktree_files = 7 + 3 + 1;
    assert_eq!(
        scan.json["summary"]["inputs"],
        blobs + worktree_files + 1,
        "{}",
        scan.stderr
    );
}

#[test]
fn git_history_none_scans_the_working_tree_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = init(&dir.path().join("r"));
    let old = fake::jfrog_api_key(71);
    commit_file(&repo, "a.env", &format!("K={old}\n"), "add");
    commit_file(&repo, "a.env", "K=\n", "remove");
    let scan = scan_json(&repo, &["--git-history", "none"]);
    assert_eq!(findings(&scan.json).len(), 0);
    let scan = scan_json(&repo, &[]);
    assert_eq!(findings(&scan.json).len(), 1);
}

#[test]
fn since_commit_branch_and_staged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = init(&dir.path().join("r"));
    let (k1, k2, k3, k4) = (
        fake::jfrog_api_key(81),
        fake::jfrog_api_key(82),
        fake::jfrog_api_key(83),
        fake::jfrog_api_key(84),
    );
    let base = commit_file(&repo, "old.env", &format!("K={k1}\n"), "old");
    commit_file(&repo, "new.env", &format!("K={k2}\n"), "new");
    git(&repo, &["checkout", "-q", "-b", "other", &base]);
    commit_file(&repo, "other.env", &format!("K={k3}\n"), "other");
    git(&repo, &["checkout", "-q", "main"]);
    let secrets = |args: &[&str]| {
        let mut all = vec!["--show-secrets"];
        all.extend_from_slice(args);
        let scan = scan_json(&repo, &all);
        let mut s: Vec<String> = findings(&scan.json)
            .iter()
            .map(|f| f["secret"].as_str().expect("secret").to_owned())
            .collect();
        s.sort();
        s
    };
    // Only what HEAD (main) added after `base`, and no working tree.
    assert_eq!(secrets(&["--since-commit", &base]), sorted(&[&k2]));
    assert_eq!(
        secrets(&["--since-commit", &base, "--branch", "other"]),
        sorted(&[&k3])
    );
    // --branch: that branch's history, plus the working tree (main's files).
    assert_eq!(secrets(&["--branch", "other"]), sorted(&[&k1, &k2, &k3]));
    // --staged: only what is staged and differs from HEAD.
    fs_err::write(repo.join("staged.env"), format!("K={k4}\n")).expect("write");
    git(&repo, &["add", "staged.env"]);
    let scan = scan_json(&repo, &["--staged", "--show-secrets"]);
    assert_eq!(findings(&scan.json).len(), 1, "{}", scan.stdout);
    let f = finding_with(&scan.json, &k4);
    assert_eq!(f["locations"][0]["path"], "staged.env");
    assert_eq!(f["locations"][0]["git"]["staged"], true);
    assert_eq!(f["presence"], "working_tree");
    // A revision that does not exist is an error.
    let bad = scan_json(&repo, &["--since-commit", "no-such-rev"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("git repositories that could not be scanned"),
        "{}",
        bad.stderr
    );
}

fn sorted(items: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| (*s).clone()).collect();
    v.sort();
    v
}

#[test]
fn bare_repositories_nested_repositories_and_git_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = init(&dir.path().join("projects/app"));
    let key = fake::jfrog_api_key(90);
    commit_file(&work, "x.env", &format!("K={key}\n"), "add");
    commit_file(&work, "x.env", "K=\n", "remove");
    // A token in a remote URL in .git/config.
    let pw = keyhound_testkit::plant::password(3);
    git(
        &work,
        &[
            "remote",
            "add",
            "origin",
            &format!("https://ci:{pw}@acme.jfrog.io/artifactory/api/vcs/git/app.git"),
        ],
    );
    git(
        dir.path(),
        &["clone", "-q", "--bare", "projects/app", "mirror.git"],
    );
    // Walking the parent finds the nested working tree and the bare repository.
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    let f = finding_with(&scan.json, &key);
    let paths: Vec<&str> = f["locations"]
        .as_array()
        .expect("l")
        .iter()
        .map(|l| l["path"].as_str().expect("p"))
        .collect();
    assert!(paths.contains(&"projects/app/x.env"), "{paths:?}");
    assert!(paths.contains(&"mirror.git/x.env"), "{paths:?}");
    let c = finding_with(&scan.json, &pw);
    assert_eq!(c["locations"][0]["path"], "projects/app/.git/config");
}

#[test]
fn a_committed_archive_is_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = init(&dir.path().join("r"));
    let pw = keyhound_testkit::plant::password(4);
    let settings = format!(
        "<settings><servers><server><id>art</id><password>{pw}</password></server></servers><mirror><url>https://acme.jfrog.io/artifactory/maven</url></mirror></settings>"
    );
    let jar =
        keyhound_testkit::archive::zip(&[("META-INF/maven/settings.xml", settings.as_bytes())]);
    fs_err::create_dir_all(repo.join("lib")).expect("mkdir");
    fs_err::write(repo.join("lib/app.jar"), jar).expect("write");
    git(&repo, &["add", "lib/app.jar"]);
    git(&repo, &["commit", "-q", "-m", "vendor jar"]);
    git(&repo, &["rm", "-q", "lib/app.jar"]);
    git(&repo, &["commit", "-q", "-m", "drop jar"]);
    let scan = scan_json(&repo, &["--show-secrets"]);
    let f = finding_with(&scan.json, &pw);
    assert_eq!(
        f["locations"][0]["path"],
        "lib/app.jar!/META-INF/maven/settings.xml"
    );
    assert!(f["locations"][0]["git"]["commit"].is_string());
    assert_eq!(f["presence"], "history_only");
}

fn bare_origin(dir: &Path, key: &str) -> std::path::PathBuf {
    let src = init(&dir.join("src"));
    commit_file(
        &src,
        "ci.env",
        &format!("ARTIFACTORY_API_KEY={key}\n"),
        "ci",
    );
    git(dir, &["clone", "-q", "--bare", "src", "served/app.git"]);
    src
}

#[test]
fn remote_repository_over_http_is_mirrored_then_fetched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k1 = fake::jfrog_api_key(100);
    let src = bare_origin(dir.path(), &k1);
    let server = GitHttpServer::start(&dir.path().join("served")).expect("server");
    let url = server.url("app.git");
    let clones = dir.path().join("clones");
    let clone_dir = clones.to_str().expect("utf-8");
    let scan = scan_json(
        dir.path(),
        &[&url, "--clone-dir", clone_dir, "--show-secrets"],
    );
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let f = finding_with(&scan.json, &k1);
    assert_eq!(f["locations"][0]["path"], "ci.env");
    assert_eq!(f["locations"][0]["git"]["repository"], url);
    let mirrors: Vec<_> = fs_err::read_dir(&clones).expect("clone dir").collect();
    assert_eq!(mirrors.len(), 1);

    // A new commit upstream: the second scan fetches it into the same mirror.
    let k2 = fake::jfrog_api_key(101);
    commit_file(&src, "new.env", &format!("JFROG_API_KEY={k2}\n"), "new");
    git(&src, &["push", "-q", "../served/app.git", "main"]);
    let before = server.requests();
    let scan = scan_json(
        dir.path(),
        &[&url, "--clone-dir", clone_dir, "--show-secrets"],
    );
    finding_with(&scan.json, &k2);
    assert!(server.requests() > before);
    assert_eq!(
        fs_err::read_dir(&clones).expect("clone dir").count(),
        1,
        "the mirror is reused"
    );
}

#[test]
fn a_remote_that_refuses_or_hangs_fails_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clones = dir.path().join("clones");
    let clone_dir = clones.to_str().expect("utf-8");
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    fs_err::write(
        dir.path().join("a.env"),
        format!("K={}\n", fake::jfrog_api_key(110)),
    )
    .expect("write");
    let refused = format!("http://127.0.0.1:{port}/x.git");
    let scan = scan_json(dir.path(), &[&refused, "a.env", "--clone-dir", clone_dir]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(
        findings(&scan.json).len(),
        1,
        "the rest of the scan completes"
    );
    assert_eq!(scan.json["summary"]["skipped"]["git_error"], 1);

    let silent = SilentServer::start().expect("server");
    let started = std::time::Instant::now();
    let scan = scan_json(
        dir.path(),
        &[
            &silent.url(),
            "a.env",
            "--clone-dir",
            clone_dir,
            "--clone-timeout",
            "2",
            "-v",
        ],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert!(
        scan.stderr.contains("did not finish within 2 s"),
        "{}",
        scan.stderr
    );
    assert_eq!(findings(&scan.json).len(), 1);
}

fn repo_with_pack(dir: &Path) -> (std::path::PathBuf, String, String) {
    let repo = init(&dir.join("r"));
    let packed = fake::jfrog_api_key(120);
    let loose = fake::jfrog_api_key(121);
    for i in 0..20 {
        commit_file(
            &repo,
            &format!("f{i}.txt"),
            &format!("{i} {}\n", "x".repeat(i * 50)),
            &format!("c{i}"),
        );
    }
    commit_file(&repo, "packed.env", &format!("K={packed}\n"), "packed");
    git(&repo, &["gc", "-q"]);
    commit_file(&repo, "loose.env", &format!("K={loose}\n"), "loose");
    (repo, packed, loose)
}

#[test]
fn a_truncated_packfile_is_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (repo, _packed, loose) = repo_with_pack(dir.path());
    let pack = fs_err::read_dir(repo.join(".git/objects/pack"))
        .expect("pack dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack");
    let len = fs_err::metadata(&pack).expect("meta").len();
    let f = fs_err::OpenOptions::new()
        .write(true)
        .open(&pack)
        .expect("open");
    f.set_len(len / 2).expect("truncate");
    let scan = scan_json(&repo, &["--show-secrets", "-v"]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(
        scan.json["summary"]["skipped"]["corrupt_git_object"], 1,
        "{}",
        scan.stderr
    );
    finding_with(&scan.json, &loose);
    assert!(!scan.stderr.contains("panicked"));
}

#[test]
fn a_corrupted_loose_object_is_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (repo, packed, _loose) = repo_with_pack(dir.path());
    let blob = git(&repo, &["rev-parse", "HEAD:loose.env"]);
    let path = repo.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    let mut perms = fs_err::metadata(&path).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs_err::set_permissions(&path, perms).expect("chmod");
    fs_err::write(&path, b"\x78\x9c garbage that is not zlib").expect("corrupt");
    fs_err::remove_file(repo.join("loose.env")).expect("rm worktree copy");
    let scan = scan_json(&repo, &["--show-secrets"]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(
        scan.json["summary"]["skipped"]["corrupt_git_object"], 1,
        "{}",
        scan.stderr
    );
    finding_with(&scan.json, &packed);
}

#[test]
fn a_shallow_clone_is_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (repo, packed, loose) = repo_with_pack(dir.path());
    let url = format!("file://{}", repo.display());
    git(
        dir.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let scan = scan_json(&dir.path().join("shallow"), &["--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let l = finding_with(&scan.json, &loose);
    assert_eq!(l["presence"], "head");
    // The older commit is cut off by the shallow boundary, but its blob is at HEAD.
    finding_with(&scan.json, &packed);
}

#[test]
fn a_submodule_whose_objects_are_absent_does_not_stop_the_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = init(&dir.path().join("lib"));
    commit_file(&lib, "lib.txt", "library\n", "lib");
    let app = init(&dir.path().join("app"));
    let key = fake::jfrog_api_key(130);
    commit_file(&app, "app.env", &format!("K={key}\n"), "app");
    git(
        &app,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            "../lib",
            "vendor/lib",
        ],
    );
    git(&app, &["commit", "-q", "-m", "add submodule"]);
    fs_err::remove_dir_all(app.join(".git/modules")).expect("drop the submodule's objects");
    let scan = scan_json(&app, &["--show-secrets"]);
    assert!(scan.code == 1 || scan.code == 2, "{}", scan.stderr);
    finding_with(&scan.json, &key);
    assert!(!scan.stderr.contains("panicked"), "{}", scan.stderr);
}
