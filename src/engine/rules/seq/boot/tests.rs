//! Unit tests of `seq/boot.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use crate::engine::rules::testing::{
    BOOT2, BOOT16, answer, mine, run, script, status0, time_answer,
};
use crate::finding::Severity;

#[test]
fn a_trace_that_starts_mid_life_is_not_judged() {
    // No BootNotification: registration Unknown; the charger sends, the CSMS asks for a
    // remote start, the trace reconnects; nothing of this family may fire.
    let t = script(
        "ocpp1.6",
        &[
            (0, "open", ""),
            (1, "charger", r#"[2,"c1","Heartbeat",{}]"#),
            (1, "csms", &time_answer("c1", 1)),
            (
                2,
                "csms",
                r#"[2,"s1","RemoteStartTransaction",{"connectorId":1,"idTag":"T1"}]"#,
            ),
            (2, "charger", r#"[3,"s1",{"status":"Rejected"}]"#),
            (3, "close", ""),
            (10, "open", ""),
            (
                11,
                "charger",
                r#"[2,"c2","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#,
            ),
            (11, "csms", r#"[3,"c2",{}]"#),
            (900, "charger", r#"[2,"c3","Heartbeat",{}]"#),
            (900, "csms", &time_answer("c3", 900)),
        ],
    );
    assert_eq!(mine(&t), vec![]);
}

/// A trace of `version` opened at 0 s, its BootNotification (1 s) answered `status`, then
/// `rest`.
fn after_boot(version: &str, status: &str, rest: &[(u32, &str, &str)]) -> String {
    let boot = if version == "ocpp1.6" { BOOT16 } else { BOOT2 };
    let a = answer("b1", status, 300, 1);
    let mut events = vec![
        (0, "open", ""),
        (1, "charger", boot),
        (1, "csms", a.as_str()),
    ];
    events.extend_from_slice(rest);
    script(version, &events)
}

/// A 1.6 station booted Accepted at 1 s that, after `before_close`, closes at `close_at` s and
/// reconnects at 10 s without booting: its first CALL is a Heartbeat (line 10).
fn reconnected_without_boot(before_close: &[(u32, &str, &str)], close_at: u32) -> String {
    let status = status0("c1");
    let time = time_answer("c2", 11);
    let mut events = vec![
        (2, "charger", status.as_str()),
        (2, "csms", r#"[3,"c1",{}]"#),
    ];
    events.extend_from_slice(before_close);
    events.extend([
        (close_at, "close", ""),
        (10, "open", ""),
        (11, "charger", r#"[2,"c2","Heartbeat",{}]"#),
        (11, "csms", time.as_str()),
    ]);
    after_boot("ocpp1.6", "Accepted", &events)
}

#[test]
fn an_accepted_station_may_reconnect_without_booting() {
    assert_eq!(mine(&reconnected_without_boot(&[], 3)), vec![]);
}

#[test]
fn reconnect_after_an_accepted_reset_without_boot_is_info() {
    let reset = [
        (3, "csms", r#"[2,"s1","Reset",{"type":"Hard"}]"#),
        (3, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
    ];
    assert_eq!(
        mine(&reconnected_without_boot(&reset, 4)),
        vec![("seq.boot-first", Severity::Info, 10)]
    );
}

#[test]
fn a_triggered_message_is_allowed_while_pending_and_others_are_not() {
    let t = after_boot(
        "ocpp1.6",
        "Pending",
        &[
            (
                2,
                "csms",
                r#"[2,"s1","TriggerMessage",{"requestedMessage":"Heartbeat"}]"#,
            ),
            (2, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
            (3, "charger", r#"[2,"c1","Heartbeat",{}]"#),
            (3, "csms", &time_answer("c1", 3)),
            // The trigger is used up: a second Heartbeat is unsolicited.
            (4, "charger", r#"[2,"c2","Heartbeat",{}]"#),
            (4, "csms", r#"[4,"c2","SecurityError","not accepted",{}]"#),
        ],
    );
    assert_eq!(
        mine(&t),
        vec![("seq.call-while-pending", Severity::Error, 8)]
    );
}

#[test]
fn rejected_station_answers_differ_between_16_and_2x() {
    // 1.6: any answer during the wait is wrong, a SecurityError too.
    let clear_cache = [
        (2, "csms", r#"[2,"s1","ClearCache",{}]"#),
        (2, "charger", r#"[4,"s1","SecurityError","rejected",{}]"#),
    ];
    let t16 = after_boot("ocpp1.6", "Rejected", &clear_cache);
    assert_eq!(
        mine(&t16),
        vec![
            ("seq.csms-call-while-rejected", Severity::Warning, 4),
            ("seq.responded-while-rejected", Severity::Error, 5),
        ]
    );
    // 2.x: SecurityError is the required answer; the CSMS call itself is an error.
    let t2 = after_boot("ocpp2.0.1", "Rejected", &clear_cache);
    assert_eq!(
        mine(&t2),
        vec![("seq.csms-call-while-rejected", Severity::Error, 4)]
    );
}

#[test]
fn an_early_retry_is_allowed_after_a_boot_trigger_and_info_on_a_new_connection() {
    let p2 = answer("b2", "Pending", 300, 3);
    let boot2 = BOOT2.replace("b1", "b2").replace("PowerUp", "Triggered");
    let boot3 = BOOT2.replace("b1", "b3");
    let t = after_boot(
        "ocpp2.0.1",
        "Pending",
        &[
            (
                2,
                "csms",
                r#"[2,"s1","TriggerMessage",{"requestedMessage":"BootNotification"}]"#,
            ),
            (2, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
            (3, "charger", &boot2),
            (3, "csms", &p2),
            (4, "close", ""),
            (20, "open", ""),
            (21, "charger", &boot3),
        ],
    );
    assert_eq!(
        mine(&t),
        vec![
            ("seq.pending-connection-closed", Severity::Error, 8),
            ("seq.boot-retry-too-early", Severity::Info, 10),
        ]
    );
}

#[test]
fn a_callerror_to_the_boot_leaves_the_registration_unknown() {
    let t = script(
        "ocpp2.0.1",
        &[
            (0, "open", ""),
            (1, "charger", BOOT2),
            (1, "csms", r#"[4,"b1","InternalError","db down",{}]"#),
            (2, "charger", r#"[2,"c1","Heartbeat",{}]"#),
            (2, "csms", &time_answer("c1", 2)),
        ],
    );
    assert_eq!(mine(&t), vec![]);
}

/// A reboot expected for two causes (the station model's accepted Reset, a firmware
/// InstallRebooting): the later one says which BootNotification reason is right.
#[test]
fn the_later_cause_of_a_reboot_names_the_expected_reason() {
    let reset = [
        (5, "csms", r#"[2,"s1","Reset",{"type":"Immediate"}]"#),
        (5, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
    ];
    let firmware = [
        (
            6,
            "charger",
            r#"[2,"f1","FirmwareStatusNotification",{"status":"InstallRebooting","requestId":1}]"#,
        ),
        (6, "csms", r#"[3,"f1",{}]"#),
    ];
    let flagged = |first: &[(u32, &str, &str)], second: &[(u32, &str, &str)], reason: &str| {
        let a = answer("b1", "Accepted", 300, 1);
        let b = answer("b2", "Accepted", 300, 21);
        let boot = format!(
            r#"[2,"b2","BootNotification",{{"reason":"{reason}","chargingStation":{{"model":"M","vendorName":"V"}}}}]"#
        );
        let mut events = vec![(0, "open", ""), (1, "charger", BOOT2), (1, "csms", &a)];
        // The two causes, in the order given (their seconds kept increasing).
        for (i, (t, from, text)) in first.iter().chain(second).enumerate() {
            events.push((*t.max(&(5 + i as u32)), *from, *text));
        }
        events.extend([
            (19, "close", ""),
            (20, "open", ""),
            (21, "charger", boot.as_str()),
            (21, "csms", b.as_str()),
        ]);
        run(&script("ocpp2.0.1", &events))
            .iter()
            .any(|(id, _, _)| *id == "seq.boot-reason-unexpected")
    };
    // Reset, then the firmware: a firmware reboot.
    assert!(!flagged(&reset, &firmware, "FirmwareUpdate"));
    assert!(flagged(&reset, &firmware, "RemoteReset"));
    // The firmware, then an accepted Reset: a reset.
    assert!(!flagged(&firmware, &reset, "RemoteReset"));
    assert!(flagged(&firmware, &reset, "FirmwareUpdate"));
}
