//! Issue #4: `scan --validate` (instance beside the token, one check per secret, blast radius,
//! output formats) and the safety rules (the token goes only to its own instance; no
//! redirects to other hosts; private addresses; HTTPS with a private CA).

use keyhound_testkit::jfrog_emulator::{Config, Fault, JfrogEmulator};
use keyhound_testkit::tls::TestCa;

use crate::common::{Sandbox, inspect_validate, run, write};

fn npmrc(base: &str, token: &str) -> String {
    let host = base
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    format!(
        "registry={base}/artifactory/api/npm/npm-virtual/\n//{host}/artifactory/api/npm/npm-virtual/:_authToken={token}\nalways-auth=true\n"
    )
}

#[test]
fn issue_4_scan_validates_each_secret_once_with_its_instance() {
    let e = JfrogEmulator::start(Config::standard());
    let sb = Sandbox::new();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    for dir in ["a", "b", "c"] {
        write(
            sb.path(),
            &format!("{dir}/.npmrc"),
            npmrc(&e.url(), &t.access_token),
        );
    }
    let mut c = sb.cmd();
    c.args([
        "scan",
        "a",
        "b",
        "c",
        "--format",
        "json",
        "--validate",
        "--allow-http",
    ])
    .args(["--jfrog-url", &e.url()]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    let f = &j["findings"][0];
    assert_eq!(f["locations"].as_array().expect("locations").len(), 3);
    assert_eq!(f["facts"]["instance_url"], e.url());
    assert_eq!(f["validation"]["status"], "live", "{f}");
    assert_eq!(f["validation"]["instance_source"], "beside");
    assert!(f["blast_radius"]["summary"].is_string());
    let me = e
        .requests()
        .iter()
        .filter(|r| r.path == "/access/api/v1/tokens/me")
        .count();
    assert_eq!(me, 1, "one secret in three files is checked once");
    assert!(
        r.stderr
            .contains("validation: 1 credential checked (1 live)")
    );
    assert!(!r.all().contains(&t.access_token));
    let egress = fs_err::read_to_string(sb.egress()).expect("egress log");
    assert!(!egress.contains(&t.access_token));

    for format in ["text", "sarif", "csv"] {
        let mut c = sb.cmd();
        c.args([
            "scan",
            "a",
            "--validate",
            "--allow-http",
            "--format",
            format,
        ])
        .args(["--jfrog-url", &e.url()]);
        let r = run(c);
        assert!(
            r.stdout.contains("live"),
            "{format} shows the verdict:\n{}",
            r.stdout
        );
        assert!(
            !r.all().contains(&t.access_token),
            "{format} leaks the token"
        );
    }
}

#[test]
fn issue_4_blast_radius_admin_and_deploy_only() {
    let e = JfrogEmulator::start(Config::standard());
    let sb = Sandbox::new();
    let admin = e.issue_token("admin", "applied-permissions/admin", None, false);
    let r = inspect_validate(
        &sb,
        &admin.access_token,
        &["--jfrog-url", &e.url(), "--allow-http"],
    );
    let b = &r.json()["blast_radius"];
    assert_eq!(b["admin"], true, "{b}");
    assert_eq!(b["severity"], "critical");
    assert_eq!(b["counts"]["readable"], 5);
    assert_eq!(b["counts"]["writable_local"], 3);
    assert!(
        b["summary"]
            .as_str()
            .expect("summary")
            .starts_with("admin: full control of the instance; can overwrite 3 local repositories (docker: 1, maven: 1, npm: 1)"),
        "{b}"
    );

    // A deployer's identity token: group `deployers` may write docker-local and npm-local.
    let deploy = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    let admin_file = sb.admin_file(&admin.access_token);
    let r = inspect_validate(
        &sb,
        &deploy.access_token,
        &[
            "--jfrog-url",
            &e.url(),
            "--allow-http",
            "--admin-token-file",
        ],
    );
    assert_eq!(r.code, 2, "--admin-token-file needs a value");
    let mut c = sb.cmd();
    c.args([
        "inspect",
        "-",
        "--format",
        "json",
        "--validate",
        "--allow-http",
    ])
    .args(["--jfrog-url", &e.url()])
    .arg("--admin-token-file")
    .arg(&admin_file)
    .write_stdin(deploy.access_token.clone());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b = &r.json()["blast_radius"];
    assert_eq!(b["admin"], false, "{b}");
    assert_eq!(b["user"], "deployer");
    assert_eq!(b["groups"], serde_json::json!(["deployers"]));
    assert_eq!(b["severity"], "critical");
    assert_eq!(b["permissions_known"], true);
    assert_eq!(
        b["summary"],
        "can overwrite 2 local repositories (docker: 1, npm: 1); can read 3 repositories"
    );
    let repos = b["repositories"].as_array().expect("repositories");
    let npm = repos
        .iter()
        .find(|r| r["key"] == "npm-local")
        .expect("npm-local");
    assert_eq!(npm["deploy"], true);
    assert_eq!(npm["delete"], false);
    assert_eq!(npm["type"], "local");
    assert_eq!(npm["package_type"], "npm");
    assert_eq!(npm["consumed_via"], serde_json::json!(["npm-virtual"]));
    assert!(r.stderr.is_empty() || !r.stderr.contains(&admin.access_token));

    // A read-only token is high; without an admin credential write access stays unknown.
    let reader = e.issue_token("reader", "applied-permissions/user", Some(3600), false);
    let mut c = sb.cmd();
    c.args([
        "inspect",
        "-",
        "--format",
        "json",
        "--validate",
        "--allow-http",
    ])
    .args(["--jfrog-url", &e.url()])
    .arg("--admin-token-file")
    .arg(&admin_file)
    .write_stdin(reader.access_token.clone());
    let b = &run(c).json()["blast_radius"];
    assert_eq!(b["severity"], "high", "{b}");
    assert_eq!(b["counts"]["writable_local"], 0);
    let r = inspect_validate(
        &sb,
        &reader.access_token,
        &["--jfrog-url", &e.url(), "--allow-http"],
    );
    let b = &r.json()["blast_radius"];
    assert_eq!(b["permissions_known"], false, "{b}");
    assert!(
        b["summary"]
            .as_str()
            .expect("summary")
            .contains("write access unknown")
    );
}

#[test]
fn issue_4_token_beside_evil_example_is_never_sent_elsewhere() {
    // The token sits beside https://evil.example/artifactory; the user's own instance (the
    // emulator) is trusted with --jfrog-url. The token must go to evil.example or nowhere.
    let e = JfrogEmulator::start(Config::standard());
    let sb = Sandbox::new();
    let t = e.issue_token("admin", "applied-permissions/admin", None, false);
    write(
        sb.path(),
        "repo/.npmrc",
        format!(
            "registry=https://evil.example/artifactory/api/npm/npm/\n//evil.example/artifactory/api/npm/npm/:_authToken={}\n",
            t.access_token
        ),
    );
    // The plan names only evil.example.
    let mut c = sb.cmd();
    c.args(["scan", "repo", "--validate-plan", "--format", "json"])
        .args(["--jfrog-url", &e.url()]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan = r.json();
    let urls: Vec<&str> = plan["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|p| p["url"].as_str())
        .collect();
    assert!(!urls.is_empty());
    assert!(
        urls.iter().all(|u| u.starts_with("https://evil.example/")),
        "{urls:?}"
    );
    assert!(e.requests().is_empty(), "the plan sends nothing");
    assert!(!sb.egress().exists(), "the plan sends nothing");

    // A real run where evil.example resolves (via --resolve, so no DNS leaves the machine)
    // to a loopback address: it is a discovered URL, so it is refused before connecting.
    let mut c = sb.cmd();
    c.args(["scan", "repo", "--validate", "--format", "json"])
        .args(["--jfrog-url", &e.url(), "--allow-http"])
        .args(["--resolve", "evil.example:443:127.0.0.1"]);
    let r = run(c);
    let v = &r.json()["findings"][0]["validation"];
    assert_eq!(v["status"], "unknown", "{v}");
    assert_eq!(v["instance"], "https://evil.example");
    assert!(
        v["reason"].as_str().expect("reason").contains("loopback"),
        "{v}"
    );
    assert!(
        e.requests().is_empty(),
        "nothing reached the trusted instance"
    );
    let egress = sb.egress_records();
    assert!(!egress.is_empty());
    for rec in &egress {
        assert_eq!(rec["host"], "evil.example");
        assert_eq!(rec["sent"], false);
    }
}

#[test]
fn issue_4_redirect_to_another_host_is_not_followed() {
    let e = JfrogEmulator::start(Config::standard());
    let other = JfrogEmulator::start(Config::standard());
    let sb = Sandbox::new();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    e.fault(Fault::redirect(
        "/access/api/v1/tokens/me",
        &format!("{}/access/api/v1/tokens/me", other.url()),
    ));
    let r = inspect_validate(
        &sb,
        &t.access_token,
        &["--jfrog-url", &e.url(), "--allow-http"],
    );
    let v = &r.json()["validation"];
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["reason"]
            .as_str()
            .expect("reason")
            .contains("redirect to another host")
    );
    assert!(
        other.requests().is_empty(),
        "the other host received nothing"
    );

    // A redirect within the instance is followed.
    e.clear_faults();
    e.fault(Fault::redirect("/access/api/v1/tokens/me", "/access/api/v1/tokens/me").times(1));
    let r = inspect_validate(
        &sb,
        &t.access_token,
        &["--jfrog-url", &e.url(), "--allow-http", "--no-blast-radius"],
    );
    assert_eq!(r.json()["validation"]["status"], "live");
}

#[test]
fn issue_4_discovered_private_address_is_refused_unless_trusted() {
    let e = JfrogEmulator::start(Config::standard());
    let sb = Sandbox::new();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    write(sb.path(), "repo/.npmrc", npmrc(&e.url(), &t.access_token));
    let mut c = sb.cmd();
    c.args([
        "scan",
        "repo",
        "--validate",
        "--allow-http",
        "--format",
        "json",
    ]);
    let v = run(c).json()["findings"][0]["validation"].clone();
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["reason"]
            .as_str()
            .expect("reason")
            .starts_with("refused:")
    );
    assert!(e.requests().is_empty());

    // Plain http is refused without --allow-http, even for a trusted instance.
    let r = inspect_validate(&sb, &t.access_token, &["--jfrog-url", &e.url()]);
    let v = &r.json()["validation"];
    assert!(
        v["reason"].as_str().expect("reason").contains("plain http"),
        "{v}"
    );
    assert!(e.requests().is_empty());

    // Trusted through the configuration file: checked.
    write(
        sb.path(),
        "keyhound.toml",
        format!(
            "[jfrog]\nallow_http = true\n\n[[jfrog.instances]]\nurl = \"{}\"\nname = \"lab\"\n",
            e.url()
        ),
    );
    let mut c = sb.cmd();
    c.args([
        "scan",
        "repo",
        "--validate",
        "--no-blast-radius",
        "--format",
        "json",
        "--config",
    ])
    .arg(sb.path().join("keyhound.toml"));
    let r = run(c);
    let v = &r.json()["findings"][0]["validation"];
    assert_eq!(v["status"], "live", "{v}\n{}", r.stderr);
}

#[test]
fn issue_4_https_with_a_private_ca() {
    let ca = TestCa::new(&["evil.example", "localhost"]);
    let e = JfrogEmulator::start_tls(Config::standard(), &ca);
    let sb = Sandbox::new();
    let ca_file = sb.path().join("ca.pem");
    fs_err::write(&ca_file, &ca.ca_pem).expect("write");
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    let url = format!("https://evil.example:{}", e.port());
    let resolve = format!("evil.example:{}:127.0.0.1", e.port());
    write(
        sb.path(),
        "keyhound.toml",
        format!("[[jfrog.instances]]\nurl = \"{url}\"\nname = \"corp\"\n"),
    );
    let mut c = sb.cmd();
    c.args([
        "inspect",
        "-",
        "--format",
        "json",
        "--validate",
        "--no-blast-radius",
    ])
    .args(["--resolve", &resolve, "--ca-cert"])
    .arg(&ca_file)
    .arg("--config")
    .arg(sb.path().join("keyhound.toml"))
    .write_stdin(t.access_token.clone());
    let r = run(c);
    let v = &r.json()["validation"];
    assert_eq!(v["status"], "live", "{v}\n{}", r.stderr);
    assert_eq!(v["instance"], url);
    assert!(
        e.requests()
            .iter()
            .all(|r| r.host == format!("evil.example:{}", e.port()))
    );

    // Without the CA the certificate is not trusted: unknown, and no credential was accepted.
    let before = e.requests().len();
    let mut c = sb.cmd();
    c.args([
        "inspect",
        "-",
        "--format",
        "json",
        "--validate",
        "--timeout",
        "3",
    ])
    .args(["--resolve", &resolve, "--config"])
    .arg(sb.path().join("keyhound.toml"))
    .write_stdin(t.access_token.clone());
    let v = run(c).json()["validation"].clone();
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["reason"]
            .as_str()
            .expect("reason")
            .starts_with("network:")
    );
    assert_eq!(
        e.requests().len(),
        before,
        "no request got through the TLS handshake"
    );
}

