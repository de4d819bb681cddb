//! The [`Secret`] type: a credential value that redacts itself everywhere except `.expose()`.

use std::borrow::Cow;
use std::fmt;

use zeroize::Zeroize;

/// A secret value. `Debug`, `Display` and `Serialize` print the redacted preview; the bytes
/// are reachable only through [`Secret::expose`] and are zeroed when dropped.
///
/// A secret read back from the findings store without its value is [`Secret::withheld`]: it
/// knows only its redacted preview, and exposes no bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret {
    bytes: Vec<u8>,
    /// The preview of a value that is not here.
    withheld: Option<String>,
}

impl Secret {
    /// Wraps a value.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret {
            bytes: bytes.into(),
            withheld: None,
        }
    }

    /// A secret whose value is not known here, only its redacted `preview`.
    pub fn withheld(preview: impl Into<String>) -> Secret {
        Secret {
            bytes: Vec::new(),
            withheld: Some(preview.into()),
        }
    }

    /// True for a [`Secret::withheld`] secret: [`Secret::expose`] is empty.
    pub fn is_withheld(&self) -> bool {
        self.withheld.is_some()
    }

    /// The raw bytes (empty when withheld). Call sites are the places where a secret can
    /// leak: keep them few.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The raw value as text, with invalid UTF-8 replaced.
    pub fn expose_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    /// The redacted preview, such as `AKCp8k…Xq2`.
    pub fn redacted(&self) -> String {
        match &self.withheld {
            Some(preview) => preview.clone(),
            None => redact(&self.bytes),
        }
    }

    /// Length in bytes (0 when withheld).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for an empty value.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// The redacted preview of a value: a few leading and trailing characters around `…`.
///
/// Long tokens keep 6 leading and 3 trailing characters (their prefixes are public format
/// markers); short values, usually passwords, keep at most a quarter and an eighth.
pub fn redact(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let head = (n / 4).min(6);
    let tail = (n / 8).min(3);
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[n - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tokens_keep_prefix_and_suffix() {
        let key = format!("FAKE8k{}Xq2", "a".repeat(64));
        assert_eq!(redact(key.as_bytes()), "FAKE8k…Xq2");
    }

    #[test]
    fn short_values_reveal_little() {
        assert_eq!(redact(b"hunter2!"), "hu…!");
        assert_eq!(redact(b"abc"), "…");
        assert_eq!(redact(b""), "…");
    }

    #[test]
    fn withheld_secrets_show_their_preview_only() {
        let s = Secret::withheld("FAKE8k…Xq2");
        assert!(s.is_withheld());
        assert_eq!(s.redacted(), "FAKE8k…Xq2");
        assert!(s.expose().is_empty());
        assert!(!Secret::new(b"x".to_vec()).is_withheld());
    }

    #[test]
    fn debug_and_serde_redact() {
        let s = Secret::new(b"supersecretvalue1234".to_vec());
        assert!(!format!("{s:?}").contains("supersecretvalue1234"));
        assert!(
            !serde_json::to_string(&s)
                .expect("serialize")
                .contains("secretvalue")
        );
    }
}
