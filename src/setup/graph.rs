//! `graph`: the Microsoft Graph REST request, as an `.http` file (comments, request line, headers,
//! body): `POST /v1.0/applications/{object-id}/federatedIdentityCredentials`, or
//! `/applications(appId='{appId}')/…` when only the client id is known, on the cloud's own Graph
//! host (protocol.md §8). An `az rest` one-liner with the same body follows as a comment.

use std::fmt::Write as _;

use super::SetupPlan;
use super::quote::{comment_line, shell_single};

/// The request URL for the plan.
pub(super) fn url(p: &SetupPlan) -> String {
    let (host, _) = p.graph_host();
    match (p.app_object_id(), p.app_client_id()) {
        (Some(obj), _) => format!("{host}/v1.0/applications/{obj}/federatedIdentityCredentials"),
        (None, Some(c)) => {
            format!("{host}/v1.0/applications(appId='{c}')/federatedIdentityCredentials")
        }
        (None, None) => String::new(),
    }
}

pub(super) fn render(p: &SetupPlan) -> String {
    let mut o = String::new();
    let (host, guessed) = p.graph_host();
    o.push_str("# ficx setup: federated identity credential, with the Microsoft Graph REST API\n");
    let _ = writeln!(
        o,
        "# App registration in tenant A ({}): {}",
        p.mi_tenant(),
        p.app_label()
    );
    o.push_str(
        "# Send it signed in to tenant A with Application.ReadWrite.All (or as an owner of\n",
    );
    o.push_str("# the app with Application.ReadWrite.OwnedBy). Expect 201 Created.\n");
    if guessed {
        let _ = writeln!(
            o,
            "# Custom cloud: {host} is a guess; use your cloud's Microsoft Graph endpoint."
        );
    }
    o.push_str("#\n");
    for w in p.warnings() {
        let _ = writeln!(o, "# WARNING {}", comment_line(&w.to_string()));
    }
    o.push('\n');
    let url = url(p);
    let _ = writeln!(o, "POST {url}");
    o.push_str("Content-Type: application/json\n\n");
    o.push_str(&p.fic_body_json(true));
    o.push_str("\n\n");
    o.push_str("# The same request with the Azure CLI (bash), signed in to tenant A:\n");
    let _ = writeln!(
        o,
        "# az rest --method POST --uri {} --headers 'Content-Type=application/json' --body {}",
        shell_single(&url),
        shell_single(&p.fic_body_json(false))
    );
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
