//! The local emulator of the managed-identity endpoints and of a multi-tenant Entra authority.
//!
//! Real HTTP(S) over loopback, real RS256 JWTs and real checks: the token endpoint verifies the
//! assertion's signature against its own JWKS and matches it against the federated identity
//! credentials (FICs) of a configurable directory, answering with Entra's error bodies. Faults
//! can be scripted per endpoint and every request is logged (names only, never values).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ficx::emulator::EmulatorError> {
//! use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
//! let emu = Emulator::start(EmulatorConfig::default_config()).await?;
//! for (k, v) in emu.env(Endpoint::Imds) {
//!     println!("export {k}={v}");
//! }
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! This module takes only `ids`-level leaf types and the [`Clock`] from the library: it writes
//! every wire format from its own definitions so that a shared mistake cannot pass both sides.

mod authority;
mod config;
mod control;
pub mod defaults;
mod directory;
mod entra_error;
mod exchange_checks;
mod faults;
mod jwt;
mod keys;
mod log;
mod mi;
mod serve;
mod state;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SharedClock, SystemClock};

pub use config::{
    AppConfig, ArcConfig, CloudShellUserConfig, DEFAULT_APP_LIFETIME_SECS, DEFAULT_ISSUER_HOST,
    DEFAULT_MI_LIFETIME_SECS, DEFAULT_MI_REISSUE_BELOW_SECS, EmulatorConfig, FicConfig, HostConfig,
    IdentityKind, LifetimesConfig, ListenConfig, MAX_FICS_PER_APP, ManagedIdentityConfig,
    ResourceConfig, ResourceTenants, RoleAssignmentConfig, SecretsConfig, ServicePrincipalConfig,
    TenantConfig,
};
pub use directory::{DirectoryHandle, FicView, ServicePrincipalView};
pub use faults::{ExpiryFormat, Fault, Faults, RetryAfter, Times};
pub use log::{LOG_CAPACITY, Listener, LogEntry, RequestLog};

/// Paths of the MI endpoints on the plain-http MI listener.
pub mod paths {
    /// IMDS (at the root of the MI base URL, as `AZURE_POD_IDENTITY_AUTHORITY_HOST` needs).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::paths;
    /// assert_eq!(emu.endpoint_url(Endpoint::Imds), format!("{}{}", emu.mi_url(), paths::IMDS));
    /// # Ok(()) }
    /// ```
    pub const IMDS: &str = "/metadata/identity/oauth2/token";
    /// App Service / Functions / Container Apps.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::paths;
    /// assert_eq!(emu.endpoint_url(Endpoint::AppService), format!("{}{}", emu.mi_url(), paths::APP_SERVICE));
    /// # Ok(()) }
    /// ```
    pub const APP_SERVICE: &str = "/msi/token";
    /// Azure Arc (HIMDS).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::paths;
    /// assert_eq!(emu.endpoint_url(Endpoint::AzureArc), format!("{}{}", emu.mi_url(), paths::AZURE_ARC));
    /// # Ok(()) }
    /// ```
    pub const AZURE_ARC: &str = "/arc/metadata/identity/oauth2/token";
    /// Base of the Arc agent (`IMDS_ENDPOINT`).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::paths;
    /// // Arc's IMDS_ENDPOINT is the MI base plus this prefix.
    /// assert!(emu.env(Endpoint::AzureArc).contains(&("IMDS_ENDPOINT".into(), format!("{}{}", emu.mi_url(), paths::AZURE_ARC_BASE))));
    /// # Ok(()) }
    /// ```
    pub const AZURE_ARC_BASE: &str = "/arc";
    /// Azure ML.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::paths;
    /// assert_eq!(emu.endpoint_url(Endpoint::AzureMl), format!("{}{}", emu.mi_url(), paths::AZURE_ML));
    /// # Ok(()) }
    /// ```
    pub const AZURE_ML: &str = "/azureml/msi/token";
    /// Cloud Shell.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::paths;
    /// assert_eq!(emu.endpoint_url(Endpoint::CloudShell), format!("{}{}", emu.mi_url(), paths::CLOUD_SHELL));
    /// # Ok(()) }
    /// ```
    pub const CLOUD_SHELL: &str = "/cloudshell/oauth2/token";
    /// Service Fabric (on its own https listener).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::paths;
    /// // On its own https listener, with its own certificate.
    /// assert_eq!(emu.endpoint_url(Endpoint::ServiceFabric), format!("{}{}", emu.service_fabric_url(), paths::SERVICE_FABRIC));
    /// # Ok(()) }
    /// ```
    pub const SERVICE_FABRIC: &str = "/metadata/identity/oauth2/token";
    /// Prefix of the control API (on the MI and authority listeners).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::paths;
    /// assert_eq!(emu.endpoint_url(Endpoint::Control), format!("{}{}", emu.mi_url(), paths::CONTROL));
    /// # Ok(()) }
    /// ```
    pub const CONTROL: &str = "/_ficx";
}

