//! `ocpp-inspector proxy` as a program: start-up errors exit 2 with a clear message (bad
//! flag, unreadable certificate, port in use), and a real run streams findings to stderr one
//! per line, records, and on SIGTERM closes cleanly, writes the JSON report and exits 1 when
//! there were errors.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;
#[path = "common/peers.rs"]
mod peers;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use peers::{Pick, charger, csms, within};
use tokio_tungstenite::tungstenite::Message;

#[test]
fn a_bad_flag_exits_2() {
    let r = common::run(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "ws://127.0.0.1:1/",
        "--bogus",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--bogus"), "{}", r.stderr);
    let r = common::run(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "http://127.0.0.1:1/",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("ws:// or wss://"), "{}", r.stderr);
    let r = common::run(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "ws://x/",
        "--tls-cert",
        "a.pem",
    ]);
    assert_eq!(r.code, 2, "--tls-cert needs --tls-key: {}", r.stderr);
    // The engine options are those of `check`, with the same messages.
    for (flag, value, says) in [
        (
            "--disable",
            "rpc.no-such-rule",
            "unknown rule `rpc.no-such-rule`",
        ),
        (
            "--call-timeout",
            "0",
            "--call-timeout must be a positive number",
        ),
        (
            "--config",
            "/nonexistent/inspector.toml",
            "reading --config",
        ),
    ] {
        let r = common::run(&[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "ws://127.0.0.1:1/",
            flag,
            value,
        ]);
        assert_eq!(r.code, 2, "{flag}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{flag}: {}", r.stderr);
    }
}

#[test]
fn an_unreadable_certificate_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("server.key");
    std::fs::write(&key, "not a key").unwrap();
    let missing = dir.path().join("missing-cert.pem");
    let r = common::run(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "ws://127.0.0.1:1/",
        "--tls-cert",
        missing.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("missing-cert.pem") && r.stderr.contains("cannot read"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_port_in_use_exits_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let r = common::run(&[
        "proxy",
        "--listen",
        &addr,
        "--upstream",
        "ws://127.0.0.1:1/",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("cannot listen on {addr}")),
        "{}",
        r.stderr
    );
}

// Several threads: the test blocks on the child's stderr while its peers keep running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_streams_findings_records_and_reports_then_exits_1_on_sigterm() {
    let mut cs = csms(Pick::First, None).await;
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("run.jsonl");
    let report = dir.path().join("report.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--no-tui",
            "--upstream",
            &format!("ws://{}/ocpp", cs.addr),
            "--record",
            record.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_line = |needle: &str| -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(100))
                && l.contains(needle)
            {
                return l;
            }
        }
        panic!("no stderr line with {needle:?}");
    };
    let listening = wait_line("listening on ws://");
    let addr = listening
        .split("ws://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let (mut cp, _) = within(
        "handshake",
        charger(&format!("ws://{addr}/x/CP-042"), &peers::ocpp16()),
    )
    .await
    .expect("relayed");
    let mut up = cs.accept().await;
    within(
        "send",
        cp.send(Message::text("[2,\"42\",\"BootNotification\",{}]")),
    )
    .await
    .unwrap();
    within("relay", up.ws.next()).await.unwrap().unwrap();
    wait_line("open     CP-042");
    let line = wait_line("schema.request-invalid");
    assert!(line.starts_with("error"), "{line}");
    assert!(
        line.contains("CP-042") && line.contains("id=42") && line.contains("BootNotification"),
        "{line}"
    );

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the proxy did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1), "errors were found");
    // The charger was closed with 1001.
    let closed = within("charger close", async {
        loop {
            match cp.next().await {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await;
    assert_eq!(closed, Some(1001));
    let rec = std::fs::read_to_string(&record).unwrap();
    assert_eq!(rec.lines().count(), 3, "open, frame, close: {rec}");
    assert!(
        rec.lines()
            .last()
            .unwrap()
            .contains(r#""event":"close","code":1001"#),
        "{rec}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(doc["summary"]["errors"].as_u64().unwrap() >= 1, "{doc}");
    let f = &doc["findings"][0];
    assert_eq!(f["conn"], "CP-042");
    assert_eq!(f["line"], 2, "the line of the frame in the recording");
    assert_eq!(f["file"], record.to_str().unwrap());
}
