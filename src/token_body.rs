//! The success body both legs share: `access_token`, `token_type` and the expiry fields, parsed
//! straight into a `SecretString`; the raw body buffer is zeroed afterwards. A leg that needs more
//! fields (the MI identity echo) reads them in the same pass through `X`.

use std::time::SystemTime;

use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Leg};
use crate::expiry::{parse_expiry, parse_refresh_in};
use crate::http::Reply;
use crate::mi::reply::token_type;
use crate::token::AccessToken;

#[derive(Deserialize)]
struct Body {
    access_token: Option<SecretString>,
    token_type: Option<String>,
    expires_on: Option<Value>,
    expires_in: Option<Value>,
    refresh_in: Option<Value>,
}

fn invalid(leg: Leg, url: &str, detail: impl Into<String>) -> Error {
    Error::InvalidResponse {
        leg,
        url: url.to_owned(),
        detail: detail.into(),
    }
}

/// Parse a 200 body into a token and the leg's extra fields `X`. Errors name fields, never values.
pub(crate) fn parse<X: DeserializeOwned>(
    mut reply: Reply,
    leg: Leg,
    now: SystemTime,
    url: &str,
) -> Result<(AccessToken, X), Error> {
    let parsed: Result<(Body, X), serde_json::Error> = serde_json::from_slice::<Body>(&reply.body)
        .and_then(|b| serde_json::from_slice::<X>(&reply.body).map(|x| (b, x)));
    reply.body.zeroize();
    let (body, extra) = parsed.map_err(|e| {
        invalid(
            leg,
            url,
            format!(
                "the 200 body is not the expected JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        )
    })?;
    let token = body
        .access_token
        .ok_or_else(|| invalid(leg, url, "the 200 body has no `access_token`"))?;
    if token.expose_secret().trim().is_empty() {
        return Err(invalid(leg, url, "`access_token` is empty"));
    }
    let mut fields = serde_json::Map::new();
    for (k, v) in [
        ("expires_on", body.expires_on),
        ("expires_in", body.expires_in),
        ("refresh_in", body.refresh_in),
    ] {
        if let Some(v) = v {
            fields.insert(k.into(), v);
        }
    }
    let fields = Value::Object(fields);
    let expires_on = parse_expiry(&fields, now).map_err(|e| invalid(leg, url, e.0))?;
    if expires_on <= now {
        return Err(invalid(
            leg,
            url,
            "the token it returned has already expired",
        ));
    }
    let token = AccessToken::new(
        token,
        expires_on,
        parse_refresh_in(&fields).map(|d| now + d),
        token_type(body.token_type.as_deref()),
    );
    Ok((token, extra))
}
