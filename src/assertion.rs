//! Where the `client_assertion` comes from: the [`AssertionSource`] trait and its three
//! implementations: [`ManagedIdentitySource`] (all six MI endpoint kinds, cached and
//! single-flight), [`TokenFileSource`] (a workload-identity token file, re-read when it changes)
//! and [`AssertionFn`] (a caller-supplied closure).
//!
//! Sources are cancel-safe: dropping a pending call never leaves a half-done fetch behind that
//! others would wait on (MI fetches run as their own tasks, see [`crate::cache`]).

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use secrecy::{ExposeSecret, SecretString};

use crate::cache::{CachePolicy, TokenCache};
use crate::clock::{SharedClock, SystemClock};
use crate::env::Env;
use crate::error::{Error, SourceKind};
use crate::http::{Http, HttpOptions};
use crate::ids::ManagedIdentity;
use crate::mi::client::MiClient;
use crate::mi::{self, Detection};
use crate::retry::{RetryObserver, RetryPolicy};
use crate::token::AccessToken;

/// A boxed, sendable future (the return type of object-safe async trait methods here).
///
/// ```
/// use ficx::assertion::BoxFuture;
/// fn answer<'a>(x: &'a str) -> BoxFuture<'a, usize> {
///     Box::pin(async move { x.len() })
/// }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(answer("api://AzureADTokenExchange").await, 26);
/// # });
/// ```
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an assertion is requested for.
///
/// ```
/// use ficx::{AssertionFn, AssertionRequest, AssertionSource};
/// use secrecy::SecretString;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let source = AssertionFn::new("static", || async { Ok::<_, std::io::Error>(SecretString::from("opaque".to_string())) });
/// let request = AssertionRequest::new("api://AzureADTokenExchange", false);
/// assert_eq!(request.audience, "api://AzureADTokenExchange");
/// assert!(source.assertion(&request).await.is_ok());
/// # });
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AssertionRequest {
    /// The token-exchange audience (`api://AzureADTokenExchange` or the cloud's variant).
    pub audience: String,
    /// Bypass any cache: the last assertion was rejected as expired or unverifiable.
    pub fresh: bool,
}

impl AssertionRequest {
    /// A request for `audience`.
    ///
    /// ```
    /// use ficx::AssertionRequest;
    /// // `fresh`: the last assertion was rejected (AADSTS700024), skip every cache.
    /// let retry = AssertionRequest::new("api://AzureADTokenExchange", true);
    /// assert!(retry.fresh);
    /// ```
    pub fn new(audience: impl Into<String>, fresh: bool) -> Self {
        Self {
            audience: audience.into(),
            fresh,
        }
    }
}

/// A source of `client_assertion` JWTs.
///
/// Implementations must be cancel-safe and cheap to call repeatedly: the exchanger asks for an
/// assertion on every exchange (cache misses and refreshes only, never on a cache hit).
///
/// ```
/// use ficx::{AccessToken, AssertionRequest, AssertionSource, Error, assertion::BoxFuture};
/// use std::time::{Duration, SystemTime};
/// #[derive(Debug)]
/// struct FromVault; // e.g. a federated token kept by another system
/// impl AssertionSource for FromVault {
///     fn assertion<'a>(&'a self, req: &'a AssertionRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
///         Box::pin(async move {
///             let jwt = format!("token-for-{}", req.audience); // fetch it here
///             Ok(AccessToken::new(jwt.into(), SystemTime::now() + Duration::from_secs(600), None, "Bearer"))
///         })
///     }
///     fn describe(&self) -> String { "vault".into() }
/// }
/// let exchanger = ficx::Exchanger::builder()
///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .assertion_source(FromVault)
///     .build()?;
/// assert_eq!(exchanger.source().describe(), "vault");
/// # Ok::<(), ficx::Error>(())
/// ```
pub trait AssertionSource: Send + Sync + fmt::Debug + 'static {
    /// An assertion for `request.audience`, with its expiry.
    ///
    /// ```
    /// use ficx::{AssertionFn, AssertionRequest, AssertionSource};
    /// use secrecy::{ExposeSecret, SecretString};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let source = AssertionFn::new("fixed", || async { Ok::<_, std::io::Error>(SecretString::from("opaque".to_string())) });
    /// let token = source.assertion(&AssertionRequest::new("api://AzureADTokenExchange", false)).await?;
    /// assert_eq!(token.secret().expose_secret().len(), 6);
    /// # Ok::<(), ficx::Error>(())
    /// # }).unwrap();
    /// ```
    fn assertion<'a>(
        &'a self,
        request: &'a AssertionRequest,
    ) -> BoxFuture<'a, Result<AccessToken, Error>>;

    /// A short description for logs and errors (no secrets), e.g. `IMDS, user-assigned client id …`.
    ///
    /// ```
    /// use ficx::{AssertionSource, TokenFileSource};
    /// let source = TokenFileSource::new("/var/run/secrets/azure/tokens/azure-identity-token");
    /// assert_eq!(source.describe(), "token file /var/run/secrets/azure/tokens/azure-identity-token");
    /// ```
    fn describe(&self) -> String;
}

