//! A TransactionEvent of a transaction already followed (seqNo, timestamps, EVSE) and one
//! seen for the first time (adopted, or reported as reused or not started), against the
//! transaction as the station's model had it before the event.

use super::*;

/// Transactions remembered as reported by tx2.seqno-gap (those the model forgot go first).
const MAX_GAPS: usize = 64;

/// A further event of a followed transaction, which was `before` it.
pub(super) fn follow(
    txs: &v2::Txs,
    s: &mut State,
    ctx: &mut Ctx<'_>,
    before: v2::Before,
    ev: &Event<'_>,
    boot_at: Option<Timestamp>,
) {
    if ev.kind == EventType::Started
        && let Some(started) = before.started
    {
        ctx.report(
            &DUPLICATE_STARTED,
            format!(
                "second Started for transaction {} (seqNo {}; its Started had seqNo {started})",
                ev.id, ev.seq
            ),
        );
    }
    if let Some(last) = before.last_seq {
        if ev.seq <= last {
            ctx.report_at(
                &SEQNO_NOT_INCREASING,
                "/seqNo".to_owned(),
                format!(
                    "TransactionEvent of transaction {} has seqNo {}, not above the previous event's {last}",
                    ev.id, ev.seq
                ),
            );
        } else {
            if ev.seq > last.saturating_add(1) && !ev.offline {
                if let Some(tx) = txs.get(ev.id)
                    && !s.gap_reported.contains(&tx.serial)
                {
                    if s.gap_reported.len() >= MAX_GAPS {
                        s.gap_reported.retain(|g| txs.has_serial(*g));
                    }
                    push_capped(&mut s.gap_reported, tx.serial, MAX_GAPS);
                }
                ctx.report_at(
                    &SEQNO_GAP,
                    "/seqNo".to_owned(),
                    format!(
                        "TransactionEvent of transaction {} has seqNo {} after {last}; {} event(s) are missing and this one is not flagged offline",
                        ev.id,
                        ev.seq,
                        ev.seq - last - 1
                    ),
                );
            }
            if let (Some(ts), Some(prev)) = (ev.ts, before.last_ts)
                && ts < prev
            {
                ctx.report(
                    &TIMESTAMP_DECREASING,
                    format!(
                        "TransactionEvent {} of transaction {} is timestamped {ts}, before the previous event of the transaction ({prev})",
                        ev.seq, ev.id
                    ),
                );
            }
        }
    }
    let Some(evse) = ev.evse else {
        return;
    };
    match before.evse {
        Some(old) if old != evse => {
            ctx.report(
                &EVSE_CHANGED,
                format!(
                    "TransactionEvent {} of transaction {} names EVSE {evse}; earlier events named EVSE {old}",
                    ev.seq, ev.id
                ),
            );
        }
        Some(_) => {}
        None => check_evse_free(txs, ctx, ev.id, evse, boot_at),
    }
    // The EVSE the transaction runs on now (the first one named).
    let runs_on = before.evse.unwrap_or(evse);
    if let (Some(c), Some(old)) = (ev.connector, before.connector)
        && old != c
        && runs_on == evse
    {
        ctx.report(
            &EVSE_CHANGED,
            format!(
                "TransactionEvent {} of transaction {} names connector {c} of EVSE {evse}; earlier events named connector {old}",
                ev.seq, ev.id
            ),
        );
    }
}

fn report_reused(ctx: &mut Ctx<'_>, ev: &Event<'_>) {
    ctx.report(
        &TRANSACTION_ID_REUSED,
        format!(
            "Started for transaction {}, an id this station already used for a transaction that ended",
            ev.id
        ),
    );
}

/// The first event of a transaction the trace had not followed: its Started (`started`;
/// `reused` when its id was that of a transaction that ended), or a later one.
pub(super) fn adopt(
    txs: &v2::Txs,
    ctx: &mut Ctx<'_>,
    ev: &Event<'_>,
    started: bool,
    reused: bool,
    skew: i64,
    boot_at: Option<Timestamp>,
) {
    if started {
        if reused {
            report_reused(ctx, ev);
        }
        if ev.seq != 0 {
            ctx.report_at(
                &SEQNO_NOT_RESET,
                "/seqNo".to_owned(),
                format!(
                    "Started of transaction {} has seqNo {}; starting each transaction at 0 is recommended",
                    ev.id, ev.seq
                ),
            );
        }
        if let Some(evse) = ev.evse {
            check_evse_free(txs, ctx, ev.id, evse, boot_at);
        }
        return;
    }
    // Not Started: was it ever seen starting, or may it predate the trace?
    let interrupted = ev.kind == EventType::Ended
        && (matches!(
            str_of(ev.info, "stoppedReason"),
            Some("PowerLoss" | "Reboot" | "ImmediateReset")
        ) || matches!(ev.trigger, "ResetCommand" | "AbnormalCondition"));
    let known_since_boot =
        boot_at.is_some_and(|b| ev.ts.is_none_or(|t| t >= Timestamp::before(b, skew)));
    let severity = if known_since_boot && !interrupted {
        Severity::Error
    } else {
        Severity::Info
    };
    let why = if severity == Severity::Error {
        "; the station's boot was seen, so its Started should have been too"
    } else {
        " (it may have started before the trace)"
    };
    ctx.report_as(
        &FIRST_EVENT_NOT_STARTED,
        severity,
        format!(
            "first TransactionEvent seen for transaction {} is {:?} (seqNo {}), not Started{why}",
            ev.id, ev.kind, ev.seq
        ),
    );
    if let Some(evse) = ev.evse {
        check_evse_free(txs, ctx, ev.id, evse, boot_at);
    }
}

/// Reports another transaction still open on `evse`.
pub(super) fn check_evse_free(
    txs: &v2::Txs,
    ctx: &mut Ctx<'_>,
    id: &str,
    evse: i64,
    boot_at: Option<Timestamp>,
) {
    let Some(other) = txs
        .iter()
        .rev()
        .find(|t| &*t.id != id && t.is_open() && t.evse == Some(evse))
    else {
        return;
    };
    let stale = other.started.is_none() || boot_at.is_some_and(|b| other.last_at < b);
    let msg = format!(
        "transaction {id} runs on EVSE {evse}, where transaction {} has not ended{}",
        other.id,
        if stale {
            " (that one was adopted mid-life or last heard of before the latest boot: its Ended may have been lost)"
        } else {
            ""
        }
    );
    if stale {
        ctx.report_as(&SECOND_TRANSACTION_ON_EVSE, Severity::Warning, msg);
    } else {
        ctx.report(&SECOND_TRANSACTION_ON_EVSE, msg);
    }
}
