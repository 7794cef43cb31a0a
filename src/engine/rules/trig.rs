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
//! (`fw.rs`, `sec.rs` do), nor what a triggered BootNotification means (`boot.rs`).

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]

use serde_json::Value;

use super::dm::{CallRef, arr_of, int_of, push_capped, status_of, str_of};
use super::rpc::rule;
use super::{ALL, Rule, V2X, V16};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Outcome, ProtoState, Reply};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[
    &MESSAGE_BEFORE_RESPONSE,
    &ACCEPTED_NOT_SENT,
    &REJECTED_BUT_SENT,
    &CONNECTOR_ZERO,
    &STATUS_WITHOUT_CONNECTOR,
    &TRANSACTION_EVENT_WRONG_REASON,
    &METER_VALUES_WRONG_CONTEXT,
    &NOT_IMPLEMENTED_FOR_STANDARD,
];

rule!(
    MESSAGE_BEFORE_RESPONSE,
    "trig.message-before-response",
    Warning,
    None,
    ALL,
    Charger,
    "Triggered message sent before the TriggerMessage was answered",
    "OCPP 1.6 §5.17; 2.0.1 Part 2 F06.FR.04, Gen §3 FR.05",
    "What it checks: while a TriggerMessage (1.6: or ExtendedTriggerMessage) is not answered \
yet, the charger sends the CALL it requests. A warning: the same message may come from \
normal operation at that moment.\n\n\
Why it matters: the charger SHALL first answer the trigger and only then send the requested \
message; a CSMS that waits for the answer may otherwise take the message for unsolicited.\n\n\
Example:\n  csms: TriggerMessage {requestedMessage:\"Heartbeat\"}\n  charger: Heartbeat {}   (before [3,...,{status:\"Accepted\"}])"
);

rule!(
    ACCEPTED_NOT_SENT,
    "trig.accepted-not-sent",
    Error,
    Some(Severity::Warning),
    ALL,
    Charger,
    "Trigger accepted but the requested message did not follow",
    "OCPP 1.6 §5.17; 2.0.1 Part 2 F06.FR.10",
    "What it checks: a TriggerMessage (1.6: or ExtendedTriggerMessage) answered Accepted, and \
the requested CALL (BootNotification, StatusNotification, SignCertificate for the certificate \
triggers, ...) does not come within `followup_window` (default 60 s). A message of that kind \
sent for another reason satisfies it. An error on 2.x (SHALL), a warning on 1.6 (SHOULD). \
Reported at the trigger; a trace that ends before the window passed is not judged.\n\n\
Why it matters: the CSMS waits for the data it asked for; an accepted trigger that produces \
nothing leaves it guessing.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"StatusNotification\"} -> Accepted, then no StatusNotification"
);

rule!(
    REJECTED_BUT_SENT,
    "trig.rejected-but-sent",
    Info,
    None,
    ALL,
    Charger,
    "Trigger refused but the requested message follows anyway",
    "OCPP 1.6 §5.17; 2.0.1 Part 2 F06.FR.05",
    "What it checks: a TriggerMessage answered Rejected or NotImplemented, and the requested \
CALL comes within `followup_window` anyway. Info only: the message may come from normal \
operation.\n\n\
Why it matters: a refused trigger should have no effect; a station that sends the message \
anyway answers its triggers wrongly.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"Heartbeat\"} -> Rejected, then Heartbeat {}"
);

rule!(
    CONNECTOR_ZERO,
    "trig.connector-zero",
    Error,
    None,
    V16,
    Csms,
    "1.6 TriggerMessage names connector 0 or a negative connector",
    "OCPP 1.6 §6.51; Security white paper §5.5 (ExtendedTriggerMessage)",
    "What it checks: a 1.6 TriggerMessage or ExtendedTriggerMessage whose `connectorId` is \
present and not greater than 0.\n\n\
Why it matters: connectorId is only given for a specific connector and must be > 0; to ask \
about the whole charger the field is left out.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"StatusNotification\", connectorId:0}"
);

rule!(
    STATUS_WITHOUT_CONNECTOR,
    "trig.status-without-connector",
    Error,
    None,
    V2X,
    Csms,
    "TriggerMessage for StatusNotification without an EVSE and connector",
    "2.0.1 Part 2 F06.FR.13",
    "What it checks: a 2.x TriggerMessage for StatusNotification without `evse` (error), or \
with `evse` but without `evse.connectorId` (warning: StatusNotification is only sent per \
connector, but the test cases only check `evse.id`).\n\n\
Why it matters: the CSMS SHALL include the EVSE; without it the station cannot tell which \
connector to report.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"StatusNotification\"}"
);

