//! Scripted faults per endpoint (consumed first in, first out) and the per-endpoint expiry-shape
//! overrides of the MI endpoints. How a fault is acted out on the wire lives in `serve.rs`.
//!
//! JSON shape (control API): `{"endpoint":"token","fault":{"kind":"status","status":429,
//! "retry_after":{"seconds":2}},"times":2}`; `times` is a count or `"always"`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Endpoint;

/// A `Retry-After` style header to attach to a [`Fault::Status`] reply.
///
/// ```
/// use ficx::emulator::{Fault, RetryAfter};
/// // Throttling the way Entra's gateway does it.
/// let throttle = Fault::Status { status: 429, retry_after: Some(RetryAfter::XMsMillis(1500)), body: None };
/// assert_eq!(throttle.kind(), "status");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryAfter {
    /// `Retry-After: N` (seconds).
    Seconds(u64),
    /// `Retry-After: <IMF-fixdate>` of this Unix time.
    HttpDate(u64),
    /// `retry-after-ms: N`.
    Millis(u64),
    /// `x-ms-retry-after-ms: N`.
    XMsMillis(u64),
}

/// What to do instead of (or before) answering normally.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::{Fault, Times};
/// use std::time::Duration;
/// emu.faults().inject(Endpoint::Imds, Fault::Delay(Duration::from_millis(50)), Times::Next(1));
/// emu.faults().inject(Endpoint::Token, Fault::Html { status: 502 }, Times::Always);
/// assert_eq!((emu.faults().pending(Endpoint::Imds), emu.faults().pending(Endpoint::Token)), (1, 1));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultWire", into = "FaultWire")]
pub enum Fault {
    /// Answer with this status, an optional retry header, and `body` (default: the endpoint's own
    /// error shape).
    Status {
        /// HTTP status.
        status: u16,
        /// Optional retry header.
        retry_after: Option<RetryAfter>,
        /// Body to send verbatim (as JSON content type).
        body: Option<String>,
    },
    /// Wait (real time), then answer normally.
    Delay(Duration),
    /// Never send response headers (until shutdown).
    Hang,
    /// Close the connection without any response.
    DropConnection,
    /// Send the headers and part of the real body, then abort the connection.
    ResetMidBody,
    /// A complete response whose body is the real JSON cut in half.
    TruncatedBody,
    /// 200 with a JSON body of exactly this many bytes.
    OversizedBody {
        /// Body size in bytes.
        bytes: usize,
    },
    /// An HTML error page with this status (as a proxy or gateway would send).
    Html {
        /// HTTP status.
        status: u16,
    },
    /// 200 with JSON that lacks `access_token`.
    MissingFields,
}

