//! Converts a gitleaks configuration (TOML) into keyhound rules, so that a team keeps its
//! custom gitleaks rules when it moves to keyhound.
//!
//! What converts, and how (docs/rules.md has the user-facing table):
//!
//! - `[[rules]]`: `id` becomes `gitleaks.<id>`; `description`, `regex`, `secretGroup`,
//!   `entropy`, `keywords`, `path`, `tags` (kept in the description), `allowlist` (old single
//!   table) and `allowlists`.
//! - `secretGroup = N` names capture group N `secret`; without it, group 1 (or the whole match
//!   when the regex has no group) is the secret. gitleaks takes the first non-empty group.
//! - `keywords` keep gitleaks' meaning (one must occur in the input) through `requires`. The
//!   prefilter literals come from the regex's literal prefixes; a regex with none runs over
//!   every input that holds a keyword (over every input when there are no keywords), which is
//!   what gitleaks does.
//! - `entropy`: gitleaks drops a secret whose entropy is not above the value; keyhound's
//!   `min_entropy` keeps a secret at the value, so the converted floor is a hair above it.
//! - Allowlists keep their semantics (see [`crate::Allowlist`]); global ones (`[allowlist]`,
//!   `[[allowlists]]`) apply to every converted rule, or to their `targetRules`.
//! - Not converted, reported as notes: `[extend]` (its `path` is returned for the caller to
//!   load, `useDefault` is replaced by keyhound's built-in rules), `[[rules.required]]`
//!   (composite rules report without their companions), `skipReport` rules (dropped), and
//!   rules with only a `path` (keyhound reports secrets, not files).
//! - Go's RE2 syntax is close to Rust's `regex`. Regexes that do not compile (`\C`, `\Q…\E`,
//!   a repetition above the size limit) drop their rule with a note that says why. RE2's
//!   `\w`, `\d`, `\s` and `\b` are ASCII-only: converted regexes get `(?-u)` semantics for
//!   them by the `(?-u:…)` classes they are rewritten to.
//!
//! ```
//! let toml = r#"
//! [[rules]]
//! id = "acme-key"
//! regex = '''acme_[a-z0-9]{16}'''
//! keywords = ["acme_"]
//! "#;
//! let conv = keyhound_rules::gitleaks::convert("gitleaks.toml", toml).expect("valid config");
//! assert_eq!(conv.rules[0].id, "gitleaks.acme-key");
//! ```

use std::collections::HashMap;

use regex_syntax::ast;
use toml::{Table, Value};

use crate::{Allowlist, Condition, Confidence, RegexTarget, Rule, Severity};

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoteLevel {
    /// The converted rule behaves differently from gitleaks in an edge case.
    Warning,
    /// A rule (or part of the configuration) could not be converted and is left out.
    Error,
}

/// Something the conversion could not keep exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The gitleaks rule id, when the note is about one rule.
    pub rule_id: Option<String>,
    /// Warning or error.
    pub level: NoteLevel,
    /// What happened, lowercase and without a final period.
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.rule_id {
            Some(id) => write!(f, "gitleaks rule {id}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The result of [`convert`].
#[derive(Debug, Clone, Default)]
pub struct Conversion {
    /// The converted rules, in file order.
    pub rules: Vec<Rule>,
    /// What could not be converted exactly.
    pub notes: Vec<Note>,
    /// `[extend] path`: another gitleaks file this one extends, for the caller to load
    /// (relative to this file's directory).
    pub extends: Option<String>,
    /// `[extend] disabledRules`: gitleaks rule ids (of the extended file) to leave out.
    pub disabled: Vec<String>,
}

/// Errors that make the whole file unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not valid TOML.
    #[error("invalid TOML in {source_name}")]
    Toml {
        /// The file.
        source_name: String,
        /// The parser's error, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// Valid TOML that is not a gitleaks configuration.
    #[error("{source_name} is not a gitleaks configuration: {reason}")]
    NotGitleaks {
        /// The file.
        source_name: String,
        /// Why.
        reason: String,
    },
}

/// A key lookup that ignores case, as gitleaks' configuration loader (viper) does.
fn get<'a>(table: &'a Table, key: &str) -> Option<&'a Value> {
    table
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn get_str(table: &Table, key: &str) -> Option<String> {
    get(table, key).and_then(Value::as_str).map(str::to_owned)
}

fn get_strings(table: &Table, key: &str) -> Vec<String> {
    match get(table, key) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn get_tables<'a>(table: &'a Table, key: &str) -> Vec<&'a Table> {
    match get(table, key) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_table).collect(),
        Some(Value::Table(t)) => vec![t],
        _ => Vec::new(),
    }
}

