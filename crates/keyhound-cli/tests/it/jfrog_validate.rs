//! Issue #4: live validation of every credential kind against the JFrog emulator, with every
//! verdict, and the HTTP failure modes (429, 5xx, timeouts, HTML, huge bodies, old versions).

use std::time::Duration;

use keyhound_testkit::fake::{self, AccessTokenSpec};
use keyhound_testkit::jfrog_emulator::{Config, Fault, JfrogEmulator};

use crate::common::{Sandbox, inspect_validate, run};

fn emu() -> JfrogEmulator {
    JfrogEmulator::start(Config::standard())
}

fn verdict(sb: &Sandbox, emu_url: &str, token: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--jfrog-url", emu_url, "--allow-http"];
    args.extend_from_slice(extra);
    let r = inspect_validate(sb, token, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.all().contains(token), "the token leaks in the output");
    r.json()["validation"].clone()
}

fn no_secret_in_egress(sb: &Sandbox, secrets: &[&str]) {
    let text = fs_err::read_to_string(sb.egress()).unwrap_or_default();
    for s in secrets {
        assert!(!text.contains(s), "the egress log holds a secret");
    }
}

#[test]
fn issue_4_access_token_live_revoked_invalid_expired() {
    let e = emu();
    let sb = Sandbox::new();
    let live = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    let v = verdict(&sb, &e.url(), &live.access_token, &[]);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["endpoint"], "GET /access/api/v1/tokens/me");
    assert_eq!(v["http_status"], 200);
    assert_eq!(v["auth"], "Authorization: Bearer");
    assert_eq!(v["token"]["token_id"], live.token_id);
    assert_eq!(v["instance_check"], "match");
    assert!(v["checked_at"].is_string());

    let revoked = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    e.revoke_token(&revoked.token_id);
    let v = verdict(&sb, &e.url(), &revoked.access_token, &[]);
    assert_eq!(v["status"], "revoked", "{v}");
    assert_eq!(v["http_status"], 401);

    // A JFrog-shaped token of another instance: rejected, and never issued here.
    let foreign = fake::jfrog_access_token(&AccessTokenSpec::identity(9, "deployer"));
    let v = verdict(&sb, &e.url(), &foreign, &[]);
    assert_eq!(v["status"], "invalid", "{v}");
    assert_eq!(v["instance_check"], "mismatch");

    let before = e.requests().len();
    let expired = e.issue_expired_token("deployer", "applied-permissions/user", false);
    let v = verdict(&sb, &e.url(), &expired.access_token, &[]);
    assert_eq!(v["status"], "expired", "{v}");
    assert_eq!(
        e.requests().len(),
        before,
        "an expired token is decided offline"
    );
    no_secret_in_egress(&sb, &[&live.access_token, &revoked.access_token, &foreign]);
}

#[test]
fn issue_4_reference_token_verdicts() {
    let e = emu();
    let sb = Sandbox::new();
    let t = e.issue_token("reader", "applied-permissions/user", Some(3600), true);
    let reference = t.reference_token.clone().expect("reference");
    assert_eq!(verdict(&sb, &e.url(), &reference, &[])["status"], "live");
    e.revoke_token(&t.token_id);
    let v = verdict(&sb, &e.url(), &reference, &[]);
    assert_eq!(v["status"], "invalid", "a dead reference token: {v}");
    let expired = e.issue_expired_token("reader", "applied-permissions/user", true);
    let v = verdict(
        &sb,
        &e.url(),
        expired.reference_token.as_deref().expect("reference"),
        &[],
    );
    assert_eq!(v["status"], "expired");
    no_secret_in_egress(&sb, &[&reference]);
}

#[test]
fn issue_4_api_key_verdicts() {
    let e = emu();
    let sb = Sandbox::new();
    let key = e.api_key("deployer");
    let v = verdict(&sb, &e.url(), &key, &[]);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["auth"], "X-JFrog-Art-Api");
    assert_eq!(v["endpoint"], "GET /artifactory/api/repositories");
    let unknown = fake::jfrog_api_key(77);
    assert_eq!(verdict(&sb, &e.url(), &unknown, &[])["status"], "invalid");
    let restricted = e.api_key("reader");
    e.restrict("reader");
    let v = verdict(&sb, &e.url(), &restricted, &[]);
    assert_eq!(v["status"], "forbidden", "{v}");
    no_secret_in_egress(&sb, &[&key, &unknown, &restricted]);
}

