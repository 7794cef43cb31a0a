//! `--proxy-protocol` through the listener: with it, the charger's address from a v1 or v2
//! header is the one recorded, and a connection without a header is refused (closed, with a
//! notice); without it, a connection that starts with a PROXY header is refused with a
//! notice that says so, and a plain connection is relayed as before.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

#[path = "common/peers.rs"]
mod peers;

use futures_util::{SinkExt, StreamExt};
use ocpp_inspector::source::proxy::ProxyConfig;
use ocpp_inspector::source::proxy::proxy_protocol::V2_SIGNATURE;
use peers::{Pick, csms, start, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Connects, writes `preface` first, then the WebSocket handshake of `identity`.
async fn charger_behind(
    addr: std::net::SocketAddr,
    preface: &[u8],
    identity: &str,
) -> tokio_tungstenite::WebSocketStream<TcpStream> {
    let mut tcp = within("connect", TcpStream::connect(addr)).await.unwrap();
    within("preface", tcp.write_all(preface)).await.unwrap();
    let mut req = format!("ws://{addr}/ocpp/{identity}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "ocpp1.6".parse().unwrap());
    within("handshake", tokio_tungstenite::client_async(req, tcp))
        .await
        .expect("relayed")
        .0
}

fn v2_ipv6(source: &str, port: u16) -> Vec<u8> {
    let mut b = V2_SIGNATURE.to_vec();
    b.extend_from_slice(&[0x21, 0x21, 0, 36]);
    b.extend_from_slice(&source.parse::<std::net::Ipv6Addr>().unwrap().octets());
    b.extend_from_slice(&[0; 15]);
    b.push(1);
    b.extend_from_slice(&port.to_be_bytes());
    b.extend_from_slice(&9000u16.to_be_bytes());
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_proxy_protocol_the_real_client_address_is_recorded_and_a_bare_connection_refused() {
    let mut cs = csms(Pick::First, None).await;
    let mut config = ProxyConfig::new("127.0.0.1:0", &format!("ws://{}/ocpp", cs.addr));
    config.proxy_protocol = true;
    let mut h = start(config).await;

    let mut a = charger_behind(
        h.addr,
        b"PROXY TCP4 203.0.113.9 127.0.0.1 40001 9000\r\n",
        "CP-V1",
    )
    .await;
    let mut up_a = cs.accept().await;
    let mut b = charger_behind(h.addr, &v2_ipv6("2001:db8::7", 40002), "CP-V2").await;
    let _up_b = cs.accept().await;
    within("send", a.send(Message::text(r#"[2,"1","Heartbeat",{}]"#)))
        .await
        .unwrap();
    within("relay", up_a.ws.next()).await.unwrap().unwrap();

    // No header: closed without an answer, and said.
    let mut bare = within("connect", TcpStream::connect(h.addr)).await.unwrap();
    within(
        "write",
        bare.write_all(b"GET /ocpp/CP-X HTTP/1.1\r\nHost: x\r\n\r\n"),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    let _ = within("closed", bare.read_to_end(&mut out)).await;
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    let (_, notice) = h.notice("--proxy-protocol").await;
    assert!(
        notice.text.contains("no PROXY protocol header"),
        "{}",
        notice.text
    );

    let _ = within("close", b.close(None)).await;
    let stopped = h.stop().await;
    let opens: Vec<serde_json::Value> = stopped
        .recording
        .lines()
        .filter(|l| l.contains(r#""event":"open""#))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let peer_of = |conn: &str| {
        opens
            .iter()
            .find(|o| o["conn"] == conn)
            .map(|o| o["peer"].as_str().unwrap().to_owned())
    };
    assert_eq!(peer_of("CP-V1").as_deref(), Some("203.0.113.9:40001"));
    assert_eq!(peer_of("CP-V2").as_deref(), Some("[2001:db8::7]:40002"));
    assert_eq!(
        peer_of("CP-X"),
        None,
        "the bare connection was never relayed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_proxy_protocol_a_header_is_refused_and_plain_chargers_still_pass() {
    let mut cs = csms(Pick::First, None).await;
    let config = ProxyConfig::new("127.0.0.1:0", &format!("ws://{}/ocpp", cs.addr));
    let mut h = start(config).await;
    for preface in [
        b"PROXY TCP4 203.0.113.9 127.0.0.1 40001 9000\r\n".to_vec(),
        v2_ipv6("2001:db8::7", 40002),
    ] {
        let mut tcp = within("connect", TcpStream::connect(h.addr)).await.unwrap();
        let mut bytes = preface;
        bytes.extend_from_slice(b"GET /ocpp/CP-1 HTTP/1.1\r\nHost: x\r\n\r\n");
        within("write", tcp.write_all(&bytes)).await.unwrap();
        let mut out = Vec::new();
        let _ = within("closed", tcp.read_to_end(&mut out)).await;
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        let (_, notice) = h.notice("PROXY protocol header").await;
        assert!(
            notice.text.contains("--proxy-protocol is not on"),
            "{}",
            notice.text
        );
    }
    let mut c = charger_behind(h.addr, b"", "CP-2").await;
    let mut up = cs.accept().await;
    within("send", c.send(Message::text(r#"[2,"1","Heartbeat",{}]"#)))
        .await
        .unwrap();
    within("relay", up.ws.next()).await.unwrap().unwrap();
    let stopped = h.stop().await;
    assert!(stopped.recording.contains(r#""conn":"CP-2""#));
    assert!(!stopped.recording.contains("CP-1"));
}
