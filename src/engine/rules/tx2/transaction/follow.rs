//! A TransactionEvent of a transaction already known (seqNo, timestamps, EVSE, Ended) and one
//! seen for the first time (adopted, or reported as reused or not started).

use super::*;

/// A further event of a known transaction. Returns where the transaction is now kept, or
/// `None` when the event is not followed.
pub(super) fn follow(
    s: &mut State,
    ctx: &mut Ctx<'_>,
    pos: usize,
    ev: &Event<'_>,
    boot_at: Option<Timestamp>,
) -> Option<usize> {
    let tx = &s.txs[pos];
    if tx.ended_acked() {
        if ev.kind == EventType::Started {
            report_reused(ctx, ev);
            let id = tx.id.clone();
            s.txs.remove(pos);
            s.remember_ended(&id);
            // Follow the new transaction from here.
            return Some(adopt_started(s, ctx, ev, boot_at));
        }
        ctx.report(
            &EVENT_AFTER_ENDED,
            format!(
                "{:?} event (seqNo {}) for transaction {}, whose Ended (seqNo {}) was already acknowledged",
                ev.kind,
                ev.seq,
                ev.id,
                tx.ended.unwrap_or_default()
            ),
        );
        return None;
    }
    if ev.kind == EventType::Started && tx.started.is_some() {
        ctx.report(
            &DUPLICATE_STARTED,
            format!(
                "second Started for transaction {} (seqNo {}; its Started had seqNo {})",
                ev.id,
                ev.seq,
                tx.started.unwrap_or_default()
            ),
        );
    }
    let tx = &mut s.txs[pos];
    let mut new_seq = true;
    if let Some(last) = tx.last_seq {
        if ev.seq <= last {
            new_seq = false;
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
                tx.gap_reported = true;
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
            if let (Some(ts), Some(prev)) = (ev.ts, tx.last_ts)
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
    if new_seq {
        tx.last_seq = Some(ev.seq);
        tx.seen = tx.seen.saturating_add(1);
        if ev.ts.is_some() {
            tx.last_ts = ev.ts;
        }
    }
    if ev.kind == EventType::Started && tx.started.is_none() {
        tx.started = Some(ev.seq);
    }
    if let Some(evse) = ev.evse {
        match tx.evse {
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
            None => {
                check_evse_free(s, ctx, ev.id, evse, boot_at);
                s.txs[pos].evse = Some(evse);
            }
        }
        let tx = &mut s.txs[pos];
        if let Some(c) = ev.connector {
            match tx.connector {
                Some(old) if old != c && tx.evse == Some(evse) => ctx.report(
                    &EVSE_CHANGED,
                    format!(
                        "TransactionEvent {} of transaction {} names connector {c} of EVSE {evse}; earlier events named connector {old}",
                        ev.seq, ev.id
                    ),
                ),
                _ => tx.connector = Some(c),
            }
        }
    }
    Some(pos)
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

impl Tx {
    /// A transaction followed from `ev`, its first event seen (`started`: it is its Started).
    fn first_seen(ev: &Event<'_>, started: bool, now: Timestamp) -> Tx {
        Tx {
            id: Box::from(ev.id),
            evse: ev.evse,
            connector: ev.connector,
            started: started.then_some(ev.seq),
            last_seq: Some(ev.seq),
            last_ts: ev.ts,
            last_at: now,
            seen: 1,
            gap_reported: false,
            ended: None,
            sent: Vec::new(),
            charged: false,
            phases_reported: false,
        }
    }
}

/// The first event of a transaction the trace has not followed yet.
pub(super) fn adopt(
    s: &mut State,
    ctx: &mut Ctx<'_>,
    ev: &Event<'_>,
    now: Timestamp,
    skew: i64,
    boot_at: Option<Timestamp>,
) -> Option<usize> {
    if s.ended_before(ev.id) {
        if ev.kind == EventType::Started {
            report_reused(ctx, ev);
        } else {
            ctx.report(
                &EVENT_AFTER_ENDED,
                format!(
                    "{:?} event (seqNo {}) for transaction {}, which already ended",
                    ev.kind, ev.seq, ev.id
                ),
            );
            return None;
        }
    }
    if ev.kind == EventType::Started {
        return Some(adopt_started(s, ctx, ev, boot_at));
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
        check_evse_free(s, ctx, ev.id, evse, boot_at);
    }
    Some(s.add_tx(Tx::first_seen(ev, false, now)))
}

/// Starts following a transaction at its Started; returns where it is kept.
pub(super) fn adopt_started(
    s: &mut State,
    ctx: &mut Ctx<'_>,
    ev: &Event<'_>,
    boot_at: Option<Timestamp>,
) -> usize {
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
        check_evse_free(s, ctx, ev.id, evse, boot_at);
    }
    s.add_tx(Tx::first_seen(ev, true, ctx.now()))
}

/// Reports another transaction still open on `evse`.
pub(super) fn check_evse_free(
    s: &State,
    ctx: &mut Ctx<'_>,
    id: &str,
    evse: i64,
    boot_at: Option<Timestamp>,
) {
    let Some(other) = s
        .txs
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
