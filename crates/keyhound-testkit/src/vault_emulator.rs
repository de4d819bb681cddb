//! A minimal HashiCorp Vault KV version 2 emulator, for tests only: write and read secrets at
//! `/v1/{mount}/data/{path}` with an `X-Vault-Token` (developer.hashicorp.com, KV v2 API).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::serve::Server;

#[derive(Default)]
struct Store {
    token: String,
    secrets: HashMap<String, Vec<Value>>,
}

type Shared = Arc<Mutex<Store>>;

/// A running Vault emulator; stops when dropped.
pub struct VaultEmulator {
    shared: Shared,
    server: Server,
}

impl std::fmt::Debug for VaultEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultEmulator")
            .field("url", &self.url())
            .finish()
    }
}

impl VaultEmulator {
    /// Starts on a loopback port, accepting `token`.
    pub fn start(token: &str) -> VaultEmulator {
        let shared: Shared = Arc::new(Mutex::new(Store {
            token: token.into(),
            secrets: HashMap::new(),
        }));
        let router = Router::new()
            .route("/v1/{mount}/data/{*path}", get(read).post(write).put(write))
            .with_state(shared.clone());
        VaultEmulator {
            shared,
            server: Server::start(router, None),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The latest version of a secret's data.
    pub fn read(&self, mount: &str, path: &str) -> Option<Value> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .secrets
            .get(&format!("{mount}/{path}"))
            .and_then(|v| v.last().cloned())
    }
}

fn denied() -> Response {
    (
        StatusCode::FORBIDDEN,
        [("content-type", "application/json")],
        json!({"errors": ["permission denied"]}).to_string(),
    )
        .into_response()
}

fn allowed(s: &Shared, headers: &HeaderMap) -> bool {
    let token = s
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .token
        .clone();
    headers
        .get("x-vault-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t == token)
}

async fn write(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path((mount, path)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if !allowed(&s, &headers) {
        return denied();
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad json").into_response();
    };
    let Some(data) = v.get("data").filter(|d| d.is_object()).cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            json!({"errors": ["no data provided"]}).to_string(),
        )
            .into_response();
    };
    let mut st = s.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let versions = st.secrets.entry(format!("{mount}/{path}")).or_default();
    versions.push(data);
    let version = versions.len();
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({"data": {"created_time": "2026-01-01T00:00:00Z", "deletion_time": "", "destroyed": false, "version": version}}).to_string(),
    )
        .into_response()
}

async fn read(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path((mount, path)): Path<(String, String)>,
) -> Response {
    if !allowed(&s, &headers) {
        return denied();
    }
    let st = s.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match st.secrets.get(&format!("{mount}/{path}")) {
        Some(v) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            json!({"data": {"data": v.last(), "metadata": {"version": v.len()}}}).to_string(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, json!({"errors": []}).to_string()).into_response(),
    }
}
