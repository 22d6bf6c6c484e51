//! The request log (names only, never secrets) and the HTTP control API.

use ficx::emulator::{Endpoint, Listener};
use serde_json::{Value, json};

use crate::support::{self, client, d, exchange, get_json, imds_token, urlenc};

const EX: &str = "api://AzureADTokenExchange";

#[tokio::test]
async fn the_log_keeps_names_never_secrets() {
    let emu = support::start().await;
    let c = client(&emu);
    let mi = imds_token(
        &emu,
        &format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID),
        EX,
    )
    .await;
    let (_, v) = get_json(
        &c,
        &format!(
            "{}?api-version=2019-08-01&resource={}",
            emu.endpoint_url(Endpoint::AppService),
            urlenc(EX)
        ),
        &[("X-IDENTITY-HEADER", emu.identity_header())],
    )
    .await;
    let app_service_token = v["access_token"].as_str().unwrap().to_owned();
    let (_, v) = get_json(
        &c,
        &format!(
            "{}?api-version=2017-09-01&resource={}",
            emu.endpoint_url(Endpoint::AzureMl),
            urlenc(EX)
        ),
        &[("secret", emu.msi_secret())],
    )
    .await;
    let ml_token = v["access_token"].as_str().unwrap().to_owned();
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_DOMAIN,
        d::APP_CLIENT_ID,
        "https://graph.microsoft.com/.default",
        &mi,
    )
    .await;
    assert_eq!(s, 200);
    let app_token = v["access_token"].as_str().unwrap().to_owned();

    let entries = emu.log().entries();
    let dump = format!("{entries:?}");
    let (s, json_log) = get_json(&c, &format!("{}/_ficx/log", emu.mi_url()), &[]).await;
    assert_eq!(s, 200);
    let json_dump = json_log.to_string();
    for secret in [
        emu.identity_header(),
        emu.msi_secret(),
        &mi,
        &app_service_token,
        &ml_token,
        &app_token,
    ] {
        assert!(!dump.contains(secret), "secret in Debug of the log");
        assert!(!json_dump.contains(secret), "secret in the JSON log");
    }

    let imds = entries
        .iter()
        .find(|e| e.endpoint == Some(Endpoint::Imds))
        .unwrap();
    assert_eq!(imds.listener, Listener::Mi);
    assert_eq!(imds.method, "GET");
    assert_eq!(imds.path, "/metadata/identity/oauth2/token");
    assert!(
        imds.query
            .contains(&("client_id".into(), d::UAMI_TRUSTED_CLIENT_ID.into()))
    );
    assert!(imds.header_names.contains(&"metadata".into()));
    assert_eq!(imds.status, Some(200));
    let app = entries
        .iter()
        .find(|e| e.endpoint == Some(Endpoint::AppService))
        .unwrap();
    assert!(app.header_names.contains(&"x-identity-header".into()));
    let tok = entries
        .iter()
        .find(|e| e.endpoint == Some(Endpoint::Token))
        .unwrap();
    assert_eq!(tok.listener, Listener::Authority);
    assert_eq!(tok.tenant.as_deref(), Some(d::CONTOSO_TENANT_DOMAIN));
    assert_eq!(tok.method, "POST");
    for f in [
        "client_id",
        "scope",
        "grant_type",
        "client_assertion_type",
        "client_assertion",
    ] {
        assert!(tok.form_fields.contains(&f.to_owned()), "{f}");
    }
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));

    assert_eq!(emu.log().count(Endpoint::Imds), 1);
    assert_eq!(emu.log().count(Endpoint::Token), 1);
    assert_eq!(
        emu.log().count(Endpoint::Control),
        1,
        "the GET /_ficx/log above"
    );
    assert_eq!(
        emu.log().count_where(|e| e.status == Some(200)),
        emu.log().len()
    );
    emu.log().clear();
    assert!(emu.log().is_empty());
    assert_eq!(emu.log().count(Endpoint::Imds), 0);
    emu.shutdown().await;
}

async fn send(
    c: &reqwest::Client,
    m: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = c.request(m, url);
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    (s, crate::support::json(r).await)
}

