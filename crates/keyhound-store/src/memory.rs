//! The memory of full-history scans ([`keyhound_scan::incremental`]), per repository and
//! profile.
//!
//! Sets of ids are packed, one row per scan and kind: 200,000 blob ids are one 4 MB value,
//! written and read in one statement, not 200,000 rows. When a repository and profile have
//! more than [`COMPACT_AFTER`] rows of a kind, they are merged into one in the same
//! transaction, so reading the memory stays a handful of rows however many scans ran.

use std::collections::{HashMap, HashSet};

use keyhound_scan::incremental::{RepoMemory, RepoRecord};
use keyhound_sources::git::{Introduction, ObjectId};
use serde::{Deserialize, Serialize};

use crate::RunId;
use crate::conn::{Conn, Fail, Value};

/// Rows of one kind kept before they are compacted into one.
pub(crate) const COMPACT_AFTER: i64 = 16;

/// The length of a (SHA-1) object id.
const ID_LEN: usize = 20;

/// The kinds of packed sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pack,
    Blob,
    Commit,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Pack, Kind::Blob, Kind::Commit];

    fn as_str(self) -> &'static str {
        match self {
            Kind::Pack => "pack",
            Kind::Blob => "blob",
            Kind::Commit => "commit",
        }
    }
}

/// An [`Introduction`] as stored.
#[derive(Serialize, Deserialize)]
struct StoredIntroduction {
    commit: Option<String>,
    path: String,
    author_name: String,
    author_email: String,
    author_time: i64,
    author_offset: i32,
    reachable: bool,
}

impl From<&Introduction> for StoredIntroduction {
    fn from(i: &Introduction) -> StoredIntroduction {
        StoredIntroduction {
            commit: i.commit.map(|c| c.to_string()),
            path: i.path.clone(),
            author_name: i.author_name.clone(),
            author_email: i.author_email.clone(),
            author_time: i.author_time,
            author_offset: i.author_offset,
            reachable: i.reachable,
        }
    }
}

impl StoredIntroduction {
    fn into_introduction(self) -> Result<Introduction, Fail> {
        let commit = match self.commit {
            Some(hex) => Some(
                ObjectId::from_hex(hex.as_bytes())
                    .map_err(|_| Fail::Corrupt(format!("commit id {hex:?}")))?,
            ),
            None => None,
        };
        Ok(Introduction {
            commit,
            path: self.path,
            author_name: self.author_name,
            author_email: self.author_email,
            author_time: self.author_time,
            author_offset: self.author_offset,
            reachable: self.reachable,
        })
    }
}

