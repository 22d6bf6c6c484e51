//! [`AccessToken`]: a token as a `secrecy` secret with its expiry, refresh time and type.
//!
//! `AccessToken` has no `Display` and no `Serialize`; its `Debug` prints the times and
//! `[redacted]` for the token, so logging one by accident leaks nothing.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};

use crate::clock::unix;

/// An access token (an app-only token for a foreign tenant, or an MI token used as an assertion).
///
/// ```
/// use ficx::AccessToken;
/// use secrecy::{ExposeSecret, SecretString};
/// use std::time::{Duration, SystemTime};
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
/// let t = AccessToken::new(SecretString::from("eyJ...".to_string()), now + Duration::from_secs(3599), None, "Bearer");
/// assert_eq!(format!("{t:?}").contains("eyJ"), false); // Debug never shows the token
/// let header = format!("Bearer {}", t.secret().expose_secret()); // only where it goes on the wire
/// assert_eq!(t.remaining(now), Duration::from_secs(3599));
/// # let _ = header;
/// ```
#[derive(Clone)]
pub struct AccessToken {
    /// Shared, so a cache hit hands out the token without copying (and later zeroizing) it.
    secret: Arc<Counted>,
    expires_on: SystemTime,
    refresh_on: Option<SystemTime>,
    token_type: Cow<'static, str>,
}

impl AccessToken {
    /// Build a token. `refresh_on` is when ficx will refresh it ahead of expiry, if known.
    ///
    /// ```
    /// use ficx::AccessToken;
    /// use std::time::{Duration, SystemTime};
    /// let expires = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_003_599);
    /// let t = AccessToken::new("eyJ0eXAi…".to_string().into(), expires, None, "Bearer");
    /// assert_eq!(t.expires_on_unix(), 1_800_003_599);
    /// ```
    pub fn new(
        secret: SecretString,
        expires_on: SystemTime,
        refresh_on: Option<SystemTime>,
        token_type: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            secret: Arc::new(Counted(Arc::new(secret))),
            expires_on,
            refresh_on,
            token_type: token_type.into(),
        }
    }

    /// The token itself.
    ///
    /// ```
    /// use secrecy::ExposeSecret;
    /// # let t = ficx::AccessToken::new("eyJ0eXAi…".to_string().into(), std::time::SystemTime::now(), None, "Bearer");
    /// let header = format!("{} {}", t.token_type(), t.secret().expose_secret());
    /// assert!(header.starts_with("Bearer eyJ"));
    /// ```
    ///
    /// # Security
    /// This is a bearer credential: whoever holds it acts as the app in the foreign tenant. Send
    /// it only in an `Authorization` header over https; never log or persist it in clear.
    pub fn secret(&self) -> &SecretString {
        &self.secret.0
    }

    /// When the token expires.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let expires = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// let t = ficx::AccessToken::new("eyJ…".to_string().into(), expires, None, "Bearer");
    /// assert_eq!(t.expires_on(), expires);
    /// ```
    pub fn expires_on(&self) -> SystemTime {
        self.expires_on
    }

    /// `expires_on` as Unix seconds.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let expires = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// let t = ficx::AccessToken::new("eyJ…".to_string().into(), expires, None, "Bearer");
    /// assert_eq!(t.expires_on_unix(), 1_800_000_000);
    /// ```
    pub fn expires_on_unix(&self) -> i64 {
        unix(self.expires_on)
    }

    /// When ficx plans to refresh the token ahead of expiry (server `refresh_in`, half-life,
    /// or 5 minutes before expiry; see [`crate::cache`]).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let expires = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_003_600);
    /// let refresh = expires - Duration::from_secs(1_800); // e.g. the server's refresh_in
    /// let t = ficx::AccessToken::new("eyJ…".to_string().into(), expires, Some(refresh), "Bearer");
    /// assert_eq!(t.refresh_on(), Some(refresh));
    /// ```
    pub fn refresh_on(&self) -> Option<SystemTime> {
        self.refresh_on
    }

    /// The token type, normally `Bearer`.
    ///
    /// ```
    /// let t = ficx::AccessToken::new("eyJ…".to_string().into(), std::time::SystemTime::now(), None, "Bearer");
    /// assert_eq!(t.token_type(), "Bearer");
    /// ```
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// Time left before expiry at `now` (zero when already expired).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// let t = ficx::AccessToken::new("eyJ…".to_string().into(), now + Duration::from_secs(60), None, "Bearer");
    /// assert_eq!(t.remaining(now), Duration::from_secs(60));
    /// assert_eq!(t.remaining(now + Duration::from_secs(3600)), Duration::ZERO); // expired
    /// ```
    pub fn remaining(&self, now: SystemTime) -> Duration {
        self.expires_on.duration_since(now).unwrap_or_default()
    }

    /// The same token text behind a reference count of its own (on a cache line of its own):
    /// the cache keeps one fork per core, so concurrent hits never bounce one counter between
    /// cores.
    pub(crate) fn fork(&self) -> Self {
        Self {
            secret: Arc::new(Counted(self.secret.0.clone())),
            expires_on: self.expires_on,
            refresh_on: self.refresh_on,
            token_type: self.token_type.clone(),
        }
    }

    /// Whether both share one reference count (one fork).
    #[cfg(test)]
    pub(crate) fn same_fork(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.secret, &other.secret)
    }

    pub(crate) fn with_refresh_on(mut self, refresh_on: Option<SystemTime>) -> Self {
        self.refresh_on = refresh_on;
        self
    }

    /// The length of the token text (safe to log).
    ///
    /// ```
    /// let t = ficx::AccessToken::new("eyJ.x.y".to_string().into(), std::time::SystemTime::now(), None, "Bearer");
    /// assert_eq!(t.len(), 7); // safe to log, unlike the token
    /// ```
    pub fn len(&self) -> usize {
        self.secret.0.expose_secret().len()
    }

    /// True when the token text is empty.
    ///
    /// ```
    /// let t = ficx::AccessToken::new(String::new().into(), std::time::SystemTime::now(), None, "Bearer");
    /// assert!(t.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.secret.0.expose_secret().is_empty()
    }
}

/// The shared token text, aligned so that the reference count of the `Arc` holding it owns its
/// cache line (two forks' counters never share a line).
#[repr(align(64))]
struct Counted(Arc<SecretString>);

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_on", &unix(self.expires_on))
            .field("refresh_on", &self.refresh_on.map(unix))
            .field("token_type", &self.token_type)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_unix;

    #[test]
    fn debug_is_redacted() {
        let t = AccessToken::new(
            SecretString::from("eyJ.secret-token.sig".to_string()),
            from_unix(2_000_000_000),
            None,
            "Bearer",
        );
        let d = format!("{t:?} {t:#?}");
        assert!(!d.contains("secret-token"), "{d}");
        assert!(d.contains("2000000000"));
        assert_eq!(
            t.remaining(from_unix(1_999_999_990)),
            Duration::from_secs(10)
        );
        assert_eq!(t.len(), 20);
    }
}
