//! Azure Arc (HIMDS): a first call without `Authorization` gets 401 and
//! `WWW-Authenticate: Basic realm=<path of a fresh .key file>`; the second call sends
//! `Authorization: Basic <file content>`. Only the system identity exists; a UAMI selector is
//! answered for the system identity with its own ids echoed in `client_id`/`object_id`/
//! `msi_res_id`, as older agents do, so clients must check the echo (protocol.md §2.3).

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxState};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{
    DefaultShape, Selector, error_reply, has_metadata, mi_token, param, query_pairs, read_selector,
    reply, resource_known, strip_default, token_reply, unknown_resource_text,
};
use crate::emulator::Endpoint;
use crate::emulator::state::{ARC_KEYS_KEPT, State};

const E: Endpoint = Endpoint::AzureArc;

/// `api-version` values the agent accepts.
pub(crate) const API_VERSIONS: [&str; 3] = ["2019-11-01", "2020-06-01", "2021-02-01"];

fn random_hex(bytes: usize) -> String {
    use ring::rand::SecureRandom;
    let mut b = vec![0u8; bytes];
    // The OS RNG failing leaves no way to make a key.
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("system random source");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn challenge(st: &State) -> Response {
    let secret = random_hex(32);
    let path = st.arc.key_dir.join(format!("{}.key", random_hex(8)));
    if let Err(e) = std::fs::write(&path, &secret) {
        return error_reply(
            E,
            500,
            "unknown",
            &format!("cannot write the key file: {e}"),
        );
    }
    if let Ok(mut keys) = st.arc.keys.lock() {
        if keys.len() >= ARC_KEYS_KEPT
            && let Some((_, old)) = keys.pop_front()
        {
            let _ = std::fs::remove_file(old);
        }
        keys.push_back((secret, path.clone()));
    }
    let mut r = reply(
        401,
        &json!({"error": "unauthorized_client", "error_description": "Authorization header with a key from the challenge file is required"}),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("Basic realm={}", path.display())) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

fn key_valid(st: &State, auth: &str) -> bool {
    let Some(given) = auth.strip_prefix("Basic ").map(str::trim) else {
        return false;
    };
    st.arc.keys.lock().is_ok_and(|keys| {
        keys.iter()
            .map(|(k, _)| k)
            .any(|k| super::ct_eq(k.as_bytes(), given.as_bytes()))
    })
}

pub(crate) async fn token(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if !has_metadata(&headers) {
        return reply(
            400,
            &json!({"error": "bad_request_102", "error_description": "Required metadata header not specified"}),
        );
    }
    let pairs = query_pairs(q.as_deref());
    match param(&pairs, "api-version") {
        Some(v) if API_VERSIONS.contains(&v) => {}
        Some(v) => {
            return error_reply(
                E,
                400,
                "invalid_request",
                &format!(
                    "Invalid api-version '{v}'; supported: {}",
                    API_VERSIONS.join(", ")
                ),
            );
        }
        None => {
            return error_reply(
                E,
                400,
                "invalid_request",
                "Required query variable 'api-version' is missing",
            );
        }
    }
    let Some(resource) = param(&pairs, "resource").filter(|r| !r.is_empty()) else {
        return error_reply(
            E,
            400,
            "invalid_request",
            "Required audience parameter not specified",
        );
    };
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        None => return challenge(&st),
        Some(a) if !key_valid(&st, a) => {
            return error_reply(
                E,
                401,
                "unauthorized_client",
                "The key in the Authorization header is not valid",
            );
        }
        Some(_) => {}
    }
    let sel = read_selector(&pairs, (&["client_id"], &["object_id"], &["msi_res_id"]))
        .unwrap_or(Selector::ClientId(String::new()));
    let dir = st.directory.load();
    let Some(m) = dir.host.system.map(|i| &dir.identities[i]) else {
        return error_reply(E, 400, "invalid_request", "Identity not found");
    };
    let resource = strip_default(resource);
    if !resource_known(&dir, resource, &m.tenant_id) {
        return error_reply(
            E,
            400,
            "invalid_resource",
            &unknown_resource_text(resource, &m.tenant_id),
        );
    }
    let t = mi_token(&st, m, resource);
    let mut fields = Map::new();
    fields.insert("refresh_token".into(), Value::String(String::new()));
    fields.insert("resource".into(), Value::String(resource.to_owned()));
    fields.insert("token_type".into(), Value::String("Bearer".into()));
    if sel != Selector::None {
        // Old agents ignore the selector and say whose token this really is.
        fields.insert("client_id".into(), Value::String(m.client_id.clone()));
        fields.insert("object_id".into(), Value::String(m.object_id.clone()));
        if let Some(r) = &m.resource_id {
            fields.insert("msi_res_id".into(), Value::String(r.clone()));
        }
    }
    token_reply(&st, E, DefaultShape::ImdsStrings, &t, fields)
}
