//! `resv.*`: reservations. Each ReserveNow is followed from its answer to its end:
//!
//! ```text
//! ReserveNow ──Accepted──► Active ──StartTransaction / TransactionEvent with it──► Consumed
//!     │                      ├──CancelReservation Accepted──────────────────────► Cancelled
//!     └─other answer: gone   ├──expiry (1.6: connector leaves Reserved;
//!                            │          2.x: ReservationStatusUpdate Expired)──► Expired
//!                            └──connector/EVSE Faulted or Unavailable
//!                                       (2.x: ReservationStatusUpdate Removed)─► Removed
//! ```
//!
//! The last status of every connector (1.6) and EVSE connector (2.x) is kept here too, from
//! StatusNotification and 2.x NotifyEvent `AvailabilityState`, to judge whether the target
//! of a reservation could be reserved at all.

use super::{
    BUSY_TARGET_ACCEPTED, CANCEL_KNOWN_REJECTED, CANCEL_STATUS_MISSING, CANCEL_UNKNOWN_ACCEPTED,
    CONNECTOR_ZERO_ACCEPTED_UNSUPPORTED, EXPIRY_NOT_REPORTED, OCCUPIED_WITHOUT_TOKEN,
    REMOVED_NOT_REPORTED, STATUS_NOT_RESERVED,
};
use crate::wire::doc::Json;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::Cfg;
use crate::engine::station::Deadlines;
use crate::engine::support::{CallRef, arr_of, int_of, push_capped, status_of, str_of};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

const MAX_RESERVATIONS: usize = 32;
const MAX_STATUSES: usize = 64;
const MAX_CANCELS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Consumed,
    Cancelled,
    Expired,
    Removed,
}

