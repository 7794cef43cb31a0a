//! The proxy end to end over plain `ws://`, with an in-process charger and CSMS on
//! 127.0.0.1: transparency (byte for byte, both ways, in order; binary, ping/pong and close
//! codes), handshake mirroring (subprotocols, basic auth, refusals), failures (CSMS down,
//! charger gone, a stuck CSMS, oversized messages, bad handshakes), live findings, and the
//! recording giving `check` the same findings the live run gave.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

#[path = "common/peers.rs"]
mod peers;

use std::collections::BTreeSet;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use ocpp_inspector::checker::{CheckOptions, check_path};
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, SchemaSet};
use ocpp_inspector::source::proxy::ProxyConfig;
use peers::{ChargerOpts, Pick, charger, csms, ocpp16, start, within};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn config(upstream: std::net::SocketAddr) -> ProxyConfig {
    let mut c = ProxyConfig::new("127.0.0.1:0", &format!("ws://{upstream}/csms/"));
    // The test peers stop reading after their last check; do not wait long for them.
    c.close_grace = std::time::Duration::from_millis(300);
    c
}

fn text(m: Message) -> String {
    match m {
        Message::Text(t) => t.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

async fn next<S>(ws: &mut S, what: &str) -> Message
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    within(what, ws.next())
        .await
        .unwrap_or_else(|| panic!("{what}: stream ended"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Reads until a non-control message.
async fn next_data<S>(ws: &mut S, what: &str) -> Message
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    for _ in 0..16 {
        let m = next(ws, what).await;
        if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
            return m;
        }
    }
    panic!("{what}: only control frames")
}

#[tokio::test]
async fn text_is_relayed_byte_for_byte_both_ways_and_in_order() {
    let mut cs = csms(Pick::First, None).await;
    let mut px = start(config(cs.addr)).await;
    let (mut cp, resp) = within(
        "charger handshake",
        charger(&px.url("/any/path/CP%2D001"), &ocpp16()),
    )
    .await
    .expect("the charger connects");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap()),
        Some("ocpp1.6")
    );
    let mut up = cs.accept().await;
    assert_eq!(
        up.path, "/csms/CP-001",
        "the identity goes upstream in its one canonical encoding (`%2D` is `-`)"
    );

    let odd = [
        "[2,\"1\",\"Heartbeat\",{}]",
        "  [2, \"2\" ,\"Heartbeat\",{ }]  ",
        "héllo \u{2028}\u{0} 😀 \\u0041 \"",
        "not json {",
        "",
        "[2,\"3\",\"DataTransfer\",{\"vendorId\":\"x\",\"data\":\"\u{feff}ü\"}]",
    ];
    for t in odd {
        within("charger send", cp.send(Message::text(t)))
            .await
            .unwrap();
    }
    for t in odd {
        assert_eq!(text(next_data(&mut up.ws, "csms read").await), t);
    }
    for t in odd.iter().rev() {
        within("csms send", up.ws.send(Message::text(*t)))
            .await
            .unwrap();
    }
    for t in odd.iter().rev() {
        assert_eq!(text(next_data(&mut cp, "charger read").await), *t);
    }
    // A binary frame is forwarded unchanged and reported.
    within("binary", cp.send(Message::binary(vec![0u8, 159, 146, 150])))
        .await
        .unwrap();
    match next_data(&mut up.ws, "csms binary").await {
        Message::Binary(b) => assert_eq!(&b[..], &[0u8, 159, 146, 150]),
        other => panic!("expected binary, got {other:?}"),
    }
    let f = px.finding("ws.binary-frame").await;
    assert_eq!(&*f.conn, "CP-001", "the identity is percent-decoded");

    let done = px.stop().await;
    // Every frame is in the recording, as sent.
    for t in odd {
        let needle = serde_json::to_string(t).unwrap();
        assert!(
            done.recording.contains(&needle),
            "{needle} missing from the recording"
        );
    }
    assert_eq!(done.outcome.dropped, 0);
}

