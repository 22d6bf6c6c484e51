//! The managed-identity endpoints over real sockets: every source × selector, their error shapes,
//! the Arc challenge, Service Fabric over pinned https, token caching and expiry shapes.

use std::sync::Arc;
use std::time::Duration;

use ficx::ManualClock;
use ficx::emulator::{Endpoint, ExpiryFormat};
use serde_json::Value;

use crate::support::{self, client, d, get_json, urlenc};

const EX: &str = "api://AzureADTokenExchange";

fn url(emu: &ficx::emulator::EmulatorHandle, e: Endpoint, query: &str) -> String {
    format!("{}?{query}", emu.endpoint_url(e))
}

#[tokio::test]
async fn imds_every_selector() {
    let emu = support::start().await;
    let c = client(&emu);
    let home_iss = emu.issuer_for(d::HOME_TENANT_ID);
    let cases = [
        (
            "",
            d::SAMI_CLIENT_ID,
            d::SAMI_OBJECT_ID,
            d::SAMI_RESOURCE_ID,
        ),
        (
            &format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID) as &str,
            d::UAMI_TRUSTED_CLIENT_ID,
            d::UAMI_TRUSTED_OBJECT_ID,
            d::UAMI_TRUSTED_RESOURCE_ID,
        ),
        (
            &format!("&object_id={}", d::UAMI_UNTRUSTED_OBJECT_ID),
            d::UAMI_UNTRUSTED_CLIENT_ID,
            d::UAMI_UNTRUSTED_OBJECT_ID,
            d::UAMI_UNTRUSTED_RESOURCE_ID,
        ),
        (
            &format!("&msi_res_id={}", urlenc(d::UAMI_TRUSTED_RESOURCE_ID)),
            d::UAMI_TRUSTED_CLIENT_ID,
            d::UAMI_TRUSTED_OBJECT_ID,
            d::UAMI_TRUSTED_RESOURCE_ID,
        ),
    ];
    for (sel, cid, oid, rid) in cases {
        let (s, v) = get_json(
            &c,
            &url(
                &emu,
                Endpoint::Imds,
                &format!("api-version=2018-02-01&resource={}{sel}", urlenc(EX)),
            ),
            &[("Metadata", "true")],
        )
        .await;
        assert_eq!(s, 200, "{sel}: {v}");
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["resource"], EX);
        assert_eq!(v["refresh_token"], "");
        assert_eq!(v["client_id"], cid);
        for f in ["expires_in", "expires_on", "not_before"] {
            assert!(
                v[f].as_str().unwrap().parse::<i64>().is_ok(),
                "{f} is a numeric string: {v}"
            );
        }
        let jwt = v["access_token"].as_str().unwrap();
        let claims = support::verify(&emu, jwt, d::HOME_TENANT_ID, &home_iss, EX).await;
        assert_eq!(claims["oid"], oid);
        assert_eq!(claims["sub"], oid);
        assert_eq!(claims["tid"], d::HOME_TENANT_ID);
        assert_eq!(claims["azp"], cid);
        assert_eq!(claims["appid"], cid);
        assert_eq!(claims["appidacr"], "2");
        assert_eq!(claims["idtyp"], "app");
        assert_eq!(claims["ver"], "2.0");
        assert_eq!(claims["xms_mirid"], rid);
        assert!(
            claims["uti"].is_string() && claims["aio"].is_string() && claims["idp"].is_string()
        );
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap(),
            claims["exp"].as_i64().unwrap(),
        );
        assert_eq!(exp - iat, 86_400);
    }
    // A newer api-version and a scope-style resource both work.
    let (s, v) = get_json(
        &c,
        &url(
            &emu,
            Endpoint::Imds,
            &format!(
                "api-version=2025-04-07&resource={}&client_id={}",
                urlenc("api://AzureADTokenExchange/.default"),
                d::UAMI_TRUSTED_CLIENT_ID
            ),
        ),
        &[("Metadata", "true")],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["resource"], EX);
    assert_eq!(
        support::claims(v["access_token"].as_str().unwrap())["aud"],
        EX
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn imds_errors() {
    let emu = support::start().await;
    let c = client(&emu);
    let q = |extra: &str| {
        url(
            &emu,
            Endpoint::Imds,
            &format!("resource={}{extra}", urlenc(EX)),
        )
    };
    let md = [("Metadata", "true")];

    let (s, v) = get_json(&c, &q("&api-version=2018-02-01"), &[]).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_request_102")));
    assert_eq!(
        v["error_description"],
        "Required metadata header not specified"
    );
    let (s, v) = get_json(&c, &q("&api-version=2018-02-01"), &[("Metadata", "false")]).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_request_102")));

    let (s, v) = get_json(&c, &q(""), &md).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("api-version")
    );
    let (s, v) = get_json(&c, &q("&api-version=2017-09-01"), &md).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );

    let (s, v) = get_json(
        &c,
        &q("&api-version=2018-02-01&client_id=99999999-0000-4000-8000-000000000000"),
        &md,
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    assert_eq!(v["error_description"], "Identity not found");
    let (s, _) = get_json(
        &c,
        &q(&format!(
            "&api-version=2018-02-01&client_id={}&object_id={}",
            d::UAMI_TRUSTED_CLIENT_ID,
            d::UAMI_TRUSTED_OBJECT_ID
        )),
        &md,
    )
    .await;
    assert_eq!(s, 400);

    let (s, v) = get_json(
        &c,
        &url(&emu, Endpoint::Imds, "api-version=2018-02-01"),
        &md,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("audience"),
        "{v}"
    );

    let (s, v) = get_json(
        &c,
        &url(
            &emu,
            Endpoint::Imds,
            "api-version=2018-02-01&resource=api%3A%2F%2Fnope",
        ),
        &md,
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_resource")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS50001:")
    );
    // The custom API exists only in Contoso, not in the identity's tenant.
    let (s, _) = get_json(
        &c,
        &url(
            &emu,
            Endpoint::Imds,
            "api-version=2018-02-01&resource=api%3A%2F%2Forders",
        ),
        &md,
    )
    .await;
    assert_eq!(s, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn imds_without_system_identity() {
    let emu = support::start_with(|c| c.host.system_assigned = None).await;
    let c = client(&emu);
    let q = url(
        &emu,
        Endpoint::Imds,
        &format!("api-version=2018-02-01&resource={}", urlenc(EX)),
    );
    let (s, v) = get_json(&c, &q, &[("Metadata", "true")]).await;
    assert_eq!(s, 400);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("Multiple user assigned identities exist"),
        "{v}"
    );
    emu.shutdown().await;

    let emu = support::start_with(|c| {
        c.host.system_assigned = None;
        c.host.user_assigned = vec![d::UAMI_TRUSTED_NAME.into()];
    })
    .await;
    let q = url(
        &emu,
        Endpoint::Imds,
        &format!("api-version=2018-02-01&resource={}", urlenc(EX)),
    );
    let (s, v) = get_json(&client(&emu), &q, &[("Metadata", "true")]).await;
    assert_eq!(s, 200);
    assert_eq!(v["client_id"], d::UAMI_TRUSTED_CLIENT_ID);
    emu.shutdown().await;
}

