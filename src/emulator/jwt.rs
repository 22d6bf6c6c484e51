//! RS256 JWTs with ring: signing the tokens the emulator issues, verifying incoming assertions
//! against the emulator's own key (chosen by `kid`), and the JWKS entry that publishes it.
//!
//! The JWT is assembled by hand (base64url header, claims, signature): header
//! `{"typ":"JWT","alg":"RS256","kid":K,"x5t":K}` as Entra writes it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents};
use serde_json::{Map, Value, json};

use super::keys::b64_sha1;

/// Signs and verifies tokens with one RSA key.
pub(crate) struct Signer {
    key: signature::RsaKeyPair,
    rng: ring::rand::SystemRandom,
    kid: String,
    header_b64: String,
    n: Vec<u8>,
    e: Vec<u8>,
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Why an incoming JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VerifyError {
    /// Not three base64url parts, header or claims not JSON objects, not RS256 (AADSTS50027).
    Malformed(&'static str),
    /// Unknown `kid` or a bad signature (AADSTS700027).
    Signature,
}

impl Signer {
    /// Wrap a ring key pair and its self-signed certificate (DER); `kid` = `x5t` = the
    /// certificate's base64url SHA-1, as Entra's.
    pub(crate) fn new(key: signature::RsaKeyPair, cert_der: Vec<u8>) -> Self {
        let public: RsaPublicKeyComponents<Vec<u8>> = RsaPublicKeyComponents::from(key.public());
        let kid = b64_sha1(&cert_der);
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": kid, "x5t": kid});
        let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
        Self {
            key,
            rng: ring::rand::SystemRandom::new(),
            kid,
            header_b64,
            n: public.n,
            e: public.e,
            cert_der,
        }
    }

    /// The key id (`kid` = `x5t`).
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// Sign a claims object into a compact JWT.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let claims_b64 = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut out = String::with_capacity(self.header_b64.len() + claims_b64.len() + 350);
        out.push_str(&self.header_b64);
        out.push('.');
        out.push_str(&claims_b64);
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        // Signing with a valid key and a working RNG cannot fail.
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.rng,
                out.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing");
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(sig));
        out
    }

    /// Verify an RS256 JWT signed by this key; returns the claims.
    pub(crate) fn verify(&self, token: &str) -> Result<Map<String, Value>, VerifyError> {
        let (header, claims) = decode_unverified(token)?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(VerifyError::Malformed("alg is not RS256"));
        }
        let kid = header
            .get("kid")
            .or_else(|| header.get("x5t"))
            .and_then(Value::as_str);
        if kid != Some(self.kid.as_str()) {
            return Err(VerifyError::Signature);
        }
        let (signed, sig_b64) = token
            .rsplit_once('.')
            .ok_or(VerifyError::Malformed("no signature"))?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig_b64)
            .map_err(|_| VerifyError::Signature)?;
        let public = RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        };
        public
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                signed.as_bytes(),
                &sig,
            )
            .map_err(|_| VerifyError::Signature)?;
        Ok(claims)
    }

    /// The JWKS key object (`kty`, `use`, `kid`, `x5t`, `n`, `e`, `x5c`, plus `issuer` when
    /// given).
    pub(crate) fn jwk(&self, issuer: Option<&str>) -> Value {
        let mut k = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "e": URL_SAFE_NO_PAD.encode(&self.e),
            "x5c": [base64::engine::general_purpose::STANDARD.encode(&self.cert_der)],
        });
        if let Some(i) = issuer {
            k["issuer"] = Value::String(i.to_owned());
        }
        k
    }
}

/// A JWT's decoded header and claims.
pub(crate) type HeaderAndClaims = (Map<String, Value>, Map<String, Value>);

/// Split and decode header and claims without checking the signature.
pub(crate) fn decode_unverified(token: &str) -> Result<HeaderAndClaims, VerifyError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(_s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed("not three dot-separated parts"));
    };
    let obj = |part: &str, what: &'static str| -> Result<Map<String, Value>, VerifyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| VerifyError::Malformed(what))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(VerifyError::Malformed(what)),
        }
    };
    Ok((
        obj(h, "header is not base64url JSON")?,
        obj(c, "claims are not base64url JSON")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn test_signer() -> Signer {
        let pem = include_str!("../../tests/emulator/test_key.pem");
        let der = crate::emulator::keys::rsa_pkcs8_from_pem(pem).unwrap();
        let (key, cert) = crate::emulator::keys::signing_key(&der).unwrap();
        Signer::new(key, cert)
    }

    #[test]
    fn sign_then_verify() {
        let s = test_signer();
        let t = s.sign(&json!({"sub": "x", "n": 1}));
        let claims = s.verify(&t).unwrap();
        assert_eq!(claims["sub"], "x");
        let (h, _) = decode_unverified(&t).unwrap();
        assert_eq!(h["kid"], s.kid());
        assert_eq!(h["x5t"], s.kid());
        assert_eq!(h["typ"], "JWT");
    }

    #[test]
    fn tampering_is_detected() {
        let s = test_signer();
        let t = s.sign(&json!({"sub": "x"}));
        let (head, rest) = t.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode(json!({"sub": "y"}).to_string());
        assert_eq!(
            s.verify(&format!("{head}.{other}.{sig}")),
            Err(VerifyError::Signature)
        );
        assert!(matches!(s.verify("a.b"), Err(VerifyError::Malformed(_))));
        assert!(matches!(
            s.verify("!!.??.xx"),
            Err(VerifyError::Malformed(_))
        ));
        let unsigned_head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        assert!(matches!(
            s.verify(&format!("{unsigned_head}.{other}.")),
            Err(VerifyError::Malformed(_))
        ));
    }
}
