//! Tokens whose body has a documented structure: base64 JSON (1Password, Sentry, Cloudflare
//! Tunnel), a base64 numeric id (Discord), Bech32 with a checksum (age), DER (PKCS#12),
//! macaroons (PyPI) and GitLab's routable tokens (CRC32). Each check rejects random
//! look-alikes for free and most yield facts.

use serde_json::{Map, Value};

use super::base64_any;
use crate::facts::Facts;

fn json_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice(&base64_any(bytes)?).ok()
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// A Discord bot token: the first segment is base64 of the bot's numeric user id.
pub(super) fn discord_bot_token(secret: &[u8]) -> Option<Facts> {
    let first = secret.split(|&b| b == b'.').next()?;
    let id = base64_any(first)?;
    if !(17..=20).contains(&id.len()) || !id.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut facts = Facts::kind("discord_bot_token");
    facts.set("bot_user_id", String::from_utf8_lossy(&id).into_owned());
    Some(facts)
}

/// A 1Password service-account token: `ops_` and base64 JSON naming the sign-in address.
pub(super) fn onepassword_service_account(secret: &[u8]) -> Option<Facts> {
    let obj = json_object(secret.strip_prefix(b"ops_")?)?;
    let address = str_field(&obj, "signInAddress")?;
    if !["secretKey", "srpX", "muk"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return None;
    }
    let mut facts = Facts::kind("service_account_token");
    facts.set("sign_in_address", address);
    if let Some(email) = str_field(&obj, "email") {
        facts.set("user", email);
    }
    Some(facts)
}

/// A Sentry organization auth token: `sntrys_`, base64 JSON claims (`iat`, `url`, `org`),
/// `_` and the secret.
pub(super) fn sentry_org_token(secret: &[u8]) -> Option<Facts> {
    let body = secret.strip_prefix(b"sntrys_")?;
    let split = body.iter().rposition(|&b| b == b'_')?;
    let obj = json_object(&body[..split])?;
    obj.get("iat")?;
    let org = str_field(&obj, "org")?;
    let mut facts = Facts::kind("org_auth_token");
    facts.set("organization", org);
    for (key, fact) in [("url", "url"), ("region_url", "region_url")] {
        if let Some(v) = str_field(&obj, key) {
            facts.set(fact, v);
        }
    }
    Some(facts)
}

/// A Cloudflare Tunnel token: base64 JSON with the account tag `a` (32 hex), tunnel id `t`
/// and tunnel secret `s`.
pub(super) fn cloudflare_tunnel_token(secret: &[u8]) -> Option<Facts> {
    let obj = json_object(secret)?;
    let account = str_field(&obj, "a")?;
    let tunnel = str_field(&obj, "t")?;
    str_field(&obj, "s")?;
    if account.len() != 32 || !account.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut facts = Facts::kind("tunnel_token");
    facts.set("account_tag", account);
    facts.set("tunnel_id", tunnel);
    Some(facts)
}

const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// True when `text` is valid Bech32 (BIP 173): one case, a known alphabet, a good checksum.
fn bech32_valid(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    if text != lower.as_slice() && text != text.to_ascii_uppercase().as_slice() {
        return false;
    }
    let Some(sep) = lower.iter().rposition(|&b| b == b'1') else {
        return false;
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let mut values: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.iter().map(|c| c & 31));
    for c in data {
        match BECH32.iter().position(|x| x == c) {
            Some(v) => values.push(v as u8),
            None => return false,
        }
    }
    bech32_polymod(&values) == 1
}

/// An age X25519 identity (`AGE-SECRET-KEY-1…`) with a valid Bech32 checksum.
pub(super) fn age_secret_key(secret: &[u8]) -> Option<Facts> {
    (secret.len() == 74 && bech32_valid(secret)).then(|| Facts::kind("age_identity"))
}

/// Reads a DER tag and length at `at`; returns (tag, content start, content end).
fn der_header(der: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let tag = *der.get(at)?;
    let first = *der.get(at + 1)?;
    let (len, start) = if first < 0x80 {
        (usize::from(first), at + 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return None;
        }
        let bytes = der.get(at + 2..at + 2 + n)?;
        (
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
            at + 2 + n,
        )
    };
    Some((tag, start, start.checked_add(len)?))
}

