//! The Python venv the SDK tests share (`<target>/sdk-compat-venv`): azure-identity and msal
//! from PyPI, created on first use and reused afterwards. Included with `#[path]` by
//! `tests/sdk_compat.rs` and `tests/serve/python.rs`; callers print `SKIPPED: <why>` and pass
//! when it returns `Err` (no python3, venv/pip or PyPI).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// What the venv holds (pip names) and the imports that prove it.
const PACKAGES: [&str; 2] = ["azure-identity", "msal"];
const IMPORTS: &str = "import azure.identity, msal, requests";

fn venv_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("sdk-compat-venv")
}

/// Run `cmd` with no stdin, killed after `limit`; `None` when it could not run or timed out.
pub(crate) async fn run(
    cmd: &mut tokio::process::Command,
    limit: Duration,
) -> Option<std::process::Output> {
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    match tokio::time::timeout(limit, cmd.output()).await {
        Ok(Ok(out)) => Some(out),
        _ => None,
    }
}

async fn importable(py: &Path) -> bool {
    run(
        tokio::process::Command::new(py).args(["-c", IMPORTS]),
        Duration::from_secs(30),
    )
    .await
    .is_some_and(|o| o.status.success())
}

/// The venv's python with both SDKs importable, creating the venv when needed; `Err` = why not.
pub(crate) async fn python() -> Result<PathBuf, String> {
    let venv = venv_dir();
    let py = venv.join("bin").join("python");
    if importable(&py).await {
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
        tokio::process::Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PACKAGES),
        Duration::from_secs(240),
    )
    .await
    .ok_or("pip install timed out")?;
    if !pip.status.success() {
        return Err(format!(
            "pip install {} failed (PyPI unreachable?): {}",
            PACKAGES.join(" "),
            String::from_utf8_lossy(&pip.stderr).trim()
        ));
    }
    if importable(&py).await {
        Ok(py)
    } else {
        Err("the SDKs are still not importable after pip install".into())
    }
}
