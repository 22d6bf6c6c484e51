//! The accept loop: a tokio `TcpListener` on loopback, hyper HTTP/1.1 per connection with a
//! bounded request head and a header-read timeout, a cap on open connections, the access log,
//! and a graceful shutdown that stops accepting and lets requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::limits::MAX_HEAD_BYTES;
use super::routes::{self, App, Note, Route};

/// Open connections at most; more wait in the kernel's backlog.
pub(crate) const MAX_CONNECTIONS: usize = 512;
/// A client must send its request head within this long.
pub(crate) const HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// On shutdown, requests in flight get this long to finish.
pub(crate) const DRAIN_SECS: u64 = 10;

/// Serve until `shutdown` resolves, then drain.
pub(crate) async fn serve(tcp: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            p = permits.clone().acquire_owned() => p,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            r = tcp.accept() => r,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, stop) = (app.clone(), stop_rx.clone());
        conns.spawn(async move {
            connection(stream, app, stop).await;
            drop(permit);
        });
    }
    drop(tcp);
    tracing::info!(
        open = conns.len(),
        "shutting down: no new connections, draining"
    );
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(Duration::from_secs(DRAIN_SECS), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = conns.len(),
            "connections still open after the drain period; closing them"
        );
        conns.abort_all();
    }
}

async fn connection(stream: tokio::net::TcpStream, app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(handle(&app, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(HEADER_READ_TIMEOUT_SECS))
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = async { let _ = stop.wait_for(|s| *s).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// One request: answer, time, count, log (path only: never a header, never a body).
async fn handle(app: &App, req: Request<Incoming>) -> hyper::Response<axum::body::Body> {
    let start = Instant::now();
    let route = Route::of(req.uri().path()).name();
    let mut note = Note::default();
    let resp = routes::respond(app, &req, &mut note).await;
    let took = start.elapsed();
    let status = resp.status().as_u16();
    app.metrics.request(route, status, took);
    tracing::info!(
        method = %req.method(),
        path = req.uri().path(),
        route,
        status,
        latency_ms = took.as_secs_f64() * 1000.0,
        tenant = note.tenant.as_deref(),
        cache = note.cache_hit.map(|h| if h { "hit" } else { "miss" }),
        aadsts = note.aadsts,
        "request"
    );
    resp
}
