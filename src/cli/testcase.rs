//! `ocpp-inspector testcase list|run`: conformance test cases over a recorded trace
//! (`--trace`) or live behind the proxy (`--live`), with the verdicts as text, JSON or JUnit,
//! and the lab report as one HTML file. Prints; the judging is in [`crate::testcase`].

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};

use super::args::{EngineArgs, InputArgs, ProxyArgs, build_config};
use super::exit;
use super::signal::wait_for_signal;
use crate::engine::{Config, Engine};
use crate::finding::Severity;
use crate::pipeline::{Bound, LiveRun, Screen};
use crate::sink::report::RunInfo;
use crate::sink::tui::ReportTarget;
use crate::sink::tui::app::{CaseInfo, Limits};
use crate::testcase::live::{Injector, LiveCases};

/// How long an injected call waits for the charger's answer.
const INJECT_TIMEOUT: Duration = Duration::from_secs(30);
use crate::source::input::{self, Source};
use crate::testcase::report::{ReportInfo, write_json, write_junit, write_text};
use crate::testcase::verdict::{KnownFailures, Tally};
use crate::testcase::{Case, builtin, report_html, run_sources, scenario};
use crate::time::Timestamp;

#[derive(Debug, Args)]
pub struct TestcaseArgs {
    #[command(subcommand)]
    pub command: TestcaseCommand,
}

#[derive(Debug, Subcommand)]
pub enum TestcaseCommand {
    /// List the cases (all, or those whose id starts with PREFIX) without running them
    List(ListArgs),
    /// Judge a recorded trace (or live traffic through the proxy) against the cases
    Run(Box<RunArgs>),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Id prefix (`2.0.1/B`) or OCTT id (`TC_B_01_CS`)
    pub prefix: Vec<String>,
    /// Load the cases from this folder instead of the built-in set
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per case and station; failing steps and findings below
    Text,
    /// One JSON document
    Json,
    /// JUnit XML, one testcase per case and station
    Junit,
}

#[derive(Debug, Args)]
#[command(
    mut_arg("listen", |a| a
        .requires("live")
        .help("With --live: where chargers connect (ws://HOST:PORT/ANY/PATH/<identity>, wss:// with --tls-cert)")),
    mut_arg("upstream", |a| a
        .requires("live")
        .help("With --live: the CSMS (ws://HOST:PORT/BASE or wss://…); the charger's identity is appended")),
    mut_arg("tls_cert", |a| a.requires("live")),
    mut_arg("upstream_ca", |a| a.requires("live")),
    mut_arg("upstream_cert", |a| a.requires("live")),
    mut_arg("max_message", |a| a.requires("live")),
    mut_arg("connect_timeout", |a| a.requires("live"))
)]
pub struct RunArgs {
    /// Cases to run: id prefixes (`2.0.1/B`, `1.6`) or OCTT ids (`TC_B_01_CS`); all when none
    #[arg(value_name = "CASE")]
    pub cases_selected: Vec<String>,
    /// The recorded trace to judge: any format `check` reads (repeat for several, read one
    /// after the other; `-` for standard input)
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "live",
        conflicts_with = "live"
    )]
    pub trace: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,
    /// Judge live: run the proxy (--listen, --upstream) and judge while the device is
    /// exercised; on a terminal each case's progress shows on the live screen (q quits),
    /// else as lines on stderr; stops at Ctrl-C or --duration
    #[arg(long, requires_all = ["listen", "upstream"])]
    pub live: bool,
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// With --live: record every event to a JSON Lines trace (re-judge it later with --trace)
    #[arg(long, value_name = "FILE", requires = "live")]
    pub record: Option<PathBuf>,
    /// With --live: stop after this many seconds instead of at Ctrl-C
    #[arg(long, value_name = "SECONDS", requires = "live")]
    pub duration: Option<f64>,
    /// With --live: no live screen; each case's progress as lines on stderr (the default
    /// when stdout is no terminal)
    #[arg(long, requires = "live")]
    pub no_tui: bool,
    /// Load the cases from this folder instead of the built-in set
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// Known failures (TOML, `[[known]] case = … reason = … station = …`): a listed case that
    /// fails is reported as known_failure and does not make the exit code 1; one that passes
    /// is reported as fixed
    #[arg(long, value_name = "FILE")]
    pub known_failures: Option<PathBuf>,
    /// With --known-failures: a listed case that now passes (fixed) makes the exit code 1
    #[arg(long, requires = "known_failures")]
    pub strict_known: bool,
    /// Output format on standard output (or -o)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the output to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the lab report (one self-contained HTML file)
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Also write JUnit XML to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the JSON document to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn load_cases(dir: Option<&PathBuf>) -> Result<Vec<Case>> {
    let loaded = match dir {
        Some(d) => scenario::load_dir(d),
        None => builtin::load(),
    };
    loaded.map_err(|errors| {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid test case files:\n  {}", list.join("\n  "))
    })
}

