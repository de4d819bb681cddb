//! What is scanned: ignored files are, `.git/` internals are not, and `--include` /
//! `--exclude` narrow the walk.

use keyhound_testkit::fake;

use crate::common::{locations, scan_json, write};

#[test]
fn gitignored_files_are_scanned_but_git_internals_are_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = fake::jfrog_api_key(50);
    write(dir.path(), ".gitignore", ".env\n*.log\n");
    write(dir.path(), ".env", format!("ARTIFACTORY_API_KEY={key}\n"));
    write(
        dir.path(),
        ".git/config",
        format!(
            "[remote]\n  url = https://x:{}@acme.jfrog.io/artifactory/repo.git\n",
            fake::jfrog_api_key(51)
        ),
    );
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    let found = locations(&scan.json);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, ".env");
}

#[test]
fn include_and_exclude_globs() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, p) in [
        "app/.env",
        "app/node_modules/pkg/.env",
        "docs/setup.md",
        "ci/build.yml",
    ]
    .iter()
    .enumerate()
    {
        write(
            dir.path(),
            p,
            format!(
                "ARTIFACTORY_API_KEY={}\n",
                fake::jfrog_api_key(60 + i as u64)
            ),
        );
    }
    let paths = |args: &[&str]| {
        let scan = scan_json(dir.path(), args);
        let mut p: Vec<String> = locations(&scan.json).into_iter().map(|l| l.1).collect();
        p.sort();
        p
    };
    assert_eq!(
        paths(&["--exclude", "node_modules", "--exclude", "*.md"]),
        ["app/.env", "ci/build.yml"]
    );
    assert_eq!(paths(&["--include", "*.yml"]), ["ci/build.yml"]);
    assert_eq!(
        paths(&["--include", "app/**", "--exclude", "node_modules"]),
        ["app/.env"]
    );
    assert_eq!(
        paths(&["app/node_modules", "docs/setup.md"]),
        ["app/node_modules/pkg/.env", "docs/setup.md"]
    );
}
