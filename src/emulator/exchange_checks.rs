//! The token endpoint's checks on a jwt-bearer assertion, as pure functions over claims, FICs
//! and scope strings, so each AADSTS outcome is unit-tested without a server. The order in
//! which `authority.rs` calls them is the order Entra reports failures in.

use serde_json::{Map, Value};

use super::directory::Fic;
use super::entra_error::EntraFailure;

/// Clock skew allowed on the assertion's `nbf`/`exp`.
pub(crate) const CLOCK_SKEW_SECS: i64 = 300;

/// The claims of an assertion the checks look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssertionClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    /// `aud` as a list (a JWT may carry a string or an array).
    pub(crate) aud: Vec<String>,
    pub(crate) tid: Option<String>,
    pub(crate) nbf: Option<i64>,
    pub(crate) exp: Option<i64>,
    /// `idtyp` is `user`, or `scp` is present.
    pub(crate) delegated: bool,
}

/// Pull the claims out; missing `iss`, `sub`, `aud` or `exp` make the JWT malformed (50027).
pub(crate) fn read_claims(m: &Map<String, Value>) -> Result<AssertionClaims, EntraFailure> {
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let n = |k: &str| {
        m.get(k)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    };
    let iss = s("iss").ok_or_else(|| EntraFailure::malformed("no iss claim"))?;
    let sub = s("sub").ok_or_else(|| EntraFailure::malformed("no sub claim"))?;
    let aud = match m.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    if aud.is_empty() {
        return Err(EntraFailure::malformed("no aud claim"));
    }
    let exp = n("exp");
    if exp.is_none() {
        return Err(EntraFailure::malformed("no exp claim"));
    }
    let delegated =
        s("idtyp").is_some_and(|t| t.eq_ignore_ascii_case("user")) || m.contains_key("scp");
    Ok(AssertionClaims {
        iss,
        sub,
        aud,
        tid: s("tid"),
        nbf: n("nbf"),
        exp,
        delegated,
    })
}

/// The assertion must be inside `[nbf - skew, exp + skew]` (AADSTS700024).
pub(crate) fn check_time(c: &AssertionClaims, now: i64) -> Result<(), EntraFailure> {
    let early = c.nbf.is_some_and(|nbf| now < nbf - CLOCK_SKEW_SECS);
    let late = c.exp.is_some_and(|exp| now > exp + CLOCK_SKEW_SECS);
    if early || late {
        Err(EntraFailure::time_range(now, c.nbf, c.exp))
    } else {
        Ok(())
    }
}

/// Only app-only tokens may act as FICs for an Entra issuer (AADSTS700229).
pub(crate) fn check_app_only(c: &AssertionClaims) -> Result<(), EntraFailure> {
    if c.delegated {
        Err(EntraFailure::delegated(&c.iss))
    } else {
        Ok(())
    }
}

/// Match the assertion against an app's FICs, exactly and case-sensitively:
/// no FICs → 70025; no issuer match → 700211; no subject match among those → 700213; no
/// audience match among those → 700212; a match not yet visible → 70021.
pub(crate) fn match_fic<'a>(
    fics: &'a [Fic],
    c: &AssertionClaims,
    now: i64,
    client_id: &str,
    app_name: &str,
) -> Result<&'a Fic, EntraFailure> {
    if fics.is_empty() {
        return Err(EntraFailure::no_fics(client_id, app_name));
    }
    let by_iss: Vec<&Fic> = fics.iter().filter(|f| f.issuer == c.iss).collect();
    if by_iss.is_empty() {
        return Err(EntraFailure::no_issuer_match(&c.iss));
    }
    let by_sub: Vec<&Fic> = by_iss.into_iter().filter(|f| f.subject == c.sub).collect();
    if by_sub.is_empty() {
        return Err(EntraFailure::no_subject_match(&c.sub));
    }
    let by_aud: Vec<&Fic> = by_sub
        .into_iter()
        .filter(|f| f.audiences.iter().any(|a| c.aud.contains(a)))
        .collect();
    if by_aud.is_empty() {
        return Err(EntraFailure::no_audience_match(&c.aud.join(" ")));
    }
    by_aud
        .into_iter()
        .find(|f| f.visible_at <= now)
        .ok_or_else(|| EntraFailure::no_record(&c.iss, &c.sub, &c.aud.join(" ")))
}

