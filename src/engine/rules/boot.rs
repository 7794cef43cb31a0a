//! `seq.*` (registration part): the BootNotification handshake. Tracks the registration
//! state of each station identity (it survives reconnects) and judges what each side sends
//! while the station is booting, Pending or Rejected, whether the retry interval of a
//! non-accepted boot is respected, and what a TriggerMessage(BootNotification) may do.
//!
//! ```text
//! Unknown ──BootNotification──► Booting ──Accepted──► Accepted
//!                                  │  └────Pending───► Pending ──BootNotification──► Booting
//!                                  └───────Rejected──► Rejected ─BootNotification──► Booting
//! ```
//!
//! A trace that starts mid-life (no BootNotification seen) stays `Unknown` and nothing here
//! fires from that state. This file does not judge heartbeats (`liveness.rs`) nor what a
//! trigger must produce (`trig.rs`); it asks `trig.rs` whether a message was triggered.

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]

use super::dm::{CallRef, int_of, push_capped, status_of, str_of};
use super::rpc::rule;
use super::{ALL, Rule, V2X, V16, trig};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Outcome, ProtoState, Reply};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[
    &BOOT_FIRST,
    &CALL_WHILE_PENDING,
    &MESSAGE_WHILE_REJECTED,
    &RESPONDED_WHILE_REJECTED,
    &REJECTED_REQUEST_NOT_SECURITY_ERROR,
    &CSMS_CALL_WHILE_REJECTED,
    &NOT_ACCEPTED_CALL_ANSWERED,
    &REMOTE_TX_WHILE_PENDING,
    &REMOTE_TX_ACCEPTED_WHILE_PENDING,
    &BOOT_RETRY_TOO_EARLY,
    &BOOT_RETRY_MISSING,
    &BOOT_INTERVAL_SUSPICIOUS,
    &PENDING_CONNECTION_CLOSED,
    &STATUS_MISSING_AFTER_ACCEPT,
    &TRIGGER_BOOT_AFTER_ACCEPT,
    &TRIGGER_BOOT_AFTER_ACCEPT_ACCEPTED,
    &BOOT_REASON_UNEXPECTED,
];

rule!(
    BOOT_FIRST,
    "seq.boot-first",
    Error,
    None,
    ALL,
    Charger,
    "Charger sends another CALL before its BootNotification was answered",
    "OCPP 1.6 §4.2; OCPP-J 1.6 §5.4; 2.0.1 Part 2 B01.FR.08; 2.0.1 Part 4 §5.3",
    "What it checks: a CALL other than BootNotification from a charger that is booting: it \
sent a BootNotification that is not answered yet (or was answered with a CALLERROR), on this \
connection or on one before it. Also, as info only, a charger that reconnects after an \
accepted Reset or a firmware InstallRebooting and does not start with a BootNotification (it \
may not have rebooted yet). A trace that starts mid-life, with no BootNotification seen, is \
never judged: a reconnect without reboot need not boot again.\n\n\
Calls before the boot: a charger that sends CALLs on a connection and only then its \
BootNotification on the same connection sent them before it was registered; reported at the \
first such CALL, per connection: an error when the trace shows the connection from its start \
and no earlier connection was accepted, a warning when one was (then either the CALL or the \
BootNotification is out of place), info when the trace may have missed the connection's start \
or a TriggerMessage asked for the BootNotification.\n\n\
Why it matters: between power-on and an Accepted or Pending answer the charger SHALL NOT send \
anything else, queued messages from earlier sessions included; the CSMS does not know the \
station yet.\n\n\
Example:\n  charger: BootNotification {...}   (no answer yet)\n  charger: StatusNotification {...}"
);

rule!(
    CALL_WHILE_PENDING,
    "seq.call-while-pending",
    Error,
    None,
    ALL,
    Charger,
    "Charger sends a CALL while its registration is Pending that nobody asked for",
    "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.02",
    "What it checks: while the last BootNotification was answered Pending, the charger sends a \
CALL other than BootNotification that is not the message of a TriggerMessage the CSMS sent \
(nor, on 2.x, a NotifyReport after a GetBaseReport / GetReport).\n\n\
Why it matters: a Pending station is not registered yet; it SHALL NOT initiate messages \
except on request, so transactions or statuses it sends may be refused or lost.\n\n\
Example:\n  BootNotification -> {status:\"Pending\", interval:60}\n  charger: Heartbeat {}"
);

rule!(
    MESSAGE_WHILE_REJECTED,
    "seq.message-while-rejected",
    Error,
    None,
    ALL,
    Charger,
    "Charger sends a CALL other than BootNotification while its registration is Rejected",
    "OCPP 1.6 §4.2; 2.0.1 Part 2 B03.FR.02",
    "What it checks: while the last BootNotification was answered Rejected, the charger sends \
any CALL other than a new BootNotification. Answers to CSMS requests are judged by \
`seq.responded-while-rejected` (1.6) and `seq.rejected-request-not-security-error` (2.x).\n\n\
Why it matters: a rejected station SHALL NOT send any message until the retry interval has \
passed, and then only a new BootNotification.\n\n\
Example:\n  BootNotification -> {status:\"Rejected\", interval:300}\n  charger: StatusNotification {...}"
);

rule!(
    RESPONDED_WHILE_REJECTED,
    "seq.responded-while-rejected",
    Error,
    None,
    V16,
    Charger,
    "1.6 charger answers a Central System request while its registration is Rejected",
    "OCPP 1.6 §4.2",
    "What it checks: a 1.6 charger whose last BootNotification was answered Rejected answers a \
Central System CALL (CALLRESULT or CALLERROR) before the retry interval has passed (with \
interval 0: before its next BootNotification).\n\n\
Why it matters: during the Rejected wait a 1.6 charger SHALL NOT respond to Central System \
initiated messages at all.\n\n\
Example:\n  BootNotification -> Rejected, then csms: GetConfiguration {}  charger: [3,...,{...}]"
);

