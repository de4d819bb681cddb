//! An emulator of Artifactory plus JFrog Access, for tests only, following the documented
//! REST API (docs/jfrog.md lists the endpoints): ping and version, service id, token create /
//! list / get / revoke (by value and by id, including `me`), user details and the paginated
//! user list, the repository list and configurations, permission targets (per user and per
//! group), and the legacy API-key endpoints.
//!
//! Tokens are real RS256-signed JWTs with the claims real instances use (`sub`
//! `jfac@<id>/users/<name>`, `scp`, `aud`, `iss`, `iat`, `exp`, `jti`, `ext`), signed by an
//! RSA key generated at start. Reference tokens map to their JWT. Expiry, revocation, admin
//! and non-admin users, group-scoped and project-role tokens, the Basic-auth lock-out and
//! pre-7.53.1 instances (no `tokens/me`) are modelled; [`Fault`]s add 401/403/404/429 with
//! `Retry-After`, 5xx, slow answers, redirects, HTML and huge bodies.
//!
//! Every request is recorded ([`JfrogEmulator::requests`]) so that tests can assert what was
//! sent and, more often, what was not.

// Handlers answer errors as ready responses (`Result<Response, Response>`), as axum does.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::fake::{ALNUM, Rng};
use crate::serve::Server;
use crate::tls::TestCa;

/// A user.
#[derive(Debug, Clone)]
pub struct User {
    /// Name.
    pub name: String,
    /// Password (Basic).
    pub password: String,
    /// Administrator.
    pub admin: bool,
    /// Groups.
    pub groups: Vec<String>,
    /// Every read answers 403 (a user restricted by the instance).
    pub restricted: bool,
}

impl User {
    /// A user with a password derived from the name.
    pub fn new(name: &str, groups: &[&str]) -> User {
        User {
            name: name.into(),
            password: format!("{name}-Pa55word!"),
            admin: false,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            restricted: false,
        }
    }

    /// An administrator.
    pub fn admin(name: &str) -> User {
        User {
            admin: true,
            ..User::new(name, &[])
        }
    }
}

/// A repository.
#[derive(Debug, Clone)]
pub struct Repo {
    /// Key.
    pub key: String,
    /// `LOCAL`, `REMOTE`, `VIRTUAL`.
    pub rclass: &'static str,
    /// Package type as Artifactory writes it (`Docker`, `Npm`, `Maven`...).
    pub package_type: String,
    /// For virtual repositories: the aggregated repositories.
    pub members: Vec<String>,
}

impl Repo {
    /// A repository of a class and package type.
    pub fn new(key: &str, rclass: &'static str, package_type: &str) -> Repo {
        Repo {
            key: key.into(),
            rclass,
            package_type: package_type.into(),
            members: Vec::new(),
        }
    }

    /// A virtual repository over `members`.
    pub fn virtual_of(key: &str, package_type: &str, members: &[&str]) -> Repo {
        Repo {
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            ..Repo::new(key, "VIRTUAL", package_type)
        }
    }
}

/// A permission target: repositories and the actions each user or group has on them.
#[derive(Debug, Clone)]
pub struct PermissionTarget {
    /// Name.
    pub name: String,
    /// Repository keys, or `ANY`, `ANY LOCAL`, `ANY REMOTE`.
    pub repositories: Vec<String>,
    /// User → actions (`read`, `write`, `delete`, `manage`, `annotate`).
    pub users: BTreeMap<String, Vec<String>>,
    /// Group → actions.
    pub groups: BTreeMap<String, Vec<String>>,
}

impl PermissionTarget {
    /// A target over `repositories`.
    pub fn new(name: &str, repositories: &[&str]) -> PermissionTarget {
        PermissionTarget {
            name: name.into(),
            repositories: repositories.iter().map(|r| (*r).to_owned()).collect(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
        }
    }

    /// Grants actions to a group.
    pub fn group(mut self, group: &str, actions: &[&str]) -> PermissionTarget {
        self.groups.insert(
            group.into(),
            actions.iter().map(|a| (*a).to_owned()).collect(),
        );
        self
    }

    /// Grants actions to a user.
    pub fn user(mut self, user: &str, actions: &[&str]) -> PermissionTarget {
        self.users.insert(
            user.into(),
            actions.iter().map(|a| (*a).to_owned()).collect(),
        );
        self
    }
}

/// An injected answer for requests whose path starts with `path_prefix`.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Path prefix to match.
    pub path_prefix: String,
    /// Status to answer (0: answer normally after `delay`).
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
    /// Content type of the body.
    pub content_type: String,
    /// Wait before answering.
    pub delay: Duration,
    /// Apply only this many times (then answer normally).
    pub times: Option<u32>,
}

impl Fault {
    /// Answer `status` with a JFrog-style JSON error.
    pub fn status(path_prefix: &str, status: u16) -> Fault {
        Fault {
            path_prefix: path_prefix.into(),
            status,
            headers: Vec::new(),
            body: json!({"errors": [{"status": status, "message": "injected"}]}).to_string(),
            content_type: "application/json".into(),
            delay: Duration::ZERO,
            times: None,
        }
    }

    /// `429 Too Many Requests` with `Retry-After: secs`.
    pub fn too_many(path_prefix: &str, retry_after_secs: u64) -> Fault {
        Fault::status(path_prefix, 429).header("Retry-After", &retry_after_secs.to_string())
    }

