//! Plain renderings of case results: text for people, one JSON document, JUnit XML (one
//! `<testcase>` per case and station). They write what the runner decided and judge nothing.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::TraceOutcome;
use super::verdict::{CaseResult, StepStatus, Tally, Verdict};
use crate::finding::Finding;

/// What the report says about the run besides the results.
#[derive(Debug, Clone)]
pub struct ReportInfo {
    /// The trace file judged.
    pub trace: String,
    /// The schema origin and errata set.
    pub schemas: String,
    /// When the report was made.
    pub generated: String,
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "rule": f.rule.id,
        "severity": f.severity.as_str(),
        "conn": &*f.conn,
        "line": f.line,
        "ts": f.at.to_string(),
        "unique_id": f.unique_id.as_deref(),
        "action": f.action.as_deref(),
        "message": f.message,
    })
}

fn result_json(r: &CaseResult) -> Value {
    json!({
        "id": r.id,
        "title": r.title,
        "station": r.station,
        "version": r.version.map(|v| v.as_str()),
        "dut": r.dut,
        "requirement": r.requirement,
        "refs": r.refs,
        "verdict": r.verdict.as_str(),
        "reason": r.reason,
        "known_reason": r.known,
        "failed_step": r.failed_step.map(|i| i + 1),
        "steps": r.steps.iter().enumerate().map(|(i, s)| json!({
            "n": i + 1,
            "name": s.name,
            "expects": format!("{}{}", s.shape, if s.expects.is_empty() { String::new() } else { format!(" with {}", s.expects) }),
            "status": s.status.as_str(),
            "frames": s.evidence.iter().map(|e| {
                let mut f = json!({
                    "line": e.line, "ts": e.at.to_string(), "from": e.from.as_str(), "text": e.text,
                });
                if e.injected {
                    f["injected"] = Value::Bool(true);
                }
                f
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
    })
}

/// `--format json`: one document `{"summary":…,"cases":[…],"stations":[…],"findings":[…]}`.
pub fn write_json(out: &mut impl Write, o: &TraceOutcome, info: &ReportInfo) -> io::Result<()> {
    let t = Tally::of(&o.results);
    let doc = json!({
        "summary": {
            "trace": info.trace,
            "generated": info.generated,
            "schemas": info.schemas,
            "cases": o.results.len(),
            "passed": t.passed,
            "failed": t.failed,
            "not_run": t.not_run,
            "known_failures": t.known_failures,
            "fixed": t.fixed,
            "findings": o.findings.len(),
            "input_errors": o.input_errors.len(),
        },
        "cases": o.results.iter().map(result_json).collect::<Vec<_>>(),
        "stations": o.stations.iter().map(|s| json!({
            "identity": s.identity,
            "version": s.version.map(|v| v.as_str()),
            "vendor": s.vendor, "model": s.model, "serial": s.serial, "firmware": s.firmware,
            "frames": s.frames,
        })).collect::<Vec<_>>(),
        "findings": o.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "input_errors": o.input_errors.iter().map(|(l, m)| json!({"line": l, "message": m})).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `--format text`: one line per case and station, the failing step with its reason, the
/// findings inside the run, then a summary line.
pub fn write_text(out: &mut impl Write, o: &TraceOutcome, info: &ReportInfo) -> io::Result<()> {
    for r in &o.results {
        let mark = match r.verdict {
            Verdict::Passed => "PASS   ",
            Verdict::Failed => "FAIL   ",
            Verdict::NotRun => "NOT RUN",
            Verdict::KnownFailure => "KNOWN  ",
            Verdict::Fixed => "FIXED  ",
        };
        writeln!(
            out,
            "{mark} {:<22} {:<14} {}",
            r.id,
            r.station.as_deref().unwrap_or("-"),
            r.title
        )?;
        if r.verdict != Verdict::Passed && !r.reason.is_empty() {
            writeln!(out, "        {}", r.reason)?;
        }
        if let Some(known) = &r.known {
            match r.verdict {
                Verdict::Fixed => writeln!(
                    out,
                    "        listed as a known failure ({known}) but passed: update the known-failures file"
                )?,
                _ => writeln!(out, "        known failure: {known}")?,
            }
        }
        if matches!(r.verdict, Verdict::Failed | Verdict::KnownFailure) {
            for (i, s) in r.steps.iter().enumerate() {
                let mark = match s.status {
                    StepStatus::Matched => "ok  ",
                    StepStatus::Skipped => "skip",
                    StepStatus::Failed => "FAIL",
                    StepStatus::Pending => "----",
                };
                let lines: Vec<String> = s.evidence.iter().map(|e| e.line.to_string()).collect();
                writeln!(
                    out,
                    "        {mark} {:>2}. {}{}",
                    i + 1,
                    s.name,
                    if lines.is_empty() {
                        String::new()
                    } else {
                        format!("  (line {})", lines.join(", "))
                    }
                )?;
            }
        }
        for f in &r.findings {
            writeln!(
                out,
                "        {}[{}] line {}: {}",
                f.severity, f.rule.id, f.line, f.message
            )?;
        }
    }
    let t = Tally::of(&o.results);
    let mut known = String::new();
    if t.known_failures > 0 {
        known.push_str(&format!(", {} known failures", t.known_failures));
    }
    if t.fixed > 0 {
        known.push_str(&format!(", {} fixed", t.fixed));
    }
    writeln!(
        out,
        "\n{}: {} passed, {} failed, {} not run{known} ({} cases × stations) in {}; {} rule findings",
        if t.failed > 0 { "FAIL" } else { "OK" },
        t.passed,
        t.failed,
        t.not_run,
        o.results.len(),
        info.trace,
        o.findings.len()
    )
}

pub use crate::sink::report::junit::xml_escape;

/// `--format junit`: one `<testsuite>`, one `<testcase>` per case and station (classname the
/// station); failed → `<failure>`, not run and known failures → `<skipped>` (a known one
/// with its reason and the failure); the steps and findings go to `<system-out>`, with a
/// note on a fixed one.
pub fn write_junit(out: &mut impl Write, o: &TraceOutcome, info: &ReportInfo) -> io::Result<()> {
    let t = Tally::of(&o.results);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="ocpp-inspector testcase">"#)?;
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{}" skipped="{}" errors="0" timestamp="{}">"#,
        xml_escape(&info.trace),
        o.results.len(),
        t.failed,
        t.not_run + t.known_failures,
        xml_escape(&info.generated)
    )?;
    for r in &o.results {
        write!(
            out,
            r#"    <testcase classname="{}" name="{}">"#,
            xml_escape(r.station.as_deref().unwrap_or("-")),
            xml_escape(&format!("{} {}", r.id, r.title))
        )?;
        match r.verdict {
            Verdict::Passed | Verdict::Fixed => {}
            Verdict::KnownFailure => write!(
                out,
                r#"<skipped message="{}"/>"#,
                xml_escape(&format!(
                    "known failure: {}; {}",
                    r.known.as_deref().unwrap_or(""),
                    r.reason
                ))
            )?,
            Verdict::Failed => write!(
                out,
                r#"<failure message="{}" type="{}"/>"#,
                xml_escape(&r.reason),
                r.failed_step.map_or(0, |i| i + 1)
            )?,
            Verdict::NotRun => write!(out, r#"<skipped message="{}"/>"#, xml_escape(&r.reason))?,
        }
        let mut log = String::new();
        if let (Verdict::Fixed, Some(known)) = (r.verdict, &r.known) {
            log.push_str(&format!(
                "listed as a known failure ({known}) but passed: update the known-failures file\n"
            ));
        }
        for (i, s) in r.steps.iter().enumerate() {
            log.push_str(&format!(
                "{:>2}. [{}] {}\n",
                i + 1,
                s.status.as_str(),
                s.name
            ));
            for e in &s.evidence {
                log.push_str(&format!(
                    "      line {} {}{} {}\n",
                    e.line,
                    e.from,
                    if e.injected { " (injected)" } else { "" },
                    e.text
                ));
            }
        }
        for f in &r.findings {
            log.push_str(&format!(
                "{}[{}] line {}: {}\n",
                f.severity, f.rule.id, f.line, f.message
            ));
        }
        if !log.is_empty() {
            write!(out, "<system-out>{}</system-out>", xml_escape(&log))?;
        }
        writeln!(out, "</testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}
