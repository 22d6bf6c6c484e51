//! App Service / Functions / Container Apps (`GET $IDENTITY_ENDPOINT`): `X-IDENTITY-HEADER`
//! checked, `api-version=2019-08-01`, one of `client_id`/`object_id`/`principal_id`/`mi_res_id`,
//! `expires_on` as a string; errors `{"statusCode","message","correlationId"}`, an unknown
//! resource a vague 500 (overview-managed-identity.md; MSAL Python's parser).

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value};

use super::{
    DefaultShape, error_reply, mi_token, param, query_pairs, read_selector, resource_known,
    secret_matches, select_host_identity, strip_default, token_reply,
};
use crate::emulator::Endpoint;
use crate::emulator::state::State;

const E: Endpoint = Endpoint::AppService;

/// The one `api-version` App Service's identity endpoint speaks.
pub(crate) const API_VERSION: &str = "2019-08-01";

pub(crate) async fn token(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match secret_matches(&headers, "x-identity-header", &st.secrets.identity_header) {
        None => {
            return error_reply(
                E,
                400,
                "",
                "The X-IDENTITY-HEADER header is missing from the request.",
            );
        }
        Some(false) => {
            return error_reply(
                E,
                401,
                "",
                "The X-IDENTITY-HEADER header value is not valid.",
            );
        }
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
    let sel = match read_selector(
        &pairs,
        (
            &["client_id"],
            &["object_id", "principal_id"],
            &["mi_res_id"],
        ),
    ) {
        Ok(s) => s,
        Err(names) => {
            return error_reply(
                E,
                400,
                "",
                &format!(
                    "Only one of client_id, principal_id (object_id) or mi_res_id may be specified; got {}",
                    names.join(", ")
                ),
            );
        }
    };
    let dir = st.directory.load();
    let Ok(m) = select_host_identity(&dir, &sel) else {
        return error_reply(
            E,
            400,
            "",
            "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
        );
    };
    let resource = strip_default(resource);
    if !resource_known(&dir, resource, &m.tenant_id) {
        return error_reply(
            E,
            500,
            "",
            "An unexpected error occured while fetching the AAD Token.",
        );
    }
    let t = mi_token(&st, m, resource);
    let mut fields = Map::new();
    fields.insert("resource".into(), Value::String(resource.to_owned()));
    fields.insert("token_type".into(), Value::String("Bearer".into()));
    fields.insert("client_id".into(), Value::String(m.client_id.clone()));
    token_reply(&st, E, DefaultShape::EpochString, &t, fields)
}
