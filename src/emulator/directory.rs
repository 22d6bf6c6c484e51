//! The live directory: tenants, managed identities, apps and their FICs, service principals,
//! resources and role assignments, indexed for the lookups the endpoints make.
//!
//! It sits behind an [`ArcSwap`]: requests read a snapshot without locking or cloning, and the
//! rare runtime changes ([`DirectoryHandle`], the control API) copy, edit and swap it.
//! Visibility times (`visible_at`) are absolute Unix seconds on the emulator's clock.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use super::EmulatorError;
use super::config::{EmulatorConfig, FicConfig, ResourceTenants, check_fic, is_guid};
use crate::clock::{SharedClock, unix};

#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) display_name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) name: String,
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    pub(crate) object_id: String,
    pub(crate) resource_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Fic {
    pub(crate) name: String,
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) audiences: Vec<String>,
    pub(crate) visible_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) name: String,
    pub(crate) client_id: String,
    pub(crate) home_tenant: String,
    pub(crate) multi_tenant: bool,
    pub(crate) fics: Vec<Fic>,
}

#[derive(Debug, Clone)]
pub(crate) struct ServicePrincipal {
    pub(crate) app_client_id: String,
    pub(crate) tenant_id: String,
    pub(crate) object_id: String,
    pub(crate) visible_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub(crate) name: String,
    pub(crate) app_id: String,
    /// `None` = every tenant.
    pub(crate) tenants: Option<Vec<String>>,
    pub(crate) roles: Vec<String>,
    pub(crate) token_version: u8,
    pub(crate) mi_only: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct RoleAssignment {
    pub(crate) app_client_id: String,
    pub(crate) tenant_id: String,
    pub(crate) resource_app_id: String,
    pub(crate) roles: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct CloudShellUser {
    pub(crate) tenant_id: String,
    pub(crate) object_id: String,
    pub(crate) upn: String,
}

/// Indices into `Directory::identities` of what the compute has.
#[derive(Debug, Clone, Default)]
pub(crate) struct Host {
    pub(crate) system: Option<usize>,
    pub(crate) user: Vec<usize>,
    pub(crate) service_fabric: Option<usize>,
    pub(crate) azure_ml: Option<usize>,
    pub(crate) cloud_shell_user: Option<CloudShellUser>,
}

/// One snapshot of the directory.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    pub(crate) tenants: Vec<Tenant>,
    tenant_index: HashMap<String, usize>,
    pub(crate) identities: Vec<Identity>,
    identity_by_object: HashMap<String, usize>,
    pub(crate) apps: Vec<App>,
    app_by_client: HashMap<String, usize>,
    pub(crate) sps: Vec<ServicePrincipal>,
    pub(crate) resources: Vec<Resource>,
    resource_index: HashMap<String, usize>,
    pub(crate) role_assignments: Vec<RoleAssignment>,
    pub(crate) host: Host,
}

/// The lookup key of a resource identifier: lower case, one trailing `/` dropped.
pub(crate) fn resource_key(s: &str) -> String {
    s.strip_suffix('/').unwrap_or(s).to_ascii_lowercase()
}

/// A stable service principal object id for (app, tenant) when none is configured: SHA-256 of
/// both, shaped as a version-4 GUID.
pub(crate) fn derive_sp_object_id(app_client_id: &str, tenant_id: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("ficx-sp:{app_client_id}:{tenant_id}").as_bytes(),
    );
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).to_string()
}

