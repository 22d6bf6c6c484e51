//! Shared by the load examples: an exchanger builder from the environment, as `ficx token`
//! reads it (`FICX_CLIENT_ID`, `FICX_MI_CLIENT_ID`/`_OBJECT_ID`/`_RESOURCE_ID`, `FICX_CA_FILE`,
//! `AZURE_AUTHORITY_HOST` and the platform's MI variables).

use ficx::{Env, Exchanger, ExchangerBuilder, HttpOptions, ManagedIdentity};

/// The builder, or what is missing.
pub(crate) fn builder_from_env(
    env: &Env,
) -> Result<ExchangerBuilder, Box<dyn std::error::Error + Send + Sync>> {
    let client_id = env
        .var("FICX_CLIENT_ID")
        .ok_or("FICX_CLIENT_ID is not set")?;
    let mut http = HttpOptions::default();
    if let Some(ca) = env.var("FICX_CA_FILE") {
        http = http.ca_file(ca);
    }
    let mut b = Exchanger::builder()
        .client_id(&client_id)
        .env(env.clone())
        .http(http);
    if let Some(id) = env.var("FICX_MI_CLIENT_ID") {
        b = b.managed_identity(ManagedIdentity::client_id(&id)?);
    } else if let Some(id) = env.var("FICX_MI_OBJECT_ID") {
        b = b.managed_identity(ManagedIdentity::object_id(&id)?);
    } else if let Some(id) = env.var("FICX_MI_RESOURCE_ID") {
        b = b.managed_identity(ManagedIdentity::resource_id(&id)?);
    }
    Ok(b)
}
