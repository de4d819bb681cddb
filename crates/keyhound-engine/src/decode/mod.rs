//! Structural decoders: named checks that a rule runs on its `secret` group. A decoder rejects
//! look-alikes (random base64 that is not a reference token, a JWT from another issuer) and
//! returns what it learned offline. Some decoders also return decoded bytes that the matcher
//! scans again (a `jf c export` config token, a Kubernetes `.dockerconfigjson`).

mod basic;
mod checksum;
mod jfrog;
mod jwt;
mod pem;
mod pgp;
mod structured;

pub use basic::split_basic_auth;
pub use jfrog::user_from_subject;
pub use jwt::Jwt;

use crate::facts::Facts;

/// What a decoder needs besides the secret.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecodeCtx {
    /// Current Unix time, for expiry flags.
    pub now: i64,
}

/// A successful decode.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub facts: Facts,
    /// Decoded bytes to scan again with every rule.
    pub inner: Option<Vec<u8>>,
}

impl Decoded {
    fn facts(facts: Facts) -> Decoded {
        Decoded { facts, inner: None }
    }
}

/// The known decoders. Rules name them by their snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoder {
    JfrogApiKey,
    JfrogReferenceToken,
    JfrogAccessToken,
    JfrogConfigToken,
    Jwt,
    BasicAuthBase64,
    Base64Password,
    Base64Rescan,
    GithubToken,
    NpmToken,
    AwsAccessKeyId,
    PrivateKey,
    PgpPrivateKey,
    Pkcs12,
    AgeSecretKey,
    DiscordBotToken,
    OnepasswordServiceAccount,
    SentryOrgToken,
    CloudflareTunnelToken,
    PypiToken,
    GitlabToken,
}

/// Every decoder with its rule-file name.
pub const DECODER_NAMES: &[&str] = &[
    "jfrog_api_key",
    "jfrog_reference_token",
    "jfrog_access_token",
    "jfrog_config_token",
    "jwt",
    "basic_auth_base64",
    "base64_password",
    "base64_rescan",
    "github_token",
    "npm_token",
    "aws_access_key_id",
    "private_key",
    "pgp_private_key",
    "pkcs12",
    "age_secret_key",
    "discord_bot_token",
    "onepassword_service_account",
    "sentry_org_token",
    "cloudflare_tunnel_token",
    "pypi_token",
    "gitlab_token",
];

impl Decoder {
    pub(crate) fn from_name(name: &str) -> Option<Decoder> {
        Some(match name {
            "jfrog_api_key" => Decoder::JfrogApiKey,
            "jfrog_reference_token" => Decoder::JfrogReferenceToken,
            "jfrog_access_token" => Decoder::JfrogAccessToken,
            "jfrog_config_token" => Decoder::JfrogConfigToken,
            "jwt" => Decoder::Jwt,
            "basic_auth_base64" => Decoder::BasicAuthBase64,
            "base64_password" => Decoder::Base64Password,
            "base64_rescan" => Decoder::Base64Rescan,
            "github_token" => Decoder::GithubToken,
            "npm_token" => Decoder::NpmToken,
            "aws_access_key_id" => Decoder::AwsAccessKeyId,
            "private_key" => Decoder::PrivateKey,
            "pgp_private_key" => Decoder::PgpPrivateKey,
            "pkcs12" => Decoder::Pkcs12,
            "age_secret_key" => Decoder::AgeSecretKey,
            "discord_bot_token" => Decoder::DiscordBotToken,
            "onepassword_service_account" => Decoder::OnepasswordServiceAccount,
            "sentry_org_token" => Decoder::SentryOrgToken,
            "cloudflare_tunnel_token" => Decoder::CloudflareTunnelToken,
            "pypi_token" => Decoder::PypiToken,
            "gitlab_token" => Decoder::GitlabToken,
            _ => return None,
        })
    }

