//! Soak benchmark (not a test): the simulators drive a fleet of stations through the real
//! proxy binary, alone or three of them behind HAProxy as `deploy/haproxy/` sets them up.
//! Reports frames per second, findings, each proxy's memory over time (it must stay flat once
//! the fleet is up), frames missing from the recordings (there must be none) and whether each
//! proxy's metrics agree with its recording (frames counted = frames recorded).
//!
//! The CSMS and the fleet (OCPP 1.6, 2.0.1 and 2.1 in turn) run in this process
//! (`ocpp_inspector::sim`), each recording what it sent and received; each proxy is
//! `ocpp-inspector proxy --record --admin` in a child process, so its memory is its own. A
//! frame is missing when a peer received it and no proxy recorded it; frames one peer sent
//! that the other never received (in flight when the fleet stops) are counted apart. After
//! the fleet stops, each proxy's `/metrics` is read once its connections are closed and its
//! inspection has caught up, and compared with its recording: `frames_total` (all senders and
//! types) with the frame records, and the forward-latency histogram's count per sender with
//! the frames recorded from that sender (a frame recorded but never forwarded, because its
//! receiver had gone, makes the difference).
//!
//! Run: `cargo bench --bench soak` (environment: `SOAK_STATIONS`, default 5000;
//! `SOAK_SECONDS`, default 180; `SOAK_HAPROXY=1`: three proxies with `--proxy-protocol`
//! behind `haproxy` with `deploy/haproxy/haproxy.cfg`, which must be installed:
//! `apt-get install haproxy`; `SOAK_SAMPLE_SECONDS`, how often memory is printed, default 10,
//! or 60 for runs over 10 minutes). 5,000 stations need `ulimit -n` above about 10,500 here
//! (the fleet's and the CSMS's sockets) and a hard limit above 10,000 for HAProxy.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::cast_precision_loss,
    reason = "benchmark harness: a failure is a failed run"
)]

#[path = "../tests/common/scrape.rs"]
mod scrape;

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ocpp_inspector::ocpp::Version;
use ocpp_inspector::sim::charger::{FleetConfig, Pace, run_fleet};
use ocpp_inspector::sim::csms::{Csms, CsmsConfig};
use ocpp_inspector::sim::tap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Frames of traces, as multisets of (connection, text) hashes, one per sender (a 64-bit
/// hash instead of the text keeps a 30-minute run's traces in a few hundred MiB).
#[derive(Default)]
struct Frames {
    from_charger: HashMap<u64, u32>,
    from_csms: HashMap<u64, u32>,
}

/// What one recording holds.
#[derive(Default)]
struct Recorded {
    frames: u64,
    from_charger: u64,
    from_csms: u64,
    gaps: u64,
}

impl Frames {
    /// Adds `path`'s frame records (text frames; injected frames are not peers' frames).
    fn add(&mut self, path: &Path) -> Recorded {
        let f = std::fs::File::open(path).expect("trace");
        let mut r = Recorded::default();
        for line in BufReader::new(f).lines() {
            let line = line.expect("line");
            let v: serde_json::Value = serde_json::from_str(&line).expect("record");
            if v["event"] == "gap" {
                r.gaps += 1;
            }
            let (Some(conn), Some(from)) = (v["conn"].as_str(), v["from"].as_str()) else {
                continue;
            };
            if v["injected"] == true {
                continue;
            }
            let text = match (v["text"].as_str(), v["binary_len"].as_u64()) {
                (Some(t), _) => t.to_owned(),
                (None, Some(n)) => format!("binary {n}"),
                (None, None) => continue,
            };
            let mut h = std::hash::DefaultHasher::new();
            (conn, &text).hash(&mut h);
            let key = h.finish();
            r.frames += 1;
            let map = if from == "charger" {
                r.from_charger += 1;
                &mut self.from_charger
            } else {
                r.from_csms += 1;
                &mut self.from_csms
            };
            *map.entry(key).or_default() += 1;
        }
        r
    }
}

fn total(m: &HashMap<u64, u32>) -> u64 {
    m.values().map(|&n| u64::from(n)).sum()
}

/// How many of `seen`'s frames `recorded` lacks.
fn missing_from(recorded: &HashMap<u64, u32>, seen: &HashMap<u64, u32>) -> u64 {
    seen.iter()
        .map(|(k, &n)| u64::from(n.saturating_sub(recorded.get(k).copied().unwrap_or(0))))
        .sum()
}

/// One HTTP/1.1 request to an admin port: (status, body); (0, "") when it fails.
async fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let ask = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(
            format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        )
        .await
        .ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.ok()?;
        Some(String::from_utf8_lossy(&out).into_owned())
    };
    let Ok(Some(out)) = tokio::time::timeout(Duration::from_secs(10), ask).await else {
        return (0, String::new());
    };
    scrape::status_and_body(&out)
}

