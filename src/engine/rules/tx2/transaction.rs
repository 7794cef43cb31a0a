//! `tx2.*` and the 2.x part of `remote.*`: OCPP 2.0.1 / 2.1 transactions, reported by the
//! charger in TransactionEvent (Started, Updated..., Ended) under a transactionId it chose,
//! and the RequestStartTransaction / RequestStopTransaction that lead to them.
//!
//! ```text
//! TransactionEvent ─► retransmission of a seqNo not acknowledged? ─► ignored
//!                  ─► transactionId known? ─ no ─► Started? else first-event-not-started
//!                  │                         └─ ended before? ─► reused / event-after-ended
//!                  ─► seqNo after the previous one (gap, not increasing), timestamp order,
//!                     EVSE (changed, second transaction), offline flag vs the connection
//!                  ─► Started / Ended carry what they must (chargingState, stoppedReason,
//!                     meter contexts, evse)
//!                  ─► plugged on an EVSE last reported Available: Occupied expected
//! CALLRESULT      ─► idToken sent: idTokenInfo expected (the CSMS's fault)
//! RequestStart/StopTransaction Accepted ─► a TransactionEvent with the remoteStartId /
//!                                          triggerReason RemoteStop within followup_window
//! ```
//!
//! A transaction whose Started the trace did not see (it began before the trace, or before
//! the station's boot the trace saw) is adopted at its first event and reported at most as
//! info. Ended transactions keep only their id (capped), for the reuse rules. This file
//! must not judge connector statuses (`status2/connector.rs` does) nor 1.6 transactions (`tx16/transaction.rs`).

use super::{
    CHARGING_STATE_TRIGGER_WITHOUT_STATE, DUPLICATE_STARTED, EVENT_AFTER_ENDED, EVSE_CHANGED,
    EVSE_NEVER_REPORTED, FIRST_EVENT_NOT_STARTED, IDTOKEN_INFO_MISSING,
    IDTOKEN_ON_REMOTE_OR_RESET_STOP, INCOMPLETE_SEQUENCE, METER_CONTEXT_MISMATCH,
    NUMBER_OF_PHASES_MISSING, OFFLINE_FLAG_MISSING, OFFLINE_FLAG_WHILE_ONLINE,
    SECOND_TRANSACTION_ON_EVSE, SEQNO_GAP, SEQNO_NOT_INCREASING, SEQNO_NOT_RESET,
    STARTED_WITHOUT_CHARGING_STATE, STATUS_NOT_OCCUPIED_ON_PLUG, STOPPED_REASON_MISSING,
    TIMESTAMP_DECREASING, TRANSACTION_ID_REUSED, TRIGGER_REASON_UNKNOWN_CONTEXT,
};
use crate::engine::rules::remote::{
    REMOTE_START_ID_MISSING, REMOTE_START_ON_UNAVAILABLE_ACCEPTED,
    REMOTE_START_TRANSACTION_ID_UNKNOWN, REMOTE_STOP_KNOWN_TX_REJECTED, REMOTE_STOP_WRONG_REASON,
};
use serde_json::Value;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Outcome, Reply};
use crate::engine::rules::V2X;
use crate::engine::rules::remote::{
    REMOTE_START_NOT_FOLLOWED, REMOTE_STOP_NOT_FOLLOWED, REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
};
use crate::engine::rules::status2::connector::availability_event;
use crate::engine::rules::support::{
    CallRef, arr_of, int_of, push_capped, status_of, str_of, ts_of,
};
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::Deadlines;
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

// ---------------------------------------------------------------------------------------
// Rules: the life of a transaction.

// ---------------------------------------------------------------------------------------
// Rules: sequence numbers, timestamps and the offline flag.

// ---------------------------------------------------------------------------------------
// Rules: what the events carry.

// ---------------------------------------------------------------------------------------
// Rules: remote start and stop, 2.x (the not-followed rules are shared with 1.6, in tx16).

// ---------------------------------------------------------------------------------------
// State.

mod event;
mod follow;
use event::*;
use follow::*;

/// Transactions followed (open ones, and recently ended ones with their details).
const MAX_TXS: usize = 64;
/// Ended transactions remembered (by a hash of the id) for the reuse rules.
const MAX_ENDED_IDS: usize = 1024;
/// Recent events of one transaction with their delivery outcome.
const MAX_SENT: usize = 8;
const MAX_REMOTE: usize = 16;
/// Transactions remembered as asked to stop (8 bytes each).
const MAX_REMOTE_STOPS_ASKED: usize = 64;
const MAX_WATCHES: usize = 16;

