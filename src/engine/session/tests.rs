#![allow(clippy::unwrap_used, reason = "test code")]

use std::sync::Arc;

use crate::engine::schema::ErrataSelection;
use crate::engine::{Config, Engine, SchemaSet};
use crate::ocpp::{Side, Version};
use crate::source::event::{Event, EventKind, Origin};
use crate::time::Timestamp;

fn frame(engine: &mut Engine, secs: u32, from: Side, text: &str) -> Vec<&'static str> {
    let ts = format!("2026-11-22T10:{:02}:{:02}.000Z", secs / 60, secs % 60);
    let event = Event {
        at: Timestamp::parse_rfc3339(&ts).unwrap(),
        conn: "CS-1",
        line: u64::from(secs),
        kind: EventKind::Frame {
            from,
            text: text.into(),
            origin: Origin::Peer,
        },
    };
    let mut out = Vec::new();
    engine.feed(&event, &mut out).unwrap();
    out.iter().map(|f| f.rule.id).collect()
}

#[test]
fn a_timed_out_large_call_keeps_its_id_not_its_payload_and_a_late_answer_is_still_judged() {
    let schemas = Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap());
    let mut engine = Engine::new(schemas, Arc::new(Config::default()), Some(Version::V16));
    let big = format!(
        r#"[2,"dt-1","DataTransfer",{{"vendorId":"X","data":"{}"}}]"#,
        "a".repeat(4096)
    );
    frame(&mut engine, 1, Side::Csms, &big);
    let pending = |e: &Engine| {
        let p = &e.sessions["CS-1"].pending[Side::Csms.index()];
        (p.len(), p.first().map(|p| p.payload.root().is_null()))
    };
    assert_eq!(
        pending(&engine),
        (1, Some(false)),
        "kept while it may be answered"
    );
    // 40 s later (the call timeout is 30 s) the charger's heartbeat moves time on.
    let found = frame(
        &mut engine,
        41,
        Side::Charger,
        r#"[2,"hb-1","Heartbeat",{}]"#,
    );
    assert!(found.contains(&"rpc.no-response"), "{found:?}");
    assert_eq!(pending(&engine), (1, Some(true)), "the payload is dropped");
    let found = frame(
        &mut engine,
        42,
        Side::Charger,
        r#"[3,"dt-1",{"status":"Accepted"}]"#,
    );
    assert!(found.contains(&"rpc.response-after-timeout"), "{found:?}");
    assert!(!found.contains(&"rpc.response-unknown-id"), "{found:?}");
    // A small one keeps its payload: its late answer is judged against the request.
    frame(
        &mut engine,
        50,
        Side::Csms,
        r#"[2,"dt-2","DataTransfer",{"vendorId":"X"}]"#,
    );
    frame(
        &mut engine,
        90,
        Side::Charger,
        r#"[2,"hb-2","Heartbeat",{}]"#,
    );
    assert_eq!(
        pending(&engine),
        (1, Some(false)),
        "a small payload is kept"
    );
}

/// A record read into the engine's document in the reader's pass is judged from that
/// reading only while the document still holds it: read out of turn, the engine reads
/// the frame again.
#[test]
fn a_frame_read_ahead_into_the_engine_document_is_used_only_while_it_is_there() {
    use crate::source::trace_reader::parse_record_into;
    let schemas = Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap());
    let mut engine = Engine::new(schemas, Arc::new(Config::default()), Some(Version::V16));
    let line = |id: &str| {
        format!(
            r#"{{"ts":"2026-11-22T10:00:01Z","conn":"CS-1","from":"charger","text":"[2,\"{id}\",\"Heartbeat\",{{}}]"}}"#
        )
    };
    let (a, b) = (line("a-1"), line("b-1"));
    let ra = parse_record_into(a.as_bytes(), 1, engine.frame_doc()).unwrap();
    let rb = parse_record_into(b.as_bytes(), 2, engine.frame_doc()).unwrap();
    let (ea, eb) = (ra.event(1).unwrap(), rb.event(2).unwrap());
    let mut out = Vec::new();
    // The document holds b's reading: a is read again, then b's reading is gone too.
    for event in [&ea, &eb] {
        engine.feed(event, &mut out).unwrap();
    }
    let ids: Vec<String> = engine.sessions["CS-1"].pending[Side::Charger.index()]
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, ["a-1", "b-1"]);
}

#[test]
fn a_call_over_64_kib_keeps_its_id_not_its_payload_and_its_answer_still_correlates() {
    let schemas = Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap());
    let mut engine = Engine::new(schemas, Arc::new(Config::default()), Some(Version::V16));
    let call = |id: &str, n: usize| {
        format!(
            r#"[2,"{id}","DataTransfer",{{"vendorId":"X","data":"{}"}}]"#,
            "a".repeat(n)
        )
    };
    let kept = |e: &Engine| {
        e.sessions["CS-1"].pending[Side::Charger.index()]
            .iter()
            .map(|p| (p.id.to_string(), !p.payload.root().is_null(), p.valid))
            .collect::<Vec<_>>()
    };
    frame(
        &mut engine,
        1,
        Side::Charger,
        &call("big", super::KEEP_AT_MOST),
    );
    frame(&mut engine, 2, Side::Charger, &call("small", 100));
    assert_eq!(
        kept(&engine),
        [("big".into(), false, false), ("small".into(), true, true)],
        "over the limit: remembered as outstanding, its payload not kept"
    );
    let found = frame(
        &mut engine,
        3,
        Side::Csms,
        r#"[3,"big",{"status":"Accepted"}]"#,
    );
    assert!(!found.contains(&"rpc.response-unknown-id"), "{found:?}");
    assert_eq!(kept(&engine), [("small".into(), true, true)]);
}
