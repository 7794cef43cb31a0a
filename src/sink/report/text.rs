//! `--format text`: compiler-style, one block per finding, coloured on a terminal:
//!
//! ```text
//! error[rpc.unknown-action]: `BootNotifcation` is not an action of OCPP 1.6
//!   --> trace.jsonl:4  CP-001  charger→csms  id 19223201
//!    | [2,"19223201","BootNotifcation",{"chargePointVendor":"VendorX"}]
//! ```
//! then the waived findings in short, the input errors, the waiver findings, a table of
//! counts per rule, and one summary line (always the last line).

use std::io::{self, Write};

use super::{FileEnd, Gate, Item, ReportWriter, RunInfo, Status, Totals};
use crate::checker::{FileResult, InputError};
use crate::finding::{Finding, Severity};

/// Colours on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn severity(self, sev: Severity) -> String {
        let code = match sev {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(code, sev.as_str())
    }
}

/// Writes one finding block.
pub fn write_finding(
    out: &mut impl Write,
    file: &str,
    f: &Finding,
    style: Style,
) -> io::Result<()> {
    writeln!(
        out,
        "{}{}: {}",
        style.severity(f.severity),
        style.paint("1", &format!("[{}]", f.rule.id)),
        f.message.escape_debug_lite()
    )?;
    let mut loc = format!("{file}:{}  {}", f.line, f.conn);
    if let Some(from) = f.from {
        loc.push_str("  ");
        loc.push_str(from.arrow());
    }
    if let Some(id) = &f.unique_id {
        loc.push_str("  id ");
        loc.push_str(if id.is_empty() { "\"\"" } else { id });
    }
    if let Some(a) = &f.action {
        loc.push_str("  ");
        loc.push_str(a);
    }
    writeln!(
        out,
        "  {} {}",
        style.paint("34", "-->"),
        loc.escape_debug_lite()
    )?;
    if let Some(e) = &f.evidence {
        writeln!(
            out,
            "   {} {}",
            style.paint("34", "|"),
            e.escape_debug_lite()
        )?;
    }
    writeln!(out)
}

/// Writes all findings, the input errors, and the summary line (no table per rule: the shape
/// the demo's report and the rules' snapshots keep).
pub fn write(
    out: &mut impl Write,
    results: &[FileResult],
    info: &RunInfo,
    style: Style,
) -> io::Result<()> {
    super::write_results(TextWriter::new(out, style, Gate::of(info)), results, info)
}

/// The text report, streamed: finding blocks as they come, then the input errors, the waiver
/// findings, a table per rule, and the summary line last.
pub struct TextWriter<W: Write> {
    out: W,
    style: Style,
    gate: Gate,
    /// Input errors (bounded per file) shown after every finding.
    input_errors: Vec<(String, InputError)>,
    /// The table of counts per rule before the summary line (`check` shows it).
    rule_table: bool,
}

impl<W: Write> TextWriter<W> {
    pub fn new(out: W, style: Style, gate: Gate) -> Self {
        TextWriter {
            out,
            style,
            gate,
            input_errors: Vec::new(),
            rule_table: false,
        }
    }

    /// Also a table of counts per rule before the summary line.
    pub fn with_rule_table(mut self) -> Self {
        self.rule_table = true;
        self
    }
}

impl<W: Write> ReportWriter for TextWriter<W> {
    fn finding(&mut self, item: &Item<'_>) -> io::Result<()> {
        match item.status {
            Status::New => write_finding(&mut self.out, item.file, item.finding, self.style),
            Status::Known => Ok(()),
            Status::Waived(w) => {
                let f = item.finding;
                writeln!(
                    self.out,
                    "{}{}: {}",
                    self.style.paint("1;32", "waived"),
                    self.style.paint("1", &format!("[{}]", f.rule.id)),
                    f.message.escape_debug_lite()
                )?;
                writeln!(
                    self.out,
                    "  {} {}  {}  ({} until {}, {}: {})\n",
                    self.style.paint("34", "-->"),
                    format!("{}:{}", item.file, f.line).escape_debug_lite(),
                    f.conn.escape_debug_lite(),
                    f.severity,
                    w.expires,
                    w.owner.escape_debug_lite(),
                    w.reason.escape_debug_lite()
                )
            }
        }
    }

    fn file_end(&mut self, end: &FileEnd<'_>) -> io::Result<()> {
        for e in end.input_errors {
            self.input_errors.push((end.file.to_owned(), e.clone()));
        }
        Ok(())
    }

    fn finish(&mut self, t: &Totals) -> io::Result<()> {
        let style = self.style;
        for (file, e) in &self.input_errors {
            let at = if e.line == 0 {
                file.clone()
            } else {
                format!("{file}:{}", e.line)
            };
            writeln!(
                self.out,
                "{}: {at}: {}",
                style.paint("1;35", "input error"),
                e.message.escape_debug_lite()
            )?;
        }
        for f in &t.tool {
            writeln!(
                self.out,
                "{}{}: {}",
                style.severity(f.severity),
                style.paint("1", &format!("[{}]", f.id)),
                f.message.escape_debug_lite()
            )?;
            writeln!(
                self.out,
                "  {} {}:{}\n",
                style.paint("34", "-->"),
                f.file.escape_debug_lite(),
                f.line
            )?;
        }
        if self.rule_table && !t.per_rule.is_empty() {
            let width = t.per_rule.keys().map(|k| k.len()).max().unwrap_or(4).max(4);
            writeln!(
                self.out,
                "{:<width$}  {:>7}  {:>8}  {:>6}  {:>6}  {:>8}",
                "rule", "errors", "warnings", "infos", "waived", "baseline"
            )?;
            for (rule, c) in &t.per_rule {
                writeln!(
                    self.out,
                    "{rule:<width$}  {:>7}  {:>8}  {:>6}  {:>6}  {:>8}",
                    c.errors, c.warnings, c.infos, c.waived, c.known
                )?;
            }
            writeln!(self.out)?;
        }
        let line = t.line(&self.gate);
        let verdict = t.verdict();
        let code = match verdict {
            "INPUT ERROR" => "1;35",
            "FAIL" => "1;31",
            _ => "1;32",
        };
        writeln!(
            self.out,
            "{}{}",
            style.paint(code, verdict),
            &line[verdict.len()..]
        )?;
        self.out.flush()
    }
}

/// Control characters in evidence would garble a terminal; show them escaped.
trait EscapeLite {
    fn escape_debug_lite(&self) -> String;
}

impl EscapeLite for str {
    fn escape_debug_lite(&self) -> String {
        self.chars()
            .flat_map(|c| {
                // Controls would drive the terminal; format characters (BOM, zero-width,
                // bidi overrides) would hide or reorder text.
                if c.is_control()
                    || matches!(c, '\u{feff}' | '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
                {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect()
    }
}
