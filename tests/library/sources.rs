//! Each managed-identity source × selector, then the full exchange through each source that can
//! reach the trusted identity.

use ficx::emulator::{Endpoint, defaults};
use ficx::{Error, ManagedIdentity, SourceKind};

use crate::support::{Lab, claims, trusted};

const AUD: &str = "api://AzureADTokenExchange";

fn by_object() -> ManagedIdentity {
    ManagedIdentity::object_id(defaults::UAMI_TRUSTED_OBJECT_ID).unwrap()
}
fn by_resource() -> ManagedIdentity {
    ManagedIdentity::resource_id(defaults::UAMI_TRUSTED_RESOURCE_ID).unwrap()
}

async fn oid_of(lab: &Lab, source: Endpoint, identity: ManagedIdentity) -> Result<String, Error> {
    let mi = lab.mi_source(source, identity)?;
    let t = mi.token(AUD).await?;
    let c = claims(&t);
    assert_eq!(c.audience(), Some(AUD));
    assert!(
        t.remaining(ficx::Clock::now(lab.clock.as_ref())) > std::time::Duration::from_secs(3600)
    );
    Ok(c.str_claim("oid").unwrap().to_owned())
}

#[tokio::test]
async fn imds_every_selector() {
    let lab = Lab::start().await;
    assert_eq!(
        oid_of(&lab, Endpoint::Imds, ManagedIdentity::SystemAssigned)
            .await
            .unwrap(),
        defaults::SAMI_OBJECT_ID
    );
    for id in [trusted(), by_object(), by_resource()] {
        assert_eq!(
            oid_of(&lab, Endpoint::Imds, id).await.unwrap(),
            defaults::UAMI_TRUSTED_OBJECT_ID
        );
    }
    assert_eq!(lab.count(Endpoint::Imds), 4);
}

#[tokio::test]
async fn app_service_every_selector() {
    let lab = Lab::start().await;
    assert_eq!(
        oid_of(&lab, Endpoint::AppService, ManagedIdentity::SystemAssigned)
            .await
            .unwrap(),
        defaults::SAMI_OBJECT_ID
    );
    for id in [trusted(), by_object(), by_resource()] {
        assert_eq!(
            oid_of(&lab, Endpoint::AppService, id).await.unwrap(),
            defaults::UAMI_TRUSTED_OBJECT_ID
        );
    }
}

#[tokio::test]
async fn app_service_unknown_identity_is_an_mi_error_not_retried() {
    let lab = Lab::start().await;
    let stranger = ManagedIdentity::client_id("99999999-0000-4000-8000-000000000009").unwrap();
    let e = oid_of(&lab, Endpoint::AppService, stranger)
        .await
        .unwrap_err();
    let mi = e.managed_identity().expect("an MI endpoint error");
    assert_eq!((mi.source_kind, mi.status), (SourceKind::AppService, 400));
    assert!(!e.is_transient());
    assert_eq!(lab.count(Endpoint::AppService), 1);
}

#[tokio::test]
async fn arc_system_identity_through_the_challenge() {
    let lab = Lab::start().await;
    assert_eq!(
        oid_of(&lab, Endpoint::AzureArc, ManagedIdentity::SystemAssigned)
            .await
            .unwrap(),
        defaults::SAMI_OBJECT_ID
    );
    assert_eq!(
        lab.count(Endpoint::AzureArc),
        2,
        "challenge + authorized request"
    );
}

#[tokio::test]
async fn arc_user_assigned_fails_closed_on_the_echo_check() {
    let lab = Lab::start().await;
    let e = oid_of(&lab, Endpoint::AzureArc, trusted())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
    assert!(e.to_string().contains("different identity"), "{e}");
}