    /// A redirect to `location`.
    pub fn redirect(path_prefix: &str, location: &str) -> Fault {
        Fault {
            body: String::new(),
            ..Fault::status(path_prefix, 302)
        }
        .header("Location", location)
    }

    /// `200` with an HTML page (what a bogus `*.jfrog.io` host answers).
    pub fn html(path_prefix: &str) -> Fault {
        Fault {
            body: "<!doctype html><html><body>JFrog</body></html>".into(),
            content_type: "text/html".into(),
            ..Fault::status(path_prefix, 200)
        }
    }

    /// `200` with a JSON body of `bytes` bytes.
    pub fn huge(path_prefix: &str, bytes: usize) -> Fault {
        Fault {
            body: format!("[\"{}\"]", "a".repeat(bytes)),
            ..Fault::status(path_prefix, 200)
        }
    }

    /// Answer normally, after `delay`.
    pub fn slow(path_prefix: &str, delay: Duration) -> Fault {
        Fault {
            delay,
            ..Fault::status(path_prefix, 0)
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Fault {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Applies only `n` times.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }
}

/// The emulated instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// Instance id (26 lowercase characters).
    pub instance_id: String,
    /// Users.
    pub users: Vec<User>,
    /// Repositories.
    pub repos: Vec<Repo>,
    /// Permission targets.
    pub permissions: Vec<PermissionTarget>,
    /// Artifactory before 7.53.1: no `GET /access/api/v1/tokens/me` (404).
    pub legacy_no_tokens_me: bool,
    /// Artifactory before 7.68: no revoke by value (404).
    pub legacy_no_revoke_by_value: bool,
    /// Failed Basic logins before a user is locked out.
    pub lockout_after: u32,
}

impl Config {
    /// A typical instance: `admin` (administrator); `deployer` in group `deployers`, which may
    /// read and deploy to `docker-local` and `npm-local`; `reader` in group `readers`, which
    /// may read everything; and local, remote and virtual repositories of several types.
    pub fn standard() -> Config {
        Config {
            instance_id: crate::fake::jfrog_instance_id(4242),
            users: vec![
                User::admin("admin"),
                User::new("deployer", &["deployers"]),
                User::new("reader", &["readers"]),
            ],
            repos: vec![
                Repo::new("docker-local", "LOCAL", "Docker"),
                Repo::new("npm-local", "LOCAL", "Npm"),
                Repo::new("maven-local", "LOCAL", "Maven"),
                Repo::new("maven-remote", "REMOTE", "Maven"),
                Repo::virtual_of("npm-virtual", "Npm", &["npm-local"]),
            ],
            permissions: vec![
                PermissionTarget::new("deploy-js-images", &["docker-local", "npm-local"])
                    .group("deployers", &["read", "annotate", "write"]),
                PermissionTarget::new("read-all", &["ANY"]).group("readers", &["read"]),
            ],
            legacy_no_tokens_me: false,
            legacy_no_revoke_by_value: false,
            lockout_after: 5,
        }
    }
}

/// A token issued by the emulator.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The JWT.
    pub access_token: String,
    /// Its id.
    pub token_id: String,
    /// Its reference token, when asked for.
    pub reference_token: Option<String>,
}

#[derive(Debug, Clone)]
struct TokenRecord {
    user: String,
    scope: String,
    issued_at: i64,
    expiry: Option<i64>,
    description: Option<String>,
    refreshable: bool,
    revoked: bool,
}

/// One request the emulator received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// `bearer`, `basic`, `api_key` or `none`.
    pub auth: String,
    /// The raw credential presented (tests compare it with what must never arrive).
    pub credential: Option<String>,
    /// The `Host` header.
    pub host: String,
}

struct State_ {
    cfg: Config,
    tokens: HashMap<String, TokenRecord>,
    references: HashMap<String, String>,
    api_keys: HashMap<String, String>,
    failures: HashMap<String, u32>,
    faults: Vec<Fault>,
    requests: Vec<Recorded>,
    rng: Rng,
}

type Shared = Arc<(Mutex<State_>, Keys)>;

struct Keys {
    signing: SigningKey<Sha256>,
    verifying: VerifyingKey<Sha256>,
    kid: String,
}

fn rsa_key() -> RsaPrivateKey {
    // Generated once per process: tests start many emulators.
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("an RSA key for the emulator")
    })
    .clone()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, State_> {
    shared
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running emulator; stops when dropped.
pub struct JfrogEmulator {
    shared: Shared,
    server: Server,
}

impl std::fmt::Debug for JfrogEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JfrogEmulator")
            .field("url", &self.url())
            .finish()
    }
}

impl JfrogEmulator {
    /// Starts on a loopback port over plain HTTP.
    pub fn start(cfg: Config) -> JfrogEmulator {
        JfrogEmulator::start_with(cfg, None)
    }

    /// Starts on a loopback port over HTTPS with a certificate from `ca`.
    pub fn start_tls(cfg: Config, ca: &TestCa) -> JfrogEmulator {
        JfrogEmulator::start_with(cfg, Some(ca.server_config()))
    }

