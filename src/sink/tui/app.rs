//! The UI's state and everything that changes it: connections, a bounded window of recent
//! frames with request/reply pairs, findings, focus, filters, selection and mode.
//! [`App::on_seen`] and [`App::on_finding`] take what the engine saw (its observations:
//! the UI parses no frame, pairs no call and derives no station state of its own);
//! [`App::on_case`] what the live case runner reported (the Cases pane of `testcase run
//! --live`, modelled in `app/cases.rs`); [`App::apply`] takes what the user asked
//! ([`Action`]s from [`super::input`], applied in `app/apply.rs`).
//!
//! No I/O, no clock, no terminal: drawing is [`super::ui`]'s job, writing a report is the
//! loop's (asked for with an [`Effect`]). So every state change is tested on its own.

mod acting;
mod apply;
mod behind;
mod cases;
mod ingest;
mod rows;
mod text;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::feed::{CaseStep, FeedItem, SHORT_PAYLOAD, Seen, SeenKind};
use super::store::TraceFile;
use crate::engine::observe;
use crate::finding::{Finding, Severity, shorten};
use crate::ocpp::Version;
use crate::time::Timestamp;

pub use acting::{Injection, OFF_LIVE, OFF_VIEW};
pub use cases::{CaseCounts, CaseInfo, CaseRow, CaseState, Cases};
pub use rows::{Body, FrameRow, MAX_ACTIONS, ROW_BYTES, TOO_MANY_ACTIONS};
use rows::{NewBody, NewRow, Rows};
pub use text::contains_smart;

/// Filters kept in the history.
pub const HISTORY: usize = 50;

/// Rows moved by a page key.
pub const PAGE: usize = 10;

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
    /// The Statistics pane.
    Stats,
    /// Typing the file to export to after `e`.
    Export,
    /// The form of `i`: a CALL to send to a live station.
    Act,
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
    /// In the search prompt: an earlier (-1) or later (+1) filter of the history.
    SearchHistory(i8),
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
    /// Detail: the text exactly as sent, or laid out in its order.
    ToggleExact,
    /// Show or close the Statistics pane.
    ToggleStats,
    /// Statistics: sort by the next column.
    CycleSort,
    /// Ask for a file to export to: the filtered set (from the panes) or the frame (from
    /// the detail).
    StartExport,
    /// Copy the selected frame's exact text to the clipboard (OSC 52).
    CopyFrame,
    /// Open the form that sends a CALL to a live station.
    StartAct,
    /// In the form: the next (+1) or previous (-1) field.
    ActField(i8),
    /// In the form: another station or action, or the cursor in the payload.
    ActMove(i8),
    /// In the form: a typed character.
    ActChar(char),
    ActBackspace,
    /// In the form: edit the payload in `$EDITOR`.
    ActEdit,
    /// In the form: ask to confirm; when confirming: send.
    ActSubmit,
    /// In the form: back from the confirmation, or close the form.
    ActCancel,
}

/// What the loop around the app must do after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Quit,
    WriteReport,
    /// Write to the file in [`App::export_input`]: the selected frame's exact text
    /// (`frame_only`) or the filtered set as JSON Lines.
    Export {
        frame_only: bool,
    },
    /// Put the selected frame on the clipboard.
    Copy,
    /// Edit the form's payload in `$EDITOR` ([`App::act_payload_for_editor`], then
    /// [`App::act_edited`]).
    Edit,
    /// Send the CALL of [`App::take_act_request`] through the live pipeline.
    Inject,
    /// Show the recording behind a live screen's window, at its end (or its start).
    History {
        from_top: bool,
    },
    /// Back from the recording to the live screen.
    CloseHistory,
}

/// Where a connection stands, as the engine reads its registration.
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

/// A frame's text, kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    /// The unique id (`None`: the text is no OCPP-J message).
    pub id: Option<Box<str>>,
    /// The payload, compact and shortened.
    pub short: Box<str>,
    /// The text exactly as sent.
    pub text: Box<str>,
}

