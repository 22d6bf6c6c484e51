//! Leg 1: the managed-identity endpoints. [`detect`] picks the source from the environment in
//! the documented order; one file per endpoint kind holds only that kind's request shape and
//! quirks; `reply` parses what they all answer.
//!
//! Detection order (protocol.md §2.1, first match wins):
//!
//! 1. Service Fabric: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` + `IDENTITY_SERVER_THUMBPRINT`
//! 2. App Service / Functions / Container Apps: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`
//! 3. Azure Arc: `IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`
//! 4. Azure ML: `MSI_ENDPOINT` + `MSI_SECRET`
//! 5. Cloud Shell: `MSI_ENDPOINT` alone
//! 6. Azure Arc: the agent's `himds` binary exists
//! 7. IMDS: `AZURE_POD_IDENTITY_AUTHORITY_HOST` or `http://169.254.169.254`

pub(crate) mod app_service;
pub(crate) mod arc;
pub(crate) mod azure_ml;
pub(crate) mod client;
pub(crate) mod cloud_shell;
pub(crate) mod imds;
pub(crate) mod reply;
pub(crate) mod service_fabric;

use std::fmt;
use std::path::{Path, PathBuf};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::env::Env;
use crate::error::{Error, SourceKind, quote};
use crate::ids::ManagedIdentity;

/// Default IMDS base URL.
///
/// ```
/// use ficx::{Env, mi::{IMDS_DEFAULT_BASE, IMDS_PATH, detect}};
/// // No MI variables at all: IMDS at its link-local address.
/// let d = detect(&Env::from_vars::<&str, &str>([]))?;
/// assert_eq!(d.endpoint, format!("{IMDS_DEFAULT_BASE}{IMDS_PATH}"));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const IMDS_DEFAULT_BASE: &str = "http://169.254.169.254";
/// Path appended to the IMDS base.
///
/// ```
/// use ficx::{Env, mi::{IMDS_PATH, detect}};
/// let env = Env::from_vars([("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:2579")]);
/// assert_eq!(detect(&env)?.endpoint, format!("http://127.0.0.1:2579{IMDS_PATH}"));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
/// The Arc agent's default local endpoint.
///
/// ```
/// use ficx::{Env, SourceKind, mi::{ARC_DEFAULT_ENDPOINT, ARC_HIMDS_LINUX, detect}};
/// // The Arc agent is installed but its variables are not in this process's environment.
/// let d = detect(&Env::from_vars::<&str, &str>([]).with_file(ARC_HIMDS_LINUX))?;
/// assert_eq!((d.kind, d.endpoint.as_str()), (SourceKind::AzureArc, ARC_DEFAULT_ENDPOINT));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const ARC_DEFAULT_ENDPOINT: &str = "http://localhost:40342/metadata/identity/oauth2/token";
/// The Arc agent binary on Linux, whose presence means "Arc host".
///
/// ```
/// use ficx::{Env, SourceKind, mi::{ARC_HIMDS_LINUX, detect}};
/// let d = detect(&Env::from_vars::<&str, &str>([]).with_file(ARC_HIMDS_LINUX))?;
/// assert_eq!(d.kind, SourceKind::AzureArc);
/// assert_eq!(d.decided_by, [ARC_HIMDS_LINUX]);
/// # Ok::<(), ficx::Error>(())
/// ```
pub const ARC_HIMDS_LINUX: &str = "/opt/azcmagent/bin/himds";
/// The Linux directory Arc writes challenge key files to.
///
/// ```
/// use ficx::{ManagedIdentitySource, mi::ARC_KEY_DIR_LINUX};
/// // Only key files inside the agent's directory are read; emulators and tests move it.
/// let source = ManagedIdentitySource::builder()
/// #   .env(ficx::Env::from_vars([("IDENTITY_ENDPOINT", "http://localhost:40342/metadata/identity/oauth2/token"), ("IMDS_ENDPOINT", "http://localhost:40342")]))
///     .arc_key_dir(ARC_KEY_DIR_LINUX) // the default on Linux
///     .build()?;
/// assert_eq!(source.detection().kind, ficx::SourceKind::AzureArc);
/// # Ok::<(), ficx::Error>(())
/// ```
pub const ARC_KEY_DIR_LINUX: &str = "/var/opt/azcmagent/tokens";

