//! IMDS (VMs, VMSS, AKS nodes, ACI): `GET /metadata/identity/oauth2/token` with `Metadata: true`,
//! `api-version=2018-02-01`, at most one selector of `client_id` / `object_id` / `msi_res_id`
//! (how-to-use-vm-token.md).

use super::{Endpoint, MiRequest};
use crate::ids::ManagedIdentity;

/// The api-version sent to IMDS.
pub(crate) const API_VERSION: &str = "2018-02-01";

pub(crate) fn request(ep: &Endpoint, identity: &ManagedIdentity, resource: &str) -> MiRequest {
    let r = MiRequest::token_get(ep, API_VERSION, resource)
        .selector(identity, ["client_id", "object_id", "msi_res_id"]);
    r.header("Metadata", "true")
}
