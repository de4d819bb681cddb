//! Opening, migrating, and refusing databases from a newer keyhound.

use keyhound_store::{Backend, Error, OpenOptions, RunFilter, Store};

use crate::db::Db;
use crate::fixtures::{finding, scan};

fn open_creates_and_migrates(db: &Db) {
    let mut store = db.open();
    assert_eq!(store.backend(), db.backend());
    let status = store.schema_status().unwrap();
    assert!(status.current >= 1);
    assert_eq!(status.current, status.latest);
    // Running them again changes nothing.
    let again = store.migrate().unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(again.current, status.latest);
    drop(store);
    let mut raw = db.raw();
    assert_eq!(
        raw.int("SELECT count(*) FROM keyhound_schema"),
        i64::from(status.latest)
    );
    for table in [
        "findings",
        "locations",
        "matched_blobs",
        "repositories",
        "run_findings",
        "runs",
        "scan_sets",
        "triage_events",
        "validations",
    ] {
        assert!(raw.tables().contains(&table.to_owned()), "{table}");
    }
    if let Db::Sqlite { path, .. } = db {
        // Created with its directory, private to the user.
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs_err::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(raw.texts("PRAGMA journal_mode"), vec!["wal".to_owned()]);
    }
}

fn unmigrated_databases_wait_for_migrate(db: &Db) {
    let no_migrate = OpenOptions {
        migrate: false,
        ..OpenOptions::default()
    };
    match db.try_open(&no_migrate) {
        Err(Error::NeedsMigration { found: 0, .. }) => {}
        other => panic!("{other:?}"),
    }
    let mut store = Store::open_unmigrated(&db.location(), &no_migrate).unwrap();
    assert_eq!(store.schema_status().unwrap().current, 0);
    let err = store.runs(&RunFilter::default()).unwrap_err();
    assert!(matches!(err, Error::NeedsMigration { .. }), "{err}");
    assert!(err.to_string().contains("keyhound db migrate"), "{err}");
    let status = store.migrate().unwrap();
    assert_eq!(status.applied.first(), Some(&(1, "init".to_owned())));
    assert_eq!(status.current, status.latest);
    assert!(store.runs(&RunFilter::default()).unwrap().is_empty());
    // Now current: opening without migrations is fine.
    db.try_open(&no_migrate).unwrap();
}

fn newer_databases_are_refused_unchanged(db: &Db) {
    let mut store = db.open();
    scan(&mut store, "/src/app", &[finding(1)]);
    drop(store);
    let mut raw = db.raw();
    raw.exec(
        "INSERT INTO keyhound_schema (version, name, applied_at) VALUES (9999, 'from the future', 0)",
    );
    let before = raw.dump();
    drop(raw);
    let sqlite_file = |db: &Db| match db {
        Db::Sqlite { path, .. } => fs_err::read(path).ok(),
        Db::Postgres(_) => None,
    };
    let bytes_before = sqlite_file(db);
    for migrate in [true, false] {
        let options = OpenOptions {
            migrate,
            ..OpenOptions::default()
        };
        let err = db.try_open(&options).unwrap_err();
        match &err {
            Error::TooNew {
                found: 9999,
                supported,
                ..
            } => assert!(*supported < 9999),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("upgrade keyhound"), "{err}");
        let err = Store::open_unmigrated(&db.location(), &options).unwrap_err();
        assert!(matches!(err, Error::TooNew { .. }), "{err}");
    }
    assert_eq!(db.raw().dump(), before);
    if db.backend() == Backend::Sqlite {
        assert_eq!(sqlite_file(db), bytes_before, "the file changed");
    }
}

fn concurrent_openers_migrate_once(db: &Db) {
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                barrier.wait();
                let mut store = db.open();
                assert!(store.runs(&RunFilter::default()).unwrap().is_empty());
            });
        }
    });
    let mut raw = db.raw();
    assert_eq!(
        raw.int("SELECT count(*) FROM keyhound_schema WHERE version = 1"),
        1
    );
}

on_both_backends!(
    open_creates_and_migrates,
    unmigrated_databases_wait_for_migrate,
    newer_databases_are_refused_unchanged,
    concurrent_openers_migrate_once,
);
