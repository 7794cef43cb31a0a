//! The standardized components and variables of OCPP 2.0.1 and 2.1 (Part 2, appendix
//! "Standardized Components and Variables") with the format of their value: the dataType,
//! the valuesList where the specification fixes one, and a lower limit where the
//! specification gives one. Facts from the specification, one table per version (2.1 is the
//! 2.0.1 table plus the variables 2.1 adds). The value-format rules (`value.*`) read them;
//! this module knows nothing of frames or findings.
//!
//! Only variables whose format the specification fixes are listed; a variable that is not
//! here is not judged.

use super::Version;
use super::meter::MEASURANDS_201;

/// `DataEnumType` of 2.0.1/2.1: how a variable's value (always sent as a string) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    String,
    Decimal,
    Integer,
    DateTime,
    Boolean,
    /// One value of the valuesList.
    OptionList,
    /// A comma-separated ordered list.
    SequenceList,
    /// A comma-separated (sub)set of the valuesList.
    MemberList,
}

impl DataType {
    /// The name as the specification (and `variableCharacteristics.dataType`) writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::String => "string",
            DataType::Decimal => "decimal",
            DataType::Integer => "integer",
            DataType::DateTime => "dateTime",
            DataType::Boolean => "boolean",
            DataType::OptionList => "OptionList",
            DataType::SequenceList => "SequenceList",
            DataType::MemberList => "MemberList",
        }
    }
}

/// What the items of a list (or the value of an OptionList) may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Anything the dataType allows.
    Any,
    /// One of these (case-sensitive).
    OneOf(&'static [&'static str]),
    /// Whole numbers (the slots of NetworkConfigurationPriority).
    Integers,
}

/// One standardized variable of one component.
#[derive(Debug, Clone, Copy)]
pub struct StdVariable {
    pub component: &'static str,
    pub variable: &'static str,
    pub data_type: DataType,
    pub values: Values,
    /// The smallest value the specification allows (integers and decimals).
    pub min: Option<i64>,
}

use DataType::{Boolean, DateTime, Decimal, Integer, MemberList, OptionList, SequenceList};

const fn var(
    component: &'static str,
    variable: &'static str,
    data_type: DataType,
    values: Values,
) -> StdVariable {
    StdVariable {
        component,
        variable,
        data_type,
        values,
        min: None,
    }
}

/// An integer that counts something or is a duration: the specification gives no meaning
/// to a negative value (0 disables or means "none" where it is allowed).
const fn count(component: &'static str, variable: &'static str) -> StdVariable {
    StdVariable {
        component,
        variable,
        data_type: Integer,
        values: Values::Any,
        min: Some(0),
    }
}

const fn boolean(component: &'static str, variable: &'static str) -> StdVariable {
    var(component, variable, Boolean, Values::Any)
}

/// The measurands of 2.1 (`MeasurandEnumType`).
pub const MEASURANDS_21: &[&str] = &[
    "Current.Export",
    "Current.Export.Offered",
    "Current.Export.Minimum",
    "Current.Import",
    "Current.Import.Offered",
    "Current.Import.Minimum",
    "Current.Offered",
    "Display.PresentSOC",
    "Display.MinimumSOC",
    "Display.TargetSOC",
    "Display.MaximumSOC",
    "Display.RemainingTimeToMinimumSOC",
    "Display.RemainingTimeToTargetSOC",
    "Display.RemainingTimeToMaximumSOC",
    "Display.ChargingComplete",
    "Display.BatteryEnergyCapacity",
    "Display.InletHot",
    "Energy.Active.Export.Interval",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Interval",
    "Energy.Active.Import.Register",
    "Energy.Active.Import.CableLoss",
    "Energy.Active.Import.LocalGeneration.Register",
    "Energy.Active.Net",
    "Energy.Active.Setpoint.Interval",
    "Energy.Apparent.Export",
    "Energy.Apparent.Import",
    "Energy.Apparent.Net",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Interval",
    "Energy.Reactive.Import.Register",
    "Energy.Reactive.Net",
    "EnergyRequest.Target",
    "EnergyRequest.Minimum",
    "EnergyRequest.Maximum",
    "EnergyRequest.Minimum.V2X",
    "EnergyRequest.Maximum.V2X",
    "EnergyRequest.Bulk",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Active.Setpoint",
    "Power.Active.Residual",
    "Power.Export.Minimum",
    "Power.Export.Offered",
    "Power.Factor",
    "Power.Import.Offered",
    "Power.Import.Minimum",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "SoC",
    "Voltage",
    "Voltage.Minimum",
    "Voltage.Maximum",
];

