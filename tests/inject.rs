//! Injection through the proxy, on 127.0.0.1: the proxy sends a CSMS-side CALL to a simulated
//! charger and gets its answer; the simulated CSMS never sees the call nor the answer (its
//! own recording says so); the proxy's recording marks both frames `"injected":true`, and
//! judging it finds nothing wrong with the exchange; a test case with an inject step passes
//! live and, on the recording, offline. Every wait has a timeout.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use common::{Buf, wait_until};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{
    Config, Engine, Event, EventKind, Handshake, Observation, Origin, SchemaSet,
};
use ocpp_inspector::finding::{Finding, Severity};
use ocpp_inspector::ocpp::{Side, Version};
use ocpp_inspector::pipeline::Inspector;
use ocpp_inspector::sim::charger::{FleetConfig, run_fleet};
use ocpp_inspector::sim::csms::{Csms, CsmsConfig, CsmsHandle};
use ocpp_inspector::source::proxy::tap::TapLimits;
use ocpp_inspector::source::proxy::{InjectError, InjectedReply, Proxy, ProxyConfig, ProxyHandle};
use ocpp_inspector::source::trace_reader::parse_record;
use ocpp_inspector::testcase::live::{Injector, LiveCases, OutcomeSlot};
use ocpp_inspector::testcase::report::ReportInfo;
use ocpp_inspector::testcase::report_html;
use ocpp_inspector::testcase::{Verdict, builtin, run_trace};
use ocpp_inspector::time::Timestamp;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::timeout;

fn schemas() -> Arc<SchemaSet> {
    Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("schemas"))
}

/// A simulated CSMS (recording what it sees), the proxy in front of it, a fleet behind.
struct Lab {
    csms: CsmsHandle,
    csms_seen: Buf,
    proxy: ProxyHandle,
    ids: Vec<String>,
    down: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    consumer: ocpp_inspector::pipeline::Consumer,
}

async fn lab(versions: Vec<Version>, inspector: impl FnOnce(ProxyHandle) -> Inspector) -> Lab {
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    let csms_seen = Buf::default();
    let mut csms_cfg = CsmsConfig::new(local);
    csms_cfg.read_config_after_boot = false;
    csms_cfg.record = Some(ocpp_inspector::sim::tap(Box::new(csms_seen.clone())));
    let csms = Csms::bind(csms_cfg).await.expect("bind the CSMS");
    let csms_addr = csms.local_addr().expect("address");
    let csms_handle = csms.handle();
    let proxy = Proxy::bind(ProxyConfig::new(
        "127.0.0.1:0",
        &format!("ws://{csms_addr}/ocpp"),
    ))
    .await
    .expect("bind the proxy");
    let proxy_addr = proxy.local_addr();
    let handle = proxy.handle();
    let (tap, consumer) =
        ocpp_inspector::pipeline::spawn(inspector(handle.clone()), TapLimits::default());
    let (down_tx, down) = watch::channel(false);
    let mut fleet = FleetConfig::new(format!("ws://{proxy_addr}/ocpp"));
    fleet.count = versions.len();
    fleet.prefix = "INJ-".into();
    fleet.versions = versions;
    fleet.connectors = 1;
    fleet.local_sessions = false;
    fleet.sessions = None;
    fleet.pace.meter_interval = Duration::from_millis(200);
    fleet.pace.samples = 10_000;
    let ids = (0..fleet.count).map(|i| fleet.identity(i)).collect();
    let csms_task = tokio::spawn(csms.run(down.clone()));
    let proxy_task = tokio::spawn(proxy.run(tap, down.clone()));
    let fleet_task = tokio::spawn(run_fleet(fleet, down.clone()));
    Lab {
        csms: csms_handle,
        csms_seen,
        proxy: handle,
        ids,
        down: down_tx,
        tasks: vec![
            tokio::spawn(async move {
                csms_task.await.expect("CSMS task");
            }),
            tokio::spawn(async move {
                proxy_task.await.expect("proxy task");
            }),
            tokio::spawn(async move {
                fleet_task.await.expect("fleet task").expect("fleet ran");
            }),
        ],
        consumer,
    }
}

impl Lab {
    async fn booted(&self) {
        for id in &self.ids {
            let h = self.csms.clone();
            let id2 = id.clone();
            wait_until(Duration::from_secs(15), "the accepted boot", move || {
                h.station(&id2).is_some_and(|s| s.boots > 0)
            })
            .await;
        }
    }

