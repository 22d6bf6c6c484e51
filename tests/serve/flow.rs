//! The token routes, their refusals, the cache, `/metrics`, the probes and shutdown.

use ficx::emulator::{Endpoint, defaults as d};
use serde_json::Value;

use crate::support::{Served, json, metric};

const GRAPH: &str = "https://graph.microsoft.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_service_and_v1_routes_serve_cached_tokens_and_refuse_the_rest() {
    let s = Served::start(&[
        "--allow-tenant",
        d::CONTOSO_TENANT_DOMAIN,
        "--allow-tenant",
        d::TAILSPIN_TENANT_DOMAIN,
        "--log-format",
        "json",
    ])
    .await;
    let secret = s.secret().to_owned();
    let endpoint = s
        .identity_endpoint
        .clone()
        .expect("IDENTITY_ENDPOINT printed");
    assert_eq!(
        endpoint,
        format!("{}/tenants/{}/msi/token", s.url, d::CONTOSO_TENANT_DOMAIN)
    );
    let app_service = format!(
        "/tenants/{}/msi/token?api-version=2019-08-01&resource={GRAPH}",
        d::CONTOSO_TENANT_DOMAIN
    );

    // The App Service shape, a contoso token, then two cache hits.
    for _ in 0..3 {
        let r = s.get(&app_service, Some(&secret)).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: Value = json(r).await;
        let claims = ficx::jwt::decode_unverified(body["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(
            claims.claims["tid"],
            d::CONTOSO_TENANT_ID,
            "{:?}",
            claims.claims
        );
        assert_eq!(claims.claims["appid"], d::APP_CLIENT_ID);
        let expires_on = body["expires_on"].as_str().expect("expires_on is a string");
        assert!(expires_on.parse::<u64>().unwrap() > 1_700_000_000);
        assert_eq!(body["resource"], GRAPH);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["client_id"], d::APP_CLIENT_ID);
    }
    // The plain JSON route shares the cache.
    let r = s
        .get(
            &format!(
                "/v1/token?tenant={}&scope={GRAPH}/.default",
                d::CONTOSO_TENANT_DOMAIN
            ),
            Some(&secret),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = json(r).await;
    assert_eq!(body["tenant"], d::CONTOSO_TENANT_DOMAIN);
    assert_eq!(body["scope"], format!("{GRAPH}/.default"));
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 60);
    assert!(body["expires_on"].as_i64().is_some());
    assert!(body["access_token"].as_str().unwrap().starts_with("eyJ"));
    assert_eq!(
        s.emu.log().count(Endpoint::Token),
        1,
        "one exchange for four calls"
    );
    assert_eq!(
        s.emu.log().count(Endpoint::Imds),
        1,
        "one MI fetch (at start)"
    );

    // Refusals.
    let refused = |status: u16, body: Value| {
        assert_eq!(body["statusCode"], status, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(body["correlationId"].as_str().is_some());
    };
    let r = s.get(&app_service, None).await;
    assert_eq!(r.status(), 401);
    refused(401, json(r).await);
    let r = s.get(&app_service, Some("not-the-secret-at-all")).await;
    assert_eq!(r.status(), 401);
    let northwind = format!(
        "/tenants/{}/msi/token?api-version=2019-08-01&resource={GRAPH}",
        d::NORTHWIND_TENANT_DOMAIN
    );
    let r = s.get(&northwind, Some(&secret)).await;
    assert_eq!(r.status(), 403);
    refused(403, json(r).await);
    let r = s
        .get(
            &format!(
                "/tenants/{}/msi/token?api-version=2019-08-01",
                d::CONTOSO_TENANT_DOMAIN
            ),
            Some(&secret),
        )
        .await;
    assert_eq!(r.status(), 400, "no resource");
    let r = s.get("/nope", Some(&secret)).await;
    assert_eq!(r.status(), 404);
    let long = format!("{app_service}&pad={}", "x".repeat(3000));
    assert_eq!(s.get(&long, Some(&secret)).await.status(), 414);
    let huge_header = s
        .http
        .get(format!("{}{app_service}", s.url))
        .header("X-IDENTITY-HEADER", &secret)
        .header("X-Padding", "y".repeat(16 * 1024))
        .send()
        .await;
    assert!(
        huge_header.map_or(true, |r| r.status() == 431),
        "a request head over the cap is refused"
    );

    // Tailspin is allowed here but the app has no service principal there: AADSTS700016 → 400.
    let r = s
        .get(
            &format!(
                "/tenants/{}/msi/token?api-version=2019-08-01&resource={GRAPH}",
                d::TAILSPIN_TENANT_DOMAIN
            ),
            Some(&secret),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = json(r).await;
    refused(400, body.clone());
    assert_eq!(body["aadsts"], 700016, "{body}");
    assert_eq!(body["leg"], "exchange", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("AADSTS700016"),
        "{body}"
    );

    // Probes and metrics.
    assert_eq!(s.get("/healthz", None).await.status(), 200);
    assert_eq!(s.get("/readyz", None).await.status(), 200);
    let m = s.metrics().await;
    assert_eq!(metric(&m, "ficx_serve_cache_hits_total"), 3.0, "{m}");
    assert_eq!(
        metric(&m, "ficx_serve_cache_misses_total"),
        2.0,
        "contoso and tailspin\n{m}"
    );
    assert_eq!(metric(&m, "ficx_serve_exchanges_total"), 2.0, "{m}");
    assert_eq!(metric(&m, "ficx_serve_exchange_failures_total"), 1.0, "{m}");
    assert_eq!(metric(&m, "ficx_serve_mi_fetches_total"), 1.0, "{m}");
    assert_eq!(
        metric(
            &m,
            "ficx_serve_token_failures_total{status=\"400\",leg=\"exchange\",aadsts=\"700016\"}"
        ),
        1.0,
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "ficx_serve_requests_total{route=\"app_service\",status=\"200\"}"
        ),
        3.0,
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "ficx_serve_requests_total{route=\"app_service\",status=\"401\"}"
        ),
        2.0,
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "ficx_serve_requests_total{route=\"v1_token\",status=\"200\"}"
        ),
        1.0,
        "{m}"
    );
    assert!(
        metric(
            &m,
            "ficx_serve_request_duration_seconds_count{route=\"app_service\"}"
        ) >= 8.0
    );
    assert_eq!(metric(&m, "ficx_serve_ready"), 1.0);
    assert!(!m.contains("eyJ"));

    let stderr = s.stop_clean(&secret).await;
    // --log-format json: every line is one JSON object, and the access log is there.
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "request" && l["status"] == 403),
        "{stderr}"
    );
    assert!(lines.iter().any(|l| l["message"] == "stopped"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_from_the_environment_and_the_rate_limit() {
    let secret = "s3cret-from-the-environment-0123";
    let s = Served::start_env(
        &["--allow-any-tenant", "--rate-limit", "1"],
        vec![("FICX_SERVE_SECRET".into(), secret.into())],
    )
    .await;
    assert!(s.secret.is_none(), "a given secret is never printed");
    assert!(s.stdout.iter().all(|l| !l.contains(secret)));
    let path = format!(
        "/tenants/{}/msi/token?api-version=2019-08-01&resource={GRAPH}",
        d::NORTHWIND_TENANT_ID
    );
    let first = s.get(&path, Some(secret)).await;
    assert_eq!(first.status(), 200);
    let second = s.get(&path, Some(secret)).await;
    assert_eq!(second.status(), 429);
    let wait: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1).contains(&wait), "{wait}");
    let m = s.metrics().await;
    assert_eq!(metric(&m, "ficx_serve_rate_limited_total"), 1.0, "{m}");
    s.stop_clean(secret).await;
}
