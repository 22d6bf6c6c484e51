//! Shared flags (clap derive) and their validation into plain, checked data before any I/O:
//! every problem becomes a one-line `Usage` error (exit 2) naming the flag and the expected form.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use ficx::{
    ClientId, Cloud, Env, Exchanger, ExchangerBuilder, HttpOptions, ManagedIdentity, RetryObserver,
    Scope, TenantId, TokenFileSource,
};

use super::exit::Usage;

/// Which managed identity to use.
#[derive(Debug, Args, Default, Clone)]
pub(crate) struct MiArgs {
    /// User-assigned managed identity by client id (env FICX_MI_CLIENT_ID).
    #[arg(long, value_name = "GUID", help_heading = "Managed identity")]
    pub(crate) mi_client_id: Option<String>,
    /// User-assigned managed identity by object (principal) id (env FICX_MI_OBJECT_ID).
    #[arg(long, value_name = "GUID", help_heading = "Managed identity")]
    pub(crate) mi_object_id: Option<String>,
    /// User-assigned managed identity by ARM resource id (env FICX_MI_RESOURCE_ID).
    #[arg(long, value_name = "ID", help_heading = "Managed identity")]
    pub(crate) mi_resource_id: Option<String>,
    /// Use this JWT file as the assertion instead of a managed identity (AKS workload identity:
    /// the projected token; env AZURE_FEDERATED_TOKEN_FILE is NOT read implicitly).
    #[arg(long, value_name = "FILE", help_heading = "Managed identity")]
    pub(crate) assertion_file: Option<PathBuf>,
}

/// Where and how to connect.
#[derive(Debug, Args, Default, Clone)]
pub(crate) struct ConnArgs {
    /// Azure cloud: public, usgov or china (env FICX_CLOUD; default: AZURE_AUTHORITY_HOST's, else public).
    #[arg(
        long,
        env = "FICX_CLOUD",
        value_name = "CLOUD",
        help_heading = "Connection"
    )]
    pub(crate) cloud: Option<String>,
    /// Authority host, e.g. https://login.microsoftonline.com (default: the cloud's or AZURE_AUTHORITY_HOST).
    #[arg(long, value_name = "URL", help_heading = "Connection")]
    pub(crate) authority_host: Option<String>,
    /// Token-exchange audience (default: the cloud's, api://AzureADTokenExchange in public).
    #[arg(long, value_name = "AUDIENCE", help_heading = "Connection")]
    pub(crate) audience: Option<String>,
    /// Extra CA certificates (PEM) to trust for the authority, e.g. the emulator's (env FICX_CA_FILE).
    #[arg(
        long,
        env = "FICX_CA_FILE",
        value_name = "FILE",
        help_heading = "Connection"
    )]
    pub(crate) ca_file: Option<PathBuf>,
    /// Give up after this long in all, e.g. 30s, 2m (default 2m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Connection")]
    pub(crate) timeout: Option<Duration>,
}

/// Tenant, app and identity: what `token` and `doctor` share.
#[derive(Debug, Args, Clone)]
pub(crate) struct ExchangeArgs {
    /// Customer tenant (GUID or verified domain); repeat or comma-separate for several (env FICX_TENANT).
    #[arg(
        long = "tenant",
        env = "FICX_TENANT",
        value_delimiter = ',',
        value_name = "TENANT"
    )]
    pub(crate) tenants: Vec<String>,
    /// The multi-tenant app's application (client) id (env FICX_CLIENT_ID).
    #[arg(long, env = "FICX_CLIENT_ID", value_name = "GUID")]
    pub(crate) client_id: Option<String>,
    /// The resource or scope, e.g. https://graph.microsoft.com or api://orders/.default (env FICX_SCOPE).
    #[arg(long, env = "FICX_SCOPE", value_name = "SCOPE")]
    pub(crate) scope: Option<String>,
    #[command(flatten)]
    pub(crate) mi: MiArgs,
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
}

/// Output of commands that print data.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub(crate) enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// JSON (stable, documented fields).
    Json,
}

/// Overall default for `--timeout`.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 120;

