//! The trace recorder: engine [`Event`]s → JSON Lines, in exactly the format
//! [`crate::source::trace_reader`] reads, so a recorded session can be checked later with
//! `ocpp-inspector check` and gets the verdict it got live.
//!
//! Each record is written whole and flushed at once: a recorder killed mid-run loses
//! nothing it already accepted. It judges nothing and reads no clock (the time is in the
//! event).
//!
//! [`SharedRecorder`] is the proxy's evidence path: every relay writes the record of a frame
//! itself (one `write(2)` of the whole line, under a lock) BEFORE it forwards the frame, so
//! whatever a peer received is in the file even if the process is killed with SIGKILL right
//! after (the kernel holds what was written; no `fsync`, so a power cut is another matter).
//! When a write fails (disk full, I/O error) the half-written line is cut off again, the
//! frames that could not be written are counted, and the next record that can be written is
//! preceded by a gap record with that count (`{"event":"gap","reason":…,"frames":N}`).

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::sync::Mutex;

use serde::Serialize;

use crate::engine::{Event, EventKind, Origin};

/// One trace record as written. Members that do not apply are left out.
#[derive(Serialize)]
struct Out<'a> {
    ts: &'a str,
    /// Left out of a gap record that concerns every connection.
    #[serde(skip_serializing_if = "str::is_empty")]
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
    client_cert_san: Option<&'a str>,
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
    /// On a close the proxy made because a peer broke RFC 6455: which peer, and what it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    fault_from: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<&'a str>,
    /// On an open record: the charger's address (the real client's, behind a PROXY-protocol
    /// load balancer) and the proxy instance that recorded it (`--instance`).
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<&'a str>,
    /// On a frame: it came as several WebSocket frames (continuation frames); the text is
    /// the whole message, as forwarded.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    fragmented: bool,
}

/// What a record may say beyond the engine event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extra<'a> {
    /// A frame the inspector sent itself (also marked when the event's origin is
    /// [`Origin::Inspector`]).
    pub injected: bool,
    /// A protocol error that made the proxy fail the connection: the peer and what it did.
    pub fault: Option<(crate::ocpp::Side, &'a str)>,
    /// On an open: the charger's address.
    pub peer: Option<&'a str>,
    /// A frame that arrived in WebSocket fragments (written on frame records only).
    pub fragmented: bool,
}

/// A gap record: frames missing from the trace at this point (see the trace format).
#[derive(Serialize)]
struct Gap<'a> {
    ts: &'a str,
    event: &'static str,
    reason: &'a str,
    frames: u64,
}

/// Writes trace records to `W`, one line each, flushed per record.
pub struct Recorder<W: Write> {
    out: W,
    line: Vec<u8>,
    records: u64,
    /// Named on every open record (`--instance`).
    instance: Option<Box<str>>,
}

impl<W: Write> Recorder<W> {
    pub fn new(out: W) -> Self {
        Recorder {
            out,
            line: Vec::with_capacity(512),
            records: 0,
            instance: None,
        }
    }

    /// Names the proxy instance on every open record (several proxies behind a load
    /// balancer: which one recorded the connection).
    pub fn instance(mut self, name: Option<&str>) -> Self {
        self.instance = name.map(Into::into);
        self
    }

    /// Records one event (a frame of [`Origin::Inspector`] as injected).
    pub fn record(&mut self, event: &Event<'_>) -> io::Result<()> {
        self.record_extra(event, Extra::default())
    }

    /// Records one event with what the record says beyond it.
    pub fn record_extra(&mut self, event: &Event<'_>, extra: Extra<'_>) -> io::Result<()> {
        self.serialize(event, extra)?;
        let written = self.out.write_all(&self.line);
        self.release_large_line();
        written?;
        self.out.flush()?;
        self.records += 1;
        Ok(())
    }

    /// Lets go of the line buffer once it has held a large record (a frame of megabytes),
    /// so the recorder does not keep the largest record's size for the rest of the run.
    fn release_large_line(&mut self) {
        if self.line.capacity() > 64 << 10 {
            self.line = Vec::with_capacity(512);
        }
    }

