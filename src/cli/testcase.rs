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
use crate::testcase::meta::{CaseSet, FileHash, LabInfo, hash_file};
use crate::testcase::report::{ReportInfo, write_json, write_junit, write_text};
use crate::testcase::scenario::{Dut, PROFILES};
use crate::testcase::verdict::{KnownFailures, Tally};
use crate::testcase::{
    Case, CaseFindings, InjectPolicy, Policy, RunSetup, builtin, report_html, run_sources_with,
    scenario,
};
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
    /// Only the cases of this certification profile (`core`, `smart-charging`, …)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
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
    /// Only the cases of this certification profile (`core`, `smart-charging`, …)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The device under test: `charger:ID[,ID...]` (only these stations, charger-side
    /// cases) or `csms` (CSMS-side cases); without it every station and both sides are
    /// judged, each side its own part of the report
    #[arg(long, value_name = "charger:ID,...|csms")]
    pub dut: Option<String>,
    /// With --live: let the proxy send the inject steps of the cases named on the command
    /// line (or by --profile); without it, or for a case not named, nothing is sent and such
    /// a case is not run ("injection not allowed"); the live screen's `i` may then send
    /// CALLs to the stations too
    #[arg(long)]
    pub allow_inject: bool,
    /// Which findings on the device under test's own frames inside a case fail it:
    /// `error` (default), `warning` (and errors) or `off`; a case file's `case_findings` wins
    #[arg(long, value_name = "LEVEL", default_value = "error", value_parser = parse_case_findings)]
    pub case_findings: CaseFindings,
    /// The lab's fields on the reports (TOML: lab, operator, customer, notes)
    #[arg(long, value_name = "FILE")]
    pub lab_info: Option<PathBuf>,
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

fn parse_case_findings(s: &str) -> Result<CaseFindings, String> {
    s.parse()
}

/// `--dut`: the side and, for chargers, the stations.
fn parse_dut(spec: &str) -> Result<(Dut, Option<Vec<String>>)> {
    let spec = spec.trim();
    if spec == "csms" {
        return Ok((Dut::Csms, None));
    }
    if spec == "charger" {
        return Ok((Dut::Charger, None));
    }
    let Some(ids) = spec.strip_prefix("charger:") else {
        anyhow::bail!("--dut `{spec}`: expected `charger:ID[,ID...]` or `csms`");
    };
    let ids: Vec<String> = ids
        .split(',')
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty())
        .collect();
    if ids.is_empty() {
        anyhow::bail!("--dut `{spec}`: name at least one station after `charger:`");
    }
    Ok((Dut::Charger, Some(ids)))
}