/// What a row shows, wherever its text is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown<'a> {
    pub id: Option<Cow<'a, str>>,
    /// The payload on one line, shortened (or the event's description, or why the text
    /// could not be read).
    pub short: Cow<'a, str>,
    /// The text exactly as sent; empty for events and unreadable records.
    pub text: Cow<'a, str>,
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
    pub action: Option<Arc<str>>,
    pub min_severity: Option<Severity>,
    /// Free text (smart case: case-insensitive unless it has a capital).
    pub text: String,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    fn frame(&self, f: &FrameRow<'_>, app: &App) -> bool {
        self.conn.as_ref().is_none_or(|c| c == f.conn)
            && self
                .action
                .as_ref()
                .is_none_or(|a| f.action.map(|x| &**x) == Some(&**a))
            && self
                .min_severity
                .is_none_or(|s| f.worst.is_some_and(|w| w >= s))
            && (self.text.is_empty() || app.row_matches(f, &self.text))
    }

    fn finding(&self, r: &FindingRow, app: &App) -> bool {
        let f = &r.finding;
        self.conn.as_ref().is_none_or(|c| *c == f.conn)
            && self
                .action
                .as_ref()
                .is_none_or(|a| f.action.as_deref() == Some(&**a))
            && self.min_severity.is_none_or(|s| f.severity >= s)
            && (self.text.is_empty()
                || app.finding_matches_expr(r, &self.text).unwrap_or_else(|| {
                    contains_smart(&f.message, &self.text)
                        || contains_smart(f.rule.id, &self.text)
                        || contains_smart(&f.conn, &self.text)
                }))
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

/// How far `view` has indexed its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes read.
    pub done: u64,
    /// Bytes in all (0: unknown).
    pub total: u64,
}

impl Progress {
    /// Whole percent, when the size is known.
    pub fn percent(&self) -> Option<u64> {
        (self.total > 0).then(|| (self.done.min(self.total) * 100) / self.total)
    }
}

/// The rows the filter let through, as last worked out, and what they were worked out
/// from: a search reads every frame's text, so it is done once per filter and then only
/// for new rows.
#[derive(Debug, Default)]
struct VisibleCache {
    filter: Option<Filter>,
    first_seq: u64,
    /// Rows from `first_seq` to (not including) this seq were checked.
    upto: u64,
    /// [`App::marks`] when worked out (a finding can make a row pass a severity filter).
    marks: u64,
    rows: Arc<Vec<usize>>,
}

