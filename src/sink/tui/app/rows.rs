//! The rows of the frames pane, packed: 32 bytes a row whatever the frame, so `view` can
//! index a trace of millions of frames. A row keeps small numbers only: the connection and
//! the action as indices into tables (one entry per name), its line and its partner as
//! distances from its own position, and the byte offset of its record (or, for a row that
//! keeps its text, the number of that text in a side list). [`FrameRow`] is a row read
//! back with its names. Nothing here reads a file or the engine.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::finding::Severity;
use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::frame::MessageType;

use super::{Kept, RowKind};

/// Distinct action names kept; further names show as [`TOO_MANY_ACTIONS`] (a peer that
/// sends made-up actions does not grow the table without end).
pub const MAX_ACTIONS: usize = u16::MAX as usize - 1;

/// The action shown for names beyond [`MAX_ACTIONS`].
pub const TOO_MANY_ACTIONS: &str = "(other)";

/// The top bit of [`PackedRow::body`]: the rest is a number in [`Rows::bodies`], not a
/// byte offset.
const SIDE: u64 = 1 << 63;

/// [`PackedRow::line`] for line 0 (none) or a line too far from the row's position to say.
const NO_LINE: i32 = i32::MIN;

/// The memory one row of the frames pane takes (its texts aside, which `view` does not
/// keep).
pub const ROW_BYTES: usize = size_of::<PackedRow>();

/// One row as kept: see the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedRow {
    at: i64,
    body: u64,
    /// The line minus the row's seq ([`NO_LINE`]: 0).
    line: i32,
    /// Index into the app's connections.
    conn: u32,
    /// The partner's seq minus this row's (0: none).
    partner: i32,
    /// 0: none; otherwise index + 1 into [`Rows::actions`].
    action: u16,
    /// kind (2 bits), from (2), message type (3), worst severity (2).
    bits: u16,
}

/// Where a row's text is, as read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Body<'a> {
    /// An event (open, close, gap, binary frame): its description.
    Event(&'a str),
    /// A frame whose text the row keeps (live, or an input with no offsets).
    Kept(&'a Kept),
    /// A frame of the trace file being viewed: the byte offset of its record, read again
    /// when shown (see [`super::super::store`]).
    InTrace(u64),
}

/// A new row's text.
#[derive(Debug)]
pub enum NewBody {
    Event(Box<str>),
    Kept(Box<Kept>),
    InTrace(u64),
}

/// A text kept beside the rows.
#[derive(Debug)]
enum Stored {
    Event(Box<str>),
    Kept(Box<Kept>),
}

/// One row of the frames pane, read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameRow<'a> {
    /// Position in arrival order, from 0; never reused.
    pub seq: u64,
    pub at: Timestamp,
    pub line: u64,
    pub conn: &'a Arc<str>,
    pub kind: RowKind,
    pub from: Option<Side>,
    /// `None` for an event, or a frame that is no valid OCPP-J message.
    pub message_type: Option<MessageType>,
    /// The action, for a reply the action of the CALL it answers.
    pub action: Option<&'a Arc<str>>,
    /// What the row shows besides its summary: see [`super::App::shown`].
    pub body: Body<'a>,
    /// The worst finding on this row.
    pub worst: Option<Severity>,
    /// The request or reply this row pairs with.
    pub partner: Option<u64>,
}

/// What a new row is made of.
#[derive(Debug)]
pub struct NewRow {
    pub at: Timestamp,
    pub line: u64,
    pub conn: u32,
    pub kind: RowKind,
    pub from: Option<Side>,
    pub message_type: Option<MessageType>,
    pub action: u16,
    pub body: NewBody,
    pub partner: Option<u64>,
}

/// The rows kept, oldest first, with the texts some of them keep and the action names.
#[derive(Debug, Default)]
pub struct Rows {
    rows: VecDeque<PackedRow>,
    /// Texts of rows whose body is [`SIDE`], in the rows' order.
    bodies: VecDeque<Stored>,
    /// The seq of the first row kept.
    first_seq: u64,
    /// The number of the first text in `bodies`.
    first_body: u64,
    next_body: u64,
    actions: Vec<Arc<str>>,
    action_index: HashMap<Arc<str>, u16>,
}

fn kind_bits(k: RowKind) -> u16 {
    match k {
        RowKind::Open => 0,
        RowKind::Close => 1,
        RowKind::Binary => 2,
        RowKind::Frame => 3,
    }
}

fn side_bits(s: Option<Side>) -> u16 {
    match s {
        None => 0,
        Some(Side::Charger) => 1,
        Some(Side::Csms) => 2,
    }
}

fn type_bits(t: Option<MessageType>) -> u16 {
    match t {
        None => 0,
        Some(MessageType::Call) => 1,
        Some(MessageType::CallResult) => 2,
        Some(MessageType::CallError) => 3,
        Some(MessageType::CallResultError) => 4,
        Some(MessageType::Send) => 5,
    }
}

fn severity_bits(s: Option<Severity>) -> u16 {
    match s {
        None => 0,
        Some(Severity::Info) => 1,
        Some(Severity::Warning) => 2,
        Some(Severity::Error) => 3,
    }
}

