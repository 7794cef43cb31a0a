//! Unit tests of `trig/trigger.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use crate::engine::rules::testing::{BOOT2, answer, mine, script, time_answer};
use crate::finding::Severity;

const STATUS2: &str = r#"[2,"c1","StatusNotification",{"timestamp":"2026-11-22T10:00:02.000Z","connectorStatus":"Occupied","evseId":1,"connectorId":1}]"#;
const STARTED: &str = r#"[2,"t1","TransactionEvent",{"eventType":"Started","timestamp":"2026-11-22T10:00:03.000Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"tx-1","chargingState":"Charging"},"evse":{"id":1,"connectorId":1},"idToken":{"idToken":"T1","type":"ISO14443"}}]"#;
const PERIODIC: &str = r#"[2,"t2","TransactionEvent",{"eventType":"Updated","timestamp":"2026-11-22T10:00:11.000Z","triggerReason":"MeterValuePeriodic","seqNo":1,"transactionInfo":{"transactionId":"tx-1","chargingState":"Charging"},"evse":{"id":1,"connectorId":1}}]"#;
const TRIGGERED: &str = r#"[2,"t3","TransactionEvent",{"eventType":"Updated","timestamp":"2026-11-22T10:00:12.000Z","triggerReason":"Trigger","seqNo":2,"transactionInfo":{"transactionId":"tx-1","chargingState":"Charging"},"evse":{"id":1,"connectorId":1}}]"#;

fn with_trigger(tail: &[(u32, &str, &str)]) -> String {
    let a = answer("b1", "Accepted", 300, 1);
    let mut ev: Vec<(u32, &str, &str)> = vec![
        (0, "open", ""),
        (1, "charger", BOOT2),
        (1, "csms", &a),
        (2, "charger", STATUS2),
        (2, "csms", r#"[3,"c1",{}]"#),
        (3, "charger", STARTED),
        (
            3,
            "csms",
            r#"[3,"t1",{"idTokenInfo":{"status":"Accepted"}}]"#,
        ),
        (
            10,
            "csms",
            r#"[2,"s1","TriggerMessage",{"requestedMessage":"TransactionEvent","evse":{"id":1}}]"#,
        ),
        (10, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
    ];
    ev.extend_from_slice(tail);
    script("ocpp2.0.1", &ev)
}

#[test]
fn a_periodic_event_crossing_the_trigger_is_not_blamed_when_the_triggered_one_follows() {
    let t = with_trigger(&[
        (11, "charger", PERIODIC),
        (11, "csms", r#"[3,"t2",{}]"#),
        (12, "charger", TRIGGERED),
        (12, "csms", r#"[3,"t3",{}]"#),
        (200, "charger", r#"[2,"h1","Heartbeat",{}]"#),
        (200, "csms", &time_answer("h1", 200)),
    ]);
    assert_eq!(mine(&t), vec![]);
}

#[test]
fn only_a_non_trigger_event_in_the_window_is_reported_at_it() {
    let t = with_trigger(&[
        (11, "charger", PERIODIC),
        (11, "csms", r#"[3,"t2",{}]"#),
        (200, "charger", r#"[2,"h1","Heartbeat",{}]"#),
        (200, "csms", &time_answer("h1", 200)),
    ]);
    assert_eq!(
        mine(&t),
        vec![("trig.transaction-event-wrong-reason", Severity::Error, 10)]
    );
}

#[test]
fn nothing_in_the_window_is_accepted_not_sent_but_a_short_trace_is_not_judged() {
    let long = with_trigger(&[
        (200, "charger", r#"[2,"h1","Heartbeat",{}]"#),
        (200, "csms", &time_answer("h1", 200)),
    ]);
    assert_eq!(
        mine(&long),
        vec![("trig.accepted-not-sent", Severity::Error, 8)]
    );
    let short = with_trigger(&[]);
    assert_eq!(mine(&short), vec![]);
}

#[test]
fn accepted_not_sent_is_a_warning_on_16_and_ignores_other_connectors() {
    let a = answer("b1", "Accepted", 300, 1);
    let t = script(
        "ocpp1.6",
        &[
            (0, "open", ""),
            (1, "charger", crate::engine::rules::testing::BOOT16),
            (1, "csms", &a),
            (
                2,
                "csms",
                r#"[2,"s1","TriggerMessage",{"requestedMessage":"StatusNotification","connectorId":2}]"#,
            ),
            (2, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
            (
                3,
                "charger",
                r#"[2,"c1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#,
            ),
            (3, "csms", r#"[3,"c1",{}]"#),
            (100, "charger", r#"[2,"h1","Heartbeat",{}]"#),
            (100, "csms", &time_answer("h1", 100)),
        ],
    );
    assert_eq!(
        mine(&t),
        vec![("trig.accepted-not-sent", Severity::Warning, 4)]
    );
}

#[test]
fn a_16_status_trigger_for_all_connectors_covers_every_answer_while_pending() {
    use crate::engine::rules::testing::BOOT16;
    let p = answer("b1", "Pending", 300, 1);
    let sn = |id: &str, c: u32| {
        format!(
            r#"[2,"{id}","StatusNotification",{{"connectorId":{c},"errorCode":"NoError","status":"Available"}}]"#
        )
    };
    let (s0, s1, s2) = (sn("c0", 0), sn("c1", 1), sn("c2", 2));
    let t = script(
        "ocpp1.6",
        &[
            (0, "open", ""),
            (1, "charger", BOOT16),
            (1, "csms", &p),
            (
                2,
                "csms",
                r#"[2,"s1","TriggerMessage",{"requestedMessage":"StatusNotification"}]"#,
            ),
            (2, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
            (3, "charger", &s0),
            (3, "csms", r#"[3,"c0",{}]"#),
            (4, "charger", &s1),
            (4, "csms", r#"[3,"c1",{}]"#),
            (5, "charger", &s2),
            (5, "csms", r#"[3,"c2",{}]"#),
            (100, "csms", r#"[2,"s2","GetConfiguration",{}]"#),
            (100, "charger", r#"[3,"s2",{}]"#),
            // The trigger's window has passed: this one is unsolicited.
            (101, "charger", r#"[2,"c3","Heartbeat",{}]"#),
            (101, "csms", r#"[4,"c3","SecurityError","pending",{}]"#),
        ],
    );
    assert_eq!(
        mine(&t),
        vec![("seq.call-while-pending", Severity::Error, 14)]
    );
}