rule!(
    REJECTED_REQUEST_NOT_SECURITY_ERROR,
    "seq.rejected-request-not-security-error",
    Error,
    None,
    V2X,
    Charger,
    "Rejected 2.x station answers a CSMS request with something other than CALLERROR SecurityError",
    "2.0.1 Part 2 B03.FR.08; 2.0.1 Part 6 TC_B_30_CS",
    "What it checks: a 2.x station whose last BootNotification was answered Rejected answers a \
CSMS CALL (other than TriggerMessage for BootNotification) with a CALLRESULT or with a CALLERROR \
whose code is not SecurityError.\n\n\
Why it matters: a rejected station is not allowed to act on CSMS requests; the required \
answer tells the CSMS why nothing happens.\n\n\
Example:\n  BootNotification -> Rejected, then GetVariables {...} -> [3,...,{getVariableResult:[...]}]"
);

rule!(
    CSMS_CALL_WHILE_REJECTED,
    "seq.csms-call-while-rejected",
    Error,
    Some(Severity::Warning),
    ALL,
    Csms,
    "CSMS sends a request to a station whose registration it rejected",
    "OCPP 1.6 §4.2; 2.0.1 Part 2 B03.FR.03",
    "What it checks: the CSMS sends a CALL (other than TriggerMessage for BootNotification) \
while the station's last BootNotification was answered Rejected. An error on 2.x (SHALL \
NOT), a warning on 1.6 (SHOULD NOT).\n\n\
Why it matters: the station will not act on it (a 1.6 charger does not even answer), so the \
request times out or fails with SecurityError.\n\n\
Example:\n  BootNotification -> Rejected, then csms: ChangeConfiguration {...}"
);

rule!(
    NOT_ACCEPTED_CALL_ANSWERED,
    "seq.not-accepted-call-answered",
    Error,
    Some(Severity::Warning),
    ALL,
    Csms,
    "CSMS answers a CALL the unregistered station was not allowed to send, without SecurityError",
    "OCPP-J 1.6 errata §3.10; 2.0.1 Part 2 B01.FR.10, B02.FR.09, B03.FR.07, Gen §3 FR.04 (errata 2.3)",
    "What it checks: the CSMS answers a CALL that `seq.boot-first`, `seq.call-while-pending` \
or `seq.message-while-rejected` flagged with anything other than CALLERROR SecurityError. An \
error on 2.x (SHALL), a warning on 1.6 (recommended by the OCPP-J errata).\n\n\
Why it matters: a normal answer tells the station its message was processed, so it never \
learns that it must register first.\n\n\
Example:\n  BootNotification -> Pending, then charger: Heartbeat {}  csms: [3,...,{currentTime:...}]"
);

rule!(
    REMOTE_TX_WHILE_PENDING,
    "seq.remote-tx-while-pending",
    Error,
    None,
    ALL,
    Csms,
    "CSMS asks a Pending station to start or stop a transaction",
    "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.05",
    "What it checks: RemoteStartTransaction / RemoteStopTransaction (1.6) or \
RequestStartTransaction / RequestStopTransaction (2.x) sent while the station's last \
BootNotification was answered Pending.\n\n\
Why it matters: while Pending the CSMS may only read and configure the station; remote \
transaction control is not allowed until it is Accepted.\n\n\
Example:\n  BootNotification -> Pending, then csms: RemoteStartTransaction {idTag:\"T1\"}"
);

rule!(
    REMOTE_TX_ACCEPTED_WHILE_PENDING,
    "seq.remote-tx-accepted-while-pending",
    Error,
    None,
    V2X,
    Charger,
    "Pending station accepts a RequestStart/StopTransaction",
    "2.0.1 Part 2 B02.FR.05",
    "What it checks: a 2.x station whose registration is Pending answers \
RequestStartTransaction or RequestStopTransaction with status Accepted.\n\n\
Why it matters: the station SHALL answer Rejected while Pending; accepting starts or stops a \
transaction the CSMS cannot yet account for.\n\n\
Example:\n  BootNotification -> Pending, then RequestStartTransaction {...} -> {status:\"Accepted\"}"
);

rule!(
    BOOT_RETRY_TOO_EARLY,
    "seq.boot-retry-too-early",
    Error,
    Some(Severity::Warning),
    ALL,
    Charger,
    "BootNotification repeated before the interval of the Pending/Rejected answer passed",
    "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.04, B03.FR.02",
    "What it checks: after a BootNotification answered Pending or Rejected with `interval` > 0, \
the next BootNotification comes earlier than `interval` minus the boot tolerance (10 % of the \
interval, at least 5 s; `boot_tolerance`, `boot_tolerance_min`), and no TriggerMessage for \
BootNotification was accepted in between. On a new connection it is info only (the station \
may have rebooted).\n\n\
Why it matters: the interval is how the CSMS spreads the load of stations it cannot accept \
yet; retrying early floods it.\n\n\
Example:\n  BootNotification -> {status:\"Pending\", interval:300}, then BootNotification 10 s later"
);

