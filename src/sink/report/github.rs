//! `--format github`: GitHub Actions workflow commands, one annotation per new finding
//! (`::error file=trace.jsonl,line=12,title=rpc.not-json::CP-1: ...`; warnings as `warning`,
//! infos as `notice`), one per input error and waiver finding, and the summary line last (an
//! `::error::` when the run fails, a `::notice::` otherwise). Waived findings and the
//! baseline's are not annotated; the summary counts them. Values are escaped as the runner
//! reads them: `%`, CR and LF everywhere, and `:` and `,` in properties.

use std::io::{self, Write};

use super::{FileEnd, Gate, Item, ReportWriter, Status, Totals};
use crate::finding::Severity;

/// Escapes a message (the text after `::`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// The annotations, streamed.
pub struct GithubWriter<W: Write> {
    out: W,
    gate: Gate,
}

impl<W: Write> GithubWriter<W> {
    pub fn new(out: W, gate: Gate) -> Self {
        GithubWriter { out, gate }
    }

    fn annotate(
        &mut self,
        cmd: &str,
        file: &str,
        line: u64,
        title: &str,
        message: &str,
    ) -> io::Result<()> {
        write!(self.out, "::{cmd} file={}", escape_property(file))?;
        if line > 0 {
            write!(self.out, ",line={line}")?;
        }
        writeln!(
            self.out,
            ",title={}::{}",
            escape_property(title),
            escape_data(message)
        )
    }
}

impl<W: Write> ReportWriter for GithubWriter<W> {
    fn finding(&mut self, item: &Item<'_>) -> io::Result<()> {
        if !matches!(item.status, Status::New) {
            return Ok(());
        }
        let f = item.finding;
        let mut msg = format!("{}", f.conn);
        if let Some(a) = &f.action {
            msg.push(' ');
            msg.push_str(a);
        }
        if let Some(id) = &f.unique_id {
            msg.push_str(&format!(" id {id}"));
        }
        msg.push_str(": ");
        msg.push_str(&f.message);
        if let Some(e) = &f.evidence {
            msg.push('\n');
            msg.push_str(e);
        }
        self.annotate(command(f.severity), item.file, f.line, f.rule.id, &msg)
    }

    fn file_end(&mut self, end: &FileEnd<'_>) -> io::Result<()> {
        for e in end.input_errors {
            self.annotate("error", end.file, e.line, "input error", &e.message)?;
        }
        Ok(())
    }

    fn finish(&mut self, t: &Totals) -> io::Result<()> {
        for f in &t.tool {
            self.annotate(command(f.severity), &f.file, f.line, f.id, &f.message)?;
        }
        let cmd = if t.verdict() == "PASS" {
            "notice"
        } else {
            "error"
        };
        writeln!(
            self.out,
            "::{cmd} title=ocpp-inspector check::{}",
            escape_data(&t.line(&self.gate))
        )?;
        self.out.flush()
    }
}
