//! Facts decoded from a secret: its kind, claims and risk flags. Facts never hold the secret.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A risk flag raised by a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Flag {
    /// The credential has no expiry.
    NeverExpires,
    /// The credential carries admin scope.
    AdminScope,
    /// The credential's own expiry is in the past.
    Expired,
    /// A format its vendor has deprecated (JFrog API keys).
    Deprecated,
}

impl Flag {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::NeverExpires => "never_expires",
            Flag::AdminScope => "admin_scope",
            Flag::Expired => "expired",
            Flag::Deprecated => "deprecated",
        }
    }
}

/// What a decoder learned about a secret offline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The credential kind, such as `reference_token` or `access_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Decoded fields (claims, user name, account id...).
    #[serde(flatten)]
    pub fields: BTreeMap<String, Value>,
    /// Risk flags.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub flags: BTreeSet<Flag>,
}

impl Facts {
    /// Facts with only a kind.
    pub fn kind(kind: &str) -> Facts {
        Facts {
            kind: Some(kind.to_owned()),
            ..Facts::default()
        }
    }

    /// Sets a field.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) -> &mut Facts {
        self.fields.insert(key.to_owned(), value.into());
        self
    }

    /// Raises a flag.
    pub fn flag(&mut self, flag: Flag) -> &mut Facts {
        self.flags.insert(flag);
        self
    }

    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.kind.is_none() && self.fields.is_empty() && self.flags.is_empty()
    }

    /// Adds fields and flags of `other` that are not already set.
    pub fn merge(&mut self, other: &Facts) {
        if self.kind.is_none() {
            self.kind.clone_from(&other.kind);
        }
        for (k, v) in &other.fields {
            self.fields.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self.flags.extend(other.flags.iter().copied());
    }
}

/// A Unix time as RFC 3339, or `None` when out of range.
pub(crate) fn rfc3339(secs: i64) -> Option<String> {
    jiff::Timestamp::from_second(secs)
        .ok()
        .map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_round_trip_through_json() {
        let mut facts = Facts::kind("access_token");
        facts
            .set("user", "admin")
            .set("scopes", vec!["applied-permissions/admin"]);
        facts.flag(Flag::AdminScope).flag(Flag::NeverExpires);
        let json = serde_json::to_string(&facts).expect("serializes");
        let back: Facts = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, facts);
        let empty: Facts = serde_json::from_str("{}").expect("deserializes");
        assert!(empty.is_empty());
    }
}
