//! Queries: runs, findings, one finding's history, diffs.

use std::collections::HashMap;

use keyhound_engine::Facts;
use keyhound_rules::{Confidence, Severity};
use keyhound_scan::{Checks, Location, Presence};
use serde::de::DeserializeOwned;

use crate::conn::{Conn, Fail, Row, Sql, Value};
use crate::{
    Diff, DiffEntry, Error, FindingDetail, FindingFilter, LocationRecord, Run, RunFilter, RunId,
    RunKind, RunStatus, StoredFinding, TriageEvent, TriageStatus, ValidationRecord,
};

/// The shortest fingerprint prefix accepted.
pub(crate) const MIN_PREFIX: usize = 6;

/// At most this many ids in one `IN (...)` list.
const CHUNK: usize = 500;

pub(crate) fn timestamp(micros: i64) -> Result<jiff::Timestamp, Fail> {
    jiff::Timestamp::from_microsecond(micros)
        .map_err(|_| Fail::Corrupt(format!("timestamp {micros} is out of range")))
}

fn json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, Fail> {
    serde_json::from_str(text).map_err(|e| Fail::Corrupt(format!("{what}: {e}")))
}

/// A location read back from its JSON. `Location` borrows its encoding label for
/// `'static`, so it deserializes from an owned JSON value, not from the text.
fn location(text: &str) -> Result<Location, Fail> {
    let value: serde_json::Value = json(text, "a location")?;
    <Location as serde::Deserialize<'static>>::deserialize(value)
        .map_err(|e| Fail::Corrupt(format!("a location: {e}")))
}

/// A lowercase name (`high`, `history_only`...) read back through serde.
fn name<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, Fail> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| Fail::Corrupt(format!("{what} {text:?}")))
}

fn run_status(text: &str) -> Result<RunStatus, Fail> {
    [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Interrupted,
    ]
    .into_iter()
    .find(|s| s.as_str() == text)
    .ok_or_else(|| Fail::Corrupt(format!("run status {text:?}")))
}

pub(crate) fn triage_status(text: &str) -> Result<TriageStatus, Fail> {
    TriageStatus::parse(text).ok_or_else(|| Fail::Corrupt(format!("triage status {text:?}")))
}

/// The rank stored beside a severity, for ordering.
pub(crate) fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

const RUN_COLUMNS: &str = "id, kind, target, status, started_at, ended_at, stats, \
     rules_version, keyhound_version, host, pid, findings, error";

fn parse_run(r: &Row) -> Result<Run, Fail> {
    let kind = match r.text(1)? {
        "scan" => RunKind::Scan,
        other => return Err(Fail::Corrupt(format!("run kind {other:?}"))),
    };
    Ok(Run {
        id: r.int(0)?,
        kind,
        target: r.text(2)?.to_owned(),
        status: run_status(r.text(3)?)?,
        started_at: timestamp(r.int(4)?)?,
        ended_at: r.opt_int(5)?.map(timestamp).transpose()?,
        stats: json(r.text(6)?, "run statistics")?,
        rules_version: r.text(7)?.to_owned(),
        keyhound_version: r.text(8)?.to_owned(),
        host: r.text(9)?.to_owned(),
        pid: u32::try_from(r.int(10)?).unwrap_or(0),
        findings: count(r.int(11)?),
        error: r.opt_text(12)?.map(str::to_owned),
    })
}

