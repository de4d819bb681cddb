//! Container images: `docker save` archives (the legacy layout with `manifest.json` and
//! `<id>/layer.tar`, and the newer one holding an OCI layout) and OCI image layouts on disk.
//!
//! For each image this scans the configuration's fields (`config.Env[2]`, `config.Labels`,
//! `history[4].created_by`, where `--build-arg` values leak...) one string at a time, and every
//! file of every layer, whatever the layer's compression (none, gzip, zstd...). Layers are read
//! from the top one down, so that a file that an upper layer deletes (a whiteout) or replaces is
//! known when it is met: it is still scanned and reported, marked `removed_in` that layer,
//! because it still ships in the image. A layer shared by several images is scanned once.
//! Blobs that no image uses, and every other member, are scanned like any archive member.
//!
//! Image-aware reading needs random access: a `docker save` file on disk or a layout
//! directory. A `docker save` stream (stdin, or compressed as `.tar.gz`) is read as a plain tar
//! whose layers are nested archives: nothing is missed, but locations name tar members
//! instead of images and layers.

use std::collections::{HashMap, HashSet};
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::archive::{self, Ctx, HEAD_LEN, Kind, Level};
use crate::blob::{Image, display_member_name};
use crate::reader::{Encoding, Reader};
use crate::{Blob, Chunk, Limits, Origin, SkipReason, Worker};

/// Configurations and manifests larger than this are not parsed (real ones are a few KiB).
const MAX_JSON: u64 = 16 << 20;
/// Image indexes nest (a multi-platform index inside an index) at most this deep.
const MAX_INDEX_DEPTH: usize = 4;

/// Where an image's blobs are: the members of a `docker save` tar or the files of a layout
/// directory. Keys are member names or relative paths, checked before use.
trait Store {
    /// Opens a blob; `Ok(None)` when it does not exist.
    fn open(&mut self, key: &str) -> io::Result<Option<(Box<dyn Read + '_>, u64)>>;
}

/// `sha256:abc…` to `blobs/sha256/abc…`, if the digest is well formed (so it cannot name
/// anything outside the blobs directory).
fn blob_key(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let ok_alg = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let ok_hex = !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    (ok_alg && ok_hex).then(|| format!("blobs/{alg}/{hex}"))
}

/// `blobs/sha256/abc…` back to `sha256:abc…`.
fn digest_of_key(key: &str) -> Option<String> {
    let rest = key
        .strip_prefix("./")
        .unwrap_or(key)
        .strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    (!hex.contains('/')).then(|| format!("{alg}:{hex}"))
}

fn normalize(name: &str) -> String {
    let name = name.strip_prefix("./").unwrap_or(name);
    name.trim_start_matches('/').to_owned()
}

/// The members of a `docker save` tar on disk, found by one pass over its headers.
struct TarStore<'f> {
    file: &'f mut fs_err::File,
    /// Normalized name to (data offset, size), in archive order.
    entries: Vec<(String, u64, u64)>,
    index: HashMap<String, usize>,
}

impl Store for TarStore<'_> {
    fn open(&mut self, key: &str) -> io::Result<Option<(Box<dyn Read + '_>, u64)>> {
        let Some(&i) = self.index.get(&normalize(key)) else {
            return Ok(None);
        };
        let (_, offset, size) = self.entries[i];
        self.file.seek(SeekFrom::Start(offset))?;
        Ok(Some((Box::new((&mut *self.file).take(size)), size)))
    }
}

/// The files of an OCI layout directory.
struct DirStore<'p> {
    dir: &'p Path,
}

