//! The only way keyhound talks to an instance. Every rule of the safety model is enforced
//! here, once:
//!
//! - **HTTPS only**, unless [`ClientOptions::allow_http`] (labs and tests).
//! - **Addresses are checked before connecting, and pinned.** The host is resolved once per
//!   instance; an instance that is not trusted (a URL discovered in scanned files) is refused
//!   when any address is loopback, private, link-local or otherwise not public. The HTTP
//!   client's resolver then answers only for that host and only with the checked addresses,
//!   so a second DNS answer (rebinding) cannot move the connection.
//! - **No automatic redirects.** A redirect within the same origin is followed (at most
//!   [`ClientOptions::max_redirects`]); one to another scheme, host or port is never followed
//!   and becomes [`Error::Redirect`], so credentials never go to another host.
//! - **Bounded:** per-instance concurrency and request rate, timeouts, a few retries with
//!   exponential backoff (network errors and 5xx for reads), `429`/`503` with `Retry-After`
//!   honoured up to a cap, and a maximum response body size.
//! - **Audited:** every request that leaves, and every refusal, is written to the
//!   [`EgressLog`] with time, host, endpoint, rule and fingerprint, never a secret. Secret
//!   header values are marked sensitive so that they never appear in debug output either.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyhound_engine::Secret;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::credential::{AuthStyle, Credential};
use crate::instance::{Instance, host_port, same_origin};

/// Client settings. The defaults suit real instances; tests shorten the times.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Allow plain `http://` instances.
    pub allow_http: bool,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Largest response body read; larger ones are an error.
    pub max_body_bytes: usize,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay; doubled for each retry.
    pub backoff: Duration,
    /// Longest `Retry-After` that is waited for; a longer one ends the request.
    pub max_retry_after: Duration,
    /// Requests in flight per instance.
    pub concurrency_per_instance: usize,
    /// Minimum time between two requests to one instance (the rate limit).
    pub min_interval: Duration,
    /// Same-origin redirects followed.
    pub max_redirects: u32,
    /// Extra trusted CA certificates (PEM), for instances with a private CA.
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// Fixed addresses for host names (`--resolve host:port:addr`), as curl does.
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// The User-Agent.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            allow_http: false,
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 4 << 20,
            max_retries: 2,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(30),
            concurrency_per_instance: 4,
            min_interval: Duration::from_millis(100),
            max_redirects: 3,
            extra_roots_pem: Vec::new(),
            resolve: Vec::new(),
            user_agent: format!(
                "keyhound/{} (+https://github.com/keyhound/keyhound; secret validation)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// Errors of one request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The safety policy forbids the request; nothing was sent.
    #[error("refused {url}: {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The host name does not resolve.
    #[error("cannot resolve {host}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// Connection, TLS or protocol failure, or a timeout.
    #[error("network error on {url}: {detail}")]
    Network {
        /// The URL.
        url: String,
        /// What happened (`timeout`, `connection refused`...).
        detail: String,
    },
    /// A redirect to another origin, not followed.
    #[error("{url} redirects to another host ({to}); not followed with credentials")]
    Redirect {
        /// The URL.
        url: String,
        /// The other host.
        to: String,
    },
    /// Too many redirects within the instance.
    #[error("too many redirects from {url}")]
    TooManyRedirects {
        /// The URL.
        url: String,
    },
    /// The response body is larger than the limit.
    #[error("response from {url} is larger than {limit} bytes")]
    BodyTooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The instance asks to wait longer than allowed.
    #[error("{url} is rate limiting (retry after {seconds} s)")]
    RateLimited {
        /// The URL.
        url: String,
        /// The requested wait.
        seconds: u64,
    },
    /// A CA certificate or client setting is invalid.
    #[error("cannot set up the HTTP client")]
    Setup(#[source] reqwest::Error),
}

impl Error {
    /// A short reason for an `unknown (…)` verdict.
    pub fn short(&self) -> String {
        match self {
            Error::Refused { reason, .. } => format!("refused: {reason}"),
            Error::Resolve { host, .. } => format!("network: cannot resolve {host}"),
            Error::Network { detail, .. } => format!("network: {detail}"),
            Error::Redirect { to, .. } => format!("redirect to another host ({to}) not followed"),
            Error::TooManyRedirects { .. } => "too many redirects".into(),
            Error::BodyTooLarge { limit, .. } => format!("response larger than {limit} bytes"),
            Error::RateLimited { seconds, .. } => {
                format!("rate limited (retry after {seconds} s)")
            }
            Error::Setup(e) => format!("client setup: {e}"),
        }
    }
}

/// One line of the egress log. Never holds a secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EgressRecord {
    /// RFC 3339 time the request was sent (or refused).
    pub time: String,
    /// `host[:port]`.
    pub host: String,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub endpoint: String,
    /// The rule of the finding the request is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The fingerprint of the finding the request is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Which credential authenticated it: `finding`, `admin`, `vault`, `new_token` or `none`.
    pub credential: String,
    /// Header style (`Authorization: Bearer`...), never the value.
    pub auth: String,
    /// Why the request was made (`validate`, `blast_radius`, `revoke`...).
    pub purpose: String,
    /// HTTP status, when a response came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// True when bytes left the machine.
    pub sent: bool,
    /// The error, when there was no response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Milliseconds until the response headers.
    pub duration_ms: u64,
}

