//! Token-endpoint throughput over https with keep-alive: batches of jwt-bearer exchanges sent
//! concurrently over a few pooled connections (each one RSA verify + one RSA sign on the
//! emulator side), plus IMDS (cached token) for comparison. Client and emulator share the
//! machine, so the figures are a lower bound for the emulator alone.
//!
//! Run with `cargo bench --bench emulator_throughput`. Measured, never asserted.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Endpoint, defaults as d};

const BATCH: usize = 64;
const CONNECTIONS: usize = 4;

fn client(emu: &EmulatorHandle) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut emu.ca_pem().as_bytes()) {
        roots.add(cert.expect("pem")).expect("root");
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
}

async fn mi_token(emu: &EmulatorHandle, c: &reqwest::Client) -> String {
    let url = format!(
        "{}?api-version=2018-02-01&resource=api%3A%2F%2FAzureADTokenExchange&client_id={}",
        emu.endpoint_url(Endpoint::Imds),
        d::UAMI_TRUSTED_CLIENT_ID
    );
    let text = c
        .get(url)
        .header("Metadata", "true")
        .send()
        .await
        .expect("imds")
        .text()
        .await
        .expect("body");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["access_token"].as_str().expect("token").to_owned()
}

async fn exchange_batch(emu: &EmulatorHandle, clients: &[reqwest::Client], assertion: &Arc<str>) {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..BATCH {
        let c = clients[i % clients.len()].clone();
        let url = emu.token_url(d::CONTOSO_TENANT_ID);
        let assertion = assertion.clone();
        set.spawn(async move {
            let r = c
                .post(url)
                .form(&[
                    ("client_id", d::APP_CLIENT_ID),
                    ("scope", "https://graph.microsoft.com/.default"),
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                ])
                .send()
                .await
                .expect("token");
            assert_eq!(r.status().as_u16(), 200);
            r.bytes().await.expect("body").len()
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task");
    }
}

/// The floor of the token endpoint: one RS256 signature with ring (what every token costs).
fn rsa_sign(c: &mut Criterion) {
    let pem = include_str!("../tests/emulator/test_key.pem");
    let der = match rustls_pemfile::private_key(&mut pem.as_bytes()) {
        Ok(Some(rustls::pki_types::PrivateKeyDer::Pkcs8(k))) => k.secret_pkcs8_der().to_vec(),
        _ => panic!("test key is PKCS#8"),
    };
    let key = ring::rsa::KeyPair::from_pkcs8(&der).expect("key");
    let rng = ring::rand::SystemRandom::new();
    let msg = [7u8; 600];
    let mut sig = vec![0u8; key.public().modulus_len()];
    c.bench_function("ring_rs256_sign_2048", |b| {
        b.iter(|| {
            key.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, &msg, &mut sig)
                .expect("sign")
        })
    });
}

fn throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut cfg = EmulatorConfig::default_config();
    cfg.signing_key_pem = Some(include_str!("../tests/emulator/test_key.pem").to_owned());
    let emu = rt.block_on(Emulator::start(cfg)).expect("starts");
    let clients: Vec<reqwest::Client> = (0..CONNECTIONS).map(|_| client(&emu)).collect();
    let assertion: Arc<str> = Arc::from(rt.block_on(mi_token(&emu, &clients[0])));

    let mut g = c.benchmark_group("emulator_throughput");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("token_exchange_https_keepalive", |b| {
        b.to_async(&rt)
            .iter(|| exchange_batch(&emu, &clients, &assertion))
    });
    g.bench_function("imds_cached_token", |b| {
        b.to_async(&rt).iter(|| async {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..BATCH {
                let (c, e) = (clients[i % clients.len()].clone(), emu.clone());
                set.spawn(async move { mi_token(&e, &c).await.len() });
            }
            while let Some(r) = set.join_next().await {
                r.expect("task");
            }
        })
    });
    g.finish();
    rt.block_on(emu.shutdown());
}

criterion_group!(benches, rsa_sign, throughput);
criterion_main!(benches);
