//! The terminal UI: `ocpp-inspector view TRACE.jsonl` opens a judged trace in it, and the
//! proxy takes the screen with it when it runs on a terminal. It shows; it never judges
//! (the engine did) and never holds up the proxy (it is fed through a bounded channel that
//! drops the UI's own copies when full, see [`feed`]).
//!
//! ```text
//! ┌ Connections 2 ─────────────────────────────────────────────────────────────────┐
//! │ CP-001   1.6   wss 1.3 SP3  in transaction   120 frames   2 errors  0 warnings │
//! │ EVSE-201 2.0.1 ws           accepted          40 frames   0 errors  1 warnings │
//! └────────────────────────────────────────────────────────────────────────────────┘
//! ┌ Frames 160/164 · following · t2 ↔ reply 20.0 ms ───────────────────────────────┐
//! │ ✗ 10:15:08.000 → CP-001 CALL   StopTransaction  t2  {"meterStop":"1900",…}     │
//! │↔  10:15:08.020 ← CP-001 RESULT StopTransaction  t2  {"idTagInfo":{…}}          │
//! └────────────────────────────────────────────────────────────────────────────────┘
//! ┌ Findings 3 · 2 errors 1 warnings 0 infos ──────────────────────────────────────┐
//! │ ✗ error   schema.request-invalid CP-001 line 21 StopTransaction request …      │
//! └────────────────────────────────────────────────────────────────────────────────┘
//!  2 conns · 164 frames · 850/s · 2E 1W 0I · conn=CP-001 · ? help  q quit
//! ```
//! Under `testcase run --live` a Cases pane sits below the connections: one row per case and
//! station (waiting for trigger, at step N of M, passed, failed with the reason, not run),
//! fed by the live case runner through the same channel; `t` hides or shows it.
//!
//! Enter on a frame opens its detail (pretty JSON with the offending value highlighted,
//! every finding with its rule's doc, the paired request or reply beside it); `?` lists
//! the keys.
//!
//! - [`app`]: the state and its changes (no I/O), [`input`]: keys → actions from one table,
//!   [`ui`]: drawing, [`terminal`]: raw mode and restoring, [`feed`]: the bounded channel,
//!   [`act`]: the form of `i` (a CALL sent to a live station through an [`act::InjectPort`]
//!   the live pipeline provides; this module never sees the proxy).
//! - A live screen with a recording reaches the frames older than its window by opening the
//!   recording as `view` does ([`HistoryHook`], shown by the loop until Esc).
//! - [`run_loop`] is generic over the ratatui backend and the input source, so tests drive
//!   it with a `TestBackend` and scripted keys.

pub mod act;
pub mod app;
pub mod export;
pub mod feed;
pub mod filter;
pub mod input;
pub mod pretty;
pub mod stats;
pub mod store;
pub mod terminal;
pub mod ui;

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::Event as TermEvent;
use ratatui::Terminal;
use ratatui::backend::Backend;

use crate::checker::{FileResult, InputError};
use crate::engine::Stats;
use crate::sink::report::{RunInfo, json};
use app::{App, Effect};
use feed::FeedReceiver;

/// Where terminal input comes from (the real terminal, or a script in tests).
pub trait InputSource {
    /// The next event, waiting at most `timeout`; `None` if nothing came.
    fn next(&mut self, timeout: Duration) -> io::Result<Option<TermEvent>>;
}

/// The real terminal's keys and mouse.
pub struct Crossterm;

impl InputSource for Crossterm {
    fn next(&mut self, timeout: Duration) -> io::Result<Option<TermEvent>> {
        if crossterm::event::poll(timeout)? {
            Ok(Some(crossterm::event::read()?))
        } else {
            Ok(None)
        }
    }
}

/// Where `w` writes the session's report, and what it says about the run.
#[derive(Debug, Clone)]
pub struct ReportTarget {
    pub path: PathBuf,
    /// The trace the findings' lines refer to (the recording, or the viewed file).
    pub trace: PathBuf,
    pub info: RunInfo,
}

/// Runs an editor on a file and returns when it is closed (suspending the real terminal
/// around it); tests pass one that edits the file themselves.
pub type EditHook = Arc<dyn Fn(&std::path::Path) -> io::Result<()> + Send + Sync>;

