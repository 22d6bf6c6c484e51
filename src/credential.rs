//! The public facade: [`Exchanger`] wires assertion source → exchange → cache, and
//! [`TenantCredential`] is one foreign tenant's view of it. The only module composing the legs.
//!
//! One `Exchanger` serves every tenant and scope of a service: it holds one assertion (the MI
//! token, fetched once per audience and shared) and one app-token cache per tenant, keyed by
//! scope. Clone it freely; clones share everything.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;

use crate::assertion::{AssertionRequest, AssertionSource, ManagedIdentitySource};
use crate::cache::{CachePolicy, CowMap, TokenCache};
use crate::clock::{SharedClock, SystemClock};
use crate::env::Env;
use crate::error::Error;
use crate::exchange;
use crate::hints::{RetryClass, lookup};
use crate::http::{Http, HttpOptions};
use crate::ids::{ClientId, Cloud, ManagedIdentity, TenantId, check_authority};
use crate::mi::Detection;
use crate::retry::{self, RetryEvent, RetryObserver, RetryPolicy};
use crate::scope::Scope;
use crate::store::{SharedStore, StoreKey, StoreOptions, StoreStats, TokenStore};
use crate::token::AccessToken;

/// An assertion is never sent with less than this much life left.
///
/// ```
/// use ficx::{AssertionFn, Exchanger, credential::DEFAULT_MIN_ASSERTION_LIFETIME_SECS};
/// use ficx::assertion::UNKNOWN_ASSERTION_LIFETIME_SECS;
/// use secrecy::SecretString;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
/// // An opaque assertion counts as living 10 min: over the 5 min minimum, so it is sent.
/// let opaque = AssertionFn::new("opaque", || async { Ok::<_, std::io::Error>(SecretString::from("x".to_string())) });
/// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").assertion_source(opaque).build()?;
/// assert!(UNKNOWN_ASSERTION_LIFETIME_SECS >= DEFAULT_MIN_ASSERTION_LIFETIME_SECS);
/// assert!(exchanger.assertion().await.is_ok());
/// # Ok(()) }
/// ```
pub const DEFAULT_MIN_ASSERTION_LIFETIME_SECS: u64 = 300;
/// Longest wait between attempts during a propagation wait.
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
/// # use std::{sync::Arc, time::Duration};
/// # let clock = Arc::new(ficx::ManualClock::at_unix(std::time::UNIX_EPOCH.elapsed()?.as_secs()));
/// # let emu = Emulator::builder(EmulatorConfig::default_config()).clock(clock.clone()).start().await?;
/// # let builder = emu.exchanger_builder()
/// #     .clock(clock.clone());
/// // `builder`: an ExchangerBuilder aimed at `emu` (a running ficx::emulator), both on the ManualClock `clock`
/// use ficx::credential::PROPAGATION_MAX_DELAY_SECS;
/// # use std::sync::Mutex;
/// // Consent given in Tailspin just now: its service principal shows up in 100 s.
/// emu.directory().add_service_principal(defaults::APP_CLIENT_ID, defaults::TAILSPIN_TENANT_ID, None, 100)?;
/// let delays = Arc::new(Mutex::new(Vec::new()));
/// let seen = delays.clone();
/// let exchanger = builder.propagation_wait(Duration::from_secs(300))
///     .on_retry(Arc::new(move |e: &ficx::RetryEvent| seen.lock().unwrap().push(e.delay.as_secs())))
///     .build()?;
/// exchanger.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
/// let delays = delays.lock().unwrap();
/// assert_eq!(*delays, [1, 2, 4, 8, 16, 30, 30, 30]); // doubling, capped
/// assert_eq!(delays.iter().max(), Some(&PROPAGATION_MAX_DELAY_SECS));
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
pub const PROPAGATION_MAX_DELAY_SECS: u64 = 30;

/// Exchanges a managed-identity assertion for app-only tokens in any number of foreign tenants.
///
/// ```no_run
/// use ficx::{Exchanger, ManagedIdentity};
/// # async fn run() -> Result<(), ficx::Error> {
/// let exchanger = Exchanger::builder()
///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")        // the multi-tenant app
///     .managed_identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
///     .build()?;
/// let token = exchanger.token("contoso.onmicrosoft.com", "https://graph.microsoft.com").await?;
/// let contoso = exchanger.tenant("contoso.onmicrosoft.com")?;
/// let again = contoso.get_token("https://graph.microsoft.com/.default").await?; // cached
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Exchanger {
    inner: Arc<Inner>,
}

struct Inner {
    client_id: ClientId,
    cloud: Cloud,
    authority: String,
    audience: String,
    source: Arc<dyn AssertionSource>,
    mi: Option<ManagedIdentitySource>,
    http: Http,
    clock: SharedClock,
    retry: RetryPolicy,
    observer: Option<RetryObserver>,
    min_assertion_life: Duration,
    propagation_wait: Option<Duration>,
    cache_policy: CachePolicy,
    store: Option<SharedStore>,
    tenants: CowMap<TenantId, TenantSlot>,
}

impl Inner {
    fn key(&self, tenant: &TenantId, scope: &Scope) -> StoreKey {
        StoreKey::new(
            &self.authority,
            self.client_id.as_str(),
            tenant.as_str(),
            scope.as_str(),
        )
    }
}

struct TenantSlot {
    tenant: TenantId,
    cache: TokenCache<Scope>,
}