/// A PKCS#12 (PFX) file in base64: SEQUENCE { INTEGER 3, ContentInfo of type data or
/// signedData, ... }.
pub(super) fn pkcs12(secret: &[u8]) -> Option<Facts> {
    const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    const SIGNED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let der = base64_any(secret)?;
    let (tag, body, end) = der_header(&der, 0)?;
    // The whole file may be cut short in the text (a truncated paste); the header must not
    // claim more than a few bytes past what is there.
    if tag != 0x30 || end > der.len() + 4 {
        return None;
    }
    if der.get(body..body + 3)? != [0x02, 0x01, 0x03] {
        return None;
    }
    let (tag, info, _) = der_header(&der, body + 3)?;
    let (oid_tag, oid_start, oid_end) = der_header(&der, info)?;
    let oid = der.get(oid_start..oid_end)?;
    if tag != 0x30 || oid_tag != 0x06 || (oid != DATA && oid != SIGNED) {
        return None;
    }
    let mut facts = Facts::kind("pkcs12");
    facts.set("bytes", der.len());
    Some(facts)
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut n = 0usize;
    for shift in (0..35).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// Reads macaroon v2 fields until an end-of-section byte: (type, data) pairs.
fn macaroon_section<'a>(m: &'a [u8], at: &mut usize) -> Option<Vec<(u8, &'a [u8])>> {
    let mut fields = Vec::new();
    loop {
        let kind = *m.get(*at)?;
        *at += 1;
        if kind == 0 {
            return Some(fields);
        }
        let len = varint(m, at)?;
        fields.push((kind, m.get(*at..*at + len)?));
        *at += len;
    }
}

