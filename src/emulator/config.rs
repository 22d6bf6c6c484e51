//! The emulator's configuration: the directory it serves (tenants, managed identities, apps with
//! their federated identity credentials, service principals, resources, role assignments), its
//! listeners and token lifetimes. TOML is the primary format, JSON is accepted too.
//!
//! [`EmulatorConfig::validate`] checks references and ids on load and names the failing field by
//! its path (`apps[0].fics[1].subject`). The runtime model built from a valid config lives in
//! `directory.rs`; this file holds only the serde shapes and their checks.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::EmulatorError;

/// The built-in default configuration (see `docs/emulator.md` and [`super::defaults`]).
pub(crate) const DEFAULT_TOML: &str = include_str!("default.toml");

/// Default authority host the emulator impersonates ([`EmulatorConfig::issuer_host`]).
///
/// ```
/// use ficx::emulator::{DEFAULT_ISSUER_HOST, EmulatorConfig};
/// assert_eq!(EmulatorConfig::default_config().issuer_host, DEFAULT_ISSUER_HOST);
/// assert_eq!(DEFAULT_ISSUER_HOST, ficx::Cloud::Public.authority_host()); // tokens look like production
/// ```
pub const DEFAULT_ISSUER_HOST: &str = "https://login.microsoftonline.com";
/// Default MI token lifetime ([`LifetimesConfig::mi_secs`]).
///
/// ```
/// use ficx::emulator::{DEFAULT_MI_LIFETIME_SECS, LifetimesConfig};
/// assert_eq!(LifetimesConfig::default().mi_secs, DEFAULT_MI_LIFETIME_SECS); // 24 h, as real MI tokens
/// ```
pub const DEFAULT_MI_LIFETIME_SECS: u64 = 86_400;
/// Default app-only token lifetime ([`LifetimesConfig::app_secs`]).
///
/// ```
/// use ficx::emulator::{DEFAULT_APP_LIFETIME_SECS, LifetimesConfig};
/// assert_eq!(LifetimesConfig::default().app_secs, DEFAULT_APP_LIFETIME_SECS);
/// ```
pub const DEFAULT_APP_LIFETIME_SECS: u64 = 3_599;
/// Default re-issue threshold of the MI token cache ([`LifetimesConfig::mi_reissue_below_secs`]).
///
/// ```
/// use ficx::emulator::{DEFAULT_MI_REISSUE_BELOW_SECS, LifetimesConfig};
/// assert_eq!(LifetimesConfig::default().mi_reissue_below_secs, DEFAULT_MI_REISSUE_BELOW_SECS);
/// ```
pub const DEFAULT_MI_REISSUE_BELOW_SECS: u64 = 900;
/// Most FICs one application may carry (Entra's limit).
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::{FicConfig, MAX_FICS_PER_APP};
/// let fic = |i: usize| FicConfig { name: format!("fic-{i}"), issuer: defaults::APP_FIC_ISSUER.into(),
///     subject: format!("b9b9b9b9-0000-4000-8000-{i:012}"), audiences: vec![defaults::EXCHANGE_AUDIENCE.into()], visible_after_secs: 0 };
/// for i in 1..MAX_FICS_PER_APP { // the app already holds one
///     emu.directory().add_fic(defaults::APP_NAME, fic(i))?;
/// }
/// assert!(emu.directory().add_fic(defaults::APP_NAME, fic(MAX_FICS_PER_APP)).is_err());
/// # Ok(()) }
/// ```
pub const MAX_FICS_PER_APP: usize = 20;

fn default_issuer_host() -> String {
    DEFAULT_ISSUER_HOST.to_owned()
}
fn default_listen_host() -> String {
    "127.0.0.1".to_owned()
}
fn default_mi_secs() -> u64 {
    DEFAULT_MI_LIFETIME_SECS
}
fn default_app_secs() -> u64 {
    DEFAULT_APP_LIFETIME_SECS
}
fn default_reissue() -> u64 {
    DEFAULT_MI_REISSUE_BELOW_SECS
}
fn default_token_version() -> u8 {
    2
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The whole emulator configuration. [`Default`] is the built-in default directory.
/// `Debug` masks `signing_key_pem` and the secrets.
///
/// ```
/// use ficx::emulator::EmulatorConfig;
/// let mut config = EmulatorConfig::default_config();
/// config.lifetimes.app_secs = 600; // short-lived app tokens
/// config.listen.mi_port = 8181;
/// config.validate()?;
/// assert_eq!(EmulatorConfig::from_toml(&config.to_toml())?, config);
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatorConfig {
    /// The cloud the emulator impersonates (default [`DEFAULT_ISSUER_HOST`]). Token `iss` is
    /// `{issuer_host}/{tenant id}/v2.0`, so FIC issuers look exactly like production ones.
    #[serde(default = "default_issuer_host")]
    pub issuer_host: String,
    /// A PKCS#8 PEM RSA private key to sign tokens with; generated at start when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key_pem: Option<String>,
    /// Listener addresses and ports.
    #[serde(default)]
    pub listen: ListenConfig,
    /// Token lifetimes and MI token caching.
    #[serde(default)]
    pub lifetimes: LifetimesConfig,
    /// Fixed platform secrets (random per start when absent).
    #[serde(default)]
    pub secrets: SecretsConfig,
    /// Azure Arc settings.
    #[serde(default)]
    pub arc: ArcConfig,
    /// The tenants the authority knows.
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    /// Managed identities (system- and user-assigned) of any tenant.
    #[serde(default)]
    pub managed_identities: Vec<ManagedIdentityConfig>,
    /// Which identities the emulated compute has.
    #[serde(default)]
    pub host: HostConfig,
    /// App registrations, each with its federated identity credentials.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// Service principals: an app provisioned (consented) in a tenant.
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipalConfig>,
    /// Resources tokens can be asked for (token-exchange audiences, ARM, Graph, custom APIs).
    #[serde(default)]
    pub resources: Vec<ResourceConfig>,
    /// App roles granted to an app's service principal in a tenant.
    #[serde(default)]
    pub role_assignments: Vec<RoleAssignmentConfig>,
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("issuer_host", &self.issuer_host)
            .field(
                "signing_key_pem",
                &self.signing_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("listen", &self.listen)
            .field("lifetimes", &self.lifetimes)
            .field("secrets", &self.secrets)
            .field("arc", &self.arc)
            .field("tenants", &self.tenants)
            .field("managed_identities", &self.managed_identities)
            .field("host", &self.host)
            .field("apps", &self.apps)
            .field("service_principals", &self.service_principals)
            .field("resources", &self.resources)
            .field("role_assignments", &self.role_assignments)
            .finish()
    }
}

/// `[listen]`: where the emulator listens. Loopback only.
///
/// ```
/// use ficx::emulator::ListenConfig;
/// let listen = ListenConfig { mi_port: 8181, authority_port: 8443, ..ListenConfig::default() };
/// assert_eq!(listen.host, "127.0.0.1");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    /// Bind address: `127.0.0.1` (default), another `127.x.y.z`, `::1` or `localhost`.
    #[serde(default = "default_listen_host")]
    pub host: String,
    /// Plain-http port of the MI endpoints (IMDS, App Service, Arc, Azure ML, Cloud Shell);
    /// 0 = a free port.
    #[serde(default)]
    pub mi_port: u16,
    /// HTTPS port of the Entra authority; 0 = a free port.
    #[serde(default)]
    pub authority_port: u16,
    /// Also serve the authority over plain http (default false).
    #[serde(default)]
    pub authority_http: bool,
    /// Port of the plain-http authority when enabled; 0 = a free port.
    #[serde(default)]
    pub authority_http_port: u16,
    /// HTTPS port of the Service Fabric endpoint (own self-signed certificate); 0 = a free port.
    #[serde(default)]
    pub service_fabric_port: u16,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            host: default_listen_host(),
            mi_port: 0,
            authority_port: 0,
            authority_http: false,
            authority_http_port: 0,
            service_fabric_port: 0,
        }
    }
}

