//! Observations: what the engine made of each event, for the front ends that show or
//! follow the traffic (the terminal UI, the test-case runner), so that none of them parses
//! frames, pairs calls with replies or derives station state on its own.
//!
//! One observation per event, emitted while the event is judged: an open with its handshake
//! and version, a message (a CALL, SEND, answer or CALLRESULTERROR, with the CALL an answer
//! pairs with), an unreadable text frame, a binary frame, a close, a gap. Each carries the station's
//! [`StationSummary`] as the engine knows it after the event.
//!
//! Observations are opt-in ([`crate::engine::Engine::feed_observed`]): `check` asks for none
//! and pays one branch per event. They borrow from the event and the parsed frame; an
//! observer copies what it keeps. This module reads the engine's state; it never changes it.

use serde_json::Value;

use super::rules::ProtoState;
use crate::ocpp::{Side, Version};
use crate::source::event::{EventKindOf, Origin};
use crate::time::Timestamp;
use crate::wire::FrameText;
use crate::wire::frame::{Frame, MessageType};

/// Where a station stands with its CSMS, as its BootNotifications were answered: the
/// station model's own type, so the front ends read the very state the rules judge by.
pub use super::station::Registration;

pub use super::station::Identity;

/// The engine's summary of a station after an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StationSummary {
    pub registration: Registration,
    /// Transactions started and not ended (a resent start counts once).
    pub open_transactions: u32,
    /// The OCPP version the connection is judged as.
    pub version: Option<Version>,
    /// The charger's clock offset as last observed: charger time minus recording time, in
    /// microseconds, from its latest CALL with a readable timestamp (`None` before one).
    pub clock_offset_us: Option<i64>,
}

impl ProtoState {
    /// The one place a [`StationSummary`] is read from the engine's station state.
    pub(crate) fn summary(&self) -> StationSummary {
        let registration = self.station.registration;
        let open = self.station.transactions.open_count(self.station.version);
        StationSummary {
            registration,
            open_transactions: u32::try_from(open).unwrap_or(u32::MAX),
            version: self.station.version,
            clock_offset_us: self.station.clock.offset_us(),
        }
    }
}

/// The CALL an answer pairs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSeen {
    /// The line (record number) of the CALL.
    pub line: u64,
    pub at: Timestamp,
}

/// A text frame that is an OCPP-J message.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub from: Side,
    /// The frame as parsed.
    pub frame: Frame<'a>,
    /// For a CALL or SEND its action as sent; for an answer the action of the CALL it
    /// answers, when it pairs with one.
    pub action: Option<&'a str>,
    /// For an answer: the CALL it answers (none for an answer to nothing, a duplicate
    /// answer, or a CALLRESULTERROR).
    pub call: Option<CallSeen>,
    /// The frame exactly as sent.
    pub text: &'a str,
}

impl Message<'_> {
    pub fn message_type(&self) -> MessageType {
        self.frame.message_type()
    }

    pub fn id(&self) -> &str {
        self.frame.id()
    }

    /// The payload of a CALL, SEND or CALLRESULT.
    pub fn payload(&self) -> Option<&Value> {
        match self.frame {
            Frame::Call { payload, .. } | Frame::CallResult { payload, .. } => Some(payload),
            Frame::CallError { .. } => None,
        }
    }
}

/// What an event was, as the engine read it, its strings borrowed.
pub type Observed<'a> = ObservedOf<&'a str, Message<'a>, FrameText<'a>>;

/// What an event was, as the engine read it: a text frame that is an OCPP-J message (`M`:
/// [`Message`] here, the terminal UI keeps its own copy), or any other event as it came
/// ([`EventKindOf`], the one event model, with strings held as `S`, a frame's text as `T`): an open (the version
/// it is judged as is the station's, [`StationSummary::version`]), a text frame that is no
/// OCPP-J message (not JSON, not a message array, a type this version does not have), a
/// binary frame, a close, a gap (calls outstanding before it pair with nothing after it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObservedOf<S, M, T = S> {
    Message(M),
    Event(EventKindOf<S, T>),
}

/// One event as the engine read it, with the station's state after it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub conn: &'a str,
    pub line: u64,
    pub at: Timestamp,
    pub origin: Origin,
    pub what: Observed<'a>,
    pub station: StationSummary,
    /// What the station said about itself in its last BootNotification, as the engine read
    /// it ([`Identity::UNKNOWN`] before one).
    pub device: &'a Identity,
}