impl PackedRow {
    fn kind(self) -> RowKind {
        match self.bits & 3 {
            0 => RowKind::Open,
            1 => RowKind::Close,
            2 => RowKind::Binary,
            _ => RowKind::Frame,
        }
    }

    fn from(self) -> Option<Side> {
        match (self.bits >> 2) & 3 {
            1 => Some(Side::Charger),
            2 => Some(Side::Csms),
            _ => None,
        }
    }

    fn message_type(self) -> Option<MessageType> {
        match (self.bits >> 4) & 7 {
            1 => Some(MessageType::Call),
            2 => Some(MessageType::CallResult),
            3 => Some(MessageType::CallError),
            4 => Some(MessageType::CallResultError),
            5 => Some(MessageType::Send),
            _ => None,
        }
    }

    fn worst(self) -> Option<Severity> {
        match (self.bits >> 7) & 3 {
            1 => Some(Severity::Info),
            2 => Some(Severity::Warning),
            3 => Some(Severity::Error),
            _ => None,
        }
    }

    fn line(self, seq: u64) -> u64 {
        if self.line == NO_LINE {
            0
        } else {
            seq.saturating_add_signed(i64::from(self.line))
        }
    }
}

/// `to - from` when it fits an `i32` (other than `i32::MIN`).
fn distance(from: u64, to: u64) -> Option<i32> {
    let d = i128::from(to) - i128::from(from);
    i32::try_from(d).ok().filter(|&d| d != i32::MIN)
}

impl Rows {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The seq of the first row kept (the next row's when none is).
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// The seq the next row gets.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.rows.len() as u64
    }

    /// The index of `name` in the action table (added if new; past [`MAX_ACTIONS`]
    /// names, the index of [`TOO_MANY_ACTIONS`]).
    pub fn intern_action(&mut self, name: &str) -> u16 {
        if let Some(&i) = self.action_index.get(name) {
            return i;
        }
        let name = if self.actions.len() < MAX_ACTIONS {
            name
        } else {
            TOO_MANY_ACTIONS
        };
        if let Some(&i) = self.action_index.get(name) {
            return i;
        }
        let k: Arc<str> = Arc::from(name);
        self.actions.push(k.clone());
        let i = self.actions.len() as u16;
        self.action_index.insert(k, i);
        i
    }

    /// The action name of an index from [`Rows::intern_action`].
    pub fn action_name(&self, i: u16) -> Option<&Arc<str>> {
        usize::from(i)
            .checked_sub(1)
            .and_then(|i| self.actions.get(i))
    }

    /// Adds a row at the end; its seq is [`Rows::next_seq`].
    pub fn push(&mut self, r: NewRow) {
        let seq = self.next_seq();
        let body = match r.body {
            NewBody::InTrace(o) => o & !SIDE,
            NewBody::Event(d) => self.store(Stored::Event(d)),
            NewBody::Kept(k) => self.store(Stored::Kept(k)),
        };
        let line = if r.line == 0 {
            NO_LINE
        } else {
            distance(seq, r.line).unwrap_or(NO_LINE)
        };
        self.rows.push_back(PackedRow {
            at: r.at.0,
            body,
            line,
            conn: r.conn,
            partner: r.partner.and_then(|p| distance(seq, p)).unwrap_or(0),
            action: r.action,
            bits: kind_bits(r.kind) | side_bits(r.from) << 2 | type_bits(r.message_type) << 4,
        });
    }

    fn store(&mut self, s: Stored) -> u64 {
        self.bodies.push_back(s);
        let n = self.next_body;
        self.next_body += 1;
        SIDE | n
    }

    /// Drops the oldest row.
    pub fn pop_front(&mut self) {
        if let Some(r) = self.rows.pop_front() {
            self.first_seq += 1;
            if r.body & SIDE != 0 {
                self.bodies.pop_front();
                self.first_body += 1;
            }
        }
    }

    /// The position of the row with this seq.
    pub fn position(&self, seq: u64) -> Option<usize> {
        let i = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        (i < self.rows.len()).then_some(i)
    }

    /// The seq of the row at `pos`.
    pub fn seq_at(&self, pos: usize) -> u64 {
        self.first_seq + pos as u64
    }

    /// The line of the row at `pos` (0 when none).
    pub fn line_at(&self, pos: usize) -> u64 {
        self.rows[pos].line(self.seq_at(pos))
    }

    /// The connection (index) of the row at `pos`.
    pub fn conn_at_checked(&self, pos: usize) -> Option<u32> {
        self.rows.get(pos).map(|r| r.conn)
    }

    pub fn worst_at(&self, pos: usize) -> Option<Severity> {
        self.rows[pos].worst()
    }

    /// Records a finding of severity `s` on the row at `pos`.
    pub fn mark(&mut self, pos: usize, s: Severity) {
        let r = &mut self.rows[pos];
        let worst = r.worst().max(Some(s));
        r.bits = (r.bits & !(3 << 7)) | severity_bits(worst) << 7;
    }

