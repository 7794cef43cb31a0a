//! StopTransaction, and the RemoteStartTransaction / RemoteStopTransaction requests and answers
//! that lead to a start or a stop.

use super::*;

pub(super) fn stop_transaction(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let data = arr_of(p, "transactionData");
    check_numeric(ctx, data, "transactionData");
    let Some(id) = int_of(p, "transactionId") else {
        return;
    };
    let s = &mut st.tx16;
    if id == -1 {
        ctx.report(
            &MINUS_ONE_TRANSACTION_ID,
            "StopTransaction with transactionId -1: a transaction whose StartTransaction was never acknowledged",
        );
        if let Some(pos) = s.starts.iter().position(|x| x.dead) {
            s.starts.remove(pos);
        }
        return;
    }
    let now = ctx.now();
    let tol = ctx.config().tol;
    let window = tol.followup_window_us;
    let stop_ts = ts_of(p, "timestamp");
    let reason = str_of(p, "reason");
    let meter_stop = int_of(p, "meterStop");
    let interval = st.station.config.key_int("MeterValueSampleInterval");
    let since_boot = st.station.since_boot(stop_ts, tol.clock_skew_us);
    let stop = Stop {
        sent_at: now,
        ts: stop_ts,
        acked: None,
    };

    if s.tx(id).is_none() {
        let known_before = s.used_ids.contains(&id);
        if !known_before {
            let message = format!(
                "StopTransaction for transactionId {id}, which no StartTransaction answer in the trace issued"
            );
            let after_reboot = matches!(
                reason,
                Some("PowerLoss" | "Reboot" | "HardReset" | "SoftReset")
            );
            if since_boot && !after_reboot {
                ctx.report(&STOP_UNKNOWN_TX, message);
            } else {
                ctx.report_as(
                    &STOP_UNKNOWN_TX,
                    Severity::Info,
                    format!("{message} (it may have started before the trace or the last boot)"),
                );
            }
        }
        let tx = s.add_tx(Tx::new(id));
        tx.stop = Some(stop);
        if let Some(pos) = s.starts.iter().position(|x| x.dead) {
            s.starts.remove(pos);
        }
        remote_stop_judged(s, ctx, id, reason, stop_ts);
        return;
    }

    let Some(tx) = s.tx(id) else { return };
    match tx.stop {
        Some(Stop {
            acked: Some(in_time),
            ..
        }) => {
            let message = format!(
                "StopTransaction for transaction {id}, whose earlier StopTransaction was already acknowledged"
            );
            if in_time {
                ctx.report(&STOP_TWICE, message);
            } else {
                ctx.report_as(
                    &STOP_TWICE,
                    Severity::Warning,
                    format!("{message} (that acknowledgement came after the call timeout; the charger may have given up on it)"),
                );
            }
            return;
        }
        // A retry of an unacknowledged stop: judged the first time.
        Some(_) => return,
        None => {}
    }
    tx.stop = Some(stop);
    let connector = tx.connector;
    let started_at = tx.start.as_ref().map(|c| c.at);

    if let (Some(stop_m), Some(start_m)) = (meter_stop, tx.meter_start)
        && stop_m < start_m
    {
        ctx.report(
                &METER_STOP_BELOW_START,
                format!("transaction {id} stopped with meterStop {stop_m} Wh, below its meterStart {start_m} Wh; the register only counts up"),
            );
    }
    if let Some(ts) = stop_ts {
        match (tx.start_ts, tx.last_ts) {
            (Some(start), _) if ts < start => ctx.report(
                &STOP_BEFORE_START,
                format!("transaction {id} stopped at {ts}, before it started ({start})"),
            ),
            (_, Some(last)) if ts < last => ctx.report(
                &TX_MESSAGES_OUT_OF_ORDER,
                format!("StopTransaction of transaction {id} is timestamped {ts}, before the transaction's earlier delivered sample ({last}); transaction messages must be delivered in the order they were created"),
            ),
            _ => {}
        }
    }

    // The samples sent with the stop.
    follow_samples(tx, ctx, data, interval);
    if let Some(ts) = stop_ts {
        let mut end = tx.end_sample;
        for mv in data {
            let is_end = arr_of(mv, "sampledValue")
                .iter()
                .any(|sv| str_of(sv, "context") == Some("Transaction.End"));
            if let (true, Some(t)) = (is_end, ts_of(mv, "timestamp")) {
                end = Some(end.map_or(t, |e| e.min(t)));
            }
        }
        if let Some(e) = end
            && Timestamp::after(e, window) < ts
        {
            ctx.report(
                    &CONTEXT_MISMATCH,
                    format!(
                        "sample of transaction {id} labelled Transaction.End is timestamped {e}, {:.0} s before the transaction stopped ({ts})",
                        ts.secs_since(e)
                    ),
                );
        }
        tx.see(ts);
    }

    // The idTag that stopped it, if it was just presented.
    let local = reason.is_none_or(|r| r == "Local");
    if local
        && str_of(p, "idTag").is_none()
        && tx
            .reauth_at
            .is_some_and(|at| now.micros().saturating_sub(at.micros()) <= window)
    {
        ctx.report(
            &IDTAG_MISSING_ON_STOP,
            format!("StopTransaction of transaction {id} has no idTag, although its idTag was presented (Authorize) just before the stop"),
        );
    }

    // Invalid id with StopTransactionOnInvalidId.
    if let Some(d) = s.deauths.take(|d| d.tx == id) {
        // A transaction that ended before the charger learnt the answer (queued offline)
        // could not be stopped for it.
        let ended_first =
            stop_ts.is_some_and(|t| Timestamp::after(t, tol.clock_skew_us) < d.answered_at);
        if reason != Some("DeAuthorized") && !ended_first {
            ctx.report(
                &STOP_REASON_NOT_DEAUTHORIZED,
                format!(
                    "transaction {id} was answered with idTagInfo status {} while StopTransactionOnInvalidId is true, and stopped with reason {} instead of DeAuthorized",
                    d.status,
                    reason.unwrap_or("Local (none given)")
                ),
            );
        }
    }

    let remote = remote_stop_judged(s, ctx, id, reason, stop_ts);

    // A Reset or an UnlockConnector in force makes a missing reason suspicious.
    if reason.is_none() && !remote {
        let reset = s.reset.filter(|r| {
            let in_force = match r.until {
                Some(until) => now <= until,
                None => now.micros().saturating_sub(r.at.micros()) <= window * RESET_WINDOWS,
            };
            in_force && started_at.is_none_or(|at| at < r.at)
        });
        let unlock = connector.is_some_and(|c| {
            s.unlocks
                .iter()
                .any(|(x, at)| *x == c && now.micros().saturating_sub(at.micros()) <= window)
        });
        let expected = if unlock {
            Some("UnlockCommand (an UnlockConnector for its connector was just sent)")
        } else {
            reset.map(|r| {
                if r.reason == "HardReset" {
                    "HardReset (a hard Reset is in progress)"
                } else {
                    "SoftReset (a soft Reset is in progress)"
                }
            })
        };
        if let Some(expected) = expected {
            ctx.report(
                &STOP_REASON_MISSING,
                format!("StopTransaction of transaction {id} gives no reason (which means Local); expected {expected}"),
            );
        }
    }
}