/// Where egress records go.
pub trait EgressLog: Send + Sync {
    /// Records one request.
    fn record(&self, record: &EgressRecord);
}

/// Discards records.
#[derive(Debug, Default)]
pub struct NoEgressLog;

impl EgressLog for NoEgressLog {
    fn record(&self, _: &EgressRecord) {}
}

/// Keeps records in memory (tests, and the command's own summary).
#[derive(Debug, Default)]
pub struct MemoryEgressLog(pub Mutex<Vec<EgressRecord>>);

impl EgressLog for MemoryEgressLog {
    fn record(&self, record: &EgressRecord) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(record.clone());
    }
}

/// Appends records as JSON lines to a file, created with mode 0600 when new.
pub struct JsonLinesLog {
    file: Mutex<fs_err::File>,
}

impl std::fmt::Debug for JsonLinesLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonLinesLog")
    }
}

impl JsonLinesLog {
    /// Opens `path` for appending, creating it and its directory.
    pub fn open(path: &std::path::Path) -> std::io::Result<JsonLinesLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs_err::create_dir_all(dir)?;
        }
        let mut opts = fs_err::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use fs_err::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        Ok(JsonLinesLog {
            file: Mutex::new(opts.open(path)?),
        })
    }

    /// Appends one serializable value as a line.
    pub fn append<T: Serialize>(&self, value: &T) -> std::io::Result<()> {
        use std::io::Write as _;
        let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&line)?;
        file.flush()
    }
}

impl EgressLog for JsonLinesLog {
    fn record(&self, record: &EgressRecord) {
        if let Err(e) = self.append(record) {
            tracing::error!(error = %e, "cannot write the egress log");
        }
    }
}

/// Forwards records to several logs.
pub struct TeeLog(pub Vec<Arc<dyn EgressLog>>);

