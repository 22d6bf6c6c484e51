//! A cold stampede: N concurrent callers over T tenants ask one fresh `Exchanger` for a token at
//! the same moment. Single flight should turn that into exactly one MI request and one exchange
//! per tenant, and the callers' latency should stay close to one cold call's.
//!
//! ```sh
//! cargo run --release --example stampede                          # 1000 callers, 1 tenant, in-process emulator
//! cargo run --release --example stampede -- --tasks 1000 --tenants 100
//! # against a running emulator (or real endpoints) named by the environment, like `ficx token`:
//! cargo run --release --example stampede -- --print-config 100 > /tmp/cfg.toml
//! eval "$(ficx emulate --config /tmp/cfg.toml)" &   # see scripts/bench.sh for the full set-up
//! FICX_CLIENT_ID=... FICX_MI_CLIENT_ID=... cargo run --release --example stampede -- --tenants 100
//! ```
//!
//! With `FICX_CLIENT_ID` set, the endpoints come from the environment as for `ficx token`
//! (`FICX_MI_CLIENT_ID`, `FICX_CA_FILE`, `AZURE_AUTHORITY_HOST`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`
//! and the other platform MI variables); tenants are `FICX_TENANT` (comma-separated) if set, else
//! `customer{i}.onmicrosoft.com` for i < T (what `--print-config T` provisions). Request counts then
//! come from `ExchangerStats`, plus the emulator's `/_ficx/log/counts` when the MI endpoint is a
//! ficx emulator on loopback. Without `FICX_CLIENT_ID`, an in-process emulator with T provisioned
//! tenants is started and counts come from its request log.
//!
//! The last line is machine-readable (`RESULT key=value ...`) for `scripts/bench.sh`.

use std::sync::Arc;
use std::time::Duration;

#[path = "support/from_env.rs"]
mod from_env;

use ficx::emulator::defaults::customer_domain as customer;
use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Endpoint};
use ficx::{Env, Exchanger};

