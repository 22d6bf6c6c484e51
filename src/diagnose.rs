//! Explanations of failures in plain words, with the fix filled in with the caller's own values
//! (the exact FIC to create, the consent URL for the tenant, the app to move the FIC to). Used by
//! `ficx doctor`; services can log [`explain`]'s output too. Codes and wording follow
//! protocol.md §4 and the table in [`crate::hints`].

use crate::error::{Error, SourceKind};
use crate::ids::{Cloud, ManagedIdentity};
use crate::jwt::JwtView;

/// What is known about the attempt that failed.
///
/// ```
/// use ficx::diagnose::{Facts, explain};
/// use ficx::{Cloud, TenantId};
/// let err = TenantId::new("common").unwrap_err();
/// let facts = Facts { client_id: "c0c0c0c0-0000-4000-8000-00000000c0c0", tenant: Some("common"), scope: None,
///     cloud: &Cloud::Public, audience: "api://AzureADTokenExchange", assertion: None, identity: None };
/// let diagnosis = explain(&err, &facts);
/// assert!(!diagnosis.summary.is_empty());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The multi-tenant app's client id.
    pub client_id: &'a str,
    /// The customer tenant asked, if the failure is about one.
    pub tenant: Option<&'a str>,
    /// The scope asked for.
    pub scope: Option<&'a str>,
    /// The cloud in use.
    pub cloud: &'a Cloud,
    /// The exchange audience the MI token was requested for.
    pub audience: &'a str,
    /// The MI token's claims, when it was obtained.
    pub assertion: Option<&'a JwtView>,
    /// The identity selector used.
    pub identity: Option<&'a ManagedIdentity>,
}

/// A failure explained: one sentence, then the steps that fix it.
///
/// ```
/// use ficx::diagnose::{Facts, explain};
/// use ficx::{Cloud, Error};
/// let err = Error::NoManagedIdentity { checked: "IMDS: no answer".into() };
/// let facts = Facts { client_id: "c0c0c0c0-0000-4000-8000-00000000c0c0", tenant: None, scope: None,
///     cloud: &Cloud::Public, audience: "api://AzureADTokenExchange", assertion: None, identity: None };
/// let d = explain(&err, &facts);
/// assert!(!d.fix.is_empty()); // one step per line
/// assert!(d.fix.iter().all(|step| !step.contains('\n')));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnosis {
    /// What went wrong, in plain words.
    pub summary: String,
    /// What to do, one step per line, with the caller's values filled in.
    pub fix: Vec<String>,
}

/// The admin-consent URL for `client_id` in `tenant` on `cloud`.
///
/// ```
/// use ficx::{Cloud, diagnose::consent_url};
/// assert_eq!(
///     consent_url(&Cloud::UsGov, "contoso.onmicrosoft.us", "c0c0c0c0-0000-4000-8000-00000000c0c0"),
///     "https://login.microsoftonline.us/contoso.onmicrosoft.us/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0"
/// );
/// ```
pub fn consent_url(cloud: &Cloud, tenant: &str, client_id: &str) -> String {
    format!(
        "{}/{tenant}/adminconsent?client_id={client_id}",
        cloud.authority_host()
    )
}

/// The `ficx setup` command that prints the FIC for these claims (or the selector).
///
/// ```
/// use ficx::{Cloud, diagnose::{Facts, setup_command}};
/// let facts = Facts { client_id: "c0c0c0c0-0000-4000-8000-00000000c0c0", tenant: Some("contoso.onmicrosoft.com"), scope: None,
///     cloud: &Cloud::Public, audience: "api://AzureADTokenExchange", assertion: None, identity: None };
/// // Without the MI token's claims: read them live.
/// assert_eq!(setup_command(&facts), "ficx setup --from-live --app c0c0c0c0-0000-4000-8000-00000000c0c0");
/// ```
pub fn setup_command(facts: &Facts<'_>) -> String {
    match facts.assertion {
        Some(a) => format!(
            "ficx setup --mi-tenant {} --mi-object-id {} --app {} --format text{}",
            a.str_claim("tid").unwrap_or("<MI tenant>"),
            a.str_claim("sub").unwrap_or("<MI object id>"),
            facts.client_id,
            facts
                .tenant
                .map(|t| format!(" --consent-tenant {t}"))
                .unwrap_or_default()
        ),
        None => format!("ficx setup --from-live --app {}", facts.client_id),
    }
}

