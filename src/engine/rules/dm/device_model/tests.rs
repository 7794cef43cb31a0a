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

#[test]
fn transactions_are_tracked_across_versions() {
    let mut a = Activity::default();
    a.start(TxRef::Int(5), Some(1), Some("TAG"));
    a.start(TxRef::Int(5), None, None);
    assert!(a.is_running(TxRef::Int(5)));
    assert!(!a.is_running(TxRef::Str("5")));
    assert!(a.running_on(1, false));
    assert!(!a.running_on(2, false));
    a.stop(TxRef::Int(5));
    assert!(a.txs.is_empty());
    a.start(TxRef::Str("t"), None, None);
    assert!(a.running_on(3, true));
    assert!(!a.running_on(3, false));
}
