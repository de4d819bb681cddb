//! Writes: runs, their outcome, triage decisions, and recovery of interrupted runs.

use keyhound_scan::{Finding, Location};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::conn::{Conn, Fail, Value};
use crate::process::{self, Liveness};
use crate::read::{self, severity_rank};
use crate::{Error, NewRun, NewTriage, RunId, RunResult, RunStatus, SecretKey, TriageEvent};

/// A run on another host whose heartbeat is older than this is taken for dead.
const STALE_MICROS: i64 = 10 * 60 * 1_000_000;

fn to_json<T: Serialize>(v: &T) -> Result<String, Fail> {
    serde_json::to_string(v).map_err(|e| Fail::Db(e.into()))
}

fn int(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

pub(crate) fn begin(c: &mut dyn Conn, run: &NewRun, now: i64) -> Result<RunId, Fail> {
    let pid_start = process::self_start_time().and_then(|s| i64::try_from(s).ok());
    let rows = c.query(
        "INSERT INTO runs (kind, target, status, started_at, stats, rules_version, \
             keyhound_version, host, pid, pid_start, heartbeat_at) \
         VALUES ($1, $2, 'running', $3, '{}', $4, $5, $6, $7, $8, $3) RETURNING id",
        &[
            Value::from(run.kind.as_str()),
            Value::from(run.target.as_str()),
            Value::Int(now),
            Value::from(run.rules_version.as_str()),
            Value::from(run.keyhound_version.as_str()),
            Value::from(process::hostname()),
            Value::Int(std::process::id().into()),
            Value::from(pid_start),
        ],
    )?;
    rows.first()
        .ok_or_else(|| Fail::Corrupt("no run id returned".to_owned()))?
        .int(0)
}

pub(crate) fn heartbeat(c: &mut dyn Conn, run: RunId, now: i64) -> Result<(), Fail> {
    let n = c.execute(
        "UPDATE runs SET heartbeat_at = $1 WHERE id = $2 AND status = 'running'",
        &[Value::Int(now), Value::Int(run)],
    )?;
    if n == 0 {
        read::run(c, run)?;
    }
    Ok(())
}

/// The running runs whose process is gone.
pub(crate) fn dead_runs(c: &mut dyn Conn, now: i64) -> Result<Vec<RunId>, Fail> {
    let host = process::hostname();
    let mut dead = Vec::new();
    for r in c.query(
        "SELECT id, host, pid, pid_start, heartbeat_at FROM runs WHERE status = 'running'",
        &[],
    )? {
        let stale = now.saturating_sub(r.int(4)?) > STALE_MICROS;
        let gone = if r.text(1)? == host {
            let pid = u32::try_from(r.int(2)?).unwrap_or(0);
            let start = r.opt_int(3)?.and_then(|s| u64::try_from(s).ok());
            match process::liveness(pid, start) {
                Liveness::Gone => true,
                Liveness::Alive => false,
                Liveness::Unknown => stale,
            }
        } else {
            stale
        };
        if gone {
            dead.push(r.int(0)?);
        }
    }
    Ok(dead)
}

/// Marks `runs` interrupted (those still running); returns the ones it marked.
pub(crate) fn interrupt(c: &mut dyn Conn, runs: &[RunId], now: i64) -> Result<Vec<RunId>, Fail> {
    let mut marked = Vec::new();
    for &id in runs {
        let n = c.execute(
            "UPDATE runs SET status = 'interrupted', ended_at = $1 \
             WHERE id = $2 AND status = 'running'",
            &[Value::Int(now), Value::Int(id)],
        )?;
        if n > 0 {
            marked.push(id);
        }
    }
    Ok(marked)
}

fn validity(f: &Finding) -> Option<String> {
    f.checks.validation.as_ref().map(|v| {
        v.get("status")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown")
            .to_owned()
    })
}

fn loc_key(json: &str) -> String {
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// Records `result` for `run` (in the caller's transaction).
pub(crate) fn finish(
    c: &mut dyn Conn,
    run: RunId,
    result: &RunResult<'_>,
    key: Option<&SecretKey>,
    now: i64,
) -> Result<(), Fail> {
    if !matches!(result.status, RunStatus::Completed | RunStatus::Failed) {
        return Err(Error::Invalid {
            what: format!(
                "a run finishes completed or failed, not {}",
                result.status.as_str()
            ),
        }
        .into());
    }
    let key = match (result.store_secrets, key) {
        (true, None) => return Err(Error::NoKey.into()),
        (true, Some(k)) => Some(k),
        (false, _) => None,
    };
    let mut order: Vec<&Finding> = result.findings.iter().collect();
    // One order for every writer, so that concurrent transactions lock rows in the same order
    // and do not deadlock.
    order.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    let mut distinct = order.clone();
    distinct.dedup_by(|a, b| a.fingerprint == b.fingerprint);

    // The run's row first: it also serializes this with a concurrent recovery.
    let n = c.execute(
        "UPDATE runs SET status = $1, ended_at = $2, heartbeat_at = $2, stats = $3, \
             error = $4, findings = $5 \
         WHERE id = $6 AND status IN ('running', 'interrupted')",
        &[
            Value::from(result.status.as_str()),
            Value::Int(now),
            Value::Text(to_json(&result.stats)?),
            Value::from(result.error.clone()),
            int(distinct.len() as u64),
            Value::Int(run),
        ],
    )?;
    if n == 0 {
        let existing = read::run(c, run)?;
        return Err(Error::Invalid {
            what: format!(
                "run {run} is {} already, it cannot be finished again",
                existing.status.as_str()
            ),
        }
        .into());
    }
    for f in order {
        record_finding(c, run, f, key, now)?;
    }
    let mut repos: Vec<_> = result.repos.iter().collect();
    repos.sort_by(|a, b| (&a.key, &a.profile).cmp(&(&b.key, &b.profile)));
    for repo in repos {
        crate::memory::save(c, run, repo, now)?;
    }
    Ok(())
}

fn record_finding(
    c: &mut dyn Conn,
    run: RunId,
    f: &Finding,
    key: Option<&SecretKey>,
    now: i64,
) -> Result<(), Fail> {
    let fingerprint = Value::from(f.fingerprint.as_str());
    // A finding marked fixed that shows up again is open again. Done before the upsert,
    // which cannot tell the old status apart.
    let reopened = c.query(
        "UPDATE findings SET status = 'open' WHERE fingerprint = $1 AND status = 'fixed' \
         RETURNING id",
        std::slice::from_ref(&fingerprint),
    )?;
    let validity = validity(f);
    let checks = to_json(&f.checks)?;
    let presence = f.presence.map(|p| p.as_str());
    // A run that finishes after a later run that saw the same finding leaves the later
    // run's view in place (the WHERE), and only adds its locations.
    let rows = c.query(
        "INSERT INTO findings (fingerprint, rule_id, rule_name, category, severity, \
             severity_rank, confidence, redacted, facts, first_seen_run, first_seen_at, \
             last_seen_run, last_seen_at, status, validity, checks, presence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10, $11, 'open', $12, $13, $14) \
         ON CONFLICT (fingerprint) DO UPDATE SET \
             rule_id = excluded.rule_id, rule_name = excluded.rule_name, \
             category = excluded.category, severity = excluded.severity, \
             severity_rank = excluded.severity_rank, confidence = excluded.confidence, \
             redacted = excluded.redacted, facts = excluded.facts, \
             last_seen_run = excluded.last_seen_run, last_seen_at = excluded.last_seen_at, \
             validity = COALESCE(excluded.validity, findings.validity), \
             checks = CASE WHEN excluded.checks = '{}' THEN findings.checks \
                 ELSE excluded.checks END, \
             presence = excluded.presence \
         WHERE findings.last_seen_run <= excluded.last_seen_run \
         RETURNING id",
        &[
            fingerprint.clone(),
            Value::from(f.rule_id.as_str()),
            Value::from(f.rule_name.as_str()),
            Value::from(f.category.as_str()),
            Value::from(f.severity.as_str()),
            Value::Int(severity_rank(f.severity)),
            Value::from(f.confidence.as_str()),
            Value::from(f.redacted()),
            Value::Text(to_json(&f.facts)?),
            Value::Int(run),
            Value::Int(now),
            Value::from(validity.clone()),
            Value::Text(checks),
            Value::from(presence),
        ],
    )?;
    let id = match rows.first() {
        Some(r) => r.int(0)?,
        None => c
            .query(
                "SELECT id FROM findings WHERE fingerprint = $1",
                std::slice::from_ref(&fingerprint),
            )?
            .first()
            .ok_or_else(|| Fail::Corrupt(format!("finding {} vanished", f.fingerprint)))?
            .int(0)?,
    };
    if !reopened.is_empty() {
        c.execute(
            "INSERT INTO triage_events (finding_id, status, actor, at, comment, run_id) \
             VALUES ($1, 'open', 'keyhound', $2, $3, $4)",
            &[
                Value::Int(id),
                Value::Int(now),
                Value::Text(format!("seen again in run {run}")),
                Value::Int(run),
            ],
        )?;
    }
    c.execute(
        "INSERT INTO run_findings (run_id, finding_id, severity, validity, presence) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (run_id, finding_id) DO UPDATE SET severity = excluded.severity, \
             validity = excluded.validity, presence = excluded.presence",
        &[
            Value::Int(run),
            Value::Int(id),
            Value::from(f.severity.as_str()),
            Value::from(validity.clone()),
            Value::from(presence),
        ],
    )?;
    for location in &f.locations {
        record_location(c, run, id, location)?;
    }
    if let (Some(detail), Some(status)) = (&f.checks.validation, validity) {
        let checked_at = detail
            .get("checked_at")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map_or(now, |t| t.as_microsecond());
        c.execute(
            "INSERT INTO validations (finding_id, run_id, checked_at, status, detail) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                Value::Int(id),
                Value::Int(run),
                Value::Int(checked_at),
                Value::Text(status),
                Value::Text(to_json(detail)?),
            ],
        )?;
    }
    // Only when asked, and only a value this run has (not one read back withheld).
    if let Some(key) = key.filter(|_| !f.secret.is_withheld()) {
        let sealed = key.seal(&f.fingerprint, f.secret.expose())?;
        c.execute(
            "UPDATE findings SET secret_ciphertext = $1, secret_nonce = $2, secret_key_id = $3 \
             WHERE id = $4",
            &[
                Value::Bytes(sealed.ciphertext),
                Value::Bytes(sealed.nonce),
                Value::Text(sealed.key_id),
                Value::Int(id),
            ],
        )?;
    }
    Ok(())
}

fn record_location(
    c: &mut dyn Conn,
    run: RunId,
    finding: i64,
    location: &Location,
) -> Result<(), Fail> {
    let json = to_json(location)?;
    let git = location.git.as_ref();
    c.execute(
        "INSERT INTO locations (finding_id, loc_key, json, path, line, commit_id, repository, \
             first_seen_run, last_seen_run) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (finding_id, loc_key) DO UPDATE SET last_seen_run = excluded.last_seen_run \
         WHERE locations.last_seen_run < excluded.last_seen_run",
        &[
            Value::Int(finding),
            Value::Text(loc_key(&json)),
            Value::Text(json),
            Value::from(location.path.as_str()),
            int(location.line),
            Value::from(git.and_then(|g| g.commit.clone())),
            Value::from(git.map(|g| g.repository.clone())),
            Value::Int(run),
        ],
    )?;
    Ok(())
}

pub(crate) fn triage(
    c: &mut dyn Conn,
    prefix: &str,
    triage: &NewTriage,
    now: i64,
) -> Result<TriageEvent, Fail> {
    let (id, fingerprint) = read::resolve(c, prefix)?;
    c.execute(
        "INSERT INTO triage_events (finding_id, status, actor, at, comment) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            Value::Int(id),
            Value::from(triage.status.as_str()),
            Value::from(triage.actor.as_str()),
            Value::Int(now),
            Value::from(triage.comment.clone()),
        ],
    )?;
    c.execute(
        "UPDATE findings SET status = $1 WHERE id = $2",
        &[Value::from(triage.status.as_str()), Value::Int(id)],
    )?;
    Ok(TriageEvent {
        fingerprint,
        status: triage.status,
        actor: triage.actor.clone(),
        at: read::timestamp(now)?,
        comment: triage.comment.clone(),
        run: None,
    })
}