#[tokio::test]
async fn mi_tokens_are_cached_until_near_expiry() {
    let clock = Arc::new(ManualClock::starting_now());
    let emu = support::start_with_clock(clock.clone()).await;
    let sel = format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID);
    let a = support::imds_token(&emu, &sel, EX).await;
    let b = support::imds_token(&emu, &sel, EX).await;
    assert_eq!(a, b, "same token while plenty is left");
    let arm = support::imds_token(&emu, &sel, d::ARM_RESOURCE).await;
    assert_ne!(a, arm);
    // App Service hands out the same cached token for the same identity and resource.
    let (s, v) = get_json(
        &client(&emu),
        &url(
            &emu,
            Endpoint::AppService,
            &format!(
                "api-version=2019-08-01&resource={}&client_id={}",
                urlenc(EX),
                d::UAMI_TRUSTED_CLIENT_ID
            ),
        ),
        &[("X-IDENTITY-HEADER", emu.identity_header())],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["access_token"], a.as_str());
    clock.advance(Duration::from_secs(86_400 - 900 + 1));
    let c = support::imds_token(&emu, &sel, EX).await;
    assert_ne!(
        a, c,
        "re-issued once less than mi_reissue_below_secs is left"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn expiry_formats() {
    let emu = support::start().await;
    let c = client(&emu);
    let q = url(
        &emu,
        Endpoint::Imds,
        &format!("api-version=2018-02-01&resource={}", urlenc(EX)),
    );
    let fetch = || async { get_json(&c, &q, &[("Metadata", "true")]).await.1 };
    let exp = fetch().await["expires_on"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    let t = time::OffsetDateTime::from_unix_timestamp(exp).unwrap();
    let is_date = |s: &str, fmt: &str| -> bool {
        let f = time::format_description::parse_borrowed::<2>(fmt).unwrap();
        time::PrimitiveDateTime::parse(s, &f).is_ok()
    };
    for f in [
        ExpiryFormat::EpochString,
        ExpiryFormat::EpochNumber,
        ExpiryFormat::SecondsString,
        ExpiryFormat::SecondsNumber,
        ExpiryFormat::MlDate,
        ExpiryFormat::MlDateAmPm,
        ExpiryFormat::YmdHms,
        ExpiryFormat::Rfc3339,
        ExpiryFormat::Default,
    ] {
        emu.faults().set_expiry_format(Endpoint::Imds, f);
        let v = fetch().await;
        let on = &v["expires_on"];
        let inn = &v["expires_in"];
        match f {
            ExpiryFormat::EpochString => assert_eq!(on, &Value::String(exp.to_string())),
            ExpiryFormat::EpochNumber => assert_eq!(on.as_i64(), Some(exp)),
            ExpiryFormat::SecondsString => {
                assert!(on.is_null());
                assert!(inn.as_str().unwrap().parse::<i64>().unwrap() > 86_000);
            }
            ExpiryFormat::SecondsNumber => {
                assert!(on.is_null());
                assert!(inn.as_i64().unwrap() > 86_000);
            }
            ExpiryFormat::MlDate => {
                let s = on.as_str().unwrap();
                assert!(s.ends_with(" +00:00"), "{s}");
                assert!(
                    is_date(
                        s.trim_end_matches(" +00:00"),
                        "[month]/[day]/[year] [hour]:[minute]:[second]"
                    ),
                    "{s}"
                );
                assert!(
                    s.starts_with(&format!(
                        "{:02}/{:02}/{}",
                        t.month() as u8,
                        t.day(),
                        t.year()
                    )),
                    "{s}"
                );
            }
            ExpiryFormat::MlDateAmPm => {
                let s = on.as_str().unwrap();
                assert!(s.contains(" AM +00:00") || s.contains(" PM +00:00"), "{s}");
                assert!(
                    s.starts_with(&format!("{}/{}/{} ", t.month() as u8, t.day(), t.year())),
                    "{s}"
                );
            }
            ExpiryFormat::YmdHms => assert!(is_date(
                on.as_str().unwrap(),
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            )),
            ExpiryFormat::Rfc3339 => {
                let p = time::OffsetDateTime::parse(
                    on.as_str().unwrap(),
                    &time::format_description::well_known::Rfc3339,
                )
                .unwrap();
                assert_eq!(p.unix_timestamp(), exp);
            }
            ExpiryFormat::Default => {
                assert!(on.is_string() && inn.is_string() && v["not_before"].is_string());
            }
        }
        assert!(v["access_token"].is_string());
    }
    emu.faults().set_refresh_in(Endpoint::Imds, true);
    let v = fetch().await;
    assert!(v["refresh_in"].as_i64().unwrap() > 40_000);
    emu.faults().clear();
    assert!(fetch().await.get("refresh_in").is_none());
    emu.shutdown().await;
}

#[tokio::test]
async fn app_service() {
    let emu = support::start().await;
    let c = client(&emu);
    let base = |extra: &str| {
        url(
            &emu,
            Endpoint::AppService,
            &format!("api-version=2019-08-01&resource={}{extra}", urlenc(EX)),
        )
    };
    let hdr = [("X-IDENTITY-HEADER", emu.identity_header())];
    for (sel, cid) in [
        ("".to_owned(), d::SAMI_CLIENT_ID),
        (
            format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID),
            d::UAMI_TRUSTED_CLIENT_ID,
        ),
        (
            format!("&principal_id={}", d::UAMI_UNTRUSTED_OBJECT_ID),
            d::UAMI_UNTRUSTED_CLIENT_ID,
        ),
        (
            format!("&object_id={}", d::UAMI_TRUSTED_OBJECT_ID),
            d::UAMI_TRUSTED_CLIENT_ID,
        ),
        (
            format!("&mi_res_id={}", urlenc(d::UAMI_UNTRUSTED_RESOURCE_ID)),
            d::UAMI_UNTRUSTED_CLIENT_ID,
        ),
    ] {
        let (s, v) = get_json(&c, &base(&sel), &hdr).await;
        assert_eq!(s, 200, "{sel}: {v}");
        assert_eq!(v["client_id"], cid);
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["resource"], EX);
        assert!(v["expires_on"].as_str().unwrap().parse::<i64>().is_ok());
        assert!(v.get("expires_in").is_none());
        assert_eq!(
            support::claims(v["access_token"].as_str().unwrap())["azp"],
            cid
        );
    }
    let shape = |v: &Value, status: u64| {
        assert_eq!(v["statusCode"].as_u64(), Some(status), "{v}");
        assert!(
            v["message"].is_string() && v["correlationId"].is_string(),
            "{v}"
        );
    };
    let (s, v) = get_json(&c, &base(""), &[]).await;
    assert_eq!(s, 400);
    shape(&v, 400);
    let (s, v) = get_json(&c, &base(""), &[("X-IDENTITY-HEADER", "wrong")]).await;
    assert_eq!(s, 401);
    shape(&v, 401);
    let (s, v) = get_json(
        &c,
        &url(
            &emu,
            Endpoint::AppService,
            &format!("api-version=2017-09-01&resource={}", urlenc(EX)),
        ),
        &hdr,
    )
    .await;
    assert_eq!(s, 400);
    shape(&v, 400);
    let (s, v) = get_json(
        &c,
        &base("&client_id=99999999-0000-4000-8000-000000000000"),
        &hdr,
    )
    .await;
    assert_eq!(s, 400);
    shape(&v, 400);
    let (s, v) = get_json(
        &c,
        &url(
            &emu,
            Endpoint::AppService,
            "api-version=2019-08-01&resource=api%3A%2F%2Fnope",
        ),
        &hdr,
    )
    .await;
    assert_eq!(s, 500, "unknown resource is a vague 500");
    shape(&v, 500);
    emu.shutdown().await;
}

