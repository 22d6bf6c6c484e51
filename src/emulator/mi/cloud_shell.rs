//! Cloud Shell (`POST $MSI_ENDPOINT`, form body `resource=…`, `Metadata: true`): a DELEGATED
//! token of the signed-in user (`idtyp=user`, `scp`, `upn`), which the token endpoint refuses as
//! an assertion with AADSTS700229. Errors use the nested `{"error":{"code","message"}}` shape.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{
    DefaultShape, cached_token, error_reply, has_metadata, rand_b64, resource_known, strip_default,
    token_reply, unknown_resource_text,
};
use crate::emulator::Endpoint;
use crate::emulator::serve::LogNote;
use crate::emulator::state::State;

const E: Endpoint = Endpoint::CloudShell;

/// The client Cloud Shell tokens are issued to (Azure CLI's well-known app id).
pub(crate) const CLOUD_SHELL_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

pub(crate) async fn token(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let note = LogNote {
        form_fields: form.iter().map(|(k, _)| k.clone()).collect(),
    };
    let mut r = answer(&st, &headers, &form);
    r.extensions_mut().insert(note);
    r
}

fn answer(st: &State, headers: &HeaderMap, form: &[(String, String)]) -> Response {
    if !has_metadata(headers) {
        return error_reply(
            E,
            400,
            "BadRequest",
            "Required metadata header not specified",
        );
    }
    let Some(resource) = super::param(form, "resource").filter(|r| !r.is_empty()) else {
        return error_reply(
            E,
            400,
            "BadRequest",
            "Required form field 'resource' not specified",
        );
    };
    let dir = st.directory.load();
    let Some(user) = dir.host.cloud_shell_user.as_ref() else {
        return error_reply(
            E,
            400,
            "BadRequest",
            "No user is signed in to this Cloud Shell.",
        );
    };
    let resource = strip_default(resource);
    if !resource_known(&dir, resource, &user.tenant_id) {
        return error_reply(
            E,
            400,
            "invalid_resource",
            &unknown_resource_text(resource, &user.tenant_id),
        );
    }
    let life = st.config.lifetimes.app_secs as i64;
    let t = cached_token(st, &user.object_id, resource, |now| {
        json!({
            "aud": resource,
            "iss": format!("{}/{}/v2.0", st.issuer_host, user.tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + life,
            "acr": "1",
            "aio": rand_b64(42),
            "amr": ["pwd", "mfa"],
            "appid": CLOUD_SHELL_APP_ID,
            "appidacr": "0",
            "azp": CLOUD_SHELL_APP_ID,
            "idtyp": "user",
            "name": user.upn,
            "oid": user.object_id,
            "scp": "user_impersonation",
            "sub": user.object_id,
            "tid": user.tenant_id,
            "unique_name": user.upn,
            "upn": user.upn,
            "uti": rand_b64(16),
            "ver": "2.0",
        })
    });
    let mut fields = Map::new();
    fields.insert("refresh_token".into(), Value::String(String::new()));
    fields.insert("resource".into(), Value::String(resource.to_owned()));
    fields.insert("token_type".into(), Value::String("Bearer".into()));
    token_reply(st, E, DefaultShape::ImdsStrings, &t, fields)
}
