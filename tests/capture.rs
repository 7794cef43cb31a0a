//! Captures made by tcpdump, not by our own pcap writer (issue #16): a short session of the
//! simulators through the proxy on 127.0.0.1, captured on the loopback interface while the
//! proxy records it; the capture imported gives every frame of the recording, in order.
//!
//! Needs `tcpdump` and the right to capture on `lo`; without either the test says so and
//! skips, except under CI (`CI` set), where a missing tcpdump is a failure (`.ci/run`
//! installs it). The kept capture (`tests/fixtures/captures/loopback.pcap`, made this way)
//! is read by a test that needs nothing.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `(conn, from, text)` of every frame of a JSON Lines trace, per connection and direction
/// in order.
fn frames(trace: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(trace).expect("read the trace");
    let mut out: Vec<(String, String, String)> = text
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON record");
            Some((
                v["conn"].as_str()?.to_owned(),
                v["from"].as_str()?.to_owned(),
                v["text"].as_str()?.to_owned(),
            ))
        })
        .collect();
    // Per connection and direction in order: connections interleave, and frames that cross
    // (both peers sending at once) may be seen in either order by two observers.
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// Imports `capture` with `convert` and returns the frames, after checking it reads with no
/// input error.
fn imported(capture: &Path, dir: &Path) -> Vec<(String, String, String)> {
    let out = dir.join("imported.jsonl");
    let r = common::run(&[
        "convert",
        capture.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "convert: {}", r.stderr);
    assert!(!r.stderr.contains("input error"), "{}", r.stderr);
    frames(&out)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ocpp-inspector")
}

/// Stops a child with SIGINT (tcpdump then writes what it holds) and waits, bounded.
fn interrupt(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until `file` has kept its size for a second (at most 20 s).
fn settle(file: &Path) {
    let size = || std::fs::metadata(file).map_or(0, |m| m.len());
    let start = Instant::now();
    let mut last = size();
    let mut since = Instant::now();
    while start.elapsed() < Duration::from_secs(20) && since.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(100));
        let now = size();
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
}

/// Waits until something accepts on `port`.
fn listening(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// tcpdump on `lo` for `port`, once it says it listens; `Err` says why it cannot run.
fn tcpdump(port: u16, out: &Path) -> Result<Child, String> {
    let mut child = Command::new("tcpdump")
        .args(["-i", "lo", "-U", "-s", "0", "-w"])
        .arg(out)
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tcpdump cannot be started: {e}"))?;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if line.contains("listening on") => return Ok(child),
            Ok(line) => said.push(line),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "tcpdump cannot capture on lo: {}",
                    said.join(" / ")
                ));
            }
        }
    }
}

#[test]
fn a_tcpdump_capture_of_a_proxied_session_gives_every_recorded_frame() {
    if Command::new("tcpdump").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tcpdump is missing under CI (.ci/run installs it)"
        );
        eprintln!("skipped: tcpdump is not installed");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capture-loopback");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (csms_port, proxy_port) = (free_port(), free_port());
    let capture = dir.join("loopback.pcap");
    let recording = dir.join("recording.jsonl");
    let dump = match tcpdump(proxy_port, &capture) {
        Ok(c) => c,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let quiet = || Stdio::null();
    let csms = Command::new(bin())
        .args(["sim", "csms", "--listen", &format!("127.0.0.1:{csms_port}")])
        .stdout(quiet())
        .stderr(quiet())
        .spawn()
        .unwrap();
    listening(csms_port);
    let proxy = Command::new(bin())
        .args(["proxy", "--no-tui", "--listen"])
        .arg(format!("127.0.0.1:{proxy_port}"))
        .arg("--upstream")
        .arg(format!("ws://127.0.0.1:{csms_port}/ocpp"))
        .arg("--record")
        .arg(&recording)
        .stdout(quiet())
        .stderr(quiet())
        .spawn()
        .unwrap();
    listening(proxy_port);
    let charger = common::run_with_limit(
        &[
            "sim",
            "charger",
            "--url",
            &format!("ws://127.0.0.1:{proxy_port}/ocpp"),
            "--count",
            "2",
            "--ocpp",
            "ocpp1.6,ocpp2.0.1",
            "--sessions",
            "1",
            "--idle",
            "0",
            "--samples",
            "2",
            "--meter-interval",
            "1",
        ],
        Duration::from_secs(60),
    );
    // Everything the charger got has been recorded (before it was forwarded); tcpdump may
    // lag on a loaded machine: stopped once its file has not grown for a second.
    interrupt(proxy);
    interrupt(csms);
    settle(&capture);
    interrupt(dump);
    assert_eq!(
        charger.code, 0,
        "the simulated chargers: {}",
        charger.stderr
    );

    let recorded = frames(&recording);
    assert!(
        recorded.len() >= 10,
        "a session has been recorded: {recorded:?}"
    );
    let got = imported(&capture, &dir);
    assert_eq!(got.len(), recorded.len(), "every frame, no more");
    assert_eq!(got, recorded, "the same frames, in each direction's order");
}

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/captures").join(name)
}

#[test]
fn the_kept_tcpdump_capture_gives_its_recordings_frames() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capture-kept");
    std::fs::create_dir_all(&dir).unwrap();
    let recorded = frames(&fixture("loopback.jsonl"));
    assert!(!recorded.is_empty());
    assert_eq!(imported(&fixture("loopback.pcap"), &dir), recorded);
}