    fn start_with(cfg: Config, tls: Option<Arc<rustls::ServerConfig>>) -> JfrogEmulator {
        let key = rsa_key();
        let mut rng = Rng::new(u64::from_le_bytes(
            rand_core::RngCore::next_u64(&mut rand_core::OsRng).to_le_bytes(),
        ));
        let kid = rng.string(crate::fake::B64URL, 43);
        let keys = Keys {
            verifying: VerifyingKey::<Sha256>::new(key.to_public_key()),
            signing: SigningKey::<Sha256>::new(key),
            kid,
        };
        let shared: Shared = Arc::new((
            Mutex::new(State_ {
                cfg,
                tokens: HashMap::new(),
                references: HashMap::new(),
                api_keys: HashMap::new(),
                failures: HashMap::new(),
                faults: Vec::new(),
                requests: Vec::new(),
                rng,
            }),
            keys,
        ));
        let server = Server::start(router(shared.clone()), tls);
        JfrogEmulator { shared, server }
    }

    /// `http://127.0.0.1:PORT` (or https).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// The instance id.
    pub fn instance_id(&self) -> String {
        lock(&self.shared).cfg.instance_id.clone()
    }

    /// Issues a token for `user` with `scope`, valid for `expires_in` seconds (`None`: never
    /// expires), with a reference token when `reference`.
    pub fn issue_token(
        &self,
        user: &str,
        scope: &str,
        expires_in: Option<i64>,
        reference: bool,
    ) -> Issued {
        let now = now();
        issue(
            &self.shared,
            user,
            scope,
            now,
            expires_in.map(|e| now + e),
            None,
            reference,
            false,
        )
    }

    /// Issues a token whose expiry is already past.
    pub fn issue_expired_token(&self, user: &str, scope: &str, reference: bool) -> Issued {
        let now = now();
        issue(
            &self.shared,
            user,
            scope,
            now - 7200,
            Some(now - 3600),
            None,
            reference,
            false,
        )
    }

    /// A JWT with the instance's claims but signed by another key: never valid here.
    pub fn forged_token(&self, user: &str) -> String {
        let issued = self.issue_token(user, "applied-permissions/user", Some(3600), false);
        self.revoke_token(&issued.token_id);
        let mut parts: Vec<&str> = issued.access_token.split('.').collect();
        let fake_sig = URL_SAFE_NO_PAD.encode([7u8; 256]);
        parts[2] = &fake_sig;
        parts.join(".")
    }

    /// Creates (or returns) the API key of `user`.
    pub fn api_key(&self, user: &str) -> String {
        let mut st = lock(&self.shared);
        if let Some((k, _)) = st.api_keys.iter().find(|(_, u)| *u == user) {
            return k.clone();
        }
        let key = format!("AKCp8{}", st.rng.string(ALNUM, 68));
        st.api_keys.insert(key.clone(), user.into());
        key
    }

    /// The password of `user`.
    pub fn password(&self, user: &str) -> String {
        lock(&self.shared)
            .cfg
            .users
            .iter()
            .find(|u| u.name == user)
            .map(|u| u.password.clone())
            .unwrap_or_default()
    }

    /// Marks a user restricted (every read answers 403).
    pub fn restrict(&self, user: &str) {
        for u in &mut lock(&self.shared).cfg.users {
            if u.name == user {
                u.restricted = true;
            }
        }
    }

    /// Revokes a token by id.
    pub fn revoke_token(&self, token_id: &str) {
        if let Some(t) = lock(&self.shared).tokens.get_mut(token_id) {
            t.revoked = true;
        }
    }

    /// True when the token exists and is neither revoked nor expired.
    pub fn token_active(&self, token_id: &str) -> bool {
        lock(&self.shared)
            .tokens
            .get(token_id)
            .is_some_and(|t| !t.revoked && t.expiry.is_none_or(|e| e > now()))
    }

    /// The record of a token as `GET /access/api/v1/tokens/{id}` shows it, plus its scope.
    pub fn token_info(&self, token_id: &str) -> Option<Value> {
        let st = lock(&self.shared);
        let t = st.tokens.get(token_id)?;
        let mut v = token_json(&st.cfg, token_id, t);
        v["scope"] = t.scope.clone().into();
        v["revoked"] = t.revoked.into();
        Some(v)
    }

    /// Ids of all tokens issued for `user`.
    pub fn tokens_of(&self, user: &str) -> Vec<String> {
        let st = lock(&self.shared);
        let mut ids: Vec<String> = st
            .tokens
            .iter()
            .filter(|(_, t)| t.user == user)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// True when `key` is a current API key.
    pub fn api_key_active(&self, key: &str) -> bool {
        lock(&self.shared).api_keys.contains_key(key)
    }

    /// Adds a fault.
    pub fn fault(&self, fault: Fault) {
        lock(&self.shared).faults.push(fault);
    }

    /// Removes all faults.
    pub fn clear_faults(&self) {
        lock(&self.shared).faults.clear();
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }
}

#[allow(clippy::too_many_arguments)]
fn issue(
    shared: &Shared,
    user: &str,
    scope: &str,
    issued_at: i64,
    expiry: Option<i64>,
    description: Option<String>,
    reference: bool,
    refreshable: bool,
) -> Issued {
    let keys = &shared.1;
    let mut st = lock(shared);
    let h = st.rng.string(crate::fake::HEX, 32);
    let jti = format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    );
    let id = &st.cfg.instance_id;
    let mut claims = json!({
        "ext": "{\"revocable\":\"true\"}",
        "sub": format!("jfac@{id}/users/{user}"),
        "scp": scope,
        "aud": "*@*",
        "iss": format!("jfac@{id}"),
        "iat": issued_at,
        "jti": jti,
    });
    if let Some(e) = expiry {
        claims["exp"] = e.into();
    }
    let header = format!(
        r#"{{"ver":"2","typ":"JWT","alg":"RS256","kid":"{}"}}"#,
        keys.kid
    );
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig: Signature = keys.signing.sign(signing_input.as_bytes());
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()));
    st.tokens.insert(
        jti.clone(),
        TokenRecord {
            user: user.into(),
            scope: scope.into(),
            issued_at,
            expiry,
            description,
            refreshable,
            revoked: false,
        },
    );
    let reference_token = reference.then(|| {
        loop {
            let raw = format!(
                "reftkn:01:{:010}:{}",
                expiry.unwrap_or(0),
                st.rng.string(ALNUM, 27)
            );
            let r = STANDARD.encode(raw);
            if r.bytes().all(|b| b.is_ascii_alphanumeric()) {
                st.references.insert(r.clone(), jti.clone());
                break r;
            }
        }
    });
    Issued {
        access_token: token,
        token_id: jti,
        reference_token,
    }
}

