//! `tx2.*`: OCPP 2.0.1 / 2.1 transactions, reported by the charger in TransactionEvent
//! (Started, Updated..., Ended) under a transactionId it chose, judged against the station's
//! model of them ([`station::v2`](crate::engine::station::v2)), which follows each event
//! and its delivery before this family runs.
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
//!                  ─► triggerReason RemoteStart / RemoteStop: asked for? (`remote/` knows)
//! CALLRESULT      ─► idToken sent: idTokenInfo expected (the CSMS's fault)
//! ```
//!
//! A transaction whose Started the trace did not see (it began before the trace, or before
//! the station's boot the trace saw) is adopted by the model at its first event and reported
//! here at most as info. This file must not judge connector statuses
//! (`status2/connector.rs` does), 1.6 transactions (`tx16/transaction.rs`) nor the remote
//! start and stop (`remote/request.rs`).

use super::{
    CHARGING_STATE_TRIGGER_WITHOUT_STATE, DUPLICATE_STARTED, EVENT_AFTER_ENDED, EVSE_CHANGED,
    EVSE_NEVER_REPORTED, FIRST_EVENT_NOT_STARTED, IDTOKEN_INFO_MISSING,
    IDTOKEN_ON_REMOTE_OR_RESET_STOP, INCOMPLETE_SEQUENCE, METER_CONTEXT_MISMATCH,
    NUMBER_OF_PHASES_MISSING, OFFLINE_FLAG_MISSING, OFFLINE_FLAG_WHILE_ONLINE,
    SECOND_TRANSACTION_ON_EVSE, SEQNO_GAP, SEQNO_NOT_INCREASING, SEQNO_NOT_RESET,
    STARTED_WITHOUT_CHARGING_STATE, STATUS_NOT_OCCUPIED_ON_PLUG, STOPPED_REASON_MISSING,
    TIMESTAMP_DECREASING, TRANSACTION_ID_REUSED, TRIGGER_REASON_UNKNOWN_CONTEXT,
};
use crate::wire::doc::Json;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Reply};
use crate::engine::rules::V2X;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::v2::{self, Event, EventType};
use crate::engine::station::{ConnectorStatus, availability_events};
use crate::engine::station::{Deadlines, Wake};
use crate::engine::support::{CallRef, arr_of, int_of, push_capped, report_not_followed, str_of};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

mod event;
mod follow;
use event::*;
use follow::*;

const MAX_WATCHES: usize = 16;

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
    /// The transactions of the model (by serial) tx2.seqno-gap was reported for
    /// (tx2.incomplete-sequence would say it again).
    gap_reported: Vec<u64>,
    /// When the current connection opened, and when the previous one closed.
    open_at: Option<Timestamp>,
    outage_from: Option<Timestamp>,
    last_close: Option<Timestamp>,
    watches: Deadlines<PlugWatch, MAX_WATCHES>,
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

// ---------------------------------------------------------------------------------------
// Hooks.

/// The hooks of this family (see [`Family`]).
pub(crate) struct Tx2;

impl Family for Tx2 {
    const VERSIONS: &'static [Version] = V2X;
    const CALLS: Listen = Listen::Only(&["TransactionEvent", "StatusNotification", "NotifyEvent"]);
    const REPLIES: Listen = Listen::Only(&["TransactionEvent"]);

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
    }

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        wake.at(st.tx2.watches.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        let s = &mut st.tx2;
        if s.watches.is_empty() {
            return;
        }
        for (_, w) in s.watches.expired(now) {
            report_not_followed(
                ctx,
                &STATUS_NOT_OCCUPIED_ON_PLUG,
                w.call.about(),
                &format!(
                    "an EV was connected on EVSE {}{} while it was last reported Available, and no Occupied status for it",
                    w.evse,
                    w.connector
                        .map_or(String::new(), |c| format!(" connector {c}"))
                ),
            );
        }
        if end {
            // The observation ends before these windows closed: nothing can be concluded.
            s.watches.clear_all();
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        if !call.valid || call.from != Side::Charger {
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
                for (evse, c, status) in availability_events(call.payload) {
                    if status == ConnectorStatus::Occupied {
                        occupied(&mut st.tx2, evse, c);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_reply(_st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        if let ("TransactionEvent", Side::Charger) = (reply.action, reply.caller) {
            event_answered(ctx, reply);
        }
    }
}

// ---------------------------------------------------------------------------------------
// TransactionEvent.

fn occupied(s: &mut State, evse: i64, connector: i64) {
    s.watches
        .clear(|w| w.evse == evse && w.connector.is_none_or(|c| c == connector));
}

fn event_answered(ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if let Some(result) = reply.result()
        && reply.request.get("idToken").is_some_and(Json::is_object)
        && result.get("idTokenInfo").is_none()
        && let Some(ev) = Event::of(reply.request)
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
