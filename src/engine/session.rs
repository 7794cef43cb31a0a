//! Per-connection protocol state and the frame pipeline that reads and updates it.
//!
//! ```text
//!  text ─► ws checks ─► wire::parse ─► framing (rpc) ─┬─ CALL/SEND ─► action (dir) ─► payload (schema) ─► pending ─► protocol::on_call
//!                                                    ├─ CALLRESULT ─► correlate ─► response schema ─► protocol::on_reply
//!                                                    └─ CALLERROR / CALLRESULTERROR ─► fields ─► correlate ─► protocol::on_reply
//! ```
//!
//! A violation never ends the session: it is recorded and the state moves on to the most
//! plausible reading. State is bounded: a handful of outstanding calls and a short memory
//! of recent answers per side.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use super::observe::{CallSeen, Message, Observation, Observed, Observer};
use super::protocol::{Call, OpenInfo, Outcome, Reply};
use super::rules::ProtoState;
use super::rules::{dir, rpc, schema, ws};
use super::schema::{Direction, SchemaSet};
use super::{About, Ctx};
use crate::finding::Severity;
use crate::ocpp::action::catalogue;
use crate::ocpp::{Side, Version};
use crate::source::event::{Event, Handshake, Origin};
use crate::time::Timestamp;
use crate::wire::FrameText;
use crate::wire::doc::{Doc, Json, OwnedDoc};
use crate::wire::frame::{self, Frame, FrameError, MessageType};

/// Outstanding calls remembered per side; beyond this the oldest are forgotten.
const MAX_PENDING: usize = 32;
/// Recently answered calls remembered per side (duplicate responses, CALLRESULTERROR).
const MAX_RECENT: usize = 16;
/// A CALL whose frame is longer than this gives up its payload when it times out: a late
/// answer to it is then judged as an answer to a request that was not valid. Smaller ones
/// keep it (a late acknowledgement is still judged against its request); memory for
/// unanswered calls stays within [`MAX_PENDING`] times this per side.
const KEEP_TIMED_OUT: usize = 4096;
/// A CALL whose frame is longer than this does not keep its payload at all: its answer is
/// judged as an answer to a request that was not valid (as a timed-out large one's is).
/// Unanswered calls then hold at most [`MAX_PENDING`] times this per side, however large
/// the frames a peer sends, and the parse of a huge frame is freed as soon as it is judged.
const KEEP_AT_MOST: usize = 64 << 10;

/// A CALL waiting for its answer.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) id: Box<str>,
    /// Index into the version's action catalogue; `None` for an unknown action.
    pub(crate) action: Option<usize>,
    /// The action as sent, kept only when it is not in the catalogue (for observers).
    pub(crate) unknown_action: Option<Box<str>>,
    pub(crate) at: Timestamp,
    pub(crate) line: u64,
    /// The CALL's payload, kept for the rules that judge the answer against the request
    /// (`null` when not kept).
    pub(crate) payload: OwnedDoc,
    pub(crate) valid: bool,
    /// Already reported by `rpc.no-response`.
    pub(crate) timed_out: bool,
    /// Who sent it: the peer itself or the inspector (injected).
    pub(crate) origin: Origin,
    /// A gap in the observation came after it: its answer may be among the missing frames.
    pub(crate) gap: bool,
    /// Its frame was longer than [`KEEP_TIMED_OUT`].
    pub(crate) large: bool,
}

/// A CALL that was answered.
#[derive(Debug)]
struct Answered {
    id: Box<str>,
    action: Option<usize>,
    /// Answered with CALLRESULT (not CALLERROR).
    with_result: bool,
}

