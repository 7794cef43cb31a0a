//! `ocpp-inspector check TRACE...`: the CI gate over captured traces. One format on standard
//! output (or `-o`), any others to files in the same run; a baseline and waivers decide which
//! findings fail; a progress bar on a terminal; the summary line on standard error.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};

use super::args::{EngineArgs, InputArgs};
pub use super::args::{build_config, load_schemas};
use super::exit;
use crate::checker::{CheckOptions, Progress, StreamOptions, check_files_streaming};
use crate::finding::Severity;
use crate::sink::report::baseline::Baseline;
use crate::sink::report::github::GithubWriter;
use crate::sink::report::gitlab::GitlabWriter;
use crate::sink::report::html::HtmlWriter;
use crate::sink::report::json::JsonWriter;
use crate::sink::report::junit::JunitWriter;
use crate::sink::report::sarif::SarifWriter;
use crate::sink::report::text::{Style, TextWriter};
use crate::sink::report::waiver::{Waivers, parse_date};
use crate::sink::report::{Gate, Reporter, RunInfo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Compiler-style blocks, a table per rule and a summary line
    Text,
    /// One JSON document (a stable contract)
    Json,
    /// JUnit XML, one testsuite per trace file
    Junit,
    /// SARIF 2.1.0 (code scanning)
    Sarif,
    /// GitHub Actions annotations (workflow commands)
    Github,
    /// GitLab Code Quality JSON
    Gitlab,
    /// One self-contained HTML page, filterable
    Html,
}

/// `--fail-on` of the proxy and `view` (a severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

/// `--fail-on` of `check`: a severity, or `none` (only unreadable input fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFailOn {
    Error,
    Warning,
    Info,
    None,
}

impl CheckFailOn {
    fn severity(self) -> Option<Severity> {
        match self {
            CheckFailOn::Error => Some(Severity::Error),
            CheckFailOn::Warning => Some(Severity::Warning),
            CheckFailOn::Info => Some(Severity::Info),
            CheckFailOn::None => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Traces: our JSON Lines, pcap/pcapng captures, Open OCPP Trace files or text logs
    /// (told by content; `-` reads standard input; .gz is read transparently)
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format on standard output (or -o)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Lowest severity that makes the exit code 1 (none: findings never do)
    #[arg(long, value_enum, default_value_t = CheckFailOn::Error, value_name = "SEVERITY")]
    pub fail_on: CheckFailOn,

    /// Judge the TRACEs as one recording, merged in time order (the recordings of several
    /// proxies behind a load balancer: a station that moved between them is one station);
    /// findings name the merged record numbers
    #[arg(long)]
    pub merge: bool,

    /// Worker threads (0 = one per core)
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,

    /// Colour in text output
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// Write the --format report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the JSON report to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also write the JUnit report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Also write the SARIF report to FILE
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,

    /// Also write the HTML report to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Also write the GitLab Code Quality report to FILE
    #[arg(long, value_name = "FILE")]
    pub gitlab: Option<PathBuf>,

    /// Accept the findings of an earlier JSON report: only new ones are reported and fail
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,

    /// Write every finding of this run as a baseline (a JSON report) to FILE
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Waivers (TOML `[[waivers]]` entries); the --config file's are read too
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,

    /// The date waivers expire against (YYYY-MM-DD; default: each trace's own last date)
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,

    /// Base URL of the rule docs: SARIF's helpUri is this followed by the rule id
    #[arg(long, value_name = "URL")]
    pub rules_url: Option<String>,
}

impl From<FailOn> for Severity {
    fn from(f: FailOn) -> Self {
        match f {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

/// Standard output that a closed pipe (`| head`) turns into a sink: the run goes on to its
/// other reports and its exit code.
struct Stdout {
    inner: BufWriter<io::Stdout>,
    closed: bool,
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            r => r,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => r,
        }
    }
}

/// Output files must be distinct, and none may be an input.
fn check_outputs(args: &CheckArgs) -> Result<()> {
    let outputs: Vec<(&str, &PathBuf)> = [
        ("-o", &args.output),
        ("--json", &args.json),
        ("--junit", &args.junit),
        ("--sarif", &args.sarif),
        ("--html", &args.html),
        ("--gitlab", &args.gitlab),
        ("--write-baseline", &args.write_baseline),
    ]
    .into_iter()
    .filter_map(|(n, p)| p.as_ref().map(|p| (n, p)))
    .collect();
    // Devices (`/dev/null`) may take several outputs; a regular file only one.
    let device = |p: &Path| std::fs::metadata(p).is_ok_and(|m| !m.is_file());
    let same = |a: &Path, b: &Path| {
        !device(a)
            && (a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y))
    };
    for (i, (name, p)) in outputs.iter().enumerate() {
        for (other, q) in &outputs[i + 1..] {
            if same(p, q) {
                bail!("{name} and {other} name the same file {}", p.display());
            }
        }
        let inputs = args
            .traces
            .iter()
            .chain(&args.baseline)
            .chain(&args.waivers)
            .chain(&args.engine.config);
        for input in inputs {
            if same(p, input) {
                bail!(
                    "{name} {} is also an input: it would be overwritten",
                    p.display()
                );
            }
        }
    }
    Ok(())
}

fn create(path: &Path, flag: &str) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("{flag}: creating {}", path.display()))?;
    Ok(BufWriter::with_capacity(256 * 1024, f))
}

