//! `--format sarif` / `--sarif FILE`: SARIF 2.1.0 for code scanning (GitHub, GitLab). One
//! run; every rule of the registry (and the waiver findings') as `tool.driver.rules` with its
//! summary, documentation and, with `--rules-url`, a help URI; each finding a result with the
//! trace file and line as its physical location, the frame as the snippet, and the baseline's
//! fingerprint as `partialFingerprints`. Waived findings carry an accepted external
//! suppression with the waiver's reason; input errors are tool execution notifications.
//! Streamed: the rules first, each result as it comes, the invocation last.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::{FileEnd, Gate, Item, ReportWriter, Status, TOOL_RULES, Totals};
use crate::engine::rules::REGISTRY;
use crate::finding::Severity;

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The `partialFingerprints` key of the finding identity (see [`super::baseline`]).
pub const FINGERPRINT_KEY: &str = "ocppFindingIdentity/v1";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a URI reference: `/` separators, anything but unreserved characters escaped.
pub fn uri_of(path: &str) -> String {
    let mut o = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// The SARIF report, streamed.
pub struct SarifWriter<W: Write> {
    out: W,
    gate: Gate,
    rules_url: Option<String>,
    index: HashMap<&'static str, usize>,
    started: bool,
    first: bool,
    notifications: Vec<Value>,
}

impl<W: Write> SarifWriter<W> {
    /// `rules_url`: a base URL the rule id is appended to for each rule's `helpUri`.
    pub fn new(out: W, gate: Gate, rules_url: Option<String>) -> Self {
        let index = REGISTRY
            .iter()
            .map(|r| r.id)
            .chain(TOOL_RULES.iter().map(|(id, _, _)| *id))
            .enumerate()
            .map(|(i, id)| (id, i))
            .collect();
        SarifWriter {
            out,
            gate,
            rules_url,
            index,
            started: false,
            first: true,
            notifications: Vec::new(),
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let mut rules: Vec<Value> = REGISTRY
            .iter()
            .map(|r| {
                let mut v = json!({
                    "id": r.id,
                    "shortDescription": {"text": r.summary},
                    "fullDescription": {"text": r.doc},
                    "help": {"text": format!("{}\n\nSpecification: {}", r.doc, r.spec)},
                    "defaultConfiguration": {"level": level(r.severity)},
                    "properties": {
                        "tags": [r.family()],
                        "versions": r.versions.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
                        "spec": r.spec,
                    },
                });
                if let (Some(base), Some(o)) = (&self.rules_url, v.as_object_mut()) {
                    o.insert("helpUri".into(), Value::String(format!("{base}{}", r.id)));
                }
                v
            })
            .collect();
        for (id, sev, text) in TOOL_RULES {
            rules.push(json!({
                "id": id,
                "shortDescription": {"text": text},
                "defaultConfiguration": {"level": level(*sev)},
                "properties": {"tags": ["waiver"]},
            }));
        }
        let head = json!({
            "name": "ocpp-inspector",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        });
        write!(
            self.out,
            r#"{{"$schema":"{SCHEMA_URI}","version":"2.1.0","runs":[{{"tool":{{"driver":{}}},"columnKind":"unicodeCodePoints","results":["#,
            serde_json::to_string(&head)?
        )
    }

    fn result(&mut self, v: &Value) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, v)?;
        Ok(())
    }
}

fn location(file: &str, line: u64, snippet: Option<&str>) -> Value {
    let mut phys = json!({"artifactLocation": {"uri": uri_of(file)}});
    if line > 0 {
        let mut region = json!({"startLine": line});
        if let (Some(s), Some(o)) = (snippet, region.as_object_mut()) {
            o.insert("snippet".into(), json!({"text": s}));
        }
        if let Some(o) = phys.as_object_mut() {
            o.insert("region".into(), region);
        }
    }
    json!({"physicalLocation": phys})
}

impl<W: Write> ReportWriter for SarifWriter<W> {
    fn file_start(&mut self, _file: &str) -> io::Result<()> {
        self.start()
    }

    fn finding(&mut self, item: &Item<'_>) -> io::Result<()> {
        if matches!(item.status, Status::Known) {
            return Ok(());
        }
        let f = item.finding;
        let mut v = json!({
            "ruleId": f.rule.id,
            "level": level(f.severity),
            "message": {"text": format!("{}: {}", f.conn, f.message)},
            "locations": [location(item.file, f.line, f.evidence.as_deref())],
            "partialFingerprints": {FINGERPRINT_KEY: item.fingerprint},
            "properties": {
                "station": &*f.conn,
                "action": f.action.as_deref(),
                "uniqueId": f.unique_id.as_deref(),
                "pointer": f.pointer.as_deref(),
                "timestamp": f.at.to_string(),
            },
        });
        if let (Some(i), Some(o)) = (self.index.get(f.rule.id), v.as_object_mut()) {
            o.insert("ruleIndex".into(), json!(i));
        }
        if let (Status::Waived(w), Some(o)) = (item.status, v.as_object_mut()) {
            o.insert(
                "suppressions".into(),
                json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!("{} (owner {}, until {}; {}:{})", w.reason, w.owner, w.expires, w.file, w.line),
                }]),
            );
        }
        self.result(&v)
    }

    fn file_end(&mut self, end: &FileEnd<'_>) -> io::Result<()> {
        for e in end.input_errors {
            self.notifications.push(json!({
                "level": "error",
                "message": {"text": format!("input error: {}", e.message)},
                "locations": [location(end.file, e.line, None)],
            }));
        }
        Ok(())
    }

    fn finish(&mut self, t: &Totals) -> io::Result<()> {
        self.start()?;
        for f in &t.tool {
            let v = json!({
                "ruleId": f.id,
                "ruleIndex": self.index.get(f.id),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [location(&f.file, f.line, None)],
            });
            self.result(&v)?;
        }
        let invocation = json!({
            "executionSuccessful": t.summary.input_errors == 0,
            "toolExecutionNotifications": self.notifications,
            "properties": {
                "verdict": t.verdict(),
                "failOn": self.gate.fail_on_str(),
                "schemas": self.gate.info.schemas,
                "frames": t.summary.frames,
                "waived": t.waived,
                "baseline": t.known,
            },
        });
        writeln!(
            self.out,
            r#"],"invocations":[{}]}}]}}"#,
            serde_json::to_string(&invocation)?
        )?;
        self.out.flush()
    }
}
