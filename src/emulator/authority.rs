//! The Entra authority, per tenant (id or domain in the URL): OpenID discovery documents, JWKS,
//! instance discovery (the shape MSAL asks for) and the `client_credentials` token endpoint with
//! a jwt-bearer assertion, which really verifies the assertion and matches it against the
//! directory's FICs (checks in `exchange_checks.rs`, bodies in `entra_error.rs`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::directory::{Directory, Tenant};
use super::entra_error::{self, EntraFailure};
use super::exchange_checks::{check_app_only, check_time, match_fic, parse_scope, read_claims};
use super::jwt::VerifyError;
use super::mi::rand_b64;
use super::serve::{ListenerCtx, LogNote};
use super::state::State;

type St = AxState<Arc<State>>;

/// The jwt-bearer client assertion type (RFC 7523 §2.2).
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub(crate) fn router() -> Router<Arc<State>> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_v2),
        )
        .route("/{tenant}/.well-known/openid-configuration", get(openid_v1))
        .route("/{tenant}/discovery/v2.0/keys", get(jwks))
        .route("/{tenant}/discovery/keys", get(jwks))
        .route("/{tenant}/discovery/instance", get(instance_discovery))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
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

pub(crate) fn json_response(status: u16, body: String) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn client_request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
}

fn entra_response(
    st: &State,
    ctx: &ListenerCtx,
    headers: &HeaderMap,
    f: &EntraFailure,
) -> Response {
    let corr = entra_error::correlation_id(client_request_id(headers));
    let (status, body) = entra_error::body(f, None, &corr, st.clock.now(), &ctx.base_url);
    let mut r = json_response(status, body);
    if let Ok(v) = HeaderValue::from_str(&corr) {
        r.headers_mut().insert("client-request-id", v);
    }
    r
}

/// The tenant as it appears in discovery documents: its GUID, or Entra's `{tenantid}`
/// placeholder for the multi-tenant aliases.
fn discovery_tenant(dir: &Directory, seg: &str) -> Option<String> {
    let lower = seg.to_ascii_lowercase();
    if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
        return Some("{tenantid}".to_owned());
    }
    dir.tenant(seg).map(|t| t.id.clone())
}

fn openid_doc(st: &State, base: &str, seg: &str, tid: &str, v2: bool) -> Value {
    // Endpoints keep the URL's own segment for the aliases, the GUID otherwise (as Entra does).
    let t = if tid == "{tenantid}" { seg } else { tid };
    let (issuer, jwks, token, authorize) = if v2 {
        (
            format!("{}/{tid}/v2.0", st.issuer_host),
            format!("{base}/{t}/discovery/v2.0/keys"),
            format!("{base}/{t}/oauth2/v2.0/token"),
            format!("{base}/{t}/oauth2/v2.0/authorize"),
        )
    } else {
        (
            format!("https://sts.windows.net/{tid}/"),
            format!("{base}/common/discovery/keys"),
            format!("{base}/{t}/oauth2/token"),
            format!("{base}/{t}/oauth2/authorize"),
        )
    };
    let host = base.split("://").nth(1).unwrap_or(base);
    json!({
        "token_endpoint": token,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": jwks,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": authorize,
        "device_authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{t}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
        "cloud_instance_host_name": host,
    })
}

async fn openid(
    st: Arc<State>,
    ctx: ListenerCtx,
    headers: HeaderMap,
    seg: String,
    v2: bool,
) -> Response {
    let dir = st.directory.load();
    match discovery_tenant(&dir, &seg) {
        Some(tid) => json_response(
            200,
            openid_doc(&st, &ctx.base_url, &seg, &tid, v2).to_string(),
        ),
        None => entra_response(&st, &ctx, &headers, &EntraFailure::tenant_not_found(&seg)),
    }
}

async fn openid_v2(
    AxState(st): St,
    Extension(ctx): Extension<ListenerCtx>,
    headers: HeaderMap,
    Path(seg): Path<String>,
) -> Response {
    openid(st, ctx, headers, seg, true).await
}

async fn openid_v1(
    AxState(st): St,
    Extension(ctx): Extension<ListenerCtx>,
    headers: HeaderMap,
    Path(seg): Path<String>,
) -> Response {
    openid(st, ctx, headers, seg, false).await
}