rule!(
    BOOT_RETRY_MISSING,
    "seq.boot-retry-missing",
    Warning,
    Some(Severity::Info),
    ALL,
    Charger,
    "No new BootNotification after the interval of a Pending/Rejected answer",
    "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.08, B03.FR.06",
    "What it checks: after a BootNotification answered Pending or Rejected with `interval` > 0, \
the connection stays open and no new BootNotification comes within `interval` plus the boot \
tolerance. A closed connection ends the watch (the station may be rebooting). A warning on \
2.x, info on 1.6.\n\n\
Why it matters: a station that does not retry stays unregistered and unusable.\n\n\
Example:\n  BootNotification -> {status:\"Pending\", interval:60}, then 10 minutes without a BootNotification"
);

rule!(
    BOOT_INTERVAL_SUSPICIOUS,
    "seq.boot-interval-suspicious",
    Info,
    None,
    ALL,
    Csms,
    "BootNotification answer with interval 0 on Accepted, or a negative interval",
    "OCPP 1.6 §6.4; 2.0.1 Part 2 B01.FR.04, B02.FR.07",
    "What it checks: a BootNotification response whose `interval` is 0 with status Accepted \
(info: the station keeps its own heartbeat interval) or negative (warning: no meaning at \
all).\n\n\
Why it matters: with Accepted the interval is the heartbeat interval; 0 leaves the station \
without one from the CSMS, which is rarely intended.\n\n\
Example:\n  BootNotification -> {status:\"Accepted\", currentTime:\"...\", interval:0}"
);

rule!(
    PENDING_CONNECTION_CLOSED,
    "seq.pending-connection-closed",
    Error,
    Some(Severity::Warning),
    ALL,
    Any,
    "WebSocket closed while the station's registration is Pending",
    "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.06",
    "What it checks: either side closes the connection while the station's last \
BootNotification was answered Pending, unless a Reset was accepted since (the station \
reboots). An error on 2.x (SHALL NOT), a warning on 1.6 (SHOULD).\n\n\
Why it matters: Pending exists so that the CSMS can configure the station over the open \
connection; closing it defeats that and makes the station boot again.\n\n\
Example:\n  BootNotification -> {status:\"Pending\"}, then close"
);

rule!(
    STATUS_MISSING_AFTER_ACCEPT,
    "seq.status-missing-after-accept",
    Warning,
    None,
    ALL,
    Charger,
    "No StatusNotification after the BootNotification was accepted",
    "OCPP 1.6 errata 3.22; 2.0.1 Part 2 B01.FR.05, G01",
    "What it checks: a BootNotification answered Accepted and no StatusNotification (2.x: or \
NotifyEvent) within `boot_status_window` (default 300 s) while the connection stays open. Only one \
status is required: the number of connectors is usually unknown. Reported at the \
BootNotification.\n\n\
Why it matters: after a boot the CSMS knows nothing of the connectors; the station shall \
report the status of each.\n\n\
Example:\n  BootNotification -> Accepted, then only Heartbeats for minutes"
);

rule!(
    TRIGGER_BOOT_AFTER_ACCEPT,
    "seq.trigger-boot-after-accept",
    Info,
    None,
    V16,
    Csms,
    "Central System triggers a BootNotification although the charger is already accepted",
    "OCPP 1.6 errata 3.40 (an accepted charger should refuse it); OCPP 1.6 §5.17",
    "What it checks: a 1.6 TriggerMessage / ExtendedTriggerMessage for BootNotification sent \
while the charger's last BootNotification was answered Accepted. Info only: the base text \
allows any trigger; the errata only ask the charger to refuse this one (see \
`seq.trigger-boot-after-accept-accepted`), and some Central Systems use it to read the \
charger's identity.\n\n\
Why it matters: a conforming charger refuses it, so the Central System learns nothing; one \
that obeys may reset its registration state.\n\n\
Example:\n  BootNotification -> Accepted, then csms: TriggerMessage {requestedMessage:\"BootNotification\"}"
);

rule!(
    TRIGGER_BOOT_AFTER_ACCEPT_ACCEPTED,
    "seq.trigger-boot-after-accept-accepted",
    Error,
    Some(Severity::Warning),
    ALL,
    Charger,
    "Accepted station agrees to a TriggerMessage for BootNotification",
    "2.0.1 Part 2 F06.FR.17; OCPP 1.6 errata 3.40",
    "What it checks: the station answers Accepted to a TriggerMessage (1.6: or \
ExtendedTriggerMessage) for BootNotification while its last BootNotification was answered \
Accepted. An error on 2.x (SHALL answer Rejected), a warning on 1.6 (recommended).\n\n\
Why it matters: an accepted station that boots again on request resets its registration \
for nothing and may restart its connector status reports.\n\n\
Example:\n  BootNotification -> Accepted, then TriggerMessage {requestedMessage:\"BootNotification\"} -> Accepted"
);

rule!(
    BOOT_REASON_UNEXPECTED,
    "seq.boot-reason-unexpected",
    Info,
    None,
    V2X,
    Charger,
    "BootNotification reason does not match what caused the boot",
    "2.0.1 Part 2 B01.FR.09, §3 BootReasonEnumType; 2.0.1 Part 6 TC_B_21_CSMS, TC_B_22_CSMS",
    "What it checks: the `reason` of a 2.x BootNotification against what was seen before it: \
after an accepted TriggerMessage for BootNotification it should be Triggered, after an \
accepted Reset RemoteReset or ScheduledReset, after a firmware status InstallRebooting \
FirmwareUpdate. Info only: the station may have rebooted for another cause in between.\n\n\
Why it matters: the reason is how the CSMS learns why a station restarted; a wrong one hides \
crashes or makes resets look spontaneous.\n\n\
Example:\n  Reset {type:\"Immediate\"} -> Accepted, then BootNotification {reason:\"PowerUp\", ...}"
);

