//! keyhound's findings store: one API over SQLite (the default, embedded) and PostgreSQL (for
//! teams and many workers).
//!
//! It keeps **runs** (each scan, with its target, status and statistics), **findings** (one per
//! distinct secret, keyed by its value-based fingerprint, with a redacted preview and decoded
//! facts, first and last seen), their **locations** (with git provenance), **validation**
//! results over time, **triage** events (who decided what, when, why), and the memory of
//! full-history scans that lets the next scan of a repository skip what it already read
//! ([`keyhound_scan::incremental`]). Secret values are stored only when asked, encrypted with
//! XChaCha20-Poly1305 under a key kept outside the database ([`SecretKey`]).
//!
//! The schema lives in SQL files, one set per backend (`migrations/sqlite`,
//! `migrations/postgres`), embedded and applied on open. A database written by a newer
//! keyhound is refused, never modified.
//!
//! This crate does not scan, render or decide policy: it stores what the scan layer produced
//! and answers queries.
//!
//! ```no_run
//! use keyhound_store::{DbLocation, OpenOptions, Store};
//! let mut store = Store::open(&DbLocation::parse("/tmp/keyhound.db")?, &OpenOptions::default())?;
//! for run in store.runs(&Default::default())? {
//!     println!("run {} of {}: {}", run.id, run.target, run.status.as_str());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod conn;
mod crypt;
mod location;
mod memory;
mod pg;
mod process;
mod read;
mod record;
mod schema;
mod sqlite;

use std::path::{Path, PathBuf};
use std::time::Duration;

use keyhound_engine::{Facts, Secret};
use keyhound_rules::{Confidence, Severity};
use keyhound_scan::incremental::{RepoMemory, RepoRecord};
use keyhound_scan::{Checks, Finding, Location, Presence};
use serde::Serialize;

/// A run's id: 1, 2, 3... in the order runs started.
pub type RunId = i64;

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// An SQLite file (created on first use, with its directory).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:pass@host:port/db?sslmode=...`).
    Postgres(String),
}

impl DbLocation {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or any
    /// other text is the path of an SQLite file.
    ///
    /// A PostgreSQL URL that asks for TLS (`sslmode=require`, `verify-ca`, `verify-full`) is
    /// refused ([`Error::BadLocation`]): this version connects without TLS and does not
    /// pretend otherwise.
    pub fn parse(spec: &str) -> Result<DbLocation, Error> {
        location::parse(spec)
    }

    /// The location for messages: a path, or the URL without its password.
    pub fn redacted(&self) -> String {
        location::redacted(self)
    }
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long SQLite waits for another writer before giving up (its busy timeout); also
    /// the PostgreSQL lock timeout.
    pub busy_timeout: Duration,
    /// Apply pending migrations on open (default). When false, a database behind the
    /// current schema is an error that says to run `keyhound db migrate`.
    pub migrate: bool,
    /// The key that encrypts stored secret values; without it values are neither stored
    /// nor read back.
    pub secret_key: Option<SecretKey>,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions {
            busy_timeout: Duration::from_secs(30),
            migrate: true,
            secret_key: None,
        }
    }
}

/// The key that encrypts stored secret values (XChaCha20-Poly1305, 32 bytes). It lives in a
/// file of its own, mode 0600, outside the database: a copy of the database without the key
/// reveals no value, and losing the key loses the values only, never the findings.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; 32],
    /// A short public id of the key (a hash), stored beside each value so that a value under
    /// another key is reported as such.
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    /// Reads the key at `path`, or creates it (random, mode 0600, its directory 0700) when
    /// the file does not exist. A file that exists but is not a key is an error, never
    /// overwritten.
    pub fn load_or_create(path: &Path) -> Result<SecretKey, Error> {
        SecretKey::read_or_create(path)
    }

    /// Reads the key at `path`; `Ok(None)` when there is no such file.
    pub fn load(path: &Path) -> Result<Option<SecretKey>, Error> {
        SecretKey::read(path)
    }

    /// The key's public id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The schema's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// The version the database is at (0: empty).
    pub current: u32,
    /// The newest version this keyhound knows.
    pub latest: u32,
    /// Migrations applied by this call, `(version, name)`.
    pub applied: Vec<(u32, String)>,
}