#[test]
fn issue_4_password_with_user_and_lockout() {
    let e = emu();
    let sb = Sandbox::new();
    let pw = e.password("deployer");
    let v = verdict(&sb, &e.url(), &pw, &["--user", "deployer"]);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["auth"], "Authorization: Basic (deployer:…)");
    let v = verdict(&sb, &e.url(), "Wr0ng-passw0rd!", &["--user", "deployer"]);
    assert_eq!(v["status"], "invalid");
    // The emulator locks a user out after 5 failures: that is not "invalid".
    for _ in 0..5 {
        verdict(&sb, &e.url(), "Wr0ng-passw0rd!", &["--user", "reader"]);
    }
    let v = verdict(&sb, &e.url(), &e.password("reader"), &["--user", "reader"]);
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(v["reason"].as_str().expect("reason").contains("locked out"));
    // A token used as a Basic password is checked with tokens/me.
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    let v = verdict(&sb, &e.url(), &t.access_token, &["--user", "deployer"]);
    assert_eq!(v["status"], "live");
    assert_eq!(v["endpoint"], "GET /access/api/v1/tokens/me");
    no_secret_in_egress(&sb, &[&pw]);
}

#[test]
fn issue_4_restricted_token_is_forbidden() {
    let e = emu();
    let sb = Sandbox::new();
    let t = e.issue_token(
        "deployer",
        "applied-permissions/roles:proj1:viewer",
        Some(3600),
        false,
    );
    let v = verdict(&sb, &e.url(), &t.access_token, &["--no-blast-radius"]);
    assert_eq!(v["status"], "forbidden", "{v}");
    assert_eq!(v["http_status"], 403);
}

#[test]
fn issue_4_provider_down_is_unknown_never_invalid() {
    let sb = Sandbox::new();
    // A closed port: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let token = fake::jfrog_reference_token(5, 0);
    let v = verdict(
        &sb,
        &format!("http://127.0.0.1:{closed}"),
        &token,
        &["--timeout", "2"],
    );
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["reason"]
            .as_str()
            .expect("reason")
            .starts_with("network:")
    );

    let e = emu();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    e.fault(Fault::status("/access/api/v1/tokens/me", 503));
    let v = verdict(&sb, &e.url(), &t.access_token, &[]);
    assert_eq!(v["status"], "unknown", "{v}");
    assert_eq!(v["reason"], "server error (503)");
    let tries = e
        .requests()
        .iter()
        .filter(|r| r.path == "/access/api/v1/tokens/me")
        .count();
    assert_eq!(tries, 3, "bounded retries: 1 + 2");

    e.clear_faults();
    e.fault(Fault::slow(
        "/access/api/v1/tokens/me",
        Duration::from_secs(5),
    ));
    let v = verdict(&sb, &e.url(), &t.access_token, &["--timeout", "1"]);
    assert_eq!(v["status"], "unknown");
    assert_eq!(v["reason"], "network: timeout");

    e.clear_faults();
    e.fault(Fault::html("/access/api/v1/tokens/me"));
    let v = verdict(&sb, &e.url(), &t.access_token, &[]);
    assert_eq!(v["status"], "unknown");
    assert!(v["reason"].as_str().expect("reason").contains("text/html"));

    e.clear_faults();
    e.fault(Fault::huge("/access/api/v1/tokens/me", 8 << 20));
    let v = verdict(&sb, &e.url(), &t.access_token, &[]);
    assert_eq!(v["status"], "unknown");
    assert!(
        v["reason"]
            .as_str()
            .expect("reason")
            .contains("larger than")
    );
}

#[test]
fn issue_4_rate_limit_is_honoured() {
    let e = emu();
    let sb = Sandbox::new();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    e.fault(Fault::too_many("/access/api/v1/tokens/me", 1).times(1));
    let started = std::time::Instant::now();
    let v = verdict(&sb, &e.url(), &t.access_token, &["--no-blast-radius"]);
    assert_eq!(v["status"], "live", "{v}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let statuses: Vec<u64> = sb
        .egress_records()
        .iter()
        .filter(|r| r["endpoint"] == "/access/api/v1/tokens/me")
        .filter_map(|r| r["status"].as_u64())
        .collect();
    assert_eq!(statuses, [429, 200]);

    // A Retry-After longer than keyhound waits: unknown, not invalid.
    e.fault(Fault::too_many("/access/api/v1/tokens/me", 3600));
    let v = verdict(&sb, &e.url(), &t.access_token, &["--no-blast-radius"]);
    assert_eq!(v["status"], "unknown");
    assert!(
        v["reason"]
            .as_str()
            .expect("reason")
            .contains("rate limited")
    );
}

#[test]
fn issue_4_old_instances_fall_back_to_repositories() {
    let e = JfrogEmulator::start(Config {
        legacy_no_tokens_me: true,
        ..Config::standard()
    });
    let sb = Sandbox::new();
    let t = e.issue_token("deployer", "applied-permissions/user", Some(3600), false);
    let v = verdict(&sb, &e.url(), &t.access_token, &["--no-blast-radius"]);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["endpoint"], "GET /artifactory/api/repositories");
}

