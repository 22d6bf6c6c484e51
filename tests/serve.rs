//! `ficx serve` tested as a binary: started against an in-process emulator, asked for tokens over
//! loopback with a plain HTTP client (and by azure-identity for Python when it is available),
//! scraped, and stopped with SIGTERM. No token or secret ever reaches its stderr.

#[path = "serve/support.rs"]
mod support;

#[path = "serve/flow.rs"]
mod flow;

#[path = "serve/startup.rs"]
mod startup;

#[path = "support/python_sdks.rs"]
mod python_sdks;

#[path = "serve/python.rs"]
mod python;

#[path = "serve/faults.rs"]
mod faults;

#[path = "serve/config.rs"]
mod config;

#[cfg(unix)]
#[path = "serve/socket.rs"]
mod socket;
