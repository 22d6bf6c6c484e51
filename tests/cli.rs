//! The `ficx` binary tested as a binary: each subcommand against an in-process emulator, stdout,
//! stderr and exit codes; bad input fails with one line and no request; no token text ever
//! appears on stderr.

#[path = "cli/support.rs"]
mod support;

#[path = "cli/usage.rs"]
mod usage;

#[path = "cli/token.rs"]
mod token;

#[path = "cli/doctor.rs"]
mod doctor;

#[path = "cli/misc.rs"]
mod misc;
