//! `--format html` / `--html FILE`: one self-contained page (inline CSS and script, no
//! external asset, no server): a summary per rule and per station, then every finding with
//! its frame, filterable by text, severity, rule and station, and the input errors and waiver
//! findings. Streamed: the finding rows are written as they come and the summaries at the
//! end; the page's script shows the summaries first.

use std::io::{self, Write};

use super::markup::html_escape as e;
use super::{Counts, FileEnd, Gate, Item, ReportWriter, Status, Totals};
use crate::ocpp::Version;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2433;background:#f4f6f9}
header{background:#1d2f4f;color:#fff;padding:16px 28px}
header h1{margin:0 0 4px;font-size:21px}
header p{margin:0;opacity:.85}
main{padding:16px 28px;max-width:1500px}
section{background:#fff;border:1px solid #d8dee8;border-radius:6px;padding:12px 16px;margin:0 0 14px}
h2{font-size:16px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6eaf0;vertical-align:top}
th{background:#eef2f7;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{margin:2px 0;padding:4px 6px;background:#f6f8fb;border:1px solid #e6eaf0;border-radius:4px;white-space:pre-wrap;word-break:break-all;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace}
.sev-error{color:#8c1111;font-weight:600}.sev-warning{color:#8a5a00;font-weight:600}.sev-info{color:#2d5b9a}.sev-waived{color:#11602c}
.verdict{display:inline-block;border-radius:4px;padding:2px 10px;font-weight:700}
.PASS{background:#d9f2e1;color:#11602c}.FAIL{background:#fbdada;color:#8c1111}.INPUT{background:#efe0fb;color:#5b1d8c}
.filters{display:flex;gap:10px;flex-wrap:wrap;margin-bottom:8px}
.filters input,.filters select{font:inherit;padding:3px 6px}
.meta{color:#5b6474;font-size:12px}
a.f{cursor:pointer;color:#1d4f91;text-decoration:underline}
"#;

const SCRIPT: &str = r#"
(function(){
  var main=document.querySelector('main'), sums=document.getElementById('summaries');
  if(sums){main.insertBefore(sums, main.firstChild);}
  var rows=[].slice.call(document.querySelectorAll('#findings tbody tr'));
  var q=document.getElementById('q'), sev=document.getElementById('sev'),
      rule=document.getElementById('rule'), st=document.getElementById('station'),
      shown=document.getElementById('shown');
  function apply(){
    var t=q.value.toLowerCase(), n=0;
    rows.forEach(function(r){
      var ok=(!sev.value||r.dataset.sev===sev.value)&&(!rule.value||r.dataset.rule===rule.value)
        &&(!st.value||r.dataset.station===st.value)&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);
      r.style.display=ok?'':'none'; if(ok){n++;}
    });
    shown.textContent=n+' of '+rows.length+' shown';
  }
  [q,sev,rule,st].forEach(function(el){el.addEventListener('input',apply);});
  document.querySelectorAll('a.f').forEach(function(a){a.addEventListener('click',function(){
    var el=document.getElementById(a.dataset.k); el.value=a.dataset.v; apply();
    document.getElementById('findings').scrollIntoView();});});
  apply();
})();
"#;

/// The HTML page, streamed.
pub struct HtmlWriter<W: Write> {
    out: W,
    gate: Gate,
    started: bool,
    /// Input errors (bounded per file by the checker) shown at the end.
    input_errors: Vec<(String, u64, String)>,
    files: Vec<(String, u64, String)>,
}

impl<W: Write> HtmlWriter<W> {
    pub fn new(out: W, gate: Gate) -> Self {
        HtmlWriter {
            out,
            gate,
            started: false,
            input_errors: Vec::new(),
            files: Vec::new(),
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let out = &mut self.out;
        writeln!(out, "<!DOCTYPE html>")?;
        writeln!(out, r#"<html lang="en"><head><meta charset="utf-8">"#)?;
        writeln!(out, "<title>ocpp-inspector check report</title>")?;
        writeln!(out, "<style>{STYLE}</style></head><body>")?;
        writeln!(
            out,
            "<header><h1>OCPP check report</h1><p>ocpp-inspector {} · schemas {} · fail on {}</p></header><main>",
            env!("CARGO_PKG_VERSION"),
            e(&self.gate.info.schemas),
            self.gate.fail_on_str()
        )?;
        writeln!(out, "<section id=findings><h2>Findings</h2>")?;
        writeln!(
            out,
            "<div class=filters><input id=q placeholder=\"filter text\" size=30>\
<select id=sev><option value=\"\">any severity</option><option>error</option><option>warning</option><option>info</option><option>waived</option></select>\
<input id=rule placeholder=\"rule id\" size=28><input id=station placeholder=\"station\" size=16><span id=shown class=meta></span></div>"
        )?;
        writeln!(
            out,
            "<table><thead><tr><th>Severity</th><th>Rule</th><th>Where</th><th>Station</th><th>Finding and frame</th></tr></thead><tbody>"
        )
    }
}

fn counts_cells(c: &Counts) -> String {
    format!(
        "<td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>",
        c.errors, c.warnings, c.infos, c.waived, c.known
    )
}

impl<W: Write> ReportWriter for HtmlWriter<W> {
    fn file_start(&mut self, _file: &str) -> io::Result<()> {
        self.start()
    }

    fn finding(&mut self, item: &Item<'_>) -> io::Result<()> {
        let f = item.finding;
        let (sev, note) = match item.status {
            Status::Known => return Ok(()),
            Status::New => (f.severity.as_str(), String::new()),
            Status::Waived(w) => (
                "waived",
                format!(
                    "<div class=meta>waived ({}) until {} · {}: {}</div>",
                    f.severity,
                    e(&w.expires),
                    e(&w.owner),
                    e(&w.reason)
                ),
            ),
        };
        let mut whom = String::new();
        if let Some(a) = &f.action {
            whom.push_str(&e(a));
        }
        if let Some(id) = &f.unique_id {
            whom.push_str(&format!(" id {}", e(id)));
        }
        writeln!(
            self.out,
            "<tr data-sev=\"{sev}\" data-rule=\"{}\" data-station=\"{}\"><td class=sev-{sev}>{sev}</td><td>{}</td><td class=meta>{}:{}<br>{}</td><td>{}</td><td>{}<div class=meta>{}</div>{}{}</td></tr>",
            e(f.rule.id),
            e(&f.conn),
            e(f.rule.id),
            e(item.file),
            f.line,
            e(&f.at.to_string()),
            e(&f.conn),
            e(&f.message),
            whom,
            f.evidence
                .as_deref()
                .map(|x| format!("<pre>{}</pre>", e(x)))
                .unwrap_or_default(),
            note
        )
    }

    fn file_end(&mut self, end: &FileEnd<'_>) -> io::Result<()> {
        for x in end.input_errors {
            self.input_errors
                .push((end.file.to_owned(), x.line, x.message.clone()));
        }
        let versions = end
            .versions
            .map_or("unknown".into(), |vs| Version::list(vs, ", "));
        self.files
            .push((end.file.to_owned(), end.stats.frames, versions));
        Ok(())
    }

    fn finish(&mut self, t: &Totals) -> io::Result<()> {
        self.start()?;
        let out = &mut self.out;
        writeln!(out, "</tbody></table></section>")?;
        if !self.input_errors.is_empty() || !t.tool.is_empty() {
            writeln!(
                out,
                "<section><h2>Input errors and waivers</h2><table><tr><th>What</th><th>Where</th><th>Message</th></tr>"
            )?;
            for (file, line, msg) in &self.input_errors {
                writeln!(
                    out,
                    "<tr><td class=sev-error>input error</td><td class=meta>{}:{line}</td><td>{}</td></tr>",
                    e(file),
                    e(msg)
                )?;
            }
            for f in &t.tool {
                writeln!(
                    out,
                    "<tr><td class=sev-{}>{}</td><td class=meta>{}:{}</td><td>{}</td></tr>",
                    f.severity,
                    e(f.id),
                    e(&f.file),
                    f.line,
                    e(&f.message)
                )?;
            }
            writeln!(out, "</table></section>")?;
        }
        // The summaries, moved to the top by the script.
        let verdict = t.verdict();
        writeln!(out, "<div id=summaries><section><h2>Summary</h2>")?;
        writeln!(
            out,
            "<p><span class=\"verdict {}\">{verdict}</span> {}</p>",
            verdict.split(' ').next().unwrap_or(verdict),
            e(&t.line(&self.gate))
        )?;
        writeln!(
            out,
            "<table><tr><th>Trace</th><th>Frames</th><th>Versions</th></tr>"
        )?;
        for (file, frames, versions) in &self.files {
            writeln!(
                out,
                "<tr><td>{}</td><td class=n>{frames}</td><td>{}</td></tr>",
                e(file),
                e(versions)
            )?;
        }
        writeln!(out, "</table></section>")?;
        let head = "<th class=n>errors</th><th class=n>warnings</th><th class=n>infos</th><th class=n>waived</th><th class=n>baseline</th>";
        writeln!(
            out,
            "<section><h2>Per rule</h2><table><tr><th>Rule</th>{head}</tr>"
        )?;
        for (rule, c) in &t.per_rule {
            writeln!(
                out,
                "<tr><td><a class=f data-k=rule data-v=\"{0}\">{0}</a></td>{1}</tr>",
                e(rule),
                counts_cells(c)
            )?;
        }
        writeln!(out, "</table></section>")?;
        writeln!(
            out,
            "<section><h2>Per station</h2><table><tr><th>Station</th>{head}</tr>"
        )?;
        for (station, c) in &t.per_station {
            writeln!(
                out,
                "<tr><td><a class=f data-k=station data-v=\"{0}\">{0}</a></td>{1}</tr>",
                e(station),
                counts_cells(c)
            )?;
        }
        writeln!(out, "</table></section></div>")?;
        writeln!(out, "</main><script>{SCRIPT}</script></body></html>")?;
        out.flush()
    }
}