impl End {
    fn as_str(self) -> &'static str {
        match self {
            End::Consumed => "used by a transaction",
            End::Cancelled => "cancelled",
            End::Expired => "expired",
            End::Removed => "removed (connector faulted or unavailable)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RState {
    /// ReserveNow sent, not answered yet.
    Requested,
    Active,
    Ended(End),
}

#[derive(Debug)]
struct Reservation {
    id: i64,
    /// 1.6 connector (0 = any); 2.x EVSE (`None` = any).
    target: Option<i64>,
    token: Box<str>,
    group: Option<Box<str>>,
    expiry: Option<Timestamp>,
    call: CallRef,
    state: RState,
    reserved_seen: bool,
    token_presented: bool,
    /// A Reserved status is expected by then.
    status_due: Option<Timestamp>,
    /// 2.x: a ReservationStatusUpdate Removed is expected by then.
    removal_due: Option<Timestamp>,
}

impl Reservation {
    fn is_active(&self) -> bool {
        self.state == RState::Active
    }
}

#[derive(Debug)]
struct CancelWatch {
    evse: i64,
    call: CallRef,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    reservations: Vec<Reservation>,
    /// 1.6: (connector, last status).
    status16: Vec<(i64, &'static str)>,
    /// 2.x: (evse, connector, last status).
    status2: Vec<(i64, i64, &'static str)>,
    cancels: Deadlines<CancelWatch, MAX_CANCELS>,
}

impl State {
    fn find(&mut self, id: i64) -> Option<&mut Reservation> {
        self.reservations
            .iter_mut()
            .rev()
            .find(|r| r.id == id && r.state != RState::Requested)
    }
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Resv;

impl Family for Resv {
    const VERSIONS: &'static [Version] = ALL;
    const CALLS: Listen = Listen::Only(&[
        "ReserveNow",
        "StatusNotification",
        "NotifyEvent",
        "ReservationStatusUpdate",
        "StartTransaction",
        "TransactionEvent",
        "Authorize",
    ]);
    const REPLIES: Listen = Listen::Only(&["ReserveNow", "CancelReservation"]);

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let v16 = st.is_v16();
        let window = ctx.config().tol.followup_window_us;
        let secs = window as f64 / 1e6;
        let rs = &mut st.resv;
        for r in &mut rs.reservations {
            if !r.is_active() {
                continue;
            }
            if let Some(due) = r.status_due
                && now > due
            {
                r.status_due = None;
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
            if let Some(due) = r.removal_due
                && now > due
            {
                r.state = RState::Ended(End::Removed);
                ctx.report_about(
                        &REMOVED_NOT_REPORTED,
                        r.call.about(),
                        format!(
                            "EVSE {} of reservation {} became faulted or unavailable, and no ReservationStatusUpdate Removed followed within {secs:.0} s",
                            r.target.unwrap_or(0),
                            r.id
                        ),
                    );
                continue;
            }
            if let Some(expiry) = r.expiry
                && now > Timestamp::after(expiry, window)
            {
                r.state = RState::Ended(End::Expired);
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
            ctx.report_about(
                &CANCEL_STATUS_MISSING,
                c.call.about(),
                format!(
                    "the reservation of EVSE {} was cancelled, and no Available status for it followed within {secs:.0} s",
                    c.evse
                ),
            );
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        let p = call.payload;
        let v16 = st.is_v16();
        match (call.action, call.from) {
            ("ReserveNow", Side::Csms) => {
                let (id, target, token, group, expiry) = if v16 {
                    (
                        int_of(p, "reservationId"),
                        int_of(p, "connectorId"),
                        str_of(p, "idTag"),
                        str_of(p, "parentIdTag"),
                        str_of(p, "expiryDate"),
                    )
                } else {
                    (
                        int_of(p, "id"),
                        int_of(p, "evseId"),
                        p.get("idToken").and_then(|t| str_of(t, "idToken")),
                        p.get("groupIdToken").and_then(|t| str_of(t, "idToken")),
                        str_of(p, "expiryDateTime"),
                    )
                };
                let (Some(id), Some(token)) = (id, token) else {
                    return;
                };
                let rs = &mut st.resv;
                rs.reservations
                    .retain(|r| !(r.id == id && r.state == RState::Requested));
                push_capped(
                    &mut rs.reservations,
                    Reservation {
                        id,
                        target,
                        token: Box::from(token),
                        group: group.map(Box::from),
                        expiry: expiry.and_then(|e| Timestamp::parse_rfc3339(e).ok()),
                        call: CallRef::of_call(ctx, call),
                        state: RState::Requested,
                        reserved_seen: false,
                        token_presented: false,
                        status_due: None,
                        removal_due: None,
                    },
                    MAX_RESERVATIONS,
                );
            }
            ("StatusNotification", Side::Charger) => {
                if v16 {
                    if let (Some(c), Some(s)) = (int_of(p, "connectorId"), str_of(p, "status")) {
                        status16(st, ctx, c, s);
                    }
                } else if let (Some(e), Some(c), Some(s)) = (
                    int_of(p, "evseId"),
                    int_of(p, "connectorId"),
                    str_of(p, "connectorStatus"),
                ) {
                    status2(st, ctx, e, Some(c), s);
                }
            }
            ("NotifyEvent", Side::Charger) => {
                for d in arr_of(p, "eventData") {
                    let comp = d.get("component").unwrap_or(Json::null());
                    let var = d.get("variable").unwrap_or(Json::null());
                    if !matches!(str_of(comp, "name"), Some("Connector" | "EVSE"))
                        || str_of(var, "name") != Some("AvailabilityState")
                    {
                        continue;
                    }
                    let evse = comp.get("evse");
                    let (Some(e), Some(s)) =
                        (evse.and_then(|e| int_of(e, "id")), str_of(d, "actualValue"))
                    else {
                        continue;
                    };
                    let c = evse.and_then(|e| int_of(e, "connectorId"));
                    status2(st, ctx, e, c, s);
                }
            }
            ("ReservationStatusUpdate", Side::Charger) => {
                if let (Some(id), Some(s)) = (
                    int_of(p, "reservationId"),
                    str_of(p, "reservationUpdateStatus"),
                ) && let Some(r) = st.resv.find(id)
                    && r.is_active()
                {
                    r.state = RState::Ended(if s == "Removed" {
                        End::Removed
                    } else {
                        End::Expired
                    });
                }
            }
            ("StartTransaction", Side::Charger) => {
                let connector = int_of(p, "connectorId");
                let tag = str_of(p, "idTag");
                let by_id = int_of(p, "reservationId");
                consume(st, by_id, connector, tag);
            }
            ("TransactionEvent", Side::Charger) => {
                let token = p.get("idToken").and_then(|t| str_of(t, "idToken"));
                if let Some(t) = token {
                    presented(st, t);
                }
                let by_id = p.get("reservationId").and_then(Json::as_i64);
                let started = str_of(p, "eventType") == Some("Started");
                let evse = p.get("evse").and_then(|e| int_of(e, "id"));
                if by_id.is_some() || started {
                    consume(st, by_id, evse, if started { token } else { None });
                }
            }
            ("Authorize", Side::Charger) => {
                let token = if v16 {
                    str_of(p, "idTag")
                } else {
                    p.get("idToken").and_then(|t| str_of(t, "idToken"))
                };
                if let Some(t) = token {
                    presented(st, t);
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

/// The reserved token (or its group) was presented.
fn presented(st: &mut ProtoState, token: &str) {
    for r in st.resv.reservations.iter_mut().filter(|r| r.is_active()) {
        if &*r.token == token || r.group.as_deref() == Some(token) {
            r.token_presented = true;
        }
    }
}

/// A transaction started: with the reservation's id, or with its token on its target.
fn consume(st: &mut ProtoState, by_id: Option<i64>, target: Option<i64>, token: Option<&str>) {
    for r in st.resv.reservations.iter_mut().filter(|r| r.is_active()) {
        let same_target = match (r.target, target) {
            (None | Some(0), _) => true,
            (Some(a), Some(b)) => a == b,
            (Some(_), None) => false,
        };
        let by_token = token.is_some_and(|t| &*r.token == t || r.group.as_deref() == Some(t));
        if by_id == Some(r.id) || (by_token && same_target) {
            r.state = RState::Ended(End::Consumed);
            return;
        }
    }
}

/// The connector statuses of both versions, so the last status is kept without allocating.
const STATUSES: &[&str] = &[
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEVSE",
    "SuspendedEV",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
    "Occupied",
];

fn intern(status: &str) -> Option<&'static str> {
    STATUSES.iter().copied().find(|s| *s == status)
}

fn set_status16(list: &mut Vec<(i64, &'static str)>, c: i64, s: &str) {
    let Some(s) = intern(s) else { return };
    match list.iter_mut().find(|(x, _)| *x == c) {
        Some(slot) => slot.1 = s,
        None => push_capped(list, (c, s), MAX_STATUSES),
    }
}

fn status16(st: &mut ProtoState, ctx: &Ctx<'_>, connector: i64, status: &str) {
    let skew = ctx.config().tol.clock_skew_us;
    let now = ctx.now();
    let rs = &mut st.resv;
    set_status16(&mut rs.status16, connector, status);
    for r in rs
        .reservations
        .iter_mut()
        .filter(|r| r.state != RState::Requested || status == "Reserved")
    {
        if r.target != Some(connector) || matches!(r.state, RState::Ended(_)) {
            continue;
        }
        match status {
            "Reserved" => r.reserved_seen = true,
            "Faulted" | "Unavailable" if r.is_active() => r.state = RState::Ended(End::Removed),
            _ if r.is_active()
                && r.reserved_seen
                && r.expiry
                    .is_some_and(|e| now.micros() >= e.micros().saturating_sub(skew)) =>
            {
                r.state = RState::Ended(End::Expired);
            }
            _ => {}
        }
    }
}

fn status2(
    st: &mut ProtoState,
    ctx: &mut Ctx<'_>,
    evse: i64,
    connector: Option<i64>,
    status: &str,
) {
    let window = ctx.config().tol.followup_window_us;
    let now = ctx.now();
    let rs = &mut st.resv;
    if let (Some(c), Some(s)) = (connector, intern(status)) {
        match rs
            .status2
            .iter_mut()
            .find(|(e, x, _)| *e == evse && *x == c)
        {
            Some(slot) => slot.2 = s,
            None => push_capped(&mut rs.status2, (evse, c, s), MAX_STATUSES),
        }
    }
    if status == "Available" {
        rs.cancels.clear(|c| c.evse == evse);
    }
    for r in rs.reservations.iter_mut() {
        if r.target != Some(evse) || matches!(r.state, RState::Ended(_)) {
            continue;
        }
        match status {
            "Reserved" => r.reserved_seen = true,
            "Faulted" | "Unavailable" if r.is_active() && r.removal_due.is_none() => {
                r.removal_due = Some(Timestamp::after(now, window));
            }
            "Occupied" if r.is_active() && !r.token_presented => {
                ctx.report(
                    &OCCUPIED_WITHOUT_TOKEN,
                    format!(
                        "EVSE {evse} is reserved (reservation {}) and reported Occupied, but the reserved idToken was not presented",
                        r.id
                    ),
                );
                r.token_presented = true;
            }
            _ => {}
        }
    }
}

/// Why the target of a reservation could not be reserved, from its last statuses.
fn busy_reason(st: &ProtoState, id: i64, target: i64) -> Option<String> {
    // Reserved by this very reservation: the one it replaces, or itself when the charger
    // reported Reserved before its answer.
    let other_reservation = |t: i64| {
        !st.resv.reservations.iter().any(|r| {
            r.id == id
                && r.target == Some(t)
                && (r.is_active() || (r.state == RState::Requested && r.reserved_seen))
        })
    };
    if st.is_v16() {
        let (_, s) = st.resv.status16.iter().find(|(c, _)| *c == target)?;
        let busy = match *s {
            "Faulted" | "Unavailable" => true,
            "Reserved" => target > 0 && other_reservation(target),
            "Preparing" | "Charging" | "SuspendedEV" | "SuspendedEVSE" | "Finishing" => target > 0,
            _ => false,
        };
        busy.then(|| format!("connector {target} last reported {s}"))
    } else {
        st.resv
            .status2
            .iter()
            .filter(|(e, _, _)| *e == target)
            .find(|(_, _, s)| match *s {
                "Occupied" | "Faulted" | "Unavailable" => true,
                "Reserved" => other_reservation(target),
                _ => false,
            })
            .map(|(e, c, s)| format!("connector {c} of EVSE {e} last reported {s}"))
    }
}

fn reserve_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let v16 = st.is_v16();
    let id = int_of(reply.request, if v16 { "reservationId" } else { "id" });
    let Some(id) = id else { return };
    let status = status_of(reply);
    if status != Some("Accepted") {
        st.resv
            .reservations
            .retain(|r| !(r.id == id && r.state == RState::Requested));
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
        && let Some(why) = busy_reason(st, id, t)
    {
        ctx.report(
            &BUSY_TARGET_ACCEPTED,
            format!("ReserveNow {id} answered Accepted although {why}"),
        );
    }
    let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
    let rs = &mut st.resv;
    // A reservation with the same id is replaced.
    let replaced_reserved = rs
        .reservations
        .iter()
        .any(|r| r.id == id && r.is_active() && r.reserved_seen && r.target == target);
    rs.reservations
        .retain(|r| !(r.id == id && r.state != RState::Requested));
    if let Some(r) = rs
        .reservations
        .iter_mut()
        .rev()
        .find(|r| r.id == id && r.state == RState::Requested)
    {
        r.state = RState::Active;
        r.reserved_seen |= replaced_reserved;
        let specific = if v16 {
            target.is_some_and(|t| t > 0)
        } else {
            target.is_some()
        };
        if specific && !r.reserved_seen {
            r.status_due = Some(due);
        }
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
    let found = st.resv.find(id);
    let (state, expired, target) = match &found {
        Some(r) => (
            Some(r.state),
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
                    if let Some(r) = found {
                        r.state = RState::Ended(End::Cancelled);
                    }
                    if let (true, Some(evse)) = (v2, target) {
                        st.resv.cancels.arm(
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
