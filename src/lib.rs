//! ficx: Azure cross-tenant access without secrets.
#![forbid(unsafe_code)]

pub mod clock;
pub mod env;
pub mod error;
pub mod hints;
pub mod ids;

#[cfg(feature = "emulator")]
pub mod emulator;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use env::Env;
pub use error::{EntraError, Error, Leg, MiError, SourceKind, TransportKind};
pub use ids::{ArmResourceId, ClientId, Cloud, ManagedIdentity, ObjectId, TenantId};
