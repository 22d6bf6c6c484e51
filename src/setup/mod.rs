//! What an admin must create so that a managed identity (MI) can stand in for a multi-tenant app's
//! secret: the federated identity credential (FIC) on the app registration in the MI's tenant A,
//! and the app's service principal in each customer tenant B. [`SetupPlan`] is that as plain,
//! validated data; [`SetupPlan::render`] prints it in one of seven [`SetupFormat`]s.
//!
//! Pure data and pure functions: nothing here reads the network, the clock or the environment.
//!
//! ```
//! use ficx::{SetupFormat, SetupPlan};
//! # fn main() -> Result<(), ficx::Error> {
//! let plan = SetupPlan::builder()
//!     .mi_tenant("aaaaaaaa-0000-4000-8000-00000000000a")
//!     .mi_object_id("5f5f5f5f-0000-4000-8000-000000000005") // the MI's object (principal) id
//!     .mi_name("orders-api")
//!     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
//!     .consent_tenant("contoso.onmicrosoft.com")
//!     .build()?;
//! assert_eq!(plan.name(), "ficx-orders-api");
//! assert_eq!(plan.issuer(), "https://login.microsoftonline.com/aaaaaaaa-0000-4000-8000-00000000000a/v2.0");
//! assert_eq!(plan.audience(), "api://AzureADTokenExchange");
//! let az = plan.render(SetupFormat::Az);
//! assert!(az.contains("az ad app federated-credential create"));
//! # Ok(()) }
//! ```
//!
//! Sources for every fact used here: `shared/docs/protocol.md` §1 (FIC fields, limits, rules) and
//! §8 (admin tooling), which cite the Microsoft pages.

mod az;
mod bicep;
mod graph;
mod json;
mod powershell;
pub(crate) mod quote;
mod terraform;
mod text;
mod warnings;

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::error::{Error, quote as quote_value};
use crate::ids::{ClientId, Cloud, ObjectId, TenantId};
use crate::jwt::JwtView;

pub use warnings::{SetupWarning, SetupWarningCode};

/// Longest FIC `name` Entra accepts, in characters (protocol.md §1).
///
/// ```
/// use ficx::{SetupPlan, SetupWarningCode, setup::MAX_FIC_NAME_CHARS};
/// let long = "x".repeat(MAX_FIC_NAME_CHARS + 1);
/// let plan = SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .name(&long).build()?;
/// assert!(plan.has_warning(SetupWarningCode::NameInvalid));
/// assert_eq!(plan.suggested_name().map(str::len), Some(MAX_FIC_NAME_CHARS));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const MAX_FIC_NAME_CHARS: usize = 120;
/// Shortest FIC `name` Entra accepts, in characters.
///
/// ```
/// use ficx::{SetupPlan, SetupWarningCode, setup::MIN_FIC_NAME_CHARS};
/// let plan = SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .name("ab").build()?; // under MIN_FIC_NAME_CHARS
/// assert!(plan.name().chars().count() < MIN_FIC_NAME_CHARS);
/// assert!(plan.has_warning(SetupWarningCode::NameInvalid));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const MIN_FIC_NAME_CHARS: usize = 3;
/// Longest `issuer`, `subject`, audience or `description` Entra accepts, in characters.
///
/// ```
/// use ficx::{SetupPlan, SetupWarningCode, setup::MAX_FIC_FIELD_CHARS};
/// let plan = SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .description(&"d".repeat(MAX_FIC_FIELD_CHARS + 1)).build()?;
/// assert!(plan.has_warning(SetupWarningCode::FieldTooLong));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const MAX_FIC_FIELD_CHARS: usize = 600;
/// How many FICs one application can hold.
///
/// ```
/// use ficx::{SetupWarningCode, setup::MAX_FICS_PER_APP};
/// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
/// // Always reminded: the app may already hold MAX_FICS_PER_APP credentials.
/// let reminder = plan.warnings().iter().find(|w| w.code == SetupWarningCode::FicLimit).unwrap();
/// assert!(reminder.message.contains(&MAX_FICS_PER_APP.to_string()));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const MAX_FICS_PER_APP: usize = 20;
/// The Microsoft Graph Bicep extension version the Bicep output names (the first v1.0 GA
/// release; any later 1.x works the same for these two resource types).
///
/// ```
/// use ficx::{SetupFormat, setup::BICEP_GRAPH_EXTENSION_VERSION};
/// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
/// assert!(plan.render(SetupFormat::Bicep).contains(BICEP_GRAPH_EXTENSION_VERSION));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const BICEP_GRAPH_EXTENSION_VERSION: &str = "1.0.0";
/// The `hashicorp/azuread` provider constraint the Terraform output pins: 3.x, where the
/// credential's `application_id` is the application's resource id and the data source looks an
/// app up by `client_id` (2.x used `application_object_id` and `application_id`).
///
/// ```
/// use ficx::{SetupFormat, setup::TERRAFORM_AZUREAD_VERSION};
/// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
/// assert!(plan.render(SetupFormat::Terraform).contains(&format!("version = \"{TERRAFORM_AZUREAD_VERSION}\"")));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const TERRAFORM_AZUREAD_VERSION: &str = "~> 3.0";

