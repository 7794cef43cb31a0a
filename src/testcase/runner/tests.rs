//! The runner fed through the engine: events in, observations to the runner.

use std::sync::LazyLock;

use super::*;
use crate::engine::schema::ErrataSelection;
use crate::engine::{Config, Engine, Event, EventKind, Handshake, Origin, SchemaSet};
use crate::testcase::CaseResult;
use crate::testcase::scenario::parse_case;

static SCHEMAS: LazyLock<Arc<SchemaSet>> = LazyLock::new(|| {
    Arc::new(SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap())
});

/// The runner as the front ends use it: events go to the engine, its observations to the
/// runner.
struct Runner {
    inner: super::Runner,
    engine: Engine,
}

impl Runner {
    fn new(cases: Arc<Vec<Case>>, version: Option<Version>) -> Runner {
        Runner {
            inner: super::Runner::new(cases),
            engine: Engine::new(SCHEMAS.clone(), Arc::new(Config::default()), version),
        }
    }

    fn feed(&mut self, ev: &Event<'_>, out: &mut Vec<Progress>) {
        let inner = &mut self.inner;
        let _ = self
            .engine
            .feed_observed(ev, &mut Vec::new(), &mut |o: &Observation<'_>| {
                inner.feed(o, out)
            });
    }

    fn finish(&mut self, end: Timestamp, out: &mut Vec<Progress>) {
        self.inner.finish(end, out);
    }

    fn results(&self) -> Vec<CaseResult> {
        self.inner.results()
    }

    fn inject_failed(
        &mut self,
        station: &str,
        case: usize,
        step: usize,
        reason: &str,
        out: &mut Vec<Progress>,
    ) {
        self.inner.inject_failed(station, case, step, reason, out);
    }
}

const CASE: &str = r#"
id = "1.6/core/x01"
title = "Session"
versions = ["1.6"]
dut = "charger"
[[steps]]
from = "charger"
call = "StartTransaction"
capture = { start = "meterStart" }
[[steps]]
from = "csms"
result = "StartTransaction"
match = { "idTagInfo.status" = "Accepted" }
capture = { tx = "transactionId" }
[[steps]]
from = "charger"
call = "MeterValues"
repeat = true
optional = true
match = { transactionId = { var = "tx" } }
[[steps]]
from = "charger"
call = "StopTransaction"
within_s = 60
match = { transactionId = { var = "tx" }, meterStop = { ge = "$start" } }
"#;

fn feed_all(runner: &mut Runner, frames: &[(i64, &str, &str)]) -> Vec<Progress> {
    let mut out = Vec::new();
    let open = Event {
        at: Timestamp::from_secs(0),
        conn: "CP",
        line: 1,
        kind: EventKind::Open(Handshake {
            subprotocol: Some("ocpp1.6"),
            ..Handshake::default()
        }),
    };
    runner.feed(&open, &mut out);
    for (n, (t, from, text)) in frames.iter().enumerate() {
        let ev = Event {
            at: Timestamp::from_secs(*t),
            conn: "CP",
            line: n as u64 + 2,
            kind: EventKind::Frame {
                from: from.parse().unwrap(),
                text: (*text).into(),
                origin: Origin::Peer,
            },
        };
        runner.feed(&ev, &mut out);
    }
    let end = frames.last().map_or(0, |f| f.0);
    runner.finish(Timestamp::from_secs(end), &mut out);
    out
}

fn runner() -> Runner {
    let c = parse_case(CASE, "t.toml").unwrap();
    Runner::new(Arc::new(vec![c]), None)
}

const START: &str = r#"[2,"s","StartTransaction",{"connectorId":1,"idTag":"A","meterStart":100,"timestamp":"2026-01-01T00:00:00Z"}]"#;
const START_OK: &str = r#"[3,"s",{"transactionId":5,"idTagInfo":{"status":"Accepted"}}]"#;
const MV: &str = r#"[2,"m","MeterValues",{"connectorId":1,"transactionId":5,"meterValue":[]}]"#;
const HB: &str = r#"[2,"h","Heartbeat",{}]"#;
const STOP: &str = r#"[2,"e","StopTransaction",{"transactionId":5,"meterStop":150,"timestamp":"2026-01-01T00:00:00Z"}]"#;

