//! `ocpp-inspector check TRACE...`: the CI gate over captured traces.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::args::{EngineArgs, InputArgs};
pub use super::args::{build_config, load_schemas};
use super::exit;
use crate::checker::{CheckOptions, check_files_with};
use crate::finding::Severity;
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
    /// Traces: our JSON Lines, pcap/pcapng captures, Open OCPP Trace files or text logs
    /// (told by content; `-` reads standard input; .gz is read transparently)
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,

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

pub fn run(args: &CheckArgs) -> Result<u8> {
    let schemas = args.engine.schemas()?;
    for note in &schemas.notes {
        eprintln!("ocpp-inspector: note: {note}");
    }
    let config = build_config(&args.engine)?;
    let info = RunInfo {
        schemas: schemas.origin.clone(),
        fail_on: args.fail_on.into(),
    };
    let opts = CheckOptions {
        schemas: Arc::new(schemas),
        config: Arc::new(config),
        default_version: args.engine.ocpp,
        jobs: args.jobs,
    };
    let results = check_files_with(&args.traces, &opts, &args.input.options());
    for r in &results {
        for n in &r.notes {
            eprintln!("ocpp-inspector: note: {}: {n}", r.path.display());
        }
    }

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
