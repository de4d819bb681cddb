//! Enumerating blobs: every object of every pack and every loose object, or a given list.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use gix::ObjectId;
use gix::objs::{Find as _, Kind};
use rayon::prelude::*;

use super::{Repo, packs};
use crate::archive;
use crate::reader::{Reader, scan_slice};
use crate::{Limits, Origin, Sink, SkipReason, Skipped, Worker};

/// What enumeration saw.
#[derive(Debug, Default, Clone)]
pub struct EnumerateStats {
    /// Distinct blobs scanned.
    pub blobs: u64,
    /// Bytes of blob data scanned.
    pub bytes: u64,
    /// Packs read.
    pub packs: usize,
    /// Loose objects read.
    pub loose_objects: u64,
    /// Packs not read because [`Known::packs`] lists them.
    pub known_packs: usize,
    /// Blobs not scanned because [`Known::blobs`] lists them.
    pub known_blobs: u64,
    /// The packs whose every blob is now scanned (read completely now, or known), by name
    /// (`pack-<hash>`).
    pub complete_packs: Vec<String>,
    /// The blobs scanned now (not the known ones, nor those skipped as too large).
    pub scanned: Vec<ObjectId>,
}

/// What an earlier scan with the same rules and limits already covered: [`scan_all_blobs`]
/// does not read these packs and does not scan these blobs again.
#[derive(Debug, Default, Clone, Copy)]
pub struct Known<'a> {
    /// Pack names (`pack-<hash>`) whose every blob was scanned.
    pub packs: Option<&'a HashSet<String>>,
    /// Blobs scanned.
    pub blobs: Option<&'a HashSet<ObjectId>>,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<HashSet<ObjectId>>,
    /// Blobs scanned, in no order.
    scanned: Mutex<Vec<ObjectId>>,
    blobs: AtomicU64,
    bytes: AtomicU64,
    objects: AtomicU64,
    known_blobs: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What every visitor shares; `Sync`, so parallel code can make visitors from it.
struct Template<'s, S: Sink> {
    sink: &'s S,
    shared: &'s Shared,
    repo: Arc<str>,
    limits: Limits,
    known: Option<&'s HashSet<ObjectId>>,
}

impl<'s, S: Sink> Template<'s, S> {
    fn visitor(&self) -> Visitor<'s, S> {
        Visitor {
            sink: self.sink,
            worker: None,
            reader: Reader::default(),
            shared: self.shared,
            repo: self.repo.clone(),
            limits: self.limits,
            known: self.known,
        }
    }
}

/// Scans the blobs it is shown, each once. Cloned per thread by the pack traversal; each clone
/// makes its own worker on first use.
struct Visitor<'s, S: Sink> {
    sink: &'s S,
    worker: Option<S::Worker<'s>>,
    reader: Reader,
    shared: &'s Shared,
    repo: Arc<str>,
    limits: Limits,
    known: Option<&'s HashSet<ObjectId>>,
}

impl<'s, S: Sink> Clone for Visitor<'s, S> {
    fn clone(&self) -> Self {
        Visitor {
            sink: self.sink,
            worker: None,
            reader: Reader::default(),
            shared: self.shared,
            repo: self.repo.clone(),
            limits: self.limits,
            known: self.known,
        }
    }
}

