//! The simulators through the proxy, as the demo and a lab use them: every misbehaviour of
//! the table in every version it lists, plus behaving stations of each version, in one fleet
//! behind a live proxy. What the proxy recorded and judged live must name each planted fault
//! on its own station, and nothing at error level on the behaving ones.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use common::Buf;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ocpp_inspector::checker::{CheckOptions, check_reader};
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, Engine, SchemaSet};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::Version;
use ocpp_inspector::pipeline::Inspector;
use ocpp_inspector::sim::charger::{FleetConfig, Target, run_fleet};
use ocpp_inspector::sim::csms::{Csms, CsmsConfig};
use ocpp_inspector::sim::misbehave::TABLE;
use ocpp_inspector::sink::channel::{ChannelSink, LiveItem};
use ocpp_inspector::source::proxy::tap::TapLimits;
use ocpp_inspector::source::proxy::{Proxy, ProxyConfig};
use tokio::sync::watch;
use tokio::time::timeout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_misbehaviour_is_found_live_behind_the_proxy_and_behaving_stations_are_clean() {
    let schemas =
        Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("the built-in schemas"));
    let config = Arc::new(Config::default());

    let csms = Csms::bind(CsmsConfig::new(SocketAddr::from(([127, 0, 0, 1], 0))))
        .await
        .expect("bind the CSMS");
    let csms_addr = csms.local_addr().expect("address");
    let proxy = Proxy::bind(ProxyConfig::new(
        "127.0.0.1:0",
        &format!("ws://{csms_addr}/ocpp"),
    ))
    .await
    .expect("bind the proxy");
    let proxy_addr = proxy.local_addr();
    let recording = Buf::default();
    let (live_sink, mut live_rx) = ChannelSink::new(100_000);
    let inspector = Inspector::new(
        Engine::new(schemas.clone(), config.clone(), None),
        Severity::Error,
    )
    .record_to(recording.clone())
    .sink(live_sink);
    let (tap, consumer) = ocpp_inspector::pipeline::spawn(inspector, TapLimits::default());
    let (down_tx, down) = watch::channel(false);
    let csms_task = tokio::spawn(csms.run(down.clone()));
    let proxy_task = tokio::spawn(proxy.run(tap, down.clone()));

    // One station per (kind, version), then three behaving ones (1.6, 2.0.1, 2.1).
    let mut fleet = FleetConfig::new(format!("ws://{proxy_addr}/ocpp"));
    let mut expect = Vec::new();
    let mut versions = Vec::new();
    for row in TABLE {
        for v in row.versions {
            fleet
                .misbehave
                .push((Target::Index(expect.len()), row.kind));
            expect.push(Some(row));
            versions.push(*v);
        }
    }
    for v in [Version::V16, Version::V201, Version::V21] {
        expect.push(None);
        versions.push(v);
    }
    fleet.count = expect.len();
    fleet.versions = versions;
    let (_keep, fleet_stop) = watch::channel(false);
    let report = timeout(
        Duration::from_secs(40),
        run_fleet(fleet.clone(), fleet_stop),
    )
    .await
    .expect("the fleet finishes in time")
    .expect("a valid fleet");
    assert!(report.failures.is_empty(), "{:?}", report.failures);

    down_tx.send(true).expect("stop");
    timeout(Duration::from_secs(20), proxy_task)
        .await
        .expect("the proxy stops")
        .expect("proxy task");
    timeout(Duration::from_secs(20), csms_task)
        .await
        .expect("the CSMS stops")
        .expect("CSMS task");
    let outcome = timeout(Duration::from_secs(20), consumer.finish())
        .await
        .expect("the inspector finishes")
        .expect("inspector");
    assert_eq!(outcome.dropped, 0, "nothing dropped at this load");

    let mut live = Vec::new();
    while let Ok(item) = live_rx.try_recv() {
        if let LiveItem::Finding(f) = item {
            live.push(f);
        }
    }
    let mut missing = Vec::new();
    for (i, row) in expect.iter().enumerate() {
        let id = fleet.identity(i);
        let on_station: Vec<_> = live.iter().filter(|f| *f.conn == *id).collect();
        match row {
            Some(row) => {
                if !on_station.iter().any(|f| f.rule.id == row.rule) {
                    missing.push(format!(
                        "{} on {} ({id}): no {}; got {:?}",
                        row.name,
                        fleet.version(i),
                        row.rule,
                        on_station.iter().map(|f| f.rule.id).collect::<Vec<_>>()
                    ));
                }
            }
            None => {
                let errors: Vec<_> = on_station
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| format!("{}: {}", f.rule.id, f.message))
                    .collect();
                assert!(errors.is_empty(), "behaving {id}: {errors:?}");
            }
        }
    }
    assert!(
        missing.is_empty(),
        "misbehaviours not found live:\n{}",
        missing.join("\n")
    );

    // The recording, checked offline, gives the same findings.
    let text = recording.0.lock().expect("buffer").clone();
    let opts = CheckOptions {
        schemas,
        config,
        default_version: None,
        jobs: 1,
    };
    let offline = check_reader(&text[..], &opts, 1);
    assert!(
        offline.input_errors.is_empty(),
        "{:?}",
        offline.input_errors
    );
    let key = |f: &ocpp_inspector::finding::Finding| (f.conn.to_string(), f.line, f.rule.id);
    let mut a: Vec<_> = live.iter().map(key).collect();
    let mut b: Vec<_> = offline.findings.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "live and offline verdicts agree");
}
