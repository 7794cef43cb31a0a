//! The terminal UI without a terminal: state changes from events, findings and keys, the
//! loop driven by scripted input on a `TestBackend`, and snapshots of rendered screens at a
//! normal and a tiny size, on the shipped sample trace.

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
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::engine::{Config, Engine, Event, EventKind, Handshake, Observation, Origin};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::Side;
use ocpp_inspector::sink::report::RunInfo;
use ocpp_inspector::sink::tui::app::{Action, App, Effect, Focus, Limits, Mode, RowKind};
use ocpp_inspector::sink::tui::feed::{self, FeedItem, Seen};
use ocpp_inspector::sink::tui::{InputSource, LoopOptions, ReportTarget, run_loop, ui};
use ocpp_inspector::time::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sample_path() -> PathBuf {
    root().join("tests/fixtures/traces/sample.jsonl")
}

fn sample_with(limits: Limits) -> App {
    let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
    let mut app = load_trace(
        &sample_path(),
        Arc::new(schemas),
        Arc::new(Config::default()),
        None,
        limits,
    )
    .unwrap();
    // Snapshots name the trace relative to the repository.
    app.title = "tests/fixtures/traces/sample.jsonl".into();
    app
}

fn sample() -> App {
    sample_with(Limits::default())
}

fn row_of_line(app: &App, line: u64) -> ocpp_inspector::sink::tui::app::FrameRow<'_> {
    app.frames().find(|f| f.line == line).unwrap()
}

/// Selects the frame of trace line `line` by moving up from the newest.
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

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn frame(at_ms: i64, conn: &str, line: u64, from: Side, text: &str) -> Event<'static> {
    Event {
        at: Timestamp::from_micros(at_ms * 1000),
        conn: leak(conn),
        line,
        kind: EventKind::Frame {
            from,
            text: leak(text).into(),
            origin: Origin::Peer,
        },
    }
}

fn open(conn: &str, line: u64, subprotocol: &str) -> Event<'static> {
    Event {
        at: Timestamp::from_micros(0),
        conn: leak(conn),
        line,
        kind: EventKind::Open(Handshake {
            subprotocol: Some(leak(subprotocol)),
            ..Handshake::default()
        }),
    }
}

/// An engine of its own for a test that feeds events by hand.
fn engine() -> Engine {
    let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
    Engine::new(Arc::new(schemas), Arc::new(Config::default()), None)
}

/// Judges `ev` and shows the app what the engine made of it (its findings are left out:
/// the tests that want findings give them by hand).
fn see(engine: &mut Engine, app: &mut App, ev: Event<'_>) {
    let _ = engine.feed_observed(&ev, &mut Vec::new(), &mut |o: &Observation<'_>| {
        app.on_seen(&Seen::of(o))
    });
}

// ---------------------------------------------------------------- state from the trace

#[test]
fn the_sample_loads_connections_with_version_state_and_counts() {
    let app = sample();
    let names: Vec<&str> = app.conns.iter().map(|c| &*c.name).collect();
    assert_eq!(names, ["CP-001", "EVSE-201"]);
    let cp = &app.conns[0];
    assert_eq!(
        (cp.version.as_str(), cp.state(), cp.frames, cp.errors),
        ("1.6", "closed", 13, 3)
    );
    let evse = &app.conns[1];
    assert_eq!(
        (
            evse.version.as_str(),
            evse.state(),
            evse.frames,
            evse.errors
        ),
        ("2.0.1", "closed", 11, 3)
    );
    assert_eq!(app.totals.frames, 24);
    assert_eq!(app.totals.events, 28);
    assert_eq!(app.totals.errors, 6);
    assert_eq!(app.findings.len(), 6);
}

