//! `seq.*` (liveness part): heartbeats and clocks. Keeps the heartbeat interval in force
//! (from the last Accepted BootNotification answer, or a later accepted change of
//! HeartbeatInterval) and judges the charger's silence and heartbeat spacing against it,
//! and the peers' clocks against the event timestamps (the observer's clock): the charger's
//! as the station model read it from its CALL's timestamps (`st.station.clock`), the CSMS's
//! from its `currentTime`.
//!
//! The two waits (the next charger CALL within the interval, a Heartbeat within a day of
//! the open) are [`Deadline`]s, fired by event time.
//!
//! It judges only stations known to be accepted (`Station::is_accepted`), so a trace that
//! starts mid-life is not judged for heartbeats. It does not judge response timeouts
//! (`rpc.no-response` does) nor the registration itself (`seq/boot.rs`).

use super::{
    CS_TIMESTAMP_FUTURE, CSMS_CLOCK_DRIFT, HEARTBEAT_INTERVAL_IGNORED, HEARTBEAT_OVERDUE,
    NO_DAILY_HEARTBEAT,
};
use crate::wire::doc::Json;

use crate::engine::protocol::{Call, OpenInfo, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::trig::trigger;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{Deadline, Wake};
use crate::engine::support::{CallRef, arr_of, int_of, status_of, str_of};
use crate::engine::{About, Ctx};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The heartbeat interval in force, in seconds (> 0).
    interval: Option<i64>,
    open: bool,
    /// The charger's last CALL on the open connection, until `seq.heartbeat-overdue` is
    /// reported about it.
    last_call: Option<CallRef>,
    /// The next CALL is due (the interval in force, with its slack) after `last_call`.
    overdue: Deadline<()>,
    /// Consecutive heartbeats with no other charger CALL between them.
    run: Vec<Timestamp>,
    drift_reported: bool,
    future_reported: bool,
    /// The open event of the current connection (line, time), due a day later, while no
    /// Heartbeat came on it and `seq.no-daily-heartbeat` was not reported.
    no_heartbeat: Deadline<(u64, Timestamp)>,
}

/// A day, in microseconds.
const DAY_US: i64 = 24 * 3600 * 1_000_000;

fn slack_us(ctx: &Ctx<'_>, interval: i64, sign: f64) -> f64 {
    interval as f64 * 1e6 * (1.0 + sign * ctx.config().tol.heartbeat_slack_ratio)
}