/// What kind of work a run was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunKind {
    /// `keyhound scan`.
    Scan,
}

impl RunKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Scan => "scan",
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished: its process is working, or died and nobody noticed yet.
    Running,
    /// Finished; its findings are recorded.
    Completed,
    /// Finished with an error; whatever it recorded stays.
    Failed,
    /// Its process died before it finished (found and marked by a later start).
    Interrupted,
}

impl RunStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// A run about to start.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Kind.
    pub kind: RunKind,
    /// What it scans, normalized by the caller (absolute paths and URLs without credentials,
    /// space-separated): runs of the same target are compared by `diff`.
    pub target: String,
    /// The rule set's version ([`keyhound_scan::incremental::rules_version`]).
    pub rules_version: String,
    /// keyhound's version.
    pub keyhound_version: String,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// Id.
    pub id: RunId,
    /// Kind.
    pub kind: RunKind,
    /// Target.
    pub target: String,
    /// Status.
    pub status: RunStatus,
    /// When it started.
    pub started_at: jiff::Timestamp,
    /// When it ended (completed, failed, or when it was found interrupted).
    pub ended_at: Option<jiff::Timestamp>,
    /// The statistics the caller gave at the end (inputs, bytes, skips...), `{}` before.
    pub stats: serde_json::Value,
    /// The rule set's version.
    pub rules_version: String,
    /// keyhound's version.
    pub keyhound_version: String,
    /// The host and process that ran it.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Distinct findings it recorded.
    pub findings: u64,
    /// Why it failed, for failed runs.
    pub error: Option<String>,
}

/// The outcome of a run, recorded by [`Store::finish_run`] in one transaction.
#[derive(Debug, Clone)]
pub struct RunResult<'a> {
    /// `Completed` or `Failed`.
    pub status: RunStatus,
    /// Statistics to keep with the run (any JSON object).
    pub stats: serde_json::Value,
    /// The findings the run reports (after suppressions), with their checks.
    pub findings: &'a [Finding],
    /// Store the secret values, encrypted (`--store-secrets`). Needs the store's
    /// [`OpenOptions::secret_key`].
    pub store_secrets: bool,
    /// What full-history scans learnt about repositories.
    pub repos: &'a [RepoRecord],
    /// Why it failed.
    pub error: Option<String>,
}

/// Triage decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TriageStatus {
    /// To be looked at (every new finding).
    Open,
    /// Not a secret.
    FalsePositive,
    /// A real secret whose risk is accepted.
    AcceptedRisk,
    /// Revoked at its provider: harmless even where it still appears.
    Revoked,
    /// Removed. A fixed finding seen again is reopened automatically.
    Fixed,
}

impl TriageStatus {
    /// Every status.
    pub const ALL: [TriageStatus; 5] = [
        TriageStatus::Open,
        TriageStatus::FalsePositive,
        TriageStatus::AcceptedRisk,
        TriageStatus::Revoked,
        TriageStatus::Fixed,
    ];

    /// The name stored and shown (`false-positive`...).
    pub fn as_str(self) -> &'static str {
        match self {
            TriageStatus::Open => "open",
            TriageStatus::FalsePositive => "false-positive",
            TriageStatus::AcceptedRisk => "accepted-risk",
            TriageStatus::Revoked => "revoked",
            TriageStatus::Fixed => "fixed",
        }
    }

    /// The status named `s`.
    pub fn parse(s: &str) -> Option<TriageStatus> {
        TriageStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A triage decision to record.
#[derive(Debug, Clone)]
pub struct NewTriage {
    /// The new status.
    pub status: TriageStatus,
    /// Who decided (`alice`, `alice@host`, a CI job...).
    pub actor: String,
    /// Why.
    pub comment: Option<String>,
}

/// A recorded triage decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriageEvent {
    /// The finding.
    pub fingerprint: String,
    /// The status set.
    pub status: TriageStatus,
    /// Who.
    pub actor: String,
    /// When.
    pub at: jiff::Timestamp,
    /// Why.
    pub comment: Option<String>,
    /// The run that caused it, for automatic events (a fixed finding seen again).
    pub run: Option<RunId>,
}

