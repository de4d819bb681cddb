//! Base64-wrapped credentials: `user:password` pairs (npm `_auth`, Docker `auth`), npm
//! `_password`, and base64 blobs whose content is scanned again.

use super::{Decoded, base64_any};
use crate::facts::Facts;
use crate::placeholder::is_placeholder;

fn printable(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| !c.is_control())
}

/// base64(`user:password`) with a non-placeholder password.
pub(super) fn basic_auth(secret: &[u8]) -> Option<Facts> {
    let decoded = String::from_utf8(base64_any(secret)?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if !printable(user) || !printable(password) || is_placeholder(password.as_bytes()) {
        return None;
    }
    let mut facts = Facts::kind("basic_auth");
    facts.set("username", user);
    Some(facts)
}

/// Splits base64(`user:password`) into the user name and the password, for callers that need
/// to send the credential back to its service (live validation). `None` when it does not
/// decode to that shape.
pub fn split_basic_auth(secret: &[u8]) -> Option<(String, crate::Secret)> {
    let decoded = String::from_utf8(base64_any(secret)?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if !printable(user) || !printable(password) {
        return None;
    }
    Some((
        user.to_owned(),
        crate::Secret::new(password.as_bytes().to_vec()),
    ))
}

/// base64(`password`), as npm writes `_password`.
pub(super) fn password(secret: &[u8]) -> Option<Facts> {
    let decoded = String::from_utf8(base64_any(secret)?).ok()?;
    if !printable(&decoded) || is_placeholder(decoded.as_bytes()) {
        return None;
    }
    Some(Facts::kind("password"))
}

/// Any base64 text: its decoded bytes are scanned again.
pub(super) fn rescan(secret: &[u8]) -> Option<Decoded> {
    let decoded = base64_any(secret)?;
    Some(Decoded {
        facts: Facts::kind("base64_encoded"),
        inner: Some(decoded),
    })
}
