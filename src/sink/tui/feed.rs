//! What the UI is fed: owned copies of engine events and findings ([`FeedItem`]), through a
//! bounded channel. The sending side never waits: when the UI lags and the channel is full,
//! the item is dropped from the UI's view and counted (the recording and the engine's
//! verdicts are not affected; they never go through here).
//!
//! [`TuiSink`] is the proxy's end: a [`LiveSink`] that copies what the live inspector
//! judged into the channel. The live case runner ([`crate::testcase::live::LiveCases`])
//! sends its cases' progress ([`FeedItem::CaseStation`], [`FeedItem::Case`]) through the
//! same channel, so the UI sees each step after the frame that made it.
//!
//! It does no rendering and holds no UI state.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};

use crate::engine::{Event, EventKind};
use crate::finding::Finding;
use crate::live::{LiveOutcome, LiveSink};
use crate::ocpp::{Side, Version};
use crate::source::proxy::tap::Notice;
use crate::time::Timestamp;

/// An engine event, owned, so it can cross to the UI thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedEvent {
    pub at: Timestamp,
    pub conn: Arc<str>,
    /// The trace line (or record number, live) the event came from; 0 if none.
    pub line: u64,
    pub kind: OwnedKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedKind {
    Open {
        subprotocol: Option<Box<str>>,
        scheme: Option<Box<str>>,
        tls_version: Option<Box<str>>,
        client_cert: bool,
        basic_auth: bool,
    },
    Frame {
        from: Side,
        text: Box<str>,
    },
    Binary {
        from: Side,
        len: usize,
    },
    Close {
        code: Option<u16>,
        by: Option<Side>,
    },
    /// Frames are missing from the observation here.
    Gap {
        frames: Option<u64>,
    },
}

impl OwnedEvent {
    /// Copies what the UI shows out of an engine event.
    pub fn of(event: &Event<'_>) -> OwnedEvent {
        let kind = match event.kind {
            EventKind::Open {
                subprotocol,
                security,
            } => OwnedKind::Open {
                subprotocol: subprotocol.map(Box::from),
                scheme: security.scheme.map(Box::from),
                tls_version: security.tls_version.map(Box::from),
                client_cert: security.client_cert_subject.is_some(),
                basic_auth: security.basic_auth_user.is_some(),
            },
            EventKind::Frame { from, text } => OwnedKind::Frame {
                from,
                text: Box::from(text),
            },
            EventKind::Binary { from, len } => OwnedKind::Binary { from, len },
            EventKind::Close { code, by } => OwnedKind::Close { code, by },
            EventKind::Gap { frames, .. } => OwnedKind::Gap { frames },
        };
        OwnedEvent {
            at: event.at,
            conn: Arc::from(event.conn),
            line: event.line,
            kind,
        }
    }
}

/// One item for the UI.
#[derive(Debug, Clone)]
pub enum FeedItem {
    Event(OwnedEvent),
    Finding(Box<Finding>),
    /// A message about a connection or the run that is no engine event.
    Notice {
        conn: Arc<str>,
        text: String,
    },
    /// The run is over (the proxy stopped); the UI stays until the user quits.
    Finished {
        summary: String,
    },
    /// A station's OCPP version is known to the case runner: the cases for that version
    /// wait for their trigger on it.
    CaseStation {
        station: Arc<str>,
        version: Version,
    },
    /// A test case moved on a station (`case` indexes the cases the UI was given).
    Case {
        station: Arc<str>,
        case: usize,
        step: CaseStep,
    },
}

/// What a test case did on a station, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseStep {
    /// Step `i` (from 0) matched a frame (a trigger step too).
    Matched(usize),
    /// The trigger steps all matched: the case runs.
    Started,
    /// The proxy sends the CALL of step `step` to the station.
    Injecting {
        step: usize,
        action: Box<str>,
    },
    Passed,
    Failed {
        step: usize,
        reason: String,
    },
    /// The final word at the end of the run: the case never started.
    NotRun {
        reason: String,
    },
}

/// The sending half: never blocks; counts what it had to drop.
#[derive(Debug, Clone)]
pub struct FeedSender {
    tx: SyncSender<FeedItem>,
    dropped: Arc<AtomicU64>,
}

