//! Each retry rule, with the emulator's fault injection; counts from its log, waits from the
//! manual clock (virtual time).

use std::time::Duration;

use ficx::emulator::{Endpoint, Fault, RetryAfter, Times, defaults};
use ficx::{Error, Exchanger, ManagedIdentity, RetryPolicy};

use crate::support::{Lab, trusted};

const T: &str = defaults::CONTOSO_TENANT_DOMAIN;
const S: &str = defaults::GRAPH_RESOURCE;

fn status(status: u16, retry_after: Option<RetryAfter>) -> Fault {
    Fault::Status {
        status,
        retry_after,
        body: None,
    }
}

/// A lab whose `endpoint` answers `code` to every request, and an IMDS exchanger with `policy`.
async fn always_failing(endpoint: Endpoint, code: u16, policy: RetryPolicy) -> (Lab, Exchanger) {
    let lab = Lab::start().await;
    lab.emu
        .faults()
        .inject(endpoint, status(code, None), Times::Always);
    let x = lab
        .builder(Endpoint::Imds, trusted())
        .retry(policy)
        .build()
        .unwrap();
    (lab, x)
}

#[tokio::test]
async fn imds_410_then_success() {
    let lab = Lab::start().await;
    lab.emu
        .faults()
        .inject(Endpoint::Imds, status(410, None), Times::Next(2));
    let x = lab.exchanger();
    x.token(T, S).await.unwrap();
    assert_eq!(lab.count(Endpoint::Imds), 3);
    assert_eq!(lab.clock.sleeps().len(), 2);
}

#[tokio::test]
async fn a_persistent_imds_410_is_waited_out_past_the_retry_count() {
    // IMDS answers 410 while it updates ("back within 70 s"): ficx keeps retrying past
    // max_retries and a short budget, until IMDS_410_BUDGET_SECS of (virtual) time.
    let policy = RetryPolicy::default()
        .max_retries(2)
        .budget(Duration::from_secs(10));
    let (lab, x) = always_failing(Endpoint::Imds, 410, policy).await;
    let e = x.token(T, S).await.unwrap_err();
    assert_eq!(e.managed_identity().map(|m| m.status), Some(410));
    assert!(
        lab.count(Endpoint::Imds) > 3,
        "{}",
        lab.count(Endpoint::Imds)
    );
    let slept = lab.clock.total_slept();
    assert!(slept >= Duration::from_secs(45), "{slept:?}");
    assert!(
        slept <= Duration::from_secs(ficx::retry::IMDS_410_BUDGET_SECS),
        "{slept:?}"
    );
    assert_eq!(lab.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn imds_404_is_retried_but_app_service_404_is_not() {
    let lab = Lab::start().await;
    lab.emu
        .faults()
        .inject(Endpoint::Imds, status(404, None), Times::Next(1));
    lab.exchanger().token(T, S).await.unwrap();
    assert_eq!(lab.count(Endpoint::Imds), 2);

    lab.emu
        .faults()
        .inject(Endpoint::AppService, status(404, None), Times::Next(1));
    let x = lab
        .builder(Endpoint::AppService, trusted())
        .build()
        .unwrap();
    let e = x.token(T, S).await.unwrap_err();
    assert_eq!(e.managed_identity().map(|m| m.status), Some(404));
    assert_eq!(lab.count(Endpoint::AppService), 1);
}

#[tokio::test]
async fn retry_after_forms_are_honoured() {
    for (ra, at_least) in [
        (RetryAfter::Seconds(7), Duration::from_secs(7)),
        (RetryAfter::Millis(2500), Duration::from_millis(2500)),
        (RetryAfter::XMsMillis(3500), Duration::from_millis(3500)),
    ] {
        let lab = Lab::start().await;
        lab.emu
            .faults()
            .inject(Endpoint::Imds, status(429, Some(ra)), Times::Next(1));
        lab.exchanger().token(T, S).await.unwrap();
        let sleeps = lab.clock.sleeps();
        assert_eq!(sleeps.len(), 1, "{ra:?}");
        assert!(sleeps[0] >= at_least, "{ra:?}: slept {:?}", sleeps[0]);
    }
}

#[tokio::test]
async fn retry_after_http_date_on_the_token_endpoint() {
    let lab = Lab::start().await;
    let at = {
        use ficx::Clock;
        lab.clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 12
    };
    lab.emu.faults().inject(
        Endpoint::Token,
        status(503, Some(RetryAfter::HttpDate(at))),
        Times::Next(1),
    );
    lab.exchanger().token(T, S).await.unwrap();
    assert_eq!(lab.count(Endpoint::Token), 2);
    let slept = lab.clock.total_slept();
    assert!(slept >= Duration::from_secs(11), "{slept:?}");
}

#[tokio::test]
async fn token_endpoint_5xx_and_dropped_connections_are_retried() {
    let lab = Lab::start().await;
    lab.emu
        .faults()
        .inject(Endpoint::Token, status(500, None), Times::Next(1));
    lab.emu
        .faults()
        .inject(Endpoint::Token, status(502, None), Times::Next(1));
    lab.emu
        .faults()
        .inject(Endpoint::Token, Fault::DropConnection, Times::Next(1));
    lab.exchanger().token(T, S).await.unwrap();
    assert_eq!(lab.count(Endpoint::Token), 4);
}

#[tokio::test]
async fn retries_are_bounded_and_the_error_is_typed() {
    let (lab, x) =
        always_failing(Endpoint::Token, 503, RetryPolicy::default().max_retries(3)).await;
    let e = x.token(T, S).await.unwrap_err();
    assert!(e.is_transient());
    assert_eq!(e.entra().map(|x| x.status), Some(503));
    assert_eq!(lab.count(Endpoint::Token), 4);
    assert!(lab.clock.total_slept() <= RetryPolicy::default().get_budget());
}

#[tokio::test]
async fn retry_after_beyond_the_budget_stops_at_once() {
    let lab = Lab::start().await;
    lab.emu.faults().inject(
        Endpoint::Token,
        status(429, Some(RetryAfter::Seconds(600))),
        Times::Always,
    );
    let e = lab.exchanger().token(T, S).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(600)));
    assert_eq!(lab.count(Endpoint::Token), 1);
}

#[tokio::test]
async fn configuration_errors_are_never_retried() {
    let lab = Lab::start().await;
    let untrusted = ManagedIdentity::client_id(defaults::UAMI_UNTRUSTED_CLIENT_ID).unwrap();
    let x = lab.builder(Endpoint::Imds, untrusted).build().unwrap();
    let e = x.token(T, S).await.unwrap_err();
    assert_eq!(e.aadsts(), Some(700213));
    assert_eq!(lab.count(Endpoint::Token), 1);
    lab.emu
        .faults()
        .inject(Endpoint::Imds, status(400, None), Times::Next(1));
    let e = lab
        .mi_source(Endpoint::Imds, trusted())
        .unwrap()
        .token("api://AzureADTokenExchange")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ManagedIdentity(_)));
    assert!(lab.clock.sleeps().is_empty());
}
