//! The test cases live, behind the proxy, on 127.0.0.1: a simulated CSMS drives a simulated
//! 2.0.1 charger through the proxy (trigger, remote start, remote stop); the live case runner
//! prints each case's progress and ends with the same verdicts the offline runner gives on
//! the recording of the same run. Every wait has a timeout.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use common::{Buf, wait_until};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, Engine, SchemaSet};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::Version;
use ocpp_inspector::pipeline::Inspector;
use ocpp_inspector::sim::charger::{FleetConfig, run_fleet};
use ocpp_inspector::sim::csms::{Command, Csms, CsmsConfig, CsmsHandle};
use ocpp_inspector::source::proxy::tap::TapLimits;
use ocpp_inspector::source::proxy::{Proxy, ProxyConfig};
use ocpp_inspector::testcase::live::{LiveCases, OutcomeSlot};
use ocpp_inspector::testcase::{Verdict, builtin, run_trace};
use tokio::sync::watch;
use tokio::time::timeout;

/// What must agree between the live and the offline verdicts: id, station, verdict,
/// reason, lines of the run.
type Key = (String, Option<String>, Verdict, String, Option<(u64, u64)>);

fn send(h: &CsmsHandle, id: &str, cmd: Command) {
    h.send(id, cmd).expect("the CSMS takes the command");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_cases_judge_the_proxied_traffic_like_the_recording() {
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut csms_cfg = CsmsConfig::new(local);
    csms_cfg.read_config_after_boot = false;
    let csms = Csms::bind(csms_cfg).await.expect("bind the CSMS");
    let csms_addr = csms.local_addr().expect("address");
    let handle = csms.handle();
    let proxy = Proxy::bind(ProxyConfig::new(
        "127.0.0.1:0",
        &format!("ws://{csms_addr}/ocpp"),
    ))
    .await
    .expect("bind the proxy");
    let proxy_addr = proxy.local_addr();

    let schemas = Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("schemas"));
    let config = Arc::new(Config::default());
    let cases = Arc::new(builtin::load().expect("cases"));
    let progress = Buf::default();
    let recording = Buf::default();
    let slot = OutcomeSlot::default();
    let inspector = Inspector::new(
        Engine::new(schemas.clone(), config.clone(), None),
        Severity::Error,
    )
    .record_to(recording.clone())
    .sink(LiveCases::new(
        cases.clone(),
        progress.clone(),
        slot.clone(),
    ));
    let (tap, consumer) = ocpp_inspector::pipeline::spawn(inspector, TapLimits::default());

    let (down_tx, down) = watch::channel(false);
    let csms_task = tokio::spawn(csms.run(down.clone()));
    let proxy_task = tokio::spawn(proxy.run(tap, down.clone()));
    let mut fleet = FleetConfig::new(format!("ws://{proxy_addr}/ocpp"));
    fleet.count = 1;
    fleet.prefix = "LIVE-".into();
    fleet.versions = vec![Version::V201];
    fleet.connectors = 1;
    fleet.local_sessions = false;
    fleet.sessions = None;
    // A remote session lasts until the remote stop.
    fleet.pace.meter_interval = Duration::from_millis(200);
    fleet.pace.samples = 10_000;
    let id = fleet.identity(0);
    let fleet_task = tokio::spawn(run_fleet(fleet, down.clone()));

    let limit = Duration::from_secs(15);
    let seen = |needle: String| {
        let p = progress.clone();
        move || p.text().contains(&needle)
    };
    wait_until(
        limit,
        "the boot case",
        seen(format!("case     {id}  2.0.1/B/01_CS  PASSED")),
    )
    .await;
    send(&handle, &id, Command::Trigger("Heartbeat".into()));
    wait_until(
        limit,
        "the trigger case",
        seen(format!("case     {id}  2.0.1/F/20_CS  PASSED")),
    )
    .await;
    send(
        &handle,
        &id,
        Command::RemoteStart {
            connector: 1,
            id_tag: "LIVE-TAG".into(),
        },
    );
    // The simulated charger starts a remote session without an Authorize (it is a TC_F_03_CS
    // device, AuthorizeRemoteStart false): 2.0.1/F/02_CS waits for the Authorize and fails
    // when the run ends.
    wait_until(
        limit,
        "the remote start's TransactionEvent",
        seen(format!("case     {id}  2.0.1/F/02_CS  step 2 matched")),
    )
    .await;
    // The remote stop needs the transaction the CSMS saw start.
    let h = handle.clone();
    let ident = id.clone();
    wait_until(limit, "the transaction at the CSMS", move || {
        h.station(&ident)
            .is_some_and(|s| s.transactions_started > 0)
    })
    .await;
    send(&handle, &id, Command::RemoteStop);
    wait_until(
        limit,
        "the remote stop case",
        seen(format!("case     {id}  2.0.1/E/21_CS  PASSED")),
    )
    .await;

    down_tx.send(true).expect("stop");
    let grace = Duration::from_secs(15);
    timeout(grace, fleet_task)
        .await
        .expect("fleet stops")
        .expect("fleet task")
        .expect("fleet ran");
    timeout(grace, proxy_task)
        .await
        .expect("proxy stops")
        .expect("proxy task");
    timeout(grace, csms_task)
        .await
        .expect("CSMS stops")
        .expect("CSMS task");
    let live = timeout(grace, consumer.finish())
        .await
        .expect("consumer ends")
        .expect("consumer");
    assert!(live.problems.is_empty(), "{:?}", live.problems);
    assert_eq!(live.dropped, 0);

    let outcome = slot.lock().expect("slot").take().expect("the live outcome");
    let verdict = |case: &str| {
        outcome
            .results
            .iter()
            .find(|r| r.id == case && r.station.as_deref() == Some(id.as_str()))
            .map(|r| r.verdict)
    };
    for case in [
        "2.0.1/B/01_CS",
        "2.0.1/B/01_CSMS",
        "2.0.1/F/20_CS",
        "2.0.1/E/21_CS",
    ] {
        assert_eq!(verdict(case), Some(Verdict::Passed), "{case}");
    }
    // Still waiting for its Authorize when the live run ended: inconclusive, not failed.
    assert_eq!(verdict("2.0.1/F/02_CS"), Some(Verdict::Inconclusive));
    // 1.6 cases: no 1.6 station, listed once as not applicable.
    let r16 = outcome
        .results
        .iter()
        .find(|r| r.id == "1.6/core/001_CS")
        .expect("listed");
    assert_eq!(
        (r16.verdict, r16.station.as_deref()),
        (Verdict::NotApplicable, None)
    );

    // The recording judged offline decides every case the same way, with the same evidence
    // lines (live line numbers are record numbers).
    let offline = run_trace(recording.text().as_bytes(), cases, schemas, config, None);
    assert!(
        offline.input_errors.is_empty(),
        "{:?}",
        offline.input_errors
    );
    let key = |o: &ocpp_inspector::testcase::TraceOutcome| -> Vec<Key> {
        o.results
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    r.station.clone(),
                    r.verdict,
                    // Only the word for what ended differs.
                    r.reason.replace("the live run ended", "the trace ended"),
                    r.lines,
                )
            })
            .collect()
    };
    assert_eq!(key(&outcome), key(&offline));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_live_runs_for_its_duration_and_reports() {
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    let csms = Csms::bind(CsmsConfig::new(local))
        .await
        .expect("bind the CSMS");
    let csms_addr = csms.local_addr().expect("address");
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(csms.run(rx));
    let upstream = format!("ws://{csms_addr}/ocpp");
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
            .args([
                "testcase",
                "run",
                "2.0.1/B/01",
                "--live",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                &upstream,
                "--duration",
                "0.5",
                "--format",
                "json",
            ])
            .output()
            .expect("run the binary")
    });
    let out = timeout(Duration::from_secs(30), run)
        .await
        .expect("the live run ends after its duration")
        .expect("join");
    stop.send(true).expect("stop");
    timeout(Duration::from_secs(10), task)
        .await
        .expect("CSMS stops")
        .expect("task");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("testcase judging live: chargers connect to ws://127.0.0.1:"),
        "{stderr}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let cases = doc["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 2, "B/01_CS and B/01_CSMS");
    for c in cases {
        assert_eq!(c["verdict"], "not_run");
        assert_eq!(c["reason"], "the trace has no station");
    }

    // Flag errors are usage errors.
    for args in [
        vec!["testcase", "run", "--live"],
        vec![
            "testcase",
            "run",
            "--trace",
            "x.jsonl",
            "--live",
            "--listen",
            "a:1",
            "--upstream",
            "ws://b",
        ],
        vec!["testcase", "run", "--trace", "x.jsonl", "--duration", "3"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
            .args(&args)
            .output()
            .expect("run the binary");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
