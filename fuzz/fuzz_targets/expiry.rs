#![no_main]
//! Fuzz target: `ficx::fuzz_api::expiry` (see docs/reliability.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| ficx::fuzz_api::expiry(data));
