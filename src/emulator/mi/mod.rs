//! What the managed-identity endpoints share: the MI token (claims, signing, the per
//! (identity, resource) cache real platforms keep), identity selection on the host, resource
//! checks, and each endpoint's error-body shape. Expiry fields live in `expiry.rs`; one file per
//! endpoint kind holds that kind's request rules.

pub(crate) mod app_service;
pub(crate) mod arc;
pub(crate) mod azure_ml;
pub(crate) mod cloud_shell;
pub(crate) mod expiry;
pub(crate) mod imds;
pub(crate) mod service_fabric;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

pub(crate) use expiry::{DefaultShape, expiry_fields};

use super::directory::{Directory, Identity, resource_key};
use super::state::{CachedToken, State};
use super::{Endpoint, paths};

pub(crate) fn router() -> Router<Arc<State>> {
    Router::new()
        .route(paths::IMDS, get(imds::token))
        .route(paths::APP_SERVICE, get(app_service::token))
        .route(paths::AZURE_ARC, get(arc::token))
        .route(paths::AZURE_ML, get(azure_ml::token))
        .route(paths::CLOUD_SHELL, post(cloud_shell::token))
        .fallback(not_found)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"not_found","error_description":"The ficx emulator serves no such path."}"#,
    )
        .into_response()
}

/// Random base64url text of `bytes` random bytes (claims like `uti`, `aio`; not secrets).
pub(crate) fn rand_b64(bytes: usize) -> String {
    use base64::Engine;
    let raw: Vec<u8> = (0..bytes).map(|_| fastrand::u8(..)).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// A JSON reply.
pub(crate) fn reply(status: u16, body: &Value) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body.to_string(),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn error_code_for(status: u16) -> &'static str {
    match status {
        400 => "invalid_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        410 => "gone",
        429 => "too_many_requests",
        s if s >= 500 => "unknown",
        _ => "invalid_request",
    }
}

/// The error body of MI endpoint `e`, with a generic code for `status`.
pub(crate) fn error_body(e: Endpoint, status: u16, message: &str) -> String {
    error_value(e, status, error_code_for(status), message).to_string()
}

/// The error JSON of MI endpoint `e`:
/// IMDS/Arc `{"error","error_description"}`; App Service/ML `{"statusCode","message",
/// "correlationId"}`; Service Fabric `{"error":{"correlationId","code","message"}}`; Cloud Shell
/// `{"error":{"code","message"}}`.
pub(crate) fn error_value(e: Endpoint, status: u16, code: &str, message: &str) -> Value {
    let corr = uuid::Uuid::new_v4().to_string();
    match e {
        Endpoint::AppService | Endpoint::AzureMl => {
            json!({"statusCode": status, "message": message, "correlationId": corr})
        }
        Endpoint::ServiceFabric => {
            json!({"error": {"correlationId": corr, "code": code, "message": message}})
        }
        Endpoint::CloudShell => json!({"error": {"code": code, "message": message}}),
        _ => json!({"error": code, "error_description": message}),
    }
}

/// An error reply of MI endpoint `e`.
pub(crate) fn error_reply(e: Endpoint, status: u16, code: &str, message: &str) -> Response {
    reply(status, &error_value(e, status, code, message))
}

/// Query pairs of a request.
pub(crate) fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    q.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

/// First value of `k`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// `Metadata: true` (case-insensitive value) present.
pub(crate) fn has_metadata(h: &HeaderMap) -> bool {
    h.get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Compare a secret header with the expected value in constant time.
pub(crate) fn secret_matches(h: &HeaderMap, name: &str, expected: &str) -> Option<bool> {
    let v = h.get(name)?.as_bytes();
    Some(ct_eq(v, expected.as_bytes()))
}

/// Constant-time byte comparison (length leaks, content does not).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// `resource` with one trailing `/.default` removed (the platform does the same).
pub(crate) fn strip_default(resource: &str) -> &str {
    resource.strip_suffix("/.default").unwrap_or(resource)
}

/// Whether an MI in `tenant_id` may get a token for `resource`.
pub(crate) fn resource_known(dir: &Directory, resource: &str, tenant_id: &str) -> bool {
    !resource_key(resource).is_empty()
        && dir
            .resource(resource)
            .is_some_and(|r| Directory::resource_in_tenant(r, tenant_id))
}

/// The text IMDS uses for an unknown resource (AADSTS50001).
pub(crate) fn unknown_resource_text(resource: &str, tenant_id: &str) -> String {
    format!(
        "AADSTS50001: The application named {resource} was not found in the tenant named {tenant_id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
    )
}

/// A UAMI (or system identity) selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selector {
    None,
    ClientId(String),
    ObjectId(String),
    ResourceId(String),
}

/// Why no identity was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SelectError {
    /// The selector names nothing attached to the host.
    NotFound,
    /// No selector, no system identity and several user-assigned ones.
    Ambiguous,
    /// No identity at all.
    NoIdentity,
}

/// Read at most one selector out of `names` = (client id, object id, resource id) parameter
/// names; `Err` names the parameters when several were sent.
pub(crate) fn read_selector(
    pairs: &[(String, String)],
    names: (&[&str], &[&str], &[&str]),
) -> Result<Selector, Vec<String>> {
    let mut found = Vec::new();
    for (list, kind) in [(names.0, 0), (names.1, 1), (names.2, 2)] {
        for n in list {
            if let Some(v) = param(pairs, n).filter(|v| !v.is_empty()) {
                found.push((kind, (*n).to_owned(), v.to_owned()));
            }
        }
    }
    match found.len() {
        0 => Ok(Selector::None),
        1 => {
            let (kind, _, v) = found.remove(0);
            Ok(match kind {
                0 => Selector::ClientId(v),
                1 => Selector::ObjectId(v),
                _ => Selector::ResourceId(v),
            })
        }
        _ => Err(found.into_iter().map(|(_, n, _)| n).collect()),
    }
}

