//! `ficx serve`: a long-running loopback server that hands foreign-tenant app tokens to
//! processes that are not Rust. Each allowed tenant gets an App Service-compatible
//! managed-identity endpoint (`/tenants/<tenant>/msi/token`), so an unmodified Azure SDK
//! `ManagedIdentityCredential` works with only `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` set;
//! `/v1/token` is the plain JSON form. One [`ficx::Exchanger`] (one MI token, one cache) serves
//! every request.
//!
//! This file: the flags, their validation into [`ServeConfig`] before any I/O, start-up (secret,
//! bind, the printed environment, the readiness probe) and shutdown. The `--config` file:
//! `config.rs`; requests: `routes.rs`; connections: `listener.rs`; the Unix socket:
//! `unix_socket.rs`; limits and the secret: `limits.rs`; `/metrics`: `metrics.rs`.

mod config;
mod limits;
mod listener;
mod metrics;
mod routes;
#[cfg(unix)]
mod unix_socket;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use ficx::{ClientId, Env, ManagedIdentity, TenantId};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::args::{self, ConnArgs, MiArgs};
use super::exit::Usage;
use super::store::StoreArgs;
use routes::{Allow, App};

/// Default for `--listen`.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8390";
/// Longest wait between two attempts of the start-up MI fetch (readiness).
pub(crate) const READINESS_MAX_BACKOFF_SECS: u64 = 30;

/// How stderr logs are written.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, message, fields).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Read settings from this TOML file: one key per flag, the long name with _ for -, e.g.
    /// allow_tenant = ["contoso.onmicrosoft.com"] (env FICX_SERVE_CONFIG). Flags and environment
    /// variables beat the file. Unknown keys are an error; secrets are refused (use secret_file).
    #[arg(long, env = "FICX_SERVE_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on: loopback only, e.g. 127.0.0.1:8390, [::1]:8390, localhost:0
    /// (port 0 = any free port; the chosen one is printed) (env FICX_SERVE_LISTEN; default
    /// 127.0.0.1:8390).
    #[arg(long, env = "FICX_SERVE_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// Also (or, without an explicit --listen, only) serve on this Unix socket, created with
    /// mode 0600; a stale socket there is replaced, anything else refused; removed on shutdown.
    /// The secret header is still required (env FICX_SERVE_UNIX_SOCKET).
    #[arg(long, env = "FICX_SERVE_UNIX_SOCKET", value_name = "PATH")]
    pub(crate) unix_socket: Option<PathBuf>,
    /// A tenant (GUID or verified domain) clients may ask for; repeat or comma-separate. Clients
    /// must name it as it is written here (env FICX_SERVE_ALLOW_TENANT).
    #[arg(
        long = "allow-tenant",
        env = "FICX_SERVE_ALLOW_TENANT",
        value_delimiter = ',',
        value_name = "TENANT"
    )]
    pub(crate) allow_tenants: Vec<String>,
    /// Serve any tenant the app is consented in, instead of an --allow-tenant list.
    #[arg(long)]
    pub(crate) allow_any_tenant: bool,
    /// Read the shared secret (IDENTITY_HEADER) from this file (env FICX_SERVE_SECRET_FILE; else
    /// env FICX_SERVE_SECRET; else one is generated and printed once).
    #[arg(long, env = "FICX_SERVE_SECRET_FILE", value_name = "FILE")]
    pub(crate) secret_file: Option<PathBuf>,
    /// The multi-tenant app's application (client) id (env FICX_CLIENT_ID).
    #[arg(long, env = "FICX_CLIENT_ID", value_name = "GUID")]
    pub(crate) client_id: Option<String>,
    /// Token requests per second over all clients (a token bucket, burst the same); 0 = no
    /// limit. Over the limit: 429 with Retry-After (env FICX_SERVE_RATE_LIMIT; default 100).
    #[arg(long, env = "FICX_SERVE_RATE_LIMIT", value_name = "N")]
    pub(crate) rate_limit: Option<u32>,
    /// Log format on stderr: text or json (env FICX_LOG_FORMAT; default text). Logs never
    /// contain a token or the secret.
    #[arg(long, env = "FICX_LOG_FORMAT", value_name = "FORMAT")]
    pub(crate) log_format: Option<LogFormat>,
    #[command(flatten)]
    pub(crate) mi: MiArgs,
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// The flags, checked (no I/O yet).
#[derive(Debug)]
pub(crate) struct ServeConfig {
    /// The TCP address; `None` with a Unix socket and no explicit `--listen`.
    pub(crate) listen: Option<SocketAddr>,
    pub(crate) unix_socket: Option<PathBuf>,
    pub(crate) allow: Allow,
    pub(crate) client_id: ClientId,
    pub(crate) identity: ManagedIdentity,
}

