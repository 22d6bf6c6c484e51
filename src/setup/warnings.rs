//! The checks behind [`SetupWarning`]: everything about a plan that Entra would store without
//! complaint and that would only fail at the first exchange (protocol.md §1: "Entra stores an FIC
//! with a mistaken issuer, subject or audience without complaint"), plus the reminders an admin
//! needs. Errors (unusable input) are raised by the builder, not here.

use std::fmt;

use serde::Serialize;

use super::{
    MAX_FIC_FIELD_CHARS, MAX_FIC_NAME_CHARS, MAX_FICS_PER_APP, MIN_FIC_NAME_CHARS, SetupPlan,
};
use crate::error::quote;
use crate::ids::{CHINA_AUTHORITY_HOST, Cloud};

/// The stable code of a [`SetupWarning`]; its text form (`system-assigned`, …) is what the JSON
/// output carries.
///
/// ```
/// use ficx::SetupWarningCode;
/// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").mi_name("uami-trusted")
///     .app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0").build()?;
/// let codes: Vec<SetupWarningCode> = plan.warnings().iter().map(|w| w.code).collect();
/// assert_eq!(codes, [SetupWarningCode::FicLimit]);
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SetupWarningCode {
    /// `system-assigned`: Microsoft documents the flow for user-assigned identities only.
    SystemAssigned,
    /// `name-invalid`: the name is not 3–120 characters of letters, digits, `-` and `_` starting
    /// with a letter or digit; [`SetupPlan::suggested_name`] has a corrected one.
    NameInvalid,
    /// `issuer-whitespace`: leading or trailing whitespace in the issuer blocks the exchange.
    IssuerWhitespace,
    /// `issuer-trailing-slash`: the MI token's `iss` has none, so the match fails (AADSTS700211).
    IssuerTrailingSlash,
    /// `issuer-double-slash`: a doubled `/` in the path breaks the exact match (AADSTS700211).
    IssuerDoubleSlash,
    /// `issuer-tenant-not-guid`: the composed issuer names tenant A by domain, but MI tokens carry
    /// the tenant GUID in `iss`.
    IssuerTenantNotGuid,
    /// `issuer-cloud-mismatch`: the issuer's host is not the chosen cloud's authority host;
    /// cross-cloud exchanges do not work.
    IssuerCloudMismatch,
    /// `audience-cloud-mismatch`: the audience is not the chosen cloud's exchange audience.
    AudienceCloudMismatch,
    /// `field-too-long`: a field is over the 600 characters Entra accepts.
    FieldTooLong,
    /// `consent-needs-client-id`: customer tenants were given but only the app's object id is
    /// known, so no consent URL or `az ad sp create` can be printed.
    ConsentNeedsClientId,
    /// `fic-limit`: always present; an app holds at most 20 FICs, and issuer + subject must be
    /// unique per app.
    FicLimit,
}

impl SetupWarningCode {
    /// The stable code text.
    ///
    /// ```
    /// use ficx::SetupWarningCode;
    /// assert_eq!(SetupWarningCode::IssuerTrailingSlash.as_str(), "issuer-trailing-slash"); // as in the JSON output
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            SetupWarningCode::SystemAssigned => "system-assigned",
            SetupWarningCode::NameInvalid => "name-invalid",
            SetupWarningCode::IssuerWhitespace => "issuer-whitespace",
            SetupWarningCode::IssuerTrailingSlash => "issuer-trailing-slash",
            SetupWarningCode::IssuerDoubleSlash => "issuer-double-slash",
            SetupWarningCode::IssuerTenantNotGuid => "issuer-tenant-not-guid",
            SetupWarningCode::IssuerCloudMismatch => "issuer-cloud-mismatch",
            SetupWarningCode::AudienceCloudMismatch => "audience-cloud-mismatch",
            SetupWarningCode::FieldTooLong => "field-too-long",
            SetupWarningCode::ConsentNeedsClientId => "consent-needs-client-id",
            SetupWarningCode::FicLimit => "fic-limit",
        }
    }
}

impl fmt::Display for SetupWarningCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something about a [`SetupPlan`] that deserves the admin's attention before creating it.
///
/// ```
/// let plan = ficx::SetupPlan::builder().mi_tenant("11111111-1111-4111-8111-111111111111")
///     .mi_object_id("b1b1b1b1-0000-4000-8000-000000000001").app_client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .issuer(" https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0").build()?;
/// let w = plan.warnings().iter().find(|w| w.code == ficx::SetupWarningCode::IssuerWhitespace).unwrap();
/// assert!(!w.message.is_empty());
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SetupWarning {
    /// Stable code.
    pub code: SetupWarningCode,
    /// One line (user values are quoted and escaped) saying what is wrong and what to do.
    pub message: String,
}