/// How a sent event was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Not answered yet.
    Pending,
    /// A CALLRESULT came.
    Acked,
    /// A CALLERROR came, or the connection closed first: the station will resend it.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventType {
    Started,
    Updated,
    Ended,
}

impl EventType {
    fn parse(s: &str) -> Option<EventType> {
        Some(match s {
            "Started" => EventType::Started,
            "Updated" => EventType::Updated,
            "Ended" => EventType::Ended,
            _ => return None,
        })
    }
}

#[derive(Debug)]
struct Sent {
    seq: i64,
    kind: EventType,
    delivery: Delivery,
}

/// One transaction of the station.
#[derive(Debug)]
struct Tx {
    id: Box<str>,
    /// The EVSE and connector its events named.
    evse: Option<i64>,
    connector: Option<i64>,
    /// The seqNo of its Started, when the trace saw it.
    started: Option<i64>,
    last_seq: Option<i64>,
    last_ts: Option<Timestamp>,
    /// When its last event was sent (observer time).
    last_at: Timestamp,
    /// Distinct seqNos seen.
    seen: u32,
    /// tx2.seqno-gap was reported (tx2.incomplete-sequence would say it again).
    gap_reported: bool,
    /// The seqNo of its Ended, once sent.
    ended: Option<i64>,
    sent: Vec<Sent>,
    /// An event said chargingState Charging (energy was transferred).
    charged: bool,
    /// An event carried numberOfPhasesUsed.
    phases_reported: bool,
}

impl Tx {
    /// The record of `ev` as sent and not acknowledged yet (there is at most one: a
    /// retransmission finds it instead of adding another).
    fn unacked(&mut self, ev: &Event<'_>) -> Option<&mut Sent> {
        self.sent
            .iter_mut()
            .rev()
            .find(|e| e.seq == ev.seq && e.kind == ev.kind && e.delivery != Delivery::Acked)
    }

    fn ended_acked(&self) -> bool {
        self.ended.is_some_and(|e| {
            self.sent
                .iter()
                .any(|s| s.seq == e && s.kind == EventType::Ended && s.delivery == Delivery::Acked)
        })
    }

    fn is_open(&self) -> bool {
        self.ended.is_none()
    }
}

#[derive(Debug)]
struct RemoteStart {
    call: CallRef,
    remote_start_id: i64,
    /// The transaction the answer named (one already running on the EVSE).
    tx: Option<Box<str>>,
}

#[derive(Debug)]
struct RemoteStop {
    call: CallRef,
    tx: Box<str>,
}

/// A plug-in on an EVSE last reported Available, waiting for its Occupied.
#[derive(Debug)]
struct PlugWatch {
    call: CallRef,
    evse: i64,
    connector: Option<i64>,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    txs: Vec<Tx>,
    /// Hashes of the ids of ended transactions (8 bytes each, whatever the id's length).
    ended_ids: Vec<u64>,
    /// When the current connection opened, and when the previous one closed.
    open_at: Option<Timestamp>,
    outage_from: Option<Timestamp>,
    last_close: Option<Timestamp>,
    remote_starts: Deadlines<RemoteStart, MAX_REMOTE>,
    remote_stops: Deadlines<RemoteStop, MAX_REMOTE>,
    watches: Deadlines<PlugWatch, MAX_WATCHES>,
    /// A RequestStartTransaction was answered Accepted in this observation.
    remote_start_asked: bool,
    /// Hashes of the transactions a RequestStopTransaction was accepted for.
    remote_stop_asked: Vec<u64>,
    /// RequestStartTransaction / RequestStopTransaction sent by the CSMS and not answered
    /// yet: their remoteStartId / transaction id hash. The charger may act on a request
    /// before its answer goes out (OCPP-J orders a reply only against the replier's own
    /// outstanding CALL, not against its next CALLs), so an event that crosses the answer
    /// is judged against the request, not against the answer.
    starts_in_flight: Vec<i64>,
    stops_in_flight: Vec<u64>,
    /// The remoteStartIds of recent events, with when each was sent: an answer Accepted
    /// that comes after the transaction it started (a crossing) needs no follow-up.
    remote_start_ids_seen: Vec<(i64, Timestamp)>,
}