impl Directory {
    /// Build from a validated config; `start` is the emulator's start time (Unix seconds).
    pub(crate) fn from_config(cfg: &EmulatorConfig, start: i64) -> Self {
        let mut d = Directory::default();
        for t in &cfg.tenants {
            let id = t.id.to_ascii_lowercase();
            let idx = d.tenants.len();
            d.tenant_index.insert(id.clone(), idx);
            for dom in &t.domains {
                d.tenant_index.insert(dom.to_ascii_lowercase(), idx);
            }
            let display_name = t
                .display_name
                .clone()
                .or_else(|| t.domains.first().cloned())
                .unwrap_or_else(|| id.clone());
            d.tenants.push(Tenant { id, display_name });
        }
        let tid =
            |d: &Directory, key: &str| d.tenant(key).map(|t| t.id.clone()).unwrap_or_default();
        for m in &cfg.managed_identities {
            let ident = Identity {
                name: m.name.clone(),
                tenant_id: tid(&d, &m.tenant),
                client_id: m.client_id.to_ascii_lowercase(),
                object_id: m.object_id.to_ascii_lowercase(),
                resource_id: m.resource_id.clone(),
            };
            d.identity_by_object
                .insert(ident.object_id.clone(), d.identities.len());
            d.identities.push(ident);
        }
        let by_name = |d: &Directory, n: &str| d.identities.iter().position(|i| i.name == n);
        d.host.system = cfg
            .host
            .system_assigned
            .as_deref()
            .and_then(|n| by_name(&d, n));
        d.host.user = cfg
            .host
            .user_assigned
            .iter()
            .filter_map(|n| by_name(&d, n))
            .collect();
        d.host.service_fabric = cfg
            .host
            .service_fabric_identity
            .as_deref()
            .and_then(|n| by_name(&d, n));
        d.host.azure_ml = cfg
            .host
            .azure_ml_identity
            .as_deref()
            .and_then(|n| by_name(&d, n))
            .or(d.host.system);
        d.host.cloud_shell_user = cfg.host.cloud_shell_user.as_ref().map(|u| CloudShellUser {
            tenant_id: tid(&d, &u.tenant),
            object_id: u.object_id.to_ascii_lowercase(),
            upn: u.upn.clone(),
        });
        for a in &cfg.apps {
            let app = App {
                name: a.name.clone(),
                client_id: a.client_id.to_ascii_lowercase(),
                home_tenant: tid(&d, &a.home_tenant),
                multi_tenant: a.multi_tenant,
                fics: a.fics.iter().map(|f| fic_from(f, start)).collect(),
            };
            d.app_by_client.insert(app.client_id.clone(), d.apps.len());
            d.apps.push(app);
        }
        for s in &cfg.service_principals {
            let Some(app) = d.app_by_ref(&s.app).map(|a| a.client_id.clone()) else {
                continue;
            };
            let tenant_id = tid(&d, &s.tenant);
            let object_id = s
                .object_id
                .as_deref()
                .map(str::to_ascii_lowercase)
                .unwrap_or_else(|| derive_sp_object_id(&app, &tenant_id));
            d.sps.push(ServicePrincipal {
                app_client_id: app,
                tenant_id,
                object_id,
                visible_at: start.saturating_add(s.visible_after_secs as i64),
            });
        }
        for r in &cfg.resources {
            let idx = d.resources.len();
            d.resource_index.insert(r.app_id.to_ascii_lowercase(), idx);
            for u in &r.identifier_uris {
                d.resource_index.insert(resource_key(u), idx);
            }
            d.resource_index.insert(format!("name:{}", r.name), idx);
            let tenants = match &r.tenants {
                ResourceTenants::Keyword(_) => None,
                ResourceTenants::List(l) => Some(l.iter().map(|t| tid(&d, t)).collect()),
            };
            d.resources.push(Resource {
                name: r.name.clone(),
                app_id: r.app_id.to_ascii_lowercase(),
                tenants,
                roles: r.roles.clone(),
                token_version: r.token_version,
                mi_only: r.mi_only,
            });
        }
        for ra in &cfg.role_assignments {
            let (Some(app), Some(res)) = (d.app_by_ref(&ra.app), d.resource_by_ref(&ra.resource))
            else {
                continue;
            };
            let entry = RoleAssignment {
                app_client_id: app.client_id.clone(),
                tenant_id: tid(&d, &ra.tenant),
                resource_app_id: res.app_id.clone(),
                roles: ra.roles.clone(),
            };
            d.role_assignments.push(entry);
        }
        d
    }