/// The `IDENTITY_API_VERSION` of the Service Fabric endpoint.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::SERVICE_FABRIC_API_VERSION;
/// let env = emu.env(Endpoint::ServiceFabric);
/// assert!(env.contains(&("IDENTITY_API_VERSION".into(), SERVICE_FABRIC_API_VERSION.into())));
/// # Ok(()) }
/// ```
pub const SERVICE_FABRIC_API_VERSION: &str = "2019-07-01-preview";

/// An endpoint the emulator serves; the key for faults, expiry formats and log counts.
///
/// ```
/// use ficx::emulator::Endpoint;
/// let e: Endpoint = "app_service".parse()?;
/// assert_eq!(e, Endpoint::AppService);
/// assert_eq!(e.to_string(), "app_service");
/// assert!("metadata".parse::<Endpoint>().is_err());
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// IMDS token endpoint.
    Imds,
    /// App Service token endpoint.
    AppService,
    /// Azure Arc token endpoint.
    AzureArc,
    /// Azure ML token endpoint.
    AzureMl,
    /// Cloud Shell token endpoint.
    CloudShell,
    /// Service Fabric token endpoint (https, own certificate).
    ServiceFabric,
    /// Entra `/{tenant}/oauth2/v2.0/token`.
    Token,
    /// Entra `/{tenant}/v2.0/.well-known/openid-configuration`.
    OpenIdConfiguration,
    /// Entra JWKS (`/{tenant}/discovery/v2.0/keys`, `/common/discovery/keys`).
    Jwks,
    /// Entra instance discovery (`/common/discovery/instance`).
    InstanceDiscovery,
    /// The emulator's own control API (`/_ficx/...`).
    Control,
}

impl Endpoint {
    /// Every endpoint, in declaration order.
    ///
    /// ```
    /// use ficx::emulator::Endpoint;
    /// let mi: Vec<Endpoint> = Endpoint::ALL.into_iter().filter(|e| e.is_managed_identity()).collect();
    /// assert_eq!(mi.len(), 6);
    /// assert_eq!(Endpoint::ALL.last(), Some(&Endpoint::Control));
    /// ```
    pub const ALL: [Endpoint; 11] = [
        Endpoint::Imds,
        Endpoint::AppService,
        Endpoint::AzureArc,
        Endpoint::AzureMl,
        Endpoint::CloudShell,
        Endpoint::ServiceFabric,
        Endpoint::Token,
        Endpoint::OpenIdConfiguration,
        Endpoint::Jwks,
        Endpoint::InstanceDiscovery,
        Endpoint::Control,
    ];

    /// The snake_case name (same as serde and `Display`).
    ///
    /// ```
    /// use ficx::emulator::Endpoint;
    /// assert_eq!(Endpoint::OpenIdConfiguration.name(), "open_id_configuration");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Imds => "imds",
            Endpoint::AppService => "app_service",
            Endpoint::AzureArc => "azure_arc",
            Endpoint::AzureMl => "azure_ml",
            Endpoint::CloudShell => "cloud_shell",
            Endpoint::ServiceFabric => "service_fabric",
            Endpoint::Token => "token",
            Endpoint::OpenIdConfiguration => "open_id_configuration",
            Endpoint::Jwks => "jwks",
            Endpoint::InstanceDiscovery => "instance_discovery",
            Endpoint::Control => "control",
        }
    }

    /// True for the six managed-identity endpoints.
    ///
    /// ```
    /// use ficx::emulator::Endpoint;
    /// assert!(Endpoint::ServiceFabric.is_managed_identity());
    /// assert!(!Endpoint::Token.is_managed_identity());
    /// ```
    pub fn is_managed_identity(self) -> bool {
        matches!(
            self,
            Endpoint::Imds
                | Endpoint::AppService
                | Endpoint::AzureArc
                | Endpoint::AzureMl
                | Endpoint::CloudShell
                | Endpoint::ServiceFabric
        )
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Endpoint {
    type Err = EmulatorError;
    fn from_str(s: &str) -> Result<Self, EmulatorError> {
        Endpoint::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| EmulatorError::Config {
                path: "endpoint".into(),
                problem: format!(
                    "{s:?} is not an endpoint; expected one of {}",
                    Endpoint::ALL.map(Endpoint::name).join(", ")
                ),
            })
    }
}

