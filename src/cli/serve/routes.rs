//! Request handling: which route a request addresses, the checks every token request passes
//! (rate limit, secret, allow-list, input), the App Service and `/v1/token` answers, and the
//! mapping of library errors to App Service-shaped errors. The one place a token leaves the
//! server is [`token_response`].
//!
//! App Service's managed-identity protocol (api-version 2019-08-01):
//! <https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference>.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use ficx::{AccessToken, ClientId, Error, Exchanger, Scope, TenantId};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::limits::{self, MAX_URI_BYTES, RateLimiter};
use super::metrics::Metrics;

/// The header App Service clients send the secret in (`X-IDENTITY-HEADER`, api-version 2019-08-01).
pub(crate) const SECRET_HEADER: &str = "x-identity-header";
/// The only App Service api-version served.
pub(crate) const API_VERSION: &str = "2019-08-01";
/// `Retry-After` sent with a transient failure when the upstream named none.
pub(crate) const DEFAULT_RETRY_AFTER_SECS: u64 = 5;

/// Which tenants may be asked for.
#[derive(Debug, Clone)]
pub(crate) enum Allow {
    /// `--allow-any-tenant`.
    Any,
    /// `--allow-tenant`, as given (GUIDs or domains; a tenant must be asked for the same way).
    List(Vec<TenantId>),
}

impl Allow {
    fn allows(&self, t: &TenantId) -> bool {
        match self {
            Allow::Any => true,
            Allow::List(l) => l.contains(t),
        }
    }
}

/// Whether the assertion source has worked once, and why not yet.
#[derive(Debug, Default)]
pub(crate) struct Readiness {
    ready: AtomicBool,
    last_error: std::sync::Mutex<Option<String>>,
}

impl Readiness {
    pub(crate) fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
    pub(crate) fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }
    pub(crate) fn set_error(&self, e: String) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }
    fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Shared by every connection.
#[derive(Debug)]
pub(crate) struct App {
    /// The one exchanger (one MI token, one cache) for the whole server. The Redis token store
    /// (a later task) plugs in when it is built, in `serve::run`; nothing here changes.
    pub(crate) exchanger: Exchanger,
    pub(crate) client_id: ClientId,
    pub(crate) secret: SecretString,
    pub(crate) allow: Allow,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) metrics: Metrics,
    pub(crate) readiness: Readiness,
    /// Per token request, over both legs and their retries.
    pub(crate) deadline: Duration,
}

/// A request's route, named as in the metrics' `route` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    AppService(&'a str),
    Token,
    Healthz,
    Readyz,
    Metrics,
    NotFound,
}

impl<'a> Route<'a> {
    pub(crate) fn of(path: &'a str) -> Self {
        match path {
            "/v1/token" => Route::Token,
            "/healthz" => Route::Healthz,
            "/readyz" => Route::Readyz,
            "/metrics" => Route::Metrics,
            _ => path
                .strip_prefix("/tenants/")
                .and_then(|p| p.strip_suffix("/msi/token"))
                .filter(|t| !t.is_empty() && !t.contains('/'))
                .map_or(Route::NotFound, Route::AppService),
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Route::AppService(_) => "app_service",
            Route::Token => "v1_token",
            Route::Healthz => "healthz",
            Route::Readyz => "readyz",
            Route::Metrics => "metrics",
            Route::NotFound => "not_found",
        }
    }
}

/// What the access log adds to the request line.
#[derive(Debug, Default)]
pub(crate) struct Note {
    pub(crate) tenant: Option<String>,
    pub(crate) cache_hit: Option<bool>,
    pub(crate) aadsts: Option<u32>,
}

/// A refusal or failure, rendered in App Service's error shape.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: String,
    retry_after: Option<Duration>,
    aadsts: Option<u32>,
    /// Which leg failed ([`leg_name`]), when the failure came from the exchanger.
    leg: Option<&'static str>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
            aadsts: None,
            leg: None,
        }
    }
}

/// The `leg` of an error body and of the failure metric: `managed_identity` (the MI token, or
/// the assertion source), `exchange` (Entra's token endpoint), `none` (neither, e.g. the store).
pub(crate) fn leg_name(leg: Option<ficx::Leg>) -> &'static str {
    match leg {
        Some(ficx::Leg::ManagedIdentity) => "managed_identity",
        Some(ficx::Leg::Exchange) => "exchange",
        _ => "none",
    }
}

