//! Unit tests of `seq/liveness.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use crate::engine::rules::testing::{BOOT2, BOOT16, answer, mine, script, status0};
use crate::finding::Severity;

const HB: &str = r#"[2,"h","Heartbeat",{}]"#;

fn hb(id: &str) -> String {
    HB.replace("\"h\"", &format!("\"{id}\""))
}

fn hb_answer(id: &str, t: u32) -> String {
    format!(
        r#"[3,"{id}",{{"currentTime":"2026-11-22T10:{:02}:{:02}.000Z"}}]"#,
        t / 60,
        t % 60
    )
}

#[test]
fn change_configuration_sets_the_interval_on_16() {
    let a = answer("b1", "Accepted", 300, 1);
    let hbs: Vec<(u32, String, String)> = [20u32, 40, 60]
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, hb(&format!("h{i}")), hb_answer(&format!("h{i}"), *t)))
        .collect();
    let status = status0("c1");
    let mut ev: Vec<(u32, &str, &str)> = vec![
        (0, "open", ""),
        (1, "charger", BOOT16),
        (1, "csms", &a),
        (2, "charger", &status),
        (2, "csms", r#"[3,"c1",{}]"#),
        (
            3,
            "csms",
            r#"[2,"s1","ChangeConfiguration",{"key":"HeartbeatInterval","value":"20"}]"#,
        ),
        (3, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
    ];
    for (t, c, r) in &hbs {
        ev.push((*t, "charger", c));
        ev.push((*t, "csms", r));
    }
    assert_eq!(mine(&script("ocpp1.6", &ev)), vec![]);
    // Rejected change: the 300 s interval stays, so 20 s spacing is too fast.
    let rejected: Vec<(u32, &str, &str)> = ev
        .iter()
        .map(|e| {
            if e.2 == r#"[3,"s1",{"status":"Accepted"}]"# {
                (e.0, e.1, r#"[3,"s1",{"status":"Rejected"}]"#)
            } else {
                *e
            }
        })
        .collect();
    assert_eq!(
        mine(&script("ocpp1.6", &rejected)),
        vec![("seq.heartbeat-interval-ignored", Severity::Warning, 12)]
    );
}

#[test]
fn other_traffic_and_triggers_break_a_heartbeat_run() {
    let a = answer("b1", "Accepted", 300, 1);
    let (h1, h2, h3) = (hb("h1"), hb("h2"), hb("h3"));
    let (r1, r2, r3) = (
        hb_answer("h1", 10),
        hb_answer("h2", 20),
        hb_answer("h3", 30),
    );
    let t = script(
        "ocpp2.0.1",
        &[
            (0, "open", ""),
            (1, "charger", BOOT2),
            (1, "csms", &a),
            (
                2,
                "charger",
                r#"[2,"c1","StatusNotification",{"timestamp":"2026-11-22T10:00:02.000Z","connectorStatus":"Available","evseId":1,"connectorId":1}]"#,
            ),
            (2, "csms", r#"[3,"c1",{}]"#),
            (10, "charger", &h1),
            (10, "csms", &r1),
            (
                19,
                "csms",
                r#"[2,"s1","TriggerMessage",{"requestedMessage":"Heartbeat"}]"#,
            ),
            (19, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
            (20, "charger", &h2),
            (20, "csms", &r2),
            (30, "charger", &h3),
            (30, "csms", &r3),
        ],
    );
    assert_eq!(mine(&t), vec![]);
}

#[test]
fn silence_is_only_judged_on_an_open_connection_of_an_accepted_station() {
    let a = answer("b1", "Accepted", 60, 1);
    let h = hb("h1");
    let r = hb_answer("h1", 400);
    let st = r#"[2,"c1","StatusNotification",{"connectorId":0,"errorCode":"NoError","status":"Available"}]"#;
    // Closed between: no overdue.
    let closed = script(
        "ocpp1.6",
        &[
            (0, "open", ""),
            (1, "charger", BOOT16),
            (1, "csms", &a),
            (2, "charger", st),
            (2, "csms", r#"[3,"c1",{}]"#),
            (10, "close", ""),
            (390, "open", ""),
            (400, "charger", &h),
            (400, "csms", &r),
        ],
    );
    assert_eq!(mine(&closed), vec![]);
    // Open all along: one info, at the last CALL before the silence.
    let open = script(
        "ocpp1.6",
        &[
            (0, "open", ""),
            (1, "charger", BOOT16),
            (1, "csms", &a),
            (2, "charger", st),
            (2, "csms", r#"[3,"c1",{}]"#),
            (400, "charger", &h),
            (400, "csms", &r),
        ],
    );
    assert_eq!(
        mine(&open),
        vec![("seq.heartbeat-overdue", Severity::Info, 4)]
    );
}

#[test]
fn clock_drift_is_reported_once_until_the_clocks_agree() {
    let a = answer("b1", "Accepted", 300, 1);
    let (h1, h2) = (hb("h1"), hb("h2"));
    let late = hb_answer("h1", 1000);
    let late2 = hb_answer("h2", 1000);
    let t = script(
        "ocpp1.6",
        &[
            (0, "open", ""),
            (1, "charger", BOOT16),
            (1, "csms", &a),
            (2, "charger", &status0("c1")),
            (2, "csms", r#"[3,"c1",{}]"#),
            (100, "charger", &h1),
            (100, "csms", &late),
            (200, "charger", &h2),
            (200, "csms", &late2),
        ],
    );
    assert_eq!(mine(&t), vec![("seq.csms-clock-drift", Severity::Info, 7)]);
}
