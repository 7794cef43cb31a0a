//! The lab report: one self-contained HTML file (inline CSS, no scripts, no external
//! assets) a lab can sign: an overall verdict banner, the lab's fields, tool version and
//! commit, the case set's and every trace's SHA-256, the schema set with each errata overlay,
//! the configuration in force, the device identity, per side under test a summary (and per
//! certification profile), per case its steps with the frames exactly as sent as evidence,
//! and every rule finding. Print CSS: one page per case, tables not cut. It renders the
//! runner's results; it decides nothing.

use std::io::{self, Write};

use super::TraceOutcome;
use super::report::{ReportInfo, judged_stations, octt_cases, parts, profiles, tally};
use super::verdict::{CaseResult, StepStatus, Tally, Verdict};
use crate::finding::Finding;
use crate::sink::report::markup::html_escape;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2433;background:#f4f6f9}
header{background:#1d2f4f;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;opacity:.85}
main{padding:18px 28px;max-width:1400px}
section{background:#fff;border:1px solid #d8dee8;border-radius:6px;padding:14px 18px;margin:0 0 16px}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:15px;margin:0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6eaf0;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef2f7;font-weight:600}
.v{display:inline-block;min-width:64px;text-align:center;border-radius:4px;padding:1px 8px;font-weight:600;font-size:12px}
.passed{background:#d9f2e1;color:#11602c}.failed{background:#fbdada;color:#8c1111}.not_run{background:#e8eaee;color:#4a5261}
.known_failure{background:#fdecc8;color:#7a4a00}.fixed{background:#dbe8fb;color:#1d4f91}
.known{color:#7a4a00;margin:6px 0}
.tot{display:flex;gap:12px;margin-bottom:10px}.tot div{padding:8px 14px;border-radius:6px;font-weight:600}
.st-matched{color:#11602c}.st-failed{color:#8c1111;font-weight:700}.st-skipped{color:#6b7280}.st-pending{color:#9aa3b1}
.reason{color:#8c1111;margin:6px 0}
pre{margin:2px 0;padding:4px 6px;background:#f6f8fb;border:1px solid #e6eaf0;border-radius:4px;white-space:pre-wrap;word-break:break-all;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace}
.meta{color:#5b6474;font-size:12px}
.sev-error{color:#8c1111;font-weight:600}.sev-warning{color:#8a5a00;font-weight:600}.sev-info{color:#2d5b9a}
.case{border-left:4px solid #c8ced8}.case.c-passed{border-left-color:#2f9e57}.case.c-failed{border-left-color:#d23c3c}.case.c-known_failure{border-left-color:#d99a1c}.case.c-fixed{border-left-color:#3b73c4}
a{color:#1d4f91}
.nw{white-space:nowrap}
.inj{color:#6a3fb0;font-weight:600}
.inconclusive{background:#fdf1c7;color:#6b5200}.not_applicable{background:#eef0f3;color:#6b7280}
.case.c-inconclusive{border-left-color:#c9a227}
.banner{font-size:20px;font-weight:700;padding:10px 16px;border-radius:6px;margin:0 0 10px}
.b-passed{background:#2f9e57;color:#fff}.b-failed{background:#d23c3c;color:#fff}.b-inconclusive{background:#c9a227;color:#1d2433}.b-no_verdict{background:#8a93a3;color:#fff}
.kv th{width:220px}
.hash{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
@media print{
body{background:#fff;font-size:11px}
header{background:#fff;color:#000;border-bottom:2px solid #000}
main{max-width:none;padding:0}
section{border:none;border-radius:0;padding:0;margin:0 0 12px}
section.case{break-before:page;page-break-before:always;border-left:none}
table,tr,pre,.banner{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}
a{color:#000;text-decoration:none}
.banner,.v,.tot div{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

/// Writes the report.
pub fn write(out: &mut impl Write, o: &TraceOutcome, info: &ReportInfo) -> io::Result<()> {
    let t = Tally::of(&o.results);
    let e = html_escape;
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, r#"<html lang="en"><head><meta charset="utf-8">"#)?;
    writeln!(
        out,
        "<title>OCPP conformance report: {}</title>",
        e(&info.trace)
    )?;
    writeln!(out, "<style>{STYLE}</style></head><body>")?;
    writeln!(
        out,
        "<header><h1>OCPP conformance test report</h1><p>{} · generated {} by {}</p></header><main>",
        e(&info.trace),
        e(&info.generated),
        e(&info.tool)
    )?;
    let parts = parts(o);
    writeln!(
        out,
        "<div class=\"banner b-{}\">Overall verdict: {} <span style=\"font-weight:400;font-size:14px\">· {}</span></div>",
        t.overall(),
        t.overall().replace('_', " ").to_uppercase(),
        t.counts()
    )?;
    write_run(out, o, info)?;

    // Device identity.
    writeln!(out, "<section><h2>Device under test</h2><table>")?;
    writeln!(
        out,
        "<tr><th>Station identity</th><th>OCPP version</th><th>Vendor</th><th>Model</th><th>Serial number</th><th>Firmware</th><th>Frames</th><th>Cases</th><th>Observed</th></tr>"
    )?;
    for s in &o.stations {
        let opt = |v: &Option<String>| e(v.as_deref().unwrap_or("–"));
        writeln!(
            out,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=meta>{} – {}</td></tr>",
            e(&s.identity),
            s.version.map_or("unknown", |v| v.as_str()),
            opt(&s.vendor),
            opt(&s.model),
            opt(&s.serial),
            opt(&s.firmware),
            s.frames,
            match &s.note {
                Some(n) => format!("0 <span class=meta>({})</span>", e(n)),
                None => s.cases.to_string(),
            },
            s.first_at.map(|t| t.to_string()).unwrap_or_default(),
            s.last_at.map(|t| t.to_string()).unwrap_or_default()
        )?;
    }
    if o.stations.is_empty() {
        writeln!(out, "<tr><td colspan=9>The trace has no station.</td></tr>")?;
    }
    writeln!(out, "</table>")?;
    writeln!(
        out,
        "<p class=meta>Trace {}{}; schemas: {}.</p></section>",
        e(&info.trace),
        o.span
            .map(|(a, b)| format!(" from {a} to {b}"))
            .unwrap_or_default(),
        e(&info.schemas)
    )?;

    // Summary, per side under test: charger-side and CSMS-side cases are separate reports.
    for (role, rs) in &parts {
        let pt = tally(rs);
        let stations = judged_stations(rs);
        writeln!(
            out,
            "<section><h2>Summary: {} under test</h2><div class=\"banner b-{}\">{}: {}</div>",
            if *role == "csms" { "CSMS" } else { "Charger" },
            pt.overall(),
            if *role == "csms" { "CSMS" } else { "Charger" },
            pt.overall().replace('_', " ").to_uppercase()
        )?;
        writeln!(
            out,
            "<p class=meta>Judged on {}; {} case results, {} distinct OCA test cases.</p><div class=tot>",
            if stations.is_empty() {
                "no station".to_owned()
            } else {
                e(&stations.join(", "))
            },
            rs.len(),
            octt_cases(rs)
        )?;
        writeln!(
            out,
            "<div class=passed>{} passed</div><div class=failed>{} failed</div><div class=inconclusive>{} inconclusive</div><div class=not_run>{} not run</div><div class=not_applicable>{} not applicable</div></div>",
            pt.passed, pt.failed, pt.inconclusive, pt.not_run, pt.not_applicable
        )?;
        if pt.known_failures + pt.fixed > 0 {
            writeln!(
                out,
                "<div class=tot><div class=known_failure>{} known failures</div><div class=fixed>{} fixed (listed as known, now passing)</div></div>",
                pt.known_failures, pt.fixed
            )?;
        }
        writeln!(
            out,
            "<table><thead><tr><th>Profile</th><th>Verdict</th><th>Passed</th><th>Failed</th><th>Inconclusive</th><th>Not run</th><th>Not applicable</th></tr></thead>"
        )?;
        for (p, pt) in profiles(rs) {
            writeln!(
                out,
                "<tr><td>{}</td><td><span class=\"v {}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(if p == "-" { "(no profile)" } else { &p }),
                match pt.overall() {
                    "passed" => "passed",
                    "failed" => "failed",
                    "inconclusive" => "inconclusive",
                    _ => "not_run",
                },
                pt.overall().replace('_', " "),
                pt.passed,
                pt.failed,
                pt.inconclusive,
                pt.not_run,
                pt.not_applicable
            )?;
        }
        writeln!(out, "</table><p></p>")?;
        writeln!(
            out,
            "<table><thead><tr><th>Case</th><th>Title</th><th>Station</th><th>References</th><th>Verdict</th><th>Reason</th><th>Findings</th></tr></thead>"
        )?;
        for r in rs {
            let n = o
                .results
                .iter()
                .position(|x| std::ptr::eq(x, *r))
                .unwrap_or(0);
            writeln!(
                out,
                "<tr><td class=nw><a href=\"#c{n}\">{}</a></td><td>{}</td><td class=nw>{}</td><td class=meta>{}</td><td class=nw><span class=\"v {}\">{}</span></td><td>{}</td><td>{}</td></tr>",
                e(&r.id),
                e(&r.title),
                e(r.station.as_deref().unwrap_or("–")),
                e(&r.refs.join(", ")),
                r.verdict.as_str(),
                verdict_label(r.verdict),
                match &r.known {
                    Some(k) if r.reason.is_empty() => format!("known failure: {}", e(k)),
                    Some(k) => format!(
                        "{}<br><span class=known>known failure: {}</span>",
                        e(&r.reason),
                        e(k)
                    ),
                    None => e(&r.reason),
                },
                r.findings.len()
            )?;
        }
        writeln!(out, "</table></section>")?;
    }

    // Per case.
    for (n, r) in o.results.iter().enumerate() {
        write_case(out, n, r)?;
    }

    // All findings.
    writeln!(
        out,
        "<section><h2>All rule findings ({})</h2>",
        o.findings.len()
    )?;
    if o.findings.is_empty() {
        writeln!(out, "<p>No rule finding.</p>")?;
    } else {
        findings_table(out, &o.findings)?;
    }
    if !o.input_errors.is_empty() {
        writeln!(out, "<h3>Input errors</h3><ul>")?;
        for (line, m) in &o.input_errors {
            writeln!(out, "<li>line {line}: {}</li>", e(m))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section></main></body></html>")
}

fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "PASSED",
        Verdict::Failed => "FAILED",
        Verdict::Inconclusive => "INCONCLUSIVE",
        Verdict::NotApplicable => "NOT APPLICABLE",
        Verdict::NotRun => "NOT RUN",
        Verdict::KnownFailure => "KNOWN FAILURE",
        Verdict::Fixed => "FIXED",
    }
}

fn write_case(out: &mut impl Write, n: usize, r: &CaseResult) -> io::Result<()> {
    let e = html_escape;
    writeln!(
        out,
        "<section class=\"case c-{}\" id=\"c{n}\"><h3>{} · {} <span class=\"v {}\">{}</span></h3>",
        r.verdict.as_str(),
        e(&r.id),
        e(&r.title),
        r.verdict.as_str(),
        verdict_label(r.verdict)
    )?;
    writeln!(
        out,
        "<p class=meta>Station {} (OCPP {}) · device under test: {} · requirement: {} · {}</p>",
        e(r.station.as_deref().unwrap_or("–")),
        r.version.map_or("?", |v| v.as_str()),
        r.dut,
        e(&r.requirement),
        e(&r.refs.join(", "))
    )?;
    if !r.reason.is_empty() {
        writeln!(out, "<p class=reason>{}</p>", e(&r.reason))?;
    }
    if let Some(k) = &r.known {
        let what = if r.verdict == Verdict::Fixed {
            "Listed as a known failure but passed (update the known-failures file)"
        } else {
            "Known failure"
        };
        writeln!(out, "<p class=known>{what}: {}</p>", e(k))?;
    }
    if !matches!(r.verdict, Verdict::NotRun | Verdict::NotApplicable)
        || r.reason.starts_with("trigger")
    {
        writeln!(
            out,
            "<table><tr><th>#</th><th>Step</th><th>Expected</th><th>Status</th><th>Evidence (trace line, time, frame)</th></tr>"
        )?;
        for (i, s) in r.steps.iter().enumerate() {
            let mut flags = Vec::new();
            if s.optional {
                flags.push("optional");
            }
            if s.repeat {
                flags.push("repeatable");
            }
            write!(
                out,
                "<tr><td>{}</td><td>{}{}</td><td class=meta>{}{}</td><td class=\"st-{}\">{}</td><td>",
                i + 1,
                e(&s.name),
                if flags.is_empty() {
                    String::new()
                } else {
                    format!(" <span class=meta>({})</span>", flags.join(", "))
                },
                e(&s.shape),
                if s.expects.is_empty() {
                    String::new()
                } else {
                    format!("<br>{}", e(&s.expects))
                },
                s.status.as_str(),
                s.status.as_str()
            )?;
            for ev in &s.evidence {
                write!(
                    out,
                    "<div class=meta>line {} · {} · {}{}{}</div><pre>{}</pre>",
                    ev.line,
                    ev.at,
                    ev.from.arrow(),
                    if ev.injected {
                        " · <span class=inj>injected by the inspector</span>"
                    } else {
                        ""
                    },
                    match ev.truncated {
                        Some(n) => format!(" · first {} of {n} bytes", ev.text.len()),
                        None => String::new(),
                    },
                    e(&ev.text)
                )?;
            }
            if s.evidence.is_empty() && s.status == StepStatus::Pending {
                write!(out, "<span class=meta>no frame</span>")?;
            }
            writeln!(out, "</td></tr>")?;
        }
        writeln!(out, "</table>")?;
    }
    if !r.findings.is_empty() {
        writeln!(
            out,
            "<p><b>Rule findings during this case ({})</b></p>",
            r.findings.len()
        )?;
        findings_table(out, &r.findings)?;
    }
    writeln!(out, "</section>")
}

fn findings_table(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    let e = html_escape;
    writeln!(
        out,
        "<table><tr><th>Severity</th><th>Rule</th><th>Station</th><th>Line</th><th>Message</th></tr>"
    )?;
    for f in findings {
        writeln!(
            out,
            "<tr><td class=\"sev-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            f.severity,
            f.severity,
            e(f.rule.id),
            e(&f.conn),
            f.line,
            e(&f.message),
            f.evidence
                .as_deref()
                .map(|t| format!("<pre>{}</pre>", e(t)))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "</table>")
}

/// The run: the lab's fields, the tool, the case set and every trace with their SHA-256,
/// the schemas with each errata overlay, and the configuration in force.
fn write_run(out: &mut impl Write, o: &TraceOutcome, info: &ReportInfo) -> io::Result<()> {
    let e = html_escape;
    writeln!(out, "<section><h2>Test run</h2><table class=kv>")?;
    let row = |out: &mut dyn Write, k: &str, v: String| -> io::Result<()> {
        writeln!(out, "<tr><th>{}</th><td>{v}</td></tr>", e(k))
    };
    match &info.lab {
        Some(l) => {
            for (k, v) in l.fields() {
                row(out, k, e(v))?;
            }
        }
        None => row(
            out,
            "Lab",
            "<span class=meta>not given (--lab-info FILE)</span>".into(),
        )?,
    }
    row(out, "Tool", e(&info.tool))?;
    row(out, "Generated", e(&info.generated))?;
    if let Some(c) = &info.case_set {
        row(
            out,
            "Case set",
            format!(
                "{} · {} files · SHA-256 <span class=hash>{}</span> <span class=meta>(of the sorted <code>sha256sum</code> listing of the case files)</span>",
                e(&c.origin),
                c.files.len(),
                e(&c.sha256)
            ),
        )?;
    }
    if info.traces.is_empty() {
        row(out, "Traces", e(&info.trace))?;
    }
    for t in &info.traces {
        row(
            out,
            "Trace",
            format!(
                "{} · {} bytes · SHA-256 <span class=hash>{}</span>",
                e(&t.path),
                t.bytes,
                e(&t.sha256)
            ),
        )?;
    }
    if let Some((a, b)) = o.span {
        row(out, "Traffic", format!("from {a} to {b}"))?;
    }
    let errata = if info.errata.is_empty() {
        String::new()
    } else {
        let items: Vec<String> = info
            .errata
            .iter()
            .map(|[n, v, s, d]| {
                format!(
                    "<li><b>{}</b> (OCPP {} {}): {}</li>",
                    e(n),
                    e(v),
                    e(s),
                    e(d)
                )
            })
            .collect();
        format!("<br>errata overlays applied:<ul>{}</ul>", items.join(""))
    };
    row(out, "Schemas", format!("{}{errata}", e(&info.schemas)))?;
    for (k, v) in &info.config {
        row(out, &format!("Configuration: {k}"), e(v))?;
    }
    writeln!(out, "</table></section>")
}
