//! ficx: Azure cross-tenant access without secrets.
#![forbid(unsafe_code)]

pub mod assertion;
pub(crate) mod cache;
pub mod credential;
pub mod clock;
pub(crate) mod expiry;
pub mod scope;
pub mod token;
pub mod env;
pub mod error;
pub(crate) mod exchange;
pub mod hints;
pub(crate) mod http;
pub mod mi;
pub mod retry;
pub mod ids;
pub mod jwt;

#[cfg(feature = "emulator")]
pub mod emulator;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use env::Env;
pub use error::{EntraError, Error, Leg, MiError, SourceKind, TransportKind};
pub use ids::{ArmResourceId, ClientId, Cloud, ManagedIdentity, ObjectId, TenantId};
pub use scope::Scope;
pub use token::AccessToken;
pub use http::{HttpOptions, ProxySetting, TrustRoots};
pub use retry::{RetryEvent, RetryObserver, RetryPolicy};
pub use assertion::{
    AssertionFn, AssertionRequest, AssertionSource, ManagedIdentitySource,
    ManagedIdentitySourceBuilder, TokenFileSource,
};
pub use credential::{Exchanger, ExchangerBuilder, TenantCredential};
