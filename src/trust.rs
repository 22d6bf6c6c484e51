//! Which certificates the HTTP clients trust: rustls configurations on the *ring* provider for
//! the MI endpoints (Mozilla's roots, compiled in), the authority ([`TrustRoots`] plus extra CA
//! files) and Service Fabric's pinned endpoint.
//!
//! **System roots are read lazily.** Reading and parsing the operating system's store costs a
//! fresh process about 4 ms (`docs/performance.md`), more than the rest of a loopback
//! pipeline. So with [`TrustRoots::System`] the authority's verifier first checks a chain
//! against the extra CAs alone, and reads the system store only for a chain they do not
//! accept, once per process. The accepted set is the same as one store holding both: a chain
//! that verifies against a subset of the roots verifies against all of them, and every chain
//! the extras reject is judged by the full store.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, quote};
use crate::http::{HttpOptions, TrustRoots};

fn ring_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, Error> {
    ClientConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Unsupported(format!("TLS setup: {e}")))
}

fn with_roots(roots: RootCertStore) -> Result<ClientConfig, Error> {
    Ok(builder()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn with_verifier(verifier: Arc<dyn ServerCertVerifier>) -> Result<ClientConfig, Error> {
    Ok(builder()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn mozilla() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// The MI endpoints' configuration: Mozilla's roots (no file I/O).
pub(crate) fn mozilla_tls() -> Result<ClientConfig, Error> {
    with_roots(mozilla())
}

/// The authority's configuration for `opts`. Reads the extra CA files now (a bad one is an
/// error here, before any request); the system store only when a handshake needs it.
pub(crate) fn authority_tls(opts: &HttpOptions) -> Result<ClientConfig, Error> {
    let mut extra = extra_roots(opts)?;
    match opts.trust {
        TrustRoots::ExtraOnly => with_roots(extra),
        TrustRoots::Mozilla => {
            extra
                .roots
                .extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            with_roots(extra)
        }
        TrustRoots::System => with_verifier(Checked::new(LazySystemRoots::new(extra)?)),
    }
}

/// Service Fabric's configuration: exactly the certificate with this SHA-1 thumbprint.
pub(crate) fn pinned_tls(thumbprint: [u8; 20]) -> Result<ClientConfig, Error> {
    with_verifier(Checked::new(ThumbprintVerifier { thumbprint }))
}

fn extra_roots(opts: &HttpOptions) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    for path in &opts.ca_files {
        let pem = std::fs::read(path).map_err(|e| Error::InvalidInput {
            field: "ca file",
            problem: format!("cannot read {}: {e}", quote(&path.display().to_string())),
        })?;
        add_pem(&mut roots, &pem, &path.display().to_string())?;
    }
    for pem in &opts.ca_pems {
        add_pem(&mut roots, pem, "CA PEM")?;
    }
    Ok(roots)
}

fn add_pem(roots: &mut RootCertStore, pem: &[u8], origin: &str) -> Result<(), Error> {
    let mut reader = std::io::BufReader::new(pem);
    let mut n = 0;
    for cert in rustls_pemfile::certs(&mut reader) {
        let cert = cert.map_err(|e| Error::InvalidInput {
            field: "ca file",
            problem: format!("{origin}: {e}; expected PEM certificates"),
        })?;
        roots.add(cert).map_err(|e| Error::InvalidInput {
            field: "ca file",
            problem: format!("{origin}: {e}"),
        })?;
        n += 1;
    }
    if n == 0 {
        return Err(Error::InvalidInput {
            field: "ca file",
            problem: format!("{origin} holds no PEM certificate"),
        });
    }
    Ok(())
}

/// The operating system's roots, falling back to Mozilla's when the store is empty or absent.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let (added, _) =
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if added == 0 {
        return mozilla();
    }
    roots
}

fn webpki(roots: RootCertStore) -> Result<Arc<WebPkiServerVerifier>, rustls::Error> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), ring_provider())
        .build()
        .map_err(|e| rustls::Error::General(format!("certificate verifier: {e}")))
}

/// [`TrustRoots::System`] plus extra CAs, reading the system store on first need (module docs).
struct LazySystemRoots {
    /// The extra CAs alone; `None` when there are none.
    extra_only: Option<Arc<WebPkiServerVerifier>>,
    /// The extra CAs, kept to join the system store when it is read.
    extra: RootCertStore,
    /// System store plus extra CAs, built by the first handshake the extras do not accept.
    full: OnceLock<Result<Arc<WebPkiServerVerifier>, rustls::Error>>,
}

