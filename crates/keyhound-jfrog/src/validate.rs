//! Live validation: is the credential accepted by its instance? One authenticated read call
//! with the fewest side effects, chosen by kind and header style (docs/jfrog.md):
//!
//! | credential | header | call |
//! |---|---|---|
//! | access or reference token | `Authorization: Bearer` | `GET /access/api/v1/tokens/me`, then `GET /artifactory/api/repositories` on a 404 (Artifactory before 7.53.1) |
//! | API key | `X-JFrog-Art-Api` | `GET /artifactory/api/repositories` |
//! | user + password, key or token | `Authorization: Basic` | `GET /access/api/v1/tokens/me` when the password is a token, else `GET /artifactory/api/repositories` |
//!
//! `401` is dead. `403` is live but restricted, except the lock-out answer to repeated Basic
//! failures. A `200` must carry JSON (a bogus `*.jfrog.io` host answers `200` with HTML). A
//! provider that is down, slow or rate limiting gives `unknown`, never `invalid`. A dead
//! access token is `revoked` when the instance's own service id (read without credentials)
//! shows that this instance issued it: it was genuine and no longer is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

use crate::credential::{AuthStyle, Credential, CredentialKind};
use crate::http::{Auth, Call, Client, Error, Reply};
use crate::instance::{Instance, Resolution, display_url};

/// Verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Accepted by the instance.
    Live,
    /// Rejected, and nothing shows it was ever valid there.
    Invalid,
    /// Past its own expiry (decided offline; nothing is sent).
    Expired,
    /// Issued by this instance and no longer accepted.
    Revoked,
    /// Accepted but not allowed to read what was asked: live, restricted.
    Forbidden,
    /// Not decided: no instance, a refusal, or the network.
    Unknown,
}

impl Verdict {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Live => "live",
            Verdict::Invalid => "invalid",
            Verdict::Expired => "expired",
            Verdict::Revoked => "revoked",
            Verdict::Forbidden => "forbidden",
            Verdict::Unknown => "unknown",
        }
    }

    /// True for credentials an attacker can use.
    pub fn is_live(self) -> bool {
        matches!(self, Verdict::Live | Verdict::Forbidden)
    }
}

/// The result of validating one credential.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Validation {
    /// The verdict.
    pub status: Verdict,
    /// Why, for `unknown`, `invalid`, `revoked`, `forbidden`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The instance base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Where the instance came from (`beside`, `flag`, `config`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_source: Option<&'static str>,
    /// `METHOD /path` of the deciding call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Its HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// When it was decided.
    pub checked_at: String,
    /// Header style used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// The token record from `/access/api/v1/tokens/me` (id, subject, expiry...; no secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Value>,
    /// `match` or `mismatch` of the token's instance id with the instance's service id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_check: Option<String>,
}

impl Validation {
    fn new(status: Verdict, reason: impl Into<Option<String>>) -> Validation {
        Validation {
            status,
            reason: reason.into(),
            instance: None,
            instance_source: None,
            endpoint: None,
            http_status: None,
            checked_at: jiff::Timestamp::now().to_string(),
            auth: None,
            token: None,
            instance_check: None,
        }
    }

    fn at(mut self, instance: &Instance) -> Validation {
        self.instance = Some(display_url(&instance.url));
        self.instance_source = Some(instance.source.as_str());
        self
    }

    fn evidence(mut self, reply: &Reply) -> Validation {
        self.endpoint = Some(reply.endpoint.clone());
        self.http_status = Some(reply.status);
        self.checked_at = reply.checked_at.clone();
        self
    }

    /// `live`, `unknown (network: timeout)`, `forbidden (live but restricted)`...
    pub fn display(&self) -> String {
        match (self.status, &self.reason) {
            (Verdict::Forbidden, _) => "forbidden (live but restricted)".into(),
            (Verdict::Unknown, Some(r)) => format!("unknown ({r})"),
            (s, _) => s.as_str().into(),
        }
    }
}