/// The state of one connection (one station identity).
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) conn: Arc<str>,
    pub(crate) version: Option<Version>,
    pub(crate) warned_no_version: bool,
    /// The `open` event named a subprotocol without rules here (ocpp1.5, ...).
    pub(crate) negotiated_unsupported: bool,
    /// Outstanding CALLs, indexed by the side that sent them.
    pub(crate) pending: [Vec<Pending>; 2],
    /// Recently answered CALLs, indexed by the side that sent the CALL.
    answered: [VecDeque<Answered>; 2],
    /// Recent SEND ids, indexed by sender.
    sends: [VecDeque<Box<str>>; 2],
    /// Which side has closed the WebSocket (until the next `open`).
    closed_by: [bool; 2],
    /// WebSocket connections of this identity open at once: 2 when a station reconnected
    /// before its old connection was seen to close (or two devices share the identity).
    /// The newest connection is the one judged; the close of an older one ends nothing.
    links: u32,
    /// The protocol-state families.
    pub(crate) proto: ProtoState,
    /// Who put the frame being judged on the wire (the inspector when it injected it).
    origin: Origin,
    /// Whether any event of the current connection has been judged yet.
    started: bool,
    /// Ids of malformed CALLs (readable id, unusable frame) per sender: a CALLERROR
    /// answering one is the right answer, not an answer to an unknown CALL.
    malformed: [VecDeque<Box<str>>; 2],
}

/// Who watches the frame being judged, and the event it came in (for the observation).
pub(crate) struct Sight<'s, 'e, 'o> {
    pub(crate) event: &'s Event<'e>,
    pub(crate) origin: Origin,
    pub(crate) observer: Option<&'o mut dyn Observer>,
}

/// What judging a parsed frame found out, for its observation.
#[derive(Default)]
struct Parsed {
    /// It became a pending CALL.
    kept: bool,
    /// The action of the CALL an answer pairs with.
    action: Option<Cow<'static, str>>,
    call: Option<CallSeen>,
}

impl Parsed {
    fn answer(call: Pending, version: Option<Version>) -> Self {
        let action = match (call.action.zip(version), call.unknown_action) {
            (Some((a, v)), _) => Some(Cow::Borrowed(catalogue(v)[a].name)),
            (None, raw) => raw.map(|r| Cow::Owned(r.into_string())),
        };
        Parsed {
            kept: false,
            action,
            call: Some(CallSeen {
                line: call.line,
                at: call.at,
            }),
        }
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, item: T, cap: usize) {
    if q.len() == cap {
        q.pop_front();
    }
    q.push_back(item);
}

impl Session {
    pub(crate) fn new(conn: Arc<str>, version: Option<Version>) -> Self {
        let mut proto = ProtoState::default();
        proto.station.version = version;
        Session {
            conn,
            version,
            warned_no_version: false,
            negotiated_unsupported: false,
            pending: Default::default(),
            links: 0,
            origin: Origin::Peer,
            answered: Default::default(),
            sends: Default::default(),
            closed_by: [false; 2],
            proto,
            started: false,
            malformed: Default::default(),
        }
    }

    /// Frames are missing from the observation here (a gap record): what follows is judged
    /// like a trace that starts mid-life.
    pub(crate) fn on_gap(&mut self) {
        self.proto.station.seen_from_start = false;
        self.started = true;
        for p in self.pending.iter_mut().flatten() {
            p.gap = true;
        }
    }

    pub(crate) fn on_open(
        &mut self,
        handshake: &Handshake<'_>,
        default: Option<Version>,
        ctx: &mut Ctx<'_>,
    ) {
        let subprotocol = handshake.subprotocol;
        self.links = self.links.saturating_add(1);
        self.proto.station.seen_from_start = true;
        self.started = true;
        self.malformed = Default::default();
        // Ids and catalogue indexes of the previous connection mean nothing on this one
        // (which may even speak another version).
        self.pending = Default::default();
        self.answered = Default::default();
        self.sends = Default::default();
        self.closed_by = [false; 2];
        self.negotiated_unsupported = false;
        match subprotocol {
            Some(token) => match Version::from_subprotocol(token) {
                Some(v) => self.version = Some(v),
                None => {
                    self.version = None;
                    self.negotiated_unsupported = true;
                    ctx.report(
                        &ws::UNSUPPORTED_VERSION,
                        format!(
                            "negotiated subprotocol `{token}` has no rule set here (expected ocpp1.6, ocpp2.0.1 or ocpp2.1); only OCPP-J framing is checked"
                        ),
                    );
                }
            },
            None => self.version = default,
        }
        ctx.version = self.version;
        self.proto.station.version = self.version;
        if !ctx.config.schema_only {
            self.proto.on_open(ctx, &open_info(handshake));
        }
    }

