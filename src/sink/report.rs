//! Reports over checked trace files. One model, several writers: the [`Reporter`] reads each
//! file's findings once, in line order, decides how each stands (new, in the baseline,
//! waived), tallies them, and streams each to every [`ReportWriter`] (text, JSON, JUnit,
//! SARIF, GitHub annotations, GitLab Code Quality, HTML). Nothing here keeps a finding after
//! it has been written: memory grows with rules, stations and files, never with findings.
//!
//! It writes where it is told; it opens no file and decides no exit code.

pub mod baseline;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod json;
pub mod junit;
pub mod markup;
pub mod sarif;
pub mod text;
pub mod waiver;

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use crate::checker::{CheckedFile, FileResult, InputError, StationInfo};
use crate::engine::Stats;
use crate::finding::{Finding, Severity};
use crate::ocpp::Version;
use crate::time::Timestamp;

use baseline::Baseline;
use waiver::{Waiver, Waivers};

/// Totals over all files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: u64,
    pub frames: u64,
    pub connections: u64,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    pub input_errors: u64,
}

impl Summary {
    pub fn of(results: &[FileResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            s.files += 1;
            s.frames += r.stats.frames;
            s.connections += r.stats.connections;
            s.input_errors += r.input_errors.len() as u64;
            for f in &r.findings {
                s.count(f.severity);
            }
        }
        s
    }

    fn count(&mut self, sev: Severity) {
        match sev {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }

    /// Findings at or above `fail_on`.
    pub fn failing(&self, fail_on: Severity) -> u64 {
        match fail_on {
            Severity::Error => self.errors,
            Severity::Warning => self.errors + self.warnings,
            Severity::Info => self.errors + self.warnings + self.infos,
        }
    }
}

/// What a report says about the run besides the findings.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Where the schemas came from, and which errata.
    pub schemas: String,
    pub fail_on: Severity,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How the run is judged: the lowest failing severity, or none (`--fail-on none`).
#[derive(Debug, Clone)]
pub struct Gate {
    pub info: RunInfo,
    /// `None`: nothing fails the run (input errors aside).
    pub fail_on: Option<Severity>,
}

impl Gate {
    pub fn of(info: &RunInfo) -> Gate {
        Gate {
            fail_on: Some(info.fail_on),
            info: info.clone(),
        }
    }

    pub fn fails(&self, sev: Severity) -> bool {
        self.fail_on.is_some_and(|f| sev >= f)
    }

    pub fn fail_on_str(&self) -> &'static str {
        self.fail_on.map_or("none", Severity::as_str)
    }
}

/// How a finding stands.
#[derive(Debug, Clone)]
pub enum Status {
    /// Reported, and judged by the gate.
    New,
    /// In the baseline: neither reported nor failing (kept in a written baseline).
    Known,
    /// Matched by a live waiver: reported as waived, never failing.
    Waived(Arc<Waiver>),
}

/// One finding as a writer sees it.
pub struct Item<'a> {
    pub file: &'a str,
    pub finding: &'a Finding,
    /// The stable identity shared by baselines, SARIF and GitLab (16 hex digits).
    pub fingerprint: &'a str,
    pub status: &'a Status,
}

/// A finding about the tool's own inputs (a waiver), not about the traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolFinding {
    /// One of [`TOOL_RULES`].
    pub id: &'static str,
    pub severity: Severity,
    /// The file at fault and its line (0: the whole file).
    pub file: String,
    pub line: u64,
    pub message: String,
}

/// The tool findings' descriptions (for SARIF rules and the HTML legend).
pub const TOOL_RULES: &[(&str, Severity, &str)] = &[
    (
        "waiver.expired",
        Severity::Warning,
        "A waiver is past its expiry date: it no longer waives, and its findings fail again",
    ),
    (
        "waiver.unused",
        Severity::Info,
        "A waiver matched no finding: remove it, or narrow what it was meant for",
    ),
    (
        "check.findings-lost",
        Severity::Error,
        "Findings spilled to a temporary file could not be read back: the report is incomplete",
    ),
];

/// What a writer learns at the end of a file.
pub struct FileEnd<'a> {
    pub file: &'a str,
    pub stats: Stats,
    /// The versions its stations speak; `None` when not known (a result built elsewhere).
    pub versions: Option<&'a [Version]>,
    pub input_errors: &'a [InputError],
    /// What an importer inferred (direction, zone, identity), once per connection.
    pub notes: &'a [String],
}

/// Counts per severity, and waived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    pub waived: u64,
    pub known: u64,
}

