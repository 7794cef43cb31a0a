//! `seq.*` (registration part): the BootNotification handshake. Judges what each side
//! sends while the station is booting, Pending or Rejected (the registration itself is a
//! station fact, [`Registration`], with its diagram), whether the retry interval of a
//! non-accepted boot is respected, and what a TriggerMessage(BootNotification) may do.
//!
//! A trace that starts mid-life (no BootNotification seen) stays `Unknown` and nothing here
//! fires from that state. This file does not judge heartbeats (`seq/liveness.rs`) nor what a
//! trigger must produce (`trig/trigger.rs`); whether a message was triggered it asks the station
//! model (`Triggers::awaits`, followed as long as `trig/trigger.rs` follows a request), and
//! whether an accepted Reset awaits a reboot it reads from the station's resets.

use super::{
    BOOT_FIRST, BOOT_INTERVAL_SUSPICIOUS, BOOT_REASON_UNEXPECTED, BOOT_RETRY_MISSING,
    BOOT_RETRY_TOO_EARLY, CALL_WHILE_PENDING, CSMS_CALL_WHILE_REJECTED, MESSAGE_WHILE_REJECTED,
    NOT_ACCEPTED_CALL_ANSWERED, PENDING_CONNECTION_CLOSED, REJECTED_REQUEST_NOT_SECURITY_ERROR,
    REMOTE_TX_ACCEPTED_WHILE_PENDING, REMOTE_TX_WHILE_PENDING, RESPONDED_WHILE_REJECTED,
    STATUS_MISSING_AFTER_ACCEPT, TRIGGER_BOOT_AFTER_ACCEPT, TRIGGER_BOOT_AFTER_ACCEPT_ACCEPTED,
};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Outcome, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::trig::trigger;
use crate::engine::rules::{Family, ProtoState};
use crate::engine::station::{Registration, Wake};
use crate::engine::support::{CallRef, int_of, push_capped, status_of, str_of};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// What caused the next boot, as far as the traffic shows (2.x `reason` check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Reset,
    Firmware,
}

/// Why a reboot is expected, if it is: a station-wide Reset accepted and not yet followed
/// by a BootNotification (the station model's; at a BootNotification, the one it
/// completes), or a firmware InstallRebooting since the last boot; the later of the two.
fn reboot_expected(st: &ProtoState) -> Option<Cause> {
    let resets = &st.station.resets;
    let reset = resets.pending().or(resets.completed()).map(|r| r.line);
    match (reset, st.boot.firmware_reboot) {
        (Some(r), Some(f)) if f > r => Some(Cause::Firmware),
        (Some(_), _) => Some(Cause::Reset),
        (None, Some(_)) => Some(Cause::Firmware),
        (None, None) => None,
    }
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
    /// The line of a firmware InstallRebooting since the last boot (a reboot is expected;
    /// the Resets that expect one are the station model's).
    firmware_reboot: Option<u64>,
    /// The Accepted BootNotification whose StatusNotification is awaited, and until when.
    status_due: Option<(CallRef, Timestamp)>,
}

const MAX_FLAGGED: usize = 16;

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

/// The hooks of this family (see [`Family`]).
pub(crate) struct Boot;

impl Family for Boot {
    const VERSIONS: &'static [Version] = ALL;