    /// A tenant by id or domain, case-insensitively.
    pub(crate) fn tenant(&self, key: &str) -> Option<&Tenant> {
        let k = key.to_ascii_lowercase();
        self.tenant_index.get(&k).map(|&i| &self.tenants[i])
    }

    /// A managed identity by object id.
    pub(crate) fn identity_by_object_id(&self, oid: &str) -> Option<&Identity> {
        self.identity_by_object
            .get(&oid.to_ascii_lowercase())
            .map(|&i| &self.identities[i])
    }

    /// An app by client id.
    pub(crate) fn app(&self, client_id: &str) -> Option<&App> {
        self.app_by_client
            .get(&client_id.to_ascii_lowercase())
            .map(|&i| &self.apps[i])
    }

    /// An app by name or client id.
    pub(crate) fn app_by_ref(&self, r: &str) -> Option<&App> {
        self.app(r)
            .or_else(|| self.apps.iter().find(|a| a.name == r))
    }

    fn app_index_by_ref(&self, r: &str) -> Option<usize> {
        self.app_by_client
            .get(&r.to_ascii_lowercase())
            .copied()
            .or_else(|| self.apps.iter().position(|a| a.name == r))
    }

    /// A resource by identifier URI or app id (case-insensitive, one trailing `/` ignored).
    pub(crate) fn resource(&self, id: &str) -> Option<&Resource> {
        self.resource_index
            .get(&resource_key(id))
            .map(|&i| &self.resources[i])
    }

    fn resource_by_ref(&self, r: &str) -> Option<&Resource> {
        self.resource_index
            .get(&format!("name:{r}"))
            .map(|&i| &self.resources[i])
            .or_else(|| self.resource(r))
    }

    /// Whether `res` exists in tenant `tenant_id`.
    pub(crate) fn resource_in_tenant(res: &Resource, tenant_id: &str) -> bool {
        res.tenants
            .as_ref()
            .is_none_or(|ts| ts.iter().any(|t| t == tenant_id))
    }

    /// The service principal of `app` in `tenant_id`, if any (visible or not).
    pub(crate) fn service_principal(
        &self,
        app_client_id: &str,
        tenant_id: &str,
    ) -> Option<&ServicePrincipal> {
        self.sps
            .iter()
            .find(|s| s.app_client_id == app_client_id && s.tenant_id == tenant_id)
    }

    /// Roles granted to `app` in `tenant_id` on `resource_app_id`, deduplicated, in order.
    pub(crate) fn roles(
        &self,
        app_client_id: &str,
        tenant_id: &str,
        resource_app_id: &str,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for ra in &self.role_assignments {
            if ra.app_client_id == app_client_id
                && ra.tenant_id == tenant_id
                && ra.resource_app_id == resource_app_id
            {
                for r in &ra.roles {
                    if !out.contains(r) {
                        out.push(r.clone());
                    }
                }
            }
        }
        out
    }
}

fn fic_from(f: &FicConfig, base: i64) -> Fic {
    Fic {
        name: f.name.clone(),
        issuer: f.issuer.clone(),
        subject: f.subject.clone(),
        audiences: f.audiences.clone(),
        visible_at: base.saturating_add(f.visible_after_secs as i64),
    }
}

/// A FIC as the live directory holds it.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// let fic = &emu.directory().fics(defaults::APP_CLIENT_ID)?[0]; // by client id or name
/// assert_eq!((fic.name.as_str(), fic.issuer.as_str()), (defaults::APP_FIC_NAME, defaults::APP_FIC_ISSUER));
/// assert_eq!(fic.audiences, [defaults::EXCHANGE_AUDIENCE]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FicView {
    /// FIC name.
    pub name: String,
    /// Issuer.
    pub issuer: String,
    /// Subject.
    pub subject: String,
    /// Audiences.
    pub audiences: Vec<String>,
    /// Unix seconds (emulator clock) from which the token service sees it.
    pub visible_at_unix: i64,
}