impl Fault {
    /// The kind name used in JSON and in the log (`status`, `delay`, `hang`, ...).
    ///
    /// ```
    /// use ficx::emulator::Fault;
    /// assert_eq!(Fault::DropConnection.kind(), "drop_connection");
    /// assert_eq!(Fault::OversizedBody { bytes: 2 << 20 }.kind(), "oversized_body");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Status { .. } => "status",
            Fault::Delay(_) => "delay",
            Fault::Hang => "hang",
            Fault::DropConnection => "drop_connection",
            Fault::ResetMidBody => "reset_mid_body",
            Fault::TruncatedBody => "truncated_body",
            Fault::OversizedBody { .. } => "oversized_body",
            Fault::Html { .. } => "html",
            Fault::MissingFields => "missing_fields",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum FaultWire {
    Status {
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<RetryAfter>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    Delay {
        ms: u64,
    },
    Hang,
    DropConnection,
    ResetMidBody,
    TruncatedBody,
    OversizedBody {
        bytes: usize,
    },
    Html {
        status: u16,
    },
    MissingFields,
}

impl TryFrom<FaultWire> for Fault {
    type Error = String;
    fn try_from(w: FaultWire) -> Result<Self, String> {
        let check = |s: u16| {
            if (100..=999).contains(&s) {
                Ok(s)
            } else {
                Err(format!("status {s} is not an HTTP status"))
            }
        };
        Ok(match w {
            FaultWire::Status {
                status,
                retry_after,
                body,
            } => Fault::Status {
                status: check(status)?,
                retry_after,
                body,
            },
            FaultWire::Delay { ms } => Fault::Delay(Duration::from_millis(ms)),
            FaultWire::Hang => Fault::Hang,
            FaultWire::DropConnection => Fault::DropConnection,
            FaultWire::ResetMidBody => Fault::ResetMidBody,
            FaultWire::TruncatedBody => Fault::TruncatedBody,
            FaultWire::OversizedBody { bytes } => Fault::OversizedBody { bytes },
            FaultWire::Html { status } => Fault::Html {
                status: check(status)?,
            },
            FaultWire::MissingFields => Fault::MissingFields,
        })
    }
}

impl From<Fault> for FaultWire {
    fn from(f: Fault) -> Self {
        match f {
            Fault::Status {
                status,
                retry_after,
                body,
            } => FaultWire::Status {
                status,
                retry_after,
                body,
            },
            Fault::Delay(d) => FaultWire::Delay {
                ms: d.as_millis() as u64,
            },
            Fault::Hang => FaultWire::Hang,
            Fault::DropConnection => FaultWire::DropConnection,
            Fault::ResetMidBody => FaultWire::ResetMidBody,
            Fault::TruncatedBody => FaultWire::TruncatedBody,
            Fault::OversizedBody { bytes } => FaultWire::OversizedBody { bytes },
            Fault::Html { status } => FaultWire::Html { status },
            Fault::MissingFields => FaultWire::MissingFields,
        }
    }
}

/// How many requests a fault rule applies to.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::{Fault, Times};
/// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
/// emu.faults().inject(Endpoint::Imds, Fault::Status { status: 503, retry_after: None, body: None }, Times::Next(1));
/// imds.token(defaults::EXCHANGE_AUDIENCE).await?; // retried past the one failure
/// assert_eq!(emu.faults().pending(Endpoint::Imds), 0); // used up
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The next N requests (N = 0 is ignored).
    Next(u32),
    /// Every request until cleared (rules queued behind it never run).
    Always,
}

impl Serialize for Times {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Times::Next(n) => s.serialize_u32(*n),
            Times::Always => s.serialize_str("always"),
        }
    }
}

impl<'de> Deserialize<'de> for Times {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum W {
            N(u32),
            S(String),
        }
        match W::deserialize(d)? {
            W::N(n) => Ok(Times::Next(n)),
            W::S(s) if s == "always" => Ok(Times::Always),
            W::S(s) => Err(serde::de::Error::custom(format!(
                "times: expected a count or \"always\", got {s:?}"
            ))),
        }
    }
}

/// The expiry fields an MI endpoint writes (protocol.md §2.5 lists every shape clients meet).
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::ExpiryFormat;
/// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
/// // Azure ML on Windows writes `expires_on` as a US-style date; ficx reads it.
/// emu.faults().set_expiry_format(Endpoint::Imds, ExpiryFormat::MlDateAmPm);
/// let token = imds.token(defaults::EXCHANGE_AUDIENCE).await?;
/// assert!(token.remaining(std::time::SystemTime::now()).as_secs() > 3600);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryFormat {
    /// The endpoint's own shape (IMDS/Arc/Cloud Shell: `expires_in`, `expires_on`, `not_before`
    /// as strings; App Service: `expires_on` string; Azure ML and Service Fabric: `expires_on`
    /// number).
    #[default]
    Default,
    /// Only `expires_on`, epoch seconds as a string.
    EpochString,
    /// Only `expires_on`, epoch seconds as a number.
    EpochNumber,
    /// Only `expires_in`, seconds as a string.
    SecondsString,
    /// Only `expires_in`, seconds as a number.
    SecondsNumber,
    /// Only `expires_on`, `MM/DD/YYYY HH:MM:SS +00:00` (Azure ML on Linux).
    MlDate,
    /// Only `expires_on`, `M/D/YYYY H:MM:SS AM +00:00` (Azure ML on Windows).
    MlDateAmPm,
    /// Only `expires_on`, `YYYY-MM-DD HH:MM:SS`.
    YmdHms,
    /// Only `expires_on`, RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`).
    Rfc3339,
}

#[derive(Debug, Clone)]
struct Rule {
    fault: Fault,
    times: Times,
}

