//! Offline inspection of one token: its kind, every fact that can be decoded without the
//! network, and risk flags. The decoders are `keyhound-engine`'s, so a token inspected here and
//! the same token found by a scan carry the same facts.

use keyhound_engine::{Facts, Flag};
use serde::Serialize;
use serde_json::Value;

/// Inspection settings.
#[derive(Debug, Clone, Copy)]
pub struct InspectOptions {
    /// The current Unix time.
    pub now: i64,
    /// Flag tokens issued more than this many days ago.
    pub max_age_days: Option<u64>,
}

impl Default for InspectOptions {
    fn default() -> InspectOptions {
        InspectOptions {
            now: crate::now(),
            max_age_days: None,
        }
    }
}

/// A risk flag with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// Stable snake_case code: `never_expires`, `admin_scope`, `expired`, `older_than`,
    /// `deprecated`.
    pub code: &'static str,
    /// One sentence for people.
    pub message: String,
}

/// What is known about a token offline.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The kind: `api_key`, `reference_token`, `access_token`, `identity_token`,
    /// `jfrog_cli_config_token` or `jwt`.
    pub kind: String,
    /// Decoded facts (claims, structure), never the secret.
    pub facts: Facts,
    /// Risk flags, most serious first.
    pub risks: Vec<Risk>,
}

/// Recognises and decodes `token`. `None` when it is no JFrog credential format (nor a JWT).
pub fn inspect(token: &[u8], opts: &InspectOptions) -> Option<Inspection> {
    let token = trim(token);
    let facts = keyhound_engine::inspect(token, opts.now)?;
    Some(from_facts(facts, opts))
}

/// Builds the inspection of already decoded facts (a scan finding's).
pub fn from_facts(mut facts: Facts, opts: &InspectOptions) -> Inspection {
    let kind = facts.kind.clone().unwrap_or_else(|| "unknown".to_owned());
    if kind == "reference_token" {
        facts.set(
            "structure",
            "base64 of reftkn:<version>:<10-digit expiry>:<random>",
        );
    }
    let mut risks = Vec::new();
    if facts.flags.contains(&Flag::AdminScope) {
        risks.push(Risk {
            code: "admin_scope",
            message: "carries admin scope: full control of the instance".into(),
        });
    }
    if facts.flags.contains(&Flag::Expired) {
        risks.push(Risk {
            code: "expired",
            message: format!(
                "already expired{}",
                facts
                    .fields
                    .get("expires_at_utc")
                    .and_then(Value::as_str)
                    .map(|t| format!(" at {t}"))
                    .unwrap_or_default()
            ),
        });
    }
    if facts.flags.contains(&Flag::NeverExpires) {
        risks.push(Risk {
            code: "never_expires",
            message: "never expires: it stays valid until someone revokes it".into(),
        });
    }
    if let (Some(days), Some(iat)) = (
        opts.max_age_days,
        facts.fields.get("issued_at").and_then(Value::as_i64),
    ) {
        let age_days = (opts.now - iat).max(0) / 86_400;
        if age_days > i64::try_from(days).unwrap_or(i64::MAX) {
            risks.push(Risk {
                code: "older_than",
                message: format!("issued {age_days} days ago (more than {days})"),
            });
        }
    }
    if facts.flags.contains(&Flag::Deprecated) {
        risks.push(Risk {
            code: "deprecated",
            message: "legacy API key: deprecated by JFrog (end of life Q4 2024) but still \
                      accepted where an admin keeps API keys enabled"
                .into(),
        });
    }
    Inspection { kind, facts, risks }
}

/// Strips surrounding whitespace (a token pasted with its newline).
pub(crate) fn trim(token: &[u8]) -> &[u8] {
    let start = token
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(token.len());
    let end = token
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &token[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyhound_testkit::fake::{self, AccessTokenSpec};

    #[test]
    fn access_token_flags() {
        let mut spec = AccessTokenSpec::identity(1, "alice");
        spec.scope = "applied-permissions/admin".into();
        spec.expires_at = None;
        spec.issued_at = 1_700_000_000;
        let token = fake::jfrog_access_token(&spec);
        let opts = InspectOptions {
            now: 1_700_000_000 + 100 * 86_400,
            max_age_days: Some(90),
        };
        let i = inspect(format!(" {token}\n").as_bytes(), &opts).expect("recognised");
        assert_eq!(i.kind, "access_token");
        let codes: Vec<&str> = i.risks.iter().map(|r| r.code).collect();
        assert_eq!(codes, ["admin_scope", "never_expires", "older_than"]);
        assert_eq!(i.facts.fields["user"], "alice");
    }

    #[test]
    fn reference_token_expired() {
        let token = fake::jfrog_reference_token(2, 1_000_000_000);
        let i = inspect(token.as_bytes(), &InspectOptions::default()).expect("recognised");
        assert_eq!(i.kind, "reference_token");
        assert_eq!(i.risks[0].code, "expired");
    }

    #[test]
    fn not_a_token() {
        assert!(inspect(b"hello world", &InspectOptions::default()).is_none());
    }
}