/// `[lifetimes]`: token lifetimes.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, LifetimesConfig};
/// let mut config = EmulatorConfig::default_config();
/// config.lifetimes = LifetimesConfig { app_refresh_in_secs: Some(1800), ..LifetimesConfig::default() };
/// config.validate()?; // token replies now carry refresh_in
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifetimesConfig {
    /// MI token lifetime in seconds (default [`DEFAULT_MI_LIFETIME_SECS`]).
    #[serde(default = "default_mi_secs")]
    pub mi_secs: u64,
    /// App-only token lifetime in seconds (default [`DEFAULT_APP_LIFETIME_SECS`]).
    #[serde(default = "default_app_secs")]
    pub app_secs: u64,
    /// When set, token endpoint replies carry `refresh_in` with this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_refresh_in_secs: Option<u64>,
    /// MI endpoints return the same cached token per (identity, resource) while it has more than
    /// this many seconds left (default [`DEFAULT_MI_REISSUE_BELOW_SECS`]), as real endpoints do.
    #[serde(default = "default_reissue")]
    pub mi_reissue_below_secs: u64,
}

impl Default for LifetimesConfig {
    fn default() -> Self {
        Self {
            mi_secs: DEFAULT_MI_LIFETIME_SECS,
            app_secs: DEFAULT_APP_LIFETIME_SECS,
            app_refresh_in_secs: None,
            mi_reissue_below_secs: DEFAULT_MI_REISSUE_BELOW_SECS,
        }
    }
}

/// `[secrets]`: fixed platform secrets; random per start when absent.
///
/// ```
/// use ficx::emulator::SecretsConfig;
/// let fixed = SecretsConfig { identity_header: Some("0123456789abcdef".into()), msi_secret: None };
/// assert!(!format!("{fixed:?}").contains("0123456789abcdef")); // masked in Debug
/// ```
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// `IDENTITY_HEADER` of App Service and Service Fabric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_header: Option<String>,
    /// `MSI_SECRET` of Azure ML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msi_secret: Option<String>,
}

impl std::fmt::Debug for SecretsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mask = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("SecretsConfig")
            .field("identity_header", &mask(&self.identity_header))
            .field("msi_secret", &mask(&self.msi_secret))
            .finish()
    }
}

/// `[arc]`: Azure Arc settings.
///
/// ```
/// use ficx::emulator::{ArcConfig, EmulatorConfig};
/// let mut config = EmulatorConfig::default_config();
/// config.arc = ArcConfig { key_dir: Some("/var/tmp/ficx-arc".into()) }; // what `arc_key_dir` must then allow
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcConfig {
    /// Directory for the challenge key files (default `<state_dir>/arc-tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_dir: Option<PathBuf>,
}

/// `[[tenants]]`: a tenant; URLs may name it by id or by any domain, case-insensitively.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, TenantConfig};
/// let mut config = EmulatorConfig::default_config();
/// config.tenants.push(TenantConfig { id: "55555555-5555-4555-8555-555555555555".into(),
///     domains: vec!["adatum.onmicrosoft.com".into()], display_name: Some("Adatum".into()) });
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Tenant id (GUID).
    pub id: String,
    /// Verified domain names (`contoso.onmicrosoft.com`).
    #[serde(default)]
    pub domains: Vec<String>,
    /// Display name, used in error texts (defaults to the first domain, else the id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// Whether a managed identity is system- or user-assigned.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, IdentityKind};
/// let config = EmulatorConfig::default_config();
/// let users = config.managed_identities.iter().filter(|m| m.kind == IdentityKind::User).count();
/// assert_eq!(users, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    /// System-assigned (one per compute resource).
    System,
    /// User-assigned (a standalone Azure resource).
    User,
}

