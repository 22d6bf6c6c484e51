//! What MI endpoints answer: the success body (straight into a `SecretString`, then the body
//! buffer is zeroed), the identity echo check, and every known error-body shape
//! (`{"error","error_description"}`, `{"error":{"code","message"}}`, `{"statusCode","message"}`).

use std::borrow::Cow;
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Leg, MiError, SourceKind, redact};
use crate::http::Reply;
use crate::ids::ManagedIdentity;
use crate::token::AccessToken;

/// Longest error-body excerpt kept.
const EXCERPT_CHARS: usize = 300;

/// The identity fields an MI reply may echo.
#[derive(Deserialize)]
struct Echo {
    client_id: Option<Value>,
    object_id: Option<Value>,
    msi_res_id: Option<Value>,
}

fn invalid(url: &str, detail: impl Into<String>) -> Error {
    Error::InvalidResponse {
        leg: Leg::ManagedIdentity,
        url: url.to_owned(),
        detail: detail.into(),
    }
}

pub(crate) fn token_type(t: Option<&str>) -> Cow<'static, str> {
    match t {
        None => Cow::Borrowed("Bearer"),
        Some(t) if t.eq_ignore_ascii_case("bearer") => Cow::Borrowed("Bearer"),
        Some(t) => Cow::Owned(
            t.chars()
                .filter(|c| c.is_ascii_graphic())
                .take(32)
                .collect(),
        ),
    }
}

/// Parse a 200 answer. `echo_required`: the reply must name the identity asked for (Arc).
pub(crate) fn parse_success(
    reply: Reply,
    identity: &ManagedIdentity,
    echo_required: bool,
    now: SystemTime,
    url: &str,
) -> Result<AccessToken, Error> {
    let (token, echo) = crate::token_body::parse::<Echo>(reply, Leg::ManagedIdentity, now, url)?;
    check_echo(
        &echo.client_id,
        &echo.object_id,
        &echo.msi_res_id,
        identity,
        echo_required,
        url,
    )?;
    Ok(token)
}

fn as_str(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(|v| v.as_str())
}

fn check_echo(
    client_id: &Option<Value>,
    object_id: &Option<Value>,
    msi_res_id: &Option<Value>,
    identity: &ManagedIdentity,
    required: bool,
    url: &str,
) -> Result<(), Error> {
    let (field, got) = match identity {
        ManagedIdentity::SystemAssigned => return Ok(()),
        ManagedIdentity::ClientId(_) => ("client_id", as_str(client_id)),
        ManagedIdentity::ObjectId(_) => ("object_id", as_str(object_id)),
        ManagedIdentity::ResourceId(_) => ("msi_res_id", as_str(msi_res_id)),
    };
    let want = identity.value().unwrap_or_default();
    match got {
        Some(g) if g.eq_ignore_ascii_case(want) => Ok(()),
        Some(g) => Err(invalid(
            url,
            format!(
                "asked for {identity} but the token is for {field} {}; refusing a token for a different identity",
                redact(g, &[], 100)
            ),
        )),
        None if required => Err(invalid(
            url,
            format!(
                "asked for {identity} but the reply does not echo `{field}`; this endpoint may have answered for the system identity, so the token is refused"
            ),
        )),
        None => Ok(()),
    }
}

/// Turn a non-200 answer into an [`Error::ManagedIdentity`].
pub(crate) fn to_error(
    reply: &Reply,
    kind: SourceKind,
    identity: &ManagedIdentity,
    secrets: &[&str],
    now: SystemTime,
) -> Error {
    let (code, message) = error_fields(&reply.body, secrets);
    Error::ManagedIdentity(Box::new(MiError {
        source_kind: kind,
        identity: identity.to_string(),
        status: reply.status,
        code,
        message,
        retry_after: reply.retry_after(now),
    }))
}

