//! StartTransaction and its answer, and the Authorize answers that decide whether a start may
//! follow.

use super::*;

pub(super) fn start_transaction(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let (Some(connector), Some(tag)) = (int_of(p, "connectorId"), str_of(p, "idTag")) else {
        return;
    };
    if connector <= 0 {
        ctx.report(
            &START_CONNECTOR_ZERO,
            format!("StartTransaction for connectorId {connector}; a transaction runs on a connector numbered from 1"),
        );
    }
    let s = &mut st.tx16;
    let start_ts = ts_of(p, "timestamp");
    let meter_start = int_of(p, "meterStart");
    if let Some(open) = s
        .txs
        .iter()
        .rev()
        .find(|t| t.is_open() && t.connector == Some(connector))
    {
        let resend = open.start_ts.is_some()
            && open.start_ts == start_ts
            && open.meter_start == meter_start
            && open.id_tag.as_deref().is_some_and(|t| same_tag(t, tag));
        if !resend {
            ctx.report(
                &START_ON_BUSY_CONNECTOR,
                format!(
                    "StartTransaction on connector {connector}, where transaction {} is still open (no StopTransaction was sent for it)",
                    open.id
                ),
            );
        }
    }

    // Reservations: the one named is used; an unnamed one that fits is an omission.
    match int_of(p, "reservationId") {
        Some(rid) => s.reservations.retain(|r| r.id != rid),
        None => {
            let now = ctx.now();
            let parent = s.parent_of(tag);
            let live = |r: &Reservation| {
                (r.connector == connector || r.connector == 0)
                    && r.expiry
                        .is_none_or(|e| now <= e && start_ts.is_none_or(|t| t <= e))
            };
            let exact = s
                .reservations
                .iter()
                .position(|r| live(r) && same_tag(&r.id_tag, tag));
            let by_parent = exact.is_none().then(|| {
                s.reservations.iter().position(|r| {
                    live(r) && matches!((&r.parent, parent), (Some(a), Some(b)) if same_tag(a, b))
                })
            });
            if let Some(pos) = exact {
                let r = s.reservations.remove(pos);
                ctx.report(
                    &RESERVATION_ID_MISSING,
                    format!(
                        "StartTransaction for idTag {tag} on connector {connector} uses reservation {} (connector {}, same idTag) but carries no reservationId",
                        r.id, r.connector
                    ),
                );
            } else if let Some(Some(pos)) = by_parent {
                let r = s.reservations.remove(pos);
                ctx.report_as(
                    &RESERVATION_ID_MISSING,
                    Severity::Warning,
                    format!(
                        "StartTransaction for idTag {tag} on connector {connector} may use reservation {} (connector {}, same parent idTag) but carries no reservationId",
                        r.id, r.connector
                    ),
                );
            }
        }
    }

    // A remote start that this StartTransaction follows.
    s.remote_starts
        .clear(|r| same_tag(&r.id_tag, tag) && r.connector.is_none_or(|c| c == connector));
    push_capped(
        &mut s.recent_starts,
        (Box::from(tag), connector, ctx.now()),
        MAX_WATCHES,
    );

    s.starts.retain(|x| !(x.dead && x.connector == connector));
    if let Some(x) = s.starts.iter_mut().find(|x| *x.call.id == *call.id) {
        x.call = CallRef::of_call(ctx, call);
        x.connector = connector;
    } else {
        push_capped(
            &mut s.starts,
            Start {
                call: CallRef::of_call(ctx, call),
                connector,
                dead: false,
                reported: false,
            },
            MAX_STARTS,
        );
    }
}

