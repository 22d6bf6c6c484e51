//! Any assertion source: here a closure (your own vault, a sidecar, a test fixture). ficx calls
//! it only when it needs to exchange (cache misses and refreshes), reads `exp` from the JWT, and
//! does the rest exactly as with a managed identity. Runs against the emulator.
//!
//! ```sh
//! cargo run --example custom_assertion
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ficx::emulator::{Emulator, EmulatorConfig, Endpoint, defaults};
use ficx::{
    AssertionFn, Env, Exchanger, HttpOptions, ManagedIdentity, ManagedIdentitySource, TrustRoots,
};
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    let http = HttpOptions::default()
        .trust_roots(TrustRoots::ExtraOnly)
        .ca_pem(emu.ca_pem());

    // Where the assertion really comes from is up to you; here, the emulator's IMDS.
    let mi = ManagedIdentitySource::builder()
        .identity(ManagedIdentity::client_id(
            defaults::UAMI_TRUSTED_CLIENT_ID,
        )?)
        .env(Env::from_vars(emu.env(Endpoint::Imds)))
        .build()?;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let source = AssertionFn::new("my-vault", move || {
        let mi = mi.clone();
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let t = mi.token("api://AzureADTokenExchange").await?;
            Ok::<_, ficx::Error>(t.secret().clone())
        }
    });

    let exchanger = Exchanger::builder()
        .client_id(defaults::APP_CLIENT_ID)
        .assertion_source(source)
        .authority_host(emu.authority_url())
        .http(http)
        .build()?;
    for _ in 0..3 {
        let t = exchanger
            .token(
                defaults::CONTOSO_TENANT_DOMAIN,
                "https://graph.microsoft.com",
            )
            .await?;
        let claims = ficx::jwt::decode_unverified(t.secret().expose_secret())?;
        println!("token for tid {}", claims.str_claim("tid").unwrap_or("?"));
    }
    println!(
        "the closure was called {} time(s) for 3 token requests",
        calls.load(Ordering::SeqCst)
    );
    emu.shutdown().await;
    Ok(())
}
