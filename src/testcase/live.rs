//! The test cases behind the proxy: a [`LiveSink`] that feeds every tapped event to the case
//! runner, prints each case's progress as one line (`case     CP-001  2.0.1/B/01_CS  step 2
//! matched`), keeps the findings, and at the end settles the cases exactly as the offline run
//! does and hands the outcome over. It runs on the live consumer's thread and does no network
//! I/O; the report files are written by the caller from the outcome.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use super::runner::{Progress, ProgressKind, Runner};
use super::{Case, TraceOutcome, settle};
use crate::engine::Event;
use crate::finding::Finding;
use crate::live::{LiveOutcome, LiveSink};
use crate::ocpp::Version;
use crate::time::Timestamp;

/// Where the outcome lands when the live run finishes.
pub type OutcomeSlot = Arc<Mutex<Option<TraceOutcome>>>;

/// The live case runner.
pub struct LiveCases<W: Write + Send> {
    runner: Option<Runner>,
    findings: Vec<Finding>,
    span: Option<(Timestamp, Timestamp)>,
    progress: Vec<Progress>,
    out: W,
    slot: OutcomeSlot,
}

impl<W: Write + Send> LiveCases<W> {
    /// Progress lines go to `out`; the outcome to `slot` at the end.
    pub fn new(
        cases: Arc<Vec<Case>>,
        default_version: Option<Version>,
        out: W,
        slot: OutcomeSlot,
    ) -> Self {
        LiveCases {
            runner: Some(Runner::new(cases, default_version)),
            findings: Vec::new(),
            span: None,
            progress: Vec::new(),
            out,
            slot,
        }
    }
}

impl LiveCases<io::Stderr> {
    /// Progress lines on standard error.
    pub fn stderr(cases: Arc<Vec<Case>>, default_version: Option<Version>) -> (Self, OutcomeSlot) {
        let slot = OutcomeSlot::default();
        (
            LiveCases::new(cases, default_version, io::stderr(), slot.clone()),
            slot,
        )
    }
}

/// One progress line.
pub fn progress_line(cases: &[Case], p: &Progress) -> String {
    let id = cases.get(p.case).map_or("?", |c| c.id.as_str());
    let what = match &p.kind {
        ProgressKind::Started => "started".to_owned(),
        ProgressKind::StepMatched(i) => {
            let name = cases
                .get(p.case)
                .and_then(|c| c.steps.get(*i))
                .map_or("", |s| s.name.as_str());
            format!("step {} matched: {name}", i + 1)
        }
        ProgressKind::Passed => "PASSED".to_owned(),
        ProgressKind::Failed { reason, .. } => format!("FAILED: {reason}"),
    };
    // One line whatever the reason holds.
    let line = format!("case     {}  {id}  {what}", p.station);
    line.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl<W: Write + Send> LiveSink for LiveCases<W> {
    fn event(&mut self, event: &Event<'_>) {
        let Some(runner) = self.runner.as_mut() else {
            return;
        };
        self.span = Some(match self.span {
            None => (event.at, event.at),
            Some((a, b)) => (a.min(event.at), b.max(event.at)),
        });
        self.progress.clear();
        runner.feed(event, &mut self.progress);
        for p in &self.progress {
            let _ = writeln!(self.out, "{}", progress_line(runner.cases(), p));
        }
    }

    fn finding(&mut self, finding: &Finding) {
        self.findings.push(finding.clone());
    }

    fn finish(&mut self, _outcome: &LiveOutcome) -> io::Result<()> {
        let Some(runner) = self.runner.take() else {
            return Ok(());
        };
        let outcome = settle(
            runner,
            std::mem::take(&mut self.findings),
            Vec::new(),
            self.span,
        );
        let mut slot = self
            .slot
            .lock()
            .map_err(|_| io::Error::other("the test case outcome slot is poisoned"))?;
        *slot = Some(outcome);
        Ok(())
    }
}
