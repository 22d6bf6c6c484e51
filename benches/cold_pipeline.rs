//! The cold pipeline in-process: a fresh `Exchanger` per iteration (new caches, new connection
//! pools) against a running emulator over https, so each iteration does the MI request (plain
//! http, IMDS), one TCP connect + TLS handshake to the authority, and one jwt-bearer exchange
//! (which costs the emulator one RSA-2048 verify and one RSA-2048 signature). The client runs on
//! a one-thread runtime like `ficx token`. Target (issue): median ≤ 2 ms.
//!
//! Also: building an exchanger alone with each root store (what `ficx token` pays before its
//! first request), and fan-out over 10 and 100 cold tenants (one MI request, one exchange per
//! tenant, concurrently).
//!
//! Run with `cargo bench --bench cold_pipeline`. Measured, never asserted.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{Lab, SCOPE};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ficx::TrustRoots;
use ficx::emulator::{Endpoint, defaults};

fn cold_pipeline(c: &mut Criterion) {
    let lab = Lab::start(0);
    let rt = common::current_thread();
    let mut g = c.benchmark_group("cold_pipeline");
    g.sample_size(50);
    g.bench_function("fresh_exchanger_mi_and_exchange_https", |b| {
        b.to_async(&rt).iter(|| async {
            let x = lab.exchanger();
            black_box(
                x.token(defaults::CONTOSO_TENANT_DOMAIN, SCOPE)
                    .await
                    .expect("token"),
            )
        })
    });
    g.finish();
    eprintln!(
        "cold_pipeline: emulator served {} IMDS and {} token requests",
        lab.emu.log().count(Endpoint::Imds),
        lab.emu.log().count(Endpoint::Token)
    );

    // What building costs before any request, by root store.
    let mut g = c.benchmark_group("exchanger_build");
    for (name, trust) in [
        ("extra_only", TrustRoots::ExtraOnly),
        ("mozilla", TrustRoots::Mozilla),
        ("system", TrustRoots::System),
    ] {
        g.bench_function(name, |b| b.iter(|| black_box(lab.exchanger_with(trust))));
    }
    g.finish();
    lab.shutdown();
}

fn fanout(c: &mut Criterion) {
    const MAX: usize = 100;
    let lab = Lab::start(MAX);
    let rt = common::multi_thread(2);
    let mut g = c.benchmark_group("fanout_cold_tenants");
    g.sample_size(10);
    for tenants in [10usize, MAX] {
        g.throughput(Throughput::Elements(tenants as u64));
        g.bench_with_input(
            BenchmarkId::from_parameter(tenants),
            &tenants,
            |b, &tenants| {
                b.to_async(&rt).iter(|| async {
                    let x = lab.exchanger();
                    let calls = (0..tenants).map(|i| {
                        let x = x.clone();
                        async move {
                            x.token(&defaults::customer_domain(i), SCOPE)
                                .await
                                .expect("token")
                        }
                    });
                    let tokens = futures_util::future::join_all(calls).await;
                    assert_eq!(x.stats().exchanges, tenants as u64);
                    black_box(tokens)
                })
            },
        );
    }
    g.finish();
    lab.shutdown();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = cold_pipeline, fanout
}
criterion_main!(benches);
