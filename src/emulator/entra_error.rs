//! Entra's OAuth error replies: the AADSTS code, its OAuth `error`, the HTTP status (401 for
//! `invalid_client`, else 400) and the JSON body with `error_description` ("AADSTSnnnn: text
//! \r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …"), `error_codes`, `timestamp`,
//! `trace_id`, `correlation_id` and `error_uri` (protocol.md §3.4). Texts follow real Entra wording.

use std::time::SystemTime;

use serde_json::json;

/// One refusal of the authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntraFailure {
    pub(crate) code: u32,
    pub(crate) message: String,
}

/// The OAuth `error` for an AADSTS code.
pub(crate) fn oauth_error(code: u32) -> &'static str {
    match code {
        700211 | 700212 | 700213 | 70021 | 70025 | 700024 | 700027 | 700229 | 700226 | 700236
        | 7000229 | 7000215 | 7000218 => "invalid_client",
        700016 => "unauthorized_client",
        90002 | 900144 | 50027 => "invalid_request",
        50049 => "invalid_instance",
        70011 | 1002012 => "invalid_scope",
        500011 => "invalid_resource",
        70003 => "unsupported_grant_type",
        90033 | 90055 => "temporarily_unavailable",
        _ => "invalid_request",
    }
}

impl EntraFailure {
    pub(crate) fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn error(&self) -> &'static str {
        oauth_error(self.code)
    }

    /// 401 for client-authentication failures (`invalid_client`), else 400.
    pub(crate) fn status(&self) -> u16 {
        if self.error() == "invalid_client" {
            401
        } else {
            400
        }
    }

    pub(crate) fn tenant_not_found(tenant: &str) -> Self {
        Self::new(
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    pub(crate) fn missing_param(name: &str) -> Self {
        Self::new(
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    pub(crate) fn unsupported_grant(g: &str) -> Self {
        Self::new(
            70003,
            format!("The app requested an unsupported grant type '{g}'."),
        )
    }

    pub(crate) fn secret_sent(client_id: &str) -> Self {
        Self::new(
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )
    }

    pub(crate) fn no_assertion() -> Self {
        Self::new(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    }

    pub(crate) fn malformed(why: &str) -> Self {
        Self::new(50027, format!("JWT token is invalid or malformed ({why})."))
    }

    pub(crate) fn bad_signature() -> Self {
        Self::new(
            700027,
            "Client assertion failed signature validation. The signing key identifier is not a key of this issuer, or the signature does not match.",
        )
    }

    pub(crate) fn time_range(now: i64, nbf: Option<i64>, exp: Option<i64>) -> Self {
        let f = |t: Option<i64>| t.map(format_ts).unwrap_or_else(|| "(none)".into());
        Self::new(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                format_ts(now),
                f(nbf),
                f(exp)
            ),
        )
    }

    pub(crate) fn delegated(issuer: &str) -> Self {
        Self::new(
            700229,
            format!(
                "Forbidden token: Only app-only tokens can be used as federated identity credentials for Entra issuer '{issuer}'. A delegated (user) token was presented."
            ),
        )
    }

    pub(crate) fn not_managed_identity(issuer: &str) -> Self {
        Self::new(
            700226,
            format!(
                "Only managed identity tokens can be used as federated identity credentials for Entra issuer '{issuer}'."
            ),
        )
    }

    pub(crate) fn app_not_found(client_id: &str, tenant_name: &str) -> Self {
        Self::new(
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant_name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }

    pub(crate) fn missing_sp(client_id: &str, tenant_id: &str) -> Self {
        Self::new(
            7000229,
            format!(
                "The client application {client_id} is missing service principal in the tenant {tenant_id}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119"
            ),
        )
    }

    pub(crate) fn cross_tenant_issuer(issuer: &str) -> Self {
        Self::new(
            700236,
            format!(
                "Entra ID tokens issued by issuer '{issuer}' may not be used for federated identity credential flows for applications or managed identities registered in this tenant."
            ),
        )
    }

    pub(crate) fn no_fics(client_id: &str, app_name: &str) -> Self {
        Self::new(
            70025,
            format!(
                "The client '{client_id}'({app_name}) has no configured federated identity credentials."
            ),
        )
    }

    pub(crate) fn no_issuer_match(issuer: &str) -> Self {
        Self::new(
            700211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{issuer}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        )
    }

    pub(crate) fn no_subject_match(subject: &str) -> Self {
        Self::new(
            700213,
            format!(
                "No matching federated identity record found for presented assertion subject '{subject}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        )
    }

    pub(crate) fn no_audience_match(audience: &str) -> Self {
        Self::new(
            700212,
            format!(
                "No matching federated identity record found for presented assertion audience '{audience}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        )
    }

    pub(crate) fn no_record(issuer: &str, subject: &str, audience: &str) -> Self {
        Self::new(
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{audience}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        )
    }

    pub(crate) fn several_scopes(scope: &str) -> Self {
        Self::new(
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid. The client credentials flow accepts exactly one <resource>/.default scope."
            ),
        )
    }

    pub(crate) fn no_default_suffix(scope: &str) -> Self {
        Self::new(
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        )
    }

    pub(crate) fn resource_not_found(resource: &str, tenant_name: &str) -> Self {
        Self::new(
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant_name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        )
    }

    pub(crate) fn unknown_instance() -> Self {
        Self::new(50049, "Unknown or invalid instance.")
    }

    /// A generic failure for an injected status fault on an authority endpoint.
    pub(crate) fn for_status(status: u16) -> Self {
        match status {
            429 => Self::new(
                90055,
                "TenantThrottlingThreshold: The number of requests has exceeded the throttling threshold. Please retry after the interval in the Retry-After header.",
            ),
            s if s >= 500 => Self::new(90033, "A transient error has occurred. Please try again."),
            _ => Self::new(
                900000,
                "The request could not be processed (injected fault).",
            ),
        }
    }
}

/// `yyyy-mm-dd hh:mm:ssZ`, the form Entra's `timestamp` uses.
pub(crate) fn format_ts(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => "0000-00-00 00:00:00Z".into(),
    }
}

/// Echo `client-request-id` as the correlation id when it is a GUID, else a fresh one.
pub(crate) fn correlation_id(header: Option<&str>) -> String {
    match header {
        Some(h) if super::config::is_guid(h.trim()) => h.trim().to_ascii_lowercase(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

/// The JSON error body.
pub(crate) fn body(
    f: &EntraFailure,
    status: Option<u16>,
    correlation: &str,
    now: SystemTime,
    authority: &str,
) -> (u16, String) {
    let trace = uuid::Uuid::new_v4().to_string();
    let ts = format_ts(crate::clock::unix(now));
    let description = format!(
        "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}",
        f.code, f.message
    );
    let body = json!({
        "error": f.error(),
        "error_description": description,
        "error_codes": [f.code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": format!("{authority}/error?code={}", f.code),
    });
    (status.unwrap_or_else(|| f.status()), body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_errors() {
        assert_eq!(EntraFailure::missing_sp("a", "t").status(), 401);
        assert_eq!(
            EntraFailure::app_not_found("a", "t").error(),
            "unauthorized_client"
        );
        assert_eq!(EntraFailure::app_not_found("a", "t").status(), 400);
        assert_eq!(
            EntraFailure::no_default_suffix("x").error(),
            "invalid_scope"
        );
        assert_eq!(
            EntraFailure::resource_not_found("x", "t").error(),
            "invalid_resource"
        );
        assert_eq!(
            EntraFailure::missing_param("scope").error(),
            "invalid_request"
        );
    }

    #[test]
    fn body_shape() {
        let f = EntraFailure::no_subject_match("sub-x");
        let corr = correlation_id(Some("AAAAAAAA-0000-4000-8000-000000000000"));
        let (status, b) = body(&f, None, &corr, SystemTime::UNIX_EPOCH, "https://h");
        assert_eq!(status, 401);
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["error"], "invalid_client");
        assert_eq!(v["error_codes"][0], 700213);
        assert_eq!(v["correlation_id"], "aaaaaaaa-0000-4000-8000-000000000000");
        assert_eq!(v["timestamp"], "1970-01-01 00:00:00Z");
        assert_eq!(v["error_uri"], "https://h/error?code=700213");
        let d = v["error_description"].as_str().unwrap();
        assert!(d.starts_with("AADSTS700213: No matching federated identity record found for presented assertion subject 'sub-x'."));
        assert!(
            d.contains("\r\nTrace ID: ")
                && d.contains("\r\nCorrelation ID: aaaaaaaa")
                && d.ends_with("Timestamp: 1970-01-01 00:00:00Z")
        );
        assert_ne!(correlation_id(Some("not-a-guid")), "not-a-guid");
    }
}
