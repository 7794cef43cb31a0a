//! Open OCPP Trace (JSON Lines of `OcppTraceRecord`, schema `trace-v1`), both ways: import
//! into our records, and export of our records (`convert --to oot`).
//!
//! Import: the frame is the record's `raw` when present, else rebuilt from `messageType`,
//! `messageId`, `action`, `payload` and `error`; the identity is `chargePointId` (or
//! `--conn`); the first `ocppVersion` of a station gives an `open` record (the format has no
//! connection events; said once in a note). SOAP records are not OCPP-J and are reported.
//! Export: frames only (the format has no open, close or gap records; said in a note), the
//! action of an answer taken from its CALL. It judges nothing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{Event, EventKind};
use crate::ocpp::Side;
use crate::source::input::{self, Importer, InputOptions, Problem, Produced};
use crate::source::trace_reader::LineReader;
use crate::time::Timestamp;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OotIn {
    timestamp: Option<String>,
    ocpp_version: Option<String>,
    transport: Option<String>,
    charge_point_id: Option<String>,
    direction: Option<String>,
    message_type: Option<String>,
    message_id: Option<String>,
    action: Option<String>,
    payload: Option<Value>,
    raw: Option<String>,
    error: Option<OotError>,
}

#[derive(Deserialize, Serialize, Default)]
struct OotError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    details: Option<Value>,
}

/// Reads an Open OCPP Trace file.
pub struct OotImporter<R> {
    lines: LineReader<R>,
    conn_flag: Option<String>,
    opened: HashSet<String>,
    done: bool,
}

impl<R: BufRead> OotImporter<R> {
    pub fn new(reader: R, opts: &InputOptions) -> Self {
        OotImporter {
            lines: LineReader::new(reader),
            conn_flag: opts.conn.clone(),
            opened: HashSet::new(),
            done: false,
        }
    }
}

fn problem(line: u64, message: String) -> Produced {
    Produced::Problem(Problem {
        pos: line,
        message: format!("line {line}: {message}"),
    })
}

impl<R: BufRead> Importer for OotImporter<R> {
    fn pump(&mut self, out: &mut VecDeque<Produced>) -> bool {
        if self.done {
            return false;
        }
        let (n, line) = match self.lines.next_line() {
            Ok(Some(x)) => x,
            Ok(None) => {
                self.done = true;
                return false;
            }
            Err(e) => {
                out.push_back(problem(self.lines.line() + 1, format!("read error: {e}")));
                self.done = true;
                return false;
            }
        };
        let rec: OotIn = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(e) => {
                out.push_back(problem(n, format!("not an Open OCPP Trace record: {e}")));
                return true;
            }
        };
        match convert_in(rec, self.conn_flag.as_deref()) {
            Ok((conn, at, version, from, text)) => {
                if !self.opened.contains(&conn) {
                    self.opened.insert(conn.clone());
                    let sub = version.as_deref().map(|v| format!("ocpp{v}"));
                    out.push_back(Produced::Note(format!(
                        "{conn}: Open OCPP Trace has no connection events; an open{} is assumed before its first record",
                        sub.as_deref().map(|s| format!(" with subprotocol {s} (from ocppVersion)")).unwrap_or_default()
                    )));
                    let open = input::assumed_open(sub);
                    out.push_back(Produced::record(n, at, conn.clone(), open));
                }
                let frame = input::frame(from, text);
                out.push_back(Produced::record(n, at, conn, frame));
            }
            Err(e) => out.push_back(problem(n, e.to_string())),
        }
        true
    }
}

type Converted = (String, Timestamp, Option<String>, Side, String);

/// Why an Open OCPP Trace record cannot be read as a frame (reported with its line).
#[derive(Debug, thiserror::Error)]
enum OotRecordError {
    #[error("missing `timestamp`")]
    NoTimestamp,
    #[error("`timestamp` \"{ts}\" is not an RFC 3339 date-time: {reason}")]
    Timestamp { ts: String, reason: String },
    #[error("a SOAP record (OCPP-S); only OCPP-J (transport json) is read")]
    Soap,
    #[error("`direction` must be cp-to-csms or csms-to-cp, got \"{0}\"")]
    Direction(String),
    #[error("missing `direction`")]
    NoDirection,
    #[error("no `chargePointId` (pass --conn to name the station)")]
    NoStation,
    #[error("no `raw` and no `messageId`")]
    NoMessageId,
    #[error("a CALL without `action`")]
    NoAction,
    #[error("unknown `messageType` \"{0}\"")]
    MessageType(String),
    #[error("no `raw` and no `messageType`")]
    NoMessageType,
}

