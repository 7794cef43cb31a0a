//! The proxy and the recording under abuse (issue #15): a peer or a network that does what it
//! should not, on 127.0.0.1 only, every wait bounded. One test (or more) per item: upstream
//! credentials never leak, the profile-3 certificate is bound to the identity and can be
//! passed on, stuck or idle relays are freed, finding messages stay small and gone stations
//! are forgotten, the recording holds every frame a peer received (kill -9 included) and
//! notes what it lost, RFC 6455 protocol errors close as the RFC says and are findings,
//! connection noise is rate-limited, and the smaller handshake checks hold.

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
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use ocpp_inspector::engine::{Event, EventKind, Handshake, Origin};
use ocpp_inspector::ocpp::Side;
use ocpp_inspector::source::proxy::ProxyConfig;
use ocpp_inspector::source::proxy::tls::ListenTls;
use ocpp_inspector::time::Timestamp;
use peers::{
    ChargerOpts, Pick, charger, client_tls, csms, make_certs, raw_handshake, start, within,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn config(csms: std::net::SocketAddr) -> ProxyConfig {
    let mut c = ProxyConfig::new("127.0.0.1:0", &format!("ws://{csms}/csms"));
    c.close_grace = Duration::from_millis(500);
    c
}

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn head(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
    )
}

// ------------------------------------------------------------------ 1. upstream credentials

