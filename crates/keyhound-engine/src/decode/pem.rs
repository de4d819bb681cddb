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
    // Keys embedded in JSON or code carry literal `\n` (or `\r\n`) escapes instead of line
    // breaks. Turn them into real ones first, so that the escape's `n` never sticks to the
    // base64 that follows it.
    let inner = text[body_start..end]
        .replace("\\r", "")
        .replace("\\n", "\n");
    let mut body = String::new();
    for line in inner.lines() {
        let line = line
            .trim()
            .trim_matches(|c| c == '"' || c == '\\' || c == ',')
            .trim();
        if line.contains(':') {
            // RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED`.
            encrypted |= line.contains("ENCRYPTED");
            continue;
        }
        body.push_str(line);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use keyhound_testkit::fake;

    fn field(facts: &Facts, name: &str) -> String {
        facts.fields[name].to_string()
    }

    #[test]
    fn multi_line_keys() {
        for (label, key_type) in [
            ("RSA PRIVATE KEY", "\"RSA\""),
            ("EC PRIVATE KEY", "\"EC\""),
            ("PRIVATE KEY", "\"PKCS#8\""),
            ("ENCRYPTED PRIVATE KEY", "\"PKCS#8 (encrypted)\""),
            ("OPENSSH PRIVATE KEY", "\"OPENSSH\""),
        ] {
            let pem = fake::private_key(label, 3);
            let facts = private_key(pem.trim_end().as_bytes()).expect(label);
            assert_eq!(field(&facts, "key_type"), key_type);
        }
    }

    #[test]
    fn json_escaped_key() {
        // A GCP service-account file: the PEM is one JSON string with `\n` escapes.
        let pem = fake::private_key("PRIVATE KEY", 4);
        let escaped = pem.trim_end().replace('\n', "\\n");
        assert!(!escaped.contains('\n'));
        let facts = private_key(escaped.as_bytes()).expect("escaped key decodes");
        assert_eq!(field(&facts, "key_type"), "\"PKCS#8\"");
        let crlf = pem.trim_end().replace('\n', "\\r\\n");
        assert!(private_key(crlf.as_bytes()).is_some());
    }

    #[test]
    fn encryption_is_detected() {
        let legacy = fake::private_key_legacy_encrypted("RSA PRIVATE KEY", 5);
        let facts = private_key(legacy.trim_end().as_bytes()).expect("legacy encrypted");
        assert_eq!(field(&facts, "encrypted"), "true");
        let ssh = fake::openssh_private_key_encrypted(6);
        let facts = private_key(ssh.trim_end().as_bytes()).expect("encrypted openssh");
        assert_eq!(field(&facts, "encrypted"), "true");
        let plain = fake::private_key("OPENSSH PRIVATE KEY", 6);
        let facts = private_key(plain.trim_end().as_bytes()).expect("plain openssh");
        assert_eq!(field(&facts, "encrypted"), "false");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = private_key(&bytes);
        }

        #[test]
        fn never_panics_between_markers(body in "[ -~\n\\\\é]{0,300}") {
            let text =
                format!("-----BEGIN RSA PRIVATE KEY-----{body}-----END RSA PRIVATE KEY-----");
            let _ = private_key(text.as_bytes());
        }
    }

    #[test]
    fn rejects_bodies_that_are_not_keys() {
        for text in [
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nno end marker",
        ] {
            assert!(private_key(text.as_bytes()).is_none(), "{text}");
        }
        // An OpenSSH header over a PKCS#1 body lacks the openssh-key-v1 magic.
        let rsa = fake::private_key("RSA PRIVATE KEY", 7).replace("RSA", "OPENSSH");
        assert!(private_key(rsa.trim_end().as_bytes()).is_none());
    }
}
