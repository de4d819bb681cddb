//! Which JFrog instance a credential belongs to, and whether that instance is trusted.
//!
//! Order (issue #4): the URL found beside the credential in its file, then the user's
//! `--jfrog-url`, then the `[[jfrog.instances]]` of the configuration. Nothing else: keyhound
//! never guesses by sending a token to hosts it was not found with. The instance id in a
//! token's `iss`/`sub` (`jfac@<id>`) is no URL; it only chooses among configured instances
//! that declare their `instance_id`, and is compared with what the instance reports.

use serde::Serialize;
use url::Url;

/// Where an instance came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceSource {
    /// A URL found in the same file as the credential.
    Beside,
    /// `--jfrog-url`.
    Flag,
    /// `[[jfrog.instances]]` in the user's configuration file.
    Config,
    /// `[[jfrog.instances]]` in a scanned repository's `keyhound.toml`: used to find the
    /// instance, not trusted for private addresses (the repository is not the user).
    RepoConfig,
}

impl InstanceSource {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceSource::Beside => "beside",
            InstanceSource::Flag => "flag",
            InstanceSource::Config => "config",
            InstanceSource::RepoConfig => "repo_config",
        }
    }
}

/// An instance named by the user or the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedInstance {
    /// Platform base URL (`https://acme.jfrog.io`).
    pub url: Url,
    /// A name for messages.
    pub name: Option<String>,
    /// The instance id (`jfac@<id>` without the prefix), to match tokens to instances.
    pub instance_id: Option<String>,
    /// The instance for tokens that nothing else places.
    pub default: bool,
    /// Where it was named.
    pub source: InstanceSource,
}

/// The instance chosen for a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// Platform base URL, without a trailing slash.
    #[serde(serialize_with = "ser_url")]
    pub url: Url,
    /// A name, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it came from.
    pub source: InstanceSource,
    /// Trusted instances may be on private addresses; discovered ones may not.
    pub trusted: bool,
    /// Instance id, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

fn ser_url<S: serde::Serializer>(u: &Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&display_url(u))
}

/// A URL as text, without a trailing `/` on a bare origin.
pub fn display_url(u: &Url) -> String {
    u.as_str().trim_end_matches('/').to_owned()
}

impl Instance {
    /// The URL of an API path (`/access/api/v1/tokens/me`) on this instance.
    pub fn endpoint(&self, path: &str) -> Url {
        let base = display_url(&self.url);
        Url::parse(&format!("{base}{path}")).unwrap_or_else(|_| self.url.clone())
    }

    /// `host[:port]`, for logs.
    pub fn host(&self) -> String {
        host_port(&self.url)
    }
}

/// `host[:port]` of a URL.
pub fn host_port(u: &Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::new(),
    }
}

/// Errors in instance URLs given by the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not a URL.
    #[error("invalid instance url {url:?}")]
    Invalid {
        /// The text.
        url: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// Not http or https.
    #[error("instance url {url:?} must use https (or http with --allow-http)")]
    Scheme {
        /// The text.
        url: String,
    },
}

/// Parses an instance URL given by the user: `https://acme.jfrog.io`, or any URL on it
/// (`…/artifactory/api/npm/x`), reduced to the platform base.
pub fn parse_instance_url(text: &str) -> Result<Url, Error> {
    let base = keyhound_scan::instance_url::base_url(text)
        .or_else(|| {
            // Not recognisably JFrog (a custom host without /artifactory): keep the origin
            // and path as given.
            Some(text.trim().trim_end_matches('/').to_owned())
        })
        .unwrap_or_default();
    let url = Url::parse(&base).map_err(|source| Error::Invalid {
        url: text.to_owned(),
        source,
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(Error::Scheme {
            url: text.to_owned(),
        });
    }
    let mut url = url;
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url)
}

/// Same scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The outcome of resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The instance to use.
    Found(Instance),
    /// No instance is known: the finding stays `unknown (no instance)`.
    None {
        /// Why, for the report.
        reason: String,
    },
}

/// Chooses instances for credentials.
#[derive(Debug, Clone, Default)]
pub struct InstanceResolver {
    /// `--jfrog-url`.
    pub flag: Option<TrustedInstance>,
    /// Configured instances, in file order.
    pub configured: Vec<TrustedInstance>,
}

impl InstanceResolver {
    /// The trusted instance with the same origin as `url`, if any.
    fn trusted_match(&self, url: &Url) -> Option<&TrustedInstance> {
        self.flag
            .iter()
            .chain(&self.configured)
            .filter(|t| t.source != InstanceSource::RepoConfig)
            .find(|t| same_origin(&t.url, url))
    }

