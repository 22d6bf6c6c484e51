//! Leg 2: the jwt-bearer `client_credentials` POST to `{authority}/{tenant}/oauth2/v2.0/token`
//! (v2-oauth2-client-creds-grant-flow.md, RFC 7523 §2.2), and parsing of Entra's success and
//! error bodies. The assertion arrives as a `SecretString` from wherever it came; this module
//! does not care.

use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{EntraError, Error, Leg, redact};
use crate::http::{Http, Reply};
use crate::ids::{ClientId, TenantId};
use crate::scope::Scope;
use crate::token::AccessToken;

/// RFC 7523 assertion type.
///
/// ```
/// // The `client_assertion_type` form field of every exchange request (RFC 7523).
/// assert_eq!(ficx::JWT_BEARER, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
/// ```
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The token endpoint of `tenant` under `authority`.
pub(crate) fn token_url(authority: &str, tenant: &TenantId) -> String {
    format!("{authority}/{}/oauth2/v2.0/token", tenant.as_str())
}

/// The form body, in order.
pub(crate) fn form<'a>(
    client_id: &'a ClientId,
    scope: &'a Scope,
    assertion: &'a SecretString,
) -> [(&'static str, &'a str); 5] {
    [
        ("client_id", client_id.as_str()),
        ("scope", scope.as_str()),
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion.expose_secret()),
    ]
}

#[derive(Deserialize, Default)]
struct Failure {
    error: Option<String>,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<Value>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
    timestamp: Option<String>,
    error_uri: Option<String>,
}

fn invalid(url: &str, detail: impl Into<String>) -> Error {
    Error::InvalidResponse {
        leg: Leg::Exchange,
        url: url.to_owned(),
        detail: detail.into(),
    }
}

/// Parse a 200 answer.
pub(crate) fn parse_success(
    reply: Reply,
    now: SystemTime,
    url: &str,
) -> Result<AccessToken, Error> {
    crate::token_body::parse::<serde::de::IgnoredAny>(reply, Leg::Exchange, now, url)
        .map(|(t, _)| t)
}

/// Turn a non-200 answer into an error: Entra's OAuth error when the body is one, else a
/// transient HTTP error for 408/429/5xx (a gateway's HTML page), else an invalid response.
pub(crate) fn parse_error(
    reply: &Reply,
    tenant: &TenantId,
    client_id: &ClientId,
    assertion: &SecretString,
    now: SystemTime,
    url: &str,
) -> Error {
    let secrets = [assertion.expose_secret()];
    let failure: Option<Failure> = serde_json::from_slice::<Failure>(&reply.body)
        .ok()
        .filter(|f| f.error.is_some());
    let retry_after = reply.retry_after(now);
    let clean = |s: String| redact(&s, &secrets, 2000).replace("  ", " ");
    match failure {
        Some(f) => Error::Exchange(Box::new(EntraError {
            tenant: tenant.to_string(),
            client_id: client_id.to_string(),
            status: reply.status,
            error: clean(f.error.unwrap_or_default()),
            codes: f
                .error_codes
                .iter()
                .filter_map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()))
                .collect(),
            description: f
                .error_description
                .map(|d| {
                    d.lines()
                        .map(|l| redact(l, &secrets, 2000))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default(),
            trace_id: f.trace_id.map(clean),
            correlation_id: f.correlation_id.map(clean),
            timestamp: f.timestamp.map(clean),
            error_uri: f.error_uri.map(clean),
            retry_after,
        })),
        None if matches!(reply.status, 408 | 429 | 500..=599) => {
            let text = String::from_utf8_lossy(&reply.body);
            Error::Exchange(Box::new(EntraError {
                tenant: tenant.to_string(),
                client_id: client_id.to_string(),
                status: reply.status,
                error: format!("http_{}", reply.status),
                codes: Vec::new(),
                description: redact(text.trim(), &secrets, 200),
                trace_id: None,
                correlation_id: None,
                timestamp: None,
                error_uri: None,
                retry_after,
            }))
        }
        None => invalid(
            url,
            format!(
                "HTTP {} with a body that is not an OAuth error ({})",
                reply.status,
                reply.header("content-type").unwrap_or("no content type")
            ),
        ),
    }
}