rule!(
    TRANSACTION_EVENT_WRONG_REASON,
    "trig.transaction-event-wrong-reason",
    Error,
    None,
    V2X,
    Charger,
    "Triggered TransactionEvent without triggerReason Trigger or without chargingState",
    "2.0.1 Part 2 F06.FR.07",
    "What it checks: after a TriggerMessage for TransactionEvent was accepted, the \
TransactionEvent that answers it has `triggerReason` Trigger but no \
`transactionInfo.chargingState`, or no TransactionEvent with triggerReason Trigger comes \
within `followup_window` and the one that came has another reason (reported at it).\n\n\
Why it matters: the triggered event SHALL say it was triggered and carry the charging state; \
otherwise the CSMS cannot tell the answer from a normal update.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"TransactionEvent\", evse:{id:1}} -> Accepted, then \
TransactionEvent {eventType:\"Updated\", triggerReason:\"MeterValuePeriodic\", ...}"
);

rule!(
    METER_VALUES_WRONG_CONTEXT,
    "trig.meter-values-wrong-context",
    Warning,
    Some(Severity::Info),
    ALL,
    Charger,
    "Triggered MeterValues with a reading context other than Trigger",
    "OCPP 1.6 §7.35 ReadingContext; 2.0.1 Part 2 §3 ReadingContextEnumType; 2.0.1 Part 6 TC_F_11_CSMS",
    "What it checks: after a TriggerMessage for MeterValues was accepted, no MeterValues whose \
sampled values all have context Trigger (or none) came within `followup_window`, and one \
whose sampled values name another context did (reported at it). A warning: a periodic \
MeterValues may have crossed the trigger.\n\n\
Why it matters: the context tells the CSMS why the values were taken; triggered values \
marked Sample.Periodic are booked as periodic samples. On OCPP 1.6 this is info only: 1.6 \
defines the Trigger context but does not require it for a triggered MeterValues (2.x does).\n\n\
Example:\n  TriggerMessage {requestedMessage:\"MeterValues\"} -> Accepted, then MeterValues \
{... sampledValue:[{value:\"10\", context:\"Sample.Periodic\"}]}"
);

rule!(
    NOT_IMPLEMENTED_FOR_STANDARD,
    "trig.not-implemented-for-standard",
    Info,
    None,
    ALL,
    Charger,
    "Trigger for a message of the standard set answered NotImplemented",
    "OCPP 1.6 §5.17; 2.0.1 Part 2 F06.FR.08",
    "What it checks: a TriggerMessage for a message of the version's own enumeration answered \
NotImplemented. Allowed; recorded as a capability of the station.\n\n\
Why it matters: a CSMS that relies on triggers (status resynchronisation, meter readings) \
needs to know which ones the station does not support.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"MeterValues\"} -> NotImplemented"
);

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
    sent_at: Timestamp,
    /// The trigger may be answered by several messages (one per connector, EVSE or
    /// transaction): once answered it stays open until its window ends, so the later ones
    /// count as asked for too.
    multi: bool,
    /// A message answered it properly (kept only when `multi`).
    satisfied: bool,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    triggers: Vec<Trigger>,
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

fn after(t: Timestamp, us: i64) -> Timestamp {
    Timestamp::from_micros(t.micros().saturating_add(us))
}

pub(crate) fn on_open(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {}

pub(crate) fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
    // An unanswered trigger will never be answered on this connection.
    st.trig.triggers.retain(|t| t.phase != Phase::Sent);
}

pub(crate) fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
    let window = ctx.config().tol.followup_window_us;
    let stale = ctx
        .config()
        .tol
        .call_timeout_us
        .saturating_add(window)
        .saturating_mul(2);
    let mut k = 0;
    while k < st.trig.triggers.len() {
        let t = &st.trig.triggers[k];
        let settle = match t.phase {
            Phase::Accepted(due) => now > due || (end && t.candidate.is_some() && !t.satisfied),
            Phase::Refused(until) => now > until,
            Phase::Sent => now.micros().saturating_sub(t.sent_at.micros()) > stale,
        };
        if !settle {
            k += 1;
            continue;
        }
        let t = st.trig.triggers.remove(k);
        if !matches!(t.phase, Phase::Accepted(_)) || t.satisfied {
            continue;
        }
        match t.candidate {
            Some(c) => ctx.report_about(c.rule, c.call.about(), c.message),
            None => ctx.report_about(
                &ACCEPTED_NOT_SENT,
                t.call.about(),
                format!(
                    "{} for {} was accepted but no {} followed within {:.0} s",
                    t.call.action,
                    t.requested,
                    t.expects.join(" or "),
                    window as f64 / 1e6
                ),
            ),
        }
    }
}

pub(crate) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    match call.from {
        Side::Csms if matches!(call.action, "TriggerMessage" | "ExtendedTriggerMessage") => {
            on_trigger(st, ctx, call);
        }
        Side::Charger if !call.send => on_message(st, ctx, call),
        _ => {}
    }
}

