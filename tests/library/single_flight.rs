//! Single flight, counted from the emulator's request log: concurrent cold callers cause exactly
//! one MI request and one exchange per tenant.

use ficx::emulator::{Endpoint, defaults};

use crate::support::Lab;
use ficx::emulator::EmulatorConfig;
use ficx::emulator::defaults::customer_domain as customer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_callers_one_key_one_mi_one_exchange() {
    let lab = Lab::start().await;
    let x = lab.exchanger();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let x = x.clone();
        tasks.push(tokio::spawn(async move {
            x.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
                .await
                .map(|t| t.expires_on())
        }));
    }
    let mut expiries = std::collections::HashSet::new();
    for t in tasks {
        expiries.insert(t.await.unwrap().unwrap());
    }
    assert_eq!(expiries.len(), 1, "everyone got the same token");
    assert_eq!(
        (lab.count(Endpoint::Imds), lab.count(Endpoint::Token)),
        (1, 1)
    );
}

async fn callers_over_tenants(callers: usize, tenants: usize) {
    let lab = Lab::with_config(EmulatorConfig::with_customer_tenants(tenants)).await;
    let x = lab.exchanger();
    let mut tasks = Vec::new();
    for i in 0..callers {
        let x = x.clone();
        let tenant = customer(i % tenants);
        tasks.push(tokio::spawn(async move {
            x.token(&tenant, defaults::GRAPH_RESOURCE).await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        lab.count(Endpoint::Imds),
        1,
        "one assertion shared by every tenant"
    );
    assert_eq!(
        lab.count(Endpoint::Token),
        tenants,
        "one exchange per tenant"
    );
    assert_eq!(x.exchange_count(), tenants as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_callers_over_fifty_tenants() {
    callers_over_tenants(1000, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_callers_over_hundred_tenants() {
    callers_over_tenants(1000, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_callers_do_not_poison_the_flight() {
    let lab = Lab::start().await;
    let x = lab.exchanger();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let x = x.clone();
        let t = tokio::spawn(async move {
            x.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
                .await
        });
        if i % 2 == 0 {
            t.abort();
        } else {
            tasks.push(t);
        }
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let again = x
        .token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
        .await
        .unwrap();
    assert!(!again.is_empty());
    assert_eq!(lab.count(Endpoint::Token), 1);
}

#[tokio::test]
async fn tenant_credential_shares_the_exchanger_cache() {
    let lab = Lab::start().await;
    let x = lab.exchanger();
    let contoso = x.tenant(defaults::CONTOSO_TENANT_ID).unwrap();
    let a = contoso
        .get_token("https://graph.microsoft.com/.default")
        .await
        .unwrap();
    let b = x
        .token(defaults::CONTOSO_TENANT_ID, "https://graph.microsoft.com")
        .await
        .unwrap();
    assert_eq!(a.expires_on(), b.expires_on());
    let c = x
        .token(
            "22222222-2222-4222-8222-222222222222"
                .to_uppercase()
                .as_str(),
            defaults::GRAPH_RESOURCE,
        )
        .await
        .unwrap();
    assert_eq!(
        c.expires_on(),
        a.expires_on(),
        "tenant ids are case-insensitive"
    );
    assert_eq!(lab.count(Endpoint::Token), 1);
}
