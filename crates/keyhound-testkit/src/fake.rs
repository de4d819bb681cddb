//! Fake credentials in real formats. Every generator is deterministic in its seed, so tests and
//! fixtures are reproducible, and every value is random, so it is live nowhere.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Letters and digits.
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Bitcoin-style base58 (no 0, O, I, l), the alphabet JFrog encrypted passwords use.
pub const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Lowercase hex.
pub const HEX: &[u8] = b"0123456789abcdef";
/// URL-safe base64 characters.
pub const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A small deterministic generator (SplitMix64). Not for cryptography; for fixtures only.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`; equal seeds give equal sequences.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(alphabet[self.below(alphabet.len() as u64) as usize]))
            .collect()
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A JFrog legacy API key: `AKCp` + a digit (2, 5 or 8, as seen in public samples) + 68
/// alphanumerics.
pub fn jfrog_api_key(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let digit = *rng.pick(&['2', '5', '8']);
    format!("AKCp{digit}{}", rng.string(ALNUM, 68))
}

/// A JFrog reference token: base64 of `reftkn:01:<expiry>:<27 alphanumerics>`, 64 characters.
/// `expiry` 0 means it never expires.
pub fn jfrog_reference_token(seed: u64, expiry: i64) -> String {
    let mut rng = Rng::new(seed);
    loop {
        let raw = format!("reftkn:01:{expiry:010}:{}", rng.string(ALNUM, 27));
        let token = STANDARD.encode(raw);
        // The real alphabet never contains + or / (derived in docs/jfrog.md); retry otherwise.
        if token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return token;
        }
    }
}

/// A 26-character lowercase ULID, the shape of a JFrog instance id.
pub fn jfrog_instance_id(seed: u64) -> String {
    Rng::new(seed).string(b"0123456789abcdefghjkmnpqrstvwxyz", 26)
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

/// Claims of a fake JFrog access token.
#[derive(Debug, Clone)]
pub struct AccessTokenSpec {
    /// Seed for the random parts (kid, jti, signature).
    pub seed: u64,
    /// Issuing service prefix: `jfac` (Access), `jfrt` (old Artifactory), `jffe`...
    pub service: String,
    /// 26-character instance id.
    pub instance_id: String,
    /// User name in `sub`.
    pub user: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Audience.
    pub audience: String,
    /// Issued at (Unix seconds).
    pub issued_at: i64,
    /// Expiry (Unix seconds); `None` for a token that never expires.
    pub expires_at: Option<i64>,
}

impl AccessTokenSpec {
    /// An identity token of `user` on a random instance, issued 2026-01-01 for a year.
    pub fn identity(seed: u64, user: &str) -> AccessTokenSpec {
        AccessTokenSpec {
            seed,
            service: "jfac".into(),
            instance_id: jfrog_instance_id(seed),
            user: user.into(),
            scope: "applied-permissions/user".into(),
            audience: "*@*".into(),
            issued_at: 1_767_225_600,
            expires_at: Some(1_798_761_600),
        }
    }
}

/// The claims object of a fake JFrog access token.
pub fn jfrog_access_token_claims(spec: &AccessTokenSpec) -> serde_json::Value {
    let mut rng = Rng::new(spec.seed ^ 0xacce55);
    let mut claims = serde_json::json!({
        "ext": "{\"revocable\":\"true\"}",
        "sub": format!("{}@{}/users/{}", spec.service, spec.instance_id, spec.user),
        "scp": spec.scope,
        "aud": spec.audience,
        "iss": format!("{}@{}", spec.service, spec.instance_id),
        "iat": spec.issued_at,
        "jti": uuid(&mut rng),
    });
    if let Some(exp) = spec.expires_at {
        claims["exp"] = exp.into();
    }
    claims
}

/// The header JFrog puts on access tokens, with a random 43-character `kid`.
pub fn jfrog_access_token_header(seed: u64) -> serde_json::Value {
    let mut rng = Rng::new(seed ^ 0x6b1d);
    serde_json::json!({"ver": "2", "typ": "JWT", "alg": "RS256", "kid": rng.string(B64URL, 43)})
}

/// A fake JFrog access token: the real header and claims, and 256 random bytes where the RS256
/// signature goes. (The emulator signs real ones; scanners only need the shape.)
pub fn jfrog_access_token(spec: &AccessTokenSpec) -> String {
    let mut rng = Rng::new(spec.seed ^ 0x5160);
    // JFrog serializes the header keys in this order; serde_json sorts them, so write it out.
    let header = jfrog_access_token_header(spec.seed);
    let header = format!(
        r#"{{"ver":"2","typ":"JWT","alg":"RS256","kid":"{}"}}"#,
        header["kid"].as_str().unwrap_or_default()
    );
    let claims = jfrog_access_token_claims(spec).to_string();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims),
        URL_SAFE_NO_PAD.encode(rng.bytes(256))
    )
}

/// A JWT from some other issuer (for negative fixtures).
pub fn other_jwt(seed: u64, issuer: &str) -> String {
    let mut rng = Rng::new(seed);
    let claims = serde_json::json!({
        "iss": issuer, "sub": format!("user-{}", rng.below(100_000)), "aud": "api",
        "iat": 1_767_225_600, "exp": 1_798_761_600, "jti": uuid(&mut rng),
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(rng.bytes(256))
    )
}

/// A JFrog "encrypted password" as shown on the profile page: `AP` + a hex digit + base58.
pub fn jfrog_encrypted_password(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let first = rng.string(b"0123456789ABCDEF", 1);
    format!("AP{first}{}", rng.string(BASE58, 24))
}

/// A `jf c export` config token holding a password.
pub fn jfrog_config_token(seed: u64, url: &str, user: &str, password: &str) -> String {
    let server_id = format!("srv{}", Rng::new(seed).below(1000));
    // Field order as jfrog-cli-core writes it.
    let json = format!(
        r#"{{"version":2,"url":"{url}/","artifactoryUrl":"{url}/artifactory/","user":"{user}","password":"{password}","serverId":"{server_id}"}}"#
    );
    STANDARD.encode(json)
}

fn base62_checksum(n: u32) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    let mut v = u64::from(n);
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    String::from_utf8(out.to_vec()).expect("base62 is ASCII")
}

fn checksummed(prefix: &str, seed: u64) -> String {
    let random = Rng::new(seed).string(ALNUM, 30);
    let sum = base62_checksum(crc32fast::hash(random.as_bytes()));
    format!("{prefix}{random}{sum}")
}

/// A GitHub token with a valid CRC32 checksum. `prefix` is `ghp_`, `gho_`, `ghu_`, `ghs_` or
/// `ghr_`.
pub fn github_token(prefix: &str, seed: u64) -> String {
    checksummed(prefix, seed)
}

/// A GitHub fine-grained personal access token.
pub fn github_fine_grained(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    format!(
        "github_pat_{}_{}",
        rng.string(ALNUM, 22),
        rng.string(ALNUM, 59)
    )
}

/// An npm granular or automation token with a valid checksum.
pub fn npm_token(seed: u64) -> String {
    checksummed("npm_", seed)
}

/// A GitLab personal access token (`glpat-` + 20 characters).
pub fn gitlab_pat(seed: u64) -> String {
    format!("glpat-{}", Rng::new(seed).string(B64URL, 20))
}

/// A non-routable GitLab token of another kind, by prefix: `gldt-`, `glrt-`, `glft-`,
/// `glsoat-`, `glffct-` (20 characters), `glimt-` (25), `glagent-` (50), `glptt-` (40 hex),
/// `gloas-` (64 hex), `glcbt-` (partition + `_` + 20) or `GR1348941` (runner registration).
pub fn gitlab_token(prefix: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    match prefix {
        "glptt-" => format!("glptt-{}", rng.string(HEX, 40)),
        "gloas-" => format!("gloas-{}", rng.string(HEX, 64)),
        "glimt-" => format!("glimt-{}", rng.string(B64URL, 25)),
        "glagent-" => format!("glagent-{}", rng.string(B64URL, 50)),
        "glcbt-" => format!("glcbt-{}_{}", rng.string(HEX, 2), rng.string(B64URL, 20)),
        _ => format!("{prefix}{}", rng.string(B64URL, 20)),
    }
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

/// A routable GitLab token (GitLab 17.x+, `Authn::TokenField::Generator::RoutableToken`):
/// `prefix` + base64url(16 random bytes + routing payload + payload length) + `.01.` + the
/// base64 length in 2 base36 digits + CRC32 of everything before it in 7 base36 digits.
pub fn gitlab_routable_token(prefix: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let payload = format!(
        "c:1\no:{}\nu:{}",
        base36(rng.below(100_000)),
        base36(rng.below(50_000_000))
    );
    let mut raw = rng.bytes(16);
    raw.extend(payload.as_bytes());
    raw.push(payload.len() as u8);
    let b64 = URL_SAFE_NO_PAD.encode(raw);
    let encoded = format!("{prefix}{b64}.01.{:0>2}", base36(b64.len() as u64));
    let crc = base36(u64::from(crc32fast::hash(encoded.as_bytes())));
    format!("{encoded}{crc:0>7}")
}

/// An AWS access key id and its secret access key.
pub fn aws_keypair(seed: u64) -> (String, String) {
    aws_keypair_with_prefix("AKIA", seed)
}

/// An AWS temporary (STS) access key id, `ASIA…`, and its secret access key.
pub fn aws_temporary_keypair(seed: u64) -> (String, String) {
    aws_keypair_with_prefix("ASIA", seed)
}

fn aws_keypair_with_prefix(prefix: &str, seed: u64) -> (String, String) {
    let mut rng = Rng::new(seed);
    let id = format!(
        "{prefix}{}",
        rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    );
    let secret = rng.string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    );
    (id, secret)
}

/// A Slack token with the given prefix (`xoxb-`, `xoxp-`, `xapp-`, `xoxa-`, `xoxr-`, and the
/// token-rotation forms `xoxe.xoxp-`, `xoxe.xoxb-` and `xoxe-`).
pub fn slack_token(prefix: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let digits = b"0123456789";
    let upper = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    match prefix {
        "xoxe.xoxp-" | "xoxe.xoxb-" => format!("{prefix}1-{}", rng.string(upper, 164)),
        "xoxe-" => format!("xoxe-1-{}", rng.string(upper, 146)),
        "xoxp-" => format!(
            "{prefix}{}-{}-{}-{}",
            rng.string(digits, 12),
            rng.string(digits, 12),
            rng.string(digits, 13),
            rng.string(HEX, 32)
        ),
        "xapp-" => format!(
            "xapp-1-A{}-{}-{}",
            rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
            rng.string(digits, 13),
            rng.string(HEX, 64)
        ),
        _ => format!(
            "{prefix}{}-{}-{}",
            rng.string(digits, 12),
            rng.string(digits, 13),
            rng.string(ALNUM, 24)
        ),
    }
}

/// A Slack incoming-webhook URL.
pub fn slack_webhook(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let upper = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        rng.string(upper, 8),
        rng.string(upper, 10),
        rng.string(ALNUM, 24)
    )
}

/// A Google API key (`AIza` + 35 characters).
pub fn google_api_key(seed: u64) -> String {
    format!("AIza{}", Rng::new(seed).string(B64URL, 35))
}

/// A PyPI API token (a macaroon, `pypi-AgEIcHlwaS5vcmc…`).
pub fn pypi_token(seed: u64) -> String {
    pypi_token_for("pypi.org", seed)
}

/// A PyPI-style API token whose macaroon location is `location` (`pypi.org`, or
/// `test.pypi.org` for TestPyPI: `pypi-AgENdGVzdC5weXBpLm9yZw…`), in the real macaroon v2
/// binary structure.
pub fn pypi_token_for(location: &str, seed: u64) -> String {
    crate::fake_more::pypi_macaroon(location, seed)
}

/// A Docker Hub personal access token.
pub fn dockerhub_pat(seed: u64) -> String {
    format!("dckr_pat_{}", Rng::new(seed).string(B64URL, 27))
}

/// A Docker Hub organization access token (`dckr_oat_` + 32 characters; Docker does not
/// publish the length, 32 is what public samples show).
pub fn dockerhub_oat(seed: u64) -> String {
    format!("dckr_oat_{}", Rng::new(seed).string(B64URL, 32))
}

/// An Azure storage account key (64 random bytes, base64).
pub fn azure_storage_key(seed: u64) -> String {
    STANDARD.encode(Rng::new(seed).bytes(64))
}

/// A Stripe key with the given prefix (`sk_live_`, `rk_live_`, `sk_test_`...).
pub fn stripe_key(prefix: &str, seed: u64) -> String {
    format!("{prefix}{}", Rng::new(seed).string(ALNUM, 99))
}

/// A Twilio API key SID (`SK` + 32 hex) and its secret (32 alphanumerics).
pub fn twilio_api_key(seed: u64) -> (String, String) {
    let mut rng = Rng::new(seed);
    (format!("SK{}", rng.string(HEX, 32)), rng.string(ALNUM, 32))
}

/// A Twilio account SID (`AC` + 32 hex) and auth token (32 hex).
pub fn twilio_account(seed: u64) -> (String, String) {
    let mut rng = Rng::new(seed);
    (format!("AC{}", rng.string(HEX, 32)), rng.string(HEX, 32))
}

/// A SendGrid API key.
pub fn sendgrid_key(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    format!("SG.{}.{}", rng.string(B64URL, 22), rng.string(B64URL, 43))
}

/// A HashiCorp Vault token with the given prefix (`hvs.`, `hvb.`, `s.`).
pub fn vault_token(prefix: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    match prefix {
        "hvs." => format!("hvs.CAESI{}", rng.string(B64URL, 86)),
        "hvb." => format!("hvb.AAAAAQ{}", rng.string(B64URL, 128)),
        _ => format!("{prefix}{}", rng.string(ALNUM, 24)),
    }
}

/// A Vault unseal or recovery key share as `vault operator init` prints it (base64 of 33
/// bytes).
pub fn vault_unseal_key(seed: u64) -> String {
    STANDARD.encode(Rng::new(seed).bytes(33))
}

fn pem(label: &str, der: &[u8]) -> String {
    pem_with_headers(label, "", der)
}

fn pem_with_headers(label: &str, headers: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{headers}{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A legacy OpenSSL-encrypted PEM key (`Proc-Type: 4,ENCRYPTED` and `DEK-Info` headers).
/// `label` is `RSA PRIVATE KEY`, `EC PRIVATE KEY` or `DSA PRIVATE KEY`.
pub fn private_key_legacy_encrypted(label: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let iv = rng.string(b"0123456789ABCDEF", 32);
    let headers = format!("Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{iv}\n\n");
    pem_with_headers(label, &headers, &rng.bytes(1200))
}

/// An OpenSSH private key encrypted with a passphrase (`aes256-ctr`, `bcrypt` KDF).
pub fn openssh_private_key_encrypted(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut d =
        b"openssh-key-v1\0\0\0\0\x0aaes256-ctr\0\0\0\x06bcrypt\0\0\0\x18\0\0\0\x10".to_vec();
    d.extend(rng.bytes(16));
    d.extend(b"\0\0\0\x18\0\0\0\x01");
    d.extend(rng.bytes(400));
    pem("OPENSSH PRIVATE KEY", &d)
}

/// A PEM private key with a random body. `label` is `RSA PRIVATE KEY`, `EC PRIVATE KEY`,
/// `DSA PRIVATE KEY`, `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE KEY` (encrypted PKCS#8) or
/// `OPENSSH PRIVATE KEY`.
pub fn private_key(label: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let der = if label == "OPENSSH PRIVATE KEY" {
        let mut d = b"openssh-key-v1\0\0\0\0\x04none\0\0\0\x04none\0\0\0\0\0\0\0\x01".to_vec();
        d.extend(rng.bytes(380));
        d
    } else {
        // The DER header of each structure, so that bodies start like real ones (MIIEpA…,
        // MHcCAQEEI…, MIIEvQIBADANBgkqhkiG9w0BAQEFAASC…); the rest is random.
        let (header, random): (&[u8], usize) = match label {
            "EC PRIVATE KEY" => (&[0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20], 114),
            "DSA PRIVATE KEY" => (
                &[0x30, 0x82, 0x01, 0xbb, 0x02, 0x01, 0x00, 0x02, 0x81, 0x81],
                433,
            ),
            "PRIVATE KEY" => (
                &[
                    0x30, 0x82, 0x04, 0xbd, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86,
                    0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x04, 0x82, 0x04, 0xa7,
                ],
                1191,
            ),
            "ENCRYPTED PRIVATE KEY" => (
                &[
                    0x30, 0x82, 0x05, 0x0c, 0x30, 0x3e, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                    0x0d, 0x01, 0x05, 0x0d,
                ],
                1279,
            ),
            _ => (
                &[
                    0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00,
                ],
                1180,
            ),
        };
        let mut d = header.to_vec();
        d.extend(rng.bytes(random));
        d
    };
    pem(label, &der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(jfrog_api_key(1).len(), 73);
        let r = jfrog_reference_token(1, 0);
        assert_eq!(r.len(), 64);
        assert!(r.starts_with("cmVmdGtuOjAxOjAwMDAwMDAwMDA6"));
        let t = jfrog_access_token(&AccessTokenSpec::identity(3, "alice"));
        assert!(t.starts_with("eyJ2ZXIiOiIyIiwidHlwIjoiSldUIiwiYWxnIjoiUlMyNTYiLCJraWQiOi"));
        assert_eq!(t.rsplit('.').next().map(str::len), Some(342));
        assert_eq!(jfrog_encrypted_password(1).len(), 27);
        assert_eq!(github_token("ghp_", 1).len(), 40);
        assert_eq!(azure_storage_key(1).len(), 88);
        assert_eq!(vault_unseal_key(1).len(), 44);
        assert!(pypi_token_for("test.pypi.org", 1).starts_with("pypi-AgENdGVzdC5weXBpLm9yZw"));
        assert!(pypi_token(1).starts_with("pypi-AgEIcHlwaS5vcmc"));
        assert_eq!(dockerhub_oat(1).len(), 41);
        assert_eq!(gitlab_token("glptt-", 1).len(), 46);
        assert_eq!(gitlab_token("GR1348941", 1).len(), 29);
        assert!(slack_token("xoxe.xoxp-", 1).starts_with("xoxe.xoxp-1-"));
    }

    #[test]
    fn gitlab_routable_checksum() {
        let t = gitlab_routable_token("glpat-", 5);
        let (head, crc) = t.split_at(t.len() - 7);
        assert_eq!(
            format!(
                "{:0>7}",
                base36(u64::from(crc32fast::hash(head.as_bytes())))
            ),
            crc
        );
        let (_, rest) = head.split_once('.').expect("has a dot");
        assert!(rest.starts_with("01."));
        assert_eq!(base36(35), "z");
    }

    #[test]
    fn deterministic() {
        assert_eq!(jfrog_api_key(9), jfrog_api_key(9));
        assert_ne!(jfrog_api_key(9), jfrog_api_key(10));
    }
}
