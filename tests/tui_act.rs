//! Acting on a live station from the screen (`i`), headless: the real live pipeline (proxy,
//! consumer, recording) on 127.0.0.1 between a simulated 1.6 charger and a simulated CSMS,
//! the UI loop on a `TestBackend` driven by scripted keys. With `--allow-inject` (a screen
//! given the catalog) the form sends a TriggerMessage edited in the "editor", the proxy
//! injects it, the recording marks both frames injected, the CSMS never sees them, and the
//! screen selects the answer and says how the engine judged it. Without it, the same keys
//! send nothing. Plus the form's snapshot at 80x24. Every wait is bounded.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Buf, wait_until};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::engine::{Config, Engine, Origin, StationSummary};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::Version;
use ocpp_inspector::pipeline::{LiveRun, Screen};
use ocpp_inspector::sim::charger::{FleetConfig, run_fleet};
use ocpp_inspector::sim::csms::{Csms, CsmsConfig};
use ocpp_inspector::sink::report::RunInfo;
use ocpp_inspector::sink::tui::act::ActCatalog;
use ocpp_inspector::sink::tui::app::{Action, App, Effect, Limits, Mode, OFF_LIVE, OFF_VIEW};
use ocpp_inspector::sink::tui::feed::{FeedItem, Seen, SeenKind};
use ocpp_inspector::sink::tui::{EditHook, InputSource, LoopOptions, ReportTarget, run_loop, ui};
use ocpp_inspector::source::event::{EventKindOf, HandshakeOf};
use ocpp_inspector::source::proxy::ProxyConfig;
use ocpp_inspector::time::Timestamp;
use ocpp_inspector::wire::frame::MessageType;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::watch;

fn schemas() -> Arc<SchemaSet> {
    Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap())
}

fn key(code: KeyCode) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> TermEvent {
    key(KeyCode::Char(c))
}

/// One step of the scripted keyboard.
enum Step {
    Key(TermEvent),
    /// Nothing is pressed until this holds (at most `limit`).
    Until(Box<dyn FnMut() -> bool + Send>, Duration),
}

/// The scripted keyboard: its steps in order, then `q`.
struct Script {
    steps: std::collections::VecDeque<Step>,
    since: Option<Instant>,
}

impl InputSource for Script {
    fn next(&mut self, timeout: Duration) -> io::Result<Option<TermEvent>> {
        match self.steps.front_mut() {
            None => Ok(Some(ch('q'))),
            Some(Step::Key(_)) => match self.steps.pop_front() {
                Some(Step::Key(k)) => Ok(Some(k)),
                _ => Ok(None),
            },
            Some(Step::Until(cond, limit)) => {
                let since = *self.since.get_or_insert_with(Instant::now);
                if cond() || since.elapsed() > *limit {
                    self.steps.pop_front();
                    self.since = None;
                } else {
                    std::thread::sleep(timeout.min(Duration::from_millis(20)));
                }
                Ok(None)
            }
        }
    }
}

fn report_target(dir: &Path) -> ReportTarget {
    ReportTarget {
        path: dir.join("report.json"),
        trace: dir.join("rec.jsonl"),
        info: RunInfo {
            schemas: "built-in".into(),
            fail_on: Severity::Error,
        },
    }
}

/// The live pipeline with its screen, a simulated CSMS (recording what it sees) and one
/// simulated 1.6 charger, booted; the UI loop runs `keys` on a `TestBackend` and the app
/// is handed back when it quits (and once what the feed still holds is taken).
struct Outcome {
    app: App,
    recording: String,
    csms_seen: String,
    edited_from: Option<String>,
    /// The last screen drawn, one string per row.
    screen: Vec<String>,
}

/// How the screen is set up.
struct Setup {
    /// `--allow-inject`.
    allow: bool,
    /// What the "editor" writes.
    edit_to: Option<&'static str>,
    /// The live window.
    max_frames: usize,
    /// The screen reaches the frames before its window through the recording.
    history: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            allow: false,
            edit_to: None,
            max_frames: Limits::default().max_frames,
            history: false,
        }
    }
}

