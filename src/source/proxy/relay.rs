//! Forwarding between a charger and the CSMS once both handshakes are done, over the proxy's
//! own framing ([`super::codec`]). Each direction reads one message and sends it on before
//! reading the next, so a slow reader slows its writer (backpressure) and nothing is buffered
//! without bound. Every message is tapped for inspection with `try_send` before it is sent
//! on; inspection never holds it back.
//!
//! Text goes on as the same bytes; binary, ping and pong frames go on as they came; a close
//! is passed on with its code, and echoed to its sender (the closing handshake). The proxy
//! answers no ping itself: the far peer's pong is passed back, so a ping measures the whole
//! path and no pong is added (a peer that answers no pings is seen as such through the proxy
//! too).
//!
//! A peer that breaks RFC 6455 fails its connection as §7.1.7 says: it gets a close with 1002
//! (protocol error), 1007 (invalid UTF-8) or 1009 (too big), the other side gets a close with
//! the same code, and the close is tapped as made by the proxy (`by` none) with the fault.
//! Every write has a time limit (`write_timeout`) and the connection one for silence
//! (`idle_timeout`): a peer that stops reading, or a connection nobody uses, frees the relay,
//! and a blocked direction cannot keep the other side's close from being read for longer.
//!
//! A message's payload beyond its first 16 KiB is paid from the proxy's global in-flight
//! budget ([`super::io::Budget`]) before it is read, and given back once it is forwarded
//! (the message dropped); a peer whose frame waited `write_timeout` for room gets both sides
//! closed with 1013 (try again later), and the recording a gap record for the message nobody
//! received.
//!
//! With `--admin`, each text or binary frame forwarded is timed for the forward-latency
//! histogram: from the whole message read (`rx.next()` returned it) to its write to the other
//! peer completed (sent and flushed), by sender. One clock read at each end and an atomic
//! observe, after the write: the measurement never holds a frame back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{ReadHalf, WriteHalf};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use tokio::sync::mpsc;

use super::codec::{CloseFrame, Msg, ReadError, Reader, Received, Writer};
use super::inject::{Injection, Outstanding};
use super::io::Io;
use super::tap::{NoticeKind, Tap, TapEvent, TapKind};
use crate::ocpp::Side;
use crate::time::Timestamp;

pub(crate) type Rx = Reader<ReadHalf<Io>>;
pub(crate) type Tx = Writer<WriteHalf<Io>>;

/// Why forwarding stopped.
#[derive(Debug)]
enum Ending {
    /// `side` sent a close frame.
    Closed(Side, Option<CloseFrame>),
    /// `side`'s connection ended without a close frame (or failed).
    Dropped(Side, String),
    /// `side` broke RFC 6455: fail the connection with `code` (1002, 1007, 1009).
    Fault(Side, u16, &'static str),
    /// `side` took no data for `write_timeout`: it stopped reading.
    Stuck(Side),
    /// `side`'s message waited for the in-flight budget longer than the wait limit; it had
    /// sent this many bytes of it.
    Starved(Side, u64),
    /// Nothing in either direction for `idle_timeout`.
    Idle,
    /// The proxy is shutting down.
    Shutdown,
}

/// When the connection last carried a message (either way), for the idle timeout.
struct Activity {
    start: tokio::time::Instant,
    /// Milliseconds after `start`.
    last: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: tokio::time::Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.fetch_max(ms, Ordering::Relaxed);
    }
}

/// One relayed connection.
pub(crate) struct Relay<'a> {
    pub conn: &'a Arc<str>,
    pub tap: &'a Tap,
    /// How long a closing handshake may take before the sockets are dropped.
    pub grace: Duration,
    /// How long one message may take to be written to a peer.
    pub write_timeout: Duration,
    /// How long the connection may carry nothing either way (zero: no limit).
    pub idle_timeout: Duration,
    /// The admin endpoint's metrics (`--admin`): forwarded frames are timed into them.
    pub metrics: Option<&'a crate::admin::Metrics>,
}

