//! Unit tests of `value/formats.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use super::*;

fn v201(comp: &str, var: &str) -> &'static StdVariable {
    variables::lookup(Version::V201, comp, var).expect("a standardized variable")
}

#[test]
fn list_and_scalar_formats() {
    let ncp = v201("OCPPCommCtrlr", "NetworkConfigurationPriority");
    assert!(variable_value_problem(ncp, "0,1,2").is_none());
    assert!(variable_value_problem(ncp, "0, 1").is_none());
    assert!(variable_value_problem(ncp, "").is_none());
    assert!(variable_value_problem(ncp, "[0, 1, 2]").is_some());
    assert!(variable_value_problem(ncp, "0,,1").is_some());
    assert!(variable_value_problem(ncp, "a").is_some());
    let hb = v201("OCPPCommCtrlr", "HeartbeatInterval");
    assert!(variable_value_problem(hb, "300").is_none());
    assert!(variable_value_problem(hb, "-1").is_some());
    assert!(variable_value_problem(hb, "5 min").is_some());
    assert!(variable_value_problem(hb, "").is_some());
    let b = v201("TxCtrlr", "StopTxOnInvalidId");
    assert!(variable_value_problem(b, "true").is_none());
    assert!(variable_value_problem(b, "True").is_some());
    let start = v201("TxCtrlr", "TxStartPoint");
    assert!(variable_value_problem(start, "EVConnected,Authorized").is_none());
    assert!(variable_value_problem(start, "EVConnected,EVConnected").is_some());
    assert!(variable_value_problem(start, "Plugged").is_some());
    let lcs = v201("SmartChargingCtrlr", "LimitChangeSignificance");
    assert!(variable_value_problem(lcs, "0.5").is_none());
    assert!(variable_value_problem(lcs, "1e3").is_some());
    let dt = v201("ClockCtrlr", "DateTime");
    assert!(variable_value_problem(dt, "2025-01-31T12:00:00Z").is_none());
    assert!(variable_value_problem(dt, "yesterday").is_some());
}

#[test]
fn declared_values_lists() {
    let list = ["A", "W"];
    assert!(list_outside("OptionList", "A", Some(&list)).is_none());
    assert!(list_outside("OptionList", "kW", Some(&list)).is_some());
    assert!(list_outside("MemberList", "A, W", Some(&list)).is_none());
    assert!(list_outside("MemberList", "A,VA", Some(&list)).is_some());
    assert!(list_outside("MemberList", "", Some(&list)).is_none());
    assert!(list_outside("OptionList", "x", None).is_none());
}

#[test]
fn config_keys_16() {
    assert!(config_value_problem("HeartbeatInterval", "60").is_none());
    assert!(config_value_problem("HeartbeatInterval", "60s").is_some());
    assert!(config_value_problem("AuthorizeRemoteTxRequests", "TRUE").is_none());
    assert!(config_value_problem("AuthorizeRemoteTxRequests", "1").is_some());
    assert!(
        config_value_problem(
            "MeterValuesSampledData",
            "Energy.Active.Import.Register, Power.Active.Import"
        )
        .is_none()
    );
    assert!(config_value_problem("MeterValuesSampledData", "Energy;Power").is_some());
    assert!(config_value_problem("ConnectorPhaseRotation", "0.RST,1.NotApplicable").is_none());
    assert!(config_value_problem("ConnectorPhaseRotation", "RST").is_some());
    assert!(config_value_problem("VendorThing", "anything").is_none());
    assert!(config_value_problem("AuthorizationKey", "x").is_none());
}