impl fmt::Display for SetupWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// Run every check, in a fixed order (the order the text output lists them); returns the warnings
/// and, for an invalid name, a corrected one.
pub(super) fn check(
    plan: &SetupPlan,
    composed_issuer: bool,
    name_given: bool,
) -> (Vec<SetupWarning>, Option<String>) {
    let mut out = Vec::new();
    let mut warn = |code, message: String| out.push(SetupWarning { code, message });
    let cloud = &plan.cloud;

    if plan.mi.system_assigned {
        warn(
            SetupWarningCode::SystemAssigned,
            "the managed identity is system-assigned; Microsoft documents managed identities as \
             FIC credentials for user-assigned identities only: use a user-assigned one"
                .into(),
        );
    }

    let mut suggestion = None;
    if let Some(problem) = name_problem(&plan.name) {
        let fixed = sanitize_name(&plan.name);
        warn(
            SetupWarningCode::NameInvalid,
            format!(
                "the name {} {problem}; Entra takes {MIN_FIC_NAME_CHARS}-{MAX_FIC_NAME_CHARS} \
                 letters, digits, '-' or '_', starting with a letter or digit; try {fixed}",
                quote(&plan.name)
            ),
        );
        // Only reachable for names given explicitly: defaults are sanitised when built.
        debug_assert!(name_given);
        suggestion = Some(fixed);
    }

    let issuer = plan.issuer.as_str();
    let trimmed = issuer.trim();
    if trimmed != issuer {
        warn(
            SetupWarningCode::IssuerWhitespace,
            format!(
                "the issuer {} has leading or trailing whitespace; Entra compares it byte for byte \
                 with the token's iss and the exchange fails",
                quote(issuer)
            ),
        );
    }
    if trimmed.ends_with('/') {
        warn(
            SetupWarningCode::IssuerTrailingSlash,
            format!(
                "the issuer {} ends with '/'; the MI token's iss has no trailing slash, so the \
                 exchange fails with AADSTS700211",
                quote(issuer)
            ),
        );
    }
    let after_scheme = trimmed.split_once("://").map_or(trimmed, |(_, rest)| rest);
    if after_scheme.contains("//") {
        warn(
            SetupWarningCode::IssuerDoubleSlash,
            format!(
                "the issuer {} has a doubled '/'; it must equal the token's iss byte for byte \
                 (AADSTS700211)",
                quote(issuer)
            ),
        );
    }
    if composed_issuer && !plan.mi.tenant.is_guid() {
        warn(
            SetupWarningCode::IssuerTenantNotGuid,
            format!(
                "the issuer names tenant {} by domain, but MI tokens carry the tenant GUID in iss; \
                 give the tenant id (GUID) or the MI's token",
                plan.mi.tenant
            ),
        );
    }
    if let Some(problem) = issuer_host_problem(trimmed, cloud) {
        warn(SetupWarningCode::IssuerCloudMismatch, problem);
    }

    let audience = plan.audiences[0].as_str();
    let expected = cloud.exchange_audience();
    if audience != expected {
        let how = if audience.eq_ignore_ascii_case(expected) {
            "differs only in letter case from"
        } else {
            "is not"
        };
        warn(
            SetupWarningCode::AudienceCloudMismatch,
            format!(
                "the audience {} {how} the {} cloud's exchange audience {expected}; the MI token \
                 must be requested for the FIC's audience, and cross-cloud exchanges do not work",
                quote(audience),
                cloud.name()
            ),
        );
    }

    for (field, value) in [
        ("issuer", issuer),
        ("audience", audience),
        ("description", plan.description.as_str()),
    ] {
        let n = value.chars().count();
        if n > MAX_FIC_FIELD_CHARS {
            warn(
                SetupWarningCode::FieldTooLong,
                format!(
                    "the {field} is {n} characters; Entra accepts at most {MAX_FIC_FIELD_CHARS}"
                ),
            );
        }
    }

    if !plan.consent.is_empty() && plan.app.client_id.is_none() {
        let obj = plan
            .app
            .object_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        warn(
            SetupWarningCode::ConsentNeedsClientId,
            format!(
                "consent in the customer tenants needs the app's client id (appId), and only its \
                 object id is known; find it with: az ad app show --id {obj} --query appId -o tsv"
            ),
        );
    }

    warn(
        SetupWarningCode::FicLimit,
        format!(
            "an app holds at most {MAX_FICS_PER_APP} federated credentials and issuer + subject \
             must be unique on it; list the existing ones with: \
             az ad app federated-credential list --id {}",
            plan.az_app_id()
        ),
    );
    (out, suggestion)
}

