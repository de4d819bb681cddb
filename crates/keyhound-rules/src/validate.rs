//! Structural checks on rules that need no matcher: ids, fields, regex syntax.

use std::collections::HashSet;
use std::fmt;

use crate::Rule;

/// Whether a problem blocks the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemLevel {
    /// Worth fixing; `rules check --warnings-as-errors` fails on it.
    Warning,
    /// The rule cannot be used.
    Error,
}

/// One problem found in one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule's id (or its position when the id is missing).
    pub rule_id: String,
    /// Error or warning.
    pub level: ProblemLevel,
    /// What is wrong, lowercase and without a final period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            ProblemLevel::Warning => "warning",
            ProblemLevel::Error => "error",
        };
        write!(f, "{level}: rule {}: {}", self.rule_id, self.message)
    }
}

fn id_is_well_formed(id: &str) -> bool {
    let mut parts = id.split('.');
    let first_ok = parts.next().is_some_and(|p| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    let mut rest = 0;
    let rest_ok = parts.all(|p| {
        rest += 1;
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    });
    first_ok && rest_ok && rest >= 1
}

/// What [`validate_with`] requires beyond a rule's structure.
#[derive(Debug, Clone, Copy)]
pub struct ValidateOptions {
    /// Every rule needs examples and negative examples (built-in and YAML rules). Rules
    /// converted from another tool's configuration have none.
    pub require_examples: bool,
    /// Every rule needs an anchor or a keyword for the prefilter. Converted rules may lack
    /// them: the matcher then runs their regex over every input (slow, but what the other
    /// tool did).
    pub require_literals: bool,
}

impl Default for ValidateOptions {
    fn default() -> ValidateOptions {
        ValidateOptions {
            require_examples: true,
            require_literals: true,
        }
    }
}

/// Checks each rule on its own and the set for duplicate ids. Example matching is checked by
/// `keyhound-engine`.
pub fn validate(rules: &[Rule]) -> Vec<Problem> {
    validate_with(rules, ValidateOptions::default())
}

fn regex_error(pattern: &str) -> Option<String> {
    crate::pattern_regex(pattern).err().map(|e| e.to_string())
}

/// [`validate`] with a choice of what is required.
pub fn validate_with(rules: &[Rule], options: ValidateOptions) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for rule in rules {
        let mut err = |level: ProblemLevel, message: String| {
            problems.push(Problem {
                rule_id: rule.id.clone(),
                level,
                message,
            });
        };
        if !id_is_well_formed(&rule.id) {
            err(
                ProblemLevel::Error,
                format!(
                    "id {:?} must be dot-separated lowercase words such as keyhound.jfrog.1",
                    rule.id
                ),
            );
        }
        if !seen.insert(rule.id.as_str()) {
            err(ProblemLevel::Error, "duplicate id".into());
        }
        if rule.name.trim().is_empty() {
            err(ProblemLevel::Error, "name is empty".into());
        }
        if rule.description.trim().is_empty() {
            err(ProblemLevel::Warning, "description is empty".into());
        }
        if options.require_literals && rule.anchors.is_empty() && rule.keywords.is_empty() {
            err(
                ProblemLevel::Error,
                "needs at least one anchor or keyword for the prefilter".into(),
            );
        }
        if rule.requires.iter().any(String::is_empty) {
            err(ProblemLevel::Error, "requires has an empty literal".into());
        }
        for lit in rule.anchors.iter().chain(&rule.keywords) {
            // The prefilter indexes 3-byte grams; a shorter literal is searched on its own and
            // slows every scan (see keyhound-engine's prefilter).
            if lit.len() < 3 {
                err(
                    ProblemLevel::Error,
                    format!(
                        "literal {lit:?} is shorter than 3 bytes; use a longer anchor or a keyword"
                    ),
                );
            }
        }
        match crate::pattern_regex(&rule.pattern) {
            Ok(re) => {
                if !re.capture_names().flatten().any(|n| n == "secret") {
                    err(
                        ProblemLevel::Error,
                        "pattern has no named group `secret`".into(),
                    );
                }
            }
            Err(e) => err(
                ProblemLevel::Error,
                format!("pattern does not compile: {e}"),
            ),
        }
        if let Some(h) = rule.min_entropy {
            if !(0.0..=8.0).contains(&h) {
                err(
                    ProblemLevel::Error,
                    format!("min_entropy {h} is outside 0..=8"),
                );
            }
        }
        if options.require_examples && rule.examples.is_empty() {
            err(ProblemLevel::Error, "has no examples".into());
        }
        if options.require_examples && rule.negative_examples.is_empty() {
            err(ProblemLevel::Error, "has no negative_examples".into());
        }
        for (name, pattern) in &rule.require_facts {
            if let Some(e) = regex_error(pattern) {
                err(
                    ProblemLevel::Error,
                    format!("require_facts.{name} does not compile: {e}"),
                );
            }
        }
        for pattern in &rule.paths {
            if let Some(e) = regex_error(pattern) {
                err(
                    ProblemLevel::Error,
                    format!("path regex {pattern:?} does not compile: {e}"),
                );
            }
        }
        for (n, allow) in rule.allowlists.iter().enumerate() {
            if allow.is_empty() {
                err(
                    ProblemLevel::Error,
                    format!(
                        "allowlist {} has no check (needs regexes, stopwords, paths or commits)",
                        n + 1
                    ),
                );
            }
            for pattern in allow.regexes.iter().chain(&allow.paths) {
                if let Some(e) = regex_error(pattern) {
                    err(
                        ProblemLevel::Error,
                        format!(
                            "allowlist {} regex {pattern:?} does not compile: {e}",
                            n + 1
                        ),
                    );
                }
            }
        }
        for r in &rule.references {
            if !(r.starts_with("https://") || r.starts_with("http://")) {
                err(
                    ProblemLevel::Warning,
                    format!("reference {r:?} is not a URL"),
                );
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_shapes() {
        assert!(id_is_well_formed("keyhound.jfrog.1"));
        assert!(id_is_well_formed("acme.internal-token"));
        assert!(!id_is_well_formed("keyhound"));
        assert!(!id_is_well_formed("Keyhound.jfrog.1"));
        assert!(!id_is_well_formed("keyhound..1"));
        assert!(!id_is_well_formed(""));
    }
}
