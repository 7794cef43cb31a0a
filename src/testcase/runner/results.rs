//! The verdicts at the end of a run: one [`CaseResult`] per case and station, with the
//! reason a case did not run or does not apply. Reads the runs; changes nothing.

use super::*;

impl Run {
    pub(super) fn result(&self, case: &Case, station: &StationInfo) -> CaseResult {
        let (verdict, reason) = match self.state {
            State::Passed => (Verdict::Passed, String::new()),
            State::Failed => (Verdict::Failed, self.reason.clone()),
            State::Inconclusive => (Verdict::Inconclusive, self.reason.clone()),
            State::Refused => (Verdict::NotRun, self.reason.clone()),
            State::Waiting => (Verdict::NotRun, not_run_reason(case, self)),
            // Still running (a live view asked): not judged yet.
            State::Running => (
                Verdict::NotRun,
                match self.next_required(&case.steps) {
                    Some(j) => format!(
                        "running: waiting for step {} ({})",
                        j + 1,
                        case.steps[j].name
                    ),
                    None => "running".into(),
                },
            ),
        };
        let steps = case
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let status = if self.failed_step == Some(i) {
                    StepStatus::Failed
                } else if self.matched(i) {
                    StepStatus::Matched
                } else if self.skipped[i] {
                    StepStatus::Skipped
                } else {
                    StepStatus::Pending
                };
                StepResult {
                    name: s.name.clone(),
                    shape: s.shape(),
                    expects: s.describe_matchers(),
                    optional: s.optional,
                    repeat: s.repeat,
                    status,
                    evidence: self.hits[i].clone(),
                }
            })
            .collect();
        CaseResult {
            id: case.id.clone(),
            title: case.title.clone(),
            refs: case.refs.clone(),
            dut: case.dut.as_str(),
            requirement: case.requirement.clone(),
            octt: case.oca.as_ref().map(|o| o.id.clone()),
            profiles: case.profiles.clone(),
            station: Some(station.identity.clone()),
            version: station.version,
            verdict,
            reason,
            failed_step: self.failed_step,
            steps,
            lines: match (self.first, self.last) {
                (Some(a), Some(b)) if self.started() => Some((a.0, b.0)),
                _ => None,
            },
            span: match (self.first, self.last) {
                (Some(a), Some(b)) if self.started() => Some((a.1, b.1)),
                _ => None,
            },
            findings: Vec::new(),
            known: None,
        }
    }
}

/// Why a case never started: the first required trigger step that was missing in the
/// furthest attempt, and, when earlier trigger steps were seen, why that attempt broke.
fn not_run_reason(case: &Case, run: &Run) -> String {
    let current = run.trigger_missing(case).unwrap_or(0);
    let (j, why) = match &run.best_attempt {
        Some((b, why)) if *b > current => (*b, Some(why.as_str())),
        _ => (current, None),
    };
    let step = &case.steps[j];
    let m = step.describe_matchers();
    let mut reason = format!(
        "trigger not seen: step {} ({}{})",
        j + 1,
        step.shape(),
        if m.is_empty() {
            String::new()
        } else {
            format!(" with {m}")
        }
    );
    if j > 0 {
        reason.push_str(&format!(
            "; step{} before it seen",
            if j > 1 {
                format!("s 1-{j}")
            } else {
                " 1".to_owned()
            }
        ));
        if let Some(why) = why {
            reason.push_str(&format!(", then {why}"));
        }
    }
    reason
}

impl Runner {
    /// One result per case and station, cases in load order, stations by identity. Cases
    /// for another version than the station's are not run, with that reason.
    pub fn results(&self) -> Vec<CaseResult> {
        let mut out = Vec::new();
        for (ci, case) in self.cases.iter().enumerate() {
            let before = out.len();
            let mut unknown = Vec::new();
            let mut others = Vec::new();
            for st in self.stations.values().filter(|s| s.info.under_test) {
                let run = st
                    .runs
                    .as_ref()
                    .and_then(|runs| runs.iter().find(|r| r.case == ci));
                match (run, st.info.version) {
                    (Some(run), _) => out.push(run.result(case, &st.info)),
                    (None, Some(v)) => others.push(format!("{} ({v})", st.info.identity)),
                    (None, None) => unknown.push(st.info.identity.clone()),
                }
            }
            // A station of another version is no verdict; the case appears once, not run,
            // only when no station could run it.
            if out.len() == before {
                let judged = self.stations.values().any(|s| s.info.under_test);
                let reason = if self.stations.is_empty() {
                    "the trace has no station".to_owned()
                } else if !judged {
                    format!(
                        "the device under test ({}) is not in the trace",
                        self.policy
                            .stations
                            .as_deref()
                            .unwrap_or_default()
                            .join(", ")
                    )
                } else if !unknown.is_empty() && others.is_empty() {
                    format!(
                        "the OCPP version of {} is unknown (no `open` event with a subprotocol; pass --ocpp)",
                        unknown.join(", ")
                    )
                } else {
                    format!(
                        "not applicable: the case is for OCPP {}; the trace has {}",
                        Version::list(&case.versions, ", "),
                        others
                            .iter()
                            .chain(unknown.iter())
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let mut r = not_applicable(case, None, reason);
                if judged && !others.is_empty() {
                    r.verdict = Verdict::NotApplicable;
                }
                out.push(r);
            }
        }
        out
    }
}

fn not_applicable(case: &Case, station: Option<&StationInfo>, reason: String) -> CaseResult {
    let run = Run::new(0, case.steps.len());
    let mut r = run.result(
        case,
        station.unwrap_or(&StationInfo {
            identity: String::new(),
            ..StationInfo::default()
        }),
    );
    r.station = station.map(|s| s.identity.clone());
    r.reason = reason;
    r
}
