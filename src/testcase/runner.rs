//! The case runner: the engine's observations in, step progress and verdicts out, per case
//! and station. Sans-io and incremental: it keeps per-station state between [`Runner::feed`]
//! calls, reads time only from the observations, and [`Runner::results`] can be asked at any
//! moment (a live view shows pending steps). It does not judge protocol rules, parse frames,
//! pair answers with CALLs or tell versions (the engine does, once, for every front end) and
//! never fails on bad traffic: an unparsable frame simply matches no step.
//!
//! Matching, in order: frames that fit no step are passed over (a heartbeat in the middle of
//! a session is normal). The current step, and after it every optional step or repeatable
//! step already matched once, may take a frame. A CALLRESULT/CALLERROR step answers the
//! CALL matched by an earlier step of the same action (same message id); when that answer
//! fails the matchers the case fails there, because no second answer will come (an
//! optional answer step passes over the other kind of answer when a later step takes it:
//! "either a result or an error"). `match`
//! selects a frame, `expect` judges the selected frame: a selected frame that fails `expect`
//! fails the step (even a trigger step: the frame was the case's).
//! `within_s` (at most) and `after_s` (at least) count from the frame matched by the
//! previous step; a frame that matches before `after_s` has passed fails its step. Until the
//! `trigger` steps have matched, a failure re-arms the case instead (it has not started),
//! and so does a frame fitting one of the case's `rearm_on` rules once a step has matched.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::matcher::{Vars, check_all};
pub use super::policy::{InjectPolicy, Policy};
use super::scenario::{Case, Forbid, Step, StepKind};
use super::verdict::{CaseResult, EVIDENCE_BYTES, Evidence, StepResult, StepStatus, Verdict};
use crate::engine::{EventKind, Observation, Observed};
use crate::ocpp::{Side, Version};
pub use crate::sink::tui::feed::CaseEnd;
use crate::time::Timestamp;
use crate::wire::frame::Frame;

/// Frames kept as evidence per step (a repeatable step may match thousands).
const MAX_EVIDENCE: usize = 50;

/// What a station told about itself (BootNotification) and when it was seen.
#[derive(Debug, Clone, Default)]
pub struct StationInfo {
    pub identity: String,
    pub version: Option<Version>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub firmware: Option<String>,
    pub first_at: Option<Timestamp>,
    pub last_at: Option<Timestamp>,
    pub frames: u64,
    /// Judged (`--dut` names it, or no `--dut`).
    pub under_test: bool,
    /// How many cases ran on it.
    pub cases: usize,
    /// Why no case ran on it, when none did.
    pub note: Option<String>,
}

/// A change worth showing live.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub station: String,
    /// Index into the runner's cases.
    pub case: usize,
    pub kind: ProgressKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProgressKind {
    /// The trigger steps matched: the case runs.
    Started,
    /// A step matched a frame.
    StepMatched(usize),
    /// The case ended: passed, failed at a step, or stopped without a verdict on the device
    /// (an inject step not allowed). The UI's own word for it, so the live runner hands it
    /// on as it is.
    Ended(CaseEnd),
    /// The case waits for its inject step `step`: the live runner has the proxy send this
    /// CALL to the station (offline nothing is sent; the recording holds the frame).
    Inject {
        step: usize,
        action: String,
        payload: Value,
    },
}

/// Why step `i` fails on a frame a `rearm_on` or `forbid` entry names: `why`, the frame and
/// the entry's reason.
fn listed_reason(case: &Case, i: usize, why: &str, msg: &Msg<'_>, f: &Forbid) -> String {
    format!(
        "step {} ({}): {why} {} {} {} ({})",
        i + 1,
        case.steps[i].name,
        msg.from,
        msg.kind.name(),
        msg.action,
        f.reason
    )
}

