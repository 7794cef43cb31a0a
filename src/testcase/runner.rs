//! The case runner: events in, step progress and verdicts out, per case and station. Sans-io
//! and incremental: it keeps per-station state between [`Runner::feed`] calls, reads time
//! only from the events, and [`Runner::results`] can be asked at any moment (a live view
//! shows pending steps). It does not judge protocol rules (the engine does) and never
//! fails on bad traffic: an unparsable frame simply matches no step.
//!
//! Matching, in order: frames that fit no step are passed over (a heartbeat in the middle of
//! a session is normal). The current step, and after it every optional step or repeatable
//! step already matched once, may take a frame. A CALLRESULT/CALLERROR step answers the
//! CALL matched by an earlier step of the same action (same message id); when that answer
//! fails the matchers the case fails there, because no second answer will come. `match`
//! selects a frame, `expect` judges the selected frame: a selected frame that fails `expect`
//! fails the step (even a trigger step: the frame was the case's).
//! `within_s` (at most) and `after_s` (at least) count from the frame matched by the
//! previous step; a frame that matches before `after_s` has passed fails its step. Until the
//! `trigger` steps have matched, a failure re-arms the case instead (it has not started).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::matcher::{Vars, check_all};
use super::scenario::{Case, Step, StepKind};
use super::verdict::{CaseResult, Evidence, StepResult, StepStatus, Verdict};
use crate::engine::{Event, EventKind};
use crate::finding::shorten;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;
use crate::wire::frame::{Frame, classify, parse_json};