/// Who a request authenticates as.
#[derive(Debug, Clone)]
struct Principal {
    user: String,
    admin: bool,
    /// Groups whose permissions apply.
    groups: Vec<String>,
    /// The user's own permission targets apply (not for group-scoped tokens).
    identity: bool,
    token: Option<String>,
    restricted: bool,
}

fn err(status: StatusCode, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"errors": [{"status": status.as_u16(), "message": message}]}).to_string(),
    )
        .into_response()
}

fn unauthorized() -> Response {
    err(StatusCode::UNAUTHORIZED, "Bad credentials")
}

fn forbidden() -> Response {
    err(StatusCode::FORBIDDEN, "Forbidden")
}

fn json_ok(v: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// The token id of a JWT signed by this instance, or of a reference token.
fn token_id_of(shared: &Shared, token: &str) -> Result<String, &'static str> {
    let st = lock(shared);
    if let Some(id) = st.references.get(token) {
        return Ok(id.clone());
    }
    drop(st);
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("not a token");
    }
    let sig = URL_SAFE_NO_PAD
        .decode(parts[2])
        .map_err(|_| "bad signature")?;
    let sig = Signature::try_from(sig.as_slice()).map_err(|_| "bad signature")?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("bad claims")?;
    let iss = claims["iss"].as_str().unwrap_or("");
    let own = format!("jfac@{}", lock(shared).cfg.instance_id);
    if iss != own {
        return Err("other instance");
    }
    let input = format!("{}.{}", parts[0], parts[1]);
    shared
        .1
        .verifying
        .verify(input.as_bytes(), &sig)
        .map_err(|_| "bad signature")?;
    claims["jti"].as_str().map(str::to_owned).ok_or("no jti")
}

fn principal_of_token(shared: &Shared, token: &str) -> Option<Principal> {
    let id = token_id_of(shared, token).ok()?;
    let st = lock(shared);
    let t = st.tokens.get(&id)?;
    if t.revoked || t.expiry.is_some_and(|e| e <= now()) {
        return None;
    }
    let user = st.cfg.users.iter().find(|u| u.name == t.user);
    let scopes: Vec<&str> = t.scope.split_whitespace().collect();
    let scoped_groups: Option<Vec<String>> = scopes.iter().find_map(|s| {
        s.strip_prefix("applied-permissions/groups:").map(|g| {
            g.split(',')
                .map(|x| x.trim_matches('"').to_owned())
                .collect()
        })
    });
    let admin_scope = scopes.contains(&"applied-permissions/admin");
    let user_scope = scopes.contains(&"applied-permissions/user");
    Some(Principal {
        user: t.user.clone(),
        admin: admin_scope || (user_scope && user.is_some_and(|u| u.admin)),
        identity: user_scope || admin_scope,
        groups: match scoped_groups {
            Some(g) => g,
            None if user_scope => user.map(|u| u.groups.clone()).unwrap_or_default(),
            None => Vec::new(),
        },
        token: Some(id),
        restricted: user.is_some_and(|u| u.restricted),
    })
}

fn principal_of_user(user: &User) -> Principal {
    Principal {
        user: user.name.clone(),
        admin: user.admin,
        groups: user.groups.clone(),
        identity: true,
        token: None,
        restricted: user.restricted,
    }
}

/// Authenticates a request: `Ok(None)` for anonymous, `Err` with the answer for bad ones.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Option<Principal>, Response> {
    if let Some(key) = headers.get("x-jfrog-art-api").and_then(|v| v.to_str().ok()) {
        let st = lock(shared);
        let user = st
            .api_keys
            .get(key)
            .and_then(|u| st.cfg.users.iter().find(|x| &x.name == u))
            .ok_or_else(unauthorized)?;
        return Ok(Some(principal_of_user(user)));
    }
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if let Some(token) = auth.strip_prefix("Bearer ") {
        return principal_of_token(shared, token.trim())
            .map(Some)
            .ok_or_else(unauthorized);
    }
    if let Some(b64) = auth.strip_prefix("Basic ") {
        let decoded = STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(unauthorized)?;
        let (name, secret) = decoded.split_once(':').ok_or_else(unauthorized)?;
        let mut st = lock(shared);
        let lockout = st.cfg.lockout_after;
        if st.failures.get(name).copied().unwrap_or(0) >= lockout {
            return Err(err(
                StatusCode::FORBIDDEN,
                "User is blocked due to recurrent request failures",
            ));
        }
        let Some(user) = st.cfg.users.iter().find(|u| u.name == name).cloned() else {
            return Err(unauthorized());
        };
        if user.password == secret || st.api_keys.get(secret) == Some(&user.name) {
            st.failures.remove(name);
            return Ok(Some(principal_of_user(&user)));
        }
        drop(st);
        if let Some(p) = principal_of_token(shared, secret) {
            if p.user == name {
                return Ok(Some(p));
            }
        }
        *lock(shared).failures.entry(name.to_owned()).or_default() += 1;
        return Err(unauthorized());
    }
    Err(unauthorized())
}

