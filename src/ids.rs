//! Identifier newtypes, each validated when built, so a `ClientId` can never stand where a
//! `TenantId` belongs and bad input fails before any network call with an error naming the field.
//!
//! GUIDs are stored lower-case (Entra compares them case-insensitively except where noted in
//! protocol.md: the FIC `subject` is compared byte-for-byte, and Entra emits lower-case GUIDs).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, quote};

/// Longest identifier accepted anywhere (a verified domain is at most 253 characters).
///
/// ```
/// use ficx::{TenantId, ids::MAX_ID_LEN};
/// let long = format!("{}.example.com", "a".repeat(MAX_ID_LEN));
/// assert!(TenantId::new(&long).is_err());
/// ```
pub const MAX_ID_LEN: usize = 256;

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn check_guid(field: &'static str, value: &str) -> Result<String, Error> {
    let v = value.trim();
    if is_guid(v) {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(Error::InvalidInput {
            field,
            problem: format!(
                "{} is not a GUID; expected the form 00000000-0000-0000-0000-000000000000",
                quote(value)
            ),
        })
    }
}

macro_rules! guid_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parse and validate.
            ///
            /// ```
            #[doc = concat!("use ficx::", stringify!($name), ";")]
            #[doc = concat!("assert!(", stringify!($name), "::new(\"c0c0c0c0-0000-4000-8000-00000000c0c0\").is_ok());")]
            #[doc = concat!("let err = ", stringify!($name), "::new(\"orders-app\").unwrap_err();")]
            #[doc = concat!("assert!(err.to_string().contains(\"", $field, "\"));")]
            /// ```
            ///
            /// # Errors
            /// [`Error::InvalidInput`] naming the field when `value` is not a GUID.
            pub fn new(value: &str) -> Result<Self, Error> {
                check_guid($field, value).map(Self)
            }

            /// The lower-case GUID.
            ///
            /// ```
            #[doc = concat!("let id = ficx::", stringify!($name), "::new(\"C0C0C0C0-0000-4000-8000-00000000C0C0\")?;")]
            /// assert_eq!(id.as_str(), "c0c0c0c0-0000-4000-8000-00000000c0c0");
            /// # Ok::<(), ficx::Error>(())
            /// ```
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

guid_type!(
    /// An application (client) id: the multi-tenant app's `client_id`, or a managed identity's
    /// client id (the selector sent to the MI endpoint).
    ///
    /// ```
    /// use ficx::ClientId;
    /// let app: ClientId = "C0C0C0C0-0000-4000-8000-00000000C0C0".parse()?;
    /// assert_eq!(app.to_string(), "c0c0c0c0-0000-4000-8000-00000000c0c0");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ClientId,
    "client id"
);
guid_type!(
    /// A directory object id: a managed identity's object (principal) id, which is the FIC
    /// `subject`, or an app registration's object id (how Graph addresses it).
    ///
    /// ```
    /// use ficx::ObjectId;
    /// let subject = ObjectId::new("B2B2B2B2-0000-4000-8000-000000000002")?; // the FIC subject
    /// assert_eq!(subject.as_str(), "b2b2b2b2-0000-4000-8000-000000000002");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ObjectId,
    "object id"
);

