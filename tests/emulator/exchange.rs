//! The token endpoint: successful exchanges (claims verified against the JWKS with
//! jsonwebtoken) and every AADSTS refusal, in Entra's body shape.

use std::sync::Arc;
use std::time::Duration;

use ficx::ManualClock;
use ficx::emulator::{Endpoint, FicConfig};
use serde_json::Value;

use crate::support::{
    self, assert_entra, client, d, exchange, exchange_form, get_json, imds_token, urlenc,
};

const EX: &str = "api://AzureADTokenExchange";
const GRAPH: &str = "https://graph.microsoft.com/.default";

fn trusted() -> String {
    format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID)
}

#[tokio::test]
async fn successful_exchanges_carry_the_foreign_tenant_and_roles() {
    let emu = support::start().await;
    let mi = imds_token(&emu, &trusted(), EX).await;

    let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &mi).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    assert_eq!(v["ext_expires_in"], 3599);
    assert!(v.get("refresh_in").is_none());
    let jwt = v["access_token"].as_str().unwrap();
    let c = support::verify(
        &emu,
        jwt,
        d::CONTOSO_TENANT_ID,
        &format!("https://sts.windows.net/{}/", d::CONTOSO_TENANT_ID),
        d::GRAPH_RESOURCE,
    )
    .await;
    assert_eq!(c["tid"], d::CONTOSO_TENANT_ID);
    assert_eq!(c["roles"], serde_json::json!(["Application.Read.All"]));
    assert_eq!(c["azp"], d::APP_CLIENT_ID);
    assert_eq!(c["appid"], d::APP_CLIENT_ID);
    assert_eq!(c["oid"], d::APP_SP_CONTOSO_OBJECT_ID);
    assert_eq!(c["sub"], d::APP_SP_CONTOSO_OBJECT_ID);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["ver"], "1.0");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3599
    );

    // v2 resource that exists only in Contoso.
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_DOMAIN,
        d::APP_CLIENT_ID,
        "api://orders/.default",
        &mi,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let c = support::verify(
        &emu,
        v["access_token"].as_str().unwrap(),
        d::CONTOSO_TENANT_ID,
        &emu.issuer_for(d::CONTOSO_TENANT_ID),
        d::ORDERS_RESOURCE,
    )
    .await;
    assert_eq!(c["roles"], serde_json::json!(["Orders.Read"]));
    assert_eq!(c["ver"], "2.0");
    assert_eq!(c["azp"], d::APP_CLIENT_ID);

    // Northwind by domain, Graph by app id; ARM with no roles granted has no roles claim.
    let (s, v) = exchange(
        &emu,
        d::NORTHWIND_TENANT_DOMAIN,
        d::APP_CLIENT_ID,
        &format!("{}/.default", d::GRAPH_APP_ID),
        &mi,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let c = support::claims(v["access_token"].as_str().unwrap());
    assert_eq!(c["tid"], d::NORTHWIND_TENANT_ID);
    assert_eq!(c["aud"], d::GRAPH_APP_ID);
    assert_eq!(c["roles"], serde_json::json!(["Directory.Read.All"]));
    assert_eq!(c["oid"], d::APP_SP_NORTHWIND_OBJECT_ID);
    let (s, v) = exchange(
        &emu,
        d::NORTHWIND_TENANT_ID,
        d::APP_CLIENT_ID,
        "https://management.azure.com/.default",
        &mi,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        support::claims(v["access_token"].as_str().unwrap())
            .get("roles")
            .is_none()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn request_shape_refusals() {
    let emu = support::start().await;
    let mi = imds_token(&emu, &trusted(), EX).await;
    let jb = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    let (s, v) = exchange(&emu, "nowhere.example.com", d::APP_CLIENT_ID, GRAPH, &mi).await;
    assert_entra(s, &v, 400, "invalid_request", 90002);

    let (s, v) = exchange_form(
        &emu,
        d::CONTOSO_TENANT_ID,
        &[
            ("client_id", d::APP_CLIENT_ID),
            ("grant_type", "client_credentials"),
            ("client_assertion_type", jb),
            ("client_assertion", &mi),
        ],
    )
    .await;
    assert_entra(s, &v, 400, "invalid_request", 900144);
    assert!(v["error_description"].as_str().unwrap().contains("'scope'"));
    let (s, v) = exchange_form(
        &emu,
        d::CONTOSO_TENANT_ID,
        &[
            ("scope", GRAPH),
            ("grant_type", "client_credentials"),
            ("client_assertion_type", jb),
            ("client_assertion", &mi),
        ],
    )
    .await;
    assert_entra(s, &v, 400, "invalid_request", 900144);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("'client_id'")
    );
    let (s, v) = exchange_form(
        &emu,
        d::CONTOSO_TENANT_ID,
        &[("client_id", d::APP_CLIENT_ID), ("scope", GRAPH)],
    )
    .await;
    assert_entra(s, &v, 400, "invalid_request", 900144);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("'grant_type'")
    );

    let (s, v) = exchange_form(
        &emu,
        d::CONTOSO_TENANT_ID,
        &[
            ("client_id", d::APP_CLIENT_ID),
            ("scope", GRAPH),
            ("grant_type", "client_credentials"),
            ("client_secret", "s3cr3t"),
            ("client_assertion_type", jb),
            ("client_assertion", &mi),
        ],
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 7000215);

    let (s, v) = exchange_form(
        &emu,
        d::CONTOSO_TENANT_ID,
        &[
            ("client_id", d::APP_CLIENT_ID),
            ("scope", GRAPH),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 7000218);
    let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, "").await;
    assert_entra(s, &v, 401, "invalid_client", 7000218);

    let (s, v) = exchange_form(
        &emu,
        d::CONTOSO_TENANT_ID,
        &[
            ("client_id", d::APP_CLIENT_ID),
            ("scope", GRAPH),
            ("grant_type", "password"),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );

    for bad in ["not-a-jwt", "a.b.c", "e30.e30.", "eyJhbGciOiJub25lIn0.e30."] {
        let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, bad).await;
        assert_entra(s, &v, 400, "invalid_request", 50027);
    }

    // A valid-looking token whose claims were altered after signing.
    let mut parts: Vec<String> = mi.split('.').map(str::to_owned).collect();
    let mut claims = support::claims(&mi);
    claims["sub"] = Value::String(d::UAMI_UNTRUSTED_OBJECT_ID.into());
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        GRAPH,
        &parts.join("."),
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 700027);

    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        "a/.default b/.default",
        &mi,
    )
    .await;
    assert_entra(s, &v, 400, "invalid_scope", 70011);
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        "https://graph.microsoft.com",
        &mi,
    )
    .await;
    assert_entra(s, &v, 400, "invalid_scope", 1002012);
    for scope in ["api://nope/.default", "api://AzureADTokenExchange/.default"] {
        let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, scope, &mi).await;
        assert_entra(s, &v, 400, "invalid_resource", 500011);
    }
    let (s, v) = exchange(
        &emu,
        d::NORTHWIND_TENANT_ID,
        d::APP_CLIENT_ID,
        "api://orders/.default",
        &mi,
    )
    .await;
    assert_entra(s, &v, 400, "invalid_resource", 500011);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("api://orders")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn app_and_provisioning_refusals() {
    let emu = support::start().await;
    let mi = imds_token(&emu, &trusted(), EX).await;
    let (s, v) = exchange(&emu, d::TAILSPIN_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &mi).await;
    assert_entra(s, &v, 400, "unauthorized_client", 700016);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(d::APP_CLIENT_ID)
    );
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        "99999999-0000-4000-8000-000000000000",
        GRAPH,
        &mi,
    )
    .await;
    assert_entra(s, &v, 400, "unauthorized_client", 700016);
    // A single-tenant app asked for in a foreign tenant.
    let (s, v) = exchange(
        &emu,
        d::NORTHWIND_TENANT_ID,
        d::LOCAL_APP_CLIENT_ID,
        GRAPH,
        &mi,
    )
    .await;
    assert_entra(s, &v, 400, "unauthorized_client", 700016);
    // The home tenant has no service principal of the app.
    let (s, v) = exchange(&emu, d::HOME_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &mi).await;
    assert_entra(s, &v, 401, "invalid_client", 7000229);
    // The FIC sits on an app registered in the foreign tenant.
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::LOCAL_APP_CLIENT_ID,
        GRAPH,
        &mi,
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 700236);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(d::APP_FIC_ISSUER)
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn fic_matching_refusals() {
    let emu = support::start().await;
    let trusted_ex = imds_token(&emu, &trusted(), EX).await;

    // Subject: an identity no FIC names.
    let untrusted = imds_token(
        &emu,
        &format!("&client_id={}", d::UAMI_UNTRUSTED_CLIENT_ID),
        EX,
    )
    .await;
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        GRAPH,
        &untrusted,
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 700213);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("'{}'", d::UAMI_UNTRUSTED_OBJECT_ID))
    );

    // Audience: an MI token for ARM instead of the exchange audience.
    let arm = imds_token(&emu, &trusted(), d::ARM_RESOURCE).await;
    let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &arm).await;
    assert_entra(s, &v, 401, "invalid_client", 700212);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("'{}'", d::ARM_RESOURCE))
    );

    // Issuer: a FIC whose issuer has a trailing slash.
    let dir = emu.directory();
    assert!(dir.remove_fic(d::APP_NAME, d::APP_FIC_NAME).unwrap());
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        GRAPH,
        &trusted_ex,
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 70025);
    dir.add_fic(
        d::APP_NAME,
        FicConfig {
            name: "slash".into(),
            issuer: format!("{}/", d::APP_FIC_ISSUER),
            subject: d::UAMI_TRUSTED_OBJECT_ID.into(),
            audiences: vec![EX.into()],
            visible_after_secs: 0,
        },
    )
    .unwrap();
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        GRAPH,
        &trusted_ex,
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 700211);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("'{}'", d::APP_FIC_ISSUER))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn delegated_and_app_tokens_are_refused() {
    let emu = support::start().await;
    let c = client(&emu);
    let r = c
        .post(emu.endpoint_url(Endpoint::CloudShell))
        .header("Metadata", "true")
        .form(&[("resource", EX)])
        .send()
        .await
        .unwrap();
    let user: Value = crate::support::json(r).await;
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        GRAPH,
        user["access_token"].as_str().unwrap(),
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 700229);

    let mi = imds_token(&emu, &trusted(), EX).await;
    let (_, ok) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &mi).await;
    let app_token = ok["access_token"].as_str().unwrap();
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        GRAPH,
        app_token,
    )
    .await;
    assert_entra(s, &v, 401, "invalid_client", 700226);
    emu.shutdown().await;
}

