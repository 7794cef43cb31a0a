//! `resv.*`: reservations, judged against the station's model of them
//! ([`station::Reservations`](crate::engine::station::Reservations)), which follows each
//! ReserveNow from its request to its end as the messages tell it before this family runs.
//!
//! What this family keeps is its own: per reservation (by serial) the due times it waits
//! for (a Reserved status, a ReservationStatusUpdate Removed), an Occupied it reported, and
//! the ends it decides from settings: expired (the expiry plus `followup_window` passed, or
//! 1.6 its connector left Reserved within `clock_skew` of the expiry), removed (2.x: no
//! ReservationStatusUpdate Removed in time), cancelled (an accepted cancel within
//! `clock_skew` after the expiry). The effective state of a reservation is that end, if
//! any, else the model's. Whether the target of a reservation could be reserved at all it
//! judges from the last status of its connectors, as the station model's
//! [`Connectors`](crate::engine::station::Connectors) kept it. It must not keep a reservation
//! list or connector statuses of its own.

use super::{
    BUSY_TARGET_ACCEPTED, CANCEL_KNOWN_REJECTED, CANCEL_STATUS_MISSING, CANCEL_UNKNOWN_ACCEPTED,
    CONNECTOR_ZERO_ACCEPTED_UNSUPPORTED, EXPIRY_NOT_REPORTED, OCCUPIED_WITHOUT_TOKEN,
    REMOVED_NOT_REPORTED, STATUS_NOT_RESERVED,
};

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{Cfg, Deadlines, End, RState, Reservation, Reservations, Wake};
use crate::engine::support::{
    CallRef, availability_states, int_of, push_capped, report_not_followed, status_of, str_of,
};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

const MAX_CANCELS: usize = 8;

/// What this family keeps of one reservation of the model (by its serial).
#[derive(Debug, Default)]
struct Watch {
    serial: u64,
    /// The end this family decided (from a setting), over the model's state.
    end: Option<End>,
    /// A Reserved status is expected by then.
    status_due: Option<Timestamp>,
    /// 2.x: a ReservationStatusUpdate Removed is expected by then.
    removal_due: Option<Timestamp>,
    /// `resv.occupied-without-token` was reported for it.
    occupied_reported: bool,
}

#[derive(Debug)]
struct CancelWatch {
    evse: i64,
    call: CallRef,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Per reservation of the model, created when first needed.
    #[expect(
        clippy::box_collection,
        reason = "most stations never reserve: 8 bytes against 24 for an empty Vec"
    )]
    watches: Option<Box<Vec<Watch>>>,
    cancels: Deadlines<CancelWatch, MAX_CANCELS>,
}

impl State {
    fn watch(&self, serial: u64) -> Option<&Watch> {
        self.watches.as_ref()?.iter().find(|w| w.serial == serial)
    }

    /// What this family keeps of reservation `serial`, created when first needed; what
    /// belongs to reservations the model forgot goes when the list is full.
    fn watch_mut(&mut self, model: &Reservations, serial: u64) -> &mut Watch {
        let watches = self.watches.get_or_insert_default();
        if let Some(i) = watches.iter().position(|w| w.serial == serial) {
            return &mut watches[i];
        }
        if watches.len() >= MAX_WATCHES {
            watches.retain(|w| model.iter().any(|r| r.serial == w.serial));
        }
        push_capped(
            watches,
            Watch {
                serial,
                ..Watch::default()
            },
            MAX_WATCHES,
        );
        let last = watches.len() - 1;
        &mut watches[last]
    }

    /// The state of reservation `r`: the end this family decided, else the model's.
    fn state(&self, r: &Reservation) -> RState {
        self.state_of(r.serial, r.state)
    }

    fn state_of(&self, serial: u64, model: RState) -> RState {
        match self.watch(serial).and_then(|w| w.end) {
            Some(end) => RState::Ended(end),
            None => model,
        }
    }

    fn is_active(&self, r: &Reservation) -> bool {
        self.state(r) == RState::Active
    }
}

