//! The trace reader: JSON Lines → [`Event`]s, streaming, with 1-based line numbers.
//!
//! One record per line (see the README, "Trace format"):
//! - frame: `{"ts":"…","conn":"CP-001","from":"charger","text":"[2,\"1\",\"Heartbeat\",{}]"}`
//! - open:  `{"ts":"…","conn":"CP-001","event":"open","subprotocol":"ocpp1.6"}`
//! - close: `{"ts":"…","conn":"CP-001","event":"close","code":1000,"by":"charger"}`
//! - gap:   `{"ts":"…","conn":"CP-001","event":"gap","reason":"capture loss","frames":3}`:
//!   frames are missing here (`frames` when known; no `conn`: every connection of the file);
//!   what follows is judged like a trace that starts mid-life.
//!
//! - `"injected":true` on a frame: the inspector sent it (or it answers such a call); the
//!   frame's [`Origin::Inspector`].
//!
//! Unknown members are ignored (the format grows by adding members); unknown `event` kinds
//! are skipped. A line that is not a record is a [`RecordError`] naming the line; the reader
//! goes on with the next line. `text` may hold anything, invalid JSON included: judging it
//! is the engine's job.

mod fast;

use std::borrow::Cow;
use std::io::{self, BufRead};

use serde::Deserialize;

use crate::engine::{Event, Origin};
use crate::ocpp::Side;
use crate::source::event::{EventKindOf, HandshakeOf};
use crate::time::Timestamp;
use crate::wire::TextCell;
use crate::wire::doc::Doc;

/// Why a line is not a trace record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RecordError {
    pub line: u64,
    pub message: String,
}

#[derive(Deserialize)]
struct RawRecord<'a> {
    #[serde(borrow, default)]
    ts: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    conn: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    from: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    subprotocol: Option<Cow<'a, str>>,
    #[serde(default)]
    code: Option<u16>,
    #[serde(borrow, default)]
    by: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    scheme: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tls_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    client_cert_subject: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    client_cert_san: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    basic_auth_user: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    offered_subprotocols: Option<Cow<'a, str>>,
    /// A binary frame's length (the proxy records binary frames this way).
    #[serde(default)]
    binary_len: Option<usize>,
    /// A gap record: why frames are missing, and how many when known.
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
    #[serde(default)]
    frames: Option<u64>,
    /// A frame the inspector injected itself (a test case driving the charger).
    #[serde(default)]
    injected: bool,
}

/// A parsed record: the event's string fields borrow from the line when they hold no
/// escapes; the usual frame's `text` stays escaped in the line until something needs it
/// plain (the engine parses it as it stands), so it costs no allocation.
pub struct Record<'a> {
    pub at: Timestamp,
    pub conn: Cow<'a, str>,
    /// The event; `None` for an `event` kind this reader does not know (written by a newer
    /// version), which is skipped. A frame's `"injected":true` is its [`Origin::Inspector`]
    /// (see [`crate::source::proxy::inject`]): judged like any frame, marked in reports.
    pub kind: Option<RecordKind<'a>>,
}

/// The event of a record, its strings borrowed from the line where they can be.
pub type RecordKind<'a> = EventKindOf<Cow<'a, str>, TextCell<'a>>;

impl<'a> Record<'a> {
    /// The engine event for this record.
    pub fn event(&self, line: u64) -> Option<Event<'_>> {
        Some(Event {
            at: self.at,
            conn: &self.conn,
            line,
            kind: self.kind.as_ref()?.borrowed(),
        })
    }
}

/// A `from` or `by` that names neither side.
#[derive(Debug, thiserror::Error)]
#[error("`{field}` must be \"charger\" or \"csms\", got \"{got}\"")]
struct BadSide {
    field: &'static str,
    got: String,
}

fn side(s: &str, field: &'static str) -> Result<Side, BadSide> {
    s.parse().map_err(|_| BadSide {
        field,
        got: s.to_owned(),
    })
}

/// Parses one line (without its line terminator) as a trace record.
/// A frame record's text is left escaped as the record holds it: the engine parses the
/// frame from it as it stands, into its reused document.
pub fn parse_record(line: &[u8], line_no: u64) -> Result<Record<'_>, RecordError> {
    parse_record_with(line, line_no, None)
}

/// [`parse_record`] for a reader that feeds an engine: the usual frame record's frame is
/// read into the engine's document ([`crate::engine::Engine::frame_doc`]) in the same pass
/// that checks its text, and the record's text carries the stamp of that reading (the
/// engine then does not read it again). The same record or error.
pub fn parse_record_into<'a>(
    line: &'a [u8],
    line_no: u64,
    doc: &mut Doc,
) -> Result<Record<'a>, RecordError> {
    parse_record_with(line, line_no, Some(doc))
}

