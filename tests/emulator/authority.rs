//! The authority's discovery documents: OpenID configuration per tenant (id or domain), JWKS,
//! instance discovery as MSAL asks for it, and the optional plain-http listener.

use ficx::emulator::Endpoint;

use crate::support::{self, client, d, get_json, urlenc};

#[tokio::test]
async fn openid_configuration_points_at_the_served_url() {
    let emu = support::start().await;
    let c = client(&emu);
    let base = emu.authority_url();
    for seg in [
        d::CONTOSO_TENANT_ID,
        d::CONTOSO_TENANT_DOMAIN,
        "Contoso.OnMicrosoft.com",
    ] {
        let (s, v) = get_json(
            &c,
            &format!("{base}/{seg}/v2.0/.well-known/openid-configuration"),
            &[],
        )
        .await;
        assert_eq!(s, 200, "{seg}");
        assert_eq!(
            v["issuer"],
            format!(
                "https://login.microsoftonline.com/{}/v2.0",
                d::CONTOSO_TENANT_ID
            )
        );
        assert_eq!(
            v["token_endpoint"],
            format!("{base}/{}/oauth2/v2.0/token", d::CONTOSO_TENANT_ID)
        );
        assert_eq!(
            v["jwks_uri"],
            format!("{base}/{}/discovery/v2.0/keys", d::CONTOSO_TENANT_ID)
        );
        assert_eq!(
            v["authorization_endpoint"],
            format!("{base}/{}/oauth2/v2.0/authorize", d::CONTOSO_TENANT_ID)
        );
        assert!(v["id_token_signing_alg_values_supported"][0] == "RS256");
    }
    assert_eq!(
        emu.endpoint_url(Endpoint::OpenIdConfiguration),
        format!(
            "{base}/{}/v2.0/.well-known/openid-configuration",
            d::HOME_TENANT_ID
        )
    );
    let (s, v) = get_json(
        &c,
        &format!("{base}/organizations/v2.0/.well-known/openid-configuration"),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["issuer"],
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
    let (s, v) = get_json(
        &c,
        &format!(
            "{base}/{}/.well-known/openid-configuration",
            d::CONTOSO_TENANT_ID
        ),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["issuer"],
        format!("https://sts.windows.net/{}/", d::CONTOSO_TENANT_ID)
    );

    let (s, v) = get_json(
        &c,
        &format!("{base}/nowhere.example.com/v2.0/.well-known/openid-configuration"),
        &[],
    )
    .await;
    support::assert_entra(s, &v, 400, "invalid_request", 90002);
    let (s, _) = get_json(&c, &format!("{base}/nothing/here"), &[]).await;
    assert_eq!(s, 404);
    emu.shutdown().await;
}

#[tokio::test]
async fn jwks_per_tenant_and_common() {
    let emu = support::start().await;
    let c = client(&emu);
    let base = emu.authority_url();
    let (s, v) = get_json(
        &c,
        &format!("{base}/{}/discovery/v2.0/keys", d::NORTHWIND_TENANT_DOMAIN),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let k = &v["keys"][0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["use"], "sig");
    assert_eq!(k["kid"], k["x5t"]);
    assert_eq!(k["e"], "AQAB");
    assert!(k["n"].as_str().unwrap().len() > 300);
    assert_eq!(
        k["issuer"],
        format!(
            "https://login.microsoftonline.com/{}/v2.0",
            d::NORTHWIND_TENANT_ID
        )
    );
    let (s, common) = get_json(&c, &emu.endpoint_url(Endpoint::Jwks), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(common["keys"][0]["kid"], k["kid"]);
    assert_eq!(
        common["keys"][0]["issuer"],
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
    let (s, _) = get_json(
        &c,
        &format!("{base}/unknown.example.com/discovery/v2.0/keys"),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn instance_discovery_answers_for_its_own_host() {
    let emu = support::start().await;
    let c = client(&emu);
    let base = emu.authority_url();
    let hostport = base.trim_start_matches("https://");
    let auth_ep = format!("{base}/{}/oauth2/v2.0/authorize", d::CONTOSO_TENANT_ID);
    let (s, v) = get_json(
        &c,
        &format!(
            "{base}/common/discovery/instance?api-version=1.1&authorization_endpoint={}",
            urlenc(&auth_ep)
        ),
        &[],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["api-version"], "1.1");
    assert_eq!(
        v["tenant_discovery_endpoint"],
        format!(
            "{base}/{}/v2.0/.well-known/openid-configuration",
            d::CONTOSO_TENANT_ID
        )
    );
    let m = &v["metadata"][0];
    assert_eq!(m["preferred_network"], hostport);
    assert_eq!(m["preferred_cache"], hostport);
    assert_eq!(m["aliases"][0], hostport);
    let (s, v) = get_json(
        &c,
        &format!(
            "{base}/common/discovery/instance?api-version=1.1&authorization_endpoint={}",
            urlenc("https://login.example.com/common/oauth2/v2.0/authorize")
        ),
        &[],
    )
    .await;
    support::assert_entra(s, &v, 400, "invalid_instance", 50049);
    // MSAL Python drops the port from the authorization endpoint it sends.
    let (s, v) = get_json(
        &c,
        &format!(
            "{base}/common/discovery/instance?api-version=1.0&authorization_endpoint={}",
            urlenc(&format!(
                "https://127.0.0.1/{}/oauth2/v2.0/authorize",
                d::CONTOSO_TENANT_ID
            ))
        ),
        &[],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["tenant_discovery_endpoint"],
        format!(
            "{base}/{}/v2.0/.well-known/openid-configuration",
            d::CONTOSO_TENANT_ID
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn plain_http_authority_when_enabled() {
    let emu = support::start_with(|c| c.listen.authority_http = true).await;
    let http = emu.authority_http_url().expect("enabled").to_owned();
    assert!(http.starts_with("http://127.0.0.1:"));
    let (s, v) = get_json(
        &client(&emu),
        &format!(
            "{http}/{}/v2.0/.well-known/openid-configuration",
            d::CONTOSO_TENANT_ID
        ),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["token_endpoint"],
        format!("{http}/{}/oauth2/v2.0/token", d::CONTOSO_TENANT_ID)
    );
    let log = emu.log().entries();
    assert_eq!(
        log.last().unwrap().listener,
        ficx::emulator::Listener::AuthorityHttp
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn ipv6_loopback_when_available() {
    let mut c = support::config();
    c.listen.host = "::1".into();
    match ficx::emulator::Emulator::start(c).await {
        Ok(emu) => {
            assert!(
                emu.authority_url().starts_with("https://[::1]:"),
                "{}",
                emu.authority_url()
            );
            assert!(emu.mi_url().starts_with("http://[::1]:"));
            let tok = support::imds_token(&emu, "", "api://AzureADTokenExchange").await;
            assert_eq!(support::claims(&tok)["oid"], d::SAMI_OBJECT_ID);
            let (s, _) = get_json(
                &client(&emu),
                &emu.endpoint_url(Endpoint::OpenIdConfiguration),
                &[],
            )
            .await;
            assert_eq!(s, 200, "the certificate covers ::1");
            emu.shutdown().await;
        }
        Err(ficx::emulator::EmulatorError::Bind { .. }) => {
            println!("SKIPPED: no IPv6 loopback here")
        }
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn non_loopback_bind_is_refused() {
    let mut c = support::config();
    c.listen.host = "0.0.0.0".into();
    let e = ficx::emulator::Emulator::start(c).await.unwrap_err();
    assert!(e.to_string().contains("listen.host"), "{e}");
}

#[tokio::test]
async fn key_generation_when_no_key_is_configured() {
    let emu = ficx::emulator::Emulator::start(ficx::emulator::EmulatorConfig::default_config())
        .await
        .unwrap();
    let tok = support::imds_token(
        &emu,
        &format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID),
        "api://AzureADTokenExchange",
    )
    .await;
    support::verify(
        &emu,
        &tok,
        d::HOME_TENANT_ID,
        &emu.issuer_for(d::HOME_TENANT_ID),
        "api://AzureADTokenExchange",
    )
    .await;
    emu.shutdown().await;
}