impl EgressLog for TeeLog {
    fn record(&self, record: &EgressRecord) {
        for log in &self.0 {
            log.record(record);
        }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// No credentials.
    None,
    /// The credential under investigation.
    Finding(&'a Credential),
    /// The administrator's credential (revoke, mint, permission lookups).
    Admin(&'a Credential),
    /// A freshly minted token (checking that it works).
    NewToken(&'a Credential),
    /// A Vault token.
    Vault(&'a Secret),
}

impl Auth<'_> {
    fn label(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Finding(_) => "finding",
            Auth::Admin(_) => "admin",
            Auth::NewToken(_) => "new_token",
            Auth::Vault(_) => "vault",
        }
    }

    fn style(&self) -> String {
        match self {
            Auth::None => "none".into(),
            Auth::Finding(c) | Auth::Admin(c) | Auth::NewToken(c) => c
                .auth_style()
                .map(|s| s.describe())
                .unwrap_or_else(|_| "none".into()),
            Auth::Vault(_) => "X-Vault-Token".into(),
        }
    }
}

/// One request.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// The method.
    pub method: reqwest::Method,
    /// Path and query on the instance (`/access/api/v1/tokens/me`).
    pub path: String,
    /// Authentication.
    pub auth: Auth<'a>,
    /// A JSON body.
    pub json: Option<Value>,
    /// Why (`validate`, `blast_radius`...), for the egress log.
    pub purpose: &'static str,
    /// The finding the request is about: (rule, fingerprint).
    pub about: Option<(Option<String>, String)>,
}

impl<'a> Call<'a> {
    /// A call with any method.
    pub fn new(
        method: reqwest::Method,
        path: impl Into<String>,
        auth: Auth<'a>,
        purpose: &'static str,
    ) -> Call<'a> {
        Call {
            method,
            path: path.into(),
            auth,
            json: None,
            purpose,
            about: None,
        }
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: Value) -> Call<'a> {
        self.json = Some(body);
        self
    }

    /// A GET.
    pub fn get(path: impl Into<String>, auth: Auth<'a>, purpose: &'static str) -> Call<'a> {
        Call {
            method: reqwest::Method::GET,
            path: path.into(),
            auth,
            json: None,
            purpose,
            about: None,
        }
    }

    /// Sets the finding the request is about.
    pub fn about(mut self, cred: &Credential) -> Call<'a> {
        self.about = Some((cred.rule_id.clone(), cred.fingerprint.clone()));
        self
    }
}

/// A response, read in full (within the size limit).
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, lowercased, without parameters.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
    /// `METHOD /path` of the final request.
    pub endpoint: String,
    /// RFC 3339 time of the response.
    pub checked_at: String,
}

impl Reply {
    /// True when the content type says JSON.
    pub fn is_json(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|c| c == "application/json" || c.ends_with("+json"))
    }

    /// The body as JSON when the content type says JSON and it parses.
    pub fn json(&self) -> Option<Value> {
        if !self.is_json() {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as (lossy) text, for messages; at most 200 characters.
    pub fn text_excerpt(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(200)
            .collect()
    }
}

/// Per-instance state: the pinned client, the concurrency permits and the rate limiter.
struct Host {
    client: reqwest::Client,
    permits: tokio::sync::Semaphore,
    next: tokio::sync::Mutex<Instant>,
}

/// A resolver that answers only for one host, with addresses checked beforehand.
struct PinnedResolver {
    host: String,
    addrs: Vec<SocketAddr>,
}

impl reqwest::dns::Resolve for PinnedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let answer = if name.as_str().eq_ignore_ascii_case(&self.host) {
            Ok(Box::new(self.addrs.clone().into_iter()) as reqwest::dns::Addrs)
        } else {
            Err(format!("{} is not the pinned host {}", name.as_str(), self.host).into())
        };
        Box::pin(std::future::ready(answer))
    }
}

/// The class of an address that is not public, or `None` for a public one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
            {
                Some("reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if (seg[0] & 0xfe00) == 0xfc00 {
                Some("private (unique local)")
            } else if (seg[0] & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else if v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] == 0x2001 && seg[1] == 0xdb8)
            {
                Some("reserved")
            } else {
                None
            }
        }
    }
}

fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // An HTTP date (RFC 9110 IMF-fixdate).
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let secs = (when.as_second() - now.as_second()).max(0);
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

fn network_detail(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timeout".into();
    }
    let mut detail = if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The innermost cause names the problem (connection refused, certificate...).
    let mut source = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(l) = last {
        detail.push_str(": ");
        detail.push_str(&l);
    }
    detail
}

/// The HTTP client. Cheap to share (`Arc`); one per run.
pub struct Client {
    opts: ClientOptions,
    egress: Arc<dyn EgressLog>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("opts", &self.opts).finish()
    }
}