// ---------------------------------------------------------------------------------------------

/// Managed identity as the assertion source: detects the MI endpoint, fetches the token for the
/// exchange audience once per audience, shares it, and refreshes it ahead of expiry.
///
/// ```no_run
/// use ficx::{ManagedIdentity, ManagedIdentitySource};
/// # async fn run() -> Result<(), ficx::Error> {
/// let mi = ManagedIdentitySource::builder()
///     .identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
///     .build()?;
/// println!("using {} at {}", mi.detection().kind, mi.detection().endpoint);
/// let token = mi.token("api://AzureADTokenExchange").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ManagedIdentitySource {
    inner: Arc<MiInner>,
}

struct MiInner {
    client: Arc<MiClient>,
    cache: TokenCache<String>,
    detection: Detection,
}

impl fmt::Debug for ManagedIdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentitySource")
            .field("source", &self.inner.detection.kind)
            .field("endpoint", &self.inner.detection.endpoint)
            .field("identity", &self.inner.client.identity)
            .finish()
    }
}

impl ManagedIdentitySource {
    /// Start building.
    ///
    /// ```
    /// use ficx::{Env, ManagedIdentity, ManagedIdentitySource, SourceKind};
    /// let source = ManagedIdentitySource::builder()
    ///     .identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
    ///     .env(Env::from_vars([("IDENTITY_ENDPOINT", "http://127.0.0.1:8081/msi/token"), ("IDENTITY_HEADER", "h")]))
    ///     .build()?; // detection only, no request yet
    /// assert_eq!(source.detection().kind, SourceKind::AppService);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn builder() -> ManagedIdentitySourceBuilder {
        ManagedIdentitySourceBuilder::default()
    }

    /// Which endpoint was detected and why.
    ///
    /// ```
    /// use ficx::{Env, ManagedIdentitySource, SourceKind};
    /// let env = Env::from_vars([("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:2579")]);
    /// let source = ManagedIdentitySource::builder().env(env).build()?;
    /// assert_eq!(source.detection().kind, SourceKind::Imds);
    /// assert_eq!(source.detection().decided_by, ["AZURE_POD_IDENTITY_AUTHORITY_HOST"]);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn detection(&self) -> &Detection {
        &self.inner.detection
    }

    /// The identity asked for.
    ///
    /// ```
    /// use ficx::{Env, ManagedIdentity, ManagedIdentitySource};
    /// let uami = ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?;
    /// let source = ManagedIdentitySource::builder().identity(uami.clone())
    ///     .env(Env::from_vars([("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:2579")])).build()?;
    /// assert_eq!(source.identity(), &uami);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn identity(&self) -> &ManagedIdentity {
        &self.inner.client.identity
    }

    /// An MI token for `resource` (a scope's trailing `/.default` is stripped), cached.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, ManagedIdentity};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::ManagedIdentitySource;
    /// let source = ManagedIdentitySource::builder()
    ///     .identity(ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)?)
    ///     .env(Env::from_vars(emu.env(Endpoint::AppService)))
    ///     .build()?;
    /// let token = source.token("api://AzureADTokenExchange/.default").await?; // `/.default` is stripped
    /// let claims = ficx::jwt::decode_unverified(secrecy::ExposeSecret::expose_secret(token.secret()))?;
    /// assert_eq!(claims.str_claim("sub"), Some(defaults::UAMI_TRUSTED_OBJECT_ID)); // the FIC subject
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    ///
    /// # Errors
    /// [`Error::ManagedIdentity`] for endpoint errors, [`Error::NoManagedIdentity`] when IMDS
    /// is unreachable, transport errors after retries.
    pub async fn token(&self, resource: &str) -> Result<AccessToken, Error> {
        let resource = mi::resource_of(resource);
        let client = self.inner.client.clone();
        let owned = resource.to_owned();
        self.inner
            .cache
            .get(
                resource,
                || resource.to_owned(),
                move || async move { client.fetch(&owned).await }.boxed(),
            )
            .await
    }

    /// Number of MI fetches that failed so far (after retries).
    ///
    /// ```
    /// # fn check(source: &ficx::assertion::ManagedIdentitySource) {
    /// assert!(source.failed_fetch_count() <= source.fetch_count());
    /// # }
    /// ```
    pub fn failed_fetch_count(&self) -> u64 {
        self.inner
            .cache
            .stats
            .failed_fetches
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Number of MI fetches started so far (cache misses and refreshes).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, ManagedIdentity};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::ManagedIdentitySource;
    /// let source = ManagedIdentitySource::builder()
    ///     .identity(ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)?)
    ///     .env(Env::from_vars(emu.env(Endpoint::Imds)))
    ///     .build()?;
    /// source.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// source.token(defaults::EXCHANGE_AUDIENCE).await?; // cached
    /// assert_eq!(source.fetch_count(), 1);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn fetch_count(&self) -> u64 {
        self.inner
            .cache
            .stats
            .fetches
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl AssertionSource for ManagedIdentitySource {
    fn assertion<'a>(
        &'a self,
        request: &'a AssertionRequest,
    ) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            if request.fresh {
                let resource = mi::resource_of(&request.audience);
                if let Some(current) = self.inner.cache.peek(resource) {
                    self.inner
                        .cache
                        .invalidate_if(resource, current.expires_on());
                }
            }
            self.token(&request.audience).await
        })
    }

    fn describe(&self) -> String {
        format!(
            "managed identity ({}, {})",
            self.inner.detection.kind, self.inner.client.identity
        )
    }
}

