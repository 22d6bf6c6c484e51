//! The cached hit path: `Exchanger::token` (tenant lookup + scope lookup) and
//! `TenantCredential::get_token` (scope lookup only), one thread; then the same hit from 1, 2, 8
//! and 64 concurrent tasks on a 2-worker runtime, reported as aggregate throughput (hits/s over
//! all tasks). Target (issue): single-thread median ≤ 250 ns; 2 tasks ≥ 1.8× the 1-task
//! throughput; no collapse at 64.
//!
//! The token is fetched once from the emulator; the clock is the real system clock. Run with
//! `cargo bench --bench cache_hit`. Measured, never asserted.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{Lab, SCOPE};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ficx::emulator::defaults;

const TENANT: &str = defaults::CONTOSO_TENANT_DOMAIN;

fn single_thread(c: &mut Criterion) {
    let lab = Lab::start(0);
    let rt = common::current_thread();
    let x = lab.exchanger();
    let cred = x.tenant(TENANT).expect("tenant");
    let first = rt.block_on(x.token(TENANT, SCOPE)).expect("first token");
    eprintln!("cache_hit: the cached token is {} bytes", first.len());

    let mut g = c.benchmark_group("cache_hit");
    g.bench_function("exchanger_token", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(x.token(black_box(TENANT), black_box(SCOPE)).await) })
    });
    g.bench_function("tenant_credential_get_token", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(cred.get_token(black_box(SCOPE)).await) })
    });
    g.finish();
    assert_eq!(x.exchange_count(), 1, "every iteration was a hit");
    lab.shutdown();
}

/// `tasks` tasks each make `iters` hits; the time is the wall time until the last one is done,
/// so criterion's throughput (`tasks` elements per iteration) is the aggregate hit rate.
fn concurrent(c: &mut Criterion) {
    let lab = Lab::start(0);
    let rt = common::multi_thread(2);
    let x = lab.exchanger();
    rt.block_on(x.token(TENANT, SCOPE)).expect("first token");

    let mut g = c.benchmark_group("cache_hit_concurrent");
    for tasks in [1usize, 2, 8, 64] {
        g.throughput(Throughput::Elements(tasks as u64));
        g.bench_with_input(
            BenchmarkId::new("exchanger_token", tasks),
            &tasks,
            |b, &tasks| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        #[allow(clippy::disallowed_methods)] // a benchmark measures real time
                        let start = std::time::Instant::now();
                        let handles: Vec<_> = (0..tasks)
                            .map(|_| {
                                let x = x.clone();
                                tokio::spawn(async move {
                                    for _ in 0..iters {
                                        black_box(
                                            x.token(black_box(TENANT), black_box(SCOPE)).await,
                                        )
                                        .expect("hit");
                                    }
                                })
                            })
                            .collect();
                        for h in handles {
                            h.await.expect("task");
                        }
                        start.elapsed()
                    })
                })
            },
        );
    }
    g.finish();
    assert_eq!(x.exchange_count(), 1, "every iteration was a hit");
    lab.shutdown();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = single_thread, concurrent
}
criterion_main!(benches);