/// TxStartPoint / TxStopPoint (2.0.1 E01/E06).
const TX_POINTS: &[&str] = &[
    "ParkingBayOccupancy",
    "EVConnected",
    "Authorized",
    "DataSigned",
    "PowerPathClosed",
    "EnergyTransfer",
];
const FILE_TRANSFER_PROTOCOLS: &[&str] = &["FTP", "FTPS", "HTTP", "HTTPS", "SFTP"];
const TIME_SOURCES: &[&str] = &[
    "Heartbeat",
    "NTP",
    "GPS",
    "RealTimeClock",
    "MobileNetwork",
    "RadioTimeTransmitter",
];
const NTP_SOURCES: &[&str] = &["DHCP", "manual"];
const RATE_UNITS: &[&str] = &["A", "W"];
const AUTH_CACHE_POLICIES: &[&str] = &["LRU", "LFU", "FIFO", "CUSTOM"];
const MESSAGE_FORMATS: &[&str] = &["ASCII", "HTML", "URI", "UTF8"];
const MESSAGE_PRIORITIES: &[&str] = &["AlwaysFront", "InFront", "NormalCycle"];
const MONITORING_BASES: &[&str] = &["All", "FactoryDefault", "HardWiredOnly"];
const SIGNED_METER_KEY: &[&str] = &["Never", "OncePerTransaction", "EveryMeterValue"];
const AVAILABILITY_STATES: &[&str] = &[
    "Available",
    "Occupied",
    "Reserved",
    "Unavailable",
    "Faulted",
];

