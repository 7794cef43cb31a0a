//! The action catalogue: every action of every version and the side that may send its CALL.
//!
//! Directions follow the message definitions of OCPP 1.6 edition 2 (chapter 4: sent by the
//! charger, chapter 5: sent by the Central System), the 1.6 security white paper, and Part 2
//! of 2.0.1 and 2.1. Local-controller messages (PublishFirmware and friends) are treated as
//! CSMS→charger / charger→CSMS on a charger connection.

use super::{Side, Version};

/// Who may send the CALL of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ChargerToCsms,
    CsmsToCharger,
    Both,
}

impl Dir {
    pub fn allows(self, from: Side) -> bool {
        matches!(
            (self, from),
            (Dir::Both, _) | (Dir::ChargerToCsms, Side::Charger) | (Dir::CsmsToCharger, Side::Csms)
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            Dir::ChargerToCsms => "charger→csms",
            Dir::CsmsToCharger => "csms→charger",
            Dir::Both => "both ways",
        }
    }
}

/// One action of one version.
#[derive(Debug, Clone, Copy)]
pub struct ActionInfo {
    pub name: &'static str,
    pub dir: Dir,
    /// Where the specification defines the message.
    pub spec: &'static str,
}

impl ActionInfo {
    const fn new(name: &'static str, dir: Dir, spec: &'static str) -> Self {
        ActionInfo { name, dir, spec }
    }
}

/// The catalogue of one version, sorted by name.
pub fn catalogue(version: Version) -> &'static [ActionInfo] {
    match version {
        Version::V16 => V16,
        Version::V201 => V201,
        Version::V21 => V21,
    }
}

/// Looks an action up by its exact (case-sensitive) name.
pub fn lookup(version: Version, name: &str) -> Option<(usize, &'static ActionInfo)> {
    let table = catalogue(version);
    table
        .binary_search_by(|a| a.name.cmp(name))
        .ok()
        .map(|i| (i, &table[i]))
}

/// The 1.6 actions that come from the security white paper rather than the core spec.
pub const V16_SECURITY_EXTENSION: &[&str] = &[
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "LogStatusNotification",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    "SignedUpdateFirmware",
];

/// Actions that address a Local Controller rather than a charging station (2.x).
pub const LOCAL_CONTROLLER_ACTIONS: &[&str] = &[
    "PublishFirmware",
    "PublishFirmwareStatusNotification",
    "UnpublishFirmware",
];