/// A tenant: its GUID or one of its verified domain names (`contoso.onmicrosoft.com`).
///
/// Refused: the multi-tenant aliases `common`, `organizations`, `consumers` (client credentials
/// need one tenant), and anything with `/ ? # %`, whitespace or control characters, or longer than
/// [`MAX_ID_LEN`], since the tenant becomes a URL path segment.
///
/// ```
/// use ficx::TenantId;
/// assert_eq!(TenantId::new("Contoso.OnMicrosoft.com")?.as_str(), "contoso.onmicrosoft.com");
/// assert!(TenantId::new("contoso/../x").is_err());
/// assert!(TenantId::new("common").is_err());
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Parse and validate.
    ///
    /// ```
    /// use ficx::TenantId;
    /// assert_eq!(TenantId::new("72F988BF-86F1-41AF-91AB-2D7CD011DB47")?.as_str(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
    /// assert!(TenantId::new("organizations").is_err()); // client credentials need one tenant
    /// assert!(TenantId::new("contoso").is_err()); // not a domain name
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] with field `tenant` when `value` is neither a GUID nor a domain name.
    pub fn new(value: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::InvalidInput {
            field: "tenant",
            problem: format!(
                "{} {why}; expected a tenant GUID or a verified domain such as contoso.onmicrosoft.com",
                quote(value)
            ),
        };
        if value.is_empty() {
            return Err(bad("is empty"));
        }
        if value.len() > MAX_ID_LEN {
            return Err(bad("is too long"));
        }
        if is_guid(value) {
            return Ok(Self(value.to_ascii_lowercase()));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
        {
            let what = match c {
                c if c.is_whitespace() => "contains whitespace".to_string(),
                c if c.is_control() => "contains a control character".to_string(),
                c => format!("contains {c:?}"),
            };
            return Err(bad(&what));
        }
        let lower = value.to_ascii_lowercase();
        if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
            return Err(Error::InvalidInput {
                field: "tenant",
                problem: format!(
                    "{} is a multi-tenant alias; the exchange needs the target tenant's GUID or domain",
                    quote(value)
                ),
            });
        }
        let labels_ok = lower
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'));
        if !lower.contains('.') || !labels_ok {
            return Err(bad("is not a domain name"));
        }
        Ok(Self(lower))
    }

    /// The tenant as it goes into URLs (lower-case).
    ///
    /// ```
    /// let tenant = ficx::TenantId::new("Contoso.OnMicrosoft.com")?;
    /// assert_eq!(tenant.as_str(), "contoso.onmicrosoft.com");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when this is a GUID rather than a domain name.
    ///
    /// ```
    /// use ficx::TenantId;
    /// assert!(TenantId::new("72F988BF-86F1-41AF-91AB-2D7CD011DB47")?.is_guid());
    /// assert!(!TenantId::new("contoso.onmicrosoft.com")?.is_guid());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn is_guid(&self) -> bool {
        is_guid(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({})", self.0)
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An ARM resource id of a user-assigned managed identity:
/// `/subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`.
///
/// ```
/// use ficx::ArmResourceId;
/// let id = ArmResourceId::new(
///     "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg\
///      /providers/Microsoft.ManagedIdentity/userAssignedIdentities/fic-uami",
/// )?;
/// assert_eq!(id.name(), "fic-uami");
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ArmResourceId(String);

impl ArmResourceId {
    /// Parse and validate (segment names are compared case-insensitively, as ARM does).
    ///
    /// ```
    /// use ficx::ArmResourceId;
    /// let ok = "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg\
    ///           /providers/microsoft.managedidentity/userAssignedIdentities/fic-uami";
    /// assert!(ArmResourceId::new(ok).is_ok()); // segment names in any case
    /// assert!(ArmResourceId::new("/subscriptions/x/resourceGroups/rg").is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] with field `mi resource id` when the shape is wrong.
    pub fn new(value: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidInput {
            field: "mi resource id",
            problem: format!(
                "{} is not a user-assigned identity resource id; expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
                quote(value)
            ),
        };
        if value.len() > 1024 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let parts: Vec<&str> = value.split('/').collect();
        let ok = parts.len() == 9
            && parts[0].is_empty()
            && parts[1].eq_ignore_ascii_case("subscriptions")
            && is_guid(parts[2])
            && parts[3].eq_ignore_ascii_case("resourcegroups")
            && !parts[4].is_empty()
            && parts[5].eq_ignore_ascii_case("providers")
            && parts[6].eq_ignore_ascii_case("microsoft.managedidentity")
            && parts[7].eq_ignore_ascii_case("userassignedidentities")
            && !parts[8].is_empty()
            && parts[4..]
                .iter()
                .all(|p| !p.contains(['?', '#', '%', '&', '=']));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(bad())
        }
    }

    /// The resource id as given.
    ///
    /// ```
    /// let raw = "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/RG\
    ///            /providers/Microsoft.ManagedIdentity/userAssignedIdentities/fic-uami";
    /// assert_eq!(ficx::ArmResourceId::new(raw)?.as_str(), raw); // kept as given
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The identity's name (last segment).
    ///
    /// ```
    /// let id = ficx::ArmResourceId::new(
    ///     "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg\
    ///      /providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders-uami",
    /// )?;
    /// assert_eq!(id.name(), "orders-uami");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }
}