#[tokio::test]
async fn control_api_round_trips() {
    use reqwest::Method;
    let emu = support::start().await;
    let c = client(&emu);
    for base in [emu.mi_url().to_owned(), emu.authority_url().to_owned()] {
        let (s, v) = send(&c, Method::GET, &format!("{base}/_ficx/health"), None).await;
        assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
        assert_eq!(v["authority"], emu.authority_url());
    }
    let ctl = emu.endpoint_url(Endpoint::Control);
    let mi = imds_token(
        &emu,
        &format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID),
        EX,
    )
    .await;

    // Faults.
    let (s, v) = send(&c, Method::POST, &format!("{ctl}/faults"), Some(json!({"endpoint": "token", "fault": {"kind": "status", "status": 429, "retry_after": {"seconds": 2}}, "times": 2}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["pending"], 1);
    for _ in 0..2 {
        let r = c
            .post(emu.token_url(d::CONTOSO_TENANT_ID))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers()["retry-after"], "2");
    }
    let (s, _) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        "https://graph.microsoft.com/.default",
        &mi,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = send(&c, Method::POST, &format!("{ctl}/faults"), Some(json!({"endpoint": "imds", "fault": {"kind": "html", "status": 502}, "times": "always"}))).await;
    assert_eq!(s, 200);
    let imds_url = format!(
        "{}?api-version=2018-02-01&resource={}",
        emu.endpoint_url(Endpoint::Imds),
        urlenc(EX)
    );
    assert_eq!(
        get_json(&c, &imds_url, &[("Metadata", "true")]).await.0,
        502
    );
    let (s, _) = send(&c, Method::DELETE, &format!("{ctl}/faults"), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        get_json(&c, &imds_url, &[("Metadata", "true")]).await.0,
        200
    );
    let (s, _) = send(
        &c,
        Method::POST,
        &format!("{ctl}/faults"),
        Some(json!({"endpoint": "control", "fault": {"kind": "hang"}})),
    )
    .await;
    assert_eq!(s, 400);
    let (s, v) = send(
        &c,
        Method::POST,
        &format!("{ctl}/faults"),
        Some(json!({"endpoint": "nope"})),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("invalid JSON body"));

    // Expiry format.
    let (s, _) = send(
        &c,
        Method::POST,
        &format!("{ctl}/expiry-format"),
        Some(json!({"endpoint": "imds", "format": "epoch_number", "refresh_in": true})),
    )
    .await;
    assert_eq!(s, 200);
    let (_, v) = get_json(&c, &imds_url, &[("Metadata", "true")]).await;
    assert!(v["expires_on"].is_i64() && v["refresh_in"].is_i64(), "{v}");
    let (s, _) = send(
        &c,
        Method::POST,
        &format!("{ctl}/expiry-format"),
        Some(json!({"endpoint": "token", "format": "epoch_number"})),
    )
    .await;
    assert_eq!(s, 400);

    // FICs.
    let fics = format!("{ctl}/directory/fics");
    let (s, v) = send(
        &c,
        Method::DELETE,
        &format!("{fics}?app={}&name={}", d::APP_NAME, d::APP_FIC_NAME),
        None,
    )
    .await;
    assert_eq!((s, v["result"].as_bool()), (200, Some(true)));
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        "https://graph.microsoft.com/.default",
        &mi,
    )
    .await;
    support::assert_entra(s, &v, 401, "invalid_client", 70025);
    let fic = json!({"app": d::APP_NAME, "fic": {"name": "again", "issuer": d::APP_FIC_ISSUER, "subject": d::UAMI_TRUSTED_OBJECT_ID, "audiences": [EX]}});
    let (s, v) = send(&c, Method::POST, &fics, Some(fic.clone())).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = send(&c, Method::POST, &fics, Some(fic)).await;
    assert_eq!(s, 400, "duplicate name");
    let (s, v) = send(
        &c,
        Method::GET,
        &format!("{fics}?app={}", d::APP_CLIENT_ID),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["result"][0]["name"], "again");
    let (s, _) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        "https://graph.microsoft.com/.default",
        &mi,
    )
    .await;
    assert_eq!(s, 200);

    // Service principals and role assignments.
    let sps = format!("{ctl}/directory/service-principals");
    let (s, v) = send(
        &c,
        Method::POST,
        &sps,
        Some(json!({"app": d::APP_CLIENT_ID, "tenant": d::TAILSPIN_TENANT_DOMAIN})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let oid = v["result"].as_str().unwrap().to_owned();
    let (s, _) = send(&c, Method::POST, &format!("{ctl}/directory/role-assignments"), Some(json!({"app": d::APP_NAME, "tenant": d::TAILSPIN_TENANT_ID, "resource": "https://graph.microsoft.com", "roles": ["User.Read.All"]}))).await;
    assert_eq!(s, 200);
    let (s, v) = exchange(
        &emu,
        d::TAILSPIN_TENANT_ID,
        d::APP_CLIENT_ID,
        "https://graph.microsoft.com/.default",
        &mi,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let claims = support::claims(v["access_token"].as_str().unwrap());
    assert_eq!(claims["oid"], oid.as_str());
    assert_eq!(claims["roles"], json!(["User.Read.All"]));
    let (s, v) = send(&c, Method::GET, &sps, None).await;
    assert_eq!(s, 200);
    assert!(
        v["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|sp| sp["object_id"] == oid.as_str())
    );
    let (s, _) = send(
        &c,
        Method::DELETE,
        &format!("{sps}?app={}&tenant={}", d::APP_NAME, d::TAILSPIN_TENANT_ID),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = exchange(
        &emu,
        d::TAILSPIN_TENANT_ID,
        d::APP_CLIENT_ID,
        "https://graph.microsoft.com/.default",
        &mi,
    )
    .await;
    support::assert_entra(s, &v, 400, "unauthorized_client", 700016);
    let (s, _) = send(
        &c,
        Method::POST,
        &sps,
        Some(json!({"app": "ghost", "tenant": d::TAILSPIN_TENANT_ID})),
    )
    .await;
    assert_eq!(s, 400);

    // Log endpoints; control calls are counted only as control.
    let (s, counts) = send(&c, Method::GET, &format!("{ctl}/log/counts"), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        counts["imds"].as_u64(),
        Some(emu.log().count(Endpoint::Imds) as u64)
    );
    assert!(counts["control"].as_u64().unwrap() >= 15);
    assert_eq!(
        counts["token"].as_u64(),
        Some(emu.log().count(Endpoint::Token) as u64)
    );
    let (s, _) = send(&c, Method::DELETE, &format!("{ctl}/log"), None).await;
    assert_eq!(s, 200);
    let (_, entries) = send(
        &c,
        Method::GET,
        &format!("{}/_ficx/log", emu.authority_url()),
        None,
    )
    .await;
    // Only the DELETE itself, logged after it ran; this GET is logged after it answers.
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["method"], "DELETE");
    assert_eq!(entries[0]["endpoint"], "control");
    emu.shutdown().await;
}