/// One request that validation would send, for `--validate-plan`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlannedRequest {
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Header style, never the value.
    pub auth: String,
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The finding's rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// When it is sent: `always`, or the condition (`on 404`...).
    pub when: String,
    /// Whether the instance is trusted (may be private) or discovered.
    pub trusted: bool,
}

const TOKENS_ME: &str = "/access/api/v1/tokens/me";
const REPOSITORIES: &str = "/artifactory/api/repositories";
const SERVICE_ID: &str = "/artifactory/api/system/service_id";

/// The first call for a credential, or why nothing is sent.
fn first_call(cred: &Credential) -> Result<(AuthStyle, &'static str), String> {
    let style = cred
        .auth_style()
        .map_err(|r| format!("not checkable: {r}"))?;
    let path = match (&style, cred.value_kind()) {
        (AuthStyle::Bearer, _) => TOKENS_ME,
        (AuthStyle::Basic { .. }, k) if k.is_token() => TOKENS_ME,
        _ => REPOSITORIES,
    };
    Ok((style, path))
}

/// The requests validation would send for a credential, without sending anything.
pub fn plan(cred: &Credential, resolution: &Resolution) -> Vec<PlannedRequest> {
    let Resolution::Found(instance) = resolution else {
        return Vec::new();
    };
    if cred.expired_offline() {
        return Vec::new();
    }
    let Ok((style, path)) = first_call(cred) else {
        return Vec::new();
    };
    let req = |method: &str, path: &str, auth: String, when: &str| PlannedRequest {
        method: method.into(),
        url: instance.endpoint(path).to_string(),
        auth,
        fingerprint: cred.fingerprint.clone(),
        rule: cred.rule_id.clone(),
        when: when.into(),
        trusted: instance.trusted,
    };
    let mut out = vec![req("GET", path, style.describe(), "always")];
    if path == TOKENS_ME {
        out.push(req("GET", REPOSITORIES, style.describe(), "on 404"));
        if cred.value_kind() == CredentialKind::AccessToken {
            out.push(req("GET", SERVICE_ID, "none".into(), "on 401"));
        }
    }
    out
}

fn blocked(reply: &Reply) -> bool {
    reply
        .text_excerpt()
        .to_ascii_lowercase()
        .contains("blocked due to recurrent request failures")
}

/// Classifies the answer to a read call.
fn classify(reply: &Reply, expect: &str) -> (Verdict, Option<String>) {
    match reply.status {
        200 => {
            let ok = match (expect, reply.json()) {
                (TOKENS_ME, Some(Value::Object(o))) => o.contains_key("token_id"),
                (REPOSITORIES, Some(Value::Array(_))) => true,
                _ => false,
            };
            if ok {
                (Verdict::Live, None)
            } else {
                (
                    Verdict::Unknown,
                    Some(format!(
                        "200 that is not an Artifactory answer (content type {})",
                        reply.content_type.as_deref().unwrap_or("none")
                    )),
                )
            }
        }
        401 => (Verdict::Invalid, Some("rejected (401)".into())),
        403 if blocked(reply) => (
            Verdict::Unknown,
            Some("the user is locked out after repeated failures (403); retry later".into()),
        ),
        403 => (
            Verdict::Forbidden,
            Some("accepted but not allowed (403)".into()),
        ),
        429 => (Verdict::Unknown, Some("rate limited (429)".into())),
        s if s >= 500 => (Verdict::Unknown, Some(format!("server error ({s})"))),
        s => (Verdict::Unknown, Some(format!("unexpected status {s}"))),
    }
}

