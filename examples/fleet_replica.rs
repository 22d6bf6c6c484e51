//! One replica of a multi-tenant service, for `scripts/fleet-sim.sh`: K tasks ask one
//! `Exchanger` for tokens over T tenants for D seconds, as request handlers would, optionally
//! sharing tokens with the other replicas through Redis. Prints one `RESULT` line.
//!
//! ```sh
//! # endpoints from the environment, as for `ficx token` (see scripts/fleet-sim.sh):
//! FICX_CLIENT_ID=... FICX_MI_CLIENT_ID=... FICX_CA_FILE=... \
//!   FICX_REDIS_URL=redis://127.0.0.1:6379 FICX_REDIS_KEY=k1=<base64 of 32 bytes> \
//!   cargo run --release --example fleet_replica -- --tenants 200 --tasks 16 --seconds 40
//! ```
//!
//! Tenants are `customer{i}.onmicrosoft.com` for i < T (what `stampede --print-config T`
//! provisions). Without `FICX_REDIS_URL` the replica has only its in-process cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ficx::Env;
use ficx::store::redis::RedisStore;
use ficx::store::seal::Keyring;

#[path = "support/from_env.rs"]
mod from_env;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
const SCOPE: &str = "https://graph.microsoft.com/.default";

#[allow(clippy::disallowed_methods)] // an example that measures real time
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

fn arg(name: &str, default: u64) -> Result<u64, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{name} takes a positive number")),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    let tenants = arg("--tenants", 200)? as usize;
    let tasks = arg("--tasks", 16)? as usize;
    let seconds = arg("--seconds", 40)?;
    let pause = Duration::from_millis(arg("--pause-ms", 10)?);
    let env = Env::process();
    let mut b = from_env::builder_from_env(&env)?;
    let redis = env.var("FICX_REDIS_URL");
    if let Some(url) = &redis {
        let key = env
            .var("FICX_REDIS_KEY")
            .ok_or("FICX_REDIS_KEY is not set")?;
        let mut s = RedisStore::builder()
            .url(url)
            .keyring(Keyring::parse(&key)?);
        if let Some(p) = env.var("FICX_REDIS_PREFIX") {
            s = s.prefix(&p);
        }
        b = b.token_store(s.build()?);
    }
    let x = b.build()?;
    let names: Arc<Vec<String>> = Arc::new(
        (0..tenants)
            .map(ficx::emulator::defaults::customer_domain)
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..tasks)
        .map(|k| {
            let (x, names, stop) = (x.clone(), names.clone(), stop.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut i = k;
                while !stop.load(Ordering::Relaxed) {
                    let t0 = now();
                    if let Err(e) = x.token(&names[i % names.len()], SCOPE).await {
                        errors += 1;
                        if errors == 1 {
                            eprintln!("replica {}: {e}", std::process::id());
                        }
                    }
                    lat.push(t0.elapsed());
                    i += tasks;
                    tokio::time::sleep(pause).await;
                }
                (lat, errors)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.await?;
        lat.extend(l);
        errors += e;
    }
    lat.sort();
    let s = x.stats();
    println!(
        "RESULT calls={} errors={errors} p50_us={:.0} p99_us={:.0} max_us={:.0} exchanges={} mi={} store_hits={} store_leases={} store_waits={} store_errors={} store_bypassed={} redis={}",
        lat.len(),
        percentile(&lat, 0.50).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
        s.exchanges,
        s.assertion_fetches,
        s.store.hits,
        s.store.leases,
        s.store.waits,
        s.store.errors,
        s.store.bypassed,
        redis.is_some()
    );
    Ok(())
}