    /// Puts the record of `event` as one line (with its newline) into `self.line`.
    fn serialize(&mut self, event: &Event<'_>, extra: Extra<'_>) -> io::Result<()> {
        let injected = extra.injected
            || matches!(
                event.kind,
                EventKind::Frame {
                    origin: Origin::Inspector,
                    ..
                }
            );
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
            client_cert_san: None,
            basic_auth_user: None,
            offered_subprotocols: None,
            code: None,
            by: None,
            reason: None,
            frames: None,
            injected,
            fault_from: extra.fault.map(|(side, _)| side.as_str()),
            fault: extra.fault.map(|(_, what)| what),
            peer: None,
            instance: None,
            fragmented: false,
        };
        match event.kind {
            EventKind::Open(security) => {
                rec.event = Some("open");
                rec.subprotocol = security.subprotocol;
                rec.scheme = security.scheme;
                rec.tls_version = security.tls_version;
                rec.client_cert_subject = security.client_cert_subject;
                rec.client_cert_san = security.client_cert_san;
                rec.basic_auth_user = security.basic_auth_user;
                rec.offered_subprotocols = security.offered_subprotocols;
                rec.peer = extra.peer;
                rec.instance = self.instance.as_deref();
            }
            EventKind::Frame { from, text, .. } => {
                rec.from = Some(from.as_str());
                rec.text = Some(text.get());
                rec.fragmented = extra.fragmented;
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

/// What a [`SharedRecorder`] writes to: a file it can cut back after a failed write.
pub trait RecordFile: Write + Send {
    /// Makes the file `len` bytes long and the next write go there.
    fn cut(&mut self, len: u64) -> io::Result<()>;
    /// Asks the system to put what was written on the disk (at the end only).
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl RecordFile for File {
    fn cut(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)?;
        self.seek(SeekFrom::Start(len)).map(|_| ())
    }
    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }
}

/// The recording file shared by every relay of a proxy (see the module documentation).
pub struct SharedRecorder<F: RecordFile = File> {
    inner: Mutex<Lane<F>>,
}

struct Lane<F: RecordFile> {
    rec: Recorder<F>,
    /// The time of the last record asked for (a gap record at the end carries it).
    last_at: Option<crate::time::Timestamp>,
    /// Bytes of whole records in the file: where a failed write is cut back to.
    good: u64,
    /// Frames (records) not written since the last gap record, and why.
    lost: u64,
    lost_reason: &'static str,
    /// Every record not written over the run.
    lost_total: u64,
    /// The first write error, for the operator.
    first_error: Option<String>,
}

/// A [`SharedRecorder`] held by one writer.
pub struct Held<'a, F: RecordFile>(std::sync::MutexGuard<'a, Lane<F>>);

impl<F: RecordFile> Held<'_, F> {
    /// Writes the record of `event` (one write of the whole line); its 1-based line in the
    /// file, as `check` will number it, or `None` when it could not be written.
    pub fn write(&mut self, event: &Event<'_>, extra: Extra<'_>) -> Option<u64> {
        self.0.write(event, extra)
    }
}

/// What a [`SharedRecorder`] came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingOutcome {
    /// Records written (gap records included).
    pub records: u64,
    /// Records that could not be written (disk full, I/O error).
    pub lost: u64,
    pub first_error: Option<String>,
}

fn reason_of(e: &io::Error) -> &'static str {
    if e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
        "disk full"
    } else {
        "write failed"
    }
}

impl<F: RecordFile> SharedRecorder<F> {
    /// Records into `file` (created or truncated by the caller), from its start.
    pub fn new(file: F) -> Self {
        SharedRecorder {
            inner: Mutex::new(Lane {
                rec: Recorder::new(file),
                last_at: None,
                good: 0,
                lost: 0,
                lost_reason: "",
                lost_total: 0,
                first_error: None,
            }),
        }
    }

