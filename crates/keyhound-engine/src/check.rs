//! `keyhound rules check`: structural validation plus every rule's examples run through the
//! real matcher.

use keyhound_rules::{Problem, ProblemLevel, Rule, ValidateOptions, validate_with};

use crate::{Matcher, Options};

/// Fewer examples than this is a warning (`--warnings-as-errors` turns it into an error).
pub const MIN_EXAMPLES: usize = 3;

/// Validates `rules` and runs each rule's examples and negative examples through a matcher
/// compiled from that rule alone, then checks that the whole set compiles together.
pub fn check_rules(rules: &[Rule], options: Options) -> Vec<Problem> {
    check_rules_with(rules, options, ValidateOptions::default())
}

/// [`check_rules`] with a choice of what the rules must have: converted gitleaks rules have no
/// examples and may have no prefilter literal.
pub fn check_rules_with(
    rules: &[Rule],
    options: Options,
    required: ValidateOptions,
) -> Vec<Problem> {
    let mut problems = validate_with(rules, required);
    let broken: std::collections::HashSet<String> = problems
        .iter()
        .filter(|p| p.level == ProblemLevel::Error)
        .map(|p| p.rule_id.clone())
        .collect();
    for rule in rules.iter().filter(|r| !broken.contains(&r.id)) {
        let mut report = |level: ProblemLevel, message: String| {
            problems.push(Problem {
                rule_id: rule.id.clone(),
                level,
                message,
            });
        };
        let matcher = match Matcher::new(vec![rule.clone()], options) {
            Ok(m) => m,
            Err(e) => {
                report(ProblemLevel::Error, error_chain(&e));
                continue;
            }
        };
        if required.require_examples && rule.examples.len() < MIN_EXAMPLES {
            report(
                ProblemLevel::Warning,
                format!(
                    "has {} examples; at least {MIN_EXAMPLES} are expected",
                    rule.examples.len()
                ),
            );
        }
        if required.require_examples && rule.negative_examples.len() < MIN_EXAMPLES {
            report(
                ProblemLevel::Warning,
                format!(
                    "has {} negative examples; at least {MIN_EXAMPLES} are expected",
                    rule.negative_examples.len()
                ),
            );
        }
        let mut scratch = matcher.scratch();
        for (n, example) in rule.examples.iter().enumerate() {
            let mut found = Vec::new();
            matcher.scan(example.text.as_bytes(), &mut scratch, &mut found);
            let secrets: Vec<String> = found
                .iter()
                .filter(|m| m.decoded_by.is_none())
                .map(|m| m.secret.expose_str().into_owned())
                .collect();
            if !secrets.iter().any(|s| s == &example.secret) {
                let got = if secrets.is_empty() {
                    "no match".to_owned()
                } else {
                    format!(
                        "{} other match(es), e.g. {}",
                        secrets.len(),
                        crate::redact(secrets[0].as_bytes())
                    )
                };
                report(
                    ProblemLevel::Error,
                    format!("example {} does not yield its secret ({got})", n + 1),
                );
            }
        }
        for (n, text) in rule.negative_examples.iter().enumerate() {
            let mut found = Vec::new();
            matcher.scan(text.as_bytes(), &mut scratch, &mut found);
            if let Some(m) = found.iter().find(|m| m.decoded_by.is_none()) {
                report(
                    ProblemLevel::Error,
                    format!(
                        "negative example {} matches ({})",
                        n + 1,
                        m.secret.redacted()
                    ),
                );
            }
        }
    }
    if let Err(e) = Matcher::new(rules.to_vec(), options) {
        problems.push(Problem {
            rule_id: "(all)".into(),
            level: ProblemLevel::Error,
            message: error_chain(&e),
        });
    }
    problems
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
