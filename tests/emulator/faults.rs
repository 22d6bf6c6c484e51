//! Each fault kind as a raw reqwest client sees it. Fresh clients per fault so no pooled
//! connection is reused (hyper retries a request whose reused connection closed early).

use std::time::Duration;

use ficx::emulator::{Endpoint, Fault, RetryAfter, Times};
use serde_json::Value;

use crate::support::{self, client, d, exchange, imds_token, urlenc};

const EX: &str = "api://AzureADTokenExchange";

fn imds_url(emu: &ficx::emulator::EmulatorHandle) -> String {
    format!(
        "{}?api-version=2018-02-01&resource={}",
        emu.endpoint_url(Endpoint::Imds),
        urlenc(EX)
    )
}

async fn imds(emu: &ficx::emulator::EmulatorHandle) -> Result<reqwest::Response, reqwest::Error> {
    client(emu)
        .get(imds_url(emu))
        .header("Metadata", "true")
        .send()
        .await
}

#[tokio::test]
async fn status_faults_use_the_endpoint_shape_and_retry_headers() {
    let emu = support::start().await;
    let mi = imds_token(
        &emu,
        &format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID),
        EX,
    )
    .await;
    emu.faults().inject(
        Endpoint::Token,
        Fault::Status {
            status: 429,
            retry_after: Some(RetryAfter::Seconds(2)),
            body: None,
        },
        Times::Next(2),
    );
    for _ in 0..2 {
        let r = client(&emu)
            .post(emu.token_url(d::CONTOSO_TENANT_ID))
            .form(&[("client_id", d::APP_CLIENT_ID)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers()["retry-after"], "2");
        let v: Value = crate::support::json(r).await;
        support::assert_entra(429, &v, 429, "temporarily_unavailable", 90055);
    }
    let (s, v) = exchange(
        &emu,
        d::CONTOSO_TENANT_ID,
        d::APP_CLIENT_ID,
        "https://graph.microsoft.com/.default",
        &mi,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(emu.faults().pending(Endpoint::Token), 0);

    let cases = [
        (
            RetryAfter::HttpDate(1_700_000_000),
            "retry-after",
            "Tue, 14 Nov 2023 22:13:20 GMT",
        ),
        (RetryAfter::Millis(1500), "retry-after-ms", "1500"),
        (RetryAfter::XMsMillis(250), "x-ms-retry-after-ms", "250"),
    ];
    for (ra, header, value) in cases {
        emu.faults().inject(
            Endpoint::Imds,
            Fault::Status {
                status: 503,
                retry_after: Some(ra),
                body: None,
            },
            Times::Next(1),
        );
        let r = imds(&emu).await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
        assert_eq!(r.headers()[header], value);
        let v: Value = crate::support::json(r).await;
        assert!(
            v["error"].is_string() && v["error_description"].is_string(),
            "IMDS shape: {v}"
        );
    }
    emu.faults().inject(
        Endpoint::Imds,
        Fault::Status {
            status: 410,
            retry_after: None,
            body: Some("{\"custom\":true}".into()),
        },
        Times::Next(1),
    );
    let r = imds(&emu).await.unwrap();
    assert_eq!(r.status().as_u16(), 410);
    assert_eq!(r.text().await.unwrap(), "{\"custom\":true}");

    // Other MI shapes.
    emu.faults().inject(
        Endpoint::AppService,
        Fault::Status {
            status: 500,
            retry_after: None,
            body: None,
        },
        Times::Next(1),
    );
    let r = client(&emu)
        .get(emu.endpoint_url(Endpoint::AppService))
        .send()
        .await
        .unwrap();
    let v: Value = crate::support::json(r).await;
    assert_eq!(v["statusCode"], 500);
    emu.faults().inject(
        Endpoint::ServiceFabric,
        Fault::Status {
            status: 429,
            retry_after: None,
            body: None,
        },
        Times::Next(1),
    );
    let r = support::pinned_client(emu.service_fabric_thumbprint())
        .get(emu.endpoint_url(Endpoint::ServiceFabric))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let v: Value = crate::support::json(r).await;
    assert!(v["error"]["code"].is_string() && v["error"]["correlationId"].is_string());
    emu.shutdown().await;
}

#[tokio::test]
async fn connection_level_faults() {
    let emu = support::start().await;

    emu.faults().inject(
        Endpoint::Imds,
        Fault::Delay(Duration::from_millis(20)),
        Times::Next(1),
    );
    assert_eq!(imds(&emu).await.unwrap().status().as_u16(), 200);

    emu.faults()
        .inject(Endpoint::Imds, Fault::Hang, Times::Next(1));
    let c = support::client_builder(&emu)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = c
        .get(imds_url(&emu))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");

    emu.faults()
        .inject(Endpoint::Imds, Fault::DropConnection, Times::Next(1));
    let e = imds(&emu).await.unwrap_err();
    assert!(!e.is_timeout() && e.status().is_none(), "{e:?}");

    emu.faults()
        .inject(Endpoint::Imds, Fault::ResetMidBody, Times::Next(1));
    let r = imds(&emu).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.is_err(), "body aborted mid-way");

    emu.faults()
        .inject(Endpoint::Imds, Fault::TruncatedBody, Times::Next(1));
    let r = imds(&emu).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.starts_with('{') && serde_json::from_str::<Value>(&text).is_err(),
        "{text}"
    );

    emu.faults().inject(
        Endpoint::Imds,
        Fault::OversizedBody { bytes: 1_000_000 },
        Times::Next(1),
    );
    let r = imds(&emu).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), 1_000_000);

    emu.faults()
        .inject(Endpoint::Token, Fault::Html { status: 502 }, Times::Next(1));
    let r = client(&emu)
        .post(emu.token_url(d::CONTOSO_TENANT_ID))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 502);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("<html>"));

    for e in [Endpoint::Imds, Endpoint::Token] {
        emu.faults().inject(e, Fault::MissingFields, Times::Next(1));
    }
    let v: Value = crate::support::json(imds(&emu).await.unwrap()).await;
    assert!(v.get("access_token").is_none() && v["token_type"] == "Bearer");
    let r = client(&emu)
        .post(emu.token_url(d::CONTOSO_TENANT_ID))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = crate::support::json(r).await;
    assert!(v.get("access_token").is_none());

    emu.faults()
        .inject(Endpoint::Imds, Fault::Html { status: 503 }, Times::Always);
    for _ in 0..3 {
        assert_eq!(imds(&emu).await.unwrap().status().as_u16(), 503);
    }
    emu.faults().clear();
    assert_eq!(imds(&emu).await.unwrap().status().as_u16(), 200);

    let log = emu.log().entries();
    let faults: Vec<(Option<String>, Option<u16>)> = log
        .iter()
        .filter(|e| e.endpoint == Some(Endpoint::Imds) && e.fault.is_some())
        .map(|e| (e.fault.clone(), e.status))
        .collect();
    assert!(faults.contains(&(Some("hang".into()), None)));
    assert!(faults.contains(&(Some("drop_connection".into()), None)));
    assert!(faults.contains(&(Some("reset_mid_body".into()), Some(200))));
    assert!(faults.contains(&(Some("delay".into()), Some(200))));
    // A hang still pending is cut by shutdown.
    emu.faults()
        .inject(Endpoint::Imds, Fault::Hang, Times::Always);
    let url = imds_url(&emu);
    let c = client(&emu);
    let pending = tokio::spawn(async move { c.get(url).header("Metadata", "true").send().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    emu.shutdown().await;
    assert!(pending.await.unwrap().is_err());
}
