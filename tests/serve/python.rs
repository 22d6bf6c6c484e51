//! azure-identity for Python, unmodified, against `ficx serve`: `ManagedIdentityCredential()`
//! with only `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` set gets a contoso token. Uses the venv
//! of `tests/sdk_compat.rs` (`<target>/sdk-compat-venv`), creating it with azure-identity when
//! absent. Without python3, venv/pip or PyPI the test prints `SKIPPED: …` and passes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use ficx::emulator::{Endpoint, defaults as d};

use crate::support::{Served, assert_clean};

const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/mi_client.py");

fn venv_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("sdk-compat-venv")
}

async fn run(cmd: &mut tokio::process::Command, limit: Duration) -> Option<std::process::Output> {
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    match tokio::time::timeout(limit, cmd.output()).await {
        Ok(Ok(out)) => Some(out),
        _ => None,
    }
}

/// The venv's python with azure-identity importable; Err = why not.
async fn python() -> Result<PathBuf, String> {
    let venv = venv_dir();
    let py = venv.join("bin").join("python");
    let importable = |py: PathBuf| async move {
        run(
            tokio::process::Command::new(&py).args(["-c", "import azure.identity"]),
            Duration::from_secs(30),
        )
        .await
        .is_some_and(|o| o.status.success())
    };
    if importable(py.clone()).await {
        return Ok(py);
    }
    let made = run(
        tokio::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv),
        Duration::from_secs(60),
    )
    .await
    .ok_or("python3 is not available")?;
    if !made.status.success() {
        return Err(format!(
            "python3 -m venv failed: {}",
            String::from_utf8_lossy(&made.stderr).trim()
        ));
    }
    let pip = run(
        tokio::process::Command::new(&py).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "azure-identity",
        ]),
        Duration::from_secs(240),
    )
    .await
    .ok_or("pip install timed out")?;
    if !pip.status.success() {
        return Err(format!(
            "pip install azure-identity failed (PyPI unreachable?): {}",
            String::from_utf8_lossy(&pip.stderr).trim()
        ));
    }
    if importable(py.clone()).await {
        Ok(py)
    } else {
        Err("azure-identity is still not importable after pip install".into())
    }
}

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
    let (code, stderr) = s.terminate().await;
    assert_eq!(code, 0);
    assert_clean(&stderr, &secret);
}
