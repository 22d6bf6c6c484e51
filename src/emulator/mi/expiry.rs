//! The expiry fields of MI replies in every shape protocol.md §2.5 lists: each endpoint's own
//! default and the [`ExpiryFormat`] overrides tests switch on at runtime.

use serde_json::{Map, Value};

use crate::emulator::faults::ExpiryFormat;

/// Which expiry fields an endpoint writes when no override is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultShape {
    /// `expires_in`, `expires_on`, `not_before`, all strings (IMDS, Arc, Cloud Shell).
    ImdsStrings,
    /// `expires_on` as a string (App Service).
    EpochString,
    /// `expires_on` as a number (Azure ML, Service Fabric).
    EpochNumber,
}

pub(crate) fn fmt_time(unix: i64, f: ExpiryFormat) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else {
        return unix.to_string();
    };
    let (y, mo, d, h, mi, s) = (
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    );
    match f {
        ExpiryFormat::MlDate => format!("{mo:02}/{d:02}/{y:04} {h:02}:{mi:02}:{s:02} +00:00"),
        ExpiryFormat::MlDateAmPm => {
            let h12 = if h % 12 == 0 { 12 } else { h % 12 };
            let ampm = if h < 12 { "AM" } else { "PM" };
            format!("{mo}/{d}/{y:04} {h12}:{mi:02}:{s:02} {ampm} +00:00")
        }
        ExpiryFormat::YmdHms => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
        _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
    }
}

/// Write the expiry fields of a token expiring at `exp` (issued `nbf`) in shape `f`.
pub(crate) fn expiry_fields(
    body: &mut Map<String, Value>,
    f: ExpiryFormat,
    default: DefaultShape,
    now: i64,
    nbf: i64,
    exp: i64,
    refresh_in: bool,
) {
    let left = (exp - now).max(0);
    let s = |v: i64| Value::String(v.to_string());
    let n = |v: i64| Value::from(v);
    match f {
        ExpiryFormat::Default => match default {
            DefaultShape::ImdsStrings => {
                body.insert("expires_in".into(), s(left));
                body.insert("ext_expires_in".into(), s(left));
                body.insert("expires_on".into(), s(exp));
                body.insert("not_before".into(), s(nbf));
            }
            DefaultShape::EpochString => {
                body.insert("expires_on".into(), s(exp));
            }
            DefaultShape::EpochNumber => {
                body.insert("expires_on".into(), n(exp));
            }
        },
        ExpiryFormat::EpochString => {
            body.insert("expires_on".into(), s(exp));
        }
        ExpiryFormat::EpochNumber => {
            body.insert("expires_on".into(), n(exp));
        }
        ExpiryFormat::SecondsString => {
            body.insert("expires_in".into(), s(left));
        }
        ExpiryFormat::SecondsNumber => {
            body.insert("expires_in".into(), n(left));
        }
        other => {
            body.insert("expires_on".into(), Value::String(fmt_time(exp, other)));
        }
    }
    if refresh_in {
        body.insert("refresh_in".into(), n(left / 2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_shapes() {
        let exp = 1_700_003_600; // 2023-11-14 23:13:20 UTC
        let now = 1_700_000_000;
        let run = |f, d| {
            let mut m = Map::new();
            expiry_fields(&mut m, f, d, now, now, exp, false);
            Value::Object(m)
        };
        let v = run(ExpiryFormat::Default, DefaultShape::ImdsStrings);
        assert_eq!(v["expires_in"], "3600");
        assert_eq!(v["expires_on"], "1700003600");
        assert_eq!(v["not_before"], "1700000000");
        assert_eq!(
            run(ExpiryFormat::Default, DefaultShape::EpochNumber)["expires_on"],
            1_700_003_600
        );
        assert_eq!(
            run(ExpiryFormat::Default, DefaultShape::EpochString)["expires_on"],
            "1700003600"
        );
        assert_eq!(
            run(ExpiryFormat::EpochNumber, DefaultShape::ImdsStrings)["expires_on"],
            1_700_003_600
        );
        let secs = run(ExpiryFormat::SecondsNumber, DefaultShape::ImdsStrings);
        assert_eq!(secs["expires_in"], 3600);
        assert!(secs.get("expires_on").is_none());
        assert_eq!(
            run(ExpiryFormat::SecondsString, DefaultShape::EpochNumber)["expires_in"],
            "3600"
        );
        assert_eq!(
            run(ExpiryFormat::MlDate, DefaultShape::EpochNumber)["expires_on"],
            "11/14/2023 23:13:20 +00:00"
        );
        assert_eq!(
            run(ExpiryFormat::MlDateAmPm, DefaultShape::EpochNumber)["expires_on"],
            "11/14/2023 11:13:20 PM +00:00"
        );
        assert_eq!(
            run(ExpiryFormat::YmdHms, DefaultShape::EpochNumber)["expires_on"],
            "2023-11-14 23:13:20"
        );
        assert_eq!(
            run(ExpiryFormat::Rfc3339, DefaultShape::EpochNumber)["expires_on"],
            "2023-11-14T23:13:20Z"
        );
        assert_eq!(
            fmt_time(
                1_700_000_000 - 22 * 3600 - 13 * 60,
                ExpiryFormat::MlDateAmPm
            ),
            "11/14/2023 12:00:20 AM +00:00"
        );
        let mut m = Map::new();
        expiry_fields(
            &mut m,
            ExpiryFormat::Default,
            DefaultShape::EpochString,
            now,
            now,
            exp,
            true,
        );
        assert_eq!(m["refresh_in"], 1800);
    }
}
