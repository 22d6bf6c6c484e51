//! `ficx setup`: the federated credential an admin must create, as text, JSON, az CLI, a Graph
//! request, Bicep, Terraform or PowerShell, plus the admin-consent links. The values come from
//! the flags, a live MI token, or a saved token (`ficx::setup` does the rendering).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;
use ficx::jwt::decode_unverified;
use ficx::setup::{SetupFormat, SetupPlan};
use ficx::{Cloud, Env, ManagedIdentitySource};
use secrecy::ExposeSecret;

use super::args::{ConnArgs, MiArgs};
use super::exit::Usage;

#[derive(Debug, Args)]
pub(crate) struct SetupArgs {
    /// The managed identity's tenant (A); with --mi-object-id.
    #[arg(
        long,
        value_name = "TENANT",
        help_heading = "Where the values come from"
    )]
    mi_tenant: Option<String>,
    /// The managed identity's object (principal) id: the FIC subject (with --from-live, it
    /// selects the identity instead).
    #[arg(long, value_name = "GUID", help_heading = "Where the values come from")]
    mi_object_id: Option<String>,
    /// With --from-live: the user-assigned identity by client id (env FICX_MI_CLIENT_ID).
    #[arg(long, value_name = "GUID", help_heading = "Where the values come from")]
    mi_client_id: Option<String>,
    /// With --from-live: the user-assigned identity by ARM resource id.
    #[arg(long, value_name = "ID", help_heading = "Where the values come from")]
    mi_resource_id: Option<String>,
    /// Fetch an MI token here (with the MI selector flags) and read tid/oid/iss/aud from it.
    #[arg(long, help_heading = "Where the values come from")]
    from_live: bool,
    /// Read an MI token from this file (`-` for stdin) and take the values from it.
    #[arg(long, value_name = "FILE", help_heading = "Where the values come from")]
    from_token: Option<String>,
    /// The app registration (multi-tenant, in tenant A) by application (client) id (env FICX_CLIENT_ID).
    #[arg(long, env = "FICX_CLIENT_ID", value_name = "GUID")]
    app: Option<String>,
    /// The app registration's object id (how Graph, Terraform and PowerShell address it).
    #[arg(long, value_name = "GUID")]
    app_object_id: Option<String>,
    /// The FIC name (3–120 characters: letters, digits, - and _); default ficx-<identity name>.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The FIC description.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// A customer tenant to print the admin-consent URL for (repeatable).
    #[arg(long = "consent-tenant", value_name = "TENANT")]
    consent_tenants: Vec<String>,
    /// Output: text, json, az, graph, bicep, terraform or powershell.
    #[arg(long, short = 'f', value_name = "FORMAT", default_value = "text")]
    format: String,
    #[command(flatten)]
    conn: ConnArgs,
}

impl SetupArgs {
    /// The MI selector for --from-live.
    fn selector(&self) -> MiArgs {
        MiArgs {
            mi_client_id: self.mi_client_id.clone(),
            mi_object_id: self.mi_object_id.clone(),
            mi_resource_id: self.mi_resource_id.clone(),
            assertion_file: None,
        }
    }
}

fn read_token_file(path: &str) -> anyhow::Result<String> {
    let mut s = String::new();
    if path == "-" {
        if std::io::stdin().is_terminal() {
            return Err(Usage("--from-token -: pipe the MI token on stdin".into()).into());
        }
        std::io::stdin()
            .take(ficx::jwt::MAX_JWT_LEN as u64 + 1)
            .read_to_string(&mut s)?;
    } else {
        let p = PathBuf::from(path);
        s = std::fs::read_to_string(&p)
            .map_err(|e| Usage(format!("--from-token {}: {e}", p.display())))?;
    }
    Ok(s)
}

pub(crate) async fn run(a: SetupArgs) -> anyhow::Result<()> {
    let env = Env::process();
    let format: SetupFormat = a
        .format
        .parse()
        .map_err(|e: ficx::Error| Usage(format!("--format: {e}")))?;
    let sources = [
        a.from_live,
        a.from_token.is_some(),
        !a.from_live && a.mi_object_id.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if sources != 1 {
        return Err(Usage(
            "give exactly one of --mi-tenant with --mi-object-id, --from-live, or --from-token FILE".into(),
        )
        .into());
    }
    let explicit_cloud = a.conn.cloud()?;
    let mut b = SetupPlan::builder();
    if let Some(c) = &explicit_cloud {
        b = b.cloud(c.clone());
    }
    if let Some(app) = &a.app {
        b = b.app_client_id(app);
    }
    if let Some(obj) = &a.app_object_id {
        b = b.app_object_id(obj);
    }
    if let Some(n) = &a.name {
        b = b.name(n);
    }
    if let Some(d) = &a.description {
        b = b.description(d);
    }
    if let Some(aud) = &a.conn.audience {
        b = b.audience(aud);
    }
    b = b.consent_tenants(a.consent_tenants.iter());

    let token_text = if a.from_live {
        let identity = a.selector().identity(&env)?;
        let cloud = Cloud::resolve(explicit_cloud, a.conn.authority_host.as_deref(), &env)
            .map_err(|e| Usage(e.to_string()))?;
        let audience = a
            .conn
            .audience
            .clone()
            .unwrap_or_else(|| cloud.exchange_audience().to_owned());
        let mi = ManagedIdentitySource::builder()
            .identity(identity.clone())
            .env(env)
            .http(a.conn.http())
            .build()
            .map_err(|e| -> anyhow::Error {
                if e.is_usage() {
                    Usage(e.to_string()).into()
                } else {
                    e.into()
                }
            })?;
        let t = mi.token(&audience).await?;
        Some(t.secret().expose_secret().to_owned())
    } else if let Some(path) = &a.from_token {
        Some(read_token_file(path)?)
    } else {
        None
    };
    match &token_text {
        Some(t) => {
            let view = decode_unverified(t).map_err(|e| Usage(format!("the MI token: {e}")))?;
            b = b.mi_token(&view);
            if a.from_live && a.selector().identity(&Env::process())?.is_system_assigned() {
                b = b.system_assigned(true);
            }
        }
        None => {
            let tenant = a.mi_tenant.as_deref().ok_or_else(|| {
                Usage("--mi-object-id needs --mi-tenant (the managed identity's tenant)".into())
            })?;
            b = b
                .mi_tenant(tenant)
                .mi_object_id(a.mi_object_id.as_deref().unwrap_or_default());
        }
    }
    let plan = b.build().map_err(|e| Usage(e.to_string()))?;
    print!("{}", plan.render(format));
    // Runnable artefacts stay runnable: their warnings go to stderr.
    if !matches!(format, SetupFormat::Text | SetupFormat::Json) {
        for w in plan.warnings() {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
