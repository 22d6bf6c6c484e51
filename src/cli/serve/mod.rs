//! `ficx serve`: a long-running loopback server that hands foreign-tenant app tokens to
//! processes that are not Rust. Each allowed tenant gets an App Service-compatible
//! managed-identity endpoint (`/tenants/<tenant>/msi/token`), so an unmodified Azure SDK
//! `ManagedIdentityCredential` works with only `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` set;
//! `/v1/token` is the plain JSON form. One [`ficx::Exchanger`] (one MI token, one cache) serves
//! every request.
//!
//! This file: the flags, their validation into [`ServeConfig`] before any I/O, start-up (secret,
//! bind, the printed environment, the readiness probe) and shutdown. The `--config` file:
//! `config.rs`; requests: `routes.rs`; connections: `listener.rs`; limits and the secret:
//! `limits.rs`; `/metrics`: `metrics.rs`.

mod config;
mod limits;
mod listener;
mod metrics;
mod routes;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
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
    pub(crate) listen: SocketAddr,
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
        let listen = parse_listen(self.listen.as_deref().unwrap_or(DEFAULT_LISTEN))
            .map_err(|m| Usage(format!("--listen {m}")))?;
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
        Ok(ServeConfig {
            listen,
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

/// What a client needs, printed once on stdout.
fn print_env(base: &str, allow: &Allow, secret: Option<&SecretString>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# ficx serve: App Service-compatible managed-identity endpoints, one per tenant"
    )?;
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
    let tcp = tokio::net::TcpListener::bind(c.listen)
        .await
        .with_context(|| format!("binding {}", c.listen))?;
    let bound = tcp.local_addr().context("reading the bound address")?;
    let base = format!("http://{bound}");
    print_env(&base, &c.allow, generated.then_some(&secret))?;

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
        listen = %bound,
        tenants = ?match &app.allow { Allow::Any => vec!["*".to_owned()], Allow::List(l) => l.iter().map(|t| t.to_string()).collect() },
        rate_limit,
        "ficx serve listening"
    );
    let probe = tokio::spawn(probe_readiness(app.clone()));
    listener::serve(tcp, app, super::emulate::wait_for_shutdown()).await;
    probe.abort();
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
}
