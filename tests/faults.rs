//! The fault matrix: every fault kind against each MI source and the token endpoint. Each case
//! asserts: retried or not as protocol.md §5 says, bounded total (virtual) time, the error variant
//! and its exit code, no panic, and that a still-valid cached token keeps being served while the
//! endpoint misbehaves. Table in docs/reliability.md.

#[path = "library/support.rs"]
mod support;

use std::time::Duration;

use ficx::emulator::{Endpoint, Fault, RetryAfter, Times, defaults};
use ficx::{Clock, Error, HttpOptions, ManagedIdentity, RetryPolicy, TransportKind};

use support::{Lab, trusted};

const T: &str = defaults::CONTOSO_TENANT_DOMAIN;
const S: &str = defaults::GRAPH_RESOURCE;

/// What a case must produce on a cold cache.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// An HTTP status error from the endpoint; `retried` per the protocol.
    Status { retried: bool },
    /// A transport failure (connection dropped, reset, timeout): always retried.
    Transport,
    /// An unusable answer: never retried.
    Invalid,
}

fn status(code: u16) -> Fault {
    Fault::Status {
        status: code,
        retry_after: None,
        body: None,
    }
}

/// Which statuses each endpoint kind retries (protocol.md §5.3).
fn retried(endpoint: Endpoint, code: u16) -> bool {
    match code {
        408 | 429 | 500..=599 => true,
        404 | 410 => endpoint == Endpoint::Imds,
        _ => false,
    }
}

fn cases(endpoint: Endpoint) -> Vec<(String, Fault, Expect)> {
    let mut v: Vec<(String, Fault, Expect)> = [404u16, 408, 410, 429, 500, 502, 503, 504]
        .into_iter()
        .map(|c| {
            (
                format!("HTTP {c}"),
                status(c),
                Expect::Status {
                    retried: retried(endpoint, c),
                },
            )
        })
        .collect();
    v.push((
        "429 Retry-After seconds".into(),
        Fault::Status {
            status: 429,
            retry_after: Some(RetryAfter::Seconds(3)),
            body: None,
        },
        Expect::Status { retried: true },
    ));
    v.push((
        "429 retry-after-ms".into(),
        Fault::Status {
            status: 429,
            retry_after: Some(RetryAfter::Millis(2500)),
            body: None,
        },
        Expect::Status { retried: true },
    ));
    v.push((
        "connection dropped".into(),
        Fault::DropConnection,
        Expect::Transport,
    ));
    v.push((
        "reset mid-body".into(),
        Fault::ResetMidBody,
        Expect::Transport,
    ));
    v.push((
        "never finishes the headers".into(),
        Fault::Hang,
        Expect::Transport,
    ));
    v.push((
        "truncated JSON".into(),
        Fault::TruncatedBody,
        Expect::Invalid,
    ));
    v.push((
        "body over the cap".into(),
        Fault::OversizedBody {
            bytes: 2 * 1024 * 1024,
        },
        Expect::Invalid,
    ));
    v.push((
        "HTML 200".into(),
        Fault::Html { status: 200 },
        Expect::Invalid,
    ));
    v.push((
        "HTML 502 from a proxy".into(),
        Fault::Html { status: 502 },
        Expect::Status { retried: true },
    ));
    v.push((
        "missing fields".into(),
        Fault::MissingFields,
        Expect::Invalid,
    ));
    v
}

fn identity_for(source: Endpoint) -> ManagedIdentity {
    if source == Endpoint::ServiceFabric {
        ManagedIdentity::SystemAssigned
    } else {
        trusted()
    }
}

/// Short real timeouts so that `Hang` costs little; retry waits are virtual.
fn http(lab: &Lab) -> HttpOptions {
    lab.http().timeout(Duration::from_millis(300))
}

