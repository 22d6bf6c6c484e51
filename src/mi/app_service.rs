//! App Service, Functions, Container Apps, Automation: `GET $IDENTITY_ENDPOINT` with
//! `X-IDENTITY-HEADER`, `api-version=2019-08-01`, selectors `client_id` / `principal_id` /
//! `mi_res_id` (overview-managed-identity.md). `Metadata: true` too, which Automation needs.

use super::{Endpoint, MiRequest};
use crate::ids::ManagedIdentity;

/// The api-version sent to App Service.
pub(crate) const API_VERSION: &str = "2019-08-01";

pub(crate) fn request(ep: &Endpoint, identity: &ManagedIdentity, resource: &str) -> MiRequest {
    let r = MiRequest::token_get(ep, API_VERSION, resource)
        .selector(identity, ["client_id", "principal_id", "mi_res_id"]);
    let r = r.header("Metadata", "true");
    match &ep.secret {
        Some(s) => r.secret_header("X-IDENTITY-HEADER", s),
        None => r,
    }
}
