//! PEM and OpenSSH private keys: the body must decode, and we note the key type and whether
//! it is encrypted (an encrypted key still leaks, but needs its passphrase).

use super::base64_any;
use crate::facts::Facts;

/// A `-----BEGIN … PRIVATE KEY-----` block whose body decodes to a plausible key.
pub(super) fn private_key(secret: &[u8]) -> Option<Facts> {
    let text = std::str::from_utf8(secret).ok()?;
    let begin = text.find("-----BEGIN ")?;
    let label_end = text[begin + 11..].find("-----")? + begin + 11;
    let label = &text[begin + 11..label_end];
    let body_start = label_end + 5;
    let end = text[body_start..].find("-----END ")? + body_start;
    let mut encrypted = label.contains("ENCRYPTED");
    let mut body = String::new();
    for line in text[body_start..end].lines() {
        let line = line
            .trim()
            .trim_matches(|c| c == '"' || c == '\\' || c == ',');
        let line = line.trim_end_matches("\\n").trim();
        if line.contains(':') {
            // RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED`.
            encrypted |= line.contains("ENCRYPTED");
            continue;
        }
        body.push_str(line);
    }
    // Keys embedded in JSON or code carry literal `\n` sequences instead of newlines.
    let body = body.replace("\\n", "");
    let der = base64_any(body.as_bytes())?;
    if der.len() < 32 {
        return None;
    }
    let key_type = label.trim_end_matches("PRIVATE KEY").trim();
    let key_type = match key_type {
        "" => "PKCS#8",
        "ENCRYPTED" => "PKCS#8 (encrypted)",
        other => other,
    };
    if key_type == "OPENSSH" {
        let magic = b"openssh-key-v1\0";
        if !der.starts_with(magic) {
            return None;
        }
        let rest = &der[magic.len()..];
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let cipher = rest.get(4..4 + len)?;
        encrypted |= cipher != b"none";
    }
    let mut facts = Facts::kind("private_key");
    facts.set("key_type", key_type);
    facts.set("encrypted", encrypted);
    Some(facts)
}