/// Answer one request (the caller times it and records the metrics).
pub(crate) async fn respond<B>(app: &App, req: &Request<B>, note: &mut Note) -> Response<Body> {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return error(Refusal::new(
            StatusCode::URI_TOO_LONG,
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        ));
    }
    let route = Route::of(req.uri().path());
    if route != Route::NotFound && req.method() != Method::GET && req.method() != Method::HEAD {
        return error(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET is served",
        ));
    }
    match route {
        Route::Healthz => text(StatusCode::OK, "ok\n"),
        Route::Readyz if app.readiness.is_ready() => text(StatusCode::OK, "ready\n"),
        Route::Readyz => {
            let why = app
                .readiness
                .last_error()
                .unwrap_or_else(|| "fetching the managed-identity token".into());
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {why}\n"),
            )
        }
        Route::Metrics => {
            let body = app
                .metrics
                .render(&app.exchanger.stats(), app.readiness.is_ready());
            let mut r = Response::new(Body::from(body));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        Route::NotFound => error(Refusal::new(
            StatusCode::NOT_FOUND,
            "no such route; token routes are /tenants/<tenant>/msi/token and /v1/token",
        )),
        Route::AppService(tenant) => match token_request(app, req, Some(tenant), note).await {
            Ok((tenant, scope, token)) => app_service_response(app, &tenant, &scope, &token),
            Err(r) => error(r),
        },
        Route::Token => match token_request(app, req, None, note).await {
            Ok((tenant, scope, token)) => token_response(&tenant, &scope, &token),
            Err(r) => error(r),
        },
    }
}

fn query<B>(req: &Request<B>) -> Result<Vec<(String, String)>, Refusal> {
    serde_urlencoded::from_str(req.uri().query().unwrap_or(""))
        .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "the query string is malformed"))
}

fn param<'q>(q: &'q [(String, String)], name: &str) -> Option<&'q str> {
    q.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The checks, in order: rate limit, secret, input, allow-list; then the cache or an exchange.
async fn token_request<B>(
    app: &App,
    req: &Request<B>,
    path_tenant: Option<&str>,
    note: &mut Note,
) -> Result<(TenantId, Scope, AccessToken), Refusal> {
    if let Some(l) = &app.limiter
        && let Err(wait) = l.try_acquire()
    {
        app.metrics.rate_limited();
        let mut r = Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate limit exceeded (--rate-limit); retry after the Retry-After delay",
        );
        r.retry_after = Some(wait);
        return Err(r);
    }
    let given = req.headers().get(SECRET_HEADER).map(|v| v.as_bytes());
    if !given.is_some_and(|g| limits::secret_matches(&app.secret, g)) {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-IDENTITY-HEADER: send the IDENTITY_HEADER value printed by `ficx serve`",
        ));
    }
    let q = query(req)?;
    let (tenant, scope) = match path_tenant {
        Some(t) => {
            if let Some(v) = param(&q, "api-version").filter(|v| *v != API_VERSION) {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("api-version {v:?} is not supported; use {API_VERSION}"),
                ));
            }
            // A client may name a user-assigned identity; the only identity here is the app.
            for name in [
                "client_id",
                "mi_res_id",
                "msi_res_id",
                "principal_id",
                "object_id",
            ] {
                if let Some(v) = param(&q, name)
                    && !(name == "client_id" && v.eq_ignore_ascii_case(app.client_id.as_str()))
                {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "{name}={v:?} names another identity; this endpoint serves only the app {} (create the credential without a client id)",
                            app.client_id.as_str()
                        ),
                    ));
                }
            }
            let resource = param(&q, "resource").ok_or_else(|| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "missing the resource query parameter, e.g. resource=https://graph.microsoft.com",
                )
            })?;
            (t, resource)
        }
        None => {
            let t = param(&q, "tenant").ok_or_else(|| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "missing the tenant query parameter (GUID or verified domain)",
                )
            })?;
            let s = param(&q, "scope").ok_or_else(|| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "missing the scope query parameter, e.g. scope=https://graph.microsoft.com/.default",
                )
            })?;
            (t, s)
        }
    };
    let tenant =
        TenantId::new(tenant).map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    note.tenant = Some(tenant.as_str().to_owned());
    if !app.allow.allows(&tenant) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "tenant {tenant} is not allowed here (--allow-tenant); name it exactly as it is allowed"
            ),
        ));
    }
    let scope =
        Scope::new(scope).map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    if let Some(hit) = app.exchanger.cached(tenant.as_str(), scope.as_str()) {
        app.metrics.cache_hit();
        note.cache_hit = Some(true);
        return Ok((tenant, scope, hit));
    }
    app.metrics.cache_miss();
    note.cache_hit = Some(false);
    let result = tokio::time::timeout(
        app.deadline,
        app.exchanger.token(tenant.as_str(), scope.as_str()),
    )
    .await
    .unwrap_or_else(|_| {
        Err(Error::Timeout {
            leg: ficx::Leg::Exchange,
            url: app.exchanger.authority().to_owned(),
            after: app.deadline,
        })
    });
    match result {
        Ok(t) => Ok((tenant, scope, t)),
        Err(e) => {
            let r = refusal_for(&e);
            note.aadsts = r.aadsts;
            app.metrics
                .failure(r.status.as_u16(), r.leg.unwrap_or("none"), r.aadsts);
            tracing::warn!(
                tenant = tenant.as_str(),
                scope = scope.as_str(),
                status = r.status.as_u16(),
                leg = r.leg,
                aadsts = ?r.aadsts,
                error = %e,
                "token request failed"
            );
            Err(r)
        }
    }
}

