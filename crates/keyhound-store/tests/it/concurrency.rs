//! Two scans writing at once both complete, with nothing lost.

use std::sync::Barrier;

use keyhound_scan::incremental::RepoRecord;
use keyhound_sources::git::ObjectId;
use keyhound_store::{FindingFilter, RunFilter, RunId, RunResult, RunStatus};

use crate::db::Db;
use crate::fixtures::{completed, finding, new_run};

const WRITERS: u64 = 2;
const RUNS: u64 = 6;
/// Per run: this many findings shared by every writer, and as many of the writer's own.
const SHARED: u64 = 30;

fn concurrent_writers_lose_nothing(db: &Db) {
    let barrier = Barrier::new(WRITERS as usize);
    let runs: Vec<Vec<(RunId, Vec<String>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let barrier = &barrier;
                s.spawn(move || {
                    // Each writer opens its own store (the first open migrates, concurrently).
                    barrier.wait();
                    let mut store = db.open();
                    let mut mine = Vec::new();
                    for r in 0..RUNS {
                        let own = 1000 * (w + 1) + 100 * r;
                        let mut found: Vec<_> =
                            (0..SHARED).chain(own..own + SHARED).map(finding).collect();
                        // Opposite orders in the two writers: the store sorts.
                        if w % 2 == 1 {
                            found.reverse();
                        }
                        let repo = RepoRecord {
                            key: "/src/shared/.git".to_owned(),
                            display: "/src/shared".to_owned(),
                            profile: "p".to_owned(),
                            replace: false,
                            blobs: vec![ObjectId::from([(w * 16 + r) as u8; 20])],
                            ..RepoRecord::default()
                        };
                        let run = store.begin_run(&new_run(&format!("/src/w{w}"))).unwrap();
                        store
                            .finish_run(
                                run,
                                &RunResult {
                                    repos: std::slice::from_ref(&repo),
                                    ..completed(&found)
                                },
                            )
                            .unwrap();
                        mine.push((run, found.iter().map(|f| f.fingerprint.clone()).collect()));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut store = db.open();
    let all = store.findings(&FindingFilter::default()).unwrap();
    assert_eq!(all.len() as u64, SHARED + WRITERS * RUNS * SHARED);
    for (run, fingerprints) in runs.iter().flatten() {
        let r = store.run(*run).unwrap();
        assert_eq!(r.status, RunStatus::Completed);
        assert_eq!(r.findings, 2 * SHARED);
        let mut recorded: Vec<String> = store
            .findings(&FindingFilter {
                run: Some(*run),
                ..FindingFilter::default()
            })
            .unwrap()
            .into_iter()
            .map(|f| f.fingerprint)
            .collect();
        recorded.sort();
        let mut expected = fingerprints.clone();
        expected.sort();
        assert_eq!(recorded, expected, "run {run}");
    }
    assert_eq!(
        store.runs(&RunFilter::default()).unwrap().len() as u64,
        WRITERS * RUNS
    );
    let shared = store.finding(&finding(0).fingerprint).unwrap();
    assert_eq!(shared.runs.len() as u64, WRITERS * RUNS);
    let memory = store.repo_memory("/src/shared/.git", "p").unwrap().unwrap();
    assert_eq!(memory.blobs.len() as u64, WRITERS * RUNS);
}

on_both_backends!(concurrent_writers_lose_nothing);
