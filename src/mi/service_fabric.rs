//! Service Fabric: `GET $IDENTITY_ENDPOINT` over https to a self-signed certificate pinned by
//! `IDENTITY_SERVER_THUMBPRINT` (see `http::Http::pinned`), header `Secret: $IDENTITY_HEADER`,
//! `api-version` from `IDENTITY_API_VERSION` or `2019-07-01-preview`. The identity is chosen in
//! the cluster, so a user-assigned selector is refused at construction.

use super::{Endpoint, MiRequest};
use crate::error::Error;
use crate::ids::ManagedIdentity;

/// The api-version sent when `IDENTITY_API_VERSION` is unset.
pub(crate) const API_VERSION: &str = "2019-07-01-preview";

pub(crate) fn check_identity(identity: &ManagedIdentity) -> Result<(), Error> {
    if identity.is_system_assigned() {
        Ok(())
    } else {
        Err(Error::Unsupported(
            "Service Fabric chooses the identity in the cluster manifest; drop the user-assigned selector (--mi-client-id/--mi-object-id/--mi-resource-id)".into(),
        ))
    }
}

pub(crate) fn request(ep: &Endpoint, resource: &str) -> MiRequest {
    let r = MiRequest::get(ep.url.clone())
        .query(
            "api-version",
            ep.api_version.as_deref().unwrap_or(API_VERSION),
        )
        .query("resource", resource);
    match &ep.secret {
        Some(s) => r.secret_header("Secret", s),
        None => r,
    }
}
