//! The owned trace record importers produce, and its encoding as our JSON Lines (through
//! the recorder, so an imported record is written exactly as a recorded one).

use std::io;

use crate::engine::{Event, EventKind, Handshake, Origin};
use crate::ocpp::Side;
use crate::sink::recorder::Recorder;
use crate::time::Timestamp;

/// One trace record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    pub at: Timestamp,
    /// The station identity; empty only for a gap of every connection.
    pub conn: String,
    pub kind: RecKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecKind {
    Open {
        subprotocol: Option<String>,
        offered: Option<String>,
        basic_auth_user: Option<String>,
        scheme: Option<String>,
    },
    Frame {
        from: Side,
        text: String,
    },
    Binary {
        from: Side,
        len: usize,
    },
    Close {
        code: Option<u16>,
        by: Option<Side>,
    },
    Gap {
        reason: String,
        frames: Option<u64>,
    },
}

impl Rec {
    /// The owned form of a parsed trace record (`None` for kinds this reader skips).
    pub fn from_record(r: &crate::source::trace_reader::Record<'_>) -> Option<Rec> {
        use crate::source::trace_reader::RecordKind as K;
        let kind = match &r.kind {
            K::Open {
                subprotocol,
                scheme,
                basic_auth_user,
                offered_subprotocols,
                ..
            } => RecKind::Open {
                subprotocol: subprotocol.as_deref().map(str::to_owned),
                offered: offered_subprotocols.as_deref().map(str::to_owned),
                basic_auth_user: basic_auth_user.as_deref().map(str::to_owned),
                scheme: scheme.as_deref().map(str::to_owned),
            },
            K::Frame { from, text } => RecKind::Frame {
                from: *from,
                text: text.to_string(),
            },
            K::Binary { from, len } => RecKind::Binary {
                from: *from,
                len: *len,
            },
            K::Close { code, by } => RecKind::Close {
                code: *code,
                by: *by,
            },
            K::Gap { reason, frames } => RecKind::Gap {
                reason: reason.as_deref().unwrap_or("frames missing").to_owned(),
                frames: *frames,
            },
            K::Other => return None,
        };
        Some(Rec {
            at: r.at,
            conn: r.conn.to_string(),
            kind,
        })
    }

    /// The engine event this record is.
    pub fn event(&self, line: u64) -> Event<'_> {
        let kind = match &self.kind {
            RecKind::Open {
                subprotocol,
                offered,
                basic_auth_user,
                scheme,
            } => EventKind::Open(Handshake {
                subprotocol: subprotocol.as_deref(),
                scheme: scheme.as_deref(),
                basic_auth_user: basic_auth_user.as_deref(),
                offered_subprotocols: offered.as_deref(),
                ..Handshake::default()
            }),
            RecKind::Frame { from, text } => EventKind::Frame {
                from: *from,
                text,
                origin: Origin::Peer,
            },
            RecKind::Binary { from, len } => EventKind::Binary {
                from: *from,
                len: *len,
            },
            RecKind::Close { code, by } => EventKind::Close {
                code: *code,
                by: *by,
            },
            RecKind::Gap { reason, frames } => EventKind::Gap {
                reason: Some(reason),
                frames: *frames,
            },
        };
        Event {
            at: self.at,
            conn: &self.conn,
            line,
            kind,
        }
    }

    /// Appends this record as one JSON Lines record, without the line terminator.
    pub fn encode(&self, out: &mut Vec<u8>) -> io::Result<()> {
        let start = out.len();
        Recorder::new(&mut *out).record(&self.event(0))?;
        while out.len() > start && matches!(out.last(), Some(b'\n' | b'\r')) {
            out.pop();
        }
        Ok(())
    }
}