/// Opens the recording of a live run as `view` opens a trace (its reader already running),
/// read up to (not including) the given line: the frames before the live window.
pub type HistoryHook = Arc<dyn Fn(Option<u64>) -> io::Result<(App, FeedReceiver)> + Send + Sync>;

/// How the loop runs.
#[derive(Clone)]
pub struct LoopOptions {
    /// At most one redraw per interval, however fast items arrive.
    pub redraw_every: Duration,
    /// Items taken from the feed per turn at most (the rest wait for the next turn).
    pub drain_max: usize,
    pub report: ReportTarget,
    /// End the loop when the feed closes (the live run stopped).
    pub quit_when_feed_closes: bool,
    /// `y` writes the OSC 52 sequence to standard output (the real terminal; off for a
    /// test backend).
    pub clipboard: bool,
    /// Where `i`'s CALLs go (the live pipeline's injection; `None`: nowhere, the key says
    /// why).
    pub inject: Option<Arc<dyn act::InjectPort>>,
    /// How Ctrl-E in the form of `i` edits the payload (`None`: it says there is no
    /// editor).
    pub editor: Option<EditHook>,
    /// Opens the recording behind a live screen's window, read up to (not including) the
    /// given line (`None`: no recording; moving past the window says so).
    pub history: Option<HistoryHook>,
}

impl std::fmt::Debug for LoopOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopOptions")
            .field("redraw_every", &self.redraw_every)
            .field("drain_max", &self.drain_max)
            .field("report", &self.report)
            .field("quit_when_feed_closes", &self.quit_when_feed_closes)
            .field("clipboard", &self.clipboard)
            .field("inject", &self.inject.is_some())
            .field("editor", &self.editor.is_some())
            .field("history", &self.history.is_some())
            .finish()
    }
}

impl LoopOptions {
    pub fn new(report: ReportTarget) -> Self {
        LoopOptions {
            redraw_every: Duration::from_millis(50),
            drain_max: 20_000,
            report,
            quit_when_feed_closes: false,
            clipboard: false,
            inject: None,
            editor: None,
            history: None,
        }
    }
}
/// Runs the UI until the user quits, `stop` is set, or (if asked) the feed closes.
/// Redraws only when something changed, and at most once per `redraw_every`.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut feed: Option<&mut FeedReceiver>,
    input: &mut impl InputSource,
    opts: &LoopOptions,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut rate_since = Instant::now();
    let mut rate_frames = app.totals.frames;
    let mut items = Vec::new();
    // The recording behind a live screen's window, while it is shown (see `app/behind.rs`).
    let mut behind: Option<(App, FeedReceiver)> = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if let Some(rx) = feed.as_deref_mut() {
            if app.take_from(rx, opts.drain_max, &mut items) {
                dirty = true;
            }
            let dropped = rx.dropped();
            if dropped != app.feed_dropped {
                app.feed_dropped = dropped;
                dirty = true;
            }
            let elapsed = rate_since.elapsed();
            if app.live && elapsed >= Duration::from_secs(1) {
                #[expect(clippy::cast_precision_loss, reason = "frame counts far below 2^52")]
                let rate = (app.totals.frames - rate_frames) as f64 / elapsed.as_secs_f64();
                app.rate = Some(rate);
                rate_since = Instant::now();
                rate_frames = app.totals.frames;
                dirty = true;
            }
            if rx.is_closed() && opts.quit_when_feed_closes {
                terminal
                    .draw(|f| ui::draw(f, app))
                    .map_err(|e| io::Error::other(e.to_string()))?;
                return Ok(());
            }
        }
        if let Some((past, rx)) = behind.as_mut()
            && past.take_from(rx, opts.drain_max, &mut items)
        {
            dirty = true;
        }
        let due = last_draw.is_none_or(|t| t.elapsed() >= opts.redraw_every);
        if dirty && due {
            let shown: &App = behind.as_ref().map_or(&*app, |(past, _)| past);
            terminal
                .draw(|f| ui::draw(f, shown))
                .map_err(|e| io::Error::other(e.to_string()))?;
            dirty = false;
            last_draw = Some(Instant::now());
        }
        let wait = match last_draw {
            Some(t) if dirty => opts.redraw_every.saturating_sub(t.elapsed()),
            _ => opts.redraw_every,
        };
        let Some(event) = input.next(wait.max(Duration::from_millis(1)))? else {
            continue;
        };
        dirty = true;
        let target: &mut App = match behind.as_mut() {
            Some((past, _)) => past,
            None => app,
        };
        if let Ok(size) = terminal.size() {
            target.set_frames_rows(ui::frames_rows(
                target,
                ratatui::layout::Rect::new(0, 0, size.width, size.height),
            ));
        }
        let mut effects = Vec::new();
        for action in input::actions_for(&event, target.mode) {
            if let Some(e) = target.apply(action) {
                effects.push(e);
            }
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::History { from_top } => match &opts.history {
                    Some(open) => match open(app.window_first_line()) {
                        Ok((mut past, rx)) => {
                            past.show_as_behind(from_top);
                            past.no_color = app.no_color;
                            behind = Some((past, rx));
                        }
                        Err(e) => app.message = Some(format!("cannot read the recording: {e}")),
                    },
                    None => app.message = Some("no recording to read older frames from".into()),
                },
                // Dropping the feed stops its reader.
                Effect::CloseHistory => behind = None,
                other => {
                    let target: &mut App = match behind.as_mut() {
                        Some((past, _)) => past,
                        None => app,
                    };
                    perform(other, target, terminal, opts)?;
                }
            }
        }
    }
}

