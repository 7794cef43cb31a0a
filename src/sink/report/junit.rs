//! `--format junit`: JUnit XML that CI servers render. One `<testsuite>` per trace file;
//! one `<testcase>` per rule that ran, failed by its findings at or above `--fail-on`
//! (lower findings are listed in `<system-out>`), plus a testcase for unreadable input.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::RunInfo;
use crate::checker::FileResult;
use crate::engine::rules::REGISTRY;
use crate::finding::Finding;

/// Escapes text for XML content and attribute values (control characters XML 1.0 forbids
/// become `?`).
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('?'),
            '\u{fffe}' | '\u{ffff}' => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

fn describe(file: &str, f: &Finding) -> String {
    format!(
        "{file}:{} {} [{}] {}{}{}\n",
        f.line,
        f.conn,
        f.severity,
        f.message,
        f.unique_id
            .as_deref()
            .map(|i| format!(" (id {i})"))
            .unwrap_or_default(),
        f.evidence
            .as_deref()
            .map(|e| format!("\n    {e}"))
            .unwrap_or_default()
    )
}

pub fn write(out: &mut impl Write, results: &[FileResult], info: &RunInfo) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="ocpp-inspector check">"#)?;
    for r in results {
        let file = r.path.display().to_string();
        let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &r.findings {
            by_rule.entry(f.rule.id).or_default().push(f);
        }
        let tests = REGISTRY.len() + 1;
        let failures = by_rule
            .values()
            .filter(|v| v.iter().any(|f| f.severity >= info.fail_on))
            .count()
            + usize::from(!r.input_errors.is_empty());
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{tests}" failures="{failures}" errors="0">"#,
            xml_escape(&file)
        )?;
        writeln!(
            out,
            r#"    <properties><property name="schemas" value="{}"/><property name="frames" value="{}"/></properties>"#,
            xml_escape(&info.schemas),
            r.stats.frames
        )?;
        for rule in REGISTRY.iter() {
            write!(
                out,
                r#"    <testcase classname="{}" name="{}""#,
                xml_escape(&file),
                xml_escape(rule.id)
            )?;
            let Some(fs) = by_rule.get(rule.id) else {
                writeln!(out, "/>")?;
                continue;
            };
            writeln!(out, ">")?;
            let (failing, other): (Vec<&&Finding>, Vec<&&Finding>) =
                fs.iter().partition(|f| f.severity >= info.fail_on);
            if !failing.is_empty() {
                let body: String = failing.iter().map(|f| describe(&file, f)).collect();
                writeln!(
                    out,
                    r#"      <failure type="{}" message="{} finding(s): {}">{}</failure>"#,
                    xml_escape(rule.id),
                    failing.len(),
                    xml_escape(rule.summary),
                    xml_escape(&body)
                )?;
            }
            if !other.is_empty() {
                let body: String = other.iter().map(|f| describe(&file, f)).collect();
                writeln!(out, "      <system-out>{}</system-out>", xml_escape(&body))?;
            }
            writeln!(out, "    </testcase>")?;
        }
        write!(
            out,
            r#"    <testcase classname="{}" name="input""#,
            xml_escape(&file)
        )?;
        if r.input_errors.is_empty() {
            writeln!(out, "/>")?;
        } else {
            let body: String = r
                .input_errors
                .iter()
                .map(|e| format!("{file}:{}: {}\n", e.line, e.message))
                .collect();
            writeln!(
                out,
                ">\n      <failure type=\"input\" message=\"{} unreadable line(s)\">{}</failure>\n    </testcase>",
                r.input_errors.len(),
                xml_escape(&body)
            )?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}
