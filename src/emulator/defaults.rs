//! The ids of the built-in default configuration (`default.toml`), as constants for tests,
//! examples and the CLI. A unit test checks each one against the embedded file.

/// Home tenant A (Fabrikam): the managed identities and the multi-tenant app live here.
pub const HOME_TENANT_ID: &str = "11111111-1111-4111-8111-111111111111";
/// Domain of the home tenant.
pub const HOME_TENANT_DOMAIN: &str = "fabrikam.onmicrosoft.com";
/// Foreign tenant B (Contoso): the app has a service principal with Graph
/// `Application.Read.All` and the custom API's `Orders.Read`.
pub const CONTOSO_TENANT_ID: &str = "22222222-2222-4222-8222-222222222222";
/// Domain of Contoso.
pub const CONTOSO_TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
/// Foreign tenant B (Northwind): the app has a service principal with Graph `Directory.Read.All`.
pub const NORTHWIND_TENANT_ID: &str = "33333333-3333-4333-8333-333333333333";
/// Domain of Northwind.
pub const NORTHWIND_TENANT_DOMAIN: &str = "northwind.onmicrosoft.com";
/// Foreign tenant where the app is NOT provisioned (AADSTS700016).
pub const TAILSPIN_TENANT_ID: &str = "44444444-4444-4444-8444-444444444444";
/// Domain of Tailspin.
pub const TAILSPIN_TENANT_DOMAIN: &str = "tailspin.onmicrosoft.com";

/// Name of the user-assigned identity the app's FIC trusts.
pub const UAMI_TRUSTED_NAME: &str = "uami-trusted";
/// Client id of `uami-trusted` (the MI selector).
pub const UAMI_TRUSTED_CLIENT_ID: &str = "a1a1a1a1-0000-4000-8000-000000000001";
/// Object (principal) id of `uami-trusted` (the FIC subject).
pub const UAMI_TRUSTED_OBJECT_ID: &str = "b1b1b1b1-0000-4000-8000-000000000001";
/// ARM resource id of `uami-trusted`.
pub const UAMI_TRUSTED_RESOURCE_ID: &str = "/subscriptions/5f5f5f5f-0000-4000-8000-000000000005/resourceGroups/rg-ficx/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-trusted";
/// Name of the user-assigned identity no FIC trusts (AADSTS700213).
pub const UAMI_UNTRUSTED_NAME: &str = "uami-untrusted";
/// Client id of `uami-untrusted`.
pub const UAMI_UNTRUSTED_CLIENT_ID: &str = "a2a2a2a2-0000-4000-8000-000000000002";
/// Object id of `uami-untrusted`.
pub const UAMI_UNTRUSTED_OBJECT_ID: &str = "b2b2b2b2-0000-4000-8000-000000000002";
/// ARM resource id of `uami-untrusted`.
pub const UAMI_UNTRUSTED_RESOURCE_ID: &str = "/subscriptions/5f5f5f5f-0000-4000-8000-000000000005/resourceGroups/rg-ficx/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-untrusted";
/// Name of the host's system-assigned identity.
pub const SAMI_NAME: &str = "sami";
/// Client id of the system-assigned identity (also Azure ML's `DEFAULT_IDENTITY_CLIENT_ID`).
pub const SAMI_CLIENT_ID: &str = "a3a3a3a3-0000-4000-8000-000000000003";
/// Object id of the system-assigned identity.
pub const SAMI_OBJECT_ID: &str = "b3b3b3b3-0000-4000-8000-000000000003";
/// Resource id of the compute that owns the system-assigned identity.
pub const SAMI_RESOURCE_ID: &str = "/subscriptions/5f5f5f5f-0000-4000-8000-000000000005/resourceGroups/rg-ficx/providers/Microsoft.Compute/virtualMachines/vm-ficx";

/// Name of the multi-tenant app carrying the FIC.
pub const APP_NAME: &str = "ficx-demo-app";
/// Client id of `ficx-demo-app` (`client_id` on the wire).
pub const APP_CLIENT_ID: &str = "c0c0c0c0-0000-4000-8000-00000000c0c0";
/// Object id of `ficx-demo-app` (how Graph addresses it).
pub const APP_OBJECT_ID: &str = "d0d0d0d0-0000-4000-8000-00000000d0d0";
/// Name of the FIC on `ficx-demo-app` trusting `uami-trusted`.
pub const APP_FIC_NAME: &str = "trust-uami-trusted";
/// Issuer of that FIC (the home tenant's v2 issuer).
pub const APP_FIC_ISSUER: &str =
    "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0";
/// Service principal object id of `ficx-demo-app` in Contoso (the app token's `oid`).
pub const APP_SP_CONTOSO_OBJECT_ID: &str = "f2f2f2f2-0000-4000-8000-0000000000f2";
/// Service principal object id of `ficx-demo-app` in Northwind.
pub const APP_SP_NORTHWIND_OBJECT_ID: &str = "f3f3f3f3-0000-4000-8000-0000000000f3";

/// Name of the single-tenant app registered in Contoso with a FIC for `uami-trusted`
/// (AADSTS700236).
pub const LOCAL_APP_NAME: &str = "contoso-local-app";
/// Client id of `contoso-local-app`.
pub const LOCAL_APP_CLIENT_ID: &str = "c1c1c1c1-0000-4000-8000-00000000c1c1";

/// Object id of the Cloud Shell user.
pub const CLOUD_SHELL_USER_OBJECT_ID: &str = "e0e0e0e0-0000-4000-8000-0000000000e0";
/// UPN of the Cloud Shell user.
pub const CLOUD_SHELL_USER_UPN: &str = "admin@fabrikam.onmicrosoft.com";