fn sum_of(m: &BTreeMap<String, f64>, prefix: &str) -> f64 {
    m.iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v)
        .sum()
}

/// The forward-latency histogram of one sender: (upper bound in seconds, cumulative count).
fn forward_buckets(m: &BTreeMap<String, f64>, from: &str) -> Vec<(f64, f64)> {
    let sender = format!("from=\"{from}\"");
    let mut b: Vec<(f64, f64)> = m
        .iter()
        .filter_map(|(k, v)| {
            let labels = k.strip_prefix("ocpp_inspector_forward_latency_seconds_bucket{")?;
            if !labels.contains(&sender) {
                return None;
            }
            let le = labels.split("le=\"").nth(1)?.split('"').next()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, *v))
        })
        .collect();
    b.sort_by(|a, b| a.0.total_cmp(&b.0));
    b
}

/// The bucket bound under which a `q` share of the frames fell ("≤ 50 µs").
fn quantile(buckets: &[(f64, f64)], q: f64) -> String {
    let Some(&(_, count)) = buckets.last() else {
        return "-".into();
    };
    let want = q * count;
    match buckets.iter().find(|(_, c)| *c >= want && count > 0.0) {
        Some((le, _)) if le.is_infinite() => "> 10 s".into(),
        Some((le, _)) if *le < 1e-3 => format!("≤ {:.0} µs", le * 1e6),
        Some((le, _)) if *le < 1.0 => format!("≤ {:.1} ms", le * 1e3),
        Some((le, _)) => format!("≤ {le} s"),
        None => "-".into(),
    }
}

/// One proxy in a child process.
struct Proxy {
    name: String,
    child: Child,
    pid: u32,
    admin: SocketAddr,
    record: PathBuf,
    report: PathBuf,
    /// Its summary and any line about dropped or uninspected events.
    lines: Arc<Mutex<Vec<String>>>,
    rss: Vec<u64>,
}

impl Proxy {
    fn start(name: &str, csms: SocketAddr, listen: u16, proxy_protocol: bool, dir: &Path) -> Self {
        let admin = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let record = dir.join(format!("{name}.jsonl"));
        let report = dir.join(format!("{name}-report.json"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"));
        command
            .args(["proxy", "--no-tui", "--listen"])
            .arg(format!("127.0.0.1:{listen}"))
            .arg("--upstream")
            .arg(format!("ws://{csms}/ocpp"))
            .arg("--admin")
            .arg(admin.to_string())
            .args(["--instance", name])
            .arg("--record")
            .arg(&record)
            .arg("--report")
            .arg(&report);
        if proxy_protocol {
            command.arg("--proxy-protocol");
        }
        let mut child = command
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
        let t0 = Instant::now();
        loop {
            let l = rx
                .recv_timeout(Duration::from_secs(20).saturating_sub(t0.elapsed()))
                .unwrap_or_else(|_| panic!("{name} did not start"));
            if l.contains("listening on") {
                break;
            }
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            for l in rx {
                if l.starts_with("summary") || l.contains("dropped") || l.contains("not inspected")
                {
                    keep.lock().unwrap().push(l);
                }
            }
        });
        Proxy {
            name: name.to_owned(),
            child,
            pid,
            admin,
            record,
            report,
            lines,
            rss: Vec::new(),
        }
    }

    async fn ready(&self) {
        for _ in 0..200 {
            if http(self.admin, "GET", "/readyz").await.0 == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} never became ready", self.name);
    }

    async fn metrics(&self) -> BTreeMap<String, f64> {
        let (status, body) = http(self.admin, "GET", "/metrics").await;
        assert_eq!(status, 200, "{}: /metrics", self.name);
        scrape::samples(&body)
    }

    /// The metrics once every connection is closed and inspection has caught up (frames
    /// counted steady over a second, nothing waiting for inspection), at most 60 s.
    async fn settled_metrics(&self) -> BTreeMap<String, f64> {
        let t0 = Instant::now();
        let mut last = self.metrics().await;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let m = self.metrics().await;
            let frames = |m: &BTreeMap<String, f64>| sum_of(m, "ocpp_inspector_frames_total{");
            if (sum_of(&m, "ocpp_inspector_connections_open{") == 0.0
                && m.get("ocpp_inspector_tap_bytes_in_flight") == Some(&0.0)
                && frames(&m) == frames(&last))
                || t0.elapsed() > Duration::from_secs(60)
            {
                return m;
            }
            last = m;
        }
    }

