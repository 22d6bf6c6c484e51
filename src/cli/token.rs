//! `ficx token`: the one-shot exchange. Prints only the token by default (pipe-friendly),
//! `-o json` adds type, expiry, tenant and scope, `-o header` prints the `Authorization` header.
//! Several tenants: one MI request, one exchange each (concurrently), one JSON line each.

use std::time::{Duration, SystemTime};

use clap::{Args, ValueEnum};
use ficx::{AccessToken, Env, Error};
use secrecy::ExposeSecret;
use serde_json::json;

use super::args::{self, ExchangeArgs};
use super::exit::{Usage, code_for_error};
use super::store::StoreArgs;
use super::{output, progress};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub(crate) enum TokenFormat {
    /// The access token alone (one JSON line per tenant when several tenants are given).
    #[default]
    Text,
    /// A JSON object per tenant: token, type, expiry, tenant, scope.
    Json,
    /// `Authorization: Bearer <token>` (one tenant only).
    Header,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    pub(crate) exchange: ExchangeArgs,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub(crate) output: TokenFormat,
    /// Retry AADSTS70021 (a new FIC not yet visible) and 700016 (a new consent) for up to this
    /// long, e.g. 5m. Off by default: outside a rollout these are configuration errors.
    #[arg(long, value_name = "DURATION", value_parser = args::parse_duration)]
    pub(crate) wait_propagation: Option<Duration>,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// The stable JSON shape of one token (documented in the README).
pub(crate) fn token_json(
    tenant: &str,
    scope: &str,
    t: &AccessToken,
    now: SystemTime,
) -> serde_json::Value {
    json!({
        "tenant": tenant,
        "scope": scope,
        "token_type": t.token_type(),
        "access_token": t.secret().expose_secret(),
        "expires_on": t.expires_on_unix(),
        "expires_on_rfc3339": output::rfc3339(t.expires_on()),
        "expires_in": t.remaining(now).as_secs(),
    })
}

/// The stable JSON shape of a failure.
pub(crate) fn error_json(tenant: &str, scope: &str, e: &Error) -> serde_json::Value {
    json!({
        "tenant": tenant,
        "scope": scope,
        "error": {
            "message": e.to_string(),
            "leg": e.leg().map(|l| l.to_string()),
            "aadsts": e.aadsts(),
            "transient": e.is_transient(),
            "hint": e.hint(),
            "exit_code": code_for_error(e),
            "trace_id": e.entra().and_then(|x| x.trace_id.clone()),
            "correlation_id": e.entra().and_then(|x| x.correlation_id.clone()),
        }
    })
}

#[allow(clippy::disallowed_methods)] // the CLI reports expiry against the real clock
fn now() -> SystemTime {
    SystemTime::now()
}

pub(crate) async fn run(a: TokenArgs) -> anyhow::Result<()> {
    let env = Env::process();
    let c = a.exchange.check(&env, true)?;
    if a.output == TokenFormat::Header && c.tenants.len() > 1 {
        return Err(Usage("-o header takes one --tenant; use -o json for several".into()).into());
    }
    if c.identity.is_system_assigned() && a.exchange.mi.assertion_file.is_none() {
        eprintln!("{}", args::SYSTEM_ASSIGNED_WARNING);
    }
    let mut b = args::builder(
        &c.client_id,
        &c.identity,
        &a.exchange.mi,
        &a.exchange.conn,
        &env,
        progress::observer(),
    )?;
    b = a.store.apply(b, &env)?;
    if let Some(w) = a.wait_propagation {
        b = b.propagation_wait(w);
    }
    let exchanger = args::build(b)?;
    let deadline = a.exchange.conn.deadline();
    let scope = c.scope.as_str().to_owned();
    let jobs = c.tenants.iter().map(|t| {
        let x = exchanger.clone();
        let scope = scope.clone();
        let t = t.clone();
        async move {
            let r = tokio::time::timeout(deadline, x.token(t.as_str(), &scope))
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Timeout {
                        leg: ficx::Leg::Exchange,
                        url: x.authority().to_owned(),
                        after: deadline,
                    })
                });
            (t, r)
        }
    });
    let results = futures_util::future::join_all(jobs).await;

    if results.len() == 1 {
        let (tenant, r) = results.into_iter().next().expect("one result");
        let token = r?;
        match a.output {
            TokenFormat::Text => println!("{}", token.secret().expose_secret()),
            TokenFormat::Header => {
                println!("Authorization: Bearer {}", token.secret().expose_secret())
            }
            TokenFormat::Json => println!("{}", token_json(tenant.as_str(), &scope, &token, now())),
        }
        return Ok(());
    }
    // Several tenants: JSON lines on stdout, errors also as lines; exit code of the first failure.
    let total = results.len();
    let mut failures: Vec<(ficx::TenantId, Error)> = Vec::new();
    for (tenant, r) in results {
        match r {
            Ok(t) => println!("{}", token_json(tenant.as_str(), &scope, &t, now())),
            Err(e) => {
                println!("{}", error_json(tenant.as_str(), &scope, &e));
                failures.push((tenant, e));
            }
        }
    }
    // The exit code is the first failure's; the others are listed on stderr.
    let mut failures = failures.into_iter();
    match failures.next() {
        None => Ok(()),
        Some((tenant, first)) => {
            for (t, e) in failures {
                eprintln!("error: {t}: {e}");
            }
            Err(anyhow::Error::new(first).context(format!("{tenant} (of {total} tenants)")))
        }
    }
}
