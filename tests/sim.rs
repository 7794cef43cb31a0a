//! The simulators against each other on 127.0.0.1, judged by the engine: a behaving fleet of
//! each version runs full sessions and the recorded trace has no error finding; every row of
//! the misbehaviour table, for every version it lists, makes its rule fire; the CSMS's own
//! calls (reset, remote start/stop, trigger, configuration) are answered and followed; the CLI
//! refuses a bad URL with a clear error.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use common::Buf;

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use ocpp_inspector::checker::{CheckOptions, FileResult, check_reader};
use ocpp_inspector::engine::rules::REGISTRY;
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, SchemaSet};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::Version;
use ocpp_inspector::sim::charger::{FleetConfig, FleetReport, Target, run_fleet};
use ocpp_inspector::sim::csms::{Command, Csms, CsmsConfig, CsmsHandle};
use ocpp_inspector::sim::misbehave::TABLE;
use ocpp_inspector::sim::tap;
use tokio::sync::watch;
use tokio::time::timeout;

static OPTS: LazyLock<CheckOptions> = LazyLock::new(|| CheckOptions {
    schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("built-in schemas")),
    config: Arc::new(Config::default()),
    default_version: None,
    jobs: 1,
});

fn check(trace: &str) -> FileResult {
    let r = check_reader(trace.as_bytes(), &OPTS, 1);
    assert!(
        r.input_errors.is_empty(),
        "trace unreadable: {:?}",
        r.input_errors
    );
    r
}

fn listing(r: &FileResult) -> String {
    r.findings
        .iter()
        .map(|f| {
            format!(
                "\n  {} {} {}: {}",
                f.conn,
                f.severity.as_str(),
                f.rule.id,
                f.message
            )
        })
        .collect()
}

async fn start_csms(
    cfg: CsmsConfig,
) -> (
    SocketAddr,
    CsmsHandle,
    watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let csms = Csms::bind(cfg).await.expect("bind the CSMS");
    let addr = csms.local_addr().expect("address");
    let handle = csms.handle();
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(csms.run(rx));
    (addr, handle, tx, task)
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().expect("address")
}

