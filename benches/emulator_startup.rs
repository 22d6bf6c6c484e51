//! Start-up cost of the emulator: `Emulator::start` + `shutdown` with the default config
//! (which generates an RSA-2048 key, racing two generator threads) and with a fixed key.
//!
//! Run with `cargo bench --bench emulator_startup`. Measured, never asserted.

use criterion::{Criterion, criterion_group, criterion_main};
use ficx::emulator::{Emulator, EmulatorConfig};

fn startup(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("emulator_startup");
    g.sample_size(20);
    g.bench_function("default_config_with_key_generation", |b| {
        b.to_async(&rt).iter(|| async {
            let emu = Emulator::start(EmulatorConfig::default_config())
                .await
                .expect("starts");
            emu.shutdown().await;
        })
    });
    let mut fixed = EmulatorConfig::default_config();
    fixed.signing_key_pem = Some(include_str!("../tests/emulator/test_key.pem").to_owned());
    g.bench_function("default_config_fixed_key", |b| {
        b.to_async(&rt).iter(|| async {
            let emu = Emulator::start(fixed.clone()).await.expect("starts");
            emu.shutdown().await;
        })
    });
    g.finish();
}

criterion_group!(benches, startup);
criterion_main!(benches);
