//! The screens of the terminal UI, drawn headless (`TestBackend`): the exact and laid-out
//! detail, and every pane and the filter bar at 160x45, 80x24 and 40x12.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

use std::path::Path;
use std::sync::Arc;

use ocpp_inspector::cli::view::load_trace;
use ocpp_inspector::engine::Config;
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::sink::tui::app::{Action, App, Limits};
use ocpp_inspector::sink::tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn sample() -> App {
    let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces/sample.jsonl");
    let mut app = load_trace(
        &path,
        Arc::new(schemas),
        Arc::new(Config::default()),
        None,
        Limits::default(),
    )
    .unwrap();
    app.title = "tests/fixtures/traces/sample.jsonl".into();
    app
}

fn select_line(app: &mut App, line: u64) {
    app.apply(Action::Bottom);
    for _ in 0..app.frames.len() {
        if app.selected_frame().unwrap().line == line {
            return;
        }
        app.apply(Action::Up);
    }
    panic!("line {line} not reachable");
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term
}

/// The screen's text, one string per row.
fn rows(term: &Terminal<TestBackend>) -> Vec<String> {
    let buf = term.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

#[test]
fn the_detail_shows_the_exact_text_and_the_laid_out_one_with_the_value_marked_in_both() {
    let mut app = sample();
    select_line(&mut app, 21);
    app.apply(Action::Enter);
    // Laid out: the members in the order sent (transactionId first), the value marked.
    let term = render(&app, 160, 45);
    let text = rows(&term);
    let at = |needle: &str| text.iter().position(|r| r.contains(needle)).unwrap();
    assert!(at("\"transactionId\": 42") < at("\"meterStop\": \"1900\""));
    assert!(text[at("\"meterStop\"")].contains("◀ here"));
    // x: the text exactly as sent, on one line, the value's bytes marked.
    app.apply(Action::ToggleExact);
    let term = render(&app, 160, 45);
    let text = rows(&term);
    let exact = r#"[2,"t2","StopTransaction",{"transactionId":42,"meterStop":"1900","#;
    let y = at_row(&text, exact);
    let x = text[y].find("\"1900\"").unwrap();
    let col = u16::try_from(text[y][..x].chars().count()).unwrap();
    let buf = term.backend().buffer();
    let y16 = u16::try_from(y).unwrap();
    assert_eq!(buf[(col, y16)].bg, Color::Red, "the value is marked");
    assert_eq!(buf[(col + 5, y16)].bg, Color::Red);
    assert_ne!(buf[(col - 2, y16)].bg, Color::Red, "only the value");
    insta::assert_snapshot!("tui_detail_exact_160x45", term.backend());
    app.apply(Action::ToggleExact);
    assert!(
        rows(&render(&app, 160, 45))
            .iter()
            .any(|r| r.contains("laid out"))
    );
}

fn at_row(text: &[String], needle: &str) -> usize {
    text.iter()
        .position(|r| r.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not on screen:\n{}", text.join("\n")))
}
