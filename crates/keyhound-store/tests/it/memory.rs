//! The memory of full-history scans: round trip, replacement, compaction, and size.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use keyhound_scan::incremental::RepoRecord;
use keyhound_sources::git::{Introduction, ObjectId};
use keyhound_store::{RunResult, Store};

use crate::db::Db;
use crate::fixtures::{completed, finding, new_run};

fn id(n: u64) -> ObjectId {
    let mut bytes = [0u8; 20];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[8..16].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    ObjectId::from(bytes)
}

fn random_ids(n: usize) -> Vec<ObjectId> {
    (0..n)
        .map(|_| ObjectId::from(rand::random::<[u8; 20]>()))
        .collect()
}

fn introduction(commit: Option<u64>, path: &str) -> Introduction {
    Introduction {
        commit: commit.map(id),
        path: path.to_owned(),
        author_name: "Dev Eloper".to_owned(),
        author_email: "dev@example.test".to_owned(),
        author_time: 1_767_000_000,
        author_offset: 3600,
        reachable: commit.is_some(),
    }
}

fn record(profile: &str, replace: bool) -> RepoRecord {
    RepoRecord {
        key: "/src/app/.git".to_owned(),
        display: "/src/app".to_owned(),
        profile: profile.to_owned(),
        replace,
        ..RepoRecord::default()
    }
}

/// Records `records` as the outcome of one new run.
fn save(store: &mut Store, records: &[RepoRecord]) {
    let run = store.begin_run(&new_run("/src/app")).unwrap();
    let found = [finding(1)];
    store
        .finish_run(
            run,
            &RunResult {
                repos: records,
                ..completed(&found)
            },
        )
        .unwrap();
}

fn memory_round_trips_and_accumulates(db: &Db) {
    let mut store = db.open();
    assert!(store.repo_memory("/src/app/.git", "p1").unwrap().is_none());
    let matched: HashMap<ObjectId, Vec<Introduction>> = [
        (
            id(100),
            vec![
                introduction(Some(7), "a.yml"),
                introduction(Some(8), "b/a.yml"),
            ],
        ),
        (id(101), vec![introduction(None, "staged.env")]),
    ]
    .into_iter()
    .collect();
    let first = RepoRecord {
        packs: vec!["pack-aaaa".into(), "pack-bbbb".into()],
        blobs: (0..1000).map(id).collect(),
        commits: (5000..5010).map(id).collect(),
        matched: matched.clone(),
        ..record("p1", true)
    };
    save(&mut store, std::slice::from_ref(&first));
    let m = store.repo_memory("/src/app/.git", "p1").unwrap().unwrap();
    assert_eq!(m.packs, first.packs.iter().cloned().collect::<HashSet<_>>());
    assert_eq!(m.blobs, first.blobs.iter().copied().collect::<HashSet<_>>());
    assert_eq!(
        m.commits,
        first.commits.iter().copied().collect::<HashSet<_>>()
    );
    assert_eq!(m.matched, matched);
    // Another profile, another repository: nothing.
    assert!(store.repo_memory("/src/app/.git", "p2").unwrap().is_none());
    assert!(
        store
            .repo_memory("/src/other/.git", "p1")
            .unwrap()
            .is_none()
    );

    // An incremental scan adds what it scanned; its matched set replaces the old one.
    let second = RepoRecord {
        packs: vec!["pack-cccc".into()],
        blobs: (1000..1010).map(id).collect(),
        commits: vec![id(6000)],
        matched: [(id(102), vec![introduction(Some(9), "c.yml")])]
            .into_iter()
            .collect(),
        ..record("p1", false)
    };
    save(&mut store, std::slice::from_ref(&second));
    let m = store.repo_memory("/src/app/.git", "p1").unwrap().unwrap();
    assert_eq!(m.packs.len(), 3);
    assert_eq!(m.blobs.len(), 1010);
    assert_eq!(m.commits.len(), 11);
    assert_eq!(m.matched, second.matched);
    // Nothing left to say is still a memory (of what was scanned).
    save(&mut store, &[record("p1", false)]);
    let m = store.repo_memory("/src/app/.git", "p1").unwrap().unwrap();
    assert_eq!(m.blobs.len(), 1010);
    assert!(m.matched.is_empty());
}

fn replace_forgets_older_memory(db: &Db) {
    let mut store = db.open();
    let old = RepoRecord {
        packs: vec!["pack-old".into()],
        blobs: (0..10).map(id).collect(),
        commits: vec![id(99)],
        ..record("p1", true)
    };
    let other_profile = RepoRecord {
        blobs: vec![id(1)],
        ..record("p2", true)
    };
    save(&mut store, &[old, other_profile]);
    let fresh = RepoRecord {
        blobs: (100..105).map(id).collect(),
        ..record("p1", true)
    };
    save(&mut store, &[fresh]);
    let m = store.repo_memory("/src/app/.git", "p1").unwrap().unwrap();
    assert!(m.packs.is_empty());
    assert!(m.commits.is_empty());
    assert_eq!(m.blobs, (100..105).map(id).collect());
    // Only that profile's.
    let p2 = store.repo_memory("/src/app/.git", "p2").unwrap().unwrap();
    assert_eq!(p2.blobs, [id(1)].into_iter().collect());
}

fn many_scans_are_compacted(db: &Db) {
    let mut store = db.open();
    for i in 0..40u64 {
        let r = RepoRecord {
            packs: vec![format!("pack-{i:04}")],
            blobs: vec![id(i), id(i + 1)],
            commits: vec![id(10_000 + i)],
            ..record("p1", i == 0)
        };
        save(&mut store, &[r]);
    }
    let m = store.repo_memory("/src/app/.git", "p1").unwrap().unwrap();
    assert_eq!(m.packs.len(), 40);
    assert_eq!(m.blobs, (0..41).map(id).collect());
    assert_eq!(m.commits.len(), 40);
    let mut raw = db.raw();
    for kind in ["pack", "blob", "commit"] {
        let rows = raw.int(&format!(
            "SELECT count(*) FROM scan_sets WHERE kind = '{kind}'"
        ));
        assert!(rows <= 16, "{rows} {kind} rows");
    }
}

/// Recording and loading 250,000 blob ids, as the first full-history scan of a large
/// repository does; the time is printed (run with `--no-capture` to see it).
fn a_quarter_million_blob_ids(db: &Db) {
    let mut store = db.open();
    let blobs = random_ids(250_000);
    let r = RepoRecord {
        packs: vec!["pack-big".into()],
        blobs: blobs.clone(),
        commits: random_ids(20_000),
        ..record("p1", true)
    };
    let started = Instant::now();
    save(&mut store, &[r]);
    let recorded = started.elapsed();
    let started = Instant::now();
    let m = store.repo_memory("/src/app/.git", "p1").unwrap().unwrap();
    let loaded = started.elapsed();
    assert_eq!(m.blobs.len(), 250_000);
    assert!(blobs.iter().all(|b| m.blobs.contains(b)));
    eprintln!(
        "{:?}: recording 250,000 blob and 20,000 commit ids took {recorded:?}, loading them {loaded:?}",
        db.backend()
    );
    // A generous bound for a shared debug-build machine; the figure is the point.
    assert!(
        recorded.as_secs_f64() < 10.0 && loaded.as_secs_f64() < 10.0,
        "{recorded:?} {loaded:?}"
    );
}

on_both_backends!(
    memory_round_trips_and_accumulates,
    replace_forgets_older_memory,
    many_scans_are_compacted,
    a_quarter_million_blob_ids,
);