/// One validation result, as it was at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationRecord {
    /// The run that checked.
    pub run: Option<RunId>,
    /// When.
    pub checked_at: jiff::Timestamp,
    /// `live`, `invalid`, `expired`, `revoked`, `forbidden`, `unknown`.
    pub status: String,
    /// The whole result (`keyhound_scan::Checks::validation`).
    pub detail: serde_json::Value,
}

/// A finding as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredFinding {
    /// Value-based fingerprint (32 hex characters).
    pub fingerprint: String,
    /// The rule.
    pub rule_id: String,
    /// The rule's name.
    pub rule_name: String,
    /// The rule's category.
    pub category: String,
    /// Severity (as of the last run that saw it).
    pub severity: Severity,
    /// Confidence.
    pub confidence: Confidence,
    /// The redacted preview.
    pub redacted: String,
    /// Decoded facts.
    pub facts: Facts,
    /// The first run that saw it, and when.
    pub first_seen_run: RunId,
    /// When it was first seen.
    pub first_seen_at: jiff::Timestamp,
    /// The last run that saw it.
    pub last_seen_run: RunId,
    /// When it was last seen.
    pub last_seen_at: jiff::Timestamp,
    /// The current triage status.
    pub status: TriageStatus,
    /// The latest validation status, if it was ever validated.
    pub validity: Option<String>,
    /// Presence in its repository, as of the last run that saw it.
    pub presence: Option<Presence>,
    /// The latest checks (validation and blast radius).
    pub checks: Checks,
    /// True when an encrypted value is stored.
    pub secret_stored: bool,
    /// The locations the last run that saw it recorded.
    pub locations: Vec<Location>,
}

impl StoredFinding {
    /// The finding in the scan layer's shape, for the renderers. `secret` is the value when
    /// the caller has it ([`Store::secret`]); otherwise the finding carries a
    /// [`Secret::withheld`] preview.
    pub fn to_finding(&self, secret: Option<Secret>) -> Finding {
        Finding {
            fingerprint: self.fingerprint.clone(),
            rule_id: self.rule_id.clone(),
            rule_name: self.rule_name.clone(),
            category: self.category.clone(),
            severity: self.severity,
            confidence: self.confidence,
            secret: secret.unwrap_or_else(|| Secret::withheld(self.redacted.clone())),
            facts: self.facts.clone(),
            locations: self.locations.clone(),
            presence: self.presence,
            checks: self.checks.clone(),
        }
    }
}

/// Everything about one finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingDetail {
    /// The finding.
    #[serde(flatten)]
    pub finding: StoredFinding,
    /// Every location ever recorded, with the runs that first and last saw it.
    pub all_locations: Vec<LocationRecord>,
    /// Triage history, oldest first.
    pub triage: Vec<TriageEvent>,
    /// Validation history, oldest first.
    pub validations: Vec<ValidationRecord>,
    /// The runs it appeared in, oldest first.
    pub runs: Vec<RunId>,
}

/// A location with the runs that saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationRecord {
    /// The location.
    #[serde(flatten)]
    pub location: Location,
    /// The first run that recorded it.
    pub first_seen_run: RunId,
    /// The last run that recorded it.
    pub last_seen_run: RunId,
}

/// Which findings to list. Empty lists and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Rule ids.
    pub rules: Vec<String>,
    /// Severities.
    pub severities: Vec<Severity>,
    /// Triage statuses.
    pub statuses: Vec<TriageStatus>,
    /// Latest validation statuses (`live`...; `unchecked` for never validated).
    pub validity: Vec<String>,
    /// Only findings that a run of this target recorded.
    pub target: Option<String>,
    /// Only findings first seen at or after this time.
    pub since: Option<jiff::Timestamp>,
    /// Only findings this run recorded.
    pub run: Option<RunId>,
    /// At most this many, most severe and most recent first.
    pub limit: Option<u64>,
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Only runs of this target.
    pub target: Option<String>,
    /// Only runs with these statuses.
    pub statuses: Vec<RunStatus>,
    /// At most this many, newest first.
    pub limit: Option<u64>,
}

