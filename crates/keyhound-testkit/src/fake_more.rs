//! More fake credentials: a small shape language for prefixed random tokens, and generators
//! for formats with structure (checksums, base64 JSON, DER, armor) that a shape cannot say.
//! Every value is random and deterministic in its seed, so it is live nowhere.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::fake::{ALNUM, B64URL, HEX, Rng};

fn class(name: &str) -> Option<Vec<u8>> {
    let named: &[u8] = match name {
        "a" => ALNUM,
        "l" => b"abcdefghijklmnopqrstuvwxyz0123456789",
        "u" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "L" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "lo" => b"abcdefghijklmnopqrstuvwxyz",
        "up" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "h" => HEX,
        "H" => b"0123456789ABCDEF",
        "d" => b"0123456789",
        "b" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "B" => B64URL,
        "32" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "32l" => b"abcdefghijklmnopqrstuvwxyz234567",
        "58" => crate::fake::BASE58,
        "p" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%+-_=",
        _ => {
            // A bracket set with ranges: [a-p], [aq], [A-Za-z0-9_~.-]
            let inner = name.strip_prefix('[')?.strip_suffix(']')?.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < inner.len() {
                if i + 2 < inner.len() && inner[i + 1] == b'-' {
                    out.extend(inner[i]..=inner[i + 2]);
                    i += 3;
                } else {
                    out.push(inner[i]);
                    i += 1;
                }
            }
            return (!out.is_empty()).then_some(out);
        }
    };
    Some(named.to_vec())
}

