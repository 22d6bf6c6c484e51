//! The AADSTS codes of this flow and the MI endpoint failures, each with its meaning, its fix and
//! its retry class (protocol.md §4). [`Error::hint`](crate::Error::hint) and `ficx doctor` read
//! this one table, and the README's troubleshooting section repeats it.

use crate::error::{MiError, SourceKind};

/// How a failure should be retried.
///
/// ```
/// use ficx::hints::{RetryClass, lookup};
/// assert_eq!(lookup(70021).unwrap().retry, RetryClass::Propagation); // FIC not propagated yet
/// assert_eq!(lookup(700024).unwrap().retry, RetryClass::Remint); // assertion expired
/// assert_eq!(lookup(700213).unwrap().retry, RetryClass::Never); // FIC subject is wrong
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryClass {
    /// A configuration fault: fail fast, an admin must fix something.
    Never,
    /// Retry only inside an explicit, bounded propagation window (a fresh FIC or consent).
    Propagation,
    /// Fetch a fresh assertion and retry once.
    Remint,
}

/// One row of the AADSTS table.
///
/// ```
/// let row: &ficx::hints::AadstsCode = ficx::hints::lookup(700213).unwrap();
/// assert_eq!(row.code, 700213);
/// assert!(row.meaning.contains("subject"));
/// assert!(!row.fix.contains('\n')); // one line
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AadstsCode {
    /// The numeric code (`700213` for `AADSTS700213`).
    pub code: u32,
    /// What it means in this flow.
    pub meaning: &'static str,
    /// What to do about it, in one line.
    pub fix: &'static str,
    /// How ficx retries it.
    pub retry: RetryClass,
}

const fn row(code: u32, meaning: &'static str, fix: &'static str, retry: RetryClass) -> AadstsCode {
    AadstsCode {
        code,
        meaning,
        fix,
        retry,
    }
}

use RetryClass::{Never, Propagation, Remint};

/// Every AADSTS code this flow is known to produce (protocol.md §4).
///
/// ```
/// use ficx::hints::AADSTS_CODES;
/// assert!(AADSTS_CODES.iter().any(|row| row.code == 70021));
/// assert!(AADSTS_CODES.iter().all(|row| !row.fix.is_empty()));
/// ```
pub const AADSTS_CODES: &[AadstsCode] = &[
    row(
        70021,
        "no federated identity credential matches the assertion (or a new one has not propagated yet)",
        "if the FIC is minutes old, wait and retry (`--wait-propagation 5m`); otherwise compare issuer, subject and audience with `ficx setup --from-live`",
        Propagation,
    ),
    row(
        700211,
        "no federated identity credential matches the assertion issuer",
        "the FIC issuer must be exactly https://<authority-host>/<MI tenant>/v2.0 (no trailing slash); see `ficx setup`",
        Never,
    ),
    row(
        700212,
        "no federated identity credential matches the assertion audience",
        "request the MI token for the cloud's exchange audience (api://AzureADTokenExchange, …USGov, …China) and list that same value on the FIC",
        Never,
    ),
    row(
        7002121,
        "no federated identity credential matches the assertion audience",
        "request the MI token for the cloud's exchange audience and list that same value on the FIC",
        Never,
    ),
    row(
        700213,
        "no federated identity credential matches the assertion subject",
        "the FIC subject must be the managed identity's object (principal) id, exact case, not its client id; see `ficx setup`",
        Never,
    ),
    row(
        70025,
        "the app has no federated identity credentials",
        "add the FIC to the multi-tenant app registration in the MI's home tenant (`ficx setup`)",
        Never,
    ),
    row(
        700222,
        "Entra-issued tokens other than MI tokens may not be used for federation",
        "send a user-assigned managed identity token from the app's home tenant as the assertion",
        Never,
    ),
    row(
        700226,
        "only managed-identity tokens may be federated credentials for an Entra issuer (an app token was presented)",
        "send the managed identity's token as the assertion",
        Never,
    ),
    row(
        700227,
        "the assertion issuer is forbidden (e.g. the v1 https://sts.windows.net/<tenant>/ issuer)",
        "use the v2 issuer https://<authority-host>/<MI tenant>/v2.0 on the FIC",
        Never,
    ),
    row(
        700229,
        "the assertion is a delegated (user) token; only app-only tokens may be federated credentials",
        "use a managed identity token, not Cloud Shell or a developer login",
        Never,
    ),
    row(
        700236,
        "the FIC sits on an app that is not registered in the managed identity's tenant",
        "move the FIC to a multi-tenant app registered in the MI's tenant, provision that app in the target tenant, and call the target tenant's token endpoint",
        Never,
    ),
    row(
        700223,
        "tenant policy restricts workload identity federation",
        "a tenant admin must relax the workload identity federation policy",
        Never,
    ),
    row(
        700238,
        "tenant policy bars this issuer for this kind of identity",
        "a tenant admin must relax the workload identity federation policy",
        Never,
    ),
    row(
        700024,
        "the assertion is outside its valid time range (expired)",
        "fetch a fresh MI token (ficx does this once automatically); check the machine clock",
        Remint,
    ),
    row(
        700027,
        "the assertion failed signature validation",
        "fetch a fresh MI token (ficx does this once automatically); check the MI and the token endpoint are in the same cloud",
        Remint,
    ),
    row(
        700016,
        "the application was not found in the target tenant (no service principal there)",
        "an admin of the target tenant must consent to the app (admin-consent URL from `ficx setup --consent-tenant`) or run `az ad sp create --id <app>`; check client id and tenant",
        Propagation,
    ),
    row(
        7000229,
        "the app is missing a service principal in the tenant",
        "create the service principal: admin consent or `az ad sp create --id <app>` in that tenant",
        Propagation,
    ),
    row(
        7000215,
        "an invalid client secret was sent",
        "send only the assertion; no client secret is needed",
        Never,
    ),
    row(
        7000218,
        "the request carried neither client_assertion nor client_secret",
        "the assertion was empty: the managed-identity leg failed silently",
        Never,
    ),
    row(
        50027,
        "the assertion is not a valid JWT",
        "inspect the assertion with `ficx inspect`",
        Never,
    ),
    row(
        500011,
        "the resource principal was not found in the target tenant",
        "check the scope (exactly one <resource>/.default) and that the resource exists in the target tenant",
        Never,
    ),
    row(
        501051,
        "the app is not assigned to a role of the target resource",
        "assign an app role on the resource to the app's service principal in the target tenant",
        Never,
    ),
    row(
        90002,
        "the tenant was not found",
        "check the tenant id or domain, and that it is in the same cloud as the authority host",
        Never,
    ),
    row(
        900382,
        "cross-cloud requests by confidential clients are rejected",
        "keep the managed identity, the app, the FIC audience and the token endpoint in one cloud",
        Never,
    ),
    row(
        900432,
        "cross-cloud requests by confidential clients are rejected",
        "keep the managed identity, the app, the FIC audience and the token endpoint in one cloud",
        Never,
    ),
    row(
        70011,
        "the scope is invalid",
        "send exactly one <resource>/.default",
        Never,
    ),
    row(
        700022,
        "the scope names several resources",
        "send exactly one <resource>/.default",
        Never,
    ),
    row(
        700023,
        "the scope has no resource",
        "send exactly one <resource>/.default",
        Never,
    ),
    row(
        1002012,
        "the scope lacks the /.default suffix required by client credentials",
        "send exactly one <resource>/.default",
        Never,
    ),
];

