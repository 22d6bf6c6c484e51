//! `ficx demo`: the whole story against the embedded emulator, narrated. Every line comes from a
//! real run: the emulator serves real HTTP(S) on loopback and the library does the real flow.

use std::time::Instant;

use anyhow::Context;
use ficx::diagnose::{Facts, explain};
use ficx::emulator::{Emulator, EmulatorConfig, Endpoint, defaults};
use ficx::jwt::decode_unverified;
use ficx::setup::{SetupFormat, SetupPlan};
use ficx::{Env, Exchanger, HttpOptions, ManagedIdentity, TrustRoots};
use secrecy::ExposeSecret;

use super::output::{human_duration, short};

#[allow(clippy::disallowed_methods)] // wall-clock latency of the demo itself, for narration
fn now() -> Instant {
    Instant::now()
}

pub(crate) async fn run() -> anyhow::Result<()> {
    let started = now();
    println!("ficx demo: managed identity → federated credential → tokens in customer tenants,");
    println!(
        "against the embedded emulator (real HTTPS on loopback, real RS256 tokens; no Azure).\n"
    );

    let t = now();
    let emu = Emulator::start(EmulatorConfig::default_config())
        .await
        .context("starting the emulator")?;
    println!(
        "emulator up in {}: authority {}, IMDS {}",
        human_duration(t.elapsed()),
        emu.authority_url(),
        emu.mi_url()
    );
    println!(
        "  home tenant {} ({}), app {} ({}), managed identity {} (client id {})\n",
        defaults::HOME_TENANT_DOMAIN,
        short(defaults::HOME_TENANT_ID),
        defaults::APP_NAME,
        short(defaults::APP_CLIENT_ID),
        defaults::UAMI_TRUSTED_NAME,
        short(defaults::UAMI_TRUSTED_CLIENT_ID),
    );

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

    println!(
        "1. The managed identity's token, which is the assertion (leg 1, {}):",
        exchanger
            .detection()
            .map(|d| d.kind.to_string())
            .unwrap_or_default()
    );
    let assertion = exchanger
        .assertion()
        .await
        .context("getting the MI token")?;
    let view = decode_unverified(assertion.secret().expose_secret())?;
    // What `ficx setup --from-live` prints: the FIC copied from the live token.
    let plan = SetupPlan::builder()
        .mi_token(&view)
        .app_client_id(defaults::APP_CLIENT_ID)
        .app_object_id(defaults::APP_OBJECT_ID)
        .consent_tenant(defaults::CONTOSO_TENANT_DOMAIN)
        .build()?;
    println!(
        "   the federated credential on {} must hold exactly (ficx setup):",
        defaults::APP_NAME
    );
    println!("     issuer    {}", plan.issuer());
    println!(
        "     subject   {}   (the MI's object id, not its client id)",
        plan.subject()
    );
    println!("     audience  {}", plan.audience());
    let az = plan.render(SetupFormat::Az);
    if az.contains("az ad app federated-credential create") {
        println!(
            "   ready to run: ficx setup --from-live --app {} --format az  (or graph, bicep, terraform, powershell)",
            defaults::APP_CLIENT_ID
        );
    }
    println!("   (the emulator's directory already holds this credential)\n");

    println!("2. Exchange for two customer tenants (leg 2, one assertion shared):");
    for tenant in [
        defaults::CONTOSO_TENANT_DOMAIN,
        defaults::NORTHWIND_TENANT_DOMAIN,
    ] {
        let t = now();
        let token = exchanger
            .token(tenant, defaults::GRAPH_RESOURCE)
            .await
            .with_context(|| format!("exchanging for {tenant}"))?;
        let elapsed = t.elapsed();
        let claims = decode_unverified(token.secret().expose_secret())?;
        println!(
            "   ✓ {tenant:<27} tid {}  roles [{}]  expires in {}  ({})",
            short(claims.str_claim("tid").unwrap_or("?")),
            claims.roles().join(", "),
            human_duration(token.remaining(now_wall())),
            human_duration(elapsed),
        );
    }
    println!(
        "   requests sent: {} to the MI endpoint, {} to the token endpoint\n",
        emu.log().count(Endpoint::Imds),
        emu.log().count(Endpoint::Token)
    );

    println!("3. The same token again, from the cache:");
    let n = 10_000u32;
    let t = now();
    for _ in 0..n {
        let tok = exchanger
            .token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
            .await?;
        std::hint::black_box(tok);
    }
    let per_call = t.elapsed() / n;
    println!(
        "   {n} calls, {} each, no request sent (token endpoint still at {})\n",
        human_duration(per_call),
        emu.log().count(Endpoint::Token)
    );

    println!("4. A tenant where the app was never provisioned:");
    match exchanger
        .token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
        .await
    {
        Ok(_) => {
            anyhow::bail!("the emulator issued a token for a tenant without a service principal")
        }
        Err(e) => {
            println!(
                "   ✗ {}: AADSTS{} on the {} leg (exit code {} from `ficx token`)",
                defaults::TAILSPIN_TENANT_DOMAIN,
                e.aadsts().unwrap_or(0),
                e.leg().map(|l| l.to_string()).unwrap_or_default(),
                e.exit_code()
            );
            // What `ficx doctor` says about it.
            let cloud = exchanger.cloud().clone();
            let facts = Facts {
                client_id: defaults::APP_CLIENT_ID,
                tenant: Some(defaults::TAILSPIN_TENANT_DOMAIN),
                scope: Some(defaults::GRAPH_RESOURCE),
                cloud: &cloud,
                audience: exchanger.audience(),
                assertion: Some(&view),
                identity: None,
            };
            let d = explain(&e, &facts);
            println!("     doctor: {}", d.summary);
            for f in d.fix {
                println!("     fix: {f}");
            }
        }
    }
    emu.shutdown().await;
    println!("\ndone in {}", human_duration(started.elapsed()));
    Ok(())
}

#[allow(clippy::disallowed_methods)] // narration of remaining lifetime uses the real clock
fn now_wall() -> std::time::SystemTime {
    std::time::SystemTime::now()
}
