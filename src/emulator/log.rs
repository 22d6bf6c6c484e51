//! The request log: one entry per request on any listener, with names only (header names, form
//! field names), never header or form values and never a token. Memory is bounded (a ring
//! buffer of [`LOG_CAPACITY`] entries); the per-endpoint counters stay exact.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::{Deserialize, Serialize, Serializer};

use super::Endpoint;

/// How many entries the log keeps before dropping the oldest.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::LOG_CAPACITY;
/// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
/// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
/// assert!(emu.log().len() <= LOG_CAPACITY); // the oldest entries go first; counts stay exact
/// # Ok(()) }
/// ```
pub const LOG_CAPACITY: usize = 100_000;

/// Which listener a request arrived on.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::Listener;
/// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
/// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
/// assert!(emu.log().entries().iter().all(|e| e.listener == Listener::Mi));
/// assert_eq!(Listener::AuthorityHttp.to_string(), "authority_http");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Listener {
    /// Plain-http MI listener.
    Mi,
    /// HTTPS authority listener.
    Authority,
    /// Plain-http authority listener (optional).
    AuthorityHttp,
    /// HTTPS Service Fabric listener.
    ServiceFabric,
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Listener::Mi => "mi",
            Listener::Authority => "authority",
            Listener::AuthorityHttp => "authority_http",
            Listener::ServiceFabric => "service_fabric",
        })
    }
}

fn unix_ms<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let ms = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    s.serialize_i64(ms)
}

/// One logged request.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// let exchanger = ficx::Exchanger::builder().client_id(defaults::APP_CLIENT_ID)
/// #   .managed_identity(ficx::ManagedIdentity::client_id(defaults::UAMI_TRUSTED_CLIENT_ID)?)
/// #   .env(ficx::Env::from_vars(emu.env(Endpoint::Imds)))
/// #   .http(ficx::HttpOptions::default().trust_roots(ficx::TrustRoots::ExtraOnly).ca_pem(emu.ca_pem()))
///     .authority_host(emu.authority_url()).build()?;
/// exchanger.token(defaults::CONTOSO_TENANT_DOMAIN, defaults::GRAPH_RESOURCE).await?;
/// let entry = emu.log().entries().into_iter().find(|e| e.endpoint == Some(Endpoint::Token)).unwrap();
/// assert_eq!((entry.status, entry.tenant.as_deref()), (Some(200), Some(defaults::CONTOSO_TENANT_DOMAIN)));
/// assert!(entry.form_fields.iter().any(|f| f == "client_assertion")); // names only, never values
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Sequence number, from 1, never reused within a run (not reset by `clear`).
    pub seq: u64,
    /// When it arrived, on the emulator's clock (JSON: Unix milliseconds).
    #[serde(serialize_with = "unix_ms", rename = "unix_ms")]
    pub time: SystemTime,
    /// Listener it arrived on.
    pub listener: Listener,
    /// Endpoint it addressed; `None` for unknown paths.
    pub endpoint: Option<Endpoint>,
    /// HTTP method.
    pub method: String,
    /// Path (no query).
    pub path: String,
    /// Query pairs (MI endpoints carry no secrets in the query).
    pub query: Vec<(String, String)>,
    /// Header names, lower case, in arrival order. Values are never logged.
    pub header_names: Vec<String>,
    /// Form field names of a form body. Values are never logged.
    pub form_fields: Vec<String>,
    /// HTTP status sent; `None` when no response head was sent (hang, dropped connection).
    pub status: Option<u16>,
    /// The fault applied, by kind name (`status`, `delay`, `hang`, ...).
    pub fault: Option<String>,
    /// Tenant segment of an authority URL, as given.
    pub tenant: Option<String>,
}

