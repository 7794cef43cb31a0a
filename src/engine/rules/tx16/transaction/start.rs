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
    let start_ts = ts_of(p, "timestamp");
    let meter_start = int_of(p, "meterStart");
    if let Some(open) = st.station.transactions.v16().open_on(connector) {
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
    // Reservations (the station model's, accepted): the one named is used; an unnamed one
    // that fits is an omission. The model consumed one this start names, or whose token it
    // carries on its target, before this family runs: that one is judged too.
    if int_of(p, "reservationId").is_none() {
        let now = ctx.now();
        let model = &st.station.reservations;
        let consumed = model.consumed_now();
        let s = &mut st.tx16;
        let parent = s.parent_of(tag);
        let live = |r: &&Reservation| {
            (r.state == RState::Active || consumed == Some(r.serial))
                && !s.used.as_ref().is_some_and(|u| u.contains(&r.serial))
                && (r.target == Some(connector) || r.target == Some(0))
                && r.expiry
                    .is_none_or(|e| now <= e && start_ts.is_none_or(|t| t <= e))
        };
        let exact = model.iter().filter(live).find(|r| same_tag(&r.token, tag));
        let by_parent = exact.is_none().then(|| {
            model
                .iter()
                .filter(live)
                .find(|r| matches!((&r.group, parent), (Some(a), Some(b)) if same_tag(a, b)))
        });
        if let Some(r) = exact {
            let (id, target, serial) = (r.id, r.target.unwrap_or(0), r.serial);
            push_capped(s.used.get_or_insert_default(), serial, MAX_USED);
            ctx.report(
                &RESERVATION_ID_MISSING,
                format!(
                    "StartTransaction for idTag {tag} on connector {connector} uses reservation {id} (connector {target}, same idTag) but carries no reservationId"
                ),
            );
        } else if let Some(Some(r)) = by_parent {
            let (id, target, serial) = (r.id, r.target.unwrap_or(0), r.serial);
            push_capped(s.used.get_or_insert_default(), serial, MAX_USED);
            ctx.report_as(
                &RESERVATION_ID_MISSING,
                Severity::Warning,
                format!(
                    "StartTransaction for idTag {tag} on connector {connector} may use reservation {id} (connector {target}, same parent idTag) but carries no reservationId"
                ),
            );
        }
    }
}

/// Waits for the answer of the StartTransaction the model just followed (the current
/// message): due once the call timeout passed. A resend under the same message id waits
/// anew, unless its start was reported already.
pub(super) fn wait_for_answer(st: &mut ProtoState, ctx: &Ctx<'_>) {
    let now = ctx.now();
    let Some(start) = st
        .station
        .transactions
        .v16()
        .starts()
        .iter()
        .rev()
        .find(|x| x.call.at == now && x.call.line == ctx.line())
    else {
        return;
    };
    let s = &mut st.tx16;
    let waiting = s.unanswered.take(|x| *x == start.serial).is_some();
    if waiting || start.serial > s.last_start {
        s.last_start = s.last_start.max(start.serial);
        let due = now.after(ctx.config().tol.call_timeout_us);
        s.unanswered.arm(due, start.serial);
    }
}

pub(super) fn start_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let s = &mut st.tx16;
    let starts = st.station.transactions.v16().starts();
    s.unanswered
        .clear(|serial| !starts.iter().any(|x| x.serial == *serial));
    let (id, reused) = match st.station.transactions.v16().change {
        v16::Change::StartRefused { start } => {
            // Still waited for: not reported yet (a late CALLERROR after the timeout is not
            // reported twice).
            if let Outcome::Error { code } = reply.outcome
                && s.unanswered.take(|x| *x == start).is_some()
            {
                ctx.report(
                    &START_NOT_ANSWERED,
                    format!("StartTransaction answered with CALLERROR {code} instead of a StartTransaction.conf; the charger cannot learn its transaction id"),
                );
            }
            return;
        }
        v16::Change::StartResent { id } => (id, None),
        v16::Change::Opened { id, reused } => (id, Some(reused)),
        _ => return,
    };
    if id <= 0 {
        ctx.report(
            &TRANSACTION_ID_NONPOSITIVE,
            format!("StartTransaction answered with transactionId {id}; positive ids are recommended (and -1 means \"never acknowledged\" to chargers)"),
        );
    }
    // An identical resend answered with the same id is the CSMS being idempotent.
    let Some(reused) = reused else {
        return;
    };
    if let Some(open) = reused {
        ctx.report(
            &TRANSACTION_ID_REUSED,
            format!(
                "StartTransaction answered with transactionId {id}, the id of {} transaction of this charger",
                if open { "a still open" } else { "an earlier" }
            ),
        );
    }
    let Some(result) = reply.result() else {
        return;
    };
    let info = result.get("idTagInfo");
    let status = info.and_then(|i| str_of(i, "status"));
    let parent = info.and_then(|i| str_of(i, "parentIdTag"));
    if let (Some(tag), Some(parent)) = (str_of(reply.request, "idTag"), parent) {
        s.learn_parent(tag, parent);
    }
    let deauth = status.filter(|st| *st != "Accepted");
    let config = &st.station.config;
    if let (Some(status), Some(true)) = (deauth, config.key_bool("StopTransactionOnInvalidId"))
        && let Some(start) = st
            .station
            .transactions
            .v16()
            .get(id)
            .and_then(|t| t.start.clone())
    {
        let may_go_on = config
            .key_int("MaxEnergyOnInvalidId")
            .is_some_and(|e| e > 0);
        let due = if may_go_on {
            NEVER
        } else {
            Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us)
        };
        s.deauths.arm(
            due,
            Deauth {
                tx: id,
                start,
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
    let parent = id_tag_info(reply, "parentIdTag");
    let s = &mut st.tx16;
    if let Some(parent) = parent {
        s.learn_parent(tag, parent);
        let txs = &st.station.transactions.v16();
        for t in txs.iter() {
            if t.is_open() && t.parent.as_deref().is_some_and(|x| same_tag(x, parent)) {
                per_tx(&mut s.per_tx, txs, t).reauth_at = Some(reply.call_at);
            }
        }
    }
}
