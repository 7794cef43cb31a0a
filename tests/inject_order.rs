//! Injection does not disturb the relayed traffic, with hand-driven peers on 127.0.0.1: while
//! an injected CALL awaits the charger's answer, frames keep flowing both ways in order; the
//! answer goes to the caller only; a connection that closes first ends the wait with a clear
//! error, and so does a charger that never answers. Every wait has a timeout.

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
use ocpp_inspector::pipeline::Inspector;
use ocpp_inspector::source::proxy::tap::TapLimits;
use ocpp_inspector::source::proxy::{InjectError, InjectedReply, Proxy, ProxyConfig};
use peers::{Pick, charger, csms, ocpp16, within};
use serde_json::json;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

async fn next_text<S>(ws: &mut S, what: &str) -> String
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    for _ in 0..16 {
        match within(what, ws.next()).await {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    panic!("{what}: only control frames")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_flows_in_order_while_an_injected_call_waits() {
    let mut cs = csms(Pick::First, None).await;
    let mut config = ProxyConfig::new("127.0.0.1:0", &format!("ws://{}/csms/", cs.addr));
    config.close_grace = Duration::from_millis(300);
    let proxy = Proxy::bind(config).await.expect("bind");
    let addr = proxy.local_addr();
    let handle = proxy.handle();
    let recording = tempfile::NamedTempFile::new().expect("temp file");
    let inspector = Inspector::new(peers::engine(), ocpp_inspector::finding::Severity::Error)
        .record_to(recording.reopen().expect("reopen"));
    let (tap, consumer) = ocpp_inspector::pipeline::spawn(inspector, TapLimits::default());
    let (stop, stopped) = watch::channel(false);
    let run = tokio::spawn(proxy.run(tap, stopped));
    let (mut cp, _) = within(
        "charger handshake",
        charger(&format!("ws://{addr}/ocpp/CP-001"), &ocpp16()),
    )
    .await
    .expect("the charger connects");
    let mut up = cs.accept().await;
    let ident = "CP-001";
    let wait_registered = async {
        while handle.connected().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    within("the relay to register", wait_registered).await;

    // The injected call goes out; the charger does not answer yet.
    let h = handle.clone();
    let waiting = tokio::spawn(async move {
        h.inject(
            ident,
            "TriggerMessage",
            json!({"requestedMessage": "Heartbeat"}),
            Duration::from_secs(10),
        )
        .await
    });
    let injected = next_text(&mut cp, "the injected call").await;
    let call: serde_json::Value = serde_json::from_str(&injected).expect("json");
    let id = call[1].as_str().expect("an id").to_owned();
    assert!(id.starts_with("inspector-"), "{id}");
    assert_eq!(
        call,
        json!([2, id, "TriggerMessage", {"requestedMessage": "Heartbeat"}])
    );

    // Meanwhile both directions flow, in order.
    let csms_calls = [
        r#"[2,"c1","GetConfiguration",{}]"#,
        r#"[2,"c2","ClearCache",{}]"#,
    ];
    for t in csms_calls {
        within("CSMS send", up.ws.send(Message::text(t)))
            .await
            .expect("sent");
    }
    for t in csms_calls {
        assert_eq!(next_text(&mut cp, "a CSMS call at the charger").await, t);
    }
    let charger_frames = [
        r#"[3,"c1",{"configurationKey":[]}]"#,
        r#"[2,"h1","Heartbeat",{}]"#,
    ];
    for t in charger_frames {
        within("charger send", cp.send(Message::text(t)))
            .await
            .expect("sent");
    }
    for t in charger_frames {
        assert_eq!(
            next_text(&mut up.ws, "a charger frame at the CSMS").await,
            t
        );
    }
    assert!(!waiting.is_finished(), "still waiting for its answer");

    // The answer goes to the caller, not to the CSMS: the next thing the CSMS gets is the
    // charger's following frame.
    let answer = format!(r#"[3,"{id}",{{"status":"Accepted"}}]"#);
    within("charger answers", cp.send(Message::text(answer.as_str())))
        .await
        .expect("sent");
    within(
        "charger answers c2",
        cp.send(Message::text(r#"[3,"c2",{"status":"Accepted"}]"#)),
    )
    .await
    .expect("sent");
    let reply = within("the inject call", waiting)
        .await
        .expect("join")
        .expect("answered");
    assert_eq!(
        reply,
        InjectedReply::Result {
            id: id.clone(),
            payload: json!({"status": "Accepted"})
        }
    );
    assert_eq!(
        next_text(&mut up.ws, "the frame after the hidden answer").await,
        r#"[3,"c2",{"status":"Accepted"}]"#
    );

    // A charger that never answers: a timeout, named.
    let e = within(
        "the unanswered inject",
        handle.inject(
            ident,
            "TriggerMessage",
            json!({"requestedMessage": "StatusNotification"}),
            Duration::from_millis(300),
        ),
    )
    .await
    .expect_err("no answer");
    assert!(matches!(e, InjectError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("no answer within 0.3 s"), "{e}");
    let _ = next_text(&mut cp, "the second injected call").await;

    // The connection closes while a call waits: the wait ends with a clear error.
    let h = handle.clone();
    let waiting = tokio::spawn(async move {
        h.inject(ident, "ClearCache", json!({}), Duration::from_secs(10))
            .await
    });
    let _ = next_text(&mut cp, "the third injected call").await;
    within("charger closes", cp.close(None))
        .await
        .expect("closed");
    let e = within("the inject call ends", waiting)
        .await
        .expect("join")
        .expect_err("closed first");
    assert!(matches!(e, InjectError::Closed { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("the connection closed before the answer"),
        "{e}"
    );

    let _ = stop.send(true);
    within("the proxy stops", run).await.expect("run");
    let outcome = within("the consumer", consumer.finish())
        .await
        .expect("consumer");
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);

    // Recorded: the three injected calls and the one answer are marked, nothing else.
    let recorded = std::fs::read_to_string(recording.path()).expect("read");
    let marked: Vec<&str> = recorded
        .lines()
        .filter(|l| l.contains(r#""injected":true"#))
        .collect();
    assert_eq!(marked.len(), 4, "{recorded}");
    assert!(marked.iter().all(|l| l.contains("inspector-")));
    assert!(
        recorded
            .lines()
            .filter(|l| l.contains("inspector-"))
            .all(|l| l.contains(r#""injected":true"#))
    );
}
