//! Azure Cloud Shell: `POST $MSI_ENDPOINT` with a form body `resource=…` and `Metadata: true`.
//! Its token belongs to the signed-in portal user (delegated), which Entra refuses as a federated
//! credential (AADSTS700229), so ficx refuses Cloud Shell as an assertion source up front.

use super::{Endpoint, Method, MiRequest};
use crate::error::Error;

pub(crate) fn refuse() -> Result<(), Error> {
    Err(Error::Unsupported(
        "Cloud Shell's managed-identity endpoint returns the signed-in user's delegated token, which Entra refuses as a federated credential (AADSTS700229); run on compute with a user-assigned managed identity".into(),
    ))
}

pub(crate) fn request(ep: &Endpoint, resource: &str) -> MiRequest {
    MiRequest {
        method: Method::Post,
        url: ep.url.clone(),
        headers: Vec::new(),
        form: Some(vec![("resource", resource.to_owned())]),
    }
    .header("Metadata", "true")
}