fn uuid(rng: &mut Rng) -> String {
    let h = rng.string(HEX, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

/// A token from a shape: literal text with `{CLASS:LEN}` (or `{CLASS:MIN-MAX}`) random runs
/// and `{uuid}`. Classes: `a` alphanumerics, `l` lowercase alphanumerics, `u` uppercase
/// alphanumerics, `L` letters, `lo`/`up` lowercase/uppercase letters, `h`/`H` hex, `d`
/// digits, `b` base64, `B` base64url, `32`/`32l` base32, `58` base58, `p` password
/// characters, or a bracket set such as `[a-p]`. `None` when the shape does not parse.
///
/// ```
/// let t = keyhound_testkit::fake_more::shaped("dop_v1_{h:64}", 1).expect("valid shape");
/// assert!(t.starts_with("dop_v1_") && t.len() == 71);
/// ```
pub fn shaped(shape: &str, seed: u64) -> Option<String> {
    let mut rng = Rng::new(seed ^ 0x5ba9e);
    let mut out = String::new();
    let mut rest = shape;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let spec = &rest[open + 1..close];
        if spec == "uuid" {
            out.push_str(&uuid(&mut rng));
        } else {
            let (name, len) = spec.rsplit_once(':')?;
            let alphabet = class(name)?;
            let n = match len.split_once('-') {
                Some((lo, hi)) => {
                    let (lo, hi): (u64, u64) = (lo.parse().ok()?, hi.parse().ok()?);
                    (lo + rng.below(hi.checked_sub(lo)? + 1)) as usize
                }
                None => len.parse().ok()?,
            };
            out.push_str(&rng.string(&alphabet, n));
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// A JWT with the given header and claims and a random 256-byte signature.
pub fn jwt(seed: u64, header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let mut rng = Rng::new(seed ^ 0x1a7);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(rng.bytes(256))
    )
}

/// A Kubernetes service-account token: legacy (secret-based, `kubernetes/serviceaccount`
/// issuer) for even seeds, bound (issuer is the API server) for odd ones.
pub fn kubernetes_service_account_token(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x6b8);
    let ns = *rng.pick(&["ci", "default", "kube-system", "deploy", "monitoring"]);
    let name = *rng.pick(&["deployer", "builder", "argocd-manager", "jenkins", "runner"]);
    let uid = uuid(&mut rng);
    let header = serde_json::json!({"alg": "RS256", "kid": rng.string(B64URL, 43)});
    let claims = if seed % 2 == 0 {
        serde_json::json!({
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": ns,
            "kubernetes.io/serviceaccount/secret.name": format!("{name}-token-{}", rng.string(b"bcdfghjklmnpqrstvwxz2456789", 5)),
            "kubernetes.io/serviceaccount/service-account.name": name,
            "kubernetes.io/serviceaccount/service-account.uid": uid,
            "sub": format!("system:serviceaccount:{ns}:{name}"),
        })
    } else {
        serde_json::json!({
            "aud": ["https://kubernetes.default.svc.cluster.local"],
            "exp": 1_798_761_600, "iat": 1_767_225_600, "nbf": 1_767_225_600,
            "iss": "https://kubernetes.default.svc.cluster.local",
            "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name, "uid": uid}},
            "sub": format!("system:serviceaccount:{ns}:{name}"),
        })
    };
    jwt(seed, &header, &claims)
}

/// An access token issued by an identity provider tenant, e.g. `https://acme.auth0.com/` or
/// `https://acme.okta.com/oauth2/default`.
pub fn idp_access_token(seed: u64, issuer: &str, audience: &str) -> String {
    let mut rng = Rng::new(seed ^ 0x1d9);
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": rng.string(B64URL, 22)});
    let claims = serde_json::json!({
        "iss": issuer, "sub": format!("{}@clients", rng.string(ALNUM, 32)), "aud": audience,
        "iat": 1_767_225_600, "exp": 1_798_761_600, "scope": "read:users update:users create:clients",
        "gty": "client-credentials",
    });
    jwt(seed, &header, &claims)
}

/// A Discord bot token: base64 of the bot's numeric id, a timestamp, an HMAC.
pub fn discord_bot_token(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0xd15c);
    let digits = 17 + rng.below(2) as usize;
    let id = format!("1{}", rng.string(b"0123456789", digits));
    format!(
        "{}.{}.{}",
        STANDARD_NO_PAD.encode(id),
        rng.string(B64URL, 6),
        rng.string(B64URL, 38)
    )
}

/// An age X25519 identity: `AGE-SECRET-KEY-1` and the Bech32 encoding of 32 random bytes
/// with its checksum.
pub fn age_secret_key(seed: u64) -> String {
    let data = Rng::new(seed ^ 0xa9e).bytes(32);
    bech32_encode("age-secret-key-", &data).to_uppercase()
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

/// Bech32 (BIP 173) of `data` under `hrp`, lowercase.
pub fn bech32_encode(hrp: &str, data: &[u8]) -> String {
    let mut groups = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            groups.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        groups.push(((acc << (5 - bits)) & 31) as u8);
    }
    let mut values: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|c| c & 31));
    values.extend(&groups);
    values.extend([0u8; 6]);
    let sum = bech32_polymod(&values) ^ 1;
    let mut out = format!("{hrp}1");
    for g in groups {
        out.push(char::from(BECH32[g as usize]));
    }
    for i in 0..6 {
        out.push(char::from(BECH32[((sum >> (5 * (5 - i))) & 31) as usize]));
    }
    out
}

/// CRC-24 of OpenPGP ASCII armor (RFC 4880, section 6.1).
pub fn crc24(data: &[u8]) -> u32 {
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

/// An ASCII-armored OpenPGP secret key: a version-4 Secret-Key packet (RSA or EdDSA) with
/// random key material, armor headers, and the CRC-24 checksum line.
pub fn pgp_private_key(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x9a9);
    let algorithm = if seed % 2 == 0 { 1u8 } else { 22u8 };
    let body_len = if algorithm == 1 { 900 } else { 120 };
    let mut body = vec![4u8];
    body.extend(rng.bytes(4)); // creation time
    body.push(algorithm);
    body.extend(rng.bytes(body_len));
    // New-format packet header, tag 5 (Secret-Key), two-octet length.
    let len = body.len();
    let mut packet = if len < 192 {
        vec![0xc5, len as u8]
    } else {
        vec![
            0xc5,
            (((len - 192) >> 8) + 192) as u8,
            ((len - 192) & 0xff) as u8,
        ]
    };
    packet.extend(body);
    let b64 = STANDARD.encode(&packet);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    let crc = crc24(&packet).to_be_bytes();
    let comment = if seed % 3 == 0 {
        "Comment: ci-signing@acme.example\n"
    } else {
        ""
    };
    format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n{comment}\n{}\n={}\n-----END PGP PRIVATE KEY BLOCK-----\n",
        lines.join("\n"),
        STANDARD.encode(&crc[1..])
    )
}

fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=0x7f => vec![n as u8],
        0x80..=0xff => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend(content);
    out
}

/// A PKCS#12 (PFX) file in base64: version 3, an authSafe of type pkcs7-data with random
/// content, and a MAC. The DER structure is real; the contents are noise.
pub fn pkcs12_base64(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x12);
    const DATA_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    let size = 600 + rng.below(400) as usize;
    let octets = der(0x04, &rng.bytes(size));
    let mut auth_safe = der(0x06, &DATA_OID);
    auth_safe.extend(der(0xa0, &octets));
    let auth_safe = der(0x30, &auth_safe);
    let mac = der(0x30, &rng.bytes(60));
    let mut pfx = der(0x02, &[3]);
    pfx.extend(auth_safe);
    pfx.extend(mac);
    // Real files use the long length form even for the outer sequence.
    let mut out = vec![0x30, 0x82, (pfx.len() >> 8) as u8, pfx.len() as u8];
    out.extend(pfx);
    STANDARD.encode(out)
}

/// A 1Password service-account token: `ops_` and base64 JSON.
pub fn onepassword_service_account_token(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x1f);
    let json = serde_json::json!({
        "signInAddress": "my.1password.com",
        "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 650_000, "salt": rng.string(B64URL, 22)},
        "email": format!("{}@1passwordserviceaccounts.com", rng.string(b"abcdefghijklmnopqrstuvwxyz234567", 26)),
        "srpX": rng.string(HEX, 64),
        "muk": {"alg": "A256GCM", "ext": true, "k": rng.string(B64URL, 43), "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"},
        "secretKey": format!("A3-{}-{}-{}", rng.string(b"ABCDEFGHJKLMNPQRSTVWXYZ23456789", 6), rng.string(b"ABCDEFGHJKLMNPQRSTVWXYZ23456789", 6), rng.string(b"ABCDEFGHJKLMNPQRSTVWXYZ23456789", 5)),
        "throttleSecret": {"seed": rng.string(HEX, 64), "uuid": rng.string(b"abcdefghijklmnopqrstuvwxyz234567", 26)},
        "deviceUuid": rng.string(b"abcdefghijklmnopqrstuvwxyz234567", 26),
    });
    format!("ops_{}", STANDARD_NO_PAD.encode(json.to_string()))
}

/// A Sentry organization auth token: `sntrys_`, base64 JSON claims, `_`, a 43-character
/// secret.
pub fn sentry_org_token(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x5e);
    let org = *rng.pick(&["acme", "globex", "initech", "hooli", "umbrella-corp"]);
    let json = format!(
        r#"{{"iat":1767225600.{},"url":"https://sentry.io","region_url":"https://us.sentry.io","org":"{org}"}}"#,
        rng.string(b"0123456789", 6)
    );
    format!(
        "sntrys_{}_{}",
        STANDARD_NO_PAD.encode(json),
        rng.string(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            43
        )
    )
}

/// A Cloudflare Tunnel token (`cloudflared tunnel run --token`): base64 JSON with the
/// account tag, tunnel id and tunnel secret.
pub fn cloudflare_tunnel_token(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0xcf);
    let json = format!(
        r#"{{"a":"{}","t":"{}","s":"{}"}}"#,
        rng.string(HEX, 32),
        uuid(&mut rng),
        STANDARD.encode(rng.bytes(32))
    );
    STANDARD.encode(json)
}

fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn macaroon_field(kind: u8, data: &[u8], out: &mut Vec<u8>) {
    out.push(kind);
    varint(data.len(), out);
    out.extend(data);
}

