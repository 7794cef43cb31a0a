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
    for _ in 0..app.frames_len() {
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

/// Every screen at the three sizes: the main panes (frames focused, then findings), the
/// detail, the help, and the filter bar.
#[test]
fn snapshots_of_every_pane_at_three_sizes() {
    for (w, h) in [(160, 45), (80, 24), (40, 12)] {
        let mut app = sample();
        app.set_frames_rows(ui::frames_rows(
            &app,
            ratatui::layout::Rect::new(0, 0, w, h),
        ));
        select_line(&mut app, 21);
        insta::assert_snapshot!(format!("main_{w}x{h}"), render(&app, w, h).backend());
        app.apply(Action::FocusNext);
        insta::assert_snapshot!(format!("findings_{w}x{h}"), render(&app, w, h).backend());
        app.apply(Action::FocusPrev);
        app.apply(Action::Enter);
        insta::assert_snapshot!(format!("detail_{w}x{h}"), render(&app, w, h).backend());
        app.apply(Action::Back);
        app.apply(Action::ToggleHelp);
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&app, w, h).backend());
        app.apply(Action::ToggleHelp);
        app.apply(Action::CycleSeverity);
        app.apply(Action::StartSearch);
        for c in "Stop".chars() {
            app.apply(Action::SearchChar(c));
        }
        insta::assert_snapshot!(format!("filter_bar_{w}x{h}"), render(&app, w, h).backend());
    }
}

#[test]
fn counters_agree_and_use_plurals() {
    let app = sample();
    let text = rows(&render(&app, 160, 45)).join("\n");
    let n = app.frames_len();
    assert!(text.contains(&format!("Frames {n} rows")), "{text}");
    assert!(
        text.contains(&format!("{n} rows ({} frames)", app.totals.frames)),
        "{text}"
    );
    assert!(text.contains("6 errors 0 warnings 0 infos"), "{text}");
    assert!(!text.contains("following"), "a file is not followed");
    assert_eq!(ui::plural(1, "error"), "1 error");
    assert_eq!(ui::plural(0, "error"), "0 errors");
}

#[test]
fn no_color_draws_no_colour_and_reverses_what_colour_marked() {
    let mut app = sample();
    select_line(&mut app, 21);
    app.apply(Action::Enter);
    app.no_color = true;
    let term = render(&app, 160, 45);
    let buf = term.backend().buffer();
    let mut reversed = 0;
    for y in 0..45 {
        for x in 0..160 {
            let c = &buf[(x, y)];
            assert_eq!((c.fg, c.bg), (Color::Reset, Color::Reset), "at {x},{y}");
            reversed += usize::from(c.modifier.contains(ratatui::style::Modifier::REVERSED));
        }
    }
    assert!(reversed >= 6, "the marked value stands out");
}

fn type_in(app: &mut App, s: &str) {
    app.apply(Action::StartSearch);
    while !app.search_input.is_empty() {
        app.apply(Action::SearchBackspace);
    }
    for c in s.chars() {
        app.apply(Action::SearchChar(c));
    }
    app.apply(Action::SearchSubmit);
}

#[test]
fn filter_expressions_narrow_the_frames_say_what_is_wrong_and_are_remembered() {
    let mut app = sample();
    type_in(&mut app, "~p /connectorId == 1 & ~t call & !~a Meter");
    let lines: Vec<u64> = app
        .visible_frames()
        .iter()
        .map(|&i| app.frame(i).unwrap().line)
        .collect();
    // The two StatusNotifications and the StartTransaction with connectorId 1 (MeterValues
    // excluded by `!~a Meter`).
    assert_eq!(lines, vec![7, 9, 13], "{lines:?}");
    let text = rows(&render(&app, 160, 45)).join("\n");
    assert!(text.contains("Frames 3 of 28 rows"), "{text}");
    assert!(
        text.contains("/~p /connectorId == 1"),
        "the active filter is shown"
    );

    // A mistake: the prompt stays, saying where and what was expected.
    type_in(&mut app, "~p /connectorId = 1");
    assert_eq!(app.mode, ocpp_inspector::sink::tui::app::Mode::Search);
    let msg = app.message.clone().unwrap();
    assert!(
        msg.contains("at 17") && msg.contains("expected `==`"),
        "{msg}"
    );
    insta::assert_snapshot!("filter_bar_error_80x24", render(&app, 80, 24).backend());
    app.apply(Action::SearchCancel);

    // Up in the prompt brings back the last filter applied.
    type_in(&mut app, "~d csms");
    app.apply(Action::StartSearch);
    app.apply(Action::SearchHistory(-1));
    app.apply(Action::SearchHistory(-1));
    assert!(
        app.search_input.starts_with("~p /connectorId == 1"),
        "{}",
        app.search_input
    );
    app.apply(Action::SearchHistory(1));
    assert_eq!(app.search_input, "~d csms");
}

#[test]
fn search_matches_are_highlighted_in_the_rows() {
    let mut app = sample();
    type_in(&mut app, "tag-0001");
    let term = render(&app, 160, 45);
    let text = rows(&term);
    let y = at_row(&text, "\"TAG-0001\"");
    let x = text[y].find("TAG-0001").unwrap();
    let col = u16::try_from(text[y][..x].chars().count()).unwrap();
    let buf = term.backend().buffer();
    let y16 = u16::try_from(y).unwrap();
    assert_eq!(buf[(col, y16)].bg, Color::Yellow, "the match is marked");
    assert_eq!(buf[(col + 7, y16)].bg, Color::Yellow);
    assert_ne!(buf[(col + 8, y16)].bg, Color::Yellow, "only the match");
}