pub(crate) fn runs(c: &mut dyn Conn, filter: &RunFilter) -> Result<Vec<Run>, Fail> {
    let mut sql = Sql::new(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1"));
    if let Some(target) = &filter.target {
        let p = sql.param(target.as_str());
        sql.push(&format!(" AND target = {p}"));
    }
    if !filter.statuses.is_empty() {
        let l = sql.list(filter.statuses.iter().map(|s| s.as_str()));
        sql.push(&format!(" AND status IN {l}"));
    }
    sql.push(" ORDER BY id DESC");
    limit(&mut sql, filter.limit);
    c.query(&sql.text, &sql.params)?
        .iter()
        .map(parse_run)
        .collect()
}

fn limit(sql: &mut Sql, limit: Option<u64>) {
    if let Some(n) = limit {
        let p = sql.param(i64::try_from(n).unwrap_or(i64::MAX));
        sql.push(&format!(" LIMIT {p}"));
    }
}

pub(crate) fn run(c: &mut dyn Conn, id: RunId) -> Result<Run, Fail> {
    let rows = c.query(
        &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"),
        &[Value::Int(id)],
    )?;
    match rows.first() {
        Some(r) => parse_run(r),
        None => Err(Error::NotFound {
            what: "run",
            id: id.to_string(),
        }
        .into()),
    }
}

pub(crate) fn latest_run(c: &mut dyn Conn, target: Option<&str>) -> Result<Option<Run>, Fail> {
    let filter = RunFilter {
        target: target.map(str::to_owned),
        statuses: vec![RunStatus::Completed],
        limit: Some(1),
    };
    Ok(runs(c, &filter)?.into_iter().next())
}

pub(crate) fn previous_run(c: &mut dyn Conn, id: RunId) -> Result<Option<Run>, Fail> {
    let this = run(c, id)?;
    let rows = c.query(
        &format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE target = $1 AND status = 'completed' \
             AND id < $2 ORDER BY id DESC LIMIT 1"
        ),
        &[Value::from(this.target), Value::Int(id)],
    )?;
    rows.first().map(parse_run).transpose()
}

const FINDING_COLUMNS: &str = "f.id, f.fingerprint, f.rule_id, f.rule_name, f.category, \
     f.severity, f.confidence, f.redacted, f.facts, f.first_seen_run, f.first_seen_at, \
     f.last_seen_run, f.last_seen_at, f.status, f.validity, f.presence, f.checks, \
     f.secret_ciphertext IS NOT NULL";

const FINDING_ORDER: &str = " ORDER BY f.severity_rank DESC, f.last_seen_at DESC, f.fingerprint";

fn parse_checks(text: &str) -> Result<Checks, Fail> {
    let value: serde_json::Value = json(text, "checks")?;
    Ok(Checks {
        validation: value.get("validation").cloned(),
        blast_radius: value.get("blast_radius").cloned(),
    })
}

fn parse_finding(r: &Row) -> Result<(i64, StoredFinding), Fail> {
    let fingerprint = r.text(1)?.to_owned();
    let what = |field: &str| format!("{field} of finding {fingerprint}");
    let finding = StoredFinding {
        rule_id: r.text(2)?.to_owned(),
        rule_name: r.text(3)?.to_owned(),
        category: r.text(4)?.to_owned(),
        severity: name::<Severity>(r.text(5)?, &what("severity"))?,
        confidence: name::<Confidence>(r.text(6)?, &what("confidence"))?,
        redacted: r.text(7)?.to_owned(),
        facts: json::<Facts>(r.text(8)?, &what("facts"))?,
        first_seen_run: r.int(9)?,
        first_seen_at: timestamp(r.int(10)?)?,
        last_seen_run: r.int(11)?,
        last_seen_at: timestamp(r.int(12)?)?,
        status: triage_status(r.text(13)?)?,
        validity: r.opt_text(14)?.map(str::to_owned),
        presence: r
            .opt_text(15)?
            .map(|p| name::<Presence>(p, &what("presence")))
            .transpose()?,
        checks: parse_checks(r.text(16)?)?,
        secret_stored: r.bool(17)?,
        locations: Vec::new(),
        fingerprint,
    };
    Ok((r.int(0)?, finding))
}

/// Findings chosen by `condition` (SQL over `f`), sorted, with their latest locations.
fn select_findings(
    c: &mut dyn Conn,
    mut sql: Sql,
    limit_to: Option<u64>,
) -> Result<Vec<(i64, StoredFinding)>, Fail> {
    sql.push(FINDING_ORDER);
    limit(&mut sql, limit_to);
    let mut found: Vec<(i64, StoredFinding)> = c
        .query(&sql.text, &sql.params)?
        .iter()
        .map(parse_finding)
        .collect::<Result<_, _>>()?;
    let index: HashMap<i64, usize> = found
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    for chunk in ids.chunks(CHUNK) {
        let mut q = Sql::new(
            "SELECT l.finding_id, l.json FROM locations l JOIN findings f ON f.id = l.finding_id \
             WHERE l.last_seen_run = f.last_seen_run AND l.finding_id IN ",
        );
        let l = q.list(chunk.iter().copied());
        q.push(&l);
        for row in c.query(&q.text, &q.params)? {
            let id = row.int(0)?;
            let location = location(row.text(1)?)?;
            if let Some(&i) = index.get(&id) {
                found[i].1.locations.push(location);
            }
        }
    }
    for (_, f) in &mut found {
        f.locations.sort();
    }
    Ok(found)
}

