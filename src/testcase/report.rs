//! Plain renderings of case results: text for people, one JSON document, JUnit XML (one
//! `<testsuite>` per side under test, one `<testcase>` per case and station), each with the
//! run's metadata (lab, tool, case-set and trace hashes, schemas, configuration). They write
//! what the runner decided and judge nothing.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::TraceOutcome;
use super::meta::{CaseSet, FileHash, LabInfo};
use super::verdict::{CaseResult, StepStatus, Tally, Verdict};
use crate::finding::Finding;

/// What the report says about the run besides the results.
#[derive(Debug, Clone, Default)]
pub struct ReportInfo {
    /// The trace file judged.
    pub trace: String,
    /// The schema origin and errata set.
    pub schemas: String,
    /// When the report was made.
    pub generated: String,
    /// The tool and the commit it was built from.
    pub tool: String,
    /// `--lab-info`.
    pub lab: Option<LabInfo>,
    /// The case set's fingerprint.
    pub case_set: Option<CaseSet>,
    /// Every trace or recording judged, hashed.
    pub traces: Vec<FileHash>,
    /// The errata overlays applied to the schemas: (name, OCPP version, schema, summary).
    pub errata: Vec<[String; 4]>,
    /// The configuration in force: (setting, value), as given on the command line.
    pub config: Vec<(String, String)>,
}

/// The sides under test in the order reports show them.
pub const ROLES: [&str; 2] = ["charger", "csms"];

/// The results of one side under test (charger-side and CSMS-side cases are separate
/// reports): the role and its results.
pub fn parts(o: &TraceOutcome) -> Vec<(&'static str, Vec<&CaseResult>)> {
    ROLES
        .iter()
        .map(|&role| {
            (
                role,
                o.results
                    .iter()
                    .filter(|r| r.dut == role)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, rs)| !rs.is_empty())
        .collect()
}

/// Counts of a part's results.
pub fn tally(rs: &[&CaseResult]) -> Tally {
    Tally::of(rs.iter().copied())
}

/// Which stations were judged for a side: those with a result other than not applicable.
pub fn judged_stations(rs: &[&CaseResult]) -> Vec<String> {
    let mut s: Vec<String> = rs
        .iter()
        .filter(|r| r.verdict != Verdict::NotApplicable)
        .filter_map(|r| r.station.clone())
        .collect();
    s.sort();
    s.dedup();
    s
}

/// "judged: charger side on CP-001, CP-002; CSMS side on the connections of CP-001".
pub fn judged_line(o: &TraceOutcome) -> String {
    let parts: Vec<String> = parts(o)
        .iter()
        .map(|(role, rs)| {
            let st = judged_stations(rs);
            let who = if st.is_empty() {
                "no station".to_owned()
            } else {
                st.join(", ")
            };
            if *role == "csms" {
                format!("CSMS side (on the connections of {who})")
            } else {
                format!("charger side ({who})")
            }
        })
        .collect();
    format!("judged: {}", parts.join("; "))
}

/// Per certification profile (cases without one under `-`), the counts of its results.
pub fn profiles(rs: &[&CaseResult]) -> Vec<(String, Tally)> {
    let mut names: Vec<String> = rs
        .iter()
        .flat_map(|r| {
            if r.profiles.is_empty() {
                vec!["-".to_owned()]
            } else {
                r.profiles.clone()
            }
        })
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|p| {
            let of: Vec<&CaseResult> = rs
                .iter()
                .copied()
                .filter(|r| r.profiles.contains(&p) || (p == "-" && r.profiles.is_empty()))
                .collect();
            let t = tally(&of);
            (p, t)
        })
        .collect()
}