fn select(cases: Vec<Case>, patterns: &[String]) -> Result<Vec<Case>> {
    if patterns.is_empty() {
        return Ok(cases);
    }
    for p in patterns {
        if !cases.iter().any(|c| c.selected_by(p)) {
            anyhow::bail!("no test case matches `{p}` (see `ocpp-inspector testcase list`)");
        }
    }
    Ok(cases
        .into_iter()
        .filter(|c| patterns.iter().any(|p| c.selected_by(p)))
        .collect())
}

pub fn run(args: &TestcaseArgs) -> Result<u8> {
    match &args.command {
        TestcaseCommand::List(a) => list(a),
        TestcaseCommand::Run(a) => run_cases(a),
    }
}

fn list(args: &ListArgs) -> Result<u8> {
    let cases = select(load_cases(args.cases.as_ref())?, &args.prefix)?;
    let mut out = io::stdout().lock();
    for c in &cases {
        let versions: Vec<&str> = c.versions.iter().map(|v| v.as_str()).collect();
        let oca = match &c.oca {
            Some(o) => format!("  [OCA {}: {}]", o.id, o.name),
            None => String::new(),
        };
        let r = writeln!(
            out,
            "{:<22} {:<7} {:<7} {:<18} {}{oca}",
            c.id,
            c.dut.as_str(),
            versions.join(","),
            c.octt().first().copied().unwrap_or("-"),
            c.title
        );
        if let Err(e) = r {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(exit::CLEAN);
            }
            return Err(e.into());
        }
    }
    Ok(exit::CLEAN)
}

/// `--live`: the proxy in front of the CSMS, the engine and the case runner behind its tap,
/// until Ctrl-C, SIGTERM or `--duration`.
fn run_live(
    args: &RunArgs,
    cases: Vec<Case>,
    schemas: crate::engine::SchemaSet,
    config: Config,
) -> Result<(crate::testcase::TraceOutcome, ReportInfo)> {
    let (Some(listen), Some(upstream)) = (&args.proxy.listen, &args.proxy.upstream) else {
        anyhow::bail!("--live needs --listen and --upstream");
    };
    if let Some(d) = args.duration
        && !(d.is_finite() && d > 0.0 && d <= 31_536_000.0)
    {
        anyhow::bail!("--duration must be a positive number of seconds, got {d}");
    }
    let info = ReportInfo {
        trace: match &args.record {
            Some(p) => format!(
                "live via {listen} → {upstream} (recorded to {})",
                p.display()
            ),
            None => format!("live via {listen} → {upstream}"),
        },
        schemas: schemas.origin.clone(),
        generated: Timestamp::now().to_string(),
    };
    let engine = Engine::new(Arc::new(schemas), Arc::new(config), args.engine.ocpp);
    // The live screen when standard output is a terminal and it was not declined.
    let tui = !args.no_tui && io::stdout().is_terminal();
    let catalog: Vec<CaseInfo> = cases.iter().map(CaseInfo::of).collect();
    let (sink, slot) = LiveCases::stderr(Arc::new(cases));
    let duration = args.duration.map(Duration::from_secs_f64);
    let upstream = upstream.trim_end_matches('/').to_owned();
    let listening = move |b: &Bound| {
        format!(
            "chargers connect to {}://{}/…/<identity>, relayed to {upstream}/<identity>",
            b.scheme, b.local_addr
        )
    };
    let mut run = LiveRun::new(engine, args.proxy.proxy_config()?, Severity::Error)
        .record(args.record.clone())
        .stop_when(async move {
            match duration {
                Some(d) => {
                    tokio::select! {
                        () = tokio::time::sleep(d) => {}
                        () = wait_for_signal() => {}
                    }
                }
                None => wait_for_signal().await,
            }
        })
        // The cases go to the screen when there is one, and inject steps are sent through
        // this run's proxy.
        .wire(|b| {
            let sink = match &b.feed {
                Some(tx) => sink.with_ui(tx.clone()),
                None => sink,
            };
            vec![Box::new(sink.with_injector(Injector {
                proxy: b.proxy.clone(),
                runtime: b.runtime.clone(),
                timeout: INJECT_TIMEOUT,
            }))]
        });
    run = if tui {
        let report = ReportTarget {
            path: PathBuf::from("ocpp-inspector-report.json"),
            trace: args
                .record
                .clone()
                .unwrap_or_else(|| PathBuf::from("testcase-live")),
            info: RunInfo {
                schemas: info.schemas.clone(),
                fail_on: Severity::Error,
            },
        };
        let listening = listening.clone();
        run.screen(move |b| Screen {
            title: format!("testcase run --live: {}", listening(b)),
            limits: Limits::default(),
            report,
            cases: Some(catalog),
            // Where to point the chargers, on the status line until a notice replaces it.
            notice: Some(listening(b)),
        })
    } else {
        run.lines()
    };
    let live = run.run(|b| {
        if !tui {
            eprintln!("testcase judging live: {}", listening(b));
        }
    })?;
    // The verdicts do not depend on the screen: they still come out.
    if let Some(e) = &live.ui_error {
        eprintln!("ocpp-inspector: error: the terminal UI failed: {e}");
    }
    for p in &live.outcome.problems {
        eprintln!("ocpp-inspector: error: {p}");
    }
    let outcome = slot
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .ok_or_else(|| anyhow::anyhow!("the live case runner produced no outcome"))?;
    Ok((outcome, info))
}