#[test]
fn passes_with_repeats_and_noise() {
    let mut r = runner();
    let p = feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (2, "charger", MV),
            (3, "charger", HB),
            (4, "charger", MV),
            (5, "charger", STOP),
        ],
    );
    let res = r.results();
    assert_eq!(res[0].verdict, Verdict::Passed, "{}", res[0].reason);
    assert_eq!(res[0].steps[2].evidence.len(), 2);
    assert_eq!(res[0].lines, Some((2, 7)));
    assert!(p.contains(&Progress {
        station: "CP".into(),
        case: 0,
        kind: ProgressKind::Started
    }));
    assert_eq!(
        p.last().map(|p| &p.kind),
        Some(&ProgressKind::Ended(CaseEnd::Passed))
    );
}

#[test]
fn optional_repeat_may_be_skipped() {
    let mut r = runner();
    feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (5, "charger", STOP),
        ],
    );
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
    assert_eq!(res.steps[2].status, StepStatus::Skipped);
}

#[test]
fn a_wrong_answer_fails_its_step() {
    let mut r = runner();
    let bad = START_OK.replace("Accepted", "Invalid");
    feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", &bad),
            (5, "charger", STOP),
        ],
    );
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::Failed);
    assert_eq!(res.failed_step, Some(1));
    assert!(
        res.reason
            .contains("idTagInfo.status: expected \"Accepted\", got \"Invalid\""),
        "{}",
        res.reason
    );
}

#[test]
fn variables_and_time_limits() {
    // A stop for another transaction is passed over; the right one comes too late.
    let mut r = runner();
    let other = STOP.replace("\"transactionId\":5", "\"transactionId\":6");
    feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (2, "charger", &other),
            (100, "charger", STOP),
        ],
    );
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::Failed);
    assert_eq!(res.failed_step, Some(3));
    assert!(res.reason.contains("within 60 s"), "{}", res.reason);

    // meterStop below meterStart never matches: the trace ends waiting for it.
    let mut r = runner();
    let low = STOP.replace("150", "50");
    feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (2, "charger", &low),
        ],
    );
    // The trace simply ends: inconclusive, not a failure of the device.
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::Inconclusive);
    assert_eq!(res.failed_step, None);
    assert!(
        res.reason
            .starts_with("step 4 (charger CALL StopTransaction): the trace ended"),
        "{}",
        res.reason
    );
}

#[test]
fn not_run_without_trigger_and_not_applicable_elsewhere() {
    let mut r = runner();
    feed_all(&mut r, &[(1, "charger", HB)]);
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::NotRun);
    assert!(
        res.reason.starts_with("trigger not seen: step 1"),
        "{}",
        res.reason
    );

    let c = parse_case(CASE, "t.toml").unwrap();
    let mut r = Runner::new(Arc::new(vec![c]), None);
    let mut out = Vec::new();
    r.feed(
        &Event {
            at: Timestamp::from_secs(0),
            conn: "CS2",
            line: 1,
            kind: EventKind::Open(Handshake {
                subprotocol: Some("ocpp2.0.1"),
                ..Handshake::default()
            }),
        },
        &mut out,
    );
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::NotApplicable);
    assert_eq!(res.station, None);
    assert!(res.reason.contains("not applicable"), "{}", res.reason);
    assert!(res.reason.contains("CS2 (2.0.1)"), "{}", res.reason);
}

