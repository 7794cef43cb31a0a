//! Unit tests of `tx2/transaction.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use super::*;
use crate::engine::rules::testing::{frame, run};

const BOOT: &str = r#"[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;
const BOOT_OK: &str =
    r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;

/// `HH:MM:SS` of 2026-11-22 at `secs` after 10:00:00.
fn clock(secs: u32) -> String {
    format!("10:{:02}:{:02}", secs / 60, secs % 60)
}

fn open(secs: u32) -> String {
    format!(
        "{{\"ts\":\"2026-11-22T{}.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"ocpp2.0.1\"}}\n",
        clock(secs)
    )
}

fn close(secs: u32) -> String {
    format!(
        "{{\"ts\":\"2026-11-22T{}.000Z\",\"conn\":\"CS-1\",\"event\":\"close\",\"code\":1006,\"by\":\"charger\"}}\n",
        clock(secs)
    )
}

/// A TransactionEvent CALL with id `id`, event time `at` (seconds after 10:00:00).
fn te(id: &str, kind: &str, seq: u32, at: u32, extra: &str) -> String {
    format!(
        r#"[2,"{id}","TransactionEvent",{{"eventType":"{kind}","timestamp":"2026-11-22T{}Z","triggerReason":"MeterValuePeriodic","seqNo":{seq},"transactionInfo":{{"transactionId":"T1","chargingState":"Charging"}},"numberOfPhasesUsed":3,"evse":{{"id":1,"connectorId":1}}{extra}}}]"#,
        clock(at)
    )
}

