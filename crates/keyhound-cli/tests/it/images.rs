//! Container images (#3): `docker save` archives in both layouts, OCI layouts with gzip and
//! zstd layers, whiteouts, a missing blob, and acceptance 3 (a config `ENV` and a history
//! `--build-arg`).

use keyhound_testkit::archive::{self as ka, DockerLayout, ImageSpec, LayerCompression};
use keyhound_testkit::fake;
use serde_json::Value;

use crate::common::{keyhound, scan_json, write};

struct Planted {
    env_key: String,
    build_token: String,
    npm_token: String,
    deleted_key: String,
}

fn spec(seed: u64) -> (ImageSpec, Planted) {
    let p = Planted {
        env_key: fake::jfrog_api_key(seed),
        build_token: fake::jfrog_reference_token(seed + 1, 0),
        npm_token: fake::jfrog_reference_token(seed + 2, 0),
        deleted_key: fake::jfrog_api_key(seed + 3),
    };
    let spec = ImageSpec {
        repo_tag: "acme/app:1.0".into(),
        env: vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin".into(),
            format!("ARTIFACTORY_API_KEY={}", p.env_key),
        ],
        cmd: vec!["/app/run.sh".into()],
        labels: vec![("org.opencontainers.image.source".into(), "https://example.com/app".into())],
        layers: vec![
            vec![
                ("etc/".into(), vec![]),
                ("etc/os-release".into(), b"NAME=\"Test Linux\"\n".to_vec()),
            ],
            vec![
                ("app/".into(), vec![]),
                (
                    "app/.npmrc".into(),
                    format!(
                        "registry=https://acme.jfrog.io/artifactory/api/npm/npm/\n//acme.jfrog.io/artifactory/api/npm/npm/:_authToken={}\n",
                        p.npm_token
                    )
                    .into_bytes(),
                ),
                (
                    "app/.env".into(),
                    format!("ARTIFACTORY_API_KEY={}\n", p.deleted_key).into_bytes(),
                ),
            ],
            vec![("app/".into(), vec![]), ("app/.wh..env".into(), vec![])],
        ],
        history: vec![
            ("/bin/sh -c #(nop) ADD file:0123abcd in / ".into(), false),
            (
                format!("/bin/sh -c #(nop)  ENV ARTIFACTORY_API_KEY={}", p.env_key),
                true,
            ),
            (
                format!(
                    "RUN |1 JFROG_TOKEN={} /bin/sh -c ./build.sh # buildkit",
                    p.build_token
                ),
                false,
            ),
            ("RUN /bin/sh -c rm /app/.env # buildkit".into(), false),
        ],
    };
    (spec, p)
}

/// Every location of the finding whose secret is `secret`.
fn locations_of<'a>(json: &'a Value, secret: &str) -> Vec<&'a Value> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["secret"] == secret)
        .flat_map(|f| f["locations"].as_array().expect("locations"))
        .collect()
}

fn assert_image_findings(json: &Value, prefix: &str, name: &str, layers: &[String], p: &Planted) {
    let short = |d: &str| d[..19].to_owned();
    // Acceptance 3: the config's ENV...
    let env = locations_of(json, &p.env_key);
    let env_loc = env
        .iter()
        .find(|l| l["path"] == format!("{prefix}!/{name}!/config.Env[1]"))
        .unwrap_or_else(|| panic!("no config.Env location: {env:#?}"));
    assert_eq!(env_loc["line"], 1);
    assert_eq!(env_loc["column"], 21);
    assert_eq!(env_loc["image"]["name"], name);
    assert_eq!(env_loc["image"]["field"], "config.Env[1]");
    // (also in the history entry of the ENV instruction)
    assert!(
        env.iter()
            .any(|l| l["path"] == format!("{prefix}!/{name}!/history[1].created_by")),
        "{env:#?}"
    );
    // ...and the --build-arg in the history, attributed to the layer it built.
    let build = locations_of(json, &p.build_token);
    assert_eq!(build.len(), 1, "{build:#?}");
    assert_eq!(
        build[0]["path"],
        format!("{prefix}!/{name}!/history[2].created_by")
    );
    assert_eq!(build[0]["image"]["layer"], layers[1].as_str());
    // A file in a layer names the image, the layer and the path.
    let npm = locations_of(json, &p.npm_token);
    assert_eq!(npm.len(), 1, "{npm:#?}");
    assert_eq!(
        npm[0]["path"],
        format!("{prefix}!/{name}!/{}!/app/.npmrc", short(&layers[1]))
    );
    assert_eq!(npm[0]["line"], 2);
    assert_eq!(npm[0]["image"]["layer"], layers[1].as_str());
    assert_eq!(npm[0]["image"]["path"], "app/.npmrc");
    assert!(npm[0]["image"].get("removed_in").is_none());
    // A file deleted by a whiteout in an upper layer still ships in its layer.
    let deleted = locations_of(json, &p.deleted_key);
    assert_eq!(deleted.len(), 1, "{deleted:#?}");
    assert_eq!(
        deleted[0]["path"],
        format!("{prefix}!/{name}!/{}!/app/.env", short(&layers[1]))
    );
    assert_eq!(deleted[0]["image"]["removed_in"], layers[2].as_str());
}

