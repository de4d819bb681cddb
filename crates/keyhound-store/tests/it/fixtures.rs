//! Fake findings (values from keyhound-testkit's generators: random, live nowhere) and runs.

use keyhound_engine::{Facts, Secret};
use keyhound_rules::{Confidence, Severity};
use keyhound_scan::{Checks, Finding, GitLocation, Location, Presence};
use keyhound_store::{NewRun, RunId, RunKind, RunResult, RunStatus, Store};
use keyhound_testkit::fake;

/// The fake secret value of finding `seed`.
pub fn value(seed: u64) -> String {
    fake::jfrog_api_key(seed)
}

const SEVERITIES: [Severity; 5] = [
    Severity::Info,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

/// A location in a file.
pub fn file_location(path: &str, line: u64) -> Location {
    Location {
        path: path.to_owned(),
        line,
        column: 9,
        end_line: line,
        end_column: 82,
        offset: 100 * line,
        encoding: None,
        decoded_from: None,
        git: None,
        archive_chain: None,
        image: None,
    }
}

/// A location in a repository's history.
pub fn git_location(path: &str, line: u64, commit: &str) -> Location {
    Location {
        git: Some(GitLocation {
            repository: "/src/app".to_owned(),
            blob: "b".repeat(40),
            commit: Some(commit.to_owned()),
            author_name: Some("Dev Eloper".to_owned()),
            author_email: Some("dev@example.test".to_owned()),
            author_date: Some("2026-01-02T03:04:05+01:00".to_owned()),
            first_commit: Some(commit.to_owned()),
            dangling: false,
            staged: false,
        }),
        ..file_location(path, line)
    }
}

/// Finding `seed`: a fake JFrog API key, a severity by seed, one file location.
pub fn finding(seed: u64) -> Finding {
    let v = value(seed);
    let fingerprint = keyhound_scan::fingerprint(
        &keyhound_scan::FingerprintKey::default(),
        "keyhound.jfrog.api-key",
        v.as_bytes(),
    );
    let mut facts = Facts::kind("api_key");
    facts.set("seed", seed);
    Finding {
        fingerprint,
        rule_id: "keyhound.jfrog.api-key".to_owned(),
        rule_name: "JFrog API key".to_owned(),
        category: "jfrog".to_owned(),
        severity: SEVERITIES[(seed % 5) as usize],
        confidence: Confidence::High,
        secret: Secret::new(v.into_bytes()),
        facts,
        locations: vec![file_location(&format!("src/config-{seed}.yml"), seed + 1)],
        presence: None,
        checks: Checks::default(),
    }
}

/// Findings `seeds`.
pub fn findings(seeds: impl IntoIterator<Item = u64>) -> Vec<Finding> {
    seeds.into_iter().map(finding).collect()
}

/// `f` with a validation result.
pub fn validated(mut f: Finding, status: &str) -> Finding {
    f.checks.validation = Some(serde_json::json!({
        "status": status,
        "instance": "https://acme.jfrog.io",
        "checked_at": "2026-03-04T05:06:07Z",
    }));
    f
}

/// `f` as a git finding still at HEAD.
pub fn in_git(mut f: Finding, commit: &str) -> Finding {
    f.locations = vec![git_location("deploy/settings.xml", 12, commit)];
    f.presence = Some(Presence::Head);
    f
}

pub fn new_run(target: &str) -> NewRun {
    NewRun {
        kind: RunKind::Scan,
        target: target.to_owned(),
        rules_version: "rules-1".to_owned(),
        keyhound_version: "0.1.0-test".to_owned(),
    }
}

pub fn completed<'a>(findings: &'a [Finding]) -> RunResult<'a> {
    RunResult {
        status: RunStatus::Completed,
        stats: serde_json::json!({"inputs": findings.len()}),
        findings,
        store_secrets: false,
        repos: &[],
        error: None,
    }
}

/// A completed scan of `target` that found `findings`.
pub fn scan(store: &mut Store, target: &str, findings: &[Finding]) -> RunId {
    let run = store.begin_run(&new_run(target)).expect("begin");
    store.finish_run(run, &completed(findings)).expect("finish");
    run
}

pub fn fingerprints(list: &[keyhound_store::StoredFinding]) -> Vec<String> {
    list.iter().map(|f| f.fingerprint.clone()).collect()
}
