//! `ocpp-inspector view TRACE.jsonl`: judges a recorded trace with the engine (the options
//! of `check`) and opens the result in the terminal UI. Without a terminal on standard
//! output it says so and exits 2, pointing to `check`.
//!
//! It prints nothing else; the judging is the engine's, the showing [`crate::sink::tui`]'s.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::args::{EngineArgs, InputArgs, build_config};
use super::check::FailOn;
use super::exit;
use crate::engine::{Config, Engine, FeedError, Observation, SchemaSet};
use crate::ocpp::Version;
use crate::sink::report::RunInfo;
use crate::sink::tui::app::{App, Limits, Progress};
use crate::sink::tui::feed::{self, FeedItem, Seen};
use crate::sink::tui::store::{LineStarts, TraceFile};
use crate::sink::tui::{self, ReportTarget};
use crate::source::input::{self, InputFormat, InputOptions, Item};
use crate::source::trace_reader::parse_record;
use crate::time::Timestamp;

#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The trace(s) to open, read one after the other: any format `check` reads
    #[arg(value_name = "TRACE", required = true)]
    pub traces: Vec<PathBuf>,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// Where the `w` key writes the JSON report (the format of `check --format json`)
    #[arg(
        long,
        value_name = "FILE",
        default_value = "ocpp-inspector-report.json"
    )]
    pub report: PathBuf,

    /// Frames the UI keeps in view (the oldest leave first); all of them by default (a
    /// plain JSON Lines trace costs about 100 bytes per frame: texts are read back when shown)
    #[arg(long, value_name = "N")]
    pub max_frames: Option<usize>,
}