    async fn stop(self) -> ocpp_inspector::pipeline::LiveOutcome {
        self.down.send(true).expect("stop");
        for t in self.tasks {
            timeout(Duration::from_secs(15), t)
                .await
                .expect("a peer stops")
                .expect("join");
        }
        let live = timeout(Duration::from_secs(15), self.consumer.finish())
            .await
            .expect("consumer ends")
            .expect("consumer");
        assert!(live.problems.is_empty(), "{:?}", live.problems);
        assert_eq!(live.dropped, 0);
        live
    }
}

/// The injected records of a recording: (line, from, text).
fn injected_records(recording: &str) -> Vec<(u64, Side, String)> {
    let mut v = Vec::new();
    for (i, line) in recording.lines().enumerate() {
        let n = i as u64 + 1;
        let r = parse_record(line.as_bytes(), n).expect("a trace record");
        let e = r.event(n).expect("an event");
        if let EventKind::Frame {
            from,
            text,
            origin: Origin::Inspector,
        } = e.kind
        {
            v.push((n, from, text.get().to_owned()));
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_call_reaches_the_charger_and_its_answer_stays_hidden_from_the_csms() {
    let recording = Buf::default();
    let found: Arc<Mutex<Vec<Finding>>> = Arc::default();
    let schemas = schemas();
    let config = Arc::new(Config::default());
    let rec = recording.clone();
    let (sc, cc) = (schemas.clone(), config.clone());
    struct Keep(Arc<Mutex<Vec<Finding>>>);
    impl ocpp_inspector::pipeline::LiveSink for Keep {
        fn finding(&mut self, f: &Finding) {
            self.0.lock().expect("findings").push(f.clone());
        }
    }
    let keep = Keep(found.clone());
    let lab = lab(vec![Version::V16], move |_| {
        Inspector::new(Engine::new(sc, cc, None), Severity::Error)
            .record_to(rec)
            .sink(keep)
    })
    .await;
    lab.booted().await;
    let id = lab.ids[0].clone();
    assert_eq!(lab.proxy.connected(), vec![id.clone()]);

    // An unknown identity is a clear error, at once.
    let err = timeout(
        Duration::from_secs(5),
        lab.proxy.inject(
            "NOBODY",
            "RemoteStartTransaction",
            json!({"connectorId": 1, "idTag": "X"}),
            Duration::from_secs(5),
        ),
    )
    .await
    .expect("answers at once")
    .expect_err("nobody is connected as NOBODY");
    assert!(matches!(err, InjectError::NotConnected { .. }));
    assert_eq!(
        err.to_string(),
        "cannot inject RemoteStartTransaction to `NOBODY`: no charger with that identity is connected"
    );

    // The injected remote start is accepted by the charger, which then starts a transaction
    // (the CSMS sees the StartTransaction, as from a local start).
    let reply = timeout(
        Duration::from_secs(15),
        lab.proxy.inject(
            &id,
            "RemoteStartTransaction",
            json!({"connectorId": 1, "idTag": "INJ-TAG"}),
            Duration::from_secs(10),
        ),
    )
    .await
    .expect("the inject call ends")
    .expect("the charger answers");
    match &reply {
        InjectedReply::Result { id, payload } => {
            assert!(id.starts_with("inspector-"), "{id}");
            assert_eq!(payload, &json!({"status": "Accepted"}));
        }
        other => panic!("expected a CALLRESULT, got {other:?}"),
    }
    let h = lab.csms.clone();
    let ident = id.clone();
    wait_until(
        Duration::from_secs(15),
        "the transaction at the CSMS",
        move || {
            h.station(&ident)
                .is_some_and(|s| s.transactions_started > 0)
        },
    )
    .await;
    let csms_seen = lab.csms_seen.clone();
    lab.stop().await;

    // The CSMS never saw the injected call nor the answer, but the rest of the session.
    let seen = csms_seen.text();
    assert!(seen.contains("StartTransaction"), "{seen}");
    assert!(
        seen.contains("INJ-TAG"),
        "the StartTransaction carries the tag"
    );
    assert!(!seen.contains("inspector-"), "{seen}");
    assert!(!seen.contains("RemoteStartTransaction"), "{seen}");

    // The recording marks exactly the two frames of the exchange, in order.
    let recorded = recording.text();
    let injected = injected_records(&recorded);
    assert_eq!(injected.len(), 2, "{injected:?}");
    let (call_line, from, text) = &injected[0];
    assert_eq!(*from, Side::Csms);
    let call: serde_json::Value = serde_json::from_str(text).expect("json");
    assert_eq!(
        call,
        json!([2, reply.id(), "RemoteStartTransaction", {"connectorId": 1, "idTag": "INJ-TAG"}])
    );
    let (answer_line, from, text) = &injected[1];
    assert_eq!(*from, Side::Charger);
    assert!(answer_line > call_line);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(text).expect("json"),
        json!([3, reply.id(), {"status": "Accepted"}])
    );

    // Judged live and again offline (`check`), nothing is wrong with the exchange, and no
    // rpc rule fires at all.
    let live = found.lock().expect("findings").clone();
    let opts = ocpp_inspector::checker::CheckOptions {
        schemas,
        config,
        default_version: None,
        jobs: 1,
    };
    let checked = ocpp_inspector::checker::check_reader(recorded.as_bytes(), &opts, 1);
    assert!(
        checked.input_errors.is_empty(),
        "{:?}",
        checked.input_errors
    );
    let check = checked.findings;
    for (what, findings) in [("live", &live), ("check", &check)] {
        let bad: Vec<&Finding> = findings
            .iter()
            .filter(|f| {
                f.line == *call_line
                    || f.line == *answer_line
                    || f.unique_id.as_deref() == Some(reply.id())
                    || f.rule.id.starts_with("rpc.")
                    || f.severity == Severity::Error
            })
            .collect();
        assert!(bad.is_empty(), "{what}: {bad:#?}");
    }
}

fn ev<'a>(ms: i64, line: u64, from: Side, text: &'a str) -> Event<'a> {
    marked(ms, line, from, text, Origin::Peer)
}