/// A PyPI-style API token: `pypi-` and a base64url macaroon (v2 binary format) whose
/// location is `location`, identifier a UUID, with one caveat and a 32-byte signature.
pub fn pypi_macaroon(location: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut m = vec![0x02];
    macaroon_field(0x01, location.as_bytes(), &mut m);
    macaroon_field(0x02, uuid(&mut rng).as_bytes(), &mut m);
    m.push(0x00);
    let caveat = if seed % 2 == 0 {
        r#"{"version": 1, "permissions": "user"}"#.to_owned()
    } else {
        format!(
            r#"[1,["{}"]]"#,
            rng.pick(&["acme-tools", "hooli-sdk", "initech"])
        )
    };
    macaroon_field(0x02, caveat.as_bytes(), &mut m);
    m.push(0x00);
    m.push(0x00);
    macaroon_field(0x06, &rng.bytes(32), &mut m);
    format!("pypi-{}", URL_SAFE_NO_PAD.encode(m))
}

/// A PuTTY private key file (PPK version 3, ed25519), without a passphrase for odd seeds.
pub fn putty_private_key(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x9e7);
    let encryption = if seed % 2 == 1 { "none" } else { "aes256-cbc" };
    let mut public = b"\0\0\0\x0bssh-ed25519\0\0\0\x20".to_vec();
    public.extend(rng.bytes(32));
    let public = STANDARD.encode(public);
    let private = STANDARD.encode(rng.bytes(48));
    format!(
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: {encryption}\nComment: deploy@acme\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: 1\n{private}\nPrivate-MAC: {}",
        &public[..64],
        &public[64..],
        rng.string(HEX, 64)
    )
}

/// A private key in the SSH.com (RFC 4716 style, Tectia) format.
pub fn ssh2_private_key(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x552);
    let mut der = vec![0x3f, 0x6f, 0xf9, 0xeb];
    der.extend(rng.bytes(600));
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(70)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"rsa-key-20260101\"\n{}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----",
        lines.join("\n")
    )
}

/// A WireGuard (Curve25519) private key in base64.
pub fn wireguard_private_key(seed: u64) -> String {
    let mut key = Rng::new(seed ^ 0x3c).bytes(32);
    key[0] &= 248;
    key[31] = (key[31] & 127) | 64;
    STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(shaped("x{h:4}y", 1).map(|s| s.len()), Some(6));
        let t = shaped("oy2{[a-p]:1}{l:15}", 2).expect("parses");
        assert!(t.starts_with("oy2") && (b'a'..=b'p').contains(&t.as_bytes()[3]));
        let u = shaped("{uuid}", 3).expect("parses");
        assert_eq!(u.len(), 36);
        let r = shaped("{a:10-12}", 4).expect("parses");
        assert!((10..=12).contains(&r.len()));
        assert!(shaped("{zz:3}", 1).is_none());
        assert_ne!(shaped("{a:20}", 1), shaped("{a:20}", 2));
    }

    #[test]
    fn bech32_known_vector() {
        // BIP 173 test vector: an empty data part.
        assert_eq!(bech32_encode("a", &[]), "a12uel5l");
        assert!(age_secret_key(1).starts_with("AGE-SECRET-KEY-1"));
        assert_eq!(age_secret_key(1).len(), 74);
    }

    #[test]
    fn crc24_known_vector() {
        // CRC-24/OPENPGP check value for "123456789".
        assert_eq!(crc24(b"123456789"), 0x21cf02);
    }

    #[test]
    fn structured_prefixes() {
        assert!(pkcs12_base64(1)[6..].starts_with("IBAzCC"));
        assert!(cloudflare_tunnel_token(1).starts_with("eyJhIjoi"));
        assert!(sentry_org_token(1).starts_with("sntrys_eyJpYXQiO"));
        assert!(onepassword_service_account_token(1).starts_with("ops_eyJ"));
        assert!(pypi_macaroon("pypi.org", 1).starts_with("pypi-AgEIcHlwaS5vcmc"));
        let d = discord_bot_token(1);
        assert_eq!(d.split('.').count(), 3);
        assert!(pgp_private_key(1).contains("\n="));
    }
}
