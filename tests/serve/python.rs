//! azure-identity for Python, unmodified, against `ficx serve`: `ManagedIdentityCredential()`
//! with only `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` set gets a contoso token. Uses the venv
//! shared with `tests/sdk_compat.rs` (`tests/support/python_sdks.rs`), creating it when absent.
//! Without python3, venv/pip or PyPI the test prints `SKIPPED: …` and passes.

use std::time::Duration;

use ficx::emulator::{Endpoint, defaults as d};

use crate::python_sdks::{python, run};
use crate::support::Served;

const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/mi_client.py");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_identity_for_python_gets_a_foreign_tenant_token() {
    let py = match python().await {
        Ok(py) => py,
        Err(why) => {
            println!("SKIPPED: azure-identity against ficx serve: {why}");
            return;
        }
    };
    let s = Served::start(&["--allow-tenant", d::CONTOSO_TENANT_DOMAIN]).await;
    let secret = s.secret().to_owned();
    let mut cmd = tokio::process::Command::new(&py);
    cmd.arg(CLIENT).env_clear();
    for keep in ["PATH", "HOME", "LANG", "SYSTEMROOT"] {
        #[allow(clippy::disallowed_methods)]
        // the child needs the test's PATH to find its libraries
        let v = std::env::var_os(keep);
        if let Some(v) = v {
            cmd.env(keep, v);
        }
    }
    cmd.env(
        "IDENTITY_ENDPOINT",
        s.identity_endpoint
            .as_deref()
            .expect("IDENTITY_ENDPOINT printed"),
    )
    .env("IDENTITY_HEADER", &secret)
    .env("NO_PROXY", "127.0.0.1,localhost");
    let out = run(&mut cmd, Duration::from_secs(60))
        .await
        .expect("the Python client finishes within 60 s");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "azure-identity failed: {stderr}");
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TOKEN="))
        .expect("a token printed");
    let claims = ficx::jwt::decode_unverified(token).unwrap().claims;
    assert_eq!(claims["tid"], d::CONTOSO_TENANT_ID, "{claims:?}");
    assert_eq!(claims["appid"], d::APP_CLIENT_ID);
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(s.emu.log().count(Endpoint::Token), 1);
    s.stop_clean(&secret).await;
}
