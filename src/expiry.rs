//! Expiry parsing for every shape MI endpoints and Entra are known to send (protocol.md §2.5):
//! `expires_on` else `expires_in`, each a JSON number or a string; numbers below 978307200
//! (2001-01-01) are seconds from now, larger ones Unix epoch seconds (MSAL.NET's rule);
//! non-numeric strings may be `MM/DD/YYYY HH:MM:SS +00:00` (Azure ML on Linux), its AM/PM form
//! (Windows), `YYYY-MM-DD HH:MM:SS` (UTC), or RFC 3339.

use std::time::{Duration, SystemTime};

use serde_json::Value;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::clock::{from_unix, unix};

/// Numeric values below this (2001-01-01T00:00:00Z) are durations, not epochs.
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ficx::emulator::{defaults, Emulator, EmulatorConfig, Endpoint};
/// # use ficx::Env;
/// # let emu = Emulator::start(EmulatorConfig::default_config()).await?;
/// // `emu`: a running ficx::emulator::Emulator (set-up hidden)
/// use ficx::emulator::{Fault, Times};
/// use ficx::{EPOCH_THRESHOLD_SECS, ManagedIdentitySource};
/// // An MI endpoint writing `"expires_on": 3600`: below the threshold, so a duration.
/// let body = r#"{"access_token":"eyJ0eXAiOiJKV1QifQ.e30.sig","expires_on":3600,"token_type":"Bearer","resource":"api://AzureADTokenExchange"}"#;
/// emu.faults().inject(Endpoint::Imds, Fault::Status { status: 200, retry_after: None, body: Some(body.into()) }, Times::Next(1));
/// let source = ManagedIdentitySource::builder().env(Env::from_vars(emu.env(Endpoint::Imds))).build()?;
/// let token = source.token(defaults::EXCHANGE_AUDIENCE).await?;
/// assert!(3600 < EPOCH_THRESHOLD_SECS);
/// assert!(token.remaining(std::time::SystemTime::now()).as_secs() <= 3600);
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
pub const EPOCH_THRESHOLD_SECS: i64 = 978_307_200;

/// Longest lifetime believed (10 years); anything beyond is a parse mistake.
const MAX_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

const ML_DATE: &[FormatItem<'static>] = format_description!(
    "[month]/[day]/[year] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
);
const ML_DATE_AMPM: &[FormatItem<'static>] = format_description!(
    "[month padding:none]/[day padding:none]/[year] [hour repr:12 padding:none]:[minute]:[second] [period] [offset_hour sign:mandatory]:[offset_minute]"
);
const ML_DATE_AMPM_PADDED: &[FormatItem<'static>] = format_description!(
    "[month]/[day]/[year] [hour repr:12]:[minute]:[second] [period] [offset_hour sign:mandatory]:[offset_minute]"
);
const YMD_HMS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// Why an expiry could not be read; names the field, never a value of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpiryError(pub(crate) String);

/// Parse one expiry value (number, numeric string, or date string) relative to `now`.
pub(crate) fn parse_value(v: &Value, now: SystemTime) -> Option<SystemTime> {
    let n = match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => match s.parse::<f64>() {
                    Ok(f) if f.is_finite() => Some(f as i64),
                    _ => return parse_date(s),
                },
            }
        }
        _ => None,
    }?;
    if n < 0 {
        return None;
    }
    if n < EPOCH_THRESHOLD_SECS {
        if n > MAX_LIFETIME_SECS {
            return None;
        }
        Some(now + Duration::from_secs(n as u64))
    } else {
        if n - unix(now) > MAX_LIFETIME_SECS {
            return None;
        }
        Some(from_unix(n))
    }
}

fn parse_date(s: &str) -> Option<SystemTime> {
    if s.len() > 64 {
        return None;
    }
    let dt = OffsetDateTime::parse(s, ML_DATE)
        .or_else(|_| OffsetDateTime::parse(s, ML_DATE_AMPM))
        .or_else(|_| OffsetDateTime::parse(s, ML_DATE_AMPM_PADDED))
        .or_else(|_| PrimitiveDateTime::parse(s, YMD_HMS).map(|p| p.assume_utc()))
        .or_else(|_| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339))
        .ok()?;
    Some(from_unix(dt.unix_timestamp()))
}