    /// Names the proxy instance on every open record (see [`Recorder::instance`]).
    pub fn with_instance(self, name: Option<&str>) -> Self {
        if let Ok(mut lane) = self.inner.lock() {
            lane.rec.instance = name.map(Into::into);
        }
        self
    }

    /// The file, held: what the holder writes and hands on while holding it is in the
    /// file's order. `None` if a writer panicked while holding it.
    pub fn hold(&self) -> Option<Held<'_, F>> {
        self.inner.lock().ok().map(Held)
    }

    /// Records `event`; its line number, or `None` when it could not be written.
    pub fn record(&self, event: &Event<'_>, extra: Extra<'_>) -> Option<u64> {
        self.hold()?.write(event, extra)
    }

    /// Writes the pending gap record, if any, and says what the recording came to.
    pub fn finish(&self) -> RecordingOutcome {
        let Ok(mut lane) = self.inner.lock() else {
            return RecordingOutcome {
                first_error: Some("the recorder's lock was poisoned".into()),
                ..RecordingOutcome::default()
            };
        };
        let _ = lane.write_gap(None);
        let _ = lane.rec.out.flush();
        let _ = lane.rec.out.sync();
        RecordingOutcome {
            records: lane.rec.records,
            lost: lane.lost_total,
            first_error: lane.first_error.clone(),
        }
    }
}

impl<F: RecordFile> Lane<F> {
    fn write(&mut self, event: &Event<'_>, extra: Extra<'_>) -> Option<u64> {
        self.last_at = Some(event.at);
        if self.lost > 0 && self.write_gap(Some(event)).is_err() {
            self.lose(None);
            return None;
        }
        if let Err(e) = self.rec.serialize(event, extra) {
            self.lose(Some(&e));
            return None;
        }
        match self.put() {
            Ok(()) => Some(self.rec.records),
            Err(e) => {
                self.lose(Some(&e));
                None
            }
        }
    }

    /// Writes `self.rec.line` whole or cuts the file back to the last whole record.
    fn put(&mut self) -> io::Result<()> {
        let written = self.rec.out.write_all(&self.rec.line);
        let len = self.rec.line.len() as u64;
        self.rec.release_large_line();
        let out = &mut self.rec.out;
        match written {
            Ok(()) => {
                self.good += len;
                self.rec.records += 1;
                Ok(())
            }
            Err(e) => {
                // No torn line is left behind: the next record starts where this one did.
                let _ = out.cut(self.good);
                Err(e)
            }
        }
    }

    fn lose(&mut self, e: Option<&io::Error>) {
        if let Some(e) = e {
            if self.lost == 0 {
                self.lost_reason = reason_of(e);
            }
            if self.first_error.is_none() {
                self.first_error = Some(e.to_string());
            }
        }
        self.lost += 1;
        self.lost_total += 1;
    }