impl<'s, S: Sink> Visitor<'s, S> {
    fn worker(&mut self) -> &mut S::Worker<'s> {
        let sink = self.sink;
        self.worker.get_or_insert_with(|| sink.worker())
    }

    fn visit(&mut self, kind: Kind, data: &[u8], id: ObjectId) {
        self.shared.objects.fetch_add(1, Ordering::Relaxed);
        match kind {
            Kind::Blob => {
                if !lock(&self.shared.seen).insert(id) {
                    return;
                }
                if self.known.is_some_and(|k| k.contains(&id)) {
                    self.shared.known_blobs.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                let origin = Origin::GitBlob {
                    repo: self.repo.clone(),
                    id,
                };
                if let Some(max) = self.limits.max_file_size {
                    if data.len() as u64 > max {
                        let detail = format!("{} bytes, limit {max}", data.len());
                        self.worker().skipped(Skipped {
                            origin,
                            reason: SkipReason::TooLarge,
                            detail,
                        });
                        return;
                    }
                }
                self.shared.blobs.fetch_add(1, Ordering::Relaxed);
                lock(&self.shared.scanned).push(id);
                self.shared
                    .bytes
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
                let limits = self.limits;
                let sink = self.sink;
                let worker = self.worker.get_or_insert_with(|| sink.worker());
                // A committed jar, wheel or tarball is opened like one on disk.
                let head = &data[..data.len().min(archive::HEAD_LEN)];
                if limits.archive_depth > 0 && archive::detect(head) != archive::Kind::Plain {
                    let mut ctx = archive::Ctx::new(&limits, &mut self.reader, worker);
                    let level = archive::Level::default();
                    archive::scan(
                        &mut ctx,
                        &mut &data[..],
                        &origin,
                        level,
                        Some(data.len() as u64),
                    );
                } else {
                    scan_slice(&mut self.reader, data, &origin, &limits, worker);
                }
            }
            Kind::Commit | Kind::Tree | Kind::Tag => {}
        }
    }

    fn skip(&mut self, origin: Origin, detail: String) {
        self.worker().skipped(Skipped {
            origin,
            reason: SkipReason::CorruptObject,
            detail,
        });
    }
}

