//! The UI's state and everything that changes it: connections, a bounded window of recent
//! frames with request/reply pairing, findings, focus, filters, selection and mode.
//! [`App::on_event`] and [`App::on_finding`] take what the engine saw; [`App::on_case`]
//! what the live case runner reported (the Cases pane of `testcase run --live`);
//! [`App::apply`] takes what the user asked ([`Action`]s from [`super::input`]).
//!
//! No I/O, no clock, no terminal: drawing is [`super::ui`]'s job, writing a report is the
//! loop's (asked for with an [`Effect`]). So every state change is tested on its own.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::feed::{CaseStep, FeedItem, OwnedEvent, OwnedKind};
use crate::finding::{Finding, Severity, shorten};
use crate::ocpp::{Side, Version};
use crate::testcase::Case;
use crate::time::Timestamp;
use crate::wire::frame::{self, Frame, MessageType};

/// Rows moved by a page key.
pub const PAGE: usize = 10;
/// Characters of payload kept per frame for the one-line view.
const SHORT_PAYLOAD: usize = 160;

/// Limits of what the UI keeps (its view only: the recording and the engine never drop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Frames kept for display; the oldest leave the view first.
    pub max_frames: usize,
    /// Findings kept for display; the oldest leave first.
    pub max_findings: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frames: 50_000,
            max_findings: 20_000,
        }
    }
}

/// The pane that has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Conns,
    /// The test cases (only when the app was given cases).
    Cases,
    Frames,
    Findings,
}

/// What the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The three panes.
    Normal,
    /// Typing a search after `/`.
    Search,
    /// The key overlay over the panes.
    Help,
    /// One frame in full.
    Detail,
}

/// Something the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    /// To the newest frame, following new ones again.
    Bottom,
    /// Open (detail of a frame, a connection's filter, a finding's frame).
    Enter,
    /// Close the overlay or the detail view.
    Back,
    ToggleHelp,
    StartSearch,
    SearchChar(char),
    SearchBackspace,
    SearchSubmit,
    SearchCancel,
    /// Show only the connection of the selection (again: show all).
    FilterConn,
    /// Show only the action of the selection (again: show all).
    FilterAction,
    /// Lowest severity shown: all → info → warning → error → all.
    CycleSeverity,
    ClearFilters,
    /// Select the request/reply partner of the selected frame.
    Partner,
    /// The next / previous frame that has a finding.
    NextProblem,
    PrevProblem,
    WriteReport,
    /// Show or hide the Cases pane (when there are cases).
    ToggleCases,
}

/// What the loop around the app must do after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Quit,
    WriteReport,
}

/// Where a connection stands, as far as its frames tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Connected,
    Booting,
    Pending,
    Rejected,
    Accepted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnRow {
    pub name: Arc<str>,
    /// The OCPP version (or the raw subprotocol token, `-` when none was negotiated).
    pub version: String,
    /// Transport and security profile, e.g. `wss 1.3 SP3`; `-` when unknown.
    pub security: String,
    pub registration: Registration,
    /// Transactions started and not yet ended.
    pub transactions: u32,
    pub closed: bool,
    pub frames: u64,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
}

impl ConnRow {
    fn new(name: Arc<str>) -> Self {
        ConnRow {
            name,
            version: "-".into(),
            security: "-".into(),
            registration: Registration::Connected,
            transactions: 0,
            closed: false,
            frames: 0,
            errors: 0,
            warnings: 0,
            infos: 0,
        }
    }

    /// `closed`, `in transaction`, or the registration state.
    pub fn state(&self) -> &'static str {
        if self.closed {
            "closed"
        } else if self.transactions > 0 {
            "in transaction"
        } else {
            match self.registration {
                Registration::Connected => "connected",
                Registration::Booting => "booting",
                Registration::Pending => "pending",
                Registration::Rejected => "rejected",
                Registration::Accepted => "accepted",
            }
        }
    }
}

/// What a row of the frames pane is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Open,
    Close,
    Binary,
    Frame,
}

/// One row of the frames pane.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRow {
    /// Position in arrival order, from 0; never reused.
    pub seq: u64,
    pub at: Timestamp,
    pub line: u64,
    pub conn: Arc<str>,
    pub kind: RowKind,
    pub from: Option<Side>,
    /// `None` for an event, or a frame that is no valid OCPP-J message.
    pub message_type: Option<MessageType>,
    /// The action, for a reply the action of the CALL it answers.
    pub action: Option<Box<str>>,
    pub unique_id: Option<Box<str>>,
    /// The payload, compact and shortened (or a description of the event).
    pub short: Box<str>,
    /// The text exactly as sent (empty for events).
    pub text: Box<str>,
    /// The worst finding on this row.
    pub worst: Option<Severity>,
    pub findings: u32,
    /// The request or reply this row pairs with.
    pub partner: Option<u64>,
}

impl FrameRow {
    fn matches(&self, needle: &str) -> bool {
        contains_smart(&self.conn, needle)
            || self
                .action
                .as_deref()
                .is_some_and(|a| contains_smart(a, needle))
            || self
                .unique_id
                .as_deref()
                .is_some_and(|a| contains_smart(a, needle))
            // The short form is cut from the text; events have only the short form.
            || if self.text.is_empty() {
                contains_smart(&self.short, needle)
            } else {
                contains_smart(&self.text, needle)
            }
    }
}

/// One row of the findings pane.
#[derive(Debug, Clone)]
pub struct FindingRow {
    /// Position in arrival order, from 0.
    pub no: u64,
    pub finding: Finding,
    /// The frame row it is about, when that row was known.
    pub frame: Option<u64>,
}

/// What is shown. Every part narrows the frames and the findings alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub conn: Option<Arc<str>>,
    pub action: Option<Box<str>>,
    pub min_severity: Option<Severity>,
    /// Free text (smart case: case-insensitive unless it has a capital).
    pub text: String,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    fn frame(&self, f: &FrameRow) -> bool {
        self.conn.as_ref().is_none_or(|c| *c == f.conn)
            && self
                .action
                .as_ref()
                .is_none_or(|a| f.action.as_deref() == Some(&**a))
            && self
                .min_severity
                .is_none_or(|s| f.worst.is_some_and(|w| w >= s))
            && (self.text.is_empty() || f.matches(&self.text))
    }

    fn finding(&self, r: &FindingRow) -> bool {
        let f = &r.finding;
        self.conn.as_ref().is_none_or(|c| *c == f.conn)
            && self
                .action
                .as_ref()
                .is_none_or(|a| f.action.as_deref() == Some(&**a))
            && self.min_severity.is_none_or(|s| f.severity >= s)
            && (self.text.is_empty()
                || contains_smart(&f.message, &self.text)
                || contains_smart(f.rule.id, &self.text)
                || contains_smart(&f.conn, &self.text))
    }
}

