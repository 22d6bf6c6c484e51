//! Key material: the RSA token-signing key (generated with the `rsa` crate, since ring cannot
//! generate RSA keys, then loaded into ring for fast signing), the emulator CA and the
//! authority's server certificate (rcgen, ECDSA P-256), and Service Fabric's own self-signed
//! certificate with its SHA-1 thumbprint.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// A `rand_core` RNG over ring's system random source, for the `rsa` crate. Once `cancel` is
/// set it stops the key generation that uses it (see [`generate_rsa_pkcs8`]).
struct RingRng {
    rng: ring::rand::SystemRandom,
    #[cfg_attr(not(panic = "unwind"), allow(dead_code))]
    cancel: Arc<AtomicBool>,
}

/// Unwinds a losing key generator; never seen by the panic hook (`resume_unwind`).
#[cfg_attr(not(panic = "unwind"), allow(dead_code))]
struct Cancelled;

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
        // Stopping a searcher frees its core at once. Only with unwinding panics:
        // under panic=abort it finishes its current prime, then sees the closed channel.
        #[cfg(panic = "unwind")]
        if self.cancel.load(Ordering::Relaxed) {
            std::panic::resume_unwind(Box::new(Cancelled));
        }
        // The OS RNG failing is unrecoverable for key generation.
        self.rng.fill(dest).expect("system random source");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for RingRng {}

/// Bits of each of the two RSA primes.
const PRIME_BITS: usize = RSA_BITS / 2;
/// The public exponent (F4), as Entra's keys use.
const PUBLIC_EXPONENT: u32 = 65_537;

/// Odd primes below this bound sieve candidates before any Miller-Rabin test.
const SIEVE_BOUND: usize = 10_000;
/// How far an incremental search walks from one random start (as Go's `crypto/rand.Prime`).
const MAX_DELTA: u32 = 1 << 20;
/// Miller-Rabin rounds (plus a Lucas test) confirming a candidate that passed base 2.
const CONFIRM_ROUNDS: usize = 10;

fn small_primes() -> &'static [u32] {
    static PRIMES: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    PRIMES.get_or_init(|| {
        let mut composite = vec![false; SIEVE_BOUND];
        let mut out = Vec::new();
        for i in 2..SIEVE_BOUND {
            if !composite[i] {
                if i > 2 {
                    out.push(i as u32);
                }
                for j in (i * i..SIEVE_BOUND).step_by(i) {
                    composite[j] = true;
                }
            }
        }
        out
    })
}

/// A random prime of exactly `bits` bits (a multiple of 8) with its top two bits set, so two of
/// them multiply to exactly `2 * bits` bits. Random odd start, then an incremental search that
/// skips multiples of the primes below [`SIEVE_BOUND`] with cheap residue arithmetic and runs
/// Miller-Rabin only on survivors: about half the big-number work of `num-bigint-dig`'s
/// `gen_prime`, whose sieve stops at 53.
fn search_prime(rng: &mut RingRng, bits: usize) -> rsa::BigUint {
    use num_bigint_dig::prime::{probably_prime, probably_prime_miller_rabin};
    use rsa::rand_core::RngCore;
    let primes = small_primes();
    let mut bytes = vec![0u8; bits / 8];
    loop {
        rng.fill_bytes(&mut bytes);
        bytes[0] |= 0xC0;
        if let Some(last) = bytes.last_mut() {
            *last |= 1;
        }
        let residues: Vec<u32> = primes
            .iter()
            .map(|&p| {
                bytes
                    .iter()
                    .fold(0u32, |r, &b| ((r << 8) | u32::from(b)) % p)
            })
            .collect();
        let base = rsa::BigUint::from_bytes_be(&bytes);
        let mut delta = 0u32;
        while delta < MAX_DELTA {
            let sieved = residues
                .iter()
                .zip(primes)
                .all(|(&r, &p)| !(r + delta % p).is_multiple_of(p));
            if sieved {
                let c = &base + rsa::BigUint::from(delta);
                if c.bits() == bits
                    && probably_prime_miller_rabin(&c, 1, true)
                    && probably_prime(&c, CONFIRM_ROUNDS)
                {
                    return c;
                }
            }
            delta += 2;
        }
    }
}

/// Search primes until the receiver is gone or `cancel` is set.
fn prime_worker(cancel: Arc<AtomicBool>, tx: tokio::sync::mpsc::Sender<rsa::BigUint>) {
    let mut rng = RingRng {
        rng: ring::rand::SystemRandom::new(),
        cancel: cancel.clone(),
    };
    while !cancel.load(Ordering::Relaxed) {
        let p = search_prime(&mut rng, PRIME_BITS);
        if tx.blocking_send(p).is_err() {
            return;
        }
    }
}

