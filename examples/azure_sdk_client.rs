//! An Azure SDK for Rust client (Key Vault secrets) acting in a customer tenant through ficx
//! (feature `azure-core`). `TenantCredential` is an `azure_core` `TokenCredential`: hand it to any
//! SDK client; every token the SDK asks for comes from ficx's cache.
//!
//! It runs against the emulator (the credential's token for `https://vault.azure.net`), builds the
//! `SecretClient`, and reads a secret only when `KEYVAULT_URL` and `KEYVAULT_SECRET` name a real
//! vault in the customer tenant (then run it on Azure compute with real FICX_* settings too).
//!
//! ```sh
//! cargo run --example azure_sdk_client --features azure-core
//! ```

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_security_keyvault_secrets::SecretClient;
use ficx::emulator::{
    Emulator, EmulatorConfig, Endpoint, ResourceConfig, RoleAssignmentConfig, defaults,
};
use ficx::{Env, Exchanger, HttpOptions, ManagedIdentity, TrustRoots};

#[allow(clippy::disallowed_methods)] // an example reads its own settings
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The SDK's own HTTP transport (reqwest + rustls) needs a process-wide crypto provider; ficx
    // itself never relies on one. ring, as everywhere in ficx.
    let _ = rustls::crypto::ring::default_provider().install_default();

    // An emulated directory where Contoso has Key Vault and the app holds a role on it.
    let mut config = EmulatorConfig::default_config();
    config.resources.push(ResourceConfig {
        name: "key-vault".into(),
        app_id: "cfa8b339-82a2-471a-a3c9-0fc0be7a4093".into(),
        identifier_uris: vec!["https://vault.azure.net".into()],
        tenants: Default::default(),
        roles: vec!["Secrets.Read".into()],
        token_version: 1,
        mi_only: false,
    });
    config.role_assignments.push(RoleAssignmentConfig {
        app: defaults::APP_NAME.into(),
        tenant: defaults::CONTOSO_TENANT_ID.into(),
        resource: "key-vault".into(),
        roles: vec!["Secrets.Read".into()],
    });
    let emu = Emulator::start(config).await?;

    let exchanger = Exchanger::builder()
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
    let contoso: Arc<dyn TokenCredential> =
        Arc::new(exchanger.tenant(defaults::CONTOSO_TENANT_DOMAIN)?);

    // What the Key Vault client asks its credential for:
    let token = contoso
        .get_token(&["https://vault.azure.net/.default"], None)
        .await?;
    println!("Key Vault token for Contoso, expires {}", token.expires_on);

    match (
        std::env::var("KEYVAULT_URL"),
        std::env::var("KEYVAULT_SECRET"),
    ) {
        (Ok(url), Ok(name)) => {
            let client = SecretClient::new(&url, contoso.clone(), None)?;
            let secret = client.get_secret(&name, None).await?.into_model()?;
            println!(
                "read secret {name}: {} bytes",
                secret.value.map(|v| v.len()).unwrap_or(0)
            );
        }
        _ => {
            let client =
                SecretClient::new("https://contoso-vault.vault.azure.net/", contoso, None)?;
            let _ = client;
            println!(
                "SecretClient built with the Contoso credential; set KEYVAULT_URL and KEYVAULT_SECRET to read from a real vault"
            );
        }
    }
    emu.shutdown().await;
    Ok(())
}