    /// Runs the check. `None` rejects the match.
    pub(crate) fn decode(self, secret: &[u8], ctx: DecodeCtx) -> Option<Decoded> {
        match self {
            Decoder::JfrogApiKey => Some(Decoded::facts(jfrog::api_key(secret)?)),
            Decoder::JfrogReferenceToken => {
                Some(Decoded::facts(jfrog::reference_token(secret, ctx.now)?))
            }
            Decoder::JfrogAccessToken => {
                Some(Decoded::facts(jfrog::access_token(secret, ctx.now)?))
            }
            Decoder::JfrogConfigToken => jfrog::config_token(secret),
            Decoder::Jwt => Some(Decoded::facts(jwt::generic_facts(
                &Jwt::parse(secret)?,
                ctx.now,
            ))),
            Decoder::BasicAuthBase64 => Some(Decoded::facts(basic::basic_auth(secret)?)),
            Decoder::Base64Password => Some(Decoded::facts(basic::password(secret)?)),
            Decoder::Base64Rescan => basic::rescan(secret),
            Decoder::GithubToken => Some(Decoded::facts(checksum::github(secret)?)),
            Decoder::NpmToken => Some(Decoded::facts(checksum::npm(secret)?)),
            Decoder::AwsAccessKeyId => Some(Decoded::facts(checksum::aws_key_id(secret)?)),
            Decoder::PrivateKey => Some(Decoded::facts(pem::private_key(secret)?)),
            Decoder::PgpPrivateKey => Some(Decoded::facts(pgp::private_key(secret)?)),
            Decoder::Pkcs12 => Some(Decoded::facts(structured::pkcs12(secret)?)),
            Decoder::AgeSecretKey => Some(Decoded::facts(structured::age_secret_key(secret)?)),
            Decoder::DiscordBotToken => {
                Some(Decoded::facts(structured::discord_bot_token(secret)?))
            }
            Decoder::OnepasswordServiceAccount => Some(Decoded::facts(
                structured::onepassword_service_account(secret)?,
            )),
            Decoder::SentryOrgToken => Some(Decoded::facts(structured::sentry_org_token(secret)?)),
            Decoder::CloudflareTunnelToken => {
                Some(Decoded::facts(structured::cloudflare_tunnel_token(secret)?))
            }
            Decoder::PypiToken => Some(Decoded::facts(structured::pypi_token(secret)?)),
            Decoder::GitlabToken => Some(Decoded::facts(structured::gitlab_token(secret)?)),
        }
    }
}

/// Decodes standard or URL-safe base64, with or without padding and surrounding whitespace.
pub fn base64_any(text: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const CFG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CFG);
    const URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CFG);
    let cleaned: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    STD.decode(&cleaned).or_else(|_| URL.decode(&cleaned)).ok()
}

/// Decodes JFrog facts of a token given on its own (for `keyhound inspect`): the kind is
/// recognised from the value's shape.
pub fn inspect(token: &[u8], now: i64) -> Option<Facts> {
    let ctx = DecodeCtx { now };
    let decoders = [
        Decoder::JfrogReferenceToken,
        Decoder::JfrogAccessToken,
        Decoder::JfrogApiKey,
        Decoder::JfrogConfigToken,
        Decoder::Jwt,
    ];
    decoders
        .iter()
        .find_map(|d| d.decode(token, ctx).map(|d| d.facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_resolves() {
        for n in DECODER_NAMES {
            assert!(Decoder::from_name(n).is_some(), "{n}");
        }
        assert!(Decoder::from_name("nope").is_none());
    }

    #[test]
    fn base64_variants() {
        assert_eq!(
            base64_any(b"dXNlcjpwYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(
            base64_any(b"dXNlcjpwYXNzMQ").as_deref(),
            Some(&b"user:pass1"[..])
        );
        assert_eq!(
            base64_any(b"dXNlcjpwYXNzMQ==").as_deref(),
            Some(&b"user:pass1"[..])
        );
        assert!(base64_any(b"!!!").is_none());
    }
}