pub(super) fn start_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let s = &mut st.tx16;
    let Some(pos) = s
        .starts
        .iter()
        .position(|x| *x.call.id == *reply.id && x.call.at == reply.call_at)
    else {
        return;
    };
    let start = match reply.outcome {
        Outcome::Error { code } => {
            let x = &mut s.starts[pos];
            x.dead = true;
            if !x.reported {
                x.reported = true;
                ctx.report(
                    &START_NOT_ANSWERED,
                    format!("StartTransaction answered with CALLERROR {code} instead of a StartTransaction.conf; the charger cannot learn its transaction id"),
                );
            }
            return;
        }
        Outcome::Result { .. } => s.starts.remove(pos),
    };
    let Some(result) = reply.result() else {
        return;
    };
    let Some(id) = int_of(result, "transactionId") else {
        return;
    };
    let p = reply.request;
    let tag = str_of(p, "idTag");
    let start_ts = ts_of(p, "timestamp");
    let meter_start = int_of(p, "meterStart");
    let info = result.get("idTagInfo");
    let status = info.and_then(|i| str_of(i, "status"));
    let parent = info.and_then(|i| str_of(i, "parentIdTag"));

    if id <= 0 {
        ctx.report(
            &TRANSACTION_ID_NONPOSITIVE,
            format!("StartTransaction answered with transactionId {id}; positive ids are recommended (and -1 means \"never acknowledged\" to chargers)"),
        );
    }
    // The same id for an identical resend is the CSMS being idempotent.
    let same = s.tx(id).is_some_and(|t| {
        t.connector == Some(start.connector)
            && t.start_ts.is_some()
            && t.start_ts == start_ts
            && t.meter_start == meter_start
    });
    if same {
        return;
    }
    let open = s.tx(id).is_some_and(|t| t.is_open());
    if open || s.used_ids.contains(&id) {
        ctx.report(
            &TRANSACTION_ID_REUSED,
            format!(
                "StartTransaction answered with transactionId {id}, the id of {} transaction of this charger",
                if open { "a still open" } else { "an earlier" }
            ),
        );
        s.txs.retain(|t| t.id != id);
    }
    push_capped(&mut s.used_ids, id, MAX_USED_IDS);
    if let (Some(tag), Some(parent)) = (tag, parent) {
        s.learn_parent(tag, parent);
    }
    let deauth = status.filter(|st| *st != "Accepted");
    let config = &st.station.config;
    let stop_on_invalid_id = config.key_bool("StopTransactionOnInvalidId");
    let max_energy_on_invalid_id = config.key_int("MaxEnergyOnInvalidId");
    let tx = s.add_tx(Tx::new(id));
    tx.connector = Some(start.connector);
    tx.id_tag = tag.map(Box::from);
    tx.parent = parent.map(Box::from);
    tx.meter_start = meter_start;
    tx.start_ts = start_ts;
    tx.last_ts = start_ts;
    tx.start = Some(start.call.clone());
    if let (Some(status), Some(true)) = (deauth, stop_on_invalid_id) {
        let may_go_on = max_energy_on_invalid_id.is_some_and(|e| e > 0);
        let due = if may_go_on {
            NEVER
        } else {
            Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us)
        };
        s.deauths.arm(
            due,
            Deauth {
                tx: id,
                start: start.call,
                status: Box::from(status),
                answered_at: ctx.now(),
            },
        );
    }
}

pub(super) fn authorize_answered(st: &mut ProtoState, reply: &Reply<'_>) {
    let Some(tag) = str_of(reply.request, "idTag") else {
        return;
    };
    let info = reply.result().and_then(|r| r.get("idTagInfo"));
    let status = info.and_then(|i| str_of(i, "status"));
    let parent = info.and_then(|i| str_of(i, "parentIdTag"));
    let s = &mut st.tx16;
    if let Some(parent) = parent {
        s.learn_parent(tag, parent);
        for t in &mut s.txs {
            if t.is_open() && t.parent.as_deref().is_some_and(|x| same_tag(x, parent)) {
                t.reauth_at = Some(reply.call_at);
            }
        }
    }
    if status.is_some_and(|x| x != "Accepted") {
        // A refused idTag ends the attempt of a remote start.
        s.remote_starts.clear(|r| same_tag(&r.id_tag, tag));
    }
}

// ---------------------------------------------------------------------------------------
// MeterValues.
