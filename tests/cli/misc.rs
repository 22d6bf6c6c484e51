//! `inspect`, `emulate`, `demo`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use ficx::emulator::defaults;

use crate::support::{Cli, run_bin};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_explains_mi_and_app_tokens_without_printing_them() {
    let cli = Cli::start().await;
    let mi = cli.run(&["assertion"]).await.stdout;
    let o = cli.run_env(&["inspect"], vec![], Some(mi.clone())).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("WITHOUT verifying"));
    assert!(
        o.stdout
            .contains(&format!("subject \"{}\"", defaults::UAMI_TRUSTED_OBJECT_ID)),
        "{}",
        o.stdout
    );
    assert!(
        !o.stdout.contains(mi.trim()),
        "inspect never prints the token"
    );
    let app = cli
        .run(&[
            "token",
            "--tenant",
            defaults::NORTHWIND_TENANT_DOMAIN,
            "--scope",
            "https://graph.microsoft.com",
        ])
        .await
        .stdout;
    let o = cli
        .run_env(&["inspect", app.trim(), "-o", "json"], vec![], None)
        .await;
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["kind"], "app_only");
    assert_eq!(v["claims"]["tid"], defaults::NORTHWIND_TENANT_ID);
    assert!(o.stdout.contains("Directory.Read.All"));
}

#[test]
fn emulate_prints_the_environment_and_serves_until_terminated() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ficx"))
        .args(["emulate", "--print-env", "json"])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let env: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&line).unwrap();
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let o = run_bin(
        &[
            "token".into(),
            "--tenant".into(),
            defaults::CONTOSO_TENANT_DOMAIN.into(),
            "--scope".into(),
            "https://graph.microsoft.com".into(),
        ],
        vars,
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
}

