//! # ficx: Azure cross-tenant access without secrets
//!
//! A service runs in tenant A with a user-assigned managed identity (MI). A multi-tenant app
//! registered in A trusts that MI through a federated identity credential (FIC). ficx gets the
//! MI's token for the exchange audience (`api://AzureADTokenExchange`, per cloud) and presents it
//! as a jwt-bearer `client_assertion` to a customer tenant's token endpoint, which answers with an
//! app-only token for that tenant. No secret is stored anywhere.
//!
//! ```text
//!  service ──(1) MI token for api://AzureADTokenExchange──▶ MI endpoint (IMDS, App Service, …)
//!     │      ◀─ JWT: iss=…/{A}/v2.0, sub=MI object id ─────┘
//!     └──(2) client_credentials + client_assertion=JWT ──▶ https://login…/{B}/oauth2/v2.0/token
//!            ◀─ app-only token for tenant B ────────────────┘
//! ```
//!
//! ## Quick start
//!
//! One [`Exchanger`] per service: it fetches the assertion once, shares it across every tenant
//! and scope, caches app tokens per (tenant, scope), refreshes ahead of expiry and makes
//! concurrent callers share one request. Callers need no cache of their own.
//!
//! ```no_run
//! use ficx::{Exchanger, ManagedIdentity};
//! # async fn run() -> Result<(), ficx::Error> {
//! let exchanger = Exchanger::builder()
//!     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0") // the multi-tenant app in tenant A
//!     .managed_identity(ManagedIdentity::client_id("a1a1a1a1-0000-4000-8000-000000000001")?)
//!     .build()?; // validates everything; no network call
//! let token = exchanger.token("contoso.onmicrosoft.com", "https://graph.microsoft.com").await?;
//! // send `Authorization: Bearer <token.secret()>` to Graph in Contoso
//! # Ok(()) }
//! ```
//!
//! Errors say which leg failed and what to do: [`Error::leg`], [`Error::is_transient`],
//! [`Error::aadsts`], [`Error::hint`].
//!
//! ## Managed-identity detection
//!
//! The MI endpoint is chosen from the environment, first match wins (see [`mi::detect`]):
//! 1. Service Fabric (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER` + `IDENTITY_SERVER_THUMBPRINT`)
//! 2. App Service, Functions, Container Apps (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`)
//! 3. Azure Arc (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`)
//! 4. Azure ML (`MSI_ENDPOINT` + `MSI_SECRET`)
//! 5. Cloud Shell (`MSI_ENDPOINT`): refused, its token is delegated (AADSTS700229)
//! 6. Azure Arc (the agent's `himds` binary exists)
//! 7. IMDS, at `AZURE_POD_IDENTITY_AUTHORITY_HOST` or `http://169.254.169.254`
//!
//! ## Caching model
//!
//! Two caches: MI tokens per audience (inside [`ManagedIdentitySource`]) and app tokens per
//! (tenant, scope) (inside [`Exchanger`]). A token is refreshed at the server's `refresh_in`,
//! at half-life for lifetimes of 2 h or more, else [`DEFAULT_EXPIRY_BUFFER_SECS`] before expiry;
//! while one refresh runs, everyone else gets the still-valid token; a failed refresh keeps
//! serving it and backs off. Details and numbers in the [`cache`] module docs.
//!
//! ## Sharing tokens across a fleet
//!
//! N replicas with in-process caches exchange N×T times per token lifetime for T tenants. Give
//! every replica the same [`TokenStore`] ([`ExchangerBuilder::token_store`]; Redis with the
//! `redis` feature) and the fleet exchanges about T times: an in-memory miss reads the store
//! first, and one replica per key exchanges under a lease while the others wait for its token.
//! See [`store`].
//!
//! ## Features
//!
//! - `emulator` (default): [`emulator::Emulator`], a local emulator of the MI endpoints and of a
//!   multi-tenant Entra authority, for tests, demos and laptops.
//! - `cli` (default): the `ficx` binary.
//! - `redis`: `store::redis::RedisStore`, the fleet-wide token store (standalone or cluster,
//!   AES-256-GCM at rest). Also enabled by `cli` (for `ficx serve` and `ficx token`).
//! - `azure-core`: [`TenantCredential`] implements `azure_core::credentials::TokenCredential`, so
//!   Azure SDK for Rust clients (Key Vault, Storage, …) work in a foreign tenant.
#![forbid(unsafe_code)]
#![doc(test(attr(deny(unused_imports))))]