/// Outstanding CALLs remembered per station for correlating answers; beyond this the map is
/// cleared (a station that never answers must not grow memory).
const MAX_OPEN_CALLS: usize = 1024;
/// Frames kept as evidence per step (a repeatable step may match thousands).
const MAX_EVIDENCE: usize = 50;
/// Characters of a frame kept as evidence.
const EVIDENCE_CHARS: usize = 2000;

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
    Passed,
    Failed {
        step: usize,
        reason: String,
    },
    /// The case waits for its inject step `step`: the live runner has the proxy send this
    /// CALL to the station (offline nothing is sent; the recording holds the frame).
    Inject {
        step: usize,
        action: String,
        payload: Value,
    },
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
        }
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

    fn terminal(&self) -> bool {
        matches!(self.state, State::Passed | State::Failed)
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
            *self = Run::new(self.case, case.steps.len());
            return Outcome::Rearmed;
        }
        self.state = State::Failed;
        self.failed_step = Some(i);
        self.reason = reason.clone();
        self.last = Some(at);
        out.push(Progress {
            station: station.to_owned(),
            case: self.case,
            kind: ProgressKind::Failed { step: i, reason },
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
        out: &mut Vec<Progress>,
    ) -> Outcome {
        if self.terminal() {
            return Outcome::Done;
        }
        let here = (msg.line, msg.at);
        if self.state == State::Running {
            for f in &case.forbid {
                if f.until.is_some_and(|k| self.matched(k)) {
                    continue;
                }
                let action_hit = match &f.action {
                    Some(a) => a == msg.action,
                    None => !f.except.iter().any(|e| e == msg.action),
                };
                if f.from == msg.from
                    && f.kind == msg.kind
                    && action_hit
                    && check_all(&f.matchers, msg.payload, &self.vars).is_ok()
                {
                    let i = self.pos.min(case.steps.len().saturating_sub(1));
                    self.push_evidence(i, msg);
                    let reason = format!(
                        "step {} ({}): forbidden while the case runs: {} {} {} ({})",
                        i + 1,
                        case.steps[i].name,
                        msg.from,
                        msg.kind.name(),
                        msg.action,
                        f.reason
                    );
                    return self.fail(case, station, i, reason, here, out);
                }
            }
        }
        for i in self.pos..case.steps.len() {
            let step = &case.steps[i];
            if step.from == msg.from && step.action == msg.action {
                match self.try_step(step, msg) {
                    Try::Match => {
                        if let Some(why) = self.too_early(step, msg) {
                            self.push_evidence(i, msg);
                            let reason = format!("step {} ({}): {why}", i + 1, step.name);
                            return self.fail(case, station, i, reason, here, out);
                        }
                        if let Err(reason) = self.accept(case, i, msg, station, out) {
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
        hits.push(Evidence {
            line: msg.line,
            at: msg.at,
            from: msg.from,
            text: shorten(msg.text, EVIDENCE_CHARS),
            injected: msg.injected,
        });
    }

    fn accept(
        &mut self,
        case: &Case,
        i: usize,
        msg: &Msg<'_>,
        station: &str,
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
                kind: ProgressKind::Passed,
            });
        }
        if !self.terminal()
            && let Some(j) = self.next_required(&case.steps)
            && let Some(template) = &case.steps[j].inject
            && self.inject_sent != Some(j)
        {
            self.inject_sent = Some(j);
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

    fn result(&self, case: &Case, station: &StationInfo) -> CaseResult {
        let (verdict, reason) = match self.state {
            State::Passed => (Verdict::Passed, String::new()),
            State::Failed => (Verdict::Failed, self.reason.clone()),
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
            station: Some(station.identity.clone()),
            version: station.version,
            verdict,
            reason,
            failed_step: self.failed_step,
            steps,
            lines: match (self.first, self.last) {
                (Some(a), Some(b)) if verdict != Verdict::NotRun => Some((a.0, b.0)),
                _ => None,
            },
            span: match (self.first, self.last) {
                (Some(a), Some(b)) if verdict != Verdict::NotRun => Some((a.1, b.1)),
                _ => None,
            },
            findings: Vec::new(),
            known: None,
        }
    }
}

enum Try {
    Match,
    NoMatch,
    /// The frame is this step's one chance and it does not fit: why, and whether the frame
    /// was selected by `match` (then `expect` failed: a failure even while triggering).
    Decisive(String, bool),
}

fn not_run_reason(case: &Case, run: &Run) -> String {
    let j = (0..case.trigger).find(|&j| !run.matched(j)).unwrap_or(0);
    let step = &case.steps[j];
    let m = step.describe_matchers();
    format!(
        "trigger not seen: step {} ({}{})",
        j + 1,
        step.shape(),
        if m.is_empty() {
            String::new()
        } else {
            format!(" with {m}")
        }
    )
}

struct Station {
    info: StationInfo,
    /// Outstanding CALLs: message id → (sender, action).
    calls: HashMap<String, (Side, String)>,
    /// One run per applicable case, once the version is known.
    runs: Option<Vec<Run>>,
    last_line: u64,
}

/// Runs every case against every station of a stream of events.
pub struct Runner {
    cases: Arc<Vec<Case>>,
    default_version: Option<Version>,
    stations: BTreeMap<String, Station>,
}

impl Runner {
    /// `default_version` is used for stations whose events carry no `open` with a subprotocol.
    pub fn new(cases: Arc<Vec<Case>>, default_version: Option<Version>) -> Runner {
        Runner {
            cases,
            default_version,
            stations: BTreeMap::new(),
        }
    }

    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Takes one event; what changed is appended to `out`.
    pub fn feed(&mut self, event: &Event<'_>, out: &mut Vec<Progress>) {
        self.feed_marked(event, false, out);
    }

    /// The same; `injected` marks a frame of a call the inspector injected (kept with the
    /// evidence; matched like any frame).
    pub fn feed_marked(&mut self, event: &Event<'_>, injected: bool, out: &mut Vec<Progress>) {
        let cases = self.cases.clone();
        let default_version = self.default_version;
        let st = self
            .stations
            .entry(event.conn.to_owned())
            .or_insert_with(|| Station {
                info: StationInfo {
                    identity: event.conn.to_owned(),
                    ..StationInfo::default()
                },
                calls: HashMap::new(),
                runs: None,
                last_line: 0,
            });
        st.info.first_at = Some(st.info.first_at.map_or(event.at, |t| t.min(event.at)));
        st.info.last_at = Some(st.info.last_at.map_or(event.at, |t| t.max(event.at)));
        st.last_line = event.line;
        let here = (event.line, event.at);
        match event.kind {
            EventKind::Open { subprotocol, .. } => {
                st.calls.clear();
                if st.info.version.is_none() {
                    st.info.version = subprotocol
                        .and_then(Version::from_subprotocol)
                        .or(default_version);
                }
            }
            EventKind::Close { .. } | EventKind::Gap { .. } => st.calls.clear(),
            EventKind::Binary { .. } | EventKind::Frame { .. } => {
                if st.info.version.is_none() {
                    st.info.version = default_version;
                }
            }
        }
        let Some(version) = st.info.version else {
            return;
        };
        let runs = st.runs.get_or_insert_with(|| {
            cases
                .iter()
                .enumerate()
                .filter(|(_, c)| c.versions.contains(&version))
                .map(|(i, c)| Run::new(i, c.steps.len()))
                .collect()
        });
        for run in runs.iter_mut() {
            run.on_time(&cases[run.case], event.conn, here, out);
        }
        let EventKind::Frame { from, text } = event.kind else {
            return;
        };
        st.info.frames += 1;
        let Ok(value) = parse_json(text) else {
            return;
        };
        let Ok(frame) = classify(&value) else {
            return;
        };
        let error_payload;
        let (kind, action, id, payload): (StepKind, String, &str, &Value) = match frame {
            Frame::Call {
                id,
                action,
                payload,
                ..
            } => {
                if st.calls.len() >= MAX_OPEN_CALLS {
                    st.calls.clear();
                }
                st.calls.insert(id.to_owned(), (from, action.to_owned()));
                if action == "BootNotification" && from == Side::Charger {
                    note_identity(&mut st.info, version, payload);
                }
                (StepKind::Call, action.to_owned(), id, payload)
            }
            Frame::CallResult { id, payload } => {
                let Some((_, action)) = take_call(&mut st.calls, id, from) else {
                    return;
                };
                (StepKind::Result, action, id, payload)
            }
            Frame::CallError {
                id,
                code,
                description,
                details,
                ..
            } => {
                let Some((_, action)) = take_call(&mut st.calls, id, from) else {
                    return;
                };
                error_payload = json!({"errorCode": code, "errorDescription": description, "errorDetails": details});
                (StepKind::Error, action, id, &error_payload)
            }
        };
        let msg = Msg {
            from,
            kind,
            action: &action,
            id,
            payload,
            line: event.line,
            at: event.at,
            text,
            injected,
        };
        for run in runs.iter_mut() {
            let case = &cases[run.case];
            if let Outcome::Rearmed = run.on_msg(case, event.conn, &msg, out) {
                // The frame that broke the trigger may start it afresh.
                let _ = run.on_msg(case, event.conn, &msg, out);
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
    /// running fails at the step it waited for; a case never triggered stays not run.
    pub fn finish(&mut self, end: Timestamp, out: &mut Vec<Progress>) {
        let cases = self.cases.clone();
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
                    let reason = format!(
                        "step {} ({}): the trace ended before it was seen",
                        j + 1,
                        case.steps.get(j).map_or("?", |s| s.name.as_str())
                    );
                    let _ = run.fail(case, name, j, reason, here, out);
                }
            }
        }
    }

    /// What each station told about itself.
    pub fn stations(&self) -> Vec<StationInfo> {
        self.stations.values().map(|s| s.info.clone()).collect()
    }

    /// One result per case and station, cases in load order, stations by identity. Cases
    /// for another version than the station's are not run, with that reason.
    pub fn results(&self) -> Vec<CaseResult> {
        let mut out = Vec::new();
        for (ci, case) in self.cases.iter().enumerate() {
            let before = out.len();
            let mut unknown = Vec::new();
            let mut others = Vec::new();
            for st in self.stations.values() {
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
                let reason = if self.stations.is_empty() {
                    "the trace has no station".to_owned()
                } else if !unknown.is_empty() && others.is_empty() {
                    format!(
                        "the OCPP version of {} is unknown (no `open` event with a subprotocol; pass --ocpp)",
                        unknown.join(", ")
                    )
                } else {
                    format!(
                        "not applicable: the case is for OCPP {}; the trace has {}",
                        versions_text(case),
                        others
                            .iter()
                            .chain(unknown.iter())
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                out.push(not_applicable(case, None, reason));
            }
        }
        out
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

fn versions_text(case: &Case) -> String {
    case.versions
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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

/// Removes and returns the CALL that `id` answers (sent by the other side).
fn take_call(
    calls: &mut HashMap<String, (Side, String)>,
    id: &str,
    answer_from: Side,
) -> Option<(Side, String)> {
    match calls.get(id) {
        Some((caller, _)) if *caller == answer_from.other() => calls.remove(id),
        _ => None,
    }
}

fn note_identity(info: &mut StationInfo, version: Version, p: &Value) {
    let get = |ptr: &str| p.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
    if version.is_2x() {
        info.vendor = get("/chargingStation/vendorName");
        info.model = get("/chargingStation/model");
        info.serial = get("/chargingStation/serialNumber");
        info.firmware = get("/chargingStation/firmwareVersion");
    } else {
        info.vendor = get("/chargePointVendor");
        info.model = get("/chargePointModel");
        info.serial = get("/chargePointSerialNumber").or_else(|| get("/chargeBoxSerialNumber"));
        info.firmware = get("/firmwareVersion");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testcase::scenario::parse_case;

    const CASE: &str = r#"
id = "1.6/core/x01"
title = "Session"
versions = ["1.6"]
dut = "charger"
[[steps]]
from = "charger"
call = "StartTransaction"
capture = { start = "meterStart" }
[[steps]]
from = "csms"
result = "StartTransaction"
match = { "idTagInfo.status" = "Accepted" }
capture = { tx = "transactionId" }
[[steps]]
from = "charger"
call = "MeterValues"
repeat = true
optional = true
match = { transactionId = { var = "tx" } }
[[steps]]
from = "charger"
call = "StopTransaction"
within_s = 60
match = { transactionId = { var = "tx" }, meterStop = { ge = "$start" } }
"#;

    fn feed_all(runner: &mut Runner, frames: &[(i64, &str, &str)]) -> Vec<Progress> {
        let mut out = Vec::new();
        let open = Event {
            at: Timestamp::from_secs(0),
            conn: "CP",
            line: 1,
            kind: EventKind::Open {
                subprotocol: Some("ocpp1.6"),
                security: Default::default(),
            },
        };
        runner.feed(&open, &mut out);
        for (n, (t, from, text)) in frames.iter().enumerate() {
            let ev = Event {
                at: Timestamp::from_secs(*t),
                conn: "CP",
                line: n as u64 + 2,
                kind: EventKind::Frame {
                    from: from.parse().unwrap(),
                    text,
                },
            };
            runner.feed(&ev, &mut out);
        }
        let end = frames.last().map_or(0, |f| f.0);
        runner.finish(Timestamp::from_secs(end), &mut out);
        out
    }

    fn runner() -> Runner {
        let c = parse_case(CASE, "t.toml").unwrap();
        Runner::new(Arc::new(vec![c]), None)
    }

    const START: &str = r#"[2,"s","StartTransaction",{"connectorId":1,"idTag":"A","meterStart":100,"timestamp":"2026-01-01T00:00:00Z"}]"#;
    const START_OK: &str = r#"[3,"s",{"transactionId":5,"idTagInfo":{"status":"Accepted"}}]"#;
    const MV: &str = r#"[2,"m","MeterValues",{"connectorId":1,"transactionId":5,"meterValue":[]}]"#;
    const HB: &str = r#"[2,"h","Heartbeat",{}]"#;
    const STOP: &str = r#"[2,"e","StopTransaction",{"transactionId":5,"meterStop":150,"timestamp":"2026-01-01T00:00:00Z"}]"#;

    #[test]
    fn passes_with_repeats_and_noise() {
        let mut r = runner();
        let p = feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", START_OK),
                (2, "charger", MV),
                (3, "charger", HB),
                (4, "charger", MV),
                (5, "charger", STOP),
            ],
        );
        let res = r.results();
        assert_eq!(res[0].verdict, Verdict::Passed, "{}", res[0].reason);
        assert_eq!(res[0].steps[2].evidence.len(), 2);
        assert_eq!(res[0].lines, Some((2, 7)));
        assert!(p.contains(&Progress {
            station: "CP".into(),
            case: 0,
            kind: ProgressKind::Started
        }));
        assert_eq!(p.last().map(|p| &p.kind), Some(&ProgressKind::Passed));
    }

    #[test]
    fn optional_repeat_may_be_skipped() {
        let mut r = runner();
        feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", START_OK),
                (5, "charger", STOP),
            ],
        );
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
        assert_eq!(res.steps[2].status, StepStatus::Skipped);
    }

    #[test]
    fn a_wrong_answer_fails_its_step() {
        let mut r = runner();
        let bad = START_OK.replace("Accepted", "Invalid");
        feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", &bad),
                (5, "charger", STOP),
            ],
        );
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::Failed);
        assert_eq!(res.failed_step, Some(1));
        assert!(
            res.reason
                .contains("idTagInfo.status: expected \"Accepted\", got \"Invalid\""),
            "{}",
            res.reason
        );
    }

    #[test]
    fn variables_and_time_limits() {
        // A stop for another transaction is passed over; the right one comes too late.
        let mut r = runner();
        let other = STOP.replace("\"transactionId\":5", "\"transactionId\":6");
        feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", START_OK),
                (2, "charger", &other),
                (100, "charger", STOP),
            ],
        );
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::Failed);
        assert_eq!(res.failed_step, Some(3));
        assert!(res.reason.contains("within 60 s"), "{}", res.reason);

        // meterStop below meterStart never matches: the trace ends waiting for it.
        let mut r = runner();
        let low = STOP.replace("150", "50");
        feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", START_OK),
                (2, "charger", &low),
            ],
        );
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::Failed);
        assert!(res.reason.contains("trace ended"), "{}", res.reason);
    }

    #[test]
    fn not_run_without_trigger_and_not_applicable_elsewhere() {
        let mut r = runner();
        feed_all(&mut r, &[(1, "charger", HB)]);
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::NotRun);
        assert!(
            res.reason.starts_with("trigger not seen: step 1"),
            "{}",
            res.reason
        );

        let c = parse_case(CASE, "t.toml").unwrap();
        let mut r = Runner::new(Arc::new(vec![c]), None);
        let mut out = Vec::new();
        r.feed(
            &Event {
                at: Timestamp::from_secs(0),
                conn: "CS2",
                line: 1,
                kind: EventKind::Open {
                    subprotocol: Some("ocpp2.0.1"),
                    security: Default::default(),
                },
            },
            &mut out,
        );
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::NotRun);
        assert_eq!(res.station, None);
        assert!(res.reason.contains("not applicable"), "{}", res.reason);
        assert!(res.reason.contains("CS2 (2.0.1)"), "{}", res.reason);
    }

    #[test]
    fn incremental_results_and_rearmed_trigger() {
        let boot = r#"
id = "1.6/core/x99"
title = "Boot accepted"
versions = ["1.6"]
dut = "charger"
trigger = 2
[[steps]]
from = "charger"
call = "BootNotification"
[[steps]]
from = "csms"
result = "BootNotification"
match = { status = "Accepted" }
[[steps]]
from = "charger"
call = "StatusNotification"
expect = { status = "Available" }
"#;
        let c = parse_case(boot, "b.toml").unwrap();
        let mut r = Runner::new(Arc::new(vec![c]), Some(Version::V16));
        let mut out = Vec::new();
        let mut feed = |r: &mut Runner, t: i64, from: &str, text: &str| {
            let ev = Event {
                at: Timestamp::from_secs(t),
                conn: "CP",
                line: t as u64,
                kind: EventKind::Frame {
                    from: from.parse().unwrap(),
                    text,
                },
            };
            r.feed(&ev, &mut out);
        };
        let b = r#"[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
        feed(&mut r, 1, "charger", b);
        feed(
            &mut r,
            2,
            "csms",
            r#"[3,"1",{"status":"Pending","currentTime":"2026-01-01T00:00:00Z","interval":5}]"#,
        );
        // The Pending answer broke the trigger: re-armed, not failed.
        assert_eq!(r.results()[0].verdict, Verdict::NotRun);
        assert!(
            r.results()[0]
                .reason
                .starts_with("trigger not seen: step 1"),
            "{}",
            r.results()[0].reason
        );
        let b2 = b.replace("\"1\"", "\"2\"");
        feed(&mut r, 8, "charger", &b2);
        feed(
            &mut r,
            9,
            "csms",
            r#"[3,"2",{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":5}]"#,
        );
        // Asked mid-stream: running, waiting for step 3.
        let mid = &r.results()[0];
        assert_eq!(mid.verdict, Verdict::NotRun);
        assert!(
            mid.reason.contains("running: waiting for step 3"),
            "{}",
            mid.reason
        );
        assert_eq!(mid.steps[0].evidence[0].line, 8);
        // `expect` judges the selected frame: Faulted fails the step.
        feed(
            &mut r,
            10,
            "charger",
            r#"[2,"3","StatusNotification",{"connectorId":0,"errorCode":"NoError","status":"Faulted"}]"#,
        );
        let end = &r.results()[0];
        assert_eq!(end.verdict, Verdict::Failed);
        assert!(
            end.reason
                .contains("status: expected \"Available\", got \"Faulted\""),
            "{}",
            end.reason
        );
        assert!(
            out.iter()
                .any(|p| matches!(p.kind, ProgressKind::Failed { step: 2, .. }))
        );
    }

    const INJECT_CASE: &str = r#"