/// A frame as the runner sees it.
struct Msg<'a> {
    from: Side,
    kind: StepKind,
    action: &'a str,
    id: &'a str,
    payload: &'a Value,
    line: u64,
    at: Timestamp,
    text: &'a str,
    injected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Passed,
    Failed,
    /// The observation ended while the case ran.
    Inconclusive,
    /// Stopped before its inject step: injection not allowed.
    Refused,
}

#[derive(Debug, Clone)]
struct Run {
    case: usize,
    state: State,
    pos: usize,
    hits: Vec<Vec<Evidence>>,
    /// Matches beyond the evidence kept, per step.
    extra_hits: Vec<usize>,
    skipped: Vec<bool>,
    vars: Vars,
    /// CALLs matched by steps: (action, sender, message id).
    calls: Vec<(String, Side, String)>,
    last_at: Option<Timestamp>,
    first: Option<(u64, Timestamp)>,
    last: Option<(u64, Timestamp)>,
    failed_step: Option<usize>,
    reason: String,
    /// The inject step already requested (once per run).
    inject_sent: Option<usize>,
    /// Across re-arms: the furthest trigger attempt (the index of the required trigger
    /// step it still lacked) and why it broke, for the not-run reason.
    best_attempt: Option<(usize, String)>,
}

enum Outcome {
    Done,
    /// The trigger broke: re-armed; the frame may start a new run.
    Rearmed,
}

impl Run {
    fn new(case: usize, steps: usize) -> Run {
        Run {
            case,
            state: State::Waiting,
            pos: 0,
            hits: vec![Vec::new(); steps],
            extra_hits: vec![0; steps],
            skipped: vec![false; steps],
            vars: Vars::new(),
            calls: Vec::new(),
            last_at: None,
            first: None,
            last: None,
            failed_step: None,
            reason: String::new(),
            inject_sent: None,
            best_attempt: None,
        }
    }

    /// The first required trigger step not matched yet.
    fn trigger_missing(&self, case: &Case) -> Option<usize> {
        (0..case.trigger).find(|&j| !self.matched(j) && !case.steps[j].optional)
    }

    fn matched(&self, i: usize) -> bool {
        !self.hits[i].is_empty()
    }

    fn skippable(&self, steps: &[Step], i: usize) -> bool {
        steps[i].optional
            || (steps[i].repeat && self.matched(i))
            || steps[i].unless.is_some_and(|j| self.matched(j))
    }

    /// The first step that must still match, if any.
    fn next_required(&self, steps: &[Step]) -> Option<usize> {
        (self.pos..steps.len()).find(|&j| !self.skippable(steps, j))
    }

    /// The case started (its span holds frames of the device under test).
    fn started(&self) -> bool {
        matches!(
            self.state,
            State::Running | State::Passed | State::Failed | State::Inconclusive
        )
    }

    fn terminal(&self) -> bool {
        matches!(
            self.state,
            State::Passed | State::Failed | State::Inconclusive | State::Refused
        )
    }

    /// Fails at step `i` (or re-arms while the trigger is incomplete).
    fn fail(
        &mut self,
        case: &Case,
        station: &str,
        i: usize,
        reason: String,
        at: (u64, Timestamp),
        out: &mut Vec<Progress>,
    ) -> Outcome {
        if self.state == State::Waiting {
            // Remember how far this attempt got: a boot that was seen but answered
            // otherwise is named as such, not as a missing boot.
            let missing = self.trigger_missing(case).unwrap_or(i);
            let mut best = self.best_attempt.take();
            if self.hits.iter().any(|h| !h.is_empty())
                && best.as_ref().is_none_or(|(j, _)| missing >= *j)
            {
                best = Some((missing, reason));
            }
            *self = Run::new(self.case, case.steps.len());
            self.best_attempt = best;
            return Outcome::Rearmed;
        }
        self.state = State::Failed;
        self.failed_step = Some(i);
        self.reason = reason.clone();
        self.last = Some(at);
        out.push(Progress {
            station: station.to_owned(),
            case: self.case,
            kind: ProgressKind::Ended(CaseEnd::Failed { step: i, reason }),
        });
        Outcome::Done
    }

