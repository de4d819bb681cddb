use std::sync::Arc;

use keyhound_jfrog::http::{Auth, Call, Client, ClientOptions, MemoryEgressLog};
use keyhound_jfrog::instance::{Instance, InstanceSource, parse_instance_url};
use keyhound_jfrog::mint::{MintRequest, mint};
use keyhound_jfrog::revoke::{Target, revoke};
use keyhound_jfrog::validate::{Validator, Verdict};
use keyhound_jfrog::{Credential, Resolution};
use keyhound_testkit::jfrog_emulator::{Config, JfrogEmulator};
use serde_json::json;

struct Rig {
    emu: JfrogEmulator,
    client: Arc<Client>,
    log: Arc<MemoryEgressLog>,
    instance: Instance,
    rt: tokio::runtime::Runtime,
}

fn rig() -> Rig {
    let emu = JfrogEmulator::start(Config::standard());
    let log = Arc::new(MemoryEgressLog::default());
    let client = Arc::new(Client::new(
        ClientOptions {
            allow_http: true,
            min_interval: std::time::Duration::ZERO,
            ..ClientOptions::default()
        },
        log.clone(),
    ));
    let instance = Instance {
        url: parse_instance_url(&emu.url()).expect("url"),
        name: None,
        source: InstanceSource::Flag,
        trusted: true,
        instance_id: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    Rig {
        emu,
        client,
        log,
        instance,
        rt,
    }
}

fn cred(token: &str) -> Credential {
    Credential::from_token(
        token.as_bytes(),
        format!("fp-{}", token.len()),
        None,
        keyhound_jfrog::now(),
    )
}

#[test]
fn issue_4_tokens_me_list_and_self_revocation() {
    let r = rig();
    let t = r
        .emu
        .issue_token("deployer", "applied-permissions/user", Some(600), false);
    let c = cred(&t.access_token);
    let me =
        r.rt.block_on(r.client.send(
            &r.instance,
            Call::get("/access/api/v1/tokens/me", Auth::Finding(&c), "test"),
        ))
        .expect("reply");
    assert_eq!(me.status, 200);
    let record = me.json().expect("json");
    assert_eq!(record["token_id"], t.token_id);
    assert!(
        record["subject"]
            .as_str()
            .expect("subject")
            .ends_with("/users/deployer")
    );
    assert!(record["expiry"].is_i64());
    // A user lists only their own tokens.
    r.emu
        .issue_token("reader", "applied-permissions/user", Some(600), false);
    let list =
        r.rt.block_on(r.client.send(
            &r.instance,
            Call::get("/access/api/v1/tokens", Auth::Finding(&c), "test"),
        ))
        .expect("reply")
        .json()
        .expect("json");
    assert_eq!(list["tokens"].as_array().expect("tokens").len(), 1);
    // DELETE /tokens/me revokes the token used; a second time is 204 or 401.
    let del =
        r.rt.block_on(r.client.send(
            &r.instance,
            Call::new(
                reqwest::Method::DELETE,
                "/access/api/v1/tokens/me",
                Auth::Finding(&c),
                "test",
            ),
        ))
        .expect("reply");
    assert_eq!(del.status, 200);
    assert!(!r.emu.token_active(&t.token_id));
    let v = r.rt.block_on(
        Validator::new(r.client.clone()).validate(&c, &Resolution::Found(r.instance.clone())),
    );
    assert_eq!(v.status, Verdict::Revoked);
    assert_eq!(
        r.log.0.lock().expect("log").len(),
        5,
        "one egress record per request"
    );
}

#[test]
fn issue_4_user_list_paginates_and_is_admin_only() {
    let r = rig();
    let admin = r
        .emu
        .issue_token("admin", "applied-permissions/admin", None, false);
    let a = cred(&admin.access_token);
    let page =
        r.rt.block_on(r.client.send(
            &r.instance,
            Call::get("/access/api/v2/users?limit=2", Auth::Finding(&a), "test"),
        ))
        .expect("reply")
        .json()
        .expect("json");
    assert_eq!(page["users"].as_array().expect("users").len(), 2);
    let cursor = page["cursor"].as_str().expect("a cursor to the next page");
    let next =
        r.rt.block_on(r.client.send(
            &r.instance,
            Call::get(
                format!("/access/api/v2/users?limit=2&cursor={cursor}"),
                Auth::Finding(&a),
                "test",
            ),
        ))
        .expect("reply")
        .json()
        .expect("json");
    assert_eq!(next["users"].as_array().expect("users").len(), 1);
    assert!(next.get("cursor").is_none());
    let user = r
        .emu
        .issue_token("reader", "applied-permissions/user", Some(600), false);
    let u = cred(&user.access_token);
    let denied =
        r.rt.block_on(r.client.send(
            &r.instance,
            Call::get("/access/api/v2/users", Auth::Finding(&u), "test"),
        ))
        .expect("reply");
    assert_eq!(denied.status, 403);
}

#[test]
fn issue_4_mint_and_revoke_by_value_and_api_keys() {
    let r = rig();
    let admin = r
        .emu
        .issue_token("admin", "applied-permissions/admin", None, false);
    let a = cred(&admin.access_token);
    let old = cred(
        &r.emu
            .issue_token("deployer", "applied-permissions/user", Some(600), false)
            .access_token,
    );
    let minted =
        r.rt.block_on(mint(
            &r.client,
            &r.instance,
            &a,
            &MintRequest {
                username: "deployer".into(),
                scope: "applied-permissions/groups:deployers".into(),
                expires_in: 3600,
                description: "test".into(),
            },
            &old,
        ))
        .expect("minted");
    assert_eq!(minted.scope, "applied-permissions/groups:deployers");
    assert_eq!(minted.expires_in, Some(3600));
    assert!(r.emu.token_active(&minted.token_id));
    assert!(
        !format!("{minted:?}").contains(&*minted.access_token.expose_str()),
        "Debug redacts"
    );
    let out =
        r.rt.block_on(revoke(
            &r.client,
            &r.instance,
            &Target::Value(minted.credential("m".into())),
            Some(&a),
            None,
        ))
        .expect("revoked");
    assert!(out.revoked);
    assert_eq!(out.token_id.as_deref(), Some(minted.token_id.as_str()));
    // A non-admin may not mint tokens for others.
    let denied =
        r.rt.block_on(
            r.client.send(
                &r.instance,
                Call::new(
                    reqwest::Method::POST,
                    "/access/api/v1/tokens",
                    Auth::Finding(&old),
                    "test",
                )
                .json(json!({"username": "admin", "scope": "applied-permissions/admin"})),
            ),
        )
        .expect("reply");
    assert_eq!(denied.status, 403);
    // API keys: create, read, regenerate, revoke.
    let key = r.emu.api_key("reader");
    let k = cred(&key);
    let got =
        r.rt.block_on(r.client.send(
            &r.instance,
            Call::get(
                "/artifactory/api/security/apiKey",
                Auth::Finding(&k),
                "test",
            ),
        ))
        .expect("reply")
        .json()
        .expect("json");
    assert_eq!(got["apiKey"], key.as_str());
    let regenerated =
        r.rt.block_on(r.client.send(
            &r.instance,
            Call::new(
                reqwest::Method::PUT,
                "/artifactory/api/security/apiKey",
                Auth::Finding(&k),
                "test",
            ),
        ))
        .expect("reply");
    assert_eq!(regenerated.status, 200);
    assert!(
        !r.emu.api_key_active(&key),
        "regenerating kills the old key"
    );
}
