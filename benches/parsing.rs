//! Parsing costs: `ficx::jwt::decode_unverified` on a real emulator app token (what `inspect`,
//! `doctor` and the assertion checks pay), expiry parsing for each wire shape, and a whole token
//! success body (token + type + expiry + `refresh_in`, as both legs parse it). The expiry and body
//! parsers are crate-private; they are reached through the hidden `ficx::__private` entry points.
//!
//! Run with `cargo bench --bench parsing`. Measured, never asserted.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ficx::__private::{parse_expiry, parse_token_body};
use ficx::emulator::{Emulator, EmulatorConfig, defaults};
use ficx::{Clock, SystemClock};
use secrecy::ExposeSecret;
use serde_json::json;

/// A real app token from the emulator (header, claims and RS256 signature of realistic size).
fn emulator_token() -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut cfg = EmulatorConfig::default_config();
        cfg.signing_key_pem = Some(include_str!("../tests/emulator/test_key.pem").to_owned());
        let emu = Emulator::start(cfg).await.expect("emulator");
        let x = emu.exchanger_builder().build().expect("exchanger");
        let t = x
            .token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
            .await
            .expect("token");
        emu.shutdown().await;
        t.secret().expose_secret().to_owned()
    })
}

fn jwt(c: &mut Criterion) {
    let token = emulator_token();
    let mut g = c.benchmark_group("jwt");
    g.bench_function(
        BenchmarkId::new("decode_unverified", format!("{}_bytes", token.len())),
        |b| b.iter(|| black_box(ficx::jwt::decode_unverified(black_box(&token)).expect("jwt"))),
    );
    g.bench_function("decode_unverified_then_exp", |b| {
        b.iter(|| {
            let v = ficx::jwt::decode_unverified(black_box(&token)).expect("jwt");
            black_box(v.exp_unix())
        })
    });
    g.finish();
}

fn expiry(c: &mut Criterion) {
    let now = SystemClock.now();
    let epoch = now
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
        + 3599;
    let shapes = [
        ("expires_on_number", json!({ "expires_on": epoch })),
        (
            "expires_on_string",
            json!({ "expires_on": epoch.to_string() }),
        ),
        ("expires_in_number", json!({ "expires_in": 3599 })),
        ("expires_in_string", json!({ "expires_in": "3599" })),
        (
            "azure_ml_date",
            json!({ "expires_on": "11/02/2030 12:00:00 +00:00" }),
        ),
        (
            "azure_ml_date_ampm",
            json!({ "expires_on": "11/2/2030 2:00:00 PM +00:00" }),
        ),
        ("rfc3339", json!({ "expires_on": "2030-11-02T12:00:00Z" })),
    ];
    let mut g = c.benchmark_group("expiry");
    for (name, body) in &shapes {
        assert!(parse_expiry(body, now).is_some(), "{name} parses");
        g.bench_function(*name, |b| {
            b.iter(|| black_box(parse_expiry(black_box(body), now)))
        });
    }
    g.finish();

    let token = emulator_token();
    let body = serde_json::to_vec(&json!({
        "token_type": "Bearer",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "refresh_in": 1799,
        "access_token": token,
    }))
    .expect("json");
    let mut g = c.benchmark_group("token_body");
    g.bench_function(format!("parse_{}_bytes", body.len()), |b| {
        b.iter(|| black_box(parse_token_body(black_box(body.clone()), now).expect("body")))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = jwt, expiry
}
criterion_main!(benches);
