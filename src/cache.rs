//! The token cache: generic over its key, knowing neither MI nor Entra. One instance holds MI
//! tokens (keyed by audience), and one per tenant holds exchanged app tokens (keyed by scope).
//!
//! **Hit path.** The key map is an immutable hash map behind an `ArcSwap` (copy-on-write on the
//! rare insert), and each slot's current token sits behind another `ArcSwap`. A hit is two
//! atomic loads, one clock read and one reference-count increment on the calling core's fork of
//! the token (each entry keeps up to eight, each on its own cache line): no lock, no copy of the
//! token, no counter shared between cores, so concurrent hits scale with cores.
//!
//! **Timeline of a token** (lifetime `L` from fetch to `expires_on`):
//!
//! | when | what a caller gets |
//! |---|---|
//! | before `refresh_at` | the cached token (a hit) |
//! | `refresh_at` … `stale_after` | the cached token at once; the first such caller starts one background refresh |
//! | after `stale_after` | waits for the (single) fetch; if that fails while the old token is still valid, gets the old token |
//!
//! `refresh_at` is the server's `refresh_in` when given, else half-life when `L` ≥ 2 h
//! ([`HALF_LIFE_MIN_LIFETIME_SECS`]), else `expires_on` − buffer; never later than
//! `expires_on` − buffer, where buffer = min([`DEFAULT_EXPIRY_BUFFER_SECS`], `L`/2).
//! `stale_after` = `expires_on` − min([`STALE_MARGIN_SECS`], `L`/10).
//!
//! **Single flight.** A miss starts one fetch per key as a spawned task; every concurrent caller
//! awaits the same shared outcome, and a caller dropped mid-flight cancels nothing. A failed
//! background refresh keeps the old token and backs off (doubling from
//! [`REFRESH_FAILURE_INITIAL_BACKOFF_SECS`] to [`REFRESH_FAILURE_MAX_BACKOFF_SECS`], at least
//! the server's `Retry-After`), so a failing endpoint never sees a storm. Failures are not cached,
//! except that a cold key whose fetch failed with a `Retry-After` fails fast until then.

use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use arc_swap::{ArcSwap, ArcSwapOption};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use hashbrown::{Equivalent, HashMap};

use crate::clock::{SharedClock, from_unix, unix};
use crate::error::Error;
use crate::token::AccessToken;

/// Latest refresh point before expiry, and the buffer ficx keeps ("treated as expired").
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
/// use ficx::cache::DEFAULT_EXPIRY_BUFFER_SECS;
/// // The emulator's app tokens live 3599 s (under 2 h, no `refresh_in`): refreshed 5 min early.
/// let token = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
/// let early = token.expires_on().duration_since(token.refresh_on().unwrap())?;
/// assert_eq!(early.as_secs(), DEFAULT_EXPIRY_BUFFER_SECS);
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
pub const DEFAULT_EXPIRY_BUFFER_SECS: u64 = 300;
/// Tokens living at least this long refresh at half-life.
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{Emulator, EmulatorConfig};
/// # use std::sync::Arc;
/// # let clock = Arc::new(ficx::ManualClock::at_unix(std::time::UNIX_EPOCH.elapsed()?.as_secs()));
/// # let emu = Emulator::builder(EmulatorConfig::default_config()).clock(clock.clone()).start().await?;
/// # let exchanger = emu.exchanger_builder()
/// #     .clock(clock.clone())
/// #     .build()?;
/// // `exchanger` and `emu` (a running ficx::emulator) share the ManualClock `clock`
/// use ficx::cache::HALF_LIFE_MIN_LIFETIME_SECS;
/// let mi_token = exchanger.assertion().await?; // lives 24 h in the emulator
/// let lifetime = mi_token.remaining(clock.now());
/// assert!(lifetime.as_secs() >= HALF_LIFE_MIN_LIFETIME_SECS);
/// assert_eq!(mi_token.expires_on().duration_since(mi_token.refresh_on().unwrap())?, lifetime / 2);
/// # use ficx::Clock as _;
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
pub const HALF_LIFE_MIN_LIFETIME_SECS: u64 = 7200;
/// A token is served past its refresh point only until this close to expiry.
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
/// use ficx::cache::STALE_MARGIN_SECS;
/// let first = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
/// // Past the refresh point, still outside the stale margin: the cached token comes back at once
/// // (one background refresh starts).
/// clock.advance(first.remaining(clock.now()) - Duration::from_secs(STALE_MARGIN_SECS + 10));
/// let again = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
/// assert_eq!(again.expires_on(), first.expires_on());
/// # use ficx::Clock as _;
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
pub const STALE_MARGIN_SECS: u64 = 30;
/// First wait after a failed background refresh.
///
/// ```
/// use ficx::cache::{REFRESH_FAILURE_INITIAL_BACKOFF_SECS as FIRST, REFRESH_FAILURE_MAX_BACKOFF_SECS as MAX};
/// // Waits between failed background refreshes of one key: doubling, capped.
/// let waits: Vec<u64> = std::iter::successors(Some(FIRST), |w| Some((w * 2).min(MAX))).take(8).collect();
/// assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300]);
/// ```
pub const REFRESH_FAILURE_INITIAL_BACKOFF_SECS: u64 = 5;
/// Longest wait between failed background refreshes.
///
/// ```
/// use ficx::cache::{DEFAULT_EXPIRY_BUFFER_SECS, REFRESH_FAILURE_MAX_BACKOFF_SECS};
/// // A failing endpoint is retried at least once inside the last refresh window.
/// assert!(REFRESH_FAILURE_MAX_BACKOFF_SECS <= DEFAULT_EXPIRY_BUFFER_SECS);
/// ```
pub const REFRESH_FAILURE_MAX_BACKOFF_SECS: u64 = 300;