/// Parse `500ms`, `30s`, `5m`, `1h` (a bare number is seconds).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration; expected e.g. 500ms, 30s, 5m, 1h"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?} has an unknown unit; expected ms, s, m or h")),
    };
    if !secs.is_finite() || !(0.0..=7.0 * 86400.0).contains(&secs) {
        return Err(format!("{s:?} is out of range (0 to 7 days)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn usage(e: ficx::Error) -> anyhow::Error {
    Usage(e.to_string()).into()
}

/// Builds a user-assigned [`ManagedIdentity`] from one selector's value.
pub(crate) type MakeIdentity = fn(&str) -> Result<ManagedIdentity, ficx::Error>;

/// The user-assigned selectors: flag, the variable read when no flag is given, and the
/// constructor. `MiArgs::selectors` and the serve config file's keys follow this order.
pub(crate) const MI_SELECTORS: [(&str, &str, MakeIdentity); 3] = [
    (
        "--mi-client-id",
        "FICX_MI_CLIENT_ID",
        ManagedIdentity::client_id,
    ),
    (
        "--mi-object-id",
        "FICX_MI_OBJECT_ID",
        ManagedIdentity::object_id,
    ),
    (
        "--mi-resource-id",
        "FICX_MI_RESOURCE_ID",
        ManagedIdentity::resource_id,
    ),
];

impl MiArgs {
    /// The three selector flags' values, in [`MI_SELECTORS`] order.
    fn selectors(&self) -> [&Option<String>; 3] {
        [&self.mi_client_id, &self.mi_object_id, &self.mi_resource_id]
    }

    /// True when a `--mi-*` flag or a `FICX_MI_*` variable names the identity.
    pub(crate) fn selector_given(&self, env: &Env) -> bool {
        self.selectors().iter().any(|v| v.is_some())
            || MI_SELECTORS
                .iter()
                .any(|(_, var, _)| env.var(var).is_some())
    }

    /// The selector: flags first, then FICX_MI_* variables; more than one is an error.
    pub(crate) fn identity(&self, env: &Env) -> anyhow::Result<ManagedIdentity> {
        let from_flags: Vec<(&str, String, MakeIdentity)> = self
            .selectors()
            .into_iter()
            .zip(MI_SELECTORS)
            .filter_map(|(v, (flag, _, make))| v.clone().map(|v| (flag, v, make)))
            .collect();
        let given = if from_flags.is_empty() {
            MI_SELECTORS
                .iter()
                .filter_map(|(_, var, make)| env.var(var).map(|v| (*var, v, *make)))
                .collect()
        } else {
            from_flags
        };
        match given.as_slice() {
            [] => Ok(ManagedIdentity::SystemAssigned),
            [(name, v, make)] => make(v).map_err(|e| Usage(format!("{name}: {e}")).into()),
            more => Err(Usage(format!(
                "pass only one managed-identity selector, got {}",
                more.iter()
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ))
            .into()),
        }
    }
}

impl ConnArgs {
    /// The validated cloud, if one was named.
    pub(crate) fn cloud(&self) -> anyhow::Result<Option<Cloud>> {
        self.cloud
            .as_deref()
            .map(Cloud::from_name)
            .transpose()
            .map_err(|e| Usage(format!("--cloud: {e}")).into())
    }

    /// The overall deadline.
    pub(crate) fn deadline(&self) -> Duration {
        self.timeout
            .unwrap_or(Duration::from_secs(DEFAULT_TIMEOUT_SECS))
    }

    pub(crate) fn http(&self) -> HttpOptions {
        let mut http = HttpOptions::default();
        if let Some(ca) = &self.ca_file {
            http = http.ca_file(ca);
        }
        if let Some(t) = self.timeout {
            http = http.timeout(t.min(Duration::from_secs(ficx::DEFAULT_TIMEOUT_SECS)));
        }
        http
    }
}

/// Everything needed to build an exchanger, checked.
pub(crate) struct Checked {
    pub(crate) tenants: Vec<TenantId>,
    pub(crate) client_id: ClientId,
    pub(crate) scope: Scope,
    pub(crate) identity: ManagedIdentity,
}

impl ExchangeArgs {
    /// Validate the tenant, app, scope and identity (no I/O).
    pub(crate) fn check(&self, env: &Env, need_scope: bool) -> anyhow::Result<Checked> {
        if self.tenants.is_empty() {
            return Err(Usage(
                "missing --tenant (or FICX_TENANT): the customer tenant's GUID or verified domain"
                    .into(),
            )
            .into());
        }
        let tenants = self
            .tenants
            .iter()
            .map(|t| TenantId::new(t.trim()).map_err(usage))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let client_id = self.client_id.as_deref().ok_or_else(|| {
            Usage("missing --client-id (or FICX_CLIENT_ID): the multi-tenant app's application (client) id".into())
        })?;
        let client_id = ClientId::new(client_id).map_err(|e| Usage(format!("--client-id: {e}")))?;
        let scope = match (&self.scope, need_scope) {
            (Some(s), _) => Scope::new(s).map_err(usage)?,
            (None, true) => {
                return Err(Usage("missing --scope (or FICX_SCOPE): the resource, e.g. https://graph.microsoft.com".into()).into());
            }
            (None, false) => Scope::new("https://graph.microsoft.com").map_err(usage)?,
        };
        let identity = self.mi.identity(env)?;
        self.conn.cloud()?;
        Ok(Checked {
            tenants,
            client_id,
            scope,
            identity,
        })
    }
}

/// An exchanger builder from checked flags (still no I/O until `build()` reads CA files).
pub(crate) fn builder(
    client_id: &ClientId,
    identity: &ManagedIdentity,
    mi: &MiArgs,
    conn: &ConnArgs,
    env: &Env,
    observer: Option<RetryObserver>,
) -> anyhow::Result<ExchangerBuilder> {
    let mut b = Exchanger::builder()
        .client_id(client_id.as_str())
        .env(env.clone())
        .http(conn.http());
    b = match &mi.assertion_file {
        Some(path) => b.assertion_source(TokenFileSource::new(path)),
        None => b.managed_identity(identity.clone()),
    };
    if let Some(c) = conn.cloud()? {
        b = b.cloud(c);
    }
    if let Some(h) = &conn.authority_host {
        b = b.authority_host(h);
    }
    if let Some(a) = &conn.audience {
        b = b.exchange_audience(a);
    }
    if let Some(o) = observer {
        b = b.on_retry(o);
    }
    Ok(b)
}

/// Build, mapping configuration errors to usage errors (exit 2).
pub(crate) fn build(b: ExchangerBuilder) -> anyhow::Result<Exchanger> {
    b.build()
        .map_err(|e| if e.is_usage() { usage(e) } else { e.into() })
}

/// The warning printed when no user-assigned identity is named.
pub(crate) const SYSTEM_ASSIGNED_WARNING: &str = "warning: no --mi-client-id/--mi-object-id/--mi-resource-id: using the system-assigned identity, but the documented FIC flow supports only user-assigned managed identities";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999h").is_err());
    }

    #[test]
    fn one_selector_only() {
        let env = Env::from_vars([("FICX_MI_CLIENT_ID", "a1a1a1a1-0000-4000-8000-000000000001")]);
        let mi = MiArgs::default();
        assert!(matches!(
            mi.identity(&env).unwrap(),
            ManagedIdentity::ClientId(_)
        ));
        let flag = MiArgs {
            mi_object_id: Some("b1b1b1b1-0000-4000-8000-000000000001".into()),
            ..Default::default()
        };
        assert!(
            matches!(flag.identity(&env).unwrap(), ManagedIdentity::ObjectId(_)),
            "flags beat env"
        );
        let two = MiArgs {
            mi_client_id: Some("a1a1a1a1-0000-4000-8000-000000000001".into()),
            mi_object_id: Some("b1b1b1b1-0000-4000-8000-000000000001".into()),
            ..Default::default()
        };
        let e = two.identity(&env).unwrap_err().to_string();
        assert!(e.contains("--mi-client-id and --mi-object-id"), "{e}");
        let bad = MiArgs {
            mi_client_id: Some("nope".into()),
            ..Default::default()
        };
        assert!(
            bad.identity(&env)
                .unwrap_err()
                .to_string()
                .starts_with("--mi-client-id: invalid mi client id")
        );
        let env = Env::from_vars([(
            "FICX_MI_RESOURCE_ID",
            "/subscriptions/d0d0d0d0-0000-4000-8000-00000000d0d0/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u",
        )]);
        assert!(matches!(
            MiArgs::default().identity(&env).unwrap(),
            ManagedIdentity::ResourceId(_)
        ));
        let bad = MiArgs {
            mi_object_id: Some("nope".into()),
            ..Default::default()
        };
        let e = bad.identity(&env).unwrap_err().to_string();
        assert!(e.starts_with("--mi-object-id: invalid mi object id"), "{e}");
    }
}