#[test]
fn upstream_credentials_are_refused_at_start_and_never_printed() {
    let r = common::run(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--no-tui",
        "--upstream",
        "ws://admin:s3cr3t-pw@127.0.0.1:1/ocpp",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("carries credentials"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("s3cr3t-pw") && !r.stderr.contains("admin"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn a_502_says_upstream_unavailable_and_nothing_internal() {
    // A port nothing listens on: the CSMS is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = closed.local_addr().unwrap();
    drop(closed);
    let px = start(config(down)).await;
    let answer = raw_handshake(px.addr, head("/ocpp/CP-1").as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 502 "), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    assert_eq!(body, "upstream unavailable\n");
    assert!(!answer.contains(&down.port().to_string()), "{answer}");
    let done = px.stop().await;
    // The operator's notice does say why.
    assert!(
        done.notices
            .iter()
            .any(|(_, n)| n.text.contains("cannot connect") && n.text.contains("502")),
        "{:?}",
        done.notices
    );
}

// ------------------------------------------------------------------ 2. profile 3 binding

#[tokio::test]
async fn a_certificate_of_another_station_is_a_finding_and_the_csms_sees_the_certificate() {
    let certs = make_certs(&["CP-2"]);
    let mut cs = csms(Pick::First, None).await;
    let mut c = config(cs.addr);
    c.listen_tls = Some(ListenTls {
        cert: certs.server_cert.clone(),
        key: certs.server_key.clone(),
        client_ca: Some(certs.ca.clone()),
    });
    c.forward_client_cert = Some("X-Client-Cert".into());
    let mut px = start(c).await;
    let opts = ChargerOpts {
        tls: Some(client_tls(&certs, Some("CP-2"))),
        ..peers::ocpp16()
    };
    // CP-2's valid certificate, opening identity CP-1.
    let url = format!("wss://localhost:{}/ocpp/CP-1", px.addr.port());
    let (_cp, _) = within("wss handshake", charger(&url, &opts))
        .await
        .expect("the TLS handshake is valid");
    let up = cs.accept().await;
    let forwarded = up.header("x-client-cert").expect("the certificate header");
    assert!(
        forwarded.starts_with("Cert=\"-----BEGIN%20CERTIFICATE-----%0A"),
        "{forwarded}"
    );
    assert!(forwarded.contains(";Subject=\"CN=CP-2"), "{forwarded}");
    let f = px.finding("auth.client-cert-identity-mismatch").await;
    assert!(
        f.message.contains("`CP-2`") && f.message.contains("`CP-1`"),
        "{}",
        f.message
    );
    px.stop().await;
}

// ------------------------------------------------------------------ 3. stuck and idle relays

#[tokio::test]
async fn a_csms_that_stops_reading_frees_every_relay_within_the_write_timeout() {
    let mut cs = csms(Pick::First, None).await;
    let mut c = config(cs.addr);
    c.write_timeout = Duration::from_millis(800);
    c.max_message = 1 << 20;
    let px = start(c).await;
    let mut held = Vec::new();
    // Reconnecting chargers, each stuck behind a CSMS that takes nothing.
    for i in 0..4 {
        let (mut cp, _) = within(
            "handshake",
            charger(&px.url(&format!("/ocpp/CP-S{i}")), &peers::ocpp16()),
        )
        .await
        .unwrap();
        let up = cs.accept().await; // accepted, never read
        let pad = "z".repeat(60_000);
        // Fill the CSMS's socket buffers; the charger's later sends block in the proxy.
        let flood = tokio::spawn(async move {
            for n in 0..2000 {
                // Schema-valid calls with fresh ids: no finding floods the notice channel.
                let big = format!(
                    "[2,\"{n}\",\"DataTransfer\",{{\"vendorId\":\"x\",\"data\":\"{pad}\"}}]"
                );
                if tokio::time::timeout(Duration::from_millis(500), cp.send(Message::text(big)))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            // The charger gives up (FIN) while the proxy is blocked writing to the CSMS.
            drop(cp);
        });
        held.push((flood, up));
    }
    // The relays end on their own (the proxy is not stopped): each records a close by the
    // proxy (1001) once its write to the CSMS has waited the write timeout. (The live notices
    // are not waited for: the flood's findings may crowd them out of the test's channel.)
    let start_wait = Instant::now();
    let (closes, stuck) = loop {
        let rec = std::fs::read_to_string(&px.record).unwrap_or_default();
        let closes: Vec<String> = rec
            .lines()
            .filter(|l| l.contains(r#""event":"close""#))
            .map(str::to_owned)
            .collect();
        let stuck = closes
            .iter()
            .filter(|l| l.contains(r#""code":1001"#) && !l.contains("\"by\""))
            .count();
        if closes.len() == 4 || start_wait.elapsed() > Duration::from_secs(30) {
            break (closes, stuck);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(closes.len(), 4, "every relay ended: {closes:?}");
    assert!(
        stuck >= 1,
        "a relay blocked on the CSMS was ended by the proxy: {closes:?}"
    );
    drop(held);
    px.stop().await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let mut cs = csms(Pick::First, None).await;
    let mut c = config(cs.addr);
    c.idle_timeout = Duration::from_millis(600);
    let px = start(c).await;
    let (mut cp, _) = within(
        "handshake",
        charger(&px.url("/ocpp/CP-IDLE"), &peers::ocpp16()),
    )
    .await
    .unwrap();
    let _up = cs.accept().await;
    let t = Instant::now();
    let code = within("the idle close", async {
        loop {
            match cp.next().await {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await;
    assert_eq!(code, Some(1001));
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    let done = px.stop().await;
    assert!(
        done.notices
            .iter()
            .any(|(_, n)| n.text.contains("nothing either way"))
    );
}

// ------------------------------------------------------------------ 4. bounded memory

fn engine_with_huge_value() -> Vec<ocpp_inspector::finding::Finding> {
    let mut engine = peers::engine();
    let mut out = Vec::new();
    let at = Timestamp::from_micros(1_795_000_000_000_000);
    let open = Event {
        at,
        conn: "CP-M",
        line: 1,
        kind: EventKind::Open(Handshake {
            subprotocol: Some("ocpp1.6"),
            ..Handshake::default()
        }),
    };
    engine.feed(&open, &mut out).unwrap();
    let huge = "V".repeat(4 << 20);
    let text = format!(
        "[2,\"1\",\"BootNotification\",{{\"chargePointVendor\":\"{huge}\",\"chargePointModel\":\"{huge}\"}}]"
    );
    let frame = Event {
        at,
        conn: "CP-M",
        line: 2,
        kind: EventKind::Frame {
            from: Side::Charger,
            text: text.as_str().into(),
            origin: Origin::Peer,
        },
    };
    engine.feed(&frame, &mut out).unwrap();
    out
}

#[test]
fn findings_quote_a_few_hundred_bytes_of_a_huge_value() {
    let found = engine_with_huge_value();
    assert!(!found.is_empty(), "a 4 MiB vendor name breaks the schema");
    for f in &found {
        assert!(
            f.message.len() <= 1100,
            "{}: {} bytes",
            f.rule.id,
            f.message.len()
        );
        assert!(f.evidence.as_deref().map_or(0, str::len) <= 1100);
        assert!(f.pointer.as_deref().map_or(0, str::len) <= 1100);
    }
}

/// A masked text frame carrying a schema-valid DataTransfer of exactly `len` bytes.
fn big_call(id: &str, len: usize) -> Vec<u8> {
    let head = format!("[2,\"{id}\",\"DataTransfer\",{{\"vendorId\":\"x\",\"data\":\"");
    let tail = "\"}]";
    let pad = "z".repeat(len - head.len() - tail.len());
    frame(0x81, format!("{head}{pad}{tail}").as_bytes(), true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_the_budget_cannot_inspect_is_forwarded_and_recorded_whole_and_inspected_as_a_gap()
{
    let mut cs = csms(Pick::First, None).await;
    let mut c = config(cs.addr);
    c.max_message = 1 << 20;
    // The least budget allowed: a 600 KB frame is relayed within it, but its inspection
    // (twice its size, beside the relay's share) does not fit.
    c.in_flight_budget = (1 << 20) + (16 << 10);
    let px = start(c).await;
    let budget = px.budget.clone();
    let mut a = raw_ws(px.addr, "/ocpp/CP-SKIP").await;
    let mut up = cs.accept().await;
    within("the large frame", a.write_all(&big_call("big", 600_000)))
        .await
        .unwrap();
    assert_eq!(csms_gets(&mut up).await, Ok(600_000), "forwarded whole");
    // A small frame after it is inspected as ever.
    let hb = br#"[2,"hb-1","Heartbeat",{}]"#;
    within("a small frame", a.write_all(&frame(0x81, hb, true)))
        .await
        .unwrap();
    assert_eq!(csms_gets(&mut up).await, Ok(hb.len()));
    within(
        "the close",
        a.write_all(&frame(0x88, &1000u16.to_be_bytes(), true)),
    )
    .await
    .unwrap();
    let _ = csms_gets(&mut up).await;
    let done = px.stop().await;
    assert_eq!(budget.in_use(), 0, "every byte taken is given back");
    assert!(
        budget.peak() <= budget.max(),
        "{} > {}",
        budget.peak(),
        budget.max()
    );

    // The recording holds the frame whole, and no gap: only inspection missed it.
    let lines: Vec<&str> = done
        .recording
        .lines()
        .filter(|l| l.contains("\"conn\":\"CP-SKIP\""))
        .collect();
    let big: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("[2,\\\"big\\\""))
        .collect();
    assert_eq!(
        big.len(),
        1,
        "{:?}",
        lines
            .iter()
            .map(|l| &l[..l.len().min(120)])
            .collect::<Vec<_>>()
    );
    assert!(big[0].len() > 600_000);
    assert!(!lines.iter().any(|l| l.contains("\"event\":\"gap\"")));
    // The operator is told; inspection judged the heartbeat, not the large frame.
    assert!(
        done.notices.iter().any(|(conn, n)| conn == "CP-SKIP"
            && n.text.contains("600000 bytes")
            && n.text.contains("not inspected")),
        "{:?}",
        done.notices
    );
    assert_eq!(
        done.outcome.stats.frames, 1,
        "only the heartbeat was inspected"
    );
}

/// The next text message the CSMS gets on `up`, or its close code as `Err`.
async fn csms_gets(up: &mut peers::CsmsConn) -> Result<usize, Option<u16>> {
    within("the CSMS's next message", async {
        loop {
            match up.ws.next().await {
                Some(Ok(Message::Text(t))) => return Ok(t.len()),
                Some(Ok(Message::Close(f))) => return Err(f.map(|f| u16::from(f.code))),
                Some(Ok(_)) => {}
                _ => return Err(None),
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_in_flight_stay_within_the_global_budget_waiting_then_closing_with_1013() {
    let mut cs = csms(Pick::First, None).await;
    let mut c = config(cs.addr);
    c.max_message = 1 << 20;
    // Room for about one and a half large messages at once.
    c.in_flight_budget = (1 << 20) + (1 << 19);
    c.write_timeout = Duration::from_millis(1500);
    let px = start(c).await;
    const LEN: usize = 1_000_000;
    const PART: usize = 900_000;

    // A holds 900 KB of a message; B's message cannot fit beside it: B's reads pause.
    let mut a = raw_ws(px.addr, "/ocpp/CP-BA").await;
    let mut up_a = cs.accept().await;
    let mut b = raw_ws(px.addr, "/ocpp/CP-BB").await;
    let mut up_b = cs.accept().await;
    let (fa, fb) = (big_call("a1", LEN), big_call("b1", LEN));
    within("A's first part", a.write_all(&fa[..PART]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b_writes = tokio::spawn(async move {
        b.write_all(&fb).await.unwrap();
        b
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    // A finishes within B's wait: both messages are forwarded whole, B's after A's.
    within("A's rest", a.write_all(&fa[PART..])).await.unwrap();
    assert_eq!(csms_gets(&mut up_a).await, Ok(LEN));
    assert_eq!(
        csms_gets(&mut up_b).await,
        Ok(LEN),
        "B waited, then went on"
    );
    let mut b = within("B's writes", b_writes).await.unwrap();

    // Now A holds part of a message and never finishes: B waits the write timeout, then
    // its connection is closed with 1013 both ways and the recording notes the lost frame.
    let fa2 = big_call("a2", LEN);
    within("A's part", a.write_all(&fa2[..PART])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fb2 = big_call("b2", LEN);
    let t0 = Instant::now();
    let b_writes = tokio::spawn(async move {
        let _ = b.write_all(&fb2).await;
        b
    });
    assert_eq!(
        csms_gets(&mut up_b).await,
        Err(Some(1013)),
        "the CSMS is told"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(1000),
        "B waited first"
    );
    let mut b = within("B's writes", b_writes).await.unwrap();
    assert_eq!(close_code(&mut b).await, Some(1013), "the charger is told");
    // A was never affected.
    within("A's rest", a.write_all(&fa2[PART..])).await.unwrap();
    assert_eq!(csms_gets(&mut up_a).await, Ok(LEN));

    let done = px.stop().await;
    let lines: Vec<&str> = done
        .recording
        .lines()
        .filter(|l| l.contains("\"conn\":\"CP-BB\""))
        .collect();
    let gap = lines
        .iter()
        .position(|l| l.contains("\"event\":\"gap\""))
        .unwrap_or_else(|| panic!("a gap record for B: {lines:?}"));
    assert!(lines[gap].contains("\"frames\":1") && lines[gap].contains("in-flight budget full"));
    assert!(
        lines[gap + 1].contains("\"event\":\"close\"") && lines[gap + 1].contains("\"code\":1013"),
        "{lines:?}"
    );
    assert!(
        done.notices
            .iter()
            .any(|(conn, n)| conn == "CP-BB" && n.text.contains("in-flight budget")),
        "{:?}",
        done.notices
    );
}

#[test]
fn the_engine_forgets_a_station_gone_longer_than_the_horizon() {
    let mut engine = peers::engine();
    let mut out = Vec::new();
    let t0 = 1_795_000_000_000_000;
    let ev = |conn: &'static str, us: i64, kind| Event {
        at: Timestamp::from_micros(t0 + us),
        conn,
        line: 0,
        kind,
    };
    let open = || {
        EventKind::Open(Handshake {
            subprotocol: Some("ocpp1.6"),
            ..Handshake::default()
        })
    };
    let close = EventKind::Close {
        code: Some(1000),
        by: Some(Side::Charger),
    };
    engine.feed(&ev("CP-A", 0, open()), &mut out).unwrap();
    engine.feed(&ev("CP-A", 1, close), &mut out).unwrap();
    engine.feed(&ev("CP-B", 2, open()), &mut out).unwrap();
    let hour = 3_600_000_000;
    assert_eq!(
        engine.forget_gone(Timestamp::from_micros(t0 + hour / 2), hour, &mut out),
        0
    );
    assert_eq!(engine.stations(), 2);
    // An hour after CP-A left: it is forgotten; CP-B, still connected, is not.
    assert_eq!(
        engine.forget_gone(Timestamp::from_micros(t0 + 2 * hour), hour, &mut out),
        1
    );
    assert_eq!(engine.stations(), 1);
}

#[tokio::test]
async fn an_idle_proxy_forgets_a_station_gone_longer_than_forget_after() {
    let mut cs = csms(Pick::First, None).await;
    let px = peers::start_with(config(cs.addr), Some(Duration::from_millis(200))).await;
    let (mut cp, _) = within(
        "handshake",
        charger(&px.url("/ocpp/CP-GONE"), &peers::ocpp16()),
    )
    .await
    .unwrap();
    let _up = cs.accept().await;
    within("the charger's close", cp.close(None)).await.unwrap();
    // Then no traffic at all: only the proxy's clock, once a second, tells inspection that
    // time passed. Before it did, the station stayed until the next frame of anyone.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let done = px.stop().await;
    assert_eq!(done.outcome.forgotten, 1, "{:?}", done.notices);
}

// ------------------------------------------------------------------ 6. the evidence

#[test]
fn record_and_report_must_differ() {
    let dir = tempfile::tempdir().unwrap();
    let same = dir.path().join("x.jsonl");
    let alias = dir.path().join(".").join("x.jsonl");
    let r = common::run(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--no-tui",
        "--upstream",
        "ws://127.0.0.1:1/",
        "--record",
        same.to_str().unwrap(),
        "--report",
        alias.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("same file"), "{}", r.stderr);
}

/// Every text frame of a recording, as (from, text).
fn recorded_frames(recording: &str) -> std::collections::HashSet<(String, String)> {
    recording
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v.get("from")?.as_str()?.to_owned(),
                v.get("text")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

// Several threads: the peers run while the test waits on the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_every_frame_a_peer_received_is_in_the_recording() {
    let mut cs = csms(Pick::First, None).await;
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("kill.jsonl");
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
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let listening = loop {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no listening line"
        );
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100))
            && l.contains("listening on ws://")
        {
            break l;
        }
    };
    let addr = listening
        .split("ws://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let chargers = 4;
    let csms_got = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let charger_got = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for c in 0..chargers {
        let (cp, _) = within(
            "handshake",
            charger(&format!("ws://{addr}/x/CP-K{c}"), &peers::ocpp16()),
        )
        .await
        .unwrap();
        let mut up = cs.accept().await;
        // The CSMS answers every call it receives, noting it.
        let seen = csms_got.clone();
        tasks.push(tokio::spawn(async move {
            while let Ok(Some(Ok(Message::Text(t)))) =
                tokio::time::timeout(Duration::from_secs(5), up.ws.next()).await
            {
                seen.lock().unwrap().push(t.to_string());
                let id = t.split('"').nth(1).unwrap_or("?").to_owned();
                let reply = format!("[3,\"{id}\",{{\"currentTime\":\"2026-11-22T10:15:03Z\"}}]");
                if up.ws.send(Message::text(reply)).await.is_err() {
                    break;
                }
            }
        }));
        let got = charger_got.clone();
        let (mut tx, mut rx) = cp.split();
        // What the charger receives, until the proxy is gone.
        tasks.push(tokio::spawn(async move {
            while let Ok(Some(Ok(m))) =
                tokio::time::timeout(Duration::from_secs(5), rx.next()).await
            {
                if let Message::Text(t) = m {
                    got.lock().unwrap().push(t.to_string());
                }
            }
        }));
        tasks.push(tokio::spawn(async move {
            // Calls of a few sizes, without waiting for answers, as long as the proxy lives.
            for i in 0..100_000u32 {
                let pad = "p".repeat(((i as usize) * 37) % 3000);
                let call = format!("[2,\"{c}-{i}\",\"Heartbeat\",{{\"x\":\"{pad}\"}}]");
                let sent =
                    tokio::time::timeout(Duration::from_secs(2), tx.send(Message::text(call)))
                        .await;
                if !matches!(sent, Ok(Ok(()))) {
                    break;
                }
            }
        }));
    }
    // Let traffic flow (at least 200 frames at the CSMS, however busy the machine), then
    // SIGKILL mid-stream.
    let flowing = Instant::now();
    while csms_got.lock().unwrap().len() < 200 && flowing.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let kill = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let _ = child.wait();
    for t in tasks {
        let _ = within("the peers to notice", t).await;
    }
    let recording = std::fs::read_to_string(&record).unwrap();
    assert!(recording.ends_with('\n'), "no torn last line");
    let recorded = recorded_frames(&recording);
    let csms_got = csms_got.lock().unwrap().clone();
    let charger_got = charger_got.lock().unwrap().clone();
    assert!(csms_got.len() >= 200, "traffic flowed: {}", csms_got.len());
    let missing_up: Vec<&String> = csms_got
        .iter()
        .filter(|t| !recorded.contains(&("charger".to_owned(), (*t).clone())))
        .collect();
    let missing_down: Vec<&String> = charger_got
        .iter()
        .filter(|t| !recorded.contains(&("csms".to_owned(), (*t).clone())))
        .collect();
    assert!(
        missing_up.is_empty() && missing_down.is_empty(),
        "{} frames the CSMS got and {} the chargers got are not in the recording",
        missing_up.len(),
        missing_down.len()
    );
}

#[test]
fn a_recording_that_cannot_be_written_is_said_at_exit() {
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cs_addr = rt.block_on(async {
        let cs = csms(Pick::First, None).await;
        let a = cs.addr;
        // Keep the CSMS running for the test's life.
        std::mem::forget(cs);
        a
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--no-tui",
            "--upstream",
            &format!("ws://{cs_addr}/ocpp"),
            "--record",
            "/dev/full",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let t = Instant::now();
    let listening = loop {
        assert!(t.elapsed() < Duration::from_secs(20), "no listening line");
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100))
            && l.contains("listening on ws://")
        {
            break l;
        }
    };
    let addr = listening
        .split("ws://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    rt.block_on(async {
        let (mut cp, _) = within(
            "handshake",
            charger(&format!("ws://{addr}/x/CP-F"), &peers::ocpp16()),
        )
        .await
        .unwrap();
        within("send", cp.send(Message::text("[2,\"1\",\"Heartbeat\",{}]")))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the proxy did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(status.code(), Some(2), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("could not be written to the recording")),
        "{rest:?}"
    );
}

// ------------------------------------------------------------------ 7. RFC 6455

/// A frame as a client sends it (masked unless `mask` is false).
fn frame(first: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut out = vec![first];
    let m = if mask { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | u8::try_from(n).unwrap()),
        n if n < 65_536 => {
            out.push(m | 126);
            out.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if mask {
        let key = [0x12, 0x34, 0x56, 0x78];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Opens a raw WebSocket through the proxy and returns the socket after the 101.
async fn raw_ws(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut s = within("connect", TcpStream::connect(addr)).await.unwrap();
    within("write", s.write_all(head(path).as_bytes()))
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        within("read the 101", s.read_exact(&mut b)).await.unwrap();
        got.push(b[0]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    s
}

/// The close code of the first close frame the server sends (`None` if the socket ends).
async fn close_code(s: &mut TcpStream) -> Option<u16> {
    within("the close frame", async {
        loop {
            let mut h = [0u8; 2];
            s.read_exact(&mut h).await.ok()?;
            let len = match h[1] & 0x7f {
                126 => {
                    let mut l = [0u8; 2];
                    s.read_exact(&mut l).await.ok()?;
                    usize::from(u16::from_be_bytes(l))
                }
                127 => return None,
                n => usize::from(n),
            };
            let mut p = vec![0u8; len];
            s.read_exact(&mut p).await.ok()?;
            if h[0] & 0x0f == 0x8 {
                return (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]));
            }
        }
    })
    .await
}

#[tokio::test]
async fn protocol_errors_close_with_the_rfc_code_both_ways_and_are_findings() {
    let mut cs = csms(Pick::First, None).await;
    let mut c = config(cs.addr);
    c.max_message = 4096;
    let px = start(c).await;
    let close_999 = [0x03, 0xE7];
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "unmasked",
            frame(0x81, b"[2,\"1\",\"Heartbeat\",{}]", false),
            1002,
            "ws.protocol-error",
        ),
        (
            "bad-utf8",
            frame(0x81, b"[2,\"1\",\"\xff\xfe\",{}]", true),
            1007,
            "ws.invalid-utf8",
        ),
        ("rsv1", frame(0xC1, b"[]", true), 1002, "ws.protocol-error"),
        (
            "opcode3",
            frame(0x83, b"[]", true),
            1002,
            "ws.protocol-error",
        ),
        (
            "continuation",
            frame(0x80, b"[]", true),
            1002,
            "ws.protocol-error",
        ),
        (
            "close-1-byte",
            frame(0x88, b"\x03", true),
            1002,
            "ws.protocol-error",
        ),
        (
            "close-999",
            frame(0x88, &close_999, true),
            1002,
            "ws.protocol-error",
        ),
        (
            "too-big",
            frame(0x81, &[b'a'; 10_000], true),
            1009,
            "ws.message-too-big",
        ),
    ];
    for (name, bytes, want, _) in &cases {
        let mut s = raw_ws(px.addr, &format!("/ocpp/CP-{name}")).await;
        let mut up = cs.accept().await;
        within("write the fault", s.write_all(bytes)).await.unwrap();
        assert_eq!(
            close_code(&mut s).await,
            Some(*want),
            "{name}: the charger's close"
        );
        let to_csms = within("the CSMS's close", async {
            loop {
                match up.ws.next().await {
                    Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => {}
                    _ => return None,
                }
            }
        })
        .await;
        assert_eq!(
            to_csms,
            Some(*want),
            "{name}: the CSMS gets the matching close"
        );
    }
    let done = px.stop().await;
    for (name, _, code, rule) in &cases {
        let conn = format!("CP-{name}");
        assert!(
            done.findings
                .iter()
                .any(|f| f.rule.id == *rule && *f.conn == *conn),
            "{name}: no {rule} finding"
        );
        let close = done
            .recording
            .lines()
            .find(|l| {
                l.contains(&format!("\"conn\":\"{conn}\"")) && l.contains("\"event\":\"close\"")
            })
            .unwrap_or_else(|| panic!("{name}: no close record"));
        assert!(close.contains(&format!("\"code\":{code}")), "{close}");
        assert!(close.contains("\"fault_from\":\"charger\""), "{close}");
    }
}

#[tokio::test]
async fn registered_close_codes_1012_to_1014_pass_through_both_ways_with_no_finding() {
    let mut cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    for code in [1012u16, 1013, 1014] {
        let close = |mask| {
            let mut p = code.to_be_bytes().to_vec();
            p.extend_from_slice(b"bad gateway");
            frame(0x88, &p, mask)
        };
        // From the charger: the CSMS gets the same code.
        let mut s = raw_ws(px.addr, &format!("/ocpp/CP-C{code}")).await;
        let up = cs.accept().await;
        within("write the close", s.write_all(&close(true)))
            .await
            .unwrap();
        let mut raw = up.ws.into_inner();
        // The CSMS's raw socket (it has sent nothing, so tungstenite holds nothing).
        let csms_side = close_code_of(&mut raw).await;
        assert_eq!(csms_side, Some(code), "the CSMS gets the charger's {code}");
        assert_eq!(
            close_code(&mut s).await,
            Some(code),
            "echoed to the charger"
        );
        // From the CSMS (unmasked, as a server sends): the charger gets the same code.
        let mut s = raw_ws(px.addr, &format!("/ocpp/CP-S{code}")).await;
        let up = cs.accept().await;
        let mut raw = up.ws.into_inner();
        within("write the close", raw.write_all(&close(false)))
            .await
            .unwrap();
        assert_eq!(
            close_code(&mut s).await,
            Some(code),
            "the charger gets the CSMS's {code}"
        );
    }
    let done = px.stop().await;
    for code in [1012u16, 1013, 1014] {
        for (conn, by) in [
            (format!("CP-C{code}"), "charger"),
            (format!("CP-S{code}"), "csms"),
        ] {
            let close = done
                .recording
                .lines()
                .find(|l| {
                    l.contains(&format!("\"conn\":\"{conn}\"")) && l.contains("\"event\":\"close\"")
                })
                .unwrap_or_else(|| panic!("{conn}: no close record"));
            assert!(
                close.contains(&format!("\"code\":{code}"))
                    && close.contains(&format!("\"by\":\"{by}\""))
                    && !close.contains("fault"),
                "{close}"
            );
            assert!(
                !done
                    .findings
                    .iter()
                    .any(|f| f.rule.id.starts_with("ws.") && *f.conn == *conn),
                "{conn}: a ws.* finding for a registered close code"
            );
        }
    }
}

/// The close code of the first close frame a client sends on `s` (masked frames).
async fn close_code_of<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<u16> {
    within("the close frame", async {
        loop {
            let mut h = [0u8; 2];
            s.read_exact(&mut h).await.ok()?;
            let len = match h[1] & 0x7f {
                126 => {
                    let mut l = [0u8; 2];
                    s.read_exact(&mut l).await.ok()?;
                    usize::from(u16::from_be_bytes(l))
                }
                127 => return None,
                n => usize::from(n),
            };
            let mut key = [0u8; 4];
            if h[1] & 0x80 != 0 {
                s.read_exact(&mut key).await.ok()?;
            }
            let mut p = vec![0u8; len];
            s.read_exact(&mut p).await.ok()?;
            p.iter_mut().enumerate().for_each(|(i, b)| *b ^= key[i % 4]);
            if h[0] & 0x0f == 0x8 {
                return (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]));
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_fragmented_message_is_forwarded_whole_and_recorded_as_fragmented() {
    let mut cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    let mut s = raw_ws(px.addr, "/ocpp/CP-FRAG").await;
    let mut up = cs.accept().await;
    let whole = r#"[2,"f1","Heartbeat",{}]"#;
    let (a, b) = whole.split_at(9);
    let mut bytes = frame(0x01, a.as_bytes(), true); // text, FIN clear
    bytes.extend(frame(0x89, b"p", true)); // a ping between the fragments
    bytes.extend(frame(0x80, b.as_bytes(), true)); // continuation, FIN
    bytes.extend(frame(0x81, br#"[2,"f2","Heartbeat",{}]"#, true)); // one frame
    within("write", s.write_all(&bytes)).await.unwrap();
    let mut texts = Vec::new();
    while texts.len() < 2 {
        match within("the CSMS reads", up.ws.next()).await {
            Some(Ok(Message::Text(t))) => texts.push(t.to_string()),
            Some(Ok(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        texts,
        [whole, r#"[2,"f2","Heartbeat",{}]"#],
        "forwarded whole"
    );
    let done = px.stop().await;
    let frames: Vec<&str> = done
        .recording
        .lines()
        .filter(|l| l.contains("\"from\":\"charger\""))
        .collect();
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert!(frames[0].contains(r#"\"f1\""#) && frames[0].contains("\"fragmented\":true"));
    assert!(frames[1].contains(r#"\"f2\""#) && !frames[1].contains("fragmented"));
}

// ------------------------------------------------------------------ 9. connection noise

#[tokio::test]
async fn connection_noise_is_rate_limited_with_a_summary() {
    let cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    for _ in 0..40 {
        // Connect and leave without a handshake.
        let s = within("connect", TcpStream::connect(px.addr))
            .await
            .unwrap();
        drop(s);
    }
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let done = px.stop().await;
    let lines = done
        .notices
        .iter()
        .filter(|(_, n)| n.text.contains("handshake not read"))
        .count();
    let summaries: u64 = done
        .notices
        .iter()
        .filter(|(_, n)| n.text.contains("more connection-noise lines"))
        .map(|(_, n)| {
            n.text
                .split_whitespace()
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert!(lines <= 15, "{lines} lines for 40 noisy connections");
    assert_eq!(
        lines as u64 + summaries,
        40,
        "every one is shown or counted"
    );
}

// ------------------------------------------------------------------ 10. the smaller items

#[tokio::test]
async fn relative_identities_bad_keys_and_two_authorizations_are_refused_with_400() {
    let mut cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    for path in ["/ocpp/..", "/ocpp/%2e%2e", "/ocpp/..%2F..%2Fadmin"] {
        let a = raw_handshake(px.addr, head(path).as_bytes()).await;
        assert!(a.starts_with("HTTP/1.1 400 "), "{path}: {a}");
    }
    let bad_key = head("/ocpp/CP-1").replace(KEY, "not-a-key");
    assert!(
        raw_handshake(px.addr, bad_key.as_bytes())
            .await
            .starts_with("HTTP/1.1 400 ")
    );
    let two = head("/ocpp/CP-1").replace(
        "\r\n\r\n",
        "\r\nAuthorization: Basic Q1AtMTpwdw==\r\nAuthorization: Basic YWRtaW46cHc=\r\n\r\n",
    );
    assert!(
        raw_handshake(px.addr, two.as_bytes())
            .await
            .starts_with("HTTP/1.1 400 ")
    );
    // `CP%2D1` is `CP-1`, at the CSMS too.
    let (_cp, _) = within(
        "handshake",
        charger(&px.url("/ocpp/CP%2D1"), &peers::ocpp16()),
    )
    .await
    .unwrap();
    assert_eq!(cs.accept().await.path, "/csms/CP-1");
    let done = px.stop().await;
    assert!(done.recording.contains("\"conn\":\"CP-1\""));
}