#[test]
fn rule_and_time_filters_narrow_the_frames_and_the_findings() {
    let mut app = sample();
    // `~r` by family: the frames with an rpc.* finding, and only those findings.
    type_in(&mut app, "~r rpc");
    assert_eq!(app.message, None, "{:?}", app.message);
    let frames: Vec<u64> = app
        .visible_frames()
        .iter()
        .map(|&i| app.frame(i).unwrap().line)
        .collect();
    let findings: Vec<(&str, u64)> = app
        .visible_findings()
        .iter()
        .map(|&i| {
            let f = &app.findings[i].finding;
            (f.rule.id, f.line)
        })
        .collect();
    assert!(!frames.is_empty());
    assert!(
        findings.iter().all(|(r, _)| r.starts_with("rpc.")),
        "{findings:?}"
    );
    assert!(
        findings.iter().all(|(_, l)| frames.contains(l)),
        "{findings:?} {frames:?}"
    );
    assert!(frames.contains(&24) && frames.contains(&23), "{frames:?}");
    let text = rows(&render(&app, 80, 24)).join("\n");
    assert!(
        text.contains(&format!("Findings {} of 6", findings.len())),
        "{text}"
    );
    assert!(!text.contains("schema.request-invalid"), "{text}");

    // `~r` by rule id: the one frame.
    type_in(&mut app, "~r schema.request-invalid");
    let frames: Vec<u64> = app
        .visible_frames()
        .iter()
        .map(|&i| app.frame(i).unwrap().line)
        .collect();
    assert_eq!(frames, vec![21]);
    assert_eq!(app.visible_findings().len(), 1);

    // `~time`: relative to the first frame, and as a time of day; both ends kept.
    let first = app.frame(0).unwrap().at;
    let all = app.frames_len();
    type_in(&mut app, "~time +2s..+5s");
    assert_eq!(app.message, None, "{:?}", app.message);
    let ats: Vec<_> = app
        .visible_frames()
        .iter()
        .map(|&i| app.frame(i).unwrap().at)
        .collect();
    assert!(!ats.is_empty() && ats.len() < all, "{} of {all}", ats.len());
    assert!(
        ats.iter()
            .all(|&t| t >= first.after(2_000_000) && t <= first.after(5_000_000)),
        "{ats:?}"
    );
    let clock = |t: ocpp_inspector::time::Timestamp| t.to_string()[11..19].to_owned();
    type_in(
        &mut app,
        &format!(
            "~time {}..{}",
            clock(first.after(2_000_000)),
            clock(first.after(5_000_000))
        ),
    );
    let same: Vec<_> = app
        .visible_frames()
        .iter()
        .map(|&i| app.frame(i).unwrap().at)
        .collect();
    assert_eq!(
        same, ats,
        "a time of day names the same range (whole seconds here)"
    );
    // A bad range keeps the prompt open and says what was expected.
    type_in(&mut app, "~time 10:15");
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("expected `FROM..TO`")),
        "{:?}",
        app.message
    );
}

#[test]
fn the_statistics_pane_counts_what_the_engine_paired_and_sorts_by_a_key() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ocpp_inspector::sink::tui::app::Mode;
    use ocpp_inspector::sink::tui::input::action_for;
    use ocpp_inspector::sink::tui::stats::SortBy;

    let mut app = sample();
    let key = |c: char, mode| {
        action_for(KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT), mode).unwrap()
    };
    let a = key('S', app.mode);
    app.apply(a);
    assert_eq!(app.mode, Mode::Stats);

    // The counts agree with the frames pane and the findings, and a round trip is the
    // time from the CALL the engine paired the answer with.
    let s = &app.stats;
    let frames: u64 = s.stations.values().map(|c| c.frames).sum();
    assert_eq!(frames, app.totals.frames);
    let findings: u64 = s.rules.values().map(|r| r.count).sum();
    assert_eq!(findings, app.findings.len() as u64);
    let stop = s
        .actions
        .iter()
        .find(|(n, _)| &***n == "StopTransaction")
        .map(|(_, c)| c)
        .unwrap();
    assert_eq!(stop.rtt.min, Some(20_000), "line 21 → 22: 20 ms");
    let calls: u64 = s.stations.values().map(|c| c.calls).sum();
    let answered: u64 = s.stations.values().map(|c| c.answered).sum();
    let unanswered: u64 = s.stations.values().map(|c| c.unanswered()).sum();
    assert!(
        calls >= answered && unanswered == calls - answered,
        "{calls} {answered} {unanswered}"
    );

    for (w, h) in [(160, 45), (80, 24), (40, 12)] {
        insta::assert_snapshot!(format!("tui_stats_{w}x{h}"), render(&app, w, h).backend());
    }
    let text = rows(&render(&app, 160, 45)).join("\n");
    assert!(text.contains("sorted by count"), "{text}");
    assert!(text.contains("StopTransaction"), "{text}");
    assert!(text.contains("schema.request-invalid"), "{text}");

    // `o` sorts by the next column: unanswered, then the median round trip.
    let a = key('o', app.mode);
    app.apply(a);
    assert_eq!(app.stats.sort, SortBy::Unanswered);
    let order: Vec<u64> = app
        .stats
        .sorted(&app.stats.actions)
        .iter()
        .map(|(_, c)| c.unanswered())
        .collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]), "{order:?}");
    app.apply(key('o', app.mode));
    let text = rows(&render(&app, 160, 45)).join("\n");
    assert!(
        text.contains("sorted by median") && text.contains("▼median"),
        "{text}"
    );

    // S again (or Esc) closes it.
    app.apply(key('S', app.mode));
    assert_eq!(app.mode, Mode::Normal);
}