impl Client {
    /// A client that writes every request to `egress`.
    pub fn new(opts: ClientOptions, egress: Arc<dyn EgressLog>) -> Client {
        Client {
            opts,
            egress,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    fn log(&self, instance: &Instance, call: &Call<'_>, endpoint: &str, outcome: Outcome) {
        let (rule, fingerprint) = match &call.about {
            Some((r, f)) => (r.clone(), Some(f.clone())),
            None => (None, None),
        };
        self.egress.record(&EgressRecord {
            time: jiff::Timestamp::now().to_string(),
            host: instance.host(),
            method: call.method.to_string(),
            endpoint: endpoint.to_owned(),
            rule,
            fingerprint,
            credential: call.auth.label().to_owned(),
            auth: call.auth.style(),
            purpose: call.purpose.to_owned(),
            status: outcome.status,
            sent: outcome.sent,
            error: outcome.error,
            duration_ms: outcome.duration.as_millis().try_into().unwrap_or(u64::MAX),
        });
    }

    /// Resolves, checks and pins an instance's address, once per run.
    async fn host(&self, instance: &Instance) -> Result<Arc<Host>, Error> {
        let url = &instance.url;
        let key = format!("{}://{}|{}", url.scheme(), host_port(url), instance.trusted);
        if let Some(h) = self
            .hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Ok(h.clone());
        }
        let shown = crate::instance::display_url(url);
        match url.scheme() {
            "https" => {}
            "http" if self.opts.allow_http => {}
            "http" => {
                return Err(Error::Refused {
                    url: shown,
                    reason: "plain http (use https, or --allow-http for a lab instance)".into(),
                });
            }
            other => {
                return Err(Error::Refused {
                    url: shown,
                    reason: format!("unsupported scheme {other}"),
                });
            }
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let (name, addrs): (Option<String>, Vec<SocketAddr>) = match url.host() {
            Some(url::Host::Ipv4(ip)) => (None, vec![SocketAddr::new(IpAddr::V4(ip), port)]),
            Some(url::Host::Ipv6(ip)) => (None, vec![SocketAddr::new(IpAddr::V6(ip), port)]),
            Some(url::Host::Domain(d)) => {
                let d = d.to_ascii_lowercase();
                let fixed: Vec<SocketAddr> = self
                    .opts
                    .resolve
                    .iter()
                    .filter(|(h, p, _)| h.eq_ignore_ascii_case(&d) && (*p == port || *p == 0))
                    .map(|(_, _, ip)| SocketAddr::new(*ip, port))
                    .collect();
                let addrs = if fixed.is_empty() {
                    tokio::net::lookup_host((d.as_str(), port))
                        .await
                        .map_err(|source| Error::Resolve {
                            host: d.clone(),
                            source,
                        })?
                        .collect()
                } else {
                    fixed
                };
                (Some(d), addrs)
            }
            None => {
                return Err(Error::Refused {
                    url: shown,
                    reason: "no host".into(),
                });
            }
        };
        if addrs.is_empty() {
            return Err(Error::Resolve {
                host: host_port(url),
                source: std::io::Error::other("no addresses"),
            });
        }
        if !instance.trusted {
            if let Some((addr, class)) = addrs
                .iter()
                .find_map(|a| non_public(a.ip()).map(|c| (a, c)))
            {
                return Err(Error::Refused {
                    url: shown,
                    reason: format!(
                        "{} resolves to {} ({class} address); a URL found in scanned files may \
                         not point to a non-public address unless it is a trusted instance \
                         (--jfrog-url or [[jfrog.instances]])",
                        host_port(url),
                        addr.ip()
                    ),
                });
            }
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.opts.timeout)
            .connect_timeout(self.opts.connect_timeout)
            .user_agent(self.opts.user_agent.clone())
            .https_only(!self.opts.allow_http)
            .pool_max_idle_per_host(2);
        for pem in &self.opts.extra_roots_pem {
            let cert = reqwest::Certificate::from_pem(pem).map_err(Error::Setup)?;
            builder = builder.add_root_certificate(cert);
        }
        builder = builder.dns_resolver(Arc::new(PinnedResolver {
            host: name.unwrap_or_default(),
            addrs: addrs.clone(),
        }));
        let client = builder.build().map_err(Error::Setup)?;
        tracing::debug!(host = %host_port(url), ?addrs, trusted = instance.trusted, "pinned");
        let host = Arc::new(Host {
            client,
            permits: tokio::sync::Semaphore::new(self.opts.concurrency_per_instance.max(1)),
            next: tokio::sync::Mutex::new(Instant::now()),
        });
        self.hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, host.clone());
        Ok(host)
    }

    fn request(
        &self,
        host: &Host,
        call: &Call<'_>,
        url: &Url,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let mut req = host
            .client
            .request(call.method.clone(), url.clone())
            .header(
                reqwest::header::ACCEPT,
                "application/json, text/plain;q=0.5",
            );
        let cred = match call.auth {
            Auth::None => None,
            Auth::Finding(c) | Auth::Admin(c) | Auth::NewToken(c) => Some(c),
            Auth::Vault(token) => {
                req = req.header(
                    HeaderName::from_static("x-vault-token"),
                    sensitive(token.expose())?,
                );
                None
            }
        };
        if let Some(c) = cred {
            let style = c.auth_style().map_err(|reason| Error::Refused {
                url: url.to_string(),
                reason: reason.into(),
            })?;
            req = match style {
                AuthStyle::ArtApiHeader => req.header(
                    HeaderName::from_static("x-jfrog-art-api"),
                    sensitive(c.secret.expose())?,
                ),
                AuthStyle::Bearer => {
                    let mut v = b"Bearer ".to_vec();
                    v.extend_from_slice(c.secret.expose());
                    req.header(reqwest::header::AUTHORIZATION, sensitive(&v)?)
                }
                AuthStyle::Basic { username } => {
                    req.basic_auth(username, Some(c.secret.expose_str()))
                }
            };
        }
        if let Some(body) = &call.json {
            req = req.json(body);
        }
        Ok(req)
    }

    /// Sends a call to an instance under every rule above.
    pub async fn send(&self, instance: &Instance, call: Call<'_>) -> Result<Reply, Error> {
        // The admin credential goes only to instances the user named, whatever the caller.
        let host = if matches!(call.auth, Auth::Admin(_)) && !instance.trusted {
            Err(Error::Refused {
                url: crate::instance::display_url(&instance.url),
                reason: "the admin credential goes only to instances you named (--jfrog-url or \
                         [[jfrog.instances]])"
                    .into(),
            })
        } else {
            self.host(instance).await
        };
        let host = match host {
            Ok(h) => h,
            Err(e) => {
                self.log(
                    instance,
                    &call,
                    &call.path,
                    Outcome {
                        status: None,
                        sent: false,
                        error: Some(e.short()),
                        duration: Duration::ZERO,
                    },
                );
                return Err(e);
            }
        };
        let _permit = host.permits.acquire().await.map_err(|_| Error::Network {
            url: instance.host(),
            detail: "client shut down".into(),
        })?;
        let idempotent = matches!(
            call.method,
            reqwest::Method::GET | reqwest::Method::HEAD | reqwest::Method::DELETE
        );
        let mut url = instance.endpoint(&call.path);
        let mut redirects = 0;
        let mut attempt = 0u32;
        loop {
            {
                let mut next = host.next.lock().await;
                let now = Instant::now();
                if *next > now {
                    tokio::time::sleep(*next - now).await;
                }
                *next = Instant::now() + self.opts.min_interval;
            }
            let endpoint = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            let req = self.request(&host, &call, &url)?;
            let started = Instant::now();
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let detail = network_detail(&e);
                    self.log(
                        instance,
                        &call,
                        &endpoint,
                        Outcome {
                            status: None,
                            sent: true,
                            error: Some(detail.clone()),
                            duration: started.elapsed(),
                        },
                    );
                    if idempotent && attempt < self.opts.max_retries {
                        attempt += 1;
                        tokio::time::sleep(self.opts.backoff * 2u32.pow(attempt - 1)).await;
                        continue;
                    }
                    return Err(Error::Network {
                        url: url.to_string(),
                        detail,
                    });
                }
            };
            let status = resp.status().as_u16();
            self.log(
                instance,
                &call,
                &endpoint,
                Outcome {
                    status: Some(status),
                    sent: true,
                    error: None,
                    duration: started.elapsed(),
                },
            );
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| url.join(l).ok());
                let Some(target) = location else {
                    return Err(Error::Network {
                        url: url.to_string(),
                        detail: format!("http {status} without a usable Location"),
                    });
                };
                if !same_origin(&target, &instance.url) {
                    return Err(Error::Redirect {
                        url: url.to_string(),
                        to: format!("{}://{}", target.scheme(), host_port(&target)),
                    });
                }
                if redirects >= self.opts.max_redirects {
                    return Err(Error::TooManyRedirects {
                        url: url.to_string(),
                    });
                }
                redirects += 1;
                url = target;
                continue;
            }
            if matches!(status, 429 | 503) && attempt < self.opts.max_retries {
                let wait = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
                if let Some(w) = wait {
                    if w > self.opts.max_retry_after {
                        return Err(Error::RateLimited {
                            url: url.to_string(),
                            seconds: w.as_secs(),
                        });
                    }
                }
                if status == 429 || idempotent {
                    attempt += 1;
                    let wait = wait.unwrap_or(self.opts.backoff * 2u32.pow(attempt - 1));
                    tracing::debug!(status, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if (500..600).contains(&status)
                && status != 501
                && idempotent
                && attempt < self.opts.max_retries
            {
                attempt += 1;
                tokio::time::sleep(self.opts.backoff * 2u32.pow(attempt - 1)).await;
                continue;
            }
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                });
            let body = read_bounded(resp, self.opts.max_body_bytes, &url).await?;
            return Ok(Reply {
                status,
                content_type,
                body,
                endpoint: format!("{} {}", call.method, url.path()),
                checked_at: jiff::Timestamp::now().to_string(),
            });
        }
    }
}