#[test]
fn requests_and_replies_are_paired_with_their_round_trip() {
    let app = sample();
    let call = row_of_line(&app, 21); // StopTransaction t2
    let reply = row_of_line(&app, 22);
    assert_eq!(call.partner, Some(reply.seq));
    assert_eq!(reply.partner, Some(call.seq));
    assert_eq!(reply.action.map(|a| &**a), Some("StopTransaction"));
    let rtt = app.round_trip_ms(&call).unwrap();
    assert!((rtt - 20.0).abs() < 1e-6, "{rtt}");
    assert_eq!(app.round_trip_ms(&reply), app.round_trip_ms(&call));
    // A CALLERROR pairs too; a reply to nothing pairs with nothing.
    assert_eq!(
        row_of_line(&app, 16).partner,
        Some(row_of_line(&app, 15).seq)
    );
    assert_eq!(row_of_line(&app, 23).partner, None);
    // The CSMS's own CALL pairs with the charger's reply.
    assert_eq!(
        row_of_line(&app, 20).partner,
        Some(row_of_line(&app, 19).seq)
    );
}

#[test]
fn findings_mark_their_frame_with_the_worst_verdict() {
    let app = sample();
    let bad = row_of_line(&app, 21);
    assert_eq!(bad.worst, Some(Severity::Error));
    assert_eq!(app.findings_of(bad.seq).count(), 1);
    assert_eq!(row_of_line(&app, 22).worst, None);
    let not_json = row_of_line(&app, 24);
    assert_eq!(not_json.message_type, None);
    assert_eq!(not_json.worst, Some(Severity::Error));
}

#[test]
fn findings_are_listed_by_severity_then_newest_first() {
    let mut app = App::new("t", Limits::default());
    let mut eng = engine();
    see(&mut eng, &mut app, open("CP", 1, "ocpp1.6"));
    for (line, text) in [
        (2, "[3,\"a\",{}]"),
        (3, "[3,\"b\",{}]"),
        (4, "[3,\"c\",{}]"),
    ] {
        see(
            &mut eng,
            &mut app,
            frame(line as i64, "CP", line, Side::Csms, text),
        );
    }
    let mut finding = sample().findings[0].finding.clone();
    finding.conn = Arc::from("CP");
    for (line, sev) in [
        (2, Severity::Error),
        (3, Severity::Warning),
        (4, Severity::Error),
    ] {
        let mut f = finding.clone();
        f.line = line;
        f.severity = sev;
        app.on_finding(f);
    }
    let order: Vec<u64> = app
        .visible_findings()
        .iter()
        .map(|&i| app.findings[i].finding.line)
        .collect();
    assert_eq!(order, [4, 2, 3]);
    assert_eq!(app.conns[0].warnings, 1);
}

// ---------------------------------------------------------------- selection and following

#[test]
fn the_selection_follows_the_newest_frame_until_the_user_scrolls() {
    let mut app = App::new("live", Limits::default());
    let mut eng = engine();
    see(&mut eng, &mut app, open("CP", 1, "ocpp1.6"));
    see(
        &mut eng,
        &mut app,
        frame(1, "CP", 2, Side::Charger, "[2,\"1\",\"Heartbeat\",{}]"),
    );
    assert!(app.follow);
    assert_eq!(app.selected_frame().unwrap().line, 2);
    see(
        &mut eng,
        &mut app,
        frame(2, "CP", 3, Side::Csms, "[3,\"1\",{}]"),
    );
    assert_eq!(app.selected_frame().unwrap().line, 3, "follows new frames");

    app.apply(Action::Up);
    assert!(!app.follow);
    assert_eq!(app.selected_frame().unwrap().line, 2);
    see(
        &mut eng,
        &mut app,
        frame(3, "CP", 4, Side::Charger, "[2,\"2\",\"Heartbeat\",{}]"),
    );
    assert_eq!(
        app.selected_frame().unwrap().line,
        2,
        "stays put after a scroll"
    );

    app.apply(Action::Bottom);
    assert!(app.follow);
    see(
        &mut eng,
        &mut app,
        frame(4, "CP", 5, Side::Csms, "[3,\"2\",{}]"),
    );
    assert_eq!(app.selected_frame().unwrap().line, 5);
}