/// The OCPP 1.6 actions and the side that sends the CALL (or SEND).
pub static V16: &[ActionInfo] = &[
    ActionInfo::new("Authorize", Dir::ChargerToCsms, "C16 §4.1"),
    ActionInfo::new("BootNotification", Dir::ChargerToCsms, "C16 §4.2"),
    ActionInfo::new("CancelReservation", Dir::CsmsToCharger, "C16 §5.1"),
    ActionInfo::new("CertificateSigned", Dir::CsmsToCharger, "SW16 §5.1"),
    ActionInfo::new("ChangeAvailability", Dir::CsmsToCharger, "C16 §5.2"),
    ActionInfo::new("ChangeConfiguration", Dir::CsmsToCharger, "C16 §5.3"),
    ActionInfo::new("ClearCache", Dir::CsmsToCharger, "C16 §5.4"),
    ActionInfo::new("ClearChargingProfile", Dir::CsmsToCharger, "C16 §5.5"),
    ActionInfo::new("DataTransfer", Dir::Both, "C16 §4.3, §5.6"),
    ActionInfo::new("DeleteCertificate", Dir::CsmsToCharger, "SW16 §5.3"),
    ActionInfo::new(
        "DiagnosticsStatusNotification",
        Dir::ChargerToCsms,
        "C16 §4.4",
    ),
    ActionInfo::new("ExtendedTriggerMessage", Dir::CsmsToCharger, "SW16 §5.5"),
    ActionInfo::new("FirmwareStatusNotification", Dir::ChargerToCsms, "C16 §4.5"),
    ActionInfo::new("GetCompositeSchedule", Dir::CsmsToCharger, "C16 §5.7"),
    ActionInfo::new("GetConfiguration", Dir::CsmsToCharger, "C16 §5.8"),
    ActionInfo::new("GetDiagnostics", Dir::CsmsToCharger, "C16 §5.9"),
    ActionInfo::new(
        "GetInstalledCertificateIds",
        Dir::CsmsToCharger,
        "SW16 §5.7",
    ),
    ActionInfo::new("GetLocalListVersion", Dir::CsmsToCharger, "C16 §5.10"),
    ActionInfo::new("GetLog", Dir::CsmsToCharger, "SW16 §5.9"),
    ActionInfo::new("Heartbeat", Dir::ChargerToCsms, "C16 §4.6"),
    ActionInfo::new("InstallCertificate", Dir::CsmsToCharger, "SW16 §5.11"),
    ActionInfo::new("LogStatusNotification", Dir::ChargerToCsms, "SW16 §5.13"),
    ActionInfo::new("MeterValues", Dir::ChargerToCsms, "C16 §4.7"),
    ActionInfo::new("RemoteStartTransaction", Dir::CsmsToCharger, "C16 §5.11"),
    ActionInfo::new("RemoteStopTransaction", Dir::CsmsToCharger, "C16 §5.12"),
    ActionInfo::new("ReserveNow", Dir::CsmsToCharger, "C16 §5.13"),
    ActionInfo::new("Reset", Dir::CsmsToCharger, "C16 §5.14"),
    ActionInfo::new(
        "SecurityEventNotification",
        Dir::ChargerToCsms,
        "SW16 §5.15",
    ),
    ActionInfo::new("SendLocalList", Dir::CsmsToCharger, "C16 §5.15"),
    ActionInfo::new("SetChargingProfile", Dir::CsmsToCharger, "C16 §5.16"),
    ActionInfo::new("SignCertificate", Dir::ChargerToCsms, "SW16 §5.17"),
    ActionInfo::new(
        "SignedFirmwareStatusNotification",
        Dir::ChargerToCsms,
        "SW16 §5.19",
    ),
    ActionInfo::new("SignedUpdateFirmware", Dir::CsmsToCharger, "SW16 §5.21"),
    ActionInfo::new("StartTransaction", Dir::ChargerToCsms, "C16 §4.8"),
    ActionInfo::new("StatusNotification", Dir::ChargerToCsms, "C16 §4.9"),
    ActionInfo::new("StopTransaction", Dir::ChargerToCsms, "C16 §4.10"),
    ActionInfo::new("TriggerMessage", Dir::CsmsToCharger, "C16 §5.17"),
    ActionInfo::new("UnlockConnector", Dir::CsmsToCharger, "C16 §5.18"),
    ActionInfo::new("UpdateFirmware", Dir::CsmsToCharger, "C16 §5.19"),
];
/// The OCPP 2.0.1 actions and the side that sends the CALL (or SEND).
pub static V201: &[ActionInfo] = &[
    ActionInfo::new("Authorize", Dir::ChargerToCsms, "P2-201 §1.1"),
    ActionInfo::new("BootNotification", Dir::ChargerToCsms, "P2-201 §1.2"),
    ActionInfo::new("CancelReservation", Dir::CsmsToCharger, "P2-201 §1.3"),
    ActionInfo::new("CertificateSigned", Dir::CsmsToCharger, "P2-201 §1.4"),
    ActionInfo::new("ChangeAvailability", Dir::CsmsToCharger, "P2-201 §1.5"),
    ActionInfo::new("ClearCache", Dir::CsmsToCharger, "P2-201 §1.6"),
    ActionInfo::new("ClearChargingProfile", Dir::CsmsToCharger, "P2-201 §1.7"),
    ActionInfo::new("ClearDisplayMessage", Dir::CsmsToCharger, "P2-201 §1.8"),
    ActionInfo::new(
        "ClearVariableMonitoring",
        Dir::CsmsToCharger,
        "P2-201 §1.10",
    ),
    ActionInfo::new("ClearedChargingLimit", Dir::ChargerToCsms, "P2-201 §1.9"),
    ActionInfo::new("CostUpdated", Dir::CsmsToCharger, "P2-201 §1.11"),
    ActionInfo::new("CustomerInformation", Dir::CsmsToCharger, "P2-201 §1.12"),
    ActionInfo::new("DataTransfer", Dir::Both, "P2-201 §1.13"),
    ActionInfo::new("DeleteCertificate", Dir::CsmsToCharger, "P2-201 §1.14"),
    ActionInfo::new(
        "FirmwareStatusNotification",
        Dir::ChargerToCsms,
        "P2-201 §1.15",
    ),
    ActionInfo::new("Get15118EVCertificate", Dir::ChargerToCsms, "P2-201 §1.16"),
    ActionInfo::new("GetBaseReport", Dir::CsmsToCharger, "P2-201 §1.17"),
    ActionInfo::new("GetCertificateStatus", Dir::ChargerToCsms, "P2-201 §1.18"),
    ActionInfo::new("GetChargingProfiles", Dir::CsmsToCharger, "P2-201 §1.19"),
    ActionInfo::new("GetCompositeSchedule", Dir::CsmsToCharger, "P2-201 §1.20"),
    ActionInfo::new("GetDisplayMessages", Dir::CsmsToCharger, "P2-201 §1.21"),
    ActionInfo::new(
        "GetInstalledCertificateIds",
        Dir::CsmsToCharger,
        "P2-201 §1.22",
    ),
    ActionInfo::new("GetLocalListVersion", Dir::CsmsToCharger, "P2-201 §1.23"),
    ActionInfo::new("GetLog", Dir::CsmsToCharger, "P2-201 §1.24"),
    ActionInfo::new("GetMonitoringReport", Dir::CsmsToCharger, "P2-201 §1.25"),
    ActionInfo::new("GetReport", Dir::CsmsToCharger, "P2-201 §1.26"),
    ActionInfo::new("GetTransactionStatus", Dir::CsmsToCharger, "P2-201 §1.27"),
    ActionInfo::new("GetVariables", Dir::CsmsToCharger, "P2-201 §1.28"),
    ActionInfo::new("Heartbeat", Dir::ChargerToCsms, "P2-201 §1.29"),
    ActionInfo::new("InstallCertificate", Dir::CsmsToCharger, "P2-201 §1.30"),
    ActionInfo::new("LogStatusNotification", Dir::ChargerToCsms, "P2-201 §1.31"),
    ActionInfo::new("MeterValues", Dir::ChargerToCsms, "P2-201 §1.32"),
    ActionInfo::new("NotifyChargingLimit", Dir::ChargerToCsms, "P2-201 §1.33"),
    ActionInfo::new(
        "NotifyCustomerInformation",
        Dir::ChargerToCsms,
        "P2-201 §1.34",
    ),
    ActionInfo::new("NotifyDisplayMessages", Dir::ChargerToCsms, "P2-201 §1.35"),
    ActionInfo::new("NotifyEVChargingNeeds", Dir::ChargerToCsms, "P2-201 §1.36"),
    ActionInfo::new(
        "NotifyEVChargingSchedule",
        Dir::ChargerToCsms,
        "P2-201 §1.37",
    ),
    ActionInfo::new("NotifyEvent", Dir::ChargerToCsms, "P2-201 §1.38"),
    ActionInfo::new("NotifyMonitoringReport", Dir::ChargerToCsms, "P2-201 §1.39"),
    ActionInfo::new("NotifyReport", Dir::ChargerToCsms, "P2-201 §1.40"),
    ActionInfo::new("PublishFirmware", Dir::CsmsToCharger, "P2-201 §1.41"),
    ActionInfo::new(
        "PublishFirmwareStatusNotification",
        Dir::ChargerToCsms,
        "P2-201 §1.42",
    ),
    ActionInfo::new("ReportChargingProfiles", Dir::ChargerToCsms, "P2-201 §1.43"),
    ActionInfo::new(
        "RequestStartTransaction",
        Dir::CsmsToCharger,
        "P2-201 §1.44",
    ),
    ActionInfo::new("RequestStopTransaction", Dir::CsmsToCharger, "P2-201 §1.45"),
    ActionInfo::new(
        "ReservationStatusUpdate",
        Dir::ChargerToCsms,
        "P2-201 §1.46",
    ),
    ActionInfo::new("ReserveNow", Dir::CsmsToCharger, "P2-201 §1.47"),
    ActionInfo::new("Reset", Dir::CsmsToCharger, "P2-201 §1.48"),
    ActionInfo::new(
        "SecurityEventNotification",
        Dir::ChargerToCsms,
        "P2-201 §1.49",
    ),
    ActionInfo::new("SendLocalList", Dir::CsmsToCharger, "P2-201 §1.50"),
    ActionInfo::new("SetChargingProfile", Dir::CsmsToCharger, "P2-201 §1.51"),
    ActionInfo::new("SetDisplayMessage", Dir::CsmsToCharger, "P2-201 §1.52"),
    ActionInfo::new("SetMonitoringBase", Dir::CsmsToCharger, "P2-201 §1.53"),
    ActionInfo::new("SetMonitoringLevel", Dir::CsmsToCharger, "P2-201 §1.54"),
    ActionInfo::new("SetNetworkProfile", Dir::CsmsToCharger, "P2-201 §1.55"),
    ActionInfo::new("SetVariableMonitoring", Dir::CsmsToCharger, "P2-201 §1.56"),
    ActionInfo::new("SetVariables", Dir::CsmsToCharger, "P2-201 §1.57"),
    ActionInfo::new("SignCertificate", Dir::ChargerToCsms, "P2-201 §1.58"),
    ActionInfo::new("StatusNotification", Dir::ChargerToCsms, "P2-201 §1.59"),
    ActionInfo::new("TransactionEvent", Dir::ChargerToCsms, "P2-201 §1.60"),
    ActionInfo::new("TriggerMessage", Dir::CsmsToCharger, "P2-201 §1.61"),
    ActionInfo::new("UnlockConnector", Dir::CsmsToCharger, "P2-201 §1.62"),
    ActionInfo::new("UnpublishFirmware", Dir::CsmsToCharger, "P2-201 §1.63"),
    ActionInfo::new("UpdateFirmware", Dir::CsmsToCharger, "P2-201 §1.64"),
];
/// The OCPP 2.1 actions and the side that sends the CALL (or SEND).
pub static V21: &[ActionInfo] = &[
    ActionInfo::new("AFRRSignal", Dir::CsmsToCharger, "P2-21 §1.2"),
    ActionInfo::new(
        "AdjustPeriodicEventStream",
        Dir::CsmsToCharger,
        "P2-21 §1.1",
    ),
    ActionInfo::new("Authorize", Dir::ChargerToCsms, "P2-21 §1.3"),
    ActionInfo::new("BatterySwap", Dir::ChargerToCsms, "P2-21 §1.4"),
    ActionInfo::new("BootNotification", Dir::ChargerToCsms, "P2-21 §1.5"),
    ActionInfo::new("CancelReservation", Dir::CsmsToCharger, "P2-21 §1.6"),
    ActionInfo::new("CertificateSigned", Dir::CsmsToCharger, "P2-21 §1.7"),
    ActionInfo::new("ChangeAvailability", Dir::CsmsToCharger, "P2-21 §1.8"),
    ActionInfo::new("ChangeTransactionTariff", Dir::CsmsToCharger, "P2-21 §1.9"),
    ActionInfo::new("ClearCache", Dir::CsmsToCharger, "P2-21 §1.10"),
    ActionInfo::new("ClearChargingProfile", Dir::CsmsToCharger, "P2-21 §1.11"),
    ActionInfo::new("ClearDERControl", Dir::CsmsToCharger, "P2-21 §1.12"),
    ActionInfo::new("ClearDisplayMessage", Dir::CsmsToCharger, "P2-21 §1.13"),
    ActionInfo::new("ClearTariffs", Dir::CsmsToCharger, "P2-21 §1.15"),
    ActionInfo::new("ClearVariableMonitoring", Dir::CsmsToCharger, "P2-21 §1.16"),
    ActionInfo::new("ClearedChargingLimit", Dir::ChargerToCsms, "P2-21 §1.14"),
    ActionInfo::new(
        "ClosePeriodicEventStream",
        Dir::ChargerToCsms,
        "P2-21 §1.17",
    ),
    ActionInfo::new("CostUpdated", Dir::CsmsToCharger, "P2-21 §1.18"),
    ActionInfo::new("CustomerInformation", Dir::CsmsToCharger, "P2-21 §1.19"),
    ActionInfo::new("DataTransfer", Dir::Both, "P2-21 §1.20"),
    ActionInfo::new("DeleteCertificate", Dir::CsmsToCharger, "P2-21 §1.21"),
    ActionInfo::new(
        "FirmwareStatusNotification",
        Dir::ChargerToCsms,
        "P2-21 §1.22",
    ),
    ActionInfo::new("Get15118EVCertificate", Dir::ChargerToCsms, "P2-21 §1.23"),
    ActionInfo::new("GetBaseReport", Dir::CsmsToCharger, "P2-21 §1.24"),
    ActionInfo::new(
        "GetCertificateChainStatus",
        Dir::ChargerToCsms,
        "P2-21 §1.25",
    ),
    ActionInfo::new("GetCertificateStatus", Dir::ChargerToCsms, "P2-21 §1.26"),
    ActionInfo::new("GetChargingProfiles", Dir::CsmsToCharger, "P2-21 §1.27"),
    ActionInfo::new("GetCompositeSchedule", Dir::CsmsToCharger, "P2-21 §1.28"),
    ActionInfo::new("GetDERControl", Dir::CsmsToCharger, "P2-21 §1.29"),
    ActionInfo::new("GetDisplayMessages", Dir::CsmsToCharger, "P2-21 §1.30"),
    ActionInfo::new(
        "GetInstalledCertificateIds",
        Dir::CsmsToCharger,
        "P2-21 §1.31",
    ),
    ActionInfo::new("GetLocalListVersion", Dir::CsmsToCharger, "P2-21 §1.32"),
    ActionInfo::new("GetLog", Dir::CsmsToCharger, "P2-21 §1.33"),
    ActionInfo::new("GetMonitoringReport", Dir::CsmsToCharger, "P2-21 §1.34"),
    ActionInfo::new("GetPeriodicEventStream", Dir::CsmsToCharger, "P2-21 §1.35"),
    ActionInfo::new("GetReport", Dir::CsmsToCharger, "P2-21 §1.36"),
    ActionInfo::new("GetTariffs", Dir::CsmsToCharger, "P2-21 §1.37"),
    ActionInfo::new("GetTransactionStatus", Dir::CsmsToCharger, "P2-21 §1.38"),
    ActionInfo::new("GetVariables", Dir::CsmsToCharger, "P2-21 §1.39"),
    ActionInfo::new("Heartbeat", Dir::ChargerToCsms, "P2-21 §1.40"),
    ActionInfo::new("InstallCertificate", Dir::CsmsToCharger, "P2-21 §1.41"),
    ActionInfo::new("LogStatusNotification", Dir::ChargerToCsms, "P2-21 §1.42"),
    ActionInfo::new("MeterValues", Dir::ChargerToCsms, "P2-21 §1.43"),
    ActionInfo::new(
        "NotifyAllowedEnergyTransfer",
        Dir::CsmsToCharger,
        "P2-21 §1.44",
    ),
    ActionInfo::new("NotifyChargingLimit", Dir::ChargerToCsms, "P2-21 §1.45"),
    ActionInfo::new(
        "NotifyCustomerInformation",
        Dir::ChargerToCsms,
        "P2-21 §1.46",
    ),
    ActionInfo::new("NotifyDERAlarm", Dir::ChargerToCsms, "P2-21 §1.47"),
    ActionInfo::new("NotifyDERStartStop", Dir::ChargerToCsms, "P2-21 §1.48"),
    ActionInfo::new("NotifyDisplayMessages", Dir::ChargerToCsms, "P2-21 §1.49"),
    ActionInfo::new("NotifyEVChargingNeeds", Dir::ChargerToCsms, "P2-21 §1.50"),
    ActionInfo::new(
        "NotifyEVChargingSchedule",
        Dir::ChargerToCsms,
        "P2-21 §1.51",
    ),
    ActionInfo::new("NotifyEvent", Dir::ChargerToCsms, "P2-21 §1.52"),
    ActionInfo::new("NotifyMonitoringReport", Dir::ChargerToCsms, "P2-21 §1.53"),
    ActionInfo::new(
        "NotifyPeriodicEventStream",
        Dir::ChargerToCsms,
        "P2-21 §1.54",
    ),
    ActionInfo::new("NotifyPriorityCharging", Dir::ChargerToCsms, "P2-21 §1.55"),
    ActionInfo::new("NotifyReport", Dir::ChargerToCsms, "P2-21 §1.56"),
    ActionInfo::new("NotifySettlement", Dir::ChargerToCsms, "P2-21 §1.57"),
    ActionInfo::new("NotifyWebPaymentStarted", Dir::CsmsToCharger, "P2-21 §1.58"),
    ActionInfo::new("OpenPeriodicEventStream", Dir::ChargerToCsms, "P2-21 §1.59"),
    ActionInfo::new("PublishFirmware", Dir::CsmsToCharger, "P2-21 §1.60"),
    ActionInfo::new(
        "PublishFirmwareStatusNotification",
        Dir::ChargerToCsms,
        "P2-21 §1.61",
    ),
    ActionInfo::new(
        "PullDynamicScheduleUpdate",
        Dir::ChargerToCsms,
        "P2-21 §1.62",
    ),
    ActionInfo::new("ReportChargingProfiles", Dir::ChargerToCsms, "P2-21 §1.63"),
    ActionInfo::new("ReportDERControl", Dir::ChargerToCsms, "P2-21 §1.64"),
    ActionInfo::new("RequestBatterySwap", Dir::CsmsToCharger, "P2-21 §1.65"),
    ActionInfo::new("RequestStartTransaction", Dir::CsmsToCharger, "P2-21 §1.66"),
    ActionInfo::new("RequestStopTransaction", Dir::CsmsToCharger, "P2-21 §1.67"),
    ActionInfo::new("ReservationStatusUpdate", Dir::ChargerToCsms, "P2-21 §1.68"),
    ActionInfo::new("ReserveNow", Dir::CsmsToCharger, "P2-21 §1.69"),
    ActionInfo::new("Reset", Dir::CsmsToCharger, "P2-21 §1.70"),
    ActionInfo::new(
        "SecurityEventNotification",
        Dir::ChargerToCsms,
        "P2-21 §1.71",
    ),
    ActionInfo::new("SendLocalList", Dir::CsmsToCharger, "P2-21 §1.72"),
    ActionInfo::new("SetChargingProfile", Dir::CsmsToCharger, "P2-21 §1.73"),
    ActionInfo::new("SetDERControl", Dir::CsmsToCharger, "P2-21 §1.75"),
    ActionInfo::new("SetDefaultTariff", Dir::CsmsToCharger, "P2-21 §1.74"),
    ActionInfo::new("SetDisplayMessage", Dir::CsmsToCharger, "P2-21 §1.76"),
    ActionInfo::new("SetMonitoringBase", Dir::CsmsToCharger, "P2-21 §1.77"),
    ActionInfo::new("SetMonitoringLevel", Dir::CsmsToCharger, "P2-21 §1.78"),
    ActionInfo::new("SetNetworkProfile", Dir::CsmsToCharger, "P2-21 §1.79"),
    ActionInfo::new("SetVariableMonitoring", Dir::CsmsToCharger, "P2-21 §1.80"),
    ActionInfo::new("SetVariables", Dir::CsmsToCharger, "P2-21 §1.81"),
    ActionInfo::new("SignCertificate", Dir::ChargerToCsms, "P2-21 §1.82"),
    ActionInfo::new("StatusNotification", Dir::ChargerToCsms, "P2-21 §1.83"),
    ActionInfo::new("TransactionEvent", Dir::ChargerToCsms, "P2-21 §1.84"),
    ActionInfo::new("TriggerMessage", Dir::CsmsToCharger, "P2-21 §1.85"),
    ActionInfo::new("UnlockConnector", Dir::CsmsToCharger, "P2-21 §1.86"),
    ActionInfo::new("UnpublishFirmware", Dir::CsmsToCharger, "P2-21 §1.87"),
    ActionInfo::new("UpdateDynamicSchedule", Dir::CsmsToCharger, "P2-21 §1.88"),
    ActionInfo::new("UpdateFirmware", Dir::CsmsToCharger, "P2-21 §1.89"),
    ActionInfo::new("UsePriorityCharging", Dir::CsmsToCharger, "P2-21 §1.90"),
    ActionInfo::new("VatNumberValidation", Dir::ChargerToCsms, "P2-21 §1.91"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_are_sorted_and_unique_so_lookup_works() {
        for v in Version::ALL {
            let t = catalogue(v);
            for w in t.windows(2) {
                assert!(w[0].name < w[1].name, "{v}: {} !< {}", w[0].name, w[1].name);
            }
            for a in t {
                assert_eq!(lookup(v, a.name).map(|(_, x)| x.name), Some(a.name));
            }
        }
    }

    #[test]
    fn catalogue_sizes_match_the_official_schema_sets() {
        assert_eq!(V16.len(), 39);
        assert_eq!(V201.len(), 64);
        assert_eq!(V21.len(), 91);
    }

    #[test]
    fn directions() {
        let boot = lookup(Version::V16, "BootNotification").unwrap().1;
        assert!(boot.dir.allows(Side::Charger) && !boot.dir.allows(Side::Csms));
        let dt = lookup(Version::V201, "DataTransfer").unwrap().1;
        assert!(dt.dir.allows(Side::Charger) && dt.dir.allows(Side::Csms));
        assert!(lookup(Version::V201, "StartTransaction").is_none());
        assert!(lookup(Version::V16, "bootnotification").is_none());
        for name in V16_SECURITY_EXTENSION {
            assert!(lookup(Version::V16, name).is_some(), "{name}");
        }
    }
}
