//! The cached-hit path under a profiler: fetch one token from the in-process emulator, then make
//! `N` hits through `Exchanger::token` and `TenantCredential::get_token` on `THREADS` OS threads
//! (one current-thread runtime each, so no scheduler sits between the threads), and print the
//! wall time per hit and the aggregate hit rate.
//!
//! The numbers are the profile behind `docs/performance.md`: run it under callgrind to count
//! instructions per hit (repeatable on a shared machine), or plainly to see thread scaling.
//!
//! ```sh
//! cargo build --release --example hit_profile
//! target/release/examples/hit_profile 1000000 1   # hits per thread, threads
//! target/release/examples/hit_profile 1000000 2
//! valgrind --tool=callgrind --toggle-collect='*hit_loop*' \
//!     target/release/examples/hit_profile 100000 1 && callgrind_annotate --inclusive=yes callgrind.out.*
//! ```

use std::hint::black_box;
use std::time::Instant;

use ficx::Exchanger;
use ficx::emulator::{Emulator, EmulatorConfig, defaults};

const SCOPE: &str = "https://graph.microsoft.com/.default";
const TENANT: &str = defaults::CONTOSO_TENANT_DOMAIN;

/// Which entry point a loop measures.
#[derive(Clone, Copy)]
enum Api {
    Exchanger,
    TenantCredential,
}

#[inline(never)]
fn hit_loop(x: &Exchanger, api: Api, n: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let cred = x.tenant(TENANT).expect("tenant");
    rt.block_on(async {
        for _ in 0..n {
            let t = match api {
                Api::Exchanger => x.token(black_box(TENANT), black_box(SCOPE)).await,
                Api::TenantCredential => cred.get_token(black_box(SCOPE)).await,
            };
            black_box(t.expect("hit"));
        }
    });
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let threads: usize = args.next().map_or(Ok(1), |a| a.parse())?;

    let rt = tokio::runtime::Runtime::new()?;
    let emu = rt.block_on(Emulator::start(EmulatorConfig::default_config()))?;
    let x = emu.exchanger_builder().build()?;
    rt.block_on(x.token(TENANT, SCOPE))?;

    for (name, api) in [
        ("Exchanger::token", Api::Exchanger),
        ("TenantCredential::get_token", Api::TenantCredential),
    ] {
        #[allow(clippy::disallowed_methods)] // a profile measures real time
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| hit_loop(&x, api, n));
            }
        });
        let wall = start.elapsed();
        let per_hit_ns = wall.as_nanos() as f64 / n as f64;
        let rate = (n as f64 * threads as f64) / wall.as_secs_f64();
        println!(
            "{name}: {threads} thread(s) × {n} hits: {per_hit_ns:.0} ns wall per hit per thread, {:.2} M hits/s in all",
            rate / 1e6
        );
    }
    assert_eq!(
        x.exchange_count(),
        1,
        "every call after the first was a hit"
    );
    rt.block_on(emu.shutdown());
    Ok(())
}
