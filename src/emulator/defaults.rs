//! The ids of the built-in default configuration (`default.toml`), as constants for tests,
//! examples and the CLI. A unit test checks each one against the embedded file.

/// Home tenant A (Fabrikam): the managed identities and the multi-tenant app live here.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{HOME_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// // Every managed identity of the built-in directory lives in the home tenant A.
/// assert!(config.managed_identities.iter().all(|mi| mi.tenant == HOME_TENANT_ID));
/// ```
pub const HOME_TENANT_ID: &str = "11111111-1111-4111-8111-111111111111";
/// Domain of the home tenant.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{HOME_TENANT_DOMAIN, HOME_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let home = config.tenants.iter().find(|t| t.id == HOME_TENANT_ID).unwrap();
/// assert_eq!(home.domains, [HOME_TENANT_DOMAIN]);
/// ```
pub const HOME_TENANT_DOMAIN: &str = "fabrikam.onmicrosoft.com";
/// Foreign tenant B (Contoso): the app has a service principal with Graph
/// `Application.Read.All` and the custom API's `Orders.Read`.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{CONTOSO_TENANT_ID, APP_CLIENT_ID}};
/// let config = EmulatorConfig::default_config();
/// // The demo app is provisioned (has a service principal) in Contoso.
/// assert!(config.service_principals.iter().any(|sp| sp.app == "ficx-demo-app" && sp.tenant == CONTOSO_TENANT_ID));
/// # let _ = APP_CLIENT_ID;
/// ```
pub const CONTOSO_TENANT_ID: &str = "22222222-2222-4222-8222-222222222222";
/// Domain of Contoso.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{CONTOSO_TENANT_DOMAIN, CONTOSO_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let contoso = config.tenants.iter().find(|t| t.id == CONTOSO_TENANT_ID).unwrap();
/// assert_eq!(contoso.domains, [CONTOSO_TENANT_DOMAIN]);
/// ```
pub const CONTOSO_TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
/// Foreign tenant B (Northwind): the app has a service principal with Graph `Directory.Read.All`.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{NORTHWIND_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let granted: Vec<&str> = config.role_assignments.iter()
///     .filter(|r| r.tenant == NORTHWIND_TENANT_ID).flat_map(|r| r.roles.iter().map(String::as_str)).collect();
/// assert_eq!(granted, ["Directory.Read.All"]);
/// ```
pub const NORTHWIND_TENANT_ID: &str = "33333333-3333-4333-8333-333333333333";
/// Domain of Northwind.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{NORTHWIND_TENANT_DOMAIN, NORTHWIND_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let northwind = config.tenants.iter().find(|t| t.id == NORTHWIND_TENANT_ID).unwrap();
/// assert_eq!(northwind.domains, [NORTHWIND_TENANT_DOMAIN]);
/// ```
pub const NORTHWIND_TENANT_DOMAIN: &str = "northwind.onmicrosoft.com";
/// Foreign tenant where the app is NOT provisioned (AADSTS700016).
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{TAILSPIN_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// // No service principal there: exchanges for Tailspin fail with AADSTS700016.
/// assert!(config.service_principals.iter().all(|sp| sp.tenant != TAILSPIN_TENANT_ID));
/// ```
pub const TAILSPIN_TENANT_ID: &str = "44444444-4444-4444-8444-444444444444";
/// Domain of Tailspin.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{TAILSPIN_TENANT_DOMAIN, TAILSPIN_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let tailspin = config.tenants.iter().find(|t| t.id == TAILSPIN_TENANT_ID).unwrap();
/// assert_eq!(tailspin.domains, [TAILSPIN_TENANT_DOMAIN]);
/// ```
pub const TAILSPIN_TENANT_DOMAIN: &str = "tailspin.onmicrosoft.com";

/// Name of the user-assigned identity the app's FIC trusts.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{UAMI_TRUSTED_NAME}};
/// let config = EmulatorConfig::default_config();
/// assert!(config.host.user_assigned.iter().any(|name| name == UAMI_TRUSTED_NAME)); // attached to the compute
/// ```
pub const UAMI_TRUSTED_NAME: &str = "uami-trusted";
/// Client id of `uami-trusted` (the MI selector).
///
/// ```
/// use ficx::emulator::defaults::UAMI_TRUSTED_CLIENT_ID;
/// // The selector an Exchanger sends to the emulated MI endpoint.
/// let mi = ficx::ManagedIdentity::client_id(UAMI_TRUSTED_CLIENT_ID)?;
/// assert_eq!(mi.value(), Some(UAMI_TRUSTED_CLIENT_ID));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const UAMI_TRUSTED_CLIENT_ID: &str = "a1a1a1a1-0000-4000-8000-000000000001";
/// Object (principal) id of `uami-trusted` (the FIC subject).
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{UAMI_TRUSTED_OBJECT_ID}};
/// let config = EmulatorConfig::default_config();
/// // The demo app's FIC names it as subject.
/// assert_eq!(config.apps[0].fics[0].subject, UAMI_TRUSTED_OBJECT_ID);
/// ```
pub const UAMI_TRUSTED_OBJECT_ID: &str = "b1b1b1b1-0000-4000-8000-000000000001";
/// ARM resource id of `uami-trusted`.
///
/// ```
/// use ficx::emulator::defaults::{UAMI_TRUSTED_NAME, UAMI_TRUSTED_RESOURCE_ID};
/// assert_eq!(ficx::ArmResourceId::new(UAMI_TRUSTED_RESOURCE_ID)?.name(), UAMI_TRUSTED_NAME);
/// # Ok::<(), ficx::Error>(())
/// ```
pub const UAMI_TRUSTED_RESOURCE_ID: &str = "/subscriptions/5f5f5f5f-0000-4000-8000-000000000005/resourceGroups/rg-ficx/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-trusted";
/// Name of the user-assigned identity no FIC trusts (AADSTS700213).
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{UAMI_UNTRUSTED_NAME}};
/// let config = EmulatorConfig::default_config();
/// assert!(config.host.user_assigned.iter().any(|name| name == UAMI_UNTRUSTED_NAME)); // attached, but no FIC trusts it
/// ```
pub const UAMI_UNTRUSTED_NAME: &str = "uami-untrusted";
/// Client id of `uami-untrusted`.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{UAMI_UNTRUSTED_CLIENT_ID, UAMI_UNTRUSTED_NAME}};
/// let config = EmulatorConfig::default_config();
/// let mi = config.managed_identities.iter().find(|m| m.client_id == UAMI_UNTRUSTED_CLIENT_ID).unwrap();
/// assert_eq!(mi.name, UAMI_UNTRUSTED_NAME);
/// ```
pub const UAMI_UNTRUSTED_CLIENT_ID: &str = "a2a2a2a2-0000-4000-8000-000000000002";
/// Object id of `uami-untrusted`.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{UAMI_UNTRUSTED_OBJECT_ID}};
/// let config = EmulatorConfig::default_config();
/// // No FIC of any app has it as subject: exchanges with it fail with AADSTS700213.
/// assert!(config.apps.iter().flat_map(|a| &a.fics).all(|f| f.subject != UAMI_UNTRUSTED_OBJECT_ID));
/// ```
pub const UAMI_UNTRUSTED_OBJECT_ID: &str = "b2b2b2b2-0000-4000-8000-000000000002";
/// ARM resource id of `uami-untrusted`.
///
/// ```
/// use ficx::emulator::defaults::{UAMI_UNTRUSTED_NAME, UAMI_UNTRUSTED_RESOURCE_ID};
/// let by_resource_id = ficx::ManagedIdentity::resource_id(UAMI_UNTRUSTED_RESOURCE_ID)?;
/// assert!(by_resource_id.value().unwrap().ends_with(UAMI_UNTRUSTED_NAME));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const UAMI_UNTRUSTED_RESOURCE_ID: &str = "/subscriptions/5f5f5f5f-0000-4000-8000-000000000005/resourceGroups/rg-ficx/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-untrusted";
/// Name of the host's system-assigned identity.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{SAMI_NAME}};
/// let config = EmulatorConfig::default_config();
/// assert_eq!(config.host.system_assigned.as_deref(), Some(SAMI_NAME));
/// ```
pub const SAMI_NAME: &str = "sami";
/// Client id of the system-assigned identity (also Azure ML's `DEFAULT_IDENTITY_CLIENT_ID`).
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{SAMI_CLIENT_ID}};
/// let config = EmulatorConfig::default_config();
/// let sami = config.managed_identities.iter().find(|m| m.client_id == SAMI_CLIENT_ID).unwrap();
/// assert_eq!(sami.kind, ficx::emulator::IdentityKind::System);
/// ```
pub const SAMI_CLIENT_ID: &str = "a3a3a3a3-0000-4000-8000-000000000003";
/// Object id of the system-assigned identity.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{SAMI_NAME, SAMI_OBJECT_ID}};
/// let config = EmulatorConfig::default_config();
/// let sami = config.managed_identities.iter().find(|m| m.name == SAMI_NAME).unwrap();
/// assert_eq!(sami.object_id, SAMI_OBJECT_ID); // the `sub` of system-assigned tokens
/// ```
pub const SAMI_OBJECT_ID: &str = "b3b3b3b3-0000-4000-8000-000000000003";
/// Resource id of the compute that owns the system-assigned identity.
///
/// ```
/// use ficx::emulator::defaults::SAMI_RESOURCE_ID;
/// // A VM, not a user-assigned identity: not accepted as a user-assigned selector.
/// assert!(SAMI_RESOURCE_ID.contains("/Microsoft.Compute/virtualMachines/"));
/// assert!(ficx::ManagedIdentity::resource_id(SAMI_RESOURCE_ID).is_err());
/// ```
pub const SAMI_RESOURCE_ID: &str = "/subscriptions/5f5f5f5f-0000-4000-8000-000000000005/resourceGroups/rg-ficx/providers/Microsoft.Compute/virtualMachines/vm-ficx";

