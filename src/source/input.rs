//! One source of trace records for every input: our JSON Lines, pcap/pcapng captures, Open
//! OCPP Trace files and text logs, detected by content (magic numbers, first records) or
//! forced (`--input-format`), gzip read transparently, `-` for standard input.
//!
//! Every input comes out as the same thing: trace records in our JSON Lines form, each with a
//! position in the input (a line, a packet number), plus [`Item::Problem`]s (input that could
//! not be read, naming where; reading goes on) and [`Item::Note`]s (what an importer inferred,
//! once per connection). The checker, `view`, `testcase run` and `convert` read this and no
//! importer directly. It judges nothing and prints nothing.

pub mod detect;
pub mod records;

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

pub use records::{Rec, RecKind, assumed_open, frame};

use crate::source::trace_reader::{LineReader, parse_record, quick_conn};
use crate::time::Timestamp;

/// Bytes read ahead to tell the format.
const SNIFF: usize = 64 * 1024;

/// The formats `--input-format` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFormat {
    /// Our trace format (what the proxy records).
    Jsonl,
    /// A pcap or pcapng capture of plain `ws://` traffic.
    Pcap,
    /// Open OCPP Trace (JSON Lines of `OcppTraceRecord`s).
    Oot,
    /// A text log; `Some(preset)` for one stack's layout, `None` for the generic extractor
    /// (or the preset the first lines show).
    Log(Option<String>),
}

impl FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jsonl" => Ok(InputFormat::Jsonl),
            "pcap" | "pcapng" => Ok(InputFormat::Pcap),
            "oot" => Ok(InputFormat::Oot),
            "log" => Ok(InputFormat::Log(None)),
            _ => match s.strip_prefix("log:") {
                Some(p) if crate::source::log::preset(p).is_some() || p == "generic" => {
                    Ok(InputFormat::Log((p != "generic").then(|| p.to_owned())))
                }
                Some(p) => Err(format!(
                    "unknown log preset `{p}` (known: generic, {})",
                    crate::source::log::preset_names().join(", ")
                )),
                None => Err(format!(
                    "unknown input format `{s}` (jsonl, pcap, oot, log or log:PRESET)"
                )),
            },
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputFormat::Jsonl => f.write_str("jsonl"),
            InputFormat::Pcap => f.write_str("pcap"),
            InputFormat::Oot => f.write_str("oot"),
            InputFormat::Log(None) => f.write_str("log"),
            InputFormat::Log(Some(p)) => write!(f, "log:{p}"),
        }
    }
}

/// A fixed UTC offset for log times written without one (`--tz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tz {
    /// Seconds east of UTC.
    pub offset_secs: i32,
}

impl FromStr for Tz {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "--tz takes UTC or a fixed offset such as +02:00 or -0500, got `{s}` (zone names are not known here)"
            )
        };
        if matches!(s, "UTC" | "utc" | "Z" | "z" | "GMT") {
            return Ok(Tz { offset_secs: 0 });
        }
        let s2 = s.strip_prefix("UTC").unwrap_or(s);
        let (sign, rest) = match s2.as_bytes().first() {
            Some(b'+') => (1, &s2[1..]),
            Some(b'-') => (-1, &s2[1..]),
            _ => return Err(bad()),
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4)
        {
            return Err(bad());
        }
        let h: i32 = digits[..2].parse().map_err(|_| bad())?;
        let m: i32 = if digits.len() == 4 {
            digits[2..].parse().map_err(|_| bad())?
        } else {
            0
        };
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Tz {
            offset_secs: sign * (h * 3600 + m * 60),
        })
    }
}

/// How inputs are read: the flags `--input-format`, `--tz` and `--conn`.
#[derive(Debug, Clone, Default)]
pub struct InputOptions {
    /// Forced format; `None`: told by content.
    pub format: Option<InputFormat>,
    /// The zone of log times written without one (`None`: UTC, said in a note).
    pub tz: Option<Tz>,
    /// The identity of connections an input does not name (a log of one station).
    pub conn: Option<String>,
}