async fn jwks(
    AxState(st): St,
    Extension(ctx): Extension<ListenerCtx>,
    headers: HeaderMap,
    Path(seg): Path<String>,
) -> Response {
    let dir = st.directory.load();
    let Some(tid) = discovery_tenant(&dir, &seg) else {
        return entra_response(&st, &ctx, &headers, &EntraFailure::tenant_not_found(&seg));
    };
    let issuer = format!("{}/{tid}/v2.0", st.issuer_host);
    json_response(
        200,
        json!({"keys": [st.signer.jwk(Some(&issuer))]}).to_string(),
    )
}

/// `(scheme, host, port)` of every listener serving the authority; `localhost` is an alias of a
/// loopback IP listener.
fn served(st: &State) -> Vec<(String, String, u16)> {
    let mut out = Vec::new();
    for url in std::iter::once(&st.urls.authority).chain(st.urls.authority_http.iter()) {
        if let Ok(u) = url::Url::parse(url)
            && let (Some(h), Some(p)) = (u.host_str(), u.port_or_known_default())
        {
            out.push((u.scheme().to_owned(), h.to_ascii_lowercase(), p));
            out.push((u.scheme().to_owned(), "localhost".to_owned(), p));
        }
    }
    out
}

/// Instance discovery (`/common/discovery/instance?api-version=1.1&authorization_endpoint=…`),
/// answered for this emulator's own hosts only (else AADSTS50049 `invalid_instance`). MSAL
/// Python drops the port when it builds `authorization_endpoint`, so a port-less loopback host
/// matches the listener that was asked, and the reply names the real `host:port`.
async fn instance_discovery(
    AxState(st): St,
    Extension(ctx): Extension<ListenerCtx>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let params: Vec<(String, String)> = q
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let own = url::Url::parse(&ctx.base_url).ok();
    let own_port = own.as_ref().and_then(url::Url::port_or_known_default);
    let served = served(&st);
    let (found, tenant) = match get("authorization_endpoint").map(url::Url::parse) {
        Some(Ok(u)) => {
            let host = u.host_str().unwrap_or("").to_ascii_lowercase();
            let tenant = u
                .path_segments()
                .and_then(|mut s| s.next())
                .filter(|s| !s.is_empty())
                .unwrap_or("common")
                .to_owned();
            let hit = match u.port() {
                Some(p) => served.iter().find(|(_, h, sp)| *h == host && *sp == p),
                None => served
                    .iter()
                    .filter(|(_, h, _)| *h == host)
                    .min_by_key(|(_, _, sp)| Some(*sp) != own_port),
            };
            (hit.cloned(), tenant)
        }
        Some(Err(_)) => (None, String::new()),
        None => (
            served
                .iter()
                .find(|(_, _, sp)| Some(*sp) == own_port)
                .cloned(),
            "common".to_owned(),
        ),
    };
    let Some((scheme, host, port)) = found else {
        return entra_response(&st, &ctx, &headers, &EntraFailure::unknown_instance());
    };
    let hostport = format!("{host}:{port}");
    let body = json!({
        "tenant_discovery_endpoint": format!("{scheme}://{hostport}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": hostport,
            "preferred_cache": hostport,
            "aliases": [hostport],
        }],
    });
    json_response(200, body.to_string())
}

async fn token(
    AxState(st): St,
    Extension(ctx): Extension<ListenerCtx>,
    Path(seg): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let note = LogNote {
        form_fields: form.iter().map(|(k, _)| k.clone()).collect(),
    };
    let mut resp = match exchange(&st, &seg, &form) {
        Ok(body) => json_response(200, body),
        Err(f) => entra_response(&st, &ctx, &headers, &f),
    };
    if let Some(id) = client_request_id(&headers).and_then(|v| HeaderValue::from_str(v).ok()) {
        resp.headers_mut().insert("client-request-id", id);
    }
    resp.extensions_mut().insert(note);
    resp
}