/// A keyhound rule id for a gitleaks id: `gitleaks.` and the id in lowercase, with characters
/// outside `[a-z0-9_-]` replaced by `-`.
pub fn rule_id(gitleaks_id: &str) -> String {
    let cleaned: String = gitleaks_id
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("gitleaks.{cleaned}")
}

/// Rewrites RE2's ASCII-only Perl classes and word boundary into their explicit ASCII forms
/// (Rust's are Unicode-aware), outside character classes only.
fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = 0usize;
    while let Some(c) = chars.next() {
        if c == '\\' {
            let Some(&next) = chars.peek() else {
                out.push(c);
                break;
            };
            chars.next();
            let replacement = match next {
                'd' if in_class == 0 => Some("[0-9]"),
                'D' if in_class == 0 => Some("[^0-9]"),
                'w' if in_class == 0 => Some("[0-9A-Za-z_]"),
                'W' if in_class == 0 => Some("[^0-9A-Za-z_]"),
                's' if in_class == 0 => Some("[\\t\\n\\f\\r ]"),
                'S' if in_class == 0 => Some("[^\\t\\n\\f\\r ]"),
                'b' if in_class == 0 => Some("(?-u:\\b)"),
                'B' if in_class == 0 => Some("(?-u:\\B)"),
                'd' => Some("0-9"),
                'w' => Some("0-9A-Za-z_"),
                's' => Some("\\t\\n\\f\\r "),
                _ => None,
            };
            match replacement {
                Some(r) => out.push_str(r),
                None => {
                    out.push('\\');
                    out.push(next);
                }
            }
            continue;
        }
        if c == '[' {
            // `[[:alpha:]]` and nested classes: count brackets outside escapes.
            in_class += 1;
        } else if c == ']' && in_class > 0 {
            in_class -= 1;
        }
        out.push(c);
    }
    out
}

/// Capture groups of a regex, in index order: (span of the group's opening syntax, is named).
fn capture_groups(pattern: &str) -> Result<Vec<(usize, usize, Option<String>)>, String> {
    let parsed = ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    let mut groups = Vec::new();
    let mut stack = vec![&parsed];
    while let Some(node) = stack.pop() {
        match node {
            ast::Ast::Group(g) => {
                match &g.kind {
                    ast::GroupKind::CaptureIndex(i) => groups.push((*i, g.span.start.offset, None)),
                    ast::GroupKind::CaptureName { name, .. } => {
                        groups.push((name.index, g.span.start.offset, Some(name.name.clone())))
                    }
                    ast::GroupKind::NonCapturing(_) => {}
                }
                stack.push(&g.ast);
            }
            ast::Ast::Repetition(r) => stack.push(&r.ast),
            ast::Ast::Alternation(a) => stack.extend(a.asts.iter()),
            ast::Ast::Concat(c) => stack.extend(c.asts.iter()),
            _ => {}
        }
    }
    groups.sort();
    Ok(groups
        .into_iter()
        .map(|(i, start, name)| (i as usize, start, name))
        .collect())
}

/// Names capture group `group` `secret` and removes the names of the others (they would be
/// reported as facts). `group` 0 means the whole match.
fn name_secret_group(pattern: &str, group: usize) -> Result<String, String> {
    let groups = capture_groups(pattern)?;
    if group == 0 {
        return Ok(format!("(?P<secret>{})", unname_all(pattern, &groups)));
    }
    if !groups.iter().any(|(i, _, _)| *i == group) {
        return Err(format!(
            "secretGroup {group} does not exist (the regex has {} capture groups)",
            groups.len()
        ));
    }
    // Rewrite from the end so that earlier offsets stay valid.
    let mut out = pattern.to_owned();
    for (i, start, name) in groups.iter().rev() {
        let open_len = match name {
            Some(_) => out[*start..].find('>').map_or(1, |p| p + 1),
            None => 1,
        };
        let replacement = if *i == group { "(?P<secret>" } else { "(" };
        out.replace_range(*start..*start + open_len, replacement);
    }
    Ok(out)
}

