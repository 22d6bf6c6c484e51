//! Service Fabric (`GET $IDENTITY_ENDPOINT` over https with the listener's own self-signed
//! certificate): `Secret` header, `api-version` 2019-07-01-preview (or 2020-05-01), the identity
//! chosen in the cluster (selectors ignored), `expires_on` as a number; errors
//! `{"error":{"correlationId","code","message"}}` (how-to-managed-identity-service-fabric-app-code.md).

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value};

use super::{
    DefaultShape, error_reply, mi_token, param, query_pairs, resource_known, secret_matches,
    strip_default, token_reply, unknown_resource_text,
};
use crate::emulator::state::State;
use crate::emulator::{Endpoint, paths};

const E: Endpoint = Endpoint::ServiceFabric;

/// `api-version` values accepted.
pub(crate) const API_VERSIONS: [&str; 2] =
    [crate::emulator::SERVICE_FABRIC_API_VERSION, "2020-05-01"];

pub(crate) fn router() -> Router<Arc<State>> {
    Router::new()
        .route(paths::SERVICE_FABRIC, get(token))
        .fallback(not_found)
}

async fn not_found() -> Response {
    error_reply(E, 404, "NotFound", "The ficx emulator serves no such path.")
}

pub(crate) async fn token(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match secret_matches(&headers, "secret", &st.secrets.identity_header) {
        None => {
            return error_reply(
                E,
                401,
                "SecretHeaderNotFound",
                "Secret is not found in the request headers.",
            );
        }
        Some(false) => {
            return error_reply(
                E,
                401,
                "SecretHeaderNotFound",
                "The secret in the request headers does not match.",
            );
        }
        Some(true) => {}
    }
    let pairs = query_pairs(q.as_deref());
    match param(&pairs, "api-version").filter(|v| !v.is_empty()) {
        None => {
            return error_reply(
                E,
                400,
                "ArgumentNullOrEmpty",
                "Value cannot be null or empty. Parameter name: api-version",
            );
        }
        Some(v) if !API_VERSIONS.contains(&v) => {
            return error_reply(
                E,
                400,
                "InvalidApiVersion",
                &format!(
                    "The api-version '{v}' is invalid; supported: {}",
                    API_VERSIONS.join(", ")
                ),
            );
        }
        Some(_) => {}
    }
    let Some(resource) = param(&pairs, "resource").filter(|r| !r.is_empty()) else {
        return error_reply(
            E,
            400,
            "ArgumentNullOrEmpty",
            "Value cannot be null or empty. Parameter name: resource",
        );
    };
    let dir = st.directory.load();
    let Some(m) = dir.host.service_fabric.map(|i| &dir.identities[i]) else {
        return error_reply(
            E,
            404,
            "ManagedIdentityNotFound",
            "No managed identity is assigned to this application.",
        );
    };
    let resource = strip_default(resource);
    if !resource_known(&dir, resource, &m.tenant_id) {
        return error_reply(
            E,
            500,
            "InternalServerError",
            &unknown_resource_text(resource, &m.tenant_id),
        );
    }
    let t = mi_token(&st, m, resource);
    let mut fields = Map::new();
    fields.insert("token_type".into(), Value::String("Bearer".into()));
    fields.insert("resource".into(), Value::String(resource.to_owned()));
    token_reply(&st, E, DefaultShape::EpochNumber, &t, fields)
}
