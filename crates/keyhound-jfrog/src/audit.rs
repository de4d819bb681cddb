//! The local audit log of revocations and replacements: JSON lines, no secret values.

use serde::Serialize;
use serde_json::Value;

use crate::http::JsonLinesLog;

/// One audited action.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// RFC 3339 time.
    pub time: String,
    /// `revoke` or `replace`.
    pub action: String,
    /// The instance base URL.
    pub instance: String,
    /// The credential acted on: fingerprint, token id, kind (never the value).
    pub target: Value,
    /// `revoked`, `already_revoked`, `minted`, `failed`, `dry_run`...
    pub outcome: String,
    /// Details: HTTP status and endpoint, the successor's id, scope, expiry and where it
    /// was written.
    pub detail: Value,
}

/// An append-only audit log file (mode 0600).
#[derive(Debug)]
pub struct AuditLog(JsonLinesLog);

impl AuditLog {
    /// Opens (creates) the log.
    pub fn open(path: &std::path::Path) -> std::io::Result<AuditLog> {
        Ok(AuditLog(JsonLinesLog::open(path)?))
    }

    /// Appends a record.
    pub fn record(&self, record: &AuditRecord) -> std::io::Result<()> {
        self.0.append(record)
    }
}
