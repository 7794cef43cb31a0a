//! `ocpp-inspector check TRACE...`: the CI gate over captured traces.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::exit;
use super::parse_version;
use crate::checker::{CheckOptions, check_files};
use crate::engine::Config;
use crate::engine::schema::{ErrataSelection, SchemaSet};
use crate::finding::Severity;
use crate::ocpp::Version;
use crate::sink::report::{RunInfo, Summary, json, junit, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Compiler-style blocks and a summary line
    Text,
    /// One JSON document (a stable contract)
    Json,
    /// JUnit XML, one testsuite per trace file
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Trace files (JSON Lines: one frame or open/close event per line)
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,

    /// OCPP version of connections whose trace has no `open` event
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub ocpp: Option<Version>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Load an official OCA schema folder instead of the built-in schemas
    /// (Action.json / ActionRequest.json + ActionResponse.json, or subfolders 1.6/ 2.0.1/ 2.1/)
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,

    /// Errata overlays on the built-in schemas: all, none, or a comma-separated list of names
    /// (prefix each with - to drop it from all); `ocpp-inspector rules --errata` lists them
    #[arg(long, default_value = "all", value_name = "SET")]
    pub errata: String,

    /// Configuration file: rule severities or `off`, and tolerances (see README)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Switch a rule off (repeatable)
    #[arg(long = "disable", value_name = "RULE")]
    pub disable: Vec<String>,

    /// Seconds after which an unanswered CALL counts as timed out (default 30, or the
    /// configuration file's `call_timeout`)
    #[arg(long, value_name = "SECONDS")]
    pub call_timeout: Option<f64>,

    /// Worker threads (0 = one per core)
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,

    /// Colour in text output
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// Write the report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
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

/// Builds the schema set the flags ask for.
pub fn load_schemas(dir: Option<&PathBuf>, errata: &str) -> Result<SchemaSet> {
    match dir {
        Some(dir) => {
            if errata != "all" {
                anyhow::bail!(
                    "--errata applies to the built-in schemas only; a --schemas folder is used as it is"
                );
            }
            SchemaSet::from_dir(dir).with_context(|| format!("loading --schemas {}", dir.display()))
        }
        None => {
            let sel =
                ErrataSelection::parse(errata).map_err(|e| anyhow::anyhow!("--errata: {e}"))?;
            Ok(SchemaSet::builtin(&sel)?)
        }
    }
}

/// Builds the engine configuration from `--config`, `--disable` and `--call-timeout` (shared
/// with `view`).
pub fn build_config(
    file: Option<&PathBuf>,
    disable: &[String],
    call_timeout: Option<f64>,
) -> Result<Config> {
    let mut config = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --config {}", path.display()))?;
            Config::from_toml(&text, &path.display().to_string()).map_err(|e| anyhow::anyhow!(e))?
        }
        None => Config::default(),
    };
    for id in disable {
        config
            .disable(id)
            .map_err(|e| anyhow::anyhow!("--disable: {e}"))?;
    }
    if let Some(t) = call_timeout {
        if !(t.is_finite() && t > 0.0 && t < 1e9) {
            anyhow::bail!("--call-timeout must be a positive number of seconds, got {t}");
        }
        #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
        {
            config.tol.call_timeout_us = (t * 1e6) as i64;
        }
    }
    Ok(config)
}

pub fn run(args: &CheckArgs) -> Result<u8> {
    let schemas = load_schemas(args.schemas.as_ref(), &args.errata)?;
    for note in &schemas.notes {
        eprintln!("ocpp-inspector: note: {note}");
    }
    let config = build_config(args.config.as_ref(), &args.disable, args.call_timeout)?;
    let info = RunInfo {
        schemas: schemas.origin.clone(),
        fail_on: args.fail_on.into(),
    };
    let opts = CheckOptions {
        schemas: Arc::new(schemas),
        config: Arc::new(config),
        default_version: args.ocpp,
        jobs: args.jobs,
    };
    let results = check_files(&args.traces, &opts);

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut buf = Vec::new();
    match args.format {
        Format::Text => text::write(&mut buf, &results, &info, text::Style { color })?,
        Format::Json => json::write(&mut buf, &results, &info)?,
        Format::Junit => junit::write(&mut buf, &results, &info)?,
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, &buf).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            if let Err(e) = out.write_all(&buf).and_then(|()| out.flush())
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    let summary = Summary::of(&results);
    if args.format != Format::Text {
        // Machine formats carry input errors inside; say it on stderr too.
        for r in &results {
            for e in &r.input_errors {
                eprintln!(
                    "ocpp-inspector: input error: {}:{}: {}",
                    r.path.display(),
                    e.line,
                    e.message
                );
            }
        }
    }
    Ok(if summary.input_errors > 0 {
        exit::USAGE
    } else if summary.failing(info.fail_on) > 0 {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}