fn ok(id: &str) -> String {
    format!(r#"[3,"{id}",{{}}]"#)
}

fn err(id: &str) -> String {
    format!(r#"[4,"{id}","InternalError","",{{}}]"#)
}

/// Builds a trace from (time, from, text) frames and raw event lines.
enum L {
    F(u32, &'static str, String),
    Raw(String),
}

fn build(lines: Vec<L>) -> String {
    lines
        .into_iter()
        .map(|l| match l {
            L::F(t, from, text) => frame(t, from, &text),
            L::Raw(s) => s,
        })
        .collect()
}

fn ids(found: &[(&'static str, Severity, u64)]) -> Vec<&'static str> {
    found.iter().map(|f| f.0).collect()
}

#[test]
fn a_retransmission_after_a_callerror_is_not_a_second_event() {
    let t = |last: String| {
        build(vec![
            L::Raw(open(0)),
            L::F(1, "charger", te("a", "Started", 0, 1, "")),
            L::F(2, "csms", ok("a")),
            L::F(3, "charger", te("b", "Updated", 1, 3, "")),
            L::F(4, "csms", last),
            L::F(10, "charger", te("c", "Updated", 1, 3, "")),
            L::F(11, "csms", ok("c")),
        ])
    };
    let found = run(&t(err("b")));
    assert!(found.is_empty(), "{found:?}");
    // The same seqNo again after a CALLRESULT is a second event with that number.
    let found = run(&t(ok("b")));
    assert_eq!(ids(&found), vec!["tx2.seqno-not-increasing"]);
    assert_eq!(found[0].2, 6);
}

#[test]
fn an_unanswered_event_is_resent_after_a_reconnect_and_the_transaction_goes_on() {
    let trace = build(vec![
        L::Raw(open(0)),
        L::F(1, "charger", BOOT.to_owned()),
        L::F(2, "csms", BOOT_OK.to_owned()),
        L::F(3, "charger", te("a", "Started", 0, 3, "")),
        L::F(4, "csms", ok("a")),
        L::F(5, "charger", te("b", "Updated", 1, 5, "")),
        // no answer: the connection drops, and comes back 20 s later
        L::Raw(close(6)),
        L::Raw(open(26)),
        L::F(27, "charger", te("b2", "Updated", 1, 5, "")),
        L::F(28, "csms", ok("b2")),
        L::F(40, "charger", te("c", "Ended", 2, 40, "")),
        L::F(41, "csms", ok("c")),
    ]);
    let found = run(&trace);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn an_offline_queue_is_flushed_in_order_with_the_flag() {
    let events = |flag: &str, seqs: [u32; 3]| {
        build(vec![
            L::Raw(open(0)),
            L::F(1, "charger", te("a", "Started", 0, 1, "")),
            L::F(2, "csms", ok("a")),
            L::Raw(close(10)),
            // offline from 10:00:10 to 10:10:00; events queued at 10:04, 10:05, 10:06
            L::Raw(open(600)),
            L::F(601, "charger", te("b", "Updated", seqs[0], 240, flag)),
            L::F(602, "csms", ok("b")),
            L::F(603, "charger", te("c", "Updated", seqs[1], 300, flag)),
            L::F(604, "csms", ok("c")),
            L::F(605, "charger", te("d", "Ended", seqs[2], 360, flag)),
            L::F(606, "csms", ok("d")),
        ])
    };
    let found = run(&events(r#","offline":true"#, [1, 2, 3]));
    assert!(found.is_empty(), "{found:?}");
    let found = run(&events("", [1, 2, 3]));
    assert_eq!(
        ids(&found),
        vec![
            "tx2.offline-flag-missing",
            "tx2.offline-flag-missing",
            "tx2.offline-flag-missing"
        ]
    );
    // Queued events delivered out of order.
    let found = run(&events(r#","offline":true"#, [2, 1, 3]));
    assert!(
        ids(&found).contains(&"tx2.seqno-not-increasing"),
        "{found:?}"
    );
}

#[test]
fn a_transaction_that_may_predate_the_trace_is_info_only() {
    let mid_life = build(vec![
        L::Raw(open(0)),
        L::F(1, "charger", te("a", "Updated", 7, 1, "")),
        L::F(2, "csms", ok("a")),
        L::F(3, "charger", te("b", "Ended", 8, 3, "")),
        L::F(4, "csms", ok("b")),
    ]);
    let found = run(&mid_life);
    assert_eq!(
        found,
        vec![("tx2.first-event-not-started", Severity::Info, 2)]
    );
    // After a boot the trace saw: its Started should have been seen.
    let after_boot = build(vec![
        L::Raw(open(0)),
        L::F(1, "charger", BOOT.to_owned()),
        L::F(2, "csms", BOOT_OK.to_owned()),
        L::F(3, "charger", te("a", "Updated", 7, 3, "")),
        L::F(4, "csms", ok("a")),
    ]);
    assert_eq!(
        run(&after_boot),
        vec![("tx2.first-event-not-started", Severity::Error, 4)]
    );
    // ... unless it is the Ended of a transaction the reboot interrupted.
    let interrupted = build(vec![
        L::Raw(open(0)),
        L::F(1, "charger", BOOT.to_owned()),
        L::F(2, "csms", BOOT_OK.to_owned()),
        L::F(
            3,
            "charger",
            te("a", "Ended", 7, 3, "").replace(
                r#""chargingState":"Charging""#,
                r#""chargingState":"Idle","stoppedReason":"PowerLoss""#,
            ),
        ),
        L::F(4, "csms", ok("a")),
    ]);
    assert_eq!(
        run(&interrupted),
        vec![("tx2.first-event-not-started", Severity::Info, 4)]
    );
}

#[test]
fn an_adopted_transaction_on_the_evse_makes_a_second_one_a_warning() {
    let trace = build(vec![
        L::Raw(open(0)),
        L::F(1, "charger", te("a", "Updated", 7, 1, "")),
        L::F(2, "csms", ok("a")),
        L::F(
            3,
            "charger",
            te("b", "Started", 0, 3, "").replace(r#""T1""#, r#""T2""#),
        ),
        L::F(4, "csms", ok("b")),
    ]);
    assert_eq!(
        run(&trace),
        vec![
            ("tx2.first-event-not-started", Severity::Info, 2),
            ("tx2.second-transaction-on-evse", Severity::Warning, 4)
        ]
    );
}

fn remote(request: &str, answer: &str, then: Vec<L>) -> String {
    let mut lines = vec![
        L::Raw(open(0)),
        L::F(1, "charger", te("a", "Started", 0, 1, "")),
        L::F(2, "csms", ok("a")),
        L::F(3, "csms", request.to_owned()),
        L::F(4, "charger", answer.to_owned()),
    ];
    lines.extend(then);
    build(lines)
}

#[test]
fn remote_start_and_stop_wait_for_their_followup_window() {
    let start = r#"[2,"r","RequestStartTransaction",{"idToken":{"idToken":"A","type":"ISO14443"},"remoteStartId":9}]"#;
    let accepted = r#"[3,"r",{"status":"Accepted"}]"#;
    let hb = |t: u32| {
        vec![
            L::F(t, "charger", r#"[2,"h","Heartbeat",{}]"#.to_owned()),
            L::F(
                t + 1,
                "csms",
                format!(r#"[3,"h",{{"currentTime":"2026-11-22T{}Z"}}]"#, clock(t)),
            ),
        ]
    };
    // Past the window: reported at the request.
    let found = run(&remote(start, accepted, hb(90)));
    assert_eq!(
        found,
        vec![("remote.start-not-followed", Severity::Warning, 4)]
    );
    // The trace ends inside the window: nothing can be concluded.
    assert!(run(&remote(start, accepted, hb(20))).is_empty());
    // Rejected: nothing is expected.
    let rejected = r#"[3,"r",{"status":"Rejected"}]"#;
    assert!(run(&remote(start, rejected, hb(90))).is_empty());

    let stop = r#"[2,"s","RequestStopTransaction",{"transactionId":"T1"}]"#;
    let stop_ok = r#"[3,"s",{"status":"Accepted"}]"#;
    assert_eq!(
        run(&remote(stop, stop_ok, hb(90))),
        vec![("remote.stop-not-followed", Severity::Warning, 4)]
    );
    let mut ended = vec![L::F(
        10,
        "charger",
        te("e", "Ended", 1, 10, "")
            .replace("MeterValuePeriodic", "RemoteStop")
            .replace(
                r#""chargingState":"Charging""#,
                r#""chargingState":"Idle","stoppedReason":"Remote""#,
            ),
    )];
    ended.push(L::F(11, "csms", ok("e")));
    ended.extend(hb(90));
    assert!(run(&remote(stop, stop_ok, ended)).is_empty());
}

#[test]
fn a_remote_stop_accepted_for_a_transaction_not_running_is_reported_on_2x() {
    let stop = r#"[2,"s","RequestStopTransaction",{"transactionId":"T1"}]"#;
    let accepted = r#"[3,"s",{"status":"Accepted"}]"#;
    // Ended and acknowledged before the request: an error.
    let trace = build(vec![
        L::Raw(open(0)),
        L::F(1, "charger", te("a", "Started", 0, 1, "")),
        L::F(2, "csms", ok("a")),
        L::F(3, "charger", te("b", "Ended", 1, 3, "")),
        L::F(4, "csms", ok("b")),
        L::F(5, "csms", stop.to_owned()),
        L::F(6, "charger", accepted.to_owned()),
    ]);
    assert_eq!(
        run(&trace),
        vec![("remote.stop-unknown-tx-accepted", Severity::Error, 7)]
    );
    // Never seen although the boot was: a warning. Without the boot: silent.
    let unknown = |boot: bool| {
        let mut lines = vec![L::Raw(open(0))];
        if boot {
            lines.push(L::F(1, "charger", BOOT.to_owned()));
            lines.push(L::F(2, "csms", BOOT_OK.to_owned()));
        }
        lines.push(L::F(5, "csms", stop.to_owned()));
        lines.push(L::F(6, "charger", accepted.to_owned()));
        build(lines)
    };
    assert_eq!(
        run(&unknown(true)),
        vec![("remote.stop-unknown-tx-accepted", Severity::Warning, 5)]
    );
    assert!(run(&unknown(false)).is_empty());
}

#[test]
fn a_plug_in_is_satisfied_by_a_notify_event_and_offline_events_are_not_watched() {
    let available = r#"[2,"s","StatusNotification",{"timestamp":"2026-11-22T10:00:01Z","connectorStatus":"Available","evseId":1,"connectorId":1}]"#;
    let plugged = te("a", "Started", 0, 3, "").replace("MeterValuePeriodic", "CablePluggedIn");
    let occupied = r#"[2,"n","NotifyEvent",{"generatedAt":"2026-11-22T10:00:05Z","seqNo":0,"eventData":[{"eventId":1,"timestamp":"2026-11-22T10:00:05Z","trigger":"Delta","actualValue":"Occupied","component":{"name":"Connector","evse":{"id":1,"connectorId":1}},"variable":{"name":"AvailabilityState"},"eventNotificationType":"HardWiredNotification"}]}]"#;
    let hb = r#"[2,"h","Heartbeat",{}]"#;
    let hb_ok = r#"[3,"h",{"currentTime":"2026-11-22T10:01:30Z"}]"#;
    let trace = |event: String, then: Option<&str>| {
        let mut lines = vec![
            L::Raw(open(0)),
            L::F(1, "charger", available.to_owned()),
            L::F(2, "csms", ok("s")),
            L::F(3, "charger", event),
            L::F(4, "csms", ok("a")),
        ];
        if let Some(t) = then {
            lines.push(L::F(5, "charger", t.to_owned()));
            lines.push(L::F(6, "csms", ok("n")));
        }
        lines.push(L::F(90, "charger", hb.to_owned()));
        lines.push(L::F(91, "csms", hb_ok.to_owned()));
        build(lines)
    };
    assert_eq!(
        run(&trace(plugged.clone(), None)),
        vec![("tx2.status-not-occupied-on-plug", Severity::Warning, 4)]
    );
    assert!(run(&trace(plugged.clone(), Some(occupied))).is_empty());
    // An offline event (queued before the reconnect) is not judged against the fresh
    // statuses; it is flagged offline-while-online only if stamped after the open.
    let offline = plugged
        .replace("10:00:03", "09:59:00")
        .replace(r#""evse""#, r#""offline":true,"evse""#);
    assert!(run(&trace(offline, None)).is_empty());
}