/// Name of the multi-tenant app carrying the FIC.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{APP_NAME}};
/// let config = EmulatorConfig::default_config();
/// let app = config.apps.iter().find(|a| a.name == APP_NAME).unwrap();
/// assert!(app.multi_tenant);
/// ```
pub const APP_NAME: &str = "ficx-demo-app";
/// Client id of `ficx-demo-app` (`client_id` on the wire).
///
/// ```
/// use ficx::emulator::defaults::APP_CLIENT_ID;
/// // What an Exchanger pointed at the emulator uses as its client id.
/// let builder = ficx::Exchanger::builder().client_id(APP_CLIENT_ID);
/// # let _ = builder;
/// ```
pub const APP_CLIENT_ID: &str = "c0c0c0c0-0000-4000-8000-00000000c0c0";
/// Object id of `ficx-demo-app` (how Graph addresses it).
///
/// ```
/// use ficx::emulator::defaults::{APP_OBJECT_ID, HOME_TENANT_ID, UAMI_TRUSTED_OBJECT_ID};
/// // The setup plan for the demo app, addressed by object id as Graph does.
/// let plan = ficx::SetupPlan::builder().mi_tenant(HOME_TENANT_ID).mi_object_id(UAMI_TRUSTED_OBJECT_ID)
///     .app_object_id(APP_OBJECT_ID).build()?;
/// assert_eq!(plan.app_object_id().map(|o| o.as_str()), Some(APP_OBJECT_ID));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const APP_OBJECT_ID: &str = "d0d0d0d0-0000-4000-8000-00000000d0d0";
/// Name of the FIC on `ficx-demo-app` trusting `uami-trusted`.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{APP_FIC_NAME, APP_NAME}};
/// let config = EmulatorConfig::default_config();
/// let app = config.apps.iter().find(|a| a.name == APP_NAME).unwrap();
/// assert_eq!(app.fics[0].name, APP_FIC_NAME);
/// ```
pub const APP_FIC_NAME: &str = "trust-uami-trusted";
/// Issuer of that FIC (the home tenant's v2 issuer).
///
/// ```
/// use ficx::Cloud;
/// use ficx::emulator::defaults::{APP_FIC_ISSUER, HOME_TENANT_ID};
/// assert_eq!(Cloud::Public.issuer_for(HOME_TENANT_ID), APP_FIC_ISSUER);
/// ```
pub const APP_FIC_ISSUER: &str =
    "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0";
