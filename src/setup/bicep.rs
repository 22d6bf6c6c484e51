//! `bicep`: the FIC as a child resource of the existing app registration, with the Microsoft Graph
//! Bicep extension: `Microsoft.Graph/applications@v1.0` (`existing`, looked up by its
//! `uniqueName`) and `Microsoft.Graph/applications/federatedIdentityCredentials@v1.0` named
//! `'${app.uniqueName}/<fic-name>'` (protocol.md §8; Graph Bicep reference pages).

use std::fmt::Write as _;

use super::quote::{bicep_string, comment_line};
use super::{BICEP_GRAPH_EXTENSION_VERSION, SetupPlan};

pub(super) fn render(p: &SetupPlan) -> String {
    let mut o = String::new();
    let registry = format!(
        "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:{BICEP_GRAPH_EXTENSION_VERSION}"
    );
    o.push_str("// ficx setup: federated identity credential, with Bicep and the Microsoft Graph extension\n");
    let _ = writeln!(
        o,
        "// App registration in tenant A ({}): {}",
        p.mi_tenant(),
        p.app_label()
    );
    o.push_str("// Deploy it signed in to tenant A, as a principal allowed to change the app\n");
    o.push_str("// (Application.ReadWrite.All, or an owner of the app), e.g.\n");
    o.push_str(
        "//   az deployment group create --resource-group <rg> --template-file fic.bicep \\\n",
    );
    o.push_str("//     --parameters appUniqueName=<unique name>\n");
    if p.cloud().name() != "public" {
        let _ = writeln!(
            o,
            "// Check that the Microsoft Graph Bicep extension is available in the {} cloud.",
            p.cloud().name()
        );
    }
    o.push_str("//\n");
    for w in p.warnings() {
        let _ = writeln!(o, "// WARNING {}", comment_line(&w.to_string()));
    }
    o.push('\n');
    o.push_str("// The extension alias comes from bicepconfig.json next to this file:\n");
    let _ = writeln!(
        o,
        "//   {{ \"extensions\": {{ \"microsoftGraphV1\": \"{registry}\" }} }}"
    );
    o.push_str("// or replace the next line with the registry form:\n");
    let _ = writeln!(o, "//   extension '{registry}'");
    o.push_str("extension microsoftGraphV1\n\n");

    o.push_str(
        "// The app registration's uniqueName (Bicep finds existing Graph resources by it).\n",
    );
    o.push_str(
        "// An app created outside Bicep has none until it is set once (it is immutable), e.g.\n",
    );
    let (host, _) = p.graph_host();
    let target = match (p.app_object_id(), p.app_client_id()) {
        (Some(obj), _) => format!("applications/{obj}"),
        (None, Some(c)) => format!("applications(appId='{c}')"),
        (None, None) => String::new(),
    };
    let _ = writeln!(o, "//   PATCH {host}/v1.0/{target}");
    o.push_str("//   {\"uniqueName\": \"<unique name>\"}\n");
    o.push_str("param appUniqueName string\n\n");

    o.push_str("resource app 'Microsoft.Graph/applications@v1.0' existing = {\n");
    o.push_str("  uniqueName: appUniqueName\n");
    o.push_str("}\n\n");

    o.push_str(
        "resource fic 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {\n",
    );
    // `${app.uniqueName}` is a live interpolation; the FIC name after it is escaped.
    let name = bicep_string(p.name());
    let _ = writeln!(o, "  name: '${{app.uniqueName}}/{}", &name[1..]);
    let _ = writeln!(o, "  issuer: {}", bicep_string(p.issuer()));
    let _ = writeln!(o, "  subject: {}", bicep_string(p.subject()));
    o.push_str("  audiences: [\n");
    for a in p.audiences() {
        let _ = writeln!(o, "    {}", bicep_string(a));
    }
    o.push_str("  ]\n");
    let _ = writeln!(o, "  description: {}", bicep_string(p.description()));
    o.push_str("}\n");

    if !p.consent_urls().is_empty() {
        o.push('\n');
        o.push_str(
            "// Then provision the app in each customer tenant (admin consent creates its\n",
        );
        o.push_str("// service principal there):\n");
        for s in p.consent_urls() {
            match &s.url {
                Some(u) => {
                    let _ = writeln!(o, "//   {}: {u}", s.tenant);
                }
                None => {
                    let _ = writeln!(o, "//   {}: needs the app's client id (appId)", s.tenant);
                }
            }
        }
    }
    o
}