/// OIDC scopes that carry no resource and are ignored next to a `.default` scope.
const RESERVED_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// The resource of a client-credentials scope: exactly one `<resource>/.default`.
/// Several → 70011; no `/.default` → 1002012; empty → 900144.
pub(crate) fn parse_scope(scope: &str) -> Result<&str, EntraFailure> {
    let parts: Vec<&str> = scope
        .split_whitespace()
        .filter(|s| !RESERVED_SCOPES.contains(s))
        .collect();
    match parts.as_slice() {
        [] => Err(EntraFailure::missing_param("scope")),
        [one] => match one.strip_suffix("/.default") {
            Some(res) if !res.is_empty() => Ok(res),
            _ => Err(EntraFailure::no_default_suffix(one)),
        },
        _ => Err(EntraFailure::several_scopes(scope)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0";
    const SUB: &str = "b1b1b1b1-0000-4000-8000-000000000001";
    const AUD: &str = "api://AzureADTokenExchange";

    fn claims(extra: Value) -> AssertionClaims {
        let mut m =
            json!({"iss": ISS, "sub": SUB, "aud": AUD, "exp": 2000, "nbf": 1000, "tid": "t"});
        if let (Value::Object(base), Value::Object(more)) = (&mut m, extra) {
            base.extend(more);
        }
        read_claims(m.as_object().unwrap()).unwrap()
    }

    fn fic(iss: &str, sub: &str, aud: &str, visible_at: i64) -> Fic {
        Fic {
            name: "f".into(),
            issuer: iss.into(),
            subject: sub.into(),
            audiences: vec![aud.into()],
            visible_at,
        }
    }

    fn code<T: std::fmt::Debug>(r: Result<T, EntraFailure>) -> u32 {
        r.unwrap_err().code
    }

    #[test]
    fn claims_are_read() {
        let c = claims(json!({"aud": [AUD, "other"]}));
        assert_eq!(c.aud, [AUD, "other"]);
        assert!(!c.delegated);
        assert!(claims(json!({"idtyp": "user"})).delegated);
        assert!(claims(json!({"scp": "user_impersonation"})).delegated);
        for missing in ["iss", "sub", "aud", "exp"] {
            let mut m = json!({"iss": ISS, "sub": SUB, "aud": AUD, "exp": 2000});
            m.as_object_mut().unwrap().remove(missing);
            assert_eq!(
                code(read_claims(m.as_object().unwrap())),
                50027,
                "{missing}"
            );
        }
    }

    #[test]
    fn time_window_with_skew() {
        let c = claims(json!({}));
        assert!(check_time(&c, 1500).is_ok());
        assert!(check_time(&c, 2000 + CLOCK_SKEW_SECS).is_ok());
        assert_eq!(code(check_time(&c, 2001 + CLOCK_SKEW_SECS)), 700024);
        assert!(check_time(&c, 1000 - CLOCK_SKEW_SECS).is_ok());
        assert_eq!(code(check_time(&c, 999 - CLOCK_SKEW_SECS)), 700024);
        assert_eq!(code(check_app_only(&claims(json!({"scp": "x"})))), 700229);
    }

    #[test]
    fn fic_matching_order() {
        let c = claims(json!({}));
        assert_eq!(code(match_fic(&[], &c, 0, "app", "n")), 70025);
        assert_eq!(
            code(match_fic(
                &[fic(&format!("{ISS}/"), SUB, AUD, 0)],
                &c,
                0,
                "a",
                "n"
            )),
            700211
        );
        assert_eq!(
            code(match_fic(
                &[fic(ISS, &SUB.to_uppercase(), AUD, 0)],
                &c,
                0,
                "a",
                "n"
            )),
            700213
        );
        assert_eq!(
            code(match_fic(
                &[fic(ISS, SUB, "api://AzureADTokenExchangeUSGov", 0)],
                &c,
                0,
                "a",
                "n"
            )),
            700212
        );
        assert_eq!(
            code(match_fic(&[fic(ISS, SUB, AUD, 100)], &c, 99, "a", "n")),
            70021
        );
        assert_eq!(
            match_fic(&[fic(ISS, SUB, AUD, 100)], &c, 100, "a", "n")
                .unwrap()
                .name,
            "f"
        );
        let msg = match_fic(&[fic(ISS, SUB, "x", 0)], &c, 0, "a", "n")
            .unwrap_err()
            .message;
        assert!(msg.contains(&format!("'{AUD}'")), "{msg}");
    }

    #[test]
    fn scopes() {
        assert_eq!(
            parse_scope("https://graph.microsoft.com/.default").unwrap(),
            "https://graph.microsoft.com"
        );
        assert_eq!(
            parse_scope("api://orders/.default openid profile").unwrap(),
            "api://orders"
        );
        assert_eq!(code(parse_scope("a/.default b/.default")), 70011);
        assert_eq!(code(parse_scope("https://graph.microsoft.com")), 1002012);
        assert_eq!(code(parse_scope("/.default")), 1002012);
        assert_eq!(code(parse_scope("  ")), 900144);
    }
}
