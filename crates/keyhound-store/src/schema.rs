//! Versioned migrations, one SQL file per version and backend, embedded in the binary.
//!
//! The version a database is at is the largest in `keyhound_schema`. Each migration runs in
//! its own transaction with the schema lock held (SQLite: the write lock of `BEGIN
//! IMMEDIATE`; PostgreSQL: an advisory transaction lock), and the version is read again
//! once the lock is held, so concurrent openers apply each migration exactly once. A
//! database at a version newer than this keyhound knows is refused before anything is
//! written.

use crate::conn::{Conn, Fail, Value};
use crate::{Backend, SchemaStatus};

/// One migration.
pub(crate) struct Migration {
    pub(crate) version: u32,
    pub(crate) name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

impl Migration {
    fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// Every migration, oldest first. Versions are 1, 2, 3... with no gaps.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "init",
    sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
    postgres: include_str!("../migrations/postgres/0001_init.sql"),
}];

/// The newest version this keyhound knows.
pub(crate) fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The version the database is at: 0 when it has no schema table.
pub(crate) fn current(conn: &mut dyn Conn) -> Result<u32, Fail> {
    if !conn.table_exists("keyhound_schema")? {
        return Ok(0);
    }
    let rows = conn.query("SELECT max(version) FROM keyhound_schema", &[])?;
    let version = match rows.first() {
        Some(row) => row.opt_int(0)?.unwrap_or(0),
        None => 0,
    };
    u32::try_from(version).map_err(|_| Fail::Corrupt(format!("schema version {version}")))
}

/// What went wrong while migrating.
pub(crate) enum MigrateError {
    /// Another process moved the database past what this keyhound knows.
    TooNew(u32),
    /// A migration failed; it was rolled back.
    Failed(&'static Migration, Fail),
    /// Reading the version failed.
    Other(Fail),
}

/// Applies every pending migration, each in its own transaction.
pub(crate) fn migrate(conn: &mut dyn Conn, now: i64) -> Result<SchemaStatus, MigrateError> {
    let start = current(conn).map_err(MigrateError::Other)?;
    let latest = latest();
    if start > latest {
        return Err(MigrateError::TooNew(start));
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > start) {
        match apply(conn, m, now) {
            Ok(true) => applied.push((m.version, m.name.to_owned())),
            Ok(false) => {}
            Err(Step::TooNew(v)) => return Err(MigrateError::TooNew(v)),
            Err(Step::Fail(f)) => return Err(MigrateError::Failed(m, f)),
        }
    }
    let current = current(conn).map_err(MigrateError::Other)?;
    Ok(SchemaStatus {
        current,
        latest,
        applied,
    })
}

enum Step {
    TooNew(u32),
    Fail(Fail),
}

impl From<Fail> for Step {
    fn from(e: Fail) -> Step {
        Step::Fail(e)
    }
}

impl From<crate::conn::Source> for Step {
    fn from(e: crate::conn::Source) -> Step {
        Step::Fail(Fail::Db(e))
    }
}

/// Applies `m` unless another process did first; true when this call applied it.
fn apply(conn: &mut dyn Conn, m: &Migration, now: i64) -> Result<bool, Step> {
    conn.begin_write()?;
    let result = (|| {
        conn.lock_schema()?;
        let version = current(conn)?;
        if version > latest() {
            return Err(Step::TooNew(version));
        }
        if version >= m.version {
            return Ok(false);
        }
        conn.batch(m.sql(conn.backend()))?;
        conn.execute(
            "INSERT INTO keyhound_schema (version, name, applied_at) VALUES ($1, $2, $3)",
            &[
                Value::Int(m.version.into()),
                Value::from(m.name),
                Value::Int(now),
            ],
        )?;
        Ok(true)
    })();
    match result {
        Ok(applied) => {
            conn.commit()?;
            Ok(applied)
        }
        Err(e) => {
            let _ = conn.rollback();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_both_backends_have_each() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1);
            assert!(!m.sqlite.trim().is_empty() && !m.postgres.trim().is_empty());
        }
    }

    #[test]
    fn both_backends_create_the_same_tables_and_columns() {
        fn columns(sql: &str) -> Vec<String> {
            let mut out = Vec::new();
            let mut table = String::new();
            for line in sql.lines().map(str::trim) {
                if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                    table = rest.trim_end_matches(" (").to_owned();
                } else if !table.is_empty()
                    && !line.is_empty()
                    && !line.starts_with("--")
                    && !line.starts_with(')')
                    && !line.starts_with("PRIMARY KEY")
                    && !line.starts_with("UNIQUE")
                {
                    let col = line.split_whitespace().next().unwrap_or_default();
                    out.push(format!("{table}.{col}"));
                }
                if line.starts_with(");") {
                    table.clear();
                }
            }
            out
        }
        for m in MIGRATIONS {
            assert_eq!(
                columns(m.sqlite),
                columns(m.postgres),
                "migration {}",
                m.version
            );
            assert!(columns(m.sqlite).len() > 50);
        }
    }
}