fn run_screen(setup: Setup, keys: Vec<Step>) -> Outcome {
    let Setup {
        allow,
        edit_to,
        max_frames,
        history,
    } = setup;
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("rec.jsonl");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let schemas = schemas();
    let csms_seen = Buf::default();
    let (down_tx, down) = watch::channel(false);
    let report = report_target(dir.path());
    let (mut running, csms_task, fleet_task) = rt.block_on(async {
        let mut cfg = CsmsConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.read_config_after_boot = false;
        cfg.record = Some(ocpp_inspector::sim::tap(Box::new(csms_seen.clone())));
        let csms = Csms::bind(cfg).await.unwrap();
        let csms_addr = csms.local_addr().unwrap();
        let handle = csms.handle();
        let engine = Engine::new(schemas.clone(), Arc::new(Config::default()), None);
        let acting = allow.then(|| Arc::new(ActCatalog::new(schemas.clone())));
        let history = history.then(|| {
            ocpp_inspector::cli::view::history_hook(
                record.clone(),
                schemas.clone(),
                Arc::new(Config::default()),
                None,
            )
        });
        let report = report.clone();
        let running = LiveRun::new(
            engine,
            ProxyConfig::new("127.0.0.1:0", &format!("ws://{csms_addr}/ocpp")),
            Severity::Error,
        )
        .record(Some(record.clone()))
        .screen(move |_| Screen {
            title: "proxy".into(),
            limits: Limits {
                max_frames,
                ..Limits::default()
            },
            report,
            cases: None,
            notice: None,
            acting,
            history,
        })
        .start()
        .await
        .unwrap();
        let csms_task = tokio::spawn(csms.run(down.clone()));
        let mut fleet = FleetConfig::new(format!("ws://{}/ocpp", running.bound.local_addr));
        fleet.count = 1;
        fleet.prefix = "ACT-".into();
        fleet.versions = vec![Version::V16];
        fleet.connectors = 1;
        fleet.local_sessions = false;
        fleet.sessions = None;
        fleet.pace.meter_interval = Duration::from_secs(3600);
        let id = fleet.identity(0);
        let fleet_task = tokio::spawn(run_fleet(fleet, down.clone()));
        wait_until(Duration::from_secs(15), "the boot", || {
            handle.station(&id).is_some_and(|s| s.boots > 0)
        })
        .await;
        (running, csms_task, fleet_task)
    });
    let parts = running.take_screen().unwrap();
    let (mut app, mut rx, port) = (parts.app, parts.feed, parts.inject);
    assert_eq!(port.is_some(), allow, "a port only with --allow-inject");
    assert_eq!(app.recording_behind, parts.history.is_some());
    let edited_from: Arc<Mutex<Option<String>>> = Arc::default();
    let mut opts = LoopOptions::new(report);
    opts.inject = port;
    opts.history = parts.history;
    if let Some(to) = edit_to {
        let seen = edited_from.clone();
        let hook: EditHook = Arc::new(move |path: &Path| {
            *seen.lock().unwrap() = Some(std::fs::read_to_string(path)?);
            std::fs::write(path, to)
        });
        opts.editor = Some(hook);
    }
    // The station as the engine saw it (open and boot), before any key is pressed.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut items = Vec::new();
    // (and, with a small window, until frames have left it)
    let ready = |app: &App| {
        app.conns
            .iter()
            .any(|c| c.version == "1.6" && c.frames >= 2)
            && (max_frames > 100 || app.totals.frames_out_of_view >= 2)
    };
    while Instant::now() < deadline && !ready(&app) {
        rx.drain(10_000, &mut items);
        for i in items.drain(..) {
            app.on_item(i);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        ready(&app),
        "the station reached the screen: {:?}",
        app.conns
    );
    let mut script = Script {
        steps: keys.into(),
        since: None,
    };
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    run_loop(
        &mut term,
        &mut app,
        Some(&mut rx),
        &mut script,
        &opts,
        &AtomicBool::new(false),
    )
    .unwrap();
    // What the feed still holds (the answer's findings may trail the outcome).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut items = Vec::new();
    while Instant::now() < deadline {
        items.clear();
        rx.drain(10_000, &mut items);
        for i in items.drain(..) {
            app.on_item(i);
        }
        let settled = app
            .injection_status()
            .is_none_or(|s| !s.contains("waiting"));
        if settled {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    running.stop();
    rt.block_on(async {
        let end = tokio::time::timeout(Duration::from_secs(15), running.finish())
            .await
            .expect("the run ends")
            .unwrap();
        assert!(
            end.outcome.problems.is_empty(),
            "{:?}",
            end.outcome.problems
        );
        down_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(15), csms_task)
            .await
            .expect("the CSMS stops")
            .unwrap();
        tokio::time::timeout(Duration::from_secs(15), fleet_task)
            .await
            .expect("the charger stops")
            .unwrap()
            .unwrap();
    });
    let buf = term.backend().buffer();
    let screen = (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect();
    Outcome {
        screen,
        app,
        recording: std::fs::read_to_string(&record).unwrap(),
        csms_seen: csms_seen.text(),
        edited_from: edited_from.lock().unwrap().clone(),
    }
}

/// The recording's lines marked injected.
fn injected(recording: &str) -> Vec<&str> {
    recording
        .lines()
        .filter(|l| l.contains(r#""injected":true"#))
        .collect()
}

/// A TriggerMessage picked by its first letter, its payload edited in the "editor" to ask
/// for a Heartbeat, confirmed and sent: the charger answers, the answer is selected and
/// judged, and only the recording and the charger know of it.
#[test]
fn a_call_sent_from_the_screen_is_injected_answered_and_judged() {
    let keys = vec![
        Step::Key(ch('i')),
        Step::Key(key(KeyCode::Tab)),
        Step::Key(ch('t')),
        Step::Key(key(KeyCode::Tab)),
        Step::Key(TermEvent::Key(KeyEvent::new(
            KeyCode::Char('e'),
            KeyModifiers::CONTROL,
        ))),
        Step::Key(key(KeyCode::Enter)),
        Step::Key(key(KeyCode::Enter)),
        // The outcome comes back through the feed; give it (bounded) time.
        Step::Until(Box::new(|| false), Duration::from_millis(1500)),
    ];
    let out = run_screen(
        Setup {
            allow: true,
            edit_to: Some("{\n  \"requestedMessage\": \"Heartbeat\"\n}\n"),
            ..Setup::default()
        },
        keys,
    );
    let app = &out.app;
    // The editor got the template, laid out.
    assert_eq!(
        (out.app.message.as_deref(), out.app.mode),
        (None, Mode::Normal),
        "{:?}",
        out.app.injection
    );
    assert_eq!(
        out.edited_from.as_deref(),
        Some("{\n  \"requestedMessage\": \"BootNotification\"\n}")
    );
    let inj = app.injection.as_ref().expect("something was sent");
    assert_eq!(&*inj.action, "TriggerMessage");
    assert!(inj.station.starts_with("ACT-"), "{inj:?}");
    let answer = match &inj.outcome {
        Some(Ok(a)) => a.clone(),
        other => panic!("no answer: {other:?}"),
    };
    assert!(answer.contains("Accepted"), "{answer}");
    let id = inj.id.clone().expect("an injected id");
    assert!(id.starts_with("inspector-"), "{id}");
    // The answer's row is selected; its partner is the injected CALL.
    let seq = inj.answer.expect("the engine saw the answer");
    let row = app.selected_frame().expect("a selection");
    assert_eq!(row.seq, seq);
    assert_eq!(row.message_type, Some(MessageType::CallResult));
    let call = app.row(row.partner.expect("paired")).expect("the CALL row");
    assert_eq!(call.message_type, Some(MessageType::Call));
    assert_eq!(call.action.map(|a| &**a), Some("TriggerMessage"));
    assert!(
        app.shown(&call)
            .text
            .contains(r#""requestedMessage":"Heartbeat""#),
        "{}",
        app.shown(&call).text
    );
    let status = app.injection_status().unwrap();
    assert!(
        status.starts_with(&format!("{} answered TriggerMessage {id}: ", inj.station)),
        "{status}"
    );
    assert!(status.ends_with("judged: no findings"), "{status}");
    // Recorded as injected (the CALL and its answer); the CSMS saw neither.
    let marked = injected(&out.recording);
    assert_eq!(marked.len(), 2, "{marked:?}");
    assert!(marked[0].contains(&format!(r#"[2,\"{id}\",\"TriggerMessage\""#)));
    assert!(marked[1].contains(&format!(r#"[3,\"{id}\""#)));
    assert!(!out.csms_seen.contains("inspector-"));
}

/// Without `--allow-inject` the same keys send nothing, and `i` says why.
#[test]
fn without_allow_inject_the_screen_sends_nothing() {
    let keys = vec![
        Step::Key(ch('i')),
        Step::Key(key(KeyCode::Tab)),
        Step::Key(ch('t')),
        Step::Key(key(KeyCode::Enter)),
        Step::Key(key(KeyCode::Enter)),
        Step::Key(ch('i')),
        Step::Until(Box::new(|| false), Duration::from_millis(500)),
    ];
    let out = run_screen(Setup::default(), keys);
    assert_eq!(out.app.message.as_deref(), Some(OFF_LIVE));
    assert!(out.app.injection.is_none());
    assert_eq!(out.app.mode, Mode::Normal);
    assert!(injected(&out.recording).is_empty(), "{}", out.recording);
    assert!(!out.recording.contains("inspector-"));
    assert!(
        out.recording.contains("BootNotification"),
        "the run was recorded"
    );
}

fn open(conn: &str, line: u64, subprotocol: &str) -> FeedItem {
    FeedItem::Seen(Seen {
        at: Timestamp::from_secs(1_700_000_000 + i64::try_from(line).unwrap()),
        conn: Arc::from(conn),
        line,
        origin: Origin::Peer,
        what: SeenKind::Event(EventKindOf::Open(HandshakeOf {
            subprotocol: Some(subprotocol.into()),
            scheme: Some("ws".into()),
            ..HandshakeOf::default()
        })),
        station: StationSummary::default(),
    })
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term
}

/// The form at 80x24: the station and action chosen, the template checked, the keys; then
/// a payload the schema refuses, and the confirmation that says so.
#[test]
fn snapshot_of_the_action_form() {
    let mut app = App::new("proxy", Limits::default());
    app.live = true;
    // Off: `i` says why, on a live screen and in `view`.
    app.apply(Action::StartAct);
    assert_eq!(app.message.as_deref(), Some(OFF_LIVE));
    app.live = false;
    app.apply(Action::StartAct);
    assert_eq!(app.message.as_deref(), Some(OFF_VIEW));
    app.live = true;
    app.allow_acting(Arc::new(ActCatalog::new(schemas())));
    app.apply(Action::StartAct);
    assert!(
        app.message.as_deref().unwrap().starts_with("no station"),
        "{:?}",
        app.message
    );
    app.on_item(open("CP-001", 1, "ocpp1.6"));
    app.on_item(open("EVSE-201", 2, "ocpp2.0.1"));
    app.apply(Action::StartAct);
    assert_eq!(app.mode, Mode::Act);
    for a in [
        Action::ActField(1),
        Action::ActChar('t'),
        Action::ActField(1),
    ] {
        app.apply(a);
    }
    insta::assert_snapshot!("act_form_80x24", render(&app, 80, 24).backend());
    for _ in 0..3 {
        app.apply(Action::ActBackspace);
    }
    for c in "X\"}".chars() {
        app.apply(Action::ActChar(c));
    }
    app.apply(Action::ActSubmit);
    insta::assert_snapshot!("act_confirm_80x24", render(&app, 80, 24).backend());
    // Esc goes back to the form, Esc again closes it: nothing was asked of the loop.
    assert_eq!(app.apply(Action::ActCancel), None);
    assert_eq!(app.mode, Mode::Act);
    assert_eq!(app.apply(Action::ActCancel), None);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.take_act_request().is_none());
}

/// A live window of 4 rows on a recorded run: `g` goes to the window's first row and says
/// older frames are in the recording; `g` again shows the recording from its start (the
/// boot that left the window), read up to the window; Esc would go back.
#[test]
fn frames_older_than_the_live_window_are_read_from_the_recording() {
    let keys = vec![
        Step::Key(ch('g')),
        Step::Key(ch('g')),
        Step::Until(Box::new(|| false), Duration::from_millis(1500)),
    ];
    let out = run_screen(
        Setup {
            max_frames: 4,
            history: true,
            ..Setup::default()
        },
        keys,
    );
    let app = &out.app;
    assert!(app.totals.frames_out_of_view > 0, "frames left the window");
    assert!(
        !app.frames()
            .any(|f| f.action.is_some_and(|a| &**a == "BootNotification")),
        "the boot left the live window"
    );
    let text = out.screen.join("\n");
    assert!(text.contains("before line "), "{text}");
    assert!(text.contains("Esc: back to live"), "{text}");
    assert!(text.contains("BootNotification"), "{text}");
    assert!(text.contains("open ocpp1.6"), "{text}");
}

/// Esc on the recording's screen asks to go back to the live one; `g` on a live window
/// that lost frames but has no recording stays in the window.
#[test]
fn the_recording_screen_goes_back_with_esc() {
    let mut past = App::new("rec", Limits::default());
    past.show_as_behind(true);
    assert_eq!(past.apply(Action::Back), Some(Effect::CloseHistory));
    let mut live = App::new(
        "proxy",
        Limits {
            max_frames: 2,
            ..Limits::default()
        },
    );
    live.live = true;
    for i in 1..=4 {
        live.on_item(open(&format!("CP-{i}"), i, "ocpp1.6"));
    }
    live.apply(Action::Top);
    assert_eq!(live.apply(Action::Top), None, "no recording");
    live.recording_behind = true;
    assert_eq!(
        live.apply(Action::Up),
        Some(Effect::History { from_top: false })
    );
    assert_eq!(live.window_first_line(), Some(3));
}

/// `proxy --allow-inject` is in `--help`, and without a screen (standard output is no
/// terminal here) it says that nothing will be sent.
#[test]
fn the_proxy_flag_is_documented_and_says_when_it_has_no_screen() {
    let help = common::run(&["proxy", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--allow-inject"), "{}", help.stdout);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"))
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "ws://127.0.0.1:9/ocpp",
            "--allow-inject",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut said = None;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("--allow-inject") => {
                said = Some(line);
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let said = said.expect("a note about --allow-inject within 30 s");
    assert!(said.contains("nothing will be sent"), "{said}");
}
