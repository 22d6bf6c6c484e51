//! Shared token stores: where exchanged app tokens live *between* processes, under each
//! process's in-memory cache.
//!
//! Without a store every replica of a service exchanges for every tenant: N replicas × T tenants
//! token requests per token lifetime. With one ([`ExchangerBuilder::token_store`](crate::ExchangerBuilder::token_store)),
//! a replica whose in-memory cache misses (or is due for refresh) first asks the store; only
//! when the store has no usable token does it exchange, and then under a **lease** so that one
//! replica exchanges for a key while the others wait briefly and read its result:
//!
//! ```text
//! in-memory hit? ─yes─▶ token (no store call: the hit path never leaves the process)
//!       │ no (single flight per process)
//!       ▼
//! store.get(key) usable? ─yes─▶ token
//!       │ no
//!       ▼
//! store.try_lease(key) ─won─▶ get again (lost race?) ─▶ exchange ─▶ store.put (fenced) ─▶ release
//!       │ held by another replica
//!       ▼
//! poll store.get until a usable token appears (hit), the lease frees (try to take it), or
//! `lease_wait` passes (exchange directly)
//! ```
//!
//! A store failure never becomes an auth failure: every store call is bounded by
//! [`StoreOptions::op_timeout`]; on an error or timeout the replica exchanges directly and
//! skips the store for [`StoreOptions::cooldown`], then tries it again (automatic recovery).
//! A value that cannot be decrypted is reported and treated as a miss, never used.
//!
//! Only app tokens are shared. The managed-identity token (the assertion) never leaves the
//! process.
//!
//! Stores: [`MemoryStore`] (one process; several [`Exchanger`](crate::Exchanger)s, and tests)
//! and, with the `redis` feature, `RedisStore` (standalone or cluster, AES-256-GCM at rest).

mod memory;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "redis")]
pub mod seal;
pub(crate) mod shared;

use std::fmt;
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;

use crate::token::AccessToken;

pub use memory::MemoryStore;
pub(crate) use shared::SharedStore;
pub use shared::StoreStats;

/// Default bound on one store call.
///
/// ```
/// use ficx::{StoreOptions, store::DEFAULT_STORE_OP_TIMEOUT_MS};
/// assert_eq!(StoreOptions::default().op_timeout.as_millis(), u128::from(DEFAULT_STORE_OP_TIMEOUT_MS));
/// ```
pub const DEFAULT_STORE_OP_TIMEOUT_MS: u64 = 250;
/// Default lifetime of an exchange lease (a holder that dies frees it after this).
///
/// ```
/// use ficx::{StoreOptions, store::DEFAULT_LEASE_TTL_SECS};
/// assert_eq!(StoreOptions::default().lease_ttl.as_secs(), DEFAULT_LEASE_TTL_SECS);
/// ```
pub const DEFAULT_LEASE_TTL_SECS: u64 = 10;
/// Default longest wait for another replica's exchange before exchanging directly.
///
/// ```
/// use ficx::{StoreOptions, store::{DEFAULT_LEASE_TTL_SECS, DEFAULT_LEASE_WAIT_SECS}};
/// assert_eq!(StoreOptions::default().lease_wait.as_secs(), DEFAULT_LEASE_WAIT_SECS);
/// assert!(DEFAULT_LEASE_WAIT_SECS < DEFAULT_LEASE_TTL_SECS); // waiters give up before a dead holder's lease ends
/// ```
pub const DEFAULT_LEASE_WAIT_SECS: u64 = 5;
/// Default time the store is skipped after it failed.
///
/// ```
/// use ficx::{StoreOptions, store::DEFAULT_STORE_COOLDOWN_SECS};
/// assert_eq!(StoreOptions::default().cooldown.as_secs(), DEFAULT_STORE_COOLDOWN_SECS);
/// ```
pub const DEFAULT_STORE_COOLDOWN_SECS: u64 = 5;

