//! `ocpp-inspector view TRACE.jsonl`: judges a recorded trace with the engine (the options
//! of `check`) and opens the result in the terminal UI. Without a terminal on standard
//! output it says so and exits 2, pointing to `check`.
//!
//! It prints nothing else; the judging is the engine's, the showing [`crate::sink::tui`]'s.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::args::{EngineArgs, InputArgs, build_config};
use super::check::FailOn;
use super::exit;
use crate::engine::{Config, Engine, FeedError, SchemaSet};
use crate::ocpp::Version;
use crate::sink::report::RunInfo;
use crate::sink::tui::app::{App, Limits};
use crate::sink::tui::feed::judge_into;
use crate::sink::tui::{self, ReportTarget};
use crate::source::input::{self, InputOptions, Item};
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

    /// Frames the UI keeps in view (the oldest leave first)
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_frames)]
    pub max_frames: usize,
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
        max_frames: args.max_frames,
        ..Limits::default()
    };
    let app = load_traces(
        &args.traces,
        &args.input.options(),
        Arc::new(schemas),
        Arc::new(config),
        args.engine.ocpp,
        limits,
    )?;
    let report = ReportTarget {
        path: args.report.clone(),
        trace: args.traces.first().cloned().unwrap_or_default(),
        info,
    };
    tui::run_view(app, report, super::signal::interrupt_flag())
        .context("running the terminal UI")?;
    Ok(exit::CLEAN)
}

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
    load_traces(
        &[path.to_owned()],
        &InputOptions::default(),
        schemas,
        config,
        version,
        limits,
    )
}

/// [`load_trace`] for several inputs of any format, read one after the other.
pub fn load_traces(
    paths: &[PathBuf],
    input: &InputOptions,
    schemas: Arc<SchemaSet>,
    config: Arc<Config>,
    version: Option<Version>,
    limits: Limits,
) -> Result<App> {
    let title = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let mut app = App::new(title, limits);
    let mut engine = Engine::new(schemas, config, version);
    let mut found = Vec::new();
    let mut end: Option<Timestamp> = None;
    let mut bad: Vec<String> = Vec::new();
    for path in paths {
        let mut src =
            input::open(path, input).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        while let Some(item) = src.next_item() {
            let (n, line) = match item {
                Item::Line { pos, text } => (pos, text),
                Item::Problem(p) => {
                    bad.push(format!("{}: {}", path.display(), p.message));
                    continue;
                }
                Item::Note(_) => continue,
            };
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
            if let Err(FeedError::NoVersion { conn }) =
                judge_into(&mut engine, &event, &mut found, &mut app)
            {
                app.notice = Some(format!(
                    "{conn}: no open event and no --ocpp version; only framing is checked"
                ));
            }
        }
    }
    if let Some(end) = end {
        engine.finish(end, &mut found);
        for f in found.drain(..) {
            app.on_finding(f);
        }
    }
    if let Some(first) = bad.first() {
        app.notice = Some(format!(
            "{} unreadable line(s) skipped, first: {first}",
            bad.len()
        ));
    }
    Ok(app)
}