#[test]
fn scrolling_moves_the_window_only_when_the_selection_would_leave_it() {
    let mut app = App::new("live", Limits::default());
    let mut eng = engine();
    app.set_frames_rows(5);
    for i in 0..30u64 {
        see(
            &mut eng,
            &mut app,
            frame(
                i as i64,
                "CP",
                i + 1,
                Side::Charger,
                "[2,\"1\",\"Heartbeat\",{}]",
            ),
        );
    }
    let index = |app: &App| app.selected_frame_index(&app.visible_frames()).unwrap();
    for _ in 0..3 {
        app.apply(Action::Up);
    }
    // Following showed rows 25..30; the selection moved up inside that window.
    assert_eq!((index(&app), app.frames_top), (26, 25));
    for _ in 0..3 {
        app.apply(Action::Up);
    }
    assert_eq!((index(&app), app.frames_top), (23, 23));
    app.apply(Action::Down);
    assert_eq!((index(&app), app.frames_top), (24, 23));
    app.apply(Action::Top);
    assert_eq!((index(&app), app.frames_top), (0, 0));
    app.apply(Action::PageDown);
    assert_eq!((index(&app), app.frames_top), (10, 6));
    // New frames do not move a paused window.
    see(
        &mut eng,
        &mut app,
        frame(99, "CP", 99, Side::Csms, "[3,\"1\",{}]"),
    );
    assert_eq!((index(&app), app.frames_top), (10, 6));
}

#[test]
fn the_cap_drops_the_oldest_frames_from_the_view_only() {
    let mut app = App::new(
        "live",
        Limits {
            max_frames: 5,
            max_findings: 3,
        },
    );
    let mut eng = engine();
    see(&mut eng, &mut app, open("CP", 1, "ocpp1.6"));
    for i in 0..6u64 {
        let id = i.to_string();
        see(
            &mut eng,
            &mut app,
            frame(
                (2 * i) as i64,
                "CP",
                2 + 2 * i,
                Side::Charger,
                &format!("[2,\"{id}\",\"Heartbeat\",{{}}]"),
            ),
        );
        see(
            &mut eng,
            &mut app,
            frame(
                (2 * i + 1) as i64,
                "CP",
                3 + 2 * i,
                Side::Csms,
                &format!("[3,\"{id}\",{{}}]"),
            ),
        );
    }
    assert_eq!(app.frames_len(), 5);
    assert_eq!(app.frame(0).unwrap().line, 9, "the oldest left first");
    assert_eq!(app.totals.frames_out_of_view, 8);
    // The counters keep everything that was seen.
    assert_eq!(app.totals.frames, 12);
    assert_eq!(app.conns[0].frames, 12);
    // A pair whose request left the view keeps its action but no partner row.
    let first = app.frame(0).unwrap();
    assert_eq!(first.kind, RowKind::Frame);
    assert_eq!(first.action.map(|a| &**a), Some("Heartbeat"));
    assert!(first.partner.is_none_or(|p| app.row(p).is_none()));
    // A finding about a frame out of view is kept, without a frame.
    let mut f = sample().findings[0].finding.clone();
    f.conn = Arc::from("CP");
    f.line = 2;
    app.on_finding(f.clone());
    assert_eq!(app.findings.back().unwrap().frame, None);
    f.line = 13;
    app.on_finding(f.clone());
    assert_eq!(
        app.findings.back().unwrap().frame,
        Some(app.frames().next_back().unwrap().seq)
    );
    for _ in 0..3 {
        app.on_finding(f.clone());
    }
    assert_eq!(app.findings.len(), 3);
    assert_eq!(app.totals.findings_out_of_view, 2);
    assert_eq!(app.totals.errors, 5);
}