impl FeedSender {
    /// Sends `item` if there is room; otherwise drops it and counts it. Returns whether it
    /// was sent (false also when the UI is gone).
    pub fn send(&self, item: FeedItem) -> bool {
        match self.tx.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Items dropped so far because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The live inspector's sink for the UI: every event and finding, copied into the channel
/// without waiting (dropped and counted when the UI lags).
pub struct TuiSink {
    tx: FeedSender,
}

impl TuiSink {
    pub fn new(tx: FeedSender) -> Self {
        TuiSink { tx }
    }
}

impl LiveSink for TuiSink {
    fn event(&mut self, event: &Event<'_>) {
        self.tx.send(FeedItem::Event(OwnedEvent::of(event)));
    }

    fn finding(&mut self, finding: &Finding) {
        self.tx.send(FeedItem::Finding(Box::new(finding.clone())));
    }

    fn notice(&mut self, conn: &str, notice: &Notice) {
        self.tx.send(FeedItem::Notice {
            conn: Arc::from(conn),
            text: format!("{} {}", notice.kind.as_str(), notice.text),
        });
    }

    fn finish(&mut self, o: &LiveOutcome) -> std::io::Result<()> {
        let mut summary = format!(
            "stopped: {} frames, {} connections, {} errors, {} warnings, {} infos",
            o.stats.frames, o.stats.connections, o.errors, o.warnings, o.infos
        );
        if o.dropped > 0 {
            summary.push_str(&format!(", {} events not inspected (lagged)", o.dropped));
        }
        self.tx.send(FeedItem::Finished { summary });
        Ok(())
    }
}

/// The receiving half, drained by the UI loop once per tick.
#[derive(Debug)]
pub struct FeedReceiver {
    rx: Receiver<FeedItem>,
    dropped: Arc<AtomicU64>,
    closed: bool,
}

impl FeedReceiver {
    /// Takes at most `max` waiting items without blocking.
    pub fn drain(&mut self, max: usize, out: &mut Vec<FeedItem>) {
        for _ in 0..max {
            match self.rx.try_recv() {
                Ok(item) => out.push(item),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.closed = true;
                    break;
                }
            }
        }
    }

    /// Every sender is gone and everything sent was taken.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Items the senders dropped because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Items in flight to a live screen; beyond, the UI's copies are dropped and counted (the
/// recording and the verdicts never are).
pub const LIVE_CAPACITY: usize = 16_384;

/// A bounded channel of `capacity` items (at least 1).
pub fn channel(capacity: usize) -> (FeedSender, FeedReceiver) {
    let (tx, rx) = mpsc::sync_channel(capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    (
        FeedSender {
            tx,
            dropped: dropped.clone(),
        },
        FeedReceiver {
            rx,
            dropped,
            closed: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(i: usize) -> FeedItem {
        FeedItem::Notice {
            conn: Arc::from("CP"),
            text: i.to_string(),
        }
    }

    #[test]
    fn a_full_channel_drops_and_counts_instead_of_waiting() {
        let (tx, mut rx) = channel(3);
        let sent = (0..10).filter(|&i| tx.send(notice(i))).count();
        assert_eq!(sent, 3);
        assert_eq!(tx.dropped(), 7);
        assert_eq!(rx.dropped(), 7);
        let mut out = Vec::new();
        rx.drain(2, &mut out);
        assert_eq!(out.len(), 2, "drain takes at most `max`");
        rx.drain(100, &mut out);
        assert_eq!(out.len(), 3);
        assert!(!rx.is_closed());
        drop(tx);
        rx.drain(100, &mut out);
        assert!(rx.is_closed());
    }

    #[test]
    fn the_sink_copies_events_findings_notices_and_the_end() {
        use crate::source::proxy::tap::NoticeKind;
        let (tx, mut rx) = channel(4);
        let mut sink = TuiSink::new(tx.clone());
        let ev = Event {
            at: Timestamp::from_secs(1),
            conn: "CP-1",
            line: 1,
            kind: EventKind::Frame {
                from: Side::Charger,
                text: "[2,\"1\",\"Heartbeat\",{}]",
            },
        };
        sink.event(&ev);
        sink.notice(
            "CP-1",
            &Notice {
                kind: NoticeKind::Upstream,
                text: "cannot connect".into(),
            },
        );
        let outcome = LiveOutcome {
            errors: 2,
            ..LiveOutcome::default()
        };
        sink.finish(&outcome).unwrap();
        // The channel holds 4: the fifth item is dropped, counted, and nothing waits.
        sink.event(&ev);
        sink.event(&ev);
        assert_eq!(tx.dropped(), 1);
        let mut out = Vec::new();
        rx.drain(10, &mut out);
        assert!(matches!(&out[0], FeedItem::Event(e) if e.line == 1 && &*e.conn == "CP-1"));
        assert!(
            matches!(&out[1], FeedItem::Notice { text, .. } if text == "upstream cannot connect")
        );
        assert!(matches!(&out[2], FeedItem::Finished { summary } if summary.contains("2 errors")));
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn owned_event_copies_the_frame() {
        let ev = Event {
            at: Timestamp::from_secs(5),
            conn: "CP-1",
            line: 7,
            kind: EventKind::Frame {
                from: Side::Csms,
                text: "[3,\"1\",{}]",
            },
        };
        let o = OwnedEvent::of(&ev);
        assert_eq!(&*o.conn, "CP-1");
        assert_eq!(o.line, 7);
        assert_eq!(
            o.kind,
            OwnedKind::Frame {
                from: Side::Csms,
                text: "[3,\"1\",{}]".into()
            }
        );
    }
}