/// Waits for the charger's next CALL after `last_call` (on an open connection, with an
/// interval in force): due once the interval and its slack have passed.
fn arm_overdue(l: &mut State, ctx: &Ctx<'_>) {
    l.overdue.clear_all();
    if let (true, Some(interval), Some(last)) = (l.open, l.interval, &l.last_call) {
        // Whole microseconds: past the due time is past the (fractional) limit.
        #[expect(clippy::cast_possible_truncation, reason = "a limit in microseconds")]
        let limit = slack_us(ctx, interval, 1.0) as i64;
        l.overdue.arm(last.at.after(limit), ());
    }
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Liveness;

impl Family for Liveness {
    const VERSIONS: &'static [Version] = ALL;
    const REPLIES: Listen = Listen::Only(&[
        "BootNotification",
        "Heartbeat",
        "ChangeConfiguration",
        "SetVariables",
    ]);

    fn on_open(st: &mut ProtoState, ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {
        let l = &mut st.liveness;
        l.no_heartbeat.clear_all();
        l.no_heartbeat
            .arm(ctx.now().after(DAY_US), (ctx.line(), ctx.now()));
        l.open = true;
        l.last_call = None;
        l.overdue.clear_all();
        l.run.clear();
    }

    fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
        let l = &mut st.liveness;
        l.open = false;
        l.last_call = None;
        l.overdue.clear_all();
        l.run.clear();
        l.no_heartbeat.clear_all();
    }

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        wake.at(st.liveness.no_heartbeat.next_due());
        wake.at(st.liveness.overdue.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let accepted = st.station.is_accepted();
        let l = &mut st.liveness;
        if let Some((_, (line, at))) = l.no_heartbeat.expired(now) {
            ctx.report_about(
                &NO_DAILY_HEARTBEAT,
                About {
                    line,
                    at,
                    from: None,
                    unique_id: None,
                    action: None,
                },
                format!(
                    "the connection has been open for {:.1} h without a single Heartbeat from the charger; one a day is advised for clock synchronisation",
                    now.secs_since(at) / 3600.0
                ),
            );
        }
        // Judged only while the station is accepted: an earlier event past the due time
        // leaves the wait armed.
        let Some(interval) = l.interval.filter(|_| accepted) else {
            return;
        };
        let limit = slack_us(ctx, interval, 1.0);
        if l.overdue.expired(now).is_some()
            && let Some(last) = l.last_call.take()
        {
            let silent = now.micros().saturating_sub(last.at.micros()) as f64;
            ctx.report_about(
                &HEARTBEAT_OVERDUE,
                last.about(),
                format!(
                    "no CALL from the charger for {:.0} s after this one; the heartbeat interval is {interval} s (tolerated up to {:.0} s)",
                    silent / 1e6,
                    limit / 1e6
                ),
            );
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        if call.from != Side::Charger {
            return;
        }
        let now = ctx.now();
        // SecurityEventNotification has its own rule (`sec.event-timestamp-future`).
        if call.valid && call.action != "SecurityEventNotification" {
            check_future(st, ctx, call.payload);
        }
        let triggered = st
            .station
            .triggers
            .awaits(call.action, trigger::followed(ctx));
        let accepted = st.station.is_accepted();
        let l = &mut st.liveness;
        if call.action == "Heartbeat" {
            l.no_heartbeat.clear_all();
        }
        l.last_call = Some(CallRef::of_call(ctx, call));
        arm_overdue(l, ctx);
        if call.action != "Heartbeat" || triggered || !accepted {
            l.run.clear();
            return;
        }
        l.run.push(now);
        let Some(interval) = l.interval else {
            l.run.clear();
            return;
        };
        if l.run.len() < 3 {
            return;
        }
        let n = l.run.len();
        let gaps = [
            l.run[n - 2].micros().saturating_sub(l.run[n - 3].micros()) as f64,
            l.run[n - 1].micros().saturating_sub(l.run[n - 2].micros()) as f64,
        ];
        let (low, high) = (slack_us(ctx, interval, -1.0), slack_us(ctx, interval, 1.0));
        let fast = gaps.iter().all(|g| *g < low);
        let slow = gaps.iter().all(|g| *g > high);
        if fast || slow {
            l.run.clear();
            ctx.report(
                &HEARTBEAT_INTERVAL_IGNORED,
                format!(
                    "the last three Heartbeats came {:.0} s and {:.0} s apart; the heartbeat interval is {interval} s",
                    gaps[0] / 1e6,
                    gaps[1] / 1e6
                ),
            );
        } else {
            l.run.remove(0);
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        match reply.action {
            "BootNotification" | "Heartbeat" if reply.caller == Side::Charger => {
                let Some(result) = reply.result() else {
                    return;
                };
                check_drift(st, ctx, result);
                if reply.action == "BootNotification"
                    && str_of(result, "status") == Some("Accepted")
                    && let Some(i) = int_of(result, "interval").filter(|i| *i > 0)
                {
                    set_interval(st, ctx, i);
                }
            }
            "ChangeConfiguration" if reply.caller == Side::Csms => {
                if status_of(reply) == Some("Accepted")
                    && str_of(reply.request, "key")
                        .is_some_and(|k| k.eq_ignore_ascii_case("HeartbeatInterval"))
                    && let Some(i) = str_of(reply.request, "value").and_then(parse_secs)
                {
                    set_interval(st, ctx, i);
                }
            }
            "SetVariables" if reply.caller == Side::Csms => {
                let Some(result) = reply.result() else {
                    return;
                };
                if let Some(i) = heartbeat_set(reply.request, result) {
                    set_interval(st, ctx, i);
                }
            }
            _ => {}
        }
    }
}

/// `cs.timestamp-future`: the charger CALL whose payload is `p` showed the clock offset the
/// station model read from it (its latest timestamp against the recording time).
fn check_future(st: &mut ProtoState, ctx: &mut Ctx<'_>, p: Json<'_>) {
    let Some(ahead) = st.station.clock.of_last_call() else {
        return;
    };
    let skew = ctx.config().tol.clock_skew_us;
    let l = &mut st.liveness;
    if ahead <= skew {
        l.future_reported = false;
        return;
    }
    if l.future_reported {
        return;
    }
    // Read again only to name it, once per run of frames ahead.
    let Some(s) = st.station.clock.shown_by(p, ctx.now()) else {
        return;
    };
    l.future_reported = true;
    ctx.report(
        &CS_TIMESTAMP_FUTURE,
        format!(
            "timestamp {s} is {:.0} s later than the time the frame was recorded (tolerated: {:.0} s); the charger's clock runs ahead",
            ahead as f64 / 1e6,
            skew as f64 / 1e6
        ),
    );
}

fn parse_secs(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|i| *i > 0)
}

fn set_interval(st: &mut ProtoState, ctx: &Ctx<'_>, interval: i64) {
    let l = &mut st.liveness;
    if l.interval != Some(interval) {
        l.run.clear();
    }
    l.interval = Some(interval);
    // The wait for the next CALL counts with the interval now in force.
    arm_overdue(l, ctx);
}

/// The HeartbeatInterval a SetVariables request set and its answer accepted, if any.
fn heartbeat_set(request: Json<'_>, result: Json<'_>) -> Option<i64> {
    let is_hb = |d: Json<'_>| {
        d.get("component").and_then(|c| str_of(c, "name")) == Some("OCPPCommCtrlr")
            && d.get("variable").and_then(|v| str_of(v, "name")) == Some("HeartbeatInterval")
            && str_of(d, "attributeType").is_none_or(|a| a == "Actual")
    };
    let asked = arr_of(request, "setVariableData")
        .iter()
        .find(|&d| is_hb(d))?;
    let accepted = arr_of(result, "setVariableResult")
        .iter()
        .any(|r| is_hb(r) && str_of(r, "attributeStatus") == Some("Accepted"));
    if !accepted {
        return None;
    }
    str_of(asked, "attributeValue").and_then(parse_secs)
}

fn check_drift(st: &mut ProtoState, ctx: &mut Ctx<'_>, result: Json<'_>) {
    let Some(t) = str_of(result, "currentTime").and_then(|s| Timestamp::parse_rfc3339(s).ok())
    else {
        return;
    };
    let now = ctx.now();
    let off = t.micros().saturating_sub(now.micros());
    let skew = ctx.config().tol.clock_skew_us;
    let l = &mut st.liveness;
    if off.saturating_abs() <= skew {
        l.drift_reported = false;
        return;
    }
    if l.drift_reported {
        return;
    }
    l.drift_reported = true;
    ctx.report(
        &CSMS_CLOCK_DRIFT,
        format!(
            "currentTime is {:.0} s {} the time the frame was recorded (tolerated: {:.0} s)",
            off.saturating_abs() as f64 / 1e6,
            if off > 0 { "ahead of" } else { "behind" },
            skew as f64 / 1e6
        ),
    );
}

#[cfg(test)]
mod tests;
