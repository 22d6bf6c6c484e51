//! Run the real binary with an environment pointing at an in-process emulator.
#![allow(dead_code, unreachable_pub)]

use std::process::{Command, Stdio};
use std::sync::Mutex;

use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Endpoint, defaults};

/// Every stderr the suite saw, and every token it saw, for the final leak scan.
pub static STDERRS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Cli {
    pub emu: EmulatorHandle,
    pub source: Endpoint,
}

impl Cli {
    pub async fn start() -> Self {
        Self::with_config(EmulatorConfig::default_config()).await
    }

    pub async fn with_config(config: EmulatorConfig) -> Self {
        Self::with_clock(config, std::sync::Arc::new(ficx::SystemClock)).await
    }

    pub async fn with_clock(
        mut config: EmulatorConfig,
        clock: std::sync::Arc<dyn ficx::Clock>,
    ) -> Self {
        config.signing_key_pem = Some(include_str!("../emulator/test_key.pem").to_owned());
        let emu = Emulator::builder(config)
            .clock(clock)
            .start()
            .await
            .expect("emulator");
        Self {
            emu,
            source: Endpoint::Imds,
        }
    }

    /// The environment a user gets from `ficx emulate`, plus the default app and identity.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut v = self.emu.env(self.source);
        v.push((
            "FICX_CA_FILE".into(),
            self.emu.ca_file().display().to_string(),
        ));
        v.push(("FICX_CLIENT_ID".into(), defaults::APP_CLIENT_ID.into()));
        v.push((
            "FICX_MI_CLIENT_ID".into(),
            defaults::UAMI_TRUSTED_CLIENT_ID.into(),
        ));
        if self.source == Endpoint::AzureArc {
            v.push((
                "FICX_ARC_KEY_DIR".into(),
                self.emu.arc_key_dir().display().to_string(),
            ));
        }
        v
    }

    pub async fn run(&self, args: &[&str]) -> Out {
        self.run_env(args, self.env(), None).await
    }

    pub async fn run_env(
        &self,
        args: &[&str],
        env: Vec<(String, String)>,
        stdin: Option<String>,
    ) -> Out {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || run_bin(&args, env, stdin))
            .await
            .unwrap()
    }

    /// Requests of any kind the emulator has seen (control calls excluded).
    pub fn requests(&self) -> usize {
        self.emu.log().len() - self.emu.log().count(Endpoint::Control)
    }
}

pub fn run_bin(args: &[String], env: Vec<(String, String)>, stdin: Option<String>) -> Out {
    use std::io::Write;
    let env_secrets: Vec<String> = env
        .iter()
        .filter(|(k, _)| k == "IDENTITY_HEADER" || k == "MSI_SECRET")
        .map(|(_, v)| v.clone())
        .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ficx"));
    cmd.args(args)
        .env_clear()
        .envs(env)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("ficx runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_clean(&o.stderr, &env_secrets);
    STDERRS.lock().unwrap().push(o.stderr.clone());
    o
}

/// No token (every JWT here starts `eyJ`) and no platform secret on stderr, ever.
pub fn assert_clean(stderr: &str, secrets: &[String]) {
    assert!(!stderr.contains("eyJ"), "token text on stderr:\n{stderr}");
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        assert!(
            !stderr.contains(s.as_str()),
            "a platform secret on stderr:\n{stderr}"
        );
    }
}

/// Decode a printed token's claims.
pub fn claims(token: &str) -> ficx::jwt::JwtView {
    ficx::jwt::decode_unverified(token.trim()).expect("a JWT on stdout")
}