/// Builds a [`ManagedIdentitySource`].
///
/// ```
/// use ficx::{Env, ManagedIdentity, ManagedIdentitySource, RetryPolicy};
/// let source = ManagedIdentitySource::builder()
///     .identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
///     .retry(RetryPolicy::default().max_retries(2))
/// #   .env(Env::from_vars([("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:2579")]))
///     .build()?;
/// assert_eq!(source.identity().kind(), "client_id");
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct ManagedIdentitySourceBuilder {
    identity: ManagedIdentity,
    env: Option<Env>,
    clock: Option<SharedClock>,
    http: Option<HttpOptions>,
    built_http: Option<Http>,
    retry: Option<RetryPolicy>,
    arc_key_dir: Option<PathBuf>,
    observer: Option<ObserverDebug>,
}

#[derive(Clone)]
struct ObserverDebug(RetryObserver);

impl fmt::Debug for ObserverDebug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RetryObserver")
    }
}

impl ManagedIdentitySourceBuilder {
    /// Which identity (default system-assigned).
    ///
    /// ```
    /// use ficx::{Env, ManagedIdentity, ManagedIdentitySource};
    /// let env = Env::from_vars([("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:2579")]);
    /// let by_object_id = ManagedIdentity::object_id("b1b1b1b1-0000-4000-8000-000000000001")?;
    /// let source = ManagedIdentitySource::builder().identity(by_object_id).env(env).build()?;
    /// assert_eq!(source.identity().kind(), "object_id");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn identity(mut self, identity: ManagedIdentity) -> Self {
        self.identity = identity;
        self
    }

    /// The environment to detect from (default: the process environment).
    ///
    /// ```
    /// use ficx::{Env, ManagedIdentitySource, SourceKind};
    /// // Detect from a given environment instead of the process's (tests, sidecars).
    /// let env = Env::from_vars([("IDENTITY_ENDPOINT", "http://127.0.0.1:42356/msi/token"), ("IDENTITY_HEADER", "h")]);
    /// let source = ManagedIdentitySource::builder().env(env).build()?;
    /// assert_eq!(source.detection().kind, SourceKind::AppService);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// The clock (default [`SystemClock`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, ManagedIdentity};
    /// use ficx::{ManagedIdentitySource, ManualClock};
    /// # use std::sync::Arc;
    /// let clock = Arc::new(ManualClock::starting_now());
    /// // The emulator issues tokens on the same clock.
    /// let emu = Emulator::builder(EmulatorConfig::default_config()).clock(clock.clone()).start().await?;
    /// let source = ManagedIdentitySource::builder()
    ///     .identity(ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)?)
    ///     .env(Env::from_vars(emu.env(Endpoint::Imds))).clock(clock.clone()).build()?;
    /// source.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// clock.advance(std::time::Duration::from_secs(86_400)); // a day later the token has expired
    /// source.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// assert_eq!(source.fetch_count(), 2);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// HTTP settings.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, HttpOptions};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// use ficx::{ManagedIdentitySource, RetryPolicy};
    /// emu.faults().inject(Endpoint::AppService, Fault::Hang, Times::Always);
    /// let source = ManagedIdentitySource::builder()
    ///     .env(Env::from_vars(emu.env(Endpoint::AppService)))
    ///     .http(HttpOptions::default().timeout(std::time::Duration::from_millis(300)))
    ///     .retry(RetryPolicy::none()).build()?;
    /// let err = source.token(defaults::EXCHANGE_AUDIENCE).await.unwrap_err();
    /// assert!(matches!(err, ficx::Error::Timeout { .. }), "{err}");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.http = Some(http);
        self
    }

    pub(crate) fn built_http(mut self, http: Http) -> Self {
        self.built_http = Some(http);
        self
    }

    /// Retry policy for the MI endpoint (default [`RetryPolicy::default`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, ManagedIdentity};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// # use ficx::emulator::{Fault, Times};
    /// use ficx::{ManagedIdentitySource, ManualClock, RetryPolicy};
    /// emu.faults().inject(Endpoint::Imds, Fault::Status { status: 429, retry_after: None, body: None }, Times::Next(2));
    /// let source = ManagedIdentitySource::builder()
    ///     .identity(ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)?)
    ///     .env(Env::from_vars(emu.env(Endpoint::Imds)))
    ///     .clock(std::sync::Arc::new(ManualClock::starting_now())) // back-off in virtual time
    ///     .retry(RetryPolicy::default().max_retries(2)).build()?;
    /// source.token(defaults::EXCHANGE_AUDIENCE).await?; // third attempt succeeds
    /// assert_eq!(emu.log().count(Endpoint::Imds), 3);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The directory Azure Arc key files must live in (default the agent's platform directory,
    /// or `FICX_ARC_KEY_DIR`); for emulators and tests.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::Env;
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::ManagedIdentitySource;
    /// // Azure Arc answers 401 with the path of a key file; only files in this directory are read.
    /// let source = ManagedIdentitySource::builder()
    ///     .env(Env::from_vars(emu.env(Endpoint::AzureArc)))
    ///     .arc_key_dir(emu.arc_key_dir())
    ///     .build()?;
    /// assert_eq!(source.detection().kind, ficx::SourceKind::AzureArc);
    /// assert!(source.token(defaults::EXCHANGE_AUDIENCE).await.is_ok());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn arc_key_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.arc_key_dir = Some(dir.into());
        self
    }

    /// Be told about each retry wait.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::Env;
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// # use ficx::emulator::{Fault, Times};
    /// use ficx::{ManagedIdentitySource, ManualClock};
    /// # use std::sync::{Arc, Mutex};
    /// emu.faults().inject(Endpoint::Imds, Fault::Status { status: 500, retry_after: None, body: None }, Times::Next(1));
    /// let attempts = Arc::new(Mutex::new(Vec::new()));
    /// let seen = attempts.clone();
    /// let source = ManagedIdentitySource::builder()
    ///     .env(Env::from_vars(emu.env(Endpoint::Imds))).clock(Arc::new(ManualClock::starting_now()))
    ///     .on_retry(Arc::new(move |e: &ficx::RetryEvent| seen.lock().unwrap().push(e.attempt)))
    ///     .build()?;
    /// source.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// assert_eq!(*attempts.lock().unwrap(), [1]);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn on_retry(mut self, observer: RetryObserver) -> Self {
        self.observer = Some(ObserverDebug(observer));
        self
    }

    /// Detect the endpoint and check the identity can be served there. No network call.
    ///
    /// ```
    /// use ficx::{Env, Error, ManagedIdentity, ManagedIdentitySource};
    /// // Cloud Shell's token is a user's: refused before any request.
    /// let cloud_shell = Env::from_vars([("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")]);
    /// let err = ManagedIdentitySource::builder().env(cloud_shell).build().unwrap_err();
    /// assert!(matches!(err, Error::Unsupported(_)));
    /// // A malformed endpoint variable names itself.
    /// let bad = Env::from_vars([("IDENTITY_ENDPOINT", "not a url"), ("IDENTITY_HEADER", "h")]);
    /// assert!(ManagedIdentitySource::builder().env(bad).build().unwrap_err().to_string().contains("IDENTITY_ENDPOINT"));
    /// # let _ = ManagedIdentity::SystemAssigned;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for malformed environment variables or CA files;
    /// [`Error::Unsupported`] for a selector the source cannot honour (user-assigned on Service
    /// Fabric, anything but client id on Azure ML) and for Cloud Shell.
    pub fn build(self) -> Result<ManagedIdentitySource, Error> {
        let env = self.env.unwrap_or_else(Env::process);
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let detection = mi::detect(&env)?;
        mi::check_identity(&detection.resolved, &self.identity)?;
        let http = match self.built_http {
            Some(h) => h,
            None => Http::new(&self.http.unwrap_or_default(), &env)?,
        };
        let pinned = match detection.resolved.thumbprint {
            Some(tp) => Some(http.pinned(tp)?),
            None => None,
        };
        let default_imds = detection.kind == SourceKind::Imds && detection.decided_by.is_empty();
        let client = MiClient {
            endpoint: detection.resolved.clone(),
            identity: self.identity,
            http,
            pinned,
            arc_key_dir: self.arc_key_dir.unwrap_or_else(|| mi::arc_key_dir(&env)),
            clock: clock.clone(),
            retry: self.retry.unwrap_or_default(),
            observer: self.observer.map(|o| o.0),
            default_imds,
        };
        tracing::debug!(source = %detection.kind, endpoint = %detection.endpoint, decided_by = ?detection.decided_by, "managed identity source chosen");
        Ok(ManagedIdentitySource {
            inner: Arc::new(MiInner {
                client: Arc::new(client),
                cache: TokenCache::new(clock, CachePolicy::default()),
                detection,
            }),
        })
    }
}

