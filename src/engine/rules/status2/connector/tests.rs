//! Unit tests of `status2/connector.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use crate::engine::rules::testing::{run, trace};
use crate::finding::Severity;

const BOOT: &str = r#"[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;
const BOOT_OK: &str =
    r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;

fn status(id: &str, ts: &str, evse: i64, conn: i64, s: &str) -> String {
    format!(
        r#"[2,"{id}","StatusNotification",{{"timestamp":"2026-11-22T10:{ts}Z","connectorStatus":"{s}","evseId":{evse},"connectorId":{conn}}}]"#
    )
}

#[test]
fn a_reconnect_or_boot_forgets_the_previous_status() {
    let a = status("s1", "00:10", 1, 1, "Occupied");
    let b = status("s2", "00:20", 1, 1, "Reserved");
    let ok1 = r#"[3,"s1",{}]"#;
    let ok2 = r#"[3,"s2",{}]"#;
    // Same connection: a transition that cannot happen.
    let found = run(&trace(
        "ocpp2.0.1",
        &[
            ("charger", &a),
            ("csms", ok1),
            ("charger", &b),
            ("csms", ok2),
        ],
    ));
    assert_eq!(
        found,
        vec![("status2.unexpected-transition", Severity::Warning, 4)]
    );
    // A boot between: the second report is the current status, not a transition.
    let found = run(&trace(
        "ocpp2.0.1",
        &[
            ("charger", &a),
            ("csms", ok1),
            ("charger", BOOT),
            ("csms", BOOT_OK),
            ("charger", &b),
            ("csms", ok2),
        ],
    ));
    // (The status sent before the boot on the same connection is `seq.boot-first`'s.)
    let found: Vec<_> = found
        .into_iter()
        .filter(|f| f.0.starts_with("status2."))
        .collect();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn timestamps_are_compared_per_connector_and_not_across_a_boot() {
    // Status times stay behind the frames' own (a later one would be a clock fault).
    let a = status("s1", "00:01", 1, 1, "Available");
    let b = status("s2", "00:00", 1, 2, "Available");
    let c = status("s3", "00:00.500", 1, 1, "Available");
    let found = run(&trace(
        "ocpp2.0.1",
        &[
            ("charger", &a),
            ("csms", r#"[3,"s1",{}]"#),
            ("charger", &b),
            ("csms", r#"[3,"s2",{}]"#),
            ("charger", &c),
            ("csms", r#"[3,"s3",{}]"#),
        ],
    ));
    assert_eq!(
        found,
        vec![("status2.timestamp-out-of-order", Severity::Warning, 6)]
    );
    let found = run(&trace(
        "ocpp2.0.1",
        &[
            ("charger", &a),
            ("csms", r#"[3,"s1",{}]"#),
            ("charger", BOOT),
            ("csms", BOOT_OK),
            ("charger", &c),
            ("csms", r#"[3,"s3",{}]"#),
        ],
    ));
    let found: Vec<_> = found
        .into_iter()
        .filter(|f| f.0.starts_with("status2."))
        .collect();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn inventory_counts_only_once_complete() {
    let get = r#"[2,"g","GetBaseReport",{"requestId":3,"reportBase":"FullInventory"}]"#;
    let part = |seq: u32, tbc: bool| {
        format!(
            r#"[2,"n{seq}","NotifyReport",{{"requestId":3,"generatedAt":"2026-11-22T10:00:05Z","seqNo":{seq},"tbc":{tbc},"reportData":[{{"component":{{"name":"EVSE","evse":{{"id":1}}}},"variable":{{"name":"Available"}},"variableAttribute":[{{"value":"true"}}]}}]}}]"#
        )
    };
    let (p0, p1) = (part(0, true), part(1, false));
    let late = status("s1", "00:30", 2, 1, "Available");
    let mut frames = vec![
        ("csms", get),
        ("charger", r#"[3,"g",{"status":"Accepted"}]"#),
        ("charger", p0.as_str()),
        ("csms", r#"[3,"n0",{}]"#),
    ];
    let mut early = frames.clone();
    early.push(("charger", late.as_str()));
    early.push(("csms", r#"[3,"s1",{}]"#));
    let found = run(&trace("ocpp2.0.1", &early));
    assert!(found.is_empty(), "incomplete report: {found:?}");
    frames.push(("charger", p1.as_str()));
    frames.push(("csms", r#"[3,"n1",{}]"#));
    frames.push(("charger", late.as_str()));
    frames.push(("csms", r#"[3,"s1",{}]"#));
    let found = run(&trace("ocpp2.0.1", &frames));
    assert_eq!(found, vec![("status2.id-range", Severity::Error, 8)]);
}