    /// Time passed to `now`: a required step whose limit ran out fails.
    fn on_time(
        &mut self,
        case: &Case,
        station: &str,
        now: (u64, Timestamp),
        out: &mut Vec<Progress>,
    ) {
        if self.terminal() {
            return;
        }
        let (Some(last), Some(j)) = (self.last_at, self.next_required(&case.steps)) else {
            return;
        };
        let Some(limit) = case.steps[j].within_s else {
            return;
        };
        let waited = now.1.secs_since(last);
        if waited > limit {
            let reason = format!(
                "step {} ({}): not seen within {limit} s of the previous step ({waited:.1} s passed)",
                j + 1,
                case.steps[j].name
            );
            let _ = self.fail(case, station, j, reason, now, out);
        }
    }

    fn on_msg(
        &mut self,
        case: &Case,
        station: &str,
        msg: &Msg<'_>,
        inject: &InjectPolicy,
        out: &mut Vec<Progress>,
    ) -> Outcome {
        if self.terminal() {
            return Outcome::Done;
        }
        let here = (msg.line, msg.at);
        if self.state == State::Waiting && self.hits.iter().any(|h| !h.is_empty()) {
            // `rearm_on`: this attempt is another scenario; start afresh.
            if let Some(f) = case.rearm_on.iter().find(|f| self.fits(f, msg)) {
                let i = self.next_required(&case.steps).unwrap_or(self.pos);
                let reason = listed_reason(case, i, "started afresh on", msg, f);
                return self.fail(case, station, i, reason, here, out);
            }
        }
        if self.state == State::Running {
            for f in &case.forbid {
                if f.until.is_some_and(|k| self.matched(k)) {
                    continue;
                }
                if self.fits(f, msg) {
                    let i = self.pos.min(case.steps.len().saturating_sub(1));
                    self.push_evidence(i, msg);
                    let reason = listed_reason(case, i, "forbidden while the case runs:", msg, f);
                    return self.fail(case, station, i, reason, here, out);
                }
            }
        }
        for i in self.pos..case.steps.len() {
            let step = &case.steps[i];
            // An inject step takes only the injected frame when injection is marked.
            let own_frame = step.inject.is_some()
                && msg.kind == StepKind::Call
                && inject.marked_only()
                && !msg.injected;
            if step.from == msg.from
                && step.action == msg.action
                && !own_frame
                && !self.other_answer_taken_later(case, i, msg)
            {
                match self.try_step(step, msg) {
                    Try::Match => {
                        if let Some(why) = self.too_early(step, msg) {
                            self.push_evidence(i, msg);
                            let reason = format!("step {} ({}): {why}", i + 1, step.name);
                            return self.fail(case, station, i, reason, here, out);
                        }
                        if let Err(reason) = self.accept(case, i, msg, station, inject, out) {
                            return self.fail(case, station, i, reason, here, out);
                        }
                        return Outcome::Done;
                    }
                    Try::Decisive(why, selected) => {
                        if selected && self.state == State::Waiting {
                            // The frame was selected: the case has started, and failed.
                            self.state = State::Running;
                            if self.first.is_none() {
                                self.first = Some(here);
                            }
                        }
                        self.push_evidence(i, msg);
                        let reason = format!("step {} ({}): {why}", i + 1, step.name);
                        return self.fail(case, station, i, reason, here, out);
                    }
                    Try::NoMatch => {}
                }
            }
            if !self.skippable(&case.steps, i) {
                break;
            }
        }
        Outcome::Done
    }

    /// The frame fits a `forbid` or `rearm_on` rule.
    fn fits(&self, f: &Forbid, msg: &Msg<'_>) -> bool {
        let action_hit = match &f.action {
            Some(a) => a == msg.action,
            None => !f.except.iter().any(|e| e == msg.action),
        };
        f.from == msg.from
            && f.kind == msg.kind
            && action_hit
            && check_all(&f.matchers, msg.payload, &self.vars).is_ok()
    }