/// Something in the input that could not be read: `pos` is where (a line or packet number,
/// 0 for the whole input), and the message says what and where in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pos: u64,
    pub message: String,
}

/// The input as a whole cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open: {0}")]
    Open(io::Error),
    #[error("is a directory, not a trace file")]
    Directory,
    #[error("read error at the start: {0}")]
    Read(io::Error),
}

/// One thing read from an input.
pub enum Item<'a> {
    /// A trace record (our JSON Lines, without its line terminator), from position `pos`.
    Line {
        pos: u64,
        text: &'a [u8],
    },
    Problem(Problem),
    /// What an importer inferred (direction, zone, identity), once per connection.
    Note(String),
}

/// A readable input: records, problems and notes, in input order.
pub trait Source {
    /// The next item; `None` at the end (a read error is a last [`Item::Problem`]).
    fn next_item(&mut self) -> Option<Item<'_>>;
    /// The format being read.
    fn format(&self) -> InputFormat;
}

/// Opens `path` (`-`: standard input) and tells its format (or takes the forced one).
pub fn open(path: &Path, opts: &InputOptions) -> Result<Box<dyn Source + Send>, OpenError> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        let file = File::open(path).map_err(OpenError::Open)?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(OpenError::Directory);
        }
        Box::new(file)
    };
    open_reader(raw, opts)
}

/// Opens any reader (see [`open`]).
pub fn open_reader(
    raw: Box<dyn Read + Send>,
    opts: &InputOptions,
) -> Result<Box<dyn Source + Send>, OpenError> {
    let (head, rest) = sniff(raw).map_err(OpenError::Read)?;
    let reader: Box<dyn Read + Send> = if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(io::Cursor::new(head).chain(rest));
        let (head, rest) = sniff(Box::new(gz)).map_err(OpenError::Read)?;
        return Ok(from_head(head, rest, opts));
    } else {
        rest
    };
    Ok(from_head(head, reader, opts))
}

fn from_head(
    head: Vec<u8>,
    rest: Box<dyn Read + Send>,
    opts: &InputOptions,
) -> Box<dyn Source + Send> {
    let format = match &opts.format {
        Some(f) => f.clone(),
        None => detect::format_of(&head),
    };
    let sniffed = if matches!(format, InputFormat::Log(_)) {
        head.clone()
    } else {
        Vec::new()
    };
    let reader = BufReader::with_capacity(256 * 1024, io::Cursor::new(head).chain(rest));
    match format {
        InputFormat::Jsonl => Box::new(JsonlSource::new(reader)),
        InputFormat::Pcap => Box::new(ImportSource::new(
            crate::source::pcap::PcapImporter::new(reader, opts),
            InputFormat::Pcap,
        )),
        InputFormat::Oot => Box::new(ImportSource::new(
            crate::source::oot::OotImporter::new(reader, opts),
            InputFormat::Oot,
        )),
        InputFormat::Log(preset) => {
            let importer =
                crate::source::log::LogImporter::new(reader, preset.as_deref(), opts, &sniffed);
            let f = InputFormat::Log(importer.preset_name().map(str::to_owned));
            Box::new(ImportSource::new(importer, f))
        }
    }
}

/// Reads up to [`SNIFF`] bytes; hands them back with the rest of the reader.
fn sniff(mut r: Box<dyn Read + Send>) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = Vec::with_capacity(SNIFF);
    (&mut r).take(SNIFF as u64).read_to_end(&mut head)?;
    Ok((head, r))
}

/// Our JSON Lines, line by line. A last line cut short (no line terminator, not a record)
/// is a torn last line: a gap record, not an input error.
pub struct JsonlSource<R> {
    lines: LineReader<R>,
    /// The line before the current one, for the time of a torn last line's gap.
    prev: Vec<u8>,
    cur: Vec<u8>,
    gap: Vec<u8>,
    done: bool,
}