fn marked<'a>(ms: i64, line: u64, from: Side, text: &'a str, origin: Origin) -> Event<'a> {
    Event {
        at: Timestamp::from_micros(ms * 1000),
        conn: "CP",
        line,
        kind: EventKind::Frame {
            from,
            text: text.into(),
            origin,
        },
    }
}

#[test]
fn an_injected_call_beside_one_of_the_csms_is_not_a_concurrent_call() {
    let open = Event {
        at: Timestamp::from_micros(0),
        conn: "CP",
        line: 1,
        kind: EventKind::Open(Handshake {
            subprotocol: Some("ocpp1.6"),
            ..Handshake::default()
        }),
    };
    let frames = [
        (Side::Csms, r#"[2,"c1","GetConfiguration",{}]"#, false),
        (
            Side::Csms,
            r#"[2,"inspector-1","RemoteStartTransaction",{"idTag":"T"}]"#,
            true,
        ),
        (
            Side::Charger,
            r#"[3,"inspector-1",{"status":"Accepted"}]"#,
            true,
        ),
        (Side::Charger, r#"[3,"c1",{}]"#, false),
    ];
    let run = |marked: bool| {
        let mut engine = Engine::new(schemas(), Arc::new(Config::default()), None);
        let mut out = Vec::new();
        engine.feed(&open, &mut out).expect("open");
        for (i, (from, text, injected)) in frames.iter().enumerate() {
            let origin = Origin::of_injected(*injected && marked);
            let e = self::marked(10 + i as i64, i as u64 + 2, *from, text, origin);
            engine.feed(&e, &mut out).expect("frame");
        }
        out.into_iter()
            .map(|f| f.rule.id)
            .filter(|r| r.starts_with("rpc."))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(true), Vec::<&str>::new());
    // The same frames unmarked: the CSMS seems to have two calls outstanding.
    assert_eq!(run(false), vec!["rpc.concurrent-call"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_with_an_inject_step_pass_live_and_on_the_recording() {
    let wanted = ["1.6/remote/x11_CS", "2.0.1/F/x02_CS"];
    let cases: Vec<_> = builtin::load()
        .expect("cases")
        .into_iter()
        .filter(|c| wanted.contains(&c.id.as_str()))
        .collect();
    assert_eq!(cases.len(), 2);
    let cases = Arc::new(cases);
    let schemas = schemas();
    let config = Arc::new(Config::default());
    let recording = Buf::default();
    let progress = Buf::default();
    let slot = OutcomeSlot::default();
    let (rec, prog, sl, cs, sc, cc) = (
        recording.clone(),
        progress.clone(),
        slot.clone(),
        cases.clone(),
        schemas.clone(),
        config.clone(),
    );
    let lab = lab(vec![Version::V16, Version::V201], move |proxy| {
        Inspector::new(Engine::new(sc, cc, None), Severity::Error)
            .record_to(rec)
            .sink(
                LiveCases::new(cs, prog, sl)
                    .with_injector(Injector {
                        proxy,
                        runtime: tokio::runtime::Handle::current(),
                        timeout: Duration::from_secs(10),
                    })
                    // The lab named both cases and passed --allow-inject.
                    .allow_inject(vec![true; 2]),
            )
    })
    .await;
    let (id16, id201) = (lab.ids[0].clone(), lab.ids[1].clone());
    for (id, case) in [(&id16, wanted[0]), (&id201, wanted[1])] {
        let p = progress.clone();
        let needle = format!("case     {id}  {case}  PASSED");
        let what = needle.clone();
        wait_until(Duration::from_secs(20), &what, move || {
            p.text().contains(&needle)
        })
        .await;
    }
    let text = progress.text();
    assert!(
        text.contains(&format!(
            "case     {id16}  1.6/remote/x11_CS  step 2: injecting RemoteStartTransaction"
        )),
        "{text}"
    );
    let csms_seen = lab.csms_seen.clone();
    lab.stop().await;
    let seen = csms_seen.text();
    assert!(!seen.contains("inspector-"), "{seen}");
    assert!(!seen.contains("RequestStartTransaction"), "{seen}");

    let live = slot.lock().expect("slot").take().expect("the live outcome");
    let offline = run_trace(recording.text().as_bytes(), cases, schemas, config, None);
    assert!(
        offline.input_errors.is_empty(),
        "{:?}",
        offline.input_errors
    );
    for (what, o) in [("live", &live), ("offline", &offline)] {
        for (id, case) in [(&id16, wanted[0]), (&id201, wanted[1])] {
            let r = o
                .results
                .iter()
                .find(|r| r.id == case && r.station.as_deref() == Some(id.as_str()))
                .unwrap_or_else(|| panic!("{what}: {case} on {id}"));
            assert_eq!(r.verdict, Verdict::Passed, "{what}: {case}: {}", r.reason);
            // The inject step's frame and the charger's answer are marked as injected;
            // the charger's own CALLs are not.
            assert!(r.steps[1].evidence.iter().all(|e| e.injected), "{what}");
            assert!(r.steps[2].evidence.iter().all(|e| e.injected), "{what}");
            assert!(r.steps[4].evidence.iter().all(|e| !e.injected), "{what}");
            assert!(!r.steps[1].evidence.is_empty());
        }
        assert!(
            !o.findings.iter().any(|f| f.severity == Severity::Error),
            "{what}: {:#?}",
            o.findings
        );
    }
    let key = |o: &ocpp_inspector::testcase::TraceOutcome| {
        o.results
            .iter()
            .map(|r| (r.id.clone(), r.station.clone(), r.verdict, r.lines))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&live), key(&offline));

    // The lab report says which frames the inspector injected.
    let mut html = Vec::new();
    report_html::write(
        &mut html,
        &offline,
        &ReportInfo {
            trace: "recording".into(),
            schemas: "built in".into(),
            generated: "now".into(),
            ..ReportInfo::default()
        },
    )
    .expect("report");
    let html = String::from_utf8(html).expect("utf-8");
    assert_eq!(html.matches("injected by the inspector").count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_whose_injection_cannot_be_sent_fails_at_that_step() {
    use ocpp_inspector::pipeline::{LiveOutcome, LiveSink};
    // A proxy no charger ever connects to: every injection finds no connection.
    let proxy = Proxy::bind(ProxyConfig::new("127.0.0.1:0", "ws://127.0.0.1:9/ocpp"))
        .await
        .expect("bind the proxy");
    let cases: Vec<_> = builtin::load()
        .expect("cases")
        .into_iter()
        .filter(|c| c.id == "2.0.1/F/x02_CS")
        .collect();
    let progress = Buf::default();
    let slot = OutcomeSlot::default();
    let cases = Arc::new(cases);
    let mut sink = LiveCases::new(cases.clone(), progress.clone(), slot.clone())
        .with_injector(Injector {
            proxy: proxy.handle(),
            runtime: tokio::runtime::Handle::current(),
            timeout: Duration::from_secs(5),
        })
        .allow_inject(vec![true]);
    let open = Event {
        at: Timestamp::from_micros(0),
        conn: "GHOST",
        line: 1,
        kind: EventKind::Open(Handshake {
            subprotocol: Some("ocpp2.0.1"),
            ..Handshake::default()
        }),
    };
    let boot = r#"[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;
    let accepted =
        r#"[3,"b",{"currentTime":"2026-01-01T00:00:00Z","interval":300,"status":"Accepted"}]"#;
    let hb = r#"[2,"h","Heartbeat",{}]"#;
    let ghost = |ms: i64, line: u64, from: Side, text: &'static str| Event {
        conn: "GHOST",
        ..ev(ms, line, from, text)
    };
    // The runner reads the engine's observations, as behind the proxy.
    let mut engine = Engine::new(schemas(), Arc::new(Config::default()), None);
    let judge = |engine: &mut Engine, sink: &mut LiveCases<Buf>, e: &Event<'_>| {
        let _ = engine.feed_observed(e, &mut Vec::new(), &mut |o: &Observation<'_>| {
            sink.observe(o)
        });
    };
    judge(&mut engine, &mut sink, &open);
    judge(&mut engine, &mut sink, &ghost(1, 2, Side::Charger, boot));
    judge(&mut engine, &mut sink, &ghost(2, 3, Side::Csms, accepted));
    let p = progress.clone();
    wait_until(Duration::from_secs(5), "the inject line", move || {
        p.text()
            .contains("step 2: injecting RequestStartTransaction")
    })
    .await;
    // The failure arrives from the sending task; the next event takes it in.
    let mut line = 3;
    wait_until(Duration::from_secs(5), "the failed case", || {
        line += 1;
        judge(&mut engine, &mut sink, &ghost(3, line, Side::Charger, hb));
        progress.text().contains("FAILED")
    })
    .await;
    sink.finish(&LiveOutcome::default()).expect("finish");
    let text = progress.text();
    assert!(
        text.contains("case     GHOST  2.0.1/F/x02_CS  FAILED: step 2 (RequestStartTransaction (injected)): the proxy could not inject it: cannot inject RequestStartTransaction to `GHOST`: no charger with that identity is connected"),
        "{text}"
    );
    let outcome = slot.lock().expect("slot").take().expect("outcome");
    let r = &outcome.results[0];
    assert_eq!(
        (r.id.as_str(), r.verdict),
        (cases[0].id.as_str(), Verdict::Failed)
    );
    assert_eq!(r.failed_step, Some(1));
}

/// Without the lab's allowance nothing is injected: the case reaches its inject step and is
/// not run ("injection not allowed"), and the recording's CSMS side holds only the CSMS's own
/// frames (no `inspector-` id, nothing marked injected).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_allowance_nothing_is_injected_and_the_case_is_not_run() {
    let wanted = ["1.6/remote/x11_CS", "2.0.1/F/x02_CS"];
    let cases: Vec<_> = builtin::load()
        .expect("cases")
        .into_iter()
        .filter(|c| wanted.contains(&c.id.as_str()))
        .collect();
    let cases = Arc::new(cases);
    let (schemas, config) = (schemas(), Arc::new(Config::default()));
    let (recording, progress, slot) = (Buf::default(), Buf::default(), OutcomeSlot::default());
    let (rec, prog, sl, cs) = (
        recording.clone(),
        progress.clone(),
        slot.clone(),
        cases.clone(),
    );
    let lab = lab(vec![Version::V16, Version::V201], move |proxy| {
        Inspector::new(Engine::new(schemas, config, None), Severity::Error)
            .record_to(rec)
            // An injector, but no case allowed (no --allow-inject).
            .sink(LiveCases::new(cs, prog, sl).with_injector(Injector {
                proxy,
                runtime: tokio::runtime::Handle::current(),
                timeout: Duration::from_secs(10),
            }))
    })
    .await;
    let ids = lab.ids.clone();
    for (id, case) in ids.iter().zip(wanted) {
        let p = progress.clone();
        let needle = format!("case     {id}  {case}  NOT RUN: injection not allowed");
        let what = needle.clone();
        wait_until(Duration::from_secs(20), &what, move || {
            p.text().contains(&needle)
        })
        .await;
    }
    // Give a wrongly sent call time to show up before stopping.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let csms_seen = lab.csms_seen.clone();
    lab.stop().await;
    let text = progress.text();
    assert!(!text.contains("injecting"), "{text}");
    let rec = recording.text();
    let mut csms_frames = 0;
    for line in rec.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert_ne!(v["injected"], true, "{line}");
        if v["from"] == "csms" {
            csms_frames += 1;
            let t = v["text"].as_str().unwrap_or_default();
            assert!(!t.contains("inspector-"), "{line}");
            assert!(!t.contains("RemoteStartTransaction"), "{line}");
            assert!(!t.contains("RequestStartTransaction"), "{line}");
        }
    }
    assert!(csms_frames >= 2, "the CSMS side answered the boots: {rec}");
    assert!(!csms_seen.text().contains("inspector-"));
    let live = slot.lock().expect("slot").take().expect("the live outcome");
    for (id, case) in ids.iter().zip(wanted) {
        let r = live
            .results
            .iter()
            .find(|r| r.id == case && r.station.as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("{case} on {id}"));
        assert_eq!(r.verdict, Verdict::NotRun, "{case}: {}", r.reason);
        assert!(
            r.reason.starts_with("injection not allowed: step 2"),
            "{}",
            r.reason
        );
    }
}