/// Choose among the host's identities (system + user-assigned), as IMDS and App Service do.
pub(crate) fn select_host_identity<'a>(
    dir: &'a Directory,
    sel: &Selector,
) -> Result<&'a Identity, SelectError> {
    let host = &dir.host;
    let attached = || {
        host.system
            .iter()
            .chain(host.user.iter())
            .map(|&i| &dir.identities[i])
    };
    match sel {
        Selector::None => {
            if let Some(i) = host.system {
                Ok(&dir.identities[i])
            } else {
                match host.user.as_slice() {
                    [] => Err(SelectError::NoIdentity),
                    [one] => Ok(&dir.identities[*one]),
                    _ => Err(SelectError::Ambiguous),
                }
            }
        }
        Selector::ClientId(v) => attached()
            .find(|m| m.client_id.eq_ignore_ascii_case(v))
            .ok_or(SelectError::NotFound),
        Selector::ObjectId(v) => attached()
            .find(|m| m.object_id.eq_ignore_ascii_case(v))
            .ok_or(SelectError::NotFound),
        Selector::ResourceId(v) => attached()
            .find(|m| {
                m.resource_id
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(v))
            })
            .ok_or(SelectError::NotFound),
    }
}

/// The token a subject gets for a resource: reused from the cache while it has more than
/// `mi_reissue_below_secs` left, else freshly signed by `mint(now)`.
pub(crate) fn cached_token(
    st: &State,
    subject_oid: &str,
    resource: &str,
    mint: impl FnOnce(i64) -> Value,
) -> CachedToken {
    let now = st.now();
    let key = (subject_oid.to_owned(), resource.to_owned());
    let reissue = st.config.lifetimes.mi_reissue_below_secs as i64;
    if let Ok(cache) = st.mi_cache.lock()
        && let Some(t) = cache.get(&key)
        && t.exp - now > reissue
        && t.nbf <= now + 300
    {
        return t.clone();
    }
    let claims = mint(now);
    let exp = claims["exp"].as_i64().unwrap_or(now);
    let nbf = claims["nbf"].as_i64().unwrap_or(now);
    let t = CachedToken {
        jwt: Arc::from(st.signer.sign(&claims)),
        nbf,
        exp,
    };
    if let Ok(mut cache) = st.mi_cache.lock() {
        cache.insert(key, t.clone());
    }
    t
}

/// The MI token for `m` and `resource` (v2 claim set), cached.
pub(crate) fn mi_token(st: &State, m: &Identity, resource: &str) -> CachedToken {
    cached_token(st, &m.object_id, resource, |now| {
        let mut c = json!({
            "aud": resource,
            "iss": format!("{}/{}/v2.0", st.issuer_host, m.tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + st.config.lifetimes.mi_secs as i64,
            "aio": rand_b64(42),
            "appid": m.client_id,
            "appidacr": "2",
            "azp": m.client_id,
            "azpacr": "2",
            "idp": format!("https://sts.windows.net/{}/", m.tenant_id),
            "idtyp": "app",
            "oid": m.object_id,
            "sub": m.object_id,
            "rh": format!("0.{}.", rand_b64(40)),
            "tid": m.tenant_id,
            "uti": rand_b64(16),
            "ver": "2.0",
        });
        if let Some(r) = &m.resource_id {
            c["xms_mirid"] = Value::String(r.clone());
        }
        c
    })
}

/// A success reply of MI endpoint `e`: `fields` plus the token and its expiry fields.
pub(crate) fn token_reply(
    st: &State,
    e: Endpoint,
    default: DefaultShape,
    token: &CachedToken,
    mut fields: Map<String, Value>,
) -> Response {
    fields.insert("access_token".into(), Value::String(token.jwt.to_string()));
    expiry_fields(
        &mut fields,
        st.faults.expiry_format(e),
        default,
        st.now(),
        token.nbf,
        token.exp,
        st.faults.refresh_in(e),
    );
    reply(200, &Value::Object(fields))
}

/// Accept `YYYY-MM-DD` dates on or after `min` (optionally with a `-preview` suffix).
pub(crate) fn api_version_at_least(v: &str, min: &str) -> bool {
    let date = v.strip_suffix("-preview").unwrap_or(v);
    let shape = date.len() == 10
        && date.bytes().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    shape && date >= min
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        assert!(api_version_at_least("2019-08-01", "2019-08-01"));
        assert!(api_version_at_least("2025-04-07", "2019-08-01"));
        assert!(api_version_at_least("2019-07-01-preview", "2019-07-01"));
        assert!(!api_version_at_least("2018-02-01", "2019-08-01"));
        assert!(!api_version_at_least("latest", "2019-08-01"));
        assert!(!api_version_at_least("2019-8-1", "2019-08-01"));
    }

    #[test]
    fn selectors() {
        let p = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<Vec<_>>()
        };
        let names: (&[&str], &[&str], &[&str]) = (&["client_id"], &["object_id"], &["msi_res_id"]);
        assert_eq!(read_selector(&p(&[]), names), Ok(Selector::None));
        assert_eq!(
            read_selector(&p(&[("client_id", "x")]), names),
            Ok(Selector::ClientId("x".into()))
        );
        assert_eq!(
            read_selector(&p(&[("client_id", "x"), ("msi_res_id", "y")]), names),
            Err(vec!["client_id".to_owned(), "msi_res_id".to_owned()])
        );
        assert_eq!(
            strip_default("api://AzureADTokenExchange/.default"),
            "api://AzureADTokenExchange"
        );
        assert_eq!(strip_default("a/.default/.default"), "a/.default");
    }
}