fn unname_all(pattern: &str, groups: &[(usize, usize, Option<String>)]) -> String {
    let mut out = pattern.to_owned();
    for (_, start, name) in groups.iter().rev() {
        if name.is_some() {
            let open_len = out[*start..].find('>').map_or(1, |p| p + 1);
            out.replace_range(*start..*start + open_len, "(");
        }
    }
    out
}

/// Literal prefixes of every match, when there are few and all are at least 3 bytes long:
/// `(anchors, keywords)` (case-insensitive prefixes become keywords).
fn prefix_literals(pattern: &str) -> Option<(Vec<String>, Vec<String>)> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    // ASCII case folding only: Unicode folding turns `k` into the Kelvin sign and so on.
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .build()
        .parse(pattern)
        .ok()?;
    let mut extractor = Extractor::new();
    // Generous limits: a case-insensitive word expands to every case variant, which are folded
    // back into one keyword below.
    extractor.kind(ExtractKind::Prefix).limit_total(4096);
    let seq = extractor.extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.len() > 4096 {
        return None;
    }
    let mut strings = Vec::new();
    for lit in literals {
        let s = std::str::from_utf8(lit.as_bytes()).ok()?;
        if s.len() < 3 {
            return None;
        }
        strings.push(s.to_owned());
    }
    let case_variants = {
        let mut lower: Vec<String> = strings.iter().map(|s| s.to_ascii_lowercase()).collect();
        lower.sort();
        lower.dedup();
        lower.len() < strings.len()
    };
    // Few literals: cut every literal to the longest length that leaves at most 4 distinct
    // ones (expansions of a trailing class such as `[_-]` or `\s`), or else at most 16.
    let max_len = strings.iter().map(String::len).max()?;
    let fold = |s: &str, n: usize| -> String {
        let cut: String = s.chars().take(n).collect();
        if case_variants {
            cut.to_ascii_lowercase()
        } else {
            cut
        }
    };
    for limit in [4, 16] {
        for n in (3..=max_len).rev() {
            let mut set: Vec<String> = strings.iter().map(|s| fold(s, n)).collect();
            set.sort();
            set.dedup();
            if set.len() <= limit {
                return Some(if case_variants {
                    (Vec::new(), set)
                } else {
                    (set, Vec::new())
                });
            }
        }
    }
    None
}

fn convert_allowlist(
    table: &Table,
    rule_id: Option<&str>,
    notes: &mut Vec<Note>,
) -> Option<Allowlist> {
    let mut note = |level, message: String| {
        notes.push(Note {
            rule_id: rule_id.map(str::to_owned),
            level,
            message,
        })
    };
    let condition = match get_str(table, "condition")
        .unwrap_or_default()
        .to_ascii_uppercase()
        .as_str()
    {
        "" | "OR" | "||" => Condition::Or,
        "AND" | "&&" => Condition::And,
        other => {
            note(
                NoteLevel::Error,
                format!(
                    "allowlist condition {other:?} is not OR or AND; the allowlist is left out"
                ),
            );
            return None;
        }
    };
    let regex_target = match get_str(table, "regexTarget").unwrap_or_default().as_str() {
        "" | "secret" => RegexTarget::Secret,
        "match" => RegexTarget::Match,
        "line" => RegexTarget::Line,
        other => {
            note(
                NoteLevel::Error,
                format!(
                    "allowlist regexTarget {other:?} is not secret, match or line; the allowlist is left out"
                ),
            );
            return None;
        }
    };
    let mut regexes = Vec::new();
    for r in get_strings(table, "regexes") {
        let converted = ascii_perl_classes(&r);
        match regex::bytes::Regex::new(&converted) {
            Ok(_) => regexes.push(converted),
            Err(e) => note(
                NoteLevel::Warning,
                format!(
                    "allowlist regex {r:?} does not compile in Rust's regex and is left out: {e}"
                ),
            ),
        }
    }
    let mut paths = Vec::new();
    for p in get_strings(table, "paths") {
        let converted = ascii_perl_classes(&p);
        match regex::Regex::new(&converted) {
            Ok(_) => paths.push(converted),
            Err(e) => note(
                NoteLevel::Warning,
                format!(
                    "allowlist path regex {p:?} does not compile in Rust's regex and is left out: {e}"
                ),
            ),
        }
    }
    let allow = Allowlist {
        description: get_str(table, "description").unwrap_or_default(),
        condition,
        regexes,
        regex_target,
        stopwords: get_strings(table, "stopwords"),
        paths,
        commits: get_strings(table, "commits"),
    };
    if allow.is_empty() {
        return None;
    }
    if !allow.commits.is_empty() {
        note(
            NoteLevel::Warning,
            "allowlist commits apply to git history scans; a directory scan has no commit".into(),
        );
    }
    Some(allow)
}