impl fmt::Debug for Exchanger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchanger")
            .field("client_id", &self.inner.client_id)
            .field("authority", &self.inner.authority)
            .field("audience", &self.inner.audience)
            .field("source", &self.inner.source)
            .field("tenants", &self.inner.tenants.len())
            .field("store", &self.inner.store)
            .finish()
    }
}

impl Exchanger {
    /// Start building.
    ///
    /// ```
    /// use ficx::{Exchanger, ManagedIdentity};
    /// let exchanger = Exchanger::builder()
    ///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .managed_identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
    ///     .build()?;
    /// assert_eq!(exchanger.authority(), "https://login.microsoftonline.com");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn builder() -> ExchangerBuilder {
        ExchangerBuilder::default()
    }

    /// An app-only token for `scope` in `tenant` (GUID or verified domain). `scope` is
    /// `<resource>/.default` or a bare resource. Cached hits take no lock.
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
    /// use secrecy::ExposeSecret;
    /// let token = exchanger.token("contoso.onmicrosoft.com", "https://graph.microsoft.com").await?;
    /// let claims = ficx::jwt::decode_unverified(token.secret().expose_secret())?;
    /// assert_eq!(claims.str_claim("tid"), Some(defaults::CONTOSO_TENANT_ID));
    /// assert_eq!(claims.roles(), ["Application.Read.All"]);
    /// // Bad input fails before any request.
    /// assert!(exchanger.token("common", "https://graph.microsoft.com").await.unwrap_err().is_usage());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed tenant or scope (no request made); otherwise the
    /// failing leg's error (see [`Error::leg`]).
    pub async fn token(&self, tenant: &str, scope: &str) -> Result<AccessToken, Error> {
        if let Some(hit) = self
            .inner
            .tenants
            .with(tenant, |slot| slot.and_then(|s| s.cache.peek(scope)))
        {
            tracing::trace!(tenant, scope, "cache hit");
            return Ok(hit);
        }
        let slot = self.slot(tenant)?;
        get(&self.inner, &slot, scope).await
    }

    /// The cached token for `scope` in `tenant` if one is fresh now (not yet due for refresh),
    /// without fetching anything. For servers that count cache hits: a `Some` here means
    /// [`Exchanger::token`] would answer without a new exchange. Takes no lock.
    /// `scope` may be a bare resource or `<resource>/.default`, as for [`Exchanger::token`].
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
    /// let (tenant, scope) = (defaults::CONTOSO_TENANT_DOMAIN, "https://graph.microsoft.com");
    /// assert!(exchanger.cached(tenant, scope).is_none());
    /// let token = exchanger.token(tenant, scope).await?;
    /// let hit = exchanger.cached(tenant, "https://graph.microsoft.com/.default").expect("fresh");
    /// assert_eq!(hit.expires_on(), token.expires_on());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn cached(&self, tenant: &str, scope: &str) -> Option<AccessToken> {
        self.inner.tenants.with(tenant, |slot| {
            let cache = &slot?.cache;
            cache
                .peek(scope)
                .or_else(|| cache.peek(Scope::new(scope).ok()?.as_str()))
        })
    }

    /// The shared-store key of `tenant`'s token for `scope` (what
    /// [`ExchangerBuilder::token_store`] reads and writes), e.g. to inspect or purge an entry.
    ///
    /// ```
    /// # let exchanger = ficx::Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #     .env(ficx::Env::from_vars::<&str, &str>([])).build()?;
    /// let key = exchanger.store_key("Contoso.onmicrosoft.com", "https://graph.microsoft.com")?;
    /// assert_eq!(key.tenant(), "contoso.onmicrosoft.com");
    /// assert_eq!(key.scope(), "https://graph.microsoft.com/.default");
    /// assert_eq!(key.digest().len(), 32); // the entry's name in the store
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed tenant or scope.
    pub fn store_key(&self, tenant: &str, scope: &str) -> Result<StoreKey, Error> {
        let tenant = TenantId::new(tenant)?;
        let scope = Scope::new(scope)?;
        Ok(self.inner.key(&tenant, &scope))
    }

    /// A credential for one tenant (validated now, no request made).
    ///
    /// ```
    /// # let exchanger = ficx::Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #     .env(ficx::Env::from_vars::<&str, &str>([])).build()?;
    /// let contoso = exchanger.tenant("Contoso.onmicrosoft.com")?; // validated, no request
    /// assert_eq!(contoso.tenant().as_str(), "contoso.onmicrosoft.com");
    /// assert!(exchanger.tenant("organizations").is_err());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `tenant` is neither a GUID nor a domain name.
    pub fn tenant(&self, tenant: &str) -> Result<TenantCredential, Error> {
        Ok(TenantCredential {
            inner: self.inner.clone(),
            slot: self.slot(tenant)?,
        })
    }

    fn slot(&self, tenant: &str) -> Result<Arc<TenantSlot>, Error> {
        if let Some(s) = self.inner.tenants.get(tenant) {
            return Ok(s);
        }
        let id = TenantId::new(tenant)?;
        let clock = self.inner.clock.clone();
        let policy = self.inner.cache_policy.clone();
        Ok(self.inner.tenants.get_or_insert(id.clone(), || TenantSlot {
            tenant: id,
            cache: TokenCache::new(clock, policy),
        }))
    }

    /// The assertion (the MI token for the exchange audience) as it would be sent now.
    /// For `ficx assertion` and diagnostics; services never need it.
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
    /// use secrecy::ExposeSecret;
    /// let assertion = exchanger.assertion().await?; // the MI token, as sent as client_assertion
    /// let claims = ficx::jwt::decode_unverified(assertion.secret().expose_secret())?;
    /// assert_eq!(claims.audience(), Some("api://AzureADTokenExchange"));
    /// assert_eq!(claims.str_claim("sub"), Some(defaults::UAMI_TRUSTED_OBJECT_ID)); // the FIC subject
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    ///
    /// # Errors
    /// The assertion leg's error.
    pub async fn assertion(&self) -> Result<AccessToken, Error> {
        assertion(&self.inner, false).await
    }

    /// The multi-tenant app's client id.
    ///
    /// ```
    /// let exchanger = ficx::Exchanger::builder().client_id("C0C0C0C0-0000-4000-8000-00000000C0C0")
    /// #   .env(ficx::Env::from_vars::<&str, &str>([]))
    ///     .build()?;
    /// assert_eq!(exchanger.client_id().as_str(), "c0c0c0c0-0000-4000-8000-00000000c0c0");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The cloud.
    ///
    /// ```
    /// use ficx::{Cloud, Env, Exchanger};
    /// let env = Env::from_vars([("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us")]);
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").env(env).build()?;
    /// assert_eq!(exchanger.cloud(), &Cloud::UsGov);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn cloud(&self) -> &Cloud {
        &self.inner.cloud
    }

    /// The authority base URL token requests go to.
    ///
    /// ```
    /// use ficx::{Cloud, Exchanger};
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #   .env(ficx::Env::from_vars::<&str, &str>([]))
    ///     .cloud(Cloud::China).build()?;
    /// assert_eq!(exchanger.authority(), "https://login.partner.microsoftonline.cn");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn authority(&self) -> &str {
        &self.inner.authority
    }

    /// The exchange audience the assertion is requested for.
    ///
    /// ```
    /// use ficx::{Cloud, Exchanger};
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #   .env(ficx::Env::from_vars::<&str, &str>([]))
    ///     .cloud(Cloud::UsGov).build()?;
    /// assert_eq!(exchanger.audience(), "api://AzureADTokenExchangeUSGov");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    /// The managed-identity detection, when the source is a managed identity.
    ///
    /// ```
    /// use ficx::{Env, Exchanger, SourceKind};
    /// let env = Env::from_vars([("IDENTITY_ENDPOINT", "http://127.0.0.1:42356/msi/token"), ("IDENTITY_HEADER", "h")]);
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").env(env).build()?;
    /// assert_eq!(exchanger.detection().map(|d| d.kind), Some(SourceKind::AppService));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn detection(&self) -> Option<&Detection> {
        self.inner.mi.as_ref().map(|m| m.detection())
    }

    /// The assertion source.
    ///
    /// ```
    /// use ficx::{Env, Exchanger, ManagedIdentity};
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .managed_identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
    ///     .env(Env::from_vars([("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:2579")]))
    ///     .build()?;
    /// assert_eq!(exchanger.source().describe(), "managed identity (IMDS, user-assigned client id a1a1a1a1-0000-4000-8000-000000000001)");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn source(&self) -> &Arc<dyn AssertionSource> {
        &self.inner.source
    }

    /// Token exchanges started so far (misses and refreshes, over all tenants).
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
    /// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// exchanger.token(defaults::NORTHWIND_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?; // cached
    /// assert_eq!(exchanger.exchange_count(), 2);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn exchange_count(&self) -> u64 {
        self.stats().exchanges
    }

    /// Counters of cache and exchange activity, summed over tenants.
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
    /// for tenant in [defaults::CONTOSO_TENANT_DOMAIN, defaults::NORTHWIND_TENANT_DOMAIN] {
    ///     exchanger.token(tenant, defaults::GRAPH_RESOURCE).await?;
    /// }
    /// let stats = exchanger.stats();
    /// assert_eq!((stats.tenants, stats.exchanges, stats.failed_exchanges), (2, 2, 0));
    /// assert_eq!(stats.assertion_fetches, 1); // one MI token shared by every tenant
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn stats(&self) -> ExchangerStats {
        use std::sync::atomic::Ordering::Acquire;
        let mut s = ExchangerStats::default();
        for slot in self.inner.tenants.values() {
            let c = &slot.cache.stats;
            s.tenants += 1;
            s.exchanges += c.fetches.load(Acquire);
            s.failed_exchanges += c.failed_fetches.load(Acquire);
            s.background_refreshes += c.background_refreshes.load(Acquire);
            s.stale_served += c.stale_served.load(Acquire);
        }
        s.assertion_fetches = self.inner.mi.as_ref().map_or(0, |m| m.fetch_count());
        s.failed_assertion_fetches = self.inner.mi.as_ref().map_or(0, |m| m.failed_fetch_count());
        s.store = self
            .inner
            .store
            .as_ref()
            .map(SharedStore::stats)
            .unwrap_or_default();
        s
    }
}