/// What can go wrong starting or driving the emulator.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, EmulatorError};
/// let mut config = EmulatorConfig::default_config();
/// config.tenants[1].id = "contoso".into(); // not a GUID
/// match config.validate() {
///     Err(EmulatorError::Config { path, .. }) => assert_eq!(path, "tenants[1].id"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The configuration (or a runtime directory change) is invalid.
    #[error("invalid emulator configuration at {path}: {problem}")]
    Config {
        /// Path of the failing field, e.g. `apps[0].fics[1].subject`.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// A file or directory could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A listener could not bind.
    #[error("cannot listen on {addr} ({listener} listener): {source}")]
    Bind {
        /// Which listener.
        listener: &'static str,
        /// The address.
        addr: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Key or certificate material could not be generated or parsed.
    #[error("emulator key material: {0}")]
    Crypto(String),
    /// A runtime directory change names something that does not exist.
    #[error("directory change refused: {0}")]
    Directory(String),
}

/// The entry point: start an emulator with [`Emulator::start`] or [`Emulator::builder`].
///
/// ```
/// use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// let env = ficx::Env::from_vars(emu.env(Endpoint::Imds)); // point a client at it
/// assert!(env.var("AZURE_POD_IDENTITY_AUTHORITY_HOST").is_some());
/// emu.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Start with the real clock and a temporary state directory.
    ///
    /// ```
    /// use ficx::emulator::{Emulator, EmulatorConfig};
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let emu = Emulator::start(EmulatorConfig::default_config()).await?; // free loopback ports
    /// assert!(emu.authority_url().starts_with("https://127.0.0.1:"));
    /// assert!(emu.mi_url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// See [`EmulatorBuilder::start`].
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        Self::builder(config).start().await
    }

    /// A builder to set the clock or the state directory.
    ///
    /// ```
    /// use ficx::ManualClock;
    /// use ficx::emulator::{Emulator, EmulatorConfig};
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = std::sync::Arc::new(ManualClock::starting_now());
    /// let emu = Emulator::builder(EmulatorConfig::default_config()).clock(clock.clone()).start().await?;
    /// assert!(emu.state_dir().exists()); // a temporary directory, removed at shutdown
    /// # Ok(()) }
    /// ```
    pub fn builder(config: EmulatorConfig) -> EmulatorBuilder {
        EmulatorBuilder {
            config,
            clock: None,
            state_dir: None,
            log_capacity: log::LOG_CAPACITY,
        }
    }
}

/// Configures and starts an emulator.
///
/// ```
/// use ficx::emulator::{Emulator, EmulatorConfig};
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let emu = Emulator::builder(EmulatorConfig::default_config())
///     .state_dir(dir.path().join("emu"))
///     .start().await?;
/// assert!(emu.ca_file().starts_with(dir.path()));
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug)]
pub struct EmulatorBuilder {
    config: EmulatorConfig,
    clock: Option<SharedClock>,
    state_dir: Option<PathBuf>,
    log_capacity: usize,
}

impl EmulatorBuilder {
    /// How many requests the log retains (default [`LOG_CAPACITY`]; at
    /// least 1). The per-endpoint counts stay exact whatever the capacity; a small one keeps a
    /// long-running emulator's memory flat.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ficx::emulator::{Emulator, EmulatorConfig, Endpoint, defaults};
    /// let emu = Emulator::builder(EmulatorConfig::default_config()).log_capacity(1).start().await?;
    /// let x = emu.exchanger_builder().build()?;
    /// x.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert_eq!(emu.log().count(Endpoint::Imds) + emu.log().count(Endpoint::Token), 2);
    /// assert_eq!(emu.log().entries().len(), 1);
    /// # emu.shutdown().await; Ok(()) }
    /// ```
    pub fn log_capacity(mut self, entries: usize) -> Self {
        self.log_capacity = entries;
        self
    }

