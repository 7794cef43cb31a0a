//! The proxy over TLS, end to end with in-process peers and certificates from `certs`:
//! security profile 2 (`wss://`, server certificate only), profile 3 (a charger certificate
//! required and checked against `--client-ca`; one without is refused), and a `wss://`
//! upstream with the proxy's own client certificate. What the handshake said about the
//! charger (scheme, TLS version, certificate subject) is on the recorded `open` event.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

#[path = "common/peers.rs"]
mod peers;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ocpp_inspector::source::proxy::ProxyConfig;
use ocpp_inspector::source::proxy::tls::{ListenTls, UpstreamTls};
use peers::{ChargerOpts, Pick, charger, client_tls, csms, make_certs, server_tls, start, within};
use tokio_tungstenite::tungstenite::Message;

fn wss_config(upstream: &str, certs: &peers::Certs, client_ca: bool) -> ProxyConfig {
    let mut c = ProxyConfig::new("127.0.0.1:0", upstream);
    c.listen_tls = Some(ListenTls {
        cert: certs.server_cert.clone(),
        key: certs.server_key.clone(),
        client_ca: client_ca.then(|| certs.ca.clone()),
    });
    c.close_grace = Duration::from_millis(300);
    c
}

async fn round_trip(
    cp: &mut tokio_tungstenite::WebSocketStream<ocpp_inspector::source::proxy::io::Io>,
    up: &mut peers::CsmsConn,
) {
    let call = "[2,\"1\",\"Heartbeat\",{}]";
    within("send", cp.send(Message::text(call))).await.unwrap();
    match within("csms read", up.ws.next()).await {
        Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), call),
        other => panic!("expected the call, got {other:?}"),
    }
    let res = "[3,\"1\",{\"currentTime\":\"2026-11-22T10:15:03Z\"}]";
    within("reply", up.ws.send(Message::text(res)))
        .await
        .unwrap();
    match within("charger read", cp.next()).await {
        Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), res),
        other => panic!("expected the result, got {other:?}"),
    }
}

#[tokio::test]
async fn profile_2_wss_from_the_charger_is_terminated_and_relayed() {
    let certs = make_certs(&[]);
    let mut cs = csms(Pick::First, None).await;
    let px = start(wss_config(&format!("ws://{}/", cs.addr), &certs, false)).await;
    let opts = ChargerOpts {
        tls: Some(client_tls(&certs, None)),
        basic: Some(("CP-201", "pw")),
        ..peers::ocpp16()
    };
    let url = format!("wss://localhost:{}/ocpp/CP-201", px.addr.port());
    let (mut cp, _) = within("wss handshake", charger(&url, &opts))
        .await
        .expect("wss works");
    let mut up = cs.accept().await;
    round_trip(&mut cp, &mut up).await;
    let done = px.stop().await;
    let open = done.recording.lines().next().unwrap();
    assert!(open.contains(r#""scheme":"wss""#), "{open}");
    assert!(open.contains(r#""tls_version":"1.3""#), "{open}");
    assert!(open.contains(r#""basic_auth_user":"CP-201""#), "{open}");
    assert!(!open.contains("client_cert_subject"), "{open}");
}

#[tokio::test]
async fn profile_3_requires_a_charger_certificate_and_reports_its_subject() {
    let certs = make_certs(&["CP-301"]);
    let mut cs = csms(Pick::First, None).await;
    let mut px = start(wss_config(&format!("ws://{}/", cs.addr), &certs, true)).await;
    let url = format!("wss://localhost:{}/ocpp/CP-301", px.addr.port());
    let with_cert = ChargerOpts {
        tls: Some(client_tls(&certs, Some("CP-301"))),
        ..peers::ocpp16()
    };
    let (mut cp, _) = within("mTLS handshake", charger(&url, &with_cert))
        .await
        .expect("a charger with a certificate connects");
    let mut up = cs.accept().await;
    round_trip(&mut cp, &mut up).await;

    // Without a certificate: refused during TLS, and said so.
    let without = ChargerOpts {
        tls: Some(client_tls(&certs, None)),
        ..peers::ocpp16()
    };
    let r = within("handshake without a certificate", async {
        // TLS 1.3 reports the refusal on the first read after the handshake.
        let (mut ws, _) = charger(&url, &without).await?;
        ws.next()
            .await
            .unwrap_or(Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed))?;
        Ok::<_, tokio_tungstenite::tungstenite::Error>(())
    })
    .await;
    assert!(
        r.is_err(),
        "a charger without a certificate must be refused"
    );
    let (_, n) = px.notice("TLS handshake failed").await;
    assert!(n.text.to_lowercase().contains("certificate"), "{}", n.text);
    let done = px.stop().await;
    let opens: Vec<&str> = done
        .recording
        .lines()
        .filter(|l| l.contains(r#""event":"open""#))
        .collect();
    assert_eq!(
        opens.len(),
        1,
        "only the charger with a certificate got through"
    );
    assert!(
        opens[0].contains(r#""client_cert_subject":"#) && opens[0].contains("CN=CP-301"),
        "{}",
        opens[0]
    );
    assert_eq!(
        cs.seen.lock().unwrap().len(),
        1,
        "the refused charger never reached the CSMS"
    );
}

#[tokio::test]
async fn a_wss_upstream_is_reached_with_the_configured_ca_and_client_certificate() {
    let certs = make_certs(&["proxy-client"]);
    // The CSMS itself requires a client certificate (profile 3 toward the CSMS).
    let mut cs = csms(Pick::First, Some(server_tls(&certs, true))).await;
    let mut c = ProxyConfig::new(
        "127.0.0.1:0",
        &format!("wss://localhost:{}/ocpp", cs.addr.port()),
    );
    c.upstream_tls = UpstreamTls {
        ca: Some(certs.ca.clone()),
        cert: Some(certs.charger_cert("proxy-client")),
        key: Some(certs.charger_key("proxy-client")),
    };
    c.close_grace = Duration::from_millis(300);
    let px = start(c).await;
    let (mut cp, _) = within("handshake", charger(&px.url("/CP-U"), &peers::ocpp16()))
        .await
        .expect("relayed to the wss CSMS");
    let mut up = cs.accept().await;
    assert_eq!(up.path, "/ocpp/CP-U");
    round_trip(&mut cp, &mut up).await;
    px.stop().await;

    // Without the client certificate the CSMS refuses the proxy: the charger gets a 502.
    let mut c = ProxyConfig::new(
        "127.0.0.1:0",
        &format!("wss://localhost:{}/ocpp", cs.addr.port()),
    );
    c.upstream_tls = UpstreamTls {
        ca: Some(certs.ca.clone()),
        cert: None,
        key: None,
    };
    let px = start(c).await;
    let r = within("handshake", charger(&px.url("/CP-V"), &peers::ocpp16())).await;
    match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 502),
        other => panic!("expected HTTP 502, got {:?}", other.map(|_| ())),
    }
    px.stop().await;
}
