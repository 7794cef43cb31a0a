//! Unit tests of `tx16/transaction.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use super::*;
use crate::engine::rules::testing::{frame, run};

#[test]
fn decimals() {
    for ok in ["0", "-12.5", "+3", "3e2", "1.", ".5", "1E-3", "15000"] {
        assert!(is_decimal(ok), "{ok}");
    }
    for bad in [
        "", "-", ".", "12 kWh", "1,5", "NaN", "inf", "0x10", "1e", " 1",
    ] {
        assert!(!is_decimal(bad), "{bad}");
    }
}

/// The numeric check's light reading of a sampled value agrees with the full one.
#[test]
fn raw_value_reads_as_sample_does() {
    use crate::wire::doc::Doc;
    for text in [
        r#"{"value":"12"}"#,
        r#"{"value":"12","format":"Raw"}"#,
        r#"{"value":"ab","format":"SignedData"}"#,
        r#"{"value":"12","format":7}"#,
        r#"{"value":12}"#,
        r#"{"format":"Raw"}"#,
        r#"{"value":"1","value":"x","format":"SignedData","format":"Raw"}"#,
        r#"{"measurand":"Voltage","value":"230.1","unit":"V","phase":"L1"}"#,
        r#"["value","12"]"#,
        r#""12""#,
    ] {
        let mut doc = Doc::new();
        assert!(doc.parse(text), "{text}");
        let full = meter::sample(doc.root()).filter(|s| s.raw).map(|s| s.value);
        assert_eq!(meter::raw_value(doc.root()), full, "{text}");
    }
}

/// A 1.6 trace from `(seconds, from, frame)` triples.
fn trace(frames: &[(u32, &str, &str)]) -> String {
    let mut s = String::from(
        "{\"ts\":\"2026-11-22T10:00:00.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"ocpp1.6\"}\n",
    );
    for (t, from, text) in frames {
        s.push_str(&frame(*t, from, text));
    }
    s
}

const BOOT: &str =
    r#"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
const BOOT_OK: &str =
    r#"[3,"b1",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;
const START: &str = r#"[2,"s1","StartTransaction",{"connectorId":1,"idTag":"TAG-1","meterStart":1000,"timestamp":"2026-11-22T10:00:03Z"}]"#;
const START_OK: &str = r#"[3,"s1",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#;
/// Transaction 7's StopTransaction, and the same stop sent again as another CALL.
const STOP: &str = r#"[2,"x1","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:01:00Z"}]"#;
const STOP_AGAIN: &str = r#"[2,"x2","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:01:00Z"}]"#;

/// A 1.6 trace of a booted charger (seconds 1-2), then `rest`.
fn booted(rest: &[(u32, &str, &str)]) -> String {
    let mut frames = vec![(1, "charger", BOOT), (2, "csms", BOOT_OK)];
    frames.extend_from_slice(rest);
    trace(&frames)
}

/// A 1.6 trace of a booted charger running transaction 7 on connector 1 (seconds 1-4),
/// then `rest`.
fn running(rest: &[(u32, &str, &str)]) -> String {
    let mut frames = vec![(3, "charger", START), (4, "csms", START_OK)];
    frames.extend_from_slice(rest);
    booted(&frames)
}