/// Everything an admin must create for one managed identity and one multi-tenant app, validated.
///
/// Build it with [`SetupPlan::builder`]; print it with [`SetupPlan::render`]. The JSON format is
/// this struct's `serde` form, with these fields (stable; new ones may be added, none removed):
///
/// | field | type | meaning |
/// |---|---|---|
/// | `name` | string | the FIC name (3–120 URL-safe characters, immutable once created) |
/// | `issuer` | string | must equal the MI token's `iss` byte for byte |
/// | `subject` | string | the MI's object (principal) id; must equal the token's `sub` |
/// | `audiences` | array of one string | must equal the token's `aud` |
/// | `description` | string | free text, ≤ 600 characters |
/// | `app` | object | the app registration in tenant A: `client_id` (appId) and `object_id`, each a GUID or `null` (at least one is set) |
/// | `cloud` | string | `public`, `usgov`, `china` or `custom` |
/// | `mi` | object | `tenant` (tenant A), `object_id` (= `subject`), `name` (or `null`), `system_assigned` (bool) |
/// | `consent` | array | per customer tenant: `tenant`, `url` (admin-consent URL) and `sp_create` (`az ad sp create …`, run after `az login --tenant <tenant>`); both `null` when the app's client id is unknown |
/// | `warnings` | array | `{code, message}`, see [`SetupWarningCode`] for the codes |
///
/// ```
/// use ficx::{SetupFormat, SetupPlan};
/// let plan = SetupPlan::builder()
///     .mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001")
///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .consent_tenant("contoso.onmicrosoft.com")
///     .build()?;
/// let json: serde_json::Value = serde_json::from_str(&plan.render(SetupFormat::Json)).unwrap();
/// assert_eq!(json["subject"], "b1b1b1b1-0000-4000-8000-000000000001");
/// assert_eq!(json["consent"][0]["tenant"], "contoso.onmicrosoft.com");
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct SetupPlan {
    name: String,
    issuer: String,
    subject: String,
    audiences: Vec<String>,
    description: String,
    app: AppIds,
    #[serde(serialize_with = "cloud_name")]
    cloud: Cloud,
    mi: MiFacts,
    consent: Vec<ConsentStep>,
    warnings: Vec<SetupWarning>,
    #[serde(skip)]
    suggested_name: Option<String>,
    /// True when issuer, subject and audience were all copied from a live MI token.
    #[serde(skip)]
    from_token: bool,
}

/// The app registration's two ids (at least one is set).
#[derive(Debug, Clone, Serialize)]
struct AppIds {
    #[serde(serialize_with = "opt_display")]
    client_id: Option<ClientId>,
    #[serde(serialize_with = "opt_display")]
    object_id: Option<ObjectId>,
}

/// What is known of the managed identity.
#[derive(Debug, Clone, Serialize)]
struct MiFacts {
    #[serde(serialize_with = "display")]
    tenant: TenantId,
    object_id: String,
    name: Option<String>,
    system_assigned: bool,
}

/// Provisioning the app in one customer tenant: the admin-consent URL and the Azure CLI
/// alternative. Both need the app's client id; they are `None` when only its object id is known.
///
/// ```
/// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .consent_tenant("contoso.onmicrosoft.com").build()?;
/// let step = &plan.consent_urls()[0];
/// assert_eq!(step.url.as_deref(), Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0"));
/// assert_eq!(step.sp_create.as_deref(), Some("az ad sp create --id c0c0c0c0-0000-4000-8000-00000000c0c0"));
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConsentStep {
    /// The customer tenant (B).
    #[serde(serialize_with = "display")]
    pub tenant: TenantId,
    /// `https://<login host>/<tenant>/adminconsent?client_id=<appId>`, opened by an admin of the
    /// tenant; consenting creates the app's service principal there.
    pub url: Option<String>,
    /// `az ad sp create --id <appId>`, to run after `az login --tenant <tenant>`.
    pub sp_create: Option<String>,
}

impl ConsentStep {
    /// The sign-in to run before [`ConsentStep::sp_create`]: `az login --tenant <tenant>`.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .consent_tenant("contoso.onmicrosoft.com").build()?;
    /// assert_eq!(plan.consent_urls()[0].az_login(), "az login --tenant contoso.onmicrosoft.com");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn az_login(&self) -> String {
        format!("az login --tenant {}", self.tenant)
    }
}

fn display<T: fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn opt_display<T: fmt::Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

fn cloud_name<S: Serializer>(c: &Cloud, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.name())
}

/// The FIC request body every tool takes, in Graph's field order.
#[derive(Serialize)]
struct FicBody<'a> {
    name: &'a str,
    issuer: &'a str,
    subject: &'a str,
    audiences: &'a [String],
    description: &'a str,
}