/// Runs `fleet` (recorded) against a fresh CSMS until it is done; returns the report and trace.
async fn run(fleet: FleetConfig) -> (FleetReport, String) {
    let (addr, _handle, stop, task) = start_csms(CsmsConfig::new(local())).await;
    let buf = Buf::default();
    let mut fleet = fleet;
    fleet.url = format!("ws://{addr}/ocpp");
    fleet.record = Some(tap(Box::new(buf.clone())));
    let (_fleet_stop, rx) = watch::channel(false);
    let report = timeout(Duration::from_secs(20), run_fleet(fleet, rx))
        .await
        .expect("the fleet finishes in time")
        .expect("a valid fleet configuration");
    stop.send(true).expect("stop the CSMS");
    timeout(Duration::from_secs(10), task)
        .await
        .expect("the CSMS stops in time")
        .expect("the CSMS task");
    (report, buf.text())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behaving_fleets_of_every_version_produce_no_error_finding() {
    let mut fleet = FleetConfig::new("");
    fleet.count = 6;
    fleet.versions = Version::ALL.to_vec();
    fleet.sessions = Some(2);
    let (report, trace) = run(fleet).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.boots, 6);
    assert_eq!(report.sessions, 12);
    let r = check(&trace);
    assert_eq!(r.stats.connections, 6);
    let errors: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(
        errors.is_empty(),
        "error findings on a behaving fleet:{}",
        listing(&r)
    );
    // The sessions really happened, in each version's own terms.
    for needle in [
        "\\\"StartTransaction\\\"",
        "\\\"StopTransaction\\\"",
        "Energy.Active.Import.Register",
        "\\\"eventType\\\":\\\"Started\\\"",
        "\\\"eventType\\\":\\\"Ended\\\"",
        "\\\"GetConfiguration\\\"",
        "\\\"GetVariables\\\"",
        "\"subprotocol\":\"ocpp2.1\"",
    ] {
        assert!(trace.contains(needle), "trace lacks {needle}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_misbehaviour_fires_its_rule_in_every_version_it_lists() {
    // Every rule named by the table exists and covers the versions the row lists.
    for row in TABLE {
        let rule = REGISTRY
            .iter()
            .find(|r| r.id == row.rule)
            .unwrap_or_else(|| panic!("{}: rule {} is not in the registry", row.name, row.rule));
        for v in row.versions {
            assert!(
                rule.versions.contains(v),
                "{}: {} does not apply to {v}",
                row.name,
                row.rule
            );
        }
    }
    // One station per (kind, version), all in one fleet per version mix.
    let mut fleet = FleetConfig::new("");
    let mut expect = Vec::new();
    for row in TABLE {
        for v in row.versions {
            let i = expect.len();
            expect.push((row, *v));
            fleet.misbehave.push((Target::Index(i), row.kind));
        }
    }
    fleet.count = expect.len();
    // Station i's version is versions[i]: one entry per station.
    fleet.versions = expect.iter().map(|(_, v)| *v).collect();
    let (report, trace) = run(fleet.clone()).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let r = check(&trace);
    let mut missing = Vec::new();
    for (i, (row, v)) in expect.iter().enumerate() {
        let id = fleet.identity(i);
        if !r
            .findings
            .iter()
            .any(|f| *f.conn == *id && f.rule.id == row.rule)
        {
            let got: Vec<&str> = r
                .findings
                .iter()
                .filter(|f| *f.conn == *id)
                .map(|f| f.rule.id)
                .collect();
            missing.push(format!(
                "{} on {v} ({id}): no {}; got {got:?}",
                row.name, row.rule
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "misbehaviours without their finding:\n{}",
        missing.join("\n")
    );
}

/// Waits (bounded) until `f` holds for the CSMS's view of `id`.
async fn until(
    handle: &CsmsHandle,
    id: &str,
    what: &str,
    f: impl Fn(&ocpp_inspector::sim::csms::StationView) -> bool,
) {
    timeout(Duration::from_secs(10), async {
        loop {
            if handle.station(id).is_some_and(|s| f(&s)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "{id}: {what} did not happen in time: {:?}",
            handle.station(id)
        )
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csms_calls_are_answered_and_followed_in_every_version() {
    for v in Version::ALL {
        let buf = Buf::default();
        let mut cfg = CsmsConfig::new(local());
        cfg.record = Some(tap(Box::new(buf.clone())));
        let (addr, handle, stop, task) = start_csms(cfg).await;
        let mut fleet = FleetConfig::new(format!("ws://{addr}/ocpp"));
        fleet.versions = vec![v];
        fleet.local_sessions = false;
        fleet.sessions = Some(1);
        fleet.pace.samples = 50;
        let id = fleet.identity(0);
        let (_fs, rx) = watch::channel(false);
        let fleet_task = tokio::spawn(run_fleet(fleet, rx));

        until(&handle, &id, "boot", |s| s.boots == 1 && s.answers >= 1).await;
        for cmd in [
            Command::Trigger("Heartbeat".into()),
            Command::Trigger("StatusNotification".into()),
            Command::Configure {
                key: "HeartbeatInterval".into(),
                value: "600".into(),
            },
            Command::Reset { hard: true },
        ] {
            handle.send(&id, cmd).expect("queue a command");
        }
        until(&handle, &id, "reboot after reset", |s| {
            s.boots == 2 && s.connected
        })
        .await;
        handle
            .send(
                &id,
                Command::RemoteStart {
                    connector: 1,
                    id_tag: "REMOTE-1".into(),
                },
            )
            .expect("queue remote start");
        until(&handle, &id, "remote start", |s| {
            s.transactions_started == 1
        })
        .await;
        handle
            .send(&id, Command::RemoteStop)
            .expect("queue remote stop");
        until(&handle, &id, "remote stop", |s| s.transactions_ended == 1).await;

        let report = timeout(Duration::from_secs(10), fleet_task)
            .await
            .expect("the fleet ends after its one session")
            .expect("fleet task")
            .expect("valid fleet");
        assert!(report.failures.is_empty(), "{v}: {:?}", report.failures);
        assert_eq!(
            (report.boots, report.sessions, report.reconnects),
            (2, 1, 1),
            "{v}"
        );
        stop.send(true).expect("stop");
        timeout(Duration::from_secs(10), task)
            .await
            .expect("CSMS stops")
            .expect("CSMS task");

        let trace = buf.text();
        let r = check(&trace);
        let errors: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{v}: error findings:{}", listing(&r));
        let stop_reason = if v == Version::V16 {
            "\\\"reason\\\":\\\"Remote\\\""
        } else {
            "\\\"stoppedReason\\\":\\\"Remote\\\""
        };
        assert!(
            trace.contains(stop_reason),
            "{v}: the remote stop is not the stop reason"
        );
        assert_eq!(
            trace.matches("\"event\":\"open\"").count(),
            2,
            "{v}: a reset reconnects once"
        );
        if v.is_2x() {
            assert!(
                trace.contains("\\\"remoteStartId\\\":1"),
                "{v}: remoteStartId not carried"
            );
            assert!(
                trace.contains("\\\"reason\\\":\\\"RemoteReset\\\""),
                "{v}: boot reason after reset"
            );
        } else {
            assert!(
                trace.contains("\\\"idTag\\\":\\\"REMOTE-1\\\""),
                "{v}: remote idTag not used"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_reconnects_after_the_csms_goes_away() {
    let (addr, handle, stop, task) = start_csms(CsmsConfig::new(local())).await;
    let mut fleet = FleetConfig::new(format!("ws://{addr}/ocpp"));
    fleet.versions = vec![Version::V201];
    fleet.local_sessions = false;
    fleet.sessions = None;
    fleet.reconnect_attempts = 2;
    let id = fleet.identity(0);
    let (fleet_stop, rx) = watch::channel(false);
    let fleet_task = tokio::spawn(run_fleet(fleet, rx));
    until(&handle, &id, "boot", |s| s.boots == 1).await;
    // The CSMS stops (closing every connection) and a new one comes up on the same port.
    stop.send(true).expect("stop");
    timeout(Duration::from_secs(10), task)
        .await
        .expect("stops")
        .expect("task");
    let (_addr2, handle2, stop2, task2) = start_csms(CsmsConfig::new(addr)).await;
    until(&handle2, &id, "boot on the new CSMS", |s| s.boots == 1).await;
    fleet_stop.send(true).expect("stop fleet");
    let report = timeout(Duration::from_secs(10), fleet_task)
        .await
        .expect("fleet stops")
        .expect("task")
        .expect("valid");
    assert_eq!(report.reconnects, 1);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    stop2.send(true).expect("stop");
    timeout(Duration::from_secs(10), task2)
        .await
        .expect("stops")
        .expect("task");
}

#[test]
fn cli_refuses_a_bad_url_clearly_and_lists_the_misbehaviours() {
    for url in [
        "not a url",
        "http://127.0.0.1:1/ocpp",
        // Credentials belong in --basic-auth (wss:// itself is supported: sim_profiles.rs).
        "ws://CP-1:pw@127.0.0.1:1/ocpp",
    ] {
        let run =
            common::run_with_limit(&["sim", "charger", "--url", url], Duration::from_secs(20));
        assert_eq!(run.code, 2, "{url}: {}", run.stderr);
        assert!(run.stderr.contains("--url"), "{url}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{url}: {}", run.stderr);
    }
    let run = common::run_with_limit(
        &["sim", "charger", "--list-misbehaviours"],
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for row in TABLE {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(row.name) && l.contains(row.rule)),
            "{} missing from the list:\n{}",
            row.name,
            run.stdout
        );
    }
    let run = common::run_with_limit(
        &[
            "sim",
            "charger",
            "--url",
            "ws://127.0.0.1:1/ocpp",
            "--misbehave",
            "no-such-kind",
        ],
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown misbehaviour `no-such-kind`"),
        "{}",
        run.stderr
    );
}
