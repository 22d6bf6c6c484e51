//! Azure Machine Learning: `GET $MSI_ENDPOINT` with header `secret: $MSI_SECRET`,
//! `api-version=2017-09-01`, selector `clientid` (no underscore); the system identity is named by
//! `DEFAULT_IDENTITY_CLIENT_ID`. Only client ids select a user-assigned identity here.

use super::{Endpoint, MiRequest};
use crate::error::Error;
use crate::ids::ManagedIdentity;

/// The api-version sent to Azure ML.
pub(crate) const API_VERSION: &str = "2017-09-01";

pub(crate) fn check_identity(identity: &ManagedIdentity) -> Result<(), Error> {
    match identity {
        ManagedIdentity::ObjectId(_) | ManagedIdentity::ResourceId(_) => Err(Error::Unsupported(
            "Azure ML selects a user-assigned identity by client id only; pass --mi-client-id"
                .into(),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn request(
    ep: &Endpoint,
    identity: &ManagedIdentity,
    resource: &str,
) -> Result<MiRequest, Error> {
    check_identity(identity)?;
    let r = MiRequest::token_get(ep, API_VERSION, resource);
    let r = match (identity, &ep.default_client_id) {
        (ManagedIdentity::ClientId(v), _) => r.query("clientid", v.as_str()),
        (_, Some(default)) => r.query("clientid", default),
        _ => r,
    };
    Ok(match &ep.secret {
        Some(s) => r.secret_header("secret", s),
        None => r,
    })
}
