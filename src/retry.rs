//! The single retry loop: which failures are retried (protocol.md §5.3), `Retry-After` parsing,
//! jittered exponential back-off, and the overall deadline, all on the injected [`Clock`].
//!
//! | failure | MI leg | exchange leg |
//! |---|---|---|
//! | connect error, reset, timeout | retried | retried |
//! | 404, 410 | retried on IMDS only (IMDS is updating; 410 keeps a ≥ 75 s budget) | not retried |
//! | 408, 429, 5xx | retried | retried |
//! | other 4xx (400, 401, 403, …), AADSTS configuration codes | never | never |
//! | TLS failure, body over the cap, unparseable body | never | never |
//!
//! `Retry-After` (seconds or HTTP-date), `retry-after-ms` and `x-ms-retry-after-ms` are honoured
//! as a lower bound on the next delay; when the server asks for longer than the remaining budget
//! the loop stops at once and the error carries the requested delay.

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::error::{Error, SourceKind};

/// Budget kept once IMDS has answered 410 ("back within 70 s", how-to-use-vm-token.md).
pub const IMDS_410_BUDGET_SECS: u64 = 75;
/// Longest `Retry-After` believed; anything longer is capped to this.
pub const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// How a leg retries transient failures.
///
/// ```
/// use ficx::RetryPolicy;
/// use std::time::Duration;
/// // Up to 3 retries, 500 ms, 1 s, 2 s apart (before jitter), at most 20 s in all.
/// let p = RetryPolicy::default()
///     .max_retries(3)
///     .initial_delay(Duration::from_millis(500))
///     .budget(Duration::from_secs(20));
/// assert_eq!(p.get_max_retries(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct RetryPolicy {
    max_retries: u32,
    initial_delay: Duration,
    max_delay: Duration,
    budget: Duration,
    jitter: bool,
}

/// Default retries per leg.
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// Default first back-off delay.
pub const DEFAULT_INITIAL_DELAY_MS: u64 = 1000;
/// Default cap on one back-off delay.
pub const DEFAULT_MAX_DELAY_SECS: u64 = 30;
/// Default overall time budget of one leg's retries.
pub const DEFAULT_BUDGET_SECS: u64 = 60;

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_delay: Duration::from_millis(DEFAULT_INITIAL_DELAY_MS),
            max_delay: Duration::from_secs(DEFAULT_MAX_DELAY_SECS),
            budget: Duration::from_secs(DEFAULT_BUDGET_SECS),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// How many times a failed request is retried (default [`DEFAULT_MAX_RETRIES`]). IMDS 410 is
    /// retried past this until [`IMDS_410_BUDGET_SECS`] have passed.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first back-off delay, doubled on each retry (default [`DEFAULT_INITIAL_DELAY_MS`]).
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// The cap on one back-off delay (default [`DEFAULT_MAX_DELAY_SECS`]).
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The total time the retries of one request may take (default [`DEFAULT_BUDGET_SECS`]).
    pub fn budget(mut self, d: Duration) -> Self {
        self.budget = d;
        self
    }

    /// Randomise each delay down by up to 20 % so a fleet does not retry in step (default on).
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The configured retry count.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The configured budget.
    pub fn get_budget(&self) -> Duration {
        self.budget
    }

    /// The back-off before retry number `attempt` (0-based), before `Retry-After` is applied.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_delay
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX));
        let capped = exp.min(self.max_delay);
        if self.jitter {
            capped.mul_f64(1.0 - 0.2 * fastrand::f64())
        } else {
            capped
        }
    }
}

/// Whether `e` may be retried on its leg (the table at the top of this module).
pub(crate) fn is_retryable(e: &Error) -> bool {
    e.is_transient()
}

fn is_imds_410(e: &Error) -> bool {
    e.managed_identity()
        .is_some_and(|m| m.source_kind == SourceKind::Imds && m.status == 410)
}

/// Parse the server's requested delay. Millisecond headers win over `Retry-After`; HTTP-dates
/// are relative to `now`; values are capped at [`MAX_RETRY_AFTER_SECS`]. Never panics.
pub(crate) fn parse_retry_after(
    retry_after: Option<&str>,
    retry_after_ms: Option<&str>,
    x_ms_retry_after_ms: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let cap = Duration::from_secs(MAX_RETRY_AFTER_SECS);
    let ms = |v: Option<&str>| {
        v.and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| Duration::from_secs_f64((f / 1000.0).min(cap.as_secs_f64())))
    };
    if let Some(d) = ms(x_ms_retry_after_ms).or_else(|| ms(retry_after_ms)) {
        return Some(d);
    }
    let v = retry_after?.trim();
    if v.len() > 64 {
        return None;
    }
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(cap));
    }
    if let Ok(f) = v.parse::<f64>() {
        return (f.is_finite() && f >= 0.0)
            .then(|| Duration::from_secs_f64(f.min(cap.as_secs_f64())));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or_default().min(cap))
}

/// What the loop tells an observer before each wait (the CLI draws a progress line from it).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryEvent {
    /// The retry about to happen (1 = first retry).
    pub attempt: u32,
    /// How long the loop will wait first.
    pub delay: Duration,
    /// The failure being retried (one line, no secrets).
    pub reason: String,
}

