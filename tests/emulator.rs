//! Integration tests of the local emulator, over real loopback sockets: every MI source, the
//! authority's discovery documents and token endpoint (each AADSTS case), faults as a raw client
//! sees them, the request log and the control API.

// Test helpers are `pub` for the sibling modules; nothing is exported.
#![allow(unreachable_pub)]

#[path = "emulator/authority.rs"]
mod authority;
#[path = "emulator/control.rs"]
mod control;
#[path = "emulator/exchange.rs"]
mod exchange;
#[path = "emulator/faults.rs"]
mod faults;
#[path = "emulator/mi.rs"]
mod mi;
#[path = "emulator/support.rs"]
mod support;
