//! Recognizes values that stand in for a secret: template variables, masks and stock words.
//!
//! Context rules (`password = …`, `_authToken=…`) see these far more often than real secrets,
//! in docs, examples and CI templates. Format rules see them as `AKCpXXXX…`.

/// Substrings that mark a templated or referenced value.
const TEMPLATE_MARKERS: &[&str] = &["${", "{{", "$(", "%(", "#{", "<%", "%{", "@{"];

/// Substrings (lowercase) that mark a documentation or dummy value.
const STOP_SUBSTRINGS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "redacted",
    "your_",
    "<your",
    "your-",
    "yourpass",
    "yourtoken",
    "yourkey",
    "yourapikey",
    "example",
    "dummy",
    "replace_me",
    "replaceme",
    "replace-me",
    "insert_",
    "insert-",
    "notreal",
    "not_real",
    "not-a-real",
    "...",
    "…",
];

/// Whole values (lowercase) that are names, not secrets.
const STOP_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "key",
    "null",
    "none",
    "nil",
    "undefined",
    "true",
    "false",
    "empty",
    "test",
    "testing",
    "admin",
    "root",
    "string",
    "value",
    "todo",
    "tbd",
    "n/a",
    "na",
    "user",
    "username",
    "default",
    "required",
    "optional",
    "str",
    "env",
    "os.environ",
];

/// Longest run of one repeated byte.
fn longest_run(v: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in v {
        if Some(b) == prev {
            run += 1;
        } else {
            run = 1;
            prev = Some(b);
        }
        best = best.max(run);
    }
    best
}

/// A segment that reads like an identifier: `snake_case`, `camelCase`, `PascalCase` or
/// `UPPER_SNAKE`. Random token segments (`MpkHmQfVVCCYbH1ZPqqg1k`) do not.
fn is_identifier_word(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.is_empty() || b.len() > 30 || b[0].is_ascii_digit() {
        return false;
    }
    if !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') {
        return false;
    }
    let lower_snake = b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
    let upper_snake = b
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    // camelCase or PascalCase: no two uppercase letters in a row, few digits.
    let camel = b
        .windows(2)
        .all(|w| !(w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase()))
        && b.iter().filter(|c| c.is_ascii_digit()).count() <= 2;
    lower_snake || upper_snake || camel
}

/// A dotted code reference such as `config.artifactory.password` or `self.api_key`: what an
/// assignment in code puts where a literal secret would be.
fn is_code_reference(s: &str) -> bool {
    let segments: Vec<&str> = s.split('.').collect();
    if !(2..=6).contains(&segments.len())
        || !s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
    {
        return false;
    }
    segments.iter().all(|seg| is_identifier_word(seg))
}

/// True when `value` is a placeholder rather than a secret.
pub fn is_placeholder(value: &[u8]) -> bool {
    if value.is_empty() {
        return true;
    }
    let lower = String::from_utf8_lossy(value).to_lowercase();
    let s = lower.trim();
    if TEMPLATE_MARKERS.iter().any(|m| s.contains(m)) {
        return true;
    }
    let first = s.as_bytes().first().copied().unwrap_or(b' ');
    let second = s.as_bytes().get(1).copied().unwrap_or(b' ');
    // $TOKEN, $env:TOKEN, %TOKEN%, <token>, [token]
    if first == b'$' && (second.is_ascii_alphabetic() || second == b'_' || second == b'{') {
        return true;
    }
    if s.len() >= 3 {
        let last = s.as_bytes()[s.len() - 1];
        if (first == b'%' && last == b'%')
            || (first == b'<' && last == b'>')
            || (first == b'[' && last == b']')
        {
            return true;
        }
    }
    if s.len() >= 3
        && s.bytes()
            .all(|b| matches!(b, b'*' | b'x' | b'#' | b'-' | b'_' | b'.' | b'0'))
    {
        return true;
    }
    if s.contains("•") || s.contains("●") {
        return true;
    }
    if longest_run(value) >= 6 {
        return true;
    }
    if is_code_reference(String::from_utf8_lossy(value).trim()) {
        return true;
    }
    if STOP_WORDS.contains(&s) {
        return true;
    }
    STOP_SUBSTRINGS.iter().any(|w| s.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for v in [
            "${ARTIFACTORY_PASSWORD}",
            "${{ secrets.JF_ACCESS_TOKEN }}",
            "$JFROG_TOKEN",
            "$env:TOKEN",
            "%API_KEY%",
            "<your-api-key>",
            "[REDACTED]",
            "changeme",
            "********",
            "xxxxxxxx",
            "AKCpXXXXXXXXXXXXXXXXXXXXXXXX",
            "password",
            "AKCp5...",
            "{{ .Values.password }}",
            "your_token_here",
            "config.artifactory.password",
            "self.api_key",
            "settings.ArtifactoryPassword",
            "env.NEXUS_PASSWORD",
            "<your",
        ] {
            assert!(is_placeholder(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn real_looking_values() {
        for v in [
            "AKCp8jQ3R7mD2kLwVbN9pXt4sYh6uEo1iAz5cGf8HnJ0rTqWvMxKyBl3Pd7Ss2Ue9Fg4Oa6Ic",
            "hunter2!Pq",
            "s3cr3t-Pa55w0rd",
            "cmVmdGtuOjAxOjE3OTk5OTk5OTk6WnRqS2RHbVhRcWJ2TDl5TkZ3aHBVY0J4M2Fa",
            "pat.MpkHmQfVVCCYbH1ZPqqg1k.xCeRZ77JYutOVEVFOqrvriCH.reeNCua98N76W8nCzyIL",
        ] {
            assert!(!is_placeholder(v.as_bytes()), "{v}");
        }
    }
}
