//! The test cases behind the proxy: a [`LiveSink`] that feeds every tapped event to the case
//! runner, prints each case's progress as one line (`case     CP-001  2.0.1/B/01_CS  step 2
//! matched`), keeps the findings, and at the end settles the cases exactly as the offline run
//! does and hands the outcome over. It runs on the live consumer's thread and does no network
//! I/O; the report files are written by the caller from the outcome.
//!
//! With an [`Injector`] (the proxy's [`ProxyHandle`] and a runtime) and the case allowed
//! ([`LiveCases::allow_inject`]: `--allow-inject` and the case named), a case's `inject` step
//! has the proxy send its CALL when the steps before it matched; a case not allowed is not
//! run when it reaches that step, and nothing is sent: the send runs as a task on
//! the runtime, never on this thread; the injected frames come back through the tap like any
//! other, and a failed injection fails the case at that step.
//!
//! With the terminal UI attached ([`LiveCases::with_ui`]) the progress goes to the UI's
//! bounded feed instead of the lines (never waiting: a full feed drops and counts), and at
//! the end the final verdicts follow; the outcome is the same either way.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::runner::{InjectPolicy, Policy, Progress, ProgressKind, Runner};
use super::verdict::Verdict;
use super::{Case, TraceOutcome, settle};
use crate::engine::Observation;
use crate::finding::Finding;
use crate::sink::tui::app::CaseInfo;
use crate::sink::tui::feed::{CaseEnd, CaseStep, FeedItem, FeedSender};
use crate::sink::{LiveOutcome, LiveSink};
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

/// The UI the progress goes to instead of the lines.
struct UiFeed {
    tx: FeedSender,
    /// Stations whose cases the UI was told about.
    stations: HashSet<String>,
}

/// The live case runner.
pub struct LiveCases<W: Write + Send> {
    runner: Option<Runner>,
    cases: Arc<Vec<Case>>,
    ui: Option<UiFeed>,
    findings: Vec<Finding>,
    span: Option<(Timestamp, Timestamp)>,
    progress: Vec<Progress>,
    out: W,
    slot: OutcomeSlot,
    injector: Option<Injector>,
    /// Per case: may its inject steps be sent (default: none may).
    allowed: Vec<bool>,
    failures: (mpsc::Sender<InjectFailure>, mpsc::Receiver<InjectFailure>),
}

impl<W: Write + Send> LiveCases<W> {
    /// Progress lines go to `out`; the outcome to `slot` at the end.
    pub fn new(cases: Arc<Vec<Case>>, out: W, slot: OutcomeSlot) -> Self {
        let policy = Policy {
            ended: "the live run",
            ..Policy::default()
        };
        LiveCases {
            runner: Some(Runner::with_policy(cases.clone(), policy)),
            allowed: vec![false; cases.len()],
            cases,
            ui: None,
            findings: Vec::new(),
            span: None,
            progress: Vec::new(),
            out,
            slot,
            injector: None,
            failures: mpsc::channel(),
        }
    }

    /// Inject steps are sent through `injector`, for the cases [`LiveCases::allow_inject`]
    /// allows (none by default: such a case is not run, "injection not allowed"); without an
    /// injector they wait for the CSMS's own call of the action, as in the offline run.
    pub fn with_injector(mut self, injector: Injector) -> Self {
        self.injector = Some(injector);
        self.set_inject_policy();
        self
    }

    /// Which cases (by index into the cases given to [`LiveCases::new`]) may have their
    /// inject steps sent: the lab's `--allow-inject` with the case named.
    pub fn allow_inject(mut self, allowed: Vec<bool>) -> Self {
        self.allowed = allowed;
        self.set_inject_policy();
        self
    }

    /// The lab's choices besides injection (`--case-findings`, `--dut`).
    pub fn with_policy(
        mut self,
        case_findings: super::CaseFindings,
        stations: Option<Vec<String>>,
    ) -> Self {
        if let Some(r) = self.runner.as_mut() {
            let p = r.policy_mut();
            p.case_findings = case_findings;
            p.stations = stations;
        }
        self
    }

    fn set_inject_policy(&mut self) {
        let inject = if self.injector.is_some() {
            InjectPolicy::Live {
                allowed: self.allowed.clone(),
            }
        } else {
            InjectPolicy::Recorded { marked_only: false }
        };
        if let Some(r) = self.runner.as_mut() {
            r.policy_mut().inject = inject;
        }
    }

    /// Progress goes to the terminal UI's feed instead of the lines: which cases wait on a
    /// station once its OCPP version is known, each step, and at the end the verdicts. The
    /// UI must have been given these cases, in this order (`App::set_cases`).
    pub fn with_ui(mut self, tx: FeedSender) -> Self {
        self.ui = Some(UiFeed {
            tx,
            stations: HashSet::new(),
        });
        self
    }