#[tokio::test]
async fn arc_key_file_outside_the_agent_directory_is_refused() {
    let lab = Lab::start().await;
    let elsewhere = tempfile::tempdir().unwrap();
    let mi = ficx::ManagedIdentitySource::builder()
        .env(
            lab.env(Endpoint::AzureArc)
                .with_var("FICX_ARC_KEY_DIR", elsewhere.path().display().to_string()),
        )
        .http(lab.http())
        .clock(lab.clock.clone())
        .build()
        .unwrap();
    let e = mi.token(AUD).await.unwrap_err();
    assert!(
        e.to_string().contains("outside the Arc agent directory"),
        "{e}"
    );
    assert_eq!(
        lab.count(Endpoint::AzureArc),
        1,
        "the key file is never used"
    );
}

#[tokio::test]
async fn azure_ml_system_and_client_id() {
    let lab = Lab::start().await;
    assert_eq!(
        oid_of(&lab, Endpoint::AzureMl, ManagedIdentity::SystemAssigned)
            .await
            .unwrap(),
        defaults::SAMI_OBJECT_ID
    );
    assert_eq!(
        oid_of(&lab, Endpoint::AzureMl, trusted()).await.unwrap(),
        defaults::UAMI_TRUSTED_OBJECT_ID
    );
    let e = lab.mi_source(Endpoint::AzureMl, by_object()).unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e:?}");
}

#[tokio::test]
async fn service_fabric_pinned_and_cluster_chosen() {
    let lab = Lab::start().await;
    assert_eq!(
        oid_of(
            &lab,
            Endpoint::ServiceFabric,
            ManagedIdentity::SystemAssigned
        )
        .await
        .unwrap(),
        defaults::UAMI_TRUSTED_OBJECT_ID
    );
    assert!(matches!(
        lab.mi_source(Endpoint::ServiceFabric, trusted()),
        Err(Error::Unsupported(_))
    ));
}

#[tokio::test]
async fn service_fabric_wrong_thumbprint_is_refused() {
    let lab = Lab::start().await;
    let mi = ficx::ManagedIdentitySource::builder()
        .env(
            lab.env(Endpoint::ServiceFabric)
                .with_var("IDENTITY_SERVER_THUMBPRINT", "00".repeat(20)),
        )
        .http(lab.http())
        .clock(lab.clock.clone())
        .build()
        .unwrap();
    let e = mi.token(AUD).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                kind: ficx::TransportKind::Tls,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        lab.count(Endpoint::ServiceFabric),
        0,
        "no request reaches an unpinned server"
    );
}

#[tokio::test]
async fn cloud_shell_is_refused_before_any_request() {
    let lab = Lab::start().await;
    let e = lab
        .mi_source(Endpoint::CloudShell, ManagedIdentity::SystemAssigned)
        .unwrap_err();
    assert!(e.to_string().contains("AADSTS700229"), "{e}");
    assert_eq!(lab.count(Endpoint::CloudShell), 0);
}

#[tokio::test]
async fn same_token_from_the_platform_cache_and_one_request() {
    let lab = Lab::start().await;
    let mi = lab.mi_source(Endpoint::Imds, trusted()).unwrap();
    let a = mi.token(AUD).await.unwrap();
    let b = mi
        .token("api://AzureADTokenExchange/.default")
        .await
        .unwrap();
    assert_eq!(a.expires_on(), b.expires_on());
    assert_eq!(lab.count(Endpoint::Imds), 1);
}

#[tokio::test]
async fn full_exchange_through_each_source_reaching_the_trusted_identity() {
    let lab = Lab::start().await;
    for (source, identity) in [
        (Endpoint::Imds, trusted()),
        (Endpoint::Imds, by_object()),
        (Endpoint::Imds, by_resource()),
        (Endpoint::AppService, trusted()),
        (Endpoint::AzureMl, trusted()),
        (Endpoint::ServiceFabric, ManagedIdentity::SystemAssigned),
    ] {
        let x = lab.builder(source, identity.clone()).build().unwrap();
        let t = x
            .token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
            .await
            .unwrap_or_else(|e| panic!("{source} {identity}: {e}"));
        let c = claims(&t);
        assert_eq!(c.str_claim("tid"), Some(defaults::CONTOSO_TENANT_ID));
        assert_eq!(c.roles(), ["Application.Read.All"]);
    }
}
