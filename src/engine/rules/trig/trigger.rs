//! `trig.*`: TriggerMessage (and the 1.6 security white paper's ExtendedTriggerMessage).
//! Each trigger the CSMS sends is remembered until its answer and, when accepted, until the
//! requested message came or `followup_window` passed; the message that answers it is
//! judged (TransactionEvent reason, MeterValues context). Other families ask this file
//! whether a message was triggered ([`awaits`], [`boot_trigger_accepted_since`]).
//!
//! Requested message -> expected charger CALL:
//!
//! ```text
//! BootNotification, Heartbeat, StatusNotification, MeterValues, TransactionEvent,
//! DiagnosticsStatusNotification, LogStatusNotification,
//! PublishFirmwareStatusNotification                       -> the CALL of that name
//! FirmwareStatusNotification                              -> FirmwareStatusNotification
//!                                                            (1.6: or SignedFirmwareStatusNotification)
//! Sign{ChargePoint,ChargingStation,V2G,V2G20,Combined}Certificate -> SignCertificate
//! CustomTrigger                                           -> (vendor-defined, not followed)
//! ```
//!
//! This file does not judge the content of triggered firmware, log or certificate messages
//! (`fw/firmware.rs`, `sec/security.rs` do), nor what a triggered BootNotification means (`seq/boot.rs`).

use super::{
    ACCEPTED_NOT_SENT, CONNECTOR_ZERO, MESSAGE_BEFORE_RESPONSE, METER_VALUES_WRONG_CONTEXT,
    NOT_IMPLEMENTED_FOR_STANDARD, REJECTED_BUT_SENT, STATUS_WITHOUT_CONNECTOR,
    TRANSACTION_EVENT_WRONG_REASON,
};
use crate::wire::doc::Json;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::rules::{ALL, Rule};
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{Deadlines, Wake};
use crate::engine::support::{CallRef, arr_of, int_of, status_of, str_of};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// Where a trigger is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sent, not answered yet.
    Sent,
    /// Accepted; the message is due by this time.
    Accepted(Timestamp),
    /// Rejected or NotImplemented; a message until this time is reported.
    Refused(Timestamp),
}

/// A message that came for an accepted trigger but does not answer it properly.
#[derive(Debug)]
struct Candidate {
    call: CallRef,
    rule: &'static Rule,
    message: String,
}

#[derive(Debug)]
struct Trigger {
    call: CallRef,
    requested: Box<str>,
    expects: &'static [&'static str],
    /// The 1.6 connector or the 2.x EVSE the trigger names.
    target: Option<i64>,
    phase: Phase,
    /// The message came before the answer.
    early: bool,
    candidate: Option<Candidate>,
    /// When it was sent: unanswered, it is forgotten some time later.
    sent_at: Timestamp,
    /// The trigger may be answered by several messages (one per connector, EVSE or
    /// transaction): once answered it stays open until its window ends, so the later ones
    /// count as asked for too.
    multi: bool,
    /// A message answered it properly (kept only when `multi`).
    satisfied: bool,
}

impl Trigger {
    /// When its phase ends: an answer is no longer awaited (`stale` after it was sent),
    /// the message was due, the refusal window is over.
    fn due(&self, stale: i64) -> Timestamp {
        match self.phase {
            Phase::Sent => self.sent_at.after(stale),
            Phase::Accepted(due) | Phase::Refused(due) => due,
        }
    }
}

/// How long an unanswered trigger is remembered: twice the call timeout and the window.
fn stale_us(ctx: &Ctx<'_>) -> i64 {
    let tol = &ctx.config().tol;
    tol.call_timeout_us
        .saturating_add(tol.followup_window_us)
        .saturating_mul(2)
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The triggers in their phases, each due when its phase ends ([`Trigger::due`]);
    /// a trigger that changes phase is taken out and armed again with its new due time.
    triggers: Deadlines<Trigger, MAX_TRIGGERS>,
    /// When a trigger for BootNotification was last accepted.
    boot_accepted_at: Option<Timestamp>,
}