#[tokio::test]
async fn expired_assertion_and_fic_propagation() {
    let clock = Arc::new(ManualClock::starting_now());
    let emu = support::start_with_clock(clock.clone()).await;
    let mi = imds_token(&emu, &trusted(), EX).await;
    clock.advance(Duration::from_secs(86_400 + 300 + 1));
    let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &mi).await;
    assert_entra(s, &v, 401, "invalid_client", 700024);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("valid time range")
    );

    // A freshly created FIC is invisible for a while: 70021, then success.
    let fresh = imds_token(&emu, &trusted(), EX).await;
    assert_ne!(fresh, mi);
    let dir = emu.directory();
    dir.remove_fic(d::APP_NAME, d::APP_FIC_NAME).unwrap();
    dir.add_fic(
        d::APP_CLIENT_ID,
        FicConfig {
            name: d::APP_FIC_NAME.into(),
            issuer: d::APP_FIC_ISSUER.into(),
            subject: d::UAMI_TRUSTED_OBJECT_ID.into(),
            audiences: vec![EX.into()],
            visible_after_secs: 120,
        },
    )
    .unwrap();
    let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &fresh).await;
    assert_entra(s, &v, 401, "invalid_client", 70021);
    clock.advance(Duration::from_secs(121));
    let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &fresh).await;
    assert_eq!(s, 200, "{v}");

    // Consent propagation: a new service principal is invisible at first (700016).
    let oid = dir
        .add_service_principal(d::APP_NAME, d::TAILSPIN_TENANT_ID, None, 60)
        .unwrap();
    let (s, v) = exchange(&emu, d::TAILSPIN_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &fresh).await;
    assert_entra(s, &v, 400, "unauthorized_client", 700016);
    clock.advance(Duration::from_secs(61));
    let (s, v) = exchange(&emu, d::TAILSPIN_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &fresh).await;
    assert_eq!(s, 200, "{v}");
    let c = support::claims(v["access_token"].as_str().unwrap());
    assert_eq!(c["oid"], oid);
    assert!(c.get("roles").is_none());
    dir.add_role_assignment(
        d::APP_NAME,
        d::TAILSPIN_TENANT_ID,
        "graph",
        &["User.Read.All".into()],
    )
    .unwrap();
    let (_, v) = exchange(&emu, d::TAILSPIN_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &fresh).await;
    assert_eq!(
        support::claims(v["access_token"].as_str().unwrap())["roles"],
        serde_json::json!(["User.Read.All"])
    );
    assert!(
        dir.remove_service_principal(d::APP_NAME, d::CONTOSO_TENANT_ID)
            .unwrap()
    );
    let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &fresh).await;
    assert_entra(s, &v, 400, "unauthorized_client", 700016);
    emu.shutdown().await;
}