#[tokio::test]
async fn azure_arc_challenge_and_echo() {
    let emu = support::start().await;
    let c = client(&emu);
    let u = |extra: &str| {
        url(
            &emu,
            Endpoint::AzureArc,
            &format!("api-version=2020-06-01&resource={}{extra}", urlenc(EX)),
        )
    };

    let r = c
        .get(u(""))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let realm = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    let path = std::path::PathBuf::from(realm.strip_prefix("Basic realm=").expect("Basic realm="));
    assert!(path.is_absolute());
    assert_eq!(path.extension().unwrap(), "key");
    assert_eq!(
        path.parent().unwrap(),
        std::fs::canonicalize(emu.arc_key_dir()).unwrap()
    );
    let key = std::fs::read_to_string(&path).unwrap();
    assert!(key.len() <= 4096);

    let auth = format!("Basic {key}");
    let (s, v) = get_json(
        &c,
        &u(""),
        &[("Metadata", "true"), ("Authorization", &auth)],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["expires_in"].is_string() && v["expires_on"].is_string());
    assert!(v.get("client_id").is_none(), "no echo without a selector");
    let claims = support::claims(v["access_token"].as_str().unwrap());
    assert_eq!(claims["oid"], d::SAMI_OBJECT_ID);

    // Old-agent behaviour: a UAMI selector is ignored and the system identity's ids are echoed.
    let (s, v) = get_json(
        &c,
        &u(&format!("&client_id={}", d::UAMI_TRUSTED_CLIENT_ID)),
        &[("Metadata", "true"), ("Authorization", &auth)],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["client_id"], d::SAMI_CLIENT_ID);
    assert_eq!(v["object_id"], d::SAMI_OBJECT_ID);
    assert_eq!(v["msi_res_id"], d::SAMI_RESOURCE_ID);
    assert_eq!(
        support::claims(v["access_token"].as_str().unwrap())["oid"],
        d::SAMI_OBJECT_ID
    );

    let (s, v) = get_json(
        &c,
        &u(""),
        &[("Metadata", "true"), ("Authorization", "Basic nope")],
    )
    .await;
    assert_eq!(s, 401, "{v}");
    let (s, v) = get_json(&c, &u(""), &[("Authorization", &auth)]).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_request_102")));
    let (s, v) = get_json(
        &c,
        &url(
            &emu,
            Endpoint::AzureArc,
            &format!("api-version=2018-02-01&resource={}", urlenc(EX)),
        ),
        &[("Metadata", "true"), ("Authorization", &auth)],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));
    for v in ["2019-11-01", "2021-02-01"] {
        let (s, _) = get_json(
            &c,
            &url(
                &emu,
                Endpoint::AzureArc,
                &format!("api-version={v}&resource={}", urlenc(EX)),
            ),
            &[("Metadata", "true"), ("Authorization", &auth)],
        )
        .await;
        assert_eq!(s, 200);
    }
    let dir = emu.arc_key_dir().to_owned();
    emu.shutdown().await;
    assert!(!dir.exists(), "temporary state dir removed at shutdown");
}