/// Counters over everything seen (not only what is kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub events: u64,
    pub frames: u64,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    /// Frame rows that left the view because of [`Limits::max_frames`].
    pub frames_out_of_view: u64,
    /// Findings that left the view because of [`Limits::max_findings`].
    pub findings_out_of_view: u64,
}

#[derive(Debug, Clone)]
struct PendingCall {
    seq: u64,
    action: Box<str>,
}

/// What the Cases pane needs of a test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInfo {
    pub id: String,
    pub title: String,
    pub versions: Vec<Version>,
    pub steps: usize,
}

impl CaseInfo {
    pub fn of(case: &Case) -> CaseInfo {
        CaseInfo {
            id: case.id.clone(),
            title: case.title.clone(),
            versions: case.versions.clone(),
            steps: case.steps.len(),
        }
    }
}

/// Where a case stands on a station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseState {
    /// Its trigger has not (fully) matched yet.
    Waiting,
    /// Started; `next` (from 0) is the step it waits for.
    Running {
        next: usize,
    },
    /// Started; the proxy sends the CALL of step `step`.
    Injecting {
        step: usize,
        action: Box<str>,
    },
    Passed,
    Failed {
        step: usize,
        reason: String,
    },
    NotRun {
        reason: String,
    },
}

impl CaseState {
    /// Passed, failed or not run: later steps do not change it.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            CaseState::Passed | CaseState::Failed { .. } | CaseState::NotRun { .. }
        )
    }

    /// One line for a case of `steps` steps: `waiting for trigger`, `at step 2 of 5`,
    /// `passed`, `failed: <reason>`, `not run: <reason>`.
    pub fn text(&self, steps: usize) -> String {
        match self {
            CaseState::Waiting => "waiting for trigger".into(),
            CaseState::Running { next } => {
                format!("at step {} of {steps}", (next + 1).min(steps.max(1)))
            }
            CaseState::Injecting { step, action } => {
                format!("at step {} of {steps}: injecting {action}", step + 1)
            }
            CaseState::Passed => "passed".into(),
            CaseState::Failed { reason, .. } => format!("failed: {reason}"),
            CaseState::NotRun { reason } => format!("not run: {reason}"),
        }
    }
}

/// One row of the Cases pane: a case on a station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub station: Arc<str>,
    /// Index into [`Cases::catalog`].
    pub case: usize,
    pub state: CaseState,
    /// The last step (from 0) that matched a frame.
    pub matched: Option<usize>,
}

/// The Cases pane's state: the cases given, and one row per case and station, stations in
/// the order they appeared, cases in catalog order.
#[derive(Debug, Clone, Default)]
pub struct Cases {
    pub catalog: Vec<CaseInfo>,
    pub rows: Vec<CaseRow>,
    /// Items about a case index the catalog does not have (ignored).
    pub unknown: u64,
    pub sel: usize,
    /// The pane is shown (`t` toggles).
    pub shown: bool,
}

/// Counts of the Cases pane's rows by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseCounts {
    pub waiting: usize,
    pub running: usize,
    pub passed: usize,
    pub failed: usize,
    pub not_run: usize,
}

impl Cases {
    fn new(catalog: Vec<CaseInfo>) -> Self {
        Cases {
            catalog,
            shown: true,
            ..Cases::default()
        }
    }

    /// Adds the rows of every case for `version` on `station` not listed yet.
    fn station(&mut self, station: &Arc<str>, version: Version) {
        for (i, c) in self.catalog.iter().enumerate() {
            if c.versions.contains(&version)
                && !self
                    .rows
                    .iter()
                    .any(|r| r.station == *station && r.case == i)
            {
                let at = self.insert_at(station, i);
                self.rows.insert(
                    at,
                    CaseRow {
                        station: station.clone(),
                        case: i,
                        state: CaseState::Waiting,
                        matched: None,
                    },
                );
            }
        }
    }

    /// Where the row of `case` on `station` goes: after the station's rows of lower cases,
    /// or at the end when the station has none.
    fn insert_at(&self, station: &str, case: usize) -> usize {
        let mut at = None;
        for (i, r) in self.rows.iter().enumerate() {
            if &*r.station == station {
                if r.case > case {
                    return i;
                }
                at = Some(i + 1);
            }
        }
        at.unwrap_or(self.rows.len())
    }

    fn row_mut(&mut self, station: &Arc<str>, case: usize) -> &mut CaseRow {
        let i = match self
            .rows
            .iter()
            .position(|r| r.station == *station && r.case == case)
        {
            Some(i) => i,
            None => {
                // The station's announcement was dropped (the UI lagged): list it now.
                let at = self.insert_at(station, case);
                self.rows.insert(
                    at,
                    CaseRow {
                        station: station.clone(),
                        case,
                        state: CaseState::Waiting,
                        matched: None,
                    },
                );
                at
            }
        };
        &mut self.rows[i]
    }

    fn step(&mut self, station: &Arc<str>, case: usize, step: CaseStep) {
        let Some(steps) = self.catalog.get(case).map(|c| c.steps) else {
            self.unknown += 1;
            return;
        };
        let row = self.row_mut(station, case);
        let last = steps.saturating_sub(1);
        match step {
            // The final word at the end of the run replaces whatever was shown.
            CaseStep::NotRun { reason } => row.state = CaseState::NotRun { reason },
            _ if row.state.is_final() => {}
            CaseStep::Matched(i) => {
                row.matched = Some(i);
                // Trigger steps match while the case waits: it has not started yet.
                if row.state != CaseState::Waiting {
                    row.state = CaseState::Running {
                        next: (i + 1).min(last),
                    };
                }
            }
            CaseStep::Started => {
                row.state = CaseState::Running {
                    next: row.matched.map_or(0, |i| (i + 1).min(last)),
                };
            }
            CaseStep::Injecting { step, action } => {
                row.state = CaseState::Injecting { step, action };
            }
            CaseStep::Passed => row.state = CaseState::Passed,
            CaseStep::Failed { step, reason } => row.state = CaseState::Failed { step, reason },
        }
    }