/// A route's principal, requiring authentication.
fn require(shared: &Shared, headers: &HeaderMap) -> Result<Principal, Response> {
    authenticate(shared, headers)?.ok_or_else(unauthorized)
}

fn token_json(cfg: &Config, id: &str, t: &TokenRecord) -> Value {
    let mut v = json!({
        "token_id": id,
        "subject": format!("jfac@{}/users/{}", cfg.instance_id, t.user),
        "issued_at": t.issued_at,
        "issuer": format!("jfac@{}", cfg.instance_id),
        "refreshable": t.refreshable,
    });
    if let Some(e) = t.expiry {
        v["expiry"] = e.into();
    }
    if let Some(d) = &t.description {
        v["description"] = d.clone().into();
    }
    v
}

/// Actions a principal has on each repository.
fn actions(st: &State_, p: &Principal) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for repo in &st.cfg.repos {
        if p.admin {
            out.insert(
                repo.key.clone(),
                ["read", "annotate", "write", "delete", "manage"]
                    .map(str::to_owned)
                    .to_vec(),
            );
            continue;
        }
        for t in &st.cfg.permissions {
            let covered = t.repositories.iter().any(|r| {
                r == &repo.key
                    || r == "ANY"
                    || (r == "ANY LOCAL" && repo.rclass == "LOCAL")
                    || (r == "ANY REMOTE" && repo.rclass == "REMOTE")
            });
            if !covered {
                continue;
            }
            let mut grants: Vec<&Vec<String>> =
                p.groups.iter().filter_map(|g| t.groups.get(g)).collect();
            if p.identity {
                grants.extend(t.users.get(&p.user));
            }
            for g in grants {
                let e = out.entry(repo.key.clone()).or_default();
                for a in g {
                    if !e.contains(a) {
                        e.push(a.clone());
                    }
                }
            }
        }
    }
    // A virtual repository is visible when one of its members is readable.
    for repo in st.cfg.repos.iter().filter(|r| r.rclass == "VIRTUAL") {
        if !out.contains_key(&repo.key) && repo.members.iter().any(|m| out.contains_key(m)) {
            out.insert(repo.key.clone(), vec!["read".into()]);
        }
    }
    out
}

type Resp = Result<Response, Response>;

async fn middleware(
    State(shared): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let headers = req.headers();
    let (auth, credential) = if let Some(k) = headers.get("x-jfrog-art-api") {
        ("api_key", k.to_str().ok().map(str::to_owned))
    } else if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        match a.split_once(' ') {
            Some(("Bearer", t)) => ("bearer", Some(t.to_owned())),
            Some(("Basic", b)) => (
                "basic",
                STANDARD
                    .decode(b)
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .and_then(|d| d.split_once(':').map(|(_, p)| p.to_owned())),
            ),
            _ => ("other", None),
        }
    } else {
        ("none", None)
    };
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let fault = {
        let mut st = lock(&shared);
        st.requests.push(Recorded {
            method: req.method().to_string(),
            path: path.clone(),
            auth: auth.into(),
            credential,
            host,
        });
        let found = st
            .faults
            .iter_mut()
            .find(|f| path.starts_with(&f.path_prefix) && f.times.is_none_or(|n| n > 0));
        found.map(|f| {
            if let Some(n) = &mut f.times {
                *n -= 1;
            }
            f.clone()
        })
    };
    if let Some(f) = fault {
        if !f.delay.is_zero() {
            tokio::time::sleep(f.delay).await;
        }
        if f.status != 0 {
            let mut resp = (
                StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                f.body.clone(),
            )
                .into_response();
            if !f.body.is_empty() {
                if let Ok(v) = f.content_type.parse() {
                    resp.headers_mut().insert("content-type", v);
                }
            }
            for (k, v) in &f.headers {
                if let (Ok(k), Ok(v)) = (
                    axum::http::HeaderName::from_bytes(k.as_bytes()),
                    axum::http::HeaderValue::from_str(v),
                ) {
                    resp.headers_mut().insert(k, v);
                }
            }
            return resp;
        }
    }
    next.run(req).await
}