/// Takes the engine's observations (called during `feed`, before the event's findings are
/// handed back).
pub trait Observer {
    fn observe(&mut self, observation: &Observation<'_>);
}

impl<F: FnMut(&Observation<'_>)> Observer for F {
    fn observe(&mut self, observation: &Observation<'_>) {
        self(observation);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::schema::ErrataSelection;
    use crate::engine::{Config, Engine, Event, EventKind, Handshake, SchemaSet};
    use crate::finding::Finding;

    fn engine() -> Engine {
        let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
        Engine::new(Arc::new(schemas), Arc::new(Config::default()), None)
    }

    /// The events of the trace: the n-th at line n, at its given second.
    fn events() -> Vec<Event<'static>> {
        let event = |(n, (t, kind))| Event {
            at: Timestamp::from_secs(t),
            conn: "CP",
            line: n as u64 + 1,
            kind,
        };
        kinds().into_iter().enumerate().map(event).collect()
    }

    fn kinds() -> Vec<(i64, EventKind<'static>)> {
        let frame = |from, text: &'static str| EventKind::Frame {
            from,
            text: text.into(),
            origin: Origin::Peer,
        };
        vec![
            (
                0,
                EventKind::Open(Handshake {
                    subprotocol: Some("ocpp1.6"),
                    scheme: Some("ws"),
                    ..Handshake::default()
                }),
            ),
            (
                1,
                frame(
                    Side::Charger,
                    r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
                ),
            ),
            (
                2,
                frame(
                    Side::Csms,
                    r#"[3,"b",{"currentTime":"2026-01-01T00:00:00Z","interval":300,"status":"Accepted"}]"#,
                ),
            ),
            (
                3,
                frame(
                    Side::Charger,
                    r#"[2,"s","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":1,"timestamp":"2026-01-01T00:00:03Z"}]"#,
                ),
            ),
            (4, frame(Side::Csms, r#"[4,"s","InternalError","down",{}]"#)),
            (5, frame(Side::Csms, r#"[3,"nobody",{}]"#)),
            (6, frame(Side::Charger, "not json")),
            (
                7,
                EventKind::Close {
                    code: Some(1000),
                    by: Some(Side::Charger),
                },
            ),
        ]
    }

    /// What each observation says, in one line.
    fn describe(o: &Observation<'_>) -> String {
        let what = match o.what {
            Observed::Event(EventKind::Open(_)) => format!("open {:?}", o.station.version),
            Observed::Message(m) => format!(
                "{} {} {:?} call {:?}",
                m.message_type().name(),
                m.id(),
                m.action,
                m.call.map(|c| c.line)
            ),
            Observed::Event(EventKind::Frame { text, .. }) => format!("unreadable {text}"),
            Observed::Event(EventKind::Binary { len, .. }) => format!("binary {len}"),
            Observed::Event(EventKind::Close { code, .. }) => format!("close {code:?}"),
            Observed::Event(EventKind::Gap { frames, .. }) => format!("gap {frames:?}"),
        };
        format!(
            "{} {what} | {:?} {} tx",
            o.line, o.station.registration, o.station.open_transactions
        )
    }

    #[test]
    fn one_observation_per_event_paired_with_the_station_after_it() {
        let mut e = engine();
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for ev in events() {
            e.feed_observed(&ev, &mut out, &mut |o: &Observation<'_>| {
                seen.push(describe(o));
            })
            .unwrap();
        }
        assert_eq!(
            seen,
            [
                "1 open Some(V16) | Unknown 0 tx",
                "2 CALL b Some(\"BootNotification\") call None | Booting 0 tx",
                "3 CALLRESULT b Some(\"BootNotification\") call Some(2) | Accepted 0 tx",
                "4 CALL s Some(\"StartTransaction\") call None | Accepted 1 tx",
                // Refused: no transaction runs.
                "5 CALLERROR s Some(\"StartTransaction\") call Some(4) | Accepted 0 tx",
                // An answer to nothing pairs with nothing.
                "6 CALLRESULT nobody None call None | Accepted 0 tx",
                "7 unreadable not json | Accepted 0 tx",
                "8 close Some(1000) | Accepted 0 tx",
            ]
        );
    }

    #[test]
    fn the_summary_carries_the_chargers_clock_offset() {
        let mut e = engine();
        let mut offsets = Vec::new();
        let mut out = Vec::new();
        for ev in events() {
            e.feed_observed(&ev, &mut out, &mut |o: &Observation<'_>| {
                offsets.push(o.station.clock_offset_us);
            })
            .unwrap();
        }
        // The StartTransaction (line 4, recorded at second 3) is the first CALL with a
        // timestamp; it stays the latest.
        let ahead = Timestamp::parse_rfc3339("2026-01-01T00:00:03Z")
            .unwrap()
            .micros()
            - Timestamp::from_secs(3).micros();
        let expected: Vec<_> = (1..=8).map(|line| (line >= 4).then_some(ahead)).collect();
        assert_eq!(offsets, expected);
    }

    #[test]
    fn observing_changes_no_finding() {
        let run = |observe: bool| {
            let mut e = engine();
            let mut out: Vec<Finding> = Vec::new();
            let mut count = 0;
            for ev in events() {
                if observe {
                    e.feed_observed(&ev, &mut out, &mut |_: &Observation<'_>| count += 1)
                        .unwrap();
                } else {
                    e.feed(&ev, &mut out).unwrap();
                }
            }
            e.finish(Timestamp::from_secs(100), &mut out);
            let found: Vec<(u64, &str)> = out.iter().map(|f| (f.line, f.rule.id)).collect();
            (found, count)
        };
        let (plain, none) = run(false);
        let (observed, count) = run(true);
        assert_eq!(plain, observed);
        assert!(!plain.is_empty(), "the events break rules: {plain:?}");
        assert_eq!((none, count), (0, 8));
    }
}
