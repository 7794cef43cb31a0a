//! One TransactionEvent: retransmissions, its content (Started/Ended members, meter contexts,
//! trigger reasons), the offline flag against the connection, and the remote start/stop it
//! answers.

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
    let s = &mut st.tx2;

    // A retransmission of an event that was not acknowledged is the same event again.
    if let Some(pos) = s.tx_pos(ev.id) {
        let tx = &mut s.txs[pos];
        if let Some(e) = tx.unacked(ev) {
            e.delivery = Delivery::Pending;
            tx.last_at = now;
            return;
        }
    }

    check_content(ctx, ev, call.payload);
    check_offline(s, ctx, ev, tol.clock_skew_us);

    let pos = match s.tx_pos(ev.id) {
        Some(pos) => follow(s, ctx, pos, ev, boot_at),
        None => adopt(s, ctx, ev, now, tol.clock_skew_us, boot_at),
    };
    let Some(pos) = pos else {
        return;
    };
    let s = &mut st.tx2;
    let tx = &mut s.txs[pos];
    tx.last_at = now;
    tx.charged |= str_of(ev.info, "chargingState") == Some("Charging");
    tx.phases_reported |= call.payload.get("numberOfPhasesUsed").is_some();
    push_capped(
        &mut tx.sent,
        Sent {
            seq: ev.seq,
            kind: ev.kind,
            delivery: Delivery::Pending,
        },
        MAX_SENT,
    );

    if ev.kind == EventType::Ended {
        tx.ended = Some(ev.seq);
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
            if span > i64::from(tx.seen) && !tx.gap_reported {
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
        && st.status2.is_available(evse, ev.connector)
    {
        st.tx2.watches.arm(
            Timestamp::after(now, tol.followup_window_us),
            PlugWatch {
                call: CallRef::of_call(ctx, call),
                evse,
                connector: ev.connector,
            },
        );
    }

    // Connections seen: the observation did not start mid-life, past a request it missed.
    if st.station.connections_seen > 0 {
        unasked_remote_trigger(&st.tx2, ctx, ev);
    }
    remote_followups(&mut st.tx2, ctx, ev, tol.clock_skew_us);
}

/// RemoteStart / RemoteStop as the trigger of an event no request of the CSMS explains.
pub(super) fn unasked_remote_trigger(s: &State, ctx: &mut Ctx<'_>, ev: &Event<'_>) {
    if ev.offline {
        return;
    }
    let unasked = match ev.trigger {
        "RemoteStart" => !s.remote_start_asked && s.starts_in_flight.is_empty(),
        "RemoteStop" => {
            let h = id_hash(ev.id);
            !s.remote_stop_asked.contains(&h) && !s.stops_in_flight.contains(&h)
        }
        _ => false,
    };
    if unasked {
        let request = if ev.trigger == "RemoteStart" {
            "no RequestStartTransaction was accepted".to_owned()
        } else {
            "no RequestStopTransaction for it was accepted".to_owned()
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
pub(super) fn check_content(ctx: &mut Ctx<'_>, ev: &Event<'_>, p: &Value) {
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

/// Matches the event with accepted RequestStartTransaction / RequestStopTransaction.
pub(super) fn remote_followups(s: &mut State, ctx: &mut Ctx<'_>, ev: &Event<'_>, skew: i64) {
    let rsid = int_of(ev.info, "remoteStartId");
    if let Some(r) = rsid
        && !s.remote_start_ids_seen.iter().any(|(x, _)| *x == r)
    {
        push_capped(&mut s.remote_start_ids_seen, (r, ctx.now()), MAX_REMOTE);
    }
    if !s.remote_starts.is_empty() {
        if let Some(r) = rsid {
            s.remote_starts.clear(|x| x.remote_start_id == r);
        }
        // The transaction the answer named must carry the remoteStartId in its next event.
        if let Some(r) = s.remote_starts.take(|x| x.tx.as_deref() == Some(ev.id)) {
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
            && let Some(r) = s.remote_starts.take(|_| true)
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
    if !s.remote_stops.iter().any(|r| &*r.tx == ev.id) {
        return;
    }
    let remote = ev.trigger == "RemoteStop";
    if ev.kind != EventType::Ended {
        if remote {
            s.remote_stops.take(|r| &*r.tx == ev.id);
        }
        return;
    }
    let Some(r) = s.remote_stops.take(|r| &*r.tx == ev.id) else {
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
