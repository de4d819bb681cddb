//! A fresh database per test, on either backend, and a raw connection to look inside it.

use std::path::PathBuf;

use keyhound_store::{Backend, DbLocation, Error, OpenOptions, Store};

use keyhound_testkit::postgres::TestDatabase;

/// One test's database.
pub enum Db {
    /// A file in a temporary directory.
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    /// A database of its own on a PostgreSQL server, dropped at the end.
    Postgres(TestDatabase),
}

impl Db {
    /// A new SQLite file, in a directory that does not exist yet (the store creates it).
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("data/keyhound/keyhound.db");
        Db::Sqlite { _dir: dir, path }
    }

    /// A new PostgreSQL database; `None` when the PostgreSQL tests are explicitly skipped.
    pub fn postgres() -> Option<Db> {
        TestDatabase::new().map(Db::Postgres)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn location(&self) -> DbLocation {
        match self {
            Db::Sqlite { path, .. } => DbLocation::Sqlite(path.clone()),
            Db::Postgres(pg) => DbLocation::parse(pg.url()).expect("a postgres URL"),
        }
    }

    /// The location as `--db` takes it.
    pub fn spec(&self) -> String {
        match self {
            Db::Sqlite { path, .. } => path.display().to_string(),
            Db::Postgres(pg) => pg.url().to_owned(),
        }
    }

    pub fn try_open(&self, options: &OpenOptions) -> Result<Store, Error> {
        Store::open(&self.location(), options)
    }

    pub fn open_with(&self, options: &OpenOptions) -> Store {
        self.try_open(options).expect("open the store")
    }

    pub fn open(&self) -> Store {
        self.open_with(&OpenOptions::default())
    }

    /// A connection around the store, for looking at rows and planting odd ones.
    pub fn raw(&self) -> Raw {
        match self {
            Db::Sqlite { path, .. } => {
                let c = rusqlite::Connection::open(path).expect("open the file");
                c.busy_timeout(std::time::Duration::from_secs(30))
                    .expect("busy timeout");
                Raw::Sqlite(c, path.clone())
            }
            Db::Postgres(pg) => Raw::Postgres(
                postgres::Client::connect(pg.url(), postgres::NoTls).expect("connect"),
            ),
        }
    }
}

/// A raw connection. SQL given to it must read the same on both backends.
pub enum Raw {
    Sqlite(rusqlite::Connection, PathBuf),
    Postgres(postgres::Client),
}

impl Raw {
    pub fn exec(&mut self, sql: &str) {
        match self {
            Raw::Sqlite(c, _) => c.execute_batch(sql).expect(sql),
            Raw::Postgres(c) => c.batch_execute(sql).expect(sql),
        }
    }

    /// A query with one integer result.
    pub fn int(&mut self, sql: &str) -> i64 {
        match self {
            Raw::Sqlite(c, _) => c.query_row(sql, [], |r| r.get(0)).expect(sql),
            Raw::Postgres(c) => c.query_one(sql, &[]).expect(sql).get(0),
        }
    }

    /// A query with one text column.
    pub fn texts(&mut self, sql: &str) -> Vec<String> {
        match self {
            Raw::Sqlite(c, _) => {
                let mut s = c.prepare(sql).expect(sql);
                s.query_map([], |r| r.get(0))
                    .expect(sql)
                    .collect::<Result<_, _>>()
                    .expect(sql)
            }
            Raw::Postgres(c) => c
                .query(sql, &[])
                .expect(sql)
                .iter()
                .map(|r| r.get(0))
                .collect(),
        }
    }

    /// The store's tables.
    pub fn tables(&mut self) -> Vec<String> {
        let mut t = match self {
            Raw::Sqlite(..) => self.texts(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ),
            Raw::Postgres(_) => self.texts(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema()",
            ),
        };
        t.sort();
        t
    }

    /// Every row of every table, as text (PostgreSQL shows bytes as `\x` + hex).
    pub fn dump(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for table in self.tables() {
            let rows = match self {
                Raw::Sqlite(c, _) => {
                    let mut s = c
                        .prepare(&format!("SELECT * FROM {table}"))
                        .expect("select");
                    let n = s.column_count();
                    s.query_map([], |r| {
                        let mut row = Vec::new();
                        for i in 0..n {
                            row.push(format!("{:?}", r.get_ref(i)?));
                        }
                        Ok(row.join("|"))
                    })
                    .expect("rows")
                    .collect::<Result<Vec<_>, _>>()
                    .expect("rows")
                }
                Raw::Postgres(_) => self.texts(&format!("SELECT t::text FROM {table} t")),
            };
            out.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
        }
        out.sort();
        out
    }

    /// True when `needle` is anywhere in the database: the SQLite file, its WAL and shared
    /// memory (byte for byte), or any row of any PostgreSQL table (as text, and as the hex
    /// that bytes show as).
    pub fn contains(&mut self, needle: &[u8]) -> bool {
        match self {
            Raw::Sqlite(_, path) => {
                let mut files = vec![path.clone()];
                for suffix in ["-wal", "-shm", "-journal"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    files.push(p.into());
                }
                files.iter().any(|f| {
                    let bytes = fs_err::read(f).unwrap_or_default();
                    bytes.windows(needle.len()).any(|w| w == needle)
                })
            }
            Raw::Postgres(_) => {
                let text = String::from_utf8_lossy(needle).into_owned();
                let hex = hex::encode(needle);
                self.dump()
                    .iter()
                    .any(|row| row.contains(&text) || row.contains(&hex))
            }
        }
    }
}
