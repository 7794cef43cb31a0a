//! `--format junit`: JUnit XML that CI servers render. One `<testsuite>` per trace file;
//! one `<testcase>` per rule that applies to a version the trace speaks (and any rule that
//! found something), failed by its new findings at or above `--fail-on` (with the file and the
//! first failing line), skipped when all its findings are waived; lower findings are listed in
//! `<system-out>`. Plus a testcase for unreadable input, and a `waivers` suite for expired or
//! unused waivers. A testcase lists at most 100 findings and counts the rest: the suite of a
//! file is written when the file ends, and nothing more is kept.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::markup::xml_escape;
use super::{FileEnd, Gate, Item, ReportWriter, RunInfo, Status, Totals};
use crate::checker::FileResult;
use crate::engine::rules::{REGISTRY, Rule};
use crate::finding::Finding;
use crate::ocpp::Version;

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
    super::write_results(JunitWriter::new(out, Gate::of(info)), results, info)
}

/// Findings listed in one testcase's body; the rest are counted ("and N more").
const LISTED_PER_RULE: usize = 100;

/// One rule's findings in the current file (at most [`LISTED_PER_RULE`] described).
#[derive(Default)]
struct RuleCase {
    failing: u64,
    failing_text: String,
    first_failing_line: Option<u64>,
    other: u64,
    other_text: String,
    waived: u64,
    waived_text: String,
}

fn note(count: &mut u64, text: &mut String, line: impl FnOnce() -> String) {
    *count += 1;
    if *count <= LISTED_PER_RULE as u64 {
        text.push_str(&line());
    }
}

fn more(count: u64, text: &str) -> String {
    if count > LISTED_PER_RULE as u64 {
        format!(
            "{text}… and {} more (see the JSON or SARIF report)\n",
            count - LISTED_PER_RULE as u64
        )
    } else {
        text.to_owned()
    }
}

/// The JUnit report, one testsuite written at the end of each file.
pub struct JunitWriter<W: Write> {
    out: W,
    gate: Gate,
    started: bool,
    cases: BTreeMap<&'static str, RuleCase>,
}

