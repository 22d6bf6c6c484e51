//! `ficx assertion`: the managed identity's token for the cloud's token-exchange audience, for
//! tools that take a federated token (`az login --federated-token`, Terraform's `oidc_token`).

use clap::Args;
use ficx::{Cloud, Env, ManagedIdentitySource};
use secrecy::ExposeSecret;
use serde_json::json;

use super::args::{self, ConnArgs, Format, MiArgs};
use super::exit::Usage;
use super::{output, progress};

#[derive(Debug, Args)]
pub(crate) struct AssertionArgs {
    #[command(flatten)]
    pub(crate) mi: MiArgs,
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    /// Output format: the token alone (text) or JSON with its expiry and FIC-relevant claims.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub(crate) output: Format,
}

pub(crate) async fn run(a: AssertionArgs) -> anyhow::Result<()> {
    let env = Env::process();
    if a.mi.assertion_file.is_some() {
        return Err(Usage(
            "--assertion-file makes no sense here: the file already is the assertion".into(),
        )
        .into());
    }
    let identity = a.mi.identity(&env)?;
    let cloud = Cloud::resolve(a.conn.cloud()?, a.conn.authority_host.as_deref(), &env)
        .map_err(|e| Usage(e.to_string()))?;
    let audience = a
        .conn
        .audience
        .clone()
        .unwrap_or_else(|| cloud.exchange_audience().to_owned());
    if identity.is_system_assigned() {
        eprintln!("{}", args::SYSTEM_ASSIGNED_WARNING);
    }
    let mut b = ManagedIdentitySource::builder()
        .identity(identity)
        .env(env)
        .http(a.conn.http());
    if let Some(o) = progress::observer() {
        b = b.on_retry(o);
    }
    let mi = b.build().map_err(|e| -> anyhow::Error {
        if e.is_usage() {
            Usage(e.to_string()).into()
        } else {
            e.into()
        }
    })?;
    let token = tokio::time::timeout(a.conn.deadline(), mi.token(&audience))
        .await
        .map_err(|_| ficx::Error::Timeout {
            leg: ficx::Leg::ManagedIdentity,
            url: mi.detection().endpoint.clone(),
            after: a.conn.deadline(),
        })??;
    match a.output {
        Format::Text => println!("{}", token.secret().expose_secret()),
        Format::Json => {
            let view = ficx::jwt::decode_unverified(token.secret().expose_secret())?;
            println!(
                "{}",
                json!({
                    "access_token": token.secret().expose_secret(),
                    "token_type": token.token_type(),
                    "expires_on": token.expires_on_unix(),
                    "expires_on_rfc3339": output::rfc3339(token.expires_on()),
                    "audience": audience,
                    "issuer": view.str_claim("iss"),
                    "subject": view.str_claim("sub"),
                    "tenant": view.str_claim("tid"),
                    "source": mi.detection().kind.as_str(),
                })
            );
        }
    }
    Ok(())
}
