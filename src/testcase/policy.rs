//! The lab's choices for a run beyond the case files ([`Policy`]: which findings fail a
//! case, how inject steps are matched and whether they may be sent, which stations are under
//! test, what ends the observation), and the one rule that turns a finding on the device's
//! own frame inside a case into a failure. Data and a pure function: no I/O, no clock.

use super::scenario::CaseFindings;
use super::verdict::{CaseResult, Verdict};
use crate::finding::Severity;
use crate::ocpp::Side;

/// How a run is judged beyond the case files: the lab's choices.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Which findings on the device's own frames inside a case fail it (a case's own
    /// `case_findings` wins).
    pub case_findings: CaseFindings,
    /// How inject steps are matched (and, live, whether they may be sent).
    pub inject: InjectPolicy,
    /// `--dut charger:ID,...`: only these stations are judged; `None`: every station.
    pub stations: Option<Vec<String>>,
    /// What ends the observation, for inconclusive reasons (`the trace`, `the live run`).
    pub ended: &'static str,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            case_findings: CaseFindings::Error,
            inject: InjectPolicy::Recorded { marked_only: false },
            stations: None,
            ended: "the trace",
        }
    }
}

/// Inject steps: offline they match recorded frames; live the proxy sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectPolicy {
    /// Offline: an inject step matches a recorded csms CALL of its action; only one the
    /// recording marks `"injected":true` when `marked_only` (the recording has such marks).
    Recorded { marked_only: bool },
    /// Live: the inject steps of the cases allowed (by index into the runner's cases) are
    /// sent and match only the injected frame; a case not allowed is not run when it reaches
    /// its inject step.
    Live { allowed: Vec<bool> },
}

impl InjectPolicy {
    pub(crate) fn marked_only(&self) -> bool {
        match self {
            InjectPolicy::Recorded { marked_only } => *marked_only,
            InjectPolicy::Live { .. } => true,
        }
    }
}

/// A passed or inconclusive case fails when the device under test sent, inside the case, a
/// frame with a finding at or above `level`; the reason names the frame and the rule.
pub fn fail_on_findings(r: &mut CaseResult, level: CaseFindings) {
    let Some(min) = level.threshold() else {
        return;
    };
    if !matches!(r.verdict, Verdict::Passed | Verdict::Inconclusive) {
        return;
    }
    let dut = if r.dut == Side::Csms.as_str() {
        Side::Csms
    } else {
        Side::Charger
    };
    let mut hits = r
        .findings
        .iter()
        .filter(|f| f.from == Some(dut) && f.severity >= min);
    let Some(f) = hits.next() else {
        return;
    };
    let more = hits.count();
    let frame = match (f.action.as_deref(), f.unique_id.as_deref()) {
        (Some(a), Some(id)) => format!(" ({a}, message id {id})"),
        (Some(a), None) => format!(" ({a})"),
        (None, Some(id)) => format!(" (message id {id})"),
        (None, None) => String::new(),
    };
    r.verdict = Verdict::Failed;
    r.reason = format!(
        "the {dut} under test sent a frame with {} {} finding inside the case: line {}{frame}: [{}] {}{}",
        if f.severity == Severity::Error {
            "an"
        } else {
            "a"
        },
        f.severity,
        f.line,
        f.rule.id,
        f.message,
        if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        }
    );
}
