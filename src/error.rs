//! The one error type of the library, the raw evidence Entra and the MI endpoints return, and the
//! questions callers ask of a failure: is it transient, which AADSTS code, and what is the fix.
//!
//! Nothing in here ever holds a token, an assertion or a platform secret: MI *error* bodies are
//! excerpted (success bodies never are), and excerpts are redacted first.

use std::fmt;
use std::time::Duration;

/// Which leg of the two-step flow an error belongs to.
///
/// ```
/// use ficx::{Error, Leg};
/// let e = Error::Timeout { leg: Leg::Exchange, url: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token".into(), after: std::time::Duration::from_secs(30) };
/// assert_eq!(e.leg(), Some(Leg::Exchange));
/// assert_eq!(Leg::ManagedIdentity.to_string(), "managed identity");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Leg {
    /// Leg 1: the managed-identity (or other assertion source) request for the exchange audience.
    ManagedIdentity,
    /// Leg 2: the jwt-bearer `client_credentials` request to the foreign tenant's token endpoint.
    Exchange,
}

impl fmt::Display for Leg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Leg::ManagedIdentity => "managed identity",
            Leg::Exchange => "token exchange",
        })
    }
}

/// A shared error used as a `source()` (shared so that [`Error`] is `Clone`: single-flight hands
/// one outcome to every waiting caller).
///
/// ```
/// use ficx::{Error, Leg, TransportKind, error::SharedCause};
/// use std::error::Error as _;
/// let cause: SharedCause = std::sync::Arc::new(std::io::Error::other("connection refused"));
/// let e = Error::Transport { leg: Leg::ManagedIdentity, url: "http://169.254.169.254/metadata/identity/oauth2/token".into(), kind: TransportKind::Connect, cause: Some(cause) };
/// assert_eq!(e.source().unwrap().to_string(), "connection refused");
/// let copy = e.clone(); // Clone thanks to the shared cause
/// assert!(copy.is_transient());
/// ```
pub type SharedCause = std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong getting a cross-tenant token.
///
/// Variants are the stable kinds, named for what a caller can do about them. Ask the error
/// questions rather than matching deeply: [`Error::is_transient`], [`Error::aadsts`],
/// [`Error::hint`], [`Error::leg`].
///
/// ```
/// use ficx::{Error, Exchanger};
/// async fn call(x: &Exchanger) -> Result<(), Error> {
///     match x.token("contoso.onmicrosoft.com", "https://graph.microsoft.com").await {
///         Ok(_token) => Ok(()),
///         Err(e) if e.is_transient() => Err(e), // retry later (ficx already retried)
///         Err(e) => {
///             // configuration: an admin must act; say which leg and what to do
///             eprintln!("{} leg: {e}", e.leg().map(|l| l.to_string()).unwrap_or_default());
///             if let Some(fix) = e.hint() {
///                 eprintln!("fix: {fix}");
///             }
///             Err(e)
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument or configuration value is malformed; caught before any network call.
    #[error("invalid {field}: {problem}")]
    InvalidInput {
        /// The flag, field or parameter that was wrong (e.g. `tenant`, `scope`, `mi client id`).
        field: &'static str,
        /// What was wrong and the expected form.
        problem: String,
    },
    /// The combination of settings cannot work (e.g. a user-assigned identity on Service Fabric,
    /// Cloud Shell as an assertion source); caught before any network call.
    #[error("unsupported configuration: {0}")]
    Unsupported(String),
    /// No managed-identity endpoint could be found or reached in this environment.
    #[error("no managed identity is available here: {checked}")]
    NoManagedIdentity {
        /// What was checked, in order, and why each did not apply.
        checked: String,
    },
    /// The managed-identity endpoint answered with an error.
    #[error(transparent)]
    ManagedIdentity(Box<MiError>),
    /// Entra answered the exchange with an OAuth error.
    #[error(transparent)]
    Exchange(Box<EntraError>),
    /// The request did not complete: connection refused or reset, DNS, TLS.
    #[error("{leg} request to {url} failed: {kind}")]
    Transport {
        /// Which leg.
        leg: Leg,
        /// The URL that was called (never carries a secret: secrets travel in headers and bodies).
        url: String,
        /// What kind of transport failure.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        cause: Option<SharedCause>,
    },
    /// The request (or the whole retry budget) ran out of time.
    #[error("{leg} request to {url} timed out after {after:?}")]
    Timeout {
        /// Which leg.
        leg: Leg,
        /// The URL that was called.
        url: String,
        /// How long was waited.
        after: Duration,
    },
    /// The server answered, but not with something this flow can use.
    #[error("{leg} endpoint {url} returned an invalid response: {detail}")]
    InvalidResponse {
        /// Which leg.
        leg: Leg,
        /// The URL that was called.
        url: String,
        /// What was wrong: JSON path and field names, never values.
        detail: String,
    },
    /// A caller-supplied or file-based assertion source failed.
    #[error("assertion source {source_name} failed: {message}")]
    Assertion {
        /// Which source (e.g. `token file /var/run/…`).
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// The shared token store failed in a way the caller must know about.
    #[error("token store: {0}")]
    Store(String),
}