/// One finding in a diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffEntry {
    /// The finding (as stored now).
    #[serde(flatten)]
    pub finding: StoredFinding,
    /// Its validation status in the first run, when it was in it and validated.
    pub validity_before: Option<String>,
    /// Its validation status in the second run.
    pub validity_after: Option<String>,
}

/// What changed between two runs. Every finding of either run is in exactly one list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// The earlier run.
    pub from: Run,
    /// The later run.
    pub to: Run,
    /// In `to` only.
    pub new: Vec<DiffEntry>,
    /// In `from` only.
    pub fixed: Vec<DiffEntry>,
    /// In both, with the same validity.
    pub unchanged: Vec<DiffEntry>,
    /// In both, with a different validity (`live` → `revoked`...).
    pub changed: Vec<DiffEntry>,
}

/// Errors of the store. Messages name the database (without its password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database cannot be opened or reached.
    #[error("cannot open the database {location}")]
    Open {
        /// Where.
        location: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database was written by a newer keyhound.
    #[error(
        "the database {location} has schema version {found}, newer than this keyhound knows ({supported}); upgrade keyhound"
    )]
    TooNew {
        /// Where.
        location: String,
        /// Its version.
        found: u32,
        /// Ours.
        supported: u32,
    },
    /// The database needs migrations and [`OpenOptions::migrate`] is off.
    #[error(
        "the database {location} is at schema version {found}, this keyhound needs {supported}; run `keyhound db migrate`"
    )]
    NeedsMigration {
        /// Where.
        location: String,
        /// Its version.
        found: u32,
        /// Ours.
        supported: u32,
    },
    /// A migration failed (it was rolled back).
    #[error("migration {version} ({name}) failed on {location}")]
    Migration {
        /// Where.
        location: String,
        /// Which.
        version: u32,
        /// Its name.
        name: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A query failed.
    #[error("database error on {location} while {doing}")]
    Query {
        /// Where.
        location: String,
        /// What the store was doing (`recording run 4`).
        doing: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No finding, run... with that id.
    #[error("no {what} {id}")]
    NotFound {
        /// `finding`, `run`.
        what: &'static str,
        /// The id or prefix asked for.
        id: String,
    },
    /// A fingerprint prefix matches more than one finding.
    #[error("fingerprint prefix {prefix} matches {count} findings; give more characters")]
    Ambiguous {
        /// The prefix.
        prefix: String,
        /// How many.
        count: u64,
    },
    /// The key file cannot be read or created.
    #[error("cannot use the secret key file {path}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key file exists but does not hold a key.
    #[error("the secret key file {path} does not hold a keyhound key")]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// `store_secrets` without a key.
    #[error("storing secret values needs a secret key")]
    NoKey,
    /// A stored value is under another key, or damaged.
    #[error("the stored value of finding {fingerprint} cannot be decrypted with key {key_id}")]
    Decrypt {
        /// The finding.
        fingerprint: String,
        /// The key tried.
        key_id: String,
    },
    /// Stored data that does not parse (a damaged row).
    #[error("damaged data in the database {location}: {what}")]
    Corrupt {
        /// Where.
        location: String,
        /// What.
        what: String,
    },
    /// A database location that cannot be used as given.
    #[error("cannot use the database location {location}: {reason}")]
    BadLocation {
        /// The location (without its password).
        location: String,
        /// Why.
        reason: String,
    },
    /// A request the store cannot carry out as asked (finishing a run twice, a fingerprint
    /// prefix that is too short...).
    #[error("{what}")]
    Invalid {
        /// What is wrong.
        what: String,
    },
}

/// The error for a failure below the API while `doing` something on `location`.
fn fail(f: conn::Fail, location: &str, doing: &str) -> Error {
    match f {
        conn::Fail::Db(source) => Error::Query {
            location: location.to_owned(),
            doing: doing.to_owned(),
            source,
        },
        conn::Fail::Corrupt(what) => Error::Corrupt {
            location: location.to_owned(),
            what,
        },
        conn::Fail::Api(e) => e,
    }
}

/// Now, in microseconds since the epoch (the store's timestamps).
fn now() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// A write transaction is tried this many times when PostgreSQL reports a serialization
/// failure or a deadlock.
const WRITE_ATTEMPTS: u32 = 5;

/// Runs `f` in one write transaction, committed when it succeeds and rolled back when it
/// fails; tried again from the start after a serialization failure or a deadlock.
fn write<T>(
    conn: &mut dyn conn::Conn,
    location: &str,
    doing: &str,
    mut f: impl FnMut(&mut dyn conn::Conn) -> Result<T, conn::Fail>,
) -> Result<T, Error> {
    let mut attempt = 1;
    loop {
        let outcome = (|| {
            conn.begin_write()?;
            let value = f(&mut *conn)?;
            conn.commit()?;
            Ok(value)
        })();
        match outcome {
            Ok(v) => return Ok(v),
            Err(e) => {
                let _ = conn.rollback();
                let retry = matches!(&e, conn::Fail::Db(s) if conn.retryable(s));
                if retry && attempt < WRITE_ATTEMPTS {
                    tracing::debug!(attempt, doing, "transaction conflict; trying again");
                    std::thread::sleep(Duration::from_millis(
                        (10 << attempt) + rand::random::<u64>() % 10,
                    ));
                    attempt += 1;
                    continue;
                }
                return Err(fail(e, location, doing));
            }
        }
    }
}

/// Runs `f` in one read-only transaction, so that its queries see one state.
fn read<T>(
    conn: &mut dyn conn::Conn,
    location: &str,
    doing: &str,
    f: impl FnOnce(&mut dyn conn::Conn) -> Result<T, conn::Fail>,
) -> Result<T, Error> {
    let outcome = (|| {
        conn.begin_read()?;
        let value = f(&mut *conn)?;
        conn.commit()?;
        Ok(value)
    })();
    outcome.map_err(|e| {
        let _ = conn.rollback();
        fail(e, location, doing)
    })
}

/// The findings store: one connection to one database. It is `Send`; share it behind a
/// mutex, or open one store per thread (writers wait for each other).
pub struct Store {
    conn: Box<dyn conn::Conn>,
    /// The location without its password, for messages.
    location: String,
    key: Option<SecretKey>,
    /// The schema version the database is at.
    schema: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .field("backend", &self.conn.backend())
            .field("schema", &self.schema)
            .field("key", &self.key)
            .finish()
    }
}