/// `[[managed_identities]]`: a managed identity.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, IdentityKind, ManagedIdentityConfig, defaults};
/// let mut config = EmulatorConfig::default_config();
/// config.managed_identities.push(ManagedIdentityConfig { name: "uami-orders".into(), kind: IdentityKind::User,
///     tenant: defaults::HOME_TENANT_ID.into(), client_id: "a4a4a4a4-0000-4000-8000-000000000004".into(),
///     object_id: "b4b4b4b4-0000-4000-8000-000000000004".into(), resource_id: None });
/// config.host.user_assigned.push("uami-orders".into()); // attach it to the compute
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedIdentityConfig {
    /// Unique name, used for references elsewhere in the config.
    pub name: String,
    /// `system` or `user`.
    pub kind: IdentityKind,
    /// Tenant (id or domain) the identity lives in: its tokens' `tid` and issuer.
    pub tenant: String,
    /// Client (application) id: the MI selector.
    pub client_id: String,
    /// Object (principal) id: the token `sub`/`oid` and the FIC subject.
    pub object_id: String,
    /// ARM resource id (`msi_res_id`/`mi_res_id` selector; `xms_mirid` claim). For a system
    /// identity, the compute resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// `[host]`: what the emulated compute has attached.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, HostConfig};
/// let mut config = EmulatorConfig::default_config();
/// config.host = HostConfig { user_assigned: vec!["uami-trusted".into()], ..HostConfig::default() }; // no system identity
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// The system-assigned identity (name of a `kind = "system"` identity), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_assigned: Option<String>,
    /// Names of the attached user-assigned identities.
    #[serde(default)]
    pub user_assigned: Vec<String>,
    /// The identity Service Fabric hands out (chosen in the cluster, not per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_fabric_identity: Option<String>,
    /// Azure ML's default identity (`DEFAULT_IDENTITY_CLIENT_ID`); defaults to the system one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_ml_identity: Option<String>,
    /// The signed-in user Cloud Shell issues delegated tokens for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_shell_user: Option<CloudShellUserConfig>,
}

/// `[host.cloud_shell_user]`: the Cloud Shell user.
///
/// ```
/// use ficx::emulator::{CloudShellUserConfig, EmulatorConfig, defaults};
/// let mut config = EmulatorConfig::default_config();
/// config.host.cloud_shell_user = Some(CloudShellUserConfig { tenant: defaults::HOME_TENANT_ID.into(),
///     object_id: "e1e1e1e1-0000-4000-8000-0000000000e1".into(), upn: "ops@fabrikam.onmicrosoft.com".into() });
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudShellUserConfig {
    /// Tenant (id or domain) of the user.
    pub tenant: String,
    /// The user's object id.
    pub object_id: String,
    /// The user's sign-in name.
    pub upn: String,
}

/// `[[apps]]`: an app registration.
///
/// ```
/// use ficx::emulator::{AppConfig, EmulatorConfig, defaults};
/// let mut config = EmulatorConfig::default_config();
/// config.apps.push(AppConfig { name: "orders-app".into(), client_id: "c2c2c2c2-0000-4000-8000-00000000c2c2".into(),
///     object_id: "d2d2d2d2-0000-4000-8000-00000000d2d2".into(), home_tenant: defaults::HOME_TENANT_ID.into(),
///     multi_tenant: true, fics: vec![] });
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// Unique name, used for references.
    pub name: String,
    /// Application (client) id.
    pub client_id: String,
    /// Application object id.
    pub object_id: String,
    /// Tenant (id or domain) the app is registered in.
    pub home_tenant: String,
    /// Whether other tenants may provision it (`signInAudience` AzureADMultipleOrgs).
    #[serde(default, skip_serializing_if = "is_false")]
    pub multi_tenant: bool,
    /// Federated identity credentials on the app object.
    #[serde(default)]
    pub fics: Vec<FicConfig>,
}

/// `[[apps.fics]]`: a federated identity credential. Matching is exact and case-sensitive.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, FicConfig, defaults};
/// let mut config = EmulatorConfig::default_config();
/// // A second FIC, seen only 60 s after start (AADSTS70021 until then).
/// config.apps[0].fics.push(FicConfig { name: "trust-sami".into(), issuer: defaults::APP_FIC_ISSUER.into(),
///     subject: defaults::SAMI_OBJECT_ID.into(), audiences: vec![defaults::EXCHANGE_AUDIENCE.into()], visible_after_secs: 60 });
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FicConfig {
    /// Name: 3–120 characters, alphanumerics, `-` and `_`, starting alphanumeric.
    pub name: String,
    /// Must equal the assertion's `iss`.
    pub issuer: String,
    /// Must equal the assertion's `sub` (the MI object id).
    pub subject: String,
    /// One of these must equal the assertion's `aud`.
    pub audiences: Vec<String>,
    /// Seconds after emulator start (or, when added at runtime, after the addition) before the
    /// token service sees it; until then exchanges fail with AADSTS70021. Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub visible_after_secs: u64,
}

/// `[[service_principals]]`: an app provisioned in a tenant.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, ServicePrincipalConfig, defaults};
/// let mut config = EmulatorConfig::default_config();
/// config.service_principals.push(ServicePrincipalConfig { app: defaults::APP_NAME.into(),
///     tenant: defaults::TAILSPIN_TENANT_DOMAIN.into(), object_id: None, visible_after_secs: 30 });
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePrincipalConfig {
    /// App name or client id.
    pub app: String,
    /// Tenant (id or domain).
    pub tenant: String,
    /// The service principal's object id (the app token's `oid`/`sub`); derived stably from
    /// (app, tenant) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Seconds after emulator start before the token service sees it (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub visible_after_secs: u64,
}

/// Where a resource exists: `"all"` tenants or a list of tenants.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, ResourceTenants};
/// let config = EmulatorConfig::default_config();
/// let graph = config.resources.iter().find(|r| r.name == "graph").unwrap();
/// assert_eq!(graph.tenants, ResourceTenants::Keyword("all".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResourceTenants {
    /// The keyword `"all"`.
    Keyword(String),
    /// Tenants (ids or domains).
    List(Vec<String>),
}

impl Default for ResourceTenants {
    fn default() -> Self {
        ResourceTenants::Keyword("all".to_owned())
    }
}