fn check_error(case: &str, endpoint: Endpoint, e: &Error, expect: Expect) {
    let is_mi = endpoint != Endpoint::Token;
    match expect {
        Expect::Status { retried } => {
            let status = if is_mi {
                e.managed_identity().map(|m| m.status)
            } else {
                e.entra().map(|x| x.status)
            };
            assert!(
                status.is_some(),
                "{endpoint} {case}: a status error, got {e:?}"
            );
            assert_eq!(
                e.is_transient(),
                retried,
                "{endpoint} {case}: transient = retried"
            );
        }
        Expect::Transport => assert!(
            matches!(e, Error::Transport { .. } | Error::Timeout { .. }) && e.is_transient(),
            "{endpoint} {case}: {e:?}"
        ),
        Expect::Invalid => assert!(
            matches!(
                e,
                Error::InvalidResponse { .. }
                    | Error::Transport {
                        kind: TransportKind::BodyTooLarge,
                        ..
                    }
            ) && !e.is_transient(),
            "{endpoint} {case}: {e:?}"
        ),
    }
    let code = e.exit_code();
    let want = if e.is_transient() {
        5
    } else if is_mi {
        3
    } else if matches!(e, Error::Exchange(_)) {
        4
    } else {
        1
    };
    assert_eq!(code, want, "{endpoint} {case}: exit code for {e}");
    // No secret in any rendering of the error.
    let shown = format!("{e} {e:?} {e:#?}");
    assert!(
        !shown.contains("eyJ"),
        "{endpoint} {case}: token text in the error"
    );
}

