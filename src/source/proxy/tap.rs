//! The tap: what the forwarding path hands to inspection. A bounded channel, bounded by
//! count AND by bytes, written with `try_send` only: when inspection lags, the event is
//! dropped and counted, and forwarding goes on. It must never make a relay wait.
//!
//! Frames carry the very `Utf8Bytes` that are forwarded (a reference count, not a copy).
//!
//! With a recorder ([`Tap::recording`]), every event is first written to the recording
//! (synchronously, whole, before the relay forwards the frame: the evidence path, which is
//! lossless), then handed to inspection with its record number; only inspection may lag.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::engine::{Event, EventKind, Origin};
use crate::ocpp::Side;
use crate::sink::recorder::{Extra, SharedRecorder};
use crate::source::event::Handshake;
use crate::time::Timestamp;

/// One tapped happening on a connection, stamped when it arrived at the proxy.
#[derive(Debug)]
pub struct TapEvent {
    pub at: Timestamp,
    /// The station identity.
    pub conn: Arc<str>,
    pub kind: TapKind,
}

#[derive(Debug)]
pub enum TapKind {
    /// The relay is up (both handshakes done).
    Open(Box<OpenInfo>),
    /// A text frame, exactly as forwarded.
    Frame { from: Side, text: Utf8Bytes },
    /// A frame of an injected exchange (see [`super::inject`]): a CALL the proxy sent to the
    /// charger as if from the CSMS (`from` is `Csms`), or the charger's answer to one, which
    /// was not forwarded.
    Injected { from: Side, text: Utf8Bytes },
    /// A binary frame (forwarded too); its length.
    Binary { from: Side, len: usize },
    /// The connection ended; `by: None` when the proxy closed it (shutdown, oversized frame).
    Close { code: Option<u16>, by: Option<Side> },
    /// Frames are missing here: `frames` a peer sent that neither the other peer nor the
    /// recording got (a message the proxy gave up reading when its in-flight budget stayed
    /// full).
    Gap {
        frames: Option<u64>,
        reason: &'static str,
    },
    /// Not an engine event: something for the operator (refused handshake, upstream down).
    Notice(Notice),
}

/// What the handshakes said.
#[derive(Debug, Clone, Default)]
pub struct OpenInfo {
    /// The CSMS's pick, returned to the charger.
    pub subprotocol: Option<String>,
    /// What the charger offered.
    pub offered: Option<String>,
    /// `ws` or `wss` (the charger's side).
    pub scheme: &'static str,
    pub tls_version: Option<&'static str>,
    pub client_cert_subject: Option<String>,
    pub client_cert_san: Option<String>,
    pub basic_auth_user: Option<String>,
    /// The charger's address.
    pub peer: String,
}

impl OpenInfo {
    /// The engine's view of it (the one handshake model, borrowed).
    pub fn handshake(&self) -> Handshake<'_> {
        Handshake {
            subprotocol: self.subprotocol.as_deref(),
            offered_subprotocols: self.offered.as_deref(),
            scheme: Some(self.scheme),
            tls_version: self.tls_version,
            client_cert_subject: self.client_cert_subject.as_deref(),
            client_cert_san: self.client_cert_san.as_deref(),
            basic_auth_user: self.basic_auth_user.as_deref(),
        }
    }
}

pub use crate::source::event::{Notice, NoticeKind};

/// Bounds of the tap.
#[derive(Debug, Clone, Copy)]
pub struct TapLimits {
    /// Events in flight at most.
    pub events: usize,
    /// Payload bytes in flight at most.
    pub bytes: usize,
}

impl Default for TapLimits {
    fn default() -> Self {
        TapLimits {
            events: 65_536,
            bytes: 64 << 20,
        }
    }
}

struct Shared {
    bytes: AtomicUsize,
    max_bytes: usize,
    dropped: AtomicU64,
}