impl Counts {
    fn add(&mut self, sev: Severity, status: &Status) {
        match status {
            Status::New => match sev {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            },
            Status::Known => self.known += 1,
            Status::Waived(_) => self.waived += 1,
        }
    }
}

/// Everything counted over the run, for the writers' last words.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// New findings only (waived and baseline ones are counted apart).
    pub summary: Summary,
    pub waived: u64,
    pub known: u64,
    pub per_rule: BTreeMap<&'static str, Counts>,
    /// By station identity.
    pub per_station: BTreeMap<Arc<str>, Counts>,
    pub tool: Vec<ToolFinding>,
    /// New findings and tool findings at or above the gate.
    pub failing: u64,
}

impl Totals {
    pub fn verdict(&self) -> &'static str {
        if self.summary.input_errors > 0 {
            "INPUT ERROR"
        } else if self.failing > 0 {
            "FAIL"
        } else {
            "PASS"
        }
    }

    /// The one summary line (the last line of text output, and what `check` says on stderr).
    pub fn line(&self, gate: &Gate) -> String {
        let s = &self.summary;
        let mut extra = String::new();
        if s.input_errors > 0 {
            extra.push_str(&format!(
                ", {}",
                plural(s.input_errors, "input error", "input errors")
            ));
        }
        if self.waived > 0 {
            extra.push_str(&format!(", {} waived", self.waived));
        }
        if self.known > 0 {
            extra.push_str(&format!(", {} in the baseline", self.known));
        }
        if !self.tool.is_empty() {
            extra.push_str(&format!(
                ", {}",
                plural(self.tool.len() as u64, "waiver finding", "waiver findings")
            ));
        }
        format!(
            "{}: {} in {}, {}: {}, {}, {}{extra} (fail on {}; schemas {})",
            self.verdict(),
            plural(s.frames, "frame", "frames"),
            plural(s.files, "file", "files"),
            plural(s.connections, "connection", "connections"),
            plural(s.errors, "error", "errors"),
            plural(s.warnings, "warning", "warnings"),
            plural(s.infos, "info", "infos"),
            gate.fail_on_str(),
            gate.info.schemas
        )
    }
}

/// One output format, fed finding by finding.
pub trait ReportWriter {
    fn file_start(&mut self, _file: &str) -> io::Result<()> {
        Ok(())
    }
    fn finding(&mut self, item: &Item<'_>) -> io::Result<()>;
    fn file_end(&mut self, _end: &FileEnd<'_>) -> io::Result<()> {
        Ok(())
    }
    /// The run is over: totals, tool findings, and the closing of the document.
    fn finish(&mut self, totals: &Totals) -> io::Result<()>;
}

/// One file as the reporter reads it.
pub struct FileInput<'a, I> {
    pub path: &'a Path,
    pub findings: I,
    pub input_errors: &'a [InputError],
    pub stats: Stats,
    pub versions: Option<&'a [Version]>,
    pub stations: Option<&'a BTreeMap<Arc<str>, StationInfo>>,
    /// The latest timestamp of the file: the date waivers' expiry is judged on.
    pub end: Option<Timestamp>,
    /// What an importer inferred (direction, zone, identity), once per connection.
    pub notes: &'a [String],
}

/// Reads files' findings once and hands each to every writer.
pub struct Reporter<'w> {
    writers: Vec<Box<dyn ReportWriter + 'w>>,
    gate: Gate,
    baseline: Option<Baseline>,
    waivers: Option<Waivers>,
    /// `--today`: the date waivers are judged on, instead of each trace's own.
    today: Option<Timestamp>,
    totals: Totals,
}

impl<'w> Reporter<'w> {
    pub fn new(gate: Gate) -> Self {
        Reporter {
            writers: Vec::new(),
            gate,
            baseline: None,
            waivers: None,
            today: None,
            totals: Totals::default(),
        }
    }

    pub fn add(&mut self, w: impl ReportWriter + 'w) {
        self.writers.push(Box::new(w));
    }

    pub fn with_baseline(&mut self, b: Baseline) {
        self.baseline = Some(b);
    }

    pub fn with_waivers(&mut self, w: Waivers, today: Option<Timestamp>) {
        self.waivers = Some(w);
        self.today = today;
    }

