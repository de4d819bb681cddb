//! Triage decisions survive later runs; fixed findings seen again are reopened. And the
//! issue's acceptance scenario at the store level.

use keyhound_store::{FindingFilter, NewTriage, TriageStatus};

use crate::db::Db;
use crate::fixtures::{finding, findings, fingerprints, scan};

fn decide(status: TriageStatus, comment: Option<&str>) -> NewTriage {
    NewTriage {
        status,
        actor: "alice@laptop".to_owned(),
        comment: comment.map(str::to_owned),
    }
}

fn triage_keeps_status_across_runs(db: &Db) {
    let mut store = db.open();
    scan(&mut store, "/src/app", &findings([1, 2]));
    let fp = finding(1).fingerprint;
    let event = store
        .triage(
            &fp[..8],
            &decide(TriageStatus::FalsePositive, Some("test fixture")),
        )
        .unwrap();
    assert_eq!(event.fingerprint, fp);
    assert_eq!(event.status, TriageStatus::FalsePositive);
    assert_eq!(event.actor, "alice@laptop");
    assert_eq!(event.comment.as_deref(), Some("test fixture"));
    assert_eq!(event.run, None);
    scan(&mut store, "/src/app", &findings([1, 2]));
    scan(&mut store, "/src/app", &findings([1]));
    let detail = store.finding(&fp).unwrap();
    assert_eq!(detail.finding.status, TriageStatus::FalsePositive);
    assert_eq!(detail.triage, vec![event]);
    assert_eq!(
        store
            .finding(&finding(2).fingerprint)
            .unwrap()
            .finding
            .status,
        TriageStatus::Open
    );
    // Decisions are history: a later one wins, both are kept, oldest first.
    store
        .triage(&fp, &decide(TriageStatus::AcceptedRisk, None))
        .unwrap();
    let detail = store.finding(&fp).unwrap();
    assert_eq!(detail.finding.status, TriageStatus::AcceptedRisk);
    let statuses: Vec<_> = detail.triage.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        vec![TriageStatus::FalsePositive, TriageStatus::AcceptedRisk]
    );
}

fn fixed_findings_seen_again_reopen(db: &Db) {
    let mut store = db.open();
    scan(&mut store, "/src/app", &findings([1, 2]));
    let fp = finding(1).fingerprint;
    store
        .triage(&fp, &decide(TriageStatus::Fixed, Some("removed in #12")))
        .unwrap();
    // Not seen: stays fixed.
    scan(&mut store, "/src/app", &findings([2]));
    assert_eq!(
        store.finding(&fp).unwrap().finding.status,
        TriageStatus::Fixed
    );
    let back = scan(&mut store, "/src/app", &findings([1, 2]));
    let detail = store.finding(&fp).unwrap();
    assert_eq!(detail.finding.status, TriageStatus::Open);
    let last = detail.triage.last().unwrap();
    assert_eq!(last.status, TriageStatus::Open);
    assert_eq!(last.actor, "keyhound");
    assert_eq!(last.run, Some(back));
    assert_eq!(
        last.comment.as_deref(),
        Some(&*format!("seen again in run {back}"))
    );
    assert_eq!(detail.triage.len(), 2);
    // Other statuses are kept when seen again.
    store
        .triage(&fp, &decide(TriageStatus::Revoked, None))
        .unwrap();
    scan(&mut store, "/src/app", &findings([1]));
    assert_eq!(
        store.finding(&fp).unwrap().finding.status,
        TriageStatus::Revoked
    );
}

/// Issue #5: scan, triage two findings as false-positive, add a secret, and scan again: the
/// diff shows exactly one new finding, and the triaged ones keep their status.
fn acceptance_scan_triage_add_scan(db: &Db) {
    const N: u64 = 6;
    let mut store = db.open();
    let first = scan(&mut store, "/src/app", &findings(0..N));
    let triaged = [finding(1).fingerprint, finding(4).fingerprint];
    for fp in &triaged {
        store
            .triage(fp, &decide(TriageStatus::FalsePositive, Some("fixture")))
            .unwrap();
    }
    let second = scan(&mut store, "/src/app", &findings(0..=N));
    assert_eq!(
        store.previous_run(second).unwrap().map(|r| r.id),
        Some(first)
    );
    let diff = store.diff(first, second).unwrap();
    assert_eq!(diff.from.id, first);
    assert_eq!(diff.to.id, second);
    assert_eq!(diff.new.len(), 1);
    assert_eq!(diff.new[0].finding.fingerprint, finding(N).fingerprint);
    assert_eq!(diff.new[0].finding.status, TriageStatus::Open);
    assert!(diff.fixed.is_empty());
    assert!(diff.changed.is_empty());
    assert_eq!(diff.unchanged.len() as u64, N);
    for entry in &diff.unchanged {
        let expected = if triaged.contains(&entry.finding.fingerprint) {
            TriageStatus::FalsePositive
        } else {
            TriageStatus::Open
        };
        assert_eq!(entry.finding.status, expected);
    }
    let fp_now = store
        .findings(&FindingFilter {
            statuses: vec![TriageStatus::FalsePositive],
            ..FindingFilter::default()
        })
        .unwrap();
    let mut got = fingerprints(&fp_now);
    got.sort();
    let mut want = triaged.to_vec();
    want.sort();
    assert_eq!(got, want);
}

on_both_backends!(
    triage_keeps_status_across_runs,
    fixed_findings_seen_again_reopen,
    acceptance_scan_triage_add_scan,
);