// ---------------------------------------------------------------------------------------------

/// Largest token file read.
///
/// ```
/// use ficx::{AssertionRequest, AssertionSource, TokenFileSource, assertion::MAX_TOKEN_FILE_BYTES};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let file = tempfile::NamedTempFile::new()?;
/// std::fs::write(file.path(), "x".repeat(MAX_TOKEN_FILE_BYTES as usize + 1))?;
/// let source = TokenFileSource::new(file.path());
/// let err = source.assertion(&AssertionRequest::new("api://AzureADTokenExchange", false)).await.unwrap_err();
/// assert!(err.to_string().contains("limit"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// A projected token file (AKS workload identity: `AZURE_FEDERATED_TOKEN_FILE`) whose content is
/// the assertion. Re-read whenever its modification time or size changes; otherwise the last
/// content is reused.
///
/// ```no_run
/// use ficx::{Env, Exchanger, TokenFileSource};
/// # fn build() -> Result<Exchanger, ficx::Error> {
/// let exchanger = Exchanger::builder()
///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .assertion_source(TokenFileSource::from_env(&Env::process())?)
///     .build()?;
/// # Ok(exchanger) }
/// ```
#[derive(Debug)]
pub struct TokenFileSource {
    path: PathBuf,
    clock: SharedClock,
    last: Mutex<Option<(SystemTime, u64, AccessToken)>>,
}

