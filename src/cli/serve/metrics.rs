//! The server's counters and the Prometheus text exposition of `/metrics` (format 0.0.4,
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>). Written by hand: a few
//! counters and one histogram do not justify a metrics crate. Nothing here holds a token.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use ficx::ExchangerStats;

/// Upper bounds (seconds) of the latency histogram's buckets: a cache hit lands in the first,
/// a cold exchange against Entra typically in 0.1–1 s.
pub(crate) const LATENCY_BUCKETS_SECS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Per bucket (not cumulative); rendered cumulatively.
    buckets: [u64; LATENCY_BUCKETS_SECS.len()],
    count: u64,
    sum_secs: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = LATENCY_BUCKETS_SECS.iter().position(|b| secs <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum_secs += secs;
    }
}

/// The labels of `ficx_serve_token_failures_total`: HTTP status, failing leg, first AADSTS code.
type FailureLabels = (u16, &'static str, Option<u32>);

/// Everything `/metrics` shows besides the exchanger's own [`ExchangerStats`].
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    /// (HTTP status, failing leg, first AADSTS code) of failed token requests.
    failures: Mutex<BTreeMap<FailureLabels, u64>>,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    rate_limited: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    /// One finished request on `route`.
    pub(crate) fn request(&self, route: &'static str, status: u16, took: Duration) {
        *lock(&self.requests).entry((route, status)).or_default() += 1;
        lock(&self.latency)
            .entry(route)
            .or_default()
            .observe(took.as_secs_f64());
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Relaxed);
    }

    pub(crate) fn cache_miss(&self) {
        self.cache_misses.fetch_add(1, Relaxed);
    }

    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Relaxed);
    }

    /// A token request that failed after it reached the exchanger, on `leg`
    /// ([`super::routes::leg_name`]).
    pub(crate) fn failure(&self, status: u16, leg: &'static str, aadsts: Option<u32>) {
        *lock(&self.failures)
            .entry((status, leg, aadsts))
            .or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(&self, stats: &ExchangerStats, ready: bool) -> String {
        let mut o = String::with_capacity(4096);
        let family = |o: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };

        family(
            &mut o,
            "ficx_serve_requests_total",
            "counter",
            "HTTP requests by route and status.",
        );
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                o,
                "ficx_serve_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }

        family(
            &mut o,
            "ficx_serve_request_duration_seconds",
            "histogram",
            "Time to answer a request, by route.",
        );
        for (route, h) in lock(&self.latency).iter() {
            let mut cumulative = 0;
            for (bound, n) in LATENCY_BUCKETS_SECS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(
                    o,
                    "ficx_serve_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                o,
                "ficx_serve_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                o,
                "ficx_serve_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum_secs
            );
            let _ = writeln!(
                o,
                "ficx_serve_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }

        let counters: [(&str, &str, u64); 9] = [
            (
                "ficx_serve_cache_hits_total",
                "Token requests answered from the cache (no new exchange).",
                self.cache_hits.load(Relaxed),
            ),
            (
                "ficx_serve_cache_misses_total",
                "Token requests that needed an exchange (or joined one in flight).",
                self.cache_misses.load(Relaxed),
            ),
            (
                "ficx_serve_rate_limited_total",
                "Token requests refused with 429 by the rate limit.",
                self.rate_limited.load(Relaxed),
            ),
            (
                "ficx_serve_exchanges_total",
                "Token exchanges started at Entra (misses and refreshes).",
                stats.exchanges,
            ),
            (
                "ficx_serve_exchange_failures_total",
                "Token exchanges that failed after retries.",
                stats.failed_exchanges,
            ),
            (
                "ficx_serve_mi_fetches_total",
                "Managed-identity token fetches (the assertion).",
                stats.assertion_fetches,
            ),
            (
                "ficx_serve_mi_fetch_failures_total",
                "Managed-identity token fetches that failed after retries.",
                stats.failed_assertion_fetches,
            ),
            (
                "ficx_serve_background_refreshes_total",
                "Exchanges started ahead of expiry by refresh-ahead (callers kept the cached token).",
                stats.background_refreshes,
            ),
            (
                "ficx_serve_stale_served_total",
                "Times a still-valid token was served because its refresh failed.",
                stats.stale_served,
            ),
        ];
        for (name, help, v) in counters {
            family(&mut o, name, "counter", help);
            let _ = writeln!(o, "{name} {v}");
        }

        family(
            &mut o,
            "ficx_serve_token_failures_total",
            "counter",
            "Failed token requests by HTTP status, failing leg (managed_identity, exchange) and first AADSTS code (\"none\" when Entra gave none).",
        );
        for ((status, leg, code), n) in lock(&self.failures).iter() {
            let code = code.map_or_else(|| "none".to_owned(), |c| c.to_string());
            let _ = writeln!(
                o,
                "ficx_serve_token_failures_total{{status=\"{status}\",leg=\"{leg}\",aadsts=\"{code}\"}} {n}"
            );
        }

        family(
            &mut o,
            "ficx_serve_store_ops_total",
            "counter",
            "Shared token store (Redis) outcomes: hit, miss, write, lease (exchanged for the fleet), wait (on another replica's lease), wait_timeout, error (fell back to a direct exchange), undecryptable, bypassed (store cooling down after an error).",
        );
        let st = &stats.store;
        for (outcome, v) in [
            ("hit", st.hits),
            ("miss", st.misses),
            ("write", st.writes),
            ("lease", st.leases),
            ("wait", st.waits),
            ("wait_timeout", st.wait_timeouts),
            ("error", st.errors),
            ("undecryptable", st.undecryptable),
            ("bypassed", st.bypassed),
        ] {
            let _ = writeln!(o, "ficx_serve_store_ops_total{{outcome=\"{outcome}\"}} {v}");
        }

        family(
            &mut o,
            "ficx_serve_tenants",
            "gauge",
            "Tenants with a token cache.",
        );
        let _ = writeln!(o, "ficx_serve_tenants {}", stats.tenants);
        family(
            &mut o,
            "ficx_serve_ready",
            "gauge",
            "1 once the managed-identity token was fetched.",
        );
        let _ = writeln!(o, "ficx_serve_ready {}", u8::from(ready));
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request("app_service", 200, Duration::from_millis(3));
        m.request("app_service", 200, Duration::from_millis(300));
        m.request("app_service", 403, Duration::from_micros(100));
        m.cache_hit();
        m.cache_miss();
        m.failure(400, "exchange", Some(700016));
        m.failure(503, "managed_identity", None);
        let text = m.render(&ExchangerStats::default(), true);
        assert!(
            text.contains("ficx_serve_requests_total{route=\"app_service\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("ficx_serve_requests_total{route=\"app_service\",status=\"403\"} 1"));
        assert!(text.contains(
            "ficx_serve_request_duration_seconds_bucket{route=\"app_service\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "ficx_serve_request_duration_seconds_bucket{route=\"app_service\",le=\"0.005\"} 2"
        ));
        assert!(text.contains(
            "ficx_serve_request_duration_seconds_bucket{route=\"app_service\",le=\"+Inf\"} 3"
        ));
        assert!(text.contains("ficx_serve_cache_hits_total 1"));
        assert!(text.contains(
            "ficx_serve_token_failures_total{status=\"400\",leg=\"exchange\",aadsts=\"700016\"} 1"
        ));
        assert!(text.contains(
            "ficx_serve_token_failures_total{status=\"503\",leg=\"managed_identity\",aadsts=\"none\"} 1"
        ));
        assert!(text.contains("ficx_serve_ready 1"));
    }
}
