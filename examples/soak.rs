//! Soak: many tasks over many tenants call `token()` for a bounded time while the in-process
//! emulator injects rolling faults and short token lifetimes force refreshes. Reports calls,
//! errors returned while a still-valid token existed (must be 0), requests per refresh, and RSS at
//! start and end. Loopback only. `scripts/soak.sh` runs it (default 60 s).
//!
//! ```sh
//! cargo run --release --example soak -- --seconds 60 --tasks 64 --tenants 50
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ficx::RetryPolicy;
use ficx::emulator::{Emulator, EmulatorConfig, Endpoint, Fault, RetryAfter, Times, defaults};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The global allocator, counting live heap bytes, so the report can tell memory the program
/// still holds (a leak would grow it) from memory the allocator keeps after freeing (RSS).
struct Counting;

static LIVE_HEAP: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_HEAP.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_HEAP.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_HEAP.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Live heap bytes in KiB.
fn heap_kib() -> i64 {
    LIVE_HEAP.load(Ordering::Relaxed) / 1024
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[allow(clippy::disallowed_methods)] // a soak runs on the real clock
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds = arg("--seconds", 60);
    let tasks = arg("--tasks", 64) as usize;
    let tenants = arg("--tenants", 50) as usize;

    let mut config = EmulatorConfig::with_customer_tenants(tenants);
    config.lifetimes.app_secs = 40;
    config.lifetimes.mi_secs = 60;
    config.lifetimes.mi_reissue_below_secs = 15;
    // A short request log (counts stay exact): the emulator shares this process, so its log
    // would otherwise grow with every request and hide what the library's memory does.
    let emu = Emulator::builder(config).log_capacity(256).start().await?;
    let exchanger = emu
        .exchanger_builder()
        .http(emu.http_options().timeout(Duration::from_secs(2)))
        .min_assertion_lifetime(Duration::from_secs(10))
        .retry(
            RetryPolicy::default()
                .max_retries(2)
                .initial_delay(Duration::from_millis(200))
                .budget(Duration::from_secs(5)),
        )
        .mi_retry(
            RetryPolicy::default()
                .max_retries(2)
                .initial_delay(Duration::from_millis(200))
                .budget(Duration::from_secs(5)),
        )
        .build()?;

    // Tenants come online one by one across the first token lifetime, so their refreshes are
    // spread out and keep running into the rolling faults (a synchronized fleet would refresh in
    // bursts that could all miss them).
    exchanger
        .token(&defaults::customer_domain(0), defaults::GRAPH_RESOURCE)
        .await?;
    let rss_start = rss_kib();
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let stagger = Duration::from_millis(40_000 / tenants.max(1) as u64);

    // Rolling faults: a random fault on the token endpoint or IMDS for a random 0.3–2 s, then
    // 0.2–1 s of calm.
    let faulty = emu.clone();
    let roller = tokio::spawn(async move {
        let faults = faulty.faults();
        let menu: Vec<(Endpoint, Fault, Times)> = vec![
            (
                Endpoint::Token,
                Fault::Status {
                    status: 503,
                    retry_after: None,
                    body: None,
                },
                Times::Always,
            ),
            (
                Endpoint::Token,
                Fault::Status {
                    status: 429,
                    retry_after: Some(RetryAfter::Seconds(1)),
                    body: None,
                },
                Times::Always,
            ),
            (
                Endpoint::Imds,
                Fault::Status {
                    status: 410,
                    retry_after: None,
                    body: None,
                },
                Times::Always,
            ),
            (Endpoint::Token, Fault::DropConnection, Times::Always),
            (Endpoint::Token, Fault::ResetMidBody, Times::Always),
            (
                Endpoint::Imds,
                Fault::Status {
                    status: 500,
                    retry_after: None,
                    body: None,
                },
                Times::Always,
            ),
            (Endpoint::Token, Fault::Hang, Times::Always),
            (Endpoint::Token, Fault::Html { status: 502 }, Times::Always),
        ];
        let mut rounds = 0;
        while Instant::now() < until {
            let (e, f, t) = menu[fastrand::usize(..menu.len())].clone();
            faults.inject(e, f, t);
            tokio::time::sleep(Duration::from_millis(fastrand::u64(300..2000))).await;
            faults.clear();
            tokio::time::sleep(Duration::from_millis(fastrand::u64(200..1000))).await;
            rounds += 1;
        }
        rounds
    });

    // RSS once every tenant is online (the steady phase starts), to compare with the end, and
    // every tenth of the run after that, to see whether it levels off.
    let sampler = tokio::spawn(async move {
        let online = stagger * tenants as u32 + Duration::from_secs(2);
        tokio::time::sleep(online).await;
        let steady = (rss_kib(), heap_kib());
        let every = Duration::from_secs((seconds / 10).max(5));
        let mut samples = Vec::new();
        while Instant::now() + every < until {
            tokio::time::sleep(every).await;
            samples.push((start.elapsed().as_secs(), rss_kib(), heap_kib()));
        }
        (steady, samples)
    });

    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let violations = Arc::new(AtomicU64::new(0));
    let last_valid: Arc<Mutex<HashMap<usize, SystemTime>>> = Arc::new(Mutex::new(HashMap::new()));
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (x, calls, errors, violations, last_valid) = (
            exchanger.clone(),
            calls.clone(),
            errors.clone(),
            violations.clone(),
            last_valid.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut n = t;
            while Instant::now() < until {
                let online = ((start.elapsed().as_millis() / stagger.as_millis().max(1)) as usize
                    + 1)
                .min(tenants);
                let tenant = n % online;
                n += tasks;
                match x
                    .token(&defaults::customer_domain(tenant), defaults::GRAPH_RESOURCE)
                    .await
                {
                    Ok(tok) => {
                        last_valid.lock().unwrap().insert(tenant, tok.expires_on());
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        // A token handed out earlier that is still valid now: an error here is a bug.
                        if let Some(exp) = last_valid.lock().unwrap().get(&tenant)
                            && SystemTime::now() + Duration::from_secs(1) < *exp
                        {
                            violations.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                calls.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    for h in handles {
        h.await?;
    }
    let rounds = roller.await?;
    let ((rss_steady, heap_steady), rss_samples) = sampler.await?;
    let rss_end = rss_kib();
    let stats = exchanger.stats();
    let token_requests = emu.log().count(Endpoint::Token);
    println!("soak: {seconds} s, {tasks} tasks over {tenants} tenants, {rounds} fault rounds");
    println!(
        "calls                                   {}",
        calls.load(Ordering::Relaxed)
    );
    println!(
        "errors returned                         {}",
        errors.load(Ordering::Relaxed)
    );
    println!(
        "errors while a valid token existed      {} (must be 0)",
        violations.load(Ordering::Relaxed)
    );
    println!(
        "refreshes (exchanges started)           {}",
        stats.exchanges
    );
    println!("token-endpoint requests                 {token_requests}");
    println!(
        "  of which answered with a fault          {}",
        emu.log()
            .count_where(|e| e.fault.is_some() && e.endpoint == Some(Endpoint::Token))
    );
    println!(
        "MI requests answered with a fault         {}",
        emu.log()
            .count_where(|e| e.fault.is_some() && e.endpoint == Some(Endpoint::Imds))
    );
    println!(
        "failed refreshes (after retries)        {}",
        stats.failed_exchanges
    );
    println!(
        "requests per refresh                    {:.2}",
        token_requests as f64 / stats.exchanges.max(1) as f64
    );
    println!(
        "stale tokens served during failures     {}",
        stats.stale_served
    );
    println!(
        "MI requests                             {}",
        emu.log().count(Endpoint::Imds)
    );
    println!(
        "RSS start / all tenants online / end    {rss_start} / {rss_steady} / {rss_end} KiB (steady phase {:+} KiB)",
        rss_end as i64 - rss_steady as i64
    );
    let samples: Vec<String> = rss_samples
        .iter()
        .map(|(t, rss, heap)| format!("{t}s:{rss}/{heap}"))
        .collect();
    println!(
        "live heap all online / end              {heap_steady} / {} KiB",
        heap_kib()
    );
    println!(
        "samples (s:RSS/live heap KiB)           {}",
        samples.join(" ")
    );
    emu.shutdown().await;
    if violations.load(Ordering::Relaxed) > 0 {
        std::process::exit(1);
    }
    Ok(())
}