#[test]
fn incremental_results_and_rearmed_trigger() {
    let boot = r#"
id = "1.6/core/x99"
title = "Boot accepted"
versions = ["1.6"]
dut = "charger"
trigger = 2
[[steps]]
from = "charger"
call = "BootNotification"
[[steps]]
from = "csms"
result = "BootNotification"
match = { status = "Accepted" }
[[steps]]
from = "charger"
call = "StatusNotification"
expect = { status = "Available" }
"#;
    let c = parse_case(boot, "b.toml").unwrap();
    let mut r = Runner::new(Arc::new(vec![c]), Some(Version::V16));
    let mut out = Vec::new();
    let mut feed = |r: &mut Runner, t: i64, from: &str, text: &str| {
        let ev = Event {
            at: Timestamp::from_secs(t),
            conn: "CP",
            line: t as u64,
            kind: EventKind::Frame {
                from: from.parse().unwrap(),
                text: text.into(),
                origin: Origin::Peer,
            },
        };
        r.feed(&ev, &mut out);
    };
    let b = r#"[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
    feed(&mut r, 1, "charger", b);
    feed(
        &mut r,
        2,
        "csms",
        r#"[3,"1",{"status":"Pending","currentTime":"2026-01-01T00:00:00Z","interval":5}]"#,
    );
    // The Pending answer broke the trigger: re-armed, not failed. The reason names what
    // was missing, the Accepted answer, not the boot that was there (regression).
    assert_eq!(r.results()[0].verdict, Verdict::NotRun);
    assert_eq!(
        r.results()[0].reason,
        "trigger not seen: step 2 (csms CALLRESULT BootNotification with status \"Accepted\"); step 1 before it seen, then step 2 (csms CALLRESULT BootNotification): status: expected \"Accepted\", got \"Pending\""
    );
    let b2 = b.replace("\"1\"", "\"2\"");
    feed(&mut r, 8, "charger", &b2);
    feed(
        &mut r,
        9,
        "csms",
        r#"[3,"2",{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":5}]"#,
    );
    // Asked mid-stream: running, waiting for step 3.
    let mid = &r.results()[0];
    assert_eq!(mid.verdict, Verdict::NotRun);
    assert!(
        mid.reason.contains("running: waiting for step 3"),
        "{}",
        mid.reason
    );
    assert_eq!(mid.steps[0].evidence[0].line, 8);
    // `expect` judges the selected frame: Faulted fails the step.
    feed(
        &mut r,
        10,
        "charger",
        r#"[2,"3","StatusNotification",{"connectorId":0,"errorCode":"NoError","status":"Faulted"}]"#,
    );
    let end = &r.results()[0];
    assert_eq!(end.verdict, Verdict::Failed);
    assert!(
        end.reason
            .contains("status: expected \"Available\", got \"Faulted\""),
        "{}",
        end.reason
    );
    assert!(
        out.iter()
            .any(|p| matches!(p.kind, ProgressKind::Ended(CaseEnd::Failed { step: 2, .. })))
    );
}

const INJECT_CASE: &str = r#"
id = "1.6/core/x99"
title = "Injected remote stop"
versions = ["1.6"]
dut = "charger"
trigger = 2
[[steps]]
from = "csms"
result = "StartTransaction"
capture = { tx = "transactionId" }
[[steps]]
inject = { action = "RemoteStopTransaction", payload = { transactionId = "$tx" } }
[[steps]]
from = "charger"
result = "RemoteStopTransaction"
match = { status = "Accepted" }
"#;

fn inject_runner() -> Runner {
    let c = parse_case(INJECT_CASE, "t.toml").unwrap();
    Runner::new(Arc::new(vec![c]), None)
}

#[test]
fn an_inject_step_asks_once_with_captured_values_and_matches_like_a_csms_call() {
    let mut r = inject_runner();
    let stop = r#"[2,"inspector-1","RemoteStopTransaction",{"transactionId":5}]"#;
    let ok = r#"[3,"inspector-1",{"status":"Accepted"}]"#;
    let p = feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (2, "charger", HB),
            (3, "csms", stop),
            (3, "charger", ok),
        ],
    );
    let asked: Vec<&ProgressKind> = p
        .iter()
        .map(|p| &p.kind)
        .filter(|k| matches!(k, ProgressKind::Inject { .. }))
        .collect();
    assert_eq!(
        asked,
        vec![&ProgressKind::Inject {
            step: 1,
            action: "RemoteStopTransaction".into(),
            payload: json!({"transactionId": 5}),
        }]
    );
    assert_eq!(
        p.last().map(|p| &p.kind),
        Some(&ProgressKind::Ended(CaseEnd::Passed))
    );
    let res = r.results();
    assert_eq!(res[0].verdict, Verdict::Passed);
}

#[test]
fn a_failed_injection_fails_the_case_at_its_step() {
    let mut r = inject_runner();
    let mut p = feed_all(&mut r, &[(1, "charger", START), (1, "csms", START_OK)]);
    // Not the step that was asked for: ignored.
    r.inject_failed("CP", 0, 2, "no", &mut p);
    assert!(
        !p.iter()
            .any(|p| matches!(p.kind, ProgressKind::Ended(CaseEnd::Failed { .. })))
    );
    r.inject_failed("CP", 0, 1, "not connected", &mut p);
    assert!(matches!(
        &p.last().map(|p| &p.kind),
        Some(ProgressKind::Ended(CaseEnd::Failed { step: 1, reason })) if reason.contains("could not inject it: not connected")
    ));
    assert_eq!(r.results()[0].verdict, Verdict::Failed);
}