/// A service principal as the live directory holds it.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// let sps = emu.directory().service_principals();
/// let contoso = sps.iter().find(|sp| sp.tenant_id == defaults::CONTOSO_TENANT_ID && sp.app_client_id == defaults::APP_CLIENT_ID).unwrap();
/// assert_eq!(contoso.object_id, defaults::APP_SP_CONTOSO_OBJECT_ID);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePrincipalView {
    /// The app's client id.
    pub app_client_id: String,
    /// The tenant id.
    pub tenant_id: String,
    /// The service principal's object id.
    pub object_id: String,
    /// Unix seconds (emulator clock) from which the token service sees it.
    pub visible_at_unix: i64,
}

/// Runtime changes to the directory; cheap to clone. Times are relative to "now" on the
/// emulator's clock. Changes are seen by the next request.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// // Simulate an admin removing consent in Northwind mid-test.
/// let directory = emu.directory().clone();
/// assert!(directory.remove_service_principal(defaults::APP_NAME, defaults::NORTHWIND_TENANT_DOMAIN)?);
/// assert_eq!(emu.directory().service_principals().len(), directory.service_principals().len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DirectoryHandle {
    dir: Arc<ArcSwap<Directory>>,
    clock: SharedClock,
}

impl fmt::Debug for DirectoryHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.dir.load();
        f.debug_struct("DirectoryHandle")
            .field("tenants", &d.tenants.len())
            .field("apps", &d.apps.len())
            .field("service_principals", &d.sps.len())
            .finish()
    }
}

fn refused(msg: String) -> EmulatorError {
    EmulatorError::Directory(msg)
}

impl DirectoryHandle {
    pub(crate) fn new(dir: Directory, clock: SharedClock) -> Self {
        Self {
            dir: Arc::new(ArcSwap::from_pointee(dir)),
            clock,
        }
    }

    /// The current snapshot (lock-free).
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Directory>> {
        self.dir.load()
    }

    fn now(&self) -> i64 {
        unix(self.clock.now())
    }

    fn edit<T>(
        &self,
        f: impl Fn(&mut Directory) -> Result<T, EmulatorError>,
    ) -> Result<T, EmulatorError> {
        // Writers are rare; a retry loop keeps concurrent edits from losing each other.
        loop {
            let cur = self.dir.load_full();
            let mut next = (*cur).clone();
            let out = f(&mut next)?;
            let prev = self.dir.compare_and_swap(&cur, Arc::new(next));
            if Arc::ptr_eq(&prev, &cur) {
                return Ok(out);
            }
        }
    }

    /// Add a FIC to `app` (name or client id), visible to the token service after
    /// `fic.visible_after_secs` from now.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::FicConfig;
    /// // A FIC trusting the second identity, visible to the token service in 30 s.
    /// emu.directory().add_fic(defaults::APP_NAME, FicConfig { name: "trust-uami-untrusted".into(),
    ///     issuer: defaults::APP_FIC_ISSUER.into(), subject: defaults::UAMI_UNTRUSTED_OBJECT_ID.into(),
    ///     audiences: vec![defaults::EXCHANGE_AUDIENCE.into()], visible_after_secs: 30 })?;
    /// assert_eq!(emu.directory().fics(defaults::APP_NAME)?.len(), 2);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Directory`] for an unknown app, a duplicate name or issuer+subject, or
    /// more than [`super::MAX_FICS_PER_APP`]; [`EmulatorError::Config`] for bad fields.
    pub fn add_fic(&self, app: &str, fic: FicConfig) -> Result<(), EmulatorError> {
        check_fic(&fic, "fic")?;
        let now = self.now();
        self.edit(|d| {
            let i = d
                .app_index_by_ref(app)
                .ok_or_else(|| refused(format!("no app {app:?}")))?;
            let a = &mut d.apps[i];
            if a.fics.iter().any(|f| f.name == fic.name) {
                return Err(refused(format!(
                    "app {:?} already has a FIC named {:?}",
                    a.name, fic.name
                )));
            }
            if a.fics
                .iter()
                .any(|f| f.issuer == fic.issuer && f.subject == fic.subject)
            {
                return Err(refused(format!(
                    "app {:?} already has a FIC with this issuer and subject",
                    a.name
                )));
            }
            if a.fics.len() >= super::MAX_FICS_PER_APP {
                return Err(refused(format!(
                    "app {:?} already has {} FICs",
                    a.name,
                    a.fics.len()
                )));
            }
            a.fics.push(fic_from(&fic, now));
            Ok(())
        })
    }