/// The kinds of transport failure.
///
/// ```
/// use ficx::{Error, Leg, TransportKind};
/// let tls = Error::Transport { leg: Leg::Exchange, url: "https://login.example.com".into(), kind: TransportKind::Tls, cause: None };
/// assert!(!tls.is_transient()); // a certificate problem does not go away by itself
/// assert_eq!(TransportKind::Connect.to_string(), "could not connect");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// Could not connect (refused, unreachable, DNS).
    Connect,
    /// The connection broke while the request or response was in flight.
    Reset,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The response body exceeded the size cap.
    BodyTooLarge,
    /// Anything else reported by the HTTP stack.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Reset => "connection broken mid-response",
            TransportKind::Tls => "TLS failure",
            TransportKind::BodyTooLarge => "response body over the size cap",
            TransportKind::Other => "transport error",
        })
    }
}

/// Which managed-identity endpoint kind answered.
///
/// ```
/// use ficx::SourceKind;
/// assert_eq!(SourceKind::AppService.to_string(), "App Service"); // for people
/// assert_eq!(SourceKind::AppService.as_str(), "app_service"); // for JSON and logs
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceKind {
    /// Azure Instance Metadata Service (VMs, VMSS, AKS nodes, ACI).
    Imds,
    /// App Service, Functions, Container Apps, Automation.
    AppService,
    /// Azure Arc-enabled servers.
    AzureArc,
    /// Azure Machine Learning compute.
    AzureMl,
    /// Azure Cloud Shell (delegated user token: refused as an assertion).
    CloudShell,
    /// Service Fabric.
    ServiceFabric,
}

impl SourceKind {
    /// A stable lower-case name, as used in JSON output and logs.
    ///
    /// ```
    /// assert_eq!(ficx::SourceKind::ServiceFabric.as_str(), "service_fabric");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            SourceKind::Imds => "imds",
            SourceKind::AppService => "app_service",
            SourceKind::AzureArc => "azure_arc",
            SourceKind::AzureMl => "azure_ml",
            SourceKind::CloudShell => "cloud_shell",
            SourceKind::ServiceFabric => "service_fabric",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceKind::Imds => "IMDS",
            SourceKind::AppService => "App Service",
            SourceKind::AzureArc => "Azure Arc",
            SourceKind::AzureMl => "Azure ML",
            SourceKind::CloudShell => "Cloud Shell",
            SourceKind::ServiceFabric => "Service Fabric",
        })
    }
}

