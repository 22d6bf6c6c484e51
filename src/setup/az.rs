//! `az`: a bash snippet for the Azure CLI. The FIC goes in with
//! `az ad app federated-credential create --id <app> --parameters '<json>'` (inline JSON in single
//! quotes, so nothing in it is expanded), then `az ad sp create --id <appId>` per customer tenant,
//! each after an `az login --tenant <B>` (protocol.md §8).

use std::fmt::Write as _;

use super::quote::{comment_line, shell_single};
use super::{SetupPlan, az_cloud_name};
use crate::ids::Cloud;

pub(super) fn render(p: &SetupPlan) -> String {
    let mut o = String::new();
    o.push_str("#!/usr/bin/env bash\n");
    o.push_str("# ficx setup: federated identity credential, with the Azure CLI\n");
    let _ = writeln!(o, "# App registration in tenant A: {}", p.app_label());
    o.push_str("# Sign in to tenant A (the managed identity's and the app's tenant) first:\n");
    let _ = writeln!(o, "#   az login --tenant {}", p.mi_tenant());
    match (p.cloud(), az_cloud_name(p.cloud())) {
        (_, Some(name)) => {
            let _ = writeln!(
                o,
                "# The {} cloud: run az cloud set --name {name} before signing in.",
                p.cloud().name()
            );
        }
        (Cloud::Public, None) => {}
        _ => {
            let _ = writeln!(
                o,
                "# Custom cloud {}: register it with az cloud register and select it with az cloud set first.",
                comment_line(p.cloud().authority_host())
            );
        }
    }
    o.push_str("#\n");
    for w in p.warnings() {
        let _ = writeln!(o, "# WARNING {}", comment_line(&w.to_string()));
    }
    o.push('\n');
    o.push_str("az ad app federated-credential create \\\n");
    let _ = writeln!(o, "  --id {} \\", p.az_app_id());
    let _ = writeln!(
        o,
        "  --parameters {}",
        shell_single(&p.fic_body_json(false))
    );
    o.push('\n');
    o.push_str("# Provision the app in each customer tenant: admin consent (or az ad sp create)\n");
    o.push_str("# creates its service principal there. Then grant that service principal the\n");
    o.push_str("# app roles or Azure roles the target resource needs.\n");
    let client_id = p.app_client_id();
    if p.consent_urls().is_empty() {
        match client_id {
            Some(c) => {
                let _ = writeln!(
                    o,
                    "# No customer tenant named; for each one: az login --tenant <tenant> && az ad sp create --id {c}"
                );
            }
            None => o.push_str(
                "# No customer tenant named; az ad sp create needs the app's client id (appId).\n",
            ),
        }
    }
    for s in p.consent_urls() {
        o.push('\n');
        let _ = writeln!(o, "# in tenant {}: {}", s.tenant, s.az_login());
        match (&s.url, &s.sp_create) {
            (Some(url), Some(sp)) => {
                let _ = writeln!(o, "# or have an admin of {} open: {url}", s.tenant);
                let _ = writeln!(o, "{sp}");
            }
            _ => {
                let _ = writeln!(
                    o,
                    "# az ad sp create --id <appId>   (the app's client id was not given: az ad app show --id {} --query appId -o tsv)",
                    p.az_app_id()
                );
            }
        }
    }
    o
}
