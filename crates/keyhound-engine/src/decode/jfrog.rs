//! JFrog credential decoders. Formats are described in docs/jfrog.md.

use serde_json::{Map, Value};

use super::jwt::{Jwt, time_facts};
use super::{Decoded, base64_any};
use crate::facts::{Facts, Flag, rfc3339};

/// A legacy API key: `AKCp` + digit + 68 alphanumerics. Never expires; deprecated by JFrog.
pub(super) fn api_key(secret: &[u8]) -> Option<Facts> {
    if secret.len() != 73 || !secret.starts_with(b"AKCp") || !secret[4].is_ascii_digit() {
        return None;
    }
    if !secret.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut facts = Facts::kind("api_key");
    facts.flag(Flag::NeverExpires).flag(Flag::Deprecated);
    Some(facts)
}

/// A reference token: base64 of `reftkn:<2-digit version>:<10-digit expiry>:<random>`.
pub(super) fn reference_token(secret: &[u8], now: i64) -> Option<Facts> {
    let decoded = base64_any(secret)?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let mut parts = text.split(':');
    let (magic, version, expiry, random) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || magic != "reftkn" {
        return None;
    }
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(version, 2) || !digits(expiry, 10) {
        return None;
    }
    if random.len() < 16 || !random.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut facts = Facts::kind("reference_token");
    facts.set("version", version);
    let expiry: i64 = expiry.parse().ok()?;
    if expiry == 0 {
        facts.flag(Flag::NeverExpires);
    } else {
        facts.set("expires_at", expiry);
        if let Some(t) = rfc3339(expiry) {
            facts.set("expires_at_utc", t);
        }
        if expiry < now {
            facts.flag(Flag::Expired);
        }
    }
    Some(facts)
}

/// `jfrt@`, `jfac@`, `jffe@` and the other JFrog service prefixes.
fn is_jfrog_service_id(s: &str) -> bool {
    let Some((service, rest)) = s.split_once('@') else {
        return false;
    };
    service.len() >= 3
        && service.len() <= 6
        && service.starts_with("jf")
        && service.bytes().all(|b| b.is_ascii_lowercase())
        && !rest.is_empty()
}

/// The user name JFrog derives from a subject: the text after the last `/` for
/// `jfrt@…/users/name` and `…/users/…` subjects, otherwise the subject itself.
pub fn user_from_subject(sub: &str) -> &str {
    if sub.starts_with("jfrt@") || sub.contains("/users/") {
        sub.rsplit('/').next().unwrap_or(sub)
    } else {
        sub
    }
}

/// The instance (service) id in `jfac@<id>` or `jfac@<id>/users/x`.
fn instance_id(service_id: &str) -> Option<&str> {
    let (_, rest) = service_id.split_once('@')?;
    let id = rest.split('/').next()?;
    (!id.is_empty() && id != "*").then_some(id)
}

