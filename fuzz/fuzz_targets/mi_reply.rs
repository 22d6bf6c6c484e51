#![no_main]
//! Fuzz target: `ficx::fuzz_api::mi_reply` (see docs/reliability.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| ficx::fuzz_api::mi_reply(data));