/// A snapshot of an [`Exchanger`]'s activity (cache hits are deliberately not counted: a shared
/// counter on the hit path would cost more than the hit).
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
/// let _ = exchanger.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await; // app not there
/// let stats: ficx::ExchangerStats = exchanger.stats();
/// assert_eq!((stats.exchanges, stats.failed_exchanges), (1, 1));
/// assert_eq!(stats.store, ficx::StoreStats::default()); // no shared store configured
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExchangerStats {
    /// Tenants seen.
    pub tenants: u64,
    /// Exchanges started (cache misses and refreshes).
    pub exchanges: u64,
    /// Exchanges that failed (after retries).
    pub failed_exchanges: u64,
    /// Exchanges started in the background by refresh-ahead.
    pub background_refreshes: u64,
    /// Times a still-valid token was served because its refresh failed.
    pub stale_served: u64,
    /// MI token fetches started (when the source is a managed identity).
    pub assertion_fetches: u64,
    /// MI token fetches that failed (after retries).
    pub failed_assertion_fetches: u64,
    /// What the shared token store did (all zero without one).
    pub store: StoreStats,
}

/// One foreign tenant's credential: `get_token(scope)`. Cheap to clone; shares the exchanger's
/// assertion and caches.
///
/// ```no_run
/// # async fn run(exchanger: ficx::Exchanger) -> Result<(), ficx::Error> {
/// let contoso = exchanger.tenant("contoso.onmicrosoft.com")?; // validated now, no request
/// let graph = contoso.get_token("https://graph.microsoft.com").await?;
/// let orders = contoso.get_token("api://orders/.default").await?; // same assertion, own cache entry
/// # let _ = (graph, orders); Ok(()) }
/// ```
#[derive(Clone)]
pub struct TenantCredential {
    inner: Arc<Inner>,
    slot: Arc<TenantSlot>,
}

