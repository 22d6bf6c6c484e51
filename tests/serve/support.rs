//! Run `ficx serve` as a child process against an in-process emulator and talk to it with a
//! plain reqwest client.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Endpoint, defaults};

/// The resource the tests ask for.
pub const GRAPH: &str = "https://graph.microsoft.com";

/// The App Service route for `tenant` and [`GRAPH`].
pub fn app_service(tenant: &str) -> String {
    format!("/tenants/{tenant}/msi/token?api-version=2019-08-01&resource={GRAPH}")
}

/// The `/v1/token` route for `tenant` and [`GRAPH`].
pub fn v1_token(tenant: &str) -> String {
    format!("/v1/token?tenant={tenant}&scope={GRAPH}/.default")
}

pub struct Served {
    pub emu: EmulatorHandle,
    pub child: Child,
    /// `FICX_SERVE_URL` as printed (empty when serving only on a Unix socket).
    pub url: String,
    /// `FICX_SERVE_SOCKET` as printed.
    pub socket: Option<PathBuf>,
    /// `IDENTITY_ENDPOINT` as printed (first allowed tenant).
    pub identity_endpoint: Option<String>,
    /// The generated secret as printed (`IDENTITY_HEADER`).
    pub secret: Option<String>,
    pub stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
    pub http: reqwest::Client,
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

pub async fn emulator() -> EmulatorHandle {
    emulator_with(|_| {}).await
}

/// The default directory, changed by `f` before the emulator starts.
pub async fn emulator_with(f: impl FnOnce(&mut EmulatorConfig)) -> EmulatorHandle {
    let mut config = EmulatorConfig::default_config();
    config.signing_key_pem = Some(include_str!("../emulator/test_key.pem").to_owned());
    f(&mut config);
    Emulator::builder(config).start().await.expect("emulator")
}

/// The environment `ficx emulate` prints, plus the default app and identity.
pub fn env(emu: &EmulatorHandle) -> Vec<(String, String)> {
    let mut v = emu.env(Endpoint::Imds);
    v.push(("FICX_CA_FILE".into(), emu.ca_file().display().to_string()));
    v.push(("FICX_CLIENT_ID".into(), defaults::APP_CLIENT_ID.into()));
    v.push((
        "FICX_MI_CLIENT_ID".into(),
        defaults::UAMI_TRUSTED_CLIENT_ID.into(),
    ));
    v
}

fn unquote(v: &str) -> String {
    v.trim_matches('\'').to_owned()
}

/// Run `ficx` to completion (for start-up failures).
pub fn run_to_end(args: &[&str], env: Vec<(String, String)>) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ficx"))
        .args(args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl Served {
    /// Start `ficx serve --listen 127.0.0.1:0 <args>` and wait for `/readyz`.
    pub async fn start(args: &[&str]) -> Self {
        Self::start_env(args, Vec::new()).await
    }

    pub async fn start_env(args: &[&str], extra_env: Vec<(String, String)>) -> Self {
        Self::launch(emulator().await, args, extra_env, true).await
    }

    /// Start `ficx serve --listen 127.0.0.1:0 <args>` against `emu` (faults may already be
    /// armed), waiting for `/readyz` only when `wait_ready`.
    pub async fn launch(
        emu: EmulatorHandle,
        args: &[&str],
        extra_env: Vec<(String, String)>,
        wait_ready: bool,
    ) -> Self {
        let mut env = env(&emu);
        env.extend(extra_env);
        let mut all = vec!["--listen", "127.0.0.1:0"];
        all.extend(args);
        Self::spawn(emu, &all, env, wait_ready).await
    }

    /// Start `ficx serve <args>` with exactly `env` (nothing added).
    pub async fn spawn(
        emu: EmulatorHandle,
        args: &[&str],
        env: Vec<(String, String)>,
        wait_ready: bool,
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ficx"))
            .arg("serve")
            .args(args)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ficx serve runs");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let out_pipe = child.stdout.take().unwrap();
        // The printed block ends with the IDENTITY_HEADER line (or its comment).
        let lines = tokio::task::spawn_blocking(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(out_pipe).lines() {
                let Ok(line) = line else { break };
                let last = line.contains("IDENTITY_HEADER");
                lines.push(line);
                if last {
                    break;
                }
            }
            lines
        })
        .await
        .unwrap();
        let get = |name: &str| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .map(unquote)
        };
        let url = get("FICX_SERVE_URL");
        let socket = get("FICX_SERVE_SOCKET").map(PathBuf::from);
        if url.is_none() && socket.is_none() {
            let _ = child.kill();
            panic!(
                "ficx serve printed no URL and no socket: {lines:?}\nstderr: {}",
                stderr.lock().unwrap()
            );
        }
        let s = Self {
            url: url.unwrap_or_default(),
            socket,
            identity_endpoint: get("IDENTITY_ENDPOINT"),
            secret: get("IDENTITY_HEADER"),
            stdout: lines,
            emu,
            child,
            stderr,
            http: http(),
        };
        if wait_ready {
            s.wait_ready().await;
        }
        s
    }

