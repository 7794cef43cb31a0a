//! The 2.x remote start and stop: RequestStartTransaction (answered for an EVSE in service,
//! with the transaction it names, then a TransactionEvent with its remoteStartId) and
//! RequestStopTransaction (answered for a transaction the station runs, then the events of
//! its stop).

use super::*;
use crate::engine::station::v2::EventType;

pub(super) fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
    let s = &mut st.remote;
    if s.starts2.is_empty() && s.stops2.is_empty() {
        return;
    }
    for (_, r) in s.starts2.expired(now) {
        report_not_followed(
            ctx,
            &REMOTE_START_NOT_FOLLOWED,
            r.call.about(),
            &format!(
                "RequestStartTransaction with remoteStartId {} was accepted, but no TransactionEvent carrying that remoteStartId",
                r.remote_start_id
            ),
        );
    }
    for (_, r) in s.stops2.expired(now) {
        report_not_followed(
            ctx,
            &REMOTE_STOP_NOT_FOLLOWED,
            r.call.about(),
            &format!(
                "RequestStopTransaction for transaction {} was accepted, but no TransactionEvent with triggerReason RemoteStop (nor an Ended) for it",
                r.tx
            ),
        );
    }
    if end {
        // The observation ends before these windows closed: nothing can be concluded.
        s.starts2.clear_all();
        s.stops2.clear_all();
    }
}

/// A schema-valid CALL.
pub(super) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let s = &mut st.remote;
    match (call.action, call.from) {
        ("RequestStartTransaction", Side::Csms) => {
            if let Some(r) = int_of(call.payload, "remoteStartId") {
                push_capped(&mut s.starts_in_flight, r, MAX_WATCHES);
            }
        }
        ("RequestStopTransaction", Side::Csms) => {
            if let Some(id) = str_of(call.payload, "transactionId") {
                push_capped(&mut s.stops_in_flight, id_hash(id), MAX_WATCHES);
            }
        }
        ("TransactionEvent", Side::Charger) => {
            if !st.station.transactions.v2().seen.followed() {
                return;
            }
            let Some(info) = call.payload.get("transactionInfo") else {
                return;
            };
            let rsid = int_of(info, "remoteStartId");
            if let Some(r) = rsid
                && !s.start_ids_seen.iter().any(|(x, _)| *x == r)
            {
                push_capped(&mut s.start_ids_seen, (r, ctx.now()), MAX_WATCHES);
            }
            if (!s.starts2.is_empty() || !s.stops2.is_empty())
                && let Some(ev) = Event::of(call.payload)
            {
                let skew = ctx.config().tol.clock_skew_us;
                followups(s, ctx, &ev, rsid, skew);
            }
        }
        _ => {}
    }
}

pub(super) fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    match (reply.action, reply.caller) {
        ("RequestStartTransaction", Side::Csms) => start_answered(st, ctx, reply),
        ("RequestStopTransaction", Side::Csms) => stop_answered(st, ctx, reply),
        _ => {}
    }
}

fn start_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let remote_start_id = int_of(reply.request, "remoteStartId");
    let s = &mut st.remote;
    if let Some(r) = remote_start_id
        && let Some(i) = s.starts_in_flight.iter().position(|x| *x == r)
    {
        s.starts_in_flight.remove(i);
    }
    if status_of(reply) != Some("Accepted") {
        return;
    }
    s.start_asked = true;
    if let Some(evse) = int_of(reply.request, "evseId")
        && st.station.connectors.is_out_of_service(evse)
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
        let txs = &st.station.transactions.v2();
        let why = match txs.get(id) {
            Some(t) if t.ended_acked() => Some("has ended"),
            Some(_) => None,
            None if txs.ended_before(id) => Some("has ended"),
            None if st.station.booted() => Some("was never seen since the station booted"),
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
    // The transaction may have started before the answer went out (a crossing): then the
    // follow-up is already there.
    if s.start_ids_seen
        .iter()
        .any(|(r, at)| *r == remote_start_id && *at >= reply.call_at)
    {
        return;
    }
    let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
    s.starts2.arm(
        due,
        Start2 {
            call: CallRef::of_reply(reply),
            remote_start_id,
            tx,
        },
    );
}

