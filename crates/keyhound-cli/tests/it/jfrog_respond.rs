//! Issue #4: `keyhound revoke` and `keyhound replace` against the JFrog and Vault emulators.

use keyhound_testkit::jfrog_emulator::{Config, JfrogEmulator};
use keyhound_testkit::vault_emulator::VaultEmulator;

use crate::common::{Sandbox, inspect_validate, run, write};

fn setup() -> (JfrogEmulator, Sandbox, std::path::PathBuf) {
    let e = JfrogEmulator::start(Config::standard());
    let sb = Sandbox::new();
    let admin = e.issue_token("admin", "applied-permissions/admin", None, false);
    let file = sb.admin_file(&admin.access_token);
    (e, sb, file)
}

fn revoke(
    sb: &Sandbox,
    e: &JfrogEmulator,
    admin: &std::path::Path,
    stdin: &str,
    args: &[&str],
) -> crate::common::Run {
    let mut c = sb.cmd();
    c.args(["revoke", "--allow-http", "--jfrog-url", &e.url()])
        .arg("--admin-token-file")
        .arg(admin)
        .args(args)
        .write_stdin(stdin.to_owned());
    run(c)
}

#[test]
fn issue_4_revoke_then_inspect_shows_the_token_dead() {
    let (e, sb, admin) = setup();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    let r = revoke(&sb, &e, &admin, &t.access_token, &["-", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("revoked: revoke the access token"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("verified: revoked after revocation"));
    assert!(!e.token_active(&t.token_id));
    let v = inspect_validate(
        &sb,
        &t.access_token,
        &["--jfrog-url", &e.url(), "--allow-http"],
    );
    assert_eq!(v.json()["validation"]["status"], "revoked");
    let audit = sb.audit_records();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "revoke");
    assert_eq!(audit[0]["outcome"], "revoked");
    assert_eq!(audit[0]["target"]["token_id"], t.token_id);
    let text = fs_err::read_to_string(sb.audit()).expect("audit");
    assert!(
        !text.contains(&t.access_token),
        "the audit log holds no secret"
    );
    assert!(!r.all().contains(&t.access_token));
}

#[test]
fn issue_4_revoke_reference_token_by_id_and_api_keys() {
    let (e, sb, admin) = setup();
    let t = e.issue_token("reader", "applied-permissions/user", Some(3600), true);
    let reference = t.reference_token.clone().expect("reference");
    let r = revoke(&sb, &e, &admin, &reference, &["-", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!e.token_active(&t.token_id));
    let v = inspect_validate(&sb, &reference, &["--jfrog-url", &e.url(), "--allow-http"]);
    assert_eq!(v.json()["validation"]["status"], "invalid");

    let t2 = e.issue_token("reader", "applied-permissions/user", Some(3600), false);
    let r = revoke(&sb, &e, &admin, "", &["--token-id", &t2.token_id, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("the instance no longer knows the token"),
        "{}",
        r.stdout
    );
    assert!(!e.token_active(&t2.token_id));

    // An API key, by its user (admin), and one revoked with itself.
    let key = e.api_key("deployer");
    let r = revoke(&sb, &e, &admin, &key, &["-", "--user", "deployer", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!e.api_key_active(&key));
    let own = e.api_key("reader");
    let mut c = sb.cmd();
    c.args([
        "revoke",
        "-",
        "--yes",
        "--allow-http",
        "--jfrog-url",
        &e.url(),
    ])
    .write_stdin(own.clone());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!e.api_key_active(&own));
    assert_eq!(sb.audit_records().len(), 4);
}

#[test]
fn issue_4_revoke_by_fingerprint_from_a_scan_report() {
    let (e, sb, admin) = setup();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    write(
        sb.path(),
        "repo/.env",
        format!("JFROG_ACCESS_TOKEN={}\n", t.access_token),
    );
    let mut c = sb.cmd();
    c.args([
        "scan",
        "repo",
        "--format",
        "json",
        "--output",
        "report.json",
    ]);
    run(c);
    let report: serde_json::Value = serde_json::from_str(
        &fs_err::read_to_string(sb.path().join("report.json")).expect("report"),
    )
    .expect("json");
    let fp = report["findings"][0]["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    // Without --show-secrets the report still has the token id: revoke by id.
    let r = revoke(
        &sb,
        &e,
        &admin,
        "",
        &[&fp, "--report", "report.json", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!e.token_active(&t.token_id));
    // A bare fingerprint without a report is explained.
    let r = revoke(&sb, &e, &admin, "", &[&fp, "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--report"), "{}", r.stderr);
}

#[test]
fn issue_4_revoke_dry_run_and_confirmation() {
    let (e, sb, admin) = setup();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    let before = e.requests().len();
    let r = revoke(&sb, &e, &admin, &t.access_token, &["-", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("DELETE"), "{}", r.stderr);
    assert!(r.stderr.contains("/access/api/v1/tokens/revoke"));
    assert_eq!(e.requests().len(), before, "a dry run sends nothing");
    // No terminal and no --yes: refused.
    let r = revoke(&sb, &e, &admin, &t.access_token, &["-"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("without confirmation"), "{}", r.stderr);
    assert!(e.token_active(&t.token_id));
    // No admin credential: refused with a hint; the admin token is never an argument.
    let mut c = sb.cmd();
    c.args([
        "revoke",
        "-",
        "--yes",
        "--allow-http",
        "--jfrog-url",
        &e.url(),
    ])
    .write_stdin(t.access_token.clone());
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--admin-token-file"), "{}", r.stderr);
    // The environment variable works too.
    let admin_token = fs_err::read_to_string(&admin)
        .expect("admin")
        .trim()
        .to_owned();
    let mut c = sb.cmd();
    c.args([
        "revoke",
        "-",
        "--yes",
        "--allow-http",
        "--jfrog-url",
        &e.url(),
    ])
    .env("KEYHOUND_JFROG_ADMIN_TOKEN", &admin_token)
    .write_stdin(t.access_token.clone());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!e.token_active(&t.token_id));
    // A URL found beside a token is never where the admin credential goes.
    write(
        sb.path(),
        "report.json",
        serde_json::json!({"findings": [{"fingerprint": "0123456789abcdef0123456789abcdef", "rule_id": "keyhound.jfrog.3", "facts": {"token_id": "x", "instance_url": "https://evil.example"}}]}).to_string(),
    );
    let mut c = sb.cmd();
    c.args([
        "revoke",
        "0123456789abcdef0123456789abcdef",
        "--report",
        "report.json",
        "--yes",
    ])
    .arg("--admin-token-file")
    .arg(&admin);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("not an instance you named"),
        "{}",
        r.stderr
    );
}

#[test]
fn issue_4_replace_writes_a_narrower_expiring_token_to_a_0600_file() {
    let (e, sb, admin) = setup();
    // The leak: a never-expiring admin token of user `deployer`.
    let old = e.issue_token("deployer", "applied-permissions/admin", None, false);
    let out = sb.path().join("new.token");
    let mut c = sb.cmd();
    c.args([
        "replace",
        "-",
        "--yes",
        "--allow-http",
        "--incident",
        "INC-42",
    ])
    .args(["--jfrog-url", &e.url()])
    .arg("--admin-token-file")
    .arg(&admin)
    .arg("--output-file")
    .arg(&out)
    .write_stdin(old.access_token.clone());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("applied-permissions/user"),
        "{}",
        r.stderr
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs_err::metadata(&out).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let new_token = fs_err::read_to_string(&out)
        .expect("token")
        .trim()
        .to_owned();
    assert!(
        !r.all().contains(&new_token),
        "the new token is written once, to the file"
    );
    let v = inspect_validate(
        &sb,
        &new_token,
        &["--jfrog-url", &e.url(), "--allow-http", "--no-blast-radius"],
    );
    let j = v.json();
    assert_eq!(j["validation"]["status"], "live");
    assert_eq!(j["facts"]["user"], "deployer");
    assert_eq!(
        j["facts"]["scopes"],
        serde_json::json!(["applied-permissions/user"])
    );
    let expiry = j["facts"]["expires_at"].as_i64().expect("expires");
    let issued = j["facts"]["issued_at"].as_i64().expect("issued");
    assert_eq!(expiry - issued, 30 * 86_400, "30 days by default");
    let id = j["facts"]["token_id"].as_str().expect("id");
    let info = e.token_info(id).expect("known");
    assert!(
        info["description"]
            .as_str()
            .expect("description")
            .contains("INC-42")
    );
    assert!(
        e.token_active(&old.token_id),
        "replace does not revoke the old token"
    );
    let audit = sb.audit_records();
    assert_eq!(audit.last().expect("audit")["action"], "replace");
    let audit_text = fs_err::read_to_string(sb.audit()).expect("audit");
    assert!(!audit_text.contains(&new_token) && !audit_text.contains(&old.access_token));
}

#[test]
fn issue_4_replace_into_vault_and_stdout() {
    let (e, sb, admin) = setup();
    let vault = VaultEmulator::start("vault-root-token-for-tests");
    let old = e.issue_token("deployer", "applied-permissions/admin", None, false);
    let mut c = sb.cmd();
    c.args([
        "replace",
        "-",
        "--yes",
        "--allow-http",
        "--expires-in",
        "7d",
    ])
    .args(["--jfrog-url", &e.url(), "--vault-addr", &vault.url()])
    .args(["--vault-path", "secret/ci/artifactory"])
    .env("VAULT_TOKEN", "vault-root-token-for-tests")
    .arg("--admin-token-file")
    .arg(&admin)
    .write_stdin(old.access_token.clone());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stored = vault
        .read("secret", "ci/artifactory")
        .expect("stored in Vault");
    let new_token = stored["token"].as_str().expect("token").to_owned();
    assert_eq!(stored["user"], "deployer");
    assert_eq!(
        stored["scope"], "applied-permissions/user",
        "narrower than admin"
    );
    assert!(!r.all().contains(&new_token));
    let id = stored["token_id"].as_str().expect("id");
    assert!(e.token_active(id));
    let info = e.token_info(id).expect("known");
    assert_eq!(
        info["expiry"].as_i64().expect("expiry") - info["issued_at"].as_i64().expect("iat"),
        7 * 86_400
    );

    // --stdout: only the token on stdout. A group-scoped token keeps exactly its groups.
    let old = e.issue_token(
        "deployer",
        "applied-permissions/groups:deployers",
        Some(3600),
        false,
    );
    let mut c = sb.cmd();
    c.args(["replace", "-", "--yes", "--allow-http", "--stdout"])
        .args(["--jfrog-url", &e.url()])
        .arg("--admin-token-file")
        .arg(&admin)
        .write_stdin(old.access_token.clone());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let printed = r.stdout.trim();
    assert!(
        printed.starts_with("eyJ") && !printed.contains(' '),
        "{}",
        r.stdout
    );

    // No destination: refused before anything is minted.
    let before = e.tokens_of("deployer").len();
    let mut c = sb.cmd();
    c.args([
        "replace",
        "-",
        "--yes",
        "--allow-http",
        "--jfrog-url",
        &e.url(),
    ])
    .arg("--admin-token-file")
    .arg(&admin)
    .write_stdin(old.access_token.clone());
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("destination"), "{}", r.stderr);
    assert_eq!(e.tokens_of("deployer").len(), before);
}