impl FromStr for ArmResourceId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl fmt::Display for ArmResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ArmResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ArmResourceId({})", self.0)
    }
}

/// Which managed identity to ask the MI endpoint for.
///
/// The documented FIC flow needs a **user-assigned** identity; system-assigned is accepted (some
/// setups work) but `ficx` warns about it.
///
/// ```
/// use ficx::ManagedIdentity;
/// let by_client = ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?;
/// assert_eq!(by_client.kind(), "client_id");
/// let err = ManagedIdentity::object_id("not-a-guid").unwrap_err();
/// assert!(err.to_string().starts_with("invalid mi object id"));
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ManagedIdentity {
    /// The compute's system-assigned identity (no selector sent).
    #[default]
    SystemAssigned,
    /// A user-assigned identity by its client id.
    ClientId(ClientId),
    /// A user-assigned identity by its object (principal) id.
    ObjectId(ObjectId),
    /// A user-assigned identity by its ARM resource id.
    ResourceId(ArmResourceId),
}

impl ManagedIdentity {
    /// A user-assigned identity by client id.
    ///
    /// ```
    /// use ficx::ManagedIdentity;
    /// let mi = ManagedIdentity::client_id("A1A1A1A1-0000-4000-8000-000000000001")?;
    /// assert_eq!(mi.value(), Some("a1a1a1a1-0000-4000-8000-000000000001")); // lower-cased
    /// assert!(ManagedIdentity::client_id("fic-uami").is_err());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (field `mi client id`) when not a GUID.
    pub fn client_id(value: &str) -> Result<Self, Error> {
        check_guid("mi client id", value).map(|v| Self::ClientId(ClientId(v)))
    }

    /// A user-assigned identity by object (principal) id.
    ///
    /// ```
    /// use ficx::ManagedIdentity;
    /// let mi = ManagedIdentity::object_id("b2b2b2b2-0000-4000-8000-000000000002")?;
    /// assert_eq!(mi.kind(), "object_id");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (field `mi object id`) when not a GUID.
    pub fn object_id(value: &str) -> Result<Self, Error> {
        check_guid("mi object id", value).map(|v| Self::ObjectId(ObjectId(v)))
    }

    /// A user-assigned identity by ARM resource id.
    ///
    /// ```
    /// use ficx::ManagedIdentity;
    /// let mi = ManagedIdentity::resource_id(
    ///     "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg\
    ///      /providers/Microsoft.ManagedIdentity/userAssignedIdentities/fic-uami",
    /// )?;
    /// assert_eq!(mi.kind(), "resource_id");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (field `mi resource id`) when the shape is wrong.
    pub fn resource_id(value: &str) -> Result<Self, Error> {
        ArmResourceId::new(value).map(Self::ResourceId)
    }

