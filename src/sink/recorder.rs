//! The trace recorder: engine [`Event`]s → JSON Lines, in exactly the format
//! [`crate::source::trace_reader`] reads, so a recorded session can be checked later with
//! `ocpp-inspector check` and gets the verdict it got live.
//!
//! Each record is written whole and flushed at once: a recorder killed mid-run loses
//! nothing it already accepted. It judges nothing and reads no clock (the time is in the
//! event).

use std::io::{self, Write};

use serde::Serialize;

use crate::engine::{Event, EventKind, Origin};

/// One trace record as written. Members that do not apply are left out.
#[derive(Serialize)]
struct Out<'a> {
    ts: &'a str,
    conn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary_len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subprotocol: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_cert_subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    basic_auth_user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offered_subprotocols: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frames: Option<u64>,
    /// Marks a frame the inspector itself sent (a test case driving the device), so a
    /// reader can tell it from the peers' own traffic.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    injected: bool,
}

/// Writes trace records to `W`, one line each, flushed per record.
pub struct Recorder<W: Write> {
    out: W,
    line: Vec<u8>,
    records: u64,
}

impl<W: Write> Recorder<W> {
    pub fn new(out: W) -> Self {
        Recorder {
            out,
            line: Vec::with_capacity(512),
            records: 0,
        }
    }

    /// Records one event (a frame of [`Origin::Inspector`] as injected).
    pub fn record(&mut self, event: &Event<'_>) -> io::Result<()> {
        let injected = matches!(
            event.kind,
            EventKind::Frame {
                origin: Origin::Inspector,
                ..
            }
        );
        self.record_marked(event, injected)
    }

    /// Records one event; `injected` marks a frame the inspector sent itself.
    pub fn record_marked(&mut self, event: &Event<'_>, injected: bool) -> io::Result<()> {
        let ts = event.at.to_rfc3339_micros();
        let mut rec = Out {
            ts: &ts,
            conn: event.conn,
            event: None,
            from: None,
            text: None,
            binary_len: None,
            subprotocol: None,
            scheme: None,
            tls_version: None,
            client_cert_subject: None,
            basic_auth_user: None,
            offered_subprotocols: None,
            code: None,
            by: None,
            reason: None,
            frames: None,
            injected,
        };
        match event.kind {
            EventKind::Open(security) => {
                rec.event = Some("open");
                rec.subprotocol = security.subprotocol;
                rec.scheme = security.scheme;
                rec.tls_version = security.tls_version;
                rec.client_cert_subject = security.client_cert_subject;
                rec.basic_auth_user = security.basic_auth_user;
                rec.offered_subprotocols = security.offered_subprotocols;
            }
            EventKind::Frame { from, text, .. } => {
                rec.from = Some(from.as_str());
                rec.text = Some(text);
            }
            EventKind::Binary { from, len } => {
                rec.from = Some(from.as_str());
                rec.binary_len = Some(len);
            }
            EventKind::Close { code, by } => {
                rec.event = Some("close");
                rec.code = code;
                rec.by = by.map(|s| s.as_str());
            }
            EventKind::Gap { frames, reason } => {
                rec.event = Some("gap");
                rec.reason = reason;
                rec.frames = frames;
            }
        }
        self.line.clear();
        serde_json::to_writer(&mut self.line, &rec).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()?;
        self.records += 1;
        Ok(())
    }

    /// How many records were written.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes and hands back the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Handshake;
    use crate::ocpp::Side;
    use crate::source::trace_reader::{Record, RecordKind};
    use crate::time::Timestamp;

    fn ev(kind: EventKind<'_>) -> Event<'_> {
        Event {
            at: Timestamp::from_micros(1_795_000_000_123_000),
            conn: "CP/1\"x",
            line: 0,
            kind,
        }
    }

    fn read_back(line: &str) -> Record<'_> {
        crate::source::trace_reader::parse_record(line.as_bytes(), 1)
            .expect("the recorder writes what the reader reads")
    }

    #[test]
    fn every_event_kind_reads_back_unchanged() {
        let text = "[2,\"1\",\"Heartbeat\",{}]\u{2028}\"\\ \u{0}";
        let events = [
            ev(EventKind::Open(Handshake {
                subprotocol: Some("ocpp2.0.1"),
                scheme: Some("wss"),
                tls_version: Some("1.3"),
                client_cert_subject: Some("CN=CP-1"),
                basic_auth_user: Some("CP-1"),
                offered_subprotocols: Some("ocpp2.0.1, ocpp1.6"),
            })),
            ev(EventKind::Frame {
                from: Side::Csms,
                text,
                origin: Origin::Peer,
            }),
            ev(EventKind::Binary {
                from: Side::Charger,
                len: 7,
            }),
            ev(EventKind::Close {
                code: Some(1001),
                by: Some(Side::Charger),
            }),
        ];
        let mut rec = Recorder::new(Vec::new());
        for e in &events {
            rec.record(e).expect("write to a Vec");
        }
        assert_eq!(rec.records(), 4);
        let out = String::from_utf8(rec.into_inner().expect("flush")).expect("utf-8");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4);
        for (line, want) in lines.iter().zip(&events) {
            let got = read_back(line);
            assert_eq!(got.at, want.at);
            assert_eq!(got.conn, want.conn);
            let got = got.event(1).expect("an engine event");
            assert_eq!(format!("{:?}", got.kind), format!("{:?}", want.kind));
        }
        assert!(matches!(read_back(lines[1]).kind, RecordKind::Frame { .. }));
    }

    #[test]
    fn injected_frames_are_marked_and_others_are_not() {
        let mut rec = Recorder::new(Vec::new());
        let e = ev(EventKind::Frame {
            from: Side::Csms,
            text: "[2,\"9\",\"Reset\",{}]",
            origin: Origin::Peer,
        });
        rec.record(&e).expect("write");
        rec.record_marked(&e, true).expect("write");
        let out = String::from_utf8(rec.into_inner().expect("flush")).expect("utf-8");
        let lines: Vec<&str> = out.lines().collect();
        assert!(!lines[0].contains("injected"));
        assert!(lines[1].contains("\"injected\":true"));
    }
}
