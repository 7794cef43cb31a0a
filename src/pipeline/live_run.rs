//! The one assembly of a live run, used by `proxy`, `testcase run --live` and `demo`:
//!
//! ```text
//! LiveRun::new(engine, proxy config, fail_on)
//!     .record(path) .report(path, info) .lines() | .screen(…) .sink(…) .wire(…)
//!     .stop_when(future)
//!     .run(…)  (sync: runtime → bind → consumer → relay → screen on this thread → finish)
//!  or .start().await → Running … Running::finish().await  (async, for the demo)
//! ```
//!
//! The screen's `i` sends through a port made here ([`Bound::inject_port`]: the proxy's
//! injection, its outcome back through the screen's feed), only when the screen was given
//! the catalog of `--allow-inject`.
//!
//! Shutdown order is decided here once: the stop (a signal, a timer, the screen's `q`) ends
//! the relay; the consumer then drains the tap, finishes the engine, the recording and the
//! sinks, in that order. It knows no test cases and handles no signals: callers pass sinks
//! (and what to wire once the proxy is bound) and the future that says stop.

use std::fs::File;
use std::future::Future;
use std::io::{self, BufWriter};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::consumer::{Consumer, Inspector, spawn};
use crate::engine::Engine;
use crate::finding::Severity;
use crate::sink::json_report::JsonReport;
use crate::sink::recorder::SharedRecorder;
use crate::sink::report::RunInfo;
use crate::sink::stderr_lines::StderrLines;
use crate::sink::tui::act::{ActCatalog, InjectPort};
use crate::sink::tui::app::{App, CaseInfo, Limits};
use crate::sink::tui::feed::FeedItem;
use crate::sink::tui::feed::{self, FeedReceiver, FeedSender, TuiSink};
use crate::sink::tui::{self, HistoryHook, ReportTarget};
use crate::sink::{LiveOutcome, LiveSink};
use crate::source::proxy::tap::TapLimits;
use crate::source::proxy::{InjectedReply, Proxy, ProxyConfig, ProxyHandle, ProxyStats};

/// The live screen of a run.
pub struct Screen {
    pub title: String,
    pub limits: Limits,
    /// Where `w` writes the report.
    pub report: ReportTarget,
    /// The test cases of the Cases pane (none: no pane).
    pub cases: Option<Vec<CaseInfo>>,
    /// On the status line until a notice replaces it.
    pub notice: Option<String>,
    /// `i` sends CALLs to the stations through the proxy, with the templates of this
    /// catalog (`--allow-inject`); `None`: acting on a station is off.
    pub acting: Option<Arc<ActCatalog>>,
    /// Opens the recording for the frames before the window (when the run is recorded).
    pub history: Option<HistoryHook>,
}

/// A live screen taken apart, to run the UI loop elsewhere (tests drive it on a
/// `TestBackend`).
pub struct ScreenParts {
    pub app: App,
    pub feed: FeedReceiver,
    /// Where `i`'s CALLs go (with `--allow-inject`).
    pub inject: Option<Arc<dyn InjectPort>>,
    pub history: Option<HistoryHook>,
}