/// Generate an RSA-2048 key as PKCS#8 DER. Prime search time varies a lot, so two threads hunt
/// primes together and the first two distinct primes found make the key (about a third faster
/// on average than racing two whole key generations); the searchers are then cancelled through
/// their RNG.
pub(crate) async fn generate_rsa_pkcs8() -> Result<Vec<u8>, EmulatorError> {
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::traits::PublicKeyParts;
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let cancel = Arc::new(AtomicBool::new(false));
    // Stop the searchers even when this future is dropped half-way.
    struct CancelOnDrop(Arc<AtomicBool>);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let _guard = CancelOnDrop(cancel.clone());
    for _ in 0..2 {
        let (tx, cancel) = (tx.clone(), cancel.clone());
        std::thread::Builder::new()
            .name("ficx-emu-rsa".into())
            .spawn(move || {
                // A cancelled searcher unwinds with `Cancelled`; it has nothing to report.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    prime_worker(cancel, tx)
                }));
            })
            .map_err(|e| EmulatorError::Crypto(format!("spawning the key generator: {e}")))?;
    }
    drop(tx);
    let failed = || EmulatorError::Crypto("RSA key generation: the prime search stopped".into());
    let mut p = rx.recv().await.ok_or_else(failed)?;
    loop {
        let q = rx.recv().await.ok_or_else(failed)?;
        // Rarely p = q, or e is not invertible mod λ(n): take the next prime.
        if let Ok(key) =
            rsa::RsaPrivateKey::from_p_q(p.clone(), q.clone(), rsa::BigUint::from(PUBLIC_EXPONENT))
            && key.n().bits() == RSA_BITS
            && key.validate().is_ok()
        {
            let doc = key
                .to_pkcs8_der()
                .map_err(|e| EmulatorError::Crypto(format!("encoding the RSA key: {e}")))?;
            return Ok(doc.as_bytes().to_vec());
        }
        p = q;
    }
}

/// Parse a PEM RSA private key (PKCS#8, or PKCS#1 `RSA PRIVATE KEY`) into PKCS#8 DER that ring
/// accepts.
pub(crate) fn rsa_pkcs8_from_pem(pem: &str) -> Result<Vec<u8>, EmulatorError> {
    let bad = |why: String| EmulatorError::Config {
        path: "signing_key_pem".into(),
        problem: why,
    };
    let mut reader = pem.as_bytes();
    let key = rustls_pemfile::private_key(&mut reader)
        .map_err(|e| bad(format!("not PEM: {e}")))?
        .ok_or_else(|| bad("no private key found in the PEM text".into()))?;
    let der = match key {
        PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
        PrivateKeyDer::Pkcs1(k) => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::from_pkcs1_der(k.secret_pkcs1_der())
                .map_err(|e| bad(format!("not a usable RSA key: {e}")))?;
            key.to_pkcs8_der()
                .map_err(|e| bad(format!("not a usable RSA key: {e}")))?
                .as_bytes()
                .to_vec()
        }
        _ => return Err(bad("expected an RSA key (PKCS#8 or PKCS#1)".into())),
    };
    ring::rsa::KeyPair::from_pkcs8(&der).map_err(|e| bad(format!("not a usable RSA key: {e}")))?;
    Ok(der)
}

/// The token-signing key: ring's key pair plus a self-signed certificate over it, published as
/// `x5c` (Entra's `kid`/`x5t` are the certificate's SHA-1 thumbprint).
pub(crate) fn signing_key(pkcs8: &[u8]) -> Result<(ring::rsa::KeyPair, Vec<u8>), EmulatorError> {
    let ring_key = ring::rsa::KeyPair::from_pkcs8(pkcs8)
        .map_err(|e| EmulatorError::Crypto(format!("RSA key rejected: {e}")))?;
    let rc_key = KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(pkcs8),
        &rcgen::PKCS_RSA_SHA256,
    )
    .map_err(crypto)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(crypto)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "ficx emulator token signing");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&rc_key).map_err(crypto)?;
    Ok((ring_key, cert.der().to_vec()))
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
    fn primes_are_prime_and_sized() {
        let mut rng = RingRng {
            rng: ring::rand::SystemRandom::new(),
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let p = search_prime(&mut rng, 256);
        assert_eq!(p.bits(), 256);
        assert!(num_bigint_dig::prime::probably_prime(&p, 20));
        assert_eq!(&small_primes()[..5], &[3, 5, 7, 11, 13]);
        assert_eq!(*small_primes().last().unwrap(), 9973);
    }

    #[tokio::test]
    async fn generated_keys_sign_and_differ() {
        let a = generate_rsa_pkcs8().await.unwrap();
        let b = generate_rsa_pkcs8().await.unwrap();
        assert_ne!(a, b);
        let key = ring::rsa::KeyPair::from_pkcs8(&a).unwrap();
        assert_eq!(key.public().modulus_len(), RSA_BITS / 8);
    }

    #[test]
    fn bad_pem_is_a_config_error() {
        assert!(matches!(
            rsa_pkcs8_from_pem("nope"),
            Err(EmulatorError::Config { .. })
        ));
        let ec = rcgen::KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .unwrap()
            .serialize_pem();
        assert!(matches!(
            rsa_pkcs8_from_pem(&ec),
            Err(EmulatorError::Config { .. })
        ));
    }

    #[test]
    fn pkcs1_keys_are_accepted() {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let pem = include_str!("../../tests/emulator/test_key.pem");
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
        let pkcs1 = key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let der = rsa_pkcs8_from_pem(&pkcs1).unwrap();
        assert_eq!(der, rsa_pkcs8_from_pem(pem).unwrap());
        let (_, cert) = signing_key(&der).unwrap();
        assert_eq!(cert[0], 0x30);
    }
}
