//! JSON Web Tokens: split, base64url-decode and parse header and payload.

use serde_json::{Map, Value};

use super::base64_any;
use crate::facts::{Facts, Flag, rfc3339};

/// A decoded (not verified) JWT.
#[derive(Debug, Clone)]
pub struct Jwt {
    /// The header object.
    pub header: Map<String, Value>,
    /// The claims object.
    pub claims: Map<String, Value>,
    /// Length of the signature in bytes.
    pub signature_len: usize,
}

impl Jwt {
    /// Parses `header.payload.signature`. Both JSON parts must be objects and the header must
    /// name an algorithm.
    pub fn parse(token: &[u8]) -> Option<Jwt> {
        let mut parts = token.split(|&b| b == b'.');
        let header = parts.next()?;
        let payload = parts.next()?;
        let signature = parts.next().unwrap_or(b"");
        if parts.next().is_some() {
            return None;
        }
        let header: Map<String, Value> = serde_json::from_slice(&base64_any(header)?).ok()?;
        header.get("alg")?.as_str()?;
        let claims: Map<String, Value> = serde_json::from_slice(&base64_any(payload)?).ok()?;
        let signature_len = if signature.is_empty() {
            0
        } else {
            base64_any(signature)?.len()
        };
        Some(Jwt {
            header,
            claims,
            signature_len,
        })
    }

    /// A string claim.
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// An integer claim (seconds), accepting floats as real tokens sometimes carry them.
    pub fn int_claim(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// The audience as a list (a string claim becomes one element).
    pub fn audience(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Sets `issued_at`, `expires_at` and the expiry flags from `iat` and `exp`.
pub(super) fn time_facts(jwt: &Jwt, now: i64, facts: &mut Facts) {
    if let Some(iat) = jwt.int_claim("iat") {
        facts.set("issued_at", iat);
        if let Some(t) = rfc3339(iat) {
            facts.set("issued_at_utc", t);
        }
    }
    match jwt.int_claim("exp") {
        Some(exp) => {
            facts.set("expires_at", exp);
            if let Some(t) = rfc3339(exp) {
                facts.set("expires_at_utc", t);
            }
            if exp < now {
                facts.flag(Flag::Expired);
            }
        }
        None => {
            facts.flag(Flag::NeverExpires);
        }
    }
}

/// Facts of any JWT: algorithm, issuer, subject, audience and times.
pub(super) fn generic_facts(jwt: &Jwt, now: i64) -> Facts {
    let mut facts = Facts::kind("jwt");
    if let Some(alg) = jwt.header.get("alg").and_then(Value::as_str) {
        facts.set("algorithm", alg);
    }
    for (claim, key) in [("iss", "issuer"), ("sub", "subject"), ("jti", "token_id")] {
        if let Some(v) = jwt.str_claim(claim) {
            facts.set(key, v);
        }
    }
    let aud = jwt.audience();
    if !aud.is_empty() {
        facts.set("audience", aud);
    }
    time_facts(jwt, now, &mut facts);
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn parses_and_reads_claims() {
        let t = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(r#"{"sub":"u","iss":"me","aud":["a","b"],"exp":10,"iat":5}"#),
            b64("sig")
        );
        let jwt = Jwt::parse(t.as_bytes()).expect("parses");
        assert_eq!(jwt.str_claim("sub"), Some("u"));
        assert_eq!(jwt.audience(), vec!["a", "b"]);
        let f = generic_facts(&jwt, 100);
        assert!(f.flags.contains(&Flag::Expired));
        assert_eq!(f.fields["issuer"], "me");
    }

    #[test]
    fn rejects_non_jwts() {
        assert!(Jwt::parse(b"abc.def.ghi").is_none());
        assert!(Jwt::parse(format!("{}.{}.x", b64("{}"), b64("{}")).as_bytes()).is_none());
        assert!(Jwt::parse(b"").is_none());
    }
}