    pub fn counts(&self) -> CaseCounts {
        let mut c = CaseCounts::default();
        for r in &self.rows {
            match r.state {
                CaseState::Waiting => c.waiting += 1,
                CaseState::Running { .. } | CaseState::Injecting { .. } => c.running += 1,
                CaseState::Passed => c.passed += 1,
                CaseState::Failed { .. } => c.failed += 1,
                CaseState::NotRun { .. } => c.not_run += 1,
            }
        }
        c
    }
}

/// The whole UI state.
#[derive(Debug)]
pub struct App {
    limits: Limits,
    /// What is being looked at: the trace path, or the proxy's addresses.
    pub title: String,
    pub conns: Vec<ConnRow>,
    conn_index: HashMap<Arc<str>, usize>,
    pub frames: VecDeque<FrameRow>,
    next_seq: u64,
    pub findings: VecDeque<FindingRow>,
    next_finding: u64,
    pending: HashMap<(Arc<str>, Side, Box<str>), PendingCall>,
    pub totals: Totals,
    pub focus: Focus,
    pub mode: Mode,
    pub filter: Filter,
    /// The search being typed (`/`), applied on Enter.
    pub search_input: String,
    pub conn_sel: usize,
    /// The selected frame row (by seq), when not following.
    frame_sel: Option<u64>,
    /// The frames pane shows the newest frame and moves with new ones.
    pub follow: bool,
    /// The first visible frame row shown when not following (drawing clamps it so the
    /// selection shows); the window moves only when the selection would leave it.
    pub frames_top: usize,
    /// Rows of the frames pane, as last drawn (set by the loop).
    frames_rows: usize,
    /// The selected finding (by number); `None` = the first row.
    finding_sel: Option<u64>,
    /// Lines scrolled in the detail view.
    pub detail_scroll: u16,
    /// A one-line message for the status line (report written, nothing there, …).
    pub message: Option<String>,
    /// The latest notice about a connection or the run.
    pub notice: Option<String>,
    /// Frames per second, when live (set by the loop; `None` for a recorded trace).
    pub rate: Option<f64>,
    /// Items the feed dropped because the UI lagged (set by the loop).
    pub feed_dropped: u64,
    /// The live run is over.
    pub finished: Option<String>,
    /// The test cases of `testcase run --live` (`None`: no Cases pane).
    pub cases: Option<Cases>,
}

impl App {
    pub fn new(title: impl Into<String>, limits: Limits) -> Self {
        App {
            limits: Limits {
                max_frames: limits.max_frames.max(1),
                max_findings: limits.max_findings.max(1),
            },
            title: title.into(),
            conns: Vec::new(),
            conn_index: HashMap::new(),
            frames: VecDeque::new(),
            next_seq: 0,
            findings: VecDeque::new(),
            next_finding: 0,
            pending: HashMap::new(),
            totals: Totals::default(),
            focus: Focus::Frames,
            mode: Mode::Normal,
            filter: Filter::default(),
            search_input: String::new(),
            conn_sel: 0,
            frame_sel: None,
            follow: true,
            frames_top: 0,
            frames_rows: 20,
            finding_sel: None,
            detail_scroll: 0,
            message: None,
            notice: None,
            rate: None,
            feed_dropped: 0,
            finished: None,
            cases: None,
        }
    }

    /// Gives the app the test cases whose progress will come through the feed; the Cases
    /// pane shows from now on.
    pub fn set_cases(&mut self, catalog: Vec<CaseInfo>) {
        self.cases = Some(Cases::new(catalog));
    }

    /// The Cases pane is on screen.
    pub fn cases_shown(&self) -> bool {
        self.cases.as_ref().is_some_and(|c| c.shown)
    }

    /// Takes one report of the live case runner (ignored without cases).
    pub fn on_case(&mut self, station: &Arc<str>, case: usize, step: CaseStep) {
        if let Some(c) = self.cases.as_mut() {
            c.step(station, case, step);
        }
    }