/// What identifies one shared token: the same (authority, app, tenant, scope) as the in-memory
/// cache, plus the store's namespace. Its [`digest`](StoreKey::digest) names the entry.
///
/// ```
/// use ficx::store::StoreKey;
/// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0",
///     "contoso.onmicrosoft.com", "https://graph.microsoft.com/.default");
/// assert_eq!(key.tenant(), "contoso.onmicrosoft.com");
/// assert!(key.digest().chars().all(|c| c.is_ascii_hexdigit())); // names the entry, reveals nothing
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StoreKey {
    authority: String,
    client_id: String,
    tenant: String,
    scope: String,
    digest: String,
}

impl StoreKey {
    /// The key for an app token of `client_id` in `tenant` for `scope` at `authority`.
    ///
    /// ```
    /// use ficx::store::StoreKey;
    /// let a = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// let b = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "northwind.onmicrosoft.com", "api://orders/.default");
    /// assert_ne!(a.digest(), b.digest());
    /// ```
    pub fn new(authority: &str, client_id: &str, tenant: &str, scope: &str) -> Self {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [authority, client_id, tenant, scope] {
            ctx.update(part.as_bytes());
            ctx.update(&[0]);
        }
        let digest = ctx
            .finish()
            .as_ref()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            authority: authority.to_owned(),
            client_id: client_id.to_owned(),
            tenant: tenant.to_owned(),
            scope: scope.to_owned(),
            digest,
        }
    }

    /// 32 hex characters (128 bits of SHA-256 over the four parts): the entry's name in a
    /// store, so keys have a fixed shape and reveal nothing about tenants or scopes.
    ///
    /// ```
    /// use ficx::store::StoreKey;
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// assert_eq!(key.digest().len(), 32);
    /// assert!(!key.digest().contains("contoso"));
    /// ```
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The tenant.
    ///
    /// ```
    /// let key = ficx::store::StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// assert_eq!(key.tenant(), "contoso.onmicrosoft.com");
    /// ```
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The scope.
    ///
    /// ```
    /// let key = ficx::store::StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// assert_eq!(key.scope(), "api://orders/.default");
    /// ```
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreKey")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .field("tenant", &self.tenant)
            .field("scope", &self.scope)
            .field("digest", &self.digest)
            .finish()
    }
}

/// An exchange lease: proof that this process may exchange for a key until the lease expires.
/// The fence value is random per lease, so a holder whose lease expired can neither release
/// nor overwrite a newer holder's.
///
/// ```
/// use ficx::{MemoryStore, TokenStore, store::StoreKey};
/// use std::time::Duration;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::store::StoreError> {
/// let store = MemoryStore::new();
/// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
/// let lease = store.try_lease(&key, Duration::from_secs(10)).await?.expect("free");
/// assert_eq!(lease.digest(), key.digest());
/// store.release(&key, &lease).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Lease {
    digest: String,
    fence: String,
}