    /// True for [`ManagedIdentity::SystemAssigned`].
    ///
    /// ```
    /// use ficx::ManagedIdentity;
    /// assert!(ManagedIdentity::default().is_system_assigned());
    /// assert!(!ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?.is_system_assigned());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn is_system_assigned(&self) -> bool {
        matches!(self, Self::SystemAssigned)
    }

    /// The selector kind as a short name: `system`, `client_id`, `object_id`, `resource_id`.
    ///
    /// ```
    /// use ficx::ManagedIdentity;
    /// assert_eq!(ManagedIdentity::SystemAssigned.kind(), "system");
    /// assert_eq!(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?.kind(), "client_id");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SystemAssigned => "system",
            Self::ClientId(_) => "client_id",
            Self::ObjectId(_) => "object_id",
            Self::ResourceId(_) => "resource_id",
        }
    }

    /// The selector value, if user-assigned.
    ///
    /// ```
    /// use ficx::ManagedIdentity;
    /// assert_eq!(ManagedIdentity::SystemAssigned.value(), None);
    /// let mi = ManagedIdentity::object_id("b2b2b2b2-0000-4000-8000-000000000002")?;
    /// assert_eq!(mi.value(), Some("b2b2b2b2-0000-4000-8000-000000000002"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn value(&self) -> Option<&str> {
        match self {
            Self::SystemAssigned => None,
            Self::ClientId(v) => Some(v.as_str()),
            Self::ObjectId(v) => Some(v.as_str()),
            Self::ResourceId(v) => Some(v.as_str()),
        }
    }
}

impl fmt::Display for ManagedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SystemAssigned => f.write_str("system-assigned"),
            Self::ClientId(v) => write!(f, "user-assigned client id {v}"),
            Self::ObjectId(v) => write!(f, "user-assigned object id {v}"),
            Self::ResourceId(v) => write!(f, "user-assigned resource id {v}"),
        }
    }
}

/// Public cloud authority host.
///
/// ```
/// use ficx::{Cloud, ids::PUBLIC_AUTHORITY_HOST};
/// assert_eq!(Cloud::Public.authority_host(), PUBLIC_AUTHORITY_HOST);
/// ```
pub const PUBLIC_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// US Government authority host.
///
/// ```
/// use ficx::{Cloud, ids::USGOV_AUTHORITY_HOST};
/// assert_eq!(Cloud::from_authority_host(USGOV_AUTHORITY_HOST)?, Cloud::UsGov);
/// # Ok::<(), ficx::Error>(())
/// ```
pub const USGOV_AUTHORITY_HOST: &str = "https://login.microsoftonline.us";
/// China (21Vianet) authority host (the one the China FIC page and MSAL use).
///
/// ```
/// use ficx::{Cloud, ids::CHINA_AUTHORITY_HOST};
/// assert_eq!(Cloud::from_authority_host(CHINA_AUTHORITY_HOST)?, Cloud::China);
/// # Ok::<(), ficx::Error>(())
/// ```
pub const CHINA_AUTHORITY_HOST: &str = "https://login.partner.microsoftonline.cn";
/// Public cloud token-exchange audience.
///
/// ```
/// use ficx::{Cloud, ids::PUBLIC_EXCHANGE_AUDIENCE};
/// assert_eq!(Cloud::Public.exchange_audience(), PUBLIC_EXCHANGE_AUDIENCE);
/// ```
pub const PUBLIC_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// US Government token-exchange audience.
///
/// ```
/// use ficx::{Cloud, ids::USGOV_EXCHANGE_AUDIENCE};
/// assert_eq!(Cloud::UsGov.exchange_audience(), USGOV_EXCHANGE_AUDIENCE);
/// ```
pub const USGOV_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchangeUSGov";
/// China token-exchange audience.
///
/// ```
/// use ficx::{Cloud, ids::CHINA_EXCHANGE_AUDIENCE};
/// assert_eq!(Cloud::China.exchange_audience(), CHINA_EXCHANGE_AUDIENCE);
/// ```
pub const CHINA_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchangeChina";

