//! One TransactionEvent: its content (Started/Ended members, meter contexts, trigger
//! reasons), the offline flag against the connection, and its place in its transaction (as
//! the station's model followed it).

use super::*;

pub(super) fn transaction_event(
    st: &mut ProtoState,
    ctx: &mut Ctx<'_>,
    call: &Call<'_>,
    ev: &Event<'_>,
) {
    let now = ctx.now();
    let tol = ctx.config().tol;
    let boot_at = st.station.last_boot_at;
    let txs = &st.station.transactions.v2();
    let seen = txs.seen;
    // A retransmission of an event that was not acknowledged is the same event again.
    if matches!(seen, v2::Seen::None | v2::Seen::Retransmitted) {
        return;
    }
    let s = &mut st.tx2;
    check_content(ctx, ev, call.payload);
    check_offline(s, ctx, ev, tol.clock_skew_us);

    match seen {
        v2::Seen::Known { before } => follow(txs, s, ctx, before, ev, boot_at),
        v2::Seen::First { started, reused } => {
            adopt(txs, ctx, ev, started, reused, tol.clock_skew_us, boot_at);
        }
        v2::Seen::AfterEnded { ended } => {
            ctx.report(
                &EVENT_AFTER_ENDED,
                match ended {
                    Some(e) => format!(
                        "{:?} event (seqNo {}) for transaction {}, whose Ended (seqNo {e}) was already acknowledged",
                        ev.kind, ev.seq, ev.id
                    ),
                    None => format!(
                        "{:?} event (seqNo {}) for transaction {}, which already ended",
                        ev.kind, ev.seq, ev.id
                    ),
                },
            );
            return;
        }
        v2::Seen::None | v2::Seen::Retransmitted => return,
    }
    let Some(tx) = txs.get(ev.id) else {
        return;
    };

    if ev.kind == EventType::Ended {
        if tx.started.is_some() && tx.charged && !tx.phases_reported {
            ctx.report(
                &NUMBER_OF_PHASES_MISSING,
                format!(
                    "transaction {} charged (chargingState Charging) and ended, and none of its events carried numberOfPhasesUsed",
                    tx.id
                ),
            );
        }
        if let Some(start) = tx.started {
            if tx.evse.is_none() {
                ctx.report(
                    &EVSE_NEVER_REPORTED,
                    format!(
                        "transaction {} ended, and none of its events named the EVSE it ran on",
                        tx.id
                    ),
                );
            }
            let span = ev.seq.saturating_sub(start).saturating_add(1);
            if span > i64::from(tx.seen) && !s.gap_reported.contains(&tx.serial) {
                ctx.report(
                    &INCOMPLETE_SEQUENCE,
                    format!(
                        "transaction {} ended with seqNo {}; of the {span} seqNos from its Started ({start}) only {} were seen",
                        tx.id, ev.seq, tx.seen
                    ),
                );
            }
        }
    }

    // The EV is connected on an EVSE last reported Available: Occupied should follow.
    let plugged = ev.trigger == "CablePluggedIn"
        || (ev.kind == EventType::Started
            && matches!(
                str_of(ev.info, "chargingState"),
                Some("EVConnected" | "Charging" | "SuspendedEV" | "SuspendedEVSE")
            ));
    if plugged
        && !ev.offline
        && let Some(evse) = ev.evse
        && st.station.connectors.is_available(evse, ev.connector)
    {
        s.watches.arm(
            Timestamp::after(now, tol.followup_window_us),
            PlugWatch {
                call: CallRef::of_call(ctx, call),
                evse,
                connector: ev.connector,
            },
        );
    }

    // Connections seen: the observation did not start mid-life, past a request it missed.
    // RemoteStart / RemoteStop as the trigger of an event no request of the CSMS explains.
    if st.station.connections_seen > 0 && !ev.offline && !st.remote.asked(ev.trigger, ev.id) {
        let request = if ev.trigger == "RemoteStart" {
            "no RequestStartTransaction was accepted"
        } else {
            "no RequestStopTransaction for it was accepted"
        };
        ctx.report(
            &TRIGGER_REASON_UNKNOWN_CONTEXT,
            format!(
                "TransactionEvent {} of transaction {} has triggerReason {}, but {request} in this observation",
                ev.seq, ev.id, ev.trigger
            ),
        );
    }
}

