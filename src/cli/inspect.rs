//! `ficx inspect`: decode a JWT without verifying it (and say so): header, claims with human
//! times, app-only or delegated, and findings: expiry, the FIC triple an MI token will match, the
//! roles and audience of an app token. Never prints the token itself.

use std::io::{IsTerminal, Read};
use std::time::SystemTime;

use clap::Args;
use ficx::jwt::{JwtView, TokenKind, decode_unverified};
use serde_json::{Value, json};

use super::args::Format;
use super::exit::Usage;
use super::output::{human_duration, rfc3339};

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The JWT, or `-` (or nothing) to read it from stdin.
    #[arg(value_name = "JWT")]
    pub(crate) token: Option<String>,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub(crate) output: Format,
}

/// The exchange audiences of the known clouds.
const EXCHANGE_AUDIENCES: [&str; 3] = [
    ficx::ids::PUBLIC_EXCHANGE_AUDIENCE,
    ficx::ids::USGOV_EXCHANGE_AUDIENCE,
    ficx::ids::CHINA_EXCHANGE_AUDIENCE,
];

#[allow(clippy::disallowed_methods)] // expiry is judged against the real clock
fn now() -> SystemTime {
    SystemTime::now()
}

fn read_token(arg: Option<String>) -> anyhow::Result<String> {
    match arg.as_deref() {
        Some("-") | None => {
            if arg.is_none() && std::io::stdin().is_terminal() {
                return Err(Usage(
                    "missing JWT: pass it as an argument, or pipe it on stdin".into(),
                )
                .into());
            }
            let mut s = String::new();
            std::io::stdin()
                .take(ficx::jwt::MAX_JWT_LEN as u64 + 1)
                .read_to_string(&mut s)?;
            Ok(s)
        }
        Some(t) => Ok(t.to_owned()),
    }
}

/// One finding: a severity and a line of text.
pub(crate) struct Finding {
    pub(crate) ok: bool,
    pub(crate) text: String,
}

pub(crate) fn is_mi_token(view: &JwtView) -> bool {
    view.audience()
        .is_some_and(|a| EXCHANGE_AUDIENCES.contains(&a))
        || view.str_claim("xms_mirid").is_some()
}

pub(crate) fn findings(view: &JwtView, now: SystemTime) -> Vec<Finding> {
    let mut f = Vec::new();
    let at = |t: i64| ficx_time(t);
    match view.exp_unix() {
        Some(exp) if exp <= unix(now) => f.push(Finding {
            ok: false,
            text: format!(
                "expired at {} ({} ago)",
                at(exp),
                human_duration(std::time::Duration::from_secs((unix(now) - exp) as u64))
            ),
        }),
        Some(exp) => f.push(Finding {
            ok: true,
            text: format!(
                "valid until {} ({} left)",
                at(exp),
                human_duration(std::time::Duration::from_secs((exp - unix(now)) as u64))
            ),
        }),
        None => f.push(Finding {
            ok: false,
            text: "no `exp` claim".into(),
        }),
    }
    if let Some(nbf) = view.time_claim("nbf")
        && nbf > unix(now)
    {
        f.push(Finding {
            ok: false,
            text: format!("not valid before {}", at(nbf)),
        });
    }
    match view.kind() {
        TokenKind::AppOnly => f.push(Finding {
            ok: true,
            text: "app-only token (usable as a federated credential if it is an MI token)".into(),
        }),
        _ => f.push(Finding {
            ok: false,
            text:
                "delegated (user) token: Entra refuses it as a federated credential (AADSTS700229)"
                    .into(),
        }),
    }
    if is_mi_token(view) {
        f.push(Finding {
            ok: true,
            text: format!(
                "managed-identity token: it matches a FIC with issuer {:?}, subject {:?}, audience {:?} (exactly, byte for byte)",
                view.str_claim("iss").unwrap_or("?"),
                view.str_claim("sub").unwrap_or("?"),
                view.audience().unwrap_or("?")
            ),
        });
        if let Some(iss) = view.str_claim("iss")
            && (iss.ends_with('/') || iss.contains("sts.windows.net"))
        {
            f.push(Finding {
                ok: false,
                text: format!("issuer {iss:?} is not the v2 form https://<host>/<tenant>/v2.0"),
            });
        }
    } else {
        let roles = view.roles();
        if roles.is_empty() {
            f.push(Finding { ok: false, text: "no `roles`: the app's service principal holds no app role on this resource (assign one in the target tenant)".into() });
        } else {
            f.push(Finding {
                ok: true,
                text: format!("roles: {}", roles.join(", ")),
            });
        }
        if let Some(aud) = view.audience() {
            f.push(Finding {
                ok: true,
                text: format!("audience (the resource it is for): {aud}"),
            });
        }
    }
    f
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn ficx_time(t: i64) -> String {
    rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64))
}

fn human_claims(view: &JwtView) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for (k, v) in &view.claims {
        let shown = match (k.as_str(), v.as_i64()) {
            ("exp" | "nbf" | "iat", Some(t)) => Value::String(format!("{t} ({})", ficx_time(t))),
            _ => v.clone(),
        };
        out.insert(k.clone(), shown);
    }
    out
}

pub(crate) async fn run(a: InspectArgs) -> anyhow::Result<()> {
    let token = read_token(a.token)?;
    let view = decode_unverified(&token).map_err(|e| Usage(e.to_string()))?;
    let now = now();
    let found = findings(&view, now);
    match a.output {
        Format::Json => {
            let fic = is_mi_token(&view).then(|| {
                json!({"issuer": view.str_claim("iss"), "subject": view.str_claim("sub"), "audience": view.audience()})
            });
            println!(
                "{}",
                json!({
                    "verified": false,
                    "header": view.header,
                    "claims": view.claims,
                    "kind": match view.kind() { TokenKind::AppOnly => "app_only", _ => "delegated" },
                    "managed_identity_token": is_mi_token(&view),
                    "fic": fic,
                    "findings": found.iter().map(|f| json!({"ok": f.ok, "text": f.text})).collect::<Vec<_>>(),
                })
            );
        }
        Format::Text => {
            println!("decoded WITHOUT verifying the signature (ficx never needs to; Entra does)\n");
            println!("header:\n{}\n", serde_json::to_string_pretty(&view.header)?);
            println!(
                "claims:\n{}\n",
                serde_json::to_string_pretty(&human_claims(&view))?
            );
            println!("findings:");
            for f in &found {
                println!("  {} {}", if f.ok { "✓" } else { "✗" }, f.text);
            }
        }
    }
    Ok(())
}