/// Cache timing.
#[derive(Debug, Clone)]
pub(crate) struct CachePolicy {
    pub(crate) expiry_buffer: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            expiry_buffer: Duration::from_secs(DEFAULT_EXPIRY_BUFFER_SECS),
        }
    }
}

/// A copy-on-write map: lock-free reads, serialized rare inserts.
pub(crate) struct CowMap<K, V> {
    map: ArcSwap<HashMap<K, Arc<V>>>,
    write: Mutex<()>,
}

impl<K, V> fmt::Debug for CowMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CowMap")
            .field("len", &self.map.load().len())
            .finish()
    }
}

impl<K: Hash + Eq + Clone, V> Default for CowMap<K, V> {
    fn default() -> Self {
        Self {
            map: ArcSwap::from_pointee(HashMap::new()),
            write: Mutex::new(()),
        }
    }
}

impl<K: Hash + Eq + Clone, V> CowMap<K, V> {
    /// Look up and clone the value's `Arc`.
    pub(crate) fn get<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<Arc<V>> {
        self.map.load().get(key).cloned()
    }

    /// Run `f` on the value without cloning its `Arc` (the hit path).
    pub(crate) fn with<Q: Hash + Equivalent<K> + ?Sized, R>(
        &self,
        key: &Q,
        f: impl FnOnce(Option<&Arc<V>>) -> R,
    ) -> R {
        let map = self.map.load();
        f(map.get(key))
    }

    /// The value for `key`, inserting `make()` when absent.
    pub(crate) fn get_or_insert(&self, key: K, make: impl FnOnce() -> V) -> Arc<V> {
        if let Some(v) = self.get(&key) {
            return v;
        }
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.map.load_full();
        if let Some(v) = current.get(&key) {
            return v.clone();
        }
        let v = Arc::new(make());
        let mut next = HashMap::with_capacity(current.len() + 1);
        next.extend(current.iter().map(|(k, v)| (k.clone(), v.clone())));
        next.insert(key, v.clone());
        self.map.store(Arc::new(next));
        v
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.map.load().len()
    }

    /// A snapshot of all values.
    pub(crate) fn values(&self) -> Vec<Arc<V>> {
        self.map.load().values().cloned().collect()
    }
}

type Outcome = Result<AccessToken, Error>;
type Flight = Shared<BoxFuture<'static, Outcome>>;