/// The Azure cloud: where the token endpoint lives and which exchange audience the MI token
/// must carry. The MI leg, the exchange leg and the FIC audience must all be in one cloud.
///
/// ```
/// use ficx::Cloud;
/// let gov = Cloud::from_name("usgov")?;
/// assert_eq!(gov.authority_host(), "https://login.microsoftonline.us");
/// assert_eq!(gov.exchange_audience(), "api://AzureADTokenExchangeUSGov");
/// assert_eq!(gov.issuer_for("tenant-a"), "https://login.microsoftonline.us/tenant-a/v2.0");
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Cloud {
    /// Azure public cloud.
    #[default]
    Public,
    /// Azure US Government.
    UsGov,
    /// Azure China (21Vianet).
    China,
    /// Anything else (an emulator, a sovereign cloud): authority host and exchange audience.
    Custom {
        /// Base URL of the authority, e.g. `https://127.0.0.1:8443`.
        authority_host: String,
        /// The token-exchange audience.
        audience: String,
    },
}

impl Cloud {
    /// Parse `public`, `usgov` (or `us-gov`, `usgovernment`), `china`.
    ///
    /// ```
    /// use ficx::Cloud;
    /// assert_eq!(Cloud::from_name("AzureUSGovernment")?, Cloud::UsGov);
    /// assert!(Cloud::from_name("mars").is_err());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] with field `cloud` for anything else.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name.trim().to_ascii_lowercase().as_str() {
            "public" | "azurecloud" | "azurepubliccloud" => Ok(Cloud::Public),
            "usgov" | "us-gov" | "usgovernment" | "azureusgovernment" => Ok(Cloud::UsGov),
            "china" | "azurechinacloud" => Ok(Cloud::China),
            _ => Err(Error::InvalidInput {
                field: "cloud",
                problem: format!(
                    "{} is not a known cloud; expected public, usgov or china",
                    quote(name)
                ),
            }),
        }
    }

    /// Work out the cloud from an authority host (as found in `AZURE_AUTHORITY_HOST`): a known
    /// host maps to its cloud, anything else becomes [`Cloud::Custom`] with the public audience.
    ///
    /// ```
    /// use ficx::Cloud;
    /// assert_eq!(Cloud::from_authority_host("https://login.microsoftonline.us/")?, Cloud::UsGov);
    /// let emu = Cloud::from_authority_host("https://127.0.0.1:8443")?;
    /// assert_eq!((emu.name(), emu.exchange_audience()), ("custom", "api://AzureADTokenExchange"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the host is not a valid authority URL (see [`check_authority`]).
    pub fn from_authority_host(host: &str) -> Result<Self, Error> {
        let normalized = check_authority(host)?;
        let bare = normalized.trim_end_matches('/');
        Ok(match bare {
            PUBLIC_AUTHORITY_HOST => Cloud::Public,
            USGOV_AUTHORITY_HOST => Cloud::UsGov,
            CHINA_AUTHORITY_HOST | "https://login.chinacloudapi.cn" => Cloud::China,
            _ => Cloud::Custom {
                authority_host: bare.to_owned(),
                audience: PUBLIC_EXCHANGE_AUDIENCE.to_owned(),
            },
        })
    }

    /// The cloud by precedence: `explicit`, then an explicit authority host (a custom cloud with
    /// `explicit`'s audience when the host is not a known one), then `AZURE_AUTHORITY_HOST` from
    /// `env`, then public (protocol.md §3.2).
    ///
    /// ```
    /// use ficx::{Cloud, Env};
    /// let env = Env::from_vars([("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us")]);
    /// assert_eq!(Cloud::resolve(None, None, &env)?, Cloud::UsGov);
    /// assert_eq!(Cloud::resolve(Some(Cloud::China), None, &env)?, Cloud::China); // explicit wins
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed authority host.
    pub fn resolve(
        explicit: Option<Cloud>,
        authority_host: Option<&str>,
        env: &crate::env::Env,
    ) -> Result<Cloud, Error> {
        let base = match (explicit, env.var("AZURE_AUTHORITY_HOST")) {
            (Some(c), _) => c,
            (None, Some(host)) if authority_host.is_none() => Cloud::from_authority_host(&host)?,
            (None, _) => Cloud::Public,
        };
        match authority_host {
            None => Ok(base),
            Some(host) => {
                let host = check_authority(host)?;
                if host == base.authority_host() {
                    Ok(base)
                } else if let Ok(known @ (Cloud::Public | Cloud::UsGov | Cloud::China)) =
                    Cloud::from_authority_host(&host)
                {
                    Ok(known)
                } else {
                    Ok(Cloud::Custom {
                        audience: base.exchange_audience().to_owned(),
                        authority_host: host,
                    })
                }
            }
        }
    }

    /// The authority host, without a trailing slash.
    ///
    /// ```
    /// use ficx::Cloud;
    /// assert_eq!(Cloud::China.authority_host(), "https://login.partner.microsoftonline.cn");
    /// assert_eq!(Cloud::from_authority_host("https://127.0.0.1:8443/")?.authority_host(), "https://127.0.0.1:8443");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn authority_host(&self) -> &str {
        match self {
            Cloud::Public => PUBLIC_AUTHORITY_HOST,
            Cloud::UsGov => USGOV_AUTHORITY_HOST,
            Cloud::China => CHINA_AUTHORITY_HOST,
            Cloud::Custom { authority_host, .. } => authority_host,
        }
    }

    /// The token-exchange audience the MI token must be requested for and the FIC must list.
    ///
    /// ```
    /// assert_eq!(ficx::Cloud::Public.exchange_audience(), "api://AzureADTokenExchange");
    /// ```
    pub fn exchange_audience(&self) -> &str {
        match self {
            Cloud::Public => PUBLIC_EXCHANGE_AUDIENCE,
            Cloud::UsGov => USGOV_EXCHANGE_AUDIENCE,
            Cloud::China => CHINA_EXCHANGE_AUDIENCE,
            Cloud::Custom { audience, .. } => audience,
        }
    }

    /// A short name: `public`, `usgov`, `china`, `custom`.
    ///
    /// ```
    /// use ficx::Cloud;
    /// assert_eq!(Cloud::default().name(), "public");
    /// assert_eq!(Cloud::from_name("us-gov")?.name(), "usgov");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::UsGov => "usgov",
            Cloud::China => "china",
            Cloud::Custom { .. } => "custom",
        }
    }

    /// The FIC issuer for managed identities of `tenant` in this cloud:
    /// `https://<authority-host>/<tenant>/v2.0`.
    ///
    /// ```
    /// let tenant_a = "11111111-0000-4000-8000-000000000001";
    /// assert_eq!(
    ///     ficx::Cloud::Public.issuer_for(tenant_a),
    ///     "https://login.microsoftonline.com/11111111-0000-4000-8000-000000000001/v2.0"
    /// );
    /// ```
    pub fn issuer_for(&self, tenant: &str) -> String {
        format!("{}/{}/v2.0", self.authority_host(), tenant)
    }
}