/// A progress bar on standard error while the check runs, when that is a terminal.
fn progress_bar(paths: &[PathBuf], p: Arc<Progress>) -> Option<(indicatif::ProgressBar, Instant)> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {msg} [{elapsed}, {eta} left]",
    ) {
        bar.set_style(style);
    }
    let start = Instant::now();
    let b = bar.clone();
    std::thread::spawn(move || {
        while !b.is_finished() {
            let frames = p.frames.load(Ordering::Relaxed);
            let secs = start.elapsed().as_secs_f64().max(0.001);
            b.set_position(p.bytes.load(Ordering::Relaxed));
            #[expect(clippy::cast_precision_loss, reason = "a display rate")]
            let rate = frames as f64 / secs;
            b.set_message(format!(
                "{frames} frames ({rate:.0}/s), {} stations",
                p.stations.load(Ordering::Relaxed)
            ));
            std::thread::sleep(Duration::from_millis(250));
        }
    });
    Some((bar, start))
}

/// `--merge`: every trace opened, merged in time order and checked as one (named
/// `a.jsonl+b.jsonl`); an input that cannot be opened is an input error of the merge.
fn merged(
    paths: &[PathBuf],
    opts: &CheckOptions,
    stream: &StreamOptions,
) -> crate::checker::CheckedFile {
    let mut inputs = Vec::new();
    let mut unopened = Vec::new();
    for p in paths {
        match crate::source::input::open(p, &stream.input) {
            Ok(src) => inputs.push((p.display().to_string(), src)),
            Err(e) => unopened.push(crate::checker::InputError {
                line: 0,
                message: format!("{}: {e}", p.display()),
            }),
        }
    }
    let mut src = crate::source::merge::MergedSource::new(inputs);
    let cores = if opts.jobs == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        opts.jobs
    };
    let mut out = crate::checker::check_source_streaming(&mut src, opts, stream, cores);
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    out.path = PathBuf::from(names.join("+"));
    out.input_errors.splice(0..0, unopened);
    out
}