/// The registration state of a station, as its BootNotifications were answered. Other
/// families read it (`st.boot.registration`); only this file changes it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registration {
    /// Nothing seen yet (the trace may have started mid-life): rules that need the
    /// registration state stay silent or report `info` only.
    #[default]
    Unknown,
    /// A BootNotification was sent and is not answered yet (or was answered with a
    /// CALLERROR): the station is booting, on this connection or an earlier one.
    Booting,
    Pending,
    Rejected,
    Accepted,
}

/// What caused the next boot, as far as the traffic shows (2.x `reason` check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Reset,
    Firmware,
}

/// A non-accepted BootNotification answer and its retry interval.
#[derive(Debug)]
struct NotAccepted {
    boot: CallRef,
    /// When the answer came.
    at: Timestamp,
    /// The retry interval in seconds (0: the station picks its own).
    interval: i64,
    /// Which connection (count of connections seen) it came on.
    conn: u32,
    /// `seq.boot-retry-missing` was settled (reported or ended by a close).
    watched: bool,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) registration: Registration,
    /// The charger has sent a CALL on the current connection.
    conn_called: bool,
    /// The charger has sent a BootNotification on the current connection.
    conn_booted: bool,
    /// The first charger CALL of the current connection, while no BootNotification had been
    /// sent on it and the registration state did not already flag it: a BootNotification
    /// later on the same connection shows it was sent before the station was registered.
    early_call: Option<(CallRef, Registration)>,
    /// The last non-accepted answer, while the station is not accepted.
    not_accepted: Option<NotAccepted>,
    /// Charger CALLs flagged as not allowed in the registration state (ids), so the CSMS
    /// answer can be judged.
    flagged: Vec<Box<str>>,
    /// A GetBaseReport / GetReport was sent since the last boot (2.x NotifyReport allowed).
    report_requested: bool,
    /// A reboot is expected (accepted Reset, firmware InstallRebooting).
    reboot_expected: Option<Cause>,
    /// The Accepted BootNotification whose StatusNotification is awaited, and until when.
    status_due: Option<(CallRef, Timestamp)>,
}

const MAX_FLAGGED: usize = 16;

/// Whether `st`'s station is known to be accepted (its last BootNotification was answered
/// Accepted). `Unknown` is not accepted, but neither is it known to be refused.
pub(crate) fn is_accepted(st: &ProtoState) -> bool {
    st.boot.registration == Registration::Accepted
}

fn v2(st: &ProtoState) -> bool {
    st.version.is_some_and(Version::is_2x)
}

fn after(t: Timestamp, us: i64) -> Timestamp {
    Timestamp::from_micros(t.micros().saturating_add(us))
}

/// The boot tolerance for an interval of `interval` seconds, in microseconds.
fn boot_tolerance_us(ctx: &Ctx<'_>, interval: i64) -> i64 {
    let tol = &ctx.config().tol;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "an interval in seconds times a small ratio fits an i64 of microseconds"
    )]
    let share = (interval as f64 * 1e6 * tol.boot_tolerance_ratio) as i64;
    share.max(tol.boot_tolerance_min_us)
}

pub(crate) fn on_open(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {
    st.boot.conn_called = false;
    st.boot.conn_booted = false;
    st.boot.early_call = None;
}

pub(crate) fn on_close(st: &mut ProtoState, ctx: &mut Ctx<'_>, _by: Option<Side>) {
    let b = &mut st.boot;
    if b.registration == Registration::Pending && b.reboot_expected.is_none() {
        ctx.report(
            &PENDING_CONNECTION_CLOSED,
            "the connection was closed while the station's registration is Pending; it should stay open so the CSMS can configure the station",
        );
    }
    if let Some(na) = &mut b.not_accepted {
        na.watched = true;
    }
    b.status_due = None;
    b.flagged.clear();
}

pub(crate) fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
    let is_v2 = v2(st);
    let b = &mut st.boot;
    if let Some(na) = &mut b.not_accepted
        && !na.watched
        && na.interval > 0
    {
        let due = after(
            after(na.at, na.interval.saturating_mul(1_000_000)),
            boot_tolerance_us(ctx, na.interval),
        );
        if now > due {
            na.watched = true;
            ctx.report_about(
                &BOOT_RETRY_MISSING,
                na.boot.about(),
                format!(
                    "BootNotification was answered {} with interval {} s, and no new BootNotification came within {:.0} s while the connection stayed open",
                    match b.registration {
                        Registration::Rejected => "Rejected",
                        _ => "Pending",
                    },
                    na.interval,
                    due.secs_since(na.at)
                ),
            );
        }
    }
    if let Some((boot, due)) = &b.status_due
        && now > *due
    {
        let window = ctx.config().tol.boot_status_window_us as f64 / 1e6;
        ctx.report_about(
            &STATUS_MISSING_AFTER_ACCEPT,
            boot.about(),
            format!(
                "BootNotification was accepted and no {} followed within {window:.0} s",
                if is_v2 {
                    "StatusNotification or NotifyEvent"
                } else {
                    "StatusNotification"
                }
            ),
        );
        b.status_due = None;
    }
}

pub(crate) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    match call.from {
        Side::Charger => on_charger_call(st, ctx, call),
        Side::Csms => on_csms_call(st, ctx, call),
    }
}

