//! `terraform`: `azuread_application_federated_identity_credential` from the `hashicorp/azuread`
//! provider, which hangs the FIC off the application (not `azurerm_federated_identity_credential`,
//! which hangs FICs off a managed identity). Its `application_id` is the application's resource
//! id, `/applications/<object id>`; with only the client id known, a `data "azuread_application"`
//! lookup supplies it (protocol.md §8). Attributes are aligned as `terraform fmt` does.

use std::fmt::Write as _;

use super::quote::{comment_line, hcl_string};
use super::{SetupPlan, TERRAFORM_AZUREAD_VERSION};
use crate::ids::Cloud;

pub(super) fn render(p: &SetupPlan) -> String {
    let mut o = String::new();
    o.push_str("# ficx setup: federated identity credential, with Terraform (hashicorp/azuread)\n");
    let _ = writeln!(o, "# App registration in tenant A: {}", p.app_label());
    o.push_str("# Apply it signed in to tenant A as a principal allowed to change the app\n");
    o.push_str("# (Application.ReadWrite.All, or an owner of the app).\n");
    o.push_str("#\n");
    for w in p.warnings() {
        let _ = writeln!(o, "# WARNING {}", comment_line(&w.to_string()));
    }
    o.push('\n');

    o.push_str("terraform {\n  required_providers {\n    azuread = {\n");
    attrs(
        &mut o,
        6,
        &[
            ("source", hcl_string("hashicorp/azuread")),
            ("version", hcl_string(TERRAFORM_AZUREAD_VERSION)),
        ],
    );
    o.push_str("    }\n  }\n}\n\n");

    o.push_str("# The app registration and the managed identity live in tenant A.\n");
    o.push_str("provider \"azuread\" {\n");
    let mut provider = vec![("tenant_id", hcl_string(p.mi_tenant().as_str()))];
    match p.cloud() {
        Cloud::UsGov => provider.push(("environment", hcl_string("usgovernment"))),
        Cloud::China => provider.push(("environment", hcl_string("china"))),
        _ => {}
    }
    attrs(&mut o, 2, &provider);
    if !matches!(p.cloud(), Cloud::Public | Cloud::UsGov | Cloud::China) {
        let _ = writeln!(
            o,
            "  # Custom cloud {}: point the provider at it (environment / metadata_host).",
            comment_line(p.cloud().authority_host())
        );
    }
    o.push_str("}\n\n");

    let application_id = match (p.app_object_id(), p.app_client_id()) {
        (Some(obj), _) => hcl_string(&format!("/applications/{obj}")),
        (None, Some(c)) => {
            o.push_str("# Only the app's client id is known: look the application up by it.\n");
            o.push_str("data \"azuread_application\" \"app\" {\n");
            attrs(&mut o, 2, &[("client_id", hcl_string(c.as_str()))]);
            o.push_str("}\n\n");
            "data.azuread_application.app.id".to_owned()
        }
        (None, None) => String::new(),
    };

    o.push_str("resource \"azuread_application_federated_identity_credential\" \"ficx\" {\n");
    let audiences: Vec<String> = p.audiences().iter().map(|a| hcl_string(a)).collect();
    attrs(
        &mut o,
        2,
        &[
            ("application_id", application_id),
            ("display_name", hcl_string(p.name())),
            ("description", hcl_string(p.description())),
            ("audiences", format!("[{}]", audiences.join(", "))),
            ("issuer", hcl_string(p.issuer())),
            ("subject", hcl_string(p.subject())),
        ],
    );
    o.push_str("}\n");

    if !p.consent_urls().is_empty() {
        o.push('\n');
        o.push_str("# Then provision the app in each customer tenant (admin consent creates its\n");
        o.push_str("# service principal there):\n");
        for s in p.consent_urls() {
            match &s.url {
                Some(u) => {
                    let _ = writeln!(o, "#   {}: {u}", s.tenant);
                }
                None => {
                    let _ = writeln!(o, "#   {}: needs the app's client id (appId)", s.tenant);
                }
            }
        }
    }
    o
}

/// `key = value` lines with the `=` aligned, as `terraform fmt` writes them.
fn attrs(o: &mut String, indent: usize, pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in pairs {
        let _ = writeln!(o, "{:indent$}{k:<width$} = {v}", "");
    }
}