fn finding_select() -> Sql {
    Sql::new(&format!(
        "SELECT {FINDING_COLUMNS} FROM findings f WHERE 1 = 1"
    ))
}

pub(crate) fn findings(
    c: &mut dyn Conn,
    filter: &FindingFilter,
) -> Result<Vec<StoredFinding>, Fail> {
    let mut sql = finding_select();
    if !filter.rules.is_empty() {
        let l = sql.list(filter.rules.iter().map(String::as_str));
        sql.push(&format!(" AND f.rule_id IN {l}"));
    }
    if !filter.severities.is_empty() {
        let l = sql.list(filter.severities.iter().map(|s| s.as_str()));
        sql.push(&format!(" AND f.severity IN {l}"));
    }
    if !filter.statuses.is_empty() {
        let l = sql.list(filter.statuses.iter().map(|s| s.as_str()));
        sql.push(&format!(" AND f.status IN {l}"));
    }
    if !filter.validity.is_empty() {
        let l = sql.list(filter.validity.iter().map(String::as_str));
        sql.push(&format!(" AND COALESCE(f.validity, 'unchecked') IN {l}"));
    }
    if let Some(target) = &filter.target {
        let p = sql.param(target.as_str());
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM run_findings rf JOIN runs r ON r.id = rf.run_id \
             WHERE rf.finding_id = f.id AND r.target = {p})"
        ));
    }
    if let Some(since) = filter.since {
        let p = sql.param(since.as_microsecond());
        sql.push(&format!(" AND f.first_seen_at >= {p}"));
    }
    if let Some(run) = filter.run {
        let p = sql.param(run);
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM run_findings rf \
             WHERE rf.finding_id = f.id AND rf.run_id = {p})"
        ));
    }
    Ok(select_findings(c, sql, filter.limit)?
        .into_iter()
        .map(|(_, f)| f)
        .collect())
}

/// The id and full fingerprint of the finding `prefix` names.
pub(crate) fn resolve(c: &mut dyn Conn, prefix: &str) -> Result<(i64, String), Fail> {
    let prefix = prefix.trim().to_ascii_lowercase();
    if prefix.len() < MIN_PREFIX {
        return Err(Error::Invalid {
            what: format!(
                "the fingerprint prefix {prefix:?} is shorter than {MIN_PREFIX} characters"
            ),
        }
        .into());
    }
    let not_found = || Error::NotFound {
        what: "finding",
        id: prefix.clone(),
    };
    if !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found().into());
    }
    // A hex prefix holds no LIKE wildcard.
    let rows = c.query(
        "SELECT id, fingerprint FROM findings WHERE fingerprint LIKE $1",
        &[Value::Text(format!("{prefix}%"))],
    )?;
    match rows.as_slice() {
        [] => Err(not_found().into()),
        [one] => Ok((one.int(0)?, one.text(1)?.to_owned())),
        many => Err(Error::Ambiguous {
            prefix,
            count: many.len() as u64,
        }
        .into()),
    }
}

fn one_finding(c: &mut dyn Conn, id: i64) -> Result<StoredFinding, Fail> {
    let mut sql = finding_select();
    let p = sql.param(id);
    sql.push(&format!(" AND f.id = {p}"));
    select_findings(c, sql, None)?
        .into_iter()
        .next()
        .map(|(_, f)| f)
        .ok_or_else(|| Fail::Corrupt(format!("finding {id} vanished")))
}

