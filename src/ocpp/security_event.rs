//! The standard security event types of each version (1.6 security white paper §8, the 2.0.1
//! and 2.1 appendices). Facts of the standard only; the `sec` rules use them.

use super::Version;

/// The versions whose list names an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum In {
    /// 1.6, 2.0.1 and 2.1, spelled the same.
    All,
    /// The 1.6 security white paper only (its spelling of a 2.x event).
    V16,
    /// The 2.0.1 appendix (v1.4), and so 2.1.
    V2,
    /// The 2.1 appendix (v2.0) only.
    V21,
}

/// Whether an event reports a failure or an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Failure,
    Other,
}

use In::{All, V2, V16, V21};
use Kind::{Failure, Other};

/// Every standard security event once: its name, the versions that list it, and whether it
/// reports a failure or an attack.
const EVENTS: &[(&str, In, Kind)] = &[
    ("FirmwareUpdated", All, Other),
    ("FailedToAuthenticateAtCentralSystem", V16, Failure),
    ("CentralSystemFailedToAuthenticate", V16, Failure),
    ("FailedToAuthenticateAtCsms", V2, Failure),
    ("CsmsFailedToAuthenticate", V2, Failure),
    ("SettingSystemTime", All, Other),
    ("StartupOfTheDevice", All, Other),
    ("ResetOrReboot", All, Other),
    ("SecurityLogWasCleared", All, Other),
    ("ReconfigurationOfSecurityParameters", All, Other),
    ("MemoryExhaustion", All, Failure),
    ("InvalidMessages", All, Failure),
    ("AttemptedReplayAttacks", All, Failure),
    ("TamperDetectionActivated", All, Failure),
    ("InvalidFirmwareSignature", All, Failure),
    ("InvalidFirmwareSigningCertificate", All, Failure),
    ("InvalidCentralSystemCertificate", V16, Failure),
    ("InvalidChargePointCertificate", V16, Failure),
    ("InvalidCsmsCertificate", V2, Failure),
    ("InvalidChargingStationCertificate", V2, Failure),
    ("InvalidTLSVersion", All, Failure),
    ("InvalidTLSCipherSuite", All, Failure),
    ("MaintenanceLoginAccepted", V2, Other),
    ("MaintenanceLoginFailed", V2, Failure),
    ("DiscardedRenewedClientCertificate", V21, Failure),
];

fn find(event: &str) -> Option<(In, Kind)> {
    EVENTS
        .iter()
        .find(|(name, ..)| *name == event)
        .map(|&(_, versions, kind)| (versions, kind))
}

/// Whether `event` is a standard security event of `version`.
pub fn is_standard(version: Version, event: &str) -> bool {
    find(event).is_some_and(|(versions, _)| match versions {
        All => true,
        V16 => version == Version::V16,
        V2 => version != Version::V16,
        V21 => version == Version::V21,
    })
}

/// Whether `event` (in the spelling of any version) reports a failure or an attack.
pub fn is_failure(event: &str) -> bool {
    find(event).is_some_and(|(_, kind)| kind == Failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_lists_its_own_spelling() {
        assert!(is_standard(Version::V16, "InvalidChargePointCertificate"));
        assert!(!is_standard(Version::V201, "InvalidChargePointCertificate"));
        assert!(is_standard(Version::V201, "MaintenanceLoginFailed"));
        assert!(!is_standard(Version::V16, "MaintenanceLoginFailed"));
        assert!(!is_standard(
            Version::V201,
            "DiscardedRenewedClientCertificate"
        ));
        assert!(is_standard(
            Version::V21,
            "DiscardedRenewedClientCertificate"
        ));
        assert!(is_standard(Version::V21, "ResetOrReboot"));
        assert!(!is_standard(Version::V16, "NoSuchEvent"));
        assert!(is_failure("CsmsFailedToAuthenticate"));
        assert!(!is_failure("MaintenanceLoginAccepted"));
    }
}