/// What a cache entry holds.
struct Entry {
    token: AccessToken,
    /// Forks of `token` handed out by hits, one per core (see [`AccessToken::fork`]).
    forks: Box<[AccessToken]>,
    refresh_at: SystemTime,
    stale_after: SystemTime,
}

/// Most forks an entry keeps (a fork costs 128 bytes).
const MAX_FORKS: usize = 8;

impl Entry {
    fn new(token: AccessToken, refresh_at: SystemTime, stale_after: SystemTime) -> Self {
        static FORKS: OnceLock<usize> = OnceLock::new();
        let n = *FORKS.get_or_init(|| {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_FORKS))
        });
        let forks = (0..n).map(|_| token.fork()).collect();
        Self {
            token,
            forks,
            refresh_at,
            stale_after,
        }
    }

    /// The token for this thread's fork: a reference-count increment no other core touches
    /// (unless more threads than forks hit the same key).
    fn hand_out(&self) -> AccessToken {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local!(static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed));
        self.fork(MINE.with(|i| *i))
    }

    /// Fork `i` (modulo the number of forks).
    fn fork(&self, i: usize) -> AccessToken {
        self.forks[i % self.forks.len()].clone()
    }
}

/// One key's state.
pub(crate) struct Slot {
    current: ArcSwapOption<Entry>,
    flight: Mutex<Option<Flight>>,
    failures: AtomicU32,
    /// Unix millis before which no background refresh starts (after failures).
    next_attempt_ms: AtomicI64,
    /// Cold-key fail-fast until (Retry-After), with the error to repeat.
    blocked: Mutex<Option<(SystemTime, Error)>>,
}

impl Slot {
    fn new() -> Self {
        Self {
            current: ArcSwapOption::empty(),
            flight: Mutex::new(None),
            failures: AtomicU32::new(0),
            next_attempt_ms: AtomicI64::new(i64::MIN),
            blocked: Mutex::new(None),
        }
    }
}

/// Counters of cache activity (the hit path is deliberately not counted: a shared counter
/// there would cost more than the hit itself).
#[derive(Debug, Default)]
pub(crate) struct CacheStats {
    pub(crate) fetches: AtomicU64,
    pub(crate) background_refreshes: AtomicU64,
    pub(crate) failed_fetches: AtomicU64,
    pub(crate) stale_served: AtomicU64,
}

/// A token cache keyed by `K`.
pub(crate) struct TokenCache<K> {
    slots: CowMap<K, Slot>,
    clock: SharedClock,
    policy: CachePolicy,
    pub(crate) stats: Arc<CacheStats>,
}

impl<K> fmt::Debug for TokenCache<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("keys", &self.slots.map.load().len())
            .field("policy", &self.policy)
            .finish()
    }
}

pub(crate) fn schedule(
    token: &AccessToken,
    fetched_at: SystemTime,
    policy: &CachePolicy,
) -> (SystemTime, SystemTime) {
    let expires = token.expires_on();
    let lifetime = expires.duration_since(fetched_at).unwrap_or_default();
    let buffer = policy.expiry_buffer.min(lifetime / 2);
    let latest = expires - buffer;
    let planned = match token.refresh_on() {
        Some(r) => r,
        None if lifetime >= Duration::from_secs(HALF_LIFE_MIN_LIFETIME_SECS) => {
            fetched_at + lifetime / 2
        }
        None => latest,
    };
    let refresh_at = planned.min(latest);
    let margin = Duration::from_secs(STALE_MARGIN_SECS).min(lifetime / 10);
    (refresh_at, expires - margin)
}