/// A managed-identity endpoint's error answer.
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # use ficx::{Env, ManagedIdentity};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// // A client id that is not attached to the emulated compute: IMDS answers 400.
/// let unknown = ManagedIdentity::client_id("a9a9a9a9-0000-4000-8000-000000000009")?;
/// let source = ficx::ManagedIdentitySource::builder().identity(unknown)
///     .env(Env::from_vars(emu.env(Endpoint::Imds))).build()?;
/// let err = source.token(defaults::EXCHANGE_AUDIENCE).await.unwrap_err();
/// let mi = err.managed_identity().expect("an MI endpoint error");
/// assert_eq!((mi.source_kind, mi.status), (ficx::SourceKind::Imds, 400));
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "managed identity ({source_kind}, {identity}) returned HTTP {status}{}{}",
    code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
    message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
)]
#[non_exhaustive]
pub struct MiError {
    /// The endpoint kind.
    pub source_kind: SourceKind,
    /// The identity that was asked for, e.g. `user-assigned client id 1234…` or `system-assigned`.
    pub identity: String,
    /// HTTP status.
    pub status: u16,
    /// The `error` / `code` field of the body, when there was one.
    pub code: Option<String>,
    /// The `error_description` / `message`, or an excerpt of a non-JSON error body (≤ 300 chars).
    pub message: Option<String>,
    /// `Retry-After` the endpoint asked for, if any.
    pub retry_after: Option<Duration>,
}

/// Entra's OAuth error answer to the exchange, with all the raw evidence kept.
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// # let exchanger = emu.exchanger_builder()
/// #     .build()?;
/// // `exchanger` talks to `emu`, a running ficx::emulator (set-up hidden)
/// // Tailspin has no service principal for the app.
/// let err = exchanger.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
/// let entra = err.entra().expect("Entra's answer");
/// assert_eq!((entra.status, entra.error.as_str()), (400, "unauthorized_client"));
/// assert_eq!(entra.codes.first(), Some(&700016));
/// assert!(entra.trace_id.is_some()); // for Microsoft support
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "Entra rejected the exchange for tenant {tenant} (HTTP {status} {error}{}): {}",
    codes.first().map(|c| format!(", AADSTS{c}")).unwrap_or_default(),
    self.summary()
)]
#[non_exhaustive]
pub struct EntraError {
    /// The foreign tenant that was asked.
    pub tenant: String,
    /// The multi-tenant app's client id that was sent.
    pub client_id: String,
    /// HTTP status.
    pub status: u16,
    /// The OAuth `error` field (`invalid_client`, `invalid_request`, …).
    pub error: String,
    /// Every code in `error_codes`.
    pub codes: Vec<u32>,
    /// The full `error_description`.
    pub description: String,
    /// `trace_id`, for Microsoft support.
    pub trace_id: Option<String>,
    /// `correlation_id`, for Microsoft support.
    pub correlation_id: Option<String>,
    /// `timestamp` as Entra sent it.
    pub timestamp: Option<String>,
    /// `error_uri` when present.
    pub error_uri: Option<String>,
    /// `Retry-After` Entra asked for, if any.
    pub retry_after: Option<Duration>,
}

impl EntraError {
    /// The first line of the description without the `AADSTSnnnn: ` prefix.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let exchanger = emu.exchanger_builder()
    /// #     .build()?;
    /// // `exchanger` talks to `emu`, a running ficx::emulator (set-up hidden)
    /// let err = exchanger.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// let entra = err.entra().unwrap();
    /// assert!(entra.description.starts_with("AADSTS700016: "));
    /// assert!(!entra.summary().starts_with("AADSTS")); // the first line, prefix removed
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn summary(&self) -> &str {
        let first = self.description.lines().next().unwrap_or("").trim();
        match first.split_once(": ") {
            Some((prefix, rest)) if prefix.starts_with("AADSTS") => rest,
            _ => first,
        }
    }
}

