//! `remote.*`: the CSMS's remote start and stop of transactions (1.6 RemoteStartTransaction /
//! RemoteStopTransaction, 2.x RequestStartTransaction / RequestStopTransaction), judged
//! against the station's transactions ([`station::Transactions`](crate::engine::station::Transactions)),
//! and the follow-up each accepted request waits for.
//!
//! ```text
//! RemoteStartTransaction Accepted ─► StartTransaction with the idTag (or Preparing, or a
//!   (1.6)                            refused Authorize) within followup_window (+ ConnectionTimeOut)
//! RemoteStopTransaction Accepted  ─► StopTransaction of it within followup_window, reason Remote
//! RequestStartTransaction Accepted ─► a TransactionEvent with the remoteStartId within followup_window
//! RequestStopTransaction Accepted  ─► triggerReason RemoteStop (or its Ended) within followup_window,
//!                                     the Ended with RemoteStop / Remote
//! ```
//!
//! Every wait is a [`Deadlines`] list: armed by the accepted answer, cleared by the message
//! that follows it, reported when an event is past its due time. A request the charger acted
//! on before its answer went out (a legal crossing) needs no follow-up. This file does not
//! judge the transactions themselves (`tx16/`, `tx2/` do); it tells them whether a stop was
//! asked for ([`State::stop_asked_16`], [`State::asked`]).

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::v2::{Event, id_hash};
use crate::engine::station::v16::same_tag;
use crate::engine::station::{Deadlines, Wake};
use crate::engine::support::{
    CallRef, id_tag_info, int_of, push_capped, report_not_followed, status_of, str_of,
};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

use super::{
    REMOTE_PROFILE_HAS_TRANSACTION_ID, REMOTE_PROFILE_NOT_TXPROFILE, REMOTE_START_CONNECTOR_ZERO,
    REMOTE_START_ID_MISSING, REMOTE_START_NOT_FOLLOWED, REMOTE_START_ON_UNAVAILABLE_ACCEPTED,
    REMOTE_START_TRANSACTION_ID_UNKNOWN, REMOTE_STOP_KNOWN_TX_REJECTED, REMOTE_STOP_NOT_FOLLOWED,
    REMOTE_STOP_UNKNOWN_TX_ACCEPTED, REMOTE_STOP_WRONG_REASON,
};

mod v16;
mod v2;

/// Accepted requests waiting for their follow-up, per kind.
const MAX_WATCHES: usize = 16;
/// Transactions remembered as asked to stop (8 bytes each), 2.x.
const MAX_STOPS_ASKED: usize = 64;

/// A 1.6 RemoteStartTransaction accepted.
#[derive(Debug)]
struct Start16 {
    call: CallRef,
    id_tag: Box<str>,
    connector: Option<i64>,
}

/// A 1.6 RemoteStopTransaction accepted.
#[derive(Debug)]
struct Stop16 {
    call: CallRef,
    tx: i64,
}

/// A 2.x RequestStartTransaction accepted.
#[derive(Debug)]
struct Start2 {
    call: CallRef,
    remote_start_id: i64,
    /// The transaction the answer named (one already running on the EVSE).
    tx: Option<Box<str>>,
}

/// A 2.x RequestStopTransaction accepted.
#[derive(Debug)]
struct Stop2 {
    call: CallRef,
    tx: Box<str>,
}

/// What this family remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// 1.6: accepted remote starts waiting for their StartTransaction.
    starts16: Deadlines<Start16, MAX_WATCHES>,
    /// 1.6: recent StartTransactions (idTag, connector, when sent): a RemoteStartTransaction
    /// answered Accepted after the transaction it asked for had started needs no follow-up.
    recent_starts: Vec<(Box<str>, i64, Timestamp)>,
    /// 1.6: accepted remote stops waiting for their StopTransaction.
    stops16: Deadlines<Stop16, MAX_WATCHES>,
    /// 1.6: remote stops reported as not followed: a StopTransaction that comes after all is
    /// still judged for its reason.
    overdue_stops16: Vec<Stop16>,
    /// 2.x: accepted requests waiting for their TransactionEvent.
    starts2: Deadlines<Start2, MAX_WATCHES>,
    stops2: Deadlines<Stop2, MAX_WATCHES>,
    /// 2.x: a RequestStartTransaction was answered Accepted in this observation.
    start_asked: bool,
    /// 2.x: hashes of the transactions a RequestStopTransaction was accepted for.
    stop_asked: Vec<u64>,
    /// 2.x: RequestStartTransaction / RequestStopTransaction sent by the CSMS and not answered
    /// yet: their remoteStartId / transaction id hash. The charger may act on a request
    /// before its answer goes out (OCPP-J orders a reply only against the replier's own
    /// outstanding CALL, not against its next CALLs), so an event that crosses the answer
    /// is judged against the request, not against the answer.
    starts_in_flight: Vec<i64>,
    stops_in_flight: Vec<u64>,
    /// 2.x: the remoteStartIds of recent events, with when each was sent: an answer Accepted
    /// that comes after the transaction it started (a crossing) needs no follow-up.
    start_ids_seen: Vec<(i64, Timestamp)>,
}

impl State {
    /// 1.6: the RemoteStopTransaction accepted for transaction `id` whose StopTransaction
    /// has not come yet (reported as not followed or not).
    pub(crate) fn stop_asked_16(&self, id: i64) -> Option<&CallRef> {
        self.stops16
            .iter()
            .chain(self.overdue_stops16.iter())
            .find(|r| r.tx == id)
            .map(|r| &r.call)
    }

    /// 2.x: whether the CSMS asked for what an event with triggerReason `trigger` of
    /// transaction `id` says it did (RemoteStart, RemoteStop): a request accepted in this
    /// observation, or one not answered yet. Other triggers are always explained.
    pub(crate) fn asked(&self, trigger: &str, id: &str) -> bool {
        match trigger {
            "RemoteStart" => self.start_asked || !self.starts_in_flight.is_empty(),
            "RemoteStop" => {
                let h = id_hash(id);
                self.stop_asked.contains(&h) || self.stops_in_flight.contains(&h)
            }
            _ => true,
        }
    }
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Remote;

impl Family for Remote {
    const VERSIONS: &'static [Version] = ALL;
    const CALLS: Listen = Listen::Only(&[
        "RemoteStartTransaction",
        "StartTransaction",
        "StopTransaction",
        "StatusNotification",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "TransactionEvent",
    ]);
    const REPLIES: Listen = Listen::Only(&[
        "Authorize",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "RequestStartTransaction",
        "RequestStopTransaction",
    ]);

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        let s = &st.remote;
        wake.at(s.starts16.next_due());
        wake.at(s.stops16.next_due());
        wake.at(s.starts2.next_due());
        wake.at(s.stops2.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        if st.is_v16() {
            v16::on_time(st, ctx, now);
        } else if st.is_2x() {
            v2::on_time(st, ctx, now, end);
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        if st.is_v16() {
            v16::on_call(st, ctx, call);
        } else if st.is_2x() && call.valid {
            v2::on_call(st, ctx, call);
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        if st.is_v16() {
            v16::on_reply(st, ctx, reply);
        } else if st.is_2x() {
            v2::on_reply(st, ctx, reply);
        }
    }
}
