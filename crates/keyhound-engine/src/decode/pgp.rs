//! OpenPGP secret keys in ASCII armor (RFC 4880 / RFC 9580): the body must decode to a
//! Secret-Key packet, and when the armor carries its CRC-24 checksum line, the checksum must
//! hold.

use super::base64_any;
use crate::facts::Facts;

fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00b7_04ce;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4cfb;
            }
        }
    }
    crc & 0x00ff_ffff
}

fn algorithm(id: u8) -> &'static str {
    match id {
        1..=3 => "RSA",
        16 => "ElGamal",
        17 => "DSA",
        18 => "ECDH",
        19 => "ECDSA",
        22 => "EdDSA",
        25 => "X25519",
        27 => "Ed25519",
        28 => "X448",
        29 => "Ed448",
        _ => "unknown",
    }
}

/// A `-----BEGIN PGP PRIVATE KEY BLOCK-----` block.
pub(super) fn private_key(secret: &[u8]) -> Option<Facts> {
    let text = std::str::from_utf8(secret).ok()?;
    let begin = text.find("-----BEGIN PGP PRIVATE KEY BLOCK-----")? + 37;
    let end = text[begin..].find("-----END PGP PRIVATE KEY BLOCK-----")? + begin;
    // Keys pasted into JSON or code carry `\n` escapes instead of line breaks.
    let inner = text[begin..end].replace("\\r", "").replace("\\n", "\n");
    let lines: Vec<&str> = inner
        .lines()
        .map(|l| l.trim().trim_matches(|c| c == '"' || c == '\\' || c == ','))
        .skip_while(|l| l.is_empty())
        .collect();
    // Armor headers (`Version: …`, `Comment: …`) end at the first blank line.
    let has_headers = lines.first().is_some_and(|l| l.contains(": "));
    let mut body = String::new();
    let mut checksum = None;
    let mut in_headers = has_headers;
    for line in lines {
        if in_headers {
            if line.is_empty() {
                in_headers = false;
            }
            continue;
        }
        if let Some(sum) = line.strip_prefix('=').filter(|s| s.len() == 4) {
            checksum = Some(sum);
            continue;
        }
        body.push_str(line);
    }
    let packets = base64_any(body.as_bytes())?;
    if let Some(sum) = checksum {
        let sum = base64_any(sum.as_bytes())?;
        let expected = sum.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
        if sum.len() != 3 || crc24(&packets) != expected {
            return None;
        }
    }
    let tag_byte = *packets.first()?;
    if tag_byte & 0x80 == 0 {
        return None;
    }
    let (tag, header_len) = if tag_byte & 0x40 != 0 {
        let len_len = match *packets.get(1)? {
            0..=191 => 1,
            192..=223 => 2,
            255 => 5,
            _ => 1,
        };
        (tag_byte & 0x3f, 1 + len_len)
    } else {
        (
            (tag_byte >> 2) & 0x0f,
            1 + [1, 2, 4, 0][usize::from(tag_byte & 3)],
        )
    };
    // 5: Secret-Key; 7: Secret-Subkey (exported subkeys only).
    if tag != 5 && tag != 7 {
        return None;
    }
    let version = *packets.get(header_len)?;
    if !(3..=6).contains(&version) {
        return None;
    }
    let mut facts = Facts::kind("private_key");
    facts.set("key_type", "OpenPGP");
    if version >= 4 {
        facts.set("algorithm", algorithm(*packets.get(header_len + 5)?));
    }
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyhound_testkit::fake_more;

    #[test]
    fn armored_keys_with_checksums() {
        for seed in 0..6 {
            let key = fake_more::pgp_private_key(seed);
            let facts = private_key(key.as_bytes()).expect("decodes");
            let algo = facts.fields["algorithm"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(algo == "RSA" || algo == "EdDSA", "{algo}");
        }
    }

    #[test]
    fn json_escaped_key() {
        let key = fake_more::pgp_private_key(2).replace('\n', "\\n");
        assert!(private_key(key.as_bytes()).is_some());
    }

    #[test]
    fn broken_checksum_or_public_key_is_rejected() {
        let key = fake_more::pgp_private_key(1);
        let at = key.find("\n=").expect("checksum line") + 2;
        let mut bad = key.clone().into_bytes();
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        assert!(private_key(&bad).is_none());
        // A public key packet (tag 6) in a private-key block.
        let fake_public = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nmDMEZ0000BYJKwYBBAHaRw8BAQdA\n-----END PGP PRIVATE KEY BLOCK-----";
        assert!(private_key(fake_public.as_bytes()).is_none());
    }
}