    /// Either a result or an error: an optional answer step passes over the other kind of
    /// answer (a CALLERROR for a `result` step, a CALLRESULT for an `error` step) when a later
    /// step it may be skipped for answers the same action with that kind.
    fn other_answer_taken_later(&self, case: &Case, i: usize, msg: &Msg<'_>) -> bool {
        let step = &case.steps[i];
        if !step.optional
            || step.kind == StepKind::Call
            || msg.kind == StepKind::Call
            || msg.kind == step.kind
        {
            return false;
        }
        for j in i + 1..case.steps.len() {
            let later = &case.steps[j];
            if later.from == msg.from && later.action == msg.action && later.kind == msg.kind {
                return true;
            }
            if !self.skippable(&case.steps, j) {
                break;
            }
        }
        false
    }

    /// `after_s`: a frame that matches sooner than that after the previous matched step's
    /// frame is too early; why, if it is.
    fn too_early(&self, step: &Step, msg: &Msg<'_>) -> Option<String> {
        let from_var = || {
            let v = self.vars.get(step.after_var.as_deref()?)?;
            v.as_f64().or_else(|| v.as_str()?.parse().ok())
        };
        let (Some(min), Some(last)) = (step.after_s.or_else(from_var), self.last_at) else {
            return None;
        };
        let waited = msg.at.secs_since(last);
        (waited < min).then(|| format!("came after {waited:.1} s, expected at least {min} s"))
    }

    fn try_step(&self, step: &Step, msg: &Msg<'_>) -> Try {
        // An answer step answers the CALL an earlier step matched, if there is one.
        let answered = match step.kind {
            StepKind::Call => None,
            StepKind::Result | StepKind::Error => self
                .calls
                .iter()
                .rev()
                .find(|(a, f, _)| *a == step.action && *f == step.from.other())
                .map(|(_, _, id)| id.as_str()),
        };
        let decisive = match answered {
            Some(id) => {
                if id != msg.id || msg.kind == StepKind::Call {
                    return Try::NoMatch;
                }
                true
            }
            None => false,
        };
        if msg.kind != step.kind {
            if decisive && msg.kind != StepKind::Call && step.kind != StepKind::Call {
                let got = if msg.kind == StepKind::Error {
                    format!(
                        "answered with CALLERROR {}",
                        msg.payload
                            .get("errorCode")
                            .map(Value::to_string)
                            .unwrap_or_default()
                    )
                } else {
                    "answered with a CALLRESULT, a CALLERROR was expected".to_owned()
                };
                return Try::Decisive(got, false);
            }
            return Try::NoMatch;
        }
        match check_all(&step.matchers, msg.payload, &self.vars) {
            Ok(()) => match check_all(&step.expect, msg.payload, &self.vars) {
                Ok(()) => Try::Match,
                Err(why) => Try::Decisive(why, true),
            },
            Err(why) if decisive => Try::Decisive(why, false),
            Err(_) => Try::NoMatch,
        }
    }

    fn push_evidence(&mut self, i: usize, msg: &Msg<'_>) {
        let Some(hits) = self.hits.get_mut(i) else {
            return;
        };
        if hits.len() >= MAX_EVIDENCE {
            self.extra_hits[i] += 1;
            return;
        }
        // The frame as sent, byte for byte (cut only past the bound, and then said so).
        let (text, truncated) = if msg.text.len() <= EVIDENCE_BYTES {
            (msg.text.to_owned(), None)
        } else {
            let mut cut = EVIDENCE_BYTES;
            while !msg.text.is_char_boundary(cut) {
                cut -= 1;
            }
            (msg.text[..cut].to_owned(), Some(msg.text.len()))
        };
        hits.push(Evidence {
            line: msg.line,
            at: msg.at,
            from: msg.from,
            text,
            truncated,
            injected: msg.injected,
        });
    }