/// Validates one credential against its resolved instance.
pub async fn validate(client: &Client, cred: &Credential, resolution: &Resolution) -> Validation {
    let instance = match resolution {
        Resolution::Found(i) => i,
        Resolution::None { reason } => return Validation::new(Verdict::Unknown, reason.clone()),
    };
    if cred.expired_offline() {
        return Validation::new(
            Verdict::Expired,
            cred.facts
                .fields
                .get("expires_at_utc")
                .and_then(Value::as_str)
                .map(|t| format!("expired at {t} (decided offline, nothing sent)")),
        )
        .at(instance);
    }
    let (style, path) = match first_call(cred) {
        Ok(x) => x,
        Err(reason) => return Validation::new(Verdict::Unknown, reason).at(instance),
    };
    let call = |path: &str| Call::get(path, Auth::Finding(cred), "validate").about(cred);
    let mut v = match client.send(instance, call(path)).await {
        Err(e) => return Validation::new(Verdict::Unknown, e.short()).at(instance),
        Ok(reply) if reply.status == 404 && path == TOKENS_ME => {
            // Artifactory before 7.53.1 has no tokens/me: fall back to a read.
            match client.send(instance, call(REPOSITORIES)).await {
                Err(e) => Validation::new(Verdict::Unknown, e.short()).at(instance),
                Ok(r) => {
                    let (status, reason) = classify(&r, REPOSITORIES);
                    Validation::new(status, reason).at(instance).evidence(&r)
                }
            }
        }
        Ok(reply) => {
            let (status, reason) = classify(&reply, path);
            let mut v = Validation::new(status, reason)
                .at(instance)
                .evidence(&reply);
            if status == Verdict::Live && path == TOKENS_ME {
                v.token = reply.json();
            }
            v
        }
    };
    v.auth = Some(style.describe());
    consistency(client, cred, instance, &mut v).await;
    v
}

/// Compares the token's instance id with the instance: from the token record when live, or
/// from the instance's service id (read without credentials) when rejected.
async fn consistency(client: &Client, cred: &Credential, instance: &Instance, v: &mut Validation) {
    let Some(token_id) = cred.instance_id() else {
        return;
    };
    let reported = match (&v.token, v.status) {
        (Some(record), _) => record
            .get("issuer")
            .and_then(Value::as_str)
            .and_then(|i| i.split_once('@'))
            .map(|(_, id)| id.to_owned()),
        (None, Verdict::Invalid) if cred.value_kind() == CredentialKind::AccessToken => {
            let call = Call::get(SERVICE_ID, Auth::None, "validate").about(cred);
            match client.send(instance, call).await {
                Ok(r) if r.status == 200 => {
                    let text = String::from_utf8_lossy(&r.body).trim().to_owned();
                    text.split_once('@').map(|(_, id)| id.to_owned())
                }
                _ => None,
            }
        }
        _ => None,
    }
    .or_else(|| instance.instance_id.clone());
    let Some(reported) = reported else {
        return;
    };
    let matched = reported == token_id;
    v.instance_check = Some(if matched { "match" } else { "mismatch" }.into());
    if v.status == Verdict::Invalid && matched {
        v.status = Verdict::Revoked;
        v.reason = Some(
            "issued by this instance and no longer accepted (401): revoked, or its user was \
             removed"
                .into(),
        );
    }
}

/// Validates many credentials with one result per (fingerprint, instance): a secret found in
/// 500 places is checked once.
pub struct Validator {
    client: Arc<Client>,
    cache: Mutex<HashMap<CacheKey, Arc<tokio::sync::OnceCell<Validation>>>>,
}

/// (fingerprint, instance base URL).
type CacheKey = (String, String);

impl Validator {
    /// A validator sending through `client`.
    pub fn new(client: Arc<Client>) -> Validator {
        Validator {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The client.
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    /// Validates, or waits for and returns the result of the first validation of the same
    /// secret on the same instance (concurrent callers share one request).
    pub async fn validate(&self, cred: &Credential, resolution: &Resolution) -> Validation {
        let key = (
            cred.fingerprint.clone(),
            match resolution {
                Resolution::Found(i) => display_url(&i.url),
                Resolution::None { .. } => String::new(),
            },
        );
        let cell = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_init(|| validate(&self.client, cred, resolution))
            .await
            .clone()
    }
}

/// Errors are short strings in verdicts; re-exported for callers matching on them.
pub type HttpError = Error;
