//! Azure ML (`GET $MSI_ENDPOINT`): `secret` header, `api-version=2017-09-01`, the selector
//! spelled `clientid`; without it the default identity (`DEFAULT_IDENTITY_CLIENT_ID`).
//! `expires_on` is a number by default. The error shape is undocumented; the emulator uses the
//! App Service one (same 2017-era API family).

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value};

use super::{
    DefaultShape, Selector, error_reply, mi_token, param, query_pairs, resource_known,
    secret_matches, select_host_identity, strip_default, token_reply, unknown_resource_text,
};
use crate::emulator::Endpoint;
use crate::emulator::state::State;

const E: Endpoint = Endpoint::AzureMl;

/// The `api-version` Azure ML's MSI endpoint speaks.
pub(crate) const API_VERSION: &str = "2017-09-01";

pub(crate) async fn token(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match secret_matches(&headers, "secret", &st.secrets.msi_secret) {
        None => return error_reply(E, 400, "", "The secret header is missing from the request."),
        Some(false) => return error_reply(E, 401, "", "The secret header value is not valid."),
        Some(true) => {}
    }
    let pairs = query_pairs(q.as_deref());
    match param(&pairs, "api-version") {
        Some(API_VERSION) => {}
        Some(v) => {
            return error_reply(
                E,
                400,
                "",
                &format!("The api-version '{v}' is not supported; use {API_VERSION}."),
            );
        }
        None => return error_reply(E, 400, "", "The api-version query parameter is required."),
    }
    let Some(resource) = param(&pairs, "resource").filter(|r| !r.is_empty()) else {
        return error_reply(E, 400, "", "The resource query parameter is required.");
    };
    let dir = st.directory.load();
    let m = match param(&pairs, "clientid").filter(|v| !v.is_empty()) {
        Some(cid) => select_host_identity(&dir, &Selector::ClientId(cid.to_owned())).ok(),
        None => dir.host.azure_ml.map(|i| &dir.identities[i]),
    };
    let Some(m) = m else {
        return error_reply(
            E,
            400,
            "",
            "No managed identity found for the specified clientid.",
        );
    };
    let resource = strip_default(resource);
    if !resource_known(&dir, resource, &m.tenant_id) {
        return error_reply(E, 400, "", &unknown_resource_text(resource, &m.tenant_id));
    }
    let t = mi_token(&st, m, resource);
    let mut fields = Map::new();
    fields.insert("resource".into(), Value::String(resource.to_owned()));
    fields.insert("token_type".into(), Value::String("Bearer".into()));
    fields.insert("client_id".into(), Value::String(m.client_id.clone()));
    token_reply(&st, E, DefaultShape::EpochNumber, &t, fields)
}