    /// Remove the FIC `name` from `app`; false when it had none of that name.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert!(emu.directory().remove_fic(defaults::APP_NAME, defaults::APP_FIC_NAME)?);
    /// assert!(!emu.directory().remove_fic(defaults::APP_NAME, defaults::APP_FIC_NAME)?); // already gone
    /// assert!(emu.directory().remove_fic("no-such-app", "x").is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Directory`] for an unknown app.
    pub fn remove_fic(&self, app: &str, name: &str) -> Result<bool, EmulatorError> {
        self.edit(|d| {
            let i = d
                .app_index_by_ref(app)
                .ok_or_else(|| refused(format!("no app {app:?}")))?;
            let before = d.apps[i].fics.len();
            d.apps[i].fics.retain(|f| f.name != name);
            Ok(d.apps[i].fics.len() != before)
        })
    }

    /// The FICs of `app` (name or client id).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// let fics = emu.directory().fics(defaults::APP_NAME)?;
    /// assert_eq!(fics.len(), 1);
    /// assert!(fics[0].visible_at_unix > 0); // visible since start
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Directory`] for an unknown app.
    pub fn fics(&self, app: &str) -> Result<Vec<FicView>, EmulatorError> {
        let d = self.load();
        let a = d
            .app_by_ref(app)
            .ok_or_else(|| refused(format!("no app {app:?}")))?;
        Ok(a.fics
            .iter()
            .map(|f| FicView {
                name: f.name.clone(),
                issuer: f.issuer.clone(),
                subject: f.subject.clone(),
                audiences: f.audiences.clone(),
                visible_at_unix: f.visible_at,
            })
            .collect())
    }

    /// Provision `app` in `tenant` (what admin consent does), visible after
    /// `visible_after_secs` from now. Returns the service principal's object id (`object_id`
    /// when given, else derived stably from app and tenant).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// // Admin consent in Tailspin, seen by the token service 20 s from now.
    /// let oid = emu.directory().add_service_principal(defaults::APP_NAME, defaults::TAILSPIN_TENANT_DOMAIN, None, 20)?;
    /// assert!(ficx::ObjectId::new(&oid).is_ok()); // derived stably from app and tenant
    /// assert!(emu.directory().add_service_principal(defaults::APP_NAME, defaults::TAILSPIN_TENANT_DOMAIN, None, 0).is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Directory`] for an unknown app or tenant, a single-tenant app outside its
    /// home tenant, or an existing service principal; [`EmulatorError::Config`] for a bad id.
    pub fn add_service_principal(
        &self,
        app: &str,
        tenant: &str,
        object_id: Option<&str>,
        visible_after_secs: u64,
    ) -> Result<String, EmulatorError> {
        if let Some(o) = object_id
            && !is_guid(o)
        {
            return Err(EmulatorError::Config {
                path: "object_id".into(),
                problem: format!("{o:?} is not a GUID"),
            });
        }
        let now = self.now();
        self.edit(|d| {
            let a = d
                .app_by_ref(app)
                .ok_or_else(|| refused(format!("no app {app:?}")))?;
            let t = d
                .tenant(tenant)
                .ok_or_else(|| refused(format!("no tenant {tenant:?}")))?;
            if !a.multi_tenant && a.home_tenant != t.id {
                return Err(refused(format!(
                    "app {:?} is single-tenant; it cannot be provisioned outside its home tenant",
                    a.name
                )));
            }
            if d.service_principal(&a.client_id, &t.id).is_some() {
                return Err(refused(format!(
                    "app {:?} already has a service principal in {}",
                    a.name, t.id
                )));
            }
            let oid = object_id
                .map(str::to_ascii_lowercase)
                .unwrap_or_else(|| derive_sp_object_id(&a.client_id, &t.id));
            let sp = ServicePrincipal {
                app_client_id: a.client_id.clone(),
                tenant_id: t.id.clone(),
                object_id: oid.clone(),
                visible_at: now.saturating_add(visible_after_secs as i64),
            };
            d.sps.push(sp);
            Ok(oid)
        })
    }

    /// Remove the service principal of `app` in `tenant`; false when there was none.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert!(emu.directory().remove_service_principal(defaults::APP_NAME, defaults::CONTOSO_TENANT_ID)?);
    /// assert!(!emu.directory().remove_service_principal(defaults::APP_NAME, defaults::TAILSPIN_TENANT_ID)?); // none there
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Directory`] for an unknown app or tenant.
    pub fn remove_service_principal(&self, app: &str, tenant: &str) -> Result<bool, EmulatorError> {
        self.edit(|d| {
            let a = d
                .app_by_ref(app)
                .ok_or_else(|| refused(format!("no app {app:?}")))?;
            let t = d
                .tenant(tenant)
                .ok_or_else(|| refused(format!("no tenant {tenant:?}")))?;
            let (cid, tid) = (a.client_id.clone(), t.id.clone());
            let before = d.sps.len();
            d.sps
                .retain(|s| !(s.app_client_id == cid && s.tenant_id == tid));
            Ok(d.sps.len() != before)
        })
    }

    /// Every service principal.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// let in_contoso = emu.directory().service_principals().into_iter()
    ///     .filter(|sp| sp.tenant_id == defaults::CONTOSO_TENANT_ID).count();
    /// assert_eq!(in_contoso, 2); // ficx-demo-app and contoso-local-app
    /// # Ok(()) }
    /// ```
    pub fn service_principals(&self) -> Vec<ServicePrincipalView> {
        self.load()
            .sps
            .iter()
            .map(|s| ServicePrincipalView {
                app_client_id: s.app_client_id.clone(),
                tenant_id: s.tenant_id.clone(),
                object_id: s.object_id.clone(),
                visible_at_unix: s.visible_at,
            })
            .collect()
    }

    /// Grant `roles` of `resource` (name, app id or identifier URI) to `app` in `tenant`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// emu.directory().add_role_assignment(defaults::APP_NAME, defaults::CONTOSO_TENANT_DOMAIN,
    ///     defaults::ORDERS_RESOURCE, &["Orders.Write".to_string()])?;
    /// let undefined = emu.directory().add_role_assignment(defaults::APP_NAME, defaults::CONTOSO_TENANT_DOMAIN,
    ///     "api://orders", &["Orders.Delete".to_string()]);
    /// assert!(undefined.is_err()); // the resource does not define that role
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`EmulatorError::Directory`] for unknown names or a role the resource does not define.
    pub fn add_role_assignment(
        &self,
        app: &str,
        tenant: &str,
        resource: &str,
        roles: &[String],
    ) -> Result<(), EmulatorError> {
        self.edit(|d| {
            let a = d
                .app_by_ref(app)
                .ok_or_else(|| refused(format!("no app {app:?}")))?;
            let t = d
                .tenant(tenant)
                .ok_or_else(|| refused(format!("no tenant {tenant:?}")))?;
            let r = d
                .resource_by_ref(resource)
                .ok_or_else(|| refused(format!("no resource {resource:?}")))?;
            if let Some(bad) = roles.iter().find(|x| !r.roles.contains(x)) {
                return Err(refused(format!(
                    "resource {:?} defines no role {bad:?}",
                    r.name
                )));
            }
            let ra = RoleAssignment {
                app_client_id: a.client_id.clone(),
                tenant_id: t.id.clone(),
                resource_app_id: r.app_id.clone(),
                roles: roles.to_vec(),
            };
            d.role_assignments.push(ra);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::emulator::defaults as d;

    fn handle() -> (DirectoryHandle, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
        let dir = Directory::from_config(&EmulatorConfig::default_config(), 1_700_000_000);
        (DirectoryHandle::new(dir, clock.clone()), clock)
    }

    #[test]
    fn lookups() {
        let (h, _) = handle();
        let dir = h.load();
        assert_eq!(
            dir.tenant("CONTOSO.onmicrosoft.com").unwrap().id,
            d::CONTOSO_TENANT_ID
        );
        assert!(dir.tenant("nowhere.example").is_none());
        assert_eq!(
            dir.resource("https://graph.microsoft.com/").unwrap().name,
            "graph"
        );
        assert_eq!(dir.resource(d::GRAPH_APP_ID).unwrap().token_version, 1);
        let orders = dir.resource("API://Orders").unwrap();
        assert!(Directory::resource_in_tenant(orders, d::CONTOSO_TENANT_ID));
        assert!(!Directory::resource_in_tenant(
            orders,
            d::NORTHWIND_TENANT_ID
        ));
        assert_eq!(
            dir.roles(d::APP_CLIENT_ID, d::CONTOSO_TENANT_ID, d::GRAPH_APP_ID),
            ["Application.Read.All"]
        );
        assert_eq!(
            dir.identity_by_object_id(d::UAMI_TRUSTED_OBJECT_ID)
                .unwrap()
                .name,
            "uami-trusted"
        );
        let sp = dir
            .service_principal(d::LOCAL_APP_CLIENT_ID, d::CONTOSO_TENANT_ID)
            .unwrap();
        assert_eq!(
            sp.object_id,
            derive_sp_object_id(d::LOCAL_APP_CLIENT_ID, d::CONTOSO_TENANT_ID)
        );
        assert_eq!(dir.host.user.len(), 2);
    }

    #[test]
    fn runtime_changes() {
        let (h, clock) = handle();
        let fic = FicConfig {
            name: "late".into(),
            issuer: "https://login.microsoftonline.com/x/v2.0".into(),
            subject: "s".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
            visible_after_secs: 60,
        };
        clock.advance(std::time::Duration::from_secs(10));
        h.add_fic(d::APP_NAME, fic.clone()).unwrap();
        assert!(h.add_fic(d::APP_CLIENT_ID, fic.clone()).is_err());
        let view = h.fics(d::APP_NAME).unwrap();
        assert_eq!(view[1].visible_at_unix, 1_700_000_070);
        assert!(h.remove_fic(d::APP_NAME, "late").unwrap());
        assert!(!h.remove_fic(d::APP_NAME, "late").unwrap());
        assert!(h.add_fic("ghost", fic).is_err());

        let oid = h
            .add_service_principal(d::APP_NAME, d::TAILSPIN_TENANT_DOMAIN, None, 0)
            .unwrap();
        assert_eq!(
            oid,
            derive_sp_object_id(d::APP_CLIENT_ID, d::TAILSPIN_TENANT_ID)
        );
        assert!(
            h.add_service_principal(d::APP_NAME, d::TAILSPIN_TENANT_ID, None, 0)
                .is_err()
        );
        assert!(
            h.add_service_principal(d::LOCAL_APP_NAME, d::TAILSPIN_TENANT_ID, None, 0)
                .is_err()
        );
        assert!(
            h.remove_service_principal(d::APP_NAME, d::TAILSPIN_TENANT_ID)
                .unwrap()
        );
        h.add_role_assignment(
            d::APP_NAME,
            d::NORTHWIND_TENANT_ID,
            "graph",
            &["User.Read.All".into()],
        )
        .unwrap();
        assert!(
            h.add_role_assignment(
                d::APP_NAME,
                d::NORTHWIND_TENANT_ID,
                "graph",
                &["Nope".into()]
            )
            .is_err()
        );
        assert_eq!(
            h.load()
                .roles(d::APP_CLIENT_ID, d::NORTHWIND_TENANT_ID, d::GRAPH_APP_ID),
            ["Directory.Read.All", "User.Read.All"]
        );
    }
}
