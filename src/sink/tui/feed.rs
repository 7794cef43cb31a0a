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

use serde_json::Value;

use crate::engine::observe::{Message, ObservedOf};
use crate::engine::{Observation, Observed, Origin, StationSummary};
use crate::finding::{Finding, shorten};
use crate::ocpp::{Side, Version};
use crate::sink::{LiveOutcome, LiveSink};
use crate::source::event::Notice;
use crate::time::Timestamp;
use crate::wire::frame::{Frame, MessageType};

/// What the UI keeps of one engine observation (one event as the engine read it), owned,
/// so it can cross to the UI thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub at: Timestamp,
    pub conn: Arc<str>,
    /// The trace line (or record number, live) the event came from; 0 if none.
    pub line: u64,
    pub origin: Origin,
    pub what: SeenKind,
    /// The station as the engine knows it after the event.
    pub station: StationSummary,
}

/// A message as the UI keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenMessage {
    pub from: Side,
    pub message_type: MessageType,
    pub id: Box<str>,
    /// A CALL's action, or for an answer the action of the CALL it answers.
    pub action: Option<Box<str>>,
    /// For an answer: the CALL the engine paired it with (its line and time).
    pub call: Option<crate::engine::observe::CallSeen>,
    /// The payload on one line, shortened (a CALLERROR: its code and description).
    pub short: Box<str>,
    pub text: Box<str>,
}

/// What the UI keeps of an event: the engine's reading ([`ObservedOf`]) with owned strings
/// and its own copy of a message.
pub type SeenKind = ObservedOf<Box<str>, SeenMessage>;

/// Characters of payload kept per frame for the one-line view.
pub const SHORT_PAYLOAD: usize = 160;

impl Seen {
    /// Copies what the UI shows out of an observation.
    pub fn of(o: &Observation<'_>) -> Seen {
        let what = match &o.what {
            Observed::Message(m) => SeenKind::Message(SeenMessage {
                from: m.from,
                message_type: m.message_type(),
                id: Box::from(m.id()),
                action: m.action.map(Box::from),
                call: m.call,
                short: short_of(m),
                text: Box::from(m.text),
            }),
            Observed::Event(e) => SeenKind::Event(e.to_owned_as()),
        };
        Seen {
            at: o.at,
            conn: Arc::from(o.conn),
            line: o.line,
            origin: o.origin,
            what,
            station: o.station,
        }
    }
}

/// The one-line form of a message: its payload compact and shortened, or a CALLERROR's
/// code and description.
fn short_of(m: &Message<'_>) -> Box<str> {
    short_of_frame(&m.frame, m.text)
}

/// [`short_of`] for a frame and its text: the payload as sent (its members in their order,
/// whitespace between tokens dropped), or re-serialised if the text cannot be followed.
fn short_of_frame(frame: &Frame<'_>, text: &str) -> Box<str> {
    let member = match frame {
        Frame::Call { .. } => "/3",
        _ => "/2",
    };
    match frame {
        Frame::Call { payload, .. } | Frame::CallResult { payload, .. } => {
            match super::pretty::span_of(text, member) {
                Some((a, b)) => shorten(&squeeze(&text[a..b]), SHORT_PAYLOAD).into(),
                None => compact(payload),
            }
        }
        Frame::CallError {
            code, description, ..
        } => shorten(
            &format!(
                "{} {}",
                code.as_str().unwrap_or("?"),
                description.as_str().unwrap_or("")
            ),
            SHORT_PAYLOAD,
        )
        .into(),
    }
}

/// A frame's unique id and one-line form, read from its exact text (a frame whose row keeps
/// no copy of it, see [`super::store`]); `None` for a text that is no OCPP-J message (its
/// one-line form is then the text itself, shortened).
pub fn id_and_short(text: &str) -> (Option<Box<str>>, Box<str>) {
    let parsed = crate::wire::frame::parse_json(text).ok();
    match parsed
        .as_ref()
        .and_then(|v| crate::wire::frame::classify(v).ok())
    {
        Some(frame) => (Some(Box::from(frame.id())), short_of_frame(&frame, text)),
        None => (None, shorten(text.trim(), SHORT_PAYLOAD).into()),
    }
}

/// JSON text without the whitespace between its tokens (strings kept as they are), cut
/// soon after what one line shows.
fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(SHORT_PAYLOAD * 4 + 8));
    let (mut in_str, mut esc) = (false, false);
    for c in text.chars() {
        if out.len() > SHORT_PAYLOAD * 4 {
            break;
        }
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if !c.is_whitespace() {
            in_str = c == '"';
            out.push(c);
        }
    }
    out
}