    /// SIGTERM, then waits (60 s at most) for the recording and report to be written.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(60)
            && self.child.try_wait().ok().flatten().is_none()
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// HAProxy with `deploy/haproxy/haproxy.cfg` in front of the three proxies.
struct HaProxy {
    child: Child,
    pid: u32,
    front: u16,
}

impl HaProxy {
    fn start(stations: usize, proxies: &[(u16, &Proxy)], dir: &Path) -> Self {
        let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy/haproxy.cfg");
        let front = free_port();
        let mut command = Command::new("haproxy");
        command
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .env("FRONT_PORT", front.to_string())
            .env("MAXCONN", (stations + 1000).to_string());
        for (i, (listen, p)) in proxies.iter().enumerate() {
            command
                .env(format!("P{}_PORT", i + 1), listen.to_string())
                .env(format!("A{}_PORT", i + 1), p.admin.port().to_string());
        }
        let log = std::fs::File::create(dir.join("haproxy.log")).unwrap();
        let child = command
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("haproxy (apt-get install haproxy)");
        let pid = child.id();
        HaProxy { child, pid, front }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

#[expect(clippy::too_many_lines, reason = "one run, start to finish")]
async fn run() {
    let stations = env_u64("SOAK_STATIONS", 5000) as usize;
    let seconds = env_u64("SOAK_SECONDS", 180);
    let behind_haproxy = std::env::var("SOAK_HAPROXY").is_ok_and(|v| v == "1");
    let every = env_u64("SOAK_SAMPLE_SECONDS", if seconds > 600 { 60 } else { 10 }).max(1);
    let dir = tempfile::tempdir().unwrap();
    let (csms_trace, fleet_trace) = (
        dir.path().join("csms.jsonl"),
        dir.path().join("fleet.jsonl"),
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

    let n = if behind_haproxy { 3 } else { 1 };
    let listen: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let mut proxies: Vec<Proxy> = listen
        .iter()
        .enumerate()
        .map(|(i, &port)| {
            Proxy::start(
                &format!("proxy-{}", i + 1),
                csms_addr,
                port,
                behind_haproxy,
                dir.path(),
            )
        })
        .collect();
    for p in &proxies {
        p.ready().await;
    }
    let mut haproxy = behind_haproxy.then(|| {
        let pairs: Vec<(u16, &Proxy)> = listen.iter().copied().zip(proxies.iter()).collect();
        HaProxy::start(stations, &pairs, dir.path())
    });
    let front = match &mut haproxy {
        Some(h) => {
            // Listening, and the first health checks passed (every 500 ms, rise 2).
            tokio::time::sleep(Duration::from_millis(2000)).await;
            if let Some(status) = h.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(dir.path().join("haproxy.log")).unwrap();
                panic!("haproxy stopped ({status}): {log}");
            }
            h.front
        }
        None => listen[0],
    };

    let mut fleet = FleetConfig::new(format!("ws://127.0.0.1:{front}/ocpp"));
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

    let through = if behind_haproxy {
        "HAProxy and 3 proxies (deploy/haproxy/haproxy.cfg, PROXY v2)"
    } else {
        "the proxy"
    };
    println!(
        "soak: {stations} stations (1.6/2.0.1/2.1) through {through} for {seconds} s; RSS every {every} s:"
    );
    let start = Instant::now();
    let mut last_lines = vec![0u64; proxies.len()];
    // How far each recording was read, and its lines up to there: each tick reads only what
    // was added (a 30-minute recording is over a GiB).
    let mut read_to = vec![(0u64, 0u64); proxies.len()];
    let mut haproxy_rss = Vec::new();
    while start.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(every)).await;
        let mut line = format!("  t={:>5} s ", start.elapsed().as_secs());
        for ((p, last), (offset, lines)) in
            proxies.iter_mut().zip(&mut last_lines).zip(&mut read_to)
        {
            if let Ok(mut f) = std::fs::File::open(&p.record) {
                use std::io::{Read, Seek};
                let mut added = Vec::new();
                if f.seek(std::io::SeekFrom::Start(*offset)).is_ok()
                    && f.read_to_end(&mut added).is_ok()
                {
                    *offset += added.len() as u64;
                    *lines += added.iter().filter(|&&c| c == b'\n').count() as u64;
                }
            }
            let lines = *lines;
            let rss = rss_kib(p.pid);
            p.rss.push(rss);
            line += &format!(
                " {} {:>6.1} MiB {:>6.0} rec/s ",
                p.name,
                mib(rss),
                (lines - *last) as f64 / every as f64
            );
            *last = lines;
        }
        if let Some(h) = &haproxy {
            let rss = rss_kib(h.pid);
            haproxy_rss.push(rss);
            line += &format!(" haproxy {:>6.1} MiB", mib(rss));
        }
        println!("{line}");
    }
    let _ = stop_tx.send(true);
    let fleet = tokio::time::timeout(Duration::from_secs(120), fleet_task)
        .await
        .expect("the fleet stops")
        .unwrap()
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(60), csms_task).await;
    let mut metrics = Vec::new();
    for p in &proxies {
        metrics.push(p.settled_metrics().await);
    }
    for p in &mut proxies {
        p.stop();
    }
    if let Some(h) = &mut haproxy {
        let _ = h.child.kill();
        let _ = h.child.wait();
    }
    let elapsed = start.elapsed().as_secs_f64();