/// Why `name` breaks Entra's FIC name rules, or `None` when it is fine.
pub(super) fn name_problem(name: &str) -> Option<String> {
    let n = name.chars().count();
    if !(MIN_FIC_NAME_CHARS..=MAX_FIC_NAME_CHARS).contains(&n) {
        return Some(format!("is {n} characters long"));
    }
    let mut bad: Vec<char> = Vec::new();
    for c in name.chars() {
        let allowed = c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if !allowed && !bad.contains(&c) {
            bad.push(c);
        }
    }
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().take(5).map(|c| format!("{c:?}")).collect();
        return Some(format!(
            "contains characters that are not URL-safe ({})",
            list.join(", ")
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("does not start with a letter or digit".into());
    }
    None
}

/// The closest valid FIC name: other characters become `-` (runs collapsed), leading
/// non-alphanumerics and trailing `-` go, at most 120 characters, and a too-short result is
/// prefixed with `ficx-`.
pub(super) fn sanitize_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let start = out
        .find(|c: char| c.is_ascii_alphanumeric())
        .unwrap_or(out.len());
    let mut out: String = out[start..].chars().take(MAX_FIC_NAME_CHARS).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.chars().count() < MIN_FIC_NAME_CHARS {
        out = if out.is_empty() {
            "ficx".to_owned()
        } else {
            format!("ficx-{out}")
        };
    }
    out
}

