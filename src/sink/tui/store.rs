//! Where the text of a frame is when the UI keeps no copy of it: `view` of a plain JSON
//! Lines trace keeps, per frame row, the byte offset of its record ([`LineStarts`] finds
//! it while the trace is indexed), and [`TraceFile`] reads that one record again when the
//! row is shown, searched or exported. So any frame of a multi-gigabyte trace is reachable
//! while memory holds about 100 bytes per frame (a row of the list), whatever its size.
//!
//! It reads the file only; it never judges (the engine did, once, while indexing).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::source::trace_reader::{RecordKind, parse_record};

/// Why a row's text could not be read back from the trace file.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    #[error("{}: reading line {line} again (offset {offset}): {source}", .path.display())]
    Io {
        path: PathBuf,
        line: u64,
        offset: u64,
        source: io::Error,
    },
    #[error("{}: line {line} changed since it was indexed: {message}", .path.display())]
    Changed {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{}: line {line} is no longer a frame record (the file changed)", .path.display())]
    NotAFrame { path: PathBuf, line: u64 },
    #[error("line {line}: no trace file to read it from")]
    NoTraceFile { line: u64 },
}

/// The longest record read back (a longer line is cut; the engine's own limits are far
/// below this).
const MAX_RECORD: u64 = 64 * 1024 * 1024;

/// A trace file opened for reading records back by offset.
#[derive(Debug)]
pub struct TraceFile {
    path: PathBuf,
    file: Mutex<BufReader<File>>,
}

impl TraceFile {
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(TraceFile {
            path: path.to_owned(),
            file: Mutex::new(BufReader::with_capacity(16 * 1024, File::open(path)?)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record line starting at `offset`, without its line terminator.
    pub fn line_at(&self, offset: u64) -> io::Result<Vec<u8>> {
        let mut f = self
            .file
            .lock()
            .map_err(|_| io::Error::other("trace reader poisoned"))?;
        f.seek(SeekFrom::Start(offset))?;
        let mut line = Vec::new();
        (&mut *f).take(MAX_RECORD).read_until(b'\n', &mut line)?;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(line)
    }

    /// The exact text of the frame whose record starts at `offset` (`line` names it in
    /// messages); an error says what went wrong and where.
    pub fn frame_text(&self, offset: u64, line: u64) -> Result<String, ReadBackError> {
        let path = || self.path.clone();
        let raw = self.line_at(offset).map_err(|source| ReadBackError::Io {
            path: path(),
            line,
            offset,
            source,
        })?;
        let record = parse_record(&raw, line).map_err(|e| ReadBackError::Changed {
            path: path(),
            line,
            message: e.message,
        })?;
        match record.kind {
            Some(RecordKind::Frame { text, .. }) => Ok(text.into_owned()),
            _ => Err(ReadBackError::NotAFrame { path: path(), line }),
        }
    }
}

/// The byte offset where each line of a file starts, found by reading it alongside the
/// reader that parses it (lines counted from 1, as [`crate::source::input`] counts them).
/// Keeps only where it has got to.
pub struct LineStarts<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of the file before `buf[0]`.
    base: u64,
    /// Position in `buf` of the start of line `line`.
    at: usize,
    line: u64,
    eof: bool,
}

impl<R: Read> LineStarts<R> {
    pub fn new(inner: R) -> Self {
        LineStarts {
            inner,
            buf: Vec::new(),
            base: 0,
            at: 0,
            line: 1,
            eof: false,
        }
    }

    /// Where line `n` starts (`n` not below the last line asked for); `None` past the end.
    pub fn start_of(&mut self, n: u64) -> io::Result<Option<u64>> {
        while self.line < n {
            match memchr::memchr(b'\n', &self.buf[self.at..]) {
                Some(i) => {
                    self.at += i + 1;
                    self.line += 1;
                }
                None => {
                    if self.eof {
                        return Ok(None);
                    }
                    self.refill()?;
                }
            }
        }
        Ok(Some(self.base + self.at as u64))
    }

    /// Drops what was passed and reads more.
    fn refill(&mut self) -> io::Result<()> {
        self.buf.drain(..self.at);
        self.base += self.at as u64;
        self.at = 0;
        let have = self.buf.len();
        self.buf.resize(have + 256 * 1024, 0);
        let n = loop {
            match self.inner.read(&mut self.buf[have..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(have);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(have + n);
        self.eof = n == 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_starts_are_found_across_refills() {
        let text = "a\n\nbbb\r\ncc\nlast";
        let mut s = LineStarts::new(io::Cursor::new(text.as_bytes()));
        assert_eq!(s.start_of(1).unwrap(), Some(0));
        assert_eq!(s.start_of(3).unwrap(), Some(3));
        assert_eq!(s.start_of(4).unwrap(), Some(8));
        assert_eq!(s.start_of(5).unwrap(), Some(11));
        assert_eq!(s.start_of(6).unwrap(), None);
    }

    #[test]
    fn a_record_is_read_back_by_its_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let l1 = r#"{"ts":"2026-11-22T10:15:00.000Z","conn":"CP","event":"open","subprotocol":"ocpp1.6"}"#;
        let l2 = r#"{"ts":"2026-11-22T10:15:01.000Z","conn":"CP","from":"charger","text":"[2,\"1\",\"Heartbeat\",{ }]"}"#;
        std::fs::write(&path, format!("{l1}\r\n{l2}\n")).unwrap();
        let f = TraceFile::open(&path).unwrap();
        let off = l1.len() as u64 + 2;
        assert_eq!(f.frame_text(off, 2).unwrap(), r#"[2,"1","Heartbeat",{ }]"#);
        // Twice, and out of order: the reader seeks.
        assert_eq!(f.line_at(0).unwrap(), l1.as_bytes());
        assert_eq!(f.frame_text(off, 2).unwrap(), r#"[2,"1","Heartbeat",{ }]"#);
        let e = f.frame_text(0, 1).unwrap_err().to_string();
        assert!(
            e.contains("line 1") && e.contains("no longer a frame"),
            "{e}"
        );
    }
}