impl SetupPlan {
    /// Start a plan; see [`SetupPlanBuilder`].
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.issuer(), "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn builder() -> SetupPlanBuilder {
        SetupPlanBuilder::default()
    }

    /// The FIC `name`.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.name(), "ficx-uami-trusted"); // from the MI's name
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A corrected name when [`SetupPlan::name`] breaks Entra's rules (warning
    /// [`SetupWarningCode::NameInvalid`]), else `None`.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .name("orders svc/prod").build()?;
    /// assert_eq!(plan.suggested_name(), Some("orders-svc-prod"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn suggested_name(&self) -> Option<&str> {
        self.suggested_name.as_deref()
    }

    /// The FIC `issuer`: the MI token's `iss`, byte for byte.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().cloud(ficx::Cloud::China).mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.issuer(), "https://login.partner.microsoftonline.cn/11111111-1111-4111-8111-111111111111/v2.0");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The FIC `subject`: the MI's object (principal) id, never its client id.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("B1B1B1B1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.subject(), "b1b1b1b1-0000-4000-8000-000000000001"); // as MI tokens carry it
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The FIC's one audience.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.audience(), "api://AzureADTokenExchange");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn audience(&self) -> &str {
        &self.audiences[0]
    }

    /// The FIC `audiences` (always exactly one).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.audiences(), ["api://AzureADTokenExchange"]);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The FIC `description`.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert!(plan.description().starts_with("Trust uami-trusted"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The app registration's application (client) id, if known.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.app_client_id().map(|c| c.as_str()), Some("c0c0c0c0-0000-4000-8000-00000000c0c0"));
    /// assert!(plan.app_object_id().is_none()); // not given
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn app_client_id(&self) -> Option<&ClientId> {
        self.app.client_id.as_ref()
    }

    /// The app registration's object id, if known.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_object_id("d0d0d0d0-0000-4000-8000-00000000d0d0").build()?;
    /// assert_eq!(plan.app_object_id().map(|o| o.as_str()), Some("d0d0d0d0-0000-4000-8000-00000000d0d0"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn app_object_id(&self) -> Option<&ObjectId> {
        self.app.object_id.as_ref()
    }

    /// The cloud the MI, the app and the customer tenants are in.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().cloud(ficx::Cloud::UsGov).mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.cloud(), &ficx::Cloud::UsGov);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// The MI's tenant (A), which is also the app registration's tenant.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert!(plan.mi_tenant().is_guid());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn mi_tenant(&self) -> &TenantId {
        &self.mi.tenant
    }

    /// The MI's object (principal) id (the same as [`SetupPlan::subject`]).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.mi_object_id(), plan.subject());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn mi_object_id(&self) -> &str {
        &self.mi.object_id
    }

    /// The MI's name, when known (from the builder or the token's `xms_mirid`).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!(plan.mi_name(), Some("uami-trusted"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn mi_name(&self) -> Option<&str> {
        self.mi.name.as_deref()
    }

    /// True when the MI is known to be system-assigned (see [`SetupWarningCode::SystemAssigned`]).
    ///
    /// ```
    /// use ficx::SetupWarningCode;
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b3b3b3b3-0000-4000-8000-000000000003").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .system_assigned(true).build()?;
    /// assert!(plan.mi_system_assigned() && plan.has_warning(SetupWarningCode::SystemAssigned));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn mi_system_assigned(&self) -> bool {
        self.mi.system_assigned
    }

    /// The customer tenants the app must be provisioned in, in the order given.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .consent_tenants(["Contoso.onmicrosoft.com", "northwind.onmicrosoft.com"]).build()?;
    /// let tenants: Vec<&str> = plan.consent_tenants().map(|t| t.as_str()).collect();
    /// assert_eq!(tenants, ["contoso.onmicrosoft.com", "northwind.onmicrosoft.com"]);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn consent_tenants(&self) -> impl Iterator<Item = &TenantId> {
        self.consent.iter().map(|c| &c.tenant)
    }

    /// Per customer tenant, the admin-consent URL and the `az ad sp create` alternative. Both are
    /// `None` when only the app's object id is known (warning
    /// [`SetupWarningCode::ConsentNeedsClientId`] says so).
    ///
    /// ```
    /// use ficx::SetupWarningCode;
    /// // Only the app's object id known: no consent URL can be written.
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_object_id("d0d0d0d0-0000-4000-8000-00000000d0d0")
    ///     .consent_tenant("contoso.onmicrosoft.com").build()?;
    /// assert_eq!(plan.consent_urls()[0].url, None);
    /// assert!(plan.has_warning(SetupWarningCode::ConsentNeedsClientId));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn consent_urls(&self) -> &[ConsentStep] {
        &self.consent
    }

    /// What looks wrong or deserves a reminder; never empty (the 20-FICs-per-app reminder is
    /// always there).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert!(!plan.warnings().is_empty()); // the FIC-limit reminder at least
    /// assert!(plan.warnings().iter().all(|w| !w.message.contains('\n')));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn warnings(&self) -> &[SetupWarning] {
        &self.warnings
    }

    /// True when a warning with this code is present.
    ///
    /// ```
    /// use ficx::SetupWarningCode;
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .issuer("https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0/").build()?;
    /// assert!(plan.has_warning(SetupWarningCode::IssuerTrailingSlash)); // would fail with AADSTS700211
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn has_warning(&self, code: SetupWarningCode) -> bool {
        self.warnings.iter().any(|w| w.code == code)
    }

    /// Print the plan in `format`. Always ends with a newline.
    ///
    /// ```
    /// use ficx::SetupFormat;
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// let script = plan.render(SetupFormat::Az);
    /// assert!(script.contains("az ad app federated-credential create"));
    /// assert!(script.contains("\"subject\":\"b1b1b1b1-0000-4000-8000-000000000001\""));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn render(&self, format: SetupFormat) -> String {
        match format {
            SetupFormat::Text => text::render(self),
            SetupFormat::Json => json::render(self),
            SetupFormat::Az => az::render(self),
            SetupFormat::Graph => graph::render(self),
            SetupFormat::Bicep => bicep::render(self),
            SetupFormat::Terraform => terraform::render(self),
            SetupFormat::PowerShell => powershell::render(self),
        }
    }

    /// The FIC body as compact (`pretty = false`) or indented JSON: `name`, `issuer`, `subject`,
    /// `audiences`, `description`.
    fn fic_body_json(&self, pretty: bool) -> String {
        let body = FicBody {
            name: &self.name,
            issuer: &self.issuer,
            subject: &self.subject,
            audiences: &self.audiences,
            description: &self.description,
        };
        let r = if pretty {
            serde_json::to_string_pretty(&body)
        } else {
            serde_json::to_string(&body)
        };
        r.unwrap_or_default() // serialising strings cannot fail
    }

    /// How to name the app to a person: `client id X` and/or `object id Y`.
    fn app_label(&self) -> String {
        match (&self.app.client_id, &self.app.object_id) {
            (Some(c), Some(o)) => format!("client id {c}, object id {o}"),
            (Some(c), None) => format!("client id {c}"),
            (None, Some(o)) => format!("object id {o}"),
            (None, None) => String::new(),
        }
    }

    /// The id `az` takes as `--id`: the object id when known (no lookup), else the appId.
    fn az_app_id(&self) -> String {
        match (&self.app.object_id, &self.app.client_id) {
            (Some(o), _) => o.to_string(),
            (None, Some(c)) => c.to_string(),
            (None, None) => String::new(),
        }
    }

    /// The Microsoft Graph base URL for the plan's cloud, and whether it is a guess (custom cloud).
    fn graph_host(&self) -> (&'static str, bool) {
        graph_host(&self.cloud)
    }
}

/// The Azure CLI's name for a national cloud (`az cloud set --name …`), `None` for public and
/// custom clouds.
pub(crate) fn az_cloud_name(cloud: &Cloud) -> Option<&'static str> {
    match cloud {
        Cloud::UsGov => Some("AzureUSGovernment"),
        Cloud::China => Some("AzureChinaCloud"),
        _ => None,
    }
}

/// Microsoft Graph's base URL per cloud (national clouds have their own Graph host), and `true`
/// when it is only a guess because the cloud is custom.
pub(crate) fn graph_host(cloud: &Cloud) -> (&'static str, bool) {
    match cloud {
        Cloud::Public => ("https://graph.microsoft.com", false),
        Cloud::UsGov => ("https://graph.microsoft.us", false),
        Cloud::China => ("https://microsoftgraph.chinacloudapi.cn", false),
        _ => ("https://graph.microsoft.com", true),
    }
}

