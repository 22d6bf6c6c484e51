//! Failures forced through `ficx serve` with the emulator's fault injection: what the client gets
//! (status, `Retry-After`, a JSON body naming the failing leg and holding no token), what reaches
//! the emulator (counted, never timed), and which `/metrics` counters move.

use ficx::emulator::{Endpoint, Fault, RetryAfter, Times, defaults as d};
use serde_json::Value;

use crate::support::{Served, app_service, emulator, emulator_with, json, metric};

fn status(code: u16, retry_after_secs: Option<u64>) -> Fault {
    Fault::Status {
        status: code,
        retry_after: retry_after_secs.map(RetryAfter::Seconds),
        body: None,
    }
}

/// The failure body: App Service's shape, the leg, and no token text.
fn assert_failure(body: &Value, code: u16, leg: &str) {
    assert_eq!(body["statusCode"], code, "{body}");
    assert_eq!(body["leg"], leg, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["correlationId"].as_str().is_some(), "{body}");
    assert!(body.get("access_token").is_none(), "{body}");
    assert!(!body.to_string().contains("eyJ"), "token text in {body}");
}

/// A Retry-After longer than the retry budget (`ficx::retry::DEFAULT_BUDGET_SECS`, 60 s) makes
/// the retry loop stop after one attempt, so a persistent fault costs one request, not a minute.
const LONGER_THAN_THE_BUDGET_SECS: u64 = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_503s_are_retried_and_a_persistent_one_is_a_503_naming_the_exchange_leg() {
    let emu = emulator().await;
    // The start-up MI fetch meets one 500 first: retried, then ready.
    emu.faults()
        .inject(Endpoint::Imds, status(500, None), Times::Next(1));
    let s = Served::launch(
        emu,
        &[
            "--allow-tenant",
            d::CONTOSO_TENANT_DOMAIN,
            "--allow-tenant",
            d::NORTHWIND_TENANT_DOMAIN,
        ],
        Vec::new(),
        true,
    )
    .await;
    let secret = s.secret().to_owned();
    assert_eq!(
        s.emu.log().count(Endpoint::Imds),
        2,
        "the 500, then the retry"
    );

    // Two 503s from Entra, then its real answer: retried inside the one client request.
    s.emu
        .faults()
        .inject(Endpoint::Token, status(503, None), Times::Next(2));
    let r = s
        .get(&app_service(d::CONTOSO_TENANT_DOMAIN), Some(&secret))
        .await;
    assert_eq!(r.status(), 200);
    let contoso = json(r).await["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        s.emu.log().count(Endpoint::Token),
        3,
        "two 503s and the 200"
    );

    // Entra keeps failing and asks for more time than the retry budget holds: one attempt,
    // then 503 with Entra's Retry-After and a body naming the exchange leg.
    s.emu.faults().inject(
        Endpoint::Token,
        status(503, Some(LONGER_THAN_THE_BUDGET_SECS)),
        Times::Always,
    );
    let r = s
        .get(&app_service(d::NORTHWIND_TENANT_DOMAIN), Some(&secret))
        .await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.headers()["retry-after"],
        LONGER_THAN_THE_BUDGET_SECS.to_string()
    );
    let body = json(r).await;
    assert_failure(&body, 503, "exchange");
    assert_eq!(
        s.emu.log().count(Endpoint::Token),
        4,
        "no retry past the budget"
    );

    // Asked again inside the Retry-After window: refused at once, Entra is not asked again.
    let r = s
        .get(&app_service(d::NORTHWIND_TENANT_DOMAIN), Some(&secret))
        .await;
    assert_eq!(r.status(), 503);
    assert_failure(&json(r).await, 503, "exchange");
    assert_eq!(s.emu.log().count(Endpoint::Token), 4);

    // Contoso's token is still fresh: served from the cache while Entra fails.
    let r = s
        .get(&app_service(d::CONTOSO_TENANT_DOMAIN), Some(&secret))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        json(r).await["access_token"] == contoso.as_str(),
        "the cached token, not a new one"
    );
    assert_eq!(s.emu.log().count(Endpoint::Token), 4);

    let m = s.metrics().await;
    let aadsts = body["aadsts"].as_u64().expect("Entra's 503 names a code");
    assert_eq!(
        metric(
            &m,
            &format!(
                "ficx_serve_token_failures_total{{status=\"503\",leg=\"exchange\",aadsts=\"{aadsts}\"}}"
            )
        ),
        2.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "ficx_serve_exchanges_total"),
        2.0,
        "contoso (retried inside) and northwind once\n{m}"
    );
    assert_eq!(metric(&m, "ficx_serve_exchange_failures_total"), 1.0, "{m}");
    assert_eq!(metric(&m, "ficx_serve_mi_fetches_total"), 1.0, "{m}");
    assert_eq!(metric(&m, "ficx_serve_mi_fetch_failures_total"), 0.0, "{m}");
    assert_eq!(metric(&m, "ficx_serve_cache_hits_total"), 1.0, "{m}");
    assert_eq!(
        metric(
            &m,
            "ficx_serve_requests_total{route=\"app_service\",status=\"503\"}"
        ),
        2.0,
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "ficx_serve_requests_total{route=\"app_service\",status=\"200\"}"
        ),
        2.0,
        "{m}"
    );
    s.stop_clean(&secret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_mi_endpoint_is_a_503_naming_the_managed_identity_leg() {
    let emu = emulator().await;
    emu.faults().inject(
        Endpoint::Imds,
        status(500, Some(LONGER_THAN_THE_BUDGET_SECS)),
        Times::Always,
    );
    let s = Served::launch(
        emu,
        &["--allow-tenant", d::CONTOSO_TENANT_DOMAIN],
        Vec::new(),
        false,
    )
    .await;
    let secret = s.secret().to_owned();

    let r = s
        .get(&app_service(d::CONTOSO_TENANT_DOMAIN), Some(&secret))
        .await;
    assert_eq!(r.status(), 503, "a 5xx from the MI endpoint is transient");
    assert_eq!(
        r.headers()["retry-after"],
        LONGER_THAN_THE_BUDGET_SECS.to_string()
    );
    let body = json(r).await;
    assert_failure(&body, 503, "managed_identity");
    assert!(body.get("aadsts").is_none(), "{body}");
    assert_eq!(s.get("/readyz", None).await.status(), 503);
    assert_eq!(
        s.emu.log().count(Endpoint::Imds),
        1,
        "the start-up probe and the request share one failed fetch, then its Retry-After"
    );
    assert_eq!(
        s.emu.log().count(Endpoint::Token),
        0,
        "Entra is never asked without an assertion"
    );

    let m = s.metrics().await;
    assert_eq!(
        metric(
            &m,
            "ficx_serve_token_failures_total{status=\"503\",leg=\"managed_identity\",aadsts=\"none\"}"
        ),
        1.0,
        "{m}"
    );
    assert_eq!(metric(&m, "ficx_serve_mi_fetches_total"), 1.0, "{m}");
    assert_eq!(metric(&m, "ficx_serve_mi_fetch_failures_total"), 1.0, "{m}");
    assert_eq!(
        metric(&m, "ficx_serve_exchange_failures_total"),
        1.0,
        "the tenant's fetch failed on its first leg\n{m}"
    );
    assert_eq!(metric(&m, "ficx_serve_ready"), 0.0, "{m}");
    s.stop_clean(&secret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_still_valid_cached_token_is_served_while_entra_fails() {
    // Entra asks for a refresh one second in: past that point each request still gets the
    // cached token at once and the first one starts a background refresh.
    let emu = emulator_with(|c| c.lifetimes.app_refresh_in_secs = Some(1)).await;
    let s = Served::launch(
        emu,
        &["--allow-tenant", d::CONTOSO_TENANT_DOMAIN],
        Vec::new(),
        true,
    )
    .await;
    let secret = s.secret().to_owned();
    let path = app_service(d::CONTOSO_TENANT_DOMAIN);
    let r = s.get(&path, Some(&secret)).await;
    assert_eq!(r.status(), 200);
    let first = json(r).await["access_token"].as_str().unwrap().to_owned();
    s.emu.faults().inject(
        Endpoint::Token,
        status(503, Some(LONGER_THAN_THE_BUDGET_SECS)),
        Times::Always,
    );

    // Ask until the background refresh has met the fault; every answer is the cached token.
    let mut asked = 0;
    loop {
        let r = s.get(&path, Some(&secret)).await;
        assert_eq!(r.status(), 200, "call {asked} after the fault");
        assert!(
            json(r).await["access_token"] == first.as_str(),
            "call {asked}: the cached token"
        );
        asked += 1;
        let m = s.metrics().await;
        if metric(&m, "ficx_serve_exchange_failures_total") >= 1.0 {
            break;
        }
        assert!(asked < 400, "no background refresh was attempted\n{m}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        s.emu.log().count(Endpoint::Token),
        2,
        "the first exchange and one refresh"
    );
    // The refresh backs off for Entra's Retry-After: more calls, same token, no more requests.
    for call in 0..5 {
        let r = s.get(&path, Some(&secret)).await;
        assert_eq!(r.status(), 200);
        assert!(
            json(r).await["access_token"] == first.as_str(),
            "call {call}: the cached token"
        );
    }
    assert_eq!(s.emu.log().count(Endpoint::Token), 2);

    let m = s.metrics().await;
    assert_eq!(metric(&m, "ficx_serve_exchanges_total"), 2.0, "{m}");
    assert_eq!(metric(&m, "ficx_serve_exchange_failures_total"), 1.0, "{m}");
    assert_eq!(
        metric(&m, "ficx_serve_background_refreshes_total"),
        1.0,
        "the second exchange was refresh-ahead, in the background\n{m}"
    );
    assert!(
        !m.contains("ficx_serve_token_failures_total{"),
        "no client saw a failure\n{m}"
    );
    assert_eq!(
        metric(
            &m,
            "ficx_serve_requests_total{route=\"app_service\",status=\"200\"}"
        ),
        f64::from(1 + asked + 5),
        "{m}"
    );
    s.stop_clean(&secret).await;
}