fn diff_ids(spec: &ImageSpec) -> Vec<String> {
    spec.layers
        .iter()
        .map(|files| {
            let entries: Vec<(&str, &[u8])> = files
                .iter()
                .map(|(p, c)| (p.as_str(), c.as_slice()))
                .collect();
            ka::sha256(&ka::tar_with_dirs(&entries))
        })
        .collect()
}

/// Acceptance 3 of issue #3, in the legacy `docker save` layout (Docker before 25).
#[test]
fn issue_3_docker_save_legacy_config_env_and_build_arg() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (spec, p) = spec(500);
    write(
        dir.path(),
        "img.tar",
        ka::docker_save(&spec, DockerLayout::Legacy),
    );
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    assert_image_findings(&scan.json, "img.tar", "acme/app:1.0", &diff_ids(&spec), &p);
    assert_eq!(
        scan.json["summary"]["skipped"],
        serde_json::json!({}),
        "{}",
        scan.stderr
    );
    // The text report says the deleted file is not in the final image.
    let out = keyhound()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("(deleted or replaced in layer sha256:"),
        "{stdout}"
    );
}

/// Acceptance 3 of issue #3, in the OCI `docker save` layout (Docker 25 and later).
#[test]
fn issue_3_docker_save_oci_config_env_and_build_arg() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (spec, p) = spec(510);
    write(
        dir.path(),
        "img.tar",
        ka::docker_save(&spec, DockerLayout::Oci),
    );
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    // Uncompressed layers: blob digests are the diff ids.
    assert_image_findings(&scan.json, "img.tar", "acme/app:1.0", &diff_ids(&spec), &p);
    assert_eq!(scan.json["summary"]["skipped"], serde_json::json!({}));
}

#[test]
fn oci_layouts_with_gzip_and_zstd_layers() {
    for (i, compression) in [LayerCompression::Gzip, LayerCompression::Zstd]
        .into_iter()
        .enumerate()
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let (spec, p) = spec(520 + 10 * i as u64);
        let digests = ka::oci_layout(&dir.path().join("layout"), &spec, compression);
        let scan = scan_json(dir.path(), &["--show-secrets"]);
        assert_eq!(scan.code, 1, "{compression:?}: {}", scan.stderr);
        assert_image_findings(
            &scan.json,
            "layout",
            "docker.io/acme/app:1.0",
            &digests.layers,
            &p,
        );
        assert_eq!(
            scan.json["summary"]["skipped"],
            serde_json::json!({}),
            "{}",
            scan.stderr
        );
    }
}

#[test]
fn oci_layout_with_a_missing_blob_reports_it_and_scans_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (spec, p) = spec(540);
    let layout = dir.path().join("layout");
    let digests = ka::oci_layout(&layout, &spec, LayerCompression::Gzip);
    // The top layer (the whiteout) is gone.
    let gone = &digests.layers[2];
    fs_err::remove_file(layout.join("blobs/sha256").join(&gone[7..])).expect("rm");
    let other = fake::jfrog_api_key(549);
    write(
        dir.path(),
        "other/.env",
        format!("ARTIFACTORY_API_KEY={other}\n"),
    );
    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 2, "{}", scan.stderr);
    assert_eq!(scan.json["summary"]["skipped"]["corrupt"], 1);
    let skipped = &scan.json["summary"]["skipped_inputs"][0];
    assert_eq!(skipped["path"], "layout!/docker.io/acme/app:1.0!/layers[2]");
    assert_eq!(skipped["detail"], format!("layer blob {gone} is missing"));
    assert!(
        scan.stderr
            .contains("1 corrupt archives, streams or images"),
        "{}",
        scan.stderr
    );
    // Everything else is still found; without the whiteout, the .env is not marked deleted.
    assert_eq!(locations_of(&scan.json, &p.npm_token).len(), 1);
    let env = locations_of(&scan.json, &p.deleted_key);
    assert_eq!(env.len(), 1);
    assert!(env[0]["image"].get("removed_in").is_none());
    assert_eq!(locations_of(&scan.json, &other).len(), 1);
}

#[test]
fn docker_save_on_stdin_is_read_as_nested_archives() {
    let (spec, p) = spec(560);
    let out = keyhound()
        .args([
            "scan",
            "-",
            "--stdin-name",
            "img.tar",
            "--format",
            "json",
            "--show-secrets",
        ])
        .write_stdin(ka::docker_save(&spec, DockerLayout::Legacy))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    for secret in [&p.env_key, &p.build_token, &p.npm_token, &p.deleted_key] {
        let locs = locations_of(&json, secret);
        assert!(!locs.is_empty(), "{secret} not found");
        assert!(
            locs.iter()
                .all(|l| l["path"].as_str().expect("path").starts_with("img.tar!/")),
            "{locs:#?}"
        );
    }
    let npm = locations_of(&json, &p.npm_token);
    assert!(
        npm[0]["path"]
            .as_str()
            .expect("path")
            .ends_with("/layer.tar!/app/.npmrc"),
        "{npm:#?}"
    );
}