/// Asserts that none of the rules `ids` fired.
fn none(found: &[(&'static str, Severity, u64)], ids: &[&str]) {
    for id in ids {
        assert!(count(found, id).is_empty(), "{id}: {found:?}");
    }
}

fn count(found: &[(&'static str, Severity, u64)], id: &str) -> Vec<Severity> {
    found.iter().filter(|f| f.0 == id).map(|f| f.1).collect()
}

#[test]
fn an_identical_resend_answered_with_the_same_id_is_not_reuse() {
    let t = booted(&[
        (3, "charger", START),
        (40, "charger", &START.replace("\"s1\"", "\"s2\"")),
        (
            41,
            "csms",
            r#"[3,"s1",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
        ),
        (
            42,
            "csms",
            r#"[3,"s2",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
        ),
        (43, "charger", &START.replace("\"s1\"", "\"s3\"")),
        (
            44,
            "csms",
            r#"[3,"s3",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
        ),
    ]);
    let found = run(&t);
    none(
        &found,
        &["tx16.transaction-id-reused", "tx16.start-on-busy-connector"],
    );
}

#[test]
fn unknown_transaction_is_reported_once_and_leniently_before_a_boot() {
    let mv = r#"[2,"m1","MeterValues",{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"2026-11-22T10:00:01Z","sampledValue":[{"value":"100"}]}]}]"#;
    let mv2 = r#"[2,"m2","MeterValues",{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"2026-11-22T10:01:01Z","sampledValue":[{"value":"200"}]}]}]"#;
    let t = trace(&[
        (1, "charger", mv),
        (2, "csms", r#"[3,"m1",{}]"#),
        (61, "charger", mv2),
        (62, "csms", r#"[3,"m2",{}]"#),
    ]);
    let found = run(&t);
    assert_eq!(
        count(&found, "tx16.meter-values-unknown-tx"),
        vec![Severity::Info],
        "{found:?}"
    );
}

#[test]
fn a_late_acknowledgement_makes_a_second_stop_a_warning() {
    let t = running(&[
        (60, "charger", STOP),
        (100, "csms", r#"[3,"x1",{}]"#),
        (101, "charger", STOP_AGAIN),
        (102, "csms", r#"[3,"x2",{}]"#),
    ]);
    let found = run(&t);
    assert_eq!(
        count(&found, "tx16.stop-twice"),
        vec![Severity::Warning],
        "{found:?}"
    );
}

#[test]
fn a_retry_after_callerror_is_not_a_second_stop() {
    let t = running(&[
        (60, "charger", STOP),
        (61, "csms", r#"[4,"x1","InternalError","",{}]"#),
        (70, "charger", STOP_AGAIN),
        (71, "csms", r#"[3,"x2",{}]"#),
    ]);
    let found = run(&t);
    none(&found, &["tx16.stop-twice", "tx16.stop-unknown-tx"]);
}

#[test]
fn connector_is_busy_until_the_stop_is_sent() {
    let start2 = r#"[2,"s2","StartTransaction",{"connectorId":1,"idTag":"TAG-2","meterStart":2000,"timestamp":"2026-11-22T10:02:00Z"}]"#;
    let t = running(&[
        (60, "charger", STOP),
        (61, "csms", r#"[3,"x1",{}]"#),
        (120, "charger", start2),
        (
            121,
            "csms",
            r#"[3,"s2",{"idTagInfo":{"status":"Accepted"},"transactionId":8}]"#,
        ),
    ]);
    let found = run(&t);
    none(&found, &["tx16.start-on-busy-connector"]);
    assert!(found.iter().all(|f| !f.0.starts_with("tx16.")), "{found:?}");
}

#[test]
fn remote_stop_of_an_unseen_transaction_is_judged_only_after_a_boot() {
    let rs = r#"[2,"r1","RemoteStopTransaction",{"transactionId":42}]"#;
    let ok = r#"[3,"r1",{"status":"Accepted"}]"#;
    let stop = r#"[2,"x1","StopTransaction",{"transactionId":42,"meterStop":5,"timestamp":"2026-11-22T10:00:04Z","reason":"Remote"}]"#;
    // Mid-life trace: the transaction may predate it; the stop follows; all is well.
    let t = trace(&[
        (1, "csms", rs),
        (2, "charger", ok),
        (3, "charger", stop),
        (4, "csms", r#"[3,"x1",{}]"#),
    ]);
    let found = run(&t);
    none(
        &found,
        &[
            "remote.stop-unknown-tx-accepted",
            "remote.stop-not-followed",
            "tx16.stop-reason-not-remote",
        ],
    );
    assert_eq!(count(&found, "tx16.stop-unknown-tx"), vec![Severity::Info]);
    // After a boot, an id never seen is suspicious (warning), and not also "not followed".
    let t = booted(&[
        (3, "csms", rs),
        (4, "charger", ok),
        (200, "charger", r#"[2,"h1","Heartbeat",{}]"#),
        (
            201,
            "csms",
            r#"[3,"h1",{"currentTime":"2026-11-22T10:03:21Z"}]"#,
        ),
    ]);
    let found = run(&t);
    assert_eq!(
        count(&found, "remote.stop-unknown-tx-accepted"),
        vec![Severity::Warning],
        "{found:?}"
    );
    none(&found, &["remote.stop-not-followed"]);
}

#[test]
fn a_stop_that_happened_before_the_remote_stop_keeps_its_reason() {
    let rs = r#"[2,"r1","RemoteStopTransaction",{"transactionId":7}]"#;
    // Stopped locally at 10:00:05, the remote stop crossed it at 10:05:00.
    let stop = r#"[2,"x1","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:00:05Z","reason":"Local"}]"#;
    let t = running(&[
        (300, "csms", rs),
        (301, "charger", r#"[3,"r1",{"status":"Accepted"}]"#),
        (302, "charger", stop),
        (303, "csms", r#"[3,"x1",{}]"#),
    ]);
    let found = run(&t);
    none(&found, &["tx16.stop-reason-not-remote"]);
}

#[test]
fn refused_id_without_a_stop_is_reported_at_the_start() {
    let getconf = r#"[2,"g1","GetConfiguration",{"key":["StopTransactionOnInvalidId"]}]"#;
    let conf = r#"[3,"g1",{"configurationKey":[{"key":"StopTransactionOnInvalidId","readonly":false,"value":"true"}]}]"#;
    let blocked = r#"[3,"s1",{"idTagInfo":{"status":"Blocked"},"transactionId":7}]"#;
    let t = booted(&[
        (3, "csms", getconf),
        (4, "charger", conf),
        (5, "charger", START),
        (6, "csms", blocked),
        (100, "charger", r#"[2,"h1","Heartbeat",{}]"#),
        (
            101,
            "csms",
            r#"[3,"h1",{"currentTime":"2026-11-22T10:01:41Z"}]"#,
        ),
    ]);
    let found: Vec<_> = run(&t)
        .into_iter()
        .filter(|f| f.0 == "tx16.stop-reason-not-deauthorized")
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].2, 6, "reported at the StartTransaction line");
    // A transaction completed offline (stopped before the answer came) is not judged.
    let stop = r#"[2,"x1","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T09:30:00Z","reason":"Local"}]"#;
    let start = START.replace("10:00:03", "09:20:00");
    let t = booted(&[
        (3, "csms", getconf),
        (4, "charger", conf),
        (5, "charger", &start),
        (6, "csms", blocked),
        (7, "charger", stop),
        (8, "csms", r#"[3,"x1",{}]"#),
    ]);
    let found = run(&t);
    none(&found, &["tx16.stop-reason-not-deauthorized"]);
}

#[test]
fn unanswered_start_is_reported_at_its_line_unless_the_connection_closed_first() {
    let t = booted(&[
        (3, "charger", START),
        (60, "charger", r#"[2,"h1","Heartbeat",{}]"#),
        (
            61,
            "csms",
            r#"[3,"h1",{"currentTime":"2026-11-22T10:01:01Z"}]"#,
        ),
    ]);
    let found: Vec<_> = run(&t)
        .into_iter()
        .filter(|f| f.0 == "tx16.start-not-answered")
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].2, 4);
    let mut t = booted(&[(3, "charger", START)]);
    t.push_str("{\"ts\":\"2026-11-22T10:00:05.000Z\",\"conn\":\"CS-1\",\"event\":\"close\",\"code\":1006,\"by\":\"charger\"}\n");
    t.push_str(&frame(90, "charger", r#"[2,"h1","Heartbeat",{}]"#));
    let found = run(&t);
    none(&found, &["tx16.start-not-answered"]);
}

#[test]
fn an_unanswered_start_is_reported_once_whatever_follows_and_a_refusal_in_time_once() {
    // Timed out; then resent under the same message id and refused late: still one finding.
    let refused = r#"[4,"s1","InternalError","",{}]"#;
    let t = booted(&[
        (3, "charger", START),
        (60, "charger", START),
        (120, "charger", r#"[2,"h1","Heartbeat",{}]"#),
        (121, "csms", refused),
    ]);
    let found: Vec<_> = run(&t)
        .into_iter()
        .filter(|f| f.0 == "tx16.start-not-answered")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].2, 4, "about the first StartTransaction");
    // Refused within the timeout: reported at the refusal, and not again when the timeout
    // of the refused start passes.
    let t = booted(&[
        (3, "charger", START),
        (4, "csms", refused),
        (90, "charger", r#"[2,"h1","Heartbeat",{}]"#),
    ]);
    let found: Vec<_> = run(&t)
        .into_iter()
        .filter(|f| f.0 == "tx16.start-not-answered")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].2, 5, "at the CALLERROR");
}

#[test]
fn a_reset_explains_only_transactions_it_interrupted() {
    let reset = r#"[2,"r1","Reset",{"type":"Hard"}]"#;
    let start2 = r#"[2,"s2","StartTransaction",{"connectorId":2,"idTag":"TAG-2","meterStart":0,"timestamp":"2026-11-22T10:00:12Z"}]"#;
    let stop = r#"[2,"x1","StopTransaction",{"transactionId":8,"meterStop":10,"timestamp":"2026-11-22T10:00:14Z"}]"#;
    let t = booted(&[
        (3, "csms", reset),
        (4, "charger", r#"[3,"r1",{"status":"Accepted"}]"#),
        (10, "charger", BOOT),
        (11, "csms", BOOT_OK),
        (12, "charger", start2),
        (
            13,
            "csms",
            r#"[3,"s2",{"idTagInfo":{"status":"Accepted"},"transactionId":8}]"#,
        ),
        (14, "charger", stop),
        (15, "csms", r#"[3,"x1",{}]"#),
    ]);
    let found = run(&t);
    none(&found, &["tx16.stop-reason-missing"]);
}