/// The request log of one emulator run.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
/// let log: &ficx::emulator::RequestLog = emu.log();
/// assert_eq!(log.count(Endpoint::Imds), 1);
/// assert_eq!(log.unmatched_count(), 0);
/// # Ok(()) }
/// ```
pub struct RequestLog {
    entries: Mutex<VecDeque<LogEntry>>,
    counts: [AtomicU64; Endpoint::ALL.len()],
    unmatched: AtomicU64,
    seq: AtomicU64,
    capacity: usize,
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLog")
            .field("retained", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Default for RequestLog {
    fn default() -> Self {
        Self::with_capacity(LOG_CAPACITY)
    }
}

impl RequestLog {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            unmatched: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn record(&self, entry: LogEntry) {
        match entry.endpoint {
            Some(e) => self.counts[e.index()].fetch_add(1, Ordering::Relaxed),
            None => self.unmatched.fetch_add(1, Ordering::Relaxed),
        };
        let mut q = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= self.capacity {
            q.pop_front();
        }
        q.push_back(entry);
    }

    /// A copy of the retained entries, oldest first.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// let entries = emu.log().entries();
    /// assert_eq!(entries[0].seq, 1);
    /// assert_eq!(entries[0].method, "GET");
    /// # Ok(()) }
    /// ```
    pub fn entries(&self) -> Vec<LogEntry> {
        let q = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().cloned().collect()
    }

    /// How many retained entries there are.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// assert_eq!(emu.log().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.entries.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// True when nothing is retained.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// assert!(emu.log().is_empty()); // nothing asked yet
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Exact number of requests to `e` since start (or the last [`RequestLog::clear`]).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// imds.token(defaults::EXCHANGE_AUDIENCE).await?; // cached by the client
    /// assert_eq!(emu.log().count(Endpoint::Imds), 1);
    /// # Ok(()) }
    /// ```
    pub fn count(&self, e: Endpoint) -> usize {
        self.counts[e.index()].load(Ordering::Relaxed) as usize
    }

    /// Every endpoint's count (endpoints with zero included).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// let busy: Vec<_> = emu.log().counts().into_iter().filter(|(_, n)| *n > 0).collect();
    /// assert_eq!(busy, [(Endpoint::Imds, 1)]);
    /// # Ok(()) }
    /// ```
    pub fn counts(&self) -> Vec<(Endpoint, usize)> {
        Endpoint::ALL.iter().map(|&e| (e, self.count(e))).collect()
    }

    /// Requests to paths no endpoint serves.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// // A client configured with a wrong path gets a 404 from no endpoint.
    /// let env = ficx::Env::from_vars([("IDENTITY_ENDPOINT", format!("{}/msi/tokens", emu.mi_url())),
    ///     ("IDENTITY_HEADER", emu.identity_header().to_string())]);
    /// let source = ficx::ManagedIdentitySource::builder().env(env).build()?;
    /// assert!(source.token(defaults::EXCHANGE_AUDIENCE).await.is_err());
    /// assert_eq!(emu.log().unmatched_count(), 1);
    /// # Ok(()) }
    /// ```
    pub fn unmatched_count(&self) -> usize {
        self.unmatched.load(Ordering::Relaxed) as usize
    }

    /// How many retained entries satisfy `pred`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// let with_metadata_header = emu.log().count_where(|e| e.header_names.iter().any(|h| h == "metadata"));
    /// assert_eq!(with_metadata_header, 1); // IMDS requires `Metadata: true`
    /// # Ok(()) }
    /// ```
    pub fn count_where(&self, pred: impl Fn(&LogEntry) -> bool) -> usize {
        let q = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().filter(|e| pred(e)).count()
    }

    /// Forget every entry and reset the counters.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
    /// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
    /// # let imds = ficx::ManagedIdentitySource::builder().env(ficx::Env::from_vars(emu.env(Endpoint::Imds))).build()?;
    /// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
    /// imds.token(defaults::EXCHANGE_AUDIENCE).await?;
    /// emu.log().clear();
    /// assert!(emu.log().is_empty() && emu.log().count(Endpoint::Imds) == 0);
    /// # Ok(()) }
    /// ```
    pub fn clear(&self) {
        let mut q = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        q.clear();
        for c in &self.counts {
            c.store(0, Ordering::Relaxed);
        }
        self.unmatched.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(log: &RequestLog, e: Option<Endpoint>) -> LogEntry {
        LogEntry {
            seq: log.next_seq(),
            time: SystemTime::UNIX_EPOCH,
            listener: Listener::Mi,
            endpoint: e,
            method: "GET".into(),
            path: "/".into(),
            query: vec![],
            header_names: vec![],
            form_fields: vec![],
            status: Some(200),
            fault: None,
            tenant: None,
        }
    }

    #[test]
    fn ring_buffer_keeps_exact_counts() {
        let log = RequestLog::with_capacity(3);
        for _ in 0..5 {
            log.record(entry(&log, Some(Endpoint::Imds)));
        }
        log.record(entry(&log, None));
        assert_eq!(log.len(), 3);
        assert_eq!(log.count(Endpoint::Imds), 5);
        assert_eq!(log.unmatched_count(), 1);
        assert_eq!(log.entries().last().unwrap().seq, 6);
        assert_eq!(log.count_where(|e| e.endpoint == Some(Endpoint::Imds)), 2);
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.count(Endpoint::Imds), 0);
        let json = serde_json::to_value(entry(&log, Some(Endpoint::Token))).unwrap();
        assert_eq!(json["endpoint"], "token");
        assert_eq!(json["unix_ms"], 0);
    }
}