fn on_charger_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let first = !st.boot.conn_called;
    st.boot.conn_called = true;
    if matches!(call.action, "StatusNotification" | "NotifyEvent") {
        st.boot.status_due = None;
    }
    if call.action == "FirmwareStatusNotification"
        && str_of(call.payload, "status") == Some("InstallRebooting")
    {
        st.boot.reboot_expected = Some(Cause::Firmware);
    }
    if call.action == "BootNotification" {
        calls_before_boot(st, ctx);
        st.boot.conn_booted = true;
        on_boot(st, ctx, call);
        return;
    }
    if !st.boot.conn_booted
        && st.boot.early_call.is_none()
        && matches!(
            st.boot.registration,
            Registration::Unknown | Registration::Accepted
        )
        && !trig::awaits(st, call.action)
    {
        st.boot.early_call = Some((CallRef::of_call(ctx, call), st.boot.registration));
    }
    let now = ctx.now();
    let flagged = match st.boot.registration {
        Registration::Booting => {
            ctx.report(
                &BOOT_FIRST,
                format!(
                    "{} sent while the station's BootNotification is not answered yet; nothing but BootNotification may be sent until it is Accepted or Pending",
                    call.action
                ),
            );
            true
        }
        Registration::Pending => {
            let asked = trig::awaits(st, call.action)
                || (v2(st) && call.action == "NotifyReport" && st.boot.report_requested);
            if !asked {
                ctx.report(
                    &CALL_WHILE_PENDING,
                    format!(
                        "{} sent while the registration is Pending, and no TriggerMessage asked for it",
                        call.action
                    ),
                );
            }
            !asked
        }
        Registration::Rejected => {
            let wait = match &st.boot.not_accepted {
                Some(na) if na.interval > 0 => {
                    let left = na.interval as f64 - now.secs_since(na.at);
                    if left > 0.0 {
                        format!(
                            " ({left:.0} s of the {} s retry interval left)",
                            na.interval
                        )
                    } else {
                        " (the retry interval has passed; only a new BootNotification may be sent)"
                            .to_owned()
                    }
                }
                _ => String::new(),
            };
            ctx.report(
                &MESSAGE_WHILE_REJECTED,
                format!(
                    "{} sent while the registration is Rejected{wait}",
                    call.action
                ),
            );
            true
        }
        Registration::Accepted | Registration::Unknown => {
            if first && let Some(cause) = st.boot.reboot_expected {
                ctx.report_as(
                    &BOOT_FIRST,
                    Severity::Info,
                    format!(
                        "first CALL on this connection is {}, not BootNotification, although {} was seen before it; a rebooted station must boot first",
                        call.action,
                        match cause {
                            Cause::Reset => "an accepted Reset",
                            Cause::Firmware => "a firmware InstallRebooting",
                        }
                    ),
                );
            }
            false
        }
    };
    if flagged && !call.send {
        push_capped(&mut st.boot.flagged, Box::from(call.id), MAX_FLAGGED);
    }
}

/// A BootNotification came on a connection on which the charger had already sent other
/// CALLs: those were sent before the station was registered on this connection (a station
/// boots once per power-up, before anything else). Judged per connection. An error when the
/// trace shows the connection from its start and nothing said the station was registered;
/// a warning when an earlier connection was accepted (the early CALL is legal if the station
/// had not rebooted, but then this BootNotification is not one of a boot); info when the
/// trace may have missed the start of the connection or a BootNotification trigger explains it.
fn calls_before_boot(st: &mut ProtoState, ctx: &mut Ctx<'_>) {
    let Some((early, registration)) = st.boot.early_call.take() else {
        return;
    };
    if st.boot.conn_booted {
        return;
    }
    let triggered = trig::awaits(st, "BootNotification");
    let severity = if triggered || !st.seen_from_start {
        Severity::Info
    } else if registration == Registration::Accepted {
        Severity::Warning
    } else {
        Severity::Error
    };
    let why = if triggered {
        " (a TriggerMessage asked for the BootNotification)"
    } else if !st.seen_from_start {
        " (the trace does not show this connection from its start)"
    } else if registration == Registration::Accepted {
        " (the station was accepted on an earlier connection; if it did not reboot, this BootNotification is not one of a boot)"
    } else {
        ""
    };
    ctx.report_about_as(
        &BOOT_FIRST,
        severity,
        early.about(),
        format!(
            "{} was sent on this connection before the station's BootNotification (line {}); nothing but BootNotification may be sent until the boot is Accepted or Pending{why}",
            early.action,
            ctx.line()
        ),
    );
}

fn on_boot(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let now = ctx.now();
    let conn = st.connections_seen;
    if let Some(na) = &st.boot.not_accepted
        && na.interval > 0
        && matches!(
            st.boot.registration,
            Registration::Pending | Registration::Rejected
        )
    {
        let waited = now.secs_since(na.at);
        let min = na.interval as f64 - boot_tolerance_us(ctx, na.interval) as f64 / 1e6;
        if waited < min && !trig::boot_trigger_accepted_since(st, na.at) {
            let msg = format!(
                "BootNotification {waited:.1} s after the previous one was answered {} with interval {} s{}",
                if st.boot.registration == Registration::Rejected {
                    "Rejected"
                } else {
                    "Pending"
                },
                na.interval,
                if na.conn == conn {
                    ""
                } else {
                    " (on a new connection: the station may have rebooted)"
                }
            );
            if na.conn == conn {
                ctx.report(&BOOT_RETRY_TOO_EARLY, msg);
            } else {
                ctx.report_as(&BOOT_RETRY_TOO_EARLY, Severity::Info, msg);
            }
        }
    }
    if v2(st) && call.valid {
        let reason = str_of(call.payload, "reason");
        let expected: Option<(&[&str], &str)> = if trig::awaits(st, "BootNotification") {
            Some((
                &["Triggered"],
                "an accepted TriggerMessage for BootNotification",
            ))
        } else {
            match st.boot.reboot_expected {
                Some(Cause::Reset) => {
                    Some((&["RemoteReset", "ScheduledReset"], "an accepted Reset"))
                }
                Some(Cause::Firmware) => {
                    Some((&["FirmwareUpdate"], "a firmware status InstallRebooting"))
                }
                None => None,
            }
        };
        if let (Some(reason), Some((want, cause))) = (reason, expected)
            && !want.contains(&reason)
        {
            ctx.report(
                &BOOT_REASON_UNEXPECTED,
                format!(
                    "BootNotification reason {reason} after {cause}; expected {}",
                    want.join(" or ")
                ),
            );
        }
    }
    let b = &mut st.boot;
    b.registration = Registration::Booting;
    b.reboot_expected = None;
    b.status_due = None;
    if let Some(na) = &mut b.not_accepted {
        na.watched = true;
    }
}