impl LazySystemRoots {
    fn new(extra: RootCertStore) -> Result<Self, Error> {
        let extra_only = if extra.is_empty() {
            None
        } else {
            Some(webpki(extra.clone()).map_err(|e| Error::Unsupported(format!("TLS setup: {e}")))?)
        };
        Ok(Self {
            extra_only,
            extra,
            full: OnceLock::new(),
        })
    }

    fn full(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.full
            .get_or_init(|| {
                let mut roots = system_roots();
                roots.roots.extend(self.extra.roots.iter().cloned());
                tracing::debug!(roots = roots.len(), "read the system certificate store");
                webpki(roots)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether the system store has been read (tests).
    #[cfg(test)]
    fn loaded(&self) -> bool {
        self.full.get().is_some()
    }
}

impl fmt::Debug for LazySystemRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazySystemRoots")
            .field("extra", &self.extra.len())
            .field("system_loaded", &self.full.get().is_some())
            .finish()
    }
}

impl CertCheck for LazySystemRoots {
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(extra) = &self.extra_only
            && let ok @ Ok(_) =
                extra.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            return ok;
        }
        self.full()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }
}

/// Accepts exactly the server certificate with the pinned SHA-1 thumbprint (Service Fabric's
/// self-signed endpoint, compared in constant time); handshake signatures are still verified.
#[derive(Debug)]
struct ThumbprintVerifier {
    thumbprint: [u8; 20],
}

impl CertCheck for ThumbprintVerifier {
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use subtle::ConstantTimeEq;
        let digest =
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, end_entity.as_ref());
        if bool::from(digest.as_ref().ct_eq(&self.thumbprint)) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
}

/// The certificate decision of a custom verifier; [`Checked`] adds the handshake-signature
/// checks every verifier shares.
trait CertCheck: fmt::Debug + Send + Sync {
    /// Accept or reject the server's certificate chain.
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error>;
}

/// A [`CertCheck`] with the provider's handshake-signature verification.
#[derive(Debug)]
struct Checked<C> {
    check: C,
    algs: WebPkiSupportedAlgorithms,
}

impl<C: CertCheck> Checked<C> {
    fn new(check: C) -> Arc<Self> {
        Arc::new(Self {
            check,
            algs: ring_provider().signature_verification_algorithms,
        })
    }
}

impl<C: CertCheck> ServerCertVerifier for Checked<C> {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check
            .check(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

#[cfg(all(test, feature = "emulator"))]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    struct Ca {
        pem: String,
        issuer: rcgen::Issuer<'static, KeyPair>,
    }

    fn ca(name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().expect("key");
        let pem = p.self_signed(&key).expect("ca").pem();
        Ca {
            pem,
            issuer: rcgen::Issuer::new(p, key),
        }
    }

    fn leaf(ca: &Ca) -> CertificateDer<'static> {
        let p = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        let key = KeyPair::generate().expect("key");
        p.signed_by(&key, &ca.issuer).expect("leaf").der().clone()
    }

    fn verify(
        v: &LazySystemRoots,
        cert: &CertificateDer<'_>,
    ) -> Result<ServerCertVerified, rustls::Error> {
        v.check(
            cert,
            &[],
            &ServerName::try_from("localhost").expect("name"),
            &[],
            UnixTime::now(),
        )
    }

    fn lazy(ca: &Ca) -> LazySystemRoots {
        let opts = HttpOptions::default().ca_pem(ca.pem.clone());
        LazySystemRoots::new(extra_roots(&opts).expect("extra")).expect("verifier")
    }

    #[test]
    fn a_chain_to_an_extra_ca_never_reads_the_system_store() {
        let ours = ca("ficx test CA");
        let v = lazy(&ours);
        verify(&v, &leaf(&ours)).expect("accepted by the extra CA");
        verify(&v, &leaf(&ours)).expect("again");
        assert!(
            !v.loaded(),
            "the system store was read for a chain the extra CA accepts"
        );
    }

    #[test]
    fn a_chain_the_extras_reject_is_judged_by_the_full_store() {
        let ours = ca("ficx test CA");
        let stranger = ca("unknown CA");
        let v = lazy(&ours);
        let e = verify(&v, &leaf(&stranger)).expect_err("an unknown issuer is refused");
        assert!(
            matches!(
                e,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            ),
            "{e:?}"
        );
        assert!(v.loaded(), "the full store decided");
        verify(&v, &leaf(&ours)).expect("the extra CA still counts after loading");
    }

    #[test]
    fn without_extras_the_first_handshake_reads_the_system_store() {
        let v = LazySystemRoots::new(RootCertStore::empty()).expect("verifier");
        assert!(!v.loaded(), "nothing is read at construction");
        let stranger = ca("unknown CA");
        assert!(verify(&v, &leaf(&stranger)).is_err());
        assert!(v.loaded());
    }
}