/// Read `expires_on`, else `expires_in`, from a JSON object.
pub(crate) fn parse_expiry(body: &Value, now: SystemTime) -> Result<SystemTime, ExpiryError> {
    let on = body.get("expires_on").filter(|v| !v.is_null());
    let inn = body.get("expires_in").filter(|v| !v.is_null());
    if on.is_none() && inn.is_none() {
        return Err(ExpiryError(
            "neither `expires_on` nor `expires_in` is present".into(),
        ));
    }
    if let Some(t) = on.and_then(|v| parse_value(v, now)) {
        return Ok(t);
    }
    if let Some(t) = inn.and_then(|v| parse_value(v, now)) {
        return Ok(t);
    }
    Err(ExpiryError(format!(
        "`{}` is not a number, an epoch, or a known date form",
        if on.is_some() {
            "expires_on"
        } else {
            "expires_in"
        }
    )))
}

/// Read `refresh_in` (seconds) when present and sensible.
pub(crate) fn parse_refresh_in(body: &Value) -> Option<Duration> {
    let n = match body.get("refresh_in")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }?;
    (n > 0 && n < MAX_LIFETIME_SECS as u64).then(|| Duration::from_secs(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn at(v: Value) -> Option<i64> {
        parse_expiry(&v, from_unix(NOW)).ok().map(unix)
    }

    #[test]
    fn every_shape() {
        assert_eq!(at(json!({"expires_on": "1800003600"})), Some(NOW + 3600));
        assert_eq!(at(json!({"expires_on": 1800003600})), Some(NOW + 3600));
        assert_eq!(at(json!({"expires_in": "3599"})), Some(NOW + 3599));
        assert_eq!(at(json!({"expires_in": 3599})), Some(NOW + 3599));
        assert_eq!(
            at(json!({"expires_on": "86399", "expires_in": "1"})),
            Some(NOW + 86399)
        );
        // 1800003600 = 2027-01-15T09:00:00Z
        assert_eq!(
            at(json!({"expires_on": "01/15/2027 09:00:00 +00:00"})),
            Some(NOW + 3600)
        );
        assert_eq!(
            at(json!({"expires_on": "1/15/2027 9:00:00 AM +00:00"})),
            Some(NOW + 3600)
        );
        assert_eq!(
            at(json!({"expires_on": "01/15/2027 09:00:00 AM +00:00"})),
            Some(NOW + 3600)
        );
        assert_eq!(
            at(json!({"expires_on": "2027-01-15 09:00:00"})),
            Some(NOW + 3600)
        );
        assert_eq!(
            at(json!({"expires_on": "2027-01-15T09:00:00Z"})),
            Some(NOW + 3600)
        );
        assert_eq!(
            at(json!({"expires_on": "2027-01-15T10:00:00+01:00"})),
            Some(NOW + 3600)
        );
        // expires_on unparseable, expires_in fine
        assert_eq!(
            at(json!({"expires_on": "soon", "expires_in": 60})),
            Some(NOW + 60)
        );
    }

    #[test]
    fn refusals() {
        assert!(at(json!({})).is_none());
        assert!(at(json!({"expires_on": "tomorrow"})).is_none());
        assert!(at(json!({"expires_on": -5})).is_none());
        assert!(at(json!({"expires_on": true})).is_none());
        assert!(at(json!({"expires_on": 99_999_999_999i64})).is_none());
        let e = parse_expiry(&json!({}), from_unix(NOW)).unwrap_err();
        assert!(e.0.contains("expires_on"));
    }

    #[test]
    fn refresh_in() {
        assert_eq!(
            parse_refresh_in(&json!({"refresh_in": 1800})),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(
            parse_refresh_in(&json!({"refresh_in": "60"})),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_refresh_in(&json!({"refresh_in": 0})), None);
        assert_eq!(parse_refresh_in(&json!({})), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,80}", n in proptest::num::i64::ANY, f in proptest::num::f64::ANY) {
            let now = from_unix(NOW);
            let _ = parse_expiry(&json!({"expires_on": s}), now);
            let _ = parse_expiry(&json!({"expires_in": n}), now);
            let _ = parse_expiry(&json!({"expires_on": f}), now);
            let _ = parse_expiry(&json!({"expires_on": s.clone(), "expires_in": s}), now);
        }

        #[test]
        fn epoch_round_trips(secs in EPOCH_THRESHOLD_SECS..(NOW + 5 * 365 * 86400)) {
            let now = from_unix(NOW);
            prop_assert_eq!(at(json!({"expires_on": secs})), Some(secs));
            prop_assert_eq!(at(json!({"expires_on": secs.to_string()})), Some(secs));
            let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let ml = dt.format(ML_DATE).unwrap();
            prop_assert_eq!(parse_expiry(&json!({"expires_on": ml}), now).ok().map(unix), Some(secs));
            let ampm = dt.format(ML_DATE_AMPM).unwrap();
            prop_assert_eq!(parse_expiry(&json!({"expires_on": ampm}), now).ok().map(unix), Some(secs));
        }
    }
    use proptest::prop_assert_eq;
}
