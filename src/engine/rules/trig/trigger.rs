//! `trig.*`: TriggerMessage (and the 1.6 security white paper's ExtendedTriggerMessage).
//! The requests, their answers and the charger CALLs that came for them are station facts
//! ([`Triggers`]: which message answers which request is the protocol's table, kept there).
//! This file follows each request with a deadline of its own, from its settings: until its
//! answer (twice `call_timeout` and `followup_window` at most), and once answered until
//! `followup_window` passed; it judges what came meanwhile (sent before the answer, after
//! a refusal, TransactionEvent reason, MeterValues context) and reports an accepted request
//! its message did not follow. [`followed`] gives other families how long a request is
//! followed, for [`Triggers::awaits`].
//!
//! This file does not judge the content of triggered firmware, log or certificate messages
//! (`fw/firmware.rs`, `sec/security.rs` do), nor what a triggered BootNotification means
//! (`seq/boot.rs`).

use super::{
    ACCEPTED_NOT_SENT, CONNECTOR_ZERO, MESSAGE_BEFORE_RESPONSE, METER_VALUES_WRONG_CONTEXT,
    NOT_IMPLEMENTED_FOR_STANDARD, REJECTED_BUT_SENT, STATUS_WITHOUT_CONNECTOR,
    TRANSACTION_EVENT_WRONG_REASON,
};
use crate::wire::doc::Json;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Reply};
use crate::engine::rules::{ALL, Rule};
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{Deadlines, Followed, TriggerRequest, TriggerStatus, Triggers, Wake};
use crate::engine::support::{
    CallRef, MsgId, arr_of, int_of, report_not_followed, status_of, str_of,
};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// Which deadline a request is followed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sent, not answered yet: until it is no longer awaited ([`stale_us`] after it was sent).
    Sent,
    /// Accepted: its message is due within the window.
    Accepted,
    /// Rejected or NotImplemented: a message within the window is reported.
    Refused,
}

/// A message that came for an accepted trigger but does not answer it properly.
#[derive(Debug)]
struct Candidate {
    call: CallRef,
    rule: &'static Rule,
    message: String,
}

/// One request followed (found in the station's [`Triggers`] by its CALL's line and id).
#[derive(Debug)]
struct Watch {
    line: u64,
    id: MsgId,
    phase: Phase,
    candidate: Option<Candidate>,
    /// A message answered it properly (kept only for a request answered once per
    /// connector, EVSE or transaction, which stays followed until its window ends).
    satisfied: bool,
}

impl Watch {
    fn follows(&self, line: u64, id: &str) -> bool {
        self.line == line && *self.id == *id
    }
}

/// How long an unanswered trigger is followed: twice the call timeout and the window.
fn stale_us(ctx: &Ctx<'_>) -> i64 {
    let tol = &ctx.config().tol;
    tol.call_timeout_us
        .saturating_add(tol.followup_window_us)
        .saturating_mul(2)
}

/// How far back a request is followed at the current event: unanswered, [`stale_us`] after
/// it was sent; accepted, `followup_window` after its answer. For [`Triggers::awaits`].
pub(crate) fn followed(ctx: &Ctx<'_>) -> Followed {
    let now = ctx.now().micros();
    Followed {
        sent_since: Timestamp::from_micros(now.saturating_sub(stale_us(ctx))),
        accepted_since: Timestamp::from_micros(
            now.saturating_sub(ctx.config().tol.followup_window_us),
        ),
    }
}

/// The request the current charger CALL came for (the station model says which), when it
/// was not refused and was sent at most `call_timeout` plus `followup_window` before: how
/// fw counts a status and sec a SignCertificate as triggered.
pub(crate) fn came_for<'s>(st: &'s ProtoState, ctx: &Ctx<'_>) -> Option<&'s TriggerRequest> {
    let r = st.station.triggers.came()?;
    let tol = &ctx.config().tol;
    let until = tol.call_timeout_us.saturating_add(tol.followup_window_us);
    (r.answer.is_none_or(|a| a.status == TriggerStatus::Accepted)
        && r.call.at.after(until) >= ctx.now())
    .then_some(r)
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The requests followed, each due when its phase ends; a request that changes phase
    /// is taken out and armed again with its new due time.
    watches: Deadlines<Watch, MAX_WATCHES>,
}