impl TokenFileSource {
    /// A source reading `path`.
    ///
    /// ```
    /// use ficx::{AssertionRequest, AssertionSource, TokenFileSource};
    /// # use base64::Engine as _;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let jwt = format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"exp":4000000000}"#));
    /// let file = tempfile::NamedTempFile::new()?;
    /// std::fs::write(file.path(), &jwt)?; // what the kubelet projects for AKS workload identity
    /// let source = TokenFileSource::new(file.path());
    /// let token = source.assertion(&AssertionRequest::new("api://AzureADTokenExchange", false)).await?;
    /// assert_eq!(token.expires_on_unix(), 4_000_000_000); // the JWT's `exp`
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            clock: Arc::new(SystemClock),
            last: Mutex::new(None),
        }
    }

    /// The file named by `AZURE_FEDERATED_TOKEN_FILE`.
    ///
    /// ```
    /// use ficx::{Env, TokenFileSource};
    /// let env = Env::from_vars([("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token")]);
    /// let source = TokenFileSource::from_env(&env)?;
    /// assert_eq!(source.path(), std::path::Path::new("/var/run/secrets/azure/tokens/azure-identity-token"));
    /// assert!(TokenFileSource::from_env(&Env::from_vars::<&str, &str>([])).is_err());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the variable is unset.
    pub fn from_env(env: &Env) -> Result<Self, Error> {
        env.var("AZURE_FEDERATED_TOKEN_FILE")
            .map(Self::new)
            .ok_or(Error::InvalidInput {
                field: "AZURE_FEDERATED_TOKEN_FILE",
                problem: "is not set; expected the path of a projected service-account token"
                    .into(),
            })
    }

    /// Use this clock for expiry checks.
    ///
    /// ```
    /// use ficx::{AssertionRequest, AssertionSource, ManualClock, TokenFileSource};
    /// # use base64::Engine as _;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let jwt = format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"exp":1700000000}"#));
    /// let file = tempfile::NamedTempFile::new()?;
    /// std::fs::write(file.path(), &jwt)?; // `exp` = 1_700_000_000
    /// let late = std::sync::Arc::new(ManualClock::at_unix(1_700_000_001));
    /// let source = TokenFileSource::new(file.path()).with_clock(late);
    /// let err = source.assertion(&AssertionRequest::new("api://AzureADTokenExchange", false)).await.unwrap_err();
    /// assert!(err.to_string().contains("expired"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The file read.
    ///
    /// ```
    /// let source = ficx::TokenFileSource::new("/var/run/secrets/azure/tokens/azure-identity-token");
    /// assert!(source.path().ends_with("azure-identity-token"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn read(&self) -> Result<AccessToken, Error> {
        let fail = |message: String| Error::Assertion {
            source_name: self.describe(),
            message,
        };
        let meta = tokio::fs::metadata(&self.path)
            .await
            .map_err(|e| fail(format!("cannot stat the file: {}", e.kind())))?;
        if meta.len() > MAX_TOKEN_FILE_BYTES {
            return Err(fail(format!(
                "the file is {} bytes, over the {MAX_TOKEN_FILE_BYTES}-byte limit",
                meta.len()
            )));
        }
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if let Some((m, len, token)) = &*self.last.lock().unwrap_or_else(|p| p.into_inner())
            && *m == mtime
            && *len == meta.len()
        {
            return Ok(token.clone());
        }
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|e| fail(format!("cannot read the file: {}", e.kind())))?;
        let secret = SecretString::from(text.trim().to_owned());
        let token =
            with_jwt_expiry(secret, self.clock.now()).map_err(|why| fail(why.to_owned()))?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((mtime, meta.len(), token.clone()));
        Ok(token)
    }
}