fn claim<'a>(facts: &'a Facts<'_>, name: &str) -> &'a str {
    facts
        .assertion
        .and_then(|a| a.str_claim(name))
        .unwrap_or("<unknown>")
}

fn aud<'a>(facts: &'a Facts<'_>) -> &'a str {
    facts
        .assertion
        .and_then(|a| a.audience())
        .unwrap_or(facts.audience)
}

/// Explain `err` with `facts`.
///
/// ```
/// use ficx::diagnose::{Facts, explain};
/// use ficx::{Cloud, Error};
/// let e = Error::NoManagedIdentity { checked: "IMDS did not answer".into() };
/// let facts = Facts { client_id: "c0c0c0c0-0000-4000-8000-00000000c0c0", tenant: None, scope: None,
///     cloud: &Cloud::Public, audience: "api://AzureADTokenExchange", assertion: None, identity: None };
/// assert!(explain(&e, &facts).summary.contains("no managed identity"));
/// ```
pub fn explain(err: &Error, facts: &Facts<'_>) -> Diagnosis {
    let tenant = facts.tenant.unwrap_or("<tenant>");
    let app = facts.client_id;
    let setup = setup_command(facts);
    let d = |summary: String, fix: Vec<String>| Diagnosis { summary, fix };
    if let Some(code) = err.aadsts() {
        return match code {
            700016 | 7000229 => d(
                format!("the app {app} has no service principal in tenant {tenant}: nobody there has consented to it (or the client id is wrong)"),
                vec![
                    format!("an admin of {tenant} opens {}", consent_url(facts.cloud, tenant, app)),
                    format!("or, signed in to that tenant: az login --tenant {tenant} && az ad sp create --id {app}"),
                    "then grant the new service principal an app role on the resource it must call".into(),
                    "if consent was given minutes ago, retry with --wait-propagation 5m".into(),
                ],
            ),
            700213 => d(
                format!("no federated credential on app {app} has the subject {} (the MI's object id)", claim(facts, "sub")),
                vec![
                    format!("the FIC subject must be exactly {} (the managed identity's object/principal id, not its client id)", claim(facts, "sub")),
                    format!("print the FIC to create: {setup}"),
                ],
            ),
            700211 => d(
                format!("no federated credential on app {app} has the issuer {}", claim(facts, "iss")),
                vec![
                    format!("the FIC issuer must be exactly {} (no trailing slash, no spaces)", claim(facts, "iss")),
                    format!("print the FIC to create: {setup}"),
                ],
            ),
            700212 | 7002121 => {
                let got = aud(facts);
                let mut fix = vec![format!("the FIC audience must be exactly {got}")];
                if got != facts.cloud.exchange_audience() {
                    fix.push(format!(
                        "this cloud's exchange audience is {}: request the MI token for it (drop --audience) and list it on the FIC",
                        facts.cloud.exchange_audience()
                    ));
                }
                fix.push(format!("print the FIC to create: {setup}"));
                d(format!("no federated credential on app {app} lists the audience {got}"), fix)
            }
            70021 => d(
                format!(
                    "no federated credential on app {app} matches issuer {}, subject {}, audience {}",
                    claim(facts, "iss"),
                    claim(facts, "sub"),
                    aud(facts)
                ),
                vec![
                    format!("create it (or fix the one that is off by a character): {setup}"),
                    "if you created it in the last few minutes, it may not have propagated: retry with --wait-propagation 5m".into(),
                ],
            ),
            70025 => d(
                format!("the app {app} has no federated credentials at all"),
                vec![format!("add one: {setup}")],
            ),
            700236 => d(
                format!(
                    "the app {app} is not registered in the managed identity's tenant {}; Entra only accepts its MI tokens for apps registered there",
                    claim(facts, "tid")
                ),
                vec![
                    format!("move the FIC to a multi-tenant app registered in tenant {}", claim(facts, "tid")),
                    format!("provision that app in {tenant}: {}", consent_url(facts.cloud, tenant, "<that app's client id>")),
                    "and pass that app's client id as --client-id".into(),
                ],
            ),
            700024 => d(
                "Entra saw the managed identity's token as expired (or not yet valid)".into(),
                vec![
                    "ficx already fetched a fresh MI token and retried once; check this machine's clock (NTP) and the token's exp with `ficx assertion | ficx inspect`".into(),
                ],
            ),
            700027 => d(
                "Entra could not verify the assertion's signature".into(),
                vec![
                    "ficx already retried once with a fresh MI token; check the MI endpoint and the token endpoint are in the same cloud (--cloud)".into(),
                ],
            ),
            700229 => d(
                "the assertion is a delegated (user) token; Entra accepts only app-only tokens as federated credentials".into(),
                vec!["run on Azure compute with a user-assigned managed identity; Cloud Shell and developer logins produce user tokens".into()],
            ),
            700226 | 700222 => d(
                "the assertion is an Entra token that is not a managed identity's".into(),
                vec!["use the user-assigned managed identity's token (the default MI source), not an app's token".into()],
            ),
            90002 => d(
                format!("tenant {tenant} does not exist in the {} cloud", facts.cloud.name()),
                vec![
                    format!("check the tenant id or domain {tenant}"),
                    "if the tenant lives in another cloud, pass --cloud usgov or --cloud china (cross-cloud exchange is not possible)".into(),
                ],
            ),
            500011 => d(
                format!(
                    "the resource of {} does not exist in tenant {tenant}",
                    facts.scope.unwrap_or("<scope>")
                ),
                vec![
                    "check --scope: one resource, e.g. https://graph.microsoft.com or api://<app id URI>".into(),
                    format!("the resource's own service principal must exist in {tenant}"),
                ],
            ),
            70011 | 700022 | 700023 | 1002012 => d(
                format!("Entra refused the scope {}", facts.scope.unwrap_or("<scope>")),
                vec!["send exactly one <resource>/.default".into()],
            ),
            _ => d(
                err.to_string(),
                err.hint().map(|h| vec![h.to_owned()]).unwrap_or_default(),
            ),
        };
    }
    match err {
        Error::ManagedIdentity(mi)
            if matches!(mi.status, 400 | 404) && mi.source_kind != SourceKind::ServiceFabric =>
        {
            let who = facts
                .identity
                .map(|i| i.to_string())
                .unwrap_or_else(|| mi.identity.clone());
            d(
                format!(
                    "the {} endpoint does not know {who}: the identity is not assigned to this compute (or the id is wrong)",
                    mi.source_kind
                ),
                vec![
                    format!(
                        "assign the user-assigned identity to this compute (portal: Identity > User assigned; or az vm identity assign / az webapp identity assign --identities <its resource id>)"
                    ),
                    "check the id: az identity show -g <rg> -n <name> --query clientId".into(),
                ],
            )
        }
        Error::NoManagedIdentity { checked } => d(
            format!("no managed identity endpoint here ({checked})"),
            vec![
                "run on Azure compute with a user-assigned managed identity".into(),
                "to try the flow locally: ficx emulate, then use the variables it prints".into(),
            ],
        ),
        Error::Unsupported(why) => d(why.clone(), Vec::new()),
        e if e.is_transient() => d(
            format!("a transient failure: {e}"),
            vec!["retry later; ficx already retried within its budget".into()],
        ),
        e => d(
            e.to_string(),
            e.hint().map(|h| vec![h.to_owned()]).unwrap_or_default(),
        ),
    }
}