/// Builds the 2.0.1 table; 2.1 adds its own rows after it.
macro_rules! common_rows {
    ($measurands:expr $(, $extra:expr)*) => {
        [
            // OCPPCommCtrlr
            count("OCPPCommCtrlr", "ActiveNetworkProfile"),
            var("OCPPCommCtrlr", "FileTransferProtocols", MemberList, Values::OneOf(FILE_TRANSFER_PROTOCOLS)),
            count("OCPPCommCtrlr", "HeartbeatInterval"),
            count("OCPPCommCtrlr", "MessageTimeout"),
            count("OCPPCommCtrlr", "MessageAttemptInterval"),
            count("OCPPCommCtrlr", "MessageAttempts"),
            var("OCPPCommCtrlr", "NetworkConfigurationPriority", SequenceList, Values::Integers),
            count("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"),
            count("OCPPCommCtrlr", "OfflineThreshold"),
            var("OCPPCommCtrlr", "PublicKeyWithSignedMeterValue", OptionList, Values::OneOf(SIGNED_METER_KEY)),
            boolean("OCPPCommCtrlr", "QueueAllMessages"),
            count("OCPPCommCtrlr", "ResetRetries"),
            count("OCPPCommCtrlr", "RetryBackOffRandomRange"),
            count("OCPPCommCtrlr", "RetryBackOffRepeatTimes"),
            count("OCPPCommCtrlr", "RetryBackOffWaitMinimum"),
            boolean("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"),
            count("OCPPCommCtrlr", "WebSocketPingInterval"),
            count("OCPPCommCtrlr", "FieldLength"),
            // AlignedDataCtrlr
            boolean("AlignedDataCtrlr", "Enabled"),
            boolean("AlignedDataCtrlr", "Available"),
            count("AlignedDataCtrlr", "Interval"),
            var("AlignedDataCtrlr", "Measurands", MemberList, Values::OneOf($measurands)),
            boolean("AlignedDataCtrlr", "SendDuringIdle"),
            boolean("AlignedDataCtrlr", "SignReadings"),
            count("AlignedDataCtrlr", "TxEndedInterval"),
            var("AlignedDataCtrlr", "TxEndedMeasurands", MemberList, Values::OneOf($measurands)),
            // SampledDataCtrlr
            boolean("SampledDataCtrlr", "Enabled"),
            boolean("SampledDataCtrlr", "Available"),
            boolean("SampledDataCtrlr", "SignReadings"),
            count("SampledDataCtrlr", "TxEndedInterval"),
            var("SampledDataCtrlr", "TxEndedMeasurands", MemberList, Values::OneOf($measurands)),
            var("SampledDataCtrlr", "TxStartedMeasurands", MemberList, Values::OneOf($measurands)),
            count("SampledDataCtrlr", "TxUpdatedInterval"),
            var("SampledDataCtrlr", "TxUpdatedMeasurands", MemberList, Values::OneOf($measurands)),
            boolean("SampledDataCtrlr", "RegisterValuesWithoutPhases"),
            // TxCtrlr
            count("TxCtrlr", "EVConnectionTimeOut"),
            count("TxCtrlr", "MaxEnergyOnInvalidId"),
            boolean("TxCtrlr", "StopTxOnEVSideDisconnect"),
            boolean("TxCtrlr", "StopTxOnInvalidId"),
            boolean("TxCtrlr", "TxBeforeAcceptedEnabled"),
            var("TxCtrlr", "TxStartPoint", MemberList, Values::OneOf(TX_POINTS)),
            var("TxCtrlr", "TxStopPoint", MemberList, Values::OneOf(TX_POINTS)),
            // AuthCtrlr
            boolean("AuthCtrlr", "Enabled"),
            count("AuthCtrlr", "AdditionalInfoItemsPerMessage"),
            boolean("AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
            boolean("AuthCtrlr", "AuthorizeRemoteStart"),
            boolean("AuthCtrlr", "LocalAuthorizeOffline"),
            boolean("AuthCtrlr", "LocalPreAuthorize"),
            boolean("AuthCtrlr", "DisableRemoteAuthorization"),
            // AuthCacheCtrlr
            boolean("AuthCacheCtrlr", "Enabled"),
            boolean("AuthCacheCtrlr", "Available"),
            count("AuthCacheCtrlr", "LifeTime"),
            count("AuthCacheCtrlr", "Storage"),
            var("AuthCacheCtrlr", "Policy", OptionList, Values::OneOf(AUTH_CACHE_POLICIES)),
            boolean("AuthCacheCtrlr", "DisablePostAuthorize"),
            // LocalAuthListCtrlr
            boolean("LocalAuthListCtrlr", "Enabled"),
            boolean("LocalAuthListCtrlr", "Available"),
            count("LocalAuthListCtrlr", "Entries"),
            count("LocalAuthListCtrlr", "ItemsPerMessage"),
            count("LocalAuthListCtrlr", "BytesPerMessage"),
            count("LocalAuthListCtrlr", "Storage"),
            boolean("LocalAuthListCtrlr", "DisablePostAuthorize"),
            // SecurityCtrlr
            count("SecurityCtrlr", "CertificateEntries"),
            count("SecurityCtrlr", "SecurityProfile"),
            boolean("SecurityCtrlr", "AdditionalRootCertificateCheck"),
            count("SecurityCtrlr", "MaxCertificateChainSize"),
            count("SecurityCtrlr", "CertSigningWaitMinimum"),
            count("SecurityCtrlr", "CertSigningRepeatTimes"),
            // ChargingStation, EVSE, Connector
            var("ChargingStation", "AvailabilityState", OptionList, Values::OneOf(AVAILABILITY_STATES)),
            boolean("ChargingStation", "Available"),
            count("ChargingStation", "SupplyPhases"),
            var("EVSE", "AvailabilityState", OptionList, Values::OneOf(AVAILABILITY_STATES)),
            boolean("EVSE", "Available"),
            count("EVSE", "SupplyPhases"),
            var("Connector", "AvailabilityState", OptionList, Values::OneOf(AVAILABILITY_STATES)),
            boolean("Connector", "Available"),
            count("Connector", "SupplyPhases"),
            // ClockCtrlr
            var("ClockCtrlr", "DateTime", DateTime, Values::Any),
            var("ClockCtrlr", "NtpSource", OptionList, Values::OneOf(NTP_SOURCES)),
            var("ClockCtrlr", "NextTimeOffsetTransitionDateTime", DateTime, Values::Any),
            var("ClockCtrlr", "TimeSource", SequenceList, Values::OneOf(TIME_SOURCES)),
            count("ClockCtrlr", "TimeAdjustmentReportingThreshold"),
            // DeviceDataCtrlr
            count("DeviceDataCtrlr", "BytesPerMessage"),
            count("DeviceDataCtrlr", "ItemsPerMessage"),
            count("DeviceDataCtrlr", "ConfigurationValueSize"),
            count("DeviceDataCtrlr", "ReportingValueSize"),
            count("DeviceDataCtrlr", "ValueSize"),
            // SmartChargingCtrlr
            boolean("SmartChargingCtrlr", "Enabled"),
            boolean("SmartChargingCtrlr", "Available"),
            boolean("SmartChargingCtrlr", "ACPhaseSwitchingSupported"),
            count("SmartChargingCtrlr", "ProfileStackLevel"),
            var("SmartChargingCtrlr", "RateUnit", MemberList, Values::OneOf(RATE_UNITS)),
            count("SmartChargingCtrlr", "PeriodsPerSchedule"),
            boolean("SmartChargingCtrlr", "ExternalControlSignalsEnabled"),
            boolean("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules"),
            boolean("SmartChargingCtrlr", "Phases3to1"),
            count("SmartChargingCtrlr", "Entries"),
            var("SmartChargingCtrlr", "LimitChangeSignificance", Decimal, Values::Any),
            // ReservationCtrlr
            boolean("ReservationCtrlr", "Enabled"),
            boolean("ReservationCtrlr", "Available"),
            boolean("ReservationCtrlr", "NonEvseSpecific"),
            // TariffCostCtrlr
            boolean("TariffCostCtrlr", "Enabled"),
            boolean("TariffCostCtrlr", "Available"),
            // DisplayMessageCtrlr
            boolean("DisplayMessageCtrlr", "Enabled"),
            boolean("DisplayMessageCtrlr", "Available"),
            count("DisplayMessageCtrlr", "DisplayMessages"),
            var("DisplayMessageCtrlr", "SupportedFormats", MemberList, Values::OneOf(MESSAGE_FORMATS)),
            var("DisplayMessageCtrlr", "SupportedPriorities", MemberList, Values::OneOf(MESSAGE_PRIORITIES)),
            // MonitoringCtrlr
            boolean("MonitoringCtrlr", "Enabled"),
            boolean("MonitoringCtrlr", "Available"),
            count("MonitoringCtrlr", "BytesPerMessage"),
            count("MonitoringCtrlr", "ItemsPerMessage"),
            count("MonitoringCtrlr", "OfflineQueuingSeverity"),
            var("MonitoringCtrlr", "MonitoringBase", OptionList, Values::OneOf(MONITORING_BASES)),
            count("MonitoringCtrlr", "MonitoringLevel"),
            var("MonitoringCtrlr", "ActiveMonitoringBase", OptionList, Values::OneOf(MONITORING_BASES)),
            count("MonitoringCtrlr", "ActiveMonitoringLevel"),
            // ISO15118Ctrlr
            boolean("ISO15118Ctrlr", "CentralContractValidationAllowed"),
            boolean("ISO15118Ctrlr", "ContractValidationOffline"),
            count("ISO15118Ctrlr", "MaxScheduleEntries"),
            boolean("ISO15118Ctrlr", "RequestMeteringReceipt"),
            boolean("ISO15118Ctrlr", "PnCEnabled"),
            boolean("ISO15118Ctrlr", "V2GCertificateInstallationEnabled"),
            boolean("ISO15118Ctrlr", "ContractCertificateInstallationEnabled"),
            // CustomizationCtrlr
            boolean("CustomizationCtrlr", "CustomImplementationEnabled"),
            $($extra,)*
        ]
    };
}

/// The standardized variables of OCPP 2.0.1 whose format is fixed.
pub static VARIABLES_201: &[StdVariable] = &common_rows!(MEASURANDS_201);

/// The standardized variables of OCPP 2.1 whose format is fixed: the 2.0.1 rows (with the
/// 2.1 measurands) and the rows 2.1 adds.
pub static VARIABLES_21: &[StdVariable] = &common_rows!(
    MEASURANDS_21,
    boolean("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate")
);

/// The table of `version` (empty on 1.6, which has configuration keys instead).
pub fn table(version: Version) -> &'static [StdVariable] {
    match version {
        Version::V16 => &[],
        Version::V201 => VARIABLES_201,
        Version::V21 => VARIABLES_21,
    }
}