impl State {
    /// Transactions started (or first seen) and not ended.
    pub(crate) fn open_transactions(&self) -> usize {
        self.txs.iter().filter(|t| t.is_open()).count()
    }

    /// Whether a transaction with this id ended and was forgotten but for its id.
    fn ended_before(&self, id: &str) -> bool {
        self.ended_ids.contains(&id_hash(id))
    }

    fn tx_pos(&self, id: &str) -> Option<usize> {
        self.txs.iter().rposition(|t| &*t.id == id)
    }

    fn add_tx(&mut self, tx: Tx) -> usize {
        if self.txs.len() >= MAX_TXS {
            // Forget the oldest ended transaction (its id stays in ended_ids), or the oldest.
            let pos = self.txs.iter().position(|t| !t.is_open()).unwrap_or(0);
            let old = self.txs.remove(pos);
            if !old.is_open() {
                self.remember_ended(&old.id);
            }
        }
        self.txs.push(tx);
        self.txs.len() - 1
    }

    fn remember_ended(&mut self, id: &str) {
        let h = id_hash(id);
        if !self.ended_ids.contains(&h) {
            push_capped(&mut self.ended_ids, h, MAX_ENDED_IDS);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// A stable 64-bit hash of a transaction id (collisions are negligible at these counts).
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Trigger reasons of a stop that the driver did not make (stoppedReason must say so).
const NON_DRIVER_STOPS: &[&str] = &[
    "RemoteStop",
    "Deauthorized",
    "EVCommunicationLost",
    "EVConnectTimeout",
    "ResetCommand",
    "AbnormalCondition",
    "EnergyLimitReached",
    "TimeLimitReached",
    "CostLimitReached",
    "SoCLimitReached",
];

/// The parts of a TransactionEvent the rules read.
struct Event<'a> {
    kind: EventType,
    id: &'a str,
    seq: i64,
    ts: Option<Timestamp>,
    trigger: &'a str,
    info: &'a Value,
    offline: bool,
    evse: Option<i64>,
    connector: Option<i64>,
}

impl<'a> Event<'a> {
    fn of(p: &'a Value) -> Option<Event<'a>> {
        let info = p.get("transactionInfo")?;
        let evse = p.get("evse");
        Some(Event {
            kind: EventType::parse(str_of(p, "eventType")?)?,
            id: str_of(info, "transactionId")?,
            seq: int_of(p, "seqNo")?,
            ts: ts_of(p, "timestamp"),
            trigger: str_of(p, "triggerReason").unwrap_or(""),
            info,
            offline: p.get("offline").and_then(Value::as_bool) == Some(true),
            evse: evse.and_then(|e| int_of(e, "id")),
            connector: evse.and_then(|e| int_of(e, "connectorId")),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Hooks.

/// The hooks of this family (see [`Family`]).
pub(crate) struct Tx2;

impl Family for Tx2 {
    const VERSIONS: &'static [Version] = V2X;
    const CALLS: Listen = Listen::Only(&[
        "RequestStartTransaction",
        "RequestStopTransaction",
        "TransactionEvent",
        "StatusNotification",
        "NotifyEvent",
    ]);
    const REPLIES: Listen = Listen::Only(&[
        "TransactionEvent",
        "RequestStartTransaction",
        "RequestStopTransaction",
    ]);

    fn on_open(st: &mut ProtoState, ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {
        let now = ctx.now();
        let s = &mut st.tx2;
        s.open_at = Some(now);
        s.outage_from = s.last_close.filter(|c| *c <= now);
    }

    fn on_close(st: &mut ProtoState, ctx: &mut Ctx<'_>, _by: Option<Side>) {
        let s = &mut st.tx2;
        s.last_close = Some(ctx.now());
        s.open_at = None;
        // Statuses are reported afresh after a reconnect: a plug-in is not judged across it.
        s.watches.clear_all();
        // Unanswered events get no answer any more: the station will resend them.
        for t in &mut s.txs {
            for e in &mut t.sent {
                if e.delivery == Delivery::Pending {
                    e.delivery = Delivery::Failed;
                }
            }
        }
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        let s = &mut st.tx2;
        if s.remote_starts.is_empty() && s.remote_stops.is_empty() && s.watches.is_empty() {
            return;
        }
        let secs = ctx.config().tol.followup_window_us as f64 / 1e6;
        for (_, r) in s.remote_starts.expired(now) {
            ctx.report_about(
                &REMOTE_START_NOT_FOLLOWED,
                r.call.about(),
                format!(
                    "RequestStartTransaction with remoteStartId {} was accepted, but no TransactionEvent carrying that remoteStartId followed within {secs:.0} s",
                    r.remote_start_id
                ),
            );
        }
        for (_, r) in s.remote_stops.expired(now) {
            ctx.report_about(
                &REMOTE_STOP_NOT_FOLLOWED,
                r.call.about(),
                format!(
                    "RequestStopTransaction for transaction {} was accepted, but no TransactionEvent with triggerReason RemoteStop (nor an Ended) for it followed within {secs:.0} s",
                    r.tx
                ),
            );
        }
        for (_, w) in s.watches.expired(now) {
            ctx.report_about(
                &STATUS_NOT_OCCUPIED_ON_PLUG,
                w.call.about(),
                format!(
                    "an EV was connected on EVSE {}{} while it was last reported Available, and no Occupied status for it followed within {secs:.0} s",
                    w.evse,
                    w.connector
                        .map_or(String::new(), |c| format!(" connector {c}"))
                ),
            );
        }
        if end {
            // The observation ends before these windows closed: nothing can be concluded.
            s.remote_starts.clear_all();
            s.remote_stops.clear_all();
            s.watches.clear_all();
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        if !call.valid {
            return;
        }
        if call.from == Side::Csms {
            match call.action {
                "RequestStartTransaction" => {
                    if let Some(r) = int_of(call.payload, "remoteStartId") {
                        push_capped(&mut st.tx2.starts_in_flight, r, MAX_REMOTE);
                    }
                }
                "RequestStopTransaction" => {
                    if let Some(id) = str_of(call.payload, "transactionId") {
                        push_capped(&mut st.tx2.stops_in_flight, id_hash(id), MAX_REMOTE);
                    }
                }
                _ => {}
            }
            return;
        }
        match call.action {
            "TransactionEvent" => {
                if let Some(ev) = Event::of(call.payload) {
                    transaction_event(st, ctx, call, &ev);
                }
            }
            "StatusNotification" => {
                let p = call.payload;
                if str_of(p, "connectorStatus") == Some("Occupied")
                    && let (Some(e), Some(c)) = (int_of(p, "evseId"), int_of(p, "connectorId"))
                {
                    occupied(&mut st.tx2, e, c);
                }
            }
            "NotifyEvent" => {
                for e in arr_of(call.payload, "eventData") {
                    if let Some((evse, c, "Occupied")) = availability_event(e) {
                        occupied(&mut st.tx2, evse, c);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        match (reply.action, reply.caller) {
            ("TransactionEvent", Side::Charger) => event_answered(st, ctx, reply),
            ("RequestStartTransaction", Side::Csms) => {
                let remote_start_id = int_of(reply.request, "remoteStartId");
                if let Some(r) = remote_start_id
                    && let Some(i) = st.tx2.starts_in_flight.iter().position(|x| *x == r)
                {
                    st.tx2.starts_in_flight.remove(i);
                }
                if status_of(reply) != Some("Accepted") {
                    return;
                }
                st.tx2.remote_start_asked = true;
                if let Some(evse) = int_of(reply.request, "evseId")
                    && st.status2.is_out_of_service(evse)
                {
                    ctx.report(
                        &REMOTE_START_ON_UNAVAILABLE_ACCEPTED,
                        format!(
                            "RequestStartTransaction for EVSE {evse} answered Accepted, but the EVSE was last reported Unavailable or Faulted"
                        ),
                    );
                }
                let tx = reply
                    .result()
                    .and_then(|r| str_of(r, "transactionId"))
                    .map(Box::from);
                if let Some(id) = tx.as_deref() {
                    let s = &st.tx2;
                    let why = match s.tx_pos(id) {
                        Some(p) if s.txs[p].ended_acked() => Some("has ended"),
                        Some(_) => None,
                        None if s.ended_before(id) => Some("has ended"),
                        None if st.station.booted() => {
                            Some("was never seen since the station booted")
                        }
                        None => None,
                    };
                    if let Some(why) = why {
                        ctx.report(
                            &REMOTE_START_TRANSACTION_ID_UNKNOWN,
                            format!(
                                "RequestStartTransaction answered with transactionId {id}, a transaction that {why}; the id must name the transaction running on the EVSE"
                            ),
                        );
                    }
                }
                let Some(remote_start_id) = remote_start_id else {
                    return;
                };
                // The transaction may have started before the answer went out (a crossing):
                // then the follow-up is already there.
                if st
                    .tx2
                    .remote_start_ids_seen
                    .iter()
                    .any(|(r, at)| *r == remote_start_id && *at >= reply.call_at)
                {
                    return;
                }
                let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
                st.tx2.remote_starts.arm(
                    due,
                    RemoteStart {
                        call: CallRef::of_reply(reply),
                        remote_start_id,
                        tx,
                    },
                );
            }
            ("RequestStopTransaction", Side::Csms) => {
                let Some(id) = str_of(reply.request, "transactionId") else {
                    return;
                };
                let boot_at = st.station.last_boot_at;
                let s = &mut st.tx2;
                if let Some(i) = s.stops_in_flight.iter().position(|h| *h == id_hash(id)) {
                    s.stops_in_flight.remove(i);
                }
                let pos = s.tx_pos(id);
                if status_of(reply) == Some("Rejected") {
                    if let Some(p) = pos
                        && s.txs[p].is_open()
                        && boot_at.is_none_or(|b| s.txs[p].last_at >= b)
                    {
                        ctx.report(
                            &REMOTE_STOP_KNOWN_TX_REJECTED,
                            format!(
                                "RequestStopTransaction for transaction {id} answered Rejected, but that transaction is running (it sent an event at {} and no Ended)",
                                s.txs[p].last_at
                            ),
                        );
                    }
                    return;
                }
                if status_of(reply) != Some("Accepted") {
                    return;
                }
                push_capped(
                    &mut s.remote_stop_asked,
                    id_hash(id),
                    MAX_REMOTE_STOPS_ASKED,
                );
                // Judged by the state when the request was sent: an Ended sent after it (the
                // charger acted on the request before answering) does not make the answer wrong.
                let acked_end = pos.map_or_else(
                    || s.ended_before(id),
                    |p| s.txs[p].ended_acked() && s.txs[p].last_at <= reply.call_at,
                );
                if acked_end {
                    ctx.report(
                        &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
                        format!(
                            "RequestStopTransaction for transaction {id} answered Accepted, but that transaction had already ended; the answer must be Rejected"
                        ),
                    );
                    return;
                }
                if pos.is_some_and(|p| !s.txs[p].is_open()) {
                    return; // its Ended is on its way: nothing more can follow
                }
                if pos.is_none() && boot_at.is_some() {
                    ctx.report_as(
                        &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
                        Severity::Warning,
                        format!(
                            "RequestStopTransaction for transaction {id} answered Accepted, but no transaction {id} was seen since the station booted; the answer should be Rejected"
                        ),
                    );
                    return;
                }
                let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
                s.remote_stops.arm(
                    due,
                    RemoteStop {
                        call: CallRef::of_reply(reply),
                        tx: Box::from(id),
                    },
                );
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// TransactionEvent.

fn occupied(s: &mut State, evse: i64, connector: i64) {
    s.watches
        .clear(|w| w.evse == evse && w.connector.is_none_or(|c| c == connector));
}

fn event_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(ev) = Event::of(reply.request) else {
        return;
    };
    let delivery = match reply.outcome {
        Outcome::Result { .. } => Delivery::Acked,
        Outcome::Error { .. } => Delivery::Failed,
    };
    let s = &mut st.tx2;
    if let Some(pos) = s.tx_pos(ev.id) {
        let tx = &mut s.txs[pos];
        if let Some(e) = tx.unacked(&ev) {
            e.delivery = delivery;
        }
        if tx.ended_acked() {
            let id = tx.id.clone();
            s.remember_ended(&id);
        }
    }
    if let Some(result) = reply.result()
        && reply.request.get("idToken").is_some_and(Value::is_object)
        && result.get("idTokenInfo").is_none()
    {
        let token = reply
            .request
            .get("idToken")
            .and_then(|t| str_of(t, "idToken"))
            .unwrap_or("?");
        ctx.report(
            &IDTOKEN_INFO_MISSING,
            format!(
                "TransactionEvent {} of transaction {} carried idToken {token}, but the response has no idTokenInfo",
                ev.seq, ev.id
            ),
        );
    }
}

#[cfg(test)]
mod tests;
