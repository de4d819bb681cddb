//! The JFrog instance a credential belongs to, from the text around it (issue #4).
//!
//! A live check needs the instance URL, and the safest source is the file the token was
//! found in: the `.npmrc` registry line, the `settings.xml` `<url>`, the Docker `auths` key,
//! the pip `index-url`, the `curl` line. After a blob is matched, and only when a JFrog rule
//! matched in it, [`annotate`] finds every JFrog-looking URL in the same blob and records the
//! one nearest to each JFrog match as the fact `instance_url`: the platform base URL
//! (`https://acme.jfrog.io`, `https://repo.example.com/jfrog`), without credentials, query
//! or package path. [`base_url`] is the normalisation, shared with `keyhound-jfrog`.
//!
//! Nothing here contacts a host; the URL is only a fact. Whether a token may be sent there is
//! decided by `keyhound-jfrog`.

use std::sync::OnceLock;

use keyhound_engine::{Match, Matcher};
use regex::bytes::Regex;

/// The fact name.
pub const FACT: &str = "instance_url";

/// Rules whose findings get an instance URL: the built-in JFrog rules.
fn is_jfrog_rule(id: &str) -> bool {
    id.starts_with("keyhound.jfrog.")
}

fn candidates_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?xi)
            # a URL with a scheme, or scheme-relative as in .npmrc (//host/path/:_authToken)
            (?P<url>(?:https?://|//)(?:[^\s"'<>@/]{1,256}@)?[a-z0-9][a-z0-9.-]{0,252}(?::[0-9]{1,5})?(?:/[^\s"'<>]*)?)
            # a Docker config.json `auths` key: "host[/path]": {
            | "(?P<key>[a-z0-9][a-z0-9.-]{0,252}(?::[0-9]{1,5})?(?:/[^\s"']*)?)"\s*:\s*\{
            # a bare SaaS host
            | (?P<host>\b[a-z0-9][a-z0-9-]{0,61}\.jfrog\.io\b)
            "#,
        )
        .expect("the instance URL regex compiles")
    })
}