/// `--profile NAME`: the cases of that certification profile.
fn select_profile(cases: Vec<Case>, profile: Option<&str>) -> Result<Vec<Case>> {
    let Some(p) = profile else {
        return Ok(cases);
    };
    if !PROFILES.contains(&p) {
        anyhow::bail!(
            "--profile `{p}` is not a certification profile; one of: {}",
            PROFILES.join(", ")
        );
    }
    let kept: Vec<Case> = cases
        .into_iter()
        .filter(|c| c.profiles.iter().any(|x| x == p))
        .collect();
    if kept.is_empty() {
        anyhow::bail!("no selected test case belongs to profile `{p}`");
    }
    Ok(kept)
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
    let cases = select_profile(cases, args.profile.as_deref())?;
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
    policy: Policy,
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
        ..ReportInfo::default()
    };
    let schemas = Arc::new(schemas);
    // `--allow-inject` also lets the screen's `i` send CALLs to the stations.
    let acting = args
        .allow_inject
        .then(|| Arc::new(crate::sink::tui::act::ActCatalog::new(schemas.clone())));
    let config = Arc::new(config);
    // With a recording, the screen reaches the frames older than its window through it.
    let history = args.record.clone().map(|rec| {
        super::view::history_hook(rec, schemas.clone(), config.clone(), args.engine.ocpp)
    });
    let engine = Engine::new(schemas, config, args.engine.ocpp);
    // The live screen when standard output is a terminal and it was not declined.
    let tui = !args.no_tui && io::stdout().is_terminal();
    let catalog: Vec<CaseInfo> = cases.iter().map(CaseInfo::of).collect();
    let (sink, slot) = LiveCases::stderr(Arc::new(cases));
    let sink = sink
        .with_policy(policy.case_findings, policy.stations.clone())
        .allow_inject(match &policy.inject {
            InjectPolicy::Live { allowed } => allowed.clone(),
            InjectPolicy::Recorded { .. } => Vec::new(),
        });
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
            acting,
            history,
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
    let case_set = match &args.cases {
        Some(d) => CaseSet::of_dir(d)
            .with_context(|| format!("hashing the case files under {}", d.display()))?,
        None => CaseSet::builtin(),
    };
    let lab = match &args.lab_info {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading --lab-info {}", p.display()))?;
            Some(LabInfo::parse(&text, &p.display().to_string())?)
        }
        None => None,
    };
    let known = match &args.known_failures {
        Some(path) => Some(load_known(path, &all)?),
        None => None,
    };
    let cases = select(all, &args.cases_selected)?;
    let mut cases = select_profile(cases, args.profile.as_deref())?;
    let dut = args.dut.as_deref().map(parse_dut).transpose()?;
    if let Some((role, _)) = &dut {
        cases.retain(|c| c.dut == *role);
        if cases.is_empty() {
            anyhow::bail!(
                "--dut {}: no selected test case has the {} under test",
                args.dut.as_deref().unwrap_or_default(),
                role.as_str()
            );
        }
    }
    // Injection only when asked, and only for cases the lab named.
    let named = !args.cases_selected.is_empty() || args.profile.is_some();
    if args.allow_inject && !named && args.live {
        eprintln!(
            "ocpp-inspector: note: --allow-inject applies to the cases named on the command line (or by --profile); none is named, so nothing will be injected"
        );
    }
    let allowed = vec![args.allow_inject && named; cases.len()];
    let schemas = args.engine.schemas()?;
    let config = build_config(&args.engine)?;
    let mut settings = vec![
        (
            "cases".to_owned(),
            if args.cases_selected.is_empty() {
                "all".to_owned()
            } else {
                args.cases_selected.join(" ")
            },
        ),
        (
            "device under test (--dut)".to_owned(),
            args.dut
                .clone()
                .unwrap_or_else(|| "not given: every station, both sides".into()),
        ),
        (
            "case findings (--case-findings)".to_owned(),
            args.case_findings.as_str().to_owned(),
        ),
        (
            "injection".to_owned(),
            if !args.live {
                "offline: nothing is sent".to_owned()
            } else if args.allow_inject && named {
                "allowed for the named cases (--allow-inject)".to_owned()
            } else {
                "not allowed".to_owned()
            },
        ),
    ];
    if let Some(p) = &args.profile {
        settings.push(("profile".into(), p.clone()));
    }
    if let Some(v) = args.engine.ocpp {
        settings.push(("--ocpp".into(), v.as_str().to_owned()));
    }
    if let Some(c) = &args.engine.config {
        let h = hash_file(c).map(|h| h.sha256).unwrap_or_default();
        settings.push(("--config".into(), format!("{} (SHA-256 {h})", c.display())));
    }
    if !args.engine.disable.is_empty() {
        settings.push(("--disable".into(), args.engine.disable.join(",")));
    }
    if let Some(t) = args.engine.call_timeout {
        settings.push(("--call-timeout".into(), format!("{t} s")));
    }
    if args.engine.schema_only {
        settings.push((
            "--schema-only".into(),
            "protocol rules off: only framing and schemas judged".into(),
        ));
    }
    if let Some(k) = &args.known_failures {
        settings.push(("--known-failures".into(), k.display().to_string()));
    }
    let errata: Vec<[String; 4]> = if args.engine.schemas.is_none() {
        crate::engine::schema::ErrataSelection::parse(&args.engine.errata)
            .map(|sel| {
                sel.selected()
                    .map(|e| {
                        [
                            e.name.to_owned(),
                            e.version.as_str().to_owned(),
                            e.schema.to_owned(),
                            e.summary.to_owned(),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut policy = Policy {
        case_findings: args.case_findings,
        inject: InjectPolicy::Live { allowed },
        stations: dut.and_then(|(_, s)| s),
        ended: "the trace",
    };
    let (mut outcome, mut info) = match args.trace.first() {
        Some(trace) => {
            let opts = args.input.options();
            let mut hashes: Vec<FileHash> = Vec::new();
            for path in &args.trace {
                if path.as_os_str() != "-" {
                    hashes.push(
                        hash_file(path).with_context(|| format!("--trace {}", path.display()))?,
                    );
                }
            }
            // Offline an inject step takes only frames marked injected, when the recording
            // marks any (standard input cannot be looked at twice: every csms call counts).
            policy.inject = InjectPolicy::Recorded {
                marked_only: hashes.iter().any(|h| h.marks_injected),
            };
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
                traces: hashes,
                ..ReportInfo::default()
            };
            let mut refs: Vec<&mut dyn Source> = sources
                .iter_mut()
                .map(|s| &mut **s as &mut dyn Source)
                .collect();
            let setup = RunSetup {
                cases: Arc::new(cases),
                schemas: Arc::new(schemas),
                config: Arc::new(config),
                default_version: args.engine.ocpp,
                policy,
            };
            let outcome = run_sources_with(&mut refs, setup);
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
        None => {
            let (outcome, mut info) = run_live(args, cases, schemas, config, policy)?;
            if let Some(rec) = &args.record {
                match hash_file(rec) {
                    Ok(h) => info.traces.push(h),
                    Err(e) => eprintln!(
                        "ocpp-inspector: error: hashing the recording {}: {e}",
                        rec.display()
                    ),
                }
            }
            (outcome, info)
        }
    };
    info.tool = format!("ocpp-inspector {}", super::short_version());
    info.lab = lab;
    info.case_set = Some(case_set);
    info.errata = errata;
    info.config = settings;
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