/// Validate an authority URL: `https://host[:port][/]`, or plain `http://` only on a loopback
/// address. Returns it without a trailing slash.
///
/// ```
/// use ficx::ids::check_authority;
/// assert_eq!(check_authority("https://login.microsoftonline.com/")?, "https://login.microsoftonline.com");
/// assert!(check_authority("http://127.0.0.1:8080").is_ok()); // plain http on loopback only
/// assert!(check_authority("http://login.example.com").is_err());
/// assert!(check_authority("https://login.microsoftonline.com/tenant-a").is_err());
/// # Ok::<(), ficx::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] with field `authority host`.
pub fn check_authority(value: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::InvalidInput {
        field: "authority host",
        problem: format!("{} {why}", quote(value)),
    };
    let url = url::Url::parse(value.trim()).map_err(|_| {
        bad("is not a URL; expected https://<host>, e.g. https://login.microsoftonline.com")
    })?;
    let host = url.host_str().ok_or_else(|| bad("has no host"))?;
    if url.path() != "/" && !url.path().is_empty() {
        return Err(bad(
            "must be a bare host without a path (the tenant is added per request)",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad("must not carry a query, fragment or credentials"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(bad(
                "uses plain http off loopback; only https is allowed (plain http only for 127.0.0.1/localhost)",
            ));
        }
        _ => return Err(bad("must use https")),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// True for `localhost`, `127.0.0.0/8` and `[::1]`.
///
/// ```
/// use ficx::ids::is_loopback_host;
/// assert!(is_loopback_host("localhost") && is_loopback_host("127.0.0.2") && is_loopback_host("[::1]"));
/// assert!(!is_loopback_host("169.254.169.254"));
/// ```
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

// Hash/Eq of `TenantId` are those of its (lower-case) text, so maps keyed by it can be searched
// by `&str`.
impl std::borrow::Borrow<str> for TenantId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_checked_and_lowercased() {
        let id = ClientId::new("AAAAAAAA-bbbb-cccc-dddd-eeeeeeeeeeee").unwrap();
        assert_eq!(id.as_str(), "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
        let e = ClientId::new("not-a-guid").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid client id: \"not-a-guid\""),
            "{e}"
        );
        assert!(ObjectId::new("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeee").is_err());
        assert!(ObjectId::new("aaaaaaaa+bbbb-cccc-dddd-eeeeeeeeeeee").is_err());
        let e = ManagedIdentity::client_id("x").unwrap_err();
        assert!(e.to_string().starts_with("invalid mi client id"), "{e}");
    }

    #[test]
    fn tenants() {
        assert!(TenantId::new("contoso.onmicrosoft.com").is_ok());
        assert_eq!(
            TenantId::new("Contoso.COM").unwrap().as_str(),
            "contoso.com"
        );
        assert!(
            TenantId::new("11111111-2222-3333-4444-555555555555")
                .unwrap()
                .is_guid()
        );
        for bad in [
            "",
            "a/b.com",
            "a?b.com",
            "a#b.com",
            "a%2f.com",
            "a b.com",
            "a\nb.com",
            "common",
            "Organizations",
            "nodot",
            "-a.com",
            "a..com",
        ] {
            let e = TenantId::new(bad).unwrap_err();
            assert!(e.to_string().starts_with("invalid tenant"), "{bad}: {e}");
        }
        assert!(TenantId::new(&format!("{}.com", "a".repeat(300))).is_err());
    }

    #[test]
    fn resource_ids() {
        let ok = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-1";
        assert_eq!(ArmResourceId::new(ok).unwrap().name(), "uami-1");
        assert!(ArmResourceId::new(&ok.to_lowercase()).is_ok());
        assert!(ArmResourceId::new("/subscriptions/x/resourceGroups/rg").is_err());
        assert!(
            ArmResourceId::new(&ok.replace("Microsoft.ManagedIdentity", "Microsoft.Web")).is_err()
        );
    }

    #[test]
    fn clouds() {
        assert_eq!(Cloud::from_name("USGov").unwrap(), Cloud::UsGov);
        assert!(
            Cloud::from_name("mars")
                .unwrap_err()
                .to_string()
                .contains("public, usgov or china")
        );
        assert_eq!(
            Cloud::China.exchange_audience(),
            "api://AzureADTokenExchangeChina"
        );
        assert_eq!(
            Cloud::from_authority_host("https://login.microsoftonline.us/").unwrap(),
            Cloud::UsGov
        );
        assert_eq!(
            Cloud::Public.issuer_for("t"),
            "https://login.microsoftonline.com/t/v2.0"
        );
        let custom = Cloud::from_authority_host("http://127.0.0.1:8080").unwrap();
        assert_eq!(custom.authority_host(), "http://127.0.0.1:8080");
    }

    #[test]
    fn authority_rules() {
        assert!(check_authority("http://localhost:1234").is_ok());
        assert!(check_authority("http://[::1]:1234/").is_ok());
        let e = check_authority("http://login.example.com").unwrap_err();
        assert!(e.to_string().contains("plain http off loopback"), "{e}");
        assert!(check_authority("https://h/tenant").is_err());
        assert!(check_authority("ftp://h").is_err());
        assert!(check_authority("nonsense").is_err());
    }
}
