//! The Cases pane of `testcase run --live`, without a terminal: the live case runner with a
//! UI attached sends each case's progress through the UI's feed (after the frame that made
//! it, in order, and no progress lines), the app takes it, and a `TestBackend` shows the
//! pane with a passed, a failed and a not-run case. The real inspector runs the events, as
//! behind the proxy.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::Event as TermEvent;
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::engine::{Config, Engine};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::Side;
use ocpp_inspector::pipeline::{Inspector, spawn};
use ocpp_inspector::sink::report::RunInfo;
use ocpp_inspector::sink::tui::app::{App, CaseInfo, CaseState, Focus, Limits};
use ocpp_inspector::sink::tui::feed::{self, CaseEnd, CaseStep, FeedItem, FeedReceiver, TuiSink};
use ocpp_inspector::sink::tui::{InputSource, LoopOptions, ReportTarget, run_loop, ui};
use ocpp_inspector::source::proxy::tap::{OpenInfo, TapEvent, TapKind, TapLimits};
use ocpp_inspector::testcase::live::{LiveCases, OutcomeSlot};
use ocpp_inspector::testcase::scenario::load_texts;
use ocpp_inspector::testcase::{Case, Verdict};
use ocpp_inspector::time::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio_tungstenite::tungstenite::Utf8Bytes;

const PASS: &str = r#"
id = "1.6/t/a_pass"
title = "Heartbeat answered with the CSMS time, a title long enough to be shortened"
versions = ["1.6"]
dut = "charger"
requirement = "must"
[[steps]]
from = "charger"
call = "Heartbeat"
[[steps]]
from = "csms"
result = "Heartbeat"
match = { currentTime = { regex = '^\d{4}-' } }
"#;

const FAIL: &str = r#"
id = "1.6/t/b_fail"
title = "Heartbeat answered in 1999"
versions = ["1.6"]
dut = "charger"
requirement = "must"
[[steps]]
from = "charger"
call = "Heartbeat"
[[steps]]
from = "csms"
result = "Heartbeat"
expect = { currentTime = { regex = '^1999' } }
"#;

const OTHER: &str = r#"
id = "2.0.1/t/other"
title = "Only for 2.0.1"
versions = ["2.0.1"]
dut = "charger"
requirement = "must"
[[steps]]
from = "charger"
call = "Heartbeat"
"#;

const NEVER: &str = r#"
id = "1.6/t/c_never"
title = "Waits for a StatusNotification"
versions = ["1.6"]
dut = "charger"
requirement = "must"
[[steps]]
from = "charger"
call = "StatusNotification"
"#;

fn cases() -> Vec<Case> {
    load_texts([
        ("pass.toml", PASS),
        ("fail.toml", FAIL),
        ("other.toml", OTHER),
        ("never.toml", NEVER),
    ])
    .unwrap()
}

/// A `Write` the test can read afterwards.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl io::Write for Lines {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs open, a Heartbeat and its answer through the live inspector with the UI's sink and
/// the live case runner attached to one feed, as `testcase run --live` wires them.
fn run_live(lines: Lines) -> (FeedReceiver, OutcomeSlot) {
    let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
    let engine = Engine::new(Arc::new(schemas), Arc::new(Config::default()), None);
    let (tx, rx) = feed::channel(1000);
    let slot = OutcomeSlot::default();
    let cases = LiveCases::new(Arc::new(cases()), lines, slot.clone()).with_ui(tx.clone());
    let inspector = Inspector::new(engine, Severity::Error)
        .sink(TuiSink::new(tx))
        .sink(cases);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tap, consumer) = spawn(inspector, TapLimits::default());
        let conn: Arc<str> = Arc::from("CP-1");
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
            (Side::Charger, r#"[2,"h1","Heartbeat",{}]"#),
            (
                Side::Csms,
                r#"[3,"h1",{"currentTime":"2023-11-14T22:13:20.010Z"}]"#,
            ),
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
    (rx, slot)
}

fn ui_app() -> App {
    let mut app = App::new("testcase run --live", Limits::default());
    app.set_cases(cases().iter().map(CaseInfo::of).collect());
    app
}