impl fmt::Debug for TenantCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantCredential")
            .field("tenant", &self.slot.tenant)
            .field("client_id", &self.inner.client_id)
            .finish()
    }
}

impl TenantCredential {
    /// An app-only token for `scope` in this tenant.
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
    /// use secrecy::ExposeSecret;
    /// let contoso = exchanger.tenant(defaults::CONTOSO_TENANT_DOMAIN)?;
    /// let orders = contoso.get_token("api://orders/.default").await?;
    /// let claims = ficx::jwt::decode_unverified(orders.secret().expose_secret())?;
    /// assert_eq!(claims.roles(), ["Orders.Read"]);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    ///
    /// # Errors
    /// As [`Exchanger::token`].
    pub async fn get_token(&self, scope: &str) -> Result<AccessToken, Error> {
        if let Some(hit) = self.slot.cache.peek(scope) {
            tracing::trace!(tenant = %self.slot.tenant, scope, "cache hit");
            return Ok(hit);
        }
        get(&self.inner, &self.slot, scope).await
    }

    /// The tenant.
    ///
    /// ```
    /// # let exchanger = ficx::Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #     .env(ficx::Env::from_vars::<&str, &str>([])).build()?;
    /// let credential = exchanger.tenant("22222222-2222-4222-8222-222222222222")?;
    /// assert!(credential.tenant().is_guid());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn tenant(&self) -> &TenantId {
        &self.slot.tenant
    }
}

async fn get(
    inner: &Arc<Inner>,
    slot: &Arc<TenantSlot>,
    scope: &str,
) -> Result<AccessToken, Error> {
    let scope = Scope::new(scope)?;
    let fetch_inner = inner.clone();
    let tenant = slot.tenant.clone();
    let fetch_scope = scope.clone();
    slot.cache
        .get(
            scope.as_str(),
            || scope.clone(),
            move || async move { fetch(fetch_inner, tenant, fetch_scope).await }.boxed(),
        )
        .await
}

/// A token for (tenant, scope) after an in-memory miss: through the shared store when one is
/// configured (which runs the exchange at most once, for the whole fleet), else directly.
async fn fetch(inner: Arc<Inner>, tenant: TenantId, scope: Scope) -> Result<AccessToken, Error> {
    match &inner.store {
        Some(store) => {
            let key = inner.key(&tenant, &scope);
            store
                .fetch(&key, fetch_direct(inner.clone(), tenant, scope))
                .await
        }
        None => fetch_direct(inner, tenant, scope).await,
    }
}

/// One exchange for (tenant, scope): assertion, POST with retries, one re-mint on 700024/700027,
/// and the optional propagation wait.
async fn fetch_direct(
    inner: Arc<Inner>,
    tenant: TenantId,
    scope: Scope,
) -> Result<AccessToken, Error> {
    let start = inner.clock.now();
    let mut waits: u32 = 0;
    loop {
        let result = exchange_with_remint(&inner, &tenant, &scope).await;
        let Err(err) = &result else { return result };
        let Some(window) = inner.propagation_wait else {
            return result;
        };
        let propagating = err
            .aadsts()
            .and_then(lookup)
            .is_some_and(|r| r.retry == RetryClass::Propagation);
        if !propagating {
            return result;
        }
        let delay = Duration::from_secs(2u64.saturating_pow(waits).min(PROPAGATION_MAX_DELAY_SECS))
            .max(Duration::from_secs(1));
        let elapsed = inner.clock.now().duration_since(start).unwrap_or_default();
        if elapsed + delay > window {
            return result;
        }
        waits += 1;
        tracing::info!(tenant = %tenant, code = ?err.aadsts(), delay_s = delay.as_secs(), "waiting for propagation");
        if let Some(obs) = &inner.observer {
            obs(&RetryEvent {
                attempt: waits,
                delay,
                reason: format!("waiting for propagation: {err}"),
            });
        }
        inner.clock.sleep(delay).await;
    }
}

async fn exchange_with_remint(
    inner: &Arc<Inner>,
    tenant: &TenantId,
    scope: &Scope,
) -> Result<AccessToken, Error> {
    let assertion_token = assertion(inner, false).await?;
    match post(inner, tenant, scope, &assertion_token).await {
        Err(e)
            if e.aadsts()
                .and_then(lookup)
                .is_some_and(|r| r.retry == RetryClass::Remint) =>
        {
            tracing::info!(tenant = %tenant, code = ?e.aadsts(), "assertion refused; fetching a fresh one and retrying once");
            let fresh = assertion(inner, true).await?;
            post(inner, tenant, scope, &fresh).await
        }
        r => r,
    }
}