fn close(code: u16, reason: &'static str) -> Msg {
    Msg::Close(Some(CloseFrame::new(code, reason)))
}

impl Relay<'_> {
    fn emit(&self, kind: TapKind) {
        self.tap.send(TapEvent {
            at: Timestamp::now(),
            conn: self.conn.clone(),
            kind,
        });
    }

    /// Taps a text frame, noting whether it came in fragments.
    fn emit_frame(&self, from: Side, text: &Utf8Bytes, fragmented: bool) {
        let ev = TapEvent {
            at: Timestamp::now(),
            conn: self.conn.clone(),
            kind: TapKind::Frame {
                from,
                text: text.clone(),
            },
        };
        if fragmented {
            self.tap.send_fragmented(ev);
        } else {
            self.tap.send(ev);
        }
    }

    /// Relays until either side ends or `shutdown` turns true, then closes both sides.
    /// CALLs arriving on `injections` go to the charger in order with the CSMS's frames;
    /// their answers are taken out of the charger's stream (see [`super::inject`]).
    pub async fn run(
        self,
        (mut c_rx, mut c_tx): (Rx, Tx),
        (mut u_rx, mut u_tx): (Rx, Tx),
        mut injections: mpsc::Receiver<Injection>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let outstanding = Outstanding::default();
        let activity = Activity::new();
        let ending = {
            let up = self.pump(
                Side::Charger,
                &mut c_rx,
                &mut u_tx,
                None,
                &outstanding,
                &activity,
            );
            let down = self.pump(
                Side::Csms,
                &mut u_rx,
                &mut c_tx,
                Some(&mut injections),
                &outstanding,
                &activity,
            );
            let idle = self.idle(&activity);
            tokio::select! {
                e = up => e,
                e = down => e,
                e = idle => e,
                _ = shutdown.wait_for(|s| *s) => Ending::Shutdown,
            }
        };
        // The close event, then the closing handshake on whichever side is still there.
        let (code, by, fault) = match &ending {
            Ending::Closed(side, frame) => (frame.as_ref().map(|f| f.code), Some(*side), None),
            Ending::Dropped(side, _) => (None, Some(*side), None),
            Ending::Fault(side, code, what) => (Some(*code), None, Some((*side, *what))),
            Ending::Starved(..) => (Some(1013), None, None),
            Ending::Stuck(_) | Ending::Idle | Ending::Shutdown => (Some(1001), None, None),
        };
        if let Ending::Starved(..) = ending {
            // The message given up was sent by the peer and reached no one: a gap.
            self.emit(TapKind::Gap {
                frames: Some(1),
                reason: "in-flight budget full",
            });
        }
        self.tap.send_noted(
            TapEvent {
                at: Timestamp::now(),
                conn: self.conn.clone(),
                kind: TapKind::Close { code, by },
            },
            fault,
        );
        let deadline = tokio::time::Instant::now() + self.grace;
        use tokio::time::timeout_at as bounded;
        match ending {
            Ending::Closed(side, frame) => {
                // The closer's close is echoed back to it (its closing handshake) while the
                // other side is told.
                let (closer, other, other_rx) = match side {
                    Side::Charger => (&mut c_tx, &mut u_tx, &mut u_rx),
                    Side::Csms => (&mut u_tx, &mut c_tx, &mut c_rx),
                };
                let echo = Msg::Close(frame.clone());
                let _ = bounded(deadline, async {
                    tokio::join!(close_with(closer, &echo), async {
                        let _ = other.send(&Msg::Close(frame)).await;
                        drain(other_rx).await;
                    })
                })
                .await;
            }
            Ending::Dropped(Side::Charger, _) => {
                let _ = bounded(deadline, u_tx.send(&close(1001, "charger connection lost"))).await;
                let _ = bounded(deadline, drain(&mut u_rx)).await;
            }
            Ending::Dropped(Side::Csms, why) => {
                self.tap.notice(
                    self.conn,
                    NoticeKind::Upstream,
                    format!("the CSMS connection ended without a close frame ({why}); closing the charger with 1011"),
                );
                let _ = bounded(
                    deadline,
                    c_tx.send(&close(1011, "upstream connection lost")),
                )
                .await;
                let _ = bounded(deadline, drain(&mut c_rx)).await;
            }
            Ending::Fault(side, code, what) => {
                self.tap.notice(
                    self.conn,
                    NoticeKind::Conn,
                    format!("{side} sent {what}; failed the connection with {code} both ways (RFC 6455 §7.1.7)"),
                );
                let (to_sender, to_other) = (
                    close(code, "protocol error"),
                    close(
                        code,
                        match side {
                            Side::Charger => "charger protocol error",
                            Side::Csms => "CSMS protocol error",
                        },
                    ),
                );
                let (to_charger, to_csms) = match side {
                    Side::Charger => (to_sender, to_other),
                    Side::Csms => (to_other, to_sender),
                };
                // The faulty side's reader reads nothing more; the other's closing handshake
                // is read out.
                let _ = bounded(deadline, async {
                    tokio::join!(
                        close_with(&mut c_tx, &to_charger),
                        close_with(&mut u_tx, &to_csms),
                        drain(&mut c_rx),
                        drain(&mut u_rx)
                    )
                })
                .await;
            }
            Ending::Stuck(side) => {
                self.tap.notice(
                    self.conn,
                    NoticeKind::Conn,
                    format!(
                        "{side} took no data for {} s (it stopped reading); closing both sides with 1001",
                        self.write_timeout.as_secs_f64()
                    ),
                );
                // The stuck side gets its close only if it reads again within the grace.
                let _ = bounded(
                    deadline,
                    send_both(&mut c_tx, &mut u_tx, &close(1001, "peer not reading")),
                )
                .await;
            }
            Ending::Starved(side, held) => {
                let budget = c_rx.budget().max();
                self.tap.notice(
                    self.conn,
                    NoticeKind::Conn,
                    format!(
                        "a message from the {side} ({held} bytes read so far) waited {} s for room in the in-flight budget ({budget} bytes, held by other connections' messages); it was not forwarded (a gap record), and both sides are closed with 1013 (try again later)",
                        self.write_timeout.as_secs_f64()
                    ),
                );
                let busy = close(1013, "proxy busy, try again later");
                close_both(
                    deadline,
                    (&mut c_rx, &mut c_tx),
                    (&mut u_rx, &mut u_tx),
                    &busy,
                )
                .await;
            }
            Ending::Idle => {
                self.tap.notice(
                    self.conn,
                    NoticeKind::Conn,
                    format!(
                        "nothing either way for {} s; closing both sides with 1001",
                        self.idle_timeout.as_secs_f64()
                    ),
                );
                let idle = close(1001, "idle timeout");
                close_both(
                    deadline,
                    (&mut c_rx, &mut c_tx),
                    (&mut u_rx, &mut u_tx),
                    &idle,
                )
                .await;
            }
            Ending::Shutdown => {
                let bye = close(1001, "proxy shutting down");
                close_both(
                    deadline,
                    (&mut c_rx, &mut c_tx),
                    (&mut u_rx, &mut u_tx),
                    &bye,
                )
                .await;
            }
        }
    }

    /// Forwards `from`'s messages until something ends the connection. The CSMS's pump
    /// also sends injected CALLs (between two of the CSMS's messages, never inside one); the
    /// charger's pump keeps back the answers to them.
    /// Ends when the connection has carried nothing for `idle_timeout` (never if zero).
    async fn idle(&self, activity: &Activity) -> Ending {
        if self.idle_timeout.is_zero() {
            return std::future::pending().await;
        }
        loop {
            let seen = Duration::from_millis(activity.last.load(Ordering::Relaxed));
            let quiet_until = activity.start + seen + self.idle_timeout;
            if tokio::time::Instant::now() >= quiet_until {
                return Ending::Idle;
            }
            tokio::time::sleep_until(quiet_until).await;
        }
    }

    /// Sends `msg` within the write timeout.
    async fn send(&self, tx: &mut Tx, msg: &Msg, to: Side) -> Result<(), Ending> {
        match tokio::time::timeout(self.write_timeout, tx.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Ending::Dropped(to, e.to_string())),
            Err(_) => Err(Ending::Stuck(to)),
        }
    }

    async fn pump(
        &self,
        from: Side,
        rx: &mut Rx,
        tx: &mut Tx,
        mut injections: Option<&mut mpsc::Receiver<Injection>>,
        outstanding: &Outstanding,
        activity: &Activity,
    ) -> Ending {
        let to = from.other();
        let touch = || activity.touch();
        let forward = self.metrics.map(|m| m.forward_latency(from));
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
                    if let Err(ending) = self.send(tx, &Msg::Text(text), to).await {
                        return ending;
                    }
                    continue;
                }
                Err(None) => {
                    // Every handle is gone: nothing more will be injected.
                    injections = None;
                    continue;
                }
            };
            // What the message holds of the in-flight budget goes back when `received` is
            // dropped: once it is forwarded (or dropped), before the next is read.
            let received: Received = match next {
                Ok(r) => r,
                Err(ReadError::Starved(read)) => return Ending::Starved(from, read),
                Err(ReadError::Fault(f)) => return Ending::Fault(from, f.code, f.what),
                Err(e) => return Ending::Dropped(from, e.to_string()),
            };
            let msg = &received.msg;
            touch();
            // The forward latency's start: the whole message is read.
            let read_at = match msg {
                Msg::Text(_) | Msg::Binary(_) => forward.map(|h| (h, std::time::Instant::now())),
                _ => None,
            };
            match msg {
                Msg::Text(t) if from == Side::Charger => {
                    if let Some(answer) = outstanding.take_answer(t) {
                        // Tapped as injected, answered, and not forwarded to the CSMS.
                        self.emit(TapKind::Injected {
                            from,
                            text: t.clone(),
                        });
                        answer.deliver();
                        continue;
                    }
                    self.emit_frame(from, t, received.fragmented);
                }
                Msg::Text(t) => self.emit_frame(from, t, received.fragmented),
                Msg::Binary(b) => self.emit(TapKind::Binary { from, len: b.len() }),
                Msg::Close(frame) => return Ending::Closed(from, frame.clone()),
                // Forwarded as they came: the far peer answers (the proxy answers nothing
                // itself).
                Msg::Ping(_) | Msg::Pong(_) => {}
            }
            if let Err(ending) = self.send(tx, msg, to).await {
                return ending;
            }
            drop(received);
            // Observed once the write is done, so the frame was never held for it.
            if let Some((h, at)) = read_at {
                h.observe(at.elapsed());
            }
        }
    }
}