/// Checks of the event on its own.
pub(super) fn check_content(ctx: &mut Ctx<'_>, ev: &Event<'_>, p: Json<'_>) {
    let state = str_of(ev.info, "chargingState");
    if ev.trigger == "ChargingStateChanged" && state.is_none() {
        ctx.report_at(
            &CHARGING_STATE_TRIGGER_WITHOUT_STATE,
            "/transactionInfo".to_owned(),
            format!(
                "TransactionEvent {} of transaction {} has triggerReason ChargingStateChanged but no transactionInfo.chargingState",
                ev.seq, ev.id
            ),
        );
    }
    if ev.kind == EventType::Started && state.is_none() {
        ctx.report_at(
            &STARTED_WITHOUT_CHARGING_STATE,
            "/transactionInfo".to_owned(),
            format!(
                "Started of transaction {} has no transactionInfo.chargingState",
                ev.id
            ),
        );
    }
    if ev.kind == EventType::Ended
        && str_of(ev.info, "stoppedReason").is_none()
        && NON_DRIVER_STOPS.contains(&ev.trigger)
    {
        ctx.report_at(
            &STOPPED_REASON_MISSING,
            "/transactionInfo".to_owned(),
            format!(
                "Ended of transaction {} has triggerReason {} but no stoppedReason; absent means Local, a stop by the driver",
                ev.id, ev.trigger
            ),
        );
    }
    if ev.kind == EventType::Ended
        && matches!(ev.trigger, "RemoteStop" | "ResetCommand")
        && p.get("idToken").is_some()
    {
        ctx.report_at(
            &IDTOKEN_ON_REMOTE_OR_RESET_STOP,
            "/idToken".to_owned(),
            format!(
                "Ended of transaction {} with triggerReason {} carries an idToken; no token is presented for a remote or reset stop",
                ev.id, ev.trigger
            ),
        );
    }
    let allowed: &[&str] = match ev.kind {
        EventType::Started => &["Transaction.Begin"],
        EventType::Ended => &["Transaction.End", "Sample.Periodic", "Sample.Clock"],
        EventType::Updated => return,
    };
    for (i, mv) in arr_of(p, "meterValue").iter().enumerate() {
        for (j, sv) in arr_of(mv, "sampledValue").iter().enumerate() {
            if let Some(c) = str_of(sv, "context")
                && !allowed.contains(&c)
            {
                ctx.report_at(
                    &METER_CONTEXT_MISMATCH,
                    format!("/meterValue/{i}/sampledValue/{j}/context"),
                    format!(
                        "sampled value with context {c} in the {} event of transaction {}; expected {}",
                        if ev.kind == EventType::Started { "Started" } else { "Ended" },
                        ev.id,
                        allowed.join(" or ")
                    ),
                );
                return;
            }
        }
    }
}

/// The offline flag against the connection's open time and the outage before it.
pub(super) fn check_offline(s: &State, ctx: &mut Ctx<'_>, ev: &Event<'_>, skew: i64) {
    let (Some(ts), Some(open)) = (ev.ts, s.open_at) else {
        return;
    };
    if ev.offline {
        if ts > Timestamp::after(open, skew) {
            ctx.report_at(
                &OFFLINE_FLAG_WHILE_ONLINE,
                "/offline".to_owned(),
                format!(
                    "TransactionEvent {} of transaction {} is flagged offline, but it is timestamped {ts}, {:.0} s after the connection opened ({open})",
                    ev.seq,
                    ev.id,
                    ts.secs_since(open)
                ),
            );
        }
    } else if let Some(closed) = s.outage_from
        && ts > Timestamp::after(closed, skew)
        && ts < Timestamp::before(open, skew)
    {
        ctx.report(
            &OFFLINE_FLAG_MISSING,
            format!(
                "TransactionEvent {} of transaction {} is timestamped {ts}, while the station was disconnected ({closed} to {open}), but has no offline: true",
                ev.seq, ev.id
            ),
        );
    }
}
