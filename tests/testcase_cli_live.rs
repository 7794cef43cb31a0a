//! `ocpp-inspector testcase run --live` as a program, on 127.0.0.1: over wss (security
//! profile 3 toward the chargers with `--client-ca`, a wss upstream with a client
//! certificate; certificates from the tool's `certs`) a case passes; and with the simulated
//! charger and CSMS, a case with an inject step passes, the run exits 0 and the recording
//! marks the injected frames. The binary is stopped with SIGTERM once the case has passed;
//! every wait has a limit.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;
#[path = "common/peers.rs"]
mod peers;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use ocpp_inspector::ocpp::Version;
use ocpp_inspector::sim::charger::{FleetConfig, run_fleet};
use ocpp_inspector::sim::csms::{Csms, CsmsConfig};
use peers::{ChargerOpts, Pick, charger, client_tls, csms, make_certs, server_tls, within};
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

/// The binary running `testcase run --live`, its stderr read line by line.
struct LiveRun {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
    stdout: std::thread::JoinHandle<String>,
}

impl LiveRun {
    fn start(args: &[&str]) -> LiveRun {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
            .args(args)
            .current_dir(common::root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ocpp-inspector");
        let (tx, lines) = mpsc::channel();
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut out = child.stdout.take().expect("stdout");
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        LiveRun {
            child,
            lines,
            stderr: Vec::new(),
            stdout,
        }
    }

    /// The first stderr line containing `needle`, waiting at most `limit`.
    fn wait_line(&mut self, needle: &str, limit: Duration) -> String {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.stderr.push(l.clone());
                if l.contains(needle) {
                    return l;
                }
            }
        }
        let _ = self.child.kill();
        panic!(
            "no stderr line with {needle:?} within {limit:?}; stderr so far:\n{}",
            self.stderr.join("\n")
        );
    }

    /// The address the proxy listens on, from its start-up line.
    fn listening(&mut self, scheme: &str) -> SocketAddr {
        let line = self.wait_line("testcase judging live", Duration::from_secs(20));
        line.split(&format!("{scheme}://"))
            .nth(1)
            .and_then(|s| s.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no {scheme}:// address in {line:?}"))
    }

    /// SIGTERM, then the exit code, standard output and the whole of stderr.
    fn terminate(mut self) -> (Option<i32>, String, String) {
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(kill.success());
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("testcase run --live did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.stderr.push(l);
        }
        let out = self.stdout.join().expect("stdout reader");
        (status.code(), out, self.stderr.join("\n"))
    }
}

/// A boot case small enough to drive by hand.
const BOOT_CASE: &str = r#"
id = "1.6/core/x90_CS"
title = "Boot accepted over wss"
versions = ["1.6"]
dut = "charger"
[[steps]]
from = "charger"
call = "BootNotification"
[[steps]]
from = "csms"
result = "BootNotification"
within_s = 30
match = { status = "Accepted" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_wss_with_client_certificates_both_ways_a_case_passes() {
    let certs = make_certs(&["CP-301", "proxy-client"]);
    let cases = tempfile::tempdir().unwrap();
    std::fs::write(cases.path().join("boot.toml"), BOOT_CASE).unwrap();
    // The CSMS requires a client certificate too (profile 3 toward the CSMS).
    let mut cs = csms(Pick::First, Some(server_tls(&certs, true))).await;
    let upstream = format!("wss://localhost:{}/ocpp", cs.addr.port());
    let p = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let args = [
        "testcase".to_owned(),
        "run".into(),
        "--cases".into(),
        p(cases.path()),
        "--live".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--upstream".into(),
        upstream,
        "--tls-cert".into(),
        p(&certs.server_cert),
        "--tls-key".into(),
        p(&certs.server_key),
        "--client-ca".into(),
        p(&certs.ca),
        "--upstream-ca".into(),
        p(&certs.ca),
        "--upstream-cert".into(),
        p(&certs.charger_cert("proxy-client")),
        "--upstream-key".into(),
        p(&certs.charger_key("proxy-client")),
        "--format".into(),
        "json".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut run = LiveRun::start(&args);
    let addr = run.listening("wss");

    // Without a charger certificate the handshake is refused (profile 3 is enforced).
    let anonymous = ChargerOpts {
        tls: Some(client_tls(&certs, None)),
        ..peers::ocpp16()
    };
    let url = |id: &str| format!("wss://localhost:{}/ocpp/{id}", addr.port());
    let refused = match within("refused handshake", charger(&url("CP-300"), &anonymous)).await {
        Err(_) => true,
        // TLS 1.3 may report the refusal on the first read.
        Ok((mut cp, _)) => {
            let _ = cp.send(Message::text("[2,\"0\",\"Heartbeat\",{}]")).await;
            !matches!(
                within("read after refusal", cp.next()).await,
                Some(Ok(Message::Text(_)))
            )
        }
    };
    assert!(refused, "a charger without a certificate got through");

    let opts = ChargerOpts {
        tls: Some(client_tls(&certs, Some("CP-301"))),
        ..peers::ocpp16()
    };
    let (mut cp, _) = within("mTLS handshake", charger(&url("CP-301"), &opts))
        .await
        .expect("the charger with its certificate gets through");
    let mut up = within("upstream accept", cs.accept()).await;
    assert_eq!(up.path, "/ocpp/CP-301");
    let boot = r#"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
    within("send boot", cp.send(Message::text(boot)))
        .await
        .unwrap();
    match within("boot at the CSMS", up.ws.next()).await {
        Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), boot),
        other => panic!("expected the boot, got {other:?}"),
    }
    let accepted =
        r#"[3,"b1",{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":300}]"#;
    within("send answer", up.ws.send(Message::text(accepted)))
        .await
        .unwrap();
    match within("answer at the charger", cp.next()).await {
        Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), accepted),
        other => panic!("expected the answer, got {other:?}"),
    }
    run.wait_line("1.6/core/x90_CS  PASSED", Duration::from_secs(20));

    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || run.terminate())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["station"] == "CP-301")
        .unwrap_or_else(|| panic!("CP-301 judged: {doc}"));
    assert_eq!(case["verdict"], "passed", "{case}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inject_case_passes_through_the_binary_and_the_recording_marks_the_injection() {
    let (id, code, stdout, stderr, record) = inject_through_the_binary(true).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("step 2: injecting RemoteStartTransaction"),
        "{stderr}"
    );

    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "1.6/remote/x11_CS" && c["station"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} judged: {doc}"));
    assert_eq!(case["verdict"], "passed", "{case}");
    let injected_step = &case["steps"][1]["frames"][0];
    assert_eq!(injected_step["injected"], true, "{case}");

    // The recording: exactly the injected call and its answer are marked.
    let rec = std::fs::read_to_string(record.path().join("run.jsonl")).unwrap();
    let marked: Vec<serde_json::Value> = rec
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON record"))
        .filter(|r| r["injected"] == true)
        .collect();
    assert_eq!(marked.len(), 2, "{rec}");
    let call = marked[0]["text"].as_str().unwrap_or_default().to_owned();
    assert!(
        call.starts_with("[2,\"inspector-") && call.contains("RemoteStartTransaction"),
        "{call}"
    );
    assert!(
        marked[1]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Accepted"),
        "{rec}"
    );
    assert_ne!(marked[0]["from"], marked[1]["from"], "{rec}");
}

