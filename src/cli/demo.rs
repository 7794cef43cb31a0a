//! `ocpp-inspector demo`: the tool at work with no charger and no CSMS at hand (see
//! [`crate::demo`]). On a terminal the live screen shows it until `q`; otherwise findings
//! stream as lines and it ends after `--duration` (or on Ctrl-C). It leaves the recording and
//! the reports in `--out` and says whether the offline check of the recording agrees with
//! what was seen live.

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::watch;

use super::exit;
use super::signal::wait_for_signal;
use crate::demo::{self, DemoConfig, DemoPace};
use crate::engine::schema::{ErrataSelection, SchemaSet};
use crate::finding::Severity;
use crate::pipeline::{LiveSink, Screen, live_run};
use crate::sink::report::RunInfo;
use crate::sink::stderr_lines::StderrLines;
use crate::sink::tui::ReportTarget;
use crate::sink::tui::app::Limits;
use crate::sink::tui::feed::{self, TuiSink};

#[derive(Debug, Args)]
#[command(after_help = "\
Starts a simulated CSMS, the proxy in front of it and a fleet of simulated chargers speaking \
OCPP 1.6, 2.0.1 and 2.1, two of them misbehaving on purpose, all on 127.0.0.1. On a terminal \
the live screen shows it until you press q; otherwise (or with --no-tui) findings stream to \
stderr one per line and it stops after --duration. At the end DIR holds trace.jsonl (the recording), report.json, \
report.txt and report.xml (JUnit), and `ocpp-inspector check DIR/trace.jsonl` gives the same \
findings. Exit code 0 when the demo ran (its findings are expected), 2 when it could not.")]
pub struct DemoArgs {
    /// Folder for the recording and the reports
    #[arg(long, value_name = "DIR", default_value = "ocpp-inspector-demo")]
    pub out: PathBuf,

    /// Seconds to run before stopping by itself [default without the live screen: 20; with
    /// it, until you quit]
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,

    /// No live screen: stream findings to stderr even on a terminal
    #[arg(long)]
    pub no_tui: bool,

    /// Number of simulated chargers (versions 1.6, 2.0.1, 2.1 in turn; 3 to 10000)
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub chargers: usize,

    /// Run everything fast (a session in milliseconds), as the tests do
    #[arg(long, hide = true)]
    pub fast: bool,
}

pub fn run(args: &DemoArgs) -> Result<u8> {
    let tui = !args.no_tui && io::stdout().is_terminal();
    let duration = match args.duration {
        Some(d) if !(d.is_finite() && d > 0.0 && d <= 86_400.0) => {
            anyhow::bail!("--duration must be between 0 and 86400 seconds, got {d}")
        }
        Some(d) => Some(Duration::from_secs_f64(d)),
        None if tui => None,
        None => Some(Duration::from_secs(20)),
    };
    if args.chargers < 3 || args.chargers > 10_000 {
        anyhow::bail!(
            "--chargers must be between 3 and 10000, got {}",
            args.chargers
        );
    }
    let cfg = DemoConfig {
        out: args.out.clone(),
        chargers: args.chargers,
        pace: if args.fast {
            DemoPace::fast()
        } else {
            DemoPace::watchable()
        },
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (stop_tx, stop) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let timer_stop = stop_tx.clone();
    rt.spawn(async move {
        let timer = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = timer => {}
            () = wait_for_signal() => {}
        }
        let _ = timer_stop.send(true);
    });

    let (sinks, feed): (Vec<Box<dyn LiveSink>>, _) = if tui {
        let (tx, rx) = feed::channel(feed::LIVE_CAPACITY);
        (vec![Box::new(TuiSink::new(tx))], Some(rx))
    } else {
        (vec![Box::new(StderrLines::stderr())], None)
    };
    let task_cfg = cfg.clone();
    let demo_task = rt.spawn(async move {
        demo::run(
            &task_cfg,
            sinks,
            |a| {
                if !tui {
                    eprintln!(
                        "demo: simulated CSMS on ws://{}, proxy on ws://{}/ocpp/<identity>, {} chargers; recording to {}; {}",
                        a.csms,
                        a.proxy,
                        task_cfg.chargers,
                        task_cfg.out.join("trace.jsonl").display(),
                        match duration {
                            Some(d) => format!("stopping after {:.0} s (Ctrl-C stops earlier)", d.as_secs_f64()),
                            None => "Ctrl-C stops it".to_owned(),
                        }
                    );
                }
            },
            stop,
        )
        .await
    });

    // The live screen runs here while the runtime's threads run the demo; quitting it stops
    // the demo, and the demo stopping (its duration) closes the feed and ends the screen.
    let mut ui_error = None;
    if let Some(rx) = feed {
        let report = ReportTarget {
            path: cfg.out.join("report-from-screen.json"),
            trace: cfg.out.join("trace.jsonl"),
            info: RunInfo {
                // The demo judges with the built-in schemas and every erratum.
                schemas: SchemaSet::builtin_origin(&ErrataSelection::all()),
                fail_on: Severity::Error,
            },
        };
        let title = format!(
            "demo: {} simulated chargers through the proxy to a simulated CSMS",
            cfg.chargers
        );
        let screen = Screen {
            title,
            limits: Limits::default(),
            report,
            cases: None,
            notice: None,
            acting: None,
            history: None,
        };
        let result = live_run::show(screen, rx, None);
        let _ = stop_tx.send(true);
        if let Err(e) = result {
            ui_error = Some(e);
        }
    }
    let out = rt
        .block_on(demo_task)
        .map_err(|e| anyhow::anyhow!("the demo task failed: {e}"))??;
    if let Some(e) = ui_error {
        return Err(anyhow::Error::new(e).context("the terminal UI failed"));
    }
    let o = &out.live;
    println!(
        "demo: {} frames on {} connections; {} errors, {} warnings, {} infos; {} sessions charged, {} reconnects",
        o.stats.frames,
        o.stats.connections,
        o.errors,
        o.warnings,
        o.infos,
        out.fleet.sessions,
        out.fleet.reconnects
    );
    for f in &out.fleet.failures {
        println!("demo: station gave up: {f}");
    }
    for p in &o.problems {
        println!("demo: problem: {p}");
    }
    for (label, path) in [
        ("recording", &out.trace),
        ("JSON report", &out.report_json),
        ("text report", &out.report_text),
        ("JUnit report", &out.report_junit),
    ] {
        println!("demo: {label}: {}", path.display());
    }
    if out.verdicts_agree() {
        println!(
            "demo: `ocpp-inspector check {}` gives the same {} findings as the live run",
            out.trace.display(),
            out.live_findings.len()
        );
        Ok(exit::CLEAN)
    } else {
        println!(
            "demo: the offline check of the recording found {} findings, the live run {} ({} events dropped by a lagging inspector)",
            out.offline.findings.len(),
            out.live_findings.len(),
            o.dropped
        );
        Ok(exit::FINDINGS)
    }
}