#[tokio::test]
async fn azure_ml() {
    let emu = support::start().await;
    let c = client(&emu);
    let env: std::collections::HashMap<_, _> = emu.env(Endpoint::AzureMl).into_iter().collect();
    assert_eq!(env["DEFAULT_IDENTITY_CLIENT_ID"], d::SAMI_CLIENT_ID);
    let u = |extra: &str| {
        url(
            &emu,
            Endpoint::AzureMl,
            &format!("api-version=2017-09-01&resource={}{extra}", urlenc(EX)),
        )
    };
    let hdr = [("secret", emu.msi_secret())];
    for (sel, cid) in [
        ("".to_owned(), d::SAMI_CLIENT_ID),
        (
            format!("&clientid={}", d::SAMI_CLIENT_ID),
            d::SAMI_CLIENT_ID,
        ),
        (
            format!("&clientid={}", d::UAMI_TRUSTED_CLIENT_ID),
            d::UAMI_TRUSTED_CLIENT_ID,
        ),
    ] {
        let (s, v) = get_json(&c, &u(&sel), &hdr).await;
        assert_eq!(s, 200, "{v}");
        assert!(v["expires_on"].is_i64(), "int by default: {v}");
        assert_eq!(v["client_id"], cid);
    }
    let (s, _) = get_json(&c, &u(""), &[]).await;
    assert_eq!(s, 400);
    let (s, _) = get_json(&c, &u(""), &[("secret", "wrong")]).await;
    assert_eq!(s, 401);
    let (s, v) = get_json(
        &c,
        &u("&clientid=99999999-0000-4000-8000-000000000000"),
        &hdr,
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["message"].is_string());
    let (s, _) = get_json(
        &c,
        &url(
            &emu,
            Endpoint::AzureMl,
            &format!("api-version=2019-08-01&resource={}", urlenc(EX)),
        ),
        &hdr,
    )
    .await;
    assert_eq!(s, 400);
    emu.faults()
        .set_expiry_format(Endpoint::AzureMl, ExpiryFormat::MlDate);
    let (_, v) = get_json(&c, &u(""), &hdr).await;
    assert!(v["expires_on"].as_str().unwrap().ends_with("+00:00"));
    emu.shutdown().await;
}