/// How [`TapReceiver::recv_batch`] waits: naps of `period` while events keep coming, parked
/// after `idle_naps` naps found nothing. A zero period parks at once (a wake-up per event).
#[derive(Debug, Clone)]
pub struct Nap {
    pub period: std::time::Duration,
    pub idle_naps: u32,
    empty: u32,
}

impl Nap {
    pub fn new(period: std::time::Duration, idle_naps: u32) -> Self {
        Nap {
            period,
            idle_naps,
            empty: 0,
        }
    }
}

/// The sending end, cloned into every connection.
#[derive(Clone)]
pub struct Tap {
    /// Each event with its record number in the recording (0: not recorded).
    tx: mpsc::Sender<(u64, TapEvent)>,
    shared: Arc<Shared>,
    recorder: Option<Arc<SharedRecorder>>,
}

/// The receiving end, owned by the inspection consumer.
pub struct TapReceiver {
    rx: mpsc::Receiver<(u64, TapEvent)>,
    shared: Arc<Shared>,
}

impl TapEvent {
    /// The engine's view of this event, as line `line` (`None` for notices).
    pub fn event(&self, line: u64) -> Option<Event<'_>> {
        let kind = match &self.kind {
            TapKind::Open(o) => EventKind::Open(o.handshake()),
            TapKind::Frame { from, text } => EventKind::Frame {
                from: *from,
                text: text.as_str(),
                origin: Origin::Peer,
            },
            TapKind::Injected { from, text } => EventKind::Frame {
                from: *from,
                text: text.as_str(),
                origin: Origin::Inspector,
            },
            TapKind::Binary { from, len } => EventKind::Binary {
                from: *from,
                len: *len,
            },
            TapKind::Close { code, by } => EventKind::Close {
                code: *code,
                by: *by,
            },
            TapKind::Gap { frames, reason } => EventKind::Gap {
                frames: *frames,
                reason: Some(reason),
            },
            TapKind::Notice(_) => return None,
        };
        Some(Event {
            at: self.at,
            conn: &self.conn,
            line,
            kind,
        })
    }
}

/// A new tap.
pub fn tap(limits: TapLimits) -> (Tap, TapReceiver) {
    let (tx, rx) = mpsc::channel(limits.events.max(1));
    let shared = Arc::new(Shared {
        bytes: AtomicUsize::new(0),
        max_bytes: limits.bytes,
        dropped: AtomicU64::new(0),
    });
    (
        Tap {
            tx,
            shared: shared.clone(),
            recorder: None,
        },
        TapReceiver { rx, shared },
    )
}

/// What an event costs in the byte budget.
fn weight(ev: &TapEvent) -> usize {
    64 + match &ev.kind {
        TapKind::Frame { text, .. } | TapKind::Injected { text, .. } => text.len(),
        TapKind::Notice(n) => n.text.len(),
        _ => 0,
    }
}

impl Tap {
    /// This tap, and every clone made of it from now on, records each event (but notices)
    /// to `recorder` before handing it to inspection.
    pub fn recording(mut self, recorder: Arc<SharedRecorder>) -> Tap {
        self.recorder = Some(recorder);
        self
    }

    /// Records the event (when recording; synchronously: the caller forwards after this
    /// returns), then hands it to inspection without waiting; `false` if inspection did not
    /// get it.
    pub fn send(&self, ev: TapEvent) -> bool {
        self.send_noted(ev, None)
    }

    /// [`Tap::send`] for a close the proxy made because `fault.0` broke RFC 6455 by
    /// `fault.1`: the recording notes it on the close record.
    pub fn send_noted(&self, ev: TapEvent, fault: Option<(Side, &str)>) -> bool {
        self.send_extra(ev, fault, false)
    }

    /// [`Tap::send`] for a frame that arrived in WebSocket fragments: the recording says so.
    pub fn send_fragmented(&self, ev: TapEvent) -> bool {
        self.send_extra(ev, None, true)
    }