    fn accept(
        &mut self,
        case: &Case,
        i: usize,
        msg: &Msg<'_>,
        station: &str,
        inject: &InjectPolicy,
        out: &mut Vec<Progress>,
    ) -> Result<(), String> {
        let step = &case.steps[i];
        for j in self.pos..i {
            if !self.matched(j) {
                self.skipped[j] = true;
            }
        }
        self.push_evidence(i, msg);
        for (var, path) in &step.capture {
            match path.resolve(msg.payload).first() {
                Some(v) => {
                    self.vars.insert(var.clone(), (*v).clone());
                }
                None => {
                    return Err(format!(
                        "step {} ({}): cannot capture `{var}`: {} is absent",
                        i + 1,
                        step.name,
                        path.as_str()
                    ));
                }
            }
        }
        if step.kind == StepKind::Call {
            self.calls
                .push((step.action.clone(), msg.from, msg.id.to_owned()));
        }
        self.last_at = Some(msg.at);
        if self.first.is_none() {
            self.first = Some((msg.line, msg.at));
        }
        self.last = Some((msg.line, msg.at));
        self.pos = if step.repeat { i } else { i + 1 };
        out.push(Progress {
            station: station.to_owned(),
            case: self.case,
            kind: ProgressKind::StepMatched(i),
        });
        if self.state == State::Waiting
            && i + 1 >= case.trigger
            && (0..case.trigger).all(|j| self.matched(j) || case.steps[j].optional)
        {
            self.state = State::Running;
            out.push(Progress {
                station: station.to_owned(),
                case: self.case,
                kind: ProgressKind::Started,
            });
        }
        if self.state == State::Running && self.next_required(&case.steps).is_none() {
            for j in self.pos..case.steps.len() {
                if !self.matched(j) {
                    self.skipped[j] = true;
                }
            }
            self.state = State::Passed;
            out.push(Progress {
                station: station.to_owned(),
                case: self.case,
                kind: ProgressKind::Ended(CaseEnd::Passed),
            });
        }
        if !self.terminal()
            && let Some(j) = self.next_required(&case.steps)
            && let Some(template) = &case.steps[j].inject
            && self.inject_sent != Some(j)
        {
            self.inject_sent = Some(j);
            if let InjectPolicy::Live { allowed } = inject
                && !allowed.get(self.case).copied().unwrap_or(false)
            {
                // Nothing is sent to a device unless the lab asked for this very case.
                let reason = format!(
                    "injection not allowed: step {} would send {} to the station (pass --allow-inject and name the case)",
                    j + 1,
                    case.steps[j].action
                );
                self.state = State::Refused;
                self.reason = reason.clone();
                out.push(Progress {
                    station: station.to_owned(),
                    case: self.case,
                    kind: ProgressKind::Ended(CaseEnd::NotRun { reason }),
                });
                return Ok(());
            }
            out.push(Progress {
                station: station.to_owned(),
                case: self.case,
                kind: ProgressKind::Inject {
                    step: j,
                    action: case.steps[j].action.clone(),
                    payload: fill(template, &self.vars),
                },
            });
        }
        Ok(())
    }
}

enum Try {
    Match,
    NoMatch,
    /// The frame is this step's one chance and it does not fit: why, and whether the frame
    /// was selected by `match` (then `expect` failed: a failure even while triggering).
    Decisive(String, bool),
}

struct Station {
    info: StationInfo,
    /// One run per applicable case, once the version is known.
    runs: Option<Vec<Run>>,
    last_line: u64,
}

/// Runs every case against every station of a stream of observations.
pub struct Runner {
    cases: Arc<Vec<Case>>,
    stations: BTreeMap<String, Station>,
    policy: Policy,
}

impl Runner {
    /// The version of a station comes from the engine (its `open`, else `--ocpp`).
    pub fn new(cases: Arc<Vec<Case>>) -> Runner {
        Runner::with_policy(cases, Policy::default())
    }

