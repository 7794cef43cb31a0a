//! Forwarding between a charger and the CSMS once both handshakes are done. Each direction
//! reads one message and sends it on before reading the next, so a slow reader slows its
//! writer (backpressure) and nothing is buffered without bound. Every message is tapped for
//! inspection with `try_send` before it is sent on; inspection never holds it back.
//!
//! Text goes on as the same bytes; binary, ping and pong frames go on as they came; a close
//! is passed on with its code. (tungstenite answers a ping itself at once, so a ping's sender
//! also gets the peer's own pong: an extra, unsolicited pong, which RFC 6455 §5.5.3 allows.)

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use tokio::sync::mpsc;

use super::inject::{Injection, Outstanding};
use super::io::Io;
use super::tap::{NoticeKind, Tap, TapEvent, TapKind};
use crate::ocpp::Side;
use crate::time::Timestamp;

type Ws = WebSocketStream<Io>;
type Rx = SplitStream<Ws>;
type Tx = SplitSink<Ws, Message>;

/// Why forwarding stopped.
#[derive(Debug)]
enum Ending {
    /// `side` sent a close frame.
    Closed(Side, Option<CloseFrame>),
    /// `side`'s connection ended without a close frame (or failed).
    Dropped(Side, String),
    /// `side` sent a message over the size limit.
    TooBig(Side),
    /// The proxy is shutting down.
    Shutdown,
}

/// One relayed connection.
pub(crate) struct Relay<'a> {
    pub conn: &'a Arc<str>,
    pub tap: &'a Tap,
    /// How long a closing handshake may take before the sockets are dropped.
    pub grace: Duration,
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
}

