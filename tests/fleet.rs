//! The fleet-wide token store on a real `redis-server`: tokens shared between processes, one
//! exchange per key for concurrent processes, sealed values, a wrong key, Redis killed and
//! restarted mid-run, and cluster mode.
//!
//! Needs `redis-server` on PATH (scripts/test.sh installs it and starts one, exporting
//! `FICX_TEST_REDIS_URL`). Without it each test prints why it did not run; with
//! `FICX_REQUIRE_REDIS=1` (set by scripts/test.sh) a missing server fails the test instead.

#[path = "cli/support.rs"]
mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ficx::emulator::{EmulatorConfig, EmulatorHandle, Endpoint, defaults};
use ficx::store::redis::RedisStore;
use ficx::store::seal::Keyring;
use ficx::{Env, Exchanger, StoreOptions};
use secrecy::ExposeSecret;

use support::Cli;

const KEY_A: &str = "k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B: &str = "k1=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const GRAPH: &str = "https://graph.microsoft.com";

/// A redis-server child process on a loopback port; killed on drop.
struct RedisServer {
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    cluster: bool,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl RedisServer {
    /// Start a private server, or explain why not (None).
    fn start(cluster: bool) -> Option<Self> {
        let mut s = Self {
            port: free_port(),
            child: None,
            dir: tempfile::tempdir().unwrap(),
            cluster,
        };
        match s.spawn() {
            Ok(()) => Some(s),
            Err(why) => {
                skip(&why);
                None
            }
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.cluster {
            cmd.args(["--cluster-enabled", "yes", "--cluster-config-file"])
                .arg(self.dir.path().join("nodes.conf"));
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("redis-server could not be started ({e})"))?;
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        // Up to 10 s in 20 ms steps.
        for _ in 0..500 {
            if let Ok(mut c) = client.get_connection()
                && redis::cmd("PING").query::<String>(&mut c).is_ok()
            {
                if self.cluster {
                    let _: Result<(), _> = redis::cmd("CLUSTER")
                        .arg("ADDSLOTSRANGE")
                        .arg(0)
                        .arg(16383)
                        .query(&mut c);
                    let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut c).unwrap();
                    if !info.contains("cluster_state:ok") {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("redis-server did not answer PING within 10 s".into())
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn skip(why: &str) {
    if Env::process()
        .var("FICX_REQUIRE_REDIS")
        .is_some_and(|v| v == "1")
    {
        panic!("FICX_REQUIRE_REDIS=1 but {why}");
    }
    eprintln!("SKIPPED: {why}; install redis-server (scripts/test.sh does) to run the fleet tests");
}

/// The suite's Redis: `FICX_TEST_REDIS_URL` (from scripts/test.sh), else a private server.
/// Each test uses its own key prefix.
fn redis() -> Option<(String, Option<RedisServer>)> {
    match Env::process().var("FICX_TEST_REDIS_URL") {
        Some(url) if !url.is_empty() => Some((url, None)),
        _ => RedisServer::start(false).map(|s| (s.url(), Some(s))),
    }
}

fn prefix(test: &str) -> String {
    format!("ficx-test-{test}-{}", std::process::id())
}

fn store(url: &str, key: &str, prefix: &str, cluster: bool) -> RedisStore {
    RedisStore::builder()
        .url(url)
        .cluster(cluster)
        .keyring(Keyring::parse(key).unwrap())
        .prefix(prefix)
        .build()
        .unwrap()
}

fn exchanger(emu: &EmulatorHandle, store: RedisStore, options: StoreOptions) -> Exchanger {
    emu.exchanger_builder()
        .token_store(store)
        .store_options(options)
        .build()
        .unwrap()
}

fn redis_env(cli: &Cli, url: &str, prefix: &str) -> Vec<(String, String)> {
    let mut env = cli.env();
    env.push(("FICX_REDIS_URL".into(), url.into()));
    env.push(("FICX_REDIS_KEY".into(), KEY_A.into()));
    env.push(("FICX_REDIS_PREFIX".into(), prefix.into()));
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_share_tokens_and_exchange_once_per_key() {
    let Some((url, _server)) = redis() else {
        return;
    };
    let cli = Cli::start().await;
    let env = redis_env(&cli, &url, &prefix("share"));
    let args = [
        "token",
        "--tenant",
        defaults::CONTOSO_TENANT_DOMAIN,
        "--scope",
        GRAPH,
    ];

    // Two processes, one after the other: the second exchanges nothing.
    let first = cli.run_env(&args, env.clone(), None).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(cli.emu.log().count(Endpoint::Token), 1);
    assert_eq!(cli.emu.log().count(Endpoint::Imds), 1);
    let second = cli.run_env(&args, env.clone(), None).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.stdout, first.stdout, "the same token, from Redis");
    assert_eq!(cli.emu.log().count(Endpoint::Token), 1);
    assert_eq!(
        cli.emu.log().count(Endpoint::Imds),
        1,
        "no assertion needed for a shared token"
    );

    // Six cold processes at once for another tenant: one exchange between them.
    let args = [
        "token",
        "--tenant",
        defaults::NORTHWIND_TENANT_DOMAIN,
        "--scope",
        GRAPH,
    ];
    let runs = (0..6).map(|_| cli.run_env(&args, env.clone(), None));
    let outs = futures_util::future::join_all(runs).await;
    for o in &outs {
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(o.stdout, outs[0].stdout);
    }
    assert_eq!(
        cli.emu.log().count(Endpoint::Token),
        2,
        "cross-process single flight"
    );
    assert_eq!(cli.emu.log().count(Endpoint::Imds), 2);
    for o in &outs {
        assert!(!o.stderr.contains(o.stdout.trim()), "no token on stderr");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_at_rest_are_sealed_and_expire_before_the_token() {
    let Some((url, _server)) = redis() else {
        return;
    };
    let cli = Cli::start().await;
    let p = prefix("sealed");
    let x = exchanger(
        &cli.emu,
        store(&url, KEY_A, &p, false),
        StoreOptions::default(),
    );
    let t = x
        .token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    let key = x.store_key(defaults::CONTOSO_TENANT_DOMAIN, GRAPH).unwrap();
    let rs = store(&url, KEY_A, &p, false);
    let mut c = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let raw: String = redis::cmd("GET")
        .arg(rs.value_key(&key))
        .query(&mut c)
        .unwrap();
    let secret = t.secret().expose_secret();
    assert!(raw.starts_with("v1.k1."), "{raw:.12}");
    for (i, part) in secret.split('.').enumerate() {
        assert!(
            !raw.contains(part),
            "JWT segment {i} appears in the raw value"
        );
    }
    assert!(!raw.contains(defaults::CONTOSO_TENANT_DOMAIN));
    assert!(
        !rs.value_key(&key).contains("contoso"),
        "keys reveal no tenant"
    );
    let pttl: i64 = redis::cmd("PTTL")
        .arg(rs.value_key(&key))
        .query(&mut c)
        .unwrap();
    let life_ms = t
        .expires_on()
        .duration_since(ficx::Clock::now(&ficx::SystemClock))
        .unwrap()
        .as_millis() as i64;
    assert!(
        pttl > 0 && pttl < life_ms,
        "TTL {pttl} ms ends before the token's {life_ms} ms"
    );
    // Released after the exchange.
    let lease: Option<String> = redis::cmd("GET")
        .arg(rs.lease_key(&key))
        .query(&mut c)
        .unwrap();
    assert_eq!(lease, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_sealed_with_another_key_is_a_reported_miss() {
    let Some((url, _server)) = redis() else {
        return;
    };
    let cli = Cli::start().await;
    let p = prefix("wrongkey");
    let a = exchanger(
        &cli.emu,
        store(&url, KEY_A, &p, false),
        StoreOptions::default(),
    );
    let b = exchanger(
        &cli.emu,
        store(&url, KEY_B, &p, false),
        StoreOptions::default(),
    );
    let ta = a
        .token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    let tb = b
        .token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    assert_ne!(
        ta.secret().expose_secret(),
        tb.secret().expose_secret(),
        "b could not open a's value and exchanged itself"
    );
    let s = b.stats().store;
    assert!(s.undecryptable >= 1, "{s:?}");
    assert_eq!((s.hits, s.errors), (0, 0), "{s:?}");
    assert_eq!(cli.emu.log().count(Endpoint::Token), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_fails_no_call_and_recovers() {
    let Some(mut server) = RedisServer::start(false) else {
        return;
    };
    let mut config = EmulatorConfig::default_config();
    // Short app tokens, so the run crosses several refreshes (refresh at 3 s, expiry at 6 s).
    config.lifetimes.app_secs = 6;
    let cli = Cli::with_config(config).await;
    let p = prefix("kill");
    let options = StoreOptions::default()
        .op_timeout(Duration::from_millis(100))
        .cooldown(Duration::from_millis(500));
    let replicas: Vec<Exchanger> = (0..3)
        .map(|_| {
            exchanger(
                &cli.emu,
                store(&server.url(), KEY_A, &p, false),
                options.clone(),
            )
        })
        .collect();
    let tenants = [
        defaults::CONTOSO_TENANT_DOMAIN,
        defaults::NORTHWIND_TENANT_DOMAIN,
    ];
    let calls = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for r in &replicas {
        for i in 0..4 {
            let (r, calls, failures, stop) =
                (r.clone(), calls.clone(), failures.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match r.token(tenants[i % 2], GRAPH).await {
                        Ok(_) => calls.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("get_token failed: {e}");
                            failures.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }));
        }
    }
    let sum = |f: fn(&ficx::StoreStats) -> u64| -> u64 {
        replicas.iter().map(|r| f(&r.stats().store)).sum()
    };
    tokio::time::sleep(Duration::from_secs(4)).await;
    let hits_before = sum(|s| s.hits);
    server.kill();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let errors_during = sum(|s| s.errors);
    let server = tokio::task::spawn_blocking(move || {
        server.spawn().expect("redis restarts");
        server
    })
    .await
    .unwrap();
    let hits_restart = sum(|s| s.hits);
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let hits_after = sum(|s| s.hits);
    drop(server);
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "a Redis outage is never an auth outage"
    );
    assert!(calls.load(Ordering::Relaxed) > 100);
    assert!(hits_before > 0, "tokens were shared before the kill");
    assert!(errors_during > 0, "the outage was noticed");
    assert!(
        hits_after > hits_restart,
        "sharing resumed after the restart ({hits_restart} -> {hits_after})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_mode_shares_tokens() {
    let Some(server) = RedisServer::start(true) else {
        return;
    };
    let cli = Cli::start().await;
    let p = prefix("cluster");
    let a = exchanger(
        &cli.emu,
        store(&server.url(), KEY_A, &p, true),
        StoreOptions::default(),
    );
    let b = exchanger(
        &cli.emu,
        store(&server.url(), KEY_A, &p, true),
        StoreOptions::default(),
    );
    let ta = a
        .token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    let tb = b
        .token(defaults::CONTOSO_TENANT_DOMAIN, GRAPH)
        .await
        .unwrap();
    assert_eq!(ta.secret().expose_secret(), tb.secret().expose_secret());
    assert_eq!(cli.emu.log().count(Endpoint::Token), 1);
    let (sa, sb) = (a.stats().store, b.stats().store);
    assert_eq!((sa.leases, sa.writes, sa.errors), (1, 1, 0), "{sa:?}");
    assert_eq!((sb.hits, sb.errors), (1, 0), "{sb:?}");
}