impl AssertionSource for TokenFileSource {
    fn assertion<'a>(
        &'a self,
        _request: &'a AssertionRequest,
    ) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(self.read())
    }

    fn describe(&self) -> String {
        format!("token file {}", self.path.display())
    }
}

/// Lifetime assumed for a closure's assertion that is not a JWT with `exp`.
///
/// ```
/// use ficx::{AssertionFn, AssertionRequest, AssertionSource, Clock, ManualClock};
/// use ficx::assertion::UNKNOWN_ASSERTION_LIFETIME_SECS;
/// use secrecy::SecretString;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let clock = std::sync::Arc::new(ManualClock::at_unix(1_700_000_000));
/// let opaque = AssertionFn::new("opaque", || async { Ok::<_, std::io::Error>(SecretString::from("not-a-jwt".to_string())) })
///     .with_clock(clock.clone());
/// let token = opaque.assertion(&AssertionRequest::new("api://AzureADTokenExchange", false)).await?;
/// assert_eq!(token.remaining(clock.now()).as_secs(), UNKNOWN_ASSERTION_LIFETIME_SECS);
/// # Ok::<(), ficx::Error>(())
/// # }).unwrap();
/// ```
pub const UNKNOWN_ASSERTION_LIFETIME_SECS: u64 = 600;