id = "1.6/core/x99"
title = "Injected remote stop"
versions = ["1.6"]
dut = "charger"
trigger = 2
[[steps]]
from = "csms"
result = "StartTransaction"
capture = { tx = "transactionId" }
[[steps]]
inject = { action = "RemoteStopTransaction", payload = { transactionId = "$tx" } }
[[steps]]
from = "charger"
result = "RemoteStopTransaction"
match = { status = "Accepted" }
"#;

    fn inject_runner() -> Runner {
        let c = parse_case(INJECT_CASE, "t.toml").unwrap();
        Runner::new(Arc::new(vec![c]), None)
    }

    #[test]
    fn an_inject_step_asks_once_with_captured_values_and_matches_like_a_csms_call() {
        let mut r = inject_runner();
        let stop = r#"[2,"inspector-1","RemoteStopTransaction",{"transactionId":5}]"#;
        let ok = r#"[3,"inspector-1",{"status":"Accepted"}]"#;
        let p = feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", START_OK),
                (2, "charger", HB),
                (3, "csms", stop),
                (3, "charger", ok),
            ],
        );
        let asked: Vec<&ProgressKind> = p
            .iter()
            .map(|p| &p.kind)
            .filter(|k| matches!(k, ProgressKind::Inject { .. }))
            .collect();
        assert_eq!(
            asked,
            vec![&ProgressKind::Inject {
                step: 1,
                action: "RemoteStopTransaction".into(),
                payload: json!({"transactionId": 5}),
            }]
        );
        assert_eq!(p.last().map(|p| &p.kind), Some(&ProgressKind::Passed));
        let res = r.results();
        assert_eq!(res[0].verdict, Verdict::Passed);
    }

    #[test]
    fn a_failed_injection_fails_the_case_at_its_step() {
        let mut r = inject_runner();
        let mut p = feed_all(&mut r, &[(1, "charger", START), (1, "csms", START_OK)]);
        // Not the step that was asked for: ignored.
        r.inject_failed("CP", 0, 2, "no", &mut p);
        assert!(
            !p.iter()
                .any(|p| matches!(p.kind, ProgressKind::Failed { .. }))
        );
        r.inject_failed("CP", 0, 1, "not connected", &mut p);
        assert!(matches!(
            &p.last().map(|p| &p.kind),
            Some(ProgressKind::Failed { step: 1, reason }) if reason.contains("could not inject it: not connected")
        ));
        assert_eq!(r.results()[0].verdict, Verdict::Failed);
    }

    /// The session case with a minimum wait before the stop.
    fn after_runner() -> Runner {
        let text = CASE.replace(
            "call = \"StopTransaction\"\nwithin_s = 60",
            "call = \"StopTransaction\"\nafter_s = 10\nwithin_s = 60",
        );
        let c = parse_case(&text, "t.toml").unwrap();
        assert_eq!(c.steps[3].after_s, Some(10.0));
        Runner::new(Arc::new(vec![c]), None)
    }

    #[test]
    fn a_frame_before_after_s_fails_its_step() {
        let mut r = after_runner();
        let p = feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", START_OK),
                (2, "charger", MV),
                (5, "charger", STOP),
            ],
        );
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::Failed);
        assert_eq!(res.failed_step, Some(3));
        // Counted from the previous matched frame (the meter values at 2 s), not the start.
        assert_eq!(
            res.reason,
            "step 4 (charger CALL StopTransaction): came after 3.0 s, expected at least 10 s"
        );
        assert_eq!(
            res.steps[3].evidence.len(),
            1,
            "the early frame is the evidence"
        );
        assert!(
            p.iter()
                .any(|p| matches!(p.kind, ProgressKind::Failed { step: 3, .. }))
        );
    }

    #[test]
    fn a_frame_after_after_s_passes() {
        let mut r = after_runner();
        feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", START_OK),
                (2, "charger", MV),
                (12, "charger", STOP),
            ],
        );
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
        // Exactly at the limit is not early.
        let mut r = after_runner();
        feed_all(
            &mut r,
            &[
                (1, "charger", START),
                (1, "csms", START_OK),
                (11, "charger", STOP),
            ],
        );
        assert_eq!(r.results()[0].verdict, Verdict::Passed);
    }

    #[test]
    fn an_early_frame_during_the_trigger_rearms_instead_of_failing() {
        let text = r#"
id = "1.6/core/x97"
title = "Two heartbeats apart"
versions = ["1.6"]
dut = "charger"
trigger = 2
[[steps]]
from = "charger"
call = "Heartbeat"
[[steps]]
from = "charger"
call = "Heartbeat"
after_s = 10
[[steps]]
from = "charger"
call = "StatusNotification"
"#;
        let c = parse_case(text, "t.toml").unwrap();
        let mut r = Runner::new(Arc::new(vec![c]), None);
        let sn = r#"[2,"s","StatusNotification",{"connectorId":0,"errorCode":"NoError","status":"Available"}]"#;
        // 1 → 3 is too early for step 2: re-armed, the frame at 3 starts a new run; 3 → 20
        // is far enough.
        feed_all(
            &mut r,
            &[
                (1, "charger", HB),
                (3, "charger", HB),
                (20, "charger", HB),
                (21, "charger", sn),
            ],
        );
        let res = &r.results()[0];
        assert_eq!(res.verdict, Verdict::Passed, "{}", res.reason);
        assert_eq!(res.steps[0].evidence[0].line, 3);
    }
}