    /// Pairs the row at `pos` with the row `partner` (by seq), when near enough to say.
    pub fn set_partner(&mut self, pos: usize, partner: u64) {
        let seq = self.seq_at(pos);
        self.rows[pos].partner = distance(seq, partner).unwrap_or(0);
    }

    /// The row at `pos`, read back; `conns` names the connections by index.
    pub fn get<'a>(&'a self, pos: usize, conn: &'a Arc<str>) -> Option<FrameRow<'a>> {
        let r = *self.rows.get(pos)?;
        let seq = self.seq_at(pos);
        let body = if r.body & SIDE == 0 {
            Body::InTrace(r.body)
        } else {
            let n = (r.body & !SIDE) - self.first_body;
            match usize::try_from(n).ok().and_then(|n| self.bodies.get(n)) {
                Some(Stored::Event(d)) => Body::Event(d),
                Some(Stored::Kept(k)) => Body::Kept(k),
                None => Body::Event(""),
            }
        };
        Some(FrameRow {
            seq,
            at: Timestamp(r.at),
            line: r.line(seq),
            conn,
            kind: r.kind(),
            from: r.from(),
            message_type: r.message_type(),
            action: self.action_name(r.action),
            body,
            worst: r.worst(),
            partner: (r.partner != 0).then(|| seq.saturating_add_signed(i64::from(r.partner))),
        })
    }

    /// The position of the first row whose line is at least `line` (lines rise with
    /// arrival).
    pub fn first_at_line(&self, line: u64) -> usize {
        let (mut lo, mut hi) = (0, self.rows.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.line_at(mid) < line {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_32_bytes() {
        // Was 104 bytes (names as shared strings, the body an enum of boxed texts).
        let bytes = std::hint::black_box(size_of::<PackedRow>());
        assert!(bytes <= 32, "{bytes} bytes a row");
    }

    fn row(line: u64, body: NewBody) -> NewRow {
        NewRow {
            at: Timestamp(7),
            line,
            conn: 3,
            kind: RowKind::Frame,
            from: Some(Side::Csms),
            message_type: Some(MessageType::CallResultError),
            action: 0,
            body,
            partner: None,
        }
    }

    #[test]
    fn rows_read_back_what_was_put_in() {
        let mut rows = Rows::default();
        let a = rows.intern_action("Heartbeat");
        assert_eq!(rows.intern_action("Heartbeat"), a);
        let mut r = row(2, NewBody::InTrace(123_456_789_012));
        r.action = a;
        rows.push(r);
        rows.push(row(0, NewBody::Event("gap".into())));
        let mut r = row(
            9,
            NewBody::Kept(Box::new(Kept {
                id: Some("x".into()),
                short: "{}".into(),
                text: "[3,\"x\",{}]".into(),
            })),
        );
        r.partner = Some(0);
        rows.push(r);
        rows.set_partner(0, 2);
        rows.mark(0, Severity::Warning);
        rows.mark(0, Severity::Info);
        let name: Arc<str> = Arc::from("CP");
        let f = rows.get(0, &name).unwrap();
        assert_eq!(f.seq, 0);
        assert_eq!(f.at, Timestamp(7));
        assert_eq!(f.line, 2);
        assert_eq!(f.kind, RowKind::Frame);
        assert_eq!(f.from, Some(Side::Csms));
        assert_eq!(f.message_type, Some(MessageType::CallResultError));
        assert_eq!(f.action.map(|a| &**a), Some("Heartbeat"));
        assert_eq!(f.body, Body::InTrace(123_456_789_012));
        assert_eq!(f.worst, Some(Severity::Warning));
        assert_eq!(f.partner, Some(2));
        assert_eq!(rows.get(1, &name).unwrap().body, Body::Event("gap"));
        assert_eq!(rows.get(1, &name).unwrap().line, 0);
        assert_eq!(rows.get(1, &name).unwrap().action, None);
        let k = rows.get(2, &name).unwrap();
        assert!(matches!(k.body, Body::Kept(k) if &*k.text == "[3,\"x\",{}]"));
        assert_eq!(k.partner, Some(0));
        assert_eq!(k.line, 9);
        assert_eq!(rows.first_at_line(3), 2, "line 0 rows are skipped over");
        // Dropping rows drops the texts they kept, and the others still read back.
        rows.pop_front();
        rows.pop_front();
        assert_eq!(rows.first_seq(), 2);
        let k = rows.get(0, &name).unwrap();
        assert_eq!(k.seq, 2);
        assert!(matches!(k.body, Body::Kept(k) if k.id.as_deref() == Some("x")));
    }

    #[test]
    fn the_action_table_is_bounded() {
        let mut rows = Rows::default();
        for i in 0..MAX_ACTIONS + 10 {
            rows.intern_action(&format!("A{i}"));
        }
        let i = rows.intern_action("Another");
        assert_eq!(rows.action_name(i).map(|a| &**a), Some(TOO_MANY_ACTIONS));
        assert_eq!(rows.actions.len(), MAX_ACTIONS + 1);
        let a5 = rows.intern_action("A5");
        assert_eq!(rows.action_name(a5).map(|a| &**a), Some("A5"));
    }
}
