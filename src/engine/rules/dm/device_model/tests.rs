//! Unit tests of `dm/device_model.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use super::*;
use crate::engine::rules::testing::{run, trace};

#[test]
fn pairing_separates_type_mismatches_from_unmatched() {
    let mut req = crate::wire::doc::Doc::new();
    let mut res = crate::wire::doc::Doc::new();
    assert!(req.parse(
        r#"[{"component":{"name":"A"},"variable":{"name":"x"}},
            {"component":{"name":"A"},"variable":{"name":"x"},"attributeType":"Target"},
            {"component":{"name":"B"},"variable":{"name":"y"}}]"#,
    ));
    assert!(res.parse(
        r#"[{"component":{"name":"A"},"variable":{"name":"x"},"attributeType":"Target"},
            {"component":{"name":"A"},"variable":{"name":"x"},"attributeType":"MaxSet"},
            {"component":{"name":"C"},"variable":{"name":"y"}}]"#,
    ));
    let p = pair(
        req.root().as_array().unwrap(),
        res.root().as_array().unwrap(),
    );
    assert_eq!(p.exact, vec![(1, 0)]);
    assert_eq!(p.other_type, vec![(0, 1)]);
    assert_eq!(p.unmatched_results, vec![2]);
    assert_eq!(p.unanswered_requests, vec![2]);
}

#[test]
fn report_parts_in_order_pass_and_a_gap_fires() {
    let boot = r#"[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;
    let boot_ok =
        r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;
    let part = |seq: u32, tbc: bool| {
        format!(
            r#"[2,"n{seq}","NotifyReport",{{"requestId":7,"generatedAt":"2026-11-22T10:00:05Z","seqNo":{seq},"tbc":{tbc}}}]"#
        )
    };
    let ok = |id: &str| format!(r#"[3,"{id}",{{}}]"#);
    let (p0, p1, p2) = (part(0, true), part(1, false), part(2, false));
    let (a0, a1, a2) = (ok("n0"), ok("n1"), ok("n2"));
    let frames = vec![
        ("charger", boot),
        ("csms", boot_ok),
        (
            "csms",
            r#"[2,"g","GetBaseReport",{"requestId":7,"reportBase":"FullInventory"}]"#,
        ),
        ("charger", r#"[3,"g",{"status":"Accepted"}]"#),
        ("charger", p0.as_str()),
        ("csms", a0.as_str()),
        ("charger", p1.as_str()),
        ("csms", a1.as_str()),
    ];
    let found = run(&trace("ocpp2.0.1", &frames));
    assert!(found.is_empty(), "{found:?}");
    let mut frames2 = frames.clone();
    frames2.push(("charger", p2.as_str()));
    frames2.push(("csms", a2.as_str()));
    let found = run(&trace("ocpp2.0.1", &frames2));
    assert_eq!(found, vec![("dm.report-seqno", Severity::Error, 10)]);
}

#[test]
fn unknown_request_id_is_info_without_a_boot() {
    let frames = [
        (
            "charger",
            r#"[2,"n","NotifyReport",{"requestId":9,"generatedAt":"2026-11-22T10:00:05Z","seqNo":0}]"#,
        ),
        ("csms", r#"[3,"n",{}]"#),
    ];
    let found = run(&trace("ocpp2.0.1", &frames));
    assert_eq!(
        found,
        vec![("dm.report-request-id-mismatch", Severity::Info, 2)]
    );
}

/// The running transactions are the station model's: a 1.6 MeterValues with transactionId
/// -1 (errata 3.18: "no id was ever acknowledged") is no transaction, so a TxProfile for its
/// connector still has none; a transaction the answer opened is one.
#[test]
fn a_minus_one_transaction_does_not_run_but_an_opened_one_does() {
    let boot = r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
    let boot_ok =
        r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;
    let mv = r#"[2,"m","MeterValues",{"connectorId":1,"transactionId":-1,"meterValue":[{"timestamp":"2026-11-22T10:00:02Z","sampledValue":[{"value":"5"}]}]}]"#;
    let profile = r#"[2,"p","SetChargingProfile",{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}]"#;
    let fires = |found: &[(&str, Severity, u64)]| {
        found
            .iter()
            .any(|f| f.0 == "sc.txprofile-without-transaction")
    };
    let found = run(&trace(
        "ocpp1.6",
        &[
            ("charger", boot),
            ("csms", boot_ok),
            ("charger", mv),
            ("csms", r#"[3,"m",{}]"#),
            ("csms", profile),
            ("charger", r#"[3,"p",{"status":"Accepted"}]"#),
        ],
    ));
    assert!(fires(&found), "{found:?}");
    let start = r#"[2,"s","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,"timestamp":"2026-11-22T10:00:02Z"}]"#;
    let found = run(&trace(
        "ocpp1.6",
        &[
            ("charger", boot),
            ("csms", boot_ok),
            ("charger", start),
            (
                "csms",
                r#"[3,"s",{"idTagInfo":{"status":"Accepted"},"transactionId":5}]"#,
            ),
            ("csms", profile),
            ("charger", r#"[3,"p",{"status":"Accepted"}]"#),
        ],
    ));
    assert!(!fires(&found), "{found:?}");
}