    /// The gap record for the frames lost so far, stamped with the time of `next` (the
    /// record about to be written) or, at the end, of the last record asked for.
    fn write_gap(&mut self, next: Option<&Event<'_>>) -> io::Result<()> {
        if self.lost == 0 {
            return Ok(());
        }
        let at = next
            .map(|e| e.at)
            .or(self.last_at)
            .unwrap_or(crate::time::Timestamp::from_micros(0));
        let ts = at.to_rfc3339_micros();
        self.rec.line.clear();
        serde_json::to_writer(
            &mut self.rec.line,
            &Gap {
                ts: &ts,
                event: "gap",
                reason: self.lost_reason,
                frames: self.lost,
            },
        )
        .map_err(io::Error::other)?;
        self.rec.line.push(b'\n');
        self.put()?;
        self.lost = 0;
        Ok(())
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
                client_cert_san: Some("cp-1.example.com, CP-1"),
                basic_auth_user: Some("CP-1"),
                offered_subprotocols: Some("ocpp2.0.1, ocpp1.6"),
            })),
            ev(EventKind::Frame {
                from: Side::Csms,
                text: text.into(),
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
        assert!(matches!(
            read_back(lines[1]).kind,
            Some(RecordKind::Frame { .. })
        ));
    }

    #[test]
    fn injected_frames_are_marked_and_others_are_not() {
        let mut rec = Recorder::new(Vec::new());
        let e = ev(EventKind::Frame {
            from: Side::Csms,
            text: "[2,\"9\",\"Reset\",{}]".into(),
            origin: Origin::Peer,
        });
        rec.record(&e).expect("write");
        let injected = ev(EventKind::Frame {
            from: Side::Csms,
            text: "[2,\"9\",\"Reset\",{}]".into(),
            origin: Origin::Inspector,
        });
        rec.record(&injected).expect("write");
        let out = String::from_utf8(rec.into_inner().expect("flush")).expect("utf-8");
        let lines: Vec<&str> = out.lines().collect();
        assert!(!lines[0].contains("injected"));
        assert!(lines[1].contains("\"injected\":true"));
    }

    /// A file that fails its writes while `full` is set, like a full disk: it may take part
    /// of a line first.
    #[derive(Default)]
    struct Flaky {
        data: Vec<u8>,
        full: std::sync::Arc<std::sync::atomic::AtomicBool>,
    }
    impl Write for Flaky {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.full.load(std::sync::atomic::Ordering::Relaxed) {
                if b.len() > 4 {
                    // A torn write: some bytes land, then ENOSPC.
                    self.data.extend_from_slice(&b[..4]);
                    return Ok(4);
                }
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            self.data.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl RecordFile for Flaky {
        fn cut(&mut self, len: u64) -> io::Result<()> {
            self.data.truncate(usize::try_from(len).unwrap());
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_leaves_no_torn_line_and_a_gap_record_with_the_count() {
        let flaky = Flaky::default();
        let full = flaky.full.clone();
        let rec = SharedRecorder::new(flaky);
        let frame = |i: i64| Event {
            at: Timestamp::from_micros(1_795_000_000_000_000 + i),
            conn: "CP-1",
            line: 0,
            kind: EventKind::Frame {
                from: Side::Charger,
                text: "[2,\"1\",\"Heartbeat\",{}]".into(),
                origin: Origin::Peer,
            },
        };
        assert_eq!(rec.record(&frame(0), Extra::default()), Some(1));
        full.store(true, std::sync::atomic::Ordering::Relaxed);
        for i in 1..=3 {
            assert_eq!(rec.record(&frame(i), Extra::default()), None);
        }
        full.store(false, std::sync::atomic::Ordering::Relaxed);
        // The gap record is line 2, the frame after it line 3.
        assert_eq!(rec.record(&frame(4), Extra::default()), Some(3));
        let out = rec.finish();
        assert_eq!((out.records, out.lost), (3, 3));
        let data = rec.inner.into_inner().unwrap().rec.out.data;
        let text = String::from_utf8(data).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        read_back(lines[0]);
        read_back(lines[2]);
        let gap: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(gap["event"], "gap");
        assert_eq!(gap["reason"], "disk full");
        assert_eq!(gap["frames"], 3);
    }

    #[test]
    fn a_fault_is_noted_on_the_close_record() {
        let mut rec = Recorder::new(Vec::new());
        let close = ev(EventKind::Close {
            code: Some(1007),
            by: None,
        });
        rec.record_extra(
            &close,
            Extra {
                fault: Some((Side::Charger, "invalid UTF-8 in a text message")),
                ..Extra::default()
            },
        )
        .unwrap();
        let out = String::from_utf8(rec.into_inner().unwrap()).unwrap();
        assert!(
            out.contains("\"fault_from\":\"charger\",\"fault\":\"invalid UTF-8"),
            "{out}"
        );
        assert!(matches!(
            read_back(out.trim()).event(1).unwrap().kind,
            EventKind::Close {
                code: Some(1007),
                by: None
            }
        ));
    }
}
