//! The cross-process protocol over any [`TokenStore`]: read, lease, wait, fall back. Knows
//! nothing of the exchange: it is handed the exchange as a future and runs it at most once.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::{Lease, StoreError, StoreKey, StoreOptions, TokenStore, until};
use crate::cache::{CachePolicy, schedule};
use crate::clock::{SharedClock, unix};
use crate::error::Error;
use crate::token::AccessToken;

/// First pause while waiting for another replica's exchange; doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(20);
const MAX_POLL: Duration = Duration::from_millis(200);

/// What the shared store did for one exchanger (summed over tenants).
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// # let builder = emu.exchanger_builder();
/// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
/// let exchanger = builder.token_store(ficx::MemoryStore::new()).build()?;
/// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
/// let stats: ficx::StoreStats = exchanger.stats().store;
/// assert_eq!((stats.misses, stats.leases, stats.writes, stats.hits), (1, 1, 1, 0)); // this replica exchanged for the fleet
/// assert_eq!(stats.errors, 0);
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStats {
    /// Fetches answered by a usable token from the store (including after waiting).
    pub hits: u64,
    /// Store reads that found nothing usable.
    pub misses: u64,
    /// Tokens written to the store.
    pub writes: u64,
    /// Exchange leases won (this process exchanged for the fleet).
    pub leases: u64,
    /// Fetches that waited on another holder's lease.
    pub waits: u64,
    /// Waits that ran out (`lease_wait`) and exchanged directly.
    pub wait_timeouts: u64,
    /// Store calls that failed or timed out (each one falls back to a direct exchange and
    /// starts a cooldown).
    pub errors: u64,
    /// Values that failed to decrypt or authenticate (treated as misses).
    pub undecryptable: u64,
    /// Fetches that skipped the store during a cooldown.
    pub bypassed: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    writes: AtomicU64,
    leases: AtomicU64,
    waits: AtomicU64,
    wait_timeouts: AtomicU64,
    errors: AtomicU64,
    undecryptable: AtomicU64,
    bypassed: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// A store with its options, breaker and counters, as the exchanger uses it.
pub(crate) struct SharedStore {
    store: Arc<dyn TokenStore>,
    options: StoreOptions,
    clock: SharedClock,
    policy: CachePolicy,
    /// Unix seconds until which the store is skipped.
    cooling_until: AtomicI64,
    counters: Counters,
}

impl fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedStore")
            .field("store", &self.store)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SharedStore {
    pub(crate) fn new(
        store: Arc<dyn TokenStore>,
        options: StoreOptions,
        clock: SharedClock,
        policy: CachePolicy,
    ) -> Self {
        Self {
            store,
            options,
            clock,
            policy,
            cooling_until: AtomicI64::new(i64::MIN),
            counters: Counters::default(),
        }
    }

    pub(crate) fn stats(&self) -> StoreStats {
        let c = &self.counters;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StoreStats {
            hits: l(&c.hits),
            misses: l(&c.misses),
            writes: l(&c.writes),
            leases: l(&c.leases),
            waits: l(&c.waits),
            wait_timeouts: l(&c.wait_timeouts),
            errors: l(&c.errors),
            undecryptable: l(&c.undecryptable),
            bypassed: l(&c.bypassed),
        }
    }

    /// The token for `key`: from the store when it holds a usable one, else from `exchange`
    /// (run at most once), shared through the store for the other replicas.
    pub(crate) async fn fetch(
        &self,
        key: &StoreKey,
        exchange: impl Future<Output = Result<AccessToken, Error>>,
    ) -> Result<AccessToken, Error> {
        // Whichever path runs the exchange, its token carries the fleet's refresh point.
        let exchange = async { exchange.await.map(|t| self.stamp(t)) };
        if self.cooling() {
            bump(&self.counters.bypassed);
            return exchange.await;
        }
        match self.read(key).await {
            Read::Hit(t) => return Ok(t),
            Read::Down => return exchange.await,
            Read::Miss => {}
        }
        let deadline = self.clock.now() + self.options.lease_wait;
        let mut pause = FIRST_POLL;
        let mut waiting = false;
        loop {
            match self
                .call(self.store.try_lease(key, self.options.lease_ttl))
                .await
            {
                Err(_) => return exchange.await,
                Ok(Some(lease)) => return self.exchange_leased(key, lease, exchange).await,
                Ok(None) => {}
            }
            if !waiting {
                waiting = true;
                bump(&self.counters.waits);
                tracing::debug!(
                    tenant = key.tenant(),
                    scope = key.scope(),
                    "another replica is exchanging; waiting for its token"
                );
            }
            let now = self.clock.now();
            if now >= deadline {
                bump(&self.counters.wait_timeouts);
                tracing::warn!(
                    tenant = key.tenant(),
                    scope = key.scope(),
                    waited_ms = self.options.lease_wait.as_millis() as u64,
                    "the replica holding the exchange lease did not share a token in time; exchanging directly"
                );
                let r = exchange.await;
                if let Ok(t) = &r {
                    self.write(key, t, None).await;
                }
                return r;
            }
            self.clock.sleep(pause.min(until(deadline, now))).await;
            pause = (pause * 2).min(MAX_POLL);
            match self.read(key).await {
                Read::Hit(t) => return Ok(t),
                Read::Down => return exchange.await,
                Read::Miss => {}
            }
        }
    }

    async fn exchange_leased(
        &self,
        key: &StoreKey,
        lease: Lease,
        exchange: impl Future<Output = Result<AccessToken, Error>>,
    ) -> Result<AccessToken, Error> {
        bump(&self.counters.leases);
        // Another replica may have written between our read and our lease.
        if let Ok(Some(t)) = self.call(self.store.get(key)).await
            && self.usable(&t)
        {
            bump(&self.counters.hits);
            let _ = self.call(self.store.release(key, &lease)).await;
            return Ok(t);
        }
        let r = exchange.await; // stamped by `fetch`
        if let Ok(t) = &r {
            self.write(key, t, Some(&lease)).await;
        }
        let _ = self.call(self.store.release(key, &lease)).await;
        r
    }

    async fn read(&self, key: &StoreKey) -> Read {
        match self.call(self.store.get(key)).await {
            Ok(Some(t)) if self.usable(&t) => {
                bump(&self.counters.hits);
                tracing::debug!(
                    tenant = key.tenant(),
                    scope = key.scope(),
                    "token from the shared store"
                );
                Read::Hit(t)
            }
            Ok(_) | Err(StoreError::Undecryptable { .. }) => {
                bump(&self.counters.misses);
                Read::Miss
            }
            Err(_) => Read::Down,
        }
    }

    async fn write(&self, key: &StoreKey, token: &AccessToken, lease: Option<&Lease>) {
        let now = self.clock.now();
        let Some(refresh) = token.refresh_on().filter(|r| *r > now) else {
            return;
        };
        // The entry lives exactly as long as the token is usable by the others: until its
        // refresh point, which is well before expiry.
        let ttl = until(refresh, now).max(Duration::from_secs(1));
        if self
            .call(self.store.put(key, token, ttl, lease))
            .await
            .is_ok()
        {
            bump(&self.counters.writes);
        }
    }

    /// Fix the refresh point once, where the token was fetched, so that every replica
    /// reading it from the store refreshes at the same moment (not at its own half-life).
    fn stamp(&self, token: AccessToken) -> AccessToken {
        let (refresh_at, _) = schedule(&token, self.clock.now(), &self.policy);
        token.with_refresh_on(Some(refresh_at))
    }

    /// A token from the store is usable until its refresh point: after it, the replicas
    /// refresh (one of them, under a lease).
    fn usable(&self, token: &AccessToken) -> bool {
        let now = self.clock.now();
        let refresh = token.refresh_on().unwrap_or_else(|| {
            token
                .expires_on()
                .checked_sub(self.policy.expiry_buffer)
                .unwrap_or(token.expires_on())
        });
        now < refresh && now < token.expires_on()
    }

    fn cooling(&self) -> bool {
        unix(self.clock.now()) < self.cooling_until.load(Ordering::Acquire)
    }

    /// One bounded store call; failures are counted, logged, and start a cooldown.
    async fn call<T>(&self, fut: BoxFuture<'_, Result<T, StoreError>>) -> Result<T, StoreError> {
        let r = match tokio::time::timeout(self.options.op_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Unavailable(format!(
                "no answer within {} ms",
                self.options.op_timeout.as_millis()
            ))),
        };
        if let Err(e) = &r {
            match e {
                StoreError::Undecryptable { .. } => {
                    bump(&self.counters.undecryptable);
                    tracing::warn!(error = %e, "shared token store");
                }
                _ => {
                    bump(&self.counters.errors);
                    let until = self.clock.now() + self.options.cooldown;
                    self.cooling_until.store(unix(until), Ordering::Release);
                    tracing::warn!(error = %e, cooldown_s = self.options.cooldown.as_secs(), "shared token store failed; exchanging directly and skipping the store for the cooldown");
                }
            }
        }
        r
    }
}

enum Read {
    Hit(AccessToken),
    Miss,
    Down,
}
