#![deny(clippy::print_stdout, clippy::print_stderr)]
//! JFrog credential intelligence: what a leaked token is, whether it is live, what it can
//! reach, and how to kill and replace it.
//!
//! - [`inspect`] decodes a token offline (the decoders are `keyhound-engine`'s) and adds risk
//!   flags such as "older than 90 days". It never touches the network.
//! - [`credential`] turns a token or a scan finding into a [`Credential`]: the value to send,
//!   the header style (`X-JFrog-Art-Api`, `Authorization: Bearer`, Basic), and the user.
//! - [`instance`] decides which instance a credential belongs to (the URL beside it, then the
//!   user's `--jfrog-url`, then configured instances) and whether that instance is trusted.
//! - [`http`] is the only way out: HTTPS only unless allowed, addresses resolved and checked
//!   before connecting and pinned, no automatic redirects, per-instance concurrency and rate
//!   limits, `429`/`Retry-After`, bounded retries and bodies, and an egress log of every
//!   request (never the secret).
//! - [`validate`] classifies a credential as live, invalid, expired, revoked, forbidden or
//!   unknown with the least side-effect read call; [`blast`] finds the user, groups and
//!   repositories of a live one; [`revoke`] and [`mint`] kill a token and make a scoped,
//!   expiring successor; [`vault`] stores the successor in HashiCorp Vault KV v2.
//!
//! This crate never reads argv or environment variables: the CLI resolves settings and hands
//! typed options in. docs/jfrog.md describes the endpoints and the safety model.
//!
//! ```
//! let token = keyhound_testkit::fake::jfrog_api_key(7);
//! let found = keyhound_jfrog::inspect::inspect(token.as_bytes(), &Default::default())
//!     .expect("an API key is recognised");
//! assert_eq!(found.kind, "api_key");
//! assert!(found.risks.iter().any(|r| r.code == "deprecated"));
//! ```

pub mod audit;
pub mod blast;
pub mod credential;
pub mod enrich;
pub mod http;
pub mod inspect;
pub mod instance;
pub mod mint;
pub mod revoke;
pub mod validate;
pub mod vault;

pub use credential::{AuthStyle, Credential, CredentialKind};
pub use http::{Client, ClientOptions};
pub use instance::{Instance, InstanceResolver, Resolution, TrustedInstance};
pub use validate::{Validation, Validator, Verdict};

/// The current Unix time in seconds.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// RFC 3339 text of a Unix time.
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| secs.to_string())
}