    /// The clock for token times, FIC visibility and the log (default [`SystemClock`]). Share a
    /// `ManualClock` with the code under test to expire tokens without waiting.
    ///
    /// ```
    /// use ficx::{Clock, ManagedIdentitySource, ManualClock};
    /// use ficx::emulator::{Emulator, EmulatorConfig, Endpoint, defaults};
    /// use secrecy::ExposeSecret;
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = std::sync::Arc::new(ManualClock::at_unix(1_900_000_000)); // token times follow it
    /// let emu = Emulator::builder(EmulatorConfig::default_config()).clock(clock.clone()).start().await?;
    /// # let source = ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).clock(clock.clone()).build()?;
    /// let token = source.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// let iat = ficx::jwt::decode_unverified(token.secret().expose_secret())?.time_claim("iat");
    /// assert_eq!(iat, Some(1_900_000_000));
    /// # let _ = clock.now();
    /// # Ok(()) }
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Where to write the CA bundle and the Arc key files. Default: a fresh temporary directory,
    /// removed by [`EmulatorHandle::shutdown`]; a given directory is created but never removed.
    ///
    /// ```
    /// use ficx::emulator::{Emulator, EmulatorConfig};
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let emu = Emulator::builder(EmulatorConfig::default_config()).state_dir(dir.path().to_path_buf()).start().await?;
    /// emu.shutdown().await;
    /// assert!(dir.path().exists()); // a given directory is never removed
    /// # Ok(()) }
    /// ```
    pub fn state_dir(mut self, dir: PathBuf) -> Self {
        self.state_dir = Some(dir);
        self
    }

    /// Validate the configuration, generate keys and certificates, bind the listeners and start
    /// serving on the current tokio runtime.
    ///
    /// ```
    /// use ficx::emulator::{Emulator, EmulatorConfig, EmulatorError};
    /// # #[tokio::main] async fn main() {
    /// let mut config = EmulatorConfig::default_config();
    /// config.listen.host = "0.0.0.0".into(); // loopback only
    /// let err = Emulator::builder(config).start().await.unwrap_err();
    /// assert!(matches!(err, EmulatorError::Config { .. }), "{err}");
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Config`] for an invalid configuration, [`EmulatorError::Bind`] when a
    /// port is taken, [`EmulatorError::Crypto`] for a bad `signing_key_pem`,
    /// [`EmulatorError::Io`] when the state directory cannot be written.
    pub async fn start(self) -> Result<EmulatorHandle, EmulatorError> {
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        state::start(self.config, clock, self.state_dir, self.log_capacity).await
    }
}

/// A running emulator. Cheap to clone; [`EmulatorHandle::shutdown`] stops it.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{Emulator, EmulatorConfig};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// // Clones share one running emulator.
/// let handle = emu.clone();
/// assert_eq!(handle.authority_url(), emu.authority_url());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EmulatorHandle {
    inner: Arc<state::Running>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("authority_url", &self.authority_url())
            .field("mi_url", &self.mi_url())
            .field("state_dir", &self.inner.state_dir)
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// The https authority, `https://127.0.0.1:PORT` (no trailing slash).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// let exchanger = ficx::Exchanger::builder().client_id(defaults::APP_CLIENT_ID)
    ///     .authority_host(emu.authority_url())
    /// #   .env(ficx::Env::from_vars(emu.env(Endpoint::Imds)))
    ///     .build()?;
    /// assert_eq!(exchanger.authority(), emu.authority_url());
    /// # Ok(()) }
    /// ```
    pub fn authority_url(&self) -> &str {
        &self.inner.state.urls.authority
    }

