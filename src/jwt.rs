//! Reading a JWT's header and claims **without verifying it** (the signature is Entra's business;
//! ficx only needs `exp`, and `ficx inspect`/`doctor`/`setup` show the claims that decide FIC
//! matching). Bounded and panic-free on any input.

use std::time::{Duration, SystemTime};

use base64::Engine;
use serde_json::{Map, Value};

use crate::clock::from_unix;
use crate::error::Error;

/// Longest token accepted for inspection.
///
/// ```
/// let huge = format!("eyJhbGciOiJub25lIn0.{}.", "A".repeat(ficx::jwt::MAX_JWT_LEN));
/// assert!(ficx::jwt::decode_unverified(&huge).is_err());
/// ```
pub const MAX_JWT_LEN: usize = 16 * 1024;

/// The decoded (unverified) parts of a JWT.
///
/// ```
/// # use base64::Engine as _;
/// # let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
/// let claims = r#"{"aud":"api://AzureADTokenExchange","sub":"b1b1b1b1-0000-4000-8000-000000000001"}"#;
/// # let token = format!("{}.{}.sig", b64(r#"{"alg":"RS256","kid":"k1"}"#), b64(claims));
/// let view = ficx::jwt::decode_unverified(&token)?;
/// assert_eq!(view.header["kid"], "k1");
/// assert_eq!(view.claims["sub"], "b1b1b1b1-0000-4000-8000-000000000001");
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct JwtView {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
}

/// What kind of token this is, from `idtyp`/`scp` (access-token-claims-reference.md).
///
/// ```
/// # use base64::Engine as _;
/// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
/// use ficx::jwt::{TokenKind, decode_unverified};
/// assert_eq!(decode_unverified(&jwt(r#"{"idtyp":"app"}"#))?.kind(), TokenKind::AppOnly);
/// assert_eq!(decode_unverified(&jwt(r#"{"scp":"user_impersonation"}"#))?.kind(), TokenKind::Delegated);
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// App-only: usable as a federated credential.
    AppOnly,
    /// Delegated (a user's token): refused as a federated credential (AADSTS700229).
    Delegated,
}

/// Decode without verifying.
///
/// ```
/// let jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiZXhwIjoyMDAwMDAwMDAwfQ.";
/// let view = ficx::jwt::decode_unverified(jwt).unwrap();
/// assert_eq!(view.str_claim("sub"), Some("x"));
/// assert_eq!(view.exp_unix(), Some(2_000_000_000));
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] (field `token`) when it is not three base64url parts with JSON
/// header and claims, or longer than [`MAX_JWT_LEN`]. The message never quotes the token.
pub fn decode_unverified(token: &str) -> Result<JwtView, Error> {
    let bad = |why: &str| Error::InvalidInput {
        field: "token",
        problem: format!("not a JWT: {why}"),
    };
    let token = token.trim();
    if token.len() > MAX_JWT_LEN {
        return Err(bad("longer than 16 KiB"));
    }
    if token.split('.').count() != 3 {
        return Err(bad("expected three dot-separated parts"));
    }
    // The header is read as plain JSON (not jsonwebtoken's `Header`) so that any `alg`, even one
    // jsonwebtoken does not know, can still be shown.
    let first = token.split('.').next().unwrap_or_default();
    let header: Map<String, Value> = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(first.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the header is not base64url JSON"))?;
    let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|_| bad("the claims are not base64url JSON"))?;
    Ok(JwtView { header, claims })
}

impl JwtView {
    /// A string claim.
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// let view = ficx::jwt::decode_unverified(&jwt(r#"{"tid":"22222222-2222-4222-8222-222222222222","exp":1}"#))?;
    /// assert_eq!(view.str_claim("tid"), Some("22222222-2222-4222-8222-222222222222"));
    /// assert_eq!(view.str_claim("exp"), None); // a number, not a string
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric date claim (`exp`, `nbf`, `iat`) as Unix seconds.
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// let view = ficx::jwt::decode_unverified(&jwt(r#"{"iat":1700000000,"nbf":"1700000000"}"#))?;
    /// assert_eq!(view.time_claim("iat"), Some(1_700_000_000));
    /// assert_eq!(view.time_claim("nbf"), Some(1_700_000_000)); // numeric strings too
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn time_claim(&self, name: &str) -> Option<i64> {
        match self.claims.get(name)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// `exp` as Unix seconds.
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// let view = ficx::jwt::decode_unverified(&jwt(r#"{"exp":1800000000}"#))?;
    /// assert_eq!(view.exp_unix(), Some(1_800_000_000));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn exp_unix(&self) -> Option<i64> {
        self.time_claim("exp")
    }

