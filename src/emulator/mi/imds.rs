//! IMDS (`GET /metadata/identity/oauth2/token`): `Metadata: true` enforced, `api-version`
//! 2018-02-01 or any date from 2019-08-01, at most one of `client_id`/`object_id`/`msi_res_id`,
//! string-typed expiry fields (how-to-use-vm-token.md).

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{
    DefaultShape, SelectError, error_reply, has_metadata, mi_token, param, query_pairs,
    read_selector, reply, resource_known, select_host_identity, strip_default, token_reply,
    unknown_resource_text,
};
use crate::emulator::Endpoint;
use crate::emulator::state::State;

const E: Endpoint = Endpoint::Imds;

/// Whether IMDS accepts this `api-version` for identity tokens.
pub(crate) fn api_version_ok(v: &str) -> bool {
    v == "2018-02-01" || super::api_version_at_least(v, "2019-08-01")
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
        None => {
            return error_reply(
                E,
                400,
                "invalid_request",
                "Required query variable 'api-version' is missing",
            );
        }
        Some(v) if !api_version_ok(v) => {
            return error_reply(
                E,
                400,
                "invalid_request",
                &format!(
                    "Invalid api-version '{v}'. Supported versions for identity tokens: 2018-02-01, 2019-08-01 and later"
                ),
            );
        }
        Some(_) => {}
    }
    let Some(resource) = param(&pairs, "resource").filter(|r| !r.is_empty()) else {
        return error_reply(
            E,
            400,
            "invalid_request",
            "Required audience parameter not specified",
        );
    };
    let sel = match read_selector(&pairs, (&["client_id"], &["object_id"], &["msi_res_id"])) {
        Ok(s) => s,
        Err(names) => {
            return error_reply(
                E,
                400,
                "invalid_request",
                &format!(
                    "Only one of client_id, object_id or msi_res_id may be specified; got {}",
                    names.join(", ")
                ),
            );
        }
    };
    let dir = st.directory.load();
    let m = match select_host_identity(&dir, &sel) {
        Ok(m) => m,
        Err(SelectError::Ambiguous) => {
            return error_reply(
                E,
                400,
                "invalid_request",
                "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request",
            );
        }
        Err(SelectError::NotFound | SelectError::NoIdentity) => {
            return error_reply(E, 400, "invalid_request", "Identity not found");
        }
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
    fields.insert("client_id".into(), Value::String(m.client_id.clone()));
    token_reply(&st, E, DefaultShape::ImdsStrings, &t, fields)
}
