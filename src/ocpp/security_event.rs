//! The standard security event types of each version (1.6 security white paper §8, the 2.0.1
//! and 2.1 appendices). Facts of the standard only; the `sec` rules use them.

use super::Version;

/// The standard security events of the 1.6 security white paper (§8).
pub const EVENTS_16: &[&str] = &[
    "FirmwareUpdated",
    "FailedToAuthenticateAtCentralSystem",
    "CentralSystemFailedToAuthenticate",
    "SettingSystemTime",
    "StartupOfTheDevice",
    "ResetOrReboot",
    "SecurityLogWasCleared",
    "ReconfigurationOfSecurityParameters",
    "MemoryExhaustion",
    "InvalidMessages",
    "AttemptedReplayAttacks",
    "TamperDetectionActivated",
    "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate",
    "InvalidCentralSystemCertificate",
    "InvalidChargePointCertificate",
    "InvalidTLSVersion",
    "InvalidTLSCipherSuite",
];

/// The standard security events of the 2.0.1 appendix (v1.4).
pub const EVENTS_201: &[&str] = &[
    "FirmwareUpdated",
    "FailedToAuthenticateAtCsms",
    "CsmsFailedToAuthenticate",
    "SettingSystemTime",
    "StartupOfTheDevice",
    "ResetOrReboot",
    "SecurityLogWasCleared",
    "ReconfigurationOfSecurityParameters",
    "MemoryExhaustion",
    "InvalidMessages",
    "AttemptedReplayAttacks",
    "TamperDetectionActivated",
    "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate",
    "InvalidCsmsCertificate",
    "InvalidChargingStationCertificate",
    "InvalidTLSVersion",
    "InvalidTLSCipherSuite",
    "MaintenanceLoginAccepted",
    "MaintenanceLoginFailed",
];

/// Failure and attack events, in the spellings of all versions.
pub const FAILURES: &[&str] = &[
    "FailedToAuthenticateAtCentralSystem",
    "CentralSystemFailedToAuthenticate",
    "FailedToAuthenticateAtCsms",
    "CsmsFailedToAuthenticate",
    "MemoryExhaustion",
    "InvalidMessages",
    "AttemptedReplayAttacks",
    "TamperDetectionActivated",
    "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate",
    "InvalidCentralSystemCertificate",
    "InvalidCsmsCertificate",
    "InvalidChargePointCertificate",
    "InvalidChargingStationCertificate",
    "DiscardedRenewedClientCertificate",
    "InvalidTLSVersion",
    "InvalidTLSCipherSuite",
    "MaintenanceLoginFailed",
];

/// Whether `event` is a standard security event of `version`.
pub fn is_standard(version: Version, event: &str) -> bool {
    match version {
        Version::V16 => EVENTS_16.contains(&event),
        Version::V201 => EVENTS_201.contains(&event),
        // 2.1 adds DiscardedRenewedClientCertificate (2.1 appendix v2.0).
        Version::V21 => EVENTS_201.contains(&event) || event == "DiscardedRenewedClientCertificate",
    }
}
