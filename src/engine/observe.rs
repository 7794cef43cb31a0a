//! Observations: what the engine made of each event, for the front ends that show or
//! follow the traffic (the terminal UI, the test-case runner), so that none of them parses
//! frames, pairs calls with replies or derives station state on its own.
//!
//! One observation per event, emitted while the event is judged: an open with its handshake
//! and version, a message (a CALL, SEND, answer or CALLRESULTERROR, with the CALL an answer
//! pairs with), an unreadable text frame, a binary frame, a close. Each carries the station's
//! [`StationSummary`] as the engine knows it after the event.
//!
//! Observations are opt-in ([`crate::engine::Engine::feed_observed`]): `check` asks for none
//! and pays one branch per event. They borrow from the event and the parsed frame; an
//! observer copies what it keeps. This module reads the engine's state; it never changes it.

use serde_json::Value;

use super::protocol::ProtoState;
use super::rules::boot;
use crate::ocpp::{Side, Version};
use crate::source::event::{Handshake, Origin};
use crate::time::Timestamp;
use crate::wire::frame::{Frame, MessageType};

/// Where a station stands with its CSMS, as its BootNotifications were answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Registration {
    /// Nothing seen yet (or the last answer did not say).
    #[default]
    Unknown,
    /// A BootNotification is sent and not answered yet.
    Booting,
    Pending,
    Rejected,
    Accepted,
}

/// The engine's summary of a station after an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StationSummary {
    pub registration: Registration,
    /// Transactions started and not ended (a resent start counts once).
    pub open_transactions: u32,
    /// The OCPP version the connection is judged as.
    pub version: Option<Version>,
}

impl ProtoState {
    /// The one place a [`StationSummary`] is read from the engine's station state.
    pub(crate) fn summary(&self) -> StationSummary {
        let registration = match self.boot.registration {
            boot::Registration::Unknown => Registration::Unknown,
            boot::Registration::Booting => Registration::Booting,
            boot::Registration::Pending => Registration::Pending,
            boot::Registration::Rejected => Registration::Rejected,
            boot::Registration::Accepted => Registration::Accepted,
        };
        let open = match self.version {
            Some(Version::V16) => self.tx16.open_transactions(),
            Some(_) => self.tx2.open_transactions(),
            None => 0,
        };
        StationSummary {
            registration,
            open_transactions: u32::try_from(open).unwrap_or(u32::MAX),
            version: self.version,
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

/// What an event was, as the engine read it.
#[derive(Debug, Clone, Copy)]
pub enum Observed<'a> {
    Open {
        handshake: Handshake<'a>,
        /// The version the connection is judged as (`None`: no rules for what was
        /// negotiated, or nothing negotiated and no default).
        version: Option<Version>,
    },
    Message(Message<'a>),
    /// A text frame that is no OCPP-J message (not JSON, not a message array, a type this
    /// version does not have); its text.
    Unreadable {
        from: Side,
        text: &'a str,
    },
    Binary {
        from: Side,
        len: usize,
    },
    Close {
        code: Option<u16>,
        by: Option<Side>,
    },
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