/// Carries out what the app asked for (the effects that stay on one screen).
fn perform<B: Backend>(
    effect: Effect,
    app: &mut App,
    terminal: &mut Terminal<B>,
    opts: &LoopOptions,
) -> io::Result<()> {
    match effect {
        Effect::Quit | Effect::History { .. } | Effect::CloseHistory => {}
        Effect::Export { frame_only } => {
            let path = std::path::Path::new(app.export_input.trim()).to_owned();
            let done = if frame_only {
                export::write_frame(app, &path)
            } else {
                export::write_filtered(app, &path)
            };
            app.message = Some(done.unwrap_or_else(|e| format!("not exported: {e}")));
        }
        Effect::Copy => {
            app.message = Some(match export::selected_text(app) {
                Ok(text) if opts.clipboard => match copy_to_clipboard(&export::osc52(&text)) {
                    Ok(()) => format!(
                        "{} bytes copied (OSC 52: if the clipboard stays empty, the terminal does not allow it)",
                        text.len()
                    ),
                    Err(e) => format!("not copied: {e}"),
                },
                Ok(_) => "not copied: no terminal to copy through".to_owned(),
                Err(e) => format!("not copied: {e}"),
            });
        }
        Effect::Edit => {
            let edited = match (&opts.editor, app.act_payload_for_editor()) {
                (Some(edit), Some(text)) => edit_text(edit, &text),
                (None, _) => Err(EditError::NoEditor),
                (_, None) => Ok(String::new()),
            };
            app.act_edited(edited);
            // The editor had the screen: draw it all again.
            terminal
                .clear()
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        Effect::Inject => {
            if let Some((station, action, payload)) = app.take_act_request() {
                match &opts.inject {
                    Some(port) => port.inject(&station, action, payload),
                    None => app.on_item(feed::FeedItem::Injected {
                        station,
                        action: action.into(),
                        id: None,
                        outcome: Err("this screen has no way to send (--allow-inject)".to_owned()),
                    }),
                }
            }
        }
        Effect::WriteReport => {
            app.message = Some(match write_report(app, &opts.report) {
                Ok(()) => format!("report written to {}", opts.report.path.display()),
                Err(e) => format!("report not written: {e}"),
            });
        }
    }
    Ok(())
}

/// Why the payload could not go through `$EDITOR` (the status line shows it).
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("no editor here (set $EDITOR)")]
    NoEditor,
    #[error("cannot create a temporary file: {0}")]
    TempFile(io::Error),
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Editor(io::Error),
    #[error("cannot read {} back: {source}", .path.display())]
    ReadBack { path: PathBuf, source: io::Error },
}

/// Puts `text` in a temporary file, lets `edit` change it, and reads it back.
fn edit_text(edit: &EditHook, text: &str) -> Result<String, EditError> {
    let mut file = tempfile::Builder::new()
        .prefix("ocpp-inspector-payload-")
        .suffix(".json")
        .tempfile()
        .map_err(EditError::TempFile)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|source| EditError::Write {
            path: file.path().to_owned(),
            source,
        })?;
    edit(file.path()).map_err(EditError::Editor)?;
    std::fs::read_to_string(file.path()).map_err(|source| EditError::ReadBack {
        path: file.path().to_owned(),
        source,
    })
}

