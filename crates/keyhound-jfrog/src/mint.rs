//! Minting a least-privilege successor: `POST /access/api/v1/tokens` (admin), for the same
//! user, with the narrowest scope that covers the old credential's use, an expiry, and a
//! description naming the incident.

use keyhound_engine::Secret;
use serde::Serialize;
use serde_json::{Value, json};

use crate::credential::{Credential, CredentialKind};
use crate::http::{Auth, Call, Client};
use crate::instance::Instance;

/// What to mint.
#[derive(Debug, Clone, Serialize)]
pub struct MintRequest {
    /// The user (the old credential's subject).
    pub username: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Lifetime in seconds (never 0: a successor always expires).
    pub expires_in: u64,
    /// Description, naming the incident.
    pub description: String,
}

/// A minted token. The value is a [`Secret`]: it redacts itself everywhere.
#[derive(Debug, Clone)]
pub struct Minted {
    /// Token id.
    pub token_id: String,
    /// The access token.
    pub access_token: Secret,
    /// Lifetime the instance granted.
    pub expires_in: Option<u64>,
    /// Scope the instance granted.
    pub scope: String,
}

impl Minted {
    /// The minted token as a credential (to check that it works).
    pub fn credential(&self, fingerprint: String) -> Credential {
        Credential::from_token(self.access_token.expose(), fingerprint, None, crate::now())
    }
}

/// Errors while minting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The instance refused.
    #[error("{endpoint} answered {status}: {message}")]
    Rejected {
        /// The call.
        endpoint: String,
        /// Status.
        status: u16,
        /// The instance's message.
        message: String,
    },
    /// The answer lacks the token.
    #[error("{endpoint} answered without an access token")]
    Malformed {
        /// The call.
        endpoint: String,
    },
    /// The request failed.
    #[error(transparent)]
    Http(#[from] crate::http::Error),
}

/// The successor's scope and why: `--scope` when given; the same groups for a group-scoped
/// token; otherwise the user's own permissions (`applied-permissions/user`), so that an admin
/// token is never re-minted as admin unless asked.
pub fn successor_scope(old: &Credential, requested: Option<&str>) -> (String, String) {
    if let Some(s) = requested {
        return (s.to_owned(), "given with --scope".into());
    }
    let scopes = old.scopes();
    if let Some(g) = scopes
        .iter()
        .find(|s| s.starts_with("applied-permissions/groups:"))
    {
        return (
            g.clone(),
            "the same groups as the old token: nothing wider".into(),
        );
    }
    if old.admin_scope() {
        return (
            "applied-permissions/user".into(),
            "the old token was admin-scoped; the successor gets only the user's own \
             permissions (--scope to choose another)"
                .into(),
        );
    }
    let why = match old.value_kind() {
        CredentialKind::ApiKey => "an API key acts as its user: an identity token of that user",
        _ => "the user's own permissions, as the old credential had",
    };
    ("applied-permissions/user".into(), why.into())
}

/// Mints the token with the admin credential.
pub async fn mint(
    client: &Client,
    instance: &Instance,
    admin: &Credential,
    req: &MintRequest,
    about: &Credential,
) -> Result<Minted, Error> {
    let call = Call::new(
        reqwest::Method::POST,
        "/access/api/v1/tokens",
        Auth::Admin(admin),
        "mint",
    )
    .json(json!({
        "grant_type": "client_credentials",
        "username": req.username,
        "scope": req.scope,
        "expires_in": req.expires_in,
        "refreshable": false,
        "description": req.description,
    }))
    .about(about);
    let reply = client.send(instance, call).await?;
    if reply.status != 200 && reply.status != 201 {
        return Err(Error::Rejected {
            endpoint: reply.endpoint.clone(),
            status: reply.status,
            message: reply.text_excerpt(),
        });
    }
    let body = reply.json().unwrap_or(Value::Null);
    let token = body.get("access_token").and_then(Value::as_str);
    let (Some(token), Some(id)) = (token, body.get("token_id").and_then(Value::as_str)) else {
        return Err(Error::Malformed {
            endpoint: reply.endpoint.clone(),
        });
    };
    Ok(Minted {
        token_id: id.to_owned(),
        access_token: Secret::new(token.as_bytes().to_vec()),
        expires_in: body.get("expires_in").and_then(Value::as_u64),
        scope: body
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or(&req.scope)
            .to_owned(),
    })
}
