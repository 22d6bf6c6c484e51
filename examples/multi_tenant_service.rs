//! The shape of a multi-tenant service: ONE `Exchanger` for the whole process, shared by every
//! request handler, serving tokens for whichever customer tenant each request belongs to.
//!
//! With no configuration it starts ficx's emulator in-process and runs there; in Azure, set
//! `FICX_CLIENT_ID` (the multi-tenant app), `FICX_MI_CLIENT_ID` (the user-assigned identity) and
//! `FICX_TENANTS` (comma-separated customer tenants), and it uses the real MI endpoint.
//!
//! ```sh
//! cargo run --example multi_tenant_service
//! ```

use std::sync::Arc;
use std::time::Instant;

use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Endpoint, defaults};
use ficx::{Env, Exchanger, HttpOptions, ManagedIdentity, TrustRoots};

/// What a request handler needs: the shared exchanger.
struct AppState {
    exchanger: Exchanger,
}

/// A request handler: get the customer's token (cached after the first call) and "call" its API.
async fn handle_request(state: Arc<AppState>, tenant: String) -> Result<String, ficx::Error> {
    let token = state
        .exchanger
        .token(&tenant, "https://graph.microsoft.com/.default")
        .await?;
    // Real code: reqwest::Client::get(url).bearer_auth(token.secret().expose_secret())
    Ok(format!(
        "{tenant}: token valid until {} (Unix)",
        token.expires_on_unix()
    ))
}

#[allow(clippy::disallowed_methods)] // example reads its own configuration and wall clock
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (exchanger, tenants, emu): (Exchanger, Vec<String>, Option<EmulatorHandle>) =
        match std::env::var("FICX_CLIENT_ID") {
            Ok(client_id) => {
                let mi = match std::env::var("FICX_MI_CLIENT_ID") {
                    Ok(id) => ManagedIdentity::client_id(&id)?,
                    Err(_) => ManagedIdentity::SystemAssigned,
                };
                let tenants = std::env::var("FICX_TENANTS")?
                    .split(',')
                    .map(str::to_owned)
                    .collect();
                let x = Exchanger::builder()
                    .client_id(&client_id)
                    .managed_identity(mi)
                    .build()?;
                (x, tenants, None)
            }
            Err(_) => {
                let emu = Emulator::start(EmulatorConfig::default_config()).await?;
                let x = Exchanger::builder()
                    .client_id(defaults::APP_CLIENT_ID)
                    .managed_identity(ManagedIdentity::client_id(
                        defaults::UAMI_TRUSTED_CLIENT_ID,
                    )?)
                    .authority_host(emu.authority_url())
                    .env(Env::from_vars(emu.env(Endpoint::Imds)))
                    .http(
                        HttpOptions::default()
                            .trust_roots(TrustRoots::ExtraOnly)
                            .ca_pem(emu.ca_pem()),
                    )
                    .build()?;
                let tenants = vec![
                    defaults::CONTOSO_TENANT_DOMAIN.to_owned(),
                    defaults::NORTHWIND_TENANT_DOMAIN.to_owned(),
                ];
                (x, tenants, Some(emu))
            }
        };
    let state = Arc::new(AppState { exchanger });

    // 200 concurrent "requests" spread over the tenants.
    let started = Instant::now();
    let mut handles = Vec::new();
    for i in 0..200 {
        let state = state.clone();
        let tenant = tenants[i % tenants.len()].clone();
        handles.push(tokio::spawn(handle_request(state, tenant)));
    }
    let mut ok = 0;
    for h in handles {
        match h.await? {
            Ok(line) if ok < tenants.len() => {
                println!("{line}");
                ok += 1;
            }
            Ok(_) => ok += 1,
            Err(e) => eprintln!("error: {e}\n  hint: {}", e.hint().unwrap_or("-")),
        }
    }
    let stats = state.exchanger.stats();
    println!(
        "{ok} requests in {:?}: {} MI fetch(es), {} exchange(s) for {} tenant(s)",
        started.elapsed(),
        stats.assertion_fetches,
        stats.exchanges,
        stats.tenants
    );
    if let Some(emu) = emu {
        emu.shutdown().await;
    }
    Ok(())
}