fn write_to(path: &PathBuf, f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> Result<()> {
    let mut buf = Vec::new();
    f(&mut buf)?;
    std::fs::write(path, &buf).with_context(|| format!("writing {}", path.display()))
}

/// Reads `--known-failures`; entries that select no loaded case are noted on stderr (a typo,
/// or a case of another set).
fn load_known(path: &PathBuf, cases: &[Case]) -> Result<KnownFailures> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --known-failures {}", path.display()))?;
    let known = KnownFailures::parse(&text, &path.display().to_string())?;
    for (n, k) in known.unused(cases) {
        eprintln!(
            "ocpp-inspector: note: {}: [[known]] entry {n}: `{}` selects no test case",
            path.display(),
            k.case
        );
    }
    Ok(known)
}

fn run_cases(args: &RunArgs) -> Result<u8> {
    let all = load_cases(args.cases.as_ref())?;
    let known = match &args.known_failures {
        Some(path) => Some(load_known(path, &all)?),
        None => None,
    };
    let cases = select(all, &args.cases_selected)?;
    let schemas = args.engine.schemas()?;
    let config = build_config(&args.engine)?;
    let (mut outcome, info) = match args.trace.first() {
        Some(trace) => {
            let opts = args.input.options();
            let mut sources = Vec::new();
            for path in &args.trace {
                let src = input::open(path, &opts)
                    .map_err(|e| anyhow::anyhow!("--trace {}: {e}", path.display()))?;
                sources.push(src);
            }
            let names: Vec<String> = args.trace.iter().map(|p| p.display().to_string()).collect();
            let info = ReportInfo {
                trace: names.join(" "),
                schemas: schemas.origin.clone(),
                generated: Timestamp::now().to_string(),
            };
            let mut refs: Vec<&mut dyn Source> = sources
                .iter_mut()
                .map(|s| &mut **s as &mut dyn Source)
                .collect();
            let outcome = run_sources(
                &mut refs,
                Arc::new(cases),
                Arc::new(schemas),
                Arc::new(config),
                args.engine.ocpp,
            );
            let shown = if args.trace.len() == 1 {
                trace.display().to_string()
            } else {
                names.join("+")
            };
            for (line, message) in &outcome.input_errors {
                eprintln!("ocpp-inspector: input error: {shown}:{line}: {message}");
            }
            (outcome, info)
        }
        None => run_live(args, cases, schemas, config)?,
    };
    if let Some(known) = &known {
        known.apply(&mut outcome.results);
    }
    if let Some(p) = &args.report {
        write_to(p, |b| report_html::write(b, &outcome, &info))?;
    }
    if let Some(p) = &args.junit {
        write_to(p, |b| write_junit(b, &outcome, &info))?;
    }
    if let Some(p) = &args.json {
        write_to(p, |b| write_json(b, &outcome, &info))?;
    }
    let mut buf = Vec::new();
    match args.format {
        Format::Text => write_text(&mut buf, &outcome, &info)?,
        Format::Json => write_json(&mut buf, &outcome, &info)?,
        Format::Junit => write_junit(&mut buf, &outcome, &info)?,
    }
    match &args.output {
        Some(p) => std::fs::write(p, &buf).with_context(|| format!("writing {}", p.display()))?,
        None => {
            let mut out = io::stdout().lock();
            if let Err(e) = out.write_all(&buf).and_then(|()| out.flush())
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    let t = Tally::of(&outcome.results);
    Ok(if t.failed > 0 || (args.strict_known && t.fixed > 0) {
        exit::FINDINGS
    } else if !outcome.input_errors.is_empty() {
        exit::USAGE
    } else {
        exit::CLEAN
    })
}
