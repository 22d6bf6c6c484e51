//! `ficx serve --config FILE`: the file under the environment and the flags, and bad files
//! refused with one line, exit 2 and no request.

use std::path::Path;

use ficx::emulator::{Endpoint, defaults as d};
use serde_json::Value;

use crate::support::{Served, app_service, emulator, env, json, run_to_end};

const SECRET: &str = "a-secret-from-a-file-0123456789";

fn toml_string(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

/// Precedence: a flag beats its variable, which beats the file, which beats the default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_fills_what_flags_and_environment_leave_unset() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), SECRET).unwrap();
    let file = dir.path().join("serve.toml");
    std::fs::write(
        &file,
        format!(
            r#"
listen = "127.0.0.1:0"
allow_tenant = ["{northwind}"]
secret_file = "secret"   # relative to this file
log_format = "text"
client_id = "{app}"
mi_client_id = "{uami}"
ca_file = {ca}
"#,
            northwind = d::NORTHWIND_TENANT_DOMAIN,
            app = d::APP_CLIENT_ID,
            uami = d::UAMI_TRUSTED_CLIENT_ID,
            ca = toml_string(emu.ca_file()),
        ),
    )
    .unwrap();
    // Only the emulator's MI endpoint and authority come from the environment, plus
    // FICX_SERVE_CONFIG (the file) and FICX_LOG_FORMAT (beating the file's log_format).
    let mut vars: Vec<(String, String)> = env(&emu)
        .into_iter()
        .filter(|(k, _)| {
            !["FICX_CLIENT_ID", "FICX_MI_CLIENT_ID", "FICX_CA_FILE"].contains(&k.as_str())
        })
        .collect();
    vars.push(("FICX_SERVE_CONFIG".into(), file.display().to_string()));
    vars.push(("FICX_LOG_FORMAT".into(), "json".into()));
    vars.push((
        "FICX_SERVE_ALLOW_TENANT".into(),
        d::TAILSPIN_TENANT_DOMAIN.into(),
    ));
    // The flag beats FICX_SERVE_ALLOW_TENANT, which beats the file's allow_tenant.
    let s = Served::spawn(
        emu,
        &["--allow-tenant", d::CONTOSO_TENANT_DOMAIN],
        vars,
        true,
    )
    .await;
    assert!(
        !s.url.ends_with(":8390"),
        "listen from the file, not the default: {}",
        s.url
    );
    assert!(s.secret.is_none(), "a secret from a file is never printed");
    assert!(s.stdout.iter().all(|l| !l.contains(SECRET)));

    // client_id, mi_client_id and ca_file came from the file: the exchange works.
    let r = s
        .get(&app_service(d::CONTOSO_TENANT_DOMAIN), Some(SECRET))
        .await;
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert_eq!(body["client_id"], d::APP_CLIENT_ID);
    for (tenant, why) in [
        (d::NORTHWIND_TENANT_DOMAIN, "the file's tenant"),
        (
            d::TAILSPIN_TENANT_DOMAIN,
            "FICX_SERVE_ALLOW_TENANT's tenant",
        ),
    ] {
        let r = s.get(&app_service(tenant), Some(SECRET)).await;
        assert_eq!(r.status(), 403, "{why} is replaced by the flag's");
    }
    assert_eq!(
        s.get(&app_service(d::CONTOSO_TENANT_DOMAIN), None)
            .await
            .status(),
        401
    );
    assert_eq!(s.emu.log().count(Endpoint::Token), 1);

    let stderr = s.stop_clean(SECRET).await;
    // FICX_LOG_FORMAT=json beat the file's "text".
    for line in stderr.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}\n{stderr}"));
        assert!(v["message"].is_string(), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_file_is_one_line_exit_2_and_no_request() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "unknown.toml",
            "listen = \"127.0.0.1:0\"\nallow_any_tenant = true\nfrobnicate = 1\n",
            &["line 3", "frobnicate", "unknown field", "expected one of"],
        ),
        (
            "type.toml",
            "allow_any_tenant = true\nrate_limit = \"fast\"\n",
            &["line 2", "rate_limit", "expected u32"],
        ),
        (
            "secret.toml",
            "allow_any_tenant = true\nsecret = \"hunter2-hunter2-hunter2\"\n",
            &["line 2", "secret", "secret_file"],
        ),
        (
            "listen.toml",
            "allow_any_tenant = true\nlisten = \"0.0.0.0:8390\"\n",
            &["line 2", "listen", "loopback only"],
        ),
        (
            "syntax.toml",
            "allow_any_tenant = true\nlisten = \"127.0.0.1:0\n",
            &["line 2", "listen"],
        ),
        (
            "tenant.toml",
            "allow_tenant = [\"con/toso\"]\n",
            &["line 1", "allow_tenant"],
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, stdout, stderr) =
            run_to_end(&["serve", "--config", path.to_str().unwrap()], env(&emu));
        assert_eq!(code, 2, "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: one line:\n{stderr}");
        assert!(
            stderr.contains(&path.display().to_string()),
            "{name}: names the file: {stderr}"
        );
        for e in expected {
            assert!(stderr.contains(e), "{name}: {e:?} missing: {stderr}");
        }
        assert!(
            !stderr.contains("hunter2"),
            "the secret is not echoed: {stderr}"
        );
        assert!(stdout.is_empty(), "{name}: {stdout}");
    }
    let missing = dir.path().join("missing.toml");
    let mut vars = env(&emu);
    vars.push(("FICX_SERVE_CONFIG".into(), missing.display().to_string()));
    let (code, _, stderr) = run_to_end(&["serve"], vars);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert_eq!(emu.log().len(), 0, "no request was sent");
}