#[test]
fn live_cases_with_a_ui_send_each_step_in_order_and_no_lines() {
    let lines = Lines::default();
    let (mut rx, slot) = run_live(lines.clone());
    let mut items = Vec::new();
    rx.drain(1000, &mut items);
    assert!(rx.is_closed(), "both senders end with the run");
    assert_eq!(rx.dropped(), 0);
    assert!(
        lines.0.lock().unwrap().is_empty(),
        "with a UI attached no progress line is printed"
    );
    // What the case runner sent, in order: the station's version, the steps as the frames
    // came, then at the end the verdicts (2.0.1/t/other is for 2.0.1: not about CP-1).
    let got: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            FeedItem::CaseStation { station, version } => {
                Some(format!("{station} {}", version.as_str()))
            }
            FeedItem::Case {
                station,
                case,
                step,
            } => Some(format!("{station} {case} {step:?}")),
            _ => None,
        })
        .collect();
    let fail_reason = match items.iter().find_map(|i| match i {
        FeedItem::Case {
            step: CaseStep::Ended(CaseEnd::Failed { reason, .. }),
            ..
        } => Some(reason.clone()),
        _ => None,
    }) {
        Some(r) => r,
        None => panic!("no failure sent: {got:?}"),
    };
    assert!(fail_reason.contains("step 2"), "{fail_reason}");
    let failed = format!("Ended(Failed {{ step: 1, reason: {fail_reason:?} }})");
    let expected: Vec<String> = [
        "CP-1 1.6".to_owned(),
        "CP-1 0 Matched(0)".into(),
        "CP-1 0 Started".into(),
        "CP-1 1 Matched(0)".into(),
        "CP-1 1 Started".into(),
        "CP-1 0 Matched(1)".into(),
        "CP-1 0 Ended(Passed)".into(),
        format!("CP-1 1 {failed}"),
        // The verdicts at the end.
        "CP-1 0 Ended(Passed)".into(),
        format!("CP-1 1 {failed}"),
    ]
    .into_iter()
    .chain(items.iter().filter_map(|i| match i {
        FeedItem::Case {
            case: 2,
            step: CaseStep::Ended(CaseEnd::NotRun { reason }),
            ..
        } => Some(format!("CP-1 2 Ended(NotRun {{ reason: {reason:?} }})")),
        _ => None,
    }))
    .collect();
    assert_eq!(got, expected);
    // Each step comes after the frame that made it: the Heartbeat event precedes the
    // first step, its answer the pass.
    let pos = |pred: &dyn Fn(&FeedItem) -> bool| items.iter().position(pred).unwrap();
    let call = pos(&|i| matches!(i, FeedItem::Seen(e) if e.line == 2));
    let answer = pos(&|i| matches!(i, FeedItem::Seen(e) if e.line == 3));
    let first_step = pos(&|i| matches!(i, FeedItem::Case { .. }));
    let passed = pos(&|i| {
        matches!(
            i,
            FeedItem::Case {
                step: CaseStep::Ended(CaseEnd::Passed),
                ..
            }
        )
    });
    assert!(call < first_step && answer < passed && first_step < answer);
    // The outcome is the same as without a UI.
    let outcome = slot.lock().unwrap().take().unwrap();
    let verdicts: Vec<(&str, Verdict)> = outcome
        .results
        .iter()
        .map(|r| (r.id.as_str(), r.verdict))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("1.6/t/a_pass", Verdict::Passed),
            ("1.6/t/b_fail", Verdict::Failed),
            ("1.6/t/c_never", Verdict::NotRun),
            ("2.0.1/t/other", Verdict::NotApplicable),
        ]
    );
}

#[test]
fn without_a_ui_the_progress_lines_are_printed() {
    let lines = Lines::default();
    let cases = LiveCases::new(Arc::new(cases()), lines.clone(), OutcomeSlot::default());
    let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
    let engine = Engine::new(Arc::new(schemas), Arc::new(Config::default()), None);
    let inspector = Inspector::new(engine, Severity::Error).sink(cases);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tap, consumer) = spawn(inspector, TapLimits::default());
        let at = Timestamp::from_micros(1_700_000_000_000_000);
        for kind in [
            TapKind::Open(Box::new(OpenInfo {
                subprotocol: Some("ocpp1.6".into()),
                scheme: "ws",
                ..OpenInfo::default()
            })),
            TapKind::Frame {
                from: Side::Charger,
                text: Utf8Bytes::from(r#"[2,"h1","Heartbeat",{}]"#),
            },
        ] {
            assert!(tap.send(TapEvent {
                at,
                conn: Arc::from("CP-1"),
                kind,
            }));
        }
        drop(tap);
        tokio::time::timeout(Duration::from_secs(10), consumer.finish())
            .await
            .unwrap()
            .unwrap()
    });
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.lines()
            .any(|l| l == "case     CP-1  1.6/t/a_pass  step 1 matched: charger CALL Heartbeat"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "case     CP-1  1.6/t/b_fail  started")
    );
}