#[test]
fn demo_runs_the_whole_story() {
    let o = run_bin(&["demo".into()], vec![], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for needle in [
        "✓ contoso.onmicrosoft.com",
        "✓ northwind.onmicrosoft.com",
        "1 to the MI endpoint, 2 to the token endpoint",
        "AADSTS700016",
        "fix:",
    ] {
        assert!(
            o.stdout.contains(needle),
            "demo shows {needle:?}:\n{}",
            o.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_logs_never_carry_a_secret() {
    use ficx::emulator::{Endpoint, Fault, Times};
    let cli = Cli::start().await;
    let g = "https://graph.microsoft.com";
    // Success, and each failure kind, at TRACE; `run` asserts stderr holds no token and no
    // platform secret (IDENTITY_HEADER / MSI_SECRET) for every run of the suite.
    let ok = cli
        .run(&[
            "-vvv",
            "token",
            "--tenant",
            defaults::CONTOSO_TENANT_DOMAIN,
            "--scope",
            g,
        ])
        .await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stderr.contains("request sent"),
        "TRACE logging is on: {}",
        ok.stderr
    );
    let _ = cli
        .run(&[
            "-vvv",
            "token",
            "--tenant",
            defaults::TAILSPIN_TENANT_DOMAIN,
            "--scope",
            g,
        ])
        .await;
    let _ = cli
        .run(&[
            "-vvv",
            "doctor",
            "--tenant",
            defaults::TAILSPIN_TENANT_DOMAIN,
        ])
        .await;
    cli.emu
        .faults()
        .inject(Endpoint::Token, Fault::TruncatedBody, Times::Next(1));
    let _ = cli
        .run(&[
            "-vvv",
            "token",
            "--tenant",
            defaults::NORTHWIND_TENANT_DOMAIN,
            "--scope",
            g,
        ])
        .await;
    for source in [
        Endpoint::AppService,
        Endpoint::AzureMl,
        Endpoint::ServiceFabric,
    ] {
        let mut c = Cli::start().await;
        c.source = source;
        c.emu
            .faults()
            .inject(source, Fault::Html { status: 401 }, Times::Always);
        let mut env = c.env();
        if source == Endpoint::ServiceFabric {
            env.retain(|(k, _)| k != "FICX_MI_CLIENT_ID");
        }
        let o = c
            .run_env(
                &[
                    "-vvv",
                    "token",
                    "--tenant",
                    defaults::CONTOSO_TENANT_DOMAIN,
                    "--scope",
                    g,
                ],
                env,
                None,
            )
            .await;
        assert_eq!(o.code, 3, "{source}: {}", o.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_every_format_from_ids_live_and_token() {
    let cli = Cli::start().await;
    let ids = [
        "setup",
        "--mi-tenant",
        defaults::HOME_TENANT_ID,
        "--mi-object-id",
        defaults::UAMI_TRUSTED_OBJECT_ID,
        "--app",
        defaults::APP_CLIENT_ID,
        "--consent-tenant",
        defaults::CONTOSO_TENANT_DOMAIN,
    ];
    for format in [
        "text",
        "json",
        "az",
        "graph",
        "bicep",
        "terraform",
        "powershell",
    ] {
        let mut args = ids.to_vec();
        args.extend(["--format", format]);
        let o = cli.run_env(&args, vec![], None).await;
        assert_eq!(o.code, 0, "{format}: {}", o.stderr);
        assert!(
            o.stdout.contains(defaults::UAMI_TRUSTED_OBJECT_ID),
            "{format} names the subject"
        );
        assert!(
            o.stdout.contains(defaults::APP_FIC_ISSUER),
            "{format} names the issuer"
        );
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
            assert_eq!(v["subject"], defaults::UAMI_TRUSTED_OBJECT_ID);
            assert!(
                v["consent"][0]["url"]
                    .as_str()
                    .unwrap()
                    .contains("adminconsent?client_id=")
            );
        }
    }
    assert_eq!(cli.requests(), 0, "setup from ids makes no request");
    // From a live MI token: the values are copied from it.
    let live = cli.run(&["setup", "--from-live", "--format", "json"]).await;
    assert_eq!(live.code, 0, "{}", live.stderr);
    let v: serde_json::Value = serde_json::from_str(&live.stdout).unwrap();
    assert_eq!(
        (v["issuer"].as_str(), v["subject"].as_str()),
        (
            Some(defaults::APP_FIC_ISSUER),
            Some(defaults::UAMI_TRUSTED_OBJECT_ID)
        )
    );
    assert_eq!(v["name"], "ficx-uami-trusted");
    // From a saved token on stdin.
    let token = cli.run(&["assertion"]).await.stdout;
    let o = cli
        .run_env(
            &[
                "setup",
                "--from-token",
                "-",
                "--app",
                defaults::APP_CLIENT_ID,
                "--format",
                "json",
            ],
            vec![],
            Some(token),
        )
        .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Bad input.
    let o = cli
        .run_env(
            &[
                "setup",
                "--from-live",
                "--from-token",
                "x",
                "--app",
                defaults::APP_CLIENT_ID,
            ],
            vec![],
            None,
        )
        .await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    let mut bad = ids.to_vec();
    bad.extend(["--format", "yaml"]);
    let o = cli.run_env(&bad, vec![], None).await;
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--format"), "{}", o.stderr);
    let o = cli
        .run_env(
            &[
                "setup",
                "--mi-tenant",
                defaults::HOME_TENANT_ID,
                "--mi-object-id",
                "not-a-guid",
                "--app",
                defaults::APP_CLIENT_ID,
            ],
            vec![],
            None,
        )
        .await;
    assert_eq!(o.code, 2, "{}", o.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_warns_about_system_assigned_identities() {
    let cli = Cli::start().await;
    let mut env = cli.env();
    env.retain(|(k, _)| k != "FICX_MI_CLIENT_ID");
    let o = cli
        .run_env(&["setup", "--from-live", "--format", "json"], env, None)
        .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["mi"]["system_assigned"], true);
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "system-assigned"),
        "{v}"
    );
}
