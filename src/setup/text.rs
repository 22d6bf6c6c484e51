//! `text`: the plan explained to an admin. Prose is wrapped at 80 columns; values, URLs and
//! commands stand alone on their lines (never broken, so they copy cleanly), and values that hold
//! whitespace at the edges or control characters are shown quoted and escaped.

use std::fmt::Write as _;

use super::quote::is_line_breaking;
use super::{SetupPlan, az_cloud_name};

/// Wrap width for prose.
const WIDTH: usize = 80;

pub(super) fn render(p: &SetupPlan) -> String {
    let mut o = String::new();
    let title = "ficx setup: federated identity credential";
    o.push_str(title);
    o.push('\n');
    o.push_str(&"=".repeat(title.len()));
    o.push_str("\n\n");
    para(
        &mut o,
        0,
        "A managed identity (MI) in tenant A can stand in for the secret of a \
         multi-tenant app registered in A. Create one federated identity credential \
         (FIC) on that app registration, then provision the app once in each \
         customer tenant.",
    );
    o.push('\n');

    row(&mut o, "Tenant A", p.mi_tenant().as_str());
    let mi = match p.mi_name() {
        Some(n) => shown(n),
        None if p.mi_system_assigned() => "(system-assigned)".to_owned(),
        None => "(name unknown)".to_owned(),
    };
    row(&mut o, "Managed identity", &mi);
    row(
        &mut o,
        "",
        &format!("object (principal) id {}", shown(p.mi_object_id())),
    );
    match (p.app_client_id(), p.app_object_id()) {
        (Some(c), Some(obj)) => {
            row(
                &mut o,
                "App registration",
                &format!("client id (appId) {c}"),
            );
            row(&mut o, "", &format!("object id {obj}"));
        }
        (Some(c), None) => row(
            &mut o,
            "App registration",
            &format!("client id (appId) {c}"),
        ),
        (None, Some(obj)) => row(&mut o, "App registration", &format!("object id {obj}")),
        (None, None) => {}
    }
    row(&mut o, "Cloud", p.cloud().name());
    o.push('\n');

    heading(&mut o, "1. The credential's values");
    let origin = if p.from_token {
        "They were copied from a live token of the MI, which is the safest source."
    } else {
        "Compare them with a live token of the MI before creating the credential \
         (its iss, sub and aud claims)."
    };
    para(
        &mut o,
        3,
        &format!(
            "Copy them exactly: Entra compares issuer, subject and audience byte for \
             byte with the MI's token, and stores a wrong value without complaint; the \
             mistake shows only at the first exchange. {origin}"
        ),
    );
    o.push('\n');
    field(
        &mut o,
        "name",
        p.name(),
        "3-120 letters, digits, '-' or '_', starting with a letter or digit; it \
         cannot be changed later.",
    );
    field(
        &mut o,
        "issuer",
        p.issuer(),
        "The v2.0 issuer of the MI's tenant A, equal to the iss claim of the MI's \
         token: no trailing slash, no spaces.",
    );
    field(
        &mut o,
        "subject",
        p.subject(),
        "The MI's object (principal) id, NOT its client id; equal to the sub claim \
         of the MI's token.",
    );
    field(
        &mut o,
        "audiences",
        p.audience(),
        &format!(
            "Exactly one: the token-exchange audience of the {} cloud. The MI \
             requests its token for it, and the token's aud claim must match.",
            p.cloud().name()
        ),
    );
    field(
        &mut o,
        "description",
        p.description(),
        "Free text for the next admin.",
    );
    o.push('\n');

    heading(&mut o, "2. Where it goes");
    para(
        &mut o,
        3,
        "On the app registration in tenant A, never on an app in a customer tenant \
         (that fails with AADSTS700236). Tools address the app by:",
    );
    let unknown = "(not given)";
    let obj = p.app_object_id().map(ToString::to_string);
    let cid = p.app_client_id().map(ToString::to_string);
    let _ = writeln!(
        o,
        "      object id          {}",
        obj.as_deref().unwrap_or(unknown)
    );
    let _ = writeln!(
        o,
        "      client id (appId)  {}",
        cid.as_deref().unwrap_or(unknown)
    );
    if let Some(name) = az_cloud_name(p.cloud()) {
        para(
            &mut o,
            3,
            &format!(
                "In the {} cloud, select it before signing in to the Azure CLI:",
                p.cloud().name()
            ),
        );
        let _ = writeln!(o, "      az cloud set --name {name}");
    }
    para(
        &mut o,
        3,
        "The az, graph, bicep, terraform and powershell formats print this as a \
         ready-to-run snippet. A new credential can take a few minutes to be \
         honoured; until then exchanges fail with AADSTS70021.",
    );
    o.push('\n');

    heading(&mut o, "3. Provision the app in each customer tenant");
    para(
        &mut o,
        3,
        "An admin of each customer tenant consents once, which creates the app's \
         service principal there. Then grant that service principal the app roles \
         or Azure roles the target resource needs.",
    );
    o.push('\n');
    let host = p.cloud().authority_host();
    match (p.consent_urls(), p.app_client_id()) {
        ([], Some(c)) => {
            para(
                &mut o,
                3,
                "No customer tenant was named. For each one, an admin opens",
            );
            let _ = writeln!(o, "      {host}/<tenant>/adminconsent?client_id={c}");
            para(
                &mut o,
                3,
                "or, signed in with az login --tenant <tenant>, runs",
            );
            let _ = writeln!(o, "      az ad sp create --id {c}");
        }
        ([], None) => para(
            &mut o,
            3,
            "No customer tenant was named. Consent needs the app's client id (appId); \
             for each tenant an admin opens <login host>/<tenant>/adminconsent?client_id=<appId> \
             or runs az ad sp create --id <appId> signed in to that tenant.",
        ),
        (steps, _) => {
            for (i, s) in steps.iter().enumerate() {
                if i > 0 {
                    o.push('\n');
                }
                let _ = writeln!(o, "   Tenant {}", s.tenant);
                match (&s.url, &s.sp_create) {
                    (Some(url), Some(sp)) => {
                        para(
                            &mut o,
                            5,
                            "Admin consent, opened by an admin of that tenant:",
                        );
                        let _ = writeln!(o, "       {url}");
                        para(&mut o, 5, "Or with the Azure CLI:");
                        let _ = writeln!(o, "       {}", s.az_login());
                        let _ = writeln!(o, "       {sp}");
                    }
                    _ => para(
                        &mut o,
                        5,
                        "Needs the app's client id (appId), which was not given; see the \
                         consent-needs-client-id warning below.",
                    ),
                }
            }
        }
    }
    o.push('\n');

    heading(&mut o, "Warnings");
    for w in p.warnings() {
        let (msg, cmd) = split_command(&w.message);
        let text = format!("[{}] {}", w.code, msg);
        let mut lines = wrap(&text, WIDTH - 5);
        if let Some(first) = lines.first_mut() {
            first.insert_str(0, "- ");
        }
        for (i, line) in lines.iter().enumerate() {
            let indent = if i == 0 { "   " } else { "     " };
            let _ = writeln!(o, "{indent}{line}");
        }
        if let Some(cmd) = cmd {
            let _ = writeln!(o, "       {cmd}");
        }
    }
    o
}