/// Sends `msg` to both sides at once.
async fn send_both(c_tx: &mut Tx, u_tx: &mut Tx, msg: &Msg) {
    let _ = tokio::join!(c_tx.send(msg), u_tx.send(msg));
}

/// Sends `close` to both sides, then reads out both closing handshakes, each step bounded by
/// `deadline`.
async fn close_both(
    deadline: tokio::time::Instant,
    (c_rx, c_tx): (&mut Rx, &mut Tx),
    (u_rx, u_tx): (&mut Rx, &mut Tx),
    close: &Msg,
) {
    use tokio::time::timeout_at as bounded;
    let _ = bounded(deadline, send_both(c_tx, u_tx, close)).await;
    let _ = bounded(deadline, async { tokio::join!(drain(c_rx), drain(u_rx)) }).await;
}

/// Sends `close` and shuts the socket's writing down.
async fn close_with(tx: &mut Tx, close: &Msg) {
    if tx.send(close).await.is_ok() {
        let _ = tx.shutdown().await;
    }
}

/// Reads until the peer's side of the closing handshake is done (its close, an error or the
/// end of its stream).
async fn drain(rx: &mut Rx) {
    // Bounded by the caller's deadline; each message is dropped unforwarded (the other side
    // is already closed).
    while let Ok(r) = rx.next().await {
        if matches!(r.msg, Msg::Close(_)) {
            break;
        }
    }
}