const MAX_TRIGGERS: usize = 16;

/// The charger CALLs that answer a requested message.
fn expected(requested: &str, version: Option<Version>) -> &'static [&'static str] {
    match requested {
        "BootNotification" => &["BootNotification"],
        "Heartbeat" => &["Heartbeat"],
        "StatusNotification" => &["StatusNotification"],
        "MeterValues" => &["MeterValues"],
        "TransactionEvent" => &["TransactionEvent"],
        "DiagnosticsStatusNotification" => &["DiagnosticsStatusNotification"],
        "LogStatusNotification" => &["LogStatusNotification"],
        "PublishFirmwareStatusNotification" => &["PublishFirmwareStatusNotification"],
        "FirmwareStatusNotification" if version == Some(Version::V16) => &[
            "FirmwareStatusNotification",
            "SignedFirmwareStatusNotification",
        ],
        "FirmwareStatusNotification" => &["FirmwareStatusNotification"],
        "SignChargePointCertificate"
        | "SignChargingStationCertificate"
        | "SignV2GCertificate"
        | "SignV2G20Certificate"
        | "SignCombinedCertificate" => &["SignCertificate"],
        _ => &[],
    }
}

/// Whether a trigger for `action` was sent and not refused, and its message has not come
/// yet: the charger may send `action` now because the CSMS asked for it.
pub(crate) fn awaits(st: &ProtoState, action: &str) -> bool {
    st.trig
        .triggers
        .iter()
        .any(|t| !matches!(t.phase, Phase::Refused(_)) && t.expects.contains(&action))
}

