//! The PostgreSQL driver, over the synchronous `postgres` client.
//!
//! TLS is out of scope for now: connections are plain TCP or a Unix socket (`NoTls`). A URL
//! that asks for TLS (`sslmode=require`, `verify-ca`, `verify-full`) is refused
//! ([`crate::DbLocation::parse`]) rather than silently connected in plain text; the default
//! `sslmode=prefer` falls back to plain text, as libpq does when the server has no TLS.

use std::collections::HashMap;
use std::time::Duration;

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use crate::Backend;
use crate::conn::{Conn, Row, Source, Value};

/// Every migration takes this advisory lock (inside its transaction), so that concurrent
/// openers apply each migration once. The value is "keyhound" in ASCII, as a number.
const SCHEMA_LOCK: i64 = 0x6b65_7968_6f75_6e64;

/// Prepared statements kept per connection; beyond this the cache starts over.
const CACHE: usize = 256;

/// A connection to a PostgreSQL database.
pub(crate) struct Postgres {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Source> {
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(v), &Type::INT8) => v.to_sql(ty, out),
            (Value::Int(v), &Type::INT4) => i32::try_from(*v)?.to_sql(ty, out),
            (Value::Int(v), &Type::INT2) => i16::try_from(*v)?.to_sql(ty, out),
            (Value::Int(v), &Type::BOOL) => (*v != 0).to_sql(ty, out),
            (Value::Real(v), &Type::FLOAT8) => v.to_sql(ty, out),
            (Value::Text(v), _) if <&str as ToSql>::accepts(ty) => v.as_str().to_sql(ty, out),
            (Value::Bytes(v), _) if <&[u8] as ToSql>::accepts(ty) => v.as_slice().to_sql(ty, out),
            _ => Err(format!("cannot bind {} to a parameter of type {ty}", self.kind()).into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`, which knows the value's kind.
        true
    }

    to_sql_checked!();
}

fn value(row: &postgres::Row, i: usize) -> Result<Value, Source> {
    let ty = row.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        }
        other => return Err(format!("column {i} has the unsupported type {other}").into()),
    }
    .unwrap_or(Value::Null))
}

impl Postgres {
    /// Connects. `lock_timeout` bounds how long a statement waits for a row another
    /// transaction holds.
    pub(crate) fn connect(url: &str, lock_timeout: Duration) -> Result<Postgres, Source> {
        let mut config: postgres::Config = url.parse()?;
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err("TLS connections are not supported yet (sslmode=require)".into());
        }
        if config.get_application_name().is_none() {
            config.application_name("keyhound");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(30));
        }
        let mut client = config.connect(NoTls)?;
        let ms = lock_timeout.as_millis().clamp(1, i32::MAX as u128);
        client.batch_execute(&format!(
            "SET lock_timeout = {ms}; SET client_min_messages = warning;"
        ))?;
        Ok(Postgres {
            client,
            statements: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, Source> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        if self.statements.len() >= CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Conn for Postgres {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, Source> {
        let stmt = self.statement(sql)?;
        Ok(self.client.execute(&stmt, &params(values))?)
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>, Source> {
        let stmt = self.statement(sql)?;
        let rows = self.client.query(&stmt, &params(values))?;
        rows.iter()
            .map(|r| (0..r.len()).map(|i| value(r, i)).collect::<Result<_, _>>())
            .map(|r| r.map(Row))
            .collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), Source> {
        Ok(self.client.batch_execute(sql)?)
    }

    fn begin_write(&mut self) -> Result<(), Source> {
        Ok(self.client.batch_execute("BEGIN")?)
    }

    fn begin_read(&mut self) -> Result<(), Source> {
        Ok(self
            .client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?)
    }

    fn commit(&mut self) -> Result<(), Source> {
        Ok(self.client.batch_execute("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<(), Source> {
        // Outside a transaction PostgreSQL only warns, and the warning is silenced above.
        Ok(self.client.batch_execute("ROLLBACK")?)
    }

    fn lock_schema(&mut self) -> Result<(), Source> {
        self.client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
        Ok(())
    }

    fn table_exists(&mut self, name: &str) -> Result<bool, Source> {
        let row = self.client.query_one(
            "SELECT count(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&name],
        )?;
        Ok(row.try_get::<_, i64>(0)? > 0)
    }

    fn retryable(&self, error: &Source) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
        while let Some(e) = cause {
            if let Some(pg) = e.downcast_ref::<postgres::Error>() {
                return matches!(
                    pg.code(),
                    Some(&SqlState::T_R_SERIALIZATION_FAILURE | &SqlState::T_R_DEADLOCK_DETECTED)
                );
            }
            cause = e.source();
        }
        false
    }
}