    fn send_extra(&self, ev: TapEvent, fault: Option<(Side, &str)>, fragmented: bool) -> bool {
        let Some(recorder) = &self.recorder else {
            return self.hand_on(0, ev);
        };
        let Some(event) = ev.event(0) else {
            return self.hand_on(0, ev);
        };
        let extra = Extra {
            injected: matches!(ev.kind, TapKind::Injected { .. }),
            fault,
            peer: match &ev.kind {
                TapKind::Open(o) if !o.peer.is_empty() => Some(o.peer.as_str()),
                _ => None,
            },
            fragmented,
        };
        // Under the recorder's lock: inspection gets events in the file's order.
        let Some(mut held) = recorder.hold() else {
            return self.hand_on(0, ev);
        };
        let line = held.write(&event, extra).unwrap_or(0);
        let handed = self.hand_on(line, ev);
        drop(held);
        handed
    }

    fn hand_on(&self, line: u64, ev: TapEvent) -> bool {
        let w = weight(&ev);
        let before = self.shared.bytes.fetch_add(w, Ordering::Relaxed);
        if before + w > self.shared.max_bytes {
            self.shared.bytes.fetch_sub(w, Ordering::Relaxed);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if self.tx.try_send((line, ev)).is_err() {
            self.shared.bytes.fetch_sub(w, Ordering::Relaxed);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// A notice for the operator.
    pub fn notice(&self, conn: &Arc<str>, kind: NoticeKind, text: String) {
        self.send(TapEvent {
            at: Timestamp::now(),
            conn: conn.clone(),
            kind: TapKind::Notice(Notice { kind, text }),
        });
    }

    /// Events dropped so far because inspection lagged.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Payload bytes waiting for inspection now (the byte budget in use).
    pub fn bytes_in_flight(&self) -> usize {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// The byte budget.
    pub fn bytes_limit(&self) -> usize {
        self.shared.max_bytes
    }
}

impl TapReceiver {
    /// The next event, blocking the calling (non-async) thread; `None` once every [`Tap`]
    /// is gone and the channel is drained.
    pub fn blocking_recv(&mut self) -> Option<TapEvent> {
        self.blocking_recv_numbered().map(|(_, ev)| ev)
    }

    /// The next event and its record number in the recording (0: not recorded).
    pub fn blocking_recv_numbered(&mut self) -> Option<(u64, TapEvent)> {
        let (line, ev) = self.rx.blocking_recv()?;
        self.shared.bytes.fetch_sub(weight(&ev), Ordering::Relaxed);
        Some((line, ev))
    }

    /// Moves the events waiting into `buf` (at most `limit`), waiting for at least one the
    /// way [`Nap`] says; `false` once every [`Tap`] is gone and the channel is drained.
    ///
    /// Under load this never parks: it naps between batches, so the relays' `try_send` finds
    /// no waiting thread to wake. A wake-up per event costs each relay a futex call and, on a
    /// busy machine, lets the woken inspection thread preempt the relay between reading a
    /// frame and forwarding it. After `nap.idle_naps` empty naps it parks until the next
    /// event, so an idle proxy does not keep waking.
    pub fn recv_batch(&mut self, buf: &mut Vec<TapEvent>, limit: usize, nap: &mut Nap) -> bool {
        let mut numbered = Vec::with_capacity(buf.capacity().min(limit));
        let more = self.recv_batch_numbered(&mut numbered, limit, nap);
        buf.extend(numbered.into_iter().map(|(_, ev)| ev));
        more
    }

    /// [`TapReceiver::recv_batch`], each event with its record number (0: not recorded).
    pub fn recv_batch_numbered(
        &mut self,
        buf: &mut Vec<(u64, TapEvent)>,
        limit: usize,
        nap: &mut Nap,
    ) -> bool {
        use tokio::sync::mpsc::error::TryRecvError;
        let limit = limit.max(1);
        loop {
            loop {
                match self.rx.try_recv() {
                    Ok((line, ev)) => {
                        self.shared.bytes.fetch_sub(weight(&ev), Ordering::Relaxed);
                        buf.push((line, ev));
                        if buf.len() >= limit {
                            return true;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return !buf.is_empty(),
                }
            }
            if !buf.is_empty() {
                nap.empty = 0;
                return true;
            }
            if nap.period.is_zero() || nap.empty >= nap.idle_naps {
                let Some(ev) = self.blocking_recv_numbered() else {
                    return false;
                };
                buf.push(ev);
                nap.empty = 0;
            } else {
                std::thread::sleep(nap.period);
                nap.empty += 1;
            }
        }
    }

    /// The next event (async).
    pub async fn recv(&mut self) -> Option<TapEvent> {
        let (_, ev) = self.rx.recv().await?;
        self.shared.bytes.fetch_sub(weight(&ev), Ordering::Relaxed);
        Some(ev)
    }

    /// Events dropped so far because inspection lagged.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> TapEvent {
        TapEvent {
            at: Timestamp::from_micros(0),
            conn: Arc::from("CP"),
            kind: TapKind::Frame {
                from: Side::Charger,
                text: Utf8Bytes::from("x".repeat(len)),
            },
        }
    }

    #[test]
    fn full_by_count_or_by_bytes_drops_and_counts() {
        let (tap, mut rx) = tap(TapLimits {
            events: 2,
            bytes: 10_000,
        });
        assert!(tap.send(frame(10)));
        assert!(tap.send(frame(10)));
        assert!(!tap.send(frame(10)), "a third event exceeds the count");
        assert!(rx.blocking_recv().is_some());
        assert!(!tap.send(frame(20_000)), "a large frame exceeds the bytes");
        assert!(tap.send(frame(10)));
        assert_eq!(tap.dropped(), 2);
        assert_eq!(rx.dropped(), 2);
        drop(tap);
        assert!(rx.blocking_recv().is_some());
        assert!(rx.blocking_recv().is_some());
        assert!(rx.blocking_recv().is_none());
        assert_eq!(rx.shared.bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn batches_take_what_waits_up_to_the_limit_then_end_when_the_taps_are_gone() {
        let (tap, mut rx) = tap(TapLimits::default());
        for _ in 0..5 {
            assert!(tap.send(frame(10)));
        }
        let mut nap = Nap::new(std::time::Duration::from_millis(1), 3);
        let mut buf = Vec::new();
        assert!(rx.recv_batch(&mut buf, 3, &mut nap));
        assert_eq!(buf.len(), 3, "at most the limit");
        buf.clear();
        assert!(rx.recv_batch(&mut buf, 3, &mut nap));
        assert_eq!(buf.len(), 2, "then what is left, without waiting for more");
        buf.clear();
        drop(tap);
        assert!(!rx.recv_batch(&mut buf, 3, &mut nap), "every tap gone");
        assert!(buf.is_empty());
        assert_eq!(rx.shared.bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn after_idle_naps_it_parks_and_an_event_still_wakes_it() {
        let (tap, mut rx) = tap(TapLimits::default());
        let mut nap = Nap::new(std::time::Duration::from_millis(1), 2);
        let sender = std::thread::spawn(move || {
            // Long after the two naps: only a parked receiver that is woken sees it.
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert!(tap.send(frame(10)));
            std::thread::sleep(std::time::Duration::from_millis(20));
            drop(tap);
        });
        let mut buf = Vec::new();
        assert!(rx.recv_batch(&mut buf, 8, &mut nap));
        assert_eq!(buf.len(), 1);
        assert_eq!(nap.empty, 0, "the idle count starts again after an event");
        buf.clear();
        assert!(!rx.recv_batch(&mut buf, 8, &mut nap));
        sender.join().unwrap();
    }
}
