//! Library integration tests: the real `Exchanger` and `ManagedIdentitySource` against the
//! emulator over loopback sockets. Time is a shared `ManualClock` (retry sleeps are virtual);
//! nothing here asserts on elapsed wall time.

#[path = "library/support.rs"]
mod support;

#[path = "library/sources.rs"]
mod sources;

#[path = "library/expiry_shapes.rs"]
mod expiry_shapes;

#[path = "library/single_flight.rs"]
mod single_flight;

#[path = "library/refresh.rs"]
mod refresh;

#[path = "library/retries.rs"]
mod retries;

#[path = "library/exchange.rs"]
mod exchange;

#[cfg(feature = "azure-core")]
#[path = "library/azure_sdk.rs"]
mod azure_sdk;

#[path = "library/store.rs"]
mod store;
