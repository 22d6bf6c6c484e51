//! What keeps the server cheap to abuse: the global token-bucket rate limit on token routes, the
//! constant-time secret check, and the size limits on what a request may carry.

use std::sync::Mutex;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio::time::Instant;

/// Default for `--rate-limit`: token requests per second over all clients (the burst is the same).
pub(crate) const DEFAULT_RATE_LIMIT_PER_SEC: u32 = 100;
/// Longest request target (path and query) accepted; longer gets 414.
pub(crate) const MAX_URI_BYTES: usize = 2048;
/// hyper's read buffer: a request head (line and headers) larger than this is refused with 431.
/// 8 KiB is hyper's floor and what most proxies allow.
pub(crate) const MAX_HEAD_BYTES: usize = 8 * 1024;
/// Shortest secret accepted from `--secret-file` or `FICX_SERVE_SECRET`.
pub(crate) const MIN_SECRET_LEN: usize = 16;
/// Bytes of randomness in a generated secret (printed as hex).
pub(crate) const GENERATED_SECRET_BYTES: usize = 32;

/// A token bucket: `rate` tokens a second, holding at most `rate`.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// `None` when `per_sec` is 0 (no limit).
    pub(crate) fn new(per_sec: u32) -> Option<Self> {
        (per_sec > 0).then(|| Self {
            rate: f64::from(per_sec),
            state: Mutex::new((f64::from(per_sec), Instant::now())),
        })
    }

    /// Take one token, or say how long until one is there.
    pub(crate) fn try_acquire(&self) -> Result<(), Duration> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(s.1).as_secs_f64() * self.rate;
        s.0 = (s.0 + refill).min(self.rate);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - s.0) / self.rate))
        }
    }
}

/// True when `given` is the secret. Constant time in the secret's content (the length is not
/// hidden; it is fixed by configuration and not worth hiding).
pub(crate) fn secret_matches(secret: &SecretString, given: &[u8]) -> bool {
    bool::from(secret.expose_secret().as_bytes().ct_eq(given))
}

/// A fresh random secret, hex-encoded.
pub(crate) fn generate_secret() -> anyhow::Result<SecretString> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; GENERATED_SECRET_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(SecretString::from(hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_refills_at_its_rate() {
        let l = RateLimiter::new(2).unwrap();
        assert!(l.try_acquire().is_ok());
        assert!(l.try_acquire().is_ok());
        let wait = l.try_acquire().unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(l.try_acquire().is_ok());
        assert!(RateLimiter::new(0).is_none());
    }

    #[test]
    fn secrets_compare_exactly() {
        let s = SecretString::from("0123456789abcdef".to_owned());
        assert!(secret_matches(&s, b"0123456789abcdef"));
        assert!(!secret_matches(&s, b"0123456789abcdeF"));
        assert!(!secret_matches(&s, b"0123456789abcde"));
        assert!(!secret_matches(&s, b""));
        let g = generate_secret().unwrap();
        assert_eq!(g.expose_secret().len(), GENERATED_SECRET_BYTES * 2);
    }
}
