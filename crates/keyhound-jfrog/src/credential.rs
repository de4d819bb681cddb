//! A credential ready to be checked: the kind, the value to send, how to send it, and whose it
//! is. Built from a token given on its own or from a scan finding.

use keyhound_engine::{Facts, Flag, Secret};
use serde::Serialize;
use serde_json::Value;

use crate::inspect::{InspectOptions, trim};

/// The kinds of JFrog credential keyhound can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialKind {
    /// Legacy API key (`AKCp…`).
    ApiKey,
    /// Reference token (`cmVmdGtu…`).
    ReferenceToken,
    /// Access or identity token (a JWT issued by a JFrog service).
    AccessToken,
    /// A user name and a password (or a key or token used as the password).
    Password,
    /// A JFrog "encrypted password" (`AP…`), used as a password.
    EncryptedPassword,
    /// A refresh token: exchanging it would mint a new token, so it is never sent.
    RefreshToken,
    /// A `jf c export` config token: its inner credentials are checked as their own findings.
    ConfigToken,
    /// Anything else (a password without a user name, an unrecognised value).
    Other,
}

impl CredentialKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => "api_key",
            CredentialKind::ReferenceToken => "reference_token",
            CredentialKind::AccessToken => "access_token",
            CredentialKind::Password => "password",
            CredentialKind::EncryptedPassword => "encrypted_password",
            CredentialKind::RefreshToken => "refresh_token",
            CredentialKind::ConfigToken => "config_token",
            CredentialKind::Other => "other",
        }
    }

    fn of_facts(facts: &Facts) -> CredentialKind {
        match facts.kind.as_deref() {
            Some("api_key") => CredentialKind::ApiKey,
            Some("reference_token") => CredentialKind::ReferenceToken,
            Some("access_token" | "identity_token") => CredentialKind::AccessToken,
            Some("jfrog_cli_config_token") => CredentialKind::ConfigToken,
            _ => CredentialKind::Other,
        }
    }

    /// Tokens that Access knows by id and that `/access/api/v1/tokens/me` describes.
    pub fn is_token(self) -> bool {
        matches!(
            self,
            CredentialKind::ReferenceToken | CredentialKind::AccessToken
        )
    }
}