/// Fault rules and expiry overrides of one emulator run.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::{Fault, Faults, Times};
/// let faults: &Faults = emu.faults();
/// faults.inject(Endpoint::Jwks, Fault::Hang, Times::Always);
/// faults.clear();
/// assert_eq!(faults.pending(Endpoint::Jwks), 0);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct Faults {
    rules: Mutex<HashMap<Endpoint, VecDeque<Rule>>>,
    armed: AtomicUsize,
    expiry: Mutex<HashMap<Endpoint, ExpiryFormat>>,
    refresh_in: Mutex<HashSet<Endpoint>>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules = self
            .rules
            .lock()
            .map(|r| r.values().map(VecDeque::len).sum::<usize>())
            .unwrap_or(0);
        f.debug_struct("Faults")
            .field("pending_rules", &rules)
            .finish()
    }
}

impl Faults {
    /// Queue a fault for `e`. Rules run in the order injected; a rule with
    /// [`Times::Next`]`(n)` is used up after n requests.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// emu.faults().inject(Endpoint::Imds, Fault::MissingFields, Times::Next(1));
    /// assert!(imds.token(defaults::EXCHANGE_AUDIENCE).await.is_err()); // 200 without access_token: not retried
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, e: Endpoint, f: Fault, t: Times) {
        if t == Times::Next(0) {
            return;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules
            .entry(e)
            .or_default()
            .push_back(Rule { fault: f, times: t });
        self.armed.fetch_add(1, Ordering::SeqCst);
    }

    /// Drop every fault rule and every expiry-format / `refresh_in` override.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::{ExpiryFormat, Fault, Times};
    /// emu.faults().inject(Endpoint::Token, Fault::Hang, Times::Always);
    /// emu.faults().set_expiry_format(Endpoint::Imds, ExpiryFormat::Rfc3339);
    /// emu.faults().clear(); // rules and overrides
    /// assert_eq!(emu.faults().pending(Endpoint::Token), 0);
    /// assert_eq!(emu.faults().expiry_format(Endpoint::Imds), ExpiryFormat::Default);
    /// # Ok(()) }
    /// ```
    pub fn clear(&self) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.clear();
        self.armed.store(0, Ordering::SeqCst);
        self.expiry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.refresh_in
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Drop the fault rules of one endpoint.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// emu.faults().inject(Endpoint::Imds, Fault::Hang, Times::Always);
    /// emu.faults().inject(Endpoint::Token, Fault::Hang, Times::Always);
    /// emu.faults().clear_endpoint(Endpoint::Imds);
    /// assert_eq!((emu.faults().pending(Endpoint::Imds), emu.faults().pending(Endpoint::Token)), (0, 1));
    /// # Ok(()) }
    /// ```
    pub fn clear_endpoint(&self, e: Endpoint) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = rules.remove(&e) {
            self.armed.fetch_sub(q.len(), Ordering::SeqCst);
        }
    }

    /// Rules still queued for `e`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::{Fault, Times};
    /// for status in [500, 503] {
    ///     emu.faults().inject(Endpoint::AppService, Fault::Status { status, retry_after: None, body: None }, Times::Next(1));
    /// }
    /// assert_eq!(emu.faults().pending(Endpoint::AppService), 2);
    /// # Ok(()) }
    /// ```
    pub fn pending(&self, e: Endpoint) -> usize {
        let rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.get(&e).map_or(0, VecDeque::len)
    }

    /// Make the MI endpoint `e` write its expiry in shape `f`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::ExpiryFormat;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// emu.faults().set_expiry_format(Endpoint::Imds, ExpiryFormat::SecondsNumber); // only `expires_in`
    /// let token = imds.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// assert!(token.remaining(std::time::SystemTime::now()).as_secs() > 86_000);
    /// # Ok(()) }
    /// ```
    pub fn set_expiry_format(&self, e: Endpoint, f: ExpiryFormat) {
        self.expiry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(e, f);
    }

    /// The expiry shape `e` currently writes.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// use ficx::emulator::ExpiryFormat;
    /// assert_eq!(emu.faults().expiry_format(Endpoint::AzureMl), ExpiryFormat::Default);
    /// emu.faults().set_expiry_format(Endpoint::AzureMl, ExpiryFormat::MlDate);
    /// assert_eq!(emu.faults().expiry_format(Endpoint::AzureMl), ExpiryFormat::MlDate);
    /// # Ok(()) }
    /// ```
    pub fn expiry_format(&self, e: Endpoint) -> ExpiryFormat {
        self.expiry
            .lock()
            .map(|m| m.get(&e).copied().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Make the MI endpoint `e` add (or stop adding) `refresh_in` (half the remaining lifetime,
    /// a number) to its replies.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// emu.faults().set_refresh_in(Endpoint::Imds, true); // half the remaining lifetime
    /// let token = imds.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// let early = token.expires_on().duration_since(token.refresh_on().unwrap())?;
    /// assert!((43_100..=43_200).contains(&early.as_secs()));
    /// # Ok(()) }
    /// ```
    pub fn set_refresh_in(&self, e: Endpoint, on: bool) {
        let mut s = self.refresh_in.lock().unwrap_or_else(|p| p.into_inner());
        if on {
            s.insert(e);
        } else {
            s.remove(&e);
        }
    }

    /// Whether `e` adds `refresh_in`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert!(!emu.faults().refresh_in(Endpoint::Imds));
    /// emu.faults().set_refresh_in(Endpoint::Imds, true);
    /// assert!(emu.faults().refresh_in(Endpoint::Imds));
    /// # Ok(()) }
    /// ```
    pub fn refresh_in(&self, e: Endpoint) -> bool {
        self.refresh_in
            .lock()
            .map(|s| s.contains(&e))
            .unwrap_or(false)
    }

    /// Take the fault for the next request to `e`, if any.
    pub(crate) fn take(&self, e: Endpoint) -> Option<Fault> {
        if self.armed.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let q = rules.get_mut(&e)?;
        let rule = q.front_mut()?;
        let fault = rule.fault.clone();
        if let Times::Next(n) = &mut rule.times {
            *n -= 1;
            if *n == 0 {
                q.pop_front();
                self.armed.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_counts() {
        let f = Faults::default();
        assert!(f.take(Endpoint::Token).is_none());
        f.inject(Endpoint::Token, Fault::Hang, Times::Next(2));
        f.inject(Endpoint::Token, Fault::DropConnection, Times::Next(1));
        f.inject(Endpoint::Token, Fault::MissingFields, Times::Next(0));
        assert_eq!(f.take(Endpoint::Imds), None);
        assert_eq!(f.take(Endpoint::Token), Some(Fault::Hang));
        assert_eq!(f.take(Endpoint::Token), Some(Fault::Hang));
        assert_eq!(f.take(Endpoint::Token), Some(Fault::DropConnection));
        assert_eq!(f.take(Endpoint::Token), None);
        f.inject(Endpoint::Imds, Fault::Html { status: 502 }, Times::Always);
        for _ in 0..3 {
            assert_eq!(f.take(Endpoint::Imds), Some(Fault::Html { status: 502 }));
        }
        f.clear();
        assert_eq!(f.take(Endpoint::Imds), None);
    }

    #[test]
    fn json_shapes() {
        let f: Fault =
            serde_json::from_str(r#"{"kind":"status","status":429,"retry_after":{"seconds":2}}"#)
                .unwrap();
        assert_eq!(
            f,
            Fault::Status {
                status: 429,
                retry_after: Some(RetryAfter::Seconds(2)),
                body: None
            }
        );
        let d: Fault = serde_json::from_str(r#"{"kind":"delay","ms":1500}"#).unwrap();
        assert_eq!(d, Fault::Delay(Duration::from_millis(1500)));
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"kind":"delay","ms":1500}"#
        );
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"status","status":7}"#).is_err());
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"boom"}"#).is_err());
        assert_eq!(serde_json::from_str::<Times>("3").unwrap(), Times::Next(3));
        assert_eq!(
            serde_json::from_str::<Times>("\"always\"").unwrap(),
            Times::Always
        );
        assert!(serde_json::from_str::<Times>("\"never\"").is_err());
        let e: ExpiryFormat = serde_json::from_str("\"ml_date_am_pm\"").unwrap();
        assert_eq!(e, ExpiryFormat::MlDateAmPm);
    }
}