impl Store for DirStore<'_> {
    fn open(&mut self, key: &str) -> io::Result<Option<(Box<dyn Read + '_>, u64)>> {
        let rel = Path::new(key);
        // Keys come from the image's own JSON: never leave the directory.
        let safe = rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            return Ok(None);
        }
        let path = self.dir.join(rel);
        match fs_err::File::open(&path) {
            Ok(f) => {
                let meta = f.metadata()?;
                if !meta.is_file() {
                    return Ok(None);
                }
                Ok(Some((Box::new(f), meta.len())))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One image to scan.
struct ImageDesc {
    name: String,
    config: Option<String>,
    /// Store key and digest (when known) of each layer, bottom first.
    layers: Vec<(String, Option<String>)>,
}

fn read_json(store: &mut dyn Store, key: &str) -> io::Result<Option<Value>> {
    let Some((r, size)) = store.open(key)? else {
        return Ok(None);
    };
    if size > MAX_JSON {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{key} is larger than {MAX_JSON} bytes"),
        ));
    }
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    r.take(MAX_JSON).read_to_end(&mut buf)?;
    serde_json::from_slice(&buf)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{key}: {e}")))
}

fn short(digest: &str) -> String {
    crate::blob::short_digest(digest).to_owned()
}

/// The images a store holds, from `manifest.json` (docker) or `index.json` (OCI). Problems
/// are reported on `source` and the images that could be read are returned.
fn discover(ctx: &mut Ctx<'_>, store: &mut dyn Store, source: &Origin) -> Vec<ImageDesc> {
    match read_json(store, "manifest.json") {
        Ok(Some(Value::Array(items))) => return docker_images(&items),
        Ok(Some(_)) => ctx.skip(
            source,
            SkipReason::Corrupt,
            "manifest.json is not a list of images".into(),
        ),
        Ok(None) => {}
        Err(e) => ctx.report(source, &e),
    }
    let mut images = Vec::new();
    match read_json(store, "index.json") {
        Ok(Some(index)) => oci_index(ctx, store, source, &index, None, 0, &mut images),
        Ok(None) => ctx.skip(
            source,
            SkipReason::Corrupt,
            "image layout without manifest.json or index.json".into(),
        ),
        Err(e) => ctx.report(source, &e),
    }
    images
}

fn docker_images(items: &[Value]) -> Vec<ImageDesc> {
    items
        .iter()
        .filter_map(|item| {
            let config = item["Config"].as_str().map(str::to_owned);
            let name = item["RepoTags"]
                .as_array()
                .and_then(|t| t.first())
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    config
                        .as_deref()
                        .map(|c| short(&digest_of_key(c).unwrap_or_else(|| c.to_owned())))
                })?;
            let layers = item["Layers"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .filter_map(Value::as_str)
                        .map(|k| (k.to_owned(), digest_of_key(k)))
                        .collect()
                })
                .unwrap_or_default();
            Some(ImageDesc {
                name,
                config,
                layers,
            })
        })
        .collect()
}

fn image_name(annotations: &Value) -> Option<String> {
    [
        "io.containerd.image.name",
        "org.opencontainers.image.ref.name",
    ]
    .iter()
    .find_map(|k| annotations[*k].as_str().map(str::to_owned))
}

fn oci_index(
    ctx: &mut Ctx<'_>,
    store: &mut dyn Store,
    source: &Origin,
    index: &Value,
    inherited_name: Option<&str>,
    depth: usize,
    out: &mut Vec<ImageDesc>,
) {
    let Some(manifests) = index["manifests"].as_array() else {
        return ctx.skip(
            source,
            SkipReason::Corrupt,
            "image index without a manifests list".into(),
        );
    };
    for desc in manifests {
        let Some(digest) = desc["digest"].as_str() else {
            continue;
        };
        let name = image_name(&desc["annotations"])
            .or_else(|| inherited_name.map(str::to_owned))
            .unwrap_or_else(|| short(digest));
        let Some(key) = blob_key(digest) else {
            ctx.skip(
                source,
                SkipReason::Corrupt,
                format!("invalid digest {digest:?} in an image index"),
            );
            continue;
        };
        let manifest = match read_json(store, &key) {
            Ok(Some(m)) => m,
            Ok(None) => {
                ctx.skip(
                    source,
                    SkipReason::Corrupt,
                    format!("manifest blob {digest} of image {name} is missing"),
                );
                continue;
            }
            Err(e) => {
                ctx.report(source, &e);
                continue;
            }
        };
        if manifest["manifests"].is_array() {
            if depth < MAX_INDEX_DEPTH {
                oci_index(ctx, store, source, &manifest, Some(&name), depth + 1, out);
            }
            continue;
        }
        let config = manifest["config"]["digest"].as_str().and_then(blob_key);
        let layers = manifest["layers"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| l["digest"].as_str())
                    .filter_map(|d| blob_key(d).map(|k| (k, Some(d.to_owned()))))
                    .collect()
            })
            .unwrap_or_default();
        out.push(ImageDesc {
            name,
            config,
            layers,
        });
    }
}

