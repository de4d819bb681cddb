//! Diffs between runs.

use keyhound_store::{DiffEntry, Error};

use crate::db::Db;
use crate::fixtures::{finding, scan, validated};

fn fps(entries: &[DiffEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e.finding.fingerprint.clone())
        .collect()
}

fn diff_partitions_both_runs(db: &Db) {
    let mut store = db.open();
    // Seeds: 1 low, 2 medium, 3 high, 4 critical, 6 low, 8 high.
    let from = scan(
        &mut store,
        "/src/app",
        &[
            validated(finding(1), "live"),
            validated(finding(2), "live"),
            finding(3),
            validated(finding(6), "live"),
            finding(8),
        ],
    );
    let to = scan(
        &mut store,
        "/src/app",
        &[
            validated(finding(1), "live"),
            validated(finding(2), "revoked"),
            finding(4),
            // Not validated this time: no change of validity is known.
            finding(6),
            validated(finding(8), "live"),
        ],
    );
    let diff = store.diff(from, to).unwrap();
    let fp = |seed| finding(seed).fingerprint;
    assert_eq!(fps(&diff.new), vec![fp(4)]);
    assert_eq!(fps(&diff.fixed), vec![fp(3)]);
    assert_eq!(fps(&diff.changed), vec![fp(2)]);
    assert_eq!(diff.changed[0].validity_before.as_deref(), Some("live"));
    assert_eq!(diff.changed[0].validity_after.as_deref(), Some("revoked"));
    // Sorted like findings(): most severe first, then (same severity, same run) by
    // fingerprint.
    let mut lows = [fp(1), fp(6)];
    lows.sort();
    assert_eq!(
        fps(&diff.unchanged),
        vec![fp(8), lows[0].clone(), lows[1].clone()]
    );
    let six = diff
        .unchanged
        .iter()
        .find(|e| e.finding.fingerprint == fp(6))
        .unwrap();
    assert_eq!(six.validity_before.as_deref(), Some("live"));
    assert_eq!(six.validity_after, None);
    // The latest validity stays known when a run did not validate.
    assert_eq!(six.finding.validity.as_deref(), Some("live"));
    let eight = diff
        .unchanged
        .iter()
        .find(|e| e.finding.fingerprint == fp(8))
        .unwrap();
    assert_eq!(eight.validity_before, None);
    assert_eq!(eight.validity_after.as_deref(), Some("live"));
    assert_eq!(diff.fixed[0].validity_after, None);

    // Every finding of either run is in exactly one list.
    let total = diff.new.len() + diff.fixed.len() + diff.changed.len() + diff.unchanged.len();
    assert_eq!(total, 6);

    // Backwards, new and fixed swap.
    let back = store.diff(to, from).unwrap();
    assert_eq!(fps(&back.new), vec![fp(3)]);
    assert_eq!(fps(&back.fixed), vec![fp(4)]);
    // A run against itself: all unchanged.
    let same = store.diff(to, to).unwrap();
    assert_eq!(same.unchanged.len(), 5);
    assert!(same.new.is_empty() && same.fixed.is_empty() && same.changed.is_empty());
    assert!(matches!(
        store.diff(from, 9999),
        Err(Error::NotFound { what: "run", .. })
    ));
}

fn empty_runs_diff_to_everything_new(db: &Db) {
    let mut store = db.open();
    let empty = scan(&mut store, "/src/app", &[]);
    let full = scan(&mut store, "/src/app", &[finding(1), finding(2)]);
    let diff = store.diff(empty, full).unwrap();
    assert_eq!(diff.new.len(), 2);
    assert!(diff.unchanged.is_empty());
    let emptied = scan(&mut store, "/src/app", &[]);
    let diff = store.diff(full, emptied).unwrap();
    assert_eq!(diff.fixed.len(), 2);
}

on_both_backends!(diff_partitions_both_runs, empty_runs_diff_to_everything_new);
