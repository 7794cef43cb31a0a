//! StopTransaction: its meter, timestamps and samples, and the reason it gives against what
//! was in force (a refused idTag, a Reset, an UnlockConnector, a remote stop).

use super::*;

pub(super) fn stop_transaction(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let data = arr_of(p, "transactionData");
    check_numeric(ctx, data, "transactionData");
    let Some(id) = int_of(p, "transactionId") else {
        return;
    };
    if id == -1 {
        ctx.report(
            &MINUS_ONE_TRANSACTION_ID,
            "StopTransaction with transactionId -1: a transaction whose StartTransaction was never acknowledged",
        );
        return;
    }
    let now = ctx.now();
    let tol = ctx.config().tol;
    let window = tol.followup_window_us;
    let stop_ts = ts_of(p, "timestamp");
    let reason = str_of(p, "reason");
    let meter_stop = int_of(p, "meterStop");
    let interval = st.station.config.key_int("MeterValueSampleInterval");
    let txs = &st.station.transactions.v16();
    let s = &mut st.tx16;
    match txs.change {
        v16::Change::Adopted { issued, .. } => {
            if !issued {
                let message = format!(
                    "StopTransaction for transactionId {id}, which no StartTransaction answer in the trace issued"
                );
                let after_reboot = matches!(
                    reason,
                    Some("PowerLoss" | "Reboot" | "HardReset" | "SoftReset")
                );
                report_unless_excused(
                    ctx,
                    &STOP_UNKNOWN_TX,
                    st.station.since_boot(stop_ts, tol.clock_skew_us) && !after_reboot,
                    (
                        Severity::Info,
                        "it may have started before the trace or the last boot",
                    ),
                    message,
                );
            }
            remote_stop_reason(st.remote.stop_asked_16(id), ctx, id, reason, stop_ts);
            return;
        }
        v16::Change::StopRepeated { .. } => {
            // A retry of an unacknowledged stop is judged the first time.
            let Some(rtt) = txs
                .get(id)
                .and_then(|t| t.stop)
                .and_then(|x| x.acked_after_us)
            else {
                return;
            };
            let message = format!(
                "StopTransaction for transaction {id}, whose earlier StopTransaction was already acknowledged"
            );
            report_unless_excused(
                ctx,
                &STOP_TWICE,
                rtt <= tol.call_timeout_us,
                (
                    Severity::Warning,
                    "that acknowledgement came after the call timeout; the charger may have given up on it",
                ),
                message,
            );
            return;
        }
        v16::Change::Stopped { .. } => {}
        _ => return,
    }
    let Some(tx) = txs.get(id) else { return };
    let connector = tx.connector;
    let started_at = tx.start.as_ref().map(|c| c.at);
    let own = per_tx(&mut s.per_tx, txs, tx);

    if let (Some(stop_m), Some(start_m)) = (meter_stop, tx.meter_start)
        && stop_m < start_m
    {
        ctx.report(
                &METER_STOP_BELOW_START,
                format!("transaction {id} stopped with meterStop {stop_m} Wh, below its meterStart {start_m} Wh; the register only counts up"),
            );
    }
    if let Some(ts) = stop_ts {
        match (tx.start_ts, own.last_ts) {
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
    follow_samples(own, id, tx.start_ts, ctx, data, interval);
    if let Some(ts) = stop_ts {
        let mut end = own.end_sample;
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
        own.see(ts);
    }

    // The idTag that stopped it, if it was just presented.
    let local = reason.is_none_or(|r| r == "Local");
    if local
        && str_of(p, "idTag").is_none()
        && own
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

    let remote = remote_stop_reason(st.remote.stop_asked_16(id), ctx, id, reason, stop_ts);

    // A Reset or an UnlockConnector in force makes a missing reason suspicious.
    if reason.is_none() && !remote {
        // The Reset asked (the station's fact) is in force until a window after the boot
        // that follows it, or for RESET_WINDOWS windows while no boot came.
        let reset = st.station.resets.asked().filter(|r| {
            let in_force = match r.booted_at {
                Some(boot) => now <= boot.after(window),
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
                if r.hard {
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

/// Judges the reason of the stop of transaction `id` against the RemoteStopTransaction
/// accepted for it (`remote/` keeps those). Returns whether there was one.
fn remote_stop_reason(
    asked: Option<&CallRef>,
    ctx: &mut Ctx<'_>,
    id: i64,
    reason: Option<&str>,
    stop_ts: Option<Timestamp>,
) -> bool {
    let Some(call) = asked else {
        return false;
    };
    let skew = ctx.config().tol.clock_skew_us;
    let ended_first = stop_ts.is_some_and(|t| Timestamp::after(t, skew) < call.at);
    if !ended_first && reason != Some("Remote") {
        ctx.report(
            &STOP_REASON_NOT_REMOTE,
            format!(
                "transaction {id} was stopped after its RemoteStopTransaction (line {}) was accepted, with reason {} instead of Remote",
                call.line,
                reason.unwrap_or("Local (none given)")
            ),
        );
    }
    true
}
