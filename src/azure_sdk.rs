//! Feature `azure-core`: [`TenantCredential`] as an Azure SDK for Rust
//! `azure_core::credentials::TokenCredential`, so SDK clients (Key Vault, Storage, …) act in a
//! foreign tenant with no code of their own. Every SDK call goes through ficx's cache.

use azure_core::credentials::{AccessToken as SdkToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error as SdkError, ErrorKind};
use secrecy::ExposeSecret;

use crate::credential::TenantCredential;

#[async_trait::async_trait]
impl TokenCredential for TenantCredential {
    /// One scope, `<resource>/.default` (client credentials take exactly one resource).
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<SdkToken> {
        let [scope] = scopes else {
            return Err(SdkError::with_message(
                ErrorKind::Credential,
                format!(
                    "ficx: exactly one scope is supported (client credentials take one resource), got {}",
                    scopes.len()
                ),
            ));
        };
        let token = TenantCredential::get_token(self, scope)
            .await
            .map_err(|e| SdkError::new(ErrorKind::Credential, e))?;
        let expires_on = time::OffsetDateTime::from_unix_timestamp(token.expires_on_unix())
            .map_err(|e| SdkError::new(ErrorKind::Credential, e))?;
        Ok(SdkToken::new(
            token.secret().expose_secret().to_owned(),
            expires_on,
        ))
    }
}
