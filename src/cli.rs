//! The command line: clap arguments → a command → an exit code (0 clean, 1 findings at or
//! above `--fail-on`, 2 usage error or unreadable input). Only this layer prints.

pub mod args;
pub mod certs;
pub mod check;
pub mod convert;
pub mod demo;
pub mod proxy;
pub mod rules;
pub mod signal;
pub mod sim;
pub mod testcase;
pub mod view;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes, a contract for CI pipelines.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "ocpp-inspector",
    version,
    about = "Inspect OCPP 1.6 / 2.0.1 / 2.1 traffic and prove it conformant",
    long_about = "Inspect OCPP 1.6 / 2.0.1 / 2.1 traffic and prove it conformant.\n\n\
Every frame is checked against the official OCPP JSON schemas and the OCPP-J framing \
rules; every failure is named with where it is and why.",
    after_help = "Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage error or unreadable input.\nSee `ocpp-inspector rules` for what is checked."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check traces (JSON Lines, pcap/pcapng, Open OCPP Trace, text logs) and exit non-zero on violations
    Check(check::CheckArgs),
    /// List the rules, or explain one (`ocpp-inspector rules rpc.not-json`)
    Rules(rules::RulesArgs),
    /// Relay chargers to a CSMS and inspect every frame live
    Proxy(Box<proxy::ProxyCommandArgs>),
    /// Make a test CA, server and charger certificates for the security profiles
    Certs(certs::CertsArgs),
    /// Run a simulated charger fleet or CSMS
    Sim(sim::SimArgs),
    /// Open a trace in the terminal UI (frames, pairs, findings, detail)
    View(view::ViewArgs),
    /// Convert captures, Open OCPP Trace files and logs into our trace format (or --to oot)
    Convert(convert::ConvertArgs),
    /// Show the tool at work: simulated CSMS and chargers through the proxy, inspected live
    Demo(demo::DemoArgs),
    /// Conformance test cases: list them, or judge a trace (or live traffic) case by case
    Testcase(testcase::TestcaseArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::CLEAN
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Proxy(args) => proxy::run(&args),
        Command::Certs(args) => certs::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::View(args) => view::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Testcase(args) => testcase::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A reader that went away (`| head`) is not a failure worth a message.
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit::CLEAN),
        Err(e) => {
            eprintln!("ocpp-inspector: error: {e:#}");
            ExitCode::from(exit::USAGE)
        }
    }
}

/// `--ocpp 1.6|2.0.1|2.1`, for every command that takes a version.
pub(crate) fn parse_version(s: &str) -> Result<crate::ocpp::Version, String> {
    s.parse()
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
