//! The live sink that writes the JSON report of `check` when the run ends.

use std::io;
use std::path::PathBuf;

use super::report::{RunInfo, json};
use super::{LiveOutcome, LiveSink};
use crate::checker::{FileResult, InputError};
use crate::finding::Finding;

/// The JSON report of `check` (`sink::report::json`), written at the end of the run. The
/// `file` of each finding is the recording's path (or `proxy` when not recording), so the
/// report reads like the check of the recording.
pub struct JsonReport {
    path: PathBuf,
    trace: PathBuf,
    info: RunInfo,
    findings: Vec<Finding>,
    /// Findings kept at most (a long run must not grow without bound); the rest are counted.
    keep: usize,
    left_out: u64,
}

impl JsonReport {
    pub fn new(path: PathBuf, trace: Option<PathBuf>, info: RunInfo) -> Self {
        JsonReport {
            path,
            trace: trace.unwrap_or_else(|| PathBuf::from("proxy")),
            info,
            findings: Vec::new(),
            keep: 1_000_000,
            left_out: 0,
        }
    }
}

impl LiveSink for JsonReport {
    fn finding(&mut self, f: &Finding) {
        if self.findings.len() < self.keep {
            self.findings.push(f.clone());
        } else {
            self.left_out += 1;
        }
    }

    fn finish(&mut self, o: &LiveOutcome) -> io::Result<()> {
        let mut input_errors = Vec::new();
        if o.dropped > 0 {
            input_errors.push(InputError {
                line: 0,
                message: o.dropped_text(),
            });
        }
        if self.left_out > 0 {
            input_errors.push(InputError {
                line: 0,
                message: format!(
                    "{} more findings were left out of this report",
                    self.left_out
                ),
            });
        }
        for p in &o.problems {
            input_errors.push(InputError {
                line: 0,
                message: p.clone(),
            });
        }
        let mut findings = std::mem::take(&mut self.findings);
        findings.sort_by_key(|f| f.line);
        let result = FileResult {
            path: self.trace.clone(),
            findings,
            input_errors,
            stats: o.stats,
            notes: Vec::new(),
        };
        let mut buf = Vec::new();
        json::write(&mut buf, std::slice::from_ref(&result), &self.info)?;
        std::fs::write(&self.path, buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("writing the report {}: {e}", self.path.display()),
            )
        })
    }
}
