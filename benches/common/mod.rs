//! Shared set-up for the client-side benchmarks: an emulator on its own 2-worker runtime (so it
//! behaves like a separate server process sharing the machine), and exchangers pointed at it with
//! the real system clock (a hit reads the clock, so a fake one would flatter it).
#![allow(dead_code, unreachable_pub)]

use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use ficx::{Exchanger, TrustRoots};

/// The scope every benchmark asks for.
pub const SCOPE: &str = "https://graph.microsoft.com/.default";

/// A running emulator and the runtime that serves it.
pub struct Lab {
    pub emu: EmulatorHandle,
    pub rt: tokio::runtime::Runtime,
}

impl Lab {
    /// Start the default directory plus `extra_tenants` provisioned customer tenants.
    pub fn start(extra_tenants: usize) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("emulator")
            .enable_all()
            .build()
            .expect("emulator runtime");
        let mut config = EmulatorConfig::with_customer_tenants(extra_tenants);
        // A fixed key skips RSA key generation (start-up is benchmarked in emulator_startup).
        config.signing_key_pem = Some(include_str!("../../tests/emulator/test_key.pem").to_owned());
        let emu = rt
            .block_on(Emulator::start(config))
            .expect("emulator starts");
        Self { emu, rt }
    }

    /// A fresh exchanger (its own caches and connection pools) for the default app and the
    /// trusted identity over IMDS, trusting only the emulator CA.
    pub fn exchanger(&self) -> Exchanger {
        self.exchanger_with(TrustRoots::ExtraOnly)
    }

    /// As [`Lab::exchanger`], with a choice of root store (what `ficx token` uses is `System`).
    pub fn exchanger_with(&self, trust: TrustRoots) -> Exchanger {
        self.emu
            .exchanger_builder()
            .http(self.emu.http_options().trust_roots(trust))
            .build()
            .expect("exchanger builds")
    }

    /// Stop the emulator.
    pub fn shutdown(self) {
        let Lab { emu, rt } = self;
        rt.block_on(emu.shutdown());
    }
}

/// A runtime like the CLI's (one thread).
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A runtime with `n` workers.
pub fn multi_thread(n: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .enable_all()
        .build()
        .expect("runtime")
}