async fn matrix(source: Endpoint, target: Endpoint) {
    for (case, fault, expect) in cases(target) {
        let lab = Lab::start().await;
        let policy = RetryPolicy::default()
            .max_retries(3)
            .budget(Duration::from_secs(60));
        let x = lab
            .builder(source, identity_for(source))
            .http(http(&lab))
            .retry(policy.clone())
            .mi_retry(policy.clone())
            .build()
            .unwrap();

        // 1. Warm, then keep serving a still-valid token while the endpoint misbehaves.
        let warm = x
            .token(T, S)
            .await
            .unwrap_or_else(|e| panic!("{source}: warm-up: {e}"));
        lab.emu
            .faults()
            .inject(target, fault.clone(), Times::Always);
        let advance = if target == Endpoint::Token {
            warm.refresh_on()
                .unwrap()
                .duration_since(lab.clock.now())
                .unwrap()
                + Duration::from_secs(1)
        } else {
            Duration::from_secs(12 * 3600 + 60) // past the MI token's half-life; app token expired
        };
        lab.clock.advance(advance);
        for _ in 0..5 {
            let t = x.token(T, S).await.unwrap_or_else(|e| {
                panic!("{target} {case}: a still-valid token must be served: {e}")
            });
            assert!(!t.is_empty());
        }

        lab.emu.shutdown().await;

        // 2. Cold (own emulator, so no background refresh from step 1 is counted): a fresh
        //    exchanger meets the fault; count what it sent and how long it waited.
        let lab = Lab::start().await;
        lab.emu
            .faults()
            .inject(target, fault.clone(), Times::Always);
        let before = lab.count(target);
        let slept_before = lab.clock.total_slept();
        let cold = lab
            .builder(source, identity_for(source))
            .http(http(&lab))
            .retry(policy.clone())
            .mi_retry(policy.clone())
            .build()
            .unwrap();
        let e = cold
            .token(defaults::NORTHWIND_TENANT_DOMAIN, S)
            .await
            .expect_err(&format!("{target} {case}: must fail"));
        let sent = lab.count(target) - before;
        let waited = lab.clock.total_slept() - slept_before;
        check_error(&case, target, &e, expect);
        let per_attempt = if target == Endpoint::AzureArc { 2 } else { 1 };
        let retried_expected = match expect {
            Expect::Status { retried } => retried,
            Expect::Transport => true,
            Expect::Invalid => false,
        };
        if retried_expected {
            assert!(sent > per_attempt, "{target} {case}: retried (sent {sent})");
            assert!(
                waited <= Duration::from_secs(75),
                "{target} {case}: bounded ({waited:?})"
            );
        } else {
            assert!(
                sent <= per_attempt,
                "{target} {case}: not retried (sent {sent})"
            );
        }
        if let Fault::Status {
            retry_after: Some(ra),
            ..
        } = &fault
        {
            let floor = match ra {
                RetryAfter::Seconds(s) => Duration::from_secs(*s),
                RetryAfter::Millis(m) | RetryAfter::XMsMillis(m) => Duration::from_millis(*m),
                RetryAfter::HttpDate(_) => Duration::ZERO,
            };
            assert!(
                lab.clock.sleeps().iter().any(|s| *s >= floor),
                "{target} {case}: Retry-After honoured"
            );
        }
        lab.emu.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imds() {
    matrix(Endpoint::Imds, Endpoint::Imds).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_service() {
    matrix(Endpoint::AppService, Endpoint::AppService).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_ml() {
    matrix(Endpoint::AzureMl, Endpoint::AzureMl).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_fabric() {
    matrix(Endpoint::ServiceFabric, Endpoint::ServiceFabric).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint() {
    matrix(Endpoint::Imds, Endpoint::Token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_arc_cold_faults() {
    // Arc serves only the system identity, which no FIC trusts: test its MI leg directly.
    for (case, fault, expect) in cases(Endpoint::AzureArc) {
        let lab = Lab::start().await;
        lab.emu
            .faults()
            .inject(Endpoint::AzureArc, fault, Times::Always);
        let mi = ficx::ManagedIdentitySource::builder()
            .env(lab.env(Endpoint::AzureArc))
            .http(http(&lab))
            .clock(lab.clock.clone())
            .retry(RetryPolicy::default().max_retries(3))
            .build()
            .unwrap();
        let e = mi
            .token("api://AzureADTokenExchange")
            .await
            .expect_err(&case);
        let is_status_error = e.managed_identity().is_some();
        match expect {
            // The challenge itself fails: a status where a 401 was due is an MI error.
            Expect::Status { retried } => assert!(
                is_status_error && e.is_transient() == retried,
                "{case}: {e:?}"
            ),
            Expect::Transport => assert!(e.is_transient(), "{case}: {e:?}"),
            Expect::Invalid => assert!(!e.is_transient() || is_status_error, "{case}: {e:?}"),
        }
        lab.emu.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_retried_and_bounded() {
    let lab = Lab::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    // MI endpoint refused.
    let env = ficx::Env::from_vars([(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        format!("http://127.0.0.1:{port}"),
    )]);
    let x = lab
        .builder(Endpoint::Imds, trusted())
        .env(env)
        .build()
        .unwrap();
    let e = x.token(T, S).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.exit_code(), 5);
    assert!(lab.clock.sleeps().len() >= 3, "retried");
    // Token endpoint refused.
    let x = lab
        .builder(Endpoint::Imds, trusted())
        .authority_host(&format!("https://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let slept = lab.clock.sleeps().len();
    let e = x.token(T, S).await.unwrap_err();
    assert!(e.is_transient() && e.exit_code() == 5, "{e:?}");
    assert!(lab.clock.sleeps().len() > slept, "retried");
    assert!(
        lab.clock.total_slept() <= Duration::from_secs(2 * 60),
        "bounded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skewed_ten_minutes_either_way_still_works() {
    for skew_ahead in [true, false] {
        let lab = Lab::start().await;
        let client = std::sync::Arc::new(ficx::ManualClock::starting_now());
        if skew_ahead {
            client.advance(Duration::from_secs(600));
        } else {
            lab.clock.advance(Duration::from_secs(600));
        }
        let x = lab
            .builder(Endpoint::Imds, trusted())
            .clock(client.clone())
            .build()
            .unwrap();
        let t = x
            .token(T, S)
            .await
            .unwrap_or_else(|e| panic!("skew ahead={skew_ahead}: {e}"));
        let left = t.remaining(client.now());
        assert!(
            left > Duration::from_secs(3000) && left < Duration::from_secs(3600),
            "{left:?}"
        );
    }
}