#[test]
fn issue_4_debug_logs_never_print_a_secret() {
    let e = JfrogEmulator::start(Config::standard());
    let sb = Sandbox::new();
    let admin = e.issue_token("admin", "applied-permissions/admin", None, false);
    let admin_file = sb.admin_file(&admin.access_token);
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), true);
    let reference = t.reference_token.clone().expect("reference");
    let key = e.api_key("reader");
    write(sb.path(), "repo/.npmrc", npmrc(&e.url(), &t.access_token));
    write(
        sb.path(),
        "repo/ci.sh",
        format!(
            "curl -H \"X-JFrog-Art-Api: {key}\" {}/artifactory/api/system/ping\ncurl -H \"Authorization: Bearer {reference}\" {}/artifactory/api/repositories\n",
            e.url(),
            e.url()
        ),
    );
    let mut c = sb.cmd();
    c.args([
        "scan",
        "repo",
        "--validate",
        "--allow-http",
        "-vvv",
        "--format",
        "json",
    ])
    .args(["--jfrog-url", &e.url()])
    .arg("--admin-token-file")
    .arg(&admin_file)
    .env("KEYHOUND_LOG", "trace");
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json = r.json();
    let verdicts: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["validation"]["status"].as_str())
        .collect();
    assert_eq!(verdicts, ["live", "live", "live"], "{}", r.stdout);
    assert!(r.stderr.len() > 1000, "trace logs were written");
    let egress = fs_err::read_to_string(sb.egress()).expect("egress");
    for secret in [&t.access_token, &reference, &key, &admin.access_token] {
        assert!(!r.stdout.contains(secret.as_str()), "stdout leaks a secret");
        assert!(!r.stderr.contains(secret.as_str()), "logs leak a secret");
        assert!(
            !egress.contains(secret.as_str()),
            "the egress log leaks a secret"
        );
    }
}

