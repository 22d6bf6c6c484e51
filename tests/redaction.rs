//! Redaction: no token, assertion or platform secret in Debug/Display of any public type or error, nor in
//! the logs captured at TRACE (the library's and the emulator's), over successes and failures.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ficx::ManagedIdentity;
use ficx::emulator::{Endpoint, Fault, Times, defaults};
use secrecy::ExposeSecret;

#[path = "library/support.rs"]
mod support;

use support::{Lab, trusted};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn nothing_secret_in_debug_display_or_trace_logs() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // Global, in a test binary of its own: callsite interest is process-wide, so a thread-local
    // subscriber could miss events whose callsites other tests registered first.
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (secrets, rendered) = rt.block_on(async {
        let lab = Lab::start().await;
        let mut secrets: Vec<String> = vec![
            lab.emu.identity_header().to_owned(),
            lab.emu.msi_secret().to_owned(),
        ];
        let mut rendered = String::new();
        let mut show = |s: String| rendered.push_str(&s);

        for source in [
            Endpoint::Imds,
            Endpoint::AppService,
            Endpoint::AzureMl,
            Endpoint::ServiceFabric,
        ] {
            let identity = if source == Endpoint::ServiceFabric {
                ManagedIdentity::SystemAssigned
            } else {
                trusted()
            };
            let x = lab.builder(source, identity).build().unwrap();
            let a = x.assertion().await.unwrap();
            secrets.push(a.secret().expose_secret().to_owned());
            let t = x
                .token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
                .await
                .unwrap();
            secrets.push(t.secret().expose_secret().to_owned());
            show(format!("{a:?}{t:?}{t:#?}{x:?}{x:#?}"));
            let c = x.tenant(defaults::NORTHWIND_TENANT_DOMAIN).unwrap();
            show(format!("{c:?}"));
            for e in [
                x.token(defaults::TAILSPIN_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
                    .await
                    .unwrap_err(),
                x.token("bad/tenant", defaults::GRAPH_RESOURCE)
                    .await
                    .unwrap_err(),
            ] {
                show(format!("{e}{e:?}{e:#?}"));
            }
        }
        // Arc (key file content is a secret too).
        let arc = lab
            .mi_source(Endpoint::AzureArc, ManagedIdentity::SystemAssigned)
            .unwrap();
        let t = arc.token("api://AzureADTokenExchange").await.unwrap();
        secrets.push(t.secret().expose_secret().to_owned());
        for entry in std::fs::read_dir(lab.emu.arc_key_dir()).unwrap() {
            secrets.push(
                std::fs::read_to_string(entry.unwrap().path())
                    .unwrap()
                    .trim()
                    .to_owned(),
            );
        }
        show(format!("{arc:?}"));
        // Failures with bodies: MI error, truncated/HTML/oversized answers.
        for fault in [
            Fault::TruncatedBody,
            Fault::Html { status: 502 },
            Fault::MissingFields,
            Fault::ResetMidBody,
        ] {
            lab.emu
                .faults()
                .inject(Endpoint::Token, fault, Times::Always);
            let x = lab
                .builder(Endpoint::Imds, trusted())
                .retry(ficx::RetryPolicy::none())
                .build()
                .unwrap();
            let e = x
                .token(defaults::NORTHWIND_TENANT_DOMAIN, defaults::GRAPH_RESOURCE)
                .await
                .unwrap_err();
            show(format!("{e}{e:?}{e:#?}"));
            lab.emu.faults().clear();
        }
        show(format!("{:?}", lab.emu.log().entries()));
        (secrets, rendered)
    });
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.len() > 1000,
        "TRACE logs were captured ({} bytes)",
        logs.len()
    );
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        // The signature part alone is enough to identify a token.
        let needle = s.rsplit('.').next().unwrap_or(s);
        let needle = if needle.len() >= 16 {
            needle
        } else {
            s.as_str()
        };
        assert!(!logs.contains(needle), "a secret appears in the logs");
        assert!(
            !rendered.contains(needle),
            "a secret appears in Debug/Display output"
        );
    }
}