#[test]
fn connection_state_follows_boot_and_transactions() {
    let mut app = App::new("live", Limits::default());
    let mut eng = engine();
    let mut line = 0;
    let mut step = |eng: &mut Engine, app: &mut App, from: Side, text: &str| {
        line += 1;
        see(eng, app, frame(line as i64, "CP", line, from, text));
        app.conns[0].state()
    };
    see(&mut eng, &mut app, open("CP", 0, "ocpp2.0.1"));
    assert_eq!(app.conns[0].state(), "connected");
    let boot = |id: &str| {
        format!(
            r#"[2,"{id}","BootNotification",{{"reason":"PowerUp","chargingStation":{{"model":"M","vendorName":"V"}}}}]"#
        )
    };
    let answer = |id: &str, status: &str| {
        format!(
            r#"[3,"{id}",{{"currentTime":"2026-01-01T00:00:00Z","interval":5,"status":"{status}"}}]"#
        )
    };
    assert_eq!(
        step(&mut eng, &mut app, Side::Charger, &boot("b")),
        "booting"
    );
    assert_eq!(
        step(&mut eng, &mut app, Side::Csms, &answer("b", "Pending")),
        "pending"
    );
    step(&mut eng, &mut app, Side::Charger, &boot("b2"));
    assert_eq!(
        step(&mut eng, &mut app, Side::Csms, &answer("b2", "Accepted")),
        "accepted"
    );
    let tx = |id: &str, kind: &str, seq: u32, reason: &str| {
        format!(
            r#"[2,"{id}","TransactionEvent",{{"eventType":"{kind}","timestamp":"2026-01-01T00:00:0{seq}Z","triggerReason":"{reason}","seqNo":{seq},"transactionInfo":{{"transactionId":"T1"}}}}]"#
        )
    };
    assert_eq!(
        step(
            &mut eng,
            &mut app,
            Side::Charger,
            &tx("t", "Started", 0, "Authorized")
        ),
        "in transaction"
    );
    assert_eq!(
        step(
            &mut eng,
            &mut app,
            Side::Charger,
            &tx("u", "Ended", 1, "EVDeparted")
        ),
        "accepted"
    );
    see(
        &mut eng,
        &mut app,
        Event {
            at: Timestamp::from_micros(99),
            conn: "CP",
            line: 99,
            kind: EventKind::Close {
                code: Some(1000),
                by: Some(Side::Charger),
            },
        },
    );
    assert_eq!(app.conns[0].state(), "closed");
}