fn router(shared: Shared) -> Router {
    Router::new()
        .route("/artifactory/api/system/ping", get(ping))
        .route("/access/api/v1/system/ping", get(ping))
        .route("/artifactory/api/system/version", get(version))
        .route("/artifactory/api/system/service_id", get(service_id))
        .route("/access/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/access/api/v1/tokens/revoke", delete(revoke_by_value))
        .route(
            "/access/api/v1/tokens/{id}",
            get(get_token).delete(revoke_by_id),
        )
        .route("/access/api/v2/users", get(list_users))
        .route("/access/api/v2/users/{name}", get(user_details))
        .route("/artifactory/api/repositories", get(repositories))
        .route("/artifactory/api/repositories/{key}", get(repository))
        .route("/artifactory/api/v2/security/permissions", get(permissions))
        .route(
            "/artifactory/api/v2/security/permissions/{name}",
            get(permission),
        )
        .route(
            "/artifactory/api/v2/security/permissions/users/{name}",
            get(permissions_of_user),
        )
        .route(
            "/artifactory/api/v2/security/permissions/groups/{name}",
            get(permissions_of_group),
        )
        .route(
            "/artifactory/api/security/apiKey",
            get(get_api_key)
                .post(create_api_key)
                .put(regenerate_api_key)
                .delete(revoke_own_api_key),
        )
        .route(
            "/artifactory/api/security/apiKey/{user}",
            delete(revoke_user_api_key),
        )
        .fallback(|| async { err(StatusCode::NOT_FOUND, "Not Found") })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            middleware,
        ))
        .with_state(shared)
}

async fn ping(State(s): State<Shared>, headers: HeaderMap) -> Resp {
    authenticate(&s, &headers)?;
    Ok(([("content-type", "text/plain")], "OK").into_response())
}

async fn version(State(s): State<Shared>, headers: HeaderMap) -> Resp {
    authenticate(&s, &headers)?;
    Ok(json_ok(
        json!({"version": "7.104.10", "revision": "7104010900", "addons": ["build", "docker", "npm"], "license": "emulator"}),
    ))
}

async fn service_id(State(s): State<Shared>) -> Response {
    let id = lock(&s).cfg.instance_id.clone();
    ([("content-type", "text/plain")], format!("jfrt@{id}")).into_response()
}

async fn list_tokens(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Resp {
    let p = require(&s, &headers)?;
    if p.token.is_none() && !p.admin {
        return Err(forbidden());
    }
    let st = lock(&s);
    let mut tokens: Vec<(&String, &TokenRecord)> = st
        .tokens
        .iter()
        .filter(|(_, t)| !t.revoked && (p.admin || t.user == p.user))
        .filter(|(_, t)| q.get("username").is_none_or(|u| &t.user == u))
        .filter(|(id, _)| q.get("token_id").is_none_or(|i| *id == i))
        .filter(|(_, t)| {
            q.get("description").is_none_or(|d| {
                let d = d.trim_end_matches('*');
                t.description.as_deref().is_some_and(|x| x.starts_with(d))
            })
        })
        .collect();
    tokens.sort_by_key(|(id, t)| (t.issued_at, (*id).clone()));
    let list: Vec<Value> = tokens
        .into_iter()
        .map(|(id, t)| token_json(&st.cfg, id, t))
        .collect();
    Ok(json_ok(json!({ "tokens": list })))
}

async fn create_token(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Resp {
    let p = require(&s, &headers)?;
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    let params: Value = if is_json {
        serde_json::from_slice(&body).map_err(|_| err(StatusCode::BAD_REQUEST, "bad json"))?
    } else {
        let form: HashMap<String, String> = url_form(&body);
        serde_json::to_value(form).unwrap_or(Value::Null)
    };
    let str_of = |k: &str| {
        params.get(k).and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| (!v.is_null()).then(|| v.to_string()))
        })
    };
    let username = str_of("username").unwrap_or_else(|| p.user.clone());
    let scope = str_of("scope").unwrap_or_else(|| "applied-permissions/user".into());
    let expires_in: i64 = str_of("expires_in")
        .and_then(|e| e.parse().ok())
        .unwrap_or(31_536_000);
    let bool_of = |k: &str| str_of(k).is_some_and(|v| v == "true");
    if !p.admin && (username != p.user || scope != "applied-permissions/user" || expires_in == 0) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "non-admin users may create only identity tokens for themselves",
        ));
    }
    if expires_in < 0 {
        return Err(err(StatusCode::BAD_REQUEST, "expires_in must be >= 0"));
    }
    let now = now();
    let issued = issue(
        &s,
        &username,
        &scope,
        now,
        (expires_in > 0).then_some(now + expires_in),
        str_of("description"),
        bool_of("include_reference_token"),
        bool_of("refreshable"),
    );
    let mut v = json!({
        "token_id": issued.token_id,
        "access_token": issued.access_token,
        "scope": scope,
        "token_type": "Bearer",
    });
    if expires_in > 0 {
        v["expires_in"] = expires_in.into();
    }
    if let Some(r) = issued.reference_token {
        v["reference_token"] = r.into();
    }
    if bool_of("refreshable") {
        let mut st = lock(&s);
        let h = st.rng.string(crate::fake::HEX, 32);
        v["refresh_token"] = format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
        .into();
    }
    Ok(json_ok(v))
}

fn url_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode_pct(k), decode_pct(v)))
        .collect()
}