/// Distinct OCA test tool cases among the results (one per OCTT id, however many stations).
pub fn octt_cases(rs: &[&CaseResult]) -> usize {
    let mut ids: Vec<&str> = rs.iter().filter_map(|r| r.octt.as_deref()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

fn tally_json(t: &Tally) -> Value {
    json!({
        "verdict": t.overall(),
        "passed": t.passed, "failed": t.failed, "inconclusive": t.inconclusive,
        "not_applicable": t.not_applicable, "not_run": t.not_run,
        "known_failures": t.known_failures, "fixed": t.fixed,
    })
}

/// The run's metadata as JSON (the same in the JSON document and, flattened, in JUnit).
pub fn meta_json(info: &ReportInfo) -> Value {
    json!({
        "tool": info.tool,
        "generated": info.generated,
        "lab": info.lab.as_ref().map(|l| json!({
            "lab": l.lab, "operator": l.operator, "customer": l.customer, "notes": l.notes,
        })),
        "case_set": info.case_set.as_ref().map(|c| json!({
            "origin": c.origin,
            "sha256": c.sha256,
            "files": c.files.iter().map(|(p, h)| json!({"path": p, "sha256": h})).collect::<Vec<_>>(),
        })),
        "traces": info.traces.iter().map(|t| json!({
            "path": t.path, "bytes": t.bytes, "sha256": t.sha256, "marks_injected": t.marks_injected,
        })).collect::<Vec<_>>(),
        "schemas": info.schemas,
        "errata": info.errata.iter().map(|[n, v, s, d]| json!({
            "name": n, "version": v, "schema": s, "summary": d,
        })).collect::<Vec<_>>(),
        "config": info.config.iter().map(|(k, v)| json!({"setting": k, "value": v})).collect::<Vec<_>>(),
    })
}

/// The metadata as (name, value) pairs: JUnit `<property>` elements.
pub fn meta_pairs(info: &ReportInfo) -> Vec<(String, String)> {
    let mut p = vec![
        ("tool".to_owned(), info.tool.clone()),
        ("generated".to_owned(), info.generated.clone()),
    ];
    if let Some(l) = &info.lab {
        for (k, v) in l.fields() {
            p.push((format!("lab.{}", k.to_lowercase()), v.to_owned()));
        }
    }
    if let Some(c) = &info.case_set {
        p.push(("case_set.origin".into(), c.origin.clone()));
        p.push(("case_set.files".into(), c.files.len().to_string()));
        p.push(("case_set.sha256".into(), c.sha256.clone()));
    }
    for t in &info.traces {
        p.push((format!("trace.sha256 {}", t.path), t.sha256.clone()));
    }
    p.push(("schemas".into(), info.schemas.clone()));
    for [n, v, s, _] in &info.errata {
        p.push((format!("erratum {n}"), format!("OCPP {v} {s}")));
    }
    for (k, v) in &info.config {
        p.push((format!("config {k}"), v.clone()));
    }
    p
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
        "octt": r.octt,
        "profiles": r.profiles,
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
                if let Some(n) = e.truncated {
                    f["truncated_from_bytes"] = json!(n);
                }
                f
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
    })
}

