//! The tap: what the forwarding path hands to inspection. A bounded channel, bounded by
//! count AND by bytes, written with `try_send` only: when inspection lags, the event is
//! dropped and counted, and forwarding goes on. It must never make a relay wait.
//!
//! Frames carry the very `Utf8Bytes` that are forwarded (a reference count, not a copy).
//!
//! With a recorder ([`Tap::recording`]), every event is first written to the recording
//! (synchronously, whole, before the relay forwards the frame: the evidence path, which is
//! lossless), then handed to inspection with its record number; only inspection may lag.
//!
//! What an event holds is given back when inspection is done with it (its [`Held`] is
//! dropped), not when it leaves the channel. In the proxy ([`Tap::with_budget`]) a frame over
//! [`FREE_PER_MESSAGE`] also takes [`INSPECTION_COST`] times its length from the proxy's
//! in-flight budget (its text kept alive and the engine's parse of it), without waiting; when
//! the budget has no room, inspection gets a gap in its place ([`NOT_INSPECTED`]), the
//! operator a notice, and the frame is counted as not inspected. The recording and the
//! forwarded traffic are the same either way.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::io::{Budget, FREE_PER_MESSAGE};
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
    /// Not an engine event: the time now, sent once a second by the proxy, so that what is
    /// judged by time passing with no traffic at all (a station gone longer than
    /// `--forget-after` is forgotten) does not wait for the next frame. Not recorded.
    Clock,
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
    /// Frames inspection got as a gap: the in-flight budget had no room to inspect them.
    skipped: AtomicU64,
}

/// How many times its length a large frame costs while it waits for inspection and is
/// inspected: the text itself (the relay has given its share back once it is forwarded) and
/// the engine's parsed copy of it.
pub const INSPECTION_COST: usize = 2;

/// The reason of the gap inspection gets in place of a frame the in-flight budget had no
/// room to inspect (the frame was forwarded and recorded).
pub const NOT_INSPECTED: &str = "frame not inspected (in-flight budget full)";

/// What an event in the tap holds of the memory bounds: its weight in the tap's bytes and,
/// for a large frame, its share of the in-flight budget. Given back when dropped, so keep it
/// until the event has been inspected.
pub struct Held {
    shared: Arc<Shared>,
    weight: usize,
    charge: Option<(Arc<Budget>, usize)>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.shared.bytes.fetch_sub(self.weight, Ordering::Relaxed);
        if let Some((budget, n)) = self.charge.take() {
            budget.give_back(n);
        }
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("weight", &self.weight)
            .field("charge", &self.charge.as_ref().map(|c| c.1))
            .finish()
    }
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
    tx: mpsc::Sender<(u64, TapEvent, Held)>,
    shared: Arc<Shared>,
    recorder: Option<Arc<SharedRecorder>>,
    /// The proxy's in-flight budget, which large frames take their inspection from.
    budget: Option<Arc<Budget>>,
}

/// The receiving end, owned by the inspection consumer.
pub struct TapReceiver {
    rx: mpsc::Receiver<(u64, TapEvent, Held)>,
    shared: Arc<Shared>,
}