/// The output formats of [`SetupPlan::render`].
///
/// ```
/// use ficx::SetupFormat;
/// let f: SetupFormat = "terraform".parse().unwrap();
/// assert_eq!(f, SetupFormat::Terraform);
/// assert_eq!(f.to_string(), "terraform");
/// assert_eq!(SetupFormat::ALL.len(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SetupFormat {
    /// An explanation for an admin: the three values and why, where the FIC goes, consent per
    /// customer tenant, warnings. Fits 80 columns except for unbreakable values (URLs, commands).
    Text,
    /// Machine-readable; fields documented on [`SetupPlan`].
    Json,
    /// Azure CLI (bash): `az ad app federated-credential create`, then `az ad sp create` per
    /// customer tenant.
    Az,
    /// The Microsoft Graph REST request (`POST …/federatedIdentityCredentials`), plus an `az rest`
    /// one-liner.
    Graph,
    /// Bicep with the Microsoft Graph extension.
    Bicep,
    /// Terraform with the `hashicorp/azuread` provider.
    Terraform,
    /// Microsoft Graph PowerShell SDK: `New-MgApplicationFederatedIdentityCredential`.
    PowerShell,
}

impl SetupFormat {
    /// Every format, in the order the CLI lists them.
    ///
    /// ```
    /// use ficx::SetupFormat;
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
    ///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// for format in SetupFormat::ALL {
    ///     assert!(plan.render(format).ends_with('\n'));
    /// }
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub const ALL: [SetupFormat; 7] = [
        SetupFormat::Text,
        SetupFormat::Json,
        SetupFormat::Az,
        SetupFormat::Graph,
        SetupFormat::Bicep,
        SetupFormat::Terraform,
        SetupFormat::PowerShell,
    ];

    /// The name [`FromStr`] takes and [`fmt::Display`] prints: `text`, `json`, `az`, `graph`,
    /// `bicep`, `terraform`, `powershell`.
    ///
    /// ```
    /// use ficx::SetupFormat;
    /// assert_eq!(SetupFormat::PowerShell.name(), "powershell");
    /// assert_eq!("pwsh".parse::<SetupFormat>()?.name(), "powershell"); // an alias
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            SetupFormat::Text => "text",
            SetupFormat::Json => "json",
            SetupFormat::Az => "az",
            SetupFormat::Graph => "graph",
            SetupFormat::Bicep => "bicep",
            SetupFormat::Terraform => "terraform",
            SetupFormat::PowerShell => "powershell",
        }
    }

    /// The usual file extension for the output (without the dot): `txt`, `json`, `sh`, `http`,
    /// `bicep`, `tf`, `ps1`.
    ///
    /// ```
    /// use ficx::SetupFormat;
    /// let file = format!("fic.{}", SetupFormat::Terraform.file_extension());
    /// assert_eq!(file, "fic.tf");
    /// ```
    pub fn file_extension(self) -> &'static str {
        match self {
            SetupFormat::Text => "txt",
            SetupFormat::Json => "json",
            SetupFormat::Az => "sh",
            SetupFormat::Graph => "http",
            SetupFormat::Bicep => "bicep",
            SetupFormat::Terraform => "tf",
            SetupFormat::PowerShell => "ps1",
        }
    }
}

impl fmt::Display for SetupFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SetupFormat {
    type Err = Error;

    /// A format name (case-insensitive); `pwsh` and `tf` are accepted as aliases.
    fn from_str(s: &str) -> Result<Self, Error> {
        let lower = s.trim().to_ascii_lowercase();
        let alias = match lower.as_str() {
            "pwsh" => "powershell",
            "tf" => "terraform",
            other => other,
        };
        SetupFormat::ALL
            .into_iter()
            .find(|f| f.name() == alias)
            .ok_or_else(|| Error::InvalidInput {
                field: "format",
                problem: format!(
                    "{} is not a setup format; expected one of {}",
                    quote_value(s),
                    SetupFormat::ALL.map(SetupFormat::name).join(", ")
                ),
            })
    }
}

/// The facts a setup plan takes from a decoded MI token, kept owned so the builder needs no
/// lifetime.
#[derive(Debug, Clone, Default)]
struct TokenFacts {
    iss: Option<String>,
    sub: Option<String>,
    oid: Option<String>,
    tid: Option<String>,
    aud: Option<Vec<String>>,
    xms_mirid: Option<String>,
}

impl TokenFacts {
    fn from_view(view: &JwtView) -> Self {
        let s = |name: &str| view.str_claim(name).map(str::to_owned);
        let aud = view.claims.get("aud").map(|v| match v {
            Value::Array(items) => items.iter().map(value_text).collect(),
            other => vec![value_text(other)],
        });
        TokenFacts {
            iss: s("iss"),
            sub: s("sub"),
            oid: s("oid"),
            tid: s("tid"),
            aud,
            xms_mirid: s("xms_mirid"),
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The name of a user-assigned identity from its ARM resource id
/// (`…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`, compared
/// case-insensitively as ARM does), or `None` for any other resource (a VM, an App Service: the
/// token then came from a system-assigned identity).
fn uami_name(mirid: &str) -> Option<&str> {
    let parts: Vec<&str> = mirid.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        [.., provider, kind, name]
            if provider.eq_ignore_ascii_case("Microsoft.ManagedIdentity")
                && kind.eq_ignore_ascii_case("userAssignedIdentities")
                && !name.is_empty() =>
        {
            Some(name)
        }
        _ => None,
    }
}

/// Builds a [`SetupPlan`]; everything is checked in [`SetupPlanBuilder::build`].
///
/// The MI's facts come either from ids ([`mi_tenant`](Self::mi_tenant),
/// [`mi_object_id`](Self::mi_object_id)) or, preferably, from a live MI token
/// ([`mi_token`](Self::mi_token)), whose `iss`, `sub` and `aud` are then copied byte for byte.
/// Values set explicitly win over the token's, whatever the order of the calls.
///
/// ```
/// use ficx::{Cloud, SetupPlan, SetupWarningCode};
/// # fn main() -> Result<(), ficx::Error> {
/// let plan = SetupPlan::builder()
///     .cloud(Cloud::UsGov)
///     .mi_tenant("aaaaaaaa-0000-4000-8000-00000000000a")
///     .mi_object_id("5f5f5f5f-0000-4000-8000-000000000005")
///     .app_object_id("0b0b0b0b-0000-4000-8000-00000000000b")
///     .build()?;
/// assert_eq!(plan.audience(), "api://AzureADTokenExchangeUSGov");
/// assert_eq!(plan.name(), "ficx-5f5f5f5f");
/// assert!(plan.has_warning(SetupWarningCode::FicLimit));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct SetupPlanBuilder {
    mi_tenant: Option<String>,
    mi_object_id: Option<String>,
    mi_name: Option<String>,
    system_assigned: Option<bool>,
    token: Option<TokenFacts>,
    app_client_id: Option<String>,
    app_object_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    cloud: Option<Cloud>,
    issuer: Option<String>,
    audiences: Option<Vec<String>>,
    consent_tenants: Vec<String>,
}

impl SetupPlanBuilder {
    /// The MI's tenant A (GUID preferred: the issuer carries the GUID, never a domain).
    ///
    /// ```
    /// use ficx::SetupWarningCode;
    /// // A domain works, but MI tokens carry the tenant GUID in `iss`: warned.
    /// let plan = ficx::SetupPlan::builder().mi_tenant("fabrikam.onmicrosoft.com")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert!(plan.has_warning(SetupWarningCode::IssuerTenantNotGuid));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn mi_tenant(mut self, tenant: &str) -> Self {
        self.mi_tenant = Some(tenant.to_owned());
        self
    }

