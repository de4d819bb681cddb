//! The rule schema. One YAML file per provider holds a list of rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// How bad it is if the secret is real and live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; rarely exploitable alone.
    Info,
    /// Limited access.
    Low,
    /// Access to one service or account.
    Medium,
    /// Broad access to a service, or private code and artifacts.
    High,
    /// Write access to the software supply chain, or admin.
    Critical,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!("unknown severity {other:?}")),
        }
    }
}

/// How likely a match is to be a real secret rather than a look-alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Keyword context only (generic detectors).
    Low,
    /// A credential context, or a format without a structural check.
    Medium,
    /// A distinctive format, usually confirmed by a decoder or checksum.
    High,
}

impl Confidence {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A text that the rule must match, with the secret it must extract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// A realistic line or snippet.
    pub text: String,
    /// The value of the `secret` group the rule must produce from `text`.
    pub secret: String,
}

fn default_true() -> bool {
    true
}

/// Which text an allowlist's `regexes` are tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegexTarget {
    /// The secret (the `secret` group).
    #[default]
    Secret,
    /// The whole regex match.
    Match,
    /// The line (or lines) holding the match.
    Line,
}

/// How an allowlist combines its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Any one check drops the match.
    #[default]
    Or,
    /// Every check that is present must hold.
    And,
}

/// Conditions under which a match is not reported (gitleaks' allowlists, same semantics).
///
/// The content checks (`regexes`, `stopwords`) run in the matcher. `paths` and `commits` need
/// to know where the bytes came from, which the matcher never does: they are applied by the
/// scan layer. A directory scan has no commit, so a `commits` check never holds there.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// Why the allowlist exists.
    #[serde(default)]
    pub description: String,
    /// `or` (default): any check drops the match; `and`: all present checks must hold.
    #[serde(default)]
    pub condition: Condition,
    /// Regexes (Rust syntax, bytes mode) tested against `regex_target`.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// What `regexes` are tested against: `secret` (default), `match` or `line`.
    #[serde(default)]
    pub regex_target: RegexTarget,
    /// Case-insensitive words: a secret that contains one is dropped.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Regexes tested against the input's path as displayed (relative to the scan root).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Commit ids (for git history scans).
    #[serde(default)]
    pub commits: Vec<String>,
}

impl Allowlist {
    /// True when the allowlist has no check at all (such an allowlist is invalid).
    pub fn is_empty(&self) -> bool {
        self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.paths.is_empty()
            && self.commits.is_empty()
    }
}

/// One detection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id such as `keyhound.jfrog.1`. Never reused for another meaning.
    pub id: String,
    /// Short human name.
    pub name: String,
    /// What the rule finds and why it matters.
    #[serde(default)]
    pub description: String,
    /// The provider, inherited from the file when absent.
    #[serde(default)]
    pub provider: String,
    /// A category such as `artifact-registry`, inherited from the file when absent.
    #[serde(default)]
    pub category: String,
    /// Impact if live.
    pub severity: Severity,
    /// Likelihood that a match is real.
    pub confidence: Confidence,
    /// Case-sensitive literals that occur in every match (`AKCp`, `ghp_`).
    #[serde(default)]
    pub anchors: Vec<String>,
    /// Case-insensitive context words; a match must lie near one of them.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Case-insensitive literals of which at least one must occur somewhere in the same blob
    /// (for example `artifactory` for a Maven `settings.xml` password).
    #[serde(default)]
    pub requires: Vec<String>,
    /// A regex (Rust `regex` syntax, bytes mode) with a named group `secret`.
    pub pattern: String,
    /// Minimum Shannon entropy of the secret, in bits per byte.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// A structural check run on the secret (`jfrog_reference_token`, `jwt`, ...).
    #[serde(default)]
    pub decoder: Option<String>,
    /// A generic detector: any specific rule wins over it for the same bytes.
    #[serde(default)]
    pub generic: bool,
    /// Rules of one family share fingerprints for the same secret. Defaults to the id.
    #[serde(default)]
    pub family: Option<String>,
    /// Bytes searched on each side of a literal hit. Defaults to the pattern's longest match,
    /// or 512 when the pattern is unbounded.
    #[serde(default)]
    pub window: Option<usize>,
    /// Drop values that look like placeholders (`${TOKEN}`, `<password>`, `changeme`, `xxxxxx`).
    #[serde(default = "default_true")]
    pub reject_placeholders: bool,
    /// Facts the decoder must produce: fact name to a regex its value must match (for
    /// example a JWT's `issuer`). A match without the fact, or whose value does not match,
    /// is dropped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub require_facts: BTreeMap<String, String>,
    /// Conditions under which a match is not reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowlists: Vec<Allowlist>,
    /// Regexes on the input's path: when set, the rule reports only in inputs whose path
    /// matches one of them (gitleaks' rule `path`). Applied by the scan layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Where the format is documented.
    #[serde(default)]
    pub references: Vec<String>,
    /// Texts the rule must match.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Texts the rule must not match.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// Where the rule came from (a built-in file name or a user path); set by the loader.
    #[serde(skip)]
    pub origin: String,
}

impl Rule {
    /// The fingerprint family of this rule.
    pub fn family(&self) -> &str {
        self.family.as_deref().unwrap_or(&self.id)
    }
}

/// A rule file: defaults for its rules, then the rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Provider name shared by the rules of the file.
    #[serde(default)]
    pub provider: String,
    /// Category shared by the rules of the file.
    #[serde(default)]
    pub category: String,
    /// The rules.
    pub rules: Vec<Rule>,
}

impl RuleFile {
    /// Parses a YAML rule file. `source_name` names the file in errors and in each rule's
    /// `origin`.
    pub fn parse(source_name: &str, text: &str) -> Result<RuleFile, Error> {
        let mut file: RuleFile = serde_yaml::from_str(text).map_err(|source| Error::Yaml {
            source_name: source_name.to_owned(),
            source,
        })?;
        for rule in &mut file.rules {
            if rule.provider.is_empty() {
                rule.provider.clone_from(&file.provider);
            }
            if rule.category.is_empty() {
                rule.category.clone_from(&file.category);
            }
            rule.origin = source_name.to_owned();
        }
        Ok(file)
    }
}