/// The whole check sequence of the token endpoint; returns the success body.
fn exchange(st: &State, seg: &str, form: &[(String, String)]) -> Result<String, EntraFailure> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let now = st.now();
    let dir = st.directory.load();
    let tenant: &Tenant = dir
        .tenant(seg)
        .ok_or_else(|| EntraFailure::tenant_not_found(seg))?;

    let grant = get("grant_type").ok_or_else(|| EntraFailure::missing_param("grant_type"))?;
    if grant != "client_credentials" {
        return Err(EntraFailure::unsupported_grant(grant));
    }
    let client_id = get("client_id").ok_or_else(|| EntraFailure::missing_param("client_id"))?;
    let scope = get("scope").ok_or_else(|| EntraFailure::missing_param("scope"))?;
    if get("client_secret").is_some() {
        return Err(EntraFailure::secret_sent(client_id));
    }
    let assertion = get("client_assertion").ok_or_else(EntraFailure::no_assertion)?;
    match get("client_assertion_type") {
        None => return Err(EntraFailure::missing_param("client_assertion_type")),
        Some(t) if t != JWT_BEARER => {
            return Err(EntraFailure::malformed(
                "client_assertion_type is not jwt-bearer",
            ));
        }
        Some(_) => {}
    }

    let claims = st.signer.verify(assertion).map_err(|e| match e {
        VerifyError::Malformed(why) => EntraFailure::malformed(why),
        VerifyError::Signature => EntraFailure::bad_signature(),
    })?;
    let c = read_claims(&claims)?;
    check_time(&c, now)?;
    check_app_only(&c)?;
    let mi = dir
        .identity_by_object_id(&c.sub)
        .filter(|m| Some(m.tenant_id.as_str()) == c.tid.as_deref())
        .ok_or_else(|| EntraFailure::not_managed_identity(&c.iss))?;

    let app = dir
        .app(client_id)
        .ok_or_else(|| EntraFailure::app_not_found(client_id, &tenant.display_name))?;
    if !app.multi_tenant && app.home_tenant != tenant.id {
        return Err(EntraFailure::app_not_found(client_id, &tenant.display_name));
    }
    let sp = dir
        .service_principal(&app.client_id, &tenant.id)
        .filter(|s| s.visible_at <= now);
    let Some(sp) = sp else {
        return Err(if app.home_tenant == tenant.id {
            EntraFailure::missing_sp(&app.client_id, &tenant.id)
        } else {
            EntraFailure::app_not_found(client_id, &tenant.display_name)
        });
    };
    if mi.tenant_id != app.home_tenant {
        return Err(EntraFailure::cross_tenant_issuer(&c.iss));
    }
    match_fic(&app.fics, &c, now, &app.client_id, &app.name)?;

    let resource_id = parse_scope(scope)?;
    let res = dir
        .resource(resource_id)
        .filter(|r| !r.mi_only && Directory::resource_in_tenant(r, &tenant.id))
        .ok_or_else(|| EntraFailure::resource_not_found(resource_id, &tenant.display_name))?;

    let roles = dir.roles(&app.client_id, &tenant.id, &res.app_id);
    let life = st.config.lifetimes.app_secs as i64;
    let v1 = res.token_version == 1;
    let tid = &tenant.id;
    let mut claims = json!({
        "aud": resource_id,
        "iss": if v1 { format!("https://sts.windows.net/{tid}/") } else { format!("{}/{tid}/v2.0", st.issuer_host) },
        "iat": now,
        "nbf": now,
        "exp": now + life,
        "aio": rand_b64(42),
        "appid": app.client_id,
        "appidacr": "2",
        "azp": app.client_id,
        "azpacr": "2",
        "idp": format!("https://sts.windows.net/{}/", app.home_tenant),
        "idtyp": "app",
        "oid": sp.object_id,
        "sub": sp.object_id,
        "rh": format!("0.{}.", rand_b64(40)),
        "tid": tid,
        "uti": rand_b64(16),
        "ver": if v1 { "1.0" } else { "2.0" },
    });
    if !roles.is_empty() {
        claims["roles"] = json!(roles);
    }
    let jwt = st.signer.sign(&claims);
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": life,
        "ext_expires_in": life,
        "access_token": jwt,
    });
    if let Some(r) = st.config.lifetimes.app_refresh_in_secs {
        body["refresh_in"] = json!(r);
    }
    Ok(body.to_string())
}