/// The library error as an App Service-shaped failure: 400 bad input or an Entra configuration
/// rejection (with its AADSTS code and hint), 503 + Retry-After when transient, 500 otherwise
/// (the managed-identity leg, an unusable response).
fn refusal_for(e: &Error) -> Refusal {
    let (status, retry_after) = if e.is_usage() {
        (StatusCode::BAD_REQUEST, None)
    } else if e.is_transient() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(
                e.retry_after()
                    .unwrap_or(Duration::from_secs(DEFAULT_RETRY_AFTER_SECS)),
            ),
        )
    } else if e.entra().is_some() {
        (StatusCode::BAD_REQUEST, None)
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, None)
    };
    let mut message = e.to_string();
    if let Some(h) = e.hint() {
        message.push_str("; hint: ");
        message.push_str(h);
    }
    if let Some(x) = e.entra() {
        if let Some(t) = &x.trace_id {
            message.push_str(&format!("; Entra trace id {t}"));
        }
        if let Some(c) = &x.correlation_id {
            message.push_str(&format!("; Entra correlation id {c}"));
        }
    }
    Refusal {
        status,
        message,
        retry_after,
        aadsts: e.aadsts(),
        leg: Some(leg_name(e.leg())),
    }
}

#[allow(clippy::disallowed_methods)] // expires_in is reported against the real clock, as `ficx token` does
fn now() -> SystemTime {
    SystemTime::now()
}

fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    let mut r = Response::new(Body::from(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// App Service's success shape; `expires_on` is a string of epoch seconds, as App Service sends.
fn app_service_response(
    app: &App,
    _tenant: &TenantId,
    scope: &Scope,
    t: &AccessToken,
) -> Response<Body> {
    let resource = scope
        .as_str()
        .strip_suffix("/.default")
        .unwrap_or(scope.as_str());
    json_response(
        StatusCode::OK,
        &json!({
            // The one place besides `token_response` where a token is exposed: onto the wire.
            "access_token": t.secret().expose_secret(),
            "expires_on": t.expires_on_unix().to_string(),
            "resource": resource,
            "token_type": t.token_type(),
            "client_id": app.client_id.as_str(),
        }),
    )
}

/// The `/v1/token` shape: `ficx token -o json`'s.
fn token_response(tenant: &TenantId, scope: &Scope, t: &AccessToken) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &super::super::token::token_json(tenant.as_str(), scope.as_str(), t, now()),
    )
}

/// App Service's error shape: `{"statusCode", "message", "correlationId"}`, plus `leg` when
/// the exchanger failed and `aadsts` when Entra named a code.
fn error(r: Refusal) -> Response<Body> {
    let mut body = json!({
        "statusCode": r.status.as_u16(),
        "message": r.message,
        "correlationId": uuid::Uuid::new_v4().to_string(),
    });
    if let Some(leg) = r.leg {
        body["leg"] = json!(leg);
    }
    if let Some(code) = r.aadsts {
        body["aadsts"] = json!(code);
    }
    let mut resp = json_response(r.status, &body);
    if let Some(wait) = r.retry_after {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            Route::of("/tenants/contoso.onmicrosoft.com/msi/token"),
            Route::AppService("contoso.onmicrosoft.com")
        );
        assert_eq!(Route::of("/tenants//msi/token"), Route::NotFound);
        assert_eq!(Route::of("/tenants/a/b/msi/token"), Route::NotFound);
        assert_eq!(Route::of("/v1/token"), Route::Token);
        assert_eq!(Route::of("/metrics").name(), "metrics");
        assert_eq!(Route::of("/"), Route::NotFound);
    }

    #[test]
    fn errors_carry_the_app_service_shape_and_retry_after() {
        let mut r = Refusal::new(StatusCode::TOO_MANY_REQUESTS, "slow down");
        r.retry_after = Some(Duration::from_millis(200));
        let resp = error(r);
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()[RETRY_AFTER], "1");
    }
}