/// Converts the text of a gitleaks configuration. `source_name` names the file in errors and
/// in each rule's `origin`.
pub fn convert(source_name: &str, text: &str) -> Result<Conversion, Error> {
    let doc: Table = text.parse().map_err(|source| Error::Toml {
        source_name: source_name.to_owned(),
        source,
    })?;
    let rule_tables = get_tables(&doc, "rules");
    let has_extend = get(&doc, "extend").is_some();
    if rule_tables.is_empty() && !has_extend && get(&doc, "allowlist").is_none() {
        return Err(Error::NotGitleaks {
            source_name: source_name.to_owned(),
            reason: "it has no [[rules]] and no [extend]".into(),
        });
    }
    let mut conv = Conversion::default();
    let notes = &mut conv.notes;

    if let Some(Value::Table(extend)) = get(&doc, "extend") {
        if get(extend, "useDefault").and_then(Value::as_bool) == Some(true) {
            notes.push(Note {
                rule_id: None,
                level: NoteLevel::Warning,
                message: "[extend] useDefault: keyhound's built-in rules take the place of gitleaks' default rules".into(),
            });
        }
        if let Some(url) = get_str(extend, "url") {
            notes.push(Note {
                rule_id: None,
                level: NoteLevel::Error,
                message: format!("[extend] url {url:?} is not fetched; download it and use path"),
            });
        }
        conv.extends = get_str(extend, "path");
        conv.disabled = get_strings(extend, "disabledRules");
    }

    // Global allowlists: the old single table or the array, each for all rules or for its
    // targetRules.
    let mut global: Vec<(Allowlist, Vec<String>)> = Vec::new();
    for table in get_tables(&doc, "allowlist")
        .into_iter()
        .chain(get_tables(&doc, "allowlists"))
    {
        if let Some(a) = convert_allowlist(table, None, notes) {
            global.push((a, get_strings(table, "targetRules")));
        }
    }

    let mut by_id: HashMap<String, usize> = HashMap::new();
    for table in rule_tables {
        let Some(gid) = get_str(table, "id") else {
            notes.push(Note {
                rule_id: None,
                level: NoteLevel::Error,
                message: "a [[rules]] entry has no id and is left out".into(),
            });
            continue;
        };
        let mut note = |level, message: String| {
            notes.push(Note {
                rule_id: Some(gid.clone()),
                level,
                message,
            })
        };
        if get(table, "skipReport").and_then(Value::as_bool) == Some(true) {
            note(
                NoteLevel::Warning,
                "skipReport rules only serve [[rules.required]] and are left out".into(),
            );
            continue;
        }
        if !get_tables(table, "required").is_empty() {
            note(
                NoteLevel::Warning,
                "[[rules.required]] (composite rules) is not supported: the rule reports without its required companions".into(),
            );
        }
        let Some(regex) = get_str(table, "regex").filter(|r| !r.is_empty()) else {
            note(
                NoteLevel::Error,
                "rules with only a path report files, not secrets; left out".into(),
            );
            continue;
        };
        if regex.contains("\\Q") || regex.contains("\\C") {
            note(
                NoteLevel::Error,
                "the regex uses \\Q…\\E or \\C, which Rust's regex does not support; left out"
                    .into(),
            );
            continue;
        }
        let secret_group = match get(table, "secretGroup") {
            Some(Value::Integer(n)) if *n >= 0 => *n as usize,
            Some(_) => {
                note(
                    NoteLevel::Error,
                    "secretGroup must be a non-negative integer; left out".into(),
                );
                continue;
            }
            None => 0,
        };
        let converted = ascii_perl_classes(&regex);
        let groups = match capture_groups(&converted) {
            Ok(g) => g,
            Err(e) => {
                note(
                    NoteLevel::Error,
                    format!("the regex does not parse as Rust regex syntax ({e}); left out"),
                );
                continue;
            }
        };
        let group = if secret_group > 0 {
            secret_group
        } else if groups.is_empty() {
            0
        } else {
            if groups.len() > 1 {
                note(
                    NoteLevel::Warning,
                    "no secretGroup and several groups: keyhound takes group 1 (gitleaks the first non-empty one)".into(),
                );
            }
            1
        };
        let pattern = match name_secret_group(&converted, group) {
            Ok(p) => p,
            Err(e) => {
                note(NoteLevel::Error, format!("{e}; left out"));
                continue;
            }
        };
        if let Err(e) = crate::pattern_regex(&pattern) {
            note(
                NoteLevel::Error,
                format!("the regex does not compile in Rust's regex ({e}); left out"),
            );
            continue;
        }
        let keywords: Vec<String> = get_strings(table, "keywords")
            .into_iter()
            .map(|k| k.to_ascii_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        let (anchors, prefilter_keywords) = prefix_literals(&pattern).unwrap_or_default();
        if anchors.is_empty() && prefilter_keywords.is_empty() {
            note(
                NoteLevel::Warning,
                if keywords.is_empty() {
                    "the regex has no literal prefix and there are no keywords: it runs over every input (slow)".into()
                } else {
                    "the regex has no literal prefix: it runs over every input that holds a keyword"
                        .into()
                },
            );
        }
        let mut paths = Vec::new();
        if let Some(path) = get_str(table, "path").filter(|p| !p.is_empty()) {
            let p = ascii_perl_classes(&path);
            match regex::Regex::new(&p) {
                Ok(_) => paths.push(p),
                Err(e) => {
                    note(
                        NoteLevel::Error,
                        format!("the path regex does not compile in Rust's regex ({e}); left out"),
                    );
                    continue;
                }
            }
        }
        let min_entropy = match get(table, "entropy") {
            Some(Value::Float(f)) if *f > 0.0 => Some(f + 1e-9),
            Some(Value::Integer(i)) if *i > 0 => Some(*i as f64 + 1e-9),
            _ => None,
        };
        let mut allowlists = Vec::new();
        let mut allow_notes = Vec::new();
        for t in get_tables(table, "allowlist")
            .into_iter()
            .chain(get_tables(table, "allowlists"))
        {
            if let Some(a) = convert_allowlist(t, Some(&gid), &mut allow_notes) {
                allowlists.push(a);
            }
        }
        let description = get_str(table, "description").unwrap_or_default();
        let tags = get_strings(table, "tags");
        let mut full_description = if description.is_empty() {
            format!("Converted from gitleaks rule {gid}.")
        } else {
            format!("{description} (converted from gitleaks rule {gid})")
        };
        if !tags.is_empty() {
            full_description.push_str(&format!(" Tags: {}.", tags.join(", ")));
        }
        let id = rule_id(&gid);
        let rule = Rule {
            name: if description.is_empty() {
                gid.clone()
            } else {
                description.clone()
            },
            description: full_description,
            provider: "gitleaks".into(),
            category: "custom".into(),
            severity: Severity::Medium,
            confidence: Confidence::Medium,
            anchors,
            keywords: prefilter_keywords,
            requires: keywords,
            pattern,
            min_entropy,
            decoder: None,
            generic: false,
            family: None,
            window: None,
            reject_placeholders: false,
            require_facts: Default::default(),
            allowlists,
            paths,
            references: Vec::new(),
            examples: Vec::new(),
            negative_examples: Vec::new(),
            origin: source_name.to_owned(),
            id: id.clone(),
        };
        if by_id.insert(gid.clone(), conv.rules.len()).is_some() {
            note(
                NoteLevel::Warning,
                "the id is used twice; the later rule replaces the earlier one".into(),
            );
            let i = by_id[&gid];
            conv.rules[i] = rule;
        } else {
            conv.rules.push(rule);
        }
        notes.extend(allow_notes);
    }

    for (allow, targets) in global {
        if targets.is_empty() {
            for r in &mut conv.rules {
                r.allowlists.push(allow.clone());
            }
            continue;
        }
        for t in targets {
            match by_id.get(&t) {
                Some(&i) => conv.rules[i].allowlists.push(allow.clone()),
                None => conv.notes.push(Note {
                    rule_id: None,
                    level: NoteLevel::Warning,
                    message: format!(
                        "[[allowlists]] targetRules names {t:?}, which is not a rule of this file"
                    ),
                }),
            }
        }
    }
    Ok(conv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_groups_are_named() {
        assert_eq!(
            name_secret_group("(a)(b)", 2).expect("ok"),
            "(a)(?P<secret>b)"
        );
        assert_eq!(
            name_secret_group("(?P<x>a)(b)", 1).expect("ok"),
            "(?P<secret>a)(b)"
        );
        assert_eq!(
            name_secret_group("(?P<x>a)(b)", 2).expect("ok"),
            "(a)(?P<secret>b)"
        );
        assert_eq!(
            name_secret_group("(?i)ab(?:c)", 0).expect("ok"),
            "(?P<secret>(?i)ab(?:c))"
        );
        assert!(name_secret_group("(a)", 3).is_err());
    }

    #[test]
    fn re2_classes_become_ascii() {
        assert_eq!(ascii_perl_classes(r"\d{3}\b"), r"[0-9]{3}(?-u:\b)");
        assert_eq!(ascii_perl_classes(r"[\w.-]+"), r"[0-9A-Za-z_.-]+");
        assert_eq!(ascii_perl_classes(r"\.\\d"), r"\.\\d");
    }

    #[test]
    fn literal_prefixes() {
        assert_eq!(
            prefix_literals("ghp_[a-z]{3}"),
            Some((vec!["ghp_".to_owned()], vec![]))
        );
        assert_eq!(
            prefix_literals("(?i)token[a-z]"),
            Some((vec![], vec!["token".to_owned()]))
        );
        assert_eq!(prefix_literals("[a-f0-9]{32}"), None);
        assert_eq!(prefix_literals("(?:ab|cd)[0-9]"), None);
        assert_eq!(
            prefix_literals("(?:ab|cdef)x"),
            Some((vec!["abx".to_owned(), "cdefx".to_owned()], vec![]))
        );
        assert_eq!(
            prefix_literals("(?i)acme[_-]?key"),
            Some((
                vec![],
                vec![
                    "acme-key".to_owned(),
                    "acme_key".to_owned(),
                    "acmekey".to_owned()
                ]
            ))
        );
        assert_eq!(
            prefix_literals("(?i)acme[_-]?key[ =]"),
            Some((
                vec![],
                vec![
                    "acme-key".to_owned(),
                    "acme_key".to_owned(),
                    "acmekey ".to_owned(),
                    "acmekey=".to_owned()
                ]
            ))
        );
    }

    #[test]
    fn converts_rules_and_allowlists() {
        let toml = r#"
title = "acme"
[extend]
useDefault = true

[allowlist]
paths = ['''(^|/)testdata/''']
stopwords = ["example"]

[[rules]]
id = "Acme API Key"
description = "ACME API key"
regex = '''(?i)acme[_-]?key\s*=\s*([a-z0-9]{20})'''
secretGroup = 1
entropy = 3
keywords = ["acme"]
tags = ["acme"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''#\s*fake''']

[[rules]]
id = "hex-token"
regex = '''\b([a-f0-9]{32})\b'''
keywords = ["token"]

[[rules]]
id = "pem-file"
path = '''\.pem$'''
"#;
        let conv = convert("gitleaks.toml", toml).expect("converts");
        let ids: Vec<&str> = conv.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["gitleaks.acme-api-key", "gitleaks.hex-token"]);
        let acme = &conv.rules[0];
        assert_eq!(acme.keywords, ["acme-ke", "acme_ke", "acmekey"]);
        assert_eq!(acme.requires, ["acme"]);
        assert!(acme.pattern.contains("(?P<secret>"));
        assert!(acme.min_entropy.is_some_and(|h| h > 3.0));
        assert_eq!(acme.allowlists.len(), 2, "its own and the global one");
        assert_eq!(acme.allowlists[0].regex_target, RegexTarget::Line);
        let hex = &conv.rules[1];
        assert!(hex.anchors.is_empty() && hex.keywords.is_empty());
        assert_eq!(hex.requires, ["token"]);
        assert!(conv.notes.iter().any(|n| n.message.contains("useDefault")));
        assert!(
            conv.notes
                .iter()
                .any(|n| n.level == NoteLevel::Error && n.rule_id.as_deref() == Some("pem-file"))
        );
    }

    #[test]
    fn rejects_other_toml() {
        assert!(matches!(
            convert("Cargo.toml", "[package]\nname = \"x\"\n"),
            Err(Error::NotGitleaks { .. })
        ));
        assert!(matches!(
            convert("x.toml", "not = [toml"),
            Err(Error::Toml { .. })
        ));
    }
}