fn decode_pct(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn get_token(State(s): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Resp {
    let p = require(&s, &headers)?;
    if p.restricted {
        return Err(forbidden());
    }
    let st = lock(&s);
    if id == "me" {
        if st.cfg.legacy_no_tokens_me {
            return Err(err(StatusCode::NOT_FOUND, "Not Found"));
        }
        let Some(tid) = &p.token else {
            return Err(forbidden());
        };
        // Project-role tokens have no user permissions: they may not read themselves.
        if !p.identity && p.groups.is_empty() {
            return Err(forbidden());
        }
        let t = st.tokens.get(tid).ok_or_else(unauthorized)?;
        return Ok(json_ok(token_json(&st.cfg, tid, t)));
    }
    let t = st
        .tokens
        .get(&id)
        .filter(|t| !t.revoked)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "Token not found"))?;
    if !p.admin && t.user != p.user {
        return Err(forbidden());
    }
    Ok(json_ok(token_json(&st.cfg, &id, t)))
}

async fn revoke_by_id(State(s): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Resp {
    let p = require(&s, &headers)?;
    let mut st = lock(&s);
    let id = if id == "me" {
        p.token.clone().ok_or_else(forbidden)?
    } else {
        id
    };
    let Some(t) = st.tokens.get_mut(&id).filter(|t| !t.revoked) else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if !p.admin && t.user != p.user {
        return Err(forbidden());
    }
    t.revoked = true;
    Ok(StatusCode::OK.into_response())
}

async fn revoke_by_value(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Resp {
    let p = require(&s, &headers)?;
    if lock(&s).cfg.legacy_no_revoke_by_value {
        return Err(err(StatusCode::NOT_FOUND, "Not Found"));
    }
    if !p.admin {
        return Err(forbidden());
    }
    let v: Value =
        serde_json::from_slice(&body).map_err(|_| err(StatusCode::BAD_REQUEST, "bad json"))?;
    let token = v["token"].as_str().unwrap_or("");
    let id = match token_id_of(&s, token) {
        Ok(id) => id,
        Err("other instance") => {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "token was created by a different instance",
            ));
        }
        Err(_) => return Err(err(StatusCode::NOT_FOUND, "Token not found")),
    };
    let mut st = lock(&s);
    if let Some(t) = st.tokens.get_mut(&id) {
        t.revoked = true;
    }
    Ok(json_ok(json!({ "revoked-token-id": id })))
}

fn user_json(u: &User) -> Value {
    json!({
        "username": u.name,
        "email": format!("{}@example.com", u.name),
        "admin": u.admin,
        "effective_admin": u.admin,
        "profile_updatable": true,
        "disable_ui_access": false,
        "internal_password_disabled": false,
        "realm": "internal",
        "groups": u.groups,
        "status": "enabled",
    })
}

async fn user_details(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Resp {
    let p = require(&s, &headers)?;
    if !p.admin {
        return Err(forbidden());
    }
    let st = lock(&s);
    let u = st
        .cfg
        .users
        .iter()
        .find(|u| u.name == name)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "Username not found"))?;
    Ok(json_ok(user_json(u)))
}

async fn list_users(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Resp {
    let p = require(&s, &headers)?;
    if !p.admin {
        return Err(forbidden());
    }
    let st = lock(&s);
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(1000)
        .max(1);
    let mut names: Vec<&User> = st.cfg.users.iter().collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    let start = q
        .get("cursor")
        .and_then(|c| names.iter().position(|u| &u.name == c))
        .unwrap_or(0);
    let page: Vec<Value> = names
        .iter()
        .skip(start)
        .take(limit)
        .map(|u| json!({"username": u.name, "uri": format!("/access/api/v2/users/{}", u.name), "realm": "internal", "status": "enabled"}))
        .collect();
    let mut v = json!({ "users": page });
    if let Some(next) = names.get(start + limit) {
        v["cursor"] = next.name.clone().into();
    }
    Ok(json_ok(v))
}

async fn repositories(
    State(s): State<Shared>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Resp {
    let _ = uri;
    let p = require(&s, &headers)?;
    if p.restricted {
        return Err(forbidden());
    }
    let st = lock(&s);
    let visible = actions(&st, &p);
    let list: Vec<Value> = st
        .cfg
        .repos
        .iter()
        .filter(|r| visible.contains_key(&r.key))
        .filter(|r| {
            q.get("type")
                .is_none_or(|t| t.eq_ignore_ascii_case(r.rclass))
        })
        .filter(|r| {
            q.get("packageType")
                .is_none_or(|t| t.eq_ignore_ascii_case(&r.package_type))
        })
        .map(|r| {
            json!({
                "key": r.key,
                "type": r.rclass,
                "description": "",
                "url": format!("http://localhost/artifactory/{}", r.key),
                "packageType": r.package_type,
            })
        })
        .collect();
    Ok(json_ok(Value::Array(list)))
}

async fn repository(State(s): State<Shared>, headers: HeaderMap, Path(key): Path<String>) -> Resp {
    let p = require(&s, &headers)?;
    let st = lock(&s);
    let visible = actions(&st, &p);
    let r = st
        .cfg
        .repos
        .iter()
        .find(|r| r.key == key && visible.contains_key(&r.key))
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "Repository not found"))?;
    let mut v = json!({
        "key": r.key,
        "rclass": r.rclass.to_ascii_lowercase(),
        "packageType": r.package_type.to_ascii_lowercase(),
    });
    if r.rclass == "VIRTUAL" {
        v["repositories"] = json!(r.members);
    }
    Ok(json_ok(v))
}