/// Service principal object id of `ficx-demo-app` in Contoso (the app token's `oid`).
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{APP_SP_CONTOSO_OBJECT_ID, CONTOSO_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let sp = config.service_principals.iter().find(|sp| sp.tenant == CONTOSO_TENANT_ID && sp.app == "ficx-demo-app").unwrap();
/// assert_eq!(sp.object_id.as_deref(), Some(APP_SP_CONTOSO_OBJECT_ID));
/// ```
pub const APP_SP_CONTOSO_OBJECT_ID: &str = "f2f2f2f2-0000-4000-8000-0000000000f2";
/// Service principal object id of `ficx-demo-app` in Northwind.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{APP_SP_NORTHWIND_OBJECT_ID, NORTHWIND_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let sp = config.service_principals.iter().find(|sp| sp.tenant == NORTHWIND_TENANT_ID).unwrap();
/// assert_eq!(sp.object_id.as_deref(), Some(APP_SP_NORTHWIND_OBJECT_ID));
/// ```
pub const APP_SP_NORTHWIND_OBJECT_ID: &str = "f3f3f3f3-0000-4000-8000-0000000000f3";

/// Name of the single-tenant app registered in Contoso with a FIC for `uami-trusted`
/// (AADSTS700236).
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{LOCAL_APP_NAME}};
/// let config = EmulatorConfig::default_config();
/// let local = config.apps.iter().find(|a| a.name == LOCAL_APP_NAME).unwrap();
/// assert!(!local.multi_tenant); // the wrong topology for cross-tenant exchange
/// ```
pub const LOCAL_APP_NAME: &str = "contoso-local-app";
/// Client id of `contoso-local-app`.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{LOCAL_APP_CLIENT_ID, CONTOSO_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let local = config.apps.iter().find(|a| a.client_id == LOCAL_APP_CLIENT_ID).unwrap();
/// assert_eq!(local.home_tenant, CONTOSO_TENANT_ID);
/// ```
pub const LOCAL_APP_CLIENT_ID: &str = "c1c1c1c1-0000-4000-8000-00000000c1c1";

