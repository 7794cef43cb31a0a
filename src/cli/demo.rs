//! `ocpp-inspector demo`: the tool at work with no charger and no CSMS at hand (see
//! [`crate::demo`]). Findings stream as lines while it runs; it ends after `--duration` or on
//! Ctrl-C, leaves the recording and the reports in `--out`, and says whether the offline
//! check of the recording agrees with what was seen live.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::watch;

use super::exit;
use crate::demo::{self, DemoConfig, DemoPace};
use crate::live::{LiveSink, StderrLines};

#[derive(Debug, Args)]
#[command(after_help = "\
Starts a simulated CSMS, the proxy in front of it and a fleet of simulated chargers speaking \
OCPP 1.6, 2.0.1 and 2.1, two of them misbehaving on purpose, all on 127.0.0.1. Findings stream \
to stderr one per line. At the end DIR holds trace.jsonl (the recording), report.json, \
report.txt and report.xml (JUnit), and `ocpp-inspector check DIR/trace.jsonl` gives the same \
findings. Exit code 0 when the demo ran (its findings are expected), 2 when it could not.")]
pub struct DemoArgs {
    /// Folder for the recording and the reports
    #[arg(long, value_name = "DIR", default_value = "ocpp-inspector-demo")]
    pub out: PathBuf,

    /// Seconds to run before stopping by itself (Ctrl-C stops it earlier)
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0)]
    pub duration: f64,

    /// Number of simulated chargers (versions 1.6, 2.0.1, 2.1 in turn; 3 to 10000)
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub chargers: usize,

    /// Run everything fast (a session in milliseconds), as the tests do
    #[arg(long, hide = true)]
    pub fast: bool,
}

pub fn run(args: &DemoArgs) -> Result<u8> {
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 86_400.0) {
        anyhow::bail!(
            "--duration must be between 0 and 86400 seconds, got {}",
            args.duration
        );
    }
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
    let duration = Duration::from_secs_f64(args.duration);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let (stop_tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(duration) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            let _ = stop_tx.send(true);
        });
        let sinks: Vec<Box<dyn LiveSink>> = vec![Box::new(StderrLines::stderr())];
        let out = demo::run(
            &cfg,
            sinks,
            |a| {
                eprintln!(
                    "demo: simulated CSMS on ws://{}, proxy on ws://{}/ocpp/<identity>, {} chargers; recording to {}; stopping after {:.0} s (Ctrl-C stops earlier)",
                    a.csms,
                    a.proxy,
                    cfg.chargers,
                    cfg.out.join("trace.jsonl").display(),
                    duration.as_secs_f64()
                );
            },
            stop,
        )
        .await?;
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
    })
}
