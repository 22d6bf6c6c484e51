//! The shared token store protocol (read, lease, wait, fall back) over `MemoryStore` and over
//! stores that fail, hang or hand back undecryptable values. Real exchanges against the
//! emulator on the real clock; counts, never times.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ficx::emulator::{Endpoint, defaults};
use ficx::store::{Lease, StoreError, StoreKey};
use ficx::{AccessToken, MemoryStore, StoreOptions, TokenStore};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use secrecy::ExposeSecret;

use super::support::system_emulator;
use ficx::emulator::EmulatorConfig;
use ficx::emulator::defaults::customer_domain as customer;

const GRAPH: &str = "https://graph.microsoft.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_exchangers_share_one_exchange_through_a_store() {
    let emu = system_emulator(EmulatorConfig::with_customer_tenants(0)).await;
    let store = MemoryStore::new();
    let a = emu
        .exchanger_builder()
        .token_store(store.clone())
        .build()
        .unwrap();
    let b = emu
        .exchanger_builder()
        .token_store(store.clone())
        .build()
        .unwrap();
    let ta = a
        .token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    assert_eq!(emu.log().count(Endpoint::Token), 1);
    assert_eq!(emu.log().count(Endpoint::Imds), 1);
    let tb = b
        .token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    assert_eq!(
        emu.log().count(Endpoint::Token),
        1,
        "b read a's token from the store"
    );
    assert_eq!(
        emu.log().count(Endpoint::Imds),
        1,
        "b needed no assertion of its own"
    );
    assert_eq!(ta.secret().expose_secret(), tb.secret().expose_secret());
    assert_eq!(
        ta.refresh_on(),
        tb.refresh_on(),
        "both refresh at the writer's point"
    );
    let (sa, sb) = (a.stats().store, b.stats().store);
    assert_eq!((sa.misses, sa.leases, sa.writes), (1, 1, 1));
    assert_eq!((sb.hits, sb.leases, sb.writes), (1, 0, 0));
    assert_eq!(store.len(), 1);
    // Another tenant is another entry.
    b.token(defaults::NORTHWIND_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    assert_eq!(emu.log().count(Endpoint::Token), 2);
    assert_eq!(store.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_replicas_exchange_once_per_key() {
    let emu = system_emulator(EmulatorConfig::with_customer_tenants(3)).await;
    let store = MemoryStore::new();
    let replicas: Vec<_> = (0..4)
        .map(|_| {
            emu.exchanger_builder()
                .token_store(store.clone())
                .build()
                .unwrap()
        })
        .collect();
    let mut calls = Vec::new();
    for r in &replicas {
        for i in 0..30 {
            let r = r.clone();
            calls.push(tokio::spawn(async move {
                r.token(&customer(i % 3), GRAPH).await
            }));
        }
    }
    for c in calls {
        c.await.unwrap().expect("every caller gets a token");
    }
    assert_eq!(
        emu.log().count(Endpoint::Token),
        3,
        "one exchange per tenant for 4 replicas"
    );
    assert!(emu.log().count(Endpoint::Imds) <= 3);
    let waits: u64 = replicas.iter().map(|r| r.stats().store.waits).sum();
    let hits: u64 = replicas.iter().map(|r| r.stats().store.hits).sum();
    let leases: u64 = replicas.iter().map(|r| r.stats().store.leases).sum();
    assert_eq!(leases, 3);
    assert_eq!(hits, 9, "the other three replicas read each tenant's token");
    assert!(waits <= 9);
}

/// A store that fails every call in a chosen way, counting calls.
#[derive(Debug)]
struct BrokenStore {
    how: Broken,
    calls: AtomicUsize,
}

#[derive(Debug, Clone, Copy)]
enum Broken {
    Down,
    Hangs,
    Garbage,
}

impl BrokenStore {
    fn new(how: Broken) -> Arc<Self> {
        Arc::new(Self {
            how,
            calls: AtomicUsize::new(0),
        })
    }

    fn fail<'a, T: Send + 'a>(&'a self, key: &StoreKey) -> BoxFuture<'a, Result<T, StoreError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let digest = key.digest().to_owned();
        match self.how {
            Broken::Down => {
                async { Err(StoreError::Unavailable("connection refused".into())) }.boxed()
            }
            Broken::Hangs => futures_util::future::pending().boxed(),
            Broken::Garbage => async move {
                Err(StoreError::Undecryptable {
                    digest,
                    reason: "authentication failed".into(),
                })
            }
            .boxed(),
        }
    }
}

impl TokenStore for BrokenStore {
    fn get<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        self.fail(key)
    }
    fn put<'a>(
        &'a self,
        _: &'a StoreKey,
        _: &'a AccessToken,
        _: Duration,
        _: Option<&'a Lease>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }.boxed()
    }
    fn try_lease<'a>(
        &'a self,
        key: &'a StoreKey,
        _: Duration,
    ) -> BoxFuture<'a, Result<Option<Lease>, StoreError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let lease = Lease::new(key);
        async move { Ok(Some(lease)) }.boxed()
    }
    fn release<'a>(
        &'a self,
        _: &'a StoreKey,
        _: &'a Lease,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async { Ok(()) }.boxed()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_or_hangs_never_fails_a_call() {
    for how in [Broken::Down, Broken::Hangs] {
        let emu = system_emulator(EmulatorConfig::with_customer_tenants(0)).await;
        let store = BrokenStore::new(how);
        let x = emu
            .exchanger_builder()
            .shared_token_store(store.clone())
            .store_options(
                StoreOptions::default()
                    .op_timeout(Duration::from_millis(100))
                    .cooldown(Duration::from_secs(60)),
            )
            .build()
            .unwrap();
        let t = tokio::time::timeout(
            Duration::from_secs(30),
            x.token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH),
        )
        .await
        .expect("bounded by the store timeout")
        .expect("the exchange went ahead without the store");
        assert!(!t.secret().expose_secret().is_empty());
        // Cooling down: the next tenant skips the store entirely.
        let calls = store.calls.load(Ordering::SeqCst);
        x.token(defaults::NORTHWIND_TENANT_DOMAIN, GRAPH)
            .await
            .unwrap();
        assert_eq!(
            store.calls.load(Ordering::SeqCst),
            calls,
            "{how:?}: no store call during the cooldown"
        );
        let s = x.stats().store;
        assert_eq!((s.errors, s.bypassed, s.hits), (1, 1, 0), "{how:?}: {s:?}");
        assert_eq!(emu.log().count(Endpoint::Token), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecryptable_value_is_a_reported_miss() {
    let emu = system_emulator(EmulatorConfig::with_customer_tenants(0)).await;
    let store = BrokenStore::new(Broken::Garbage);
    let x = emu
        .exchanger_builder()
        .shared_token_store(store.clone())
        .build()
        .unwrap();
    x.token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .expect("a miss, then an exchange");
    let s = x.stats().store;
    assert!(s.undecryptable >= 1, "{s:?}");
    assert_eq!(s.errors, 0, "not an outage: no cooldown");
    assert_eq!(s.leases, 1);
    assert_eq!(emu.log().count(Endpoint::Token), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lease_holder_releases_by_expiry_and_a_stuck_one_by_wait() {
    let emu = system_emulator(EmulatorConfig::with_customer_tenants(0)).await;
    let store = MemoryStore::new();
    let x = emu
        .exchanger_builder()
        .token_store(store.clone())
        .build()
        .unwrap();
    let key = |tenant: &str| x.store_key(tenant, GRAPH).unwrap();
    // A "replica" took the lease for Contoso and died: its lease lapses after 300 ms.
    let dead = store
        .try_lease(
            &key(defaults::CONTOSO_TENANT_DOMAIN),
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    assert!(dead.is_some());
    x.token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    let s = x.stats().store;
    assert_eq!(
        (s.waits, s.wait_timeouts, s.leases, s.writes),
        (1, 0, 1, 1),
        "waited, then took the lapsed lease: {s:?}"
    );

    // A holder that keeps its lease but never writes: the waiter gives up after lease_wait.
    let stuck = store
        .try_lease(
            &key(defaults::NORTHWIND_TENANT_DOMAIN),
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    assert!(stuck.is_some());
    let y = emu
        .exchanger_builder()
        .token_store(store.clone())
        .store_options(StoreOptions::default().lease_wait(Duration::from_millis(200)))
        .build()
        .unwrap();
    y.token(defaults::NORTHWIND_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    let s = y.stats().store;
    assert_eq!((s.waits, s.wait_timeouts, s.leases), (1, 1, 0), "{s:?}");
    assert_eq!(s.writes, 1, "the direct result is still shared");
    assert_eq!(emu.log().count(Endpoint::Token), 2);
}