/// The public-cloud token-exchange audience (MI-only resource).
pub const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Microsoft Graph's identifier URI (v1 tokens).
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Microsoft Graph's application id.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Azure Resource Manager's identifier URI.
pub const ARM_RESOURCE: &str = "https://management.azure.com";
/// The custom API that exists only in Contoso (v2 tokens, role `Orders.Read` granted).
pub const ORDERS_RESOURCE: &str = "api://orders";
/// The custom API's application id.
pub const ORDERS_APP_ID: &str = "0a0a0a0a-0000-4000-8000-00000000000a";

/// Domain of generated customer tenant `i` (see [`EmulatorConfig::with_customer_tenants`]).
///
/// [`EmulatorConfig::with_customer_tenants`]: super::EmulatorConfig::with_customer_tenants
///
/// ```
/// assert_eq!(ficx::emulator::defaults::customer_domain(7), "customer7.onmicrosoft.com");
/// ```
pub fn customer_domain(i: usize) -> String {
    format!("customer{i}.onmicrosoft.com")
}

/// Tenant id of generated customer tenant `i` (see [`customer_domain`]).
///
/// ```
/// assert_eq!(
///     ficx::emulator::defaults::customer_tenant_id(7),
///     "77777777-0000-4000-8000-000000000007"
/// );
/// ```
pub fn customer_tenant_id(i: usize) -> String {
    format!("77777777-0000-4000-8000-{i:012}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::EmulatorConfig;

    #[test]
    fn consts_match_the_embedded_config() {
        let c = EmulatorConfig::default_config();
        let tenant = |id: &str| c.tenants.iter().find(|t| t.id == id).unwrap();
        assert_eq!(tenant(HOME_TENANT_ID).domains, [HOME_TENANT_DOMAIN]);
        assert_eq!(tenant(CONTOSO_TENANT_ID).domains, [CONTOSO_TENANT_DOMAIN]);
        assert_eq!(
            tenant(NORTHWIND_TENANT_ID).domains,
            [NORTHWIND_TENANT_DOMAIN]
        );
        assert_eq!(tenant(TAILSPIN_TENANT_ID).domains, [TAILSPIN_TENANT_DOMAIN]);
        for (name, cid, oid, rid) in [
            (
                UAMI_TRUSTED_NAME,
                UAMI_TRUSTED_CLIENT_ID,
                UAMI_TRUSTED_OBJECT_ID,
                UAMI_TRUSTED_RESOURCE_ID,
            ),
            (
                UAMI_UNTRUSTED_NAME,
                UAMI_UNTRUSTED_CLIENT_ID,
                UAMI_UNTRUSTED_OBJECT_ID,
                UAMI_UNTRUSTED_RESOURCE_ID,
            ),
            (SAMI_NAME, SAMI_CLIENT_ID, SAMI_OBJECT_ID, SAMI_RESOURCE_ID),
        ] {
            let m = c
                .managed_identities
                .iter()
                .find(|m| m.name == name)
                .unwrap();
            assert_eq!((m.client_id.as_str(), m.object_id.as_str()), (cid, oid));
            assert_eq!(m.resource_id.as_deref(), Some(rid));
            assert_eq!(m.tenant, HOME_TENANT_ID);
        }
        let app = c.apps.iter().find(|a| a.name == APP_NAME).unwrap();
        assert_eq!(
            (app.client_id.as_str(), app.object_id.as_str()),
            (APP_CLIENT_ID, APP_OBJECT_ID)
        );
        assert_eq!(app.fics[0].name, APP_FIC_NAME);
        assert_eq!(app.fics[0].issuer, APP_FIC_ISSUER);
        assert_eq!(app.fics[0].subject, UAMI_TRUSTED_OBJECT_ID);
        assert_eq!(app.fics[0].audiences, [EXCHANGE_AUDIENCE]);
        let local = c.apps.iter().find(|a| a.name == LOCAL_APP_NAME).unwrap();
        assert_eq!(local.client_id, LOCAL_APP_CLIENT_ID);
        let sp = |t: &str| {
            c.service_principals
                .iter()
                .find(|s| s.app == APP_NAME && s.tenant == t)
        };
        assert_eq!(
            sp(CONTOSO_TENANT_ID).unwrap().object_id.as_deref(),
            Some(APP_SP_CONTOSO_OBJECT_ID)
        );
        assert_eq!(
            sp(NORTHWIND_TENANT_ID).unwrap().object_id.as_deref(),
            Some(APP_SP_NORTHWIND_OBJECT_ID)
        );
        assert!(sp(TAILSPIN_TENANT_ID).is_none() && sp(HOME_TENANT_ID).is_none());
        let user = c.host.cloud_shell_user.as_ref().unwrap();
        assert_eq!(
            (user.object_id.as_str(), user.upn.as_str()),
            (CLOUD_SHELL_USER_OBJECT_ID, CLOUD_SHELL_USER_UPN)
        );
        let res = |uri: &str| {
            c.resources
                .iter()
                .find(|r| r.identifier_uris.iter().any(|u| u == uri))
                .unwrap()
        };
        assert_eq!(res(GRAPH_RESOURCE).app_id, GRAPH_APP_ID);
        assert_eq!(res(ORDERS_RESOURCE).app_id, ORDERS_APP_ID);
        assert!(res(EXCHANGE_AUDIENCE).mi_only);
        res(ARM_RESOURCE);
    }
}