    /// Positions (in the Cases rows) of the rows shown: a connection filter narrows them.
    pub fn visible_cases(&self) -> Vec<usize> {
        let Some(c) = &self.cases else {
            return Vec::new();
        };
        c.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| self.filter.conn.as_ref().is_none_or(|s| *s == r.station))
            .map(|(i, _)| i)
            .collect()
    }

    /// The index into `visible` of the selected case row.
    pub fn selected_case_index(&self, visible: &[usize]) -> Option<usize> {
        let c = self.cases.as_ref()?;
        if visible.is_empty() {
            return None;
        }
        Some(
            visible
                .partition_point(|&p| p < c.sel)
                .min(visible.len() - 1),
        )
    }

    pub fn selected_case(&self) -> Option<&CaseRow> {
        let v = self.visible_cases();
        let i = self.selected_case_index(&v)?;
        self.cases.as_ref()?.rows.get(v[i])
    }

    fn move_cases(&mut self, delta: isize) {
        let v = self.visible_cases();
        let Some(i) = self.selected_case_index(&v) else {
            return;
        };
        let j = i.saturating_add_signed(delta).min(v.len() - 1);
        if let Some(c) = self.cases.as_mut() {
            c.sel = v[j];
        }
    }

    /// The panes Tab moves through, in screen order.
    fn focus_order(&self) -> &'static [Focus] {
        if self.cases_shown() {
            &[Focus::Conns, Focus::Cases, Focus::Frames, Focus::Findings]
        } else {
            &[Focus::Conns, Focus::Frames, Focus::Findings]
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes one item of the feed.
    pub fn on_item(&mut self, item: FeedItem) {
        match item {
            FeedItem::Event(e) => self.on_event(&e),
            FeedItem::Finding(f) => self.on_finding(*f),
            FeedItem::Notice { conn, text } => self.notice = Some(format!("{conn}: {text}")),
            FeedItem::Finished { summary } => self.finished = Some(summary),
            FeedItem::CaseStation { station, version } => {
                if let Some(c) = self.cases.as_mut() {
                    c.station(&station, version);
                }
            }
            FeedItem::Case {
                station,
                case,
                step,
            } => self.on_case(&station, case, step),
        }
    }

    fn conn_mut(&mut self, name: &Arc<str>) -> &mut ConnRow {
        let i = match self.conn_index.get(name) {
            Some(&i) => i,
            None => {
                self.conns.push(ConnRow::new(name.clone()));
                self.conn_index.insert(name.clone(), self.conns.len() - 1);
                self.conns.len() - 1
            }
        };
        &mut self.conns[i]
    }

    /// Takes one engine event (before the findings about it).
    pub fn on_event(&mut self, e: &OwnedEvent) {
        self.totals.events += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut row = FrameRow {
            seq,
            at: e.at,
            line: e.line,
            conn: e.conn.clone(),
            kind: RowKind::Frame,
            from: None,
            message_type: None,
            action: None,
            unique_id: None,
            short: Box::from(""),
            text: Box::from(""),
            worst: None,
            findings: 0,
            partner: None,
        };
        match &e.kind {
            OwnedKind::Open {
                subprotocol,
                scheme,
                tls_version,
                client_cert,
                basic_auth,
            } => {
                row.kind = RowKind::Open;
                let version = match subprotocol.as_deref() {
                    Some(p) => {
                        Version::from_subprotocol(p).map_or(p.to_owned(), |v| v.as_str().to_owned())
                    }
                    None => "-".to_owned(),
                };
                let security = security_label(
                    scheme.as_deref(),
                    tls_version.as_deref(),
                    *client_cert,
                    *basic_auth,
                );
                row.short = format!(
                    "open {} {}",
                    subprotocol.as_deref().unwrap_or("(no subprotocol)"),
                    security
                )
                .into();
                let c = self.conn_mut(&e.conn);
                c.version = version;
                c.security = security;
                c.registration = Registration::Connected;
                c.transactions = 0;
                c.closed = false;
            }
            OwnedKind::Close { code, by } => {
                row.kind = RowKind::Close;
                row.from = *by;
                row.short = format!(
                    "close code {} by {}",
                    code.map_or_else(|| "none".to_owned(), |c| c.to_string()),
                    by.map_or("proxy", |s| s.as_str())
                )
                .into();
                self.conn_mut(&e.conn).closed = true;
            }
            OwnedKind::Gap { frames } => {
                row.kind = RowKind::Close;
                row.short = match frames {
                    Some(n) => format!("gap: {n} frames missing from the observation"),
                    None => "gap: frames missing from the observation".to_owned(),
                }
                .into();
            }
            OwnedKind::Binary { from, len } => {
                row.kind = RowKind::Binary;
                row.from = Some(*from);
                row.short = format!("binary frame, {len} bytes").into();
                self.totals.frames += 1;
                self.conn_mut(&e.conn).frames += 1;
            }
            OwnedKind::Frame { from, text } => {
                row.from = Some(*from);
                row.text = text.clone();
                self.totals.frames += 1;
                self.conn_mut(&e.conn).frames += 1;
                self.read_frame(&mut row, *from, text);
            }
        }
        self.push_row(row);
    }

    /// Classifies a frame, pairs it with its request or reply, and follows the registration
    /// and transactions of its connection.
    fn read_frame(&mut self, row: &mut FrameRow, from: Side, text: &str) {
        let value = match frame::parse_json(text) {
            Ok(v) => v,
            Err(_) => {
                row.short = shorten(text.trim(), SHORT_PAYLOAD).into();
                return;
            }
        };
        let Ok(f) = frame::classify(&value) else {
            row.short = shorten(text.trim(), SHORT_PAYLOAD).into();
            return;
        };
        row.message_type = Some(f.message_type());
        row.unique_id = Some(f.id().into());
        match f {
            Frame::Call {
                id,
                action,
                payload,
                send,
            } => {
                row.action = Some(action.into());
                row.short = compact(payload);
                if !send {
                    self.pending.insert(
                        (row.conn.clone(), from, id.into()),
                        PendingCall {
                            seq: row.seq,
                            action: action.into(),
                        },
                    );
                }
                let c = self.conn_mut(&row.conn);
                match action {
                    "BootNotification"
                        if from == Side::Charger && c.registration != Registration::Accepted =>
                    {
                        c.registration = Registration::Booting;
                    }
                    "StartTransaction" if from == Side::Charger => c.transactions += 1,
                    "StopTransaction" if from == Side::Charger => {
                        c.transactions = c.transactions.saturating_sub(1);
                    }
                    "TransactionEvent" if from == Side::Charger => {
                        match payload.get("eventType").and_then(Value::as_str) {
                            Some("Started") => c.transactions += 1,
                            Some("Ended") => c.transactions = c.transactions.saturating_sub(1),
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            Frame::CallResult { id, payload } => {
                row.short = compact(payload);
                if let Some(call) = self.answer(row, from, id)
                    && &*call.action == "BootNotification"
                    && from == Side::Csms
                {
                    let reg = match payload.get("status").and_then(Value::as_str) {
                        Some("Accepted") => Some(Registration::Accepted),
                        Some("Pending") => Some(Registration::Pending),
                        Some("Rejected") => Some(Registration::Rejected),
                        _ => None,
                    };
                    if let Some(reg) = reg {
                        self.conn_mut(&row.conn).registration = reg;
                    }
                }
            }
            Frame::CallError {
                id,
                code,
                description,
                ..
            } => {
                row.short = shorten(
                    &format!(
                        "{} {}",
                        code.as_str().unwrap_or("?"),
                        description.as_str().unwrap_or("")
                    ),
                    SHORT_PAYLOAD,
                )
                .into();
                self.answer(row, from, id);
            }
        }
    }

    /// Pairs a reply with the CALL of the other side that it answers.
    fn answer(&mut self, row: &mut FrameRow, from: Side, id: &str) -> Option<PendingCall> {
        let call = self
            .pending
            .remove(&(row.conn.clone(), from.other(), Box::from(id)))?;
        row.action = Some(call.action.clone());
        row.partner = Some(call.seq);
        if let Some(req) = self.row_mut(call.seq) {
            req.partner = Some(row.seq);
        }
        Some(call)
    }

    fn push_row(&mut self, row: FrameRow) {
        self.frames.push_back(row);
        while self.frames.len() > self.limits.max_frames {
            self.frames.pop_front();
            self.totals.frames_out_of_view += 1;
        }
        if self.pending.len() > self.limits.max_frames {
            let first = self.first_seq();
            self.pending.retain(|_, c| c.seq >= first);
        }
    }

    fn first_seq(&self) -> u64 {
        self.frames.front().map_or(self.next_seq, |f| f.seq)
    }

    /// The kept row with this seq.
    pub fn row(&self, seq: u64) -> Option<&FrameRow> {
        let i = usize::try_from(seq.checked_sub(self.first_seq())?).ok()?;
        self.frames.get(i)
    }

    fn row_mut(&mut self, seq: u64) -> Option<&mut FrameRow> {
        let i = usize::try_from(seq.checked_sub(self.first_seq())?).ok()?;
        self.frames.get_mut(i)
    }

    /// The kept row of trace line `line` on `conn` (lines rise with arrival).
    fn row_of_line(&self, conn: &str, line: u64) -> Option<u64> {
        if line == 0 {
            return None;
        }
        let i = self.frames.partition_point(|f| f.line < line);
        self.frames
            .range(i..)
            .take_while(|f| f.line == line)
            .find(|f| &*f.conn == conn)
            .map(|f| f.seq)
    }

    /// Takes one finding (after the event it is about).
    pub fn on_finding(&mut self, f: Finding) {
        match f.severity {
            Severity::Error => self.totals.errors += 1,
            Severity::Warning => self.totals.warnings += 1,
            Severity::Info => self.totals.infos += 1,
        }
        let conn = f.conn.clone();
        let c = self.conn_mut(&conn);
        match f.severity {
            Severity::Error => c.errors += 1,
            Severity::Warning => c.warnings += 1,
            Severity::Info => c.infos += 1,
        }
        let frame = self.row_of_line(&f.conn, f.line);
        if let Some(seq) = frame
            && let Some(row) = self.row_mut(seq)
        {
            row.findings += 1;
            row.worst = row.worst.max(Some(f.severity));
        }
        let no = self.next_finding;
        self.next_finding += 1;
        self.findings.push_back(FindingRow {
            no,
            finding: f,
            frame,
        });
        while self.findings.len() > self.limits.max_findings {
            self.findings.pop_front();
            self.totals.findings_out_of_view += 1;
        }
    }

    /// Positions (in `frames`) of the rows the filter lets through, oldest first.
    pub fn visible_frames(&self) -> Vec<usize> {
        if self.filter.is_empty() {
            return (0..self.frames.len()).collect();
        }
        self.frames
            .iter()
            .enumerate()
            .filter(|(_, f)| self.filter.frame(f))
            .map(|(i, _)| i)
            .collect()
    }

    /// Positions (in `findings`) of the findings shown: worst severity first, newest first
    /// within a severity.
    pub fn visible_findings(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .findings
            .iter()
            .enumerate()
            .filter(|(_, r)| self.filter.finding(r))
            .map(|(i, _)| i)
            .collect();
        v.sort_by(|&a, &b| {
            let (fa, fb) = (&self.findings[a], &self.findings[b]);
            fb.finding
                .severity
                .cmp(&fa.finding.severity)
                .then(fb.no.cmp(&fa.no))
        });
        v
    }

    /// The index into `visible` of the selected frame.
    pub fn selected_frame_index(&self, visible: &[usize]) -> Option<usize> {
        if visible.is_empty() {
            return None;
        }
        let last = visible.len() - 1;
        match (self.follow, self.frame_sel) {
            (true, _) | (false, None) => Some(last),
            (false, Some(seq)) => {
                let i = visible.partition_point(|&p| self.frames[p].seq < seq);
                Some(i.min(last))
            }
        }
    }

    /// The selected frame row.
    pub fn selected_frame(&self) -> Option<&FrameRow> {
        let v = self.visible_frames();
        let i = self.selected_frame_index(&v)?;
        self.frames.get(v[i])
    }

    /// The index into `visible` of the selected finding.
    pub fn selected_finding_index(&self, visible: &[usize]) -> Option<usize> {
        if visible.is_empty() {
            return None;
        }
        Some(match self.finding_sel {
            None => 0,
            Some(no) => visible
                .iter()
                .position(|&p| self.findings[p].no == no)
                .unwrap_or(0),
        })
    }

    pub fn selected_finding(&self) -> Option<&FindingRow> {
        let v = self.visible_findings();
        let i = self.selected_finding_index(&v)?;
        self.findings.get(v[i])
    }

    /// The findings about the frame row `seq`.
    pub fn findings_of(&self, seq: u64) -> impl Iterator<Item = &FindingRow> {
        self.findings.iter().filter(move |r| r.frame == Some(seq))
    }

    /// Tells the app how many rows the frames pane has, so scrolling moves the window only
    /// when the selection would leave it.
    pub fn set_frames_rows(&mut self, rows: usize) {
        self.frames_rows = rows.max(1);
    }

    /// Selects the frame row `seq` (and stops following), scrolling just enough to show it.
    fn select_frame(&mut self, seq: u64) {
        let v = self.visible_frames();
        if self.follow {
            // Start from where following left the window: the newest rows at the bottom.
            self.frames_top = v.len().saturating_sub(self.frames_rows);
        }
        self.frame_sel = Some(seq);
        self.follow = false;
        if let Some(i) = self.selected_frame_index(&v) {
            let rows = self.frames_rows;
            self.frames_top = self
                .frames_top
                .clamp(i.saturating_sub(rows.saturating_sub(1)), i);
        }
    }

    fn move_frames(&mut self, delta: isize) {
        let v = self.visible_frames();
        let Some(i) = self.selected_frame_index(&v) else {
            return;
        };
        let j = i.saturating_add_signed(delta).min(v.len() - 1);
        self.select_frame(self.frames[v[j]].seq);
    }

    fn move_findings(&mut self, delta: isize) {
        let v = self.visible_findings();
        let Some(i) = self.selected_finding_index(&v) else {
            return;
        };
        let j = i.saturating_add_signed(delta).min(v.len() - 1);
        self.finding_sel = Some(self.findings[v[j]].no);
    }

    fn move_sel(&mut self, delta: isize) {
        if self.mode == Mode::Detail {
            self.detail_scroll = if delta < 0 {
                self.detail_scroll
                    .saturating_sub(u16::try_from(delta.unsigned_abs()).unwrap_or(u16::MAX))
            } else {
                self.detail_scroll
                    .saturating_add(u16::try_from(delta).unwrap_or(u16::MAX))
            };
            return;
        }
        match self.focus {
            Focus::Conns => {
                if !self.conns.is_empty() {
                    self.conn_sel = self
                        .conn_sel
                        .saturating_add_signed(delta)
                        .min(self.conns.len() - 1);
                }
            }
            Focus::Cases => self.move_cases(delta),
            Focus::Frames => self.move_frames(delta),
            Focus::Findings => self.move_findings(delta),
        }
    }

    /// Changes the state as the user asked; says what the loop must do, if anything.
    pub fn apply(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::WriteReport => return Some(Effect::WriteReport),
            Action::FocusNext | Action::FocusPrev => {
                let order = self.focus_order();
                let n = order.len();
                let i = order
                    .iter()
                    .position(|&f| f == self.focus)
                    .unwrap_or_else(|| order.iter().position(|&f| f == Focus::Frames).unwrap_or(0));
                let j = if action == Action::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.focus = order[j];
            }
            Action::ToggleCases => match self.cases.as_mut() {
                Some(c) => {
                    c.shown = !c.shown;
                    if !c.shown && self.focus == Focus::Cases {
                        self.focus = Focus::Frames;
                    }
                }
                None => self.message = Some("no test cases run here".into()),
            },
            Action::Up => self.move_sel(-1),
            Action::Down => self.move_sel(1),
            Action::PageUp => self.move_sel(-(PAGE as isize)),
            Action::PageDown => self.move_sel(PAGE as isize),
            Action::Top => match (self.mode, self.focus) {
                (Mode::Detail, _) => self.detail_scroll = 0,
                (_, Focus::Conns) => self.conn_sel = 0,
                (_, Focus::Cases) => {
                    if let (Some(&p), Some(c)) = (self.visible_cases().first(), self.cases.as_mut())
                    {
                        c.sel = p;
                    }
                }
                (_, Focus::Frames) => {
                    if let Some(&p) = self.visible_frames().first() {
                        self.select_frame(self.frames[p].seq);
                    }
                }
                (_, Focus::Findings) => self.finding_sel = None,
            },
            Action::Bottom => match (self.mode, self.focus) {
                (Mode::Detail, _) => {}
                (_, Focus::Conns) => self.conn_sel = self.conns.len().saturating_sub(1),
                (_, Focus::Cases) => {
                    if let (Some(&p), Some(c)) = (self.visible_cases().last(), self.cases.as_mut())
                    {
                        c.sel = p;
                    }
                }
                (_, Focus::Frames) => {
                    self.follow = true;
                    self.frame_sel = None;
                }
                (_, Focus::Findings) => {
                    if let Some(&p) = self.visible_findings().last() {
                        self.finding_sel = Some(self.findings[p].no);
                    }
                }
            },
            Action::Enter => self.enter(),
            Action::Back => {
                self.mode = Mode::Normal;
                self.message = None;
            }
            Action::ToggleHelp => {
                self.mode = if self.mode == Mode::Help {
                    Mode::Normal
                } else {
                    Mode::Help
                };
            }
            Action::StartSearch => {
                self.search_input = self.filter.text.clone();
                self.mode = Mode::Search;
            }
            Action::SearchChar(c) => self.search_input.push(c),
            Action::SearchBackspace => {
                self.search_input.pop();
            }
            Action::SearchSubmit => {
                self.filter.text = std::mem::take(&mut self.search_input);
                self.mode = Mode::Normal;
                self.message = self.nothing_shown();
            }
            Action::SearchCancel => {
                self.search_input.clear();
                self.mode = Mode::Normal;
            }
            Action::FilterConn => {
                if self.filter.conn.is_some() {
                    self.filter.conn = None;
                } else {
                    let conn = match self.focus {
                        Focus::Conns => self.conns.get(self.conn_sel).map(|c| c.name.clone()),
                        Focus::Cases => self.selected_case().map(|r| r.station.clone()),
                        Focus::Frames => self.selected_frame().map(|f| f.conn.clone()),
                        Focus::Findings => self.selected_finding().map(|f| f.finding.conn.clone()),
                    };
                    self.filter.conn = conn;
                }
            }
            Action::FilterAction => {
                if self.filter.action.is_some() {
                    self.filter.action = None;
                } else {
                    let action = match self.focus {
                        Focus::Findings => self
                            .selected_finding()
                            .and_then(|f| f.finding.action.clone()),
                        _ => self.selected_frame().and_then(|f| f.action.clone()),
                    };
                    self.filter.action = action;
                }
            }
            Action::CycleSeverity => {
                self.filter.min_severity = match self.filter.min_severity {
                    None => Some(Severity::Info),
                    Some(Severity::Info) => Some(Severity::Warning),
                    Some(Severity::Warning) => Some(Severity::Error),
                    Some(Severity::Error) => None,
                };
            }
            Action::ClearFilters => {
                self.filter = Filter::default();
                self.message = None;
            }
            Action::Partner => {
                match self.selected_frame().map(|f| (f.partner, f.seq)) {
                    Some((Some(p), _)) if self.row(p).is_some() => {
                        self.select_frame(p);
                        self.detail_scroll = 0;
                        // The partner may be filtered out: show it anyway.
                        if !self
                            .visible_frames()
                            .iter()
                            .any(|&i| self.frames[i].seq == p)
                        {
                            self.filter = Filter::default();
                        }
                    }
                    Some((Some(_), _)) => {
                        self.message = Some("its partner has left the view".into());
                    }
                    _ => self.message = Some("this frame has no request/reply partner".into()),
                }
            }
            Action::NextProblem | Action::PrevProblem => {
                let v = self.visible_frames();
                if let Some(i) = self.selected_frame_index(&v) {
                    let found = if action == Action::NextProblem {
                        v[i + 1..].iter().find(|&&p| self.frames[p].worst.is_some())
                    } else {
                        v[..i]
                            .iter()
                            .rev()
                            .find(|&&p| self.frames[p].worst.is_some())
                    };
                    match found {
                        Some(&p) => {
                            self.select_frame(self.frames[p].seq);
                            self.detail_scroll = 0;
                        }
                        None => self.message = Some("no further frame with a finding".into()),
                    }
                }
            }
        }
        None
    }

    fn enter(&mut self) {
        match (self.mode, self.focus) {
            (Mode::Detail, _) | (Mode::Help, _) => self.mode = Mode::Normal,
            (Mode::Search, _) => {}
            (Mode::Normal, Focus::Conns) => {
                let name = self.conns.get(self.conn_sel).map(|c| c.name.clone());
                self.filter.conn = if self.filter.conn == name { None } else { name };
            }
            (Mode::Normal, Focus::Cases) => {
                let name = self.selected_case().map(|r| r.station.clone());
                self.filter.conn = if self.filter.conn == name { None } else { name };
            }
            (Mode::Normal, Focus::Frames) => {
                if let Some(f) = self.selected_frame() {
                    // Pin the selection so new frames do not move the detail away.
                    let seq = f.seq;
                    self.select_frame(seq);
                    self.detail_scroll = 0;
                    self.mode = Mode::Detail;
                }
            }
            (Mode::Normal, Focus::Findings) => {
                let Some(r) = self.selected_finding() else {
                    return;
                };
                match r.frame {
                    Some(seq) if self.row(seq).is_some() => {
                        self.select_frame(seq);
                        self.focus = Focus::Frames;
                        if !self
                            .visible_frames()
                            .iter()
                            .any(|&i| self.frames[i].seq == seq)
                        {
                            self.filter.text.clear();
                            self.filter.action = None;
                            self.filter.min_severity = None;
                        }
                    }
                    Some(_) => self.message = Some("that frame has left the view".into()),
                    None => {
                        self.message =
                            Some("this finding is about the connection, not one frame".into());
                    }
                }
            }
        }
    }

    fn nothing_shown(&self) -> Option<String> {
        (self.visible_frames().is_empty() && self.visible_findings().is_empty())
            .then(|| format!("nothing matches `{}`", self.filter.text))
    }

    /// The round trip of the selected frame's pair, in milliseconds.
    pub fn round_trip_ms(&self, row: &FrameRow) -> Option<f64> {
        let other = self.row(row.partner?)?;
        let (a, b) = if other.seq < row.seq {
            (other.at, row.at)
        } else {
            (row.at, other.at)
        };
        Some(b.secs_since(a) * 1000.0)
    }
}

/// `ws`, `wss 1.3 SP3`, …; the security profile as far as the open event tells it.
fn security_label(
    scheme: Option<&str>,
    tls: Option<&str>,
    client_cert: bool,
    basic_auth: bool,
) -> String {
    let Some(scheme) = scheme else {
        return "-".into();
    };
    let mut s = scheme.to_owned();
    if let Some(v) = tls {
        s.push(' ');
        s.push_str(v);
    }
    let profile = match (scheme, client_cert, basic_auth) {
        ("wss", true, _) => Some(3),
        ("wss", false, true) => Some(2),
        ("ws", _, true) => Some(1),
        _ => None,
    };
    if let Some(p) = profile {
        s.push_str(&format!(" SP{p}"));
    }
    s
}

/// A payload on one line, shortened.
fn compact(v: &Value) -> Box<str> {
    let s = serde_json::to_string(v).unwrap_or_default();
    shorten(&s, SHORT_PAYLOAD).into()
}

/// Smart case: a needle with a capital letter matches exactly, otherwise ignoring ASCII case.
pub fn contains_smart(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some(&first) = n.first() else {
        return true;
    };
    if needle.chars().any(char::is_uppercase) {
        return memchr::memmem::find(h, n).is_some();
    }
    // Candidates start where the first byte matches in either case (memchr is fast), and
    // only there is the rest compared.
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut from = 0;
    while let Some(i) = memchr::memchr2(lo, up, &h[from..]) {
        let at = from + i;
        if h.len() - at < n.len() {
            return false;
        }
        if h[at..at + n.len()].eq_ignore_ascii_case(n) {
            return true;
        }
        from = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_case_search() {
        assert!(contains_smart("BootNotification", "notif"));
        assert!(contains_smart(
            "BootNotification",
            "BOOTN".to_lowercase().as_str()
        ));
        assert!(contains_smart("xHeartBeat", "heartbeat"));
        assert!(
            !contains_smart("xHeartBeat", "Heartbeat"),
            "a capital makes it exact"
        );
        assert!(contains_smart("xHeartBeat", "HeartBeat"));
        assert!(!contains_smart("abc", "abcd"));
        assert!(!contains_smart("ab", "b2"));
        assert!(contains_smart("anything", ""));
        assert!(contains_smart("Ünïcode ok", "ok"));
    }

    fn info(id: &str, versions: &[Version], steps: usize) -> CaseInfo {
        CaseInfo {
            id: id.into(),
            title: format!("title of {id}"),
            versions: versions.to_vec(),
            steps,
        }
    }

    /// Cases: 0 for 2.0.1 (4 steps), 1 for 1.6 only, 2 for both (2 steps).
    fn with_cases() -> App {
        let mut app = App::new("t", Limits::default());
        app.set_cases(vec![
            info("2.0.1/B/01_CS", &[Version::V201], 4),
            info("1.6/core/x01_CS", &[Version::V16], 3),
            info("any/x", &[Version::V16, Version::V201], 2),
        ]);
        app
    }

    fn case(app: &mut App, station: &str, case: usize, step: CaseStep) {
        app.on_item(FeedItem::Case {
            station: Arc::from(station),
            case,
            step,
        });
    }

    fn station(app: &mut App, station: &str, version: Version) {
        app.on_item(FeedItem::CaseStation {
            station: Arc::from(station),
            version,
        });
    }

    fn states(app: &App) -> Vec<(String, usize, String)> {
        let c = app.cases.as_ref().unwrap();
        c.rows
            .iter()
            .map(|r| {
                (
                    r.station.to_string(),
                    r.case,
                    r.state.text(c.catalog[r.case].steps),
                )
            })
            .collect()
    }

    #[test]
    fn a_station_lists_the_cases_of_its_version_waiting() {
        let mut app = with_cases();
        assert!(app.cases_shown());
        station(&mut app, "EVSE-1", Version::V201);
        station(&mut app, "CP-16", Version::V16);
        // Told twice: listed once.
        station(&mut app, "EVSE-1", Version::V201);
        let w = "waiting for trigger".to_owned();
        assert_eq!(
            states(&app),
            vec![
                ("EVSE-1".into(), 0, w.clone()),
                ("EVSE-1".into(), 2, w.clone()),
                ("CP-16".into(), 1, w.clone()),
                ("CP-16".into(), 2, w.clone()),
            ]
        );
        let n = app.cases.as_ref().unwrap().counts();
        assert_eq!((n.waiting, n.running, n.passed, n.failed), (4, 0, 0, 0));
    }

    #[test]
    fn progress_moves_a_case_through_its_steps_to_its_verdict() {
        let mut app = with_cases();
        station(&mut app, "EVSE-1", Version::V201);
        // A trigger step matched: the case has not started yet.
        case(&mut app, "EVSE-1", 0, CaseStep::Matched(0));
        assert_eq!(states(&app)[0].2, "waiting for trigger");
        case(&mut app, "EVSE-1", 0, CaseStep::Started);
        assert_eq!(states(&app)[0].2, "at step 2 of 4");
        case(&mut app, "EVSE-1", 0, CaseStep::Matched(1));
        assert_eq!(states(&app)[0].2, "at step 3 of 4");
        case(
            &mut app,
            "EVSE-1",
            0,
            CaseStep::Injecting {
                step: 2,
                action: "RequestStartTransaction".into(),
            },
        );
        assert_eq!(
            states(&app)[0].2,
            "at step 3 of 4: injecting RequestStartTransaction"
        );
        case(&mut app, "EVSE-1", 0, CaseStep::Matched(3));
        assert_eq!(states(&app)[0].2, "at step 4 of 4");
        case(&mut app, "EVSE-1", 0, CaseStep::Passed);
        assert_eq!(states(&app)[0].2, "passed");
        // A passed case stays passed whatever comes after.
        case(&mut app, "EVSE-1", 0, CaseStep::Matched(1));
        case(
            &mut app,
            "EVSE-1",
            0,
            CaseStep::Failed {
                step: 1,
                reason: "late".into(),
            },
        );
        assert_eq!(states(&app)[0].2, "passed");
        // The other case fails with its reason; a trigger of one step starts at step 2.
        case(&mut app, "EVSE-1", 2, CaseStep::Matched(0));
        case(&mut app, "EVSE-1", 2, CaseStep::Started);
        assert_eq!(states(&app)[1].2, "at step 2 of 2");
        case(
            &mut app,
            "EVSE-1",
            2,
            CaseStep::Failed {
                step: 1,
                reason: "step 2 (answer): status is Rejected".into(),
            },
        );
        assert_eq!(
            states(&app)[1].2,
            "failed: step 2 (answer): status is Rejected"
        );
        let n = app.cases.as_ref().unwrap().counts();
        assert_eq!((n.waiting, n.running, n.passed, n.failed), (0, 0, 1, 1));
    }

    #[test]
    fn unannounced_stations_and_unknown_cases_are_handled() {
        let mut app = with_cases();
        // The station's announcement was dropped: its row appears with the progress.
        case(&mut app, "CP-9", 2, CaseStep::Started);
        case(&mut app, "CP-9", 1, CaseStep::Matched(0));
        assert_eq!(
            states(&app),
            vec![
                ("CP-9".into(), 1, "waiting for trigger".into()),
                ("CP-9".into(), 2, "at step 1 of 2".into()),
            ]
        );
        // Announced later: only the missing case of that version is added.
        station(&mut app, "CP-9", Version::V16);
        assert_eq!(app.cases.as_ref().unwrap().rows.len(), 2);
        // A case the catalog does not have is counted, not shown.
        case(&mut app, "CP-9", 7, CaseStep::Passed);
        assert_eq!(app.cases.as_ref().unwrap().unknown, 1);
        assert_eq!(app.cases.as_ref().unwrap().rows.len(), 2);
        // The final word: never triggered, not run.
        case(
            &mut app,
            "CP-9",
            1,
            CaseStep::NotRun {
                reason: "the trigger never came".into(),
            },
        );
        assert_eq!(states(&app)[0].2, "not run: the trigger never came");
        // Without cases, progress is ignored.
        let mut plain = App::new("t", Limits::default());
        case(&mut plain, "CP-9", 0, CaseStep::Passed);
        assert!(plain.cases.is_none());
        assert_eq!(plain.focus_order().len(), 3);
    }

    #[test]
    fn the_cases_pane_takes_focus_filters_and_hides() {
        let mut app = with_cases();
        station(&mut app, "EVSE-1", Version::V201);
        station(&mut app, "CP-16", Version::V16);
        assert_eq!(app.focus, Focus::Frames);
        app.apply(Action::FocusPrev);
        assert_eq!(app.focus, Focus::Cases);
        app.apply(Action::FocusPrev);
        assert_eq!(app.focus, Focus::Conns);
        app.apply(Action::FocusNext);
        assert_eq!(app.focus, Focus::Cases);
        // Down twice: the third row, CP-16's first case; Enter shows only that station.
        app.apply(Action::Down);
        app.apply(Action::Down);
        assert_eq!(app.selected_case().map(|r| &*r.station), Some("CP-16"));
        app.apply(Action::Enter);
        assert_eq!(app.filter.conn.as_deref(), Some("CP-16"));
        assert_eq!(app.visible_cases(), vec![2, 3]);
        app.apply(Action::Bottom);
        assert_eq!(app.selected_case().map(|r| r.case), Some(2));
        app.apply(Action::Top);
        assert_eq!(app.selected_case().map(|r| r.case), Some(1));
        // Again: all stations.
        app.apply(Action::Enter);
        assert_eq!(app.filter.conn, None);
        assert_eq!(app.visible_cases().len(), 4);
        // Hidden: the focus leaves it and Tab skips it.
        app.apply(Action::ToggleCases);
        assert!(!app.cases_shown());
        assert_eq!(app.focus, Focus::Frames);
        app.apply(Action::FocusPrev);
        assert_eq!(app.focus, Focus::Conns);
        app.apply(Action::ToggleCases);
        assert!(app.cases_shown());
        // Without cases the key says so.
        let mut plain = App::new("t", Limits::default());
        plain.apply(Action::ToggleCases);
        assert_eq!(plain.message.as_deref(), Some("no test cases run here"));
    }
}
