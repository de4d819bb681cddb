//! The [`Secret`] type: a credential value that redacts itself everywhere except `.expose()`.

use std::borrow::Cow;
use std::fmt;

use zeroize::Zeroize;

/// A secret value. `Debug`, `Display` and `Serialize` print the redacted preview; the bytes
/// are reachable only through [`Secret::expose`] and are zeroed when dropped.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a value.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    /// The raw bytes. Call sites are the places where a secret can leak: keep them few.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The raw value as text, with invalid UTF-8 replaced.
    pub fn expose_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The redacted preview, such as `AKCp8k…Xq2`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
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
        let key = format!("AKCp8k{}Xq2", "a".repeat(64));
        assert_eq!(redact(key.as_bytes()), "AKCp8k…Xq2");
    }

    #[test]
    fn short_values_reveal_little() {
        assert_eq!(redact(b"hunter2!"), "hu…!");
        assert_eq!(redact(b"abc"), "…");
        assert_eq!(redact(b""), "…");
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