/// A PyPI API token: `pypi-` and a base64url macaroon in the v2 binary format, with the
/// index as its location, caveats, and a 32-byte signature.
pub(super) fn pypi_token(secret: &[u8]) -> Option<Facts> {
    let m = base64_any(secret.strip_prefix(b"pypi-")?)?;
    if m.first() != Some(&2) {
        return None;
    }
    let mut at = 1;
    let head = macaroon_section(&m, &mut at)?;
    let location = head.iter().find(|(k, _)| *k == 1).map(|(_, v)| *v)?;
    head.iter().find(|(k, _)| *k == 2)?;
    let mut scope = "account";
    let mut projects = Vec::new();
    loop {
        let caveat = macaroon_section(&m, &mut at)?;
        if caveat.is_empty() {
            break;
        }
        for (_, data) in caveat.iter().filter(|(k, _)| *k == 2) {
            match serde_json::from_slice::<Value>(data) {
                // Current caveats: [1, ["project", ...]] restricts to projects.
                Ok(Value::Array(items)) if items.first() == Some(&Value::from(1)) => {
                    scope = "projects";
                    if let Some(Value::Array(names)) = items.get(1) {
                        projects.extend(names.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                }
                // Legacy caveats: {"permissions": {"projects": [...]}} or "user".
                Ok(Value::Object(obj)) => {
                    if let Some(Value::Object(p)) = obj.get("permissions") {
                        scope = "projects";
                        if let Some(Value::Array(names)) = p.get("projects") {
                            projects
                                .extend(names.iter().filter_map(Value::as_str).map(str::to_owned));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let (kind, len) = (*m.get(at)?, {
        at += 1;
        varint(&m, &mut at)?
    });
    if kind != 6 || len != 32 || m.len() != at + 32 {
        return None;
    }
    let mut facts = Facts::kind("pypi_api_token");
    facts.set("index", String::from_utf8_lossy(location).into_owned());
    facts.set("scope", scope);
    if !projects.is_empty() {
        facts.set("projects", projects);
    }
    Some(facts)
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("base36 is ASCII")
}

/// A GitLab token. Routable tokens (GitLab 17.x+, with dots) end in the base36 CRC32 of
/// everything before it and carry a routing payload (`o:` organization, `u:` user, base36);
/// legacy tokens have no structure to check.
pub(super) fn gitlab_token(secret: &[u8]) -> Option<Facts> {
    let text = std::str::from_utf8(secret).ok()?;
    let dash = text.find(['-', '_']).map_or(0, |i| i + 1);
    let kind = match &text[..dash.min(text.len())] {
        "glpat-" => "personal_access_token",
        "gldt-" => "deploy_token",
        "glrt-" => "runner_authentication_token",
        "glptt-" => "pipeline_trigger_token",
        "glagent-" => "agent_token",
        "glft-" => "feed_token",
        "glimt-" => "incoming_mail_token",
        "glffct-" => "feature_flags_client_token",
        "glsoat-" => "scim_token",
        "glcbt-" => "ci_job_token",
        "gloas-" => "oauth_application_secret",
        _ => "token",
    };
    let mut facts = Facts::kind(kind);
    if !text.contains('.') {
        return Some(facts);
    }
    if text.len() < 8 {
        return None;
    }
    let (head, crc) = text.split_at(text.len() - 7);
    if format!(
        "{:0>7}",
        base36(u64::from(crc32fast::hash(head.as_bytes())))
    ) != crc
    {
        return None;
    }
    facts.set("routable", true);
    let body = head[dash..].split('.').next()?;
    let body = body.strip_prefix("t1_").unwrap_or(body);
    if let Some(raw) = base64_any(body.as_bytes()) {
        let n = usize::from(*raw.last()?);
        if let Some(payload) = raw
            .len()
            .checked_sub(1 + n)
            .and_then(|s| raw.get(s..raw.len() - 1))
        {
            for line in String::from_utf8_lossy(payload).lines() {
                let value = |v: &str| u64::from_str_radix(v, 36).ok();
                match line.split_once(':') {
                    Some(("o", v)) => {
                        if let Some(id) = value(v) {
                            facts.set("organization_id", id);
                        }
                    }
                    Some(("u", v)) => {
                        if let Some(id) = value(v) {
                            facts.set("user_id", id);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyhound_testkit::{fake, fake_more};

    #[test]
    fn discord() {
        let t = fake_more::discord_bot_token(3);
        let f = discord_bot_token(t.as_bytes()).expect("decodes");
        assert!(
            f.fields["bot_user_id"]
                .as_str()
                .is_some_and(|s| s.len() >= 18)
        );
        assert!(discord_bot_token(b"TWFuIGlzIGRpc3Rpbmd1aXNoZWQ.abcdef.xyz").is_none());
    }

    #[test]
    fn onepassword_sentry_cloudflare() {
        let op = fake_more::onepassword_service_account_token(1);
        let f = onepassword_service_account(op.as_bytes()).expect("1password");
        assert_eq!(f.fields["sign_in_address"], "my.1password.com");
        let s = fake_more::sentry_org_token(2);
        let f = sentry_org_token(s.as_bytes()).expect("sentry");
        assert!(f.fields.contains_key("organization"));
        let c = fake_more::cloudflare_tunnel_token(3);
        let f = cloudflare_tunnel_token(c.as_bytes()).expect("cloudflare");
        assert_eq!(f.fields["account_tag"].as_str().map(str::len), Some(32));
        // Base64 JSON of another shape is rejected.
        assert!(cloudflare_tunnel_token(b"eyJhIjoieCJ9").is_none());
        assert!(onepassword_service_account(b"ops_eyJhIjoieCJ9").is_none());
    }

    #[test]
    fn age_checksum() {
        let key = fake_more::age_secret_key(4);
        assert!(age_secret_key(key.as_bytes()).is_some());
        let mut bad = key.into_bytes();
        bad[40] = if bad[40] == b'Q' { b'P' } else { b'Q' };
        assert!(age_secret_key(&bad).is_none());
    }

    #[test]
    fn pkcs12_structure() {
        let p = fake_more::pkcs12_base64(5);
        assert!(pkcs12(p.as_bytes()).is_some());
        // A base64 DER certificate starts like a PFX but has no version 3.
        assert!(
            pkcs12(b"MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTESMBAG")
                .is_none()
        );
    }

    #[test]
    fn pypi_macaroons() {
        let t = fake::pypi_token(2);
        let f = pypi_token(t.as_bytes()).expect("valid macaroon");
        assert_eq!(f.fields["index"], "pypi.org");
        assert_eq!(f.fields["scope"], "account");
        let t = fake::pypi_token_for("test.pypi.org", 3);
        let f = pypi_token(t.as_bytes()).expect("valid macaroon");
        assert_eq!(f.fields["scope"], "projects");
        // Right prefix, random tail: no macaroon structure.
        let mut random = "pypi-AgEIcHlwaS5vcmc".to_owned();
        random.push_str(&fake_more::shaped("{B:120}", 1).expect("shape"));
        assert!(pypi_token(random.as_bytes()).is_none());
    }

    #[test]
    fn gitlab_routable_checksum() {
        let t = fake::gitlab_routable_token("glpat-", 9);
        let f = gitlab_token(t.as_bytes()).expect("checksum holds");
        assert_eq!(f.fields["routable"], true);
        assert!(f.fields.contains_key("user_id"));
        let mut bad = t.clone().into_bytes();
        bad[10] = if bad[10] == b'A' { b'B' } else { b'A' };
        assert!(gitlab_token(&bad).is_none());
        assert!(gitlab_token(fake::gitlab_pat(1).as_bytes()).is_some());
    }
}
