//! Every expiry shape an MI endpoint may send ends at the JWT's own `exp`.

use ficx::emulator::{Endpoint, ExpiryFormat};

use crate::support::{Lab, claims, trusted};

#[tokio::test]
async fn every_expiry_shape_parses_to_the_token_exp() {
    let lab = Lab::start().await;
    for format in [
        ExpiryFormat::Default,
        ExpiryFormat::EpochString,
        ExpiryFormat::EpochNumber,
        ExpiryFormat::SecondsString,
        ExpiryFormat::SecondsNumber,
        ExpiryFormat::MlDate,
        ExpiryFormat::MlDateAmPm,
        ExpiryFormat::YmdHms,
        ExpiryFormat::Rfc3339,
    ] {
        lab.emu.faults().set_expiry_format(Endpoint::Imds, format);
        let mi = lab.mi_source(Endpoint::Imds, trusted()).unwrap();
        let t = mi
            .token("api://AzureADTokenExchange")
            .await
            .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let exp = claims(&t).exp_unix().unwrap();
        let diff = (t.expires_on_unix() - exp).abs();
        assert!(
            diff <= 1,
            "{format:?}: parsed {} vs exp {exp}",
            t.expires_on_unix()
        );
    }
}