/// Parse a listen address and refuse anything but loopback (the error names the value, not
/// where it came from).
pub(crate) fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let addr = match s.strip_prefix("localhost:") {
        Some(port) => port
            .parse::<u16>()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
            .map_err(|_| ()),
        None => s.parse::<SocketAddr>().map_err(|_| ()),
    }
    .map_err(|()| format!("{s:?} is not an address; expected e.g. 127.0.0.1:8390 or [::1]:8390"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr}: ficx serve binds loopback only (127.0.0.1 or [::1]); anything that can reach the port could ask for tokens"
        ));
    }
    Ok(addr)
}

impl ServeArgs {
    /// Merge the `--config` file, if one is named, under the flags and the environment.
    ///
    /// # Errors
    /// A [`Usage`] error (exit 2) naming the file, line and key when the file cannot be read or
    /// holds a bad value. Nothing but the file is read.
    pub(crate) fn apply_config(&mut self, env: &Env) -> anyhow::Result<()> {
        if let Some(path) = self.config.clone() {
            config::load(&path)?.fill(self, env);
        }
        Ok(())
    }

    pub(crate) fn check(&self, env: &Env) -> anyhow::Result<ServeConfig> {
        // A Unix socket replaces the default TCP address; an explicit --listen adds it back.
        let listen = match (&self.listen, &self.unix_socket) {
            (None, Some(_)) => None,
            (l, _) => Some(
                parse_listen(l.as_deref().unwrap_or(DEFAULT_LISTEN))
                    .map_err(|m| Usage(format!("--listen {m}")))?,
            ),
        };
        if cfg!(not(unix)) && self.unix_socket.is_some() {
            return Err(Usage("--unix-socket needs a Unix system".into()).into());
        }
        let allow = match (self.allow_any_tenant, self.allow_tenants.is_empty()) {
            (true, true) => Allow::Any,
            (true, false) => {
                return Err(Usage(
                    "pass either --allow-tenant or --allow-any-tenant, not both".into(),
                )
                .into());
            }
            (false, true) => {
                return Err(Usage(
                    "missing --allow-tenant (or FICX_SERVE_ALLOW_TENANT): the tenants clients may ask for; or --allow-any-tenant".into(),
                )
                .into());
            }
            (false, false) => Allow::List(
                self.allow_tenants
                    .iter()
                    .map(|t| {
                        TenantId::new(t.trim())
                            .map_err(|e| Usage(format!("--allow-tenant: {e}")).into())
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?,
            ),
        };
        let client_id = self.client_id.as_deref().ok_or_else(|| {
            Usage("missing --client-id (or FICX_CLIENT_ID): the multi-tenant app's application (client) id".into())
        })?;
        let client_id = ClientId::new(client_id).map_err(|e| Usage(format!("--client-id: {e}")))?;
        let identity = self.mi.identity(env)?;
        self.conn.cloud()?;
        // Absolute, so the printed FICX_SERVE_SOCKET works from any directory.
        let unix_socket = self
            .unix_socket
            .as_deref()
            .map(std::path::absolute)
            .transpose()
            .map_err(|e| Usage(format!("--unix-socket: {e}")))?;
        Ok(ServeConfig {
            listen,
            unix_socket,
            allow,
            client_id,
            identity,
        })
    }

    /// The secret: `--secret-file` (or `secret_file`), else `FICX_SERVE_SECRET`, else
    /// generated (`true`).
    fn secret(&self, env: &Env) -> anyhow::Result<(SecretString, bool)> {
        let (given, from) = match &self.secret_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Usage(format!("secret file {}: {e}", path.display())))?;
                (Some(text.trim().to_owned()), "the secret file")
            }
            None => (
                env.var(config::SECRET_ENV).map(|s| s.trim().to_owned()),
                config::SECRET_ENV,
            ),
        };
        match given {
            Some(s) if s.len() < limits::MIN_SECRET_LEN || !s.bytes().all(|b| b.is_ascii_graphic()) => {
                Err(Usage(format!(
                    "{from}: the secret must be at least {} printable ASCII characters without spaces",
                    limits::MIN_SECRET_LEN
                ))
                .into())
            }
            Some(s) => Ok((SecretString::from(s), false)),
            None => Ok((limits::generate_secret()?, true)),
        }
    }
}

fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// What a client needs, printed once on stdout: the TCP base URL (`None` when serving only on a
/// Unix socket), the socket, and the secret when it was generated here.
fn print_env(
    base: Option<&str>,
    socket: Option<&Path>,
    allow: &Allow,
    secret: Option<&SecretString>,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# ficx serve: App Service-compatible managed-identity endpoints, one per tenant"
    )?;
    if let Some(base) = base {
        writeln!(out, "export FICX_SERVE_URL={}", shell_quote(base))?;
        match allow {
            Allow::List(tenants) => {
                let first = &tenants[0];
                writeln!(
                    out,
                    "export IDENTITY_ENDPOINT={}",
                    shell_quote(&format!("{base}/tenants/{first}/msi/token"))
                )?;
                for t in &tenants[1..] {
                    writeln!(
                        out,
                        "#   tenant {t}: IDENTITY_ENDPOINT={base}/tenants/{t}/msi/token"
                    )?;
                }
            }
            Allow::Any => writeln!(
                out,
                "#   any tenant: IDENTITY_ENDPOINT={base}/tenants/<tenant>/msi/token"
            )?,
        }
    }
    if let Some(socket) = socket {
        writeln!(
            out,
            "export FICX_SERVE_SOCKET={}",
            shell_quote(&socket.display().to_string())
        )?;
        writeln!(
            out,
            "#   over the socket: curl --unix-socket \"$FICX_SERVE_SOCKET\" -H 'X-IDENTITY-HEADER: <secret>' 'http://localhost/v1/token?tenant=<tenant>&scope=<scope>'"
        )?;
    }
    match secret {
        // The one place the server prints its secret: it generated it, and this is the only way
        // a client can learn it. Printed once, to stdout, never to the log.
        Some(s) => writeln!(
            out,
            "export IDENTITY_HEADER={}",
            shell_quote(s.expose_secret())
        )?,
        None => writeln!(
            out,
            "#   IDENTITY_HEADER: the secret from --secret-file / FICX_SERVE_SECRET"
        )?,
    }
    out.flush()
}

/// Fetch the MI token once (the readiness probe), retrying with backoff until it works.
async fn probe_readiness(app: Arc<App>) {
    let mut delay = Duration::from_secs(1);
    loop {
        match app.exchanger.assertion().await {
            Ok(_) => {
                app.readiness.set_ready();
                tracing::info!("ready: the managed-identity token was fetched");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "not ready: the managed-identity token could not be fetched");
                app.readiness.set_error(e.to_string());
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(READINESS_MAX_BACKOFF_SECS));
    }
}