#[test]
fn issue_4_egress_log_records_every_request_without_secrets() {
    let e = emu();
    let sb = Sandbox::new();
    let t = e.issue_token("admin", "applied-permissions/admin", None, false);
    let r = inspect_validate(
        &sb,
        &t.access_token,
        &["--jfrog-url", &e.url(), "--allow-http"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let records = sb.egress_records();
    assert_eq!(records.len(), e.requests().len(), "one line per request");
    for rec in &records {
        for field in [
            "time",
            "host",
            "method",
            "endpoint",
            "fingerprint",
            "purpose",
            "credential",
        ] {
            assert!(!rec[field].is_null(), "{field} missing in {rec}");
        }
        assert_eq!(rec["host"], format!("127.0.0.1:{}", e.port()));
        assert_eq!(rec["sent"], true);
    }
    no_secret_in_egress(&sb, &[&t.access_token]);
}

#[test]
fn issue_4_inspect_without_validate_sends_nothing() {
    let sb = Sandbox::new();
    let mut spec = AccessTokenSpec::identity(3, "alice");
    spec.scope = "applied-permissions/admin".into();
    spec.expires_at = None;
    let token = fake::jfrog_access_token(&spec);
    let mut c = sb.cmd();
    c.args([
        "inspect",
        "-",
        "--format",
        "json",
        "--jfrog-url",
        "https://acme.jfrog.io",
    ])
    .write_stdin(token.clone());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["kind"], "access_token");
    assert_eq!(j["facts"]["user"], "alice");
    let codes: Vec<&str> = j["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(codes.contains(&"admin_scope") && codes.contains(&"never_expires"));
    assert!(j.get("validation").is_none());
    assert!(!sb.egress().exists(), "no network without --validate");
    assert!(!r.all().contains(&token));
}

#[test]
fn issue_4_inspect_text_names_kind_facts_and_risks() {
    let sb = Sandbox::new();
    let key = fake::jfrog_api_key(11);
    let mut c = sb.cmd();
    c.args(["inspect", "-"]).write_stdin(key.clone());
    let r = run(c);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("kind           api_key"), "{}", r.stdout);
    assert!(r.stdout.contains("deprecated: legacy API key"));
    assert!(r.stdout.contains("never_expires"));
    let old = fake::jfrog_access_token(&AccessTokenSpec::identity(4, "bob"));
    let mut c = sb.cmd();
    c.args(["inspect", "-", "--max-age-days", "1"])
        .write_stdin(old);
    let r = run(c);
    assert!(r.stdout.contains("older_than: issued"), "{}", r.stdout);
    let mut c = sb.cmd();
    c.args(["inspect", "-"]).write_stdin("not a token at all");
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a recognised JFrog token"));
}

#[test]
fn issue_4_every_kind_is_unknown_when_the_network_fails() {
    let sb = Sandbox::new();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{closed}");
    let mut spec = AccessTokenSpec::identity(21, "ci");
    spec.expires_at = None;
    let cases: Vec<(String, Vec<&str>)> = vec![
        (fake::jfrog_api_key(21), vec![]),
        (fake::jfrog_reference_token(21, 0), vec![]),
        (fake::jfrog_access_token(&spec), vec![]),
        ("S3cret-passw0rd".to_owned(), vec!["--user", "ci"]),
    ];
    for (token, extra) in cases {
        let mut args = vec!["--timeout", "2"];
        args.extend(extra);
        let v = verdict(&sb, &url, &token, &args);
        assert_eq!(v["status"], "unknown", "{v}");
        assert!(
            v["reason"]
                .as_str()
                .expect("reason")
                .starts_with("network:"),
            "{v}"
        );
    }
}

#[test]
fn issue_4_every_kind_can_be_restricted() {
    let e = emu();
    let sb = Sandbox::new();
    let t = e.issue_token(
        "deployer",
        "applied-permissions/roles:proj1:viewer",
        Some(3600),
        true,
    );
    let reference = t.reference_token.expect("reference");
    let v = verdict(&sb, &e.url(), &reference, &["--no-blast-radius"]);
    assert_eq!(v["status"], "forbidden", "{v}");
    e.restrict("deployer");
    let v = verdict(
        &sb,
        &e.url(),
        &e.password("deployer"),
        &["--user", "deployer", "--no-blast-radius"],
    );
    assert_eq!(v["status"], "forbidden", "{v}");
}