    /// The plain-http authority, when `listen.authority_http` is on.
    ///
    /// ```
    /// use ficx::emulator::{Emulator, EmulatorConfig};
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut config = EmulatorConfig::default_config();
    /// config.listen.authority_http = true; // for clients that cannot add a CA
    /// let emu = Emulator::start(config).await?;
    /// assert!(emu.authority_http_url().unwrap().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn authority_http_url(&self) -> Option<&str> {
        self.inner.state.urls.authority_http.as_deref()
    }

    /// The MI base URL, `http://127.0.0.1:PORT` (what `AZURE_POD_IDENTITY_AUTHORITY_HOST` takes).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// // What AZURE_POD_IDENTITY_AUTHORITY_HOST takes for IMDS.
    /// assert!(emu.env(Endpoint::Imds).contains(&("AZURE_POD_IDENTITY_AUTHORITY_HOST".into(), emu.mi_url().into())));
    /// # Ok(()) }
    /// ```
    pub fn mi_url(&self) -> &str {
        &self.inner.state.urls.mi
    }

    /// The Service Fabric base URL, `https://127.0.0.1:PORT`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert!(emu.service_fabric_url().starts_with("https://"));
    /// assert_ne!(emu.service_fabric_url(), emu.authority_url()); // its own listener and certificate
    /// # Ok(()) }
    /// ```
    pub fn service_fabric_url(&self) -> &str {
        &self.inner.state.urls.service_fabric
    }

    /// The full URL of an endpoint: for the MI endpoints what `IDENTITY_ENDPOINT`/`MSI_ENDPOINT`
    /// take; tenant-scoped authority endpoints use the first configured tenant (see
    /// [`EmulatorHandle::token_url`] for another one); [`Endpoint::Control`] is the control API
    /// base on the MI listener.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert_eq!(emu.endpoint_url(Endpoint::AppService), format!("{}/msi/token", emu.mi_url()));
    /// assert_eq!(emu.endpoint_url(Endpoint::Jwks), format!("{}/common/discovery/keys", emu.authority_url()));
    /// # Ok(()) }
    /// ```
    pub fn endpoint_url(&self, e: Endpoint) -> String {
        let mi = self.mi_url();
        let auth = self.authority_url();
        let first = self
            .inner
            .state
            .config
            .tenants
            .first()
            .map(|t| t.id.to_ascii_lowercase())
            .unwrap_or_else(|| "common".to_owned());
        match e {
            Endpoint::Imds => format!("{mi}{}", paths::IMDS),
            Endpoint::AppService => format!("{mi}{}", paths::APP_SERVICE),
            Endpoint::AzureArc => format!("{mi}{}", paths::AZURE_ARC),
            Endpoint::AzureMl => format!("{mi}{}", paths::AZURE_ML),
            Endpoint::CloudShell => format!("{mi}{}", paths::CLOUD_SHELL),
            Endpoint::ServiceFabric => {
                format!("{}{}", self.service_fabric_url(), paths::SERVICE_FABRIC)
            }
            Endpoint::Token => self.token_url(&first),
            Endpoint::OpenIdConfiguration => {
                format!("{auth}/{first}/v2.0/.well-known/openid-configuration")
            }
            Endpoint::Jwks => format!("{auth}/common/discovery/keys"),
            Endpoint::InstanceDiscovery => format!("{auth}/common/discovery/instance"),
            Endpoint::Control => format!("{mi}{}", paths::CONTROL),
        }
    }

    /// The token endpoint of `tenant` (id or domain) on the https authority.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert_eq!(
    ///     emu.token_url(defaults::CONTOSO_TENANT_DOMAIN),
    ///     format!("{}/contoso.onmicrosoft.com/oauth2/v2.0/token", emu.authority_url())
    /// );
    /// # Ok(()) }
    /// ```
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.authority_url())
    }

    /// The issuer the emulator writes into tokens of `tenant_id`: `{issuer_host}/{tenant}/v2.0`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// // The issuer host is production's, so FIC issuers look real.
    /// assert_eq!(emu.issuer_for(defaults::HOME_TENANT_ID), defaults::APP_FIC_ISSUER);
    /// # Ok(()) }
    /// ```
    pub fn issuer_for(&self, tenant_id: &str) -> String {
        format!(
            "{}/{}/v2.0",
            self.inner.state.issuer_host,
            tenant_id.to_ascii_lowercase()
        )
    }

    /// SHA-1 of the Service Fabric certificate (DER), 40 upper-case hex digits.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// let thumbprint = emu.service_fabric_thumbprint();
    /// assert!(thumbprint.len() == 40 && thumbprint.chars().all(|c| c.is_ascii_hexdigit()));
    /// assert!(emu.env(Endpoint::ServiceFabric).contains(&("IDENTITY_SERVER_THUMBPRINT".into(), thumbprint.into())));
    /// # Ok(()) }
    /// ```
    pub fn service_fabric_thumbprint(&self) -> &str {
        &self.inner.tls.sf_thumbprint
    }

    /// The emulator CA certificate (PEM) that signs the authority's certificate.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::{HttpOptions, TrustRoots};
    /// assert!(emu.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// let http = HttpOptions::default().trust_roots(TrustRoots::ExtraOnly).ca_pem(emu.ca_pem());
    /// # let _ = http;
    /// # Ok(()) }
    /// ```
    pub fn ca_pem(&self) -> &str {
        &self.inner.tls.ca_pem
    }

    /// HTTP options that trust exactly this emulator's CA (no system roots), to adjust further
    /// (timeouts, …) before passing to [`crate::ExchangerBuilder::http`].
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ficx::emulator::{Emulator, EmulatorConfig};
    /// let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// let http = emu.http_options().timeout(std::time::Duration::from_secs(2));
    /// let x = emu.exchanger_builder().http(http).build()?;
    /// # let _ = x; emu.shutdown().await; Ok(()) }
    /// ```
    pub fn http_options(&self) -> crate::HttpOptions {
        crate::HttpOptions::default()
            .trust_roots(crate::TrustRoots::ExtraOnly)
            .ca_pem(self.ca_pem())
    }

    /// An exchanger builder for this emulator's defaults: the multi-tenant app
    /// ([`defaults::APP_CLIENT_ID`]), the trusted user-assigned identity over IMDS, this
    /// authority, and [`Self::http_options`]. Add a clock, store, retry policy … and build.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ficx::emulator::{Emulator, EmulatorConfig, defaults};
    /// let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// let x = emu.exchanger_builder().build()?;
    /// let token = x.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert!(!token.is_empty());
    /// emu.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn exchanger_builder(&self) -> crate::ExchangerBuilder {
        let mi = crate::ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)
            .expect("the default identity's client id is a GUID");
        crate::Exchanger::builder()
            .client_id(defaults::APP_CLIENT_ID)
            .managed_identity(mi)
            .authority_host(self.authority_url())
            .env(crate::Env::from_vars(self.env(Endpoint::Imds)))
            .http(self.http_options())
    }

    /// The CA bundle written to the state directory (for `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert_eq!(std::fs::read_to_string(emu.ca_file())?, emu.ca_pem());
    /// // Also exported for other clients (Python requests, curl):
    /// assert!(emu.env(Endpoint::Imds).iter().any(|(k, _)| k == "SSL_CERT_FILE"));
    /// # Ok(()) }
    /// ```
    pub fn ca_file(&self) -> &Path {
        &self.inner.ca_file
    }

    /// The Service Fabric certificate (PEM), self-signed.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert!(emu.service_fabric_cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// assert_ne!(emu.service_fabric_cert_pem(), emu.ca_pem()); // self-signed, pinned by thumbprint
    /// # Ok(()) }
    /// ```
    pub fn service_fabric_cert_pem(&self) -> &str {
        &self.inner.tls.sf_cert_pem
    }

    /// Where Arc challenge key files are written.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert!(emu.arc_key_dir().starts_with(emu.state_dir())); // <state_dir>/arc-tokens by default
    /// # Ok(()) }
    /// ```
    pub fn arc_key_dir(&self) -> &Path {
        &self.inner.state.arc.key_dir
    }

    /// The state directory (CA bundle, Arc key files).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert!(emu.state_dir().is_dir());
    /// assert!(emu.ca_file().starts_with(emu.state_dir()));
    /// # Ok(()) }
    /// ```
    pub fn state_dir(&self) -> &Path {
        &self.inner.state_dir
    }

    /// The `IDENTITY_HEADER` of this run (App Service, Service Fabric).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// let env = emu.env(Endpoint::AppService);
    /// assert!(env.contains(&("IDENTITY_HEADER".into(), emu.identity_header().into())));
    /// # Ok(()) }
    /// ```
    pub fn identity_header(&self) -> &str {
        &self.inner.state.secrets.identity_header
    }

    /// The `MSI_SECRET` of this run (Azure ML).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// let env = emu.env(Endpoint::AzureMl);
    /// assert!(env.contains(&("MSI_SECRET".into(), emu.msi_secret().into())));
    /// # Ok(()) }
    /// ```
    pub fn msi_secret(&self) -> &str {
        &self.inner.state.secrets.msi_secret
    }

    /// Environment variables that make a client find `source`, plus `AZURE_AUTHORITY_HOST`,
    /// `SSL_CERT_FILE` and `REQUESTS_CA_BUNDLE`. Authority endpoints get only the common ones.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::{Env, ManagedIdentitySource, SourceKind};
    /// let env = Env::from_vars(emu.env(Endpoint::AzureMl));
    /// assert_eq!(env.var("MSI_ENDPOINT"), Some(emu.endpoint_url(Endpoint::AzureMl)));
    /// assert_eq!(ManagedIdentitySource::builder().env(env).build()?.detection().kind, SourceKind::AzureMl);
    /// # Ok(()) }
    /// ```
    pub fn env(&self, source: Endpoint) -> Vec<(String, String)> {
        let st = &self.inner.state;
        let mut v: Vec<(&str, String)> = Vec::new();
        match source {
            Endpoint::Imds => v.push((
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                self.mi_url().to_owned(),
            )),
            Endpoint::AppService => {
                v.push(("IDENTITY_ENDPOINT", self.endpoint_url(Endpoint::AppService)));
                v.push(("IDENTITY_HEADER", st.secrets.identity_header.clone()));
            }
            Endpoint::AzureArc => {
                v.push(("IDENTITY_ENDPOINT", self.endpoint_url(Endpoint::AzureArc)));
                v.push((
                    "IMDS_ENDPOINT",
                    format!("{}{}", self.mi_url(), paths::AZURE_ARC_BASE),
                ));
            }
            Endpoint::AzureMl => {
                v.push(("MSI_ENDPOINT", self.endpoint_url(Endpoint::AzureMl)));
                v.push(("MSI_SECRET", st.secrets.msi_secret.clone()));
                if let Some(ml) = st.ml_default_client_id.as_ref() {
                    v.push(("DEFAULT_IDENTITY_CLIENT_ID", ml.clone()));
                }
            }
            Endpoint::CloudShell => {
                v.push(("MSI_ENDPOINT", self.endpoint_url(Endpoint::CloudShell)));
                v.push(("AZUREPS_HOST_ENVIRONMENT", "cloud-shell/1.0".to_owned()));
            }
            Endpoint::ServiceFabric => {
                v.push((
                    "IDENTITY_ENDPOINT",
                    self.endpoint_url(Endpoint::ServiceFabric),
                ));
                v.push(("IDENTITY_HEADER", st.secrets.identity_header.clone()));
                v.push((
                    "IDENTITY_SERVER_THUMBPRINT",
                    self.service_fabric_thumbprint().to_owned(),
                ));
                v.push((
                    "IDENTITY_API_VERSION",
                    SERVICE_FABRIC_API_VERSION.to_owned(),
                ));
            }
            _ => {}
        }
        let ca = self.ca_file().display().to_string();
        v.push(("AZURE_AUTHORITY_HOST", self.authority_url().to_owned()));
        v.push(("SSL_CERT_FILE", ca.clone()));
        v.push(("REQUESTS_CA_BUNDLE", ca));
        v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// The request log.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// imds.token(defaults::EXCHANGE_AUDIENCE).await?; // one MI request
    /// assert_eq!(emu.log().count(Endpoint::Imds), 1);
    /// # Ok(()) }
    /// ```
    pub fn log(&self) -> &RequestLog {
        &self.inner.state.log
    }

    /// Fault injection and expiry-format overrides.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// emu.faults().inject(Endpoint::Imds, Fault::Status { status: 500, retry_after: None, body: None }, Times::Next(2));
    /// assert_eq!(emu.faults().pending(Endpoint::Imds), 1); // one rule, for the next 2 requests
    /// # Ok(()) }
    /// ```
    pub fn faults(&self) -> &Faults {
        &self.inner.state.faults
    }

    /// The live directory (add or remove FICs, service principals, role assignments).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// let fics = emu.directory().fics(defaults::APP_NAME)?;
    /// assert_eq!(fics[0].subject, defaults::UAMI_TRUSTED_OBJECT_ID);
    /// # Ok(()) }
    /// ```
    pub fn directory(&self) -> &DirectoryHandle {
        &self.inner.state.directory
    }

    /// The configuration it was started with.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert_eq!(emu.config(), &EmulatorConfig::default_config());
    /// # Ok(()) }
    /// ```
    pub fn config(&self) -> &EmulatorConfig {
        &self.inner.state.config
    }

    /// Stop every listener and wait for the accept loops to end; connections in flight are
    /// dropped. Removes the state directory when the emulator created it.
    ///
    /// ```
    /// use ficx::emulator::{Emulator, EmulatorConfig};
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// let state = emu.state_dir().to_path_buf();
    /// emu.shutdown().await;
    /// assert!(!state.exists()); // its temporary directory is gone
    /// # Ok(()) }
    /// ```
    pub async fn shutdown(self) {
        self.inner.shutdown().await;
    }
}
