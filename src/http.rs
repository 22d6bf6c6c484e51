//! The crate-private HTTP layer: reqwest with rustls on the *ring* provider (aws-lc-rs costs a
//! fresh CLI process 30–40 ms, performance-notes.md), redirects off, timeouts, a body-size cap,
//! proxies for the authority only (MI endpoints are never proxied), a pinned-thumbprint client
//! for Service Fabric, and the mapping of transport failures onto [`Error`].
//!
//! [`HttpOptions`] is the public face; no reqwest type leaves this module's crate.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::env::Env;
use crate::error::{Error, Leg, SharedCause, TransportKind, quote};
use crate::trust;

/// Default timeout of one request (connect + response).
///
/// ```
/// use ficx::{DEFAULT_TIMEOUT_SECS, HttpOptions};
/// use std::time::Duration;
/// let explicit = HttpOptions::default().timeout(Duration::from_secs(DEFAULT_TIMEOUT_SECS));
/// assert_eq!(format!("{explicit:?}"), format!("{:?}", HttpOptions::default()));
/// ```
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// Default connect timeout.
///
/// ```
/// use ficx::{DEFAULT_CONNECT_TIMEOUT_SECS, HttpOptions};
/// use std::time::Duration;
/// let explicit = HttpOptions::default().connect_timeout(Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS));
/// assert_eq!(format!("{explicit:?}"), format!("{:?}", HttpOptions::default()));
/// ```
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 5;
/// Default cap on a response body; larger bodies fail with [`TransportKind::BodyTooLarge`].
///
/// ```
/// use ficx::{DEFAULT_MAX_BODY_BYTES, HttpOptions};
/// let explicit = HttpOptions::default().max_body_bytes(DEFAULT_MAX_BODY_BYTES);
/// assert_eq!(format!("{explicit:?}"), format!("{:?}", HttpOptions::default()));
/// ```
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Which certificate authorities the authority (Entra) leg trusts.
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
/// # use ficx::{HttpOptions, TrustRoots};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// # let builder = emu.exchanger_builder();
/// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
/// use ficx::{Error, TransportKind};
/// // Mozilla's roots do not include the emulator's CA: the exchange leg fails on TLS.
/// let exchanger = builder.http(HttpOptions::default().trust_roots(TrustRoots::Mozilla))
///     .retry(ficx::RetryPolicy::none()).build()?;
/// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
/// assert!(matches!(err, Error::Transport { kind: TransportKind::Tls, .. }), "{err}");
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TrustRoots {
    /// The operating system's store, falling back to Mozilla's roots when it is empty.
    #[default]
    System,
    /// Mozilla's roots compiled into the binary (no file I/O at start).
    Mozilla,
    /// Only the extra CA files given with [`HttpOptions::ca_file`].
    ExtraOnly,
}

/// Proxy choice for the authority leg.
///
/// ```
/// use ficx::{Exchanger, HttpOptions, ManagedIdentity, ProxySetting};
/// let http = HttpOptions::default().proxy(ProxySetting::Url("http://proxy.corp.example:3128".into()));
/// let exchanger = Exchanger::builder()
///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .managed_identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
/// #   .env(ficx::Env::from_vars([("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token"), ("IDENTITY_HEADER", "h")]))
///     .http(http)
///     .build()?; // the authority leg goes through the proxy; MI requests never do
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxySetting {
    /// `HTTPS_PROXY`/`https_proxy` and `NO_PROXY`/`no_proxy` from the environment.
    #[default]
    FromEnv,
    /// No proxy.
    None,
    /// This proxy URL.
    Url(String),
}