    /// The MI's object (principal) id, which becomes the FIC subject. Not its client id:
    /// `az identity show -n <mi> -g <rg> --query principalId -o tsv`.
    ///
    /// ```
    /// let err = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("uami-trusted").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build().unwrap_err();
    /// assert!(err.to_string().contains("mi object id")); // a GUID, the principal id
    /// ```
    pub fn mi_object_id(mut self, object_id: &str) -> Self {
        self.mi_object_id = Some(object_id.to_owned());
        self
    }

    /// The MI's name, used for the default FIC name and description.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .mi_name("orders-uami").build()?;
    /// assert_eq!(plan.name(), "ficx-orders-uami");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn mi_name(mut self, name: &str) -> Self {
        self.mi_name = Some(name.to_owned());
        self
    }

    /// Whether the MI is system-assigned (default: from the token's `xms_mirid`, else `false`).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .system_assigned(true).build()?;
    /// assert!(plan.has_warning(ficx::SetupWarningCode::SystemAssigned)); // documented for user-assigned only
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn system_assigned(mut self, yes: bool) -> Self {
        self.system_assigned = Some(yes);
        self
    }

    /// Take the MI's facts from one of its tokens (from [`crate::jwt::decode_unverified`]): `iss`
    /// as the issuer byte for byte, `sub` (else `oid`) as the subject, `aud` as the audience,
    /// `tid` as tenant A, and from `xms_mirid` the MI's name (a
    /// `…/userAssignedIdentities/<name>` id) or the fact that it is system-assigned (any other
    /// resource id). Without [`cloud`](Self::cloud), the cloud is the one whose authority host
    /// issued the token (public if the host is unknown).
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// let mi_token = jwt(r#"{"iss":"https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0",
    ///   "sub":"b1b1b1b1-0000-4000-8000-000000000001","aud":"api://AzureADTokenExchange","tid":"11111111-1111-4111-8111-111111111111",
    ///   "xms_mirid":"/subscriptions/5f5f5f5f-0000-4000-8000-000000000005/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-trusted"}"#);
    /// let claims = ficx::jwt::decode_unverified(&mi_token)?;
    /// let plan = ficx::SetupPlan::builder().mi_token(&claims).app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
    /// assert_eq!((plan.subject(), plan.mi_name()), ("b1b1b1b1-0000-4000-8000-000000000001", Some("uami-trusted")));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn mi_token(mut self, token: &JwtView) -> Self {
        self.token = Some(TokenFacts::from_view(token));
        self
    }

    /// The app registration's application (client) id (appId). At least one of this and
    /// [`app_object_id`](Self::app_object_id) is required; the consent URLs need this one.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .consent_tenant("contoso.onmicrosoft.com").build()?;
    /// assert!(plan.consent_urls()[0].url.as_deref().unwrap().ends_with("client_id=c0c0c0c0-0000-4000-8000-00000000c0c0"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn app_client_id(mut self, client_id: &str) -> Self {
        self.app_client_id = Some(client_id.to_owned());
        self
    }

    /// The app registration's object id (how Graph, Terraform and PowerShell address it).
    ///
    /// ```
    /// use ficx::SetupFormat;
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .app_object_id("d0d0d0d0-0000-4000-8000-00000000d0d0").build()?;
    /// assert!(plan.render(SetupFormat::Az).contains("--id d0d0d0d0-0000-4000-8000-00000000d0d0")); // no lookup needed
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn app_object_id(mut self, object_id: &str) -> Self {
        self.app_object_id = Some(object_id.to_owned());
        self
    }

    /// The FIC name (default `ficx-<mi name>`, else `ficx-<first 8 characters of the object id>`).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .name("orders-prod").build()?;
    /// assert_eq!((plan.name(), plan.suggested_name()), ("orders-prod", None));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// The FIC description (default `Trust <mi name or object id> as a credential of <app id>`).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .description("orders service, production").build()?;
    /// assert_eq!(plan.description(), "orders service, production");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn description(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    /// The cloud (default: the token's, else public): picks the issuer host, the exchange
    /// audience, the consent host and the Graph host.
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .cloud(ficx::Cloud::UsGov).build()?;
    /// assert_eq!(plan.audience(), "api://AzureADTokenExchangeUSGov");
    /// assert!(plan.issuer().starts_with("https://login.microsoftonline.us/"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = Some(cloud);
        self
    }

    /// Override the issuer (default: the token's `iss`, else [`Cloud::issuer_for`] tenant A).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .issuer("https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0").build()?;
    /// assert!(plan.warnings().iter().all(|w| w.code == ficx::SetupWarningCode::FicLimit)); // nothing wrong
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_owned());
        self
    }

    /// Override the audience (default: the token's `aud`, else [`Cloud::exchange_audience`]).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .audience("api://AzureADTokenExchangeUSGov").build()?; // but the cloud is public
    /// assert!(plan.has_warning(ficx::SetupWarningCode::AudienceCloudMismatch));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn audience(mut self, audience: &str) -> Self {
        self.audiences = Some(vec![audience.to_owned()]);
        self
    }

    /// Override the audiences; a FIC for this flow takes exactly one, so [`build`](Self::build)
    /// refuses any other count.
    ///
    /// ```
    /// let two = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .audiences(["api://AzureADTokenExchange", "api://other"]).build();
    /// assert!(two.is_err()); // this flow takes exactly one
    /// ```
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// Add a customer tenant B to provision the app in (GUID or verified domain).
    ///
    /// ```
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .consent_tenant("contoso.onmicrosoft.com").consent_tenant("northwind.onmicrosoft.com").build()?;
    /// assert_eq!(plan.consent_urls().len(), 2);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn consent_tenant(mut self, tenant: &str) -> Self {
        self.consent_tenants.push(tenant.to_owned());
        self
    }

    /// Add several customer tenants.
    ///
    /// ```
    /// let customers = vec!["contoso.onmicrosoft.com".to_string(), "22222222-2222-4222-8222-222222222222".to_string()];
    /// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
    ///     .consent_tenants(&customers).build()?;
    /// assert_eq!(plan.consent_tenants().count(), 2);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn consent_tenants<I, S>(mut self, tenants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.consent_tenants
            .extend(tenants.into_iter().map(|t| t.as_ref().to_owned()));
        self
    }

    /// Validate and build. Anything merely doubtful becomes a [`SetupWarning`]; only unusable
    /// input is an error.
    ///
    /// ```
    /// let err = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
    ///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").build().unwrap_err();
    /// assert!(err.to_string().contains("app")); // the app's client id or object id is required
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field when: neither app id is given (`app`), an id is
    /// malformed (`app client id`, `app object id`, `mi tenant`, `consent tenant`), the subject
    /// is missing or not a GUID (`mi object id`, or `subject` when it came from a token), tenant
    /// A is missing (`mi tenant`), the issuer is empty (`issuer`), or the audience is empty or
    /// not exactly one (`audience`).
    pub fn build(self) -> Result<SetupPlan, Error> {
        // Text output says "copied from the token" only when all three matching values were.
        let from_token = self.token.is_some()
            && self.issuer.is_none()
            && self.audiences.is_none()
            && self.mi_object_id.is_none();
        let token = self.token.unwrap_or_default();
        let cloud = match (self.cloud, token.iss.as_deref()) {
            (Some(c), _) => c,
            (None, Some(iss)) => cloud_of_issuer(iss).unwrap_or_default(),
            (None, None) => Cloud::Public,
        };

        let app_client_id = self
            .app_client_id
            .as_deref()
            .map(|v| ClientId::new(v).map_err(|e| refield(e, "app client id")))
            .transpose()?;
        let app_object_id = self
            .app_object_id
            .as_deref()
            .map(|v| ObjectId::new(v).map_err(|e| refield(e, "app object id")))
            .transpose()?;
        if app_client_id.is_none() && app_object_id.is_none() {
            return Err(Error::InvalidInput {
                field: "app",
                problem: "is missing; give the app registration's client id (appId) or object id, \
                          or both (az ad app show --id <app> --query '{appId:appId, id:id}')"
                    .into(),
            });
        }

        let tenant = match (&self.mi_tenant, &token.tid) {
            (Some(t), _) => TenantId::new(t).map_err(|e| refield(e, "mi tenant"))?,
            (None, Some(t)) => TenantId::new(t).map_err(|e| refield(e, "mi tenant"))?,
            (None, None) => {
                return Err(Error::InvalidInput {
                    field: "mi tenant",
                    problem: "is missing; give the managed identity's tenant id \
                              (az identity show -n <mi> -g <rg> --query tenantId -o tsv) or its token"
                        .into(),
                });
            }
        };

        let subject = match (
            &self.mi_object_id,
            token.sub.as_ref().or(token.oid.as_ref()),
        ) {
            (Some(id), _) => ObjectId::new(id)
                .map_err(|e| refield(e, "mi object id"))?
                .to_string(),
            (None, Some(sub)) => {
                // Kept byte for byte: Entra compares the subject case-sensitively with `sub`.
                if ObjectId::new(sub).is_err() || sub.trim() != sub {
                    return Err(Error::InvalidInput {
                        field: "subject",
                        problem: format!(
                            "the token's sub {} is not a GUID; a managed identity's token carries \
                             its object (principal) id there. Is this an MI token?",
                            quote_value(sub)
                        ),
                    });
                }
                sub.clone()
            }
            (None, None) => {
                return Err(Error::InvalidInput {
                    field: "mi object id",
                    problem: "is missing; give the managed identity's object (principal) id, not \
                              its client id (az identity show -n <mi> -g <rg> --query principalId -o tsv)"
                        .into(),
                });
            }
        };

        let composed_issuer = self.issuer.is_none() && token.iss.is_none();
        let issuer = self
            .issuer
            .or(token.iss)
            .unwrap_or_else(|| cloud.issuer_for(tenant.as_str()));
        if issuer.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "issuer",
                problem: format!(
                    "is empty; expected the MI token's iss, e.g. {}",
                    cloud.issuer_for(tenant.as_str())
                ),
            });
        }

        let audiences = self
            .audiences
            .or(token.aud)
            .unwrap_or_else(|| vec![cloud.exchange_audience().to_owned()]);
        match audiences.as_slice() {
            [one] if !one.trim().is_empty() => {}
            [] | [_] => {
                return Err(Error::InvalidInput {
                    field: "audience",
                    problem: format!(
                        "is empty; expected the token-exchange audience, e.g. {}",
                        cloud.exchange_audience()
                    ),
                });
            }
            many => {
                return Err(Error::InvalidInput {
                    field: "audience",
                    problem: format!(
                        "has {} values; a federated credential for a managed identity lists \
                         exactly one, e.g. {}",
                        many.len(),
                        cloud.exchange_audience()
                    ),
                });
            }
        }

        let token_name = token.xms_mirid.as_deref().and_then(uami_name);
        let mi_name = self.mi_name.or(token_name.map(str::to_owned));
        let system_assigned = self
            .system_assigned
            .unwrap_or(token.xms_mirid.is_some() && token_name.is_none());

        let name_given = self.name.is_some();
        let name = self.name.unwrap_or_else(|| {
            let base = match &mi_name {
                Some(n) => format!("ficx-{n}"),
                None => format!("ficx-{}", subject.chars().take(8).collect::<String>()),
            };
            // A default must be valid: UAMI names may hold characters a FIC name may not.
            warnings::sanitize_name(&base)
        });
        let app_for_description = app_client_id
            .as_ref()
            .map(ToString::to_string)
            .or(app_object_id.as_ref().map(ToString::to_string))
            .unwrap_or_default();
        let description = self.description.unwrap_or_else(|| {
            format!(
                "Trust {} as a credential of {}",
                mi_name.as_deref().unwrap_or(&subject),
                app_for_description
            )
        });

        let mut consent: Vec<ConsentStep> = Vec::new();
        for t in &self.consent_tenants {
            let tenant = TenantId::new(t).map_err(|e| refield(e, "consent tenant"))?;
            if consent.iter().any(|c| c.tenant == tenant) {
                continue;
            }
            let url = app_client_id.as_ref().map(|c| {
                format!(
                    "{}/{}/adminconsent?client_id={}",
                    cloud.authority_host(),
                    tenant,
                    c
                )
            });
            let sp_create = app_client_id
                .as_ref()
                .map(|c| format!("az ad sp create --id {c}"));
            consent.push(ConsentStep {
                tenant,
                url,
                sp_create,
            });
        }

        let mut plan = SetupPlan {
            name,
            issuer,
            subject,
            audiences,
            description,
            app: AppIds {
                client_id: app_client_id,
                object_id: app_object_id,
            },
            cloud,
            mi: MiFacts {
                tenant,
                object_id: String::new(),
                name: mi_name,
                system_assigned,
            },
            consent,
            warnings: Vec::new(),
            suggested_name: None,
            from_token,
        };
        plan.mi.object_id = plan.subject.clone();
        let (found, suggestion) = warnings::check(&plan, composed_issuer, name_given);
        plan.warnings = found;
        plan.suggested_name = suggestion;
        Ok(plan)
    }
}