/// `[[resources]]`: a resource (API) tokens can be requested for.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, ResourceConfig, ResourceTenants};
/// let mut config = EmulatorConfig::default_config();
/// config.resources.push(ResourceConfig { name: "billing".into(), app_id: "0b0b0b0b-0000-4000-8000-00000000000b".into(),
///     identifier_uris: vec!["api://billing".into()], tenants: ResourceTenants::default(),
///     roles: vec!["Invoices.Read".into()], token_version: 2, mi_only: false });
/// config.validate()?;
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfig {
    /// Unique name, used for references.
    pub name: String,
    /// The resource's application id (GUID); also accepted as the resource in requests.
    pub app_id: String,
    /// Application id URIs (`https://graph.microsoft.com`, `api://orders`); compared
    /// case-insensitively, one trailing `/` ignored.
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    /// Where it exists: `"all"` (default) or a list of tenants.
    #[serde(default)]
    pub tenants: ResourceTenants,
    /// App roles it defines.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Access token version: 1 (`iss` `https://sts.windows.net/{tid}/`) or 2 (default).
    #[serde(default = "default_token_version")]
    pub token_version: u8,
    /// Only MI endpoints issue tokens for it (the token-exchange audiences); the token endpoint
    /// answers AADSTS500011.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mi_only: bool,
}

/// `[[role_assignments]]`: app roles granted to an app's service principal in a tenant.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, RoleAssignmentConfig, defaults};
/// let mut config = EmulatorConfig::default_config();
/// config.role_assignments.push(RoleAssignmentConfig { app: defaults::APP_NAME.into(),
///     tenant: defaults::CONTOSO_TENANT_ID.into(), resource: "orders".into(), roles: vec!["Orders.Write".into()] });
/// config.validate()?;
/// config.role_assignments[3].roles = vec!["Orders.Delete".into()]; // not defined by the resource
/// assert!(config.validate().is_err());
/// # Ok::<(), ficx::emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleAssignmentConfig {
    /// App name or client id.
    pub app: String,
    /// Tenant (id or domain).
    pub tenant: String,
    /// Resource name, app id or identifier URI.
    pub resource: String,
    /// Role values; each must be defined by the resource.
    pub roles: Vec<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self::default_config()
    }
}

impl EmulatorConfig {
    /// The built-in default configuration (`src/emulator/default.toml`).
    ///
    /// ```
    /// use ficx::emulator::{EmulatorConfig, defaults};
    /// let config = EmulatorConfig::default_config();
    /// assert_eq!(config.tenants.len(), 4);
    /// assert_eq!(config.apps[0].client_id, defaults::APP_CLIENT_ID);
    /// ```
    pub fn default_config() -> Self {
        // The embedded file is covered by a unit test; failing here is a build defect.
        toml::from_str(DEFAULT_TOML).expect("embedded default.toml parses")
    }

    /// The default directory plus `n` generated customer tenants
    /// ([`defaults::customer_domain`]`(i)` / [`defaults::customer_tenant_id`]`(i)` for `i < n`)
    /// where the default app has a service principal and Graph's `Application.Read.All`: the
    /// directory for fan-out tests, benchmarks and fleet simulations.
    ///
    /// [`defaults::customer_domain`]: super::defaults::customer_domain
    /// [`defaults::customer_tenant_id`]: super::defaults::customer_tenant_id
    ///
    /// ```
    /// use ficx::emulator::EmulatorConfig;
    /// let c = EmulatorConfig::with_customer_tenants(3);
    /// assert_eq!(c.tenants.len(), EmulatorConfig::default_config().tenants.len() + 3);
    /// assert!(c.tenants.iter().any(|t| t.domains == ["customer2.onmicrosoft.com"]));
    /// ```
    pub fn with_customer_tenants(n: usize) -> Self {
        use super::defaults::{APP_NAME, GRAPH_RESOURCE, customer_domain, customer_tenant_id};
        let mut c = Self::default_config();
        for i in 0..n {
            let id = customer_tenant_id(i);
            c.tenants.push(TenantConfig {
                id: id.clone(),
                domains: vec![customer_domain(i)],
                display_name: None,
            });
            c.service_principals.push(ServicePrincipalConfig {
                app: APP_NAME.into(),
                tenant: id.clone(),
                object_id: None,
                visible_after_secs: 0,
            });
            c.role_assignments.push(RoleAssignmentConfig {
                app: APP_NAME.into(),
                tenant: id,
                resource: GRAPH_RESOURCE.into(),
                roles: vec!["Application.Read.All".into()],
            });
        }
        c
    }