impl Error {
    /// Which leg failed, when the failure belongs to one.
    ///
    /// ```
    /// use ficx::{Error, Leg, TenantId};
    /// let bad_input = TenantId::new("common").unwrap_err();
    /// assert_eq!(bad_input.leg(), None); // failed before any request
    /// let e = Error::NoManagedIdentity { checked: "IMDS: no answer".into() };
    /// assert_eq!(e.leg(), Some(Leg::ManagedIdentity));
    /// ```
    pub fn leg(&self) -> Option<Leg> {
        match self {
            Error::ManagedIdentity(_)
            | Error::NoManagedIdentity { .. }
            | Error::Assertion { .. } => Some(Leg::ManagedIdentity),
            Error::Exchange(_) => Some(Leg::Exchange),
            Error::Transport { leg, .. }
            | Error::Timeout { leg, .. }
            | Error::InvalidResponse { leg, .. } => Some(*leg),
            Error::InvalidInput { .. } | Error::Unsupported(_) | Error::Store(_) => None,
        }
    }

    /// True when the same request may succeed later without anyone changing configuration:
    /// timeouts, connection failures, HTTP 408/429/5xx, and IMDS 404/410 (IMDS is updating).
    ///
    /// ```
    /// use ficx::{Error, Leg};
    /// let timeout = Error::Timeout { leg: Leg::ManagedIdentity, url: "http://169.254.169.254/metadata/identity/oauth2/token".into(), after: std::time::Duration::from_secs(5) };
    /// assert!(timeout.is_transient());
    /// assert!(!Error::Unsupported("Cloud Shell as an assertion source".into()).is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            // A TLS failure or an oversized body will not change by retrying.
            Error::Transport { kind, .. } => {
                !matches!(kind, TransportKind::Tls | TransportKind::BodyTooLarge)
            }
            Error::Timeout { .. } => true,
            Error::ManagedIdentity(e) => {
                matches!(e.status, 408 | 429 | 500..=599)
                    || (e.source_kind == SourceKind::Imds && matches!(e.status, 404 | 410))
            }
            Error::Exchange(e) => matches!(e.status, 408 | 429 | 500..=599),
            Error::InvalidInput { .. }
            | Error::Unsupported(_)
            | Error::NoManagedIdentity { .. }
            | Error::InvalidResponse { .. }
            | Error::Assertion { .. }
            | Error::Store(_) => false,
        }
    }

    /// The `ficx` CLI's exit code for this error (README "Exit codes"): 2 bad input, 3 the
    /// managed-identity leg, 4 Entra rejected the exchange, 5 transient after retries, 1 else.
    ///
    /// ```
    /// use ficx::{Error, Leg};
    /// assert_eq!(ficx::Scope::new("a b").unwrap_err().exit_code(), 2); // bad input
    /// assert_eq!(Error::NoManagedIdentity { checked: String::new() }.exit_code(), 3);
    /// let timeout = Error::Timeout { leg: Leg::Exchange, url: String::new(), after: Default::default() };
    /// assert_eq!(timeout.exit_code(), 5); // transient after retries
    /// ```
    pub fn exit_code(&self) -> u8 {
        if self.is_usage() {
            return 2;
        }
        if self.is_transient() {
            return 5;
        }
        match self {
            Error::Exchange(_) => 4,
            Error::InvalidResponse {
                leg: Leg::Exchange, ..
            }
            | Error::Store(_) => 1,
            _ if self.leg() == Some(Leg::ManagedIdentity) => 3,
            _ => 1,
        }
    }

    /// True when this failed before any network call (bad input or impossible configuration).
    ///
    /// ```
    /// use ficx::Error;
    /// assert!(ficx::TenantId::new("contoso/x").unwrap_err().is_usage());
    /// assert!(!Error::Store("redis: connection refused".into()).is_usage());
    /// ```
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::InvalidInput { .. } | Error::Unsupported(_))
    }

    /// The first AADSTS code Entra returned, if Entra is where this came from.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let exchanger = emu.exchanger_builder()
    /// #     .build()?;
    /// // `exchanger` talks to `emu`, a running ficx::emulator (set-up hidden)
    /// let err = exchanger.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert_eq!(err.aadsts(), Some(700016)); // the app has no service principal in Tailspin
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn aadsts(&self) -> Option<u32> {
        match self {
            Error::Exchange(e) => e.codes.first().copied(),
            _ => None,
        }
    }

    /// The Entra error, if this is one.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let exchanger = emu.exchanger_builder()
    /// #     .build()?;
    /// // `exchanger` talks to `emu`, a running ficx::emulator (set-up hidden)
    /// let err = exchanger.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// let entra = err.entra().expect("Entra rejected the exchange");
    /// assert_eq!(entra.tenant, defaults::TAILSPIN_TENANT_DOMAIN);
    /// assert_eq!(entra.client_id, defaults::APP_CLIENT_ID);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn entra(&self) -> Option<&EntraError> {
        match self {
            Error::Exchange(e) => Some(e),
            _ => None,
        }
    }

    /// The MI endpoint error, if this is one.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, ManagedIdentity};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// let source = ficx::ManagedIdentitySource::builder()
    ///     .identity(ManagedIdentity::client_id("a9a9a9a9-0000-4000-8000-000000000009")?) // not attached
    ///     .env(Env::from_vars(emu.env(Endpoint::AppService))).build()?;
    /// let err = source.token(defaults::EXCHANGE_AUDIENCE).await.unwrap_err();
    /// let mi = err.managed_identity().expect("the MI endpoint's error");
    /// assert_eq!(mi.source_kind, ficx::SourceKind::AppService);
    /// assert!(err.entra().is_none());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn managed_identity(&self) -> Option<&MiError> {
        match self {
            Error::ManagedIdentity(e) => Some(e),
            _ => None,
        }
    }

    /// The delay the server asked for, if it sent `Retry-After` (or a variant).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, Exchanger, HttpOptions, ManagedIdentity, TrustRoots};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let exchanger = emu.exchanger_builder()
    /// #     .build()?;
    /// // `exchanger` talks to `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, RetryAfter, Times};
    /// use std::time::Duration;
    /// emu.faults().inject(Endpoint::Token, Fault::Status { status: 503, retry_after: Some(RetryAfter::Seconds(7)), body: None }, Times::Always);
    /// # let exchanger = Exchanger::builder().client_id(defaults::APP_CLIENT_ID)
    /// #     .managed_identity(ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)?)
    /// #     .authority_host(emu.authority_url()).env(Env::from_vars(emu.env(Endpoint::Imds)))
    /// #     .http(HttpOptions::default().trust_roots(TrustRoots::ExtraOnly).ca_pem(emu.ca_pem()))
    /// #     .retry(ficx::RetryPolicy::none()).build()?;
    /// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Exchange(e) => e.retry_after,
            Error::ManagedIdentity(e) => e.retry_after,
            _ => None,
        }
    }

    /// One line an admin can act on; `None` when the server's own text is the best there is.
    ///
    /// Codes and texts change over time (Microsoft says so); hints are best effort and the raw
    /// fields stay available on [`EntraError`] and [`MiError`].
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let exchanger = emu.exchanger_builder()
    /// #     .build()?;
    /// // `exchanger` talks to `emu`, a running ficx::emulator (set-up hidden)
    /// let err = exchanger.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert_eq!(err.hint(), ficx::hints::lookup(700016).map(|row| row.fix));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Exchange(e) => e.codes.iter().find_map(|c| crate::hints::aadsts_hint(*c)),
            Error::ManagedIdentity(e) => crate::hints::mi_hint(e),
            Error::NoManagedIdentity { .. } => Some(
                "run where a managed identity is available (Azure VM, App Service, AKS, …), or point \
                 AZURE_POD_IDENTITY_AUTHORITY_HOST / IDENTITY_ENDPOINT at an emulator (`ficx emulate`)",
            ),
            Error::Transport {
                kind: TransportKind::Tls,
                ..
            } => {
                Some("the server's certificate was not trusted; pass the CA bundle with --ca-file")
            }
            _ => None,
        }
    }
}