const SCOPE: &str = "https://graph.microsoft.com/.default";
/// Fresh-exchanger cold calls timed for the single-call reference (after one warm-up call).
const SINGLE_RUNS: usize = 7;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    tasks: usize,
    tenants: usize,
    print_config: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        tasks: 1000,
        tenants: 1,
        print_config: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{name} takes a positive number"))
        };
        match flag.as_str() {
            "--tasks" => a.tasks = num("--tasks")?,
            "--tenants" => a.tenants = num("--tenants")?,
            "--print-config" => a.print_config = Some(num("--print-config")?),
            "-h" | "--help" => {
                return Err(
                    "usage: stampede [--tasks N (1000)] [--tenants T (1)] | --print-config T"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(a)
}

/// Where the exchangers point.
enum Target {
    /// An emulator in this process (on its own runtime, like a separate server).
    InProcess {
        emu: EmulatorHandle,
        rt: tokio::runtime::Runtime,
    },
    /// Whatever the environment names.
    Environment { env: Env },
}

impl Target {
    fn exchanger(&self) -> Result<Exchanger, BoxError> {
        Ok(match self {
            Target::InProcess { emu, .. } => emu.exchanger_builder().build()?,
            Target::Environment { env } => from_env::builder_from_env(env)?.build()?,
        })
    }

    fn tenants(&self, n: usize) -> Vec<String> {
        if let Target::Environment { env } = self
            && let Some(list) = env.var("FICX_TENANT")
        {
            let list: Vec<String> = list
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            if !list.is_empty() {
                return list;
            }
        }
        (0..n).map(customer).collect()
    }
}

/// Server-side request counts (MI, token), when they can be read.
async fn server_counts(target: &Target) -> Option<(u64, u64)> {
    match target {
        Target::InProcess { emu, .. } => Some((
            emu.log().count(Endpoint::Imds) as u64,
            emu.log().count(Endpoint::Token) as u64,
        )),
        Target::Environment { env } => {
            // Only a ficx emulator on loopback has a control API worth asking.
            let base = env.var("AZURE_POD_IDENTITY_AUTHORITY_HOST")?;
            let url = url::Url::parse(&base).ok()?;
            let loopback = match url.host()? {
                url::Host::Ipv4(a) => a.is_loopback(),
                url::Host::Ipv6(a) => a.is_loopback(),
                url::Host::Domain(d) => d == "localhost",
            };
            if !loopback || url.scheme() != "http" {
                return None;
            }
            // A plain client for the control API: ficx's own clients pass ring explicitly, so
            // there may be no process-wide rustls provider yet.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(2))
                .build()
                .ok()?;
            let body = client
                .get(format!("{}/_ficx/log/counts", base.trim_end_matches('/')))
                .send()
                .await
                .ok()?
                .bytes()
                .await
                .ok()?;
            let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
            let mi: u64 = Endpoint::ALL
                .iter()
                .filter(|e| e.is_managed_identity())
                .filter_map(|e| v.get(e.name()).and_then(serde_json::Value::as_u64))
                .sum();
            Some((mi, v.get("token")?.as_u64()?))
        }
    }
}

#[allow(clippy::disallowed_methods)] // an example that measures real time
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn one_cold_call(target: &Target, tenant: &str) -> Result<Duration, BoxError> {
    let x = target.exchanger()?;
    let t0 = now();
    x.token(tenant, SCOPE).await?;
    Ok(t0.elapsed())
}

async fn run(args: Args, target: &Target) -> Result<(), BoxError> {
    let tenants = target.tenants(args.tenants);
    let where_ = match &target {
        Target::InProcess { .. } => "in-process emulator",
        Target::Environment { .. } => "endpoints from the environment",
    };
    println!(
        "stampede: {} concurrent callers over {} tenant(s), {where_}",
        args.tasks,
        tenants.len()
    );

    // The reference: one cold call by a fresh exchanger (median of several; one warm-up first).
    one_cold_call(target, &tenants[0]).await?;
    let mut single = Vec::new();
    for _ in 0..SINGLE_RUNS {
        single.push(one_cold_call(target, &tenants[0]).await?);
    }
    single.sort();
    let single_median = single[single.len() / 2];

    // The stampede: a fresh exchanger, every caller released at once by a barrier.
    let x = target.exchanger()?;
    let before = server_counts(target).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(args.tasks + 1));
    let tenants = Arc::new(tenants);
    let handles: Vec<_> = (0..args.tasks)
        .map(|i| {
            let (x, barrier, tenants) = (x.clone(), barrier.clone(), tenants.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let t0 = now();
                let r = x.token(&tenants[i % tenants.len()], SCOPE).await;
                (t0, t0.elapsed(), r.map(|t| t.len()))
            })
        })
        .collect();
    barrier.wait().await;
    let mut latencies = Vec::with_capacity(args.tasks);
    let (mut first_start, mut last_start, mut last_end) = (None, None, None);
    let mut failures = 0usize;
    let mut first_error = None;
    for h in handles {
        let (t0, d, r) = h.await?;
        latencies.push(d);
        first_start = Some(first_start.map_or(t0, |f: std::time::Instant| f.min(t0)));
        last_start = Some(last_start.map_or(t0, |l: std::time::Instant| l.max(t0)));
        let end = t0 + d;
        last_end = Some(last_end.map_or(end, |l: std::time::Instant| l.max(end)));
        if let Err(e) = r {
            failures += 1;
            first_error.get_or_insert(e);
        }
    }
    let first_start = first_start.expect("at least one task");
    // Callers are released together, but 1000 tasks on 2 workers take a while to all start.
    let start_spread = last_start.expect("one task") - first_start;
    let makespan = last_end.expect("one task") - first_start;
    let after = server_counts(target).await;
    latencies.sort();

    let stats = x.stats();
    let (p50, p90, p99, max) = (
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        *latencies.last().expect("at least one task"),
    );
    println!(
        "requests (ExchangerStats): {} MI, {} token",
        stats.assertion_fetches, stats.exchanges
    );
    let (srv_mi, srv_token) = match (before, after) {
        (Some(b), Some(a)) => {
            let (mi, tok) = (a.0 - b.0, a.1 - b.1);
            println!("requests (emulator log):  {mi} MI, {tok} token");
            (mi.to_string(), tok.to_string())
        }
        _ => ("na".to_owned(), "na".to_owned()),
    };
    println!(
        "caller latency: p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, max {:.0} µs; callers started within {:.0} µs, all done {:.0} µs after the first started",
        us(p50),
        us(p90),
        us(p99),
        us(max),
        us(start_spread),
        us(makespan)
    );
    println!(
        "single cold call (fresh exchanger, median of {SINGLE_RUNS}): {:.0} µs  ->  p99 / single = {:.2}",
        us(single_median),
        p99.as_secs_f64() / single_median.as_secs_f64()
    );
    if failures > 0 {
        println!(
            "FAILURES: {failures} callers failed; first: {}",
            first_error.map(|e| e.to_string()).unwrap_or_default()
        );
    }
    println!(
        "RESULT tasks={} tenants={} mi={} token={} server_mi={srv_mi} server_token={srv_token} p50_us={:.0} p90_us={:.0} p99_us={:.0} max_us={:.0} start_spread_us={:.0} makespan_us={:.0} single_us={:.0} failures={failures}",
        args.tasks,
        tenants.len(),
        stats.assertion_fetches,
        stats.exchanges,
        us(p50),
        us(p90),
        us(p99),
        us(max),
        us(start_spread),
        us(makespan),
        us(single_median),
    );
    if failures > 0 {
        return Err(format!("{failures} callers failed").into());
    }
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    if let Some(n) = args.print_config {
        print!("{}", EmulatorConfig::with_customer_tenants(n).to_toml());
        return Ok(());
    }
    let env = Env::process();
    let target = if env.var("FICX_CLIENT_ID").is_some() {
        Target::Environment { env }
    } else {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("emulator")
            .enable_all()
            .build()?;
        let emu = rt.block_on(Emulator::start(EmulatorConfig::with_customer_tenants(
            args.tenants,
        )))?;
        Target::InProcess { emu, rt }
    };
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = client_rt.block_on(run(args, &target));
    drop(client_rt);
    if let Target::InProcess { emu, rt } = target {
        rt.block_on(emu.shutdown());
    }
    result
}
