//! Recall: the generated recall corpus (fake credentials for every built-in rule in `.env`,
//! code, config, JSON, YAML and XML files) is found at the right place, by the expected rule or
//! a rule of the same provider family. `bench/recall.py` prints the same figure with the misses.

use std::collections::{BTreeMap, BTreeSet};

use keyhound_testkit::recall::{self, MIN_CASES};

use crate::common::{scan_json, write};

#[test]
fn recall_corpus_is_found_by_the_right_rule_family() {
    let corpus = recall::corpus(1).expect("corpus");
    let dir = tempfile::tempdir().expect("tempdir");
    for f in &corpus.files {
        write(dir.path(), &f.path, &f.text);
    }

    // Every built-in rule has at least MIN_CASES credentials in the corpus.
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &corpus.cases {
        *per_rule.entry(c.rule_id.as_str()).or_default() += 1;
    }
    for rule in keyhound_rules::builtin().expect("built-in rules") {
        let n = per_rule.get(rule.id.as_str()).copied().unwrap_or(0);
        assert!(n >= MIN_CASES, "{}: {n} recall cases", rule.id);
    }

    let scan = scan_json(dir.path(), &["--show-secrets"]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    // (path, line, secret) → rules that reported it.
    let mut found: BTreeMap<(String, u64, String), BTreeSet<String>> = BTreeMap::new();
    for f in scan.json["findings"].as_array().expect("findings") {
        let rule = f["rule_id"].as_str().expect("rule_id").to_owned();
        let secret = f["secret"].as_str().expect("secret").to_owned();
        for l in f["locations"].as_array().expect("locations") {
            let key = (
                l["path"].as_str().expect("path").to_owned(),
                l["line"].as_u64().expect("line"),
                secret.clone(),
            );
            found.entry(key).or_default().insert(rule.clone());
        }
    }
    let mut strict = 0;
    let mut missed = Vec::new();
    for c in &corpus.cases {
        let rules = found
            .get(&(c.path.clone(), c.line, c.secret.clone()))
            .cloned()
            .unwrap_or_default();
        strict += usize::from(rules.contains(&c.rule_id));
        if !rules
            .iter()
            .any(|r| recall::family(r) == recall::family(&c.rule_id))
        {
            missed.push((c.rule_id.clone(), c.context.clone(), c.path.clone(), rules));
        }
    }
    let n = corpus.cases.len();
    let family = n - missed.len();
    eprintln!("recall: strict {strict}/{n}, family {family}/{n}");
    assert!(
        family * 100 >= n * 99,
        "family recall {family}/{n} is below 99%; missed:\n{missed:#?}"
    );
}
