//! Value-based fingerprints: HMAC-SHA256 over the rule family and the secret.
//!
//! Path and line are not part of the fingerprint, so a triage decision or suppression
//! survives a file move, a rename or a reformat. The hash is keyed so that a fingerprint does
//! not let anyone confirm a guessed secret without the key. The default key is a published
//! constant, which keeps fingerprints stable across machines (code-scanning dashboards
//! deduplicate on them); a team that wants them unguessable sets its own key.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The key of the fingerprint hash.
#[derive(Clone, PartialEq, Eq)]
pub struct FingerprintKey([u8; 32]);

impl FingerprintKey {
    /// A key derived from arbitrary bytes (a key file's content, a baseline's key).
    pub fn from_bytes(material: &[u8]) -> FingerprintKey {
        FingerprintKey(Sha256::digest(material).into())
    }
}

impl Default for FingerprintKey {
    fn default() -> FingerprintKey {
        FingerprintKey::from_bytes(b"keyhound fingerprint v1")
    }
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(…)")
    }
}

/// The fingerprint of `secret` found by a rule of `family`: 32 hex characters.
pub fn fingerprint(key: &FingerprintKey, family: &str, secret: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC accepts keys of any length");
    mac.update(family.as_bytes());
    mac.update(&[0]);
    mac.update(secret);
    hex::encode(&mac.finalize().into_bytes()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_keyed() {
        let k = FingerprintKey::default();
        let a = fingerprint(&k, "keyhound.jfrog.1", b"AKCp5abc");
        assert_eq!(a, fingerprint(&k, "keyhound.jfrog.1", b"AKCp5abc"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, fingerprint(&k, "keyhound.jfrog.2", b"AKCp5abc"));
        assert_ne!(
            a,
            fingerprint(
                &FingerprintKey::from_bytes(b"other"),
                "keyhound.jfrog.1",
                b"AKCp5abc"
            )
        );
        // Family and secret are separated, so ("ab","c") and ("a","bc") differ.
        assert_ne!(fingerprint(&k, "ab", b"c"), fingerprint(&k, "a", b"bc"));
    }
}