impl<R: BufRead> JsonlSource<R> {
    pub fn new(reader: R) -> Self {
        JsonlSource {
            lines: LineReader::new(reader),
            prev: Vec::new(),
            cur: Vec::new(),
            gap: Vec::new(),
            done: false,
        }
    }
}

impl<R: BufRead> Source for JsonlSource<R> {
    fn next_item(&mut self) -> Option<Item<'_>> {
        if self.done {
            return None;
        }
        std::mem::swap(&mut self.prev, &mut self.cur);
        let n = match self.lines.next_line() {
            Ok(Some((n, line))) => {
                self.cur.clear();
                self.cur.extend_from_slice(line);
                n
            }
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Item::Problem(Problem {
                    pos: self.lines.line() + 1,
                    message: format!("read error: {e}"),
                }));
            }
        };
        // Torn: the last line has no line end and its JSON is cut short (a whole object that
        // is not a record stays an input error).
        if self.lines.last_torn()
            && parse_record(&self.cur, n).is_err()
            && serde_json::from_slice::<serde::de::IgnoredAny>(&self.cur).is_err_and(|e| e.is_eof())
        {
            // The writer stopped mid-record: whatever that record was is missing.
            let at = parse_record(&self.prev, n.saturating_sub(1))
                .ok()
                .map(|r| r.at.to_rfc3339_micros());
            if let Some(ts) = at {
                let conn = quick_conn(&self.cur).and_then(|c| std::str::from_utf8(c).ok());
                let rec = Rec {
                    at: crate::time::Timestamp::parse_rfc3339(&ts).unwrap_or_default(),
                    conn: conn.unwrap_or_default().to_owned(),
                    kind: RecKind::Gap {
                        reason: Some("torn last line".into()),
                        frames: Some(1),
                    },
                };
                self.gap.clear();
                if rec.encode(&mut self.gap).is_ok() {
                    return Some(Item::Line {
                        pos: n,
                        text: &self.gap,
                    });
                }
            }
        }
        Some(Item::Line {
            pos: n,
            text: &self.cur,
        })
    }

    fn format(&self) -> InputFormat {
        InputFormat::Jsonl
    }
}

/// What an importer hands out.
pub enum Produced {
    Record { pos: u64, rec: Rec },
    Problem(Problem),
    Note(String),
}

impl Produced {
    /// A record of `conn` at `at`, read at input position `pos`.
    pub fn record(pos: u64, at: Timestamp, conn: String, kind: RecKind) -> Produced {
        Produced::Record {
            pos,
            rec: Rec { at, conn, kind },
        }
    }
}

/// An importer: reads its input on demand and produces records, problems and notes.
pub trait Importer {
    /// Reads on, pushing what it produces to `out`; `false` when the input is exhausted
    /// (everything it will ever produce is then in `out`).
    fn pump(&mut self, out: &mut VecDeque<Produced>) -> bool;
}

/// An importer as a [`Source`]: its records encoded as our JSON Lines.
pub struct ImportSource<I> {
    importer: I,
    queue: VecDeque<Produced>,
    more: bool,
    line: Vec<u8>,
    encoder: records::Encoder,
    format: InputFormat,
}

impl<I: Importer> ImportSource<I> {
    pub fn new(importer: I, format: InputFormat) -> Self {
        ImportSource {
            importer,
            queue: VecDeque::new(),
            more: true,
            line: Vec::with_capacity(1024),
            encoder: records::Encoder::default(),
            format,
        }
    }
}

