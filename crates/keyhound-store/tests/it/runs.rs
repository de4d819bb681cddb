//! Runs: lifecycle, listing, and recovery of runs whose process died.

use keyhound_store::{Error, RunFilter, RunResult, RunStatus};

use crate::db::Db;
use crate::fixtures::{completed, findings, new_run, scan};

fn run_lifecycle(db: &Db) {
    let mut store = db.open();
    let before = jiff::Timestamp::now();
    let id = store.begin_run(&new_run("/src/app")).unwrap();
    let run = store.run(id).unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.target, "/src/app");
    assert_eq!(run.pid, std::process::id());
    assert_eq!(run.rules_version, "rules-1");
    assert_eq!(run.keyhound_version, "0.1.0-test");
    assert!(!run.host.is_empty());
    assert!(run.started_at.as_microsecond() >= before.as_microsecond() - 1_000_000);
    assert_eq!(run.ended_at, None);
    assert_eq!(run.stats, serde_json::json!({}));
    store.heartbeat(id).unwrap();

    let found = findings([1, 2, 3]);
    store.finish_run(id, &completed(&found)).unwrap();
    let run = store.run(id).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(run.ended_at.is_some_and(|e| e >= run.started_at));
    assert_eq!(run.stats, serde_json::json!({"inputs": 3}));
    assert_eq!(run.findings, 3);
    assert_eq!(run.error, None);

    // Once only.
    let err = store.finish_run(id, &completed(&found)).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    // Nor as running.
    let other = store.begin_run(&new_run("/src/app")).unwrap();
    let running = RunResult {
        status: RunStatus::Running,
        ..completed(&found)
    };
    assert!(matches!(
        store.finish_run(other, &running),
        Err(Error::Invalid { .. })
    ));
    let failed = RunResult {
        status: RunStatus::Failed,
        error: Some("cannot read /src/app/.git: permission denied".to_owned()),
        ..completed(&[])
    };
    store.finish_run(other, &failed).unwrap();
    let run = store.run(other).unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.as_deref(), failed.error.as_deref());

    assert!(matches!(
        store.run(9999),
        Err(Error::NotFound { what: "run", .. })
    ));
    assert!(matches!(store.heartbeat(9999), Err(Error::NotFound { .. })));
    assert!(matches!(
        store.finish_run(9999, &completed(&[])),
        Err(Error::NotFound { .. })
    ));
}

fn runs_are_listed_newest_first(db: &Db) {
    let mut store = db.open();
    let a1 = scan(&mut store, "/src/a", &findings([1]));
    let b1 = scan(&mut store, "/src/b", &findings([2]));
    let a2 = scan(&mut store, "/src/a", &findings([1, 3]));
    let a3 = store.begin_run(&new_run("/src/a")).unwrap();
    let a4 = store.begin_run(&new_run("/src/a")).unwrap();
    store
        .finish_run(
            a4,
            &RunResult {
                status: RunStatus::Failed,
                ..completed(&[])
            },
        )
        .unwrap();
    let ids = |runs: Vec<keyhound_store::Run>| runs.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.runs(&RunFilter::default()).unwrap()),
        vec![a4, a3, a2, b1, a1]
    );
    let only_a = RunFilter {
        target: Some("/src/a".into()),
        ..RunFilter::default()
    };
    assert_eq!(ids(store.runs(&only_a).unwrap()), vec![a4, a3, a2, a1]);
    let completed_a = RunFilter {
        statuses: vec![RunStatus::Completed],
        limit: Some(1),
        ..only_a.clone()
    };
    assert_eq!(ids(store.runs(&completed_a).unwrap()), vec![a2]);
    let running = RunFilter {
        statuses: vec![RunStatus::Running, RunStatus::Failed],
        ..RunFilter::default()
    };
    assert_eq!(ids(store.runs(&running).unwrap()), vec![a4, a3]);

    assert_eq!(store.latest_run(None).unwrap().map(|r| r.id), Some(a2));
    assert_eq!(
        store.latest_run(Some("/src/b")).unwrap().map(|r| r.id),
        Some(b1)
    );
    assert_eq!(store.latest_run(Some("/src/c")).unwrap(), None);
    // The completed run of the same target before: failed and running ones are skipped.
    assert_eq!(store.previous_run(a4).unwrap().map(|r| r.id), Some(a2));
    assert_eq!(store.previous_run(a2).unwrap().map(|r| r.id), Some(a1));
    assert_eq!(store.previous_run(a1).unwrap(), None);
    assert_eq!(store.previous_run(b1).unwrap(), None);
    assert!(matches!(
        store.previous_run(9999),
        Err(Error::NotFound { .. })
    ));
}

/// The pid of a process that has exited.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn interrupted_runs_are_recovered(db: &Db) {
    let mut store = db.open();
    let alive = store.begin_run(&new_run("/alive")).unwrap();
    let dead = store.begin_run(&new_run("/dead")).unwrap();
    let reused = store.begin_run(&new_run("/reused-pid")).unwrap();
    let remote_stale = store.begin_run(&new_run("/remote-stale")).unwrap();
    let remote_fresh = store.begin_run(&new_run("/remote-fresh")).unwrap();
    let done = crate::fixtures::scan(&mut store, "/done", &findings([1]));
    let now = jiff::Timestamp::now().as_microsecond();
    let minute = 60_000_000;
    let mut raw = db.raw();
    raw.exec(&format!(
        "UPDATE runs SET pid = {} WHERE id = {dead}",
        dead_pid()
    ));
    // Our own pid, with another start time: the pid was reused by another process.
    raw.exec(&format!(
        "UPDATE runs SET pid_start = pid_start + 1 WHERE id = {reused}"
    ));
    raw.exec(&format!(
        "UPDATE runs SET host = 'elsewhere', heartbeat_at = {} WHERE id = {remote_stale}",
        now - 11 * minute
    ));
    raw.exec(&format!(
        "UPDATE runs SET host = 'elsewhere', heartbeat_at = {} WHERE id = {remote_fresh}",
        now - minute
    ));
    let mut recovered = store.recover_interrupted().unwrap();
    recovered.sort();
    assert_eq!(recovered, vec![dead, reused, remote_stale]);
    for id in [dead, reused, remote_stale] {
        let run = store.run(id).unwrap();
        assert_eq!(run.status, RunStatus::Interrupted);
        assert!(run.ended_at.is_some());
    }
    for id in [alive, remote_fresh] {
        assert_eq!(store.run(id).unwrap().status, RunStatus::Running);
    }
    assert_eq!(store.run(done).unwrap().status, RunStatus::Completed);
    assert!(store.recover_interrupted().unwrap().is_empty());
    // A run taken for dead whose process was only slow can still record its outcome.
    store
        .finish_run(remote_stale, &completed(&findings([2])))
        .unwrap();
    assert_eq!(
        store.run(remote_stale).unwrap().status,
        RunStatus::Completed
    );
}

on_both_backends!(
    run_lifecycle,
    runs_are_listed_newest_first,
    interrupted_runs_are_recovered,
);
