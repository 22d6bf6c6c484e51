//! Time, injected: the [`Clock`] trait, the real [`SystemClock`] and the test [`ManualClock`].
//!
//! This is the one module that reads the wall clock, so caches, retries and the emulator's token
//! lifetimes all follow whichever clock they are given. Retry back-off sleeps go through
//! [`Clock::sleep`] too: with a [`ManualClock`] a test asserts "waited 2 s as asked" in
//! microseconds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A boxed sleep future.
///
/// ```
/// use ficx::{Clock, ManualClock, clock::Sleep};
/// use std::time::Duration;
/// let clock = ManualClock::at_unix(1_700_000_000);
/// let sleep: Sleep = clock.sleep(Duration::from_secs(5));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// sleep.await; // virtual time: returns at once
/// # });
/// assert_eq!(clock.unix_secs(), 1_700_000_005);
/// ```
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time and of sleeps.
///
/// ```
/// use ficx::{Clock, ManualClock, SystemClock};
/// fn age(clock: &dyn Clock, since: std::time::SystemTime) -> u64 {
///     clock.now().duration_since(since).map_or(0, |d| d.as_secs())
/// }
/// let clock = ManualClock::at_unix(1_700_000_060);
/// assert_eq!(age(&clock, std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)), 60);
/// assert!(age(&SystemClock, std::time::UNIX_EPOCH) > 0);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current wall-clock time.
    ///
    /// ```
    /// use ficx::{Clock, ManualClock};
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let clock = ManualClock::at_unix(1_700_000_000);
    /// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    /// ```
    fn now(&self) -> SystemTime;
    /// A future that completes after `duration` has passed on this clock.
    ///
    /// ```
    /// use ficx::{Clock, ManualClock};
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let clock = ManualClock::at_unix(1_700_000_000);
    /// clock.sleep(Duration::from_secs(30)).await;
    /// assert_eq!(clock.sleeps(), vec![Duration::from_secs(30)]);
    /// # });
    /// ```
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// A shared clock handle.
///
/// ```
/// use ficx::{Clock, ManualClock, SharedClock};
/// use std::sync::Arc;
/// let manual = Arc::new(ManualClock::at_unix(1_700_000_000));
/// let shared: SharedClock = manual.clone(); // what builders take
/// manual.advance(std::time::Duration::from_secs(10));
/// assert_eq!(shared.now(), manual.now());
/// ```
pub type SharedClock = Arc<dyn Clock>;

/// The real clock: `SystemTime::now()` and `tokio::time::sleep`.
///
/// ```
/// use ficx::{Clock, SystemClock};
/// let before = std::time::SystemTime::now();
/// assert!(SystemClock.now() >= before);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when told to: by [`ManualClock::advance`], or, in the default
/// auto-advance mode, by every [`Clock::sleep`], which moves the clock forward by the requested
/// duration and returns at once (virtual time). Every sleep is recorded for assertions.
///
/// ```
/// use ficx::{Clock, ManualClock};
/// use std::time::Duration;
/// # tokio_test_block_on(async {
/// let clock = ManualClock::at_unix(1_700_000_000);
/// clock.sleep(Duration::from_secs(2)).await;
/// assert_eq!(clock.unix_secs(), 1_700_000_002);
/// assert_eq!(clock.total_slept(), Duration::from_secs(2));
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug)]
pub struct ManualClock {
    base: SystemTime,
    offset_nanos: AtomicU64,
    auto_advance: bool,
    sleeps: Mutex<Vec<Duration>>,
}

impl ManualClock {
    /// A clock standing at `unix_secs` seconds after the Unix epoch, auto-advancing on sleep.
    ///
    /// ```
    /// let clock = ficx::ManualClock::at_unix(1_700_000_000);
    /// assert_eq!(clock.unix_secs(), 1_700_000_000);
    /// ```
    pub fn at_unix(unix_secs: u64) -> Self {
        Self {
            base: UNIX_EPOCH + Duration::from_secs(unix_secs),
            offset_nanos: AtomicU64::new(0),
            auto_advance: true,
            sleeps: Mutex::new(Vec::new()),
        }
    }