/// Object id of the Cloud Shell user.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{CLOUD_SHELL_USER_OBJECT_ID}};
/// let config = EmulatorConfig::default_config();
/// let user = config.host.cloud_shell_user.as_ref().unwrap();
/// assert_eq!(user.object_id, CLOUD_SHELL_USER_OBJECT_ID);
/// ```
pub const CLOUD_SHELL_USER_OBJECT_ID: &str = "e0e0e0e0-0000-4000-8000-0000000000e0";
/// UPN of the Cloud Shell user.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{CLOUD_SHELL_USER_UPN, HOME_TENANT_DOMAIN}};
/// let config = EmulatorConfig::default_config();
/// assert_eq!(config.host.cloud_shell_user.as_ref().unwrap().upn, CLOUD_SHELL_USER_UPN);
/// assert!(CLOUD_SHELL_USER_UPN.ends_with(HOME_TENANT_DOMAIN));
/// ```
pub const CLOUD_SHELL_USER_UPN: &str = "admin@fabrikam.onmicrosoft.com";

/// The public-cloud token-exchange audience (MI-only resource).
///
/// ```
/// use ficx::emulator::defaults::EXCHANGE_AUDIENCE;
/// assert_eq!(ficx::Cloud::Public.exchange_audience(), EXCHANGE_AUDIENCE);
/// ```
pub const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Microsoft Graph's identifier URI (v1 tokens).
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{GRAPH_RESOURCE, GRAPH_APP_ID}};
/// let config = EmulatorConfig::default_config();
/// let graph = config.resources.iter().find(|r| r.app_id == GRAPH_APP_ID).unwrap();
/// assert_eq!(graph.identifier_uris, [GRAPH_RESOURCE]);
/// assert_eq!(graph.token_version, 1);
/// ```
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Microsoft Graph's application id.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{GRAPH_APP_ID}};
/// let config = EmulatorConfig::default_config();
/// let graph = config.resources.iter().find(|r| r.name == "graph").unwrap();
/// assert_eq!(graph.app_id, GRAPH_APP_ID); // also accepted as the resource in requests
/// ```
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Azure Resource Manager's identifier URI.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{ARM_RESOURCE}};
/// let config = EmulatorConfig::default_config();
/// assert!(config.resources.iter().any(|r| r.identifier_uris.iter().any(|u| u == ARM_RESOURCE)));
/// ```
pub const ARM_RESOURCE: &str = "https://management.azure.com";
/// The custom API that exists only in Contoso (v2 tokens, role `Orders.Read` granted).
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{ORDERS_RESOURCE}};
/// let config = EmulatorConfig::default_config();
/// let orders = config.resources.iter().find(|r| r.identifier_uris == [ORDERS_RESOURCE]).unwrap();
/// assert_eq!(orders.roles, ["Orders.Read", "Orders.Write"]);
/// ```
pub const ORDERS_RESOURCE: &str = "api://orders";
/// The custom API's application id.
///
/// ```
/// use ficx::emulator::{EmulatorConfig, defaults::{ORDERS_APP_ID, CONTOSO_TENANT_ID}};
/// let config = EmulatorConfig::default_config();
/// let orders = config.resources.iter().find(|r| r.app_id == ORDERS_APP_ID).unwrap();
/// assert_eq!(orders.tenants, ficx::emulator::ResourceTenants::List(vec![CONTOSO_TENANT_ID.to_string()]));
/// ```
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