/// `(code, message)` from any known error-body shape, or an excerpt of a non-JSON body.
pub(crate) fn error_fields(body: &[u8], secrets: &[&str]) -> (Option<String>, Option<String>) {
    let clean = |s: &str| Some(redact(s, secrets, EXCERPT_CHARS));
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        return (None, if text.is_empty() { None } else { clean(text) });
    };
    let s = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    match v.get("error") {
        Some(Value::Object(inner)) => (
            s(inner.get("code")).and_then(|c| clean(&c)),
            s(inner.get("message")).and_then(|m| clean(&m)),
        ),
        Some(_) => (
            s(v.get("error")).and_then(|c| clean(&c)),
            s(v.get("error_description"))
                .or_else(|| s(v.get("message")))
                .and_then(|m| clean(&m)),
        ),
        None => (
            s(v.get("code")).and_then(|c| clean(&c)),
            s(v.get("message"))
                .or_else(|| s(v.get("Message")))
                .and_then(|m| clean(&m)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_unix;
    use reqwest::header::HeaderMap;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_shapes() {
        assert_eq!(
            error_fields(
                br#"{"error":"invalid_request","error_description":"Identity not found"}"#,
                &[]
            ),
            (
                Some("invalid_request".into()),
                Some("Identity not found".into())
            )
        );
        assert_eq!(
            error_fields(br#"{"error":{"code":"SecretHeaderNotFound","message":"Secret is not found in the request headers.","correlationId":"x"}}"#, &[]),
            (Some("SecretHeaderNotFound".into()), Some("Secret is not found in the request headers.".into()))
        );
        assert_eq!(
            error_fields(br#"{"statusCode":400,"message":"No User Assigned Identity found","correlationId":"x"}"#, &[]),
            (None, Some("No User Assigned Identity found".into()))
        );
        let (c, m) = error_fields(b"<html>bad gateway hdr-secret</html>", &["hdr-secret"]);
        assert_eq!(
            (c, m.as_deref()),
            (None, Some("<html>bad gateway [redacted]</html>"))
        );
    }

    #[test]
    fn success_and_echo() {
        let now = from_unix(1_800_000_000);
        let uami = ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001").unwrap();
        let ok = parse_success(reply(200, r#"{"access_token":"eyJ.a.b","expires_in":"86399","token_type":"Bearer","client_id":"A1A1A1A1-0000-4000-8000-000000000001"}"#), &uami, true, now, "u").unwrap();
        assert_eq!(ok.expires_on_unix(), 1_800_086_399);
        let wrong = parse_success(reply(200, r#"{"access_token":"eyJ.a.b","expires_in":"86399","client_id":"a3a3a3a3-0000-4000-8000-000000000003"}"#), &uami, false, now, "u").unwrap_err();
        assert!(wrong.to_string().contains("different identity"), "{wrong}");
        let missing = parse_success(
            reply(200, r#"{"access_token":"eyJ.a.b","expires_in":"86399"}"#),
            &uami,
            true,
            now,
            "u",
        )
        .unwrap_err();
        assert!(missing.to_string().contains("does not echo"), "{missing}");
        assert!(
            parse_success(
                reply(200, r#"{"access_token":"eyJ.a.b","expires_in":"86399"}"#),
                &uami,
                false,
                now,
                "u"
            )
            .is_ok()
        );
        let e = parse_success(
            reply(200, r#"{"expires_in":"86399"}"#),
            &uami,
            false,
            now,
            "u",
        )
        .unwrap_err();
        assert!(e.to_string().contains("no `access_token`"));
        let e = parse_success(
            reply(200, r#"{"access_token":"eyJ.secret-part.sig""#),
            &uami,
            false,
            now,
            "u",
        )
        .unwrap_err();
        assert!(!e.to_string().contains("secret-part"), "{e}");
        let e = parse_success(
            reply(200, r#"{"access_token":"x","expires_on":"1"}"#),
            &uami,
            false,
            now,
            "u",
        );
        assert!(e.is_ok(), "expires_on=1 means 1 s from now");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let now = from_unix(1_800_000_000);
            let _ = error_fields(&body, &["s3cret"]);
            let r = Reply { status: 200, headers: HeaderMap::new(), body };
            let _ = parse_success(r, &ManagedIdentity::SystemAssigned, false, now, "u");
        }
    }
}