    /// A clock standing at the current real time, auto-advancing on sleep.
    ///
    /// ```
    /// use ficx::{Clock, ManualClock};
    /// let real = std::time::SystemTime::now();
    /// let clock = ManualClock::starting_now();
    /// assert!(clock.now() >= real);
    /// ```
    pub fn starting_now() -> Self {
        let now = SystemClock.now();
        Self {
            base: now,
            offset_nanos: AtomicU64::new(0),
            auto_advance: true,
            sleeps: Mutex::new(Vec::new()),
        }
    }

    /// Make sleeps wait for real (tokio time) instead of advancing the clock; the clock then
    /// moves only through [`ManualClock::advance`].
    ///
    /// ```
    /// use ficx::{Clock, ManualClock};
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let clock = ManualClock::at_unix(1_700_000_000).without_auto_advance();
    /// clock.sleep(Duration::from_millis(1)).await; // a real (tokio) sleep
    /// assert_eq!(clock.unix_secs(), 1_700_000_000); // the clock did not move
    /// # });
    /// ```
    pub fn without_auto_advance(mut self) -> Self {
        self.auto_advance = false;
        self
    }

    /// Move the clock forward.
    ///
    /// ```
    /// let clock = ficx::ManualClock::at_unix(1_700_000_000);
    /// clock.advance(std::time::Duration::from_secs(3_600));
    /// assert_eq!(clock.unix_secs(), 1_700_003_600);
    /// assert!(clock.sleeps().is_empty()); // advancing is not sleeping
    /// ```
    pub fn advance(&self, by: Duration) {
        self.offset_nanos
            .fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }

    /// Seconds since the Unix epoch.
    ///
    /// ```
    /// let clock = ficx::ManualClock::at_unix(42);
    /// clock.advance(std::time::Duration::from_millis(1_500));
    /// assert_eq!(clock.unix_secs(), 43); // whole seconds
    /// ```
    pub fn unix_secs(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// Every sleep requested so far, in order.
    ///
    /// ```
    /// use ficx::{Clock, ManualClock};
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let clock = ManualClock::at_unix(0);
    /// clock.sleep(Duration::from_secs(1)).await;
    /// clock.sleep(Duration::from_secs(2)).await;
    /// assert_eq!(clock.sleeps(), [Duration::from_secs(1), Duration::from_secs(2)]);
    /// # });
    /// ```
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The sum of every sleep requested so far.
    ///
    /// ```
    /// use ficx::{Clock, ManualClock};
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let clock = ManualClock::at_unix(0);
    /// clock.sleep(Duration::from_secs(1)).await;
    /// clock.sleep(Duration::from_secs(2)).await;
    /// assert_eq!(clock.total_slept(), Duration::from_secs(3));
    /// # });
    /// ```
    pub fn total_slept(&self) -> Duration {
        self.sleeps().iter().sum()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.base + Duration::from_nanos(self.offset_nanos.load(Ordering::SeqCst))
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        if let Ok(mut s) = self.sleeps.lock() {
            s.push(duration);
        }
        if self.auto_advance {
            self.advance(duration);
            Box::pin(tokio::task::yield_now())
        } else {
            Box::pin(tokio::time::sleep(duration))
        }
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
}

/// Seconds since the Unix epoch of `t` (negative before 1970).
pub(crate) fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// The time `secs` seconds after the Unix epoch.
pub(crate) fn from_unix(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_advances_and_records() {
        let c = ManualClock::at_unix(100);
        c.advance(Duration::from_secs(5));
        assert_eq!(c.unix_secs(), 105);
        c.sleep(Duration::from_millis(1500)).await;
        assert_eq!(c.sleeps(), vec![Duration::from_millis(1500)]);
        assert_eq!(unix(c.now()), 106);
        assert_eq!(unix(from_unix(-5)), -5);
    }
}
