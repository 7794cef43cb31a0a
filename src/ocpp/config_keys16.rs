//! The standard configuration keys of OCPP 1.6 (§9 of the specification, plus the keys of the
//! security white paper) with the type of their value: facts from the specification, one
//! table. The value-format rules (`value.*`) read it; it knows nothing of frames or findings.

/// The type the specification gives a configuration key's value (always sent as a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// `true` or `false`.
    Boolean,
    /// A whole number; never negative for these keys (counts, seconds, percentages).
    Integer,
    /// Free text.
    String,
    /// A comma-separated list whose items are taken from a fixed set.
    Csl(&'static [&'static str]),
    /// A comma-separated list of `<connector>.<rotation>` items (ConnectorPhaseRotation).
    PhaseRotationCsl,
}

/// One standard configuration key.
#[derive(Debug, Clone, Copy)]
pub struct ConfigKey {
    pub name: &'static str,
    pub ty: KeyType,
    /// Required by the Core profile, which every charge point implements (§9.1 marks it
    /// "required"). Keys of the other profiles are required only when the profile is.
    pub core_required: bool,
}

/// The feature profiles of OCPP 1.6 (§3.2), for `SupportedFeatureProfiles`.
pub const FEATURE_PROFILES_16: &[&str] = &[
    "Core",
    "FirmwareManagement",
    "LocalAuthListManagement",
    "Reservation",
    "SmartCharging",
    "RemoteTrigger",
];

/// The charging rate units of OCPP 1.6 (§7.7), for `ChargingScheduleAllowedChargingRateUnit`.
pub const RATE_UNITS_16: &[&str] = &["Current", "Power"];

/// The phase rotations of OCPP 1.6 (§9.1.10), for `ConnectorPhaseRotation`.
pub const PHASE_ROTATIONS_16: &[&str] = &[
    "NotApplicable",
    "Unknown",
    "RST",
    "RTS",
    "SRT",
    "STR",
    "TRS",
    "TSR",
];

const fn key(name: &'static str, ty: KeyType) -> ConfigKey {
    ConfigKey {
        name,
        ty,
        core_required: false,
    }
}

/// A Core key the specification marks required.
const fn core(name: &'static str, ty: KeyType) -> ConfigKey {
    ConfigKey {
        name,
        ty,
        core_required: true,
    }
}

use super::meter::MEASURANDS_16;
use KeyType::{Boolean, Csl, Integer, PhaseRotationCsl, String};

/// The standard keys: §9.1 Core, §9.2 Local Auth List Management, §9.3 Reservation, §9.4
/// Smart Charging, and the keys the security white paper adds (its §6).
pub static KEYS_16: &[ConfigKey] = &[
    // 9.1 Core profile
    key("AllowOfflineTxForUnknownId", Boolean),
    key("AuthorizationCacheEnabled", Boolean),
    core("AuthorizeRemoteTxRequests", Boolean),
    key("BlinkRepeat", Integer),
    core("ClockAlignedDataInterval", Integer),
    core("ConnectionTimeOut", Integer),
    core("ConnectorPhaseRotation", PhaseRotationCsl),
    key("ConnectorPhaseRotationMaxLength", Integer),
    core("GetConfigurationMaxKeys", Integer),
    core("HeartbeatInterval", Integer),
    key("LightIntensity", Integer),
    core("LocalAuthorizeOffline", Boolean),
    core("LocalPreAuthorize", Boolean),
    key("MaxEnergyOnInvalidId", Integer),
    core("MeterValuesAlignedData", Csl(MEASURANDS_16)),
    key("MeterValuesAlignedDataMaxLength", Integer),
    core("MeterValuesSampledData", Csl(MEASURANDS_16)),
    key("MeterValuesSampledDataMaxLength", Integer),
    core("MeterValueSampleInterval", Integer),
    key("MinimumStatusDuration", Integer),
    core("NumberOfConnectors", Integer),
    core("ResetRetries", Integer),
    core("StopTransactionOnEVSideDisconnect", Boolean),
    core("StopTransactionOnInvalidId", Boolean),
    core("StopTxnAlignedData", Csl(MEASURANDS_16)),
    key("StopTxnAlignedDataMaxLength", Integer),
    core("StopTxnSampledData", Csl(MEASURANDS_16)),
    key("StopTxnSampledDataMaxLength", Integer),
    core("SupportedFeatureProfiles", Csl(FEATURE_PROFILES_16)),
    key("SupportedFeatureProfilesMaxLength", Integer),
    core("TransactionMessageAttempts", Integer),
    core("TransactionMessageRetryInterval", Integer),
    core("UnlockConnectorOnEVSideDisconnect", Boolean),
    key("WebSocketPingInterval", Integer),
    // 9.2 Local Auth List Management profile
    key("LocalAuthListEnabled", Boolean),
    key("LocalAuthListMaxLength", Integer),
    key("SendLocalListMaxLength", Integer),
    // 9.3 Reservation profile
    key("ReserveConnectorZeroSupported", Boolean),
    // 9.4 Smart Charging profile
    key("ChargeProfileMaxStackLevel", Integer),
    key(
        "ChargingScheduleAllowedChargingRateUnit",
        Csl(RATE_UNITS_16),
    ),
    key("ChargingScheduleMaxPeriods", Integer),
    key("ConnectorSwitch3to1PhaseSupported", Boolean),
    key("MaxChargingProfilesInstalled", Integer),
    // Security white paper
    key("AdditionalRootCertificateCheck", Boolean),
    key("AuthorizationKey", String),
    key("CertificateSignedMaxChainSize", Integer),
    key("CertificateStoreMaxLength", Integer),
    key("CpoName", String),
    key("SecurityProfile", Integer),
];

/// The standard key of this name (keys are case-sensitive), if it is one.
pub fn lookup(name: &str) -> Option<&'static ConfigKey> {
    KEYS_16.iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for (i, k) in KEYS_16.iter().enumerate() {
            assert!(
                KEYS_16[..i].iter().all(|o| o.name != k.name),
                "{} listed twice",
                k.name
            );
            assert_eq!(lookup(k.name).map(|f| f.name), Some(k.name));
        }
        assert!(lookup("heartbeatinterval").is_none());
        let required = KEYS_16.iter().filter(|k| k.core_required).count();
        assert_eq!(required, 21, "§9.1 marks 21 Core keys required");
    }
}
