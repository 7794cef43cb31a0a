//! `proxy --admin`: after a scripted session through the proxy, `/metrics` says what the
//! recording says (connections, frames and bytes by sender and message type, forward latencies
//! timed for every frame forwarded each way, findings by rule as the JSON report has them,
//! refusals by status), `/healthz` and `/readyz` answer,
//! `POST /drain` stops the proxy with every record kept (gradually with `--drain-seconds`,
//! `/readyz` 503 meanwhile); `--findings-jsonl` has the
//! report's findings line by line with the instance and the charger's address, and the
//! recording's open records name the instance.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

#[path = "common/peers.rs"]
mod peers;
#[path = "common/scrape.rs"]
mod scrape;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use peers::{Pick, charger, csms, within};
use tokio_tungstenite::tungstenite::Message;

/// One HTTP/1.1 request to the admin port: (status, body).
fn http(addr: &str, method: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    scrape::status_and_body(&out)
}

struct Proxy {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Proxy {
    fn start(args: &[&str]) -> Proxy {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel::<String>();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proxy { child, lines }
    }

    fn wait_line(&self, needle: &str) -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(100))
                && l.contains(needle)
            {
                return l;
            }
        }
        panic!("no stderr line with {needle:?}");
    }

    fn wait_exit(&mut self) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("the proxy did not stop");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `/metrics` until `cond` holds on its samples (20 s at most).
