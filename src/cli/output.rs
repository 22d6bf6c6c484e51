//! Output helpers: human durations and times, and the ✓/✗ marks (plain text when stdout is not a
//! terminal is the same text: the marks are ordinary characters).

use std::time::Duration;

/// `1h 2m 3s`-style, at most two units.
pub(crate) fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s == 0 {
        let us = d.as_micros();
        return if us == 0 {
            format!("{} ns", d.as_nanos())
        } else if us < 1000 {
            format!("{us} µs")
        } else {
            format!("{:.1} ms", d.as_secs_f64() * 1000.0)
        };
    }
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{sec}s"),
        (0, _) => format!("{m}m {sec}s"),
        _ => format!("{h}h {m}m"),
    }
}

/// RFC 3339 UTC.
pub(crate) fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// A GUID shortened for narration: `11111111…`.
pub(crate) fn short(id: &str) -> String {
    if id.len() > 12 {
        format!("{}…", &id[..8])
    } else {
        id.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_secs(3599)), "59m 59s");
        assert_eq!(human_duration(Duration::from_secs(86_399)), "23h 59m");
        assert_eq!(human_duration(Duration::from_micros(420)), "420 µs");
        assert_eq!(human_duration(Duration::from_nanos(95)), "95 ns");
        assert_eq!(human_duration(Duration::from_micros(12_345)), "12.3 ms");
    }
}
