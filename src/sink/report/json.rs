//! `--format json` / `--json FILE`: ONE document, a stable contract:
//! `{"findings":[{"rule","severity","file","line","conn","unique_id","action","message",
//! "fingerprint","waived",...}],"input_errors":[...],"tool_findings":[...],
//! "summary":{"frames":N,"errors":N,"warnings":N,...}}`.
//! Members are only ever added, never renamed or removed. Written as a stream: each finding
//! as it comes, the summary last. A waived finding has `"waived":true` and its `waiver`; the
//! baseline's findings are left out, except in a baseline written with `--write-baseline`,
//! which has every finding but the waived ones.

use std::io::{self, Write};

use serde_json::json;

use super::{FileEnd, Gate, Item, ReportWriter, RunInfo, Status, Totals};
use crate::checker::FileResult;

/// Writes the report as one JSON document followed by a newline.
pub fn write(out: &mut impl Write, results: &[FileResult], info: &RunInfo) -> io::Result<()> {
    super::write_results(JsonWriter::new(out, Gate::of(info)), results, info)
}

/// The JSON report, streamed.
pub struct JsonWriter<W: Write> {
    out: W,
    gate: Gate,
    /// Also the baseline's findings (`--write-baseline`).
    all: bool,
    first: bool,
    /// `{"file","line","message"}` each, bounded per file by the checker.
    input_errors: Vec<serde_json::Value>,
    /// What the importers inferred: `{"file","note"}` each (only when they did).
    inferred: Vec<serde_json::Value>,
    started: bool,
}

impl<W: Write> JsonWriter<W> {
    pub fn new(out: W, gate: Gate) -> Self {
        JsonWriter {
            out,
            gate,
            all: false,
            first: true,
            input_errors: Vec::new(),
            inferred: Vec::new(),
            started: false,
        }
    }

    /// A baseline: every finding but the waived ones, the old baseline's too.
    pub fn baseline(out: W, gate: Gate) -> Self {
        JsonWriter {
            all: true,
            ..Self::new(out, gate)
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            self.out.write_all(b"{\"findings\":[")?;
        }
        Ok(())
    }
}

impl<W: Write> ReportWriter for JsonWriter<W> {
    fn finding(&mut self, item: &Item<'_>) -> io::Result<()> {
        // A report leaves out the baseline's findings; a baseline leaves out the waived ones
        // (their waiver's expiry must bring them back).
        match item.status {
            Status::Known if !self.all => return Ok(()),
            Status::Waived(_) if self.all => return Ok(()),
            _ => {}
        }
        self.start()?;
        let v = finding_json(item);
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, &v)?;
        Ok(())
    }

    fn file_end(&mut self, end: &FileEnd<'_>) -> io::Result<()> {
        for e in end.input_errors {
            self.input_errors
                .push(json!({"file": end.file, "line": e.line, "message": e.message}));
        }
        for n in end.notes {
            self.inferred.push(json!({"file": end.file, "note": n}));
        }
        Ok(())
    }

    fn finish(&mut self, t: &Totals) -> io::Result<()> {
        self.start()?;
        let s = &t.summary;
        let tool: Vec<_> = t
            .tool
            .iter()
            .map(|f| {
                json!({"rule": f.id, "severity": f.severity.as_str(), "file": f.file,
                    "line": f.line, "message": f.message})
            })
            .collect();
        let mut rest = json!({
            "input_errors": self.input_errors,
            "tool_findings": tool,
            "summary": {
                "files": s.files,
                "frames": s.frames,
                "connections": s.connections,
                "errors": s.errors,
                "warnings": s.warnings,
                "infos": s.infos,
                "input_errors": s.input_errors,
                "waived": t.waived,
                "baseline": t.known,
                "failing": t.failing,
                "verdict": t.verdict(),
                "fail_on": self.gate.fail_on_str(),
                "schemas": self.gate.info.schemas,
            },
        });
        // What the importers of captures, logs and Open OCPP Trace files inferred (only
        // when they did).
        if !self.inferred.is_empty()
            && let Some(summary) = rest
                .get_mut("summary")
                .and_then(serde_json::Value::as_object_mut)
        {
            summary.insert(
                "inferred".into(),
                serde_json::Value::Array(std::mem::take(&mut self.inferred)),
            );
        }
        // `rest` is an object: its members continue this document's.
        let text = serde_json::to_string(&rest)?;
        write!(self.out, "],{}", text.strip_prefix('{').unwrap_or(&text))?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// One finding of the report as its JSON object: the one place its members are written
/// (the report's `findings` array and `proxy --findings-jsonl` lines).
pub fn finding_json(item: &Item<'_>) -> serde_json::Value {
    let f = item.finding;
    let mut v = json!({
        "rule": f.rule.id,
        "severity": f.severity.as_str(),
        "file": item.file,
        "line": f.line,
        "conn": &*f.conn,
        "unique_id": f.unique_id.as_deref(),
        "action": f.action.as_deref(),
        "message": f.message,
        "from": f.from.map(|s| s.as_str()),
        "ts": f.at.to_string(),
        "pointer": f.pointer,
        "spec": f.rule.spec,
        "frame": f.evidence.as_deref(),
        "fingerprint": item.fingerprint,
        "waived": matches!(item.status, Status::Waived(_)),
    });
    if let (Status::Waived(w), Some(o)) = (item.status, v.as_object_mut()) {
        o.insert(
            "waiver".into(),
            json!({
                "reason": w.reason,
                "owner": w.owner,
                "expires": w.expires,
                "source": format!("{}:{}", w.file, w.line),
            }),
        );
    }
    v
}
