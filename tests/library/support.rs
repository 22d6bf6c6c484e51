//! Shared set-up: an emulator with a shared manual clock, and exchangers pointed at it.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Endpoint, defaults};
use ficx::{
    Env, Exchanger, ExchangerBuilder, HttpOptions, ManagedIdentity, ManagedIdentitySource,
    ManualClock,
};

pub struct Lab {
    pub emu: EmulatorHandle,
    pub clock: Arc<ManualClock>,
}

impl Lab {
    pub async fn start() -> Self {
        Self::with_config(EmulatorConfig::default_config()).await
    }

    pub async fn with_config(mut config: EmulatorConfig) -> Self {
        // A fixed signing key skips RSA key generation (start-up is benchmarked separately).
        config.signing_key_pem = Some(include_str!("../emulator/test_key.pem").to_owned());
        let clock = Arc::new(ManualClock::starting_now());
        let emu = Emulator::builder(config)
            .clock(clock.clone())
            .start()
            .await
            .expect("emulator starts");
        Self { emu, clock }
    }

    /// The environment a client on `source` sees (nothing from the real process environment).
    pub fn env(&self, source: Endpoint) -> Env {
        let mut env = Env::from_vars(self.emu.env(source));
        if source == Endpoint::AzureArc {
            env = env.with_var(
                "FICX_ARC_KEY_DIR",
                self.emu.arc_key_dir().display().to_string(),
            );
        }
        env
    }

    pub fn http(&self) -> HttpOptions {
        self.emu.http_options()
    }

    /// An exchanger for the default app, `identity` on `source`.
    pub fn builder(&self, source: Endpoint, identity: ManagedIdentity) -> ExchangerBuilder {
        self.emu
            .exchanger_builder()
            .managed_identity(identity)
            .env(self.env(source))
            .clock(self.clock.clone())
    }

    /// The usual exchanger: IMDS, the trusted UAMI by client id.
    pub fn exchanger(&self) -> Exchanger {
        self.builder(Endpoint::Imds, trusted())
            .build()
            .expect("exchanger builds")
    }

    pub fn mi_source(
        &self,
        source: Endpoint,
        identity: ManagedIdentity,
    ) -> Result<ManagedIdentitySource, ficx::Error> {
        ManagedIdentitySource::builder()
            .identity(identity)
            .env(self.env(source))
            .http(self.http())
            .clock(self.clock.clone())
            .build()
    }

    pub fn count(&self, e: Endpoint) -> usize {
        self.emu.log().count(e)
    }
}

pub fn trusted() -> ManagedIdentity {
    ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID).unwrap()
}

pub fn claims(token: &ficx::AccessToken) -> ficx::jwt::JwtView {
    use secrecy::ExposeSecret;
    ficx::jwt::decode_unverified(token.secret().expose_secret()).expect("a JWT")
}

/// Wait (real time, bounded) until `f` holds; for background work such as refresh-ahead.
pub async fn eventually(what: &str, f: impl Fn() -> bool) {
    // Generous: under heavy machine load a background task can take seconds to be scheduled.
    for _ in 0..20_000 {
        if f() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Poll (real time, bounded) until the served token expires later than `than`. Background
/// refreshes are logged by the emulator a moment before the client stores their answer.
pub async fn served_newer(
    x: &ficx::Exchanger,
    tenant: &str,
    scope: &str,
    than: std::time::SystemTime,
) -> ficx::AccessToken {
    for _ in 0..20_000 {
        let t = x.token(tenant, scope).await.expect("token");
        if t.expires_on() > than {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("the refreshed token was never served");
}

/// An emulator on the real clock, for tests where several processes' worth of exchangers wait
/// on each other in real time (a shared token store's lease).
pub async fn system_emulator(mut config: EmulatorConfig) -> EmulatorHandle {
    config.signing_key_pem = Some(include_str!("../emulator/test_key.pem").to_owned());
    Emulator::builder(config)
        .start()
        .await
        .expect("emulator starts")
}
