//! Runs anywhere: starts ficx's emulator in-process, then does the real cross-tenant flow
//! against it (IMDS → assertion → two customer tenants), printing what a service would see.
//!
//! ```sh
//! cargo run --example with_emulator
//! ```

use ficx::emulator::{Emulator, EmulatorConfig, Endpoint, defaults};
use ficx::{Env, Exchanger, HttpOptions, ManagedIdentity, TrustRoots};
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emu = Emulator::start(EmulatorConfig::default_config()).await?;

    let exchanger = Exchanger::builder()
        .client_id(defaults::APP_CLIENT_ID)
        .managed_identity(ManagedIdentity::client_id(
            defaults::UAMI_TRUSTED_CLIENT_ID,
        )?)
        .authority_host(emu.authority_url())
        // What IMDS on an Azure VM would look like, pointed at the emulator.
        .env(Env::from_vars(emu.env(Endpoint::Imds)))
        .http(
            HttpOptions::default()
                .trust_roots(TrustRoots::ExtraOnly)
                .ca_pem(emu.ca_pem()),
        )
        .build()?;

    for tenant in [
        defaults::CONTOSO_TENANT_DOMAIN,
        defaults::NORTHWIND_TENANT_DOMAIN,
    ] {
        let token = exchanger
            .token(tenant, "https://graph.microsoft.com/.default")
            .await?;
        let claims = ficx::jwt::decode_unverified(token.secret().expose_secret())?;
        println!(
            "{tenant}: {} token, tid={}, roles={:?}, expires at {} (Unix)",
            token.token_type(),
            claims.str_claim("tid").unwrap_or("?"),
            claims.roles(),
            token.expires_on_unix(),
        );
    }
    println!(
        "requests: {} to IMDS, {} to the token endpoint",
        emu.log().count(Endpoint::Imds),
        emu.log().count(Endpoint::Token)
    );
    emu.shutdown().await;
    Ok(())
}
