//! Entry points for the `cargo fuzz` targets in `fuzz/` (and usable by any harness): each takes
//! arbitrary bytes and drives one parser that sees untrusted input. None may panic or allocate
//! without bound. Not part of the supported API.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use secrecy::SecretString;

use crate::http::Reply;
use crate::ids::{ClientId, ManagedIdentity, TenantId};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// `jwt::decode_unverified` and the claim accessors.
pub fn jwt(data: &[u8]) {
    if let Ok(v) = crate::jwt::decode_unverified(&text(data)) {
        let _ = (
            v.exp_unix(),
            v.audience(),
            v.roles(),
            v.kind(),
            v.remaining(now()),
        );
    }
}

/// MI success and error bodies, with and without the identity echo check.
pub fn mi_reply(data: &[u8]) {
    let uami =
        ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001").expect("constant GUID");
    for (identity, echo) in [(ManagedIdentity::SystemAssigned, false), (uami, true)] {
        let reply = Reply {
            status: 200,
            headers: HeaderMap::new(),
            body: data.to_vec(),
        };
        let _ = crate::mi::reply::parse_success(reply, &identity, echo, now(), "u");
    }
    let _ = crate::mi::reply::error_fields(data, &["secret-value"]);
}

/// Expiry parsing: the bytes as `expires_on`, as `expires_in`, and as a JSON value.
pub fn expiry(data: &[u8]) {
    let s = text(data);
    let _ = crate::expiry::parse_expiry(&serde_json::json!({ "expires_on": s }), now());
    let _ = crate::expiry::parse_expiry(&serde_json::json!({ "expires_in": s }), now());
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = crate::expiry::parse_expiry(&serde_json::json!({ "expires_on": v }), now());
        let _ = crate::expiry::parse_refresh_in(&serde_json::json!({ "refresh_in": v }));
    }
}

/// `Retry-After` in all its headers.
pub fn retry_after(data: &[u8]) {
    let s = text(data);
    let mut parts = s.splitn(3, '\n');
    let (a, b, c) = (parts.next(), parts.next(), parts.next());
    let _ = crate::retry::parse_retry_after(a, b, c, now());
}

/// Entra's success and error bodies on the exchange leg.
pub fn entra_reply(data: &[u8]) {
    let tenant = TenantId::new("contoso.onmicrosoft.com").expect("constant tenant");
    let client = ClientId::new("c0c0c0c0-0000-4000-8000-00000000c0c0").expect("constant GUID");
    let assertion = SecretString::from("assertion-text".to_string());
    for status in [200u16, 400, 401, 429, 503] {
        let reply = Reply {
            status,
            headers: HeaderMap::new(),
            body: data.to_vec(),
        };
        if status == 200 {
            let _ = crate::exchange::parse_success(reply, now(), "u");
        } else {
            let _ = crate::exchange::parse_error(&reply, &tenant, &client, &assertion, now(), "u");
        }
    }
}

/// Every validated input the CLI and the builders accept: tenants, scopes, ids, clouds,
/// authority hosts, resource ids.
pub fn inputs(data: &[u8]) {
    let s = text(data);
    let _ = TenantId::new(&s);
    let _ = crate::scope::Scope::new(&s);
    let _ = ClientId::new(&s);
    let _ = crate::ids::ArmResourceId::new(&s);
    let _ = crate::ids::Cloud::from_name(&s);
    let _ = crate::ids::check_authority(&s);
    let _ = crate::http::parse_thumbprint(&s);
    let _ = crate::mi::arc::realm_path(&s);
}

/// The emulator's configuration parsers (TOML and JSON) and validation.
#[cfg(feature = "emulator")]
pub fn emulator_config(data: &[u8]) {
    let s = text(data);
    let _ = crate::emulator::EmulatorConfig::from_toml(&s);
    let _ = crate::emulator::EmulatorConfig::from_json(&s);
}
