//! The listeners: a hand-rolled accept loop (tokio `TcpListener`, optional tokio-rustls
//! handshake, hyper HTTP/1.1 with keep-alive) around an axum `Router`, plus the outer service
//! that classifies each request, applies scripted faults and writes the request log.
//!
//! Faults that no router can express are acted out here: a service error makes hyper close the
//! connection without a response ([`Fault::DropConnection`]), a body that errors after its first
//! chunk aborts mid-response ([`Fault::ResetMidBody`]), a future that never resolves hangs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::entra_error::{self, EntraFailure};
use super::faults::{Fault, RetryAfter};
use super::log::{Listener, LogEntry};
use super::state::State;
use super::{Endpoint, mi, paths};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which listener a request came through and the URL it is served at; handlers read it from
/// the request extensions to write self-referencing URLs.
#[derive(Debug, Clone)]
pub(crate) struct ListenerCtx {
    pub(crate) listener: Listener,
    pub(crate) base_url: Arc<str>,
}

impl ListenerCtx {
    pub(crate) fn new(listener: Listener, base_url: &str) -> Self {
        Self {
            listener,
            base_url: Arc::from(base_url),
        }
    }
}

/// What a handler tells the log beyond what the request line shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogNote {
    pub(crate) form_fields: Vec<String>,
}

/// The reason a connection is closed without a (complete) response.
#[derive(Debug)]
pub(crate) struct Aborted(&'static str);

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection aborted: {}", self.0)
    }
}

impl std::error::Error for Aborted {}

