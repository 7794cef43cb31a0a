//! Conformance test cases: declarative scenarios (`testcases/**/*.toml`) judged against the
//! traffic of one station, case by case, with the frames as evidence (the lab's view, next to
//! the engine's "no rule violated").
//!
//! ```text
//! testcases/*.toml ──► scenario::load (validate) ──► Case
//! Event ──► engine::Engine::feed_observed ──► Finding (attached to the case runs they fall in)
//!                                 └─► Observation ──► runner::Runner::feed ──► step progress,
//!                                                     verdicts (per case and station)
//! verdict::CaseResult ──► report (text, json, junit) / report_html (the lab report)
//! ```
//!
//! The runner is sans-io like the engine: it reads no files, no sockets and no clock (time
//! comes inside the events), so the offline `testcase run --trace` and the live one behind
//! the proxy ([`live::LiveCases`], a `sink::LiveSink` fed by the engine's observations) feed
//! the same code. It judges scenario steps only; protocol rules stay the engine's job.

pub mod builtin;
pub mod live;
pub mod matcher;
pub mod meta;
pub mod policy;
pub mod report;
pub mod report_html;
pub mod runner;
pub mod scenario;
pub mod sim_claims;
pub mod verdict;

use std::io::{BufReader, Read};
use std::sync::Arc;

use crate::engine::{Config, Engine, Observation, SchemaSet};
use crate::finding::Finding;
use crate::ocpp::Version;
use crate::source::input::{Item, JsonlSource, Source};
use crate::source::trace_reader::parse_record;
use crate::time::Timestamp;

pub use runner::{InjectPolicy, Policy, Runner};
pub use scenario::{Case, CaseFindings};
pub use verdict::{CaseResult, Verdict};

/// Everything one offline run produced.
#[derive(Debug)]
pub struct TraceOutcome {
    /// One result per selected case and station (stations sorted by identity).
    pub results: Vec<CaseResult>,
    /// What each station told about itself.
    pub stations: Vec<runner::StationInfo>,
    /// Every rule finding of the trace, sorted by line.
    pub findings: Vec<Finding>,
    /// Lines that are not trace records, and other input problems (line, message).
    pub input_errors: Vec<(u64, String)>,
    /// First and last timestamp of the trace.
    pub span: Option<(Timestamp, Timestamp)>,
}

/// Judges a recorded trace: every event goes to the engine (rule findings) and to the
/// runner (scenario steps); at the end time-based rules and unfinished cases are settled at
/// the trace's last timestamp, and each finding is listed with the case runs it falls in.
pub fn run_trace<R: Read>(
    reader: R,
    cases: Arc<Vec<Case>>,
    schemas: Arc<SchemaSet>,
    config: Arc<Config>,
    default_version: Option<Version>,
) -> TraceOutcome {
    run_trace_with(
        reader,
        cases,
        schemas,
        config,
        default_version,
        Policy::default(),
    )
}

/// [`run_trace`] judged by `policy`.
pub fn run_trace_with<R: Read>(
    reader: R,
    cases: Arc<Vec<Case>>,
    schemas: Arc<SchemaSet>,
    config: Arc<Config>,
    default_version: Option<Version>,
    policy: Policy,
) -> TraceOutcome {
    let mut src = JsonlSource::new(BufReader::new(reader));
    let setup = RunSetup {
        cases,
        schemas,
        config,
        default_version,
        policy,
    };
    run_sources_with(&mut [&mut src as &mut dyn Source], setup)
}

/// Judges several inputs of any format (see [`crate::source::input`]) as one trace, in
/// order: what [`run_trace`] does for one JSON Lines reader. Importer notes are not kept.
pub fn run_sources(
    sources: &mut [&mut dyn Source],
    cases: Arc<Vec<Case>>,
    schemas: Arc<SchemaSet>,
    config: Arc<Config>,
    default_version: Option<Version>,
) -> TraceOutcome {
    let setup = RunSetup {
        cases,
        schemas,
        config,
        default_version,
        policy: Policy::default(),
    };
    run_sources_with(sources, setup)
}

/// What judges a run: the cases and their policy, and the engine's schemas, configuration
/// and default version.
pub struct RunSetup {
    pub cases: Arc<Vec<Case>>,
    pub schemas: Arc<SchemaSet>,
    pub config: Arc<Config>,
    pub default_version: Option<Version>,
    pub policy: Policy,
}

/// [`run_sources`] judged by `policy` (`--dut`, `--case-findings`, marked injections).
pub fn run_sources_with(sources: &mut [&mut dyn Source], setup: RunSetup) -> TraceOutcome {
    let RunSetup {
        cases,
        schemas,
        config,
        default_version,
        policy,
    } = setup;
    let mut engine = Engine::new(schemas, config, default_version);
    let mut runner = Runner::with_policy(cases, policy);
    let mut findings = Vec::new();
    let mut input_errors = Vec::new();
    let mut span: Option<(Timestamp, Timestamp)> = None;
    let mut progress = Vec::new();
    for src in sources.iter_mut() {
        while let Some(item) = src.next_item() {
            let (n, line) = match item {
                Item::Line { pos, text } => (pos, text),
                Item::Problem(p) => {
                    input_errors.push((p.pos, p.message));
                    continue;
                }
                Item::Note(_) => continue,
            };
            let record = match parse_record(line, n) {
                Ok(r) => r,
                Err(e) => {
                    input_errors.push((e.line, e.message));
                    continue;
                }
            };
            span = Some(match span {
                None => (record.at, record.at),
                Some((a, b)) => (a.min(record.at), b.max(record.at)),
            });
            let Some(event) = record.event(n) else {
                continue;
            };
            // The runner reads the engine's observations: one reading of the traffic.
            let fed = engine.feed_observed(&event, &mut findings, &mut |o: &Observation<'_>| {
                runner.feed(o, &mut progress);
            });
            if let Err(e) = fed {
                input_errors.push((n, e.to_string()));
            }
            progress.clear();
        }
    }
    if let Some((_, end)) = span {
        engine.finish(end, &mut findings);
    }
    settle(runner, findings, input_errors, span)
}

/// Ends a run: unfinished cases are settled at the end of the span, each finding is listed
/// with the case runs it falls in, and a case whose device under test sent a frame with a
/// finding at or above the case-findings level inside it fails. Shared by the offline and
/// the live path, so both decide alike.
pub fn settle(
    mut runner: Runner,
    mut findings: Vec<Finding>,
    input_errors: Vec<(u64, String)>,
    span: Option<(Timestamp, Timestamp)>,
) -> TraceOutcome {
    if let Some((_, end)) = span {
        runner.finish(end, &mut Vec::new());
    }
    findings.sort_by_key(|f| f.line);
    let mut results = runner.results();
    let policy = runner.policy().case_findings;
    for r in &mut results {
        r.attach_findings(&findings);
        let own = runner
            .cases()
            .iter()
            .find(|c| c.id == r.id)
            .and_then(|c| c.case_findings);
        policy::fail_on_findings(r, own.unwrap_or(policy));
    }
    TraceOutcome {
        results,
        stations: runner.stations(),
        findings,
        input_errors,
        span,
    }
}