/// The standardized variable `component`.`variable` of `version`, if its format is fixed.
/// Instances do not change the format, so they are not part of the key.
pub fn lookup(version: Version, component: &str, variable: &str) -> Option<&'static StdVariable> {
    table(version)
        .iter()
        .find(|v| v.component == component && v.variable == variable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_unique_per_version() {
        for v in [Version::V201, Version::V21] {
            let t = table(v);
            for (i, r) in t.iter().enumerate() {
                assert!(
                    t[..i]
                        .iter()
                        .all(|o| (o.component, o.variable) != (r.component, r.variable)),
                    "{v}: {}.{} listed twice",
                    r.component,
                    r.variable
                );
            }
        }
    }

    #[test]
    fn lists_have_values_and_2_1_extends_2_0_1() {
        let ncp = lookup(
            Version::V201,
            "OCPPCommCtrlr",
            "NetworkConfigurationPriority",
        );
        assert_eq!(ncp.map(|v| v.data_type), Some(DataType::SequenceList));
        assert!(
            lookup(
                Version::V21,
                "ChargingStation",
                "AllowNewSessionsPendingFirmwareUpdate"
            )
            .is_some()
        );
        assert!(
            lookup(
                Version::V201,
                "ChargingStation",
                "AllowNewSessionsPendingFirmwareUpdate"
            )
            .is_none()
        );
        assert!(lookup(Version::V16, "OCPPCommCtrlr", "HeartbeatInterval").is_none());
        for r in VARIABLES_21 {
            if matches!(r.data_type, DataType::OptionList | DataType::MemberList) {
                assert!(
                    matches!(r.values, Values::OneOf(_)),
                    "{}.{}",
                    r.component,
                    r.variable
                );
            }
        }
    }
}