/// Response body: the router's, a fixed one, or one that fails after its first chunk.
pub(crate) enum OutBody {
    Routed(Body),
    Full(Option<Bytes>),
    Failing {
        first: Option<Bytes>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

impl hyper::body::Body for OutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            OutBody::Routed(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            OutBody::Full(b) => Poll::Ready(b.take().map(|d| Ok(Frame::data(d)))),
            OutBody::Failing { first, pause } => {
                if let Some(d) = first.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                // Give hyper a moment to flush the head and the first chunk before aborting.
                if let Some(p) = pause {
                    if p.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *pause = None;
                }
                Poll::Ready(Some(Err(Box::new(Aborted("reset mid-body")))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            OutBody::Routed(b) => b.is_end_stream(),
            OutBody::Full(b) => b.is_none(),
            OutBody::Failing { .. } => false,
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            OutBody::Routed(b) => b.size_hint(),
            OutBody::Full(b) => {
                hyper::body::SizeHint::with_exact(b.as_ref().map_or(0, |d| d.len() as u64))
            }
            OutBody::Failing { .. } => hyper::body::SizeHint::default(),
        }
    }
}

async fn wait_shutdown(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Spawn the accept loop of one listener.
pub(crate) fn spawn(
    tcp: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router,
    ctx: ListenerCtx,
    state: Arc<State>,
) -> JoinHandle<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        loop {
            let accepted = tokio::select! {
                _ = wait_shutdown(&mut shutdown) => break,
                r = tcp.accept() => r,
            };
            let Ok((stream, _)) = accepted else {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (router, ctx, state, acceptor) =
                (router.clone(), ctx.clone(), state.clone(), acceptor.clone());
            tokio::spawn(async move {
                let mut shutdown = state.shutdown.clone();
                match acceptor {
                    None => serve_io(stream, router, ctx, state, &mut shutdown).await,
                    Some(acc) => {
                        let tls = tokio::select! {
                            _ = wait_shutdown(&mut shutdown) => return,
                            r = acc.accept(stream) => r,
                        };
                        if let Ok(tls) = tls {
                            serve_io(tls, router, ctx, state, &mut shutdown).await;
                        }
                    }
                }
            });
        }
    })
}

async fn serve_io<I>(
    io: I,
    router: Router,
    ctx: ListenerCtx,
    state: Arc<State>,
    shutdown: &mut watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        handle(req, router.clone(), ctx.clone(), state.clone())
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = wait_shutdown(shutdown) => {}
    }
}

/// Which endpoint a path addresses on a listener, and the tenant segment for authority calls.
pub(crate) fn classify(listener: Listener, path: &str) -> (Option<Endpoint>, Option<String>) {
    let is_control = path == paths::CONTROL || path.starts_with("/_ficx/");
    match listener {
        Listener::ServiceFabric => (
            (path == paths::SERVICE_FABRIC).then_some(Endpoint::ServiceFabric),
            None,
        ),
        _ if is_control => (Some(Endpoint::Control), None),
        Listener::Mi => (
            match path {
                paths::IMDS => Some(Endpoint::Imds),
                paths::APP_SERVICE => Some(Endpoint::AppService),
                paths::AZURE_ARC => Some(Endpoint::AzureArc),
                paths::AZURE_ML => Some(Endpoint::AzureMl),
                paths::CLOUD_SHELL => Some(Endpoint::CloudShell),
                _ => None,
            },
            None,
        ),
        Listener::Authority | Listener::AuthorityHttp => {
            let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            let e = match segs.as_slice() {
                [_, "oauth2", "v2.0", "token"] => Some(Endpoint::Token),
                [_, "v2.0", ".well-known", "openid-configuration"]
                | [_, ".well-known", "openid-configuration"] => Some(Endpoint::OpenIdConfiguration),
                [_, "discovery", "v2.0", "keys"] | [_, "discovery", "keys"] => Some(Endpoint::Jwks),
                [_, "discovery", "instance"] => Some(Endpoint::InstanceDiscovery),
                _ => None,
            };
            (e, e.map(|_| segs[0].to_owned()))
        }
    }
}

async fn call_router(router: Router, req: Request<Incoming>) -> Response<Body> {
    let mut r = router;
    match tower_service::Service::call(&mut r, req.map(Body::new)).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

async fn collect(resp: Response<Body>) -> (hyper::http::response::Parts, Bytes) {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

fn fixed(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<OutBody> {
    let mut r = Response::new(OutBody::Full(Some(body.into())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    r
}

const JSON: &str = "application/json; charset=utf-8";

fn http_date(unix: u64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix as i64) {
        Ok(t) => {
            let wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                [t.weekday().number_days_from_monday() as usize];
            let mo = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ][t.month() as usize - 1];
            format!(
                "{wd}, {:02} {mo} {:04} {:02}:{:02}:{:02} GMT",
                t.day(),
                t.year(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => "Thu, 01 Jan 1970 00:00:00 GMT".into(),
    }
}

fn status_fault(
    e: Option<Endpoint>,
    status: u16,
    retry_after: Option<RetryAfter>,
    body: Option<String>,
    state: &State,
    ctx: &ListenerCtx,
    correlation: Option<&str>,
) -> Response<OutBody> {
    let body = body.unwrap_or_else(|| match e {
        Some(ep) if ep.is_managed_identity() => {
            mi::error_body(ep, status, &format!("Injected fault: HTTP {status}"))
        }
        _ => {
            let corr = entra_error::correlation_id(correlation);
            entra_error::body(
                &EntraFailure::for_status(status),
                Some(status),
                &corr,
                state.clock.now(),
                &ctx.base_url,
            )
            .1
        }
    });
    let mut r = fixed(status, JSON, body);
    if let Some(ra) = retry_after {
        let (name, value) = match ra {
            RetryAfter::Seconds(s) => (RETRY_AFTER.as_str(), s.to_string()),
            RetryAfter::HttpDate(t) => (RETRY_AFTER.as_str(), http_date(t)),
            RetryAfter::Millis(ms) => ("retry-after-ms", ms.to_string()),
            RetryAfter::XMsMillis(ms) => ("x-ms-retry-after-ms", ms.to_string()),
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut().insert(name, v);
        }
    }
    r
}

fn oversized(bytes: usize) -> Bytes {
    let head = br#"{"token_type":"Bearer","padding":""#;
    let tail = br#""}"#;
    let pad = bytes.saturating_sub(head.len() + tail.len());
    let mut v = Vec::with_capacity(head.len() + pad + tail.len());
    v.extend_from_slice(head);
    v.resize(head.len() + pad, b'x');
    v.extend_from_slice(tail);
    Bytes::from(v)
}

fn missing_fields(e: Option<Endpoint>, now: i64) -> String {
    match e {
        Some(Endpoint::Token) | None => {
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599}"#.to_owned()
        }
        Some(_) => format!(
            r#"{{"token_type":"Bearer","expires_on":"{}","resource":""}}"#,
            now + 3600
        ),
    }
}

fn html(status: u16) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!(
        "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n<body><h1>{status} {reason}</h1><p>The upstream server is not available.</p></body></html>\n"
    )
}

async fn handle(
    mut req: Request<Incoming>,
    router: Router,
    ctx: ListenerCtx,
    state: Arc<State>,
) -> Result<Response<OutBody>, Aborted> {
    let path = req.uri().path().to_owned();
    let (endpoint, tenant) = classify(ctx.listener, &path);
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let header_names: Vec<String> = req
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .collect();
    let correlation = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut entry = LogEntry {
        seq: state.log.next_seq(),
        time: state.clock.now(),
        listener: ctx.listener,
        endpoint,
        method: req.method().as_str().to_owned(),
        path,
        query,
        header_names,
        form_fields: Vec::new(),
        status: None,
        fault: None,
        tenant,
    };
    let fault = match endpoint {
        Some(e) if e != Endpoint::Control => state.faults.take(e),
        _ => None,
    };
    entry.fault = fault.as_ref().map(|f| f.kind().to_owned());
    req.extensions_mut().insert(ctx.clone());

    let result: Result<Response<OutBody>, Aborted> = match fault {
        None => Ok(call_router(router, req).await.map(OutBody::Routed)),
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Ok(call_router(router, req).await.map(OutBody::Routed))
        }
        Some(Fault::Hang) => {
            state.log.record(entry);
            let mut rx = state.shutdown.clone();
            wait_shutdown(&mut rx).await;
            return Err(Aborted("hang ended by shutdown"));
        }
        Some(Fault::DropConnection) => Err(Aborted("dropped by fault")),
        Some(Fault::Status {
            status,
            retry_after,
            body,
        }) => Ok(status_fault(
            endpoint,
            status,
            retry_after,
            body,
            &state,
            &ctx,
            correlation.as_deref(),
        )),
        Some(Fault::Html { status }) => Ok(fixed(status, "text/html; charset=utf-8", html(status))),
        Some(Fault::OversizedBody { bytes }) => Ok(fixed(200, JSON, oversized(bytes))),
        Some(Fault::MissingFields) => Ok(fixed(200, JSON, missing_fields(endpoint, state.now()))),
        Some(Fault::TruncatedBody) => {
            let (mut parts, bytes) = collect(call_router(router, req).await).await;
            parts.headers.remove(CONTENT_LENGTH);
            let half = bytes.slice(..bytes.len() / 2);
            Ok(Response::from_parts(parts, OutBody::Full(Some(half))))
        }
        Some(Fault::ResetMidBody) => {
            let (mut parts, bytes) = collect(call_router(router, req).await).await;
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            let half = bytes.slice(..bytes.len() / 2);
            Ok(Response::from_parts(
                parts,
                OutBody::Failing {
                    first: Some(half),
                    pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(30)))),
                },
            ))
        }
    };
    tracing::debug!(
        listener = %entry.listener,
        endpoint = entry.endpoint.map(|e| e.name()),
        method = %entry.method,
        path = %entry.path,
        status = result.as_ref().ok().map(|r| r.status().as_u16()),
        fault = entry.fault.as_deref(),
        "ficx emulator request"
    );
    if let Ok(resp) = &result {
        entry.status = Some(resp.status().as_u16());
        if let Some(note) = resp.extensions().get::<LogNote>() {
            entry.form_fields = note.form_fields.clone();
        }
    }
    state.log.record(entry);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(Listener::Mi, paths::IMDS).0, Some(Endpoint::Imds));
        assert_eq!(
            classify(Listener::Mi, "/_ficx/log").0,
            Some(Endpoint::Control)
        );
        assert_eq!(classify(Listener::Mi, "/nope").0, None);
        assert_eq!(
            classify(Listener::ServiceFabric, paths::SERVICE_FABRIC).0,
            Some(Endpoint::ServiceFabric)
        );
        assert_eq!(classify(Listener::ServiceFabric, "/_ficx/log").0, None);
        let (e, t) = classify(
            Listener::Authority,
            "/contoso.onmicrosoft.com/oauth2/v2.0/token",
        );
        assert_eq!(
            (e, t.as_deref()),
            (Some(Endpoint::Token), Some("contoso.onmicrosoft.com"))
        );
        assert_eq!(
            classify(
                Listener::Authority,
                "/t/v2.0/.well-known/openid-configuration"
            )
            .0,
            Some(Endpoint::OpenIdConfiguration)
        );
        assert_eq!(
            classify(Listener::AuthorityHttp, "/common/discovery/keys").0,
            Some(Endpoint::Jwks)
        );
        assert_eq!(
            classify(Listener::Authority, "/common/discovery/instance").0,
            Some(Endpoint::InstanceDiscovery)
        );
        assert_eq!(classify(Listener::Authority, "/common").0, None);
    }

    #[test]
    fn fault_bodies() {
        assert_eq!(oversized(1000).len(), 1000);
        assert!(serde_json::from_slice::<serde_json::Value>(&oversized(100)).is_ok());
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert!(html(502).contains("502 Bad Gateway"));
    }
}