fn target_json(t: &PermissionTarget) -> Value {
    let mut actions = json!({});
    actions["users"] = json!(t.users);
    actions["groups"] = json!(t.groups);
    json!({
        "name": t.name,
        "repo": {
            "include-patterns": ["**"],
            "exclude-patterns": [],
            "repositories": t.repositories,
            "actions": actions,
        }
    })
}

async fn permissions(State(s): State<Shared>, headers: HeaderMap) -> Resp {
    let p = require(&s, &headers)?;
    if !p.admin {
        return Err(forbidden());
    }
    let st = lock(&s);
    let list: Vec<Value> = st
        .cfg
        .permissions
        .iter()
        .map(|t| json!({"name": t.name, "uri": format!("/artifactory/api/v2/security/permissions/{}", t.name)}))
        .collect();
    Ok(json_ok(Value::Array(list)))
}

async fn permission(State(s): State<Shared>, headers: HeaderMap, Path(name): Path<String>) -> Resp {
    let p = require(&s, &headers)?;
    if !p.admin {
        return Err(forbidden());
    }
    let st = lock(&s);
    let t = st
        .cfg
        .permissions
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "Permission target not found"))?;
    Ok(json_ok(target_json(t)))
}

fn targets_for(st: &State_, group: bool, name: &str) -> Value {
    let list: Vec<Value> = st
        .cfg
        .permissions
        .iter()
        .filter_map(|t| {
            let actions = if group {
                t.groups.get(name)
            } else {
                t.users.get(name)
            }?;
            Some(json!({
                "name": t.name,
                "repo": {
                    "include-patterns": ["**"],
                    "exclude-patterns": [],
                    "repositories": t.repositories,
                    "actions": actions,
                }
            }))
        })
        .collect();
    Value::Array(list)
}

async fn permissions_of_user(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Resp {
    let p = require(&s, &headers)?;
    if !p.admin {
        return Err(forbidden());
    }
    Ok(json_ok(targets_for(&lock(&s), false, &name)))
}

async fn permissions_of_group(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Resp {
    let p = require(&s, &headers)?;
    if !p.admin {
        return Err(forbidden());
    }
    Ok(json_ok(targets_for(&lock(&s), true, &name)))
}

async fn get_api_key(State(s): State<Shared>, headers: HeaderMap) -> Resp {
    let p = require(&s, &headers)?;
    let st = lock(&s);
    let key = st
        .api_keys
        .iter()
        .find(|(_, u)| **u == p.user)
        .map(|(k, _)| k.clone());
    Ok(json_ok(match key {
        Some(k) => json!({ "apiKey": k }),
        None => json!({}),
    }))
}

async fn create_api_key(State(s): State<Shared>, headers: HeaderMap) -> Resp {
    let p = require(&s, &headers)?;
    let mut st = lock(&s);
    if st.api_keys.values().any(|u| *u == p.user) {
        return Err(err(StatusCode::BAD_REQUEST, "Api key already exists"));
    }
    let key = format!("AKCp8{}", st.rng.string(ALNUM, 68));
    st.api_keys.insert(key.clone(), p.user.clone());
    Ok((
        StatusCode::CREATED,
        [("content-type", "application/json")],
        json!({ "apiKey": key }).to_string(),
    )
        .into_response())
}

async fn regenerate_api_key(State(s): State<Shared>, headers: HeaderMap) -> Resp {
    let p = require(&s, &headers)?;
    let mut st = lock(&s);
    st.api_keys.retain(|_, u| *u != p.user);
    let key = format!("AKCp8{}", st.rng.string(ALNUM, 68));
    st.api_keys.insert(key.clone(), p.user.clone());
    Ok(json_ok(json!({ "apiKey": key })))
}

async fn revoke_own_api_key(State(s): State<Shared>, headers: HeaderMap) -> Resp {
    let p = require(&s, &headers)?;
    lock(&s).api_keys.retain(|_, u| *u != p.user);
    Ok(json_ok(json!({"info": "Api key removed"})))
}

async fn revoke_user_api_key(
    State(s): State<Shared>,
    headers: HeaderMap,
    method: Method,
    Path(user): Path<String>,
) -> Resp {
    let _ = method;
    let p = require(&s, &headers)?;
    if !p.admin {
        return Err(forbidden());
    }
    lock(&s).api_keys.retain(|_, u| *u != user);
    Ok(json_ok(json!({"info": "Api key removed"})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_revoke() {
        let emu = JfrogEmulator::start(Config::standard());
        let t = emu.issue_token("deployer", "applied-permissions/user", Some(3600), true);
        let p = principal_of_token(&emu.shared, &t.access_token).expect("valid");
        assert_eq!(p.user, "deployer");
        assert_eq!(p.groups, ["deployers"]);
        let r = t.reference_token.as_deref().expect("reference");
        assert!(r.starts_with("cmVmdGtu") && r.len() == 64);
        assert!(principal_of_token(&emu.shared, r).is_some());
        emu.revoke_token(&t.token_id);
        assert!(principal_of_token(&emu.shared, &t.access_token).is_none());
        assert!(principal_of_token(&emu.shared, &emu.forged_token("deployer")).is_none());
        let expired = emu.issue_expired_token("admin", "applied-permissions/admin", false);
        assert!(principal_of_token(&emu.shared, &expired.access_token).is_none());
    }

    #[test]
    fn decode_percent() {
        assert_eq!(decode_pct("a%20b+c"), "a b c");
        assert_eq!(decode_pct("%"), "%");
    }
}
