//! Export from the terminal UI, driven through the loop with scripted keys: the filtered set
//! as the trace's own records (byte for byte), the selected frame's exact text, and the OSC
//! 52 sequence `y` would write.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ocpp_inspector::cli::view::load_trace;
use ocpp_inspector::engine::Config;
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::sink::report::RunInfo;
use ocpp_inspector::sink::tui::app::{Action, App, Limits, Mode, RowKind};
use ocpp_inspector::sink::tui::export;
use ocpp_inspector::sink::tui::{InputSource, LoopOptions, ReportTarget, run_loop, ui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces/sample.jsonl")
}

fn sample() -> App {
    let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
    load_trace(
        &sample_path(),
        Arc::new(schemas),
        Arc::new(Config::default()),
        None,
        Limits::default(),
    )
    .unwrap()
}

/// Scripted keys, then nothing; a loop that keeps asking long after fails the test.
struct Script(VecDeque<TermEvent>, u32);

impl InputSource for Script {
    fn next(&mut self, _timeout: Duration) -> io::Result<Option<TermEvent>> {
        if let Some(e) = self.0.pop_front() {
            return Ok(Some(e));
        }
        self.1 += 1;
        if self.1 > 1000 {
            return Err(io::Error::other("the script ran out"));
        }
        Ok(None)
    }
}

fn keys(s: &str) -> Vec<TermEvent> {
    s.chars()
        .map(|c| TermEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
        .collect()
}

fn code(c: KeyCode) -> TermEvent {
    TermEvent::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn run(app: &mut App, dir: &Path, events: Vec<TermEvent>) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let opts = LoopOptions::new(ReportTarget {
        path: dir.join("report.json"),
        trace: sample_path(),
        info: RunInfo {
            schemas: "built-in (errata: all)".into(),
            fail_on: Severity::Error,
        },
    });
    let mut script = Script(events.into(), 0);
    let stop = AtomicBool::new(false);
    run_loop(&mut term, app, None, &mut script, &opts, &stop).unwrap();
    term
}

#[test]
fn the_filtered_set_is_written_as_the_traces_own_records() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("boot.jsonl");
    let mut app = sample();
    let mut ev = keys("/~a Boot");
    ev.push(code(KeyCode::Enter));
    ev.extend(keys("e"));
    ev.extend(keys(out.to_str().unwrap()));
    ev.push(code(KeyCode::Enter));
    ev.extend(keys("q"));
    run(&mut app, dir.path(), ev);
    // The four BootNotification frames (CALLs and replies), each connection's open before
    // its first one.
    assert!(
        app.message
            .as_deref()
            .unwrap()
            .starts_with("6 records written"),
        "{:?}",
        app.message
    );
    // Exactly the input's lines, in order: the rows shown and the opens.
    let input = std::fs::read_to_string(sample_path()).unwrap();
    let lines: Vec<&str> = input.lines().collect();
    let mut want = String::new();
    let mut opened: Vec<String> = Vec::new();
    for &p in app.visible_frames().iter() {
        let row = app.frame(p).unwrap();
        if !opened.contains(&row.conn.to_string()) {
            opened.push(row.conn.to_string());
            let open = app
                .frames()
                .find(|r| r.conn == row.conn && r.kind == RowKind::Open)
                .unwrap();
            want.push_str(lines[open.line as usize - 1]);
            want.push('\n');
        }
        want.push_str(lines[row.line as usize - 1]);
        want.push('\n');
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), want);
    // Two CALLs (the replies name no action) and their two replies.
    assert_eq!(want.matches("BootNotification").count(), 2, "{want}");
    assert_eq!(want.lines().count(), 6, "{want}");
    assert_eq!(want.matches(r#""event":"open""#).count(), 2, "{want}");
}

#[test]
fn the_frame_is_written_exactly_and_y_says_when_it_cannot_copy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("frame.json");
    let mut app = sample();
    // The first BootNotification, opened; `e` there writes that frame.
    let mut ev = keys("/~a Boot & ~t call");
    ev.push(code(KeyCode::Enter));
    ev.push(code(KeyCode::Enter));
    ev.extend(keys("e"));
    ev.extend(keys(out.to_str().unwrap()));
    ev.push(code(KeyCode::Enter));
    ev.extend(keys("q"));
    run(&mut app, dir.path(), ev);
    assert_eq!(app.mode, Mode::Detail, "back where `e` was pressed");
    let want = export::selected_text(&app).unwrap();
    assert!(want.starts_with("[2,") && want.contains("BootNotification"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), want);
    assert!(app.message.as_deref().unwrap().contains("exact"));

    // The prompt shows what is typed; Esc leaves it without writing.
    let mut other = sample();
    let mut ev = keys("enot-written");
    ev.push(code(KeyCode::Esc));
    ev.extend(keys("q"));
    run(&mut other, dir.path(), ev);
    assert_eq!(other.mode, Mode::Normal);
    assert!(!dir.path().join("not-written").exists());
    let mut probe = sample();
    probe.apply(Action::StartExport);
    for c in "out.jsonl".chars() {
        probe.apply(Action::SearchChar(c));
    }
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| ui::draw(f, &probe)).unwrap();
    let last: String = (0..80)
        .map(|x| term.backend().buffer()[(x, 23)].symbol().to_owned())
        .collect();
    assert!(last.starts_with("export to: out.jsonl▏"), "{last}");

    // Without a real terminal, `y` says it did not copy (the bytes are tested below).
    let mut ev = keys("y");
    ev.extend(keys("q"));
    run(&mut app, dir.path(), ev);
    assert!(
        app.message.as_deref().unwrap().starts_with("not copied"),
        "{:?}",
        app.message
    );
    let seq = export::osc52(&want);
    // A second `e` starts from an empty name, not the last one.
    let again = dir.path().join("again.json");
    let mut ev = keys("e");
    ev.extend(keys(again.to_str().unwrap()));
    ev.push(code(KeyCode::Enter));
    ev.extend(keys("q"));
    run(&mut app, dir.path(), ev);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), want);
    assert!(seq.starts_with(b"\x1b]52;c;") && seq.ends_with(b"\x07"));
}

#[test]
fn a_file_that_cannot_be_written_is_said_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("no/such/dir/x.jsonl");
    let mut app = sample();
    let mut ev = keys("e");
    ev.extend(keys(bad.to_str().unwrap()));
    ev.push(code(KeyCode::Enter));
    ev.extend(keys("q"));
    run(&mut app, dir.path(), ev);
    let msg = app.message.clone().unwrap();
    assert!(
        msg.starts_with("not exported") && msg.contains("x.jsonl"),
        "{msg}"
    );
    assert_eq!(app.frames_len(), 28);
}