impl Lease {
    /// A new lease for `key` with a random 128-bit fence.
    ///
    /// ```
    /// use ficx::store::{Lease, StoreKey};
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// let (a, b) = (Lease::new(&key), Lease::new(&key)); // e.g. inside a TokenStore::try_lease
    /// assert_eq!(a.digest(), b.digest());
    /// assert_ne!(a.fence(), b.fence());
    /// ```
    pub fn new(key: &StoreKey) -> Self {
        let mut bytes = [0u8; 16];
        // SystemRandom only fails when the OS has no entropy source; fall back to fastrand,
        // which is enough for uniqueness (the fence is not a secret).
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
            bytes = fastrand::u128(..).to_le_bytes();
        }
        Self {
            digest: key.digest.clone(),
            fence: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// The digest of the key it is for.
    ///
    /// ```
    /// use ficx::store::{Lease, StoreKey};
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// assert_eq!(Lease::new(&key).digest(), key.digest());
    /// ```
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The fence value (random, unique per lease).
    ///
    /// ```
    /// use ficx::store::{Lease, StoreKey};
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// let fence = Lease::new(&key).fence().to_owned();
    /// assert_eq!(fence.len(), 32); // 128 random bits, hex
    /// ```
    pub fn fence(&self) -> &str {
        &self.fence
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// Why a store call failed. Never contains a token or a key.
///
/// ```
/// use ficx::store::StoreError;
/// let e = StoreError::Unavailable("connection refused".into());
/// assert_eq!(e.to_string(), "store unavailable: connection refused");
/// let e = StoreError::Undecryptable { digest: "6f1c…".into(), reason: "unknown key id \"k0\"".into() };
/// assert!(e.to_string().ends_with("treated as a miss"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or did not answer in time: skip it for a while.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A value was found but could not be decrypted or authenticated (unknown key id, wrong
    /// key, tampered or truncated value): treated as a miss, never used.
    #[error("stored value for {digest} could not be decrypted ({reason}); treated as a miss")]
    Undecryptable {
        /// The entry's digest.
        digest: String,
        /// What failed (e.g. `unknown key id "k0"`, `authentication failed`).
        reason: String,
    },
    /// Anything else the store reported.
    #[error("store error: {0}")]
    Other(String),
}

/// A shared token store. Implementations must be safe to call from many tasks at once and
/// must bound nothing themselves: the caller wraps each call in a timeout and treats an error
/// as "exchange directly".
///
/// The contract, which [`MemoryStore`] and `RedisStore` keep:
/// - `get` returns a value only if it was `put` for the same key and its TTL has not passed.
/// - `try_lease` succeeds for at most one holder per key at a time; a lease ends at `release`
///   by its holder or when its TTL passes.
/// - `put` with a lease writes only while that lease is still held, or when no value exists;
///   without a lease it always writes.
///
/// ```
/// use ficx::{AccessToken, MemoryStore, TokenStore, store::StoreKey};
/// use std::time::{Duration, SystemTime};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::store::StoreError> {
/// let store = MemoryStore::new(); // or RedisStore, or your own implementation
/// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
/// let token = AccessToken::new("eyJ…".to_string().into(), SystemTime::now() + Duration::from_secs(3599), None, "Bearer");
/// let lease = store.try_lease(&key, Duration::from_secs(10)).await?.expect("no other holder");
/// store.put(&key, &token, Duration::from_secs(3599), Some(&lease)).await?;
/// store.release(&key, &lease).await?;
/// assert_eq!(store.get(&key).await?.map(|t| t.expires_on_unix()), Some(token.expires_on_unix()));
/// # Ok(()) }
/// ```
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// The stored token for `key`, if any.
    ///
    /// ```
    /// use ficx::{AccessToken, MemoryStore, TokenStore, store::StoreKey};
    /// use std::time::{Duration, SystemTime};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// assert!(store.get(&key).await?.is_none());
    /// let token = AccessToken::new("eyJ…".to_string().into(), SystemTime::now() + Duration::from_secs(600), None, "Bearer");
    /// store.put(&key, &token, Duration::from_secs(600), None).await?;
    /// assert_eq!(store.get(&key).await?.unwrap().token_type(), "Bearer");
    /// # Ok(()) }
    /// ```
    fn get<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>>;

    /// Store `token` for `key` for `ttl` (fenced by `lease` when given).
    ///
    /// ```
    /// use ficx::{AccessToken, MemoryStore, TokenStore, store::StoreKey};
    /// # use std::time::{Duration, SystemTime};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// let token = |secs| AccessToken::new("eyJ…".to_string().into(), SystemTime::UNIX_EPOCH + Duration::from_secs(secs), None, "Bearer");
    /// let lease = store.try_lease(&key, Duration::from_secs(10)).await?.unwrap();
    /// store.put(&key, &token(4_000_000_000), Duration::from_secs(600), Some(&lease)).await?;
    /// store.release(&key, &lease).await?;
    /// // A lease that is no longer held cannot overwrite what its holder wrote.
    /// store.put(&key, &token(4_100_000_000), Duration::from_secs(600), Some(&lease)).await?;
    /// assert_eq!(store.get(&key).await?.unwrap().expires_on_unix(), 4_000_000_000);
    /// # Ok(()) }
    /// ```
    fn put<'a>(
        &'a self,
        key: &'a StoreKey,
        token: &'a AccessToken,
        ttl: Duration,
        lease: Option<&'a Lease>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Take the exchange lease for `key` for `ttl`: `Some` when this caller holds it now,
    /// `None` when another holder does.
    ///
    /// ```
    /// use ficx::{MemoryStore, TokenStore, store::StoreKey};
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// let mine = store.try_lease(&key, Duration::from_secs(10)).await?;
    /// assert!(mine.is_some());
    /// assert!(store.try_lease(&key, Duration::from_secs(10)).await?.is_none()); // held: wait for its token
    /// # Ok(()) }
    /// ```
    fn try_lease<'a>(
        &'a self,
        key: &'a StoreKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<Lease>, StoreError>>;

    /// Give the lease back (a no-op if it already expired or another holder has the key now).
    ///
    /// ```
    /// use ficx::{MemoryStore, TokenStore, store::StoreKey};
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// let lease = store.try_lease(&key, Duration::from_secs(10)).await?.unwrap();
    /// store.release(&key, &lease).await?;
    /// assert!(store.try_lease(&key, Duration::from_secs(10)).await?.is_some()); // free again
    /// # Ok(()) }
    /// ```
    fn release<'a>(
        &'a self,
        key: &'a StoreKey,
        lease: &'a Lease,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// How the exchanger uses a shared store.
///
/// ```
/// use ficx::StoreOptions;
/// use std::time::Duration;
/// let options = StoreOptions::default().lease_wait(Duration::from_secs(2));
/// assert_eq!(options.lease_wait, Duration::from_secs(2));
/// assert_eq!(options.lease_ttl, StoreOptions::default().lease_ttl);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Bound on each store call ([`DEFAULT_STORE_OP_TIMEOUT_MS`]).
    pub op_timeout: Duration,
    /// Lifetime of an exchange lease ([`DEFAULT_LEASE_TTL_SECS`]).
    pub lease_ttl: Duration,
    /// Longest wait for another replica's exchange ([`DEFAULT_LEASE_WAIT_SECS`]).
    pub lease_wait: Duration,
    /// How long the store is skipped after it failed ([`DEFAULT_STORE_COOLDOWN_SECS`]).
    pub cooldown: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            op_timeout: Duration::from_millis(DEFAULT_STORE_OP_TIMEOUT_MS),
            lease_ttl: Duration::from_secs(DEFAULT_LEASE_TTL_SECS),
            lease_wait: Duration::from_secs(DEFAULT_LEASE_WAIT_SECS),
            cooldown: Duration::from_secs(DEFAULT_STORE_COOLDOWN_SECS),
        }
    }
}

