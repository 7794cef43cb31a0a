//! The owned trace record importers produce, and its encoding as our JSON Lines (exactly as
//! the recorder writes it: frames directly, the other records through the recorder).

use std::io;

use crate::engine::{Event, Origin};
use crate::ocpp::Side;
use crate::sink::recorder::Recorder;
use crate::source::event::{EventKindOf, HandshakeOf};
use crate::time::Timestamp;

/// One trace record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    pub at: Timestamp,
    /// The station identity; empty only for a gap of every connection.
    pub conn: String,
    pub kind: RecKind,
}

/// The event of an owned record: the one event model ([`EventKindOf`]) with owned strings.
pub type RecKind = EventKindOf<String>;

/// The open an importer assumes before a connection's first frame when its input has no
/// connection events: nothing of the handshake but the subprotocol, when known.
pub fn assumed_open(subprotocol: Option<String>) -> RecKind {
    RecKind::Open(HandshakeOf {
        subprotocol,
        ..HandshakeOf::default()
    })
}

/// A frame as an importer read it (from the peer itself: a capture or a log knows of no
/// injecting).
pub fn frame(from: Side, text: String) -> RecKind {
    RecKind::Frame {
        from,
        text,
        origin: Origin::Peer,
    }
}

impl Rec {
    /// The owned form of a parsed trace record (`None` for kinds this reader skips).
    pub fn from_record(r: &crate::source::trace_reader::Record<'_>) -> Option<Rec> {
        Some(Rec {
            at: r.at,
            conn: r.conn.to_string(),
            kind: r.kind.as_ref()?.to_owned_as(),
        })
    }

    /// The engine event this record is.
    pub fn event(&self, line: u64) -> Event<'_> {
        Event {
            at: self.at,
            conn: &self.conn,
            line,
            kind: self.kind.borrowed(),
        }
    }

    /// Appends this record as one JSON Lines record, without the line terminator.
    pub fn encode(&self, out: &mut Vec<u8>) -> io::Result<()> {
        Encoder::default().encode(self, out)
    }
}

/// Encodes records as our JSON Lines, byte for byte as the recorder writes them. Frames (most
/// records of an import) are written directly, with the time's date and second kept from the
/// record before; other records go through the recorder.
#[derive(Debug, Default)]
pub struct Encoder {
    /// The second last written, and its text up to the fraction (`2026-11-22T10:15:03.`).
    second: Option<(i64, String)>,
}

impl Encoder {
    /// Appends `rec` as one JSON Lines record, without the line terminator.
    pub fn encode(&mut self, rec: &Rec, out: &mut Vec<u8>) -> io::Result<()> {
        if let RecKind::Frame {
            from,
            text,
            origin: Origin::Peer,
        } = &rec.kind
            && !rec.conn.is_empty()
        {
            // Member for member what the recorder writes for a frame (`tests` compares them).
            out.extend_from_slice(b"{\"ts\":\"");
            self.time(rec.at, out);
            out.extend_from_slice(b"\",\"conn\":");
            serde_json::to_writer(&mut *out, &rec.conn).map_err(io::Error::other)?;
            out.extend_from_slice(b",\"from\":\"");
            out.extend_from_slice(from.as_str().as_bytes());
            out.extend_from_slice(b"\",\"text\":");
            serde_json::to_writer(&mut *out, text).map_err(io::Error::other)?;
            out.push(b'}');
            return Ok(());
        }
        let start = out.len();
        Recorder::new(&mut *out).record(&rec.event(0))?;
        while out.len() > start && matches!(out.last(), Some(b'\n' | b'\r')) {
            out.pop();
        }
        Ok(())
    }

    /// `at` as [`Timestamp::to_rfc3339_micros`] writes it.
    fn time(&mut self, at: Timestamp, out: &mut Vec<u8>) {
        let micros = at.micros();
        let secs = micros.div_euclid(1_000_000);
        if self.second.as_ref().is_none_or(|(s, _)| *s != secs) {
            let whole = Timestamp::from_micros(secs * 1_000_000).to_string();
            match whole.strip_suffix("000Z") {
                Some(prefix) => self.second = Some((secs, prefix.to_owned())),
                None => {
                    self.second = None;
                    out.extend_from_slice(at.to_rfc3339_micros().as_bytes());
                    return;
                }
            }
        }
        if let Some((_, prefix)) = &self.second {
            out.extend_from_slice(prefix.as_bytes());
        }
        let mut frac = micros.rem_euclid(1_000_000);
        let mut digits = [b'0'; 6];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        out.extend_from_slice(&digits);
        out.push(b'Z');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the recorder itself writes for `rec`.
    fn recorded(rec: &Rec) -> Vec<u8> {
        let mut out = Vec::new();
        Recorder::new(&mut out).record(&rec.event(0)).unwrap();
        while matches!(out.last(), Some(b'\n' | b'\r')) {
            out.pop();
        }
        out
    }

    #[test]
    fn times_are_written_as_the_recorder_writes_them_whatever_came_before() {
        let mut enc = Encoder::default();
        let times = [
            1_700_000_000_123_456,
            1_700_000_000_999_999,
            1_700_000_001_000_000,
            1_700_000_000_000_001,
            0,
            -1,
            -1_000_000,
            -86_400_000_001,
            253_402_300_799_999_999,
            1_700_000_001_000_007,
        ];
        for at in times {
            let rec = Rec {
                at: Timestamp::from_micros(at),
                conn: "CP".into(),
                kind: frame(Side::Charger, "[]".into()),
            };
            let mut got = Vec::new();
            enc.encode(&rec, &mut got).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&recorded(&rec)),
                "{at}"
            );
        }
    }

    #[test]
    fn frames_are_encoded_exactly_as_the_recorder_writes_them() {
        let texts = [
            "[2,\"1\",\"Heartbeat\",{}]",
            "",
            "quote \" backslash \\ slash / controls \u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} del \u{7f}",
            "unicode é ✓ 😀 \u{2028}\u{2029}",
        ];
        for (i, text) in texts.into_iter().enumerate() {
            for from in [Side::Charger, Side::Csms] {
                for conn in ["CP-1", "a \"quoted\" \\ id é"] {
                    let rec = Rec {
                        at: Timestamp::from_micros(1_700_000_000_123_456 - 7 * i as i64),
                        conn: conn.into(),
                        kind: frame(from, text.into()),
                    };
                    let mut got = b"kept ".to_vec();
                    rec.encode(&mut got).unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&got[5..]),
                        String::from_utf8_lossy(&recorded(&rec))
                    );
                    assert_eq!(&got[..5], b"kept ");
                }
            }
        }
    }
}
