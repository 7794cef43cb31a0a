//! `--format text`: compiler-style, one block per finding, coloured on a terminal:
//!
//! ```text
//! error[rpc.unknown-action]: `BootNotifcation` is not an action of OCPP 1.6
//!   --> trace.jsonl:4  CP-001  charger→csms  id 19223201
//!    | [2,"19223201","BootNotifcation",{"chargePointVendor":"VendorX"}]
//! ```
//! then the input errors, then one summary line.

use std::io::{self, Write};

use super::{RunInfo, Summary, plural};
use crate::checker::FileResult;
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

/// Writes all findings, the input errors, and the summary line.
pub fn write(
    out: &mut impl Write,
    results: &[FileResult],
    info: &RunInfo,
    style: Style,
) -> io::Result<()> {
    for r in results {
        let file = r.path.display().to_string();
        for f in &r.findings {
            write_finding(out, &file, f, style)?;
        }
    }
    for r in results {
        for e in &r.input_errors {
            let at = if e.line == 0 {
                r.path.display().to_string()
            } else {
                format!("{}:{}", r.path.display(), e.line)
            };
            writeln!(
                out,
                "{}: {at}: {}",
                style.paint("1;35", "input error"),
                e.message.escape_debug_lite()
            )?;
        }
    }
    let s = Summary::of(results);
    let verdict = if s.input_errors > 0 {
        style.paint("1;35", "INPUT ERROR")
    } else if s.failing(info.fail_on) > 0 {
        style.paint("1;31", "FAIL")
    } else {
        style.paint("1;32", "PASS")
    };
    writeln!(
        out,
        "{verdict}: {} in {}, {}: {}, {}, {}{} (fail on {}; schemas {})",
        plural(s.frames, "frame", "frames"),
        plural(s.files, "file", "files"),
        plural(s.connections, "connection", "connections"),
        plural(s.errors, "error", "errors"),
        plural(s.warnings, "warning", "warnings"),
        plural(s.infos, "info", "infos"),
        if s.input_errors > 0 {
            format!(
                ", {}",
                plural(s.input_errors, "input error", "input errors")
            )
        } else {
            String::new()
        },
        info.fail_on,
        info.schemas
    )
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
