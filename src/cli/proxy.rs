//! `ocpp-inspector proxy`: the man-in-the-middle proxy between chargers and a CSMS, with
//! the live screen ([`crate::sink::tui`]) when standard output is a terminal (findings
//! streamed to stderr otherwise, or with `--no-tui`), an optional trace recording and JSON
//! report, and the exit code of `check` at shutdown (`q` in the screen, Ctrl-C or SIGTERM).
//! Flags → a [`LiveRun`]; the work is in [`crate::source::proxy`] and [`crate::pipeline`].

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::args::{EngineArgs, ProxyArgs, build_config};
use super::check::FailOn;
use super::exit;
use super::signal::wait_for_signal;
use crate::admin::{AdminState, Metrics, MetricsSink, serve};
use crate::engine::Engine;
use crate::finding::Severity;
use crate::pipeline::{Bound, LiveRun, Screen};
use crate::sink::LiveSink;
use crate::sink::findings_jsonl::FindingsJsonl;
use crate::sink::report::RunInfo;
use crate::sink::tui::ReportTarget;
use crate::sink::tui::app::Limits;

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

    /// Let the live screen's `i` send CALLs to the connected stations (the proxy injects
    /// them; the recording marks them and their answers `"injected":true`); off by default
    #[arg(long)]
    pub allow_inject: bool,

    /// Lowest severity that makes the exit code 1 at shutdown
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Write each finding as one JSON object per line as it happens (the JSON report's
    /// members plus `instance` and `peer`), to FILE or standard output (`-`)
    #[arg(long, value_name = "FILE|-")]
    pub findings_jsonl: Option<PathBuf>,

    /// This proxy's name in findings lines and on the recording's open records (default:
    /// the host name, else `proxy`)
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,

    /// Serve Prometheus metrics (GET /metrics), liveness (GET /healthz), readiness
    /// (GET /readyz, 503 while draining) and POST /drain on this address
    #[arg(long, value_name = "HOST:PORT")]
    pub admin: Option<String>,

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
    let schemas = Arc::new(schemas);
    let acting = args
        .allow_inject
        .then(|| Arc::new(crate::sink::tui::act::ActCatalog::new(schemas.clone())));
    let engine_config = Arc::new(build_config(&args.engine)?);
    // With a recording, the screen reaches the frames older than its window through it.
    let history = args.record.clone().map(|rec| {
        super::view::history_hook(
            rec,
            schemas.clone(),
            engine_config.clone(),
            args.engine.ocpp,
        )
    });
    let engine = Engine::new(schemas, engine_config, args.engine.ocpp);
    let mut config = args.proxy.proxy_config()?;
    // The admin port is bound now: a taken port is a start-up error.
    let admin = match &args.admin {
        Some(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .with_context(|| format!("cannot listen on --admin {addr}"))?;
            l.set_nonblocking(true)
                .with_context(|| format!("--admin {addr}"))?;
            let state = Arc::new(AdminState::new(Arc::new(Metrics::new())));
            config.metrics = Some(state.metrics.clone());
            Some((l, state))
        }
        None => None,
    };
    let admin_state = admin.as_ref().map(|(_, s)| s.clone());
    let drain = args.proxy.drain_seconds;
    if let Some(t) = &config.listen_tls {
        for w in crate::source::proxy::tls::start_warnings(t) {
            eprintln!("ocpp-inspector: warning: {w}");
        }
    }
    let (_, upstream) = args.proxy.endpoints()?;
    // The live screen when standard output is a terminal and it was not declined.
    let tui = !args.no_tui && io::stdout().is_terminal();
    if args.allow_inject && !tui {
        eprintln!(
            "ocpp-inspector: note: --allow-inject lets the live screen send CALLs; there is no screen (--no-tui or no terminal), so nothing will be sent"
        );
    }
    let instance = args
        .instance
        .clone()
        .unwrap_or_else(crate::sink::findings_jsonl::default_instance);
    if instance.is_empty() || instance.chars().any(char::is_control) {
        anyhow::bail!("--instance must be a non-empty name without control characters");
    }
    if let Some(path) = &args.findings_jsonl {
        let stdout = path == std::path::Path::new("-");
        for (other, flag) in [(&args.record, "--record"), (&args.report, "--report")] {
            if let Some(o) = other
                && !stdout
                && same_file(path, o)
            {
                anyhow::bail!(
                    "--findings-jsonl and {flag} name the same file ({})",
                    path.display()
                );
            }
        }
        if tui && stdout {
            anyhow::bail!(
                "--findings-jsonl - writes to standard output, where the live screen is: add --no-tui"
            );
        }
    }
    let findings_jsonl = match &args.findings_jsonl {
        Some(path) => Some(
            FindingsJsonl::open(path, args.record.as_deref(), &instance)
                .with_context(|| format!("creating --findings-jsonl {}", path.display()))?,
        ),
        None => None,
    };
    if let (Some(record), Some(report)) = (&args.record, &args.report)
        && same_file(record, report)
    {
        anyhow::bail!(
            "--record and --report name the same file ({}): the report would overwrite the recording",
            record.display()
        );
    }
    // Each charger costs two descriptors (its socket and the CSMS's).
    let fds = crate::source::proxy::raise_fd_limit();
    let listening = {
        let upstream = upstream.trim_end_matches('/').to_owned();
        let record = args
            .record
            .as_ref()
            .map(|p| format!(", recording to {}", p.display()))
            .unwrap_or_default();
        move |b: &Bound| {
            format!(
                "listening on {}://{}/…/<identity>, relaying to {upstream}/<identity>{record}",
                b.scheme, b.local_addr
            )
        }
    };
    let mut run = LiveRun::new(engine, config, fail_on)
        .forget_after(args.proxy.forget_after)
        .record(args.record.clone())
        .instance(Some(instance.clone()))
        .report(args.report.clone(), info.clone())
        .stop_when(async move {
            match &admin_state {
                Some(state) => {
                    tokio::select! {
                        () = wait_for_signal() => {}
                        () = state.drain_requested() => {}
                    }
                    state.set_draining();
                }
                None => wait_for_signal().await,
            }
            if !tui {
                match drain {
                    0 => eprintln!("proxy    shutting down: closing every connection with 1001"),
                    s => eprintln!(
                        "proxy    draining: not ready, not accepting, closing the connections with 1001 over {s} s"
                    ),
                }
            }
        });
    if let Some(sink) = findings_jsonl {
        run = run.sink(Box::new(sink));
    }
    if let Some((listener, state)) = admin {
        run = run.wire(move |b: &Bound| {
            let addr = listener
                .local_addr()
                .map_or_else(|_| "?".into(), |a| a.to_string());
            let serving = state.clone();
            let at = addr.clone();
            b.runtime.spawn(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => serve(l, serving).await,
                    Err(e) => eprintln!("ocpp-inspector: error: the admin port {at}: {e}"),
                }
            });
            if !tui {
                eprintln!("admin    http://{addr}/metrics, /healthz, /readyz (POST /drain drains)");
            }
            vec![Box::new(MetricsSink::new(state.metrics.clone())) as Box<dyn LiveSink>]
        });
    }
    run = if tui {
        let limits = Limits {
            max_frames: args.max_frames,
            ..Limits::default()
        };
        let report = ReportTarget {
            path: args
                .report
                .clone()
                .unwrap_or_else(|| PathBuf::from("ocpp-inspector-report.json")),
            trace: args
                .record
                .clone()
                .unwrap_or_else(|| PathBuf::from("proxy")),
            info,
        };
        let listening = listening.clone();
        run.screen(move |b| Screen {
            title: format!("proxy {}", listening(b)),
            limits,
            report,
            cases: None,
            notice: None,
            acting,
            history,
        })
    } else {
        run.lines()
    };
    let end = run.run(|b| {
        if !tui {
            eprintln!("proxy    {}", listening(b));
            if let Some(n) = fds {
                eprintln!(
                    "proxy    open-file limit {n} (about {} chargers at once)",
                    n.saturating_sub(32) / 2
                );
            }
        }
    })?;
    let outcome = &end.outcome;
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
        end.relay.accepted, outcome.events
    );
    for p in &outcome.problems {
        eprintln!("ocpp-inspector: error: {p}");
    }
    if let Some(e) = end.ui_error {
        return Err(anyhow::Error::new(e).context("the terminal UI failed"));
    }
    Ok(if !outcome.problems.is_empty() {
        exit::USAGE
    } else if outcome.failing > 0 {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}