    async fn wait_ready(&self) {
        for _ in 0..600 {
            let ready = match (&self.socket, self.url.is_empty()) {
                (Some(socket), true) => unix_get(socket, "/readyz", None).await.0 == 200,
                _ => self
                    .http
                    .get(format!("{}/readyz", self.url))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200),
            };
            if ready {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("ficx serve never became ready; stderr:\n{}", self.stderr());
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// GET `path` with the secret header (`secret` = None sends none).
    pub async fn get(&self, path: &str, secret: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.url));
        if let Some(s) = secret {
            req = req.header("X-IDENTITY-HEADER", s);
        }
        req.send().await.expect("request reaches ficx serve")
    }

    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("a generated secret")
    }

    pub async fn metrics(&self) -> String {
        self.get("/metrics", None).await.text().await.unwrap()
    }

    /// SIGTERM; asserts a clean stop (exit 0) whose stderr holds no token text and not `secret`,
    /// and returns that stderr.
    pub async fn stop_clean(self, secret: &str) -> String {
        let (code, stderr) = self.terminate().await;
        assert_eq!(code, 0, "SIGTERM is a clean stop; stderr:\n{stderr}");
        assert_clean(&stderr, secret);
        stderr
    }

    /// SIGTERM, then the exit code (within 20 s).
    pub async fn terminate(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let code = tokio::task::spawn_blocking(move || {
            for _ in 0..400 {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return (status.code().unwrap_or(-1), self);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            panic!("ficx serve did not stop within 20 s of SIGTERM");
        })
        .await
        .unwrap();
        // Let the stderr reader catch the last lines.
        std::thread::sleep(Duration::from_millis(100));
        let (code, this) = code;
        let stderr = this.stderr();
        (code, stderr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A metric's value in Prometheus text (`name{labels} value`), 0 when absent.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// No token (JWTs start `eyJ`) and no secret on stderr.
pub fn assert_clean(stderr: &str, secret: &str) {
    assert!(!stderr.contains("eyJ"), "token text on stderr:\n{stderr}");
    assert!(!stderr.contains(secret), "the secret on stderr:\n{stderr}");
}

/// A response body as JSON.
pub async fn json(r: reqwest::Response) -> serde_json::Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// GET `path` over the Unix socket as a raw HTTP/1.1 request (`secret` = None sends no header):
/// the status and the body.
pub async fn unix_get(socket: &Path, path: &str, secret: Option<&str>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::UnixStream::connect(socket)
        .await
        .expect("the Unix socket accepts");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(s) = secret {
        request.push_str(&format!("X-IDENTITY-HEADER: {s}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head}"));
    assert!(
        head.to_ascii_lowercase().contains("content-length:"),
        "a complete body, not chunks: {head}"
    );
    (status, body.to_owned())
}