/// The editor of `$VISUAL` or `$EDITOR` (else `vi`), run on the real terminal: the screen
/// is given back while it runs and taken again after.
pub fn terminal_editor() -> EditHook {
    Arc::new(|path: &std::path::Path| {
        let cmd = std::env::var("VISUAL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| {
                std::env::var("EDITOR")
                    .ok()
                    .filter(|v| !v.trim().is_empty())
            })
            .unwrap_or_else(|| "vi".to_owned());
        let mut words = cmd.split_whitespace();
        let program = words.next().unwrap_or("vi").to_owned();
        terminal::suspend();
        let status = std::process::Command::new(&program)
            .args(words)
            .arg(path)
            .status();
        terminal::resume()?;
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(io::Error::other(format!("`{cmd}` ended with {s}"))),
            Err(e) => Err(io::Error::new(e.kind(), format!("cannot run `{cmd}`: {e}"))),
        }
    })
}

/// Writes an OSC 52 sequence to the terminal (standard output, where the UI draws).
fn copy_to_clipboard(seq: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(seq)?;
    out.flush()
}

/// Writes the findings the UI holds as the JSON report of `check`.
pub fn write_report(app: &App, target: &ReportTarget) -> io::Result<()> {
    let mut findings: Vec<_> = app.findings.iter().map(|r| r.finding.clone()).collect();
    findings.sort_by_key(|f| f.line);
    let mut input_errors = Vec::new();
    let left_out = app.totals.findings_out_of_view;
    if left_out > 0 {
        input_errors.push(InputError {
            line: 0,
            message: format!(
                "{left_out} older findings had left the UI's view and are not in this report"
            ),
        });
    }
    if app.feed_dropped > 0 {
        input_errors.push(InputError {
            line: 0,
            message: format!(
                "{} items never reached the UI (it lagged); the recording has them",
                app.feed_dropped
            ),
        });
    }
    let result = FileResult {
        path: target.trace.clone(),
        findings,
        input_errors,
        stats: Stats {
            frames: app.totals.frames,
            connections: app.conns.len() as u64,
        },
        notes: Vec::new(),
    };
    let mut buf = Vec::new();
    json::write(&mut buf, std::slice::from_ref(&result), &target.info)?;
    std::fs::write(&target.path, buf)
        .map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", target.path.display())))
}

/// `NO_COLOR` is set to something (<https://no-color.org>).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Shows `app` on the real terminal until the user quits or `stop` is set (a recorded
/// trace; `feed`: what its reader still hands over while it indexes the trace).
pub fn run_view(
    mut app: App,
    mut feed: Option<FeedReceiver>,
    report: ReportTarget,
    stop: Arc<AtomicBool>,
) -> io::Result<()> {
    app.no_color = no_color();
    let mut screen = terminal::enter()?;
    let mut opts = LoopOptions::new(report);
    opts.clipboard = true;
    let result = run_loop(
        &mut screen.terminal,
        &mut app,
        feed.as_mut(),
        &mut Crossterm,
        &opts,
        &stop,
    );
    drop(screen);
    result
}

/// Shows a live feed on the real terminal until the user quits, `stop` is set (the proxy
/// was told to stop from outside) or the feed closes.
/// `inject`: where the CALLs of `i` go (`None`: acting on a station is off); `history`:
/// how to open the recording for the frames before the window (`None`: no recording).
pub fn run_live(
    mut app: App,
    mut feed: FeedReceiver,
    report: ReportTarget,
    stop: Arc<AtomicBool>,
    inject: Option<Arc<dyn act::InjectPort>>,
    history: Option<HistoryHook>,
) -> io::Result<App> {
    app.recording_behind = history.is_some();
    app.live = true;
    app.no_color = no_color();
    let mut screen = terminal::enter()?;
    let mut opts = LoopOptions::new(report);
    opts.quit_when_feed_closes = true;
    opts.clipboard = true;
    opts.inject = inject;
    opts.editor = Some(terminal_editor());
    opts.history = history;
    let result = run_loop(
        &mut screen.terminal,
        &mut app,
        Some(&mut feed),
        &mut Crossterm,
        &opts,
        &stop,
    );
    drop(screen);
    result.map(|()| app)
}
