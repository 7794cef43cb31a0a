//! `view` of a large trace: indexed behind the screen (byte offsets, not texts), every frame
//! reachable, Enter on a finding reaches its frame however far from the end it is.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocpp_inspector::cli::view::Indexer;
use ocpp_inspector::engine::Config;
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::sink::tui::app::{Action, App, Body, Focus, Limits, Mode};
use ocpp_inspector::sink::tui::feed::{self, FeedItem};
use ocpp_inspector::source::input::InputOptions;
use ocpp_inspector::time::Timestamp;

/// Frames in the generated trace: enough that the old 50,000-frame window would have lost
/// the start, few enough for a debug build (the 1 GB figure is `benches/tui_view.rs`'s).
const FRAMES: u64 = 60_000;

/// Writes a 1.6 trace: an open, a boot, a schema-invalid StatusNotification at line 6, then
/// Heartbeat pairs up to `frames` frames. Returns the line of the bad frame.
fn write_trace(path: &Path, frames: u64) -> u64 {
    let mut w = BufWriter::new(std::fs::File::create(path).unwrap());
    let ts = |i: u64| {
        Timestamp::from_micros(1_700_000_000_000_000 + i64::try_from(i).unwrap() * 1000)
            .to_rfc3339_micros()
    };
    let mut line = 0u64;
    let mut put = |w: &mut BufWriter<std::fs::File>, rec: String| {
        line += 1;
        writeln!(w, "{rec}").unwrap();
        line
    };
    put(
        &mut w,
        format!(
            r#"{{"ts":"{}","conn":"CP-1","event":"open","subprotocol":"ocpp1.6"}}"#,
            ts(0)
        ),
    );
    let frame = |i: u64, from: &str, text: &str| {
        format!(
            r#"{{"ts":"{}","conn":"CP-1","from":"{from}","text":"{}"}}"#,
            ts(i),
            text.replace('"', "\\\"")
        )
    };
    put(
        &mut w,
        frame(
            1,
            "charger",
            r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
        ),
    );
    put(
        &mut w,
        frame(
            2,
            "csms",
            r#"[3,"b",{"status":"Accepted","currentTime":"2023-11-14T22:13:20Z","interval":300}]"#,
        ),
    );
    put(&mut w, frame(3, "charger", r#"[2,"h0","Heartbeat",{}]"#));
    put(
        &mut w,
        frame(
            4,
            "csms",
            r#"[3,"h0",{"currentTime":"2023-11-14T22:13:20Z"}]"#,
        ),
    );
    let bad = put(
        &mut w,
        frame(
            5,
            "charger",
            r#"[2,"s1","StatusNotification",{"connectorId":"one","errorCode":"NoError","status":"Available"}]"#,
        ),
    );
    put(&mut w, frame(6, "csms", r#"[3,"s1",{}]"#));
    let mut i = 7;
    while i < frames {
        put(
            &mut w,
            frame(i, "charger", &format!(r#"[2,"h{i}","Heartbeat",{{}}]"#)),
        );
        put(
            &mut w,
            frame(
                i + 1,
                "csms",
                &format!(r#"[3,"h{i}",{{"currentTime":"2023-11-14T22:13:20Z"}}]"#),
            ),
        );
        i += 2;
    }
    w.flush().unwrap();
    bad
}

fn schemas() -> Arc<SchemaSet> {
    Arc::new(SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap())
}

/// What `view` does: the indexer in a thread, the app fed through the channel.
fn index_like_view(path: &Path) -> App {
    let (mut app, indexer) = Indexer::open(
        &[path.to_owned()],
        &InputOptions::default(),
        schemas(),
        Arc::new(Config::default()),
        None,
        Limits {
            max_frames: usize::MAX,
            ..Limits::default()
        },
    )
    .unwrap();
    assert!(indexer.total > 0, "a plain file: its size is known");
    let (tx, mut rx) = feed::channel(1024);
    let reader = std::thread::spawn(move || indexer.run(&mut |item| tx.send_wait(item)));
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut items = Vec::new();
    let (mut progress, mut loaded) = (0, false);
    while !rx.is_closed() {
        assert!(Instant::now() < deadline, "indexing did not finish");
        items.clear();
        rx.drain(10_000, &mut items);
        if items.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
        for item in items.drain(..) {
            match &item {
                FeedItem::Progress { done, total } => {
                    assert!(done <= total);
                    progress += 1;
                }
                FeedItem::Loaded { .. } => loaded = true,
                _ => {}
            }
            app.on_item(item);
        }
    }
    reader.join().unwrap();
    assert!(progress > 0, "progress was reported while indexing");
    assert!(loaded && app.loading.is_none(), "the end was reported");
    app
}

#[test]
fn every_frame_of_a_large_trace_is_reachable_and_rows_keep_offsets_not_texts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.jsonl");
    let bad = write_trace(&path, FRAMES);
    let mut app = index_like_view(&path);

    assert_eq!(app.totals.frames, FRAMES);
    assert_eq!(
        app.frames_len() as u64,
        FRAMES + 1,
        "every row kept, the open too"
    );
    assert_eq!(app.totals.frames_out_of_view, 0);
    assert!(
        app.frames()
            .all(|r| matches!(r.body, Body::InTrace(_) | Body::Event(_))),
        "no row keeps a copy of its text"
    );
    // 32 bytes per row (was 104), whatever the payload's size (the unit test
    // `a_row_is_32_bytes` holds the bound).
    let row_bytes = std::hint::black_box(ocpp_inspector::sink::tui::app::ROW_BYTES);
    assert!(row_bytes <= 32, "{row_bytes}");

    // Enter on the finding about line `bad`, near the start: it reaches its frame.
    app.focus = Focus::Findings;
    for _ in 0..app.findings.len() {
        if app.selected_finding().unwrap().finding.line == bad {
            break;
        }
        app.apply(Action::Down);
    }
    assert_eq!(app.selected_finding().unwrap().finding.line, bad);
    app.apply(Action::Enter);
    assert_eq!(app.message, None, "{:?}", app.message);
    let row = app.selected_frame().unwrap();
    assert_eq!(row.line, bad);
    let text = app.text_of(&row).unwrap();
    assert!(text.contains(r#""connectorId":"one""#), "{text}");
    assert_eq!(app.shown(&row).id.as_deref(), Some("s1"));
    app.apply(Action::Enter);
    assert_eq!(app.mode, Mode::Detail);

    // The last frame too, and the first.
    app.apply(Action::Back);
    app.apply(Action::Bottom);
    let last = app.selected_frame().unwrap();
    assert_eq!(last.line, FRAMES + 1);
    assert!(app.text_of(&last).unwrap().starts_with("[3,\"h"));
    app.apply(Action::Top);
    assert_eq!(app.selected_frame().unwrap().line, 1);

    // A search reads the texts back from the file: exactly the bad frame has `"one"`.
    app.filter.text = "\"one\"".into();
    let v = app.visible_frames();
    assert_eq!(v.len(), 1);
    assert_eq!(app.frame(v[0]).unwrap().line, bad);
}

#[test]
fn a_trace_that_changed_under_the_viewer_says_so_instead_of_showing_wrong_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.jsonl");
    write_trace(&path, 20);
    let app = index_like_view(&path);
    std::fs::write(&path, "{}\n").unwrap();
    let row = app.frames().find(|r| r.line == 3).unwrap();
    let e = app.text_of(&row).unwrap_err().to_string();
    assert!(e.contains("line 3"), "{e}");
    assert!(app.shown(&row).short.contains("line 3"));
}
