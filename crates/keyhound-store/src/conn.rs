//! The small SQL interface both drivers implement, so that the store's queries are written
//! once.
//!
//! SQL is written with `$1, $2…` placeholders (PostgreSQL's; the SQLite driver rewrites them
//! to `?1, ?2…`) and uses only what both dialects share: `INSERT … ON CONFLICT … DO UPDATE`,
//! `RETURNING`, `excluded.`, `COALESCE`, `CASE`. Integers are 64-bit on both sides,
//! timestamps are microseconds since the Unix epoch and JSON is text.

use crate::Backend;

/// A driver error, kept as the cause of [`crate::Error::Query`].
pub(crate) type Source = Box<dyn std::error::Error + Send + Sync>;

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (booleans come back as 0 and 1).
    Int(i64),
    /// A double.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (BLOB, BYTEA).
    Bytes(Vec<u8>),
}

impl Value {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a real",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// What went wrong below the store's API: a driver error, a row that does not parse, or an
/// API error decided inside a transaction.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The driver failed.
    Db(Source),
    /// Stored data does not parse.
    Corrupt(String),
    /// An error of the API (not found, no key...).
    Api(crate::Error),
}

impl From<Source> for Fail {
    fn from(e: Source) -> Fail {
        Fail::Db(e)
    }
}

impl From<crate::Error> for Fail {
    fn from(e: crate::Error) -> Fail {
        Fail::Api(e)
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    fn get(&self, i: usize) -> Result<&Value, Fail> {
        self.0
            .get(i)
            .ok_or_else(|| Fail::Corrupt(format!("a row has no column {i}")))
    }

    fn unexpected(&self, i: usize, wanted: &str) -> Fail {
        let found = self.0.get(i).map_or("nothing", Value::kind);
        Fail::Corrupt(format!("column {i} holds {found}, not {wanted}"))
    }

    /// An integer column.
    pub(crate) fn int(&self, i: usize) -> Result<i64, Fail> {
        self.opt_int(i)?
            .ok_or_else(|| self.unexpected(i, "an integer"))
    }

    /// A nullable integer column.
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, Fail> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            _ => Err(self.unexpected(i, "an integer")),
        }
    }

    /// A boolean column (an integer on SQLite, a boolean on PostgreSQL).
    pub(crate) fn bool(&self, i: usize) -> Result<bool, Fail> {
        Ok(self.int(i)? != 0)
    }

    /// A text column.
    pub(crate) fn text(&self, i: usize) -> Result<&str, Fail> {
        self.opt_text(i)?.ok_or_else(|| self.unexpected(i, "text"))
    }

    /// A nullable text column.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<&str>, Fail> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            _ => Err(self.unexpected(i, "text")),
        }
    }

    /// A nullable bytes column.
    pub(crate) fn opt_bytes(&self, i: usize) -> Result<Option<&[u8]>, Fail> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Bytes(v) => Ok(Some(v)),
            _ => Err(self.unexpected(i, "bytes")),
        }
    }

    /// A bytes column.
    pub(crate) fn bytes(&self, i: usize) -> Result<&[u8], Fail> {
        self.opt_bytes(i)?
            .ok_or_else(|| self.unexpected(i, "bytes"))
    }
}

/// A connection to one database. Every method but [`Conn::begin_write`] and
/// [`Conn::begin_read`] runs in the current transaction, if one is open, or on its own.
pub(crate) trait Conn: Send {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Runs one statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Source>;

    /// Runs one query; returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Source>;

    /// Runs several statements without parameters (a migration).
    fn batch(&mut self, sql: &str) -> Result<(), Source>;

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that upgrades later gets `SQLITE_BUSY`
    /// without waiting in WAL mode.
    fn begin_write(&mut self) -> Result<(), Source>;

    /// Starts a read-only transaction: its queries see one snapshot.
    fn begin_read(&mut self) -> Result<(), Source>;

    /// Commits the current transaction.
    fn commit(&mut self) -> Result<(), Source>;

    /// Rolls back the current transaction, if any.
    fn rollback(&mut self) -> Result<(), Source>;

    /// Inside a write transaction, waits until no other connection is migrating. On SQLite
    /// the write lock already does it.
    fn lock_schema(&mut self) -> Result<(), Source>;

    /// True when the table exists.
    fn table_exists(&mut self, name: &str) -> Result<bool, Source>;

    /// True when the error is a serialization failure or a deadlock, after which the whole
    /// transaction should be tried again.
    fn retryable(&self, error: &Source) -> bool;
}

/// A statement being built with numbered placeholders (for queries whose filters vary).
#[derive(Debug, Default)]
pub(crate) struct Sql {
    /// The text.
    pub(crate) text: String,
    /// The parameters, in placeholder order.
    pub(crate) params: Vec<Value>,
}

impl Sql {
    /// Starts with `text`.
    pub(crate) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter and returns its placeholder.
    pub(crate) fn param(&mut self, v: impl Into<Value>) -> String {
        self.params.push(v.into());
        format!("${}", self.params.len())
    }

    /// Adds parameters and returns `($1, $2…)`.
    pub(crate) fn list<V: Into<Value>>(&mut self, vs: impl IntoIterator<Item = V>) -> String {
        let items: Vec<String> = vs.into_iter().map(|v| self.param(v)).collect();
        format!("({})", items.join(", "))
    }

    /// Appends text.
    pub(crate) fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_convert_or_say_why_not() {
        let row = Row(vec![Value::Int(3), Value::Null, Value::Text("x".into())]);
        assert_eq!(row.int(0).unwrap(), 3);
        assert_eq!(row.opt_int(1).unwrap(), None);
        assert_eq!(row.text(2).unwrap(), "x");
        assert!(matches!(row.text(0), Err(Fail::Corrupt(m)) if m.contains("integer")));
        assert!(matches!(row.int(7), Err(Fail::Corrupt(_))));
    }

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        let a = sql.param(1i64);
        sql.push(&a);
        let l = sql.list(["x", "y"]);
        sql.push(&format!(" AND b IN {l}"));
        assert_eq!(sql.text, "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(sql.params.len(), 3);
    }
}