/// The session case with a minimum wait before the stop.
fn after_runner() -> Runner {
    let text = CASE.replace(
        "call = \"StopTransaction\"\nwithin_s = 60",
        "call = \"StopTransaction\"\nafter_s = 10\nwithin_s = 60",
    );
    let c = parse_case(&text, "t.toml").unwrap();
    assert_eq!(c.steps[3].after_s, Some(10.0));
    Runner::new(Arc::new(vec![c]), None)
}

#[test]
fn a_frame_before_after_s_fails_its_step() {
    let mut r = after_runner();
    let p = feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (2, "charger", MV),
            (5, "charger", STOP),
        ],
    );
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::Failed);
    assert_eq!(res.failed_step, Some(3));
    // Counted from the previous matched frame (the meter values at 2 s), not the start.
    assert_eq!(
        res.reason,
        "step 4 (charger CALL StopTransaction): came after 3.0 s, expected at least 10 s"
    );
    assert_eq!(
        res.steps[3].evidence.len(),
        1,
        "the early frame is the evidence"
    );
    assert!(
        p.iter()
            .any(|p| matches!(p.kind, ProgressKind::Ended(CaseEnd::Failed { step: 3, .. })))
    );
}

#[test]
fn a_frame_after_after_s_passes() {
    let mut r = after_runner();
    feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (2, "charger", MV),
            (12, "charger", STOP),
        ],
    );
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
    // Exactly at the limit is not early.
    let mut r = after_runner();
    feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (11, "charger", STOP),
        ],
    );
    assert_eq!(r.results()[0].verdict, Verdict::Passed);
}

#[test]
fn an_early_frame_during_the_trigger_rearms_instead_of_failing() {
    let text = r#"
id = "1.6/core/x97"
title = "Two heartbeats apart"
versions = ["1.6"]
dut = "charger"
trigger = 2
[[steps]]
from = "charger"
call = "Heartbeat"
[[steps]]
from = "charger"
call = "Heartbeat"
after_s = 10
[[steps]]
from = "charger"
call = "StatusNotification"
"#;
    let c = parse_case(text, "t.toml").unwrap();
    let mut r = Runner::new(Arc::new(vec![c]), None);
    let sn = r#"[2,"s","StatusNotification",{"connectorId":0,"errorCode":"NoError","status":"Available"}]"#;
    // 1 → 3 is too early for step 2: re-armed, the frame at 3 starts a new run; 3 → 20
    // is far enough.
    feed_all(
        &mut r,
        &[
            (1, "charger", HB),
            (3, "charger", HB),
            (20, "charger", HB),
            (21, "charger", sn),
        ],
    );
    let res = &r.results()[0];
    assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
    assert_eq!(res.steps[0].evidence[0].line, 3);
}

const EITHER: &str = r#"
id = "1.6/localauth/x99"
title = "Either a result or an error"
versions = ["1.6"]
dut = "charger"
[[steps]]
from = "csms"
call = "GetLocalListVersion"
[[steps]]
name = "answered"
from = "charger"
result = "GetLocalListVersion"
optional = true
expect = { listVersion = -1 }
[[steps]]
name = "refused"
from = "charger"
error = "GetLocalListVersion"
unless = "answered"
expect = { errorCode = "NotSupported" }
"#;