    // Every proxy's recording against its metrics, then all of them against the peers.
    let mut recorded = Frames::default();
    let mut through_total = 0;
    let mut consistent = true;
    let mut findings = (0, 0, 0);
    for (p, m) in proxies.iter().zip(&metrics) {
        let r = recorded.add(&p.record);
        through_total += r.frames;
        let counted = sum_of(m, "ocpp_inspector_frames_total{") as u64;
        let fwd = |from: &str| {
            m.get(&format!(
                "ocpp_inspector_forward_latency_seconds_count{{from=\"{from}\"}}"
            ))
            .copied()
            .unwrap_or(0.0) as u64
        };
        let (fwd_c, fwd_s) = (fwd("charger"), fwd("csms"));
        let ok = counted == r.frames && fwd_c <= r.from_charger && fwd_s <= r.from_csms;
        consistent &= ok;
        println!(
            "soak: {}: {} frames recorded ({} gap records), frames_total {counted} ({}); forwarded (forward-latency count) {fwd_c} of {} from chargers, {fwd_s} of {} from the CSMS; {} connections",
            p.name,
            r.frames,
            r.gaps,
            if counted == r.frames {
                "equal"
            } else {
                "DIFFERENT"
            },
            r.from_charger,
            r.from_csms,
            sum_of(m, "ocpp_inspector_connections_total{"),
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p.report).unwrap_or_default())
                .unwrap_or_default();
        let count = |k: &str| report["summary"][k].as_u64().unwrap_or(0);
        findings.0 += count("errors");
        findings.1 += count("warnings");
        findings.2 += count("infos");
    }
    let mut all = BTreeMap::new();
    for m in &metrics {
        for (k, v) in m {
            *all.entry(k.clone()).or_insert(0.0) += v;
        }
    }
    for from in ["charger", "csms"] {
        let b = forward_buckets(&all, from);
        println!(
            "soak: forward latency of frames from the {from} (all proxies, {} frames): p50 {}, p99 {}, p99.9 {}",
            b.last().map_or(0.0, |x| x.1),
            quantile(&b, 0.5),
            quantile(&b, 0.99),
            quantile(&b, 0.999)
        );
    }
    let mut peers = Frames::default();
    peers.add(&fleet_trace);
    let mut csms_side = Frames::default();
    csms_side.add(&csms_trace);
    // What a peer received came through a proxy, which must have recorded it. What one peer
    // sent and the other did not receive was lost, or still in flight at the stop.
    let unrecorded = missing_from(&recorded.from_csms, &peers.from_csms)
        + missing_from(&recorded.from_charger, &csms_side.from_charger);
    let undelivered = missing_from(&csms_side.from_charger, &peers.from_charger)
        + missing_from(&peers.from_csms, &csms_side.from_csms);
    println!(
        "soak: {through_total} frames through the proxies in {elapsed:.0} s = {:.0} frames/s; {} boots, {} sessions, {} reconnects, {} stations gave up",
        through_total as f64 / elapsed,
        fleet.boots,
        fleet.sessions,
        fleet.reconnects,
        fleet.failures.len()
    );
    println!(
        "soak: findings: {} errors, {} warnings, {} infos",
        findings.0, findings.1, findings.2
    );
    println!(
        "soak: frames a peer received that no proxy recorded: {unrecorded} (must be 0); sent but not received by the other peer: {undelivered} (in flight when the fleet stopped, or lost); the fleet's {} and the CSMS's {} frames compared",
        total(&peers.from_charger) + total(&peers.from_csms),
        total(&csms_side.from_charger) + total(&csms_side.from_csms)
    );
    println!(
        "soak: metrics {} the recordings (frames_total = frames recorded, forwarded ≤ recorded, per proxy)",
        if consistent {
            "agree with"
        } else {
            "DISAGREE with"
        }
    );
    let report_rss = |name: &str, samples: &[u64]| {
        if let (Some(first), Some(max)) = (samples.get(samples.len() / 3), samples.iter().max()) {
            println!(
                "soak: {name} RSS after the ramp-up (a third in) {:.1} MiB, highest {:.1} MiB, last {:.1} MiB",
                mib(*first),
                mib(*max),
                mib(samples.last().copied().unwrap_or(0))
            );
        }
    };
    for p in &proxies {
        report_rss(&p.name, &p.rss);
    }
    report_rss("haproxy", &haproxy_rss);
    for p in &proxies {
        for l in p.lines.lock().unwrap().iter() {
            println!("{}: {l}", p.name);
        }
    }
    if unrecorded > 0 || !consistent {
        std::process::exit(1);
    }
}