    /// Reports a file checked by [`crate::checker::check_files_streaming`].
    pub fn checked(&mut self, f: CheckedFile) -> io::Result<()> {
        let versions = f.versions();
        let mut unreadable = None;
        let findings = f.findings.filter_map(|r| match r {
            Ok(f) => Some(f),
            Err(e) => {
                unreadable.get_or_insert(e);
                None
            }
        });
        self.file(FileInput {
            path: &f.path,
            findings,
            input_errors: &f.input_errors,
            stats: f.stats,
            versions: Some(&versions),
            stations: Some(&f.stations),
            end: f.end,
            notes: &f.notes,
        })?;
        // A disk failure while reading back spilled findings: the report is incomplete.
        if let Some(e) = unreadable {
            self.totals.tool.push(ToolFinding {
                id: "check.findings-lost",
                severity: Severity::Error,
                file: f.path.display().to_string(),
                line: 0,
                message: format!(
                    "findings spilled to a temporary file could not be read back: {e}"
                ),
            });
        }
        Ok(())
    }

    /// Reports a file whose findings are in memory.
    pub fn result(&mut self, r: &FileResult) -> io::Result<()> {
        let end = r.findings.iter().map(|f| f.at).max();
        self.file(FileInput {
            path: &r.path,
            findings: r.findings.iter().cloned(),
            input_errors: &r.input_errors,
            stats: r.stats,
            versions: None,
            stations: None,
            end,
            notes: &r.notes,
        })
    }

    pub fn file<I: Iterator<Item = Finding>>(&mut self, f: FileInput<'_, I>) -> io::Result<()> {
        let file = f.path.display().to_string();
        for w in &mut self.writers {
            w.file_start(&file)?;
        }
        let t = &mut self.totals;
        t.summary.files += 1;
        t.summary.frames += f.stats.frames;
        t.summary.connections += f.stats.connections;
        t.summary.input_errors += f.input_errors.len() as u64;
        let date = self.today.or(f.end).unwrap_or_else(Timestamp::now);
        let no_stations = BTreeMap::new();
        let stations = f.stations.unwrap_or(&no_stations);
        for finding in f.findings {
            let fp = baseline::fingerprint_hex(&finding);
            let mut status = Status::New;
            if let Some(w) = &mut self.waivers
                && let Some(waiver) = w.waive(&finding, stations.get(&*finding.conn), date)
            {
                status = Status::Waived(waiver);
            }
            if matches!(status, Status::New)
                && let Some(b) = &mut self.baseline
                && b.take(baseline::fingerprint(&finding))
            {
                status = Status::Known;
            }
            let t = &mut self.totals;
            t.per_rule
                .entry(finding.rule.id)
                .or_default()
                .add(finding.severity, &status);
            match t.per_station.get_mut(&finding.conn) {
                Some(c) => c.add(finding.severity, &status),
                None => {
                    let mut c = Counts::default();
                    c.add(finding.severity, &status);
                    t.per_station.insert(finding.conn.clone(), c);
                }
            }
            match &status {
                Status::New => {
                    t.summary.count(finding.severity);
                    if self.gate.fails(finding.severity) {
                        t.failing += 1;
                    }
                }
                Status::Known => t.known += 1,
                Status::Waived(_) => t.waived += 1,
            }
            let item = Item {
                file: &file,
                finding: &finding,
                fingerprint: &fp,
                status: &status,
            };
            for w in &mut self.writers {
                w.finding(&item)?;
            }
        }
        let end = FileEnd {
            file: &file,
            stats: f.stats,
            versions: f.versions,
            input_errors: f.input_errors,
            notes: f.notes,
        };
        for w in &mut self.writers {
            w.file_end(&end)?;
        }
        Ok(())
    }

    /// Closes every report; returns the totals the exit code is decided on.
    pub fn finish(mut self) -> io::Result<Totals> {
        if let Some(w) = self.waivers.take() {
            let mut tool = w.findings();
            tool.append(&mut self.totals.tool);
            self.totals.tool = tool;
        }
        let t = &mut self.totals;
        t.failing += t
            .tool
            .iter()
            .filter(|f| self.gate.fails(f.severity))
            .count() as u64;
        for w in &mut self.writers {
            w.finish(&self.totals)?;
        }
        Ok(self.totals)
    }
}

/// Feeds in-memory results through one writer (the shape `demo`, `view` and the proxy use).
pub(crate) fn write_results<'w>(
    writer: impl ReportWriter + 'w,
    results: &[FileResult],
    info: &RunInfo,
) -> io::Result<()> {
    let mut r = Reporter::new(Gate::of(info));
    r.add(writer);
    for res in results {
        r.result(res)?;
    }
    r.finish().map(|_| ())
}