/// Runs `testcase run 1.6/remote/x11_CS --live --record …` (with `--allow-inject` when
/// `allow`) in front of the simulated CSMS with one 1.6 charger until the case is decided;
/// (station, exit code, stdout, stderr, recording path).
async fn inject_through_the_binary(
    allow: bool,
) -> (String, Option<i32>, String, String, tempfile::TempDir) {
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut csms_cfg = CsmsConfig::new(local);
    csms_cfg.read_config_after_boot = false;
    let csms = Csms::bind(csms_cfg).await.expect("bind the CSMS");
    let csms_addr = csms.local_addr().expect("address");
    let (down_tx, down) = watch::channel(false);
    let csms_task = tokio::spawn(csms.run(down.clone()));

    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("run.jsonl");
    let record_s = record.to_str().unwrap().to_owned();
    let upstream = format!("ws://{csms_addr}/ocpp");
    let mut args = vec![
        "testcase",
        "run",
        "1.6/remote/x11_CS",
        "--live",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &upstream,
        "--record",
        &record_s,
        "--format",
        "json",
    ];
    if allow {
        args.push("--allow-inject");
    }
    let mut run = LiveRun::start(&args);
    let addr = run.listening("ws");

    let mut fleet = FleetConfig::new(format!("ws://{addr}/ocpp"));
    fleet.prefix = "CLI-".into();
    fleet.versions = vec![Version::V16];
    fleet.connectors = 1;
    fleet.local_sessions = false;
    fleet.sessions = None;
    fleet.pace.meter_interval = Duration::from_millis(200);
    fleet.pace.samples = 10_000;
    let id = fleet.identity(0);
    let fleet_task = tokio::spawn(run_fleet(fleet, down.clone()));

    let (run, passed) = tokio::task::spawn_blocking(move || {
        let line = run.wait_line(
            if allow {
                "1.6/remote/x11_CS  PASSED"
            } else {
                "1.6/remote/x11_CS  NOT RUN: injection not allowed"
            },
            Duration::from_secs(40),
        );
        (run, line)
    })
    .await
    .unwrap();
    assert!(passed.contains(&id), "{passed}");
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || run.terminate())
        .await
        .unwrap();
    down_tx.send(true).expect("stop the peers");
    timeout(Duration::from_secs(15), csms_task)
        .await
        .expect("the CSMS stops")
        .expect("CSMS task");
    timeout(Duration::from_secs(15), fleet_task)
        .await
        .expect("the fleet stops")
        .expect("fleet task")
        .expect("the fleet ran");
    (id, code, stdout, stderr, dir)
}

/// Without `--allow-inject` the binary sends nothing: the case is not run, and the CSMS
/// side of the recording holds no injected call (no `inspector-` id, no mark).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_allow_inject_the_binary_injects_nothing() {
    let (id, code, stdout, stderr, dir) = inject_through_the_binary(false).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("injecting"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "1.6/remote/x11_CS" && c["station"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} judged: {doc}"));
    assert_eq!(case["verdict"], "not_run", "{case}");
    assert!(
        case["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("injection not allowed"),
        "{case}"
    );
    let rec = std::fs::read_to_string(dir.path().join("run.jsonl")).unwrap();
    let mut csms = 0;
    for l in rec.lines() {
        let r: serde_json::Value = serde_json::from_str(l).expect("a JSON record");
        assert_ne!(r["injected"], true, "{l}");
        if r["from"] == "csms" {
            csms += 1;
            let t = r["text"].as_str().unwrap_or_default();
            assert!(!t.contains("inspector-"), "{l}");
            assert!(!t.contains("RemoteStartTransaction"), "{l}");
        }
    }
    assert!(csms >= 1, "the CSMS answered the boot: {rec}");
    assert_eq!(
        doc["meta"]["traces"][0]["sha256"].as_str().map(str::len),
        Some(64),
        "{}",
        doc["meta"]
    );
}
