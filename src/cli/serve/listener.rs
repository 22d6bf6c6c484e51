//! The accept loop: loopback TCP, a Unix socket, or both; hyper HTTP/1.1 per connection with a
//! bounded request head and a header-read timeout, a cap on open connections (over both), the
//! access log, and a graceful shutdown that stops accepting and lets requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::limits::MAX_HEAD_BYTES;
use super::routes::{self, App, Note, Route};

/// What the server accepts connections on (at least one of them).
#[derive(Debug, Default)]
pub(crate) struct Listeners {
    /// `--listen`.
    pub(crate) tcp: Option<TcpListener>,
    /// `--unix-socket`.
    #[cfg(unix)]
    pub(crate) unix: Option<tokio::net::UnixListener>,
}

/// An accepted connection.
enum Accepted {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl Listeners {
    /// The next connection on either listener.
    async fn accept(&self) -> std::io::Result<Accepted> {
        let tcp = async {
            match &self.tcp {
                Some(l) => l.accept().await.map(|(s, _)| Accepted::Tcp(s)),
                None => std::future::pending().await,
            }
        };
        #[cfg(unix)]
        let unix = async {
            match &self.unix {
                Some(l) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let unix = std::future::pending();
        tokio::select! {
            r = tcp => r,
            r = unix => r,
        }
    }
}

/// Open connections at most; more wait in the kernel's backlog.
pub(crate) const MAX_CONNECTIONS: usize = 512;
/// A client must send its request head within this long.
pub(crate) const HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// On shutdown, requests in flight get this long to finish.
pub(crate) const DRAIN_SECS: u64 = 10;

/// Serve until `shutdown` resolves, then drain.
pub(crate) async fn serve(listeners: Listeners, app: Arc<App>, shutdown: impl Future<Output = ()>) {
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
            r = listeners.accept() => r,
        };
        let Ok(stream) = accepted else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let (app, stop) = (app.clone(), stop_rx.clone());
        conns.spawn(async move {
            match stream {
                Accepted::Tcp(s) => {
                    let _ = s.set_nodelay(true);
                    connection(s, app, stop).await;
                }
                #[cfg(unix)]
                Accepted::Unix(s) => connection(s, app, stop).await,
            }
            drop(permit);
        });
    }
    drop(listeners);
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

async fn connection<S>(stream: S, app: Arc<App>, mut stop: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
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
