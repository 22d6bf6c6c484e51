//! Shared helpers: starting an emulator (with a fixed signing key so tests skip RSA key
//! generation), reqwest clients that trust the emulator CA or pin the Service Fabric
//! thumbprint, and JWT checks with `jsonwebtoken` against the served JWKS.

#![allow(dead_code)]

use std::sync::Arc;

use ficx::ManualClock;
use ficx::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Endpoint};
use serde_json::Value;

pub use ficx::emulator::defaults as d;

/// A fixed RSA key (PKCS#8 PEM) for fast start-up in tests.
pub const TEST_KEY_PEM: &str = include_str!("test_key.pem");

pub fn config() -> EmulatorConfig {
    let mut c = EmulatorConfig::default_config();
    c.signing_key_pem = Some(TEST_KEY_PEM.to_owned());
    c
}

pub async fn start() -> EmulatorHandle {
    Emulator::start(config()).await.expect("emulator starts")
}

pub async fn start_with(edit: impl FnOnce(&mut EmulatorConfig)) -> EmulatorHandle {
    let mut c = config();
    edit(&mut c);
    Emulator::start(c).await.expect("emulator starts")
}

pub async fn start_with_clock(clock: Arc<ManualClock>) -> EmulatorHandle {
    Emulator::builder(config())
        .clock(clock)
        .start()
        .await
        .expect("emulator starts")
}

fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client trusting only the emulator CA (ring provider), no proxy, no redirects.
pub fn client(emu: &EmulatorHandle) -> reqwest::Client {
    client_builder(emu).build().unwrap()
}

/// The builder behind [`client`], for extra settings such as a timeout.
pub fn client_builder(emu: &EmulatorHandle) -> reqwest::ClientBuilder {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut emu.ca_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
}

/// Accepts exactly the certificate whose SHA-1 matches the pinned thumbprint (Service Fabric).
#[derive(Debug)]
pub struct Pinned {
    thumbprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let digest =
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, end_entity.as_ref());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        if hex.eq_ignore_ascii_case(&self.thumbprint) {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "thumbprint {hex} is not the pinned one"
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client that pins `thumbprint` (SHA-1, hex) instead of checking a chain.
pub fn pinned_client(thumbprint: &str) -> reqwest::Client {
    let provider = ring_provider();
    let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            thumbprint: thumbprint.to_owned(),
            provider,
        }))
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .build()
        .unwrap()
}

/// GET `url` with headers; returns (status, JSON body or Null).
pub async fn get_json(c: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut rb = c.get(url);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.expect("request completes");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// An MI token for the exchange audience from IMDS.
pub async fn imds_token(emu: &EmulatorHandle, selector: &str, resource: &str) -> String {
    let url = format!(
        "{}?api-version=2018-02-01&resource={}{}",
        emu.endpoint_url(Endpoint::Imds),
        urlenc(resource),
        selector
    );
    let (s, v) = get_json(&client(emu), &url, &[("Metadata", "true")]).await;
    assert_eq!(s, 200, "{v}");
    v["access_token"].as_str().unwrap().to_owned()
}

pub fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// POST the jwt-bearer exchange; returns (status, JSON).
pub async fn exchange(
    emu: &EmulatorHandle,
    tenant: &str,
    client_id: &str,
    scope: &str,
    assertion: &str,
) -> (u16, Value) {
    exchange_form(
        emu,
        tenant,
        &[
            ("client_id", client_id),
            ("scope", scope),
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ],
    )
    .await
}

pub async fn exchange_form(
    emu: &EmulatorHandle,
    tenant: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = client(emu)
        .post(emu.token_url(tenant))
        .form(form)
        .send()
        .await
        .expect("request completes");
    let s = r.status().as_u16();
    (s, crate::support::json(r).await)
}

/// Claims of a JWT without verification.
pub fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Verify a token with jsonwebtoken against the JWKS the emulator serves for `tenant`,
/// checking signature, `iss`, `aud` and `exp`; returns the claims.
pub async fn verify(emu: &EmulatorHandle, jwt: &str, tenant: &str, iss: &str, aud: &str) -> Value {
    let (s, jwks) = get_json(
        &client(emu),
        &format!("{}/{tenant}/discovery/v2.0/keys", emu.authority_url()),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    let kid = header.kid.expect("kid");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid in JWKS");
    assert_eq!(key["x5t"], kid.as_str());
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[iss]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(jwt, &dk, &v)
        .expect("token verifies")
        .claims
}

/// Assert an Entra error body.
pub fn assert_entra(status: u16, body: &Value, want_status: u16, error: &str, code: u64) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"][0].as_u64(), Some(code), "{body}");
    let desc = body["error_description"].as_str().unwrap();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert!(
        desc.contains("\r\nTrace ID: ")
            && desc.contains("\r\nCorrelation ID: ")
            && desc.contains("\r\nTimestamp: ")
    );
    assert!(
        body["trace_id"].is_string()
            && body["correlation_id"].is_string()
            && body["timestamp"].is_string()
    );
    assert!(
        body["error_uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/error?code={code}"))
    );
}

/// The JSON body of a response (Null when it is not JSON).
pub async fn json(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}
