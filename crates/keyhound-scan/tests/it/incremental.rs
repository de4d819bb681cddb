//! Incremental full-history scans (issue #5): a scan that reuses the memory of the previous
//! one must report exactly what a scan from scratch reports, while scanning only new blobs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use keyhound_scan::incremental::{History, RepoMemory, RepoRecord};
use keyhound_scan::{GitSettings, Input, Progress, ScanReport, ScanSettings, Scanner};
use keyhound_testkit::fake;
use keyhound_testkit::git_http::{commit_file, git, init};

/// Memory kept in a map, as the store keeps it in its tables.
#[derive(Default)]
struct Memory(Mutex<HashMap<(String, String), RepoMemory>>);

impl History for Memory {
    fn recall(&self, key: &str, profile: &str) -> Option<RepoMemory> {
        let map = self.0.lock().expect("lock");
        map.get(&(key.to_owned(), profile.to_owned())).cloned()
    }
}

impl Memory {
    fn remember(&self, records: &[RepoRecord]) {
        let mut map = self.0.lock().expect("lock");
        for r in records {
            map.entry((r.key.clone(), r.profile.clone()))
                .or_default()
                .absorb(r);
        }
    }
}

fn scanner() -> Scanner {
    Scanner::new(
        keyhound_rules::builtin().expect("built-in rules"),
        Default::default(),
    )
    .expect("rules compile")
}

fn scan(scanner: &Scanner, repo: &Path, history: Option<Arc<Memory>>) -> ScanReport {
    let settings = ScanSettings {
        walk: keyhound_sources::fs_walk::WalkOptions {
            threads: 2,
            skip_git_dirs: true,
            ..Default::default()
        },
        git: GitSettings::default(),
        history: history.map(|h| h as Arc<dyn History>),
    };
    scanner
        .scan(
            &[Input::Path(repo.to_path_buf())],
            &settings,
            &Progress::default(),
        )
        .expect("scan")
}

/// What a user sees of a report: each finding's fingerprint, rule, presence and locations.
fn shape(report: &ScanReport) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "fingerprint": f.fingerprint,
                "rule": f.rule_id,
                "presence": f.presence,
                "locations": f.locations,
            })
        })
        .collect();
    out.sort_by_key(|v| v["fingerprint"].to_string());
    out
}

fn write(repo: &Path, path: &str, content: &str) {
    if let Some(parent) = repo.join(path).parent() {
        fs_err::create_dir_all(parent).expect("mkdir");
    }
    fs_err::write(repo.join(path), content).expect("write");
}

/// A repository with history: a token committed and removed, a token still at HEAD, and
/// plenty of files without secrets.
fn repository(dir: &Path) -> std::path::PathBuf {
    let repo = init(&dir.join("repo"));
    for i in 0..20 {
        commit_file(
            &repo,
            &format!("src/mod{i}.py"),
            &format!("def f{i}():\n    return {i}\n"),
            "code",
        );
    }
    commit_file(
        &repo,
        ".env",
        &format!("ARTIFACTORY_API_KEY={}\n", fake::jfrog_api_key(1)),
        "env",
    );
    git(&repo, &["rm", "-q", ".env"]);
    git(&repo, &["commit", "-q", "-m", "remove env"]);
    commit_file(
        &repo,
        "ci/deploy.sh",
        &format!("export NPM_TOKEN={}\n", fake::npm_token(2)),
        "deploy",
    );
    git(&repo, &["gc", "-q"]);
    repo
}