#[tokio::test]
async fn subprotocol_choice_is_mirrored_and_a_pick_not_offered_is_a_finding() {
    // The CSMS picks from the offer: the charger gets that pick.
    let cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    let opts = ChargerOpts {
        protocols: vec!["ocpp2.0.1", "ocpp1.6"],
        ..ChargerOpts::default()
    };
    let (_cp, resp) = within("handshake", charger(&px.url("/CP-2"), &opts))
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "ocpp2.0.1"
    );
    let done = px.stop().await;
    assert!(
        done.recording.contains(
            r#""subprotocol":"ocpp2.0.1","scheme":"ws","offered_subprotocols":"ocpp2.0.1, ocpp1.6""#
        ),
        "{}",
        done.recording
    );
    assert!(
        !done
            .findings
            .iter()
            .any(|f| f.rule.id == "ws.subprotocol-not-offered")
    );

    // The CSMS picks what was not offered: passed on (the charger's client refuses it) and
    // reported live.
    let cs = csms(Pick::Fixed("ocpp2.0.1"), None).await;
    let mut px = start(config(cs.addr)).await;
    let r = within("handshake", charger(&px.url("/CP-3"), &ocpp16())).await;
    assert!(
        r.is_err(),
        "tungstenite's client refuses a subprotocol it did not offer"
    );
    let f = px.finding("ws.subprotocol-not-offered").await;
    assert_eq!(&*f.conn, "CP-3");
    assert!(f.message.contains("ocpp2.0.1") && f.message.contains("ocpp1.6"));
    px.stop().await;

    // The CSMS picks none: the charger gets none (and its client fails the handshake).
    let cs = csms(Pick::Nothing, None).await;
    let px = start(config(cs.addr)).await;
    let r = within(
        "handshake",
        charger(&px.url("/CP-4"), &ChargerOpts::default()),
    )
    .await;
    let (_cp, resp) = r.expect("no offer, no pick");
    assert!(resp.headers().get("sec-websocket-protocol").is_none());
    px.stop().await;
}

