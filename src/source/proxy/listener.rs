//! One accepted charger, from TCP to relay: TLS accept (with what the handshake says about
//! the charger), the WebSocket request read and checked, the CSMS connected BEFORE the
//! charger is answered (so its subprotocol pick or refusal can be mirrored), then the relay.
//! Every step before the relay has a timeout; every refusal is a clean HTTP answer and a
//! notice. It judges no OCPP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::TcpStream;
use tokio::sync::watch;

use super::codec::{Msg, Reader, Role, Writer};
use super::handshake::{self, HeadError, Refusal, UpstreamAnswer};
use super::inject::Registry;
use super::io::Io;
use super::relay::Relay;
use super::tap::{NoticeKind, OpenInfo, Tap, TapEvent, TapKind};
use super::upstream::{Upstream, UpstreamError};
use super::{ProxyConfig, proxy_protocol, tls};
use crate::time::Timestamp;

/// What every connection task shares.
pub(crate) struct Shared {
    pub upstream: Upstream,
    pub acceptor: Option<tokio_rustls::TlsAcceptor>,
    pub config: ProxyConfig,
    /// The live relays, for injection.
    pub registry: Arc<Registry>,
    /// Rate limit of the notices about connections that never became relays.
    pub noise: Noise,
    /// Message bytes in flight across every connection.
    pub budget: Arc<super::io::Budget>,
}

/// Connection-noise lines shown per second at most; the rest are counted and summed up once
/// a second by the proxy's loop (a port scan or a reconnect storm must not flood stderr).
const NOISE_PER_SECOND: u64 = 5;

/// A per-second allowance for noise notices.
#[derive(Default)]
pub(crate) struct Noise {
    second: AtomicU64,
    shown: AtomicU64,
    held: AtomicU64,
}

impl Noise {
    /// Whether one more noise notice may be shown now (else it is counted as held).
    pub fn admit(&self) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if self.second.swap(now, Ordering::Relaxed) != now {
            self.shown.store(0, Ordering::Relaxed);
        }
        if self.shown.fetch_add(1, Ordering::Relaxed) < NOISE_PER_SECOND {
            true
        } else {
            self.held.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// The notices held back since the last call.
    pub fn take_held(&self) -> u64 {
        self.held.swap(0, Ordering::Relaxed)
    }
}

/// The charger's address: from the PROXY protocol header with `--proxy-protocol` (the TCP
/// peer's for the balancer's own LOCAL connections), else the TCP peer's. `None` when the
/// connection is refused: no valid header with `--proxy-protocol`, or one without it (on a
/// TLS listener; a plain listener sees it in the handshake). Bounded by the handshake time.
async fn client_address(
    tcp: &mut TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    tap: &Tap,
) -> Option<SocketAddr> {
    let cfg = &shared.config;
    let limit = cfg.handshake_timeout;
    let refuse = |text: String| {
        if shared.noise.admit() {
            tap.notice(&Arc::from(peer.to_string()), NoticeKind::Refused, text);
        }
    };
    if cfg.proxy_protocol {
        return match tokio::time::timeout(limit, proxy_protocol::read_header(tcp)).await {
            Ok(Ok(h)) => Some(h.source().unwrap_or(peer)),
            Ok(Err(e)) => {
                refuse(format!("--proxy-protocol: {e}; closed"));
                None
            }
            Err(_) => {
                refuse(format!(
                    "--proxy-protocol: no PROXY header within {} s; closed",
                    limit.as_secs()
                ));
                None
            }
        };
    }
    if shared.acceptor.is_some() {
        // A TLS listener would only see "not a TLS handshake": look at the first bytes.
        let mut first = [0u8; 12];
        if let Ok(Ok(n)) = tokio::time::timeout(limit, tcp.peek(&mut first)).await
            && proxy_protocol::looks_like_header(&first[..n])
        {
            refuse(
                "the connection starts with a PROXY protocol header, but --proxy-protocol is not on: closed"
                    .into(),
            );
            return None;
        }
    }
    Some(peer)
}

/// The shutdown signal of one connection: the proxy's, delayed by a share of `drain` picked
/// by the identity (spread evenly over the stations), so a draining proxy closes its
/// connections gradually. Without a drain, the proxy's own.
fn staggered(
    mut shutdown: watch::Receiver<bool>,
    drain: std::time::Duration,
    conn: &str,
) -> watch::Receiver<bool> {
    if drain.is_zero() {
        return shutdown;
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    conn.hash(&mut h);
    let share = u32::try_from(h.finish() % 1000).unwrap_or(0);
    let delay = drain.mul_f64(f64::from(share) / 1000.0);
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        // Ends with the connection (its receiver dropped) or after the delayed signal.
        let fired = async move {
            // `changed` until true; an error (the proxy's sender gone) also means stop.
            while !*shutdown.borrow_and_update() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
            tokio::time::sleep(delay).await;
        };
        tokio::select! {
            () = tx.closed() => {}
            () = fired => { let _ = tx.send(true); }
        }
    });
    rx
}

