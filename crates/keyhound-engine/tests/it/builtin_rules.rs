//! Every built-in rule's examples and negative examples, run through the real matcher
//! (the same check as `keyhound rules check --warnings-as-errors`).

use keyhound_engine::{Options, check_rules};

#[test]
fn every_builtin_rule_passes_its_examples() {
    let rules = keyhound_rules::builtin().expect("built-in rules parse");
    assert!(!rules.is_empty());
    let problems = check_rules(&rules, Options::default());
    let report: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(report.is_empty(), "rule problems:\n{}", report.join("\n"));
}

#[test]
fn jfrog_rules_have_five_examples_and_five_negatives() {
    let rules = keyhound_rules::builtin().expect("built-in rules parse");
    let jfrog: Vec<_> = rules.iter().filter(|r| r.provider == "jfrog").collect();
    assert!(jfrog.len() >= 15, "only {} JFrog rules", jfrog.len());
    for r in jfrog {
        assert!(
            r.examples.len() >= 5,
            "{} has {} examples",
            r.id,
            r.examples.len()
        );
        assert!(
            r.negative_examples.len() >= 5,
            "{} has {} negatives",
            r.id,
            r.negative_examples.len()
        );
    }
}

#[test]
fn a_rule_without_examples_fails_the_check() {
    let yaml = r#"
rules:
  - id: acme.no-examples
    name: No examples
    severity: low
    confidence: low
    anchors: [acme_]
    pattern: 'acme_(?P<secret>[a-z]{10})'
"#;
    let rules = keyhound_rules::RuleFile::parse("inline", yaml)
        .expect("parses")
        .rules;
    let problems = check_rules(&rules, Options::default());
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("has no examples")),
        "{problems:?}"
    );
}

#[test]
fn a_rule_whose_negative_matches_fails_the_check() {
    let yaml = r#"
rules:
  - id: acme.bad-negative
    name: Bad negative
    description: x
    severity: low
    confidence: low
    anchors: [acme_]
    pattern: 'acme_(?P<secret>[a-z]{10})'
    examples:
      - {text: 'k = acme_qwertyuiop', secret: qwertyuiop}
    negative_examples:
      - 'k = acme_asdfghjklz'
"#;
    let rules = keyhound_rules::RuleFile::parse("inline", yaml)
        .expect("parses")
        .rules;
    let problems = check_rules(&rules, Options::default());
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("negative example 1 matches")),
        "{problems:?}"
    );
}
