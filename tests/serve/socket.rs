//! `--unix-socket`: tokens over a Unix socket (raw HTTP/1.1 on a `tokio::net::UnixStream`), the
//! socket's mode, a stale socket replaced, a live one and a regular file refused, and the socket
//! removed on shutdown.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use ficx::emulator::{Endpoint, defaults as d};
use serde_json::Value;

use crate::support::{Served, app_service, emulator, env, run_to_end, unix_get, v1_token};

fn assert_socket_0600(path: &Path) {
    let m = std::fs::symlink_metadata(path).expect("the socket exists");
    assert!(m.file_type().is_socket(), "{} is a socket", path.display());
    assert_eq!(m.permissions().mode() & 0o777, 0o600, "mode 0600");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_unix_socket_serves_tokens_with_the_secret_and_is_removed_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.sock");
    // A stale socket from a killed run: the file is there, nobody accepts on it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());

    let emu = emulator().await;
    let vars = env(&emu);
    let s = Served::spawn(
        emu,
        &[
            "--unix-socket",
            path.to_str().unwrap(),
            "--allow-tenant",
            d::CONTOSO_TENANT_DOMAIN,
        ],
        vars.clone(),
        true,
    )
    .await;
    assert!(s.url.is_empty(), "no TCP listener without --listen");
    assert_eq!(s.socket.as_deref(), Some(path.as_path()));
    assert!(s.identity_endpoint.is_none(), "{:?}", s.stdout);
    assert_socket_0600(&path);
    let secret = s.secret().to_owned();

    // A foreign-tenant token over the socket.
    let (status, body) = unix_get(&path, &v1_token(d::CONTOSO_TENANT_DOMAIN), Some(&secret)).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let claims = ficx::jwt::decode_unverified(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims.claims["tid"], d::CONTOSO_TENANT_ID);
    assert_eq!(claims.claims["appid"], d::APP_CLIENT_ID);
    // The App Service route too.
    let (status, _) = unix_get(&path, &app_service(d::CONTOSO_TENANT_DOMAIN), Some(&secret)).await;
    assert_eq!(status, 200);
    assert_eq!(s.emu.log().count(Endpoint::Token), 1);

    // The secret is still required.
    let (status, body) = unix_get(&path, &v1_token(d::CONTOSO_TENANT_DOMAIN), None).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("eyJ"), "{body}");
    let (status, _) = unix_get(
        &path,
        &v1_token(d::CONTOSO_TENANT_DOMAIN),
        Some("not-the-secret-at-all"),
    )
    .await;
    assert_eq!(status, 401);

    // A second server on the same path is refused and leaves the live socket alone.
    let (code, stdout, stderr) = run_to_end(
        &[
            "serve",
            "--unix-socket",
            path.to_str().unwrap(),
            "--allow-any-tenant",
        ],
        vars,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("another process"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_socket_0600(&path);
    let (status, _) = unix_get(&path, "/healthz", None).await;
    assert_eq!(status, 200, "the first server still answers");

    let (status, metrics) = unix_get(&path, "/metrics", None).await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("ficx_serve_requests_total{route=\"v1_token\",status=\"401\"} 2"),
        "{metrics}"
    );

    s.stop_clean(&secret).await;
    assert!(!path.exists(), "the socket is removed on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_in_addition_to_loopback_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.sock");
    // `launch` adds --listen 127.0.0.1:0: both listeners.
    let s = Served::launch(
        emulator().await,
        &[
            "--unix-socket",
            path.to_str().unwrap(),
            "--allow-tenant",
            d::CONTOSO_TENANT_DOMAIN,
        ],
        Vec::new(),
        true,
    )
    .await;
    assert!(s.url.starts_with("http://127.0.0.1:"), "{}", s.url);
    assert_socket_0600(&path);
    let secret = s.secret().to_owned();
    let (status, _) = unix_get(&path, &v1_token(d::CONTOSO_TENANT_DOMAIN), Some(&secret)).await;
    assert_eq!(status, 200);
    let r = s
        .get(&v1_token(d::CONTOSO_TENANT_DOMAIN), Some(&secret))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.emu.log().count(Endpoint::Token),
        1,
        "one cache behind both listeners"
    );
    s.stop_clean(&secret).await;
    assert!(!path.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_is_not_a_socket_is_refused_and_kept() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.sock");
    std::fs::write(&path, "someone's file").unwrap();
    let (code, stdout, stderr) = run_to_end(
        &[
            "serve",
            "--unix-socket",
            path.to_str().unwrap(),
            "--allow-any-tenant",
        ],
        env(&emu),
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is not a socket"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "someone's file");
    assert_eq!(emu.log().len(), 0, "no request was sent");
}