pub fn run(args: &CheckArgs) -> Result<u8> {
    check_outputs(args)?;
    let schemas = args.engine.schemas()?;
    for note in &schemas.notes {
        eprintln!("ocpp-inspector: note: {note}");
    }
    let config = build_config(&args.engine)?;
    let fail_on = args.fail_on.severity();
    let info = RunInfo {
        schemas: schemas.origin.clone(),
        fail_on: fail_on.unwrap_or(Severity::Error),
    };
    let gate = Gate { info, fail_on };
    let today = match &args.today {
        None => None,
        Some(d) => Some(
            parse_date(d)
                .ok_or_else(|| anyhow!("--today must be a date (YYYY-MM-DD), got `{d}`"))?,
        ),
    };
    let mut waivers = Waivers::default();
    if let Some(path) = &args.engine.config {
        waivers.extend(Waivers::from_config(path)?);
    }
    if let Some(path) = &args.waivers {
        waivers.extend(Waivers::load(path)?);
    }
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let main_out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(create(path, "-o")?),
        None => Box::new(Stdout {
            inner: BufWriter::with_capacity(256 * 1024, io::stdout()),
            closed: false,
        }),
    };
    let mut reporter = Reporter::new(gate.clone());
    match args.format {
        Format::Text => {
            reporter.add(TextWriter::new(main_out, Style { color }, gate.clone()).with_rule_table())
        }
        Format::Json => reporter.add(JsonWriter::new(main_out, gate.clone())),
        Format::Junit => reporter.add(JunitWriter::new(main_out, gate.clone())),
        Format::Sarif => reporter.add(SarifWriter::new(
            main_out,
            gate.clone(),
            args.rules_url.clone(),
        )),
        Format::Github => reporter.add(GithubWriter::new(main_out, gate.clone())),
        Format::Gitlab => reporter.add(GitlabWriter::new(main_out)),
        Format::Html => reporter.add(HtmlWriter::new(main_out, gate.clone())),
    }
    if let Some(p) = &args.json {
        reporter.add(JsonWriter::new(create(p, "--json")?, gate.clone()));
    }
    if let Some(p) = &args.junit {
        reporter.add(JunitWriter::new(create(p, "--junit")?, gate.clone()));
    }
    if let Some(p) = &args.sarif {
        reporter.add(SarifWriter::new(
            create(p, "--sarif")?,
            gate.clone(),
            args.rules_url.clone(),
        ));
    }
    if let Some(p) = &args.html {
        reporter.add(HtmlWriter::new(create(p, "--html")?, gate.clone()));
    }
    if let Some(p) = &args.gitlab {
        reporter.add(GitlabWriter::new(create(p, "--gitlab")?));
    }
    if let Some(p) = &args.write_baseline {
        reporter.add(JsonWriter::baseline(
            create(p, "--write-baseline")?,
            gate.clone(),
        ));
    }
    if let Some(b) = baseline {
        reporter.with_baseline(b);
    }
    if !waivers.is_empty() {
        reporter.with_waivers(waivers, today);
    }

    let opts = CheckOptions {
        schemas: Arc::new(schemas),
        config: Arc::new(config),
        default_version: args.engine.ocpp,
        jobs: args.jobs,
    };
    let progress = Arc::new(Progress::default());
    let bar = progress_bar(&args.traces, progress.clone());
    let stream = StreamOptions {
        spill: true,
        progress: Some(progress),
        input: args.input.options(),
    };
    let machine = args.format != Format::Text;
    let mut failure: Option<io::Error> = None;
    let mut each = |file: crate::checker::CheckedFile| {
        if failure.is_some() {
            return;
        }
        for n in &file.notes {
            eprintln!("ocpp-inspector: note: {}: {n}", file.path.display());
        }
        if machine {
            // Machine formats carry input errors inside; say it on stderr too.
            for e in &file.input_errors {
                let msg = format!(
                    "ocpp-inspector: input error: {}:{}: {}",
                    file.path.display(),
                    e.line,
                    e.message
                );
                match &bar {
                    Some((b, _)) => b.suspend(|| eprintln!("{msg}")),
                    None => eprintln!("{msg}"),
                }
            }
        }
        // The bar steps aside while the report is written (a terminal may show both).
        let written = match &bar {
            Some((b, _)) => b.suspend(|| reporter.checked(file)),
            None => reporter.checked(file),
        };
        if let Err(e) = written {
            failure = Some(e);
        }
    };
    if args.merge {
        each(merged(&args.traces, &opts, &stream));
    } else {
        check_files_streaming(&args.traces, &opts, &stream, each);
    }
    if let Some((b, _)) = &bar {
        b.finish_and_clear();
    }
    if let Some(e) = failure {
        return Err(anyhow::Error::from(e).context("writing the report"));
    }
    let totals = reporter.finish().context("writing the report")?;
    // The verdict on stderr too, unless the text report on the terminal just said it.
    if !(args.format == Format::Text && args.output.is_none()) {
        eprintln!("{}", totals.line(&gate));
    }
    Ok(if totals.summary.input_errors > 0 {
        exit::USAGE
    } else if totals.failing > 0 {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}