#[test]
fn issue_4_every_header_style_from_every_config_file_kind() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let e = JfrogEmulator::start(Config::standard());
    let sb = Sandbox::new();
    let base = e.url();
    let host = base.trim_start_matches("http://").to_owned();
    let pw = e.password("deployer");
    let key = e.api_key("reader");
    let reference = e
        .issue_token("reader", "applied-permissions/user", Some(3600), true)
        .reference_token
        .expect("reference");
    // npm _auth: Basic with a password.
    write(
        sb.path(),
        "repo/.npmrc",
        format!(
            "registry={base}/artifactory/api/npm/npm-virtual/\n//{host}/artifactory/api/npm/npm-virtual/:_auth={}\n",
            b64(&format!("deployer:{pw}"))
        ),
    );
    // pip index-url with an API key as the password: the API-key rule wins, and the key is
    // checked with its own header.
    write(
        sb.path(),
        "repo/pip.conf",
        format!(
            "[global]\nindex-url = http://reader:{key}@{host}/artifactory/api/pypi/pypi/simple\n"
        ),
    );
    // Docker auths with a reference token as the password: Basic with a token.
    write(
        sb.path(),
        "repo/docker/config.json",
        format!(
            "{{\"auths\": {{\"http://{host}/artifactory/api/docker/docker-local\": {{\"auth\": \"{}\"}}}}}}\n",
            b64(&format!("reader:{reference}"))
        ),
    );
    let r = {
        let mut c = sb.cmd();
        c.args([
            "scan",
            "repo",
            "--validate",
            "--no-blast-radius",
            "--allow-http",
            "--format",
            "json",
        ])
        .args(["--jfrog-url", &base]);
        run(c)
    };
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json = r.json();
    let mut seen: Vec<(String, String, String)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["locations"][0]["path"].as_str().unwrap_or("").to_owned(),
                f["validation"]["status"]
                    .as_str()
                    .unwrap_or("none")
                    .to_owned(),
                f["validation"]["auth"]
                    .as_str()
                    .unwrap_or("none")
                    .to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "repo/.npmrc".into(),
                "live".into(),
                "Authorization: Basic (deployer:…)".into()
            ),
            (
                "repo/docker/config.json".into(),
                "live".into(),
                "Authorization: Basic (reader:…)".into()
            ),
            (
                "repo/pip.conf".into(),
                "live".into(),
                "X-JFrog-Art-Api".into()
            ),
        ],
        "{}",
        r.stdout
    );
    for s in [&pw, &key, &reference] {
        assert!(!r.all().contains(s.as_str()));
    }
}