fn with_jwt_expiry(secret: SecretString, now: SystemTime) -> Result<AccessToken, &'static str> {
    let view = crate::jwt::decode_unverified(secret.expose_secret())
        .map_err(|_| "the content is not a JWT")?;
    let exp = view.expires_on().ok_or("the JWT has no `exp` claim")?;
    if exp <= now {
        return Err("the JWT has expired");
    }
    Ok(AccessToken::new(secret, exp, None, "Bearer"))
}

type AssertionFuture = BoxFuture<'static, Result<SecretString, String>>;

/// A caller-supplied closure as the assertion source (called on every exchange; cache inside the
/// closure if it is expensive).
///
/// ```
/// use ficx::{AssertionFn, AssertionSource};
/// use secrecy::SecretString;
/// let source = AssertionFn::new("vault", || async {
///     Ok::<_, std::io::Error>(SecretString::from("eyJ...".to_string()))
/// });
/// assert_eq!(source.describe(), "assertion function vault");
/// ```
pub struct AssertionFn {
    name: String,
    f: Box<dyn Fn() -> AssertionFuture + Send + Sync>,
    clock: SharedClock,
}

impl fmt::Debug for AssertionFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssertionFn")
            .field("name", &self.name)
            .finish()
    }
}

impl AssertionFn {
    /// Wrap `f`; `name` appears in logs and errors. An assertion that is a JWT gets its `exp`;
    /// anything else is assumed to live [`UNKNOWN_ASSERTION_LIFETIME_SECS`].
    ///
    /// ```
    /// use ficx::{AssertionFn, Exchanger};
    /// use secrecy::SecretString;
    /// // e.g. an assertion minted by a workload-identity agent the process talks to
    /// let source = AssertionFn::new("agent", || async {
    ///     let jwt = String::from("eyJ..."); // fetch it here
    ///     Ok::<_, std::io::Error>(SecretString::from(jwt))
    /// });
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").assertion_source(source).build()?;
    /// assert_eq!(exchanger.source().describe(), "assertion function agent");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn new<F, Fut, E>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<SecretString, E>> + Send + 'static,
        E: fmt::Display,
    {
        Self {
            name: name.into(),
            f: Box::new(move || {
                let fut = f();
                Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
            }),
            clock: Arc::new(SystemClock),
        }
    }