async fn post(
    inner: &Arc<Inner>,
    tenant: &TenantId,
    scope: &Scope,
    assertion: &AccessToken,
) -> Result<AccessToken, Error> {
    let span = tracing::debug_span!("exchange", tenant = %tenant, scope = %scope, client_id = %inner.client_id);
    let _enter = span.enter();
    drop(_enter);
    let clock = inner.clock.clone();
    let r = retry::run(
        &inner.retry,
        inner.clock.as_ref(),
        inner.observer.as_ref(),
        |_| {
            let clock = clock.clone();
            async move {
                exchange::exchange_once(
                    &inner.http,
                    &inner.authority,
                    tenant,
                    &inner.client_id,
                    scope,
                    assertion.secret(),
                    move || clock.now(),
                )
                .await
            }
        },
    )
    .await;
    match &r {
        Ok(t) => {
            tracing::debug!(tenant = %tenant, scope = %scope, expires_on = t.expires_on_unix(), "app token received")
        }
        Err(e) => tracing::debug!(tenant = %tenant, scope = %scope, error = %e, "exchange failed"),
    }
    r
}

async fn assertion(inner: &Arc<Inner>, fresh: bool) -> Result<AccessToken, Error> {
    let req = AssertionRequest::new(inner.audience.clone(), fresh);
    let token = inner.source.assertion(&req).await?;
    let now = inner.clock.now();
    if token.remaining(now) >= inner.min_assertion_life {
        return Ok(token);
    }
    if !fresh {
        let again = inner
            .source
            .assertion(&AssertionRequest::new(inner.audience.clone(), true))
            .await?;
        if again.remaining(inner.clock.now()) >= inner.min_assertion_life {
            return Ok(again);
        }
    }
    Err(Error::Assertion {
        source_name: inner.source.describe(),
        message: format!(
            "the assertion has only {} s of life left, under the {} s minimum; a fresh one was asked for and was no better",
            token.remaining(now).as_secs(),
            inner.min_assertion_life.as_secs()
        ),
    })
}

/// Builds an [`Exchanger`]. Everything is validated in [`ExchangerBuilder::build`], before any
/// network call.
///
/// ```
/// use ficx::{Exchanger, ManagedIdentity, RetryPolicy};
/// use std::time::Duration;
/// let exchanger = Exchanger::builder()
///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .managed_identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
///     .retry(RetryPolicy::default().budget(Duration::from_secs(20)))
///     .propagation_wait(Duration::from_secs(300)) // during a rollout only
/// #   .env(ficx::Env::from_vars::<&str, &str>([]))
///     .build()?;
/// # let _ = exchanger;
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Default)]
#[must_use]
pub struct ExchangerBuilder {
    client_id: Option<String>,
    identity: Option<ManagedIdentity>,
    source: Option<Arc<dyn AssertionSource>>,
    cloud: Option<Cloud>,
    authority_host: Option<String>,
    audience: Option<String>,
    env: Option<Env>,
    http: HttpOptions,
    retry: Option<RetryPolicy>,
    mi_retry: Option<RetryPolicy>,
    clock: Option<SharedClock>,
    observer: Option<RetryObserver>,
    min_assertion_life: Option<Duration>,
    expiry_buffer: Option<Duration>,
    propagation_wait: Option<Duration>,
    arc_key_dir: Option<std::path::PathBuf>,
    store: Option<Arc<dyn TokenStore>>,
    store_options: StoreOptions,
}