/// Why the issuer's host does not belong to `cloud`, or `None` when it does.
fn issuer_host_problem(issuer: &str, cloud: &Cloud) -> Option<String> {
    let expected = cloud
        .authority_host()
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let origin = url::Url::parse(issuer).ok().and_then(|u| {
        let host = u.host_str()?.to_owned();
        Some(match u.port() {
            Some(p) => format!("{}://{host}:{p}", u.scheme()),
            None => format!("{}://{host}", u.scheme()),
        })
    });
    let Some(origin) = origin else {
        return Some(format!(
            "the issuer {} is not a URL; expected {}/<tenant>/v2.0 for the {} cloud",
            quote(issuer),
            cloud.authority_host(),
            cloud.name()
        ));
    };
    let origin = origin.to_ascii_lowercase();
    // China has two login hosts; Cloud::from_authority_host maps both to China.
    let china_alias = matches!(cloud, Cloud::China)
        && (origin == "https://login.chinacloudapi.cn" || origin == CHINA_AUTHORITY_HOST);
    if origin == expected || china_alias {
        return None;
    }
    Some(format!(
        "the issuer's host {origin} is not the {} cloud's authority host {}; the MI, the app and \
         the customer tenants must be in one cloud (cross-cloud exchanges do not work)",
        cloud.name(),
        cloud.authority_host()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaa-0000-4000-8000-00000000000a";
    const MI: &str = "5f5f5f5f-0000-4000-8000-000000000005";
    const APP: &str = "c0c0c0c0-0000-4000-8000-00000000c0c0";

    fn plan(
        f: impl FnOnce(super::super::SetupPlanBuilder) -> super::super::SetupPlanBuilder,
    ) -> SetupPlan {
        f(SetupPlan::builder()
            .mi_tenant(A)
            .mi_object_id(MI)
            .app_client_id(APP))
        .build()
        .unwrap()
    }

    fn codes(p: &SetupPlan) -> Vec<&'static str> {
        p.warnings().iter().map(|w| w.code.as_str()).collect()
    }

    #[test]
    fn names() {
        assert_eq!(name_problem("ficx-orders_api-1"), None);
        assert_eq!(name_problem("abc"), None);
        assert!(name_problem("ab").unwrap().contains("2 characters"));
        assert!(name_problem(&"a".repeat(121)).unwrap().contains("121"));
        assert!(name_problem("-abc").unwrap().contains("start"));
        assert!(name_problem("my fic!").unwrap().contains("(' ', '!')"));
        assert!(name_problem("née-1").is_some(), "ASCII only");

        assert_eq!(sanitize_name("my fic!"), "my-fic");
        assert_eq!(sanitize_name("--__x y--"), "x-y");
        assert_eq!(sanitize_name("ab"), "ficx-ab");
        assert_eq!(sanitize_name("!!"), "ficx");
        assert_eq!(sanitize_name(&"a".repeat(200)).len(), 120);
        for s in [
            "my fic!",
            "--__x y--",
            "ab",
            "!!",
            "é",
            "_a",
            "a\nb",
            &"ü".repeat(300),
        ] {
            assert_eq!(name_problem(&sanitize_name(s)), None, "{s:?}");
        }
    }

    #[test]
    fn name_warning_offers_the_fix() {
        let p = plan(|b| b.name("my fic!"));
        assert_eq!(codes(&p), ["name-invalid", "fic-limit"]);
        assert_eq!(p.suggested_name(), Some("my-fic"));
        assert!(p.warnings()[0].message.contains("try my-fic"));
        // Defaults are always valid, even from an odd MI name.
        let p = plan(|b| b.mi_name(&"x".repeat(130)));
        assert_eq!(codes(&p), ["fic-limit"]);
        assert_eq!(p.name().len(), 120);
    }

    #[test]
    fn issuer_shapes() {
        let good = format!("https://login.microsoftonline.com/{A}/v2.0");
        let p = plan(|b| b.issuer(&format!("{good}/")));
        assert_eq!(codes(&p), ["issuer-trailing-slash", "fic-limit"]);
        assert!(p.warnings()[0].message.contains("AADSTS700211"));
        let p = plan(|b| b.issuer(&format!("https://login.microsoftonline.com//{A}/v2.0")));
        assert_eq!(codes(&p), ["issuer-double-slash", "fic-limit"]);
        let p = plan(|b| b.issuer(&format!(" {good}\n")));
        assert_eq!(codes(&p), ["issuer-whitespace", "fic-limit"]);
        assert!(!p.warnings()[0].message.contains('\n'), "one line");
        let p = plan(|b| b.issuer(&format!("https://sts.windows.net/{A}/")));
        assert_eq!(
            codes(&p),
            [
                "issuer-trailing-slash",
                "issuer-cloud-mismatch",
                "fic-limit"
            ]
        );
        let p = plan(|b| b.issuer("not a url"));
        assert_eq!(codes(&p), ["issuer-cloud-mismatch", "fic-limit"]);
        let p = plan(|b| b.issuer(&format!("HTTPS://Login.MicrosoftOnline.com/{A}/v2.0")));
        assert_eq!(
            codes(&p),
            ["fic-limit"],
            "scheme and host compare case-insensitively"
        );
        let p = plan(|b| b.mi_tenant("contoso.onmicrosoft.com"));
        assert_eq!(codes(&p), ["issuer-tenant-not-guid", "fic-limit"]);
        let p = plan(|b| b.mi_tenant("contoso.onmicrosoft.com").issuer(&good));
        assert_eq!(
            codes(&p),
            ["fic-limit"],
            "a given issuer is not second-guessed"
        );
    }

    #[test]
    fn cloud_mismatches() {
        let p = plan(|b| {
            b.cloud(Cloud::UsGov)
                .issuer(&format!("https://login.microsoftonline.com/{A}/v2.0"))
        });
        assert_eq!(codes(&p), ["issuer-cloud-mismatch", "fic-limit"]);
        let p = plan(|b| b.cloud(Cloud::UsGov).audience("api://AzureADTokenExchange"));
        assert_eq!(codes(&p), ["audience-cloud-mismatch", "fic-limit"]);
        let p = plan(|b| b.audience("api://AzureAdTokenExchange"));
        assert!(p.warnings()[0].message.contains("letter case"));
        let p = plan(|b| {
            b.cloud(Cloud::China)
                .issuer(&format!("https://login.chinacloudapi.cn/{A}/v2.0"))
        });
        assert_eq!(codes(&p), ["fic-limit"]);
        let p = plan(|b| b.cloud(Cloud::China));
        assert_eq!(codes(&p), ["fic-limit"]);
    }

    #[test]
    fn long_fields_and_reminders() {
        let p = plan(|b| b.description(&"d".repeat(601)).audience(&"a".repeat(700)));
        assert_eq!(
            codes(&p),
            [
                "audience-cloud-mismatch",
                "field-too-long",
                "field-too-long",
                "fic-limit"
            ]
        );
        let p = plan(|b| b.description(&"d".repeat(600)));
        assert_eq!(codes(&p), ["fic-limit"]);
        let plain = plan(|b| b);
        let limit = &plain.warnings()[0];
        assert!(
            limit
                .message
                .contains("az ad app federated-credential list --id c0c0c0c0")
        );
        assert_eq!(limit.to_string().lines().count(), 1);
        let p = plan(|b| b.system_assigned(true));
        assert_eq!(codes(&p), ["system-assigned", "fic-limit"]);
    }

    #[test]
    fn codes_serialise_as_their_text() {
        for code in [
            SetupWarningCode::SystemAssigned,
            SetupWarningCode::NameInvalid,
            SetupWarningCode::IssuerWhitespace,
            SetupWarningCode::IssuerTrailingSlash,
            SetupWarningCode::IssuerDoubleSlash,
            SetupWarningCode::IssuerTenantNotGuid,
            SetupWarningCode::IssuerCloudMismatch,
            SetupWarningCode::AudienceCloudMismatch,
            SetupWarningCode::FieldTooLong,
            SetupWarningCode::ConsentNeedsClientId,
            SetupWarningCode::FicLimit,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