fn stop_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(id) = str_of(reply.request, "transactionId") else {
        return;
    };
    let boot_at = st.station.last_boot_at;
    let txs = &st.station.transactions.v2();
    let s = &mut st.remote;
    if let Some(i) = s.stops_in_flight.iter().position(|h| *h == id_hash(id)) {
        s.stops_in_flight.remove(i);
    }
    let tx = txs.get(id);
    if status_of(reply) == Some("Rejected") {
        if let Some(t) = tx
            && t.is_open()
            && boot_at.is_none_or(|b| t.last_at >= b)
        {
            ctx.report(
                &REMOTE_STOP_KNOWN_TX_REJECTED,
                format!(
                    "RequestStopTransaction for transaction {id} answered Rejected, but that transaction is running (it sent an event at {} and no Ended)",
                    t.last_at
                ),
            );
        }
        return;
    }
    if status_of(reply) != Some("Accepted") {
        return;
    }
    push_capped(&mut s.stop_asked, id_hash(id), MAX_STOPS_ASKED);
    // Judged by the state when the request was sent: an Ended sent after it (the charger
    // acted on the request before answering) does not make the answer wrong.
    let acked_end = tx.map_or_else(
        || txs.ended_before(id),
        |t| t.ended_acked() && t.last_at <= reply.call_at,
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
    if tx.is_some_and(|t| !t.is_open()) {
        return; // its Ended is on its way: nothing more can follow
    }
    if tx.is_none() && boot_at.is_some() {
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
    s.stops2.arm(
        due,
        Stop2 {
            call: CallRef::of_reply(reply),
            tx: Box::from(id),
        },
    );
}

/// Matches a followed TransactionEvent (with remoteStartId `rsid`) with the accepted
/// RequestStartTransaction / RequestStopTransaction.
fn followups(s: &mut State, ctx: &mut Ctx<'_>, ev: &Event<'_>, rsid: Option<i64>, skew: i64) {
    if !s.starts2.is_empty() {
        if let Some(r) = rsid {
            s.starts2.clear(|x| x.remote_start_id == r);
        }
        // The transaction the answer named must carry the remoteStartId in its next event.
        if let Some(r) = s.starts2.take(|x| x.tx.as_deref() == Some(ev.id)) {
            ctx.report(
                &REMOTE_START_ID_MISSING,
                format!(
                    "RequestStartTransaction of line {} (remoteStartId {}) was answered with transaction {}, whose next event carries {}",
                    r.call.line,
                    r.remote_start_id,
                    ev.id,
                    rsid.map_or("no remoteStartId".to_owned(), |x| format!("remoteStartId {x}"))
                ),
            );
        } else if ev.trigger == "RemoteStart"
            && rsid.is_none()
            && let Some(r) = s.starts2.take(|_| true)
        {
            ctx.report(
                &REMOTE_START_ID_MISSING,
                format!(
                    "TransactionEvent of transaction {} has triggerReason RemoteStart but no remoteStartId (the RequestStartTransaction of line {} had remoteStartId {})",
                    ev.id, r.call.line, r.remote_start_id
                ),
            );
        }
    }
    if !s.stops2.iter().any(|r| &*r.tx == ev.id) {
        return;
    }
    let remote = ev.trigger == "RemoteStop";
    if ev.kind != EventType::Ended {
        if remote {
            s.stops2.take(|r| &*r.tx == ev.id);
        }
        return;
    }
    let Some(r) = s.stops2.take(|r| &*r.tx == ev.id) else {
        return;
    };
    let before = ev
        .ts
        .is_some_and(|t| t < Timestamp::before(r.call.at, skew));
    let reason = str_of(ev.info, "stoppedReason");
    if !before && (!remote || reason != Some("Remote")) {
        ctx.report(
            &REMOTE_STOP_WRONG_REASON,
            format!(
                "transaction {} ended after its RequestStopTransaction (line {}) was accepted, with triggerReason {} and stoppedReason {}; expected RemoteStop and Remote",
                ev.id,
                r.call.line,
                ev.trigger,
                reason.unwrap_or("absent (Local)")
            ),
        );
    }
}
