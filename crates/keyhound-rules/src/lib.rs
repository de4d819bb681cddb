//! keyhound's rules: the schema, the built-in rule files (YAML data embedded at build time) and
//! the structural checks that do not need the matcher.
//!
//! This crate does no I/O. Callers read custom rule files themselves and hand the text to
//! [`RuleFile::parse`]. Running a rule's examples needs the matcher, so that check lives in
//! `keyhound-engine`.
//!
//! ```
//! let rules = keyhound_rules::builtin().expect("built-in rules parse");
//! assert!(rules.iter().any(|r| r.id == "keyhound.jfrog.1"));
//! ```

pub mod gitleaks;
mod schema;
mod validate;

pub use schema::{
    Allowlist, Condition, Confidence, Example, RegexTarget, Rule, RuleFile, Severity,
};
pub use validate::{Problem, ProblemLevel, ValidateOptions, validate, validate_with};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Compiles a rule pattern as the matcher runs it: over bytes, with Unicode off, so `.` and
/// negated classes match any byte and `\s`, `\d`, `\w`, `\b` and `(?i)` are ASCII. Secrets
/// are ASCII, and byte automata are several times smaller and faster to build than Unicode
/// ones (300 rules compile in a tenth of the time). A pattern that needs Unicode
/// (`\p{Greek}`) either says so with `(?u:…)` or, if it does not compile without Unicode, is
/// compiled with Unicode on.
pub fn pattern_regex(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .or_else(|_| regex::bytes::Regex::new(pattern))
}

/// Errors while reading rule data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The YAML text is not a valid rule file.
    #[error("invalid rule file {source_name}")]
    Yaml {
        /// The file the text came from.
        source_name: String,
        /// The parser's error, with line and column.
        #[source]
        source: serde_yaml::Error,
    },
}

/// Every built-in rule, in file order.
pub fn builtin() -> Result<Vec<Rule>, Error> {
    let mut rules = Vec::new();
    for (name, text) in BUILTIN_FILES {
        rules.extend(RuleFile::parse(name, text)?.rules);
    }
    Ok(rules)
}

/// A digest of the built-in rule data. It changes whenever any rule changes, so that stored
/// results can tell which rules produced them.
pub fn builtin_version() -> String {
    // FNV-1a: stable across platforms and releases, and this is not a security boundary.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, text) in BUILTIN_FILES {
        for b in name.bytes().chain(text.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