/// A resolved MI endpoint: kind, URL and the platform secrets it needs.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) kind: SourceKind,
    pub(crate) url: Url,
    pub(crate) secret: Option<SecretString>,
    pub(crate) thumbprint: Option<[u8; 20]>,
    pub(crate) api_version: Option<String>,
    pub(crate) default_client_id: Option<String>,
}

impl Endpoint {
    fn new(kind: SourceKind, url: Url) -> Self {
        Self {
            kind,
            url,
            secret: None,
            thumbprint: None,
            api_version: None,
            default_client_id: None,
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("kind", &self.kind)
            .field("url", &self.url.as_str())
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// What [`detect`] found: the source, its endpoint, and the variables that decided it.
///
/// ```
/// use ficx::{Env, SourceKind, mi::detect};
/// let env = Env::from_vars([("MSI_ENDPOINT", "http://127.0.0.1:46808/msi/token"), ("MSI_SECRET", "s")]);
/// let d = detect(&env)?;
/// assert_eq!(d.kind, SourceKind::AzureMl);
/// assert_eq!(d.endpoint, "http://127.0.0.1:46808/msi/token");
/// assert_eq!(d.decided_by, ["MSI_ENDPOINT", "MSI_SECRET"]);
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Detection {
    /// The chosen source.
    pub kind: SourceKind,
    /// The endpoint URL that will be called (no secrets in it).
    pub endpoint: String,
    /// The environment variables (or files) that decided the choice, in order.
    pub decided_by: Vec<String>,
    pub(crate) resolved: Endpoint,
}

fn parse_url(var: &str, value: &str) -> Result<Url, Error> {
    let url = Url::parse(value).map_err(|_| Error::InvalidInput {
        field: leak_name(var),
        problem: format!("{} is not a URL", quote(value)),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::InvalidInput {
            field: leak_name(var),
            problem: format!("{} must be an http(s) URL", quote(value)),
        });
    }
    Ok(url)
}

/// Field names in errors are `&'static str`; map the few variable names we read.
fn leak_name(var: &str) -> &'static str {
    match var {
        "IDENTITY_ENDPOINT" => "IDENTITY_ENDPOINT",
        "MSI_ENDPOINT" => "MSI_ENDPOINT",
        "IMDS_ENDPOINT" => "IMDS_ENDPOINT",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST" => "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        _ => "endpoint",
    }
}

fn secret(env: &Env, var: &str) -> Option<SecretString> {
    env.var(var).map(SecretString::from)
}

/// Pick the managed-identity source from the environment (order in the module docs).
///
/// ```
/// use ficx::{Env, SourceKind, mi::detect};
/// let env = Env::from_vars([("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token"), ("IDENTITY_HEADER", "x")]);
/// let d = detect(&env).unwrap();
/// assert_eq!(d.kind, SourceKind::AppService);
/// assert_eq!(d.decided_by, ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]);
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] when a variable that decides the source is malformed (a non-URL
/// endpoint, a thumbprint that is not 40 hex digits).
pub fn detect(env: &Env) -> Result<Detection, Error> {
    let identity_endpoint = env.var("IDENTITY_ENDPOINT");
    let identity_header = env.var("IDENTITY_HEADER");
    let thumbprint = env.var("IDENTITY_SERVER_THUMBPRINT");
    let msi_endpoint = env.var("MSI_ENDPOINT");
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let made = |kind, url: Url, decided_by: Vec<String>, resolved: Endpoint| Detection {
        kind,
        endpoint: url.to_string(),
        decided_by,
        resolved,
    };
    if let (Some(ep), Some(_)) = (&identity_endpoint, &identity_header) {
        let url = parse_url("IDENTITY_ENDPOINT", ep)?;
        if let Some(tp) = &thumbprint {
            let tp = crate::http::parse_thumbprint(tp)?;
            let resolved = Endpoint {
                kind: SourceKind::ServiceFabric,
                url: url.clone(),
                secret: secret(env, "IDENTITY_HEADER"),
                thumbprint: Some(tp),
                api_version: env.var("IDENTITY_API_VERSION"),
                default_client_id: None,
            };
            return Ok(made(
                SourceKind::ServiceFabric,
                url,
                names(&[
                    "IDENTITY_ENDPOINT",
                    "IDENTITY_HEADER",
                    "IDENTITY_SERVER_THUMBPRINT",
                ]),
                resolved,
            ));
        }
        let resolved = Endpoint {
            kind: SourceKind::AppService,
            url: url.clone(),
            secret: secret(env, "IDENTITY_HEADER"),
            thumbprint: None,
            api_version: None,
            default_client_id: None,
        };
        return Ok(made(
            SourceKind::AppService,
            url,
            names(&["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]),
            resolved,
        ));
    }
    if let (Some(ep), Some(_)) = (&identity_endpoint, env.var("IMDS_ENDPOINT")) {
        let url = parse_url("IDENTITY_ENDPOINT", ep)?;
        return Ok(made(
            SourceKind::AzureArc,
            url.clone(),
            names(&["IDENTITY_ENDPOINT", "IMDS_ENDPOINT"]),
            Endpoint::new(SourceKind::AzureArc, url),
        ));
    }
    if let Some(ep) = &msi_endpoint {
        let url = parse_url("MSI_ENDPOINT", ep)?;
        if env.var("MSI_SECRET").is_some() {
            return Ok(made(
                SourceKind::AzureMl,
                url.clone(),
                names(&["MSI_ENDPOINT", "MSI_SECRET"]),
                Endpoint {
                    kind: SourceKind::AzureMl,
                    url,
                    secret: secret(env, "MSI_SECRET"),
                    thumbprint: None,
                    api_version: None,
                    default_client_id: env.var("DEFAULT_IDENTITY_CLIENT_ID"),
                },
            ));
        }
        return Ok(made(
            SourceKind::CloudShell,
            url.clone(),
            names(&["MSI_ENDPOINT"]),
            Endpoint::new(SourceKind::CloudShell, url),
        ));
    }
    let himds = arc_agent_file(env);
    if env.file_exists(&himds) {
        let url = Url::parse(ARC_DEFAULT_ENDPOINT).expect("constant URL");
        return Ok(made(
            SourceKind::AzureArc,
            url.clone(),
            vec![himds.display().to_string()],
            Endpoint::new(SourceKind::AzureArc, url),
        ));
    }
    let (base, decided) = match env.var("AZURE_POD_IDENTITY_AUTHORITY_HOST") {
        Some(b) => (b, names(&["AZURE_POD_IDENTITY_AUTHORITY_HOST"])),
        None => (IMDS_DEFAULT_BASE.to_owned(), Vec::new()),
    };
    let base_url = parse_url("AZURE_POD_IDENTITY_AUTHORITY_HOST", &base)?;
    let url = base_url.join(IMDS_PATH).map_err(|_| Error::InvalidInput {
        field: "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        problem: format!("{} cannot take the IMDS path", quote(&base)),
    })?;
    Ok(made(
        SourceKind::Imds,
        url.clone(),
        decided,
        Endpoint::new(SourceKind::Imds, url),
    ))
}

fn arc_agent_file(env: &Env) -> PathBuf {
    if cfg!(windows) {
        let pf = env
            .var("ProgramFiles")
            .unwrap_or_else(|| r"C:\Program Files".into());
        Path::new(&pf).join(r"AzureConnectedMachineAgent\himds.exe")
    } else {
        PathBuf::from(ARC_HIMDS_LINUX)
    }
}

/// The platform directory Arc key files must live in (overridable for emulators and tests with
/// `FICX_ARC_KEY_DIR`).
pub(crate) fn arc_key_dir(env: &Env) -> PathBuf {
    if let Some(dir) = env.var("FICX_ARC_KEY_DIR") {
        return PathBuf::from(dir);
    }
    if cfg!(windows) {
        let pd = env
            .var("ProgramData")
            .unwrap_or_else(|| r"C:\ProgramData".into());
        Path::new(&pd).join(r"AzureConnectedMachineAgent\Tokens")
    } else {
        PathBuf::from(ARC_KEY_DIR_LINUX)
    }
}

/// HTTP method of an MI request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

/// One MI request, built by a pure function per endpoint kind.
#[derive(Debug)]
pub(crate) struct MiRequest {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(&'static str, HeaderValue)>,
    pub(crate) form: Option<Vec<(&'static str, String)>>,
}

impl MiRequest {
    pub(crate) fn get(url: Url) -> Self {
        Self {
            method: Method::Get,
            url,
            headers: Vec::new(),
            form: None,
        }
    }

    /// `GET <endpoint>?api-version=…&resource=…`, the start of every GET source's request.
    pub(crate) fn token_get(ep: &Endpoint, api_version: &str, resource: &str) -> Self {
        Self::get(ep.url.clone())
            .query("api-version", api_version)
            .query("resource", resource)
    }

    /// The user-assigned selector, under this endpoint kind's names for
    /// (client id, object id, resource id); nothing for the system identity.
    pub(crate) fn selector(self, identity: &ManagedIdentity, names: [&str; 3]) -> Self {
        match identity {
            ManagedIdentity::SystemAssigned => self,
            ManagedIdentity::ClientId(v) => self.query(names[0], v.as_str()),
            ManagedIdentity::ObjectId(v) => self.query(names[1], v.as_str()),
            ManagedIdentity::ResourceId(v) => self.query(names[2], v.as_str()),
        }
    }

    pub(crate) fn query(mut self, k: &str, v: &str) -> Self {
        self.url.query_pairs_mut().append_pair(k, v);
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// A header holding a secret: marked sensitive so hyper never logs it.
    pub(crate) fn secret_header(mut self, name: &'static str, value: &SecretString) -> Self {
        if let Ok(mut v) = HeaderValue::from_str(value.expose_secret()) {
            v.set_sensitive(true);
            self.headers.push((name, v));
        }
        self
    }

    /// The URL without its query, for error messages.
    pub(crate) fn display_url(&self) -> String {
        let mut u = self.url.clone();
        u.set_query(None);
        u.to_string()
    }
}

/// Refuse selectors a source cannot honour, at construction (before any request).
pub(crate) fn check_identity(ep: &Endpoint, identity: &ManagedIdentity) -> Result<(), Error> {
    match ep.kind {
        SourceKind::Imds | SourceKind::AppService | SourceKind::AzureArc => Ok(()),
        SourceKind::AzureMl => azure_ml::check_identity(identity),
        SourceKind::ServiceFabric => service_fabric::check_identity(identity),
        SourceKind::CloudShell => cloud_shell::refuse(),
    }
}

/// Build the (first) request for `resource` on this endpoint.
pub(crate) fn build_request(
    ep: &Endpoint,
    identity: &ManagedIdentity,
    resource: &str,
) -> Result<MiRequest, Error> {
    match ep.kind {
        SourceKind::Imds => Ok(imds::request(ep, identity, resource)),
        SourceKind::AppService => Ok(app_service::request(ep, identity, resource)),
        SourceKind::AzureArc => Ok(arc::request(ep, identity, resource)),
        SourceKind::AzureMl => azure_ml::request(ep, identity, resource),
        SourceKind::ServiceFabric => Ok(service_fabric::request(ep, resource)),
        SourceKind::CloudShell => Ok(cloud_shell::request(ep, resource)),
    }
}

/// The resource an MI endpoint takes: a scope with one trailing `/.default` stripped.
pub(crate) fn resource_of(audience: &str) -> &str {
    audience.strip_suffix("/.default").unwrap_or(audience)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(vars: &[(&str, &str)]) -> SourceKind {
        detect(&Env::from_vars(vars.iter().copied())).unwrap().kind
    }

    #[test]
    fn detection_order() {
        let tp = "0123456789ABCDEF0123456789ABCDEF01234567";
        assert_eq!(
            kind(&[
                ("IDENTITY_ENDPOINT", "https://127.0.0.1:2377/x"),
                ("IDENTITY_HEADER", "h"),
                ("IDENTITY_SERVER_THUMBPRINT", tp),
                ("MSI_ENDPOINT", "http://x/")
            ]),
            SourceKind::ServiceFabric
        );
        assert_eq!(
            kind(&[
                ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi"),
                ("IDENTITY_HEADER", "h"),
                ("IMDS_ENDPOINT", "http://x/")
            ]),
            SourceKind::AppService
        );
        assert_eq!(
            kind(&[
                (
                    "IDENTITY_ENDPOINT",
                    "http://localhost:40342/metadata/identity/oauth2/token"
                ),
                ("IMDS_ENDPOINT", "http://localhost:40342")
            ]),
            SourceKind::AzureArc
        );
        assert_eq!(
            kind(&[
                ("MSI_ENDPOINT", "http://127.0.0.1:1/ml"),
                ("MSI_SECRET", "s")
            ]),
            SourceKind::AzureMl
        );
        assert_eq!(
            kind(&[("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")]),
            SourceKind::CloudShell
        );
        assert_eq!(kind(&[]), SourceKind::Imds);
        let env = Env::from_vars::<&str, &str>([]).with_file(ARC_HIMDS_LINUX);
        if !cfg!(windows) {
            let d = detect(&env).unwrap();
            assert_eq!(d.kind, SourceKind::AzureArc);
            assert_eq!(d.decided_by, [ARC_HIMDS_LINUX]);
        }
        let d = detect(&Env::from_vars([(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            "http://127.0.0.1:9999",
        )]))
        .unwrap();
        assert_eq!(
            d.endpoint,
            "http://127.0.0.1:9999/metadata/identity/oauth2/token"
        );
        assert_eq!(d.decided_by, ["AZURE_POD_IDENTITY_AUTHORITY_HOST"]);
    }

    #[test]
    fn malformed_variables_are_named() {
        let e = detect(&Env::from_vars([
            ("IDENTITY_ENDPOINT", "nope"),
            ("IDENTITY_HEADER", "h"),
        ]))
        .unwrap_err();
        assert!(
            e.to_string().starts_with("invalid IDENTITY_ENDPOINT"),
            "{e}"
        );
        let e = detect(&Env::from_vars([
            ("IDENTITY_ENDPOINT", "https://x/"),
            ("IDENTITY_HEADER", "h"),
            ("IDENTITY_SERVER_THUMBPRINT", "abc"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("IDENTITY_SERVER_THUMBPRINT"), "{e}");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let d = detect(&Env::from_vars([
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi"),
            ("IDENTITY_HEADER", "sup3r-s3cret"),
        ]))
        .unwrap();
        let s = format!("{d:?} {d:#?}");
        assert!(!s.contains("sup3r-s3cret"), "{s}");
    }

    #[test]
    fn unsupported_selectors() {
        let sf = detect(&Env::from_vars([
            ("IDENTITY_ENDPOINT", "https://127.0.0.1:2377/x"),
            ("IDENTITY_HEADER", "h"),
            (
                "IDENTITY_SERVER_THUMBPRINT",
                "0123456789ABCDEF0123456789ABCDEF01234567",
            ),
        ]))
        .unwrap();
        let uami = ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001").unwrap();
        assert!(matches!(
            check_identity(&sf.resolved, &uami),
            Err(Error::Unsupported(_))
        ));
        assert!(check_identity(&sf.resolved, &ManagedIdentity::SystemAssigned).is_ok());
        let cs = detect(&Env::from_vars([(
            "MSI_ENDPOINT",
            "http://localhost:50342/oauth2/token",
        )]))
        .unwrap();
        let e = check_identity(&cs.resolved, &ManagedIdentity::SystemAssigned).unwrap_err();
        assert!(e.to_string().contains("700229"), "{e}");
        let ml = detect(&Env::from_vars([
            ("MSI_ENDPOINT", "http://127.0.0.1:1/ml"),
            ("MSI_SECRET", "s"),
        ]))
        .unwrap();
        let by_object = ManagedIdentity::object_id("b1b1b1b1-0000-4000-8000-000000000001").unwrap();
        assert!(check_identity(&ml.resolved, &by_object).is_err());
        assert!(check_identity(&ml.resolved, &uami).is_ok());
    }
}