/// The count is the engine's: a StartTransaction the charger sends again (a resend of the
/// same start, answered or not) is one transaction, not two.
#[test]
fn a_resent_start_transaction_counts_once() {
    let mut app = App::new("live", Limits::default());
    let mut eng = engine();
    let mut line = 1;
    let mut put = |eng: &mut Engine, app: &mut App, from: Side, text: &str| {
        line += 1;
        see(eng, app, frame(line as i64, "CP", line, from, text));
        app.conns[0].transactions
    };
    see(&mut eng, &mut app, open("CP", 1, "ocpp1.6"));
    put(
        &mut eng,
        &mut app,
        Side::Charger,
        r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
    );
    put(
        &mut eng,
        &mut app,
        Side::Csms,
        r#"[3,"b",{"currentTime":"2026-01-01T00:00:00Z","interval":300,"status":"Accepted"}]"#,
    );
    let start = |id: &str| {
        format!(
            r#"[2,"{id}","StartTransaction",{{"connectorId":1,"idTag":"TAG","meterStart":100,"timestamp":"2026-01-01T00:00:01Z"}}]"#
        )
    };
    let started = |id: &str| {
        format!(r#"[3,"{id}",{{"transactionId":5,"idTagInfo":{{"status":"Accepted"}}}}]"#)
    };
    assert_eq!(put(&mut eng, &mut app, Side::Charger, &start("s1")), 1);
    // Sent again before the answer came, then again after it: still one.
    assert_eq!(put(&mut eng, &mut app, Side::Charger, &start("s2")), 1);
    assert_eq!(put(&mut eng, &mut app, Side::Csms, &started("s1")), 1);
    assert_eq!(put(&mut eng, &mut app, Side::Csms, &started("s2")), 1);
    assert_eq!(put(&mut eng, &mut app, Side::Charger, &start("s3")), 1);
    assert_eq!(put(&mut eng, &mut app, Side::Csms, &started("s3")), 1);
    assert_eq!(app.conns[0].state(), "in transaction");
    put(
        &mut eng,
        &mut app,
        Side::Charger,
        r#"[2,"e","StopTransaction",{"transactionId":5,"meterStop":150,"timestamp":"2026-01-01T00:01:00Z"}]"#,
    );
    assert_eq!(
        put(&mut eng, &mut app, Side::Csms, r#"[3,"e",{}]"#),
        0,
        "stopped"
    );
    assert_eq!(app.conns[0].state(), "accepted");
}

#[test]
fn open_events_give_the_transport_and_security_profile() {
    let mut app = App::new("live", Limits::default());
    let mut eng = engine();
    see(
        &mut eng,
        &mut app,
        Event {
            at: Timestamp::from_micros(0),
            conn: "CP",
            line: 1,
            kind: EventKind::Open(Handshake {
                subprotocol: Some("ocpp1.6"),
                scheme: Some("wss"),
                tls_version: Some("1.3"),
                client_cert_subject: Some("CN=CP"),
                ..Handshake::default()
            }),
        },
    );
    assert_eq!(app.conns[0].security, "wss 1.3 SP3");
    assert_eq!(app.conns[0].version, "1.6");
}

// ---------------------------------------------------------------- keys

#[test]
fn filters_narrow_frames_and_findings() {
    let mut app = sample();
    // c on a CP-001 frame: only CP-001.
    select_line(&mut app, 21);
    app.apply(Action::FilterConn);
    assert_eq!(app.filter.conn.as_deref(), Some("CP-001"));
    let v = app.visible_frames();
    assert_eq!(v.len(), 15);
    assert!(v.iter().all(|&i| &**app.frame(i).unwrap().conn == "CP-001"));
    assert!(
        app.visible_findings()
            .iter()
            .all(|&i| &*app.findings[i].finding.conn == "CP-001")
    );
    app.apply(Action::FilterConn);
    assert_eq!(app.filter.conn, None, "c again shows all");

    // a: only the selection's action (requests and their replies).
    select_line(&mut app, 21);
    app.apply(Action::FilterAction);
    let lines: Vec<u64> = app
        .visible_frames()
        .iter()
        .map(|&i| app.frame(i).unwrap().line)
        .collect();
    assert_eq!(lines, [21, 22]);
    app.apply(Action::ClearFilters);

    // s: lowest severity; only frames with an error finding remain.
    app.apply(Action::CycleSeverity);
    app.apply(Action::CycleSeverity);
    app.apply(Action::CycleSeverity);
    assert_eq!(app.filter.min_severity, Some(Severity::Error));
    assert_eq!(app.visible_frames().len(), 6);
    app.apply(Action::CycleSeverity);
    assert_eq!(app.filter.min_severity, None);

    // /: free text, smart case.
    app.apply(Action::StartSearch);
    assert_eq!(app.mode, Mode::Search);
    for c in "heartbeat".chars() {
        app.apply(Action::SearchChar(c));
    }
    app.apply(Action::SearchSubmit);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.filter.text, "heartbeat");
    let lines: Vec<u64> = app
        .visible_frames()
        .iter()
        .map(|&i| app.frame(i).unwrap().line)
        .collect();
    assert_eq!(
        lines,
        [15, 16, 19, 20, 24, 25, 26],
        "HeartBeat, Heartbeat and HeartbeatInterval alike"
    );
    app.apply(Action::StartSearch);
    for _ in 0.."heartbeat".len() {
        app.apply(Action::SearchBackspace);
    }
    for c in "HeartBeat".chars() {
        app.apply(Action::SearchChar(c));
    }
    app.apply(Action::SearchSubmit);
    let lines: Vec<u64> = app
        .visible_frames()
        .iter()
        .map(|&i| app.frame(i).unwrap().line)
        .collect();
    assert_eq!(lines, [15, 16], "a capital makes it exact");
    app.apply(Action::StartSearch);
    app.apply(Action::SearchChar('z'));
    app.apply(Action::SearchCancel);
    assert_eq!(app.filter.text, "HeartBeat", "Esc keeps the applied search");
}

#[test]
fn enter_on_a_finding_jumps_to_its_frame() {
    let mut app = sample();
    app.apply(Action::FocusNext);
    assert_eq!(app.focus, Focus::Findings);
    app.apply(Action::Down); // the second newest error: line 23
    assert_eq!(app.selected_finding().unwrap().finding.line, 23);
    app.apply(Action::Enter);
    assert_eq!(app.focus, Focus::Frames);
    assert!(!app.follow);
    assert_eq!(app.selected_frame().unwrap().line, 23);
}

#[test]
fn detail_view_partner_and_back() {
    let mut app = sample();
    select_line(&mut app, 21);
    app.apply(Action::Enter);
    assert_eq!(app.mode, Mode::Detail);
    app.apply(Action::Down);
    assert_eq!(app.detail_scroll, 1, "arrows scroll the detail");
    assert_eq!(app.selected_frame().unwrap().line, 21);
    app.apply(Action::Partner);
    assert_eq!(app.selected_frame().unwrap().line, 22);
    app.apply(Action::PrevProblem);
    assert_eq!(app.selected_frame().unwrap().line, 21);
    app.apply(Action::Back);
    assert_eq!(app.mode, Mode::Normal);
    // A frame without a partner says so.
    select_line(&mut app, 23);
    app.apply(Action::Partner);
    assert_eq!(app.selected_frame().unwrap().line, 23);
    assert!(
        app.message
            .as_deref()
            .unwrap()
            .contains("no request/reply partner")
    );
}

#[test]
fn enter_on_a_connection_filters_to_it_and_quit_and_report_are_effects() {
    let mut app = sample();
    app.apply(Action::FocusPrev);
    assert_eq!(app.focus, Focus::Conns);
    app.apply(Action::Down);
    app.apply(Action::Enter);
    assert_eq!(app.filter.conn.as_deref(), Some("EVSE-201"));
    app.apply(Action::Enter);
    assert_eq!(app.filter.conn, None);
    assert_eq!(app.apply(Action::WriteReport), Some(Effect::WriteReport));
    assert_eq!(app.apply(Action::Quit), Some(Effect::Quit));
}

// ---------------------------------------------------------------- the loop

/// Scripted terminal input: the events in order, then nothing; a loop that keeps asking
/// long after the script ran out fails instead of hanging the test.
struct Script(VecDeque<TermEvent>, u32);

impl Script {
    fn new(events: impl IntoIterator<Item = TermEvent>) -> Self {
        Script(events.into_iter().collect(), 0)
    }
}

impl InputSource for Script {
    fn next(&mut self, _timeout: Duration) -> io::Result<Option<TermEvent>> {
        if let Some(e) = self.0.pop_front() {
            return Ok(Some(e));
        }
        self.1 += 1;
        if self.1 > 1000 {
            return Err(io::Error::other(
                "the script ran out and the loop did not end",
            ));
        }
        Ok(None)
    }
}

fn key(c: char) -> TermEvent {
    TermEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn report_target(dir: &Path) -> ReportTarget {
    ReportTarget {
        path: dir.join("report.json"),
        trace: PathBuf::from("live.jsonl"),
        info: RunInfo {
            schemas: "built-in (errata: all)".into(),
            fail_on: Severity::Error,
        },
    }
}

#[test]
fn the_loop_takes_the_feed_draws_writes_the_report_and_quits() {
    let dir = tempfile::tempdir().unwrap();
    let source = sample();
    let (tx, mut rx) = feed::channel(1000);
    let mut app = App::new("live", Limits::default());
    // Feed the loop what the proxy would: events and findings.
    let mut findings = source.findings.iter().peekable();
    let mut eng = engine();
    for row in source.frames() {
        if row.kind != RowKind::Frame {
            continue;
        }
        // The sample is read back from its file: the row keeps the offset, not the text.
        let text = source.text_of(&row).unwrap();
        let ev = Event {
            at: row.at,
            conn: row.conn,
            line: row.line,
            kind: EventKind::Frame {
                from: row.from.unwrap(),
                text: (&*text).into(),
                origin: Origin::Peer,
            },
        };
        let _ = eng.feed_observed(&ev, &mut Vec::new(), &mut |o: &Observation<'_>| {
            assert!(tx.send(FeedItem::Seen(Seen::of(o))));
        });
        while let Some(f) = findings.next_if(|f| f.finding.line <= row.line) {
            assert!(tx.send(FeedItem::Finding(Box::new(f.finding.clone()))));
        }
    }
    let mut term = Terminal::new(TestBackend::new(80, 20)).unwrap();
    let mut input = Script::new([key('w'), key('?'), key('q')]);
    let opts = LoopOptions::new(report_target(dir.path()));
    run_loop(
        &mut term,
        &mut app,
        Some(&mut rx),
        &mut input,
        &opts,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(app.totals.frames, 24);
    assert_eq!(app.findings.len(), 6);
    assert_eq!(app.mode, Mode::Help, "`?` was applied before `q`");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["summary"]["errors"], 6);
    assert_eq!(report["summary"]["frames"], 24);
    assert_eq!(report["findings"].as_array().unwrap().len(), 6);
    assert_eq!(report["findings"][0]["file"], "live.jsonl");
    assert!(
        app.message
            .as_deref()
            .unwrap()
            .starts_with("report written to")
    );
    drop(tx);
}

#[test]
fn the_loop_ends_when_the_live_feed_closes_or_stop_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = feed::channel(10);
    tx.send(FeedItem::Finished {
        summary: "proxy stopped".into(),
    });
    drop(tx);
    let mut app = App::new("live", Limits::default());
    let mut term = Terminal::new(TestBackend::new(60, 12)).unwrap();
    let mut opts = LoopOptions::new(report_target(dir.path()));
    opts.quit_when_feed_closes = true;
    let mut input = Script::new([]);
    run_loop(
        &mut term,
        &mut app,
        Some(&mut rx),
        &mut input,
        &opts,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(app.finished.as_deref(), Some("proxy stopped"));

    let mut app = App::new("view", Limits::default());
    run_loop(
        &mut term,
        &mut app,
        None,
        &mut input,
        &opts,
        &AtomicBool::new(true),
    )
    .unwrap();
}

// ---------------------------------------------------------------- snapshots

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term
}

