//! Allowlists: conditions under which a rule's match is not reported.
//!
//! The semantics are gitleaks' (a gitleaks config converts one to one): with `or`, any check
//! drops the match; with `and`, every check that is present must hold. The content checks
//! (regexes on the secret, the match or its line; stopwords in the secret) run here, in the
//! matcher. Path and commit checks need the input's origin, which the matcher never sees: a
//! match whose fate depends on them carries a bit for that allowlist
//! ([`crate::Match::path_allowlists`]) and the scan layer asks
//! [`crate::Matcher::dropped_by_path`] once it knows the path.
//!
//! The same compiled type serves any later global allowlist (keyhound.toml): a global
//! allowlist is one more entry in every rule's list.

use keyhound_rules::{Allowlist, Condition, RegexTarget};
use regex::bytes::Regex;

/// The outcome of an allowlist's content checks for one match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Report the match (as far as this allowlist goes).
    Keep,
    /// Do not report the match.
    Drop,
    /// The input's path (or commit) decides.
    Defer,
}

/// An allowlist compiled for matching.
#[derive(Debug, Clone)]
pub(crate) struct CompiledAllowlist {
    condition: Condition,
    regexes: Option<Regex>,
    target: RegexTarget,
    /// Lowercase.
    stopwords: Vec<Vec<u8>>,
    paths: Option<regex::Regex>,
    has_commits: bool,
}

fn join(patterns: &[String]) -> String {
    patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|")
}

/// True when `haystack` contains `needle` ignoring ASCII case (`needle` is lowercase).
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

impl CompiledAllowlist {
    /// Compiles the regexes of `allow`.
    pub(crate) fn compile(allow: &Allowlist) -> Result<CompiledAllowlist, regex::Error> {
        let regexes = if allow.regexes.is_empty() {
            None
        } else {
            Some(Regex::new(&join(&allow.regexes))?)
        };
        let paths = if allow.paths.is_empty() {
            None
        } else {
            Some(regex::Regex::new(&join(&allow.paths))?)
        };
        Ok(CompiledAllowlist {
            condition: allow.condition,
            regexes,
            target: allow.regex_target,
            stopwords: allow
                .stopwords
                .iter()
                .map(|w| w.as_bytes().to_ascii_lowercase())
                .collect(),
            paths,
            has_commits: !allow.commits.is_empty(),
        })
    }

    /// Whether a path or commit check is present.
    pub(crate) fn has_origin_checks(&self) -> bool {
        self.paths.is_some() || self.has_commits
    }

    /// Whether the regexes need the line around the match.
    pub(crate) fn needs_line(&self) -> bool {
        self.regexes.is_some() && self.target == RegexTarget::Line
    }

    /// Runs the content checks. `line` is only read when [`Self::needs_line`].
    pub(crate) fn check(&self, secret: &[u8], matched: &[u8], line: &[u8]) -> Verdict {
        let regex_hit = self.regexes.as_ref().map(|re| {
            re.is_match(match self.target {
                RegexTarget::Secret => secret,
                RegexTarget::Match => matched,
                RegexTarget::Line => line,
            })
        });
        let stopword_hit = (!self.stopwords.is_empty()).then(|| {
            self.stopwords
                .iter()
                .any(|w| contains_ignore_case(secret, w))
        });
        let origin_checks = self.paths.is_some() || self.has_commits;
        match self.condition {
            Condition::Or => {
                if regex_hit == Some(true) || stopword_hit == Some(true) {
                    Verdict::Drop
                } else if self.paths.is_some() {
                    Verdict::Defer
                } else {
                    Verdict::Keep
                }
            }
            Condition::And => {
                if regex_hit == Some(false) || stopword_hit == Some(false) {
                    Verdict::Keep
                } else if origin_checks {
                    Verdict::Defer
                } else if regex_hit.is_some() || stopword_hit.is_some() {
                    Verdict::Drop
                } else {
                    Verdict::Keep
                }
            }
        }
    }

    /// For a deferred match: true when the origin checks drop it. A scan without commits
    /// never satisfies a `commits` check.
    pub(crate) fn path_allows(&self, path: &str) -> bool {
        let path_hit = self.paths.as_ref().map(|re| re.is_match(path));
        match self.condition {
            Condition::Or => path_hit == Some(true),
            Condition::And => path_hit != Some(false) && !self.has_commits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(f: impl FnOnce(&mut Allowlist)) -> CompiledAllowlist {
        let mut a = Allowlist::default();
        f(&mut a);
        CompiledAllowlist::compile(&a).expect("compiles")
    }

    #[test]
    fn or_regexes_and_stopwords() {
        let a = allow(|a| {
            a.regexes = vec!["^test_".into()];
            a.stopwords = vec!["EXAMPLE".into()];
        });
        assert_eq!(a.check(b"test_abc", b"", b""), Verdict::Drop);
        assert_eq!(a.check(b"abcexampledef", b"", b""), Verdict::Drop);
        assert_eq!(a.check(b"s3cr3tvalue", b"", b""), Verdict::Keep);
    }

    #[test]
    fn regex_targets() {
        let a = allow(|a| {
            a.regexes = vec!["dummy_key".into()];
            a.regex_target = RegexTarget::Line;
        });
        assert!(a.needs_line());
        assert_eq!(
            a.check(b"abc", b"key=abc", b"dummy_key=abc # test"),
            Verdict::Drop
        );
        assert_eq!(a.check(b"abc", b"key=abc", b"key=abc"), Verdict::Keep);
        let m = allow(|a| {
            a.regexes = vec!["^key=".into()];
            a.regex_target = RegexTarget::Match;
        });
        assert_eq!(m.check(b"abc", b"key=abc", b""), Verdict::Drop);
    }

    #[test]
    fn or_paths_defer() {
        let a = allow(|a| a.paths = vec![r"(^|/)testdata/".into()]);
        assert_eq!(a.check(b"abc", b"", b""), Verdict::Defer);
        assert!(a.path_allows("src/testdata/x.env"));
        assert!(!a.path_allows("src/app.env"));
    }

    #[test]
    fn and_needs_every_present_check() {
        let a = allow(|a| {
            a.condition = Condition::And;
            a.regexes = vec!["^AKIA".into()];
            a.paths = vec![r"\.md$".into()];
        });
        assert_eq!(a.check(b"nope", b"", b""), Verdict::Keep);
        assert_eq!(a.check(b"AKIAXYZ", b"", b""), Verdict::Defer);
        assert!(a.path_allows("docs/aws.md"));
        assert!(!a.path_allows("src/aws.py"));
        let content_only = allow(|a| {
            a.condition = Condition::And;
            a.regexes = vec!["^AKIA".into()];
            a.stopwords = vec!["test".into()];
        });
        assert_eq!(content_only.check(b"AKIATEST", b"", b""), Verdict::Drop);
        assert_eq!(content_only.check(b"AKIAPROD", b"", b""), Verdict::Keep);
    }

    #[test]
    fn commits_never_hold_without_a_commit() {
        let or = allow(|a| a.commits = vec!["abc123".into()]);
        assert_eq!(or.check(b"x", b"", b""), Verdict::Keep);
        let and = allow(|a| {
            a.condition = Condition::And;
            a.commits = vec!["abc123".into()];
            a.paths = vec!["x".into()];
        });
        assert_eq!(and.check(b"x", b"", b""), Verdict::Defer);
        assert!(!and.path_allows("x"));
    }
}