impl StoreOptions {
    /// Set the bound on each store call.
    ///
    /// ```
    /// use std::time::Duration;
    /// // A store slower than this is skipped and the exchange goes direct.
    /// let options = ficx::StoreOptions::default().op_timeout(Duration::from_millis(100));
    /// assert_eq!(options.op_timeout, Duration::from_millis(100));
    /// ```
    #[must_use]
    pub fn op_timeout(mut self, d: Duration) -> Self {
        self.op_timeout = d;
        self
    }

    /// Set the lease lifetime.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = ficx::StoreOptions::default().lease_ttl(Duration::from_secs(30)); // slow exchanges
    /// assert_eq!(options.lease_ttl, Duration::from_secs(30));
    /// ```
    #[must_use]
    pub fn lease_ttl(mut self, d: Duration) -> Self {
        self.lease_ttl = d;
        self
    }

    /// Set the longest wait for another replica's exchange.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = ficx::StoreOptions::default().lease_wait(Duration::from_secs(1));
    /// assert_eq!(options.lease_wait, Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn lease_wait(mut self, d: Duration) -> Self {
        self.lease_wait = d;
        self
    }

    /// Set how long the store is skipped after a failure.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = ficx::StoreOptions::default().cooldown(Duration::from_secs(30));
    /// assert_eq!(options.cooldown, Duration::from_secs(30));
    /// ```
    #[must_use]
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }
}

/// Time left until `t`, or zero.
pub(crate) fn until(t: SystemTime, now: SystemTime) -> Duration {
    t.duration_since(now).unwrap_or_default()
}