pub mod assertion;
#[cfg(feature = "azure-core")]
mod azure_sdk;
pub mod cache;
pub mod clock;
pub mod credential;
pub mod diagnose;
pub mod env;
pub mod error;
pub(crate) mod exchange;
pub(crate) mod expiry;
#[doc(hidden)]
pub mod fuzz_api;
pub mod hints;
pub(crate) mod http;
pub mod ids;
pub mod jwt;
pub mod mi;
pub mod retry;
pub mod scope;
pub mod setup;
pub mod store;
pub mod token;
pub(crate) mod token_body;
pub(crate) mod trust;

#[cfg(feature = "emulator")]
pub mod emulator;

pub use assertion::{
    AssertionFn, AssertionRequest, AssertionSource, ManagedIdentitySource,
    ManagedIdentitySourceBuilder, TokenFileSource,
};
pub use cache::{
    DEFAULT_EXPIRY_BUFFER_SECS, HALF_LIFE_MIN_LIFETIME_SECS, REFRESH_FAILURE_INITIAL_BACKOFF_SECS,
    REFRESH_FAILURE_MAX_BACKOFF_SECS, STALE_MARGIN_SECS,
};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use credential::{Exchanger, ExchangerBuilder, ExchangerStats, TenantCredential};
pub use env::Env;
pub use error::{EntraError, Error, Leg, MiError, SourceKind, TransportKind};
pub use exchange::JWT_BEARER;
pub use expiry::EPOCH_THRESHOLD_SECS;
pub use http::{DEFAULT_CONNECT_TIMEOUT_SECS, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_SECS};
pub use http::{HttpOptions, ProxySetting, TrustRoots};
pub use ids::{ArmResourceId, ClientId, Cloud, ManagedIdentity, ObjectId, TenantId};
pub use retry::{RetryEvent, RetryObserver, RetryPolicy};
pub use scope::Scope;
pub use setup::{
    ConsentStep, SetupFormat, SetupPlan, SetupPlanBuilder, SetupWarning, SetupWarningCode,
};
pub use store::{MemoryStore, StoreOptions, StoreStats, TokenStore};
pub use token::AccessToken;

/// Entry points for benchmarks (and later fuzz targets) into crate-private parsers. Not part of
/// the API: no stability promise, hidden from the docs.
#[doc(hidden)]
pub mod __private {
    use std::time::SystemTime;

    /// The expiry of a token success body (`expires_on`, else `expires_in`, in every shape the
    /// legs accept); `None` when neither is readable.
    pub fn parse_expiry(body: &serde_json::Value, now: SystemTime) -> Option<SystemTime> {
        crate::expiry::parse_expiry(body, now).ok()
    }

    /// A whole token success body as both legs parse it (token, type, expiry, `refresh_in`).
    ///
    /// # Errors
    /// As the legs report an unreadable 200 body.
    pub fn parse_token_body(
        body: Vec<u8>,
        now: SystemTime,
    ) -> Result<crate::AccessToken, crate::Error> {
        let reply = crate::http::Reply {
            status: 200,
            headers: reqwest::header::HeaderMap::new(),
            body,
        };
        crate::token_body::parse::<serde::de::IgnoredAny>(
            reply,
            crate::Leg::Exchange,
            now,
            "https://bench.invalid/token",
        )
        .map(|(token, _)| token)
    }
}
