//! `--format json`: ONE document, a stable contract:
//! `{"summary":{"frames":N,"errors":N,"warnings":N,...},"findings":[{"rule","severity","file",
//! "line","conn","unique_id","action","message",...}],"input_errors":[...]}`.
//! Members are only ever added, never renamed or removed.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{RunInfo, Summary};
use crate::checker::FileResult;

/// Writes the report as one JSON document followed by a newline.
pub fn write(out: &mut impl Write, results: &[FileResult], info: &RunInfo) -> io::Result<()> {
    let s = Summary::of(results);
    let mut findings = Vec::new();
    let mut input_errors = Vec::new();
    let mut inferred = Vec::new();
    for r in results {
        let file = r.path.display().to_string();
        for n in &r.notes {
            inferred.push(json!({"file": file, "note": n}));
        }
        for f in &r.findings {
            findings.push(json!({
                "rule": f.rule.id,
                "severity": f.severity.as_str(),
                "file": file,
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
            }));
        }
        for e in &r.input_errors {
            input_errors.push(json!({"file": file, "line": e.line, "message": e.message}));
        }
    }
    let doc = json!({
        "summary": {
            "files": s.files,
            "frames": s.frames,
            "connections": s.connections,
            "errors": s.errors,
            "warnings": s.warnings,
            "infos": s.infos,
            "input_errors": s.input_errors,
            "fail_on": info.fail_on.as_str(),
            "schemas": info.schemas,
        },
        "findings": Value::Array(findings),
        "input_errors": Value::Array(input_errors),
    });
    let mut doc = doc;
    // What the importers of captures, logs and Open OCPP Trace files inferred (only when
    // they did).
    if !inferred.is_empty()
        && let Some(summary) = doc.get_mut("summary").and_then(Value::as_object_mut)
    {
        summary.insert("inferred".into(), Value::Array(inferred));
    }
    serde_json::to_writer(&mut *out, &doc)?;
    writeln!(out)
}