#[test]
fn issue_5_second_scan_skips_known_blobs_and_matches_a_full_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path());
    let scanner = scanner();
    let memory = Arc::new(Memory::default());

    let first = scan(&scanner, &repo, Some(memory.clone()));
    assert_eq!(first.findings.len(), 2, "{:#?}", shape(&first));
    let record = &first.repos[0];
    assert!(record.replace);
    assert!(!record.packs.is_empty(), "the gc'd pack is complete");
    assert!(record.blobs.len() >= 22, "{} blobs", record.blobs.len());
    assert_eq!(record.matched.len(), 2);
    assert!(!record.commits.is_empty());
    memory.remember(&first.repos);

    // Nothing changed: nothing new is scanned, and the report is the same.
    let again = scan(&scanner, &repo, Some(memory.clone()));
    assert_eq!(shape(&again), shape(&first));
    assert!(
        again.repos[0].blobs.is_empty(),
        "{:?}",
        again.repos[0].blobs
    );
    assert_eq!(again.repos[0].known_packs, 1);
    memory.remember(&again.repos);

    // One new commit: a new secret, an old one copied to a new path, an ordinary file.
    write(
        &repo,
        "config/.npmrc",
        &format!("//registry.npmjs.org/:_authToken={}\n", fake::npm_token(3)),
    );
    write(
        &repo,
        "old.env",
        &format!("ARTIFACTORY_API_KEY={}\n", fake::jfrog_api_key(1)),
    );
    write(&repo, "notes.txt", "nothing here\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "more"]);

    let incremental = scan(&scanner, &repo, Some(memory.clone()));
    let fresh = scan(&scanner, &repo, None);
    assert_eq!(shape(&incremental), shape(&fresh));
    assert_eq!(fresh.findings.len(), 3);
    let rec = &incremental.repos[0];
    assert!(!rec.replace);
    // Two new blobs: `old.env` has the removed `.env`'s exact content, so it is the old blob
    // at a new path, found by attribution and not scanned again as new.
    assert_eq!(rec.blobs.len(), 2, "{:?}", rec.blobs);
    assert_eq!(rec.known_packs, 1, "the old pack is not read");
    assert_eq!(rec.commits.len(), 1, "one new commit walked");
    let old_key = incremental
        .findings
        .iter()
        .find(|f| f.rule_id == "keyhound.jfrog.1")
        .expect("the API key");
    assert!(
        old_key
            .locations
            .iter()
            .any(|l| l.path.ends_with("repo/old.env")),
        "the old secret's new place is attributed: {:#?}",
        old_key.locations
    );
    memory.remember(&incremental.repos);

    // After a repack every pack is new, but no known blob is scanned again.
    git(&repo, &["gc", "-q", "--prune=now"]);
    let repacked = scan(&scanner, &repo, Some(memory.clone()));
    assert_eq!(shape(&repacked), shape(&scan(&scanner, &repo, None)));
    assert!(repacked.repos[0].blobs.is_empty());
    assert_eq!(repacked.repos[0].known_packs, 0);
}

#[test]
fn issue_5_a_new_blob_only_a_dangling_commit_holds_is_attributed_from_scratch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path());
    let scanner = scanner();
    let memory = Arc::new(Memory::default());
    memory.remember(&scan(&scanner, &repo, Some(memory.clone())).repos);

    write(
        &repo,
        "wip.yml",
        &format!("token: {}\n", fake::github_token("ghp_", 9)),
    );
    git(&repo, &["add", "wip.yml"]);
    let tree = git(&repo, &["write-tree"]);
    git(&repo, &["commit-tree", &tree, "-p", "HEAD", "-m", "wip"]);
    git(&repo, &["rm", "-q", "--cached", "wip.yml"]);
    fs_err::remove_file(repo.join("wip.yml")).expect("rm");

    let incremental = scan(&scanner, &repo, Some(memory.clone()));
    let fresh = scan(&scanner, &repo, None);
    assert_eq!(shape(&incremental), shape(&fresh));
    let wip = incremental
        .findings
        .iter()
        .find(|f| f.rule_id.starts_with("keyhound.github"))
        .expect("the GitHub token");
    let git_loc = wip.locations[0].git.as_ref().expect("git provenance");
    assert!(git_loc.dangling);
    assert!(git_loc.commit.is_some());
}

#[test]
fn issue_5_other_rules_do_not_reuse_the_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path());
    let memory = Arc::new(Memory::default());
    memory.remember(&scan(&scanner(), &repo, Some(memory.clone())).repos);
    let fewer: Vec<_> = keyhound_rules::builtin()
        .expect("rules")
        .into_iter()
        .filter(|r| r.id != "keyhound.jfrog.1")
        .collect();
    let other = Scanner::new(fewer, Default::default()).expect("compile");
    let report = scan(&other, &repo, Some(memory.clone()));
    assert!(report.repos[0].replace, "another profile starts over");
    assert!(report.repos[0].blobs.len() >= 22);
    assert_eq!(shape(&report), shape(&scan(&other, &repo, None)));
}