/// A payload on one line, shortened. Serialising stops soon after the cut, so a large
/// payload costs no more than a small one.
fn compact(v: &Value) -> Box<str> {
    /// Takes bytes until it holds more than the cut needs, then refuses more.
    struct Upto(Vec<u8>, usize);
    impl std::io::Write for Upto {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.0.len() > self.1 {
                return Err(std::io::Error::other("enough"));
            }
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // A char is at most 4 bytes: this many bytes hold more than SHORT_PAYLOAD chars.
    let mut w = Upto(Vec::with_capacity(256), SHORT_PAYLOAD * 4 + 4);
    let _ = serde_json::to_writer(&mut w, v);
    let s = String::from_utf8_lossy(&w.0);
    shorten(&s, SHORT_PAYLOAD).into()
}

/// One item for the UI.
#[derive(Debug, Clone)]
pub enum FeedItem {
    /// An event as the engine read it (before the findings about it).
    Seen(Seen),
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
    /// An event of a trace being indexed by `view`, with the byte offset of its record in
    /// the trace file: the UI keeps the offset, not the text, and reads it when shown.
    Indexed {
        seen: Seen,
        offset: u64,
    },
    /// How far the indexing of a trace has come (bytes read of `total`; 0: unknown).
    Progress {
        done: u64,
        total: u64,
    },
    /// The trace is indexed to its end; `notice` tells of lines that could not be read.
    Loaded {
        notice: Option<String>,
    },
    /// A station's OCPP version is known to the case runner: the cases for that version
    /// wait for their trigger on it.
    CaseStation {
        station: Arc<str>,
        version: Version,
    },
    /// What became of a CALL the user sent from the screen ([`super::act`]): the
    /// charger's answer on one line (`Ok`), or why there is none (`Err`). `id` is the
    /// injected message id, when one was given out.
    Injected {
        station: Arc<str>,
        action: Box<str>,
        id: Option<Box<str>>,
        outcome: Result<Box<str>, String>,
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
    Injecting { step: usize, action: Box<str> },
    /// The case ended (a `NotRun` at the end of the run is the final word: the case never
    /// started).
    Ended(CaseEnd),
}

/// How a test case ended on a station: the case runner's word for it
/// ([`crate::testcase::runner::ProgressKind::Ended`]) and what the UI shows (and keeps in the
/// Cases pane). Plain data, so the UI needs nothing of the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseEnd {
    Passed,
    Failed {
        step: usize,
        reason: String,
    },
    /// No verdict on the device (inconclusive and not-applicable verdicts arrive named in
    /// their reason).
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

    /// Sends `item`, waiting for room (a trace read from a file: nothing may be dropped,
    /// and the reader may wait for the UI). Returns false when the UI is gone.
    pub fn send_wait(&self, item: FeedItem) -> bool {
        self.tx.send(item).is_ok()
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
    fn wants_observations(&self) -> bool {
        true
    }

    fn observe(&mut self, o: &Observation<'_>) {
        self.tx.send(FeedItem::Seen(Seen::of(o)));
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

    fn observation<'a>(what: Observed<'a>) -> Observation<'a> {
        Observation {
            conn: "CP-1",
            line: 1,
            at: Timestamp::from_secs(1),
            origin: Origin::Peer,
            what,
            station: StationSummary::default(),
            device: &crate::engine::Identity::UNKNOWN,
        }
    }

    #[test]
    fn the_sink_copies_observations_findings_notices_and_the_end() {
        use crate::source::event::NoticeKind;
        let (tx, mut rx) = channel(4);
        let mut sink = TuiSink::new(tx.clone());
        assert!(sink.wants_observations());
        let o = observation(Observed::Event(crate::engine::EventKind::Frame {
            from: Side::Charger,
            text: "not json".into(),
            origin: Origin::Peer,
        }));
        sink.observe(&o);
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
        sink.observe(&o);
        sink.observe(&o);
        assert_eq!(tx.dropped(), 1);
        let mut out = Vec::new();
        rx.drain(10, &mut out);
        assert!(matches!(&out[0], FeedItem::Seen(e) if e.line == 1 && &*e.conn == "CP-1"));
        assert!(
            matches!(&out[1], FeedItem::Notice { text, .. } if text == "upstream cannot connect")
        );
        assert!(matches!(&out[2], FeedItem::Finished { summary } if summary.contains("2 errors")));
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn seen_copies_the_message_and_shortens_its_payload() {
        let text = format!(
            "[3,\"1\",{{\"data\":\"{}\"}}]",
            "x".repeat(10 * SHORT_PAYLOAD)
        );
        let value = crate::wire::frame::parse_json(&text).unwrap();
        let frame = crate::wire::frame::classify(&value).unwrap();
        let o = observation(Observed::Message(Message {
            from: Side::Csms,
            frame,
            action: Some("DataTransfer"),
            call: Some(crate::engine::observe::CallSeen {
                line: 7,
                at: Timestamp::from_secs(0),
            }),
            text: &text,
        }));
        let seen = Seen::of(&o);
        let SeenKind::Message(m) = seen.what else {
            panic!("a message: {seen:?}");
        };
        assert_eq!(
            (m.from, m.message_type),
            (Side::Csms, MessageType::CallResult)
        );
        assert_eq!(
            (&*m.id, m.action.as_deref(), m.call.map(|c| c.line)),
            ("1", Some("DataTransfer"), Some(7))
        );
        assert_eq!(
            m.short.chars().count(),
            SHORT_PAYLOAD + 1,
            "cut, with an ellipsis"
        );
        assert!(m.short.starts_with("{\"data\":\"xxx"));
        // The one-line form keeps the members in the order sent, and their bytes.
        let (id, short) = id_and_short(r#"[2, "7", "StopTransaction", {"z": 1.50, "a": "x y"} ]"#);
        assert_eq!(id.as_deref(), Some("7"));
        assert_eq!(&*short, r#"{"z":1.50,"a":"x y"}"#);
        assert_eq!(&*m.text, text);
    }
}
