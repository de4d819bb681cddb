-- keyhound findings store, schema version 1, SQLite.
--
-- The PostgreSQL twin is migrations/postgres/0001_init.sql: same tables, columns and
-- version numbers; only the types differ. Integers are 64-bit, timestamps are microseconds
-- since the Unix epoch (UTC), JSON is text.
--
-- Room for assets and exposures (the discovery issue): every table has a surrogate integer
-- id, and a later migration adds `assets(id, kind, name, ...)` and `exposures(id, asset_id,
-- ...)` tables, then nullable `asset_id INTEGER REFERENCES assets(id)` columns on
-- `locations` (where a secret was found) and `findings` (what it belongs to) with
-- `ALTER TABLE ... ADD COLUMN`, which both backends do without rewriting rows.

CREATE TABLE keyhound_schema (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
);

-- One execution of keyhound (a scan; later discovery and monitor ticks).
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,
    target           TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    stats            TEXT    NOT NULL DEFAULT '{}',
    rules_version    TEXT    NOT NULL,
    keyhound_version TEXT    NOT NULL,
    host             TEXT    NOT NULL,
    pid              INTEGER NOT NULL,
    -- The process's start time (clock ticks after boot, /proc/PID/stat field 22), to tell a
    -- reused pid from the run's own process.
    pid_start        INTEGER,
    heartbeat_at     INTEGER NOT NULL,
    findings         INTEGER NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX runs_by_target ON runs (target, status, id);
CREATE INDEX runs_by_status ON runs (status);

-- One distinct secret, by its value-based fingerprint. `status` is the current triage
-- status and `validity` the latest validation status, both kept here so that listing needs
-- no history scan. The secret value is stored only when asked, sealed with
-- XChaCha20-Poly1305 under the key `secret_key_id` names (kept outside the database).
CREATE TABLE findings (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint       TEXT    NOT NULL UNIQUE,
    rule_id           TEXT    NOT NULL,
    rule_name         TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    severity          TEXT    NOT NULL,
    severity_rank     INTEGER NOT NULL,
    confidence        TEXT    NOT NULL,
    redacted          TEXT    NOT NULL,
    facts             TEXT    NOT NULL DEFAULT '{}',
    first_seen_run    INTEGER NOT NULL REFERENCES runs (id),
    first_seen_at     INTEGER NOT NULL,
    last_seen_run     INTEGER NOT NULL REFERENCES runs (id),
    last_seen_at      INTEGER NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'open',
    validity          TEXT,
    checks            TEXT    NOT NULL DEFAULT '{}',
    presence          TEXT,
    secret_ciphertext BLOB,
    secret_nonce      BLOB,
    secret_key_id     TEXT
);
CREATE INDEX findings_by_rank ON findings (severity_rank DESC, last_seen_at DESC, fingerprint);
CREATE INDEX findings_by_first_seen ON findings (first_seen_at);

-- Which findings each run reported, with what each run saw of them.
CREATE TABLE run_findings (
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    finding_id INTEGER NOT NULL REFERENCES findings (id),
    severity   TEXT    NOT NULL,
    validity   TEXT,
    presence   TEXT,
    PRIMARY KEY (run_id, finding_id)
);
CREATE INDEX run_findings_by_finding ON run_findings (finding_id, run_id);

-- Every place a finding was seen. `loc_key` is the SHA-256 (hex) of the location's JSON,
-- which is kept whole in `json`; path, line, commit and repository are copies for queries.
CREATE TABLE locations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id     INTEGER NOT NULL REFERENCES findings (id),
    loc_key        TEXT    NOT NULL,
    json           TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    line           INTEGER NOT NULL,
    commit_id      TEXT,
    repository     TEXT,
    first_seen_run INTEGER NOT NULL REFERENCES runs (id),
    last_seen_run  INTEGER NOT NULL REFERENCES runs (id),
    UNIQUE (finding_id, loc_key)
);
CREATE INDEX locations_by_last_run ON locations (finding_id, last_seen_run);

-- Live validation results over time.
CREATE TABLE validations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id INTEGER NOT NULL REFERENCES findings (id),
    run_id     INTEGER REFERENCES runs (id),
    checked_at INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    detail     TEXT    NOT NULL
);
CREATE INDEX validations_by_finding ON validations (finding_id, checked_at);

-- Triage decisions; `run_id` is set for the automatic ones (a fixed finding seen again).
CREATE TABLE triage_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id INTEGER NOT NULL REFERENCES findings (id),
    status     TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    comment    TEXT,
    run_id     INTEGER REFERENCES runs (id)
);
CREATE INDEX triage_by_finding ON triage_events (finding_id, at);

-- Incremental history scans: what full-history scans of each repository already read.
CREATE TABLE repositories (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT    NOT NULL UNIQUE,
    display         TEXT    NOT NULL,
    first_seen_at   INTEGER NOT NULL,
    last_scanned_at INTEGER NOT NULL
);

-- Sets of scanned packs, blobs or commits, one row per scan and kind rather than one row
-- per id: blob and commit ids are concatenated 20-byte ids, pack names are newline-joined
-- text. More than 16 rows of one kind are compacted into one.
CREATE TABLE scan_sets (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories (id),
    profile TEXT    NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('pack', 'blob', 'commit')),
    run_id  INTEGER REFERENCES runs (id),
    data    BLOB    NOT NULL
);
CREATE INDEX scan_sets_by_repo ON scan_sets (repo_id, profile, kind);

-- The blobs that matched, with every known commit and path that introduced them (JSON).
CREATE TABLE matched_blobs (
    repo_id       INTEGER NOT NULL REFERENCES repositories (id),
    profile       TEXT    NOT NULL,
    blob          BLOB    NOT NULL,
    introductions TEXT    NOT NULL,
    PRIMARY KEY (repo_id, profile, blob)
);
