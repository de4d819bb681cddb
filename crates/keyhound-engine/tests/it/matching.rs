//! Matcher behaviour beyond single rule examples: overlap resolution, decoded facts, chunk
//! boundaries and hostile input.

use keyhound_engine::{Flag, Match, Matcher, Options};
use keyhound_testkit::fake;

fn matcher() -> Matcher {
    Matcher::new(
        keyhound_rules::builtin().expect("rules"),
        Options {
            now: 1_780_000_000,
            max_decode_depth: 2,
        },
    )
    .expect("compile")
}

fn scan(m: &Matcher, text: &[u8]) -> Vec<Match> {
    let mut scratch = m.scratch();
    let mut out = Vec::new();
    m.scan(text, &mut scratch, &mut out);
    out
}

fn rule_ids(m: &Matcher, found: &[Match]) -> Vec<String> {
    found.iter().map(|f| m.rule(f.rule).id.clone()).collect()
}

#[test]
fn specific_rule_wins_over_context_rule_for_same_bytes() {
    let m = matcher();
    let key = fake::jfrog_api_key(5);
    let found = scan(&m, format!("ARTIFACTORY_API_KEY={key}\n").as_bytes());
    assert_eq!(rule_ids(&m, &found), ["keyhound.jfrog.1"]);
    assert_eq!(found[0].secret.expose(), key.as_bytes());
}

#[test]
fn context_facts_are_merged_into_the_winner() {
    let m = matcher();
    let token = fake::jfrog_reference_token(8, 0);
    let text =
        format!("index-url = https://ci-bot:{token}@acme.jfrog.io/artifactory/api/pypi/p/simple\n");
    let found = scan(&m, text.as_bytes());
    assert_eq!(rule_ids(&m, &found), ["keyhound.jfrog.2"]);
    assert_eq!(found[0].facts.fields["username"], "ci-bot");
    assert!(found[0].facts.flags.contains(&Flag::NeverExpires));
}

#[test]
fn adjacent_tokens_are_both_found() {
    let m = matcher();
    let (a, b) = (fake::jfrog_api_key(1), fake::jfrog_api_key(2));
    let found = scan(&m, format!("{a},{b}").as_bytes());
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn admin_access_token_facts() {
    let m = matcher();
    let mut spec = fake::AccessTokenSpec::identity(4, "root");
    spec.scope = "applied-permissions/admin".into();
    spec.expires_at = None;
    let token = fake::jfrog_access_token(&spec);
    let found = scan(&m, format!("token: {token}\n").as_bytes());
    assert_eq!(rule_ids(&m, &found), ["keyhound.jfrog.3"]);
    let f = &found[0].facts;
    assert_eq!(f.kind.as_deref(), Some("access_token"));
    assert_eq!(f.fields["user"], "root");
    assert_eq!(f.fields["instance_id"], spec.instance_id.as_str());
    assert!(f.flags.contains(&Flag::AdminScope));
    assert!(f.flags.contains(&Flag::NeverExpires));
}

#[test]
fn expired_reference_token_is_flagged() {
    let m = matcher();
    let token = fake::jfrog_reference_token(3, 1_700_000_000);
    let found = scan(&m, token.as_bytes());
    assert!(found[0].facts.flags.contains(&Flag::Expired));
}

#[test]
fn config_token_inner_credentials_are_found() {
    let m = matcher();
    let inner = fake::jfrog_api_key(77);
    let token = fake::jfrog_config_token(1, "https://acme.jfrog.io", "ci", &inner);
    let found = scan(&m, format!("JF_ENV_1={token}\n").as_bytes());
    let ids = rule_ids(&m, &found);
    assert!(ids.contains(&"keyhound.jfrog.14".to_owned()), "{ids:?}");
    let inner_match = found
        .iter()
        .find(|f| f.decoded_by.is_some())
        .expect("inner credential");
    assert_eq!(inner_match.secret.expose(), inner.as_bytes());
    assert_eq!(m.rule(inner_match.rule).id, "keyhound.jfrog.1");
}

#[test]
fn binary_junk_and_invalid_utf8_do_not_panic() {
    let m = matcher();
    let mut data: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let key = fake::jfrog_api_key(9);
    data.extend_from_slice(b"\xff\xfe\x00");
    data.extend_from_slice(key.as_bytes());
    data.extend_from_slice(b"\x00\xc3\x28");
    let found = scan(&m, &data);
    assert!(found.iter().any(|f| f.secret.expose() == key.as_bytes()));
}
