//! `powershell`: the Microsoft Graph PowerShell SDK.
//! `New-MgApplicationFederatedIdentityCredential -ApplicationId <object id> -BodyParameter @{…}`,
//! after `Connect-MgGraph -Scopes Application.ReadWrite.All` (with `-Environment USGov` or
//! `China` in national clouds); with only the client id known, the object id is looked up first
//! with `Get-MgApplication -Filter "appId eq '…'"` (protocol.md §8). Every value is a verbatim
//! single-quoted string, so `$`, backticks and newlines stay literal.

use std::fmt::Write as _;

use super::SetupPlan;
use super::quote::{comment_line, powershell_single};
use crate::ids::Cloud;

pub(super) fn render(p: &SetupPlan) -> String {
    let mut o = String::new();
    o.push_str(
        "# ficx setup: federated identity credential, with the Microsoft Graph PowerShell SDK\n",
    );
    let _ = writeln!(o, "# App registration in tenant A: {}", p.app_label());
    o.push_str("# Needs the module: Install-Module Microsoft.Graph.Applications\n");
    let environment = match p.cloud() {
        Cloud::UsGov => " -Environment USGov",
        Cloud::China => " -Environment China",
        Cloud::Public => "",
        _ => {
            o.push_str("# Custom cloud: register it with Add-MgEnvironment and add -Environment <name> below.\n");
            ""
        }
    };
    o.push_str("#\n");
    for w in p.warnings() {
        let _ = writeln!(o, "# WARNING {}", comment_line(&w.to_string()));
    }
    o.push('\n');
    let _ = writeln!(
        o,
        "Connect-MgGraph -TenantId {} -Scopes 'Application.ReadWrite.All'{environment}",
        powershell_single(p.mi_tenant().as_str())
    );
    o.push('\n');
    let application_id = match (p.app_object_id(), p.app_client_id()) {
        (Some(obj), _) => powershell_single(obj.as_str()),
        (None, Some(c)) => {
            o.push_str("# Only the app's client id is known: look up its object id.\n");
            let _ = writeln!(o, "$app = Get-MgApplication -Filter \"appId eq '{c}'\"");
            "$app.Id".to_owned()
        }
        (None, None) => String::new(),
    };
    let _ = writeln!(
        o,
        "New-MgApplicationFederatedIdentityCredential -ApplicationId {application_id} -BodyParameter @{{"
    );
    let audiences: Vec<String> = p.audiences().iter().map(|a| powershell_single(a)).collect();
    let pairs = [
        ("name", powershell_single(p.name())),
        ("issuer", powershell_single(p.issuer())),
        ("subject", powershell_single(p.subject())),
        ("audiences", format!("@({})", audiences.join(", "))),
        ("description", powershell_single(p.description())),
    ];
    for (k, v) in pairs {
        let _ = writeln!(o, "    {k:<11} = {v}");
    }
    o.push_str("}\n\n");

    o.push_str(
        "# Provision the app in each customer tenant: admin consent (or New-MgServicePrincipal)\n",
    );
    o.push_str(
        "# creates its service principal there. Then grant that service principal the app\n",
    );
    o.push_str("# roles or Azure roles the target resource needs.\n");
    if p.consent_urls().is_empty() {
        o.push_str("# No customer tenant named.\n");
    }
    for s in p.consent_urls() {
        o.push('\n');
        match (&s.url, p.app_client_id()) {
            (Some(url), Some(c)) => {
                let _ = writeln!(
                    o,
                    "# tenant {}; or have an admin of it open: {url}",
                    s.tenant
                );
                let _ = writeln!(
                    o,
                    "Connect-MgGraph -TenantId {} -Scopes 'Application.ReadWrite.All'{environment}",
                    powershell_single(s.tenant.as_str())
                );
                let _ = writeln!(
                    o,
                    "New-MgServicePrincipal -AppId {}",
                    powershell_single(c.as_str())
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "# tenant {}: needs the app's client id (appId), which was not given",
                    s.tenant
                );
            }
        }
    }
    o
}
