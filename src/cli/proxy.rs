//! `ocpp-inspector proxy`: the man-in-the-middle proxy between chargers and a CSMS, with
//! the live screen ([`crate::sink::tui`]) when standard output is a terminal (findings
//! streamed to stderr otherwise, or with `--no-tui`), an optional trace recording and JSON
//! report, and the exit code of `check` at shutdown (`q` in the screen, Ctrl-C or SIGTERM). Flags → [`ProxyConfig`] and an
//! [`Inspector`]; the work is in [`crate::source::proxy`] and [`crate::live`].

use std::fs::File;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use clap::Args;

use super::args::{EngineArgs, ProxyArgs, build_config};
use super::check::FailOn;
use super::exit;
use crate::engine::Engine;
use crate::finding::Severity;
use crate::live::{Inspector, JsonReport, StderrLines, wait_for_signal};
use crate::sink::recorder::SharedRecorder;
use crate::sink::report::RunInfo;
use crate::sink::tui::app::{App, Limits};
use crate::sink::tui::feed::{self, TuiSink};
use crate::sink::tui::{self, ReportTarget};
use crate::source::proxy::Proxy;
use crate::source::proxy::tap::TapLimits;

#[derive(Debug, Args)]
#[command(
    mut_arg("listen", |a| a.required(true)),
    mut_arg("upstream", |a| a.required(true))
)]
pub struct ProxyCommandArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,

    /// Record every event to a JSON Lines trace (the format `check` reads), flushed per record
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Write the JSON report of `check` at exit
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// No live screen: stream findings to stderr (the default when stdout is no terminal)
    #[arg(long)]
    pub no_tui: bool,

    /// Frames the live screen keeps in view; older ones leave the view (never the recording)
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_frames)]
    pub max_frames: usize,

    /// Lowest severity that makes the exit code 1 at shutdown
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Whether two paths name one file (the same path, or one existing file reached twice).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        // Not both there yet: compare the folders they would be created in.
        _ => {
            let parent = |p: &std::path::Path| {
                let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
                std::fs::canonicalize(dir.unwrap_or(std::path::Path::new("."))).ok()
            };
            a.file_name() == b.file_name() && parent(a).is_some() && parent(a) == parent(b)
        }
    }
}