fn pack_ids<'a>(ids: impl IntoIterator<Item = &'a ObjectId>) -> Result<Vec<u8>, Fail> {
    let mut out = Vec::new();
    for id in ids {
        let bytes = id.as_slice();
        if bytes.len() != ID_LEN {
            return Err(Fail::Corrupt(format!(
                "object id {id} is not {ID_LEN} bytes (only SHA-1 repositories are remembered)"
            )));
        }
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

fn unpack_ids(data: &[u8], into: &mut HashSet<ObjectId>) -> Result<(), Fail> {
    if data.len() % ID_LEN != 0 {
        return Err(Fail::Corrupt(format!(
            "a set of object ids is {} bytes long, not a multiple of {ID_LEN}",
            data.len()
        )));
    }
    into.reserve(data.len() / ID_LEN);
    for chunk in data.chunks_exact(ID_LEN) {
        let id = ObjectId::try_from(chunk)
            .map_err(|_| Fail::Corrupt("an object id in a set".to_owned()))?;
        into.insert(id);
    }
    Ok(())
}

fn unpack_names(data: &[u8], into: &mut HashSet<String>) -> Result<(), Fail> {
    let text = std::str::from_utf8(data)
        .map_err(|_| Fail::Corrupt("a set of pack names is not UTF-8".to_owned()))?;
    into.extend(
        text.split('\n')
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    Ok(())
}

/// The packed form of one kind of set in `record`, `None` when it is empty.
fn packed(record: &RepoRecord, kind: Kind) -> Result<Option<Vec<u8>>, Fail> {
    let data = match kind {
        Kind::Pack => record.packs.join("\n").into_bytes(),
        Kind::Blob => pack_ids(&record.blobs)?,
        Kind::Commit => pack_ids(&record.commits)?,
    };
    Ok((!data.is_empty()).then_some(data))
}

/// Adds what one scan learnt to the repository's memory (in the caller's transaction).
pub(crate) fn save(
    c: &mut dyn Conn,
    run: RunId,
    record: &RepoRecord,
    now: i64,
) -> Result<(), Fail> {
    let rows = c.query(
        "INSERT INTO repositories (key, display, first_seen_at, last_scanned_at) \
         VALUES ($1, $2, $3, $3) \
         ON CONFLICT (key) DO UPDATE SET display = excluded.display, \
             last_scanned_at = excluded.last_scanned_at \
         RETURNING id",
        &[
            Value::from(record.key.as_str()),
            Value::from(record.display.as_str()),
            Value::Int(now),
        ],
    )?;
    let repo = rows
        .first()
        .ok_or_else(|| Fail::Corrupt("no repository id returned".to_owned()))?
        .int(0)?;
    let key = [Value::Int(repo), Value::from(record.profile.as_str())];
    if record.replace {
        c.execute(
            "DELETE FROM scan_sets WHERE repo_id = $1 AND profile = $2",
            &key,
        )?;
    }
    // The matched set is replaced by every scan: a blob that no longer matches is dropped.
    c.execute(
        "DELETE FROM matched_blobs WHERE repo_id = $1 AND profile = $2",
        &key,
    )?;
    let mut matched: Vec<_> = record.matched.iter().collect();
    matched.sort_by_key(|(id, _)| **id);
    for (blob, introductions) in matched {
        let stored: Vec<StoredIntroduction> = introductions.iter().map(Into::into).collect();
        let json = serde_json::to_string(&stored).map_err(|e| Fail::Db(e.into()))?;
        c.execute(
            "INSERT INTO matched_blobs (repo_id, profile, blob, introductions) \
             VALUES ($1, $2, $3, $4)",
            &[
                Value::Int(repo),
                Value::from(record.profile.as_str()),
                Value::Bytes(pack_ids([blob])?),
                Value::Text(json),
            ],
        )?;
    }
    for kind in Kind::ALL {
        let Some(data) = packed(record, kind)? else {
            continue;
        };
        c.execute(
            "INSERT INTO scan_sets (repo_id, profile, kind, run_id, data) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                Value::Int(repo),
                Value::from(record.profile.as_str()),
                Value::from(kind.as_str()),
                Value::Int(run),
                Value::Bytes(data),
            ],
        )?;
        compact(c, repo, &record.profile, kind, run)?;
    }
    Ok(())
}

/// Merges the rows of one kind into one when there are more than [`COMPACT_AFTER`].
fn compact(c: &mut dyn Conn, repo: i64, profile: &str, kind: Kind, run: RunId) -> Result<(), Fail> {
    let key = [
        Value::Int(repo),
        Value::from(profile),
        Value::from(kind.as_str()),
    ];
    let count = c.query(
        "SELECT count(*) FROM scan_sets WHERE repo_id = $1 AND profile = $2 AND kind = $3",
        &key,
    )?;
    if count.first().map(|r| r.int(0)).transpose()?.unwrap_or(0) <= COMPACT_AFTER {
        return Ok(());
    }
    let rows = c.query(
        "SELECT data FROM scan_sets WHERE repo_id = $1 AND profile = $2 AND kind = $3",
        &key,
    )?;
    let data = match kind {
        Kind::Pack => {
            let mut names = HashSet::new();
            for row in &rows {
                unpack_names(row.bytes(0)?, &mut names)?;
            }
            let mut names: Vec<String> = names.into_iter().collect();
            names.sort();
            names.join("\n").into_bytes()
        }
        Kind::Blob | Kind::Commit => {
            let mut ids = HashSet::new();
            for row in &rows {
                unpack_ids(row.bytes(0)?, &mut ids)?;
            }
            let mut ids: Vec<ObjectId> = ids.into_iter().collect();
            ids.sort();
            pack_ids(&ids)?
        }
    };
    c.execute(
        "DELETE FROM scan_sets WHERE repo_id = $1 AND profile = $2 AND kind = $3",
        &key,
    )?;
    let [repo, profile, kind] = key;
    c.execute(
        "INSERT INTO scan_sets (repo_id, profile, kind, run_id, data) VALUES ($1, $2, $3, $4, $5)",
        &[repo, profile, kind, Value::Int(run), Value::Bytes(data)],
    )?;
    Ok(())
}

/// The memory of `key` under `profile`; `None` when no scan recorded any.
pub(crate) fn load(c: &mut dyn Conn, key: &str, profile: &str) -> Result<Option<RepoMemory>, Fail> {
    let params = [Value::from(key), Value::from(profile)];
    let sets = c.query(
        "SELECT s.kind, s.data FROM scan_sets s JOIN repositories r ON r.id = s.repo_id \
         WHERE r.key = $1 AND s.profile = $2",
        &params,
    )?;
    let matched = c.query(
        "SELECT m.blob, m.introductions FROM matched_blobs m \
         JOIN repositories r ON r.id = m.repo_id WHERE r.key = $1 AND m.profile = $2",
        &params,
    )?;
    if sets.is_empty() && matched.is_empty() {
        return Ok(None);
    }
    let mut memory = RepoMemory::default();
    for row in &sets {
        let data = row.bytes(1)?;
        match row.text(0)? {
            "pack" => unpack_names(data, &mut memory.packs)?,
            "blob" => unpack_ids(data, &mut memory.blobs)?,
            "commit" => unpack_ids(data, &mut memory.commits)?,
            other => return Err(Fail::Corrupt(format!("a set of kind {other:?}"))),
        }
    }
    let mut map = HashMap::with_capacity(matched.len());
    for row in &matched {
        let blob = ObjectId::try_from(row.bytes(0)?)
            .map_err(|_| Fail::Corrupt("a matched blob id".to_owned()))?;
        let stored: Vec<StoredIntroduction> = serde_json::from_str(row.text(1)?)
            .map_err(|e| Fail::Corrupt(format!("introductions of blob {blob}: {e}")))?;
        let introductions = stored
            .into_iter()
            .map(StoredIntroduction::into_introduction)
            .collect::<Result<_, _>>()?;
        map.insert(blob, introductions);
    }
    memory.matched = map;
    Ok(Some(memory))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_pack_and_unpack() {
        let ids: Vec<ObjectId> = (0u8..5).map(|i| ObjectId::from([i; 20])).collect();
        let data = pack_ids(&ids).unwrap();
        assert_eq!(data.len(), 100);
        let mut back = HashSet::new();
        unpack_ids(&data, &mut back).unwrap();
        assert_eq!(back, ids.into_iter().collect());
        assert!(matches!(
            unpack_ids(&data[..99], &mut back),
            Err(Fail::Corrupt(_))
        ));
    }
}
