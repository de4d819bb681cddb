//! `kill -9` in the middle of a scan leaves a consistent database: what was committed stays,
//! the killed run is found interrupted, and nothing of its transaction shows.
//!
//! The writer is this test binary itself, run again with [`CHILD`] set: then
//! [`child_writer`] (a no-op test otherwise) records one complete run and then begins and
//! finishes large runs in a loop, until the parent kills it while a transaction is open.

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use keyhound_store::{DbLocation, FindingFilter, OpenOptions, RunFilter, RunStatus, Store};

use crate::db::{Db, Raw};
use crate::fixtures::{completed, findings, new_run, scan};

/// The database the child writes to, as `--db` takes it.
const CHILD: &str = "KEYHOUND_STORE_TEST_KILL_CHILD";
/// Findings in the first, complete run.
const FIRST: u64 = 10;
/// Findings in each of the child's large runs: enough for a transaction of seconds.
const LARGE: u64 = 20_000;

/// The child's side. Without [`CHILD`] it does nothing: it is the parent's helper, not a test.
#[test]
fn child_writer() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let location = DbLocation::parse(&spec).unwrap();
    let mut store = Store::open(&location, &OpenOptions::default()).unwrap();
    let first = scan(&mut store, "/src/app", &findings(0..FIRST));
    println!("child: completed {first}");
    let large = findings(0..LARGE);
    loop {
        let run = store.begin_run(&new_run("/src/app")).unwrap();
        println!("child: begun {run}");
        store.finish_run(run, &completed(&large)).unwrap();
        println!("child: completed {run}");
    }
}

/// True while another connection holds an open write transaction.
fn writer_is_in_a_transaction(raw: &mut Raw) -> bool {
    match raw {
        Raw::Sqlite(c, _) => {
            c.busy_timeout(Duration::ZERO).unwrap();
            match c.execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => {
                    c.execute_batch("ROLLBACK").unwrap();
                    false
                }
                Err(_) => true,
            }
        }
        Raw::Postgres(c) => {
            let row = c
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND pid <> pg_backend_pid() AND xact_start IS NOT NULL \
                     AND backend_xid IS NOT NULL",
                    &[],
                )
                .unwrap();
            row.get::<_, i64>(0) > 0
        }
    }
}

fn killed_writer_leaves_a_consistent_database(db: &Db) {
    // The schema first, so that the child does not migrate while it is watched.
    drop(db.open());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill::child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, db.spec())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print `test kill::child_writer ... ` on the same line first.
            if let Some(at) = line.find("child: ") {
                let _ = tx.send(line[at + "child: ".len()..].to_owned());
            }
        }
    });
    let mut completed_runs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    // Wait for the first large run to begin.
    loop {
        let event = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the child writer reports its runs");
        if let Some(id) = event.strip_prefix("completed ") {
            completed_runs.push(id.parse::<i64>().unwrap());
        }
        if event.starts_with("begun ") {
            break;
        }
    }
    // Then until its transaction is open.
    let mut raw = db.raw();
    while !writer_is_in_a_transaction(&mut raw) {
        assert!(
            Instant::now() < deadline,
            "never saw the writer's transaction"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    while let Ok(event) = rx.try_recv() {
        if let Some(id) = event.strip_prefix("completed ") {
            completed_runs.push(id.parse::<i64>().unwrap());
        }
    }
    drop(raw);

    if let Db::Sqlite { .. } = db {
        let mut raw = db.raw();
        assert_eq!(raw.texts("PRAGMA integrity_check"), vec!["ok".to_owned()]);
        assert_eq!(raw.texts("PRAGMA foreign_key_check"), Vec::<String>::new());
    }
    let mut store = db.open();
    let interrupted = store.recover_interrupted().unwrap();
    assert!(!interrupted.is_empty(), "the killed run was not found");
    for id in &interrupted {
        assert_eq!(store.run(*id).unwrap().status, RunStatus::Interrupted);
        // Nothing of its transaction was committed.
        let seen = store
            .findings(&FindingFilter {
                run: Some(*id),
                ..FindingFilter::default()
            })
            .unwrap();
        assert!(seen.is_empty(), "run {id} has {} findings", seen.len());
    }
    // Everything committed before is there, whole.
    let first = completed_runs[0];
    let run = store.run(first).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.findings, FIRST);
    for run in store.runs(&RunFilter::default()).unwrap() {
        let recorded = store
            .findings(&FindingFilter {
                run: Some(run.id),
                ..FindingFilter::default()
            })
            .unwrap()
            .len() as u64;
        match run.status {
            RunStatus::Completed => assert_eq!(recorded, run.findings, "run {}", run.id),
            RunStatus::Interrupted => assert_eq!(recorded, 0),
            other => panic!("run {} is {other:?}", run.id),
        }
    }
    for id in &completed_runs {
        assert_eq!(store.run(*id).unwrap().status, RunStatus::Completed);
    }
    // And the store goes on.
    scan(&mut store, "/src/app", &findings(0..3));
}

on_both_backends!(killed_writer_leaves_a_consistent_database);