#[tokio::test]
async fn correlation_id_is_echoed_and_refresh_in_is_configurable() {
    let emu = support::start_with(|c| c.lifetimes.app_refresh_in_secs = Some(1800)).await;
    let corr = "0d0d0d0d-1111-4222-8333-444444444444";
    let r = client(&emu)
        .post(emu.token_url(d::TAILSPIN_TENANT_ID))
        .header("client-request-id", corr)
        .form(&[
            ("client_id", d::APP_CLIENT_ID),
            ("scope", GRAPH),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["client-request-id"], corr);
    let v: Value = crate::support::json(r).await;
    assert_eq!(v["correlation_id"], corr);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("Correlation ID: {corr}"))
    );

    let mi = imds_token(&emu, &trusted(), EX).await;
    let (s, v) = exchange(&emu, d::CONTOSO_TENANT_ID, d::APP_CLIENT_ID, GRAPH, &mi).await;
    assert_eq!(s, 200);
    assert_eq!(v["refresh_in"], 1800);
    // The discovery doc and instance discovery an SDK reads first are logged too.
    let (s, _) = get_json(
        &client(&emu),
        &format!(
            "{}/common/discovery/instance?api-version=1.1&authorization_endpoint={}",
            emu.authority_url(),
            urlenc(&format!("{}/x/oauth2/v2.0/authorize", emu.authority_url()))
        ),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(emu.log().count(Endpoint::InstanceDiscovery), 1);
    emu.shutdown().await;
}