/// Files that upper layers delete or replace, to mark the same paths in lower layers.
#[derive(Default)]
struct Upper {
    files: HashMap<String, Arc<str>>,
    deleted: HashMap<String, Arc<str>>,
    opaque: HashMap<String, Arc<str>>,
}

impl Upper {
    /// The upper layer that deletes or replaces `path`, if any.
    fn removed_in(&self, path: &str) -> Option<Arc<str>> {
        if let Some(l) = self.files.get(path).or_else(|| self.deleted.get(path)) {
            return Some(l.clone());
        }
        let mut dir = path;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if let Some(l) = self.deleted.get(parent).or_else(|| self.opaque.get(parent)) {
                return Some(l.clone());
            }
            dir = parent;
        }
        self.opaque.get("").cloned()
    }
}

/// What one layer adds to [`Upper`] once it has been scanned.
#[derive(Default)]
struct LayerPaths {
    files: Vec<String>,
    deleted: Vec<String>,
    opaque: Vec<String>,
}

impl Upper {
    fn add(&mut self, layer: &Arc<str>, paths: LayerPaths) {
        for p in paths.files {
            self.files.entry(p).or_insert_with(|| layer.clone());
        }
        for p in paths.deleted {
            self.deleted.entry(p).or_insert_with(|| layer.clone());
        }
        for p in paths.opaque {
            self.opaque.entry(p).or_insert_with(|| layer.clone());
        }
    }
}

