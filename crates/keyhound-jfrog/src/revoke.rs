//! Revocation: kill an access or reference token by value or by id (`jti`), or a legacy API
//! key. The calls (docs/jfrog.md):
//!
//! - token by value: `DELETE /access/api/v1/tokens/revoke` with `{"token": …}` (admin,
//!   Artifactory 7.68+); on an older instance, by id from the JWT's `jti`;
//! - token by id: `DELETE /access/api/v1/tokens/{id}` (admin; `204` when already revoked);
//! - API key: `DELETE /artifactory/api/security/apiKey/{user}` (admin) when the user is
//!   known, else `DELETE /artifactory/api/security/apiKey` authenticated by the key itself.
//!
//! Passwords and encrypted passwords have no revoke call: the user's password must change.

use serde::Serialize;
use serde_json::{Value, json};

use crate::credential::{Credential, CredentialKind};
use crate::http::{Auth, Call, Client, Reply};
use crate::instance::Instance;

/// What to revoke.
#[derive(Debug, Clone)]
pub enum Target {
    /// A credential by value.
    Value(Credential),
    /// An access token by id.
    TokenId(String),
}

/// Errors before or during revocation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The credential kind has no revoke call.
    #[error("a {kind} cannot be revoked through the API: {advice}")]
    NotRevocable {
        /// The kind.
        kind: &'static str,
        /// What to do instead.
        advice: &'static str,
    },
    /// An admin credential is needed.
    #[error("revoking a {what} needs an admin credential")]
    NeedsAdmin {
        /// What.
        what: &'static str,
    },
    /// The instance refused.
    #[error("{endpoint} answered {status}: {message}")]
    Rejected {
        /// The call.
        endpoint: String,
        /// Status.
        status: u16,
        /// The explanation.
        message: String,
    },
    /// The request failed.
    #[error(transparent)]
    Http(#[from] crate::http::Error),
}

/// One call of a revocation plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Step {
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Header style and whose credential.
    pub auth: String,
    /// When (`always`, `on 404`).
    pub when: String,
}

/// What revocation will do, shown before asking.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// One sentence.
    pub description: String,
    /// The calls.
    pub steps: Vec<Step>,
    /// Whether the admin credential is used.
    pub needs_admin: bool,
}

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// True when the instance confirmed the revocation.
    pub revoked: bool,
    /// True when it was already revoked (or unknown to the instance).
    pub already: bool,
    /// The revoked token's id, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// The deciding call.
    pub endpoint: String,
    /// Its status.
    pub http_status: u16,
}

fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Chooses the calls.
pub fn plan(
    target: &Target,
    instance: &Instance,
    api_key_user: Option<&str>,
) -> Result<Plan, Error> {
    let step = |method: &str, path: &str, auth: &str, when: &str| Step {
        method: method.into(),
        url: instance.endpoint(path).to_string(),
        auth: auth.into(),
        when: when.into(),
    };
    match target {
        Target::TokenId(id) => Ok(Plan {
            description: format!("revoke access token id {id}"),
            steps: vec![step(
                "DELETE",
                &format!("/access/api/v1/tokens/{}", seg(id)),
                "admin: Authorization: Bearer",
                "always",
            )],
            needs_admin: true,
        }),
        Target::Value(cred) => match cred.value_kind() {
            CredentialKind::AccessToken | CredentialKind::ReferenceToken => {
                let mut steps = vec![step(
                    "DELETE",
                    "/access/api/v1/tokens/revoke",
                    "admin: Authorization: Bearer (body: the token)",
                    "always",
                )];
                if let Some(id) = cred.token_id() {
                    steps.push(step(
                        "DELETE",
                        &format!("/access/api/v1/tokens/{}", seg(id)),
                        "admin: Authorization: Bearer",
                        "on 404 or 405 (before Artifactory 7.68)",
                    ));
                }
                Ok(Plan {
                    description: format!(
                        "revoke the {} {}{}",
                        cred.value_kind().as_str().replace('_', " "),
                        cred.secret.redacted(),
                        cred.token_id()
                            .map(|id| format!(" (id {id})"))
                            .unwrap_or_default()
                    ),
                    steps,
                    needs_admin: true,
                })
            }
            CredentialKind::ApiKey => match api_key_user.or(cred.username.as_deref()) {
                Some(user) => Ok(Plan {
                    description: format!("revoke the API key of user {user}"),
                    steps: vec![step(
                        "DELETE",
                        &format!("/artifactory/api/security/apiKey/{}", seg(user)),
                        "admin: Authorization: Bearer",
                        "always",
                    )],
                    needs_admin: true,
                }),
                None => Ok(Plan {
                    description: format!(
                        "revoke the API key {} with itself (its user is unknown; --user names it)",
                        cred.secret.redacted()
                    ),
                    steps: vec![step(
                        "DELETE",
                        "/artifactory/api/security/apiKey",
                        "the key: X-JFrog-Art-Api",
                        "always",
                    )],
                    needs_admin: false,
                }),
            },
            CredentialKind::RefreshToken => Err(Error::NotRevocable {
                kind: "refresh token",
                advice: "revoke the access token it belongs to (by id)",
            }),
            _ => Err(Error::NotRevocable {
                kind: "password",
                advice: "change the user's password (and its encrypted password follows)",
            }),
        },
    }
}