fn failure_backoff(failures: u32, retry_after: Option<Duration>) -> Duration {
    let exp = Duration::from_secs(REFRESH_FAILURE_INITIAL_BACKOFF_SECS)
        .saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let d = exp.min(Duration::from_secs(REFRESH_FAILURE_MAX_BACKOFF_SECS));
    let jittered = d.mul_f64(1.0 - 0.2 * fastrand::f64());
    jittered.max(retry_after.unwrap_or_default())
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> TokenCache<K> {
    pub(crate) fn new(clock: SharedClock, policy: CachePolicy) -> Self {
        Self {
            slots: CowMap::default(),
            clock,
            policy,
            stats: Arc::new(CacheStats::default()),
        }
    }

    /// The cached token for `key` if it is fresh (before its refresh point); never blocks.
    pub(crate) fn peek<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<AccessToken> {
        let now = self.clock.now();
        self.slots.with(key, |slot| {
            let slot = slot?;
            let cur = slot.current.load();
            cur.as_ref()
                .filter(|e| now < e.refresh_at)
                .map(|e| e.hand_out())
        })
    }

    /// The token for `key`: cached, or fetched once for all concurrent callers by `fetch`.
    pub(crate) async fn get<Q, F>(
        &self,
        key: &Q,
        to_owned: impl FnOnce() -> K,
        fetch: F,
    ) -> Result<AccessToken, Error>
    where
        Q: Hash + Equivalent<K> + ?Sized,
        F: FnOnce() -> BoxFuture<'static, Outcome> + Send + 'static,
    {
        let now = self.clock.now();
        // Hit path: no lock, no Arc clone.
        let slot = self.slots.with(key, |slot| match slot {
            Some(slot) => {
                let cur = slot.current.load();
                match cur.as_ref() {
                    Some(e) if now < e.refresh_at => Err(e.hand_out()),
                    _ => Ok(Some(slot.clone())),
                }
            }
            None => Ok(None),
        });
        let slot = match slot {
            Err(hit) => {
                tracing::trace!("cache hit");
                return Ok(hit);
            }
            Ok(Some(slot)) => slot,
            Ok(None) => self.slots.get_or_insert(to_owned(), Slot::new),
        };
        self.slow(slot, now, fetch).await
    }

    async fn slow<F>(&self, slot: Arc<Slot>, now: SystemTime, fetch: F) -> Outcome
    where
        F: FnOnce() -> BoxFuture<'static, Outcome> + Send + 'static,
    {
        if let Some(e) = slot.current.load_full() {
            if now < e.refresh_at {
                return Ok(e.hand_out());
            }
            if now < e.stale_after {
                if now >= from_unix_ms(slot.next_attempt_ms.load(Ordering::Acquire)) {
                    let (_, started) = self.flight(&slot, fetch, true);
                    if started {
                        tracing::debug!("refresh-ahead started in the background");
                    }
                }
                return Ok(e.hand_out());
            }
        }
        if let Some(err) = self.blocked(&slot, now) {
            tracing::debug!(error = %err, "cache miss inside a Retry-After window: failing fast");
            return Err(err);
        }
        let (flight, started) = self.flight(&slot, fetch, false);
        if started {
            tracing::debug!("cache miss: fetching");
        } else {
            tracing::trace!("cache miss: joining the fetch in flight");
        }
        // The shared flight keeps its outcome even when it finished before this caller joined.
        let outcome = flight.await;
        match outcome {
            Ok(t) => Ok(t),
            Err(err) => {
                // Network failures never lose a still-valid token.
                let now = self.clock.now();
                match slot.current.load_full() {
                    Some(e) if now < e.token.expires_on() => {
                        self.stats.stale_served.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %err, "refresh failed; serving the still-valid cached token");
                        Ok(e.hand_out())
                    }
                    _ => Err(err),
                }
            }
        }
    }

    fn blocked(&self, slot: &Slot, now: SystemTime) -> Option<Error> {
        let mut b = slot.blocked.lock().unwrap_or_else(|p| p.into_inner());
        match &*b {
            Some((until, err)) if now < *until => Some(err.clone()),
            Some(_) => {
                *b = None;
                None
            }
            None => None,
        }
    }

    /// The fetch in flight for `slot`, started now unless one is running (the `bool` says
    /// whether this call started it). Handed out under the lock, so it cannot be missed.
    fn flight<F>(&self, slot: &Arc<Slot>, fetch: F, background: bool) -> (Flight, bool)
    where
        F: FnOnce() -> BoxFuture<'static, Outcome> + Send + 'static,
    {
        let mut guard = slot.flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = guard.as_ref() {
            return (f.clone(), false);
        }
        // A flight may have finished (and stored its token) since the caller looked: the task
        // stores before it clears `flight`, so under this lock a fresh token is visible.
        if let Some(e) = slot.current.load_full()
            && self.clock.now() < e.refresh_at
        {
            let token = e.hand_out();
            return (async move { Ok(token) }.boxed().shared(), false);
        }
        let stats = self.stats.clone();
        stats.fetches.fetch_add(1, Ordering::Relaxed);
        if background {
            stats.background_refreshes.fetch_add(1, Ordering::Relaxed);
        }
        let task_slot = slot.clone();
        let clock = self.clock.clone();
        let policy = self.policy.clone();
        let task = tokio::spawn(async move {
            let outcome = fetch().await;
            let now = clock.now();
            let outcome = match outcome {
                Ok(token) => {
                    let (refresh_at, stale_after) = schedule(&token, now, &policy);
                    let token = token.with_refresh_on(Some(refresh_at));
                    task_slot.current.store(Some(Arc::new(Entry::new(
                        token.clone(),
                        refresh_at,
                        stale_after,
                    ))));
                    task_slot.failures.store(0, Ordering::Release);
                    task_slot.next_attempt_ms.store(i64::MIN, Ordering::Release);
                    *task_slot.blocked.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    Ok(token)
                }
                Err(err) => {
                    let n = task_slot.failures.fetch_add(1, Ordering::AcqRel) + 1;
                    let wait = failure_backoff(n, err.retry_after());
                    task_slot
                        .next_attempt_ms
                        .store(unix_ms(now + wait), Ordering::Release);
                    // Counted after the back-off is recorded, so an observer of the counter
                    // sees the back-off in force.
                    stats.failed_fetches.fetch_add(1, Ordering::Release);
                    let has_token = task_slot.current.load().is_some();
                    if !has_token && let Some(ra) = err.retry_after() {
                        *task_slot.blocked.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some((now + ra, err.clone()));
                    }
                    tracing::debug!(failures = n, next_in = ?wait, error = %err, "fetch failed");
                    Err(err)
                }
            };
            *task_slot.flight.lock().unwrap_or_else(|p| p.into_inner()) = None;
            outcome
        });
        let flight: Flight = async move {
            task.await
                .unwrap_or_else(|e| Err(Error::Store(format!("token fetch task failed: {e}"))))
        }
        .boxed()
        .shared();
        *guard = Some(flight.clone());
        (flight, true)
    }

    /// Drop the cached token for `key` if it is the one with this expiry (so concurrent callers
    /// reporting the same stale token cause one refetch, not many).
    pub(crate) fn invalidate_if<Q: Hash + Equivalent<K> + ?Sized>(
        &self,
        key: &Q,
        expires_on: SystemTime,
    ) {
        if let Some(slot) = self.slots.get(key) {
            let cur = slot.current.load_full();
            if cur.is_some_and(|e| e.token.expires_on() == expires_on) {
                slot.current.store(None);
            }
        }
    }
}