    fn print(&mut self) {
        if self.runner.is_none() {
            return;
        }
        for p in &self.progress {
            if self.injector.is_none() && matches!(p.kind, ProgressKind::Inject { .. }) {
                continue;
            }
            match &self.ui {
                Some(ui) => {
                    ui.tx.send(FeedItem::Case {
                        station: Arc::from(p.station.as_str()),
                        case: p.case,
                        step: case_step(&p.kind),
                    });
                }
                None => {
                    let _ = writeln!(self.out, "{}", progress_line(&self.cases, p));
                }
            }
        }
    }

    /// Tells the UI which cases wait on the observation's station, the first time the
    /// engine knows its version (the runner's rule).
    fn announce(&mut self, o: &Observation<'_>) {
        let Some(ui) = self.ui.as_mut() else {
            return;
        };
        let Some(version) = o.station.version else {
            return;
        };
        if ui.stations.contains(o.conn) {
            return;
        }
        // A station `--dut` leaves out gets no case rows.
        let under_test = self.runner.as_ref().is_none_or(|r| {
            r.policy()
                .stations
                .as_ref()
                .is_none_or(|l| l.iter().any(|s| s == o.conn))
        });
        if !under_test {
            return;
        }
        ui.stations.insert(o.conn.to_owned());
        ui.tx.send(FeedItem::CaseStation {
            station: Arc::from(o.conn),
            version,
        });
    }

    /// The final verdicts, to the UI.
    fn send_verdicts(&self, outcome: &TraceOutcome) {
        let Some(ui) = &self.ui else {
            return;
        };
        let index: HashMap<&str, usize> = self
            .cases
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        for r in &outcome.results {
            let (Some(station), Some(&case)) = (&r.station, index.get(r.id.as_str())) else {
                continue;
            };
            // Known failures are applied after the run, by the caller; mapped here to what
            // the device did, should an outcome carry them.
            let end = match r.verdict {
                Verdict::Passed | Verdict::Fixed => CaseEnd::Passed,
                Verdict::Failed | Verdict::KnownFailure => CaseEnd::Failed {
                    step: r.failed_step.unwrap_or(0),
                    reason: r.reason.clone(),
                },
                Verdict::NotRun => CaseEnd::NotRun {
                    reason: r.reason.clone(),
                },
                Verdict::Inconclusive | Verdict::NotApplicable => CaseEnd::NotRun {
                    reason: format!("{}: {}", r.verdict.as_str().replace('_', " "), r.reason),
                },
            };
            let step = CaseStep::Ended(end);
            ui.tx.send(FeedItem::Case {
                station: Arc::from(station.as_str()),
                case,
                step,
            });
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
    pub fn stderr(cases: Arc<Vec<Case>>) -> (Self, OutcomeSlot) {
        let slot = OutcomeSlot::default();
        (LiveCases::new(cases, io::stderr(), slot.clone()), slot)
    }
}

impl CaseInfo {
    /// What the Cases pane needs of a test case (made here: the UI knows no test cases).
    pub fn of(case: &Case) -> CaseInfo {
        CaseInfo {
            id: case.id.clone(),
            title: case.title.clone(),
            versions: case.versions.clone(),
            steps: case.steps.len(),
        }
    }
}

/// What the UI shows of a step of progress.
fn case_step(kind: &ProgressKind) -> CaseStep {
    match kind {
        ProgressKind::Started => CaseStep::Started,
        ProgressKind::StepMatched(i) => CaseStep::Matched(*i),
        ProgressKind::Ended(end) => CaseStep::Ended(end.clone()),
        ProgressKind::Inject { step, action, .. } => CaseStep::Injecting {
            step: *step,
            action: action.as_str().into(),
        },
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
        ProgressKind::Ended(CaseEnd::Passed) => "PASSED".to_owned(),
        ProgressKind::Inject { step, action, .. } => {
            format!("step {}: injecting {action}", step + 1)
        }
        ProgressKind::Ended(CaseEnd::Failed { reason, .. }) => format!("FAILED: {reason}"),
        ProgressKind::Ended(CaseEnd::NotRun { reason }) => format!("NOT RUN: {reason}"),
    };
    // One line whatever the reason holds.
    let line = format!("case     {}  {id}  {what}", p.station);
    line.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl<W: Write + Send> LiveSink for LiveCases<W> {
    fn wants_observations(&self) -> bool {
        true
    }

    fn observe(&mut self, o: &Observation<'_>) {
        self.take_failures();
        let Some(runner) = self.runner.as_mut() else {
            return;
        };
        self.span = Some(match self.span {
            None => (o.at, o.at),
            Some((a, b)) => (a.min(o.at), b.max(o.at)),
        });
        self.progress.clear();
        runner.feed(o, &mut self.progress);
        self.announce(o);
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
        self.send_verdicts(&outcome);
        let mut slot = self
            .slot
            .lock()
            .map_err(|_| io::Error::other("the test case outcome slot is poisoned"))?;
        *slot = Some(outcome);
        Ok(())
    }
}
