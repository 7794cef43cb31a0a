//! The outcome of a case run: the verdict, the reason, each step's status with the frames
//! that matched it as evidence, and the rule findings that fell inside the run. Data only;
//! the renderings live in `report` and `report_html`.

use crate::finding::Finding;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// How a case ended for one station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Passed,
    Failed,
    /// The trigger never happened (or the case does not apply to the station's version).
    NotRun,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::NotRun => "not_run",
        }
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Matched (at least once).
    Matched,
    /// Optional and passed over.
    Skipped,
    /// The step the case failed at.
    Failed,
    /// Not reached.
    Pending,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Matched => "matched",
            StepStatus::Skipped => "skipped",
            StepStatus::Failed => "failed",
            StepStatus::Pending => "pending",
        }
    }
}

/// A frame kept as evidence.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// 1-based trace line (0 when the event came from elsewhere).
    pub line: u64,
    pub at: Timestamp,
    pub from: Side,
    /// The frame, shortened.
    pub text: String,
    /// The inspector injected it (or it answers an injected call): recorded `"injected":true`.
    pub injected: bool,
}

/// One step of one case run.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub name: String,
    /// `charger CALL BootNotification`.
    pub shape: String,
    /// The matchers in words.
    pub expects: String,
    pub optional: bool,
    pub repeat: bool,
    pub status: StepStatus,
    pub evidence: Vec<Evidence>,
}

/// The result of one case for one station.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    pub refs: Vec<String>,
    pub dut: &'static str,
    pub requirement: String,
    /// The station identity; `None` when the trace has no station at all.
    pub station: Option<String>,
    pub version: Option<Version>,
    pub verdict: Verdict,
    /// Why it failed or did not run; empty when passed.
    pub reason: String,
    /// Index of the step the case failed at.
    pub failed_step: Option<usize>,
    pub steps: Vec<StepResult>,
    /// Lines of the first and last event of the run (inclusive), for attaching findings.
    pub lines: Option<(u64, u64)>,
    /// When the run started and ended.
    pub span: Option<(Timestamp, Timestamp)>,
    /// Rule findings on this station inside the run.
    pub findings: Vec<Finding>,
}

impl CaseResult {
    /// Lists the findings of this station that fall inside the run: by line when the events
    /// came from a trace, else by time.
    pub fn attach_findings(&mut self, all: &[Finding]) {
        let Some(station) = &self.station else {
            return;
        };
        let Some((first, last)) = self.lines else {
            return;
        };
        let span = self.span;
        self.findings = all
            .iter()
            .filter(|f| &*f.conn == station.as_str())
            .filter(|f| {
                if first > 0 && f.line > 0 {
                    f.line >= first && f.line <= last
                } else {
                    span.is_some_and(|(a, b)| f.at >= a && f.at <= b)
                }
            })
            .cloned()
            .collect();
    }
}

/// Counts of each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub not_run: usize,
}

impl Tally {
    pub fn of(results: &[CaseResult]) -> Tally {
        let mut t = Tally::default();
        for r in results {
            match r.verdict {
                Verdict::Passed => t.passed += 1,
                Verdict::Failed => t.failed += 1,
                Verdict::NotRun => t.not_run += 1,
            }
        }
        t
    }
}
