//! Refresh-ahead and failed refreshes, driven by the shared manual clock.

use std::time::Duration;

use ficx::RetryPolicy;
use ficx::emulator::{Endpoint, Fault, Times, defaults};

use crate::support::{Lab, eventually, served_newer, trusted};

const T: &str = defaults::CONTOSO_TENANT_DOMAIN;
const S: &str = defaults::GRAPH_RESOURCE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_ahead_serves_the_old_token_while_one_refresh_runs() {
    let lab = Lab::start().await;
    let x = lab.exchanger();
    let first = x.token(T, S).await.unwrap();
    let refresh_on = first.refresh_on().expect("refresh time set");
    let life = first.expires_on().duration_since(refresh_on).unwrap();
    assert_eq!(
        life,
        Duration::from_secs(ficx::DEFAULT_EXPIRY_BUFFER_SECS),
        "1-hour tokens refresh 5 min before expiry"
    );
    lab.clock
        .advance(refresh_on.duration_since(lab_now(&lab)).unwrap() + Duration::from_secs(5));
    for _ in 0..50 {
        let t = x.token(T, S).await.unwrap();
        assert!(t.expires_on() >= first.expires_on());
    }
    eventually("one background refresh", || lab.count(Endpoint::Token) == 2).await;
    served_newer(&x, T, S, first.expires_on()).await;
    assert_eq!(
        lab.count(Endpoint::Token),
        2,
        "exactly one refresh, no storm"
    );
    assert_eq!(
        lab.count(Endpoint::Imds),
        1,
        "the assertion (24 h) was reused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_peeks_without_fetching_until_refresh_time() {
    let lab = Lab::start().await;
    let x = lab.exchanger();
    assert!(x.cached(T, S).is_none(), "nothing cached yet");
    let first = x.token(T, S).await.unwrap();
    for scope in [S, "https://graph.microsoft.com/.default"] {
        let hit = x.cached(T, scope).expect("a fresh token is cached");
        assert_eq!(hit.expires_on(), first.expires_on());
    }
    assert!(x.cached(defaults::NORTHWIND_TENANT_DOMAIN, S).is_none());
    assert_eq!(lab.count(Endpoint::Token), 1, "peeking never fetches");
    let refresh_on = first.refresh_on().expect("refresh time set");
    lab.clock
        .advance(refresh_on.duration_since(lab_now(&lab)).unwrap() + Duration::from_secs(1));
    assert!(x.cached(T, S).is_none(), "due for refresh: not a hit");
    assert_eq!(lab.count(Endpoint::Token), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_refresh_in_is_honoured() {
    let mut config = ficx::emulator::EmulatorConfig::default_config();
    config.lifetimes.app_refresh_in_secs = Some(600);
    let lab = Lab::with_config(config).await;
    let x = lab.exchanger();
    let t = x.token(T, S).await.unwrap();
    let ahead = t
        .refresh_on()
        .unwrap()
        .duration_since(lab_now(&lab))
        .unwrap();
    assert!(
        ahead <= Duration::from_secs(600) && ahead >= Duration::from_secs(598),
        "{ahead:?}"
    );
}

fn lab_now(lab: &Lab) -> std::time::SystemTime {
    use ficx::Clock;
    lab.clock.now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_refresh_keeps_serving_then_recovers() {
    let lab = Lab::start().await;
    let x = lab
        .builder(Endpoint::Imds, trusted())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let first = x.token(T, S).await.unwrap();
    lab.emu.faults().inject(
        Endpoint::Token,
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        Times::Always,
    );
    let past_refresh = first
        .refresh_on()
        .unwrap()
        .duration_since(lab_now(&lab))
        .unwrap()
        + Duration::from_secs(1);
    lab.clock.advance(past_refresh);
    for _ in 0..20 {
        assert_eq!(
            x.token(T, S).await.unwrap().expires_on(),
            first.expires_on()
        );
    }
    eventually("the failed refresh recorded", || {
        x.stats().failed_exchanges == 1
    })
    .await;
    assert_eq!(lab.count(Endpoint::Token), 2);
    for _ in 0..20 {
        assert_eq!(
            x.token(T, S).await.unwrap().expires_on(),
            first.expires_on()
        );
    }
    assert_eq!(
        lab.count(Endpoint::Token),
        2,
        "back-off: no new attempt yet"
    );
    lab.clock.advance(Duration::from_secs(
        ficx::REFRESH_FAILURE_INITIAL_BACKOFF_SECS + 1,
    ));
    // Keep calling: a finished flight is cleared a moment after its outcome is recorded, and
    // only a call after that starts the next attempt.
    keep_calling(&x, first.expires_on(), || x.stats().failed_exchanges == 2).await;
    assert_eq!(lab.count(Endpoint::Token), 3);
    lab.emu.faults().clear();
    lab.clock.advance(Duration::from_secs(
        2 * ficx::REFRESH_FAILURE_INITIAL_BACKOFF_SECS + 1,
    ));
    keep_calling(&x, first.expires_on(), || lab.count(Endpoint::Token) == 4).await;
    served_newer(&x, T, S, first.expires_on()).await;
    assert_eq!(lab.count(Endpoint::Token), 4);
}

/// Call `token()` (each call must still serve a token at least as new as `at_least`) until
/// `done` holds; bounded.
async fn keep_calling(
    x: &ficx::Exchanger,
    at_least: std::time::SystemTime,
    done: impl Fn() -> bool,
) {
    for _ in 0..20_000 {
        if done() {
            return;
        }
        assert!(x.token(T, S).await.unwrap().expires_on() >= at_least);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("timed out calling token()");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_until_expiry_then_the_error_surfaces_then_recovery() {
    let lab = Lab::start().await;
    let x = lab
        .builder(Endpoint::Imds, trusted())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let first = x.token(T, S).await.unwrap();
    lab.emu
        .faults()
        .inject(Endpoint::Token, Fault::DropConnection, Times::Always);
    // Just before expiry: still served.
    let almost =
        first.expires_on().duration_since(lab_now(&lab)).unwrap() - Duration::from_secs(10);
    lab.clock.advance(almost);
    assert_eq!(
        x.token(T, S).await.unwrap().expires_on(),
        first.expires_on()
    );
    // Expired: the transport error surfaces, typed and transient.
    lab.clock.advance(Duration::from_secs(20));
    let e = x.token(T, S).await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    lab.emu.faults().clear();
    assert!(x.token(T, S).await.is_ok(), "recovers by itself");
}
