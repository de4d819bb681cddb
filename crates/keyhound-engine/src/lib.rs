//! keyhound's matcher: bytes in, matches out. It never opens a file or a socket and knows
//! nothing of where the bytes came from.
//!
//! Every rule's literal anchors and keywords go into one literal prefilter (see
//! `prefilter.rs`). One pass over the input finds the literal hits; each hit opens a window around it, and only that window is
//! searched with the rule's regex. A match then passes the rule's filters (placeholder words,
//! entropy floor) and its structural decoder, which can reject it and which decodes facts such
//! as a JWT's claims. When matches of several rules overlap, the most specific rule wins.
//!
//! ```
//! let rules = keyhound_rules::builtin().expect("built-in rules parse");
//! let matcher = keyhound_engine::Matcher::new(rules, keyhound_engine::Options::default())
//!     .expect("built-in rules compile");
//! let mut scratch = matcher.scratch();
//! let mut found = Vec::new();
//! matcher.scan(b"nothing to see here", &mut scratch, &mut found);
//! assert!(found.is_empty());
//! ```

mod allowlist;
mod check;
mod decode;
pub mod entropy;
mod facts;
mod matcher;
pub mod placeholder;
mod prefilter;
mod secret;

pub use check::{check_rules, check_rules_with};
pub use decode::{DECODER_NAMES, Jwt, base64_any, inspect, split_basic_auth, user_from_subject};
pub use facts::{Facts, Flag};
pub use matcher::{Match, Matcher, Options, Scratch};
pub use secret::{Secret, redact};

/// Errors while compiling rules into a matcher.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// A rule's regex does not compile.
    #[error("rule {rule_id}: pattern does not compile")]
    Regex {
        /// The rule.
        rule_id: String,
        /// The regex error.
        #[source]
        source: regex::Error,
    },
    /// A rule's regex has no `secret` group.
    #[error("rule {rule_id}: pattern has no named group `secret`")]
    NoSecretGroup {
        /// The rule.
        rule_id: String,
    },
    /// A rule names a decoder that does not exist.
    #[error("rule {rule_id}: unknown decoder {decoder:?} (known: {known})")]
    UnknownDecoder {
        /// The rule.
        rule_id: String,
        /// The name given.
        decoder: String,
        /// The known names.
        known: String,
    },
    /// A regex of a rule's allowlists, `require_facts` or `paths` does not compile.
    #[error("rule {rule_id}: {what} does not compile")]
    InvalidRegex {
        /// The rule.
        rule_id: String,
        /// Which part of the rule.
        what: String,
        /// The regex error.
        #[source]
        source: regex::Error,
    },
    /// A rule has more allowlists than the matcher tracks.
    #[error("rule {rule_id}: more than 64 allowlists")]
    TooManyAllowlists {
        /// The rule.
        rule_id: String,
    },
    /// Two rules share an id.
    #[error("rule {rule_id}: duplicate id")]
    DuplicateId {
        /// The rule.
        rule_id: String,
    },
}
