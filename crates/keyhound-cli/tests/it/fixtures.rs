//! Acceptance: fixtures of every JFrog file type, holding generated fake credentials, are found
//! with the right rule id and line; negative fixtures give zero findings.

use keyhound_testkit::plant::{self, Placement, TEMPLATES};

use crate::common::{locations, scan_json, write};

#[test]
fn every_fixture_credential_is_found_with_rule_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut expected = Vec::new();
    for (i, t) in TEMPLATES.iter().enumerate() {
        let snippet = (t.render)(1000 + i as u64);
        let rel = match t.placement {
            Placement::File(name) => format!("{}/{name}", t.name),
            Placement::Lines => format!("{}/script.sh", t.name),
        };
        write(dir.path(), &rel, &snippet.text);
        for e in snippet.expected {
            expected.push((e.rule_id.to_owned(), rel.clone(), e.line, e.secret));
        }
    }
    expected.sort();
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let found = locations(&scan.json);
    let missing: Vec<_> = expected.iter().filter(|e| !found.contains(e)).collect();
    let unexpected: Vec<_> = found.iter().filter(|f| !expected.contains(f)).collect();
    assert!(
        missing.is_empty(),
        "missing:\n{missing:#?}\nfound:\n{found:#?}"
    );
    assert!(unexpected.is_empty(), "unexpected:\n{unexpected:#?}");
    // Every JFrog rule is exercised by at least one fixture.
    for n in 1..=20 {
        let id = format!("keyhound.jfrog.{n}");
        assert!(expected.iter().any(|e| e.0 == id), "no fixture for {id}");
    }
}

#[test]
fn negative_fixtures_give_zero_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in plant::negatives(42) {
        write(dir.path(), &format!("neg/{name}"), text);
    }
    let scan = scan_json(dir.path(), &[]);
    assert_eq!(
        scan.json["findings"].as_array().map(Vec::len),
        Some(0),
        "{}",
        scan.stdout
    );
    assert_eq!(scan.code, 0);
}