/// Scans every image in `store`; returns the store keys that were scanned as configs and
/// layers (the caller scans the others as plain members).
fn scan_images(ctx: &mut Ctx<'_>, store: &mut dyn Store, source: &Origin) -> HashSet<String> {
    let mut consumed = HashSet::new();
    let mut scanned_layers = HashSet::new();
    for desc in discover(ctx, store, source) {
        if ctx.halted {
            break;
        }
        let image = Arc::new(Image {
            source: source.clone(),
            name: display_member_name(&desc.name),
        });
        let config = match &desc.config {
            Some(key) => match read_json(store, key) {
                Ok(Some(c)) => {
                    consumed.insert(normalize(key));
                    Some(c)
                }
                Ok(None) => {
                    ctx.skip(
                        &config_origin(&image, "config", None),
                        SkipReason::Corrupt,
                        format!("config blob {key} is missing"),
                    );
                    None
                }
                Err(e) => {
                    // Left for the plain pass, which scans its bytes.
                    ctx.report(&config_origin(&image, "config", None), &e);
                    None
                }
            },
            None => None,
        };
        let diff_ids: Vec<&str> = config
            .as_ref()
            .and_then(|c| c["rootfs"]["diff_ids"].as_array())
            .map(|d| d.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let layers: Vec<Arc<str>> = desc
            .layers
            .iter()
            .enumerate()
            .map(|(i, (key, digest))| {
                let d = digest
                    .clone()
                    .or_else(|| diff_ids.get(i).map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| normalize(key));
                Arc::from(d)
            })
            .collect();
        if let Some(c) = &config {
            scan_config(ctx, &image, c, &layers);
        }
        let mut upper = Upper::default();
        for (i, (key, _)) in desc.layers.iter().enumerate().rev() {
            if ctx.halted {
                break;
            }
            let layer = &layers[i];
            let opened = match store.open(key) {
                Ok(Some((r, _))) => Some(r),
                Ok(None) => {
                    ctx.skip(
                        &config_origin(&image, &format!("layers[{i}]"), Some(layer.clone())),
                        SkipReason::Corrupt,
                        format!("layer blob {layer} is missing"),
                    );
                    None
                }
                Err(e) => {
                    ctx.report(
                        &config_origin(&image, &format!("layers[{i}]"), Some(layer.clone())),
                        &e,
                    );
                    None
                }
            };
            let Some(mut r) = opened else { continue };
            consumed.insert(normalize(key));
            if !scanned_layers.insert(normalize(key)) {
                continue;
            }
            let paths = scan_layer(ctx, &mut r, &image, layer, &upper);
            upper.add(layer, paths);
        }
    }
    consumed
}

fn config_origin(image: &Arc<Image>, field: &str, layer: Option<Arc<str>>) -> Origin {
    Origin::ImageConfig {
        image: image.clone(),
        field: field.to_owned(),
        layer,
    }
}

/// Scans every string in the configuration, one blob each: an array element as it is
/// (`ARTIFACTORY_API_KEY=…` in `config.Env`), an object member as `key=value` (labels), so
/// that rules see the key as context.
fn scan_config(ctx: &mut Ctx<'_>, image: &Arc<Image>, config: &Value, layers: &[Arc<str>]) {
    // History entries that created a layer, in order, map onto the layers.
    let mut history_layer = Vec::new();
    let mut next = 0;
    for h in config["history"].as_array().into_iter().flatten() {
        if h["empty_layer"].as_bool() == Some(true) {
            history_layer.push(None);
        } else {
            history_layer.push(layers.get(next).cloned());
            next += 1;
        }
    }
    let mut text = String::new();
    let mut bytes = 0u64;
    walk(config, &mut String::new(), None, &mut |path, key, value| {
        text.clear();
        if let Some(k) = key {
            text.push_str(k);
            text.push('=');
        }
        text.push_str(value);
        let layer = path
            .strip_prefix("history[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(i, _)| i.parse::<usize>().ok())
            .and_then(|i| history_layer.get(i).cloned().flatten());
        let origin = config_origin(image, path, layer);
        ctx.worker.blob(Blob {
            origin: &origin,
            data: text.as_bytes(),
            chunk: Chunk::whole(text.len(), Encoding::Bytes),
        });
        bytes += text.len() as u64;
    });
    ctx.worker
        .input_done(&config_origin(image, "config", None), bytes);
}

fn walk(
    value: &Value,
    path: &mut String,
    key: Option<&str>,
    emit: &mut dyn FnMut(&str, Option<&str>, &str),
) {
    match value {
        Value::String(s) => emit(path, key, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, None, emit);
                path.truncate(len);
            }
        }
        Value::Object(members) => {
            for (k, v) in members {
                let len = path.len();
                let plain = !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if plain {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                } else {
                    path.push_str(&format!("[{}]", Value::String(k.clone())));
                }
                walk(v, path, Some(k), emit);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Scans the files of one layer (a tar, compressed or not); returns what it adds for the
/// layers below.
fn scan_layer(
    ctx: &mut Ctx<'_>,
    input: &mut dyn Read,
    image: &Arc<Image>,
    layer: &Arc<str>,
    upper: &Upper,
) -> LayerPaths {
    let origin = config_origin(image, "layer", Some(layer.clone()));
    let mut head = [0u8; HEAD_LEN];
    let n = match archive::read_head(input, &mut head) {
        Ok(n) => n,
        Err(e) => {
            ctx.report(&origin, &e);
            return LayerPaths::default();
        }
    };
    let mut input = Cursor::new(&head[..n]).chain(input);
    match archive::detect(&head[..n]) {
        Kind::Tar => layer_tar(ctx, &mut input, image, layer, upper),
        Kind::Compressed(c) => {
            let mut decoded = archive::decompress(ctx, &mut input, c);
            layer_tar(ctx, &mut decoded, image, layer, upper)
        }
        _ if n == 0 => LayerPaths::default(),
        _ => {
            ctx.skip(
                &origin,
                SkipReason::Corrupt,
                format!("layer {layer} is not a tar archive; its raw bytes were scanned"),
            );
            archive::leaf(ctx, &mut input, &origin, Level::image_layer(), None);
            LayerPaths::default()
        }
    }
}

fn layer_tar(
    ctx: &mut Ctx<'_>,
    input: &mut dyn Read,
    image: &Arc<Image>,
    layer: &Arc<str>,
    upper: &Upper,
) -> LayerPaths {
    let mut paths = LayerPaths::default();
    let layer_origin = config_origin(image, "layer", Some(layer.clone()));
    let mut tar = ::tar::Archive::new(input);
    let entries = match tar.entries() {
        Ok(e) => e,
        Err(e) => {
            ctx.report(&layer_origin, &archive::tar_error(e));
            return paths;
        }
    };
    for entry in entries {
        if ctx.halted {
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                ctx.report(&layer_origin, &archive::tar_error(e));
                break;
            }
        };
        let name = normalize(&archive::entry_name(&entry));
        let name = name.trim_end_matches('/').to_owned();
        let (dir, base) = name.rsplit_once('/').unwrap_or(("", &name));
        if base == ".wh..wh..opq" {
            paths.opaque.push(dir.to_owned());
            continue;
        }
        if let Some(target) = base.strip_prefix(".wh.") {
            paths.deleted.push(if dir.is_empty() {
                target.to_owned()
            } else {
                format!("{dir}/{target}")
            });
            continue;
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        paths.files.push(name.clone());
        if !archive::has_content(kind) {
            continue;
        }
        if !ctx.enter_member(&layer_origin) {
            break;
        }
        let origin = Origin::ImageFile {
            image: image.clone(),
            layer: layer.clone(),
            path: display_member_name(&name),
            removed_in: upper.removed_in(&name),
        };
        let size = entry.size();
        archive::scan(ctx, &mut entry, &origin, Level::image_layer(), Some(size));
    }
    paths
}

/// If the tar file on disk is a `docker save` archive, scans it as images and returns true;
/// otherwise rewinds it and returns false (true if it cannot be rewound, after reporting).
pub(crate) fn scan_docker_archive(
    ctx: &mut Ctx<'_>,
    file: &mut fs_err::File,
    origin: &Origin,
) -> bool {
    let rewind = |ctx: &mut Ctx<'_>, file: &mut fs_err::File| match file.seek(SeekFrom::Start(0)) {
        Ok(_) => false,
        Err(e) => {
            ctx.report(origin, &e);
            true
        }
    };
    let Some(entries) = index_tar(file, ctx.limits) else {
        return rewind(ctx, file);
    };
    let names: HashSet<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
    let is_image = names.contains("manifest.json")
        || (names.contains("index.json") && names.contains("oci-layout"));
    if !is_image {
        return rewind(ctx, file);
    }
    let index = entries
        .iter()
        .enumerate()
        .map(|(i, (n, _, _))| (n.clone(), i))
        .collect();
    let mut store = TarStore {
        file,
        entries,
        index,
    };
    let consumed = scan_images(ctx, &mut store, origin);
    // Everything else: repositories, legacy `<id>/json`, manifests, unused blobs.
    let parent = Arc::new(origin.clone());
    let rest: Vec<(String, u64, u64)> = store
        .entries
        .iter()
        .filter(|(n, _, _)| !consumed.contains(n))
        .cloned()
        .collect();
    for (name, offset, size) in rest {
        if ctx.halted || !ctx.enter_member(origin) {
            break;
        }
        let member = Origin::Member {
            parent: parent.clone(),
            path: display_member_name(&name),
        };
        if let Err(e) = store.file.seek(SeekFrom::Start(offset)) {
            ctx.report(&member, &e);
            continue;
        }
        let mut r = (&mut *store.file).take(size);
        archive::scan(ctx, &mut r, &member, Level::image_layer(), Some(size));
    }
    true
}

/// Names, data offsets and sizes of a tar's regular files, by seeking past their data.
/// `None` when it is not a well-formed tar (the plain tar reader then reports why).
fn index_tar(file: &mut fs_err::File, limits: &Limits) -> Option<Vec<(String, u64, u64)>> {
    let mut tar = ::tar::Archive::new(&mut *file);
    let mut out = Vec::new();
    for entry in tar.entries_with_seek().ok()? {
        let entry = entry.ok()?;
        if !archive::has_content(entry.header().entry_type()) {
            continue;
        }
        out.push((
            normalize(&archive::entry_name(&entry)),
            entry.raw_file_position(),
            entry.size(),
        ));
        if out.len() as u64 > limits.max_archive_entries {
            return None;
        }
    }
    Some(out)
}

/// True when `dir` is an OCI image layout (it has an `oci-layout` file).
pub(crate) fn is_oci_layout(dir: &Path) -> bool {
    dir.join("oci-layout").is_file()
}

/// Scans an OCI layout directory: its images, then every other file in it.
pub(crate) fn scan_oci_dir(
    dir: &Path,
    limits: &Limits,
    reader: &mut Reader,
    worker: &mut dyn Worker,
) {
    let source = Origin::File(dir.to_path_buf());
    let consumed = {
        let mut ctx = Ctx::new(limits, reader, worker);
        let mut store = DirStore { dir };
        scan_images(&mut ctx, &mut store, &source)
    };
    let mut stack = vec![dir.to_path_buf()];
    let mut files: Vec<PathBuf> = Vec::new();
    while let Some(d) = stack.pop() {
        let Ok(read) = fs_err::read_dir(&d) else {
            continue;
        };
        for entry in read.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files.sort();
    for path in files {
        let rel = path
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if consumed.contains(&rel) {
            continue;
        }
        crate::fs_walk::scan_one_file(&path, Origin::File(path.clone()), limits, reader, worker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_cannot_name_paths_outside_the_blobs() {
        assert_eq!(
            blob_key("sha256:abc123").as_deref(),
            Some("blobs/sha256/abc123")
        );
        for bad in [
            "sha256:../../etc/passwd",
            "sha256:a/b",
            "../x:abc",
            "sha256:",
            "abc",
            "SHA256:abc",
        ] {
            assert_eq!(blob_key(bad), None, "{bad}");
        }
        assert_eq!(
            digest_of_key("blobs/sha256/abc").as_deref(),
            Some("sha256:abc")
        );
        assert_eq!(digest_of_key("abc/layer.tar"), None);
    }

    #[test]
    fn whiteouts_and_replacements_mark_lower_files() {
        let mut upper = Upper::default();
        let l2: Arc<str> = Arc::from("sha256:2");
        let l3: Arc<str> = Arc::from("sha256:3");
        upper.add(
            &l3,
            LayerPaths {
                files: vec!["etc/new".into()],
                deleted: vec!["app/.env".into(), "secrets".into()],
                opaque: vec!["cache".into()],
            },
        );
        upper.add(
            &l2,
            LayerPaths {
                files: vec!["etc/new".into(), "etc/passwd".into()],
                ..LayerPaths::default()
            },
        );
        assert_eq!(upper.removed_in("app/.env"), Some(l3.clone()));
        assert_eq!(upper.removed_in("secrets/a/b"), Some(l3.clone()));
        assert_eq!(upper.removed_in("cache/x"), Some(l3.clone()));
        assert_eq!(upper.removed_in("cache"), None, "only what is inside");
        assert_eq!(
            upper.removed_in("etc/new"),
            Some(l3.clone()),
            "uppermost wins"
        );
        assert_eq!(upper.removed_in("etc/passwd"), Some(l2));
        assert_eq!(upper.removed_in("app/run.sh"), None);
        upper.add(
            &l3,
            LayerPaths {
                opaque: vec![String::new()],
                ..LayerPaths::default()
            },
        );
        assert_eq!(upper.removed_in("anything"), Some(l3));
    }

    #[test]
    fn config_paths() {
        let v: Value = serde_json::from_str(
            r#"{"config":{"Env":["A=1"],"Labels":{"org.x":"y","k":"v"}},"history":[{"created_by":"RUN x"}]}"#,
        )
        .expect("json");
        let mut seen = Vec::new();
        walk(&v, &mut String::new(), None, &mut |p, k, s| {
            seen.push(format!("{p} {k:?} {s}"));
        });
        assert_eq!(
            seen,
            [
                "config.Env[0] None A=1",
                "config.Labels.k Some(\"k\") v",
                "config.Labels[\"org.x\"] Some(\"org.x\") y",
                "history[0].created_by Some(\"created_by\") RUN x",
            ]
        );
    }
}