struct Outcome {
    status: Option<u16>,
    sent: bool,
    error: Option<String>,
    duration: Duration,
}

fn sensitive(bytes: &[u8]) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_bytes(bytes).map_err(|_| Error::Refused {
        url: String::new(),
        reason: "the credential contains characters that cannot be sent in a header".into(),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

async fn read_bounded(
    mut resp: reqwest::Response,
    limit: usize,
    url: &Url,
) -> Result<Vec<u8>, Error> {
    let too_large = || Error::BodyTooLarge {
        url: url.to_string(),
        limit,
    };
    if resp
        .content_length()
        .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(Error::Network {
                    url: url.to_string(),
                    detail: network_detail(&e),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_classes() {
        for (ip, class) in [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("0.0.0.0", Some("reserved")),
            ("::1", Some("loopback")),
            ("fd00::1", Some("private (unique local)")),
            ("fe80::1", Some("link-local")),
            ("::ffff:10.0.0.1", Some("private")),
            ("8.8.8.8", None),
            ("2606:4700::1111", None),
        ] {
            let ip: IpAddr = ip.parse().expect("ip");
            assert_eq!(non_public(ip), class, "{ip}");
        }
    }

    #[test]
    fn admin_credential_never_goes_to_a_discovered_instance() {
        let client = Client::new(ClientOptions::default(), Arc::new(NoEgressLog));
        let instance = Instance {
            url: Url::parse("https://evil.example").expect("url"),
            name: None,
            source: crate::instance::InstanceSource::Beside,
            trusted: false,
            instance_id: None,
        };
        let admin = Credential::from_token(b"eyJx.eyJy.z", "admin".into(), None, 0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let err = rt
            .block_on(client.send(
                &instance,
                Call::get("/access/api/v2/users/x", Auth::Admin(&admin), "test"),
            ))
            .expect_err("refused");
        assert!(err.short().contains("admin credential"), "{err}");
    }

    #[test]
    fn retry_after_forms() {
        let now = jiff::Timestamp::from_second(1_700_000_000).expect("ts");
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