/// How long a CALL sent from the screen waits for the charger's answer.
pub const SCREEN_INJECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The screen's way to send a CALL: the proxy's injection (the path test cases use, so the
/// frames are recorded marked injected and judged), run on the runtime; the outcome goes to
/// the screen's feed.
struct ProxyPort {
    proxy: ProxyHandle,
    runtime: tokio::runtime::Handle,
    feed: FeedSender,
}

impl InjectPort for ProxyPort {
    fn inject(&self, station: &str, action: &str, payload: serde_json::Value) {
        let (proxy, feed) = (self.proxy.clone(), self.feed.clone());
        let (station, action) = (Arc::<str>::from(station), action.to_owned());
        self.runtime.spawn(async move {
            let sent = proxy
                .inject(&station, &action, payload, SCREEN_INJECT_TIMEOUT)
                .await;
            let (id, outcome) = match sent {
                Ok(InjectedReply::Result { id, payload }) => (Some(id), Ok(payload.to_string())),
                Ok(InjectedReply::Error {
                    id,
                    code,
                    description,
                    ..
                }) => (Some(id), Ok(format!("CALLERROR {code} {description}"))),
                Err(e) => (None, Err(e.to_string())),
            };
            let item = FeedItem::Injected {
                station,
                action: action.into(),
                id: id.map(Box::from),
                outcome: outcome.map(|s| crate::finding::shorten(&s, 200).into()),
            };
            // The outcome must not be dropped like a lagging frame: wait for room, off the
            // runtime's workers.
            let _ = tokio::task::spawn_blocking(move || feed.send_wait(item)).await;
        });
    }
}

impl Bound {
    /// The port `i` sends through (`None` without a screen).
    pub fn inject_port(&self) -> Option<Arc<dyn InjectPort>> {
        Some(Arc::new(ProxyPort {
            proxy: self.proxy.clone(),
            runtime: self.runtime.clone(),
            feed: self.feed.clone()?,
        }))
    }
}

/// The bound proxy, for what is wired once it listens (injection, the screen's title).
pub struct Bound {
    pub scheme: &'static str,
    pub local_addr: SocketAddr,
    pub proxy: ProxyHandle,
    pub runtime: tokio::runtime::Handle,
    /// The screen's feed, when the run has a screen.
    pub feed: Option<FeedSender>,
}

type Wire = Box<dyn FnOnce(&Bound) -> Vec<Box<dyn LiveSink>> + Send>;
type MakeScreen = Box<dyn FnOnce(&Bound) -> Screen + Send>;
type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A live run, before it runs.
pub struct LiveRun {
    engine: Engine,
    proxy: ProxyConfig,
    fail_on: Severity,
    record: Option<PathBuf>,
    report: Option<(PathBuf, RunInfo)>,
    lines: bool,
    screen: Option<MakeScreen>,
    sinks: Vec<Box<dyn LiveSink>>,
    wire: Option<Wire>,
    stop: Option<Stop>,
    /// Seconds a station may stay gone before the engine forgets it (0: never).
    forget_after: u64,
    /// The proxy instance named on the recording's open records.
    instance: Option<String>,
}

/// How a live run ended.
#[derive(Debug)]
pub struct LiveEnd {
    pub outcome: LiveOutcome,
    /// What the relay counted.
    pub relay: ProxyStats,
    /// The screen failed (the verdicts are not affected).
    pub ui_error: Option<io::Error>,
}

impl LiveRun {
    pub fn new(engine: Engine, proxy: ProxyConfig, fail_on: Severity) -> Self {
        LiveRun {
            engine,
            proxy,
            fail_on,
            record: None,
            report: None,
            lines: false,
            screen: None,
            sinks: Vec::new(),
            wire: None,
            stop: None,
            forget_after: 0,
            instance: None,
        }
    }

    /// The engine forgets a station that closed and stayed away this many seconds (0:
    /// never), so a long run remembers the stations that are around, not every one seen.
    pub fn forget_after(mut self, seconds: u64) -> Self {
        self.forget_after = seconds;
        self
    }

    /// Records every event to this file: written whole by the relay itself before it
    /// forwards the frame (the evidence path; see [`crate::sink::recorder::SharedRecorder`]),
    /// so nothing a peer received is missing from it, not even after a kill -9.
    pub fn record(mut self, path: Option<PathBuf>) -> Self {
        self.record = path;
        self
    }

    /// Names this proxy instance on every open record of the recording.
    pub fn instance(mut self, name: Option<String>) -> Self {
        self.instance = name;
        self
    }

    /// Writes the JSON report of `check` to this file at the end; its findings name the
    /// recording, when there is one.
    pub fn report(mut self, path: Option<PathBuf>, info: RunInfo) -> Self {
        self.report = path.map(|p| (p, info));
        self
    }

    /// One line per finding, open, close and notice on stderr.
    pub fn lines(mut self) -> Self {
        self.lines = true;
        self
    }

    /// The live screen, made once the proxy is bound (its title may name the address).
    pub fn screen(mut self, make: impl FnOnce(&Bound) -> Screen + Send + 'static) -> Self {
        self.screen = Some(Box::new(make));
        self
    }

    /// A sink of the caller's.
    pub fn sink(mut self, sink: Box<dyn LiveSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Sinks that need the bound proxy (an injector) or the screen's feed.
    pub fn wire(
        mut self,
        f: impl FnOnce(&Bound) -> Vec<Box<dyn LiveSink>> + Send + 'static,
    ) -> Self {
        self.wire = Some(Box::new(f));
        self
    }

    /// The run stops when this future ends (a signal, a timer), or when the screen quits.
    pub fn stop_when(mut self, f: impl Future<Output = ()> + Send + 'static) -> Self {
        self.stop = Some(Box::pin(f));
        self
    }

    /// Binds the proxy, creates the files, starts the consumer and the relay. Call inside
    /// a tokio runtime. A taken port, a bad certificate or a file that cannot be created is
    /// an error here, before anything is recorded.
    pub async fn start(self) -> Result<Running> {
        let proxy = Proxy::bind(self.proxy).await?;
        let mut inspector = Inspector::new(self.engine, self.fail_on);
        if self.forget_after > 0 {
            inspector = inspector.forget_after(std::time::Duration::from_secs(self.forget_after));
        }
        let (feed_tx, feed_rx) = if self.screen.is_some() {
            let (tx, rx) = feed::channel(feed::LIVE_CAPACITY);
            inspector = inspector.sink(TuiSink::new(tx.clone()));
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        if self.lines {
            inspector = inspector.sink(StderrLines::stderr());
        }
        // `OCPP_INSPECTOR_RECORD_AFTER_INSPECTION=1` restores the old path (recorded by the
        // inspection thread, behind the tap, where frames can be missing), for an A/B
        // benchmark only.
        let after_inspection = std::env::var_os("OCPP_INSPECTOR_RECORD_AFTER_INSPECTION").is_some();
        let mut recorder = None;
        if let Some(path) = &self.record {
            let file = File::create(path)
                .with_context(|| format!("creating the recording {}", path.display()))?;
            if after_inspection {
                inspector = inspector.record_to(BufWriter::new(file));
            } else {
                recorder = Some(Arc::new(
                    SharedRecorder::new(file).with_instance(self.instance.as_deref()),
                ));
            }
        }
        if let Some((path, info)) = self.report {
            // Fail now rather than after hours of traffic.
            File::create(&path)
                .with_context(|| format!("creating the report {}", path.display()))?;
            inspector = inspector.sink(JsonReport::new(path, self.record.clone(), info));
        }
        for s in self.sinks {
            inspector = inspector.sink_boxed(s);
        }
        let bound = Bound {
            scheme: proxy.scheme(),
            local_addr: proxy.local_addr(),
            proxy: proxy.handle(),
            runtime: tokio::runtime::Handle::current(),
            feed: feed_tx,
        };
        if let Some(wire) = self.wire {
            for s in wire(&bound) {
                inspector = inspector.sink_boxed(s);
            }
        }
        let screen = match (self.screen, feed_rx) {
            (Some(make), Some(rx)) => Some((make(&bound), rx)),
            _ => None,
        };
        let (tap, consumer) = spawn(inspector, TapLimits::default());
        let tap = match &recorder {
            Some(r) => tap.recording(r.clone()),
            None => tap,
        };
        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        if let Some(trigger) = self.stop {
            let on_stop = stop.clone();
            tokio::spawn(async move {
                trigger.await;
                let _ = on_stop.send(true);
                // Keep the sender alive: dropping it also means shutdown.
                on_stop.closed().await;
            });
        }
        let relay = tokio::spawn(proxy.run(tap, stopped));
        Ok(Running {
            bound,
            screen,
            stop,
            relay,
            consumer,
            recorder,
            report: None,
        })
    }

    /// The whole run on a runtime of its own: the screen (if any) on this thread until the
    /// user quits or the run stops; `started` is told where the proxy listens.
    pub fn run(self, started: impl FnOnce(&Bound)) -> Result<LiveEnd> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            // A worker going idle hands back what its allocator heap keeps, once per trim
            // epoch (the proxy starts one after large messages or a connection's end).
            .on_thread_park(crate::alloc_trim::idle)
            .build()
            .context("starting the async runtime")?;
        let mut running = runtime.block_on(self.start())?;
        started(&running.bound);
        // The screen runs here while the runtime's threads relay; it ends when the user
        // quits (which stops the run) or the run stops (the feed closes). Without a screen
        // the run goes on until its stop future ends.
        let mut ui_error = None;
        if running.screen.is_some() {
            ui_error = running.show().err();
            running.stop();
        }
        let mut end = runtime.block_on(running.finish())?;
        end.ui_error = ui_error;
        Ok(end)
    }
}

/// A live run under way.
pub struct Running {
    pub bound: Bound,
    screen: Option<(Screen, FeedReceiver)>,
    stop: Arc<watch::Sender<bool>>,
    relay: JoinHandle<ProxyStats>,
    consumer: Consumer,
    recorder: Option<Arc<SharedRecorder>>,
    /// Where the screen's `w` writes (kept when the screen is taken).
    report: Option<ReportTarget>,
}

impl Running {
    /// Shows the live screen on this thread until the user quits or the feed closes (a
    /// no-op without a screen).
    pub fn show(&mut self) -> io::Result<()> {
        let Some(parts) = self.take_screen() else {
            return Ok(());
        };
        tui::run_live(
            parts.app,
            parts.feed,
            self.report_target(),
            Arc::new(AtomicBool::new(false)),
            parts.inject,
            parts.history,
        )
        .map(|_| ())
    }

    /// The screen's app, feed, injection port and recording opener, to run the UI loop
    /// elsewhere; `None` without a screen or once taken.
    pub fn take_screen(&mut self) -> Option<ScreenParts> {
        let (mut screen, feed) = self.screen.take()?;
        let inject = screen
            .acting
            .is_some()
            .then(|| self.bound.inject_port())
            .flatten();
        self.report = Some(screen.report.clone());
        let history = screen.history.take();
        let mut app = app_of(screen);
        app.recording_behind = history.is_some();
        Some(ScreenParts {
            app,
            feed,
            inject,
            history,
        })
    }

    fn report_target(&self) -> ReportTarget {
        self.report.clone().unwrap_or_else(|| ReportTarget {
            path: PathBuf::from("ocpp-inspector-report.json"),
            trace: PathBuf::from("proxy"),
            info: RunInfo {
                schemas: String::new(),
                fail_on: Severity::Error,
            },
        })
    }

    /// Asks the relay to stop (every connection is closed with 1001).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits for the relay to stop and the consumer to finish (recording flushed, sinks
    /// finished).
    pub async fn finish(self) -> Result<LiveEnd> {
        let relay = self
            .relay
            .await
            .map_err(|e| anyhow::anyhow!("the relay task failed: {e}"))?;
        let mut outcome = self.consumer.finish().await?;
        if let Some(r) = &self.recorder {
            let rec = r.finish();
            if rec.lost > 0 {
                outcome.problems.push(format!(
                    "{} records could not be written to the recording ({}); a gap record marks where",
                    rec.lost,
                    rec.first_error.as_deref().unwrap_or("write failed")
                ));
            }
        }
        Ok(LiveEnd {
            outcome,
            relay,
            ui_error: None,
        })
    }
}

/// The app of a live screen, before anything was fed to it.
pub fn app_of(screen: Screen) -> App {
    let mut app = App::new(screen.title, screen.limits);
    if let Some(cases) = screen.cases {
        app.set_cases(cases);
    }
    if let Some(catalog) = screen.acting {
        app.allow_acting(catalog);
    }
    app.notice = screen.notice;
    app.live = true;
    app.recording_behind = screen.history.is_some();
    app
}

/// Shows a live feed on the real terminal until the user quits or the feed closes
/// (`port`: where `i`'s CALLs go, when the screen allows them).
pub fn show(screen: Screen, rx: FeedReceiver, port: Option<Arc<dyn InjectPort>>) -> io::Result<()> {
    let report = screen.report.clone();
    let history = screen.history.clone();
    tui::run_live(
        app_of(screen),
        rx,
        report,
        Arc::new(AtomicBool::new(false)),
        port,
        history,
    )
    .map(|_| ())
}