    /// A runner judging by `policy`.
    pub fn with_policy(cases: Arc<Vec<Case>>, policy: Policy) -> Runner {
        Runner {
            cases,
            stations: BTreeMap::new(),
            policy,
        }
    }

    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Changes the policy (before the first event: runs already made keep what they did).
    pub fn policy_mut(&mut self) -> &mut Policy {
        &mut self.policy
    }

    /// Takes one event as the engine read it (an [`Observation`]: the engine pairs answers
    /// with their CALLs and knows the station's version); what changed is appended to
    /// `out`. Frames that are no OCPP-J message, and answers to nothing, match no step.
    pub fn feed(&mut self, o: &Observation<'_>, out: &mut Vec<Progress>) {
        let cases = self.cases.clone();
        let policy = &self.policy;
        let st = self
            .stations
            .entry(o.conn.to_owned())
            .or_insert_with(|| Station {
                info: StationInfo {
                    identity: o.conn.to_owned(),
                    under_test: policy
                        .stations
                        .as_ref()
                        .is_none_or(|l| l.iter().any(|s| s == o.conn)),
                    ..StationInfo::default()
                },
                runs: None,
                last_line: 0,
            });
        st.info.first_at = Some(st.info.first_at.map_or(o.at, |t| t.min(o.at)));
        st.info.last_at = Some(st.info.last_at.map_or(o.at, |t| t.max(o.at)));
        st.last_line = o.line;
        let here = (o.line, o.at);
        if matches!(
            o.what,
            Observed::Message(_) | Observed::Event(EventKind::Frame { .. })
        ) {
            st.info.frames += 1;
        }
        // The version the station's cases run for: the first the engine judged it as.
        if st.info.version.is_none() {
            st.info.version = o.station.version;
        }
        let Some(version) = st.info.version else {
            return;
        };
        let under_test = st.info.under_test;
        let runs = st.runs.get_or_insert_with(|| {
            cases
                .iter()
                .enumerate()
                .filter(|(_, c)| under_test && c.versions.contains(&version))
                .map(|(i, c)| Run::new(i, c.steps.len()))
                .collect()
        });
        st.info.cases = runs.len();
        for run in runs.iter_mut() {
            run.on_time(&cases[run.case], o.conn, here, out);
        }
        let Observed::Message(m) = o.what else {
            return;
        };
        let error_payload;
        let (kind, payload): (StepKind, &Value) = match m.frame {
            Frame::Call {
                action, payload, ..
            } => {
                if action == "BootNotification" && m.from == Side::Charger {
                    // What the engine read from it (the station model), not a second reading.
                    st.info.vendor.clone_from(&o.device.vendor);
                    st.info.model.clone_from(&o.device.model);
                    st.info.serial.clone_from(&o.device.serial);
                    st.info.firmware.clone_from(&o.device.firmware);
                }
                (StepKind::Call, payload)
            }
            // An answer counts when the engine paired it with its CALL.
            Frame::CallResult { payload, .. } if m.call.is_some() => (StepKind::Result, payload),
            Frame::CallError {
                code,
                description,
                details,
                result_error: false,
                ..
            } if m.call.is_some() => {
                error_payload = json!({"errorCode": code, "errorDescription": description, "errorDetails": details});
                (StepKind::Error, &error_payload)
            }
            _ => return,
        };
        let Some(action) = m.action else {
            return;
        };
        let msg = Msg {
            from: m.from,
            kind,
            action,
            id: m.id(),
            payload,
            line: o.line,
            at: o.at,
            text: m.text,
            injected: o.origin.injected(),
        };
        let inject = &policy.inject;
        for run in runs.iter_mut() {
            let case = &cases[run.case];
            if let Outcome::Rearmed = run.on_msg(case, o.conn, &msg, inject, out) {
                // The frame that broke the trigger may start it afresh.
                let _ = run.on_msg(case, o.conn, &msg, inject, out);
            }
        }
    }