fn either(answer: &str) -> CaseResult {
    let c = parse_case(EITHER, "t.toml").unwrap();
    let mut r = Runner::new(Arc::new(vec![c]), None);
    feed_all(
        &mut r,
        &[
            (1, "csms", r#"[2,"g","GetLocalListVersion",{}]"#),
            (2, "charger", answer),
        ],
    );
    r.results().remove(0)
}

#[test]
fn an_optional_result_step_leaves_a_callerror_to_the_error_step() {
    let res = either(r#"[3,"g",{"listVersion":-1}]"#);
    assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
    assert_eq!(res.steps[2].status, StepStatus::Skipped);
    let res = either(r#"[4,"g","NotSupported","",{}]"#);
    assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
    assert_eq!(res.steps[1].status, StepStatus::Skipped);
    assert_eq!(res.steps[2].evidence.len(), 1);
    // Each branch still judges its answer.
    let res = either(r#"[3,"g",{"listVersion":0}]"#);
    assert_eq!(res.verdict, Verdict::Failed);
    assert_eq!(res.failed_step, Some(1), "{}", res.reason);
    let res = either(r#"[4,"g","InternalError","",{}]"#);
    assert_eq!(res.verdict, Verdict::Failed);
    assert_eq!(res.failed_step, Some(2), "{}", res.reason);
    assert!(res.reason.contains("errorCode"), "{}", res.reason);
    // Without a later error step, a CALLERROR still fails the optional result step.
    let only_result = EITHER
        .split("[[steps]]\nname = \"refused\"")
        .next()
        .unwrap();
    let then_status = "[[steps]]\nfrom = \"charger\"\ncall = \"StatusNotification\"\n";
    let c = parse_case(&format!("{only_result}{then_status}"), "t.toml").unwrap();
    let mut r = Runner::new(Arc::new(vec![c]), None);
    feed_all(
        &mut r,
        &[
            (1, "csms", r#"[2,"g","GetLocalListVersion",{}]"#),
            (2, "charger", r#"[4,"g","NotSupported","",{}]"#),
        ],
    );
    let res = r.results().remove(0);
    assert_eq!(res.verdict, Verdict::Failed);
    assert_eq!(res.failed_step, Some(1), "{}", res.reason);
}

const REARM: &str = r#"
id = "1.6/core/x98"
title = "Reset during a transaction"
versions = ["1.6"]
dut = "charger"
trigger = 3
[[steps]]
from = "charger"
call = "StartTransaction"
[[steps]]
from = "csms"
result = "StartTransaction"
capture = { tx = "transactionId" }
[[steps]]
from = "csms"
call = "Reset"
[[steps]]
from = "charger"
result = "Reset"
expect = { status = "Accepted" }
[[rearm_on]]
from = "charger"
call = "StopTransaction"
match = { transactionId = { var = "tx" } }
reason = "the transaction ended"
"#;

#[test]
fn rearm_on_starts_afresh_before_the_trigger_completes_only() {
    let c = parse_case(REARM, "t.toml").unwrap();
    let cases = Arc::new(vec![c]);
    let reset = r#"[2,"r","Reset",{"type":"Hard"}]"#;
    let reset_ok = r#"[3,"r",{"status":"Accepted"}]"#;
    // The transaction ends before the Reset: not run, naming why the attempt broke.
    let mut r = Runner::new(cases.clone(), None);
    feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (5, "charger", STOP),
        ],
    );
    let res = r.results().remove(0);
    assert_eq!(res.verdict, Verdict::NotRun);
    assert!(
        res.reason
            .contains("started afresh on charger CALL StopTransaction")
            && res.reason.contains("the transaction ended"),
        "{}",
        res.reason
    );
    // A second transaction then runs the case; a StopTransaction after the trigger
    // completed is no re-arm (and no step).
    let mut r = Runner::new(cases, None);
    feed_all(
        &mut r,
        &[
            (1, "charger", START),
            (1, "csms", START_OK),
            (5, "charger", STOP),
            (6, "charger", START),
            (6, "csms", START_OK),
            (7, "csms", reset),
            (8, "charger", STOP),
            (9, "charger", reset_ok),
        ],
    );
    let res = r.results().remove(0);
    assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
    assert_eq!(res.steps[0].evidence[0].line, 5);
}

#[test]
fn the_station_identity_is_the_engines_reading_of_its_boot() {
    let mut r = runner();
    let boot = r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M","chargeBoxSerialNumber":"BOX-1","firmwareVersion":"1.2"}]"#;
    feed_all(&mut r, &[(1, "charger", boot)]);
    let st = r.inner.stations();
    let cp = st.iter().find(|s| s.identity == "CP").unwrap();
    // The deprecated chargeBoxSerialNumber stands in for a missing chargePointSerialNumber,
    // as the engine's station model reads it (the same identity `check` reports).
    assert_eq!(
        (
            cp.vendor.as_deref(),
            cp.model.as_deref(),
            cp.serial.as_deref(),
            cp.firmware.as_deref()
        ),
        (Some("V"), Some("M"), Some("BOX-1"), Some("1.2"))
    );
    assert_eq!(
        r.engine.identity("CP").and_then(|i| i.serial.as_deref()),
        Some("BOX-1")
    );
}
