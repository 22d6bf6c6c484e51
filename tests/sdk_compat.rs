//! Python SDK compatibility: the emulator (default config, in-process) serves azure-identity's
//! `ManagedIdentityCredential` + `ClientAssertionCredential` and MSAL Python's
//! `ManagedIdentityClient` + `ConfidentialClientApplication` running `scripts/python_sdk_flow.py`
//! in a venv under `<target>/sdk-compat-venv` (created with `pip install azure-identity msal` on
//! first use, reused afterwards).
//!
//! When `python3`, venv/pip or PyPI is unavailable the test prints `SKIPPED: …` and passes.

use std::path::Path;
use std::time::Duration;

#[path = "support/python_sdks.rs"]
mod python_sdks;
use python_sdks::{python, run};

use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Endpoint, defaults as d};

const FLOW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/python_sdk_flow.py");

fn claims(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).expect("JWT has claims");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn flow(py: &Path, emu: &EmulatorHandle, mode: &str) -> serde_json::Value {
    let mut cmd = tokio::process::Command::new(py);
    cmd.arg(FLOW).arg(mode);
    for var in [
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "IDENTITY_SERVER_THUMBPRINT",
        "IMDS_ENDPOINT",
        "MSI_ENDPOINT",
        "MSI_SECRET",
        "AZUREPS_HOST_ENVIRONMENT",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(emu.env(Endpoint::Imds))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("FICX_AUTHORITY", emu.authority_url())
        .env("FICX_TENANT", d::CONTOSO_TENANT_ID)
        .env("FICX_APP_CLIENT_ID", d::APP_CLIENT_ID)
        .env("FICX_UAMI_CLIENT_ID", d::UAMI_TRUSTED_CLIENT_ID)
        .env("FICX_SCOPE", "https://graph.microsoft.com/.default");
    let out = run(&mut cmd, Duration::from_secs(60))
        .await
        .unwrap_or_else(|| panic!("{mode} flow did not finish within 60 s"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stdout.lines().filter(|l| !l.starts_with("TOKEN=")) {
        println!("[{mode} stdout] {line}");
    }
    for line in stderr.lines() {
        println!("[{mode} stderr] {line}");
    }
    assert!(out.status.success(), "{mode} flow failed: {stderr}");
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TOKEN="))
        .unwrap_or_else(|| panic!("{mode} printed no token"));
    claims(token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdks_complete_the_flow_against_the_emulator() {
    let py = match python().await {
        Ok(py) => py,
        Err(why) => {
            println!("SKIPPED: Python SDK compatibility: {why}");
            return;
        }
    };
    let emu = Emulator::start(EmulatorConfig::default_config())
        .await
        .expect("emulator starts");
    for mode in ["azure-identity", "msal"] {
        let before = (
            emu.log().count(Endpoint::Imds),
            emu.log().count(Endpoint::Token),
        );
        let c = flow(&py, &emu, mode).await;
        assert_eq!(c["tid"], d::CONTOSO_TENANT_ID, "{mode}: {c}");
        assert_eq!(c["appid"], d::APP_CLIENT_ID, "{mode}: {c}");
        assert_eq!(c["aud"], "https://graph.microsoft.com", "{mode}: {c}");
        assert!(
            c["roles"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == "Application.Read.All")),
            "{mode}: {c}"
        );
        let after = (
            emu.log().count(Endpoint::Imds),
            emu.log().count(Endpoint::Token),
        );
        assert!(after.0 > before.0, "{mode}: no IMDS request seen");
        assert!(after.1 > before.1, "{mode}: no token request seen");
        println!(
            "{mode}: ok (IMDS requests {}, token requests {})",
            after.0 - before.0,
            after.1 - before.1
        );
    }
    // MSAL discovers the authority first: instance discovery, then the OpenID configuration.
    assert!(emu.log().count(Endpoint::InstanceDiscovery) >= 1);
    assert!(emu.log().count(Endpoint::OpenIdConfiguration) >= 1);
    for e in emu.log().entries() {
        println!(
            "log: {} {} {} -> {:?}",
            e.method,
            e.path,
            e.endpoint.map(|e| e.name()).unwrap_or("-"),
            e.status
        );
    }
    emu.shutdown().await;
}
