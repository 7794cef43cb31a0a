//! The 1.6 remote start and stop: RemoteStartTransaction (its connector and charging profile,
//! then the StartTransaction it should lead to) and RemoteStopTransaction (answered for a
//! transaction the charger runs, then its StopTransaction with reason Remote).

use super::*;
use crate::engine::station::v16::Change;
use crate::wire::doc::Json;

pub(super) fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp) {
    let s = &mut st.remote;
    if s.starts16.is_empty() && s.stops16.is_empty() {
        return;
    }
    for (due, r) in s.starts16.expired(now) {
        let total = due.secs_since(r.call.at);
        ctx.report_about(
            &REMOTE_START_NOT_FOLLOWED,
            r.call.about(),
            format!(
                "RemoteStartTransaction for idTag {}{} was accepted, but within {total:.0} s no StartTransaction for it came, no connector went Preparing and no Authorize of it was refused",
                r.id_tag,
                r.connector
                    .map_or(String::new(), |c| format!(" on connector {c}"))
            ),
        );
    }
    for (_, r) in s.stops16.expired(now) {
        report_not_followed(
            ctx,
            &REMOTE_STOP_NOT_FOLLOWED,
            r.call.about(),
            &format!(
                "RemoteStopTransaction for transaction {} was accepted, but no StopTransaction for it",
                r.tx
            ),
        );
        push_capped(&mut s.overdue_stops16, r, MAX_WATCHES);
    }
}

pub(super) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    match (call.action, call.from) {
        ("RemoteStartTransaction", Side::Csms) => start_request(ctx, p),
        ("StartTransaction", Side::Charger) => {
            let (Some(connector), Some(tag)) = (int_of(p, "connectorId"), str_of(p, "idTag"))
            else {
                return;
            };
            // A remote start that this StartTransaction follows.
            let s = &mut st.remote;
            s.starts16
                .clear(|r| same_tag(&r.id_tag, tag) && r.connector.is_none_or(|c| c == connector));
            push_capped(
                &mut s.recent_starts,
                (Box::from(tag), connector, ctx.now()),
                MAX_WATCHES,
            );
        }
        ("StatusNotification", Side::Charger) => {
            if let (Some(connector), Some("Preparing")) =
                (int_of(p, "connectorId"), str_of(p, "status"))
            {
                st.remote
                    .starts16
                    .clear(|r| r.connector.is_none_or(|c| c == connector));
            }
        }
        ("StopTransaction", Side::Charger) => {
            // The remote stop is settled by the transaction's first StopTransaction (or the
            // one that made the model adopt it); `tx16` judged its reason.
            let Some(id) = int_of(p, "transactionId") else {
                return;
            };
            if matches!(
                st.station.transactions.v16().change,
                Change::Stopped { .. } | Change::Adopted { .. }
            ) {
                st.remote.stops16.clear(|r| r.tx == id);
                st.remote.overdue_stops16.retain(|r| r.tx != id);
            }
        }
        _ => {}
    }
}

pub(super) fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    match (reply.action, reply.caller) {
        ("Authorize", Side::Charger) => {
            let Some(tag) = str_of(reply.request, "idTag") else {
                return;
            };
            let status = id_tag_info(reply, "status");
            if status.is_some_and(|x| x != "Accepted") {
                // A refused idTag ends the attempt of a remote start.
                st.remote.starts16.clear(|r| same_tag(&r.id_tag, tag));
            }
        }
        ("RemoteStartTransaction", Side::Csms) => start_answered(st, ctx, reply),
        ("RemoteStopTransaction", Side::Csms) => stop_answered(st, ctx, reply),
        _ => {}
    }
}

fn start_request(ctx: &mut Ctx<'_>, p: Json<'_>) {
    if let Some(c) = int_of(p, "connectorId")
        && c <= 0
    {
        ctx.report(
                &REMOTE_START_CONNECTOR_ZERO,
                format!("RemoteStartTransaction for connectorId {c}; name a connector from 1 up, or leave connectorId out to let the charger choose"),
            );
    }
    let Some(profile) = p.get("chargingProfile") else {
        return;
    };
    if let Some(purpose) = str_of(profile, "chargingProfilePurpose")
        && purpose != "TxProfile"
    {
        ctx.report_at(
                &REMOTE_PROFILE_NOT_TXPROFILE,
                "/chargingProfile/chargingProfilePurpose".to_owned(),
                format!("RemoteStartTransaction carries a charging profile with purpose {purpose}; only a TxProfile applies to the transaction it starts"),
            );
    }
    if let Some(t) = profile.get("transactionId") {
        ctx.report_at(
            &REMOTE_PROFILE_HAS_TRANSACTION_ID,
            "/chargingProfile/transactionId".to_owned(),
            format!("the charging profile of RemoteStartTransaction carries transactionId {t}, but the transaction does not exist yet (errata 3.41)"),
        );
    }
}

fn start_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if status_of(reply) != Some("Accepted") {
        return;
    }
    let p = reply.request;
    let Some(tag) = str_of(p, "idTag") else {
        return;
    };
    let connector = int_of(p, "connectorId");
    if st.remote.recent_starts.iter().any(|(t, c, at)| {
        same_tag(t, tag) && connector.is_none_or(|x| x == *c) && *at >= reply.call_at
    }) {
        return; // started before the answer went out: already followed
    }
    let tol = ctx.config().tol;
    let wait = st
        .station
        .config
        .key_int("ConnectionTimeOut")
        .filter(|t| *t > 0)
        .map_or(0, |t| t.saturating_mul(1_000_000));
    st.remote.starts16.arm(
        ctx.now().after(tol.followup_window_us.saturating_add(wait)),
        Start16 {
            call: CallRef::of_reply(reply),
            id_tag: Box::from(tag),
            connector,
        },
    );
}

fn stop_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if status_of(reply) != Some("Accepted") {
        return;
    }
    let Some(id) = int_of(reply.request, "transactionId") else {
        return;
    };
    let txs = &st.station.transactions.v16();
    let tx = txs.get(id);
    let ended = match tx {
        Some(t) => t.stop.is_some_and(|x| x.sent_at <= reply.call_at),
        None => txs.issued(id),
    };
    if ended {
        ctx.report(
            &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
            format!("RemoteStopTransaction for transaction {id} answered Accepted, but the charger had already stopped that transaction; the answer must be Rejected"),
        );
        return;
    }
    if tx.is_none() && st.station.booted() {
        ctx.report_as(
            &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
            Severity::Warning,
            format!("RemoteStopTransaction for transaction {id} answered Accepted, but no transaction {id} was seen since the station booted; the answer should be Rejected"),
        );
        return;
    }
    let s = &mut st.remote;
    s.stops16.clear(|r| r.tx == id);
    s.overdue_stops16.retain(|r| r.tx != id);
    s.stops16.arm(
        Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us),
        Stop16 {
            call: CallRef::of_reply(reply),
            tx: id,
        },
    );
}