fn parse_record_with<'a>(
    line: &'a [u8],
    line_no: u64,
    doc: Option<&mut Doc>,
) -> Result<Record<'a>, RecordError> {
    let err = |message: String| RecordError {
        line: line_no,
        message,
    };
    let text = std::str::from_utf8(line).map_err(|e| {
        err(format!(
            "not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    // The usual frame record, read in one pass; anything else (or anything wrong with it)
    // is read below, which also words the error.
    if let Some(f) = fast::frame_record(text, doc)
        && !f.conn.is_empty()
        && let (Ok(at), Ok(from)) = (Timestamp::parse_rfc3339(f.ts), f.from.parse::<Side>())
    {
        return Ok(Record {
            at,
            conn: f.conn,
            kind: Some(RecordKind::Frame {
                from,
                text: TextCell::escaped_parsed(f.text, f.parsed),
                origin: Origin::of_injected(f.injected),
            }),
        });
    }
    parse_general(text, line_no)
}

/// Reads any record the general way (serde): every member, every error worded.
fn parse_general(text: &str, line_no: u64) -> Result<Record<'_>, RecordError> {
    let err = |message: String| RecordError {
        line: line_no,
        message,
    };
    let raw: RawRecord<'_> =
        serde_json::from_str(text).map_err(|e| err(format!("not a trace record: {e}")))?;
    let ts = raw
        .ts
        .ok_or_else(|| err("missing `ts` (RFC 3339 timestamp)".into()))?;
    let at = Timestamp::parse_rfc3339(&ts)
        .map_err(|e| err(format!("`ts` \"{ts}\" is not an RFC 3339 timestamp: {e}")))?;
    let is_gap = raw.event.as_deref() == Some("gap");
    let conn = match raw.conn {
        Some(c) => c,
        // A gap record without `conn` concerns every connection.
        None if is_gap => Cow::Borrowed(""),
        None => return Err(err("missing `conn` (the station identity)".into())),
    };
    if conn.is_empty() && !is_gap {
        return Err(err("`conn` is empty".into()));
    }
    let kind = match (raw.event.as_deref(), raw.from) {
        (Some("open"), _) => Some(RecordKind::Open(HandshakeOf {
            subprotocol: raw.subprotocol,
            scheme: raw.scheme,
            tls_version: raw.tls_version,
            client_cert_subject: raw.client_cert_subject,
            client_cert_san: raw.client_cert_san,
            basic_auth_user: raw.basic_auth_user,
            offered_subprotocols: raw.offered_subprotocols,
        })),
        (Some("close"), _) => Some(RecordKind::Close {
            code: raw.code,
            by: raw
                .by
                .as_deref()
                .map(|b| side(b, "by"))
                .transpose()
                .map_err(|e| err(e.to_string()))?,
        }),
        (Some("gap"), _) => Some(RecordKind::Gap {
            frames: raw.frames,
            reason: raw.reason,
        }),
        (Some(_), _) => None,
        (None, Some(from)) => {
            let from = side(&from, "from").map_err(|e| err(e.to_string()))?;
            match (raw.text, raw.binary_len) {
                (Some(text), _) => Some(RecordKind::Frame {
                    from,
                    text: TextCell::plain(text),
                    origin: Origin::of_injected(raw.injected),
                }),
                (None, Some(len)) => Some(RecordKind::Binary { from, len }),
                (None, None) => {
                    return Err(err(
                        "a frame record needs `text` (the WebSocket payload)".into()
                    ));
                }
            }
        }
        (None, None) => {
            return Err(err(
                "neither a frame (`from` and `text`) nor an event (`event`: open or close)".into(),
            ));
        }
    };
    Ok(Record { at, conn, kind })
}

/// Finds the `conn` of a record cheaply, without parsing the whole line: the bytes between
/// the first `"conn":"` and the next quote. `None` when that is not certain (escapes,
/// unusual spacing); callers then parse the line fully.
pub fn quick_conn(line: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"\"conn\":\"";
    let pos = memchr::memmem::find(line, KEY)?;
    // Only a top-level member counts: exactly one `{` (the record's own) before it, so a
    // nested `"conn"` inside another member is never taken for the record's.
    if memchr::memchr_iter(b'{', &line[..pos]).count() != 1 {
        return None;
    }
    let start = pos + KEY.len();
    let len = memchr::memchr2(b'"', b'\\', &line[start..])?;
    (line.get(start + len) == Some(&b'"')).then(|| &line[start..start + len])
}

/// `BufRead::read_until(b'\n')`, with the vectorised search of `memchr` (std's is a
/// word-at-a-time loop: a tenth of `check`'s time went to finding line ends).
fn read_line<R: BufRead>(inner: &mut R, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match inner.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(read);
        }
        let (used, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        buf.extend_from_slice(&available[..used]);
        inner.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

/// Reads a trace line by line, keeping 1-based line numbers. Blank lines are skipped.
pub struct LineReader<R> {
    inner: R,
    line: u64,
    buf: Vec<u8>,
    /// The line last returned ended without a line terminator (the end of the input).
    torn: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            line: 0,
            buf: Vec::with_capacity(4096),
            torn: false,
        }
    }

    /// The next non-blank line and its number, without the line terminator.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        loop {
            self.buf.clear();
            if read_line(&mut self.inner, &mut self.buf)? == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.torn = self.buf.last() != Some(&b'\n');
            let mut end = self.buf.len();
            while end > 0 && matches!(self.buf[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            if self.buf[..end].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some((self.line, &self.buf[..end])));
        }
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Whether the line last returned had no line terminator: the last line of the input,
    /// perhaps cut short by a writer that stopped mid-record (a torn last line).
    pub fn last_torn(&self) -> bool {
        self.torn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_record_kinds() {
        let r = parse_record(
            br#"{"ts":"2026-11-22T10:15:03.125Z","conn":"CP-001","from":"charger","text":"[2,\"1\",\"Heartbeat\",{}]"}"#,
            1,
        )
        .unwrap();
        assert_eq!(&*r.conn, "CP-001");
        let Some(RecordKind::Frame { from, text, .. }) = &r.kind else {
            panic!()
        };
        assert_eq!(*from, Side::Charger);
        assert_eq!(&**text, r#"[2,"1","Heartbeat",{}]"#);
        let r = parse_record(br#"{"ts":"2026-11-22T10:15:03Z","conn":"CP-001","event":"open","subprotocol":"ocpp1.6","tls":{"v":"1.3"}}"#, 2).unwrap();
        assert!(
            matches!(r.kind, Some(RecordKind::Open(HandshakeOf { subprotocol: Some(ref s), .. })) if s == "ocpp1.6")
        );
        let r = parse_record(br#"{"ts":"2026-11-22T10:15:03Z","conn":"CP-001","event":"close","code":1000,"by":"csms"}"#, 3).unwrap();
        assert!(matches!(
            r.kind,
            Some(RecordKind::Close {
                code: Some(1000),
                by: Some(Side::Csms)
            })
        ));
        let r = parse_record(
            br#"{"ts":"2026-11-22T10:15:03Z","conn":"CP-001","event":"ping"}"#,
            4,
        )
        .unwrap();
        assert!(r.kind.is_none());
    }

    #[test]
    fn bad_lines_name_the_problem_and_the_line() {
        let cases: &[(&[u8], &str)] = &[
            (b"not json", "not a trace record"),
            (
                br#"{"conn":"a","from":"charger","text":""}"#,
                "missing `ts`",
            ),
            (
                br#"{"ts":"yesterday","conn":"a","from":"charger","text":""}"#,
                "RFC 3339",
            ),
            (
                br#"{"ts":"2026-11-22T10:15:03Z","from":"charger","text":""}"#,
                "missing `conn`",
            ),
            (
                br#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"server","text":""}"#,
                "\"charger\" or \"csms\"",
            ),
            (
                br#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms"}"#,
                "needs `text`",
            ),
            (
                br#"{"ts":"2026-11-22T10:15:03Z","conn":"a"}"#,
                "neither a frame",
            ),
            (
                b"{\"ts\":\"2026-11-22T10:15:03Z\",\"conn\":\"\xff\"}",
                "not valid UTF-8",
            ),
            (
                br#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"\ud800"}"#,
                "not a trace record",
            ),
        ];
        for (line, want) in cases {
            let e = parse_record(line, 7).err().unwrap();
            assert_eq!(e.line, 7);
            assert!(
                e.message.contains(want),
                "{:?}: {}",
                String::from_utf8_lossy(line),
                e.message
            );
        }
    }

    #[test]
    fn gap_records_parse_with_or_without_conn() {
        let r = parse_record(
            br#"{"ts":"2026-11-22T10:15:03Z","conn":"CP-1","event":"gap","reason":"capture loss","frames":3}"#,
            1,
        )
        .unwrap();
        assert_eq!(&*r.conn, "CP-1");
        assert!(
            matches!(r.kind, Some(RecordKind::Gap { reason: Some(ref reason), frames: Some(3) }) if reason == "capture loss")
        );
        let r = parse_record(
            br#"{"ts":"2026-11-22T10:15:03Z","event":"gap","reason":"disk full"}"#,
            2,
        )
        .unwrap();
        assert_eq!(&*r.conn, "");
        let e = r.event(2).unwrap();
        assert!(matches!(
            e.kind,
            crate::engine::EventKind::Gap { frames: None, .. }
        ));
        // Only a gap may leave out `conn`.
        assert!(parse_record(br#"{"ts":"2026-11-22T10:15:03Z","event":"close"}"#, 3).is_err());
    }

    #[test]
    fn line_reader_tells_a_torn_last_line() {
        let mut r = LineReader::new(&b"a\nb"[..]);
        r.next_line().unwrap();
        assert!(!r.last_torn());
        r.next_line().unwrap();
        assert!(r.last_torn());
    }

    #[test]
    fn quick_conn_agrees_with_the_parser_or_declines() {
        assert_eq!(
            quick_conn(br#"{"ts":"x","conn":"CP-1","from":"csms"}"#),
            Some(&b"CP-1"[..])
        );
        assert_eq!(
            quick_conn(br#"{"ts":"x","conn":"C\"P","from":"csms"}"#),
            None
        );
        assert_eq!(quick_conn(br#"{"ts":"x", "conn" : "CP-1"}"#), None);
    }

    #[test]
    fn line_reader_numbers_lines_and_skips_blank_ones() {
        let data = b"a\r\n\n  \nb\nc";
        let mut r = LineReader::new(&data[..]);
        let mut got = Vec::new();
        while let Some((n, l)) = r.next_line().unwrap() {
            got.push((n, String::from_utf8(l.to_vec()).unwrap()));
        }
        assert_eq!(got, vec![(1, "a".into()), (4, "b".into()), (5, "c".into())]);
    }

    proptest::proptest! {
        /// Lines longer than the reader's buffer, split over many refills: the same lines as
        /// `str::lines` gives (blank ones skipped), the last one torn when unterminated.
        #[test]
        fn line_reader_reads_lines_across_refills(
            text in "[a\n\r ]{0,60}",
            capacity in 1usize..8,
        ) {
            let mut r = LineReader::new(std::io::BufReader::with_capacity(capacity, text.as_bytes()));
            let mut got = Vec::new();
            while let Some((_, l)) = r.next_line().unwrap() {
                got.push(String::from_utf8(l.to_vec()).unwrap());
            }
            let want: Vec<String> = text
                .split('\n')
                .map(|l| l.trim_end_matches(['\r', '\n']).to_string())
                .filter(|l| !l.trim().is_empty())
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}

#[cfg(test)]
mod fast_tests {
    use proptest::prelude::*;

    use super::*;

    /// What a record reads as, for comparing two readings.
    fn shape(r: &Record<'_>) -> String {
        let kind = match &r.kind {
            Some(RecordKind::Frame { from, text, origin }) => {
                format!("frame {from:?} {text:?} {origin:?}")
            }
            _ => "other".into(),
        };
        format!("{:?} {:?} {kind}", r.at, r.conn)
    }

    /// The fast reading agrees with the general one, whenever it reads the line at all.
    fn agrees(line: &str) -> bool {
        let general = parse_general(line, 1);
        match fast::frame_record(line, None) {
            None => false,
            Some(_) => {
                let both = parse_record(line.as_bytes(), 1);
                // Reading the frame into a document as well reads the same record, and the
                // frame as the frame reader reads the plain text.
                let mut doc = Doc::new();
                let framed = parse_record_into(line.as_bytes(), 1, &mut doc);
                match (&both, &framed) {
                    (Ok(a), Ok(f)) => {
                        assert_eq!(shape(a), shape(f), "{line}");
                        if let Some(RecordKind::Frame { text, .. }) = &f.kind
                            && text.text().parsed_stamp() != 0
                        {
                            assert_eq!(text.text().parsed_stamp(), doc.stamp(), "{line}");
                            assert_eq!(
                                Some(doc.root().to_value()),
                                crate::wire::json::parse(text),
                                "{line}"
                            );
                        }
                    }
                    (a, f) => assert_eq!(a.as_ref().err(), f.as_ref().err(), "{line}"),
                }
                match (both, general) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(shape(&a), shape(&b), "{line}");
                        true
                    }
                    (a, b) => {
                        assert_eq!(a.err(), b.err(), "{line}");
                        true
                    }
                }
            }
        }
    }

    #[test]
    fn the_usual_records_take_the_fast_way_and_read_as_before() {
        for line in [
            r#"{"ts":"2026-11-22T10:15:03.125Z","conn":"CP-001","from":"charger","text":"[2,\"1\",\"Heartbeat\",{}]"}"#,
            r#"{"conn":"CP-001","ts":"2026-11-22T10:15:03Z","text":"[3,\"1\",{}]","from":"csms","injected":true}"#,
            r#" { "ts" : "2026-11-22T10:15:03Z" , "conn":"C\u00e9","from":"csms","text":"a\\b\/c\n\t\"\ud83d\ude00\u0041" } "#,
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"é€","from":"charger","text":"","injected":false}"#,
            // the frame read from the record as it stands (text last), or declined: a frame
            // that is no JSON, a record escape no frame needs, a string ended early
            "{\"ts\":\"2026-11-22T10:15:03Z\",\"conn\":\"a\",\"from\":\"csms\",\"text\":\"[2,\\\"1\\\",\\\"H\\\\\\\"b\\\",{\\\"a\\\":\\\"\\\\u00e9\\\"}] \"} \t",
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"[2,\"1\""}"#,
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"[2,\u0022\"]"}"#,
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"[\"a\"]","injected":false}"#,
        ] {
            assert!(agrees(line), "not read the fast way: {line}");
        }
    }

    #[test]
    fn anything_unusual_goes_the_general_way_with_its_error() {
        for line in [
            // another member, a duplicate, an escaped name, an event record
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"x","extra":1}"#,
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"x","text":"y"}"#,
            r#"{"t\u0073":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"x"}"#,
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","event":"open"}"#,
            // bad strings: a lone surrogate, a raw control character, a bad escape
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"\ud800"}"#,
            "{\"ts\":\"2026-11-22T10:15:03Z\",\"conn\":\"a\",\"from\":\"csms\",\"text\":\"\u{1}\"}",
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"\x"}"#,
            // trailing bytes, a missing member, a non-string
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":"x"} x"#,
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms"}"#,
            r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"csms","text":null}"#,
        ] {
            assert!(fast::frame_record(line, None).is_none(), "{line}");
        }
        // Read by the fast scanner but refused on meaning: the general way words it.
        for (line, want) in [
            (
                r#"{"ts":"yesterday","conn":"a","from":"charger","text":""}"#,
                "RFC 3339",
            ),
            (
                r#"{"ts":"2026-11-22T10:15:03Z","conn":"a","from":"server","text":""}"#,
                "\"charger\" or \"csms\"",
            ),
            (
                r#"{"ts":"2026-11-22T10:15:03Z","conn":"","from":"csms","text":""}"#,
                "`conn` is empty",
            ),
        ] {
            let e = parse_record(line.as_bytes(), 3).err().unwrap();
            assert!(e.message.contains(want), "{line}: {e}");
        }
    }

    fn json_string() -> impl Strategy<Value = String> {
        // Text with quotes, backslashes, controls, non-ASCII and astral characters.
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\n'),
                Just('\u{1}'),
                Just('é'),
                Just('😀'),
                proptest::char::range(' ', '~'),
            ],
            0..24,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #[test]
        fn any_frame_record_reads_the_same_both_ways(
            conn in json_string(),
            text in prop_oneof![
                json_string(),
                json_string().prop_map(|s| serde_json::json!([2, s, "Heartbeat", {"k": s, "n": [1, -2.5]}]).to_string()),
            ],
            from in prop_oneof![Just("charger"), Just("csms"), Just("server")],
            injected in proptest::option::of(any::<bool>()),
            order in 0usize..6,
            spaced in any::<bool>(),
        ) {
            let sep = if spaced { " , " } else { "," };
            let mut members = vec![
                format!("\"ts\":\"2026-11-22T10:15:03.5Z\""),
                format!("\"conn\":{}", serde_json::to_string(&conn).unwrap()),
                format!("\"from\":\"{from}\""),
                format!("\"text\":{}", serde_json::to_string(&text).unwrap()),
            ];
            if let Some(i) = injected {
                members.push(format!("\"injected\":{i}"));
            }
            let n = members.len();
            members.rotate_left(order % n);
            let line = format!("{{{}}}", members.join(sep));
            // Every such line is plain enough for the fast way.
            prop_assert!(agrees(&line), "{}", line);
        }
    }
}