    /// The annotated TOML text of the built-in default configuration (with its comments; a
    /// starting point for custom configurations).
    ///
    /// ```
    /// use ficx::emulator::EmulatorConfig;
    /// let text = EmulatorConfig::default_toml(); // annotated: a starting point for your own
    /// assert_eq!(EmulatorConfig::from_toml(text)?, EmulatorConfig::default_config());
    /// # Ok::<(), ficx::emulator::EmulatorError>(())
    /// ```
    pub fn default_toml() -> &'static str {
        DEFAULT_TOML
    }

    /// Parse and validate a TOML configuration.
    ///
    /// ```
    /// use ficx::emulator::EmulatorConfig;
    /// let config = EmulatorConfig::from_toml(r#"
    ///     [[tenants]]
    ///     id = "11111111-1111-4111-8111-111111111111"
    ///     domains = ["fabrikam.onmicrosoft.com"]
    /// "#)?;
    /// assert_eq!(config.tenants[0].domains, ["fabrikam.onmicrosoft.com"]);
    /// assert!(EmulatorConfig::from_toml("[[tenants]]\nid = \"x\"").is_err()); // validated
    /// # Ok::<(), ficx::emulator::EmulatorError>(())
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Config`] for syntax errors and failed checks.
    pub fn from_toml(text: &str) -> Result<Self, EmulatorError> {
        let cfg: Self = toml::from_str(text).map_err(|e| EmulatorError::Config {
            path: "<toml>".to_owned(),
            problem: e.message().to_owned(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parse and validate a JSON configuration.
    ///
    /// ```
    /// use ficx::emulator::EmulatorConfig;
    /// let json = serde_json::to_string(&EmulatorConfig::default_config()).unwrap();
    /// assert_eq!(EmulatorConfig::from_json(&json)?, EmulatorConfig::default_config());
    /// # Ok::<(), ficx::emulator::EmulatorError>(())
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Config`] for syntax errors and failed checks.
    pub fn from_json(text: &str) -> Result<Self, EmulatorError> {
        let cfg: Self = serde_json::from_str(text).map_err(|e| EmulatorError::Config {
            path: "<json>".to_owned(),
            problem: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read a configuration file: `.json` as JSON, anything else as TOML.
    ///
    /// ```
    /// use ficx::emulator::EmulatorConfig;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("emulator.toml");
    /// std::fs::write(&path, EmulatorConfig::default_toml()).unwrap();
    /// assert_eq!(EmulatorConfig::from_file(&path)?, EmulatorConfig::default_config());
    /// assert!(EmulatorConfig::from_file(&dir.path().join("missing.json")).is_err());
    /// # Ok::<(), ficx::emulator::EmulatorError>(())
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Io`] when unreadable; [`EmulatorError::Config`] when invalid.
    pub fn from_file(path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|e| EmulatorError::Io {
            what: format!("reading {}", path.display()),
            source: e,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_json(&text)
        } else {
            Self::from_toml(&text)
        }
    }

    /// The configuration as TOML (secrets included when set).
    ///
    /// ```
    /// use ficx::emulator::EmulatorConfig;
    /// let mut config = EmulatorConfig::default_config();
    /// config.secrets.msi_secret = Some("fixed-for-tests".into());
    /// let text = config.to_toml();
    /// assert!(text.contains("msi_secret = \"fixed-for-tests\"")); // secrets included when set
    /// assert_eq!(EmulatorConfig::from_toml(&text)?, config);
    /// # Ok::<(), ficx::emulator::EmulatorError>(())
    /// ```
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot serialize: {e}\n"))
    }

    /// Check ids and references.
    ///
    /// ```
    /// use ficx::emulator::EmulatorConfig;
    /// let mut config = EmulatorConfig::default_config();
    /// config.host.user_assigned.push("no-such-identity".into());
    /// let err = config.validate().unwrap_err();
    /// assert!(err.to_string().contains("host.user_assigned"), "{err}");
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Config`] naming the first failing field by path.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        Validator::new(self).run()
    }
}

pub(crate) fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// True for addresses the emulator may bind: loopback IPs and `localhost`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Whether `name` is a valid FIC name (3–120 chars, alphanumerics, `-`, `_`, first alphanumeric).
pub(crate) fn is_valid_fic_name(name: &str) -> bool {
    (3..=120).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Check one FIC's fields; `path` prefixes the error path.
pub(crate) fn check_fic(fic: &FicConfig, path: &str) -> Result<(), EmulatorError> {
    if !is_valid_fic_name(&fic.name) {
        return Err(err(
            format!("{path}.name"),
            format!(
                "{:?} must be 3-120 characters of letters, digits, '-' and '_', starting with a letter or digit",
                fic.name
            ),
        ));
    }
    for (field, value) in [("issuer", &fic.issuer), ("subject", &fic.subject)] {
        if value.is_empty() || value.len() > 600 {
            return Err(err(
                format!("{path}.{field}"),
                "must be 1-600 characters".into(),
            ));
        }
    }
    if fic.audiences.is_empty() {
        return Err(err(
            format!("{path}.audiences"),
            "must list at least one audience".into(),
        ));
    }
    for (i, a) in fic.audiences.iter().enumerate() {
        if a.is_empty() || a.len() > 600 {
            return Err(err(
                format!("{path}.audiences[{i}]"),
                "must be 1-600 characters".into(),
            ));
        }
    }
    Ok(())
}

fn err(path: String, problem: String) -> EmulatorError {
    EmulatorError::Config { path, problem }
}

struct Validator<'a> {
    cfg: &'a EmulatorConfig,
    tenant_keys: HashSet<String>,
}

impl<'a> Validator<'a> {
    fn new(cfg: &'a EmulatorConfig) -> Self {
        Self {
            cfg,
            tenant_keys: HashSet::new(),
        }
    }

    fn guid(&self, path: String, v: &str) -> Result<(), EmulatorError> {
        if is_guid(v) {
            Ok(())
        } else {
            Err(err(path, format!("{v:?} is not a GUID")))
        }
    }

    fn tenant_ref(&self, path: String, v: &str) -> Result<(), EmulatorError> {
        if self.tenant_keys.contains(&v.to_ascii_lowercase()) {
            Ok(())
        } else {
            Err(err(path, format!("{v:?} names no tenant in [[tenants]]")))
        }
    }

    fn mi<'b>(
        &'b self,
        path: String,
        name: &str,
    ) -> Result<&'a ManagedIdentityConfig, EmulatorError> {
        self.cfg
            .managed_identities
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| err(path, format!("{name:?} names no managed identity")))
    }

    fn app(&self, path: String, v: &str) -> Result<&'a AppConfig, EmulatorError> {
        self.cfg
            .apps
            .iter()
            .find(|a| a.name == v || a.client_id.eq_ignore_ascii_case(v))
            .ok_or_else(|| err(path, format!("{v:?} names no app (by name or client id)")))
    }

    fn run(mut self) -> Result<(), EmulatorError> {
        let cfg = self.cfg;
        let ih = url::Url::parse(&cfg.issuer_host).map_err(|_| {
            err(
                "issuer_host".into(),
                format!("{:?} is not a URL", cfg.issuer_host),
            )
        })?;
        if !matches!(ih.scheme(), "https" | "http")
            || ih.host_str().is_none()
            || !(ih.path() == "/" || ih.path().is_empty())
            || ih.query().is_some()
        {
            return Err(err(
                "issuer_host".into(),
                format!("{:?} must be a bare https://host", cfg.issuer_host),
            ));
        }
        if !is_loopback(&cfg.listen.host) {
            return Err(err(
                "listen.host".into(),
                format!(
                    "{:?} is not a loopback address; the emulator binds only 127.0.0.0/8, ::1 or localhost",
                    cfg.listen.host
                ),
            ));
        }
        let l = &cfg.lifetimes;
        if l.mi_secs == 0 {
            return Err(err("lifetimes.mi_secs".into(), "must be positive".into()));
        }
        if l.app_secs == 0 {
            return Err(err("lifetimes.app_secs".into(), "must be positive".into()));
        }
        if l.mi_reissue_below_secs >= l.mi_secs {
            return Err(err(
                "lifetimes.mi_reissue_below_secs".into(),
                "must be smaller than lifetimes.mi_secs".into(),
            ));
        }
        for (name, v) in [
            ("secrets.identity_header", &cfg.secrets.identity_header),
            ("secrets.msi_secret", &cfg.secrets.msi_secret),
        ] {
            if let Some(v) = v
                && (v.is_empty() || v.chars().any(|c| c.is_control() || c == ' ') || !v.is_ascii())
            {
                return Err(err(
                    name.into(),
                    "must be non-empty printable ASCII without spaces".into(),
                ));
            }
        }

        // tenants
        let mut ids = HashSet::new();
        for (i, t) in cfg.tenants.iter().enumerate() {
            self.guid(format!("tenants[{i}].id"), &t.id)?;
            if !ids.insert(t.id.to_ascii_lowercase()) {
                return Err(err(
                    format!("tenants[{i}].id"),
                    format!("duplicate tenant id {:?}", t.id),
                ));
            }
            if !self.tenant_keys.insert(t.id.to_ascii_lowercase()) {
                return Err(err(
                    format!("tenants[{i}].id"),
                    format!("{:?} is already a domain", t.id),
                ));
            }
            for (j, d) in t.domains.iter().enumerate() {
                let ok = d.contains('.')
                    && !is_guid(d)
                    && d.len() <= 253
                    && d.split('.').all(|l| {
                        !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    });
                if !ok {
                    return Err(err(
                        format!("tenants[{i}].domains[{j}]"),
                        format!("{d:?} is not a domain name"),
                    ));
                }
                if !self.tenant_keys.insert(d.to_ascii_lowercase()) {
                    return Err(err(
                        format!("tenants[{i}].domains[{j}]"),
                        format!("duplicate domain {d:?}"),
                    ));
                }
            }
        }

        // managed identities
        let mut names = HashSet::new();
        let mut client_ids = HashSet::new();
        let mut object_ids = HashSet::new();
        let mut res_ids = HashSet::new();
        for (i, m) in cfg.managed_identities.iter().enumerate() {
            let p = |f: &str| format!("managed_identities[{i}].{f}");
            if m.name.is_empty() || !names.insert(m.name.as_str()) {
                return Err(err(
                    p("name"),
                    format!("{:?} is empty or a duplicate", m.name),
                ));
            }
            self.tenant_ref(p("tenant"), &m.tenant)?;
            self.guid(p("client_id"), &m.client_id)?;
            self.guid(p("object_id"), &m.object_id)?;
            if !client_ids.insert(m.client_id.to_ascii_lowercase()) {
                return Err(err(
                    p("client_id"),
                    format!("duplicate client id {:?}", m.client_id),
                ));
            }
            if !object_ids.insert(m.object_id.to_ascii_lowercase()) {
                return Err(err(
                    p("object_id"),
                    format!("duplicate object id {:?}", m.object_id),
                ));
            }
            if let Some(r) = &m.resource_id {
                if !r.starts_with("/subscriptions/") || r.chars().any(|c| c.is_whitespace()) {
                    return Err(err(
                        p("resource_id"),
                        format!("{r:?} is not an ARM resource id"),
                    ));
                }
                if !res_ids.insert(r.to_ascii_lowercase()) {
                    return Err(err(
                        p("resource_id"),
                        format!("duplicate resource id {r:?}"),
                    ));
                }
            }
        }

        // host
        if let Some(s) = &cfg.host.system_assigned {
            let m = self.mi("host.system_assigned".into(), s)?;
            if m.kind != IdentityKind::System {
                return Err(err(
                    "host.system_assigned".into(),
                    format!("{s:?} is not kind = \"system\""),
                ));
            }
        }
        let mut seen = HashSet::new();
        for (i, u) in cfg.host.user_assigned.iter().enumerate() {
            let m = self.mi(format!("host.user_assigned[{i}]"), u)?;
            if m.kind != IdentityKind::User {
                return Err(err(
                    format!("host.user_assigned[{i}]"),
                    format!("{u:?} is not kind = \"user\""),
                ));
            }
            if !seen.insert(u) {
                return Err(err(
                    format!("host.user_assigned[{i}]"),
                    format!("{u:?} is listed twice"),
                ));
            }
        }
        if let Some(s) = &cfg.host.service_fabric_identity {
            self.mi("host.service_fabric_identity".into(), s)?;
        }
        if let Some(s) = &cfg.host.azure_ml_identity {
            self.mi("host.azure_ml_identity".into(), s)?;
        }
        if let Some(u) = &cfg.host.cloud_shell_user {
            self.tenant_ref("host.cloud_shell_user.tenant".into(), &u.tenant)?;
            self.guid("host.cloud_shell_user.object_id".into(), &u.object_id)?;
            if u.upn.is_empty() || !u.upn.contains('@') {
                return Err(err(
                    "host.cloud_shell_user.upn".into(),
                    format!("{:?} is not a UPN", u.upn),
                ));
            }
        }

        // apps
        let mut app_names = HashSet::new();
        let mut app_ids = HashSet::new();
        for (i, a) in cfg.apps.iter().enumerate() {
            let p = |f: &str| format!("apps[{i}].{f}");
            if a.name.is_empty() || !app_names.insert(a.name.as_str()) {
                return Err(err(
                    p("name"),
                    format!("{:?} is empty or a duplicate", a.name),
                ));
            }
            self.guid(p("client_id"), &a.client_id)?;
            self.guid(p("object_id"), &a.object_id)?;
            if !app_ids.insert(a.client_id.to_ascii_lowercase())
                || client_ids.contains(&a.client_id.to_ascii_lowercase())
            {
                return Err(err(
                    p("client_id"),
                    format!("duplicate client id {:?}", a.client_id),
                ));
            }
            if !object_ids.insert(a.object_id.to_ascii_lowercase()) {
                return Err(err(
                    p("object_id"),
                    format!("duplicate object id {:?}", a.object_id),
                ));
            }
            self.tenant_ref(p("home_tenant"), &a.home_tenant)?;
            if a.fics.len() > MAX_FICS_PER_APP {
                return Err(err(
                    p("fics"),
                    format!(
                        "{} FICs; Entra allows at most {MAX_FICS_PER_APP}",
                        a.fics.len()
                    ),
                ));
            }
            let mut fic_names = HashSet::new();
            let mut pairs = HashSet::new();
            for (j, f) in a.fics.iter().enumerate() {
                let fp = format!("apps[{i}].fics[{j}]");
                check_fic(f, &fp)?;
                if !fic_names.insert(f.name.as_str()) {
                    return Err(err(
                        format!("{fp}.name"),
                        format!("duplicate FIC name {:?}", f.name),
                    ));
                }
                if !pairs.insert((f.issuer.as_str(), f.subject.as_str())) {
                    return Err(err(
                        format!("{fp}.subject"),
                        "issuer + subject must be unique per app".into(),
                    ));
                }
            }
        }

        // resources (before role assignments and service principals)
        let mut rnames = HashSet::new();
        let mut rids = HashSet::new();
        let mut uris = HashSet::new();
        for (i, r) in cfg.resources.iter().enumerate() {
            let p = |f: &str| format!("resources[{i}].{f}");
            if r.name.is_empty() || !rnames.insert(r.name.as_str()) {
                return Err(err(
                    p("name"),
                    format!("{:?} is empty or a duplicate", r.name),
                ));
            }
            self.guid(p("app_id"), &r.app_id)?;
            if !rids.insert(r.app_id.to_ascii_lowercase()) {
                return Err(err(p("app_id"), format!("duplicate app id {:?}", r.app_id)));
            }
            for (j, u) in r.identifier_uris.iter().enumerate() {
                let key = u.trim_end_matches('/').to_ascii_lowercase();
                if key.is_empty() || u.chars().any(char::is_whitespace) || !u.contains(':') {
                    return Err(err(
                        format!("resources[{i}].identifier_uris[{j}]"),
                        format!("{u:?} is not a URI"),
                    ));
                }
                if key.ends_with("/.default") {
                    return Err(err(
                        format!("resources[{i}].identifier_uris[{j}]"),
                        "must not end with /.default".into(),
                    ));
                }
                if !uris.insert(key) {
                    return Err(err(
                        format!("resources[{i}].identifier_uris[{j}]"),
                        format!("duplicate URI {u:?}"),
                    ));
                }
            }
            match &r.tenants {
                ResourceTenants::Keyword(k) if k.eq_ignore_ascii_case("all") => {}
                ResourceTenants::Keyword(k) => {
                    return Err(err(
                        p("tenants"),
                        format!("{k:?}: expected \"all\" or a list of tenants"),
                    ));
                }
                ResourceTenants::List(list) => {
                    for (j, t) in list.iter().enumerate() {
                        self.tenant_ref(format!("resources[{i}].tenants[{j}]"), t)?;
                    }
                }
            }
            if !matches!(r.token_version, 1 | 2) {
                return Err(err(
                    p("token_version"),
                    format!("{} is not 1 or 2", r.token_version),
                ));
            }
        }

        // service principals
        let mut sps = HashSet::new();
        for (i, s) in cfg.service_principals.iter().enumerate() {
            let p = |f: &str| format!("service_principals[{i}].{f}");
            let app = self.app(p("app"), &s.app)?;
            self.tenant_ref(p("tenant"), &s.tenant)?;
            let tid = self.tenant_id_of(&s.tenant);
            if !app.multi_tenant && tid != self.tenant_id_of(&app.home_tenant) {
                return Err(err(
                    p("tenant"),
                    format!(
                        "{:?} is single-tenant; it can only be provisioned in its home tenant",
                        app.name
                    ),
                ));
            }
            if !sps.insert((app.client_id.to_ascii_lowercase(), tid)) {
                return Err(err(
                    p("tenant"),
                    "duplicate service principal for this app and tenant".into(),
                ));
            }
            if let Some(o) = &s.object_id {
                self.guid(p("object_id"), o)?;
                if !object_ids.insert(o.to_ascii_lowercase()) {
                    return Err(err(p("object_id"), format!("duplicate object id {o:?}")));
                }
            }
        }

        // role assignments
        for (i, ra) in cfg.role_assignments.iter().enumerate() {
            let p = |f: &str| format!("role_assignments[{i}].{f}");
            self.app(p("app"), &ra.app)?;
            self.tenant_ref(p("tenant"), &ra.tenant)?;
            let key = ra.resource.trim_end_matches('/').to_ascii_lowercase();
            let res = cfg
                .resources
                .iter()
                .find(|r| {
                    r.name == ra.resource
                        || r.app_id.eq_ignore_ascii_case(&ra.resource)
                        || r.identifier_uris
                            .iter()
                            .any(|u| u.trim_end_matches('/').to_ascii_lowercase() == key)
                })
                .ok_or_else(|| {
                    err(
                        p("resource"),
                        format!("{:?} names no resource", ra.resource),
                    )
                })?;
            for (j, role) in ra.roles.iter().enumerate() {
                if !res.roles.contains(role) {
                    return Err(err(
                        format!("role_assignments[{i}].roles[{j}]"),
                        format!("{role:?} is not a role of resource {:?}", res.name),
                    ));
                }
            }
        }
        Ok(())
    }

    fn tenant_id_of(&self, key: &str) -> String {
        let k = key.to_ascii_lowercase();
        self.cfg
            .tenants
            .iter()
            .find(|t| {
                t.id.eq_ignore_ascii_case(&k)
                    || t.domains.iter().any(|d| d.eq_ignore_ascii_case(&k))
            })
            .map(|t| t.id.to_ascii_lowercase())
            .unwrap_or(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_round_trips() {
        let cfg = EmulatorConfig::default_config();
        cfg.validate().unwrap();
        assert_eq!(
            EmulatorConfig::from_toml(EmulatorConfig::default_toml()).unwrap(),
            cfg
        );
        let again = EmulatorConfig::from_toml(&cfg.to_toml()).unwrap();
        assert_eq!(cfg, again);
        let json = serde_json::to_string(&cfg).unwrap();
        assert_eq!(EmulatorConfig::from_json(&json).unwrap(), cfg);
    }

    fn with(edit: impl FnOnce(&mut EmulatorConfig)) -> EmulatorError {
        let mut cfg = EmulatorConfig::default_config();
        edit(&mut cfg);
        cfg.validate().unwrap_err()
    }

    fn path_of(e: EmulatorError) -> String {
        match e {
            EmulatorError::Config { path, .. } => path,
            other => panic!("not a config error: {other}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            path_of(with(|c| c.listen.host = "0.0.0.0".into())),
            "listen.host"
        );
        assert_eq!(
            path_of(with(|c| c.listen.host = "10.0.0.1".into())),
            "listen.host"
        );
        assert_eq!(
            path_of(with(|c| c.tenants[1].id = "nope".into())),
            "tenants[1].id"
        );
        assert_eq!(
            path_of(with(|c| c.tenants[1].id = c.tenants[0].id.to_uppercase())),
            "tenants[1].id"
        );
        assert_eq!(
            path_of(with(
                |c| c.managed_identities[0].tenant = "nowhere.example".into()
            )),
            "managed_identities[0].tenant"
        );
        assert_eq!(
            path_of(with(
                |c| c.managed_identities[1].client_id = c.managed_identities[0].client_id.clone()
            )),
            "managed_identities[1].client_id"
        );
        assert_eq!(
            path_of(with(|c| c.host.user_assigned.push("ghost".into()))),
            "host.user_assigned[2]"
        );
        assert_eq!(
            path_of(with(
                |c| c.host.system_assigned = Some("uami-trusted".into())
            )),
            "host.system_assigned"
        );
        assert_eq!(
            path_of(with(|c| c.apps[0].fics[0].name = "x".into())),
            "apps[0].fics[0].name"
        );
        assert_eq!(
            path_of(with(|c| c.apps[0].fics[0].audiences.clear())),
            "apps[0].fics[0].audiences"
        );
        assert_eq!(
            path_of(with(|c| c.service_principals[0].app = "ghost".into())),
            "service_principals[0].app"
        );
        assert_eq!(
            path_of(with(
                |c| c.service_principals[2].tenant = "33333333-3333-4333-8333-333333333333".into()
            )),
            "service_principals[2].tenant"
        );
        assert_eq!(
            path_of(with(|c| c.resources[4].token_version = 3)),
            "resources[4].token_version"
        );
        assert_eq!(
            path_of(with(
                |c| c.resources[5].tenants = ResourceTenants::Keyword("some".into())
            )),
            "resources[5].tenants"
        );
        assert_eq!(
            path_of(with(|c| c.role_assignments[0].roles.push("Nope".into()))),
            "role_assignments[0].roles[1]"
        );
        assert_eq!(
            path_of(with(|c| c.lifetimes.mi_reissue_below_secs = 90_000)),
            "lifetimes.mi_reissue_below_secs"
        );
        assert_eq!(
            path_of(with(|c| c.issuer_host = "https://h/x".into())),
            "issuer_host"
        );
    }

    #[test]
    fn syntax_errors_and_unknown_fields() {
        assert!(EmulatorConfig::from_toml("issuer_host = ").is_err());
        assert!(EmulatorConfig::from_toml("bogus = 1").is_err());
        assert!(EmulatorConfig::from_json("{\"tenants\": 5}").is_err());
        let minimal = EmulatorConfig::from_toml("").unwrap();
        assert!(minimal.tenants.is_empty());
        assert_eq!(minimal.lifetimes.mi_secs, DEFAULT_MI_LIFETIME_SECS);
    }

    #[test]
    fn from_file_picks_the_format() {
        let dir = std::env::temp_dir().join(format!("ficx-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = EmulatorConfig::default_config();
        std::fs::write(dir.join("a.json"), serde_json::to_string(&cfg).unwrap()).unwrap();
        std::fs::write(dir.join("a.toml"), cfg.to_toml()).unwrap();
        assert_eq!(EmulatorConfig::from_file(&dir.join("a.json")).unwrap(), cfg);
        assert_eq!(EmulatorConfig::from_file(&dir.join("a.toml")).unwrap(), cfg);
        assert!(matches!(
            EmulatorConfig::from_file(&dir.join("missing.toml")),
            Err(EmulatorError::Io { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn secrets_are_masked_in_debug() {
        let mut cfg = EmulatorConfig::default_config();
        cfg.secrets.identity_header = Some("hunter2hunter2".into());
        cfg.signing_key_pem = Some("-----BEGIN PRIVATE KEY-----\nsecretkey".into());
        let dbg = format!("{cfg:?}");
        assert!(
            !dbg.contains("hunter2") && !dbg.contains("secretkey"),
            "{dbg}"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".{0,400}") {
            let _ = EmulatorConfig::from_toml(&s);
            let _ = EmulatorConfig::from_json(&s);
        }

        #[test]
        fn arbitrary_toml_like_text_never_panics(s in "(\\[\\[?[a-z_.]{0,12}\\]\\]?\n|[a-z_]{1,12} = (\"[^\"\n]{0,20}\"|[0-9]{1,6}|true|\\[\\])\n){0,12}") {
            let _ = EmulatorConfig::from_toml(&s);
        }
    }
}