impl<W: Write> JunitWriter<W> {
    pub fn new(out: W, gate: Gate) -> Self {
        JunitWriter {
            out,
            gate,
            started: false,
            cases: BTreeMap::new(),
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            writeln!(self.out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
            writeln!(self.out, r#"<testsuites name="ocpp-inspector check">"#)?;
        }
        Ok(())
    }
}

impl<W: Write> ReportWriter for JunitWriter<W> {
    fn file_start(&mut self, _file: &str) -> io::Result<()> {
        self.cases.clear();
        self.start()
    }

    fn finding(&mut self, item: &Item<'_>) -> io::Result<()> {
        let f = item.finding;
        let fails = self.gate.fails(f.severity);
        let c = self.cases.entry(f.rule.id).or_default();
        match item.status {
            Status::Known => {}
            Status::Waived(w) => note(&mut c.waived, &mut c.waived_text, || {
                format!(
                    "{}  waived until {} ({}: {})\n",
                    describe(item.file, f).trim_end(),
                    w.expires,
                    w.owner,
                    w.reason
                )
            }),
            Status::New if fails => {
                c.first_failing_line.get_or_insert(f.line);
                note(&mut c.failing, &mut c.failing_text, || {
                    describe(item.file, f)
                });
            }
            Status::New => note(&mut c.other, &mut c.other_text, || describe(item.file, f)),
        }
        Ok(())
    }

    fn file_end(&mut self, end: &FileEnd<'_>) -> io::Result<()> {
        let file = xml_escape(end.file);
        // The rules that apply to a version the trace speaks, and any rule that found
        // something whatever its versions.
        let rules: Vec<&'static Rule> = REGISTRY
            .iter()
            .copied()
            .filter(|r| {
                self.cases.contains_key(r.id)
                    || end
                        .versions
                        .is_none_or(|vs| vs.iter().any(|v| r.applies_to(*v)))
            })
            .collect();
        let tests = rules.len() + 1;
        let failures = self.cases.values().filter(|c| c.failing > 0).count()
            + usize::from(!end.input_errors.is_empty());
        let skipped = self
            .cases
            .values()
            .filter(|c| c.failing == 0 && c.waived > 0)
            .count();
        let out = &mut self.out;
        writeln!(
            out,
            r#"  <testsuite name="{file}" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#,
        )?;
        let versions = end
            .versions
            .map_or("unknown".into(), |vs| Version::list(vs, ","));
        writeln!(
            out,
            r#"    <properties><property name="schemas" value="{}"/><property name="frames" value="{}"/><property name="versions" value="{}"/></properties>"#,
            xml_escape(&self.gate.info.schemas),
            end.stats.frames,
            xml_escape(&versions)
        )?;
        for rule in rules {
            write!(
                out,
                r#"    <testcase classname="{file}" name="{}" file="{file}""#,
                xml_escape(rule.id)
            )?;
            let Some(c) = self.cases.get(rule.id) else {
                writeln!(out, "/>")?;
                continue;
            };
            if let Some(line) = c.first_failing_line {
                write!(out, r#" line="{line}""#)?;
            }
            writeln!(out, ">")?;
            if c.failing > 0 {
                writeln!(
                    out,
                    r#"      <failure type="{}" message="{} finding(s): {}">{}</failure>"#,
                    xml_escape(rule.id),
                    c.failing,
                    xml_escape(rule.summary),
                    xml_escape(&more(c.failing, &c.failing_text))
                )?;
            } else if c.waived > 0 {
                writeln!(
                    out,
                    r#"      <skipped message="{} finding(s) waived"/>"#,
                    c.waived
                )?;
            }
            let mut body = more(c.other, &c.other_text);
            body.push_str(&more(c.waived, &c.waived_text));
            if !body.is_empty() {
                writeln!(out, "      <system-out>{}</system-out>", xml_escape(&body))?;
            }
            writeln!(out, "    </testcase>")?;
        }
        write!(
            out,
            r#"    <testcase classname="{file}" name="input" file="{file}""#
        )?;
        if end.input_errors.is_empty() {
            writeln!(out, "/>")?;
        } else {
            let body: String = end
                .input_errors
                .iter()
                .map(|e| format!("{}:{}: {}\n", end.file, e.line, e.message))
                .collect();
            writeln!(
                out,
                " line=\"{}\">\n      <failure type=\"input\" message=\"{} unreadable line(s)\">{}</failure>\n    </testcase>",
                end.input_errors[0].line,
                end.input_errors.len(),
                xml_escape(&body)
            )?;
        }
        writeln!(out, "  </testsuite>")?;
        self.cases.clear();
        Ok(())
    }

    fn finish(&mut self, t: &Totals) -> io::Result<()> {
        self.start()?;
        if !t.tool.is_empty() {
            let failures = t
                .tool
                .iter()
                .filter(|f| self.gate.fails(f.severity))
                .count();
            writeln!(
                self.out,
                r#"  <testsuite name="waivers" tests="{}" failures="{failures}" errors="0">"#,
                t.tool.len()
            )?;
            for f in &t.tool {
                let file = xml_escape(&f.file);
                write!(
                    self.out,
                    r#"    <testcase classname="{file}" name="{}" file="{file}" line="{}">"#,
                    xml_escape(f.id),
                    f.line
                )?;
                if self.gate.fails(f.severity) {
                    write!(
                        self.out,
                        r#"<failure type="{}" message="{}"/>"#,
                        xml_escape(f.id),
                        xml_escape(&f.message)
                    )?;
                } else {
                    write!(
                        self.out,
                        "<system-out>{}</system-out>",
                        xml_escape(&f.message)
                    )?;
                }
                writeln!(self.out, "</testcase>")?;
            }
            writeln!(self.out, "  </testsuite>")?;
        }
        writeln!(self.out, "</testsuites>")?;
        self.out.flush()
    }
}