    /// Use this clock for expiry.
    ///
    /// ```
    /// use ficx::{AssertionFn, AssertionRequest, AssertionSource, ManualClock};
    /// use secrecy::SecretString;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let clock = std::sync::Arc::new(ManualClock::at_unix(1_700_000_000));
    /// let source = AssertionFn::new("opaque", || async { Ok::<_, std::io::Error>(SecretString::from("x".to_string())) })
    ///     .with_clock(clock);
    /// let token = source.assertion(&AssertionRequest::new("api://AzureADTokenExchange", false)).await?;
    /// assert_eq!(token.expires_on_unix(), 1_700_000_600); // the clock's now + 10 min
    /// # Ok::<(), ficx::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

impl AssertionSource for AssertionFn {
    fn assertion<'a>(
        &'a self,
        _request: &'a AssertionRequest,
    ) -> BoxFuture<'a, Result<AccessToken, Error>> {
        let fut = (self.f)();
        Box::pin(async move {
            let secret = fut.await.map_err(|message| Error::Assertion {
                source_name: self.describe(),
                message,
            })?;
            let now = self.clock.now();
            Ok(with_jwt_expiry(secret.clone(), now).unwrap_or_else(|_| {
                AccessToken::new(
                    secret,
                    now + Duration::from_secs(UNKNOWN_ASSERTION_LIFETIME_SECS),
                    None,
                    "Bearer",
                )
            }))
        })
    }

    fn describe(&self) -> String {
        format!("assertion function {}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn jwt(exp: i64) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"RS256"}"#),
            e.encode(format!(r#"{{"exp":{exp}}}"#))
        )
    }

    #[tokio::test]
    async fn token_file_rereads_on_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let clock = Arc::new(crate::ManualClock::at_unix(1_800_000_000));
        std::fs::write(&path, jwt(1_800_003_600)).unwrap();
        let src = TokenFileSource::new(&path).with_clock(clock.clone());
        let req = AssertionRequest::new("api://AzureADTokenExchange", false);
        assert_eq!(
            src.assertion(&req).await.unwrap().expires_on_unix(),
            1_800_003_600
        );
        std::fs::write(&path, format!("{}\n", jwt(1_800_007_200))).unwrap();
        assert_eq!(
            src.assertion(&req).await.unwrap().expires_on_unix(),
            1_800_007_200
        );
        std::fs::write(&path, "not a jwt").unwrap();
        let e = src.assertion(&req).await.unwrap_err();
        assert!(e.to_string().contains("not a JWT"), "{e}");
        let missing = TokenFileSource::new(dir.path().join("nope"));
        assert!(
            missing
                .assertion(&req)
                .await
                .unwrap_err()
                .to_string()
                .contains("cannot stat")
        );
        assert!(TokenFileSource::from_env(&Env::from_vars::<&str, &str>([])).is_err());
    }

    #[tokio::test]
    async fn closure_source() {
        let token = jwt(2_000_000_000);
        let src = AssertionFn::new("test", move || {
            let t = token.clone();
            async move { Ok::<_, std::io::Error>(SecretString::from(t)) }
        });
        let req = AssertionRequest::new("api://AzureADTokenExchange", false);
        assert_eq!(
            src.assertion(&req).await.unwrap().expires_on_unix(),
            2_000_000_000
        );
        let failing = AssertionFn::new("broken", || async { Err::<SecretString, _>("vault down") });
        let e = failing.assertion(&req).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "assertion source assertion function broken failed: vault down"
        );
    }

    #[test]
    fn cloud_shell_and_sf_uami_refused_at_build() {
        let e = ManagedIdentitySource::builder()
            .env(Env::from_vars([(
                "MSI_ENDPOINT",
                "http://localhost:50342/oauth2/token",
            )]))
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)));
        let e = ManagedIdentitySource::builder()
            .identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001").unwrap())
            .env(Env::from_vars([
                (
                    "IDENTITY_ENDPOINT",
                    "https://127.0.0.1:2377/metadata/identity/oauth2/token",
                ),
                ("IDENTITY_HEADER", "h"),
                (
                    "IDENTITY_SERVER_THUMBPRINT",
                    "0123456789ABCDEF0123456789ABCDEF01234567",
                ),
            ]))
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("Service Fabric"), "{e}");
    }
}