fn on_csms_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let boot_trigger = matches!(call.action, "TriggerMessage" | "ExtendedTriggerMessage")
        && str_of(call.payload, "requestedMessage") == Some("BootNotification");
    match call.action {
        "GetBaseReport" | "GetReport" => st.boot.report_requested = true,
        _ => {}
    }
    match st.boot.registration {
        Registration::Rejected if !boot_trigger => {
            ctx.report(
                &CSMS_CALL_WHILE_REJECTED,
                format!(
                    "CSMS sent {} to a station whose registration it rejected",
                    call.action
                ),
            );
        }
        Registration::Pending
            if matches!(
                call.action,
                "RemoteStartTransaction"
                    | "RemoteStopTransaction"
                    | "RequestStartTransaction"
                    | "RequestStopTransaction"
            ) =>
        {
            ctx.report(
                &REMOTE_TX_WHILE_PENDING,
                format!(
                    "CSMS sent {} while the station's registration is Pending; accept the station first",
                    call.action
                ),
            );
        }
        Registration::Accepted if boot_trigger && st.version == Some(Version::V16) => {
            ctx.report(
                &TRIGGER_BOOT_AFTER_ACCEPT,
                format!(
                    "{} for BootNotification sent to a charger whose BootNotification was already accepted",
                    call.action
                ),
            );
        }
        _ => {}
    }
}

pub(crate) fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    match reply.caller {
        Side::Charger => on_charger_call_answered(st, ctx, reply),
        Side::Csms => on_csms_call_answered(st, ctx, reply),
    }
}

fn on_charger_call_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if let Some(i) = st.boot.flagged.iter().position(|id| **id == *reply.id) {
        st.boot.flagged.remove(i);
        let ok = matches!(
            reply.outcome,
            Outcome::Error {
                code: "SecurityError"
            }
        );
        if !ok {
            let got = match reply.outcome {
                Outcome::Result { .. } => "a CALLRESULT".to_owned(),
                Outcome::Error { code } => format!("CALLERROR {code}"),
            };
            ctx.report(
                &NOT_ACCEPTED_CALL_ANSWERED,
                format!(
                    "CSMS answered the {} the unregistered station was not allowed to send with {got}; expected CALLERROR SecurityError",
                    reply.action
                ),
            );
        }
    }
    if reply.action != "BootNotification" {
        return;
    }
    let Outcome::Result {
        payload: result, ..
    } = reply.outcome
    else {
        // A CALLERROR: what the station makes of it is not specified.
        st.boot.registration = Registration::Unknown;
        return;
    };
    // An answer that breaks its schema still tells the station its status, if readable.
    let status = str_of(result, "status");
    let interval = int_of(result, "interval");
    if let Some(i) = interval {
        if i < 0 {
            ctx.report_as(
                &BOOT_INTERVAL_SUSPICIOUS,
                Severity::Warning,
                format!("BootNotification answered with a negative interval ({i} s)"),
            );
        } else if i == 0 && status == Some("Accepted") {
            ctx.report(
                &BOOT_INTERVAL_SUSPICIOUS,
                "BootNotification accepted with interval 0: the station keeps its own heartbeat interval",
            );
        }
    }
    let now = ctx.now();
    let conn = st.connections_seen;
    let b = &mut st.boot;
    b.flagged.clear();
    match status {
        Some("Accepted") => {
            b.registration = Registration::Accepted;
            b.not_accepted = None;
            b.report_requested = false;
            b.status_due = Some((
                CallRef::of_reply(reply),
                after(now, ctx.config().tol.boot_status_window_us),
            ));
        }
        Some(s @ ("Pending" | "Rejected")) => {
            b.registration = if s == "Pending" {
                Registration::Pending
            } else {
                Registration::Rejected
            };
            b.not_accepted = Some(NotAccepted {
                boot: CallRef::of_reply(reply),
                at: now,
                interval: interval.unwrap_or(0).max(0),
                conn,
                watched: false,
            });
        }
        _ => b.registration = Registration::Unknown,
    }
}

