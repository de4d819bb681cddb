//! Allowlists, `require_facts`, `paths` and rules without literals, through the real matcher.

use keyhound_engine::{Match, Matcher, Options};
use keyhound_rules::RuleFile;

fn compile(yaml: &str) -> Matcher {
    let rules = RuleFile::parse("inline", yaml).expect("parses").rules;
    Matcher::new(rules, Options::default()).expect("compiles")
}

fn scan(m: &Matcher, text: &str) -> Vec<Match> {
    let mut scratch = m.scratch();
    let mut out = Vec::new();
    m.scan(text.as_bytes(), &mut scratch, &mut out);
    out
}

fn secrets(found: &[Match]) -> Vec<String> {
    found
        .iter()
        .map(|m| m.secret.expose_str().into_owned())
        .collect()
}

const ACME: &str = r#"
rules:
  - id: acme.token
    name: ACME token
    severity: high
    confidence: high
    anchors: [acme_]
    pattern: '(?P<secret>acme_[a-z0-9]{12})'
    allowlists:
      - description: documented samples
        stopwords: [sample]
        regexes: ['^acme_0000']
      - regex_target: line
        regexes: ['#\s*fake\b']
      - condition: and
        regex_target: match
        regexes: ['^acme_9']
        paths: ['(^|/)testdata/']
"#;

#[test]
fn allowlist_content_checks_drop_matches() {
    let m = compile(ACME);
    let found = scan(
        &m,
        "a = acme_k3j4h5g6f7d8\nb = acme_sample12345\nc = acme_0000aaaa1111\nd = acme_q1w2e3r4t5y6 # fake\n",
    );
    assert_eq!(secrets(&found), ["acme_k3j4h5g6f7d8"]);
    assert_eq!(found[0].path_allowlists, 0);
}

#[test]
fn path_checks_are_deferred_to_the_caller() {
    let m = compile(ACME);
    assert!(m.has_path_conditions());
    let found = scan(&m, "t = acme_9z8y7x6w5v4u\n");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path_allowlists, 0b100);
    assert!(m.dropped_by_path(&found[0], "pkg/testdata/creds.env"));
    assert!(!m.dropped_by_path(&found[0], "pkg/app/creds.env"));
    // The AND allowlist's regex does not hold, so the path cannot drop this one.
    let other = scan(&m, "t = acme_1z8y7x6w5v4u\n");
    assert_eq!(other[0].path_allowlists, 0);
    assert!(!m.dropped_by_path(&other[0], "pkg/testdata/creds.env"));
}

#[test]
fn rule_paths_restrict_where_a_rule_reports() {
    let m = compile(
        r#"
rules:
  - id: acme.php-secret
    name: PHP secret
    severity: low
    confidence: low
    keywords: [secret_key]
    pattern: 'secret_key''?\s*=>\s*"(?P<secret>[a-z0-9]{10})"'
    paths: ['(?i)\.php$']
"#,
    );
    let found = scan(&m, r#"'secret_key' => "a1b2c3d4e5""#);
    assert_eq!(found.len(), 1);
    assert!(!m.dropped_by_path(&found[0], "app/config.php"));
    assert!(m.dropped_by_path(&found[0], "app/config.py"));
}

#[test]
fn require_facts_filters_on_decoded_claims() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = |iss: &str| {
        format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256","typ":"JWT"}"#),
            b64(&format!(
                r#"{{"iss":"{iss}","sub":"system:serviceaccount:ci:deployer"}}"#
            )),
            b64("signature-bytes-signature-bytes")
        )
    };
    let m = compile(
        r#"
rules:
  - id: acme.k8s
    name: Kubernetes token
    severity: high
    confidence: high
    anchors: [eyJhbGciOi]
    pattern: '(?P<secret>eyJhbGciOi[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)'
    decoder: jwt
    require_facts: {issuer: '^kubernetes/serviceaccount$'}
"#,
    );
    let k8s = jwt("kubernetes/serviceaccount");
    let other = jwt("https://login.example.com/");
    let found = scan(&m, &format!("token: {k8s}\nid_token: {other}\n"));
    assert_eq!(secrets(&found), [k8s]);
}

#[test]
fn a_rule_without_literals_runs_everywhere() {
    let m = compile(
        r#"
rules:
  - id: acme.bare
    name: Bare hex
    severity: low
    confidence: low
    pattern: '\b(?P<secret>[0-9a-f]{32})\b'
    requires: [deploy]
"#,
    );
    let hex = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    assert!(
        scan(&m, &format!("x = {hex}\n")).is_empty(),
        "requires not met"
    );
    let found = scan(
        &m,
        &format!("# deploy key\n\n{}\nx = {hex}\n", "filler ".repeat(2000)),
    );
    assert_eq!(secrets(&found), [hex]);
}
