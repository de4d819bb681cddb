//! The SQLite driver: one file, WAL mode, a busy timeout, and write transactions that take
//! the write lock when they begin.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use crate::Backend;
use crate::conn::{Conn, Row, Source, Value};

/// A connection to an SQLite file.
pub(crate) struct Sqlite {
    conn: Connection,
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Bytes(v) => ValueRef::Blob(v),
        }))
    }
}

/// `$1` → `?1`. The store's SQL holds no `$` in literals, so a plain scan suffices.
fn rewrite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

impl Sqlite {
    /// Opens (creating) the file, with the busy timeout and foreign keys on. The directory
    /// is created (mode 0700) when missing. The journal mode is set by [`Sqlite::use_wal`],
    /// after the schema version was found acceptable, so that a refused database is not
    /// changed.
    pub(crate) fn open(path: &Path, busy_timeout: Duration) -> Result<Sqlite, Source> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                use std::os::unix::fs::DirBuilderExt as _;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(busy_timeout)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        Ok(Sqlite { conn })
    }

    /// WAL mode (readers never block the writer, and a killed process leaves at most an
    /// uncommitted tail that the next opener ignores). `synchronous = NORMAL` is durable
    /// against a killed process, which is what a scanner meets; a power loss may lose the
    /// last transactions, never consistency.
    pub(crate) fn use_wal(&mut self) -> Result<(), Source> {
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("cannot use WAL mode (the journal mode is {mode})").into());
        }
        self.conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        Ok(())
    }
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

impl Conn for Sqlite {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Source> {
        let mut stmt = self.conn.prepare_cached(&rewrite(sql))?;
        let n = stmt.execute(rusqlite::params_from_iter(params))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Source> {
        let mut stmt = self.conn.prepare_cached(&rewrite(sql))?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(columns);
            for i in 0..columns {
                row.push(value(r.get_ref(i)?));
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), Source> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn begin_write(&mut self) -> Result<(), Source> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn begin_read(&mut self) -> Result<(), Source> {
        Ok(self.conn.execute_batch("BEGIN DEFERRED")?)
    }

    fn commit(&mut self) -> Result<(), Source> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<(), Source> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        Ok(self.conn.execute_batch("ROLLBACK")?)
    }

    fn lock_schema(&mut self) -> Result<(), Source> {
        Ok(())
    }

    fn table_exists(&mut self, name: &str) -> Result<bool, Source> {
        let rows = self.query(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            &[Value::Text(name.to_owned())],
        )?;
        Ok(matches!(rows.first().map(|r| &r.0[..]), Some([Value::Int(n)]) if *n > 0))
    }

    fn retryable(&self, _error: &Source) -> bool {
        // Writers wait for each other in the busy handler; a busy error after the timeout
        // is final.
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            rewrite("SELECT $1, $12 FROM t WHERE a = $2"),
            "SELECT ?1, ?12 FROM t WHERE a = ?2"
        );
        assert_eq!(rewrite("SELECT '$'"), "SELECT '$'");
    }
}