pub(crate) fn finding(c: &mut dyn Conn, prefix: &str) -> Result<FindingDetail, Fail> {
    let (id, fingerprint) = resolve(c, prefix)?;
    let finding = one_finding(c, id)?;
    let key = [Value::Int(id)];
    let mut all_locations = c
        .query(
            "SELECT json, first_seen_run, last_seen_run FROM locations WHERE finding_id = $1",
            &key,
        )?
        .iter()
        .map(|r| {
            Ok(LocationRecord {
                location: location(r.text(0)?)?,
                first_seen_run: r.int(1)?,
                last_seen_run: r.int(2)?,
            })
        })
        .collect::<Result<Vec<_>, Fail>>()?;
    all_locations.sort_by(|a, b| a.location.cmp(&b.location));
    let triage = c
        .query(
            "SELECT status, actor, at, comment, run_id FROM triage_events \
             WHERE finding_id = $1 ORDER BY at, id",
            &key,
        )?
        .iter()
        .map(|r| {
            Ok(TriageEvent {
                fingerprint: fingerprint.clone(),
                status: triage_status(r.text(0)?)?,
                actor: r.text(1)?.to_owned(),
                at: timestamp(r.int(2)?)?,
                comment: r.opt_text(3)?.map(str::to_owned),
                run: r.opt_int(4)?,
            })
        })
        .collect::<Result<Vec<_>, Fail>>()?;
    let validations = c
        .query(
            "SELECT run_id, checked_at, status, detail FROM validations \
             WHERE finding_id = $1 ORDER BY checked_at, id",
            &key,
        )?
        .iter()
        .map(|r| {
            Ok(ValidationRecord {
                run: r.opt_int(0)?,
                checked_at: timestamp(r.int(1)?)?,
                status: r.text(2)?.to_owned(),
                detail: json(r.text(3)?, "a validation result")?,
            })
        })
        .collect::<Result<Vec<_>, Fail>>()?;
    let runs = c
        .query(
            "SELECT run_id FROM run_findings WHERE finding_id = $1 ORDER BY run_id",
            &key,
        )?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<Vec<_>, Fail>>()?;
    Ok(FindingDetail {
        finding,
        all_locations,
        triage,
        validations,
        runs,
    })
}

/// A finding's full fingerprint, and its sealed value when one is stored.
pub(crate) fn sealed(
    c: &mut dyn Conn,
    prefix: &str,
) -> Result<(String, Option<crate::crypt::Sealed>), Fail> {
    let (id, fingerprint) = resolve(c, prefix)?;
    let rows = c.query(
        "SELECT secret_ciphertext, secret_nonce, secret_key_id FROM findings WHERE id = $1",
        &[Value::Int(id)],
    )?;
    let Some(r) = rows.first() else {
        return Ok((fingerprint, None));
    };
    let sealed = match (r.opt_bytes(0)?, r.opt_bytes(1)?, r.opt_text(2)?) {
        (Some(ct), Some(nonce), Some(key)) => Some(crate::crypt::Sealed {
            ciphertext: ct.to_vec(),
            nonce: nonce.to_vec(),
            key_id: key.to_owned(),
        }),
        _ => None,
    };
    Ok((fingerprint, sealed))
}

pub(crate) fn diff(c: &mut dyn Conn, from: RunId, to: RunId) -> Result<Diff, Fail> {
    let from_run = run(c, from)?;
    let to_run = run(c, to)?;
    let mut before: HashMap<i64, Option<String>> = HashMap::new();
    let mut after: HashMap<i64, Option<String>> = HashMap::new();
    for r in c.query(
        "SELECT run_id, finding_id, validity FROM run_findings WHERE run_id IN ($1, $2)",
        &[Value::Int(from), Value::Int(to)],
    )? {
        let validity = r.opt_text(2)?.map(str::to_owned);
        let side = if r.int(0)? == from {
            &mut before
        } else {
            &mut after
        };
        side.insert(r.int(1)?, validity.clone());
        if from == to {
            after.insert(r.int(1)?, validity);
        }
    }
    let mut sql = finding_select();
    let (a, b) = (sql.param(from), sql.param(to));
    sql.push(&format!(
        " AND f.id IN (SELECT finding_id FROM run_findings WHERE run_id IN ({a}, {b}))"
    ));
    let mut diff = Diff {
        from: from_run,
        to: to_run,
        new: Vec::new(),
        fixed: Vec::new(),
        unchanged: Vec::new(),
        changed: Vec::new(),
    };
    for (id, finding) in select_findings(c, sql, None)? {
        let (was, is) = (before.get(&id), after.get(&id));
        let entry = DiffEntry {
            finding,
            validity_before: was.cloned().flatten(),
            validity_after: is.cloned().flatten(),
        };
        let list = match (was, is) {
            (None, _) => &mut diff.new,
            (_, None) => &mut diff.fixed,
            // A run that did not validate says nothing about a change of validity.
            (Some(Some(a)), Some(Some(b))) if a != b => &mut diff.changed,
            _ => &mut diff.unchanged,
        };
        list.push(entry);
    }
    Ok(diff)
}