    pub(crate) fn on_close(&mut self, by: Option<Side>, ctx: &mut Ctx<'_>) {
        if self.links > 1 {
            // An older connection of this identity ended; the newer one goes on, with its
            // calls outstanding and its sides open.
            self.links -= 1;
            return;
        }
        self.links = 0;
        if let Some(side) = by {
            self.closed_by[side.index()] = true;
        }
        self.pending = Default::default();
        if !ctx.config.schema_only {
            self.proto.on_close(ctx, by);
        }
    }

    /// Time has advanced (an event of this connection is about to be judged, or the
    /// observation ended).
    pub(crate) fn on_time(&mut self, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        let timeout = ctx.config.tol.call_timeout_us;
        for side in [Side::Charger, Side::Csms] {
            for p in &mut self.pending[side.index()] {
                if !p.timed_out && now.micros().saturating_sub(p.at.micros()) > timeout {
                    p.timed_out = true;
                    if p.large {
                        // The caller has given up on it: a large payload is not kept for an
                        // answer that may never come (see [`KEEP_TIMED_OUT`]).
                        p.payload = OwnedDoc::default();
                        p.valid = false;
                    }
                    let action = p
                        .action
                        .zip(self.version)
                        .map(|(a, v)| catalogue(v)[a].name);
                    // After a gap the answer may be among the missing frames: info at most.
                    ctx.emit_about(
                        &rpc::NO_RESPONSE,
                        p.gap.then_some(Severity::Info),
                        About {
                            line: p.line,
                            at: p.at,
                            from: Some(side),
                            unique_id: Some(&p.id),
                            action,
                        },
                        format!(
                            "{side}'s CALL `{}`{} got no answer within {:.0} s{}{}",
                            p.id,
                            action.map(|a| format!(" ({a})")).unwrap_or_default(),
                            timeout as f64 / 1e6,
                            if end {
                                " (still unanswered when the trace ends)"
                            } else {
                                ""
                            },
                            if p.gap {
                                " (frames are missing from the trace after it: the answer may be among them)"
                            } else {
                                ""
                            }
                        ),
                    );
                }
            }
        }
        if !ctx.config.schema_only {
            self.proto.on_time(ctx, now, end);
        }
    }