impl Store {
    /// Opens (creating an SQLite file and its directory if needed) and brings the schema up to
    /// date, unless [`OpenOptions::migrate`] is off. Refuses a newer schema
    /// ([`Error::TooNew`]) without writing anything.
    pub fn open(location: &DbLocation, options: &OpenOptions) -> Result<Store, Error> {
        let mut store = Store::connect(location, options)?;
        if store.schema < schema::latest() {
            if !options.migrate {
                return Err(store.needs_migration());
            }
            store.migrate()?;
        }
        Ok(store)
    }

    /// Opens without applying migrations, for `keyhound db status|migrate`: only a newer
    /// schema is refused; other calls than [`Store::migrate`] and [`Store::schema_status`] need
    /// the schema to be current.
    pub fn open_unmigrated(location: &DbLocation, options: &OpenOptions) -> Result<Store, Error> {
        Store::connect(location, options)
    }

    fn connect(location: &DbLocation, options: &OpenOptions) -> Result<Store, Error> {
        let redacted = location.redacted();
        let open_error = |source| Error::Open {
            location: redacted.clone(),
            source,
        };
        let (conn, schema): (Box<dyn conn::Conn>, u32) = match location {
            DbLocation::Sqlite(path) => {
                let mut conn =
                    sqlite::Sqlite::open(path, options.busy_timeout).map_err(open_error)?;
                let schema = Store::acceptable(&mut conn, &redacted)?;
                // Only now, once the version is known to be ours: WAL mode is written into
                // the file.
                conn.use_wal().map_err(open_error)?;
                (Box::new(conn), schema)
            }
            DbLocation::Postgres(url) => {
                location::check_postgres(url)?;
                let mut conn =
                    pg::Postgres::connect(url, options.busy_timeout).map_err(open_error)?;
                let schema = Store::acceptable(&mut conn, &redacted)?;
                (Box::new(conn), schema)
            }
        };
        Ok(Store {
            conn,
            location: redacted,
            key: options.secret_key.clone(),
            schema,
        })
    }