#[test]
fn snapshot_main_screen() {
    let mut app = sample();
    insta::assert_snapshot!("main_120x40", render(&app, 120, 40).backend());
    // As the loop does before handling keys.
    app.set_frames_rows(ui::frames_rows(&app, Rect::new(0, 0, 120, 40)));
    select_line(&mut app, 21);
    insta::assert_snapshot!("main_pair_selected_120x40", render(&app, 120, 40).backend());
    insta::assert_snapshot!("main_40x12", render(&app, 40, 12).backend());
}

#[test]
fn snapshot_detail_view() {
    let mut app = sample();
    select_line(&mut app, 21);
    app.apply(Action::Enter);
    let term = render(&app, 120, 40);
    insta::assert_snapshot!("detail_120x40", term.backend());
    // The offending value (the finding's pointer, /meterStop) is highlighted in colour too.
    let buf = term.backend().buffer();
    let row = (0..40)
        .find(|&y| {
            (0..60)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains("\"meterStop\"")
        })
        .unwrap();
    assert_eq!(buf[(5, row)].bg, ratatui::style::Color::Red);
    assert_ne!(buf[(5, row + 1)].bg, ratatui::style::Color::Red);
    insta::assert_snapshot!("detail_40x12", render(&app, 40, 12).backend());
}