fn scrape_until(
    admin: &str,
    what: &str,
    cond: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let start = Instant::now();
    loop {
        let (status, body) = http(admin, "GET", "/metrics");
        assert_eq!(status, 200);
        let s = scrape::samples(&body);
        if cond(&s) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{what}: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_a_scripted_session_equal_the_recording_and_the_report() {
    let mut cs = csms(Pick::First, None).await;
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("run.jsonl");
    let report = dir.path().join("report.json");
    let jsonl = dir.path().join("findings.jsonl");
    let mut proxy = Proxy::start(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--no-tui",
        "--admin",
        "127.0.0.1:0",
        "--upstream",
        &format!("ws://{}/ocpp", cs.addr),
        "--record",
        record.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--findings-jsonl",
        jsonl.to_str().unwrap(),
        "--instance",
        "proxy-a",
    ]);
    let admin = proxy.wait_line("admin    http://");
    let admin = admin
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let listening = proxy.wait_line("listening on ws://");
    let addr = listening
        .split("ws://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    assert_eq!(http(&admin, "GET", "/healthz").0, 200);
    assert_eq!(http(&admin, "GET", "/readyz").0, 200);

    // The script: two chargers (1.6 with Basic auth: profile 1; 2.0.1 without: none), calls
    // both ways, one invalid request, one unreadable frame, one refused handshake (404).
    let v16 = peers::ChargerOpts {
        protocols: vec!["ocpp1.6"],
        basic: Some(("CP-A", "secret-password")),
        ..peers::ChargerOpts::default()
    };
    let v201 = peers::ChargerOpts {
        protocols: vec!["ocpp2.0.1"],
        ..peers::ChargerOpts::default()
    };
    let (mut a, _) = within("A", charger(&format!("ws://{addr}/x/CP-A"), &v16))
        .await
        .unwrap();
    let mut up_a = cs.accept().await;
    let (mut b, _) = within("B", charger(&format!("ws://{addr}/x/CP-B"), &v201))
        .await
        .unwrap();
    let mut up_b = cs.accept().await;
    let to_csms = [
        r#"[2,"1","BootNotification",{}]"#,
        r#"[2,"2","Heartbeat",{}]"#,
        "not json at all",
    ];
    for text in to_csms {
        within("send", a.send(Message::text(text))).await.unwrap();
    }
    for _ in 0..3 {
        within("relay", up_a.ws.next()).await.unwrap().unwrap();
    }
    within(
        "send",
        up_a.ws.send(Message::text(
            r#"[3,"2",{"currentTime":"2026-12-07T05:00:00Z"}]"#,
        )),
    )
    .await
    .unwrap();
    within("relay", a.next()).await.unwrap().unwrap();
    within("send", b.send(Message::text(r#"[2,"h","Heartbeat",{}]"#)))
        .await
        .unwrap();
    within("relay", up_b.ws.next()).await.unwrap().unwrap();
    within(
        "send",
        up_b.ws.send(Message::text(
            r#"[3,"h",{"currentTime":"2026-12-07T05:00:00Z"}]"#,
        )),
    )
    .await
    .unwrap();
    within("relay", b.next()).await.unwrap().unwrap();
    let refused = peers::raw_handshake(
        addr.parse().unwrap(),
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 404"), "{refused}");
    within("close A", a.close(None)).await.unwrap();
    // Every frame and both closes inspected, A's connection no longer open.
    // Each forwarded frame is timed once its write is done, which may be just after the peer
    // read it: wait for the counts (A sent 3 frames and B 1; the CSMS 2).
    let m = scrape_until(&admin, "A's close counted", |s| {
        s.get(r#"ocpp_inspector_connections_open{version="1.6",profile="1"}"#) == Some(&0.0)
            && s.get(r#"ocpp_inspector_frames_total{from="csms",message_type="CALLRESULT"}"#)
                == Some(&2.0)
            && s.get(r#"ocpp_inspector_forward_latency_seconds_count{from="charger"}"#)
                >= Some(&4.0)
            && s.get(r#"ocpp_inspector_forward_latency_seconds_count{from="csms"}"#) >= Some(&2.0)
    });

    // What the recording says, counted here from its lines.
    let rec = std::fs::read_to_string(&record).unwrap();
    let mut frames: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    let (mut opens, mut closes) = (0.0, 0.0);
    for line in rec.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["event"].as_str() {
            Some("open") => opens += 1.0,
            Some("close") => closes += 1.0,
            _ => {
                let text = v["text"].as_str().unwrap();
                let kind = match serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|f| f[0].as_i64())
                {
                    Some(2) => "CALL",
                    Some(3) => "CALLRESULT",
                    Some(4) => "CALLERROR",
                    _ => "unreadable",
                };
                let e = frames
                    .entry((v["from"].as_str().unwrap().to_owned(), kind.to_owned()))
                    .or_default();
                e.0 += 1.0;
                #[expect(clippy::cast_precision_loss, reason = "small counts")]
                {
                    e.1 += text.len() as f64;
                }
            }
        }
    }
    assert_eq!((opens, closes), (2.0, 1.0), "{rec}");
    for ((from, kind), (n, bytes)) in &frames {
        let labels = format!(r#"{{from="{from}",message_type="{kind}"}}"#);
        assert_eq!(
            m.get(&format!("ocpp_inspector_frames_total{labels}")),
            Some(n),
            "{labels} in {m:?}"
        );
        assert_eq!(
            m.get(&format!("ocpp_inspector_frame_bytes_total{labels}")),
            Some(bytes),
            "{labels}"
        );
    }
    // Every frame recorded was forwarded (the CSMS and the chargers read them all above) and
    // timed once, by sender; the buckets are cumulative up to `+Inf` = the count, and the
    // sum is a plausible total time (positive, under the 20 s the script may take).
    for from in ["charger", "csms"] {
        let recorded: f64 = frames
            .iter()
            .filter(|((f, _), _)| f == from)
            .map(|(_, (n, _))| n)
            .sum();
        let labels = format!(r#"{{from="{from}"}}"#);
        let count = m[&format!("ocpp_inspector_forward_latency_seconds_count{labels}")];
        assert_eq!(count, recorded, "forwarded from the {from}: {m:?}");
        let bucket = |k: &str| {
            k.strip_prefix("ocpp_inspector_forward_latency_seconds_bucket{")
                .is_some_and(|l| l.contains(&format!(r#"from="{from}""#)))
        };
        let inf = m
            .iter()
            .find(|(k, _)| bucket(k) && k.contains(r#"le="+Inf""#))
            .map(|(_, v)| *v);
        assert_eq!(inf, Some(count), "{m:?}");
        let buckets: Vec<f64> = m
            .iter()
            .filter(|(k, _)| bucket(k))
            .map(|(_, v)| *v)
            .collect();
        assert!(buckets.len() > 10, "{buckets:?}");
        assert!(buckets.iter().all(|&b| b <= count), "{buckets:?}");
        let sum = m[&format!("ocpp_inspector_forward_latency_seconds_sum{labels}")];
        assert!(sum > 0.0 && sum < 20.0, "{sum}");
    }
    let frame_series = m
        .keys()
        .filter(|k| k.starts_with("ocpp_inspector_frames_total{"))
        .count();
    assert_eq!(frame_series, frames.len(), "no frame the recording lacks");
    assert_eq!(
        m.get(r#"ocpp_inspector_connections_total{version="1.6",profile="1"}"#),
        Some(&1.0)
    );
    assert_eq!(
        m.get(r#"ocpp_inspector_connections_total{version="2.0.1",profile="0"}"#),
        Some(&1.0)
    );
    assert_eq!(
        m.get(r#"ocpp_inspector_connections_open{version="2.0.1",profile="0"}"#),
        Some(&1.0)
    );
    assert_eq!(
        m.get(r#"ocpp_inspector_handshake_refusals_total{status="404"}"#),
        Some(&1.0)
    );
    assert_eq!(
        m.get("ocpp_inspector_accepted_connections_total"),
        Some(&3.0)
    );
    assert_eq!(
        m.get("ocpp_inspector_upstream_connect_seconds_count"),
        Some(&2.0)
    );
    // No identity, address or secret as a label or anywhere in the scrape.
    let (_, body) = http(&admin, "GET", "/metrics");
    for needle in ["CP-A", "CP-B", "127.0.0.1", "secret-password"] {
        assert!(!body.contains(needle), "{needle} in the metrics");
    }
    let findings: BTreeMap<String, f64> = m
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("ocpp_inspector_findings_total{rule=\"")?;
            Some((rest.split('"').next()?.to_owned(), *v))
        })
        .collect();
    assert!(
        findings.contains_key("schema.request-invalid") && findings.contains_key("rpc.not-json"),
        "{findings:?}"
    );

    // POST /drain: readiness goes, liveness stays, the proxy stops and the report is
    // written; every finding the metrics counted is in it, as often.
    assert_eq!(http(&admin, "POST", "/drain").0, 202);
    let exited = tokio::task::spawn_blocking(move || {
        let code = proxy.wait_exit();
        (code, proxy)
    });
    let (code, _proxy) = exited.await.unwrap();
    assert_eq!(code, Some(1), "errors were found");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let mut in_report: BTreeMap<String, f64> = BTreeMap::new();
    for f in doc["findings"].as_array().unwrap() {
        *in_report
            .entry(f["rule"].as_str().unwrap().to_owned())
            .or_default() += 1.0;
    }
    for (rule, n) in &findings {
        assert_eq!(in_report.get(rule), Some(n), "{rule}: {in_report:?}");
    }
    // --findings-jsonl: one line per finding of the report, with the same members, plus the
    // instance and the charger's address.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reported = doc["findings"].as_array().unwrap();
    assert_eq!(lines.len(), reported.len(), "{lines:?}");
    for f in reported {
        let mut same = lines
            .iter()
            .find(|l| l["fingerprint"] == f["fingerprint"] && l["line"] == f["line"])
            .unwrap_or_else(|| panic!("{f} not in the lines"))
            .clone();
        let o = same.as_object_mut().unwrap();
        assert_eq!(o.remove("instance").unwrap(), "proxy-a");
        let peer = o.remove("peer").unwrap();
        assert!(peer.as_str().unwrap().starts_with("127.0.0.1:"), "{peer}");
        assert_eq!(&same, f);
    }
    let rec = std::fs::read_to_string(&record).unwrap();
    for open in rec.lines().filter(|l| l.contains(r#""event":"open""#)) {
        let v: serde_json::Value = serde_json::from_str(open).unwrap();
        assert_eq!(v["instance"], "proxy-a", "{open}");
        assert!(
            v["peer"].as_str().unwrap().starts_with("127.0.0.1:"),
            "{open}"
        );
    }
    assert!(
        rec.lines().last().unwrap().contains(r#""event":"close""#),
        "B's close is recorded too: {rec}"
    );
}

/// `--drain-seconds` with `POST /drain`: `/readyz` turns 503 at once (`/healthz` stays 200),
/// the listener stops accepting, every charger is closed with 1001 within the drain, the
/// proxy exits and the recording has every open and close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_turns_readyz_off_stops_accepting_and_closes_everyone_with_1001() {
    let mut cs = csms(Pick::First, None).await;
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("run.jsonl");
    let mut proxy = Proxy::start(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--no-tui",
        "--admin",
        "127.0.0.1:0",
        "--drain-seconds",
        "3",
        "--upstream",
        &format!("ws://{}/ocpp", cs.addr),
        "--record",
        record.to_str().unwrap(),
    ]);
    let admin = proxy.wait_line("admin    http://");
    let admin = admin
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let listening = proxy.wait_line("listening on ws://");
    let addr = listening
        .split("ws://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let mut chargers = Vec::new();
    let mut csms_side = Vec::new();
    for i in 0..3 {
        let (ws, _) = within(
            "charger",
            charger(&format!("ws://{addr}/x/CP-{i}"), &peers::ocpp16()),
        )
        .await
        .unwrap();
        chargers.push(ws);
        csms_side.push(cs.accept().await);
    }
    assert_eq!(http(&admin, "GET", "/readyz").0, 200);
    assert_eq!(http(&admin, "POST", "/drain").0, 202);
    let (status, body) = http(&admin, "GET", "/readyz");
    assert_eq!((status, body.as_str()), (503, "draining\n"));
    assert_eq!(http(&admin, "GET", "/healthz").0, 200);
    proxy.wait_line("proxy    draining");
    // The listener is closed: a new connection is refused (polled: the close is async).
    let start = Instant::now();
    while std::net::TcpStream::connect(&addr).is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still accepting while draining"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for (i, ws) in chargers.iter_mut().enumerate() {
        let code = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => {}
                    _ => return None,
                }
            }
        })
        .await
        .expect("closed within the drain");
        assert_eq!(code, Some(1001), "CP-{i}");
    }
    let exited = tokio::task::spawn_blocking(move || {
        let code = proxy.wait_exit();
        (code, proxy)
    });
    let (code, _proxy) = exited.await.unwrap();
    assert_eq!(code, Some(0));
    let rec = std::fs::read_to_string(&record).unwrap();
    let opens = rec
        .lines()
        .filter(|l| l.contains(r#""event":"open""#))
        .count();
    let closes = rec
        .lines()
        .filter(|l| l.contains(r#""event":"close","code":1001"#))
        .count();
    assert_eq!((opens, closes), (3, 3), "{rec}");
}
