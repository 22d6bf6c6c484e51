//! The HTTP control API under `/_ficx/` (JSON), served on the MI and authority listeners: the
//! request log, fault injection, expiry-format overrides and runtime directory changes, so the
//! emulator can be driven from other processes (the CLI, shell scripts, other languages).
//!
//! Control calls are logged as [`super::Endpoint::Control`] and never hit by faults.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxState};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::config::FicConfig;
use super::faults::{ExpiryFormat, Fault, Times};
use super::mi::{param, query_pairs, reply};
use super::state::State;
use super::{EmulatorError, Endpoint};

type St = AxState<Arc<State>>;

pub(crate) fn router() -> Router<Arc<State>> {
    Router::new()
        .route("/_ficx/health", get(health))
        .route("/_ficx/log", get(log_get).delete(log_clear))
        .route("/_ficx/log/counts", get(log_counts))
        .route(
            "/_ficx/faults",
            axum::routing::post(faults_add).delete(faults_clear),
        )
        .route("/_ficx/expiry-format", axum::routing::post(expiry_format))
        .route(
            "/_ficx/directory/fics",
            get(fics_list).post(fic_add).delete(fic_remove),
        )
        .route(
            "/_ficx/directory/service-principals",
            get(sp_list).post(sp_add).delete(sp_remove),
        )
        .route(
            "/_ficx/directory/role-assignments",
            axum::routing::post(role_add),
        )
}

fn bad(msg: impl std::fmt::Display) -> Response {
    reply(400, &json!({"error": msg.to_string()}))
}

fn ok(v: Value) -> Response {
    reply(200, &v)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn dir_result<T: serde::Serialize>(r: Result<T, EmulatorError>) -> Response {
    match r {
        Ok(v) => ok(json!({"ok": true, "result": v})),
        Err(e) => bad(e),
    }
}

async fn health(AxState(st): St) -> Response {
    ok(json!({
        "status": "ok",
        "authority": st.urls.authority,
        "authority_http": st.urls.authority_http,
        "mi": st.urls.mi,
        "service_fabric": st.urls.service_fabric,
        "kid": st.signer.kid(),
    }))
}

async fn log_get(AxState(st): St) -> Response {
    ok(serde_json::to_value(st.log.entries()).unwrap_or(Value::Null))
}

async fn log_clear(AxState(st): St) -> Response {
    st.log.clear();
    ok(json!({"ok": true}))
}

async fn log_counts(AxState(st): St) -> Response {
    let mut m = serde_json::Map::new();
    for (e, n) in st.log.counts() {
        m.insert(e.name().to_owned(), json!(n));
    }
    m.insert("unmatched".into(), json!(st.log.unmatched_count()));
    ok(Value::Object(m))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    endpoint: Endpoint,
    fault: Fault,
    #[serde(default = "one")]
    times: Times,
}

fn one() -> Times {
    Times::Next(1)
}

async fn faults_add(AxState(st): St, body: Bytes) -> Response {
    let r: FaultRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    if r.endpoint == Endpoint::Control {
        return bad("faults cannot be injected into the control API");
    }
    st.faults.inject(r.endpoint, r.fault, r.times);
    ok(json!({"ok": true, "pending": st.faults.pending(r.endpoint)}))
}

async fn faults_clear(AxState(st): St, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    match param(&pairs, "endpoint") {
        Some(e) => match e.parse::<Endpoint>() {
            Ok(e) => st.faults.clear_endpoint(e),
            Err(err) => return bad(err),
        },
        None => st.faults.clear(),
    }
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpiryRequest {
    endpoint: Endpoint,
    #[serde(default)]
    format: Option<ExpiryFormat>,
    #[serde(default)]
    refresh_in: Option<bool>,
}

async fn expiry_format(AxState(st): St, body: Bytes) -> Response {
    let r: ExpiryRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    if !r.endpoint.is_managed_identity() {
        return bad(format!("{} is not a managed-identity endpoint", r.endpoint));
    }
    if let Some(f) = r.format {
        st.faults.set_expiry_format(r.endpoint, f);
    }
    if let Some(on) = r.refresh_in {
        st.faults.set_refresh_in(r.endpoint, on);
    }
    ok(
        json!({"ok": true, "format": st.faults.expiry_format(r.endpoint), "refresh_in": st.faults.refresh_in(r.endpoint)}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FicRequest {
    app: String,
    fic: FicConfig,
}

async fn fic_add(AxState(st): St, body: Bytes) -> Response {
    match parse::<FicRequest>(&body) {
        Ok(r) => dir_result(st.directory.add_fic(&r.app, r.fic)),
        Err(e) => bad(e),
    }
}

async fn fics_list(AxState(st): St, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    match param(&pairs, "app") {
        Some(app) => dir_result(st.directory.fics(app)),
        None => bad("query parameter 'app' is required"),
    }
}

async fn fic_remove(AxState(st): St, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    match (param(&pairs, "app"), param(&pairs, "name")) {
        (Some(app), Some(name)) => dir_result(st.directory.remove_fic(app, name)),
        _ => bad("query parameters 'app' and 'name' are required"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpRequest {
    app: String,
    tenant: String,
    #[serde(default)]
    object_id: Option<String>,
    #[serde(default)]
    visible_after_secs: u64,
}

async fn sp_add(AxState(st): St, body: Bytes) -> Response {
    match parse::<SpRequest>(&body) {
        Ok(r) => dir_result(st.directory.add_service_principal(
            &r.app,
            &r.tenant,
            r.object_id.as_deref(),
            r.visible_after_secs,
        )),
        Err(e) => bad(e),
    }
}

async fn sp_list(AxState(st): St) -> Response {
    ok(json!({"ok": true, "result": st.directory.service_principals()}))
}

async fn sp_remove(AxState(st): St, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    match (param(&pairs, "app"), param(&pairs, "tenant")) {
        (Some(app), Some(tenant)) => dir_result(st.directory.remove_service_principal(app, tenant)),
        _ => bad("query parameters 'app' and 'tenant' are required"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleRequest {
    app: String,
    tenant: String,
    resource: String,
    roles: Vec<String>,
}

async fn role_add(AxState(st): St, body: Bytes) -> Response {
    match parse::<RoleRequest>(&body) {
        Ok(r) => {
            dir_result(
                st.directory
                    .add_role_assignment(&r.app, &r.tenant, &r.resource, &r.roles),
            )
        }
        Err(e) => bad(e),
    }
}
