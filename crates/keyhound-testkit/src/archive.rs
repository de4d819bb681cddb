//! Archive, compressed-stream and container-image fixtures, built in memory.
//!
//! There is no Docker engine on the test machines, so `docker save` archives (both layouts)
//! and OCI layouts are assembled here byte by byte, with real sha256 digests. Tars are written
//! by hand so that tests can store hostile names (`/etc/passwd`, `../../x`) that careful tar
//! libraries refuse to write.

use std::io::{Cursor, Write};
use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A file to put in an archive: name and content.
pub type Entry<'a> = (&'a str, &'a [u8]);

/// A zip with deflated members.
pub fn zip(entries: &[Entry<'_>]) -> Vec<u8> {
    zip_with(entries, ::zip::CompressionMethod::Deflated)
}

/// A zip with stored (uncompressed) members.
pub fn zip_stored(entries: &[Entry<'_>]) -> Vec<u8> {
    zip_with(entries, ::zip::CompressionMethod::Stored)
}

fn zip_with(entries: &[Entry<'_>], method: ::zip::CompressionMethod) -> Vec<u8> {
    let mut w = ::zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = ::zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false);
    for (name, data) in entries {
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A ustar header block for a member.
fn tar_header(name: &[u8], size: usize, kind: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    let (prefix, name) = if name.len() > 100 {
        // Split at a `/` so that the prefix field takes the rest (ustar).
        let cut = name[..name.len().min(155)]
            .iter()
            .rposition(|&b| b == b'/')
            .expect("a long name has a slash");
        (&name[..cut], &name[cut + 1..])
    } else {
        (&[][..], name)
    };
    assert!(name.len() <= 100 && prefix.len() <= 155, "name too long");
    h[..name.len()].copy_from_slice(name);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"14720000000\0");
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix);
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// A tar of regular files, names stored exactly as given.
pub fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        tar_append(&mut out, name.as_bytes(), data, b'0');
    }
    tar_finish(&mut out);
    out
}

/// A tar with directories too: a name ending in `/` is a directory.
pub fn tar_with_dirs(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        let kind = if name.ends_with('/') { b'5' } else { b'0' };
        tar_append(&mut out, name.as_bytes(), data, kind);
    }
    tar_finish(&mut out);
    out
}

fn tar_append(out: &mut Vec<u8>, name: &[u8], data: &[u8], kind: u8) {
    out.extend_from_slice(&tar_header(name, data.len(), kind));
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn tar_finish(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0u8; 1024]);
}

/// gzip.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// bzip2.
pub fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).expect("bzip2");
    e.finish().expect("bzip2")
}

/// xz.
pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(3)).expect("xz");
    w.write_all(data).expect("xz");
    w.finish().expect("xz")
}

/// Zstandard.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// `sha256:<hex>` of some bytes.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("a sha256 digest")
}

/// How layer blobs are compressed in an OCI layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerCompression {
    /// Plain tar.
    None,
    /// `tar+gzip`.
    Gzip,
    /// `tar+zstd`.
    Zstd,
}

/// A container image to build.
#[derive(Debug, Clone, Default)]
pub struct ImageSpec {
    /// `repository:tag`.
    pub repo_tag: String,
    /// `config.Env`, as `KEY=value`.
    pub env: Vec<String>,
    /// `config.Cmd`.
    pub cmd: Vec<String>,
    /// `config.Labels`.
    pub labels: Vec<(String, String)>,
    /// Layers, bottom first: each a list of (path, content); a path ending in `/` is a
    /// directory, and `.wh.NAME` files are whiteouts, as in real layers.
    pub layers: Vec<Vec<(String, Vec<u8>)>>,
    /// `history`: (created_by, empty_layer). Entries with `empty_layer: false` must match
    /// the layers in number.
    pub history: Vec<(String, bool)>,
}

impl ImageSpec {
    fn layer_tars(&self) -> Vec<Vec<u8>> {
        self.layers
            .iter()
            .map(|files| {
                let entries: Vec<Entry<'_>> = files
                    .iter()
                    .map(|(p, c)| (p.as_str(), c.as_slice()))
                    .collect();
                tar_with_dirs(&entries)
            })
            .collect()
    }

    fn config(&self, diff_ids: &[String]) -> Vec<u8> {
        let labels: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let history: Vec<Value> = self
            .history
            .iter()
            .map(|(c, empty)| {
                let mut h = json!({"created": "2026-01-02T03:04:05Z", "created_by": c});
                if *empty {
                    h["empty_layer"] = json!(true);
                }
                h
            })
            .collect();
        serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": self.env, "Cmd": self.cmd, "Labels": labels, "WorkingDir": "/app"},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }))
        .expect("config json")
    }
}

/// The layout of a `docker save` archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerLayout {
    /// Docker before 25: `manifest.json`, `<config>.json`, `<id>/layer.tar`, `repositories`.
    Legacy,
    /// Docker 25 and later: an OCI layout (`oci-layout`, `index.json`, `blobs/sha256/…`)
    /// plus `manifest.json` and `repositories`.
    Oci,
}