/// HTTP settings for both legs.
///
/// ```
/// use ficx::HttpOptions;
/// use std::time::Duration;
/// let http = HttpOptions::default()
///     .timeout(Duration::from_secs(5))
///     .ca_file("/etc/ficx/emulator-ca.pem");
/// # let _ = http;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpOptions {
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) ca_files: Vec<PathBuf>,
    pub(crate) ca_pems: Vec<Vec<u8>>,
    pub(crate) trust: TrustRoots,
    pub(crate) proxy: ProxySetting,
    pub(crate) max_body_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
            ca_files: Vec::new(),
            ca_pems: Vec::new(),
            trust: TrustRoots::default(),
            proxy: ProxySetting::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl HttpOptions {
    /// Timeout of one request, connect to last body byte (default [`DEFAULT_TIMEOUT_SECS`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{HttpOptions, TrustRoots};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// use std::time::Duration;
    /// emu.faults().inject(Endpoint::Token, Fault::Hang, Times::Always);
    /// let http = HttpOptions::default().trust_roots(TrustRoots::ExtraOnly).ca_pem(emu.ca_pem())
    ///     .timeout(Duration::from_millis(300));
    /// let exchanger = builder.http(http).retry(ficx::RetryPolicy::none()).build()?;
    /// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert!(matches!(err, ficx::Error::Timeout { .. }), "{err}");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Connect timeout (default [`DEFAULT_CONNECT_TIMEOUT_SECS`]).
    ///
    /// ```
    /// use ficx::{Exchanger, HttpOptions, ManagedIdentity};
    /// use std::time::Duration;
    /// let exchanger = Exchanger::builder()
    ///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .managed_identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
    /// #   .env(ficx::Env::from_vars([("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token"), ("IDENTITY_HEADER", "h")]))
    ///     .http(HttpOptions::default().connect_timeout(Duration::from_secs(2)).timeout(Duration::from_secs(5)))
    ///     .build()?;
    /// # let _ = exchanger;
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Also trust the CA certificates in this PEM file (e.g. the emulator's, or a TLS-inspecting
    /// proxy's). Read when the exchanger is built.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, Exchanger, HttpOptions, TrustRoots};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// // The emulator writes its CA bundle to a file, as a TLS-inspecting proxy's admin would.
    /// let exchanger = builder.http(HttpOptions::default().trust_roots(TrustRoots::ExtraOnly).ca_file(emu.ca_file()))
    ///     .build()?;
    /// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// // A missing file fails the build, before any request.
    /// let missing = HttpOptions::default().ca_file("/nonexistent/ca.pem");
    /// # let builder = Exchanger::builder().client_id(defaults::APP_CLIENT_ID).env(Env::from_vars(emu.env(Endpoint::Imds)));
    /// assert!(builder.http(missing).build().unwrap_err().is_usage());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }

    /// Also trust the CA certificates in this PEM text.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # use ficx::{HttpOptions, TrustRoots};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// let http = HttpOptions::default().trust_roots(TrustRoots::ExtraOnly).ca_pem(emu.ca_pem());
    /// let exchanger = builder.http(http).build()?;
    /// let token = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert_eq!(token.token_type(), "Bearer");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pems.push(pem.into());
        self
    }

    /// Which roots to trust besides the extra CAs (default [`TrustRoots::System`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # use ficx::{HttpOptions, TrustRoots};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// // ExtraOnly with no extra CA trusts nothing: TLS to the emulator fails.
    /// let exchanger = builder.http(HttpOptions::default().trust_roots(TrustRoots::ExtraOnly))
    ///     .retry(ficx::RetryPolicy::none()).build()?;
    /// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert!(!err.is_transient()); // a TLS failure is not retried
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn trust_roots(mut self, t: TrustRoots) -> Self {
        self.trust = t;
        self
    }

    /// Proxy for the authority leg (default [`ProxySetting::FromEnv`]). MI endpoints are never
    /// proxied, and neither are loopback addresses.
    ///
    /// ```
    /// use ficx::{HttpOptions, ProxySetting};
    /// // Ignore HTTPS_PROXY from the environment.
    /// let http = HttpOptions::default().proxy(ProxySetting::None);
    /// assert!(format!("{http:?}").contains("proxy: None"));
    /// ```
    pub fn proxy(mut self, p: ProxySetting) -> Self {
        self.proxy = p;
        self
    }

    /// Cap on a response body (default [`DEFAULT_MAX_BODY_BYTES`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # use ficx::{HttpOptions, TrustRoots};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::{Error, TransportKind};
    /// let http = HttpOptions::default().trust_roots(TrustRoots::ExtraOnly).ca_pem(emu.ca_pem())
    ///     .max_body_bytes(256); // a token reply is larger
    /// let exchanger = builder.http(http).build()?;
    /// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert!(matches!(err, Error::Transport { kind: TransportKind::BodyTooLarge, .. }), "{err}");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }
}

/// A finished HTTP exchange: status, headers and the (capped) body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn retry_after(&self, now: std::time::SystemTime) -> Option<Duration> {
        crate::retry::parse_retry_after(
            self.header("retry-after"),
            self.header("retry-after-ms"),
            self.header("x-ms-retry-after-ms"),
            now,
        )
    }
}

/// The ready clients.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    mi: reqwest::Client,
    authority: reqwest::Client,
    max_body: usize,
    timeout: Duration,
    connect_timeout: Duration,
}

const USER_AGENT: &str = concat!("ficx/", env!("CARGO_PKG_VERSION"));

fn proxy(opts: &HttpOptions, env: &Env) -> Result<Option<reqwest::Proxy>, Error> {
    let url = match &opts.proxy {
        ProxySetting::None => return Ok(None),
        ProxySetting::Url(u) => Some(u.clone()),
        ProxySetting::FromEnv => env.var("HTTPS_PROXY").or_else(|| env.var("https_proxy")),
    };
    let Some(url) = url else { return Ok(None) };
    let p = reqwest::Proxy::https(&url).map_err(|_| Error::InvalidInput {
        field: "HTTPS_PROXY",
        problem: format!(
            "{} is not a proxy URL; expected http://host:port",
            quote(&url)
        ),
    })?;
    let mut no = env
        .var("NO_PROXY")
        .or_else(|| env.var("no_proxy"))
        .unwrap_or_default();
    // Loopback (the emulator, local sidecars) is never proxied.
    no.push_str(",localhost,127.0.0.1,::1");
    Ok(Some(p.no_proxy(reqwest::NoProxy::from_string(&no))))
}

fn base_builder(opts: &HttpOptions) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(opts.timeout)
        .connect_timeout(opts.connect_timeout)
        .user_agent(USER_AGENT)
        .pool_idle_timeout(Duration::from_secs(90))
}