/// Settles the remote stop of transaction `id` (if one was accepted) now that its
/// StopTransaction came. Returns whether there was one.
pub(super) fn remote_stop_judged(
    s: &mut State,
    ctx: &mut Ctx<'_>,
    id: i64,
    reason: Option<&str>,
    stop_ts: Option<Timestamp>,
) -> bool {
    let Some(pos) = s.remote_stops.iter().position(|r| r.tx == id) else {
        return false;
    };
    let r = s.remote_stops.remove(pos);
    let skew = ctx.config().tol.clock_skew_us;
    let ended_first = stop_ts.is_some_and(|t| Timestamp::after(t, skew) < r.call.at);
    if !ended_first && reason != Some("Remote") {
        ctx.report(
            &STOP_REASON_NOT_REMOTE,
            format!(
                "transaction {id} was stopped after its RemoteStopTransaction (line {}) was accepted, with reason {} instead of Remote",
                r.call.line,
                reason.unwrap_or("Local (none given)")
            ),
        );
    }
    true
}

// ---------------------------------------------------------------------------------------
// Remote start / stop.

pub(super) fn remote_start_request(ctx: &mut Ctx<'_>, p: &Value) {
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

pub(super) fn remote_stop_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if status_of(reply) != Some("Accepted") {
        return;
    }
    let Some(id) = int_of(reply.request, "transactionId") else {
        return;
    };
    let s = &mut st.tx16;
    let ended = match s.tx(id) {
        Some(t) => t.stop.is_some_and(|x| x.sent_at <= reply.call_at),
        None => s.used_ids.contains(&id),
    };
    if ended {
        ctx.report(
            &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
            format!("RemoteStopTransaction for transaction {id} answered Accepted, but the charger had already stopped that transaction; the answer must be Rejected"),
        );
        return;
    }
    if s.tx(id).is_none() && st.station.booted() {
        ctx.report_as(
            &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
            Severity::Warning,
            format!("RemoteStopTransaction for transaction {id} answered Accepted, but no transaction {id} was seen since the station booted; the answer should be Rejected"),
        );
        return;
    }
    s.remote_stops.retain(|r| r.tx != id);
    push_capped(
        &mut s.remote_stops,
        RemoteStop {
            call: CallRef::of_reply(reply),
            tx: id,
            due: Some(Timestamp::after(
                ctx.now(),
                ctx.config().tol.followup_window_us,
            )),
        },
        MAX_WATCHES,
    );
}
