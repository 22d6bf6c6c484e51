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
pub const LOG_CAPACITY: usize = 100_000;

/// Which listener a request arrived on.
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
    pub fn entries(&self) -> Vec<LogEntry> {
        let q = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().cloned().collect()
    }

    /// How many retained entries there are.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// True when nothing is retained.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Exact number of requests to `e` since start (or the last [`RequestLog::clear`]).
    pub fn count(&self, e: Endpoint) -> usize {
        self.counts[e.index()].load(Ordering::Relaxed) as usize
    }

    /// Every endpoint's count (endpoints with zero included).
    pub fn counts(&self) -> Vec<(Endpoint, usize)> {
        Endpoint::ALL.iter().map(|&e| (e, self.count(e))).collect()
    }

    /// Requests to paths no endpoint serves.
    pub fn unmatched_count(&self) -> usize {
        self.unmatched.load(Ordering::Relaxed) as usize
    }

    /// How many retained entries satisfy `pred`.
    pub fn count_where(&self, pred: impl Fn(&LogEntry) -> bool) -> usize {
        let q = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().filter(|e| pred(e)).count()
    }

    /// Forget every entry and reset the counters.
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
