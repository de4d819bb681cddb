//! The store's conformance suite: every test in the topic modules runs on SQLite and on a real
//! PostgreSQL (`<topic>::sqlite::<test>` and `<topic>::postgres::<test>`), through
//! [`on_both_backends!`]. PostgreSQL comes from `KEYHOUND_TEST_POSTGRES_URL` or from a throwaway
//! cluster the harness starts (`keyhound_testkit::postgres`); see [`db::Db::postgres`].

// The suite's bodies are plain functions that the generated tests call (so clippy does not
// see them as tests): an unwrap that fails is a test that fails.
#![allow(clippy::unwrap_used)]

/// Generates, for each named `fn name(db: &Db)` of the calling module, a test on SQLite and a
/// test on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&$crate::db::Db::sqlite());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = $crate::db::Db::postgres() {
                        super::$name(&db);
                    }
                }
            )*
        }
    };
}

mod concurrency;
mod db;
mod diff;
mod findings;
mod fixtures;
mod kill;
mod memory;
mod runs;
mod schema;
mod secrets;
mod triage;