/// `--format json`: one document `{"summary":…,"meta":…,"parts":[…],"cases":[…],
/// "stations":[…],"findings":[…]}`.
pub fn write_json(out: &mut impl Write, o: &TraceOutcome, info: &ReportInfo) -> io::Result<()> {
    let t = Tally::of(&o.results);
    let all: Vec<&CaseResult> = o.results.iter().collect();
    let doc = json!({
        "meta": meta_json(info),
        "parts": parts(o).iter().map(|(role, rs)| {
            let mut v = tally_json(&tally(rs));
            v["dut"] = json!(role);
            v["stations"] = json!(judged_stations(rs));
            v["octt_cases"] = json!(octt_cases(rs));
            v["profiles"] = profiles(rs).iter().map(|(p, t)| {
                let mut x = tally_json(t);
                x["profile"] = json!(p);
                x
            }).collect::<Vec<_>>().into();
            v
        }).collect::<Vec<_>>(),
        "summary": {
            "verdict": t.overall(),
            "judged": judged_line(o),
            "trace": info.trace,
            "generated": info.generated,
            "schemas": info.schemas,
            "cases": o.results.len(),
            "octt_cases": octt_cases(&all),
            "passed": t.passed,
            "failed": t.failed,
            "inconclusive": t.inconclusive,
            "not_applicable": t.not_applicable,
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
            "under_test": s.under_test, "cases": s.cases, "note": s.note,
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
    let parts = parts(o);
    for (role, rs) in &parts {
        if parts.len() > 1 {
            writeln!(out, "== {role} under test ==")?;
        }
        write_text_part(out, rs)?;
        if parts.len() > 1 {
            let t = tally(rs);
            writeln!(
                out,
                "{role} under test: {}: {}\n",
                t.overall().to_uppercase(),
                t.counts()
            )?;
        }
    }
    for s in &o.stations {
        if let Some(note) = &s.note {
            writeln!(out, "station {}: {note}", s.identity)?;
        }
    }
    writeln!(out, "{}", judged_line(o))?;
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
        "\n{}: {}{known} ({} cases × stations) in {}; {} rule findings",
        if t.failed > 0 { "FAIL" } else { "OK" },
        t.counts(),
        o.results.len(),
        info.trace,
        o.findings.len()
    )
}

fn write_text_part(out: &mut impl Write, rs: &[&CaseResult]) -> io::Result<()> {
    for r in rs {
        let mark = match r.verdict {
            Verdict::Passed => "PASS   ",
            Verdict::Failed => "FAIL   ",
            Verdict::Inconclusive => "INCONCL",
            Verdict::NotApplicable => "N/A    ",
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
    Ok(())
}

pub use crate::sink::report::markup::xml_escape;

/// `--format junit`: one `<testsuite>` per side under test with the run's metadata as
/// `<properties>`, one `<testcase>` per case and station (classname the station); failed →
/// `<failure>`, inconclusive → `<error>`, not run, not applicable and known failures →
/// `<skipped>` (a known one with its reason and the failure); the steps and findings go to
/// `<system-out>`, with a note on a fixed one.
pub fn write_junit(out: &mut impl Write, o: &TraceOutcome, info: &ReportInfo) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="ocpp-inspector testcase">"#)?;
    let meta = meta_pairs(info);
    for (role, rs) in parts(o) {
        let t = tally(&rs);
        writeln!(
            out,
            r#"  <testsuite name="{} ({} under test)" tests="{}" failures="{}" skipped="{}" errors="{}" timestamp="{}">"#,
            xml_escape(&info.trace),
            role,
            rs.len(),
            t.failed,
            t.not_run + t.not_applicable + t.known_failures,
            t.inconclusive,
            xml_escape(&info.generated)
        )?;
        writeln!(out, "    <properties>")?;
        writeln!(
            out,
            r#"      <property name="verdict" value="{}"/>"#,
            t.overall()
        )?;
        writeln!(
            out,
            r#"      <property name="dut" value="{role}: {}"/>"#,
            xml_escape(&judged_stations(&rs).join(", "))
        )?;
        for (k, v) in &meta {
            writeln!(
                out,
                r#"      <property name="{}" value="{}"/>"#,
                xml_escape(k),
                xml_escape(v)
            )?;
        }
        writeln!(out, "    </properties>")?;
        for r in rs {
            write_junit_case(out, r)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn write_junit_case(out: &mut impl Write, r: &CaseResult) -> io::Result<()> {
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
        Verdict::Inconclusive => write!(
            out,
            r#"<error message="{}" type="inconclusive"/>"#,
            xml_escape(&format!("inconclusive: {}", r.reason))
        )?,
        Verdict::NotApplicable => write!(
            out,
            r#"<skipped message="{}"/>"#,
            xml_escape(&format!("not applicable: {}", r.reason))
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
    writeln!(out, "</testcase>")
}
