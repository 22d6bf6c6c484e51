//! Feature `azure-core`: `TenantCredential` as an Azure SDK `TokenCredential`.

use azure_core::credentials::TokenCredential;
use ficx::emulator::{Endpoint, defaults};

use crate::support::Lab;

#[tokio::test]
async fn sdk_credential_uses_the_ficx_cache() {
    let lab = Lab::start().await;
    let x = lab.exchanger();
    let cred = x.tenant(defaults::CONTOSO_TENANT_DOMAIN).unwrap();
    let a = TokenCredential::get_token(&cred, &["https://graph.microsoft.com/.default"], None)
        .await
        .unwrap();
    let b = TokenCredential::get_token(&cred, &["https://graph.microsoft.com/.default"], None)
        .await
        .unwrap();
    assert_eq!(a.expires_on, b.expires_on);
    assert_eq!(lab.count(Endpoint::Token), 1);
    let e = TokenCredential::get_token(&cred, &["a/.default", "b/.default"], None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("exactly one scope"), "{e}");
    let bad = x.tenant(defaults::TAILSPIN_TENANT_DOMAIN).unwrap();
    let e = TokenCredential::get_token(&bad, &["https://graph.microsoft.com/.default"], None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("AADSTS700016"), "{e}");
}
