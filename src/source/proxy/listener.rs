//! One accepted charger, from TCP to relay: TLS accept (with what the handshake says about
//! the charger), the WebSocket request read and checked, the CSMS connected BEFORE the
//! charger is answered (so its subprotocol pick or refusal can be mirrored), then the relay.
//! Every step before the relay has a timeout; every refusal is a clean HTTP answer and a
//! notice. It judges no OCPP.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::handshake::{self, HeadError, Refusal, UpstreamAnswer};
use super::inject::Registry;
use super::io::Io;
use super::relay::Relay;
use super::tap::{NoticeKind, OpenInfo, Tap, TapEvent, TapKind};
use super::upstream::{Upstream, UpstreamError};
use super::{ProxyConfig, tls};
use crate::time::Timestamp;

/// What every connection task shares.
pub(crate) struct Shared {
    pub upstream: Upstream,
    pub acceptor: Option<tokio_rustls::TlsAcceptor>,
    pub config: ProxyConfig,
    /// The live relays, for injection.
    pub registry: Arc<Registry>,
}

fn ws_config(c: &ProxyConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(c.read_buffer)
        // Write each message at once (no batching), and allow one whole message queued.
        .write_buffer_size(0)
        .max_write_buffer_size(c.max_message.saturating_add(64 << 10))
        .max_message_size(Some(c.max_message))
        .max_frame_size(Some(c.max_message))
}

/// Serves one accepted TCP connection until its relay ends.
pub(crate) async fn handle(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    tap: Tap,
    shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let cfg = &shared.config;
    let tap = &tap;
    // Until the request names the station, notices name the peer address.
    let peer_name: Arc<str> = Arc::from(peer.to_string());
    let limit = cfg.handshake_timeout;

    let (mut io, peer_tls) = match &shared.acceptor {
        Some(acceptor) => match tokio::time::timeout(limit, acceptor.accept(tcp)).await {
            Ok(Ok(s)) => {
                let info = tls::peer_tls(s.get_ref().1);
                (Io::Server(Box::new(s)), Some(info))
            }
            Ok(Err(e)) => {
                tap.notice(
                    &peer_name,
                    NoticeKind::Refused,
                    format!("TLS handshake failed: {e}"),
                );
                return;
            }
            Err(_) => {
                tap.notice(
                    &peer_name,
                    NoticeKind::Refused,
                    format!("no TLS handshake within {} s", limit.as_secs()),
                );
                return;
            }
        },
        None => (Io::Plain(tcp), None),
    };

    let (buf, head_len) = match tokio::time::timeout(limit, handshake::read_head(&mut io)).await {
        Ok(Ok(x)) => x,
        Ok(Err(HeadError::TooLarge)) => {
            let r = Refusal::new(
                431,
                "Request Header Fields Too Large",
                format!("handshake larger than {} bytes", handshake::MAX_HEAD),
            );
            tap.notice(&peer_name, NoticeKind::Refused, r.detail.clone());
            handshake::write_refusal(&mut io, &r, limit).await;
            return;
        }
        Ok(Err(e)) => {
            tap.notice(
                &peer_name,
                NoticeKind::Refused,
                format!("handshake not read: {e}"),
            );
            return;
        }
        Err(_) => {
            let r = Refusal::new(
                408,
                "Request Timeout",
                format!("no complete handshake within {} s", limit.as_secs()),
            );
            tap.notice(&peer_name, NoticeKind::Refused, r.detail.clone());
            handshake::write_refusal(&mut io, &r, limit).await;
            return;
        }
    };
    let req = match handshake::parse_request(&buf[..head_len]) {
        Ok(r) => r,
        Err(r) => {
            tap.notice(
                &peer_name,
                NoticeKind::Refused,
                format!("HTTP {}: {}", r.status, r.detail),
            );
            handshake::write_refusal(&mut io, &r, limit).await;
            return;
        }
    };
    let conn: Arc<str> = Arc::from(req.identity.as_str());

    let (up_io, up_rest, answer) = match shared.upstream.open(&req, cfg.connect_timeout).await {
        Ok(x) => x,
        Err(e) => {
            let status = if matches!(e, UpstreamError::NoDescriptors { .. }) {
                503
            } else {
                502
            };
            tap.notice(
                &conn,
                NoticeKind::Upstream,
                format!("{e}; refused the charger with HTTP {status}"),
            );
            // The body goes to whoever connected, authenticated or not: nothing internal
            // (no URL, no address, no error text) in it; the operator's notice has the why.
            let r = match e {
                UpstreamError::NoDescriptors { .. } => {
                    Refusal::new(503, "Service Unavailable", "proxy overloaded")
                }
                _ => Refusal::new(502, "Bad Gateway", "upstream unavailable"),
            };
            handshake::write_refusal(&mut io, &r, limit).await;
            return;
        }
    };
    let (subprotocol, headers) = match answer {
        UpstreamAnswer::Accepted {
            subprotocol,
            headers,
        } => (subprotocol, headers),
        UpstreamAnswer::Refused(r) => {
            tap.notice(
                &conn,
                NoticeKind::Upstream,
                format!("{}; passed on to the charger", r.detail),
            );
            handshake::write_refusal(&mut io, &r, limit).await;
            return;
        }
    };
    let wrote = tokio::time::timeout(
        limit,
        handshake::write_accept(&mut io, &req.key, subprotocol.as_deref(), &headers),
    )
    .await;
    if !matches!(wrote, Ok(Ok(()))) {
        tap.notice(
            &conn,
            NoticeKind::Conn,
            "the charger went away during the handshake; closing the CSMS side".into(),
        );
        // Closing the CSMS side cleanly: it has already accepted.
        let mut up = WebSocketStream::from_partially_read(
            up_io,
            up_rest,
            Role::Client,
            Some(ws_config(cfg)),
        )
        .await;
        let _ = tokio::time::timeout(cfg.close_grace, up.close(None)).await;
        return;
    }

    let ws = ws_config(cfg);
    let rest = buf[head_len..].to_vec();
    drop(buf);
    let charger = WebSocketStream::from_partially_read(io, rest, Role::Server, Some(ws)).await;
    let upstream =
        WebSocketStream::from_partially_read(up_io, up_rest, Role::Client, Some(ws)).await;
    let peer_tls = peer_tls.unwrap_or_default();
    let (_registration, injections, previous) = shared.registry.register(&conn, &peer.to_string());
    if let Some(old) = previous {
        // Seen in the field when a charger reconnects before its old socket is gone, or when
        // two devices share an identity. Both are relayed; the engine sees one station.
        tap.notice(
            &conn,
            NoticeKind::Conn,
            format!(
                "a second connection for this identity (from {peer}) while the one from {old} is still open: both are relayed, injected calls go to the newer one, and inspection judges them as one station until the older one closes"
            ),
        );
    }
    tap.send(TapEvent {
        at: Timestamp::now(),
        conn: conn.clone(),
        kind: TapKind::Open(Box::new(OpenInfo {
            subprotocol,
            offered: req.offered,
            scheme: if shared.acceptor.is_some() {
                "wss"
            } else {
                "ws"
            },
            tls_version: peer_tls.version,
            client_cert_subject: peer_tls.client_cert_subject,
            basic_auth_user: req.basic_auth_user,
            peer: peer.to_string(),
        })),
    });
    Relay {
        conn: &conn,
        tap,
        grace: cfg.close_grace,
    }
    .run(charger, upstream, injections, shutdown)
    .await;
}