/// Whether a trigger for BootNotification was accepted at or after `since`.
pub(crate) fn boot_trigger_accepted_since(st: &ProtoState, since: Timestamp) -> bool {
    st.trig.boot_accepted_at.is_some_and(|t| t >= since)
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Trig;

impl Family for Trig {
    const VERSIONS: &'static [Version] = ALL;
    const REPLIES: Listen = Listen::Only(&["TriggerMessage", "ExtendedTriggerMessage"]);

    fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
        // An unanswered trigger will never be answered on this connection.
        st.trig.triggers.clear(|t| t.phase == Phase::Sent);
    }

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        wake.at(st.trig.triggers.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        for (_, t) in st.trig.triggers.expired(now) {
            settle(ctx, t);
        }
        if end {
            // The observation ends: an accepted trigger answered only by flawed messages
            // is judged by what came.
            while let Some(t) = st.trig.triggers.take(|t| {
                matches!(t.phase, Phase::Accepted(_)) && t.candidate.is_some() && !t.satisfied
            }) {
                settle(ctx, t);
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
        let now = ctx.now();
        let window = ctx.config().tol.followup_window_us;
        let status = status_of(reply);
        if status == Some("Accepted")
            && str_of(reply.request, "requestedMessage") == Some("BootNotification")
        {
            st.trig.boot_accepted_at = Some(now);
        }
        if status == Some("NotImplemented") && reply.request_valid {
            ctx.report(
                &NOT_IMPLEMENTED_FOR_STANDARD,
                format!(
                    "{} for {} answered NotImplemented",
                    reply.action,
                    str_of(reply.request, "requestedMessage").unwrap_or("?")
                ),
            );
        }
        let Some(mut t) = st
            .trig
            .triggers
            .take(|t| *t.call.id == *reply.id && t.phase == Phase::Sent)
        else {
            return;
        };
        match (reply.outcome, status) {
            (Outcome::Result { .. }, Some("Accepted")) if !t.early || t.multi => {
                t.phase = Phase::Accepted(Timestamp::after(now, window));
                t.satisfied = t.early;
            }
            (Outcome::Result { .. }, Some("Rejected" | "NotImplemented")) => {
                t.phase = Phase::Refused(Timestamp::after(now, window));
            }
            // Accepted after its message came, refused with an error, answered otherwise:
            // nothing more to wait for.
            _ => return,
        }
        let stale = stale_us(ctx);
        st.trig.triggers.arm(t.due(stale), t);
    }
}

/// A trigger whose phase ended: an accepted one that no proper message answered is
/// reported (with the flawed message that came, if one did).
fn settle(ctx: &mut Ctx<'_>, t: Trigger) {
    if !matches!(t.phase, Phase::Accepted(_)) || t.satisfied {
        return;
    }
    match t.candidate {
        Some(c) => ctx.report_about(c.rule, c.call.about(), c.message),
        None => {
            let window = ctx.config().tol.followup_window_us;
            ctx.report_about(
                &ACCEPTED_NOT_SENT,
                t.call.about(),
                format!(
                    "{} for {} was accepted but no {} followed within {:.0} s",
                    t.call.action,
                    t.requested,
                    t.expects.join(" or "),
                    window as f64 / 1e6
                ),
            );
        }
    }
}

fn on_trigger(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let Some(requested) = str_of(p, "requestedMessage") else {
        return;
    };
    let v16 = st.is_v16();
    let target = if v16 {
        let connector = int_of(p, "connectorId");
        if let Some(c) = connector
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
        connector.filter(|c| *c > 0)
    } else {
        let evse = p.get("evse");
        if requested == "StatusNotification" {
            match evse {
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
        evse.and_then(|e| int_of(e, "id")).filter(|id| *id > 0)
    };
    let expects = expected(requested, st.station.version);
    if expects.is_empty() {
        return;
    }
    let t = Trigger {
        call: CallRef::of_call(ctx, call),
        requested: Box::from(requested),
        expects,
        target,
        phase: Phase::Sent,
        early: false,
        candidate: None,
        sent_at: ctx.now(),
        multi: matches!(
            requested,
            "StatusNotification" | "MeterValues" | "TransactionEvent"
        ),
        satisfied: false,
    };
    st.trig.triggers.arm(t.due(stale_us(ctx)), t);
}

/// The connector (1.6) or EVSE (2.x) a charger message is about, if it says.
fn target_of(action: &str, p: Json<'_>, v16: bool) -> Option<i64> {
    if v16 {
        return int_of(p, "connectorId");
    }
    match action {
        "TransactionEvent" => p.get("evse").and_then(|e| int_of(e, "id")),
        _ => int_of(p, "evseId"),
    }
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
    let v16 = st.is_v16();
    let target = target_of(call.action, call.payload, v16);
    let matches = |t: &Trigger| {
        t.expects.contains(&call.action)
            && !(t.phase == Phase::Sent && t.early)
            && match (t.target, target) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    };
    // A trigger still waiting for its message first, then one already answered.
    let triggers = &mut st.trig.triggers;
    let Some(mut t) = triggers
        .take(|t| matches(t) && !t.satisfied)
        .or_else(|| triggers.take(matches))
    else {
        return;
    };
    match t.phase {
        Phase::Sent => {
            t.early = true;
            ctx.report(
                &MESSAGE_BEFORE_RESPONSE,
                format!(
                    "{} sent while the {} for it (id `{}`) is not answered yet; the answer must come first",
                    call.action, t.call.action, t.call.id
                ),
            );
        }
        Phase::Refused(_) => {
            ctx.report(
                &REJECTED_BUT_SENT,
                format!(
                    "{} sent although the {} for it (id `{}`) was refused",
                    call.action, t.call.action, t.call.id
                ),
            );
            // Reported: nothing more to wait for.
            return;
        }
        Phase::Accepted(_) if t.satisfied => {}
        Phase::Accepted(_) => {
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
                    if t.candidate.is_none() {
                        t.candidate = Some(Candidate {
                            call: CallRef::of_call(ctx, call),
                            rule,
                            message,
                        });
                    }
                }
                _ if t.multi => {
                    t.satisfied = true;
                    t.candidate = None;
                }
                // Answered properly: nothing more to wait for.
                _ => return,
            }
        }
    }
    let stale = stale_us(ctx);
    st.trig.triggers.arm(t.due(stale), t);
}

#[cfg(test)]
mod tests;