/// Scopes from `scp` (space-separated string, or an array in some tokens).
fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("scp").or_else(|| claims.get("scope")) {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A JFrog access or identity token: a JWT whose issuer or subject is a JFrog service id.
pub(super) fn access_token(secret: &[u8], now: i64) -> Option<Facts> {
    let jwt = Jwt::parse(secret)?;
    let iss = jwt.str_claim("iss").unwrap_or("");
    let sub = jwt.str_claim("sub").unwrap_or("");
    if !is_jfrog_service_id(iss) && !is_jfrog_service_id(sub) {
        return None;
    }
    let scopes = scopes(&jwt.claims);
    let admin = scopes
        .iter()
        .any(|s| s == "applied-permissions/admin" || s == "admin");
    let kind = if scopes.len() == 1 && scopes[0] == "applied-permissions/user" {
        "identity_token"
    } else {
        "access_token"
    };
    let mut facts = Facts::kind(kind);
    if !sub.is_empty() {
        facts.set("subject", sub);
        facts.set("user", user_from_subject(sub));
    }
    if !iss.is_empty() {
        facts.set("issuer", iss);
    }
    if let Some(id) = instance_id(iss).or_else(|| instance_id(sub)) {
        facts.set("instance_id", id);
    }
    if let Some(service) = iss.split_once('@').map(|(s, _)| s) {
        facts.set("service", service);
    }
    if !scopes.is_empty() {
        facts.set("scopes", scopes);
    }
    let aud = jwt.audience();
    if !aud.is_empty() {
        facts.set("audience", aud);
    }
    if let Some(jti) = jwt.str_claim("jti") {
        facts.set("token_id", jti);
    }
    if let Some(kid) = jwt.header.get("kid").and_then(Value::as_str) {
        facts.set("key_id", kid);
    }
    // `ext` is a JSON string such as {"revocable":"true"}.
    if let Some(ext) = jwt.str_claim("ext") {
        if let Ok(Value::Object(ext)) = serde_json::from_str::<Value>(ext) {
            if let Some(r) = ext.get("revocable") {
                let revocable = r.as_bool().or_else(|| r.as_str().map(|s| s == "true"));
                if let Some(revocable) = revocable {
                    facts.set("revocable", revocable);
                }
            }
        }
    }
    time_facts(&jwt, now, &mut facts);
    if admin {
        facts.flag(Flag::AdminScope);
    }
    Some(facts)
}

/// A JFrog CLI config token from `jf c export`: base64 of a JSON object with `version` and a
/// server URL. Its inner credentials are found by scanning the decoded JSON again.
pub(super) fn config_token(secret: &[u8]) -> Option<Decoded> {
    let decoded = base64_any(secret)?;
    let obj: Map<String, Value> = serde_json::from_slice(&decoded).ok()?;
    obj.get("version")?.as_u64()?;
    let url = obj
        .get("url")
        .or_else(|| obj.get("artifactoryUrl"))
        .and_then(Value::as_str)?;
    let mut facts = Facts::kind("jfrog_cli_config_token");
    facts.set("url", url);
    for (field, key) in [
        ("artifactoryUrl", "artifactory_url"),
        ("user", "user"),
        ("serverId", "server_id"),
    ] {
        if let Some(v) = obj.get(field).and_then(Value::as_str) {
            facts.set(key, v);
        }
    }
    let held: Vec<&str> = ["password", "accessToken", "refreshToken", "sshPassphrase"]
        .into_iter()
        .filter(|f| {
            obj.get(*f)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty())
        })
        .collect();
    facts.set("holds", held);
    Some(Decoded {
        facts,
        inner: Some(decoded),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn reference_token_structure() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let ok = b64("reftkn:01:0000000000:DVkg7f2pqtBh0VPLe7Kb6GSmPcY");
        let f = reference_token(ok.as_bytes(), 0).expect("valid");
        assert!(f.flags.contains(&Flag::NeverExpires));
        let expired = b64("reftkn:01:1000000000:DVkg7f2pqtBh0VPLe7Kb6GSmPcY");
        let f = reference_token(expired.as_bytes(), 2_000_000_000).expect("valid");
        assert!(f.flags.contains(&Flag::Expired));
        assert!(
            reference_token(
                b64("reftkn:01:abc:DVkg7f2pqtBh0VPLe7Kb6GSmPcY").as_bytes(),
                0
            )
            .is_none()
        );
        assert!(
            reference_token(
                b64("refxxx:01:0000000000:DVkg7f2pqtBh0VPLe7Kb6GSmPcY").as_bytes(),
                0
            )
            .is_none()
        );
    }

    #[test]
    fn subjects() {
        assert_eq!(
            user_from_subject("jfac@01c3gffhg2e8w6149e3a2q0w97/users/alice"),
            "alice"
        );
        assert_eq!(
            user_from_subject("jfrt@01c3gffhg2e8w6149e3a2q0w97/users/bob"),
            "bob"
        );
        assert_eq!(user_from_subject("org/repo"), "org/repo");
        assert!(is_jfrog_service_id("jfac@01c3gffhg2e8w6149e3a2q0w97"));
        assert!(!is_jfrog_service_id("https://accounts.google.com"));
        assert!(!is_jfrog_service_id("jf@x"));
    }
}
