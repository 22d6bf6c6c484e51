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
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an assertion is requested for.
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
pub trait AssertionSource: Send + Sync + fmt::Debug + 'static {
    /// An assertion for `request.audience`, with its expiry.
    fn assertion<'a>(
        &'a self,
        request: &'a AssertionRequest,
    ) -> BoxFuture<'a, Result<AccessToken, Error>>;

    /// A short description for logs and errors (no secrets), e.g. `IMDS, user-assigned client id …`.
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
    pub fn builder() -> ManagedIdentitySourceBuilder {
        ManagedIdentitySourceBuilder::default()
    }

    /// Which endpoint was detected and why.
    pub fn detection(&self) -> &Detection {
        &self.inner.detection
    }

    /// The identity asked for.
    pub fn identity(&self) -> &ManagedIdentity {
        &self.inner.client.identity
    }

    /// An MI token for `resource` (a scope's trailing `/.default` is stripped), cached.
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
    pub fn identity(mut self, identity: ManagedIdentity) -> Self {
        self.identity = identity;
        self
    }

    /// The environment to detect from (default: the process environment).
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// The clock (default [`SystemClock`]).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// HTTP settings.
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.http = Some(http);
        self
    }

    pub(crate) fn built_http(mut self, http: Http) -> Self {
        self.built_http = Some(http);
        self
    }

    /// Retry policy for the MI endpoint (default [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The directory Azure Arc key files must live in (default the agent's platform directory,
    /// or `FICX_ARC_KEY_DIR`); for emulators and tests.
    pub fn arc_key_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.arc_key_dir = Some(dir.into());
        self
    }

    /// Be told about each retry wait.
    pub fn on_retry(mut self, observer: RetryObserver) -> Self {
        self.observer = Some(ObserverDebug(observer));
        self
    }

    /// Detect the endpoint and check the identity can be served there. No network call.
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
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            clock: Arc::new(SystemClock),
            last: Mutex::new(None),
        }
    }

    /// The file named by `AZURE_FEDERATED_TOKEN_FILE`.
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
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The file read.
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