pub(crate) fn pack_indices(objects_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs_err::read_dir(objects_dir.join("pack"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("keyhound-git-{i}"))
        .build()
        .expect("a thread pool of a few threads can be built")
}

/// Scans the blobs of one pack, decoding only blob delta chains. An error (or objects that
/// could not be decoded) sends the caller to the one-by-one fallback.
fn scan_pack_blobs<S: Sink>(
    idx: &Path,
    template: &Template<'_, S>,
    pool: &rayon::ThreadPool,
    hash: gix::hash::Kind,
) -> Result<u64, String> {
    let make = || template.visitor();
    let visit =
        |v: &mut Visitor<'_, S>, kind: Kind, id: ObjectId, data: &[u8]| v.visit(kind, data, id);
    let stats = packs::decode_pack(idx, hash, &|k| k == Kind::Blob, pool, &make, &visit)?;
    if stats.failed > 0 {
        return Err(format!("{} objects could not be decoded", stats.failed));
    }
    Ok(stats.decoded)
}

/// Fallback for a damaged pack: every object its index lists, decoded one by one through the
/// object database. Returns how many could not be read.
fn objects_one_by_one<'s, S: Sink>(
    repo: &Repo,
    idx: &Path,
    template: &Template<'s, S>,
    pool: &rayon::ThreadPool,
) -> Option<usize> {
    let index = gix::odb::pack::index::File::at(idx, repo.object_hash()).ok()?;
    let ids: Vec<ObjectId> = index.iter().map(|e| e.oid).collect();
    let failed = AtomicU64::new(0);
    pool.install(|| {
        ids.par_iter().for_each_init(
            || (template.visitor(), repo.local(), Vec::new()),
            |(v, r, buf), id| match r.objects.try_find(id, buf) {
                Ok(Some(data)) => v.visit(data.kind, data.data, *id),
                _ => {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            },
        );
    });
    Some(failed.load(Ordering::Relaxed) as usize)
}

/// The name of a pack (`pack-<hash>`) from its index's path.
fn pack_name(idx: &Path) -> Option<String> {
    idx.file_stem().and_then(|s| s.to_str()).map(str::to_owned)
}

/// Scans every blob in the repository's object databases (its own and alternates): all packs,
/// then all loose objects, leaving out what `known` lists. Damaged packs and objects are
/// reported as skips and the rest is scanned.
pub fn scan_all_blobs<S: Sink>(
    repo: &Repo,
    limits: &Limits,
    threads: usize,
    sink: &S,
    known: Known<'_>,
) -> EnumerateStats {
    let shared = Shared::default();
    let hash = repo.object_hash();
    let template = Template {
        sink,
        shared: &shared,
        repo: repo.display.clone(),
        limits: *limits,
        known: known.blobs,
    };
    let pool = pool(threads);
    let mut packs = 0;
    let mut known_packs = 0;
    let mut complete_packs = Vec::new();
    let mut loose = 0;
    for dir in repo.object_dirs() {
        for idx in pack_indices(&dir) {
            let name = pack_name(&idx);
            if let (Some(name), Some(set)) = (&name, known.packs) {
                if set.contains(name) {
                    known_packs += 1;
                    complete_packs.push(name.clone());
                    continue;
                }
            }
            packs += 1;
            if let Err(why) = scan_pack_blobs(&idx, &template, &pool, hash) {
                let failed = objects_one_by_one(repo, &idx, &template, &pool);
                let mut v = template.visitor();
                let detail = match failed {
                    Some(0) => {
                        complete_packs.extend(name);
                        continue;
                    }
                    Some(n) => format!("{why}; {n} objects could not be read"),
                    None => format!("{why}; its index cannot be read either"),
                };
                v.skip(Origin::File(idx.with_extension("pack")), detail);
            } else {
                complete_packs.extend(name);
            }
        }
        let store = gix::odb::loose::Store::at(dir.clone(), hash);
        let ids: Vec<_> = store.iter().collect();
        loose += ids.len() as u64;
        pool.install(|| {
            ids.par_iter().for_each_init(
                || (template.visitor(), Vec::new()),
                |(v, buf), id| match id {
                    Ok(id) => match store.try_find(id, buf) {
                        Ok(Some(data)) => v.visit(data.kind, data.data, *id),
                        Ok(None) => {}
                        Err(e) => v.skip(Origin::File(store.object_path(id)), e.to_string()),
                    },
                    Err(e) => v.skip(Origin::File(dir.clone()), e.to_string()),
                },
            );
        });
    }
    EnumerateStats {
        blobs: shared.blobs.load(Ordering::Relaxed),
        bytes: shared.bytes.load(Ordering::Relaxed),
        packs,
        loose_objects: loose,
        known_packs,
        known_blobs: shared.known_blobs.load(Ordering::Relaxed),
        complete_packs,
        scanned: shared
            .scanned
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner),
    }
}

/// Scans the listed blobs (each once), looked up through the object database.
pub fn scan_listed_blobs<S: Sink>(
    repo: &Repo,
    ids: &[ObjectId],
    limits: &Limits,
    threads: usize,
    sink: &S,
) -> EnumerateStats {
    let shared = Shared::default();
    let template = Template {
        sink,
        shared: &shared,
        repo: repo.display.clone(),
        limits: *limits,
        known: None,
    };
    pool(threads).install(|| {
        ids.par_iter().for_each_init(
            || (template.visitor(), repo.local(), Vec::new()),
            |(v, r, buf), id| match r.objects.try_find(id, buf) {
                Ok(Some(data)) if data.kind == Kind::Blob => v.visit(Kind::Blob, data.data, *id),
                Ok(Some(_)) => {}
                Ok(None) => v.skip(
                    Origin::GitBlob {
                        repo: repo.display.clone(),
                        id: *id,
                    },
                    "object is missing".into(),
                ),
                Err(e) => v.skip(
                    Origin::GitBlob {
                        repo: repo.display.clone(),
                        id: *id,
                    },
                    e.to_string(),
                ),
            },
        );
    });
    EnumerateStats {
        blobs: shared.blobs.load(Ordering::Relaxed),
        bytes: shared.bytes.load(Ordering::Relaxed),
        scanned: shared
            .scanned
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner),
        ..EnumerateStats::default()
    }
}
