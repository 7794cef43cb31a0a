//! The cases the built-in simulators claim to pass, per OCPP version: the one list of it.
//! `tests/testcase_sims.rs` runs the simulators through the proxy (a short demo-like run)
//! and requires every listed case to pass on each station of its version, live and on the
//! recording alike. Data only: it runs nothing and judges nothing.

use crate::ocpp::Version;

/// Case ids (exact) the simulated charger and CSMS pass together, per version.
pub static SIM_CLAIMS: &[(Version, &[&str])] = &[
    (
        Version::V16,
        &[
            "1.6/core/001_CSMS",
            "1.6/core/004_1_CS",
            "1.6/core/007_CSMS",
            "1.6/core/019_CS",
            "1.6/core/068_CS",
            "1.6/core/x01_CS",
            "1.6/core/x02_CS",
            "1.6/core/x03_CS",
            "1.6/remote/011_1_CS",
            "1.6/remote/011_1_CSMS",
            "1.6/remote/026_CS",
            "1.6/remote/x11_CS",
            "1.6/remote/x12_CS",
        ],
    ),
    (
        Version::V201,
        &[
            "2.0.1/B/01_CS",
            "2.0.1/B/01_CSMS",
            "2.0.1/B/x01_CS",
            "2.0.1/B/x03_CS",
            "2.0.1/B/x04_CS",
            "2.0.1/E/15_CS",
            "2.0.1/E/x01_CS",
            "2.0.1/F/20_CS",
            "2.0.1/F/20_CSMS",
            "2.0.1/F/23_CSMS",
            "2.0.1/F/x02_CS",
            "2.0.1/J/x01_CS",
        ],
    ),
    (
        Version::V21,
        &[
            "2.1/B/x01_CS",
            "2.1/B/x02_CSMS",
            "2.1/B/x03_CSMS",
            "2.1/B/x04_CS",
            "2.1/B/x05_CS",
            "2.1/E/x01_CS",
            "2.1/E/x02_CSMS",
            "2.1/F/x01_CS",
            "2.1/F/x03_CS",
            "2.1/F/x04_CSMS",
        ],
    ),
];

/// The claimed case ids for `version`.
pub fn claimed(version: Version) -> &'static [&'static str] {
    SIM_CLAIMS
        .iter()
        .find(|(v, _)| *v == version)
        .map_or(&[], |(_, ids)| ids)
}
