//! `ocpp-inspector convert IN... -o OUT`: reads captures, Open OCPP Trace files, logs (or
//! our own traces) and writes our JSON Lines trace format, or Open OCPP Trace with
//! `--to oot`. Inputs are written one after the other. Input problems and what the
//! importers inferred go to stderr; the exit code is 2 when an input had problems (what
//! could be read is still written).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::args::InputArgs;
use super::exit;
use crate::source::input::{self, Item};
use crate::source::oot::OotWriter;
use crate::source::trace_reader::parse_record;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// Our trace format (JSON Lines, what the proxy records and `check` reads)
    Jsonl,
    /// Open OCPP Trace (frames only: it has no open, close or gap records)
    Oot,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Inputs: pcap/pcapng, Open OCPP Trace, text logs or our JSON Lines (`-`: standard input)
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,

    /// Where to write (`-`: standard output)
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: PathBuf,

    /// The format written
    #[arg(long, value_enum, default_value_t = Target::Jsonl)]
    pub to: Target,

    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: &ConvertArgs) -> Result<u8> {
    let out: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(
            File::create(&args.output)
                .with_context(|| format!("creating {}", args.output.display()))?,
        )
    };
    let mut out = BufWriter::new(out);
    let opts = args.input.options();
    let mut problems = 0u64;
    let mut oot = (args.to == Target::Oot).then(|| OotWriter::new(Vec::with_capacity(4096)));
    let mut records = 0u64;
    for path in &args.inputs {
        let mut src = match input::open(path, &opts) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("ocpp-inspector: input error: {}: {e}", path.display());
                problems += 1;
                continue;
            }
        };
        while let Some(item) = src.next_item() {
            match item {
                Item::Line { pos, text } => match oot.as_mut() {
                    None => {
                        out.write_all(text)?;
                        out.write_all(b"\n")?;
                        records += 1;
                    }
                    Some(w) => match parse_record(text, pos) {
                        Ok(rec) => {
                            if let Some(ev) = rec.event(pos) {
                                w.write(&ev)?;
                                let buf = std::mem::take(w.out_mut());
                                out.write_all(&buf)?;
                            }
                        }
                        Err(e) => {
                            eprintln!(
                                "ocpp-inspector: input error: {}:{pos}: {}",
                                path.display(),
                                e.message
                            );
                            problems += 1;
                        }
                    },
                },
                Item::Problem(p) => {
                    eprintln!(
                        "ocpp-inspector: input error: {}:{}: {}",
                        path.display(),
                        p.pos,
                        p.message
                    );
                    problems += 1;
                }
                Item::Note(n) => eprintln!("ocpp-inspector: note: {}: {n}", path.display()),
            }
        }
    }
    out.flush()?;
    if let Some(w) = &oot {
        records = w.written;
        if w.skipped > 0 {
            eprintln!(
                "ocpp-inspector: note: {} record(s) have no Open OCPP Trace form (open, close, gap, SEND or unparsable frames) and were left out",
                w.skipped
            );
        }
    }
    eprintln!(
        "ocpp-inspector: wrote {records} record(s) to {}",
        args.output.display()
    );
    Ok(if problems > 0 {
        exit::USAGE
    } else {
        exit::CLEAN
    })
}