pub(crate) async fn run(a: ServeArgs) -> anyhow::Result<()> {
    let env = Env::process();
    let c = a.check(&env)?;
    if c.identity.is_system_assigned() && a.mi.assertion_file.is_none() {
        eprintln!("{}", args::SYSTEM_ASSIGNED_WARNING);
    }
    let (secret, generated) = a.secret(&env)?;
    let rate_limit = a.rate_limit.unwrap_or(limits::DEFAULT_RATE_LIMIT_PER_SEC);
    // Everything downstream goes through the one `Exchanger`, with or without the Redis store.
    let b = args::builder(&c.client_id, &c.identity, &a.mi, &a.conn, &env, None)?;
    let b = a.store.apply(b, &env)?;
    let exchanger = args::build(b)?;
    let mut listeners = listener::Listeners::default();
    if let Some(addr) = c.listen {
        let tcp = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        listeners.tcp = Some(tcp);
    }
    let bound = match &listeners.tcp {
        Some(t) => Some(t.local_addr().context("reading the bound address")?),
        None => None,
    };
    // Removes the socket file when dropped: after the drain below, or on an early return.
    #[cfg(unix)]
    let socket_file = match &c.unix_socket {
        Some(path) => {
            let (l, file) = unix_socket::bind(path)?;
            listeners.unix = Some(l);
            Some(file)
        }
        None => None,
    };
    let base = bound.map(|b| format!("http://{b}"));
    print_env(
        base.as_deref(),
        c.unix_socket.as_deref(),
        &c.allow,
        generated.then_some(&secret),
    )?;

    let app = Arc::new(App {
        exchanger,
        client_id: c.client_id,
        secret,
        allow: c.allow,
        limiter: limits::RateLimiter::new(rate_limit),
        metrics: metrics::Metrics::default(),
        readiness: routes::Readiness::default(),
        deadline: a.conn.deadline(),
    });
    tracing::info!(
        listen = bound.map(|b| b.to_string()),
        unix_socket = c.unix_socket.as_ref().map(|p| p.display().to_string()),
        tenants = ?match &app.allow { Allow::Any => vec!["*".to_owned()], Allow::List(l) => l.iter().map(|t| t.to_string()).collect() },
        rate_limit,
        "ficx serve listening"
    );
    let probe = tokio::spawn(probe_readiness(app.clone()));
    listener::serve(listeners, app, super::emulate::wait_for_shutdown()).await;
    probe.abort();
    #[cfg(unix)]
    drop(socket_file);
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_is_loopback_only() {
        assert_eq!(parse_listen("127.0.0.1:0").unwrap().port(), 0);
        assert!(parse_listen("[::1]:8390").is_ok());
        assert!(parse_listen("localhost:8390").is_ok());
        assert!(
            parse_listen("0.0.0.0:8390")
                .unwrap_err()
                .contains("loopback only")
        );
        assert!(parse_listen("10.0.0.4:8390").is_err());
        assert!(parse_listen("[::]:8390").is_err());
        assert!(parse_listen("example.com:80").is_err());
    }

    #[test]
    fn a_unix_socket_replaces_the_default_listener_not_an_explicit_one() {
        use clap::Parser;
        let env = Env::from_vars::<&str, &str>([]);
        let check = |extra: &[&str]| {
            let mut argv = vec![
                "ficx",
                "serve",
                "--allow-any-tenant",
                "--client-id",
                "c1c1c1c1-0000-4000-8000-000000000001",
            ];
            argv.extend(extra);
            match crate::cli::Cli::try_parse_from(argv).unwrap().command {
                crate::cli::Command::Serve(a) => a.check(&env).unwrap(),
                _ => unreachable!(),
            }
        };
        let c = check(&[]);
        assert_eq!(c.listen.unwrap().to_string(), DEFAULT_LISTEN);
        assert!(c.unix_socket.is_none());
        let c = check(&["--unix-socket", "serve.sock"]);
        assert!(c.listen.is_none(), "the socket alone");
        assert!(c.unix_socket.unwrap().is_absolute());
        let c = check(&["--unix-socket", "/run/ficx.sock", "--listen", "127.0.0.1:0"]);
        assert_eq!(c.listen.unwrap().port(), 0, "both");
    }
}