    /// The schema version, unless it is newer than this keyhound knows.
    fn acceptable(conn: &mut dyn conn::Conn, location: &str) -> Result<u32, Error> {
        let found =
            schema::current(conn).map_err(|f| fail(f, location, "reading the schema version"))?;
        if found > schema::latest() {
            return Err(Error::TooNew {
                location: location.to_owned(),
                found,
                supported: schema::latest(),
            });
        }
        Ok(found)
    }

    fn needs_migration(&self) -> Error {
        Error::NeedsMigration {
            location: self.location.clone(),
            found: self.schema,
            supported: schema::latest(),
        }
    }

    /// Refuses to work on a schema that is not the current one.
    fn ready(&self) -> Result<(), Error> {
        if self.schema == schema::latest() {
            Ok(())
        } else {
            Err(self.needs_migration())
        }
    }

    fn write<T>(
        &mut self,
        doing: &str,
        f: impl FnMut(&mut dyn conn::Conn) -> Result<T, conn::Fail>,
    ) -> Result<T, Error> {
        self.ready()?;
        write(&mut *self.conn, &self.location, doing, f)
    }

    fn read<T>(
        &mut self,
        doing: &str,
        f: impl FnOnce(&mut dyn conn::Conn) -> Result<T, conn::Fail>,
    ) -> Result<T, Error> {
        self.ready()?;
        read(&mut *self.conn, &self.location, doing, f)
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.conn.backend()
    }

    /// The database, for messages.
    pub fn location(&self) -> String {
        self.location.clone()
    }

    /// Applies pending migrations (each in its own transaction; concurrent callers are
    /// serialized) and says what it did.
    pub fn migrate(&mut self) -> Result<SchemaStatus, Error> {
        let status = schema::migrate(&mut *self.conn, now()).map_err(|e| match e {
            schema::MigrateError::TooNew(found) => Error::TooNew {
                location: self.location.clone(),
                found,
                supported: schema::latest(),
            },
            schema::MigrateError::Failed(m, f) => Error::Migration {
                location: self.location.clone(),
                version: m.version,
                name: m.name.to_owned(),
                source: match f {
                    conn::Fail::Db(source) => source,
                    conn::Fail::Corrupt(what) => what.into(),
                    conn::Fail::Api(e) => Box::new(e),
                },
            },
            schema::MigrateError::Other(f) => fail(f, &self.location, "reading the schema version"),
        })?;
        self.schema = status.current;
        Ok(status)
    }

    /// The schema's state, changing nothing.
    pub fn schema_status(&mut self) -> Result<SchemaStatus, Error> {
        let current = schema::current(&mut *self.conn)
            .map_err(|f| fail(f, &self.location, "reading the schema version"))?;
        self.schema = current;
        Ok(SchemaStatus {
            current,
            latest: schema::latest(),
            applied: Vec::new(),
        })
    }

    /// Marks `interrupted` every `running` run whose process is gone: on this host, a pid
    /// that no longer runs (or now runs another program, compared by its start time); on
    /// another host, no heartbeat for 10 minutes. Returns their ids.
    pub fn recover_interrupted(&mut self) -> Result<Vec<RunId>, Error> {
        let t = now();
        let dead = self.read("looking for interrupted runs", |c| record::dead_runs(c, t))?;
        if dead.is_empty() {
            // No write lock taken at every start when there is nothing to do.
            return Ok(dead);
        }
        self.write("marking runs interrupted", |c| {
            record::interrupt(c, &dead, t)
        })
    }

    /// Records a run as `running`, owned by this process.
    pub fn begin_run(&mut self, run: &NewRun) -> Result<RunId, Error> {
        let t = now();
        self.write("recording a new run", |c| record::begin(c, run, t))
    }

    /// Says that `run`'s process is still working (long scans call it every minute).
    pub fn heartbeat(&mut self, run: RunId) -> Result<(), Error> {
        let t = now();
        self.write(&format!("recording a heartbeat of run {run}"), |c| {
            record::heartbeat(c, run, t)
        })
    }