    /// The live runner could not inject step `step` of case `case` on `station` (not
    /// connected, no answer): the run fails at that step, if it still waits for it.
    pub fn inject_failed(
        &mut self,
        station: &str,
        case: usize,
        step: usize,
        reason: &str,
        out: &mut Vec<Progress>,
    ) {
        let cases = self.cases.clone();
        let Some(st) = self.stations.get_mut(station) else {
            return;
        };
        let here = (
            st.last_line,
            st.info.last_at.unwrap_or(Timestamp::from_micros(0)),
        );
        let Some(run) = st
            .runs
            .as_mut()
            .and_then(|r| r.iter_mut().find(|r| r.case == case))
        else {
            return;
        };
        let Some(c) = cases.get(case) else {
            return;
        };
        if run.terminal() || run.matched(step) || run.inject_sent != Some(step) {
            return;
        }
        let why = format!(
            "step {} ({}): the proxy could not inject it: {reason}",
            step + 1,
            c.steps.get(step).map_or("", |s| s.name.as_str())
        );
        // A failed injection of a trigger step is still a failure: the lab asked for it.
        run.state = State::Running;
        let _ = run.fail(c, station, step, why, here, out);
    }

    /// The observation ended at `end`: limits that ran out fail their step; a case still
    /// running is inconclusive (it could not finish); a case never triggered stays not run.
    pub fn finish(&mut self, end: Timestamp, out: &mut Vec<Progress>) {
        let cases = self.cases.clone();
        let ended = self.policy.ended;
        for (name, st) in &mut self.stations {
            let Some(runs) = st.runs.as_mut() else {
                continue;
            };
            let here = (st.last_line, end);
            for run in runs.iter_mut() {
                let case = &cases[run.case];
                run.on_time(case, name, here, out);
                if run.state == State::Running {
                    let j = run.next_required(&case.steps).unwrap_or(run.pos);
                    run.state = State::Inconclusive;
                    run.reason = format!(
                        "step {} ({}): {ended} ended before it was seen",
                        j + 1,
                        case.steps.get(j).map_or("?", |s| s.name.as_str())
                    );
                    run.last = Some(here);
                }
            }
        }
    }

    /// What each station told about itself, and why no case ran on it when none did.
    pub fn stations(&self) -> Vec<StationInfo> {
        self.stations
            .values()
            .map(|s| {
                let mut info = s.info.clone();
                info.note = match (info.under_test, info.version, &s.runs) {
                    (false, _, _) => Some("not under test (not named by --dut)".to_owned()),
                    (true, None, _) => Some(
                        "OCPP version unknown (no `open` event with a subprotocol; pass --ocpp): no case ran"
                            .to_owned(),
                    ),
                    (true, Some(v), Some(runs)) if runs.is_empty() => {
                        let mut have: Vec<&str> = self
                            .cases
                            .iter()
                            .flat_map(|c| c.versions.iter().map(|v| v.as_str()))
                            .collect();
                        have.sort_unstable();
                        have.dedup();
                        Some(if have.is_empty() {
                            "no case was selected".to_owned()
                        } else {
                            format!(
                                "no selected case is for OCPP {v} (the selected cases are for OCPP {})",
                                have.join(", ")
                            )
                        })
                    }
                    _ => None,
                };
                info
            })
            .collect()
    }
}

/// An inject payload with every `"$name"` string replaced by the captured value (a name
/// not captured stays as written; loading makes sure it is).
fn fill(template: &Value, vars: &super::matcher::Vars) -> Value {
    match template {
        Value::String(t) => match t.strip_prefix('$').and_then(|n| vars.get(n)) {
            Some(v) => v.clone(),
            None => template.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, vars)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, vars))).collect())
        }
        other => other.clone(),
    }
}

mod results;

#[cfg(test)]
mod tests;
