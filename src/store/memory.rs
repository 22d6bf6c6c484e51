//! [`MemoryStore`]: a [`TokenStore`] in this process's memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::{Lease, StoreError, StoreKey, TokenStore};
use crate::clock::{SharedClock, SystemClock};
use crate::token::AccessToken;

/// A [`TokenStore`] in memory: shares tokens between [`Exchanger`](crate::Exchanger)s of one
/// process (e.g. one per configuration reload) and stands in for Redis in tests. Clones share
/// the same entries.
///
/// ```
/// use ficx::store::MemoryStore;
/// # fn run() -> Result<(), ficx::Error> {
/// let shared = MemoryStore::new();
/// let a = ficx::Exchanger::builder()
///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .token_store(shared.clone())
///     .build()?;
/// let b = ficx::Exchanger::builder()
///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .token_store(shared)
///     .build()?; // a and b exchange once per (tenant, scope) between them
/// # let _ = (a, b); Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<State>>,
    clock: SharedClock,
}

#[derive(Default)]
struct State {
    values: HashMap<String, (AccessToken, SystemTime)>,
    leases: HashMap<String, (String, SystemTime)>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("MemoryStore")
            .field("values", &s.values.len())
            .field("leases", &s.leases.len())
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store on the system clock.
    ///
    /// ```
    /// let store = ficx::MemoryStore::new();
    /// assert!(store.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose TTLs run on `clock` (tests).
    ///
    /// ```
    /// use ficx::{AccessToken, ManualClock, MemoryStore, TokenStore, store::StoreKey};
    /// use std::{sync::Arc, time::Duration};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::store::StoreError> {
    /// let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    /// let store = MemoryStore::with_clock(clock.clone());
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// let token = AccessToken::new("eyJ…".to_string().into(), std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_060), None, "Bearer");
    /// store.put(&key, &token, Duration::from_secs(60), None).await?;
    /// clock.advance(Duration::from_secs(61));
    /// assert!(store.get(&key).await?.is_none()); // the TTL ran out on the manual clock
    /// # Ok(()) }
    /// ```
    pub fn with_clock(clock: SharedClock) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State::default())),
            clock,
        }
    }

    /// Entries whose TTL has not passed.
    ///
    /// ```
    /// use ficx::{AccessToken, MemoryStore, TokenStore, store::StoreKey};
    /// use std::time::{Duration, SystemTime};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// let token = AccessToken::new("eyJ…".to_string().into(), SystemTime::now() + Duration::from_secs(600), None, "Bearer");
    /// store.put(&key, &token, Duration::from_secs(600), None).await?;
    /// assert_eq!(store.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        let now = self.clock.now();
        let s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        s.values.values().filter(|(_, until)| now < *until).count()
    }

    /// True when [`len`](Self::len) is 0.
    ///
    /// ```
    /// let store = ficx::MemoryStore::new();
    /// let clone = store.clone(); // clones share the entries
    /// assert!(store.is_empty() && clone.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn held(leases: &HashMap<String, (String, SystemTime)>, digest: &str, now: SystemTime) -> bool {
    leases.get(digest).is_some_and(|(_, until)| now < *until)
}

impl TokenStore for MemoryStore {
    fn get<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        let now = self.clock.now();
        let s = self.state();
        let hit = s
            .values
            .get(key.digest())
            .filter(|(_, until)| now < *until)
            .map(|(t, _)| t.clone());
        async move { Ok(hit) }.boxed()
    }

    fn put<'a>(
        &'a self,
        key: &'a StoreKey,
        token: &'a AccessToken,
        ttl: Duration,
        lease: Option<&'a Lease>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let now = self.clock.now();
        let mut s = self.state();
        let exists = s
            .values
            .get(key.digest())
            .is_some_and(|(_, until)| now < *until);
        let allowed = match lease {
            None => true,
            Some(l) => {
                !exists
                    || s.leases
                        .get(key.digest())
                        .is_some_and(|(fence, until)| fence == l.fence() && now < *until)
            }
        };
        if allowed {
            s.values
                .insert(key.digest().to_owned(), (token.clone(), now + ttl));
        }
        async { Ok(()) }.boxed()
    }

    fn try_lease<'a>(
        &'a self,
        key: &'a StoreKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<Lease>, StoreError>> {
        let now = self.clock.now();
        let mut s = self.state();
        let out = if held(&s.leases, key.digest(), now) {
            None
        } else {
            let lease = Lease::new(key);
            s.leases.insert(
                key.digest().to_owned(),
                (lease.fence().to_owned(), now + ttl),
            );
            Some(lease)
        };
        async move { Ok(out) }.boxed()
    }

    fn release<'a>(
        &'a self,
        key: &'a StoreKey,
        lease: &'a Lease,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut s = self.state();
        if s.leases
            .get(key.digest())
            .is_some_and(|(fence, _)| fence == lease.fence())
        {
            s.leases.remove(key.digest());
        }
        async { Ok(()) }.boxed()
    }
}