/// The known cloud whose authority host issued `iss`, if any.
fn cloud_of_issuer(iss: &str) -> Option<Cloud> {
    let url = url::Url::parse(iss.trim()).ok()?;
    let origin = format!("{}://{}", url.scheme(), url.host_str()?);
    match Cloud::from_authority_host(&origin).ok()? {
        c @ (Cloud::Public | Cloud::UsGov | Cloud::China) => Some(c),
        _ => None,
    }
}

/// Re-label an id type's error with the builder field it came from (`object id` → `mi object id`).
fn refield(e: Error, field: &'static str) -> Error {
    match e {
        Error::InvalidInput { problem, .. } => Error::InvalidInput { field, problem },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const A: &str = "aaaaaaaa-0000-4000-8000-00000000000a";
    const MI: &str = "5f5f5f5f-0000-4000-8000-000000000005";
    const APP: &str = "c0c0c0c0-0000-4000-8000-00000000c0c0";
    const APP_OBJ: &str = "0b0b0b0b-0000-4000-8000-00000000000b";

    fn base() -> SetupPlanBuilder {
        SetupPlan::builder()
            .mi_tenant(A)
            .mi_object_id(MI)
            .app_client_id(APP)
    }

    fn token(claims: serde_json::Value) -> JwtView {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwt = format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            e.encode(claims.to_string())
        );
        crate::jwt::decode_unverified(&jwt).unwrap()
    }

    fn field(e: Error) -> &'static str {
        match e {
            Error::InvalidInput { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn codes(p: &SetupPlan) -> Vec<&'static str> {
        p.warnings().iter().map(|w| w.code.as_str()).collect()
    }

    #[test]
    fn defaults_from_ids() {
        let p = base().build().unwrap();
        assert_eq!(
            p.issuer(),
            format!("https://login.microsoftonline.com/{A}/v2.0")
        );
        assert_eq!(p.subject(), MI);
        assert_eq!(p.audiences(), ["api://AzureADTokenExchange"]);
        assert_eq!(p.name(), "ficx-5f5f5f5f");
        assert_eq!(
            p.description(),
            format!("Trust {MI} as a credential of {APP}")
        );
        assert_eq!(codes(&p), ["fic-limit"]);
        assert!(p.suggested_name().is_none());
        assert!(!p.mi_system_assigned());
    }

    #[test]
    fn ids_are_normalised_and_named_fields_refuse_bad_input() {
        let p = base()
            .mi_object_id(&MI.to_uppercase())
            .mi_name("orders-api")
            .build()
            .unwrap();
        assert_eq!(
            p.subject(),
            MI,
            "object ids are stored lower-case, as Entra emits them"
        );
        assert_eq!(p.name(), "ficx-orders-api");
        assert_eq!(
            p.description(),
            format!("Trust orders-api as a credential of {APP}")
        );

        assert_eq!(
            field(
                SetupPlan::builder()
                    .mi_tenant(A)
                    .mi_object_id(MI)
                    .build()
                    .unwrap_err()
            ),
            "app"
        );
        assert_eq!(
            field(base().app_client_id("nope").build().unwrap_err()),
            "app client id"
        );
        assert_eq!(
            field(base().app_object_id("nope").build().unwrap_err()),
            "app object id"
        );
        assert_eq!(
            field(base().mi_object_id("my-mi").build().unwrap_err()),
            "mi object id"
        );
        assert_eq!(
            field(base().mi_tenant("common").build().unwrap_err()),
            "mi tenant"
        );
        assert_eq!(
            field(base().consent_tenant("a b").build().unwrap_err()),
            "consent tenant"
        );
        let no_tenant = SetupPlan::builder().mi_object_id(MI).app_client_id(APP);
        assert_eq!(field(no_tenant.build().unwrap_err()), "mi tenant");
        let no_subject = SetupPlan::builder().mi_tenant(A).app_client_id(APP);
        assert_eq!(field(no_subject.build().unwrap_err()), "mi object id");
    }

    #[test]
    fn issuer_and_audience_errors() {
        assert_eq!(field(base().issuer("").build().unwrap_err()), "issuer");
        assert_eq!(field(base().issuer("  ").build().unwrap_err()), "issuer");
        assert_eq!(field(base().audience("").build().unwrap_err()), "audience");
        assert_eq!(
            field(base().audiences(Vec::<String>::new()).build().unwrap_err()),
            "audience"
        );
        let e = base().audiences(["a", "b"]).build().unwrap_err();
        assert!(e.to_string().contains("has 2 values"), "{e}");
        let t = token(
            serde_json::json!({"tid": A, "sub": MI, "iss": "https://login.microsoftonline.com/x/v2.0", "aud": ["a", "b"]}),
        );
        let e = SetupPlan::builder()
            .app_client_id(APP)
            .mi_token(&t)
            .build()
            .unwrap_err();
        assert_eq!(field(e), "audience");
    }

    #[test]
    fn from_a_user_assigned_token() {
        let iss = format!("https://login.microsoftonline.us/{A}/v2.0");
        let sub = MI.to_uppercase(); // kept byte for byte
        let t = token(serde_json::json!({
            "iss": iss, "sub": sub, "oid": MI, "tid": A, "aud": "api://AzureADTokenExchangeUSGov",
            "xms_mirid": "/subscriptions/11111111-0000-4000-8000-000000000001/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders-api"
        }));
        let p = SetupPlan::builder()
            .mi_token(&t)
            .app_object_id(APP_OBJ)
            .build()
            .unwrap();
        assert_eq!(p.issuer(), iss);
        assert_eq!(p.subject(), sub);
        assert_eq!(p.mi_object_id(), sub);
        assert_eq!(
            p.cloud(),
            &Cloud::UsGov,
            "the cloud follows the token's issuer"
        );
        assert_eq!(p.audience(), "api://AzureADTokenExchangeUSGov");
        assert_eq!(p.mi_name(), Some("orders-api"));
        assert_eq!(p.name(), "ficx-orders-api");
        assert!(!p.mi_system_assigned());
        assert_eq!(codes(&p), ["fic-limit"]);

        // Explicit values win over the token's, whatever the call order.
        let p = SetupPlan::builder()
            .name("mine")
            .mi_token(&t)
            .app_object_id(APP_OBJ)
            .cloud(Cloud::Public)
            .build()
            .unwrap();
        assert_eq!(p.name(), "mine");
        assert_eq!(
            codes(&p),
            [
                "issuer-cloud-mismatch",
                "audience-cloud-mismatch",
                "fic-limit"
            ]
        );
    }

    #[test]
    fn from_a_system_assigned_token_and_oid_fallback() {
        let t = token(serde_json::json!({
            "iss": format!("https://login.microsoftonline.com/{A}/v2.0"), "oid": MI, "tid": A,
            "aud": ["api://AzureADTokenExchange"],
            "xms_mirid": "/subscriptions/11111111-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        }));
        let p = SetupPlan::builder()
            .mi_token(&t)
            .app_client_id(APP)
            .build()
            .unwrap();
        assert_eq!(p.subject(), MI, "oid stands in for a missing sub");
        assert!(p.mi_system_assigned());
        assert_eq!(p.mi_name(), None);
        assert_eq!(codes(&p), ["system-assigned", "fic-limit"]);

        let bad = token(
            serde_json::json!({"tid": A, "sub": "not-a-guid", "iss": "https://login.microsoftonline.com/x/v2.0", "aud": "api://AzureADTokenExchange"}),
        );
        let e = SetupPlan::builder()
            .mi_token(&bad)
            .app_client_id(APP)
            .build()
            .unwrap_err();
        assert_eq!(field(e), "subject");
    }

    #[test]
    fn uami_names() {
        assert_eq!(
            uami_name(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-1"
            ),
            Some("id-1")
        );
        assert_eq!(
            uami_name(
                "/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/x/"
            ),
            Some("x")
        );
        assert_eq!(
            uami_name("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app"),
            None
        );
        assert_eq!(uami_name(""), None);
    }

    #[test]
    fn consent_steps_need_the_client_id() {
        let p = base()
            .consent_tenants([A, "contoso.onmicrosoft.com", A])
            .build()
            .unwrap();
        assert_eq!(p.consent_urls().len(), 2, "duplicates are dropped");
        let c = &p.consent_urls()[1];
        assert_eq!(
            c.url.as_deref(),
            Some(format!("https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id={APP}").as_str())
        );
        assert_eq!(
            c.sp_create.as_deref(),
            Some(format!("az ad sp create --id {APP}").as_str())
        );
        assert_eq!(c.az_login(), "az login --tenant contoso.onmicrosoft.com");

        let p = SetupPlan::builder()
            .cloud(Cloud::China)
            .mi_tenant(A)
            .mi_object_id(MI)
            .app_object_id(APP_OBJ)
            .consent_tenant(A)
            .build()
            .unwrap();
        assert_eq!(p.consent_urls()[0].url, None);
        assert_eq!(p.consent_urls()[0].sp_create, None);
        assert!(p.has_warning(SetupWarningCode::ConsentNeedsClientId));

        let p = base()
            .cloud(Cloud::China)
            .consent_tenant(A)
            .build()
            .unwrap();
        assert!(
            p.consent_urls()[0]
                .url
                .as_deref()
                .unwrap()
                .starts_with("https://login.partner.microsoftonline.cn/")
        );
        let custom = Cloud::Custom {
            authority_host: "https://127.0.0.1:8443".into(),
            audience: "api://x".into(),
        };
        let p = base().cloud(custom).consent_tenant(A).build().unwrap();
        assert!(
            p.consent_urls()[0]
                .url
                .as_deref()
                .unwrap()
                .starts_with("https://127.0.0.1:8443/")
        );
        assert_eq!(p.issuer(), format!("https://127.0.0.1:8443/{A}/v2.0"));
        assert_eq!(codes(&p), ["fic-limit"]);
    }

    #[test]
    fn formats_parse_and_print() {
        for f in SetupFormat::ALL {
            assert_eq!(f.name().parse::<SetupFormat>().unwrap(), f);
            assert_eq!(
                f.to_string().to_uppercase().parse::<SetupFormat>().unwrap(),
                f
            );
        }
        assert_eq!(
            "pwsh".parse::<SetupFormat>().unwrap(),
            SetupFormat::PowerShell
        );
        assert_eq!("tf".parse::<SetupFormat>().unwrap(), SetupFormat::Terraform);
        let e = "yaml".parse::<SetupFormat>().unwrap_err();
        assert!(
            e.to_string()
                .contains("text, json, az, graph, bicep, terraform, powershell"),
            "{e}"
        );
    }

    #[test]
    fn every_format_ends_with_one_newline() {
        let custom = Cloud::Custom {
            authority_host: "https://127.0.0.1:8443".into(),
            audience: "api://x".into(),
        };
        for cloud in [Cloud::Public, Cloud::UsGov, Cloud::China, custom] {
            let p = base().cloud(cloud).consent_tenant(A).build().unwrap();
            for f in SetupFormat::ALL {
                let out = p.render(f);
                assert!(
                    out.ends_with('\n') && !out.ends_with("\n\n"),
                    "{f}: {out:?}"
                );
                assert!(out.contains(p.subject()), "{f}");
            }
        }
    }
}