fn convert_in(r: OotIn, conn_flag: Option<&str>) -> Result<Converted, OotRecordError> {
    let ts = r.timestamp.ok_or(OotRecordError::NoTimestamp)?;
    let at = match Timestamp::parse_rfc3339(&ts) {
        Ok(at) => at,
        Err(e) => {
            let reason = e.to_string();
            return Err(OotRecordError::Timestamp { ts, reason });
        }
    };
    if r.transport.as_deref() == Some("soap") {
        return Err(OotRecordError::Soap);
    }
    let from = match r.direction {
        Some(d) if d == "cp-to-csms" => Side::Charger,
        Some(d) if d == "csms-to-cp" => Side::Csms,
        Some(other) => return Err(OotRecordError::Direction(other)),
        None => return Err(OotRecordError::NoDirection),
    };
    let conn = r
        .charge_point_id
        .filter(|c| !c.is_empty())
        .or_else(|| conn_flag.map(str::to_owned))
        .ok_or(OotRecordError::NoStation)?;
    let text = match r.raw {
        Some(raw) => raw,
        None => {
            let id = Value::String(r.message_id.ok_or(OotRecordError::NoMessageId)?);
            let payload = r
                .payload
                .unwrap_or_else(|| Value::Object(Default::default()));
            let arr = match r.message_type.as_deref() {
                Some("CALL") => {
                    let action = r.action.ok_or(OotRecordError::NoAction)?;
                    vec![Value::from(2), id, Value::String(action), payload]
                }
                Some("CALLRESULT") => vec![Value::from(3), id, payload],
                Some("CALLERROR") => {
                    let e = r.error.unwrap_or_default();
                    vec![
                        Value::from(4),
                        id,
                        Value::String(e.code.unwrap_or_default()),
                        Value::String(e.description.unwrap_or_default()),
                        e.details
                            .unwrap_or_else(|| Value::Object(Default::default())),
                    ]
                }
                Some(other) => return Err(OotRecordError::MessageType(other.to_owned())),
                None => return Err(OotRecordError::NoMessageType),
            };
            Value::Array(arr).to_string()
        }
    };
    Ok((conn, at, r.ocpp_version, from, text))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OotOut<'a> {
    schema_version: &'static str,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocpp_version: Option<&'a str>,
    transport: &'static str,
    charge_point_id: &'a str,
    direction: &'static str,
    message_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a Value>,
    raw: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<OotError>,
}

/// Writes our records as Open OCPP Trace.
pub struct OotWriter<W: Write> {
    out: W,
    versions: HashMap<String, String>,
    /// Action of each outstanding CALL, by (conn, caller, id); bounded per station.
    calls: HashMap<(String, bool, String), String>,
    /// Records the format cannot hold (open, close, gap, SEND, unparsable frames).
    pub skipped: u64,
    pub written: u64,
}

impl<W: Write> OotWriter<W> {
    pub fn new(out: W) -> Self {
        OotWriter {
            out,
            versions: HashMap::new(),
            calls: HashMap::new(),
            skipped: 0,
            written: 0,
        }
    }

    /// Writes one event (frames only; the rest is counted in `skipped`).
    pub fn write(&mut self, event: &Event<'_>) -> io::Result<()> {
        let (from, text) = match event.kind {
            EventKind::Open(h) => {
                if let Some(v) = h.subprotocol.and_then(|s| s.strip_prefix("ocpp")) {
                    self.versions.insert(event.conn.to_owned(), v.to_owned());
                }
                self.skipped += 1;
                return Ok(());
            }
            EventKind::Frame { from, text, .. } => (from, text),
            _ => {
                self.skipped += 1;
                return Ok(());
            }
        };
        let Ok(Value::Array(arr)) = serde_json::from_str::<Value>(text.get()) else {
            self.skipped += 1;
            return Ok(());
        };
        let id = arr.get(1).and_then(Value::as_str);
        let by_charger = from == Side::Charger;
        let (message_type, action, payload, error) = match arr.first().and_then(Value::as_u64) {
            Some(2) => {
                let action = arr.get(2).and_then(Value::as_str);
                if let (Some(id), Some(a)) = (id, action) {
                    if self.calls.len() > 100_000 {
                        self.calls.clear();
                    }
                    self.calls.insert(
                        (event.conn.to_owned(), by_charger, id.to_owned()),
                        a.to_owned(),
                    );
                }
                ("CALL", action.map(str::to_owned), arr.get(3), None)
            }
            Some(3) => {
                let action = id.and_then(|id| {
                    self.calls
                        .remove(&(event.conn.to_owned(), !by_charger, id.to_owned()))
                });
                ("CALLRESULT", action, arr.get(2), None)
            }
            Some(4) => {
                let action = id.and_then(|id| {
                    self.calls
                        .remove(&(event.conn.to_owned(), !by_charger, id.to_owned()))
                });
                let error = OotError {
                    code: arr.get(2).and_then(Value::as_str).map(str::to_owned),
                    description: arr.get(3).and_then(Value::as_str).map(str::to_owned),
                    details: arr.get(4).cloned(),
                };
                ("CALLERROR", action, None, Some(error))
            }
            _ => {
                self.skipped += 1;
                return Ok(());
            }
        };
        let rec = OotOut {
            schema_version: "1.1",
            timestamp: event.at.to_rfc3339_micros(),
            ocpp_version: self.versions.get(event.conn).map(String::as_str),
            transport: "json",
            charge_point_id: event.conn,
            direction: if by_charger {
                "cp-to-csms"
            } else {
                "csms-to-cp"
            },
            message_type,
            message_id: id,
            action: action.as_deref(),
            payload,
            raw: text.get(),
            error,
        };
        serde_json::to_writer(&mut self.out, &rec).map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    /// The writer (to take out what was written so far).
    pub fn out_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