    /// The instance for a credential found beside `beside` (a base URL from the scan) whose
    /// token names instance id `token_instance` in its claims.
    pub fn resolve(&self, beside: Option<&str>, token_instance: Option<&str>) -> Resolution {
        if let Some(text) = beside {
            if let Ok(url) = parse_instance_url(text) {
                let trusted = self.trusted_match(&url);
                return Resolution::Found(Instance {
                    name: trusted.and_then(|t| t.name.clone()),
                    instance_id: trusted.and_then(|t| t.instance_id.clone()),
                    trusted: trusted.is_some(),
                    url,
                    source: InstanceSource::Beside,
                });
            }
        }
        if let Some(flag) = &self.flag {
            return Resolution::Found(found(flag));
        }
        if self.configured.is_empty() {
            return Resolution::None {
                reason: "no instance".into(),
            };
        }
        if let Some(id) = token_instance {
            if let Some(t) = self
                .configured
                .iter()
                .find(|t| t.instance_id.as_deref() == Some(id))
            {
                return Resolution::Found(found(t));
            }
        }
        // Instances that declare an id other than the token's are not its instance.
        let candidates: Vec<&TrustedInstance> = self
            .configured
            .iter()
            .filter(|t| match (token_instance, &t.instance_id) {
                (Some(tok), Some(own)) => tok == own,
                _ => true,
            })
            .collect();
        if let [only] = candidates.as_slice() {
            return Resolution::Found(found(only));
        }
        if let Some(t) = candidates.iter().find(|t| t.default) {
            return Resolution::Found(found(t));
        }
        Resolution::None {
            reason: if candidates.is_empty() {
                "no instance (no configured instance has the token's instance id)".into()
            } else {
                "no instance (several are configured: set instance_id or default)".into()
            },
        }
    }
}

fn found(t: &TrustedInstance) -> Instance {
    Instance {
        url: t.url.clone(),
        name: t.name.clone(),
        source: t.source,
        trusted: t.source != InstanceSource::RepoConfig,
        instance_id: t.instance_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(url: &str, id: Option<&str>, source: InstanceSource) -> TrustedInstance {
        TrustedInstance {
            url: parse_instance_url(url).expect("url"),
            name: None,
            instance_id: id.map(str::to_owned),
            default: false,
            source,
        }
    }

    #[test]
    fn order_beside_flag_config() {
        let r = InstanceResolver {
            flag: Some(trusted(
                "https://flag.example.com",
                None,
                InstanceSource::Flag,
            )),
            configured: vec![trusted("https://a.jfrog.io", None, InstanceSource::Config)],
        };
        let Resolution::Found(i) = r.resolve(Some("https://evil.example"), None) else {
            panic!("found")
        };
        assert_eq!(i.source, InstanceSource::Beside);
        assert!(!i.trusted);
        assert_eq!(display_url(&i.url), "https://evil.example");
        let Resolution::Found(i) = r.resolve(None, None) else {
            panic!("found")
        };
        assert_eq!(i.source, InstanceSource::Flag);
        let r = InstanceResolver { flag: None, ..r };
        let Resolution::Found(i) = r.resolve(Some("https://a.jfrog.io"), None) else {
            panic!("found")
        };
        assert!(
            i.trusted,
            "a beside URL that is a configured instance is trusted"
        );
        assert_eq!(
            r.resolve(None, None),
            Resolution::Found(found(&r.configured[0]))
        );
        assert!(matches!(
            InstanceResolver::default().resolve(None, None),
            Resolution::None { .. }
        ));
    }

    #[test]
    fn instance_ids_choose_among_configured() {
        let r = InstanceResolver {
            flag: None,
            configured: vec![
                trusted("https://a.jfrog.io", Some("aaa"), InstanceSource::Config),
                trusted("https://b.jfrog.io", Some("bbb"), InstanceSource::Config),
            ],
        };
        let Resolution::Found(i) = r.resolve(None, Some("bbb")) else {
            panic!("found")
        };
        assert_eq!(i.url.host_str(), Some("b.jfrog.io"));
        assert!(matches!(
            r.resolve(None, Some("ccc")),
            Resolution::None { .. }
        ));
        assert!(matches!(r.resolve(None, None), Resolution::None { .. }));
    }

    #[test]
    fn repo_config_is_not_trusted() {
        let r = InstanceResolver {
            flag: None,
            configured: vec![trusted(
                "https://10.0.0.5/artifactory",
                None,
                InstanceSource::RepoConfig,
            )],
        };
        let Resolution::Found(i) = r.resolve(None, None) else {
            panic!("found")
        };
        assert!(!i.trusted);
    }

    #[test]
    fn urls() {
        assert_eq!(
            display_url(
                &parse_instance_url("https://x.jfrog.io/artifactory/api/npm/n/").expect("ok")
            ),
            "https://x.jfrog.io"
        );
        assert_eq!(
            display_url(&parse_instance_url("http://127.0.0.1:8082").expect("ok")),
            "http://127.0.0.1:8082"
        );
        assert!(parse_instance_url("ftp://x").is_err());
        let i = found(&trusted(
            "https://x.example.com/jfrog",
            None,
            InstanceSource::Config,
        ));
        assert_eq!(
            i.endpoint("/access/api/v1/tokens/me").as_str(),
            "https://x.example.com/jfrog/access/api/v1/tokens/me"
        );
    }
}
