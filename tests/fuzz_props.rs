//! The fuzz targets as bounded property tests (run by scripts/test.sh; the long `cargo fuzz` runs
//! are documented in docs/reliability.md): arbitrary bytes, and bytes shaped like the real input,
//! never panic any parser that sees untrusted data.

use proptest::prelude::*;

fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "\\{\"(access_token|expires_on|expires_in|refresh_in|error|error_codes|client_id)\":(\"[ -~]{0,40}\"|[0-9.e+-]{0,20}|\\[[0-9,]{0,20}\\]|null|true|\\{\\})\\}".prop_map(|s| s.into_bytes()),
        "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,80}".prop_map(|s| s.into_bytes()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn jwt(data in jsonish()) { ficx::fuzz_api::jwt(&data) }

    #[test]
    fn mi_reply(data in jsonish()) { ficx::fuzz_api::mi_reply(&data) }

    #[test]
    fn expiry(data in jsonish()) { ficx::fuzz_api::expiry(&data) }

    #[test]
    fn retry_after(data in "[ -~\\n]{0,80}") { ficx::fuzz_api::retry_after(data.as_bytes()) }

    #[test]
    fn entra_reply(data in jsonish()) { ficx::fuzz_api::entra_reply(&data) }

    #[test]
    fn inputs(data in prop_oneof![".{0,300}", "[a-z0-9:/._?#%-]{0,80}"]) { ficx::fuzz_api::inputs(data.as_bytes()) }

    #[test]
    fn emulator_config(data in prop_oneof![".{0,400}", "\\[\\[(tenants|apps|resources)\\]\\]\\n[a-z_]{1,12} = \"[ -~]{0,40}\"\\n"]) {
        ficx::fuzz_api::emulator_config(data.as_bytes())
    }
}