    /// Records the outcome of `run` in one transaction: its status and statistics, every
    /// finding (new ones open; a `fixed` one seen again is reopened with an event), its
    /// locations, validations, encrypted values when asked, and the repositories' memory.
    /// Either all of it is recorded or none.
    ///
    /// A run finishes once: finishing a run that is completed or failed already is
    /// [`Error::Invalid`]. A run marked interrupted whose process turns out to be alive
    /// can still finish.
    pub fn finish_run(&mut self, run: RunId, result: &RunResult<'_>) -> Result<(), Error> {
        if result.store_secrets && self.key.is_none() {
            return Err(Error::NoKey);
        }
        let t = now();
        let key = self.key.as_ref();
        self.ready()?;
        write(
            &mut *self.conn,
            &self.location,
            &format!("recording run {run}"),
            |c| record::finish(c, run, result, key, t),
        )
    }

    /// Runs, newest first.
    pub fn runs(&mut self, filter: &RunFilter) -> Result<Vec<Run>, Error> {
        self.read("listing runs", |c| read::runs(c, filter))
    }

    /// One run.
    pub fn run(&mut self, id: RunId) -> Result<Run, Error> {
        self.read(&format!("reading run {id}"), |c| read::run(c, id))
    }

    /// The newest completed run (of `target`, when given).
    pub fn latest_run(&mut self, target: Option<&str>) -> Result<Option<Run>, Error> {
        self.read("looking for the latest run", |c| {
            read::latest_run(c, target)
        })
    }

    /// The completed run of the same target just before `run`.
    pub fn previous_run(&mut self, run: RunId) -> Result<Option<Run>, Error> {
        self.read(&format!("looking for the run before run {run}"), |c| {
            read::previous_run(c, run)
        })
    }

    /// Findings, most severe first, then most recently seen.
    pub fn findings(&mut self, filter: &FindingFilter) -> Result<Vec<StoredFinding>, Error> {
        self.read("listing findings", |c| read::findings(c, filter))
    }

    /// One finding by fingerprint or unique fingerprint prefix (at least 6 characters).
    pub fn finding(&mut self, fingerprint: &str) -> Result<FindingDetail, Error> {
        self.read(&format!("reading finding {fingerprint}"), |c| {
            read::finding(c, fingerprint)
        })
    }

    /// Records a triage decision for a finding (fingerprint or unique prefix).
    pub fn triage(&mut self, fingerprint: &str, triage: &NewTriage) -> Result<TriageEvent, Error> {
        let t = now();
        self.write(&format!("triaging finding {fingerprint}"), |c| {
            record::triage(c, fingerprint, triage, t)
        })
    }

    /// The stored value of a finding: `Ok(None)` when none is stored,
    /// [`Error::Decrypt`] when it is under another key, [`Error::NoKey`] without a key.
    pub fn secret(&mut self, fingerprint: &str) -> Result<Option<Secret>, Error> {
        let (fingerprint, sealed) = self.read(
            &format!("reading the stored value of finding {fingerprint}"),
            |c| read::sealed(c, fingerprint),
        )?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let key = self.key.as_ref().ok_or(Error::NoKey)?;
        let undecryptable = || Error::Decrypt {
            fingerprint: fingerprint.clone(),
            key_id: key.id().to_owned(),
        };
        if sealed.key_id != key.id() {
            return Err(undecryptable());
        }
        let value = key
            .open(&fingerprint, &sealed.nonce, &sealed.ciphertext)
            .ok_or_else(undecryptable)?;
        Ok(Some(Secret::new(value.to_vec())))
    }

    /// What changed from run `from` to run `to`.
    pub fn diff(&mut self, from: RunId, to: RunId) -> Result<Diff, Error> {
        self.read(&format!("comparing runs {from} and {to}"), |c| {
            read::diff(c, from, to)
        })
    }

    /// The memory of full-history scans of repository `key` under `profile`.
    pub fn repo_memory(&mut self, key: &str, profile: &str) -> Result<Option<RepoMemory>, Error> {
        self.read(
            &format!("reading what earlier scans of {key} remember"),
            |c| memory::load(c, key, profile),
        )
    }
}
