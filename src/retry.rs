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
///
/// ```
/// use ficx::{RetryPolicy, retry::IMDS_410_BUDGET_SECS};
/// // A short budget still waits out an IMDS 410 ("back within 70 s") for this long.
/// let policy = RetryPolicy::default().budget(std::time::Duration::from_secs(10));
/// assert!(policy.get_budget().as_secs() < IMDS_410_BUDGET_SECS);
/// ```
pub const IMDS_410_BUDGET_SECS: u64 = 75;
/// Longest `Retry-After` believed; anything longer is capped to this.
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// # let builder = emu.exchanger_builder();
/// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
/// use ficx::emulator::{Fault, RetryAfter, Times};
/// use ficx::retry::MAX_RETRY_AFTER_SECS;
/// let year = RetryAfter::Seconds(365 * 86_400);
/// emu.faults().inject(Endpoint::Token, Fault::Status { status: 429, retry_after: Some(year), body: None }, Times::Always);
/// let exchanger = builder.retry(ficx::RetryPolicy::none()).build()?;
/// let err = exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.unwrap_err();
/// assert_eq!(err.retry_after().unwrap().as_secs(), MAX_RETRY_AFTER_SECS); // capped
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
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
///
/// ```
/// use ficx::{RetryPolicy, retry::DEFAULT_MAX_RETRIES};
/// assert_eq!(RetryPolicy::default().get_max_retries(), DEFAULT_MAX_RETRIES);
/// ```
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// Default first back-off delay.
///
/// ```
/// use ficx::{RetryPolicy, retry::DEFAULT_INITIAL_DELAY_MS};
/// use std::time::Duration;
/// let explicit = RetryPolicy::default().initial_delay(Duration::from_millis(DEFAULT_INITIAL_DELAY_MS));
/// assert_eq!(explicit, RetryPolicy::default());
/// ```
pub const DEFAULT_INITIAL_DELAY_MS: u64 = 1000;
/// Default cap on one back-off delay.
///
/// ```
/// use ficx::{RetryPolicy, retry::DEFAULT_MAX_DELAY_SECS};
/// use std::time::Duration;
/// let explicit = RetryPolicy::default().max_delay(Duration::from_secs(DEFAULT_MAX_DELAY_SECS));
/// assert_eq!(explicit, RetryPolicy::default());
/// ```
pub const DEFAULT_MAX_DELAY_SECS: u64 = 30;
/// Default overall time budget of one leg's retries.
///
/// ```
/// use ficx::{RetryPolicy, retry::DEFAULT_BUDGET_SECS};
/// assert_eq!(RetryPolicy::default().get_budget().as_secs(), DEFAULT_BUDGET_SECS);
/// ```
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
    ///
    /// ```
    /// let policy = ficx::RetryPolicy::none();
    /// assert_eq!(policy.get_max_retries(), 0); // the first failure is returned as is
    /// ```
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// How many times a failed request is retried (default [`DEFAULT_MAX_RETRIES`]). IMDS 410 is
    /// retried past this until [`IMDS_410_BUDGET_SECS`] have passed.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// emu.faults().inject(Endpoint::Token, Fault::Status { status: 503, retry_after: None, body: None }, Times::Always);
    /// let clock = std::sync::Arc::new(ficx::ManualClock::starting_now()); // virtual back-off
    /// let exchanger = builder.clock(clock.clone()).retry(ficx::RetryPolicy::default().max_retries(2)).build()?;
    /// assert!(exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.is_err());
    /// assert_eq!(emu.log().count(Endpoint::Token), 3); // the first attempt and 2 retries
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first back-off delay, doubled on each retry (default [`DEFAULT_INITIAL_DELAY_MS`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// use std::time::Duration;
    /// emu.faults().inject(Endpoint::Token, Fault::Status { status: 503, retry_after: None, body: None }, Times::Next(3));
    /// let clock = std::sync::Arc::new(ficx::ManualClock::starting_now());
    /// let policy = ficx::RetryPolicy::default().initial_delay(Duration::from_millis(200)).jitter(false);
    /// let exchanger = builder.clock(clock.clone()).retry(policy).build()?;
    /// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert_eq!(clock.sleeps(), [200, 400, 800].map(Duration::from_millis)); // doubled each time
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// The cap on one back-off delay (default [`DEFAULT_MAX_DELAY_SECS`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// use std::time::Duration;
    /// emu.faults().inject(Endpoint::Token, Fault::Status { status: 503, retry_after: None, body: None }, Times::Next(3));
    /// let clock = std::sync::Arc::new(ficx::ManualClock::starting_now());
    /// let policy = ficx::RetryPolicy::default().max_delay(Duration::from_millis(1500)).jitter(false);
    /// let exchanger = builder.clock(clock.clone()).retry(policy).build()?;
    /// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
    /// assert_eq!(clock.sleeps(), [1000, 1500, 1500].map(Duration::from_millis)); // 2 s and 4 s capped
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The total time the retries of one request may take (default [`DEFAULT_BUDGET_SECS`]).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let builder = emu.exchanger_builder();
    /// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// use std::time::Duration;
    /// emu.faults().inject(Endpoint::Token, Fault::Status { status: 503, retry_after: None, body: None }, Times::Always);
    /// let clock = std::sync::Arc::new(ficx::ManualClock::starting_now());
    /// let policy = ficx::RetryPolicy::default().max_retries(100).budget(Duration::from_secs(10));
    /// let exchanger = builder.clock(clock.clone()).retry(policy).build()?;
    /// assert!(exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await.is_err());
    /// assert!(clock.total_slept() <= Duration::from_secs(10)); // gave up within the budget
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn budget(mut self, d: Duration) -> Self {
        self.budget = d;
        self
    }

    /// Randomise each delay down by up to 20 % so a fleet does not retry in step (default on).
    ///
    /// ```
    /// use ficx::RetryPolicy;
    /// let exact = RetryPolicy::default().jitter(false); // e.g. for tests asserting on delays
    /// assert_ne!(exact, RetryPolicy::default());
    /// assert_eq!(exact.jitter(true), RetryPolicy::default());
    /// ```
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The configured retry count.
    ///
    /// ```
    /// assert_eq!(ficx::RetryPolicy::default().max_retries(3).get_max_retries(), 3);
    /// ```
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The configured budget.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = ficx::RetryPolicy::default().budget(Duration::from_secs(20));
    /// assert_eq!(policy.get_budget(), Duration::from_secs(20));
    /// ```
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
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// # let builder = emu.exchanger_builder();
/// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
/// # use ficx::emulator::{Fault, Times};
/// # use std::sync::{Arc, Mutex};
/// emu.faults().inject(Endpoint::Token, Fault::Status { status: 503, retry_after: None, body: None }, Times::Next(1));
/// let events = Arc::new(Mutex::new(Vec::new()));
/// let seen = events.clone();
/// let exchanger = builder.clock(Arc::new(ficx::ManualClock::starting_now()))
///     .on_retry(Arc::new(move |e: &ficx::RetryEvent| seen.lock().unwrap().push((e.attempt, e.reason.clone()))))
///     .build()?;
/// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
/// let events = events.lock().unwrap();
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].0, 1); // first retry
/// assert!(events[0].1.contains("503"), "{}", events[0].1);
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
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
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// # let builder = emu.exchanger_builder();
/// // `builder`: an ExchangerBuilder aimed at `emu`, a running ficx::emulator (set-up hidden)
/// use ficx::emulator::{Fault, Times};
/// use std::sync::{Arc, atomic::{AtomicU32, Ordering}};
/// emu.faults().inject(Endpoint::Imds, Fault::Status { status: 500, retry_after: None, body: None }, Times::Next(2));
/// let waits = Arc::new(AtomicU32::new(0));
/// let counter = waits.clone();
/// let observer: ficx::RetryObserver = Arc::new(move |_event| { counter.fetch_add(1, Ordering::Relaxed); });
/// let exchanger = builder.clock(Arc::new(ficx::ManualClock::starting_now())).on_retry(observer).build()?;
/// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
/// assert_eq!(waits.load(Ordering::Relaxed), 2); // two MI retries
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
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