const MAX_WATCHES: usize = 16;

/// The hooks of this family (see [`Family`]).
pub(crate) struct Trig;

impl Family for Trig {
    const VERSIONS: &'static [Version] = ALL;
    const REPLIES: Listen = Listen::Only(&["TriggerMessage", "ExtendedTriggerMessage"]);

    fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
        // An unanswered trigger will never be answered on this connection.
        st.trig.watches.clear(|w| w.phase == Phase::Sent);
    }

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        wake.at(st.trig.watches.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        let triggers = &st.station.triggers;
        for (_, w) in st.trig.watches.expired(now) {
            settle(ctx, triggers, w);
        }
        if end {
            // The observation ends: an accepted trigger answered only by flawed messages
            // is judged by what came.
            while let Some(w) = st
                .trig
                .watches
                .take(|w| w.phase == Phase::Accepted && w.candidate.is_some() && !w.satisfied)
            {
                settle(ctx, triggers, w);
            }
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        match call.from {
            Side::Csms if matches!(call.action, "TriggerMessage" | "ExtendedTriggerMessage") => {
                on_trigger(st, ctx, call);
            }
            Side::Charger if !call.send => on_message(st, ctx, call),
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        if reply.caller != Side::Csms
            || !matches!(reply.action, "TriggerMessage" | "ExtendedTriggerMessage")
        {
            return;
        }
        if status_of(reply) == Some("NotImplemented") && reply.request_valid {
            ctx.report(
                &NOT_IMPLEMENTED_FOR_STANDARD,
                format!(
                    "{} for {} answered NotImplemented",
                    reply.action,
                    str_of(reply.request, "requestedMessage").unwrap_or("?")
                ),
            );
        }
        let Some(r) = st.station.triggers.current() else {
            return;
        };
        let Some(mut w) = st
            .trig
            .watches
            .take(|w| w.follows(r.call.line, &r.call.id) && w.phase == Phase::Sent)
        else {
            return;
        };
        match r.answer.map(|a| a.status) {
            Some(TriggerStatus::Accepted) if !r.early || r.multi() => {
                w.phase = Phase::Accepted;
                w.satisfied = r.early;
            }
            Some(TriggerStatus::Rejected | TriggerStatus::NotImplemented) => {
                w.phase = Phase::Refused;
            }
            // Accepted after its message came, refused with an error, answered otherwise:
            // nothing more to wait for.
            _ => return,
        }
        let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
        st.trig.watches.arm(due, w);
    }
}

/// A request whose phase ended: an accepted one that no proper message answered is
/// reported (with the flawed message that came, if one did).
fn settle(ctx: &mut Ctx<'_>, triggers: &Triggers, w: Watch) {
    if w.phase != Phase::Accepted || w.satisfied {
        return;
    }
    if let Some(c) = w.candidate {
        ctx.report_about(c.rule, c.call.about(), c.message);
        return;
    }
    // A request no longer kept (a flood of triggers) is not judged.
    let Some(r) = triggers.get(w.line, &w.id) else {
        return;
    };
    report_not_followed(
        ctx,
        &ACCEPTED_NOT_SENT,
        r.call.about(),
        &format!(
            "{} for {} was accepted but no {}",
            r.call.action,
            r.requested,
            r.expects.join(" or ")
        ),
    );
}

fn on_trigger(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let Some(requested) = str_of(p, "requestedMessage") else {
        return;
    };
    if st.is_v16() {
        if let Some(c) = int_of(p, "connectorId")
            && c <= 0
        {
            ctx.report(
                &CONNECTOR_ZERO,
                format!(
                    "{} for {requested} names connectorId {c}; it must be > 0 (leave it out for the whole charger)",
                    call.action
                ),
            );
        }
    } else if requested == "StatusNotification" {
        match p.get("evse") {
            None => ctx.report(
                &STATUS_WITHOUT_CONNECTOR,
                "TriggerMessage for StatusNotification without evse; the CSMS shall name the EVSE and connector",
            ),
            Some(e) if e.get("connectorId").is_none() => ctx.report_as(
                &STATUS_WITHOUT_CONNECTOR,
                Severity::Warning,
                "TriggerMessage for StatusNotification without evse.connectorId; StatusNotification is only sent per connector",
            ),
            Some(_) => {}
        }
    }
    // Followed when the station model keeps it (its message is one the protocol names).
    let Some(r) = st.station.triggers.current() else {
        return;
    };
    let w = Watch {
        line: r.call.line,
        id: r.call.id.clone(),
        phase: Phase::Sent,
        candidate: None,
        satisfied: false,
    };
    st.trig.watches.arm(r.call.at.after(stale_us(ctx)), w);
}

/// Why a message of the requested kind does not answer an accepted trigger properly (the
/// rule and what to say), or `None` when it does.
fn flaw(action: &str, p: Json<'_>) -> Option<(&'static Rule, String)> {
    match action {
        "TransactionEvent" => {
            let reason = str_of(p, "triggerReason").unwrap_or("(none)");
            if reason == "Trigger" {
                return None;
            }
            Some((
                &TRANSACTION_EVENT_WRONG_REASON,
                format!(
                    "the TransactionEvent after the accepted trigger has triggerReason {reason}, and none with Trigger came; a triggered event must say Trigger"
                ),
            ))
        }
        "MeterValues" => {
            let contexts: Vec<&str> = arr_of(p, "meterValue")
                .iter()
                .flat_map(|mv| arr_of(mv, "sampledValue"))
                .filter_map(|sv| str_of(sv, "context"))
                .filter(|c| *c != "Trigger")
                .collect();
            let first = contexts.first()?;
            Some((
                &METER_VALUES_WRONG_CONTEXT,
                format!(
                    "the MeterValues after the accepted trigger carry context {first}, and none with context Trigger came; triggered values should say Trigger"
                ),
            ))
        }
        _ => None,
    }
}

fn on_message(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    // The request the station model says this message came for, while followed.
    let Some(r) = st.station.triggers.came() else {
        return;
    };
    let Some(mut w) = st.trig.watches.take(|w| w.follows(r.call.line, &r.call.id)) else {
        return;
    };
    let due = match (w.phase, r.answer) {
        (Phase::Sent, _) => {
            ctx.report(
                &MESSAGE_BEFORE_RESPONSE,
                format!(
                    "{} sent while the {} for it (id `{}`) is not answered yet; the answer must come first",
                    call.action, r.call.action, r.call.id
                ),
            );
            r.call.at.after(stale_us(ctx))
        }
        (Phase::Refused, _) => {
            ctx.report(
                &REJECTED_BUT_SENT,
                format!(
                    "{} sent although the {} for it (id `{}`) was refused",
                    call.action, r.call.action, r.call.id
                ),
            );
            // Reported: nothing more to wait for.
            return;
        }
        (Phase::Accepted, None) => return,
        (Phase::Accepted, Some(answer)) => {
            if !w.satisfied {
                if call.action == "TransactionEvent"
                    && call.valid
                    && str_of(call.payload, "triggerReason") == Some("Trigger")
                    && call
                        .payload
                        .get("transactionInfo")
                        .and_then(|ti| ti.get("chargingState"))
                        .is_none()
                {
                    ctx.report(
                        &TRANSACTION_EVENT_WRONG_REASON,
                        "triggered TransactionEvent without transactionInfo.chargingState; it must carry the charging state",
                    );
                }
                match flaw(call.action, call.payload) {
                    Some((rule, message)) if call.valid => {
                        if w.candidate.is_none() {
                            w.candidate = Some(Candidate {
                                call: CallRef::of_call(ctx, call),
                                rule,
                                message,
                            });
                        }
                    }
                    _ if r.multi() => {
                        w.satisfied = true;
                        w.candidate = None;
                    }
                    // Answered properly: nothing more to wait for.
                    _ => return,
                }
            }
            answer.at.after(ctx.config().tol.followup_window_us)
        }
    };
    st.trig.watches.arm(due, w);
}

#[cfg(test)]
mod tests;