/// The JFrog platform base URL of a URL, host or `.npmrc`-style `//host/path`: scheme, host,
/// port, and the path before `/artifactory` (or before `/access`, `/ui`, `/api`). `None` when
/// it does not look like a JFrog instance: the path has no `/artifactory` segment and the host
/// is neither `*.jfrog.io` nor named `artifactory…`.
///
/// ```
/// use keyhound_scan::instance_url::base_url;
/// assert_eq!(base_url("//acme.jfrog.io/artifactory/api/npm/npm/").as_deref(), Some("https://acme.jfrog.io"));
/// assert_eq!(base_url("https://u:p@repo.example.com:8443/tools/artifactory/libs").as_deref(), Some("https://repo.example.com:8443/tools"));
/// assert_eq!(base_url("https://github.com/org/repo"), None);
/// ```
pub fn base_url(text: &str) -> Option<String> {
    let text = text
        .trim()
        .trim_end_matches(['"', '\'', ',', ';', ')', '>']);
    let (scheme, rest) = if let Some(r) = strip_prefix_ci(text, "https://") {
        ("https", r)
    } else if let Some(r) = strip_prefix_ci(text, "http://") {
        ("http", r)
    } else if let Some(r) = text.strip_prefix("//") {
        ("https", r)
    } else {
        ("https", text)
    };
    // Credentials (`user:secret@`) may hold `/`, `#` or `?`: cut them off at the last `@`
    // before the instance path or SaaS host, before splitting the authority.
    let lower = rest.to_ascii_lowercase();
    let marker = lower
        .find("/artifactory")
        .or_else(|| lower.find(".jfrog.io"))
        .unwrap_or(rest.len());
    let rest = match rest[..marker].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    // Never keep credentials: drop everything up to the last `@` of the authority.
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host_port = host_port.to_ascii_lowercase();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => h,
        _ => host_port.as_str(),
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        || !host.bytes().any(|b| b.is_ascii_alphabetic() || b == b'.')
    {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let prefix_len = segments
        .iter()
        .position(|s| s.eq_ignore_ascii_case("artifactory"));
    let saas = host.ends_with(".jfrog.io");
    let named = host.starts_with("artifactory") || host.contains(".artifactory");
    let prefix: &[&str] = match prefix_len {
        Some(i) => &segments[..i],
        None if saas || named => {
            // A platform URL without /artifactory: keep what comes before a service path.
            let end = segments
                .iter()
                .position(|s| matches!(*s, "access" | "ui" | "api" | "xray" | "v2"))
                .unwrap_or(0);
            &segments[..end]
        }
        None => return None,
    };
    let mut out = format!("{scheme}://{host_port}");
    for s in prefix {
        out.push('/');
        out.push_str(s);
    }
    Some(out)
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    (text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &text[prefix.len()..])
}

/// Every JFrog instance URL in `data`, as (byte offset, base URL). A scheme-relative URL
/// (`.npmrc`'s `//host/path/:_authToken`) or a bare host takes the scheme of a URL to the same
/// host elsewhere in the text (its `registry=` line), and https otherwise.
pub fn find_all(data: &[u8]) -> Vec<(usize, String)> {
    let re = candidates_regex();
    let mut out: Vec<(usize, String, bool)> = Vec::new();
    for caps in re.captures_iter(data) {
        let Some(m) = caps
            .name("url")
            .or_else(|| caps.name("key"))
            .or_else(|| caps.name("host"))
        else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(m.as_bytes()) else {
            continue;
        };
        let explicit = strip_prefix_ci(text, "http://").is_some()
            || strip_prefix_ci(text, "https://").is_some();
        if let Some(base) = base_url(text) {
            out.push((m.start(), base, explicit));
        }
    }
    let explicit: Vec<String> = out
        .iter()
        .filter(|(_, _, e)| *e)
        .map(|(_, b, _)| b.clone())
        .collect();
    out.into_iter()
        .map(|(at, base, is_explicit)| {
            if is_explicit {
                return (at, base);
            }
            let rest = base.trim_start_matches("https://");
            let same_host = |b: &&String| {
                b.split_once("://")
                    .is_some_and(|(_, r)| r.split('/').next() == rest.split('/').next())
            };
            match explicit.iter().find(same_host) {
                Some(b) => (
                    at,
                    format!("{}://{rest}", b.split("://").next().unwrap_or("https")),
                ),
                None => (at, base),
            }
        })
        .collect()
}

/// Records the nearest JFrog instance URL in `data` as the fact `instance_url` of every match
/// of a JFrog rule. Does nothing (and costs nothing) when no JFrog rule matched.
pub fn annotate(data: &[u8], matches: &mut [Match], matcher: &Matcher) {
    if !matches
        .iter()
        .any(|m| is_jfrog_rule(&matcher.rule(m.rule).id))
    {
        return;
    }
    let urls = find_all(data);
    if urls.is_empty() {
        return;
    }
    for m in matches.iter_mut() {
        if !is_jfrog_rule(&matcher.rule(m.rule).id) || m.facts.fields.contains_key(FACT) {
            continue;
        }
        if let Some((_, url)) = urls.iter().min_by_key(|(at, _)| at.abs_diff(m.start)) {
            m.facts.set(FACT, url.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases() {
        for (input, want) in [
            (
                "https://acme.jfrog.io/artifactory/api/npm/npm-virtual/",
                Some("https://acme.jfrog.io"),
            ),
            (
                "//acme.jfrog.io/artifactory/api/npm/npm/",
                Some("https://acme.jfrog.io"),
            ),
            ("acme.jfrog.io", Some("https://acme.jfrog.io")),
            (
                "http://localhost:8081/artifactory",
                Some("http://localhost:8081"),
            ),
            (
                "https://user:s3cret@repo.example.com/artifactory/api/pypi/pypi/simple",
                Some("https://repo.example.com"),
            ),
            ("artifactory.acme.com", Some("https://artifactory.acme.com")),
            (
                "https://acme.jfrog.io/ui/repos",
                Some("https://acme.jfrog.io"),
            ),
            (
                "https://evil.example/artifactory",
                Some("https://evil.example"),
            ),
            ("https://github.com/acme/repo", None),
            ("https://example.com/", None),
            ("http://:80/artifactory", None),
        ] {
            assert_eq!(base_url(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn finds_urls_of_every_config_file_kind() {
        let text = br#"registry=https://a.jfrog.io/artifactory/api/npm/npm/
//b.jfrog.io/artifactory/api/npm/npm/:_authToken=x
<url>https://c.example.com/artifactory/libs-release</url>
{"auths": {"d.jfrog.io": {"auth": "x"}}}
index-url = https://u:p@e.example.com/artifactory/api/pypi/pypi/simple
curl -H "X" https://f.example.com/artifactory/api/system/ping
see https://github.com/org/repo
"#;
        let found: Vec<String> = find_all(text).into_iter().map(|(_, u)| u).collect();
        assert_eq!(
            found,
            [
                "https://a.jfrog.io",
                "https://b.jfrog.io",
                "https://c.example.com",
                "https://d.jfrog.io",
                "https://e.example.com",
                "https://f.example.com",
            ]
        );
    }

    #[test]
    fn scheme_relative_npmrc_lines_take_the_registry_scheme() {
        let text = b"registry=http://127.0.0.1:8081/artifactory/api/npm/npm/\n//127.0.0.1:8081/artifactory/api/npm/npm/:_authToken=x\n";
        let found: Vec<String> = find_all(text).into_iter().map(|(_, u)| u).collect();
        assert_eq!(found, ["http://127.0.0.1:8081", "http://127.0.0.1:8081"]);
    }

    #[test]
    fn credentials_never_reach_the_fact() {
        let found = find_all(b"https://admin:hunter2secret@x.jfrog.io/artifactory/");
        assert_eq!(found.len(), 1);
        assert!(!found[0].1.contains("hunter2"));
    }

    proptest::proptest! {
        #[test]
        fn base_url_never_panics_nor_keeps_credentials(
            user in "[a-z]{1,8}",
            secret in "[A-Za-z0-9!#%+=_-]{6,20}",
            tail in "[ -~]{0,40}",
        ) {
            let url = format!("https://{user}:{secret}@x.jfrog.io/artifactory/{tail}");
            let base = base_url(&url);
            proptest::prop_assert_eq!(base.as_deref(), Some("https://x.jfrog.io"));
            let other = format!("https://{user}:{secret}@repo.example.com/artifactory/{tail}");
            let base = base_url(&other);
            proptest::prop_assert_eq!(base.as_deref(), Some("https://repo.example.com"));
            let _ = find_all(url.as_bytes());
            let _ = base_url(&tail);
        }
    }
}