fn rejected(reply: &Reply, what: &str) -> Error {
    let message = match reply.status {
        400 => "the token was issued by another instance".to_owned(),
        401 => "the credential used was rejected".to_owned(),
        403 => format!("not allowed to revoke this {what}"),
        s => format!("unexpected status {s}: {}", reply.text_excerpt()),
    };
    Error::Rejected {
        endpoint: reply.endpoint.clone(),
        status: reply.status,
        message,
    }
}

fn outcome(reply: &Reply, token_id: Option<String>) -> Outcome {
    Outcome {
        revoked: reply.status == 200,
        already: reply.status == 204,
        token_id,
        endpoint: reply.endpoint.clone(),
        http_status: reply.status,
    }
}

async fn by_id(
    client: &Client,
    instance: &Instance,
    id: &str,
    admin: &Credential,
    about: Option<&Credential>,
) -> Result<Outcome, Error> {
    let mut call = Call::new(
        reqwest::Method::DELETE,
        format!("/access/api/v1/tokens/{}", seg(id)),
        Auth::Admin(admin),
        "revoke",
    );
    if let Some(c) = about {
        call = call.about(c);
    }
    let reply = client.send(instance, call).await?;
    match reply.status {
        200 | 204 => Ok(outcome(&reply, Some(id.to_owned()))),
        _ => Err(rejected(&reply, "token")),
    }
}

/// Revokes. `admin` is required except for an API key revoked with itself.
pub async fn revoke(
    client: &Client,
    instance: &Instance,
    target: &Target,
    admin: Option<&Credential>,
    api_key_user: Option<&str>,
) -> Result<Outcome, Error> {
    match target {
        Target::TokenId(id) => {
            let admin = admin.ok_or(Error::NeedsAdmin {
                what: "token by id",
            })?;
            by_id(client, instance, id, admin, None).await
        }
        Target::Value(cred) => match cred.value_kind() {
            CredentialKind::AccessToken | CredentialKind::ReferenceToken => {
                let admin = admin.ok_or(Error::NeedsAdmin { what: "token" })?;
                let call = Call::new(
                    reqwest::Method::DELETE,
                    "/access/api/v1/tokens/revoke",
                    Auth::Admin(admin),
                    "revoke",
                )
                .json(json!({"token": cred.secret.expose_str()}))
                .about(cred);
                let reply = client.send(instance, call).await?;
                match (reply.status, cred.token_id()) {
                    (200, _) => {
                        let id = reply
                            .json()
                            .and_then(|v| {
                                v.get("revoked-token-id")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned)
                            })
                            .or_else(|| cred.token_id().map(str::to_owned));
                        Ok(outcome(&reply, id))
                    }
                    (404 | 405, Some(id)) => by_id(client, instance, id, admin, Some(cred)).await,
                    _ => Err(rejected(&reply, "token")),
                }
            }
            CredentialKind::ApiKey => {
                let (path, auth) = match api_key_user.or(cred.username.as_deref()) {
                    Some(user) => (
                        format!("/artifactory/api/security/apiKey/{}", seg(user)),
                        Auth::Admin(admin.ok_or(Error::NeedsAdmin {
                            what: "user's API key",
                        })?),
                    ),
                    None => (
                        "/artifactory/api/security/apiKey".to_owned(),
                        Auth::Finding(cred),
                    ),
                };
                let call = Call::new(reqwest::Method::DELETE, path, auth, "revoke").about(cred);
                let reply = client.send(instance, call).await?;
                match reply.status {
                    200 | 204 => Ok(outcome(&reply, None)),
                    _ => Err(rejected(&reply, "API key")),
                }
            }
            _ => Err(plan(target, instance, api_key_user)
                .err()
                .unwrap_or(Error::NotRevocable {
                    kind: "credential",
                    advice: "change the password",
                })),
        },
    }
}

/// After revoking by id: true when the instance no longer knows the token.
pub async fn gone_by_id(
    client: &Client,
    instance: &Instance,
    id: &str,
    admin: &Credential,
) -> Result<bool, Error> {
    let call = Call::get(
        format!("/access/api/v1/tokens/{}", seg(id)),
        Auth::Admin(admin),
        "verify_revoke",
    );
    let reply = client.send(instance, call).await?;
    Ok(reply.status == 404)
}