fn heading(o: &mut String, title: &str) {
    o.push_str(title);
    o.push('\n');
}

/// `  Label             value` with the labels in one column.
fn row(o: &mut String, label: &str, value: &str) {
    let _ = writeln!(o, "   {label:<17} {value}");
}

/// A FIC field: its name, its value on a line of its own, and why it is what it is.
fn field(o: &mut String, name: &str, value: &str, why: &str) {
    let _ = writeln!(o, "   {name}");
    let _ = writeln!(o, "      {}", shown(value));
    para(o, 6, why);
}

/// Prose wrapped at [`WIDTH`] with `indent` spaces.
fn para(o: &mut String, indent: usize, text: &str) {
    for line in wrap(text, WIDTH - indent) {
        let _ = writeln!(o, "{:indent$}{line}", "");
    }
}

/// Greedy word wrap; a word longer than `width` gets a line of its own.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A warning that ends in `…: az …` gets its command printed on a line of its own.
fn split_command(message: &str) -> (&str, Option<&str>) {
    match message.rfind(": az ") {
        Some(i) => (&message[..=i], Some(&message[i + 2..])),
        None => (message, None),
    }
}

/// The value as is, or quoted and escaped when it is empty or holds whitespace at its edges or
/// control characters (which would otherwise be invisible or break the layout).
fn shown(value: &str) -> String {
    let plain = !value.is_empty() && value.trim() == value && !value.chars().any(is_line_breaking);
    if plain {
        value.to_owned()
    } else {
        format!("{value:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_splits() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(
            wrap("x averyveryverylongword y", 5),
            ["x", "averyveryverylongword", "y"]
        );
        let (m, c) = split_command("list them with: az ad app federated-credential list --id x");
        assert_eq!(m, "list them with:");
        assert_eq!(c, Some("az ad app federated-credential list --id x"));
        assert_eq!(shown("a b"), "a b");
        assert_eq!(shown(" a"), "\" a\"");
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
        assert_eq!(shown(""), "\"\"");
    }
}
