//! `--format gitlab` / `--gitlab FILE`: a GitLab Code Quality report, a JSON array of issues
//! `{"description","check_name","fingerprint","severity","location":{"path","lines":{"begin"}}}`
//! for new findings, input errors and waiver findings. Severity: error → `critical`, warning →
//! `major`, info → `info`. The fingerprint is the finding's identity (shared with baselines and
//! SARIF), suffixed with its occurrence when one identity repeats in a file, so each issue's
//! is unique and stays put when lines move. Waived and baseline findings are left out.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::json;

use super::{FileEnd, Item, ReportWriter, Status, Totals};
use crate::finding::Severity;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

/// The Code Quality report, streamed.
pub struct GitlabWriter<W: Write> {
    out: W,
    first: bool,
    /// Occurrences per identity in the current file.
    seen: HashMap<String, u32>,
}

impl<W: Write> GitlabWriter<W> {
    pub fn new(out: W) -> Self {
        GitlabWriter {
            out,
            first: true,
            seen: HashMap::new(),
        }
    }

    fn issue(&mut self, v: &serde_json::Value) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"[\n" } else { b",\n" })?;
        self.first = false;
        serde_json::to_writer(&mut self.out, v)?;
        Ok(())
    }
}

impl<W: Write> ReportWriter for GitlabWriter<W> {
    fn file_start(&mut self, _file: &str) -> io::Result<()> {
        self.seen.clear();
        Ok(())
    }

    fn finding(&mut self, item: &Item<'_>) -> io::Result<()> {
        if !matches!(item.status, Status::New) {
            return Ok(());
        }
        let f = item.finding;
        let n = self.seen.entry(item.fingerprint.to_owned()).or_default();
        *n += 1;
        let fingerprint = if *n == 1 {
            format!("{}-{}", item.fingerprint, super::sarif::uri_of(item.file))
        } else {
            format!(
                "{}-{}-{n}",
                item.fingerprint,
                super::sarif::uri_of(item.file)
            )
        };
        let v = json!({
            "description": format!("{} [{}]: {}", f.conn, f.rule.id, f.message),
            "check_name": f.rule.id,
            "fingerprint": fingerprint,
            "severity": severity(f.severity),
            "location": {"path": item.file, "lines": {"begin": f.line.max(1)}},
        });
        self.issue(&v)
    }

    fn file_end(&mut self, end: &FileEnd<'_>) -> io::Result<()> {
        for e in end.input_errors {
            let v = json!({
                "description": format!("input error: {}", e.message),
                "check_name": "input",
                "fingerprint": format!("input-{}-{}", super::sarif::uri_of(end.file), e.line),
                "severity": "blocker",
                "location": {"path": end.file, "lines": {"begin": e.line.max(1)}},
            });
            self.issue(&v)?;
        }
        self.seen.clear();
        Ok(())
    }

    fn finish(&mut self, t: &Totals) -> io::Result<()> {
        for f in &t.tool {
            let v = json!({
                "description": f.message,
                "check_name": f.id,
                "fingerprint": format!("{}-{}-{}", f.id, super::sarif::uri_of(&f.file), f.line),
                "severity": severity(f.severity),
                "location": {"path": f.file, "lines": {"begin": f.line.max(1)}},
            });
            self.issue(&v)?;
        }
        if self.first {
            self.out.write_all(b"[")?;
        }
        self.out.write_all(b"\n]\n")?;
        self.out.flush()
    }
}