pub fn run(args: &ViewArgs) -> Result<u8> {
    if !io::stdout().is_terminal() {
        eprintln!(
            "ocpp-inspector: view needs a terminal on standard output; for a report use `ocpp-inspector check {}`",
            args.traces
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        return Ok(exit::USAGE);
    }
    let schemas = args.engine.schemas()?;
    let config = build_config(&args.engine)?;
    let info = RunInfo {
        schemas: schemas.origin.clone(),
        fail_on: FailOn::Error.into(),
    };
    let limits = Limits {
        max_frames: args.max_frames.unwrap_or(usize::MAX),
        ..Limits::default()
    };
    let (mut app, indexer) = Indexer::open(
        &args.traces,
        &args.input.options(),
        Arc::new(schemas),
        Arc::new(config),
        args.engine.ocpp,
        limits,
    )?;
    app.loading = Some(Progress {
        done: 0,
        total: indexer.total,
    });
    app.start_at_top();
    // The screen opens at once; the trace is read and judged behind it. The reader waits
    // when the UI is behind, and stops when the UI is gone.
    let (tx, rx) = feed::channel(INDEX_CHANNEL);
    std::thread::Builder::new()
        .name("view-index".into())
        .spawn(move || indexer.run(&mut |item| tx.send_wait(item)))
        .context("starting the trace reader")?;
    let report = ReportTarget {
        path: args.report.clone(),
        trace: args.traces.first().cloned().unwrap_or_default(),
        info,
    };
    tui::run_view(app, Some(rx), report, super::signal::interrupt_flag())
        .context("running the terminal UI")?;
    Ok(exit::CLEAN)
}

/// How a live screen opens its recording for the frames before its window: read and
/// judged like `view` reads a trace, in a thread of its own, up to (not including) the line
/// of the window's first frame; the rows keep byte offsets, the texts are read back when
/// shown. The reader stops when the screen goes back to live (its feed is dropped).
pub fn history_hook(
    recording: PathBuf,
    schemas: Arc<SchemaSet>,
    config: Arc<Config>,
    version: Option<Version>,
) -> tui::HistoryHook {
    Arc::new(move |until: Option<u64>| {
        open_behind(&recording, schemas.clone(), config.clone(), version, until)
            .map_err(|e| io::Error::other(format!("{e:#}")))
    })
}

fn open_behind(
    recording: &Path,
    schemas: Arc<SchemaSet>,
    config: Arc<Config>,
    version: Option<Version>,
    until: Option<u64>,
) -> Result<(App, feed::FeedReceiver)> {
    let (mut app, indexer) = Indexer::open(
        &[recording.to_owned()],
        &InputOptions::default(),
        schemas,
        config,
        version,
        Limits {
            max_frames: usize::MAX,
            ..Limits::default()
        },
    )?;
    let name = recording.file_name().map_or_else(
        || recording.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    app.title = match until {
        Some(line) => format!("{name} before line {line}"),
        None => name,
    };
    app.loading = Some(Progress {
        done: 0,
        total: indexer.total,
    });
    let (tx, rx) = feed::channel(INDEX_CHANNEL);
    std::thread::Builder::new()
        .name("recording-index".into())
        .spawn(move || {
            let mut reached = false;
            indexer.run(&mut |item| {
                if let (Some(until), FeedItem::Indexed { seen, .. } | FeedItem::Seen(seen)) =
                    (until, &item)
                    && seen.line >= until
                {
                    reached = true;
                    return false;
                }
                tx.send_wait(item)
            });
            if reached {
                let _ = tx.send_wait(FeedItem::Loaded {
                    notice: Some("read up to the live window".into()),
                });
            }
        })
        .context("starting the recording reader")?;
    Ok((app, rx))
}

/// Items in flight from the trace reader to the screen.
const INDEX_CHANNEL: usize = 8192;

/// Lines between two progress reports.
const PROGRESS_EVERY: u64 = 4096;

/// Reads and judges a trace into a fresh [`App`]: every event, then the findings the engine
/// gave for it (and at the end of the trace, the time-based ones). Unreadable lines are
/// counted in the app's notice; an unreadable file is an error naming it.
pub fn load_trace(
    path: &Path,
    schemas: Arc<SchemaSet>,
    config: Arc<Config>,
    version: Option<Version>,
    limits: Limits,
) -> Result<App> {
    let paths = [path.to_owned()];
    let input = InputOptions::default();
    let (mut app, indexer) = Indexer::open(&paths, &input, schemas, config, version, limits)?;
    indexer.run(&mut |item| {
        app.on_item(item);
        true
    });
    Ok(app)
}

/// The inputs of `view`, opened, and the engine that judges them: [`Indexer::run`] hands
/// out what the UI is fed.
pub struct Indexer {
    sources: Vec<(PathBuf, Box<dyn input::Source + Send>)>,
    /// The byte offsets of the records, when the one input is a plain JSON Lines file
    /// (the rows then keep offsets, not texts).
    starts: Option<LineStarts<File>>,
    /// Bytes to read (0: unknown).
    pub total: u64,
    engine: Engine,
}

impl Indexer {
    /// Opens every input (an error names the one that failed) and a fresh [`App`] for
    /// them, set to read frames back from the trace file when it can.
    pub fn open(
        paths: &[PathBuf],
        input: &InputOptions,
        schemas: Arc<SchemaSet>,
        config: Arc<Config>,
        version: Option<Version>,
        limits: Limits,
    ) -> Result<(App, Indexer)> {
        let title = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let mut app = App::new(title, limits);
        let mut sources = Vec::new();
        for path in paths {
            let src =
                input::open(path, input).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            sources.push((path.clone(), src));
        }
        let mut starts = None;
        let mut total = 0;
        if let [(path, src)] = sources.as_slice()
            && src.format() == InputFormat::Jsonl
            && path.as_os_str() != "-"
            && !is_gzip(path)
        {
            let file = TraceFile::open(path)
                .with_context(|| format!("{}: opening it to read frames", path.display()))?;
            let reader = File::open(path).with_context(|| format!("{}", path.display()))?;
            total = reader.metadata().map_or(0, |m| m.len());
            starts = Some(LineStarts::new(reader));
            app.set_store(Arc::new(file));
        }
        let engine = Engine::new(schemas, config, version);
        Ok((
            app,
            Indexer {
                sources,
                starts,
                total,
                engine,
            },
        ))
    }

    /// Reads and judges every input, handing each item to `emit` (which returns false when
    /// nobody listens any more: reading stops), and last [`FeedItem::Loaded`].
    pub fn run(mut self, emit: &mut dyn FnMut(FeedItem) -> bool) {
        let mut found = Vec::new();
        let mut end: Option<Timestamp> = None;
        let mut bad: Vec<String> = Vec::new();
        let mut lines = 0u64;
        for (path, mut src) in std::mem::take(&mut self.sources) {
            while let Some(item) = src.next_item() {
                let (n, line) = match item {
                    Item::Line { pos, text } => (pos, text),
                    Item::Problem(p) => {
                        bad.push(format!("{}: {}", path.display(), p.message));
                        continue;
                    }
                    Item::Note(_) => continue,
                };
                let offset = match self.starts.as_mut().map(|s| s.start_of(n)) {
                    Some(Ok(Some(o))) => Some(o),
                    Some(Ok(None) | Err(_)) => {
                        // The file changed under us: read on, keeping texts from here.
                        self.starts = None;
                        None
                    }
                    None => None,
                };
                lines += 1;
                if lines.is_multiple_of(PROGRESS_EVERY)
                    && !emit(FeedItem::Progress {
                        done: offset.unwrap_or(0),
                        total: self.total,
                    })
                {
                    return;
                }
                let record = match parse_record(line, n) {
                    Ok(r) => r,
                    Err(e) => {
                        bad.push(e.to_string());
                        continue;
                    }
                };
                end = Some(end.map_or(record.at, |m| m.max(record.at)));
                let Some(event) = record.event(n) else {
                    continue;
                };
                found.clear();
                let mut open = true;
                let fed = self
                    .engine
                    .feed_observed(&event, &mut found, &mut |o: &Observation<'_>| {
                        let seen = Seen::of(o);
                        let item = match offset {
                            Some(offset) => FeedItem::Indexed { seen, offset },
                            None => FeedItem::Seen(seen),
                        };
                        open &= emit(item);
                    });
                if let Err(FeedError::NoVersion { conn }) = fed {
                    open &= emit(FeedItem::Notice {
                        conn: Arc::from(conn.as_str()),
                        text: "no open event and no --ocpp version; only framing is checked".into(),
                    });
                }
                for f in found.drain(..) {
                    open &= emit(FeedItem::Finding(Box::new(f)));
                }
                if !open {
                    return;
                }
            }
        }
        if let Some(end) = end {
            found.clear();
            self.engine.finish(end, &mut found);
            for f in found.drain(..) {
                if !emit(FeedItem::Finding(Box::new(f))) {
                    return;
                }
            }
        }
        let done = self.total;
        if !emit(FeedItem::Progress {
            done,
            total: self.total,
        }) {
            return;
        }
        let notice = bad
            .first()
            .map(|first| format!("{} unreadable line(s) skipped, first: {first}", bad.len()));
        emit(FeedItem::Loaded { notice });
    }
}

/// The file starts with the gzip magic (its lines are no byte offsets into it).
fn is_gzip(path: &Path) -> bool {
    let mut head = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head == [0x1f, 0x8b])
}
