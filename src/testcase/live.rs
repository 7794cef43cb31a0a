//! The test cases behind the proxy: a [`LiveSink`] that feeds every tapped event to the case
//! runner, prints each case's progress as one line (`case     CP-001  2.0.1/B/01_CS  step 2
//! matched`), keeps the findings, and at the end settles the cases exactly as the offline run
//! does and hands the outcome over. It runs on the live consumer's thread and does no network
//! I/O; the report files are written by the caller from the outcome.
//!
//! With an [`Injector`] (the proxy's [`ProxyHandle`] and a runtime), a case's `inject` step
//! has the proxy send its CALL when the steps before it matched: the send runs as a task on
//! the runtime, never on this thread; the injected frames come back through the tap like any
//! other, and a failed injection fails the case at that step.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::runner::{Progress, ProgressKind, Runner};
use super::{Case, TraceOutcome, settle};
use crate::engine::Event;
use crate::finding::Finding;
use crate::live::{LiveOutcome, LiveSink};
use crate::ocpp::Version;
use crate::source::proxy::ProxyHandle;
use crate::time::Timestamp;

/// How the live runner injects: the proxy's handle, the runtime the sends run on, and how
/// long each waits for the charger's answer.
pub struct Injector {
    pub proxy: ProxyHandle,
    pub runtime: tokio::runtime::Handle,
    pub timeout: Duration,
}

/// An injection that failed: station, case, step, why.
type InjectFailure = (String, usize, usize, String);

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
    injector: Option<Injector>,
    failures: (mpsc::Sender<InjectFailure>, mpsc::Receiver<InjectFailure>),
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
            injector: None,
            failures: mpsc::channel(),
        }
    }

    /// Inject steps are sent through `injector`; without one they wait for the CSMS's own
    /// call of the action, as in the offline run.
    pub fn with_injector(mut self, injector: Injector) -> Self {
        self.injector = Some(injector);
        self
    }

    fn print(&mut self) {
        if let Some(runner) = &self.runner {
            for p in &self.progress {
                if self.injector.is_none() && matches!(p.kind, ProgressKind::Inject { .. }) {
                    continue;
                }
                let _ = writeln!(self.out, "{}", progress_line(runner.cases(), p));
            }
        }
    }

    /// Starts the sends the runner asked for. Without a proxy to send through, an inject
    /// step waits for the CSMS's own call, as offline.
    fn start_injections(&mut self) {
        let Some(inj) = &self.injector else {
            return;
        };
        for p in &self.progress {
            let ProgressKind::Inject {
                step,
                action,
                payload,
            } = &p.kind
            else {
                continue;
            };
            let (station, case, step) = (p.station.clone(), p.case, *step);
            let (action, payload) = (action.clone(), payload.clone());
            let proxy = inj.proxy.clone();
            let timeout = inj.timeout;
            let failed = self.failures.0.clone();
            inj.runtime.spawn(async move {
                if let Err(e) = proxy.inject(&station, &action, payload, timeout).await {
                    let _ = failed.send((station, case, step, e.to_string()));
                }
            });
        }
    }

    /// Fails the cases whose injection failed since the last event.
    fn take_failures(&mut self) {
        let failed: Vec<InjectFailure> = self.failures.1.try_iter().collect();
        let Some(runner) = self.runner.as_mut() else {
            return;
        };
        self.progress.clear();
        for (station, case, step, why) in failed {
            runner.inject_failed(&station, case, step, &why, &mut self.progress);
        }
        self.print();
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
        ProgressKind::Inject { step, action, .. } => {
            format!("step {}: injecting {action}", step + 1)
        }
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
        self.event_marked(event, false);
    }

    fn event_marked(&mut self, event: &Event<'_>, injected: bool) {
        self.take_failures();
        let Some(runner) = self.runner.as_mut() else {
            return;
        };
        self.span = Some(match self.span {
            None => (event.at, event.at),
            Some((a, b)) => (a.min(event.at), b.max(event.at)),
        });
        self.progress.clear();
        runner.feed_marked(event, injected, &mut self.progress);
        self.print();
        self.start_injections();
    }

    fn finding(&mut self, finding: &Finding) {
        self.findings.push(finding.clone());
    }

    fn finish(&mut self, _outcome: &LiveOutcome) -> io::Result<()> {
        self.take_failures();
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