/// Replace every occurrence of each secret in `text` with `[redacted]`, and cut to `max` chars.
///
/// Used on error-body excerpts, so a hostile or buggy endpoint that echoes a header secret back
/// cannot get it into an error message.
pub(crate) fn redact(text: &str, secrets: &[&str], max: usize) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(*s, "[redacted]");
    }
    let mut cut: String = out
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if out.chars().count() > max {
        cut.push('…');
    }
    cut
}

/// Quote a user-supplied value for an error message: escaped, and cut to a readable length.
pub(crate) fn quote(value: &str) -> String {
    const MAX: usize = 80;
    let escaped: String = value.escape_debug().collect();
    if escaped.chars().count() > MAX {
        let cut: String = escaped.chars().take(MAX).collect();
        format!("\"{cut}…\" ({} chars)", value.chars().count())
    } else {
        format!("\"{escaped}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entra(status: u16, codes: Vec<u32>) -> Error {
        Error::Exchange(Box::new(EntraError {
            tenant: "contoso.example".into(),
            client_id: "app".into(),
            status,
            error: "invalid_client".into(),
            codes,
            description:
                "AADSTS700213: No matching federated identity record found.\r\nTrace ID: x".into(),
            trace_id: Some("t".into()),
            correlation_id: Some("c".into()),
            timestamp: None,
            error_uri: None,
            retry_after: None,
        }))
    }

    #[test]
    fn display_is_one_line_and_names_tenant_and_code() {
        let e = entra(401, vec![700213]);
        let s = e.to_string();
        assert!(!s.contains('\n'), "{s}");
        assert!(
            s.contains("contoso.example") && s.contains("AADSTS700213"),
            "{s}"
        );
        assert!(
            s.contains("No matching federated identity record found."),
            "{s}"
        );
        assert_eq!(e.aadsts(), Some(700213));
        assert!(e.hint().unwrap().contains("object"));
        assert_eq!(e.leg(), Some(Leg::Exchange));
    }

    #[test]
    fn transient_classification() {
        assert!(entra(429, vec![]).is_transient());
        assert!(entra(503, vec![]).is_transient());
        assert!(!entra(400, vec![70021]).is_transient());
        let mi = |kind, status| {
            Error::ManagedIdentity(Box::new(MiError {
                source_kind: kind,
                identity: "system-assigned".into(),
                status,
                code: None,
                message: None,
                retry_after: None,
            }))
        };
        assert!(mi(SourceKind::Imds, 410).is_transient());
        assert!(mi(SourceKind::Imds, 404).is_transient());
        assert!(!mi(SourceKind::AppService, 404).is_transient());
        assert!(!mi(SourceKind::Imds, 400).is_transient());
        assert!(mi(SourceKind::ServiceFabric, 429).is_transient());
        let t = Error::Timeout {
            leg: Leg::Exchange,
            url: "u".into(),
            after: Duration::from_secs(1),
        };
        assert!(t.is_transient());
        let usage = Error::InvalidInput {
            field: "tenant",
            problem: "x".into(),
        };
        assert!(!usage.is_transient() && usage.is_usage());
    }

    #[test]
    fn redact_hides_secrets_and_control_chars() {
        let r = redact("bad header s3cr3t-value\r\nnext", &["s3cr3t-value"], 300);
        assert_eq!(r, "bad header [redacted]  next");
        assert_eq!(redact("abcdef", &[], 3), "abc…");
    }

    #[test]
    fn quote_escapes_and_truncates() {
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
        assert!(quote(&"x".repeat(300)).ends_with("(300 chars)"));
    }
}