/// The whole UI state.
#[derive(Debug)]
pub struct App {
    limits: Limits,
    /// What is being looked at: the trace path, or the proxy's addresses.
    pub title: String,
    pub conns: Vec<ConnRow>,
    conn_index: HashMap<Arc<str>, usize>,
    /// The rows of the frames pane (read with [`App::frame`]).
    rows: Rows,
    pub findings: VecDeque<FindingRow>,
    next_finding: u64,
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
    /// Lines scrolled in the detail view (and in the Statistics pane).
    pub detail_scroll: u16,
    /// The detail view shows the frame's text exactly as sent (not laid out).
    pub detail_exact: bool,
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
    /// The trace file rows with [`Body::InTrace`] are read from.
    store: Option<Arc<TraceFile>>,
    /// `view` is still indexing its trace (`None`: done, or live).
    pub loading: Option<Progress>,
    /// Fed live (the proxy's screen): the frames pane follows new frames.
    pub live: bool,
    /// Draw without colours (`NO_COLOR` is set).
    pub no_color: bool,
    /// The parsed filter expression, when the search is one.
    pub(crate) expr: Option<super::filter::Expr>,
    /// Searches and filter expressions applied, oldest first (at most [`HISTORY`]).
    pub history: Vec<String>,
    /// Where Up/Down in the prompt are in the history.
    pub(crate) history_at: Option<usize>,
    /// Findings that marked a row so far.
    marks: u64,
    /// The record offsets of event rows (opens, closes, gaps, binary frames) of a trace
    /// file, by seq:
    /// export copies them (one per event, not per frame).
    event_offsets: std::collections::BTreeMap<u64, (u32, bool, u64)>,
    /// The file name typed after `e`.
    pub export_input: String,
    /// The mode `e` was pressed in (where the prompt returns to).
    export_from: Mode,
    /// Counts and round trips over everything seen, for the Statistics pane.
    pub stats: super::stats::Stats,
    /// When the first event was (what `~time` counts relative times from).
    pub origin: Option<Timestamp>,
    /// The rules of the findings on each row, for `~r` (see `app/text.rs`).
    rule_index: RefCell<text::RuleIndex>,
    visible: RefCell<VisibleCache>,
    /// The actions and templates of `i` (`None`: acting on a station is off).
    act_catalog: Option<Arc<super::act::ActCatalog>>,
    /// The form of `i`, while it is open.
    pub act: Option<super::act::ActForm>,
    /// The CALL last sent from the screen, and what became of it.
    pub injection: Option<Injection>,
    /// The CALL the loop is to send.
    act_request: Option<(Arc<str>, &'static str, serde_json::Value)>,
    /// A live screen whose run is recorded: the frames before its window can be read
    /// from the recording.
    pub recording_behind: bool,
    /// This app shows the recording behind a live screen (Esc goes back to it).
    pub behind_live: bool,
    /// Select the last row once the trace is read.
    select_last_when_loaded: bool,
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
            rows: Rows::default(),
            findings: VecDeque::new(),
            next_finding: 0,
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
            detail_exact: false,
            message: None,
            notice: None,
            rate: None,
            feed_dropped: 0,
            finished: None,
            cases: None,
            store: None,
            loading: None,
            live: false,
            no_color: false,
            expr: None,
            history: Vec::new(),
            history_at: None,
            marks: 0,
            event_offsets: std::collections::BTreeMap::new(),
            export_input: String::new(),
            export_from: Mode::Normal,
            stats: super::stats::Stats::default(),
            origin: None,
            rule_index: RefCell::default(),
            visible: RefCell::new(VisibleCache::default()),
            act_catalog: None,
            act: None,
            injection: None,
            act_request: None,
            recording_behind: false,
            behind_live: false,
            select_last_when_loaded: false,
        }
    }

    /// Rows with [`Body::InTrace`] read their text from `file`.
    pub fn set_store(&mut self, file: Arc<TraceFile>) {
        self.store = Some(file);
    }

    /// The trace file rows are read back from, if any.
    pub fn store(&self) -> Option<&Arc<TraceFile>> {
        self.store.as_ref()
    }

    /// The record offset of the event row `seq` (an open, close or gap of the trace file).
    pub fn event_offset(&self, seq: u64) -> Option<u64> {
        self.event_offsets.get(&seq).map(|&(_, _, o)| o)
    }

    /// The seq and record offset of the latest open of `row`'s connection before it.
    pub fn open_before(&self, row: &FrameRow<'_>) -> Option<(u64, u64)> {
        let conn = u32::try_from(*self.conn_index.get(row.conn)?).ok()?;
        self.event_offsets
            .range(..row.seq)
            .rev()
            .find(|(_, (c, open, _))| *c == conn && *open)
            .map(|(&seq, &(_, _, o))| (seq, o))
    }

    /// Rows kept in the frames pane.
    pub fn frames_len(&self) -> usize {
        self.rows.len()
    }

    /// The row at position `pos` of the frames pane (0: the oldest kept).
    pub fn frame(&self, pos: usize) -> Option<FrameRow<'_>> {
        let conn = &self
            .conns
            .get(self.rows.conn_at_checked(pos)? as usize)?
            .name;
        self.rows.get(pos, conn)
    }

    /// The rows kept in the frames pane, oldest first.
    pub fn frames(&self) -> impl DoubleEndedIterator<Item = FrameRow<'_>> + '_ {
        (0..self.rows.len()).filter_map(|i| self.frame(i))
    }

    /// The seq of the row at position `pos`.
    fn seq_at(&self, pos: usize) -> u64 {
        self.rows.seq_at(pos)
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

    /// Positions (in `frames`) of the rows the filter lets through, oldest first. Worked
    /// out again only for rows that are new since the last call, unless the filter, the
    /// first row kept or (under a severity filter) a row's findings changed.
    pub fn visible_frames(&self) -> Arc<Vec<usize>> {
        let mut c = self.visible.borrow_mut();
        let first = self.first_seq();
        let same = c.filter.as_ref() == Some(&self.filter)
            && c.first_seq == first
            && (self.filter.min_severity.is_none() || c.marks == self.marks);
        if !same {
            *c = VisibleCache {
                filter: Some(self.filter.clone()),
                first_seq: first,
                upto: first,
                marks: self.marks,
                rows: Arc::new(Vec::new()),
            };
        }
        if c.upto < self.rows.next_seq() {
            let from = usize::try_from(c.upto - first).unwrap_or(usize::MAX);
            let rows = Arc::make_mut(&mut c.rows);
            if self.filter.is_empty() {
                rows.extend(from..self.rows.len());
            } else {
                rows.extend(
                    (from..self.rows.len())
                        .filter(|&i| self.frame(i).is_some_and(|f| self.filter.frame(&f, self))),
                );
            }
            c.upto = self.rows.next_seq();
        }
        c.rows.clone()
    }

    /// Positions (in `findings`) of the findings shown: worst severity first, newest first
    /// within a severity.
    pub fn visible_findings(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .findings
            .iter()
            .enumerate()
            .filter(|(_, r)| self.filter.finding(r, self))
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
                let i = visible.partition_point(|&p| self.seq_at(p) < seq);
                Some(i.min(last))
            }
        }
    }

    /// The selected frame row.
    pub fn selected_frame(&self) -> Option<FrameRow<'_>> {
        let v = self.visible_frames();
        let i = self.selected_frame_index(&v)?;
        self.frame(v[i])
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

    /// The round trip of the selected frame's pair, in milliseconds.
    pub fn round_trip_ms(&self, row: &FrameRow<'_>) -> Option<f64> {
        let other = self.row(row.partner?)?;
        let (a, b) = if other.seq < row.seq {
            (other.at, row.at)
        } else {
            (row.at, other.at)
        };
        Some(b.secs_since(a) * 1000.0)
    }
}