const MAX_WATCHES: usize = crate::engine::station::MAX_RESERVATIONS;

/// The hooks of this family (see [`Family`]).
pub(crate) struct Resv;

impl Family for Resv {
    const VERSIONS: &'static [Version] = ALL;
    const CALLS: Listen = Listen::Only(&["StatusNotification", "NotifyEvent"]);
    const REPLIES: Listen = Listen::Only(&["ReserveNow", "CancelReservation"]);

    fn next_due(st: &ProtoState, ctx: &Ctx<'_>, wake: &mut Wake) {
        let window = ctx.config().tol.followup_window_us;
        let rs = &st.resv;
        for r in st.station.reservations.iter() {
            if !rs.is_active(r) {
                continue;
            }
            if let Some(w) = rs.watch(r.serial) {
                wake.at(w.status_due);
                wake.at(w.removal_due);
            }
            wake.at(r.expiry.map(|e| Timestamp::after(e, window)));
        }
        wake.at(rs.cancels.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let v16 = st.is_v16();
        let window = ctx.config().tol.followup_window_us;
        let secs = window as f64 / 1e6;
        let model = &st.station.reservations;
        let rs = &mut st.resv;
        for r in model.iter() {
            if !rs.is_active(r) {
                continue;
            }
            let (status_due, removal_due) = rs
                .watch(r.serial)
                .map_or((None, None), |w| (w.status_due, w.removal_due));
            if let Some(due) = status_due
                && now > due
            {
                rs.watch_mut(model, r.serial).status_due = None;
                if !r.reserved_seen {
                    ctx.report_about(
                            &STATUS_NOT_RESERVED,
                            r.call.about(),
                            format!(
                                "reservation {} of {} {} was accepted, but no Reserved status was reported for it within {secs:.0} s",
                                r.id,
                                if v16 { "connector" } else { "EVSE" },
                                r.target.unwrap_or(0)
                            ),
                        );
                }
            }
            if let Some(due) = removal_due
                && now > due
            {
                rs.watch_mut(model, r.serial).end = Some(End::Removed);
                report_not_followed(
                    ctx,
                    &REMOVED_NOT_REPORTED,
                    r.call.about(),
                    &format!(
                        "EVSE {} of reservation {} became faulted or unavailable, and no ReservationStatusUpdate Removed",
                        r.target.unwrap_or(0),
                        r.id
                    ),
                );
                continue;
            }
            if let Some(expiry) = r.expiry
                && now > Timestamp::after(expiry, window)
            {
                rs.watch_mut(model, r.serial).end = Some(End::Expired);
                // 1.6: only a connector that went Reserved has a status to leave.
                let judged = !v16 || (r.reserved_seen && r.target.is_some_and(|t| t > 0));
                if judged {
                    ctx.report_about(
                        &EXPIRY_NOT_REPORTED,
                        r.call.about(),
                        format!(
                            "reservation {} expired at {expiry} and {} within {secs:.0} s",
                            r.id,
                            if v16 {
                                "its connector reported no new status"
                            } else {
                                "no ReservationStatusUpdate Expired came"
                            }
                        ),
                    );
                }
            }
        }
        for (_, c) in rs.cancels.expired(now) {
            report_not_followed(
                ctx,
                &CANCEL_STATUS_MISSING,
                c.call.about(),
                &format!(
                    "the reservation of EVSE {} was cancelled, and no Available status for it",
                    c.evse
                ),
            );
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        let p = call.payload;
        match (call.action, call.from) {
            ("StatusNotification", Side::Charger) => {
                if st.is_v16() {
                    if let (Some(c), Some(s)) = (int_of(p, "connectorId"), str_of(p, "status")) {
                        status16(st, ctx, c, s);
                    }
                } else if let (Some(e), Some(_), Some(s)) = (
                    int_of(p, "evseId"),
                    int_of(p, "connectorId"),
                    str_of(p, "connectorStatus"),
                ) {
                    status2(st, ctx, e, s);
                }
            }
            ("NotifyEvent", Side::Charger) => {
                for a in availability_states(p) {
                    status2(st, ctx, a.evse, a.state);
                }
            }
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        match reply.action {
            "ReserveNow" => reserve_reply(st, ctx, reply),
            "CancelReservation" => cancel_reply(st, ctx, reply),
            _ => {}
        }
    }
}

fn status16(st: &mut ProtoState, ctx: &Ctx<'_>, connector: i64, status: &str) {
    let skew = ctx.config().tol.clock_skew_us;
    let now = ctx.now();
    let model = &st.station.reservations;
    let rs = &mut st.resv;
    // Reserved, Faulted and Unavailable the model followed; leaving Reserved near the
    // expiry (within the clock skew) ends the reservation as expired.
    if matches!(status, "Reserved" | "Faulted" | "Unavailable") {
        return;
    }
    for r in model.iter() {
        if r.target == Some(connector)
            && rs.is_active(r)
            && r.reserved_seen
            && r.expiry
                .is_some_and(|e| now.micros() >= e.micros().saturating_sub(skew))
        {
            rs.watch_mut(model, r.serial).end = Some(End::Expired);
        }
    }
}

fn status2(st: &mut ProtoState, ctx: &mut Ctx<'_>, evse: i64, status: &str) {
    let window = ctx.config().tol.followup_window_us;
    let now = ctx.now();
    let model = &st.station.reservations;
    let rs = &mut st.resv;
    if status == "Available" {
        rs.cancels.clear(|c| c.evse == evse);
    }
    if !matches!(status, "Faulted" | "Unavailable" | "Occupied") {
        return;
    }
    for r in model.iter() {
        if r.target != Some(evse) || !rs.is_active(r) {
            continue;
        }
        let w = rs.watch_mut(model, r.serial);
        match status {
            "Faulted" | "Unavailable" if w.removal_due.is_none() => {
                w.removal_due = Some(Timestamp::after(now, window));
            }
            "Occupied" if !r.token_presented && !w.occupied_reported => {
                ctx.report(
                    &OCCUPIED_WITHOUT_TOKEN,
                    format!(
                        "EVSE {evse} is reserved (reservation {}) and reported Occupied, but the reserved idToken was not presented",
                        r.id
                    ),
                );
                w.occupied_reported = true;
            }
            _ => {}
        }
    }
}

/// Why the target of a reservation could not be reserved, from its last statuses.
fn busy_reason(st: &ProtoState, target: i64) -> Option<String> {
    // Reserved by this very reservation: the one it replaces, or itself when the charger
    // reported Reserved before its answer.
    let other_reservation = |_: i64| !st.station.reservations.held_by_itself();
    if st.is_v16() {
        let s = st.station.connectors.last(None, target)?.name();
        let busy = match s {
            "Faulted" | "Unavailable" => true,
            "Reserved" => target > 0 && other_reservation(target),
            "Preparing" | "Charging" | "SuspendedEV" | "SuspendedEVSE" | "Finishing" => target > 0,
            _ => false,
        };
        busy.then(|| format!("connector {target} last reported {s}"))
    } else {
        st.station
            .connectors
            .iter()
            .filter(|c| !c.v16 && c.evse == target)
            .find(|c| match c.last.name() {
                "Occupied" | "Faulted" | "Unavailable" => true,
                "Reserved" => other_reservation(target),
                _ => false,
            })
            .map(|c| {
                format!(
                    "connector {} of EVSE {} last reported {}",
                    c.id,
                    c.evse,
                    c.last.name()
                )
            })
    }
}

fn reserve_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let v16 = st.is_v16();
    let id = int_of(reply.request, if v16 { "reservationId" } else { "id" });
    let Some(id) = id else { return };
    if status_of(reply) != Some("Accepted") {
        return;
    }
    let target = int_of(reply.request, if v16 { "connectorId" } else { "evseId" });
    if v16 && target == Some(0) {
        let zero = st.station.config.key("ReserveConnectorZeroSupported");
        let unsupported = match zero {
            Cfg::Absent => Some("is absent from the charger's configuration"),
            Cfg::Value(v) if v.trim().eq_ignore_ascii_case("false") => Some("is false"),
            _ => None,
        };
        if let Some(why) = unsupported {
            ctx.report(
                &CONNECTOR_ZERO_ACCEPTED_UNSUPPORTED,
                format!(
                    "ReserveNow for connector 0 answered Accepted, but ReserveConnectorZeroSupported {why}"
                ),
            );
        }
    }
    if let Some(t) = target
        && let Some(why) = busy_reason(st, t)
    {
        ctx.report(
            &BUSY_TARGET_ACCEPTED,
            format!("ReserveNow {id} answered Accepted although {why}"),
        );
    }
    let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
    let model = &st.station.reservations;
    // The reservation the model just activated (the latest of this id).
    let Some(r) = model.iter().filter(|r| r.id == id).last() else {
        return;
    };
    if r.state != RState::Active {
        return;
    }
    let specific = if v16 {
        target.is_some_and(|t| t > 0)
    } else {
        target.is_some()
    };
    if specific && !r.reserved_seen {
        st.resv.watch_mut(model, r.serial).status_due = Some(due);
    }
}

fn cancel_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let (Some(id), Some(status)) = (int_of(reply.request, "reservationId"), status_of(reply))
    else {
        return;
    };
    let v2 = !st.is_v16();
    let now = ctx.now();
    let skew = ctx.config().tol.clock_skew_us;
    let due = Timestamp::after(now, ctx.config().tol.followup_window_us);
    let boot_seen = st.station.booted();
    let model = &st.station.reservations;
    let rs = &mut st.resv;
    // What the model found for the id, before this answer.
    let found = model
        .cancel_found()
        .flatten()
        .and_then(|(serial, before)| Some((model.iter().find(|r| r.serial == serial)?, before)));
    let (state, expired, target) = match found {
        Some((r, before)) => (
            Some(rs.state_of(r.serial, before)),
            r.expiry
                .is_some_and(|e| now.micros() > e.micros().saturating_add(skew)),
            // Only a connector that went Reserved has to be reported Available again.
            r.target.filter(|_| r.reserved_seen),
        ),
        None => (None, false, None),
    };
    match status {
        "Accepted" => {
            match state {
                Some(RState::Active) if !expired => {
                    if let Some((r, _)) = found {
                        // The model does not cancel after the expiry; within the skew, this
                        // family does.
                        rs.watch_mut(model, r.serial).end = Some(End::Cancelled);
                    }
                    if let (true, Some(evse)) = (v2, target) {
                        rs.cancels.arm(
                            due,
                            CancelWatch {
                                evse,
                                call: CallRef::of_reply(reply),
                            },
                        );
                    }
                }
                Some(RState::Ended(end)) if end != End::Expired => ctx.report(
                    &CANCEL_UNKNOWN_ACCEPTED,
                    format!(
                        "CancelReservation {id} answered Accepted, but reservation {id} was already {}",
                        end.as_str()
                    ),
                ),
                Some(_) => ctx.report_as(
                    &CANCEL_UNKNOWN_ACCEPTED,
                    Severity::Warning,
                    format!(
                        "CancelReservation {id} answered Accepted, but reservation {id} has expired"
                    ),
                ),
                None => ctx.report_as(
                    &CANCEL_UNKNOWN_ACCEPTED,
                    Severity::Warning,
                    format!(
                        "CancelReservation {id} answered Accepted, but no accepted reservation {id} was seen{}",
                        if boot_seen {
                            ""
                        } else {
                            " (it may predate the trace)"
                        }
                    ),
                ),
            }
        }
        "Rejected" if state == Some(RState::Active) && !expired => ctx.report(
            &CANCEL_KNOWN_REJECTED,
            format!("CancelReservation {id} answered Rejected, but reservation {id} is active"),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