fn on_csms_call_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let now = ctx.now();
    let boot_trigger = matches!(reply.action, "TriggerMessage" | "ExtendedTriggerMessage")
        && str_of(reply.request, "requestedMessage") == Some("BootNotification");
    match st.boot.registration {
        Registration::Rejected if st.version == Some(Version::V16) => {
            let waiting =
                st.boot.not_accepted.as_ref().is_none_or(|na| {
                    na.interval == 0 || now.secs_since(na.at) < na.interval as f64
                });
            if waiting {
                ctx.report(
                    &RESPONDED_WHILE_REJECTED,
                    format!(
                        "the charger answered {} although its registration is Rejected; it must not respond until the retry interval has passed",
                        reply.action
                    ),
                );
            }
        }
        Registration::Rejected if !boot_trigger => {
            let ok = matches!(
                reply.outcome,
                Outcome::Error {
                    code: "SecurityError"
                }
            );
            if !ok {
                let got = match reply.outcome {
                    Outcome::Result { .. } => "a CALLRESULT".to_owned(),
                    Outcome::Error { code } => format!("CALLERROR {code}"),
                };
                ctx.report(
                    &REJECTED_REQUEST_NOT_SECURITY_ERROR,
                    format!(
                        "the station answered {} with {got} while its registration is Rejected; expected CALLERROR SecurityError",
                        reply.action
                    ),
                );
            }
        }
        Registration::Pending
            if matches!(
                reply.action,
                "RequestStartTransaction" | "RequestStopTransaction"
            ) && status_of(reply) == Some("Accepted") =>
        {
            ctx.report(
                &REMOTE_TX_ACCEPTED_WHILE_PENDING,
                format!(
                    "{} answered Accepted while the registration is Pending; it must be Rejected",
                    reply.action
                ),
            );
        }
        Registration::Accepted if boot_trigger && status_of(reply) == Some("Accepted") => {
            ctx.report(
                &TRIGGER_BOOT_AFTER_ACCEPT_ACCEPTED,
                format!(
                    "{} for BootNotification answered Accepted although the station's BootNotification was already accepted; it should be Rejected",
                    reply.action
                ),
            );
        }
        _ => {}
    }
    if reply.action == "Reset" && reply.request.get("evseId").is_none() {
        let reboots = if v2(st) {
            matches!(status_of(reply), Some("Accepted" | "Scheduled"))
        } else {
            status_of(reply) == Some("Accepted")
        };
        if reboots {
            st.boot.reboot_expected = Some(Cause::Reset);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::engine::rules::dm::tests::run;
    use crate::finding::Severity;

    /// A trace of one station: `(second, who, text)` where `who` is `open`, `close`,
    /// `charger` or `csms` (for open, `text` is ignored; the subprotocol is `version`).
    pub(crate) fn script(version: &str, events: &[(u32, &str, &str)]) -> String {
        let mut s = String::new();
        for (t, who, text) in events {
            let ts = format!("2026-11-22T10:{:02}:{:02}.000Z", t / 60, t % 60);
            let line = match *who {
                "open" => format!(
                    "{{\"ts\":\"{ts}\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"{version}\"}}"
                ),
                "close" => {
                    format!(
                        "{{\"ts\":\"{ts}\",\"conn\":\"CS-1\",\"event\":\"close\",\"code\":1000,\"by\":\"charger\"}}"
                    )
                }
                from => format!(
                    "{{\"ts\":\"{ts}\",\"conn\":\"CS-1\",\"from\":\"{from}\",\"text\":{}}}",
                    serde_json::to_string(text).unwrap()
                ),
            };
            s.push_str(&line);
            s.push('\n');
        }
        s
    }

    /// The findings of the `seq.*` and `trig.*` rules only.
    pub(crate) fn mine(text: &str) -> Vec<(&'static str, Severity, u64)> {
        run(text)
            .into_iter()
            .filter(|(id, _, _)| id.starts_with("seq.") || id.starts_with("trig."))
            .collect()
    }

    pub(crate) const BOOT16: &str =
        r#"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
    pub(crate) const BOOT2: &str = r#"[2,"b1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;

    pub(crate) fn answer(id: &str, status: &str, interval: i64, t: u32) -> String {
        format!(
            r#"[3,"{id}",{{"status":"{status}","currentTime":"2026-11-22T10:{:02}:{:02}.000Z","interval":{interval}}}]"#,
            t / 60,
            t % 60
        )
    }

    #[test]
    fn a_trace_that_starts_mid_life_is_not_judged() {
        // No BootNotification: registration Unknown; the charger sends, the CSMS asks for a
        // remote start, the trace reconnects; nothing of this family may fire.
        let t = script(
            "ocpp1.6",
            &[
                (0, "open", ""),
                (1, "charger", r#"[2,"c1","Heartbeat",{}]"#),
                (
                    1,
                    "csms",
                    r#"[3,"c1",{"currentTime":"2026-11-22T10:00:01.000Z"}]"#,
                ),
                (
                    2,
                    "csms",
                    r#"[2,"s1","RemoteStartTransaction",{"connectorId":1,"idTag":"T1"}]"#,
                ),
                (2, "charger", r#"[3,"s1",{"status":"Rejected"}]"#),
                (3, "close", ""),
                (10, "open", ""),
                (
                    11,
                    "charger",
                    r#"[2,"c2","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#,
                ),
                (11, "csms", r#"[3,"c2",{}]"#),
                (900, "charger", r#"[2,"c3","Heartbeat",{}]"#),
                (
                    900,
                    "csms",
                    r#"[3,"c3",{"currentTime":"2026-11-22T10:15:00.000Z"}]"#,
                ),
            ],
        );
        assert_eq!(mine(&t), vec![]);
    }

    #[test]
    fn an_accepted_station_may_reconnect_without_booting() {
        let a = answer("b1", "Accepted", 300, 1);
        let t = script(
            "ocpp1.6",
            &[
                (0, "open", ""),
                (1, "charger", BOOT16),
                (1, "csms", &a),
                (
                    2,
                    "charger",
                    r#"[2,"c1","StatusNotification",{"connectorId":0,"errorCode":"NoError","status":"Available"}]"#,
                ),
                (2, "csms", r#"[3,"c1",{}]"#),
                (3, "close", ""),
                (10, "open", ""),
                (11, "charger", r#"[2,"c2","Heartbeat",{}]"#),
                (
                    11,
                    "csms",
                    r#"[3,"c2",{"currentTime":"2026-11-22T10:00:11.000Z"}]"#,
                ),
            ],
        );
        assert_eq!(mine(&t), vec![]);
    }

    #[test]
    fn reconnect_after_an_accepted_reset_without_boot_is_info() {
        let a = answer("b1", "Accepted", 300, 1);
        let t = script(
            "ocpp1.6",
            &[
                (0, "open", ""),
                (1, "charger", BOOT16),
                (1, "csms", &a),
                (
                    2,
                    "charger",
                    r#"[2,"c1","StatusNotification",{"connectorId":0,"errorCode":"NoError","status":"Available"}]"#,
                ),
                (2, "csms", r#"[3,"c1",{}]"#),
                (3, "csms", r#"[2,"s1","Reset",{"type":"Hard"}]"#),
                (3, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
                (4, "close", ""),
                (10, "open", ""),
                (11, "charger", r#"[2,"c2","Heartbeat",{}]"#),
                (
                    11,
                    "csms",
                    r#"[3,"c2",{"currentTime":"2026-11-22T10:00:11.000Z"}]"#,
                ),
            ],
        );
        assert_eq!(mine(&t), vec![("seq.boot-first", Severity::Info, 10)]);
    }

    #[test]
    fn a_triggered_message_is_allowed_while_pending_and_others_are_not() {
        let a = answer("b1", "Pending", 300, 1);
        let t = script(
            "ocpp1.6",
            &[
                (0, "open", ""),
                (1, "charger", BOOT16),
                (1, "csms", &a),
                (
                    2,
                    "csms",
                    r#"[2,"s1","TriggerMessage",{"requestedMessage":"Heartbeat"}]"#,
                ),
                (2, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
                (3, "charger", r#"[2,"c1","Heartbeat",{}]"#),
                (
                    3,
                    "csms",
                    r#"[3,"c1",{"currentTime":"2026-11-22T10:00:03.000Z"}]"#,
                ),
                // The trigger is used up: a second Heartbeat is unsolicited.
                (4, "charger", r#"[2,"c2","Heartbeat",{}]"#),
                (4, "csms", r#"[4,"c2","SecurityError","not accepted",{}]"#),
            ],
        );
        assert_eq!(
            mine(&t),
            vec![("seq.call-while-pending", Severity::Error, 8)]
        );
    }

    #[test]
    fn rejected_station_answers_differ_between_16_and_2x() {
        // 1.6: any answer during the wait is wrong, a SecurityError too.
        let a = answer("b1", "Rejected", 300, 1);
        let t16 = script(
            "ocpp1.6",
            &[
                (0, "open", ""),
                (1, "charger", BOOT16),
                (1, "csms", &a),
                (2, "csms", r#"[2,"s1","ClearCache",{}]"#),
                (2, "charger", r#"[4,"s1","SecurityError","rejected",{}]"#),
            ],
        );
        assert_eq!(
            mine(&t16),
            vec![
                ("seq.csms-call-while-rejected", Severity::Warning, 4),
                ("seq.responded-while-rejected", Severity::Error, 5),
            ]
        );
        // 2.x: SecurityError is the required answer; the CSMS call itself is an error.
        let t2 = script(
            "ocpp2.0.1",
            &[
                (0, "open", ""),
                (1, "charger", BOOT2),
                (1, "csms", &a),
                (2, "csms", r#"[2,"s1","ClearCache",{}]"#),
                (2, "charger", r#"[4,"s1","SecurityError","rejected",{}]"#),
            ],
        );
        assert_eq!(
            mine(&t2),
            vec![("seq.csms-call-while-rejected", Severity::Error, 4)]
        );
    }

    #[test]
    fn an_early_retry_is_allowed_after_a_boot_trigger_and_info_on_a_new_connection() {
        let p = answer("b1", "Pending", 300, 1);
        let p2 = answer("b2", "Pending", 300, 3);
        let boot2 = BOOT2.replace("b1", "b2").replace("PowerUp", "Triggered");
        let boot3 = BOOT2.replace("b1", "b3");
        let t = script(
            "ocpp2.0.1",
            &[
                (0, "open", ""),
                (1, "charger", BOOT2),
                (1, "csms", &p),
                (
                    2,
                    "csms",
                    r#"[2,"s1","TriggerMessage",{"requestedMessage":"BootNotification"}]"#,
                ),
                (2, "charger", r#"[3,"s1",{"status":"Accepted"}]"#),
                (3, "charger", &boot2),
                (3, "csms", &p2),
                (4, "close", ""),
                (20, "open", ""),
                (21, "charger", &boot3),
            ],
        );
        assert_eq!(
            mine(&t),
            vec![
                ("seq.pending-connection-closed", Severity::Error, 8),
                ("seq.boot-retry-too-early", Severity::Info, 10),
            ]
        );
    }

    #[test]
    fn a_callerror_to_the_boot_leaves_the_registration_unknown() {
        let t = script(
            "ocpp2.0.1",
            &[
                (0, "open", ""),
                (1, "charger", BOOT2),
                (1, "csms", r#"[4,"b1","InternalError","db down",{}]"#),
                (2, "charger", r#"[2,"c1","Heartbeat",{}]"#),
                (
                    2,
                    "csms",
                    r#"[3,"c1",{"currentTime":"2026-11-22T10:00:02.000Z"}]"#,
                ),
            ],
        );
        assert_eq!(mine(&t), vec![]);
    }
}
