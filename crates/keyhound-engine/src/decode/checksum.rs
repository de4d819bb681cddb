//! Tokens that carry a checksum or decodable structure: GitHub, npm, AWS access key ids.

use crate::facts::Facts;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `n` as 6 base62 digits, zero-padded (the GitHub and npm token checksum).
pub fn base62_checksum(n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    let mut v = u64::from(n);
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    out
}

/// `prefix` + 30 random characters + base62(CRC32(random)), 6 characters.
fn crc_token(secret: &[u8], prefix_len: usize) -> bool {
    let Some(body) = secret.get(prefix_len..) else {
        return false;
    };
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62_checksum(crc32fast::hash(random)) == check
}

/// GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` tokens with a valid CRC32 checksum.
/// <https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/>
pub(super) fn github(secret: &[u8]) -> Option<Facts> {
    let kind = match secret.get(..4)? {
        b"ghp_" => "personal_access_token",
        b"gho_" => "oauth_access_token",
        b"ghu_" => "user_to_server_token",
        b"ghs_" => "server_to_server_token",
        b"ghr_" => "refresh_token",
        _ => return None,
    };
    crc_token(secret, 4).then(|| Facts::kind(kind))
}

/// npm `npm_` tokens with a valid CRC32 checksum.
/// <https://github.blog/2021-09-23-announcing-npms-new-access-token-format/>
pub(super) fn npm(secret: &[u8]) -> Option<Facts> {
    (secret.starts_with(b"npm_") && crc_token(secret, 4)).then(|| Facts::kind("npm_access_token"))
}

fn base32_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buf, mut bits) = (0u64, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buf = (buf << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// An AWS access key id. Its account id is encoded in characters 5 to 16.
pub(super) fn aws_key_id(secret: &[u8]) -> Option<Facts> {
    if secret.len() != 20 {
        return None;
    }
    let kind = match &secret[..4] {
        b"AKIA" => "long_term_access_key",
        b"ASIA" => "temporary_access_key",
        b"ABIA" | b"ACCA" | b"AGPA" | b"AIDA" | b"AROA" | b"AIPA" | b"ANPA" | b"ANVA" | b"APKA" => {
            "access_key"
        }
        _ => return None,
    };
    let decoded = base32_decode(&secret[4..])?;
    let mut facts = Facts::kind(kind);
    if decoded.len() >= 6 {
        let z = decoded[..6]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let account = (z & 0x7fff_ffff_ff80) >> 7;
        facts.set("account_id", format!("{account:012}"));
    }
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(prefix: &str, random: &str) -> String {
        let sum = base62_checksum(crc32fast::hash(random.as_bytes()));
        format!(
            "{prefix}{random}{}",
            std::str::from_utf8(&sum).expect("ascii")
        )
    }

    #[test]
    fn github_checksum() {
        let t = token("ghp_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5");
        assert!(github(t.as_bytes()).is_some());
        let mut bad = t.into_bytes();
        bad[10] = if bad[10] == b'x' { b'y' } else { b'x' };
        assert!(github(&bad).is_none());
    }

    #[test]
    fn npm_checksum() {
        assert!(npm(token("npm_", "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0").as_bytes()).is_some());
        assert!(npm(b"npm_000000000000000000000000000000000000").is_none());
    }

    #[test]
    fn aws_account_id() {
        // Documented example from AWS: AKIAIOSFODNN7EXAMPLE belongs to no real account, but
        // the decoding is deterministic.
        let f = aws_key_id(b"ASIAY34FZKBOKMUTVV7A").expect("decodes");
        assert_eq!(f.fields["account_id"], "609629065308");
    }
}