#[tokio::test]
async fn basic_auth_goes_upstream_and_only_the_user_is_recorded() {
    let mut cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    let opts = ChargerOpts {
        basic: Some(("CP-001", "s3cr3t-pa55")),
        ..ocpp16()
    };
    let (_cp, _) = within("handshake", charger(&px.url("/ocpp/CP-001"), &opts))
        .await
        .unwrap();
    let up = cs.accept().await;
    assert_eq!(
        up.header("authorization"),
        Some("Basic Q1AtMDAxOnMzY3IzdC1wYTU1")
    );
    let done = px.stop().await;
    assert!(done.recording.contains(r#""basic_auth_user":"CP-001""#));
    assert!(!done.recording.contains("s3cr3t"));
    assert!(!done.recording.contains("Q1AtMDAxOnMzY3IzdC1wYTU1"));
}

#[tokio::test]
async fn pings_pongs_and_close_codes_pass_through() {
    let mut cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    let (mut cp, _) = within("handshake", charger(&px.url("/CP-P"), &ocpp16()))
        .await
        .unwrap();
    let mut up = cs.accept().await;
    within("ping", cp.send(Message::Ping(b"abc".to_vec().into())))
        .await
        .unwrap();
    match next(&mut up.ws, "csms gets the ping").await {
        Message::Ping(p) => assert_eq!(&p[..], b"abc"),
        other => panic!("expected a ping, got {other:?}"),
    }
    within("pong", up.ws.send(Message::Pong(b"xyz".to_vec().into())))
        .await
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        match next(&mut cp, "charger gets pongs").await {
            Message::Pong(p) => got.push(p.to_vec()),
            other => panic!("expected a pong, got {other:?}"),
        }
        if got.contains(&b"xyz".to_vec()) {
            break;
        }
    }
    assert!(
        got.contains(&b"xyz".to_vec()),
        "the CSMS's own pong is passed on: {got:?}"
    );
    // The CSMS closes with an application code: the charger sees that code.
    within(
        "close",
        up.ws.send(Message::Close(Some(CloseFrame {
            code: CloseCode::from(4001),
            reason: "bye".into(),
        }))),
    )
    .await
    .unwrap();
    match next_data(&mut cp, "charger gets the close").await {
        Message::Close(Some(f)) => {
            assert_eq!(u16::from(f.code), 4001);
            assert_eq!(f.reason.as_str(), "bye");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    let done = px.stop().await;
    assert!(
        done.recording
            .contains(r#""conn":"CP-P","event":"close","code":4001,"by":"csms""#),
        "{}",
        done.recording
    );
}

#[tokio::test]
async fn csms_down_or_refusing_refuses_the_charger_with_a_clear_status() {
    // Nothing listens upstream.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = free.local_addr().unwrap();
    drop(free);
    let mut px = start(config(dead)).await;
    let err = within("handshake", charger(&px.url("/CP-D"), &ocpp16()))
        .await
        .expect_err("refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(r) => assert_eq!(r.status(), 502),
        other => panic!("expected HTTP 502, got {other}"),
    }
    let (conn, n) = px.notice("cannot connect").await;
    assert_eq!(conn, "CP-D");
    assert!(n.text.contains("502"), "{}", n.text);
    px.stop().await;

    // The CSMS refuses (401): mirrored, with its WWW-Authenticate.
    let cs = csms(Pick::Refuse(401), None).await;
    let mut px = start(config(cs.addr)).await;
    let err = within("handshake", charger(&px.url("/CP-R"), &ocpp16()))
        .await
        .expect_err("refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(r) => {
            assert_eq!(r.status(), 401);
            assert!(r.headers().get("www-authenticate").is_some());
        }
        other => panic!("expected HTTP 401, got {other}"),
    }
    px.notice("HTTP 401").await;
    px.stop().await;
}

#[tokio::test]
async fn a_charger_dropping_closes_the_csms_side() {
    let mut cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    let (cp, _) = within("handshake", charger(&px.url("/CP-X"), &ocpp16()))
        .await
        .unwrap();
    let mut up = cs.accept().await;
    // Drop the socket without a close frame.
    drop(cp);
    let closed = within("the CSMS side closing", async {
        loop {
            match up.ws.next().await {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await;
    assert_eq!(closed, Some(1001));
    let done = px.stop().await;
    assert!(
        done.recording
            .contains(r#""conn":"CP-X","event":"close","by":"charger""#),
        "{}",
        done.recording
    );
}

#[tokio::test]
async fn a_stuck_csms_connection_does_not_stall_another_charger() {
    let mut cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    let (mut stuck_cp, _) = within("handshake", charger(&px.url("/STUCK"), &ocpp16()))
        .await
        .unwrap();
    // Its CSMS side is accepted and then never read.
    let _stuck_up = cs.accept().await;
    let flood = tokio::spawn(async move {
        let big = "x".repeat(256 * 1024);
        // Bounded: stops at the first send that cannot complete within a second.
        for _ in 0..400 {
            let sent = tokio::time::timeout(
                std::time::Duration::from_secs(1),
                stuck_cp.send(Message::text(big.clone())),
            )
            .await;
            if sent.is_err() {
                return true;
            }
        }
        false
    });
    let (mut cp, _) = within("handshake", charger(&px.url("/FREE"), &ocpp16()))
        .await
        .unwrap();
    let mut up = cs.accept().await;
    for i in 0..50 {
        let call = format!("[2,\"{i}\",\"Heartbeat\",{{}}]");
        within("send", cp.send(Message::text(call.clone())))
            .await
            .unwrap();
        assert_eq!(text(next_data(&mut up.ws, "csms read").await), call);
        let res = format!("[3,\"{i}\",{{\"currentTime\":\"2026-11-22T10:15:03Z\"}}]");
        within("reply", up.ws.send(Message::text(res.clone())))
            .await
            .unwrap();
        assert_eq!(text(next_data(&mut cp, "charger read").await), res);
    }
    let blocked = within("the flood", flood).await.unwrap();
    assert!(
        blocked,
        "backpressure: the stuck connection's sender is held back, not buffered without bound"
    );
    px.stop().await;
}

#[tokio::test]
async fn an_oversized_message_closes_its_sender_with_1009() {
    let mut cs = csms(Pick::First, None).await;
    let mut cfg = config(cs.addr);
    cfg.max_message = 4096;
    let px = start(cfg).await;
    let (mut cp, _) = within("handshake", charger(&px.url("/BIG"), &ocpp16()))
        .await
        .unwrap();
    let mut up = cs.accept().await;
    within("send", cp.send(Message::text("y".repeat(10_000))))
        .await
        .unwrap();
    match next_data(&mut cp, "the charger's close").await {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 1009),
        other => panic!("expected close 1009, got {other:?}"),
    }
    // RFC 6455 §7.1.7: the connection is failed with 1009, and the CSMS gets the same code.
    match next_data(&mut up.ws, "the CSMS's close").await {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 1009),
        other => panic!("expected close 1009, got {other:?}"),
    }
    let done = px.stop().await;
    assert!(
        !done.recording.contains("yyyy"),
        "nothing of it was relayed"
    );
}

#[tokio::test]
async fn bad_handshakes_get_a_clean_refusal() {
    let cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    let ws_head = |path: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
    };
    let r = peers::raw_handshake(px.addr, ws_head("/ocpp/").as_bytes()).await;
    assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
    let r = peers::raw_handshake(px.addr, b"\x16\x03\x01 not http at all\r\n\r\n").await;
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    let r = peers::raw_handshake(px.addr, b"GET /CP HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    let mut huge = b"GET /CP HTTP/1.1\r\nX-Pad: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 40_000));
    let r = peers::raw_handshake(px.addr, &huge).await;
    assert!(r.starts_with("HTTP/1.1 431 "), "{r}");
    let done = px.stop().await;
    assert_eq!(done.outcome.events, 0, "no connection was opened");
    assert!(done.notices.len() >= 4, "{:?}", done.notices);
    assert!(
        cs.seen.lock().unwrap().is_empty(),
        "nothing reached the CSMS"
    );
}

#[tokio::test]
async fn violations_show_up_live_and_the_recording_gives_check_the_same_findings() {
    let mut cs = csms(Pick::First, None).await;
    let mut px = start(config(cs.addr)).await;
    let (mut cp, _) = within("handshake", charger(&px.url("/CP-V"), &ocpp16()))
        .await
        .unwrap();
    let mut up = cs.accept().await;
    // A BootNotification missing its required fields: a schema violation by the charger.
    within(
        "send",
        cp.send(Message::text("[2,\"b1\",\"BootNotification\",{}]")),
    )
    .await
    .unwrap();
    next_data(&mut up.ws, "csms read").await;
    let f = px.finding("schema.request-invalid").await;
    assert_eq!(&*f.conn, "CP-V");
    assert_eq!(f.unique_id.as_deref(), Some("b1"));
    assert_eq!(f.action.as_deref(), Some("BootNotification"));
    // More: a CALLRESULT to an id nobody asked for, and text that is not JSON.
    within(
        "reply",
        up.ws.send(Message::text(
            "[3,\"nobody-asked\",{\"status\":\"Accepted\"}]",
        )),
    )
    .await
    .unwrap();
    next_data(&mut cp, "charger read").await;
    within("junk", cp.send(Message::text("{oops")))
        .await
        .unwrap();
    next_data(&mut up.ws, "csms read").await;
    within(
        "answer the boot",
        up.ws.send(Message::text(
            "[3,\"b1\",{\"status\":\"Accepted\",\"currentTime\":\"2026-11-22T10:15:03Z\",\"interval\":300}]",
        )),
    )
    .await
    .unwrap();
    next_data(&mut cp, "charger read").await;
    let done = px.stop().await;

    // The live findings (the one taken above plus the rest) against `check` of the recording.
    let mut live: BTreeSet<(String, u64, String)> = done
        .findings
        .iter()
        .map(|f| (f.rule.id.to_owned(), f.line, f.conn.to_string()))
        .collect();
    live.insert((f.rule.id.to_owned(), f.line, f.conn.to_string()));
    assert!(live.iter().any(|(r, _, _)| r == "rpc.not-json"), "{live:?}");
    assert!(live.len() >= 3, "{live:?}");
    let opts = CheckOptions {
        schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap()),
        config: Arc::new(Config::default()),
        default_version: None,
        jobs: 1,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.jsonl");
    std::fs::write(&path, &done.recording).unwrap();
    let checked = check_path(&path, &opts, 1);
    assert!(
        checked.input_errors.is_empty(),
        "{:?}",
        checked.input_errors
    );
    let offline: BTreeSet<(String, u64, String)> = checked
        .findings
        .iter()
        .map(|f| (f.rule.id.to_owned(), f.line, f.conn.to_string()))
        .collect();
    assert_eq!(live, offline);
    assert_eq!(
        done.outcome.errors + done.outcome.warnings + done.outcome.infos,
        checked.findings.len() as u64
    );
}

#[tokio::test]
async fn shutdown_closes_every_connection_with_1001_both_ways() {
    let mut cs = csms(Pick::First, None).await;
    let px = start(config(cs.addr)).await;
    let (mut cp, _) = within("handshake", charger(&px.url("/CP-S"), &ocpp16()))
        .await
        .unwrap();
    let mut up = cs.accept().await;
    let stopping = tokio::spawn(px.stop());
    match next_data(&mut cp, "charger close").await {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 1001),
        other => panic!("expected 1001, got {other:?}"),
    }
    match next_data(&mut up.ws, "csms close").await {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 1001),
        other => panic!("expected 1001, got {other:?}"),
    }
    let done = within("stop", stopping).await.unwrap();
    assert!(
        done.recording
            .contains(r#""conn":"CP-S","event":"close","code":1001}"#),
        "{}",
        done.recording
    );
}

#[tokio::test]
async fn the_csms_dropping_closes_the_charger_with_1011_and_says_so() {
    let mut cs = csms(Pick::First, None).await;
    let mut px = start(config(cs.addr)).await;
    let (mut cp, _) = within("handshake", charger(&px.url("/CP-Z"), &ocpp16()))
        .await
        .unwrap();
    let up = cs.accept().await;
    // The CSMS's socket goes away without a close frame.
    drop(up);
    match next_data(&mut cp, "the charger's close").await {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 1011),
        other => panic!("expected close 1011, got {other:?}"),
    }
    let (conn, n) = px.notice("without a close frame").await;
    assert_eq!(conn, "CP-Z");
    assert!(n.text.contains("1011"), "{}", n.text);
    let done = px.stop().await;
    assert!(
        done.recording
            .contains(r#""conn":"CP-Z","event":"close","by":"csms""#),
        "{}",
        done.recording
    );
}

#[tokio::test]
async fn a_second_connection_of_an_identity_is_relayed_and_said() {
    let mut cs = csms(Pick::First, None).await;
    let mut px = start(config(cs.addr)).await;
    let (mut first, _) = within("first handshake", charger(&px.url("/CP-2X"), &ocpp16()))
        .await
        .unwrap();
    let mut up1 = cs.accept().await;
    let (mut second, _) = within("second handshake", charger(&px.url("/CP-2X"), &ocpp16()))
        .await
        .unwrap();
    let mut up2 = cs.accept().await;
    let (conn, n) = px.notice("a second connection for this identity").await;
    assert_eq!(conn, "CP-2X");
    assert!(n.text.contains("still open"), "{}", n.text);
    // Both are relayed, each to its own CSMS connection.
    for (cp, up, id) in [(&mut first, &mut up1, "1"), (&mut second, &mut up2, "2")] {
        let call = format!(r#"[2,"{id}","Heartbeat",{{}}]"#);
        within("send", cp.send(Message::text(call.clone())))
            .await
            .unwrap();
        assert_eq!(
            text(next_data(&mut up.ws, "the CSMS receiving").await),
            call
        );
    }
    px.stop().await;
}