    pub(crate) fn on_frame(
        &mut self,
        from: Side,
        text: FrameText<'_>,
        schemas: &SchemaSet,
        doc: &mut Doc,
        ctx: &mut Ctx<'_>,
        sight: Sight<'_, '_, '_>,
    ) {
        self.origin = sight.origin;
        if !self.started {
            // No `open` before the first frame: the trace shows this connection's start
            // only if that frame is the charger's BootNotification.
            self.started = true;
            self.proto.station.seen_from_start = from == Side::Charger && is_boot_call(&text);
        }
        if self.closed_by[from.index()] {
            ctx.report(
                &rpc::FRAME_AFTER_CLOSE,
                format!("{from} sent a data frame after it had closed the WebSocket"),
            );
        }
        // A text still escaped in its trace record is parsed as it stands, into the engine's
        // reused document; what that reader declines (and any plain text) goes the usual
        // way, which also words the errors.
        // The record reader may have read it into this document already (the same reading
        // still there: its stamp).
        let stamp = text.parsed_stamp();
        let parsed = (stamp != 0 && doc.stamp() == stamp)
            || text.escaped().is_some_and(|esc| doc.parse_escaped(esc));
        if !parsed && !Self::parse_plain(text.get(), doc, ctx) {
            let kind = sight.event.kind;
            self.observe(sight, Observed::Event(kind));
            return;
        }
        let doc = &*doc;
        let frame = match frame::classify_doc(doc.root()) {
            Ok(f) => f,
            Err(e) => {
                rpc::report_frame_error(ctx, &e);
                if let Some(id) = e.malformed_call_id() {
                    push_bounded(&mut self.malformed[from.index()], Box::from(id), MAX_RECENT);
                }
                let kind = sight.event.kind;
                self.observe(sight, Observed::Event(kind));
                return;
            }
        };
        let parsed = {
            // The value lives only in this call; findings copy what they keep.
            let mut ctx = ctx.reborrow();
            self.on_parsed(from, frame, schemas, &mut ctx)
        };
        // Observers get the frame as a `serde_json::Value` (built only for them).
        if sight.observer.is_some() {
            let value = doc.root().to_value();
            if let Ok(vframe) = frame::classify(&value) {
                let action = match vframe {
                    Frame::Call { action, .. } => Some(action),
                    _ => parsed.action.as_deref(),
                };
                let message = Message {
                    from,
                    frame: vframe,
                    action,
                    call: parsed.call,
                    text: &text,
                };
                self.observe(sight, Observed::Message(message));
            }
        }
        // A new pending CALL keeps its payload (copied out of the reused document, compact)
        // for the rules that judge its answer, unless it is too large to keep.
        if parsed.kept
            && let Some(p) = self.pending[from.index()].last_mut()
            && let Frame::Call { payload, .. } = frame
        {
            // The escaped length bounds the plain one: the text is built only for a long frame.
            let len = |bound: usize| text.len_at_most() > bound && text.get().len() > bound;
            if len(KEEP_AT_MOST) {
                p.valid = false;
            } else {
                p.payload = payload.to_owned_doc();
                p.large = len(KEEP_TIMED_OUT);
            }
        }
    }

    /// Today's reading of a plain text into `doc`: a leading byte order mark reported and
    /// skipped, then the JSON; `false` (reported) when it is empty or not JSON.
    fn parse_plain(text: &str, doc: &mut Doc, ctx: &mut Ctx<'_>) -> bool {
        let mut body = text;
        if let Some(rest) = text.strip_prefix('\u{feff}') {
            ctx.report(
                &ws::UTF8_BOM,
                "the payload starts with a byte order mark (U+FEFF); strict JSON parsers reject it",
            );
            body = rest;
        }
        match frame::parse_doc(body, doc) {
            Ok(()) => true,
            Err(e) => {
                if let FrameError::Empty = e {
                    ctx.report(&ws::EMPTY_MESSAGE, "empty or whitespace-only text frame");
                } else {
                    rpc::report_frame_error(ctx, &e);
                }
                false
            }
        }
    }

    /// Tells the observer, if any, what the frame was, with the station's state after it.
    fn observe(&self, sight: Sight<'_, '_, '_>, what: Observed<'_>) {
        if let Some(o) = sight.observer {
            o.observe(&Observation {
                conn: sight.event.conn,
                line: sight.event.line,
                at: sight.event.at,
                origin: sight.origin,
                what,
                station: self.proto.summary(),
                device: &self.proto.station.identity,
            });
        }
    }

    /// Judges a structurally sound frame; says whether it became a pending CALL and what
    /// CALL an answer pairs with.
    fn on_parsed<'f>(
        &mut self,
        from: Side,
        frame: Frame<'f, Json<'f>>,
        schemas: &SchemaSet,
        ctx: &mut Ctx<'f>,
    ) -> Parsed {
        let version = self.version;
        let message_type = frame.message_type();
        let id = frame.id();
        let known_type = match message_type {
            MessageType::CallResultError | MessageType::Send => match version {
                Some(v) => v == Version::V21,
                None => !self.negotiated_unsupported,
            },
            _ => true,
        };
        if !known_type {
            ctx.set_frame_ids(Some(id), None);
            ctx.report(
                &rpc::UNKNOWN_MESSAGE_TYPE,
                format!(
                    "message type {} ({}) exists only in OCPP 2.1, not in {}",
                    message_type as u8,
                    message_type.name(),
                    version.map_or("this version".into(), |v| format!("OCPP {v}"))
                ),
            );
            return Parsed::default();
        }
        ctx.set_frame_ids(Some(id), None);
        // The caller chooses the id; an answer must repeat it, whatever it is.
        if let Frame::Call { .. } = frame {
            rpc::check_message_id(ctx, id);
        }
        match frame {
            Frame::Call {
                id,
                action,
                payload,
                send,
            } => Parsed {
                kept: self.on_call(from, id, action, payload, send, schemas, ctx),
                ..Parsed::default()
            },
            Frame::CallResult { id, payload } => self.on_result(from, id, payload, schemas, ctx),
            Frame::CallError {
                id,
                code,
                description,
                details,
                result_error,
            } => {
                rpc::check_error_fields(ctx, code, description, details);
                if result_error {
                    self.on_result_error(from, id, ctx);
                    Parsed::default()
                } else {
                    self.on_error(from, id, code.as_str().unwrap_or(""), ctx)
                }
            }
        }
    }

