//! The exchange leg's failure modes through the library: AADSTS codes with hints, re-mint on
//! 700024, the propagation wait, input validation before any request.

use std::sync::Arc;
use std::time::Duration;

use ficx::emulator::{Emulator, EmulatorConfig, Endpoint, FicConfig, defaults};
use ficx::{Leg, ManagedIdentity, ManualClock};

use crate::support::{Lab, claims, trusted};

const S: &str = defaults::GRAPH_RESOURCE;

#[tokio::test]
async fn not_provisioned_tenant_is_700016_with_a_hint_and_no_retry() {
    let lab = Lab::start().await;
    let e = lab
        .exchanger()
        .token(defaults::TAILSPIN_TENANT_DOMAIN, S)
        .await
        .unwrap_err();
    assert_eq!(e.aadsts(), Some(700016));
    assert_eq!(e.leg(), Some(Leg::Exchange));
    assert!(!e.is_transient());
    assert!(e.hint().unwrap().contains("consent"));
    let entra = e.entra().unwrap();
    assert!(entra.trace_id.is_some() && entra.correlation_id.is_some());
    assert_eq!(entra.tenant, defaults::TAILSPIN_TENANT_DOMAIN);
    assert_eq!(lab.count(Endpoint::Token), 1);
}

#[tokio::test]
async fn fic_on_an_app_in_the_wrong_tenant_is_700236() {
    let lab = Lab::start().await;
    let x = lab
        .builder(Endpoint::Imds, trusted())
        .client_id(defaults::LOCAL_APP_CLIENT_ID)
        .build()
        .unwrap();
    let e = x
        .token(defaults::CONTOSO_TENANT_DOMAIN, S)
        .await
        .unwrap_err();
    assert_eq!(e.aadsts(), Some(700236));
    assert!(e.hint().unwrap().contains("registered in the MI's tenant"));
}

#[tokio::test]
async fn expired_assertion_is_reminted_once() {
    // The emulator's clock runs 25 h ahead of the client's after the first exchange, so Entra
    // sees the cached assertion as expired (AADSTS700024) while the client still trusts it.
    let emu_clock = Arc::new(ManualClock::starting_now());
    let client_clock = Arc::new(ManualClock::starting_now());
    let emu = Emulator::builder(EmulatorConfig::default_config())
        .clock(emu_clock.clone())
        .start()
        .await
        .unwrap();
    let x = emu.exchanger_builder().clock(client_clock).build().unwrap();
    x.token(defaults::CONTOSO_TENANT_DOMAIN, S).await.unwrap();
    emu_clock.advance(Duration::from_secs(25 * 3600));
    let t = x.token(defaults::NORTHWIND_TENANT_DOMAIN, S).await.unwrap();
    assert_eq!(
        claims(&t).str_claim("tid"),
        Some(defaults::NORTHWIND_TENANT_ID)
    );
    assert_eq!(emu.log().count(Endpoint::Imds), 2, "one re-mint");
    assert_eq!(
        emu.log().count(Endpoint::Token),
        3,
        "contoso, northwind refused, northwind again"
    );
}

fn fic_for_untrusted(visible_after_secs: u64) -> FicConfig {
    FicConfig {
        name: "trust-uami-untrusted".into(),
        issuer: defaults::APP_FIC_ISSUER.into(),
        subject: defaults::UAMI_UNTRUSTED_OBJECT_ID.into(),
        audiences: vec![defaults::EXCHANGE_AUDIENCE.into()],
        visible_after_secs,
    }
}

#[tokio::test]
async fn propagation_wait_rides_out_a_fresh_fic() {
    let lab = Lab::start().await;
    lab.emu
        .directory()
        .add_fic(defaults::APP_NAME, fic_for_untrusted(120))
        .unwrap();
    let untrusted = ManagedIdentity::client_id(defaults::UAMI_UNTRUSTED_CLIENT_ID).unwrap();

    let impatient = lab
        .builder(Endpoint::Imds, untrusted.clone())
        .build()
        .unwrap();
    let e = impatient
        .token(defaults::CONTOSO_TENANT_DOMAIN, S)
        .await
        .unwrap_err();
    assert_eq!(e.aadsts(), Some(70021));
    assert_eq!(
        lab.count(Endpoint::Token),
        1,
        "70021 is not retried without a propagation window"
    );

    let patient = lab
        .builder(Endpoint::Imds, untrusted)
        .propagation_wait(Duration::from_secs(300))
        .build()
        .unwrap();
    patient
        .token(defaults::CONTOSO_TENANT_DOMAIN, S)
        .await
        .unwrap();
    let waited = lab.clock.total_slept();
    assert!(
        waited >= Duration::from_secs(100) && waited <= Duration::from_secs(300),
        "{waited:?}"
    );
}

#[tokio::test]
async fn propagation_window_is_bounded() {
    let lab = Lab::start().await;
    lab.emu
        .directory()
        .add_fic(defaults::APP_NAME, fic_for_untrusted(3600))
        .unwrap();
    let untrusted = ManagedIdentity::client_id(defaults::UAMI_UNTRUSTED_CLIENT_ID).unwrap();
    let x = lab
        .builder(Endpoint::Imds, untrusted)
        .propagation_wait(Duration::from_secs(60))
        .build()
        .unwrap();
    let e = x
        .token(defaults::CONTOSO_TENANT_DOMAIN, S)
        .await
        .unwrap_err();
    assert_eq!(e.aadsts(), Some(70021));
    assert!(lab.clock.total_slept() <= Duration::from_secs(60));
}

#[tokio::test]
async fn bad_input_never_reaches_the_network() {
    let lab = Lab::start().await;
    let x = lab.exchanger();
    for (tenant, scope) in [
        ("contoso/evil", S),
        ("contoso.onmicrosoft.com?x=1", S),
        ("con toso.com", S),
        ("common", S),
        (
            defaults::CONTOSO_TENANT_DOMAIN,
            "https://graph.microsoft.com/.default https://management.azure.com/.default",
        ),
        (defaults::CONTOSO_TENANT_DOMAIN, "api://x#y"),
        (defaults::CONTOSO_TENANT_DOMAIN, "api://x\u{0}"),
    ] {
        let e = x.token(tenant, scope).await.unwrap_err();
        assert!(e.is_usage(), "{tenant:?} {scope:?}: {e}");
    }
    assert_eq!(lab.emu.log().len(), 0, "no request of any kind");
}

#[tokio::test]
async fn plain_http_authority_on_loopback() {
    let mut config = EmulatorConfig::default_config();
    config.listen.authority_http = true;
    let lab = Lab::with_config(config).await;
    let x = lab
        .builder(Endpoint::Imds, trusted())
        .authority_host(lab.emu.authority_http_url().unwrap())
        .build()
        .unwrap();
    x.token(defaults::CONTOSO_TENANT_DOMAIN, S).await.unwrap();
}