/// POST once.
pub(crate) async fn exchange_once(
    http: &Http,
    authority: &str,
    tenant: &TenantId,
    client_id: &ClientId,
    scope: &Scope,
    assertion: &SecretString,
    now: impl Fn() -> SystemTime,
) -> Result<AccessToken, Error> {
    let url = token_url(authority, tenant);
    let body = serde_urlencoded::to_string(form(client_id, scope, assertion))
        .map_err(|_| invalid(&url, "could not encode the form"))?;
    let req = http
        .authority()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("client-request-id", crate::mi::client::random_request_id())
        .header("return-client-request-id", "true")
        .header("x-client-sku", "ficx")
        .header("x-client-ver", env!("CARGO_PKG_VERSION"))
        .body(body);
    let reply = http.send(Leg::Exchange, req, &url).await?;
    if reply.status == 200 {
        parse_success(reply, now(), &url)
    } else {
        Err(parse_error(
            &reply,
            tenant,
            client_id,
            assertion,
            now(),
            &url,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_unix;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn reply(status: u16, body: &str) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        Reply {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn ids() -> (TenantId, ClientId, SecretString) {
        (
            TenantId::new("contoso.onmicrosoft.com").unwrap(),
            ClientId::new("c0c0c0c0-0000-4000-8000-00000000c0c0").unwrap(),
            SecretString::from("eyJ.assertion-text.sig".to_string()),
        )
    }

    #[test]
    fn form_is_exact() {
        let (_, c, a) = ids();
        let s = Scope::new("https://graph.microsoft.com").unwrap();
        let body = serde_urlencoded::to_string(form(&c, &s, &a)).unwrap();
        assert_eq!(
            body,
            "client_id=c0c0c0c0-0000-4000-8000-00000000c0c0&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJ.assertion-text.sig"
        );
        assert_eq!(
            token_url("https://h", &TenantId::new("contoso.com").unwrap()),
            "https://h/contoso.com/oauth2/v2.0/token"
        );
    }

    #[test]
    fn success_shapes() {
        let now = from_unix(1_800_000_000);
        let t = parse_success(reply(200, r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ.x.y","refresh_in":1800}"#), now, "u").unwrap();
        assert_eq!(t.expires_on_unix(), 1_800_003_599);
        assert_eq!(t.refresh_on().map(crate::clock::unix), Some(1_800_001_800));
        let e = parse_success(
            reply(200, r#"{"token_type":"Bearer","expires_in":3599}"#),
            now,
            "u",
        )
        .unwrap_err();
        assert!(e.to_string().contains("no `access_token`"));
        let e = parse_success(reply(200, r#"{"access_token":"eyJ.x.y"}"#), now, "u").unwrap_err();
        assert!(e.to_string().contains("expires_on"), "{e}");
    }

    #[test]
    fn entra_error_keeps_evidence_and_redacts() {
        let (t, c, a) = ids();
        let body = r#"{"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found for presented assertion subject 'x'. eyJ.assertion-text.sig\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2026-11-23 10:00:00Z","error_codes":[700213],"timestamp":"2026-11-23 10:00:00Z","trace_id":"1","correlation_id":"2","error_uri":"https://login.microsoftonline.com/error?code=700213"}"#;
        let e = parse_error(&reply(401, body), &t, &c, &a, from_unix(1_800_000_000), "u");
        let ee = e.entra().unwrap();
        assert_eq!(
            (ee.status, ee.codes.as_slice(), ee.trace_id.as_deref()),
            (401, &[700213][..], Some("1"))
        );
        assert!(!format!("{e} {e:?}").contains("assertion-text"));
        assert_eq!(
            ee.summary(),
            "No matching federated identity record found for presented assertion subject 'x'. [redacted]"
        );
        assert!(!e.to_string().contains("Trace ID"), "{e}");
        assert_eq!(e.aadsts(), Some(700213));
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(3)));
    }

    #[test]
    fn gateway_pages() {
        let (t, c, a) = ids();
        let e = parse_error(
            &reply(502, "<html>Bad Gateway</html>"),
            &t,
            &c,
            &a,
            from_unix(0),
            "u",
        );
        assert!(e.is_transient());
        let e = parse_error(
            &reply(403, "<html>Forbidden</html>"),
            &t,
            &c,
            &a,
            from_unix(0),
            "u",
        );
        assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300), status in 100u16..600) {
            let (t, c, a) = ids();
            let r = Reply { status, headers: HeaderMap::new(), body: body.clone() };
            let _ = parse_error(&r, &t, &c, &a, from_unix(0), "u");
            let r = Reply { status: 200, headers: HeaderMap::new(), body };
            let _ = parse_success(r, from_unix(0), "u");
        }
    }
}