fn unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(_) => unix(t) * 1000,
    }
}

fn from_unix_ms(ms: i64) -> SystemTime {
    if ms == i64::MIN {
        return from_unix(i64::MIN / 2000);
    }
    from_unix(ms.div_euclid(1000)) + Duration::from_millis(ms.rem_euclid(1000) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::error::{EntraError, Leg};
    use secrecy::SecretString;
    use std::sync::atomic::AtomicUsize;

    const T0: u64 = 1_800_000_000;

    fn token(now: SystemTime, life: u64, refresh_in: Option<u64>) -> AccessToken {
        AccessToken::new(
            SecretString::from(format!("tok-{}", unix(now))),
            now + Duration::from_secs(life),
            refresh_in.map(|r| now + Duration::from_secs(r)),
            "Bearer",
        )
    }

    fn transient() -> Error {
        Error::Timeout {
            leg: Leg::Exchange,
            url: "u".into(),
            after: Duration::from_secs(1),
        }
    }

    fn throttled(secs: u64) -> Error {
        Error::Exchange(Box::new(EntraError {
            tenant: "t".into(),
            client_id: "c".into(),
            status: 429,
            error: "throttled".into(),
            codes: vec![],
            description: String::new(),
            trace_id: None,
            correlation_id: None,
            timestamp: None,
            error_uri: None,
            retry_after: Some(Duration::from_secs(secs)),
        }))
    }

    struct Fixture {
        clock: Arc<ManualClock>,
        cache: Arc<TokenCache<String>>,
        calls: Arc<AtomicUsize>,
        fail: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Fixture {
        fn new() -> Self {
            let clock = Arc::new(ManualClock::at_unix(T0));
            Self {
                cache: Arc::new(TokenCache::new(clock.clone(), CachePolicy::default())),
                clock,
                calls: Arc::new(AtomicUsize::new(0)),
                fail: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            }
        }

        async fn get(&self, life: u64) -> Outcome {
            let calls = self.calls.clone();
            let clock = self.clock.clone();
            let fail = self.fail.clone();
            self.cache
                .get(
                    "k",
                    || "k".to_string(),
                    move || {
                        async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            if fail.load(Ordering::SeqCst) {
                                Err(transient())
                            } else {
                                Ok(token(clock.now(), life, None))
                            }
                        }
                        .boxed()
                    },
                )
                .await
        }

        async fn settle(&self) {
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
        }
    }

    #[test]
    fn schedules() {
        let p = CachePolicy::default();
        let now = from_unix(T0 as i64);
        let (r, s) = schedule(&token(now, 86_400, None), now, &p);
        assert_eq!(unix(r) - T0 as i64, 43_200);
        assert_eq!(unix(s) - T0 as i64, 86_370);
        let (r, _) = schedule(&token(now, 3_600, None), now, &p);
        assert_eq!(unix(r) - T0 as i64, 3_300);
        let (r, _) = schedule(&token(now, 3_600, Some(1_800)), now, &p);
        assert_eq!(unix(r) - T0 as i64, 1_800);
        let (r, _) = schedule(&token(now, 3_600, Some(3_590)), now, &p);
        assert_eq!(
            unix(r) - T0 as i64,
            3_300,
            "refresh_in never past the buffer"
        );
        let (r, s) = schedule(&token(now, 60, None), now, &p);
        assert_eq!((unix(r) - T0 as i64, unix(s) - T0 as i64), (30, 54));
    }

    #[tokio::test]
    async fn hits_share_the_token_text_without_copying_it() {
        let f = Fixture::new();
        let first = f.get(3600).await.expect("fetch");
        let a = f.get(3600).await.expect("hit");
        let b = f.get(3600).await.expect("hit");
        assert_eq!(f.calls.load(Ordering::SeqCst), 1);
        assert!(std::ptr::eq(a.secret(), first.secret()));
        assert!(std::ptr::eq(a.secret(), b.secret()));
        assert!(a.same_fork(&b), "one thread keeps to one fork");
    }

    #[test]
    fn each_core_gets_a_fork_with_its_own_counter() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(T0);
        let t = token(now, 3600, None);
        let e = Entry::new(t.clone(), now, now);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(e.forks.len(), cores.min(MAX_FORKS));
        for i in 0..e.forks.len() {
            assert!(std::ptr::eq(e.fork(i).secret(), t.secret()), "same text");
            assert!(e.fork(i).same_fork(&e.fork(i + e.forks.len())));
            for j in 0..i {
                assert!(
                    !e.fork(i).same_fork(&e.fork(j)),
                    "forks {i} and {j} share a counter"
                );
            }
        }
        assert!(
            !e.fork(0).same_fork(&t),
            "the fetched token is not one of the forks"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_fetch_once() {
        let f = Arc::new(Fixture::new());
        let mut tasks = Vec::new();
        for _ in 0..500 {
            let f = f.clone();
            tasks.push(tokio::spawn(async move {
                f.get(3600).await.map(|t| t.expires_on())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(f.calls.load(Ordering::SeqCst), 1);
        assert!(f.cache.peek("k").is_some());
    }

    #[tokio::test]
    async fn dropped_caller_does_not_poison() {
        let f = Fixture::new();
        let mut fut = Box::pin(f.get(3600));
        // Poll once, then drop the caller mid-flight.
        assert!(fut.as_mut().now_or_never().is_none());
        drop(fut);
        let t = f.get(3600).await.unwrap();
        assert!(t.remaining(f.clock.now()) > Duration::from_secs(3000));
        assert_eq!(f.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn refresh_ahead_serves_old_token_and_refreshes_once() {
        let f = Fixture::new();
        let first = f.get(3600).await.unwrap();
        f.clock.advance(Duration::from_secs(3_310)); // past refresh_at (3300), before stale (3570)
        let again = f.get(3600).await.unwrap();
        assert_eq!(
            again.expires_on(),
            first.expires_on(),
            "old token served at once"
        );
        for _ in 0..10 {
            let _ = f.get(3600).await.unwrap();
        }
        f.settle().await;
        assert_eq!(f.calls.load(Ordering::SeqCst), 2, "one background refresh");
        let fresh = f.get(3600).await.unwrap();
        assert!(fresh.expires_on() > first.expires_on());
    }

    #[tokio::test]
    async fn failed_refresh_keeps_serving_and_backs_off() {
        let f = Fixture::new();
        let first = f.get(3600).await.unwrap();
        f.fail.store(true, Ordering::SeqCst);
        f.clock.advance(Duration::from_secs(3_310));
        for _ in 0..50 {
            assert_eq!(f.get(3600).await.unwrap().expires_on(), first.expires_on());
            f.settle().await;
        }
        assert_eq!(
            f.calls.load(Ordering::SeqCst),
            2,
            "one failed refresh, then back-off"
        );
        f.clock.advance(Duration::from_secs(6));
        let _ = f.get(3600).await.unwrap();
        f.settle().await;
        assert_eq!(
            f.calls.load(Ordering::SeqCst),
            3,
            "retried after the back-off"
        );
        // Past stale_after: callers wait for a fetch; it fails, but the token is still valid.
        f.clock.advance(Duration::from_secs(260)); // t = 3576 > 3570, < 3600
        let t = f.get(3600).await.unwrap();
        assert_eq!(t.expires_on(), first.expires_on());
        // Truly expired: the error surfaces.
        f.clock.advance(Duration::from_secs(30));
        assert!(f.get(3600).await.is_err());
        f.fail.store(false, Ordering::SeqCst);
        assert!(f.get(3600).await.is_ok(), "recovers by itself");
    }

    #[tokio::test]
    async fn cold_key_retry_after_blocks_until_then() {
        let clock = Arc::new(ManualClock::at_unix(T0));
        let cache: TokenCache<String> = TokenCache::new(clock.clone(), CachePolicy::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let get = || {
            let calls = calls.clone();
            let clock = clock.clone();
            cache.get(
                "k",
                || "k".into(),
                move || {
                    async move {
                        let n = calls.fetch_add(1, Ordering::SeqCst);
                        if n == 0 {
                            Err(throttled(10))
                        } else {
                            Ok(token(clock.now(), 3600, None))
                        }
                    }
                    .boxed()
                },
            )
        };
        assert!(get().await.is_err());
        assert!(get().await.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "fail fast inside Retry-After"
        );
        clock.advance(Duration::from_secs(11));
        assert!(get().await.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn invalidate_matching_only() {
        let f = Fixture::new();
        let t = f.get(3600).await.unwrap();
        f.cache
            .invalidate_if("k", t.expires_on() + Duration::from_secs(1));
        assert!(f.cache.peek("k").is_some());
        f.cache.invalidate_if("k", t.expires_on());
        assert!(f.cache.peek("k").is_none());
    }

    #[test]
    fn ms_round_trip() {
        let t = from_unix(T0 as i64) + Duration::from_millis(250);
        assert_eq!(from_unix_ms(unix_ms(t)), t);
        assert!(from_unix_ms(i64::MIN) < from_unix(0));
    }
}