/// Look an AADSTS code up in [`AADSTS_CODES`].
///
/// ```
/// let row = ficx::hints::lookup(7000215).expect("a known code");
/// assert!(!row.meaning.is_empty() && !row.fix.is_empty());
/// assert!(ficx::hints::lookup(1).is_none());
/// ```
pub fn lookup(code: u32) -> Option<&'static AadstsCode> {
    AADSTS_CODES.iter().find(|r| r.code == code)
}

pub(crate) fn aadsts_hint(code: u32) -> Option<&'static str> {
    lookup(code).map(|r| r.fix)
}

pub(crate) fn mi_hint(e: &MiError) -> Option<&'static str> {
    let code = e.code.as_deref().unwrap_or("");
    let message = e.message.as_deref().unwrap_or("").to_ascii_lowercase();
    match (e.source_kind, e.status) {
        (_, 400) if code == "invalid_resource" || message.contains("aadsts50001") => Some(
            "the MI endpoint does not know the requested resource: check the exchange audience for your cloud",
        ),
        (SourceKind::Imds, 400) | (SourceKind::AppService, 400) | (SourceKind::AppService, 404) => {
            Some(
                "the identity is not assigned to this compute, or the selector is wrong: attach the user-assigned MI and pass its client id",
            )
        }
        (SourceKind::Imds, 403) if message.contains("unreachable") => Some(
            "a local proxy (e.g. Docker Desktop) answers for IMDS: there is no managed identity here",
        ),
        (SourceKind::Imds, 410) | (SourceKind::Imds, 404) => {
            Some("IMDS is updating; it is usually back within 70 s")
        }
        (SourceKind::ServiceFabric, 404) => {
            Some("the Service Fabric application has no managed identity configured")
        }
        (_, 401) | (_, 403) => Some(
            "the MI endpoint refused the request: check the platform secret variables (IDENTITY_HEADER, MSI_SECRET) and permissions",
        ),
        (_, 429) => Some("the MI endpoint is throttling: share one ficx cache per process"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_once_and_every_fix_one_line() {
        let mut seen = std::collections::HashSet::new();
        for r in AADSTS_CODES {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            assert!(!r.fix.contains('\n') && !r.meaning.contains('\n'));
        }
        assert_eq!(lookup(700024).unwrap().retry, RetryClass::Remint);
        assert_eq!(lookup(70021).unwrap().retry, RetryClass::Propagation);
        assert!(lookup(1).is_none());
    }
}