/// Writes a refusal to the charger and counts it.
async fn refuse(io: &mut Io, r: &Refusal, limit: std::time::Duration, cfg: &ProxyConfig) {
    if let Some(m) = &cfg.metrics {
        m.refused(r.status);
    }
    handshake::write_refusal(io, r, limit).await;
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
    super::keepalive(&tcp, cfg.keepalive);
    let noise = &shared.noise;
    let tap = &tap;
    let limit = cfg.handshake_timeout;
    let mut tcp = tcp;
    let Some(peer) = client_address(&mut tcp, peer, &shared, tap).await else {
        return;
    };
    // Until the request names the station, notices name the peer address.
    let peer_name: Arc<str> = Arc::from(peer.to_string());

    let (mut io, peer_tls) = match &shared.acceptor {
        Some(acceptor) => match tokio::time::timeout(limit, acceptor.accept(tcp)).await {
            Ok(Ok(s)) => {
                let info = tls::peer_tls(s.get_ref().1);
                (Io::Server(Box::new(s)), Some(info))
            }
            Ok(Err(e)) => {
                if let Some(m) = &cfg.metrics {
                    m.tls_failed(tls::accept_failure_reason(&e));
                }
                if noise.admit() {
                    tap.notice(
                        &peer_name,
                        NoticeKind::Refused,
                        format!("TLS handshake failed: {}", tls::describe_accept_error(&e)),
                    );
                }
                return;
            }
            Err(_) => {
                if let Some(m) = &cfg.metrics {
                    m.tls_failed("timeout");
                }
                if noise.admit() {
                    tap.notice(
                        &peer_name,
                        NoticeKind::Refused,
                        format!("no TLS handshake within {} s", limit.as_secs()),
                    );
                }
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
            if noise.admit() {
                tap.notice(&peer_name, NoticeKind::Refused, r.detail.clone());
            }
            refuse(&mut io, &r, limit, cfg).await;
            return;
        }
        Ok(Err(e)) => {
            if noise.admit() {
                tap.notice(
                    &peer_name,
                    NoticeKind::Refused,
                    format!("handshake not read: {e}"),
                );
            }
            return;
        }
        Err(_) => {
            let r = Refusal::new(
                408,
                "Request Timeout",
                format!("no complete handshake within {} s", limit.as_secs()),
            );
            if noise.admit() {
                tap.notice(&peer_name, NoticeKind::Refused, r.detail.clone());
            }
            refuse(&mut io, &r, limit, cfg).await;
            return;
        }
    };
    if proxy_protocol::looks_like_header(&buf) {
        // Only reached without --proxy-protocol (with it, the header was read already).
        if noise.admit() {
            tap.notice(
                &peer_name,
                NoticeKind::Refused,
                "the connection starts with a PROXY protocol header, but --proxy-protocol is not on: closed".into(),
            );
        }
        return;
    }
    let mut req = match handshake::parse_request(&buf[..head_len]) {
        Ok(r) => r,
        Err(r) => {
            if noise.admit() {
                tap.notice(
                    &peer_name,
                    NoticeKind::Refused,
                    format!("HTTP {}: {}", r.status, r.detail),
                );
            }
            refuse(&mut io, &r, limit, cfg).await;
            return;
        }
    };
    let conn: Arc<str> = Arc::from(req.identity.as_str());
    if let Some(name) = &cfg.forward_client_cert {
        // Only the proxy speaks for the certificate: a charger's own header of that name
        // is dropped, the verified one (if any) added.
        req.forward.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        if let Some(t) = &peer_tls
            && let (Some(der), Some(subject)) = (&t.client_cert_der, &t.client_cert_subject)
        {
            let value = handshake::client_cert_header(&tls::pem(der), subject);
            req.forward.push((name.clone(), value));
        }
    }

    let connecting = std::time::Instant::now();
    let (up_io, up_rest, answer) = match shared.upstream.open(&req, cfg.connect_timeout).await {
        Ok(x) => {
            if let Some(m) = &cfg.metrics {
                m.upstream_connected(connecting.elapsed());
            }
            x
        }
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
            refuse(&mut io, &r, limit, cfg).await;
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
            refuse(&mut io, &r, limit, cfg).await;
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
        let mut up = Writer::new(up_io, Role::Client);
        let _ = tokio::time::timeout(cfg.close_grace, async {
            if up.send(&Msg::Close(None)).await.is_ok() {
                let _ = up.shutdown().await;
            }
        })
        .await;
        return;
    }

    // The relay's own framing from here on (see [`super::codec`]): each side's reader keeps
    // one fixed buffer and pays large messages from the in-flight budget.
    let socket = |io: Io, role: Role, read_ahead: &[u8]| {
        let (r, w) = tokio::io::split(io);
        (
            Reader::new(
                r,
                role,
                read_ahead,
                cfg.read_buffer,
                cfg.max_message,
                &shared.budget,
            ),
            Writer::new(w, role),
        )
    };
    let charger = socket(io, Role::Server, &buf[head_len..]);
    drop(buf);
    let upstream = socket(up_io, Role::Client, &up_rest);
    drop(up_rest);
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
            client_cert_san: peer_tls.client_cert_san,
            basic_auth_user: req.basic_auth_user,
            peer: peer.to_string(),
        })),
    });
    let shutdown = staggered(shutdown, cfg.drain, &conn);
    Relay {
        conn: &conn,
        tap,
        grace: cfg.close_grace,
        write_timeout: cfg.write_timeout,
        idle_timeout: cfg.idle_timeout,
        metrics: cfg.metrics.as_deref(),
    }
    .run(charger, upstream, injections, shutdown)
    .await;
}
