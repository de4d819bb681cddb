//! Secret values: never stored unless asked, and then only encrypted.

use keyhound_engine::Secret;
use keyhound_store::{Error, FindingFilter, OpenOptions, RunResult, SecretKey};

use crate::db::Db;
use crate::fixtures::{completed, finding, findings, new_run, value};

fn key(dir: &tempfile::TempDir, name: &str) -> SecretKey {
    SecretKey::load_or_create(&dir.path().join(name)).unwrap()
}

fn values_are_not_stored_by_default(db: &Db) {
    let keys = tempfile::tempdir().unwrap();
    // Even with a key at hand, nothing is stored unless asked.
    let mut store = db.open_with(&OpenOptions {
        secret_key: Some(key(&keys, "k")),
        ..OpenOptions::default()
    });
    let found = findings(0..5);
    let run = store.begin_run(&new_run("/src/app")).unwrap();
    store.finish_run(run, &completed(&found)).unwrap();
    for f in &found {
        assert_eq!(store.secret(&f.fingerprint).unwrap(), None);
    }
    assert!(
        store
            .findings(&FindingFilter::default())
            .unwrap()
            .iter()
            .all(|f| !f.secret_stored)
    );
    drop(store);
    let mut raw = db.raw();
    for seed in 0..5 {
        let v = value(seed);
        assert!(
            !raw.contains(v.as_bytes()),
            "the value of finding {seed} is in the database"
        );
        // Not even a long part of it.
        assert!(!raw.contains(&v.as_bytes()[10..40]));
    }
    // The redacted preview is there: the check above does look at the data.
    assert!(raw.contains(found[0].redacted().as_bytes()));
}

fn values_are_stored_encrypted_when_asked(db: &Db) {
    let keys = tempfile::tempdir().unwrap();
    let k1 = key(&keys, "k1");
    let with_key = |k: Option<SecretKey>| OpenOptions {
        secret_key: k,
        ..OpenOptions::default()
    };
    // Asking without a key records nothing.
    let mut keyless = db.open();
    let found = findings(0..3);
    let run = keyless.begin_run(&new_run("/src/app")).unwrap();
    let storing = RunResult {
        store_secrets: true,
        ..completed(&found)
    };
    assert!(matches!(
        keyless.finish_run(run, &storing),
        Err(Error::NoKey)
    ));
    assert!(
        keyless
            .findings(&FindingFilter::default())
            .unwrap()
            .is_empty()
    );
    drop(keyless);

    let mut store = db.open_with(&with_key(Some(k1.clone())));
    // A finding read back from the store has no value to store: it is skipped.
    let mut withheld = finding(9);
    withheld.secret = Secret::withheld(withheld.redacted());
    let mut all = found.clone();
    all.push(withheld.clone());
    store
        .finish_run(
            run,
            &RunResult {
                store_secrets: true,
                ..completed(&all)
            },
        )
        .unwrap();
    for f in &found {
        let back = store.secret(&f.fingerprint).unwrap().unwrap();
        assert_eq!(back.expose(), f.secret.expose());
        assert!(store.finding(&f.fingerprint).unwrap().finding.secret_stored);
    }
    assert_eq!(store.secret(&withheld.fingerprint).unwrap(), None);
    drop(store);
    let mut raw = db.raw();
    for seed in 0..3 {
        assert!(
            !raw.contains(value(seed).as_bytes()),
            "finding {seed} in clear"
        );
    }
    drop(raw);

    // Another key: the values do not decrypt, and it says so; the findings stay.
    let k2 = key(&keys, "k2");
    let mut other = db.open_with(&with_key(Some(k2.clone())));
    match other.secret(&found[0].fingerprint) {
        Err(Error::Decrypt {
            fingerprint,
            key_id,
        }) => {
            assert_eq!(fingerprint, found[0].fingerprint);
            assert_eq!(key_id, k2.id());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(other.findings(&FindingFilter::default()).unwrap().len(), 4);
    // No key: the values cannot be read, the findings can.
    let mut none = db.open();
    assert!(matches!(
        none.secret(&found[0].fingerprint),
        Err(Error::NoKey)
    ));
    assert_eq!(none.findings(&FindingFilter::default()).unwrap().len(), 4);
    // A later run storing under the new key re-encrypts under it.
    let again = other.begin_run(&new_run("/src/app")).unwrap();
    other
        .finish_run(
            again,
            &RunResult {
                store_secrets: true,
                ..completed(&found[..1])
            },
        )
        .unwrap();
    assert_eq!(
        other
            .secret(&found[0].fingerprint)
            .unwrap()
            .unwrap()
            .expose(),
        found[0].secret.expose()
    );
    // And a value stored under a key can be copied to no other finding: it is bound to its
    // fingerprint.
    let mut raw = db.raw();
    raw.exec(&format!(
        "UPDATE findings SET secret_ciphertext = (SELECT secret_ciphertext FROM findings WHERE fingerprint = '{a}'), \
         secret_nonce = (SELECT secret_nonce FROM findings WHERE fingerprint = '{a}'), \
         secret_key_id = '{id}' WHERE fingerprint = '{b}'",
        a = found[0].fingerprint,
        b = found[1].fingerprint,
        id = k2.id(),
    ));
    assert!(matches!(
        other.secret(&found[1].fingerprint),
        Err(Error::Decrypt { .. })
    ));
}

on_both_backends!(
    values_are_not_stored_by_default,
    values_are_stored_encrypted_when_asked,
);