/// A `docker save` archive of one image.
pub fn docker_save(spec: &ImageSpec, layout: DockerLayout) -> Vec<u8> {
    let layers = spec.layer_tars();
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let config = spec.config(&diff_ids);
    let config_digest = sha256(&config);
    let (repo, tag) = spec.repo_tag.rsplit_once(':').expect("repo:tag");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    match layout {
        DockerLayout::Legacy => {
            let mut ids = Vec::new();
            for (i, l) in layers.iter().enumerate() {
                let id =
                    hex_of(&sha256(format!("layer-{i}-{}", diff_ids[i]).as_bytes())).to_owned();
                files.push((format!("{id}/VERSION"), b"1.0".to_vec()));
                files.push((
                    format!("{id}/json"),
                    serde_json::to_vec(&json!({"id": id})).expect("json"),
                ));
                files.push((format!("{id}/layer.tar"), l.clone()));
                ids.push(id);
            }
            let config_name = format!("{}.json", hex_of(&config_digest));
            files.push((config_name.clone(), config));
            let manifest = json!([{
                "Config": config_name,
                "RepoTags": [spec.repo_tag],
                "Layers": ids.iter().map(|id| format!("{id}/layer.tar")).collect::<Vec<_>>(),
            }]);
            files.push((
                "repositories".into(),
                serde_json::to_vec(&json!({repo: {tag: ids.last()}})).expect("json"),
            ));
            files.push((
                "manifest.json".into(),
                serde_json::to_vec(&manifest).expect("json"),
            ));
        }
        DockerLayout::Oci => {
            let blobs = oci_blobs(spec, &layers, &config, LayerCompression::None);
            let layer_keys: Vec<String> = blobs
                .layer_digests
                .iter()
                .map(|d| format!("blobs/sha256/{}", hex_of(d)))
                .collect();
            for (digest, data) in blobs.blobs {
                files.push((format!("blobs/sha256/{}", hex_of(&digest)), data));
            }
            files.push(("index.json".into(), blobs.index));
            let manifest = json!([{
                "Config": format!("blobs/sha256/{}", hex_of(&config_digest)),
                "RepoTags": [spec.repo_tag],
                "Layers": layer_keys,
            }]);
            files.push((
                "manifest.json".into(),
                serde_json::to_vec(&manifest).expect("json"),
            ));
            files.push(("oci-layout".into(), OCI_LAYOUT.to_vec()));
            files.push((
                "repositories".into(),
                serde_json::to_vec(&json!({repo: {tag: hex_of(&blobs.manifest_digest)}}))
                    .expect("json"),
            ));
        }
    }
    let entries: Vec<Entry<'_>> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    tar(&entries)
}

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

struct OciBlobs {
    blobs: Vec<(String, Vec<u8>)>,
    layer_digests: Vec<String>,
    manifest_digest: String,
    index: Vec<u8>,
}

fn oci_blobs(
    spec: &ImageSpec,
    layers: &[Vec<u8>],
    config: &[u8],
    compression: LayerCompression,
) -> OciBlobs {
    let mut blobs = Vec::new();
    let mut descriptors = Vec::new();
    let mut layer_digests = Vec::new();
    let media = match compression {
        LayerCompression::None => "application/vnd.oci.image.layer.v1.tar",
        LayerCompression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        LayerCompression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    };
    for l in layers {
        let data = match compression {
            LayerCompression::None => l.clone(),
            LayerCompression::Gzip => gzip(l),
            LayerCompression::Zstd => zstd(l),
        };
        let d = sha256(&data);
        descriptors.push(json!({"mediaType": media, "digest": d, "size": data.len()}));
        layer_digests.push(d.clone());
        blobs.push((d, data));
    }
    let config_digest = sha256(config);
    blobs.push((config_digest.clone(), config.to_vec()));
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    }))
    .expect("json");
    let manifest_digest = sha256(&manifest);
    let tag = spec.repo_tag.rsplit_once(':').map_or("latest", |(_, t)| t);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest.len(),
            "annotations": {
                "io.containerd.image.name": format!("docker.io/{}", spec.repo_tag),
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    }))
    .expect("json");
    blobs.push((manifest_digest.clone(), manifest));
    OciBlobs {
        blobs,
        layer_digests,
        manifest_digest,
        index,
    }
}

/// Digests of an image written by [`oci_layout`].
#[derive(Debug, Clone)]
pub struct OciDigests {
    /// Layer blob digests, bottom first.
    pub layers: Vec<String>,
    /// The config blob's digest.
    pub config: String,
}

/// Writes an OCI image layout of one image into `dir` (created if needed).
pub fn oci_layout(dir: &Path, spec: &ImageSpec, compression: LayerCompression) -> OciDigests {
    let layers = spec.layer_tars();
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let config = spec.config(&diff_ids);
    let blobs = oci_blobs(spec, &layers, &config, compression);
    let blob_dir = dir.join("blobs/sha256");
    fs_err::create_dir_all(&blob_dir).expect("mkdir");
    for (d, data) in &blobs.blobs {
        fs_err::write(blob_dir.join(hex_of(d)), data).expect("write blob");
    }
    fs_err::write(dir.join("index.json"), &blobs.index).expect("write index");
    fs_err::write(dir.join("oci-layout"), OCI_LAYOUT).expect("write oci-layout");
    OciDigests {
        layers: blobs.layer_digests,
        config: sha256(&config),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_headers_are_valid_ustar() {
        let t = tar(&[("a.txt", b"hello"), ("/abs/x", b"y")]);
        assert_eq!(t.len(), 512 * 2 + 512 * 2 + 1024);
        assert_eq!(&t[257..263], b"ustar\0");
        assert_eq!(&t[512..517], b"hello");
    }

    #[test]
    fn compressors_produce_their_magic() {
        assert!(gzip(b"x").starts_with(&[0x1f, 0x8b]));
        assert!(bzip2(b"x").starts_with(b"BZh"));
        assert!(xz(b"x").starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]));
        assert!(zstd(b"x").starts_with(&[0x28, 0xB5, 0x2F, 0xFD]));
        assert!(zip(&[("a", b"b")]).starts_with(b"PK\x03\x04"));
    }
}
