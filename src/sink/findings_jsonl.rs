//! `proxy --findings-jsonl FILE|-`: each finding as one JSON object on its own line, written
//! and flushed as it happens, for a log shipper (Vector, Fluent Bit, Loki, Elastic). The
//! members are the JSON report's ([`super::report::json::finding_json`], the one place they
//! are written) plus `instance` (which proxy saw it) and `peer` (the charger's address, the
//! real client's behind a PROXY-protocol balancer, when the connection was seen opening).
//!
//! It renders only. Memory: the address of each station seen (bounded by the stations).
//! A failed write stops it and is reported once at the end; it never blocks the relay (it
//! runs on the consumer thread, behind the tap).

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use super::report::json::finding_json;
use super::report::{Item, Status};
use super::{LiveOutcome, LiveSink};
use crate::finding::Finding;
use crate::sink::report::baseline::fingerprint_hex;

/// The findings as JSON Lines.
pub struct FindingsJsonl {
    out: Option<Box<dyn Write + Send>>,
    /// The `file` member: the recording (or `proxy`), as in the JSON report.
    file: String,
    instance: String,
    peers: HashMap<Box<str>, Box<str>>,
    line: Vec<u8>,
    error: Option<String>,
    written: u64,
}

impl FindingsJsonl {
    pub fn new(out: Box<dyn Write + Send>, trace: Option<&Path>, instance: &str) -> Self {
        FindingsJsonl {
            out: Some(out),
            file: trace.map_or_else(|| "proxy".into(), |p| p.display().to_string()),
            instance: instance.to_owned(),
            peers: HashMap::new(),
            line: Vec::with_capacity(1024),
            error: None,
            written: 0,
        }
    }

    /// To `path`, or standard output for `-`; the file is created (truncated) now.
    pub fn open(path: &Path, trace: Option<&Path>, instance: &str) -> io::Result<Self> {
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(io::stdout())
        } else {
            Box::new(std::fs::File::create(path)?)
        };
        Ok(Self::new(out, trace, instance))
    }

    /// Findings written so far.
    pub fn written(&self) -> u64 {
        self.written
    }
}

/// The instance name when `--instance` gives none: the host name, else `proxy`.
pub fn default_instance() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "proxy".into())
}

impl LiveSink for FindingsJsonl {
    fn peer(&mut self, conn: &str, peer: &str) {
        self.peers.insert(conn.into(), peer.into());
    }

    fn finding(&mut self, f: &Finding) {
        let Some(out) = &mut self.out else {
            return;
        };
        let fingerprint = fingerprint_hex(f);
        let mut v = finding_json(&Item {
            file: &self.file,
            finding: f,
            fingerprint: &fingerprint,
            status: &Status::New,
        });
        if let Some(o) = v.as_object_mut() {
            o.insert("instance".into(), self.instance.clone().into());
            if let Some(p) = self.peers.get(&*f.conn) {
                o.insert("peer".into(), p.to_string().into());
            }
        }
        self.line.clear();
        let wrote = serde_json::to_writer(&mut self.line, &v)
            .map_err(io::Error::other)
            .and_then(|()| {
                self.line.push(b'\n');
                out.write_all(&self.line)?;
                out.flush()
            });
        match wrote {
            Ok(()) => self.written += 1,
            Err(e) => {
                self.error = Some(e.to_string());
                self.out = None;
            }
        }
    }

    fn finish(&mut self, _outcome: &LiveOutcome) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(io::Error::other(format!(
                "--findings-jsonl stopped after {} findings: {e}",
                self.written
            ))),
            None => Ok(()),
        }
    }
}