#[test]
fn snapshot_help_overlay() {
    let mut app = sample();
    app.apply(Action::ToggleHelp);
    insta::assert_snapshot!("help_120x40", render(&app, 120, 40).backend());
    insta::assert_snapshot!("help_40x12", render(&app, 40, 12).backend());
}

#[test]
fn snapshot_filtered_with_search_prompt() {
    let mut app = sample();
    app.apply(Action::CycleSeverity);
    app.apply(Action::StartSearch);
    app.apply(Action::SearchChar('C'));
    app.apply(Action::SearchChar('P'));
    insta::assert_snapshot!("search_prompt_120x40", render(&app, 120, 40).backend());
}

// ---------------------------------------------------------------- the command

#[test]
fn view_without_a_terminal_says_so_and_exits_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
        .args(["view", "tests/fixtures/traces/sample.jsonl"])
        .current_dir(root())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(
        err.contains("ocpp-inspector check tests/fixtures/traces/sample.jsonl"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

// ---------------------------------------------------------------- the live path

#[test]
fn the_live_inspector_feeds_the_ui_through_the_tui_sink() {
    use ocpp_inspector::engine::Engine;
    use ocpp_inspector::pipeline::{Inspector, spawn};
    use ocpp_inspector::sink::tui::feed::TuiSink;
    use ocpp_inspector::source::proxy::tap::{OpenInfo, TapEvent, TapKind, TapLimits};
    use tokio_tungstenite::tungstenite::Utf8Bytes;

    let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
    let engine = Engine::new(Arc::new(schemas), Arc::new(Config::default()), None);
    let (tx, mut rx) = feed::channel(100);
    let inspector = Inspector::new(engine, Severity::Error).sink(TuiSink::new(tx));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(async {
        let (tap, consumer) = spawn(inspector, TapLimits::default());
        let conn: Arc<str> = Arc::from("CP-9");
        let at = |ms: i64| Timestamp::from_micros(1_700_000_000_000_000 + ms * 1000);
        let send = |ms: i64, kind: TapKind| {
            assert!(tap.send(TapEvent {
                at: at(ms),
                conn: conn.clone(),
                kind,
            }));
        };
        send(
            0,
            TapKind::Open(Box::new(OpenInfo {
                subprotocol: Some("ocpp1.6".into()),
                scheme: "ws",
                ..OpenInfo::default()
            })),
        );
        let frames = [
            (Side::Charger, r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#),
            (Side::Csms, r#"[3,"b",{"status":"Accepted","currentTime":"2023-11-14T22:13:20.010Z","interval":300}]"#),
            (Side::Charger, r#"[2,"h","Heartbeat",{}"#),
        ];
        for (i, (from, text)) in frames.into_iter().enumerate() {
            send(
                10 * (i as i64 + 1),
                TapKind::Frame {
                    from,
                    text: Utf8Bytes::from(text),
                },
            );
        }
        drop(tap);
        tokio::time::timeout(Duration::from_secs(10), consumer.finish())
            .await
            .unwrap()
            .unwrap()
    });
    assert_eq!(outcome.stats.frames, 3);
    let mut items = Vec::new();
    rx.drain(1000, &mut items);
    assert!(rx.is_closed(), "the sink is dropped when the run ends");
    let mut app = App::new("live", Limits::default());
    for item in items {
        app.on_item(item);
    }
    assert_eq!(app.conns[0].version, "1.6");
    assert_eq!(app.conns[0].security, "ws");
    assert_eq!(app.conns[0].state(), "accepted");
    assert_eq!(app.totals.frames, 3);
    let boot = app.frames().find(|f| f.line == 2).unwrap();
    assert_eq!(boot.partner.map(|p| app.row(p).unwrap().line), Some(3));
    // The truncated Heartbeat's finding lands on its row (line = record number).
    let bad = app.frames().next_back().unwrap();
    assert_eq!(bad.worst, Some(Severity::Error));
    assert!(
        app.findings
            .iter()
            .any(|r| r.finding.rule.id == "rpc.not-json" && r.frame == Some(bad.seq))
    );
    assert!(
        app.finished
            .as_deref()
            .unwrap()
            .starts_with("stopped: 3 frames")
    );
}