impl fmt::Debug for ExchangerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExchangerBuilder")
            .field("client_id", &self.client_id)
            .field("identity", &self.identity)
            .field("cloud", &self.cloud)
            .field("authority_host", &self.authority_host)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl ExchangerBuilder {
    /// The multi-tenant app's client id (required).
    ///
    /// ```
    /// use ficx::Exchanger;
    /// let err = Exchanger::builder().build().unwrap_err(); // required
    /// assert!(err.to_string().contains("client id"));
    /// assert!(Exchanger::builder().client_id("orders-app").build().is_err()); // a GUID
    /// ```
    pub fn client_id(mut self, id: &str) -> Self {
        self.client_id = Some(id.to_owned());
        self
    }

    /// Use this managed identity as the assertion source (the default source is the
    /// system-assigned identity, which the documented flow does not support: name your
    /// user-assigned one).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # use ficx::ManagedIdentity;
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// // `uami-untrusted` is attached to the compute, but no FIC of the app trusts it.
    /// let untrusted = ManagedIdentity::client_id(defaults::UAMI_UNTRUSTED_CLIENT_ID)?;
    /// let exchanger = builder.managed_identity(untrusted).build()?;
    /// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert_eq!(err.aadsts(), Some(700213)); // no FIC matches the subject
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn managed_identity(mut self, identity: ManagedIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Use any assertion source instead of a managed identity.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, ManagedIdentity};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::{ManagedIdentitySource, TokenFileSource};
    /// use secrecy::ExposeSecret;
    /// // An MI token written to a file, as AKS projects a workload-identity token.
    /// # let mi = ManagedIdentitySource::builder().identity(ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)?)
    /// #     .env(Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// let file = tempfile::NamedTempFile::new()?;
    /// std::fs::write(file.path(), mi.token(defaults::EXCHANGE_AUDIENCE).await?.secret().expose_secret())?;
    /// let exchanger = builder.assertion_source(TokenFileSource::new(file.path())).build()?;
    /// assert!(exchanger.detection().is_none()); // not a managed identity source
    /// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn assertion_source(mut self, source: impl AssertionSource) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The cloud (default: `AZURE_AUTHORITY_HOST` if set, else public).
    ///
    /// ```
    /// use ficx::{Cloud, Exchanger};
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #   .env(ficx::Env::from_vars::<&str, &str>([]))
    ///     .cloud(Cloud::UsGov)
    ///     .build()?;
    /// assert_eq!(exchanger.authority(), "https://login.microsoftonline.us");
    /// assert_eq!(exchanger.audience(), "api://AzureADTokenExchangeUSGov");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = Some(cloud);
        self
    }

    /// The authority host (overrides the cloud's; plain `http://` only on loopback).
    ///
    /// ```
    /// use ficx::Exchanger;
    /// let emulator = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #   .env(ficx::Env::from_vars::<&str, &str>([]))
    ///     .authority_host("https://127.0.0.1:8443/")
    ///     .build()?;
    /// assert_eq!(emulator.authority(), "https://127.0.0.1:8443");
    /// assert_eq!(emulator.cloud().name(), "custom");
    /// assert!(Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .authority_host("http://login.example.com").build().is_err()); // http only on loopback
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn authority_host(mut self, host: &str) -> Self {
        self.authority_host = Some(host.to_owned());
        self
    }

    /// The exchange audience (overrides the cloud's).
    ///
    /// ```
    /// use ficx::Exchanger;
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #   .env(ficx::Env::from_vars::<&str, &str>([]))
    ///     .authority_host("https://login.sovereign.example")
    ///     .exchange_audience("api://AzureADTokenExchangeSovereign")
    ///     .build()?;
    /// assert_eq!(exchanger.audience(), "api://AzureADTokenExchangeSovereign");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn exchange_audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// The environment for MI detection and proxies (default: the process environment).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::Env;
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// // The App Service variables instead of IMDS.
    /// let exchanger = builder.env(Env::from_vars(emu.env(Endpoint::AppService))).build()?;
    /// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert_eq!(emu.log().count(Endpoint::AppService), 1);
    /// assert_eq!(emu.log().count(Endpoint::Imds), 0);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// HTTP settings for both legs.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, Exchanger, HttpOptions, ManagedIdentity, TrustRoots};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// // Trust the emulator's CA for the authority leg, and nothing else.
    /// let exchanger = Exchanger::builder()
    ///     .client_id(defaults::APP_CLIENT_ID)
    ///     .managed_identity(ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)?)
    ///     .authority_host(emu.authority_url())
    ///     .env(Env::from_vars(emu.env(Endpoint::Imds)))
    ///     .http(HttpOptions::default().trust_roots(TrustRoots::ExtraOnly).ca_pem(emu.ca_pem()))
    ///     .build()?;
    /// assert!(exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.is_ok());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.http = http;
        self
    }

    /// Retry policy of the exchange leg.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// emu.faults().inject(Endpoint::Token, Fault::Status { status: 503, retry_after: None, body: None }, Times::Always);
    /// let exchanger = builder.retry(ficx::RetryPolicy::none()).build()?;
    /// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert!(err.is_transient());
    /// assert_eq!(emu.log().count(Endpoint::Token), 1); // not retried
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Retry policy of the managed-identity leg.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// emu.faults().inject(Endpoint::Imds, Fault::Status { status: 500, retry_after: None, body: None }, Times::Next(1));
    /// let exchanger = builder.mi_retry(ficx::RetryPolicy::none()).build()?;
    /// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
    /// assert_eq!(err.leg(), Some(ficx::Leg::ManagedIdentity));
    /// assert_eq!(emu.log().count(Endpoint::Token), 0); // never got to the exchange
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn mi_retry(mut self, retry: RetryPolicy) -> Self {
        self.mi_retry = Some(retry);
        self
    }

    /// The clock (default [`SystemClock`]); tests pass a [`crate::ManualClock`].
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # use std::{sync::Arc, time::Duration};
    /// # let clock = Arc::new(ficx::ManualClock::at_unix(std::time::UNIX_EPOCH.elapsed()?.as_secs()));
    /// # let emu = Emulator::builder(EmulatorConfig::default_config()).clock(clock.clone()).start().await?;
    /// # let exchanger = emu.exchanger_builder()
    /// #     .clock(clock.clone())
    /// #     .build()?;
    /// // `exchanger` and `emu` (a running ficx::emulator) share the ManualClock `clock`
    /// let first = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// clock.advance(Duration::from_secs(3_600)); // the app token (3599 s) has expired
    /// let second = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert!(second.expires_on() > first.expires_on());
    /// assert_eq!(exchanger.exchange_count(), 2);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Be told about each retry or propagation wait (the CLI draws its progress line from it).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// use std::sync::{Arc, atomic::{AtomicU32, Ordering}};
    /// emu.faults().inject(Endpoint::Token, Fault::Status { status: 429, retry_after: None, body: None }, Times::Next(1));
    /// let retries = Arc::new(AtomicU32::new(0));
    /// let count = retries.clone();
    /// let exchanger = builder.clock(Arc::new(ficx::ManualClock::starting_now()))
    ///     .on_retry(Arc::new(move |_| { count.fetch_add(1, Ordering::Relaxed); })).build()?;
    /// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert_eq!(retries.load(Ordering::Relaxed), 1);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn on_retry(mut self, observer: RetryObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Never send an assertion with less life than this (default
    /// [`DEFAULT_MIN_ASSERTION_LIFETIME_SECS`]).
    ///
    /// ```
    /// use ficx::{AssertionFn, Error, Exchanger};
    /// use secrecy::SecretString;
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// // An opaque assertion is assumed to live 10 min: too short for a 15 min minimum.
    /// let opaque = AssertionFn::new("opaque", || async { Ok::<_, std::io::Error>(SecretString::from("x".to_string())) });
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .assertion_source(opaque).min_assertion_lifetime(Duration::from_secs(900)).build()?;
    /// assert!(matches!(exchanger.assertion().await, Err(Error::Assertion { .. })));
    /// # Ok(()) }
    /// ```
    pub fn min_assertion_lifetime(mut self, d: Duration) -> Self {
        self.min_assertion_life = Some(d);
        self
    }

    /// Latest refresh point before expiry (default [`crate::cache::DEFAULT_EXPIRY_BUFFER_SECS`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use std::time::Duration;
    /// let exchanger = builder.expiry_buffer(Duration::from_secs(600)).build()?;
    /// let token = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert_eq!(token.expires_on().duration_since(token.refresh_on().unwrap())?, Duration::from_secs(600));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn expiry_buffer(mut self, d: Duration) -> Self {
        self.expiry_buffer = Some(d);
        self
    }

    /// Retry AADSTS70021 (a new FIC not yet visible) and 700016/7000229 (a new service principal)
    /// for up to `window`. Off by default: outside a rollout these are configuration errors.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # use std::{sync::Arc, time::Duration};
    /// # let clock = Arc::new(ficx::ManualClock::at_unix(std::time::UNIX_EPOCH.elapsed()?.as_secs()));
    /// # let emu = Emulator::builder(EmulatorConfig::default_config()).clock(clock.clone()).start().await?;
    /// # let builder = emu.exchanger_builder()
    /// #     .clock(clock.clone());
    /// // `builder`: an ExchangerBuilder aimed at `emu` (a running ficx::emulator), both on the ManualClock `clock`
    /// // Admin consent in Tailspin a moment ago: the service principal is visible in 20 s.
    /// emu.directory().add_service_principal(defaults::APP_CLIENT_ID, defaults::TAILSPIN_TENANT_ID, None, 20)?;
    /// let exchanger = builder.propagation_wait(Duration::from_secs(120)).build()?;
    /// exchanger.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?; // AADSTS700016, waited out
    /// assert!(clock.total_slept() >= Duration::from_secs(20));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn propagation_wait(mut self, window: Duration) -> Self {
        self.propagation_wait = Some(window);
        self
    }

    /// Directory Azure Arc key files must be in (for emulators and tests).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, ManagedIdentity};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// let exchanger = builder
    ///     .managed_identity(ManagedIdentity::SystemAssigned) // the machine's identity
    ///     .env(Env::from_vars(emu.env(Endpoint::AzureArc)))
    ///     .arc_key_dir(emu.arc_key_dir()) // where the emulated Arc agent writes its key files
    ///     .build()?;
    /// exchanger.assertion().await?; // the MI leg: challenge, key file, token
    /// assert_eq!(exchanger.detection().map(|d| d.kind), Some(ficx::SourceKind::AzureArc));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn arc_key_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.arc_key_dir = Some(dir.into());
        self
    }

    /// Share exchanged app tokens with other processes through `store` (see [`crate::store`]):
    /// an in-memory miss reads the store before exchanging, and one replica exchanges per key
    /// under a lease. The store is never on the hit path, and its failure never fails a call.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # use ficx::{Env, Exchanger, HttpOptions, ManagedIdentity, TrustRoots};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::MemoryStore;
    /// let store = MemoryStore::new(); // clones share one map; RedisStore across processes
    /// # let replica = || Exchanger::builder().client_id(defaults::APP_CLIENT_ID)
    /// #     .managed_identity(ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID).unwrap())
    /// #     .authority_host(emu.authority_url()).env(Env::from_vars(emu.env(Endpoint::Imds)))
    /// #     .http(HttpOptions::default().trust_roots(TrustRoots::ExtraOnly).ca_pem(emu.ca_pem()));
    /// let (a, b) = (replica().token_store(store.clone()).build()?, replica().token_store(store).build()?);
    /// a.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// b.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?; // read from the store
    /// assert_eq!(emu.log().count(Endpoint::Token), 1);
    /// assert_eq!(b.stats().store.hits, 1);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn token_store(self, store: impl TokenStore) -> Self {
        self.shared_token_store(Arc::new(store))
    }

    /// [`token_store`](Self::token_store) for a store that is already shared.
    ///
    /// ```
    /// use ficx::{Exchanger, MemoryStore, TokenStore};
    /// use std::sync::Arc;
    /// let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new()); // e.g. chosen at run time
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #   .env(ficx::Env::from_vars::<&str, &str>([]))
    ///     .shared_token_store(store.clone())
    ///     .build()?;
    /// assert_eq!(exchanger.stats().store, ficx::StoreStats::default()); // nothing done yet
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn shared_token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Timeouts, lease and cooldown for the token store (defaults: [`StoreOptions::default`]).
    /// Ignored without a store.
    ///
    /// ```
    /// use ficx::{Exchanger, MemoryStore, StoreOptions};
    /// use std::time::Duration;
    /// let exchanger = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    /// #   .env(ficx::Env::from_vars::<&str, &str>([]))
    ///     .token_store(MemoryStore::new())
    ///     .store_options(StoreOptions::default().op_timeout(Duration::from_millis(100)).lease_wait(Duration::from_secs(2)))
    ///     .build()?;
    /// # let _ = exchanger;
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn store_options(mut self, options: StoreOptions) -> Self {
        self.store_options = options;
        self
    }

    /// Validate and build. Makes no network call.
    ///
    /// ```
    /// use ficx::{Env, Error, Exchanger};
    /// // Everything is checked here, before any request.
    /// let err = Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .env(Env::from_vars([("IDENTITY_ENDPOINT", "not a url"), ("IDENTITY_HEADER", "h")]))
    ///     .build().unwrap_err();
    /// assert!(matches!(err, Error::InvalidInput { field: "IDENTITY_ENDPOINT", .. }), "{err}");
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the bad field (client id, authority host, CA file, …),
    /// [`Error::Unsupported`] for impossible combinations (see [`ManagedIdentitySourceBuilder::build`](crate::ManagedIdentitySourceBuilder::build)).
    pub fn build(self) -> Result<Exchanger, Error> {
        let client_id = ClientId::new(self.client_id.as_deref().ok_or(Error::InvalidInput {
            field: "client id",
            problem: "is missing; expected the multi-tenant app's application (client) id".into(),
        })?)?;
        let env = self.env.unwrap_or_else(Env::process);
        let cloud = Cloud::resolve(self.cloud, self.authority_host.as_deref(), &env)?;
        let authority = check_authority(cloud.authority_host())?;
        let audience = self
            .audience
            .unwrap_or_else(|| cloud.exchange_audience().to_owned());
        if audience.trim().is_empty()
            || audience
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::InvalidInput {
                field: "audience",
                problem: "must be one non-empty value without whitespace, e.g. api://AzureADTokenExchange".into(),
            });
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let http = Http::new(&self.http, &env)?;
        let (source, mi): (Arc<dyn AssertionSource>, _) = match self.source {
            Some(s) => (s, None),
            None => {
                let mut b = ManagedIdentitySource::builder()
                    .identity(self.identity.unwrap_or_default())
                    .env(env)
                    .clock(clock.clone())
                    .built_http(http.clone())
                    .retry(self.mi_retry.unwrap_or_default());
                if let Some(dir) = self.arc_key_dir {
                    b = b.arc_key_dir(dir);
                }
                if let Some(obs) = &self.observer {
                    b = b.on_retry(obs.clone());
                }
                let mi = b.build()?;
                (Arc::new(mi.clone()), Some(mi))
            }
        };
        let mut cache_policy = CachePolicy::default();
        if let Some(b) = self.expiry_buffer {
            cache_policy.expiry_buffer = b;
        }
        let store = self.store.map(|store| {
            SharedStore::new(
                store,
                self.store_options,
                clock.clone(),
                cache_policy.clone(),
            )
        });
        Ok(Exchanger {
            inner: Arc::new(Inner {
                client_id,
                cloud,
                authority,
                audience,
                source,
                mi,
                http,
                clock,
                retry: self.retry.unwrap_or_default(),
                observer: self.observer,
                min_assertion_life: self
                    .min_assertion_life
                    .unwrap_or(Duration::from_secs(DEFAULT_MIN_ASSERTION_LIFETIME_SECS)),
                propagation_wait: self.propagation_wait,
                cache_policy,
                store,
                tenants: CowMap::default(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::from_vars([("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")])
    }

    #[test]
    fn build_validates_before_any_request() {
        let e = Exchanger::builder().env(env()).build().unwrap_err();
        assert!(
            e.to_string().starts_with("invalid client id: is missing"),
            "{e}"
        );
        let e = Exchanger::builder()
            .client_id("nope")
            .env(env())
            .build()
            .unwrap_err();
        assert!(e.to_string().starts_with("invalid client id"), "{e}");
        let e = Exchanger::builder()
            .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
            .authority_host("http://login.example.com")
            .env(env())
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("plain http off loopback"), "{e}");
    }

    #[test]
    fn cloud_precedence() {
        let b = || Exchanger::builder().client_id("c0c0c0c0-0000-4000-8000-00000000c0c0");
        let x = b()
            .env(env().with_var("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"))
            .build()
            .unwrap();
        assert_eq!(
            (x.authority(), x.audience()),
            (
                "https://login.microsoftonline.us",
                "api://AzureADTokenExchangeUSGov"
            )
        );
        let x = b()
            .cloud(Cloud::China)
            .env(env().with_var("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"))
            .build()
            .unwrap();
        assert_eq!(x.audience(), "api://AzureADTokenExchangeChina");
        let x = b()
            .authority_host("https://127.0.0.1:8443/")
            .env(env())
            .build()
            .unwrap();
        assert_eq!(
            (x.authority(), x.audience()),
            ("https://127.0.0.1:8443", "api://AzureADTokenExchange")
        );
        let x = b()
            .exchange_audience("api://custom")
            .env(env())
            .build()
            .unwrap();
        assert_eq!(x.audience(), "api://custom");
    }

    #[tokio::test]
    async fn bad_tenant_and_scope_fail_before_any_request() {
        let x = Exchanger::builder()
            .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
            .env(env())
            .build()
            .unwrap();
        let e = x
            .token("bad/tenant", "https://graph.microsoft.com")
            .await
            .unwrap_err();
        assert!(
            e.is_usage() && e.to_string().starts_with("invalid tenant"),
            "{e}"
        );
        let e = x
            .token("contoso.com", "a/.default b/.default")
            .await
            .unwrap_err();
        assert!(
            e.is_usage() && e.to_string().starts_with("invalid scope"),
            "{e}"
        );
        assert_eq!(x.exchange_count(), 0);
    }
}