fn on_trigger(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let Some(requested) = str_of(p, "requestedMessage") else {
        return;
    };
    let v16 = st.version == Some(Version::V16);
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
    let expects = expected(requested, st.version);
    if expects.is_empty() {
        return;
    }
    push_capped(
        &mut st.trig.triggers,
        Trigger {
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
        },
        MAX_TRIGGERS,
    );
}

/// The connector (1.6) or EVSE (2.x) a charger message is about, if it says.
fn target_of(action: &str, p: &Value, v16: bool) -> Option<i64> {
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
fn flaw(action: &str, p: &Value) -> Option<(&'static Rule, String)> {
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
    let v16 = st.version == Some(Version::V16);
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
    let triggers = &st.trig.triggers;
    let Some(i) = triggers
        .iter()
        .position(|t| matches(t) && !t.satisfied)
        .or_else(|| triggers.iter().position(matches))
    else {
        return;
    };
    let t = &mut st.trig.triggers[i];
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
            st.trig.triggers.remove(i);
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
                _ => {
                    st.trig.triggers.remove(i);
                }
            }
        }
    }
}

pub(crate) fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
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
    let Some(i) = st
        .trig
        .triggers
        .iter()
        .position(|t| *t.call.id == *reply.id && t.phase == Phase::Sent)
    else {
        return;
    };
    let t = &mut st.trig.triggers[i];
    match (reply.outcome, status) {
        (Outcome::Result { .. }, Some("Accepted")) => {
            if t.early && !t.multi {
                st.trig.triggers.remove(i);
            } else {
                t.phase = Phase::Accepted(after(now, window));
                t.satisfied = t.early;
            }
        }
        (Outcome::Result { .. }, Some("Rejected" | "NotImplemented")) => {
            t.phase = Phase::Refused(after(now, window));
        }
        _ => {
            st.trig.triggers.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::rules::boot::tests::{BOOT2, answer, mine, script};
    use crate::finding::Severity;

    const STATUS2: &str = r#"[2,"c1","StatusNotification",{"timestamp":"2026-11-22T10:00:02.000Z","connectorStatus":"Occupied","evseId":1,"connectorId":1}]"#;
    const STARTED: &str = r#"[2,"t1","TransactionEvent",{"eventType":"Started","timestamp":"2026-11-22T10:00:03.000Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"tx-1","chargingState":"Charging"},"evse":{"id":1,"connectorId":1},"idToken":{"idToken":"T1","type":"ISO14443"}}]"#;
    const PERIODIC: &str = r#"[2,"t2","TransactionEvent",{"eventType":"Updated","timestamp":"2026-11-22T10:00:11.000Z","triggerReason":"MeterValuePeriodic","seqNo":1,"transactionInfo":{"transactionId":"tx-1","chargingState":"Charging"},"evse":{"id":1,"connectorId":1}}]"#;
    const TRIGGERED: &str = r#"[2,"t3","TransactionEvent",{"eventType":"Updated","timestamp":"2026-11-22T10:00:12.000Z","triggerReason":"Trigger","seqNo":2,"transactionInfo":{"transactionId":"tx-1","chargingState":"Charging"},"evse":{"id":1,"connectorId":1}}]"#;

    fn with_trigger(tail: &[(u32, &str, &str)]) -> String {
        let a = answer("b1", "Accepted", 300, 1);
        let mut ev: Vec<(u32, &str, &str)> = vec![
            (0, "open", ""),
            (1, "charger", BOOT2),
            (1, "csms", &a),
            (2, "charger", STATUS2),
            (2, "csms", r#"[3,"c1",{}]"#),
            (3, "charger", STARTED),
            (
                3,
                "csms",
                r#"[3,"t1",{"idTokenInfo":{"status":"Accepted"}}]"#,
            ),
            (
                10,
                "csms",
                r#"[2,"s1","TriggerMessage",{"requestedMessage":"TransactionEvent","evse":{"id":1}}]"#,
            ),
            (10, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
        ];
        ev.extend_from_slice(tail);
        script("ocpp2.0.1", &ev)
    }

    #[test]
    fn a_periodic_event_crossing_the_trigger_is_not_blamed_when_the_triggered_one_follows() {
        let t = with_trigger(&[
            (11, "charger", PERIODIC),
            (11, "csms", r#"[3,"t2",{}]"#),
            (12, "charger", TRIGGERED),
            (12, "csms", r#"[3,"t3",{}]"#),
            (200, "charger", r#"[2,"h1","Heartbeat",{}]"#),
            (
                200,
                "csms",
                r#"[3,"h1",{"currentTime":"2026-11-22T10:03:20.000Z"}]"#,
            ),
        ]);
        assert_eq!(mine(&t), vec![]);
    }

    #[test]
    fn only_a_non_trigger_event_in_the_window_is_reported_at_it() {
        let t = with_trigger(&[
            (11, "charger", PERIODIC),
            (11, "csms", r#"[3,"t2",{}]"#),
            (200, "charger", r#"[2,"h1","Heartbeat",{}]"#),
            (
                200,
                "csms",
                r#"[3,"h1",{"currentTime":"2026-11-22T10:03:20.000Z"}]"#,
            ),
        ]);
        assert_eq!(
            mine(&t),
            vec![("trig.transaction-event-wrong-reason", Severity::Error, 10)]
        );
    }

    #[test]
    fn nothing_in_the_window_is_accepted_not_sent_but_a_short_trace_is_not_judged() {
        let long = with_trigger(&[
            (200, "charger", r#"[2,"h1","Heartbeat",{}]"#),
            (
                200,
                "csms",
                r#"[3,"h1",{"currentTime":"2026-11-22T10:03:20.000Z"}]"#,
            ),
        ]);
        assert_eq!(
            mine(&long),
            vec![("trig.accepted-not-sent", Severity::Error, 8)]
        );
        let short = with_trigger(&[]);
        assert_eq!(mine(&short), vec![]);
    }

    #[test]
    fn accepted_not_sent_is_a_warning_on_16_and_ignores_other_connectors() {
        let a = answer("b1", "Accepted", 300, 1);
        let t = script(
            "ocpp1.6",
            &[
                (0, "open", ""),
                (1, "charger", crate::engine::rules::boot::tests::BOOT16),
                (1, "csms", &a),
                (
                    2,
                    "csms",
                    r#"[2,"s1","TriggerMessage",{"requestedMessage":"StatusNotification","connectorId":2}]"#,
                ),
                (2, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
                (
                    3,
                    "charger",
                    r#"[2,"c1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#,
                ),
                (3, "csms", r#"[3,"c1",{}]"#),
                (100, "charger", r#"[2,"h1","Heartbeat",{}]"#),
                (
                    100,
                    "csms",
                    r#"[3,"h1",{"currentTime":"2026-11-22T10:01:40.000Z"}]"#,
                ),
            ],
        );
        assert_eq!(
            mine(&t),
            vec![("trig.accepted-not-sent", Severity::Warning, 4)]
        );
    }

    #[test]
    fn the_16_and_2x_trigger_enumerations_map_to_their_messages() {
        use super::expected;
        use crate::ocpp::Version;
        assert_eq!(
            expected("FirmwareStatusNotification", Some(Version::V16)),
            &[
                "FirmwareStatusNotification",
                "SignedFirmwareStatusNotification"
            ]
        );
        assert_eq!(
            expected("FirmwareStatusNotification", Some(Version::V201)),
            &["FirmwareStatusNotification"]
        );
        assert_eq!(
            expected("SignChargePointCertificate", Some(Version::V16)),
            &["SignCertificate"]
        );
        assert_eq!(
            expected("SignV2GCertificate", Some(Version::V201)),
            &["SignCertificate"]
        );
        assert!(expected("CustomTrigger", Some(Version::V21)).is_empty());
    }

    #[test]
    fn a_16_status_trigger_for_all_connectors_covers_every_answer_while_pending() {
        use crate::engine::rules::boot::tests::BOOT16;
        let p = answer("b1", "Pending", 300, 1);
        let sn = |id: &str, c: u32| {
            format!(
                r#"[2,"{id}","StatusNotification",{{"connectorId":{c},"errorCode":"NoError","status":"Available"}}]"#
            )
        };
        let (s0, s1, s2) = (sn("c0", 0), sn("c1", 1), sn("c2", 2));
        let t = script(
            "ocpp1.6",
            &[
                (0, "open", ""),
                (1, "charger", BOOT16),
                (1, "csms", &p),
                (
                    2,
                    "csms",
                    r#"[2,"s1","TriggerMessage",{"requestedMessage":"StatusNotification"}]"#,
                ),
                (2, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
                (3, "charger", &s0),
                (3, "csms", r#"[3,"c0",{}]"#),
                (4, "charger", &s1),
                (4, "csms", r#"[3,"c1",{}]"#),
                (5, "charger", &s2),
                (5, "csms", r#"[3,"c2",{}]"#),
                (100, "csms", r#"[2,"s2","GetConfiguration",{}]"#),
                (100, "charger", r#"[3,"s2",{}]"#),
                // The trigger's window has passed: this one is unsolicited.
                (101, "charger", r#"[2,"c3","Heartbeat",{}]"#),
                (101, "csms", r#"[4,"c3","SecurityError","pending",{}]"#),
            ],
        );
        assert_eq!(
            mine(&t),
            vec![("seq.call-while-pending", Severity::Error, 14)]
        );
    }
}