pub fn run(args: &ProxyCommandArgs) -> Result<u8> {
    let schemas = args.engine.schemas()?;
    for note in &schemas.notes {
        eprintln!("ocpp-inspector: note: {note}");
    }
    let fail_on: Severity = args.fail_on.into();
    let info = RunInfo {
        schemas: schemas.origin.clone(),
        fail_on,
    };
    let engine = Engine::new(
        Arc::new(schemas),
        Arc::new(build_config(&args.engine)?),
        args.engine.ocpp,
    );
    let config = args.proxy.proxy_config()?;
    if let Some(t) = &config.listen_tls {
        for w in crate::source::proxy::tls::start_warnings(t) {
            eprintln!("ocpp-inspector: warning: {w}");
        }
    }
    let (_, upstream) = args.proxy.endpoints()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // The live screen when standard output is a terminal and it was not declined.
    let tui = !args.no_tui && io::stdout().is_terminal();
    // Bind first: a taken port or a bad certificate is a start-up error (exit 2) before
    // anything is recorded or the screen is taken.
    let proxy = runtime.block_on(Proxy::bind(config))?;
    let mut inspector = Inspector::new(engine, fail_on);
    if args.proxy.forget_after > 0 {
        inspector = inspector.forget_after(std::time::Duration::from_secs(args.proxy.forget_after));
    }
    let feed = if tui {
        let (tx, rx) = feed::channel(feed::LIVE_CAPACITY);
        inspector = inspector.sink(TuiSink::new(tx));
        Some(rx)
    } else {
        inspector = inspector.sink(StderrLines::stderr());
        None
    };
    if let (Some(record), Some(report)) = (&args.record, &args.report)
        && same_file(record, report)
    {
        anyhow::bail!(
            "--record and --report name the same file ({}): the report would overwrite the recording",
            record.display()
        );
    }
    // The recording is written by the relays themselves, before each frame is forwarded
    // (see `sink::recorder::SharedRecorder`), not by the inspection thread.
    // `OCPP_INSPECTOR_RECORD_AFTER_INSPECTION=1` restores the old path (recorded by the
    // inspection thread, behind the tap: frames can be missing), for an A/B benchmark only.
    let after_inspection = std::env::var_os("OCPP_INSPECTOR_RECORD_AFTER_INSPECTION").is_some();
    let recorder = match &args.record {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("creating the recording {}", path.display()))?;
            if after_inspection {
                inspector = inspector.record_to(std::io::BufWriter::new(file));
                None
            } else {
                Some(Arc::new(SharedRecorder::new(file)))
            }
        }
        None => None,
    };
    if let Some(path) = &args.report {
        // Fail now rather than after hours of traffic.
        File::create(path).with_context(|| format!("creating the report {}", path.display()))?;
        inspector = inspector.sink(JsonReport::new(
            path.clone(),
            args.record.clone(),
            info.clone(),
        ));
    }
    let listening = format!(
        "listening on {}://{}/…/<identity>, relaying to {}/<identity>{}",
        proxy.scheme(),
        proxy.local_addr(),
        upstream.trim_end_matches('/'),
        args.record
            .as_ref()
            .map(|p| format!(", recording to {}", p.display()))
            .unwrap_or_default()
    );
    // Each charger costs two descriptors (its socket and the CSMS's).
    let fds = crate::source::proxy::raise_fd_limit();
    if !tui {
        eprintln!("proxy    {listening}");
        if let Some(n) = fds {
            eprintln!(
                "proxy    open-file limit {n} (about {} chargers at once)",
                n.saturating_sub(32) / 2
            );
        }
    }
    let (tap, consumer) = {
        let _context = runtime.enter();
        let (tap, consumer) = crate::live::spawn(inspector, TapLimits::default());
        match &recorder {
            Some(r) => (tap.recording(r.clone()), consumer),
            None => (tap, consumer),
        }
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);
    let signal_stop = stop.clone();
    runtime.spawn(async move {
        wait_for_signal().await;
        if !tui {
            eprintln!("proxy    shutting down: closing every connection with 1001");
        }
        let _ = signal_stop.send(true);
        // Keep the sender alive: dropping it also means shutdown, which is what we want.
        signal_stop.closed().await;
    });
    let relay = runtime.spawn(proxy.run(tap, stopped));
    // The UI runs here, on the main thread, while the runtime's threads relay; it ends when
    // the user quits (which stops the proxy) or the proxy stops (a signal: the feed closes).
    let mut ui_error = None;
    if let Some(rx) = feed {
        let limits = Limits {
            max_frames: args.max_frames,
            ..Limits::default()
        };
        let app = App::new(format!("proxy {listening}"), limits);
        let report = ReportTarget {
            path: args
                .report
                .clone()
                .unwrap_or_else(|| PathBuf::from("ocpp-inspector-report.json")),
            trace: args
                .record
                .clone()
                .unwrap_or_else(|| PathBuf::from("proxy")),
            info: info.clone(),
        };
        let result = tui::run_live(app, rx, report, Arc::new(AtomicBool::new(false)));
        let _ = stop.send(true);
        if let Err(e) = result {
            ui_error = Some(e);
        }
    }
    runtime.block_on(async move {
        let stats = relay
            .await
            .map_err(|e| anyhow::anyhow!("the relay task failed: {e}"))?;
        let mut outcome = consumer.finish().await?;
        if let Some(r) = &recorder {
            let rec = r.finish();
            if rec.lost > 0 {
                outcome.problems.push(format!(
                    "{} records could not be written to the recording ({}); a gap record marks where",
                    rec.lost,
                    rec.first_error.as_deref().unwrap_or("write failed")
                ));
            }
        }
        if tui {
            eprintln!(
                "summary  {} frames, {} connections: {} errors, {} warnings, {} infos",
                outcome.stats.frames,
                outcome.stats.connections,
                outcome.errors,
                outcome.warnings,
                outcome.infos
            );
        }
        eprintln!(
            "proxy    {} connections accepted, {} events recorded/inspected",
            stats.accepted, outcome.events
        );
        for p in &outcome.problems {
            eprintln!("ocpp-inspector: error: {p}");
        }
        if let Some(e) = ui_error {
            return Err(anyhow::Error::new(e).context("the terminal UI failed"));
        }
        Ok(if !outcome.problems.is_empty() {
            exit::USAGE
        } else if outcome.failing > 0 {
            exit::FINDINGS
        } else {
            exit::CLEAN
        })
    })
}
