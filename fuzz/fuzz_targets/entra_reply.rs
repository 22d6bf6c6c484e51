#![no_main]
//! Fuzz target: `ficx::fuzz_api::entra_reply` (see docs/reliability.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| ficx::fuzz_api::entra_reply(data));
