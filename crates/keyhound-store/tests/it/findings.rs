//! What `finish_run` records about findings, and how they are listed and found again.

use keyhound_rules::Severity;
use keyhound_scan::Presence;
use keyhound_store::{Error, FindingDetail, FindingFilter, NewTriage, RunId, TriageStatus};

use crate::db::Db;
use crate::fixtures::{
    file_location, finding, findings, fingerprints, in_git, new_run, scan, validated,
};

fn finish_run_records_findings(db: &Db) {
    let mut store = db.open();
    let commit = "c".repeat(40);
    let recorded = vec![
        validated(finding(3), "live"),
        in_git(finding(4), &commit),
        finding(5),
    ];
    let run = scan(&mut store, "/src/app", &recorded);
    let listed = store.findings(&FindingFilter::default()).unwrap();
    assert_eq!(listed.len(), 3);
    for f in &recorded {
        let stored = listed
            .iter()
            .find(|s| s.fingerprint == f.fingerprint)
            .unwrap();
        assert_eq!(stored.rule_id, f.rule_id);
        assert_eq!(stored.rule_name, f.rule_name);
        assert_eq!(stored.category, f.category);
        assert_eq!(stored.severity, f.severity);
        assert_eq!(stored.confidence, f.confidence);
        assert_eq!(stored.redacted, f.redacted());
        assert_eq!(stored.facts, f.facts);
        assert_eq!(stored.locations, f.locations);
        assert_eq!(stored.presence, f.presence);
        assert_eq!(stored.checks, f.checks);
        assert_eq!(stored.status, TriageStatus::Open);
        assert_eq!((stored.first_seen_run, stored.last_seen_run), (run, run));
        assert_eq!(stored.first_seen_at, stored.last_seen_at);
        assert!(!stored.secret_stored);
    }
    let live = &recorded[0];
    let detail = store.finding(&live.fingerprint).unwrap();
    assert_eq!(detail.finding.validity.as_deref(), Some("live"));
    assert_eq!(detail.validations.len(), 1);
    let v = &detail.validations[0];
    assert_eq!(v.status, "live");
    assert_eq!(v.run, Some(run));
    assert_eq!(v.checked_at.to_string(), "2026-03-04T05:06:07Z");
    assert_eq!(Some(&v.detail), live.checks.validation.as_ref());
    assert_eq!(detail.runs, vec![run]);
    assert!(detail.triage.is_empty());
    assert_eq!(detail.all_locations.len(), 1);
    assert_eq!(detail.all_locations[0].location, live.locations[0]);

    let git = store.finding(&recorded[1].fingerprint).unwrap();
    assert_eq!(git.finding.presence, Some(Presence::Head));
    let loc = &git.finding.locations[0];
    assert_eq!(loc.git.as_ref().unwrap().commit.as_deref(), Some(&*commit));
    assert_eq!(git.finding.validity, None);
    assert!(git.validations.is_empty());
}

/// The first and last runs that saw a finding.
fn seen(d: &FindingDetail) -> (RunId, RunId) {
    (d.finding.first_seen_run, d.finding.last_seen_run)
}

/// The first and last runs that saw the finding at `path`.
fn seen_at(d: &FindingDetail, path: &str) -> (RunId, RunId) {
    let l = d
        .all_locations
        .iter()
        .find(|l| l.location.path == path)
        .unwrap();
    (l.first_seen_run, l.last_seen_run)
}

fn first_and_last_seen(db: &Db) {
    let mut store = db.open();
    let r1 = scan(&mut store, "/src/app", &findings([1, 2]));
    // Finding 2 moved to another file in the second run; finding 3 is new.
    let mut moved = finding(2);
    moved.locations = vec![
        file_location("src/moved.yml", 40),
        file_location("a.txt", 1),
    ];
    let r2 = scan(&mut store, "/src/app", &[moved.clone(), finding(3)]);
    let get = |store: &mut keyhound_store::Store, seed| {
        store.finding(&finding(seed).fingerprint).unwrap()
    };
    assert_eq!(seen(&get(&mut store, 1)), (r1, r1));
    let two = get(&mut store, 2);
    assert_eq!(seen(&two), (r1, r2));
    assert!(two.finding.last_seen_at >= two.finding.first_seen_at);
    assert_eq!(two.runs, vec![r1, r2]);
    // The current locations are the last run's; the history keeps every one.
    let mut expected = moved.locations.clone();
    expected.sort();
    assert_eq!(two.finding.locations, expected);
    assert_eq!(two.all_locations.len(), 3);
    assert_eq!(seen_at(&two, "src/config-2.yml"), (r1, r1));
    assert_eq!(seen_at(&two, "src/moved.yml"), (r2, r2));
    assert_eq!(seen(&get(&mut store, 3)), (r2, r2));
    // The same location seen again keeps its first run.
    let r3 = scan(&mut store, "/src/app", &[moved]);
    assert_eq!(seen_at(&get(&mut store, 2), "src/moved.yml"), (r2, r3));
}