impl Relay<'_> {
    fn emit(&self, kind: TapKind) {
        self.tap.send(TapEvent {
            at: Timestamp::now(),
            conn: self.conn.clone(),
            kind,
        });
    }

    /// Relays until either side ends or `shutdown` turns true, then closes both sides.
    /// CALLs arriving on `injections` go to the charger in order with the CSMS's frames;
    /// their answers are taken out of the charger's stream (see [`super::inject`]).
    pub async fn run(
        self,
        charger: Ws,
        upstream: Ws,
        mut injections: mpsc::Receiver<Injection>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let (mut c_tx, mut c_rx) = charger.split();
        let (mut u_tx, mut u_rx) = upstream.split();
        let outstanding = Outstanding::default();
        let ending = {
            let up = self.pump(Side::Charger, &mut c_rx, &mut u_tx, None, &outstanding);
            let down = self.pump(
                Side::Csms,
                &mut u_rx,
                &mut c_tx,
                Some(&mut injections),
                &outstanding,
            );
            tokio::select! {
                e = up => e,
                e = down => e,
                _ = shutdown.wait_for(|s| *s) => Ending::Shutdown,
            }
        };
        // The close event, then the closing handshake on whichever side is still there.
        let (code, by) = match &ending {
            Ending::Closed(side, frame) => (frame.as_ref().map(|f| u16::from(f.code)), Some(*side)),
            Ending::Dropped(side, _) => (None, Some(*side)),
            Ending::TooBig(_) => (Some(1009), None),
            Ending::Shutdown => (Some(1001), None),
        };
        self.emit(TapKind::Close { code, by });
        let deadline = tokio::time::Instant::now() + self.grace;
        use tokio::time::timeout_at as bounded;
        match ending {
            Ending::Closed(Side::Charger, frame) => {
                // tungstenite has queued the charger's close reply; flush it while the
                // CSMS is told.
                let _ = bounded(deadline, async {
                    tokio::join!(c_tx.close(), async {
                        let _ = u_tx.send(Message::Close(frame)).await;
                        drain(&mut u_rx).await;
                    })
                })
                .await;
            }
            Ending::Closed(Side::Csms, frame) => {
                let _ = bounded(deadline, async {
                    tokio::join!(u_tx.close(), async {
                        let _ = c_tx.send(Message::Close(frame)).await;
                        drain(&mut c_rx).await;
                    })
                })
                .await;
            }
            Ending::Dropped(Side::Charger, _) => {
                let _ = bounded(deadline, u_tx.send(close(1001, "charger connection lost"))).await;
                let _ = bounded(deadline, drain(&mut u_rx)).await;
            }
            Ending::Dropped(Side::Csms, why) => {
                self.tap.notice(
                    self.conn,
                    NoticeKind::Upstream,
                    format!("the CSMS connection ended without a close frame ({why}); closing the charger with 1011"),
                );
                let _ = bounded(deadline, c_tx.send(close(1011, "upstream connection lost"))).await;
                let _ = bounded(deadline, drain(&mut c_rx)).await;
            }
            Ending::TooBig(side) => {
                self.tap.notice(
                    self.conn,
                    NoticeKind::Conn,
                    format!("{side} sent a message over the size limit; closed with 1009 (the other side with 1001)"),
                );
                let (to_sender, to_other) =
                    (close(1009, "message too big"), close(1001, "peer closed"));
                let (a, b) = match side {
                    Side::Charger => (c_tx.send(to_sender), u_tx.send(to_other)),
                    Side::Csms => (u_tx.send(to_sender), c_tx.send(to_other)),
                };
                let _ = bounded(deadline, async { tokio::join!(a, b) }).await;
                let _ = bounded(deadline, async {
                    tokio::join!(drain(&mut c_rx), drain(&mut u_rx))
                })
                .await;
            }
            Ending::Shutdown => {
                let _ = bounded(deadline, async {
                    tokio::join!(
                        c_tx.send(close(1001, "proxy shutting down")),
                        u_tx.send(close(1001, "proxy shutting down"))
                    )
                })
                .await;
                let _ = bounded(deadline, async {
                    tokio::join!(drain(&mut c_rx), drain(&mut u_rx))
                })
                .await;
            }
        }
    }

    /// Forwards `from`'s messages until something ends the connection. The CSMS's pump
    /// also sends injected CALLs (between two of the CSMS's messages, never inside one); the
    /// charger's pump keeps back the answers to them.
    async fn pump(
        &self,
        from: Side,
        rx: &mut Rx,
        tx: &mut Tx,
        mut injections: Option<&mut mpsc::Receiver<Injection>>,
        outstanding: &Outstanding,
    ) -> Ending {
        let to = from.other();
        loop {
            let next = match injections.as_deref_mut() {
                Some(inj) => tokio::select! {
                    m = rx.next() => Ok(m),
                    i = inj.recv() => Err(i),
                },
                None => Ok(rx.next().await),
            };
            let next = match next {
                Ok(m) => m,
                Err(Some(inj)) => {
                    if !outstanding.insert(inj.id, inj.reply) {
                        // Bounded by the channel; the caller sees the connection as closed.
                        continue;
                    }
                    let text = Utf8Bytes::from(inj.text);
                    self.emit(TapKind::Injected {
                        from,
                        text: text.clone(),
                    });
                    if let Err(e) = tx.send(Message::Text(text)).await {
                        return Ending::Dropped(to, e.to_string());
                    }
                    continue;
                }
                Err(None) => {
                    // Every handle is gone: nothing more will be injected.
                    injections = None;
                    continue;
                }
            };
            let msg = match next {
                Some(Ok(m)) => m,
                Some(Err(WsError::Capacity(_))) => return Ending::TooBig(from),
                Some(Err(e)) => return Ending::Dropped(from, e.to_string()),
                None => return Ending::Dropped(from, "connection closed".into()),
            };
            match &msg {
                Message::Text(t) if from == Side::Charger => {
                    if let Some(answer) = outstanding.take_answer(t) {
                        // Tapped as injected, answered, and not forwarded to the CSMS.
                        self.emit(TapKind::Injected {
                            from,
                            text: t.clone(),
                        });
                        answer.deliver();
                        continue;
                    }
                    self.emit(TapKind::Frame {
                        from,
                        text: t.clone(),
                    });
                }
                Message::Text(t) => self.emit(TapKind::Frame {
                    from,
                    text: t.clone(),
                }),
                Message::Binary(b) => self.emit(TapKind::Binary { from, len: b.len() }),
                Message::Close(frame) => return Ending::Closed(from, frame.clone()),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
            if let Err(e) = tx.send(msg).await {
                return Ending::Dropped(to, e.to_string());
            }
        }
    }
}

/// Reads until the peer's side of the closing handshake is done.
async fn drain(rx: &mut Rx) {
    // Bounded by the caller's deadline; each message is dropped unforwarded (the other side
    // is already closed).
    while let Some(Ok(_)) = rx.next().await {}
}