/// The text of screen row `y`.
fn row(term: &Terminal<TestBackend>, y: u16) -> String {
    let buf = term.backend().buffer();
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

fn screen(term: &Terminal<TestBackend>) -> Vec<String> {
    (0..term.backend().buffer().area.height)
        .map(|y| row(term, y))
        .collect()
}

#[test]
fn the_cases_pane_shows_passed_failed_and_not_run() {
    let (mut rx, _slot) = run_live(Lines::default());
    let mut items = Vec::new();
    rx.drain(1000, &mut items);
    let mut app = ui_app();
    for item in items {
        app.on_item(item);
    }
    let states: Vec<&CaseState> = app
        .cases
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| &r.state)
        .collect();
    assert_eq!(
        states.len(),
        3,
        "the 2.0.1 case is not listed for a 1.6 station"
    );
    assert_eq!(states[0], &CaseState::Ended(CaseEnd::Passed));
    assert!(matches!(
        states[1],
        CaseState::Ended(CaseEnd::Failed { step: 1, .. })
    ));
    assert!(matches!(
        states[2],
        CaseState::Ended(CaseEnd::NotRun { .. })
    ));

    let mut term = Terminal::new(TestBackend::new(120, 30)).unwrap();
    term.draw(|f| ui::draw(f, &app)).unwrap();
    let lines = screen(&term);
    // Connections (one row) take rows 0-2; the Cases pane follows.
    assert!(
        lines[3].starts_with("┌ Cases 3 · 1 passed 1 failed 0 running 0 waiting 1 not run "),
        "{}",
        lines[3]
    );
    assert!(
        lines[4]
            .starts_with("│ ✓ CP-1         1.6/t/a_pass  Heartbeat answered with the CSM… passed "),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].starts_with(
            "│ ✗ CP-1         1.6/t/b_fail  Heartbeat answered in 1999       failed: step 2 (csms CALLRESULT Heartbeat)"
        ),
        "{}",
        lines[5]
    );
    assert!(
        lines[6].starts_with(
            "│ - CP-1         1.6/t/c_never Waits for a StatusNotification   not run: "
        ),
        "{}",
        lines[6]
    );
    assert!(lines[7].starts_with("└"), "{}", lines[7]);
    assert!(lines[8].starts_with("┌ Frames 3 rows"), "{}", lines[8]);

    // Narrow: no titles, the state still shows.
    let mut small = Terminal::new(TestBackend::new(60, 20)).unwrap();
    small.draw(|f| ui::draw(f, &app)).unwrap();
    let lines = screen(&small);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("│ ✓ CP-1         1.6/t/a_pass  passed ")),
        "{lines:#?}"
    );

    // Hidden with `t`: the frames pane follows the connections.
    app.apply(ocpp_inspector::sink::tui::app::Action::ToggleCases);
    term.draw(|f| ui::draw(f, &app)).unwrap();
    assert!(
        row(&term, 3).starts_with("┌ Frames 3 rows"),
        "{}",
        row(&term, 3)
    );
}

/// Scripted terminal input: nothing, a bounded number of times.
struct Idle(u32);

impl InputSource for Idle {
    fn next(&mut self, _timeout: Duration) -> io::Result<Option<TermEvent>> {
        self.0 += 1;
        if self.0 > 1000 {
            return Err(io::Error::other(
                "the loop did not end when the feed closed",
            ));
        }
        Ok(None)
    }
}

#[test]
fn the_loop_shows_the_progress_and_ends_when_the_run_ends() {
    let (mut rx, _slot) = run_live(Lines::default());
    let mut app = ui_app();
    let dir = std::env::temp_dir();
    let mut opts = LoopOptions::new(ReportTarget {
        path: dir.join("ocpp-inspector-tui-cases-never-written.json"),
        trace: "live".into(),
        info: RunInfo {
            schemas: "built-in".into(),
            fail_on: Severity::Error,
        },
    });
    opts.quit_when_feed_closes = true;
    opts.redraw_every = Duration::from_millis(1);
    let mut term = Terminal::new(TestBackend::new(120, 30)).unwrap();
    run_loop(
        &mut term,
        &mut app,
        Some(&mut rx),
        &mut Idle(0),
        &opts,
        &AtomicBool::new(false),
    )
    .unwrap();
    let lines = screen(&term);
    assert!(
        lines[3].starts_with("┌ Cases 3 · 1 passed 1 failed"),
        "{lines:#?}"
    );
    assert!(lines[4].contains("passed"));
    assert_eq!(app.focus, Focus::Frames);
}

#[test]
fn cli_no_tui_keeps_the_lines_and_needs_live() {
    // No charger connects, so the upstream (nothing listens on port 9) is never dialled.
    let run = common::run_with_limit(
        &[
            "testcase",
            "run",
            "1.6/core/x01",
            "--live",
            "--no-tui",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "ws://127.0.0.1:9/ocpp",
            "--duration",
            "0.3",
            "--format",
            "json",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("testcase judging live: chargers connect to ws://127.0.0.1:"),
        "{}",
        run.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["cases"][0]["id"], "1.6/core/x01_CS");
    assert_eq!(doc["cases"][0]["verdict"], "not_run");
    // Without --live the flag is a usage error.
    let run = common::run_with_limit(
        &["testcase", "run", "--trace", "x.jsonl", "--no-tui"],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--no-tui"), "{}", run.stderr);
}