impl TapEvent {
    /// The engine's view of this event, as line `line` (`None` for notices).
    pub fn event(&self, line: u64) -> Option<Event<'_>> {
        let kind = match &self.kind {
            TapKind::Open(o) => EventKind::Open(o.handshake()),
            TapKind::Frame { from, text } => EventKind::Frame {
                from: *from,
                text: text.as_str().into(),
                origin: Origin::Peer,
            },
            TapKind::Injected { from, text } => EventKind::Frame {
                from: *from,
                text: text.as_str().into(),
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
            TapKind::Notice(_) | TapKind::Clock => return None,
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
        skipped: AtomicU64::new(0),
    });
    (
        Tap {
            tx,
            shared: shared.clone(),
            recorder: None,
            budget: None,
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

    /// This tap, and its clones from now on, takes the inspection of each large frame from
    /// `budget` (see the module's doc).
    pub(crate) fn with_budget(mut self, budget: Arc<Budget>) -> Tap {
        self.budget = Some(budget);
        self
    }

    fn hand_on(&self, line: u64, mut ev: TapEvent) -> bool {
        let mut charge = None;
        let mut skipped = None;
        if let (Some(budget), TapKind::Frame { from, text }) = (&self.budget, &ev.kind)
            && text.len() > FREE_PER_MESSAGE
        {
            let cost = text.len().saturating_mul(INSPECTION_COST);
            if budget.try_take(cost) {
                charge = Some((budget.clone(), cost));
            } else {
                skipped = Some((*from, text.len(), budget.max()));
                ev.kind = TapKind::Gap {
                    frames: Some(1),
                    reason: NOT_INSPECTED,
                };
            }
        }
        let w = weight(&ev);
        let before = self.shared.bytes.fetch_add(w, Ordering::Relaxed);
        let held = Held {
            shared: self.shared.clone(),
            weight: w,
            charge,
        };
        let handed = if before + w > self.shared.max_bytes {
            drop(held);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            false
        } else {
            let conn = ev.conn.clone();
            match self.tx.try_send((line, ev, held)) {
                Ok(()) => {
                    if let Some((from, len, max)) = skipped {
                        self.shared.skipped.fetch_add(1, Ordering::Relaxed);
                        self.notice(
                            &conn,
                            NoticeKind::Conn,
                            format!(
                                "a frame of {len} bytes from the {from} was forwarded and recorded but not inspected: inspecting it takes {INSPECTION_COST} times its size from the in-flight budget ({max} bytes), which other messages hold now; inspection takes it as a gap"
                            ),
                        );
                    }
                    true
                }
                Err(_) => {
                    // The event and what it held are given back here.
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    false
                }
            }
        };
        handed && skipped.is_none()
    }

    /// A notice for the operator.
    pub fn notice(&self, conn: &Arc<str>, kind: NoticeKind, text: String) {
        self.send(TapEvent {
            at: Timestamp::now(),
            conn: conn.clone(),
            kind: TapKind::Notice(Notice { kind, text }),
        });
    }

    /// The time now for inspection ([`TapKind::Clock`]). Costs nothing in the byte budget
    /// and is not counted as dropped when inspection lags: the next one says the same.
    pub fn clock(&self, at: Timestamp) {
        let held = Held {
            shared: self.shared.clone(),
            weight: 0,
            charge: None,
        };
        let ev = TapEvent {
            at,
            conn: Arc::from("-"),
            kind: TapKind::Clock,
        };
        let _ = self.tx.try_send((0, ev, held));
    }

    /// Events dropped so far because inspection lagged.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Frames inspection got as a gap ([`NOT_INSPECTED`]) so far.
    pub fn skipped(&self) -> u64 {
        self.shared.skipped.load(Ordering::Relaxed)
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
        self.blocking_recv_held().map(|(line, ev, _)| (line, ev))
    }

    /// [`TapReceiver::blocking_recv_numbered`] with what the event holds (see [`Held`]).
    pub fn blocking_recv_held(&mut self) -> Option<(u64, TapEvent, Held)> {
        self.rx.blocking_recv()
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
        buf.extend(numbered.into_iter().map(|(_, ev, _)| ev));
        more
    }

    /// [`TapReceiver::recv_batch`], each event with its record number (0: not recorded) and
    /// what it holds of the memory bounds (given back when dropped: after inspecting it).
    pub fn recv_batch_numbered(
        &mut self,
        buf: &mut Vec<(u64, TapEvent, Held)>,
        limit: usize,
        nap: &mut Nap,
    ) -> bool {
        use tokio::sync::mpsc::error::TryRecvError;
        let limit = limit.max(1);
        loop {
            loop {
                match self.rx.try_recv() {
                    Ok(item) => {
                        buf.push(item);
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
                // About to block: the inspection thread hands back what its allocator heap
                // keeps of the frames it inspected (once per trim epoch).
                crate::alloc_trim::idle();
                let Some(ev) = self.blocking_recv_held() else {
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
        let (_, ev, _) = self.rx.recv().await?;
        Some(ev)
    }

    /// Events dropped so far because inspection lagged.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Frames inspection got as a gap (see [`Tap::skipped`]).
    pub fn skipped(&self) -> u64 {
        self.shared.skipped.load(Ordering::Relaxed)
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

    #[test]
    fn a_large_frame_takes_its_inspection_from_the_budget_until_it_is_inspected() {
        let budget = Budget::new(1 << 20, std::time::Duration::from_secs(1));
        let (tap, mut rx) = tap(TapLimits::default());
        let tap = tap.with_budget(budget.clone());
        // Small frames never touch the budget.
        assert!(tap.send(frame(100)));
        assert_eq!(budget.in_use(), 0);
        assert!(tap.send(frame(100_000)));
        assert_eq!(budget.in_use(), 100_000 * INSPECTION_COST);
        let (_, small, held_small) = rx.blocking_recv_held().unwrap();
        assert!(matches!(small.kind, TapKind::Frame { .. }));
        drop(held_small);
        let (_, ev, held) = rx.blocking_recv_held().unwrap();
        assert!(matches!(&ev.kind, TapKind::Frame { text, .. } if text.len() == 100_000));
        // Taken off the channel, not yet inspected: still held.
        assert_eq!(budget.in_use(), 100_000 * INSPECTION_COST);
        assert!(tap.bytes_in_flight() >= 100_000);
        drop(held);
        assert_eq!(budget.in_use(), 0, "given back once inspected");
        assert_eq!(tap.bytes_in_flight(), 0);
        assert_eq!(tap.skipped(), 0);
    }

    #[test]
    fn a_frame_the_budget_has_no_room_to_inspect_is_recorded_whole_and_inspected_as_a_gap() {
        let budget = Budget::new(1 << 20, std::time::Duration::from_secs(1));
        let path = std::env::temp_dir().join(format!(
            "ocpp-inspector-tap-skip-{}.jsonl",
            std::process::id()
        ));
        let recorder = Arc::new(SharedRecorder::new(std::fs::File::create(&path).unwrap()));
        let (tap, mut rx) = tap(TapLimits::default());
        let tap = tap.recording(recorder).with_budget(budget.clone());
        // Other messages hold most of the budget now.
        assert!(budget.try_take(900_000));
        let len = 200_000;
        assert!(
            !tap.send(frame(len)),
            "inspection did not get the frame itself"
        );
        assert_eq!(tap.skipped(), 1);
        assert_eq!(tap.dropped(), 0, "not a lag drop");
        assert_eq!(budget.in_use(), 900_000, "nothing taken for it");
        let (line, ev, _held) = rx.blocking_recv_held().unwrap();
        assert_eq!(line, 1, "its record number");
        assert!(
            matches!(
                ev.kind,
                TapKind::Gap {
                    frames: Some(1),
                    reason: NOT_INSPECTED
                }
            ),
            "{:?}",
            ev.kind
        );
        let (_, notice, _) = rx.blocking_recv_held().unwrap();
        let TapKind::Notice(n) = notice.kind else {
            panic!("a notice for the operator: {:?}", notice.kind)
        };
        assert!(
            n.text.contains("200000 bytes") && n.text.contains("not inspected"),
            "{}",
            n.text
        );
        // The recording has the frame whole.
        let recorded = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let rec: serde_json::Value =
            serde_json::from_str(recorded.lines().next().unwrap()).unwrap();
        assert_eq!(rec["text"].as_str().map(str::len), Some(len));
        // Once the budget has room again, the next one is inspected.
        budget.give_back(900_000);
        assert!(tap.send(frame(len)));
        let (_, ev, held) = rx.blocking_recv_held().unwrap();
        assert!(matches!(ev.kind, TapKind::Frame { .. }));
        drop(held);
        assert_eq!(budget.in_use(), 0);
    }
}
