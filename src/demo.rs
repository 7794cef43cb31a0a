//! The one-command demo: a simulated CSMS, the proxy in front of it and a small fleet of
//! simulated chargers of mixed versions (two of them misbehaving), all in one process on
//! 127.0.0.1, inspected live exactly as a real charger would be.
//!
//! ```text
//! sim::charger fleet ──ws──► source::proxy ──ws──► sim::csms
//!   (1.6, 2.0.1, 2.1)            │ tap
//!                                ▼
//!                     pipeline::LiveRun ──► trace.jsonl, report.json, the caller's sinks
//! ```
//!
//! At the end the recorded trace is checked again offline, the way CI would, and the two
//! verdicts are compared: the demo proves its own claim that live and offline agree. This
//! module wires existing parts together; it judges nothing itself.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;

use crate::checker::{CheckOptions, FileResult, check_path};
use crate::engine::schema::{ErrataSelection, SchemaSet};
use crate::engine::{Config, Engine};
use crate::finding::{Finding, Severity};
use crate::ocpp::Version;
use crate::pipeline::{LiveOutcome, LiveRun, LiveSink};
use crate::sim::charger::{FleetConfig, FleetReport, Pace, Target, run_fleet};
use crate::sim::csms::{Csms, CsmsConfig};
use crate::sim::misbehave::Misbehave;
use crate::sink::report::{RunInfo, junit, text};
use crate::source::proxy::ProxyConfig;

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Where `trace.jsonl` and the reports go (created if missing).
    pub out: PathBuf,
    /// How many simulated chargers (at least 3: one per version).
    pub chargers: usize,
    /// How fast the chargers charge and the CSMS sends its own calls.
    pub pace: DemoPace,
}

/// The tempo of the demo: slow enough to watch, fast enough to show a session in seconds.
#[derive(Debug, Clone, Copy)]
pub struct DemoPace {
    pub charger: Pace,
    /// The CSMS issues its next call (trigger, configuration, remote start/stop) this often.
    pub csms_command_every: Duration,
    /// The heartbeat interval the CSMS gives.
    pub heartbeat_interval_s: u32,
}

impl DemoPace {
    /// A session in about ten seconds, a CSMS call every few seconds.
    pub fn watchable() -> DemoPace {
        DemoPace {
            charger: Pace {
                meter_interval: Duration::from_secs(1),
                samples: 4,
                idle: Duration::from_secs(2),
                call_timeout: Duration::from_secs(10),
                backoff: Duration::from_millis(500),
            },
            csms_command_every: Duration::from_secs(4),
            heartbeat_interval_s: 10,
        }
    }

    /// For tests: everything in a few hundred milliseconds.
    pub fn fast() -> DemoPace {
        DemoPace {
            charger: Pace::fast(),
            csms_command_every: Duration::from_millis(150),
            heartbeat_interval_s: 60,
        }
    }
}

/// The stations that misbehave on purpose, so the demo has something to find: one 1.6
/// station that breaks the connector state table and one 2.0.1 station that sends a payload
/// of the wrong type. (Station `i` speaks `[1.6, 2.0.1, 2.1][i % 3]`.)
pub const MISBEHAVING: &[(usize, Misbehave)] = &[
    (0, Misbehave::ForbiddenTransition),
    (1, Misbehave::WrongType),
];

/// What a demo run came to.
#[derive(Debug)]
pub struct DemoOutcome {
    pub live: LiveOutcome,
    pub fleet: FleetReport,
    pub trace: PathBuf,
    pub report_json: PathBuf,
    pub report_text: PathBuf,
    pub report_junit: PathBuf,
    /// The recorded trace checked offline, as `ocpp-inspector check` does.
    pub offline: FileResult,
    /// Findings seen live, as (connection, line, rule id).
    pub live_findings: Vec<(String, u64, &'static str)>,
}

impl DemoOutcome {
    /// Findings of the offline check, as (connection, line, rule id).
    pub fn offline_findings(&self) -> Vec<(String, u64, &'static str)> {
        keys(&self.offline.findings)
    }

