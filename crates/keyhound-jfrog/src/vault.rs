//! HashiCorp Vault KV version 2, the one call `replace` needs: write a secret.
//! `POST {addr}/v1/{mount}/data/{path}` with `X-Vault-Token` and `{"data": {...}}`
//! (developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2). The address is named by the user,
//! so it is a trusted destination; every other rule of [`crate::http`] applies.

use keyhound_engine::Secret;
use serde_json::{Map, Value, json};
use url::Url;

use crate::http::{Auth, Call, Client};
use crate::instance::{Instance, InstanceSource};

/// Where to write.
#[derive(Debug, Clone)]
pub struct VaultTarget {
    /// Vault's address (`https://vault.example.com:8200`).
    pub addr: Url,
    /// KV v2 mount (`secret`).
    pub mount: String,
    /// Path under the mount (`ci/artifactory`).
    pub path: String,
}

/// Errors writing to Vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `--vault-path` has no mount and path.
    #[error("vault path {0:?} must be MOUNT/PATH, such as secret/ci/artifactory")]
    Path(String),
    /// Vault refused.
    #[error("vault answered {status} for {endpoint}: {message}")]
    Rejected {
        /// The call.
        endpoint: String,
        /// Status.
        status: u16,
        /// Vault's errors.
        message: String,
    },
    /// The request failed.
    #[error(transparent)]
    Http(#[from] crate::http::Error),
}

impl VaultTarget {
    /// Parses `MOUNT/PATH` (a leading `/` and a `data/` after the mount are accepted).
    pub fn new(addr: Url, vault_path: &str) -> Result<VaultTarget, Error> {
        let p = vault_path.trim_matches('/');
        let (mount, rest) = p
            .split_once('/')
            .ok_or_else(|| Error::Path(vault_path.to_owned()))?;
        let rest = rest.strip_prefix("data/").unwrap_or(rest);
        if mount.is_empty() || rest.is_empty() {
            return Err(Error::Path(vault_path.to_owned()));
        }
        Ok(VaultTarget {
            addr,
            mount: mount.to_owned(),
            path: rest.to_owned(),
        })
    }
}

/// Writes `data` (which holds the secret) as a new version; returns the version number.
pub async fn write(
    client: &Client,
    target: &VaultTarget,
    token: &Secret,
    data: Map<String, Value>,
) -> Result<Option<u64>, Error> {
    let instance = Instance {
        url: target.addr.clone(),
        name: Some("vault".into()),
        source: InstanceSource::Flag,
        trusted: true,
        instance_id: None,
    };
    let call = Call::new(
        reqwest::Method::POST,
        format!("/v1/{}/data/{}", target.mount, target.path),
        Auth::Vault(token),
        "vault_write",
    )
    .json(json!({ "data": data }));
    let reply = client.send(&instance, call).await?;
    if reply.status != 200 && reply.status != 204 {
        return Err(Error::Rejected {
            endpoint: reply.endpoint.clone(),
            status: reply.status,
            message: reply.text_excerpt(),
        });
    }
    Ok(reply
        .json()
        .and_then(|v| v.pointer("/data/version").and_then(Value::as_u64)))
}