impl<I: Importer> Source for ImportSource<I> {
    fn next_item(&mut self) -> Option<Item<'_>> {
        loop {
            match self.queue.pop_front() {
                Some(Produced::Record { pos, rec }) => {
                    self.line.clear();
                    if let Err(e) = self.encoder.encode(&rec, &mut self.line) {
                        return Some(Item::Problem(Problem {
                            pos,
                            message: format!("cannot encode the record: {e}"),
                        }));
                    }
                    return Some(Item::Line {
                        pos,
                        text: &self.line,
                    });
                }
                Some(Produced::Problem(p)) => return Some(Item::Problem(p)),
                Some(Produced::Note(n)) => return Some(Item::Note(n)),
                None if self.more => self.more = self.importer.pump(&mut self.queue),
                None => return None,
            }
        }
    }

    fn format(&self) -> InputFormat {
        self.format.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(src: &mut dyn Source) -> (Vec<(u64, String)>, Vec<Problem>, Vec<String>) {
        let (mut lines, mut problems, mut notes) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(item) = src.next_item() {
            match item {
                Item::Line { pos, text } => {
                    lines.push((pos, String::from_utf8_lossy(text).into_owned()))
                }
                Item::Problem(p) => problems.push(p),
                Item::Note(n) => notes.push(n),
            }
        }
        (lines, problems, notes)
    }

    #[test]
    fn formats_and_zones_parse() {
        assert_eq!("pcapng".parse::<InputFormat>(), Ok(InputFormat::Pcap));
        assert_eq!(
            "log:steve".parse::<InputFormat>(),
            Ok(InputFormat::Log(Some("steve".into())))
        );
        assert!("log:nope".parse::<InputFormat>().is_err());
        assert!("xml".parse::<InputFormat>().is_err());
        assert_eq!("+02:00".parse::<Tz>().map(|t| t.offset_secs), Ok(7200));
        assert_eq!("-0530".parse::<Tz>().map(|t| t.offset_secs), Ok(-19800));
        assert_eq!("UTC".parse::<Tz>().map(|t| t.offset_secs), Ok(0));
        assert!("Europe/Paris".parse::<Tz>().is_err());
        assert!("+25:00".parse::<Tz>().is_err());
    }

    #[test]
    fn a_torn_last_line_is_a_gap_not_an_error() {
        let data = b"{\"ts\":\"2026-11-22T10:15:03Z\",\"conn\":\"CP-1\",\"from\":\"charger\",\"text\":\"[2,\\\"1\\\",\\\"Heartbeat\\\",{}]\"}\n{\"ts\":\"2026-11-22T10:15:04Z\",\"conn\":\"CP-1\",\"from\":\"cs";
        let mut src = open_reader(Box::new(&data[..]), &InputOptions::default()).unwrap();
        assert_eq!(src.format(), InputFormat::Jsonl);
        let (lines, problems, _) = read_all(&mut *src);
        assert!(problems.is_empty());
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].0, 2);
        assert!(lines[1].1.contains("\"event\":\"gap\""), "{}", lines[1].1);
        assert!(lines[1].1.contains("torn last line"));
        assert!(lines[1].1.contains("\"conn\":\"CP-1\""));
        // A terminated bad line stays an input error (the checker reports it).
        let data =
            b"{\"ts\":\"2026-11-22T10:15:03Z\",\"conn\":\"CP-1\",\"event\":\"open\"}\nnot json\n";
        let mut src = open_reader(Box::new(&data[..]), &InputOptions::default()).unwrap();
        let (lines, _, _) = read_all(&mut *src);
        assert_eq!(lines[1].1, "not json");
    }

    #[test]
    fn gzip_is_read_transparently() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let plain = b"{\"ts\":\"2026-11-22T10:15:03Z\",\"conn\":\"CP-1\",\"event\":\"open\",\"subprotocol\":\"ocpp1.6\"}\n";
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(plain).unwrap();
        let gz = enc.finish().unwrap();
        let mut src = open_reader(Box::new(io::Cursor::new(gz)), &InputOptions::default()).unwrap();
        assert_eq!(src.format(), InputFormat::Jsonl);
        let (lines, problems, _) = read_all(&mut *src);
        assert!(problems.is_empty());
        assert_eq!(lines.len(), 1);
        assert!(lines[0].1.contains("ocpp1.6"));
    }
}
