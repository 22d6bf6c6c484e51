//! `ficx token` and `ficx assertion`: outputs and every exit code.

use ficx::emulator::{Endpoint, Fault, RetryAfter, Times, defaults};

use crate::support::{Cli, claims};

const G: &str = "https://graph.microsoft.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_only_the_token_then_json_then_header() {
    let cli = Cli::start().await;
    let o = cli
        .run(&[
            "token",
            "--tenant",
            defaults::CONTOSO_TENANT_DOMAIN,
            "--scope",
            G,
        ])
        .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout.lines().count(), 1);
    assert_eq!(
        claims(&o.stdout).str_claim("tid"),
        Some(defaults::CONTOSO_TENANT_ID)
    );
    assert!(o.stderr.is_empty(), "quiet on success: {}", o.stderr);

    let o = cli
        .run(&[
            "token",
            "--tenant",
            defaults::CONTOSO_TENANT_DOMAIN,
            "--scope",
            G,
            "-o",
            "json",
        ])
        .await;
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    for k in [
        "tenant",
        "scope",
        "token_type",
        "access_token",
        "expires_on",
        "expires_on_rfc3339",
        "expires_in",
    ] {
        assert!(v.get(k).is_some(), "json has {k}: {v}");
    }
    assert_eq!(v["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(v["token_type"], "Bearer");

    let o = cli
        .run(&[
            "token",
            "--tenant",
            defaults::CONTOSO_TENANT_DOMAIN,
            "--scope",
            G,
            "-o",
            "header",
        ])
        .await;
    assert!(
        o.stdout.starts_with("Authorization: Bearer eyJ"),
        "{}",
        o.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_tenants_one_mi_request_json_lines() {
    let cli = Cli::start().await;
    let o = cli
        .run(&[
            "token",
            "--tenant",
            defaults::CONTOSO_TENANT_DOMAIN,
            "--tenant",
            defaults::NORTHWIND_TENANT_DOMAIN,
            "--scope",
            G,
        ])
        .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<serde_json::Value> = o
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(cli.emu.log().count(Endpoint::Imds), 1, "one MI request");
    assert_eq!(
        cli.emu.log().count(Endpoint::Token),
        2,
        "one exchange per tenant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_3_4_5_1() {
    let cli = Cli::start().await;
    // 3: the MI leg (identity not assigned).
    let o = cli
        .run(&[
            "token",
            "--tenant",
            defaults::CONTOSO_TENANT_DOMAIN,
            "--scope",
            G,
            "--mi-client-id",
            "99999999-0000-4000-8000-000000000009",
        ])
        .await;
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("managed identity (IMDS"), "{}", o.stderr);
    assert!(o.stderr.contains("hint:"), "{}", o.stderr);
    // 4: Entra rejects (not provisioned), with hint and support ids.
    let o = cli
        .run(&[
            "token",
            "--tenant",
            defaults::TAILSPIN_TENANT_DOMAIN,
            "--scope",
            G,
        ])
        .await;
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(
        o.stderr.contains("AADSTS700016")
            && o.stderr.contains("hint:")
            && o.stderr.contains("correlation id"),
        "{}",
        o.stderr
    );
    // 5: throttled beyond the retry budget.
    cli.emu.faults().inject(
        Endpoint::Token,
        Fault::Status {
            status: 429,
            retry_after: Some(RetryAfter::Seconds(600)),
            body: None,
        },
        Times::Next(1),
    );
    let o = cli
        .run(&[
            "token",
            "--tenant",
            defaults::NORTHWIND_TENANT_DOMAIN,
            "--scope",
            G,
        ])
        .await;
    assert_eq!(o.code, 5, "{}", o.stderr);
    // 1: something unusable (a proxy's HTML 403 instead of an OAuth answer).
    cli.emu
        .faults()
        .inject(Endpoint::Token, Fault::Html { status: 403 }, Times::Next(1));
    let o = cli
        .run(&[
            "token",
            "--tenant",
            defaults::NORTHWIND_TENANT_DOMAIN,
            "--scope",
            G,
        ])
        .await;
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("invalid response"), "{}", o.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_assigned_warns_and_no_mi_is_exit_3() {
    let cli = Cli::start().await;
    let mut env = cli.env();
    env.retain(|(k, _)| k != "FICX_MI_CLIENT_ID");
    let o = cli
        .run_env(
            &[
                "token",
                "--tenant",
                defaults::CONTOSO_TENANT_DOMAIN,
                "--scope",
                G,
            ],
            env,
            None,
        )
        .await;
    assert!(o.stderr.contains("system-assigned"), "{}", o.stderr);
    assert_eq!(o.code, 4, "SAMI is not trusted by the FIC: {}", o.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_propagation_rides_out_a_fresh_fic() {
    use ficx::emulator::FicConfig;
    let cli = Cli::start().await;
    cli.emu
        .directory()
        .add_fic(
            defaults::APP_NAME,
            FicConfig {
                name: "late".into(),
                issuer: defaults::APP_FIC_ISSUER.into(),
                subject: defaults::UAMI_UNTRUSTED_OBJECT_ID.into(),
                audiences: vec![defaults::EXCHANGE_AUDIENCE.into()],
                visible_after_secs: 2,
            },
        )
        .unwrap();
    let args = [
        "token",
        "--tenant",
        defaults::CONTOSO_TENANT_DOMAIN,
        "--scope",
        G,
        "--mi-client-id",
        defaults::UAMI_UNTRUSTED_CLIENT_ID,
        "--wait-propagation",
        "30s",
    ];
    let o = cli.run(&args).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        cli.emu.log().count(Endpoint::Token) >= 2,
        "70021 was retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assertion_prints_the_mi_token() {
    let cli = Cli::start().await;
    let o = cli.run(&["assertion"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let c = claims(&o.stdout);
    assert_eq!(c.audience(), Some("api://AzureADTokenExchange"));
    assert_eq!(c.str_claim("sub"), Some(defaults::UAMI_TRUSTED_OBJECT_ID));
    let o = cli
        .run(&["assertion", "--cloud", "usgov", "-o", "json"])
        .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["audience"], "api://AzureADTokenExchangeUSGov");
    assert_eq!(v["source"], "imds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mi_source_through_the_cli() {
    for (source, mi) in [
        (Endpoint::AppService, Some(defaults::UAMI_TRUSTED_CLIENT_ID)),
        (Endpoint::AzureMl, Some(defaults::UAMI_TRUSTED_CLIENT_ID)),
        (Endpoint::ServiceFabric, None),
    ] {
        let mut cli = Cli::start().await;
        cli.source = source;
        let mut env = cli.env();
        if mi.is_none() {
            env.retain(|(k, _)| k != "FICX_MI_CLIENT_ID");
        }
        let o = cli
            .run_env(
                &[
                    "token",
                    "--tenant",
                    defaults::CONTOSO_TENANT_DOMAIN,
                    "--scope",
                    G,
                ],
                env,
                None,
            )
            .await;
        assert_eq!(o.code, 0, "{source}: {}", o.stderr);
    }
}