fn filters_and_order(db: &Db) {
    let mut store = db.open();
    // Seeds 0..5 have severities info, low, medium, high, critical.
    let r1 = scan(
        &mut store,
        "/src/a",
        &[
            finding(0),
            validated(finding(1), "live"),
            validated(finding(2), "revoked"),
        ],
    );
    let between = jiff::Timestamp::now();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let r2 = scan(&mut store, "/src/b", &[finding(3), finding(4)]);
    let mut other_rule = finding(9);
    other_rule.rule_id = "keyhound.github.pat".to_owned();
    let r3 = scan(&mut store, "/src/b", &[other_rule.clone()]);
    store
        .triage(
            &finding(3).fingerprint,
            &NewTriage {
                status: TriageStatus::AcceptedRisk,
                actor: "alice".into(),
                comment: None,
            },
        )
        .unwrap();

    let list = |store: &mut keyhound_store::Store, filter: FindingFilter| {
        fingerprints(&store.findings(&filter).unwrap())
    };
    let fp = |seed| finding(seed).fingerprint;
    // Most severe first (9 is critical too, and seen last).
    assert_eq!(
        list(&mut store, FindingFilter::default()),
        vec![fp(9), fp(4), fp(3), fp(2), fp(1), fp(0)]
    );
    let sev = FindingFilter {
        severities: vec![Severity::Low, Severity::Medium],
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, sev), vec![fp(2), fp(1)]);
    let rules = FindingFilter {
        rules: vec!["keyhound.github.pat".into()],
        ..FindingFilter::default()
    };
    assert_eq!(
        list(&mut store, rules),
        vec![other_rule.fingerprint.clone()]
    );
    let statuses = FindingFilter {
        statuses: vec![TriageStatus::AcceptedRisk],
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, statuses), vec![fp(3)]);
    let open = FindingFilter {
        statuses: vec![TriageStatus::Open],
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, open).len(), 5);
    let live = FindingFilter {
        validity: vec!["live".into()],
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, live), vec![fp(1)]);
    let unchecked = FindingFilter {
        validity: vec!["unchecked".into(), "revoked".into()],
        ..FindingFilter::default()
    };
    assert_eq!(
        list(&mut store, unchecked),
        vec![fp(9), fp(4), fp(3), fp(2), fp(0)]
    );
    let target = FindingFilter {
        target: Some("/src/a".into()),
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, target), vec![fp(2), fp(1), fp(0)]);
    let since = FindingFilter {
        since: Some(between),
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, since), vec![fp(9), fp(4), fp(3)]);
    let run = FindingFilter {
        run: Some(r2),
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, run), vec![fp(4), fp(3)]);
    let first_run = FindingFilter {
        run: Some(r1),
        severities: vec![Severity::Info],
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, first_run), vec![fp(0)]);
    let limited = FindingFilter {
        limit: Some(2),
        ..FindingFilter::default()
    };
    assert_eq!(list(&mut store, limited), vec![fp(9), fp(4)]);
    let none = FindingFilter {
        run: Some(r3),
        target: Some("/src/a".into()),
        ..FindingFilter::default()
    };
    assert!(list(&mut store, none).is_empty());
}

fn fingerprint_prefixes(db: &Db) {
    let mut store = db.open();
    let mut a = finding(1);
    a.fingerprint = format!("abcdef12{}", "0".repeat(24));
    let mut b = finding(2);
    b.fingerprint = format!("abcdef34{}", "0".repeat(24));
    scan(&mut store, "/src/app", &[a.clone(), b.clone()]);
    assert_eq!(
        store.finding(&a.fingerprint).unwrap().finding.fingerprint,
        a.fingerprint
    );
    assert_eq!(
        store.finding("abcdef1").unwrap().finding.fingerprint,
        a.fingerprint
    );
    assert_eq!(
        store.finding("ABCDEF3").unwrap().finding.fingerprint,
        b.fingerprint
    );
    match store.finding("abcdef") {
        Err(Error::Ambiguous { prefix, count: 2 }) => assert_eq!(prefix, "abcdef"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(store.finding("abcde"), Err(Error::Invalid { .. })));
    assert!(matches!(
        store.finding("0123456"),
        Err(Error::NotFound {
            what: "finding",
            ..
        })
    ));
    assert!(matches!(
        store.finding("abc%ef"),
        Err(Error::NotFound { .. })
    ));
    // Triage and secrets resolve prefixes the same way.
    let event = store
        .triage(
            "abcdef34",
            &NewTriage {
                status: TriageStatus::Revoked,
                actor: "bob".into(),
                comment: Some("rotated".into()),
            },
        )
        .unwrap();
    assert_eq!(event.fingerprint, b.fingerprint);
    assert!(matches!(
        store.secret("abcdef"),
        Err(Error::Ambiguous { .. })
    ));
}

fn to_finding_withholds_the_secret(db: &Db) {
    let mut store = db.open();
    let original = validated(in_git(finding(7), &"d".repeat(40)), "live");
    scan(&mut store, "/src/app", std::slice::from_ref(&original));
    let stored = store.finding(&original.fingerprint).unwrap().finding;
    let back = stored.to_finding(None);
    assert!(back.secret.is_withheld());
    assert!(back.secret.expose().is_empty());
    assert_eq!(back.redacted(), original.redacted());
    assert_eq!(back.fingerprint, original.fingerprint);
    assert_eq!(back.locations, original.locations);
    assert_eq!(back.facts, original.facts);
    assert_eq!(back.checks, original.checks);
    assert_eq!(back.presence, original.presence);
    let shown = stored.to_finding(Some(original.secret.clone()));
    assert_eq!(shown.secret.expose(), original.secret.expose());
    // A run recording a finding read back withheld does not lose anything.
    let run = store.begin_run(&new_run("/src/app")).unwrap();
    store
        .finish_run(run, &crate::fixtures::completed(&[back]))
        .unwrap();
    let again = store.finding(&original.fingerprint).unwrap().finding;
    assert_eq!(again.redacted, original.redacted());
    assert_eq!(again.last_seen_run, run);
}

on_both_backends!(
    finish_run_records_findings,
    first_and_last_seen,
    filters_and_order,
    fingerprint_prefixes,
    to_finding_withholds_the_secret,
);