/// How a credential is presented to the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "style", rename_all = "snake_case")]
pub enum AuthStyle {
    /// `X-JFrog-Art-Api: <key>`.
    ArtApiHeader,
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: Basic base64(user:secret)`.
    Basic {
        /// The user name (not secret).
        username: String,
    },
}

impl AuthStyle {
    /// How the header is shown in plans and logs: never the value.
    pub fn describe(&self) -> String {
        match self {
            AuthStyle::ArtApiHeader => "X-JFrog-Art-Api".to_owned(),
            AuthStyle::Bearer => "Authorization: Bearer".to_owned(),
            AuthStyle::Basic { username } => format!("Authorization: Basic ({username}:…)"),
        }
    }
}

/// A credential and what is known about it offline.
#[derive(Debug, Clone)]
pub struct Credential {
    /// What it is. For a password, the kind of what the password is when it is itself a
    /// key or a token is `inner`.
    pub kind: CredentialKind,
    /// For passwords that are themselves JFrog keys or tokens: their kind.
    pub inner: Option<CredentialKind>,
    /// The value to send (the password part for Basic credentials).
    pub secret: Secret,
    /// The user name, when known.
    pub username: Option<String>,
    /// Offline facts (claims, flags, `instance_url` found beside it...).
    pub facts: Facts,
    /// The value-based fingerprint (from the scan, or computed for a token given alone).
    pub fingerprint: String,
    /// The rule that found it, when it comes from a scan.
    pub rule_id: Option<String>,
}

/// Decodes a value on its own with the engine's decoders.
fn decode(value: &[u8], now: i64) -> Option<Facts> {
    crate::inspect::inspect(
        value,
        &InspectOptions {
            now,
            max_age_days: None,
        },
    )
    .map(|i| i.facts)
}

impl Credential {
    /// A token given on its own (`keyhound inspect TOKEN`). `user` is the user name to send
    /// with Basic credentials, when the value is a password.
    pub fn from_token(
        token: &[u8],
        fingerprint: String,
        username: Option<String>,
        now: i64,
    ) -> Credential {
        let token = trim(token);
        let facts = decode(token, now).unwrap_or_default();
        let mut kind = CredentialKind::of_facts(&facts);
        let mut inner = None;
        if username.is_some() && kind != CredentialKind::ConfigToken {
            inner = (kind != CredentialKind::Other).then_some(kind);
            kind = CredentialKind::Password;
        }
        // A token names its user in its subject.
        let username = username.or_else(|| {
            facts
                .fields
                .get("user")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        Credential {
            kind,
            inner,
            secret: Secret::new(token.to_vec()),
            username,
            facts,
            fingerprint,
            rule_id: None,
        }
    }

    /// A scan finding of a JFrog rule. `None` for findings that are no JFrog credential.
    pub fn from_finding(
        rule_id: &str,
        secret: &Secret,
        facts: &Facts,
        fingerprint: &str,
        now: i64,
    ) -> Option<Credential> {
        let jfrog_rule = rule_id.starts_with("keyhound.jfrog.");
        let mut kind = CredentialKind::of_facts(facts);
        if !jfrog_rule && kind == CredentialKind::Other {
            return None;
        }
        let mut facts = facts.clone();
        let decoded_as = CredentialKind::of_facts(&facts);
        let mut value = secret.clone();
        let mut username = facts
            .fields
            .get("username")
            .or_else(|| facts.fields.get("user"))
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .map(str::to_owned);
        let mut inner = None;
        match facts.kind.as_deref() {
            // base64(user:password): npm `_auth`, Docker `auth`, `Authorization: Basic`.
            Some("basic_auth") => {
                let (user, password) = keyhound_engine::split_basic_auth(secret.expose())?;
                username = Some(user);
                value = password;
                kind = CredentialKind::Password;
            }
            // npm `_password`: base64(password); the user name is on another line.
            Some("password") => {
                let decoded = keyhound_engine::base64_any(secret.expose())?;
                value = Secret::new(decoded);
                kind = CredentialKind::Password;
            }
            _ => {}
        }
        match rule_id {
            "keyhound.jfrog.4" => kind = CredentialKind::EncryptedPassword,
            "keyhound.jfrog.20" => kind = CredentialKind::RefreshToken,
            _ => {}
        }
        if kind == CredentialKind::Other {
            // A value in a password or token slot: what is it on its own?
            if let Some(own) = decode(value.expose(), now) {
                let own_kind = CredentialKind::of_facts(&own);
                if own_kind != CredentialKind::Other {
                    facts.merge(&own);
                    kind = own_kind;
                }
            }
            if kind == CredentialKind::Other {
                kind = CredentialKind::Password;
            }
        }
        if kind == CredentialKind::Password {
            if let Some(own) = decode(value.expose(), now) {
                let own_kind = CredentialKind::of_facts(&own);
                if own_kind != CredentialKind::Other {
                    inner = Some(own_kind);
                    facts.merge(&own);
                }
            }
        }
        // A key or token that arrived with a user name (Basic, `curl -u`, URL userinfo) is
        // checked the way it was used: as a Basic password.
        if username.is_some()
            && matches!(
                kind,
                CredentialKind::ApiKey
                    | CredentialKind::ReferenceToken
                    | CredentialKind::AccessToken
            )
            && decoded_as != kind
        {
            inner = Some(kind);
            kind = CredentialKind::Password;
        }
        if matches!(
            kind,
            CredentialKind::AccessToken | CredentialKind::ReferenceToken
        ) {
            username = facts
                .fields
                .get("user")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or(username);
        }
        Some(Credential {
            kind,
            inner,
            secret: value,
            username,
            facts,
            fingerprint: fingerprint.to_owned(),
            rule_id: Some(rule_id.to_owned()),
        })
    }

    /// How the credential is sent, or why it is never sent.
    pub fn auth_style(&self) -> Result<AuthStyle, &'static str> {
        match self.kind {
            CredentialKind::ApiKey => Ok(AuthStyle::ArtApiHeader),
            CredentialKind::ReferenceToken | CredentialKind::AccessToken => Ok(AuthStyle::Bearer),
            CredentialKind::Password | CredentialKind::EncryptedPassword => {
                match (&self.username, self.inner) {
                    (Some(u), _) => Ok(AuthStyle::Basic {
                        username: u.clone(),
                    }),
                    (None, Some(CredentialKind::ApiKey)) => Ok(AuthStyle::ArtApiHeader),
                    (None, Some(CredentialKind::ReferenceToken | CredentialKind::AccessToken)) => {
                        Ok(AuthStyle::Bearer)
                    }
                    (None, _) => Err("a password without a user name cannot be checked"),
                }
            }
            CredentialKind::RefreshToken => {
                Err("a refresh token is never sent: exchanging it would mint a new token")
            }
            CredentialKind::ConfigToken => Err(
                "a config token is checked through the credentials inside it, reported as their own findings",
            ),
            CredentialKind::Other => Err("not a JFrog credential that keyhound can check"),
        }
    }

    /// The effective kind of the value: the inner kind of a password that is a token.
    pub fn value_kind(&self) -> CredentialKind {
        self.inner.unwrap_or(self.kind)
    }

    /// True when the offline facts say the credential has expired.
    pub fn expired_offline(&self) -> bool {
        self.facts.flags.contains(&Flag::Expired)
    }

    /// The instance URL recorded beside the credential in its file.
    pub fn beside_url(&self) -> Option<&str> {
        self.facts
            .fields
            .get("instance_url")
            .and_then(Value::as_str)
    }

    /// The instance id from the token's issuer or subject (`jfac@<id>`), a consistency
    /// check only: it is no URL.
    pub fn instance_id(&self) -> Option<&str> {
        self.facts.fields.get("instance_id").and_then(Value::as_str)
    }

    /// The token id (`jti`) when the token carries one.
    pub fn token_id(&self) -> Option<&str> {
        self.facts.fields.get("token_id").and_then(Value::as_str)
    }

    /// Scopes, when decoded.
    pub fn scopes(&self) -> Vec<String> {
        match self.facts.fields.get("scopes") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// True for an admin-scoped token.
    pub fn admin_scope(&self) -> bool {
        self.facts.flags.contains(&Flag::AdminScope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use keyhound_testkit::fake;

    fn finding(rule: &str, secret: &str, facts: Facts) -> Option<Credential> {
        Credential::from_finding(rule, &Secret::new(secret), &facts, "fp", 0)
    }

    #[test]
    fn kinds_and_styles() {
        let key = fake::jfrog_api_key(1);
        let mut f = Facts::kind("api_key");
        f.flag(Flag::NeverExpires);
        let c = finding("keyhound.jfrog.1", &key, f).expect("jfrog");
        assert_eq!(c.kind, CredentialKind::ApiKey);
        assert_eq!(c.auth_style(), Ok(AuthStyle::ArtApiHeader));

        let auth = base64::engine::general_purpose::STANDARD.encode(format!("ci:{key}"));
        let mut f = Facts::kind("basic_auth");
        f.set("username", "ci");
        let c = finding("keyhound.jfrog.7", &auth, f).expect("jfrog");
        assert_eq!(c.kind, CredentialKind::Password);
        assert_eq!(c.inner, Some(CredentialKind::ApiKey));
        assert_eq!(c.secret.expose(), key.as_bytes());
        assert_eq!(
            c.auth_style(),
            Ok(AuthStyle::Basic {
                username: "ci".into()
            })
        );

        let c = finding("keyhound.jfrog.15", "plainpassword1", Facts::default()).expect("jfrog");
        assert_eq!(c.kind, CredentialKind::Password);
        assert!(c.auth_style().is_err());

        let refresh = finding(
            "keyhound.jfrog.20",
            "0b7e7cf4-3b3c-4e59-9a9c-0c7f2d3c1a11",
            Facts::default(),
        )
        .expect("jfrog");
        assert_eq!(refresh.kind, CredentialKind::RefreshToken);
        assert!(refresh.auth_style().is_err());

        assert!(finding("keyhound.github.1", "ghp_x", Facts::kind("github_pat")).is_none());
    }

    #[test]
    fn env_var_holding_a_reference_token_is_a_bearer_token() {
        let token = fake::jfrog_reference_token(3, 0);
        let c = finding("keyhound.jfrog.15", &token, Facts::default()).expect("jfrog");
        assert_eq!(c.kind, CredentialKind::ReferenceToken);
        assert_eq!(c.auth_style(), Ok(AuthStyle::Bearer));
    }
}