/// A callback told about each retry wait.
pub type RetryObserver = std::sync::Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// Run `op` until it succeeds, fails for good, or the policy's retries or budget run out.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    clock: &dyn Clock,
    observer: Option<&RetryObserver>,
    mut op: F,
) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let start = clock.now();
    let mut attempt: u32 = 0;
    let mut saw_410 = false;
    loop {
        let err = match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !is_retryable(&err) {
            return Err(err);
        }
        saw_410 |= is_imds_410(&err);
        let budget = if saw_410 {
            policy.budget.max(Duration::from_secs(IMDS_410_BUDGET_SECS))
        } else {
            policy.budget
        };
        if attempt >= policy.max_retries && !saw_410 {
            return Err(err);
        }
        let mut delay = policy.backoff(attempt);
        if let Some(ra) = err.retry_after() {
            delay = delay.max(ra);
        }
        let elapsed = clock.now().duration_since(start).unwrap_or_default();
        if elapsed + delay > budget {
            tracing::debug!(attempt, ?delay, ?elapsed, "retry budget exhausted");
            return Err(err);
        }
        attempt += 1;
        tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, error = %err, "retrying");
        if let Some(obs) = observer {
            obs(&RetryEvent {
                attempt,
                delay,
                reason: err.to_string(),
            });
        }
        clock.sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, from_unix};
    use crate::error::{EntraError, MiError};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn mi(status: u16, ra: Option<Duration>) -> Error {
        Error::ManagedIdentity(Box::new(MiError {
            source_kind: SourceKind::Imds,
            identity: "system-assigned".into(),
            status,
            code: None,
            message: None,
            retry_after: ra,
        }))
    }

    fn entra(status: u16) -> Error {
        Error::Exchange(Box::new(EntraError {
            tenant: "t".into(),
            client_id: "c".into(),
            status,
            error: "invalid_client".into(),
            codes: vec![700213],
            description: String::new(),
            trace_id: None,
            correlation_id: None,
            timestamp: None,
            error_uri: None,
            retry_after: None,
        }))
    }

    #[test]
    fn retry_after_forms() {
        let now = from_unix(1_784_000_000);
        assert_eq!(
            parse_retry_after(Some("2"), None, None, now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after(Some("2"), Some("1500"), None, now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after(None, Some("1500"), Some("250"), now),
            Some(Duration::from_millis(250))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            parse_retry_after(Some(&date), None, None, now),
            Some(Duration::from_secs(7))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(
            parse_retry_after(Some(&past), None, None, now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after(Some("999999999"), None, None, now),
            Some(Duration::from_secs(MAX_RETRY_AFTER_SECS))
        );
        assert_eq!(parse_retry_after(Some("soon"), Some("-1"), None, now), None);
        assert_eq!(parse_retry_after(None, None, None, now), None);
    }

    proptest::proptest! {
        #[test]
        fn retry_after_never_panics(a in ".{0,80}", b in ".{0,20}", c in ".{0,20}") {
            let _ = parse_retry_after(Some(&a), Some(&b), Some(&c), from_unix(1_784_000_000));
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default()
            .jitter(false)
            .max_delay(Duration::from_secs(5));
        let d: Vec<u64> = (0..5).map(|i| p.backoff(i).as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 5, 5]);
        let j = RetryPolicy::default();
        for _ in 0..100 {
            let b = j.backoff(1);
            assert!(b <= Duration::from_secs(2) && b >= Duration::from_millis(1600));
        }
        assert!(p.backoff(u32::MAX) <= Duration::from_secs(5));
    }

    #[tokio::test]
    async fn retries_transient_then_succeeds_honouring_retry_after() {
        let clock = ManualClock::at_unix(1_784_000_000);
        let calls = AtomicU32::new(0);
        let p = RetryPolicy::default().jitter(false);
        let r = run(&p, &clock, None, |_| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 => Err(mi(500, None)),
                    1 => Err(mi(429, Some(Duration::from_secs(7)))),
                    _ => Ok(42),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(r, 42);
        assert_eq!(
            clock.sleeps(),
            vec![Duration::from_secs(1), Duration::from_secs(7)]
        );
    }

    #[tokio::test]
    async fn never_retries_configuration_errors() {
        let clock = ManualClock::at_unix(1_784_000_000);
        let calls = AtomicU32::new(0);
        let e = run(&RetryPolicy::default(), &clock, None, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(entra(400)) }
        })
        .await
        .unwrap_err();
        assert_eq!(e.aadsts(), Some(700213));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn imds_410_keeps_a_75s_budget() {
        let clock = ManualClock::at_unix(1_784_000_000);
        let p = RetryPolicy::default()
            .jitter(false)
            .max_retries(2)
            .budget(Duration::from_secs(10));
        let calls = AtomicU32::new(0);
        let _ = run(&p, &clock, None, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(mi(410, None)) }
        })
        .await
        .unwrap_err();
        let total = clock.total_slept();
        assert!(
            total <= Duration::from_secs(IMDS_410_BUDGET_SECS),
            "{total:?}"
        );
        assert!(total >= Duration::from_secs(45), "{total:?}");
        assert!(calls.load(Ordering::SeqCst) > 3);
    }

    #[tokio::test]
    async fn stops_when_retry_after_exceeds_budget() {
        let clock = ManualClock::at_unix(1_784_000_000);
        let p = RetryPolicy::default().budget(Duration::from_secs(10));
        let calls = AtomicU32::new(0);
        let e = run(&p, &clock, None, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(mi(429, Some(Duration::from_secs(30)))) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    }

    #[tokio::test]
    async fn respects_max_retries() {
        let clock = ManualClock::at_unix(1_784_000_000);
        let calls = AtomicU32::new(0);
        let _ = run(&RetryPolicy::default().max_retries(2), &clock, None, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(entra(503)) }
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
