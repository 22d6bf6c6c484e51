//! Key material: the RSA token-signing key (generated with the `rsa` crate, since ring cannot
//! generate RSA keys, then loaded into ring for fast signing), the emulator CA and the
//! authority's server certificate (rcgen, ECDSA P-256), and Service Fabric's own self-signed
//! certificate with its SHA-1 thumbprint.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use ring::digest;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::EmulatorError;

/// RSA modulus size of the generated signing key.
pub(crate) const RSA_BITS: usize = 2048;

/// A `rand_core` RNG over ring's system random source, for the `rsa` crate.
struct RingRng(ring::rand::SystemRandom);

impl rsa::rand_core::RngCore for RingRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        use ring::rand::SecureRandom;
        // The OS RNG failing is unrecoverable for key generation.
        self.0.fill(dest).expect("system random source");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for RingRng {}

fn generate_rsa_pkcs8_once() -> Result<Vec<u8>, String> {
    use rsa::pkcs8::EncodePrivateKey;
    let mut rng = RingRng(ring::rand::SystemRandom::new());
    let key = rsa::RsaPrivateKey::new(&mut rng, RSA_BITS).map_err(|e| e.to_string())?;
    let doc = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    Ok(doc.as_bytes().to_vec())
}

/// Generate an RSA-2048 key as PKCS#8 DER. Prime search time varies a lot (100–500 ms), so two
/// generator threads race and the first result wins; the loser finishes in the background.
pub(crate) async fn generate_rsa_pkcs8() -> Result<Vec<u8>, EmulatorError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    for _ in 0..2 {
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("ficx-emu-rsa".into())
            .spawn(move || {
                let _ = tx.blocking_send(generate_rsa_pkcs8_once());
            })
            .map_err(|e| EmulatorError::Crypto(format!("spawning the key generator: {e}")))?;
    }
    drop(tx);
    let mut last = String::from("no generator finished");
    while let Some(r) = rx.recv().await {
        match r {
            Ok(der) => return Ok(der),
            Err(e) => last = e,
        }
    }
    Err(EmulatorError::Crypto(format!(
        "RSA key generation failed: {last}"
    )))
}

/// Parse a PEM RSA private key (PKCS#8, or PKCS#1 `RSA PRIVATE KEY`) into a ring key pair.
pub(crate) fn rsa_from_pem(pem: &str) -> Result<ring::rsa::KeyPair, EmulatorError> {
    let bad = |why: String| EmulatorError::Config {
        path: "signing_key_pem".into(),
        problem: why,
    };
    let mut reader = pem.as_bytes();
    let key = rustls_pemfile::private_key(&mut reader)
        .map_err(|e| bad(format!("not PEM: {e}")))?
        .ok_or_else(|| bad("no private key found in the PEM text".into()))?;
    match key {
        PrivateKeyDer::Pkcs8(k) => ring::rsa::KeyPair::from_pkcs8(k.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(k) => ring::rsa::KeyPair::from_der(k.secret_pkcs1_der()),
        _ => return Err(bad("expected an RSA key (PKCS#8 or PKCS#1)".into())),
    }
    .map_err(|e| bad(format!("not a usable RSA key: {e}")))
}

/// Base64url SHA-1 of `data`, the form of Entra's `kid`/`x5t`.
pub(crate) fn b64_sha1(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data))
}

/// Upper-case hex SHA-1 of a certificate's DER: the Service Fabric thumbprint.
pub(crate) fn thumbprint(der: &[u8]) -> String {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// The TLS material of one emulator run.
pub(crate) struct TlsMaterial {
    /// CA certificate (PEM).
    pub(crate) ca_pem: String,
    /// Server config of the authority listener (leaf signed by the CA).
    pub(crate) authority: Arc<rustls::ServerConfig>,
    /// Server config of the Service Fabric listener (self-signed).
    pub(crate) service_fabric: Arc<rustls::ServerConfig>,
    /// SHA-1 of the Service Fabric certificate, 40 upper-case hex digits.
    pub(crate) sf_thumbprint: String,
    /// The Service Fabric certificate (PEM).
    pub(crate) sf_cert_pem: String,
}

const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

fn crypto(e: impl std::fmt::Display) -> EmulatorError {
    EmulatorError::Crypto(e.to_string())
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: &KeyPair,
) -> Result<Arc<rustls::ServerConfig>, EmulatorError> {
    // Always the ring provider, never the process default (which may be aws-lc-rs or unset).
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(crypto)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(crypto)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Generate the CA, the authority's leaf certificate and the Service Fabric certificate.
pub(crate) fn generate_tls() -> Result<TlsMaterial, EmulatorError> {
    let names: Vec<String> = LOOPBACK_NAMES.iter().map(|s| (*s).to_owned()).collect();

    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(crypto)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(crypto)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ficx emulator CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(crypto)?;
    let ca_pem = ca_cert.pem();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(crypto)?;
    let mut leaf_params = CertificateParams::new(names.clone()).map_err(crypto)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "ficx emulator authority");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(crypto)?;
    let authority = server_config(vec![leaf.der().clone(), ca_cert.der().clone()], &leaf_key)?;

    let sf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(crypto)?;
    let mut sf_params = CertificateParams::new(names).map_err(crypto)?;
    sf_params
        .distinguished_name
        .push(DnType::CommonName, "ficx emulator service fabric");
    sf_params.is_ca = IsCa::ExplicitNoCa;
    sf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let sf_cert = sf_params.self_signed(&sf_key).map_err(crypto)?;
    let sf_thumbprint = thumbprint(sf_cert.der());
    let service_fabric = server_config(vec![sf_cert.der().clone()], &sf_key)?;

    Ok(TlsMaterial {
        ca_pem,
        authority,
        service_fabric,
        sf_thumbprint,
        sf_cert_pem: sf_cert.pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_is_upper_hex_sha1() {
        let t = thumbprint(b"abc");
        assert_eq!(t, "A9993E364706816ABA3E25717850C26C9CD0D89D");
        assert_eq!(b64_sha1(b"abc").len(), 27);
    }

    #[test]
    fn tls_material_is_generated() {
        let m = generate_tls().unwrap();
        assert!(m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(m.sf_thumbprint.len(), 40);
        assert!(
            m.sf_thumbprint
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }

    #[test]
    fn bad_pem_is_a_config_error() {
        assert!(matches!(
            rsa_from_pem("nope"),
            Err(EmulatorError::Config { .. })
        ));
    }
}