    /// Whether the offline check of the recording found exactly what was found live.
    pub fn verdicts_agree(&self) -> bool {
        self.live.dropped == 0 && self.offline_findings() == self.live_findings
    }
}

fn keys(findings: &[Finding]) -> Vec<(String, u64, &'static str)> {
    let mut k: Vec<_> = findings
        .iter()
        .map(|f| (f.conn.to_string(), f.line, f.rule.id))
        .collect();
    k.sort();
    k
}

/// Keeps what was found live, for the comparison with the offline check.
struct Collect(Arc<Mutex<Vec<Finding>>>);

impl LiveSink for Collect {
    fn finding(&mut self, f: &Finding) {
        if let Ok(mut v) = self.0.lock() {
            v.push(f.clone());
        }
    }
}

/// The addresses of a running demo, for the caller to print.
#[derive(Debug, Clone, Copy)]
pub struct DemoAddrs {
    pub csms: SocketAddr,
    pub proxy: SocketAddr,
}

/// Runs the demo until `stop` turns true, sending its findings and events to `sinks` as well
/// as to the files in `cfg.out`. `started` is called once everything listens.
pub async fn run(
    cfg: &DemoConfig,
    sinks: Vec<Box<dyn LiveSink>>,
    started: impl FnOnce(DemoAddrs),
    mut stop: watch::Receiver<bool>,
) -> Result<DemoOutcome> {
    std::fs::create_dir_all(&cfg.out)
        .with_context(|| format!("creating the output folder {}", cfg.out.display()))?;
    let trace = cfg.out.join("trace.jsonl");
    let report_json = cfg.out.join("report.json");
    let schemas = Arc::new(SchemaSet::builtin(&ErrataSelection::all())?);
    let config = Arc::new(Config::default());
    let info = RunInfo {
        schemas: schemas.origin.clone(),
        fail_on: Severity::Error,
    };

    let localhost = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut csms_cfg = CsmsConfig::new(localhost);
    csms_cfg.command_every = Some(cfg.pace.csms_command_every);
    csms_cfg.heartbeat_interval = cfg.pace.heartbeat_interval_s;
    let csms = Csms::bind(csms_cfg).await?;
    let csms_addr = csms.local_addr()?;

    let collected = Arc::new(Mutex::new(Vec::new()));
    let mut run = LiveRun::new(
        Engine::new(schemas.clone(), config.clone(), None),
        ProxyConfig::new("127.0.0.1:0", &format!("ws://{csms_addr}/ocpp")),
        Severity::Error,
    )
    .record(Some(trace.clone()))
    .report(Some(report_json.clone()), info.clone())
    .sink(Box::new(Collect(collected.clone())));
    for s in sinks {
        run = run.sink(s);
    }
    let running = run.start().await?;
    let proxy_addr = running.bound.local_addr;

    // The CSMS and the fleet stop when `down` turns true; the proxy when the run is stopped.
    let (down_tx, down) = watch::channel(false);
    let csms_task = tokio::spawn(csms.run(down.clone()));

    let mut fleet = FleetConfig::new(format!("ws://{proxy_addr}/ocpp"));
    fleet.count = cfg.chargers.max(3);
    fleet.versions = vec![Version::V16, Version::V201, Version::V21];
    fleet.pace = cfg.pace.charger;
    fleet.sessions = None;
    fleet.ramp = Duration::from_millis(50);
    fleet.misbehave = MISBEHAVING
        .iter()
        .map(|&(i, kind)| (Target::Index(i), kind))
        .collect();
    let fleet_task = tokio::spawn(run_fleet(fleet, down.clone()));
    started(DemoAddrs {
        csms: csms_addr,
        proxy: proxy_addr,
    });

    // Run until asked to stop (or the fleet ends by itself, which it only does on failure).
    let _ = stop.wait_for(|s| *s).await;
    let _ = down_tx.send(true);
    let grace = Duration::from_secs(15);
    let fleet = match tokio::time::timeout(grace, fleet_task).await {
        Ok(Ok(report)) => report?,
        Ok(Err(e)) => anyhow::bail!("the simulated fleet failed: {e}"),
        Err(_) => anyhow::bail!("the simulated fleet did not stop within {grace:?}"),
    };
    running.stop();
    let live = match tokio::time::timeout(grace, running.finish()).await {
        Ok(end) => end?.outcome,
        Err(_) => anyhow::bail!("the proxy did not stop within {grace:?}"),
    };
    let _ = tokio::time::timeout(grace, csms_task).await;

    // The same trace, checked the way CI would.
    let opts = CheckOptions {
        schemas,
        config,
        default_version: None,
        jobs: 1,
    };
    let offline = check_path(&trace, &opts, 1);
    let report_text = cfg.out.join("report.txt");
    let report_junit = cfg.out.join("report.xml");
    write_reports(&offline, &info, &report_text, &report_junit)?;
    let live_findings = keys(&collected.lock().map(|v| v.clone()).unwrap_or_default());
    Ok(DemoOutcome {
        live,
        fleet,
        trace,
        report_json,
        report_text,
        report_junit,
        offline,
        live_findings,
    })
}

fn write_reports(r: &FileResult, info: &RunInfo, txt: &Path, xml: &Path) -> Result<()> {
    let results = std::slice::from_ref(r);
    let mut buf = Vec::new();
    text::write(&mut buf, results, info, text::Style { color: false })?;
    std::fs::write(txt, &buf).with_context(|| format!("writing {}", txt.display()))?;
    buf.clear();
    junit::write(&mut buf, results, info)?;
    std::fs::write(xml, &buf).with_context(|| format!("writing {}", xml.display()))?;
    Ok(())
}