#[tokio::test]
async fn cloud_shell_issues_a_delegated_token() {
    let emu = support::start().await;
    let c = client(&emu);
    let u = emu.endpoint_url(Endpoint::CloudShell);
    let r = c
        .post(&u)
        .header("Metadata", "true")
        .form(&[("resource", EX)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = crate::support::json(r).await;
    let claims = support::verify(
        &emu,
        v["access_token"].as_str().unwrap(),
        d::HOME_TENANT_ID,
        &emu.issuer_for(d::HOME_TENANT_ID),
        EX,
    )
    .await;
    assert_eq!(claims["idtyp"], "user");
    assert_eq!(claims["scp"], "user_impersonation");
    assert_eq!(claims["upn"], d::CLOUD_SHELL_USER_UPN);
    assert_eq!(claims["oid"], d::CLOUD_SHELL_USER_OBJECT_ID);
    let r = c.post(&u).form(&[("resource", EX)]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = crate::support::json(r).await;
    assert!(
        v["error"]["code"].is_string() && v["error"]["message"].is_string(),
        "{v}"
    );
    let r = c.post(&u).header("Metadata", "true").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let env: std::collections::HashMap<_, _> = emu.env(Endpoint::CloudShell).into_iter().collect();
    assert_eq!(env["AZUREPS_HOST_ENVIRONMENT"], "cloud-shell/1.0");
    assert_eq!(env["MSI_ENDPOINT"], u);
    emu.shutdown().await;
}

#[tokio::test]
async fn service_fabric_over_pinned_https() {
    let emu = support::start().await;
    let env: std::collections::HashMap<_, _> =
        emu.env(Endpoint::ServiceFabric).into_iter().collect();
    let tp = &env["IDENTITY_SERVER_THUMBPRINT"];
    assert_eq!(tp, emu.service_fabric_thumbprint());
    assert_eq!(tp.len(), 40);
    assert_eq!(env["IDENTITY_API_VERSION"], "2019-07-01-preview");
    assert_eq!(env["IDENTITY_HEADER"], emu.identity_header());
    let endpoint = &env["IDENTITY_ENDPOINT"];
    assert!(endpoint.starts_with("https://"));

    let c = support::pinned_client(tp);
    let u = |q: &str| format!("{endpoint}?{q}");
    let secret = [("Secret", emu.identity_header())];
    for v in ["2019-07-01-preview", "2020-05-01"] {
        let (s, body) = get_json(
            &c,
            &u(&format!(
                "api-version={v}&resource={}&principalId={}",
                urlenc(EX),
                d::UAMI_UNTRUSTED_OBJECT_ID
            )),
            &secret,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert!(body["expires_on"].is_i64());
        assert_eq!(body["token_type"], "Bearer");
        // The identity is chosen by the cluster; selectors are ignored.
        assert_eq!(
            support::claims(body["access_token"].as_str().unwrap())["oid"],
            d::UAMI_TRUSTED_OBJECT_ID
        );
    }
    let code = |v: &Value| v["error"]["code"].as_str().unwrap().to_owned();
    let (s, v) = get_json(
        &c,
        &u(&format!(
            "api-version=2019-07-01-preview&resource={}",
            urlenc(EX)
        )),
        &[],
    )
    .await;
    assert_eq!((s, code(&v)), (401, "SecretHeaderNotFound".into()));
    assert!(v["error"]["correlationId"].is_string() && v["error"]["message"].is_string());
    let (s, v) = get_json(&c, &u(&format!("resource={}", urlenc(EX))), &secret).await;
    assert_eq!((s, code(&v)), (400, "ArgumentNullOrEmpty".into()));
    let (s, v) = get_json(
        &c,
        &u(&format!("api-version=2018-02-01&resource={}", urlenc(EX))),
        &secret,
    )
    .await;
    assert_eq!((s, code(&v)), (400, "InvalidApiVersion".into()));
    let (s, v) = get_json(&c, &u("api-version=2019-07-01-preview"), &secret).await;
    assert_eq!((s, code(&v)), (400, "ArgumentNullOrEmpty".into()));

    // The SF certificate is self-signed: a client trusting the emulator CA refuses it, and a
    // client pinning another thumbprint too.
    assert!(
        client(&emu)
            .get(u("api-version=2019-07-01-preview"))
            .send()
            .await
            .is_err()
    );
    let wrong = support::pinned_client(&"0".repeat(40));
    assert!(
        wrong
            .get(u("api-version=2019-07-01-preview"))
            .send()
            .await
            .is_err()
    );
    emu.shutdown().await;

    let emu = support::start_with(|c| c.host.service_fabric_identity = None).await;
    let c = support::pinned_client(emu.service_fabric_thumbprint());
    let (s, v) = get_json(
        &c,
        &format!(
            "{}?api-version=2019-07-01-preview&resource={}",
            emu.endpoint_url(Endpoint::ServiceFabric),
            urlenc(EX)
        ),
        &[("Secret", emu.identity_header())],
    )
    .await;
    assert_eq!((s, code(&v)), (404, "ManagedIdentityNotFound".into()));
    emu.shutdown().await;
}

#[tokio::test]
async fn env_per_source() {
    let emu = support::start().await;
    let keys = |e| emu.env(e).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    let common = [
        "AZURE_AUTHORITY_HOST",
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
    ];
    let check = |e, want: &[&str]| {
        let mut k = keys(e);
        k.sort();
        let mut w: Vec<String> = want
            .iter()
            .chain(common.iter())
            .map(|s| (*s).to_owned())
            .collect();
        w.sort();
        assert_eq!(k, w, "{e}");
    };
    check(Endpoint::Imds, &["AZURE_POD_IDENTITY_AUTHORITY_HOST"]);
    check(
        Endpoint::AppService,
        &["IDENTITY_ENDPOINT", "IDENTITY_HEADER"],
    );
    check(Endpoint::AzureArc, &["IDENTITY_ENDPOINT", "IMDS_ENDPOINT"]);
    check(
        Endpoint::AzureMl,
        &["MSI_ENDPOINT", "MSI_SECRET", "DEFAULT_IDENTITY_CLIENT_ID"],
    );
    check(
        Endpoint::CloudShell,
        &["MSI_ENDPOINT", "AZUREPS_HOST_ENVIRONMENT"],
    );
    check(
        Endpoint::ServiceFabric,
        &[
            "IDENTITY_ENDPOINT",
            "IDENTITY_HEADER",
            "IDENTITY_SERVER_THUMBPRINT",
            "IDENTITY_API_VERSION",
        ],
    );
    let env: std::collections::HashMap<_, _> = emu.env(Endpoint::Imds).into_iter().collect();
    assert_eq!(env["AZURE_POD_IDENTITY_AUTHORITY_HOST"], emu.mi_url());
    assert_eq!(env["SSL_CERT_FILE"], emu.ca_file().display().to_string());
    assert_eq!(
        std::fs::read_to_string(emu.ca_file()).unwrap(),
        emu.ca_pem()
    );
    assert!(emu.authority_url().starts_with("https://127.0.0.1:"));
    assert!(emu.mi_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        emu.endpoint_url(Endpoint::Imds),
        format!("{}/metadata/identity/oauth2/token", emu.mi_url())
    );
    assert!(emu.authority_http_url().is_none());
    // Secrets differ between runs unless fixed in the config.
    let other = support::start().await;
    assert_ne!(other.identity_header(), emu.identity_header());
    other.shutdown().await;
    let fixed = support::start_with(|c| {
        c.secrets.identity_header = Some("fixed-header".into());
        c.secrets.msi_secret = Some("fixed-secret".into());
    })
    .await;
    assert_eq!(fixed.identity_header(), "fixed-header");
    assert_eq!(fixed.msi_secret(), "fixed-secret");
    fixed.shutdown().await;
    emu.shutdown().await;
}