    /// Returns true when the CALL was added to the pending list.
    #[expect(clippy::too_many_arguments, reason = "the parts of one CALL frame")]
    fn on_call<'f>(
        &mut self,
        from: Side,
        id: &'f str,
        action: &'f str,
        payload: Json<'f>,
        send: bool,
        schemas: &SchemaSet,
        ctx: &mut Ctx<'f>,
    ) -> bool {
        ctx.set_frame_ids(Some(id), Some(action));
        let action_idx = match self.version {
            Some(v) => dir::check_action(ctx, v, from, action, send),
            None => None,
        };
        let valid = match (self.version, action_idx) {
            (Some(version), Some(idx)) => {
                let rule = if send {
                    &schema::SEND_INVALID
                } else {
                    &schema::REQUEST_INVALID
                };
                schema::check_payload(
                    ctx,
                    schemas,
                    version,
                    idx,
                    Direction::Request,
                    payload,
                    rule,
                )
            }
            _ => false,
        };
        let now = ctx.at;
        let mut added = false;
        if send {
            push_bounded(&mut self.sends[from.index()], Box::from(id), MAX_RECENT);
        } else {
            let timeout = ctx.config.tol.call_timeout_us;
            let mine = &mut self.pending[from.index()];
            if let Some(p) = mine.iter_mut().find(|p| &*p.id == id) {
                ctx.report(
                    &rpc::DUPLICATE_OUTSTANDING_ID,
                    format!(
                        "{from} sent CALL id `{id}` while its earlier CALL with that id is still unanswered"
                    ),
                );
                p.at = now;
                p.action = action_idx;
            } else {
                // The inspector and the CSMS call independently: only calls of the same
                // caller are concurrent.
                let origin = self.origin;
                if let Some(open) = mine.iter().rev().find(|p| {
                    p.origin == origin && now.micros().saturating_sub(p.at.micros()) < timeout
                }) {
                    let prev = open
                        .action
                        .zip(self.version)
                        .map_or("?", |(a, v)| catalogue(v)[a].name);
                    ctx.report(
                        &rpc::CONCURRENT_CALL,
                        format!(
                            "{from} sent a CALL while its CALL `{}` ({prev}) is still unanswered and not timed out",
                            open.id
                        ),
                    );
                }
                if mine.len() == MAX_PENDING {
                    mine.remove(0);
                    // A forgotten CALL may still be answered: such an answer proves nothing.
                    self.proto.station.seen_from_start = false;
                }
                mine.push(Pending {
                    id: Box::from(id),
                    action: action_idx,
                    unknown_action: action_idx.is_none().then(|| Box::from(action)),
                    at: now,
                    line: ctx.line,
                    payload: OwnedDoc::default(),
                    valid,
                    timed_out: false,
                    origin,
                    gap: false,
                    large: false,
                });
                added = true;
            }
        }
        if let (Some(version), Some(idx)) = (self.version, action_idx)
            && payload.is_object()
        {
            let call = Call {
                id,
                action: catalogue(version)[idx].name,
                from,
                payload,
                valid,
                send,
            };
            if !ctx.config.schema_only {
                self.proto.on_call(ctx, &call);
            }
        }
        added
    }

    /// Finds and removes the other side's outstanding CALL with this id.
    fn take_pending(&mut self, caller: Side, id: &str) -> Option<Pending> {
        let list = &mut self.pending[caller.index()];
        let pos = list.iter().position(|p| &*p.id == id)?;
        Some(list.remove(pos))
    }

    /// Pairs an answer (`with_result`: a CALLRESULT) with its CALL: the frame's id and action
    /// for findings, a late answer reported, the answer remembered. `None`: no CALL of
    /// `caller` waits for `id`.
    #[inline]
    fn take_answered<'f>(
        &mut self,
        caller: Side,
        id: &'f str,
        with_result: bool,
        ctx: &mut Ctx<'f>,
    ) -> Option<Pending> {
        ctx.set_frame_ids(Some(id), None);
        let call = self.take_pending(caller, id)?;
        if let (Some(version), Some(idx)) = (self.version, call.action) {
            ctx.set_frame_ids(None, Some(catalogue(version)[idx].name));
        }
        self.late_answer(&call, ctx);
        self.remember_answer(caller, &call, with_result);
        Some(call)
    }

    fn late_answer(&self, call: &Pending, ctx: &mut Ctx<'_>) {
        if call.timed_out {
            ctx.report(
                &rpc::RESPONSE_AFTER_TIMEOUT,
                format!(
                    "answer to CALL `{}` comes {:.1} s after it was sent, after the call timeout",
                    call.id,
                    ctx.at.secs_since(call.at)
                ),
            );
        }
    }

    fn remember_answer(&mut self, caller: Side, call: &Pending, with_result: bool) {
        push_bounded(
            &mut self.answered[caller.index()],
            Answered {
                id: call.id.clone(),
                action: call.action,
                with_result,
            },
            MAX_RECENT,
        );
    }

    fn deliver_reply(
        &mut self,
        caller: Side,
        call: &Pending,
        outcome: Outcome<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        if let (Some(version), Some(idx)) = (self.version, call.action) {
            let reply = Reply {
                id: &call.id,
                action: catalogue(version)[idx].name,
                caller,
                request: call.payload.root(),
                request_valid: call.valid,
                call_at: call.at,
                call_line: call.line,
                outcome,
            };
            if !ctx.config.schema_only {
                self.proto.on_reply(ctx, &reply);
            }
        }
    }

    fn on_result<'f>(
        &mut self,
        from: Side,
        id: &'f str,
        payload: Json<'_>,
        schemas: &SchemaSet,
        ctx: &mut Ctx<'f>,
    ) -> Parsed {
        let caller = from.other();
        match self.take_answered(caller, id, true, ctx) {
            Some(call) => {
                let mut valid = false;
                if let (Some(version), Some(idx)) = (self.version, call.action) {
                    valid = schema::check_payload(
                        ctx,
                        schemas,
                        version,
                        idx,
                        Direction::Response,
                        payload,
                        &schema::RESPONSE_INVALID,
                    );
                }
                self.deliver_reply(caller, &call, Outcome::Result { payload, valid }, ctx);
                Parsed::answer(call, self.version)
            }
            None => {
                self.unmatched_response(from, id, "CALLRESULT", ctx);
                Parsed::default()
            }
        }
    }

    fn on_error<'f>(&mut self, from: Side, id: &'f str, code: &str, ctx: &mut Ctx<'f>) -> Parsed {
        let caller = from.other();
        match self.take_answered(caller, id, false, ctx) {
            Some(call) => {
                self.deliver_reply(caller, &call, Outcome::Error { code }, ctx);
                Parsed::answer(call, self.version)
            }
            None if id == "-1" => {
                // An answer to a frame whose id could not be read: legal on 2.x.
                if self.version == Some(Version::V16) {
                    ctx.report_as(
                        &rpc::RESPONSE_UNKNOWN_ID,
                        Severity::Info,
                        "CALLERROR with id `-1` (the 2.x convention for an unreadable frame; OCPP 1.6 has no such convention)",
                    );
                }
                Parsed::default()
            }
            None => {
                self.unmatched_response(from, id, "CALLERROR", ctx);
                Parsed::default()
            }
        }
    }

    /// 2.1 CALLRESULTERROR: sent by the original caller about the CALLRESULT it received.
    fn on_result_error<'f>(&mut self, from: Side, id: &'f str, ctx: &mut Ctx<'f>) {
        ctx.set_frame_ids(Some(id), None);
        let found = self.answered[from.index()]
            .iter()
            .find(|a| &*a.id == id && a.with_result)
            .map(|a| a.action);
        match found {
            Some(action) => {
                if let (Some(version), Some(idx)) = (self.version, action) {
                    ctx.set_frame_ids(None, Some(catalogue(version)[idx].name));
                }
            }
            None => ctx.report(
                &rpc::CALLRESULTERROR_UNKNOWN_TARGET,
                format!(
                    "CALLRESULTERROR `{id}` from {from} matches no CALLRESULT that {} sent in answer to a CALL of {from}",
                    from.other()
                ),
            ),
        }
    }

    fn unmatched_response(&mut self, from: Side, id: &str, what: &str, ctx: &mut Ctx<'_>) {
        let caller = from.other();
        if let Some(prev) = self.answered[caller.index()].iter().find(|a| &*a.id == id) {
            if let (Some(version), Some(idx)) = (self.version, prev.action) {
                ctx.set_frame_ids(None, Some(catalogue(version)[idx].name));
            }
            ctx.report(
                &rpc::DUPLICATE_RESPONSE,
                format!("{what} `{id}` answers a CALL of {caller} that was already answered"),
            );
        } else if self.sends[caller.index()].iter().any(|s| &**s == id) {
            ctx.report(
                &rpc::RESPONSE_TO_SEND,
                format!(
                    "{what} `{id}` answers a SEND of {caller}; SEND messages get no reply of any kind"
                ),
            );
        } else if self.malformed[caller.index()].iter().any(|m| &**m == id) {
            if what != "CALLERROR" {
                ctx.report_as(
                    &rpc::RESPONSE_UNKNOWN_ID,
                    Severity::Info,
                    format!(
                        "{what} `{id}` answers a malformed CALL of {caller}; a CALLERROR is the expected answer to a frame that cannot be processed"
                    ),
                );
            }
        } else if !self.proto.station.seen_from_start {
            ctx.report_as(
                &rpc::RESPONSE_UNKNOWN_ID,
                Severity::Info,
                format!(
                    "{what} `{id}` from {from} matches no CALL of {caller} seen; the trace did not show this connection from its start (or lost a span), so it may answer a CALL sent before"
                ),
            );
        } else {
            ctx.report(
                &rpc::RESPONSE_UNKNOWN_ID,
                format!("{what} `{id}` from {from} matches no outstanding CALL of {caller}"),
            );
        }
    }
}

/// The families' view of a handshake (their own type, kept as it is).
fn open_info<'a>(h: &Handshake<'a>) -> OpenInfo<'a> {
    OpenInfo {
        scheme: h.scheme,
        tls_version: h.tls_version,
        client_cert_subject: h.client_cert_subject,
        basic_auth_user: h.basic_auth_user,
        profile: h.security_profile(),
    }
}

/// Whether a text frame is a CALL of BootNotification (a cheap look at the envelope; the
/// frame itself is judged by the pipeline).
fn is_boot_call(text: &str) -> bool {
    let t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let Some(rest) = t.strip_prefix('[') else {
        return false;
    };
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix('2') else {
        return false;
    };
    // `[2,"id","BootNotification",{...}]`: the action is the second string of the array.
    let mut parts = rest.splitn(4, '"');
    let _ = parts.next();
    let _id = parts.next();
    let _sep = parts.next();
    parts
        .next()
        .is_some_and(|r| r.starts_with("BootNotification\""))
}

#[cfg(test)]
mod tests;
