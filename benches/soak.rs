//! Soak benchmark (not a test): the simulators drive a fleet of stations through the real
//! proxy binary for a few minutes. Reports frames per second through the proxy, findings, the
//! proxy's memory over time (it must stay flat once the fleet is up) and frames lost (there
//! must be none).
//!
//! The CSMS and the fleet run in this process (`ocpp_inspector::sim`), each recording what it
//! sent and received; the proxy is `ocpp-inspector proxy --record` in a child process, so its
//! memory is its own. A frame is lost when a peer sent it and the proxy neither recorded it nor
//! delivered it; frames still in flight when the fleet stops are counted apart.
//!
//! Run: `cargo bench --bench soak` (environment: `SOAK_STATIONS`, default 5000; `SOAK_SECONDS`,
//! default 180). 5,000 stations need `ulimit -n` above about 10,500.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "benchmark harness: a failure is a failed run"
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ocpp_inspector::ocpp::Version;
use ocpp_inspector::sim::charger::{FleetConfig, Pace, run_fleet};
use ocpp_inspector::sim::csms::{Csms, CsmsConfig};
use ocpp_inspector::sim::tap;
use tokio::sync::watch;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Frame records of a trace, per (connection, sender), as (text) multisets.
fn frames(path: &Path) -> HashMap<(String, String), HashMap<String, u64>> {
    let f = std::fs::File::open(path).expect("trace");
    let mut out: HashMap<(String, String), HashMap<String, u64>> = HashMap::new();
    for line in BufReader::new(f).lines() {
        let line = line.expect("line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("record");
        let (Some(conn), Some(from), Some(text)) =
            (v["conn"].as_str(), v["from"].as_str(), v["text"].as_str())
        else {
            continue;
        };
        *out.entry((conn.to_owned(), from.to_owned()))
            .or_default()
            .entry(text.to_owned())
            .or_default() += 1;
    }
    out
}

fn total(m: &HashMap<(String, String), HashMap<String, u64>>) -> u64 {
    m.values().flat_map(HashMap::values).sum()
}

/// How many of `seen`'s frames (per connection and sender) `recorded` lacks.
fn missing_from(
    recorded: &HashMap<(String, String), HashMap<String, u64>>,
    seen: &HashMap<(String, String), HashMap<String, u64>>,
) -> u64 {
    let mut missing = 0;
    for (key, texts) in seen {
        let rec = recorded.get(key);
        for (text, n) in texts {
            let have = rec.and_then(|r| r.get(text)).copied().unwrap_or(0);
            missing += n.saturating_sub(have);
        }
    }
    missing
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let stations = env_u64("SOAK_STATIONS", 5000) as usize;
    let seconds = env_u64("SOAK_SECONDS", 180);
    let dir = tempfile::tempdir().unwrap();
    let (csms_trace, fleet_trace, proxy_trace, report) = (
        dir.path().join("csms.jsonl"),
        dir.path().join("fleet.jsonl"),
        dir.path().join("proxy.jsonl"),
        dir.path().join("report.json"),
    );

    let mut cfg = CsmsConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.heartbeat_interval = 30;
    cfg.command_every = Some(Duration::from_secs(20));
    cfg.record = Some(tap(Box::new(std::io::BufWriter::new(
        std::fs::File::create(&csms_trace).unwrap(),
    ))));
    let csms = Csms::bind(cfg).await.unwrap();
    let csms_addr = csms.local_addr().unwrap();
    let (stop_tx, stop) = watch::channel(false);
    let csms_task = tokio::spawn(csms.run(stop.clone()));

    let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
        .args(["proxy", "--listen", "127.0.0.1:0", "--no-tui", "--upstream"])
        .arg(format!("ws://{csms_addr}/ocpp"))
        .arg("--record")
        .arg(&proxy_trace)
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the proxy");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let listening = rx.recv_timeout(Duration::from_secs(20)).expect("proxy up");
    let proxy = listening
        .split("ws://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("the listening line names the address")
        .to_owned();
    let summary = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let s2 = summary.clone();
    std::thread::spawn(move || {
        for l in rx {
            if l.starts_with("summary") || l.contains("dropped") || l.contains("not inspected") {
                s2.lock().unwrap().push(l);
            }
        }
    });

    let mut fleet = FleetConfig::new(format!("ws://{proxy}/ocpp"));
    fleet.count = stations;
    fleet.versions = vec![Version::V16, Version::V201, Version::V21];
    fleet.pace = Pace {
        meter_interval: Duration::from_secs(5),
        samples: 12,
        idle: Duration::from_secs(10),
        call_timeout: Duration::from_secs(60),
        backoff: Duration::from_secs(1),
    };
    fleet.sessions = None;
    fleet.ramp = Duration::from_millis(2);
    fleet.record = Some(tap(Box::new(std::io::BufWriter::new(
        std::fs::File::create(&fleet_trace).unwrap(),
    ))));
    let fleet_task = tokio::spawn(run_fleet(fleet, stop.clone()));

    println!(
        "soak: {stations} stations (1.6/2.0.1/2.1) through the proxy for {seconds} s; proxy RSS every 10 s:"
    );
    let start = Instant::now();
    let mut last_lines = 0u64;
    let mut samples = Vec::new();
    while start.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let lines = std::fs::read(&proxy_trace)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
            .unwrap_or(0);
        let rss = rss_kib(pid);
        samples.push(rss);
        println!(
            "  t={:>4} s  proxy RSS {:>7.1} MiB  records {:>9}  ({:>6.0} records/s)",
            start.elapsed().as_secs(),
            rss as f64 / 1024.0,
            lines,
            (lines - last_lines) as f64 / 10.0
        );
        last_lines = lines;
    }
    let _ = stop_tx.send(true);
    let fleet = tokio::time::timeout(Duration::from_secs(60), fleet_task)
        .await
        .expect("the fleet stops")
        .unwrap()
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(30), csms_task).await;
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) && child.try_wait().ok().flatten().is_none() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let elapsed = start.elapsed().as_secs_f64();

    let proxy_frames = frames(&proxy_trace);
    let fleet_frames = frames(&fleet_trace);
    let csms_frames = frames(&csms_trace);
    let through = total(&proxy_frames);
    // What a peer received came through the proxy, which must have recorded it. What one
    // peer sent and the other did not receive was lost, or still in flight at the stop.
    let sent_by = |m: &HashMap<(String, String), HashMap<String, u64>>, side: &str| {
        m.iter()
            .filter(|((_, from), _)| from == side)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>()
    };
    let received = {
        let mut r = sent_by(&fleet_frames, "csms");
        r.extend(sent_by(&csms_frames, "charger"));
        r
    };
    let unrecorded = missing_from(&proxy_frames, &received);
    let undelivered = missing_from(
        &sent_by(&csms_frames, "charger"),
        &sent_by(&fleet_frames, "charger"),
    ) + missing_from(
        &sent_by(&fleet_frames, "csms"),
        &sent_by(&csms_frames, "csms"),
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_default())
            .unwrap_or_default();
    println!(
        "soak: {through} frames through the proxy in {elapsed:.0} s = {:.0} frames/s; {} boots, {} sessions, {} reconnects, {} stations gave up",
        through as f64 / elapsed,
        fleet.boots,
        fleet.sessions,
        fleet.reconnects,
        fleet.failures.len()
    );
    println!(
        "soak: findings: {} errors, {} warnings, {} infos",
        report["summary"]["errors"], report["summary"]["warnings"], report["summary"]["infos"]
    );
    println!(
        "soak: frames a peer received that the proxy did not record: {unrecorded} (must be 0); sent but not received by the other peer: {undelivered} (in flight when the fleet stopped, or lost); the fleet's {} and the CSMS's {} frames compared",
        total(&fleet_frames),
        total(&csms_frames)
    );
    if let (Some(first), Some(max)) = (samples.get(samples.len() / 3), samples.iter().max()) {
        println!(
            "soak: proxy RSS after the ramp-up {:.1} MiB, highest {:.1} MiB, last {:.1} MiB",
            *first as f64 / 1024.0,
            *max as f64 / 1024.0,
            samples.last().copied().unwrap_or(0) as f64 / 1024.0
        );
    }
    for l in summary.lock().unwrap().iter() {
        println!("proxy: {l}");
    }
}