fn build_err(e: reqwest::Error) -> Error {
    Error::Unsupported(format!("HTTP client setup failed: {e}"))
}

impl Http {
    /// Build both clients. Reads CA files; makes no network call.
    pub(crate) fn new(opts: &HttpOptions, env: &Env) -> Result<Self, Error> {
        let mi = base_builder(opts)
            .no_proxy()
            .tls_backend_preconfigured(trust::mozilla_tls()?)
            .build()
            .map_err(build_err)?;
        let mut authority =
            base_builder(opts).tls_backend_preconfigured(trust::authority_tls(opts)?);
        authority = match proxy(opts, env)? {
            Some(p) => authority.proxy(p),
            None => authority.no_proxy(),
        };
        Ok(Self {
            mi,
            authority: authority.build().map_err(build_err)?,
            max_body: opts.max_body_bytes,
            timeout: opts.timeout,
            connect_timeout: opts.connect_timeout,
        })
    }

    /// The client for MI endpoints (never proxied).
    pub(crate) fn mi(&self) -> &reqwest::Client {
        &self.mi
    }

    /// The client for the authority.
    pub(crate) fn authority(&self) -> &reqwest::Client {
        &self.authority
    }

    /// A client that trusts exactly the certificate whose SHA-1 thumbprint is given (Service
    /// Fabric's self-signed endpoint), never proxied.
    pub(crate) fn pinned(&self, thumbprint: [u8; 20]) -> Result<reqwest::Client, Error> {
        let cfg = trust::pinned_tls(thumbprint)?;
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(USER_AGENT)
            .no_proxy()
            .tls_backend_preconfigured(cfg)
            .build()
            .map_err(build_err)
    }

    /// Send and read the whole (capped) body.
    pub(crate) async fn send(
        &self,
        leg: Leg,
        req: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<Reply, Error> {
        tracing::debug!(%leg, url, "request sent");
        let resp = req.send().await.map_err(|e| {
            let err = self.map_err(leg, url, e);
            tracing::debug!(%leg, url, error = %err, "request failed");
            err
        })?;
        let status = resp.status().as_u16();
        tracing::debug!(%leg, url, status, "response received");
        let headers = resp.headers().clone();
        let too_large = || Error::Transport {
            leg,
            url: url.to_owned(),
            kind: TransportKind::BodyTooLarge,
            cause: None,
        };
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large());
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.map_err(leg, url, e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn map_err(&self, leg: Leg, url: &str, e: reqwest::Error) -> Error {
        let url = url.to_owned();
        if e.is_timeout() {
            return Error::Timeout {
                leg,
                url,
                after: self.timeout,
            };
        }
        let tls = {
            let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            let mut found = false;
            while let Some(s) = src {
                if s.is::<rustls::Error>() || s.to_string().contains("certificate") {
                    found = true;
                    break;
                }
                src = s.source();
            }
            found
        };
        let kind = if tls {
            TransportKind::Tls
        } else if e.is_connect() {
            TransportKind::Connect
        } else if e.is_body() || e.is_decode() || e.is_request() {
            TransportKind::Reset
        } else {
            TransportKind::Other
        };
        Error::Transport {
            leg,
            url,
            kind,
            cause: Some(Arc::new(e.without_url()) as SharedCause),
        }
    }
}

/// Parse a certificate thumbprint: 40 hex digits, optionally with spaces or colons.
pub(crate) fn parse_thumbprint(value: &str) -> Result<[u8; 20], Error> {
    let hex: String = value.chars().filter(|c| !matches!(c, ' ' | ':')).collect();
    let bad = || Error::InvalidInput {
        field: "IDENTITY_SERVER_THUMBPRINT",
        problem: format!(
            "{} is not a SHA-1 thumbprint; expected 40 hex digits",
            quote(value)
        ),
    };
    if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; 20];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints() {
        let t = parse_thumbprint("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01")
            .unwrap();
        assert_eq!(t[0], 0xab);
        assert!(parse_thumbprint("abc").is_err());
        assert!(parse_thumbprint(&"zz".repeat(20)).is_err());
    }

    #[test]
    fn proxy_from_env_and_bad_proxy() {
        let env = Env::from_vars([("HTTPS_PROXY", "not a url")]);
        let e = Http::new(
            &HttpOptions::default().trust_roots(TrustRoots::Mozilla),
            &env,
        )
        .unwrap_err();
        assert!(e.to_string().contains("HTTPS_PROXY"), "{e}");
        let env = Env::from_vars([("HTTPS_PROXY", "http://proxy.example:3128")]);
        assert!(
            Http::new(
                &HttpOptions::default().trust_roots(TrustRoots::Mozilla),
                &env
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_ca_file_is_named() {
        let e = Http::new(
            &HttpOptions::default().ca_file("/nonexistent/ca.pem"),
            &Env::from_vars::<&str, &str>([]),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("invalid ca file"), "{e}");
        let e = Http::new(
            &HttpOptions::default().ca_pem("garbage"),
            &Env::from_vars::<&str, &str>([]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
    }
}