    fn on_open(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {
        st.boot.conn_called = false;
        st.boot.conn_booted = false;
        st.boot.early_call = None;
    }

    fn on_close(st: &mut ProtoState, ctx: &mut Ctx<'_>, _by: Option<Side>) {
        if st.station.registration == Registration::Pending && reboot_expected(st).is_none() {
            ctx.report(
                &PENDING_CONNECTION_CLOSED,
                "the connection was closed while the station's registration is Pending; it should stay open so the CSMS can configure the station",
            );
        }
        let b = &mut st.boot;
        if let Some(na) = &mut b.not_accepted {
            na.watched = true;
        }
        b.status_due = None;
        b.flagged.clear();
    }

    fn next_due(st: &ProtoState, ctx: &Ctx<'_>, wake: &mut Wake) {
        let b = &st.boot;
        if let Some(na) = &b.not_accepted
            && !na.watched
            && na.interval > 0
        {
            wake.at(Timestamp::after(
                Timestamp::after(na.at, na.interval.saturating_mul(1_000_000)),
                boot_tolerance_us(ctx, na.interval),
            ));
        }
        if let Some((_, due)) = &b.status_due {
            wake.at(*due);
        }
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let is_v2 = st.is_2x();
        let b = &mut st.boot;
        if let Some(na) = &mut b.not_accepted
            && !na.watched
            && na.interval > 0
        {
            let due = Timestamp::after(
                Timestamp::after(na.at, na.interval.saturating_mul(1_000_000)),
                boot_tolerance_us(ctx, na.interval),
            );
            if now > due {
                na.watched = true;
                ctx.report_about(
                    &BOOT_RETRY_MISSING,
                    na.boot.about(),
                    format!(
                        "BootNotification was answered {} with interval {} s, and no new BootNotification came within {:.0} s while the connection stayed open",
                        match st.station.registration {
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

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        match call.from {
            Side::Charger => on_charger_call(st, ctx, call),
            Side::Csms => on_csms_call(st, ctx, call),
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        match reply.caller {
            Side::Charger => on_charger_call_answered(st, ctx, reply),
            Side::Csms => on_csms_call_answered(st, ctx, reply),
        }
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
        st.boot.firmware_reboot = Some(ctx.line());
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
            st.station.registration,
            Registration::Unknown | Registration::Accepted
        )
        && !asked_by_trigger(st, ctx, call.action)
    {
        st.boot.early_call = Some((CallRef::of_call(ctx, call), st.station.registration));
    }
    let now = ctx.now();
    let flagged = match st.station.registration {
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
            let asked = asked_by_trigger(st, ctx, call.action)
                || (st.is_2x() && call.action == "NotifyReport" && st.boot.report_requested);
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
            if first && let Some(cause) = reboot_expected(st) {
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
    let triggered = asked_by_trigger(st, ctx, "BootNotification");
    let seen_from_start = st.station.seen_from_start;
    let severity = if triggered || !seen_from_start {
        Severity::Info
    } else if registration == Registration::Accepted {
        Severity::Warning
    } else {
        Severity::Error
    };
    let why = if triggered {
        " (a TriggerMessage asked for the BootNotification)"
    } else if !seen_from_start {
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

/// Whether a trigger asked for the charger CALL `action` (a request of the station model,
/// followed as long as `trig` follows it).
fn asked_by_trigger(st: &ProtoState, ctx: &Ctx<'_>, action: &str) -> bool {
    st.station.triggers.awaits(action, trigger::followed(ctx))
}

fn on_boot(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let now = ctx.now();
    let conn = st.station.connections_seen;
    if let Some(na) = &st.boot.not_accepted
        && na.interval > 0
        && matches!(
            st.station.registration_before,
            Registration::Pending | Registration::Rejected
        )
    {
        let waited = now.secs_since(na.at);
        let min = na.interval as f64 - boot_tolerance_us(ctx, na.interval) as f64 / 1e6;
        if waited < min && !st.station.triggers.boot_accepted_since(na.at) {
            let msg = format!(
                "BootNotification {waited:.1} s after the previous one was answered {} with interval {} s{}",
                if st.station.registration_before == Registration::Rejected {
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
    if st.is_2x() && call.valid {
        let reason = str_of(call.payload, "reason");
        let expected: Option<(&[&str], &str)> = if asked_by_trigger(st, ctx, "BootNotification") {
            Some((
                &["Triggered"],
                "an accepted TriggerMessage for BootNotification",
            ))
        } else {
            match reboot_expected(st) {
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
    b.firmware_reboot = None;
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
    match st.station.registration {
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
        Registration::Accepted if boot_trigger && st.is_v16() => {
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

/// How an answer that is not CALLERROR SecurityError is described (`None` when it is one).
fn other_than_security_error(outcome: &Outcome<'_>) -> Option<String> {
    match outcome {
        Outcome::Error {
            code: "SecurityError",
        } => None,
        Outcome::Result { .. } => Some("a CALLRESULT".to_owned()),
        Outcome::Error { code } => Some(format!("CALLERROR {code}")),
    }
}

fn on_charger_call_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if let Some(i) = st.boot.flagged.iter().position(|id| **id == *reply.id) {
        st.boot.flagged.remove(i);
        if let Some(got) = other_than_security_error(&reply.outcome) {
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
        // A CALLERROR: what the station makes of it is not specified (the registration
        // is Unknown again).
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
    let conn = st.station.connections_seen;
    let b = &mut st.boot;
    b.flagged.clear();
    match status {
        Some("Accepted") => {
            b.not_accepted = None;
            b.report_requested = false;
            b.status_due = Some((
                CallRef::of_reply(reply),
                Timestamp::after(now, ctx.config().tol.boot_status_window_us),
            ));
        }
        Some("Pending" | "Rejected") => {
            b.not_accepted = Some(NotAccepted {
                boot: CallRef::of_reply(reply),
                at: now,
                interval: interval.unwrap_or(0).max(0),
                conn,
                watched: false,
            });
        }
        _ => {}
    }
}

fn on_csms_call_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let now = ctx.now();
    let boot_trigger = matches!(reply.action, "TriggerMessage" | "ExtendedTriggerMessage")
        && str_of(reply.request, "requestedMessage") == Some("BootNotification");
    match st.station.registration {
        Registration::Rejected if st.is_v16() => {
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
            if let Some(got) = other_than_security_error(&reply.outcome) {
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
}

#[cfg(test)]
mod tests;
