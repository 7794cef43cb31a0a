//! Helpers the rule families' unit tests share: build a trace from frames or a script of
//! events, run it through the whole checker, and keep `(rule id, severity, line)` triples.
//! Test-only; no family reaches into another family's tests.

use std::sync::Arc;

use crate::checker::{CheckOptions, check_reader};
use crate::engine::schema::ErrataSelection;
use crate::engine::{Config, SchemaSet};
use crate::finding::Severity;

pub(crate) fn run(text: &str) -> Vec<(&'static str, Severity, u64)> {
    let opts = CheckOptions {
        schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap()),
        config: Arc::new(Config::default()),
        default_version: None,
        jobs: 1,
    };
    let r = check_reader(text.as_bytes(), &opts, 1);
    assert!(r.input_errors.is_empty(), "{:?}", r.input_errors);
    r.findings
        .iter()
        .map(|f| (f.rule.id, f.severity, f.line))
        .collect()
}

pub(crate) fn frame(ts: u32, from: &str, text: &str) -> String {
    let text = serde_json::to_string(text).unwrap();
    format!(
        "{{\"ts\":\"2026-11-22T10:{:02}:{:02}.000Z\",\"conn\":\"CS-1\",\"from\":\"{from}\",\"text\":{text}}}\n",
        ts / 60,
        ts % 60
    )
}

pub(crate) fn trace(version: &str, frames: &[(&str, &str)]) -> String {
    let mut s = format!(
        "{{\"ts\":\"2026-11-22T10:00:00.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"{version}\"}}\n"
    );
    for (i, (from, text)) in frames.iter().enumerate() {
        s.push_str(&frame(u32::try_from(i).unwrap() + 1, from, text));
    }
    s
}

/// A trace of one station: `(second, who, text)` where `who` is `open`, `close`,
/// `charger` or `csms` (for open, `text` is ignored; the subprotocol is `version`).
pub(crate) fn script(version: &str, events: &[(u32, &str, &str)]) -> String {
    let mut s = String::new();
    for (t, who, text) in events {
        let ts = format!("2026-11-22T10:{:02}:{:02}.000Z", t / 60, t % 60);
        let line = match *who {
            "open" => format!(
                "{{\"ts\":\"{ts}\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"{version}\"}}"
            ),
            "close" => {
                format!(
                    "{{\"ts\":\"{ts}\",\"conn\":\"CS-1\",\"event\":\"close\",\"code\":1000,\"by\":\"charger\"}}"
                )
            }
            from => format!(
                "{{\"ts\":\"{ts}\",\"conn\":\"CS-1\",\"from\":\"{from}\",\"text\":{}}}",
                serde_json::to_string(text).unwrap()
            ),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// The findings of the `seq.*` and `trig.*` rules only.
pub(crate) fn mine(text: &str) -> Vec<(&'static str, Severity, u64)> {
    run(text)
        .into_iter()
        .filter(|(id, _, _)| id.starts_with("seq.") || id.starts_with("trig."))
        .collect()
}

pub(crate) const BOOT16: &str =
    r#"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
pub(crate) const BOOT2: &str = r#"[2,"b1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;

pub(crate) fn answer(id: &str, status: &str, interval: i64, t: u32) -> String {
    format!(
        r#"[3,"{id}",{{"status":"{status}","currentTime":"2026-11-22T10:{:02}:{:02}.000Z","interval":{interval}}}]"#,
        t / 60,
        t % 60
    )
}

/// The CSMS's answer `id` carrying the current time at second `t` of the trace (a Heartbeat
/// answer).
pub(crate) fn time_answer(id: &str, t: u32) -> String {
    format!(
        r#"[3,"{id}",{{"currentTime":"2026-11-22T10:{:02}:{:02}.000Z"}}]"#,
        t / 60,
        t % 60
    )
}

/// A 1.6 StatusNotification `id`: connector 0 is Available.
pub(crate) fn status0(id: &str) -> String {
    format!(
        r#"[2,"{id}","StatusNotification",{{"connectorId":0,"errorCode":"NoError","status":"Available"}}]"#
    )
}
