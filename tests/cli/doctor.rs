//! `ficx doctor`: one test per failure mode the emulator can produce, each asserting that the fix
//! names the right value (the exact issuer, subject, audience, tenant, consent URL, …).

use std::sync::Arc;
use std::time::Duration;

use ficx::ManualClock;
use ficx::emulator::{EmulatorConfig, Endpoint, FicConfig, defaults};

use crate::support::Cli;

fn fixes(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|l| {
            l.trim_start().starts_with("fix:") || l.trim_start().starts_with("what went wrong:")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn doctor(cli: &Cli, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["doctor", "--tenant", defaults::CONTOSO_TENANT_DOMAIN];
    args.extend_from_slice(extra);
    let o = cli.run(&args).await;
    assert!(
        o.stderr.contains("doctor found a problem") || o.code == 0,
        "{}",
        o.stderr
    );
    (o.code, o.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_setup_passes_every_step() {
    let cli = Cli::start().await;
    let o = cli
        .run(&["doctor", "--tenant", defaults::CONTOSO_TENANT_DOMAIN])
        .await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    for step in [
        "environment",
        "managed identity token",
        "federated credential",
        "exchange",
        "resulting token",
    ] {
        assert!(
            o.stdout.contains(&format!("✓ {step}")),
            "{step}:\n{}",
            o.stdout
        );
    }
    assert!(o.stdout.contains("roles: Application.Read.All"));
    assert!(
        o.stdout.contains("AZURE_POD_IDENTITY_AUTHORITY_HOST"),
        "says which variable decided the source"
    );
    let j = cli
        .run(&[
            "doctor",
            "--tenant",
            defaults::CONTOSO_TENANT_DOMAIN,
            "-o",
            "json",
        ])
        .await;
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["steps"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_issuer() {
    let cli = Cli::start().await;
    cli.emu
        .directory()
        .remove_fic(defaults::APP_NAME, defaults::APP_FIC_NAME)
        .unwrap();
    cli.emu
        .directory()
        .add_fic(
            defaults::APP_NAME,
            FicConfig {
                name: "trailing-slash".into(),
                issuer: format!("{}/", defaults::APP_FIC_ISSUER),
                subject: defaults::UAMI_TRUSTED_OBJECT_ID.into(),
                audiences: vec![defaults::EXCHANGE_AUDIENCE.into()],
                visible_after_secs: 0,
            },
        )
        .unwrap();
    let (code, out) = doctor(&cli, &[]).await;
    assert_eq!(code, 4);
    let f = fixes(&out);
    assert!(
        f.contains(&format!(
            "issuer must be exactly {}",
            defaults::APP_FIC_ISSUER
        )),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_subject() {
    let cli = Cli::start().await;
    let (code, out) = doctor(
        &cli,
        &["--mi-client-id", defaults::UAMI_UNTRUSTED_CLIENT_ID],
    )
    .await;
    assert_eq!(code, 4);
    let f = fixes(&out);
    assert!(
        f.contains(&format!(
            "subject must be exactly {}",
            defaults::UAMI_UNTRUSTED_OBJECT_ID
        )),
        "{f}"
    );
    assert!(
        f.contains(&format!(
            "--mi-object-id {}",
            defaults::UAMI_UNTRUSTED_OBJECT_ID
        )),
        "the ficx setup command: {f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_audience() {
    let cli = Cli::start().await;
    let (code, out) = doctor(&cli, &["--audience", "api://AzureADTokenExchangeUSGov"]).await;
    assert_eq!(code, 4);
    let f = fixes(&out);
    assert!(
        f.contains("audience must be exactly api://AzureADTokenExchangeUSGov"),
        "{f}"
    );
    assert!(
        f.contains("exchange audience is api://AzureADTokenExchange"),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_provisioned() {
    let cli = Cli::start().await;
    let o = cli
        .run(&["doctor", "--tenant", defaults::TAILSPIN_TENANT_DOMAIN])
        .await;
    assert_eq!(o.code, 4);
    let f = fixes(&o.stdout);
    let url = format!(
        "{}/{}/adminconsent?client_id={}",
        cli.emu.authority_url(),
        defaults::TAILSPIN_TENANT_DOMAIN,
        defaults::APP_CLIENT_ID
    );
    assert!(f.contains(&url), "{f}");
    assert!(
        f.contains(&format!("az ad sp create --id {}", defaults::APP_CLIENT_ID)),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fic_on_an_app_in_the_wrong_tenant() {
    let cli = Cli::start().await;
    let (code, out) = doctor(&cli, &["--client-id", defaults::LOCAL_APP_CLIENT_ID]).await;
    assert_eq!(code, 4);
    let f = fixes(&out);
    assert!(
        f.contains(&format!(
            "move the FIC to a multi-tenant app registered in tenant {}",
            defaults::HOME_TENANT_ID
        )),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tenant() {
    let cli = Cli::start().await;
    let o = cli
        .run(&["doctor", "--tenant", "nowhere.onmicrosoft.com"])
        .await;
    assert_eq!(o.code, 4);
    let f = fixes(&o.stdout);
    assert!(
        f.contains("tenant nowhere.onmicrosoft.com does not exist"),
        "{f}"
    );
    assert!(
        f.contains("check the tenant id or domain nowhere.onmicrosoft.com"),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mi_not_assigned() {
    let cli = Cli::start().await;
    let stranger = "99999999-0000-4000-8000-000000000009";
    let (code, out) = doctor(&cli, &["--mi-client-id", stranger]).await;
    assert_eq!(code, 3);
    assert!(out.contains("✗ managed identity token"), "{out}");
    let f = fixes(&out);
    assert!(
        f.contains(stranger) && f.contains("not assigned to this compute"),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_assertion() {
    let clock = Arc::new(ManualClock::starting_now());
    let cli = Cli::with_clock(EmulatorConfig::default_config(), clock.clone()).await;
    let a = cli.run(&["assertion"]).await;
    assert_eq!(a.code, 0, "{}", a.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("assertion.jwt");
    std::fs::write(&file, a.stdout.trim()).unwrap();
    clock.advance(Duration::from_secs(25 * 3600));
    let (code, out) = doctor(&cli, &["--assertion-file", file.to_str().unwrap()]).await;
    assert_eq!(code, 4, "{out}");
    let f = fixes(&out);
    assert!(f.contains("expired") && f.contains("clock"), "{f}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_token() {
    let cli = Cli::start().await;
    // Cloud Shell as the MI source is refused before any request, with the reason.
    let mut cs = Cli::start().await;
    cs.source = Endpoint::CloudShell;
    let o = cs
        .run(&["doctor", "--tenant", defaults::CONTOSO_TENANT_DOMAIN])
        .await;
    assert_eq!(o.code, 2, "{}", o.stdout);
    assert!(o.stdout.contains("AADSTS700229"), "{}", o.stdout);
    assert_eq!(cs.requests(), 0);
    // A delegated token presented as the assertion: Entra's 700229, explained.
    let url = cli.emu.endpoint_url(Endpoint::CloudShell);
    let body = reqwest_post(&url).await;
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("user.jwt");
    std::fs::write(&file, token).unwrap();
    let (code, out) = doctor(&cli, &["--assertion-file", file.to_str().unwrap()]).await;
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("delegated (user) token"), "{out}");
    let f = fixes(&out);
    assert!(f.contains("user-assigned managed identity"), "{f}");
}

async fn reqwest_post(url: &str) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    client
        .post(url)
        .header("Metadata", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("resource=api%3A%2F%2FAzureADTokenExchange")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