    /// `exp` as a time.
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let view = ficx::jwt::decode_unverified(&jwt(r#"{"exp":1800000000}"#))?;
    /// assert_eq!(view.expires_on(), Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn expires_on(&self) -> Option<SystemTime> {
        self.exp_unix().map(from_unix)
    }

    /// `aud`, whether a string or the first of an array.
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// let view = ficx::jwt::decode_unverified(&jwt(r#"{"aud":["api://AzureADTokenExchange"]}"#))?;
    /// assert_eq!(view.audience(), Some("api://AzureADTokenExchange"));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn audience(&self) -> Option<&str> {
        match self.claims.get("aud")? {
            Value::String(s) => Some(s),
            Value::Array(a) => a.first().and_then(Value::as_str),
            _ => None,
        }
    }

    /// `roles` (empty when absent).
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// let view = ficx::jwt::decode_unverified(&jwt(r#"{"roles":["Application.Read.All","Orders.Read"]}"#))?;
    /// assert_eq!(view.roles(), ["Application.Read.All", "Orders.Read"]);
    /// assert!(ficx::jwt::decode_unverified(&jwt("{}"))?.roles().is_empty());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn roles(&self) -> Vec<&str> {
        match self.claims.get("roles") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// App-only or delegated: `idtyp=user` or any `scp` means delegated.
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// use ficx::jwt::{TokenKind, decode_unverified};
    /// // Cloud Shell hands out a user's token: not usable as a federated credential.
    /// assert_eq!(decode_unverified(&jwt(r#"{"idtyp":"user"}"#))?.kind(), TokenKind::Delegated);
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn kind(&self) -> TokenKind {
        if self.str_claim("idtyp") == Some("user") || self.claims.contains_key("scp") {
            TokenKind::Delegated
        } else {
            TokenKind::AppOnly
        }
    }

    /// Time left at `now`; `None` without `exp`, zero when expired.
    ///
    /// ```
    /// # use base64::Engine as _;
    /// # let jwt = |claims: &str| format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims));
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let view = ficx::jwt::decode_unverified(&jwt(r#"{"exp":1800000600}"#))?;
    /// let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// assert_eq!(view.remaining(now), Some(Duration::from_secs(600)));
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn remaining(&self, now: SystemTime) -> Option<Duration> {
        self.expires_on()
            .map(|e| e.duration_since(now).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#),
            e.encode(claims)
        )
    }

    #[test]
    fn claims() {
        let v = decode_unverified(&jwt(r#"{"aud":["api://AzureADTokenExchange"],"exp":2000000000,"idtyp":"app","roles":["A","B"]}"#)).unwrap();
        assert_eq!(v.audience(), Some("api://AzureADTokenExchange"));
        assert_eq!(v.exp_unix(), Some(2_000_000_000));
        assert_eq!(v.kind(), TokenKind::AppOnly);
        assert_eq!(v.roles(), ["A", "B"]);
        assert_eq!(v.header.get("kid").and_then(Value::as_str), Some("k1"));
        let d = decode_unverified(&jwt(r#"{"scp":"user_impersonation"}"#)).unwrap();
        assert_eq!(d.kind(), TokenKind::Delegated);
    }

    #[test]
    fn refusals_never_quote_the_token() {
        for bad in ["", "abc", "a.b", "a.b.c.d", "!!!.###.$$$"] {
            let e = decode_unverified(bad).unwrap_err();
            assert!(e.to_string().starts_with("invalid token: not a JWT"), "{e}");
        }
        let e = decode_unverified("secretish.secretish.secretish").unwrap_err();
        assert!(!e.to_string().contains("secretish"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,300}", parts in proptest::collection::vec("[A-Za-z0-9_-]{0,60}", 0..5)) {
            let _ = decode_unverified(&s);
            let _ = decode_unverified(&parts.join("."));
        }
    }
}
